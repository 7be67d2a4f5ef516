//! What every command that runs TLS shares: the event log of the data directory, the
//! provider on top of it, and credentials built from command-line flags.
//!
//! While such a command runs, an event log outage is reported on stderr when it begins
//! and when it ends (with what could not be stored): TLS goes on either way, the log
//! counts what it cannot take (see securechannel-eventlog's policies).

use securechannel::{ClientCredential, Protocol, Provider, Settings};
use securechannel_eventlog::{EventLog, Health, LogOptions};
use securechannel_events::{EventId, EventSink, UnixNanos};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The log and the provider of one command run.
pub struct Runtime {
    pub provider: Provider,
    log: Arc<EventLog>,
    watch: Option<OutageWatch>,
}

impl Runtime {
    /// Open `<data_dir>/events.db` and the provider on `data_dir` (creating the layout).
    pub fn open(data_dir: &Path) -> Result<Runtime, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            format!(
                "cannot create the data directory {}: {e}\nhint: pass --data-dir DIR (or set SCHANNEL_DATA) to a writable directory",
                data_dir.display()
            )
        })?;
        let log = Arc::new(open_log(data_dir)?);
        let provider = Provider::open(data_dir, log.clone() as Arc<dyn EventSink>)
            .map_err(|e| crate::failure_text("the provider did not load", &e))?;
        let watch = OutageWatch::start(log.clone());
        Ok(Runtime {
            provider,
            log,
            watch,
        })
    }

    /// A client credential: the machine's roots, plus `cafile`'s, plus an optional client
    /// certificate, narrowed to `protocols` (empty: the settings decide), checking
    /// revocation as `revocation` says (`None`: the credential's default), with the
    /// dangerous options asked for (each said on stderr).
    pub fn client_credential(
        &self,
        protocols: &[Protocol],
        cafile: Option<&Path>,
        cert_key: Option<(&Path, &Path)>,
        revocation: Option<(
            securechannel::RevocationCheck,
            securechannel::RevocationOffline,
        )>,
        dangerous: &crate::dangerous::DangerousArgs,
    ) -> Result<ClientCredential, Box<dyn std::error::Error>> {
        let mut b = self.provider.client_credential();
        if let Some(path) = &dangerous.dangerous_key_log {
            dangerous.warn();
            b = b.dangerous_key_log(path);
        }
        if let Some((check, offline)) = revocation {
            b = b.revocation(check, offline);
        }
        if !protocols.is_empty() {
            b = b.protocols(protocols);
        }
        if let Some(path) = cafile {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("cannot read --cafile {}: {e}", path.display()))?;
            let certs = securechannel::certificates_from_pem_or_der(&bytes)
                .map_err(|e| format!("--cafile {}: {e}", path.display()))?;
            for c in certs {
                b = b.add_root(c);
            }
        }
        if let Some((cert, key)) = cert_key {
            b = b.with_certificate_files(cert, key);
        }
        b.acquire()
            .map_err(|e| crate::failure_text("cannot acquire the client credential", &e).into())
    }

    /// Flush the log and close it (bounded: a log that refuses writes is given the
    /// log's flush timeout, then what it holds goes to stderr).
    pub fn close(self) {
        let Runtime {
            provider,
            log,
            watch,
        } = self;
        drop(provider);
        if let Some(w) = watch {
            w.stop();
        }
        match Arc::try_unwrap(log) {
            Ok(log) => {
                if let Err(e) = log.close() {
                    eprintln!("schannel: the event log could not be closed cleanly: {e}");
                }
            }
            // A credential still holds the sink: flush now, the last holder closes it.
            Err(log) => {
                if let Err(e) = log.sync() {
                    eprintln!("schannel: the event log could not be flushed: {e}");
                }
            }
        }
    }
}

/// How often the outage watch looks at the log's health.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// A thread that prints the log's outages on stderr as they begin and end.
struct OutageWatch {
    stop: mpsc::Sender<()>,
    thread: JoinHandle<()>,
}

impl OutageWatch {
    /// None if no thread could be started (the command runs on without the reports).
    fn start(log: Arc<EventLog>) -> Option<OutageWatch> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("schannel-log-watch".into())
            .spawn(move || {
                let mut report = OutageReport::new(log.path().to_path_buf());
                loop {
                    let last = !matches!(
                        stopped.recv_timeout(WATCH_EVERY),
                        Err(mpsc::RecvTimeoutError::Timeout)
                    );
                    for line in report.observe(&log.health(), now()) {
                        eprintln!("{line}");
                    }
                    if last {
                        return;
                    }
                }
            })
            .ok()?;
        Some(OutageWatch { stop, thread })
    }

    /// Look once more, then stop.
    fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

