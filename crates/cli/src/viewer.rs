//! `schannel events serve` (the web event viewer) and `schannel events forward`
//! (shipping the log to a syslog collector): the flags, and the terminal around
//! `securechannel-viewer`.

use crate::CmdResult;
use securechannel_eventlog::LOG_FILE_NAME;
use securechannel_events::SyslogBody;
use securechannel_viewer::forward::{
    ForwardError, ForwardOptions, Forwarder, Progress, SyslogTarget, Target, TlsFiles,
};
use securechannel_viewer::otlp::OtlpTarget;
use securechannel_viewer::{ListenPolicy, Viewer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zeroize::Zeroizing;

/// Arguments of `schannel events serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// The address to listen on. Loopback by default; any other address needs --token.
    #[arg(long, default_value = "127.0.0.1:8444", value_name = "ADDR:PORT")]
    listen: SocketAddr,
    /// A bearer token the API requires (`Authorization: Bearer TOKEN`; the page takes it
    /// as `/#token=TOKEN`), at least 16 characters. Prefer the environment variable:
    /// a command line is visible to every user of the machine.
    #[arg(long, env = "SCHANNEL_VIEWER_TOKEN", hide_env_values = true)]
    token: Option<String>,
}

/// Arguments of `schannel events forward`.
#[derive(clap::Args, Debug)]
pub struct ForwardArgs {
    /// The syslog collector: tcp://HOST:PORT (RFC 5424, octet-counted frames) or
    /// tls://HOST:PORT (the same over TLS, RFC 5425; needs --tls-ca).
    #[arg(
        long,
        value_name = "tcp|tls://HOST:PORT",
        required_unless_present = "otlp",
        conflicts_with = "otlp"
    )]
    syslog: Option<String>,
    /// An OpenTelemetry logs endpoint: http://HOST:PORT/v1/logs (OTLP/HTTP, protobuf), the
    /// Windows fields as attributes, the message as the body; https:// needs --tls-ca.
    #[arg(long, value_name = "http(s)://HOST:PORT/v1/logs")]
    otlp: Option<String>,
    /// For tls:// and https://: the CA certificate(s) (PEM) the collector's certificate
    /// must chain to; its name must match HOST.
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// For tls:// and https://: our certificate chain (PEM), for a collector that requires
    /// one.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// For tls:// and https://: the private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Keep running and ship records as they are committed (Ctrl-C to stop; the next
    /// run resumes from the last record the collector acknowledged).
    #[arg(long, short = 'f')]
    follow: bool,
    /// Records per batch (one connection, acknowledged by the collector's close).
    #[arg(long, default_value_t = securechannel_viewer::forward::DEFAULT_BATCH, value_name = "N")]
    batch: usize,
    /// What MSG carries: the rendered message (text), or the record in winlogbeat's shape
    /// (ecs, as `events --format ecs`) for a collector that hands JSON to a SIEM.
    #[arg(long, value_enum, default_value_t = Body::Text)]
    format: Body,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Body {
    #[default]
    Text,
    Ecs,
}

