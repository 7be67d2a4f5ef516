//! `schannel serve`: the main job. A TLS endpoint that answers each HTTP request with a
//! page describing how the client connected, or (`--backend`) a TLS-terminating TCP
//! proxy. Each connection is the provider's tokio stream (`securechannel::tokio`), which
//! drives the token API (AcceptSecurityContext, DecryptMessage, EncryptMessage) as a
//! Windows server drives Schannel, with bounded buffers; every handshake's events go to
//! the data directory's System log.
//!
//! SIGHUP (`schannel config reload`) reads the settings again without a restart: a new
//! server credential is acquired under them, new connections use it, open ones keep the
//! one they started with; the EventLogging mask applies at once. A file that does not
//! parse, or a policy the credential cannot be acquired under, is refused (with file,
//! line and column, or the credential's event and status) and the running policy stays.
//! `serve.pid` in the data directory names the running server (see `pidfile`).

use crate::http::{self, ConnectionReport};
use crate::runtime::Runtime;
use crate::CmdResult;
use securechannel::{ContextOptions, ServerContext, ServerCredential, StoreQuery};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{watch, Semaphore};

/// Arguments of `schannel serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Forward the decrypted stream to this TCP address instead of answering HTTP.
    #[arg(long, value_name = "HOST:PORT")]
    pub backend: Option<String>,
    /// The server certificate chain (PEM or DER) ... Repeat --cert/--key for more
    /// certificates: each answers the clients whose server name (SNI) its DNS names hold
    /// (exactly, or by wildcard), and the first is the default for the others.
    #[arg(long, requires = "key", conflicts_with_all = ["pfx", "thumbprint", "subject"])]
    pub cert: Vec<PathBuf>,
    /// ... and its private key (PKCS#8, PKCS#1 or SEC1; mode 0600), one per --cert.
    #[arg(long, requires = "cert")]
    pub key: Vec<PathBuf>,
    /// One more certificate of stores/My, by SHA-1 thumbprint, for the server names it
    /// holds (SNI); repeatable.
    #[arg(long, value_name = "THUMBPRINT")]
    pub sni_thumbprint: Vec<String>,
    /// No default certificate: a client whose server name no certificate holds (or that
    /// sends none) is refused (36886, access_denied), as an IIS site with SNI bindings only.
    #[arg(long)]
    pub sni_only: bool,
    /// A PKCS#12 (.pfx) file holding the certificate and key; the password is read from
    /// the environment variable named by --pfx-password-env.
    #[arg(long, conflicts_with_all = ["thumbprint", "subject"])]
    pub pfx: Option<PathBuf>,
    /// The environment variable that holds the .pfx password.
    #[arg(long, default_value = "SCHANNEL_PFX_PASSWORD")]
    pub pfx_password_env: String,
    /// Use the stores/My certificate with this SHA-1 thumbprint.
    #[arg(long, conflicts_with = "subject")]
    pub thumbprint: Option<String>,
    /// Use the stores/My certificate whose subject contains this text.
    #[arg(long)]
    pub subject: Option<String>,
    /// Ask clients for a certificate (and report it); clients without one still get in.
    #[arg(long)]
    pub request_client_cert: bool,
    /// Require a client certificate that validates against stores/Root.
    #[arg(long, conflicts_with = "request_client_cert")]
    pub require_client_cert: bool,
    /// ALPN protocols accepted, in preference order (comma separated).
    #[arg(long, value_delimiter = ',', default_value = "http/1.1")]
    pub alpn: Vec<String>,
    /// Connections served at once; more wait in the kernel's listen backlog.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// The listen backlog: connections the kernel holds, not yet accepted (capped by
    /// net.core.somaxconn).
    #[arg(long, default_value_t = 1024)]
    pub backlog: u32,
    /// Seconds a client has to complete its handshake, each request head once its first
    /// byte has arrived, and to take each answer (a client that reads none is closed).
    #[arg(long, default_value_t = 10)]
    pub handshake_timeout: u64,
    /// Seconds an open connection may wait for its next request (HTTP keep-alive) before
    /// the server closes it with close_notify.
    #[arg(long, default_value_t = 30)]
    pub idle_timeout: u64,
    /// Requests answered on one connection; the last says `Connection: close`.
    #[arg(long, default_value_t = 1000)]
    pub max_requests: u64,
    /// Print one line per connection on stdout.
    #[arg(long)]
    pub access_log: bool,
    /// How client certificates are checked for revocation.
    #[command(flatten)]
    pub revocation: crate::revocation::RevocationArgs,
    #[command(flatten)]
    pub dangerous: crate::dangerous::DangerousArgs,
    /// Staple an OCSP response with the certificate: `auto` (from the certificate's OCSP
    /// responder, kept in ocsp/ until its nextUpdate and refreshed in the background;
    /// serving starts without one while the responder cannot be reached), `off`, or a
    /// file holding a DER OCSP response. Default: as EnableOcspStaplingForSni says (1:
    /// auto, 0: off).
    #[arg(long, value_name = "auto|off|FILE", value_parser = parse_stapling)]
    pub ocsp_staple: Option<securechannel::OcspStapling>,
}

