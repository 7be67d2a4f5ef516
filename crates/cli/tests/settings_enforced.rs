//! The SCHANNEL settings take effect on real handshakes: `schannel serve` (and `schannel
//! connect`) under a setting, against `openssl s_client` / `s_server` on loopback, with
//! the events each side logs.
//!
//! - session caches: `ServerCacheTime`, `MaximumCacheSize` (s_client `-reconnect`,
//!   `-sess_out` / `-sess_in`, `-no_ticket`);
//! - `KeyExchangeAlgorithms\PKCS\ClientMinKeyBitLength`: `schannel connect` to s_server
//!   with an RSA certificate;

mod common;

use common::*;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// `schannel config set NAME VALUE` in `data`, which must succeed.
fn set(data: &Path, name: &str, value: &str) {
    let r = schannel(data, &["config", "set", name, value]);
    assert!(
        r.status.success(),
        "config set {name} {value}: {}",
        r.both()
    );
}

/// `openssl s_client ... -reconnect` (one handshake, then five with its session): how many
/// of the six said `Reused`, and how many `New`.
fn reconnect(serve: &Serve, args: &[&str]) -> (usize, usize, String) {
    let mut all = vec!["-reconnect"];
    all.extend_from_slice(args);
    let r = s_client_to(serve, &all, b"");
    let reused = r.stdout.matches("\nReused, ").count();
    let new = r.stdout.matches("\nNew, ").count();
    assert_eq!(reused + new, 6, "six handshakes:\n{}", r.both());
    (reused, new, r.stdout)
}

/// One s_client handshake (sending the JSON request, so TLS 1.3 tickets arrive before it
/// saves the session) with `session` saved to or read from `file`: whether it was
/// resumed, and what s_client printed.
fn s_client_session(serve: &Serve, args: &[&str], session: &str, file: &Path) -> (bool, String) {
    let mut all = vec!["-ign_eof", session, file.to_str().unwrap()];
    all.extend_from_slice(args);
    let r = s_client_to(serve, &all, JSON_REQUEST);
    assert!(r.status.success(), "{}", r.both());
    let page = page_json(&r.stdout);
    let reused = r.stdout.contains("\nReused, ");
    assert_eq!(
        page["resumed"], reused,
        "serve and s_client agree:\n{}",
        r.stdout
    );
    (reused, r.stdout)
}

/// A `schannel serve` on its own data directory with `settings` set first.
fn serve_with(dir: &Path, settings: &[(&str, &str)]) -> Serve {
    std::fs::create_dir_all(dir).unwrap();
    log_everything(dir);
    for (name, value) in settings {
        set(dir, name, value);
    }
    Serve::start(dir, &[])
}

#[test]
fn maximum_cache_size_0_turns_session_ids_off_and_tickets_stay() {
    let dir = tempfile::tempdir().unwrap();
    let default = serve_with(&dir.path().join("default"), &[]);
    let no_cache = serve_with(&dir.path().join("no-cache"), &[("MaximumCacheSize", "0")]);
    // Session IDs (TLS 1.2 without tickets): the default cache resumes every reconnect.
    let (reused, _, out) = reconnect(&default, &["-tls1_2", "-no_ticket"]);
    assert_eq!(reused, 5, "{out}");
    let (reused, new, out) = reconnect(&no_cache, &["-tls1_2", "-no_ticket"]);
    assert_eq!(
        (reused, new),
        (0, 6),
        "MaximumCacheSize = 0 keeps no session:\n{out}"
    );
    // Tickets do not need the cache: they still resume, and live ServerCacheTime (10 h,
    // at most 6 h for tickets).
    let (reused, _, out) = reconnect(&no_cache, &["-tls1_2"]);
    assert_eq!(reused, 5, "{out}");
    assert!(
        out.contains("TLS session ticket lifetime hint: 21600 (seconds)"),
        "{out}"
    );
    let sess = dir.path().join("tls13.pem");
    let (first, _) = s_client_session(&no_cache, &["-tls1_3"], "-sess_out", &sess);
    let (second, out) = s_client_session(&no_cache, &["-tls1_3"], "-sess_in", &sess);
    assert!(
        !first && second,
        "TLS 1.3 tickets resume without the cache:\n{out}"
    );
    default.stop();
    no_cache.stop();
}

