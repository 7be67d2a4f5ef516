//! Independent TLS implementations judging `schannel serve` and `schannel connect`:
//! sslyze (PyPI) scans serve — protocols, suites, curves, resumption and its vulnerability
//! checks — with every result asserted, under the default settings and under a hardening
//! policy (the scan must see exactly what the policy says); tlslite-ng (PyPI, pure Python,
//! no OpenSSL) is a client of serve and a server for connect, TLS 1.2 and 1.3, with
//! resumption and a client certificate.
//!
//! Both tools must be importable by `python3` (CI: `.ci/run` installs them into a venv);
//! without them these tests fail with the command that installs them.

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// Fail (never pass silently) when `python3` cannot import `module`.
fn require_python_module(module: &str, package: &str) {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "python3 cannot import `{module}`, which these tests drive; install it: \
         `python3 -m pip install {package}` (CI: .ci/run does)"
    );
}

/// Every scan sslyze has, named (naming one turns the unnamed ones off); `--resum` is not
/// in its default set.
const SCANS: &[&str] = &[
    "--certinfo",
    "--sslv2",
    "--sslv3",
    "--tlsv1",
    "--tlsv1_1",
    "--tlsv1_2",
    "--tlsv1_3",
    "--compression",
    "--early_data",
    "--openssl_ccs",
    "--fallback",
    "--heartbleed",
    "--robot",
    "--reneg",
    "--elliptic_curves",
    "--ems",
    "--resum",
];

/// `python3 -m sslyze` against serve, trusting serve's CA; the parsed JSON's
/// `scan_result` object.
fn sslyze(serve: &Serve, dir: &Path) -> serde_json::Value {
    require_python_module("sslyze", "sslyze");
    let out = dir.join("sslyze.json");
    let ca = serve.dev_ca();
    let mut c = Command::new("python3");
    c.args(["-m", "sslyze", "--quiet", "--mozilla_config", "disable"])
        .args(SCANS)
        .args(["--resum_attempts", "3"])
        .arg("--certinfo_ca_file")
        .arg(&ca)
        .arg(format!("--json_out={}", out.display()))
        .arg(serve.host_port());
    let r = run("sslyze", c, None);
    assert!(r.status.success(), "sslyze failed: {}", r.both());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).expect("sslyze wrote its JSON")).unwrap();
    let server = &json["server_scan_results"][0];
    assert_eq!(server["scan_status"], "COMPLETED", "{server}");
    server["scan_result"].clone()
}

/// A scan command's `result`, asserting the command completed.
fn result<'a>(scan: &'a serde_json::Value, command: &str) -> &'a serde_json::Value {
    let c = &scan[command];
    assert_eq!(c["status"], "COMPLETED", "sslyze {command}: {c}");
    &c["result"]
}

