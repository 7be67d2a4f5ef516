//! The rustls adapter: the only module that names rustls' unbuffered connection types
//! (`UnbufferedClientConnection`, `UnbufferedServerConnection`, `ConnectionState`,
//! `process_tls_records`). Contexts see [`Engine`] and the project's own types.
//!
//! - this file: [`Engine`], one rustls connection driven the way SSPI calls drive it
//!   (handshake, read, write, close), with the record arithmetic SSPI reports;
//! - `config`: the rustls configurations of a credential, built once and reused;
//! - `legacy`: rustls' own protocol_version alert for a hello it cannot speak;
//! - `answer`: rustls' own plaintext alerts where the real connection cannot send one (a
//!   message above a limit, a failure rustls answers with no alert).

mod answer;
mod config;
mod legacy;
#[cfg(test)]
mod tests;

pub(crate) use answer::{
    oversized_message_alert, oversized_record_alert, plaintext_alert, PlaintextAlert, Side,
};
pub(crate) use config::{ClientSetup, ConfigCache, ConfigError, ServerSetup};
pub(crate) use legacy::legacy_protocol_version_alert;

use crate::policy::{MAX_FRAGMENT_LEN, RECORD_HEADER_LEN};
use crate::Protocol;
use rustls::client::UnbufferedClientConnection;
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{
    ConnectionState, EncodeError, EncodeTlsData, EncryptError, InsufficientSizeError, ReadTraffic,
    UnbufferedStatus,
};
use rustls::{ClientConfig, CommonState, ServerConfig};
use rustls_pki_types::ServerName;
use std::cell::RefCell;
use std::sync::Arc;

// ---------------------------------------------------------------------------------------
// The engine: one unbuffered rustls connection, driven the way SSPI calls drive it.

/// One side's rustls connection.
pub(crate) struct Engine {
    conn: Conn,
    /// Server: the SNI name the client sent.
    sni: Option<String>,
    certificate_choice: Option<crate::credential::CertificateChoice>,
    /// The peer sent close_notify (rustls reports it once, as a state).
    peer_closed: bool,
    /// Handshake input rustls has read and kept unconsumed (see `drive_handshake`).
    kept: usize,
    /// The key-exchange group of the session being resumed (a resumed TLS 1.2 handshake
    /// negotiates none; the session remembers its full handshake's).
    resumed_group: Option<u16>,
    /// This side has sent its ChangeCipherSpec: a TLS 1.2 connection encrypts what it
    /// sends from there on (see [`Engine::sends_plaintext`]).
    sent_ccs: bool,
}

enum Conn {
    Client(Box<UnbufferedClientConnection>),
    Server(Box<UnbufferedServerConnection>),
}

/// What rustls' unbuffered connections have in common, so the drive loops are written
/// once for both sides.
trait Unbuffered {
    type Data;
    fn common(&self) -> &CommonState;
    fn process<'c, 'i>(&'c mut self, input: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data>;
}

impl Unbuffered for UnbufferedClientConnection {
    type Data = rustls::client::ClientConnectionData;
    fn common(&self) -> &CommonState {
        self
    }
    fn process<'c, 'i>(&'c mut self, input: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(input)
    }
}

impl Unbuffered for UnbufferedServerConnection {
    type Data = rustls::server::ServerConnectionData;
    fn common(&self) -> &CommonState {
        self
    }
    fn process<'c, 'i>(&'c mut self, input: &'i mut [u8]) -> UnbufferedStatus<'c, 'i, Self::Data> {
        self.process_tls_records(input)
    }
}

/// The outcome of one handshake call.
pub(crate) struct Handshake {
    /// Input bytes rustls is done with; the rest is the caller's to hand back.
    pub(crate) consumed: usize,
    /// Bytes appended to the output (handshake messages, and the alert after a failure).
    pub(crate) written: usize,
    /// Bytes rustls had queued when it failed: its fatal alert (behind any message queued
    /// in the same breath). Zero when it sent none, e.g. for a received alert; bytes
    /// written before the failure (a TLS 1.3 client's compatibility ChangeCipherSpec)
    /// do not count.
    pub(crate) alert_written: usize,
    pub(crate) result: Result<HandshakeProgress, rustls::Error>,
    /// close_notify arrived right behind the handshake.
    pub(crate) peer_closed: bool,
    /// On failure: rustls had consumed the last record it was given, so the failure came
    /// from checking a message (a Finished that does not verify: decrypt_error), not from
    /// the record layer refusing the record (bad_record_mac).
    pub(crate) last_record_consumed: bool,
}

/// Where the handshake stands after a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandshakeProgress {
    /// rustls needs more input.
    Blocked,
    /// rustls says the handshake is complete.
    Complete,
}

