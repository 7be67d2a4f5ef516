//! Forwarding the log to a syslog collector: RFC 5424 messages ([`render_syslog`]) over
//! TCP with octet-counting framing (RFC 6587 section 3.4.1), or over TLS (RFC 5425: the
//! same framing inside a TLS connection, the collector's certificate verified by rustls
//! against the CA file given, and its name against the target's host).
//!
//! **At least once.** Records go in batches. A batch is acknowledged when the collector
//! has read all of it: after the last frame this side closes its half of the connection
//! and waits for the collector to close its own, which it does only once it has read up
//! to that close (syslog over TCP has no application-level ack; the end of the stream is
//! the one the protocol gives). Only then is the batch's last record ID written to the
//! state file (atomically: a temporary file, fsync, rename, fsync of the directory). A
//! restart, an outage or a failed batch resends from the last acknowledged record, so
//! nothing is lost and at most one batch per interruption arrives twice. What the
//! collector does after reading (its own queue, its disk) is its durability, not ours.
//! Over TLS the end of stream is our close_notify and the collector's close after it.
//!
//! One collector close comes early: a collector that asked for a client certificate,
//! got none, and refuses that only after the handshake (rsyslog's `x509/name` mode; any
//! TLS 1.3 server). Its close would look like the end of a good batch, so a forwarder
//! that answered a certificate request with no certificate waits up to
//! [`acceptance_wait`] (eight times the handshake's duration, 100 ms to 1 s) after the
//! handshake and sends only if the connection is kept.

use crate::otlp::{OtlpClient, OtlpTarget};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use securechannel_eventlog::{EventLogError, LogReader, Query, FOLLOW_POLL};
use securechannel_events::{render_syslog, EventRecord, SyslogBody};
use std::io::{self, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// At most this many records in one batch (one connection) unless told otherwise.
pub const DEFAULT_BATCH: usize = 5000;

/// Where records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    tls: bool,
    host: String,
    port: u16,
}

impl SyslogTarget {
    /// `tcp://HOST:PORT`, or `tls://HOST:PORT` (RFC 5425). `udp://` is refused with the
    /// reason.
    pub fn parse(s: &str) -> Result<SyslogTarget, ForwardError> {
        let bad = |why: &str| ForwardError::Target(format!("'{s}': {why}"));
        let (tls, rest) = if let Some(r) = s.strip_prefix("tcp://") {
            (false, r)
        } else if let Some(r) = s.strip_prefix("tls://") {
            (true, r)
        } else if s.starts_with("udp://") {
            return Err(bad(
                "UDP syslog cannot be delivered at least once (no connection, no end of stream to acknowledge); use tcp:// or tls://",
            ));
        } else {
            return Err(bad("expected tcp://HOST:PORT or tls://HOST:PORT"));
        };
        let (host, port) = rest.rsplit_once(':').ok_or_else(|| {
            bad("expected tcp://HOST:PORT or tls://HOST:PORT (the port is required)")
        })?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(SyslogTarget {
            tls,
            host: host.to_string(),
            port,
        })
    }

    /// Whether this is a `tls://` target (RFC 5425).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// The name of this target's state file in the data directory.
    pub fn state_file_name(&self) -> String {
        let host = file_safe(&self.host);
        let scheme = if self.tls { "tls-" } else { "" };
        format!("forward-syslog-{scheme}{host}-{}.state", self.port)
    }

    fn addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok((self.host.as_str(), self.port).to_socket_addrs()?.collect())
    }
}

/// A host name as part of a file name.
pub(crate) fn file_safe(host: &str) -> String {
    host.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Where a forwarder ships: a syslog collector, or an OTLP/HTTP logs endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `tcp://` or `tls://` syslog.
    Syslog(SyslogTarget),
    /// OTLP/HTTP logs ([`crate::otlp`]).
    Otlp(OtlpTarget),
}

