//! TLS keeps running while the event log refuses writes: handshakes complete with the
//! log's file write-locked by another connection, every 36880 is stored or counted in a
//! summary once the lock is gone, and `schannel serve` says on stderr when the outage
//! begins and when it ends.

mod common;

use common::*;
use securechannel::{
    ClientContext, ClientCredential, ContextOptions, DecryptStatus, Provider, ServerContext,
    ServerCredential, StepStatus,
};
use securechannel_eventlog::{EventLog, FloodControl, LogOptions, Query};
use securechannel_events::{EventLogging, EventSink, FoldReason};
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// A second connection holding the log's write lock (WAL mode: readers go on).
fn lock(db: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(db).expect("a second connection to the log");
    c.execute_batch("BEGIN EXCLUSIVE")
        .expect("take the write lock");
    c
}

/// One handshake through the token API, both ends ours, in memory.
fn handshake(client: &ClientCredential, server: &ServerCredential) -> Result<(), String> {
    let e = |e: securechannel::Error| e.to_string();
    let mut c = ClientContext::new(client, "localhost", ContextOptions::default()).map_err(e)?;
    let mut s = ServerContext::new(server, ContextOptions::default()).map_err(e)?;
    let (mut to_server, mut to_client, mut plaintext) = (Vec::new(), Vec::new(), Vec::new());
    let mut client_done =
        c.initialize(&mut [], &mut to_server).map_err(e)?.status == StepStatus::Complete;
    let mut server_done = false;
    for _ in 0..8 {
        if !to_server.is_empty() {
            let consumed = if server_done {
                s.decrypt(&mut to_server, &mut plaintext)
                    .map_err(e)?
                    .consumed
            } else {
                let st = s.accept(&mut to_server, &mut to_client).map_err(e)?;
                server_done = st.status == StepStatus::Complete;
                st.consumed
            };
            to_server.drain(..consumed);
        }
        if !to_client.is_empty() {
            let consumed = if client_done {
                let d = c.decrypt(&mut to_client, &mut plaintext).map_err(e)?;
                if d.status == DecryptStatus::PeerClosed {
                    return Err("the server closed the connection".into());
                }
                d.consumed
            } else {
                let st = c.initialize(&mut to_client, &mut to_server).map_err(e)?;
                client_done = st.status == StepStatus::Complete;
                st.consumed
            };
            to_client.drain(..consumed);
        }
        if client_done && server_done && to_server.is_empty() && to_client.is_empty() {
            return Ok(());
        }
    }
    Err("the handshake did not complete in 8 rounds".into())
}

