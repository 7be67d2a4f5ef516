//! Flood control's bookkeeping. Runs on the writer thread, so `emit` stays a queue push.
//!
//! Per (event ID, data) pair, a window opens at the first event. The first `threshold`
//! events of a window are stored one by one; later ones are counted. When the window
//! ends, or on flush and shutdown, the count becomes one summary record: the last folded
//! event with `fold: Some(Fold { count, first, last })`. Nothing disappears uncounted.

use crate::options::FloodControl;
use securechannel_events::{EventId, EventRecord, Fold, UnixNanos};
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

struct Tracked {
    event_id: EventId,
    data: Vec<String>,
    window_start: UnixNanos,
    seen: u64,
    /// The folded copies so far in this window: count, first time, and the latest copy
    /// (the summary's base record).
    folded: Option<(u64, UnixNanos, EventRecord)>,
}

impl Tracked {
    fn take_summary(&mut self) -> Option<EventRecord> {
        let (count, first, mut base) = self.folded.take()?;
        base.fold = Some(Fold {
            count,
            first,
            last: base.time,
        });
        Some(base)
    }
}

/// The flood-control state of one log.
pub(crate) struct Flood {
    config: FloodControl,
    window_nanos: i64,
    /// Keyed by a hash of (ID, data); a bucket holds the pairs that share the hash.
    tracked: HashMap<u64, Vec<Tracked>>,
    tracked_count: usize,
    pending_folds: usize,
}

fn key_hash(id: EventId, data: &[String]) -> u64 {
    let mut h = DefaultHasher::new();
    id.hash(&mut h);
    data.hash(&mut h);
    h.finish()
}

impl Flood {
    pub(crate) fn new(config: FloodControl) -> Flood {
        Flood {
            config,
            window_nanos: config.window.as_nanos().min(i64::MAX as u128) as i64,
            tracked: HashMap::new(),
            tracked_count: 0,
            pending_folds: 0,
        }
    }

    /// Whether anything is tracked (then the writer wakes up to end windows on time).
    pub(crate) fn is_active(&self) -> bool {
        self.tracked_count > 0
    }

    /// Take one record: push it to `out` to be stored, or count it.
    pub(crate) fn admit(&mut self, record: EventRecord, out: &mut Vec<EventRecord>) {
        // A record that is already a summary (an import, a replay) is stored as it is.
        if !self.config.enabled || record.fold.is_some() {
            out.push(record);
            return;
        }
        let h = key_hash(record.event_id, &record.data);
        let bucket = self.tracked.entry(h).or_default();
        let window = self.window_nanos;
        if let Some(t) = bucket
            .iter_mut()
            .find(|t| t.event_id == record.event_id && t.data == record.data)
        {
            if record.time >= t.window_start.saturating_add(window) {
                if let Some(summary) = t.take_summary() {
                    self.pending_folds -= 1;
                    out.push(summary);
                }
                t.window_start = record.time;
                t.seen = 1;
                out.push(record);
                return;
            }
            t.seen += 1;
            if t.seen <= u64::from(self.config.threshold) {
                out.push(record);
                return;
            }
            t.folded = Some(match t.folded.take() {
                None => {
                    self.pending_folds += 1;
                    (1, record.time, record)
                }
                Some((count, first, _)) => (count + 1, first.min(record.time), record),
            });
            return;
        }
        if self.tracked_count < self.config.max_tracked {
            bucket.push(Tracked {
                event_id: record.event_id,
                data: record.data.clone(),
                window_start: record.time,
                seen: 1,
                folded: None,
            });
            self.tracked_count += 1;
        } else if bucket.is_empty() {
            self.tracked.remove(&h);
        }
        out.push(record);
    }

    /// End every window that is over at `now`: its summary (if any) goes to `out`, and
    /// the pair is forgotten.
    pub(crate) fn expire(&mut self, now: UnixNanos, out: &mut Vec<EventRecord>) {
        if self.tracked_count == 0 {
            return;
        }
        let window = self.window_nanos;
        let mut removed = 0;
        let mut summaries = 0;
        self.tracked.retain(|_, bucket| {
            bucket.retain_mut(|t| {
                if now >= t.window_start.saturating_add(window) {
                    if let Some(s) = t.take_summary() {
                        summaries += 1;
                        out.push(s);
                    }
                    removed += 1;
                    false
                } else {
                    true
                }
            });
            !bucket.is_empty()
        });
        self.tracked_count -= removed;
        self.pending_folds -= summaries;
    }

