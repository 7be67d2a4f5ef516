//! Reading a log: queries against the file, follow mode, turning rows back into records.

use crate::error::EventLogError;
use crate::now_nanos;
use crate::packed::{self, BlockInfo};
use crate::query::Query;
use crate::store;
use rusqlite::Connection;
use rusqlite::OptionalExtension;
use securechannel_events::{ActivityId, EventId, EventRecord, Fold, FoldReason, UnixNanos};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many of the newest records a query with a count reads in order before it turns to
/// the indexes: 4,096 rows, about half a millisecond, what a filter that matches one
/// record in 40 needs for `--count 100`; a filter that finds nothing there (no match at
/// all, the worst case) loses no more than that before the index plan.
const RECENT_SCAN_ROWS: u64 = 4_096;

/// Reads a log: queries and follow. Never writes, never creates the file. One reader
/// holds one connection, reopened when the log is archived under it.
pub struct LogReader {
    path: PathBuf,
    generation: Arc<AtomicU64>,
    conn: Mutex<Option<OpenReader>>,
}

/// A reader's connection and which file it is on.
struct OpenReader {
    generation: u64,
    inode: u64,
    conn: Connection,
    /// The log's version and schema cookie (`PRAGMA user_version`, `schema_version`)
    /// the layout below was read at.
    schema: Option<(i64, i64)>,
    /// A version 1 log (not migrated yet: only a writer migrates): no `fold_reason`.
    v1: bool,
    /// The columns to select from `packed` (which a version 3 log has without
    /// `strings`); None without the table (version 2).
    packed: Option<&'static str>,
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader")
            .field("path", &self.path)
            .finish()
    }
}

impl LogReader {
    /// A reader of the log at `path` (which must exist; use [`crate::EventLog::open`] to
    /// create one).
    pub fn open(path: impl AsRef<Path>) -> Result<LogReader, EventLogError> {
        let path = path.as_ref().to_path_buf();
        if !path.exists() {
            return Err(EventLogError::DataDir {
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no event log there"),
                path,
            });
        }
        Ok(LogReader::with_generation(
            path,
            Arc::new(AtomicU64::new(0)),
        ))
    }

