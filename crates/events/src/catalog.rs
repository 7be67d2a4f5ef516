//! The 25 Schannel events: IDs, levels, EventData field names and message templates.

use std::fmt;

include!("catalog_table.rs");

/// Windows event levels, with their numeric values as they appear in the event XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Level {
    /// 1: critical.
    Critical = 1,
    /// 2: error.
    Error = 2,
    /// 3: warning.
    Warning = 3,
    /// 4: information (Schannel's success events too).
    Information = 4,
}

impl Level {
    /// The numeric level of the event XML (`<Level>2</Level>`).
    pub fn value(self) -> u8 {
        self as u8
    }

    /// The level from its XML number.
    pub fn from_value(v: u8) -> Option<Level> {
        match v {
            1 => Some(Level::Critical),
            2 => Some(Level::Error),
            3 => Some(Level::Warning),
            4 => Some(Level::Information),
            _ => None,
        }
    }

    /// Event Viewer's name for the level.
    pub fn name(self) -> &'static str {
        match self {
            Level::Critical => "Critical",
            Level::Error => "Error",
            Level::Warning => "Warning",
            Level::Information => "Information",
        }
    }

    /// Parse `error`, `warning`, `information` (also `info`, `critical`, or the number).
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_lowercase().as_str() {
            "critical" | "1" => Some(Level::Critical),
            "error" | "2" => Some(Level::Error),
            "warning" | "warn" | "3" => Some(Level::Warning),
            "information" | "info" | "informational" | "4" => Some(Level::Information),
            _ => None,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One event of the catalog.
#[derive(Debug)]
pub struct EventDef {
    /// The event ID.
    pub id: EventId,
    /// A short title.
    pub title: &'static str,
    /// The level Windows logs it at.
    pub level: Level,
    /// The EventData `<Data Name="...">` names, in insertion-string order (`%1`, `%2`, ...).
    pub fields: &'static [&'static str],
    /// Whether the event carries attached binary data (a DER certificate).
    pub binary: bool,
    /// The modern (Windows 10) message template.
    pub message: &'static str,
    /// The Windows 6.x wording, where it differs.
    pub legacy: Option<&'static str>,
    /// The event exists only in the Windows 6.x message tables.
    pub legacy_only: bool,
    /// The symbolic name, where one is known.
    pub symbolic: Option<&'static str>,
    /// What the event means in this project.
    pub trigger: &'static str,
}

impl EventDef {
    /// The position of a field by its EventData name.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields
            .iter()
            .position(|f| f.eq_ignore_ascii_case(name))
    }
}

/// An event ID outside 36864-36888.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownEventId(pub u32);

impl fmt::Display for UnknownEventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is not a Schannel event ID (the catalog holds 36864-36888)",
            self.0
        )
    }
}

impl std::error::Error for UnknownEventId {}

impl EventId {
    /// The numeric event ID.
    pub fn value(self) -> u16 {
        self as u16
    }

    /// The catalog entry of this event.
    pub fn def(self) -> &'static EventDef {
        // CATALOG is in ID order starting at 36864, one entry per ID (tested below).
        &CATALOG[(self as u16 - 36864) as usize]
    }

    /// The level of this event.
    pub fn level(self) -> Level {
        self.def().level
    }

    /// Every event ID, in order.
    pub fn all() -> impl Iterator<Item = EventId> {
        CATALOG.iter().map(|d| d.id)
    }
}

impl TryFrom<u32> for EventId {
    type Error = UnknownEventId;

    fn try_from(v: u32) -> Result<EventId, UnknownEventId> {
        if (36864..=36888).contains(&v) {
            Ok(CATALOG[(v - 36864) as usize].id)
        } else {
            Err(UnknownEventId(v))
        }
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_is_in_id_order_without_gaps() {
        for (i, def) in CATALOG.iter().enumerate() {
            assert_eq!(def.id.value() as usize, 36864 + i);
            assert_eq!(EventId::try_from(36864 + i as u32).unwrap(), def.id);
        }
        assert!(EventId::try_from(36863).is_err());
        assert!(EventId::try_from(36889).is_err());
    }
}
