//! The `.reg` parser and apply on arbitrary bytes: never a panic; every diagnostic and
//! change renders; and what was applied exports (in both encodings) to a file that parses
//! with no diagnostics and imports back to the same settings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use securechannel::{RegEncoding, RegFile, SettingValue, Settings};
use std::path::Path;

/// Every setting's configured value (`None`: not configured).
fn configured(s: &Settings) -> Vec<Option<SettingValue>> {
    Settings::definitions()
        .iter()
        .map(|d| {
            s.is_configured(d.name())
                .then(|| s.value(d.name()).ok().flatten())
                .flatten()
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let reg = match RegFile::parse(data, Some(Path::new("fuzz.reg"))) {
        Ok(reg) => reg,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    for d in reg.diagnostics() {
        let _ = d.to_string();
    }
    let mut once = Settings::default();
    for c in once.apply_reg(&reg) {
        let _ = c.to_string();
    }
    for encoding in [RegEncoding::Utf16Le, RegEncoding::Ansi] {
        let bytes = once.to_reg(encoding);
        let back = RegFile::parse(&bytes, None).expect("an export parses");
        assert!(back.diagnostics().is_empty(), "{:?}", back.diagnostics());
        let mut twice = Settings::default();
        twice.apply_reg(&back);
        assert_eq!(configured(&twice), configured(&once), "{encoding:?}");
    }
});