    pub(crate) fn with_generation(path: PathBuf, generation: Arc<AtomicU64>) -> LogReader {
        LogReader {
            path,
            generation,
            conn: Mutex::new(None),
        }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with_conn<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, EventLogError> {
        self.with_open(|s| f(&s.conn))
    }

    /// A query's SQL as this log's schema needs it.
    fn sql_for(s: &OpenReader, sql: String) -> String {
        if s.v1 {
            sql.replace(", fold_reason", ", NULL")
        } else {
            sql
        }
    }

    /// What the reader needs to know of the log's schema, read again when it changed:
    /// its version (a newer one than this code is refused, as writers refuse it) and the
    /// columns of `packed`.
    fn read_layout(&self, s: &mut OpenReader) -> Result<(), EventLogError> {
        let sqlite = |source| EventLogError::Sqlite {
            path: self.path.clone(),
            source,
        };
        // Both numbers: a newer version need not change the schema, nor the reverse.
        let (version, schema): (i64, i64) = s
            .conn
            .prepare_cached(
                "SELECT (SELECT user_version FROM pragma_user_version), (SELECT schema_version FROM pragma_schema_version)",
            )
            .and_then(|mut q| q.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(sqlite)?;
        if s.schema == Some((version, schema)) {
            return Ok(());
        }
        if version > store::SCHEMA_VERSION {
            return Err(EventLogError::NewerSchema {
                path: self.path.clone(),
                version,
            });
        }
        s.packed = store::packed_columns(&s.conn).map_err(sqlite)?;
        s.v1 = version == 1;
        s.schema = Some((version, schema));
        Ok(())
    }

    fn with_open<T>(
        &self,
        f: impl FnOnce(&OpenReader) -> rusqlite::Result<T>,
    ) -> Result<T, EventLogError> {
        let mut slot = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        // The file behind the path changes when the log is archived, by this process (the
        // generation) or another (the inode): then the reader follows the new log.
        let generation = self.generation.load(Ordering::SeqCst);
        let inode = std::fs::metadata(&self.path).map(|m| m.ino()).unwrap_or(0);
        if slot
            .as_ref()
            .is_none_or(|s| s.generation != generation || s.inode != inode)
        {
            let conn = store::open_for_reading(&self.path)?;
            *slot = Some(OpenReader {
                generation,
                inode,
                conn,
                schema: None,
                v1: false,
                packed: None,
            });
        }
        if let Some(s) = slot.as_mut() {
            // A writer of another process can migrate the log under an open connection
            // (a version 3 log gains `packed.strings`): the layout is read again whenever
            // the schema changed, so the reader never reads new blocks the old way.
            if let Err(e) = self.read_layout(s) {
                *slot = None;
                return Err(e);
            }
        }
        let sqlite = |source| EventLogError::Sqlite {
            path: self.path.clone(),
            source,
        };
        match slot.as_ref() {
            Some(s) => f(s).map_err(sqlite),
            None => Err(EventLogError::WriterStopped),
        }
    }

    /// The records the query selects, in its order.
    pub fn query(&self, q: &Query) -> Result<Vec<EventRecord>, EventLogError> {
        let now = now_nanos();
        // With a count, look at the newest (oldest) records in order first: when the
        // filter matches often, that finds `count` records in a few thousand rows, where
        // an index plan would collect every match and sort them (a data filter on a field
        // of 36880, say). Only when that falls short does the indexed query run.
        if let (Some(n), None) = (q.count, q.after_record) {
            let records = self.run(q, now, Some(RECENT_SCAN_ROWS))?;
            if records.len() >= n {
                return Ok(records);
            }
        }
        self.run(q, now, None)
    }

    fn run(
        &self,
        q: &Query,
        now: UnixNanos,
        scan: Option<u64>,
    ) -> Result<Vec<EventRecord>, EventLogError> {
        self.with_open(|s| {
            let ranges = activity_ranges(s, q)?;
            let edge = match scan {
                Some(rows) => match scan_edge(s, q.oldest_first, rows)? {
                    Some(edge) => Some(edge),
                    None => return Ok(Vec::new()),
                },
                None => None,
            };
            let (sql, params) = q.to_sql(now, edge, ranges.as_deref());
            let sql = LogReader::sql_for(s, sql);
            let mut stmt = s.conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
            let mut table = Vec::new();
            let mut computer: Arc<str> = Arc::from("");
            while let Some(row) = rows.next()? {
                table.push(decode(row, &mut computer)?);
            }
            let mut packed = Vec::new();
            for_packed(s, q, now, edge, ranges.as_deref(), |_, records| {
                packed.extend(records);
                q.count.is_some_and(|n| packed.len() >= n)
            })?;
            Ok(merge(table, packed, q.oldest_first, q.count))
        })
    }

    /// The SQLite query plan of a query (for benchmarks and checking indexes).
    pub fn explain(&self, q: &Query) -> Result<Vec<String>, EventLogError> {
        self.with_open(|s| {
            let ranges = activity_ranges(s, q)?;
            let (sql, params) = q.to_sql(now_nanos(), None, ranges.as_deref());
            let sql = LogReader::sql_for(s, sql);
            let mut stmt = s.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                r.get::<_, String>(3)
            })?;
            let mut plan: Vec<String> = rows.collect::<rusqlite::Result<_>>()?;
            // Then the packed blocks' query, when the filter lets any packed event through.
            let ids = packed_ids(q);
            if let (Some(columns), false) = (s.packed, ids.is_empty()) {
                let sql = q.packed_sql(columns, now_nanos(), None, ranges.as_deref(), &ids);
                let mut stmt = s.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let rows = stmt.query_map([], |r| r.get::<_, String>(3))?;
                for step in rows {
                    plan.push(format!("packed: {}", step?));
                }
            }
            Ok(plan)
        })
    }

