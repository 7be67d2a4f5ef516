//! Load and soak: `schannel serve` holds 1,000 open TLS connections while a sustained
//! handshake loop runs beside them for a bounded time (`SOAK_SECONDS`, default 20; longer
//! runs: `bench/soak.sh SECONDS`). Serve's file descriptors, resident memory and the event
//! log's size are sampled and printed over time; they must stay flat: descriptors exactly
//! (every finished connection releases its socket), memory within a bound, and the log
//! under its configured maximum size (EventLog\MaxSize, oldest records overwritten).

mod common;

use common::*;
use securechannel::{ClientContext, ContextOptions, TlsStream};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const HELD: usize = 1000;
const MAX_LOG: u64 = 1024 * 1024;

/// Serve's open descriptors, resident memory (KiB), and the log's size (database and WAL).
fn sample(pid: u32, data: &std::path::Path) -> (usize, u64, u64) {
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0);
    let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0);
    let size = |name: &str| std::fs::metadata(data.join(name)).map_or(0, |m| m.len());
    (fds, rss, size("events.db") + size("events.db-wal"))
}

fn open_files_limit() -> u64 {
    std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn a_thousand_held_connections_and_a_handshake_loop_stay_flat() {
    let limit = open_files_limit();
    assert!(
        limit >= 2 * HELD as u64 + 256,
        "the soak holds {HELD} connections in this process and in serve: raise the open \
         files limit (ulimit -n {}; it is {limit})",
        2 * HELD + 256
    );
    let seconds: u64 = std::env::var("SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    log_everything(&data);
    // Flood control remembers each distinct event (every 36880 is one: its context
    // handle differs) for its window, at most 100,000 of them: a 5 s window lets the run
    // reach that plateau early, so what grows after it is a leak.
    for (name, value) in [
        ("EventLog\\MaxSize", MAX_LOG.to_string()),
        ("EventLog\\FloodWindowSeconds", "5".to_string()),
    ] {
        let r = schannel(&data, &["config", "set", name, &value]);
        assert!(r.status.success(), "{}", r.both());
    }
    let serve = Serve::start(
        &data,
        &["--max-connections", "4096", "--idle-timeout", "3600"],
    );
    let pid = serve.proc.pid();
    let credential = quiet_client_credential(&serve.dev_ca());
    let connect = |addr| {
        let sock = TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let ctx = ClientContext::new(&credential, "localhost", ContextOptions::default()).unwrap();
        TlsStream::handshake(ctx, sock).expect("a handshake")
    };
    let before = sample(pid, &data);
    let held: Vec<_> = (0..HELD).map(|_| connect(serve.addr)).collect();
    std::thread::sleep(Duration::from_millis(500));
    let holding = sample(pid, &data);
    assert!(
        holding.0 >= before.0 + HELD,
        "serve holds {HELD} more sockets: {before:?} -> {holding:?}"
    );

    // The loop: 2 threads, each a new connection per request (full handshakes and
    // resumptions, as the client's session cache decides).
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let loops: Vec<_> = (0..2)
        .map(|_| {
            let (stop, done, credential, addr) =
                (stop.clone(), done.clone(), credential.clone(), serve.addr);
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 4096];
                while !stop.load(Ordering::Relaxed) {
                    let sock = TcpStream::connect(addr).unwrap();
                    sock.set_read_timeout(Some(Duration::from_secs(20)))
                        .unwrap();
                    let ctx =
                        ClientContext::new(&credential, "localhost", ContextOptions::default())
                            .unwrap();
                    let mut tls = TlsStream::handshake(ctx, sock).expect("a handshake");
                    tls.write_all(
                        b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                    )
                    .unwrap();
                    while matches!(tls.read(&mut buf), Ok(n) if n > 0) {}
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let mut samples = vec![(0.0, 0u64, holding)];
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(Duration::from_secs(2).min(Duration::from_secs(seconds)));
        samples.push((
            t.elapsed().as_secs_f64(),
            done.load(Ordering::Relaxed),
            sample(pid, &data),
        ));
    }
    stop.store(true, Ordering::Relaxed);
    for l in loops {
        l.join().unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    let after = sample(pid, &data);
    samples.push((
        t.elapsed().as_secs_f64(),
        done.load(Ordering::Relaxed),
        after,
    ));
    eprintln!("   time  handshakes   fds   RSS KiB   log KiB");
    for (at, n, (fds, rss, log)) in &samples {
        eprintln!("{at:7.1} {n:11} {fds:5} {rss:9} {:9}", log / 1024);
    }
    let total = done.load(Ordering::Relaxed);
    assert!(total > 100, "only {total} handshakes in {seconds} s");

    // Descriptors: exactly what the held connections need, again.
    assert_eq!(
        after.0, holding.0,
        "serve leaks descriptors: {holding:?} -> {after:?}"
    );
    // Memory: the second half of the run grows no more than allocator noise, whatever
    // its length.
    let mid = samples[samples.len() / 2].2 .1;
    assert!(
        after.1 <= mid + mid / 10 + 2 * 1024,
        "serve's memory grows: {mid} KiB at half time, {} KiB at the end",
        after.1
    );
    // The log: under its maximum size (plus the WAL, which checkpoints bound).
    let db = std::fs::metadata(data.join("events.db")).unwrap().len();
    assert!(
        db <= MAX_LOG + MAX_LOG / 4,
        "events.db is {db} bytes, over its {MAX_LOG} maximum"
    );
    drop(held);
    serve.stop();
    let records = events(&data);
    assert!(
        with_id(&records, 36880).len() < total as usize,
        "the oldest records were overwritten to stay under the maximum size"
    );
}
