//! `schannel events` end to end: the built binary, a temporary data directory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn schannel(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schannel"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run schannel")
}

fn ok(data_dir: &Path, args: &[&str]) -> String {
    let out = schannel(data_dir, args);
    assert!(
        out.status.success(),
        "schannel {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Exit code 2 and the stderr text.
fn fails(data_dir: &Path, args: &[&str]) -> String {
    let out = schannel(data_dir, args);
    assert_eq!(out.status.code(), Some(2), "schannel {args:?}");
    assert!(out.stdout.is_empty());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

const ACTIVITY: &str = "{01234567-89AB-CDEF-0123-456789ABCDEF}";

/// Two alerts and a 36874, written as an admin would.
fn sample(dir: &Path) {
    let out = ok(
        dir,
        &[
            "events",
            "write",
            "--id",
            "36887",
            "--data",
            "AlertDesc=48",
            "--activity",
            ACTIVITY,
        ],
    );
    assert!(out.contains("record 1"), "{out}");
    ok(
        dir,
        &[
            "events",
            "write",
            "--id",
            "36888",
            "--data",
            "AlertDesc=40",
            "--data",
            "ErrorState=1205",
        ],
    );
    ok(
        dir,
        &[
            "events",
            "write",
            "--id",
            "36874",
            "--data",
            "Protocol=TLS 1.0",
        ],
    );
}

#[test]
fn write_then_query_by_id_in_each_format() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());

    let text = ok(dir.path(), &["events", "--id", "36887"]);
    assert!(
        text.starts_with("Event[0]:\n  Log Name: System\n  Source: Schannel\n"),
        "{text}"
    );
    assert!(text.contains("  Event ID: 36887\n"), "{text}");
    assert!(text.contains("  Level: Error\n"), "{text}");
    assert!(text.contains("  Record ID: 1\n"), "{text}");
    assert!(
        text.contains(&format!("  Activity ID: {ACTIVITY}\n")),
        "{text}"
    );
    assert!(
        text.contains("The TLS protocol defined fatal alert code is 48."),
        "{text}"
    );
    assert!(!text.contains("36888"), "{text}");

    let xml = ok(dir.path(), &["events", "--id", "36887", "--format", "xml"]);
    assert!(
        xml.starts_with("<Event xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">"),
        "{xml}"
    );
    assert!(xml.contains("<EventID>36887</EventID>"), "{xml}");
    assert!(xml.contains("<Data Name=\"AlertDesc\">48</Data>"), "{xml}");
    assert!(
        xml.contains(&format!("<Correlation ActivityID=\"{ACTIVITY}\" />")),
        "{xml}"
    );
    assert_eq!(xml.matches("<Event ").count(), 1);

    let json = json_lines(&ok(
        dir.path(),
        &["events", "--id", "36887,36888", "--format", "json"],
    ));
    assert_eq!(json.len(), 2);
    assert_eq!(json[0]["EventID"], 36888, "newest first");
    assert_eq!(json[0]["EventData"]["AlertDesc"], "40");
    assert_eq!(json[0]["EventData"]["ErrorState"], "1205");
    assert_eq!(
        json[0]["EventData"]["TargetName"], "",
        "missing fields are empty"
    );
    assert_eq!(json[1]["EventID"], 36887);
    assert_eq!(json[1]["EventRecordID"], 1);
    assert_eq!(json[1]["ActivityID"], ACTIVITY);
}

#[test]
fn query_by_data_xpath_activity_level_and_time() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let ids = |args: &[&str]| -> Vec<u64> {
        let mut a = vec!["events", "--format", "json"];
        a.extend_from_slice(args);
        json_lines(&ok(dir.path(), &a))
            .iter()
            .map(|v| v["EventRecordID"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(ids(&["--data", "AlertDesc=48"]), vec![1]);
    assert_eq!(
        ids(&["--data", "AlertDesc=40", "--data", "ErrorState=1205"]),
        vec![2]
    );
    assert_eq!(ids(&["--data", "Protocol=TLS 1.0"]), vec![3]);
    assert_eq!(
        ids(&["--query", "*[System[Provider[@Name='Schannel'] and (EventID=36887 or EventID=36888) and TimeCreated[timediff(@SystemTime) <= 86400000]]]"]),
        vec![2, 1]
    );
    assert_eq!(ids(&["--query", "*[System[Level=2]]"]), vec![3, 2, 1]);
    assert_eq!(
        ids(&["--query", "*[EventData[Data[@Name='AlertDesc']=48]]"]),
        vec![1]
    );
    assert_eq!(
        ids(&["--query", "*[System[EventRecordID>=2]]", "--oldest-first"]),
        vec![2, 3]
    );
    assert_eq!(ids(&["--activity", ACTIVITY]), vec![1]);
    assert_eq!(ids(&["--level", "error", "--count", "2"]), vec![3, 2]);
    assert_eq!(ids(&["--level", "warning,information"]), Vec::<u64>::new());
    assert_eq!(ids(&["--since", "1h"]), vec![3, 2, 1]);
    assert_eq!(ids(&["--until", "2020-01-01T00:00:00Z"]), Vec::<u64>::new());
    assert_eq!(ids(&["--oldest-first", "--count", "1"]), vec![1]);

    // XPath and flags combine.
    let xml = ok(
        dir.path(),
        &[
            "events",
            "--format",
            "xml",
            "--query",
            "*[System[EventID=36888]]",
            "--data",
            "ErrorState=1205",
        ],
    );
    assert!(
        xml.contains("<Data Name=\"ErrorState\">1205</Data>"),
        "{xml}"
    );
}

#[test]
fn bad_filters_are_clear_errors_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let e = fails(
        dir.path(),
        &["events", "--query", "*[System[EventID=36887 or Foo=1]]"],
    );
    assert!(e.contains("'Foo' is not supported"), "{e}");
    assert!(e.contains("  *[System[EventID=36887 or Foo=1]]\n"), "{e}");
    assert!(
        e.contains(&format!("\n  {}^", " ".repeat(26))),
        "caret under Foo: {e}"
    );
    let e = fails(dir.path(), &["events", "--id", "4625"]);
    assert!(
        e.contains("4625 is not a Schannel event ID") && e.contains("36887"),
        "{e}"
    );
    let e = fails(dir.path(), &["events", "--data", "AlertDescription=46"]);
    assert!(e.contains("AlertDesc,"), "{e}");
    let e = fails(dir.path(), &["events", "--since", "yesterday"]);
    assert!(e.contains("--since 'yesterday'"), "{e}");
    let e = fails(dir.path(), &["events", "--level", "fatal"]);
    assert!(e.contains("error, warning or information"), "{e}");
    let e = fails(dir.path(), &["events", "--activity", "not-a-guid"]);
    assert!(e.contains("not a GUID"), "{e}");
    let e = fails(
        dir.path(),
        &["events", "write", "--id", "36887", "--data", "ErrorState=1"],
    );
    assert!(e.contains("its fields are: AlertDesc"), "{e}");
    let e = fails(dir.path(), &["events", "write", "--id", "36999"]);
    assert!(e.contains("36888 A fatal alert was generated"), "{e}");
    // Nothing was written by the failed commands.
    assert_eq!(ok(dir.path(), &["events"]), "");
}

#[test]
fn demo_fills_the_log_with_a_realistic_mix() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(dir.path(), &["events", "demo", "--count", "150"]);
    assert!(out.contains("Wrote 150 demo events"), "{out}");
    let all = json_lines(&ok(dir.path(), &["events", "--format", "json"]));
    assert!(all.len() > 100 && all.len() <= 150, "{}", all.len());
    for id in [36864, 36880, 36887, 36888, 36874] {
        assert!(all.iter().any(|v| v["EventID"] == id), "demo has {id}");
    }
    // Newest first by default: by record ID, as `wevtutil /rd:true`, which is also time
    // order (a flood summary carries the time its window ended, when it was written).
    let ids: Vec<u64> = all
        .iter()
        .map(|v| v["EventRecordID"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=all.len() as u64).rev().collect::<Vec<_>>());
    let times: Vec<&str> = all
        .iter()
        .map(|v| v["TimeCreated"].as_str().unwrap())
        .collect();
    for pair in times.windows(2) {
        assert!(pair[0] >= pair[1], "newest first is also by time: {pair:?}");
    }
    // The scanner burst in the sample was folded by flood control.
    let summary = all
        .iter()
        .find(|v| v.get("Folded").is_some())
        .expect("a flood summary");
    assert_eq!(summary["EventID"], 36888);
    assert_eq!(summary["Folded"]["Count"], 15);
}

#[test]
fn damaged_log_is_moved_aside_and_named_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    std::fs::write(&db, b"garbage, not SQLite").unwrap();
    let out = schannel(dir.path(), &["events", "--count", "1"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&db.display().to_string()), "{stderr}");
    let moved: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("events.db.corrupt-"))
        .collect();
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(stderr.contains(&moved[0]), "{stderr}");
    assert_eq!(
        std::fs::read(dir.path().join(&moved[0])).unwrap(),
        b"garbage, not SQLite"
    );
    // The new log works.
    ok(dir.path(), &["events", "write", "--id", "36880"]);
    assert!(ok(dir.path(), &["events"]).contains("Event ID: 36880"));
}

