//! The verdict table, row by row. The rows a real handshake can provoke are also checked
//! end to end, for the alert the peer receives and the status the caller gets:
//! crates/securechannel/tests/contexts.rs, verify/tests.rs (certificate rows, through
//! rustls' own connections) and engine/tests.rs (no shared suite or group).

use super::*;

/// One assertion per row of [`verdict`]; the integration tests (tests/contexts.rs) check
/// for the rows they can provoke that the peer really receives the alert.
#[test]
fn verdict_table_rows() {
    use rustls::{
        CertificateError as C, Error as E, InvalidMessage as IM, PeerIncompatible as PI,
        PeerMisbehaved as PM,
    };
    let rows: Vec<(E, u8, ErrorState, Status)> = vec![
        (
            E::InvalidCertificate(C::UnknownIssuer),
            48,
            ErrorState::PeerCertificateRejected,
            Status::UntrustedRoot,
        ),
        (
            E::InvalidCertificate(C::Expired),
            45,
            ErrorState::PeerCertificateRejected,
            Status::CertExpired,
        ),
        (
            E::InvalidCertificate(C::Revoked),
            44,
            ErrorState::PeerCertificateRejected,
            Status::CryptERevoked,
        ),
        (
            E::InvalidCertificate(C::NotValidForName),
            42,
            ErrorState::PeerCertificateRejected,
            Status::WrongPrincipal,
        ),
        (
            E::InvalidCertificate(C::InvalidPurpose),
            43,
            ErrorState::PeerCertificateRejected,
            Status::CertWrongUsage,
        ),
        (
            E::InvalidCertificate(C::BadSignature),
            51,
            ErrorState::PeerCertificateRejected,
            Status::CertUnknown,
        ),
        (
            E::InvalidCertificate(C::UnknownRevocationStatus),
            48,
            ErrorState::PeerCertificateRejected,
            Status::CryptENoRevocationCheck,
        ),
        (
            E::InvalidCertificate(C::ApplicationVerificationFailure),
            49,
            ErrorState::PeerCertificateRejected,
            Status::CertUnknown,
        ),
        (
            E::InvalidCertificate(C::Other(rustls::OtherError(std::sync::Arc::new(
                crate::verify::RsaKeyTooShort {
                    bits: 2048,
                    minimum: 4096,
                },
            )))),
            46,
            ErrorState::PeerCertificateRejected,
            Status::CertsrvEWeakSignatureOrKey,
        ),
        (
            E::InvalidMessage(IM::InvalidContentType),
            50,
            ErrorState::MalformedMessage,
            Status::IllegalMessage,
        ),
        (
            E::InvalidMessage(IM::DuplicateExtension(0)),
            47,
            ErrorState::MalformedMessage,
            Status::IllegalMessage,
        ),
        (
            E::DecryptError,
            20,
            ErrorState::RecordDecryptFailed,
            Status::DecryptFailure,
        ),
        (
            E::PeerSentOversizedRecord,
            22,
            ErrorState::RecordOverflow,
            Status::IllegalMessage,
        ),
        (
            E::InappropriateMessage {
                expect_types: vec![],
                got_type: rustls::ContentType::ApplicationData,
            },
            10,
            ErrorState::UnexpectedMessage,
            Status::IllegalMessage,
        ),
        (
            E::PeerIncompatible(PI::Tls12NotOffered),
            70,
            ErrorState::NoSharedProtocol,
            Status::UnsupportedFunction,
        ),
        (
            E::PeerIncompatible(PI::SupportedVersionsExtensionRequired),
            70,
            ErrorState::NoSharedProtocol,
            Status::UnsupportedFunction,
        ),
        (
            E::PeerIncompatible(PI::NullCompressionRequired),
            47,
            ErrorState::IllegalParameter,
            Status::IllegalMessage,
        ),
        (
            E::PeerIncompatible(PI::NoCipherSuitesInCommon),
            40,
            ErrorState::NoSharedAlgorithm,
            Status::AlgorithmMismatch,
        ),
        (
            E::PeerIncompatible(PI::SignatureAlgorithmsExtensionRequired),
            40,
            ErrorState::NoSharedAlgorithm,
            Status::AlgorithmMismatch,
        ),
        (
            E::PeerMisbehaved(PM::IllegalMiddleboxChangeCipherSpec),
            10,
            ErrorState::UnexpectedMessage,
            Status::IllegalMessage,
        ),
        (
            E::PeerMisbehaved(PM::MissingKeyShare),
            109,
            ErrorState::MissingExtension,
            Status::IllegalMessage,
        ),
        (
            E::PeerMisbehaved(PM::UnsolicitedServerHelloExtension),
            110,
            ErrorState::UnsupportedExtension,
            Status::IllegalMessage,
        ),
        (
            E::PeerMisbehaved(PM::IncorrectBinder),
            51,
            ErrorState::PeerMisbehaved,
            Status::IllegalMessage,
        ),
        (
            E::PeerMisbehaved(PM::SelectedUnofferedCipherSuite),
            40,
            ErrorState::PeerMisbehaved,
            Status::IllegalMessage,
        ),
        (
            E::PeerMisbehaved(PM::InvalidKeyShare),
            47,
            ErrorState::IllegalParameter,
            Status::IllegalMessage,
        ),
        (
            E::NoCertificatesPresented,
            116,
            ErrorState::ClientCertificateRequired,
            Status::IncompleteCredentials,
        ),
        (
            E::NoApplicationProtocol,
            120,
            ErrorState::NoApplicationProtocol,
            Status::ApplicationProtocolMismatch,
        ),
        (
            E::InvalidCertificate(C::ExpiredRevocationList),
            48,
            ErrorState::PeerCertificateRejected,
            Status::CryptERevocationOffline,
        ),
        (
            E::InvalidCertRevocationList(rustls::CertRevocationListError::BadSignature),
            40,
            ErrorState::PeerCertificateRejected,
            Status::CryptENoRevocationCheck,
        ),
        (
            E::General("anything else".into()),
            40,
            ErrorState::HandshakeFailed,
            Status::InternalError,
        ),
    ];
    for (err, alert, state, status) in rows {
        // Each of these rows is a failure rustls answers with its own alert.
        let facts = Facts {
            rustls_alerted: true,
            ..Facts::new(Role::Client)
        };
        let v = verdict(&err, facts);
        assert_eq!(
            (v.alert.0, v.state, v.status, v.silent),
            (alert, state, status, false),
            "{err:?}"
        );
    }
}

