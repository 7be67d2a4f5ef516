//! Security contexts, as InitializeSecurityContext / AcceptSecurityContext drive them:
//! tokens in, tokens out, typed statuses; then EncryptMessage / DecryptMessage,
//! QueryContextAttributes, and ApplyControlToken (shutdown and alert tokens).
//!
//! # The token contract
//!
//! Every call that takes input (`initialize`, `accept`, `decrypt`) takes it as
//! `&mut [u8]` (TLS records are decrypted in place) and says how many bytes it
//! `consumed`. The caller removes exactly those bytes from the front of its buffer and
//! hands the rest (SSPI's SECBUFFER_EXTRA) back at the front of the next call, with
//! whatever arrived since. This holds for every status, including `IncompleteMessage`:
//! rustls may have consumed whole records while it waits for the rest of a handshake
//! message, and it may keep a handshake message that spans records in the caller's
//! buffer until the message is complete (it is then not counted as consumed).
//!
//! Output (handshake messages, alerts, encrypted records) is appended to a caller
//! `Vec<u8>`; everything appended must be sent, in order.
//!
//! On failure a call returns `Err(Error)` carrying the SSPI status, the event logged for
//! it and the internal error state; **the fatal alert rustls produced (if any) has then
//! already been appended to the output buffer** (for `decrypt`, it waits in
//! [`ClientContext::take_output`]), and the caller should still send it before closing the
//! connection, as Schannel's caller sends the token of a failed call.
//!
//! ```no_run
//! # fn send(_: &[u8]) {} fn receive(_: &mut Vec<u8>) {}
//! # fn demo(credential: &securechannel::ClientCredential) -> Result<(), securechannel::Error> {
//! use securechannel::{ClientContext, ContextOptions, StepStatus};
//! let mut context = ClientContext::new(credential, "server.test", ContextOptions::default())?;
//! let (mut input, mut output) = (Vec::new(), Vec::new());
//! loop {
//!     let step = context.initialize(&mut input, &mut output)?;
//!     input.drain(..step.consumed); // what is left is SSPI's extra buffer
//!     send(&output);
//!     output.clear();
//!     match step.status {
//!         StepStatus::Complete => break,
//!         StepStatus::ContinueNeeded | StepStatus::IncompleteMessage { .. } => receive(&mut input),
//!     }
//! }
//! context.encrypt(b"GET / HTTP/1.1\r\n\r\n", &mut output)?;
//! # Ok(()) }
//! ```

use crate::credential::CredentialShared;
use crate::tls::{self, ConfigError, Engine, HandshakeProgress, WriteError};
use crate::{
    sniff_client_hello, verify, ClientCredential, Error, ErrorState, HelloSniff, Protocol, Role,
    ServerCredential,
};
use rustls_pki_types::{CertificateDer, ServerName};
use securechannel_events::{ActivityId, AlertDescription, EventId, RecordBuilder, Status};
use std::cell::OnceCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a caller asks of one context (the ISC_REQ / ASC_REQ flags and buffers that are
/// not the credential's).
#[derive(Debug, Clone, Default)]
pub struct ContextOptions {
    /// Application protocols offered (client, in preference order) or accepted (server,
    /// in preference order); empty: no ALPN.
    pub alpn: Vec<Vec<u8>>,
    /// Client: which name goes into the server_name extension.
    pub sni: Sni,
}

/// The server_name indication a client sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Sni {
    /// The target name (an IP address target sends none, as TLS requires).
    #[default]
    Target,
    /// This name instead of the target name. rustls verifies the server certificate
    /// against the name it sends, so this name is also the one the certificate must carry,
    /// and the one 36884 (and the error) names when it does not; the TargetName of other
    /// events stays the target name.
    Name(String),
    /// No SNI; the certificate is still verified against the target name.
    Disabled,
}

/// The outcome of a handshake step (InitializeSecurityContext / AcceptSecurityContext).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Where the handshake stands.
    pub status: StepStatus,
    /// Input bytes used; the rest of the input is the "extra" buffer (see the module
    /// docs), for example application data that arrived right after the Finished message.
    pub consumed: usize,
}

/// Where the handshake stands after a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    /// Output was produced and must be sent; more input is needed
    /// (SEC_I_CONTINUE_NEEDED).
    ContinueNeeded,
    /// Nothing was produced; the input is short (SEC_E_INCOMPLETE_MESSAGE). `missing` is
    /// how many more bytes complete the record in progress, from its 5-byte header;
    /// `None` when not even a header is there.
    IncompleteMessage {
        /// Bytes still missing from the current record.
        missing: Option<usize>,
    },
    /// The handshake is complete (SEC_E_OK); any output produced must still be sent.
    Complete,
}

impl StepStatus {
    /// The SSPI status this outcome is.
    pub fn status(self) -> Status {
        match self {
            StepStatus::ContinueNeeded => Status::ContinueNeeded,
            StepStatus::IncompleteMessage { .. } => Status::IncompleteMessage,
            StepStatus::Complete => Status::Ok,
        }
    }
}

/// The outcome of [`ClientContext::decrypt`] (DecryptMessage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decrypted {
    /// What the input held.
    pub status: DecryptStatus,
    /// Input bytes used; the rest is the "extra" buffer.
    pub consumed: usize,
}

/// What a decrypt call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecryptStatus {
    /// Plaintext was appended (SEC_E_OK).
    Data,
    /// No complete record (SEC_E_INCOMPLETE_MESSAGE); `missing` as for [`StepStatus`].
    IncompleteMessage {
        /// Bytes still missing from the current record.
        missing: Option<usize>,
    },
    /// The peer sent close_notify (SEC_I_CONTEXT_EXPIRED): no more data will come. Reply
    /// with [`ClientContext::shutdown`].
    PeerClosed,
}

