//! Shared test helpers: credentials on securechannel-testpki's PKI, an in-memory
//! client/server pair that runs the handshake and moves data, event lookups, and providers
//! on a data directory with the file modes the stores expect.
#![allow(dead_code)] // each test binary uses a different subset

use rustls::sign::CertifiedKey;
use securechannel::events::{Emitter, EventLogging, EventRecord, MemorySink};
use securechannel::{
    ClientContext, ClientCredential, ContextOptions, CredentialOptions, Error, Provider,
    ServerContext, ServerCredential, Settings, StepStatus,
};
use securechannel_testpki::{write_file, Ca};
use std::path::Path;
use std::sync::Arc;

/// An emitter that records every event in memory.
pub fn recording() -> (Arc<MemorySink>, Emitter) {
    let sink = Arc::new(MemorySink::new());
    let emitter = Emitter::new(sink.clone(), EventLogging::ALL);
    (sink, emitter)
}

/// The usual test world: one CA, a server certificate for server.test and 127.0.0.1, a
/// client certificate, and a sink per side.
pub struct World {
    pub pki: Ca,
    pub server_key: Arc<CertifiedKey>,
    pub client_key: Arc<CertifiedKey>,
    pub client_sink: Arc<MemorySink>,
    pub server_sink: Arc<MemorySink>,
    pub client_emitter: Emitter,
    pub server_emitter: Emitter,
}

impl World {
    pub fn new() -> World {
        let pki = Ca::root("Test Root CA");
        // Both peers send their root too (a test counts the client's two certificates).
        let server_key = pki
            .server_leaf(&["server.test", "127.0.0.1"])
            .with_root(&pki)
            .certified_key();
        let client_key = pki
            .client_leaf(&["client.test"])
            .with_root(&pki)
            .certified_key();
        let (client_sink, client_emitter) = recording();
        let (server_sink, server_emitter) = recording();
        World {
            pki,
            server_key,
            client_key,
            client_sink,
            server_sink,
            client_emitter,
            server_emitter,
        }
    }

    pub fn client_credential(&self) -> ClientCredential {
        self.client_credential_with(None, CredentialOptions::default())
    }

    pub fn client_credential_with(
        &self,
        key: Option<Arc<CertifiedKey>>,
        options: CredentialOptions,
    ) -> ClientCredential {
        ClientCredential::new_in_memory_with(
            self.client_emitter.clone(),
            Arc::new(Settings::default()),
            key,
            self.pki.roots(),
            options,
        )
    }

    pub fn server_credential(&self) -> ServerCredential {
        self.server_credential_with(Some(self.server_key.clone()), CredentialOptions::default())
    }

    pub fn server_credential_with(
        &self,
        key: Option<Arc<CertifiedKey>>,
        options: CredentialOptions,
    ) -> ServerCredential {
        ServerCredential::new_in_memory_with(
            self.server_emitter.clone(),
            Arc::new(Settings::default()),
            key,
            self.pki.roots(),
            options,
        )
    }

    pub fn pair(&self) -> Pair {
        Pair::between(&self.client_credential(), &self.server_credential())
    }
}

/// A client and a server context joined by two in-memory pipes.
pub struct Pair {
    pub client: ClientContext,
    pub server: ServerContext,
    /// Bytes in flight to the server (what it has not consumed yet).
    pub to_server: Vec<u8>,
    /// Bytes in flight to the client.
    pub to_client: Vec<u8>,
    /// Every step's outcome, as "client ContinueNeeded", "server Complete", ...
    pub transcript: Vec<String>,
    client_started: bool,
}

impl Pair {
    pub fn new(
        client_cred: &ClientCredential,
        target: &str,
        client_options: ContextOptions,
        server_cred: &ServerCredential,
        server_options: ContextOptions,
    ) -> Pair {
        Pair {
            client: ClientContext::new(client_cred, target, client_options)
                .expect("client context"),
            server: ServerContext::new(server_cred, server_options).expect("server context"),
            to_server: Vec::new(),
            to_client: Vec::new(),
            transcript: Vec::new(),
            client_started: false,
        }
    }

    /// A pair for the target name server.test, with the default context options.
    pub fn between(client_cred: &ClientCredential, server_cred: &ServerCredential) -> Pair {
        Pair::new(
            client_cred,
            "server.test",
            ContextOptions::default(),
            server_cred,
            ContextOptions::default(),
        )
    }

    /// One client step over what is in flight to it; its output goes to the server (the
    /// alert too when the step fails).
    pub fn client_step(&mut self) -> Result<StepStatus, Error> {
        self.client_started = true;
        let mut out = Vec::new();
        let r = self.client.initialize(&mut self.to_client, &mut out);
        self.to_server.extend_from_slice(&out);
        record_step(&mut self.transcript, "client", &r);
        let step = r?;
        self.to_client.drain(..step.consumed);
        Ok(step.status)
    }

    /// One server step, likewise.
    pub fn server_step(&mut self) -> Result<StepStatus, Error> {
        let mut out = Vec::new();
        let r = self.server.accept(&mut self.to_server, &mut out);
        self.to_client.extend_from_slice(&out);
        record_step(&mut self.transcript, "server", &r);
        let step = r?;
        self.to_server.drain(..step.consumed);
        Ok(step.status)
    }

    /// Step both sides until both are complete; the first failure is returned (its alert
    /// is then in flight to the other side).
    pub fn handshake(&mut self) -> Result<(), Error> {
        for _ in 0..16 {
            let mut stepped = false;
            if !self.client.is_complete() && (!self.client_started || !self.to_client.is_empty()) {
                self.client_step()?;
                stepped = true;
            }
            if !self.server.is_complete() && !self.to_server.is_empty() {
                self.server_step()?;
                stepped = true;
            }
            if self.client.is_complete() && self.server.is_complete() {
                return Ok(());
            }
            assert!(stepped, "handshake stalled: {:?}", self.transcript);
        }
        panic!("handshake did not finish: {:?}", self.transcript);
    }

