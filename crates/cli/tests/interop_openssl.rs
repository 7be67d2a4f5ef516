//! `schannel serve` against real `openssl s_client` and against raw bytes on loopback:
//! TLS 1.3 / 1.2 with SNI and ALPN, session resumption, legacy hellos (TLS 1.0, TLS 1.1,
//! SSL 3.0, SSL 2.0) with the alert each really receives, and malformed input.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

/// `openssl s_client -connect ADDR ARGS...` sending the JSON request; the page is parsed.
fn s_client_page(serve: &Serve, args: &[&str]) -> (Run, serde_json::Value) {
    let mut all = vec!["-ign_eof"];
    all.extend_from_slice(args);
    let r = s_client_to(serve, &all, JSON_REQUEST);
    assert!(r.status.success(), "{}", r.both());
    let page = page_json(&r.stdout);
    (r, page)
}

#[test]
fn s_client_tls13_with_sni_and_alpn() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    let (r, page) = s_client_page(
        &serve,
        &["-tls1_3", "-servername", "localhost", "-alpn", "http/1.1"],
    );
    assert!(
        r.stdout.contains("Verify return code: 0 (ok)"),
        "{}",
        r.both()
    );
    assert!(r.stdout.contains("ALPN protocol: http/1.1"), "{}", r.both());
    assert_eq!(page["protocol"], "TLS 1.3");
    assert_eq!(page["sni"], "localhost");
    assert_eq!(page["alpn"], "http/1.1");
    // openssl names the same suite the page does.
    let suite = page["cipher_suite"].as_str().unwrap();
    assert!(
        r.stdout.contains(&format!("Cipher is {suite}")),
        "{}",
        r.stdout
    );
    serve.stop();
    let records = events(data);
    let e = of_activity(&records, page["activity_id"].as_str().unwrap())
        .into_iter()
        .find(|r| r.event_id.value() == 36880)
        .unwrap_or_else(|| panic!("no 36880:\n{}", summary(&records)));
    assert_eq!(field(e, "Protocol"), "TLS 1.3");
    assert_eq!(field(e, "TargetName"), "localhost");
    assert_eq!(field(e, "CipherSuite"), page["cipher_suite_id"]);
}

#[test]
fn s_client_tls12() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    let (r, page) = s_client_page(&serve, &["-tls1_2", "-servername", "localhost"]);
    assert!(r.stdout.contains("Protocol  : TLSv1.2"), "{}", r.stdout);
    assert_eq!(page["protocol"], "TLS 1.2");
    let suite = page["cipher_suite"].as_str().unwrap();
    assert!(suite.starts_with("TLS_ECDHE_ECDSA_WITH_"), "{page}");
    serve.stop();
    let records = events(data);
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), 1, "{}", summary(&records));
    assert_eq!(field(done[0], "Protocol"), "TLS 1.2");
    assert_eq!(field(done[0], "CipherSuite"), page["cipher_suite_id"]);
}

/// The ServerHello's random, from `openssl s_client -msg` output (the dump of the
/// message that follows its `ServerHello` line: type, length, version, then the random).
fn server_hello_random(msg_output: &str) -> Vec<u8> {
    let mut lines = msg_output.lines();
    lines
        .find(|l| l.contains("<<<") && l.contains("ServerHello"))
        .expect("a ServerHello in the -msg output");
    let mut bytes = Vec::new();
    for line in lines.take_while(|l| l.starts_with(' ')) {
        for hex in line.split_whitespace() {
            bytes.push(u8::from_str_radix(hex, 16).expect("a hex byte of the dump"));
        }
    }
    assert!(bytes.len() >= 38, "{bytes:02x?}");
    bytes[6..38].to_vec()
}