#[test]
fn server_cache_time_0_resumes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let serve = serve_with(dir.path(), &[("ServerCacheTime", "0")]);
    for args in [&["-tls1_2", "-no_ticket"][..], &["-tls1_2"][..]] {
        let (reused, new, out) = reconnect(&serve, args);
        assert_eq!((reused, new), (0, 6), "{args:?}:\n{out}");
        assert!(
            !out.contains("session ticket lifetime hint"),
            "no ticket: {out}"
        );
    }
    let sess = dir.path().join("tls13.pem");
    let (_, out) = s_client_session(&serve, &["-tls1_3"], "-sess_out", &sess);
    assert!(
        !out.contains("session ticket lifetime hint"),
        "no ticket: {out}"
    );
    // Without a ticket a TLS 1.3 session cannot be resumed: s_client saves none.
    assert!(!sess.exists(), "{out}");
    serve.stop();
}

#[test]
fn server_cache_time_expires_session_ids_and_tickets() {
    let dir = tempfile::tempdir().unwrap();
    let default = serve_with(&dir.path().join("default"), &[]);
    let short = serve_with(&dir.path().join("short"), &[("ServerCacheTime", "1000")]);
    let cases: [&[&str]; 3] = [&["-tls1_2", "-no_ticket"], &["-tls1_2"], &["-tls1_3"]];
    let file = |serve: &str, i: usize| dir.path().join(format!("{serve}-{i}.pem"));
    for (i, args) in cases.iter().enumerate() {
        for (name, serve) in [("default", &default), ("short", &short)] {
            let (resumed, out) = s_client_session(serve, args, "-sess_out", &file(name, i));
            assert!(!resumed, "{out}");
            if name == "short" && args != &["-tls1_2", "-no_ticket"] {
                // The lifetime hint follows ServerCacheTime (in whole seconds).
                assert!(
                    out.contains("TLS session ticket lifetime hint: 1 (seconds)"),
                    "{out}"
                );
            }
        }
    }
    // Past the short server's lifetime (1 s); s_client itself keeps TLS 1.2 sessions for
    // 7200 s, so it offers them: the server is the one that refuses.
    std::thread::sleep(Duration::from_millis(1300));
    for (i, args) in cases.iter().enumerate() {
        let (resumed, out) = s_client_session(&default, args, "-sess_in", &file("default", i));
        assert!(
            resumed,
            "the default server (10 h) resumes {args:?}:\n{out}"
        );
        let (resumed, out) = s_client_session(&short, args, "-sess_in", &file("short", i));
        assert!(
            !resumed,
            "ServerCacheTime = 1000 refuses {args:?} after 1.3 s:\n{out}"
        );
    }
    default.stop();
    short.stop();
}

#[test]
fn pkcs_client_min_key_bit_length_refuses_a_shorter_server_rsa_key() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    log_everything(&data);
    let pki = Pki::new(&pki_dir, "RSA server CA");
    let leaf = pki.rsa_server_leaf("rsa-server");
    let ca = pki.ca_pem.to_str().unwrap();
    let connect = |server: &SServer| {
        let address = server.address();
        schannel(
            &data,
            &["connect", &address, "--cafile", ca, "--timeout", "5"],
        )
    };
    // The default minimum (1024) takes the 2048-bit key.
    let mut server = SServer::start(&leaf, &["-naccept", "1"]);
    let r = connect(&server);
    assert!(r.status.success(), "{}", r.both());
    server.proc.wait_exit(COMMAND_TIMEOUT);
    set(
        &data,
        "KeyExchangeAlgorithms\\PKCS\\ClientMinKeyBitLength",
        "3072",
    );
    let mut server = SServer::start(&leaf, &["-naccept", "1"]);
    let r = connect(&server);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    for words in ["36876", "0x80094016", "ClientMinKeyBitLength"] {
        assert!(r.stderr.contains(words), "{words}: {}", r.stderr);
    }
    server.proc.wait_exit(COMMAND_TIMEOUT);
    let seen = server.output();
    assert_eq!(
        openssl_alert_number(&seen),
        Some(46),
        "certificate_unknown: {seen}"
    );
    let records = events(&data);
    let refused = with_id(&records, 36876);
    assert_eq!(refused.len(), 1, "{}", summary(&records));
    assert_eq!(field(refused[0], "ErrorCode"), "0x80094016");
    let der = refused[0]
        .binary
        .as_ref()
        .expect("36876 carries the certificate");
    assert!(pem_holds_der(
        &std::fs::read_to_string(&leaf.cert).unwrap(),
        der
    ));
    let sent = with_id(&records, 36888);
    assert_eq!(sent.len(), 1, "{}", summary(&records));
    assert_eq!(field(sent[0], "AlertDesc"), "46");
    assert_eq!(
        with_id(&records, 36880).len(),
        1,
        "only the first connection completed"
    );
}

