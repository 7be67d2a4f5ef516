//! The one table from a rustls failure to what Schannel reports: the alert rustls sends
//! for it, the internal [`ErrorState`] 36888 prints, the SSPI [`Status`] the call returns,
//! and the event that names the failure. Everything that turns a rustls error into
//! Windows' vocabulary reads [`verdict`]; nothing else matches on rustls errors.
//!
//! The alert column mirrors where rustls 0.23.46 calls `send_fatal_alert`
//! (common_state.rs, conn.rs, client/, server/): rustls does not say which alert it sent,
//! only that bytes were queued, so the code comes from here. Whether an alert was sent
//! at all is a fact the engine reports (bytes produced after the failure, see
//! [`Facts::alert_sent`]); 36888 is logged only then.
//!
//! Some failures rustls refuses with no alert at all ([`Verdict::silent`]: a handshake
//! message interleaved with another record, too many warning alerts, empty records,
//! ChangeCipherSpecs, renegotiation requests or key updates, a TLS 1.3 record without a
//! content type, a handshake message over 64 KiB). While this side still sends plaintext
//! (nothing negotiated yet, or TLS 1.2 before its ChangeCipherSpec) the context has rustls
//! send the row's alert from a throwaway connection (`engine::plaintext_alert`), and 36888
//! names it; once this side encrypts, no alert can go out (rustls alone holds the keys,
//! and its connection has failed): nothing is logged as sent, and the caller's error
//! carries the row's error state.
//!
//! Refused certificates (rustls-webpki's verdicts, through our verifiers, which return
//! rustls' errors unchanged so the alert is rustls' own, `impl From<CertificateError> for
//! AlertDescription`; anything that is not `Error::InvalidCertificate` is sent as
//! handshake_failure by `CommonState::send_cert_verify_error_alert`):
//!
//! | rustls error (from webpki)                              | status                      | client's event | alert sent |
//! |---------------------------------------------------------|-----------------------------|----------------|------------|
//! | `Expired`, `NotValidYet` (+ `..Context`), any cert of the path | SEC_E_CERT_EXPIRED 0x80090328 | 36881 | 45 certificate_expired |
//! | `UnknownIssuer` (no path to a trusted root)             | SEC_E_UNTRUSTED_ROOT 0x80090325 | 36882      | 48 unknown_ca |
//! | `Revoked` (a CRL lists the cert or one of its path)     | CRYPT_E_REVOKED 0x80092010  | 36883          | 44 certificate_revoked |
//! | `NotValidForName` (+ `Context`)                         | SEC_E_WRONG_PRINCIPAL 0x80090322 | 36884 (Name) | 42 bad_certificate |
//! | `InvalidPurpose` (+ `Context`): EKU lacks server/client auth | SEC_E_CERT_WRONG_USAGE 0x80090349 | 36876 | 43 unsupported_certificate |
//! | `UnknownRevocationStatus` (no CRL for a cert, status required) | CRYPT_E_NO_REVOCATION_CHECK 0x80092012 | 36876 | 48 unknown_ca |
//! | `ExpiredRevocationList` (+ `Context`): CryptoAPI does not use a CRL past its nextUpdate (webpki's, for a CRL that went stale while its verifier was in use) | CRYPT_E_REVOCATION_OFFLINE 0x80092013 | 36876 | 48 unknown_ca |
//! | `Other(CrlUnavailable)` (ours: no fresh CRL, and offline is not ignored: a distribution point could not be read, or the only CRL expired) | CRYPT_E_REVOCATION_OFFLINE 0x80092013 | 36876 | 46 certificate_unknown |
//! | `Error::InvalidCertRevocationList` (a CRL is unusable)  | CRYPT_E_NO_REVOCATION_CHECK 0x80092012 | 36876 | 40 handshake_failure |
//! | `BadSignature`, `UnsupportedSignatureAlgorithm*`        | SEC_E_CERT_UNKNOWN 0x80090327 | 36876        | 51 decrypt_error |
//! | `Other(RsaKeyTooShort)` (ours: the server's RSA key is shorter than `KeyExchangeAlgorithms\PKCS\ClientMinKeyBitLength`) | CERTSRV_E_WEAK_SIGNATURE_OR_KEY 0x80094016 | 36876 | 46 certificate_unknown |
//! | `Other(webpki::Error::{PathLenConstraintViolated, MaximumPathDepthExceeded, MaximumPathBuildCallsExceeded, MaximumSignatureChecksExceeded})` | CERT_E_CHAINING 0x800B010A | 36876 | 46 certificate_unknown |
//! | `Other(webpki::Error::EmptyEkuExtension)`: an extendedKeyUsage naming no purpose | SEC_E_CERT_WRONG_USAGE 0x80090349 | 36876 | 46 certificate_unknown |
//! | `Other(webpki::Error::EndEntityUsedAsCa)`: an issuer without basicConstraints cA | SEC_E_CERT_UNKNOWN 0x80090327 (chain: TRUST_E_BASIC_CONSTRAINTS 0x80096019) | 36876 | 46 certificate_unknown |
//! | `Other(IssuerNotCertSigner)` (ours: an issuer whose keyUsage lacks keyCertSign, which webpki accepts) | SEC_E_CERT_UNKNOWN 0x80090327 (chain: TRUST_E_BASIC_CONSTRAINTS 0x80096019) | 36876 | 46 certificate_unknown |
//! | `BadEncoding`, `UnhandledCriticalExtension`             | SEC_E_CERT_UNKNOWN 0x80090327 (chain: CERT_E_MALFORMED 0x800B0108, CERT_E_CRITICAL 0x800B0105) | 36876 | 42 bad_certificate |
//! | `Other(webpki::Error::UnsupportedCriticalExtension)`: an unknown critical extension in any certificate of the path (webpki's, which rustls passes on as `Other`), or in the trust anchor (ours: webpki never looks at it) | SEC_E_CERT_UNKNOWN 0x80090327 (chain: CERT_E_CRITICAL 0x800B0105) | 36876 | 46 certificate_unknown |
//! | `Other(..)` (anything else webpki refuses)              | SEC_E_CERT_UNKNOWN 0x80090327 | 36876        | 46 certificate_unknown |
//!
//! A server logs 36877 for every refused client certificate, with the same status as its
//! ErrorCode. The certificate events are logged when a verifier of ours refused a
//! certificate ([`Facts::certificate_rejected`]); a bad handshake signature is refused by
//! rustls with the same errors but names no certificate event.
//!
//! Windows has more specific codes for some "unknown" rows (TRUST_E_CERT_SIGNATURE for a
//! bad signature, CERT_E_CRITICAL, CERT_E_PATHLENCONST, CERT_E_MALFORMED,
//! TRUST_E_BASIC_CONSTRAINTS); Schannel's context calls return the SEC_E_* codes above for
//! them, as here, and the precise one is the verdict's [`Verdict::chain_status`]: the
//! caller's [`crate::Error::chain_status`] and the ErrorCode of 36876 / 36877. An expired
//! or not-yet-valid trust anchor (which webpki never checks) is refused as `ExpiredContext`
//! / `NotValidYetContext` by our verifiers: the first row.

