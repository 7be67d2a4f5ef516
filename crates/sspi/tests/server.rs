//! The C server of `tests/c/server.c` (certificate from the MY store, the
//! AcceptSecurityContext loop, DecryptMessage, EncryptMessage, shutdown) against
//! `openssl s_client` on 127.0.0.1, TLS 1.2 and 1.3, and under valgrind.

mod common;

use common::*;
use std::io::Write;
use std::process::Command;

fn serve_one(w: &World, proto: &str, s_client_flag: &str, valgrind: bool) {
    w.install_my(&w.server_cert, &w.server_key);
    let exe = compile("server", w.dir.path());
    let port = free_port().to_string();
    let mut server = spawn_c(w, &exe, &[&port, "localhost", proto], valgrind);
    assert!(
        server.wait_for(|o, _| o.contains("LISTENING")),
        "{}\n{}",
        server.stdout(),
        server.stderr()
    );
    require_tool("openssl", "openssl");
    let mut c = Command::new("openssl");
    c.args(["s_client", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-CAfile")
        .arg(&w.root_pem)
        .args([
            "-servername",
            "localhost",
            "-verify_return_error",
            "-brief",
            "-ign_eof",
            s_client_flag,
        ]);
    let mut client = Proc::spawn(c);
    client.stdin().write_all(b"hello from s_client\n").unwrap();
    let cs = client.wait();
    let ss = server.wait();
    let (so, se) = (server.stdout(), server.stderr());
    let (co, ce) = (client.stdout(), client.stderr());
    let all = format!("server:\n{so}\n{se}\ns_client:\n{co}\n{ce}");
    assert!(ss.success(), "{all}");
    assert!(cs.success(), "{all}");
    assert!(
        so.contains("GOT hello from s_client\n") && so.contains("DONE"),
        "{all}"
    );
    assert!(co.contains("echo: hello from s_client"), "{all}");
    assert!(ce.contains("Verification: OK"), "{all}");
    let version = if s_client_flag == "-tls1_3" {
        "TLSv1.3"
    } else {
        "TLSv1.2"
    };
    assert!(
        ce.contains(&format!("Protocol version: {version}")),
        "{all}"
    );
    let bit = if s_client_flag == "-tls1_3" {
        "0x1000"
    } else {
        "0x400"
    };
    assert!(
        so.contains(&format!("PROTOCOL {bit}\n")),
        "SP_PROT_*_SERVER: {all}"
    );
}

#[test]
fn server_answers_s_client_over_tls13_and_logs_36880() {
    let w = World::new();
    serve_one(&w, "tls13", "-tls1_3", false);
    let e = w.events();
    let done: Vec<_> = e.iter().filter(|e| e.event_id as u16 == 36880).collect();
    assert_eq!(done.len(), 1, "{:?}", w.event_ids());
    assert_eq!(done[0].field("Type"), Some("server"));
    assert_eq!(done[0].field("Protocol"), Some("TLS 1.3"));
}

#[test]
fn server_answers_s_client_over_tls12() {
    let w = World::new();
    serve_one(&w, "default", "-tls1_2", false);
}

#[test]
fn server_under_valgrind_has_no_error_and_no_leak() {
    let w = World::new();
    serve_one(&w, "tls13", "-tls1_3", true);
}
