//! Embed the rustls version the workspace actually locked, so the table names the engine it
//! measured rather than a version typed by hand.

use std::path::Path;

fn main() {
    let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    let version = locked_version(&text, "rustls").unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=BENCH_RUSTLS_VERSION={version}");
    let profile = std::env::var("PROFILE").unwrap_or_else(|_| "unknown".to_owned());
    println!("cargo:rustc-env=BENCH_PROFILE={profile}");
}

/// The version of `package` in a Cargo.lock: the `version` line after its `name` line.
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let wanted = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let v = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(v.trim_end_matches('"').to_owned());
        }
    }
    None
}