/// The outcome of one read (decrypt) call.
pub(crate) struct Read {
    pub(crate) consumed: usize,
    /// Plaintext bytes appended.
    pub(crate) plaintext: usize,
    /// What rustls had queued when it failed (its alert), as for [`Handshake`]; other
    /// post-handshake TLS bytes (a key update answer) may be in the output too.
    pub(crate) alert_written: usize,
    /// close_notify arrived in this call.
    pub(crate) peer_closed: bool,
    pub(crate) result: Result<(), rustls::Error>,
}

macro_rules! with_conn {
    ($engine:expr, $c:ident => $body:expr) => {
        match &mut $engine.conn {
            Conn::Client($c) => $body,
            Conn::Server($c) => $body,
        }
    };
}

impl Engine {
    /// A client connection to `name`, offering `alpn`.
    pub(crate) fn client(
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        alpn: Vec<Vec<u8>>,
    ) -> Result<Engine, rustls::Error> {
        let conn = UnbufferedClientConnection::new_with_alpn(config, name, alpn)?;
        Ok(Engine {
            conn: Conn::Client(Box::new(conn)),
            sni: None,
            certificate_choice: None,
            peer_closed: false,
            kept: 0,
            resumed_group: None,
            sent_ccs: false,
        })
    }

    /// A server connection.
    pub(crate) fn server(config: Arc<ServerConfig>) -> Result<Engine, rustls::Error> {
        let conn = UnbufferedServerConnection::new(config)?;
        Ok(Engine {
            conn: Conn::Server(Box::new(conn)),
            sni: None,
            certificate_choice: None,
            peer_closed: false,
            kept: 0,
            resumed_group: None,
            sent_ccs: false,
        })
    }

    fn common(&self) -> &CommonState {
        match &self.conn {
            Conn::Client(c) => c,
            Conn::Server(c) => c,
        }
    }

    /// Feed handshake input, append output. Application data that arrives with the last
    /// handshake flight is appended to `early_plaintext` (it is never dropped).
    pub(crate) fn handshake(
        &mut self,
        input: &mut [u8],
        out: &mut Vec<u8>,
        early_plaintext: &mut Vec<u8>,
    ) -> Handshake {
        // The resumption stores learn this connection's group (the drive loop tells them
        // before each record), and say which group a resumed session had.
        let kept = &mut self.kept;
        let from = out.len();
        let h = with_conn!(self, c => drive_handshake(&mut **c, input, out, early_plaintext, kept));
        self.sent_ccs |= has_change_cipher_spec(&out[from..]);
        crate::resumption::end_call();
        if let Some(g) = crate::resumption::take_resumed_group() {
            // Kept only when rustls did resume (a full handshake reports its own group).
            if self.resumed() == Some(true) || self.is_handshaking() {
                self.resumed_group = Some(g);
            }
        }
        self.peer_closed |= h.peer_closed;
        if matches!(self.conn, Conn::Server(_)) {
            if let Some(sni) = config::take_client_sni() {
                self.sni = Some(sni);
            }
            if let Some(choice) = config::take_certificate_choice() {
                self.certificate_choice = Some(choice);
            }
        }
        h
    }

