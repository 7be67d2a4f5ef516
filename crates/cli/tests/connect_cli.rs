//! `schannel connect` against a real `openssl s_server` on loopback, with a PKI made by
//! rcgen in the test's tempdir: success with the printed parameters and 36880, and each
//! failure with its event, status and the alert s_server really received.

mod common;

use common::*;
use std::path::Path;

struct Setup {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    pki: Pki,
}

fn setup() -> Setup {
    require_tool("openssl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    log_everything(&data);
    let pki = Pki::new(&pki_dir, "interop server CA");
    Setup {
        _dir: dir,
        data,
        pki,
    }
}

fn connect(data: &Path, address: &str, args: &[&str]) -> Run {
    let mut all = vec!["connect", address, "--timeout", "5"];
    all.extend_from_slice(args);
    schannel(data, &all)
}

/// `connect` was refused: exit status 1 with `event` and `status` on stderr, and s_server,
/// once it has exited, printed the number of the `alert` it received.
fn assert_refused(r: &Run, server: &mut SServer, event: &str, status: &str, alert: u8) {
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(r.stderr.contains(event), "{}", r.stderr);
    assert!(r.stderr.contains(status), "{}", r.stderr);
    server.proc.wait_exit(COMMAND_TIMEOUT);
    let seen = server.output();
    assert_eq!(openssl_alert_number(&seen), Some(alert), "{event}: {seen}");
}

/// The line `Label : value` of connect's report.
fn line<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.starts_with(label))
        .and_then(|l| l.split_once(": "))
        .map(|(_, v)| v.trim())
        .unwrap_or_else(|| panic!("no '{label}' line in:\n{stdout}"))
}

/// The one client 36880 of the run; checked against the printed report.
fn assert_client_handshake(data: &Path, stdout: &str, protocol: &str) {
    let records = events(data);
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), 1, "{}", summary(&records));
    let e = done[0];
    assert_eq!(field(e, "Type"), "client");
    assert_eq!(field(e, "Protocol"), protocol);
    assert_eq!(field(e, "TargetName"), "127.0.0.1");
    assert!(
        field(e, "RemoteCertSubjectName").contains("localhost"),
        "{e:?}"
    );
    assert_eq!(
        e.activity_id.map(|a| a.to_string()).as_deref(),
        Some(line(stdout, "Activity ID"))
    );
    let printed_suite = line(stdout, "Cipher suite");
    assert!(
        printed_suite.ends_with(&format!("({})", field(e, "CipherSuite"))),
        "{printed_suite} vs {e:?}"
    );
}

#[test]
fn connect_tls13_to_s_server() {
    let s = setup();
    let leaf = s.pki.server_leaf("server");
    let mut server = SServer::start(&leaf, &[]);
    let ca = s.pki.ca_pem.to_str().unwrap();
    let r = connect(&s.data, &server.address(), &["--cafile", ca, "--get", "/"]);
    assert!(r.status.success(), "{}", r.both());
    assert_eq!(line(&r.stdout, "Protocol"), "TLS 1.3");
    assert!(line(&r.stdout, "Certificate [0]").contains("localhost"));
    // s_server -www answers with its own view of the connection.
    assert!(
        r.stdout.contains("HTTP/1.0 200 ok") && r.stdout.contains("TLSv1.3"),
        "{}",
        r.stdout
    );
    assert!(server.proc.exited().is_none());
    assert_client_handshake(&s.data, &r.stdout, "TLS 1.3");
}

#[test]
fn connect_tls12_with_alpn() {
    let s = setup();
    let leaf = s.pki.server_leaf("server");
    let server = SServer::start(&leaf, &["-alpn", "http/1.1"]);
    let address = server.address();
    let ca = s.pki.ca_pem.to_str().unwrap();
    let r = connect(
        &s.data,
        &address,
        &["--cafile", ca, "--tls1.2", "--alpn", "h2,http/1.1"],
    );
    assert!(r.status.success(), "{}", r.both());
    assert_eq!(line(&r.stdout, "Protocol"), "TLS 1.2");
    assert_eq!(line(&r.stdout, "ALPN"), "http/1.1");
    assert_client_handshake(&s.data, &r.stdout, "TLS 1.2");
}