/// 200 handshakes (400 x 36880, client and server) with EventLogging = 7 into a log whose
/// file another connection keeps write-locked: all complete, each within a generous
/// bound, and once the lock is released the log holds every 36880, one by one or counted
/// in a not-stored summary.
#[test]
fn handshakes_complete_while_the_log_is_write_locked() {
    const HANDSHAKES: usize = 200;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // A small queue and batch, so the outage overflows them; short waits.
    let options = LogOptions {
        channel_capacity: 64,
        max_batch: 32,
        batch_window: Duration::from_millis(10),
        lock_timeout: Duration::from_millis(50),
        outage_wait: Duration::from_millis(100),
        flush_timeout: Duration::from_secs(2),
        flood: FloodControl::off(),
        ..LogOptions::default()
    };
    let log = Arc::new(EventLog::open_in(data, options).expect("open the log"));
    let provider =
        Provider::open(data, log.clone() as Arc<dyn EventSink>).expect("open the provider");
    provider.emitter().set_logging(EventLogging::ALL);
    let pki = Pki::new(data, "Outage CA");
    let leaf = pki.server_leaf("server");
    let server = provider
        .server_credential()
        .with_certificate_files(&leaf.cert, &leaf.key)
        .acquire()
        .expect("server credential");
    let ca = std::fs::read(&pki.ca_pem).expect("the CA file");
    let client = provider
        .client_credential()
        .add_root(securechannel::certificates_from_pem_or_der(&ca).expect("the CA")[0].clone())
        .acquire()
        .expect("client credential");
    log.sync().expect("the log works before the outage");
    let before = log.query(&Query::new()).unwrap().len();

    let blocker = lock(log.path());
    let (tx, rx) = mpsc::channel();
    let run = std::thread::spawn(move || {
        let mut longest = Duration::ZERO;
        for i in 0..HANDSHAKES {
            let start = Instant::now();
            if let Err(e) = handshake(&client, &server) {
                let _ = tx.send(Err(format!("handshake {i}: {e}")));
                return;
            }
            longest = longest.max(start.elapsed());
        }
        let _ = tx.send(Ok(longest));
    });
    let started = Instant::now();
    let longest = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(longest)) => longest,
        Ok(Err(e)) => panic!("{e}"),
        Err(_) => panic!(
            "{HANDSHAKES} handshakes did not complete within 120 s: TLS is blocked on the event log"
        ),
    };
    let took = started.elapsed();
    run.join().expect("the handshake thread");
    assert!(
        longest < Duration::from_secs(5),
        "a handshake took {longest:?}"
    );
    let h = log.health();
    assert!(h.is_failing(), "the outage must have been seen: {h:?}");
    assert!(h.lost > 0, "400 records overflow a 64 + 32 buffer: {h:?}");

    blocker.execute_batch("ROLLBACK").unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while log.sync().is_err() {
        assert!(
            Instant::now() < deadline,
            "the log did not recover: {:?}",
            log.health()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let records = log.query(&Query::new().oldest_first()).unwrap();
    let mut one_by_one = 0u64;
    let mut counted = 0u64;
    for r in records.iter().filter(|r| r.event_id.value() == 36880) {
        match r.fold {
            None => one_by_one += 1,
            Some(f) => {
                assert_eq!(f.reason, FoldReason::NotStored, "flood control is off");
                assert!(r.data.iter().all(str::is_empty), "{r:?}");
                counted += f.count;
            }
        }
    }
    assert_eq!(
        one_by_one + counted,
        2 * HANDSHAKES as u64,
        "every 36880 stored or counted ({one_by_one} stored, {counted} counted; {} records before the outage)",
        before
    );
    assert!(counted > 0);
    let h = log.health();
    assert!(!h.is_failing() && h.unreported == 0, "{h:?}");
    // `schannel events` shows the summaries as what they are, in each format, and says
    // on stderr how many records they stand for.
    let json = events_json(data, &["--id", "36880"]);
    let summaries: Vec<_> = json
        .iter()
        .filter(|v| v.get("NotStored").is_some())
        .collect();
    assert!(!summaries.is_empty());
    assert!(summaries.iter().all(|v| v.get("Folded").is_none()));
    // All of them: records that were still queued when the store came back are committed
    // after the summary, so the newest 36880 need not be the summary.
    let r = schannel(data, &["events", "--id", "36880"]);
    assert!(r.status.success(), "{}", r.both());
    assert!(
        r.stdout.contains("The event log could not store"),
        "{}",
        r.both()
    );
    assert!(
        r.stderr
            .contains("1 of these records is a summary, not an event: it stands for"),
        "{}",
        r.both()
    );
    let r = schannel(data, &["events", "--format", "xml"]);
    assert!(
        r.stdout.contains("<Data Name=\"NotStoredCount\">"),
        "{}",
        r.both()
    );
    eprintln!(
        "{HANDSHAKES} handshakes in {took:?} with the log locked (longest {longest:?}): {one_by_one} x 36880 stored, {counted} counted as not stored"
    );
}

/// `schannel serve` with its log write-locked by another connection: connections are
/// served, the outage is reported on stderr when it begins and when it ends, and the
/// 36880s of the connections are all in the log afterwards (a few records fit in what
/// the log holds: none is lost).
#[test]
fn serve_reports_the_outage_on_stderr_when_it_begins_and_ends() {
    require_tool("curl");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    log_everything(&data);
    let mut serve = Serve::start(&data, &[]);
    let blocker = lock(&data.join("events.db"));
    const REQUESTS: usize = 5;
    for _ in 0..REQUESTS {
        let r = curl(&[
            "--cacert",
            serve.dev_ca().to_str().unwrap(),
            "-H",
            "Accept: application/json",
            &serve.url(),
        ]);
        assert!(r.status.success(), "{}", r.both());
    }
    assert!(
        serve.proc.wait_for(Duration::from_secs(15), |_, err| err
            .contains("schannel: the event log refuses writes since")),
        "no outage reported:\n{}",
        serve.proc.stderr()
    );
    assert!(serve.alive());
    blocker.execute_batch("ROLLBACK").unwrap();
    assert!(
        serve.proc.wait_for(Duration::from_secs(15), |_, err| err
            .contains("takes writes again, after")),
        "no recovery reported:\n{}",
        serve.proc.stderr()
    );
    let err = serve.stop();
    let begin = err
        .lines()
        .find(|l| l.contains("refuses writes since"))
        .unwrap_or_default();
    assert!(begin.contains("database is locked"), "{err}");
    let end = err
        .lines()
        .find(|l| l.contains("takes writes again, after"))
        .unwrap_or_default();
    assert!(end.contains("no record was lost"), "{err}");
    let records = events(&data);
    assert_eq!(
        with_id(&records, 36880).len(),
        REQUESTS,
        "{}",
        summary(&records)
    );
}
