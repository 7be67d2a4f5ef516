//! One logged event, carrying what a Windows event record carries.

use crate::{EventId, Fields, Level, UnixNanos};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// The provider name of every Schannel event.
pub const PROVIDER_NAME: &str = "Schannel";
/// The Schannel provider GUID, as Windows registers it.
pub const PROVIDER_GUID: &str = "{1F678132-5938-4686-9FDC-C8FF68F15C85}";

/// A correlation GUID: one per connection, so every event of one handshake can be found
/// together (`<Correlation ActivityID="{...}"/>`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActivityId(pub u128);

impl ActivityId {
    /// A new version 4 GUID, unique in this process and random-looking across processes.
    ///
    /// Activity IDs are correlation IDs, not secrets: nothing is protected by guessing
    /// one being hard. So the OS random generator is asked once per process (for the
    /// keys below), not once per connection (a `getrandom` system call per handshake),
    /// and each ID is a process-wide counter put through a keyed bijection: distinct
    /// counters give distinct IDs (for 2^62 IDs), and IDs of different processes differ
    /// by their random keys. The RFC 4122 version (4) and variant (10) bits are kept.
    pub fn new_random() -> ActivityId {
        ActivityId(activity_generator().next())
    }

    /// Parse `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`, with or without braces.
    pub fn parse(s: &str) -> Result<ActivityId, String> {
        let t = s.trim().trim_start_matches('{').trim_end_matches('}');
        uuid::Uuid::parse_str(t)
            .map(|u| ActivityId(u.as_u128()))
            .map_err(|_| {
                format!("'{s}' is not a GUID (expected {{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}})")
            })
    }
}

impl fmt::Display for ActivityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = uuid::Uuid::from_u128(self.0);
        write!(
            f,
            "{{{}}}",
            u.hyphenated()
                .encode_upper(&mut uuid::Uuid::encode_buffer())
        )
    }
}

impl fmt::Debug for ActivityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The process-wide source of [`ActivityId::new_random`].
struct ActivityGenerator {
    /// Keys of the 62-bit bijection (the low half, unique per counter value).
    k_low: [u64; 2],
    /// Key of the high half (random-looking; uniqueness comes from the low half).
    k_high: u64,
    counter: AtomicU64,
}

fn activity_generator() -> &'static ActivityGenerator {
    static GENERATOR: OnceLock<ActivityGenerator> = OnceLock::new();
    GENERATOR.get_or_init(|| {
        // Two version 4 UUIDs: 244 bits from the OS random generator, once.
        let a = uuid::Uuid::new_v4().as_u128();
        let b = uuid::Uuid::new_v4().as_u128();
        ActivityGenerator {
            k_low: [a as u64, (a >> 64) as u64],
            k_high: b as u64 ^ (b >> 64) as u64,
            counter: AtomicU64::new(0),
        }
    })
}

const LOW_62: u64 = (1 << 62) - 1;

impl ActivityGenerator {
    fn next(&self) -> u128 {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let low = permute_62(n & LOW_62, self.k_low);
        let high = mix_64(n ^ self.k_high);
        // Version 4 in bits 76-79, variant 10 in bits 62-63 (RFC 4122 section 4.1).
        let high = (high & !0xF000) | 0x4000;
        let low = low | (0b10 << 62);
        (u128::from(high) << 64) | u128::from(low)
    }
}

/// A keyed permutation of the 62-bit integers: each step (xor with a key, multiplication
/// by an odd number modulo 2^62, xor with a right shift of itself) is a bijection.
fn permute_62(mut x: u64, k: [u64; 2]) -> u64 {
    x = (x ^ k[0]) & LOW_62;
    x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15) & LOW_62;
    x ^= x >> 29;
    x = (x ^ k[1]) & LOW_62;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9) & LOW_62;
    x ^= x >> 31;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB) & LOW_62;
    x ^ (x >> 30)
}

/// splitmix64's finaliser.
fn mix_64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// A summary record: this record stands for `count` events of its ID that were counted
/// instead of stored one by one. `reason` says why, and so what the record claims:
/// flood control's copies were identical and the record carries their data; records
/// that could not be stored are lost, and the record carries none of their data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    /// How many events this summary stands for.
    pub count: u64,
    /// When the first of them happened.
    pub first: UnixNanos,
    /// When the last of them happened.
    pub last: UnixNanos,
    /// Why they were counted.
    pub reason: FoldReason,
}

/// Why a summary record's events were counted instead of stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FoldReason {
    /// Flood control: `count` further copies identical to this record (same ID, same
    /// data) arrived within the flood window. Nothing is missing but the repetition.
    #[default]
    Flood,
    /// The event log could not take them: the store refused writes (an outage: disk
    /// full, read-only, locked by another process) or the writer could not keep up, and
    /// the emitter did not wait longer than the log's bounded wait. These records are
    /// lost; this record says only how many of this event ID, and when. Its data fields
    /// are empty.
    NotStored,
}

