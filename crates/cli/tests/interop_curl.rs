//! `schannel serve` against real curl on loopback: the page, its JSON, the events each
//! connection logs (checked field by field against what the client saw), client
//! certificates, the proxy mode and the log's flush on SIGTERM.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpListener;

/// The 36880 server event of the connection the page JSON describes, checked against it.
fn assert_handshake_event_matches(
    records: &[securechannel_events::EventRecord],
    page: &serde_json::Value,
) {
    let activity = page["activity_id"]
        .as_str()
        .expect("activity_id in the page");
    let mine = of_activity(records, activity);
    let done: Vec<_> = mine
        .iter()
        .filter(|r| r.event_id.value() == 36880)
        .collect();
    assert_eq!(
        done.len(),
        1,
        "one 36880 for activity {activity}:\n{}",
        summary(records)
    );
    let e = done[0];
    assert_eq!(field(e, "Type"), "server");
    assert_eq!(field(e, "Protocol"), page["protocol"].as_str().unwrap());
    assert_eq!(
        field(e, "CipherSuite"),
        page["cipher_suite_id"].as_str().unwrap()
    );
    assert_eq!(field(e, "Cipher"), page["cipher"].as_str().unwrap());
    assert_eq!(
        field(e, "CipherStrength"),
        page["cipher_strength"].to_string()
    );
    assert_eq!(field(e, "Exchange"), page["key_exchange"].as_str().unwrap());
    assert_eq!(
        field(e, "ExchangeStrength"),
        page["key_exchange_strength"].to_string()
    );
    assert!(
        field(e, "LocalCertSubjectName").contains("localhost"),
        "{e:?}"
    );
}

#[test]
fn first_run_creates_the_dev_ca_and_curl_gets_the_page() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    let banner = serve.proc.stderr();
    assert!(
        banner.contains("created a development CA"),
        "first run must say it created the dev CA:\n{banner}"
    );
    let ca = serve.dev_ca();
    assert!(ca.exists(), "{} missing", ca.display());
    assert!(
        banner.contains(&format!("curl --cacert {}", ca.display())),
        "stderr must tell how to trust the dev CA:\n{banner}"
    );

    let ca_arg = ca.to_str().unwrap();
    let html = curl(&["--cacert", ca_arg, &serve.url()]);
    assert!(html.status.success(), "{}", html.both());
    assert!(
        html.stdout.contains("<h1>How you connected</h1>"),
        "{}",
        html.stdout
    );
    assert!(html.stdout.contains("TLS 1.3"), "{}", html.stdout);

    let page = curl_page(&ca, &serve.url(), &[]);
    assert_eq!(page["protocol"], "TLS 1.3");
    assert!(
        page["cipher_suite"]
            .as_str()
            .unwrap()
            .starts_with("TLS_AES_")
            || page["cipher_suite"] == "TLS_CHACHA20_POLY1305_SHA256",
        "{page}"
    );
    assert_eq!(page["resumed"], false);
    // curl offers h2 and http/1.1; serve speaks HTTP/1.1 only.
    assert_eq!(page["alpn"], "http/1.1");
    serve.stop();

    let records = events(data);
    for id in [36864, 36867, 36868] {
        assert!(
            !with_id(&records, id).is_empty(),
            "{id} missing:\n{}",
            summary(&records)
        );
    }
    assert_handshake_event_matches(&records, &page);
    assert_eq!(with_id(&records, 36880).len(), 2, "{}", summary(&records));
    // The same connection as an admin reads it: `schannel events --activity ... --format json`.
    let activity = page["activity_id"].as_str().unwrap();
    let listed = events_json(data, &["--activity", activity, "--oldest-first"]);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let e = &listed[0];
    assert_eq!(e["EventID"], 36880);
    assert_eq!(e["Level"], 4);
    assert_eq!(e["ActivityID"], activity);
    assert_eq!(e["EventData"]["Type"], "server");
    assert_eq!(e["EventData"]["Protocol"], page["protocol"]);
    assert_eq!(e["EventData"]["CipherSuite"], page["cipher_suite_id"]);
    assert!(
        e["Message"]
            .as_str()
            .unwrap()
            .starts_with("A TLS server handshake completed successfully."),
        "{e}"
    );

    // Second run on the same data directory: the development credential is reused.
    let serve = Serve::start(data, &[]);
    let banner = serve.proc.stderr();
    assert!(!banner.contains("created a development"), "{banner}");
    let again = curl(&["--cacert", ca_arg, &serve.url()]);
    assert!(again.status.success(), "{}", again.both());
    serve.stop();
}

