//! The SQLite file: opening (and moving a damaged one aside), the schema, inserting a
//! batch, retention, archiving. Everything here runs on the caller's thread with a
//! connection the caller owns; the writer thread and the readers each have their own.

use crate::error::EventLogError;
use crate::now_nanos;
use crate::options::LogOptions;
use crate::packed::{self, BlockBuilder};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use securechannel_events::{
    format_rfc3339, ActivityId, EventId, EventRecord, Fields, FoldReason, UnixNanos,
};
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The event both indexes leave out (36880, the bulk of a busy log): their condition,
/// `event_id != 36880`, must appear verbatim in a query for SQLite to use them.
pub(crate) const UNINDEXED_ID: u16 = 36880;

/// The schema this code writes (`PRAGMA user_version`). 2 added `events.fold_reason`
/// (summaries of records that could not be stored); a version 1 log is migrated when it
/// is opened for writing (one `ALTER TABLE ... ADD COLUMN`, no rewrite).
///
/// `flood_pending` came later without a new version, on purpose: it is an optional
/// table, so a version 2 log without it is still a complete version 2 log. Code that
/// predates it reads and writes logs that have it (it never looks at the table), and
/// this code writes it into logs that lack it (`CREATE TABLE IF NOT EXISTS` in the first
/// transaction that has rows for it) and reads such logs as having no open window. A
/// version 3 would have made older readers refuse the file for a table they can ignore.
///
/// 3 added `packed` (see `packed.rs`): most 36880s are stored there, many to a row, so a
/// reader that does not know the table would miss them. A version 2 log is migrated when
/// it is opened for writing (`CREATE TABLE`; its rows stay where they are), and readers
/// of version 2 refuse a version 3 log (`EventLogError::NewerSchema`).
///
/// 4 added `packed.strings`: a block's field values, each repeated value once, its
/// records' fields their indexes (a third fewer bytes). A version 3 log gains the column
/// when it is opened for writing; its blocks are read as they are.
///
/// A log newer than this code is refused (`EventLogError::NewerSchema`) by writers, and
/// since version 4 by readers too; a reader also reads the layout again when the schema
/// changes under its connection (another process migrating the log).
pub(crate) const SCHEMA_VERSION: i64 = 4;
/// `PRAGMA application_id`: "SCHN", so `file(1)` and a reader can tell our logs apart.
const APPLICATION_ID: i64 = 0x5343_484E;
/// How long a reader waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Record IDs: assigned by the writer inside its write transaction, from the highest of
/// the table's largest ID and `meta.last_record_id` (the high-water mark, updated once
/// per batch). That is AUTOINCREMENT's guarantee (monotonic, never reused: not after
/// retention deletes, `clear`, nor in a new log after an archive, which inherits the
/// mark) without AUTOINCREMENT's per-row update of `sqlite_sequence`, which measured 15%
/// of the writer's time. The write lock makes it safe with several writer processes.
///
/// Two tables of records: 36880s without a fold or binary data, most of a busy log, are
/// packed many to a row in `packed` (see `packed.rs`, version 3), every other record has
/// its row in `events`; a record's ID says where it lies in the log whichever table holds
/// it, and `all_events` shows both as one for `sqlite3` users. In `events` the level is
/// not stored because the catalog fixes it per event ID, and a
/// level filter becomes an event ID filter. The insertion strings are one JSON array
/// (`data`, readable with `sqlite3` and `->>`), the first one also in `d0` for its
/// index: one column instead of twelve makes each insert markedly cheaper. Two indexes, chosen for write speed (each
/// index is another B-tree insert per record; the writer must keep up with floods):
/// - `events_by_id_but_36880 (event_id[, record_id])`: `--id 36887 --count 100`, newest
///   first, walks the index backwards without sorting; also every level filter that
///   leaves out Information (36880's level). Partial, as the next one is: a log's 36880s
///   are most of its records, so an index of them selects little (`--id 36880 --count N`
///   finds them in the newest rows, as `LogReader::query` first looks there), and
///   leaving them out takes the only index insert off a handshake's records (the writer's
///   instructions per handshake, two 36880s: 26.6k -> 22.6k, bench/instructions.txt). Logs created before it keep
///   their full `events_by_id`, which the same queries use;
/// - `events_by_first_field (event_id, d0)`: a data-field filter on a first field
///   (AlertDesc of 36887/36888, ErrorCode of 36876-36879, Protocol of 36874, Name of
///   36884). Partial: not for 36880, the bulk of a busy log, whose first field (Type,
///   client or server) selects half of them anyway; that alone takes a quarter off the
///   writer's cost per record. Queries repeat the index's condition so SQLite uses it.
///
/// Time filters use `time_marks` instead of an index: one row per span of up to
/// `MARK_SPAN` consecutive records (extended by each commit), with the span's record ID
/// range and its earliest and latest time. `--since t` becomes a record ID range (from
/// the first span whose latest time is at or after t), exact even when times are out of
/// order, at the cost of one row update per commit instead of one index insert per
/// record. Activity filters have no index either (a random-GUID index alone would halve
/// the write rate): each span carries a Bloom filter of the activity IDs of its records
/// (`activities`, see [`ActivityBloom`]), valid for `activities_records` records. A
/// query for one activity reads the spans' filters and scans only the record ID ranges of
/// the spans that may hold it: a connection's events are close together, so usually one.
/// A span whose filter is missing (a log written before the filters, or by a writer that
/// predates them and extended the span: its `records` then differ from
/// `activities_records`) is always scanned. The two columns are optional, as
/// `flood_pending` is: a writer adds them to a version 2 log that lacks them.
///
/// `flood_pending` (see [`FLOOD_PENDING`]) is the writers' snapshot of flood control's
/// open windows, for readers in other processes.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    record_id   INTEGER PRIMARY KEY,
    time        INTEGER NOT NULL,
    event_id    INTEGER NOT NULL,
    computer    TEXT NOT NULL,
    process_id  INTEGER NOT NULL,
    thread_id   INTEGER NOT NULL,
    activity_id BLOB,
    d0          TEXT,
    data        TEXT NOT NULL,
    binary      BLOB,
    fold_count  INTEGER,
    fold_first  INTEGER,
    fold_last   INTEGER,
    fold_reason INTEGER
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS time_marks (
    first_id    INTEGER PRIMARY KEY,
    last_id     INTEGER NOT NULL,
    min_time    INTEGER NOT NULL,
    max_time    INTEGER NOT NULL,
    records     INTEGER NOT NULL,
    activities  BLOB,
    activities_records INTEGER
);
CREATE INDEX IF NOT EXISTS events_by_id_but_36880 ON events(event_id) WHERE event_id != 36880;
CREATE INDEX IF NOT EXISTS events_by_first_field ON events(event_id, d0) WHERE event_id != 36880;
";

