//! The figures of a run: medians per column, ratios, the table and the JSON.

use crate::{Column, Environment, Kind, Report, RowResult, Sample};
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::PathBuf;

/// What the log stored of ours' 36880 events, queried from the log itself.
#[derive(Debug, Clone)]
pub struct LogSummary {
    /// The log file.
    pub path: PathBuf,
    /// Handshakes ours completed (each logs 36880 on both sides).
    pub handshakes: u64,
    /// 36880 events emitted: two per handshake.
    pub emitted: u64,
    /// Records stored in all (the last record ID).
    pub stored: u64,
    /// Records in the log now (size retention deletes the oldest).
    pub retained: u64,
    /// 36880 stored one by one, among those retained.
    pub individual: u64,
    /// Flood-control summaries among those retained.
    pub summaries: u64,
    /// Copies those summaries stand for.
    pub folded: u64,
    /// Records of other events.
    pub other: u64,
    /// Bytes the log uses.
    pub used_bytes: u64,
    /// The writer's last error, if any.
    pub last_error: Option<String>,
    /// Records counted as not stored (queue full past the bounded wait).
    pub not_stored: u64,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[v.len() / 2])
}

/// One column's medians over the rounds of a row.
#[derive(Debug, Clone, Copy, Default)]
pub struct ColumnStats {
    /// Handshakes/s or MB/s (10^6 bytes).
    pub rate: Option<f64>,
    /// CPU µs of the measuring thread per handshake (per MB for bulk).
    pub cpu_us: Option<f64>,
    /// CPU µs of the log's writer thread per handshake (per MB).
    pub writer_us: Option<f64>,
    /// Records the log stored per handshake (ours only).
    pub records_per_unit: Option<f64>,
    /// Writer CPU µs per stored record (ours only).
    pub writer_us_per_record: Option<f64>,
    /// Units (handshakes or bytes) measured over all rounds.
    pub units: u64,
    /// Handshakes that resumed over all rounds.
    pub resumed: u64,
}

/// A row's figures: the columns' medians and the ratios of ours to raw.
#[derive(Debug, Clone)]
pub struct RowStats {
    /// Per column.
    pub columns: Vec<(Column, ColumnStats)>,
    /// Rate ours / raw: median of the per-round ratios, with their minimum and maximum.
    pub rate_ratio: Option<(f64, f64, f64)>,
    /// CPU raw / ours of the measuring thread (higher is better for ours; 1.0: equal).
    pub cpu_ratio: Option<(f64, f64, f64)>,
    /// CPU raw / (ours + the writer's): what the machine pays for the events.
    pub cpu_ratio_with_writer: Option<(f64, f64, f64)>,
}

fn per_unit(kind: Kind, s: &Sample) -> f64 {
    if kind == Kind::Bulk {
        s.units as f64 / 1e6
    } else {
        s.units as f64
    }
}

fn us(d: Option<std::time::Duration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1e6)
}

impl RowResult {
    fn samples(&self, col: Column) -> Option<&[Sample]> {
        self.columns
            .iter()
            .find(|c| c.0 == col)
            .map(|c| c.1.as_slice())
    }

    fn column_stats(&self, samples: &[Sample]) -> ColumnStats {
        let k = self.kind;
        let m = |f: &dyn Fn(&Sample) -> Option<f64>| median(samples.iter().filter_map(f).collect());
        ColumnStats {
            rate: m(&|s| Some(per_unit(k, s) / s.elapsed.as_secs_f64())),
            cpu_us: m(&|s| us(s.cpu).map(|c| c / per_unit(k, s))),
            writer_us: m(&|s| us(s.writer_cpu).map(|c| c / per_unit(k, s))),
            records_per_unit: m(&|s| s.records.map(|r| r as f64 / per_unit(k, s))),
            writer_us_per_record: m(&|s| {
                let r = s.records.filter(|&r| r > 0)?;
                us(s.writer_cpu).map(|c| c / r as f64)
            }),
            units: samples.iter().map(|s| s.units).sum(),
            resumed: samples.iter().map(|s| s.resumed).sum(),
        }
    }

