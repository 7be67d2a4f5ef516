//! The log handle: open, emit (the `EventSink`), flush, clear, close, and queries.

use crate::error::EventLogError;
use crate::flood::Flood;
use crate::options::LogOptions;
use crate::query::Query;
use crate::reader::{Follow, LogReader};
use crate::store::{self, MovedAside};
use crate::writer::{Msg, Shared, Waker, Writer};
use securechannel_events::{render_json, EventRecord, EventSink};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

/// The file name of the log in a data directory.
pub const LOG_FILE_NAME: &str = "events.db";

/// The durable System log: an SQLite file (WAL mode, mode 0600) and the writer thread
/// that fills it.
///
/// As an [`EventSink`], `emit` puts the record on a bounded queue and returns; it waits
/// only when the queue is full (`channel_capacity` records): **the emitter then waits
/// until the writer has made room. A record is never dropped.** `flush` waits until every
/// record emitted before it is committed. Dropping the log (or [`EventLog::close`])
/// writes everything still queued, flood-control counts included.
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
    shared: Arc<Shared>,
    reader: LogReader,
    moved_aside: Option<MovedAside>,
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
        let writer = Writer {
            waker: waker.clone(),
            conn: Some(conn),
            path: path.clone(),
            flood: Flood::new(options.flood),
            options,
            rx,
            shared: shared.clone(),
            pending: Vec::new(),
            size: Default::default(),
        };
        let handle = std::thread::Builder::new()
            .name("schannel-eventlog".into())
            .spawn(move || writer.run())
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
            shared,
            reader,
            moved_aside,
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

    /// Queue a control message and wake the writer, so it commits at once.
    fn send(&self, m: Msg) -> Result<(), EventLogError> {
        match &self.queue {
            Some(q) => {
                let n = self.waker.queueing();
                q.send(m).map_err(|_| EventLogError::WriterStopped)?;
                self.waker.queued(n, true);
                Ok(())
            }
            None => Err(EventLogError::WriterStopped),
        }
    }

    /// Wait until every record emitted so far is committed; the error if the commit
    /// failed (the records stay queued and the writer retries).
    pub fn sync(&self) -> Result<(), EventLogError> {
        let (ack, done) = mpsc::channel();
        self.send(Msg::Flush(ack))?;
        match done.recv() {
            Ok(r) => r.map_err(EventLogError::Writer),
            Err(_) => Err(EventLogError::WriterStopped),
        }
    }

    /// Empty the log (`wevtutil cl System`): with `archive`, the current log is moved to
    /// `events-archive-<UTC time>.db` first and its path returned; without, its records
    /// are deleted. Either way record IDs go on from where they were.
    pub fn clear(&self, archive: bool) -> Result<Option<PathBuf>, EventLogError> {
        let (reply, done) = mpsc::channel();
        self.send(Msg::Clear { archive, reply })?;
        match done.recv() {
            // The clear's own error comes back whole when no one else holds it.
            Ok(r) => r.map_err(|e| Arc::try_unwrap(e).unwrap_or_else(EventLogError::Writer)),
            Err(_) => Err(EventLogError::WriterStopped),
        }
    }

    /// Write everything still queued and stop the writer.
    pub fn close(mut self) -> Result<(), EventLogError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), EventLogError> {
        // Closing the queue tells the writer to finish; it drains everything first.
        drop(self.queue.take());
        self.waker.wake();
        match self.writer.take() {
            Some(h) => h.join().map_err(|_| EventLogError::WriterStopped),
            None => Ok(()),
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

    /// Follow new records above `after` (see [`LogReader::follow`]).
    pub fn follow(&self, query: Query, after: u64) -> Follow<'_> {
        self.reader.follow(query, after)
    }
}

impl EventSink for EventLog {
    /// Queue the record. Waits only while the queue is full (never drops). If the writer
    /// has stopped (it panicked), the record goes to stderr as JSON, so it is not lost
    /// silently.
    fn emit(&self, record: EventRecord) {
        let Some(q) = &self.queue else {
            eprintln!(
                "securechannel-eventlog: log closed; record not stored: {}",
                render_json(&record)
            );
            return;
        };
        let n = self.waker.queueing();
        match q.send(Msg::Record(record)) {
            Ok(()) => self.waker.queued(n, false),
            Err(mpsc::SendError(Msg::Record(r))) => eprintln!(
                "securechannel-eventlog: the writer of {} has stopped; record not stored: {}",
                self.path.display(),
                render_json(&r)
            ),
            Err(_) => {}
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