/// The copies flood control has counted and not yet written as a summary, one row per
/// open window that folded something, so that a reader in another process sees them
/// before the summary exists. Each writer keeps its own rows (`writer`: random per open
/// log; `row`: per fold) in the transaction of a batch, only when its counts changed:
/// upserted as they grow, deleted in the transaction that writes their summary. `data`
/// is the JSON array of `events.data`; times are ns since the Unix epoch.
///
/// Bounded by what flood control tracks (`max_tracked` pairs per writer). A writer that
/// was killed leaves its rows behind: their `window_end` passes without a summary, and
/// the next writer that updates the table deletes rows overdue by [`PENDING_OVERDUE`].
const FLOOD_PENDING: &str = "
CREATE TABLE IF NOT EXISTS flood_pending (
    writer      INTEGER NOT NULL,
    row         INTEGER NOT NULL,
    process_id  INTEGER NOT NULL,
    event_id    INTEGER NOT NULL,
    data        TEXT NOT NULL,
    count       INTEGER NOT NULL,
    first       INTEGER NOT NULL,
    last        INTEGER NOT NULL,
    window_end  INTEGER NOT NULL,
    PRIMARY KEY (writer, row)
) WITHOUT ROWID;
";

/// A row of `flood_pending` whose window ended this long ago is a stopped writer's (a
/// running one writes the summary and deletes the row within a batch window, or as soon
/// as a failing store takes writes again): the next writer to update the table deletes
/// it.
pub(crate) const PENDING_OVERDUE: Duration = Duration::from_secs(60);

const UPSERT_PENDING: &str = "INSERT OR REPLACE INTO flood_pending (writer, row, process_id, event_id, data, count, first, last, window_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// What one writer's `flood_pending` rows lack since its last commit (from flood
/// control): written in the transaction of the next batch.
pub(crate) struct PendingChanges<'a> {
    /// The writer's ID in `flood_pending.writer`.
    pub(crate) writer: i64,
    /// Its process.
    pub(crate) process_id: u32,
    /// Delete all of the writer's rows first (every summary was written).
    pub(crate) clear: bool,
    /// Rows whose summary was written.
    pub(crate) ended: &'a [u64],
    /// Rows to write (new or grown).
    pub(crate) rows: Vec<PendingRow<'a>>,
}

/// One open window's count, as written into `flood_pending`.
pub(crate) struct PendingRow<'a> {
    pub(crate) row: u64,
    pub(crate) event_id: EventId,
    pub(crate) data: &'a Fields,
    pub(crate) count: u64,
    pub(crate) first: UnixNanos,
    pub(crate) last: UnixNanos,
    pub(crate) window_end: UnixNanos,
}

const INSERT: &str = "INSERT INTO events (record_id, time, event_id, computer, process_id, thread_id, activity_id, d0, data, binary, fold_count, fold_first, fold_last, fold_reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// `events.fold_reason` of a summary that stands for records that could not be stored
/// (NULL, as in version 1 logs, is flood control's).
pub(crate) const FOLD_REASON_NOT_STORED: i64 = 1;

/// The highest record ID ever assigned: the largest of the tables' and the mark's.
const LAST_ASSIGNED: &str = "SELECT max(ifnull((SELECT max(record_id) FROM events), 0), ifnull((SELECT last_id FROM packed WHERE first_id = (SELECT max(first_id) FROM packed)), 0), ifnull((SELECT value FROM meta WHERE key = 'last_record_id'), 0))";

/// Raise the high-water mark (never lowers it).
const RAISE_MARK: &str = "INSERT INTO meta (key, value) VALUES ('last_record_id', ?1) ON CONFLICT (key) DO UPDATE SET value = max(value, excluded.value)";

/// Column 2 (`event_id`) of a row of `events` or `packed` as a catalog event ID; `whose`
/// names the row for the error ("record 7", "the packed records from 7").
pub(crate) fn event_id_column(
    row: &rusqlite::Row<'_>,
    whose: impl FnOnce() -> String,
) -> rusqlite::Result<EventId> {
    let raw: i64 = row.get(2)?;
    u32::try_from(raw)
        .ok()
        .and_then(|v| EventId::try_from(v).ok())
        .ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Integer,
                format!("{} has event ID {raw}, not a Schannel event", whose()).into(),
            )
        })
}

/// Column 3 (`computer`) as `computer`, reused while consecutive rows name the same one
/// (one allocation per query, not per row).
pub(crate) fn computer_column(
    row: &rusqlite::Row<'_>,
    computer: &mut Arc<str>,
) -> rusqlite::Result<()> {
    let name = row.get_ref(3)?.as_str()?;
    if *computer.as_ref() != *name {
        *computer = Arc::from(name);
    }
    Ok(())
}

/// A damaged or foreign `events.db` that was moved aside when the log was opened, so a new
/// log could start. The caller shows it to the operator (the CLI prints it on stderr).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MovedAside {
    /// The log's path (now a new, empty log).
    pub original: PathBuf,
    /// Where the damaged file went.
    pub moved_to: PathBuf,
    /// Its `-wal` / `-shm` files, moved alongside, if there were any.
    pub also_moved: Vec<PathBuf>,
    /// Why it was considered damaged (SQLite's words).
    pub reason: String,
}

impl fmt::Display for MovedAside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the event log {} could not be read ({}); it was moved aside to {}",
            self.original.display(),
            self.reason,
            self.moved_to.display()
        )?;
        if !self.also_moved.is_empty() {
            let names: Vec<String> = self
                .also_moved
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            write!(f, " (with {})", names.join(", "))?;
        }
        write!(
            f,
            " and a new, empty log was started at {}; nothing was deleted",
            self.original.display()
        )
    }
}