/// A 60 KB ALPN list (240 names of 250 bytes) ending with `http/1.1`, which serve speaks:
/// s_client's ClientHello is then about 61 KB, in four records.
fn huge_alpn() -> String {
    let mut names: Vec<String> = (0..240)
        .map(|i| format!("{i:03}{}", "x".repeat(247)))
        .collect();
    names.push("http/1.1".into());
    names.join(",")
}

#[test]
fn message_limit_server_refuses_a_61_kb_client_hello_and_65535_takes_it() {
    let dir = tempfile::tempdir().unwrap();
    let alpn = huge_alpn();
    let default = serve_with(&dir.path().join("default"), &[]);
    let large = serve_with(
        &dir.path().join("large"),
        &[("Messaging\\MessageLimitServer", "0xffff")],
    );
    // The default limit (16 KiB): refused at the hello's header, before the rest of it is
    // read. s_client is still sending then, and the close resets its connection before
    // it reads the alert; a client that sends only the first record reads it.
    let addr = default.host_port();
    let r = openssl(&["s_client", "-connect", &addr, "-alpn", &alpn], b"");
    assert!(!r.status.success(), "{}", r.both());
    assert!(r.stdout.contains("Cipher is (NONE)"), "{}", r.both());
    let first_record = oversized_hello_first_record(61_000);
    assert_eq!(alert_in(&raw_exchange(&default, &first_record)), Some(50));
    // The engine's own limit: the same hello completes.
    let (r, page) = {
        let r = s_client_to(&large, &["-ign_eof", "-alpn", &alpn], JSON_REQUEST);
        let page = page_json(&r.stdout);
        (r, page)
    };
    assert!(r.status.success(), "{}", r.both());
    assert_eq!(page["alpn"], "http/1.1", "{page}");
    let data = default.data.clone();
    default.stop();
    large.stop();
    let records = events(&data);
    let sent = with_id(&records, 36888);
    assert_eq!(sent.len(), 2, "{}", summary(&records));
    for r in sent {
        assert_eq!(field(r, "AlertDesc"), "50");
        assert_eq!(field(r, "ErrorState"), "3002");
    }
    assert!(with_id(&records, 36880).is_empty(), "{}", summary(&records));
}

/// The first record (16 KiB) of a ClientHello whose header announces `size` bytes (its
/// body is a TLS 1.2 hello with a large ALPN extension): all a server needs to refuse it.
fn oversized_hello_first_record(size: usize) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]); // random
    body.push(0); // no session ID
    body.extend_from_slice(&[0, 2, 0xC0, 0x2B, 1, 0]); // one suite, null compression
    body.resize(size - 4, 0x61); // the rest of the extensions never arrive
    let mut message = vec![1];
    message.extend_from_slice(&((size - 4) as u32).to_be_bytes()[1..]);
    message.extend_from_slice(&body);
    let mut record = vec![22, 3, 1, 0x40, 0x00];
    record.extend_from_slice(&message[..16384]);
    record
}

/// The first fatal alert in a stream of TLS records.
fn alert_in(bytes: &[u8]) -> Option<u8> {
    let mut pos = 0;
    while pos + 5 <= bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[pos + 3], bytes[pos + 4]]));
        if bytes[pos] == 21 && len == 2 && pos + 7 <= bytes.len() {
            return Some(bytes[pos + 6]);
        }
        pos += 5 + len;
    }
    None
}

/// Send `bytes`, half-close, and read until serve closes (bounded by a read timeout).
fn raw_exchange(serve: &Serve, bytes: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(serve.addr).expect("connect to serve");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(bytes).unwrap();
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    got
}

#[test]
fn message_limit_client_refuses_a_40_kb_tls12_certificate_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pki_dir = dir.path().join("pki");
    std::fs::create_dir_all(&pki_dir).unwrap();
    log_everything(&data);
    let pki = Pki::new(&pki_dir, "padded server CA");
    let leaf = pki.padded_server_leaf("padded", 40_000);
    let ca = pki.ca_pem.to_str().unwrap();
    let connect = |server: &SServer, tls: &str| {
        let address = server.address();
        schannel(
            &data,
            &["connect", &address, tls, "--cafile", ca, "--timeout", "5"],
        )
    };
    // TLS 1.2 sends the Certificate message in plaintext: the default limit (32 KiB)
    // refuses it at its header, with decode_error (logged below). s_server is still
    // sending the rest then, so the close may reset its connection before it reads the
    // alert: what it prints is not asserted.
    let mut server = SServer::start(&leaf, &["-naccept", "1"]);
    let r = connect(&server, "--tls1.2");
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(
        r.stderr.contains("the server sent a Certificate of 4"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "larger than `Messaging\\MessageLimitClient` allows (32768 bytes); decode_error sent"
        ),
        "{}",
        r.stderr
    );
    server.proc.wait_exit(COMMAND_TIMEOUT);
    // TLS 1.3 encrypts it: the engine's own limit (65535) is the bound, as config show says.
    let mut server = SServer::start(&leaf, &["-naccept", "1"]);
    let r = connect(&server, "--tls1.3");
    assert!(r.status.success(), "{}", r.both());
    server.proc.wait_exit(COMMAND_TIMEOUT);
    // A larger limit takes the TLS 1.2 message.
    set(&data, "Messaging\\MessageLimitClient", "65535");
    let mut server = SServer::start(&leaf, &["-naccept", "1"]);
    let r = connect(&server, "--tls1.2");
    assert!(r.status.success(), "{}", r.both());
    server.proc.wait_exit(COMMAND_TIMEOUT);
    let records = events(&data);
    let sent = with_id(&records, 36888);
    assert_eq!(sent.len(), 1, "{}", summary(&records));
    assert_eq!(field(sent[0], "AlertDesc"), "50");
    assert_eq!(with_id(&records, 36880).len(), 2, "{}", summary(&records));
}

