//! The two Windows mappings of certificate validation, one table each:
//!
//! 1. [`verdict`]: a rustls / rustls-webpki verification error → the SSPI status Schannel
//!    returns, and the event a client logs for a server certificate (a server logs 36877
//!    for every client certificate failure, with the same status as ErrorCode).
//! 2. [`error_for_alert`]: a TLS alert the application asks for (SCHANNEL_ALERT_TOKEN
//!    during the handshake) → the verification error that makes rustls send it.
//!
//! The verifiers return rustls' own errors unchanged, so the alert the peer receives is the
//! one rustls chooses (`impl From<CertificateError> for AlertDescription` in rustls 0.23.46
//! `error.rs`; anything that is not `Error::InvalidCertificate` is sent as
//! handshake_failure (40), see `CommonState::send_cert_verify_error_alert`). The full table:
//!
//! | rustls error (from webpki)                              | status                      | server cert event | alert sent |
//! |---------------------------------------------------------|-----------------------------|-------------------|------------|
//! | `Expired`, `NotValidYet` (+ `..Context`), any cert of the path | SEC_E_CERT_EXPIRED 0x80090328 | 36881 | 45 certificate_expired |
//! | `UnknownIssuer` (no path to a trusted root)             | SEC_E_UNTRUSTED_ROOT 0x80090325 | 36882         | 48 unknown_ca |
//! | `Revoked` (a CRL lists the cert or one of its path)     | CRYPT_E_REVOKED 0x80092010  | 36883             | 44 certificate_revoked |
//! | `NotValidForName` (+ `Context`)                         | SEC_E_WRONG_PRINCIPAL 0x80090322 | 36884 (Name) | 42 bad_certificate |
//! | `InvalidPurpose` (+ `Context`): EKU lacks server/client auth | SEC_E_CERT_WRONG_USAGE 0x80090349 | 36876 | 43 unsupported_certificate |
//! | `UnknownRevocationStatus` (no CRL for a cert, status required) | CRYPT_E_NO_REVOCATION_CHECK 0x80092012 | 36876 | 48 unknown_ca |
//! | `ExpiredRevocationList` (+ `Context`)                   | CRYPT_E_REVOCATION_OFFLINE 0x80092013 | 36876  | 48 unknown_ca |
//! | `Error::InvalidCertRevocationList` (a CRL is unusable)  | CRYPT_E_NO_REVOCATION_CHECK 0x80092012 | 36876 | 40 handshake_failure |
//! | `BadSignature`, `UnsupportedSignatureAlgorithm*`        | SEC_E_CERT_UNKNOWN 0x80090327 | 36876           | 51 decrypt_error |
//! | `Other(webpki::Error::{PathLenConstraintViolated, MaximumPathDepthExceeded, MaximumPathBuildCallsExceeded, MaximumSignatureChecksExceeded})` | CERT_E_CHAINING 0x800B010A | 36876 | 46 certificate_unknown |
//! | `BadEncoding`, `UnhandledCriticalExtension`             | SEC_E_CERT_UNKNOWN 0x80090327 | 36876           | 42 bad_certificate |
//! | `Other(..)` (anything else webpki refuses)              | SEC_E_CERT_UNKNOWN 0x80090327 | 36876           | 46 certificate_unknown |
//! | any other `rustls::Error`                               | SEC_E_CERT_UNKNOWN 0x80090327 | 36876           | 40 handshake_failure |
//!
//! Windows has more specific codes for some "unknown" rows (TRUST_E_CERT_SIGNATURE for a bad
//! signature, CERT_E_CRITICAL, CERT_E_PATHLENCONST, CERT_E_MALFORMED); the project's status
//! table (shared/spec/status.toml) does not carry them, so they fall back to
//! SEC_E_CERT_UNKNOWN / CERT_E_CHAINING, which Schannel also returns for an unusable chain.

use rustls::{CertificateError, OtherError};
use securechannel_events::{AlertDescription, EventId, Status};
use std::fmt;
use std::sync::Arc;

/// What a refused certificate means on Windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The SSPI status (ErrorCode in 36876 / 36877).
    pub(crate) status: Status,
    /// The event a client logs when this happens to the server's certificate.
    pub(crate) server_certificate_event: EventId,
}