#[test]
fn connect_untrusted_ca_logs_36882_and_s_server_receives_unknown_ca() {
    let s = setup();
    let leaf = s.pki.server_leaf("server");
    let mut server = SServer::start(&leaf, &["-naccept", "1"]);
    // No --cafile: the server's CA is in no store.
    let r = connect(&s.data, &server.address(), &[]);
    assert_refused(&r, &mut server, "36882", "0x80090325", 48);
    let records = events(&s.data);
    let untrusted = with_id(&records, 36882);
    assert_eq!(untrusted.len(), 1, "{}", summary(&records));
    let der = untrusted[0]
        .binary
        .as_ref()
        .expect("36882 carries the certificate");
    let pem = std::fs::read_to_string(&leaf.cert).unwrap();
    assert!(
        pem_holds_der(&pem, der),
        "the attached certificate is the server's"
    );
    let sent = with_id(&records, 36888);
    assert_eq!(sent.len(), 1, "{}", summary(&records));
    assert_eq!(field(sent[0], "AlertDesc"), "48");
    assert_eq!(field(sent[0], "TargetName"), "127.0.0.1");
    assert!(with_id(&records, 36880).is_empty());
}

/// connect to s_server presenting `leaf`; 36884 expected with `name`.
fn wrong_name(leaf_names: &[&str], args: &[&str], name: &str) {
    let s = setup();
    let leaf = s.pki.leaf(LeafSpec {
        file_stem: "server",
        common_name: "server.example",
        names: leaf_names,
        client: false,
        validity: None,
    });
    let mut server = SServer::start(&leaf, &["-naccept", "1"]);
    let ca = s.pki.ca_pem.to_str().unwrap();
    let mut all = vec!["--cafile", ca];
    all.extend_from_slice(args);
    let r = connect(&s.data, &server.address(), &all);
    // bad_certificate
    assert_refused(&r, &mut server, "36884", "0x80090322", 42);
    let records = events(&s.data);
    let wrong = with_id(&records, 36884);
    assert_eq!(wrong.len(), 1, "{}", summary(&records));
    assert_eq!(field(wrong[0], "Name"), name);
    let der = wrong[0]
        .binary
        .as_ref()
        .expect("36884 carries the certificate");
    assert!(pem_holds_der(
        &std::fs::read_to_string(&leaf.cert).unwrap(),
        der
    ));
}

#[test]
fn connect_wrong_name_logs_36884_with_the_name() {
    // The certificate is for server.example only; connect targets 127.0.0.1.
    wrong_name(&["server.example"], &[], "127.0.0.1");
}

#[test]
fn connect_wrong_sni_name_logs_36884_with_the_sni_name() {
    wrong_name(&["127.0.0.1"], &["--sni", "other.example"], "other.example");
}

#[test]
fn connect_expired_certificate_logs_36881() {
    let s = setup();
    let leaf = s.pki.leaf(LeafSpec {
        file_stem: "expired",
        common_name: "localhost",
        names: &["localhost", "127.0.0.1"],
        client: false,
        validity: Some(((2000, 1, 1), (2001, 1, 1))),
    });
    let mut server = SServer::start(&leaf, &["-naccept", "1"]);
    let ca = s.pki.ca_pem.to_str().unwrap();
    let r = connect(&s.data, &server.address(), &["--cafile", ca]);
    // certificate_expired
    assert_refused(&r, &mut server, "36881", "0x80090328", 45);
    let records = events(&s.data);
    assert_eq!(with_id(&records, 36881).len(), 1, "{}", summary(&records));
    let sent = with_id(&records, 36888);
    assert_eq!(sent.len(), 1, "{}", summary(&records));
    assert_eq!(field(sent[0], "AlertDesc"), "45");
}

