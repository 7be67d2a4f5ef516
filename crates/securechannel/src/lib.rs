//! securechannel: a Secure Channel (Schannel) security provider on rustls.
//!
//! The shape is SSPI's: open a [`Provider`] on a data directory (settings, certificate
//! stores, keys, CRLs), acquire a credential ([`ClientCredential`], [`ServerCredential`]:
//! AcquireCredentialsHandle), drive a security context ([`ClientContext`],
//! [`ServerContext`]: InitializeSecurityContext / AcceptSecurityContext) with tokens in
//! and out, then encrypt and decrypt messages (EncryptMessage / DecryptMessage). Every
//! step Schannel logs is logged here, with the same event ID, level and data, through the
//! [`events::EventSink`] the program chooses; every failure is an [`Error`] carrying the
//! SSPI [`Status`] the Windows call would return, the event logged for it, and the
//! internal [`ErrorState`] 36888 prints.
//!
//! TLS itself is rustls 0.23 (its unbuffered API) with aws-lc-rs; certificate paths and
//! CRLs are rustls-webpki's. This crate writes no TLS record and no cryptography.
//!
//! # A client, token by token
//!
//! ```no_run
//! # fn send(_: &[u8]) {} fn receive(_: &mut Vec<u8>) {}
//! use securechannel::{ClientContext, ContextOptions, Provider, StepStatus};
//! use securechannel::events::MemorySink;
//! use std::sync::Arc;
//!
//! let provider = Provider::open("schannel-data".as_ref(), Arc::new(MemorySink::new()))?;
//! let credential = provider.client_credential().acquire()?;
//! let mut context = ClientContext::new(&credential, "server.test", ContextOptions::default())?;
//! let (mut input, mut output) = (Vec::new(), Vec::new());
//! loop {
//!     let step = context.initialize(&mut input, &mut output)?;
//!     input.drain(..step.consumed); // what is left is SSPI's extra buffer
//!     send(&output);
//!     output.clear();
//!     match step.status {
//!         StepStatus::Complete => break,
//!         _ => receive(&mut input), // continue needed, or an incomplete message
//!     }
//! }
//! context.encrypt(b"GET / HTTP/1.1\r\n\r\n", &mut output)?;
//! # Ok::<(), securechannel::Error>(())
//! ```
//!
//! # The token contract
//!
//! Every call that takes input ([`ClientContext::initialize`],
//! [`ServerContext::accept`], `decrypt`) takes it as `&mut [u8]` (TLS records are
//! decrypted in place) and says how many bytes it `consumed`. The caller removes exactly
//! those bytes from the front of its buffer and hands the rest (SSPI's SECBUFFER_EXTRA)
//! back at the front of the next call, with whatever arrived since. This holds for every
//! status, including [`StepStatus::IncompleteMessage`]: rustls may have consumed whole
//! records while it waits for the rest of a handshake message, and it may keep a
//! handshake message that spans records in the caller's buffer until the message is
//! complete (it is then not counted as consumed). `IncompleteMessage { missing }` says,
//! from the 5-byte record header, how many more bytes complete the record (SSPI's
//! SECBUFFER_MISSING).
//!
//! Output (handshake messages, alerts, encrypted records) is appended to a caller
//! `Vec<u8>` (or written into the caller's buffer by `encrypt_into`); everything produced
//! must be sent, in order.
//!
//! On failure a call returns `Err(Error)` carrying the SSPI status, the event logged for
//! it and the internal error state; **the fatal alert rustls produced (if any) has then
//! already been appended to the output buffer** (for `decrypt`, it waits in
//! `take_output`), and the caller should still send it before closing the connection, as
//! Schannel's caller sends the token of a failed call. A failed context stays failed:
//! every later call returns the same status.
//!
//! # Streams
//!
//! [`TlsStream`] runs that loop over a std `Read + Write` transport; with the `tokio`
//! feature, `tokio::connect` / `tokio::accept` do it over an async one, as
//! tokio-rustls does. Both are bounded in what they buffer, and both return the
//! provider's error inside an `io::Error`: [`Error::from_io_error`] gives it back.
//!
//! # Where things are decided
//!
//! - what a rustls failure means (alert, status, event): one table, `verdict`;
//! - which suites and groups the settings leave: one table each, `policy`;
//! - how each setting applies here (enforced, or refused with why): the definitions in
//!   `settings` ([`SettingDef::rule`]); what they add up to: [`Settings::effective_policy`];
//! - how long sessions are resumed (`ClientCacheTime`, `ServerCacheTime`,
//!   `MaximumCacheSize`): `resumption`;
//! - the largest handshake message accepted (`Messaging\MessageLimit*`): `messaging`;
//! - the only code that names rustls' unbuffered types: `engine`;
//! - certificate validation: `verify` (rustls-webpki underneath);
//! - the settings tree: [`Settings`] (and its `.reg` files: [`RegFile`],
//!   [`Settings::apply_reg`], [`Settings::to_reg`]); the stores: [`CertificateStores`].
#![forbid(unsafe_code, unused_must_use)]
#![warn(missing_docs)]

