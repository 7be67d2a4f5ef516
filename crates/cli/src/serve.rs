//! `schannel serve`: the main job. A TLS endpoint that answers each HTTP request with a
//! page describing how the client connected, or (`--backend`) a TLS-terminating TCP
//! proxy. Connections are driven through the token API (AcceptSecurityContext,
//! DecryptMessage, EncryptMessage) exactly as a Windows server drives Schannel; every
//! handshake's events go to the data directory's System log.

use crate::http::{self, ConnectionReport};
use crate::runtime::Runtime;
use crate::CmdResult;
use securechannel::{
    ContextOptions, DecryptStatus, ServerContext, ServerCredential, StepStatus, StoreQuery,
};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Arguments of `schannel serve`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Forward the decrypted stream to this TCP address instead of answering HTTP.
    #[arg(long, value_name = "HOST:PORT")]
    pub backend: Option<String>,
    /// The server certificate chain (PEM or DER) ...
    #[arg(long, requires = "key", conflicts_with_all = ["pfx", "thumbprint", "subject"])]
    pub cert: Option<PathBuf>,
    /// ... and its private key (PKCS#8, PKCS#1 or SEC1; mode 0600).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
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
    /// Connections served at once; more wait in the kernel's backlog.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Seconds a client has to complete its handshake (and to send its request).
    #[arg(long, default_value_t = 10)]
    pub handshake_timeout: u64,
    /// Print one line per connection on stdout.
    #[arg(long)]
    pub access_log: bool,
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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let logging = runtime.provider.emitter().logging().0;
    let result = rt.block_on(serve(args, credential, data_dir, logging));
    runtime.close();
    result
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
    if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        b = b.with_certificate_files(cert, key);
    } else if let Some(pfx) = &args.pfx {
        let password = std::env::var(&args.pfx_password_env).unwrap_or_default();
        b = b.with_pkcs12(pfx, &password);
    } else if let Some(t) = &args.thumbprint {
        b = b.from_store(StoreQuery::Thumbprint(t.clone()));
    } else if let Some(s) = &args.subject {
        b = b.from_store(StoreQuery::Subject(s.clone()));
    } else {
        let dev = securechannel::ensure_dev_credential(data_dir)
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
    if args.require_client_cert {
        b = b.require_client_certificate();
    } else if args.request_client_cert {
        b = b.request_client_certificate();
    }
    b.acquire()
        .map_err(|e| crate::failure_text("cannot acquire the server credential", &e).into())
}

struct Server {
    credential: ServerCredential,
    options: ContextOptions,
    backend: Option<String>,
    timeout: Duration,
    access_log: bool,
    served: AtomicU64,
    failed: AtomicU64,
}

async fn serve(
    args: Args,
    credential: ServerCredential,
    data_dir: &Path,
    logging: u32,
) -> CmdResult {
    let listener = TcpListener::bind(args.listen).await.map_err(|e| {
        format!(
            "cannot listen on {}: {e}\nhint: pick another address with --listen",
            args.listen
        )
    })?;
    let local = listener.local_addr()?;
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
        "schannel: events go to {} (read them with: schannel events); Ctrl-C stops",
        data_dir.join("events.db").display()
    );
    if logging & 0x4 == 0 {
        eprintln!(
            "schannel: EventLogging = {logging} records {}; `schannel config set EventLogging 7` also records successful handshakes (36880)",
            if logging & 0x2 != 0 { "errors and warnings" } else if logging & 0x1 != 0 { "errors only" } else { "nothing" }
        );
    }
    let server = Arc::new(Server {
        credential,
        options: ContextOptions {
            alpn: args
                .alpn
                .iter()
                .filter(|a| !a.is_empty())
                .map(|a| a.as_bytes().to_vec())
                .collect(),
            ..ContextOptions::default()
        },
        backend: args.backend.clone(),
        timeout: Duration::from_secs(args.handshake_timeout.max(1)),
        access_log: args.access_log,
        served: AtomicU64::new(0),
        failed: AtomicU64::new(0),
    });
    let limit = Arc::new(Semaphore::new(args.max_connections.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => p?,
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        };
        let (sock, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Running out of file descriptors and the like: say so, keep serving.
                    eprintln!("schannel: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        };
        let server = server.clone();
        tasks.spawn(async move {
            let _permit = permit;
            server.connection(sock, peer).await;
        });
        while tasks.try_join_next().is_some() {}
    }
    // A finished connection's task stays in the set until it is joined: count only the
    // connections still running.
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
        "schannel: stopped; {} connection(s) served, {} failed",
        server.served.load(Ordering::Relaxed),
        server.failed.load(Ordering::Relaxed)
    );
    Ok(ExitCode::SUCCESS)
}