use crate::{ErrorState, Protocol, Role};
use rustls::{CertificateError, OtherError};
use securechannel_events::{AlertDescription, EventId, Status};

/// What a rustls failure means for Schannel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The alert rustls sends for it (when it sends one; see [`Facts::alert_sent`]).
    pub(crate) alert: AlertDescription,
    /// Our stable internal error state, printed by 36888.
    pub(crate) state: ErrorState,
    /// The status the call returns.
    pub(crate) status: Status,
    /// The event that names this failure, logged before 36888 (which follows whenever an
    /// alert was sent): a certificate event, 36887 for a fatal alert received, 36874 for a
    /// hello sharing nothing with the server, 36886 for a server without a certificate.
    pub(crate) event: Option<EventId>,
    /// The precise CryptoAPI chain status (CERT_E_*, TRUST_E_*) when Windows has one more
    /// specific than `status`: what the application can query
    /// ([`crate::Error::chain_status`]) and what 36876 / 36877 carry as ErrorCode.
    pub(crate) chain_status: Option<Status>,
    /// rustls refuses this without sending any alert. `alert` is then the one the
    /// context has rustls send in plaintext from a throwaway connection (decode_error or
    /// unexpected_message, `engine::plaintext_alert`) while this side still sends
    /// plaintext; once it encrypts, no alert goes out and no 36888 is logged.
    pub(crate) silent: bool,
}

