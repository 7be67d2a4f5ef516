//! A failed exchange in an operator's words: the `Display` of the caller's error, which
//! `schannel connect` prints. rustls' own wording stays available as the error's
//! `source()`.

use crate::{ErrorState, Protocol, Role};
use securechannel_events::{AlertDescription, Status};

/// A failed exchange in an operator's words (the `Display` of the caller's error, which
/// `schannel connect` prints); rustls' own wording stays available as the error's
/// `source()`. What to do with the output buffer is API documentation (module docs), not
/// part of the message.
pub(crate) struct Failure<'a> {
    pub(super) role: Role,
    /// Client: the name the server's certificate was checked against (the SNI override
    /// when one was given, else the target name).
    pub(super) checked_name: &'a str,
    /// The status the call returns (for a certificate, the verifier's).
    pub(super) status: Status,
    /// The error state 36888 logged, or the failure table's.
    pub(super) state: ErrorState,
    /// Server: the legacy protocol the client offered.
    pub(super) legacy: Option<Protocol>,
    /// Server: the client's hello came in the SSLv2 record format.
    pub(super) sslv2_framed: bool,
    /// Whether an alert of ours went out.
    pub(super) alert_sent: bool,
}

impl Failure<'_> {
    fn peer(&self) -> &'static str {
        match self.role {
            Role::Client => "the server",
            Role::Server => "the client",
        }
    }

    pub(super) fn describe(&self, err: &rustls::Error) -> String {
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
            ErrorState::PeerCertificateRejected => self.certificate(err),
            ErrorState::ApplicationAlert => {
                format!("the application refused {peer}'s certificate")
            }
            // A version this provider speaks, in a record format it does not read.
            ErrorState::NoSharedProtocol
                if self.sslv2_framed && self.legacy.is_some_and(Protocol::is_supported) =>
            {
                format!(
                    "the client sent its hello in the SSL 2.0 record format (offering {}), which this provider does not read (TLS records only)",
                    self.legacy.map_or("", Protocol::name)
                )
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
            ErrorState::HandshakeVerifyFailed => format!(
                "{peer}'s Finished message does not match the handshake this side saw \
                 (a message was altered on the way, or the peer is broken)"
            ),
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
            ErrorState::HandshakeInterleaved => format!(
                "{peer} put another record between the parts of a handshake message (TLS forbids it)"
            ),
            ErrorState::TooManyEmptyFragments => {
                format!("{peer} sent too many empty records in a row")
            }
            ErrorState::TooManyWarningAlerts => format!("{peer} sent too many warning alerts"),
            ErrorState::HandshakeMessageTooLarge => format!(
                "{peer} sent a handshake message larger than the TLS engine reads (64 KiB)"
            ),
            ErrorState::IllegalInnerPlaintext => {
                format!("{peer} sent a TLS 1.3 record without a content type")
            }
            ErrorState::TooManyMessages => format!(
                "{peer} sent more ChangeCipherSpec, renegotiation or key update messages than allowed"
            ),
            ErrorState::NoServerCertificate => {
                "this server has no certificate to offer (its credential holds none)".to_owned()
            }
            _ => "the TLS exchange failed".to_owned(),
        }
    }

    /// A rejected peer certificate, by the status the verifier chose.
    fn certificate(&self, err: &rustls::Error) -> String {
        let cert = format!("{}'s certificate", self.peer());
        if let Some(why) = other_cause::<crate::verify::IssuerNotCertSigner>(err) {
            return format!("{cert} was rejected: {why}");
        }
        if let Some(webpki::Error::EndEntityUsedAsCa) = other_cause::<webpki::Error>(err) {
            return format!(
                "{cert} was rejected: one of its issuers is not a CA certificate (no basicConstraints cA)"
            );
        }
        if let Some(why) = crl_unavailable(err) {
            // What actually happened: an unreachable distribution point, or an expired CRL.
            return format!("the revocation status of {cert} is unknown: {why}");
        }
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
            // webpki's own refusal of a CRL that went stale while in use.
            Status::CryptERevocationOffline => {
                format!("the CRL for {cert} has expired (past its nextUpdate) and no fresh one is available")
            }
            Status::CertWrongUsage => {
                format!("{cert} is not valid for this use (key usage or extended key usage)")
            }
            Status::CertsrvEWeakSignatureOrKey => format!(
                "{cert} has a shorter RSA key than this {}'s policy allows (KeyExchangeAlgorithms\\PKCS\\ClientMinKeyBitLength)",
                self.role
            ),
            _ => format!("{cert} was rejected"),
        }
    }
}

/// Why no fresh CRL could be had, when that is why the certificate was refused.
fn crl_unavailable(err: &rustls::Error) -> Option<&crate::verify::CrlUnavailable> {
    other_cause(err)
}

/// The cause inside a certificate refusal of ours or webpki's (`CertificateError::Other`).
fn other_cause<T: std::error::Error + 'static>(err: &rustls::Error) -> Option<&T> {
    match err {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(o)) => o.0.downcast_ref(),
        _ => None,
    }
}

/// An alert's registry name (`unknown_ca`), or its number when it has none.
pub(super) fn alert_name(a: AlertDescription) -> String {
    a.name()
        .map_or_else(|| format!("alert {}", a.0), str::to_owned)
}
