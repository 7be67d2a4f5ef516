//! The request parser of `schannel serve` (crates/cli/src/http.rs, compiled in here as
//! it is there) on arbitrary bytes, as pipelined requests: never a panic; a head never
//! claims more bytes than it was given; every parsed request gets a response.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/cli/src/http.rs"]
mod http;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let report = http::ConnectionReport::default();
    let mut rest = data;
    for _ in 0..64 {
        match http::parse_request(rest) {
            None => break,
            Some(http::Parsed::Bad(code)) => {
                let (status, _) = http::response(&Err(code), &report, http::Persistence::Close);
                assert_eq!(status, code);
                break;
            }
            Some(http::Parsed::Head(head, used)) => {
                assert!(
                    used > 0 && used <= rest.len(),
                    "a head of {used} bytes in {}",
                    rest.len()
                );
                let keep = http::Persistence::KeepAlive {
                    timeout: 30,
                    max: 10,
                };
                let _ = http::response(&Ok(head), &report, keep);
                rest = &rest[used..];
            }
        }
    }
});