    /// How many records the query selects per minute and event ID (its order and count
    /// are ignored), and how many copies the flood-control summaries among them stand for:
    /// what a chart of events per minute by ID draws, so a flood shows at a glance. The
    /// same SQL as [`LogReader::query`], grouped.
    pub fn per_minute(&self, q: &Query) -> Result<Vec<MinuteCount>, EventLogError> {
        let q = Query {
            count: None,
            ..q.clone()
        };
        let now = now_nanos();
        self.with_open(|s| {
            let ranges = activity_ranges(s, &q)?;
            let (sql, params) = q.to_sql(now, None, ranges.as_deref());
            let inner = LogReader::sql_for(s, sql);
            let sql = format!(
                "SELECT time / {MINUTE}, event_id, count(*), sum(ifnull(fold_count, 0)) FROM ({inner}) GROUP BY 1, 2 ORDER BY 1, 2"
            );
            let mut stmt = s.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            let mut counts: std::collections::BTreeMap<(i64, i64), (i64, i64)> =
                std::collections::BTreeMap::new();
            for row in rows {
                let (minute, id, records, folded) = row?;
                let c = counts.entry((minute, id)).or_default();
                c.0 += records;
                c.1 += folded;
            }
            // Packed blocks: a block that lies within one minute and whose records are
            // all selected is counted from its columns, without reading its records
            // (minutes as the SQL's `time / MINUTE`: truncated).
            let mut add = |minute: i64, id: EventId, n: i64| {
                counts.entry((minute, i64::from(id.value()))).or_default().0 += n;
            };
            for_packed_blocks(s, &q, now, None, ranges.as_deref(), |info, verdict, row| {
                let (first, last) = (info.min_time / MINUTE, info.max_time / MINUTE);
                if verdict == Some(true) && first == last {
                    add(first, info.event_id, info.records as i64);
                    return Ok(false);
                }
                for r in packed::read_records(row, info)? {
                    if verdict == Some(true) || q.filter.matches(&r, now) {
                        add(r.time / MINUTE, r.event_id, 1);
                    }
                }
                Ok(false)
            })?;
            let mut out = Vec::new();
            for ((minute, id), (records, folded)) in counts {
                // Rows of IDs outside the catalog cannot be decoded as records either.
                let Some(event_id) = u32::try_from(id).ok().and_then(|v| EventId::try_from(v).ok())
                else {
                    continue;
                };
                out.push(MinuteCount {
                    minute: minute.saturating_mul(MINUTE),
                    event_id,
                    records: records.max(0) as u64,
                    folded: folded.max(0) as u64,
                });
            }
            Ok(out)
        })
    }

    /// How many records the log holds.
    pub fn len(&self) -> Result<u64, EventLogError> {
        self.with_open(|s| {
            let table: i64 = s
                .conn
                .query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
            let packed: i64 = if s.packed.is_some() {
                s.conn
                    .query_row("SELECT ifnull(sum(records), 0) FROM packed", [], |r| {
                        r.get(0)
                    })?
            } else {
                0
            };
            Ok(table.max(0) as u64 + packed.max(0) as u64)
        })
    }

    /// Whether the log holds no record.
    pub fn is_empty(&self) -> Result<bool, EventLogError> {
        self.last_record_id_present().map(|r| r.is_none())
    }

    fn last_record_id_present(&self) -> Result<Option<u64>, EventLogError> {
        self.with_open(|s| edge_id(s, false))
            .map(|o| o.map(|n| n.max(0) as u64))
    }

    /// The highest record ID in the log now (0 when empty).
    pub fn last_record_id(&self) -> Result<u64, EventLogError> {
        Ok(self.last_record_id_present()?.unwrap_or(0))
    }

    /// The bytes the log's records and indexes occupy (what `max_size_bytes` limits).
    pub fn used_bytes(&self) -> Result<u64, EventLogError> {
        self.with_conn(store::used_bytes)
    }

    /// The copies flood control has folded in windows still open, by every process
    /// writing into this log, as the writers last committed them: each writer updates
    /// them with its next batch, at most `batch_window` after they change. A window's
    /// summary record replaces its entry in the same transaction, so a committed copy is
    /// counted here or in a summary record, never in both (copies folded since the
    /// writer's last commit are in neither yet). By event ID, then first copy. Empty for
    /// a log no writer has folded anything into.
    pub fn pending_folds(&self) -> Result<Vec<PendingFold>, EventLogError> {
        self.with_conn(store::read_pending)
    }

    /// Follow the log: records the query selects with a record ID above `after`, as they
    /// are committed (by this process or another).
    pub fn follow(&self, query: Query, after: u64) -> Follow<'_> {
        Follow {
            reader: self,
            query,
            last_seen: after,
        }
    }
}

/// Nanoseconds in a minute.
const MINUTE: i64 = 60_000_000_000;

/// One minute's records of one event ID, from [`LogReader::per_minute`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteCount {
    /// The minute's start (UTC, nanoseconds since the epoch).
    pub minute: UnixNanos,
    /// The event.
    pub event_id: EventId,
    /// How many records of it the log holds in that minute.
    pub records: u64,
    /// How many further copies the summaries among them stand for (flood control's, and
    /// records that could not be stored).
    pub folded: u64,
}

/// One open flood-control window that has folded copies: what the summary record says
/// when the window ends (or at the writer's next flush or shutdown). From
/// [`LogReader::pending_folds`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFold {
    /// The event folded.
    pub event_id: EventId,
    /// Its data (the insertion strings), the same for every copy.
    pub data: Vec<String>,
    /// How many copies are folded so far.
    pub count: u64,
    /// The earliest folded copy's time.
    pub first: UnixNanos,
    /// The latest folded copy's time.
    pub last: UnixNanos,
    /// When the window ends: the summary is written then, and carries that time. A time
    /// long past means the writer stopped without writing it (a kill loses the count).
    pub window_end: UnixNanos,
    /// The process whose writer counts them.
    pub process_id: u32,
}

