//! A storm of refused handshakes against a TLS server, from real rustls clients.
//!
//! ```text
//! storm ADDR COUNT [CONCURRENCY]
//! ```
//!
//! Each of COUNT connections is a rustls client offering TLS 1.3 only, so that a server
//! with TLS 1.3 disabled refuses it (bench/storm.sh sets that up); CONCURRENCY threads
//! (default 64) share the work. Prints connections per second and what the clients saw
//! (the alert received, or how the connection ended), one line per outcome, then a line
//! `refused N` that bench/storm.sh compares with the event log's counts.
#![forbid(unsafe_code)]

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The storm is refused before any certificate is sent; a verifier is still required.
#[derive(Debug)]
struct NoCertificateExpected;

impl ServerCertVerifier for NoCertificateExpected {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(
            "the storm expects a refusal, not a certificate".into(),
        ))
    }
    fn verify_tls12_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("not expected".into()))
    }
    fn verify_tls13_signature(
        &self,
        _: &[u8],
        _: &CertificateDer<'_>,
        _: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General("not expected".into()))
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// One connection: what the client saw.
fn one(addr: SocketAddr, config: &Arc<ClientConfig>) -> String {
    let mut sock = match TcpStream::connect_timeout(&addr, Duration::from_secs(10)) {
        Ok(s) => s,
        Err(e) => return format!("connect failed: {}", e.kind()),
    };
    let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = sock.set_nodelay(true);
    let name = ServerName::try_from("localhost").expect("a valid name");
    let mut conn = ClientConnection::new(config.clone(), name).expect("a client connection");
    let mut buf = [0u8; 4096];
    loop {
        while conn.wants_write() {
            if conn.write_tls(&mut sock).is_err() {
                return "write failed".into();
            }
        }
        let _ = sock.flush();
        match sock.read(&mut buf) {
            Ok(0) => return "closed without an alert".into(),
            Ok(n) => {
                let mut at = &buf[..n];
                while !at.is_empty() {
                    match conn.read_tls(&mut at) {
                        Ok(_) => {}
                        Err(e) => return format!("read_tls: {e}"),
                    }
                }
                if let Err(e) = conn.process_new_packets() {
                    return match e {
                        rustls::Error::AlertReceived(a) => {
                            format!("alert {} ({a:?})", u8::from(a))
                        }
                        other => format!("error: {other}"),
                    };
                }
                if !conn.is_handshaking() {
                    return "handshake completed (not refused)".into();
                }
            }
            Err(e) => return format!("read failed: {}", e.kind()),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(addr), Some(count)) = (
        args.first().and_then(|a| a.parse::<SocketAddr>().ok()),
        args.get(1).and_then(|c| c.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: storm ADDR COUNT [CONCURRENCY]");
        std::process::exit(2);
    };
    let threads: u64 = args
        .get(2)
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
        .max(1);
    let config = Arc::new(
        ClientConfig::builder_with_protocol_versions(&[&rustls::version::TLS13])
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoCertificateExpected))
            .with_no_client_auth(),
    );
    let next = Arc::new(AtomicU64::new(0));
    let outcomes: Arc<Mutex<BTreeMap<String, u64>>> = Arc::default();
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (next, outcomes, config) = (next.clone(), outcomes.clone(), config.clone());
            std::thread::spawn(move || {
                let mut mine: BTreeMap<String, u64> = BTreeMap::new();
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    *mine.entry(one(addr, &config)).or_default() += 1;
                }
                let mut all = outcomes.lock().unwrap_or_else(|p| p.into_inner());
                for (k, v) in mine {
                    *all.entry(k).or_default() += v;
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
    let elapsed = start.elapsed();
    let outcomes = outcomes.lock().unwrap_or_else(|p| p.into_inner());
    println!(
        "{count} connections in {:.2} s: {:.0} refused handshakes/s from {threads} threads",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64()
    );
    let mut refused = 0;
    for (outcome, n) in outcomes.iter() {
        println!("  {n:>8}  {outcome}");
        if outcome.starts_with("alert ") {
            refused += n;
        }
    }
    println!("refused {refused}");
}
