//! The rustls adapter: the only file that names rustls' unbuffered connection types
//! (`UnbufferedClientConnection`, `UnbufferedServerConnection`, `ConnectionState`,
//! `process_tls_records`). Contexts (context.rs) see [`Engine`] and the project's own types.
//!
//! Besides driving the connection, this file holds the tables that turn what rustls
//! negotiated or refused into Schannel's vocabulary: cipher suites and key exchanges as
//! 36880 and the connection-info query name them, and the rustls `Error` → (alert we sent,
//! internal error state, SSPI status) table that 36888 and the caller's status come from.

use crate::credential::CredentialShared;
use crate::{verify, ErrorState, Protocol};
use rustls::client::UnbufferedClientConnection;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, UnbufferedServerConnection};
use rustls::sign::CertifiedKey;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncodeTlsData, EncryptError, InsufficientSizeError,
    UnbufferedStatus,
};
use rustls::{ClientConfig, CommonState, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::ServerName;
use securechannel_events::{AlertDescription, Status};
use std::cell::RefCell;
use std::sync::{Arc, Mutex, OnceLock};

/// The TLS record header: content type, version, length.
pub(crate) const RECORD_HEADER_LEN: usize = 5;
/// The largest plaintext one record carries (RFC 8446 section 5.1).
pub(crate) const MAX_FRAGMENT_LEN: usize = 16384;

// ---------------------------------------------------------------------------------------
// Configurations, built once per credential and reused (the per-context cost of a
// handshake is then rustls' own).

/// The rustls configurations built from one credential: client configs keyed by whether
/// SNI is sent (ALPN is per connection on the client), server configs keyed by their ALPN
/// list. The server's ticketer and session cache are shared by all its configs, so a
/// ticket issued under one ALPN set resumes under another.
/// A server's ALPN protocols, in preference order.
type AlpnList = Vec<Vec<u8>>;

#[derive(Default)]
pub(crate) struct ConfigCache {
    client: Mutex<Vec<(bool, Arc<ClientConfig>)>>,
    server: Mutex<Vec<(AlpnList, Arc<ServerConfig>)>>,
    server_resumption: OnceLock<ServerResumption>,
    local_subject: OnceLock<String>,
    /// The last peer certificate seen and its subject: a client talking to one server, or
    /// a server seeing one client again, parses it once (36880 only).
    remote_subject: Mutex<Option<(Vec<u8>, Arc<str>)>>,
}

#[derive(Clone)]
struct ServerResumption {
    ticketer: Option<Arc<dyn rustls::server::ProducesTickets>>,
    sessions: Arc<dyn rustls::server::StoresServerSessions>,
}

/// Why no configuration could be built.
#[derive(Debug)]
pub(crate) enum ConfigError {
    /// The effective protocols x cipher suites leave nothing usable (36873 on a client).
    NoCipherSuite,
    /// Something else: the verifier could not be built, rustls refused the configuration.
    Other(crate::Error),
}

impl ConfigCache {
    /// The subject name of the credential's own end-entity certificate, for 36880
    /// (parsed once per credential).
    pub(crate) fn local_subject(&self, shared: &CredentialShared) -> &str {
        self.local_subject.get_or_init(|| {
            shared
                .certified_key
                .as_ref()
                .and_then(|k| k.cert.first())
                .map(|c| subject_name(c.as_ref()))
                .unwrap_or_default()
        })
    }
}

impl ConfigCache {
    /// The subject name of a peer's end-entity certificate, for 36880.
    pub(crate) fn remote_subject(&self, der: &[u8]) -> Arc<str> {
        let mut last = lock(&self.remote_subject);
        if let Some((d, s)) = last.as_ref() {
            if d.as_slice() == der {
                return s.clone();
            }
        }
        let subject: Arc<str> = subject_name(der).into();
        *last = Some((der.to_vec(), subject.clone()));
        subject
    }
}

/// The client configuration for `shared`, built on first use.
pub(crate) fn client_config(
    shared: &CredentialShared,
    send_sni: bool,
) -> Result<Arc<ClientConfig>, ConfigError> {
    let cache = &shared.tls_configs;
    if let Some(c) = lock(&cache.client).iter().find(|c| c.0 == send_sni) {
        return Ok(c.1.clone());
    }
    let provider = crypto_provider(shared);
    let config = Arc::new(build_client_config(shared, provider, send_sni)?);
    lock(&cache.client).push((send_sni, config.clone()));
    Ok(config)
}

fn build_client_config(
    shared: &CredentialShared,
    provider: Arc<CryptoProvider>,
    send_sni: bool,
) -> Result<ClientConfig, ConfigError> {
    let versions = usable_versions(shared, &provider)?;
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(engine_config_error)?
        .dangerous()
        .with_custom_certificate_verifier(
            verify::server_verifier(shared).map_err(ConfigError::Other)?,
        );
    let mut config = builder.with_client_cert_resolver(verify::client_cert_resolver(shared));
    config.enable_sni = send_sni;
    // Resumption stays at rustls' default: an in-memory cache of 256 sessions, shared by
    // every context of this credential because the config is.
    Ok(config)
}

/// The server configuration for `shared` offering `alpn`, built on first use.
pub(crate) fn server_config(
    shared: &CredentialShared,
    alpn: &[Vec<u8>],
) -> Result<Arc<ServerConfig>, ConfigError> {
    let cache = &shared.tls_configs;
    if let Some(c) = lock(&cache.server).iter().find(|c| c.0 == alpn) {
        return Ok(c.1.clone());
    }
    let provider = crypto_provider(shared);
    let resumption = cache
        .server_resumption
        .get_or_init(|| ServerResumption {
            // Without a ticketer rustls still resumes through the session cache (stateful
            // tickets in TLS 1.3, session IDs in TLS 1.2); a failing RNG is the only cause.
            ticketer: rustls::crypto::aws_lc_rs::Ticketer::new().ok(),
            sessions: rustls::server::ServerSessionMemoryCache::new(4096),
        })
        .clone();
    let config = Arc::new(build_server_config(shared, provider, alpn, resumption)?);
    lock(&cache.server).push((alpn.to_vec(), config.clone()));
    Ok(config)
}

fn build_server_config(
    shared: &CredentialShared,
    provider: Arc<CryptoProvider>,
    alpn: &[Vec<u8>],
    resumption: ServerResumption,
) -> Result<ServerConfig, ConfigError> {
    let versions = usable_versions(shared, &provider)?;
    let builder = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(engine_config_error)?;
    let builder = match verify::client_verifier(shared).map_err(ConfigError::Other)? {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(ServerCertificate {
        key: shared.certified_key.clone(),
    }));
    // Schannel servers choose the cipher suite by their own order (the cipher suite order
    // setting, which the provider's suite list follows), not the client's: the first of
    // ours the client offers wins. rustls defaults to the client's order.
    config.ignore_client_order = true;
    config.alpn_protocols = alpn.to_vec();
    config.session_storage = resumption.sessions;
    if let Some(t) = resumption.ticketer {
        config.ticketer = t;
    }
    Ok(config)
}

/// The crypto provider of a credential: aws-lc-rs with the cipher suites and key
/// exchange groups the SCHANNEL settings leave (Ciphers, Hashes, KeyExchangeAlgorithms,
/// the cipher suite order and EccCurves), for the protocols this credential may use.
fn crypto_provider(shared: &CredentialShared) -> Arc<CryptoProvider> {
    shared
        .settings
        .crypto_provider_for(&credential_protocols(shared))
}

/// The protocols of a credential: the settings' defaults, or the credential's own list
/// (which may name a protocol that is disabled by default, never a disabled one).
fn credential_protocols(shared: &CredentialShared) -> Vec<Protocol> {
    shared
        .settings
        .protocols_for(shared.role, &shared.options.protocols)
}

/// The rustls versions both the settings and the credential enable, checked against the
/// provider's suites: an empty result is "no usable cipher suite".
fn usable_versions(
    shared: &CredentialShared,
    provider: &CryptoProvider,
) -> Result<Vec<&'static SupportedProtocolVersion>, ConfigError> {
    let versions: Vec<&'static SupportedProtocolVersion> = credential_protocols(shared)
        .into_iter()
        .filter_map(|p| match p {
            Protocol::Tls13 => Some(&rustls::version::TLS13),
            Protocol::Tls12 => Some(&rustls::version::TLS12),
            _ => None,
        })
        .filter(|v| provider.cipher_suites.iter().any(|s| s.version() == *v))
        .collect();
    if versions.is_empty() || provider.kx_groups.is_empty() {
        return Err(ConfigError::NoCipherSuite);
    }
    Ok(versions)
}

