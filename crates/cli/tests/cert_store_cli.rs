//! `schannel cert list|show|import|export|remove`: the data directory's stores, driven as
//! an administrator drives `certutil -addstore / -store / -delstore`, and checked by what
//! `schannel serve` then serves and curl accepts.

mod common;

use common::*;
use securechannel_testpki::{pem, write_file, Ca};
use std::os::unix::fs::PermissionsExt;

fn lines_json(r: &Run) -> Vec<serde_json::Value> {
    r.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn imported_certificates_are_listed_shown_exported_served_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let files = dir.path().join("files");
    let root = Ca::root("Store Root");
    let inter = root.intermediate("Store Intermediate");
    let leaf = inter.server_leaf(&["localhost", "127.0.0.1"]);
    let root_pem = root.write_pem(&files.join("root.pem"));
    // The leaf's file carries its chain (leaf, intermediate), PEM; its key, PKCS#8 PEM.
    let chain: String = leaf.chain.iter().map(|c| pem("CERTIFICATE", c)).collect();
    let chain_pem = write_file(&files.join("leaf.pem"), chain, 0o644);
    let key = write_file(&files.join("leaf.key"), leaf.key_pem(), 0o600);
    let thumb = securechannel::thumbprint(leaf.der());

    let r = schannel(
        &data,
        &[
            "cert",
            "import",
            root_pem.to_str().unwrap(),
            "--store",
            "root",
        ],
    );
    assert!(r.status.success(), "{}", r.both());
    let r = schannel(
        &data,
        &[
            "cert",
            "import",
            chain_pem.to_str().unwrap(),
            "--store",
            "my",
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert!(r.status.success(), "{}", r.both());
    let key_file = data.join("keys").join(format!("{thumb}.key"));
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Again: refused, nothing overwritten.
    let r = schannel(
        &data,
        &[
            "cert",
            "import",
            chain_pem.to_str().unwrap(),
            "--store",
            "my",
        ],
    );
    assert!(!r.status.success(), "{}", r.both());
    assert!(r.stderr.contains("exists already"), "{}", r.stderr);
    // A key that is no key is refused with the reason.
    let bad = write_file(&files.join("bad.key"), "not a key", 0o600);
    let r = schannel(
        &data,
        &[
            "cert",
            "import",
            root_pem.to_str().unwrap(),
            "--store",
            "root",
            "--key",
            bad.to_str().unwrap(),
        ],
    );
    assert!(
        r.stderr.contains("--key goes with --store my"),
        "{}",
        r.both()
    );

    let r = schannel(&data, &["cert", "list", "--json"]);
    assert!(r.status.success(), "{}", r.both());
    let listed = lines_json(&r);
    let stores: Vec<&str> = listed
        .iter()
        .map(|j| j["store"].as_str().unwrap())
        .collect();
    assert_eq!(stores, ["Root", "My"], "{}", r.stdout);
    let mine = &listed[1];
    assert_eq!(mine["thumbprint"], thumb.as_str());
    assert_eq!(mine["subject"], "CN=localhost");
    assert_eq!(mine["key"], key_file.to_str().unwrap());

    let r = schannel(&data, &["cert", "show", &thumb]);
    assert!(
        r.stdout.contains("Issuer     : CN=Store Intermediate"),
        "{}",
        r.both()
    );
    let r = schannel(&data, &["cert", "show", "00"]);
    assert!(
        !r.status.success()
            && r.stderr
                .contains("no certificate of the stores has the thumbprint 00"),
        "{}",
        r.both()
    );

    let out_pem = dir.path().join("out.pem");
    let r = schannel(
        &data,
        &["cert", "export", &thumb, "-o", out_pem.to_str().unwrap()],
    );
    assert!(r.status.success(), "{}", r.both());
    assert!(pem_holds_der(
        &std::fs::read_to_string(&out_pem).unwrap(),
        leaf.der()
    ));
    let out_der = dir.path().join("out.der");
    let r = schannel(
        &data,
        &[
            "cert",
            "export",
            &thumb,
            "--der",
            "-o",
            out_der.to_str().unwrap(),
        ],
    );
    assert!(r.status.success(), "{}", r.both());
    assert_eq!(std::fs::read(&out_der).unwrap(), leaf.der().to_vec());

    // What was imported is what serve serves, chain and all.
    let serve = Serve::start(&data, &["--thumbprint", &thumb]);
    let page = curl_page(
        &root_pem,
        &serve.url().replace("127.0.0.1", "localhost"),
        &[
            "--resolve",
            &format!("localhost:{}:127.0.0.1", serve.addr.port()),
        ],
    );
    assert_eq!(page["protocol"], "TLS 1.3", "{page}");
    serve.stop();

    let r = schannel(&data, &["cert", "remove", &thumb, "--with-key"]);
    assert!(r.status.success(), "{}", r.both());
    assert!(!key_file.exists());
    let r = schannel(&data, &["cert", "list", "--store", "my", "--json"]);
    assert!(r.stdout.trim().is_empty(), "{}", r.both());
}

/// The thumbprint on the last line of `cert new-ca` / `cert issue` (`STORE THUMB CN=...`).
fn thumbprint_of(r: &Run) -> String {
    assert!(r.status.success(), "{}", r.both());
    let last = r.stdout.lines().last().unwrap_or_default();
    last.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn new_ca_and_issue_make_certificates_that_serve_and_openssl_accept() {
    require_tool("openssl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let ca = thumbprint_of(&schannel(
        &data,
        &[
            "cert",
            "new-ca",
            "Issue Test CA",
            "--key-type",
            "ecdsa-p384",
        ],
    ));
    let ca_key = data.join("keys").join(format!("{ca}.key"));
    assert_eq!(
        std::fs::metadata(&ca_key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let ca_pem = dir.path().join("ca.pem");
    let r = schannel(
        &data,
        &["cert", "export", &ca, "-o", ca_pem.to_str().unwrap()],
    );
    assert!(r.status.success(), "{}", r.both());

    for key_type in ["ecdsa-p256", "ed25519", "rsa2048"] {
        let server = thumbprint_of(&schannel(
            &data,
            &[
                "cert",
                "issue",
                "--ca",
                &ca,
                "--san",
                "localhost,127.0.0.1",
                "--key-type",
                key_type,
            ],
        ));
        let serve = Serve::start(&data, &["--thumbprint", &server]);
        let r = openssl(
            &[
                "s_client",
                "-connect",
                &serve.host_port(),
                "-CAfile",
                ca_pem.to_str().unwrap(),
                "-verify_return_error",
                "-verify_ip",
                "127.0.0.1",
                "-ign_eof",
            ],
            JSON_REQUEST,
        );
        assert_eq!(
            page_json(&r.stdout)["protocol"],
            "TLS 1.3",
            "{key_type}: {}",
            r.both()
        );
        serve.stop();
    }

    let client = thumbprint_of(&schannel(
        &data,
        &[
            "cert",
            "issue",
            "--ca",
            &ca,
            "--usage",
            "client",
            "--san",
            "client.example",
            "--cn",
            "Client One",
            "--days",
            "30",
        ],
    ));
    let client_pem = dir.path().join("client.pem");
    let r = schannel(
        &data,
        &[
            "cert",
            "export",
            &client,
            "-o",
            client_pem.to_str().unwrap(),
        ],
    );
    assert!(r.status.success(), "{}", r.both());
    let r = openssl(
        &[
            "verify",
            "-CAfile",
            ca_pem.to_str().unwrap(),
            "-purpose",
            "sslclient",
            client_pem.to_str().unwrap(),
        ],
        b"",
    );
    assert!(r.stdout.contains(": OK"), "{}", r.both());
    let r = openssl(
        &[
            "verify",
            "-CAfile",
            ca_pem.to_str().unwrap(),
            "-purpose",
            "sslserver",
            client_pem.to_str().unwrap(),
        ],
        b"",
    );
    assert!(
        !r.status.success(),
        "a client certificate is no server certificate: {}",
        r.both()
    );
    let r = schannel(&data, &["cert", "show", &client, "--json"]);
    let shown: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    assert_eq!(shown["subject"], "CN=Client One");
    assert_eq!(shown["issuer"], "CN=Issue Test CA");

    // A CA without its key cannot issue.
    std::fs::remove_file(&ca_key).unwrap();
    let r = schannel(&data, &["cert", "issue", "--ca", &ca, "--san", "x.example"]);
    assert!(!r.status.success(), "{}", r.both());
    assert!(
        r.stderr.contains("only a CA whose key is here can issue"),
        "{}",
        r.stderr
    );
}
