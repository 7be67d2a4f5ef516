//! The application's alert token (SCHANNEL_ALERT_TOKEN during the handshake): the TLS
//! alert the application asks for → the verification error that makes rustls send it.
//! rustls has no call to send an arbitrary alert and this provider never writes TLS
//! records, so the alert is realised through rustls' own mechanism: the next certificate
//! verification fails with this error and rustls answers it with the alert.

use crate::Error;
use rustls::{CertificateError, OtherError};
use securechannel_events::{AlertDescription, Status};
use std::fmt;
use std::sync::Arc;

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
    use AlertDescription as A;
    let e = match alert {
        A::HANDSHAKE_FAILURE => {
            return Some(rustls::Error::General(format!(
                "the application refused the peer certificate with alert {alert}"
            )))
        }
        A::BAD_CERTIFICATE => CertificateError::BadEncoding,
        A::UNSUPPORTED_CERTIFICATE => CertificateError::InvalidPurpose,
        A::CERTIFICATE_REVOKED => CertificateError::Revoked,
        A::CERTIFICATE_EXPIRED => CertificateError::Expired,
        A::CERTIFICATE_UNKNOWN => {
            CertificateError::Other(OtherError(Arc::new(ApplicationAlert(alert))))
        }
        A::UNKNOWN_CA => CertificateError::UnknownIssuer,
        A::ACCESS_DENIED => CertificateError::ApplicationVerificationFailure,
        A::DECRYPT_ERROR => CertificateError::BadSignature,
        A::BAD_CERTIFICATE_STATUS_RESPONSE => CertificateError::InvalidOcspResponse,
        _ => return None,
    };
    Some(rustls::Error::InvalidCertificate(e))
}

/// Whether the alert token can produce `alert`; SEC_E_UNSUPPORTED_FUNCTION naming the
/// alerts that can be produced when it cannot.
pub(crate) fn check_token_alert(alert: AlertDescription) -> Result<(), Error> {
    if error_for_alert(alert).is_some() {
        return Ok(());
    }
    let producible: Vec<String> = (0..=u8::MAX)
        .map(AlertDescription)
        .filter(|a| error_for_alert(*a).is_some())
        .map(|a| a.0.to_string())
        .collect();
    Err(Error::new(
        Status::UnsupportedFunction,
        format!(
            "alert {alert} cannot be sent by refusing the peer certificate (rustls sends \
             alerts itself and has no call to send an arbitrary one); the alerts that can \
             are {}",
            producible.join(", ")
        ),
    ))
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
