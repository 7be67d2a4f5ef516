//! `schannel serve` as an HTTP/1.1 server keeps connections: keep-alive and pipelined
//! requests (curl and openssl s_client), the idle timeout apart from the handshake timeout,
//! `--max-requests`, SIGTERM closing idle connections at once, the connection limit holding
//! clients in the backlog, and an answer that is not lost to a reset when the client sent
//! a body.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

type Client = securechannel::TlsStream<TcpStream, securechannel::ClientContext>;

/// A TLS connection to serve through the provider's own client, trusting serve's CA.
fn connect(serve: &Serve) -> Client {
    use securechannel::{ClientContext, ContextOptions, Provider, Settings};
    let provider = Provider::in_memory(
        Settings::default(),
        Arc::new(securechannel::events::MemorySink::new()),
    )
    .unwrap();
    let ca = std::fs::read(serve.dev_ca()).unwrap();
    let mut b = provider.client_credential();
    for c in securechannel::certificates_from_pem_or_der(&ca).unwrap() {
        b = b.add_root(c);
    }
    let credential = b.acquire().unwrap();
    let sock = TcpStream::connect(serve.addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ctx = ClientContext::new(&credential, "127.0.0.1", ContextOptions::default()).unwrap();
    securechannel::TlsStream::handshake(ctx, sock).unwrap()
}

/// Read one response (head and Content-Length body) from `tls`; `None` when the server
/// closed first. Bytes after it stay in `pending`.
fn read_response(tls: &mut Client, pending: &mut Vec<u8>) -> Option<String> {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end + 4]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map(|v| v.trim().parse().unwrap())
                .expect("a Content-Length");
            if pending.len() >= end + 4 + len {
                let all: Vec<u8> = pending.drain(..end + 4 + len).collect();
                return Some(String::from_utf8_lossy(&all).into_owned());
            }
        }
        match tls.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) => panic!("reading a response: {e}"),
        }
    }
}

/// The server closed the connection: a read returns 0 (close_notify) within `within`.
fn closed_within(tls: &mut Client, within: Duration) -> Duration {
    let start = Instant::now();
    tls.get_ref().set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 256];
    match tls.read(&mut buf) {
        Ok(0) => start.elapsed(),
        Ok(n) => panic!("{n} unexpected bytes instead of the close"),
        Err(e) => panic!("not closed within {within:?}: {e}"),
    }
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n";

#[test]
fn curl_reuses_one_connection_for_several_urls() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    let mut serve = Serve::start(data, &["--access-log"]);
    let ca = serve.dev_ca();
    let url = serve.url();
    let r = curl(&[
        "-v",
        "--cacert",
        ca.to_str().unwrap(),
        "-H",
        "Accept: application/json",
        &url,
        &format!("{url}second"),
        &format!("{url}third"),
    ]);
    assert!(r.status.success(), "{}", r.both());
    assert!(
        r.stderr.contains("Re-using existing connection"),
        "curl opened a new connection:\n{}",
        r.stderr
    );
    assert_eq!(
        r.stdout.matches("\"activity_id\"").count(),
        3,
        "{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("< Connection: keep-alive")
            && r.stderr.contains("< Keep-Alive: timeout=30, max=999"),
        "{}",
        r.stderr
    );
    assert!(
        serve.proc.wait_for(Duration::from_secs(5), |out, _| out
            .contains("client closed after 3 request(s)")
            || out.contains("client disconnected after 3 request(s)")),
        "{}",
        serve.proc.stdout()
    );
    let out = serve.proc.stdout();
    for path in ["GET / 200", "GET /second 200", "GET /third 200"] {
        assert!(out.contains(path), "{out}");
    }
    let stderr = serve.stop();
    assert!(
        stderr.contains("1 connection(s) served, 0 failed, 3 request(s) answered"),
        "{stderr}"
    );
    // One connection, one handshake.
    assert_eq!(with_id(&events(data), 36880).len(), 1);
}

#[test]
fn openssl_pipelined_requests_are_answered_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &["--access-log"]);
    // Three requests in one write; the last asks to close, so serve ends the connection.
    let mut requests = Vec::new();
    requests.extend_from_slice(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
    requests.extend_from_slice(b"HEAD /two HTTP/1.1\r\nHost: x\r\n\r\n");
    requests.extend_from_slice(b"GET /three.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let r = s_client_to(&serve, &["-quiet"], &requests);
    assert!(r.status.success(), "{}", r.both());
    let at: Vec<usize> = r
        .stdout
        .match_indices("HTTP/1.1 200 OK")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 3, "{}", r.stdout);
    // Each answer up to the next.
    let heads = [
        &r.stdout[at[0]..at[1]],
        &r.stdout[at[1]..at[2]],
        &r.stdout[at[2]..],
    ];
    assert!(heads[0].contains("text/html") && heads[0].contains("Connection: keep-alive"));
    // HEAD: a head without its body, then the third answer.
    assert!(
        heads[1].contains("Keep-Alive: timeout=30, max=998"),
        "{}",
        heads[1]
    );
    assert!(heads[2].contains("application/json") && heads[2].contains("Connection: close"));
    // The page in full before the second answer; HEAD's answer is a head alone.
    assert!(heads[0].trim_end().ends_with("</html>"), "{}", heads[0]);
    assert!(heads[1].ends_with("\r\n\r\n"), "{:?}", heads[1]);
    assert!(heads[2].contains("\"activity_id\""), "{}", heads[2]);
    let stderr = serve.stop();
    assert!(stderr.contains("3 request(s) answered"), "{stderr}");
}

