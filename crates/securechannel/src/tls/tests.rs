//! Tests of the adapter's tables, and of contexts whose configuration the public API
//! cannot produce yet (hand-picked crypto providers, trusted issuer lists).

use super::*;
use crate::credential::CredentialShared;
use crate::{
    ClientContext, ClientCredential, ContextOptions, Role, ServerContext, ServerCredential,
    Settings,
};
use rcgen::{CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair};
use rustls::crypto::aws_lc_rs as provider;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::RootCertStore;
use securechannel_events::{Emitter, EventLogging, MemorySink};

// ---- tables --------------------------------------------------------------------------

#[test]
fn suite_table_covers_every_provider_suite_with_iana_names() {
    let suites = provider::ALL_CIPHER_SUITES;
    assert_eq!(SUITES.len(), suites.len());
    for s in suites {
        let number = u16::from(s.suite());
        let row = suite_info(number).unwrap_or_else(|| panic!("{:?} missing", s.suite()));
        // rustls names TLS 1.3 suites TLS13_*; IANA names them TLS_*.
        let rustls_name = s.suite().as_str().expect("known suite");
        assert_eq!(
            row.name,
            rustls_name.replace("TLS13_", "TLS_"),
            "{number:#06x}"
        );
        assert!(row.name.contains(row.cipher), "{}", row.name);
        assert!(row.name.ends_with(row.prf_hash), "{}", row.name);
        let bits = if row.cipher.starts_with("AES_128") {
            128
        } else {
            256
        };
        assert_eq!(row.cipher_strength, bits, "{}", row.name);
        let tls13 = s.version() == &rustls::version::TLS13;
        assert_eq!(row.trailer_tls12 == 0, tls13, "{}", row.name);
    }
}

#[test]
fn record_trailers_per_protocol() {
    let gcm12 = suite_info(0xC02F).unwrap();
    let chacha12 = suite_info(0xCCA8).unwrap();
    let aes13 = suite_info(0x1301).unwrap();
    assert_eq!(record_trailer(gcm12, Protocol::Tls12), 24);
    assert_eq!(record_trailer(chacha12, Protocol::Tls12), 16);
    assert_eq!(record_trailer(aes13, Protocol::Tls13), 17);
}

#[test]
fn exchange_table_covers_every_provider_group() {
    for g in provider::ALL_KX_GROUPS {
        let code = u16::from(g.name());
        assert!(exchange_info(code).is_some(), "{:?} missing", g.name());
    }
    let rows = [
        (0x001D, "X25519", 255),
        (0x0017, "ECDH_P256", 256),
        (0x0018, "ECDH_P384", 384),
        (0x0019, "ECDH_P521", 521),
        (0x001E, "X448", 448),
        (0x11EC, "X25519MLKEM768", 255),
        (0x11EB, "ECDH_P256MLKEM768", 256),
        (0x0201, "MLKEM768", 768),
        (0x0202, "MLKEM1024", 1024),
    ];
    assert_eq!(rows.len(), EXCHANGES.len());
    for (code, name, bits) in rows {
        assert_eq!(exchange_info(code), Some((name, bits)));
    }
}

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
            E::General("no server certificate chain resolved".into()),
            49,
            ErrorState::NoServerCertificate,
            Status::NoCredentials,
        ),
        (
            E::AlertReceived(rustls::AlertDescription::UnknownCA),
            50,
            ErrorState::WarningAlertInTls13,
            Status::UntrustedRoot,
        ),
        (
            E::General("anything else".into()),
            40,
            ErrorState::HandshakeFailed,
            Status::InternalError,
        ),
    ];
    for (err, alert, state, status) in rows {
        let v = verdict(&err);
        assert_eq!(
            (v.alert.0, v.state, v.status),
            (alert, state, status),
            "{err:?}"
        );
    }
}

#[test]
fn missing_bytes_walks_record_headers() {
    assert_eq!(missing_bytes(&[]), None);
    assert_eq!(missing_bytes(&[22, 3, 3, 0]), None);
    assert_eq!(missing_bytes(&[22, 3, 3, 0, 10]), Some(10));
    assert_eq!(
        missing_bytes(&[22, 3, 3, 0, 2, 1, 1, 22, 3, 3, 0, 3, 9]),
        Some(2)
    );
    assert_eq!(missing_bytes(&[22, 3, 3, 0, 2, 1, 1]), None);
    assert_eq!(missing_bytes(&[22, 3, 3, 0xFF, 0xFF]), Some(65535));
}

