//! Flood control's bookkeeping. Runs on the writer thread, so `emit` stays a queue push.
//!
//! Per (event ID, data) pair, a window opens at the first event. The first `threshold`
//! events of a window are stored one by one; later ones are counted. When the window
//! ends, or on flush and shutdown, the count becomes one summary record: the last folded
//! event with `fold: Some(Fold { count, first, last })` (the copies' times) and, as its
//! own time, the time it is written: the end of its window, or the flush. Nothing
//! disappears uncounted.
//!
//! Record order is time order: a window ends when the writer's clock passes its end, or
//! earlier when a record stamped at or after its end is admitted (any record, not only a
//! copy), so its summary goes before that record. A summary is never stamped before a
//! record admitted ahead of it, so as far as emitters' stamps follow the queue's order,
//! record IDs and times increase together.
//!
//! The counts of open windows are also kept as a snapshot in the log (`flood_pending`,
//! see `store.rs`) for readers in other processes: this module tracks which folds
//! changed since the snapshot last committed, so a commit writes only those rows (no
//! more rows than the copies they count would have been), and nothing when nothing is
//! folded.

use crate::options::FloodControl;
use crate::store::{PendingChanges, PendingRow};
use securechannel_events::{EventId, EventRecord, Fields, Fold, FoldReason, UnixNanos};
use std::cmp::Reverse;
use std::collections::hash_map::{Entry, RandomState};
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

/// One (event ID, data) pair being watched.
struct Tracked {
    /// The pair, encoded by [`encode_key`]: one allocation instead of a copy of every
    /// string, and compared whole, so two pairs that share a hash are never folded
    /// together.
    key: Box<[u8]>,
    window_start: UnixNanos,
    seen: u64,
    /// The folded copies so far in this window. Boxed: most pairs never fold.
    folded: Option<Box<Folded>>,
}

/// The copies of one pair counted in its current window, not yet written as a summary.
struct Folded {
    count: u64,
    /// The earliest and latest copy's time.
    first: UnixNanos,
    last: UnixNanos,
    /// The latest copy: the summary's base record.
    base: EventRecord,
    /// Its row in the `flood_pending` snapshot: unique in this writer, never reused.
    row: u64,
    /// The committed snapshot has its row (so ending the fold deletes it).
    stored: bool,
    /// It is listed in `Snapshot::changed` (its row is to be written).
    changed: bool,
}

impl Tracked {
    /// The summary of the copies folded so far, stamped `time`; its snapshot row (if
    /// committed) is listed for deletion.
    fn take_summary(&mut self, time: UnixNanos, snapshot: &mut Snapshot) -> Option<EventRecord> {
        let f = *self.folded.take()?;
        if f.stored {
            snapshot.ended.push(f.row);
        }
        let mut base = f.base;
        base.time = time;
        base.fold = Some(Fold {
            count: f.count,
            first: f.first,
            last: f.last,
            reason: FoldReason::Flood,
        });
        Some(base)
    }

    fn window_end(&self, window: i64) -> UnixNanos {
        self.window_start.saturating_add(window)
    }
}

/// What the `flood_pending` rows of this writer lack, since its snapshot last committed.
#[derive(Default)]
struct Snapshot {
    /// (hash, row) of the folds whose count changed: each fold at most once (its
    /// `changed` flag). An entry whose fold has ended since is skipped.
    changed: Vec<(u64, u64)>,
    /// Rows of folds whose summary was written.
    ended: Vec<u64>,
    /// Every row of this writer goes first (all summaries were written).
    clear: bool,
}

/// The pairs that share one hash: nearly always just `head`.
struct Slot {
    head: Tracked,
    more: Vec<Tracked>,
}

impl Slot {
    fn find(&mut self, key: &[u8]) -> Option<&mut Tracked> {
        std::iter::once(&mut self.head)
            .chain(self.more.iter_mut())
            .find(|t| *t.key == *key)
    }