impl DecryptStatus {
    /// The SSPI status this outcome is.
    pub fn status(self) -> Status {
        match self {
            DecryptStatus::Data => Status::Ok,
            DecryptStatus::IncompleteMessage { .. } => Status::IncompleteMessage,
            DecryptStatus::PeerClosed => Status::ContextExpiredInfo,
        }
    }
}

/// SecPkgContext_StreamSizes: how to size encrypt buffers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSizes {
    /// Record header (5).
    pub header: usize,
    /// Bytes after the plaintext of a record: TLS 1.3 inner content type + tag (17);
    /// TLS 1.2 AES-GCM explicit nonce + tag (24), ChaCha20-Poly1305 tag (16).
    pub trailer: usize,
    /// Largest plaintext of one record (16384); `encrypt` splits longer messages.
    pub max_message: usize,
    /// Buffers EncryptMessage takes (header, data, trailer, empty): 4.
    pub buffers: u32,
    /// Block size: 1, every suite rustls speaks is an AEAD without padding.
    pub block_size: usize,
}

/// SecPkgContext_ConnectionInfo (with Schannel's names, as 36880 prints them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The protocol (`TLS 1.3`).
    pub protocol: Protocol,
    /// The bulk cipher (`AES_256_GCM`).
    pub cipher: &'static str,
    /// Its key length in bits.
    pub cipher_strength: u32,
    /// The MAC: `AEAD` for every suite (all suites rustls speaks authenticate records
    /// with their AEAD; the hash in a suite's name is its PRF's, see `prf_hash`).
    pub mac: &'static str,
    /// The PRF / HKDF hash (`SHA384`).
    pub prf_hash: &'static str,
    /// The key exchange (`X25519`, `ECDH_P256`, `X25519MLKEM768`, ...).
    pub exchange: &'static str,
    /// The key exchange's strength in bits (X25519 255, P-256 256, P-384 384; a hybrid
    /// reports its classical part).
    pub exchange_strength: u32,
}

/// The negotiated cipher suite (SecPkgContext_CipherInfo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CipherSuite {
    /// IANA name (`TLS_AES_256_GCM_SHA384`).
    pub name: &'static str,
    /// IANA number (0x1302).
    pub number: u16,
}

/// A client security context (InitializeSecurityContext).
pub struct ClientContext {
    core: Core,
}

/// A server security context (AcceptSecurityContext).
pub struct ServerContext {
    core: Core,
}

impl ClientContext {
    /// A context connecting to `target_name` (a DNS name or an IP address), verified
    /// against it (or against `options.sni`'s name, see [`Sni::Name`]).
    ///
    /// Fails with SEC_E_ALGORITHM_MISMATCH and event 36873, before anything is sent, when
    /// the effective configuration leaves no usable cipher suite.
    pub fn new(
        credential: &ClientCredential,
        target_name: &str,
        options: ContextOptions,
    ) -> Result<ClientContext, Error> {
        let shared = credential.shared.clone();
        let verified_name = match &options.sni {
            Sni::Name(n) => n.as_str(),
            Sni::Target | Sni::Disabled => target_name,
        };
        let server_name = ServerName::try_from(verified_name.to_owned()).map_err(|e| {
            Error::new(
                Status::InvalidParameter,
                format!("'{verified_name}' is neither a DNS name nor an IP address"),
            )
            .with_source(e)
        })?;
        let mut core = Core::new(shared, Role::Client, target_name.to_owned());
        let config = match tls::client_config(&core.shared, options.sni != Sni::Disabled) {
            Ok(c) => c,
            Err(ConfigError::NoCipherSuite) => {
                core.emit(EventId::NoClientCipherSuites, |r| r);
                return Err(Error::new(
                    Status::AlgorithmMismatch,
                    "no cipher suite is usable with the enabled protocols and algorithms",
                )
                .with_event(EventId::NoClientCipherSuites));
            }
            Err(ConfigError::Other(e)) => return Err(e),
        };
        let engine = Engine::client(config, server_name, options.alpn).map_err(engine_error)?;
        core.engine = Some(engine);
        Ok(ClientContext { core })
    }

    /// One InitializeSecurityContext call: feed what the server sent (empty on the first
    /// call), append what to send to `out`. See the module docs for `consumed` and for
    /// failures (the alert to send is already in `out`).
    ///
    /// In TLS 1.3 the client is complete before the server has read its Finished (and its
    /// certificate): a refusal by the server then arrives as an alert on `decrypt`.
    /// Application data that arrived together with the last handshake flight is returned
    /// by the next `decrypt`, even one given no input.
    pub fn initialize(&mut self, input: &mut [u8], out: &mut Vec<u8>) -> Result<Step, Error> {
        self.core.step(input, out)
    }
}

impl ServerContext {
    /// A context accepting one client connection.
    pub fn new(
        credential: &ServerCredential,
        options: ContextOptions,
    ) -> Result<ServerContext, Error> {
        let shared = credential.shared.clone();
        let mut core = Core::new(shared, Role::Server, String::new());
        let config = match tls::server_config(&core.shared, &options.alpn) {
            Ok(c) => c,
            Err(ConfigError::NoCipherSuite) => {
                return Err(Error::new(
                    Status::AlgorithmMismatch,
                    "no cipher suite is usable with the enabled protocols and algorithms",
                ))
            }
            Err(ConfigError::Other(e)) => return Err(e),
        };
        core.engine = Some(Engine::server(config).map_err(engine_error)?);
        Ok(ServerContext { core })
    }