#[test]
fn a_tls12_fallback_hello_is_answered_with_the_tls13_downgrade_sentinel() {
    // RFC 7507's TLS_FALLBACK_SCSV asks a TLS 1.3 server to refuse a TLS 1.2 hello with
    // inappropriate_fallback (86). rustls has no such alert to send (and this provider
    // writes none itself); what protects the client instead is RFC 8446 4.1.3: a server
    // that speaks TLS 1.3 and negotiates TLS 1.2 ends its random with "DOWNGRD\x01",
    // which a TLS 1.3-capable client checks. Shown here on the wire, with openssl's SCSV.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let serve = Serve::start(data, &[]);
    let ca = serve.dev_ca();
    let addr = serve.host_port();
    let r = openssl(
        &[
            "s_client",
            "-connect",
            &addr,
            "-CAfile",
            ca.to_str().unwrap(),
            "-tls1_2",
            "-fallback_scsv",
            "-msg",
        ],
        b"",
    );
    assert!(r.stdout.contains("Protocol  : TLSv1.2"), "{}", r.both());
    let random = server_hello_random(&r.stdout);
    assert_eq!(&random[24..], b"DOWNGRD\x01", "{random:02x?}");
    serve.stop();
}

#[test]
fn a_request_with_bare_lf_line_endings_is_answered_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &[]);
    let (addr, ca) = (serve.host_port(), serve.dev_ca());
    let start = Instant::now();
    // -quiet implies -ign_eof: s_client waits for serve to answer and close.
    let r = openssl(
        &[
            "s_client",
            "-connect",
            &addr,
            "-CAfile",
            ca.to_str().unwrap(),
            "-quiet",
        ],
        b"GET / HTTP/1.0\n\n",
    );
    let took = start.elapsed();
    assert!(
        r.stdout.contains("HTTP/1.1 200 OK") && r.stdout.contains("How you connected"),
        "{}",
        r.both()
    );
    // serve's request timeout is 5 s here: an answer only after it is the bug.
    assert!(took < Duration::from_secs(4), "answered after {took:?}");
    serve.stop();
}

fn resumption(tls: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    let sess = dir.path().join("session.pem");
    let sess_arg = sess.to_str().unwrap();
    let (first, page1) = s_client_page(&serve, &[tls, "-sess_out", sess_arg]);
    assert!(first.stdout.contains("\nNew, "), "{}", first.stdout);
    assert_eq!(page1["resumed"], false);
    assert!(sess.exists(), "openssl saved no session:\n{}", first.both());
    let (second, page2) = s_client_page(&serve, &[tls, "-sess_in", sess_arg]);
    assert!(second.stdout.contains("\nReused, "), "{}", second.stdout);
    assert_eq!(page2["resumed"], true, "{page2}");
    assert_eq!(page2["protocol"], page1["protocol"]);
    serve.stop();
    let records = events(data);
    // A resumed handshake is still a completed handshake: one 36880 each.
    for p in [&page1, &page2] {
        let n = of_activity(&records, p["activity_id"].as_str().unwrap())
            .iter()
            .filter(|r| r.event_id.value() == 36880)
            .count();
        assert_eq!(n, 1, "{}", summary(&records));
    }
}

/// The hex dump of the NewSessionTicket message in `openssl s_client -msg` output.
fn new_session_ticket(msg_output: &str) -> String {
    let mut lines = msg_output.lines();
    lines
        .find(|l| l.contains("<<<") && l.contains("NewSessionTicket"))
        .unwrap_or_else(|| panic!("no NewSessionTicket in:\n{msg_output}"));
    lines
        .take_while(|l| l.starts_with(' '))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_resumed_tls12_session_keeps_its_ticket_and_reports_its_key_exchange() {
    // Scanners (sslyze) count ticket resumption as working only when the server keeps
    // the ticket it was given; rustls sends a new one on every resumption. A young ticket
    // is sent back as it is. And 36880 of the resumed handshake names the key exchange of
    // the session it resumed (a resumed TLS 1.2 handshake negotiates none).
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    let session = dir.path().join("session.pem");
    let session = session.to_str().unwrap();
    let (r1, page1) = s_client_page(&serve, &["-tls1_2", "-msg", "-sess_out", session]);
    assert!(r1.stdout.contains("\nNew, "), "{}", r1.stdout);
    let (r2, page2) = s_client_page(&serve, &["-tls1_2", "-msg", "-sess_in", session]);
    assert!(r2.stdout.contains("\nReused, "), "{}", r2.stdout);
    assert_eq!(page2["resumed"], true, "{page2}");
    assert_eq!(
        new_session_ticket(&r1.stdout),
        new_session_ticket(&r2.stdout),
        "the resumed session was sent back the ticket it came with"
    );
    assert_eq!(page2["key_exchange"], page1["key_exchange"], "{page2}");
    serve.stop();
    let records = events(data);
    let resumed = of_activity(&records, page2["activity_id"].as_str().unwrap());
    let done = resumed
        .iter()
        .find(|r| r.event_id.value() == 36880)
        .expect("36880 of the resumed handshake");
    assert_eq!(
        field(done, "Exchange"),
        page1["key_exchange"],
        "{}",
        summary(&records)
    );
    assert_ne!(field(done, "ExchangeStrength"), "0");
}

#[test]
fn s_client_session_resumption_tls13() {
    resumption("-tls1_3");
}

#[test]
fn s_client_session_resumption_tls12() {
    resumption("-tls1_2");
}

/// The first fatal alert in a byte stream of TLS records, if any.
fn alert_in(bytes: &[u8]) -> Option<u8> {
    let mut pos = 0;
    while pos + 5 <= bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[pos + 3], bytes[pos + 4]]));
        if bytes[pos] == 21 && len == 2 && pos + 7 <= bytes.len() {
            return Some(bytes[pos + 6]);
        }
        pos += 5 + len;
    }
    None
}

