//! Security contexts, as InitializeSecurityContext / AcceptSecurityContext drive them:
//! tokens in, tokens out, typed statuses; then EncryptMessage / DecryptMessage,
//! QueryContextAttributes, and ApplyControlToken (shutdown and alert tokens). The
//! contract of every call is in the [crate docs](crate#the-token-contract).
//!
//! - `client` / `server`: each side's constructor and handshake call, side by side;
//! - `core`: what both share (the engine, the events of a handshake, the record calls);
//! - `failure`: a failed exchange in an operator's words.

mod client;
mod core;
mod failure;
mod server;
mod validate;

pub use client::ClientContext;
pub use server::ServerContext;
pub(crate) use validate::validate;

use self::core::State;
use crate::{Error, Protocol};
use rustls_pki_types::CertificateDer;
use securechannel_events::{ActivityId, AlertDescription, Status};

/// What a caller asks of one context (the ISC_REQ / ASC_REQ flags and buffers that are
/// not the credential's).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
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
#[non_exhaustive]
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

/// The outcome of [`ClientContext::decrypt`] / [`ServerContext::decrypt`] (DecryptMessage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decrypted {
    /// What the input held.
    pub status: DecryptStatus,
    /// Input bytes used; the rest is the "extra" buffer.
    pub consumed: usize,
}

/// What a decrypt call found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
pub struct CipherSuite {
    /// IANA name (`TLS_AES_256_GCM_SHA384`).
    pub name: &'static str,
    /// IANA number (0x1302).
    pub number: u16,
    /// The bulk cipher as Schannel names it (`AES_256_GCM`; `unknown` for a suite the
    /// suite table lacks, which rustls never negotiates here).
    pub cipher: &'static str,
    /// Its key length in bits.
    pub cipher_strength: u32,
    /// The PRF / HKDF hash (`SHA384`).
    pub prf_hash: &'static str,
}

impl ContextOptions {
    /// Offer (client) or accept (server) these application protocols, in preference order.
    pub fn with_alpn<P: AsRef<[u8]>>(mut self, protocols: impl IntoIterator<Item = P>) -> Self {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Client: send this server_name indication (see [`Sni`]).
    pub fn with_sni(mut self, sni: Sni) -> Self {
        self.sni = sni;
        self
    }
}

/// The calls both sides share, written once.
macro_rules! context_methods {
    ($t:ty) => {
        impl $t {
            /// Whether the handshake is complete.
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
                self.core.engine.protocol()
            }

            /// The peer's certificate chain, DER, end-entity first (empty when the peer
            /// sent none).
            pub fn remote_certificates(&self) -> &[CertificateDer<'static>] {
                self.core.engine.peer_certificates().unwrap_or(&[])
            }

            /// This side's certificate, DER: a server's always (when it has one); a
            /// client's only when it was sent in answer to a CertificateRequest.
            pub fn local_certificate(&self) -> Option<&CertificateDer<'static>> {
                self.core.local_certificate()
            }

            /// Client: the DER Names of the certificate authorities the server's
            /// CertificateRequest named (SECPKG_ATTR_ISSUER_LIST_EX), in its order; empty
            /// when it asked for no certificate or named none, and on a server.
            pub fn trusted_issuers(&self) -> &[Vec<u8>] {
                &self.core.trusted_issuers
            }

            /// The negotiated application protocol (ALPN).
            pub fn alpn(&self) -> Option<&[u8]> {
                self.core.engine.alpn()
            }

            /// Whether the handshake resumed an earlier session (`None` before it is done).
            pub fn resumed(&self) -> Option<bool> {
                self.core.engine.resumed()
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
