//! The tables in code against the repository's spec files (spec/ at the root, copies of
//! the shared spec), read at test time, in both directions: every entry of the spec is in
//! code with the same values, and code has nothing the spec does not. Where the shared spec
//! exists beside the repository, the copies are checked against it byte for byte.

use securechannel_events::{AlertDescription, EventId, Level, Status, CATALOG};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The files of spec/ that are copies of the shared spec (spec/README.md is the
/// repository's own).
const SPEC_FILES: [&str; 5] = [
    "events.toml",
    "status.toml",
    "chain-status.toml",
    "alerts.toml",
    "registry.md",
];

/// The repository's root (this crate is crates/events).
fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Canonical only so that messages name the directory plainly.
    root.canonicalize().unwrap_or(root)
}

/// The repository's own copy of the spec.
fn spec_dir() -> PathBuf {
    repo_root().join("spec")
}

/// The shared spec beside the repository (`<root>/../shared/spec`), which only the
/// project's own machines and CI have; a clean clone does not.
fn shared_spec_dir() -> PathBuf {
    repo_root().join("..").join("shared").join("spec")
}

fn spec(file: &str) -> toml::Table {
    let path = spec_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

fn str_of<'a>(t: &'a toml::Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(toml::Value::as_str)
}

#[test]
fn catalog_matches_events_toml() {
    let spec = spec("events.toml");
    let events = spec["event"].as_array().expect("[[event]] array");
    assert_eq!(events.len(), CATALOG.len(), "number of events");
    for ev in events {
        let ev = ev.as_table().expect("event table");
        let id = ev["id"].as_integer().expect("id") as u32;
        let def = EventId::try_from(id)
            .unwrap_or_else(|e| panic!("spec event {id}: {e}"))
            .def();
        assert_eq!(u32::from(def.id.value()), id);
        let level = str_of(ev, "level").expect("level");
        assert_eq!(Some(def.level), Level::parse(level), "event {id}: level");
        assert_eq!(def.level.name(), level, "event {id}: level name");
        let spec_fields: Vec<&str> = ev["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f.as_str().expect("field name"))
            .collect();
        // "bin" is not an EventData name: it marks the attached binary data.
        let named: Vec<&str> = spec_fields
            .iter()
            .copied()
            .filter(|f| *f != "bin")
            .collect();
        assert_eq!(def.fields, &named[..], "event {id}: fields");
        assert_eq!(
            def.binary,
            spec_fields.contains(&"bin"),
            "event {id}: binary"
        );
        if let Some(pos) = spec_fields.iter().position(|f| *f == "bin") {
            assert_eq!(pos, spec_fields.len() - 1, "event {id}: bin comes last");
        }
        assert_eq!(
            Some(def.message),
            str_of(ev, "message"),
            "event {id}: message"
        );
        assert_eq!(def.legacy, str_of(ev, "legacy"), "event {id}: legacy");
        let legacy_only = ev.get("legacy_only").and_then(toml::Value::as_bool);
        assert_eq!(
            def.legacy_only,
            legacy_only.unwrap_or(false),
            "event {id}: legacy_only"
        );
        assert_eq!(def.symbolic, str_of(ev, "symbolic"), "event {id}: symbolic");
        assert_eq!(Some(def.title), str_of(ev, "title"), "event {id}: title");
        assert_eq!(
            Some(def.trigger),
            str_of(ev, "trigger"),
            "event {id}: trigger"
        );
        // Every %k of both templates names a field the event has.
        for template in [Some(def.message), def.legacy].into_iter().flatten() {
            for k in insertion_numbers(template) {
                assert!(
                    (1..=def.fields.len()).contains(&k),
                    "event {id}: %{k} but {} fields",
                    def.fields.len()
                );
            }
        }
    }
}

fn insertion_numbers(template: &str) -> Vec<usize> {
    let b = template.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'%' && b[i + 1].is_ascii_digit() {
            let mut j = i + 1;
            let mut n = 0;
            while j < b.len() && j < i + 3 && b[j].is_ascii_digit() {
                n = n * 10 + usize::from(b[j] - b'0');
                j += 1;
            }
            out.push(n);
            i = j;
        } else {
            i += 1;
        }
    }
    out
}

/// The status files of the spec: status.toml (SSPI and the CryptoAPI codes Schannel
/// returns) and chain-status.toml (the chain-policy codes beside them). `Status` is one
/// table for both.
const STATUS_FILES: [&str; 2] = ["status.toml", "chain-status.toml"];

#[test]
fn status_matches_status_and_chain_status_toml_both_directions() {
    // name -> (value, is_error, file)
    let mut by_name: BTreeMap<String, (u32, bool, &str)> = BTreeMap::new();
    for file in STATUS_FILES {
        let spec = spec(file);
        for section in spec.keys() {
            assert!(
                section == "success" || section == "error",
                "{file}: unexpected section [{section}]"
            );
        }
        for (section, is_error) in [("success", false), ("error", true)] {
            let Some(table) = spec.get(section) else {
                continue;
            };
            for (name, value) in table.as_table().expect(section) {
                let value = value.as_integer().expect("value") as u32;
                if let Some((_, _, first)) = by_name.insert(name.clone(), (value, is_error, file)) {
                    panic!("{name} is in both {first} and {file}");
                }
            }
        }
    }
    for (name, (value, is_error, file)) in &by_name {
        let s =
            Status::from_name(name).unwrap_or_else(|| panic!("{name} ({file}) missing in Status"));
        assert_eq!(s.code(), *value, "{name}: value");
        assert_eq!(s.name(), name, "{name}: name");
        assert_eq!(Status::from_code(*value), Some(s), "{name}: from_code");
        assert_eq!(s.is_error(), *is_error, "{name}: section");
        assert_eq!(s.hex(), format!("0x{value:08X}"), "{name}: hex");
    }
    for s in Status::all() {
        let (value, _, _) = by_name.get(s.name()).unwrap_or_else(|| {
            panic!(
                "{} is in code but in neither status.toml nor chain-status.toml",
                s.name()
            )
        });
        assert_eq!(s.code(), *value, "{}", s.name());
    }
    assert_eq!(Status::all().count(), by_name.len());
}

