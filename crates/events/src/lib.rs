//! The Schannel event catalog and the record type every part of securechannel speaks.
//!
//! - [`EventId`] / [`CATALOG`]: the 25 System-log events 36864-36888 with their levels,
//!   EventData field names and message templates, exactly as Windows has them.
//! - [`EventRecord`]: one logged event, carrying what a Windows record carries.
//! - [`EventLogging`]: the registry's EventLogging mask (0x1 errors, 0x2 warnings,
//!   0x4 informational), deciding what gets recorded.
//! - [`EventSink`] / [`Emitter`]: how the provider hands records to a store without
//!   knowing what the store is.
//! - [`Status`] and [`AlertDescription`]: the SSPI status codes and TLS alerts the events
//!   name, one table each.
//! - rendering: the message text, Event Viewer's XML view, JSON lines, the winlogbeat
//!   (ECS) shape SIEM rules match, and RFC 5424 syslog messages.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod alert;
mod catalog;
mod emitter;
mod error_state;
mod fields;
mod record;
mod render;
mod retention;
mod status;
mod time;

pub use alert::AlertDescription;
pub use catalog::{EventDef, EventId, Level, UnknownEventId, CATALOG};
pub use emitter::{Emitter, EventLogging, EventSink, MemorySink, NullSink};
pub use error_state::ErrorState;
pub use fields::{decimal_digits, Fields, Iter as FieldsIter, INLINE_FIELDS};
pub use record::{
    ActivityId, EventRecord, Fold, FoldReason, RecordBuilder, PROVIDER_GUID, PROVIDER_NAME,
};
pub use render::{
    event_data, render_ecs, render_json, render_message, render_syslog, render_text, render_xml,
    SyslogBody, Wording, SYSLOG_FACILITY, SYSLOG_PEN,
};
pub use retention::Retention;
pub use status::Status;
pub use time::{format_rfc3339, parse_rfc3339, UnixNanos};
