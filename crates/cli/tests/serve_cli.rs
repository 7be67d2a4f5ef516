//! `schannel serve` as a command: its flags (explicit certificate, optional client
//! certificates, ALPN, handshake timeout), its errors, its shutdown with a connection
//! open, and `schannel connect` against it (both ends ours, each with its own log).

mod common;

use common::*;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

#[test]
fn serve_refuses_an_address_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind((LOCALHOST_V4, 0)).unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let r = schannel(dir.path(), &["serve", "--listen", &addr]);
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(
        r.stderr.contains(&format!("cannot listen on {addr}")),
        "{}",
        r.stderr
    );
    assert!(r
        .stderr
        .contains("hint: pick another address with --listen"));
}

#[test]
fn serve_with_a_missing_certificate_says_schannel_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.pem");
    let key = dir.path().join("missing.key");
    let r = schannel(
        &dir.path().join("data"),
        &[
            "serve",
            "--cert",
            missing.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ],
    );
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(
        r.stderr.contains("cannot acquire the server credential"),
        "{}",
        r.stderr
    );
    assert_one_prefix(&r.stderr);
}

#[test]
fn serve_with_an_explicit_certificate_and_key() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    log_everything(&data);
    let pki = Pki::new(&pki_dir, "explicit CA");
    let leaf = pki.leaf(LeafSpec {
        file_stem: "explicit",
        common_name: "explicit.example",
        names: &["127.0.0.1"],
        client: false,
        validity: None,
    });
    let serve = Serve::start(
        &data,
        &[
            "--cert",
            leaf.cert.to_str().unwrap(),
            "--key",
            leaf.key.to_str().unwrap(),
        ],
    );
    assert!(
        serve.proc.stderr().contains("CN=explicit.example"),
        "{}",
        serve.proc.stderr()
    );
    assert!(
        !serve.dev_ca().exists(),
        "no development CA when a certificate is given"
    );
    let page = curl_page(&pki.ca_pem, &serve.url(), &[]);
    serve.stop();
    let records = events(&data);
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), 1, "{}", summary(&records));
    assert_eq!(
        done[0].activity_id.map(|a| a.to_string()).as_deref(),
        page["activity_id"].as_str()
    );
    assert!(
        field(done[0], "LocalCertSubjectName").contains("explicit.example"),
        "{}",
        summary(&records)
    );
    let key_event = with_id(&records, 36868);
    assert_eq!(key_event.len(), 1, "{}", summary(&records));
    assert_eq!(field(key_event[0], "Type"), "server");
    assert_eq!(
        field(key_event[0], "KeyName"),
        leaf.key.to_str().unwrap(),
        "36868 names where the key came from"
    );
}

#[test]
fn request_client_cert_lets_anonymous_clients_in_and_reports_certified_ones() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    log_everything(&data);
    let pki = Pki::new(&pki_dir, "optional client CA");
    std::fs::create_dir_all(data.join("stores/Root")).unwrap();
    std::fs::copy(&pki.ca_pem, data.join("stores/Root/optional-client-ca.pem")).unwrap();
    let dave = pki.client_leaf("dave", "dave.client.example");
    let serve = Serve::start(&data, &["--request-client-cert"]);
    let ca = serve.dev_ca();
    let url = serve.url();

    let page = curl_page(&ca, &url, &[]);
    assert_eq!(page["client_certificate"], serde_json::Value::Null);

    let certified = [
        "--cert",
        dave.cert.to_str().unwrap(),
        "--key",
        dave.key.to_str().unwrap(),
    ];
    let page2 = curl_page(&ca, &url, &certified);
    assert!(
        page2["client_certificate"]
            .as_str()
            .is_some_and(|s| s.contains("dave.client.example")),
        "{page2}"
    );
    serve.stop();
    let records = events(&data);
    let remote = |p: &serde_json::Value| {
        let a = p["activity_id"].as_str().unwrap();
        let e = of_activity(&records, a)
            .into_iter()
            .find(|r| r.event_id.value() == 36880)
            .unwrap_or_else(|| panic!("no 36880 for {a}:\n{}", summary(&records)));
        field(e, "RemoteCertSubjectName").to_string()
    };
    assert_eq!(remote(&page), "");
    assert!(remote(&page2).contains("dave.client.example"));
}