#[test]
fn data_dir_is_created_and_an_unusable_one_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a").join("b");
    ok(
        &nested,
        &["events", "write", "--id", "36887", "--data", "AlertDesc=46"],
    );
    assert!(nested.join("events.db").exists());
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let e = fails(&file, &["events"]);
    assert!(e.contains("cannot create or open the event log"), "{e}");
}

#[test]
fn clear_with_archive_keeps_the_old_log_and_the_numbering() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let out = ok(dir.path(), &["events", "clear", "--archive"]);
    assert!(out.contains("events-archive-"), "{out}");
    assert_eq!(ok(dir.path(), &["events"]), "");
    let out = ok(
        dir.path(),
        &["events", "write", "--id", "36887", "--data", "AlertDesc=46"],
    );
    assert!(out.contains("record 4"), "{out}");
}

#[test]
fn follow_prints_events_as_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    sample(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_schannel"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["events", "--follow", "--format", "json", "--id", "36887"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the backlog");
    assert!(first.contains("\"AlertDesc\":\"48\""), "{first}");
    ok(
        dir.path(),
        &["events", "write", "--id", "36888", "--data", "AlertDesc=50"],
    );
    ok(
        dir.path(),
        &["events", "write", "--id", "36887", "--data", "AlertDesc=51"],
    );
    let next = rx.recv_timeout(Duration::from_secs(10));
    child.kill().unwrap();
    child.wait().unwrap();
    reader.join().unwrap();
    let next = next.expect("the new event");
    assert!(
        next.contains("\"AlertDesc\":\"51\""),
        "only 36887 follows: {next}"
    );
}