/// Following a log (`--follow`): each call returns the new matching records, oldest first.
#[derive(Debug)]
pub struct Follow<'a> {
    reader: &'a LogReader,
    query: Query,
    last_seen: u64,
}

/// How often [`Follow::wait`] looks for new records.
pub const FOLLOW_POLL: Duration = Duration::from_millis(100);

impl Follow<'_> {
    /// The highest record ID returned so far (or the starting point).
    pub fn last_seen(&self) -> u64 {
        self.last_seen
    }

    /// The new matching records now (possibly none), oldest first.
    pub fn poll(&mut self) -> Result<Vec<EventRecord>, EventLogError> {
        let mut q = self.query.clone();
        q.oldest_first = true;
        q.after_record = Some(self.last_seen);
        q.count = Some(10_000);
        let records = self.reader.query(&q)?;
        if let Some(last) = records.last() {
            self.last_seen = last.record_id;
        } else {
            // Records that did not match still move the mark, so the next poll is cheap.
            self.last_seen = self.last_seen.max(self.reader.last_record_id()?);
        }
        Ok(records)
    }

    /// Wait up to `timeout` for new matching records; returns them (empty on timeout).
    pub fn wait(&mut self, timeout: Duration) -> Result<Vec<EventRecord>, EventLogError> {
        let deadline = Instant::now() + timeout;
        loop {
            let records = self.poll()?;
            let now = Instant::now();
            if !records.is_empty() || now >= deadline {
                return Ok(records);
            }
            std::thread::sleep(FOLLOW_POLL.min(deadline - now));
        }
    }
}

/// For a query of one activity, the record ID ranges whose spans may hold it (see
/// `store::activity_ranges`); `None` for other queries and for logs without the filters.
fn activity_ranges(s: &OpenReader, q: &Query) -> rusqlite::Result<Option<Vec<(i64, i64)>>> {
    match q.filter.required_activity() {
        Some(a) => store::activity_ranges(&s.conn, a),
        None => Ok(None),
    }
}