/// The IANA names of the suites sslyze saw accepted for one protocol.
fn accepted(scan: &serde_json::Value, command: &str) -> Vec<String> {
    let mut names: Vec<String> = result(scan, command)["accepted_cipher_suites"]
        .as_array()
        .unwrap_or_else(|| panic!("{command}: no accepted_cipher_suites"))
        .iter()
        .map(|s| s["cipher_suite"]["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The curves sslyze saw supported.
fn curves(scan: &serde_json::Value) -> Vec<String> {
    let mut names: Vec<String> = result(scan, "elliptic_curves")["supported_curves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// The vulnerability checks and what a TLS 1.2+ AEAD-only server must answer to them.
fn assert_not_vulnerable(scan: &serde_json::Value) {
    assert_eq!(
        result(scan, "heartbleed")["is_vulnerable_to_heartbleed"],
        false
    );
    assert_eq!(
        result(scan, "openssl_ccs_injection")["is_vulnerable_to_ccs_injection"],
        false
    );
    assert_eq!(
        result(scan, "robot")["robot_result"],
        "NOT_VULNERABLE_RSA_NOT_SUPPORTED"
    );
    assert_eq!(
        result(scan, "tls_compression")["supports_compression"],
        false
    );
    let reneg = result(scan, "session_renegotiation");
    assert_eq!(reneg["is_vulnerable_to_client_renegotiation_dos"], false);
    assert_eq!(reneg["supports_secure_renegotiation"], true);
    assert_eq!(
        result(scan, "tls_fallback_scsv")["supports_fallback_scsv"],
        true
    );
    assert_eq!(
        result(scan, "tls_extended_master_secret")["supports_ems_extension"],
        true
    );
    assert_eq!(
        result(scan, "tls_1_3_early_data")["supports_early_data"],
        false
    );
    for legacy in [
        "ssl_2_0_cipher_suites",
        "ssl_3_0_cipher_suites",
        "tls_1_0_cipher_suites",
        "tls_1_1_cipher_suites",
    ] {
        assert_eq!(accepted(scan, legacy), Vec::<String>::new(), "{legacy}");
    }
}

/// The default settings, as an outside scanner sees them: TLS 1.2 and 1.3 only, ECDHE AEAD
/// suites only, the three default curves, both kinds of resumption working, the
/// certificate trusted through the CA serve created, no vulnerability — and each refused
/// legacy hello left an event in serve's log.
#[test]
fn sslyze_sees_the_default_policy_and_no_vulnerability() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let serve = Serve::start(&data, &[]);
    let scan = sslyze(&serve, dir.path());
    serve.stop();

    assert_not_vulnerable(&scan);
    assert_eq!(
        accepted(&scan, "tls_1_2_cipher_suites"),
        [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        ]
    );
    assert_eq!(
        accepted(&scan, "tls_1_3_cipher_suites"),
        [
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
        ]
    );
    assert_eq!(curves(&scan), ["X25519", "secp256r1", "secp384r1"]);
    let resumption = result(&scan, "session_resumption");
    assert_eq!(
        resumption["session_id_resumption_result"],
        "FULLY_SUPPORTED"
    );
    assert_eq!(
        resumption["tls_ticket_resumption_result"],
        "FULLY_SUPPORTED"
    );
    let deployments = result(&scan, "certificate_info")["certificate_deployments"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        deployments.iter().all(|d| d["path_validation_results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["trust_store"]["name"] == "Supplied CA file"
                && v["was_validation_successful"] == true)),
        "the certificate did not validate against serve's CA: {deployments:?}"
    );

    // Every refused connection leaves an event: sslyze's hundreds of legacy and
    // unsupported-suite hellos were answered with alerts, each logged.
    let records = events(&data);
    let refused = with_id(&records, 36888);
    assert!(
        refused.len() >= 4,
        "sslyze's refused hellos left {} 36888 events:\n{}",
        refused.len(),
        summary(&records)
    );
    assert!(
        !with_id(&records, 36874).is_empty(),
        "{}",
        summary(&records)
    );
}

/// A hardening policy in settings.toml — TLS 1.3 off, two TLS 1.2 suites, P-256 only — is
/// exactly what the scanner finds: the settings take effect on the wire.
#[test]
fn sslyze_sees_exactly_a_hardening_policy() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(
        data.join("settings.toml"),
        r#"EventLogging = 7
[Protocols."TLS 1.3".Server]
Enabled = 0
DisabledByDefault = 1
[CipherSuiteOrder]
Functions = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
EccCurves = ["NistP256"]
"#,
    )
    .unwrap();
    let serve = Serve::start(&data, &[]);
    let scan = sslyze(&serve, dir.path());
    serve.stop();

    assert_not_vulnerable(&scan);
    assert_eq!(
        accepted(&scan, "tls_1_2_cipher_suites"),
        [
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ]
    );
    assert_eq!(
        accepted(&scan, "tls_1_3_cipher_suites"),
        Vec::<String>::new()
    );
    assert_eq!(curves(&scan), ["secp256r1"]);
    let resumption = result(&scan, "session_resumption");
    assert_eq!(
        resumption["session_id_resumption_result"],
        "FULLY_SUPPORTED"
    );
}

/// `tlslite_peer.py ARGS...` (next to this file), run to its end.
fn tlslite(args: &[&str]) -> Run {
    require_python_module("tlslite", "tlslite-ng");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/tlslite_peer.py");
    let mut c = Command::new("python3");
    c.arg(script).args(args);
    run("tlslite-ng", c, None)
}

/// The JSON lines the tlslite peer printed.
fn tlslite_lines(r: &Run) -> Vec<serde_json::Value> {
    assert!(r.status.success(), "tlslite-ng peer failed: {}", r.both());
    r.stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The SHA-1 thumbprint of a PEM certificate, as tlslite prints it (lower-case hex),
/// computed by openssl.
fn sha1_of(pem: &Path) -> String {
    let r = openssl(
        &[
            "x509",
            "-noout",
            "-fingerprint",
            "-sha1",
            "-in",
            pem.to_str().unwrap(),
        ],
        b"",
    );
    assert!(r.status.success(), "{}", r.both());
    r.stdout
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase()
}

/// tlslite-ng as a client of serve: TLS 1.2 (session IDs / tickets) and TLS 1.3 (PSK
/// tickets) both complete, are resumed on the second connection, get the page, and the
/// page and the events say what tlslite saw.
#[test]
fn tlslite_client_gets_the_page_and_resumes_over_tls12_and_tls13() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "tlslite test CA");
    let leaf = pki.server_leaf("server");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    log_everything(&data);
    let serve = Serve::start(&data, &leaf.args());
    let port = serve.addr.port().to_string();
    let thumbprint = sha1_of(&leaf.cert);
    for (version, protocol) in [("1.2", "TLS 1.2"), ("1.3", "TLS 1.3")] {
        let lines = tlslite_lines(&tlslite(&[
            "client",
            "127.0.0.1",
            &port,
            "localhost",
            version,
            "--resume",
        ]));
        assert_eq!(lines.len(), 2, "{lines:?}");
        for (i, line) in lines.iter().enumerate() {
            assert_eq!(line["version"], protocol, "{line}");
            assert_eq!(line["resumed"], i == 1, "connection {i}: {line}");
            let page = page_json(line["response"].as_str().unwrap());
            assert_eq!(page["protocol"], protocol, "{page}");
            let suite = line["suite"].as_u64().unwrap();
            assert_eq!(
                page["cipher_suite_id"],
                format!("0x{suite:04X}"),
                "tlslite and serve disagree on the suite: {page}"
            );
        }
        // A TLS 1.3 PSK resumption sends no certificate; the full handshake did.
        assert_eq!(lines[0]["server_cert_sha1"], thumbprint.as_str());
    }
    serve.stop();
    let records = events(&data);
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), 4, "{}", summary(&records));
    assert!(with_id(&records, 36888).is_empty(), "{}", summary(&records));
}