/// The rows rustls refuses without an alert: the alert the context has rustls send in
/// plaintext instead (while it can), and the error state. End to end:
/// tests/silent_refusals.rs.
#[test]
fn silent_rows() {
    use rustls::{Error as E, InvalidMessage as IM, PeerMisbehaved as PM};
    let rows: Vec<(E, u8, ErrorState)> = vec![
        (
            E::PeerMisbehaved(PM::MessageInterleavedWithHandshakeMessage),
            10,
            ErrorState::HandshakeInterleaved,
        ),
        (
            E::PeerMisbehaved(PM::RejectedEarlyDataInterleavedWithHandshakeMessage),
            10,
            ErrorState::HandshakeInterleaved,
        ),
        (
            E::PeerMisbehaved(PM::TooManyEmptyFragments),
            10,
            ErrorState::TooManyEmptyFragments,
        ),
        (
            E::PeerMisbehaved(PM::TooManyWarningAlertsReceived),
            10,
            ErrorState::TooManyWarningAlerts,
        ),
        (
            E::PeerMisbehaved(PM::IllegalTlsInnerPlaintext),
            10,
            ErrorState::IllegalInnerPlaintext,
        ),
        (
            E::PeerMisbehaved(PM::IllegalMiddleboxChangeCipherSpec),
            10,
            ErrorState::TooManyMessages,
        ),
        (
            E::PeerMisbehaved(PM::TooManyRenegotiationRequests),
            10,
            ErrorState::TooManyMessages,
        ),
        (
            E::PeerMisbehaved(PM::TooManyKeyUpdateRequests),
            10,
            ErrorState::TooManyMessages,
        ),
        (
            E::InvalidMessage(IM::HandshakePayloadTooLarge),
            50,
            ErrorState::HandshakeMessageTooLarge,
        ),
    ];
    for (err, alert, state) in rows {
        for role in [Role::Client, Role::Server] {
            let v = verdict(&err, Facts::new(role));
            assert_eq!(
                (v.alert.0, v.state, v.status, v.silent),
                (alert, state, Status::IllegalMessage, true),
                "{err:?}"
            );
        }
    }
}

