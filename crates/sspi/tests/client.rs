//! The C client of `tests/c/client.c` (written as the Windows SDK's Schannel client
//! sample) against `openssl s_server` on 127.0.0.1: it fetches a page and the test
//! checks it, the negotiated protocol, and the events the handshake left in the data
//! directory's System log; then the refusals (untrusted root, wrong name) with their
//! statuses and events; then the same program under valgrind.

mod common;

use common::*;

/// Fetch the page of an s_server speaking `server_proto` with the client's `args`.
fn fetch(
    world: &World,
    server_proto: &str,
    args: &[&str],
    valgrind: bool,
) -> (bool, String, String) {
    let exe = compile("client", world.dir.path());
    let (server, port) = s_server(&world.server_cert, &world.server_key, &[server_proto]);
    let port = port.to_string();
    let mut all = vec![port.as_str()];
    all.extend_from_slice(args);
    let (status, out, err) = run_c(world, &exe, &all, valgrind);
    (
        status.success(),
        out,
        format!(
            "{err}\n--- s_server:\n{}\n{}",
            server.stdout(),
            server.stderr()
        ),
    )
}

fn assert_page(out: &str, err: &str, openssl_protocol: &str) {
    assert!(out.contains("HTTP/1.0 200 ok"), "no page:\n{out}\n{err}");
    // s_server -www reports the connection as it saw it.
    assert!(out.contains(openssl_protocol), "{out}");
    assert!(out.contains("\nDONE "), "{out}\n{err}");
}

#[test]
fn client_fetches_a_page_over_tls13_with_schannel_cred_v4_and_logs_36880() {
    let w = World::new();
    let (ok, out, err) = fetch(&w, "-tls1_3", &["127.0.0.1", "tls13", "v4"], false);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("PROTOCOL 0x2000\n"),
        "SP_PROT_TLS1_3_CLIENT: {out}"
    );
    assert_page(&out, &err, "TLSv1.3");
    let events = w.events();
    let done: Vec<_> = events
        .iter()
        .filter(|e| e.event_id as u16 == 36880)
        .collect();
    assert_eq!(done.len(), 1, "{:?}", w.event_ids());
    assert_eq!(done[0].field("Protocol"), Some("TLS 1.3"));
    assert_eq!(done[0].field("TargetName"), Some("127.0.0.1"));
    assert_eq!(done[0].field("Type"), Some("client"));
}

#[test]
fn client_fetches_a_page_over_tls12_with_sch_credentials_v5() {
    let w = World::new();
    let (ok, out, err) = fetch(&w, "-tls1_2", &["localhost", "tls12", "v5"], false);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("PROTOCOL 0x800\n"),
        "SP_PROT_TLS1_2_CLIENT: {out}"
    );
    assert_page(&out, &err, "TLSv1.2");
    let e = w.events();
    let done: Vec<_> = e.iter().filter(|e| e.event_id as u16 == 36880).collect();
    assert_eq!(done.len(), 1, "{:?}", w.event_ids());
    assert_eq!(done[0].field("Protocol"), Some("TLS 1.2"));
}

#[test]
fn client_refuses_an_untrusted_root_with_sec_e_untrusted_root_and_36882() {
    let w = World::new();
    let exe = compile("client", w.dir.path());
    let (mut server, port) = s_server(&w.untrusted_cert, &w.untrusted_key, &[]);
    let (status, out, err) = run_c(&w, &exe, &[&port.to_string(), "localhost"], false);
    assert_eq!(status.code(), Some(2), "{out}\n{err}");
    assert!(
        out.contains("FAILED InitializeSecurityContextA 0x80090325"),
        "{out}\n{err}"
    );
    assert!(w.event_ids().contains(&36882), "{:?}", w.event_ids());
    // The alert went out (ISC_REQ_EXTENDED_ERROR): s_server saw unknown_ca.
    assert!(
        server.wait_for(|o, e| (o.to_string() + e).contains("unknown ca")),
        "{}\n{}",
        server.stdout(),
        server.stderr()
    );
}

