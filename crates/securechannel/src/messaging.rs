//! `Messaging\MessageLimitClient`, `MessageLimitServer`, `MessageLimitServerClientAuth`:
//! the largest handshake message a context accepts from its peer.
//!
//! rustls refuses handshake messages above its own 64 KiB (0xffff bytes) and buffers
//! anything below. A smaller limit is enforced here, before rustls sees the record that
//! starts the message: [`HandshakeWatch`] reads the peer's records in stream order as
//! they arrive and, for every handshake message in plaintext, its 4-byte header; a
//! message whose header announces more than the limit fails the context, with rustls'
//! own answer to an oversized message (decode_error, see
//! `engine::oversized_message_alert`), before a byte of its body is buffered.
//!
//! What travels in plaintext, and is therefore limited here: the ClientHello (both
//! versions, and the second one after a HelloRetryRequest), the TLS 1.3 ServerHello, the
//! whole TLS 1.2 server flight (Certificate, ServerKeyExchange, CertificateRequest) and
//! the TLS 1.2 client flight (Certificate, ClientKeyExchange, CertificateVerify). TLS 1.3
//! encrypts everything after the hellos (the Certificate messages included), so those are
//! bounded by the engine's own limit; `schannel config show` says so.

use std::fmt;

/// The engine's own limit on a handshake message (rustls' deframer): the effective bound
/// where the setting is larger, and for everything that is encrypted.
pub(crate) const ENGINE_MESSAGE_LIMIT: u32 = 0xffff;

/// What the watch refuses before the engine reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A handshake message above `Messaging\MessageLimit*`.
    Message(OversizedMessage),
    /// A plaintext record announcing more than 2^14 bytes (RFC 5246 section 6.2.1, RFC 8446
    /// section 5.1), which rustls would read up to 2^14 + 2048; refused at its header.
    Record {
        /// The length its header announces.
        len: usize,
    },
}

/// A handshake message larger than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OversizedMessage {
    /// The handshake message type (1 ClientHello, 2 ServerHello, 11 Certificate, ...).
    pub(crate) typ: u8,
    /// Its size with its 4-byte header, as the header announces it.
    pub(crate) size: usize,
    /// The limit.
    pub(crate) limit: u32,
}

impl OversizedMessage {
    /// The message type's name.
    pub(crate) fn type_name(&self) -> &'static str {
        match self.typ {
            1 => "ClientHello",
            2 => "ServerHello",
            4 => "NewSessionTicket",
            8 => "EncryptedExtensions",
            11 => "Certificate",
            12 => "ServerKeyExchange",
            13 => "CertificateRequest",
            14 => "ServerHelloDone",
            15 => "CertificateVerify",
            16 => "ClientKeyExchange",
            20 => "Finished",
            _ => "handshake message",
        }
    }
}

impl fmt::Display for OversizedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} of {} bytes", self.type_name(), self.size)
    }
}

const HANDSHAKE: u8 = 22;
const CHANGE_CIPHER_SPEC: u8 = 20;
const APPLICATION_DATA: u8 = 23;
const ALERT: u8 = 21;
const RECORD_HEADER: usize = 5;
const MESSAGE_HEADER: usize = 4;

/// Reads a peer's records in stream order (see the module docs). The caller shows it each
/// call's input before the engine sees it ([`HandshakeWatch::inspect`]) and tells it
/// afterwards how much the engine consumed ([`HandshakeWatch::consumed`]): offsets are
/// kept in stream coordinates, so the bytes the engine keeps (and may rewrite in place)
/// between calls are never read twice.
#[derive(Debug)]
pub(crate) struct HandshakeWatch {
    limit: u32,
    /// Stream offset of the caller's `input[0]`.
    base: u64,
    /// Stream offset of the next record header to read.
    next_record: u64,
    /// The header of the handshake message in progress, as far as it has arrived.
    header: [u8; MESSAGE_HEADER],
    header_len: usize,
    /// Body bytes of the current message still to come.
    remaining: usize,
    /// Records are encrypted from here on (or the input is not TLS): nothing more to read.
    done: bool,
}

