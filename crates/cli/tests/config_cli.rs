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
    assert!(out.contains("EventLogging = 7  [set]\n"), "{out}");
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
            "EventLogging = 7  [set]",
            "CipherSuiteOrder\\Functions = TLS_AES_128_GCM_SHA256,TLS_RSA_WITH_RC4_128_SHA  [set]"
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