/// One event record.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// The store's record ID: monotonic, never reused. 0 until the store assigns it.
    pub record_id: u64,
    /// When the event happened (UTC).
    pub time: UnixNanos,
    /// Which event.
    pub event_id: EventId,
    /// The computer name (the host name).
    pub computer: Arc<str>,
    /// The emitting process.
    pub process_id: u32,
    /// The emitting thread (the kernel's thread ID on Linux).
    pub thread_id: u32,
    /// The connection this event belongs to, if any.
    pub activity_id: Option<ActivityId>,
    /// The insertion strings, in the catalog's field order (`%1`, `%2`, ...).
    pub data: Fields,
    /// The attached binary data (a DER certificate), if any.
    pub binary: Option<Arc<[u8]>>,
    /// Set on summary records: flood control's, and those of records the log could not
    /// store (see [`FoldReason`]).
    pub fold: Option<Fold>,
}

impl EventRecord {
    /// The level, from the catalog.
    pub fn level(&self) -> Level {
        self.event_id.level()
    }

    /// The value of a data field by its EventData name.
    pub fn field(&self, name: &str) -> Option<&str> {
        let i = self.event_id.def().field_index(name)?;
        self.data.get(i)
    }
}

/// Builds a record; returned by [`crate::Emitter::event`]. When the EventLogging mask
/// excludes the event, the builder is empty and every call on it does nothing, so the
/// hot path pays for no allocation.
#[must_use = "a record is only logged by send()"]
pub struct RecordBuilder<'a> {
    pub(crate) emitter: &'a crate::Emitter,
    pub(crate) record: Option<EventRecord>,
}

impl RecordBuilder<'_> {
    /// Whether this event will be recorded (the mask lets it through).
    pub fn is_enabled(&self) -> bool {
        self.record.is_some()
    }

    /// Append the next insertion string, in catalog order.
    pub fn field(mut self, value: impl fmt::Display) -> Self {
        if let Some(r) = &mut self.record {
            r.data.push_display(value);
        }
        self
    }

    /// Append the next insertion string, already built (no formatting).
    pub fn field_string(mut self, value: String) -> Self {
        if let Some(r) = &mut self.record {
            r.data.push(&value);
        }
        self
    }

    /// Append the next insertion string from a `&str` (one copy, no formatting).
    pub fn field_str(mut self, value: &str) -> Self {
        if let Some(r) = &mut self.record {
            r.data.push(value);
        }
        self
    }

    /// Append the next insertion string: `v` in decimal (no formatting machinery).
    pub fn field_decimal(mut self, v: u64) -> Self {
        if let Some(r) = &mut self.record {
            r.data.push_decimal(v);
        }
        self
    }

    /// Append the next insertion string: `v` as `0x` and upper-case hex digits, at least
    /// `min_digits` of them (as `0x{v:0min_digits$X}`).
    pub fn field_hex(mut self, v: u64, min_digits: usize) -> Self {
        if let Some(r) = &mut self.record {
            r.data.push_hex(v, min_digits);
        }
        self
    }

    /// Attach the connection's activity ID.
    pub fn activity(mut self, activity: Option<ActivityId>) -> Self {
        if let Some(r) = &mut self.record {
            r.activity_id = activity;
        }
        self
    }

    /// Attach binary data (a DER certificate).
    pub fn binary(mut self, der: Option<Arc<[u8]>>) -> Self {
        if let Some(r) = &mut self.record {
            r.binary = der;
        }
        self
    }

    /// Hand the record to the sink. Missing trailing fields are sent as empty strings.
    pub fn send(self) {
        if let Some(mut r) = self.record {
            let n = r.event_id.def().fields.len();
            debug_assert!(r.data.len() <= n, "{} takes {} fields", r.event_id, n);
            r.data.resize(n);
            self.emitter.sink().emit(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn random_activity_ids_are_unique_version_4_guids() {
        let ids: Vec<ActivityId> = (0..100_000).map(|_| ActivityId::new_random()).collect();
        let distinct: HashSet<u128> = ids.iter().map(|a| a.0).collect();
        assert_eq!(distinct.len(), ids.len());
        for a in &ids {
            let u = uuid::Uuid::from_u128(a.0);
            assert_eq!(u.get_version_num(), 4, "{a}");
            assert_eq!(u.get_variant(), uuid::Variant::RFC4122, "{a}");
        }
        // Consecutive IDs share no obvious structure: both halves change.
        for w in ids.windows(2) {
            assert_ne!(w[0].0 >> 64, w[1].0 >> 64);
            assert_ne!(w[0].0 as u64, w[1].0 as u64);
        }
    }

    #[test]
    fn random_activity_ids_are_unique_across_threads() {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(|| {
                    (0..20_000)
                        .map(|_| ActivityId::new_random().0)
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all = HashSet::new();
        for t in threads {
            // A panicking thread fails the test, which is what it should do.
            for id in t.join().expect("generator thread panicked") {
                assert!(all.insert(id), "duplicate activity ID");
            }
        }
        assert_eq!(all.len(), 80_000);
    }

    #[test]
    fn the_permutation_is_a_bijection_on_a_window() {
        // Distinct inputs (including near the 62-bit edge) give distinct outputs in range.
        let k = [0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210];
        let inputs = (0..50_000u64).chain((LOW_62 - 50_000)..=LOW_62);
        let outs: HashSet<u64> = inputs.map(|x| permute_62(x, k)).collect();
        assert_eq!(outs.len(), 100_001);
        assert!(outs.iter().all(|&o| o <= LOW_62));
    }
}
