//! `schannel bench` as a script runs it: tiny rounds, `--json`, the shape of the output,
//! and the events in the data directory's real log. Nothing here asserts a timing.

mod common;

use common::schannel;
use serde_json::Value;

const ROWS: [&str; 9] = [
    "full TLS 1.3 ECDSA P-256",
    "full TLS 1.3 RSA-2048",
    "full TLS 1.2 ECDSA P-256",
    "full TLS 1.2 RSA-2048",
    "resumed TLS 1.3 ticket ECDSA P-256",
    "resumed TLS 1.2 ticket ECDSA P-256",
    "bulk TLS 1.3 AES-128-GCM",
    "bulk TLS 1.3 AES-256-GCM",
    "bulk TLS 1.3 ChaCha20-Poly1305",
];

fn positive(v: &Value, what: &str) -> f64 {
    let x = v
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {v}"));
    assert!(x > 0.0 && x.is_finite(), "{what} = {x}");
    x
}

/// Every row is there with both columns, a positive rate and CPU time per unit for each,
/// the three ratios, and (flood control off by default) exactly two stored records per
/// handshake of ours; the 36880 events are in the data directory's log afterwards.
#[test]
fn json_has_every_row_with_positive_rates_and_the_events_are_in_the_log() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let run = schannel(
        dir.path(),
        &[
            "bench",
            "--json",
            "--rounds",
            "2",
            "--seconds",
            "0.02",
            "--warmup",
            "0",
        ],
    );
    assert!(run.status.success(), "{}", run.both());
    let report: Value = serde_json::from_str(run.stdout.trim()).expect("one JSON object");
    let rows = report["rows"].as_array().expect("rows");
    let names: Vec<&str> = rows.iter().filter_map(|r| r["row"].as_str()).collect();
    assert_eq!(names, ROWS);
    for r in rows {
        let name = r["row"].as_str().unwrap_or_default();
        let handshakes = r["kind"] != "bulk";
        assert_eq!(
            r["unit"],
            if handshakes { "hs/s" } else { "MB/s" },
            "{name}"
        );
        assert_eq!(r["same_parameters"], true, "{name}: {}", r["negotiated"]);
        for col in ["raw", "ours"] {
            let c = &r["columns"][col];
            positive(&c["rate"], &format!("{name} {col} rate"));
            positive(&c["cpu_us_per_unit"], &format!("{name} {col} cpu"));
            assert_eq!(c["rounds"], 2, "{name} {col}");
            if r["kind"] == "resumed" {
                assert_eq!(
                    c["resumed"], c["units"],
                    "{name} {col}: every handshake resumed"
                );
            }
        }
        for ratio in [
            "rate_ours_over_raw",
            "cpu_raw_over_ours",
            "cpu_raw_over_ours_plus_writer",
        ] {
            positive(&r["ratio"][ratio]["median"], &format!("{name} {ratio}"));
        }
        let ours = &r["columns"]["ours"];
        assert!(ours["writer_cpu_us_per_unit"].is_number(), "{name}: {ours}");
        if handshakes {
            assert_eq!(ours["records_per_unit"], 2.0, "{name}: 36880 on both sides");
            positive(&ours["writer_cpu_us_per_record"], &format!("{name} writer"));
        }
    }
    let log = &report["log"];
    assert_eq!(report["environment"]["flood_control"], false);
    assert_eq!(log["stored"], log["emitted_36880"], "{log}");
    assert_eq!(log["individual_36880"], log["emitted_36880"], "{log}");
    assert_eq!(log["not_stored"], 0);
    let handshakes = log["handshakes"].as_u64().expect("handshakes");
    assert!(handshakes > 0);

    // The data directory's own log holds them: the events command reads them back.
    let events = schannel(
        dir.path(),
        &[
            "events", "--id", "36880", "--count", "1", "--format", "json",
        ],
    );
    assert!(events.status.success(), "{}", events.both());
    let record: Value = serde_json::from_str(events.stdout.trim()).expect("one JSON record");
    assert_eq!(record["EventID"], 36880, "{record}");
}

/// The table: one line per selected row under a header, and the log's line.
#[test]
fn table_lists_the_selected_rows() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let cpu = first_allowed_cpu();
    let run = schannel(
        dir.path(),
        &[
            "bench",
            "--only",
            "resumed",
            "--rounds",
            "1",
            "--seconds",
            "0.02",
            "--cpu",
            &cpu,
        ],
    );
    assert!(run.status.success(), "{}", run.both());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("row ")),
        "{}",
        run.stdout
    );
    let rows: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("resumed "))
        .collect();
    assert_eq!(rows.len(), 2, "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("pinned to CPU {cpu}")),
        "{}",
        run.stdout
    );
    assert!(!lines.iter().any(|l| l.starts_with("full ")));
}

/// The first CPU this process may run on (`Cpus_allowed_list: 0-1` or `2,5-7`).
fn first_allowed_cpu() -> String {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let list = status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .expect("Cpus_allowed_list in /proc/self/status");
    list.trim()
        .split([',', '-'])
        .next()
        .expect("a CPU number")
        .to_owned()
}

/// Arguments it cannot use are refused with what to do, before anything runs.
#[test]
fn refuses_what_it_cannot_do() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let run = schannel(dir.path(), &["bench", "--only", "TLS 1.0"]);
    assert_eq!(run.status.code(), Some(2), "{}", run.both());
    assert!(
        run.stderr.contains("--only matches no row"),
        "{}",
        run.stderr
    );
    let run = schannel(
        dir.path(),
        &["bench", "--cpu", "100000", "--seconds", "0.01"],
    );
    assert_eq!(run.status.code(), Some(2), "{}", run.both());
    assert!(run.stderr.contains("--cpu 100000"), "{}", run.stderr);
    let run = schannel(dir.path(), &["bench", "--seconds", "0"]);
    assert_eq!(run.status.code(), Some(2), "{}", run.both());
}
