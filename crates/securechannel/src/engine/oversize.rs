//! Oversized handshake messages and records: rustls' own answer (decode_error, from a
//! throwaway connection of the same side) to a message above `Messaging\MessageLimit*`
//! and to a first flight whose plaintext records exceed 2^14 bytes.

use super::drive_handshake;
use rustls::client::UnbufferedClientConnection;
use rustls::server::UnbufferedServerConnection;
use rustls::{ClientConfig, ServerConfig};
use rustls_pki_types::ServerName;
use std::sync::Arc;

/// Whose answer: a fresh connection of the context's side, from its configuration.
pub(crate) enum Side {
    /// A client, waiting for the ServerHello.
    Client(Arc<ClientConfig>),
    /// A server, waiting for the ClientHello.
    Server(Arc<ServerConfig>),
}

/// A plaintext record holding a handshake message of type `typ` with an empty body, which
/// no hello can be: 1 (ClientHello) for a server to read, 2 (ServerHello) for a client.
fn undecodable_record(typ: u8) -> Vec<u8> {
    vec![22, 3, 3, 0, 4, typ, 0, 0, 0]
}

/// The alert rustls sends for a handshake message it cannot decode (decode_error, in
/// plaintext), and its failure. `Messaging\MessageLimit*` refuses a message while it
/// travels in plaintext, before rustls has seen it (see `messaging`); this provider never
/// encodes a record itself, so the alert is rustls' own, from a fresh connection of the
/// same side and configuration shown a hello with an empty body (as for legacy hellos,
/// `legacy_protocol_version_alert`). RFC 8446's decode_error is the alert for "the length
/// of the message was incorrect". (rustls sends no alert at all for a message above its
/// own 64 KiB: its deframer returns that error without one, so that one cannot be shown.)
/// `None` when rustls did anything else than fail with a decoding error and one alert.
pub(crate) fn oversized_message_alert(side: Side) -> Option<(rustls::Error, Vec<u8>)> {
    let mut alert = Vec::new();
    let h = match side {
        Side::Server(config) => return server_answer(config, &mut undecodable_record(1)),
        Side::Client(config) => {
            let name = ServerName::try_from("oversized.invalid").ok()?;
            let mut conn = UnbufferedClientConnection::new(config, name).ok()?;
            // Its ClientHello goes nowhere.
            let hello =
                drive_handshake(&mut conn, &mut [], &mut Vec::new(), &mut Vec::new(), &mut 0);
            hello.result.ok()?;
            let mut input = undecodable_record(2);
            drive_handshake(&mut conn, &mut input, &mut alert, &mut Vec::new(), &mut 0)
        }
    };
    match h.result {
        Err(e @ rustls::Error::InvalidMessage(_))
            if h.alert_written > 0 && h.written == h.alert_written =>
        {
            Some((e, alert))
        }
        _ => None,
    }
}

/// A fresh server connection's failure for `input`, with the one alert it sent.
fn server_answer(config: Arc<ServerConfig>, input: &mut [u8]) -> Option<(rustls::Error, Vec<u8>)> {
    let mut conn = UnbufferedServerConnection::new(config).ok()?;
    let mut alert = Vec::new();
    let h = drive_handshake(&mut conn, input, &mut alert, &mut Vec::new(), &mut 0);
    // Nothing of this throwaway connection may reach the next context.
    let _ = super::config::take_client_sni();
    match h.result {
        Err(e @ rustls::Error::InvalidMessage(_))
            if h.alert_written > 0 && h.written == h.alert_written =>
        {
            Some((e, alert))
        }
        _ => None,
    }
}

/// The alert rustls sends for a plaintext record longer than it reads (a header
/// announcing 65535 bytes), and its failure (`InvalidMessage::MessageTooLarge`, which the
/// verdict table names RecordOverflow).
///
/// Why: RFC 8446 section 5.1 and RFC 5246 section 6.2.1 limit a plaintext record to 2^14
/// bytes and call for record_overflow, but rustls 0.23.46 reads plaintext records up to
/// 2^14 + 2048 bytes, and sends record_overflow only for a record it decrypted (never in
/// plaintext); past its own limit it refuses the record with decode_error. That is the
/// alert a first flight with an over-long record gets here: rustls' bytes.
pub(crate) fn oversized_record_alert(
    config: Arc<ServerConfig>,
) -> Option<(rustls::Error, Vec<u8>)> {
    server_answer(config, &mut [22, 3, 1, 0xFF, 0xFF]).filter(|(e, _)| {
        matches!(
            e,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::MessageTooLarge)
        )
    })
}

/// Whether a record of the first flight (the plaintext handshake records up to the end of
/// `buf`) announces more than 2^14 bytes.
pub(crate) fn first_flight_has_oversized_record(buf: &[u8]) -> bool {
    let mut at = 0;
    while let Some(header) = buf.get(at..at + 5) {
        if header[0] != 22 {
            return false;
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if len > crate::policy::MAX_FRAGMENT_LEN {
            return true;
        }
        at += 5 + len;
    }
    false
}
