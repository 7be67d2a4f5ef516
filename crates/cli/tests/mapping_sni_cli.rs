//! Client-certificate mapping (`mappings.toml`, `CertificateMappingMethods`) and SNI
//! certificate selection, against real peers on loopback: `openssl s_client -cert/-key`
//! and `-servername` to `schannel serve`, and our own `schannel connect`. The PKI is
//! rcgen's (securechannel-testpki), valid from 2020 to 4096 since the peers read the
//! real clock.

mod common;

use common::*;
use rcgen::SanType;
use securechannel_testpki::Ca;
use std::path::PathBuf;

/// szOID_NT_PRINCIPAL_NAME, the UPN otherName.
const UPN_OID: [u64; 10] = [1, 3, 6, 1, 4, 1, 311, 20, 2, 3];

struct Setup {
    _dir: tempfile::TempDir,
    pki: PathBuf,
    data: PathBuf,
    /// Trusted by serve (stores/Root) and by the clients.
    ca: Ca,
    ca_pem: PathBuf,
    /// Issues client certificates; trusted for mapping (stores/ClientAuth) or not.
    users: Ca,
}

/// A data directory trusting the CA and its "Users CA" intermediate, logging everything.
fn setup() -> Setup {
    require_tool("openssl");
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let data = dir.path().join("data");
    let ca = Ca::root("mapping interop CA");
    let ca_pem = ca.write_pem(&pki.join("ca.pem"));
    let users = ca.intermediate("Contoso Users CA");
    std::fs::create_dir_all(data.join("stores/Root")).unwrap();
    std::fs::copy(&ca_pem, data.join("stores/Root/ca.pem")).unwrap();
    // s_client sends its certificate alone: the server has the issuing CAs in stores/CA.
    users.write_pem(&data.join("stores/CA/users.pem"));
    log_everything(&data);
    Setup {
        _dir: dir,
        pki,
        data,
        ca,
        ca_pem,
        users,
    }
}

/// Write `leaf` (its chain: the leaf, then its issuers below the root) as
/// `pki/<stem>.pem` and its key as `pki/<stem>.key`.
fn write(s: &Setup, leaf: securechannel_testpki::Leaf, stem: &str) -> Leaf {
    let files = Leaf {
        cert: s.pki.join(format!("{stem}.pem")),
        key: s.pki.join(format!("{stem}.key")),
    };
    let chain: String = leaf
        .chain
        .iter()
        .map(|c| securechannel_testpki::pem("CERTIFICATE", c))
        .collect();
    securechannel_testpki::write_file(&files.cert, chain, 0o644);
    securechannel_testpki::write_private(&files.key, leaf.key_pem());
    files
}

/// A client certificate of the Users CA named `cn`, with subjectAltNames `san`.
fn client(s: &Setup, stem: &str, cn: &str, san: Vec<SanType>) -> Leaf {
    let leaf = s.users.client_leaf_with(&[cn], |p| {
        p.subject_alt_names = san;
        p.distinguished_name
            .push(rcgen::DnType::OrganizationalUnitName, "Contractors");
    });
    write(s, leaf, stem)
}

fn upn(name: &str) -> SanType {
    SanType::OtherName((UPN_OID.to_vec(), name.into()))
}

fn email(name: &str) -> SanType {
    SanType::Rfc822Name(name.try_into().expect("an IA5 string"))
}

/// `serve` with a localhost certificate, requiring client certificates, and `extra`.
fn serve(s: &Setup, extra: &[&str]) -> Serve {
    let leaf = write(s, s.ca.server_leaf(&["localhost", "127.0.0.1"]), "serve");
    let mut args = vec![
        "--cert",
        leaf.cert.to_str().unwrap(),
        "--key",
        leaf.key.to_str().unwrap(),
        "--require-client-cert",
        "--access-log",
    ];
    args.extend_from_slice(extra);
    Serve::start(&s.data, &args)
}

/// `openssl s_client -cert/-key` to `serve`, asking for the page as JSON.
fn s_client(s: &Setup, serve: &Serve, client: &Leaf) -> serde_json::Value {
    let r = openssl(
        &[
            "s_client",
            "-connect",
            &serve.host_port(),
            "-CAfile",
            s.ca_pem.to_str().unwrap(),
            "-cert",
            client.cert.to_str().unwrap(),
            "-key",
            client.key.to_str().unwrap(),
            "-ign_eof",
        ],
        JSON_REQUEST,
    );
    page_json(&r.stdout)
}

