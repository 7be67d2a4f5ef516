//! Tests of the engine: record arithmetic, contexts whose configuration the public API
//! cannot produce (hand-picked crypto providers, trusted issuer lists), and the legacy
//! hello refusal.

use super::legacy::canonical_legacy_hello;
use super::*;
use crate::credential::CredentialShared;
use crate::verdict::{verdict, Facts};
use crate::verify::{self, Trust};
use crate::{
    ClientContext, ClientCredential, ContextOptions, CredentialOptions, ErrorState, Role,
    ServerContext, ServerCredential, Settings, Status,
};
use rustls::crypto::aws_lc_rs as provider;
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use securechannel_events::{Emitter, EventLogging, MemorySink};
use securechannel_testpki::{ca_params, now, roots, Ca};

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

fn shared(
    role: Role,
    key: Option<Arc<CertifiedKey>>,
    roots: Arc<RootCertStore>,
) -> (Arc<MemorySink>, CredentialShared) {
    let sink = Arc::new(MemorySink::new());
    let emitter = Emitter::new(sink.clone(), EventLogging::ALL);
    let mut s = CredentialShared::new(
        role,
        emitter,
        Arc::new(Settings::default()),
        key,
        Trust::new(roots),
        CredentialOptions::default(),
    );
    s.trust.validation_time = Some(now());
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
    let p = Ca::root("Root");
    let server_key = p.server_leaf(&["server.test"]).certified_key();
    let (csink, cshared) = shared(Role::Client, None, p.roots());
    let (ssink, sshared) = shared(Role::Server, Some(server_key), p.roots());
    // Seed the caches with configs on these providers.
    cshared
        .configs
        .client(true, || {
            Ok(ClientSetup {
                provider: client,
                protocols: cshared.protocols(),
                verifier: verify::server_verifier(&cshared.trust, false).expect("verifier"),
                resolver: verify::client_cert_resolver(None),
                resumption: rustls::client::Resumption::default(),
            })
        })
        .map_err(|_| ())
        .expect("client config");
    sshared
        .configs
        .server(&[], || {
            Ok(ServerSetup {
                provider: server,
                protocols: sshared.protocols(),
                client_verifier: None,
                certified_key: sshared.certified_key.clone(),
                staple: None,
                resumption: crate::resumption::ServerResumptionPolicy {
                    cache_size: 16,
                    lifetime: std::time::Duration::from_secs(3600),
                },
            })
        })
        .map_err(|_| ())
        .expect("server config");
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
    let p = Ca::root("Root");
    let (_, cshared) = shared(Role::Client, None, p.roots());
    let tls12_only_provider =
        provider_with(provider::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    let mut cshared = cshared;
    cshared.options.protocols = vec![Protocol::Tls13];
    let r = cshared.configs.client(true, || {
        Ok(ClientSetup {
            provider: tls12_only_provider,
            protocols: cshared.protocols(),
            verifier: verify::server_verifier(&cshared.trust, false).expect("verifier"),
            resolver: verify::client_cert_resolver(None),
            resumption: rustls::client::Resumption::default(),
        })
    });
    assert!(matches!(r, Err(ConfigError::NoCipherSuite)));
}

#[test]
fn unsuitable_client_certificate_36875_and_truncated_issuer_list_36885() {
    let server_pki = Ca::root("Server Root");
    let other = Ca::root("Other Root");
    // Enough trusted CAs that their names exceed the 16 KB issuer list.
    let many: Vec<Ca> = (0..90)
        .map(|i| {
            Ca::root_with(ca_params(
                &format!("Client Auth Root {i} {}", "x".repeat(180)),
                rcgen::BasicConstraints::Unconstrained,
            ))
        })
        .collect();
    let sroots = roots(many.iter().chain([&server_pki]).map(Ca::der));
    let (csink, cshared) = shared(
        Role::Client,
        Some(other.client_leaf(&["client.test"]).certified_key()),
        server_pki.roots(),
    );
    let (ssink, mut sshared) = shared(
        Role::Server,
        Some(server_pki.server_leaf(&["server.test"]).certified_key()),
        sroots,
    );
    sshared.options.request_client_certificate = true;
    sshared.trust.send_trusted_issuer_list = true;
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
    let key = Ca::root("Legacy Root")
        .server_leaf(&["server.test"])
        .certified_key();
    // Whatever the server enables, and with or without a certificate (rustls checks the
    // version before it asks for one).
    for (protocols, key) in [
        (vec![Protocol::Tls13, Protocol::Tls12], Some(key.clone())),
        (vec![Protocol::Tls13], Some(key.clone())),
        (vec![Protocol::Tls12], Some(key.clone())),
        (vec![Protocol::Tls13, Protocol::Tls12], None),
    ] {
        let (_, mut s) = shared(Role::Server, key.clone(), roots([]));
        s.options.protocols = protocols.clone();
        let config = s.server_config(&[]).map_err(|_| ()).expect("server config");
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
        let v = verdict(&err, Facts::new(Role::Server));
        assert_eq!(v.state, ErrorState::NoSharedProtocol);
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
