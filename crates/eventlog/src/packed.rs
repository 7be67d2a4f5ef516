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
//! sit in `events` between them). `rows` is JSON, so the log stays readable with
//! `sqlite3` (the view `all_events` unpacks it with `json_each`):
//! `[[id - first_id, time - base_time, thread_id, "activity in hex" or null, [fields]], ...]`.
//! `min_time`/`max_time` and the ID range let a query skip a block without reading
//! `rows`, and a block whose every record matches (or none) is decided from its columns
//! alone ([`crate::Filter::block_verdict`]).

use crate::store;
use securechannel_events::{ActivityId, EventId, EventRecord, Fields, UnixNanos};
use std::sync::Arc;

/// The most records in one block. 64 measured 0.55 µs of SQLite per record; a query
/// that needs one record of a block decodes all of it (about 30 µs for 64).
pub(crate) const BLOCK_RECORDS: usize = 64;

/// The packed table and the view that shows both tables as one (for `sqlite3` users:
/// the reader does not use it), with the activity as 32 hex digits (`activity`, NULL for
/// none). SQLite 3.38 or later reads it (`->>`; Debian 12's `sqlite3` is 3.40, which has
/// no `unhex()`, so the view does not use it). Part of schema version 3.
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
    rows        TEXT NOT NULL
);
CREATE VIEW IF NOT EXISTS all_events AS
    SELECT record_id, time, event_id, computer, process_id, thread_id, nullif(lower(hex(activity_id)), '') AS activity, data, binary, fold_count, fold_first, fold_last, fold_reason FROM events
    UNION ALL
    SELECT p.first_id + (r.value ->> 0), p.base_time + (r.value ->> 1), p.event_id, p.computer, p.process_id, r.value ->> 2, r.value ->> 3, r.value -> 4, NULL, NULL, NULL, NULL, NULL
    FROM packed p, json_each(p.rows) r;
";

const INSERT: &str = "INSERT INTO packed (first_id, last_id, event_id, computer, process_id, records, base_time, min_time, max_time, rows) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/// The only event IDs a block ever holds (part of the format: a query that selects
/// none of them does not look at `packed`).
pub(crate) const PACKED_IDS: [u16; 1] = [store::UNINDEXED_ID];

/// Whether the writer packs this record (else it goes to `events`).
pub(crate) fn packable(r: &EventRecord) -> bool {
    PACKED_IDS.contains(&r.event_id.value()) && r.fold.is_none() && r.binary.is_none()
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
    rows: String,
}

impl<'a> BlockBuilder<'a> {
    /// A block that starts with record `r` (not added yet) as `id`.
    pub(crate) fn new(id: i64, r: &'a EventRecord, rows: String) -> BlockBuilder<'a> {
        let mut rows = rows;
        rows.clear();
        rows.push('[');
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
            rows,
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
    pub(crate) fn push(&mut self, id: i64, r: &EventRecord) {
        if self.records > 0 {
            self.rows.push(',');
        }
        self.rows.push('[');
        push_int(&mut self.rows, id - self.first_id);
        self.rows.push(',');
        push_int(&mut self.rows, r.time.wrapping_sub(self.base_time));
        self.rows.push(',');
        push_int(&mut self.rows, i64::from(r.thread_id));
        self.rows.push(',');
        match r.activity_id {
            Some(a) => {
                self.rows.push('"');
                push_hex128(&mut self.rows, a.0);
                self.rows.push('"');
            }
            None => self.rows.push_str("null"),
        }
        self.rows.push(',');
        store::encode_json_array(&r.data, &mut self.rows);
        self.rows.push(']');
        self.last_id = id;
        self.records += 1;
        self.min_time = self.min_time.min(r.time);
        self.max_time = self.max_time.max(r.time);
    }

    /// Insert the block; returns its JSON buffer for the next one.
    pub(crate) fn insert(mut self, tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<String> {
        self.rows.push(']');
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
            self.rows,
        ])?;
        Ok(self.rows)
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
/// them (then `base_time`, `rows`).
pub(crate) const COLUMNS: &str =
    "first_id, last_id, event_id, computer, process_id, records, min_time, max_time, base_time, rows";

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

/// A block's `rows` column (its records' JSON) from a row of [`COLUMNS`].
pub(crate) fn rows_text<'r>(row: &'r rusqlite::Row<'_>) -> rusqlite::Result<&'r str> {
    Ok(row.get_ref(9)?.as_str()?)
}

/// One packed record as stored: ID and time offsets, thread, activity, fields.
type StoredRow<'a> = (i64, i64, u32, Option<&'a str>, Vec<String>);

/// The records of a block, in record ID order (the row's `base_time` and `rows` columns
/// are read here).
pub(crate) fn read_records(
    row: &rusqlite::Row<'_>,
    info: &BlockInfo,
) -> rusqlite::Result<Vec<EventRecord>> {
    let base_time: i64 = row.get(8)?;
    let json = rows_text(row)?;
    let stored: Vec<StoredRow<'_>> = serde_json::from_str(json).map_err(|e| {
        conversion(
            9,
            format!(
                "the packed records from {} cannot be read: {e}",
                info.first_id
            ),
        )
    })?;
    stored
        .into_iter()
        .map(|(id, time, thread_id, activity, data)| {
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
                data: Fields::from(data),
                binary: None,
                fold: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{parse_hex128, push_hex128, push_int};

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