impl Target {
    /// The name of this target's state file in the data directory.
    pub fn state_file_name(&self) -> String {
        match self {
            Target::Syslog(t) => t.state_file_name(),
            Target::Otlp(t) => t.state_file_name(),
        }
    }
}

impl From<SyslogTarget> for Target {
    fn from(t: SyslogTarget) -> Target {
        Target::Syslog(t)
    }
}

impl From<OtlpTarget> for Target {
    fn from(t: OtlpTarget) -> Target {
        Target::Otlp(t)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Syslog(t) => t.fmt(f),
            Target::Otlp(t) => t.fmt(f),
        }
    }
}

impl std::fmt::Display for SyslogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "tls" } else { "tcp" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)
        }
    }
}

/// Why forwarding stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum ForwardError {
    /// The target is not one this forwarder can deliver to.
    Target(String),
    /// The state file cannot be read, is not ours, or cannot be written.
    State {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The TLS settings cannot be used: a CA, certificate or key file that cannot be
    /// read or holds nothing usable, none for a `tls://` or `https://` target, or TLS
    /// files given for a `tcp://` or `http://` one.
    Tls(String),
    /// The log cannot be read.
    Log(EventLogError),
    /// The collector stayed unreachable for every attempt (without `--follow`).
    Unreachable {
        /// The target.
        target: String,
        /// The last error.
        source: io::Error,
        /// The last record the collector acknowledged.
        acked: u64,
    },
}

impl std::fmt::Display for ForwardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForwardError::Target(why) => write!(f, "cannot forward to {why}"),
            ForwardError::State { path, why } => {
                write!(f, "forwarding state {}: {why}", path.display())
            }
            ForwardError::Tls(why) => write!(f, "forwarding over TLS: {why}"),
            ForwardError::Log(e) => write!(f, "the event log cannot be read: {e}"),
            ForwardError::Unreachable {
                target,
                source,
                acked,
            } => write!(
                f,
                "{target} did not take the records after record {acked}: {source}; run again to resume from there"
            ),
        }
    }
}

impl std::error::Error for ForwardError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ForwardError::Log(e) => Some(e),
            ForwardError::Unreachable { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<EventLogError> for ForwardError {
    fn from(e: EventLogError) -> Self {
        ForwardError::Log(e)
    }
}

/// How to forward.
#[derive(Debug, Clone)]
pub struct ForwardOptions {
    /// Records per batch (connection).
    pub batch: usize,
    /// Keep running and ship records as they are committed; retry an unreachable
    /// collector forever (with backoff up to `max_backoff`).
    pub follow: bool,
    /// Without `follow`: how many attempts at one batch before giving up.
    pub attempts: u32,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// Connecting, writing, and waiting for the collector's end of stream, each at most.
    pub io_timeout: Duration,
    /// What MSG carries: the rendered message, or the ECS JSON.
    pub body: SyslogBody,
    /// For a `tls://` target: whom to trust, and our certificate if the collector asks.
    pub tls: Option<TlsFiles>,
}

/// The files of a `tls://` target (PEM).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA certificates the collector's certificate must chain to (one or more).
    pub ca: PathBuf,
    /// Our certificate chain, for a collector that asks for one (mutual TLS)...
    pub cert: Option<PathBuf>,
    /// ...and its private key (PKCS#8, PKCS#1 or SEC1).
    pub key: Option<PathBuf>,
}

/// What [`TlsFiles`] hold, read and checked: the roots, and our chain and key.
pub(crate) struct TlsMaterial {
    pub(crate) roots: Vec<CertificateDer<'static>>,
    pub(crate) client: Option<ClientIdentity>,
}

/// Our certificate chain and key, and the key file's PEM text (wiped when dropped), for
/// a TLS stack that parses it itself.
pub(crate) struct ClientIdentity {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: PrivateKeyDer<'static>,
    pub(crate) key_pem: zeroize::Zeroizing<Vec<u8>>,
}