    /// The medians and ratios of this row.
    pub fn stats(&self) -> RowStats {
        let columns = self
            .columns
            .iter()
            .map(|(c, s)| (*c, self.column_stats(s)))
            .collect();
        let k = self.kind;
        // Per round: raw's and ours' samples were taken one after the other.
        let paired = |f: &dyn Fn(&Sample, &Sample) -> Option<f64>| {
            let (raw, ours) = (self.samples(Column::Raw)?, self.samples(Column::Ours)?);
            let v: Vec<f64> = raw.iter().zip(ours).filter_map(|(r, o)| f(r, o)).collect();
            let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            median(v).map(|m| (m, lo, hi))
        };
        let cpu = |s: &Sample| us(s.cpu).map(|c| c / per_unit(k, s));
        let writer = |s: &Sample| us(s.writer_cpu).map(|c| c / per_unit(k, s));
        RowStats {
            columns,
            rate_ratio: paired(&|r, o| {
                let rate = |s: &Sample| per_unit(k, s) / s.elapsed.as_secs_f64();
                Some(rate(o) / rate(r))
            }),
            cpu_ratio: paired(&|r, o| Some(cpu(r)? / cpu(o)?)),
            cpu_ratio_with_writer: paired(&|r, o| {
                // The writer's CPU while raw ran (flood-control timers, nothing of raw's)
                // is charged to neither side.
                Some(cpu(r)? / (cpu(o)? + writer(o)?))
            }),
        }
    }
}

impl RowStats {
    /// The stats of one column.
    pub fn column(&self, c: Column) -> ColumnStats {
        self.columns
            .iter()
            .find(|x| x.0 == c)
            .map(|x| x.1)
            .unwrap_or_default()
    }
}

fn fmt_num(v: Option<f64>) -> String {
    match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
        None => "-".to_owned(),
    }
}

fn fmt_ratio(r: Option<(f64, f64, f64)>) -> String {
    match r {
        Some((m, _, _)) => format!("{m:.3}"),
        None => "-".to_owned(),
    }
}

fn ratio_json(r: Option<(f64, f64, f64)>) -> Value {
    match r {
        Some((median, min, max)) => json!({"median": median, "min": min, "max": max}),
        None => Value::Null,
    }
}

