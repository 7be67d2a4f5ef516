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
    let addr = serve.host_port();
    let ca = serve.dev_ca();
    let mut all = vec![
        "s_client",
        "-connect",
        &addr,
        "-CAfile",
        ca.to_str().unwrap(),
        "-verify_return_error",
        "-reconnect",
    ];
    all.extend_from_slice(args);
    let r = openssl(&all, b"");
    let reused = r.stdout.matches("\nReused, ").count();
    let new = r.stdout.matches("\nNew, ").count();
    assert_eq!(reused + new, 6, "six handshakes:\n{}", r.both());
    (reused, new, r.stdout)
}

/// One s_client handshake (sending the JSON request, so TLS 1.3 tickets arrive before it
/// saves the session) with `session` saved to or read from `file`: whether it was
/// resumed, and what s_client printed.
fn s_client_session(serve: &Serve, args: &[&str], session: &str, file: &Path) -> (bool, String) {
    let addr = serve.host_port();
    let ca = serve.dev_ca();
    let mut all = vec![
        "s_client",
        "-connect",
        &addr,
        "-CAfile",
        ca.to_str().unwrap(),
        "-verify_return_error",
        "-ign_eof",
        session,
        file.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    let r = openssl(&all, JSON_REQUEST);
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
