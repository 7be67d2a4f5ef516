//! The EventLogging mask, the EventSink trait, and the Emitter the provider logs through.

use crate::record::RecordBuilder;
use crate::{time, EventId, EventRecord, Fields, Level};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// The registry's `EventLogging` DWORD: which levels are recorded.
///
/// 0x1 errors, 0x2 warnings, 0x4 informational and success events; 0 logs nothing,
/// 7 everything. The Windows default is 1 (errors only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventLogging(pub u32);

impl EventLogging {
    /// Errors only: the Windows default.
    pub const DEFAULT: EventLogging = EventLogging(0x1);
    /// Errors, warnings and informational events.
    pub const ALL: EventLogging = EventLogging(0x7);
    /// Nothing.
    pub const NONE: EventLogging = EventLogging(0);

    /// The bit of the mask that lets events of this level through: 0x1 errors, 0x2
    /// warnings, 0x4 informational and success events.
    pub const fn bit(level: Level) -> u32 {
        match level {
            // Critical events share the error bit: Schannel defines none, and an operator
            // who logs errors wants anything worse too.
            Level::Critical | Level::Error => 0x1,
            Level::Warning => 0x2,
            Level::Information => 0x4,
        }
    }

    /// Whether an event of this level is recorded.
    pub fn allows(self, level: Level) -> bool {
        self.0 & EventLogging::bit(level) != 0
    }
}

impl Default for EventLogging {
    fn default() -> Self {
        EventLogging::DEFAULT
    }
}

/// Where records go. The provider emits through this trait and never knows whether the
/// store is SQLite, a test's memory, or a program's own logger.
///
/// `emit` must not block on disk; a sink that must wait (a full queue) says so in its
/// documentation.
pub trait EventSink: Send + Sync {
    /// Take one record.
    fn emit(&self, record: EventRecord);

    /// Wait until every record emitted so far is durable. The default does nothing.
    fn flush(&self) {}
}

/// A sink that keeps the newest records in memory (for tests and embedding).
///
/// It is bounded: it holds at most its capacity ([`MemorySink::DEFAULT_CAPACITY`] records,
/// or the number given to [`MemorySink::with_capacity`]). Beyond it, each new record drops
/// the oldest one, and [`MemorySink::dropped`] counts every record dropped so; nothing is
/// lost without being counted. Record IDs keep counting across drops, so the first record
/// kept has ID `dropped() + 1`.
#[derive(Debug)]
pub struct MemorySink {
    capacity: usize,
    kept: Mutex<Kept>,
}

/// The records a [`MemorySink`] holds, and how many it dropped to stay in its capacity.
#[derive(Debug, Default)]
struct Kept {
    records: VecDeque<EventRecord>,
    dropped: u64,
}

impl MemorySink {
    /// The capacity of [`MemorySink::new`]: 65,536 records, far more than a test emits,
    /// and recent history enough for a program that embeds the provider and reads its
    /// events back, in memory that stops growing.
    pub const DEFAULT_CAPACITY: usize = 65_536;

    /// An empty sink holding at most [`MemorySink::DEFAULT_CAPACITY`] records.
    pub fn new() -> MemorySink {
        MemorySink::with_capacity(MemorySink::DEFAULT_CAPACITY)
    }

    /// An empty sink holding at most `capacity` records (0 keeps none and counts every
    /// record as dropped).
    pub fn with_capacity(capacity: usize) -> MemorySink {
        MemorySink {
            capacity,
            kept: Mutex::new(Kept::default()),
        }
    }

    /// The most records this sink holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many records were dropped, oldest first, to stay within the capacity.
    pub fn dropped(&self) -> u64 {
        self.kept().dropped
    }

    /// A copy of every record kept, oldest first.
    pub fn records(&self) -> Vec<EventRecord> {
        self.kept().records.iter().cloned().collect()
    }

    /// The IDs of every record kept, oldest first.
    pub fn ids(&self) -> Vec<u16> {
        self.kept()
            .records
            .iter()
            .map(|r| r.event_id.value())
            .collect()
    }