/// What the context knows about the failure besides rustls' error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Facts {
    pub(crate) role: Role,
    /// An alert went out: rustls' own, or for a failure rustls answers with none, rustls'
    /// plaintext alert from a throwaway connection (see [`Verdict::silent`]).
    pub(crate) alert_sent: bool,
    /// rustls itself queued an alert after failing (as opposed to none, or a throwaway
    /// connection's).
    pub(crate) rustls_alerted: bool,
    /// A verifier of ours refused the peer's certificate (and handed it over).
    pub(crate) certificate_rejected: bool,
    /// The application asked for this alert (SCHANNEL_ALERT_TOKEN), realised as a
    /// certificate error.
    pub(crate) application_alert: Option<AlertDescription>,
    /// Server: the credential holds a certificate.
    pub(crate) has_certificate: bool,
    /// Server: the client's hello offered only a protocol older than TLS 1.2, and rustls
    /// had negotiated nothing yet.
    pub(crate) legacy_hello: Option<Protocol>,
    /// Server: the client's hello offers none of this credential's cipher suites (and
    /// rustls had negotiated nothing yet), whichever check rustls refused it at.
    pub(crate) hello_shares_no_suite: bool,
    /// The record rustls failed on had passed the record layer (the engine saw it
    /// consumed): a `DecryptError` is then a handshake message that did not verify (a
    /// Finished), which rustls answers with decrypt_error, not a record that failed
    /// authentication (bad_record_mac).
    pub(crate) record_accepted: bool,
}

impl Facts {
    /// The facts of a failure on `role` with nothing else known.
    pub(crate) fn new(role: Role) -> Facts {
        Facts {
            role,
            alert_sent: false,
            rustls_alerted: false,
            certificate_rejected: false,
            application_alert: None,
            has_certificate: true,
            legacy_hello: None,
            hello_shares_no_suite: false,
            record_accepted: false,
        }
    }
}

fn alert_of(a: rustls::AlertDescription) -> AlertDescription {
    AlertDescription(u8::from(a))
}