#[test]
fn curl_tls12_and_http11_alpn_match_the_event() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    let ca = serve.dev_ca();
    let tls12 = ["--tlsv1.2", "--tls-max", "1.2", "--http1.1"];
    let page = curl_page(&ca, &serve.url(), &tls12);
    assert_eq!(page["protocol"], "TLS 1.2");
    assert_eq!(page["alpn"], "http/1.1");
    assert!(
        page["cipher_suite"]
            .as_str()
            .unwrap()
            .starts_with("TLS_ECDHE_ECDSA_WITH_"),
        "the dev certificate is ECDSA: {page}"
    );
    serve.stop();
    let records = events(data);
    assert_handshake_event_matches(&records, &page);
}

#[test]
fn curl_over_ipv6_loopback() {
    require_tool("curl");
    if let Err(why) = ipv6_loopback() {
        eprintln!("SKIPPED curl_over_ipv6_loopback: no IPv6 loopback on this machine ({why})");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start_on(data, LOCALHOST_V6, &[]);
    assert!(serve.url().starts_with("https://[::1]:"), "{}", serve.url());
    let page = curl_page(&serve.dev_ca(), &serve.url(), &["-g"]);
    assert!(
        page["peer"].as_str().unwrap().starts_with("[::1]:"),
        "{page}"
    );
    serve.stop();
    assert_handshake_event_matches(&events(data), &page);
}

/// A client CA placed in stores/Root before serve starts, and a client leaf it issued.
fn client_pki(data: &std::path::Path, dir: &std::path::Path) -> (Pki, Leaf) {
    let pki = Pki::new(dir, "interop client CA");
    let root = data.join("stores/Root");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(&pki.ca_pem, root.join("interop-client-ca.pem")).unwrap();
    let leaf = pki.client_leaf("alice", "alice.client.example");
    (pki, leaf)
}

#[test]
fn require_client_cert_with_a_trusted_client_certificate() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    log_everything(&data);
    let (_pki, alice) = client_pki(&data, &pki_dir);
    let serve = Serve::start(&data, &["--require-client-cert"]);
    let certified = [
        "--cert",
        alice.cert.to_str().unwrap(),
        "--key",
        alice.key.to_str().unwrap(),
    ];
    let page = curl_page(&serve.dev_ca(), &serve.url(), &certified);
    assert!(
        page["client_certificate"]
            .as_str()
            .is_some_and(|s| s.contains("alice.client.example")),
        "{page}"
    );
    serve.stop();
    let records = events(&data);
    assert_handshake_event_matches(&records, &page);
    let done = with_id(&records, 36880);
    assert!(
        field(done[0], "RemoteCertSubjectName").contains("alice.client.example"),
        "{}",
        summary(&records)
    );
    assert!(with_id(&records, 36877).is_empty(), "{}", summary(&records));
}