/// `--pending` shows what flood control is counting in another process (here, a log
/// this test writes into, as `schannel serve` would): right after a burst, before the
/// window ends; then nothing, and the summary record is there.
#[test]
fn pending_shows_open_flood_windows_until_their_summaries_are_written() {
    use securechannel_eventlog::{EventLog, FloodControl, LogOptions};
    use securechannel_events::{format_rfc3339, EventId, EventRecord, EventSink};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let window = Duration::from_secs(5);
    let log = EventLog::open_in(
        dir.path(),
        LogOptions {
            flood: FloodControl {
                enabled: true,
                threshold: 2,
                window,
                max_tracked: 1_000,
            },
            ..LogOptions::default()
        },
    )
    .unwrap();
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i64
    };
    let t = now();
    for i in 0..1_236 {
        log.emit(EventRecord {
            record_id: 0,
            time: t + i,
            event_id: EventId::FatalAlertReceived,
            computer: Arc::from("web-01"),
            process_id: std::process::id(),
            thread_id: 1,
            activity_id: None,
            data: vec!["46".to_string()].into(),
            binary: None,
            fold: None,
        });
    }
    let window_end = t + window.as_nanos() as i64;
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    let json = loop {
        let json = json_lines(&ok(
            dir.path(),
            &["events", "--pending", "--format", "json"],
        ));
        if !json.is_empty() || std::time::Instant::now() > deadline {
            break json;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(now() < window_end, "seen before the window ended");
    assert_eq!(json.len(), 1, "{json:?}");
    assert_eq!(json[0]["EventID"], 36887);
    assert_eq!(json[0]["EventData"]["AlertDesc"], "46");
    assert_eq!(json[0]["Count"], 1_234);
    assert_eq!(json[0]["First"], format_rfc3339(t + 2, 9).as_str());
    assert_eq!(json[0]["Last"], format_rfc3339(t + 1_235, 9).as_str());
    assert_eq!(json[0]["WindowEnd"], format_rfc3339(window_end, 9).as_str());
    assert_eq!(json[0]["ProcessID"], std::process::id());
    let text = ok(dir.path(), &["events", "--pending"]);
    assert_eq!(
        text,
        format!(
            "36887 AlertDesc=46: 1,234 copies folded since {}, last {}; the summary is written at {}\n",
            format_rfc3339(t + 2, 3),
            format_rfc3339(t + 1_235, 3),
            format_rfc3339(window_end, 3)
        )
    );
    // Not yet a record.
    assert!(ok(dir.path(), &["events", "--format", "json"])
        .lines()
        .all(|l| !l.contains("Folded")));
    // The window ends: the writer writes the summary and clears the count.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let out = schannel(dir.path(), &["events", "--pending"]);
        assert!(out.status.success());
        if out.stdout.is_empty() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.contains("counting no copies"), "{stderr}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the window never ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let records = json_lines(&ok(dir.path(), &["events", "--format", "json"]));
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["Folded"]["Count"], 1_234);
    assert_eq!(
        records[0]["TimeCreated"],
        format_rfc3339(window_end, 9).as_str()
    );
    drop(log);
}