/// The SHA-256 thumbprint of a PEM certificate file, as `schannel mapping test` prints it.
fn sha256_of(s: &Setup, leaf: &Leaf) -> String {
    let r = schannel(
        &s.data,
        &["mapping", "test", leaf.cert.to_str().unwrap(), "--json"],
    );
    let v: serde_json::Value =
        serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.both()));
    v["sha256"].as_str().unwrap().to_string()
}

fn write_mappings(s: &Setup, text: &str) {
    std::fs::write(s.data.join("mappings.toml"), text).unwrap();
}

/// The certificates mapped and refused, by every method, from openssl and from our
/// client: the account on the page (JSON) and in the access log, 36878 / 36879 for the
/// others (warnings: the connections go on).
#[test]
fn serve_maps_client_certificates_by_upn_one_to_one_and_many_to_one() {
    let s = setup();
    let alice = client(&s, "alice", "alice", vec![upn("alice@contoso.com")]);
    let bob = client(&s, "bob", "bob", vec![]);
    let carol = client(&s, "carol", "carol", vec![email("carol@contoso.com")]);
    // Issued by a CA that is trusted (stores/Root) but not for mapping.
    let other = s.ca.intermediate("Partner CA");
    other.write_pem(&s.data.join("stores/CA/partner.pem"));
    let mallory = write(
        &s,
        other.client_leaf_with(&["mallory"], |p| {
            p.subject_alt_names = vec![upn("mallory@partner.example")];
        }),
        "mallory",
    );
    let nobody = write(&s, other.client_leaf(&["nobody"]), "nobody");
    // Before the rules: bob's thumbprint from `mapping test` needs a mappings.toml.
    write_mappings(&s, "");
    let bob_sha256 = sha256_of(&s, &bob);
    write_mappings(
        &s,
        &format!(
            "# rules\n[upn]\nissuers = [\"CN=Contoso Users CA\"]\n\n[[one-to-one]]\naccount = \"CONTOSO\\\\bob\"\nsha256 = \"{bob_sha256}\"\n\n[[many-to-one]]\naccount = \"CONTOSO\\\\contractors\"\nissuer = \"CN=Contoso Users CA\"\nsubject = \"*OU=Contractors*\"\n"
        ),
    );
    let serve = serve(&s, &[]);
    let page = s_client(&s, &serve, &alice);
    assert_eq!(page["mapped_account"], "alice@contoso.com", "{page}");
    assert!(
        page["mapping"].as_str().unwrap().contains("mapped by upn"),
        "{page}"
    );
    let page = s_client(&s, &serve, &bob);
    assert_eq!(page["mapped_account"], "CONTOSO\\bob", "{page}");
    assert!(
        page["mapping"]
            .as_str()
            .unwrap()
            .contains("mappings.toml line 5: [[one-to-one]] by SHA-256"),
        "{page}"
    );
    // carol: an e-mail address stands in for the UPN (UPN runs first).
    let page = s_client(&s, &serve, &carol);
    assert_eq!(page["mapped_account"], "carol@contoso.com", "{page}");
    let page = s_client(&s, &serve, &mallory);
    assert_eq!(page["mapped_account"], serde_json::Value::Null, "{page}");
    assert!(
        page["mapping"].as_str().unwrap().contains("36878"),
        "{page}"
    );
    let page = s_client(&s, &serve, &nobody);
    assert_eq!(page["protocol"], "TLS 1.3", "accepted unmapped: {page}");
    assert!(
        page["mapping"].as_str().unwrap().contains("36879"),
        "{page}"
    );

    // Our own client, by the many-to-one rule (no UPN, subject OU=Contractors).
    let dave = client(&s, "dave", "dave", vec![]);
    let r = schannel(
        &s.data,
        &[
            "connect",
            &serve.host_port(),
            "--cafile",
            s.ca_pem.to_str().unwrap(),
            "--sni",
            "localhost",
            "--cert",
            dave.cert.to_str().unwrap(),
            "--key",
            dave.key.to_str().unwrap(),
            "--get",
            "/page.json",
            "--timeout",
            "5",
        ],
    );
    assert!(r.status.success(), "{}", r.both());
    let page = page_json(&r.stdout);
    assert_eq!(page["mapped_account"], "CONTOSO\\contractors", "{page}");
    assert!(
        page["mapping"]
            .as_str()
            .unwrap()
            .contains("[[many-to-one]] by issuer, subject matching"),
        "{page}"
    );

    serve.stop();
    let records = events(&s.data);
    let not_mappable = with_id(&records, 36878);
    assert_eq!(not_mappable.len(), 1, "{}", summary(&records));
    assert_eq!(field(not_mappable[0], "ErrorCode"), "0x80090325");
    assert!(
        not_mappable[0].binary.is_some(),
        "the certificate is attached"
    );
    let not_mapped = with_id(&records, 36879);
    assert_eq!(not_mapped.len(), 1, "{}", summary(&records));
    assert_eq!(field(not_mapped[0], "ErrorCode"), "0x8009030C");
    assert!(
        not_mapped[0].binary.is_some(),
        "the certificate is attached"
    );
    // Every connection was accepted (no client certificate refused).
    assert!(with_id(&records, 36877).is_empty(), "{}", summary(&records));
}

