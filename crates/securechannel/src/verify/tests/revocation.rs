//! Revocation modes, the offline policy and CRLs from distribution points: direct verifier
//! calls at the fixed clock (2030-06-01), with CRLs served by an HTTP server the test
//! starts on 127.0.0.1 (`HttpFixture`) or read from `file://` points, and real handshakes
//! for the client-certificate side.

use super::*;
use crate::verify::revocation::kept_path;
use rcgen::CrlDistributionPoint;
use securechannel_testpki::{unreachable_url, HttpFixture};
use std::time::{Duration, Instant};

const ALL_CHECKING: [RevocationCheck; 3] = [
    RevocationCheck::EndCertificate,
    RevocationCheck::Chain,
    RevocationCheck::ChainExceptRoot,
];

/// A client checking with `check` / `offline`, keeping fetched CRLs in `dir`; the root's
/// CRL (revoking nothing) covers the intermediate in the chain modes.
fn checking_client(
    pki: &Pki,
    check: RevocationCheck,
    offline: RevocationOffline,
    dir: &std::path::Path,
) -> CredentialShared {
    let mut shared = client_credential(pki);
    shared.trust.revocation_check = check;
    shared.trust.revocation_offline = offline;
    shared.trust.crl_cache_dir = Some(dir.to_path_buf());
    shared.trust.crls = vec![pki.root.crl(&[])];
    shared
}

/// A client checking the end certificate and failing when its status is unknown, with
/// its own `crl/` (kept alive by the returned directory).
fn end_certificate_failing(pki: &Pki) -> (tempfile::TempDir, CredentialShared) {
    let dir = tempfile::tempdir().unwrap();
    let shared = checking_client(
        pki,
        RevocationCheck::EndCertificate,
        RevocationOffline::Fail,
        dir.path(),
    );
    (dir, shared)
}

/// A server leaf from the intermediate with serial `serial` naming `url` as its CRL
/// distribution point.
fn leaf_with_cdp(pki: &Pki, serial: u64, url: &str) -> Leaf {
    pki.server_leaf(|p| {
        p.serial_number = Some(SerialNumber::from(serial));
        p.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![url.to_string()],
        }];
    })
}

/// The refusal's detail, as the context's message shows it.
fn unavailable(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(CertificateError::Other(o)) => {
            o.0.downcast_ref::<CrlUnavailable>()
                .map(|c| c.to_string())
                .unwrap_or_else(|| panic!("not a CrlUnavailable: {error:?}"))
        }
        _ => panic!("not a CrlUnavailable: {error:?}"),
    }
}

#[test]
fn revoked_leaf_from_an_http_distribution_point_is_36883_in_every_mode_and_the_crl_is_kept() {
    let pki = Pki::new();
    let http = HttpFixture::start();
    // ECDSA signatures differ each time: the bytes served are kept.
    let served = pki.inter.crl(&[41]).to_vec();
    let url = http.serve("/inter.crl", served.clone());
    let leaf = leaf_with_cdp(&pki, 41, &url);
    let good = leaf_with_cdp(&pki, 42, &url);
    for check in ALL_CHECKING {
        let dir = tempfile::tempdir().unwrap();
        let shared = checking_client(&pki, check, RevocationOffline::Fail, dir.path());
        assert_server_row(
            check.name(),
            &shared,
            &leaf,
            Status::CryptERevoked,
            EventId::ServerCertificateRevoked,
        );
        // Kept in crl/ under the URL's name, as DER.
        let kept = std::fs::read(kept_path(dir.path(), &url)).expect("the CRL is kept");
        assert_eq!(kept, served);
    }
    // One fetch per credential (three credentials): the verifier keeps what it fetched.
    assert_eq!(http.hits("/inter.crl"), 3);
    let (_dir, shared) = end_certificate_failing(&pki);
    let verifier = server_verifier(&shared).unwrap();
    for cert in [&good, &good, &leaf] {
        let r =
            verifier.verify_server_cert(cert.der(), &cert.chain[1..], &server_name(), &[], now());
        assert_eq!(r.is_ok(), cert.der() == good.der(), "{r:?}");
    }
    assert_eq!(http.hits("/inter.crl"), 4, "cached after the first fetch");
}

