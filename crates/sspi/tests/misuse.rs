//! Malformed use from C (`tests/c/misuse.c`): null, forged, freed and mixed-up handles,
//! missing and wrong buffers, garbage tokens, and every handshake flight and one record
//! split at every offset between an in-process client and server. Each call returns an
//! error status (the exact one where Schannel documents it), never a crash; the split
//! handshakes all complete. Then the same program under valgrind (every 97th offset:
//! valgrind makes each handshake slow).

mod common;

use common::*;

fn misuse(valgrind: bool) -> String {
    let w = World::new();
    w.install_my(&w.server_cert, &w.server_key);
    // Information events would be thousands of 36880s here: errors only.
    std::fs::write(w.data.join("settings.toml"), "EventLogging = 1\n").unwrap();
    let exe = compile("misuse", w.dir.path());
    let args: &[&str] = if valgrind {
        &["localhost", "quick"]
    } else {
        &["localhost"]
    };
    let (status, out, err) = run_c(&w, &exe, args, valgrind);
    assert!(status.success(), "{status:?}\n{out}\n{err}");
    assert!(out.starts_with("OK "), "{out}");
    out
}

#[test]
fn malformed_use_from_c_gets_an_error_status_never_a_crash() {
    let out = misuse(false);
    let checks: usize = out.trim().trim_start_matches("OK ").parse().unwrap();
    // The fixed checks, plus one per split offset of three flights and a record.
    assert!(checks > 1000, "{out}");
}

#[test]
fn malformed_use_under_valgrind_has_no_error_and_no_leak() {
    misuse(true);
}