/// A TLS 1.3 connection to serve through the provider's own client and stream, trusting
/// serve's development CA: the handshake is done, nothing is sent yet.
fn open_tls13_connection(
    serve: &Serve,
) -> securechannel::TlsStream<std::net::TcpStream, securechannel::ClientContext> {
    use securechannel::{ClientContext, ContextOptions, Protocol, Provider, Settings};
    let provider = Provider::in_memory(
        Settings::default(),
        Arc::new(securechannel::events::MemorySink::new()),
    )
    .unwrap();
    let ca = std::fs::read(serve.dev_ca()).unwrap();
    let mut b = provider.client_credential().protocols(&[Protocol::Tls13]);
    for c in securechannel::certificates_from_pem_or_der(&ca).unwrap() {
        b = b.add_root(c);
    }
    let credential = b.acquire().unwrap();
    let sock = std::net::TcpStream::connect(serve.addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ctx = ClientContext::new(&credential, "127.0.0.1", ContextOptions::default()).unwrap();
    securechannel::TlsStream::handshake(ctx, sock).unwrap()
}

/// s_client with `args` against serve: the page, or the alert it received.
fn s_client(serve: &Serve, args: &[&str]) -> Result<serde_json::Value, Option<u8>> {
    let mut all = vec!["-ign_eof"];
    all.extend_from_slice(args);
    let r = s_client_to(serve, &all, JSON_REQUEST);
    match r.status.success() {
        true => Ok(page_json(&r.stdout)),
        false => Err(openssl_alert_number(&r.both())),
    }
}

#[test]
fn config_reload_applies_new_settings_to_new_connections_and_open_ones_keep_theirs() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    // EventLogging stays at its default (errors only) for now.
    let serve = Serve::start(data, &["--handshake-timeout", "30"]);
    let pid = std::fs::read_to_string(data.join("serve.pid")).unwrap();
    assert_eq!(pid.trim(), serve.proc.pid().to_string());
    let mut open = open_tls13_connection(&serve);
    let before = s_client(&serve, &["-tls1_3"]).expect("TLS 1.3 before the reload");
    assert_eq!(before["protocol"], "TLS 1.3");

    set(data, "Protocols\\TLS 1.3\\Server\\Enabled", "0");
    set(data, "EventLogging", "7");
    let r = schannel(data, &["config", "reload"]);
    assert!(r.status.success(), "{}", r.both());
    assert!(
        r.stdout.contains("reloaded") && r.stdout.contains("server protocols TLS 1.2"),
        "{}",
        r.both()
    );
    // New connections follow the new policy...
    assert_eq!(s_client(&serve, &["-tls1_3"]).unwrap_err(), Some(70));
    let after = s_client(&serve, &["-tls1_2"]).expect("TLS 1.2 after the reload");
    assert_eq!(after["protocol"], "TLS 1.2");
    // ... while the open one finishes on the old: TLS 1.3.
    open.write_all(JSON_REQUEST).unwrap();
    let mut page = Vec::new();
    let _ = open.read_to_end(&mut page);
    let page = page_json(&String::from_utf8_lossy(&page));
    assert_eq!(page["protocol"], "TLS 1.3", "{page}");

    // A file that does not parse: `config reload` refuses it with its position and does
    // not signal; a SIGHUP sent anyway is refused by serve too; the policy stays.
    std::fs::write(
        data.join("settings.toml"),
        "EventLogging = 7\n[Protocols\nEnabled = 1\n",
    )
    .unwrap();
    let r = schannel(data, &["config", "reload"]);
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(r.stderr.contains("settings.toml:2:"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("was not asked to reload and keeps its policy"),
        "{}",
        r.stderr
    );
    let mut serve = serve;
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &serve.proc.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    assert!(
        serve
            .proc
            .wait_for(COMMAND_TIMEOUT, |_, err| err.contains("reload refused")),
        "{}",
        serve.proc.stderr()
    );
    assert!(
        serve.proc.stderr().contains("settings.toml:2:"),
        "{}",
        serve.proc.stderr()
    );
    assert_eq!(s_client(&serve, &["-tls1_3"]).unwrap_err(), Some(70));
    let still = s_client(&serve, &["-tls1_2"]).expect("TLS 1.2 still");
    assert!(serve.alive());
    serve.stop();
    assert!(
        !data.join("serve.pid").exists(),
        "serve removes its pid file"
    );
    let r = schannel(data, &["config", "reload"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        r.stderr.contains("no schannel serve runs on"),
        "{}",
        r.stderr
    );

    // EventLogging 7 applied at once: the connections after the reload logged 36880,
    // the ones before did not (errors only then).
    let records = events(data);
    let completed: Vec<String> = with_id(&records, 36880)
        .iter()
        .filter(|r| field(r, "Type") == "server")
        .map(|r| field(r, "Protocol").to_string())
        .collect();
    assert_eq!(completed, ["TLS 1.2", "TLS 1.2"], "{}", summary(&records));
    for p in [&after, &still] {
        let id = p["activity_id"].as_str().unwrap();
        assert_eq!(of_activity(&records, id).len(), 1, "{}", summary(&records));
    }
    assert!(of_activity(&records, before["activity_id"].as_str().unwrap()).is_empty());
    // The refused TLS 1.3 hellos: 36874 names the protocol.
    let refused = with_id(&records, 36874);
    assert_eq!(refused.len(), 2, "{}", summary(&records));
    assert!(refused.iter().all(|r| field(r, "Protocol") == "TLS 1.3"));
}

#[test]
fn a_stale_pid_file_is_reported_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    std::fs::create_dir_all(data).unwrap();
    // A pid that is not a running schannel serve: a process that has exited.
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    std::fs::write(data.join("serve.pid"), format!("{pid}\n")).unwrap();
    let r = schannel(data, &["config", "reload"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        r.stderr.contains(&format!(
            "names pid {pid}, which is not a running schannel serve"
        )),
        "{}",
        r.stderr
    );
    let serve = Serve::start(data, &[]);
    assert!(
        serve.proc.stderr().contains("replaced a stale serve.pid"),
        "{}",
        serve.proc.stderr()
    );
    assert_eq!(
        std::fs::read_to_string(data.join("serve.pid"))
            .unwrap()
            .trim(),
        serve.proc.pid().to_string()
    );
    // A second serve on the same data directory is refused while the first runs.
    let second = schannel(data, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(second.status.code(), Some(2), "{}", second.both());
    assert!(
        second.stderr.contains("another schannel serve"),
        "{}",
        second.stderr
    );
    serve.stop();
}

/// A data directory whose stores/Root (and, with `client_auth_list`, stores/ClientAuth)
/// holds a client CA, with `settings` set; and a client leaf that CA issued.
fn client_auth_data(
    dir: &Path,
    name: &str,
    settings: &[(&str, &str)],
    client_auth_list: bool,
) -> (std::path::PathBuf, Leaf) {
    let data = dir.join(name);
    let pki_dir = dir.join(format!("{name}-pki"));
    std::fs::create_dir_all(&pki_dir).unwrap();
    log_everything(&data);
    for (n, v) in settings {
        set(&data, n, v);
    }
    let pki = Pki::new(&pki_dir, "client auth CA");
    for store in ["Root"]
        .iter()
        .chain(client_auth_list.then_some(&"ClientAuth"))
    {
        let to = data.join("stores").join(store);
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(&pki.ca_pem, to.join("client-auth-ca.pem")).unwrap();
    }
    let leaf = pki.client_leaf("alice", "alice.client.example");
    (data, leaf)
}

/// s_client with a client certificate against a serve that asks for one.
fn s_client_with_certificate(serve: &Serve, leaf: &Leaf, tls: &str) -> Run {
    s_client_with_certificate_and(serve, leaf, tls, &[])
}

/// [`s_client_with_certificate`] with more s_client arguments (`-cert_chain FILE`).
fn s_client_with_certificate_and(serve: &Serve, leaf: &Leaf, tls: &str, extra: &[&str]) -> Run {
    let addr = serve.host_port();
    let ca = serve.dev_ca();
    let mut args = vec![
        "s_client",
        "-connect",
        &addr,
        tls,
        "-CAfile",
        ca.to_str().unwrap(),
        "-cert",
        leaf.cert.to_str().unwrap(),
        "-key",
        leaf.key.to_str().unwrap(),
        "-ign_eof",
    ];
    args.extend_from_slice(extra);
    openssl(&args, JSON_REQUEST)
}

/// The client certificate (CN alice...) got in: the page names it, and no 36877.
fn assert_client_certificate_accepted(
    name: &str,
    r: &Run,
    records: &[securechannel_events::EventRecord],
) {
    let page = page_json(&r.stdout);
    assert!(
        page["client_certificate"]
            .as_str()
            .is_some_and(|s| s.contains("alice")),
        "{name}: {page}"
    );
    assert!(
        with_id(records, 36877).is_empty(),
        "{name}: {}",
        summary(records)
    );
}

/// The client certificate was refused as untrusted: s_client received unknown_ca (48) and
/// the log holds one 36877 with SEC_E_UNTRUSTED_ROOT.
fn assert_client_certificate_untrusted(
    name: &str,
    r: &Run,
    records: &[securechannel_events::EventRecord],
) {
    assert_eq!(
        openssl_alert_number(&r.both()),
        Some(48),
        "{name}: {}",
        r.both()
    );
    let refused = with_id(records, 36877);
    assert_eq!(refused.len(), 1, "{name}: {}", summary(records));
    assert_eq!(field(refused[0], "ErrorCode"), "0x80090325", "{name}");
}

#[test]
fn send_trusted_issuer_list_names_the_cas_in_the_certificate_request() {
    let dir = tempfile::tempdir().unwrap();
    let (silent, leaf) = client_auth_data(dir.path(), "silent", &[], false);
    let (listing, _) = client_auth_data(
        dir.path(),
        "listing",
        &[("SendTrustedIssuerList", "1")],
        false,
    );
    for tls in ["-tls1_2", "-tls1_3"] {
        let serve = Serve::start(&silent, &["--request-client-cert"]);
        let r = s_client_with_certificate(&serve, &leaf, tls);
        assert!(
            r.stdout.contains("No client certificate CA names sent"),
            "{tls}: {}",
            r.stdout
        );
        serve.stop();
        let serve = Serve::start(&listing, &["--request-client-cert"]);
        let r = s_client_with_certificate(&serve, &leaf, tls);
        assert!(
            r.stdout
                .contains("Acceptable client certificate CA names\nCN = client auth CA"),
            "{tls}: {}",
            r.stdout
        );
        serve.stop();
    }
}

#[test]
fn client_auth_trust_mode_1_takes_only_the_client_auth_trust_list() {
    let dir = tempfile::tempdir().unwrap();
    let exclusive = [("ClientAuthTrustMode", "1")];
    let cases = [
        ("machine", &[][..], false, true),
        ("exclusive-unlisted", &exclusive[..], false, false),
        ("exclusive-listed", &exclusive[..], true, true),
    ];
    for (name, settings, listed, accepted) in cases {
        let (data, leaf) = client_auth_data(dir.path(), name, settings, listed);
        let serve = Serve::start(&data, &["--require-client-cert"]);
        let r = s_client_with_certificate(&serve, &leaf, "-tls1_2");
        serve.stop();
        let records = events(&data);
        if accepted {
            assert_client_certificate_accepted(name, &r, &records);
        } else {
            assert_client_certificate_untrusted(name, &r, &records);
        }
    }
}

/// ClientAuthTrustMode 2 (ExclusiveCATrust) against openssl s_client sending a leaf and
/// its issuing intermediate: the issuing CA must be in stores/ClientAuth; the root alone
/// is not enough there (while mode 1, ExclusiveRootTrust, takes the root alone).
#[test]
fn client_auth_trust_mode_2_wants_the_issuing_ca_in_the_client_auth_list() {
    use securechannel_testpki::Ca;
    let dir = tempfile::tempdir().unwrap();
    let root = Ca::root("mode2 root");
    let issuing = root.intermediate("mode2 issuing CA");
    let leaf = issuing.client_leaf(&["alice.client.example"]);
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let sent = Leaf {
        cert: pki.join("alice.pem"),
        key: pki.join("alice.key"),
    };
    leaf.write_pem(&sent.cert, &sent.key);
    let chain = issuing.write_pem(&pki.join("issuing.pem"));
    // (name, ClientAuthTrustMode, what stores/ClientAuth holds, accepted)
    let cases = [
        ("mode2-root-only", "2", "root", false),
        ("mode2-issuing", "2", "issuing", true),
        ("mode1-root-only", "1", "root", true),
    ];
    for (name, mode, listed, accepted) in cases {
        let data = dir.path().join(name);
        log_everything(&data);
        set(&data, "ClientAuthTrustMode", mode);
        for (store, ca) in [
            ("Root", &root),
            (
                "ClientAuth",
                if listed == "root" { &root } else { &issuing },
            ),
        ] {
            let to = data.join("stores").join(store);
            std::fs::create_dir_all(&to).unwrap();
            ca.write_pem(&to.join(format!("{listed}-{store}.pem")));
        }
        let serve = Serve::start(&data, &["--require-client-cert"]);
        let r = s_client_with_certificate_and(
            &serve,
            &sent,
            "-tls1_3",
            &["-cert_chain", chain.to_str().unwrap()],
        );
        serve.stop();
        let records = events(&data);
        if accepted {
            assert_client_certificate_accepted(name, &r, &records);
        } else {
            assert_client_certificate_untrusted(name, &r, &records);
            let sent = with_id(&records, 36888);
            assert_eq!(
                field(sent[0], "AlertDesc"),
                "48",
                "{name}: {}",
                summary(&records)
            );
        }
    }
}

/// Messaging\MessageLimitServerClientAuth against openssl s_client -tls1_2 sending an
/// 8 KB client certificate to a server that requires one: a 4 KiB limit refuses the
/// Certificate message (decode_error, 36888 ErrorState 3002) and the default takes it.
#[test]
fn message_limit_server_client_auth_refuses_a_large_client_certificate() {
    use securechannel_testpki::Ca;
    let dir = tempfile::tempdir().unwrap();
    let root = Ca::root("large client CA");
    let leaf = root.client_leaf_with(&["alice.client.example"], |p| {
        p.custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 99999, 8],
                vec![0x5a; 8000],
            ));
    });
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let sent = Leaf {
        cert: pki.join("alice.pem"),
        key: pki.join("alice.key"),
    };
    leaf.write_pem(&sent.cert, &sent.key);
    for (name, limit, accepted) in [("limited", Some("0x1000"), false), ("default", None, true)] {
        let data = dir.path().join(name);
        log_everything(&data);
        if let Some(limit) = limit {
            set(&data, "Messaging\\MessageLimitServerClientAuth", limit);
        }
        let to = data.join("stores").join("Root");
        std::fs::create_dir_all(&to).unwrap();
        root.write_pem(&to.join("large-client-ca.pem"));
        let serve = Serve::start(&data, &["--require-client-cert"]);
        let r = s_client_with_certificate(&serve, &sent, "-tls1_2");
        serve.stop();
        let records = events(&data);
        if accepted {
            assert_client_certificate_accepted(name, &r, &records);
        } else {
            assert_eq!(
                openssl_alert_number(&r.both()),
                Some(50),
                "{name}: {}",
                r.both()
            );
            let sent = with_id(&records, 36888);
            assert_eq!(sent.len(), 1, "{name}: {}", summary(&records));
            assert_eq!(field(sent[0], "AlertDesc"), "50");
            assert_eq!(field(sent[0], "ErrorState"), "3002");
            assert!(with_id(&records, 36880).is_empty(), "{}", summary(&records));
        }
    }
}