    /// Decrypt every complete record of `input`, appending plaintext to `plaintext` and
    /// any TLS bytes rustls must send in answer (key update, alert) to `out`.
    pub(crate) fn read(
        &mut self,
        input: &mut [u8],
        plaintext: &mut Vec<u8>,
        out: &mut Vec<u8>,
    ) -> Read {
        let r = with_conn!(self, c => drive_read(&mut **c, input, plaintext, out));
        self.peer_closed |= r.peer_closed;
        r
    }

    /// Encrypt `plaintext` into records appended to `out`.
    pub(crate) fn write(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), WriteError> {
        let room = write_room(plaintext.len());
        let closed = &mut self.peer_closed;
        with_conn!(self, c => drive_write(&mut **c, out, room, closed, |wt, buf| wt.encrypt(plaintext, buf)))
    }

    /// Encrypt `plaintext` into records written at the start of `out` (the caller's
    /// buffer, already initialised: nothing is zeroed or copied on our side); returns
    /// the bytes written. Post-handshake messages rustls must send first (a key update)
    /// go to `pending`. `WriteError::TooSmall` says how much room rustls needs.
    pub(crate) fn write_into(
        &mut self,
        plaintext: &[u8],
        out: &mut [u8],
        pending: &mut Vec<u8>,
    ) -> Result<usize, WriteError> {
        let closed = &mut self.peer_closed;
        with_conn!(self, c => drive_write_into(&mut **c, out, pending, closed, |wt, buf| wt.encrypt(plaintext, buf)))
    }

    /// Append a close_notify alert to `out`.
    pub(crate) fn close(&mut self, out: &mut Vec<u8>) -> Result<(), WriteError> {
        let closed = &mut self.peer_closed;
        with_conn!(self, c => drive_write(&mut **c, out, 64, closed, |wt, buf| wt.queue_close_notify(buf)))
    }

    /// Whether what this side sends is still plaintext, so an alert rustls would send now
    /// goes out unencrypted: nothing negotiated yet (a hello not yet answered), or TLS 1.2
    /// before this side's ChangeCipherSpec. A TLS 1.3 connection encrypts from the
    /// ServerHello on (a client may still be plaintext for a moment; it counts as
    /// encrypting here, which only ever withholds an alert).
    pub(crate) fn sends_plaintext(&self) -> bool {
        match self.protocol() {
            None => true,
            Some(Protocol::Tls12) => !self.sent_ccs,
            Some(_) => false,
        }
    }

    /// Whether rustls still considers the handshake in progress.
    pub(crate) fn is_handshaking(&self) -> bool {
        self.common().is_handshaking()
    }

    /// Whether the peer sent close_notify.
    pub(crate) fn peer_has_closed(&self) -> bool {
        self.peer_closed
    }

    /// The negotiated protocol.
    pub(crate) fn protocol(&self) -> Option<Protocol> {
        self.common()
            .protocol_version()
            .and_then(|v| Protocol::from_wire(u16::from(v)))
    }

    /// The negotiated cipher suite's IANA number.
    pub(crate) fn cipher_suite(&self) -> Option<u16> {
        self.common()
            .negotiated_cipher_suite()
            .map(|s| u16::from(s.suite()))
    }

    /// The negotiated key-exchange group's IANA number; for a resumed TLS 1.2 session,
    /// the group of the full handshake that made it (Schannel reports the cached
    /// session's parameters).
    pub(crate) fn key_exchange_group(&self) -> Option<u16> {
        self.common()
            .negotiated_key_exchange_group()
            .map(|g| u16::from(g.name()))
            .or(match self.resumed() {
                Some(true) => self.resumed_group,
                _ => None,
            })
    }

    /// The negotiated ALPN protocol.
    pub(crate) fn alpn(&self) -> Option<&[u8]> {
        self.common().alpn_protocol()
    }