/// The log's oldest (`oldest`) or newest record ID, in either table.
fn edge_id(s: &OpenReader, oldest: bool) -> rusqlite::Result<Option<i64>> {
    let (agg, packed) = if oldest {
        ("min", "SELECT min(first_id) FROM packed")
    } else {
        (
            "max",
            "SELECT last_id FROM packed WHERE first_id = (SELECT max(first_id) FROM packed)",
        )
    };
    let table: Option<i64> = s
        .conn
        .prepare_cached(&format!("SELECT {agg}(record_id) FROM events"))?
        .query_row([], |r| r.get(0))?;
    let packed: Option<i64> = if s.packed.is_some() {
        s.conn
            .prepare_cached(packed)?
            .query_row([], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten()
    } else {
        None
    };
    Ok(match (table, packed) {
        (Some(a), Some(b)) if oldest => Some(a.min(b)),
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    })
}

/// The record ID past which the `rows` newest (oldest) records lie: `None` for an empty
/// log.
fn scan_edge(s: &OpenReader, oldest_first: bool, rows: u64) -> rusqlite::Result<Option<i64>> {
    let rows = rows.min(i64::MAX as u64) as i64;
    Ok(edge_id(s, oldest_first)?.map(|e| {
        if oldest_first {
            e.saturating_add(rows)
        } else {
            e.saturating_sub(rows)
        }
    }))
}

/// The event IDs the query may select among packed records (those blocks hold whose
/// records it does not rule out from the ID alone).
fn packed_ids(q: &Query) -> Vec<u32> {
    packed::PACKED_IDS
        .iter()
        .filter_map(|&v| EventId::try_from(u32::from(v)).ok())
        .filter(|&id| q.filter.event_verdict(id) != Some(false))
        .map(|id| u32::from(id.value()))
        .collect()
}

/// Call `f` with each packed block that may hold a record the query selects, in the
/// query's order, with the filter's verdict on the block ([`crate::Filter::block_verdict`])
/// and its row (to read its records with [`packed::read_records`]); blocks the verdict
/// rules out are skipped. Stops when `f` returns true. Nothing in a log without the table.
fn for_packed_blocks(
    s: &OpenReader,
    q: &Query,
    now: UnixNanos,
    edge: Option<i64>,
    ranges: Option<&[(i64, i64)]>,
    mut f: impl FnMut(&BlockInfo, Option<bool>, &rusqlite::Row<'_>) -> rusqlite::Result<bool>,
) -> rusqlite::Result<()> {
    let Some(columns) = s.packed else {
        return Ok(());
    };
    let ids = packed_ids(q);
    if ids.is_empty() {
        return Ok(());
    }
    let sql = q.packed_sql(columns, now, edge, ranges, &ids);
    let needles = q.filter.packed_needles();
    let mut stmt = s.conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([])?;
    let mut computer: Arc<str> = Arc::from("");
    while let Some(row) = rows.next()? {
        let info = packed::read_block_info(row, &mut computer)?;
        let verdict = q.filter.block_verdict(&info, now);
        if verdict == Some(false) {
            continue;
        }
        if !needles.is_empty() {
            let (rows, strings) = packed::json_texts(row)?;
            let held = |n: &String| {
                rows.contains(n.as_str()) || strings.is_some_and(|s| s.contains(n.as_str()))
            };
            if !needles.iter().all(held) {
                continue;
            }
        }
        if f(&info, verdict, row)? {
            break;
        }
    }
    Ok(())
}

/// Call `f` with the selected packed records of each block, in the query's order (also
/// within a block), past `edge` and `after_record`; stops when `f` returns true.
fn for_packed(
    s: &OpenReader,
    q: &Query,
    now: UnixNanos,
    edge: Option<i64>,
    ranges: Option<&[(i64, i64)]>,
    mut f: impl FnMut(&BlockInfo, Vec<EventRecord>) -> bool,
) -> rusqlite::Result<()> {
    let after = q.after_record.unwrap_or(0);
    for_packed_blocks(s, q, now, edge, ranges, |info, verdict, row| {
        let mut records = packed::read_records(row, info)?;
        records.retain(|r| {
            let past_edge = match edge {
                Some(e) if q.oldest_first => (r.record_id as i64) < e,
                Some(e) => (r.record_id as i64) > e,
                None => true,
            };
            past_edge && r.record_id > after && (verdict == Some(true) || q.filter.matches(r, now))
        });
        if !q.oldest_first {
            records.reverse();
        }
        Ok(f(info, records))
    })
}

/// Two lists in the query's order merged into one, cut at `count`.
fn merge(
    a: Vec<EventRecord>,
    b: Vec<EventRecord>,
    oldest_first: bool,
    count: Option<usize>,
) -> Vec<EventRecord> {
    if b.is_empty() {
        return a;
    }
    let limit = count.unwrap_or(usize::MAX);
    let mut out = Vec::with_capacity((a.len() + b.len()).min(limit));
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    while out.len() < limit {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => (x.record_id < y.record_id) == oldest_first,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        out.extend(if take_a { a.next() } else { b.next() });
    }
    out
}

fn decode(row: &rusqlite::Row<'_>, computer: &mut Arc<str>) -> rusqlite::Result<EventRecord> {
    let record_id: i64 = row.get(0)?;
    let event_id = store::event_id_column(row, || format!("record {record_id}"))?;
    store::computer_column(row, computer)?;
    let activity_id = row
        .get::<_, Option<Vec<u8>>>(6)?
        .and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok())
        .map(|b| ActivityId(u128::from_be_bytes(b)));
    let json: String = row.get(7)?;
    let data: Vec<String> = serde_json::from_str(&json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, e.into())
    })?;
    let binary = row.get::<_, Option<Vec<u8>>>(8)?.map(Arc::from);
    let fold = match (
        row.get::<_, Option<i64>>(9)?,
        row.get::<_, Option<i64>>(10)?,
        row.get::<_, Option<i64>>(11)?,
    ) {
        (Some(count), Some(first), Some(last)) => Some(Fold {
            count: count.max(0) as u64,
            first,
            last,
            reason: match row.get::<_, Option<i64>>(12)? {
                Some(store::FOLD_REASON_NOT_STORED) => FoldReason::NotStored,
                _ => FoldReason::Flood,
            },
        }),
        _ => None,
    };
    Ok(EventRecord {
        record_id: record_id.max(0) as u64,
        time: row.get(1)?,
        event_id,
        computer: computer.clone(),
        process_id: row.get::<_, i64>(4)?.clamp(0, u32::MAX as i64) as u32,
        thread_id: row.get::<_, i64>(5)?.clamp(0, u32::MAX as i64) as u32,
        activity_id,
        data: data.into(),
        binary,
        fold,
    })
}
