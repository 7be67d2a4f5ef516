//! The writer thread: takes records from the bounded queue, runs flood control, writes
//! them in batches (one transaction per batch), applies retention.
//!
//! Batching: the writer blocks for the first record, then keeps collecting until
//! `batch_window` has passed since it took that record, `max_batch` records are taken, or
//! a flush or clear arrives (those commit at once), and commits once. So a record is
//! committed at most `batch_window` (plus one commit) after the writer took it, and a
//! batch holds everything of its window: one transaction per window even when records
//! trickle in, rather than one per momentarily empty queue.
//!
//! A failing store (an outage): the writer keeps the batch it holds and retries with
//! backoff (`batch_window` doubling up to `MAX_RETRY_INTERVAL`). Between attempts it
//! goes on taking messages off the queue, so flushes, clears and the close are answered
//! and the queue does not stay full: records go into the batch while it holds fewer
//! than `max_batch`, beyond that they are counted as not stored (`HealthState::count`).
//! Each attempt spends at most `lock_timeout` inside SQLite waiting for another
//! process's lock. After the first commit that succeeds, the writer commits one summary
//! record per event ID of everything counted. Closing retries for `flush_timeout`, then
//! writes what it holds to stderr.
//!
//! Flood control's open windows: when their counts changed, the batch's transaction also
//! updates this writer's rows of `flood_pending` (a batch whose records were all folded
//! commits just those rows: still one transaction per batch window, and none when
//! nothing is folded).

use crate::flood::Flood;
use crate::health::{Health, HealthState};
use crate::options::{LogOptions, Retention};
use crate::store;
use crate::{now_nanos, EventLogError};
use rusqlite::Connection;
use securechannel_events::{render_json, EventRecord, FoldReason};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant};

/// What goes through the queue. Control messages travel in the same queue as records, so
/// a flush covers exactly the records emitted before it.
// Records are the hot path and go by value (their fields are one allocation, see
// `Fields`); boxing them would add an allocation per record for the rare control messages.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Msg {
    Record(EventRecord),
    Flush(Sender<Result<(), SharedError>>),
    Clear {
        archive: bool,
        reply: Sender<Result<Option<PathBuf>, SharedError>>,
    },
    /// Nothing but a wake-up: an emitter counted a record, so the writer looks for
    /// counts to summarise even if no other message comes.
    Nudge,
}

/// An error of the writer thread, handed to every caller that waited on it.
pub(crate) type SharedError = Arc<EventLogError>;

/// State the writer shares with the log handle and its readers.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Bumped when the file behind the path changes (archive), so readers reopen.
    pub(crate) generation: Arc<AtomicU64>,
    /// The last commit or retention failure, for the caller to see.
    pub(crate) last_error: Mutex<Option<SharedError>>,
    /// Set when an emitter waited `outage_wait` on a full queue in vain; cleared by the
    /// writer's next successful commit. While set, emitters that find the queue full
    /// count the record at once instead of waiting again.
    pub(crate) overflowing: AtomicBool,
    /// The store's state and the records counted as not stored.
    pub(crate) health: Mutex<HealthState>,
}

impl Shared {
    pub(crate) fn generation_handle(&self) -> Arc<AtomicU64> {
        self.generation.clone()
    }

    fn set_error(&self, e: Option<SharedError>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = e;
    }

    pub(crate) fn health_state(&self) -> MutexGuard<'_, HealthState> {
        // The state stays consistent even if a holder panicked: each update is whole.
        self.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn health(&self) -> Health {
        self.health_state().snapshot()
    }

    /// Count a record that could not be queued or held.
    pub(crate) fn count_not_stored(&self, r: &EventRecord) {
        self.health_state().count(r);
    }
}

/// How emitters wake the writer while it sleeps collecting a batch: a count of queued
/// messages (one atomic add per emit), and an unpark once the queue holds `threshold`
/// of them or when a flush, clear or shutdown is queued. Without it the writer would wake
/// (and the emitter pay a futex wake) for every record.
#[derive(Debug)]
pub(crate) struct Waker {
    queued: AtomicUsize,
    threshold: usize,
    writer: OnceLock<Thread>,
}

impl Waker {
    pub(crate) fn new(options: &LogOptions) -> Waker {
        Waker {
            queued: AtomicUsize::new(0),
            // Half the queue: the writer drains it long before an emitter has to wait.
            threshold: (options.channel_capacity / 2).min(options.max_batch).max(1),
            writer: OnceLock::new(),
        }
    }

