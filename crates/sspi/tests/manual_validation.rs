//! The manual-validation flow of the Windows SDK's Schannel client sample, from C
//! (`tests/c/client.c verify ...`): a credential with SCH_CRED_MANUAL_CRED_VALIDATION
//! completes the handshake with `openssl s_server` whatever its certificate, then the
//! program takes SECPKG_ATTR_REMOTE_CERT_CONTEXT, builds the chain with
//! CertGetCertificateChain (the certificate's hCertStore holding what the server sent, or
//! a memory store filled from it) and judges it with CertVerifyCertificateChainPolicy
//! (CERT_CHAIN_POLICY_SSL, AUTHTYPE_SERVER, the server name), at the test clock
//! (2030-06-01) given as pTime. Each CryptoAPI status comes from the provider's verifier.

mod common;

use common::*;
use securechannel_testpki::{Ca, NOW_SECS};

/// A server certificate for localhost below an intermediate of the world's root; the
/// leaf and intermediate PEM files s_server sends.
fn intermediate_chain(w: &World) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let inter = w.root.intermediate("SSPI Test Intermediate");
    let leaf = inter.server_leaf(&["localhost", "127.0.0.1"]);
    let (cert, key, chain) = (
        w.dir.path().join("leaf.pem"),
        w.dir.path().join("leaf.key"),
        w.dir.path().join("inter.pem"),
    );
    leaf.write_pem(&cert, &key);
    inter.write_pem(&chain);
    (cert, key, chain)
}

/// The client with `verify NAME at NOW` (and `extra`) against s_server with `cert`.
fn judge(
    w: &World,
    cert: &std::path::Path,
    key: &std::path::Path,
    server_extra: &[&str],
    name: &str,
    extra: &[&str],
    valgrind: bool,
) -> (Option<i32>, String, String) {
    let exe = compile("client", w.dir.path());
    let mut s_args = vec!["-tls1_3"];
    s_args.extend_from_slice(server_extra);
    let (_server, port) = s_server(cert, key, &s_args);
    let at = NOW_SECS.to_string();
    let port = port.to_string();
    let mut args = vec![
        port.as_str(),
        "localhost",
        "tls13",
        "v4",
        "manual",
        "verify",
        name,
        "at",
        at.as_str(),
    ];
    args.extend_from_slice(extra);
    let (status, out, err) = run_c(w, &exe, &args, valgrind);
    (status.code(), out, err)
}

#[test]
fn a_good_chain_through_the_servers_intermediate_is_0_with_three_elements() {
    let w = World::new();
    let (cert, key, chain) = intermediate_chain(&w);
    let c = chain.to_str().unwrap();
    let (code, out, err) = judge(
        &w,
        &cert,
        &key,
        &["-cert_chain", c],
        "localhost",
        &[],
        false,
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(
        out.contains("POLICY 0x00000000 element -1 trust 0x0 elements 3\n"),
        "{out}"
    );
    // The intermediate came from the certificate's hCertStore (stores/CA is empty), the
    // root from stores/Root.
    assert!(
        out.contains("ELEMENT 0 localhost self-signed 0\n")
            && out.contains("ELEMENT 1 SSPI Test Intermediate self-signed 0\n")
            && out.contains("ELEMENT 2 SSPI Test Root self-signed 1\n"),
        "{out}"
    );
    // CertGetNameString: the size query, the DNS name, the CN attribute, the issuer, all
    // DNS names (only DNS names: 127.0.0.1 is an IP address), truncation, the W call.
    assert!(
        out.contains(
            "NAMES simple=localhost(10) dns=localhost cn=localhost issuer=SSPI Test Intermediate \
             all=localhost tiny=loc(4) wide=localhost(10)\n"
        ),
        "{out}"
    );
    assert!(out.contains("HTTP/1.0 200 ok"), "{out}");
    // Manual validation: the handshake logged no certificate refusal.
    assert!(!w.event_ids().contains(&36882), "{:?}", w.event_ids());
}

#[test]
fn a_memory_store_filled_by_the_program_serves_as_the_additional_store() {
    let w = World::new();
    let (cert, key, chain) = intermediate_chain(&w);
    let c = chain.to_str().unwrap();
    let (code, out, err) = judge(
        &w,
        &cert,
        &key,
        &["-cert_chain", c],
        "localhost",
        &["memstore"],
        false,
    );
    assert_eq!(code, Some(0), "{out}\n{err}");
    // Two certificates came from the peer's store; CERT_STORE_ADD_NEW refused the
    // duplicate, CERT_STORE_ADD_USE_EXISTING returned the one already there.
    assert!(
        out.contains("MEMSTORE added 2 new-duplicate 0 use-existing 1 same 1\n"),
        "{out}"
    );
    assert!(
        out.contains("POLICY 0x00000000 element -1 trust 0x0 elements 3\n"),
        "{out}"
    );
}

#[test]
fn a_wrong_name_is_cert_e_cn_no_match() {
    let w = World::new();
    let (code, out, err) = judge(
        &w,
        &w.server_cert,
        &w.server_key,
        &[],
        "other.example",
        &[],
        false,
    );
    assert_eq!(code, Some(3), "{out}\n{err}");
    // The chain itself is fine (trust 0); the SSL policy's name check fails on the leaf.
    assert!(
        out.contains("POLICY 0x800B010F element 0 trust 0x0 elements 2\n"),
        "{out}"
    );
}

#[test]
fn no_server_name_judges_the_chain_only() {
    let w = World::new();
    let (code, out, err) = judge(&w, &w.server_cert, &w.server_key, &[], "-", &[], false);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("POLICY 0x00000000 "), "{out}");
}