/// Why opening failed: a damaged file (to be moved aside) or anything else (reported).
enum OpenFailure {
    Damaged(String),
    Other(EventLogError),
}

fn sqlite_err(path: &Path) -> impl Fn(rusqlite::Error) -> EventLogError + '_ {
    move |source| EventLogError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

/// The `-wal` and `-shm` companions of a database path.
pub(crate) fn companions(path: &Path) -> [PathBuf; 2] {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let mut shm = path.as_os_str().to_owned();
    shm.push("-shm");
    [PathBuf::from(wal), PathBuf::from(shm)]
}

/// Open (creating if needed) the log at `path` for writing. A file that is not a
/// database, a damaged database, or another program's database is moved aside and a new
/// log started; the returned [`MovedAside`] says so.
pub(crate) fn open_for_writing(
    path: &Path,
    options: &LogOptions,
) -> Result<(Connection, Option<MovedAside>), EventLogError> {
    prepare_file(path)?;
    let opened = open_for_writing_unsized(path, options)?;
    size_wal(&opened.0, options.max_size_bytes).map_err(sqlite_err(path))?;
    Ok(opened)
}

/// The write-ahead log in proportion to the log's maximum size: checkpointed every
/// quarter of it (between 1 MiB and 16 MiB), and truncated back to that after a
/// checkpoint, so the files on disk stay near `max_size` however long the log is written.
fn size_wal(conn: &Connection, max_size: u64) -> rusqlite::Result<()> {
    let pages = (max_size / 8192 / 4).clamp(128, 2048);
    conn.execute_batch(&format!(
        "PRAGMA wal_autocheckpoint={pages}; PRAGMA journal_size_limit={};",
        pages * 8192
    ))
}

fn open_for_writing_unsized(
    path: &Path,
    options: &LogOptions,
) -> Result<(Connection, Option<MovedAside>), EventLogError> {
    match open_checked(path, options.verify_on_open, options.lock_timeout) {
        Ok(conn) => Ok((conn, None)),
        Err(OpenFailure::Other(e)) => Err(e),
        Err(OpenFailure::Damaged(reason)) => {
            let moved = move_aside(path, reason)?;
            prepare_file(path)?;
            match open_checked(path, false, options.lock_timeout) {
                Ok(conn) => Ok((conn, Some(moved))),
                Err(OpenFailure::Other(e)) => Err(e),
                Err(OpenFailure::Damaged(reason)) => Err(EventLogError::Unusable {
                    path: path.to_path_buf(),
                    reason: format!("a new log could not be started: {reason}"),
                }),
            }
        }
    }
}

/// Create the directory and an empty log file with mode 0600 (SQLite gives the -wal and
/// -shm files the database file's mode), or tighten an existing log's mode to 0600.
fn prepare_file(path: &Path) -> Result<(), EventLogError> {
    let data_dir_err = |p: &Path| {
        let p = p.to_path_buf();
        move |source| EventLogError::DataDir { path: p, source }
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(data_dir_err(dir))?;
    }
    match fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(data_dir_err(path)(e)),
    }
    for p in std::iter::once(path.to_path_buf()).chain(companions(path)) {
        match fs::metadata(&p) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                fs::set_permissions(&p, fs::Permissions::from_mode(0o600))
                    .map_err(data_dir_err(&p))?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn is_damage(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

fn classify(path: &Path) -> impl Fn(rusqlite::Error) -> OpenFailure + '_ {
    move |e| {
        if is_damage(&e) {
            OpenFailure::Damaged(e.to_string())
        } else {
            OpenFailure::Other(sqlite_err(path)(e))
        }
    }
}

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Look at the file's header before SQLite touches it: a file that is not a database at
/// all is recognised without opening it, so SQLite cannot delete or rewrite its -wal.
fn check_header(path: &Path) -> Result<(), OpenFailure> {
    use std::io::Read;
    let mut head = Vec::with_capacity(100);
    let file = fs::File::open(path).map_err(|source| {
        OpenFailure::Other(EventLogError::DataDir {
            path: path.to_path_buf(),
            source,
        })
    })?;
    file.take(100).read_to_end(&mut head).map_err(|source| {
        OpenFailure::Other(EventLogError::DataDir {
            path: path.to_path_buf(),
            source,
        })
    })?;
    // Empty: a new log (in WAL mode the first pages may still be in the -wal file).
    if head.is_empty() {
        return Ok(());
    }
    if head.len() < 100 || !head.starts_with(SQLITE_MAGIC) {
        return Err(OpenFailure::Damaged(
            "it is not an SQLite database: its header is not \"SQLite format 3\"".to_string(),
        ));
    }
    Ok(())
}

/// Check a log without changing it: a read-only connection never checkpoints nor
/// deletes the -wal file, so a damaged log is moved aside exactly as it was found.
fn verify(path: &Path, quick_check: bool) -> Result<(), OpenFailure> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(classify(path))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(classify(path))?;
    if quick_check {
        let verdict: String = conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(classify(path))?;
        if verdict != "ok" {
            return Err(OpenFailure::Damaged(format!(
                "SQLite's quick_check: {verdict}"
            )));
        }
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(classify(path))?;
    if version == 0 {
        let foreign: Option<String> = conn
            .query_row(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT IN ('events', 'meta', 'time_marks', 'flood_pending', 'packed') LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(classify(path))?;
        if let Some(table) = foreign {
            return Err(OpenFailure::Damaged(format!(
                "it is an SQLite database of another program (it has a table '{table}'), not an event log"
            )));
        }
    }
    Ok(())
}

/// Open, check (optionally), set WAL, and create or validate the schema.
fn open_checked(
    path: &Path,
    check: bool,
    lock_timeout: Duration,
) -> Result<Connection, OpenFailure> {
    check_header(path)?;
    if fs::metadata(path).map(|m| m.len() > 0).unwrap_or(false) {
        verify(path, check)?;
    }
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(classify(path))?;
    conn.busy_timeout(lock_timeout).map_err(classify(path))?;
    // 8 KiB pages: fewer page splits per record than the 4 KiB default (measured ~8%
    // less writer CPU). Only takes effect on a new, empty file.
    conn.execute_batch("PRAGMA page_size=8192;")
        .map_err(classify(path))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(classify(path))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenFailure::Other(EventLogError::Unusable {
            path: path.to_path_buf(),
            reason: format!("it could not be switched to WAL mode (it is in {mode} mode)"),
        }));
    }
    // NORMAL in WAL mode: a commit survives the process being killed (it is in the -wal
    // file); only a power loss can lose the last commits. The database stays consistent.
    // wal_autocheckpoint: copy the -wal back every 2048 pages (16 MiB) instead of 1000,
    // so pages written many times (index leaves) are copied fewer times (~7% less CPU);
    // a writer then sizes it to its maximum size (`size_wal`).
    conn.execute_batch(
        "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384; PRAGMA wal_autocheckpoint=2048;",
    )
    .map_err(classify(path))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(classify(path))?;
    if version > SCHEMA_VERSION {
        return Err(OpenFailure::Other(EventLogError::NewerSchema {
            path: path.to_path_buf(),
            version,
        }));
    }
    if version == 0 {
        let script = format!(
            "BEGIN IMMEDIATE; {SCHEMA} {FLOOD_PENDING} {} PRAGMA user_version={SCHEMA_VERSION}; PRAGMA application_id={APPLICATION_ID}; COMMIT;",
            packed::SCHEMA
        );
        conn.execute_batch(&script).map_err(classify(path))?;
    } else if version < SCHEMA_VERSION {
        migrate(&mut conn).map_err(classify(path))?;
    }
    add_activity_filters(&mut conn).map_err(classify(path))?;
    Ok(conn)
}

