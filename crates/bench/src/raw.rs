//! Raw rustls: the baseline. Configurations with exactly one cipher suite and X25519 as the
//! only group on both sides, aws-lc-rs, the same server-side resumption as the provider
//! (aws-lc-rs ticketer + a 4096-entry session cache), webpki verification of the server
//! against the same root. Driven two ways:
//!
//! - unbuffered (`UnbufferedClientConnection` / `UnbufferedServerConnection`), the engine
//!   style the provider's contexts use: the primary baseline;
//! - buffered (`ClientConnection` / `ServerConnection`), as a reference column.
//!
//! The drive loops are what a direct rustls user writes: input consumed by offset, the
//! output buffer reused, plaintext copied out of the record (as a caller taking the data
//! away must; the buffered reader copies too).

use crate::pki::ServerPki;
use crate::{BoxError, Budget, Sample, Workload};
use rustls::client::UnbufferedClientConnection;
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::server::{ServerSessionMemoryCache, UnbufferedServerConnection};
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncodeTlsData, InsufficientSizeError, UnbufferedStatus,
};
use rustls::{
    ClientConfig, ClientConnection, HandshakeKind, ServerConfig, ServerConnection,
    SupportedCipherSuite, SupportedProtocolVersion,
};
use rustls_pki_types::ServerName;
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Instant;

/// One cipher suite, X25519 only.
pub fn provider(suite: SupportedCipherSuite) -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: vec![suite],
        kx_groups: vec![aws_lc_rs::kx_group::X25519],
        ..aws_lc_rs::default_provider()
    })
}

pub fn client_config(
    suite: SupportedCipherSuite,
    version: &'static SupportedProtocolVersion,
    pki: &ServerPki,
) -> Result<Arc<ClientConfig>, BoxError> {
    let config = ClientConfig::builder_with_provider(provider(suite))
        .with_protocol_versions(&[version])?
        .with_root_certificates(pki.roots.clone())
        .with_no_client_auth();
    Ok(Arc::new(config))
}

pub fn server_config(
    suite: SupportedCipherSuite,
    version: &'static SupportedProtocolVersion,
    pki: &ServerPki,
) -> Result<Arc<ServerConfig>, BoxError> {
    let mut config = ServerConfig::builder_with_provider(provider(suite))
        .with_protocol_versions(&[version])?
        .with_no_client_auth()
        .with_single_cert(pki.chain.clone(), pki.key.clone_key())?;
    // As the provider's server credential: stateless tickets, plus a session cache.
    config.ticketer = aws_lc_rs::Ticketer::new()?;
    config.session_storage = ServerSessionMemoryCache::new(4096);
    Ok(Arc::new(config))
}

/// Names for the handshakes of a run: unique ones make every handshake full (nothing
/// cached under the name), the same one lets the client resume.
pub struct Names {
    resume: bool,
    next: u64,
}

impl Names {
    pub fn new(resume: bool) -> Names {
        Names { resume, next: 0 }
    }

    pub fn next_name(&mut self) -> String {
        if self.resume {
            return format!("resume.{}", crate::pki::DOMAIN);
        }
        self.next += 1;
        format!("h{}.{}", self.next, crate::pki::DOMAIN)
    }
}

// ---------------------------------------------------------------------------------------
// Unbuffered.

