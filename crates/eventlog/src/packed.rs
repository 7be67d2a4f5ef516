//! Packed records: the bulk of a busy log, many records to a row.
//!
//! Every successful handshake leaves a 36880, so a busy server's log is mostly 36880s,
//! and one SQLite row per record cost more than the whole rest of the writer: a bare
//! insert of an `events` row measured 1.9–2.4 µs on the 2-core reference machine, 64
//! records in one row 0.55 µs per record. So the writer stores the records both indexes
//! leave out ([`store::UNINDEXED_ID`], without a fold and without binary data) in
//! `packed`, up to [`BLOCK_RECORDS`] to a row, and every other record in `events` as
//! before. Readers read both tables and merge them in record ID order (`reader.rs`);
//! nothing else about a record changes, and its record ID is the one it would have had.
//!
//! A row (a block) holds records of one event ID, one computer and one process, in
//! record ID order; their IDs need not be consecutive (other records of the same commit
//! sit in `events` between them). `rows` and `strings` are JSON, so the log stays
//! readable with `sqlite3` (the view `all_events` unpacks them with `json_each`):
//! `rows` is `[[id - first_id, time - base_time, thread_id, "activity in hex" or null,
//! [fields]], ...]`, and `strings` (version 4) the block's field values: a record's
//! fields are their indexes in it. Consecutive 36880s share most of their values (role,
//! protocol, suite, group, names), so a block stores each of those once (see
//! [`Buffers`]): the realistic mix of the eventlog benchmark went from 172 to 117 bytes
//! per record on disk, and reading 100,000 36880s from 254 to 160 ms, at the same
//! writer cost. A version 3 block has no `strings` (NULL) and its fields are the values
//! themselves; it is read as it is.
//! `min_time`/`max_time` and the ID range let a query skip a block without reading
//! `rows`, and a block whose every record matches (or none) is decided from its columns
//! alone ([`crate::Filter::block_verdict`]).

use crate::store;
use securechannel_events::{ActivityId, EventId, EventRecord, Fields, UnixNanos};
use std::sync::Arc;

/// The most field text a block's records may hold once read (a real block holds tens of
/// KiB): past it the block is reported as damaged rather than expanded.
const MAX_BLOCK_TEXT: usize = 16 << 20;

/// The most records in one block. 64 measured 0.55 µs of SQLite per record; a query
/// that needs one record of a block decodes all of it (about 30 µs for 64).
pub(crate) const BLOCK_RECORDS: usize = 64;

