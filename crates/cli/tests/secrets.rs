//! Secret hygiene, end to end: a full session — a server credential from a .pfx with a
//! password, client certificates, TLS 1.2 and 1.3, resumption, refused handshakes, a
//! wrong password — and then every byte the provider left behind (the event database
//! and its WAL, every file of the data directory outside the key and certificate stores,
//! `schannel events` in each format, the stdout/stderr of every command and of serve's
//! access log) is searched for the private keys (DER, PEM body, the raw key bytes in hex),
//! the .pfx password and the session's TLS secrets. The secrets come from key logs:
//! openssl's `-keylogfile` and our own `--dangerous-key-log` (rustls' KeyLog hook), so the
//! search knows the exact traffic secrets of these connections. None may be found.
//!
//! The search is shown able to fail: it finds each secret in the file it came from.

mod common;

use common::*;
use rustls_pki_types::pem::PemObject;
use std::path::{Path, PathBuf};

const PASSWORD: &str = "pfx-Pa55word-7f3a9c";

/// One secret and the byte patterns it may leak as.
struct Secret {
    what: String,
    patterns: Vec<Vec<u8>>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A private key file: its DER, its PEM body lines, its DER in hex (both cases).
fn key_secret(path: &Path) -> Secret {
    let pem = std::fs::read_to_string(path).unwrap();
    let der = rustls_pki_types::PrivateKeyDer::from_pem_slice(pem.as_bytes())
        .expect("a PEM private key")
        .secret_der()
        .to_vec();
    let mut patterns = vec![
        der.clone(),
        hex(&der).into_bytes(),
        hex(&der).to_uppercase().into_bytes(),
    ];
    // The PEM body, line by line (the first line starts with the DER's fixed header, so
    // only the lines after it, which are the key's own bytes).
    patterns.extend(
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .skip(1)
            .filter(|l| l.len() >= 32)
            .map(|l| l.as_bytes().to_vec()),
    );
    Secret {
        what: format!("private key {}", path.display()),
        patterns,
    }
}

/// Every secret of an NSS key log: the hex text and the raw bytes of each secret.
fn key_log_secrets(path: &Path) -> Vec<Secret> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("key log {}: {e}", path.display()));
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(
            parts.len(),
            3,
            "a key log line is LABEL RANDOM SECRET: {line}"
        );
        let secret_hex = parts[2];
        let raw: Vec<u8> = (0..secret_hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&secret_hex[i..i + 2], 16).unwrap())
            .collect();
        out.push(Secret {
            what: format!("{} of {}", parts[0], path.display()),
            patterns: vec![
                secret_hex.to_lowercase().into_bytes(),
                secret_hex.to_uppercase().into_bytes(),
                raw,
            ],
        });
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The first (secret, place) found, if any.
fn find_leak<'a>(
    secrets: &'a [Secret],
    places: &'a [(String, Vec<u8>)],
) -> Option<(&'a str, &'a str)> {
    for s in secrets {
        for (place, bytes) in places {
            if s.patterns.iter().any(|p| contains(bytes, p)) {
                return Some((&s.what, place));
            }
        }
    }
    None
}