    /// Whether this handshake resumed a session.
    pub(crate) fn resumed(&self) -> Option<bool> {
        self.common()
            .handshake_kind()
            .map(|k| k == rustls::HandshakeKind::Resumed)
    }

    /// The peer's certificate chain (DER, end-entity first).
    pub(crate) fn peer_certificates(&self) -> Option<&[rustls_pki_types::CertificateDer<'static>]> {
        self.common().peer_certificates()
    }

    /// Server: the SNI name the client sent.
    /// Server: the certificate the client's hello got (see `credential::sni`).
    pub(crate) fn certificate_choice(&self) -> Option<crate::credential::CertificateChoice> {
        self.certificate_choice
    }

    pub(crate) fn sni(&self) -> Option<&str> {
        self.sni.as_deref()
    }
}

/// The end of the first whole record of `input` that starts at `from`, or `None` when no
/// whole record starts there (a record still arriving, or bytes that are no TLS record:
/// rustls is then given the rest as it is, and asks for more or refuses it).
fn whole_record_end(input: &[u8], from: usize) -> Option<usize> {
    let rest = input.get(from..)?;
    if rest.len() < RECORD_HEADER_LEN || !(20..=24).contains(&rest[0]) {
        return None;
    }
    let end = from + RECORD_HEADER_LEN + usize::from(u16::from_be_bytes([rest[3], rest[4]]));
    (end <= input.len()).then_some(end)
}

/// Whether `records` (whole records rustls wrote) hold a ChangeCipherSpec.
fn has_change_cipher_spec(records: &[u8]) -> bool {
    let mut at = 0;
    while let Some(header) = records.get(at..at + RECORD_HEADER_LEN) {
        if header[0] == 20 {
            return true;
        }
        at += RECORD_HEADER_LEN + usize::from(u16::from_be_bytes([header[3], header[4]]));
    }
    false
}

