//! The C server of `tests/c/server.c` (certificate from the MY store, the
//! AcceptSecurityContext loop, DecryptMessage, EncryptMessage, shutdown) against
//! `openssl s_client` on 127.0.0.1, TLS 1.2 and 1.3, and under valgrind.

mod common;

use common::*;
use std::io::Write;
use std::process::Command;

/// What the C server printed.
fn serve_one(w: &World, proto: &str, s_client_flag: &str, valgrind: bool) -> String {
    serve(w, &[proto], &[s_client_flag], valgrind)
}

fn serve(w: &World, server_args: &[&str], s_client_args: &[&str], valgrind: bool) -> String {
    let s_client_flag = s_client_args[0];
    w.install_my(&w.server_cert, &w.server_key);
    let exe = compile("server", w.dir.path());
    let port = free_port().to_string();
    let mut args = vec![port.as_str(), "localhost"];
    args.extend_from_slice(server_args);
    let mut server = spawn_c(w, &exe, &args, valgrind);
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
        ])
        .args(s_client_args);
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
    all
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
fn mutual_auth_asks_s_client_for_its_certificate_and_the_server_sees_it() {
    let w = World::new();
    let leaf = w.root.client_leaf(&["client.test"]);
    let (cert, key) = (
        w.dir.path().join("client.pem"),
        w.dir.path().join("client.key"),
    );
    leaf.write_pem(&cert, &key);
    let (c, k) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let out = serve(
        &w,
        &["tls13", "mutual"],
        &["-tls1_3", "-cert", c, "-key", k],
        false,
    );
    assert!(out.contains("CLIENT CERT "), "{out}");
    let e = w.events();
    let done: Vec<_> = e.iter().filter(|e| e.event_id as u16 == 36880).collect();
    assert_eq!(done.len(), 1, "{:?}", w.event_ids());
    assert!(
        done[0]
            .field("RemoteCertSubjectName")
            .is_some_and(|s| s.contains("client.test")),
        "{:?}",
        done[0]
    );
}

#[test]
fn mutual_auth_with_a_client_that_has_no_certificate_finds_none() {
    let w = World::new();
    let out = serve(&w, &["tls12", "mutual"], &["-tls1_2"], false);
    assert!(out.contains("NO CLIENT CERT\n"), "{out}");
}

#[test]
fn server_under_valgrind_has_no_error_and_no_leak() {
    let w = World::new();
    serve_one(&w, "tls13", "-tls1_3", true);
}

#[test]
fn server_accepts_the_application_protocol_s_client_offers() {
    let w = World::new();
    let out = serve(
        &w,
        &["tls13", "alpn", "h2"],
        &["-tls1_3", "-alpn", "http/1.1,h2"],
        false,
    );
    assert!(out.contains("ALPN h2\n"), "{out}");
}

/// The C server in `http` mode answering one `curl` request (with `curl_args`); (server
/// output, curl output).
fn serve_curl(w: &World, server_args: &[&str], curl_args: &[&str]) -> (String, String) {
    w.install_my(&w.server_cert, &w.server_key);
    let exe = compile("server", w.dir.path());
    let port = free_port().to_string();
    let mut args = vec![port.as_str(), "localhost"];
    args.extend_from_slice(server_args);
    args.push("http");
    let mut server = spawn_c(w, &exe, &args, false);
    assert!(
        server.wait_for(|o, _| o.contains("LISTENING")),
        "{}\n{}",
        server.stdout(),
        server.stderr()
    );
    require_tool("curl", "curl");
    let mut c = Command::new("curl");
    c.args(["-sS", "--max-time", "20", "--cacert"])
        .arg(&w.root_pem)
        .args(curl_args)
        .arg(format!("https://localhost:{port}/hello"))
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")]);
    let mut client = Proc::spawn(c);
    let cs = client.wait();
    let ss = server.wait();
    let all = format!(
        "server:\n{}\n{}\ncurl:\n{}\n{}",
        server.stdout(),
        server.stderr(),
        client.stdout(),
        client.stderr()
    );
    assert!(cs.success() && ss.success(), "{all}");
    (server.stdout(), client.stdout())
}

#[test]
fn server_answers_curl_over_tls13() {
    let w = World::new();
    let (so, body) = serve_curl(&w, &["default"], &["--tlsv1.3"]);
    assert!(so.contains("GOT GET /hello HTTP/1.1\r\n"), "{so}");
    assert!(so.contains("PROTOCOL 0x1000\n"), "{so}");
    // CipherInfo on a server describes its own certificate (LOCAL_CERT_CONTEXT).
    assert!(so.contains("CIPHERINFO protocol 0x1000 suite 0x"), "{so}");
    assert!(
        so.contains(" cert ECDSA\n") && so.contains("LOCALCERT localhost\n"),
        "{so}"
    );
    assert_eq!(body, "echo: GET /hello HTTP/1.1\r\nclient-cert: no\n");
}

#[test]
fn server_answers_curl_over_tls12_without_a_client_certificate_when_asking_for_one() {
    let w = World::new();
    let (so, body) = serve_curl(&w, &["tls12", "mutual"], &["--tlsv1.2", "--tls-max", "1.2"]);
    assert!(
        so.contains("NO CLIENT CERT\n") && so.contains("PROTOCOL 0x400\n"),
        "{so}"
    );
    assert!(body.ends_with("client-cert: no\n"), "{body}");
}

#[test]
fn server_sees_the_client_certificate_curl_sends() {
    let w = World::new();
    let leaf = w.root.client_leaf(&["curl.client.test"]);
    let (cert, key) = (w.dir.path().join("curl.pem"), w.dir.path().join("curl.key"));
    leaf.write_pem(&cert, &key);
    let (c, k) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let (so, body) = serve_curl(&w, &["tls13", "mutual"], &["--cert", c, "--key", k]);
    assert!(so.contains("CLIENT CERT "), "{so}");
    assert!(body.ends_with("client-cert: yes\n"), "{body}");
    let e = w.events();
    let done: Vec<_> = e.iter().filter(|e| e.event_id as u16 == 36880).collect();
    assert_eq!(done.len(), 1, "{:?}", w.event_ids());
    assert!(
        done[0]
            .field("RemoteCertSubjectName")
            .is_some_and(|s| s.contains("curl.client.test")),
        "{:?}",
        done[0]
    );
}