    /// Forget every pair whose window is over at `now`, its summary (stamped with the
    /// window's end) to `out`. Returns (pairs removed, summaries written, whether the
    /// slot is now empty).
    fn expire(
        &mut self,
        now: UnixNanos,
        window: i64,
        out: &mut Vec<EventRecord>,
        snapshot: &mut Snapshot,
    ) -> (usize, usize, bool) {
        let mut removed = 0;
        let mut summaries = 0;
        let mut over = |t: &mut Tracked| {
            let end = t.window_end(window);
            if now >= end {
                if let Some(s) = t.take_summary(end, snapshot) {
                    summaries += 1;
                    out.push(s);
                }
                removed += 1;
                true
            } else {
                false
            }
        };
        self.more.retain_mut(|t| !over(t));
        let head_over = over(&mut self.head);
        let mut empty = false;
        if head_over {
            match self.more.pop() {
                Some(t) => self.head = t,
                None => empty = true,
            }
        }
        (removed, summaries, empty)
    }
}

/// The map's keys are already hashes (keyed, from `RandomState`): used as they are.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed; fold anything else in rather than panic.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// (event ID, data) as bytes: the ID, then each string's length (LEB128: one byte for
/// lengths under 128) and bytes. Lengths make the encoding unambiguous (["ab", "c"] and
/// ["a", "bc"] differ).
fn encode_key(id: EventId, data: &Fields, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&id.value().to_le_bytes());
    for d in data {
        let mut n = d.len();
        while n >= 0x80 {
            out.push((n as u8 & 0x7f) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(d.as_bytes());
    }
}

/// The flood-control state of one log.
///
/// Costs: admitting a record looks at the soonest deadline (one comparison unless a
/// window ends), encodes and hashes its key (no allocation unless a new pair is tracked:
/// then one); ending windows pops a min-heap of deadlines, so it costs per window ended,
/// not per pair tracked; a flush visits only the pairs with counts; the snapshot costs
/// one list push per fold per commit. Memory: at most `max_tracked` pairs (each its
/// encoded key plus ~100 bytes), and one heap entry per window started.
pub(crate) struct Flood {
    config: FloodControl,
    window_nanos: i64,
    hasher: RandomState,
    /// Keyed by a hash of the encoded pair; a slot holds the pairs that share it.
    tracked: HashMap<u64, Slot, BuildHasherDefault<PreHashed>>,
    tracked_count: usize,
    /// When each window started so far ends, soonest first: (deadline, hash). An entry
    /// may be stale (its pair started a new window since, which has an entry of its own);
    /// popping it then changes nothing.
    deadlines: BinaryHeap<Reverse<(UnixNanos, u64)>>,
    /// The hashes of pairs that got a count since the last drain (may repeat or be stale).
    folded: Vec<u64>,
    pending_folds: usize,
    /// The latest time of a record admitted: a flush's summaries are stamped no earlier.
    latest: UnixNanos,
    snapshot: Snapshot,
    next_row: u64,
    /// This writer's rows in `flood_pending`: random, so two writers of one file (two
    /// processes, or two logs in one) never replace each other's rows.
    writer_id: i64,
    scratch: Vec<u8>,
    /// Tests: give every pair the same hash, so the full-key comparison is exercised.
    #[cfg(test)]
    collide: bool,
}

impl Flood {
    pub(crate) fn new(config: FloodControl) -> Flood {
        Flood {
            config,
            window_nanos: config.window.as_nanos().min(i64::MAX as u128) as i64,
            hasher: RandomState::new(),
            tracked: HashMap::default(),
            tracked_count: 0,
            deadlines: BinaryHeap::new(),
            folded: Vec::new(),
            pending_folds: 0,
            latest: UnixNanos::MIN,
            snapshot: Snapshot::default(),
            next_row: 0,
            writer_id: (RandomState::new().hash_one(std::process::id()) >> 1) as i64,
            scratch: Vec::with_capacity(256),
            #[cfg(test)]
            collide: false,
        }
    }

    /// Whether anything is tracked.
    #[cfg(test)]
    pub(crate) fn is_active(&self) -> bool {
        self.tracked_count > 0
    }

    /// When the soonest window ends (the writer wakes up then to write its summary), or
    /// None when nothing is tracked.
    pub(crate) fn next_deadline(&self) -> Option<UnixNanos> {
        self.deadlines.peek().map(|Reverse((d, _))| *d)
    }

    /// Take one record: push it to `out` to be stored, or count it. The windows over by
    /// its time end first, so their summaries go before it.
    pub(crate) fn admit(&mut self, record: EventRecord, out: &mut Vec<EventRecord>) {
        if !self.config.enabled {
            out.push(record);
            return;
        }
        self.end_windows(record.time, out);
        self.latest = self.latest.max(record.time);
        // A record that is already a summary (an import, a replay) is stored as it is.
        if record.fold.is_some() {
            out.push(record);
            return;
        }
        encode_key(record.event_id, &record.data, &mut self.scratch);
        let h = self.hasher.hash_one(&self.scratch[..]);
        #[cfg(test)]
        let h = if self.collide { 7 } else { h };
        // A tracked pair's window is open here: `end_windows` has forgotten the pair if
        // the record is at or past its end (the record then opens a new window below).
        if let Some(slot) = self.tracked.get_mut(&h) {
            if let Some(t) = slot.find(&self.scratch) {
                t.seen += 1;
                if t.seen <= u64::from(self.config.threshold) {
                    out.push(record);
                    return;
                }
                match &mut t.folded {
                    None => {
                        self.pending_folds += 1;
                        self.folded.push(h);
                        let row = self.next_row;
                        self.next_row += 1;
                        self.snapshot.changed.push((h, row));
                        t.folded = Some(Box::new(Folded {
                            count: 1,
                            first: record.time,
                            last: record.time,
                            base: record,
                            row,
                            stored: false,
                            changed: true,
                        }));
                    }
                    Some(f) => {
                        f.count += 1;
                        f.first = f.first.min(record.time);
                        f.last = f.last.max(record.time);
                        f.base = record;
                        if !f.changed {
                            f.changed = true;
                            self.snapshot.changed.push((h, f.row));
                        }
                    }
                }
                return;
            }
        }
        // A pair not tracked yet (beyond `max_tracked`: simply stored).
        if self.tracked_count < self.config.max_tracked {
            let t = self.track(&record, h);
            match self.tracked.entry(h) {
                Entry::Occupied(mut slot) => slot.get_mut().more.push(t),
                Entry::Vacant(v) => {
                    v.insert(Slot {
                        head: t,
                        more: Vec::new(),
                    });
                }
            }
        }
        out.push(record);
    }

    /// A new pair (its key is in `scratch`), its window starting at the record.
    fn track(&mut self, record: &EventRecord, h: u64) -> Tracked {
        self.tracked_count += 1;
        self.deadlines
            .push(Reverse((record.time.saturating_add(self.window_nanos), h)));
        Tracked {
            key: self.scratch.as_slice().into(),
            window_start: record.time,
            seen: 1,
            folded: None,
        }
    }

    /// End every window that is over at `now` (the writer's clock): its summary (if
    /// any) goes to `out`, and the pair is forgotten.
    pub(crate) fn expire(&mut self, now: UnixNanos, out: &mut Vec<EventRecord>) {
        self.end_windows(now, out);
        if self.tracked.is_empty() {
            // Keep the map's memory bounded by what is tracked now, not by a past flood.
            self.tracked.shrink_to_fit();
        }
        if self.folded.len() > 2 * self.pending_folds + 1024 {
            let tracked = &mut self.tracked;
            self.folded.retain(|h| {
                tracked.get_mut(h).is_some_and(|s| {
                    std::iter::once(&s.head)
                        .chain(s.more.iter())
                        .any(|t| t.folded.is_some())
                })
            });
            self.folded.sort_unstable();
            self.folded.dedup();
        }
    }

    /// End the windows over at `now` (a clock or a record's time). A heap peek when none
    /// is: this runs for every record admitted.
    fn end_windows(&mut self, now: UnixNanos, out: &mut Vec<EventRecord>) {
        let window = self.window_nanos;
        while let Some(&Reverse((deadline, h))) = self.deadlines.peek() {
            if deadline > now {
                break;
            }
            self.deadlines.pop();
            if let Entry::Occupied(mut slot) = self.tracked.entry(h) {
                let (removed, summaries, empty) =
                    slot.get_mut().expire(now, window, out, &mut self.snapshot);
                self.tracked_count -= removed;
                self.pending_folds -= summaries;
                if empty {
                    slot.remove();
                }
            }
        }
    }

    /// Write out every count so far (flush, shutdown), the summaries stamped `now` (or
    /// the latest record's time, if later). The windows stay open: later copies in the
    /// same window are counted again, into a later summary. The caller has ended the
    /// windows over at `now` first, so a later window's summary is stamped later.
    pub(crate) fn drain_summaries(&mut self, now: UnixNanos, out: &mut Vec<EventRecord>) {
        if self.pending_folds == 0 {
            self.folded.clear();
            return;
        }
        let time = now.max(self.latest);
        for h in self.folded.drain(..) {
            if let Some(slot) = self.tracked.get_mut(&h) {
                for t in std::iter::once(&mut slot.head).chain(slot.more.iter_mut()) {
                    if let Some(s) = t.take_summary(time, &mut self.snapshot) {
                        out.push(s);
                    }
                }
            }
        }
        self.pending_folds = 0;
        // No fold is left: one statement removes this writer's rows.
        let snapshot = &mut self.snapshot;
        snapshot.clear |= !snapshot.ended.is_empty();
        snapshot.ended.clear();
        snapshot.changed.clear();
    }

    /// Whether the `flood_pending` snapshot lacks changes (the next commit writes them).
    pub(crate) fn snapshot_changed(&self) -> bool {
        let s = &self.snapshot;
        s.clear || !s.ended.is_empty() || !s.changed.is_empty()
    }

    /// The rows to write into `flood_pending` with the next batch, None if none changed.
    /// After the commit succeeds, call [`Flood::snapshot_written`]; if it fails, the same
    /// changes (and any since) come again.
    pub(crate) fn snapshot_changes(&self) -> Option<PendingChanges<'_>> {
        if !self.snapshot_changed() {
            return None;
        }
        let window = self.window_nanos;
        let rows = self
            .snapshot
            .changed
            .iter()
            .filter_map(|&(h, row)| {
                let (t, f) = self.find_fold(h, row)?;
                Some(PendingRow {
                    row,
                    event_id: f.base.event_id,
                    data: &f.base.data,
                    count: f.count,
                    first: f.first,
                    last: f.last,
                    window_end: t.window_end(window),
                })
            })
            .collect();
        Some(PendingChanges {
            writer: self.writer_id,
            process_id: std::process::id(),
            clear: self.snapshot.clear,
            ended: &self.snapshot.ended,
            rows,
        })
    }

    /// The changes of [`Flood::snapshot_changes`] are committed.
    pub(crate) fn snapshot_written(&mut self) {
        // Taken and put back, so the list keeps its memory from one batch to the next.
        let mut changed = std::mem::take(&mut self.snapshot.changed);
        for &(h, row) in &changed {
            if let Some(f) = self.find_fold_mut(h, row) {
                f.stored = true;
                f.changed = false;
            }
        }
        changed.clear();
        self.snapshot.changed = changed;
        self.snapshot.ended.clear();
        self.snapshot.clear = false;
    }

    /// The log is a new file (an archive, a damaged one moved aside): its snapshot has
    /// none of this writer's rows, so the next commit writes every fold.
    pub(crate) fn snapshot_lost(&mut self) {
        let snapshot = &mut self.snapshot;
        snapshot.ended.clear();
        snapshot.clear = false;
        for (&h, slot) in self.tracked.iter_mut() {
            for t in std::iter::once(&mut slot.head).chain(slot.more.iter_mut()) {
                if let Some(f) = t.folded.as_mut() {
                    f.stored = false;
                    if !f.changed {
                        f.changed = true;
                        snapshot.changed.push((h, f.row));
                    }
                }
            }
        }
    }

    fn find_fold(&self, h: u64, row: u64) -> Option<(&Tracked, &Folded)> {
        let slot = self.tracked.get(&h)?;
        std::iter::once(&slot.head)
            .chain(slot.more.iter())
            .find_map(|t| Some((t, t.folded.as_deref().filter(|f| f.row == row)?)))
    }

    fn find_fold_mut(&mut self, h: u64, row: u64) -> Option<&mut Folded> {
        let slot = self.tracked.get_mut(&h)?;
        std::iter::once(&mut slot.head)
            .chain(slot.more.iter_mut())
            .find_map(|t| t.folded.as_deref_mut().filter(|f| f.row == row))
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
            data: data.iter().collect(),
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
                last: 9 * MS,
                reason: FoldReason::Flood,
            })
        );
        assert_eq!(s.data, vec!["46".to_string()]);
        assert_eq!(s.time, 1000 * MS, "stamped when its window ends");
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
        f.drain_summaries(0, &mut out);
        assert_eq!(out.last().and_then(|r| r.fold).map(|f| f.count), Some(1));
        // Draining leaves no count behind.
        let before = out.len();
        f.drain_summaries(0, &mut out);
        f.expire(10_000 * MS, &mut out);
        assert_eq!(out.len(), before);
    }

    /// Pairs whose hashes collide are still told apart by their full keys: each folds
    /// on its own, and ending one's window keeps the other.
    #[test]
    fn colliding_hashes_never_fold_different_events() {
        let mut f = Flood::new(config(1, 100));
        f.collide = true;
        let mut out = Vec::new();
        // Same ID, data that would run together without length prefixes.
        let a = |t| rec(EventId::FatalAlertGenerated, &["ab", "c"], t * MS);
        let b = |t| rec(EventId::FatalAlertGenerated, &["a", "bc"], t * MS);
        let c = |t| rec(EventId::FatalAlertReceived, &["ab", "c"], t * MS);
        let long = "x".repeat(300);
        let mut k1 = Vec::new();
        let mut k2 = Vec::new();
        encode_key(
            EventId::FatalAlertGenerated,
            &Fields::from([long.as_str(), "y"]),
            &mut k1,
        );
        encode_key(
            EventId::FatalAlertGenerated,
            &Fields::from([(long + "y").as_str()]),
            &mut k2,
        );
        assert_ne!(k1, k2, "a long field's length is encoded whole");
        for t in 0..3 {
            f.admit(a(t), &mut out);
        }
        for t in 50..54 {
            f.admit(b(t), &mut out);
        }
        f.admit(c(60), &mut out);
        assert_eq!(out.len(), 3, "the first of each pair is stored");
        assert_eq!(f.tracked.len(), 1, "all three share one slot");
        assert_eq!(f.tracked_count, 3);
        // a's window ends at 100 ms: its summary only; b and c stay tracked.
        f.expire(100 * MS, &mut out);
        assert_eq!(out.len(), 4);
        assert_eq!(out[3].data, vec!["ab".to_string(), "c".to_string()]);
        assert_eq!(out[3].fold.map(|f| f.count), Some(2));
        assert_eq!(f.tracked_count, 2);
        f.drain_summaries(0, &mut out);
        assert_eq!(out.len(), 5);
        assert_eq!(out[4].data, vec!["a".to_string(), "bc".to_string()]);
        assert_eq!(out[4].fold.map(|f| f.count), Some(3));
        f.expire(200 * MS, &mut out);
        assert_eq!(out.len(), 5);
        assert!(!f.is_active());
        assert!(f.tracked.is_empty());
    }

    /// A pair that started a new window is not ended by its old window's deadline.
    #[test]
    fn a_restarted_window_outlives_its_old_deadline() {
        let mut f = Flood::new(config(1, 100));
        let mut out = Vec::new();
        let r = |t| rec(EventId::FatalAlertReceived, &["46"], t * MS);
        f.admit(r(0), &mut out);
        f.admit(r(120), &mut out); // a new window, 120..220
        f.admit(r(130), &mut out); // folded
        assert_eq!(out.len(), 2);
        f.expire(150 * MS, &mut out);
        assert_eq!(
            out.len(),
            2,
            "the 0..100 deadline must not end the 120..220 window"
        );
        assert!(f.is_active());
        f.expire(220 * MS, &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].fold.map(|f| f.count), Some(1));
        assert!(!f.is_active());
        assert_eq!(f.next_deadline(), None, "no deadline left behind");
    }

    /// Any record stamped at or past a window's end ends it first: the summary (stamped
    /// with the window's end) goes before the record, so times follow record order.
    #[test]
    fn a_record_past_a_window_end_follows_its_summary() {
        let mut f = Flood::new(config(1, 100));
        let mut out = Vec::new();
        f.admit(rec(EventId::FatalAlertReceived, &["46"], 0), &mut out);
        f.admit(rec(EventId::FatalAlertReceived, &["46"], 10 * MS), &mut out);
        f.admit(
            rec(EventId::FatalAlertReceived, &["48"], 150 * MS),
            &mut out,
        );
        let times: Vec<i64> = out.iter().map(|r| r.time).collect();
        assert_eq!(times, vec![0, 100 * MS, 150 * MS]);
        assert_eq!(
            out[1].fold,
            Some(Fold {
                count: 1,
                first: 10 * MS,
                last: 10 * MS,
                reason: FoldReason::Flood,
            })
        );
        // A flush stamps its summaries with its own time, or the latest record's if later.
        f.admit(
            rec(EventId::FatalAlertReceived, &["48"], 160 * MS),
            &mut out,
        );
        f.drain_summaries(155 * MS, &mut out);
        assert_eq!(out.last().map(|r| r.time), Some(160 * MS));
    }

    /// The snapshot lists a fold once however many copies it counts, nothing once
    /// written, a deletion when its summary is written (only if its row was), and a
    /// single clear when a flush writes every summary.
    #[test]
    fn snapshot_writes_only_what_changed() {
        let mut f = Flood::new(config(1, 100));
        let mut out = Vec::new();
        let r = |d, t| rec(EventId::FatalAlertReceived, &[d], t * MS);
        assert!(f.snapshot_changes().is_none());
        for t in 0..5 {
            f.admit(r("46", t), &mut out);
        }
        let c = f.snapshot_changes().expect("a fold changed");
        assert_eq!(c.rows.len(), 1);
        let row = c.rows[0].row;
        assert_eq!(
            (c.rows[0].count, c.rows[0].first, c.rows[0].last),
            (4, MS, 4 * MS)
        );
        assert_eq!(c.rows[0].window_end, 100 * MS);
        assert!(!c.clear && c.ended.is_empty());
        f.snapshot_written();
        assert!(!f.snapshot_changed());
        // A stored copy changes nothing; a folded one changes its row.
        f.admit(r("48", 6), &mut out);
        assert!(!f.snapshot_changed());
        f.admit(r("46", 7), &mut out);
        assert_eq!(f.snapshot_changes().map(|c| c.rows[0].count), Some(5));
        f.snapshot_written();
        // The window ends: its row goes, in the commit that holds the summary.
        f.expire(100 * MS, &mut out);
        let c = f.snapshot_changes().expect("the row is deleted");
        assert!(c.rows.is_empty());
        assert_eq!(c.ended, &[row]);
        f.snapshot_written();
        // A fold whose row never reached the log needs no deletion.
        f.admit(r("48", 20), &mut out);
        f.expire(106 * MS, &mut out);
        assert!(f.snapshot_changes().is_some_and(|c| c.ended.is_empty()));
        f.snapshot_written();
        // A flush: one clear of this writer's rows.
        f.admit(r("70", 200), &mut out);
        f.admit(r("70", 201), &mut out);
        f.admit(r("42", 200), &mut out);
        f.admit(r("42", 202), &mut out);
        f.snapshot_written();
        f.drain_summaries(210 * MS, &mut out);
        let c = f.snapshot_changes().expect("cleared");
        assert!(c.clear && c.rows.is_empty() && c.ended.is_empty());
        f.snapshot_written();
        // A new file: every open fold is written again.
        f.admit(r("70", 203), &mut out);
        f.snapshot_written();
        f.snapshot_lost();
        assert_eq!(f.snapshot_changes().map(|c| c.rows.len()), Some(1));
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
        f.drain_summaries(0, &mut out);
        let folded: u64 = out.iter().filter_map(|r| r.fold).map(|f| f.count).sum();
        assert_eq!(
            out.iter().filter(|r| r.fold.is_none()).count() as u64 + folded,
            9
        );
    }
}