#[test]
fn require_client_cert_refuses_no_certificate_and_an_untrusted_one() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    log_everything(&data);
    let _trusted = client_pki(&data, &pki_dir);
    // Same subject, issued by a CA the server does not trust.
    let rogue = Pki::new(&pki_dir, "rogue CA");
    let mallory = rogue.client_leaf("mallory", "mallory.client.example");
    let serve = Serve::start(&data, &["--require-client-cert"]);
    let ca = serve.dev_ca();

    let none = curl(&["--cacert", ca.to_str().unwrap(), &serve.url()]);
    assert!(
        !none.status.success(),
        "no client certificate must fail: {}",
        none.both()
    );
    let untrusted = curl(&[
        "--cacert",
        ca.to_str().unwrap(),
        "--cert",
        mallory.cert.to_str().unwrap(),
        "--key",
        mallory.key.to_str().unwrap(),
        &serve.url(),
    ]);
    assert!(
        !untrusted.status.success(),
        "an untrusted client certificate must fail: {}",
        untrusted.both()
    );
    serve.stop();

    let records = events(&data);
    assert!(with_id(&records, 36880).is_empty(), "{}", summary(&records));
    // The untrusted certificate: 36877 with the untrusted-root status and the certificate.
    let bad = with_id(&records, 36877);
    assert_eq!(bad.len(), 1, "{}", summary(&records));
    assert_eq!(field(bad[0], "ErrorCode"), "0x80090325");
    let der = bad[0]
        .binary
        .as_ref()
        .expect("36877 carries the client certificate");
    assert!(
        pem_holds_der(&std::fs::read_to_string(&mallory.cert).unwrap(), der),
        "the attached certificate is the client's"
    );
    // Both refusals sent an alert, logged as 36888.
    let sent = with_id(&records, 36888);
    assert_eq!(sent.len(), 2, "{}", summary(&records));
    let alerts: Vec<&str> = sent.iter().map(|r| field(r, "AlertDesc")).collect();
    // TLS 1.3: certificate_required (116) without a certificate; unknown_ca (48) for the
    // untrusted one.
    assert!(alerts.contains(&"116"), "{alerts:?}");
    assert!(alerts.contains(&"48"), "{alerts:?}");
    // The XPath query an admin would paste from Event Viewer finds the same records.
    let xpath = events_json(
        &data,
        &["--query", "*[System[(EventID=36877 or EventID=36888)]]"],
    );
    assert_eq!(xpath.len(), 3, "{xpath:?}");
    let by_data = events_json(&data, &["--data", "AlertDesc=48"]);
    assert_eq!(by_data.len(), 1, "{by_data:?}");
    assert_eq!(by_data[0]["EventID"], 36888);
}

/// A one-shot HTTP backend: reads one request head, answers a fixed response, closes.
fn http_backend(body: &'static str) -> (std::net::SocketAddr, std::thread::JoinHandle<String>) {
    let l = TcpListener::bind((LOCALHOST_V4, 0)).unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        l.set_nonblocking(false).unwrap();
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = s.write_all(resp.as_bytes());
        String::from_utf8_lossy(&req).into_owned()
    });
    (addr, h)
}

#[test]
fn proxy_mode_round_trips_through_a_tcp_backend() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let (backend, seen) = http_backend("hello from the backend\n");
    let backend_arg = backend.to_string();
    let serve = Serve::start(data, &["--backend", &backend_arg]);
    assert!(
        serve.proc.stderr().contains(&format!("to tcp://{backend}")),
        "{}",
        serve.proc.stderr()
    );
    let r = curl(&[
        "--cacert",
        serve.dev_ca().to_str().unwrap(),
        "-H",
        "X-Interop: through-the-proxy",
        &format!("{}proxied/path", serve.url()),
    ]);
    assert!(r.status.success(), "{}", r.both());
    assert_eq!(r.stdout, "hello from the backend\n");
    let request = seen.join().unwrap();
    assert!(
        request.starts_with("GET /proxied/path HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        request.contains("X-Interop: through-the-proxy"),
        "{request}"
    );
    serve.stop();
    let records = events(data);
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), 1, "{}", summary(&records));
    assert_eq!(field(done[0], "Type"), "server");
    assert_eq!(field(done[0], "Protocol"), "TLS 1.3");
}

