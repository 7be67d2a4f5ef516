//! Handshakes per second and bulk throughput of securechannel's contexts against raw
//! rustls (buffered `ClientConnection` / `ServerConnection`, same provider, same PKI),
//! in memory, on one thread. Run in release mode:
//!
//! ```text
//! cargo run --release -p securechannel --example bench_contexts
//! ```
//!
//! Both sides do full TLS 1.3 handshakes (the client never reads the server's tickets, so
//! nothing is resumed), with EventLogging at its default (errors only): the provider's
//! events cost nothing on success, as in production.

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use securechannel::events::{Emitter, EventLogging, NullSink};
use securechannel::{
    ClientContext, ClientCredential, ContextOptions, ServerContext, ServerCredential, Settings,
};
use securechannel_testpki::{Ca, Leaf};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HANDSHAKE_TIME: Duration = Duration::from_secs(2);
const BULK_BYTES: usize = 256 << 20;
const CHUNK: usize = 16 * 1024;

fn main() {
    let pki = Pki::new();
    let logging = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .map(EventLogging)
        .unwrap_or(EventLogging::DEFAULT);
    let emitter = Emitter::new(Arc::new(NullSink), logging);
    let ccred = ClientCredential::new_in_memory(
        emitter.clone(),
        Arc::new(Settings::default()),
        None,
        pki.roots(),
    );
    let scred = ServerCredential::new_in_memory(
        emitter,
        Arc::new(Settings::default()),
        Some(pki.server.certified_key()),
        pki.roots(),
    );
    let (ccfg, scfg) = pki.raw_configs();
    println!("EventLogging = {}", logging.0);

    // Alternate rounds so that frequency scaling and caches treat both alike.
    let (mut ours_hs, mut raw_hs) = (Vec::new(), Vec::new());
    let (mut ours_bulk, mut raw_bulk) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        raw_hs.push(rate(|| raw_handshake(&ccfg, &scfg)));
        ours_hs.push(rate(|| our_handshake(&ccred, &scred)));
        raw_bulk.push(raw_throughput(&ccfg, &scfg));
        ours_bulk.push(our_throughput(&ccred, &scred));
    }
    let best = |v: &[f64]| v.iter().cloned().fold(0.0, f64::max);
    let (o, r) = (best(&ours_hs), best(&raw_hs));
    println!(
        "handshakes/s  securechannel {o:9.0}   rustls {r:9.0}   ratio {:.3}",
        o / r
    );
    let (o, r) = (best(&ours_bulk), best(&raw_bulk));
    println!(
        "bulk MB/s     securechannel {o:9.1}   rustls {r:9.1}   ratio {:.3}",
        o / r
    );
}

fn rate(mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < HANDSHAKE_TIME {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn our_pair(ccred: &ClientCredential, scred: &ServerCredential) -> (ClientContext, ServerContext) {
    let mut c = ClientContext::new(ccred, "server.test", ContextOptions::default()).unwrap();
    let mut s = ServerContext::new(scred, ContextOptions::default()).unwrap();
    let (mut to_s, mut to_c) = (Vec::with_capacity(4096), Vec::with_capacity(4096));
    c.initialize(&mut [], &mut to_s).unwrap();
    while !(c.is_complete() && s.is_complete()) {
        if !s.is_complete() {
            let st = s.accept(&mut to_s, &mut to_c).unwrap();
            to_s.drain(..st.consumed);
        }
        if !c.is_complete() {
            let st = c.initialize(&mut to_c, &mut to_s).unwrap();
            to_c.drain(..st.consumed);
        }
    }
    (c, s)
}

fn our_handshake(ccred: &ClientCredential, scred: &ServerCredential) {
    our_pair(ccred, scred);
}

fn raw_pair(
    ccfg: &Arc<ClientConfig>,
    scfg: &Arc<ServerConfig>,
) -> (ClientConnection, ServerConnection) {
    let name = ServerName::try_from("server.test").unwrap();
    let mut c = ClientConnection::new(ccfg.clone(), name).unwrap();
    let mut s = ServerConnection::new(scfg.clone()).unwrap();
    let mut buf = Vec::with_capacity(4096);
    while c.is_handshaking() || s.is_handshaking() {
        buf.clear();
        c.write_tls(&mut buf).unwrap();
        feed(&mut buf.as_slice(), |r| s.read_tls(r));
        s.process_new_packets().unwrap();
        buf.clear();
        s.write_tls(&mut buf).unwrap();
        if c.is_handshaking() {
            feed(&mut buf.as_slice(), |r| c.read_tls(r));
            c.process_new_packets().unwrap();
        }
    }
    (c, s)
}

fn raw_handshake(ccfg: &Arc<ClientConfig>, scfg: &Arc<ServerConfig>) {
    raw_pair(ccfg, scfg);
}

fn feed(mut data: &mut &[u8], mut read: impl FnMut(&mut dyn Read) -> std::io::Result<usize>) {
    while !data.is_empty() {
        read(&mut data).unwrap();
    }
}

fn our_throughput(ccred: &ClientCredential, scred: &ServerCredential) -> f64 {
    let (mut c, mut s) = our_pair(ccred, scred);
    let chunk = vec![0x5A; CHUNK];
    let (mut wire, mut plain) = (Vec::with_capacity(CHUNK + 64), Vec::with_capacity(CHUNK));
    let start = Instant::now();
    let mut moved = 0;
    while moved < BULK_BYTES {
        wire.clear();
        c.encrypt(&chunk, &mut wire).unwrap();
        plain.clear();
        let d = s.decrypt(&mut wire, &mut plain).unwrap();
        assert_eq!(d.consumed, wire.len());
        moved += plain.len();
    }
    mb_per_s(moved, start)
}

fn raw_throughput(ccfg: &Arc<ClientConfig>, scfg: &Arc<ServerConfig>) -> f64 {
    let (mut c, mut s) = raw_pair(ccfg, scfg);
    let chunk = vec![0x5A; CHUNK];
    let (mut wire, mut plain) = (Vec::with_capacity(CHUNK + 64), vec![0u8; CHUNK]);
    let start = Instant::now();
    let mut moved = 0;
    while moved < BULK_BYTES {
        c.writer().write_all(&chunk).unwrap();
        wire.clear();
        c.write_tls(&mut wire).unwrap();
        feed(&mut wire.as_slice(), |r| s.read_tls(r));
        s.process_new_packets().unwrap();
        let mut got = 0;
        while got < CHUNK {
            got += s.reader().read(&mut plain[got..]).unwrap();
        }
        moved += got;
    }
    mb_per_s(moved, start)
}

fn mb_per_s(bytes: usize, start: Instant) -> f64 {
    bytes as f64 / (1 << 20) as f64 / start.elapsed().as_secs_f64()
}

/// One root and the server's certificate for server.test (securechannel-testpki); the
/// server sends the root too, on both sides of the comparison.
struct Pki {
    root: Ca,
    server: Leaf,
}

impl Pki {
    fn new() -> Pki {
        let root = Ca::root("Bench Root");
        let server = root.server_leaf(&["server.test"]).with_root(&root);
        Pki { root, server }
    }

    fn roots(&self) -> Arc<RootCertStore> {
        self.root.roots()
    }

    fn raw_configs(&self) -> (Arc<ClientConfig>, Arc<ServerConfig>) {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let c = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(self.roots())
            .with_no_client_auth();
        let mut s = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(self.server.chain.clone(), self.server.private_key())
            .unwrap();
        s.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().unwrap();
        (Arc::new(c), Arc::new(s))
    }
}