/// The packed table and the view that shows both tables as one (for `sqlite3` users:
/// the reader does not use it), with the activity as 32 hex digits (`activity`, NULL for
/// none). SQLite 3.38 or later reads it (`->>`; Debian 12's `sqlite3` is 3.40, which has
/// no `unhex()`, so the view does not use it). Part of schema version 3; `strings` and
/// the view's reading of it, of version 4 ([`UPGRADE_3`] brings a version 3 log there).
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS packed (
    first_id    INTEGER PRIMARY KEY,
    last_id     INTEGER NOT NULL,
    event_id    INTEGER NOT NULL,
    computer    TEXT NOT NULL,
    process_id  INTEGER NOT NULL,
    records     INTEGER NOT NULL,
    base_time   INTEGER NOT NULL,
    min_time    INTEGER NOT NULL,
    max_time    INTEGER NOT NULL,
    rows        TEXT NOT NULL,
    strings     TEXT
);
CREATE VIEW IF NOT EXISTS all_events AS
    SELECT record_id, time, event_id, computer, process_id, thread_id, nullif(lower(hex(activity_id)), '') AS activity, data, binary, fold_count, fold_first, fold_last, fold_reason FROM events
    UNION ALL
    SELECT p.first_id + (r.value ->> 0), p.base_time + (r.value ->> 1), p.event_id, p.computer, p.process_id, r.value ->> 2, r.value ->> 3,
        CASE WHEN p.strings IS NULL THEN r.value -> 4
        -- json_each visits the indexes in array order, and the aggregate takes its rows in
        -- that order (SQLite 3.44's ORDER BY in aggregates would say so, 3.40 lacks it).
        ELSE (SELECT json_group_array(p.strings ->> f.value) FROM json_each(r.value -> 4) f) END,
        NULL, NULL, NULL, NULL, NULL
    FROM packed p, json_each(p.rows) r;
";

/// A version 3 log's `packed` gains `strings`, and the view is made again to read it
/// (then [`SCHEMA`] creates it).
pub(crate) const UPGRADE_3: &str =
    "ALTER TABLE packed ADD COLUMN strings TEXT; DROP VIEW IF EXISTS all_events;";

const INSERT: &str = "INSERT INTO packed (first_id, last_id, event_id, computer, process_id, records, base_time, min_time, max_time, rows, strings) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// The only event IDs a block ever holds (part of the format: a query that selects
/// none of them does not look at `packed`).
pub(crate) const PACKED_IDS: [u16; 1] = [store::UNINDEXED_ID];

/// Whether the writer packs this record (else it goes to `events`).
pub(crate) fn packable(r: &EventRecord) -> bool {
    PACKED_IDS.contains(&r.event_id.value()) && r.fold.is_none() && r.binary.is_none()
}

/// What a block being written keeps, and hands to the next block of the batch (its
/// allocations): the JSON of `rows` and of `strings`, and the values so far.
///
/// A value is looked up only among the last two values of its field in the block (a
/// server's and a client's 36880s alternate on a host that is both): no hashing, and
/// the few values that recur later than that are stored again, which costs bytes, never
/// correctness.
#[derive(Default)]
pub(crate) struct Buffers<'a> {
    rows: String,
    strings: String,
    /// The block's values, by index.
    table: Vec<&'a str>,
    /// By field: the indexes of its last two values in the block, the latest first
    /// (`u32::MAX`: none yet).
    recent: Vec<[u32; 2]>,
}

impl Buffers<'_> {
    fn clear(&mut self) {
        self.rows.clear();
        self.strings.clear();
        self.table.clear();
        self.recent.clear();
    }
}

/// A block being written: its columns and its JSON.
pub(crate) struct BlockBuilder<'a> {
    first_id: i64,
    last_id: i64,
    event_id: EventId,
    computer: &'a Arc<str>,
    process_id: u32,
    records: usize,
    base_time: UnixNanos,
    min_time: UnixNanos,
    max_time: UnixNanos,
    buf: Buffers<'a>,
}

impl<'a> BlockBuilder<'a> {
    /// A block that starts with record `r` (not added yet) as `id`.
    pub(crate) fn new(id: i64, r: &'a EventRecord, buf: Buffers<'a>) -> BlockBuilder<'a> {
        let mut buf = buf;
        buf.clear();
        buf.rows.push('[');
        buf.strings.push('[');
        BlockBuilder {
            first_id: id,
            last_id: id,
            event_id: r.event_id,
            computer: &r.computer,
            process_id: r.process_id,
            records: 0,
            base_time: r.time,
            min_time: r.time,
            max_time: r.time,
            buf,
        }
    }

    /// Whether `r` can join this block.
    pub(crate) fn takes(&self, r: &EventRecord) -> bool {
        self.records < BLOCK_RECORDS
            && r.event_id == self.event_id
            && r.process_id == self.process_id
            && (Arc::ptr_eq(self.computer, &r.computer) || **self.computer == *r.computer)
    }

    /// Add `r` as record `id` (higher than every ID in the block).
    pub(crate) fn push(&mut self, id: i64, r: &'a EventRecord) {
        let rows = &mut self.buf.rows;
        if self.records > 0 {
            rows.push(',');
        }
        rows.push('[');
        push_int(rows, id - self.first_id);
        rows.push(',');
        push_int(rows, r.time.wrapping_sub(self.base_time));
        rows.push(',');
        push_int(rows, i64::from(r.thread_id));
        rows.push(',');
        match r.activity_id {
            Some(a) => {
                rows.push('"');
                push_hex128(rows, a.0);
                rows.push('"');
            }
            None => rows.push_str("null"),
        }
        rows.push_str(",[");
        for (i, v) in r.data.iter().enumerate() {
            let j = self.buf.index_of(i, v);
            if i > 0 {
                self.buf.rows.push(',');
            }
            push_small(&mut self.buf.rows, j);
        }
        self.buf.rows.push_str("]]");
        self.last_id = id;
        self.records += 1;
        self.min_time = self.min_time.min(r.time);
        self.max_time = self.max_time.max(r.time);
    }

    /// Insert the block; returns its buffers for the next one.
    pub(crate) fn insert(
        mut self,
        tx: &rusqlite::Transaction<'_>,
    ) -> rusqlite::Result<Buffers<'a>> {
        self.buf.rows.push(']');
        self.buf.strings.push(']');
        tx.prepare_cached(INSERT)?.execute(rusqlite::params![
            self.first_id,
            self.last_id,
            self.event_id.value(),
            &**self.computer,
            self.process_id,
            self.records as i64,
            self.base_time,
            self.min_time,
            self.max_time,
            self.buf.rows,
            self.buf.strings,
        ])?;
        Ok(self.buf)
    }
}

