//! The log handle: open, emit (the `EventSink`), flush, clear, close, and queries.

use crate::error::EventLogError;
use crate::flood::Flood;
use crate::health::Health;
use crate::options::LogOptions;
use crate::query::Query;
use crate::reader::{Follow, LogReader};
use crate::store::{self, MovedAside};
use crate::writer::{Msg, Shared, Waker, Writer};
use securechannel_events::{render_json, EventRecord, EventSink};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The file name of the log in a data directory.
pub const LOG_FILE_NAME: &str = "events.db";

/// The durable System log: an SQLite file (WAL mode, mode 0600) and the writer thread
/// that fills it.
///
/// As an [`EventSink`], `emit` puts the record on a bounded queue and returns; it waits
/// only when the queue is full (`channel_capacity` records), and **at most
/// `outage_wait` (200 ms): then the record is counted as not stored** (by event ID, with
/// the first and last time) and a summary record says so as soon as the store accepts
/// writes again. A record is never dropped uncounted: it is stored, or counted and
/// summarised (or, when closing gives up on a failing store, written to stderr).
/// [`EventLog::health`] says whether the store is failing now and what was counted.
/// `flush` waits until every record emitted before it is committed (at most
/// `flush_timeout`). Dropping the log (or [`EventLog::close`]) writes everything still
/// queued, flood-control counts included.
///
/// Durability: the writer commits a batch at the latest `batch_window` (50 ms by default)
/// after it took the batch's first record from the queue, and a commit survives the
/// process being killed (WAL, `synchronous=NORMAL`). After a kill -9, what is lost is the
/// batch being written (at most one window's worth) and whatever was still queued (with
/// the writer keeping up, the records of that same window; at most `channel_capacity`).
/// The file opens again without repair.
///
/// Queries see committed records only: call `flush` first to see your own.
pub struct EventLog {
    path: PathBuf,
    queue: Option<SyncSender<Msg>>,
    waker: Arc<Waker>,
    writer: Option<JoinHandle<()>>,
    /// The writer's outcome, sent as it ends (so closing can wait for it with a bound).
    /// (In a mutex only because a receiver is not `Sync`; used by `&mut self` alone.)
    writer_done: Mutex<Receiver<Result<(), EventLogError>>>,
    shared: Arc<Shared>,
    reader: LogReader,
    moved_aside: Option<MovedAside>,
    outage_wait: Duration,
    flush_timeout: Duration,
    lock_timeout: Duration,
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog")
            .field("path", &self.path)
            .finish()
    }
}

impl EventLog {
    /// Open the log at `path`, creating it (and its directory) when missing. A damaged or
    /// foreign file is moved aside and a new log started: see [`EventLog::moved_aside`].
    pub fn open(path: impl AsRef<Path>, options: LogOptions) -> Result<EventLog, EventLogError> {
        let path = path.as_ref().to_path_buf();
        let (conn, moved_aside) = store::open_for_writing(&path, &options)?;
        let (queue, rx) = mpsc::sync_channel(options.channel_capacity.max(1));
        let shared = Arc::new(Shared::default());
        let waker = Arc::new(Waker::new(&options));
        let (outage_wait, flush_timeout, lock_timeout) = (
            options.outage_wait,
            options.flush_timeout,
            options.lock_timeout,
        );
        let writer = Writer {
            waker: waker.clone(),
            conn: Some(conn),
            path: path.clone(),
            flood: Flood::new(options.flood),
            options,
            rx,
            shared: shared.clone(),
            pending: Vec::new(),
            pending_summarised: 0,
            size: Default::default(),
        };
        let (done, writer_done) = mpsc::sync_channel(1);
        let handle = std::thread::Builder::new()
            .name("schannel-eventlog".into())
            .spawn(move || {
                let _ = done.send(writer.run());
            })
            .map_err(|source| EventLogError::DataDir {
                path: path.clone(),
                source,
            })?;
        waker.set_writer(handle.thread().clone());
        let reader = LogReader::with_generation(path.clone(), shared.generation_handle());
        Ok(EventLog {
            path,
            queue: Some(queue),
            waker,
            writer: Some(handle),
            writer_done: Mutex::new(writer_done),
            shared,
            reader,
            moved_aside,
            outage_wait,
            flush_timeout,
            lock_timeout,
        })
    }