impl Report {
    /// The table `schannel bench` prints.
    pub fn table(&self) -> String {
        let e = &self.environment;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} CPUs ({}), profile {}, rustls {} (aws-lc-rs); load average {} at start, {} at end{}",
            e.cpus,
            e.cpu_model,
            e.profile,
            e.rustls,
            e.load_start,
            e.load_end,
            e.pinned
                .map(|n| format!("; handshake thread pinned to CPU {n}"))
                .unwrap_or_default()
        );
        let _ = writeln!(
            out,
            "each row: {} interleaved rounds of {} per column (raw, ours{}), warm-up {:.2} s; medians",
            e.rounds,
            match e.iterations {
                Some(n) => format!("{n} handshakes/records"),
                None => format!("{:.2} s", e.seconds),
            },
            if self.rows.iter().any(|r| r.columns.len() > 2) {
                ", ..."
            } else {
                ""
            },
            e.warmup,
        );
        let header = format!(
            "{:<34} {:<5} {:>9} {:>9} {:>8} | {:>8} {:>8} {:>8} {:>9} {:>11} | {:>7} {:>7}",
            "row",
            "unit",
            "raw",
            "ours",
            "ours/raw",
            "cpu raw",
            "ours",
            "writer",
            "raw/ours",
            "raw/(o+w)",
            "rec/u",
            "w us/rec"
        );
        let _ = writeln!(out, "{header}");
        let _ = writeln!(out, "{}", "-".repeat(header.len()));
        for r in &self.rows {
            let st = r.stats();
            let (raw, ours) = (st.column(Column::Raw), st.column(Column::Ours));
            let mark = if r.same_parameters { "" } else { " *" };
            let _ = writeln!(
                out,
                "{:<34} {:<5} {:>9} {:>9} {:>8} | {:>8} {:>8} {:>8} {:>9} {:>11} | {:>7} {:>7}{mark}",
                r.label,
                r.unit,
                fmt_num(raw.rate),
                fmt_num(ours.rate),
                fmt_ratio(st.rate_ratio),
                fmt_num(raw.cpu_us),
                fmt_num(ours.cpu_us),
                fmt_num(ours.writer_us),
                fmt_ratio(st.cpu_ratio),
                fmt_ratio(st.cpu_ratio_with_writer),
                fmt_num(ours.records_per_unit),
                fmt_num(ours.writer_us_per_record),
            );
            for (c, s) in &st.columns {
                if matches!(c, Column::OursNullSink | Column::RawBuffered) {
                    let _ = writeln!(
                        out,
                        "  {:<32} {:<5} {:>9} {:>9} {:>8} | {:>8}",
                        c.name(),
                        r.unit,
                        "",
                        fmt_num(s.rate),
                        "",
                        fmt_num(s.cpu_us),
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "rates: hs/s or MB/s (10^6 bytes); ours/raw: median of the per-round ratios of the rates.\n\
             cpu: CPU microseconds per handshake (per MB for bulk) of the thread doing TLS (raw, ours)\n\
             and of the log's writer thread during ours' runs (writer); raw/ours and raw/(o+w): CPU\n\
             ratios per round, median (1.0: ours costs what raw rustls costs; higher is better).\n\
             rec/u: records stored per handshake; w us/rec: writer CPU per stored record."
        );
        for r in &self.rows {
            for n in &r.notes {
                let _ = writeln!(out, "note: {n}");
            }
            if !r.same_parameters {
                let _ = writeln!(out, "note: * {} negotiated {}", r.label, r.negotiated);
            }
        }
        let l = &self.log;
        let _ = writeln!(
            out,
            "log {}: {} handshakes -> {} x 36880 emitted; {} records stored (record IDs), {} retained \
             ({} one by one, {} flood summaries covering {} copies, {} other); {:.1} MB; total {:.0} s",
            l.path.display(),
            l.handshakes,
            l.emitted,
            l.stored,
            l.retained,
            l.individual,
            l.summaries,
            l.folded,
            l.other,
            l.used_bytes as f64 / 1e6,
            e.total_seconds,
        );
        if let Some(err) = &l.last_error {
            let _ = writeln!(out, "the log's last write error: {err}");
        }
        if l.not_stored > 0 {
            let _ = writeln!(
                out,
                "{} records were counted as not stored (the queue stayed full)",
                l.not_stored
            );
        }
        out
    }

    /// The run as one JSON object: `environment`, `rows` (each with its columns' medians
    /// and the ratios), `log`.
    pub fn to_json(&self) -> Value {
        let e: &Environment = &self.environment;
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let st = r.stats();
                let mut columns = serde_json::Map::new();
                for (c, s) in &st.columns {
                    columns.insert(
                        c.name().to_owned(),
                        json!({
                            "rate": s.rate,
                            "cpu_us_per_unit": s.cpu_us,
                            "writer_cpu_us_per_unit": s.writer_us,
                            "records_per_unit": s.records_per_unit,
                            "writer_cpu_us_per_record": s.writer_us_per_record,
                            "units": s.units,
                            "resumed": s.resumed,
                            "rounds": r.columns.iter().find(|x| x.0 == *c).map_or(0, |x| x.1.len()),
                        }),
                    );
                }
                json!({
                    "row": r.label,
                    "kind": r.kind.name(),
                    "protocol": r.protocol.name(),
                    "unit": r.unit,
                    "negotiated": r.negotiated,
                    "same_parameters": r.same_parameters,
                    "columns": columns,
                    "ratio": {
                        "rate_ours_over_raw": ratio_json(st.rate_ratio),
                        "cpu_raw_over_ours": ratio_json(st.cpu_ratio),
                        "cpu_raw_over_ours_plus_writer": ratio_json(st.cpu_ratio_with_writer),
                    },
                    "notes": r.notes,
                })
            })
            .collect();
        let l = &self.log;
        json!({
            "environment": {
                "cpus": e.cpus,
                "cpu_model": e.cpu_model,
                "profile": e.profile,
                "rustls": e.rustls,
                "load_average_start": e.load_start,
                "load_average_end": e.load_end,
                "pinned_cpu": e.pinned,
                "seconds": e.seconds,
                "warmup_seconds": e.warmup,
                "rounds": e.rounds,
                "iterations": e.iterations,
                "log": e.log_path,
                "flood_control": e.flood_control,
                "total_seconds": e.total_seconds,
            },
            "rows": rows,
            "log": {
                "path": l.path,
                "handshakes": l.handshakes,
                "emitted_36880": l.emitted,
                "stored": l.stored,
                "retained": l.retained,
                "individual_36880": l.individual,
                "flood_summaries": l.summaries,
                "folded": l.folded,
                "other": l.other,
                "used_bytes": l.used_bytes,
                "last_error": l.last_error,
                "not_stored": l.not_stored,
            },
        })
    }
}
