//! `schannel connect HOST:PORT`: a probe like `openssl s_client`. A client security
//! context runs over a plain TCP socket in the provider's std stream (which drives the
//! token API as a Windows program drives InitializeSecurityContext); connect prints the
//! negotiated parameters or the failure with its event ID, status code and a hint, and
//! logs the events.

use crate::runtime::Runtime;
use crate::CmdResult;
use securechannel::{ClientContext, ContextOptions, Protocol, Sni, TlsStream};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The probe's connection: the provider's std stream over the socket.
type Tls = TlsStream<TcpStream, ClientContext>;

/// Arguments of `schannel connect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The server, `HOST:PORT` (`[::1]:8443` for IPv6).
    pub address: String,
    /// The name to send in SNI and verify the certificate against (default: HOST).
    #[arg(long)]
    pub sni: Option<String>,
    /// Send no SNI (the certificate is still verified against HOST).
    #[arg(long, conflicts_with = "sni")]
    pub no_sni: bool,
    /// Offer these ALPN protocols, comma separated, in preference order.
    #[arg(long, value_delimiter = ',')]
    pub alpn: Vec<String>,
    /// Offer TLS 1.2 only.
    #[arg(long = "tls1.2", conflicts_with = "tls13")]
    pub tls12: bool,
    /// Offer TLS 1.3 only.
    #[arg(long = "tls1.3")]
    pub tls13: bool,
    /// Also trust the CA certificates in this PEM file (besides stores/Root).
    #[arg(long)]
    pub cafile: Option<PathBuf>,
    /// A client certificate chain (PEM) to offer when the server asks for one.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// The private key of --cert.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// After the handshake, send `GET PATH` and print the response.
    #[arg(long, value_name = "PATH")]
    pub get: Option<String>,
    /// Connect and handshake timeout, in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub revocation: crate::revocation::RevocationArgs,
    #[command(flatten)]
    pub dangerous: crate::dangerous::DangerousArgs,
}

/// Run `schannel connect`.
pub fn run(args: Args, data_dir: &Path) -> CmdResult {
    let runtime = Runtime::open(data_dir)?;
    let result = probe(&args, &runtime);
    runtime.close();
    result
}

fn probe(args: &Args, runtime: &Runtime) -> CmdResult {
    let (host, addr) = resolve(&args.address)?;
    let mut protocols = Vec::new();
    if args.tls12 {
        protocols.push(Protocol::Tls12);
    }
    if args.tls13 {
        protocols.push(Protocol::Tls13);
    }
    let credential = runtime.client_credential(
        &protocols,
        args.cafile.as_deref(),
        args.cert.as_deref().zip(args.key.as_deref()),
        args.revocation.choice(),
        &args.dangerous,
    )?;
    let options =
        ContextOptions::default()
            .with_alpn(&args.alpn)
            .with_sni(match (&args.sni, args.no_sni) {
                (_, true) => Sni::Disabled,
                (Some(n), _) => Sni::Name(n.clone()),
                (None, false) => Sni::Target,
            });
    let timeout = Duration::from_secs(args.timeout.max(1));
    let sock = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    sock.set_read_timeout(Some(timeout))?;
    sock.set_write_timeout(Some(timeout))?;
    sock.set_nodelay(true)?;

    // A context the flags make impossible (a --sni that is no name) is a usage error
    // (exit 2), before any byte is sent; what the handshake meets is a failure (exit 1).
    let ctx = ClientContext::new(&credential, &host, options)
        .map_err(|e| crate::failure_text("handshake failed", &e))?;
    // On failure the stream has sent the alert (if any) before it returns the error.
    let mut tls = match TlsStream::handshake(ctx, sock) {
        Ok(tls) => tls,
        Err(e) => {
            if let Some(e) = securechannel::Error::from_io_error(&e) {
                crate::print_error(&crate::failure_text("handshake failed", e));
                return Ok(ExitCode::from(1));
            }
            if e.kind() == ErrorKind::UnexpectedEof {
                crate::print_error(
                    &"the server closed the connection during the handshake \
                      (no alert received)\nhint: check the server's own log; it may not speak TLS on this port",
                );
                return Ok(ExitCode::from(1));
            }
            return Err(transport_error(&e, &addr, timeout).into());
        }
    };

    let report = report(tls.context(), &addr);
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report, tls.context());
    }

    if let Some(path) = &args.get {
        if !http_get(&mut tls, &host, path, &addr, timeout)? {
            // A TLS failure after the handshake (in TLS 1.3 a server's refusal of the
            // client certificate arrives here): the same exit code as a failed handshake.
            return Ok(ExitCode::from(1));
        }
    }
    // close_notify; the server may already be gone.
    let _ = tls.shutdown();
    Ok(ExitCode::SUCCESS)
}