fn parse_stapling(s: &str) -> Result<securechannel::OcspStapling, String> {
    use securechannel::OcspStapling;
    Ok(match s {
        "auto" => OcspStapling::Auto,
        "off" => OcspStapling::Off,
        "" => return Err("give auto, off or the path of a DER OCSP response".into()),
        path => OcspStapling::File(path.into()),
    })
}

/// serve's report of its OCSP staple, on stderr.
fn print_staple_report(r: &securechannel::StapleReport) {
    use securechannel::StapleReport;
    match r {
        StapleReport::Stapled {
            certificate,
            source,
            info,
        } => eprintln!(
            "schannel: OCSP staple for {certificate}: {} (thisUpdate {}, nextUpdate {}) from {source}",
            info.status.name(),
            securechannel::rfc3339_seconds(info.this_update),
            info.next_update
                .map(securechannel::rfc3339_seconds)
                .unwrap_or_else(|| "none".into()),
        ),
        StapleReport::Failed {
            certificate,
            source,
            why,
            status,
            retry_in,
            still_stapled,
        } => eprintln!(
            "schannel: warning: no new OCSP staple for {certificate} from {source}: {why} ({} {}); {}{}",
            status.name(),
            status.hex(),
            if *still_stapled {
                "the response on hand stays stapled"
            } else {
                "serving without a staple"
            },
            retry_in
                .map(|d| format!(", trying again in {} s", d.as_secs()))
                .unwrap_or_default(),
        ),
        _ => eprintln!("schannel: OCSP staple for a certificate: {r:?}"),
    }
}