#[test]
fn pending_is_text_or_json_and_takes_no_filters() {
    let dir = tempfile::tempdir().unwrap();
    let e = fails(dir.path(), &["events", "--pending", "--format", "xml"]);
    assert!(e.contains("--pending prints text or json"), "{e}");
    let e = fails(dir.path(), &["events", "--pending", "--id", "36887"]);
    assert!(e.contains("cannot be used with"), "{e}");
    let help = ok(dir.path(), &["events", "--help"]);
    assert!(help.contains("--pending"), "{help}");
}

/// `--format ecs`: winlogbeat's shape, so a SIEM rule for Windows Schannel events selects
/// the same records here (`winlog.event_id: 36887 and winlog.event_data.AlertDesc: 48`).
#[test]
fn ecs_format_answers_siem_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    sample(dir.path());
    let docs = json_lines(&ok(dir.path(), &["events", "--format", "ecs"]));
    assert!(docs.len() >= 3, "{docs:?}");
    let rule: Vec<&serde_json::Value> = docs
        .iter()
        .filter(|d| {
            d["winlog"]["provider_name"] == "Schannel"
                && d["winlog"]["channel"] == "System"
                && d["winlog"]["event_id"] == "36887"
                && d["winlog"]["event_data"]["AlertDesc"] == "48"
        })
        .collect();
    assert_eq!(rule.len(), 1, "{docs:?}");
    assert_eq!(rule[0]["winlog"]["activity_id"], ACTIVITY);
    assert_eq!(rule[0]["winlog"]["record_id"], "1");
    assert_eq!(rule[0]["event"]["code"], "36887");
    assert_eq!(rule[0]["log"]["level"], "error");
    let msg = rule[0]["message"].as_str().expect("message");
    assert!(msg.contains("48"), "{msg}");
    // --pending counts are not events: no ECS for them.
    let err = fails(dir.path(), &["events", "--pending", "--format", "ecs"]);
    assert!(err.contains("not xml or ecs"), "{err}");
}

/// Progress is for a terminal: piped, the long commands' stdout and stderr carry no escape
/// codes or carriage returns (only their output and summary); on a terminal (a pty from
/// util-linux's `script`), the same commands draw on stderr while stdout, redirected to a
/// file, stays clean.
#[test]
fn progress_is_drawn_on_a_terminal_and_silent_when_piped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let clean = |what: &str, bytes: &[u8]| {
        let s = String::from_utf8_lossy(bytes);
        assert!(
            !s.contains('\u{1b}') && !s.contains('\r'),
            "{what}: {:?}",
            &s[..s.len().min(300)]
        );
    };
    for args in [
        &["events", "demo", "--count", "20000"][..],
        &["events", "--format", "json"][..],
        &["events", "--id", "36887", "--format", "xml"][..],
        &["events", "clear", "--archive"][..],
        &["events", "demo", "--count", "20000"][..],
        &["events", "clear"][..],
    ] {
        let out = schannel(&data, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        clean(&format!("{args:?} stdout"), &out.stdout);
        clean(&format!("{args:?} stderr"), &out.stderr);
    }

    // On a terminal.
    assert!(
        Path::new("/usr/bin/script").exists(),
        "util-linux's `script` is required to give the command a terminal (apt-get install -y util-linux)"
    );
    ok(&data, &["events", "demo", "--count", "20000"]);
    let piped = ok(&data, &["events", "--format", "json"]);
    assert!(piped.lines().count() > 10_000, "enough records for a bar");
    let json = dir.path().join("out.json");
    let cmd = format!(
        "{} --data-dir {} events --format json > {}",
        env!("CARGO_BIN_EXE_schannel"),
        data.display(),
        json.display()
    );
    let out = Command::new("/usr/bin/script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("run script");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(
        tty.contains('\u{1b}') && (tty.contains("reading the log") || tty.contains("writing")),
        "no progress drawn on the terminal: {tty:?}"
    );
    let written = std::fs::read(&json).expect("out.json");
    clean("stdout redirected from a terminal session", &written);
    assert_eq!(
        String::from_utf8_lossy(&written),
        piped,
        "the same records as piped"
    );
}