fn engine_config_error(e: rustls::Error) -> ConfigError {
    if matches!(&e, rustls::Error::General(_)) && provider_error_means_no_suite(&e) {
        return ConfigError::NoCipherSuite;
    }
    ConfigError::Other(
        crate::Error::new(
            Status::InternalError,
            "the TLS engine rejected the configuration",
        )
        .with_state(ErrorState::EngineConfiguration)
        .with_source(e),
    )
}

/// rustls refuses a provider with no suite for the chosen versions with a General error.
fn provider_error_means_no_suite(e: &rustls::Error) -> bool {
    matches!(e, rustls::Error::General(m) if m.contains("cipher suite"))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves a Vec of Arcs, which is still consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The server's certificate, handed to rustls for every ClientHello. It also records the
/// SNI name the client sent (rustls 0.23's unbuffered server connection has no accessor
/// for it); resolution runs synchronously inside `process_tls_records`, on the caller's
/// thread, so a thread-local hand-off is exact.
#[derive(Debug)]
struct ServerCertificate {
    key: Option<Arc<CertifiedKey>>,
}

thread_local! {
    static CLIENT_SNI: RefCell<Option<String>> = const { RefCell::new(None) };
}

impl ResolvesServerCert for ServerCertificate {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sni = client_hello.server_name().map(str::to_owned);
        CLIENT_SNI.with(|s| *s.borrow_mut() = sni);
        // None makes rustls refuse the hello with access_denied (ErrorState 3014).
        self.key.clone()
    }
}

// ---------------------------------------------------------------------------------------
// The engine: one unbuffered rustls connection, driven the way SSPI calls drive it.

/// One side's rustls connection.
pub(crate) struct Engine {
    conn: Conn,
    /// Server: the SNI name the client sent.
    sni: Option<String>,
    /// The peer sent close_notify (rustls reports it once, as a state).
    peer_closed: bool,
}

enum Conn {
    Client(Box<UnbufferedClientConnection>),
    Server(Box<UnbufferedServerConnection>),
}

/// What rustls' unbuffered connections have in common, so the drive loops are written
/// once for both sides.
trait Unbuffered {
    type Data;
    fn common(&self) -> &CommonState;
    fn process<'c, 'i>(&'c mut self, input: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data>;
}

impl Unbuffered for UnbufferedClientConnection {
    type Data = rustls::client::ClientConnectionData;
    fn common(&self) -> &CommonState {
        self
    }
    fn process<'c, 'i>(&'c mut self, input: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(input)
    }
}

impl Unbuffered for UnbufferedServerConnection {
    type Data = rustls::server::ServerConnectionData;
    fn common(&self) -> &CommonState {
        self
    }
    fn process<'c, 'i>(&'c mut self, input: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(input)
    }
}

/// The outcome of one handshake call.
pub(crate) struct Handshake {
    /// Input bytes rustls is done with; the rest is the caller's to hand back.
    pub(crate) consumed: usize,
    /// Bytes appended to the output (handshake messages, and the alert after a failure).
    pub(crate) written: usize,
    /// Bytes rustls had queued when it failed: its fatal alert (behind any message queued
    /// in the same breath). Zero when it sent none, e.g. for a received alert; bytes
    /// written before the failure (a TLS 1.3 client's compatibility ChangeCipherSpec)
    /// do not count.
    pub(crate) alert_written: usize,
    pub(crate) result: Result<HandshakeProgress, rustls::Error>,
    /// close_notify arrived right behind the handshake.
    pub(crate) peer_closed: bool,
}

/// Where the handshake stands after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandshakeProgress {
    /// rustls needs more input.
    Blocked,
    /// rustls says the handshake is complete.
    Complete,
}

