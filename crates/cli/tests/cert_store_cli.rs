//! `schannel cert list|show|import|export|remove|new-ca|issue`, end to end: a lab CA and
//! certificates it issues (at fixed validity dates, so no test depends on today), serve
//! using one and openssl verifying it against the CA, a client certificate exported to
//! .pfx that openssl opens and another data directory imports, and the refusals a user
//! meets, each saying what to do.

mod common;

use common::*;
use std::path::Path;

const FROM: &str = "2020-01-01T00:00:00Z";
const UNTIL: &str = "4000-01-01T00:00:00Z";

fn ok(data: &Path, args: &[&str]) -> Run {
    let r = schannel(data, args);
    assert!(r.status.success(), "schannel {args:?}: {}", r.both());
    r
}

fn list(data: &Path) -> Vec<serde_json::Value> {
    ok(data, &["cert", "list", "--json"])
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn thumbprint_of(data: &Path, subject: &str) -> String {
    list(data)
        .into_iter()
        .find(|c| c["subject"].as_str().unwrap().contains(subject))
        .unwrap_or_else(|| panic!("no {subject} in {:?}", list(data)))["thumbprint"]
        .as_str()
        .unwrap()
        .to_string()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_lab_ca_issues_a_server_certificate_that_serve_uses_and_openssl_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(
        &data,
        &[
            "cert",
            "new-ca",
            "--name",
            "Lab Root",
            "--org",
            "Lab",
            "--not-before",
            FROM,
            "--not-after",
            UNTIL,
        ],
    );
    ok(
        &data,
        &[
            "cert",
            "issue",
            "--ca",
            "Lab Root",
            "--name",
            "www.lab.test",
            "--san",
            "www.lab.test,localhost,127.0.0.1",
            "--not-before",
            FROM,
            "--not-after",
            UNTIL,
        ],
    );
    let certs = list(&data);
    assert_eq!(certs.len(), 2, "{certs:?}");
    for c in &certs {
        assert!(c["key"].is_string(), "each has its key: {c}");
        let key = Path::new(c["key"].as_str().unwrap());
        assert_eq!(mode(key), 0o600, "{}", key.display());
    }
    let root = certs.iter().find(|c| c["store"] == "Root").unwrap();
    let leaf = certs.iter().find(|c| c["store"] == "My").unwrap();
    assert_eq!(leaf["issuer"], root["subject"]);
    assert_eq!(leaf["not_after"], "4000-01-01T00:00:00Z");

    let shown: serde_json::Value =
        serde_json::from_str(&ok(&data, &["cert", "show", "www.lab", "--json"]).stdout).unwrap();
    assert_eq!(
        shown["subject_alternative_names"],
        serde_json::json!(["DNS:www.lab.test", "DNS:localhost", "IP:127.0.0.1"])
    );
    assert_eq!(
        shown["extended_key_usage"],
        serde_json::json!(["serverAuth"])
    );
    assert_eq!(shown["public_key"], "ECDSA P-256 (256 bits)");

    // serve uses it; openssl verifies it against the lab root.
    let thumb = leaf["thumbprint"].as_str().unwrap();
    let serve = Serve::start(&data, &["--thumbprint", thumb]);
    let r = openssl(
        &[
            "s_client",
            "-connect",
            &serve.host_port(),
            "-servername",
            "www.lab.test",
            "-verify_hostname",
            "www.lab.test",
            "-CAfile",
            root["file"].as_str().unwrap(),
            "-verify_return_error",
        ],
        b"",
    );
    assert!(
        r.stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        r.both()
    );
    assert!(
        r.stdout.contains("CN=www.lab.test") || r.stdout.contains("CN = www.lab.test"),
        "{}",
        r.stdout
    );
    serve.stop();
}

#[test]
fn a_client_certificate_goes_out_as_pfx_and_into_another_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(
        &data,
        &[
            "cert",
            "new-ca",
            "--name",
            "Lab Root",
            "--not-before",
            FROM,
            "--not-after",
            UNTIL,
        ],
    );
    ok(
        &data,
        &[
            "cert",
            "issue",
            "--ca",
            "Lab Root",
            "--name",
            "alice",
            "--usage",
            "client",
            "--key",
            "rsa-2048",
            "--san",
            "email:alice@lab.test",
            "--not-before",
            FROM,
            "--not-after",
            UNTIL,
        ],
    );
    let alice = thumbprint_of(&data, "alice");
    let shown: serde_json::Value =
        serde_json::from_str(&ok(&data, &["cert", "show", &alice, "--json"]).stdout).unwrap();
    assert_eq!(shown["public_key"], "RSA 2048 bits");
    assert_eq!(
        shown["extended_key_usage"],
        serde_json::json!(["clientAuth"])
    );

    let pfx = dir.path().join("alice.pfx");
    let password = "Export-pw-5521";
    let mut c = schannel_cmd(
        &data,
        &[
            "cert",
            "export",
            &alice,
            "--format",
            "pfx",
            "-o",
            pfx.to_str().unwrap(),
        ],
    );
    c.env("SCHANNEL_PFX_PASSWORD", password);
    let r = run("cert export", c, None);
    assert!(r.status.success(), "{}", r.both());
    assert!(!r.both().contains(password));
    assert_eq!(mode(&pfx), 0o600);
    // openssl opens it with the password, and finds the key and the certificate.
    let r = openssl(
        &[
            "pkcs12",
            "-in",
            pfx.to_str().unwrap(),
            "-passin",
            &format!("pass:{password}"),
            "-nodes",
        ],
        b"",
    );
    assert!(r.status.success(), "{}", r.both());
    assert!(
        r.stdout.contains("BEGIN PRIVATE KEY") && r.stdout.contains("CN=alice")
            || r.stdout.contains("CN = alice"),
        "{}",
        r.stdout
    );

    // Another data directory imports it: the same certificate, its key at mode 0600.
    let other = dir.path().join("other");
    let mut c = schannel_cmd(&other, &["cert", "import", pfx.to_str().unwrap()]);
    c.env("SCHANNEL_PFX_PASSWORD", password);
    let r = run("cert import", c, None);
    assert!(r.status.success(), "{}", r.both());
    let imported = list(&other);
    let mine = imported
        .iter()
        .find(|c| c["thumbprint"] == alice.as_str())
        .unwrap();
    assert_eq!(mine["store"], "My");
    assert_eq!(mode(Path::new(mine["key"].as_str().unwrap())), 0o600);
    // A second import changes nothing.
    let mut c = schannel_cmd(&other, &["cert", "import", pfx.to_str().unwrap()]);
    c.env("SCHANNEL_PFX_PASSWORD", password);
    let r = run("cert import again", c, None);
    assert!(r.stdout.contains("already in stores/My"), "{}", r.both());

    // A wrong password says where the password comes from, never what it was.
    let mut c = schannel_cmd(&other, &["cert", "import", pfx.to_str().unwrap()]);
    c.env("SCHANNEL_PFX_PASSWORD", "not-the-password");
    let r = run("cert import, wrong password", c, None);
    assert!(!r.status.success());
    assert!(
        r.stderr.contains("SCHANNEL_PFX_PASSWORD") && !r.stderr.contains("not-the-password"),
        "{}",
        r.stderr
    );

    // PEM with the key: mode 0600, the key that pairs with the certificate.
    let pem = dir.path().join("alice.pem");
    ok(
        &data,
        &[
            "cert",
            "export",
            &alice,
            "--with-key",
            "-o",
            pem.to_str().unwrap(),
        ],
    );
    assert_eq!(mode(&pem), 0o600);
    let text = std::fs::read_to_string(&pem).unwrap();
    assert!(
        text.contains("BEGIN CERTIFICATE") && text.contains("PRIVATE KEY"),
        "{text}"
    );

    // Remove: the certificate goes; the key only with --with-key.
    let r = ok(&other, &["cert", "remove", &alice]);
    assert!(r.stdout.contains("its private key stays"), "{}", r.stdout);
    assert!(list(&other)
        .iter()
        .all(|c| c["thumbprint"] != alice.as_str()));
}