mod context;
mod credential;
mod engine;
mod error;
mod hello;
mod keylog;
mod mapping;
mod messaging;
mod policy;
mod protocol;
mod provider;
mod resumption;
mod settings;
mod staple;
mod store;
mod stream;
#[cfg(feature = "tokio")]
mod tokio_stream;
mod verdict;
mod verify;

pub use context::{
    CipherSuite, ClientContext, ConnectionInfo, ContextOptions, DecryptStatus, Decrypted,
    SecurityContext, ServerContext, Sni, Step, StepStatus, StreamSizes,
};
pub use credential::{
    private_key_from_pem_or_der, ClientCredential, ClientCredentialBuilder, CredentialOptions,
    ServerCredential, ServerCredentialBuilder, CSP_NAME, CSP_TYPE,
};
pub use error::{Error, ErrorState};
pub use mapping::{
    sha256_thumbprint, MappedAccount, MappingMethod, MappingOutcome, MappingReport, MappingRules,
    MappingStep, MappingsError, MAPPINGS_FILE,
};
pub use policy::{
    EffectivePolicy, MessageLimitPolicy, NeverNegotiated, OfferedGroup, OfferedSuite,
    ProtocolPolicy, ProtocolUse, RolePolicy,
};
pub use protocol::{Protocol, Role};
pub use provider::{Provider, CRYPTO_MODULE_NAME};
pub use rustls::pki_types::UnixTime;
pub use securechannel_events as events;
pub use securechannel_events::{AlertDescription, EventId, Retention, Status};
pub use settings::{
    normalise_name, Change, ClientAuthTrustMode, EventLogSettings, ForwardSettings, ProtocolState,
    RegDiagnostic, RegEncoding, RegError, RegFile, RegFileProblem, RegFormat, RegLineProblem,
    RegOperation, RegSyntax, SettingApplication, SettingDef, SettingRule, SettingValue, Settings,
    SettingsError, SettingsProblem, SettingsWarning, Source, ValueKind, SETTINGS_FILE,
};
pub use staple::{OcspStapling, StapleObserver, StapleReport};
pub use store::{
    certificates_from_pem_or_der, subject_name, thumbprint, CertificateStores, KeyProblem,
    StoreName, StoreQuery, StoreWarning, StoredCertificate, StoredKey,
};
pub use stream::TlsStream;
pub use verify::{
    rfc3339_seconds, OcspInvalid, OcspResponseInfo, OcspSigner, OcspStatus, RevocationCheck,
    RevocationOffline, StapleCheck, CRL_FETCH_TIMEOUT, CRL_MAX_BYTES,
};

/// The ClientHello sniffer, exported for the fuzz target and its property tests only;
/// not part of the API.
#[doc(hidden)]
pub use hello::{sniff_client_hello, HelloSniff, MAX_SNIFF_BYTES};

/// Streams over tokio's `AsyncRead + AsyncWrite`, used like tokio-rustls (feature `tokio`).
#[cfg(feature = "tokio")]
pub mod tokio {
    pub use crate::tokio_stream::{accept, connect, TlsStream};
}
