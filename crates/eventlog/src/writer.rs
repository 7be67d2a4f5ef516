//! The writer thread: takes records from the bounded queue, runs flood control, writes
//! them in batches (one transaction per batch), applies retention.
//!
//! Batching: the writer blocks for the first record, then takes whatever else is queued
//! until the queue is empty, `max_batch` records are taken, or `batch_window` has passed,
//! and commits. So a record is committed at most `batch_window` (plus one commit) after
//! the writer took it, and under load a batch holds many records.

use crate::flood::Flood;
use crate::options::{LogOptions, Retention};
use crate::store;
use crate::{now_nanos, EventLogError};
use rusqlite::Connection;
use securechannel_events::{render_json, EventRecord};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What goes through the queue. Control messages travel in the same queue as records, so
/// a flush covers exactly the records emitted before it.
pub(crate) enum Msg {
    Record(EventRecord),
    Flush(Sender<Result<(), SharedError>>),
    Clear {
        archive: bool,
        reply: Sender<Result<Option<PathBuf>, SharedError>>,
    },
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
}

impl Shared {
    pub(crate) fn generation_handle(&self) -> Arc<AtomicU64> {
        self.generation.clone()
    }

    fn set_error(&self, e: Option<SharedError>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = e;
    }
}

pub(crate) struct Writer {
    pub(crate) conn: Option<Connection>,
    pub(crate) path: PathBuf,
    pub(crate) options: LogOptions,
    pub(crate) flood: Flood,
    pub(crate) rx: Receiver<Msg>,
    pub(crate) shared: Arc<Shared>,
    pub(crate) pending: Vec<EventRecord>,
}

/// The smallest maximum size honoured (Windows' own minimum is 64 KiB; an empty log with
/// its indexes takes about 40 KiB here).
pub(crate) const MIN_MAX_SIZE_BYTES: u64 = 128 * 1024;

/// How often a failing commit is retried at shutdown before the records are written to
/// stderr instead (so they are never silently lost).
const SHUTDOWN_RETRIES: u32 = 20;

impl Writer {
    pub(crate) fn run(mut self) {
        let window = self.options.batch_window;
        let mut disconnected = false;
        let mut shutdown_failures = 0;
        loop {
            let mut control = Vec::new();
            if self.pending.is_empty() && !disconnected {
                // Wait for work; wake up on time to end flood windows while any are open.
                let first = if self.flood.is_active() {
                    match self.rx.recv_timeout(window) {
                        Ok(m) => Some(m),
                        Err(RecvTimeoutError::Timeout) => None,
                        Err(RecvTimeoutError::Disconnected) => {
                            disconnected = true;
                            None
                        }
                    }
                } else {
                    match self.rx.recv() {
                        Ok(m) => Some(m),
                        Err(_) => {
                            disconnected = true;
                            None
                        }
                    }
                };
                if let Some(m) = first {
                    self.take(m, &mut control);
                }
            }
            let started = Instant::now();
            while !disconnected
                && control.is_empty()
                && self.pending.len() < self.options.max_batch
                && started.elapsed() < window
            {
                match self.rx.try_recv() {
                    Ok(m) => self.take(m, &mut control),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => disconnected = true,
                }
            }
            self.flood.expire(now_nanos(), &mut self.pending);
            if !control.is_empty() || disconnected {
                // Flush and shutdown: nothing counted stays unwritten.
                self.flood.drain_summaries(&mut self.pending);
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
                    Msg::Record(_) => {}
                }
            }
            if result.is_err() {
                if disconnected {
                    shutdown_failures += 1;
                    if shutdown_failures >= SHUTDOWN_RETRIES {
                        self.spill_to_stderr();
                        return;
                    }
                }
                std::thread::sleep(window);
                continue;
            }
            if disconnected && self.pending.is_empty() {
                if let Some(conn) = self.conn.take() {
                    let _ = conn.close();
                }
                return;
            }
        }
    }

    fn take(&mut self, m: Msg, control: &mut Vec<Msg>) {
        match m {
            Msg::Record(r) => self.flood.admit(r, &mut self.pending),
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
            }
            self.conn = Some(conn);
        }
        self.conn.as_mut().ok_or(EventLogError::WriterStopped)
    }

    /// Commit the pending records, then apply retention.
    fn commit(&mut self) -> Result<(), SharedError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let inserted = self
            .conn()
            .map(|_| ())
            .and_then(|()| match self.conn.as_mut() {
                Some(conn) => store::insert_batch(conn, &self.pending)
                    .map_err(|source| EventLogError::Sqlite { path, source }),
                None => Err(EventLogError::WriterStopped),
            });
        if let Err(e) = inserted {
            let e = Arc::new(e);
            self.shared.set_error(Some(e.clone()));
            return Err(e);
        }
        self.pending.clear();
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
        let retention = self.options.retention;
        let conn = self.conn()?;
        if !store::over_limit(conn, max).map_err(sqlite)? {
            return Ok(());
        }
        match retention {
            Retention::OverwriteOldest => {
                store::overwrite_oldest(conn, max).map_err(sqlite)?;
            }
            Retention::Archive => {
                self.archive()?;
            }
        }
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
        self.shared.generation.fetch_add(1, Ordering::SeqCst);
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
        tx.execute_batch("DELETE FROM events; DELETE FROM time_marks;")
            .map_err(sqlite.clone())?;
        tx.commit().map_err(sqlite)?;
        Ok(None)
    }

    /// The last resort at shutdown when the disk refuses every commit: the records go to
    /// stderr as JSON lines, so an operator still has them.
    fn spill_to_stderr(&mut self) {
        eprintln!(
            "securechannel-eventlog: {} records could not be stored in {} ({}); they follow as JSON lines",
            self.pending.len(),
            self.path.display(),
            self.shared
                .last_error
                .lock()
                .ok()
                .and_then(|e| e.as_ref().map(|e| e.to_string()))
                .unwrap_or_default()
        );
        for r in self.pending.drain(..) {
            eprintln!("{}", render_json(&r));
        }
    }
}
