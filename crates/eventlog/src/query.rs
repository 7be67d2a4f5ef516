//! Queries: a filter tree (what the CLI flags and the XPath subset both become), its
//! translation to SQL, reading records back, and following new records.

use crate::error::{EventLogError, QueryError};
use crate::store;
use crate::{now_nanos, xpath};
use rusqlite::types::Value;
use rusqlite::Connection;
use securechannel_events::{ActivityId, EventId, EventRecord, Fold, Level, UnixNanos, CATALOG};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A comparison, as XPath writes them (`=`, `!=`, `<`, `<=`, `>`, `>=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Cmp {
    fn sql(self) -> &'static str {
        match self {
            Cmp::Eq => "=",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }

    /// Whether `a <op> b`.
    pub fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Cmp::Eq => a == b,
            Cmp::Ne => a != b,
            Cmp::Lt => a < b,
            Cmp::Le => a <= b,
            Cmp::Gt => a > b,
            Cmp::Ge => a >= b,
        }
    }

    /// The comparison with its operands swapped (`a < b` is `b > a`).
    fn swapped(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            c => c,
        }
    }
}

/// Which records a query selects. The CLI's flags and the XPath subset both build one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Filter {
    /// Every record.
    #[default]
    All,
    /// No record (a provider other than Schannel, a channel other than System).
    Nothing,
    /// Every one of these.
    And(Vec<Filter>),
    /// Any one of these.
    Or(Vec<Filter>),
    /// Not this.
    Not(Box<Filter>),
    /// `EventID <op> n`.
    EventId(Cmp, u32),
    /// `Level <op> n` (Windows' numbers: 2 error, 3 warning, 4 information).
    Level(Cmp, u8),
    /// `EventRecordID <op> n`.
    RecordId(Cmp, u64),
    /// `TimeCreated[@SystemTime <op> 't']`.
    Time(Cmp, UnixNanos),
    /// `TimeCreated[timediff(@SystemTime) <op> ms]`: the event's age in milliseconds when
    /// the query runs.
    Age(Cmp, u64),
    /// `Correlation[@ActivityID='{...}']`.
    Activity(ActivityId),
    /// `Data[@Name='n'] <op> 'v'` (`name` given) or `Data <op> 'v'` (any field); `op` is
    /// `=` or `!=`. Field names are the catalog's EventData names.
    Data {
        /// The EventData name, or `None` for any field.
        name: Option<String>,
        /// `Eq` or `Ne`.
        cmp: Cmp,
        /// The value, compared as text.
        value: String,
    },
    /// `Data[@Name='n']`: the event has a field of this name.
    HasField(String),
    /// `Execution[@ProcessID <op> n]`.
    ProcessId(Cmp, u32),
    /// `Execution[@ThreadID <op> n]`.
    ThreadId(Cmp, u32),
    /// `Computer='name'`.
    Computer(String),
}

/// The catalog's field names, for error messages.
pub fn field_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = CATALOG
        .iter()
        .flat_map(|d| d.fields.iter().copied())
        .collect();
    names.sort_unstable_by_key(|n| n.to_ascii_lowercase());
    names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    names
}

/// The (event, position) pairs that have a field of this name.
fn field_positions(name: &str) -> Vec<(EventId, usize)> {
    CATALOG
        .iter()
        .filter_map(|d| d.field_index(name).map(|i| (d.id, i)))
        .collect()
}

impl Filter {
    /// `name=value` on a data field, checked against the catalog: an unknown name is an
    /// error listing the known ones.
    pub fn data_eq(name: &str, value: &str) -> Result<Filter, QueryError> {
        if field_positions(name).is_empty() {
            return Err(QueryError::filter(format!(
                "no Schannel event has a data field named '{name}'; the fields are: {}",
                field_names().join(", ")
            )));
        }
        Ok(Filter::Data {
            name: Some(name.to_string()),
            cmp: Cmp::Eq,
            value: value.to_string(),
        })
    }

    /// Parse the `NAME=VALUE` form of `--data`.
    pub fn parse_data(spec: &str) -> Result<Filter, QueryError> {
        match spec.split_once('=') {
            Some((n, v)) if !n.trim().is_empty() => Filter::data_eq(n.trim(), v.trim()),
            _ => Err(QueryError::filter(format!(
                "'{spec}' is not a data filter: expected NAME=VALUE, e.g. AlertDesc=46"
            ))),
        }
    }

    /// Any of these event IDs.
    pub fn ids(ids: &[EventId]) -> Filter {
        Filter::Or(
            ids.iter()
                .map(|i| Filter::EventId(Cmp::Eq, u32::from(i.value())))
                .collect(),
        )
    }

    /// Any of these levels.
    pub fn levels(levels: &[Level]) -> Filter {
        Filter::Or(
            levels
                .iter()
                .map(|l| Filter::Level(Cmp::Eq, l.value()))
                .collect(),
        )
    }

    /// Both this and `other`.
    pub fn and(self, other: Filter) -> Filter {
        match (self, other) {
            (Filter::All, f) | (f, Filter::All) => f,
            (Filter::And(mut a), Filter::And(b)) => {
                a.extend(b);
                Filter::And(a)
            }
            (Filter::And(mut a), f) => {
                a.push(f);
                Filter::And(a)
            }
            (f, g) => Filter::And(vec![f, g]),
        }
    }

    /// Whether the record matches, with `now` for ages. Mirrors the SQL exactly; queries
    /// run in SQL, this serves tests and in-memory filtering.
    pub fn matches(&self, r: &EventRecord, now: UnixNanos) -> bool {
        match self {
            Filter::All => true,
            Filter::Nothing => false,
            Filter::And(v) => v.iter().all(|f| f.matches(r, now)),
            Filter::Or(v) => v.iter().any(|f| f.matches(r, now)),
            Filter::Not(f) => !f.matches(r, now),
            Filter::EventId(c, n) => c.holds(u32::from(r.event_id.value()), *n),
            Filter::Level(c, n) => c.holds(r.level().value(), *n),
            Filter::RecordId(c, n) => c.holds(r.record_id, *n),
            Filter::Time(c, t) => c.holds(r.time, *t),
            Filter::Age(c, ms) => age_matches(*c, r.time, now, *ms),
            Filter::Activity(a) => r.activity_id == Some(*a),
            Filter::Data { name, cmp, value } => match name {
                Some(n) => r.field(n).is_some_and(|v| cmp.holds(v, value.as_str())),
                None => r.data.iter().any(|v| cmp.holds(v.as_str(), value.as_str())),
            },
            Filter::HasField(n) => r.event_id.def().field_index(n).is_some(),
            Filter::ProcessId(c, n) => c.holds(r.process_id, *n),
            Filter::ThreadId(c, n) => c.holds(r.thread_id, *n),
            Filter::Computer(c) => &*r.computer == c.as_str(),
        }
    }

    /// Append this filter as an SQL expression; strings go to `params`.
    fn to_sql(&self, now: UnixNanos, sql: &mut String, params: &mut Vec<Value>) {
        match self {
            Filter::All => sql.push('1'),
            Filter::Nothing => sql.push('0'),
            Filter::And(v) | Filter::Or(v) if v.is_empty() => {
                sql.push(if matches!(self, Filter::And(_)) {
                    '1'
                } else {
                    '0'
                })
            }
            Filter::Or(v) if v.iter().all(|f| matches!(f, Filter::EventId(Cmp::Eq, _))) => {
                // An IN list lets SQLite walk the event_id index once per ID.
                let ids: Vec<u32> = v
                    .iter()
                    .filter_map(|f| match f {
                        Filter::EventId(_, n) => Some(*n),
                        _ => None,
                    })
                    .collect();
                in_list(sql, &ids);
            }
            Filter::And(v) | Filter::Or(v) => {
                let op = if matches!(self, Filter::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                sql.push('(');
                for (i, f) in v.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(op);
                    }
                    f.to_sql(now, sql, params);
                }
                sql.push(')');
            }
            Filter::Not(f) => {
                sql.push_str("NOT (");
                f.to_sql(now, sql, params);
                sql.push(')');
            }
            Filter::EventId(c, n) => {
                let _ = write!(sql, "event_id {} {n}", c.sql());
            }
            Filter::Level(c, n) => {
                // The level is the catalog's, per event ID.
                let ids: Vec<u32> = CATALOG
                    .iter()
                    .filter(|d| c.holds(d.level.value(), *n))
                    .map(|d| u32::from(d.id.value()))
                    .collect();
                in_list(sql, &ids);
            }
            Filter::RecordId(c, n) => {
                let _ = write!(sql, "record_id {} {}", c.sql(), (*n).min(i64::MAX as u64));
            }
            Filter::Time(c, t) => {
                let _ = write!(sql, "time {} {t}", c.sql());
            }
            Filter::Age(c, ms) => {
                // age <op> ms  <=>  now - time <op> ms  <=>  time <swapped op> now - ms
                let _ = write!(sql, "time {} {}", c.swapped().sql(), age_bound(now, *ms));
            }
            Filter::Activity(a) => {
                sql.push_str("activity_id = ?");
                params.push(Value::Blob(a.0.to_be_bytes().to_vec()));
            }
            Filter::Data { name, cmp, value } => {
                let op = if *cmp == Cmp::Ne { "!=" } else { "=" };
                let Some(name) = name else {
                    // Any field: one of the array's values.
                    let _ = write!(
                        sql,
                        "{}EXISTS (SELECT 1 FROM json_each(events.data) WHERE json_each.value = ?)",
                        if *cmp == Cmp::Ne { "NOT " } else { "" }
                    );
                    params.push(Value::Text(value.clone()));
                    return;
                };
                let pairs = field_positions(name);
                if pairs.is_empty() {
                    sql.push('0');
                    return;
                }
                sql.push('(');
                for (k, (id, i)) in pairs.iter().enumerate() {
                    if k > 0 {
                        sql.push_str(" OR ");
                    }
                    // The first field has a column and an index; the others are read
                    // from the JSON array of the rows the event ID selects.
                    if *i == 0 {
                        let _ = write!(sql, "(event_id = {} AND d0 {op} ?)", id.value());
                    } else {
                        let _ = write!(
                            sql,
                            "(event_id = {} AND data ->> '$[{i}]' {op} ?)",
                            id.value()
                        );
                    }
                    params.push(Value::Text(value.clone()));
                }
                sql.push(')');
            }
            Filter::HasField(n) => {
                let ids: Vec<u32> = field_positions(n)
                    .into_iter()
                    .map(|(id, _)| u32::from(id.value()))
                    .collect();
                in_list(sql, &ids);
            }
            Filter::ProcessId(c, n) => {
                let _ = write!(sql, "process_id {} {n}", c.sql());
            }
            Filter::ThreadId(c, n) => {
                let _ = write!(sql, "thread_id {} {n}", c.sql());
            }
            Filter::Computer(name) => {
                sql.push_str("computer = ?");
                params.push(Value::Text(name.clone()));
            }
        }
    }
}

fn age_bound(now: UnixNanos, ms: u64) -> UnixNanos {
    now.saturating_sub((ms.min(i64::MAX as u64 / 1_000_000) * 1_000_000) as i64)
}

fn age_matches(c: Cmp, time: UnixNanos, now: UnixNanos, ms: u64) -> bool {
    c.swapped().holds(time, age_bound(now, ms))
}

fn in_list(sql: &mut String, ids: &[u32]) {
    if ids.is_empty() {
        sql.push('0');
        return;
    }
    sql.push_str("event_id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        let _ = write!(sql, "{id}");
    }
    sql.push(')');
}

/// A query: a filter, an order, a count. Newest first unless `oldest_first`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// Which records.
    pub filter: Filter,
    /// Oldest first (`/rd:false`); the default is newest first, as `wevtutil /rd:true`
    /// and Event Viewer show them.
    pub oldest_first: bool,
    /// At most this many records.
    pub count: Option<usize>,
    /// Only records with a higher record ID (follow mode).
    pub after_record: Option<u64>,
}

impl Query {
    /// Every record, newest first.
    pub fn new() -> Query {
        Query::default()
    }

    /// Add a condition.
    pub fn filter(mut self, f: Filter) -> Query {
        self.filter = std::mem::take(&mut self.filter).and(f);
        self
    }

    /// Only these event IDs.
    pub fn ids(self, ids: &[EventId]) -> Query {
        self.filter(Filter::ids(ids))
    }

    /// Only these levels.
    pub fn levels(self, levels: &[Level]) -> Query {
        self.filter(Filter::levels(levels))
    }

    /// Only records at or after `t`.
    pub fn since(self, t: UnixNanos) -> Query {
        self.filter(Filter::Time(Cmp::Ge, t))
    }

    /// Only records at or before `t`.
    pub fn until(self, t: UnixNanos) -> Query {
        self.filter(Filter::Time(Cmp::Le, t))
    }

    /// Only records whose data field `name` equals `value` (checked against the catalog).
    pub fn data(self, name: &str, value: &str) -> Result<Query, QueryError> {
        Ok(self.filter(Filter::data_eq(name, value)?))
    }

    /// Only records of this activity (connection).
    pub fn activity(self, a: ActivityId) -> Query {
        self.filter(Filter::Activity(a))
    }

    /// Only records the XPath query selects (the subset Event Viewer and wevtutil use).
    pub fn xpath(self, xpath: &str) -> Result<Query, QueryError> {
        Ok(self.filter(xpath::parse(xpath)?))
    }

    /// Oldest first.
    pub fn oldest_first(mut self) -> Query {
        self.oldest_first = true;
        self
    }

    /// At most `n` records.
    pub fn count(mut self, n: usize) -> Query {
        self.count = Some(n);
        self
    }

    /// The SQL and its parameters, with `now` for ages.
    pub(crate) fn to_sql(&self, now: UnixNanos) -> (String, Vec<Value>) {
        let mut sql = String::from("SELECT ");
        sql.push_str(COLUMNS);
        sql.push_str(" FROM events WHERE ");
        let mut params = Vec::new();
        self.filter.to_sql(now, &mut sql, &mut params);
        if let Some(after) = self.after_record {
            let _ = write!(sql, " AND record_id > {}", after.min(i64::MAX as u64));
        }
        sql.push_str(if self.oldest_first {
            " ORDER BY record_id ASC"
        } else {
            " ORDER BY record_id DESC"
        });
        if let Some(n) = self.count {
            let _ = write!(sql, " LIMIT {}", n.min(i64::MAX as usize));
        }
        (sql, params)
    }
}

const COLUMNS: &str = "record_id, time, event_id, computer, process_id, thread_id, activity_id, data, binary, fold_count, fold_first, fold_last";

/// Reads a log: queries and follow. Never writes, never creates the file. One reader
/// holds one connection, reopened when the log is archived under it.
pub struct LogReader {
    path: PathBuf,
    generation: Arc<AtomicU64>,
    conn: Mutex<Option<(u64, Connection)>>,
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
        let mut slot = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let generation = self.generation.load(Ordering::SeqCst);
        if slot.as_ref().is_none_or(|(g, _)| *g != generation) {
            *slot = Some((generation, store::open_for_reading(&self.path)?));
        }
        let sqlite = |source| EventLogError::Sqlite {
            path: self.path.clone(),
            source,
        };
        match slot.as_ref() {
            Some((_, conn)) => f(conn).map_err(sqlite),
            None => Err(EventLogError::WriterStopped),
        }
    }

    /// The records the query selects, in its order.
    pub fn query(&self, q: &Query) -> Result<Vec<EventRecord>, EventLogError> {
        let (sql, params) = q.to_sql(now_nanos());
        self.with_conn(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
            let mut out = Vec::new();
            let mut computer: Arc<str> = Arc::from("");
            while let Some(row) = rows.next()? {
                out.push(decode(row, &mut computer)?);
            }
            Ok(out)
        })
    }

    /// The SQLite query plan of a query (for benchmarks and checking indexes).
    pub fn explain(&self, q: &Query) -> Result<Vec<String>, EventLogError> {
        let (sql, params) = q.to_sql(now_nanos());
        self.with_conn(|conn| {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.iter()), |r| {
                r.get::<_, String>(3)
            })?;
            rows.collect()
        })
    }

    /// How many records the log holds.
    pub fn len(&self) -> Result<u64, EventLogError> {
        self.with_conn(|c| c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0)))
            .map(|n| n.max(0) as u64)
    }

    /// Whether the log holds no record.
    pub fn is_empty(&self) -> Result<bool, EventLogError> {
        self.last_record_id_present().map(|r| r.is_none())
    }

    fn last_record_id_present(&self) -> Result<Option<u64>, EventLogError> {
        self.with_conn(|c| {
            c.query_row("SELECT max(record_id) FROM events", [], |r| {
                r.get::<_, Option<i64>>(0)
            })
        })
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

fn decode(row: &rusqlite::Row<'_>, computer: &mut Arc<str>) -> rusqlite::Result<EventRecord> {
    let record_id: i64 = row.get(0)?;
    let raw_id: i64 = row.get(2)?;
    let event_id = u32::try_from(raw_id)
        .ok()
        .and_then(|v| EventId::try_from(v).ok())
        .ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Integer,
                format!("record {record_id} has event ID {raw_id}, not a Schannel event").into(),
            )
        })?;
    let name: String = row.get(3)?;
    if *computer.as_ref() != *name {
        *computer = Arc::from(name);
    }
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
        data,
        binary,
        fold,
    })
}