/// Send `bytes`, optionally half-close, and read what comes back until the server closes
/// (bounded by a read timeout longer than serve's 5 s handshake timeout).
fn raw_exchange(serve: &Serve, bytes: &[u8], half_close: bool) -> Vec<u8> {
    let mut s = TcpStream::connect(serve.addr).expect("connect to serve");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    // The server may close before taking everything (a huge claimed length): fine.
    let _ = s.write_all(bytes);
    if half_close {
        let _ = s.shutdown(Shutdown::Write);
    }
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => {
                assert!(
                    e.kind() != std::io::ErrorKind::WouldBlock
                        && e.kind() != std::io::ErrorKind::TimedOut,
                    "serve neither answered nor closed within 10 s"
                );
                break; // reset by the server: it closed
            }
        }
    }
    got
}

/// A TLS-framed ClientHello of `version` (record version `record_version`), offering
/// plain RSA/ECDHE suites, with no extensions: what an SSL 3.0 client sends.
fn tls_framed_hello(record_version: u16, version: u16, extensions: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    body.extend((0u8..32).map(|i| i.wrapping_mul(7)));
    body.push(0); // no session ID
    let suites: [u16; 4] = [0xC02B, 0xC02F, 0x002F, 0x000A];
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // null compression
    if !extensions.is_empty() {
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(extensions);
    }
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![22u8];
    rec.extend_from_slice(&record_version.to_be_bytes());
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// Extensions a TLS 1.2 client sends: supported_groups, ec_point_formats,
/// signature_algorithms.
fn tls12_extensions() -> Vec<u8> {
    let mut e = Vec::new();
    // supported_groups: x25519, secp256r1
    e.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]);
    // ec_point_formats: uncompressed
    e.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
    e.extend_from_slice(&[
        0x00, 0x0d, 0x00, 0x08, 0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01,
    ]);
    e
}

/// An SSLv2-framed ClientHello (the SSL 2.0 / SSLv2-compatible format) of `version`.
fn sslv2_hello(version: u16) -> Vec<u8> {
    // SSL_CK_RC4_128_WITH_MD5, SSL_CK_DES_192_EDE3_CBC_WITH_MD5, TLS_RSA_WITH_AES_128_CBC_SHA
    let specs: [[u8; 3]; 3] = [[0x01, 0x00, 0x80], [0x07, 0x00, 0xC0], [0x00, 0x00, 0x2F]];
    let challenge = [0x5Au8; 16];
    let mut msg = vec![1u8];
    msg.extend_from_slice(&version.to_be_bytes());
    msg.extend_from_slice(&((specs.len() * 3) as u16).to_be_bytes());
    msg.extend_from_slice(&0u16.to_be_bytes());
    msg.extend_from_slice(&(challenge.len() as u16).to_be_bytes());
    for s in specs {
        msg.extend_from_slice(&s);
    }
    msg.extend_from_slice(&challenge);
    let len = msg.len() as u16;
    let mut rec = vec![0x80 | (len >> 8) as u8, (len & 0xff) as u8];
    rec.extend_from_slice(&msg);
    rec
}