    /// One AcceptSecurityContext call: feed what the client sent, append what to send to
    /// `out`. See the module docs for `consumed` and for failures.
    pub fn accept(&mut self, input: &mut [u8], out: &mut Vec<u8>) -> Result<Step, Error> {
        self.core.step(input, out)
    }
}

/// The calls both sides share, written once.
macro_rules! context_methods {
    ($t:ty) => {
        impl $t {
            /// Whether the handshake is complete (asked from the engine).
            pub fn is_complete(&self) -> bool {
                self.core.state == State::Established
            }

            /// EncryptMessage: encrypt `plaintext` into records of at most
            /// [`StreamSizes::max_message`] bytes each, appended to `out`.
            pub fn encrypt(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
                self.core.encrypt(plaintext, out)
            }

            /// EncryptMessage into the caller's buffer, as SSPI's EncryptMessage writes
            /// into the caller's buffers: TLS bytes waiting in [`Self::take_output`]
            /// first, then the records of `plaintext`, from the start of `out`; returns
            /// how many bytes were written. `out` must hold the waiting bytes plus
            /// `plaintext.len()` and 64 bytes per 16 KiB record plus 64
            /// (SEC_E_BUFFER_TOO_SMALL otherwise, with nothing encrypted; should a
            /// post-handshake message still not fit, the records wait in
            /// [`Self::take_output`] behind it and the count excludes them). Nothing is
            /// zeroed or copied on the provider's side, so a caller reusing one buffer
            /// pays for the encryption only.
            pub fn encrypt_into(
                &mut self,
                plaintext: &[u8],
                out: &mut [u8],
            ) -> Result<usize, Error> {
                self.core.encrypt_into(plaintext, out)
            }

            /// DecryptMessage: decrypt every complete record of `input` in place, appending
            /// the plaintext to `plaintext`. Post-handshake messages (session tickets, key
            /// updates) are handled here; an answer they need (or, after a failure, the
            /// alert) waits in [`Self::take_output`].
            pub fn decrypt(
                &mut self,
                input: &mut [u8],
                plaintext: &mut Vec<u8>,
            ) -> Result<Decrypted, Error> {
                self.core.decrypt(input, plaintext)
            }

            /// Move TLS bytes that a decrypt produced (a key update answer, or the fatal
            /// alert of a failed decrypt) to `out`; returns how many. `encrypt` and
            /// `shutdown` do this first on their own.
            pub fn take_output(&mut self, out: &mut Vec<u8>) -> usize {
                let n = self.core.pending_out.len();
                out.append(&mut self.core.pending_out);
                n
            }

            /// ApplyControlToken(SCHANNEL_SHUTDOWN) and the call after it: append a
            /// close_notify alert to `out`. Only an established context can send one
            /// (SEC_E_OUT_OF_SEQUENCE otherwise); a second call appends nothing.
            pub fn shutdown(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
                self.core.shutdown(out)
            }

            /// ApplyControlToken(SCHANNEL_ALERT_TOKEN): make the handshake fail with `alert`.
            ///
            /// rustls sends alerts itself and has no call to send an arbitrary one, and
            /// this provider never writes TLS records by hand. So the alert is realised
            /// through rustls' own mechanism: the next verification of the peer's
            /// certificate fails with the certificate error that rustls answers with
            /// `alert`. The alerts that can be produced so are 40, 42, 43, 44, 45, 46, 48,
            /// 49, 51 and 113; any other returns SEC_E_UNSUPPORTED_FUNCTION. Also
            /// SEC_E_UNSUPPORTED_FUNCTION: after the handshake (no mechanism exists), and on
            /// a server that does not ask for a client certificate (no certificate will be
            /// verified). Apply it before the step that receives the peer's certificate
            /// (a client: before its second step; a server: before the step that receives
            /// the client's Certificate); later it has no effect.
            pub fn apply_alert(&mut self, alert: AlertDescription) -> Result<(), Error> {
                self.core.apply_alert(alert)
            }

            /// StreamSizes (established contexts only).
            pub fn stream_sizes(&self) -> Result<StreamSizes, Error> {
                self.core.stream_sizes()
            }

            /// ConnectionInfo (established contexts only).
            pub fn connection_info(&self) -> Result<ConnectionInfo, Error> {
                self.core.connection_info()
            }

            /// The negotiated cipher suite.
            pub fn cipher_suite(&self) -> Option<CipherSuite> {
                self.core.cipher_suite()
            }

            /// The negotiated protocol.
            pub fn protocol(&self) -> Option<Protocol> {
                self.core.engine().and_then(|e| e.protocol())
            }

            /// The peer's certificate chain, DER, end-entity first (empty when the peer
            /// sent none).
            pub fn remote_certificates(&self) -> &[CertificateDer<'static>] {
                self.core
                    .engine()
                    .and_then(|e| e.peer_certificates())
                    .unwrap_or(&[])
            }

            /// The negotiated application protocol (ALPN).
            pub fn alpn(&self) -> Option<&[u8]> {
                self.core.engine().and_then(|e| e.alpn())
            }

            /// Whether the handshake resumed an earlier session (`None` before it is done).
            pub fn resumed(&self) -> Option<bool> {
                self.core.engine().and_then(|e| e.resumed())
            }

            /// The context's activity ID: every event of this context carries it.
            pub fn activity_id(&self) -> ActivityId {
                self.core.activity_id()
            }

            /// The context handle as 36880 prints it (a number unique in this process).
            pub fn context_handle(&self) -> u64 {
                self.core.handle
            }
        }
    };
}

context_methods!(ClientContext);
context_methods!(ServerContext);

impl ClientContext {
    /// The target name the context was created for.
    pub fn target_name(&self) -> &str {
        &self.core.target_name
    }
}