/// Rows that depend on what the context knows besides the error.
#[test]
fn verdict_rows_that_depend_on_the_facts() {
    use rustls::{CertificateError as C, Error as E};
    let server = Facts::new(Role::Server);
    // A server without a certificate: rustls' resolver refusal (a General error).
    let general = E::General("no server certificate chain resolved".into());
    let v = verdict(
        &general,
        Facts {
            has_certificate: false,
            ..server
        },
    );
    assert_eq!(
        (v.alert.0, v.state, v.status, v.event),
        (
            49,
            ErrorState::NoServerCertificate,
            Status::NoCredentials,
            Some(EventId::NoDefaultServerCredential)
        )
    );
    // ... and the same error from a server that has one is only a handshake failure.
    let v = verdict(&general, server);
    assert_eq!(
        (v.state, v.status),
        (ErrorState::HandshakeFailed, Status::InternalError)
    );

    // A fatal alert received: its own status, 36887.
    let received = E::AlertReceived(rustls::AlertDescription::UnknownCA);
    let v = verdict(&received, Facts::new(Role::Client));
    assert_eq!(
        (v.status, v.event),
        (Status::UntrustedRoot, Some(EventId::FatalAlertReceived))
    );
    // A warning alert in TLS 1.3 that rustls answered: our decode_error, no 36887.
    let v = verdict(
        &received,
        Facts {
            alert_sent: true,
            ..Facts::new(Role::Client)
        },
    );
    assert_eq!(
        (v.alert.0, v.state, v.status, v.event),
        (
            50,
            ErrorState::WarningAlertInTls13,
            Status::IllegalMessage,
            None
        )
    );

    // Certificate events: only when a verifier of ours handed the certificate over, by
    // status on a client, 36877 on a server.
    let rejected = |role| Facts {
        certificate_rejected: true,
        ..Facts::new(role)
    };
    for (ce, event) in [
        (C::Expired, EventId::ServerCertificateExpired),
        (C::UnknownIssuer, EventId::ServerCertificateUntrustedRoot),
        (C::Revoked, EventId::ServerCertificateRevoked),
        (C::NotValidForName, EventId::ServerCertificateWrongName),
        (C::InvalidPurpose, EventId::ServerCertificateInvalid),
        (C::BadEncoding, EventId::ServerCertificateInvalid),
    ] {
        let err = E::InvalidCertificate(ce);
        assert_eq!(
            verdict(&err, rejected(Role::Client)).event,
            Some(event),
            "{err:?}"
        );
        assert_eq!(
            verdict(&err, rejected(Role::Server)).event,
            Some(EventId::ClientCertificateInvalid),
            "{err:?}"
        );
        assert_eq!(
            verdict(&err, Facts::new(Role::Client)).event,
            None,
            "{err:?}"
        );
    }

    // The application's alert token wins over webpki's alert, and logs no certificate
    // event (no certificate was judged).
    let v = verdict(
        &E::InvalidCertificate(C::UnknownIssuer),
        Facts {
            application_alert: Some(AlertDescription::CERTIFICATE_UNKNOWN),
            ..rejected(Role::Client)
        },
    );
    assert_eq!(
        (v.alert, v.state, v.event),
        (
            AlertDescription::CERTIFICATE_UNKNOWN,
            ErrorState::ApplicationAlert,
            None
        )
    );

    // DecryptError: a record refused by the record layer, or a consumed Finished that
    // does not verify (the engine says which).
    let v = verdict(&E::DecryptError, Facts::new(Role::Server));
    assert_eq!((v.alert.0, v.state), (20, ErrorState::RecordDecryptFailed));
    let v = verdict(
        &E::DecryptError,
        Facts {
            record_accepted: true,
            ..server
        },
    );
    assert_eq!(
        (v.alert.0, v.state, v.status),
        (
            51,
            ErrorState::HandshakeVerifyFailed,
            Status::MessageAltered
        )
    );

    // A legacy hello refused before anything was negotiated: 36874, unsupported.
    let v = verdict(
        &E::PeerIncompatible(rustls::PeerIncompatible::NoCipherSuitesInCommon),
        Facts {
            legacy_hello: Some(Protocol::Tls10),
            ..server
        },
    );
    assert_eq!(
        (v.status, v.event),
        (
            Status::UnsupportedFunction,
            Some(EventId::NoSharedCipherSuite)
        )
    );
}