    pub(crate) fn set_writer(&self, thread: Thread) {
        let _ = self.writer.set(thread);
    }

    /// Before queueing a message (so the writer's count never goes below zero).
    pub(crate) fn queueing(&self) -> usize {
        self.queued.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// The message counted by `queueing` was not queued after all (the queue was full).
    pub(crate) fn not_queued(&self) {
        self.queued.fetch_sub(1, Ordering::Relaxed);
    }

    /// After queueing: wake the writer if the queue is filling up, or `now`.
    pub(crate) fn queued(&self, count: usize, now: bool) {
        if now || count >= self.threshold {
            self.wake();
        }
    }

    pub(crate) fn wake(&self) {
        if let Some(t) = self.writer.get() {
            t.unpark();
        }
    }

    fn taken(&self, n: usize) {
        if n > 0 {
            self.queued.fetch_sub(n, Ordering::Relaxed);
        }
    }
}

pub(crate) struct Writer {
    pub(crate) waker: Arc<Waker>,
    pub(crate) conn: Option<Connection>,
    pub(crate) path: PathBuf,
    pub(crate) options: LogOptions,
    pub(crate) flood: Flood,
    pub(crate) rx: Receiver<Msg>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) pending: Vec<EventRecord>,
    /// How many counted records the not-stored summaries in `pending` stand for.
    pub(crate) pending_summarised: u64,
    pub(crate) size: SizeEstimate,
}

/// What the writer knows of the log's size between real measurements (`used_bytes`, a
/// query of three pragmas): the size last measured plus an over-estimate of what the
/// commits since then added. The real size is measured only when that sum reaches the
/// maximum, or every `CHECK_EVERY` commits, so retention acts as before (the log never
/// goes over its maximum unseen) without a size query after every commit.
#[derive(Debug, Default)]
pub(crate) struct SizeEstimate {
    /// The size last measured; None: measure at the next commit.
    used: Option<u64>,
    /// Estimated bytes added since (records' own bytes times `factor_pct`%).
    added: u64,
    /// Raw estimate since, before the factor (to correct the factor).
    raw: u64,
    commits: u32,
    /// How much the log grows per byte of record data, in percent; starts at
    /// `START_FACTOR_PCT` and rises when a measurement shows more growth than estimated.
    factor_pct: u64,
}

/// A commit in this many measures the size whatever the estimate says.
const CHECK_EVERY: u32 = 256;
/// Rows, two indexes and half-full B-tree pages: measured ~1.0-1.3x a record's own bytes
/// as counted by `record_bytes`; 3x to be safe from the start.
const START_FACTOR_PCT: u64 = 300;

/// A record's own bytes as stored (row header, fields, the JSON array, `d0`, the index
/// entries' share).
fn record_bytes(r: &EventRecord) -> u64 {
    let data = r.data.text_len() + 3 * r.data.len();
    let d0 = r.data.first().map_or(0, str::len);
    (96 + r.computer.len() + r.binary.as_ref().map_or(0, |b| b.len()) + data + 2 * d0) as u64
}

impl SizeEstimate {
    fn added(&mut self, records: &[EventRecord]) {
        let raw: u64 = records.iter().map(record_bytes).sum();
        let factor = self.factor_pct.max(START_FACTOR_PCT);
        self.raw = self.raw.saturating_add(raw);
        self.added = self.added.saturating_add(raw.saturating_mul(factor) / 100);
        self.commits += 1;
    }

    fn must_check(&self, max: u64) -> bool {
        match self.used {
            None => true,
            Some(used) => used.saturating_add(self.added) > max || self.commits >= CHECK_EVERY,
        }
    }

    fn checked(&mut self, used_now: u64) {
        if let Some(before) = self.used {
            // Grew more than the factor allowed for: raise it (with a margin).
            let grown = used_now.saturating_sub(before);
            if self.raw > 0 && grown > self.added {
                self.factor_pct = self
                    .factor_pct
                    .max(START_FACTOR_PCT)
                    .max(grown.saturating_mul(125) / self.raw);
            }
        }
        self.used = Some(used_now);
        self.added = 0;
        self.raw = 0;
        self.commits = 0;
    }

    fn forget(&mut self) {
        self.used = None;
        self.added = 0;
        self.raw = 0;
        self.commits = 0;
    }
}