trait Unbuffered {
    type Data;
    fn process<'c, 'i>(&'c mut self, input: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data>;
}

impl Unbuffered for UnbufferedClientConnection {
    type Data = rustls::client::ClientConnectionData;
    fn process<'c, 'i>(&'c mut self, input: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(input)
    }
}

impl Unbuffered for UnbufferedServerConnection {
    type Data = rustls::server::ServerConnectionData;
    fn process<'c, 'i>(&'c mut self, input: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(input)
    }
}

/// Feed `input` (whole flights), append output; true once the handshake is done. The
/// consumed bytes are removed from `input`; application data is not expected.
fn step<C: Unbuffered>(
    c: &mut C,
    input: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Result<bool, BoxError> {
    let mut consumed = 0;
    let done = loop {
        let UnbufferedStatus { discard, state } = c.process(&mut input[consumed..]);
        let mut extra = 0;
        let stop = match state? {
            ConnectionState::EncodeTlsData(mut enc) => {
                encode(&mut enc, out)?;
                None
            }
            ConnectionState::TransmitTlsData(t) => {
                t.done();
                None
            }
            ConnectionState::BlockedHandshake => Some(false),
            ConnectionState::WriteTraffic(_) => Some(true),
            ConnectionState::ReadTraffic(mut rt) => {
                while let Some(rec) = rt.next_record() {
                    extra += rec?.discard;
                }
                None
            }
            other => return Err(format!("unexpected rustls state {other:?}").into()),
        };
        consumed += discard + extra;
        if let Some(done) = stop {
            break done;
        }
    };
    input.drain(..consumed);
    Ok(done)
}

/// Append the pending TLS data to `out`. The size is asked first (an empty buffer gets
/// `InsufficientSize` with the exact size), so only the bytes written are zero-filled:
/// a generous 4 KiB buffer zeroed per flight was ~30k instructions of a resumed TLS 1.2
/// handshake, a handicap for the baseline that the provider's contexts do not have.
fn encode<D>(enc: &mut EncodeTlsData<'_, D>, out: &mut Vec<u8>) -> Result<(), BoxError> {
    let start = out.len();
    let required = match enc.encode(&mut []) {
        Ok(_) => return Ok(()),
        Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
            required_size
        }
        Err(e) => return Err(e.into()),
    };
    out.resize(start + required, 0);
    let n = enc.encode(&mut out[start..])?;
    out.truncate(start + n);
    Ok(())
}

/// An established unbuffered pair, or one handshake of it.
pub struct UnbufferedPair {
    client: UnbufferedClientConnection,
    server: UnbufferedServerConnection,
}

impl UnbufferedPair {
    /// Run one handshake to completion, post-handshake messages (tickets) included.
    pub fn handshake(
        client: &Arc<ClientConfig>,
        server: &Arc<ServerConfig>,
        name: String,
    ) -> Result<UnbufferedPair, BoxError> {
        let mut c = UnbufferedClientConnection::new(client.clone(), ServerName::try_from(name)?)?;
        let mut s = UnbufferedServerConnection::new(server.clone())?;
        let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
        let mut client_done = step(&mut c, &mut Vec::new(), &mut to_server)?;
        let mut server_done = false;
        for _ in 0..8 {
            if !to_server.is_empty() {
                server_done = step(&mut s, &mut to_server, &mut to_client)?;
            }
            if !to_client.is_empty() {
                client_done = step(&mut c, &mut to_client, &mut to_server)?;
            }
            if client_done && server_done && to_server.is_empty() && to_client.is_empty() {
                return Ok(UnbufferedPair {
                    client: c,
                    server: s,
                });
            }
        }
        Err("raw unbuffered handshake did not complete in 8 rounds".into())
    }

    fn resumed(&self) -> bool {
        self.client.handshake_kind() == Some(HandshakeKind::Resumed)
    }

    pub fn negotiated(&self) -> (Option<u16>, Option<u16>) {
        (
            self.client
                .negotiated_cipher_suite()
                .map(|s| u16::from(s.suite())),
            self.client
                .negotiated_key_exchange_group()
                .map(|g| u16::from(g.name())),
        )
    }
}

/// Full or resumed handshakes, unbuffered.
pub struct UnbufferedHandshakes {
    pub client: Arc<ClientConfig>,
    pub server: Arc<ServerConfig>,
    pub names: Names,
}

impl Workload for UnbufferedHandshakes {
    fn run_for(&mut self, budget: Budget) -> Result<Sample, BoxError> {
        let start = Instant::now();
        let mut resumed = 0u64;
        let mut n = 0u64;
        while budget.more(start, n) {
            let pair =
                UnbufferedPair::handshake(&self.client, &self.server, self.names.next_name())?;
            resumed += u64::from(pair.resumed());
            n += 1;
        }
        Ok(Sample::handshakes(n, resumed, start.elapsed()))
    }
}

/// 16 KiB records: the client encrypts, the server decrypts.
pub struct UnbufferedBulk {
    pair: UnbufferedPair,
    plaintext: Vec<u8>,
    wire: Vec<u8>,
    received: Vec<u8>,
}

impl UnbufferedBulk {
    pub fn new(pair: UnbufferedPair) -> UnbufferedBulk {
        UnbufferedBulk {
            pair,
            plaintext: crate::record_plaintext(),
            wire: vec![0; crate::RECORD_LEN + 64],
            received: Vec::with_capacity(crate::RECORD_LEN),
        }
    }

    fn one_record(&mut self) -> Result<(), BoxError> {
        let n = match self.pair.client.process_tls_records(&mut []).state? {
            ConnectionState::WriteTraffic(mut wt) => wt.encrypt(&self.plaintext, &mut self.wire)?,
            other => return Err(format!("client cannot write: {other:?}").into()),
        };
        self.received.clear();
        let UnbufferedStatus { mut discard, state } =
            self.pair.server.process_tls_records(&mut self.wire[..n]);
        match state? {
            ConnectionState::ReadTraffic(mut rt) => {
                while let Some(rec) = rt.next_record() {
                    let rec = rec?;
                    discard += rec.discard;
                    self.received.extend_from_slice(rec.payload);
                }
            }
            other => return Err(format!("server cannot read: {other:?}").into()),
        }
        if discard != n || self.received.len() != crate::RECORD_LEN {
            return Err("raw unbuffered: record not consumed whole".into());
        }
        Ok(())
    }
}

impl Workload for UnbufferedBulk {
    fn run_for(&mut self, budget: Budget) -> Result<Sample, BoxError> {
        let start = Instant::now();
        let mut bytes = 0u64;
        while budget.more(start, bytes / crate::RECORD_LEN as u64) {
            self.one_record()?;
            bytes += crate::RECORD_LEN as u64;
        }
        Ok(Sample::bytes(bytes, start.elapsed()))
    }
}

// ---------------------------------------------------------------------------------------
// Buffered (reference).

fn transfer(
    from: &mut dyn rustls_conn::Conn,
    to: &mut dyn rustls_conn::Conn,
    wire: &mut Vec<u8>,
) -> Result<bool, BoxError> {
    wire.clear();
    while from.wants_write() {
        from.write_tls(wire)?;
    }
    if wire.is_empty() {
        return Ok(false);
    }
    let mut rd = &wire[..];
    while !rd.is_empty() {
        to.read_tls(&mut rd)?;
        to.process_new_packets()?;
    }
    Ok(true)
}

/// Object-safe view of the two buffered connection types (they share `ConnectionCommon`
/// through `Deref`, but the methods used here are on the concrete types).
mod rustls_conn {
    use rustls::{ClientConnection, ServerConnection};
    use std::io;