/// A transport failure (not TLS's) as connect reports it.
fn transport_error(e: &std::io::Error, addr: &SocketAddr, timeout: Duration) -> String {
    match e.kind() {
        // A std socket's read timeout is WouldBlock on Unix.
        ErrorKind::WouldBlock | ErrorKind::TimedOut => format!(
            "no answer from {addr} within {} s\nhint: a slow server needs a longer --timeout",
            timeout.as_secs()
        ),
        _ => format!("the connection to {addr} failed: {e}"),
    }
}

/// `HOST:PORT` → the name to verify and the socket address.
fn resolve(address: &str) -> Result<(String, SocketAddr), String> {
    let (host, port) = address.rsplit_once(':').ok_or_else(|| {
        format!("'{address}' is not HOST:PORT (e.g. 127.0.0.1:8443 or [::1]:8443)")
    })?;
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port: u16 = port
        .parse()
        .map_err(|_| format!("'{port}' is not a port number"))?;
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{host}': {e}"))?
        .next()
        .ok_or_else(|| format!("'{host}' has no address"))?;
    Ok((host, addr))
}

fn report(ctx: &ClientContext, addr: &SocketAddr) -> serde_json::Value {
    let info = ctx.connection_info().ok();
    let suite = ctx.cipher_suite();
    let chain: Vec<String> = ctx
        .remote_certificates()
        .iter()
        .map(|c| crate::subject_text(c))
        .collect();
    serde_json::json!({
        "address": addr.to_string(),
        "target": ctx.target_name(),
        "protocol": info.as_ref().map(|i| i.protocol.name()),
        "cipher_suite": suite.map(|s| s.name),
        "cipher_suite_id": suite.map(|s| format!("0x{:04X}", s.number)),
        "cipher": info.as_ref().map(|i| i.cipher),
        "cipher_strength": info.as_ref().map(|i| i.cipher_strength),
        "mac": info.as_ref().map(|i| i.mac),
        "prf_hash": info.as_ref().map(|i| i.prf_hash),
        "exchange": info.as_ref().map(|i| i.exchange),
        "exchange_strength": info.as_ref().map(|i| i.exchange_strength),
        "alpn": ctx.alpn().map(|a| String::from_utf8_lossy(a).into_owned()),
        "resumed": ctx.resumed(),
        "server_certificates": chain,
        "ocsp_staple": staple_json(ctx.ocsp_staple()),
        "activity_id": ctx.activity_id().to_string(),
    })
}

/// The server's OCSP staple as the report shows it: `null` when none was stapled.
fn staple_json(staple: Option<&securechannel::StapleCheck>) -> serde_json::Value {
    use securechannel::{OcspSigner, OcspStatus, StapleCheck};
    let time = securechannel::rfc3339_seconds;
    match staple {
        None => serde_json::Value::Null,
        Some(StapleCheck::Valid(info)) => serde_json::json!({
            "valid": true,
            "status": info.status.name(),
            "revoked_at": match info.status {
                OcspStatus::Revoked { at } => Some(time(at)),
                _ => None,
            },
            "this_update": time(info.this_update),
            "next_update": info.next_update.map(time),
            "signer": match &info.signer {
                OcspSigner::Delegated(s) => s.clone(),
                _ => "the issuer".to_string(),
            },
        }),
        Some(StapleCheck::Invalid(why)) => serde_json::json!({
            "valid": false,
            "status": "invalid",
            "why": why,
        }),
        Some(other) => serde_json::json!({ "status": format!("{other:?}") }),
    }
}

