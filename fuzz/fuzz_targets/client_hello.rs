//! The legacy ClientHello sniffer on arbitrary bytes: it must never panic, must decide any
//! input of MAX_SNIFF_BYTES or more, and a decided prefix must agree with the whole input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use securechannel::{sniff_client_hello, HelloSniff, MAX_SNIFF_BYTES};

fuzz_target!(|data: &[u8]| {
    let full = sniff_client_hello(data);
    if data.len() >= MAX_SNIFF_BYTES {
        assert_ne!(full, HelloSniff::NeedMore);
    }
    // Monotone in the bytes received: cut at a data-derived point.
    if let Some(&b) = data.first() {
        let cut = usize::from(b) * data.len() / 256;
        let prefix = sniff_client_hello(&data[..cut]);
        if prefix != HelloSniff::NeedMore {
            assert_eq!(prefix, full);
        }
    }
});