    /// Encrypt `data` on the client, in flight to the server.
    pub fn client_send(&mut self, data: &[u8]) {
        let mut out = Vec::new();
        self.client.encrypt(data, &mut out).expect("client encrypt");
        self.to_server.extend_from_slice(&out);
    }

    /// Encrypt `data` on the server, in flight to the client.
    pub fn server_send(&mut self, data: &[u8]) {
        let mut out = Vec::new();
        self.server.encrypt(data, &mut out).expect("server encrypt");
        self.to_client.extend_from_slice(&out);
    }

    /// Decrypt everything in flight to the server.
    pub fn server_receive(&mut self) -> Result<Vec<u8>, Error> {
        let mut plain = Vec::new();
        let d = self.server.decrypt(&mut self.to_server, &mut plain)?;
        self.to_server.drain(..d.consumed);
        Ok(plain)
    }

    /// Decrypt everything in flight to the client.
    pub fn client_receive(&mut self) -> Result<Vec<u8>, Error> {
        let mut plain = Vec::new();
        let d = self.client.decrypt(&mut self.to_client, &mut plain)?;
        self.to_client.drain(..d.consumed);
        Ok(plain)
    }
}

fn record_step(t: &mut Vec<String>, side: &str, r: &Result<securechannel::Step, Error>) {
    t.push(match r {
        Ok(s) => format!("{side} {}", status_name(s.status)),
        Err(e) => format!("{side} {}", e.status().name()),
    });
}

fn status_name(s: StepStatus) -> &'static str {
    match s {
        StepStatus::ContinueNeeded => "ContinueNeeded",
        StepStatus::IncompleteMessage { .. } => "IncompleteMessage",
        StepStatus::Complete => "Complete",
        other => panic!("a step status this transcript does not name: {other:?}"),
    }
}

/// The records of one event ID.
pub fn events(sink: &MemorySink, id: u16) -> Vec<EventRecord> {
    sink.records()
        .into_iter()
        .filter(|r| r.event_id.value() == id)
        .collect()
}

/// The one record of `id` (panics when there is not exactly one).
pub fn one_event(sink: &MemorySink, id: u16) -> EventRecord {
    let mut e = events(sink, id);
    assert_eq!(e.len(), 1, "expected one {id}, got {:?}", sink.ids());
    e.remove(0)
}

/// The first record of `id` (panics when there is none).
pub fn first_event(sink: &MemorySink, id: u16) -> EventRecord {
    sink.records()
        .into_iter()
        .find(|r| r.event_id.value() == id)
        .unwrap_or_else(|| panic!("no event {id} in {:?}", sink.ids()))
}

/// A field of a record by its catalog name.
pub fn field(r: &EventRecord, name: &str) -> String {
    r.field(name)
        .unwrap_or_else(|| panic!("{} has no field {name}", r.event_id.value()))
        .to_string()
}

/// Options with some fields set (the option structs are `#[non_exhaustive]`).
#[allow(dead_code)] // not every test binary sets options
pub fn credential_options(set: impl FnOnce(&mut CredentialOptions)) -> CredentialOptions {
    let mut o = CredentialOptions::default();
    set(&mut o);
    o
}

/// See [`credential_options`].
#[allow(dead_code)] // not every test binary sets options
pub fn context_options(set: impl FnOnce(&mut ContextOptions)) -> ContextOptions {
    let mut o = ContextOptions::default();
    set(&mut o);
    o
}

// ---------------------------------------------------------------------------------------
// Providers on a data directory, and file modes

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

/// A provider on `dir` that logs everything, with its sink.
pub fn open_all(dir: &Path) -> (Provider, Arc<MemorySink>) {
    let settings = dir.join("settings.toml");
    if !settings.exists() {
        write_file(&settings, "EventLogging = 7\n", 0o644);
    }
    let sink = Arc::new(MemorySink::new());
    let p = Provider::open(dir, sink.clone()).expect("provider opens");
    sink.clear();
    (p, sink)
}

/// An in-memory provider that logs everything, with its sink.
pub fn in_memory_all() -> (Provider, Arc<MemorySink>) {
    let mut s = Settings::default();
    s.event_logging = securechannel::events::EventLogging::ALL;
    let sink = Arc::new(MemorySink::new());
    let p = Provider::in_memory(s, sink.clone()).expect("provider");
    sink.clear();
    (p, sink)
}

/// Fails if any event carries the key: any 12-byte window of its DER that is not also
/// public (a PKCS#8 key repeats the certificate's public key and algorithm OIDs).
pub fn assert_no_key_material(records: &[EventRecord], key_der: &[u8], certificate: &[u8]) {
    let secret: Vec<&[u8]> = key_der
        .windows(12)
        .filter(|w| !certificate.windows(12).any(|c| c == *w))
        .collect();
    assert!(!secret.is_empty());
    for r in records {
        let mut blobs: Vec<Vec<u8>> = r.data.iter().map(|d| d.as_bytes().to_vec()).collect();
        if let Some(b) = &r.binary {
            blobs.push(b.to_vec());
        }
        for blob in &blobs {
            for w in &secret {
                assert!(
                    !blob.windows(w.len()).any(|x| x == *w),
                    "event {} carries key material",
                    r.event_id.value()
                );
            }
        }
        for d in &r.data {
            assert!(
                !d.contains("PRIVATE KEY"),
                "event {} carries a PEM key",
                r.event_id.value()
            );
        }
    }
}

pub fn has_openssl() -> bool {
    std::process::Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
