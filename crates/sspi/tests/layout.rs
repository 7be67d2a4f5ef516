//! The header against Windows: every struct's size and field offsets
//! (`tests/c/layout_list.h`) are asserted at compile time by the mingw-w64 compiler
//! against the Windows SDK headers it ships (sspi.h, schannel.h, wincrypt.h: the x64
//! layout), and by the system compiler against `include/securechannel_sspi.h`; the
//! crate's repr(C) types are checked against the same list in `src/abi.rs`. Then every
//! status the header defines is compared with the provider's one status table.

mod common;

use securechannel_events::Status;
use std::path::PathBuf;
use std::process::Command;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn compile_check(compiler: &str, package: &str, extra: &[&str]) {
    common::require_tool(compiler, package);
    let o = Command::new(compiler)
        .args(extra)
        .arg("-I")
        .arg(crate_dir().join("tests/c"))
        .arg("-I")
        .arg(crate_dir().join("include"))
        .args(["-Wall", "-Werror", "-fsyntax-only"])
        .arg(crate_dir().join("tests/c/layout.c"))
        .output()
        .expect("the compiler runs");
    assert!(
        o.status.success(),
        "{compiler}: a layout differs:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn the_windows_sdk_agrees_with_the_layout_list() {
    // x86_64-w64-mingw32-gcc carries the SDK headers (Debian: gcc-mingw-w64-x86-64).
    compile_check("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64", &["-DSDK"]);
}

#[test]
fn the_header_agrees_with_the_layout_list() {
    compile_check("cc", "gcc", &["-std=c11"]);
}

#[test]
fn every_status_of_the_header_is_the_status_table_s() {
    let header = std::fs::read_to_string(crate_dir().join("include/securechannel_sspi.h")).unwrap();
    let mut seen = 0;
    for line in header.lines() {
        let Some(rest) = line.strip_prefix("#define ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let (Some(name), Some(value)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some(hex) = value.strip_prefix("((SECURITY_STATUS)0x") else {
            continue;
        };
        let value = u32::from_str_radix(hex.trim_end_matches(')'), 16).expect("a hex value");
        let status =
            Status::from_name(name).unwrap_or_else(|| panic!("{name} is not in status.rs"));
        assert_eq!(status.code(), value, "{name}");
        seen += 1;
    }
    // Every SEC_E / SEC_I status of the table is in the header.
    for s in Status::all().filter(|s| s.name().starts_with("SEC_")) {
        assert!(
            header.contains(&format!("#define {} ", s.name())),
            "{} is missing from the header",
            s.name()
        );
    }
    let sec = Status::all()
        .filter(|s| s.name().starts_with("SEC_"))
        .count();
    assert!(
        seen >= sec,
        "only {seen} statuses read from the header, the table has {sec}"
    );
}
