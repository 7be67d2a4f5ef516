//! Oversized handshake messages: rustls' own answer to a message above a limit.

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
        Side::Server(config) => {
            let mut conn = UnbufferedServerConnection::new(config).ok()?;
            let h = drive_handshake(
                &mut conn,
                &mut undecodable_record(1),
                &mut alert,
                &mut Vec::new(),
            );
            // Nothing of this throwaway connection may reach the next context.
            let _ = super::config::take_client_sni();
            h
        }
        Side::Client(config) => {
            let name = ServerName::try_from("oversized.invalid").ok()?;
            let mut conn = UnbufferedClientConnection::new(config, name).ok()?;
            // Its ClientHello goes nowhere.
            let hello = drive_handshake(&mut conn, &mut [], &mut Vec::new(), &mut Vec::new());
            hello.result.ok()?;
            let mut input = undecodable_record(2);
            drive_handshake(&mut conn, &mut input, &mut alert, &mut Vec::new())
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