/// The outcome of one read (decrypt) call.
pub(crate) struct Read {
    pub(crate) consumed: usize,
    /// Plaintext bytes appended.
    pub(crate) plaintext: usize,
    /// What rustls had queued when it failed (its alert), as for [`Handshake`]; other
    /// post-handshake TLS bytes (a key update answer) may be in the output too.
    pub(crate) alert_written: usize,
    /// close_notify arrived in this call.
    pub(crate) peer_closed: bool,
    pub(crate) result: Result<(), rustls::Error>,
}

macro_rules! with_conn {
    ($engine:expr, $c:ident => $body:expr) => {
        match &mut $engine.conn {
            Conn::Client($c) => $body,
            Conn::Server($c) => $body,
        }
    };
}

impl Engine {
    /// A client connection to `name`, offering `alpn`.
    pub(crate) fn client(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        alpn: Vec<Vec<u8>>,
    ) -> Result<Engine, rustls::Error> {
        let conn = UnbufferedClientConnection::new_with_alpn(config, name, alpn)?;
        Ok(Engine {
            conn: Conn::Client(Box::new(conn)),
            sni: None,
            peer_closed: false,
        })
    }

    /// A server connection.
    pub(crate) fn server(config: Arc<ServerConfig>) -> Result<Engine, rustls::Error> {
        let conn = UnbufferedServerConnection::new(config)?;
        Ok(Engine {
            conn: Conn::Server(Box::new(conn)),
            sni: None,
            peer_closed: false,
        })
    }

    fn common(&self) -> &CommonState {
        match &self.conn {
            Conn::Client(c) => c,
            Conn::Server(c) => c,
        }
    }

    /// Feed handshake input, append output. Application data that arrives with the last
    /// handshake flight is appended to `early_plaintext` (it is never dropped).
    pub(crate) fn handshake(
        &mut self,
        input: &mut [u8],
        out: &mut Vec<u8>,
        early_plaintext: &mut Vec<u8>,
    ) -> Handshake {
        let h = with_conn!(self, c => drive_handshake(&mut **c, input, out, early_plaintext));
        self.peer_closed |= h.peer_closed;
        if matches!(self.conn, Conn::Server(_)) {
            if let Some(sni) = CLIENT_SNI.with(|s| s.borrow_mut().take()) {
                self.sni = Some(sni);
            }
        }
        h
    }

    /// Decrypt every complete record of `input`, appending plaintext to `plaintext` and
    /// any TLS bytes rustls must send in answer (key update, alert) to `out`.
    pub(crate) fn read(
        &mut self,
        input: &mut [u8],
        plaintext: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Read {
        let r = with_conn!(self, c => drive_read(&mut **c, input, plaintext, out));
        self.peer_closed |= r.peer_closed;
        r
    }

    /// Encrypt `plaintext` into records appended to `out`.
    pub(crate) fn write(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), WriteError> {
        let room = write_room(plaintext.len());
        let closed = &mut self.peer_closed;
        with_conn!(self, c => drive_write(&mut **c, out, room, closed, |wt, buf| wt.encrypt(plaintext, buf)))
    }

    /// Encrypt `plaintext` into records written at the start of `out` (the caller's
    /// buffer, already initialised: nothing is zeroed or copied on our side); returns
    /// the bytes written. Post-handshake messages rustls must send first (a key update)
    /// go to `pending`. `WriteError::TooSmall` says how much room rustls needs.
    pub(crate) fn write_into(
        &mut self,
        plaintext: &[u8],
        out: &mut [u8],
        pending: &mut Vec<u8>,
    ) -> Result<usize, WriteError> {
        let closed = &mut self.peer_closed;
        with_conn!(self, c => drive_write_into(&mut **c, out, pending, closed, |wt, buf| wt.encrypt(plaintext, buf)))
    }

    /// Append a close_notify alert to `out`.
    pub(crate) fn close(&mut self, out: &mut Vec<u8>) -> Result<(), WriteError> {
        let closed = &mut self.peer_closed;
        with_conn!(self, c => drive_write(&mut **c, out, 64, closed, |wt, buf| wt.queue_close_notify(buf)))
    }

    /// Whether rustls still considers the handshake in progress.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.common().is_handshaking()
    }

    /// Whether the peer sent close_notify.
    pub(crate) fn peer_has_closed(&self) -> bool {
        self.peer_closed
    }

    /// The negotiated protocol.
    pub(crate) fn protocol(&self) -> Option<Protocol> {
        self.common()
            .protocol_version()
            .and_then(|v| Protocol::from_wire(u16::from(v)))
    }

    /// The negotiated cipher suite's IANA number.
    pub(crate) fn cipher_suite(&self) -> Option<u16> {
        self.common()
            .negotiated_cipher_suite()
            .map(|s| u16::from(s.suite()))
    }

    /// The negotiated key-exchange group's IANA number.
    pub(crate) fn key_exchange_group(&self) -> Option<u16> {
        self.common()
            .negotiated_key_exchange_group()
            .map(|g| u16::from(g.name()))
    }

    /// The negotiated ALPN protocol.
    pub(crate) fn alpn(&self) -> Option<&[u8]> {
        self.common().alpn_protocol()
    }

    /// Whether this handshake resumed a session.
    pub(crate) fn resumed(&self) -> Option<bool> {
        self.common()
            .handshake_kind()
            .map(|k| k == rustls::HandshakeKind::Resumed)
    }

    /// The peer's certificate chain (DER, end-entity first).
    pub(crate) fn peer_certificates(&self) -> Option<&[rustls_pki_types::CertificateDer<'static>]> {
        self.common().peer_certificates()
    }

    /// Server: the SNI name the client sent.
    pub(crate) fn sni(&self) -> Option<&str> {
        self.sni.as_deref()
    }
}