impl TlsFiles {
    /// Read the files: the CA file's certificates (at least one, each a usable root), our
    /// chain and key when given (both or neither). The one reader of these files.
    pub(crate) fn material(&self) -> Result<TlsMaterial, ForwardError> {
        let named = |p: &Path, what: &str| ForwardError::Tls(format!("{what} {}", p.display()));
        let certs = |p: &Path, what: &str| -> Result<Vec<CertificateDer<'static>>, ForwardError> {
            let all: Result<Vec<_>, _> = CertificateDer::pem_file_iter(p)
                .map_err(|e| named(p, &format!("cannot read the {what}")).with(e))?
                .collect();
            let all = all.map_err(|e| named(p, &format!("the {what}")).with(e))?;
            if all.is_empty() {
                return Err(named(p, &format!("the {what}")).with("it holds no PEM CERTIFICATE"));
            }
            Ok(all)
        };
        let roots = certs(&self.ca, "CA file")?;
        let mut check = rustls::RootCertStore::empty();
        for c in &roots {
            check
                .add(c.clone())
                .map_err(|e| named(&self.ca, "the CA file").with(e))?;
        }
        let client = match (&self.cert, &self.key) {
            (None, None) => None,
            (Some(cert), Some(key)) => {
                let chain = certs(cert, "client certificate file")?;
                let key_pem = zeroize::Zeroizing::new(
                    std::fs::read(key)
                        .map_err(|e| named(key, "cannot read the client key file").with(e))?,
                );
                let k = PrivateKeyDer::from_pem_slice(&key_pem)
                    .map_err(|e| named(key, "the client key file").with(e))?;
                Some(ClientIdentity {
                    chain,
                    key: k,
                    key_pem,
                })
            }
            _ => {
                return Err(ForwardError::Tls(
                    "a client certificate needs both its certificate file and its key file".into(),
                ))
            }
        };
        Ok(TlsMaterial { roots, client })
    }

    /// The rustls client configuration these files make: the CA file's certificates as the
    /// only roots, rustls' default protocol versions and suites (aws-lc-rs), our
    /// certificate and key when given.
    pub fn client_config(&self) -> Result<TlsClient, ForwardError> {
        let TlsMaterial { roots, client } = self.material()?;
        let mut store = rustls::RootCertStore::empty();
        for c in roots {
            store.add(c).map_err(|e| {
                ForwardError::Tls(format!("the CA file {}", self.ca.display())).with(e)
            })?;
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ForwardError::Tls(e.to_string()))?
            .with_root_certificates(store);
        let mut config = match client {
            None => builder.with_no_client_auth(),
            Some(id) => builder
                .with_client_auth_cert(id.chain, id.key)
                .map_err(|e| {
                    let key = self.key.as_deref().unwrap_or(Path::new(""));
                    ForwardError::Tls(format!("the client key file {}", key.display())).with(e)
                })?,
        };
        let noticing = Arc::new(NoticingResolver {
            inner: Arc::clone(&config.client_auth_cert_resolver),
            sent_none: AtomicBool::new(false),
        });
        config.client_auth_cert_resolver = noticing.clone();
        Ok(TlsClient {
            config: Arc::new(config),
            noticing,
        })
    }
}

/// The TLS files for `target`: required when it is a TLS target (`tls://`, `https://`),
/// refused when it is not (`plain`: what it is and what to use instead).
fn tls_files<'a>(
    options: &'a ForwardOptions,
    target: &dyn std::fmt::Display,
    wants_tls: bool,
    plain: &str,
) -> Result<Option<&'a TlsFiles>, ForwardError> {
    match (&options.tls, wants_tls) {
        (Some(files), true) => Ok(Some(files)),
        (None, true) => Err(ForwardError::Tls(format!(
            "{target} needs the CA that issued the collector's certificate (--tls-ca FILE)"
        ))),
        (Some(_), false) => Err(ForwardError::Tls(format!(
            "TLS files were given for {target}, which is {plain}"
        ))),
        (None, false) => Ok(None),
    }
}

