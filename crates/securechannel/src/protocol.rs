//! The vocabulary shared by credentials, settings and contexts.

use std::fmt;

/// Which side of a connection a credential or context is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The side that sends the ClientHello.
    Client,
    /// The side that answers it.
    Server,
}

impl Role {
    /// `client` or `server`, as events 36867-36871 and 36880 print it (%1).
    pub fn name(self) -> &'static str {
        match self {
            Role::Client => "client",
            Role::Server => "server",
        }
    }

    /// The registry key name: `Client` or `Server`.
    pub fn key_name(self) -> &'static str {
        match self {
            Role::Client => "Client",
            Role::Server => "Server",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A protocol version, named as the SCHANNEL\Protocols registry keys name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// SSL 2.0 (never spoken; recognised in hellos).
    Ssl2,
    /// SSL 3.0 (never spoken; recognised in hellos).
    Ssl3,
    /// TLS 1.0 (never spoken; recognised in hellos).
    Tls10,
    /// TLS 1.1 (never spoken; recognised in hellos).
    Tls11,
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

impl Protocol {
    /// Every protocol, oldest first.
    pub const ALL: [Protocol; 6] = [
        Protocol::Ssl2,
        Protocol::Ssl3,
        Protocol::Tls10,
        Protocol::Tls11,
        Protocol::Tls12,
        Protocol::Tls13,
    ];

    /// The registry / event name: `SSL 3.0`, `TLS 1.2`, ...
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ssl2 => "SSL 2.0",
            Protocol::Ssl3 => "SSL 3.0",
            Protocol::Tls10 => "TLS 1.0",
            Protocol::Tls11 => "TLS 1.1",
            Protocol::Tls12 => "TLS 1.2",
            Protocol::Tls13 => "TLS 1.3",
        }
    }

    /// The protocol from its registry name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Protocol> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The wire version (`0x0303` for TLS 1.2); SSL 2.0 is `0x0002`.
    pub fn wire_version(self) -> u16 {
        match self {
            Protocol::Ssl2 => 0x0002,
            Protocol::Ssl3 => 0x0300,
            Protocol::Tls10 => 0x0301,
            Protocol::Tls11 => 0x0302,
            Protocol::Tls12 => 0x0303,
            Protocol::Tls13 => 0x0304,
        }
    }

    /// The protocol of a wire version.
    pub fn from_wire(v: u16) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.wire_version() == v)
    }

    /// Whether rustls can speak it (TLS 1.2 and 1.3 only).
    pub fn is_supported(self) -> bool {
        matches!(self, Protocol::Tls12 | Protocol::Tls13)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