/// Give `time_marks` its activity filter columns if it lacks them (a version 2 log from
/// before them), under the write lock; spans already there keep no filter and are
/// scanned by activity queries.
fn add_activity_filters(conn: &mut Connection) -> rusqlite::Result<()> {
    if has_activity_filters(conn)? {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if !has_activity_filters(&tx)? {
        tx.execute_batch(
            "ALTER TABLE time_marks ADD COLUMN activities BLOB; ALTER TABLE time_marks ADD COLUMN activities_records INTEGER;",
        )?;
    }
    tx.commit()
}

/// Whether `time_marks` has the activity filter columns.
pub(crate) fn has_activity_filters(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) = 2 FROM pragma_table_info('time_marks') WHERE name IN ('activities', 'activities_records')",
        [],
        |r| r.get(0),
    )
}

/// Bring a version 1, 2 or 3 log to the current schema, under the write lock (another
/// process may be migrating the same file: the version is read again inside the
/// transaction). Nothing is rewritten: version 2's records stay in `events`, version 3's
/// blocks keep their values inline.
fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 1 {
        tx.execute_batch("ALTER TABLE events ADD COLUMN fold_reason INTEGER;")?;
    }
    if version == 3 {
        tx.execute_batch(packed::UPGRADE_3)?;
    }
    if (1..SCHEMA_VERSION).contains(&version) {
        tx.execute_batch(&format!(
            "{} PRAGMA user_version={SCHEMA_VERSION};",
            packed::SCHEMA
        ))?;
    }
    tx.commit()
}

/// The columns a reader selects from `packed` ([`packed::COLUMNS`], or
/// [`packed::COLUMNS_3`] in a version 3 log, whose blocks have no `strings`); None when
/// there is no such table (version 2). A reader may open a log that no writer has
/// migrated yet.
pub(crate) fn packed_columns(conn: &Connection) -> rusqlite::Result<Option<&'static str>> {
    let columns: i64 = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('packed')",
        [],
        |r| r.get(0),
    )?;
    if columns == 0 {
        return Ok(None);
    }
    let strings: bool = conn.query_row(
        "SELECT count(*) > 0 FROM pragma_table_info('packed') WHERE name = 'strings'",
        [],
        |r| r.get(0),
    )?;
    Ok(Some(if strings {
        packed::COLUMNS
    } else {
        packed::COLUMNS_3
    }))
}

/// Open the log for reading only. Never creates, never moves anything aside.
pub(crate) fn open_for_reading(path: &Path) -> Result<Connection, EventLogError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite_err(path))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite_err(path))?;
    conn.execute_batch("PRAGMA query_only=1; PRAGMA cache_size=-16384;")
        .map_err(sqlite_err(path))?;
    Ok(conn)
}

/// A UTC time for file names: `2026-11-25T13-12-00.123456789Z` (no colons, which some
/// file systems and tools refuse).
pub(crate) fn file_stamp() -> String {
    format_rfc3339(now_nanos(), 9).replace(':', "-")
}

/// `base`, or `base-2`, `base-3`, ... whichever does not exist yet.
fn unused(base: PathBuf, suffix: &str) -> PathBuf {
    let mut candidate = PathBuf::from(format!("{}{suffix}", base.display()));
    let mut n = 2;
    while candidate.exists() || companions(&candidate).iter().any(|c| c.exists()) {
        candidate = PathBuf::from(format!("{}-{n}{suffix}", base.display()));
        n += 1;
    }
    candidate
}

/// Rename the database and its companions to `to` (and `to-wal`, `to-shm`).
fn rename_with_companions(path: &Path, to: &Path) -> Result<Vec<PathBuf>, EventLogError> {
    fs::rename(path, to).map_err(|source| EventLogError::MoveAside {
        path: path.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })?;
    let mut moved = Vec::new();
    for (from, dest) in companions(path).into_iter().zip(companions(to)) {
        if from.exists() {
            fs::rename(&from, &dest).map_err(|source| EventLogError::MoveAside {
                path: from.clone(),
                to: dest.clone(),
                source,
            })?;
            moved.push(dest);
        }
    }
    Ok(moved)
}

fn move_aside(path: &Path, reason: String) -> Result<MovedAside, EventLogError> {
    let to = unused(
        PathBuf::from(format!("{}.corrupt-{}", path.display(), file_stamp())),
        "",
    );
    let also_moved = rename_with_companions(path, &to)?;
    Ok(MovedAside {
        original: path.to_path_buf(),
        moved_to: to,
        also_moved,
        reason,
    })
}