#[test]
fn mode_none_checks_nothing_even_with_a_crl_that_revokes() {
    let pki = Pki::new();
    let (mut shared, leaf) = revoked(&pki);
    shared.trust.revocation_check = RevocationCheck::None;
    shared.trust.revocation_offline = RevocationOffline::Fail;
    let (result, failure) = check_server(&shared, &leaf);
    assert!(result.is_ok(), "{result:?}");
    assert!(failure.is_none());
}

#[test]
fn revoked_intermediate_from_its_distribution_point_fails_the_chain_modes_only() {
    let pki = Pki::new();
    let http = HttpFixture::start();
    let root_url = http.serve("/root.crl", pki.root.crl(&[77]).to_vec());
    let mut p = ca_params("Revoked Intermediate", BasicConstraints::Unconstrained);
    p.serial_number = Some(SerialNumber::from(77u64));
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![root_url.clone()],
    }];
    let bad = pki.root.intermediate_with(p);
    let bad_url = http.serve("/bad.crl", bad.crl(&[]).to_vec());
    let leaf = bad.server_leaf_with(&[SERVER_NAME], |p| {
        p.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![bad_url.clone()],
        }];
    });
    for (check, revoked) in [
        (RevocationCheck::Chain, true),
        (RevocationCheck::ChainExceptRoot, true),
        (RevocationCheck::EndCertificate, false),
        (RevocationCheck::None, false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut shared = checking_client(&pki, check, RevocationOffline::Fail, dir.path());
        // Only the distribution points: a fresh root CRL on hand would be used instead.
        shared.trust.crls.clear();
        if revoked {
            assert_server_row(
                check.name(),
                &shared,
                &leaf,
                Status::CryptERevoked,
                EventId::ServerCertificateRevoked,
            );
        } else {
            let (result, _) = check_server(&shared, &leaf);
            assert!(result.is_ok(), "{}: {result:?}", check.name());
        }
    }
    // The end-certificate mode never asked for the intermediate's CRL.
    assert_eq!(http.hits("/root.crl"), 2);
    assert_eq!(http.hits("/bad.crl"), 3);
}

#[test]
fn expired_crl_is_not_used_and_fails_offline_naming_the_expired_crl_or_is_ignored() {
    let pki = Pki::new();
    // The leaf is revoked, but only by a CRL whose nextUpdate (2030-05-15) is past.
    let leaf = pki.server_leaf(|p| p.serial_number = Some(SerialNumber::from(13u64)));
    let stale = pki.inter.crl_between(&[13], (2030, 4, 15), (2030, 5, 15));
    for check in ALL_CHECKING {
        let dir = tempfile::tempdir().unwrap();
        let mut shared = checking_client(&pki, check, RevocationOffline::Fail, dir.path());
        shared.trust.crls = vec![stale.clone(), pki.root.crl(&[])];
        assert_server_row(
            check.name(),
            &shared,
            &leaf,
            Status::CryptERevocationOffline,
            EventId::ServerCertificateInvalid,
        );
        let (result, _) = check_server(&shared, &leaf);
        let why = unavailable(&result.unwrap_err());
        assert!(why.contains("expired at 2030-05-15T00:00:00Z"), "{why}");
        assert!(why.contains("CN=Test Intermediate"), "{why}");
        assert!(!why.contains("could not be read"), "{why}");

        // Ignore offline: the stale CRL is still not used (the leaf it lists passes).
        shared.trust.revocation_offline = RevocationOffline::Ignore;
        let (result, failure) = check_server(&shared, &leaf);
        assert!(result.is_ok(), "{}: {result:?}", check.name());
        assert!(failure.is_none());
    }
}

