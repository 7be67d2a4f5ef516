//! The provider: in-memory credentials whose events (EventLogging = 7) go to the real
//! SQLite log, and client/server contexts driven through the token API (initialize /
//! accept / encrypt / decrypt), as an SSPI caller drives Schannel.

use crate::pki::ServerPki;
use crate::{BoxError, Budget, Sample, Workload};
use securechannel::SettingValue;
use securechannel::{
    ClientContext, ClientCredential, ContextOptions, CredentialOptions, DecryptStatus, Protocol,
    ServerContext, ServerCredential, Settings, StepStatus,
};
use securechannel_eventlog::EventLog;
use securechannel_events::{Emitter, EventLogging, EventSink, NullSink};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// EventLogging = 7: errors, warnings and informational events (36880 included).
pub const EVENT_LOGGING: EventLogging = EventLogging(7);

/// A log under test and how many of our handshakes completed into it: each logged 36880
/// twice (client and server), compared at the end with what the log stored.
pub struct OurLog {
    pub log: Arc<EventLog>,
    pub handshakes: AtomicU64,
}

/// The settings both our credentials get: EventLogging = 7 and the row's cipher suite as
/// the only entry of the cipher suite order.
///
/// The provider builds its crypto provider from these settings (`policy`); the run still
/// checks what was negotiated instead of trusting it (see `check_negotiated` in main.rs).
// Assignments rather than struct-update syntax: `Settings` has private fields, which
// `..Settings::default()` cannot fill from outside its crate.
#[allow(clippy::field_reassign_with_default)]
pub fn settings(suite_iana: &str) -> Arc<Settings> {
    let mut s = Settings::default();
    s.event_logging = EVENT_LOGGING;
    s.cipher_suite_order = vec![suite_iana.to_owned()];
    // The same single group as raw rustls (the provider prefers the hybrid
    // X25519MLKEM768 when EccCurves is unset).
    s.set(
        "CipherSuiteOrder\\EccCurves",
        SettingValue::List(vec!["curve25519".into()]),
    )
    .expect("EccCurves is a known setting and curve25519 a valid value");
    Arc::new(s)
}

/// A client and a server credential for one row, logging into `log`.
pub struct Credentials {
    pub client: ClientCredential,
    pub server: ServerCredential,
    /// `None`: events go to a `NullSink` (built, then dropped; the diagnostic column that
    /// separates the provider's own cost from the log's).
    pub log: Option<Arc<OurLog>>,
}

impl Credentials {
    pub fn new(
        log: Option<Arc<OurLog>>,
        pki: &ServerPki,
        protocol: Protocol,
        suite_iana: &str,
    ) -> Credentials {
        let sink: Arc<dyn EventSink> = match &log {
            Some(l) => l.log.clone(),
            None => Arc::new(NullSink),
        };
        let emitter = Emitter::new(sink, EVENT_LOGGING);
        let settings = settings(suite_iana);
        let mut options = CredentialOptions::default();
        options.protocols = vec![protocol];
        let client = ClientCredential::new_in_memory_with(
            emitter.clone(),
            settings.clone(),
            None,
            pki.roots.clone(),
            options.clone(),
        );
        let server = ServerCredential::new_in_memory_with(
            emitter,
            settings,
            Some(pki.certified_key.clone()),
            Arc::new(rustls::RootCertStore::empty()),
            options,
        );
        Credentials {
            client,
            server,
            log,
        }
    }
}

/// An established pair of contexts.
pub struct ContextPair {
    pub client: ClientContext,
    pub server: ServerContext,
}