/// `kept`: the input bytes rustls read in earlier calls and kept unconsumed (whole records
/// holding part of a handshake message, which the caller hands back at the front); rustls
/// must be given at least those again. Updated for the next call.
fn drive_handshake<C: Unbuffered>(
    c: &mut C,
    input: &mut [u8],
    out: &mut Vec<u8>,
    early_plaintext: &mut Vec<u8>,
    kept: &mut usize,
) -> Handshake {
    let start = out.len();
    let mut consumed = 0;
    let mut peer_closed = false;
    let total = input.len();
    // rustls is given the input one record at a time, so that a failure can be placed: a
    // record rustls refused at the record layer stays unconsumed, one whose message failed
    // a check (a Finished that does not verify) was consumed. Both are
    // `Error::DecryptError`, sent as different alerts. `whole` is the end of the whole
    // records given so far, `fed` the end of what rustls sees (past `whole` only for the
    // incomplete or unreadable tail, given as it is).
    let mut whole = (*kept).min(total);
    let mut fed = match whole_record_end(input, whole) {
        Some(end) => {
            whole = end;
            end
        }
        None => total,
    };
    let result = loop {
        let mut next_record = false;
        // A session stored while this record is read keeps the group negotiated so far
        // (a TLS 1.2 key exchange completes with the ClientKeyExchange record, before the
        // Finished after which the session is stored).
        crate::resumption::set_current_group(
            c.common()
                .negotiated_key_exchange_group()
                .map(|g| u16::from(g.name())),
        );
        let UnbufferedStatus { discard, state } = c.process(&mut input[consumed..fed]);
        let mut extra_discard = 0;
        let step = match state {
            Err(e) => Some(Err(e)),
            Ok(ConnectionState::EncodeTlsData(mut enc)) => match encode(&mut enc, out) {
                Ok(()) => None,
                Err(e) => Some(Err(e)),
            },
            // The bytes stay in `out` for the caller to send; rustls only needs to know
            // they are on their way.
            Ok(ConnectionState::TransmitTlsData(t)) => {
                t.done();
                None
            }
            // The next record, if there is one, before saying more input is needed.
            Ok(ConnectionState::BlockedHandshake) if fed < total => {
                next_record = true;
                None
            }
            Ok(ConnectionState::BlockedHandshake) => Some(Ok(HandshakeProgress::Blocked)),
            // Complete, but records behind the last flight (application data, a
            // close_notify) are read now, as they arrived with it.
            Ok(ConnectionState::WriteTraffic(_)) if fed < total => {
                next_record = true;
                None
            }
            Ok(ConnectionState::WriteTraffic(_)) => Some(Ok(HandshakeProgress::Complete)),
            Ok(ConnectionState::ReadTraffic(mut rt)) => {
                let (records, r) = take_records(&mut rt, early_plaintext);
                extra_discard = records;
                if let Err(e) = r {
                    consumed += discard + extra_discard;
                    return failed(c, consumed, out, start, e, consumed >= fed);
                }
                None
            }
            // close_notify right after the handshake: the handshake is complete, the
            // context's reads report the closure.
            Ok(ConnectionState::PeerClosed) | Ok(ConnectionState::Closed) => {
                peer_closed = true;
                Some(Ok(HandshakeProgress::Complete))
            }
            // Early data is not enabled on our server configs; any future state is a
            // protocol state we do not drive.
            Ok(_) => Some(Err(rustls::Error::General(
                "unexpected TLS engine state during the handshake".into(),
            ))),
        };
        consumed += discard + extra_discard;
        if let Some(r) = step {
            break r;
        }
        if next_record {
            match whole_record_end(input, whole) {
                Some(end) => {
                    whole = end;
                    fed = end;
                }
                None => fed = total,
            }
        }
    };
    // With half-RTT data a TLS 1.3 server may write before the client's Finished; the
    // handshake is complete only when rustls says so.
    let result = match result {
        Ok(HandshakeProgress::Complete) if c.common().is_handshaking() => {
            Ok(HandshakeProgress::Blocked)
        }
        r => r,
    };
    match result {
        Ok(p) => {
            *kept = whole.saturating_sub(consumed);
            Handshake {
                consumed,
                written: out.len() - start,
                result: Ok(p),
                alert_written: 0,
                peer_closed,
                last_record_consumed: false,
            }
        }
        Err(e) => failed(c, consumed, out, start, e, consumed >= fed),
    }
}

/// After rustls failed: collect the alert it queued (if any) into `out`.
fn failed<C: Unbuffered>(
    c: &mut C,
    consumed: usize,
    out: &mut Vec<u8>,
    start: usize,
    e: rustls::Error,
    last_record_consumed: bool,
) -> Handshake {
    let alert_written = drain_alert(c, out);
    Handshake {
        consumed,
        written: out.len() - start,
        alert_written,
        result: Err(e),
        peer_closed: false,
        last_record_consumed,
    }
}

/// rustls queues the fatal alert of a failure (behind any message queued earlier in the
/// same call); each following call hands out one queued chunk before it looks at input.
/// Only call while something is queued: past that point rustls would deframe again,
/// either reaching the same bad record (and alerting twice) or a handshake message its
/// deframer still holds from the failed flight. Bounded by what rustls queued.
fn drain_alert<C: Unbuffered>(c: &mut C, out: &mut Vec<u8>) -> usize {
    let start = out.len();
    while c.common().wants_write() {
        let st = c.process(&mut []);
        match st.state {
            Ok(ConnectionState::EncodeTlsData(mut enc)) => {
                if encode(&mut enc, out).is_err() {
                    break;
                }
            }
            _ => break,
        }
    }
    out.len() - start
}