impl Server {
    async fn connection(&self, sock: TcpStream, peer: SocketAddr) {
        let _ = sock.set_nodelay(true);
        let ctx = match ServerContext::new(&self.credential, self.options.clone()) {
            Ok(c) => c,
            Err(e) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                eprintln!("schannel: {peer}: {e}");
                return;
            }
        };
        let mut conn = TlsConnection {
            ctx,
            sock,
            input: Vec::with_capacity(8192),
            out: Vec::with_capacity(8192),
        };
        match tokio::time::timeout(self.timeout, conn.handshake()).await {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                if self.access_log {
                    println!("{peer} handshake failed: {failure}");
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
        }
        self.served.fetch_add(1, Ordering::Relaxed);
        let report = conn.report(peer);
        let outcome = match &self.backend {
            None => conn.answer_http(&report, self.timeout).await,
            Some(b) => conn.proxy(b).await,
        };
        if self.access_log {
            match &outcome {
                Ok(what) => println!(
                    "{peer} {} {} sni={} alpn={} resumed={} {what}",
                    report.protocol,
                    report.cipher_suite,
                    report.sni.as_deref().unwrap_or("-"),
                    report.alpn.as_deref().unwrap_or("-"),
                    report.resumed,
                ),
                Err(e) => println!("{peer} {} {}: {e}", report.protocol, report.cipher_suite),
            }
        }
        conn.close().await;
    }
}

/// Why a handshake failed, for the access log.
enum Failure {
    Tls(securechannel::Error),
    Io(std::io::Error),
    Closed,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Tls(e) => write!(f, "{e}"),
            Failure::Io(e) => write!(f, "{e}"),
            Failure::Closed => f.write_str("the client closed the connection during the handshake"),
        }
    }
}

/// One accepted connection, driven through the token API.
struct TlsConnection {
    ctx: ServerContext,
    sock: TcpStream,
    /// Ciphertext received and not yet consumed (SSPI's extra buffer lives at its front).
    input: Vec<u8>,
    out: Vec<u8>,
}