/// The one table (see the module docs for the certificate rows).
///
/// `Error::DecryptError` is sent as bad_record_mac when a record fails authentication
/// (conn.rs `handle_deframe_error`), but as decrypt_error when a Finished message does
/// not verify (client/ and server/ tls12.rs, tls13.rs); the engine tells them apart by
/// whether the record was consumed ([`Facts::record_accepted`]). A bad PSK binder is its
/// own error (`PeerMisbehaved::IncorrectBinder`).
pub(crate) fn verdict(err: &rustls::Error, facts: Facts) -> Verdict {
    use rustls::AlertDescription as A;
    use rustls::Error as E;
    use rustls::{PeerIncompatible as PI, PeerMisbehaved as PM};
    let v = |alert: A, state, status| Verdict {
        alert: alert_of(alert),
        state,
        status,
        event: None,
        chain_status: None,
        silent: false,
    };
    // A failure rustls refuses without an alert (conn.rs `process_more_input`, the
    // hs_deframer, common_state.rs `TemperCounters`, msgs/message/inbound.rs).
    let silent = |alert: A, state| Verdict {
        silent: true,
        ..v(alert, state, Status::IllegalMessage)
    };
    let certificate_event = |status| match facts.role {
        _ if !facts.certificate_rejected => None,
        Role::Client => Some(server_certificate_event(status)),
        Role::Server => Some(EventId::ClientCertificateInvalid),
    };
    let mut verdict = match err {
        // send_cert_verify_error_alert: the certificate error's own alert (rustls'
        // `From<CertificateError> for AlertDescription`).
        E::InvalidCertificate(ce) => {
            let status = certificate_status(ce);
            Verdict {
                event: certificate_event(status),
                chain_status: chain_status(ce),
                ..v(
                    ce.clone().into(),
                    ErrorState::PeerCertificateRejected,
                    status,
                )
            }
        }
        // A CRL that cannot be used (bad signature, issuer not a CRL signer): the
        // revocation check could not be made; send_cert_verify_error_alert's default.
        E::InvalidCertRevocationList(_) => {
            let status = Status::CryptENoRevocationCheck;
            Verdict {
                event: certificate_event(status),
                ..v(
                    A::HandshakeFailure,
                    ErrorState::PeerCertificateRejected,
                    status,
                )
            }
        }
        // A handshake message above the hs_deframer's 64 KiB (its `coalesce`, whose error
        // conn.rs passes on without an alert).
        E::InvalidMessage(rustls::InvalidMessage::HandshakePayloadTooLarge) => {
            silent(A::DecodeError, ErrorState::HandshakeMessageTooLarge)
        }
        // A plaintext record longer than rustls reads (2^14 + 2048; and, through the
        // first-flight check, any over 2^14): decode_error, rustls' answer to it.
        E::InvalidMessage(rustls::InvalidMessage::MessageTooLarge) => v(
            A::DecodeError,
            ErrorState::RecordOverflow,
            Status::IllegalMessage,
        ),
        // Message::try_from / the deframer: `From<InvalidMessage>` (decode_error, or
        // illegal_parameter / unsupported_extension for the few cases rustls names).
        E::InvalidMessage(m) => Verdict {
            alert: alert_of((*m).into()),
            ..v(
                A::DecodeError,
                ErrorState::MalformedMessage,
                Status::IllegalMessage,
            )
        },
        // The handshake's own integrity check: what the peer hashed is not what we saw.
        E::DecryptError if facts.record_accepted => v(
            A::DecryptError,
            ErrorState::HandshakeVerifyFailed,
            Status::MessageAltered,
        ),
        E::DecryptError => v(
            A::BadRecordMac,
            ErrorState::RecordDecryptFailed,
            Status::DecryptFailure,
        ),
        E::PeerSentOversizedRecord => v(
            A::RecordOverflow,
            ErrorState::RecordOverflow,
            Status::IllegalMessage,
        ),
        E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => v(
            A::UnexpectedMessage,
            ErrorState::UnexpectedMessage,
            Status::IllegalMessage,
        ),
        E::PeerIncompatible(pi) => match pi {
            PI::Tls12NotOffered
            | PI::Tls12NotOfferedOrEnabled
            | PI::SupportedVersionsExtensionRequired
            | PI::Tls13RequiredForQuic
            | PI::ServerDoesNotSupportTls12Or13
            | PI::ServerTlsVersionIsDisabledByOurConfig => v(
                A::ProtocolVersion,
                ErrorState::NoSharedProtocol,
                Status::UnsupportedFunction,
            ),
            PI::NullCompressionRequired | PI::UncompressedEcPointsRequired => v(
                A::IllegalParameter,
                ErrorState::IllegalParameter,
                Status::IllegalMessage,
            ),
            PI::ServerRejectedEncryptedClientHello(_) => v(
                A::EncryptedClientHelloRequired,
                ErrorState::NoSharedAlgorithm,
                Status::AlgorithmMismatch,
            ),
            // No suites, groups or signature schemes in common, EMS required, ...
            _ => v(
                A::HandshakeFailure,
                ErrorState::NoSharedAlgorithm,
                Status::AlgorithmMismatch,
            ),
        },
        E::PeerMisbehaved(
            PM::MessageInterleavedWithHandshakeMessage
            | PM::RejectedEarlyDataInterleavedWithHandshakeMessage,
        ) => silent(A::UnexpectedMessage, ErrorState::HandshakeInterleaved),
        E::PeerMisbehaved(PM::TooManyEmptyFragments) => {
            silent(A::UnexpectedMessage, ErrorState::TooManyEmptyFragments)
        }
        E::PeerMisbehaved(PM::TooManyWarningAlertsReceived) => {
            silent(A::UnexpectedMessage, ErrorState::TooManyWarningAlerts)
        }
        E::PeerMisbehaved(PM::IllegalTlsInnerPlaintext) => {
            silent(A::UnexpectedMessage, ErrorState::IllegalInnerPlaintext)
        }
        // A second middlebox ChangeCipherSpec (an invalid one is answered with
        // unexpected_message: the row below), renegotiation requests, key updates.
        E::PeerMisbehaved(
            PM::IllegalMiddleboxChangeCipherSpec
            | PM::TooManyRenegotiationRequests
            | PM::TooManyKeyUpdateRequests,
        ) if !facts.rustls_alerted => silent(A::UnexpectedMessage, ErrorState::TooManyMessages),
        E::PeerMisbehaved(pm) => {
            let (alert, state) = match pm {
                PM::IllegalMiddleboxChangeCipherSpec
                | PM::KeyEpochWithPendingFragment
                | PM::KeyUpdateReceivedInQuicConnection
                | PM::TooMuchEarlyDataReceived => {
                    (A::UnexpectedMessage, ErrorState::UnexpectedMessage)
                }
                PM::MissingKeyShare
                | PM::MissingPskExtensionInSecondClientHello
                | PM::MissingPskModesExtension => {
                    (A::MissingExtension, ErrorState::MissingExtension)
                }
                PM::DisallowedEncryptedExtension
                | PM::UnexpectedCleartextExtension
                | PM::UnsolicitedEchExtension
                | PM::UnsolicitedEncryptedExtension
                | PM::UnsolicitedServerHelloExtension => {
                    (A::UnsupportedExtension, ErrorState::UnsupportedExtension)
                }
                PM::SelectedUnofferedCertCompression | PM::InvalidCertCompression => {
                    (A::BadCertificate, ErrorState::PeerMisbehaved)
                }
                PM::IncorrectBinder => (A::DecryptError, ErrorState::PeerMisbehaved),
                PM::MissingBinderInPskExtension => (A::DecodeError, ErrorState::PeerMisbehaved),
                PM::SelectedUnofferedCipherSuite | PM::ServerHelloMustOfferUncompressedEcPoints => {
                    (A::HandshakeFailure, ErrorState::PeerMisbehaved)
                }
                // Everything else rustls answers with illegal_parameter (and
                // send_cert_verify_error_alert does the same for any PeerMisbehaved).
                _ => (A::IllegalParameter, ErrorState::IllegalParameter),
            };
            v(alert, state, Status::IllegalMessage)
        }
        E::NoCertificatesPresented => v(
            A::CertificateRequired,
            ErrorState::ClientCertificateRequired,
            Status::IncompleteCredentials,
        ),
        E::NoApplicationProtocol => v(
            A::NoApplicationProtocol,
            ErrorState::NoApplicationProtocol,
            Status::ApplicationProtocolMismatch,
        ),
        // A server whose credential holds no certificate: its resolver declines every
        // hello and rustls refuses with access_denied (server/hs.rs, a General error).
        // 36886 was logged when the hello arrived.
        E::General(_) if facts.role == Role::Server && !facts.has_certificate => Verdict {
            event: Some(EventId::NoDefaultServerCredential),
            ..v(
                A::AccessDenied,
                ErrorState::NoServerCertificate,
                Status::NoCredentials,
            )
        },
        // rustls answers only an alert that was not fatal (a TLS 1.3 warning alert, with
        // decode_error; an unknown level, with illegal_parameter, which this row cannot
        // tell apart) and refuses it: our failure, not the peer's fatal alert.
        E::AlertReceived(_) if facts.alert_sent => v(
            A::DecodeError,
            ErrorState::WarningAlertInTls13,
            Status::IllegalMessage,
        ),
        // A fatal alert received: nothing is sent; the status is the alert's
        // (alerts.toml), and 36887 names the alert.
        E::AlertReceived(a) => Verdict {
            event: Some(EventId::FatalAlertReceived),
            ..v(
                A::CloseNotify,
                ErrorState::HandshakeFailed,
                alert_of(*a).received_status(),
            )
        },
        // send_cert_verify_error_alert's default.
        _ => v(
            A::HandshakeFailure,
            ErrorState::HandshakeFailed,
            Status::InternalError,
        ),
    };
    if facts.role == Role::Server {
        // A hello sharing no protocol or suite with us (by rustls' verdict, or by its
        // suite list when rustls refused it for something it checks first), or a legacy
        // hello rustls refused before negotiating anything: 36874 names its protocol.
        if is_no_shared_protocol_or_suite(err)
            || facts.hello_shares_no_suite
            || facts.legacy_hello.is_some()
        {
            verdict.event = Some(EventId::NoSharedCipherSuite);
        }
        if facts.legacy_hello.is_some() {
            verdict.status = Status::UnsupportedFunction;
        }
    }
    if let Some(a) = facts.application_alert {
        // The application's alert token, realised as a certificate error (see
        // `verify::error_for_alert`): the alert is the application's, not webpki's.
        if matches!(err, E::InvalidCertificate(_) | E::General(_)) {
            verdict.alert = a;
            verdict.state = ErrorState::ApplicationAlert;
            verdict.event = None;
        }
    }
    verdict
}