#[test]
fn unreachable_distribution_point_fails_offline_naming_the_point_or_is_ignored() {
    let pki = Pki::new();
    let url = unreachable_url("/inter.crl");
    let leaf = leaf_with_cdp(&pki, 5, &url);
    for check in ALL_CHECKING {
        let dir = tempfile::tempdir().unwrap();
        let mut shared = checking_client(&pki, check, RevocationOffline::Fail, dir.path());
        shared.trust.crls = vec![pki.root.crl(&[])];
        let started = Instant::now();
        assert_server_row(
            check.name(),
            &shared,
            &leaf,
            Status::CryptERevocationOffline,
            EventId::ServerCertificateInvalid,
        );
        let (result, _) = check_server(&shared, &leaf);
        let why = unavailable(&result.unwrap_err());
        assert!(
            why.contains(&url) && why.contains("could not be read"),
            "{why}"
        );
        assert!(why.contains("cannot connect"), "{why}");
        assert!(!why.contains("expired"), "{why}");
        assert!(started.elapsed() < Duration::from_secs(5));

        shared.trust.revocation_offline = RevocationOffline::Ignore;
        let (result, failure) = check_server(&shared, &leaf);
        assert!(result.is_ok(), "{}: {result:?}", check.name());
        assert!(failure.is_none());
    }
}

#[test]
fn unreachable_point_with_an_expired_crl_on_hand_names_both() {
    let pki = Pki::new();
    let url = unreachable_url("/inter.crl");
    let leaf = leaf_with_cdp(&pki, 5, &url);
    let (_dir, mut shared) = end_certificate_failing(&pki);
    shared.trust.crls = vec![pki.inter.crl_between(&[], (2030, 4, 15), (2030, 5, 15))];
    let (result, _) = check_server(&shared, &leaf);
    let why = unavailable(&result.unwrap_err());
    assert!(
        why.starts_with(&format!(
            "the CRL distribution point {url} could not be read"
        )),
        "{why}"
    );
    assert!(why.contains("expired at 2030-05-15T00:00:00Z"), "{why}");
}