impl ServerContext {
    /// The server name the client sent (SNI), once its hello has been read.
    pub fn server_name(&self) -> Option<&str> {
        self.core.engine().and_then(|e| e.sni())
    }
}

impl std::fmt::Debug for ClientContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.core.debug("ClientContext", f)
    }
}

impl std::fmt::Debug for ServerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.core.debug("ServerContext", f)
    }
}

// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Handshaking,
    Established,
    Failed(Status),
}

/// What client and server contexts share.
struct Core {
    shared: Arc<CredentialShared>,
    role: Role,
    /// `None` only while the constructor runs.
    engine: Option<Engine>,
    state: State,
    /// Client: the target name; server: empty (the SNI name is read from the engine).
    target_name: String,
    handle: u64,
    /// Created on first use, so a context whose events are all masked pays nothing.
    activity: OnceCell<ActivityId>,
    /// SCHANNEL_ALERT_TOKEN waiting for the next certificate verification.
    pending_alert: Option<AlertDescription>,
    /// Application data that arrived with the last handshake flight, returned by the
    /// first decrypt.
    early_plaintext: Vec<u8>,
    /// TLS bytes produced by decrypt (key update answers, an alert after a failure).
    pending_out: Vec<u8>,
    /// Server: what the first bytes said about the client's hello.
    hello: Option<HelloSniff>,
    /// Client: the credential's certificate went out in answer to a CertificateRequest
    /// (36880 names it only then).
    client_certificate_sent: bool,
    no_certificate_logged: bool,
    sent_close_notify: bool,
}

/// Process-wide context handle numbers.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

fn engine_error(e: rustls::Error) -> Error {
    Error::new(
        Status::InternalError,
        "the TLS engine refused to start a connection",
    )
    .with_state(ErrorState::EngineConfiguration)
    .with_source(e)
}

impl Core {
    fn new(shared: Arc<CredentialShared>, role: Role, target_name: String) -> Core {
        Core {
            shared,
            role,
            engine: None,
            state: State::Handshaking,
            target_name,
            handle: NEXT_HANDLE.fetch_add(1, Ordering::Relaxed),
            activity: OnceCell::new(),
            pending_alert: None,
            early_plaintext: Vec::new(),
            pending_out: Vec::new(),
            hello: None,
            client_certificate_sent: false,
            no_certificate_logged: false,
            sent_close_notify: false,
        }
    }

    fn engine(&self) -> Option<&Engine> {
        self.engine.as_ref()
    }

    fn engine_mut(&mut self) -> Result<&mut Engine, Error> {
        // The constructors only return a context with an engine.
        self.engine
            .as_mut()
            .ok_or_else(|| Error::new(Status::InvalidHandle, "the context was never started"))
    }

    fn activity_id(&self) -> ActivityId {
        *self.activity.get_or_init(ActivityId::new_random)
    }