/// The status of a refused certificate (see the module docs).
fn certificate_status(ce: &CertificateError) -> Status {
    use CertificateError as C;
    match ce {
        C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
            Status::CertExpired
        }
        C::UnknownIssuer => Status::UntrustedRoot,
        C::Revoked => Status::CryptERevoked,
        C::NotValidForName | C::NotValidForNameContext { .. } => Status::WrongPrincipal,
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => Status::CertWrongUsage,
        // An extendedKeyUsage extension naming no purpose at all: no use is allowed.
        C::Other(other)
            if matches!(
                other.0.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::EmptyEkuExtension)
            ) =>
        {
            Status::CertWrongUsage
        }
        C::UnknownRevocationStatus => Status::CryptENoRevocationCheck,
        // CryptoAPI does not use a CRL past its nextUpdate: the status is "offline".
        C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            Status::CryptERevocationOffline
        }
        C::Other(other) if is_chaining_limit(other) => Status::CertEChaining,
        // No fresh CRL could be had (verify::revocation): CryptoAPI's "offline".
        C::Other(other) if other.0.is::<crate::verify::CrlUnavailable>() => {
            Status::CryptERevocationOffline
        }
        // CryptoAPI's code for a key weaker than policy allows.
        C::Other(other) if other.0.is::<crate::verify::RsaKeyTooShort>() => {
            Status::CertsrvEWeakSignatureOrKey
        }
        _ => Status::CertUnknown,
    }
}