/// What the log says about one refused legacy hello: 36874 naming the protocol (with the
/// exact message), and 36888 for each alert sent. Returns the 36888 alert codes.
fn assert_refused_legacy(data: &std::path::Path, protocol: &str) -> Vec<String> {
    let records = events(data);
    let refused = with_id(&records, 36874);
    assert_eq!(refused.len(), 1, "{}", summary(&records));
    assert_eq!(field(refused[0], "Protocol"), protocol);
    let message =
        securechannel_events::render_message(refused[0], securechannel_events::Wording::Modern);
    assert!(
        message.starts_with(&format!(
            "An {protocol} connection request was received from a remote client application, \
             but none of the cipher suites supported by the client application are supported by the server."
        )),
        "{message}"
    );
    let listed = events_json(data, &["--id", "36874"]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["EventData"]["Protocol"], protocol);
    assert_eq!(listed[0]["LevelName"], "Error");
    assert_eq!(listed[0]["Message"], message.as_str());
    let activity = refused[0].activity_id.expect("36874 has an activity");
    assert!(with_id(&records, 36880).is_empty(), "{}", summary(&records));
    with_id(&records, 36888)
        .into_iter()
        .filter(|r| r.activity_id == Some(activity))
        .map(|r| field(r, "AlertDesc").to_string())
        .collect()
}

/// `openssl s_client -tls1` / `-tls1_1` at security level 0 (OpenSSL 3 refuses to send
/// them otherwise): the alert openssl received, and the alerts serve logged.
fn openssl_legacy(flag: &str, protocol: &str) -> (Option<u8>, Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let mut serve = Serve::start(data, &[]);
    let addr = serve.host_port();
    let r = openssl(
        &[
            "s_client",
            "-connect",
            &addr,
            flag,
            "-cipher",
            "DEFAULT@SECLEVEL=0",
        ],
        b"",
    );
    assert!(
        !r.status.success(),
        "a legacy handshake must fail: {}",
        r.both()
    );
    let text = format!("{}\n{}", r.stdout, r.stderr);
    assert!(serve.alive(), "serve died on a {protocol} hello");
    serve.stop();
    let logged = assert_refused_legacy(data, protocol);
    (openssl_alert_number(&text), logged, text)
}

#[test]
fn openssl_tls10_hello_is_refused_and_named_in_36874() {
    let (received, logged, text) = openssl_legacy("-tls1", "TLS 1.0");
    // An alert went out, it was logged, and the log names the one openssl received.
    let received = received.unwrap_or_else(|| panic!("openssl got no alert:\n{text}"));
    assert_eq!(logged, vec![received.to_string()], "{text}");
}

#[test]
fn openssl_tls11_hello_is_refused_and_named_in_36874() {
    let (received, logged, text) = openssl_legacy("-tls1_1", "TLS 1.1");
    let received = received.unwrap_or_else(|| panic!("openssl got no alert:\n{text}"));
    assert_eq!(logged, vec![received.to_string()], "{text}");
}

#[test]
fn openssl_tls10_hello_gets_protocol_version_alert() {
    let (received, logged, text) = openssl_legacy("-tls1", "TLS 1.0");
    assert_eq!(received, Some(70), "{text}");
    assert_eq!(logged, vec!["70".to_string()]);
}

#[test]
fn openssl_tls11_hello_gets_protocol_version_alert() {
    let (received, logged, text) = openssl_legacy("-tls1_1", "TLS 1.1");
    assert_eq!(received, Some(70), "{text}");
    assert_eq!(logged, vec!["70".to_string()]);
}

/// A raw legacy hello: the alert bytes on the wire and the alerts logged.
fn raw_legacy(hello: &[u8], protocol: &str) -> (Option<u8>, Vec<String>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let mut serve = Serve::start(data, &[]);
    let got = raw_exchange(&serve, hello, false);
    assert!(serve.alive(), "serve died on a {protocol} hello");
    serve.stop();
    let logged = assert_refused_legacy(data, protocol);
    (alert_in(&got), logged, got)
}