#[test]
fn http_1_0_and_max_requests_close_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &["--max-requests", "2"]);
    // HTTP/1.0 without keep-alive: one answer, then close.
    let mut tls = connect(&serve);
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut pending = Vec::new();
    let r = read_response(&mut tls, &mut pending).expect("an answer");
    assert!(r.contains("Connection: close"), "{r}");
    closed_within(&mut tls, Duration::from_secs(5));
    // HTTP/1.0 asking for keep-alive gets it.
    let mut tls = connect(&serve);
    tls.write_all(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let mut pending = Vec::new();
    let r = read_response(&mut tls, &mut pending).expect("an answer");
    assert!(r.contains("Keep-Alive: timeout=30, max=1"), "{r}");
    // The second request is the last --max-requests allows.
    tls.write_all(GET).unwrap();
    let r = read_response(&mut tls, &mut pending).expect("a second answer");
    assert!(r.contains("Connection: close"), "{r}");
    closed_within(&mut tls, Duration::from_secs(5));
    serve.stop();
}

#[test]
fn the_idle_timeout_is_its_own_and_sigterm_closes_idle_connections_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = Serve::start(
        dir.path(),
        &[
            "--access-log",
            "--idle-timeout",
            "2",
            "--handshake-timeout",
            "10",
        ],
    );
    let mut tls = connect(&serve);
    tls.write_all(GET).unwrap();
    let mut pending = Vec::new();
    let r = read_response(&mut tls, &mut pending).expect("an answer");
    assert!(r.contains("Keep-Alive: timeout=2, max=999"), "{r}");
    // Idle: closed after the 2 s idle timeout, long before the 10 s handshake timeout.
    let waited = closed_within(&mut tls, Duration::from_secs(8));
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(8),
        "closed after {waited:?}"
    );
    assert!(
        serve.proc.wait_for(Duration::from_secs(5), |out, _| out
            .contains("idle for 2 s after 1 request(s); closed")),
        "{}",
        serve.proc.stdout()
    );
    drop(tls);

    // SIGTERM: a connection between requests is closed at once, not held for the drain.
    let mut tls = connect(&serve);
    tls.write_all(GET).unwrap();
    let mut pending = Vec::new();
    read_response(&mut tls, &mut pending).expect("an answer");
    let start = Instant::now();
    let stderr = serve.stop();
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "stopping took {:?}:\n{stderr}",
        start.elapsed()
    );
    assert!(!stderr.contains("still open after 5 s"), "{stderr}");
    closed_within(&mut tls, Duration::from_secs(2));
}

#[test]
fn the_connection_limit_holds_new_clients_in_the_backlog() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(
        dir.path(),
        &[
            "--max-connections",
            "1",
            "--backlog",
            "8",
            "--handshake-timeout",
            "10",
        ],
    );
    // The one connection allowed, kept open between requests.
    let mut first = connect(&serve);
    first.write_all(GET).unwrap();
    let mut pending = Vec::new();
    read_response(&mut first, &mut pending).expect("an answer");
    // A second client is accepted by the kernel but not served while the first is open.
    let mut waiting = TcpStream::connect(serve.addr).expect("the backlog takes it");
    waiting
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .unwrap();
    // A ClientHello: serve would answer at once if it had accepted the connection.
    let hello_ctx = {
        use securechannel::{ClientContext, ContextOptions, Provider, Settings};
        let provider = Provider::in_memory(
            Settings::default(),
            Arc::new(securechannel::events::MemorySink::new()),
        )
        .unwrap();
        let credential = provider.client_credential().acquire().unwrap();
        let mut ctx =
            ClientContext::new(&credential, "127.0.0.1", ContextOptions::default()).unwrap();
        let mut hello = Vec::new();
        ctx.initialize(&mut [], &mut hello).unwrap();
        hello
    };
    waiting.write_all(&hello_ctx).unwrap();
    let mut buf = [0u8; 64];
    match waiting.read(&mut buf) {
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) => {}
        other => panic!("the second client was served beyond --max-connections 1: {other:?}"),
    }
    // The first leaves: the waiting client is served (its ServerHello arrives).
    first.shutdown().unwrap();
    drop(first);
    waiting
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let n = waiting.read(&mut buf).expect("served once the first left");
    assert!(
        n > 0 && buf[0] == 22,
        "a handshake record, got {:?}",
        &buf[..n]
    );
    drop(waiting);
    let stderr = serve.stop();
    assert!(
        stderr.contains("at most 1 connection(s) at once, listen backlog 8"),
        "{stderr}"
    );
}

#[test]
fn a_request_with_a_body_gets_its_whole_answer_then_the_close() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(dir.path(), &[]);
    let mut tls = connect(&serve);
    // A body serve never reads, larger than a socket buffer would hide.
    let body = vec![b'x'; 256 * 1024];
    let mut req = format!(
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(&body[..16 * 1024]);
    tls.write_all(&req).unwrap();
    let mut pending = Vec::new();
    let r = read_response(&mut tls, &mut pending).expect("the 405 answer");
    assert!(r.starts_with("HTTP/1.1 405 Method Not Allowed"), "{r}");
    assert!(r.contains("Connection: close") && r.ends_with("only GET and HEAD are served\n"));
    serve.stop();
}