// ---- contexts with hand-made configurations ----------------------------------------

struct Pki {
    ca: rustls::pki_types::CertificateDer<'static>,
    params: CertificateParams,
    key: KeyPair,
}

fn pki(cn: &str) -> Pki {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let key = KeyPair::generate().expect("key");
    let ca = params.self_signed(&key).expect("CA").der().clone();
    Pki { ca, params, key }
}

fn leaf(p: &Pki, cn: &str) -> Arc<CertifiedKey> {
    let mut params = CertificateParams::new(vec![cn.to_string()]).expect("name");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    let key = KeyPair::generate().expect("key");
    let cert = params
        .signed_by(&key, &Issuer::from_params(&p.params, &p.key))
        .expect("leaf");
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let signer = provider::sign::any_supported_type(&der).expect("P-256");
    Arc::new(CertifiedKey::new(
        vec![cert.der().clone(), p.ca.clone()],
        signer,
    ))
}

fn roots(certs: &[&rustls::pki_types::CertificateDer<'static>]) -> Arc<RootCertStore> {
    let mut r = RootCertStore::empty();
    for c in certs {
        r.add((*c).clone()).expect("root");
    }
    Arc::new(r)
}

fn shared(
    role: Role,
    key: Option<Arc<CertifiedKey>>,
    roots: Arc<RootCertStore>,
) -> (Arc<MemorySink>, CredentialShared) {
    let sink = Arc::new(MemorySink::new());
    let emitter = Emitter::new(sink.clone(), EventLogging::ALL);
    let s = CredentialShared::new(role, emitter, Arc::new(Settings::default()), key, roots);
    (sink, s)
}

fn provider_with(suite: rustls::SupportedCipherSuite) -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: vec![suite],
        ..provider::default_provider()
    })
}

/// Drive both sides until one fails; the failing side's alert is delivered to the other.
fn run(client: &mut ClientContext, server: &mut ServerContext) -> (Vec<u8>, Option<crate::Error>) {
    let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
    client.initialize(&mut [], &mut to_server).expect("hello");
    for _ in 0..8 {
        let mut out = Vec::new();
        let r = server.accept(&mut to_server, &mut out);
        to_client.extend_from_slice(&out);
        match r {
            Ok(s) => drop(to_server.drain(..s.consumed)),
            Err(e) => return (to_client, Some(e)),
        }
        let mut out = Vec::new();
        let r = client.initialize(&mut to_client, &mut out);
        to_server.extend_from_slice(&out);
        match r {
            Ok(s) => drop(to_client.drain(..s.consumed)),
            Err(e) => return (to_server, Some(e)),
        }
        if client.is_complete() && server.is_complete() {
            return (Vec::new(), None);
        }
    }
    panic!("no outcome");
}

/// A client and a server whose configs are built on `client` and `server` providers: the
/// client's and the server's event sinks and contexts.
fn contexts_on(
    client: Arc<CryptoProvider>,
    server: Arc<CryptoProvider>,
) -> (
    Arc<MemorySink>,
    ClientContext,
    Arc<MemorySink>,
    ServerContext,
) {
    let p = pki("Root");
    let (csink, cshared) = shared(Role::Client, None, roots(&[&p.ca]));
    let (ssink, sshared) = shared(Role::Server, Some(leaf(&p, "server.test")), roots(&[&p.ca]));
    // Seed the caches with configs on these providers.
    let cconfig = build_client_config(&cshared, client, true)
        .map_err(|_| ())
        .expect("client config");
    lock(&cshared.tls_configs.client).push((true, Arc::new(cconfig)));
    let resumption = ServerResumption {
        ticketer: None,
        sessions: rustls::server::ServerSessionMemoryCache::new(8),
    };
    let sconfig = build_server_config(&sshared, server, &[], resumption)
        .map_err(|_| ())
        .expect("server config");
    lock(&sshared.tls_configs.server).push((Vec::new(), Arc::new(sconfig)));
    let ccred = ClientCredential {
        shared: Arc::new(cshared),
    };
    let scred = ServerCredential {
        shared: Arc::new(sshared),
    };
    let client = ClientContext::new(&ccred, "server.test", ContextOptions::default()).unwrap();
    let server = ServerContext::new(&scred, ContextOptions::default()).unwrap();
    (csink, client, ssink, server)
}