#[test]
fn client_refuses_a_wrong_name_with_sec_e_wrong_principal_and_36884() {
    let w = World::new();
    let (ok, out, err) = fetch(&w, "-tls1_3", &["wrong.example"], false);
    assert!(!ok);
    assert!(
        out.contains("FAILED InitializeSecurityContextA 0x80090322"),
        "{out}\n{err}"
    );
    assert!(w.event_ids().contains(&36884), "{:?}", w.event_ids());
}

#[test]
fn manual_validation_accepts_the_untrusted_server_for_the_program_to_judge() {
    let w = World::new();
    let exe = compile("client", w.dir.path());
    let (_server, port) = s_server(&w.untrusted_cert, &w.untrusted_key, &["-tls1_3"]);
    let (status, out, err) = run_c(
        &w,
        &exe,
        &[&port.to_string(), "localhost", "default", "v4", "manual"],
        false,
    );
    assert!(status.success(), "{out}\n{err}");
    assert_page(&out, &err, "TLSv1.3");
    assert!(!w.event_ids().contains(&36882), "{:?}", w.event_ids());
}

#[test]
fn client_under_valgrind_has_no_error_and_no_leak() {
    let w = World::new();
    for (proto, flag) in [("tls13", "-tls1_3"), ("tls12", "-tls1_2")] {
        let (ok, out, err) = fetch(&w, flag, &["localhost", proto, "v4"], true);
        assert!(ok, "valgrind ({proto}):\n{out}\n{err}");
        assert_page(
            &out,
            &err,
            if proto == "tls13" {
                "TLSv1.3"
            } else {
                "TLSv1.2"
            },
        );
    }
}

#[test]
fn client_certificate_from_the_my_store_is_sent_to_an_s_server_that_requires_one() {
    let w = World::new();
    let leaf = w.root.client_leaf(&["client.test"]);
    let (cert, key) = (
        w.dir.path().join("client.pem"),
        w.dir.path().join("client.key"),
    );
    leaf.write_pem(&cert, &key);
    w.install_my(&cert, &key);
    let root = w.root_pem.to_str().unwrap().to_string();
    let exe = compile("client", w.dir.path());
    let (_server, port) = s_server(
        &w.server_cert,
        &w.server_key,
        &[
            "-tls1_3",
            "-Verify",
            "1",
            "-verify_return_error",
            "-CAfile",
            &root,
        ],
    );
    let (status, out, err) = run_c(
        &w,
        &exe,
        &[
            &port.to_string(),
            "localhost",
            "tls13",
            "v5",
            "store",
            "client.test",
        ],
        false,
    );
    assert!(status.success(), "{out}\n{err}");
    assert_page(&out, &err, "TLSv1.3");
    // s_server -www prints the client's certificate, or says there is none.
    assert!(!out.contains("no client certificate available"), "{out}");
    assert!(out.contains("BEGIN CERTIFICATE"), "{out}");
    let e = w.events();
    let done: Vec<_> = e.iter().filter(|e| e.event_id as u16 == 36880).collect();
    assert_eq!(done.len(), 1, "{:?}", w.event_ids());
    assert_eq!(
        done[0].field("LocalCertSubjectName"),
        Some("CN=client.test")
    );
}

#[test]
fn client_offers_application_protocols_and_reads_the_one_s_server_chose() {
    let w = World::new();
    let exe = compile("client", w.dir.path());
    let (_server, port) = s_server(
        &w.server_cert,
        &w.server_key,
        &["-tls1_2", "-alpn", "http/1.1"],
    );
    let (status, out, err) = run_c(
        &w,
        &exe,
        &[
            &port.to_string(),
            "localhost",
            "tls12",
            "v4",
            "alpn",
            "h2,http/1.1",
        ],
        false,
    );
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("ALPN http/1.1\n"), "{out}");
    assert_page(&out, &err, "TLSv1.2");
}

