//! What client and server contexts share: the engine, the state, the events of a
//! handshake (36880 on success; on failure the event the verdict table names and 36888
//! for the alert sent), and the record calls after it.

use super::failure::{alert_name, Failure};
use super::{CipherSuite, ConnectionInfo, DecryptStatus, Decrypted, Step, StepStatus, StreamSizes};
use crate::credential::{CertificateChoice, CredentialShared};
use crate::engine::{self, Engine, HandshakeProgress, WriteError};
use crate::messaging::{HandshakeWatch, OversizedMessage, Refused};
use crate::verdict::{verdict, Facts};
use crate::verify::{self, RejectedCertificate};
use crate::{policy, Error, ErrorState, Protocol, Role};
use securechannel_events::{ActivityId, AlertDescription, EventId, RecordBuilder, Status};
use std::cell::OnceCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum State {
    Handshaking,
    Established,
    Failed(Status),
}

/// The part of a context both sides share.
pub(super) struct Core {
    pub(super) shared: Arc<CredentialShared>,
    pub(super) role: Role,
    pub(super) engine: Engine,
    pub(super) state: State,
    /// Client: the target name; server: empty (the SNI name is read from the engine).
    pub(super) target_name: String,
    pub(super) handle: u64,
    /// Created on first use, so a context whose events are all masked pays nothing.
    activity: OnceCell<ActivityId>,
    /// SCHANNEL_ALERT_TOKEN waiting for the next certificate verification.
    pending_alert: Option<AlertDescription>,
    /// Application data that arrived with the last handshake flight, returned by the
    /// first decrypt.
    early_plaintext: Vec<u8>,
    /// TLS bytes produced by decrypt (key update answers, an alert after a failure).
    pub(super) pending_out: Vec<u8>,
    /// Server: the protocol of a hello this provider cannot answer: older than TLS 1.2,
    /// or any version in the SSL 2.0 record format (which rustls does not read).
    pub(super) legacy_hello: Option<Protocol>,
    /// Server: the client's hello came in the SSL 2.0 record format.
    pub(super) sslv2_hello: bool,
    /// Server: the protocol the client's hello named, for 36874.
    pub(super) hello_protocol: Option<&'static str>,
    /// Server: the client's hello offers none of the credential's cipher suites.
    pub(super) hello_shares_no_suite: bool,
    /// Client: the credential's certificate went out in answer to a CertificateRequest
    /// (36880 names it only then).
    client_certificate_sent: bool,
    /// Client: the CA names of the server's CertificateRequest.
    pub(super) trusted_issuers: Vec<Vec<u8>>,
    sent_close_notify: bool,
    /// Client: what the server's stapled OCSP response was found to be.
    pub(super) staple: Option<crate::verify::StapleCheck>,
    /// `Messaging\MessageLimit*`: the peer's plaintext handshake messages (see `messaging`).
    watch: HandshakeWatch,
}

/// Process-wide context handle numbers.
static NEXT_HANDLE: AtomicU64 = AtomicU64::new(1);

/// rustls refused to start a connection from a configuration it accepted.
/// Which alert went out after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sent {
    /// None.
    Nothing,
    /// rustls' own, queued by the failing connection (or by the throwaway connection
    /// whose failure is the one reported: a legacy hello, an oversized message).
    Rustls,
    /// The failing connection sent none; a throwaway connection's plaintext alert for
    /// the same failure went out (the verdict table's silent rows).
    Answer,
}

pub(super) fn engine_error(e: rustls::Error) -> Error {
    Error::new(
        Status::InternalError,
        "the TLS engine refused to start a connection",
    )
    .with_state(ErrorState::EngineConfiguration)
    .with_source(e)
}

