//! The durable Schannel System log.
//!
//! An SQLite file (WAL mode, mode 0600) fed by a writer thread through a bounded queue;
//! retention by size (overwrite oldest, or archive); flood control; queries by ID, level,
//! time, data field, activity, and the XPath subset Windows admins use; follow mode.
//!
//! The policies, in one place:
//! - **The provider never blocks on disk; nothing is lost silently.** Every record
//!   emitted is stored, or counted and summarised, or (a dead writer, a close that gave
//!   up) written to stderr as JSON.
//! - **Full queue:** `emit` waits for room at most `outage_wait` (200 ms). Then the
//!   record is not queued but counted as not stored, per event ID (how many, the first
//!   and last time: 25 counters, fixed memory), and once one emitter has waited in vain
//!   the others count at once until a commit succeeds, so a handshake thread is delayed
//!   by at most one such wait per outage.
//! - **Outage** (a commit fails: disk full, read-only file system, another process
//!   holding the write lock): the writer keeps the batch it holds (up to `max_batch`,
//!   16,384 records) and retries with backoff (the batch window doubling, up to 1 s),
//!   each attempt waiting at most `lock_timeout` (1 s) inside SQLite for a lock. Between
//!   attempts it keeps taking the queue, so flushes and the close are answered and the
//!   queue keeps moving: what it cannot hold it counts as not stored. A record that
//!   arrives while the store is down and there is room is kept, not counted.
//! - **Recovery:** the first commit that succeeds commits what the writer held, then one
//!   summary record per event ID counted (`fold: Some(Fold { reason:
//!   FoldReason::NotStored, .. })`: "N records of 36880 could not be stored between T1
//!   and T2"; empty data fields, its own message, `NotStored*` Data in XML,
//!   `"NotStored"` in JSON, never presented as the events themselves).
//!   [`EventLog::health`] says at any time whether the store is failing, since when,
//!   the last error, what is held and what was counted.
//! - **Durability:** a batch commits at most `batch_window` (50 ms) after the writer took
//!   its first record; a kill -9 loses that batch and what was still queued, and the file
//!   opens again without repair. `flush` waits for everything emitted before it, at most
//!   `flush_timeout` (10 s; then an error saying what is held and counted); closing (or
//!   dropping) the log writes everything; against a failing store it retries for
//!   `flush_timeout`, then writes what it holds to stderr as JSON lines and the counts by
//!   event ID, and `close` returns [`EventLogError::NotStored`].
//! - **Record IDs:** monotonic and never reused, across retention, `clear`, and into the
//!   new log after an archive (see `store.rs` for how).
//! - **Storage:** 36880s (most of a busy log) are packed up to 64 to a row, the values
//!   they share stored once per row, every other
//!   event has its own indexed row; readers merge the two in record ID order, and the
//!   view `all_events` shows them as one table to `sqlite3` (see `packed.rs`).
//! - **Retention:** past `max_size_bytes` (20 MiB), delete the oldest records, or move the
//!   file to `events-archive-<UTC time>.db` and start a new one.
//! - **Flood control:** beyond `threshold` identical events (same ID and data) within
//!   `window`, copies are counted; a summary record with `fold: Some(Fold { reason:
//!   FoldReason::Flood, .. })` says how many and the first and last copy's time, written
//!   when the window ends and on flush and shutdown. Its own time is when it is written
//!   (the window's end, or the flush), so record order is time order: a window also ends
//!   before the first record stamped at or past its end. Until then, the open windows'
//!   counts are in the log for readers in any process ([`LogReader::pending_folds`],
//!   `schannel events --pending`), updated in the transaction of the next batch when
//!   they change, and replaced by the summary in its own transaction.
//! - **Damage:** a file that is not a database, is damaged, or belongs to another program
//!   is moved to `events.db.corrupt-<UTC time>` (with its -wal/-shm), never deleted; a new
//!   log starts, and [`EventLog::moved_aside`] says so.
//!
//! ```no_run
//! use securechannel_eventlog::{EventLog, LogOptions, Query};
//! use securechannel_events::{Emitter, EventId, EventLogging};
//! use std::sync::Arc;
//!
//! let log = Arc::new(EventLog::open("schannel-data/events.db", LogOptions::default())?);
//! if let Some(moved) = log.moved_aside() {
//!     eprintln!("{moved}");
//! }
//! let emitter = Emitter::new(log.clone(), EventLogging::ALL);
//! emitter.event(EventId::FatalAlertReceived).field(46).send();
//! emitter.flush();
//! let q = Query::new().xpath("*[EventData[Data[@Name='AlertDesc']=46]]")?.count(10);
//! for r in log.query(&q)? {
//!     println!("{}", securechannel_events::render_xml(&r));
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod flood;
mod health;
mod log;
mod options;
mod packed;
mod query;
mod reader;
mod spec;
mod store;
mod writer;
mod xpath;

pub use error::{EventLogError, QueryError};
pub use health::{Health, Outage};
pub use log::{EventLog, LOG_FILE_NAME};
pub use options::{FloodControl, LogOptions, Retention, DEFAULT_MAX_SIZE_BYTES};
pub use query::{field_names, Cmp, Filter, Query};
pub use reader::{Follow, LogReader, MinuteCount, PendingFold, FOLLOW_POLL};
pub use spec::{parse_event_id, parse_when, QuerySpec};
pub use store::MovedAside;
pub use xpath::parse as parse_xpath;

use securechannel_events::UnixNanos;

/// The current time in nanoseconds since the Unix epoch.
pub(crate) fn now_nanos() -> UnixNanos {
    use std::time::{SystemTime, UNIX_EPOCH};
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_nanos().min(i64::MAX as u128) as i64,
        Err(e) => -(e.duration().as_nanos().min(i64::MAX as u128) as i64),
    }
}
