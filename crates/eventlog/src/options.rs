//! How a log is kept: size limit and retention, batching, the queue, flood control, and
//! what happens while the store refuses writes.

use std::time::Duration;

pub use securechannel_events::Retention;

/// Flood control: beyond `threshold` identical events (same event ID and same data)
/// within `window`, further copies are counted instead of stored, and a summary record
/// (`fold: Some(Fold { count, first, last })`, the copies' first and last time) is
/// written when the window ends, on flush and on shutdown, stamped with the time it is
/// written. Meanwhile the counts are readable with [`crate::LogReader::pending_folds`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloodControl {
    /// Whether flood control runs at all. Off: every event is stored.
    pub enabled: bool,
    /// How many identical events are stored one by one per window before folding starts.
    pub threshold: u32,
    /// How long a window lasts, from the first event of it.
    pub window: Duration,
    /// How many distinct (event, data) pairs are tracked at once. Events beyond that are
    /// stored normally: flood control never costs unbounded memory, nor loses an event.
    /// A tracked pair costs its (ID, data) bytes plus about 130 bytes: ~25 MB for
    /// 100,000 distinct 36880s.
    pub max_tracked: usize,
}

impl Default for FloodControl {
    fn default() -> Self {
        FloodControl {
            enabled: true,
            threshold: 10,
            window: Duration::from_secs(60),
            max_tracked: 100_000,
        }
    }
}

impl FloodControl {
    /// Flood control switched off: every event is stored.
    pub fn off() -> FloodControl {
        FloodControl {
            enabled: false,
            ..FloodControl::default()
        }
    }
}

/// Everything that decides how a log is kept. `Default` gives the Windows-like defaults:
/// 20 MiB, overwrite oldest, 50 ms batch window, 8,192 queued records, flood control on;
/// and for a store that refuses writes: a 1 s lock wait, a 200 ms bounded wait for an
/// emitter, 10 s for a flush or close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// The maximum size of the log: the database's pages in use (`(page_count -
    /// freelist_count) * page_size`). The `-wal` file is not counted; it is checkpointed
    /// back into the database every 16 MiB. Values under 128 KiB are taken as 128 KiB.
    pub max_size_bytes: u64,
    /// What happens at the maximum size.
    pub retention: Retention,
    /// The longest a record the writer has taken from the queue waits before its
    /// transaction commits. After a kill -9, at most the records of the last window plus
    /// those still queued are lost; the database itself needs no repair.
    pub batch_window: Duration,
    /// The most records written in one transaction.
    pub max_batch: usize,
    /// How many records the queue between emitters and the writer holds. When it is full,
    /// the emitter waits at most `outage_wait`. The writer is woken when the queue is
    /// half full, so 8,192 (the default; ~16 ms at 500,000 records/s) keeps it busy
    /// without the memory of a deeper queue.
    pub channel_capacity: usize,
    /// Flood control.
    pub flood: FloodControl,
    /// How long the writer waits for another process's write lock on the file (another
    /// writer's commit, a few milliseconds) before a commit fails (SQLite's busy
    /// timeout); a failed commit is retried, its records kept. This bounds the time the
    /// writer spends inside SQLite per attempt, so it stays free to take records (and
    /// flushes) off the queue while another process holds the lock. Default 1 s.
    pub lock_timeout: Duration,
    /// The longest `emit` waits for room in a full queue (the writer is failing to commit,
    /// or cannot keep up). Then the record is not queued but counted as not stored (by
    /// event ID: how many, the first and last time), and a summary record of each event
    /// ID (`fold: Some(Fold { reason: FoldReason::NotStored, .. })`) is written as soon
    /// as the store accepts writes again. Once one emitter has waited this long, others
    /// that find the queue full count at once, until a commit succeeds: during an outage
    /// a handshake is delayed by at most one such wait. Default 200 ms.
    pub outage_wait: Duration,
    /// The longest `sync` (flush) and `clear` wait for the writer's answer, and closing
    /// the log retries a failing store before giving up: then the records the writer
    /// holds go to stderr as JSON lines and what was counted is reported there by event
    /// ID (and in `close`'s error). Default 10 s.
    pub flush_timeout: Duration,
    /// Run SQLite's `quick_check` when the log is opened, so a damaged log is moved aside
    /// at once rather than failing later. Reads the whole file (about 0.1 s per 20 MiB).
    pub verify_on_open: bool,
}

/// 20 MiB, the Windows default maximum size of the System log.
pub const DEFAULT_MAX_SIZE_BYTES: u64 = 20 * 1024 * 1024;

impl LogOptions {
    /// The options `settings.toml`'s `[EventLog]` table gives (its size, retention, and
    /// flood threshold and window; a threshold of 0 turns flood control off), the rest
    /// the defaults: what every program that opens the data directory's log uses (the
    /// `schannel` commands, the SSPI library).
    pub fn configured(
        max_size_bytes: u64,
        retention: Retention,
        flood_threshold: u32,
        flood_window: Duration,
    ) -> LogOptions {
        LogOptions {
            max_size_bytes,
            retention,
            flood: if flood_threshold == 0 {
                FloodControl::off()
            } else {
                FloodControl {
                    threshold: flood_threshold,
                    window: flood_window,
                    ..FloodControl::default()
                }
            },
            ..LogOptions::default()
        }
    }
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            max_size_bytes: DEFAULT_MAX_SIZE_BYTES,
            retention: Retention::OverwriteOldest,
            batch_window: Duration::from_millis(50),
            max_batch: 16_384,
            channel_capacity: 8_192,
            flood: FloodControl::default(),
            lock_timeout: Duration::from_secs(1),
            outage_wait: Duration::from_millis(200),
            flush_timeout: Duration::from_secs(10),
            verify_on_open: true,
        }
    }
}

#[cfg(test)]
mod configured_tests {
    use super::*;

    #[test]
    fn configured_takes_the_settings_and_a_zero_threshold_turns_flood_control_off() {
        let o = LogOptions::configured(1 << 20, Retention::Archive, 7, Duration::from_secs(9));
        assert_eq!(o.max_size_bytes, 1 << 20);
        assert_eq!(o.retention, Retention::Archive);
        assert!(o.flood.enabled);
        assert_eq!(
            (o.flood.threshold, o.flood.window),
            (7, Duration::from_secs(9))
        );
        assert_eq!(o.batch_window, LogOptions::default().batch_window);
        let off = LogOptions::configured(
            1 << 20,
            Retention::OverwriteOldest,
            0,
            Duration::from_secs(9),
        );
        assert!(!off.flood.enabled);
    }
}