#[test]
fn a_silent_distribution_point_times_out_within_the_fetch_limit() {
    let pki = Pki::new();
    let http = HttpFixture::start();
    let url = http.silent("/slow.crl", Duration::from_secs(2));
    let leaf = leaf_with_cdp(&pki, 5, &url);
    let (_dir, mut shared) = end_certificate_failing(&pki);
    shared.trust.crl_fetch.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let (result, _) = check_server(&shared, &leaf);
    let took = started.elapsed();
    let why = unavailable(&result.unwrap_err());
    assert!(why.contains("within 300 ms"), "{why}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}

#[test]
fn a_crl_over_the_size_cap_is_refused() {
    let pki = Pki::new();
    let http = HttpFixture::start();
    let crl = pki.inter.crl(&(1..200).collect::<Vec<u64>>());
    let url = http.serve("/big.crl", crl.to_vec());
    let leaf = leaf_with_cdp(&pki, 500, &url);
    let (_dir, mut shared) = end_certificate_failing(&pki);
    shared.trust.crl_fetch.max_bytes = crl.len() - 1;
    let (result, _) = check_server(&shared, &leaf);
    let why = unavailable(&result.unwrap_err());
    assert!(why.contains("limit"), "{why}");
    // At the cap it is fetched and used.
    shared.trust.crl_fetch.max_bytes = crl.len();
    let (result, _) = check_server(&shared, &leaf);
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn an_expired_crl_on_hand_is_refetched_from_its_distribution_point() {
    let pki = Pki::new();
    let http = HttpFixture::start();
    let served = pki.inter.crl(&[8]).to_vec();
    let url = http.serve("/inter.crl", served.clone());
    let leaf = leaf_with_cdp(&pki, 8, &url);
    let (dir, mut shared) = end_certificate_failing(&pki);
    // The copy kept from an earlier fetch has expired (it does not list serial 8).
    let stale = pki.inter.crl_between(&[], (2030, 4, 15), (2030, 5, 15));
    std::fs::write(kept_path(dir.path(), &url), stale.as_ref()).unwrap();
    shared.trust.crls = vec![stale];
    let (result, _) = check_server(&shared, &leaf);
    assert_eq!(
        result.unwrap_err(),
        rustls::Error::InvalidCertificate(CertificateError::Revoked)
    );
    assert_eq!(http.hits("/inter.crl"), 1);
    assert_eq!(
        std::fs::read(kept_path(dir.path(), &url)).unwrap(),
        served,
        "the fresh CRL replaces the stale copy"
    );
}

#[test]
fn a_distribution_point_serving_an_expired_crl_is_offline_as_expired() {
    let pki = Pki::new();
    let http = HttpFixture::start();
    let url = http.serve(
        "/old.crl",
        pki.inter
            .crl_between(&[], (2030, 4, 15), (2030, 5, 15))
            .to_vec(),
    );
    let leaf = leaf_with_cdp(&pki, 8, &url);
    let (_dir, shared) = end_certificate_failing(&pki);
    let (result, _) = check_server(&shared, &leaf);
    let why = unavailable(&result.unwrap_err());
    assert!(
        why.contains(&url) && why.contains("expired at 2030-05-15"),
        "{why}"
    );
    assert!(!why.contains("could not be read"), "{why}");
}

#[test]
fn a_file_distribution_point_is_read() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inter.crl");
    std::fs::write(
        &path,
        securechannel_testpki::pem("X509 CRL", &pki.inter.crl(&[21])),
    )
    .unwrap();
    let leaf = leaf_with_cdp(&pki, 21, &format!("file://{}", path.display()));
    let shared = checking_client(
        &pki,
        RevocationCheck::EndCertificate,
        RevocationOffline::Fail,
        dir.path(),
    );
    let (result, _) = check_server(&shared, &leaf);
    assert_eq!(
        result.unwrap_err(),
        rustls::Error::InvalidCertificate(CertificateError::Revoked)
    );
}

#[test]
fn an_untrusted_chain_fetches_nothing() {
    let pki = Pki::new();
    let http = HttpFixture::start();
    let url = http.serve("/stranger.crl", pki.stranger.crl(&[]).to_vec());
    let leaf = pki.stranger.server_leaf_with(&[SERVER_NAME], |p| {
        p.crl_distribution_points = vec![CrlDistributionPoint {
            uris: vec![url.clone()],
        }];
    });
    let (_dir, shared) = end_certificate_failing(&pki);
    let (result, _) = check_server(&shared, &leaf);
    assert_eq!(
        result.unwrap_err(),
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)
    );
    assert_eq!(http.hits("/stranger.crl"), 0);
}

#[test]
fn client_certificates_revoked_or_offline_are_36877_on_a_real_handshake() {
    let pki = Pki::new();
    let http = HttpFixture::start();
    let url = http.serve("/inter.crl", pki.inter.crl(&[61]).to_vec());
    let dead = unreachable_url("/inter.crl");
    let client = |serial: u64, url: &str| {
        pki.client_leaf(|p| {
            p.serial_number = Some(SerialNumber::from(serial));
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.to_string()],
            }];
        })
    };
    let server = |check, offline| {
        let mut s = client_auth_server(&pki, true);
        // The intermediate's status, for the chain modes.
        s.trust.crls = vec![pki.root.crl(&[])];
        s.trust.revocation_check = check;
        s.trust.revocation_offline = offline;
        s
    };
    for check in ALL_CHECKING {
        let s = server(check, RevocationOffline::Fail);
        assert_client_refused(
            check.name(),
            &pki,
            &s,
            &client(61, &url),
            44,
            Status::CryptERevoked,
        );
        // No CRL at the point: offline (rustls sends certificate_unknown for it).
        assert_client_refused(
            check.name(),
            &pki,
            &s,
            &client(62, &dead),
            46,
            Status::CryptERevocationOffline,
        );
        let (outcome, _) = client_auth_handshake(&pki, &s, Some(&client(63, &url)));
        assert!(outcome.server.is_ok(), "{:?}", outcome.server);
        let ignoring = server(check, RevocationOffline::Ignore);
        let (outcome, failure) = client_auth_handshake(&pki, &ignoring, Some(&client(62, &dead)));
        assert!(outcome.server.is_ok(), "{:?}", outcome.server);
        assert!(failure.is_none());
    }
}