/// A `tls://` target's client side: the rustls configuration, and whether the collector
/// asked for a client certificate on the last connection and got none.
#[derive(Debug, Clone)]
pub struct TlsClient {
    /// The rustls configuration (roots from the CA file, our certificate if any).
    pub config: Arc<rustls::ClientConfig>,
    noticing: Arc<NoticingResolver>,
}

impl TlsClient {
    /// Whether, on the connection since the last [`TlsClient::reset`], the collector sent
    /// a CertificateRequest and we answered with no certificate.
    pub fn sent_no_certificate(&self) -> bool {
        self.noticing.sent_none.load(Ordering::Relaxed)
    }

    /// Forget the last connection's answer (before a new connection).
    pub fn reset(&self) {
        self.noticing.sent_none.store(false, Ordering::Relaxed);
    }
}

/// The configured client-certificate resolver, noting when a collector asked for a
/// certificate and was answered with none: a collector that requires one (rsyslog's
/// `x509/name` mode) completes that handshake and drops the connection only after it, so
/// the forwarder must wait to see that before it sends anything it would count as read.
#[derive(Debug)]
struct NoticingResolver {
    inner: Arc<dyn rustls::client::ResolvesClientCert>,
    sent_none: AtomicBool,
}

impl rustls::client::ResolvesClientCert for NoticingResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let chosen = self.inner.resolve(root_hint_subjects, sigschemes);
        let usable = chosen
            .as_ref()
            .is_some_and(|c| c.key.choose_scheme(sigschemes).is_some());
        if !usable {
            self.sent_none.store(true, Ordering::Relaxed);
        }
        chosen
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

impl ForwardError {
    /// A `Tls` error with its cause appended.
    fn with(self, cause: impl std::fmt::Display) -> ForwardError {
        match self {
            ForwardError::Tls(what) => ForwardError::Tls(format!("{what}: {cause}")),
            other => other,
        }
    }
}

impl Default for ForwardOptions {
    fn default() -> Self {
        ForwardOptions {
            batch: DEFAULT_BATCH,
            follow: false,
            attempts: 5,
            max_backoff: Duration::from_secs(30),
            io_timeout: Duration::from_secs(10),
            body: SyslogBody::Message,
            tls: None,
        }
    }
}

/// What a forwarding run did, and where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// The last record ID the collector acknowledged (the state file's).
    pub acked: u64,
    /// Records shipped and acknowledged in this run.
    pub shipped: u64,
    /// Batches sent again after a failure in this run.
    pub retried: u64,
    /// The log's last record ID when this was measured.
    pub last_in_log: u64,
}

/// Ships one log to one target.
pub struct Forwarder {
    reader: LogReader,
    target: Target,
    state: PathBuf,
    options: ForwardOptions,
    delivery: Delivery,
}

/// How a batch is delivered.
enum Delivery {
    Syslog {
        target: SyslogTarget,
        /// For a `tls://` target: the configuration and the name its certificate must hold.
        tls: Option<(TlsClient, ServerName<'static>)>,
    },
    Otlp(OtlpClient),
}

impl Forwarder {
    /// A forwarder of the log at `log` to `target`, keeping its state in `data_dir`.
    pub fn new(
        log: &Path,
        data_dir: &Path,
        target: impl Into<Target>,
        options: ForwardOptions,
    ) -> Result<Forwarder, ForwardError> {
        let target = target.into();
        let delivery = match &target {
            Target::Syslog(t) => Delivery::Syslog {
                target: t.clone(),
                tls: Forwarder::tls(t, &options)?,
            },
            Target::Otlp(t) => {
                let tls = match tls_files(&options, t, t.tls, "plain HTTP; use https://")? {
                    Some(files) => Some(files.material()?),
                    None => None,
                };
                if options.body != SyslogBody::Message {
                    return Err(ForwardError::Target(format!(
                        "{t}: the ECS body is for syslog; an OTLP record carries the Windows fields as attributes and the message as its body"
                    )));
                }
                Delivery::Otlp(
                    OtlpClient::new(t, options.io_timeout, tls.as_ref())
                        .map_err(ForwardError::Tls)?,
                )
            }
        };
        let reader = LogReader::open(log)?;
        let state = data_dir.join(target.state_file_name());
        Ok(Forwarder {
            delivery,
            reader,
            target,
            state,
            options: ForwardOptions {
                batch: options.batch.clamp(1, 10_000),
                ..options
            },
        })
    }

