//! Where operators already look: the web event viewer (`schannel events serve`) and
//! forwarding to the collectors they run (`schannel events forward`).
//!
//! - [`viewer`]: an HTTP server (axum) over the System log, read-only: a JSON API with
//!   the CLI's filters ([`securechannel_eventlog::QuerySpec`]), paged newest first by
//!   record ID, each record's message, text and XML exactly as the CLI renders them, live
//!   arrivals as server-sent events (the log's follow), events per minute by ID, and a
//!   small embedded page. Loopback by default; any other address needs a bearer token
//!   ([`ListenPolicy`]). The API is documented in `docs/viewer.md`.
//! - [`forward`]: RFC 5424 syslog over TCP (RFC 6587 octet counting) to a collector,
//!   at least once, resuming from the last acknowledged record ID kept in the data
//!   directory; over TLS (RFC 5425) with the collector's certificate verified.
//! - [`otlp`]: OpenTelemetry logs over OTLP/HTTP, the same state and acknowledgement.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod forward;
mod live;
pub mod otlp;
pub mod viewer;

pub use viewer::{ListenPolicy, Viewer, ViewerError};