impl<'a> Buffers<'a> {
    /// The index of `v`, the value of field `field`, in the block's values: one of the
    /// field's last two, or a new one (added to the table and its JSON).
    fn index_of(&mut self, field: usize, v: &'a str) -> u32 {
        while self.recent.len() <= field {
            self.recent.push([u32::MAX; 2]);
        }
        let table = &self.table;
        let same = |j: u32| table.get(j as usize).is_some_and(|t| *t == v);
        let recent = &mut self.recent[field];
        if same(recent[0]) {
            return recent[0];
        }
        if same(recent[1]) {
            recent.swap(0, 1);
            return recent[0];
        }
        let j = self.table.len() as u32;
        self.table.push(v);
        if j > 0 {
            self.strings.push(',');
        }
        store::push_json_string(v, &mut self.strings);
        *recent = [j, recent[0]];
        j
    }
}

/// A value index in decimal: almost always below 100 (a block holds up to 64 records).
fn push_small(out: &mut String, v: u32) {
    if v < 10 {
        out.push(char::from(b'0' + v as u8));
    } else if v < 100 {
        out.push(char::from(b'0' + (v / 10) as u8));
        out.push(char::from(b'0' + (v % 10) as u8));
    } else {
        push_int(out, i64::from(v));
    }
}

/// Decimal, without the formatting machinery (the writer's hot path).
fn push_int(out: &mut String, v: i64) {
    let mut digits = [0u8; 20];
    let at = securechannel_events::decimal_digits(v.unsigned_abs(), &mut digits);
    if v < 0 {
        out.push('-');
    }
    // ASCII digits: one append instead of a char (and its UTF-8 encoding) each.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// 32 lowercase hex digits (what `lower(hex(activity_id))` shows and [`parse_hex128`] reads).
fn push_hex128(out: &mut String, v: u128) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 32];
    for (k, b) in buf.iter_mut().enumerate() {
        *b = DIGITS[((v >> (4 * (31 - k))) & 0xf) as usize];
    }
    out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
}

fn parse_hex128(s: &str) -> Option<u128> {
    (s.len() == 32)
        .then(|| u128::from_str_radix(s, 16).ok())
        .flatten()
}

/// A block's columns, what a query decides on before reading its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockInfo {
    /// The first record's ID.
    pub first_id: i64,
    /// The last record's ID.
    pub last_id: i64,
    /// Every record's event ID.
    pub event_id: EventId,
    /// Every record's computer.
    pub computer: Arc<str>,
    /// Every record's process.
    pub process_id: u32,
    /// How many records.
    pub records: u64,
    /// The earliest record's time.
    pub min_time: UnixNanos,
    /// The latest record's time.
    pub max_time: UnixNanos,
}