fn drive_handshake<C: Unbuffered>(
    c: &mut C,
    input: &mut [u8],
    out: &mut Vec<u8>,
    early_plaintext: &mut Vec<u8>,
) -> Handshake {
    let start = out.len();
    let mut consumed = 0;
    let mut peer_closed = false;
    let result = loop {
        let UnbufferedStatus { discard, state } = c.process(&mut input[consumed..]);
        let mut extra_discard = 0;
        let step = match state {
            Err(e) => Some(Err(e)),
            Ok(ConnectionState::EncodeTlsData(mut enc)) => match encode(&mut enc, out) {
                Ok(()) => None,
                Err(e) => Some(Err(e)),
            },
            // The bytes stay in `out` for the caller to send; rustls only needs to know
            // they are on their way.
            Ok(ConnectionState::TransmitTlsData(t)) => {
                t.done();
                None
            }
            Ok(ConnectionState::BlockedHandshake) => Some(Ok(HandshakeProgress::Blocked)),
            Ok(ConnectionState::WriteTraffic(_)) => Some(Ok(HandshakeProgress::Complete)),
            Ok(ConnectionState::ReadTraffic(mut rt)) => {
                while let Some(rec) = rt.next_record() {
                    match rec {
                        Ok(rec) => {
                            extra_discard += rec.discard;
                            early_plaintext.extend_from_slice(rec.payload);
                        }
                        Err(e) => {
                            consumed += discard + extra_discard;
                            return failed(c, consumed, out, start, e);
                        }
                    }
                }
                None
            }
            // close_notify right after the handshake: the handshake is complete, the
            // context's reads report the closure.
            Ok(ConnectionState::PeerClosed) | Ok(ConnectionState::Closed) => {
                peer_closed = true;
                Some(Ok(HandshakeProgress::Complete))
            }
            // Early data is not enabled on our server configs; any future state is a
            // protocol state we do not drive.
            Ok(_) => Some(Err(rustls::Error::General(
                "unexpected TLS engine state during the handshake".into(),
            ))),
        };
        consumed += discard + extra_discard;
        if let Some(r) = step {
            break r;
        }
    };
    // With half-RTT data a TLS 1.3 server may write before the client's Finished; the
    // handshake is complete only when rustls says so.
    let result = match result {
        Ok(HandshakeProgress::Complete) if c.common().is_handshaking() => {
            Ok(HandshakeProgress::Blocked)
        }
        r => r,
    };
    match result {
        Ok(p) => Handshake {
            consumed,
            written: out.len() - start,
            result: Ok(p),
            alert_written: 0,
            peer_closed,
        },
        Err(e) => failed(c, consumed, out, start, e),
    }
}

/// After rustls failed: collect the alert it queued (if any) into `out`.
fn failed<C: Unbuffered>(
    c: &mut C,
    consumed: usize,
    out: &mut Vec<u8>,
    start: usize,
    e: rustls::Error,
) -> Handshake {
    let alert_written = drain_alert(c, out);
    Handshake {
        consumed,
        written: out.len() - start,
        alert_written,
        result: Err(e),
        peer_closed: false,
    }
}

/// rustls queues the fatal alert of a failure (behind any message queued earlier in the
/// same call); each following call hands out one queued chunk before it looks at input.
/// Only call while something is queued: past that point rustls would deframe again,
/// either reaching the same bad record (and alerting twice) or a handshake message its
/// deframer still holds from the failed flight. Bounded by what rustls queued.
fn drain_alert<C: Unbuffered>(c: &mut C, out: &mut Vec<u8>) -> usize {
    let start = out.len();
    while c.common().wants_write() {
        let st = c.process(&mut []);
        match st.state {
            Ok(ConnectionState::EncodeTlsData(mut enc)) => {
                if encode(&mut enc, out).is_err() {
                    break;
                }
            }
            _ => break,
        }
    }
    out.len() - start
}

thread_local! {
    /// Initialised room rustls encodes handshake records into. rustls writes into a
    /// `&mut [u8]`; growing the caller's `Vec` for that zero-fills the room on every
    /// message (4 KiB, several times per handshake), while this buffer is zeroed once per
    /// thread and only the bytes rustls wrote are copied out.
    static ENCODE_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The scratch buffer starts at this size: most handshake chunks fit; a certificate
/// chain may not, then rustls says how much it needs and the buffer grows for good.
const ENCODE_SCRATCH_LEN: usize = 4096;

fn encode<D>(enc: &mut EncodeTlsData<'_, D>, out: &mut Vec<u8>) -> Result<(), rustls::Error> {
    ENCODE_SCRATCH.with(|scratch| {
        // Not re-entrant: rustls calls nothing of ours while encoding.
        let mut buf = scratch.borrow_mut();
        if buf.len() < ENCODE_SCRATCH_LEN {
            buf.resize(ENCODE_SCRATCH_LEN, 0);
        }
        let r = match enc.encode(&mut buf[..]) {
            Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
                let len = required_size.max(buf.len());
                buf.resize(len, 0);
                enc.encode(&mut buf[..])
            }
            r => r,
        };
        match r {
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Err(e) => Err(rustls::Error::General(format!(
                "cannot encode a handshake record: {e}"
            ))),
        }
    })
}