impl HandshakeWatch {
    /// A watch for messages above `limit` bytes.
    pub(crate) fn new(limit: u32) -> HandshakeWatch {
        HandshakeWatch {
            limit,
            base: 0,
            next_record: 0,
            header: [0; MESSAGE_HEADER],
            header_len: 0,
            remaining: 0,
            done: false,
        }
    }

    /// Read the complete records of `input` not read yet. `tls13` says the engine has
    /// negotiated TLS 1.3, where a ChangeCipherSpec record is a compatibility no-op (a
    /// second ClientHello may follow it in plaintext); otherwise ChangeCipherSpec starts
    /// encryption and the watch ends there, as it does at the first application_data
    /// record (TLS 1.3's encrypted records).
    ///
    /// A plaintext handshake or alert record announcing more than 2^14 bytes is refused at
    /// its header, before its body is buffered.
    pub(crate) fn inspect(&mut self, input: &[u8], tls13: bool) -> Result<(), Refused> {
        if self.done {
            return Ok(());
        }
        let Some(mut at) = self
            .next_record
            .checked_sub(self.base)
            .and_then(|a| usize::try_from(a).ok())
        else {
            // The caller dropped bytes it was to hand back: stop rather than misread.
            self.done = true;
            return Ok(());
        };
        while let Some(header) = input.get(at..at + RECORD_HEADER) {
            let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
            if matches!(header[0], HANDSHAKE | ALERT) && len > crate::policy::MAX_FRAGMENT_LEN {
                self.done = true;
                return Err(Refused::Record { len });
            }
            let Some(body) = input.get(at + RECORD_HEADER..at + RECORD_HEADER + len) else {
                break; // not complete yet: read it when it is
            };
            match header[0] {
                HANDSHAKE => self.handshake_bytes(body).map_err(Refused::Message)?,
                CHANGE_CIPHER_SPEC if tls13 => {}
                CHANGE_CIPHER_SPEC | APPLICATION_DATA => {
                    self.done = true;
                    return Ok(());
                }
                ALERT | 24 => {} // alerts, heartbeats
                _ => {
                    // Not TLS framing (an SSLv2-style hello, noise): the engine refuses it.
                    self.done = true;
                    return Ok(());
                }
            }
            at += RECORD_HEADER + len;
            self.next_record += (RECORD_HEADER + len) as u64;
        }
        Ok(())
    }

    /// The engine consumed `n` bytes from the front of the input.
    pub(crate) fn consumed(&mut self, n: usize) {
        self.base += n as u64;
    }

