//! securechannel: a Secure Channel (Schannel) security provider on rustls.
//!
//! The shape is SSPI's: acquire a credential ([`ClientCredential`], [`ServerCredential`]),
//! drive a security context with tokens in and out, then encrypt and decrypt messages.
//! Every step Schannel logs is logged here, with the same event ID and data, through the
//! [`securechannel_events::EventSink`] the program chooses.
#![forbid(unsafe_code)]

mod context;
mod credential;
mod credential_mem;
mod error;
mod hello;
mod protocol;
mod provider;
mod settings;
mod store;
mod stream;
mod tls;
#[cfg(feature = "tokio")]
mod tokio_stream;
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
pub use hello::{sniff_client_hello, HelloSniff, MAX_SNIFF_BYTES};
pub use protocol::{Protocol, Role};
pub use provider::{Provider, CRYPTO_MODULE_NAME};
pub use securechannel_events as events;
pub use securechannel_events::{AlertDescription, EventId, Status};
pub use settings::{
    normalise_name, ClientAuthTrustMode, EventLogSettings, ProtocolState, Retention, SettingDef,
    SettingValue, Settings, SettingsError, SettingsProblem, SettingsWarning, ValueKind,
    SETTINGS_FILE,
};
pub use store::{
    certificates_from_pem_or_der, subject_name, thumbprint, CertificateStores, KeyProblem,
    StoreName, StoreQuery, StoreWarning, StoredCertificate, StoredKey,
};
pub use stream::TlsStream;
pub use verify::RevocationCheck;

/// Streams over tokio's `AsyncRead + AsyncWrite`, used like tokio-rustls (feature `tokio`).
#[cfg(feature = "tokio")]
pub mod tokio {
    pub use crate::tokio_stream::{accept, connect, TlsStream};
}