#[test]
fn no_key_password_or_session_secret_reaches_events_output_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "secrets test CA");
    let server = pki.server_leaf("server");
    let client = pki.client_leaf("client", "secrets client");
    let stranger_pki = Pki::new(dir.path(), "untrusted CA");
    let stranger = stranger_pki.client_leaf("stranger", "untrusted client");
    let pfx = dir.path().join("server.pfx");
    let r = openssl(
        &[
            "pkcs12",
            "-export",
            "-in",
            server.cert.to_str().unwrap(),
            "-inkey",
            server.key.to_str().unwrap(),
            "-out",
            pfx.to_str().unwrap(),
            "-passout",
            &format!("pass:{PASSWORD}"),
        ],
        b"",
    );
    assert!(r.status.success(), "openssl pkcs12: {}", r.both());

    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("stores/Root")).unwrap();
    std::fs::copy(&pki.ca_pem, data.join("stores/Root/test-ca.pem")).unwrap();
    log_everything(&data);
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut keep = |name: &str, r: &Run| {
        outputs.push((format!("{name} stdout"), r.stdout.clone().into_bytes()));
        outputs.push((format!("{name} stderr"), r.stderr.clone().into_bytes()));
    };

    // A wrong password: refused, and neither password is echoed.
    let mut wrong = schannel_cmd(
        &data,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--pfx",
            pfx.to_str().unwrap(),
        ],
    );
    wrong.env("SCHANNEL_PFX_PASSWORD", "wrong-Pa55word-0000");
    let r = run("serve with a wrong password", wrong, None);
    assert!(!r.status.success(), "{}", r.both());
    assert!(!r.stderr.contains("wrong-Pa55word-0000"), "{}", r.stderr);
    keep("serve (wrong password)", &r);

    // serve from the .pfx, asking for client certificates, with its access log.
    std::env::set_var("SCHANNEL_PFX_PASSWORD", PASSWORD);
    let serve = Serve::start(
        &data,
        &[
            "--pfx",
            pfx.to_str().unwrap(),
            "--request-client-cert",
            "--access-log",
        ],
    );
    std::env::remove_var("SCHANNEL_PFX_PASSWORD");
    let addr = serve.host_port();
    let ca = pki.ca_pem.to_str().unwrap();

    // openssl clients, their secrets in key logs: TLS 1.3 with a client certificate,
    // TLS 1.2 resumed five times, and a client certificate from an untrusted CA.
    let mut key_logs = Vec::new();
    let cases: [(&str, Vec<&str>); 3] = [
        (
            "tls13-client-cert",
            vec![
                "-tls1_3",
                "-cert",
                client.cert.to_str().unwrap(),
                "-key",
                client.key.to_str().unwrap(),
            ],
        ),
        ("tls12-resumed", vec!["-tls1_2", "-reconnect"]),
        (
            "untrusted-client-cert",
            vec![
                "-tls1_2",
                "-cert",
                stranger.cert.to_str().unwrap(),
                "-key",
                stranger.key.to_str().unwrap(),
            ],
        ),
    ];
    for (name, extra) in &cases {
        let log = dir.path().join(format!("{name}.keys"));
        let mut args = vec![
            "s_client",
            "-ign_eof",
            "-connect",
            &addr,
            "-CAfile",
            ca,
            "-servername",
            "localhost",
        ];
        args.extend(extra.iter().copied());
        let log_arg = log.to_str().unwrap().to_string();
        args.extend(["-keylogfile", &log_arg]);
        // (openssl's own output is not searched: it prints the TLS 1.2 master key.)
        let r = openssl(&args, JSON_REQUEST);
        assert!(
            r.stdout.contains("BEGIN CERTIFICATE"),
            "s_client {name}: {}",
            r.both()
        );
        key_logs.push(log);
    }

    // Our own client with the dangerous key log: TLS 1.2 and 1.3, with a client
    // certificate, and a refused name (an error path).
    let client_data = dir.path().join("client-data");
    std::fs::create_dir_all(&client_data).unwrap();
    for flag in ["--tls1.2", "--tls1.3"] {
        let log = dir.path().join(format!("connect{flag}.keys"));
        let r = schannel(
            &client_data,
            &[
                "connect",
                &format!("localhost:{}", serve.addr.port()),
                flag,
                "--cafile",
                ca,
                "--cert",
                client.cert.to_str().unwrap(),
                "--key",
                client.key.to_str().unwrap(),
                "--get",
                "/",
                "--dangerous-key-log",
                log.to_str().unwrap(),
            ],
        );
        assert!(r.status.success(), "connect {flag}: {}", r.both());
        assert!(
            r.stderr.contains("DANGEROUS") && r.stderr.contains(log.to_str().unwrap()),
            "the key log is said loudly on stderr: {}",
            r.stderr
        );
        keep(&format!("connect {flag}"), &r);
        key_logs.push(log);
    }
    let r = schannel(
        &client_data,
        &[
            "connect",
            &format!("127.0.0.1:{}", serve.addr.port()),
            "--sni",
            "wrong.example",
            "--cafile",
            ca,
        ],
    );
    assert!(!r.status.success(), "a wrong name is refused: {}", r.both());
    keep("connect (wrong name)", &r);

    let serve_err = serve.stop();
    outputs.push(("serve stderr".into(), serve_err.into_bytes()));

    // The dangerous key log is in the client's System log even at the default
    // EventLogging (1, errors only): a 36867 naming the file.
    let client_records = events(&client_data);
    let creating = with_id(&client_records, 36867);
    assert!(
        creating
            .iter()
            .any(|r| field(r, "Type").contains("DANGEROUS")
                && field(r, "Type").contains("connect--tls1.2.keys")),
        "{}",
        summary(&client_records)
    );

    // What is searched: the logs' files and the readers' renderings.
    let mut places = outputs;
    for d in [&data, &client_data] {
        for f in files_under(d) {
            let rel = f.strip_prefix(d).unwrap().to_string_lossy().to_string();
            if rel.starts_with("stores") || rel.starts_with("keys") {
                continue; // certificates, and the keys serve itself keeps
            }
            places.push((f.display().to_string(), std::fs::read(&f).unwrap()));
        }
        for format in ["text", "xml", "json", "ecs"] {
            let r = schannel(d, &["events", "--format", format]);
            assert!(r.status.success(), "events --format {format}: {}", r.both());
            places.push((
                format!("events --format {format} of {}", d.display()),
                r.stdout.into_bytes(),
            ));
        }
    }
    assert!(
        places.iter().any(|(p, _)| p.ends_with("events.db")),
        "the event database was searched"
    );

    let mut secrets = vec![
        key_secret(&server.key),
        key_secret(&client.key),
        key_secret(&stranger.key),
        Secret {
            what: "the .pfx password".into(),
            patterns: vec![PASSWORD.as_bytes().to_vec()],
        },
        Secret {
            what: "the wrong .pfx password".into(),
            patterns: vec![b"wrong-Pa55word-0000".to_vec()],
        },
    ];
    let mut session_secrets = 0;
    for log in &key_logs {
        let s = key_log_secrets(log);
        assert!(
            !s.is_empty(),
            "{} holds the session's secrets",
            log.display()
        );
        session_secrets += s.len();
        secrets.extend(s);
    }
    // TLS 1.3: 5 secrets per connection, TLS 1.2: 1; 5 + 6 (resumed) + 1 + 1 + 5.
    assert!(session_secrets >= 18, "{session_secrets} secrets");

    // The search can fail: each secret is found where it came from.
    let own: Vec<(String, Vec<u8>)> = [&server.key, &client.key]
        .iter()
        .map(|k| {
            (
                k.display().to_string(),
                std::fs::read_to_string(k).unwrap().into_bytes(),
            )
        })
        .chain(
            key_logs
                .iter()
                .map(|l| (l.display().to_string(), std::fs::read(l).unwrap())),
        )
        .collect();
    for s in secrets
        .iter()
        .filter(|s| !s.what.contains("password") && !s.what.contains("stranger"))
    {
        assert!(
            find_leak(std::slice::from_ref(s), &own).is_some(),
            "the search does not find {} in its own file",
            s.what
        );
    }

    if let Some((what, place)) = find_leak(&secrets, &places) {
        panic!("{what} leaked into {place}");
    }
}

