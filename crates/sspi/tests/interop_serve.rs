//! The C client of `tests/c/client.c` against `schannel serve` (the CLI of crates/cli,
//! built here with cargo and started on an ephemeral port of 127.0.0.1 with its own data
//! directory): both sides are this provider, one through the C ABI and one in Rust, each
//! logging into the data directory they share.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// `target/release/schannel`: the one `cargo test --workspace --release` builds before any
/// test runs (CI's case), used as it is when no source of the crates it is made of is
/// newer; otherwise (this crate's tests run alone after a change) built here by cargo.
fn schannel_exe() -> PathBuf {
    let profile = lib_dir();
    let profile = if profile.ends_with("deps") {
        profile
            .parent()
            .expect("the profile directory")
            .to_path_buf()
    } else {
        profile
    };
    let exe = profile.join("schannel");
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let built = std::fs::metadata(&exe).and_then(|m| m.modified()).ok();
    let stale = match built {
        None => true,
        Some(built) => [
            "cli",
            "securechannel",
            "eventlog",
            "events",
            "explain",
            "viewer",
        ]
        .iter()
        .any(|c| newer_than(&workspace.join("crates").join(c).join("src"), built)),
    };
    if stale {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut build = Command::new(cargo);
        build.current_dir(&workspace).args([
            "build",
            "--release",
            "-p",
            "schannel",
            "--bin",
            "schannel",
        ]);
        let mut p = Proc::spawn(build);
        // A stale CLI rebuilds the provider it depends on: minutes on a loaded machine.
        let status = p.wait_within(Duration::from_secs(900));
        assert!(
            status.success(),
            "cargo build -p schannel failed:\n{}",
            p.stderr()
        );
    }
    assert!(exe.exists(), "no {} after the build", exe.display());
    exe
}

/// Whether a file under `dir` was modified after `t`.
fn newer_than(dir: &Path, t: std::time::SystemTime) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            newer_than(&p, t)
        } else {
            e.metadata().and_then(|m| m.modified()).is_ok_and(|m| m > t)
        }
    })
}

/// `schannel serve` on 127.0.0.1, an ephemeral port, `data` as its data directory.
fn serve(exe: &Path, data: &Path) -> (Proc, u16) {
    for _ in 0..5 {
        let port = free_port();
        let mut c = Command::new(exe);
        c.arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--handshake-timeout", "10"])
            .env_remove("SCHANNEL_DATA");
        let mut p = Proc::spawn(c);
        if p.wait_for(|_, e| e.contains("schannel: serving https://")) {
            return (p, port);
        }
        if !p.stderr().contains("cannot listen") {
            panic!("schannel serve did not start:\n{}", p.stderr());
        }
    }
    panic!("no free port for schannel serve in 5 attempts");
}

#[test]
fn the_c_client_fetches_a_page_from_schannel_serve_and_both_log_36880() {
    let exe = schannel_exe();
    let w = World::new();
    // serve's first run puts its development CA in stores/Root and a localhost
    // certificate in stores/My: the C client, on the same data directory, trusts it.
    let (mut server, port) = serve(&exe, &w.data);
    let client = compile("client", w.dir.path());
    for (proto, bit) in [("tls13", "0x2000"), ("tls12", "0x800")] {
        let (status, out, err) = run_c(
            &w,
            &client,
            &[&port.to_string(), "localhost", proto, "v5"],
            false,
        );
        assert!(
            status.success(),
            "{proto}: {out}\n{err}\n--- serve:\n{}\n{}",
            server.stdout(),
            server.stderr()
        );
        assert!(out.contains(&format!("PROTOCOL {bit}\n")), "{out}");
        // serve answers with how the client connected.
        assert!(out.contains("HTTP/1.1 200 OK"), "{out}");
        assert!(
            out.contains(if proto == "tls13" {
                "TLS 1.3"
            } else {
                "TLS 1.2"
            }),
            "{out}"
        );
        assert!(out.contains("\nDONE "), "{out}");
    }
    server.close_stdin();
    let e = w.events();
    let done = |t: &str| {
        e.iter()
            .filter(|r| r.event_id as u16 == 36880 && r.field("Type") == Some(t))
            .count()
    };
    // Two handshakes, each logged by both sides into the one System log.
    assert_eq!(
        (done("client"), done("server")),
        (2, 2),
        "{:?}",
        w.event_ids()
    );
}
