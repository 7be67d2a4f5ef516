//! The SCHANNEL settings tree, read from `settings.toml` in the data directory.
//! (Skeleton: the credentials/settings work fills it in.)

use crate::{Protocol, Role};
use securechannel_events::EventLogging;

/// The effective SCHANNEL settings.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `EventLogging`.
    pub event_logging: EventLogging,
    /// The cipher suite order (`...\SSL\00010002\Functions`): IANA names; empty = default.
    pub cipher_suite_order: Vec<String>,
}

impl Settings {
    /// The protocol versions enabled for `role` by default (a credential may narrow them),
    /// newest first. Only versions rustls speaks are returned.
    pub fn enabled_protocols(&self, _role: Role) -> Vec<Protocol> {
        vec![Protocol::Tls13, Protocol::Tls12]
    }
}