/// The chain status CryptoAPI gives where it is more precise than the SSPI status (see
/// the module docs); `None`: the SSPI status is the precise one.
fn chain_status(ce: &CertificateError) -> Option<Status> {
    use CertificateError as C;
    let webpki_error = |o: &OtherError| o.0.downcast_ref::<webpki::Error>().cloned();
    match ce {
        C::BadSignature => Some(Status::TrustECertSignature),
        C::UnhandledCriticalExtension => Some(Status::CertECritical),
        C::BadEncoding => Some(Status::CertEMalformed),
        C::Other(o) if o.0.is::<crate::verify::IssuerNotCertSigner>() => {
            Some(Status::TrustEBasicConstraints)
        }
        C::Other(o) => match webpki_error(o) {
            Some(webpki::Error::PathLenConstraintViolated) => Some(Status::CertEPathLenConst),
            // rustls passes webpki's refusal of a critical extension on as `Other`.
            Some(webpki::Error::UnsupportedCriticalExtension) => Some(Status::CertECritical),
            // An issuer without basicConstraints cA (webpki: "an end entity used as a CA").
            Some(webpki::Error::EndEntityUsedAsCa | webpki::Error::CaUsedAsEndEntity) => {
                Some(Status::TrustEBasicConstraints)
            }
            _ => None,
        },
        _ => None,
    }
}