    fn tls(
        target: &SyslogTarget,
        options: &ForwardOptions,
    ) -> Result<Option<(TlsClient, ServerName<'static>)>, ForwardError> {
        let Some(files) = tls_files(options, target, target.tls, "plain TCP; use tls://")? else {
            return Ok(None);
        };
        let name = ServerName::try_from(target.host.clone()).map_err(|e| {
            ForwardError::Target(format!(
                "'{target}': {e}; a tls:// host is the name its certificate holds"
            ))
        })?;
        Ok(Some((files.client_config()?, name)))
    }

    /// The target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The state file.
    pub fn state_path(&self) -> &Path {
        &self.state
    }

    /// Ship every record after the last acknowledged one; with `follow`, keep shipping
    /// as records are committed (never returns but on an error). `progress` is called
    /// after each acknowledged batch.
    pub fn run(&self, mut progress: impl FnMut(&Progress)) -> Result<Progress, ForwardError> {
        let mut p = Progress {
            acked: read_state(&self.state)?,
            ..Progress::default()
        };
        p.last_in_log = self.reader.last_record_id()?;
        progress(&p);
        let mut follow = self.reader.follow(Query::new(), p.acked);
        loop {
            let mut batch = follow.poll()?;
            if batch.is_empty() {
                if !self.options.follow {
                    return Ok(p);
                }
                batch = follow.wait(Duration::from_secs(1))?;
                if batch.is_empty() {
                    continue;
                }
            }
            for chunk in batch.chunks(self.options.batch) {
                self.ship_until_acked(chunk, &mut p)?;
                p.last_in_log = self.reader.last_record_id()?.max(p.acked);
                progress(&p);
            }
            if self.options.follow {
                std::thread::sleep(FOLLOW_POLL.min(Duration::from_millis(20)));
            }
        }
    }

