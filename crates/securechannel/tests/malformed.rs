//! Malformed input: random bytes, truncated and corrupted hellos, garbage records. Every
//! case ends in a status (an error where the input is wrong), never a panic or a hang,
//! and 36888 is logged exactly when an alert was produced.

mod common;

use common::{events, World};
use securechannel::{ClientContext, ContextOptions, ServerContext, Status, StepStatus};

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Feed `input` to a fresh server; return whether it failed and whether the failure
/// produced output (the alert).
fn accept_once(w: &World, input: &[u8]) -> (bool, bool) {
    let mut server = ServerContext::new(&w.server_credential(), ContextOptions::default()).unwrap();
    let mut buf = input.to_vec();
    let mut out = Vec::new();
    match server.accept(&mut buf, &mut out) {
        Ok(step) => {
            assert!(step.consumed <= input.len());
            (false, false)
        }
        Err(e) => {
            assert_ne!(e.status(), Status::Ok);
            (true, !out.is_empty())
        }
    }
}

fn client_hello(w: &World) -> Vec<u8> {
    let mut client = ClientContext::new(
        &w.client_credential(),
        "server.test",
        ContextOptions::default(),
    )
    .unwrap();
    let mut hello = Vec::new();
    client.initialize(&mut [], &mut hello).unwrap();
    hello
}

#[test]
fn random_bytes_to_a_server() {
    let w = World::new();
    let mut rng = Rng(0x5EED_0001);
    let (mut failures, mut alerts) = (0, 0);
    for i in 0..400 {
        let len = (rng.next() % 3000) as usize;
        let mut input = rng.bytes(len);
        // Half of the inputs look like a handshake record so rustls reads further.
        if i % 2 == 0 && input.len() >= 5 {
            input[..3].copy_from_slice(&[22, 3, 1]);
        }
        let (failed, alerted) = accept_once(&w, &input);
        failures += failed as usize;
        alerts += alerted as usize;
    }
    assert!(
        failures > 300,
        "only {failures} of 400 random inputs failed"
    );
    assert_eq!(events(&w.server_sink, 36888).len(), alerts);
}

#[test]
fn random_bytes_to_a_client_after_its_hello() {
    let w = World::new();
    let mut rng = Rng(0x5EED_0002);
    let mut alerts = 0;
    for _ in 0..200 {
        let mut client = ClientContext::new(
            &w.client_credential(),
            "server.test",
            ContextOptions::default(),
        )
        .unwrap();
        let mut out = Vec::new();
        client.initialize(&mut [], &mut out).unwrap();
        out.clear();
        let len = 5 + (rng.next() % 2000) as usize;
        let mut input = rng.bytes(len);
        input[..3].copy_from_slice(&[22, 3, 3]);
        if let Err(e) = client.initialize(&mut input, &mut out) {
            assert_ne!(e.status(), Status::Ok);
            alerts += !out.is_empty() as usize;
        }
    }
    assert_eq!(events(&w.client_sink, 36888).len(), alerts);
}

#[test]
fn client_hello_prefixes_are_incomplete_with_exact_missing_counts() {
    let w = World::new();
    let hello = client_hello(&w);
    for cut in 0..hello.len() {
        let mut server =
            ServerContext::new(&w.server_credential(), ContextOptions::default()).unwrap();
        let mut buf = hello[..cut].to_vec();
        let mut out = Vec::new();
        let step = server.accept(&mut buf, &mut out).unwrap();
        let missing = (cut >= 5).then(|| hello.len() - cut);
        assert_eq!(
            step.status,
            StepStatus::IncompleteMessage { missing },
            "cut {cut}"
        );
        assert!(out.is_empty());
    }
}

#[test]
fn client_hello_cut_at_every_offset_is_refused() {
    // The hello cut at every offset, with the record and handshake lengths rewritten to
    // the cut: a complete record holding a truncated ClientHello.
    let w = World::new();
    let hello = client_hello(&w);
    let (mut failures, mut alerts) = (0, 0);
    let cuts = 10..hello.len();
    for cut in cuts.clone() {
        let mut input = hello[..cut].to_vec();
        let rec_len = (cut - 5) as u16;
        input[3..5].copy_from_slice(&rec_len.to_be_bytes());
        let hs_len = (cut - 9) as u32;
        input[6..9].copy_from_slice(&hs_len.to_be_bytes()[1..]);
        let (failed, alerted) = accept_once(&w, &input);
        assert!(failed, "a ClientHello cut at {cut} was accepted");
        failures += failed as usize;
        alerts += alerted as usize;
    }
    assert_eq!(failures, cuts.len());
    assert_eq!(events(&w.server_sink, 36888).len(), alerts);
    assert!(alerts > 0);
}

#[test]
fn client_hello_with_each_byte_flipped_never_panics() {
    let w = World::new();
    let hello = client_hello(&w);
    let mut alerts = 0;
    for at in 0..hello.len() {
        let mut input = hello.clone();
        input[at] ^= 0xFF;
        let (_, alerted) = accept_once(&w, &input);
        alerts += alerted as usize;
    }
    assert_eq!(events(&w.server_sink, 36888).len(), alerts);
}

#[test]
fn garbage_records_after_the_handshake_fail_with_an_alert() {
    let w = World::new();
    let mut rng = Rng(0x5EED_0003);
    for _ in 0..20 {
        let mut p = w.pair();
        p.handshake().unwrap();
        let body = rng.bytes(40);
        let mut input = vec![23, 3, 3, 0, 40];
        input.extend_from_slice(&body);
        let mut plain = Vec::new();
        let e = p.server.decrypt(&mut input, &mut plain).unwrap_err();
        assert_eq!(e.status(), Status::DecryptFailure);
        assert!(plain.is_empty());
        let mut alert = Vec::new();
        assert!(p.server.take_output(&mut alert) > 0);
        // The context stays failed.
        assert_eq!(
            p.server.decrypt(&mut [], &mut plain).unwrap_err().status(),
            Status::DecryptFailure
        );
    }
    assert_eq!(events(&w.server_sink, 36888).len(), 20);
}