#[test]
fn a_policy_that_leaves_the_server_nothing_is_caught_before_it_bites() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    log_everything(data);
    set(data, "Protocols\\TLS 1.3\\Server\\Enabled", "0");
    // The one suite left is TLS 1.3's: `config set` warns.
    let r = schannel(
        data,
        &[
            "config",
            "set",
            "CipherSuiteOrder\\Functions",
            "TLS_AES_128_GCM_SHA256",
        ],
    );
    assert!(r.status.success(), "{}", r.both());
    assert!(
        r.stderr
            .contains("the server is left no usable cipher suite"),
        "{}",
        r.stderr
    );
    // serve does not start: its credential is refused with 36871, ErrorState 1012.
    let r = schannel(data, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    for words in [
        "cannot acquire the server credential",
        "no cipher suite usable with TLS 1.2",
        "36871",
        "error state 1012",
        "0x80090331",
    ] {
        assert!(r.stderr.contains(words), "{words}: {}", r.stderr);
    }
    let records = events(data);
    let failed = with_id(&records, 36871);
    assert_eq!(failed.len(), 1, "{}", summary(&records));
    assert_eq!(field(failed[0], "ErrorState"), "1012");
    // A running serve refuses such a reload and keeps serving with the policy it has.
    std::fs::remove_file(data.join("settings.toml")).unwrap();
    log_everything(data);
    let serve = Serve::start(data, &[]);
    set(data, "Protocols\\TLS 1.3\\Server\\Enabled", "0");
    set(
        data,
        "CipherSuiteOrder\\Functions",
        "TLS_AES_128_GCM_SHA256",
    );
    let r = schannel(data, &["config", "reload"]);
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(
        r.stderr
            .contains("refused the new settings and keeps its policy"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("36871"), "{}", r.stderr);
    let page = s_client(&serve, &["-tls1_3"]).expect("the old policy still serves TLS 1.3");
    assert_eq!(page["protocol"], "TLS 1.3");
    serve.stop();
}

/// The OpenSSL name of an IANA suite this test uses.
fn openssl_name(iana: &str) -> &'static str {
    match iana {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => "ECDHE-ECDSA-AES128-GCM-SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => "ECDHE-ECDSA-AES256-GCM-SHA384",
        other => panic!("no OpenSSL name for {other} in this test"),
    }
}