#[test]
fn alpn_mismatch_gets_no_application_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    let addr = serve.host_port();
    let r = openssl(
        &[
            "s_client",
            "-connect",
            &addr,
            "-alpn",
            "h2,spdy/3",
            "-servername",
            "localhost",
        ],
        b"",
    );
    assert!(!r.status.success(), "{}", r.both());
    let text = format!("{}\n{}", r.stdout, r.stderr);
    assert_eq!(openssl_alert_number(&text), Some(120), "{text}");
    serve.stop();
    let records = events(data);
    let sent = with_id(&records, 36888);
    assert_eq!(sent.len(), 1, "{}", summary(&records));
    assert_eq!(field(sent[0], "AlertDesc"), "120");
    assert_eq!(field(sent[0], "TargetName"), "localhost");
    assert!(with_id(&records, 36880).is_empty());
}

#[test]
fn an_idle_connection_is_closed_at_the_handshake_timeout_and_sigterm_waits_for_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let mut serve = Serve::start(data, &["--access-log", "--handshake-timeout", "2"]);
    let mut idle = TcpStream::connect(serve.addr).unwrap();
    idle.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 64];
    // Ok(0): serve closed it; a read timeout (8 s) would mean it never did.
    let n = match idle.read(&mut buf) {
        Ok(n) => n,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => 0,
        Err(e) => panic!("serve did not close an idle connection: {e}"),
    };
    let waited = start.elapsed();
    assert_eq!(n, 0, "the server closes, sending nothing");
    assert!(
        waited >= Duration::from_secs(1),
        "closed after {waited:?}: before the 2 s handshake timeout"
    );
    assert!(
        serve.proc.wait_for(Duration::from_secs(5), |out, _| out
            .contains("handshake timed out after 2 s")),
        "{}",
        serve.proc.stdout()
    );
    // A second connection left open while serve is told to stop: serve gives it up to
    // its drain time, then exits 0.
    let _open = TcpStream::connect(serve.addr).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let stderr = serve.stop();
    // The first connection is over: only the second one is open.
    assert!(
        stderr.contains("stopping; finishing 1 open connection(s)"),
        "{stderr}"
    );
    let records = events(data);
    assert!(with_id(&records, 36880).is_empty(), "{}", summary(&records));
}

#[test]
fn sigterm_after_the_last_connection_closed_finds_none_open() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Serve::start(dir.path(), &["--access-log"]);
    // A connection that has come and gone: the client leaves during the handshake.
    drop(TcpStream::connect(serve.addr).unwrap());
    assert!(
        serve.proc.wait_for(Duration::from_secs(5), |out, _| out
            .contains("handshake failed")),
        "{}",
        serve.proc.stdout()
    );
    let stderr = serve.stop();
    assert!(stderr.contains("stopping; no open connections"), "{stderr}");
}

#[test]
fn schannel_connect_to_schannel_serve() {
    let dir = tempfile::tempdir().unwrap();
    let server_data = dir.path().join("server");
    let client_data = dir.path().join("client");
    log_everything(&server_data);
    log_everything(&client_data);
    let serve = Serve::start(&server_data, &[]);
    let address = serve.host_port();
    let ca = serve.dev_ca();
    let r = schannel(
        &client_data,
        &[
            "connect",
            &address,
            "--cafile",
            ca.to_str().unwrap(),
            "--alpn",
            "http/1.1",
            "--get",
            "/",
            "--timeout",
            "5",
        ],
    );
    assert!(r.status.success(), "{}", r.both());
    assert!(
        r.stdout.contains("HTTP/1.1 200 OK") && r.stdout.contains("<h1>How you connected</h1>"),
        "{}",
        r.stdout
    );
    let client_activity = r
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Activity ID       : "))
        .expect("connect prints the activity ID")
        .to_string();
    serve.stop();

    let client = events(&client_data);
    let server = events(&server_data);
    let c = with_id(&client, 36880);
    let s = with_id(&server, 36880);
    assert_eq!(c.len(), 1, "{}", summary(&client));
    assert_eq!(s.len(), 1, "{}", summary(&server));
    assert_eq!(field(c[0], "Type"), "client");
    assert_eq!(field(s[0], "Type"), "server");
    assert_eq!(
        c[0].activity_id.map(|a| a.to_string()),
        Some(client_activity)
    );
    // Both ends agree on what was negotiated.
    for name in ["Protocol", "CipherSuite", "Cipher", "Exchange"] {
        assert_eq!(field(c[0], name), field(s[0], name), "{name}");
    }
    assert_eq!(field(c[0], "TargetName"), "127.0.0.1");
    assert!(field(c[0], "RemoteCertSubjectName").contains("localhost"));
    assert!(field(s[0], "LocalCertSubjectName").contains("localhost"));
    // The server's page names the server's activity, not the client's.
    assert!(r
        .stdout
        .contains(&s[0].activity_id.map(|a| a.to_string()).unwrap()));
}