/// Write a batch in one transaction, with flood control's snapshot changes if there are
/// any (`now`: the writer's clock, to find overdue rows). Either all of it is committed
/// or none is.
pub(crate) fn insert_batch(
    conn: &mut Connection,
    records: &[EventRecord],
    pending: Option<&PendingChanges<'_>>,
    now: UnixNanos,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if !records.is_empty() {
        // Under the write lock: no other writer can take the same IDs.
        // Statements a commit runs are cached: preparing one costs tens of microseconds,
        // a noticeable share per record when a batch window holds a few hundred.
        let mut id: i64 = tx
            .prepare_cached(LAST_ASSIGNED)?
            .query_row([], |r| r.get(0))?;
        // One row per statement: measured faster than multi-row VALUES, which SQLite
        // runs through a co-routine.
        let mut stmt = tx.prepare_cached(INSERT)?;
        let mut json = String::with_capacity(512);
        let mut prev = None;
        // 36880s go to blocks (packed.rs), the rest to `events`, in one pass so that
        // every record keeps the ID of its place in the batch.
        let mut block: Option<BlockBuilder<'_>> = None;
        let mut buffers = packed::Buffers::default();
        for r in records {
            id += 1;
            if packed::packable(r) {
                if let Some(b) = block.take_if(|b| !b.takes(r)) {
                    buffers = b.insert(&tx)?;
                }
                block
                    .get_or_insert_with(|| BlockBuilder::new(id, r, std::mem::take(&mut buffers)))
                    .push(id, r);
                continue;
            }
            bind_record(&mut stmt, id, r, prev, &mut json)?;
            stmt.raw_execute()?;
            prev = Some(r);
        }
        if let Some(b) = block {
            b.insert(&tx)?;
        }
        tx.prepare_cached(RAISE_MARK)?.execute([id])?;
        // Spans of at most MARK_SPAN records, so that each activity filter stays sparse
        // even when one commit holds a flood's worth of records.
        let mut span_first = id - records.len() as i64 + 1;
        for chunk in records.chunks(MARK_SPAN as usize) {
            let mut activities = ActivityBloom::new();
            let (mut min, mut max) = (i64::MAX, i64::MIN);
            for r in chunk {
                min = min.min(r.time);
                max = max.max(r.time);
                if let Some(a) = r.activity_id {
                    activities.insert(a);
                }
            }
            let span = Span {
                first: span_first,
                last: span_first + chunk.len() as i64 - 1,
                min,
                max,
                count: chunk.len() as i64,
            };
            span_first = span.last + 1;
            mark_span(&tx, span, activities)?;
        }
    }
    if let Some(p) = pending {
        write_pending(&tx, p, now)?;
    }
    tx.commit()
}

/// Apply one writer's snapshot changes to `flood_pending` (creating it in a version 2
/// log that predates it), and delete other writers' overdue rows.
fn write_pending(
    tx: &rusqlite::Transaction<'_>,
    p: &PendingChanges<'_>,
    now: UnixNanos,
) -> rusqlite::Result<()> {
    tx.execute_batch(FLOOD_PENDING)?;
    let overdue = now.saturating_sub(PENDING_OVERDUE.as_nanos() as i64);
    if p.clear {
        tx.prepare_cached("DELETE FROM flood_pending WHERE writer = ?1 OR window_end < ?2")?
            .execute(rusqlite::params![p.writer, overdue])?;
    } else {
        tx.prepare_cached("DELETE FROM flood_pending WHERE window_end < ?1")?
            .execute([overdue])?;
        let mut delete =
            tx.prepare_cached("DELETE FROM flood_pending WHERE writer = ?1 AND row = ?2")?;
        for &row in p.ended {
            delete.execute(rusqlite::params![p.writer, row as i64])?;
        }
    }
    let mut upsert = tx.prepare_cached(UPSERT_PENDING)?;
    let mut json = String::with_capacity(256);
    for r in &p.rows {
        json.clear();
        encode_json_array(r.data, &mut json);
        upsert.execute(rusqlite::params![
            p.writer,
            r.row as i64,
            p.process_id,
            r.event_id.value(),
            json,
            r.count.min(i64::MAX as u64) as i64,
            r.first,
            r.last,
            r.window_end,
        ])?;
    }
    Ok(())
}

/// The open windows' counts in `flood_pending`, by event ID and then first copy; none in
/// a log without the table. A row whose data or event ID this code cannot read is
/// skipped: it is advisory, and the summary that replaces it is a normal record.
pub(crate) fn read_pending(conn: &Connection) -> rusqlite::Result<Vec<crate::PendingFold>> {
    let has_table: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'flood_pending'",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(
        "SELECT event_id, data, count, first, last, window_end, process_id FROM flood_pending ORDER BY event_id, first, writer, row",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, i64>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, data, count, first, last, window_end, pid) = row?;
        let Some(event_id) = u32::try_from(id)
            .ok()
            .and_then(|v| EventId::try_from(v).ok())
        else {
            continue;
        };
        let Ok(data) = serde_json::from_str::<Vec<String>>(&data) else {
            continue;
        };
        out.push(crate::PendingFold {
            event_id,
            data,
            count: count.max(0) as u64,
            first,
            last,
            window_end,
            process_id: pid.clamp(0, u32::MAX as i64) as u32,
        });
    }
    Ok(out)
}

/// How many records one `time_marks` row covers at most.
const MARK_SPAN: i64 = 2048;

/// Records `first..=last`, `count` of them, with times within `min..=max`.
struct Span {
    first: i64,
    last: i64,
    min: i64,
    max: i64,
    count: i64,
}