fn print_report(r: &serde_json::Value, ctx: &ClientContext) {
    let s = |k: &str| r[k].as_str().unwrap_or("-").to_string();
    let n = |k: &str| {
        r[k].as_u64()
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into())
    };
    println!("Connected to {} ({})", s("target"), s("address"));
    println!("Protocol          : {}", s("protocol"));
    println!(
        "Cipher suite      : {} ({})",
        s("cipher_suite"),
        s("cipher_suite_id")
    );
    println!(
        "Cipher            : {} ({} bits)",
        s("cipher"),
        n("cipher_strength")
    );
    println!(
        "MAC               : {} (PRF hash {})",
        s("mac"),
        s("prf_hash")
    );
    println!(
        "Key exchange      : {} ({} bits)",
        s("exchange"),
        n("exchange_strength")
    );
    println!(
        "ALPN              : {}",
        r["alpn"].as_str().unwrap_or("(none)")
    );
    println!(
        "Resumed           : {}",
        if ctx.resumed() == Some(true) {
            "yes"
        } else {
            "no"
        }
    );
    for (i, c) in r["server_certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        println!("Certificate [{i}]   : {}", c.as_str().unwrap_or("?"));
    }
    let staple = &r["ocsp_staple"];
    println!(
        "OCSP staple       : {}",
        match staple["status"].as_str() {
            None => "(none)".to_string(),
            Some("invalid") => format!(
                "invalid, treated as absent: {}",
                staple["why"].as_str().unwrap_or("?")
            ),
            Some(status) => format!(
                "{status} (thisUpdate {}, nextUpdate {}, signed by {})",
                staple["this_update"].as_str().unwrap_or("?"),
                staple["next_update"].as_str().unwrap_or("none"),
                staple["signer"].as_str().unwrap_or("?")
            ),
        }
    );
    println!("Activity ID       : {}", s("activity_id"));
    println!(
        "Events            : schannel events --activity '{}'",
        s("activity_id")
    );
}

/// Send `GET path` and copy the response to stdout until the server's close_notify (or
/// its EOF). `Ok(false)`: TLS failed after the handshake (printed).
fn http_get(
    tls: &mut Tls,
    host: &str,
    path: &str,
    addr: &SocketAddr,
    timeout: Duration,
) -> Result<bool, Box<dyn std::error::Error>> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: schannel-connect\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    // A transport error here is kept while the response is read: a server that refused
    // us may have closed, and its alert is waiting to be read.
    let sent = tls.write_all(request.as_bytes()).and_then(|()| tls.flush());
    if let Err(e) = &sent {
        if let Some(e) = securechannel::Error::from_io_error(e) {
            crate::print_error(&crate::failure_text("encrypt failed", e));
            return Ok(false);
        }
    }
    println!("---");
    let mut stdout = std::io::stdout().lock();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match tls.read(&mut buf) {
            // The server's close_notify.
            Ok(0) => break,
            Ok(n) => stdout.write_all(&buf[..n])?,
            Err(e) => {
                stdout.flush()?;
                if let Some(e) = securechannel::Error::from_io_error(&e) {
                    crate::print_error(&crate::failure_text("decrypt failed", e));
                    return Ok(false);
                }
                // EOF without close_notify: the end of the response, as for most
                // HTTP/1.x clients (Content-Length or the connection's end delimits it).
                if e.kind() == ErrorKind::UnexpectedEof && sent.is_ok() {
                    break;
                }
                let first = sent.err().unwrap_or(e);
                return Err(transport_error(&first, addr, timeout).into());
            }
        }
    }
    stdout.flush()?;
    sent.map_err(|e| transport_error(&e, addr, timeout))?;
    Ok(true)
}
