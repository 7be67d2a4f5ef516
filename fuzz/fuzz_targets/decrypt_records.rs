//! After a real handshake (TLS 1.3, in memory), arbitrary bytes as records to decrypt, on
//! the server (data[0] even) or the client (odd). Never a panic; every error renders;
//! `consumed` never exceeds the input; after an error the context refuses further use
//! with an error, not a panic.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use securechannel::DecryptStatus;

fuzz_target!(|data: &[u8]| {
    let Some((&side, body)) = data.split_first() else {
        return;
    };
    let (mut client, mut server) = common::handshaken();
    let mut input = body.to_vec();
    let mut plaintext = Vec::new();
    let mut out = Vec::new();
    for _ in 0..16 {
        let r = if side & 1 == 0 {
            server.decrypt(&mut input, &mut plaintext)
        } else {
            client.decrypt(&mut input, &mut plaintext)
        };
        match r {
            Ok(d) => {
                assert!(d.consumed <= input.len(), "consumed more than given");
                input.drain(..d.consumed);
                if d.consumed == 0 || matches!(d.status, DecryptStatus::PeerClosed) {
                    break;
                }
            }
            Err(e) => {
                let _ = (e.to_string(), e.status());
                break;
            }
        }
    }
    // Whatever happened, the contexts answer (an alert waiting, or an error).
    let _ = server.take_output(&mut out);
    let _ = client.take_output(&mut out);
    let _ = server.encrypt(b"after", &mut out);
});
