//! Recognising a ClientHello from its first bytes, before rustls sees it, so that a hello
//! rustls cannot speak (SSLv2-compatible, SSL 3.0, TLS 1.0, TLS 1.1) is still named in
//! event 36874. This is the only wire parsing of our own; it has a fuzz target.
//! (Skeleton with the contract; the hello work fills it in.)

use crate::Protocol;

/// What the first bytes of a connection say about the client's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelloSniff {
    /// Not enough bytes yet to decide.
    NeedMore,
    /// Not a TLS handshake record at all (let rustls report it).
    NotAHello,
    /// A ClientHello whose highest offered version is this one.
    Offered(Protocol),
}

/// Look at the start of a connection's first flight.
pub fn sniff_client_hello(_buf: &[u8]) -> HelloSniff {
    HelloSniff::NotAHello
}