#[test]
fn the_access_log_names_the_mapped_account() {
    let s = setup();
    let alice = client(&s, "alice", "alice", vec![upn("alice@contoso.com")]);
    write_mappings(&s, "[upn]\nissuers = [\"CN=Contoso Users CA\"]\n");
    let mut serve = serve(&s, &[]);
    let page = s_client(&s, &serve, &alice);
    assert_eq!(page["mapped_account"], "alice@contoso.com", "{page}");
    assert!(
        serve.proc.wait_for(COMMAND_TIMEOUT, |out, _| out
            .contains("account=alice@contoso.com")),
        "{}",
        serve.proc.stdout()
    );
    serve.stop();
}

#[test]
fn certificate_mapping_methods_decides_which_methods_run() {
    let s = setup();
    let alice = client(&s, "alice", "alice", vec![upn("alice@contoso.com")]);
    write_mappings(
        &s,
        "[upn]\nissuers = [\"CN=Contoso Users CA\"]\n[[many-to-one]]\naccount = \"everyone\"\nissuer = \"CN=Contoso Users CA\"\n",
    );
    let test = |methods: &str| {
        let r = schannel(
            &s.data,
            &["config", "set", "CertificateMappingMethods", methods],
        );
        assert!(r.status.success(), "{}", r.both());
        let r = schannel(
            &s.data,
            &["mapping", "test", alice.cert.to_str().unwrap(), "--json"],
        );
        let v: serde_json::Value =
            serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", r.both()));
        (r.status.code(), v)
    };
    // All local methods: UPN first.
    let (code, v) = test("0x7");
    assert_eq!(code, Some(0));
    assert_eq!(
        (v["account"].as_str(), v["method"].as_str()),
        (Some("alice@contoso.com"), Some("upn"))
    );
    // Without UPN: many-to-one.
    let (code, v) = test("0x3");
    assert_eq!(code, Some(0));
    assert_eq!(
        (v["account"].as_str(), v["method"].as_str()),
        (Some("everyone"), Some("many-to-one"))
    );
    assert_eq!(v["steps"][0]["enabled"], false, "{v}");
    // One-to-one only: nothing names alice's certificate.
    let (code, v) = test("0x1");
    assert_eq!(code, Some(1));
    assert_eq!(v["mapped"], false);
    assert_eq!(v["event"], 36879);
    // S4U2Self needs a KDC: refused with the reason, the setting stays.
    let r = schannel(
        &s.data,
        &["config", "set", "CertificateMappingMethods", "0x18"],
    );
    assert!(!r.status.success(), "{}", r.both());
    assert!(r.stderr.contains("S4U2Self"), "{}", r.stderr);

    // On a real handshake too: 0x1 leaves alice unmapped (36879).
    let serve = serve(&s, &[]);
    let page = s_client(&s, &serve, &alice);
    assert_eq!(page["mapped_account"], serde_json::Value::Null, "{page}");
    serve.stop();
    assert_eq!(with_id(&events(&s.data), 36879).len(), 1);
}

