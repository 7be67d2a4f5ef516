//! The settings loader on arbitrary bytes: never a panic (an error names what is wrong);
//! every accessor answers on what loaded; and what loaded exports as a `.reg` file that
//! imports back to the same settings.
#![no_main]

use libfuzzer_sys::fuzz_target;
use securechannel::{RegEncoding, RegFile, Role, SettingValue, Settings};
use std::path::Path;

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
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let settings = match Settings::parse(text, Some(Path::new("settings.toml"))) {
        Ok(s) => s,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    for d in Settings::definitions() {
        let _ = settings.source(d.name());
    }
    for w in settings.warnings() {
        let _ = w.to_string();
    }
    for role in [Role::Client, Role::Server] {
        let _ = settings.crypto_provider(role);
        let _ = settings.enabled_protocols(role);
    }
    let _ = settings.event_log();
    let bytes = settings.to_reg(RegEncoding::Ansi);
    let reg = RegFile::parse(&bytes, None).expect("an export parses");
    assert!(reg.diagnostics().is_empty(), "{:?}", reg.diagnostics());
    let mut back = Settings::default();
    back.apply_reg(&reg);
    assert_eq!(configured(&back), configured(&settings));
});