impl TlsConnection {
    async fn read_more(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.sock.read(&mut chunk).await?;
        self.input.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    async fn flush_out(&mut self) -> std::io::Result<()> {
        if !self.out.is_empty() {
            self.sock.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    async fn handshake(&mut self) -> Result<(), Failure> {
        loop {
            let step = self.ctx.accept(&mut self.input, &mut self.out);
            // On failure `out` holds the alert: send it before giving up.
            let sent = self.flush_out().await;
            let step = step.map_err(Failure::Tls)?;
            sent.map_err(Failure::Io)?;
            self.input.drain(..step.consumed);
            match step.status {
                StepStatus::Complete => return Ok(()),
                StepStatus::ContinueNeeded if !self.input.is_empty() => continue,
                StepStatus::ContinueNeeded | StepStatus::IncompleteMessage { .. } => {
                    if self.read_more().await.map_err(Failure::Io)? == 0 {
                        return Err(Failure::Closed);
                    }
                }
            }
        }
    }

    /// Decrypt until some plaintext arrives; `Ok(false)`: the client closed.
    async fn read_plain(&mut self, plain: &mut Vec<u8>) -> Result<bool, String> {
        loop {
            let before = plain.len();
            let d = self.ctx.decrypt(&mut self.input, plain);
            self.ctx.take_output(&mut self.out);
            let _ = self.flush_out().await;
            let d = d.map_err(|e| e.to_string())?;
            self.input.drain(..d.consumed);
            match d.status {
                DecryptStatus::PeerClosed => return Ok(false),
                DecryptStatus::Data if plain.len() > before => return Ok(true),
                DecryptStatus::Data if !self.input.is_empty() => continue,
                _ => {
                    if self.read_more().await.map_err(|e| e.to_string())? == 0 {
                        return Ok(false);
                    }
                }
            }
        }
    }

    async fn write_plain(&mut self, data: &[u8]) -> Result<(), String> {
        self.ctx
            .encrypt(data, &mut self.out)
            .map_err(|e| e.to_string())?;
        self.flush_out().await.map_err(|e| e.to_string())
    }

    async fn close(&mut self) {
        if self.ctx.shutdown(&mut self.out).is_ok() {
            let _ = self.flush_out().await;
        }
        let _ = self.sock.shutdown().await;
    }

    fn report(&self, peer: SocketAddr) -> ConnectionReport {
        let info = self.ctx.connection_info().ok();
        let suite = self.ctx.cipher_suite();
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
            sni: self.ctx.server_name().map(str::to_string),
            alpn: self
                .ctx
                .alpn()
                .map(|a| String::from_utf8_lossy(a).into_owned()),
            resumed: self.ctx.resumed() == Some(true),
            client_certificate: self
                .ctx
                .remote_certificates()
                .first()
                .map(|c| crate::subject_text(c)),
            activity_id: self.ctx.activity_id().to_string(),
            peer: peer.to_string(),
        }
    }

    /// Read one request, answer it, and say what was answered.
    async fn answer_http(
        &mut self,
        report: &ConnectionReport,
        timeout: Duration,
    ) -> Result<String, String> {
        let mut plain = Vec::new();
        let head = tokio::time::timeout(timeout, async {
            loop {
                if let Some(h) = http::parse_request(&plain) {
                    return Ok::<_, String>(Some(h));
                }
                if !self.read_plain(&mut plain).await? {
                    return Ok(None);
                }
            }
        })
        .await
        .map_err(|_| "no request within the timeout".to_string())??;
        let Some(head) = head else {
            return Ok("closed without a request".into());
        };
        let (status, response) = http::response(&head, report);
        self.write_plain(&response).await?;
        Ok(match &head {
            Ok(h) => format!("{} {} {status}", h.method, h.path),
            Err(_) => format!("bad request {status}"),
        })
    }

    /// Relay between the TLS client and the backend until either side closes.
    async fn proxy(&mut self, backend: &str) -> Result<String, String> {
        let mut upstream = TcpStream::connect(backend)
            .await
            .map_err(|e| format!("cannot connect to the backend {backend}: {e}"))?;
        let _ = upstream.set_nodelay(true);
        let (mut up_bytes, mut down_bytes) = (0u64, 0u64);
        let mut plain = Vec::with_capacity(16 * 1024);
        let mut from_backend = vec![0u8; 16 * 1024];
        // Plaintext already decrypted along with the handshake's extra bytes goes first.
        loop {
            plain.clear();
            let d = self.ctx.decrypt(&mut self.input, &mut plain);
            self.ctx.take_output(&mut self.out);
            let _ = self.flush_out().await;
            let d = d.map_err(|e| e.to_string())?;
            self.input.drain(..d.consumed);
            if !plain.is_empty() {
                upstream
                    .write_all(&plain)
                    .await
                    .map_err(|e| e.to_string())?;
                up_bytes += plain.len() as u64;
            }
            if d.status == DecryptStatus::PeerClosed {
                let _ = upstream.shutdown().await;
                return Ok(format!(
                    "proxied {up_bytes} B up, {down_bytes} B down; client closed"
                ));
            }
            if d.status == DecryptStatus::Data && !self.input.is_empty() && d.consumed > 0 {
                continue;
            }
            let mut chunk = [0u8; 16 * 1024];
            tokio::select! {
                r = self.sock.read(&mut chunk) => {
                    let n = r.map_err(|e| e.to_string())?;
                    if n == 0 {
                        let _ = upstream.shutdown().await;
                        return Ok(format!("proxied {up_bytes} B up, {down_bytes} B down; client disconnected"));
                    }
                    self.input.extend_from_slice(&chunk[..n]);
                }
                r = upstream.read(&mut from_backend) => {
                    let n = r.map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Ok(format!("proxied {up_bytes} B up, {down_bytes} B down; backend closed"));
                    }
                    down_bytes += n as u64;
                    let data = from_backend[..n].to_vec();
                    self.write_plain(&data).await?;
                }
            }
        }
    }
}