    fn ship_until_acked(
        &self,
        chunk: &[EventRecord],
        p: &mut Progress,
    ) -> Result<(), ForwardError> {
        let Some(last) = chunk.last().map(|r| r.record_id) else {
            return Ok(());
        };
        let mut backoff = Duration::from_millis(250);
        let mut attempt = 0u32;
        let mut failing_since: Option<Instant> = None;
        loop {
            attempt += 1;
            match self.ship(chunk) {
                Ok(()) => {
                    if let Some(t) = failing_since {
                        eprintln!(
                            "schannel: forward: {} takes records again (after {:.1} s)",
                            self.target,
                            t.elapsed().as_secs_f64()
                        );
                    }
                    write_state(&self.state, last)?;
                    p.acked = last;
                    p.shipped += chunk.len() as u64;
                    p.retried += u64::from(attempt > 1);
                    return Ok(());
                }
                Err(e) => {
                    if !self.options.follow && attempt >= self.options.attempts.max(1) {
                        return Err(ForwardError::Unreachable {
                            target: self.target.to_string(),
                            source: e,
                            acked: p.acked,
                        });
                    }
                    if failing_since.is_none() {
                        eprintln!(
                            "schannel: forward: {} did not take records {}..{}: {e}; retrying (nothing after record {} is marked sent)",
                            self.target,
                            chunk[0].record_id,
                            last,
                            p.acked
                        );
                        failing_since = Some(Instant::now());
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
        }
    }

    /// One batch to the target.
    fn ship(&self, chunk: &[EventRecord]) -> io::Result<()> {
        match &self.delivery {
            Delivery::Syslog { target, tls } => self.ship_syslog(target, tls.as_ref(), chunk),
            Delivery::Otlp(client) => client.post(chunk),
        }
    }

    /// One connection: every record as a frame, our end of stream, the collector's.
    fn ship_syslog(
        &self,
        target: &SyslogTarget,
        tls: Option<&(TlsClient, ServerName<'static>)>,
        chunk: &[EventRecord],
    ) -> io::Result<()> {
        let t = self.options.io_timeout;
        let addrs = target.addrs()?;
        let mut last_err = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, t) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_err = e,
            }
        }
        let stream = stream.ok_or(last_err)?;
        stream.set_write_timeout(Some(t))?;
        stream.set_read_timeout(Some(t))?;
        stream.set_nodelay(false)?;
        match tls {
            None => self.ship_tcp(stream, chunk),
            Some((config, name)) => self.ship_tls(stream, config, name, chunk),
        }
    }

    fn ship_tcp(&self, stream: TcpStream, chunk: &[EventRecord]) -> io::Result<()> {
        let mut w = BufWriter::with_capacity(256 * 1024, &stream);
        for r in chunk {
            write_frame(&mut w, &render_syslog(r, self.options.body))?;
        }
        w.flush()?;
        drop(w);
        stream.shutdown(Shutdown::Write)?;
        // The collector closes its side once it has read to our end of stream.
        let mut buf = [0u8; 512];
        let mut s = &stream;
        loop {
            match s.read(&mut buf) {
                Ok(0) => return Ok(()),
                // A collector may answer (RELP-like relays do); only the close counts.
                Ok(_) => continue,
                Err(e) => self.not_closed(e)?,
            }
        }
    }

    /// RFC 5425: the handshake (the collector's certificate verified against the CA file
    /// and the target's name), the frames, our close_notify, then the collector's close.
    fn ship_tls(
        &self,
        mut stream: TcpStream,
        client: &TlsClient,
        name: &ServerName<'static>,
        chunk: &[EventRecord],
    ) -> io::Result<()> {
        let config = &client.config;
        client.reset();
        let mut conn = rustls::ClientConnection::new(Arc::clone(config), name.clone())
            .map_err(io::Error::other)?;
        let handshake_started = Instant::now();
        while conn.is_handshaking() {
            conn.complete_io(&mut stream).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("TLS handshake failed: {e}{}", handshake_hint(&e)),
                )
            })?;
        }
        if client.sent_no_certificate() {
            let wait = acceptance_wait(handshake_started.elapsed()).min(self.options.io_timeout);
            self.await_acceptance(&mut conn, &mut stream, wait)?;
        }
        {
            let tls = rustls::Stream::new(&mut conn, &mut stream);
            let mut w = BufWriter::with_capacity(256 * 1024, tls);
            for r in chunk {
                write_frame(&mut w, &render_syslog(r, self.options.body))
                    .map_err(|e| dropped(e, config))?;
            }
            w.flush().map_err(|e| dropped(e, config))?;
        }
        conn.send_close_notify();
        while conn.wants_write() {
            conn.write_tls(&mut stream)?;
        }
        stream.flush()?;
        stream.shutdown(Shutdown::Write)?;
        // The collector closes once it has read to our close_notify: its own close_notify
        // (Ok(0)), or the TCP close without one (rsyslog's gtls driver closes so). An alert
        // (a refused client certificate, say) is an error: the batch was not taken.
        let mut buf = [0u8; 512];
        loop {
            match rustls::Stream::new(&mut conn, &mut stream).read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) => self.not_closed(e).map_err(|e| dropped(e, config))?,
            }
        }
    }

    /// The collector asked for a client certificate and got none. One that requires it
    /// completes the handshake and then closes (a TLS 1.3 server can refuse an empty
    /// certificate only after its Finished); frames written before that close would be
    /// lost unread while its close looked like the end of a good batch. So before any
    /// frame, wait `wait` (see [`acceptance_wait`]): a close or an
    /// alert in that time is a refusal; silence means the connection was kept.
    fn await_acceptance(
        &self,
        conn: &mut rustls::ClientConnection,
        stream: &mut TcpStream,
        wait: Duration,
    ) -> io::Result<()> {
        stream.set_read_timeout(Some(wait))?;
        let mut buf = [0u8; 512];
        let outcome = rustls::Stream::new(conn, stream).read(&mut buf);
        stream.set_read_timeout(Some(self.options.io_timeout))?;
        let refused = |how: String| {
            io::Error::new(
                io::ErrorKind::ConnectionRefused,
                format!("the collector asked for a client certificate, this forwarder has none, and the collector {how} right after the handshake: it requires a client certificate (--tls-cert and --tls-key)"),
            )
        };
        match outcome {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(())
            }
            // A collector may write first; the connection is kept.
            Ok(n) if n > 0 => Ok(()),
            Ok(_) => Err(refused("closed the connection".into())),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                Err(refused("closed the connection".into()))
            }
            Err(e) => Err(refused(format!("ended the connection ({e})"))),
        }
    }

    /// A read error while waiting for the collector's close: go on after an interrupt,
    /// otherwise the batch is not known to be read.
    fn not_closed(&self, e: io::Error) -> io::Result<()> {
        let t = self.options.io_timeout;
        match e.kind() {
            io::ErrorKind::Interrupted => Ok(()),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the collector did not close the connection within {t:?} of our end of stream, so the batch is not known to be read"),
            )),
            _ => Err(e),
        }
    }
}