    /// Log `id` with this context's activity ID, filling the fields with `fill`; nothing
    /// (not even the activity ID) is computed when the mask excludes the event.
    fn emit(&self, id: EventId, fill: impl FnOnce(RecordBuilder<'_>) -> RecordBuilder<'_>) {
        let emitter = &self.shared.emitter;
        if emitter.is_enabled(id) {
            fill(emitter.event(id).activity(Some(self.activity_id()))).send();
        }
    }

    /// The name events print as TargetName: the client's target, the server's SNI.
    fn event_target_name(&self) -> &str {
        match self.role {
            Role::Client => &self.target_name,
            Role::Server => self.engine().and_then(|e| e.sni()).unwrap_or(""),
        }
    }

    fn check_usable(&self) -> Result<(), Error> {
        match self.state {
            State::Failed(status) => Err(Error::new(status, "the context has already failed")),
            _ => Ok(()),
        }
    }

    fn step(&mut self, input: &mut [u8], out: &mut Vec<u8>) -> Result<Step, Error> {
        self.check_usable()?;
        if self.state == State::Established {
            return Ok(Step {
                status: StepStatus::Complete,
                consumed: 0,
            });
        }
        if self.role == Role::Server {
            let mut legacy = None;
            if self.hello.is_none() && !input.is_empty() {
                // Named in 36874 if rustls refuses the hello (legacy hellos included).
                match sniff_client_hello(input) {
                    // The start of an SSLv2-compatible hello: rustls would refuse its
                    // framing with decode_error before the sniffer can name it (11 bytes).
                    HelloSniff::NeedMore if input[0] & 0x80 != 0 => {
                        return Ok(Step {
                            status: StepStatus::IncompleteMessage { missing: None },
                            consumed: 0,
                        });
                    }
                    HelloSniff::NeedMore => {}
                    s => {
                        self.hello = Some(s);
                        legacy = s.protocol().filter(|p| !p.is_supported());
                    }
                }
            }
            if self.shared.certified_key.is_none()
                && !self.no_certificate_logged
                && !input.is_empty()
            {
                self.no_certificate_logged = true;
                self.emit(EventId::NoDefaultServerCredential, |r| r);
            }
            if legacy.is_some() {
                if let Some(e) = self.refuse_legacy_hello(out) {
                    return Err(e);
                }
            }
        }
        let alert_requested = self.pending_alert;
        if let Some(a) = alert_requested {
            // apply_alert only accepts alerts verify can produce.
            verify::set_pending_alert(Some(a))?;
        }
        let mut early = std::mem::take(&mut self.early_plaintext);
        let h = self.engine_mut()?.handshake(input, out, &mut early);
        self.early_plaintext = early;
        if alert_requested.is_some() {
            // Reset so no later call on this thread (another context) inherits it; the
            // pending alert of this context stays for its next step unless it fired.
            let _ = verify::set_pending_alert(None);
        }
        self.take_handoffs();
        let failure = verify::take_failure();
        match h.result {
            Ok(HandshakeProgress::Complete) => {
                self.state = State::Established;
                self.pending_alert = None;
                self.log_completed();
                Ok(Step {
                    status: StepStatus::Complete,
                    consumed: h.consumed,
                })
            }
            Ok(HandshakeProgress::Blocked) => Ok(Step {
                status: if h.written > 0 {
                    StepStatus::ContinueNeeded
                } else {
                    StepStatus::IncompleteMessage {
                        missing: tls::missing_bytes(&input[h.consumed..]),
                    }
                },
                consumed: h.consumed,
            }),
            Err(e) => Err(self.fail(e, failure, h.alert_written > 0, alert_requested)),
        }
    }

    /// A server's answer to a hello rustls cannot speak (SSLv2-compatible, SSL 3.0,
    /// TLS 1.0, TLS 1.1): protocol_version (70), as Schannel sends it. The client's bytes
    /// never reach the engine: rustls would answer most of them with another alert
    /// (handshake_failure for a hello without signature_algorithms, decode_error for the
    /// SSLv2 framing). The alert is rustls' own answer to a canonical TLS 1.0 hello (see
    /// `tls::legacy_protocol_version_alert`); an SSLv2-compatible client gets it
    /// TLS-framed, which is how TLS servers answer the SSLv2-compatible hellos of TLS 1.0
    /// clients (RFC 5246 appendix E.2), the only SSLv2-framed hellos still sent.
    ///
    /// Logs 36874 (the client's protocol) and 36888 (70, NoSharedProtocol) once, and
    /// fails the context with SEC_E_UNSUPPORTED_FUNCTION; the hello is consumed, nothing
    /// more is read. `None` (nothing appended) when rustls did not answer with that alert:
    /// the engine then answers the client's own hello.
    fn refuse_legacy_hello(&mut self, out: &mut Vec<u8>) -> Option<Error> {
        let config = tls::server_config(&self.shared, &[]).ok()?;
        let err = tls::legacy_protocol_version_alert(config, out)?;
        Some(self.fail(err, None, true, None))
    }

    /// 36875 and 36885: things the verifiers noticed that do not end the handshake; and
    /// whether the client's certificate was sent.
    fn take_handoffs(&mut self) {
        if verify::take_client_certificate_offered() {
            self.client_certificate_sent = true;
        }
        if verify::take_no_suitable_client_certificate() {
            self.emit(EventId::NoSuitableClientCertificate, |r| r);
        }
        if verify::take_issuer_list_truncated() {
            self.emit(EventId::TrustedIssuerListTruncated, |r| r);
        }
    }

    /// Turn a rustls failure into the caller's error, logging each event once: the
    /// validation event, 36887 for a received alert, 36874 for a hello we share nothing
    /// with, 36888 for the alert we sent (when rustls produced one).
    fn fail(
        &mut self,
        err: rustls::Error,
        failure: Option<verify::ValidationFailure>,
        alert_sent: bool,
        alert_requested: Option<AlertDescription>,
    ) -> Error {
        let verdict = tls::verdict(&err);
        let mut status = verdict.status;
        let mut event = None;
        let mut state = None;
        let mut sent = None;
        let mut legacy = None;

        if let rustls::Error::AlertReceived(a) = &err {
            if alert_sent {
                // rustls answers only an alert that was not fatal (a TLS 1.3 warning, an
                // unknown level) and refuses it: our failure, not the peer's fatal alert.
                status = Status::IllegalMessage;
            } else {
                let code = u8::from(*a);
                self.emit(EventId::FatalAlertReceived, |r| r.field(code));
                event = Some(EventId::FatalAlertReceived);
            }
        }
        // Client: the name the server's certificate was checked against, which the
        // verifier recorded (the SNI override when one was given, see `Sni::Name`).
        let mut checked_name = None;
        if let Some(f) = failure {
            if self.shared.emitter.is_enabled(f.event) {
                // 36884's Name is that name too: naming the target name would report a
                // mismatch against a name that was never checked.
                f.log(&self.shared.emitter, Some(self.activity_id()));
            }
            checked_name = f.expected_name;
            status = f.status;
            event = Some(f.event);
        }
        if self.role == Role::Server {
            legacy = match self.hello {
                Some(HelloSniff::Offered(p)) if !p.is_supported() => Some(p),
                _ => None,
            };
            let before_server_hello = !matches!(self.engine(), Some(e) if e.protocol().is_some());
            if tls::is_no_shared_protocol_or_suite(&err)
                || (legacy.is_some() && before_server_hello)
            {
                let name = self
                    .hello
                    .and_then(HelloSniff::protocol_name)
                    .unwrap_or("unknown");
                self.emit(EventId::NoSharedCipherSuite, |r| r.field(name));
                event = Some(EventId::NoSharedCipherSuite);
                if legacy.is_some() {
                    status = Status::UnsupportedFunction;
                }
            }
            if verdict.state == ErrorState::NoServerCertificate {
                // 36886 was logged when the hello arrived.
                event = Some(EventId::NoDefaultServerCredential);
            }
        }
        if alert_sent {
            let app_alert = alert_requested.filter(|_| {
                matches!(
                    err,
                    rustls::Error::InvalidCertificate(_) | rustls::Error::General(_)
                )
            });
            let (alert, why) = match app_alert {
                Some(a) => (a, ErrorState::ApplicationAlert),
                None => (verdict.alert, verdict.state),
            };
            let target = self.event_target_name().to_owned();
            self.emit(EventId::FatalAlertGenerated, |r| {
                r.field(alert.0).field(why.code()).field(&target)
            });
            event = event.or(Some(EventId::FatalAlertGenerated));
            state = Some(why);
            sent = Some(alert);
        }
        self.state = State::Failed(status);
        let what = Failure {
            role: self.role,
            checked_name: checked_name.as_deref().unwrap_or(&self.target_name),
            status,
            state: state.unwrap_or(verdict.state),
            legacy,
            alert_sent,
        }
        .describe(&err);
        let message = match sent {
            Some(a) => format!("{what} ({} sent)", alert_name(a)),
            None => what,
        };
        let mut e = Error::new(status, message).with_source(err);
        if let Some(ev) = event {
            e = e.with_event(ev);
        }
        if let Some(s) = state {
            e = e.with_state(s);
        }
        e
    }

    /// 36880, with all twelve fields.
    fn log_completed(&self) {
        let id = EventId::HandshakeCompleted;
        if !self.shared.emitter.is_enabled(id) {
            return;
        }
        let Ok(info) = self.connection_info() else {
            return;
        };
        let suite = self.cipher_suite().map(|s| s.number).unwrap_or(0);
        // Fields are built once, straight into the record: the subjects come from the
        // credential's caches (no certificate parsing per handshake), the strings are
        // moved in rather than formatted. A server always sends its certificate; a client
        // only when the server asked for one and the credential's suited (otherwise it
        // went on anonymously, 36875).
        let local = match self.role {
            Role::Client if !self.client_certificate_sent => String::new(),
            _ => self
                .shared
                .tls_configs
                .local_subject(&self.shared)
                .to_owned(),
        };
        let remote = self
            .engine()
            .and_then(|e| e.peer_certificates())
            .and_then(|c| c.first())
            .map(|c| String::from(&*self.shared.tls_configs.remote_subject(c.as_ref())))
            .unwrap_or_default();
        let target = self.event_target_name().to_owned();
        self.emit(id, |r| {
            r.field_str(self.role.name())
                .field_str(info.protocol.name())
                .field_str(info.cipher)
                .field_string(decimal(info.cipher_strength.into()))
                .field_str(info.mac)
                .field_str(info.exchange)
                .field_string(decimal(info.exchange_strength.into()))
                .field_string(hex(suite.into(), 4))
                .field_string(hex(self.handle, 1))
                .field_string(target)
                .field_string(local)
                .field_string(remote)
        });
    }

    fn established(&mut self) -> Result<&mut Engine, Error> {
        self.check_usable()?;
        if self.state != State::Established {
            return Err(Error::new(
                Status::OutOfSequence,
                "the handshake is not complete",
            ));
        }
        self.engine_mut()
    }

    fn encrypt(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.established()?;
        out.append(&mut self.pending_out);
        let r = self.engine_mut()?.write(plaintext, out);
        r.map_err(|e| self.write_error(e))
    }

    fn encrypt_into(&mut self, plaintext: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        self.established()?;
        let waiting = self.pending_out.len();
        // Room for a post-handshake message rustls may queue before the records (a key
        // update near the AEAD's limit), checked before anything is encrypted.
        let required = waiting + tls::write_room(plaintext.len()) + 64;
        if out.len() < required {
            return Err(self.write_error(WriteError::TooSmall { required }));
        }
        out[..waiting].copy_from_slice(&self.pending_out);
        self.pending_out.clear();
        let mut queued = Vec::new();
        let r = self
            .engine_mut()?
            .write_into(plaintext, &mut out[waiting..], &mut queued);
        let n = r.map_err(|e| self.write_error(e))?;
        if !queued.is_empty() {
            // Rare (a key update): its bytes go before the records just written; the
            // room check above leaves space for them.
            let q = queued.len();
            if waiting + q + n > out.len() {
                // Nothing is lost: both wait, in order, for take_output.
                queued.extend_from_slice(&out[waiting..waiting + n]);
                self.pending_out = queued;
                return Ok(waiting);
            }
            out.copy_within(waiting..waiting + n, waiting + q);
            out[waiting..waiting + q].copy_from_slice(&queued);
            return Ok(waiting + q + n);
        }
        Ok(waiting + n)
    }

    fn write_error(&mut self, e: WriteError) -> Error {
        match e {
            WriteError::TooSmall { required } => Error::new(
                Status::BufferTooSmall,
                format!("the output buffer is too small: the records need {required} bytes"),
            ),
            WriteError::NotReady => {
                Error::new(Status::OutOfSequence, "the context cannot send now")
            }
            WriteError::Closed => Error::new(
                Status::ContextExpired,
                "the connection is closed in both directions",
            ),
            WriteError::Engine(err) => {
                Error::new(Status::EncryptFailure, "the TLS engine cannot encrypt").with_source(err)
            }
        }
    }

    fn decrypt(&mut self, input: &mut [u8], plaintext: &mut Vec<u8>) -> Result<Decrypted, Error> {
        self.established()?;
        let mut got = !self.early_plaintext.is_empty();
        plaintext.append(&mut self.early_plaintext);
        let mut pending = std::mem::take(&mut self.pending_out);
        let r = self.engine_mut()?.read(input, plaintext, &mut pending);
        self.pending_out = pending;
        if let Err(e) = r.result {
            self.take_handoffs();
            return Err(self.fail(e, None, r.alert_written > 0, None));
        }
        got |= r.plaintext > 0;
        let status = if got {
            DecryptStatus::Data
        } else if self.engine().is_some_and(|e| e.peer_has_closed()) {
            DecryptStatus::PeerClosed
        } else {
            DecryptStatus::IncompleteMessage {
                missing: tls::missing_bytes(&input[r.consumed..]),
            }
        };
        Ok(Decrypted {
            status,
            consumed: r.consumed,
        })
    }

    fn shutdown(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.established()?;
        out.append(&mut self.pending_out);
        if self.sent_close_notify {
            return Ok(());
        }
        let r = self.engine_mut()?.close(out);
        r.map_err(|e| self.write_error(e))?;
        self.sent_close_notify = true;
        Ok(())
    }

    fn apply_alert(&mut self, alert: AlertDescription) -> Result<(), Error> {
        self.check_usable()?;
        if self.state == State::Established {
            return Err(Error::new(
                Status::UnsupportedFunction,
                "after the handshake rustls can send no alert but close_notify",
            ));
        }
        if verify::error_for_alert(alert).is_none() {
            return Err(Error::new(
                Status::UnsupportedFunction,
                format!("alert {alert} has no certificate error that makes rustls send it"),
            ));
        }
        let options = &self.shared.options;
        if self.role == Role::Server
            && !options.request_client_certificate
            && !options.require_client_certificate
        {
            return Err(Error::new(
                Status::UnsupportedFunction,
                "this server context verifies no client certificate, so no alert can be raised through it",
            ));
        }
        self.pending_alert = Some(alert);
        Ok(())
    }

    fn cipher_suite(&self) -> Option<CipherSuite> {
        let n = self.engine()?.cipher_suite()?;
        let info = tls::suite_info(n);
        Some(CipherSuite {
            name: info.map(|i| i.name).unwrap_or("unknown"),
            number: n,
        })
    }

    fn negotiated(&self) -> Result<(&Engine, Protocol, &'static tls::SuiteInfo), Error> {
        self.check_usable()?;
        let not_yet = || Error::new(Status::OutOfSequence, "the handshake is not complete");
        let engine = self.engine().ok_or_else(not_yet)?;
        if self.state != State::Established || engine.is_handshaking() {
            return Err(not_yet());
        }
        let protocol = engine.protocol().ok_or_else(not_yet)?;
        let suite = engine
            .cipher_suite()
            .and_then(tls::suite_info)
            .ok_or_else(|| {
                Error::new(
                    Status::InternalError,
                    "the negotiated suite is not in the suite table",
                )
            })?;
        Ok((engine, protocol, suite))
    }

    fn stream_sizes(&self) -> Result<StreamSizes, Error> {
        let (_, protocol, suite) = self.negotiated()?;
        Ok(StreamSizes {
            header: tls::RECORD_HEADER_LEN,
            trailer: tls::record_trailer(suite, protocol),
            max_message: tls::MAX_FRAGMENT_LEN,
            buffers: 4,
            block_size: 1,
        })
    }

    fn connection_info(&self) -> Result<ConnectionInfo, Error> {
        let (engine, protocol, suite) = self.negotiated()?;
        // TLS 1.2 resumption negotiates no new key exchange: rustls reports no group.
        let (exchange, exchange_strength) = engine
            .key_exchange_group()
            .and_then(tls::exchange_info)
            .unwrap_or(("", 0));
        Ok(ConnectionInfo {
            protocol,
            cipher: suite.cipher,
            cipher_strength: suite.cipher_strength,
            mac: tls::AEAD_MAC,
            prf_hash: suite.prf_hash,
            exchange,
            exchange_strength,
        })
    }

    fn debug(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("handle", &self.handle)
            .field("state", &self.state)
            .field("target_name", &self.target_name)
            .finish_non_exhaustive()
    }
}

/// A failed exchange in an operator's words (the `Display` of the caller's error, which
/// `schannel connect` prints); rustls' own wording stays available as the error's
/// `source()`. What to do with the output buffer is API documentation (module docs), not
/// part of the message.
struct Failure<'a> {
    role: Role,
    /// Client: the name the server's certificate was checked against (the SNI override
    /// when one was given, else the target name).
    checked_name: &'a str,
    /// The status the call returns (for a certificate, the verifier's).
    status: Status,
    /// The error state 36888 logged, or the failure table's.
    state: ErrorState,
    /// Server: the legacy protocol the client offered.
    legacy: Option<Protocol>,
    /// Whether an alert of ours went out.
    alert_sent: bool,
}

