//! The event log's figures: write throughput with batching (also with a flood that flood
//! control folds), the cost of `emit` on the emitting thread, and query times over a
//! large log.
//!
//! `cargo bench -p securechannel-eventlog` (1,000,000 records), or quickly:
//! `EVENTLOG_BENCH_RECORDS=100000 cargo bench -p securechannel-eventlog`
//! (or pass the count as the first argument after `--`).

use securechannel_eventlog::{EventLog, FloodControl, LogOptions, LogReader, Query};
use securechannel_events::{
    ActivityId, Emitter, EventId, EventLogging, EventRecord, EventSink, Fields,
};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

fn base(id: EventId, time: i64, computer: &Arc<str>) -> EventRecord {
    EventRecord {
        record_id: 0,
        time,
        event_id: id,
        computer: computer.clone(),
        process_id: 31337,
        thread_id: 31338,
        activity_id: Some(ActivityId::new_random()),
        data: Fields::new(),
        binary: None,
        fold: None,
    }
}

fn strings(v: &[&str]) -> Fields {
    v.iter().collect()
}

/// A realistic mix: 70% handshakes (36880, 12 fields), 12% alerts received, 10% alerts
/// generated, 5% 36874, 3% certificate errors.
fn realistic(i: u64, time: i64, computer: &Arc<str>) -> EventRecord {
    let descs = ["46", "48", "40", "70", "42", "80", "112"];
    let d = descs[(i / 100) as usize % descs.len()];
    match i % 100 {
        0..=69 => {
            let mut r = base(EventId::HandshakeCompleted, time, computer);
            r.data = strings(&[
                "server",
                if i.is_multiple_of(3) {
                    "TLS 1.2"
                } else {
                    "TLS 1.3"
                },
                "AES_256_GCM",
                "256",
                "AEAD",
                "X25519",
                "255",
                "0x1302",
                "0x7f3a00c0",
                "www.example.com",
                "CN=www.example.com",
                "",
            ]);
            r
        }
        70..=81 => {
            let mut r = base(EventId::FatalAlertReceived, time, computer);
            r.data = strings(&[d]);
            r
        }
        82..=91 => {
            let mut r = base(EventId::FatalAlertGenerated, time, computer);
            r.data = strings(&[d, "1205", "scanner.example.net"]);
            r
        }
        92..=96 => {
            let mut r = base(EventId::NoSharedCipherSuite, time, computer);
            r.data = strings(&["SSL 3.0"]);
            r
        }
        _ => base(EventId::ServerCertificateUntrustedRoot, time, computer),
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .or_else(|| std::env::var("EVENTLOG_BENCH_RECORDS").ok()?.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory for the benchmark log");
    let path = dir.path().join("events.db");
    let options = LogOptions {
        max_size_bytes: 64 * 1024 * 1024 * 1024,
        flood: FloodControl::off(),
        verify_on_open: false,
        ..LogOptions::default()
    };
    println!("eventlog benchmark: {n} records, {}", path.display());

    // 1. Throughput: one thread emits pre-built records as fast as it can; the clock runs
    // from the first emit until everything is committed.
    let computer: Arc<str> = Arc::from("bench-host");
    let t0 = now();
    let records: Vec<EventRecord> = (0..n)
        .map(|i| realistic(i, t0 + i as i64 * 1_000, &computer))
        .collect();
    // An activity in the middle of the log, for the activity query below.
    let probe = records[records.len() / 2]
        .activity_id
        .expect("realistic records carry an activity");
    let log = EventLog::open(&path, options.clone()).expect("open the benchmark log");
    let start = Instant::now();
    for r in records {
        log.emit(r);
    }
    log.sync().expect("commit");
    let elapsed = start.elapsed();
    println!(
        "write:  {:>12.0} records/s  ({n} records committed in {:.3} s, batches of up to {}; target >= 500,000/s)",
        n as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64(),
        options.max_batch
    );
    // The emitter outruns the writer here: if the queue stayed full longer than
    // outage_wait, records were counted instead of stored, and the rate above is not one
    // of stored records. Say so.
    let lost = log.health().lost;
    if lost > 0 {
        println!("        {lost} records counted as not stored (the queue stayed full longer than outage_wait)");
    }
    if let Some(cpu) = writer_cpu() {
        println!(
            "        writer thread CPU: {:.2} µs per record ({:.0} records per CPU-second; the machine's load shares the cores)",
            cpu.as_secs_f64() * 1e6 / n as f64,
            n as f64 / cpu.as_secs_f64()
        );
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "        {:.1} MiB on disk, {:.0} bytes per record",
        size as f64 / 1048576.0,
        size as f64 / n as f64
    );

    drop(log);
    // 1b. The provider's pattern: records trickle in (20,000/s, each unique as a 36880
    // with its context handle is) into a log with the default options (flood control on,
    // 20 MiB), so the writer's cost per record includes its batching and bookkeeping.
    trickle(&computer);
    // 1c. A flood: most records are copies of a few alerts (a scanner), so flood
    // control folds them; the rest are unique 36880s, stored.
    flood(n, &computer);
    if std::env::var("EVENTLOG_BENCH_ONLY").is_ok_and(|v| v == "write" || v == "trickle") {
        return;
    }

    // 2. Queries over the log, from a reader of its own (as the CLI is).
    let reader = LogReader::open(&path).expect("reader");
    let total = reader.len().expect("count");
    println!("query:  over {total} records");
    let queries: Vec<(&str, Query)> = vec![
        (
            "--id 36887 --count 100",
            Query::new().ids(&[EventId::FatalAlertReceived]).count(100),
        ),
        (
            "--data AlertDesc=46 --count 100",
            Query::new().data("AlertDesc", "46").expect("field").count(100),
        ),
        (
            "--data AlertDesc=999 --count 100 (no such record: the worst case)",
            Query::new().data("AlertDesc", "999").expect("field").count(100),
        ),
        (
            "--data Protocol=TLS 1.2 --count 100 (36880's second field)",
            Query::new().data("Protocol", "TLS 1.2").expect("field").count(100),
        ),
        (
            "--id 36887,36888 --count 100",
            Query::new()
                .ids(&[EventId::FatalAlertReceived, EventId::FatalAlertGenerated])
                .count(100),
        ),
        (
            "--query (brief's wevtutil XPath) --count 100",
            Query::new()
                .xpath("*[System[Provider[@Name='Schannel'] and (EventID=36887 or EventID=36888) and TimeCreated[timediff(@SystemTime) <= 86400000]]]")
                .expect("xpath")
                .count(100),
        ),
        (
            "--query Data AlertDesc=46 (all matches)",
            Query::new()
                .xpath("*[EventData[Data[@Name='AlertDesc']=46]]")
                .expect("xpath"),
        ),
        (
            "--id 36870 --count 100 (none in the log)",
            Query::new().ids(&[EventId::CredentialKeyAccessFailed]).count(100),
        ),
        (
            "--id 36882 --count 100 (rare)",
            Query::new().ids(&[EventId::ServerCertificateUntrustedRoot]).count(100),
        ),
        (
            "--id 36880 --count 100 (not in the ID index: found in the newest rows)",
            Query::new().ids(&[EventId::HandshakeCompleted]).count(100),
        ),
        (
            "--id 36880,36887 --count 1000",
            Query::new()
                .ids(&[EventId::HandshakeCompleted, EventId::FatalAlertReceived])
                .count(1000),
        ),
        (
            "--id 36880 --count 100000 (beyond the newest rows: a scan)",
            Query::new().ids(&[EventId::HandshakeCompleted]).count(100_000),
        ),
        ("--count 100 (newest)", Query::new().count(100)),
        (
            "--since <middle of the log> --count 100",
            Query::new().since(t0 + (n as i64 / 2) * 1_000).count(100),
        ),
        (
            "--since <last 1% of the log> (all matches, through the time marks)",
            Query::new().since(t0 + (n as i64 / 100 * 99) * 1_000),
        ),
        (
            "--until <first 1% of the log> --count 100",
            Query::new().until(t0 + (n as i64 / 100) * 1_000).count(100),
        ),
        (
            "--activity <GUID of a record in the middle> (the time marks' activity filters)",
            Query::new().activity(probe),
        ),
        (
            "--activity <GUID in no record>",
            Query::new().activity(ActivityId(42)),
        ),
    ];
    for (name, q) in queries {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..7 {
            let s = Instant::now();
            found = reader.query(&q).expect("query").len();
            times.push(s.elapsed());
        }
        let first = times[0];
        println!(
            "        {:>9.3} ms  {name}  ({found} records; first run {:.3} ms; target < 50 ms)",
            median(times).as_secs_f64() * 1000.0,
            first.as_secs_f64() * 1000.0
        );
        for line in reader.explain(&q).unwrap_or_default() {
            println!("                    plan: {line}");
        }
    }
    // 3. emit on the emitting thread, queue not full: pre-built 36880 records moved in.
    // A log of its own, so the query figures above are over exactly the records written.
    let emit_dir = tempfile::tempdir().expect("a temporary directory");
    let log = EventLog::open(emit_dir.path().join("events.db"), options.clone()).expect("open");
    let batch = (options.channel_capacity / 2) as u64;
    let mut emit_times = Vec::new();
    let mut build_emit_times = Vec::new();
    let emitter = Emitter::new(Arc::new(NoWait(log)), EventLogging::ALL);
    let activity = Some(ActivityId::new_random());
    for round in 0..10u64 {
        let pre: Vec<EventRecord> = (0..batch)
            .map(|i| realistic(i % 70, t0 + (round * batch + i) as i64, &computer))
            .collect();
        emitter.flush();
        let s = Instant::now();
        for r in pre {
            emitter.sink().emit(r);
        }
        emit_times.push(s.elapsed() / batch as u32);
        emitter.flush();
        // The whole path the provider takes: build the 36880 through the Emitter (12
        // fields formatted) and emit it.
        let s = Instant::now();
        for _ in 0..batch {
            emitter
                .event(EventId::HandshakeCompleted)
                .activity(activity)
                .field("server")
                .field("TLS 1.3")
                .field("AES_256_GCM")
                .field(256)
                .field("AEAD")
                .field("X25519")
                .field(255)
                .field("0x1302")
                .field("0x7f3a00c0")
                .field("www.example.com")
                .field("CN=www.example.com")
                .field("")
                .send();
        }
        build_emit_times.push(s.elapsed() / batch as u32);
    }
    emitter.flush();
    println!(
        "emit:   {:>12} ns per emit of a pre-built 36880 (median of 10 rounds of {batch}; target < 1,000 ns)",
        median(emit_times).as_nanos()
    );
    println!(
        "        {:>12} ns per 36880 built through Emitter (12 fields) and emitted",
        median(build_emit_times).as_nanos()
    );
    drop(emitter);
}

/// Emit `TRICKLE_RECORDS` unique 36880s at about 20,000/s (bursts of 20 every
/// millisecond) into a default-options log and report the writer thread's CPU per record.
fn trickle(computer: &Arc<str>) {
    const TRICKLE_RECORDS: u64 = 40_000;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = EventLog::open(
        dir.path().join("events.db"),
        LogOptions {
            verify_on_open: false,
            ..LogOptions::default()
        },
    )
    .expect("open");
    let cpu0 = writer_cpu_ns().unwrap_or(0);
    let start = Instant::now();
    let mut emit_ns = 0u128;
    for i in 0..TRICKLE_RECORDS {
        let mut r = realistic(i % 70, now(), computer);
        // The context handle (field 9) differs per handshake.
        r.data
            .set(8, &format!("{:#x}", 0x7f3a_0000_0000u64 + i * 64));
        let s = Instant::now();
        log.emit(r);
        emit_ns += s.elapsed().as_nanos();
        if i % 20 == 19 {
            let due = Duration::from_micros(i * 50);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    log.sync().expect("commit");
    let elapsed = start.elapsed();
    let cpu = writer_cpu_ns().unwrap_or(0).saturating_sub(cpu0);
    println!(
        "trickle: {TRICKLE_RECORDS} unique 36880s at {:.0}/s, default options: writer thread CPU {:.2} µs per record; emit {:.0} ns on average",
        TRICKLE_RECORDS as f64 / elapsed.as_secs_f64(),
        cpu as f64 / 1000.0 / TRICKLE_RECORDS as f64,
        emit_ns as f64 / TRICKLE_RECORDS as f64
    );
}

/// Emit `n` records as fast as possible into a log with default flood control: 80% are
/// copies of 8 (event, data) pairs (alerts a scanner provokes), folded beyond the first
/// 10 of each; 20% are unique 36880s, stored. Reports records/s until everything is
/// committed (summaries included) and the writer thread's CPU per record.
fn flood(n: u64, computer: &Arc<str>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("events.db");
    let log = EventLog::open(
        &path,
        LogOptions {
            max_size_bytes: 64 * 1024 * 1024 * 1024,
            verify_on_open: false,
            ..LogOptions::default()
        },
    )
    .expect("open");
    let descs = ["46", "48", "40", "70"];
    let t0 = now();
    let records: Vec<EventRecord> = (0..n)
        .map(|i| {
            let time = t0 + i as i64 * 1_000;
            let pair = (i % 10) as usize;
            if pair < 8 {
                let (id, data) = if pair < 4 {
                    (EventId::FatalAlertReceived, vec![descs[pair]])
                } else {
                    (
                        EventId::FatalAlertGenerated,
                        vec![descs[pair - 4], "1205", "scanner.example.net"],
                    )
                };
                let mut r = base(id, time, computer);
                r.activity_id = None;
                r.data = strings(&data);
                r
            } else {
                let mut r = realistic(0, time, computer);
                r.data
                    .set(8, &format!("{:#x}", 0x7f3a_0000_0000u64 + i * 64));
                r
            }
        })
        .collect();
    let cpu0 = writer_cpu_ns().unwrap_or(0);
    let start = Instant::now();
    for r in records {
        log.emit(r);
    }
    log.sync().expect("commit");
    let elapsed = start.elapsed();
    let cpu = writer_cpu_ns().unwrap_or(0).saturating_sub(cpu0);
    let stored = LogReader::open(&path).and_then(|r| r.len()).unwrap_or(0);
    println!(
        "flood:  {:>12.0} records/s  ({n} records, 80% copies of 8 alerts: {stored} records stored, the rest folded; writer thread CPU {:.2} µs per record)",
        n as f64 / elapsed.as_secs_f64(),
        cpu as f64 / 1000.0 / n as f64
    );
    // As for the write row: a rate with records counted as not stored is not comparable.
    let lost = log.health().lost;
    if lost > 0 {
        println!("        {lost} records counted as not stored (the queue stayed full longer than outage_wait)");
    }
}

/// The writer thread's run time in ns from /proc/self/task/*/schedstat (finer than the
/// 10 ms ticks of `stat`).
fn writer_cpu_ns() -> Option<u64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let task = task.ok()?.path();
        let comm = std::fs::read_to_string(task.join("comm")).ok()?;
        if !comm.trim_end().ends_with("schannel-eventl") {
            continue;
        }
        let sched = std::fs::read_to_string(task.join("schedstat")).ok()?;
        return sched.split_whitespace().next()?.parse().ok();
    }
    None
}

/// The CPU time the writer thread ("schannel-eventlog") has used so far, from
/// /proc/self/task/*/stat (utime + stime, in clock ticks of 10 ms).
fn writer_cpu() -> Option<Duration> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("stat")).ok()?;
        let (comm, rest) = stat.split_once(") ")?;
        if !comm.ends_with("schannel-eventl") {
            continue;
        }
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        return Some(Duration::from_millis(ticks * 10));
    }
    None
}

/// Lets the benchmark hand the log to an Emitter and still flush through the trait.
struct NoWait(EventLog);

impl EventSink for NoWait {
    fn emit(&self, record: EventRecord) {
        self.0.emit(record)
    }
    fn flush(&self) {
        self.0.flush()
    }
}