#[test]
fn raw_ssl3_hello_is_refused_and_named_in_36874() {
    let (wire, logged, got) = raw_legacy(&tls_framed_hello(0x0300, 0x0300, &[]), "SSL 3.0");
    let wire = wire.unwrap_or_else(|| panic!("no alert on the wire: {got:02x?}"));
    assert_eq!(logged, vec![wire.to_string()], "wire: {got:02x?}");
}

#[test]
fn raw_ssl2_hello_is_refused_and_named_in_36874() {
    let (wire, logged, got) = raw_legacy(&sslv2_hello(0x0002), "SSL 2.0");
    // Whatever went out must be what was logged.
    match wire {
        Some(a) => assert_eq!(logged, vec![a.to_string()], "wire: {got:02x?}"),
        None => assert!(logged.is_empty(), "logged {logged:?}, wire {got:02x?}"),
    }
}

#[test]
fn raw_sslv2_compatible_tls10_hello_is_refused_and_named_in_36874() {
    let (wire, logged, got) = raw_legacy(&sslv2_hello(0x0301), "TLS 1.0");
    match wire {
        Some(a) => assert_eq!(logged, vec![a.to_string()], "wire: {got:02x?}"),
        None => assert!(logged.is_empty(), "logged {logged:?}, wire {got:02x?}"),
    }
}

#[test]
fn raw_sslv2_format_hello_offering_tls12_is_refused_and_named_in_36874() {
    // tlsfuzzer's "SSLv2 Client Hello" for negotiating TLS: rustls reads no SSL 2.0
    // records, so this hello is refused as the other SSLv2-format ones are (it was
    // handed to rustls, which answered decode_error with no 36874).
    let (wire, logged, got) = raw_legacy(&sslv2_hello(0x0303), "TLS 1.2");
    assert_eq!(wire, Some(70), "protocol_version on the wire: {got:02x?}");
    assert_eq!(logged, vec!["70".to_string()], "36888 says what was sent");
}

#[test]
fn raw_legacy_hellos_get_protocol_version_alert() {
    let (mut seen, mut ok) = (Vec::new(), true);
    for (hello, protocol) in [
        (tls_framed_hello(0x0300, 0x0300, &[]), "SSL 3.0"),
        (sslv2_hello(0x0002), "SSL 2.0"),
        (sslv2_hello(0x0301), "TLS 1.0"),
        (
            tls_framed_hello(0x0301, 0x0301, &tls12_extensions()),
            "TLS 1.0",
        ),
        (
            tls_framed_hello(0x0301, 0x0302, &tls12_extensions()),
            "TLS 1.1",
        ),
    ] {
        let (wire, logged, got) = raw_legacy(&hello, protocol);
        seen.push(format!(
            "{protocol}: wire {wire:?} {got:02x?}, logged {logged:?}"
        ));
        ok &= wire == Some(70) && logged == ["70"];
    }
    assert!(
        ok,
        "every legacy hello must get protocol_version (70):\n{}",
        seen.join("\n")
    );
}

/// A small deterministic byte generator (no rand crate needed for noise).
fn noise(n: usize, mut seed: u32) -> Vec<u8> {
    (0..n)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) as u8
        })
        .collect()
}