impl Failure<'_> {
    fn peer(&self) -> &'static str {
        match self.role {
            Role::Client => "the server",
            Role::Server => "the client",
        }
    }

    fn describe(&self, err: &rustls::Error) -> String {
        let peer = self.peer();
        if let rustls::Error::AlertReceived(a) = err {
            let a = AlertDescription(u8::from(*a));
            // rustls answers only an alert that was not fatal (see `verdict`).
            return if self.alert_sent {
                format!(
                    "{peer} sent a {} warning alert, which TLS 1.3 forbids",
                    alert_name(a)
                )
            } else {
                format!(
                    "{peer} refused the connection with a fatal {} alert ({})",
                    alert_name(a),
                    a.0
                )
            };
        }
        match self.state {
            ErrorState::PeerCertificateRejected => self.certificate(),
            ErrorState::ApplicationAlert => {
                format!("the application refused {peer}'s certificate")
            }
            ErrorState::NoSharedProtocol => match self.legacy {
                Some(p) => format!(
                    "the client offered {}, an old protocol this provider does not speak (only TLS 1.2 and TLS 1.3)",
                    p.name()
                ),
                None => format!("{peer} and this {} have no protocol version in common", self.role),
            },
            ErrorState::NoSharedAlgorithm => format!(
                "{peer} offered no cipher suite, key exchange group or signature scheme this {} accepts",
                self.role
            ),
            ErrorState::MalformedMessage => format!("{peer} sent a malformed TLS message"),
            ErrorState::RecordDecryptFailed => format!(
                "a record from {peer} failed authentication (corrupted or altered on the way)"
            ),
            ErrorState::RecordOverflow => format!("{peer} sent a record larger than TLS allows"),
            ErrorState::UnexpectedMessage => format!(
                "{peer} sent a message TLS does not allow at this point (is it speaking TLS?)"
            ),
            ErrorState::IllegalParameter => {
                format!("{peer} sent a value TLS forbids in a handshake message")
            }
            ErrorState::MissingExtension => {
                format!("{peer} left out an extension TLS requires")
            }
            ErrorState::UnsupportedExtension => {
                format!("{peer} sent an extension it must not send there")
            }
            ErrorState::PeerMisbehaved => format!("{peer} broke the TLS protocol"),
            ErrorState::ClientCertificateRequired => {
                "the client sent no certificate, and this server requires one".to_owned()
            }
            ErrorState::NoApplicationProtocol => {
                format!("{peer} offers no application protocol (ALPN) this {} accepts", self.role)
            }
            ErrorState::NoServerCertificate => {
                "this server has no certificate to offer (its credential holds none)".to_owned()
            }
            _ => "the TLS exchange failed".to_owned(),
        }
    }

    /// A rejected peer certificate, by the status the verifier chose.
    fn certificate(&self) -> String {
        let cert = format!("{}'s certificate", self.peer());
        match self.status {
            Status::UntrustedRoot => {
                format!("{cert} was issued by an untrusted certificate authority")
            }
            Status::CertEChaining => {
                format!("{cert} does not chain up to a trusted certificate authority")
            }
            Status::CertExpired => format!("{cert} has expired or is not valid yet"),
            Status::WrongPrincipal if self.role == Role::Client => {
                format!("{cert} is not valid for the name {}", self.checked_name)
            }
            Status::WrongPrincipal => format!("{cert} is not valid for its name"),
            Status::CryptERevoked => format!("{cert} has been revoked"),
            Status::CryptENoRevocationCheck => {
                format!("the revocation status of {cert} could not be checked")
            }
            Status::CryptERevocationOffline => {
                format!("the revocation server for {cert} could not be reached")
            }
            Status::CertWrongUsage => {
                format!("{cert} is not valid for this use (key usage or extended key usage)")
            }
            _ => format!("{cert} was rejected"),
        }
    }
}