#[test]
fn data_after_a_key_update_request_is_read() {
    // s_server without -www: "K" on its stdin sends a KeyUpdate asking for the client's,
    // then a line of data, then "Q" closes. DecryptMessage reads the KeyUpdate itself
    // (rustls answers it with the next record it writes, so no SEC_I_RENEGOTIATE is
    // needed) and the data after it under the new keys.
    use std::io::Write;
    use std::process::Command;
    require_tool("openssl", "openssl");
    let w = World::new();
    let exe = compile("client", w.dir.path());
    let port = free_port();
    let mut c = Command::new("openssl");
    c.args(["s_server", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&w.server_cert)
        .arg("-key")
        .arg(&w.server_key)
        .args(["-tls1_3", "-naccept", "1"]);
    let mut server = Proc::spawn(c);
    assert!(
        server.wait_for(|o, _| o.contains("ACCEPT")),
        "{}",
        server.stderr()
    );
    let mut client = spawn_c(&w, &exe, &[&port.to_string(), "localhost", "tls13"], false);
    assert!(
        server.wait_for(|o, _| o.contains("GET / HTTP/1.0")),
        "{}\n{}",
        server.stdout(),
        client.stdout()
    );
    for line in [&b"K\n"[..], b"after the key update\n", b"Q\n"] {
        server.stdin().write_all(line).unwrap();
        server.stdin().flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let status = client.wait();
    let (out, err) = (client.stdout(), client.stderr());
    assert!(
        status.success(),
        "{out}\n{err}\n{}\n{}",
        server.stdout(),
        server.stderr()
    );
    assert!(out.contains("after the key update"), "{out}\n{err}");
    assert!(
        // What s_server prints after sending the KeyUpdate of its "K" command.
        server.stdout().contains("SSL_do_handshake -> 1"),
        "s_server sent no KeyUpdate: {}",
        server.stdout()
    );
}

/// The line of `out` starting with `prefix`.
fn line<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} line in:\n{out}"))
}

#[test]
fn cipher_info_session_info_and_credential_attributes_describe_the_connection() {
    let w = World::new();
    let (ok, out, err) = fetch(&w, "-tls1_3", &["localhost", "tls13", "v4"], false);
    assert!(ok, "{out}\n{err}");
    // The credential offers TLS 1.3 only (SP_PROT_TLS1_3_CLIENT); its ALG_IDs: AES-256,
    // SHA-384, AES-128, SHA-256, ECDH ephemeral, RSA and ECDSA signatures.
    assert_eq!(
        line(&out, "CREDS "),
        "CREDS protocols 0x2000 algs 0x6610 0x800D 0x660E 0x800C 0xAE06 0x2400 0x2203"
    );
    // CipherInfo names the suite s_server reports, with its parts; the server's key is
    // ECDSA P-256 (testpki), the exchange X25519.
    let info = line(&out, "CIPHERINFO ");
    let suite = info.split_whitespace().nth(6).unwrap();
    assert!(out.contains(&format!("Cipher is {suite}")), "{info}\n{out}");
    assert_eq!(
        info,
        "CIPHERINFO v1 protocol 0x2000 suite 0x1302 TLS_AES_256_GCM_SHA384 cipher AES 256/16 \
         hash SHA384 384 exchange ECDH 255-255 cert ECDSA"
    );
    // A full handshake; no client certificate was asked for; no issuer list.
    assert_eq!(line(&out, "SESSION "), "SESSION flags 0 id 0");
    assert_eq!(line(&out, "LOCALCERT "), "LOCALCERT none 0x8009030E");
    assert_eq!(line(&out, "ISSUERS "), "ISSUERS 0");
}

#[test]
fn the_issuer_list_and_local_certificate_of_a_mutual_handshake() {
    let w = World::new();
    let leaf = w.root.client_leaf(&["client.test"]);
    let (cert, key) = (
        w.dir.path().join("client.pem"),
        w.dir.path().join("client.key"),
    );
    leaf.write_pem(&cert, &key);
    w.install_my(&cert, &key);
    let root = w.root_pem.to_str().unwrap().to_string();
    let exe = compile("client", w.dir.path());
    let (_server, port) = s_server(
        &w.server_cert,
        &w.server_key,
        &["-tls1_2", "-Verify", "1", "-CAfile", &root],
    );
    let (status, out, err) = run_c(
        &w,
        &exe,
        &[
            &port.to_string(),
            "localhost",
            "tls12",
            "v4",
            "store",
            "client.test",
        ],
        false,
    );
    assert!(status.success(), "{out}\n{err}");
    assert_eq!(line(&out, "LOCALCERT "), "LOCALCERT client.test");
    // s_server names its -CAfile's subject in the CertificateRequest: the root's DER Name.
    let (_, root_cert) = x509_parser::parse_x509_certificate(w.root.der().as_ref()).unwrap();
    let hex: String = root_cert
        .subject()
        .as_raw()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(line(&out, "ISSUERS "), format!("ISSUERS 1 {hex}"));
    assert!(
        line(&out, "CIPHERINFO ").starts_with("CIPHERINFO v1 protocol 0x800 "),
        "{out}"
    );
}