/// s_server asking for a client certificate from `client_ca`.
fn client_auth_server(s: &Setup, client_ca: &Pki, flag: &str, extra: &[&str]) -> SServer {
    let leaf = s.pki.server_leaf("server");
    let mut args = vec![
        flag,
        "1",
        "-CAfile",
        client_ca.ca_pem.to_str().unwrap(),
        "-naccept",
        "1",
    ];
    args.extend_from_slice(extra);
    SServer::start(&leaf, &args)
}

#[test]
fn connect_with_a_client_certificate_the_server_accepts() {
    let s = setup();
    let client_ca = Pki::new(&s.pki.dir, "interop client CA");
    let bob = client_ca.client_leaf("bob", "bob.client.example");
    let mut server = client_auth_server(&s, &client_ca, "-Verify", &[]);
    let ca = s.pki.ca_pem.to_str().unwrap();
    let r = connect(
        &s.data,
        &server.address(),
        &[
            "--cafile",
            ca,
            "--cert",
            bob.cert.to_str().unwrap(),
            "--key",
            bob.key.to_str().unwrap(),
            "--get",
            "/",
        ],
    );
    assert!(r.status.success(), "{}", r.both());
    // s_server -www prints the client certificate it verified.
    assert!(
        r.stdout.contains("Client certificate") && r.stdout.contains("bob.client.example"),
        "{}",
        r.stdout
    );
    server.proc.wait_exit(COMMAND_TIMEOUT);
    let records = events(&s.data);
    assert!(with_id(&records, 36875).is_empty(), "{}", summary(&records));
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), 1, "{}", summary(&records));
    assert!(
        field(done[0], "LocalCertSubjectName").contains("bob.client.example"),
        "{}",
        summary(&records)
    );
}

/// Optional client authentication (`-verify 1`) from `client_ca`; connect offers `cert`
/// (or nothing): the handshake goes on anonymously. The run's records.
fn optional_client_auth(
    s: &Setup,
    client_ca: &Pki,
    cert: Option<&Leaf>,
) -> Vec<securechannel_events::EventRecord> {
    let data = s.data.join(format!("optional-{}", cert.is_some()));
    log_everything(&data);
    let mut server = client_auth_server(s, client_ca, "-verify", &[]);
    let ca = s.pki.ca_pem.to_str().unwrap();
    let mut args = vec!["--cafile", ca, "--get", "/"];
    if let Some(leaf) = cert {
        args.extend([
            "--cert",
            leaf.cert.to_str().unwrap(),
            "--key",
            leaf.key.to_str().unwrap(),
        ]);
    }
    let r = connect(&data, &server.address(), &args);
    assert!(r.status.success(), "{}", r.both());
    // s_server's page says what it got.
    assert!(
        r.stdout.contains("no client certificate available"),
        "{}",
        r.stdout
    );
    server.proc.wait_exit(COMMAND_TIMEOUT);
    let records = events(&data);
    assert_eq!(with_id(&records, 36880).len(), 1, "{}", summary(&records));
    records
}

#[test]
fn connect_with_an_unsuitable_client_certificate_logs_36875() {
    let s = setup();
    let client_ca = Pki::new(&s.pki.dir, "interop client CA");
    // Issued by a CA the server does not name in its CertificateRequest.
    let other_ca = Pki::new(&s.pki.dir, "unrelated CA");
    let carol = other_ca.client_leaf("carol", "carol.client.example");
    let records = optional_client_auth(&s, &client_ca, Some(&carol));
    assert_eq!(with_id(&records, 36875).len(), 1, "{}", summary(&records));
}

#[test]
fn connect_36880_names_no_local_certificate_when_none_was_sent() {
    let s = setup();
    let client_ca = Pki::new(&s.pki.dir, "interop client CA");
    let other_ca = Pki::new(&s.pki.dir, "unrelated CA");
    let carol = other_ca.client_leaf("carol", "carol.client.example");
    let records = optional_client_auth(&s, &client_ca, Some(&carol));
    let done = with_id(&records, 36880);
    assert_eq!(
        field(done[0], "LocalCertSubjectName"),
        "",
        "{}",
        summary(&records)
    );
}