/// tlslite-ng as a client with a client certificate, to serve requiring one: accepted,
/// and the page names the certificate tlslite sent.
#[test]
fn tlslite_client_certificate_is_accepted_by_serve() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "tlslite test CA");
    let leaf = pki.server_leaf("server");
    let client = pki.client_leaf("client", "tlslite client");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("stores/Root")).unwrap();
    std::fs::copy(&pki.ca_pem, data.join("stores/Root/tlslite-ca.pem")).unwrap();
    log_everything(&data);
    let serve = Serve::start(
        &data,
        &[&leaf.args()[..], &["--require-client-cert"]].concat(),
    );
    let port = serve.addr.port().to_string();
    for version in ["1.2", "1.3"] {
        let lines = tlslite_lines(&tlslite(&[
            "client",
            "127.0.0.1",
            &port,
            "localhost",
            version,
            "--cert",
            client.cert.to_str().unwrap(),
            "--key",
            client.key.to_str().unwrap(),
        ]));
        let page = page_json(lines[0]["response"].as_str().unwrap());
        let seen = page.to_string();
        assert!(
            seen.contains("tlslite client"),
            "TLS {version}: the page does not name the client certificate: {page}"
        );
    }
    serve.stop();
}

/// tlslite-ng as the server, `schannel connect` as the client, both versions: the
/// handshake completes with the certificate verified against the test CA, the response
/// arrives, and the client's 36880 names the server's certificate.
#[test]
fn connect_to_a_tlslite_server_over_tls12_and_tls13() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "tlslite test CA");
    let leaf = pki.server_leaf("server");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    log_everything(&data);
    for flag in ["--tls1.2", "--tls1.3"] {
        let port = free_port(LOCALHOST_V4).to_string();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py/tlslite_peer.py");
        require_python_module("tlslite", "tlslite-ng");
        let mut c = Command::new("python3");
        c.arg(script).args([
            "server",
            &port,
            leaf.cert.to_str().unwrap(),
            leaf.key.to_str().unwrap(),
        ]);
        let mut server = Proc::spawn("tlslite-ng server", c, None);
        assert!(
            server.wait_for(COMMAND_TIMEOUT, |out, _| out.contains("listening")),
            "the tlslite server did not start: {}",
            server.stderr()
        );
        let r = schannel(
            &data,
            &[
                "connect",
                &format!("localhost:{port}"),
                flag,
                "--cafile",
                pki.ca_pem.to_str().unwrap(),
                "--get",
                "/",
                "--json",
            ],
        );
        assert!(r.status.success(), "connect {flag}: {}", r.both());
        // One JSON line describing the connection, then the response as received.
        let (first, response) = r.stdout.split_once('\n').unwrap_or((&r.stdout, ""));
        let out: serde_json::Value = serde_json::from_str(first)
            .unwrap_or_else(|e| panic!("connect printed no JSON line ({e}): {}", r.both()));
        assert!(response.contains("hello from tlslite-ng"), "{}", r.stdout);
        let want = if flag == "--tls1.2" {
            "TLS 1.2"
        } else {
            "TLS 1.3"
        };
        assert_eq!(out["protocol"], want, "{out}");
        assert_eq!(out["server_certificates"][0], "CN=localhost", "{out}");
        server.wait_exit(COMMAND_TIMEOUT);
        let line = server
            .stdout()
            .lines()
            .find(|l| l.starts_with('{'))
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .unwrap_or_else(|| panic!("tlslite server printed nothing: {}", server.stderr()));
        assert_eq!(line["version"], want, "{line}");
        assert!(
            line["request"].as_str().unwrap().starts_with("GET / "),
            "{line}"
        );
    }
    let records = events(&data);
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), 2, "{}", summary(&records));
    for r in done {
        assert!(
            field(r, "RemoteCertSubjectName").contains("localhost"),
            "{r:?}"
        );
    }
}