#[test]
fn mapping_test_shows_the_rule_and_why_and_exits_1_when_unmapped() {
    let s = setup();
    let bob = client(&s, "bob", "bob", vec![]);
    let mallory = write(
        &s,
        s.ca.intermediate("Partner CA")
            .client_leaf_with(&["mallory"], |p| {
                p.subject_alt_names = vec![upn("mallory@partner.example")];
            }),
        "mallory",
    );
    write_mappings(
        &s,
        "[[one-to-one]]\naccount = \"bob-account\"\nsubject = \"CN=bob, OU=Contractors\"\nissuer = \"cn=contoso users ca\"\n",
    );
    let r = schannel(&s.data, &["mapping", "test", bob.cert.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(0), "{}", r.both());
    assert!(r.stdout.contains("Mapped to bob-account by one-to-one (mappings.toml line 1: [[one-to-one]] by subject and issuer)"), "{}", r.stdout);
    assert!(
        r.stdout.contains("Subject: CN=bob, OU=Contractors"),
        "{}",
        r.stdout
    );
    let r = schannel(
        &s.data,
        &["mapping", "test", mallory.cert.to_str().unwrap()],
    );
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(
        r.stdout.contains("not trusted for mapping") && r.stdout.contains("36878"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("not in stores/ClientAuth"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_corrupt_mappings_toml_is_refused_naming_file_and_line() {
    let s = setup();
    let bob = client(&s, "bob", "bob", vec![]);
    write_mappings(
        &s,
        "[[one-to-one]]\naccount = \"bob\"\nsha1 = \"not hex\"\n",
    );
    let file = s.data.join("mappings.toml");
    let where_ = format!("{} line 3", file.display());
    let r = schannel(&s.data, &["mapping", "test", bob.cert.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(
        r.stderr.contains(&where_) && r.stderr.contains("20 bytes of hex"),
        "{}",
        r.stderr
    );
    // serve asking for client certificates does not start with it (36871, ErrorState 1013).
    let leaf = write(&s, s.ca.server_leaf(&["localhost"]), "serve");
    let r = schannel(
        &s.data,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cert",
            leaf.cert.to_str().unwrap(),
            "--key",
            leaf.key.to_str().unwrap(),
            "--require-client-cert",
        ],
    );
    assert!(!r.status.success(), "{}", r.both());
    assert!(
        r.stderr.contains(&where_) && r.stderr.contains("36871"),
        "{}",
        r.stderr
    );
    let records = events(&s.data);
    let failed = with_id(&records, 36871);
    assert_eq!(field(failed.last().unwrap(), "ErrorState"), "1013");
    write_mappings(&s, "[[one-to-one]\n");
    let r = schannel(&s.data, &["mapping", "test", bob.cert.to_str().unwrap()]);
    assert!(
        r.stderr.contains(&format!("{} line 1", file.display())),
        "{}",
        r.stderr
    );
}

// ---------------------------------------------------------------------------------------
// SNI
// ---------------------------------------------------------------------------------------

/// serve with a certificate for a.test (the default unless `--sni-only`), and one for
/// b.test and *.wild.test.
fn sni_serve(s: &Setup, extra: &[&str]) -> Serve {
    let a = write(s, s.ca.server_leaf(&["a.test"]), "a");
    let b = write(s, s.ca.server_leaf(&["b.test", "*.wild.test"]), "b");
    let mut args = vec![
        "--cert",
        a.cert.to_str().unwrap(),
        "--key",
        a.key.to_str().unwrap(),
        "--cert",
        b.cert.to_str().unwrap(),
        "--key",
        b.key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Serve::start(&s.data, &args)
}

/// The subject of the certificate s_client was served, and its alert number if refused.
fn served(
    s: &Setup,
    serve: &Serve,
    servername: Option<&str>,
) -> (Option<String>, Option<u8>, String) {
    let address = serve.host_port();
    let mut args = vec![
        "s_client",
        "-connect",
        &address,
        "-CAfile",
        s.ca_pem.to_str().unwrap(),
    ];
    match servername {
        Some(n) => args.extend(["-servername", n]),
        None => args.push("-noservername"),
    }
    let r = openssl(&args, b"");
    let both = r.both();
    let subject = both
        .lines()
        .find_map(|l| l.strip_prefix("subject="))
        .map(|l| l.replace(' ', ""));
    (subject, openssl_alert_number(&both), both)
}

#[test]
fn sni_chooses_the_certificate_by_name_wildcard_and_default() {
    let s = setup();
    let serve = sni_serve(&s, &[]);
    for (name, cn) in [
        (Some("b.test"), "b.test"),
        (Some("x.wild.test"), "b.test"),
        (Some("a.test"), "a.test"),
        (Some("unknown.test"), "a.test"),
        (Some("deep.x.wild.test"), "a.test"),
        (None, "a.test"),
    ] {
        let (subject, alert, out) = served(&s, &serve, name);
        assert_eq!(
            subject.as_deref(),
            Some(format!("CN={cn}").as_str()),
            "{name:?}: {out}"
        );
        assert_eq!(alert, None, "{name:?}");
    }
    // Our client: the served chain is on its report.
    let r = schannel(
        &s.data,
        &[
            "connect",
            &serve.host_port(),
            "--cafile",
            s.ca_pem.to_str().unwrap(),
            "--sni",
            "x.wild.test",
            "--json",
            "--timeout",
            "5",
        ],
    );
    assert!(r.status.success(), "{}", r.both());
    let v: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert!(
        v["server_certificates"][0]
            .to_string()
            .contains("CN=b.test"),
        "{v}"
    );
    serve.stop();
    // 36880 names the certificate chosen, beside the name the client sent.
    let records = events(&s.data);
    let done: Vec<(String, String)> = with_id(&records, 36880)
        .iter()
        .filter(|r| field(r, "Type") == "server")
        .map(|r| {
            (
                field(r, "TargetName").to_string(),
                field(r, "LocalCertSubjectName").to_string(),
            )
        })
        .collect();
    for (target, local) in [
        ("b.test", "CN=b.test"),
        ("x.wild.test", "CN=b.test"),
        ("a.test", "CN=a.test"),
        ("unknown.test", "CN=a.test"),
        ("", "CN=a.test"),
    ] {
        assert!(
            done.contains(&(target.to_string(), local.to_string())),
            "{target} -> {local} in {done:?}"
        );
    }
    assert!(with_id(&records, 36886).is_empty());
}

#[test]
fn sni_only_refuses_a_name_no_certificate_holds_with_36886_and_access_denied() {
    let s = setup();
    let serve = sni_serve(&s, &["--sni-only"]);
    let (subject, alert, out) = served(&s, &serve, Some("b.test"));
    assert_eq!(subject.as_deref(), Some("CN=b.test"), "{out}");
    assert_eq!(alert, None);
    for name in [Some("unknown.test"), None] {
        let (subject, alert, out) = served(&s, &serve, name);
        assert_eq!(subject, None, "{name:?}: {out}");
        assert_eq!(alert, Some(49), "access_denied: {name:?}: {out}");
    }
    let r = schannel(
        &s.data,
        &[
            "connect",
            &serve.host_port(),
            "--cafile",
            s.ca_pem.to_str().unwrap(),
            "--sni",
            "nope.test",
            "--timeout",
            "5",
        ],
    );
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(
        r.stderr.contains("36887") && r.stderr.contains("49"),
        "{}",
        r.stderr
    );
    serve.stop();
    let records = events(&s.data);
    let missing = with_id(&records, 36886);
    assert_eq!(missing.len(), 3, "{}", summary(&records));
    let alerts: Vec<&str> = with_id(&records, 36888)
        .iter()
        .map(|r| field(r, "AlertDesc"))
        .collect();
    assert_eq!(alerts, ["49", "49", "49"], "{}", summary(&records));
}

#[test]
fn sni_certificates_also_come_from_the_my_store_by_thumbprint() {
    let s = setup();
    let c = write(&s, s.ca.server_leaf(&["c.test"]), "c");
    std::fs::create_dir_all(s.data.join("stores/My")).unwrap();
    std::fs::copy(&c.cert, s.data.join("stores/My/c.pem")).unwrap();
    securechannel_testpki::write_private(
        &s.data.join("keys/c.key"),
        std::fs::read(&c.key).unwrap(),
    );
    let r = openssl(
        &[
            "x509",
            "-in",
            c.cert.to_str().unwrap(),
            "-noout",
            "-fingerprint",
            "-sha1",
        ],
        b"",
    );
    let thumbprint: String = r.stdout.trim().rsplit('=').next().unwrap().replace(':', "");
    assert_eq!(thumbprint.len(), 40, "{}", r.both());
    let serve = sni_serve(&s, &["--sni-thumbprint", &thumbprint]);
    let (subject, _, out) = served(&s, &serve, Some("c.test"));
    assert_eq!(subject.as_deref(), Some("CN=c.test"), "{out}");
    let (subject, _, out) = served(&s, &serve, Some("b.test"));
    assert_eq!(subject.as_deref(), Some("CN=b.test"), "{out}");
    serve.stop();
}
