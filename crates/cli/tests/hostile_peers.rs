//! `schannel serve` against peers that mean harm, on loopback: a slowloris crowd that
//! opens many connections and never finishes a handshake, a client that completes its
//! handshake and then says nothing, one that sends requests and reads no answer, and a
//! crowd larger than the connection limit. Throughout, a well-behaved client (curl) is
//! measured: its latency during the attack is printed beside its latency without one, and
//! it must keep being served. Every timeout closes what it should, and says so in the
//! access log.

mod common;

use common::*;
use securechannel::{ClientContext, ContextOptions, TlsStream};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// `n` curl requests to serve, one after another: their total times, sorted.
fn latencies(serve: &Serve, n: usize) -> Vec<Duration> {
    let ca = serve.dev_ca();
    let mut all: Vec<Duration> = (0..n)
        .map(|_| {
            let r = curl(&[
                "--cacert",
                ca.to_str().unwrap(),
                "-o",
                "/dev/null",
                "-w",
                "%{time_total}",
                &serve.url(),
            ]);
            assert!(
                r.status.success(),
                "the well-behaved client was refused: {}",
                r.both()
            );
            Duration::from_secs_f64(r.stdout.trim().parse().unwrap())
        })
        .collect();
    all.sort();
    all
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// `n` connections that send the first 5 bytes of a TLS record header and stall.
fn slowloris(serve: &Serve, n: usize) -> Vec<TcpStream> {
    (0..n)
        .map(|_| {
            let mut s = TcpStream::connect(serve.addr).unwrap();
            // A handshake record of 512 bytes is announced; none of its body follows.
            s.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).unwrap();
            s
        })
        .collect()
}

/// Whether serve closed `s` (EOF, reset) within `within`.
fn closed_by_server(s: &mut TcpStream, within: Duration) -> bool {
    s.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // an alert or close_notify, then the end
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
    false
}

#[test]
fn a_slowloris_crowd_is_timed_out_and_well_behaved_clients_stay_served() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &["--access-log", "--handshake-timeout", "3"]);
    let quiet = latencies(&serve, 20);
    let started = Instant::now();
    let mut crowd = slowloris(&serve, 400);
    let attacked = latencies(&serve, 20);
    let during = started.elapsed();
    assert!(
        during < Duration::from_secs(3),
        "the measurement must run while the crowd is held ({during:?})"
    );
    // Every stalled connection is closed by the handshake timeout (3 s), none later than
    // a generous margin after it.
    let mut closed = 0;
    for s in crowd.iter_mut() {
        if closed_by_server(s, Duration::from_secs(8)) {
            closed += 1;
        }
    }
    let took = started.elapsed();
    assert_eq!(
        closed,
        crowd.len(),
        "serve left stalled handshakes open after {took:?}"
    );
    let out = {
        let mut serve = serve;
        let _ = serve.proc.wait_for(Duration::from_secs(2), |out, _| {
            out.matches("handshake timed out after 3 s").count() >= 400
        });
        let out = serve.proc.stdout();
        serve.stop();
        out
    };
    assert_eq!(
        out.matches("handshake timed out after 3 s").count(),
        400,
        "the access log says why each was closed"
    );
    eprintln!(
        "well-behaved client (curl, 20 requests each): p50 {:?} / p99 {:?} without attack; \
         p50 {:?} / p99 {:?} with 400 stalled handshakes held; all 400 closed within {took:?}",
        percentile(&quiet, 0.5),
        percentile(&quiet, 0.99),
        percentile(&attacked, 0.5),
        percentile(&attacked, 0.99),
    );
}

/// A client whose handshake completes and then sends nothing is closed at the idle
/// timeout; one that sends requests and reads no answer is closed once its answers have
/// waited the handshake timeout; serve answers others meanwhile.
#[test]
fn silent_and_deaf_clients_are_closed_at_their_timeouts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut serve = Serve::start(
        &data,
        &[
            "--access-log",
            "--handshake-timeout",
            "2",
            "--idle-timeout",
            "1",
            "--max-requests",
            "1000000",
        ],
    );
    let credential = quiet_client_credential(&serve.dev_ca());

    // Silent: handshake, then nothing.
    let sock = TcpStream::connect(serve.addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ctx = ClientContext::new(&credential, "localhost", ContextOptions::default()).unwrap();
    let mut silent = TlsStream::handshake(ctx, sock).expect("the handshake completes");
    let t = Instant::now();
    let mut buf = [0u8; 64];
    let n = silent.read(&mut buf).expect("close_notify, then the end");
    let idle = t.elapsed();
    assert_eq!(n, 0, "serve closes an idle connection with close_notify");
    assert!(
        idle >= Duration::from_millis(900) && idle < Duration::from_secs(5),
        "{idle:?}"
    );

    // Deaf: pipelines tens of thousands of requests, never reads: serve's answers (about
    // 0.5 KiB each) fill the socket buffers and back up.
    let sock = deaf_socket(&serve);
    let ctx = ClientContext::new(&credential, "localhost", ContextOptions::default()).unwrap();
    let mut deaf = TlsStream::handshake(ctx, sock).expect("the handshake completes");
    let request = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let t = Instant::now();
    let mut sent = 0;
    while sent < 50_000 && t.elapsed() < Duration::from_secs(6) {
        if deaf.write_all(request).is_err() {
            break;
        }
        sent += 1;
    }
    // Others are answered while the deaf client's answers wait.
    let others = latencies(&serve, 5);
    assert!(
        serve.proc.wait_for(Duration::from_secs(10), |out, _| out
            .contains("the client read no answer for 2 s")),
        "the deaf client was not closed:\n{}",
        serve.proc.stdout()
    );
    let out = serve.proc.stdout();
    assert!(
        out.contains("idle for 1 s") || out.contains("no request within 1 s"),
        "{out}"
    );
    serve.stop();
    eprintln!(
        "silent client closed after {idle:?}; deaf client sent {sent} requests and was closed; \
         others served meanwhile in at most {:?}",
        others.last().unwrap()
    );
}