#[test]
fn no_shared_protocol_or_suite_table_rows() {
    use rustls::PeerIncompatible as PI;
    // Every PeerIncompatible variant of rustls 0.23.46: whether it is 36874's "no shared
    // protocol, cipher suite or key exchange group".
    let rows: Vec<(PI, bool)> = vec![
        (PI::Tls12NotOffered, true),
        (PI::Tls12NotOfferedOrEnabled, true),
        (PI::SupportedVersionsExtensionRequired, true),
        (PI::Tls13RequiredForQuic, true),
        (PI::NoCipherSuitesInCommon, true),
        (PI::NoKxGroupsInCommon, true),
        (PI::NamedGroupsExtensionRequired, true),
        (PI::ServerDoesNotSupportTls12Or13, false),
        (PI::ServerTlsVersionIsDisabledByOurConfig, false),
        (PI::NoSignatureSchemesInCommon, false),
        (PI::NoCertificateRequestSignatureSchemesInCommon, false),
        (PI::SignatureAlgorithmsExtensionRequired, false),
        (PI::KeyShareExtensionRequired, false),
        (PI::NullCompressionRequired, false),
        (PI::ExtendedMasterSecretExtensionRequired, false),
        (PI::EcPointsExtensionRequired, false),
        (PI::NoEcPointFormatsInCommon, false),
        (PI::UncompressedEcPointsRequired, false),
        (PI::IncorrectCertificateTypeExtension, false),
        (PI::UnsolicitedCertificateTypeExtension, false),
        (PI::ServerSentHelloRetryRequestWithUnknownExtension, false),
        (PI::ServerRejectedEncryptedClientHello(None), false),
    ];
    for (pi, shared_nothing) in rows {
        let err = rustls::Error::PeerIncompatible(pi);
        assert_eq!(
            is_no_shared_protocol_or_suite(&err),
            shared_nothing,
            "{err:?}"
        );
    }
    assert!(!is_no_shared_protocol_or_suite(
        &rustls::Error::DecryptError
    ));
}

#[test]
fn no_kx_groups_in_common_is_no_shared_suite() {
    assert!(is_no_shared_protocol_or_suite(
        &rustls::Error::PeerIncompatible(rustls::PeerIncompatible::NoKxGroupsInCommon)
    ));
}

#[test]
fn named_groups_extension_required_is_no_shared_suite() {
    assert!(is_no_shared_protocol_or_suite(
        &rustls::Error::PeerIncompatible(rustls::PeerIncompatible::NamedGroupsExtensionRequired)
    ));
}

#[test]
fn tls13_required_for_quic_is_no_shared_protocol() {
    assert!(is_no_shared_protocol_or_suite(
        &rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls13RequiredForQuic)
    ));
}