/// Alerts the project knows that spec/alerts.toml does not list (the copy stays
/// byte-identical to the shared spec): (code, name, status when received, where it is
/// defined). The both-directions check allows exactly these beyond the spec; when the spec
/// gains one, its entry here must go (the test says so).
const ALERTS_BEYOND_SPEC: &[(u8, &str, &str, &str)] = &[(
    121,
    "encrypted_client_hello_required",
    // Not in alerts.toml's table, so "any other code": SEC_E_ILLEGAL_MESSAGE.
    "SEC_E_ILLEGAL_MESSAGE",
    "RFC 9849 (TLS Encrypted Client Hello, was draft-ietf-tls-esni) section 6.1.6: a \
     client whose ECH offer the server rejected aborts with it; IANA TLS Alerts registry",
)];

#[test]
fn alerts_match_alerts_toml_both_directions() {
    let spec = spec("alerts.toml");
    let alerts = spec["alerts"].as_array().expect("alerts array");
    let mut codes = Vec::new();
    for a in alerts {
        let a = a.as_table().expect("alert table");
        let code = a["code"].as_integer().expect("code") as u8;
        let name = str_of(a, "name").expect("name");
        let alert = AlertDescription(code);
        assert_eq!(alert.name(), Some(name), "alert {code}: name");
        assert_eq!(
            AlertDescription::from_name(name),
            Some(alert),
            "alert {code}"
        );
        // An alert without a status in the spec falls under "any other code".
        let status = str_of(a, "received_status").unwrap_or("SEC_E_ILLEGAL_MESSAGE");
        assert_eq!(
            alert.received_status().name(),
            status,
            "alert {code}: status"
        );
        let reserved = a.get("reserved").and_then(toml::Value::as_bool);
        assert_eq!(
            alert.is_reserved(),
            reserved.unwrap_or(false),
            "alert {code}: reserved"
        );
        codes.push(code);
    }
    for (code, name, status, reference) in ALERTS_BEYOND_SPEC {
        assert!(
            !codes.contains(code),
            "alerts.toml now lists {code}: remove it from ALERTS_BEYOND_SPEC ({reference})"
        );
        let alert = AlertDescription(*code);
        assert_eq!(
            alert.name(),
            Some(*name),
            "alert {code} ({reference}): name"
        );
        assert_eq!(
            AlertDescription::from_name(name),
            Some(alert),
            "alert {code}"
        );
        assert_eq!(
            alert.received_status().name(),
            *status,
            "alert {code}: status"
        );
        assert!(!alert.is_reserved(), "alert {code}: reserved");
        codes.push(*code);
    }
    codes.sort_unstable();
    let in_code: Vec<u8> = AlertDescription::all().map(|a| a.0).collect();
    assert_eq!(
        in_code, codes,
        "the spec's alerts and ALERTS_BEYOND_SPEC, nothing else, in code order"
    );
    // Any other code: no name, received as SEC_E_ILLEGAL_MESSAGE.
    for code in 0..=u8::MAX {
        if !codes.contains(&code) {
            let alert = AlertDescription(code);
            assert_eq!(alert.name(), None, "alert {code}");
            assert!(!alert.is_reserved(), "alert {code}");
            assert_eq!(
                alert.received_status(),
                Status::IllegalMessage,
                "alert {code}"
            );
        }
    }
}

#[test]
fn repo_spec_agrees_with_shared_spec() {
    // Always, shared spec or not: every copied file is in spec/ and readable, and the
    // TOML files parse (the tests above read them; this names a missing one first).
    for file in SPEC_FILES {
        let path = spec_dir().join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        assert!(!text.trim().is_empty(), "{} is empty", path.display());
        if file.ends_with(".toml") {
            spec(file);
        }
    }
    let shared = shared_spec_dir();
    if !shared.is_dir() {
        eprintln!(
            "NOTE: {} does not exist, so the agreement check of spec/ with the shared spec \
             was not possible; only the repository's copy was checked.",
            shared.display()
        );
        return;
    }
    let mut problems = Vec::new();
    let entries =
        std::fs::read_dir(&shared).unwrap_or_else(|e| panic!("listing {}: {e}", shared.display()));
    let mut shared_names = Vec::new();
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("listing {}: {e}", shared.display()));
        let name = entry.file_name().to_string_lossy().into_owned();
        let theirs = std::fs::read(entry.path())
            .unwrap_or_else(|e| panic!("reading {}: {e}", entry.path().display()));
        match std::fs::read(spec_dir().join(&name)) {
            Ok(ours) if ours == theirs => {}
            Ok(_) => problems.push(format!(
                "spec/{name} differs from {}",
                entry.path().display()
            )),
            Err(_) => problems.push(format!("spec/{name} is missing (the shared spec has it)")),
        }
        shared_names.push(name);
    }
    for file in SPEC_FILES {
        if !shared_names.iter().any(|n| n == file) {
            problems.push(format!("spec/{file} is not in {}", shared.display()));
        }
    }
    assert!(
        problems.is_empty(),
        "spec/ and the shared spec disagree (copy the shared file unchanged):\n  {}",
        problems.join("\n  ")
    );
}
