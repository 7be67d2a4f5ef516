//! The SQLite file: opening (and moving a damaged one aside), the schema, inserting a
//! batch, retention, archiving. Everything here runs on the caller's thread with a
//! connection the caller owns; the writer thread and the readers each have their own.

use crate::error::EventLogError;
use crate::now_nanos;
use crate::options::LogOptions;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use securechannel_events::{format_rfc3339, EventRecord};
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The schema this code writes (`PRAGMA user_version`).
pub(crate) const SCHEMA_VERSION: i64 = 1;
/// `PRAGMA application_id`: "SCHN", so `file(1)` and a reader can tell our logs apart.
const APPLICATION_ID: i64 = 0x5343_484E;
/// How long a connection waits for another process's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// One table; the level is not stored because the catalog fixes it per event ID, and a
/// level filter becomes an event ID filter. The insertion strings are one JSON array
/// (`data`, readable with `sqlite3` and `->>`), the first one also in `d0` for its
/// index: one column instead of twelve makes each insert markedly cheaper. Two indexes, chosen for write speed (each
/// index is another B-tree insert per record; the writer must keep up with floods):
/// - `events_by_id (event_id[, record_id])`: `--id 36887 --count 100`, newest first,
///   walks the index backwards without sorting; also every level filter;
/// - `events_by_first_field (event_id, d0)`: a data-field filter on a first field
///   (AlertDesc of 36887/36888, ErrorCode of 36876-36879, Protocol of 36874, Type, Name).
///
/// Time and activity filters have no index of their own: newest-first queries with a
/// count stop early, and time correlates with record order. A random-GUID activity index
/// alone would halve the write rate.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    record_id   INTEGER PRIMARY KEY AUTOINCREMENT,
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
    fold_last   INTEGER
);
CREATE INDEX IF NOT EXISTS events_by_id ON events(event_id);
CREATE INDEX IF NOT EXISTS events_by_first_field ON events(event_id, d0);
";

const INSERT: &str = "INSERT INTO events (time, event_id, computer, process_id, thread_id, activity_id, d0, data, binary, fold_count, fold_first, fold_last) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

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
    match open_checked(path, options.verify_on_open) {
        Ok(conn) => Ok((conn, None)),
        Err(OpenFailure::Other(e)) => Err(e),
        Err(OpenFailure::Damaged(reason)) => {
            let moved = move_aside(path, reason)?;
            prepare_file(path)?;
            match open_checked(path, false) {
                Ok(conn) => Ok((conn, Some(moved))),
                Err(OpenFailure::Other(e)) => Err(e),
                Err(OpenFailure::Damaged(reason)) => Err(EventLogError::Write(format!(
                    "a new log at {} could not be started: {reason}",
                    path.display()
                ))),
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
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT IN ('events', 'sqlite_sequence') LIMIT 1",
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
fn open_checked(path: &Path, check: bool) -> Result<Connection, OpenFailure> {
    check_header(path)?;
    if fs::metadata(path).map(|m| m.len() > 0).unwrap_or(false) {
        verify(path, check)?;
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(classify(path))?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(classify(path))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(classify(path))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(OpenFailure::Other(EventLogError::Write(format!(
            "{} could not be switched to WAL mode (it is in {mode} mode)",
            path.display()
        ))));
    }
    // NORMAL in WAL mode: a commit survives the process being killed (it is in the -wal
    // file); only a power loss can lose the last commits. The database stays consistent.
    conn.execute_batch("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-16384;")
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
            "BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; PRAGMA application_id={APPLICATION_ID}; COMMIT;"
        );
        conn.execute_batch(&script).map_err(classify(path))?;
    }
    Ok(conn)
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

/// Write a batch in one transaction. Either every record is committed or none is.
pub(crate) fn insert_batch(conn: &mut Connection, records: &[EventRecord]) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        // One row per statement: measured faster than multi-row VALUES, which SQLite
        // runs through a co-routine.
        let mut stmt = tx.prepare_cached(INSERT)?;
        let mut json = String::with_capacity(512);
        for r in records {
            bind_record(&mut stmt, 0, r, &mut json)?;
            stmt.raw_execute()?;
        }
    }
    tx.commit()
}