/// The smallest maximum size honoured (Windows' own minimum is 64 KiB; an empty log with
/// its indexes takes about 40 KiB here).
pub(crate) const MIN_MAX_SIZE_BYTES: u64 = 128 * 1024;

/// The longest pause between two attempts to commit to a failing store.
const MAX_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// The pause after `failures` failed commits in a row: the batch window, doubling.
fn retry_interval(window: Duration, failures: u32) -> Duration {
    let doubled = window.saturating_mul(1 << failures.saturating_sub(1).min(16));
    doubled.clamp(window.min(MAX_RETRY_INTERVAL), MAX_RETRY_INTERVAL)
}

impl Writer {
    /// Write until the queue closes and everything is written; Err when closing gave up
    /// on a failing store (what it held went to stderr).
    pub(crate) fn run(mut self) -> Result<(), EventLogError> {
        let window = self.options.batch_window;
        let mut disconnected = false;
        // Failed commits in a row (0: the store takes writes).
        let mut failures: u32 = 0;
        let mut give_up_at: Option<Instant> = None;
        loop {
            let mut control = Vec::new();
            let mut collect = true;
            // A snapshot that a failing store refused is retried like held records.
            let holding =
                !self.pending.is_empty() || (failures > 0 && self.flood.snapshot_changed());
            if !holding && !disconnected {
                // Wait for work; wake up on time to end flood windows while any are open.
                let first = match self.flood.next_deadline() {
                    Some(deadline) => {
                        let wait = Duration::from_nanos(
                            deadline.saturating_sub(now_nanos()).max(0) as u64,
                        );
                        match self.rx.recv_timeout(wait) {
                            Ok(m) => Some(m),
                            Err(RecvTimeoutError::Timeout) => None,
                            Err(RecvTimeoutError::Disconnected) => {
                                disconnected = true;
                                None
                            }
                        }
                    }
                    None => match self.rx.recv() {
                        Ok(m) => Some(m),
                        Err(_) => {
                            disconnected = true;
                            None
                        }
                    },
                };
                match first {
                    Some(m) => {
                        self.waker.taken(1);
                        self.take(m, &mut control);
                    }
                    // A flood window ended (or the queue closed): nothing to collect.
                    None => collect = false,
                }
            }
            // Collect until the window closes, the batch is full, a flush or clear
            // arrives, or the queue closes. Between drains the writer sleeps rather than
            // waking for every record: emitters wake it (`Waker`) when the queue fills up
            // or a flush/clear is queued. While the store fails, collect until the next
            // attempt is due, whatever the batch holds (`take` counts what it cannot
            // hold), so the queue keeps moving.
            let failing = failures > 0;
            let deadline = Instant::now()
                + if failing {
                    retry_interval(window, failures)
                } else {
                    window
                };
            let mut taken = 0;
            while collect
                && !disconnected
                && control.is_empty()
                && (failing || self.pending.len() < self.options.max_batch)
            {
                match self.rx.try_recv() {
                    Ok(m) => {
                        taken += 1;
                        self.take(m, &mut control);
                        continue;
                    }
                    Err(TryRecvError::Disconnected) => {
                        disconnected = true;
                        break;
                    }
                    Err(TryRecvError::Empty) => {}
                }
                self.waker.taken(std::mem::take(&mut taken));
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                std::thread::park_timeout(deadline - now);
            }
            self.waker.taken(taken);
            let now = now_nanos();
            self.flood.expire(now, &mut self.pending);
            if !control.is_empty() || disconnected {
                // Flush and shutdown: nothing counted stays unwritten.
                self.flood.drain_summaries(now, &mut self.pending);
            }
            let result = self.commit();
            for c in control {
                match c {
                    Msg::Flush(ack) => {
                        let _ = ack.send(result.clone());
                    }
                    Msg::Clear { archive, reply } => {
                        let r = match &result {
                            Ok(()) => self.clear(archive).map_err(Arc::new),
                            Err(e) => Err(e.clone()),
                        };
                        let _ = reply.send(r);
                    }
                    Msg::Record(_) | Msg::Nudge => {}
                }
            }
            if result.is_err() {
                failures = failures.saturating_add(1);
                if disconnected {
                    // Closing: retry for flush_timeout, then hand everything to stderr.
                    let now = Instant::now();
                    let at = *give_up_at.get_or_insert(now + self.options.flush_timeout);
                    if now >= at {
                        return Err(self.give_up());
                    }
                    std::thread::sleep(retry_interval(window, failures).min(at - now));
                }
                continue;
            }
            failures = 0;
            if disconnected && self.pending.is_empty() {
                if let Some(conn) = self.conn.take() {
                    let _ = conn.close();
                }
                return Ok(());
            }
        }
    }

