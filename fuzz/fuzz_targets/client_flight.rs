//! A client context that sent its ClientHello, fed arbitrary bytes as the server's flights,
//! in pieces cut where data[0..2] say. Never a panic; every error renders; `consumed`
//! never exceeds the input.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cuts, body) = data.split_at(data.len().min(2));
    let cuts: Vec<usize> = cuts.iter().map(|&c| c as usize * 7).collect();
    let mut client = common::client();
    let mut hello = Vec::new();
    client
        .initialize(&mut [], &mut hello)
        .expect("a ClientHello");
    common::feed_steps(|i, o| client.initialize(i, o), body, &cuts);
    let _ = client.connection_info();
});