fn bind_record(
    stmt: &mut rusqlite::CachedStatement<'_>,
    base: usize,
    r: &EventRecord,
    json: &mut String,
) -> rusqlite::Result<()> {
    stmt.raw_bind_parameter(base + 1, r.time)?;
    stmt.raw_bind_parameter(base + 2, r.event_id.value())?;
    stmt.raw_bind_parameter(base + 3, &*r.computer)?;
    stmt.raw_bind_parameter(base + 4, r.process_id)?;
    stmt.raw_bind_parameter(base + 5, r.thread_id)?;
    let activity = r.activity_id.map(|a| a.0.to_be_bytes());
    stmt.raw_bind_parameter(base + 6, activity.as_ref().map(|a| &a[..]))?;
    stmt.raw_bind_parameter(base + 7, r.data.first().map(String::as_str))?;
    json.clear();
    encode_json_array(&r.data, json);
    stmt.raw_bind_parameter(base + 8, json.as_str())?;
    stmt.raw_bind_parameter(base + 9, r.binary.as_deref())?;
    stmt.raw_bind_parameter(base + 10, r.fold.map(|f| f.count as i64))?;
    stmt.raw_bind_parameter(base + 11, r.fold.map(|f| f.first))?;
    stmt.raw_bind_parameter(base + 12, r.fold.map(|f| f.last))?;
    Ok(())
}

/// `["a","b"]`, escaped as JSON requires (this is the hot path of the writer, so no
/// serializer machinery).
pub(crate) fn encode_json_array(values: &[String], out: &mut String) {
    use std::fmt::Write;
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        let mut start = 0;
        for (j, c) in v.char_indices() {
            let escape = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                c if (c as u32) < 0x20 => None,
                _ => continue,
            };
            out.push_str(&v[start..j]);
            match escape {
                Some(e) => out.push_str(e),
                None => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
            }
            start = j + c.len_utf8();
        }
        out.push_str(&v[start..]);
        out.push('"');
    }
    out.push(']');
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

/// The highest record ID ever assigned (kept by AUTOINCREMENT even when records are
/// deleted), 0 for a new log.
pub(crate) fn last_assigned_id(conn: &Connection) -> rusqlite::Result<u64> {
    let seq: Option<i64> = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name='events'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(seq.unwrap_or(0).max(0) as u64)
}

/// Make the next record ID at least `last + 1` (a new log after an archive goes on where
/// the archived one stopped).
pub(crate) fn continue_numbering(conn: &Connection, last: u64) -> rusqlite::Result<()> {
    let updated = conn.execute(
        "UPDATE sqlite_sequence SET seq=max(seq, ?1) WHERE name='events'",
        [last as i64],
    )?;
    if updated == 0 {
        conn.execute(
            "INSERT INTO sqlite_sequence(name, seq) VALUES('events', ?1)",
            [last as i64],
        )?;
    }
    Ok(())
}

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
            .query_row(
                "SELECT min(record_id), max(record_id) FROM events",
                [],
                |r| Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?)),
            )
            .map(|(a, b)| a.zip(b))?;
        let Some((lo, hi)) = span else { break };
        let count = (hi - lo + 1) as f64;
        let share = (used - target) as f64 / used as f64;
        let k = ((count * share).ceil() as i64).max(1);
        deleted += conn.execute("DELETE FROM events WHERE record_id < ?1", [lo + k])? as u64;
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

/// Whether the retention policy must act now.
pub(crate) fn over_limit(conn: &Connection, max_size_bytes: u64) -> rusqlite::Result<bool> {
    Ok(used_bytes(conn)? > max_size_bytes)
}