/// The lines of an NSS key log, sorted (openssl and rustls write them in other orders).
fn key_log_lines(path: &Path) -> Vec<String> {
    let mut lines: Vec<String> = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.to_lowercase())
        .collect();
    lines.sort();
    lines
}

/// The dangerous key log holds exactly the secrets the peer's own key log holds (a
/// Wireshark user can decrypt with it), on both sides, TLS 1.2 and 1.3; the file is
/// private (0600); serve says so on stderr and in its 36867.
#[test]
fn the_dangerous_key_log_matches_the_peers_and_says_so() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "key log test CA");
    let leaf = pki.server_leaf("server");
    let ca = pki.ca_pem.to_str().unwrap();

    // Our client, openssl's server.
    for (flag, s_flag) in [("--tls1.2", "-tls1_2"), ("--tls1.3", "-tls1_3")] {
        let theirs = dir.path().join(format!("s_server{flag}.keys"));
        let ours = dir.path().join(format!("connect{flag}.keys"));
        let mut server = SServer::start(&leaf, &[s_flag, "-keylogfile", theirs.to_str().unwrap()]);
        let data = dir.path().join(format!("client{flag}"));
        std::fs::create_dir_all(&data).unwrap();
        let r = schannel(
            &data,
            &[
                "connect",
                &format!("localhost:{}", server.port),
                "--cafile",
                ca,
                "--get",
                "/",
                "--dangerous-key-log",
                ours.to_str().unwrap(),
            ],
        );
        assert!(r.status.success(), "{}", r.both());
        let _ = server.output();
        let want = if flag == "--tls1.2" { 1 } else { 5 };
        assert_eq!(key_log_lines(&ours).len(), want, "{flag}");
        assert_eq!(key_log_lines(&ours), key_log_lines(&theirs), "{flag}");
        let mode = std::fs::metadata(&ours).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key log is private");
    }

    // Our server, openssl's client.
    let data = dir.path().join("server");
    std::fs::create_dir_all(&data).unwrap();
    let ours = dir.path().join("serve.keys");
    let serve = Serve::start(
        &data,
        &[
            &leaf.args()[..],
            &["--dangerous-key-log", ours.to_str().unwrap()],
        ]
        .concat(),
    );
    let theirs = dir.path().join("s_client.keys");
    let addr = serve.host_port();
    let r = openssl(
        &[
            "s_client",
            "-ign_eof",
            "-connect",
            &addr,
            "-CAfile",
            ca,
            "-servername",
            "localhost",
            "-tls1_3",
            "-keylogfile",
            theirs.to_str().unwrap(),
        ],
        JSON_REQUEST,
    );
    assert!(r.stdout.contains("\"protocol\""), "{}", r.both());
    let err = serve.stop();
    assert!(
        err.contains("DANGEROUS") && err.contains("serve.keys"),
        "{err}"
    );
    assert_eq!(key_log_lines(&ours), key_log_lines(&theirs));
    let records = events(&data);
    assert!(
        with_id(&records, 36867)
            .iter()
            .any(|r| field(r, "Type").starts_with("server (DANGEROUS")),
        "{}",
        summary(&records)
    );
}

/// A key log that cannot be written refuses the credential: 36871 with ErrorState 1014,
/// and a message naming the file and what to do.
#[test]
fn an_unwritable_key_log_refuses_the_credential() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let r = schannel(
        data,
        &[
            "connect",
            "127.0.0.1:9",
            "--dangerous-key-log",
            "/nonexistent-dir/k.log",
        ],
    );
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(
        r.stderr.contains("/nonexistent-dir/k.log") && r.stderr.contains("writable directory"),
        "{}",
        r.stderr
    );
    let records = events(data);
    let failed = with_id(&records, 36871);
    assert_eq!(failed.len(), 1, "{}", summary(&records));
    assert_eq!(field(failed[0], "ErrorState"), "1014");
}