impl ContextPair {
    /// One handshake to completion through the token API, post-handshake messages
    /// (tickets) included: the client decrypts what the server sent after its last step.
    pub fn handshake(creds: &Credentials, target: &str) -> Result<ContextPair, BoxError> {
        let mut c = ClientContext::new(&creds.client, target, ContextOptions::default())?;
        let mut s = ServerContext::new(&creds.server, ContextOptions::default())?;
        let (mut to_server, mut to_client, mut plaintext) = (Vec::new(), Vec::new(), Vec::new());
        let first = c.initialize(&mut [], &mut to_server)?;
        let mut client_done = first.status == StepStatus::Complete;
        let mut server_done = false;
        for _ in 0..8 {
            if !to_server.is_empty() {
                let consumed = if server_done {
                    s.decrypt(&mut to_server, &mut plaintext)?.consumed
                } else {
                    let st = s.accept(&mut to_server, &mut to_client)?;
                    server_done = st.status == StepStatus::Complete;
                    st.consumed
                };
                to_server.drain(..consumed);
            }
            if !to_client.is_empty() {
                let consumed = if client_done {
                    let d = c.decrypt(&mut to_client, &mut plaintext)?;
                    if d.status == DecryptStatus::PeerClosed {
                        return Err("the server closed the connection".into());
                    }
                    d.consumed
                } else {
                    let st = c.initialize(&mut to_client, &mut to_server)?;
                    client_done = st.status == StepStatus::Complete;
                    st.consumed
                };
                to_client.drain(..consumed);
            }
            if client_done && server_done && to_server.is_empty() && to_client.is_empty() {
                if !plaintext.is_empty() {
                    return Err("application data during the handshake".into());
                }
                if let Some(l) = &creds.log {
                    l.handshakes.fetch_add(1, Ordering::Relaxed);
                }
                return Ok(ContextPair {
                    client: c,
                    server: s,
                });
            }
        }
        Err("securechannel handshake did not complete in 8 rounds".into())
    }

    /// (cipher suite number, key-exchange name) the client context negotiated.
    pub fn negotiated(&self) -> Result<(u16, &'static str), BoxError> {
        let suite = self
            .client
            .cipher_suite()
            .ok_or("no cipher suite negotiated")?;
        let info = self.client.connection_info()?;
        Ok((suite.number, info.exchange))
    }
}

/// Full or resumed handshakes. The measurement ends with a flush of the log (every
/// record of the run committed to SQLite), so the log's cost is inside the time.
pub struct Handshakes {
    pub creds: Credentials,
    pub names: crate::raw::Names,
}

impl Workload for Handshakes {
    fn run_for(&mut self, budget: Budget) -> Result<Sample, BoxError> {
        let start = Instant::now();
        let mut resumed = 0u64;
        let mut n = 0u64;
        while budget.more(start, n) {
            let pair = ContextPair::handshake(&self.creds, &self.names.next_name())?;
            resumed += u64::from(pair.client.resumed() == Some(true));
            n += 1;
        }
        if let Some(l) = &self.creds.log {
            l.log.sync()?;
        }
        Ok(Sample::handshakes(n, resumed, start.elapsed()))
    }
}

/// 16 KiB messages: the client encrypts (EncryptMessage, into the caller's buffer with
/// `encrypt_into`, as raw rustls' `encrypt` writes into a reused slice), the server
/// decrypts (DecryptMessage).
pub struct Bulk {
    pair: ContextPair,
    plaintext: Vec<u8>,
    wire: Vec<u8>,
    received: Vec<u8>,
}

impl Bulk {
    pub fn new(pair: ContextPair) -> Bulk {
        Bulk {
            pair,
            plaintext: crate::record_plaintext(),
            // Initialised once and reused: what `encrypt_into` asks for (plaintext, 64
            // bytes per record and 64 more).
            wire: vec![0; crate::RECORD_LEN + 3 * 64],
            received: Vec::with_capacity(crate::RECORD_LEN),
        }
    }

    fn one_record(&mut self) -> Result<(), BoxError> {
        self.received.clear();
        let n = self
            .pair
            .client
            .encrypt_into(&self.plaintext, &mut self.wire)?;
        let d = self
            .pair
            .server
            .decrypt(&mut self.wire[..n], &mut self.received)?;
        if d.status != DecryptStatus::Data
            || d.consumed != n
            || self.received.len() != crate::RECORD_LEN
        {
            return Err(format!("securechannel: record not decrypted whole ({d:?})").into());
        }
        Ok(())
    }
}

impl Workload for Bulk {
    fn run_for(&mut self, budget: Budget) -> Result<Sample, BoxError> {
        let start = Instant::now();
        let mut bytes = 0u64;
        while budget.more(start, bytes / crate::RECORD_LEN as u64) {
            self.one_record()?;
            bytes += crate::RECORD_LEN as u64;
        }
        Ok(Sample::bytes(bytes, start.elapsed()))
    }
}