    /// Open `<data_dir>/events.db`.
    pub fn open_in(
        data_dir: impl AsRef<Path>,
        options: LogOptions,
    ) -> Result<EventLog, EventLogError> {
        EventLog::open(data_dir.as_ref().join(LOG_FILE_NAME), options)
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When opening found a damaged file and moved it aside: what and where. Show it.
    pub fn moved_aside(&self) -> Option<&MovedAside> {
        self.moved_aside.as_ref()
    }

    /// The last commit or retention failure, if the latest attempt failed.
    pub fn last_error(&self) -> Option<Arc<EventLogError>> {
        self.shared
            .last_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the store takes writes now, and what could not be stored: see [`Health`].
    /// A snapshot of what the writer last saw (the outage begins with the first failed
    /// commit, at most `lock_timeout` after the store stopped taking writes).
    pub fn health(&self) -> Health {
        self.shared.health()
    }

    /// Queue a control message and wake the writer, so it commits at once. Waits for room
    /// until `deadline` at most.
    fn send(&self, m: Msg, deadline: Instant) -> Result<(), EventLogError> {
        let Some(q) = &self.queue else {
            return Err(EventLogError::WriterStopped);
        };
        let mut m = m;
        let mut pause = Duration::from_micros(50);
        loop {
            let n = self.waker.queueing();
            match q.try_send(m) {
                Ok(()) => {
                    self.waker.queued(n, true);
                    return Ok(());
                }
                Err(TrySendError::Full(back)) => {
                    self.waker.not_queued();
                    m = back;
                }
                Err(TrySendError::Disconnected(_)) => {
                    self.waker.not_queued();
                    return Err(EventLogError::WriterStopped);
                }
            }
            self.waker.wake();
            let now = Instant::now();
            if now >= deadline {
                return Err(self.timed_out());
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// The error of a caller that waited `flush_timeout` for the writer in vain.
    fn timed_out(&self) -> EventLogError {
        let h = self.shared.health_state();
        EventLogError::TimedOut {
            waited: self.flush_timeout,
            cause: h.outage_error(),
            held: h.snapshot().held,
            unreported: h.unreported(),
        }
    }

    /// Wait for a control message's answer until `deadline`.
    fn answer<T>(
        &self,
        done: &Receiver<Result<T, Arc<EventLogError>>>,
        deadline: Instant,
    ) -> Result<Result<T, Arc<EventLogError>>, EventLogError> {
        match done.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(r) => Ok(r),
            Err(RecvTimeoutError::Timeout) => Err(self.timed_out()),
            Err(RecvTimeoutError::Disconnected) => Err(EventLogError::WriterStopped),
        }
    }

    /// Wait until every record emitted so far is committed, or counted as not stored and
    /// its summary committed; the error if the commit failed (the records stay held and
    /// the writer retries) or the writer did not answer within `flush_timeout`
    /// ([`EventLogError::TimedOut`], with what is held and counted).
    pub fn sync(&self) -> Result<(), EventLogError> {
        let deadline = Instant::now() + self.flush_timeout;
        let (ack, done) = mpsc::channel();
        self.send(Msg::Flush(ack), deadline)?;
        self.answer(&done, deadline)?.map_err(EventLogError::Writer)
    }

    /// Empty the log (`wevtutil cl System`): with `archive`, the current log is moved to
    /// `events-archive-<UTC time>.db` first and its path returned; without, its records
    /// are deleted. Either way record IDs go on from where they were. Waits at most
    /// `flush_timeout` for the writer.
    pub fn clear(&self, archive: bool) -> Result<Option<PathBuf>, EventLogError> {
        let deadline = Instant::now() + self.flush_timeout;
        let (reply, done) = mpsc::channel();
        self.send(Msg::Clear { archive, reply }, deadline)?;
        // The clear's own error comes back whole when no one else holds it.
        self.answer(&done, deadline)?
            .map_err(|e| Arc::try_unwrap(e).unwrap_or_else(EventLogError::Writer))
    }

    /// Write everything still queued and stop the writer. With a store that refuses
    /// writes, the writer retries for `flush_timeout`, then writes what it holds to
    /// stderr and this returns [`EventLogError::NotStored`] saying how much.
    pub fn close(mut self) -> Result<(), EventLogError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), EventLogError> {
        // Closing the queue tells the writer to finish; it drains everything first.
        drop(self.queue.take());
        self.waker.wake();
        let Some(handle) = self.writer.take() else {
            return Ok(());
        };
        // The writer gives up on a failing store after flush_timeout, plus the attempt it
        // is in (each at most lock_timeout inside SQLite). A writer stuck beyond that
        // (a hung disk) is left behind rather than hanging the caller.
        let bound = self.flush_timeout + 2 * self.lock_timeout + Duration::from_secs(1);
        let done = self
            .writer_done
            .get_mut()
            .unwrap_or_else(|p| p.into_inner());
        match done.recv_timeout(bound) {
            Ok(r) => {
                let _ = handle.join();
                r
            }
            Err(RecvTimeoutError::Timeout) => Err(self.timed_out()),
            Err(RecvTimeoutError::Disconnected) => {
                let _ = handle.join();
                Err(EventLogError::WriterStopped)
            }
        }
    }

    /// The reader over this log.
    pub fn reader(&self) -> &LogReader {
        &self.reader
    }

    /// The records the query selects (committed ones).
    pub fn query(&self, q: &Query) -> Result<Vec<EventRecord>, EventLogError> {
        self.reader.query(q)
    }

    /// The highest record ID committed (0 when empty).
    pub fn last_record_id(&self) -> Result<u64, EventLogError> {
        self.reader.last_record_id()
    }

    /// The open flood-control windows' counts, as committed by this log's writer and any
    /// other writing into the file (see [`LogReader::pending_folds`]).
    pub fn pending_folds(&self) -> Result<Vec<crate::PendingFold>, EventLogError> {
        self.reader.pending_folds()
    }

    /// Follow new records above `after` (see [`LogReader::follow`]).
    pub fn follow(&self, query: Query, after: u64) -> Follow<'_> {
        self.reader.follow(query, after)
    }
}

impl EventLog {
    /// The queue was full: wait for room at most `outage_wait` (not at all if another
    /// emitter has just waited that long in vain), then count the record as not stored.
    #[cold]
    fn emit_when_full(&self, q: &SyncSender<Msg>, record: Msg) {
        let mut m = record;
        if !self.shared.overflowing.load(Ordering::Acquire) {
            let deadline = Instant::now() + self.outage_wait;
            let mut pause = Duration::from_micros(20);
            loop {
                self.waker.wake();
                let now = Instant::now();
                if now >= deadline || self.shared.overflowing.load(Ordering::Acquire) {
                    break;
                }
                std::thread::sleep(pause.min(deadline - now));
                pause = (pause * 2).min(Duration::from_millis(2));
                let n = self.waker.queueing();
                match q.try_send(m) {
                    Ok(()) => {
                        self.waker.queued(n, false);
                        return;
                    }
                    Err(TrySendError::Full(back)) => {
                        self.waker.not_queued();
                        m = back;
                    }
                    Err(TrySendError::Disconnected(back)) => {
                        self.waker.not_queued();
                        return self.writer_stopped(back);
                    }
                }
            }
            self.shared.overflowing.store(true, Ordering::Release);
        }
        if let Msg::Record(r) = &m {
            self.shared.count_not_stored(r);
        }
        // Make sure the writer looks at the count even if nothing else is queued later.
        let n = self.waker.queueing();
        match q.try_send(Msg::Nudge) {
            Ok(()) => self.waker.queued(n, true),
            Err(_) => self.waker.not_queued(),
        }
    }

    fn writer_stopped(&self, m: Msg) {
        if let Msg::Record(r) = m {
            eprintln!(
                "securechannel-eventlog: the writer of {} has stopped; record not stored: {}",
                self.path.display(),
                render_json(&r)
            );
        }
    }
}

impl EventSink for EventLog {
    /// Queue the record. Waits only while the queue is full, and at most `outage_wait`:
    /// then the record is counted as not stored, and a summary record written when the
    /// store accepts writes again (see [`EventLog::health`]). If the writer has stopped
    /// (it panicked), the record goes to stderr as JSON, so it is not lost silently.
    fn emit(&self, record: EventRecord) {
        let Some(q) = &self.queue else {
            eprintln!(
                "securechannel-eventlog: log closed; record not stored: {}",
                render_json(&record)
            );
            return;
        };
        let n = self.waker.queueing();
        match q.try_send(Msg::Record(record)) {
            Ok(()) => self.waker.queued(n, false),
            Err(TrySendError::Full(m)) => {
                self.waker.not_queued();
                self.emit_when_full(q, m);
            }
            Err(TrySendError::Disconnected(m)) => {
                self.waker.not_queued();
                self.writer_stopped(m);
            }
        }
    }

    fn flush(&self) {
        if let Err(e) = self.sync() {
            eprintln!(
                "securechannel-eventlog: flush of {}: {e}",
                self.path.display()
            );
        }
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
