//! What a durable log does when it is full: one type for the settings' `EventLog\Retention`
//! (the provider) and the store's behaviour (securechannel-eventlog), which both depend on
//! this crate and not on each other.

/// What happens when the log reaches its maximum size (Windows' "When maximum event log
/// size is reached").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retention {
    /// "Overwrite events as needed (oldest events first)": the oldest records are deleted
    /// so the log stays under its maximum size. The Windows default.
    #[default]
    OverwriteOldest,
    /// "Archive the log when full, do not overwrite events": the full log is moved to
    /// `events-archive-<UTC time>.db` next to it and a new log is started; record IDs go
    /// on from where the archived log stopped.
    Archive,
}