/// Record a committed span (and the activities of its records): extend the latest span
/// while it is small, else start a new one.
fn mark_span(
    tx: &rusqlite::Transaction<'_>,
    span: Span,
    mut activities: ActivityBloom,
) -> rusqlite::Result<()> {
    // The latest span: its first ID, its records, its filter and how many it covers.
    type Latest = (i64, i64, Option<Vec<u8>>, Option<i64>);
    let latest: Option<Latest> = tx
        .prepare_cached(
            "SELECT first_id, records, activities, activities_records FROM time_marks ORDER BY first_id DESC LIMIT 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    match latest {
        Some((first_id, records, old, old_records)) if records + span.count <= MARK_SPAN => {
            // The filter stays valid only if it covered every record of the span so far.
            let (bits, covered) = match (old.and_then(ActivityBloom::from_bytes), old_records) {
                (Some(old), Some(n)) if n == records => {
                    activities.union(&old);
                    (Some(activities.into_bytes()), Some(records + span.count))
                }
                _ => (None, None),
            };
            tx.prepare_cached(
                "UPDATE time_marks SET last_id = max(last_id, ?2), min_time = min(min_time, ?3), max_time = max(max_time, ?4), records = records + ?5, activities = ?6, activities_records = ?7 WHERE first_id = ?1",
            )?
            .execute(rusqlite::params![
                first_id, span.last, span.min, span.max, span.count, bits, covered
            ])?;
        }
        _ => {
            tx.prepare_cached(
                "INSERT INTO time_marks (first_id, last_id, min_time, max_time, records, activities, activities_records) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5)",
            )?
            .execute(rusqlite::params![
                span.first,
                span.last,
                span.min,
                span.max,
                span.count,
                activities.into_bytes()
            ])?;
        }
    }
    Ok(())
}

/// A Bloom filter of activity IDs: [`ActivityBloom::BITS`] bits, [`ActivityBloom::PROBES`]
/// probes from one 64-bit mix of the GUID. With a span's 2,048 records it answers "maybe"
/// for an absent activity about once in 400 spans. Part of the file format: the hash
/// and the sizes must never change (a log's filters are read by later versions).
#[derive(Clone)]
pub(crate) struct ActivityBloom(Vec<u8>);

impl ActivityBloom {
    /// Bits per filter (4 KiB).
    pub(crate) const BITS: usize = 32 * 1024;
    /// Bits set per activity.
    const PROBES: u32 = 4;

    fn new() -> ActivityBloom {
        ActivityBloom(vec![0; Self::BITS / 8])
    }

    /// A stored filter; `None` when its size is not this format's.
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Option<ActivityBloom> {
        (bytes.len() == Self::BITS / 8).then_some(ActivityBloom(bytes))
    }

    fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// The bit positions of `a`: 15-bit slices of a 64-bit mix (splitmix64's finaliser)
    /// of the GUID's two halves.
    fn probes(a: ActivityId) -> impl Iterator<Item = usize> {
        let mix = |mut x: u64| {
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        let h = mix((a.0 as u64) ^ mix((a.0 >> 64) as u64));
        (0..Self::PROBES).map(move |k| ((h >> (15 * k)) as usize) % Self::BITS)
    }

    fn insert(&mut self, a: ActivityId) {
        for bit in Self::probes(a) {
            self.0[bit / 8] |= 1 << (bit % 8);
        }
    }

    fn union(&mut self, other: &ActivityBloom) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    /// Whether `a` may be among the activities inserted (never false for one that is).
    #[cfg(test)]
    pub(crate) fn may_hold(&self, a: ActivityId) -> bool {
        Self::bits_hold(&self.0, a)
    }

    /// [`ActivityBloom::may_hold`] on a stored filter's bytes (of the right length).
    fn bits_hold(bits: &[u8], a: ActivityId) -> bool {
        Self::probes(a).all(|bit| bits[bit / 8] & (1 << (bit % 8)) != 0)
    }
}

/// The record ID ranges that may hold records of activity `a`, merged and in order, or
/// `None` when the log cannot tell (no filter columns: every record may). A range is a
/// span whose filter says "maybe" or that has no valid filter.
pub(crate) fn activity_ranges(
    conn: &Connection,
    a: ActivityId,
) -> rusqlite::Result<Option<Vec<(i64, i64)>>> {
    if !has_activity_filters(conn)? {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT first_id, last_id, records, activities, activities_records FROM time_marks ORDER BY first_id",
    )?;
    let mut rows = stmt.query([])?;
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    while let Some(row) = rows.next()? {
        let (first, last, records): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let valid = row.get::<_, Option<i64>>(4)? == Some(records);
        let maybe = !valid
            || match row.get_ref(3)? {
                rusqlite::types::ValueRef::Blob(b) if b.len() == ActivityBloom::BITS / 8 => {
                    ActivityBloom::bits_hold(b, a)
                }
                _ => true,
            };
        if maybe {
            match ranges.last_mut() {
                Some(r) if r.1 + 1 >= first => r.1 = r.1.max(last),
                _ => ranges.push((first, last)),
            }
        }
    }
    Ok(Some(ranges))
}

/// Bind record `r` with ID `id` to the insert statement. `prev`: the record bound just
/// before in the same batch; SQLite keeps a statement's bindings from one execution to
/// the next (rusqlite clears them only when the statement goes back to its cache, after
/// the batch), so a column whose value is the same as `prev`'s (the computer, the process,
/// usually the thread and the empty fold columns) is not bound again: binding costs
/// more than comparing (measured with callgrind, bench/callgrind.sh).
fn bind_record(
    stmt: &mut rusqlite::CachedStatement<'_>,
    id: i64,
    r: &EventRecord,
    prev: Option<&EventRecord>,
    json: &mut String,
) -> rusqlite::Result<()> {
    let same = |f: &dyn Fn(&EventRecord) -> bool| prev.is_some_and(f);
    stmt.raw_bind_parameter(1, id)?;
    stmt.raw_bind_parameter(2, r.time)?;
    if !same(&|p| p.event_id == r.event_id) {
        stmt.raw_bind_parameter(3, r.event_id.value())?;
    }
    if !same(&|p| Arc::ptr_eq(&p.computer, &r.computer) || p.computer == r.computer) {
        stmt.raw_bind_parameter(4, &*r.computer)?;
    }
    if !same(&|p| p.process_id == r.process_id) {
        stmt.raw_bind_parameter(5, r.process_id)?;
    }
    if !same(&|p| p.thread_id == r.thread_id) {
        stmt.raw_bind_parameter(6, r.thread_id)?;
    }
    if !same(&|p| p.activity_id.is_none() && r.activity_id.is_none()) {
        let activity = r.activity_id.map(|a| a.0.to_be_bytes());
        stmt.raw_bind_parameter(7, activity.as_ref().map(|a| &a[..]))?;
    }
    stmt.raw_bind_parameter(8, r.data.first())?;
    json.clear();
    encode_json_array(&r.data, json);
    stmt.raw_bind_parameter(9, json.as_str())?;
    if !same(&|p| p.binary.is_none() && r.binary.is_none()) {
        stmt.raw_bind_parameter(10, r.binary.as_deref())?;
    }
    if !same(&|p| p.fold.is_none() && r.fold.is_none()) {
        stmt.raw_bind_parameter(11, r.fold.map(|f| f.count as i64))?;
        stmt.raw_bind_parameter(12, r.fold.map(|f| f.first))?;
        stmt.raw_bind_parameter(13, r.fold.map(|f| f.last))?;
        let reason = match r.fold.map(|f| f.reason) {
            Some(FoldReason::NotStored) => Some(FOLD_REASON_NOT_STORED),
            Some(FoldReason::Flood) | None => None,
        };
        stmt.raw_bind_parameter(14, reason)?;
    }
    Ok(())
}

/// `["a","b"]`, escaped as JSON requires (this is the hot path of the writer, so no
/// serializer machinery).
pub(crate) fn encode_json_array(values: &Fields, out: &mut String) {
    out.reserve(2 + values.text_len() + 3 * values.len());
    // One scan of all values together: almost no record has anything to escape.
    let plain = !needs_escape(values.concatenated().as_bytes());
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        if !plain && needs_escape(v.as_bytes()) {
            escape_into(v, out);
        } else {
            out.push_str(v);
        }
        out.push('"');
    }
    out.push(']');
}