    fn handshake_bytes(&mut self, mut body: &[u8]) -> Result<(), OversizedMessage> {
        while !body.is_empty() {
            if self.remaining > 0 {
                let n = self.remaining.min(body.len());
                self.remaining -= n;
                body = &body[n..];
                continue;
            }
            let n = (MESSAGE_HEADER - self.header_len).min(body.len());
            self.header[self.header_len..self.header_len + n].copy_from_slice(&body[..n]);
            self.header_len += n;
            body = &body[n..];
            if self.header_len == MESSAGE_HEADER {
                self.header_len = 0;
                let len = u32::from_be_bytes([0, self.header[1], self.header[2], self.header[3]]);
                let size = MESSAGE_HEADER + len as usize;
                if size > self.limit as usize {
                    self.done = true;
                    return Err(OversizedMessage {
                        typ: self.header[0],
                        size,
                        limit: self.limit,
                    });
                }
                self.remaining = len as usize;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u8, body: &[u8]) -> Vec<u8> {
        let mut r = vec![typ, 3, 3];
        r.extend_from_slice(&(body.len() as u16).to_be_bytes());
        r.extend_from_slice(body);
        r
    }

    /// A handshake message of `size` bytes with its header, of type `typ`.
    fn message(typ: u8, size: usize) -> Vec<u8> {
        let body = size - 4;
        let mut m = vec![typ];
        m.extend_from_slice(&(body as u32).to_be_bytes()[1..]);
        m.resize(size, 0xab);
        m
    }

    /// `message` cut into records of at most `chunk` bytes.
    fn records(message: &[u8], chunk: usize) -> Vec<u8> {
        message.chunks(chunk).flat_map(|c| record(22, c)).collect()
    }

    #[test]
    fn a_message_at_the_limit_passes_and_one_byte_more_is_refused_at_its_header() {
        let mut w = HandshakeWatch::new(100);
        assert_eq!(w.inspect(&records(&message(1, 100), 30), false), Ok(()));
        let mut w = HandshakeWatch::new(100);
        // Only the first record (with the header) has arrived: refused already.
        let big = records(&message(11, 101), 30);
        let first = &big[..5 + 30];
        assert_eq!(
            w.inspect(first, false),
            Err(Refused::Message(OversizedMessage {
                typ: 11,
                size: 101,
                limit: 100
            }))
        );
    }

    #[test]
    fn a_plaintext_record_over_2_14_is_refused_at_its_header_until_encryption() {
        let header = |typ: u8, len: u16| {
            let mut h = vec![typ, 3, 3];
            h.extend_from_slice(&len.to_be_bytes());
            h
        };
        for typ in [22, 21] {
            assert_eq!(
                HandshakeWatch::new(0xffff).inspect(&header(typ, 0x4001), false),
                Err(Refused::Record { len: 0x4001 })
            );
        }
        // 2^14 itself is allowed: the watch waits for its body.
        assert_eq!(
            HandshakeWatch::new(0xffff).inspect(&header(22, 0x4000), false),
            Ok(())
        );
        // An encrypted record may be longer (up to 2^14 + 2048; the engine checks it).
        let mut w = HandshakeWatch::new(0xffff);
        let mut stream = record(20, &[1]);
        stream.extend(header(22, 0x4100));
        assert_eq!(w.inspect(&stream, false), Ok(()));
        assert_eq!(
            HandshakeWatch::new(0xffff).inspect(&header(23, 0x4100), true),
            Ok(())
        );
    }

    #[test]
    fn messages_are_followed_across_records_calls_and_consumed_bytes() {
        // Two messages in a stream cut at odd places, headers split across records; the
        // engine consumes some bytes between calls and keeps the rest.
        let mut stream = message(2, 60);
        stream.extend(message(11, 90));
        stream.extend(message(14, 4));
        let wire = records(&stream, 7);
        let mut w = HandshakeWatch::new(90);
        let mut input: Vec<u8> = Vec::new();
        let mut fed = 0;
        while fed < wire.len() {
            let n = 11.min(wire.len() - fed);
            input.extend_from_slice(&wire[fed..fed + n]);
            fed += n;
            assert_eq!(w.inspect(&input, false), Ok(()));
            // The engine consumes whole records only, here every other call.
            let whole = whole_records(&input);
            if fed % 2 == 0 {
                input.drain(..whole);
                w.consumed(whole);
            }
        }
        let mut w = HandshakeWatch::new(89);
        assert!(matches!(
            w.inspect(&wire, false),
            Err(Refused::Message(OversizedMessage { typ: 11, .. }))
        ));
    }

    fn whole_records(input: &[u8]) -> usize {
        let mut at = 0;
        while at + 5 <= input.len() {
            let len = usize::from(u16::from_be_bytes([input[at + 3], input[at + 4]]));
            if at + 5 + len > input.len() {
                break;
            }
            at += 5 + len;
        }
        at
    }

    #[test]
    fn encryption_ends_the_watch_except_tls13_compatibility_change_cipher_spec() {
        let ccs = record(20, &[1]);
        let big = records(&message(1, 1000), 500);
        let mut after_ccs = ccs.clone();
        after_ccs.extend_from_slice(&big);
        // TLS 1.2: what follows ChangeCipherSpec is encrypted, never read.
        assert_eq!(HandshakeWatch::new(100).inspect(&after_ccs, false), Ok(()));
        // TLS 1.3: a second ClientHello after the compatibility ChangeCipherSpec is read.
        assert!(HandshakeWatch::new(100).inspect(&after_ccs, true).is_err());
        let mut after_data = record(23, &[0; 20]);
        after_data.extend_from_slice(&big);
        assert_eq!(HandshakeWatch::new(100).inspect(&after_data, true), Ok(()));
        // Not TLS at all: left to the engine.
        assert_eq!(
            HandshakeWatch::new(100).inspect(&[0x80, 0x2e, 1, 3, 1, 0], false),
            Ok(())
        );
    }
}