#[test]
fn an_untrusted_root_is_cert_e_untrustedroot_at_the_last_element() {
    let w = World::new();
    let (code, out, err) = judge(
        &w,
        &w.untrusted_cert,
        &w.untrusted_key,
        &[],
        "localhost",
        &[],
        false,
    );
    assert_eq!(code, Some(3), "{out}\n{err}");
    // CERT_TRUST_IS_UNTRUSTED_ROOT; the root is nowhere in the stores: one element.
    assert!(
        out.contains("POLICY 0x800B0109 element 0 trust 0x20 elements 1\n"),
        "{out}"
    );
}

#[test]
fn an_expired_certificate_is_cert_e_expired_at_the_test_clock() {
    let w = World::new();
    // Valid today (s_server reads the real clock), expired on 2030-06-01 (the pTime).
    let leaf = w.root.server_leaf_with(&["localhost"], |p| {
        p.not_after = rcgen::date_time_ymd(2030, 1, 1);
    });
    let (cert, key) = (w.dir.path().join("old.pem"), w.dir.path().join("old.key"));
    leaf.write_pem(&cert, &key);
    let (code, out, err) = judge(&w, &cert, &key, &[], "localhost", &[], false);
    assert_eq!(code, Some(3), "{out}\n{err}");
    // CERT_TRUST_IS_NOT_TIME_VALID.
    assert!(
        out.contains("POLICY 0x800B0101 element 0 trust 0x1 elements 2\n"),
        "{out}"
    );
}

#[test]
fn the_manual_validation_flow_under_valgrind_has_no_error_and_no_leak() {
    let w = World::new();
    let (cert, key, chain) = intermediate_chain(&w);
    let c = chain.to_str().unwrap();
    let (code, out, err) = judge(
        &w,
        &cert,
        &key,
        &["-cert_chain", c],
        "localhost",
        &["memstore"],
        true,
    );
    assert_eq!(code, Some(0), "valgrind:\n{out}\n{err}");
    assert!(out.contains("POLICY 0x00000000 "), "{out}");
    let stranger = Ca::root("Valgrind Stranger");
    let other = stranger.server_leaf(&["localhost"]);
    let (cert, key) = (w.dir.path().join("s.pem"), w.dir.path().join("s.key"));
    other.write_pem(&cert, &key);
    let (code, out, err) = judge(&w, &cert, &key, &[], "localhost", &[], true);
    assert_eq!(code, Some(3), "valgrind (refused):\n{out}\n{err}");
}
