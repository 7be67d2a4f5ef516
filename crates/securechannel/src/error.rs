//! The provider's error: an SSPI status, the event that was logged for it, the internal
//! error state (where Schannel logs one), and the cause.

use securechannel_events::{EventId, Status};
use std::fmt;

/// Internal error states: a stable number per reason, printed in 36870 (`ErrorStatus`),
/// 36871 (`ErrorState`) and 36888 (`ErrorState`). This enum is the one table of them;
/// numbers are never reused or renumbered.
///
/// Ranges: 1xxx credential acquisition (36871), 2xxx private keys (36870),
/// 3xxx alerts we generate (36888), 4xxx provider initialisation (36865/36866).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum ErrorState {
    /// A server credential was given no certificate and none was asked from the store.
    NoCertificate = 1001,
    /// The certificate file cannot be read or holds no certificate.
    CertificateUnreadable = 1002,
    /// The certificate is not valid X.509.
    CertificateInvalid = 1003,
    /// No protocol version that rustls speaks is enabled for this role.
    NoProtocolEnabled = 1004,
    /// The machine store has no certificate with this thumbprint or subject.
    CertificateNotFound = 1005,
    /// The certificate store directory cannot be read.
    StoreUnreadable = 1006,
    /// The TLS engine rejected the configuration built from the credential.
    EngineConfiguration = 1007,
    /// The certificate has no private key (36869): no key file, no key in keys/ or in
    /// the .pfx with its public key.
    NoPrivateKey = 1008,
    /// The private key given belongs to another certificate (36869).
    KeyMismatch = 1009,
    /// The PKCS#12 (.pfx) file is not valid PKCS#12.
    Pkcs12Invalid = 1010,
    /// The development certificate (first run of `schannel serve`) cannot be created.
    DevCertificateFailed = 1011,
    /// The settings leave no cipher suite usable with the credential's protocols (what
    /// `Protocols`, `Ciphers`, `Hashes`, `KeyExchangeAlgorithms` and the
    /// `CipherSuiteOrder` leave, see `schannel config show`): a server credential is
    /// refused (36871, SEC_E_ALGORITHM_MISMATCH); a client's contexts log 36873.
    NoUsableCipherSuite = 1012,

    /// The key file cannot be read (permissions, missing).
    KeyUnreadable = 2001,
    /// The key file is readable by group or others; refused.
    KeyPermissionsUnsafe = 2002,
    /// The .pfx password is wrong or missing.
    KeyWrongPassword = 2003,
    /// The key file is not a key in any supported encoding.
    KeyCorrupt = 2004,
    /// The key's algorithm is not supported by the crypto provider.
    KeyUnsupported = 2005,

    /// We rejected the peer's certificate (the alert follows the certificate error, as
    /// rustls maps it: unknown_ca, certificate_expired, bad_certificate, ...).
    PeerCertificateRejected = 3001,
    /// A record or handshake message could not be decoded (decode_error).
    MalformedMessage = 3002,
    /// A record failed authentication or decryption (bad_record_mac).
    RecordDecryptFailed = 3003,
    /// A record's plaintext exceeded the protocol's limit (record_overflow).
    RecordOverflow = 3004,
    /// A message arrived that the handshake state does not allow (unexpected_message).
    UnexpectedMessage = 3005,
    /// The peer offers no protocol version we have enabled (protocol_version).
    NoSharedProtocol = 3006,
    /// The peer offers no cipher suite, group or signature scheme we accept
    /// (handshake_failure).
    NoSharedAlgorithm = 3007,
    /// A field of the peer's message holds a value the protocol forbids
    /// (illegal_parameter).
    IllegalParameter = 3008,
    /// The peer left out an extension the protocol requires (missing_extension).
    MissingExtension = 3009,
    /// The peer sent an extension it must not send there (unsupported_extension).
    UnsupportedExtension = 3010,
    /// The peer broke the protocol in a way rustls answers with another alert.
    PeerMisbehaved = 3011,
    /// The client sent no certificate where one is required (certificate_required).
    ClientCertificateRequired = 3012,
    /// No application protocol (ALPN) is shared (no_application_protocol).
    NoApplicationProtocol = 3013,
    /// The server credential has no certificate to offer (access_denied).
    NoServerCertificate = 3014,
    /// A TLS 1.3 peer sent a warning alert, which TLS 1.3 forbids (decode_error).
    WarningAlertInTls13 = 3015,
    /// The application asked for this alert (SCHANNEL_ALERT_TOKEN).
    ApplicationAlert = 3016,
    /// The peer's Finished message does not verify: the handshake it saw is not the one
    /// this side saw (decrypt_error).
    HandshakeVerifyFailed = 3017,
    /// A handshake message split over records had another record between its parts
    /// (RFC 8446 section 5.1), or rejected early data was interleaved with one
    /// (unexpected_message). rustls sends no alert for it: the alert goes out only while
    /// this side still sends plaintext (see the verdict table).
    HandshakeInterleaved = 3018,
    /// The peer sent more consecutive empty records than rustls accepts (32)
    /// (unexpected_message; rustls sends none, as for 3018).
    TooManyEmptyFragments = 3019,
    /// The peer sent more warning alerts than rustls accepts (4) (unexpected_message, as
    /// OpenSSL sends; rustls sends none, as for 3018).
    TooManyWarningAlerts = 3020,
    /// A handshake message above rustls' own bound of 64 KiB, whatever
    /// `Messaging\MessageLimit*` allows (decode_error; rustls sends none, as for 3018).
    HandshakeMessageTooLarge = 3021,
    /// A TLS 1.3 record with no content type after its padding (RFC 8446 section 5.4:
    /// unexpected_message). It is encrypted, so rustls could only send its alert
    /// encrypted, and sends none.
    IllegalInnerPlaintext = 3022,
    /// More ChangeCipherSpec records, renegotiation requests or key updates than the
    /// protocol or rustls allows (unexpected_message; rustls sends none, as for 3018).
    TooManyMessages = 3023,
    /// Any other failure after which rustls sends handshake_failure.
    HandshakeFailed = 3099,

    /// The crypto provider could not be installed.
    CryptoProviderUnavailable = 4001,
    /// The settings file cannot be read or parsed.
    SettingsInvalid = 4002,
    /// The data directory or a store in it cannot be opened.
    DataDirectoryUnusable = 4003,
}

impl ErrorState {
    /// The stable number.
    pub fn code(self) -> u32 {
        self as u32
    }
}

impl fmt::Display for ErrorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// A failure of the provider, as the caller sees it.
#[derive(Debug)]
pub struct Error {
    status: Status,
    event: Option<EventId>,
    state: Option<ErrorState>,
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