/// `"v"`, escaped as JSON requires.
pub(crate) fn push_json_string(v: &str, out: &mut String) {
    out.push('"');
    if needs_escape(v.as_bytes()) {
        escape_into(v, out);
    } else {
        out.push_str(v);
    }
    out.push('"');
}

/// Whether any byte of `b` must be escaped in a JSON string. Branch-free over blocks of
/// 16 bytes, which the compiler vectorises: almost no field needs escaping, and a
/// byte-at-a-time scan was an eighth of the writer's instructions.
fn needs_escape(b: &[u8]) -> bool {
    let escape = |c: u8| (c < 0x20) | (c == b'"') | (c == b'\\');
    let mut blocks = b.chunks_exact(16);
    for block in &mut blocks {
        if block.iter().fold(false, |any, &c| any | escape(c)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&c| escape(c))
}

fn escape_into(v: &str, out: &mut String) {
    use std::fmt::Write;
    // Bytes, not chars: every byte JSON escapes is ASCII, and a UTF-8 continuation or
    // lead byte is never one of them, so slicing at those positions is safe.
    let mut start = 0;
    for (j, &b) in v.as_bytes().iter().enumerate() {
        if b != b'"' && b != b'\\' && b >= 0x20 {
            continue;
        }
        out.push_str(&v[start..j]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            _ => {
                let _ = write!(out, "\\u{:04x}", b);
            }
        }
        start = j + 1;
    }
    out.push_str(&v[start..]);
}

/// The bytes the log's records and indexes occupy: pages in use times the page size.
pub(crate) fn used_bytes(conn: &Connection) -> rusqlite::Result<u64> {
    let (pages, free, size): (i64, i64, i64) = conn.query_row(
        "SELECT (SELECT page_count FROM pragma_page_count), (SELECT freelist_count FROM pragma_freelist_count), (SELECT page_size FROM pragma_page_size)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    Ok(((pages - free).max(0) as u64) * size as u64)
}

/// The highest record ID ever assigned (kept even when records are deleted), 0 for a
/// new log.
pub(crate) fn last_assigned_id(conn: &Connection) -> rusqlite::Result<u64> {
    let last: i64 = conn.query_row(LAST_ASSIGNED, [], |r| r.get(0))?;
    Ok(last.max(0) as u64)
}

/// Make the next record ID at least `last + 1` (a new log after an archive goes on where
/// the archived one stopped).
pub(crate) fn continue_numbering(conn: &Connection, last: u64) -> rusqlite::Result<()> {
    conn.execute(RAISE_MARK, [last.min(i64::MAX as u64) as i64])?;
    Ok(())
}

/// The oldest and newest record IDs, each from its own subquery: SQLite answers a lone
/// `min()` or `max()` of the rowid from the B-tree's edge, but `SELECT min(record_id),
/// max(record_id)` scans the whole table. It did, read every page of a full log, once
/// per retention round: 80% of retention's time and a third of the writer's CPU per
/// record once the log had reached its maximum size.
///
/// Both tables: the oldest and newest of either (blocks do not overlap, so the block
/// with the highest `first_id` holds the highest ID: no scan for `max(last_id)`).
const RETENTION_SPAN: &str = "SELECT (SELECT min(v) FROM (SELECT (SELECT min(record_id) FROM events) AS v UNION ALL SELECT (SELECT min(first_id) FROM packed))), (SELECT max(v) FROM (SELECT (SELECT max(record_id) FROM events) AS v UNION ALL SELECT (SELECT last_id FROM packed WHERE first_id = (SELECT max(first_id) FROM packed))))";

/// Overwrite-oldest retention: delete the oldest records until the log uses at most 90%
/// of `max` (the margin spares a delete on every following batch). Returns how many
/// records were deleted.
pub(crate) fn overwrite_oldest(conn: &mut Connection, max: u64) -> rusqlite::Result<u64> {
    let mut deleted = 0u64;
    let target = max / 10 * 9;
    // Each round deletes an estimated share; a few rounds correct the estimate.
    for _ in 0..32 {
        let used = used_bytes(conn)?;
        if used <= target {
            break;
        }
        let span: Option<(i64, i64)> = conn
            .query_row(RETENTION_SPAN, [], |r| {
                Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?))
            })
            .map(|(a, b)| a.zip(b))?;
        let Some((lo, hi)) = span else { break };
        let count = (hi - lo + 1) as f64;
        let share = (used - target) as f64 / used as f64;
        let k = ((count * share).ceil() as i64).max(1);
        deleted += conn.execute("DELETE FROM events WHERE record_id < ?1", [lo + k])? as u64;
        // A block goes whole when its first record is among the oldest (so every round
        // deletes something: the oldest record is in the table or in such a block).
        deleted += conn
            .query_row(
                "SELECT ifnull(sum(records), 0) FROM packed WHERE first_id < ?1",
                [lo + k],
                |r| r.get::<_, i64>(0),
            )?
            .max(0) as u64;
        conn.execute("DELETE FROM packed WHERE first_id < ?1", [lo + k])?;
        // Spans wholly before the deleted range go too; a span reaching past it stays
        // (it still bounds the records that remain).
        conn.execute("DELETE FROM time_marks WHERE last_id < ?1", [lo + k])?;
    }
    Ok(deleted)
}