/// The columns a reader selects from `packed`, in the order [`read_block_info`] takes
/// them (then `base_time`, `rows`, `strings`).
pub(crate) const COLUMNS: &str =
    "first_id, last_id, event_id, computer, process_id, records, min_time, max_time, base_time, rows, strings";

/// [`COLUMNS`] in a version 3 log, whose blocks have no `strings`.
pub(crate) const COLUMNS_3: &str =
    "first_id, last_id, event_id, computer, process_id, records, min_time, max_time, base_time, rows, NULL";

/// A block's columns from a row of [`COLUMNS`]; `computer` is reused while it is the same.
pub(crate) fn read_block_info(
    row: &rusqlite::Row<'_>,
    computer: &mut Arc<str>,
) -> rusqlite::Result<BlockInfo> {
    let first_id: i64 = row.get(0)?;
    let event_id = store::event_id_column(row, || format!("the packed records from {first_id}"))?;
    store::computer_column(row, computer)?;
    Ok(BlockInfo {
        first_id,
        last_id: row.get(1)?,
        event_id,
        computer: computer.clone(),
        process_id: row.get::<_, i64>(4)?.clamp(0, u32::MAX as i64) as u32,
        records: row.get::<_, i64>(5)?.max(0) as u64,
        min_time: row.get(6)?,
        max_time: row.get(7)?,
    })
}

fn conversion(column: usize, message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, message.into())
}

/// A block's `rows` and `strings` columns (its records' JSON, and its values' if it
/// has them: version 3 blocks do not) from a row of [`COLUMNS`].
pub(crate) fn json_texts<'r>(
    row: &'r rusqlite::Row<'_>,
) -> rusqlite::Result<(&'r str, Option<&'r str>)> {
    Ok((
        row.get_ref(9)?.as_str()?,
        row.get_ref(10)?.as_str_or_null()?,
    ))
}

/// One packed record as stored: ID and time offsets, thread, activity, fields (indexes
/// in the block's values, or in a version 3 block the values).
type StoredRow<'a, F> = (i64, i64, u32, Option<&'a str>, Vec<F>);

/// The records of a block, in record ID order (the row's `base_time`, `rows` and
/// `strings` columns are read here).
pub(crate) fn read_records(
    row: &rusqlite::Row<'_>,
    info: &BlockInfo,
) -> rusqlite::Result<Vec<EventRecord>> {
    let base_time: i64 = row.get(8)?;
    let (json, strings) = json_texts(row)?;
    let unreadable = |e: serde_json::Error| {
        conversion(
            9,
            format!(
                "the packed records from {} cannot be read: {e}",
                info.first_id
            ),
        )
    };
    let Some(strings) = strings else {
        let stored: Vec<StoredRow<'_, String>> = serde_json::from_str(json).map_err(unreadable)?;
        return stored
            .into_iter()
            .map(|(id, time, thread, activity, data)| {
                record(
                    info,
                    base_time,
                    (id, time, thread, activity),
                    Fields::from(data),
                )
            })
            .collect();
    };
    // The values borrowed from the column, unless one has an escape (then owned).
    let owned: Vec<String>;
    let values: Vec<&str> = match serde_json::from_str(strings) {
        Ok(v) => v,
        Err(_) => {
            owned = serde_json::from_str(strings).map_err(unreadable)?;
            owned.iter().map(String::as_str).collect()
        }
    };
    let stored: Vec<StoredRow<'_, u32>> = serde_json::from_str(json).map_err(unreadable)?;
    // Indexes may name one value many times: a damaged block could expand without bound.
    let mut text = 0usize;
    stored
        .into_iter()
        .map(|(id, time, thread, activity, data)| {
            let value = |j: &u32| {
                values.get(*j as usize).copied().ok_or_else(|| {
                    conversion(
                        10,
                        format!(
                            "a packed record from {} names value {j} of its block's {}",
                            info.first_id,
                            values.len()
                        ),
                    )
                })
            };
            let bytes = data
                .iter()
                .fold(0usize, |n, j| n.saturating_add(value(j).map_or(0, str::len)));
            text = text.saturating_add(bytes);
            if text > MAX_BLOCK_TEXT {
                return Err(conversion(
                    10,
                    format!(
                        "the packed records from {} expand to more than {} MiB of field text: the block is damaged",
                        info.first_id,
                        MAX_BLOCK_TEXT >> 20
                    ),
                ));
            }
            let mut fields = Fields::with_capacity(bytes);
            for j in &data {
                fields.push(value(j)?);
            }
            record(info, base_time, (id, time, thread, activity), fields)
        })
        .collect()
}