#[test]
fn no_cipher_suite_in_common_is_handshake_failure_and_36874() {
    let (csink, mut client, ssink, mut server) = contexts_on(
        provider_with(provider::cipher_suite::TLS13_AES_128_GCM_SHA256),
        provider_with(provider::cipher_suite::TLS13_AES_256_GCM_SHA384),
    );
    let (mut alert, e) = run(&mut client, &mut server);
    let e = e.expect("refused");
    assert_eq!(e.status(), Status::AlgorithmMismatch);
    let r = &ssink.records();
    let ev = r
        .iter()
        .find(|r| r.event_id.value() == 36874)
        .expect("36874");
    assert_eq!(ev.field("Protocol"), Some("TLS 1.3"));
    let gen = r
        .iter()
        .find(|r| r.event_id.value() == 36888)
        .expect("36888");
    assert_eq!(gen.field("AlertDesc"), Some("40"));
    assert_eq!(gen.field("ErrorState"), Some("3007"));
    // The client receives handshake_failure.
    let ce = client.initialize(&mut alert, &mut Vec::new()).unwrap_err();
    assert_eq!(ce.status(), Status::IllegalMessage);
    let rec = csink.records();
    let got = rec
        .iter()
        .find(|r| r.event_id.value() == 36887)
        .expect("36887");
    assert_eq!(got.field("AlertDesc"), Some("40"));
}

/// A provider with these key exchange groups only.
fn provider_with_groups(
    groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup>,
) -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        kx_groups: groups,
        ..provider::default_provider()
    })
}

