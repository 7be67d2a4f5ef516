//! Names: registry paths as admins type or paste them, the canonical spelling of a key,
//! and suggestions for a name that does not exist.

use super::value::{SettingsError, SettingsProblem};
use super::Settings;
use std::sync::OnceLock;

/// The SCHANNEL key under HKEY_LOCAL_MACHINE.
pub(super) const SCHANNEL_KEY: &str =
    "SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL";
/// The cipher-suite policy key under HKEY_LOCAL_MACHINE (`Functions`, `EccCurves`), which
/// the settings call `CipherSuiteOrder`.
pub(super) const SUITE_POLICY_KEY: &str =
    "SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002";

/// Registry names use `\` (never `/`: `AES 128/128` contains one). The full registry
/// paths are accepted too, so a name copied from regedit or a `.reg` file works: the
/// SCHANNEL base key is dropped, and the cipher suite policy key
/// (`...\Cryptography\Configuration\SSL\00010002`) becomes `CipherSuiteOrder`.
pub fn normalise_name(name: &str) -> String {
    const ROOTS: [&str; 2] = ["HKEY_LOCAL_MACHINE\\", "HKLM\\"];
    fn strip<'a>(n: &'a str, prefix: &str) -> Option<&'a str> {
        (n.len() >= prefix.len()
            && n.is_char_boundary(prefix.len())
            && n[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &n[prefix.len()..])
    }
    let mut n = name.trim().trim_matches('\\');
    for root in ROOTS {
        if let Some(rest) = strip(n, root) {
            n = rest;
        }
    }
    if let Some(rest) = strip(n, SCHANNEL_KEY) {
        return rest.trim_start_matches('\\').to_string();
    }
    if let Some(rest) = strip(n, SUITE_POLICY_KEY) {
        return format!("CipherSuiteOrder{rest}");
    }
    n.to_string()
}

/// The canonical spelling of a group (a registry key that holds values), if it exists.
pub(super) fn canonical_group(name: &str) -> Option<String> {
    let wanted: Vec<&str> = name.split('\\').collect();
    Settings::definitions().iter().find_map(|d| {
        let segs: Vec<&str> = d.segments().collect();
        (segs.len() > wanted.len()
            && segs
                .iter()
                .zip(&wanted)
                .all(|(a, b)| a.eq_ignore_ascii_case(b)))
        .then(|| segs[..wanted.len()].join("\\"))
    })
}

/// Names longer than this get no suggestions: Jaro-Winkler is quadratic in the length, and
/// no setting's name comes close to it.
const MAX_SUGGESTED_LEN: usize = 256;

pub(super) fn unknown_name(name: &str) -> SettingsError {
    let wanted = normalise_name(name).to_ascii_lowercase();
    if wanted.len() > MAX_SUGGESTED_LEN {
        return SettingsError {
            file: None,
            position: None,
            name: Some(name.to_string()),
            problem: Box::new(SettingsProblem::UnknownName {
                suggestions: Vec::new(),
            }),
        };
    }
    let mut scored: Vec<(f64, String)> = candidates()
        .iter()
        .map(|(lower, c)| (strsim::jaro_winkler(&wanted, lower), c.clone()))
        .filter(|(score, _)| *score > 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    SettingsError {
        file: None,
        position: None,
        name: Some(name.to_string()),
        problem: Box::new(SettingsProblem::UnknownName {
            suggestions: scored.into_iter().take(3).map(|(_, c)| c).collect(),
        }),
    }
}

/// Every name a suggestion can be (each setting and each key above it), with its lowercase
/// form: built once, as the table of definitions is.
fn candidates() -> &'static [(String, String)] {
    static CANDIDATES: OnceLock<Vec<(String, String)>> = OnceLock::new();
    CANDIDATES.get_or_init(|| {
        let mut names: Vec<String> = Vec::new();
        for d in Settings::definitions() {
            let segs: Vec<&str> = d.segments().collect();
            for i in 1..=segs.len() {
                let c = segs[..i].join("\\");
                if !names.contains(&c) {
                    names.push(c);
                }
            }
        }
        names
            .into_iter()
            .map(|c| (c.to_ascii_lowercase(), c))
            .collect()
    })
}

pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}