    /// Forget every record, and the count of dropped ones: the sink starts over.
    pub fn clear(&self) {
        *self.kept() = Kept::default();
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A panic while the lock was held leaves whole records behind: keep using them.
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Default for MemorySink {
    fn default() -> Self {
        MemorySink::new()
    }
}

impl EventSink for MemorySink {
    fn emit(&self, mut record: EventRecord) {
        let mut kept = self.kept();
        record.record_id = kept.dropped + kept.records.len() as u64 + 1;
        kept.records.push_back(record);
        while kept.records.len() > self.capacity {
            kept.records.pop_front();
            kept.dropped += 1;
        }
    }
}

/// A sink that discards everything (EventLogging = 0 without a store).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl EventSink for NullSink {
    fn emit(&self, _record: EventRecord) {}
}

/// What the provider logs through: the sink, the EventLogging mask (changeable at run
/// time, as a settings reload changes it) and the fixed parts of every record.
#[derive(Clone)]
pub struct Emitter {
    sink: Arc<dyn EventSink>,
    mask: Arc<AtomicU32>,
    computer: Arc<str>,
    process_id: u32,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("logging", &self.logging())
            .field("computer", &self.computer)
            .finish()
    }
}

impl Emitter {
    /// An emitter into `sink` with the given mask.
    pub fn new(sink: Arc<dyn EventSink>, logging: EventLogging) -> Emitter {
        Emitter {
            sink,
            mask: Arc::new(AtomicU32::new(logging.0)),
            computer: computer_name().into(),
            process_id: std::process::id(),
        }
    }

    /// An emitter that records nothing.
    pub fn disabled() -> Emitter {
        Emitter::new(Arc::new(NullSink), EventLogging::NONE)
    }

    /// The current mask.
    pub fn logging(&self) -> EventLogging {
        EventLogging(self.mask.load(Ordering::Relaxed))
    }

    /// Change the mask (shared by every clone of this emitter).
    pub fn set_logging(&self, logging: EventLogging) {
        self.mask.store(logging.0, Ordering::Relaxed);
    }

    /// Whether `id` would be recorded now.
    pub fn is_enabled(&self, id: EventId) -> bool {
        self.logging().allows(id.level())
    }

    /// The sink.
    pub fn sink(&self) -> &Arc<dyn EventSink> {
        &self.sink
    }

    /// Start a record of `id`; fill it with `.field(..)`, `.activity(..)`, `.binary(..)`
    /// and `.send()` it. Nothing is built when the mask excludes the event.
    pub fn event(&self, id: EventId) -> RecordBuilder<'_> {
        let record = self.is_enabled(id).then(|| self.blank(id));
        RecordBuilder {
            emitter: self,
            record,
        }
    }

    /// A record of `id` stamped with the time, computer, process and thread, no data.
    /// (For callers that fill the data by name, such as `schannel events write`; such
    /// records go straight to [`EventSink::emit`] and bypass the mask.)
    pub fn blank(&self, id: EventId) -> EventRecord {
        EventRecord {
            record_id: 0,
            time: time::now_nanos(),
            event_id: id,
            computer: self.computer.clone(),
            process_id: self.process_id,
            thread_id: thread_id(),
            activity_id: None,
            // Room for typical values: one allocation for the whole record's text.
            data: Fields::with_capacity(id.def().fields.len() * 16),
            binary: None,
            fold: None,
        }
    }

    /// Wait until the sink has made everything durable.
    pub fn flush(&self) {
        self.sink.flush();
    }
}

/// The host name, as Windows' `<Computer>` carries it.
pub(crate) fn computer_name() -> String {
    for path in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(s) = std::fs::read_to_string(path) {
            let s = s.trim();
            if !s.is_empty() {
                return s.to_string();
            }
        }
    }
    std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".to_string())
}