#[test]
fn no_key_exchange_group_in_common_is_handshake_failure_and_36874() {
    // rustls refuses with NoKxGroupsInCommon; Schannel counts it as no shared suite (a
    // TLS 1.2 client offering only RSA key exchange, without supported_groups, ends here).
    let (_, mut client, ssink, mut server) = contexts_on(
        provider_with_groups(vec![provider::kx_group::SECP384R1]),
        provider_with_groups(vec![provider::kx_group::X25519]),
    );
    let (_, e) = run(&mut client, &mut server);
    let e = e.expect("refused");
    assert_eq!(e.status(), Status::AlgorithmMismatch);
    assert_eq!(
        std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<rustls::Error>())
            .cloned(),
        Some(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::NoKxGroupsInCommon
        ))
    );
    let r = ssink.records();
    let refused: Vec<_> = r.iter().filter(|r| r.event_id.value() == 36874).collect();
    assert_eq!(refused.len(), 1, "{:?}", ssink.ids());
    assert_eq!(refused[0].field("Protocol"), Some("TLS 1.3"));
    let gen = r
        .iter()
        .find(|r| r.event_id.value() == 36888)
        .expect("36888");
    assert_eq!(gen.field("AlertDesc"), Some("40"));
    assert_eq!(
        e.event(),
        Some(securechannel_events::EventId::NoSharedCipherSuite)
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

fn provider_with_suites(suites: Vec<rustls::SupportedCipherSuite>) -> Arc<CryptoProvider> {
    Arc::new(CryptoProvider {
        cipher_suites: suites,
        ..provider::default_provider()
    })
}

#[test]
fn server_chooses_the_suite_by_its_own_order() {
    use provider::cipher_suite::{
        TLS13_AES_128_GCM_SHA256 as A128, TLS13_AES_256_GCM_SHA384 as A256,
    };
    // Schannel servers pick the first suite of their own order that the client offers.
    for (client, server, chosen) in [
        (vec![A128, A256], vec![A256, A128], 0x1302),
        (vec![A256, A128], vec![A128, A256], 0x1301),
    ] {
        let (_, mut c, _, mut s) =
            contexts_on(provider_with_suites(client), provider_with_suites(server));
        let (_, e) = run(&mut c, &mut s);
        assert!(e.is_none(), "{e:?}");
        assert_eq!(s.cipher_suite().map(|x| x.number), Some(chosen));
        assert_eq!(c.cipher_suite().map(|x| x.number), Some(chosen));
    }
}

#[test]
fn provider_without_suites_for_the_enabled_versions_is_no_cipher_suite() {
    let p = pki("Root");
    let (_, cshared) = shared(Role::Client, None, roots(&[&p.ca]));
    let tls12_only_provider =
        provider_with(provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    let mut cshared = cshared;
    cshared.options.protocols = vec![Protocol::Tls13];
    assert!(matches!(
        build_client_config(&cshared, tls12_only_provider, true),
        Err(ConfigError::NoCipherSuite)
    ));
}

#[test]
fn unsuitable_client_certificate_36875_and_truncated_issuer_list_36885() {
    let server_pki = pki("Server Root");
    let other = pki("Other Root");
    // Enough trusted CAs that their names exceed the 16 KB issuer list.
    let key = KeyPair::generate().expect("key");
    let mut many: Vec<rustls::pki_types::CertificateDer<'static>> = Vec::new();
    for i in 0..90 {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names");
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            format!("Client Auth Root {i} {}", "x".repeat(180)),
        );
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        many.push(params.self_signed(&key).expect("CA").der().clone());
    }
    let mut sroots: Vec<&rustls::pki_types::CertificateDer<'static>> = many.iter().collect();
    sroots.push(&server_pki.ca);
    let (csink, cshared) = shared(
        Role::Client,
        Some(leaf(&other, "client.test")),
        roots(&[&server_pki.ca]),
    );
    let (ssink, mut sshared) = shared(
        Role::Server,
        Some(leaf(&server_pki, "server.test")),
        roots(&sroots),
    );
    sshared.options.request_client_certificate = true;
    sshared.send_trusted_issuer_list = true;
    let ccred = ClientCredential {
        shared: Arc::new(cshared),
    };
    let scred = ServerCredential {
        shared: Arc::new(sshared),
    };
    let mut client = ClientContext::new(&ccred, "server.test", ContextOptions::default()).unwrap();
    let mut server = ServerContext::new(&scred, ContextOptions::default()).unwrap();
    let (_, e) = run(&mut client, &mut server);
    assert!(e.is_none(), "{e:?}");
    // The client went on anonymously, as 36875 says.
    assert!(server.remote_certificates().is_empty());
    let c_ids = csink.ids();
    assert_eq!(
        c_ids.iter().filter(|i| **i == 36875).count(),
        1,
        "{c_ids:?}"
    );
    let s_ids = ssink.ids();
    assert_eq!(
        s_ids.iter().filter(|i| **i == 36885).count(),
        1,
        "{s_ids:?}"
    );
    let r = ssink.records();
    let truncated = r
        .iter()
        .find(|r| r.event_id.value() == 36885)
        .expect("36885");
    assert_eq!(truncated.activity_id, Some(server.activity_id()));
}

// ---- legacy hellos ---------------------------------------------------------------------

#[test]
fn canonical_legacy_hello_makes_rustls_send_one_protocol_version_alert() {
    let p = pki("Legacy Root");
    let key = leaf(&p, "server.test");
    // Whatever the server enables, and with or without a certificate (rustls checks the
    // version before it asks for one).
    for (protocols, key) in [
        (vec![Protocol::Tls13, Protocol::Tls12], Some(key.clone())),
        (vec![Protocol::Tls13], Some(key.clone())),
        (vec![Protocol::Tls12], Some(key.clone())),
        (vec![Protocol::Tls13, Protocol::Tls12], None),
    ] {
        let (_, mut s) = shared(Role::Server, key.clone(), roots(&[]));
        s.options.protocols = protocols.clone();
        let config = server_config(&s, &[]).expect("server config");
        let mut out = vec![0xEE]; // appended to, never overwritten
        let err = legacy_protocol_version_alert(config, &mut out)
            .unwrap_or_else(|| panic!("no protocol_version alert for {protocols:?}"));
        assert_eq!(
            err,
            rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered)
        );
        // One plaintext alert record: type 21, version 3.x, length 2, fatal, 70.
        assert_eq!(out.len(), 1 + 7, "{protocols:?} {out:02x?}");
        let record = &out[1..];
        assert_eq!((record[0], record[1]), (21, 3), "{record:02x?}");
        assert_eq!(u16::from_be_bytes([record[3], record[4]]), 2);
        assert_eq!((record[5], record[6]), (2, 70), "{record:02x?}");
        assert_eq!(verdict(&err).state, ErrorState::NoSharedProtocol);
    }
}

#[test]
fn canonical_legacy_hello_is_a_tls10_hello_with_signature_algorithms() {
    let hello = canonical_legacy_hello();
    // Built once.
    assert!(std::ptr::eq(hello, canonical_legacy_hello()));
    assert_eq!(
        crate::sniff_client_hello(hello),
        crate::HelloSniff::Offered(Protocol::Tls10)
    );
    assert_eq!(missing_bytes(hello), None, "one complete record");
    assert_eq!(
        usize::from(u16::from_be_bytes([hello[3], hello[4]])) + 5,
        hello.len()
    );
    // The last extension is signature_algorithms with its three schemes.
    let tail = &hello[hello.len() - 12..];
    assert_eq!(tail, [0, 13, 0, 8, 0, 6, 4, 3, 8, 4, 4, 1]);
}