/// How long a forwarder that was asked for a client certificate and had none waits, after
/// the handshake, for the collector to refuse the connection before it sends.
pub const ACCEPTANCE_WAIT: Duration = Duration::from_secs(1);

/// The shortest such wait: the scheduling margin of a collector on the same machine.
pub const ACCEPTANCE_WAIT_MIN: Duration = Duration::from_millis(100);

/// How long to wait for a refusal after a handshake that took `handshake`: a collector
/// that refuses closes one round trip after our Finished at the latest, and the
/// handshake took at least one round trip, so eight handshakes' time is ample; at least
/// [`ACCEPTANCE_WAIT_MIN`], at most [`ACCEPTANCE_WAIT`]. (A flat second cost every
/// batch that second against collectors that ask for a certificate without requiring
/// one, such as rsyslog's `anon` mode.)
pub fn acceptance_wait(handshake: Duration) -> Duration {
    handshake
        .saturating_mul(8)
        .clamp(ACCEPTANCE_WAIT_MIN, ACCEPTANCE_WAIT)
}

/// A connection the collector dropped after the handshake: with no client certificate of
/// ours, say the likely reason (TLS 1.3 servers refuse a missing certificate only then).
fn dropped(e: io::Error, config: &rustls::ClientConfig) -> io::Error {
    let reset = matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
    );
    if reset && !config.client_auth_cert_resolver.has_certs() {
        io::Error::new(
            e.kind(),
            format!("{e}: the collector dropped the connection after the handshake, as one that requires a client certificate does (--tls-cert and --tls-key)"),
        )
    } else {
        e
    }
}

/// What to do about a failed TLS handshake, where rustls' error says.
fn handshake_hint(e: &io::Error) -> &'static str {
    let Some(tls) = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) else {
        return "";
    };
    match tls {
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer) => {
            "; the collector's certificate does not chain to the CA file given (--tls-ca): give the CA that issued it"
        }
        rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidForName
            | rustls::CertificateError::NotValidForNameContext { .. },
        ) => "; the collector's certificate is not for the target's host: connect by a name the certificate holds",
        rustls::Error::InvalidCertificate(_) => "; the collector's certificate is not acceptable",
        rustls::Error::AlertReceived(_) => {
            "; the collector refused the connection (if it requires a client certificate: --tls-cert and --tls-key)"
        }
        _ => "",
    }
}