fn drive_read<C: Unbuffered>(
    c: &mut C,
    input: &mut [u8],
    plaintext: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Read {
    let p0 = plaintext.len();
    let mut consumed = 0;
    let mut peer_closed = false;
    let result = loop {
        let UnbufferedStatus { discard, state } = c.process(&mut input[consumed..]);
        let mut extra_discard = 0;
        let stop = match state {
            Ok(ConnectionState::ReadTraffic(mut rt)) => {
                let mut r = None;
                while let Some(rec) = rt.next_record() {
                    match rec {
                        Ok(rec) => {
                            extra_discard += rec.discard;
                            plaintext.extend_from_slice(rec.payload);
                        }
                        Err(e) => {
                            r = Some(Err(e));
                            break;
                        }
                    }
                }
                r
            }
            Ok(ConnectionState::EncodeTlsData(mut enc)) => encode(&mut enc, out).err().map(Err),
            Ok(ConnectionState::TransmitTlsData(t)) => {
                t.done();
                None
            }
            Ok(ConnectionState::PeerClosed) => {
                peer_closed = true;
                None
            }
            // No complete record left (WriteTraffic), or both sides closed.
            Ok(_) => Some(Ok(())),
            Err(e) => Some(Err(e)),
        };
        consumed += discard + extra_discard;
        if let Some(r) = stop {
            break r;
        }
    };
    let alert_written = if result.is_err() {
        drain_alert(c, out)
    } else {
        0
    };
    Read {
        consumed,
        plaintext: plaintext.len() - p0,
        alert_written,
        peer_closed,
        result,
    }
}

/// Room for `len` bytes of plaintext: each record's header, nonce, tag and content type.
pub(crate) fn write_room(len: usize) -> usize {
    len + (len / MAX_FRAGMENT_LEN + 1) * 64
}

/// Why a write (encrypt, close) could not be done.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The caller's buffer is smaller than the records (`required` bytes).
    TooSmall { required: usize },
    /// The handshake is not complete.
    NotReady,
    /// Both sides closed the connection.
    Closed,
    /// rustls refused (the sequence number space is exhausted, an earlier failure).
    Engine(rustls::Error),
}

fn drive_write<C: Unbuffered>(
    c: &mut C,
    out: &mut Vec<u8>,
    room: usize,
    peer_closed: &mut bool,
    mut write: impl FnMut(
        &mut rustls::unbuffered::WriteTraffic<'_, C::Data>,
        &mut [u8],
    ) -> Result<usize, EncryptError>,
) -> Result<(), WriteError> {
    // Messages rustls queues first (a key update) go to `out` too, ahead of the records.
    drive_to_write(c, out, peer_closed, |wt, out| {
        let start = out.len();
        // rustls says precisely how much room it needs when `room` is not enough.
        out.resize(start + room, 0);
        let mut r = write(wt, &mut out[start..]);
        if let Err(EncryptError::InsufficientSize(InsufficientSizeError { required_size })) = r {
            out.resize(start + required_size, 0);
            r = write(wt, &mut out[start..]);
        }
        match r {
            Ok(n) => {
                out.truncate(start + n);
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(encrypt_failed(e))
            }
        }
    })
}

/// [`drive_write`] into the caller's slice; what rustls queues first goes to `pending`.
fn drive_write_into<C: Unbuffered>(
    c: &mut C,
    out: &mut [u8],
    pending: &mut Vec<u8>,
    peer_closed: &mut bool,
    mut write: impl FnMut(
        &mut rustls::unbuffered::WriteTraffic<'_, C::Data>,
        &mut [u8],
    ) -> Result<usize, EncryptError>,
) -> Result<usize, WriteError> {
    drive_to_write(c, pending, peer_closed, |wt, _| match write(wt, out) {
        Ok(n) => Ok(n),
        Err(EncryptError::InsufficientSize(InsufficientSizeError { required_size })) => {
            Err(WriteError::TooSmall {
                required: required_size,
            })
        }
        Err(e) => Err(encrypt_failed(e)),
    })
}

/// Drive the connection to the state that allows writing and hand it to `on_write`.
/// Bounded: pending post-handshake messages (a key update) are encoded into `queue`
/// first, then the write happens.
fn drive_to_write<C: Unbuffered, R>(
    c: &mut C,
    queue: &mut Vec<u8>,
    peer_closed: &mut bool,
    mut on_write: impl FnMut(
        &mut rustls::unbuffered::WriteTraffic<'_, C::Data>,
        &mut Vec<u8>,
    ) -> Result<R, WriteError>,
) -> Result<R, WriteError> {
    for _ in 0..16 {
        let st = c.process(&mut []);
        match st.state {
            Ok(ConnectionState::WriteTraffic(mut wt)) => return on_write(&mut wt, queue),
            Ok(ConnectionState::EncodeTlsData(mut enc)) => {
                encode(&mut enc, queue).map_err(WriteError::Engine)?;
            }
            Ok(ConnectionState::TransmitTlsData(t)) => t.done(),
            Ok(ConnectionState::PeerClosed) => *peer_closed = true,
            Ok(ConnectionState::Closed) => return Err(WriteError::Closed),
            Ok(_) => return Err(WriteError::NotReady),
            Err(e) => return Err(WriteError::Engine(e)),
        }
    }
    Err(WriteError::NotReady)
}

/// rustls refused to encrypt for a reason other than the buffer's size.
fn encrypt_failed(e: EncryptError) -> WriteError {
    WriteError::Engine(rustls::Error::General(format!("cannot encrypt: {e}")))
}

/// How many bytes complete the first incomplete record of `buf` (`None` while its header
/// itself is incomplete, or when every record is complete and rustls wants the next one).
pub(crate) fn missing_bytes(buf: &[u8]) -> Option<usize> {
    let mut at = 0;
    while buf.len() - at >= RECORD_HEADER_LEN {
        let len = usize::from(u16::from_be_bytes([buf[at + 3], buf[at + 4]]));
        let end = at + RECORD_HEADER_LEN + len;
        if end > buf.len() {
            return Some(end - buf.len());
        }
        at = end;
    }
    None
}

