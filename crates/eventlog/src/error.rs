//! Errors of the event log.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What can go wrong with the event log.
#[derive(Debug)]
#[non_exhaustive]
pub enum EventLogError {
    /// The data directory could not be created, or the log file in it not created or
    /// opened (permissions, a file where a directory should be, a read-only disk).
    DataDir {
        /// The directory or file concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// SQLite failed on the log.
    Sqlite {
        /// The log file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The log is damaged and could not be moved aside (so nothing was changed).
    MoveAside {
        /// The damaged log.
        path: PathBuf,
        /// Where it was to go.
        to: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The log was written by a newer version of securechannel with another schema.
    NewerSchema {
        /// The log file.
        path: PathBuf,
        /// Its schema version.
        version: i64,
    },
    /// The writer thread has stopped; records can no longer be stored.
    WriterStopped,
    /// The file cannot serve as a log (it refuses WAL mode, or a new log could not be
    /// started after a damaged one was moved aside).
    Unusable {
        /// The log file.
        path: PathBuf,
        /// Why (SQLite's words).
        reason: String,
    },
    /// Reopening the log on the writer thread found it damaged; it was moved aside.
    MovedAside(crate::MovedAside),
    /// Retention (overwrite oldest, archive) failed after a commit; the records are
    /// committed and retention is tried again after the next one.
    Retention(Box<EventLogError>),
    /// The writer thread's failure, shared with every caller that waited on it (the
    /// records stay queued and are retried).
    Writer(Arc<EventLogError>),
    /// A query or filter that cannot be understood.
    Query(QueryError),
    /// The writer did not answer a flush, clear or close within `flush_timeout`: it is
    /// waiting on a store that refuses writes (see [`crate::EventLog::health`]). This
    /// drops nothing: the records the writer holds are retried, the others are counted.
    TimedOut {
        /// How long the caller waited.
        waited: Duration,
        /// The store's last failure, when it is failing.
        cause: Option<Arc<EventLogError>>,
        /// Records the writer holds for the store.
        held: usize,
        /// Records counted as not stored whose summary record is not written yet.
        unreported: u64,
    },
    /// Closing gave up on a store that refused writes for `flush_timeout`: the `spilled`
    /// records the writer held were written to stderr as JSON lines, and the `lost`
    /// records counted as not stored were reported there by event ID.
    NotStored {
        /// Records written to stderr instead.
        spilled: usize,
        /// Records counted as not stored (their summaries could not be written either).
        lost: u64,
        /// The store's last failure.
        cause: Option<Arc<EventLogError>>,
    },
}

impl fmt::Display for EventLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventLogError::DataDir { path, source } => write!(
                f,
                "cannot create or open the event log at {}: {source} (check that the data directory exists and is writable, or choose another with --data-dir)",
                path.display()
            ),
            EventLogError::Sqlite { path, source } => {
                write!(f, "event log {}: {source}", path.display())
            }
            EventLogError::MoveAside { path, to, source } => write!(
                f,
                "the event log {} is damaged and could not be moved aside to {}: {source}",
                path.display(),
                to.display()
            ),
            EventLogError::NewerSchema { path, version } => write!(
                f,
                "the event log {} has schema version {version}, newer than this program understands ({}); use a newer schannel or another --data-dir",
                path.display(),
                crate::store::SCHEMA_VERSION
            ),
            EventLogError::WriterStopped => {
                f.write_str("the event log's writer thread has stopped; records cannot be stored")
            }
            EventLogError::Unusable { path, reason } => {
                write!(f, "{} cannot be used as the event log: {reason}", path.display())
            }
            EventLogError::MovedAside(m) => m.fmt(f),
            EventLogError::Retention(e) => write!(f, "retention could not be applied: {e}"),
            EventLogError::Writer(e) => write!(f, "the event log could not commit: {e}"),
            EventLogError::Query(q) => q.fmt(f),
            EventLogError::TimedOut {
                waited,
                cause,
                held,
                unreported,
            } => {
                write!(
                    f,
                    "the event log's writer did not answer within {:.1} s",
                    waited.as_secs_f64()
                )?;
                if let Some(c) = cause {
                    write!(f, "; the store refuses writes: {c}")?;
                }
                write!(
                    f,
                    "; {held} records are held for it and {unreported} counted as not stored (a summary record is written when it accepts writes again)"
                )
            }
            EventLogError::NotStored {
                spilled,
                lost,
                cause,
            } => {
                write!(
                    f,
                    "the event log could not store {spilled} records (written to stderr as JSON lines instead) and {lost} records counted as not stored (reported on stderr by event ID)"
                )?;
                if let Some(c) = cause {
                    write!(f, ": {c}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for EventLogError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EventLogError::DataDir { source, .. } | EventLogError::MoveAside { source, .. } => {
                Some(source)
            }
            EventLogError::Sqlite { source, .. } => Some(source),
            EventLogError::Query(q) => Some(q),
            EventLogError::Retention(e) => Some(e.as_ref()),
            EventLogError::Writer(e) => Some(e.as_ref()),
            EventLogError::TimedOut { cause, .. } | EventLogError::NotStored { cause, .. } => cause
                .as_deref()
                .map(|e| e as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

impl From<QueryError> for EventLogError {
    fn from(q: QueryError) -> Self {
        EventLogError::Query(q)
    }
}

/// A filter or XPath query that cannot be understood. For XPath, `position` is the
/// character where the parser stopped understanding, and the display shows the query with
/// a caret under that character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// What is wrong, and what would be understood instead.
    pub message: String,
    /// The XPath query, when the error is in one.
    pub query: Option<String>,
    /// The character position (0-based) in `query` where understanding stopped.
    pub position: Option<usize>,
}

impl QueryError {
    /// An error in a filter (not in an XPath query).
    pub fn filter(message: impl Into<String>) -> QueryError {
        QueryError {
            message: message.into(),
            query: None,
            position: None,
        }
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.query, self.position) {
            (Some(q), Some(p)) => {
                write!(
                    f,
                    "unsupported query at character {}: {}\n  {}\n  {}^",
                    p + 1,
                    self.message,
                    q.chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .collect::<String>(),
                    " ".repeat(p)
                )
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for QueryError {}
