//! The provider's error: an SSPI status, the event that was logged for it, the internal
//! error state (where Schannel logs one), and the cause.

pub use securechannel_events::ErrorState;
use securechannel_events::{EventId, Status};
use std::fmt;

/// A failure of the provider, as the caller sees it.
#[derive(Debug)]
pub struct Error {
    status: Status,
    event: Option<EventId>,
    state: Option<ErrorState>,
    chain_status: Option<Status>,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// A new error with its status and a description of what went wrong (never secrets).
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error {
            status,
            event: None,
            state: None,
            chain_status: None,
            message: message.into(),
            source: None,
        }
    }

    /// The event that was logged for this failure.
    pub fn with_event(mut self, event: EventId) -> Error {
        self.event = Some(event);
        self
    }

    /// The internal error state.
    pub fn with_state(mut self, state: ErrorState) -> Error {
        self.state = Some(state);
        self
    }

    /// The precise certificate-chain status (CERT_E_*, TRUST_E_*).
    pub fn with_chain_status(mut self, status: Status) -> Error {
        self.chain_status = Some(status);
        self
    }

    /// The underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.source = Some(Box::new(source));
        self
    }

    /// The SSPI status the call returns.
    pub fn status(&self) -> Status {
        self.status
    }

    /// The event logged for it, if any (logged subject to EventLogging).
    pub fn event(&self) -> Option<EventId> {
        self.event
    }

    /// The internal error state, if any.
    pub fn state(&self) -> Option<ErrorState> {
        self.state
    }

    /// For a refused certificate, CryptoAPI's precise chain status when it is more
    /// specific than [`Self::status`] (which is what Schannel's call returns): for example
    /// TRUST_E_BASIC_CONSTRAINTS for an issuer that is no CA, while the status is
    /// SEC_E_CERT_UNKNOWN. The same code is 36876's / 36877's ErrorCode.
    pub fn chain_status(&self) -> Option<Status> {
        self.chain_status
    }

    /// The description, without event and status.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The provider's error inside an I/O error, as the streams ([`crate::TlsStream`],
    /// `securechannel::tokio::TlsStream`) return it: a failed handshake, decrypt or encrypt
    /// keeps its status, event and error state.
    ///
    /// ```
    /// # fn demo(e: std::io::Error) {
    /// if let Some(e) = securechannel::Error::from_io_error(&e) {
    ///     eprintln!("TLS failed: {} (event {:?})", e.status(), e.event());
    /// }
    /// # }
    /// ```
    pub fn from_io_error(e: &std::io::Error) -> Option<&Error> {
        e.get_ref()?.downcast_ref::<Error>()
    }
}

impl From<Error> for std::io::Error {
    /// The error as the streams return it ([`Error::from_io_error`] takes it back out).
    fn from(e: Error) -> std::io::Error {
        std::io::Error::other(e)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(e) = self.event {
            write!(f, " [event {}]", e.value())?;
        }
        write!(f, " [{}]", self.status)?;
        if let Some(s) = self.state {
            write!(f, " [error state {}]", s.code())?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}