/// The subject of a DER certificate as 36880 prints it (RFC 4514 style: `CN=host, O=org`);
/// empty when it does not parse.
pub(crate) fn subject_name(der: &[u8]) -> String {
    crate::store::subject_name(der).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Legacy hellos: rustls' own protocol_version alert for a client it cannot speak with.

/// The ClientHello a TLS 1.0 client with a TLS 1.2-era stack sends, fixed once: record
/// and `client_version` 3.1, four ECDHE/RSA suites, null compression, a
/// `signature_algorithms` extension and no `supported_versions`.
///
/// Why it exists: Schannel answers every legacy hello (SSLv2-compatible, SSL 3.0, TLS 1.0,
/// TLS 1.1) with protocol_version (70), and this provider never encodes a TLS record
/// itself. rustls 0.23.46 does send protocol_version for such a hello, but only once it
/// reaches its version check (`with_certified_key` in server/hs.rs); before that,
/// `process_client_hello` refuses a hello without `signature_algorithms` (which SSL 3.0 and
/// TLS 1.0/1.1-only clients never send) with handshake_failure, and its deframer refuses
/// the SSLv2 framing with decode_error. So the client's own hello is not what rustls reads:
/// this one is, and it passes every earlier check and fails the version check whatever
/// the server config enables (`client_version` below 1.2 and no `supported_versions` is
/// `Tls12NotOffered` with TLS 1.2 and 1.3 alike). The alert is then rustls' bytes.
fn canonical_legacy_hello() -> &'static [u8] {
    static HELLO: OnceLock<Vec<u8>> = OnceLock::new();
    HELLO.get_or_init(|| {
        const TLS10: [u8; 2] = [3, 1];
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&TLS10); // client_version
        body.extend_from_slice(&[0x5c; 32]); // random: rustls never gets to use it
        body.push(0); // no session ID
                      // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                      // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_128_CBC_SHA.
        let suites = [0xC0, 0x2F, 0xC0, 0x2B, 0xC0, 0x13, 0x00, 0x2F];
        body.extend_from_slice(&(suites.len() as u16).to_be_bytes());
        body.extend_from_slice(&suites);
        body.extend_from_slice(&[1, 0]); // compression: null only
                                         // signature_algorithms (13): ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256,
                                         // rsa_pkcs1_sha256.
        let schemes = [0x04, 0x03, 0x08, 0x04, 0x04, 0x01];
        let mut ext = Vec::new();
        ext.extend_from_slice(&13u16.to_be_bytes());
        ext.extend_from_slice(&(schemes.len() as u16 + 2).to_be_bytes());
        ext.extend_from_slice(&(schemes.len() as u16).to_be_bytes());
        ext.extend_from_slice(&schemes);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut record = vec![22, TLS10[0], TLS10[1]];
        record.extend_from_slice(&(body.len() as u16 + 4).to_be_bytes());
        record.push(1); // ClientHello
        record.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        record.extend_from_slice(&body);
        record
    })
}

/// Append to `out` the protocol_version alert rustls sends a TLS 1.0 client under
/// `config` (see [`canonical_legacy_hello`]), and return rustls' failure for it. `None`
/// (and nothing appended) when rustls did anything else than fail with one alert: the
/// caller then lets the engine answer the client's own hello.
pub(crate) fn legacy_protocol_version_alert(
    config: Arc<ServerConfig>,
    out: &mut Vec<u8>,
) -> Option<rustls::Error> {
    let mut conn = UnbufferedServerConnection::new(config).ok()?;
    let mut input = canonical_legacy_hello().to_vec();
    let mut alert = Vec::new();
    let h = drive_handshake(&mut conn, &mut input, &mut alert, &mut Vec::new());
    // Nothing of this throwaway connection may reach the next context on this thread.
    CLIENT_SNI.with(|s| s.borrow_mut().take());
    match h.result {
        Err(e)
            if verdict(&e).alert == AlertDescription::PROTOCOL_VERSION
                && h.alert_written > 0
                && h.written == h.alert_written =>
        {
            out.extend_from_slice(&alert);
            Some(e)
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Tables: negotiated parameters as Schannel names them.

/// A cipher suite as 36880 and the connection-info query name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SuiteInfo {
    /// IANA number (0x1302).
    pub(crate) number: u16,
    /// IANA name (`TLS_AES_256_GCM_SHA384`).
    pub(crate) name: &'static str,
    /// Bulk cipher as Schannel names it (`AES_256_GCM`).
    pub(crate) cipher: &'static str,
    /// Cipher key length in bits.
    pub(crate) cipher_strength: u32,
    /// The hash of the suite's PRF / HKDF (`SHA384`).
    pub(crate) prf_hash: &'static str,
    /// Record overhead after the 5-byte header: explicit nonce + tag (+ TLS 1.3's inner
    /// content type), as StreamSizes' trailer.
    pub(crate) trailer_tls12: usize,
}

/// Every suite the aws-lc-rs provider offers. MAC is "AEAD" for all of them: every suite
/// rustls speaks authenticates with its AEAD, the hash in the name is the PRF's.
const SUITES: &[SuiteInfo] = &[
    SuiteInfo {
        number: 0x1301,
        name: "TLS_AES_128_GCM_SHA256",
        cipher: "AES_128_GCM",
        cipher_strength: 128,
        prf_hash: "SHA256",
        trailer_tls12: 0,
    },
    SuiteInfo {
        number: 0x1302,
        name: "TLS_AES_256_GCM_SHA384",
        cipher: "AES_256_GCM",
        cipher_strength: 256,
        prf_hash: "SHA384",
        trailer_tls12: 0,
    },
    SuiteInfo {
        number: 0x1303,
        name: "TLS_CHACHA20_POLY1305_SHA256",
        cipher: "CHACHA20_POLY1305",
        cipher_strength: 256,
        prf_hash: "SHA256",
        trailer_tls12: 0,
    },
    SuiteInfo {
        number: 0xC02B,
        name: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        cipher: "AES_128_GCM",
        cipher_strength: 128,
        prf_hash: "SHA256",
        trailer_tls12: 8 + 16,
    },
    SuiteInfo {
        number: 0xC02C,
        name: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        cipher: "AES_256_GCM",
        cipher_strength: 256,
        prf_hash: "SHA384",
        trailer_tls12: 8 + 16,
    },
    SuiteInfo {
        number: 0xCCA9,
        name: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        cipher: "CHACHA20_POLY1305",
        cipher_strength: 256,
        prf_hash: "SHA256",
        trailer_tls12: 16,
    },
    SuiteInfo {
        number: 0xC02F,
        name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        cipher: "AES_128_GCM",
        cipher_strength: 128,
        prf_hash: "SHA256",
        trailer_tls12: 8 + 16,
    },
    SuiteInfo {
        number: 0xC030,
        name: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        cipher: "AES_256_GCM",
        cipher_strength: 256,
        prf_hash: "SHA384",
        trailer_tls12: 8 + 16,
    },
    SuiteInfo {
        number: 0xCCA8,
        name: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        cipher: "CHACHA20_POLY1305",
        cipher_strength: 256,
        prf_hash: "SHA256",
        trailer_tls12: 16,
    },
];

/// The MAC name of every suite (see [`SUITES`]).
pub(crate) const AEAD_MAC: &str = "AEAD";

/// The suite with this IANA number.
pub(crate) fn suite_info(number: u16) -> Option<&'static SuiteInfo> {
    SUITES.iter().find(|s| s.number == number)
}

/// The record trailer for a suite under a protocol: TLS 1.3 adds the inner content type
/// byte and the 16-byte tag; TLS 1.2 GCM an 8-byte explicit nonce and the tag, ChaCha20
/// the tag only.
pub(crate) fn record_trailer(suite: &SuiteInfo, protocol: Protocol) -> usize {
    match protocol {
        Protocol::Tls13 => 1 + 16,
        _ => suite.trailer_tls12,
    }
}

/// (IANA group number, Schannel-style exchange name, strength in bits). The strength is
/// the key size of the curve; hybrids report their classical part (the ML-KEM part's
/// strength has no "bits" in Schannel's sense), ML-KEM alone its parameter set.
const EXCHANGES: &[(u16, &str, u32)] = &[
    (0x001D, "X25519", 255),
    (0x001E, "X448", 448),
    (0x0017, "ECDH_P256", 256),
    (0x0018, "ECDH_P384", 384),
    (0x0019, "ECDH_P521", 521),
    (0x11EC, "X25519MLKEM768", 255),
    (0x11EB, "ECDH_P256MLKEM768", 256),
    (0x0201, "MLKEM768", 768),
    (0x0202, "MLKEM1024", 1024),
];

/// The exchange name and strength of a group.
pub(crate) fn exchange_info(group: u16) -> Option<(&'static str, u32)> {
    EXCHANGES.iter().find(|e| e.0 == group).map(|e| (e.1, e.2))
}

// ---------------------------------------------------------------------------------------
// The one table from a rustls failure to what Schannel reports.

/// What a rustls failure means for Schannel: the alert rustls sends for it (when it sends
/// one), our stable internal error state, and the status the call returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) alert: AlertDescription,
    pub(crate) state: ErrorState,
    pub(crate) status: Status,
}

