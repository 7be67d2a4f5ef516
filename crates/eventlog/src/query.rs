//! Queries: a filter tree (what the CLI flags and the XPath subset both become) and its
//! translation to SQL. Running them is the reader's job (`reader.rs`).

use crate::error::QueryError;
use crate::packed::BlockInfo;
use crate::store;
use crate::xpath;
use rusqlite::types::Value;
use securechannel_events::{ActivityId, EventId, EventRecord, Level, UnixNanos, CATALOG};
use std::fmt::Write;

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

    /// The earliest and latest time every selected record must have, from the time
    /// conditions that stand at the top level (alone or directly in an `And`).
    pub(crate) fn time_bounds(&self, now: UnixNanos) -> (Option<UnixNanos>, Option<UnixNanos>) {
        let one = |f: &Filter| -> (Option<UnixNanos>, Option<UnixNanos>) {
            match f {
                Filter::Time(Cmp::Ge | Cmp::Gt, t) => (Some(*t), None),
                Filter::Time(Cmp::Le | Cmp::Lt, t) => (None, Some(*t)),
                Filter::Time(Cmp::Eq, t) => (Some(*t), Some(*t)),
                // age <= ms  <=>  time >= now - ms
                Filter::Age(Cmp::Le | Cmp::Lt, ms) => (Some(age_bound(now, *ms)), None),
                Filter::Age(Cmp::Ge | Cmp::Gt, ms) => (None, Some(age_bound(now, *ms))),
                _ => (None, None),
            }
        };
        match self {
            Filter::And(v) => v.iter().map(one).fold((None, None), |(a, b), (c, d)| {
                (a.max(c), b.into_iter().chain(d).min())
            }),
            f => one(f),
        }
    }

    /// The activity every matching record must have: an `Activity` condition alone or
    /// among the terms of the top-level `And`.
    pub(crate) fn required_activity(&self) -> Option<ActivityId> {
        match self {
            Filter::Activity(a) => Some(*a),
            Filter::And(v) => v.iter().find_map(|f| match f {
                Filter::Activity(a) => Some(*a),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The filter's value where `leaf` decides the conditions it can (`Some`) and leaves
    /// the others open (`None`): `Some(v)` when the open conditions cannot change it.
    fn verdict(&self, leaf: &dyn Fn(&Filter) -> Option<bool>) -> Option<bool> {
        match self {
            Filter::All => Some(true),
            Filter::Nothing => Some(false),
            // A term equal to the absorbing value (false for And, true for Or) decides;
            // else any open term leaves it open; else it is the other value.
            Filter::And(v) | Filter::Or(v) => {
                let absorbing = matches!(self, Filter::Or(_));
                let mut open = false;
                for f in v {
                    match f.verdict(leaf) {
                        Some(x) if x == absorbing => return Some(absorbing),
                        Some(_) => {}
                        None => open = true,
                    }
                }
                (!open).then_some(!absorbing)
            }
            Filter::Not(f) => f.verdict(leaf).map(|v| !v),
            f => leaf(f),
        }
    }

    /// Texts every selected packed record's JSON holds verbatim (see `packed.rs`): the
    /// required activity in hex, and the value of a required `Data[@Name='n'] = 'v'`
    /// (quoted, when it needs no escaping; in a block's `strings` or, in a version 3
    /// block, its `rows`). A block whose JSON lacks one holds no
    /// selected record and is not decoded: a substring search costs a small fraction of
    /// decoding the block.
    pub(crate) fn packed_needles(&self) -> Vec<String> {
        let one = |f: &Filter| match f {
            Filter::Activity(a) => Some(format!("\"{:032x}\"", a.0)),
            Filter::Data {
                name: Some(_),
                cmp: Cmp::Eq,
                value,
            } if json_literal_is_plain(value) => Some(format!("\"{value}\"")),
            _ => None,
        };
        match self {
            Filter::And(v) => v.iter().filter_map(one).collect(),
            f => one(f).into_iter().collect(),
        }
    }

    /// What the filter says of every record of event `id`, from the event ID alone:
    /// `Some(false)` when it selects none of them (a query then skips the packed blocks
    /// of that event), `Some(true)` when it selects all of them.
    pub(crate) fn event_verdict(&self, id: EventId) -> Option<bool> {
        self.verdict(&|f| Filter::event_leaf(f, id))
    }

    fn event_leaf(f: &Filter, id: EventId) -> Option<bool> {
        match f {
            Filter::EventId(c, n) => Some(c.holds(u32::from(id.value()), *n)),
            Filter::Level(c, n) => Some(c.holds(id.level().value(), *n)),
            Filter::HasField(n) => Some(id.def().field_index(n).is_some()),
            // A record without the field matches neither `=` nor `!=`.
            Filter::Data { name: Some(n), .. } if id.def().field_index(n).is_none() => Some(false),
            _ => None,
        }
    }

    /// What the filter says of every record of a packed block, from the block's columns
    /// (event ID, computer, process, ID and time ranges): `Some(false)` and the block is
    /// not read, `Some(true)` and every record is taken without testing it, `None` and
    /// each record is tested with [`Filter::matches`].
    pub(crate) fn block_verdict(&self, b: &BlockInfo, now: UnixNanos) -> Option<bool> {
        self.verdict(&|f| match f {
            Filter::RecordId(c, n) => {
                let n = (*n).min(i64::MAX as u64) as i64;
                range_verdict(*c, b.first_id, b.last_id, n)
            }
            Filter::Time(c, t) => range_verdict(*c, b.min_time, b.max_time, *t),
            Filter::Age(c, ms) => {
                range_verdict(c.swapped(), b.min_time, b.max_time, age_bound(now, *ms))
            }
            Filter::ProcessId(c, n) => Some(c.holds(b.process_id, *n)),
            Filter::Computer(c) => Some(&*b.computer == c.as_str()),
            f => Filter::event_leaf(f, b.event_id),
        })
    }

    /// The lowest and highest record ID every selected record must have, from the
    /// record ID conditions at the top level (as [`Filter::time_bounds`]).
    pub(crate) fn record_bounds(&self) -> (Option<i64>, Option<i64>) {
        let one = |f: &Filter| -> (Option<i64>, Option<i64>) {
            let Filter::RecordId(c, n) = f else {
                return (None, None);
            };
            let n = (*n).min(i64::MAX as u64) as i64;
            match c {
                Cmp::Ge => (Some(n), None),
                Cmp::Gt => (Some(n.saturating_add(1)), None),
                Cmp::Le => (None, Some(n)),
                Cmp::Lt => (None, Some(n - 1)),
                Cmp::Eq => (Some(n), Some(n)),
                Cmp::Ne => (None, None),
            }
        };
        match self {
            Filter::And(v) => v.iter().map(one).fold((None, None), |(a, b), (c, d)| {
                (a.max(c), b.into_iter().chain(d).min())
            }),
            f => one(f),
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
                None => r.data.iter().any(|v| cmp.holds(v, value.as_str())),
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
            Filter::EventId(Cmp::Eq, n) => {
                let _ = write!(sql, "(event_id = {n}");
                unindexed_excluded(sql, &[*n]);
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
                    // Any field, with XPath's meaning: some Data element compares so
                    // (`Data != 'v'` holds when any field differs from v).
                    let _ = write!(
                        sql,
                        "EXISTS (SELECT 1 FROM json_each(events.data) WHERE json_each.value {op} ?)"
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
                    if *i == 0 && id.value() != store::UNINDEXED_ID {
                        let _ = write!(
                            sql,
                            "(event_id = {} AND d0 {op} ? AND event_id != {})",
                            id.value(),
                            store::UNINDEXED_ID
                        );
                    } else if *i == 0 {
                        let _ = write!(sql, "(event_id = {} AND d0 {op} ?)", id.value());
                    } else if *cmp == Cmp::Eq && json_literal_is_plain(value) {
                        // A cheap necessary condition first: the field equals v only if
                        // the JSON text holds `"v"` verbatim (v needs no escaping, so
                        // every encoder writes it so). instr() is a byte search; `->>`
                        // parses the array, several times the cost, so it runs only on
                        // the rows that hold the text somewhere (see million.rs).
                        let _ = write!(
                            sql,
                            "(event_id = {} AND instr(data, ?) > 0 AND data ->> '$[{i}]' = ?)",
                            id.value()
                        );
                        params.push(Value::Text(format!("\"{value}\"")));
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

/// Whether `v <c> n` holds for every `v` in `lo..=hi` (`Some(true)`), for none
/// (`Some(false)`), or for some only (`None`).
fn range_verdict<T: Ord + Copy>(c: Cmp, lo: T, hi: T, n: T) -> Option<bool> {
    let (all, none) = match c {
        Cmp::Eq => (lo == n && hi == n, n < lo || n > hi),
        Cmp::Ne => (n < lo || n > hi, lo == n && hi == n),
        Cmp::Lt => (hi < n, lo >= n),
        Cmp::Le => (hi <= n, lo > n),
        Cmp::Gt => (lo > n, hi <= n),
        Cmp::Ge => (lo >= n, hi < n),
    };
    if all {
        Some(true)
    } else if none {
        Some(false)
    } else {
        None
    }
}

fn in_list(sql: &mut String, ids: &[u32]) {
    if ids.is_empty() {
        sql.push('0');
        return;
    }
    sql.push_str("(event_id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(',');
        }
        let _ = write!(sql, "{id}");
    }
    sql.push(')');
    unindexed_excluded(sql, ids);
    sql.push(')');
}

/// ` AND event_id != 36880` when the IDs leave 36880 out: the condition of the partial
/// `events_by_id` index, verbatim, so that SQLite uses it (see `store::SCHEMA`).
fn unindexed_excluded(sql: &mut String, ids: &[u32]) {
    let unindexed = u32::from(store::UNINDEXED_ID);
    if !ids.contains(&unindexed) {
        let _ = write!(sql, " AND event_id != {unindexed}");
    }
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

    /// The SQL over `events` and its parameters, with `now` for ages.
    ///
    /// `scan`: read only the records past this ID in the query's order (above it newest
    /// first, below it oldest first), in record order without an index: the newest (or
    /// oldest) few thousand, see `reader.rs`.
    ///
    /// `activity_ranges`: for a query that requires one activity, the record ID ranges
    /// that may hold it (from the time marks' activity filters): the query reads those
    /// ranges of the table only. Too many ranges (a filter that says "maybe" everywhere)
    /// are not worth the SQL: the whole table is read as before.
    pub(crate) fn to_sql(
        &self,
        now: UnixNanos,
        scan: Option<i64>,
        activity_ranges: Option<&[(i64, i64)]>,
    ) -> (String, Vec<Value>) {
        let mut sql = String::from("SELECT ");
        sql.push_str(COLUMNS);
        match scan {
            None => sql.push_str(" FROM events WHERE "),
            Some(edge) => {
                let op = if self.oldest_first { '<' } else { '>' };
                let _ = write!(
                    sql,
                    " FROM events NOT INDEXED WHERE record_id {op} {edge} AND "
                );
            }
        }
        let mut params = Vec::new();
        self.filter.to_sql(now, &mut sql, &mut params);
        // Time bounds become record ID bounds through the time marks (see store.rs), so
        // SQLite reads a range of the table instead of all of it.
        let (since, until) = self.filter.time_bounds(now);
        if let Some(t) = since {
            let _ = write!(
                sql,
                " AND record_id >= (SELECT ifnull(min(first_id), {}) FROM time_marks WHERE max_time >= {t})",
                i64::MAX
            );
        }
        if let Some(t) = until {
            let _ = write!(
                sql,
                " AND record_id <= (SELECT ifnull(max(last_id), -1) FROM time_marks WHERE min_time <= {t})"
            );
        }
        ranges_sql(&mut sql, activity_ranges, |sql, a, b| {
            let _ = write!(sql, "record_id BETWEEN {a} AND {b}");
        });
        if let Some(after) = self.after_record {
            let _ = write!(sql, " AND record_id > {}", after.min(i64::MAX as u64));
        }
        self.order_sql(&mut sql, "record_id");
        if let Some(n) = self.count {
            let _ = write!(sql, " LIMIT {}", n.min(i64::MAX as usize));
        }
        (sql, params)
    }

    /// The SQL over `packed` (see `packed.rs`), selecting `columns` (as
    /// [`crate::packed::COLUMNS`]): the blocks of events in `ids` that may
    /// hold a selected record, in the query's order, with the same `scan` and
    /// `activity_ranges` as [`Query::to_sql`]. The filter itself is applied to each
    /// block ([`Filter::block_verdict`]) and record ([`Filter::matches`]) by the reader.
    pub(crate) fn packed_sql(
        &self,
        columns: &str,
        now: UnixNanos,
        scan: Option<i64>,
        activity_ranges: Option<&[(i64, i64)]>,
        ids: &[u32],
    ) -> String {
        let mut sql = format!("SELECT {columns} FROM packed WHERE ");
        in_list(&mut sql, ids);
        // Every bound is on `first_id`, the rowid, so SQLite reads a range of the table:
        // blocks do not overlap, so the blocks with a record at or past ID `lo` are the
        // one that starts at or before it (if it reaches it) and those after.
        let from = |sql: &mut String, lo: &str| {
            let _ = write!(
                sql,
                " AND first_id >= (SELECT ifnull(max(first_id), {lo}) FROM packed WHERE first_id <= {lo}) AND last_id >= {lo}"
            );
        };
        match scan {
            Some(edge) if self.oldest_first => {
                let _ = write!(sql, " AND first_id < {edge}");
            }
            Some(edge) => from(&mut sql, &edge.saturating_add(1).to_string()),
            None => {}
        }
        let (since, until) = self.filter.time_bounds(now);
        if let Some(t) = since {
            let lo = format!(
                "(SELECT ifnull(min(first_id), {}) FROM time_marks WHERE max_time >= {t})",
                i64::MAX
            );
            from(&mut sql, &lo);
            let _ = write!(sql, " AND max_time >= {t}");
        }
        if let Some(t) = until {
            let _ = write!(
                sql,
                " AND first_id <= (SELECT ifnull(max(last_id), -1) FROM time_marks WHERE min_time <= {t}) AND min_time <= {t}"
            );
        }
        let (lo, hi) = self.filter.record_bounds();
        let lo = lo.max(
            self.after_record
                .map(|a| (a.min(i64::MAX as u64 - 1) + 1) as i64),
        );
        if let Some(lo) = lo {
            from(&mut sql, &lo.to_string());
        }
        if let Some(hi) = hi {
            let _ = write!(sql, " AND first_id <= {hi}");
        }
        ranges_sql(&mut sql, activity_ranges, |sql, a, b| {
            let _ = write!(
                sql,
                "(first_id BETWEEN (SELECT ifnull(max(first_id), {a}) FROM packed WHERE first_id <= {a}) AND {b} AND last_id >= {a})"
            );
        });
        self.order_sql(&mut sql, "first_id");
        sql
    }

    fn order_sql(&self, sql: &mut String, key: &str) {
        let _ = write!(
            sql,
            " ORDER BY {key} {}",
            if self.oldest_first { "ASC" } else { "DESC" }
        );
    }
}

/// ` AND (range OR range ...)` for a query's activity ranges (`one` writes a range),
/// ` AND 0` for none; nothing when there are too many to be worth spelling out.
fn ranges_sql(
    sql: &mut String,
    ranges: Option<&[(i64, i64)]>,
    one: impl Fn(&mut String, i64, i64),
) {
    match ranges {
        Some([]) => sql.push_str(" AND 0"),
        Some(ranges) if ranges.len() <= MAX_ACTIVITY_RANGES => {
            sql.push_str(" AND (");
            for (k, &(a, b)) in ranges.iter().enumerate() {
                if k > 0 {
                    sql.push_str(" OR ");
                }
                one(sql, a, b);
            }
            sql.push(')');
        }
        _ => {}
    }
}

/// The most record ID ranges an activity query spells out (see `Query::to_sql`).
const MAX_ACTIVITY_RANGES: usize = 64;

/// The columns a query reads, in the order `reader::decode` takes them.
pub(crate) const COLUMNS: &str = "record_id, time, event_id, computer, process_id, thread_id, activity_id, data, binary, fold_count, fold_first, fold_last, fold_reason";

/// Whether `v` appears in a JSON string unescaped by any encoder: no quote, backslash or
/// control character (those are escaped, and not all encoders escape them alike).
fn json_literal_is_plain(v: &str) -> bool {
    !v.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

#[cfg(test)]
mod tests {
    use super::{Cmp, Filter};
    use crate::packed::BlockInfo;
    use securechannel_events::{ActivityId, EventId, EventRecord, Fields};
    use std::sync::Arc;

    /// A small deterministic generator (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn cmp(&mut self) -> Cmp {
            [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge][self.below(6) as usize]
        }
    }

    const NOW: i64 = 1_795_000_000_000_000_000;

    fn leaf(g: &mut Rng) -> Filter {
        match g.below(15) {
            0 => Filter::EventId(g.cmp(), [36880, 36887, 36874][g.below(3) as usize]),
            1 => Filter::Level(g.cmp(), [2, 3, 4][g.below(3) as usize]),
            2 => Filter::RecordId(g.cmp(), 95 + g.below(20)),
            3 => Filter::Time(g.cmp(), NOW - 50 + g.below(100) as i64),
            4 => Filter::Age(g.cmp(), g.below(3)),
            5 => Filter::Activity(ActivityId(u128::from(g.below(4)))),
            6 => Filter::Data {
                name: Some(["Protocol", "AlertDesc", "Type"][g.below(3) as usize].into()),
                cmp: [Cmp::Eq, Cmp::Ne][g.below(2) as usize],
                value: ["TLS 1.2", "TLS 1.3", "server", "46"][g.below(4) as usize].into(),
            },
            7 => Filter::Data {
                name: None,
                cmp: [Cmp::Eq, Cmp::Ne][g.below(2) as usize],
                value: ["TLS 1.2", "server"][g.below(2) as usize].into(),
            },
            8 => Filter::HasField(["Protocol", "AlertDesc"][g.below(2) as usize].into()),
            9 => Filter::ProcessId(g.cmp(), 40 + g.below(3) as u32),
            10 => Filter::ThreadId(g.cmp(), 7 + g.below(3) as u32),
            11 => Filter::Computer(["a", "b"][g.below(2) as usize].into()),
            12 => Filter::All,
            13 => Filter::Nothing,
            _ => Filter::And(Vec::new()),
        }
    }

    fn filter(g: &mut Rng, depth: u32) -> Filter {
        if depth == 0 || g.below(3) == 0 {
            return leaf(g);
        }
        match g.below(3) {
            0 => Filter::And((0..1 + g.below(3)).map(|_| filter(g, depth - 1)).collect()),
            1 => Filter::Or((0..1 + g.below(3)).map(|_| filter(g, depth - 1)).collect()),
            _ => Filter::Not(Box::new(filter(g, depth - 1))),
        }
    }

    /// A block of 36880s from one computer and process, as the writer packs them.
    fn block(g: &mut Rng) -> (BlockInfo, Vec<EventRecord>) {
        let computer: Arc<str> = Arc::from(["a", "b"][g.below(2) as usize]);
        let process_id = 40 + g.below(3) as u32;
        let first = 95 + g.below(20);
        let n = 1 + g.below(4);
        let mut id = first;
        let records: Vec<EventRecord> = (0..n)
            .map(|_| {
                // Increasing, not always consecutive (other records sit in `events`).
                id += 1 + g.below(2);
                let mut data = Fields::new();
                data.push("server");
                data.push(["TLS 1.2", "TLS 1.3"][g.below(2) as usize]);
                EventRecord {
                    record_id: id,
                    time: NOW - 50 + g.below(100) as i64,
                    event_id: EventId::HandshakeCompleted,
                    computer: computer.clone(),
                    process_id,
                    thread_id: 7 + g.below(3) as u32,
                    activity_id: (g.below(3) > 0).then(|| ActivityId(u128::from(g.below(4)))),
                    data,
                    binary: None,
                    fold: None,
                }
            })
            .collect();
        let info = BlockInfo {
            first_id: records[0].record_id as i64,
            last_id: records[records.len() - 1].record_id as i64,
            event_id: EventId::HandshakeCompleted,
            computer,
            process_id,
            records: n,
            min_time: records.iter().map(|r| r.time).min().unwrap_or(0),
            max_time: records.iter().map(|r| r.time).max().unwrap_or(0),
        };
        (info, records)
    }

    /// What a block's columns decide is what testing every record would: a verdict of
    /// `Some(v)` on a block means every record's `matches` is `v` (the reader then skips
    /// the block, or takes it whole), over 20,000 random filters and blocks. And the
    /// verdict is not always `None` (it decides often enough to be worth having).
    #[test]
    fn a_block_verdict_agrees_with_every_record_of_the_block() {
        let mut g = Rng(0x9e37_79b9_7f4a_7c15);
        let mut decided = 0;
        for _ in 0..20_000 {
            let f = filter(&mut g, 3);
            let (info, records) = block(&mut g);
            let verdict = f.block_verdict(&info, NOW);
            if let Some(v) = verdict {
                decided += 1;
                for r in &records {
                    assert_eq!(f.matches(r, NOW), v, "{f:?} on {r:?} (block {info:?})");
                }
            }
            if let Some(v) = f.event_verdict(EventId::HandshakeCompleted) {
                for r in &records {
                    assert_eq!(f.matches(r, NOW), v, "{f:?} on {r:?}");
                }
            }
        }
        assert!(decided > 5_000, "only {decided} of 20,000 decided");
    }

    /// Record ID bounds at the top level are what every selected record's ID lies in.
    #[test]
    fn record_bounds_hold_for_every_selected_record() {
        let mut g = Rng(7);
        for _ in 0..5_000 {
            let f = filter(&mut g, 2);
            let (lo, hi) = f.record_bounds();
            let (_, records) = block(&mut g);
            for r in records.iter().filter(|r| f.matches(r, NOW)) {
                let id = r.record_id as i64;
                assert!(
                    lo.is_none_or(|lo| id >= lo) && hi.is_none_or(|hi| id <= hi),
                    "{f:?} {id}"
                );
            }
        }
    }
}