/// The kernel thread ID, read once per thread from /proc/thread-self (no unsafe needed).
fn thread_id() -> u32 {
    thread_local! {
        static TID: u32 = std::fs::read_link("/proc/thread-self")
            .ok()
            .and_then(|p| p.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse().ok()))
            .unwrap_or(0);
    }
    TID.with(|t| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_has_windows_meaning() {
        let m = EventLogging(1);
        assert!(
            m.allows(Level::Error) && !m.allows(Level::Warning) && !m.allows(Level::Information)
        );
        let m = EventLogging(3);
        assert!(
            m.allows(Level::Error) && m.allows(Level::Warning) && !m.allows(Level::Information)
        );
        let m = EventLogging(4);
        assert!(!m.allows(Level::Error) && m.allows(Level::Information));
        assert!(!EventLogging(0).allows(Level::Error));
        assert_eq!(EventLogging::default(), EventLogging(1));
    }

    #[test]
    fn each_level_has_exactly_its_bit() {
        for (level, bit) in [
            (Level::Critical, 0x1),
            (Level::Error, 0x1),
            (Level::Warning, 0x2),
            (Level::Information, 0x4),
        ] {
            assert_eq!(EventLogging::bit(level), bit, "{level}");
            assert!(EventLogging(bit).allows(level), "{level}");
            assert!(
                !EventLogging(0x7 & !bit).allows(level),
                "{level}: only bit {bit:#x}"
            );
        }
    }

    #[test]
    fn memory_sink_is_bounded_by_default() {
        let sink = Arc::new(MemorySink::new());
        let e = Emitter::new(sink.clone(), EventLogging::ALL);
        for i in 0..65_536 + 5 {
            e.event(EventId::FatalAlertReceived).field(i).send();
        }
        let records = sink.records();
        assert_eq!(records.len(), 65_536, "the default capacity holds");
        // The newest are kept, the oldest went.
        assert_eq!(&records[0].data[0], "5");
        assert_eq!(&records[65_535].data[0], "65540");
        assert_eq!(sink.capacity(), MemorySink::DEFAULT_CAPACITY);
        assert_eq!(sink.dropped(), 5);
    }

    #[test]
    fn memory_sink_drops_the_oldest_and_counts_them() {
        let sink = Arc::new(MemorySink::with_capacity(3));
        let e = Emitter::new(sink.clone(), EventLogging::ALL);
        for i in 0..3 {
            e.event(EventId::FatalAlertReceived).field(i).send();
        }
        assert_eq!((sink.records().len(), sink.dropped()), (3, 0));
        for i in 3..10 {
            e.event(EventId::FatalAlertReceived).field(i).send();
        }
        let records = sink.records();
        let data: Vec<&str> = records.iter().map(|r| &r.data[0]).collect();
        assert_eq!(data, ["7", "8", "9"]);
        assert_eq!(sink.dropped(), 7);
        // Record IDs keep counting across drops: the gap says what went.
        let ids: Vec<u64> = records.iter().map(|r| r.record_id).collect();
        assert_eq!(ids, [8, 9, 10]);
        sink.clear();
        assert_eq!((sink.records().len(), sink.dropped()), (0, 0));

        let none = Arc::new(MemorySink::with_capacity(0));
        Emitter::new(none.clone(), EventLogging::ALL)
            .event(EventId::FatalAlertReceived)
            .field(48)
            .send();
        assert_eq!((none.records().len(), none.dropped()), (0, 1));
    }

    #[test]
    fn emitter_applies_mask_and_fills_record() {
        let sink = Arc::new(MemorySink::new());
        let e = Emitter::new(sink.clone(), EventLogging::DEFAULT);
        e.event(EventId::HandshakeCompleted).field("client").send();
        e.event(EventId::FatalAlertReceived).field(48).send();
        assert_eq!(sink.ids(), vec![36887]);
        e.set_logging(EventLogging::ALL);
        e.event(EventId::HandshakeCompleted).field("client").send();
        let r = &sink.records()[1];
        assert_eq!(r.data.len(), 12);
        assert_eq!(&r.data[0], "client");
        assert_eq!(r.process_id, std::process::id());
        assert!(r.thread_id != 0);
    }
}