/// Log `id` with `activity`, filling the fields with `fill`; nothing is computed when the
/// mask excludes the event.
pub(super) fn emit(
    shared: &CredentialShared,
    activity: impl FnOnce() -> ActivityId,
    id: EventId,
    fill: impl FnOnce(RecordBuilder<'_>) -> RecordBuilder<'_>,
) {
    let emitter = &shared.emitter;
    if emitter.is_enabled(id) {
        fill(emitter.event(id).activity(Some(activity()))).send();
    }
}

impl Core {
    pub(super) fn new(
        shared: Arc<CredentialShared>,
        role: Role,
        target_name: String,
        engine: Engine,
    ) -> Core {
        let client_auth = shared.options.request_client_certificate;
        let limit = shared.settings.message_limit(role, client_auth);
        Core {
            watch: HandshakeWatch::new(limit),
            shared,
            role,
            engine,
            state: State::Handshaking,
            target_name,
            handle: NEXT_HANDLE.fetch_add(1, Ordering::Relaxed),
            activity: OnceCell::new(),
            pending_alert: None,
            early_plaintext: Vec::new(),
            pending_out: Vec::new(),
            legacy_hello: None,
            sslv2_hello: false,
            hello_protocol: None,
            hello_shares_no_suite: false,
            client_certificate_sent: false,
            trusted_issuers: Vec::new(),
            sent_close_notify: false,
            staple: None,
        }
    }

    pub(super) fn activity_id(&self) -> ActivityId {
        *self.activity.get_or_init(ActivityId::new_random)
    }

    /// Log `id` with this context's activity ID (see [`emit`]).
    pub(super) fn emit(
        &self,
        id: EventId,
        fill: impl FnOnce(RecordBuilder<'_>) -> RecordBuilder<'_>,
    ) {
        emit(&self.shared, || self.activity_id(), id, fill);
    }

    /// The name events print as TargetName: the client's target, the server's SNI.
    fn event_target_name(&self) -> &str {
        match self.role {
            Role::Client => &self.target_name,
            Role::Server => self.engine.sni().unwrap_or(""),
        }
    }

    pub(super) fn check_usable(&self) -> Result<(), Error> {
        match self.state {
            State::Failed(status) => Err(Error::new(status, "the context has already failed")),
            _ => Ok(()),
        }
    }

    /// One handshake call into the engine, and what it means (the side's own checks of
    /// the first bytes have run).
    pub(super) fn step(&mut self, input: &mut [u8], out: &mut Vec<u8>) -> Result<Step, Error> {
        self.check_usable()?;
        if self.state == State::Established {
            return Ok(Step {
                status: StepStatus::Complete,
                consumed: 0,
            });
        }
        let tls13 = self.engine.protocol() == Some(Protocol::Tls13);
        match self.watch.inspect(input, tls13) {
            Ok(()) => {}
            Err(Refused::Message(big)) => return Err(self.refuse_oversized(big, out)),
            Err(Refused::Record { len }) => {
                return Err(self.refuse_oversized_record(len, out));
            }
        }
        let alert_requested = self.pending_alert;
        if let Some(a) = alert_requested {
            // apply_alert only accepts alerts verify can produce.
            verify::set_pending_alert(Some(a))?;
        }
        let mut early = std::mem::take(&mut self.early_plaintext);
        let h = self.engine.handshake(input, out, &mut early);
        self.watch.consumed(h.consumed);
        self.early_plaintext = early;
        if alert_requested.is_some() {
            // Reset so no later call on this thread (another context) inherits it; the
            // pending alert of this context stays for its next step unless it fired.
            let _ = verify::set_pending_alert(None);
        }
        self.take_handoffs();
        let rejected = verify::take_rejected_certificate();
        match h.result {
            Ok(HandshakeProgress::Complete) => {
                self.state = State::Established;
                self.pending_alert = None;
                self.log_completed();
                Ok(Step {
                    status: StepStatus::Complete,
                    consumed: h.consumed,
                })
            }
            Ok(HandshakeProgress::Blocked) => Ok(Step {
                status: if h.written > 0 {
                    StepStatus::ContinueNeeded
                } else {
                    StepStatus::IncompleteMessage {
                        missing: engine::missing_bytes(&input[h.consumed..]),
                    }
                },
                consumed: h.consumed,
            }),
            Err(e) => {
                let sent = match h.alert_written {
                    0 => self.answer_silent_failure(&e, out),
                    _ => Sent::Rustls,
                };
                Err(self.fail(e, rejected, sent, alert_requested, h.last_record_consumed))
            }
        }
    }

    /// A failure rustls refused without an alert (the verdict table's silent rows): while
    /// this side still sends plaintext, rustls' own plaintext alert for it, from a
    /// throwaway connection of this side (`engine::plaintext_alert`), goes to `out`. Once
    /// this side encrypts, nothing can be sent: rustls alone holds the keys, and its
    /// connection has failed.
    fn answer_silent_failure(&self, err: &rustls::Error, out: &mut Vec<u8>) -> Sent {
        let v = verdict(err, Facts::new(self.role));
        if !v.silent || !self.engine.sends_plaintext() {
            return Sent::Nothing;
        }
        let wanted = match v.alert.0 {
            10 => engine::PlaintextAlert::UnexpectedMessage,
            50 => engine::PlaintextAlert::DecodeError,
            _ => return Sent::Nothing,
        };
        match self
            .throwaway_side()
            .and_then(|side| engine::plaintext_alert(side, wanted))
        {
            Some((_, alert)) => {
                out.extend_from_slice(&alert);
                Sent::Answer
            }
            None => Sent::Nothing,
        }
    }

    /// A fresh connection of this context's side and configuration, to have rustls
    /// produce an alert the context's own connection cannot.
    fn throwaway_side(&self) -> Option<engine::Side> {
        match self.role {
            Role::Client => self
                .shared
                .client_config(true)
                .ok()
                .map(engine::Side::Client),
            Role::Server => self
                .shared
                .server_config(&[])
                .ok()
                .map(engine::Side::Server),
        }
    }

    /// A peer's handshake message above `Messaging\MessageLimit*`, refused before the
    /// engine reads it: rustls' own decode_error goes to `out` (see
    /// `engine::oversized_message_alert`), 36888 is logged, the context fails.
    fn refuse_oversized(&mut self, big: OversizedMessage, out: &mut Vec<u8>) -> Error {
        let client_auth = self.shared.options.request_client_certificate;
        let setting = crate::settings::message_limit_name(self.role, client_auth);
        let what = format!(
            "{} sent {big}, larger than `{setting}` allows ({} bytes)",
            self.peer(),
            big.limit
        );
        let answer = self
            .throwaway_side()
            .and_then(engine::oversized_message_alert);
        self.refused_before_engine(what, answer, ErrorState::MalformedMessage, out)
    }

    /// A plaintext record over 2^14 bytes, refused at its header with rustls' own answer
    /// to an over-long plaintext record (decode_error, see `engine::oversized_record_alert`):
    /// 36888 (50, RecordOverflow 3004), the context fails.
    pub(super) fn refuse_oversized_record(&mut self, len: usize, out: &mut Vec<u8>) -> Error {
        let what = format!(
            "{} sent a plaintext record of {len} bytes; TLS allows at most {}",
            self.peer(),
            crate::policy::MAX_FRAGMENT_LEN
        );
        let answer = self
            .throwaway_side()
            .and_then(engine::oversized_record_alert);
        self.refused_before_engine(what, answer, ErrorState::RecordOverflow, out)
    }

    /// Fail the context for bytes refused before the engine read them, with rustls'
    /// `answer` (a throwaway connection's failure and its decode_error) sent and logged;
    /// without one (rustls answered otherwise), nothing is sent and the error has
    /// `fallback` as its state.
    fn refused_before_engine(
        &mut self,
        what: String,
        answer: Option<(rustls::Error, Vec<u8>)>,
        fallback: ErrorState,
        out: &mut Vec<u8>,
    ) -> Error {
        let Some((err, alert)) = answer else {
            self.state = State::Failed(Status::IllegalMessage);
            return Error::new(Status::IllegalMessage, what).with_state(fallback);
        };
        out.extend_from_slice(&alert);
        let failed = self.fail(err, None, Sent::Rustls, None, false);
        let mut e = Error::new(failed.status(), format!("{what}; decode_error sent"));
        if let Some(event) = failed.event() {
            e = e.with_event(event);
        }
        if let Some(state) = failed.state() {
            e = e.with_state(state);
        }
        e.with_source(failed)
    }

    fn peer(&self) -> &'static str {
        match self.role {
            Role::Client => "the server",
            Role::Server => "the client",
        }
    }

    /// 36875 and 36885: things the verifiers noticed that do not end the handshake; and
    /// whether the client's certificate was sent.
    fn take_handoffs(&mut self) {
        if let Some(check) = verify::take_staple_check() {
            self.staple = Some(check);
        }
        if verify::take_client_certificate_offered() {
            self.client_certificate_sent = true;
        }
        if let Some(issuers) = verify::take_issuer_list() {
            self.trusted_issuers = issuers;
        }
        if verify::take_no_suitable_client_certificate() {
            self.emit(EventId::NoSuitableClientCertificate, |r| r);
        }
        if verify::take_issuer_list_truncated() {
            self.emit(EventId::TrustedIssuerListTruncated, |r| r);
        }
    }

    /// Turn a rustls failure into the caller's error, logging each event once: the event
    /// the verdict table names (a certificate event, 36887, 36874), then 36888 for the
    /// alert we sent (when rustls produced one).
    pub(super) fn fail(
        &mut self,
        err: rustls::Error,
        rejected: Option<RejectedCertificate>,
        sent: Sent,
        application_alert: Option<AlertDescription>,
        record_accepted: bool,
    ) -> Error {
        let negotiated = self.engine.protocol().is_some();
        let alert_sent = sent != Sent::Nothing;
        let v = verdict(
            &err,
            Facts {
                role: self.role,
                alert_sent,
                rustls_alerted: sent == Sent::Rustls,
                certificate_rejected: rejected.is_some(),
                application_alert,
                has_certificate: self.shared.certified_key.is_some()
                    && self.engine.certificate_choice() != Some(CertificateChoice::Declined),
                legacy_hello: self.legacy_hello.filter(|_| !negotiated),
                hello_shares_no_suite: self.hello_shares_no_suite && !negotiated,
                record_accepted,
            },
        );
        match (v.event, &err) {
            (Some(EventId::FatalAlertReceived), rustls::Error::AlertReceived(a)) => {
                let code = u8::from(*a);
                self.emit(EventId::FatalAlertReceived, |r| r.field(code));
            }
            (Some(EventId::NoSharedCipherSuite), _) => {
                let name = self.hello_protocol.unwrap_or("unknown");
                self.emit(EventId::NoSharedCipherSuite, |r| r.field(name));
            }
            // A credential without certificate logged 36886 when the hello arrived; one
            // whose certificates all miss the hello's name (SNI only), now.
            (Some(EventId::NoDefaultServerCredential), _) => {
                if self.shared.certified_key.is_some()
                    && self.engine.certificate_choice() == Some(CertificateChoice::Declined)
                {
                    self.emit(EventId::NoDefaultServerCredential, |r| r);
                }
            }
            (Some(event), _) => {
                if let Some(r) = &rejected {
                    // Windows puts the precise chain status there when it has one.
                    let code = v.chain_status.unwrap_or(v.status);
                    self.log_rejected_certificate(event, code, r);
                }
            }
            (None, _) => {}
        }
        if alert_sent {
            let target = self.event_target_name().to_owned();
            self.emit(EventId::FatalAlertGenerated, |r| {
                r.field(v.alert.0).field(v.state.code()).field(&target)
            });
        }
        self.state = State::Failed(v.status);
        let checked_name = rejected.and_then(|r| r.checked_name);
        let what = Failure {
            role: self.role,
            checked_name: checked_name.as_deref().unwrap_or(&self.target_name),
            status: v.status,
            state: v.state,
            legacy: self.legacy_hello,
            sslv2_framed: self.sslv2_hello,
            alert_sent,
        }
        .describe(&err);
        let message = match alert_sent {
            true => format!("{what} ({} sent)", alert_name(v.alert)),
            // rustls sends no alert for it, and this side already encrypts: the
            // connection simply ends (no 36888: no alert went out).
            false if v.silent => format!(
                "{what}; the connection was closed without an alert (the TLS engine sends none for this once the connection is encrypted)"
            ),
            false => what,
        };
        let mut e = Error::new(v.status, message).with_source(err);
        if let Some(chain) = v.chain_status {
            e = e.with_chain_status(chain);
        }
        if let Some(ev) = v
            .event
            .or(alert_sent.then_some(EventId::FatalAlertGenerated))
        {
            e = e.with_event(ev);
        }
        if alert_sent || v.silent {
            // A silent refusal keeps its reason even when no alert (and no 36888) could
            // go out.
            e = e.with_state(v.state);
        }
        e
    }

    /// A refused certificate's event, with the data fields in catalog order (36876 and
    /// 36877: ErrorCode; 36884: Name, the name the certificate was checked against: the
    /// SNI override when one was given, see `Sni::Name`) and the certificate attached.
    fn log_rejected_certificate(&self, event: EventId, status: Status, r: &RejectedCertificate) {
        self.emit(event, |record| {
            let record = record.binary(Some(r.certificate.clone()));
            match event {
                EventId::ServerCertificateInvalid | EventId::ClientCertificateInvalid => {
                    record.field(status.hex())
                }
                EventId::ServerCertificateWrongName => {
                    record.field(r.checked_name.as_deref().unwrap_or(""))
                }
                _ => record,
            }
        });
    }

    /// 36880, with all twelve fields.
    fn log_completed(&self) {
        let id = EventId::HandshakeCompleted;
        if !self.shared.emitter.is_enabled(id) {
            return;
        }
        let Ok(info) = self.connection_info() else {
            return;
        };
        let suite = self.engine.cipher_suite().unwrap_or(0);
        // Fields are written straight into the record's one text buffer: the subjects
        // come from the credential's caches (no certificate parsing per handshake), the
        // numbers are printed in place, nothing is copied twice. A server always sends its
        // certificate; a client only when the server asked for one and the credential's
        // suited (otherwise it went on anonymously, 36875).
        let local = match self.role {
            Role::Client if !self.client_certificate_sent => "",
            Role::Client => self.shared.local_subject(),
            // The certificate the client's hello got (by its SNI name).
            Role::Server => self.local_certificate_subject(),
        };
        let remote = self
            .engine
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| self.shared.remote_subject(c.as_ref()));
        self.emit(id, |r| {
            r.field_str(self.role.name())
                .field_str(info.protocol.name())
                .field_str(info.cipher)
                .field_decimal(info.cipher_strength.into())
                .field_str(info.mac)
                .field_str(info.exchange)
                .field_decimal(info.exchange_strength.into())
                .field_hex(suite.into(), 4)
                .field_hex(self.handle, 1)
                .field_str(self.event_target_name())
                .field_str(local)
                .field_str(remote.as_deref().unwrap_or(""))
        });
    }

    /// Server: the subject of the certificate this connection presented.
    pub(super) fn local_certificate_subject(&self) -> &str {
        match self.engine.certificate_choice() {
            Some(CertificateChoice::Chosen(i)) => self
                .shared
                .server_certificates
                .get(i)
                .map_or("", |c| c.subject.as_str()),
            _ => self.shared.local_subject(),
        }
    }

    fn established(&mut self) -> Result<(), Error> {
        self.check_usable()?;
        if self.state != State::Established {
            return Err(Error::new(
                Status::OutOfSequence,
                "the handshake is not complete",
            ));
        }
        Ok(())
    }

    pub(super) fn encrypt(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        self.established()?;
        out.append(&mut self.pending_out);
        let r = self.engine.write(plaintext, out);
        r.map_err(write_error)
    }

    pub(super) fn encrypt_into(
        &mut self,
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        self.established()?;
        let waiting = self.pending_out.len();
        // Room for a post-handshake message rustls may queue before the records (a key
        // update near the AEAD's limit), checked before anything is encrypted.
        let required = waiting + engine::write_room(plaintext.len()) + 64;
        if out.len() < required {
            return Err(write_error(WriteError::TooSmall { required }));
        }
        out[..waiting].copy_from_slice(&self.pending_out);
        self.pending_out.clear();
        let mut queued = Vec::new();
        let n = self
            .engine
            .write_into(plaintext, &mut out[waiting..], &mut queued)
            .map_err(write_error)?;
        if !queued.is_empty() {
            // Rare (a key update): its bytes go before the records just written; the
            // room check above leaves space for them.
            let q = queued.len();
            if waiting + q + n > out.len() {
                // Nothing is lost: both wait, in order, for take_output.
                queued.extend_from_slice(&out[waiting..waiting + n]);
                self.pending_out = queued;
                return Ok(waiting);
            }
            out.copy_within(waiting..waiting + n, waiting + q);
            out[waiting..waiting + q].copy_from_slice(&queued);
            return Ok(waiting + q + n);
        }
        Ok(waiting + n)
    }

    pub(super) fn decrypt(
        &mut self,
        input: &mut [u8],
        plaintext: &mut Vec<u8>,
    ) -> Result<Decrypted, Error> {
        self.established()?;
        let mut got = !self.early_plaintext.is_empty();
        plaintext.append(&mut self.early_plaintext);
        let mut pending = std::mem::take(&mut self.pending_out);
        let r = self.engine.read(input, plaintext, &mut pending);
        self.pending_out = pending;
        if let Err(e) = r.result {
            self.take_handoffs();
            let rejected = verify::take_rejected_certificate();
            // After the handshake a DecryptError is always a record's (bad_record_mac).
            let sent = match r.alert_written {
                0 => Sent::Nothing,
                _ => Sent::Rustls,
            };
            return Err(self.fail(e, rejected, sent, None, false));
        }
        got |= r.plaintext > 0;
        let status = if got {
            DecryptStatus::Data
        } else if self.engine.peer_has_closed() {
            DecryptStatus::PeerClosed
        } else {
            DecryptStatus::IncompleteMessage {
                missing: engine::missing_bytes(&input[r.consumed..]),
            }
        };
        Ok(Decrypted {
            status,
            consumed: r.consumed,
        })
    }

    pub(super) fn shutdown(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.established()?;
        out.append(&mut self.pending_out);
        if self.sent_close_notify {
            return Ok(());
        }
        self.engine.close(out).map_err(write_error)?;
        self.sent_close_notify = true;
        Ok(())
    }

    pub(super) fn apply_alert(&mut self, alert: AlertDescription) -> Result<(), Error> {
        self.check_usable()?;
        if self.state == State::Established {
            return Err(Error::new(
                Status::UnsupportedFunction,
                "after the handshake rustls can send no alert but close_notify",
            ));
        }
        verify::check_token_alert(alert)?;
        let options = &self.shared.options;
        if self.role == Role::Server
            && !options.request_client_certificate
            && !options.require_client_certificate
        {
            return Err(Error::new(
                Status::UnsupportedFunction,
                "this server context verifies no client certificate, so no alert can be raised through it",
            ));
        }
        self.pending_alert = Some(alert);
        Ok(())
    }

    pub(super) fn cipher_suite(&self) -> Option<CipherSuite> {
        let n = self.engine.cipher_suite()?;
        let row = policy::suite(n);
        Some(CipherSuite {
            name: row.map_or("unknown", |s| s.name),
            number: n,
            cipher: row.map_or("unknown", |s| s.cipher),
            cipher_strength: row.map_or(0, |s| s.cipher_strength),
            prf_hash: row.map_or("unknown", |s| s.prf_hash),
        })
    }

    /// This side's certificate: a server's, a client's once it was sent.
    pub(super) fn local_certificate(&self) -> Option<&rustls::pki_types::CertificateDer<'static>> {
        match self.role {
            Role::Client if !self.client_certificate_sent => None,
            _ => self
                .shared
                .certified_key
                .as_ref()
                .and_then(|k| k.cert.first()),
        }
    }

    fn negotiated(&self) -> Result<(Protocol, &'static policy::SuiteRow), Error> {
        self.check_usable()?;
        let not_yet = || Error::new(Status::OutOfSequence, "the handshake is not complete");
        if self.state != State::Established || self.engine.is_handshaking() {
            return Err(not_yet());
        }
        let protocol = self.engine.protocol().ok_or_else(not_yet)?;
        let suite = self
            .engine
            .cipher_suite()
            .and_then(policy::suite)
            .ok_or_else(|| {
                Error::new(
                    Status::InternalError,
                    "the negotiated suite is not in the suite table",
                )
            })?;
        Ok((protocol, suite))
    }

    pub(super) fn stream_sizes(&self) -> Result<StreamSizes, Error> {
        let (protocol, suite) = self.negotiated()?;
        Ok(StreamSizes {
            header: policy::RECORD_HEADER_LEN,
            trailer: policy::record_trailer(suite, protocol),
            max_message: policy::MAX_FRAGMENT_LEN,
            buffers: 4,
            block_size: 1,
        })
    }

    pub(super) fn connection_info(&self) -> Result<ConnectionInfo, Error> {
        let (protocol, suite) = self.negotiated()?;
        // TLS 1.2 resumption negotiates no new key exchange: rustls reports no group.
        let (exchange, exchange_strength) = self
            .engine
            .key_exchange_group()
            .and_then(policy::group)
            .map_or(("", 0), |g| (g.exchange, g.strength));
        Ok(ConnectionInfo {
            protocol,
            cipher: suite.cipher,
            cipher_strength: suite.cipher_strength,
            mac: policy::AEAD_MAC,
            prf_hash: suite.prf_hash,
            exchange,
            exchange_strength,
        })
    }

    pub(super) fn debug(&self, name: &str, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct(name)
            .field("handle", &self.handle)
            .field("state", &self.state)
            .field("target_name", &self.target_name)
            .finish_non_exhaustive()
    }
}

fn write_error(e: WriteError) -> Error {
    match e {
        WriteError::TooSmall { required } => Error::new(
            Status::BufferTooSmall,
            format!("the output buffer is too small: the records need {required} bytes"),
        ),
        WriteError::NotReady => Error::new(Status::OutOfSequence, "the context cannot send now"),
        WriteError::Closed => Error::new(
            Status::ContextExpired,
            "the connection is closed in both directions",
        ),
        WriteError::Engine(err) => {
            Error::new(Status::EncryptFailure, "the TLS engine cannot encrypt").with_source(err)
        }
    }
}