#[test]
fn sigterm_flushes_every_handshake_event() {
    require_tool("curl");
    const N: usize = 6;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    let ca = serve.dev_ca();
    let mut activities = Vec::new();
    for i in 0..N {
        let tls12 = i % 2 == 1;
        let extra: &[&str] = if tls12 {
            &["--tlsv1.2", "--tls-max", "1.2"]
        } else {
            &[]
        };
        let page = curl_page(&ca, &serve.url(), extra);
        activities.push(page["activity_id"].as_str().unwrap().to_string());
    }
    // Stop right away: the last events are still in the writer's batch.
    let stderr = serve.stop();
    assert!(
        stderr.contains(&format!("{N} connection(s) served, 0 failed")),
        "{stderr}"
    );
    let records = events(data);
    let done = with_id(&records, 36880);
    assert_eq!(done.len(), N, "{}", summary(&records));
    for a in &activities {
        assert_eq!(
            of_activity(&records, a)
                .iter()
                .filter(|r| r.event_id.value() == 36880)
                .count(),
            1,
            "activity {a}:\n{}",
            summary(&records)
        );
    }
    let tls12 = done
        .iter()
        .filter(|r| field(r, "Protocol") == "TLS 1.2")
        .count();
    assert_eq!(tls12, N / 2);
}

/// A one-shot echo backend: reads a request with a Content-Length body and answers that
/// body back.
fn echo_backend() -> (std::net::SocketAddr, std::thread::JoinHandle<usize>) {
    let l = TcpListener::bind((LOCALHOST_V4, 0)).unwrap();
    let addr = l.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut req = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let head_end = loop {
            if let Some(p) = req.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return 0,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&req[..head_end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        while req.len() < head_end + len {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => req.extend_from_slice(&buf[..n]),
            }
        }
        let body = &req[head_end..];
        let resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = s.write_all(resp.as_bytes());
        let _ = s.write_all(body);
        body.len()
    });
    (addr, h)
}

#[test]
fn proxy_mode_carries_a_megabyte_both_ways() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    log_everything(&data);
    // Not compressible, not periodic: any lost, duplicated or reordered record shows.
    let mut seed = 0x1234_5678u32;
    let payload: Vec<u8> = (0..1_000_000)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed as u8
        })
        .collect();
    let upload = dir.path().join("upload.bin");
    let download = dir.path().join("download.bin");
    std::fs::write(&upload, &payload).unwrap();
    let (backend, echoed) = echo_backend();
    let backend_arg = backend.to_string();
    let serve = Serve::start(&data, &["--backend", &backend_arg]);
    let r = curl(&[
        "--cacert",
        serve.dev_ca().to_str().unwrap(),
        "-H",
        "Content-Type: application/octet-stream",
        "-H",
        "Expect:",
        "--data-binary",
        &format!("@{}", upload.display()),
        "-o",
        download.to_str().unwrap(),
        &serve.url(),
    ]);
    assert!(r.status.success(), "{}", r.both());
    assert_eq!(echoed.join().unwrap(), payload.len());
    let got = std::fs::read(&download).unwrap();
    assert_eq!(got.len(), payload.len());
    assert!(got == payload, "the echoed megabyte differs");
    serve.stop();
    assert_eq!(with_id(&events(&data), 36880).len(), 1);
}

#[test]
fn concurrent_clients_each_get_their_own_activity() {
    require_tool("curl");
    const N: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    let ca = serve.dev_ca();
    let url = serve.url();
    let pages: Vec<serde_json::Value> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..N)
            .map(|_| s.spawn(|| curl_page(&ca, &url, &[])))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let stderr = serve.stop();
    assert!(
        stderr.contains(&format!("{N} connection(s) served, 0 failed")),
        "{stderr}"
    );
    let records = events(data);
    assert_eq!(with_id(&records, 36880).len(), N, "{}", summary(&records));
    let mut ids: Vec<&str> = pages
        .iter()
        .map(|p| p["activity_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), N, "activity IDs are unique per connection");
    for p in &pages {
        assert_handshake_event_matches(&records, p);
    }
}