/// Run `schannel events serve`.
pub fn serve(a: ServeArgs, data_dir: &Path) -> CmdResult {
    let token = a.token.map(Zeroizing::new);
    let policy = ListenPolicy::new(a.listen, token)?;
    let viewer = Viewer::open(data_dir, policy)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(a.listen)
            .await
            .map_err(|source| securechannel_viewer::ViewerError::Listen {
                addr: a.listen,
                source,
            })?;
        let local = listener.local_addr()?;
        eprintln!(
            "schannel: event viewer of {} on http://{local}/ (Ctrl-C to stop)",
            data_dir.join(LOG_FILE_NAME).display()
        );
        let shutdown = async {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => return std::future::pending().await,
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        };
        viewer.serve(listener, shutdown).await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Run `schannel events forward`.
pub fn forward(a: ForwardArgs, data_dir: &Path) -> CmdResult {
    let target: Target = match (&a.syslog, &a.otlp) {
        (Some(s), _) => SyslogTarget::parse(s)?.into(),
        (None, Some(o)) => OtlpTarget::parse(o).map_err(ForwardError::Target)?.into(),
        (None, None) => {
            return Err(ForwardError::Target("nowhere: give --syslog or --otlp".into()).into())
        }
    };
    let tls = match (a.tls_ca, a.tls_cert.is_some()) {
        (Some(ca), _) => Some(TlsFiles {
            ca,
            cert: a.tls_cert,
            key: a.tls_key,
        }),
        (None, true) => {
            return Err(ForwardError::Tls(
                "--tls-cert needs --tls-ca (the CA that issued the collector's certificate)".into(),
            )
            .into())
        }
        (None, false) => None,
    };
    let options = ForwardOptions {
        tls,
        batch: a.batch,
        follow: a.follow,
        body: match a.format {
            Body::Text => SyslogBody::Message,
            Body::Ecs => SyslogBody::Ecs,
        },
        ..ForwardOptions::default()
    };
    let fwd = Forwarder::new(
        &data_dir.join(LOG_FILE_NAME),
        data_dir,
        target.clone(),
        options,
    )?;
    // A bar only on a terminal: piped or in a service, stderr stays quiet.
    let bar = crate::progress::bar(0, &format!("forwarding to {target}"), "records");
    let mut first: Option<u64> = None;
    let show = |p: &Progress| {
        if let Some(bar) = &bar {
            let start = *first.get_or_insert(p.acked);
            bar.set_length(p.last_in_log.saturating_sub(start));
            bar.set_position(p.acked.saturating_sub(start));
        }
    };
    let started = std::time::Instant::now();
    let result = fwd.run(show);
    crate::progress::done(bar);
    let p = result?;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "schannel: forwarded {} records to {target} in {secs:.2} s ({:.0} records/s); acknowledged up to record {} ({}){}",
        p.shipped,
        p.shipped as f64 / secs.max(1e-9),
        p.acked,
        fwd.state_path().display(),
        if p.retried > 0 {
            format!("; {} batches were sent again after a failure", p.retried)
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// The forwarder `[Forward]` in `settings.toml` asks `serve` to run (following the log),
/// or `None` when it names no target. Any value that cannot be used (a bad target, TLS
/// files that cannot be read or are given for a plain target, both targets, a Format for
/// OTLP) is an error naming the setting: serve refuses to start rather than ignore it.
pub fn forwarder_from_settings(
    settings: &securechannel::Settings,
    data_dir: &Path,
) -> Result<Option<Forwarder>, String> {
    let in_file = |why: String| {
        format!(
            "[Forward] in {}: {why}",
            data_dir.join(securechannel::SETTINGS_FILE).display()
        )
    };
    let f = settings.forward().map_err(in_file)?;
    let target: Target = match (&f.syslog, &f.otlp) {
        (Some(_), Some(_)) => {
            return Err(in_file(
                "Syslog and Otlp are both set; serve forwards to one target (run `schannel events forward` for another)".into(),
            ))
        }
        (Some(s), None) => SyslogTarget::parse(s)
            .map_err(|e| in_file(format!("Syslog: {e}")))?
            .into(),
        (None, Some(o)) => OtlpTarget::parse(o)
            .map_err(|e| in_file(format!("Otlp: cannot forward to {e}")))?
            .into(),
        (None, None) => {
            let set: Vec<&str> = [
                ("TlsCa", f.tls_ca.is_some()),
                ("TlsCert", f.tls_cert.is_some()),
                ("TlsKey", f.tls_key.is_some()),
                ("Format", settings.is_configured("Forward\\Format")),
                ("Batch", settings.is_configured("Forward\\Batch")),
            ]
            .into_iter()
            .filter_map(|(n, set)| set.then_some(n))
            .collect();
            if !set.is_empty() {
                return Err(in_file(format!(
                    "{} set without Syslog or Otlp: there is nothing to forward to",
                    set.join(", ")
                )));
            }
            return Ok(None);
        }
    };
    let file = |p: &String| data_dir.join(p);
    let tls = match (&f.tls_ca, &f.tls_cert, &f.tls_key) {
        (None, None, None) => None,
        (Some(ca), cert, key) => Some(TlsFiles {
            ca: file(ca),
            cert: cert.as_ref().map(file),
            key: key.as_ref().map(file),
        }),
        (None, _, _) => return Err(in_file("TlsCert / TlsKey need TlsCa".into())),
    };
    let options = ForwardOptions {
        batch: f.batch as usize,
        follow: true,
        body: if f.ecs {
            SyslogBody::Ecs
        } else {
            SyslogBody::Message
        },
        tls,
        ..ForwardOptions::default()
    };
    Forwarder::new(&data_dir.join(LOG_FILE_NAME), data_dir, target, options)
        .map(Some)
        .map_err(|e| in_file(e.to_string()))
}
