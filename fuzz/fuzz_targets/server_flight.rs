//! A server context fed arbitrary bytes: as the first flight (data[0] even), or after a
//! real ClientHello (data[0] odd: the bytes are what the client sends next), delivered in
//! pieces cut where data[1..3] say. Never a panic; every error renders; `consumed` never
//! exceeds the input.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (cuts, body) = rest.split_at(rest.len().min(2));
    let cuts: Vec<usize> = cuts.iter().map(|&c| c as usize * 7).collect();
    let mut input = Vec::new();
    if mode & 1 == 1 {
        input.extend_from_slice(&common::world().client_hello);
    }
    input.extend_from_slice(body);
    let mut server = common::server();
    common::feed_steps(|i, o| server.accept(i, o), &input, &cuts);
    let _ = server.connection_info();
});
