//! The EventLogging mask, the EventSink trait, and the Emitter the provider logs through.

use crate::record::RecordBuilder;
use crate::{time, EventId, EventRecord, Level};
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

/// A sink that keeps records in memory (for tests and embedding).
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<EventRecord>>,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> MemorySink {
        MemorySink::default()
    }

    /// A copy of every record so far, oldest first.
    pub fn records(&self) -> Vec<EventRecord> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The IDs of every record so far, oldest first.
    pub fn ids(&self) -> Vec<u16> {
        self.records().iter().map(|r| r.event_id.value()).collect()
    }

    /// Forget every record.
    pub fn clear(&self) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl EventSink for MemorySink {
    fn emit(&self, mut record: EventRecord) {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        record.record_id = records.len() as u64 + 1;
        records.push(record);
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
            data: Vec::with_capacity(id.def().fields.len()),
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
        assert_eq!(r.data[0], "client");
        assert_eq!(r.process_id, std::process::id());
        assert!(r.thread_id != 0);
    }
}