#[test]
fn mode_and_policy_names_round_trip() {
    for m in [
        RevocationCheck::None,
        RevocationCheck::EndCertificate,
        RevocationCheck::Chain,
        RevocationCheck::ChainExceptRoot,
    ] {
        assert_eq!(RevocationCheck::from_name(m.name()), Some(m));
    }
    for p in [RevocationOffline::Fail, RevocationOffline::Ignore] {
        assert_eq!(RevocationOffline::from_name(p.name()), Some(p));
    }
    assert_eq!(RevocationCheck::from_name("full"), None);
}

// ---------------------------------------------------------------------------------------
// Mode chain checks the root; mode chain-except-root does not
// ---------------------------------------------------------------------------------------

/// A PKI whose root (serial 5) is adjusted by `adjust` (its distribution points).
fn pki_with_root(adjust: impl FnOnce(&mut rcgen::CertificateParams)) -> Pki {
    let mut p = ca_params("Test Root", BasicConstraints::Unconstrained);
    p.serial_number = Some(SerialNumber::from(5u64));
    adjust(&mut p);
    let root = Ca::root_with(p);
    let inter = root.intermediate("Test Intermediate");
    Pki {
        root,
        inter,
        stranger: Ca::root("Stranger Root"),
    }
}

#[test]
fn chain_refuses_a_root_its_own_crl_revokes_and_chain_except_root_does_not_on_real_handshakes() {
    let pki = pki_with_root(|_| {});
    // The root's CRL lists the root itself (serial 5); the intermediate's CRL is clean.
    let crls = vec![pki.root.crl(&[5]), pki.inter.crl(&[])];
    let leaf = pki.server_leaf(|_| {});
    let client = pki.client_leaf(|_| {});
    for offline in [RevocationOffline::Fail, RevocationOffline::Ignore] {
        // The server's certificate, as a client checks it.
        let mut chain = client_credential(&pki);
        chain.trust.crls = crls.clone();
        chain.trust.revocation_check = RevocationCheck::Chain;
        chain.trust.revocation_offline = offline;
        assert_server_refused(
            "chain",
            &chain,
            &leaf,
            44,
            Status::CryptERevoked,
            EventId::ServerCertificateRevoked,
        );
        let mut except_root = chain_clone(&chain, &pki);
        except_root.trust.revocation_check = RevocationCheck::ChainExceptRoot;
        let outcome = handshake(client_config(&except_root), plain_server(&leaf));
        assert!(outcome.client.is_ok(), "{:?}", outcome.client);
        assert!(outcome.server.is_ok(), "{:?}", outcome.server);

        // A client's certificate, as a server checks it.
        let server = |check| {
            let mut s = client_auth_server(&pki, true);
            s.trust.crls = crls.clone();
            s.trust.revocation_check = check;
            s.trust.revocation_offline = offline;
            s
        };
        assert_client_refused(
            "chain",
            &pki,
            &server(RevocationCheck::Chain),
            &client,
            44,
            Status::CryptERevoked,
        );
        let (outcome, failure) = client_auth_handshake(
            &pki,
            &server(RevocationCheck::ChainExceptRoot),
            Some(&client),
        );
        assert!(outcome.server.is_ok(), "{:?}", outcome.server);
        assert!(failure.is_none());
    }
}