thread_local! {
    /// Initialised room rustls encodes handshake records into. rustls writes into a
    /// `&mut [u8]`; growing the caller's `Vec` for that zero-fills the room on every
    /// message (4 KiB, several times per handshake), while this buffer is zeroed once per
    /// thread and only the bytes rustls wrote are copied out.
    static ENCODE_SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The scratch buffer starts at this size: most handshake chunks fit; a certificate
/// chain may not, then rustls says how much it needs and the buffer grows for good.
const ENCODE_SCRATCH_LEN: usize = 4096;

fn encode<D>(enc: &mut EncodeTlsData<'_, D>, out: &mut Vec<u8>) -> Result<(), rustls::Error> {
    ENCODE_SCRATCH.with(|scratch| {
        // Not re-entrant: rustls calls nothing of ours while encoding.
        let mut buf = scratch.borrow_mut();
        if buf.len() < ENCODE_SCRATCH_LEN {
            buf.resize(ENCODE_SCRATCH_LEN, 0);
        }
        let r = match enc.encode(&mut buf[..]) {
            Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
                let len = required_size.max(buf.len());
                buf.resize(len, 0);
                enc.encode(&mut buf[..])
            }
            r => r,
        };
        match r {
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                Ok(())
            }
            Err(e) => Err(rustls::Error::General(format!(
                "cannot encode a handshake record: {e}"
            ))),
        }
    })
}

/// Append the plaintext of every record rustls has decrypted to `plaintext`; returns the
/// input bytes those records used, and the failure that stopped the walk, if one did.
fn take_records<D>(
    rt: &mut ReadTraffic<'_, '_, D>,
    plaintext: &mut Vec<u8>,
) -> (usize, Result<(), rustls::Error>) {
    let mut discard = 0;
    while let Some(rec) = rt.next_record() {
        match rec {
            Ok(rec) => {
                discard += rec.discard;
                plaintext.extend_from_slice(rec.payload);
            }
            Err(e) => return (discard, Err(e)),
        }
    }
    (discard, Ok(()))
}

fn drive_read<C: Unbuffered>(
    c: &mut C,
    input: &mut [u8],
    plaintext: &mut Vec<u8>,
    out: &mut Vec<u8>,
) -> Read {
    let p0 = plaintext.len();
    let mut consumed = 0;
    let mut peer_closed = false;
    let result = loop {
        let UnbufferedStatus { discard, state } = c.process(&mut input[consumed..]);
        let mut extra_discard = 0;
        let stop = match state {
            Ok(ConnectionState::ReadTraffic(mut rt)) => {
                let (records, r) = take_records(&mut rt, plaintext);
                extra_discard = records;
                r.err().map(Err)
            }
            Ok(ConnectionState::EncodeTlsData(mut enc)) => encode(&mut enc, out).err().map(Err),
            Ok(ConnectionState::TransmitTlsData(t)) => {
                t.done();
                None
            }
            Ok(ConnectionState::PeerClosed) => {
                peer_closed = true;
                None
            }
            // No complete record left (WriteTraffic), or both sides closed.
            Ok(_) => Some(Ok(())),
            Err(e) => Some(Err(e)),
        };
        consumed += discard + extra_discard;
        if let Some(r) = stop {
            break r;
        }
    };
    let alert_written = if result.is_err() {
        drain_alert(c, out)
    } else {
        0
    };
    Read {
        consumed,
        plaintext: plaintext.len() - p0,
        alert_written,
        peer_closed,
        result,
    }
}

/// Room for `len` bytes of plaintext: each record's header, nonce, tag and content type.
pub(crate) fn write_room(len: usize) -> usize {
    len + (len / MAX_FRAGMENT_LEN + 1) * 64
}

/// Why a write (encrypt, close) could not be done.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// The caller's buffer is smaller than the records (`required` bytes).
    TooSmall { required: usize },
    /// The handshake is not complete.
    NotReady,
    /// Both sides closed the connection.
    Closed,
    /// rustls refused (the sequence number space is exhausted, an earlier failure).
    Engine(rustls::Error),
}