/// An alert's registry name (`unknown_ca`), or its number when it has none.
/// `v` in decimal, as `{v}` prints it, without the formatting machinery (36880 is built
/// on every handshake).
fn decimal(mut v: u64) -> String {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    digits[at..].iter().map(|&d| char::from(d)).collect()
}

/// `v` as `0x` and upper-case hex digits, at least `width` of them, as `0x{v:0width$X}`
/// prints it.
fn hex(v: u64, width: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(18);
    s.push_str("0x");
    let significant = (64 - v.leading_zeros() as usize)
        .div_ceil(4)
        .max(width.min(16))
        .max(1);
    for i in (0..significant).rev() {
        s.push(char::from(DIGITS[((v >> (4 * i)) & 0xF) as usize]));
    }
    s
}

fn alert_name(a: AlertDescription) -> String {
    a.name()
        .map_or_else(|| format!("alert {}", a.0), str::to_owned)
}

/// What a stream needs of a context: the calls [`ClientContext`] and [`ServerContext`]
/// share, with the handshake step under one name. Sealed: only this crate's contexts
/// implement it.
pub trait SecurityContext: Send + sealed::Sealed {
    /// One handshake step ([`ClientContext::initialize`] / [`ServerContext::accept`]).
    fn step(&mut self, input: &mut [u8], out: &mut Vec<u8>) -> Result<Step, Error>;
    /// Whether the handshake is complete.
    fn is_complete(&self) -> bool;
    /// See [`ClientContext::encrypt`].
    fn encrypt(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error>;
    /// See [`ClientContext::decrypt`].
    fn decrypt(&mut self, input: &mut [u8], plaintext: &mut Vec<u8>) -> Result<Decrypted, Error>;
    /// See [`ClientContext::take_output`].
    fn take_output(&mut self, out: &mut Vec<u8>) -> usize;
    /// See [`ClientContext::shutdown`].
    fn shutdown(&mut self, out: &mut Vec<u8>) -> Result<(), Error>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ClientContext {}
    impl Sealed for super::ServerContext {}
}

macro_rules! security_context {
    ($t:ty, $step:ident) => {
        impl SecurityContext for $t {
            fn step(&mut self, input: &mut [u8], out: &mut Vec<u8>) -> Result<Step, Error> {
                self.$step(input, out)
            }
            fn is_complete(&self) -> bool {
                <$t>::is_complete(self)
            }
            fn encrypt(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
                <$t>::encrypt(self, plaintext, out)
            }
            fn decrypt(
                &mut self,
                input: &mut [u8],
                plaintext: &mut Vec<u8>,
            ) -> Result<Decrypted, Error> {
                <$t>::decrypt(self, input, plaintext)
            }
            fn take_output(&mut self, out: &mut Vec<u8>) -> usize {
                <$t>::take_output(self, out)
            }
            fn shutdown(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
                <$t>::shutdown(self, out)
            }
        }
    };
}

security_context!(ClientContext, initialize);
security_context!(ServerContext, accept);

#[cfg(test)]
mod tests {
    use super::{decimal, hex};

    #[test]
    fn decimal_and_hex_print_as_format_does() {
        let values = [
            0u64,
            1,
            9,
            10,
            255,
            256,
            0x1302,
            0xC02C,
            65_535,
            1 << 32,
            u64::MAX,
        ];
        for v in values {
            assert_eq!(decimal(v), format!("{v}"));
            assert_eq!(hex(v, 4), format!("0x{v:04X}"));
            assert_eq!(hex(v, 1), format!("0x{v:X}"));
        }
    }
}