fn alert_of(a: rustls::AlertDescription) -> AlertDescription {
    AlertDescription(u8::from(a))
}

/// The alert rustls sends for `err`, mirroring where rustls 0.23.46 calls
/// `send_fatal_alert` (common_state.rs, conn.rs, client/, server/): rustls does not say
/// which alert it sent, only that bytes were queued, so the code comes from here. Whether
/// an alert was sent at all is taken from rustls (bytes produced after the failure).
///
/// Known ambiguity: `Error::DecryptError` is sent as bad_record_mac when a record fails
/// authentication, but as decrypt_error when a Finished message or PSK binder does not
/// verify; the error alone cannot tell them apart, and the record case is the common one.
pub(crate) fn verdict(err: &rustls::Error) -> Verdict {
    use rustls::Error as E;
    use rustls::{PeerIncompatible as PI, PeerMisbehaved as PM};
    let v = |alert: AlertDescription, state, status| Verdict {
        alert,
        state,
        status,
    };
    match err {
        // send_cert_verify_error_alert: the certificate error's own alert (rustls'
        // `From<CertificateError> for AlertDescription`).
        E::InvalidCertificate(ce) => v(
            alert_of(ce.clone().into()),
            ErrorState::PeerCertificateRejected,
            certificate_status(ce),
        ),
        // Message::try_from / the deframer: `From<InvalidMessage>` (decode_error, or
        // illegal_parameter / unsupported_extension for the few cases rustls names).
        E::InvalidMessage(m) => v(
            alert_of((*m).into()),
            ErrorState::MalformedMessage,
            Status::IllegalMessage,
        ),
        E::DecryptError => v(
            AlertDescription::BAD_RECORD_MAC,
            ErrorState::RecordDecryptFailed,
            Status::DecryptFailure,
        ),
        E::PeerSentOversizedRecord => v(
            AlertDescription::RECORD_OVERFLOW,
            ErrorState::RecordOverflow,
            Status::IllegalMessage,
        ),
        E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => v(
            AlertDescription::UNEXPECTED_MESSAGE,
            ErrorState::UnexpectedMessage,
            Status::IllegalMessage,
        ),
        E::PeerIncompatible(pi) => match pi {
            PI::Tls12NotOffered
            | PI::Tls12NotOfferedOrEnabled
            | PI::SupportedVersionsExtensionRequired
            | PI::Tls13RequiredForQuic
            | PI::ServerDoesNotSupportTls12Or13
            | PI::ServerTlsVersionIsDisabledByOurConfig => v(
                AlertDescription::PROTOCOL_VERSION,
                ErrorState::NoSharedProtocol,
                Status::UnsupportedFunction,
            ),
            PI::NullCompressionRequired | PI::UncompressedEcPointsRequired => v(
                AlertDescription::ILLEGAL_PARAMETER,
                ErrorState::IllegalParameter,
                Status::IllegalMessage,
            ),
            PI::ServerRejectedEncryptedClientHello(_) => v(
                AlertDescription(121), // encrypted_client_hello_required
                ErrorState::NoSharedAlgorithm,
                Status::AlgorithmMismatch,
            ),
            // No suites, groups or signature schemes in common, EMS required, ...
            _ => v(
                AlertDescription::HANDSHAKE_FAILURE,
                ErrorState::NoSharedAlgorithm,
                Status::AlgorithmMismatch,
            ),
        },
        E::PeerMisbehaved(pm) => {
            let alert = match pm {
                PM::IllegalMiddleboxChangeCipherSpec
                | PM::KeyEpochWithPendingFragment
                | PM::KeyUpdateReceivedInQuicConnection
                | PM::TooMuchEarlyDataReceived => AlertDescription::UNEXPECTED_MESSAGE,
                PM::MissingKeyShare
                | PM::MissingPskExtensionInSecondClientHello
                | PM::MissingPskModesExtension => AlertDescription(109), // missing_extension
                PM::DisallowedEncryptedExtension
                | PM::UnexpectedCleartextExtension
                | PM::UnsolicitedEchExtension
                | PM::UnsolicitedEncryptedExtension
                | PM::UnsolicitedServerHelloExtension => AlertDescription(110), // unsupported_extension
                PM::SelectedUnofferedCertCompression | PM::InvalidCertCompression => {
                    AlertDescription::BAD_CERTIFICATE
                }
                PM::IncorrectBinder => AlertDescription::DECRYPT_ERROR,
                PM::MissingBinderInPskExtension => AlertDescription::DECODE_ERROR,
                PM::SelectedUnofferedCipherSuite | PM::ServerHelloMustOfferUncompressedEcPoints => {
                    AlertDescription::HANDSHAKE_FAILURE
                }
                // Everything else rustls answers with illegal_parameter (and
                // send_cert_verify_error_alert does the same for any PeerMisbehaved).
                _ => AlertDescription::ILLEGAL_PARAMETER,
            };
            let state = match alert.0 {
                10 => ErrorState::UnexpectedMessage,
                47 => ErrorState::IllegalParameter,
                109 => ErrorState::MissingExtension,
                110 => ErrorState::UnsupportedExtension,
                _ => ErrorState::PeerMisbehaved,
            };
            v(alert, state, Status::IllegalMessage)
        }
        E::NoCertificatesPresented => v(
            AlertDescription::CERTIFICATE_REQUIRED,
            ErrorState::ClientCertificateRequired,
            Status::IncompleteCredentials,
        ),
        E::NoApplicationProtocol => v(
            AlertDescription::NO_APPLICATION_PROTOCOL,
            ErrorState::NoApplicationProtocol,
            Status::ApplicationProtocolMismatch,
        ),
        // The server's certificate resolver found nothing (hs.rs: access_denied with
        // "no server certificate chain resolved").
        E::General(m) if m.contains("no server certificate") => v(
            AlertDescription::ACCESS_DENIED,
            ErrorState::NoServerCertificate,
            Status::NoCredentials,
        ),
        // A received fatal alert: nothing is sent. When rustls does send one here it is
        // decode_error for a TLS 1.3 warning alert (illegal_parameter for an unknown alert
        // level, which this row cannot tell apart), and the context then reports
        // SEC_E_ILLEGAL_MESSAGE instead of the received alert's status.
        E::AlertReceived(a) => v(
            AlertDescription::DECODE_ERROR,
            ErrorState::WarningAlertInTls13,
            alert_of(*a).received_status(),
        ),
        // send_cert_verify_error_alert's default.
        _ => v(
            AlertDescription::HANDSHAKE_FAILURE,
            ErrorState::HandshakeFailed,
            Status::InternalError,
        ),
    }
}