#[test]
fn refusals_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki = Pki::new(dir.path(), "Outside CA");
    let leaf = pki.server_leaf("outside");
    // A PEM with the key, into Root: refused (keys go with My).
    let both = dir.path().join("both.pem");
    std::fs::write(
        &both,
        format!(
            "{}{}",
            std::fs::read_to_string(&leaf.cert).unwrap(),
            std::fs::read_to_string(&leaf.key).unwrap()
        ),
    )
    .unwrap();
    let r = schannel(
        &data,
        &["cert", "import", both.to_str().unwrap(), "--store", "root"],
    );
    assert!(!r.status.success());
    assert!(r.stderr.contains("--store my"), "{}", r.stderr);
    // The CA alone into Root: fine; it has no key, so it cannot issue.
    ok(
        &data,
        &[
            "cert",
            "import",
            pki.ca_pem.to_str().unwrap(),
            "--store",
            "root",
        ],
    );
    let r = schannel(
        &data,
        &["cert", "issue", "--ca", "Outside CA", "--name", "x.test"],
    );
    assert!(!r.status.success());
    assert!(
        r.stderr.contains("has no private key in keys/"),
        "{}",
        r.stderr
    );
    // Nothing by that name.
    let r = schannel(&data, &["cert", "show", "nobody"]);
    assert!(!r.status.success());
    assert!(r.stderr.contains("schannel cert list"), "{}", r.stderr);
    let r = schannel(&data, &["cert", "remove", "00112233"]);
    assert!(!r.status.success());
    assert!(
        r.stderr.contains("no certificate with thumbprint 00112233"),
        "{}",
        r.stderr
    );
    // Two leaves share a subject part: show asks for a thumbprint.
    ok(&data, &["cert", "import", both.to_str().unwrap()]);
    let second = pki.server_leaf("outside-2");
    ok(&data, &["cert", "import", second.cert.to_str().unwrap()]);
    let r = schannel(&data, &["cert", "show", "localhost"]);
    assert!(!r.status.success());
    assert!(r.stderr.contains("give a thumbprint"), "{}", r.stderr);
    // A certificate imported without its key says it cannot be a credential yet.
    let third = pki.server_leaf("outside-3");
    let r = ok(&data, &["cert", "import", third.cert.to_str().unwrap()]);
    assert!(
        r.stdout.contains("no private key came with it"),
        "{}",
        r.stdout
    );
    // pfx export needs the password variable.
    let outside = thumbprint_of(&data, "localhost");
    let mut c = schannel_cmd(
        &data,
        &[
            "cert",
            "export",
            &outside,
            "--format",
            "pfx",
            "-o",
            dir.path().join("x.pfx").to_str().unwrap(),
        ],
    );
    c.env_remove("SCHANNEL_PFX_PASSWORD");
    let r = run("export without password", c, None);
    assert!(!r.status.success());
    assert!(r.stderr.contains("SCHANNEL_PFX_PASSWORD"), "{}", r.stderr);
}