/// One octet-counted frame: `MSG-LEN SP SYSLOG-MSG` (RFC 6587 section 3.4.1).
pub fn write_frame(w: &mut impl Write, message: &str) -> io::Result<()> {
    write!(w, "{} ", message.len())?;
    w.write_all(message.as_bytes())
}

const STATE_KEY: &str = "last_acked_record_id=";

/// The last acknowledged record ID in a state file (0 when there is none yet). A file
/// that does not say one is an error, not a restart from 0: that would send the whole
/// log again.
pub fn read_state(path: &Path) -> Result<u64, ForwardError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(ForwardError::State {
                path: path.to_path_buf(),
                why: e.to_string(),
            })
        }
    };
    text.lines()
        .find_map(|l| l.strip_prefix(STATE_KEY))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ForwardError::State {
            path: path.to_path_buf(),
            why: format!("it does not say `{STATE_KEY}N`; remove it to send the whole log again"),
        })
}

/// Write the state atomically: a temporary file beside it, fsync, rename, fsync the
/// directory. A crash leaves the old state or the new one, never a torn file.
pub fn write_state(path: &Path, acked: u64) -> Result<(), ForwardError> {
    let err = |e: io::Error| ForwardError::State {
        path: path.to_path_buf(),
        why: e.to_string(),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("state.tmp");
    {
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        writeln!(f, "{STATE_KEY}{acked}").map_err(err)?;
        f.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_acceptance_wait_follows_the_handshake_within_its_bounds() {
        let ms = Duration::from_millis;
        assert_eq!(acceptance_wait(ms(2)), ACCEPTANCE_WAIT_MIN);
        assert_eq!(acceptance_wait(ms(40)), ms(320));
        assert_eq!(acceptance_wait(ms(900)), ACCEPTANCE_WAIT);
        assert_eq!(acceptance_wait(Duration::MAX), ACCEPTANCE_WAIT);
    }

    #[test]
    fn targets() {
        let t = SyslogTarget::parse("tcp://127.0.0.1:6514").expect("tcp");
        assert_eq!(t.to_string(), "tcp://127.0.0.1:6514");
        assert_eq!(t.state_file_name(), "forward-syslog-127.0.0.1-6514.state");
        let t = SyslogTarget::parse("tcp://[::1]:514").expect("v6");
        assert_eq!(t.to_string(), "tcp://[::1]:514");
        let t = SyslogTarget::parse("tls://collector.example.net:6514").expect("tls");
        assert!(t.is_tls());
        assert_eq!(t.to_string(), "tls://collector.example.net:6514");
        assert_eq!(
            t.state_file_name(),
            "forward-syslog-tls-collector.example.net-6514.state"
        );
        for (s, why) in [
            ("udp://h:514", "at least once"),
            ("h:514", "expected tcp://"),
            ("tls://h", "port is required"),
            ("tcp://h", "port is required"),
            ("tcp://h:0", "1 to 65535"),
            ("tcp://:514", "no host"),
        ] {
            let e = SyslogTarget::parse(s).expect_err("refused").to_string();
            assert!(e.contains(why), "{s}: {e}");
        }
    }

    #[test]
    fn frames_count_octets_not_characters() {
        let mut out = Vec::new();
        write_frame(&mut out, "é]").expect("write");
        assert_eq!(out, "3 é]".as_bytes());
    }

    #[test]
    fn state_round_trips_and_refuses_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("s.state");
        assert_eq!(read_state(&p).expect("absent"), 0);
        write_state(&p, 1234).expect("write");
        assert_eq!(read_state(&p).expect("read"), 1234);
        assert!(!p.with_extension("state.tmp").exists());
        std::fs::write(&p, "garbage").expect("write");
        let e = read_state(&p).expect_err("refused").to_string();
        assert!(e.contains("remove it"), "{e}");
    }
}