/// The same credential as `shared` (its trust and options), for another mode.
fn chain_clone(shared: &CredentialShared, pki: &Pki) -> CredentialShared {
    let mut c = client_credential(pki);
    c.trust.crls = shared.trust.crls.clone();
    c.trust.revocation_check = shared.trust.revocation_check;
    c.trust.revocation_offline = shared.trust.revocation_offline;
    c.trust.crl_cache_dir = shared.trust.crl_cache_dir.clone();
    c
}

#[test]
fn chain_fetches_the_root_crl_from_the_roots_distribution_point_and_is_offline_without_it() {
    let http = HttpFixture::start();
    let root_url = http.serve("/root.crl", Vec::new());
    let inter_url = format!("{}/inter-scope", root_url.trim_end_matches("/root.crl"));
    let dead = unreachable_url("/root.crl");
    for (url, served) in [(&root_url, true), (&dead, false)] {
        let pki = pki_with_root(|p| {
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.clone()],
            }]
        });
        if served {
            http.serve("/root.crl", pki.root.crl(&[]).to_vec());
        }
        // The intermediate names its own point; the root's CRL on hand answers for that
        // point only, so it says nothing about the root.
        let inter = pki.root.intermediate_with({
            let mut p = ca_params("Scoped Intermediate", BasicConstraints::Unconstrained);
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![inter_url.clone()],
            }];
            p
        });
        let leaf = inter.server_leaf(&[SERVER_NAME]);
        let dir = tempfile::tempdir().unwrap();
        let shared = |check, offline| {
            let mut s = checking_client(&pki, check, offline, dir.path());
            s.trust.crls = vec![pki.root.crl_scoped(&[], &[&inter_url]), inter.crl(&[])];
            s
        };
        let (result, _) = check_server(
            &shared(RevocationCheck::ChainExceptRoot, RevocationOffline::Fail),
            &leaf,
        );
        assert!(
            result.is_ok(),
            "chain-except-root never asks about the root: {result:?}"
        );
        let chain = shared(RevocationCheck::Chain, RevocationOffline::Fail);
        if served {
            let (result, _) = check_server(&chain, &leaf);
            assert!(
                result.is_ok(),
                "the root's CRL does not list it: {result:?}"
            );
            let kept = std::fs::read(kept_path(dir.path(), url)).expect("kept");
            assert!(!kept.is_empty());
        } else {
            assert_server_row(
                "chain, root's point down",
                &chain,
                &leaf,
                Status::CryptERevocationOffline,
                EventId::ServerCertificateInvalid,
            );
            let (result, _) = check_server(&chain, &leaf);
            let why = unavailable(&result.unwrap_err());
            assert!(why.contains(dead.as_str()), "{why}");
            let (result, _) = check_server(
                &shared(RevocationCheck::Chain, RevocationOffline::Ignore),
                &leaf,
            );
            assert!(result.is_ok(), "ignored offline: {result:?}");
        }
    }
    assert_eq!(http.hits("/root.crl"), 1, "the root's point, once");
    assert_eq!(http.hits("/inter-scope"), 0);
}

#[test]
fn chain_with_a_root_known_only_as_an_anchor_has_no_revocation_check() {
    let pki = pki_with_root(|_| {});
    let leaf = pki.server_leaf(|_| {});
    let mut shared = client_credential(&pki);
    shared.trust.root_certificates.clear();
    shared.trust.crls = vec![pki.root.crl(&[]), pki.inter.crl(&[])];
    shared.trust.revocation_offline = RevocationOffline::Fail;
    shared.trust.revocation_check = RevocationCheck::ChainExceptRoot;
    let (result, _) = check_server(&shared, &leaf);
    assert!(result.is_ok(), "{result:?}");
    shared.trust.revocation_check = RevocationCheck::Chain;
    assert_server_row(
        "chain, root without certificate",
        &shared,
        &leaf,
        Status::CryptENoRevocationCheck,
        EventId::ServerCertificateInvalid,
    );
}
