//! `schannel cert verify` at the test clock (`--at 2030-06-01T00:00:00Z`): each verdict
//! with its SSPI status, its precise chain status and its exit code, through the verifier
//! a connection uses (roots from `--roots` or stores/Root, CRLs from crl/).

mod common;

use common::*;
use rcgen::{date_time_ymd, BasicConstraints, ExtendedKeyUsagePurpose, IsCa, SerialNumber};
use securechannel_testpki::{ca_params, pem, write_file, Ca};
use std::path::{Path, PathBuf};

const AT: &str = "2030-06-01T00:00:00Z";

struct Setup {
    _dir: tempfile::TempDir,
    data: PathBuf,
    roots: PathBuf,
    root: Ca,
    inter: Ca,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let roots = dir.path().join("roots");
    let root = Ca::root("Verify Root");
    root.write_pem(&roots.join("root.pem"));
    let inter = root.intermediate("Verify Intermediate");
    Setup {
        data,
        roots,
        root,
        inter,
        _dir: dir,
    }
}

/// Write `leaf`'s chain (certificate first) as one PEM file.
fn chain_file(s: &Setup, name: &str, leaf: &securechannel_testpki::Leaf) -> PathBuf {
    let text: String = leaf.chain.iter().map(|c| pem("CERTIFICATE", c)).collect();
    write_file(&s.data.parent().unwrap().join(name), text, 0o644)
}

fn verify(s: &Setup, file: &Path, extra: &[&str]) -> Run {
    let roots = s.roots.to_str().unwrap().to_owned();
    let mut args = vec![
        "cert",
        "verify",
        file.to_str().unwrap(),
        "--at",
        AT,
        "--roots",
        &roots,
    ];
    args.extend_from_slice(extra);
    schannel(&s.data, &args)
}

fn json(r: &Run) -> serde_json::Value {
    serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.both()))
}

#[test]
fn a_valid_chain_exits_0_and_names_the_certificate() {
    let s = setup();
    let leaf = s.inter.server_leaf(&["server.test"]);
    let file = chain_file(&s, "ok.pem", &leaf);
    let r = verify(&s, &file, &["--name", "server.test"]);
    assert_eq!(r.status.code(), Some(0), "{}", r.both());
    assert!(r.stdout.contains("Verdict      : valid"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Subject      : CN=server.test"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("Issuer       : CN=Verify Intermediate"),
        "{}",
        r.stdout
    );
}

#[test]
fn each_refusal_exits_1_with_its_sspi_and_chain_status() {
    let s = setup();
    let expired = s.inter.server_leaf_with(&["server.test"], |p| {
        p.not_after = date_time_ymd(2029, 1, 1)
    });
    let mut p = ca_params("Not A CA", BasicConstraints::Unconstrained);
    p.is_ca = IsCa::NoCa;
    let not_a_ca = s.root.intermediate_with(p).server_leaf(&["server.test"]);
    let client_only = s.inter.server_leaf_with(&["server.test"], |p| {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]
    });
    let stranger = Ca::root("Stranger").server_leaf(&["server.test"]);
    let ok = s.inter.server_leaf(&["server.test"]);
    for (name, leaf, extra, status, chain) in [
        ("expired", &expired, vec![], "SEC_E_CERT_EXPIRED", None),
        (
            "not a ca",
            &not_a_ca,
            vec![],
            "SEC_E_CERT_UNKNOWN",
            Some("TRUST_E_BASIC_CONSTRAINTS"),
        ),
        (
            "wrong usage",
            &client_only,
            vec![],
            "SEC_E_CERT_WRONG_USAGE",
            None,
        ),
        ("untrusted", &stranger, vec![], "SEC_E_UNTRUSTED_ROOT", None),
        (
            "wrong name",
            &ok,
            vec!["--name", "other.test"],
            "SEC_E_WRONG_PRINCIPAL",
            None,
        ),
        (
            "server cert as client",
            &ok,
            vec!["--usage", "client"],
            "SEC_E_CERT_WRONG_USAGE",
            None,
        ),
    ] {
        let file = chain_file(&s, &format!("{}.pem", name.replace(' ', "-")), leaf);
        let mut args = extra.clone();
        args.push("--json");
        let r = verify(&s, &file, &args);
        assert_eq!(r.status.code(), Some(1), "{name}: {}", r.both());
        let v = json(&r);
        assert_eq!(v["valid"], false, "{name}");
        assert_eq!(v["status"], status, "{name}: {v}");
        assert_eq!(v["chain_status"].as_str(), chain, "{name}: {v}");
        // The text form says the same.
        let r = verify(&s, &file, &extra);
        assert!(
            r.stdout.contains(&format!("SSPI status  : {status}")),
            "{name}: {}",
            r.stdout
        );
    }
}

#[test]
fn revocation_comes_from_crl_dir_and_the_mode_decides() {
    let s = setup();
    let leaf = s.inter.server_leaf_with(&["server.test"], |p| {
        p.serial_number = Some(SerialNumber::from(3u64))
    });
    write_file(
        &s.data.join("crl/inter.crl"),
        pem("X509 CRL", &s.inter.crl(&[3])),
        0o644,
    );
    write_file(
        &s.data.join("crl/root.crl"),
        pem("X509 CRL", &s.root.crl(&[])),
        0o644,
    );
    let file = chain_file(&s, "revoked.pem", &leaf);
    let r = verify(&s, &file, &["--revocation", "chain", "--json"]);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert_eq!(json(&r)["status"], "CRYPT_E_REVOKED");
    let r = verify(&s, &file, &["--revocation", "none"]);
    assert_eq!(r.status.code(), Some(0), "{}", r.both());
    // At a time past the CRLs' nextUpdate (2030-07-01) the status is offline.
    let mut args = vec!["cert", "verify", file.to_str().unwrap(), "--roots"];
    let roots = s.roots.to_str().unwrap().to_owned();
    args.extend([
        roots.as_str(),
        "--at",
        "2030-08-01T00:00:00Z",
        "--revocation",
        "end",
        "--json",
    ]);
    let r = schannel(&s.data, &args);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    let v = json(&r);
    assert_eq!(v["status"], "CRYPT_E_REVOCATION_OFFLINE", "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("expired at 2030-07-01"),
        "{v}"
    );
}

#[test]
fn roots_replaces_the_root_store_and_bad_input_is_a_usage_error() {
    let s = setup();
    let leaf = s.inter.server_leaf(&["server.test"]);
    let file = chain_file(&s, "leaf.pem", &leaf);
    // Without --roots, the (empty) data directory's stores/Root decides.
    let r = schannel(
        &s.data,
        &["cert", "verify", file.to_str().unwrap(), "--at", AT],
    );
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(r.stdout.contains("SEC_E_UNTRUSTED_ROOT"), "{}", r.stdout);
    let r = schannel(
        &s.data,
        &[
            "cert",
            "verify",
            file.to_str().unwrap(),
            "--at",
            "yesterday",
        ],
    );
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(r.stderr.contains("--at yesterday"), "{}", r.stderr);
    // A file of --roots that holds no certificate (openssl's ca.srl beside ca.pem) is named.
    write_file(&s.roots.join("root.srl"), "1A2B3C\n", 0o644);
    let r = verify(&s, &file, &[]);
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(r.stderr.contains("root.srl"), "{}", r.stderr);
    let r = schannel(&s.data, &["cert", "verify", "/nonexistent.pem"]);
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(r.stderr.contains("cannot read"), "{}", r.stderr);
}