    /// Write out every count so far (flush, shutdown). The windows stay open: later
    /// copies in the same window are counted again, into a later summary.
    pub(crate) fn drain_summaries(&mut self, out: &mut Vec<EventRecord>) {
        if self.pending_folds == 0 {
            return;
        }
        for bucket in self.tracked.values_mut() {
            for t in bucket.iter_mut() {
                if let Some(s) = t.take_summary() {
                    out.push(s);
                }
            }
        }
        self.pending_folds = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    fn rec(id: EventId, data: &[&str], time: UnixNanos) -> EventRecord {
        EventRecord {
            record_id: 0,
            time,
            event_id: id,
            computer: Arc::from("host"),
            process_id: 1,
            thread_id: 1,
            activity_id: None,
            data: data.iter().map(|s| s.to_string()).collect(),
            binary: None,
            fold: None,
        }
    }

    fn config(threshold: u32, window_ms: u64) -> FloodControl {
        FloodControl {
            enabled: true,
            threshold,
            window: Duration::from_millis(window_ms),
            max_tracked: 1000,
        }
    }

    const MS: i64 = 1_000_000;

    #[test]
    fn folds_beyond_threshold_and_summarises_when_window_ends() {
        let mut f = Flood::new(config(3, 1000));
        let mut out = Vec::new();
        for i in 0..10 {
            f.admit(rec(EventId::FatalAlertReceived, &["46"], i * MS), &mut out);
        }
        // A different data value is a different pair: stored.
        f.admit(rec(EventId::FatalAlertReceived, &["48"], 10 * MS), &mut out);
        assert_eq!(out.len(), 4);
        assert!(out.iter().all(|r| r.fold.is_none()));
        f.expire(500 * MS, &mut out);
        assert_eq!(out.len(), 4, "window not over yet");
        f.expire(1000 * MS, &mut out);
        assert_eq!(out.len(), 5);
        let s = &out[4];
        assert_eq!(
            s.fold,
            Some(Fold {
                count: 7,
                first: 3 * MS,
                last: 9 * MS
            })
        );
        assert_eq!(s.data, vec!["46".to_string()]);
        assert_eq!(s.time, 9 * MS);
        assert!(
            f.is_active(),
            "the 48 pair's window (from 10 ms) is still open"
        );
        f.expire(1010 * MS, &mut out);
        assert_eq!(out.len(), 5, "the 48 pair folded nothing: no summary");
        assert!(!f.is_active(), "both pairs forgotten after their windows");
    }

    #[test]
    fn a_copy_after_the_window_starts_a_new_one() {
        let mut f = Flood::new(config(1, 100));
        let mut out = Vec::new();
        for t in [0, 10, 20, 150, 160] {
            f.admit(
                rec(EventId::FatalAlertGenerated, &["40", "1205", "x"], t * MS),
                &mut out,
            );
        }
        // 0 stored, 10 and 20 folded; 150 ends the window: summary, then 150 stored; 160
        // folded (pending).
        let folds: Vec<Option<u64>> = out.iter().map(|r| r.fold.map(|f| f.count)).collect();
        assert_eq!(folds, vec![None, Some(2), None]);
        f.drain_summaries(&mut out);
        assert_eq!(out.last().and_then(|r| r.fold).map(|f| f.count), Some(1));
        // Draining leaves no count behind.
        let before = out.len();
        f.drain_summaries(&mut out);
        f.expire(10_000 * MS, &mut out);
        assert_eq!(out.len(), before);
    }

    #[test]
    fn off_stores_everything() {
        let mut f = Flood::new(FloodControl::off());
        let mut out = Vec::new();
        for i in 0..100 {
            f.admit(rec(EventId::FatalAlertReceived, &["46"], i), &mut out);
        }
        assert_eq!(out.len(), 100);
        assert!(!f.is_active());
    }

    #[test]
    fn tracking_limit_stores_rather_than_forgets() {
        let mut c = config(1, 1000);
        c.max_tracked = 2;
        let mut f = Flood::new(c);
        let mut out = Vec::new();
        for round in 0..3 {
            for v in ["a", "b", "c"] {
                f.admit(
                    rec(EventId::ServerCertificateWrongName, &[v], round * MS),
                    &mut out,
                );
            }
        }
        // a and b are tracked (1 stored + 2 folded each), c is untracked: all 3 stored.
        assert_eq!(out.len(), 2 + 3);
        f.drain_summaries(&mut out);
        let folded: u64 = out.iter().filter_map(|r| r.fold).map(|f| f.count).sum();
        assert_eq!(
            out.iter().filter(|r| r.fold.is_none()).count() as u64 + folded,
            9
        );
    }
}