#[test]
fn connect_without_any_client_certificate_logs_36875() {
    let s = setup();
    let client_ca = Pki::new(&s.pki.dir, "interop client CA");
    let records = optional_client_auth(&s, &client_ca, None);
    assert_eq!(with_id(&records, 36875).len(), 1, "{}", summary(&records));
}

#[test]
fn connect_refused_by_a_server_requiring_a_certificate_logs_36887() {
    let s = setup();
    let client_ca = Pki::new(&s.pki.dir, "interop client CA");
    let ca = s.pki.ca_pem.to_str().unwrap();
    // TLS 1.3: certificate_required (116); TLS 1.2: handshake_failure (40).
    // In TLS 1.3 the client's handshake is complete before the server judges its
    // certificate: the alert arrives with the first read (--get).
    for (flag, alert) in [("--get", 116u8), ("--tls1.2", 40u8)] {
        let data = s.data.join(format!("required-{alert}"));
        log_everything(&data);
        let mut server = client_auth_server(&s, &client_ca, "-Verify", &[]);
        let mut args = vec!["--cafile", ca, flag];
        if flag == "--get" {
            args.push("/");
        }
        let r = connect(&data, &server.address(), &args);
        assert_eq!(r.status.code(), Some(1), "{}", r.both());
        assert!(!r.stderr.contains("schannel: schannel:"), "{}", r.stderr);
        server.proc.wait_exit(COMMAND_TIMEOUT);
        let records = events(&data);
        let received = with_id(&records, 36887);
        assert_eq!(received.len(), 1, "{}", summary(&records));
        assert_eq!(field(received[0], "AlertDesc"), alert.to_string());
        // The status connect reports is the one alerts.toml gives for that alert.
        let status = securechannel_events::AlertDescription(alert).received_status();
        assert!(
            r.stderr.contains(&status.hex()) && r.stderr.contains("36887"),
            "expected {} ({}) in:\n{}",
            status.name(),
            status.hex(),
            r.stderr
        );
        // A TLS 1.3 client completed its side of the handshake before the refusal.
        let completed = usize::from(flag == "--get");
        assert_eq!(
            with_id(&records, 36880).len(),
            completed,
            "{}",
            summary(&records)
        );
        assert!(received[0].activity_id.is_some());
    }
}

#[test]
fn connect_tls13_only_to_a_tls12_server_receives_protocol_version() {
    let s = setup();
    let leaf = s.pki.server_leaf("server");
    let mut server = SServer::start(&leaf, &["-tls1_2", "-naccept", "1"]);
    let ca = s.pki.ca_pem.to_str().unwrap();
    let r = connect(&s.data, &server.address(), &["--cafile", ca, "--tls1.3"]);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    server.proc.wait_exit(COMMAND_TIMEOUT);
    let records = events(&s.data);
    let received = with_id(&records, 36887);
    assert_eq!(received.len(), 1, "{}", summary(&records));
    assert_eq!(field(received[0], "AlertDesc"), "70");
    // alerts.toml: protocol_version received → SEC_E_UNSUPPORTED_FUNCTION.
    let status = securechannel_events::AlertDescription(70).received_status();
    assert_eq!(status.hex(), "0x80090302");
    assert!(r.stderr.contains("0x80090302"), "{}", r.stderr);
    assert!(r.stderr.contains("36887"), "{}", r.stderr);
}