    fn take(&mut self, m: Msg, control: &mut Vec<Msg>) {
        match m {
            // Held while there is room; counted beyond (only while the store fails: a
            // healthy writer commits before its batch reaches max_batch).
            Msg::Record(r) if self.pending.len() >= self.options.max_batch => {
                self.shared.count_not_stored(&r)
            }
            Msg::Record(r) => self.flood.admit(r, &mut self.pending),
            Msg::Nudge => {}
            other => control.push(other),
        }
    }

    fn conn(&mut self) -> Result<&mut Connection, EventLogError> {
        if self.conn.is_none() {
            let mut opts = self.options.clone();
            opts.verify_on_open = false;
            let (conn, moved) = store::open_for_writing(&self.path, &opts)?;
            if let Some(m) = moved {
                self.shared
                    .set_error(Some(Arc::new(EventLogError::MovedAside(m))));
                self.flood.snapshot_lost();
            }
            self.conn = Some(conn);
        }
        self.conn.as_mut().ok_or(EventLogError::WriterStopped)
    }

    /// Commit the pending records (and apply retention); then, if records were counted as
    /// not stored, their summaries.
    fn commit(&mut self) -> Result<(), SharedError> {
        if self.pending.is_empty()
            && !self.flood.snapshot_changed()
            && self.shared.health_state().unreported() == 0
        {
            return Ok(());
        }
        self.commit_pending()?;
        // The store takes writes: say at once what it could not take.
        let taken = self.shared.health_state().take_summaries(&mut self.pending);
        if taken > 0 {
            self.pending_summarised += taken;
            self.commit_pending()?;
        }
        Ok(())
    }

    /// Commit the pending records and flood control's snapshot changes, then apply
    /// retention; record the outcome in `health`.
    fn commit_pending(&mut self) -> Result<(), SharedError> {
        if self.pending.is_empty() && !self.flood.snapshot_changed() {
            return Ok(());
        }
        let path = self.path.clone();
        let inserted = self.conn().map(|_| ()).and_then(|()| {
            let changes = self.flood.snapshot_changes();
            match self.conn.as_mut() {
                Some(conn) => {
                    store::insert_batch(conn, &self.pending, changes.as_ref(), now_nanos())
                        .map_err(|source| EventLogError::Sqlite { path, source })
                }
                None => Err(EventLogError::WriterStopped),
            }
        });
        if let Err(e) = inserted {
            let e = Arc::new(e);
            self.shared.set_error(Some(e.clone()));
            self.shared
                .health_state()
                .failed(e.clone(), self.pending.len());
            return Err(e);
        }
        self.flood.snapshot_written();
        self.size.added(&self.pending);
        self.pending.clear();
        {
            let mut health = self.shared.health_state();
            health.committed(0);
            health.summarised(std::mem::take(&mut self.pending_summarised));
        }
        self.shared.overflowing.store(false, Ordering::Release);
        if let Err(e) = self.apply_retention() {
            // The records are committed; a retention failure is reported, not fatal.
            self.shared
                .set_error(Some(Arc::new(EventLogError::Retention(Box::new(e)))));
        } else {
            self.shared.set_error(None);
        }
        Ok(())
    }

    fn apply_retention(&mut self) -> Result<(), EventLogError> {
        let path = self.path.clone();
        let sqlite = |source| EventLogError::Sqlite {
            path: path.clone(),
            source,
        };
        // A floor, so a log smaller than its own schema cannot archive on every commit.
        let max = self.options.max_size_bytes.max(MIN_MAX_SIZE_BYTES);
        if !self.size.must_check(max) {
            return Ok(());
        }
        let retention = self.options.retention;
        let used = store::used_bytes(self.conn()?).map_err(sqlite)?;
        self.size.checked(used);
        if used <= max {
            return Ok(());
        }
        match retention {
            Retention::OverwriteOldest => {
                store::overwrite_oldest(self.conn()?, max).map_err(sqlite)?;
            }
            Retention::Archive => {
                self.archive()?;
            }
        }
        // The next commit measures again.
        self.size.forget();
        Ok(())
    }