/// A packed record from its block's columns, its stored offsets, thread and activity,
/// and its fields.
fn record(
    info: &BlockInfo,
    base_time: i64,
    (id, time, thread_id, activity): (i64, i64, u32, Option<&str>),
    data: Fields,
) -> rusqlite::Result<EventRecord> {
    let activity_id = match activity {
        None => None,
        Some(s) => Some(ActivityId(parse_hex128(s).ok_or_else(|| {
            conversion(
                9,
                format!(
                    "a packed record from {} has activity '{s}', not 32 hex digits",
                    info.first_id
                ),
            )
        })?)),
    };
    Ok(EventRecord {
        record_id: info.first_id.saturating_add(id).max(0) as u64,
        time: base_time.wrapping_add(time),
        event_id: info.event_id,
        computer: info.computer.clone(),
        process_id: info.process_id,
        thread_id,
        activity_id,
        data,
        binary: None,
        fold: None,
    })
}

#[cfg(test)]
mod tests {
    use super::{parse_hex128, push_hex128, push_int, push_small, Buffers};

    #[test]
    fn small_indexes_are_written_as_decimal() {
        for v in [0u32, 1, 9, 10, 42, 99, 100, 101, 999, 65_535, u32::MAX] {
            let mut s = String::new();
            push_small(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }

    #[test]
    fn a_value_is_found_among_its_fields_last_two_else_added() {
        let mut b = Buffers::default();
        // Field 0 alternates between two values (a server's and a client's records):
        // both are found; a third value is added; the first, now three values back in
        // its field, is added again (bytes, not correctness); field 1 has its own.
        let seq = [
            "server", "client", "server", "client", "other", "client", "server",
        ];
        let got: Vec<u32> = seq.iter().map(|v| b.index_of(0, v)).collect();
        assert_eq!(got, vec![0, 1, 0, 1, 2, 1, 3]);
        assert_eq!(b.index_of(1, "server"), 4);
        assert_eq!(b.index_of(1, "server"), 4);
        assert_eq!(b.index_of(0, "server"), 3);
        for (i, v) in seq.iter().enumerate() {
            assert_eq!(b.table[got[i] as usize], *v);
        }
        // The table's JSON (a block adds the brackets) holds the same values in order.
        let values: Vec<String> = serde_json::from_str(&format!("[{}]", b.strings)).unwrap();
        assert_eq!(values, b.table);
    }

    #[test]
    fn integers_and_activities_are_written_as_the_reader_reads_them() {
        for v in [
            0i64,
            1,
            -1,
            9,
            10,
            1_795_000_000_123_456_789,
            i64::MIN,
            i64::MAX,
        ] {
            let mut s = String::new();
            push_int(&mut s, v);
            assert_eq!(s, v.to_string());
        }
        for v in [
            0u128,
            1,
            u128::MAX,
            0x0123_4567_89ab_cdef_0011_2233_4455_6677,
        ] {
            let mut s = String::new();
            push_hex128(&mut s, v);
            assert_eq!(s, format!("{v:032x}"));
            assert_eq!(parse_hex128(&s), Some(v));
        }
        assert_eq!(parse_hex128("12"), None);
        assert_eq!(parse_hex128(&"g".repeat(32)), None);
    }
}
