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
mod settings;
mod stream;
mod tls;
mod tokio_stream;
mod verify;

pub use context::{
    CipherSuite, ClientContext, ConnectionInfo, ContextOptions, DecryptStatus, Decrypted,
    SecurityContext, ServerContext, Sni, Step, StepStatus, StreamSizes,
};
pub use credential::{ClientCredential, CredentialOptions, ServerCredential};
pub use error::{Error, ErrorState};
pub use hello::{sniff_client_hello, HelloSniff, MAX_SNIFF_BYTES};
pub use protocol::{Protocol, Role};
pub use securechannel_events as events;
pub use securechannel_events::{AlertDescription, EventId, Status};
pub use settings::Settings;
pub use stream::TlsStream;

/// Streams over tokio's `AsyncRead + AsyncWrite`, used like tokio-rustls.
pub mod tokio {
    pub use crate::tokio_stream::{accept, connect, TlsStream};
}
pub use verify::{ClientAuthTrustMode, RevocationCheck};
