//! rustls' own plaintext alerts where the real connection cannot produce one: a fresh
//! throwaway connection of the same side and configuration is shown a record it refuses
//! with the alert wanted, and its bytes are what goes out. This provider never encodes a
//! record itself. Used for
//! - a handshake message above `Messaging\MessageLimit*` (decode_error), refused before
//!   rustls reads it;
//! - a first flight whose plaintext records exceed 2^14 bytes (decode_error);
//! - a failure rustls answers with no alert at all (a handshake message interleaved with
//!   another record, too many warning alerts or empty fragments, a message over its own
//!   64 KiB) while this side still sends plaintext: the alert the verdict table names.

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

/// The alerts a throwaway connection can be made to send in plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlaintextAlert {
    /// decode_error (50): shown a hello with an empty body.
    DecodeError,
    /// unexpected_message (10): shown a ChangeCipherSpec where its hello should be.
    UnexpectedMessage,
}

impl PlaintextAlert {
    /// The alert's code.
    pub(crate) fn code(self) -> u8 {
        match self {
            PlaintextAlert::DecodeError => 50,
            PlaintextAlert::UnexpectedMessage => 10,
        }
    }

    /// A record the side's fresh connection refuses with this alert: a handshake message
    /// of type `hello` (1 ClientHello for a server, 2 ServerHello for a client) with an
    /// empty body, which no hello can be; or a ChangeCipherSpec before any hello.
    fn provocation(self, hello: u8) -> Vec<u8> {
        match self {
            PlaintextAlert::DecodeError => vec![22, 3, 3, 0, 4, hello, 0, 0, 0],
            PlaintextAlert::UnexpectedMessage => vec![20, 3, 3, 0, 1, 1],
        }
    }

    /// Whether `e` is the failure rustls answers with this alert.
    fn is_its_failure(self, e: &rustls::Error) -> bool {
        match self {
            PlaintextAlert::DecodeError => matches!(e, rustls::Error::InvalidMessage(_)),
            PlaintextAlert::UnexpectedMessage => {
                matches!(e, rustls::Error::InappropriateMessage { .. })
            }
        }
    }
}

/// A fresh connection of `side`, shown `provocation` (for a client, after its
/// ClientHello, which goes nowhere): its failure and what it wrote, when it failed with
/// exactly one fatal alert record and nothing else.
fn throwaway_answer(
    side: Side,
    provocation: impl FnOnce(u8) -> Vec<u8>,
) -> Option<(rustls::Error, Vec<u8>)> {
    let mut bytes = Vec::new();
    let h = match side {
        Side::Server(config) => {
            let mut conn = UnbufferedServerConnection::new(config).ok()?;
            let h = drive_handshake(
                &mut conn,
                &mut provocation(1),
                &mut bytes,
                &mut Vec::new(),
                &mut 0,
            );
            // Nothing of this throwaway connection may reach the next context.
            let _ = super::config::take_client_sni();
            let _ = super::config::take_certificate_choice();
            h
        }
        Side::Client(config) => {
            let name = ServerName::try_from("throwaway.invalid").ok()?;
            let mut conn = UnbufferedClientConnection::new(config, name).ok()?;
            let hello =
                drive_handshake(&mut conn, &mut [], &mut Vec::new(), &mut Vec::new(), &mut 0);
            hello.result.ok()?;
            drive_handshake(
                &mut conn,
                &mut provocation(2),
                &mut bytes,
                &mut Vec::new(),
                &mut 0,
            )
        }
    };
    match h.result {
        Err(e)
            if h.alert_written > 0
                && h.written == h.alert_written
                && matches!(bytes[..], [21, 3, _, 0, 2, 2, _]) =>
        {
            Some((e, bytes))
        }
        _ => None,
    }
}

/// rustls' plaintext `alert` from a fresh connection of `side`, and that connection's
/// failure. `None` when rustls did anything else than fail as expected with exactly one
/// alert record carrying that code (so what goes out is always the alert named).
pub(crate) fn plaintext_alert(
    side: Side,
    alert: PlaintextAlert,
) -> Option<(rustls::Error, Vec<u8>)> {
    throwaway_answer(side, |hello| alert.provocation(hello))
        .filter(|(e, bytes)| alert.is_its_failure(e) && bytes[6] == alert.code())
}

/// The alert rustls sends for a handshake message it cannot decode (decode_error, in
/// plaintext), and its failure. `Messaging\MessageLimit*` refuses a message while it
/// travels in plaintext, before rustls has seen it (see `messaging`); RFC 8446's
/// decode_error is the alert for "the length of the message was incorrect".
pub(crate) fn oversized_message_alert(side: Side) -> Option<(rustls::Error, Vec<u8>)> {
    plaintext_alert(side, PlaintextAlert::DecodeError)
}

/// The alert rustls sends for a plaintext record longer than it reads (a header
/// announcing 65535 bytes), and its failure (`InvalidMessage::MessageTooLarge`, which the
/// verdict table names RecordOverflow).
///
/// Why: RFC 8446 section 5.1 and RFC 5246 section 6.2.1 limit a plaintext record to 2^14
/// bytes and call for record_overflow, but rustls 0.23.46 reads plaintext records up to
/// 2^14 + 2048 bytes, and sends record_overflow only for a record it decrypted (never in
/// plaintext); past its own limit it refuses the record with decode_error. That is the
/// alert a plaintext record over 2^14 bytes gets here: rustls' bytes.
pub(crate) fn oversized_record_alert(side: Side) -> Option<(rustls::Error, Vec<u8>)> {
    throwaway_answer(side, |_| vec![22, 3, 3, 0xFF, 0xFF]).filter(|(e, bytes)| {
        matches!(
            e,
            rustls::Error::InvalidMessage(rustls::InvalidMessage::MessageTooLarge)
        ) && bytes[6] == PlaintextAlert::DecodeError.code()
    })
}