/// Run `schannel serve` until Ctrl-C or SIGTERM.
pub fn run(args: Args, data_dir: &Path) -> CmdResult {
    let runtime = Runtime::open(data_dir)?;
    let credential = match server_credential(&args, &runtime, data_dir) {
        Ok(c) => c,
        Err(e) => {
            runtime.close();
            return Err(e);
        }
    };
    // [Forward]: checked before serving (an unusable value refuses the start), then run
    // beside the server for the records it commits.
    let forwarder =
        match crate::viewer::forwarder_from_settings(&runtime.provider.settings(), data_dir) {
            Ok(f) => f,
            Err(e) => {
                runtime.close();
                return Err(e.into());
            }
        };
    if let Some(f) = forwarder {
        if let Err(e) = spawn_forwarder(f) {
            runtime.close();
            return Err(format!("cannot start forwarding ([Forward]): {e}").into());
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let logging = runtime.provider.emitter().logging().0;
    // The accept loop runs on a worker, not on this thread: a connection it accepts is
    // spawned into that worker's own queue and handshakes there, instead of the accepting
    // thread waking a worker for each one (at one client at a time, those wake-ups were
    // a third of serve's CPU per resumed handshake).
    let dir = data_dir.to_path_buf();
    let accept_loop = rt.spawn(async move {
        let result = serve(args, credential, &runtime, &dir, logging)
            .await
            .map_err(|e| e.to_string());
        (result, runtime)
    });
    match rt.block_on(accept_loop) {
        Ok((result, runtime)) => {
            runtime.close();
            result.map_err(Into::into)
        }
        Err(e) => Err(format!("the serve loop stopped: {e}").into()),
    }
}

/// The `[Forward]` forwarder on its own thread: it follows the log (retrying an unreachable
/// target with backoff) until serve exits; its state file is written after each
/// acknowledged batch, so ending with the process loses nothing.
fn spawn_forwarder(f: securechannel_viewer::forward::Forwarder) -> std::io::Result<()> {
    eprintln!(
        "schannel: forwarding the records it commits to {} (state {})",
        f.target(),
        f.state_path().display()
    );
    std::thread::Builder::new()
        .name("forward".into())
        .spawn(move || {
            if let Err(e) = f.run(|_| {}) {
                eprintln!("schannel: forwarding stopped: {e}");
            }
        })
        .map(drop)
}

/// The credential the flags name, or the machine's default; on a first run, a
/// development CA and localhost certificate are created for it.
fn server_credential(
    args: &Args,
    runtime: &Runtime,
    data_dir: &Path,
) -> Result<ServerCredential, Box<dyn std::error::Error>> {
    let provider = &runtime.provider;
    let mut b = provider.server_credential();
    if args.cert.len() != args.key.len() {
        return Err(format!(
            "{} --cert but {} --key: give each certificate its key, in the same order",
            args.cert.len(),
            args.key.len()
        )
        .into());
    }
    if let (Some(cert), Some(key)) = (args.cert.first(), args.key.first()) {
        b = b.with_certificate_files(cert, key);
        for (cert, key) in args.cert.iter().zip(&args.key).skip(1) {
            b = b.add_certificate_files(cert, key);
        }
    } else if let Some(pfx) = &args.pfx {
        // Wiped when it goes out of scope (the builder keeps its own wiped copy).
        let password =
            zeroize::Zeroizing::new(std::env::var(&args.pfx_password_env).unwrap_or_default());
        b = b.with_pkcs12(pfx, &password);
    } else if let Some(t) = &args.thumbprint {
        b = b.from_store(StoreQuery::Thumbprint(t.clone()));
    } else if let Some(s) = &args.subject {
        b = b.from_store(StoreQuery::Subject(s.clone()));
    } else {
        let dev = crate::devca::ensure_dev_credential(data_dir)
            .map_err(|e| crate::failure_text("cannot prepare the development certificate", &e))?;
        if dev.created {
            eprintln!(
                "schannel: no server certificate in {}; created a development {}certificate for localhost, 127.0.0.1 and ::1:\n  {}",
                data_dir.join("stores/My").display(),
                if dev.created_ca { "CA and a " } else { "" },
                dev.certificate.display()
            );
            eprintln!("{}", dev.trust_instructions());
            provider
                .reload_stores()
                .map_err(|e| crate::failure_text("cannot reload the certificate stores", &e))?;
        }
        b = b.from_store(StoreQuery::Thumbprint(dev.thumbprint.clone()));
    }
    for t in &args.sni_thumbprint {
        b = b.add_from_store(StoreQuery::Thumbprint(t.clone()));
    }
    if args.sni_only {
        b = b.sni_only();
    }
    if args.require_client_cert {
        b = b.require_client_certificate();
    } else if args.request_client_cert {
        b = b.request_client_certificate();
    }
    if let Some(mode) = &args.ocsp_staple {
        b = b.ocsp_stapling(mode.clone());
    }
    b = b.on_staple_report(std::sync::Arc::new(print_staple_report));
    if let Some((check, offline)) = args.revocation.choice() {
        if !args.require_client_cert && !args.request_client_cert {
            // A server checks the revocation of client certificates only.
            return Err(
                "--revocation checks client certificates: use it with --require-client-cert or --request-client-cert"
                    .into(),
            );
        }
        b = b.revocation(check, offline);
    }
    if let Some(path) = &args.dangerous.dangerous_key_log {
        args.dangerous.warn();
        b = b.dangerous_key_log(path);
    }
    b.acquire()
        .map_err(|e| crate::failure_text("cannot acquire the server credential", &e).into())
}

struct Server {
    /// The credential new connections get; a reload replaces it.
    credential: RwLock<ServerCredential>,
    /// Reloads so far (in `serve.reload`, for `config reload`).
    reloads: AtomicU64,
    options: ContextOptions,
    backend: Option<String>,
    timeout: Duration,
    idle_timeout: Duration,
    max_requests: u64,
    access_log: bool,
    served: AtomicU64,
    failed: AtomicU64,
    /// Requests answered (all connections).
    requests: AtomicU64,
    /// Becomes true when serve stops: connections idle between requests close at once.
    stopping: watch::Receiver<bool>,
}

async fn serve(
    args: Args,
    credential: ServerCredential,
    runtime: &Runtime,
    data_dir: &Path,
    logging: u32,
) -> CmdResult {
    let listener = listen(args.listen, args.backlog).map_err(|e| {
        format!(
            "cannot listen on {}: {e}\nhint: pick another address with --listen",
            args.listen
        )
    })?;
    let local = listener.local_addr()?;
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    // Written once SIGHUP is handled (before, it would end the process), and before serve
    // says it serves; removed on return.
    let (_pid_file, stale) = crate::pidfile::PidFile::create(data_dir)?;
    if let Some(pid) = stale {
        eprintln!(
            "schannel: replaced a stale {} (pid {pid} is not a running schannel serve)",
            crate::pidfile::PID_FILE
        );
    }
    let subject = match credential.certificate() {
        Some(c) => crate::subject_text(c),
        None => "(none)".into(),
    };
    match &args.backend {
        Some(b) => {
            eprintln!("schannel: proxying TLS on {local} to tcp://{b} (certificate {subject})")
        }
        None => eprintln!("schannel: serving https://{local}/ (certificate {subject})"),
    }
    eprintln!(
        "schannel: at most {} connection(s) at once, listen backlog {}; handshake timeout {} s, idle timeout {} s, {} request(s) per connection",
        args.max_connections.max(1),
        args.backlog.max(1),
        args.handshake_timeout.max(1),
        args.idle_timeout.max(1),
        args.max_requests.max(1),
    );
    eprintln!(
        "schannel: events go to {} (read them with: schannel events); Ctrl-C stops",
        data_dir.join("events.db").display()
    );
    if logging & 0x4 == 0 {
        eprintln!(
            "schannel: EventLogging = {logging} records {}; `schannel config set EventLogging 7` also records successful handshakes (36880)",
            if logging & 0x2 != 0 { "errors and warnings" } else if logging & 0x1 != 0 { "errors only" } else { "nothing" }
        );
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let server = Arc::new(Server {
        credential: RwLock::new(credential),
        reloads: AtomicU64::new(0),
        options: ContextOptions::default().with_alpn(args.alpn.iter().filter(|a| !a.is_empty())),
        backend: args.backend.clone(),
        timeout: Duration::from_secs(args.handshake_timeout.max(1)),
        idle_timeout: Duration::from_secs(args.idle_timeout.max(1)),
        max_requests: args.max_requests.max(1),
        access_log: args.access_log,
        served: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        requests: AtomicU64::new(0),
        stopping: stop_rx,
    });
    let limit = Arc::new(Semaphore::new(args.max_connections.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        // A permit first, then a connection: at the limit, new clients wait in the backlog.
        // Both awaits are cancel-safe, so another branch winning loses nothing.
        let next = async {
            let permit = limit.clone().acquire_owned().await;
            (permit, listener.accept().await)
        };
        tokio::select! {
            // A finished connection is joined at once: its task's memory goes with it.
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            (permit, accepted) = next => match accepted {
                Ok((sock, peer)) => {
                    let permit = permit?;
                    let server = server.clone();
                    tasks.spawn(async move {
                        let _permit = permit;
                        server.connection(sock, peer).await;
                    });
                }
                Err(e) => {
                    // Running out of file descriptors and the like: say so, keep serving.
                    crate::print_error(&format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
            _ = hangup.recv() => server.reload(&args, runtime, data_dir),
        }
    }
    // Connections waiting for their next request close now; those mid-request finish it.
    let _ = stop_tx.send(true);
    while tasks.try_join_next().is_some() {}
    match tasks.len() {
        0 => eprintln!("schannel: stopping; no open connections"),
        n => eprintln!("schannel: stopping; finishing {n} open connection(s)"),
    }
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(5), drain)
        .await
        .is_err()
    {
        eprintln!("schannel: connections still open after 5 s were closed");
    }
    eprintln!(
        "schannel: stopped; {} connection(s) served, {} failed, {} request(s) answered",
        server.served.load(Ordering::Relaxed),
        server.failed.load(Ordering::Relaxed),
        server.requests.load(Ordering::Relaxed)
    );
    Ok(ExitCode::SUCCESS)
}

/// A connection after its handshake: the provider's tokio stream over the socket.
type Tls = securechannel::tokio::TlsStream<TcpStream, ServerContext>;

/// Read what `from` has (up to 16 KiB) onto the end of `out`; Ok(0) at its end. The
/// read buffer lives only while the read is polled, not in the connection's future: a
/// connection waiting for its next request, or a proxied one waiting for either side,
/// holds no buffer (before: 4 KiB per HTTP connection, a third of an idle connection's
/// memory, and 32 KiB per proxied one).
async fn read_into<R>(from: &mut R, out: &mut Vec<u8>) -> std::io::Result<usize>
where
    R: tokio::io::AsyncRead + Unpin,
{
    std::future::poll_fn(|cx| {
        // Uninitialised: the streams initialise only what they fill (`TlsStream` copies
        // its held plaintext, a `TcpStream` reads into it).
        let mut chunk = [std::mem::MaybeUninit::<u8>::uninit(); 16 * 1024];
        let mut buf = tokio::io::ReadBuf::uninit(&mut chunk);
        match tokio::io::AsyncRead::poll_read(std::pin::Pin::new(&mut *from), cx, &mut buf) {
            std::task::Poll::Ready(Ok(())) => {
                out.extend_from_slice(buf.filled());
                std::task::Poll::Ready(Ok(buf.filled().len()))
            }
            std::task::Poll::Ready(Err(e)) => std::task::Poll::Ready(Err(e)),
            std::task::Poll::Pending => std::task::Poll::Pending,
        }
    })
    .await
}

impl Server {
    /// SIGHUP: read the settings again and acquire the credential under them; on any
    /// failure the settings and the credential in force stay. The outcome goes to stderr
    /// and to `serve.reload`.
    fn reload(&self, args: &Args, runtime: &Runtime, data_dir: &Path) {
        let provider = &runtime.provider;
        let file = data_dir.join(securechannel::SETTINGS_FILE);
        let before = provider.settings();
        let outcome = match provider.reload_settings() {
            Err(e) => Err(crate::failure_text(
                &format!("{} is refused; the running policy stays", file.display()),
                &e,
            )),
            Ok(settings) => match server_credential(args, runtime, data_dir) {
                Ok(credential) => {
                    *self.credential.write().unwrap_or_else(|e| e.into_inner()) = credential;
                    Ok(reload_summary(&settings))
                }
                Err(e) => {
                    // The mask and the settings go back with the credential.
                    provider.set_settings((*before).clone());
                    Err(format!(
                        "{e}
the running policy stays"
                    ))
                }
            },
        };
        let generation = self.reloads.fetch_add(1, Ordering::Relaxed) + 1;
        let record = crate::pidfile::ReloadOutcome {
            pid: std::process::id(),
            generation,
            ok: outcome.is_ok(),
            message: match &outcome {
                Ok(m) | Err(m) => m.clone(),
            },
        };
        match &outcome {
            Ok(m) => eprintln!("schannel: settings reloaded from {}: {m}", file.display()),
            Err(e) => crate::print_error(&format!("reload refused: {e}")),
        }
        if let Ok(settings) = outcome.as_ref().map(|_| provider.settings()) {
            for w in settings.warnings() {
                eprintln!("schannel: warning: {w}");
            }
        }
        if let Err(e) = crate::pidfile::record_reload(data_dir, &record) {
            crate::print_error(&format!("cannot record the reload's outcome: {e}"));
        }
    }

    async fn connection(&self, sock: TcpStream, peer: SocketAddr) {
        let _ = sock.set_nodelay(true);
        // The credential in force when the connection arrived: a reload does not touch it.
        let credential = self
            .credential
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let ctx = match ServerContext::new(&credential, self.options.clone()) {
            Ok(c) => c,
            Err(e) => {
                // The server's own problem (its credential), not the client's: say it.
                self.failed.fetch_add(1, Ordering::Relaxed);
                crate::print_error(&format!("{peer}: {e}"));
                return;
            }
        };
        // On failure the stream has sent the alert before it returns the error.
        let handshake = securechannel::tokio::TlsStream::handshake(ctx, sock);
        let mut tls = match tokio::time::timeout(self.timeout, handshake).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(e)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if self.access_log {
                    println!("{peer} handshake failed: {}", handshake_failure(&e));
                }
                return;
            }
            Err(_) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if self.access_log {
                    println!(
                        "{peer} handshake timed out after {} s",
                        self.timeout.as_secs()
                    );
                }
                return;
            }
        };
        self.served.fetch_add(1, Ordering::Relaxed);
        let report = report(tls.context(), peer);
        let prefix = format!(
            "{peer} {} {} sni={} alpn={} resumed={} cert=\"{}\" account={}",
            report.protocol,
            report.cipher_suite,
            report.sni.as_deref().unwrap_or("-"),
            report.alpn.as_deref().unwrap_or("-"),
            report.resumed,
            report.server_certificate,
            report.mapped_account.as_deref().unwrap_or("-"),
        );
        let outcome = match &self.backend {
            None => self.answer_http(&mut tls, &report, &prefix).await,
            Some(b) => proxy(&mut tls, b).await,
        };
        if self.access_log {
            match &outcome {
                Ok(what) => println!("{prefix} {what}"),
                Err(e) => println!("{prefix}: {e}"),
            }
        }
        // close_notify, then the socket's write side; bounded, as a client that reads
        // nothing could otherwise hold the connection.
        let _ = tokio::time::timeout(self.timeout, tls.shutdown()).await;
    }
}

/// What a reload put in force, in one line.
fn reload_summary(settings: &securechannel::Settings) -> String {
    let policy = settings.effective_policy();
    let protocols: Vec<&str> = policy.server.protocols.iter().map(|p| p.name()).collect();
    format!(
        "new connections use them, open ones keep theirs; server protocols {}, {} cipher suite(s); EventLogging = {} applies at once ([EventLog] size and flood settings at the next start)",
        if protocols.is_empty() { "(none)".to_string() } else { protocols.join(", ") },
        policy.server.suites.len(),
        settings.event_logging.0
    )
}

/// Why a handshake failed, for the access log: the provider's error (with its event and
/// status) when the stream returned one.
fn handshake_failure(e: &std::io::Error) -> String {
    match securechannel::Error::from_io_error(e) {
        Some(tls) => tls.to_string(),
        None if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            "the client closed the connection during the handshake".into()
        }
        None => e.to_string(),
    }
}

/// Why a read or write of an established connection failed.
fn stream_failure(e: &std::io::Error) -> String {
    match securechannel::Error::from_io_error(e) {
        Some(tls) => tls.to_string(),
        None => e.to_string(),
    }
}

/// The client closed the socket without close_notify: for a request already answered or
/// never sent, the same as closing (nothing of ours is truncated).
fn closed_without_close_notify(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::UnexpectedEof
        && securechannel::Error::from_io_error(e).is_none()
}

fn report(ctx: &ServerContext, peer: SocketAddr) -> ConnectionReport {
    let info = ctx.connection_info().ok();
    let suite = ctx.cipher_suite();
    ConnectionReport {
        protocol: info
            .as_ref()
            .map(|i| i.protocol.name().to_string())
            .unwrap_or_default(),
        cipher_suite: suite.map(|s| s.name.to_string()).unwrap_or_default(),
        cipher_suite_id: suite
            .map(|s| format!("0x{:04X}", s.number))
            .unwrap_or_default(),
        cipher: info
            .as_ref()
            .map(|i| i.cipher.to_string())
            .unwrap_or_default(),
        cipher_strength: info.as_ref().map_or(0, |i| i.cipher_strength),
        mac: info.as_ref().map(|i| i.mac.to_string()).unwrap_or_default(),
        key_exchange: info
            .as_ref()
            .map(|i| i.exchange.to_string())
            .unwrap_or_default(),
        key_exchange_strength: info.as_ref().map_or(0, |i| i.exchange_strength),
        sni: ctx.server_name().map(str::to_string),
        alpn: ctx.alpn().map(|a| String::from_utf8_lossy(a).into_owned()),
        resumed: ctx.resumed() == Some(true),
        client_certificate: ctx
            .remote_certificates()
            .first()
            .map(|c| crate::subject_text(c)),
        activity_id: ctx.activity_id().to_string(),
        peer: peer.to_string(),
        server_certificate: ctx.local_certificate_subject().to_string(),
        mapped_account: ctx.mapped_account().map(|m| m.account.clone()),
        mapping: ctx.client_mapping().map(|m| match m {
            securechannel::MappingOutcome::Mapped(a) => {
                format!("mapped by {}: {}", a.method.name(), a.rule)
            }
            securechannel::MappingOutcome::IssuerNotTrusted { issuer, .. } => {
                format!("not mapped: the issuer {issuer} is not trusted for mapping (36878)")
            }
            _ => "not mapped: no rule maps the certificate (36879)".to_string(),
        }),
    }
}

impl Server {
    /// Answer requests until the client closes, asks to close, idles past the idle
    /// timeout, reaches `--max-requests`, or serve stops; pipelined requests are answered
    /// in order, their responses written together. Each request is a line of the access
    /// log; the result says how the connection ended.
    async fn answer_http(
        &self,
        tls: &mut Tls,
        report: &ConnectionReport,
        prefix: &str,
    ) -> Result<String, String> {
        let mut plain = Vec::new();
        let mut answered = 0u64;
        let mut stopping = self.stopping.clone();
        loop {
            // Every complete head already received, answered in order.
            let mut out = Vec::new();
            let mut last = false;
            // The client may still be sending (a body never read, a bad head's rest).
            let mut unread = false;
            while let Some(parsed) = http::parse_request(&plain) {
                answered += 1;
                let (head, persistent) = match parsed {
                    http::Parsed::Head(head, used) => {
                        plain.drain(..used);
                        unread = head.has_body;
                        let persistent = head.persistent && !head.has_body;
                        (Ok(head), persistent)
                    }
                    http::Parsed::Bad(code) => {
                        unread = true;
                        (Err(code), false)
                    }
                };
                let keep = persistent && answered < self.max_requests && !*stopping.borrow();
                let persistence = if keep {
                    http::Persistence::KeepAlive {
                        timeout: self.idle_timeout.as_secs(),
                        max: self.max_requests - answered,
                    }
                } else {
                    http::Persistence::Close
                };
                let (status, response) = http::response(&head, report, persistence);
                out.extend_from_slice(&response);
                self.requests.fetch_add(1, Ordering::Relaxed);
                if self.access_log {
                    match &head {
                        Ok(h) => println!("{prefix} {} {} {status}", h.method, h.path),
                        Err(_) => println!("{prefix} bad request {status}"),
                    }
                }
                if !keep {
                    last = true;
                    break;
                }
            }
            if !out.is_empty() {
                // A write returns once its bytes are encrypted: flush sends what the
                // socket has not taken yet.
                // Bounded: a client that sends requests but reads no answer would
                // otherwise hold the connection (and its buffers) for ever.
                let write = async {
                    if last && !unread {
                        // The connection's last answer and its close_notify in one
                        // segment.
                        tls.write_all_and_shutdown(&out).await
                    } else {
                        tls.write_all(&out).await?;
                        tls.flush().await
                    }
                };
                match tokio::time::timeout(self.timeout, write).await {
                    Ok(r) => r.map_err(|e| stream_failure(&e))?,
                    Err(_) => {
                        return Err(format!(
                        "the client read no answer for {} s after {answered} request(s); closed",
                        self.timeout.as_secs()
                    ))
                    }
                }
            }
            if last {
                if unread {
                    // Closing a socket with unread input resets it, and a reset can
                    // destroy the answer before the client reads it: send close_notify,
                    // then read what still comes, for a bounded time.
                    let _ = tokio::time::timeout(self.timeout, tls.shutdown()).await;
                    let drain = async {
                        while matches!(read_into(tls, &mut plain).await, Ok(n) if n > 0) {
                            plain.clear();
                        }
                    };
                    let _ = tokio::time::timeout(Duration::from_millis(500), drain).await;
                }
                return Ok(format!("closed after {answered} request(s)"));
            }
            // Between requests the idle timeout runs; once a head has begun, the
            // handshake timeout bounds the rest of it (a client trickling bytes).
            let (wait, waiting_for) = if plain.is_empty() {
                // An idle connection keeps no buffer (the last request's is released).
                plain = Vec::new();
                (self.idle_timeout, "idle")
            } else {
                (self.timeout, "request head incomplete")
            };
            let read = tokio::select! {
                r = tokio::time::timeout(wait, read_into(tls, &mut plain)) => r,
                _ = stopping.wait_for(|s| *s), if plain.is_empty() => {
                    return Ok(format!("closed after {answered} request(s): serve is stopping"));
                }
            };
            match read {
                Ok(Ok(0)) => return Ok(format!("client closed after {answered} request(s)")),
                Ok(Ok(_)) => {}
                Ok(Err(e)) if closed_without_close_notify(&e) => {
                    return Ok(format!("client disconnected after {answered} request(s)"))
                }
                Ok(Err(e)) => return Err(stream_failure(&e)),
                Err(_) if answered == 0 && plain.is_empty() => {
                    return Ok(format!("no request within {} s", wait.as_secs()))
                }
                Err(_) => {
                    return Ok(format!(
                        "{waiting_for} for {} s after {answered} request(s); closed",
                        wait.as_secs()
                    ))
                }
            }
        }
    }
}

/// A listening socket with `backlog` (SO_REUSEADDR as std sets it, so a restart finds
/// the port free while old connections linger in TIME_WAIT).
fn listen(addr: SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog.max(1))
}

/// Relay between the TLS client and the backend, each direction on its own, until both
/// have ended: the client's end (close_notify) shuts the backend's write side, the
/// backend's end sends close_notify to the client.
async fn proxy(tls: &mut Tls, backend: &str) -> Result<String, String> {
    let mut upstream = TcpStream::connect(backend)
        .await
        .map_err(|e| format!("cannot connect to the backend {backend}: {e}"))?;
    let _ = upstream.set_nodelay(true);
    let (mut client_r, mut client_w) = tokio::io::split(&mut *tls);
    let (mut backend_r, mut backend_w) = upstream.split();
    // Both directions run in this task (join!): a waker one registers for the other's
    // half of the stream wakes this task, which polls both.
    // What was read is held only until it is written (`read_into`).
    let up = async {
        let mut bytes = 0u64;
        let end = loop {
            let mut buf = Vec::new();
            match read_into(&mut client_r, &mut buf).await {
                Ok(0) => break Ok("client closed"),
                Ok(n) => {
                    if let Err(e) = backend_w.write_all(&buf).await {
                        break Err(format!("writing to the backend: {e}"));
                    }
                    bytes += n as u64;
                }
                Err(e) if closed_without_close_notify(&e) => break Ok("client disconnected"),
                Err(e) => break Err(stream_failure(&e)),
            }
        };
        let _ = backend_w.shutdown().await;
        (bytes, end)
    };
    let down = async {
        let mut bytes = 0u64;
        let end = loop {
            let mut buf = Vec::new();
            match read_into(&mut backend_r, &mut buf).await {
                Ok(0) => break Ok("backend closed"),
                Ok(n) => {
                    let sent = match client_w.write_all(&buf).await {
                        Ok(()) => client_w.flush().await,
                        Err(e) => Err(e),
                    };
                    if let Err(e) = sent {
                        break Err(stream_failure(&e));
                    }
                    bytes += n as u64;
                }
                Err(e) => break Err(format!("reading from the backend: {e}")),
            }
        };
        // close_notify: the client sees the backend's end.
        let _ = client_w.shutdown().await;
        (bytes, end)
    };
    let ((up_bytes, up_end), (down_bytes, down_end)) = tokio::join!(up, down);
    let (up_end, down_end) = (up_end?, down_end?);
    Ok(format!(
        "proxied {up_bytes} B up, {down_bytes} B down; {up_end}, {down_end}"
    ))
}