/// The one table from a verification error to its Windows verdict (see the module docs).
pub(crate) fn verdict(error: &rustls::Error) -> Verdict {
    use CertificateError as C;
    let (status, event) = match error {
        rustls::Error::InvalidCertificate(e) => match e {
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => {
                (Status::CertExpired, EventId::ServerCertificateExpired)
            }
            C::UnknownIssuer => (
                Status::UntrustedRoot,
                EventId::ServerCertificateUntrustedRoot,
            ),
            C::Revoked => (Status::CryptERevoked, EventId::ServerCertificateRevoked),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                (Status::WrongPrincipal, EventId::ServerCertificateWrongName)
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                (Status::CertWrongUsage, EventId::ServerCertificateInvalid)
            }
            C::UnknownRevocationStatus => (
                Status::CryptENoRevocationCheck,
                EventId::ServerCertificateInvalid,
            ),
            // CryptoAPI does not use a CRL past its nextUpdate: the status is "offline".
            C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => (
                Status::CryptERevocationOffline,
                EventId::ServerCertificateInvalid,
            ),
            C::Other(other) if is_chaining_limit(other) => {
                (Status::CertEChaining, EventId::ServerCertificateInvalid)
            }
            _ => (Status::CertUnknown, EventId::ServerCertificateInvalid),
        },
        // A CRL that cannot be used (bad signature, issuer not a CRL signer): the
        // revocation check could not be made.
        rustls::Error::InvalidCertRevocationList(_) => (
            Status::CryptENoRevocationCheck,
            EventId::ServerCertificateInvalid,
        ),
        _ => (Status::CertUnknown, EventId::ServerCertificateInvalid),
    };
    Verdict {
        status,
        server_certificate_event: event,
    }
}

/// webpki's refusals of a path that is too long or too costly to build.
fn is_chaining_limit(other: &OtherError) -> bool {
    matches!(
        other.0.downcast_ref::<webpki::Error>(),
        Some(
            webpki::Error::PathLenConstraintViolated
                | webpki::Error::MaximumPathDepthExceeded
                | webpki::Error::MaximumPathBuildCallsExceeded
                | webpki::Error::MaximumSignatureChecksExceeded
        )
    )
}

/// The error a verifier returns so that rustls sends `alert`, or `None` when no
/// verification error makes rustls send it.
///
/// | alert                                  | returned error                                   |
/// |----------------------------------------|--------------------------------------------------|
/// | 40 handshake_failure                   | `Error::General` (rustls sends 40 for any non-certificate error) |
/// | 42 bad_certificate                     | `CertificateError::BadEncoding`                  |
/// | 43 unsupported_certificate             | `CertificateError::InvalidPurpose`               |
/// | 44 certificate_revoked                 | `CertificateError::Revoked`                      |
/// | 45 certificate_expired                 | `CertificateError::Expired`                      |
/// | 46 certificate_unknown                 | `CertificateError::Other(ApplicationAlert)`      |
/// | 48 unknown_ca                          | `CertificateError::UnknownIssuer`                |
/// | 49 access_denied                       | `CertificateError::ApplicationVerificationFailure` |
/// | 51 decrypt_error                       | `CertificateError::BadSignature`                 |
/// | 113 bad_certificate_status_response    | `CertificateError::InvalidOcspResponse`          |
///
/// Every other alert (close_notify, unexpected_message, bad_record_mac, record_overflow,
/// illegal_parameter, decode_error, protocol_version, insufficient_security, internal_error,
/// user_canceled, missing_extension, unsupported_extension, unrecognized_name,
/// certificate_required, no_application_protocol, reserved and unassigned codes) has no
/// verification error that produces it: rustls sends those itself when the protocol calls
/// for them, and `set_pending_alert` refuses them.
pub(crate) fn error_for_alert(alert: AlertDescription) -> Option<rustls::Error> {
    let e = match alert.0 {
        40 => {
            return Some(rustls::Error::General(format!(
                "the application refused the peer certificate with alert {alert}"
            )))
        }
        42 => CertificateError::BadEncoding,
        43 => CertificateError::InvalidPurpose,
        44 => CertificateError::Revoked,
        45 => CertificateError::Expired,
        46 => CertificateError::Other(OtherError(Arc::new(ApplicationAlert(alert)))),
        48 => CertificateError::UnknownIssuer,
        49 => CertificateError::ApplicationVerificationFailure,
        51 => CertificateError::BadSignature,
        113 => CertificateError::InvalidOcspResponse,
        _ => return None,
    };
    Some(rustls::Error::InvalidCertificate(e))
}

/// The cause carried by an application-requested certificate_unknown alert, so that the
/// error says what happened instead of pretending webpki refused the certificate.
#[derive(Debug)]
pub(crate) struct ApplicationAlert(pub(crate) AlertDescription);

impl fmt::Display for ApplicationAlert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the application refused the peer certificate with alert {}",
            self.0
        )
    }
}

impl std::error::Error for ApplicationAlert {}