#[test]
fn connect_to_a_tls11_only_server_receives_protocol_version() {
    let s = setup();
    let leaf = s.pki.server_leaf("server");
    // OpenSSL 3 only speaks TLS 1.1 at security level 0.
    let mut server = SServer::start(
        &leaf,
        &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-naccept", "1"],
    );
    let ca = s.pki.ca_pem.to_str().unwrap();
    let r = connect(&s.data, &server.address(), &["--cafile", ca]);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(r.stderr.contains("0x80090302"), "{}", r.stderr);
    server.proc.wait_exit(COMMAND_TIMEOUT);
    let records = events(&s.data);
    // Our hello offers TLS 1.2 and 1.3 only: the server refuses it.
    let received = with_id(&records, 36887);
    assert_eq!(received.len(), 1, "{}", summary(&records));
    assert_eq!(field(received[0], "AlertDesc"), "70");
    assert!(with_id(&records, 36888).is_empty(), "{}", summary(&records));
    assert!(with_id(&records, 36880).is_empty());
}

#[test]
fn connect_to_a_server_that_does_not_speak_tls() {
    let l = std::net::TcpListener::bind((LOCALHOST_V4, 0)).unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let plain = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut sock, _) = l.accept().unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        // Take the whole ClientHello record, so what is read next is the client's answer.
        let mut header = [0u8; 5];
        sock.read_exact(&mut header).unwrap();
        let mut hello = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
        sock.read_exact(&mut hello).unwrap();
        let n = hello.len();
        let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        // Read what the client answers (its alert) until it closes.
        let mut answer = Vec::new();
        let _ = sock.read_to_end(&mut answer);
        (n, answer)
    });
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let r = connect(data, &addr, &[]);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    let (hello_len, answer) = plain.join().unwrap();
    assert!(hello_len > 0, "connect sent a ClientHello");
    let records = events(data);
    let sent = with_id(&records, 36888);
    // The peer got a fatal alert (decode_error when observed), and that alert is logged.
    let [21, 3, _, 0, 2, 2, code, ..] = answer.as_slice() else {
        panic!("no alert to the peer: {answer:02x?}");
    };
    assert_eq!(sent.len(), 1, "{}", summary(&records));
    assert_eq!(field(sent[0], "AlertDesc"), code.to_string());
    assert!(r.stderr.contains("36888"), "{}", r.stderr);
    assert!(with_id(&records, 36880).is_empty());
}

#[test]
fn connect_to_a_closed_port_says_schannel_once() {
    let dir = tempfile::tempdir().unwrap();
    // Nobody listens there once the listener is dropped: connecting is refused at once.
    let closed = std::net::TcpListener::bind((LOCALHOST_V4, 0)).unwrap();
    let addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    let r = connect(dir.path(), &addr, &[]);
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(r.stderr.contains("cannot connect to"), "{}", r.stderr);
    assert_one_prefix(&r.stderr);
}

#[test]
fn connect_with_a_missing_client_certificate_says_schannel_once() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("missing.pem");
    let key = dir.path().join("missing.key");
    let r = connect(
        &dir.path().join("data"),
        "127.0.0.1:9",
        &[
            "--cert",
            cert.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(
        r.stderr.contains("cannot acquire the client credential"),
        "{}",
        r.stderr
    );
    assert_one_prefix(&r.stderr);
}

#[test]
fn connect_answers_a_hello_retry_request() {
    let s = setup();
    let leaf = s.pki.server_leaf("server");
    // Our first key share is X25519; a P-256-only s_server asks again.
    let server = SServer::start(&leaf, &["-groups", "P-256"]);
    let ca = s.pki.ca_pem.to_str().unwrap();
    let r = connect(&s.data, &server.address(), &["--cafile", ca]);
    assert!(r.status.success(), "{}", r.both());
    assert_eq!(line(&r.stdout, "Protocol"), "TLS 1.3");
    let exchange = line(&r.stdout, "Key exchange");
    assert_client_handshake(&s.data, &r.stdout, "TLS 1.3");
    let records = events(&s.data);
    let e = with_id(&records, 36880)[0];
    assert!(
        exchange.starts_with(field(e, "Exchange")),
        "{exchange} vs {e:?}"
    );
    assert_ne!(field(e, "Exchange"), "X25519");
}
