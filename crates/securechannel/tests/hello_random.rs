//! The ClientHello sniffer against ~200k pseudo-random and mutated inputs: a deterministic
//! stand-in for the cargo-fuzz target (`fuzz/fuzz_targets/client_hello.rs`) where no
//! nightly toolchain is available. Seeded xorshift, so a failure reproduces exactly.
//!
//! Properties checked on every input: no panic; an input of MAX_SNIFF_BYTES or more is
//! always decided; a decided prefix never disagrees with the longer input (the answer is
//! monotone in the bytes received); a hello's protocol name is a `Protocol::name()` or
//! `unknown`.

use securechannel::{sniff_client_hello, HelloSniff, Protocol, MAX_SNIFF_BYTES};
use std::sync::Arc;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

fn rustls_hello(versions: &[&'static rustls::SupportedProtocolVersion]) -> Vec<u8> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("aws-lc-rs supports TLS 1.2 and 1.3")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("fuzz.example").expect("valid name");
    let mut conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client starts");
    let mut flight = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut flight)
            .expect("writing to a Vec cannot fail");
    }
    flight
}

/// A minimal SSL 3.0-style hello (no extensions) in one record.
fn ssl3_hello() -> Vec<u8> {
    let mut body = vec![3, 0];
    body.extend_from_slice(&[7; 32]);
    body.extend_from_slice(&[0, 0, 2, 0, 0x2f, 1, 0]);
    let mut msg = vec![1, 0, 0, body.len() as u8];
    msg.extend_from_slice(&body);
    let mut rec = vec![22, 3, 0, 0, msg.len() as u8];
    rec.extend_from_slice(&msg);
    rec
}

fn sslv2_hello() -> Vec<u8> {
    let mut out = vec![0x80, 9 + 3 + 16, 1, 3, 1, 0, 3, 0, 0, 0, 16, 0, 0, 0x2f];
    out.extend_from_slice(&[0x33; 16]);
    out
}

/// Split a single-record hello into records of random sizes.
fn refragment(rng: &mut XorShift, input: &[u8]) -> Vec<u8> {
    if input.len() < 6 || input[0] != 22 {
        return input.to_vec();
    }
    let message = &input[5..];
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < message.len() {
        let n = 1 + rng.below(message.len() - pos);
        out.extend_from_slice(&[22, 3, 1, (n >> 8) as u8, n as u8]);
        out.extend_from_slice(&message[pos..pos + n]);
        pos += n;
    }
    out
}

fn mutate(rng: &mut XorShift, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = [0, 1, 0x7f, 0x80, 0xff, 0x2b, 0x16, 0x03][rng.below(8)];
            }
            2 => v.truncate(rng.below(v.len() + 1)),
            3 if !v.is_empty() => {
                // Overwrite a two-byte length-looking field.
                let i = rng.below(v.len());
                let value = [0u16, 1, 2, 0xffff, 0x4000, 0x4001, 0x0304][rng.below(7)];
                for (k, b) in value.to_be_bytes().into_iter().enumerate() {
                    if let Some(slot) = v.get_mut(i + k) {
                        *slot = b;
                    }
                }
            }
            4 => {
                let extra: Vec<u8> = (0..rng.below(64)).map(|_| rng.byte()).collect();
                v.extend_from_slice(&extra);
            }
            5 => v = refragment(rng, &v),
            _ => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.byte());
            }
        }
    }
    v
}

fn check(rng: &mut XorShift, input: &[u8], counts: &mut [u64; 4]) {
    let full = sniff_client_hello(input);
    counts[match full {
        HelloSniff::NeedMore => 0,
        HelloSniff::NotAHello => 1,
        HelloSniff::Offered(_) => 2,
        HelloSniff::OfferedUnknown(_) => 3,
    }] += 1;
    if input.len() >= MAX_SNIFF_BYTES {
        assert_ne!(
            full,
            HelloSniff::NeedMore,
            "{} bytes undecided",
            input.len()
        );
    }
    if let Some(name) = full.protocol_name() {
        assert!(
            name == "unknown" || Protocol::ALL.iter().any(|p| p.name() == name),
            "{name}"
        );
    }
    // Monotone: a decided prefix agrees with the whole input.
    for _ in 0..2 {
        let cut = rng.below(input.len() + 1);
        let prefix = sniff_client_hello(&input[..cut]);
        if prefix != HelloSniff::NeedMore {
            assert_eq!(prefix, full, "prefix {cut} of {:02x?}", input);
        }
    }
}

#[test]
fn two_hundred_thousand_inputs_never_panic_and_stay_consistent() {
    let seeds = [
        rustls_hello(&[&rustls::version::TLS13, &rustls::version::TLS12]),
        rustls_hello(&[&rustls::version::TLS12]),
        ssl3_hello(),
        sslv2_hello(),
    ];
    for seed in &seeds {
        assert!(matches!(sniff_client_hello(seed), HelloSniff::Offered(_)));
    }
    let mut rng = XorShift(0x5eed_c11e_0474_4e11);
    let mut counts = [0u64; 4];
    for i in 0..200_000 {
        let input = match i % 4 {
            // Pure noise, sometimes with a plausible record header in front.
            0 => {
                let mut v: Vec<u8> = (0..rng.below(300)).map(|_| rng.byte()).collect();
                if rng.below(2) == 0 {
                    v.splice(0..0, [22, 3, rng.byte() & 3]);
                } else if rng.below(2) == 0 {
                    v.splice(0..0, [0x80 | (rng.byte() & 1), rng.byte(), 1, 3]);
                }
                v
            }
            _ => {
                let seed = &seeds[rng.below(seeds.len())];
                mutate(&mut rng, seed)
            }
        };
        check(&mut rng, &input, &mut counts);
    }
    // Large inputs: at and around the cap, and far beyond it.
    for len in [
        MAX_SNIFF_BYTES - 1,
        MAX_SNIFF_BYTES,
        MAX_SNIFF_BYTES + 1,
        100_000,
    ] {
        let mut v = vec![22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff, 3, 3];
        v.resize(len, 0);
        check(&mut rng, &v, &mut counts);
        let tiny_records: Vec<u8> = seeds[0][5..]
            .iter()
            .chain(std::iter::repeat(&0))
            .take(len / 6 + 1)
            .flat_map(|b| [22, 3, 1, 0, 1, *b])
            .collect();
        check(&mut rng, &tiny_records, &mut counts);
    }
    // Every kind of answer must have been exercised, or the generator is too weak.
    assert!(counts.iter().all(|c| *c > 0), "{counts:?}");
    println!("NeedMore, NotAHello, Offered, OfferedUnknown: {counts:?}");
}