/// The whole path: a hardening policy in settings.toml (what `config import` of a `.reg`
/// writes), `config show --json`, then s_client handshakes that succeed or fail exactly
/// as the shown policy says, with the events serve logs for each.
#[test]
fn a_policy_shown_is_the_policy_negotiated() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    std::fs::write(
        data.join("settings.toml"),
        r#"EventLogging = 7
[Protocols."TLS 1.3".Server]
Enabled = 0
DisabledByDefault = 1
[Protocols."TLS 1.0".Server]
Enabled = 0
DisabledByDefault = 1
[Protocols."SSL 3.0".Server]
Enabled = 0
[Ciphers."RC4 128/128"]
Enabled = 0
[CipherSuiteOrder]
Functions = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_256_CBC_SHA"
EccCurves = ["NistP256"]
"#,
    )
    .unwrap();
    let r = schannel(data, &["config", "show", "--json"]);
    assert!(r.status.success(), "{}", r.both());
    let shown: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let suites: Vec<(String, String)> = shown["server"]["cipher_suites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().into(),
                s["number"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        suites,
        [
            (
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".to_string(),
                "0xC02B".to_string()
            ),
            (
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384".to_string(),
                "0xC02C".to_string()
            ),
        ]
    );
    assert_eq!(shown["server"]["protocols"], serde_json::json!(["TLS 1.2"]));
    assert_eq!(
        shown["curves"],
        serde_json::json!([{"name": "NistP256", "number": "0x0017"}])
    );
    assert!(shown["never_negotiated"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["item"] == "CipherSuiteOrder\\Functions: TLS_RSA_WITH_AES_256_CBC_SHA"));

    let serve = Serve::start(data, &[]);
    let mut completed = Vec::new();
    // Every suite shown is negotiated, on the curve shown.
    for (iana, number) in &suites {
        let page = s_client(&serve, &["-tls1_2", "-cipher", openssl_name(iana)])
            .unwrap_or_else(|alert| panic!("{iana} is shown, but refused ({alert:?})"));
        assert_eq!(page["cipher_suite_id"], number.as_str(), "{page}");
        assert_eq!(page["key_exchange"], "ECDH_P256", "{page}");
        completed.push(page);
    }
    // Offered both, the client preferring the second: the server's order (as shown) wins.
    let both = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256";
    let page = s_client(&serve, &["-tls1_2", "-cipher", both]).unwrap();
    assert_eq!(page["cipher_suite_id"], suites[0].1.as_str(), "{page}");
    completed.push(page);
    // What is not shown is refused: a suite, TLS 1.3, a curve.
    let refusals: [(&[&str], u8); 3] = [
        (&["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"], 40),
        (&["-tls1_3"], 70),
        (&["-tls1_2", "-curves", "X25519"], 40),
    ];
    for (args, alert) in refusals {
        assert_eq!(s_client(&serve, args).unwrap_err(), Some(alert), "{args:?}");
    }
    serve.stop();
    let records = events(data);
    for page in &completed {
        let done: Vec<_> = of_activity(&records, page["activity_id"].as_str().unwrap())
            .into_iter()
            .filter(|r| r.event_id.value() == 36880)
            .collect();
        assert_eq!(done.len(), 1, "{}", summary(&records));
        assert_eq!(
            field(done[0], "CipherSuite"),
            page["cipher_suite_id"].as_str().unwrap()
        );
        assert_eq!(field(done[0], "Protocol"), "TLS 1.2");
    }
    let refused = with_id(&records, 36874);
    let named: Vec<&str> = refused.iter().map(|r| field(r, "Protocol")).collect();
    assert_eq!(
        named,
        ["TLS 1.2", "TLS 1.3", "TLS 1.2"],
        "{}",
        summary(&records)
    );
    let alerts: Vec<&str> = with_id(&records, 36888)
        .iter()
        .map(|r| field(r, "AlertDesc"))
        .collect();
    assert_eq!(alerts, ["40", "70", "40"], "{}", summary(&records));
}