#[test]
fn without_extended_error_the_alert_of_a_failure_comes_in_the_secbuffer_alert() {
    let w = World::new();
    let exe = compile("client", w.dir.path());
    let (mut server, port) = s_server(&w.untrusted_cert, &w.untrusted_key, &[]);
    let (status, out, err) = run_c(
        &w,
        &exe,
        &[&port.to_string(), "localhost", "default", "v4", "alertbuf"],
        false,
    );
    assert_eq!(status.code(), Some(2), "{out}\n{err}");
    let alert = line(&out, "ALERT ");
    let n: usize = alert.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        alert.starts_with("ALERT token 0 alert ") && n > 0,
        "{alert}"
    );
    // The program sent the SECBUFFER_ALERT: s_server received unknown_ca.
    assert!(
        server.wait_for(|o, e| (o.to_string() + e).contains("unknown ca")),
        "{}\n{}",
        server.stdout(),
        server.stderr()
    );
}

#[test]
fn tls13_post_handshake_messages_are_read_by_decrypt_message_without_sec_i_renegotiate() {
    // s_server (TLS 1.3, no -www) sends its two NewSessionTickets after the handshake;
    // "k" on its stdin sends a KeyUpdate not asking for one back, "K" one asking for it;
    // each is followed by a line of data; "Q" ends it. On Windows, DecryptMessage returns
    // SEC_I_RENEGOTIATE (0x00090321) for these messages; here rustls reads them inside
    // DecryptMessage, which returns SEC_E_OK with an empty DATA buffer (the documented
    // difference, crates/sspi/README.md). Every call's status is printed (`decrypts`).
    use std::io::Write;
    use std::process::Command;
    require_tool("openssl", "openssl");
    let w = World::new();
    let exe = compile("client", w.dir.path());
    let port = free_port();
    let mut c = Command::new("openssl");
    c.args(["s_server", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(&w.server_cert)
        .arg("-key")
        .arg(&w.server_key)
        .args(["-tls1_3", "-naccept", "1"]);
    let mut server = Proc::spawn(c);
    assert!(
        server.wait_for(|o, _| o.contains("ACCEPT")),
        "{}",
        server.stderr()
    );
    let mut client = spawn_c(
        &w,
        &exe,
        &[&port.to_string(), "localhost", "tls13", "v4", "decrypts"],
        false,
    );
    assert!(
        server.wait_for(|o, _| o.contains("GET / HTTP/1.0")),
        "{}\n{}",
        server.stdout(),
        client.stderr()
    );
    for input in [&b"k\n"[..], b"after k\n", b"K\n", b"after K\n", b"Q\n"] {
        server.stdin().write_all(input).unwrap();
        server.stdin().flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let status = client.wait();
    let (out, err) = (client.stdout(), client.stderr());
    assert!(status.success(), "{out}\n{err}\n{}", server.stdout());
    assert!(out.contains("after k\nafter K\n"), "{out}\n{err}");
    let statuses: Vec<&str> = err
        .lines()
        .filter_map(|l| l.strip_prefix("DECRYPT "))
        .collect();
    // Tickets, the KeyUpdate of "k", the one of "K": calls with no data, all SEC_E_OK;
    // and the two lines. ("Q" ends s_server without close_notify.)
    let empty = statuses
        .iter()
        .filter(|s| **s == "0x00000000 data 0")
        .count();
    assert!(empty >= 3, "{statuses:?}");
    assert!(
        statuses.contains(&"0x00000000 data 8"),
        "the lines after the key updates: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| s.starts_with("0x00000000 ") || s.starts_with("0x00090317 ")),
        "no SEC_I_RENEGOTIATE, no error: {statuses:?}"
    );
    assert!(err.contains("renegotiate 0"), "{err}");
    // s_server did send both KeyUpdates (what it prints after each).
    assert_eq!(
        server.stdout().matches("SSL_do_handshake -> 1").count(),
        2,
        "{}",
        server.stdout()
    );
}