    /// Move the whole log to an archive file and start a new one that goes on numbering.
    fn archive(&mut self) -> Result<PathBuf, EventLogError> {
        let path = self.path.clone();
        let sqlite = |source| EventLogError::Sqlite {
            path: path.clone(),
            source,
        };
        let last = store::last_assigned_id(self.conn()?).map_err(sqlite)?;
        if let Some(conn) = self.conn.take() {
            conn.close().map_err(|(_, e)| sqlite(e))?;
        }
        let archived = store::archive_file(&self.path);
        // Whether or not the move worked, a log must be open again at the path.
        let conn = self.conn()?;
        store::continue_numbering(conn, last).map_err(sqlite)?;
        self.flood.snapshot_lost();
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
        self.size.forget();
        archived
    }

    fn clear(&mut self, archive: bool) -> Result<Option<PathBuf>, EventLogError> {
        if archive {
            return self.archive().map(Some);
        }
        let path = self.path.clone();
        let sqlite = |source| EventLogError::Sqlite { path, source };
        let conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(sqlite.clone())?;
        tx.execute_batch("DELETE FROM events; DELETE FROM packed; DELETE FROM time_marks;")
            .map_err(sqlite.clone())?;
        tx.commit().map_err(sqlite)?;
        self.size.forget();
        Ok(None)
    }

    /// The last resort at shutdown when the store refused every commit for
    /// `flush_timeout`: the records held go to stderr as JSON, and what was counted is
    /// listed there by event ID, so an operator still has them. Returns the error that
    /// `close` reports.
    fn give_up(&mut self) -> EventLogError {
        let cause = self.shared.health_state().outage_error();
        let reason = cause.as_ref().map(|e| e.to_string()).unwrap_or_default();
        if !self.pending.is_empty() {
            eprintln!(
                "securechannel-eventlog: {} records could not be stored in {} ({reason}); they follow as JSON lines",
                self.pending.len(),
                self.path.display(),
            );
        }
        // Summaries of counted records among them are not records emitted.
        let mut spilled = 0;
        for r in self.pending.drain(..) {
            eprintln!("{}", render_json(&r));
            spilled += usize::from(r.fold.is_none_or(|f| f.reason != FoldReason::NotStored));
        }
        let mut health = self.shared.health_state();
        // Everything counted and not summarised in the log; the summaries just spilled
        // as JSON say it for their part, the lines below for the rest.
        let lost = health.unreported();
        let lines = health.unreported_lines();
        health.summarised(lost);
        drop(health);
        self.pending_summarised = 0;
        if !lines.is_empty() {
            eprintln!(
                "securechannel-eventlog: records counted as not stored in {}: {}",
                self.path.display(),
                lines.join("; ")
            );
        }
        EventLogError::NotStored {
            spilled,
            lost,
            cause,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use securechannel_events::EventId;

    fn handshake() -> EventRecord {
        EventRecord {
            record_id: 0,
            time: 0,
            event_id: EventId::HandshakeCompleted,
            computer: Arc::from("host"),
            process_id: 1,
            thread_id: 1,
            activity_id: None,
            data: ["server", "TLS 1.3", "AES_256_GCM", "256", "AEAD", "X25519"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            binary: None,
            fold: None,
        }
    }

    /// The size is measured first, then only when the estimate reaches the maximum (or
    /// after `CHECK_EVERY` commits); a measurement showing more growth than estimated
    /// raises the factor so the estimate stays an over-estimate.
    #[test]
    fn size_is_measured_only_near_the_maximum() {
        let mut s = SizeEstimate::default();
        let max = 1_000_000;
        assert!(s.must_check(max), "unknown size: measure");
        s.checked(500_000);
        let batch = vec![handshake(); 100];
        let per_batch = 100 * record_bytes(&batch[0]) * START_FACTOR_PCT / 100;
        let mut commits = 0;
        while !s.must_check(max) {
            s.added(&batch);
            commits += 1;
        }
        assert_eq!(
            commits,
            500_000 / per_batch + 1,
            "checks when the estimate passes max"
        );
        // The log grew twice as much as the estimate: the factor goes up.
        let grown = 2 * s.added;
        s.checked(500_000 + grown);
        assert!(s.factor_pct >= 2 * START_FACTOR_PCT);
        // However small the commits, every CHECK_EVERY-th one measures.
        let mut s = SizeEstimate::default();
        s.checked(0);
        for _ in 0..CHECK_EVERY {
            assert!(!s.must_check(u64::MAX));
            s.added(&[]);
        }
        assert!(s.must_check(u64::MAX));
        s.forget();
        assert!(s.must_check(u64::MAX));
    }
}
