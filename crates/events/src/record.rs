//! One logged event, carrying what a Windows event record carries.

use crate::{EventId, Level, UnixNanos};
use std::fmt;
use std::sync::Arc;

/// The provider name of every Schannel event.
pub const PROVIDER_NAME: &str = "Schannel";
/// The Schannel provider GUID, as Windows registers it.
pub const PROVIDER_GUID: &str = "{1F678132-5938-4686-9FDC-C8FF68F15C85}";

/// A correlation GUID: one per connection, so every event of one handshake can be found
/// together (`<Correlation ActivityID="{...}"/>`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActivityId(pub u128);

impl ActivityId {
    /// A new random (version 4) GUID.
    pub fn new_random() -> ActivityId {
        ActivityId(uuid::Uuid::new_v4().as_u128())
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

/// Flood control's summary: this record stands for `count` further identical events
/// (same ID, same data) that were counted instead of stored one by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    /// How many identical events were folded into this summary.
    pub count: u64,
    /// When the first folded event happened.
    pub first: UnixNanos,
    /// When the last folded event happened.
    pub last: UnixNanos,
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
    pub data: Vec<String>,
    /// The attached binary data (a DER certificate), if any.
    pub binary: Option<Arc<[u8]>>,
    /// Set on flood-control summary records.
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
        self.data.get(i).map(String::as_str)
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
            r.data.push(value.to_string());
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
            r.data.resize(n, String::new());
            self.emitter.sink().emit(r);
        }
    }
}