/// Move the log to `events-archive-<UTC time>.db` next to it. The connection must be
/// closed by the caller first. Returns the archive's path.
pub(crate) fn archive_file(path: &Path) -> Result<PathBuf, EventLogError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "events".to_string());
    let to = unused(dir.join(format!("{stem}-archive-{}", file_stamp())), ".db");
    rename_with_companions(path, &to)?;
    Ok(to)
}

#[cfg(test)]
mod tests {
    use super::{encode_json_array, ActivityBloom, MARK_SPAN, RETENTION_SPAN, SCHEMA};

    /// Retention's span query reads the edges of the tables, never a table: no step of
    /// its plan is a scan of `events` or `packed`.
    #[test]
    fn the_retention_span_is_two_searches_not_a_scan() {
        let conn = rusqlite::Connection::open_in_memory().expect("an in-memory database");
        conn.execute_batch(SCHEMA).expect("the schema");
        conn.execute_batch(crate::packed::SCHEMA)
            .expect("the packed table");
        let mut plan = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {RETENTION_SPAN}"))
            .expect("the plan");
        let steps: Vec<String> = plan
            .query_map([], |r| r.get::<_, String>(3))
            .expect("plan rows")
            .collect::<Result<_, _>>()
            .expect("plan rows");
        assert_eq!(
            steps
                .iter()
                .filter(|s| s.starts_with("SEARCH events"))
                .count(),
            2,
            "{steps:?}"
        );
        assert!(
            !steps
                .iter()
                .any(|s| s.starts_with("SCAN events") || s.starts_with("SCAN packed")),
            "{steps:?}"
        );
        // And it answers what the single query did.
        conn.execute_batch(
            "INSERT INTO events (record_id, time, event_id, computer, process_id, thread_id, data) VALUES (7, 0, 36880, 'h', 1, 1, '[]'), (9, 0, 36880, 'h', 1, 1, '[]'), (8, 0, 36887, 'h', 1, 1, '[]')",
        )
        .expect("rows");
        let span: (i64, i64) = conn
            .query_row(RETENTION_SPAN, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("the span");
        assert_eq!(span, (7, 9));
        // Blocks count: the oldest and the newest may be packed.
        conn.execute_batch(
            "INSERT INTO packed VALUES (3, 5, 36880, 'h', 1, 2, 0, 0, 0, '[]', '[]'), (10, 14, 36880, 'h', 1, 2, 0, 0, 0, '[]', '[]')",
        )
        .expect("blocks");
        let span: (i64, i64) = conn
            .query_row(RETENTION_SPAN, [], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("the span");
        assert_eq!(span, (3, 14));
    }
    use securechannel_events::ActivityId;

    /// A full span's filter: every activity put in is found (no false negatives), random
    /// absent ones rarely (the figure the documentation gives: about 1 in 400), and the
    /// bit positions of a fixed GUID never change (they are part of the file format).
    #[test]
    fn the_activity_filter_has_no_false_negatives_and_few_false_positives() {
        let mut bloom = ActivityBloom::new();
        let inside: Vec<ActivityId> = (0..MARK_SPAN).map(|_| ActivityId::new_random()).collect();
        for &a in &inside {
            bloom.insert(a);
        }
        assert!(inside.iter().all(|&a| bloom.may_hold(a)));
        let trials = 100_000;
        let false_positives = (0..trials)
            .filter(|_| bloom.may_hold(ActivityId::new_random()))
            .count();
        assert!(
            false_positives < trials / 200,
            "{false_positives} of {trials} absent activities reported as maybe present"
        );
        // Sequential IDs (`events write` with made-up GUIDs) spread as well.
        let mut seq = ActivityBloom::new();
        for i in 0..MARK_SPAN as u128 {
            seq.insert(ActivityId(i));
        }
        let fp = (1_000_000..1_000_000 + trials as u128)
            .filter(|&i| seq.may_hold(ActivityId(i)))
            .count();
        assert!(fp < trials / 200, "{fp} of {trials}");
        let bits: Vec<usize> =
            ActivityBloom::probes(ActivityId(0x0123_4567_89ab_cdef_0011_2233_4455_6677)).collect();
        assert_eq!(
            bits, FIXED_GUID_BITS,
            "the filter's hash changed: old logs would be misread"
        );
    }

    /// The bit positions of GUID 01234567-89ab-cdef-0011-223344556677, as first written.
    const FIXED_GUID_BITS: [usize; 4] = [27374, 22237, 4456, 28457];

    /// The hand-written encoder round-trips through a real JSON parser: quotes,
    /// backslashes, control characters, multi-byte UTF-8, empty strings.
    #[test]
    fn json_array_round_trips() {
        let values: Vec<String> = [
            "",
            "plain",
            "say \"hi\"",
            "back\\slash\\",
            "tab\tnew\nline\u{1}\u{1f}",
            "CN=Zürich, O=日本語 🔒",
            "\"",
            "é\"é\\é",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut out = String::new();
        encode_json_array(&values.as_slice().into(), &mut out);
        let back: Vec<String> = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(back, values);
        out.clear();
        encode_json_array(&securechannel_events::Fields::new(), &mut out);
        assert_eq!(out, "[]");
    }
}