#[test]
fn malformed_input_does_not_stop_serve() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let mut serve = Serve::start(data, &[]);
    let hello = tls_framed_hello(0x0301, 0x0303, &tls12_extensions());

    let mut cases: Vec<(String, Vec<u8>, bool)> = Vec::new();
    let mut random = noise(3000, 7);
    random[0] = 0x47; // not a handshake record, not an SSLv2 header
    cases.push(("random bytes".into(), random, false));
    cases.push((
        "plain HTTP".into(),
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        false,
    ));
    // A handshake message header claiming 20 MB inside a 4-byte record. (Before the
    // contexts fix merged in 5db399a this panicked inside rustls, called by tls.rs.)
    cases.push((
        "20 MB handshake header".into(),
        vec![22, 3, 1, 0, 4, 1, 0x31, 0x2D, 0x00],
        false,
    ));
    // A record header claiming 65535 bytes (more than a plaintext record may hold).
    let mut big = vec![22, 3, 1, 0xff, 0xff];
    big.extend(noise(1000, 3));
    cases.push(("oversized record".into(), big, false));
    for cut in [1, 3, 5, 9, 44, hello.len() - 1] {
        cases.push((
            format!("hello cut at {cut} then closed"),
            hello[..cut].to_vec(),
            true,
        ));
    }

    // All at once: each is bounded by serve's handshake timeout.
    let results: Vec<(String, Vec<u8>)> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(name, bytes, close)| {
                let serve = &serve;
                s.spawn(move || (name.clone(), raw_exchange(serve, bytes, *close)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(serve.alive(), "serve died:\n{}", serve.proc.stderr());

    let ca = serve.dev_ca();
    let after = curl(&["--cacert", ca.to_str().unwrap(), &serve.url()]);
    assert!(
        after.status.success(),
        "serve no longer answers: {}",
        after.both()
    );
    let stderr = serve.stop();
    assert!(!stderr.contains("panicked"), "{stderr}");

    let mut wire_alerts: Vec<String> = results
        .iter()
        .filter_map(|(_, got)| alert_in(got).map(|a| a.to_string()))
        .collect();
    let records = events(data);
    let mut logged: Vec<String> = with_id(&records, 36888)
        .iter()
        .map(|r| field(r, "AlertDesc").to_string())
        .collect();
    wire_alerts.sort();
    logged.sort();
    let report: String = results
        .iter()
        .map(|(n, got)| format!("{n}: {:?}\n", alert_in(got)))
        .collect();
    // What each input really got (visible with --nocapture).
    eprintln!("alerts received per malformed input:\n{report}");
    assert_eq!(
        wire_alerts,
        logged,
        "each alert on the wire is one 36888:\n{report}{}",
        summary(&records)
    );
    // Garbage that is not a hello at all still gets an alert, not silence.
    for name in ["random bytes", "plain HTTP"] {
        let (_, got) = results.iter().find(|(n, _)| n == name).unwrap();
        assert!(alert_in(got).is_some(), "{name}: no alert\n{report}");
    }
    // Hellos cut short then closed send nothing: the client is gone.
    for (n, got) in &results {
        if n.contains("then closed") {
            assert_eq!(alert_in(got), None, "{n}\n{report}");
        }
    }
    assert_eq!(with_id(&records, 36880).len(), 1, "{}", summary(&records));
}

/// s_client with `args` fails against serve (settings `settings` applied first): the alert
/// openssl received, and serve's 36874 Protocol and 36888 alerts.
fn refused_modern(settings: &[(&str, &str)], args: &[&str]) -> (Option<u8>, String, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    for (name, value) in settings {
        let r = schannel(data, &["config", "set", name, value]);
        assert!(r.status.success(), "{}", r.both());
    }
    let serve = Serve::start(data, &[]);
    let addr = serve.host_port();
    let mut all = vec!["s_client", "-connect", &addr];
    all.extend_from_slice(args);
    let r = openssl(&all, b"");
    assert!(!r.status.success(), "{}", r.both());
    let text = format!("{}\n{}", r.stdout, r.stderr);
    serve.stop();
    let records = events(data);
    let refused = with_id(&records, 36874);
    assert_eq!(refused.len(), 1, "{text}\n{}", summary(&records));
    let alerts = with_id(&records, 36888)
        .iter()
        .map(|r| field(r, "AlertDesc").to_string())
        .collect();
    assert!(with_id(&records, 36880).is_empty());
    (
        openssl_alert_number(&text),
        field(refused[0], "Protocol").to_string(),
        alerts,
    )
}

/// One row of the refusals: s_client with `args` against serve with `settings` is refused,
/// serve's 36874 names `protocol`, and the one alert it sends and logs is `alert`.
fn assert_refused_modern(settings: &[(&str, &str)], args: &[&str], protocol: &str, alert: u8) {
    let (received, logged_protocol, alerts) = refused_modern(settings, args);
    assert_eq!(logged_protocol, protocol, "{args:?}");
    assert_eq!(received, Some(alert), "{args:?}");
    assert_eq!(alerts, vec![alert.to_string()], "{args:?}");
}

#[test]
fn tls12_client_with_only_rsa_certificate_suites_gets_36874() {
    // ECDHE-RSA suites only, against serve's ECDSA development certificate.
    let args = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"];
    assert_refused_modern(&[], &args, "TLS 1.2", 40);
}

#[test]
fn tls12_client_with_only_rsa_key_exchange_suites_gets_36874() {
    // AES128-SHA256 / AES256-SHA are RSA key exchange, which rustls does not implement.
    let args = ["-tls1_2", "-cipher", "AES128-SHA256:AES256-SHA"];
    assert_refused_modern(&[], &args, "TLS 1.2", 40);
}

#[test]
fn tls13_client_with_only_ccm_gets_36874() {
    let args = ["-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256"];
    assert_refused_modern(&[], &args, "TLS 1.3", 40);
}

#[test]
fn tls13_disabled_in_settings_refuses_a_tls13_only_client_with_protocol_version() {
    let settings = [("Protocols\\TLS 1.3\\Server\\Enabled", "0")];
    assert_refused_modern(&settings, &["-tls1_3"], "TLS 1.3", 70);
}

#[test]
fn tls13_disabled_in_settings_still_serves_tls12() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let r = schannel(
        data,
        &["config", "set", "Protocols\\TLS 1.3\\Server\\Enabled", "0"],
    );
    assert!(r.status.success(), "{}", r.both());
    let serve = Serve::start(data, &[]);
    let page = curl_page(&serve.dev_ca(), &serve.url(), &[]);
    assert_eq!(page["protocol"], "TLS 1.2");
    serve.stop();
    let records = events(data);
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), 1, "{}", summary(&records));
    assert_eq!(field(done[0], "Protocol"), "TLS 1.2");
}

