//! `schannel config get/set/unset/show`, run as the binary.

use std::path::Path;
use std::process::{Command, Output};

fn schannel(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_schannel"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("config")
        .args(args)
        .env_remove("SCHANNEL_DATA")
        .output()
        .expect("schannel runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn get_prints_defaults_without_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = schannel(dir.path(), &["get", "EventLogging"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "1\n");
    let o = schannel(dir.path(), &["get", "Messaging\\MessageLimitServer"]);
    assert_eq!(stdout(&o), "16384 (0x00004000)\n");
    let o = schannel(dir.path(), &["get", "Protocols\\TLS 1.3\\Server\\Enabled"]);
    assert!(stdout(&o).starts_with("(not set: "), "{}", stdout(&o));
    assert!(!dir.path().join("settings.toml").exists());
}

#[test]
fn set_preserves_comments_and_layout() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.toml");
    let original = "# Hardened by ops\nEventLogging = 3   # errors and warnings\n\n# legacy off\n[Protocols.\"TLS 1.0\".Server]\nEnabled = 0\n";
    std::fs::write(&file, original).unwrap();

    let o = schannel(dir.path(), &["set", "EventLogging", "7"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "EventLogging = 7\n");
    let o = schannel(
        dir.path(),
        &["set", "Protocols\\TLS 1.3\\Server\\Enabled", "0xffffffff"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = schannel(
        dir.path(),
        &[
            "set",
            "CipherSuiteOrder\\Functions",
            "TLS_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = schannel(
        dir.path(),
        &["set", "CipherSuiteOrder\\EccCurves", "curve25519,NistP256"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = schannel(dir.path(), &["set", "EventLog\\Retention", "Archive"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# Hardened by ops\nEventLogging = 7   # errors and warnings\n\n# legacy off\n[Protocols.\"TLS 1.0\".Server]\nEnabled = 0\n"), "{text}");
    assert!(
        text.contains("[Protocols.\"TLS 1.3\".Server]\nEnabled = 0xffffffff\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "Functions = \"TLS_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384\""
        ),
        "{text}"
    );
    assert!(
        text.contains("EccCurves = [\"curve25519\", \"NistP256\"]"),
        "{text}"
    );
    assert!(text.contains("Retention = \"archive\""), "{text}");
    // No temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    let o = schannel(dir.path(), &["get", "protocols\\tls 1.3\\server\\enabled"]);
    assert_eq!(stdout(&o), "4294967295 (0xFFFFFFFF)\n");
}

#[test]
fn set_updates_a_key_spelled_differently_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.toml");
    std::fs::write(
        &file,
        "[protocols.\"tls 1.2\".client]\nenabled = 1 # keep\n",
    )
    .unwrap();
    let o = schannel(
        dir.path(),
        &["set", "Protocols\\TLS 1.2\\Client\\Enabled", "0"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "[protocols.\"tls 1.2\".client]\nenabled = 0 # keep\n"
    );
}

#[test]
fn unknown_names_and_bad_values_are_refused_and_the_file_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.toml");
    std::fs::write(&file, "EventLogging = 3\n").unwrap();
    let o = schannel(
        dir.path(),
        &["set", "Protocols\\TLS 1.3\\Server\\Enabld", "0"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("did you mean `Protocols\\TLS 1.3\\Server\\Enabled`"),
        "{}",
        stderr(&o)
    );
    let o = schannel(dir.path(), &["set", "EventLogging", "8"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("out of range (0..=7)"),
        "{}",
        stderr(&o)
    );
    let o = schannel(dir.path(), &["set", "ClientAuthTrustMode", "two"]);
    assert_eq!(o.status.code(), Some(2));
    let o = schannel(dir.path(), &["set", "EventLog\\Retention", "forever"]);
    assert_eq!(o.status.code(), Some(2));
    let o = schannel(
        dir.path(),
        &["set", "Ciphers\\AES 128/128\\Enabled", "0x100000000"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "EventLogging = 3\n"
    );
}

#[test]
fn a_broken_file_is_reported_with_position_and_36866() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.toml");
    std::fs::write(
        &file,
        "EventLogging = 3\n[Ciphers.\"AES 128/128\"]\nEnabled = \"off\"\n",
    )
    .unwrap();
    for args in [
        &["get", "EventLogging"][..],
        &["show"][..],
        &["set", "EventLogging", "1"][..],
    ] {
        let o = schannel(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let e = stderr(&o);
        assert!(e.contains("settings.toml:3:1"), "{e}");
        assert!(e.contains("Ciphers\\AES 128/128\\Enabled"), "{e}");
        assert!(e.contains("36866"), "{e}");
    }
}

#[test]
fn unset_removes_the_value_and_empty_tables() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.toml");
    std::fs::write(&file, "EventLogging = 3\n\n[Hashes.SHA384]\nEnabled = 0\n").unwrap();
    let o = schannel(dir.path(), &["unset", "Hashes\\SHA384\\Enabled"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "EventLogging = 3\n"
    );
    let o = schannel(dir.path(), &["unset", "Hashes\\SHA384\\Enabled"]);
    assert!(o.status.success());
    assert!(stdout(&o).contains("not set"), "{}", stdout(&o));
    let o = schannel(dir.path(), &["get", "Hashes\\SHA384\\Enabled"]);
    assert_eq!(stdout(&o), "4294967295 (0xFFFFFFFF)\n");
}

#[test]
fn show_prints_the_effective_tree_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("settings.toml"),
        "EventLogging = 7\n[CipherSuiteOrder]\nFunctions = \"TLS_AES_128_GCM_SHA256,TLS_RSA_WITH_RC4_128_SHA\"\n",
    )
    .unwrap();
    let o = schannel(dir.path(), &["show"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("EventLogging = 7  [settings.toml]\n"), "{out}");
    assert!(
        out.contains("ClientAuthTrustMode = 0  [default]\n"),
        "{out}"
    );
    assert!(out.contains("KeyExchangeAlgorithms\\Diffie-Hellman\\ServerMinKeyBitLength = 2048 (0x00000800)  [default]\n"), "{out}");
    assert!(
        out.contains("Protocols\\SSL 3.0\\Client\\Enabled = (absent: system default)  [default]\n"),
        "{out}"
    );
    assert!(
        out.contains("EventLog\\Retention = overwrite  [default]\n"),
        "{out}"
    );
    assert!(
        stderr(&o).contains("TLS_RSA_WITH_RC4_128_SHA"),
        "{}",
        stderr(&o)
    );
    let o = schannel(dir.path(), &["show", "--changed"]);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        lines,
        vec![
            "EventLogging = 7  [settings.toml]",
            "CipherSuiteOrder\\Functions = TLS_AES_128_GCM_SHA256,TLS_RSA_WITH_RC4_128_SHA  [settings.toml]"
        ]
    );
}

#[test]
fn set_creates_the_file_and_keeps_an_existing_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new-data-dir");
    let o = schannel(&data, &["set", "SendTrustedIssuerList", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = data.join("settings.toml");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "SendTrustedIssuerList = 1\n"
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = schannel(&data, &["set", "EventLog\\MaxSize", "0x100000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("[EventLog]\nMaxSize = 0x100000\n"));
}

#[test]
fn set_refuses_what_cannot_apply_here_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("settings.toml");
    std::fs::write(&file, "EventLogging = 3\n").unwrap();
    let refused = [
        ("Protocols\\SSL 3.0\\Server\\Enabled", "1", "SSL 3.0 is recognised and never negotiated"),
        ("Protocols\\TLS 1.0\\Client\\DisabledByDefault", "0", "TLS 1.0 is recognised and never negotiated"),
        ("Protocols\\DTLS 1.2\\Server\\Enabled", "0xffffffff", "never DTLS"),
        ("Ciphers\\RC4 128/128\\Enabled", "0xffffffff", "rustls implements no RC4 suite"),
        ("Ciphers\\Triple DES 168\\Enabled", "1", "rustls implements no 3DES suite"),
        ("KeyExchangeAlgorithms\\PKCS\\Enabled", "1", "RSA key exchange (PKCS) is recognised and never negotiated"),
        ("CertificateMappingMethods", "8", "S4U2Self mapping (0x8, 0x10) asks a Kerberos KDC for the account, and there is none here; only the bits 0x7, or the default (0x1f), are accepted"),
        ("IssuerCacheSize", "100", "rustls-webpki builds certificate paths without an issuer cache; there is nothing to size"),
    ];
    for (name, value, why) in refused {
        let o = schannel(dir.path(), &["set", name, value]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stdout(&o));
        let e = stderr(&o);
        assert!(e.contains("cannot apply here"), "{name}: {e}");
        assert!(e.contains(why), "{name}: {e}");
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "EventLogging = 3\n"
    );
    // What holds already is accepted: disabling what is never negotiated, DH limits.
    for (name, value) in [
        ("Protocols\\SSL 3.0\\Server\\Enabled", "0"),
        ("Protocols\\SSL 3.0\\Server\\DisabledByDefault", "1"),
        ("Ciphers\\RC4 128/128\\Enabled", "0"),
        (
            "KeyExchangeAlgorithms\\Diffie-Hellman\\ServerMinKeyBitLength",
            "3072",
        ),
    ] {
        let o = schannel(dir.path(), &["set", name, value]);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
    }
    // A file that asks for the impossible is refused on load, with its position.
    std::fs::write(&file, "EventLogging = 3\n[Hashes.MD5]\nEnabled = 1\n").unwrap();
    let o = schannel(dir.path(), &["show"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("settings.toml:3:1")
            && e.contains("MD5 is recognised and never negotiated")
            && e.contains("36866"),
        "{e}"
    );
}

#[test]
fn set_warns_when_a_role_is_left_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = schannel(
        dir.path(),
        &["set", "Protocols\\TLS 1.3\\Server\\Enabled", "0"],
    );
    assert!(
        o.status.success() && stderr(&o).is_empty(),
        "{}",
        stderr(&o)
    );
    let o = schannel(
        dir.path(),
        &[
            "set",
            "CipherSuiteOrder\\Functions",
            "TLS_AES_128_GCM_SHA256",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("warning: `Protocols`: the server is left no usable cipher suite")
            && e.contains("36871 (ErrorState 1012"),
        "{e}"
    );
    assert!(!e.contains("the client is left"), "{e}");
}

#[test]
fn show_prints_the_effective_policy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("settings.toml"),
        "[Protocols.\"TLS 1.3\".Server]\nEnabled = 0\n[Protocols.\"SSL 3.0\".Server]\nEnabled = 0\n[CipherSuiteOrder]\nFunctions = \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_3DES_EDE_CBC_SHA,TLS_AES_256_GCM_SHA384\"\nEccCurves = [\"NistP256\", \"curve25519\"]\n",
    )
    .unwrap();
    let o = schannel(dir.path(), &["show"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let line = |start: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no line starting with {start}:\n{out}"))
            .to_string()
    };
    let tls13 = line("TLS 1.3 ");
    assert!(
        tls13.contains("client: enabled (default)")
            && tls13.contains("server: disabled (settings.toml: Enabled = 0)"),
        "{tls13}"
    );
    let ssl3 = line("SSL 3.0 ");
    assert!(
        ssl3.contains("server: recognised, never negotiated (settings.toml: Enabled = 0)"),
        "{ssl3}"
    );
    assert!(line("DTLS 1.2").contains("client: recognised, never negotiated (default)"));
    let server_suites = out
        .split("Cipher suites a server accepts, in its order of preference\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        server_suites,
        "   1. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xC02B)  TLS 1.2"
    );
    let client_suites = out
        .split("Cipher suites a client offers, in order\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap();
    assert_eq!(
        client_suites,
        "   1. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (0xC02B)  TLS 1.2\n   2. TLS_AES_256_GCM_SHA384 (0x1302)  TLS 1.3"
    );
    assert!(out.contains("Key exchange groups (curves), in order\n   1. NistP256 (0x0017)\n   2. curve25519 (0x001D)\n"), "{out}");
    assert!(out.contains("  Messaging\\MessageLimitServer = 16384: plaintext messages (hellos, TLS 1.2 flights) up to 16384; TLS 1.3 encrypted messages up to 65535 (the engine's own limit)"), "{out}");
    for never in [
        "  Protocols\\SSL 3.0: SSL 3.0 is recognised and never negotiated (this provider speaks TLS 1.2 and TLS 1.3 only)  [set: Protocols\\SSL 3.0\\Server\\Enabled = 0]",
        "  Ciphers\\RC4 128/128: RC4 128/128 is recognised and never negotiated (rustls implements no RC4 suite)\n",
        "  Ciphers\\Triple DES 168: ",
        "  Protocols\\TLS 1.1: ",
        "  Protocols\\DTLS 1.0: ",
        "  CipherSuiteOrder\\Functions: TLS_RSA_WITH_3DES_EDE_CBC_SHA: not a cipher suite this provider speaks",
    ] {
        assert!(out.contains(never), "{never}:\n{out}");
    }
    // The JSON form carries the same policy, and how every setting applies.
    let o = schannel(dir.path(), &["show", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    let names = |role: &str| -> Vec<String> {
        v[role]["cipher_suites"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["name"].as_str().unwrap(),
                    s["number"].as_str().unwrap()
                )
            })
            .collect()
    };
    assert_eq!(
        names("server"),
        ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 0xC02B"]
    );
    assert_eq!(v["server"]["protocols"], serde_json::json!(["TLS 1.2"]));
    assert_eq!(v["server"]["usable"], true);
    assert_eq!(v["curves"][0]["name"], "NistP256");
    let tls13 = v["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["protocol"] == "TLS 1.3" && p["role"] == "server")
        .unwrap();
    assert_eq!(tls13["state"], "disabled");
    assert_eq!(tls13["source"], "settings.toml");
    let setting = |name: &str| {
        v["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    assert_eq!(setting("ServerCacheTime")["applies"], "enforced");
    assert_eq!(
        setting("Protocols\\SSL 3.0\\Server\\Enabled")["applies"],
        "holds already"
    );
    assert_eq!(
        setting("Protocols\\SSL 3.0\\Server\\Enabled")["source"],
        "settings.toml"
    );
    assert_eq!(setting("IssuerCacheSize")["value"], 0);
    assert!(v["never_negotiated"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["item"] == "Ciphers\\RC4 128/128"));
    assert!(v["warnings"][0]
        .as_str()
        .unwrap()
        .contains("TLS_RSA_WITH_3DES_EDE_CBC_SHA"));
}