/// The event a client logs for a refused server certificate with this status.
fn server_certificate_event(status: Status) -> EventId {
    match status {
        Status::CertExpired => EventId::ServerCertificateExpired,
        Status::UntrustedRoot => EventId::ServerCertificateUntrustedRoot,
        Status::CryptERevoked => EventId::ServerCertificateRevoked,
        Status::WrongPrincipal => EventId::ServerCertificateWrongName,
        _ => EventId::ServerCertificateInvalid,
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

/// Whether rustls' failure is "the ClientHello shares no protocol, cipher suite or key
/// exchange group with us" (36874 on a server).
///
/// The `PeerIncompatible` variants of rustls 0.23.46 that say so, and where it raises
/// them on a server (server/hs.rs):
/// - protocol: `Tls12NotOffered` (a hello below TLS 1.2 without supported_versions),
///   `Tls12NotOfferedOrEnabled` (supported_versions names nothing we enable),
///   `SupportedVersionsExtensionRequired` (TLS 1.3 only here, the hello has no
///   supported_versions), `Tls13RequiredForQuic` (QUIC only, which this provider never
///   runs; counted so the table is complete);
/// - cipher suite: `NoCipherSuitesInCommon`;
/// - key exchange group: `NoKxGroupsInCommon` (choose_suite_and_kx_group: none of the
///   client's groups is ours, including a TLS 1.2 hello that sends no supported_groups
///   because it offers only RSA key exchange suites, which rustls does not implement:
///   Schannel counts a suite whose key exchange cannot happen as not shared), and
///   `NamedGroupsExtensionRequired` (defined for the same case, not raised by 0.23.46).
///
/// Not counted: the client-side versions of the protocol mismatch
/// (`ServerDoesNotSupportTls12Or13`, `ServerTlsVersionIsDisabledByOurConfig`: a
/// ServerHello, not a ClientHello); signature schemes (`NoSignatureSchemesInCommon`,
/// `SignatureAlgorithmsExtensionRequired`: the certificate's key, not a suite; legacy
/// hellos without signature_algorithms are refused before rustls sees them); and missing
/// or malformed extensions (`KeyShareExtensionRequired`, `NullCompressionRequired`,
/// `ExtendedMasterSecretExtensionRequired`, EC point formats, certificate types).
fn is_no_shared_protocol_or_suite(err: &rustls::Error) -> bool {
    use rustls::PeerIncompatible as PI;
    matches!(
        err,
        rustls::Error::PeerIncompatible(
            PI::Tls12NotOffered
                | PI::Tls12NotOfferedOrEnabled
                | PI::SupportedVersionsExtensionRequired
                | PI::Tls13RequiredForQuic
                | PI::NoCipherSuitesInCommon
                | PI::NoKxGroupsInCommon
                | PI::NamedGroupsExtensionRequired
        )
    )
}

#[cfg(test)]
mod tests;