/// serve with `CipherSuiteOrder\Functions` set; s_client offering `cipher` (TLS 1.2)
/// and the TLS 1.3 defaults: the two suites chosen, checked against the 36880s.
fn suites_under_order(order: &str, tls12_client_ciphers: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let r = schannel(
        data,
        &["config", "set", "CipherSuiteOrder\\Functions", order],
    );
    assert!(r.status.success(), "{}", r.both());
    let serve = Serve::start(data, &[]);
    let (_, page12) = s_client_page(&serve, &["-tls1_2", "-cipher", tls12_client_ciphers]);
    let (_, page13) = s_client_page(&serve, &["-tls1_3"]);
    serve.stop();
    let records = events(data);
    let logged: Vec<&str> = with_id(&records, 36880)
        .iter()
        .map(|r| field(r, "CipherSuite"))
        .collect();
    assert_eq!(
        logged,
        vec![
            page12["cipher_suite_id"].as_str().unwrap(),
            page13["cipher_suite_id"].as_str().unwrap()
        ],
        "{}",
        summary(&records)
    );
    (
        page12["cipher_suite"].as_str().unwrap().to_string(),
        page13["cipher_suite"].as_str().unwrap().to_string(),
    )
}

#[test]
fn cipher_suite_order_setting_limits_the_suites() {
    // openssl's TLS 1.3 default prefers AES-256; only AES-128 is enabled.
    let (tls12, tls13) = suites_under_order(
        "TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305",
    );
    assert_eq!(tls13, "TLS_AES_128_GCM_SHA256");
    assert_eq!(tls12, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
}

#[test]
fn server_cipher_suite_order_wins_over_the_clients() {
    // The client prefers AES-128; the server's order puts ChaCha20 first.
    let (tls12, _) = suites_under_order(
        "TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
    );
    assert_eq!(tls12, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256");
}

#[test]
fn s_client_key_share_the_server_lacks_gets_a_hello_retry() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    // openssl sends a key share for its first group only: P-521, which serve does not
    // offer, so serve asks again (HelloRetryRequest) for X25519.
    let (r, page) = s_client_page(&serve, &["-tls1_3", "-groups", "P-521:X25519", "-msg"]);
    assert!(
        r.stdout.contains("ServerHello") && r.stdout.matches("ClientHello").count() >= 2,
        "a second ClientHello was sent:\n{}",
        r.stdout
    );
    assert_eq!(page["protocol"], "TLS 1.3");
    assert_eq!(page["key_exchange"], "X25519");
    serve.stop();
    let records = events(data);
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), 1, "{}", summary(&records));
    assert_eq!(field(done[0], "Exchange"), "X25519");
}