/// A TCP connection to serve whose writes give up after 4 s (once serve stops reading).
fn deaf_socket(serve: &Serve) -> TcpStream {
    let s = TcpStream::connect(serve.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(4))).unwrap();
    s
}

/// With `--max-connections 8`, 8 stalled handshakes hold every slot: the next client
/// waits in the backlog (not refused) until the handshake timeout frees a slot, then is
/// served. The limit is the one serve reports at start.
#[test]
fn the_connection_limit_holds_and_frees_at_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = Serve::start(
        &data,
        &["--max-connections", "8", "--handshake-timeout", "2"],
    );
    assert!(
        serve
            .proc
            .stderr()
            .contains("at most 8 connection(s) at once"),
        "{}",
        serve.proc.stderr()
    );
    let quiet = latencies(&serve, 3);
    let t = Instant::now();
    let _crowd = slowloris(&serve, 8);
    std::thread::sleep(Duration::from_millis(200));
    let waited = latencies(&serve, 1)[0];
    let since = t.elapsed();
    assert!(
        waited >= Duration::from_millis(1500),
        "the 9th client was served at once ({waited:?}): the limit of 8 did not hold"
    );
    assert!(since < Duration::from_secs(8), "{since:?}");
    serve.stop();
    eprintln!(
        "limit 8: a 9th client waited {waited:?} (handshake timeout 2 s) against {:?} without the crowd",
        quiet[0]
    );
}

/// Handshakes that go wrong on purpose, against serve: an oversized record header, a
/// client that aborts mid-handshake with an alert (it does not trust serve's CA), and a
/// TLS 1.2 renegotiation attempt. Each is refused, each leaves the event that matches
/// the wire (the alert serve sent is the one 36888 names; the alert the client sent is
/// the one 36887 names), and serve keeps answering.
#[test]
fn hostile_handshakes_leave_the_event_the_wire_shows() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &[]);

    // A record header announcing 18,433 bytes of plaintext (TLS allows 2^14).
    let mut s = TcpStream::connect(serve.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(&[0x16, 0x03, 0x01, 0x48, 0x01]).unwrap();
    s.write_all(&[0x01; 64]).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    assert!(
        answer.len() >= 7 && answer[0] == 0x15 && answer[5] == 2,
        "a fatal alert record is the answer: {answer:02x?}"
    );
    let sent = answer[6];

    // A client that does not trust serve's CA aborts after the server's flight.
    let other = Pki::new(dir.path(), "another CA");
    let r = openssl(
        &[
            "s_client",
            "-connect",
            &serve.host_port(),
            "-tls1_2",
            "-CAfile",
            other.ca_pem.to_str().unwrap(),
            "-verify_return_error",
        ],
        b"",
    );
    assert!(!r.status.success(), "{}", r.both());

    // Renegotiation: `R` on s_client's stdin asks for it; serve declines.
    // (stdin must stay open until s_client has read `R` and renegotiated.)
    let mut c = std::process::Command::new("sh");
    c.arg("-c").arg(format!(
        "(printf 'R\\n'; sleep 1) | openssl s_client -connect {} -tls1_2 -CAfile {}",
        serve.host_port(),
        serve.dev_ca().display()
    ));
    let mut reneg = Proc::spawn("s_client renegotiating", c, None);
    reneg.wait_exit(COMMAND_TIMEOUT);
    assert!(
        format!("{}{}", reneg.stdout(), reneg.stderr()).contains("RENEGOTIATING"),
        "{}",
        reneg.stderr()
    );

    // serve still answers.
    let after = latencies(&serve, 1);
    serve.stop();
    let records = events(&data);
    let generated = with_id(&records, 36888);
    assert!(
        generated
            .iter()
            .any(|r| field(r, "AlertDesc") == sent.to_string()),
        "no 36888 names the alert on the wire ({sent}):\n{}",
        summary(&records)
    );
    let received: Vec<String> = with_id(&records, 36887)
        .iter()
        .map(|r| field(r, "AlertDesc").to_string())
        .collect();
    assert!(
        received.contains(&"48".to_string()),
        "the aborting client's unknown_ca (48) is 36887: {received:?}\n{}",
        summary(&records)
    );
    assert!(
        received.contains(&"40".to_string()),
        "openssl answers the declined renegotiation with handshake_failure (40): {received:?}"
    );
    eprintln!("oversized record: alert {sent} sent and logged; mid-handshake abort: 36887/48; renegotiation: declined, 36887/40; serve answered next in {:?}", after[0]);
}