fn drive_write<C: Unbuffered>(
    c: &mut C,
    out: &mut Vec<u8>,
    room: usize,
    peer_closed: &mut bool,
    mut write: impl FnMut(
        &mut rustls::unbuffered::WriteTraffic<'_, C::Data>,
        &mut [u8],
    ) -> Result<usize, EncryptError>,
) -> Result<(), WriteError> {
    // Messages rustls queues first (a key update) go to `out` too, ahead of the records.
    drive_to_write(c, out, peer_closed, |wt, out| {
        let start = out.len();
        // rustls says precisely how much room it needs when `room` is not enough.
        out.resize(start + room, 0);
        let mut r = write(wt, &mut out[start..]);
        if let Err(EncryptError::InsufficientSize(InsufficientSizeError { required_size })) = r {
            out.resize(start + required_size, 0);
            r = write(wt, &mut out[start..]);
        }
        match r {
            Ok(n) => {
                out.truncate(start + n);
                Ok(())
            }
            Err(e) => {
                out.truncate(start);
                Err(encrypt_failed(e))
            }
        }
    })
}

/// [`drive_write`] into the caller's slice; what rustls queues first goes to `pending`.
fn drive_write_into<C: Unbuffered>(
    c: &mut C,
    out: &mut [u8],
    pending: &mut Vec<u8>,
    peer_closed: &mut bool,
    mut write: impl FnMut(
        &mut rustls::unbuffered::WriteTraffic<'_, C::Data>,
        &mut [u8],
    ) -> Result<usize, EncryptError>,
) -> Result<usize, WriteError> {
    drive_to_write(c, pending, peer_closed, |wt, _| match write(wt, out) {
        Ok(n) => Ok(n),
        Err(EncryptError::InsufficientSize(InsufficientSizeError { required_size })) => {
            Err(WriteError::TooSmall {
                required: required_size,
            })
        }
        Err(e) => Err(encrypt_failed(e)),
    })
}

/// Drive the connection to the state that allows writing and hand it to `on_write`.
/// Bounded: pending post-handshake messages (a key update) are encoded into `queue`
/// first, then the write happens.
fn drive_to_write<C: Unbuffered, R>(
    c: &mut C,
    queue: &mut Vec<u8>,
    peer_closed: &mut bool,
    mut on_write: impl FnMut(
        &mut rustls::unbuffered::WriteTraffic<'_, C::Data>,
        &mut Vec<u8>,
    ) -> Result<R, WriteError>,
) -> Result<R, WriteError> {
    for _ in 0..16 {
        let st = c.process(&mut []);
        match st.state {
            Ok(ConnectionState::WriteTraffic(mut wt)) => return on_write(&mut wt, queue),
            Ok(ConnectionState::EncodeTlsData(mut enc)) => {
                encode(&mut enc, queue).map_err(WriteError::Engine)?;
            }
            Ok(ConnectionState::TransmitTlsData(t)) => t.done(),
            Ok(ConnectionState::PeerClosed) => *peer_closed = true,
            Ok(ConnectionState::Closed) => return Err(WriteError::Closed),
            Ok(_) => return Err(WriteError::NotReady),
            Err(e) => return Err(WriteError::Engine(e)),
        }
    }
    Err(WriteError::NotReady)
}

/// rustls refused to encrypt for a reason other than the buffer's size.
fn encrypt_failed(e: EncryptError) -> WriteError {
    WriteError::Engine(rustls::Error::General(format!("cannot encrypt: {e}")))
}

/// How many bytes complete the first incomplete record of `buf` (`None` while its header
/// itself is incomplete, or when every record is complete and rustls wants the next one).
pub(crate) fn missing_bytes(buf: &[u8]) -> Option<usize> {
    let mut at = 0;
    while buf.len() - at >= RECORD_HEADER_LEN {
        let len = usize::from(u16::from_be_bytes([buf[at + 3], buf[at + 4]]));
        let end = at + RECORD_HEADER_LEN + len;
        if end > buf.len() {
            return Some(end - buf.len());
        }
        at = end;
    }
    None
}
