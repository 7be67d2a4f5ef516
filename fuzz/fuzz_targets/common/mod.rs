//! What the context targets share: one PKI and credentials made once per process (events
//! go to a `NullSink`, so a long run holds no memory for them), a real ClientHello, a
//! handshake driven to completion in memory, and a driver that feeds arbitrary bytes to a
//! side the way a caller of the token API would (consume, keep the extra, stop on error).
#![allow(dead_code)] // each target uses a part

use securechannel::events::{Emitter, EventLogging, NullSink};
use securechannel::{
    ClientContext, ClientCredential, ContextOptions, CredentialOptions, ServerContext,
    ServerCredential, Settings, StepStatus,
};
use securechannel_testpki::Ca;
use std::sync::{Arc, OnceLock};

pub struct World {
    pub client: ClientCredential,
    pub server: ServerCredential,
    /// The first flight of a fresh client to this server: a real ClientHello.
    pub client_hello: Vec<u8>,
}

pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let pki = Ca::root("fuzz root");
        let server_key = pki.server_leaf(&["server.test"]).certified_key();
        // Every event is built (EventLogging = all) and dropped.
        let emitter = Emitter::new(Arc::new(NullSink), EventLogging::ALL);
        let settings = Arc::new(Settings::default());
        let client = ClientCredential::new_in_memory_with(
            emitter.clone(),
            settings.clone(),
            None,
            pki.roots(),
            CredentialOptions::default(),
        );
        let server = ServerCredential::new_in_memory_with(
            emitter,
            settings,
            Some(server_key),
            pki.roots(),
            CredentialOptions::default(),
        );
        let mut hello = Vec::new();
        ClientContext::new(&client, "server.test", ContextOptions::default())
            .expect("client context")
            .initialize(&mut [], &mut hello)
            .expect("a ClientHello");
        World {
            client,
            server,
            client_hello: hello,
        }
    })
}

pub fn client() -> ClientContext {
    ClientContext::new(&world().client, "server.test", ContextOptions::default())
        .expect("client context")
}

pub fn server() -> ServerContext {
    ServerContext::new(&world().server, ContextOptions::default()).expect("server context")
}

/// Feed `input` to a handshake step function in pieces cut at `cuts` (as a transport
/// delivers it), keeping unconsumed bytes as the next call's start. Returns the output
/// produced; stops at the first error (which must render) or when nothing moves.
pub fn feed_steps(
    mut step: impl FnMut(&mut [u8], &mut Vec<u8>) -> Result<securechannel::Step, securechannel::Error>,
    input: &[u8],
    cuts: &[usize],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut held: Vec<u8> = Vec::new();
    let mut at = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.push(input.len());
    points.sort_unstable();
    for p in points {
        if p < at {
            continue;
        }
        held.extend_from_slice(&input[at..p]);
        at = p;
        for _ in 0..8 {
            match step(&mut held, &mut out) {
                Ok(s) => {
                    assert!(s.consumed <= held.len(), "consumed more than given");
                    held.drain(..s.consumed);
                    if s.status == StepStatus::Complete || s.consumed == 0 {
                        break;
                    }
                }
                Err(e) => {
                    let _ = (e.to_string(), e.status());
                    return out;
                }
            }
        }
    }
    out
}

/// A client and a server context that completed a handshake in memory.
pub fn handshaken() -> (ClientContext, ServerContext) {
    let (mut c, mut s) = (client(), server());
    let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
    let mut client_done =
        c.initialize(&mut [], &mut to_server).expect("hello").status == StepStatus::Complete;
    let mut server_done = false;
    for _ in 0..8 {
        if !server_done && !to_server.is_empty() {
            let st = s
                .accept(&mut to_server, &mut to_client)
                .expect("server step");
            to_server.drain(..st.consumed);
            server_done = st.status == StepStatus::Complete;
        }
        if !client_done && !to_client.is_empty() {
            let st = c
                .initialize(&mut to_client, &mut to_server)
                .expect("client step");
            to_client.drain(..st.consumed);
            client_done = st.status == StepStatus::Complete;
        }
        if client_done && server_done && to_server.is_empty() {
            break;
        }
    }
    assert!(
        client_done && server_done,
        "the in-memory handshake completes"
    );
    (c, s)
}