fn now() -> UnixNanos {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

/// What has been said about the log so far, so each change is said once.
#[derive(Debug)]
struct OutageReport {
    path: PathBuf,
    /// The outage being reported (its start), if one is.
    failing_since: Option<UnixNanos>,
    /// The counts by event ID already reported.
    reported: Vec<(EventId, u64)>,
}

impl OutageReport {
    fn new(path: PathBuf) -> OutageReport {
        OutageReport {
            path,
            failing_since: None,
            reported: Vec::new(),
        }
    }

    /// The lines to print for what changed since the last look.
    fn observe(&mut self, h: &Health, now: UnixNanos) -> Vec<String> {
        let mut lines = Vec::new();
        let path = self.path.display().to_string();
        match (&h.outage, self.failing_since) {
            (Some(o), None) => {
                self.failing_since = Some(o.since);
                lines.push(format!(
                    "schannel: {o}
  the log is {path}; TLS goes on: records wait in memory (held now: {}) and those that do not fit are counted by event ID, for summary records once the log recovers",
                    h.held
                ));
            }
            (None, Some(since)) => {
                self.failing_since = None;
                let lost = self.newly_lost(h);
                lines.push(format!(
                    "schannel: the event log {path} takes writes again, after {:.1} s; {}",
                    (now - since).max(0) as f64 / 1e9,
                    if lost.is_empty() {
                        "no record was lost (everything held is now stored)".to_string()
                    } else {
                        format!(
                            "counted as not stored: {}; a summary record per event ID says so in the log (schannel events --count 10)",
                            lost
                        )
                    }
                ));
            }
            (None, None) => {
                // Counted without an outage: the queue stayed full (the writer could not
                // keep up) longer than the log's bounded wait.
                let lost = self.newly_lost(h);
                if !lost.is_empty() {
                    lines.push(format!(
                        "schannel: the event log {path} could not keep up; counted as not stored: {lost}; a summary record per event ID says so in the log"
                    ));
                }
            }
            (Some(_), Some(_)) => {}
        }
        lines
    }

    /// "N records (36880: a, 36887: b)" for the counts not reported yet; empty if none.
    fn newly_lost(&mut self, h: &Health) -> String {
        let mut total = 0;
        let mut parts = Vec::new();
        for &(id, n) in &h.lost_by_id {
            let before = self
                .reported
                .iter()
                .find(|(r, _)| *r == id)
                .map_or(0, |(_, n)| *n);
            if n > before {
                total += n - before;
                parts.push(format!("{}: {}", id.value(), n - before));
            }
        }
        self.reported = h.lost_by_id.clone();
        if total == 0 {
            return String::new();
        }
        format!(
            "{total} record{} ({})",
            if total == 1 { "" } else { "s" },
            parts.join(", ")
        )
    }
}

/// Open the data directory's log with the `[EventLog]` settings (defaults when the
/// settings file is unreadable: the provider then reports that itself, into this log).
pub fn open_log(data_dir: &Path) -> Result<EventLog, Box<dyn std::error::Error>> {
    let log = EventLog::open_in(data_dir, log_options(data_dir))
        .map_err(|e| format!("cannot open the event log in {}: {e}", data_dir.display()))?;
    if let Some(m) = log.moved_aside() {
        eprintln!("schannel: {m}; a new log was started");
    }
    Ok(log)
}

/// The log's options from `settings.toml`'s `[EventLog]` table.
pub fn log_options(data_dir: &Path) -> LogOptions {
    Settings::load(data_dir)
        .map(|s| {
            let e = s.event_log();
            LogOptions::configured(e.max_size, e.retention, e.flood_threshold, e.flood_window)
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use securechannel_eventlog::{EventLogError, Outage};

    const S: i64 = 1_000_000_000;

    fn outage(since: UnixNanos) -> Option<Outage> {
        Some(Outage {
            since,
            failed_commits: 1,
            last_error: Arc::new(EventLogError::WriterStopped),
        })
    }

    /// Each change is said once: the outage when it begins (with the error), when it
    /// ends (how long, what was counted by event ID); counts without an outage too.
    #[test]
    fn outages_are_reported_when_they_begin_and_end() {
        let mut r = OutageReport::new(PathBuf::from("/data/events.db"));
        let healthy = Health::default();
        assert!(r.observe(&healthy, 0).is_empty());
        let failing = Health {
            outage: outage(10 * S),
            held: 32,
            ..Health::default()
        };
        let begin = r.observe(&failing, 11 * S);
        assert_eq!(begin.len(), 1, "{begin:?}");
        assert!(
            begin[0].starts_with("schannel: the event log refuses writes since 1970-01-01T00:00:10.000Z (1 failed commit): the event log's writer thread has stopped"),
            "{begin:?}"
        );
        assert!(
            begin[0].contains("/data/events.db; TLS goes on"),
            "{begin:?}"
        );
        let counting = Health {
            lost: 1300,
            lost_by_id: vec![
                (EventId::HandshakeCompleted, 1200),
                (EventId::FatalAlertReceived, 100),
            ],
            unreported: 1300,
            ..failing.clone()
        };
        assert!(r.observe(&counting, 12 * S).is_empty(), "said once");
        let recovered = Health {
            outage: None,
            held: 0,
            unreported: 0,
            ..counting.clone()
        };
        let end = r.observe(&recovered, 22 * S + S / 2);
        assert_eq!(
            end,
            vec!["schannel: the event log /data/events.db takes writes again, after 12.5 s; counted as not stored: 1300 records (36880: 1200, 36887: 100); a summary record per event ID says so in the log (schannel events --count 10)".to_string()]
        );
        assert!(r.observe(&recovered, 23 * S).is_empty());
        // Later losses without an outage (the writer fell behind).
        let behind = Health {
            lost: 1301,
            lost_by_id: vec![
                (EventId::HandshakeCompleted, 1201),
                (EventId::FatalAlertReceived, 100),
            ],
            ..recovered.clone()
        };
        assert_eq!(
            r.observe(&behind, 24 * S),
            vec!["schannel: the event log /data/events.db could not keep up; counted as not stored: 1 record (36880: 1); a summary record per event ID says so in the log".to_string()]
        );
        // An outage that loses nothing says so.
        let mut r = OutageReport::new(PathBuf::from("/d/events.db"));
        r.observe(&failing, 11 * S);
        let end = r.observe(&healthy, 13 * S);
        assert!(
            end[0].ends_with("after 3.0 s; no record was lost (everything held is now stored)"),
            "{end:?}"
        );
    }
}