    pub trait Conn {
        fn wants_write(&self) -> bool;
        fn write_tls(&mut self, w: &mut Vec<u8>) -> io::Result<usize>;
        fn read_tls(&mut self, r: &mut &[u8]) -> io::Result<usize>;
        fn process_new_packets(&mut self) -> Result<(), rustls::Error>;
    }

    macro_rules! conn {
        ($t:ty) => {
            impl Conn for $t {
                fn wants_write(&self) -> bool {
                    (**self).wants_write()
                }
                fn write_tls(&mut self, w: &mut Vec<u8>) -> io::Result<usize> {
                    (**self).write_tls(w)
                }
                fn read_tls(&mut self, r: &mut &[u8]) -> io::Result<usize> {
                    (**self).read_tls(r)
                }
                fn process_new_packets(&mut self) -> Result<(), rustls::Error> {
                    (**self).process_new_packets().map(|_| ())
                }
            }
        };
    }
    conn!(ClientConnection);
    conn!(ServerConnection);
}

pub struct BufferedPair {
    client: ClientConnection,
    server: ServerConnection,
    wire: Vec<u8>,
}

impl BufferedPair {
    pub fn handshake(
        client: &Arc<ClientConfig>,
        server: &Arc<ServerConfig>,
        name: String,
    ) -> Result<BufferedPair, BoxError> {
        let mut c = ClientConnection::new(client.clone(), ServerName::try_from(name)?)?;
        let mut s = ServerConnection::new(server.clone())?;
        let mut wire = Vec::new();
        for _ in 0..8 {
            let a = transfer(&mut c, &mut s, &mut wire)?;
            let b = transfer(&mut s, &mut c, &mut wire)?;
            if !a && !b && !c.is_handshaking() && !s.is_handshaking() {
                return Ok(BufferedPair {
                    client: c,
                    server: s,
                    wire,
                });
            }
        }
        Err("raw buffered handshake did not complete in 8 rounds".into())
    }
}

pub struct BufferedHandshakes {
    pub client: Arc<ClientConfig>,
    pub server: Arc<ServerConfig>,
    pub names: Names,
}

impl Workload for BufferedHandshakes {
    fn run_for(&mut self, budget: Budget) -> Result<Sample, BoxError> {
        let start = Instant::now();
        let mut resumed = 0u64;
        let mut n = 0u64;
        while budget.more(start, n) {
            let pair = BufferedPair::handshake(&self.client, &self.server, self.names.next_name())?;
            resumed += u64::from(pair.client.handshake_kind() == Some(HandshakeKind::Resumed));
            n += 1;
        }
        Ok(Sample::handshakes(n, resumed, start.elapsed()))
    }
}

pub struct BufferedBulk {
    pair: BufferedPair,
    plaintext: Vec<u8>,
    received: Vec<u8>,
}

impl BufferedBulk {
    pub fn new(pair: BufferedPair) -> BufferedBulk {
        BufferedBulk {
            pair,
            plaintext: crate::record_plaintext(),
            received: vec![0; crate::RECORD_LEN],
        }
    }

    fn one_record(&mut self) -> Result<(), BoxError> {
        let p = &mut self.pair;
        p.client.writer().write_all(&self.plaintext)?;
        if !transfer(&mut p.client, &mut p.server, &mut p.wire)? {
            return Err("raw buffered: nothing was written".into());
        }
        let mut got = 0;
        while got < crate::RECORD_LEN {
            match p.server.reader().read(&mut self.received[got..]) {
                Ok(0) => return Err("raw buffered: connection closed".into()),
                Ok(k) => got += k,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

impl Workload for BufferedBulk {
    fn run_for(&mut self, budget: Budget) -> Result<Sample, BoxError> {
        let start = Instant::now();
        let mut bytes = 0u64;
        while budget.more(start, bytes / crate::RECORD_LEN as u64) {
            self.one_record()?;
            bytes += crate::RECORD_LEN as u64;
        }
        Ok(Sample::bytes(bytes, start.elapsed()))
    }
}