/// The status of a certificate error when the verifier left no failure of its own.
fn certificate_status(ce: &rustls::CertificateError) -> Status {
    use rustls::CertificateError as C;
    match ce {
        C::UnknownIssuer => Status::UntrustedRoot,
        C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
            Status::CertExpired
        }
        C::Revoked => Status::CryptERevoked,
        C::NotValidForName | C::NotValidForNameContext { .. } => Status::WrongPrincipal,
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => Status::CertWrongUsage,
        C::UnknownRevocationStatus => Status::CryptENoRevocationCheck,
        _ => Status::CertUnknown,
    }
}

/// Whether rustls' failure is "the ClientHello shares no protocol, cipher suite or key
/// exchange group with us" (36874 on a server).
///
/// The `PeerIncompatible` variants of rustls 0.23.46 that say so, and where it raises
/// them on a server (server/hs.rs):
/// - protocol: `Tls12NotOffered` (a hello below TLS 1.2 without supported_versions),
///   `Tls12NotOfferedOrEnabled` (supported_versions names nothing we enable),
///   `SupportedVersionsExtensionRequired` (TLS 1.3 only here, the hello has no
///   supported_versions), `Tls13RequiredForQuic` (QUIC only, which this provider never
///   runs; counted so the table is complete);
/// - cipher suite: `NoCipherSuitesInCommon`;
/// - key exchange group: `NoKxGroupsInCommon` (choose_suite_and_kx_group: none of the
///   client's groups is ours, including a TLS 1.2 hello that sends no supported_groups
///   because it offers only RSA key exchange suites, which rustls does not implement:
///   Schannel counts a suite whose key exchange cannot happen as not shared), and
///   `NamedGroupsExtensionRequired` (defined for the same case, not raised by 0.23.46).
///
/// Not counted: the client-side versions of the protocol mismatch
/// (`ServerDoesNotSupportTls12Or13`, `ServerTlsVersionIsDisabledByOurConfig`: a
/// ServerHello, not a ClientHello); signature schemes (`NoSignatureSchemesInCommon`,
/// `SignatureAlgorithmsExtensionRequired`: the certificate's key, not a suite; legacy
/// hellos without signature_algorithms are refused before rustls sees them); and missing
/// or malformed extensions (`KeyShareExtensionRequired`, `NullCompressionRequired`,
/// `ExtendedMasterSecretExtensionRequired`, EC point formats, certificate types).
pub(crate) fn is_no_shared_protocol_or_suite(err: &rustls::Error) -> bool {
    use rustls::PeerIncompatible as PI;
    matches!(
        err,
        rustls::Error::PeerIncompatible(
            PI::Tls12NotOffered
                | PI::Tls12NotOfferedOrEnabled
                | PI::SupportedVersionsExtensionRequired
                | PI::Tls13RequiredForQuic
                | PI::NoCipherSuitesInCommon
                | PI::NoKxGroupsInCommon
                | PI::NamedGroupsExtensionRequired
        )
    )
}

// The unit tests need configs with hand-picked providers and verifiers, so they live here
// next to the builders.
#[cfg(test)]
mod tests;
