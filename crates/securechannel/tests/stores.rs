//! The data directory: Provider::open, the stores, PKCS#12 and the system default
//! credential. (The development CA is the CLI's: crates/cli/src/devca.rs.)

mod common;

use common::*;
use rcgen::date_time_ymd;
use securechannel::events::MemorySink;
use securechannel::{thumbprint, ErrorState, EventId, Provider, StoreName, StoreQuery};
use securechannel_testpki::{pem, write_file, Ca, Leaf, NOW_SECS};
use std::sync::Arc;

#[test]
fn open_creates_the_layout_and_logs_36864_first() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("schannel-data");
    write_file(&data.join("settings.toml"), "EventLogging = 7\n", 0o644);
    let sink = Arc::new(MemorySink::new());
    let provider = Provider::open(&data, sink.clone()).unwrap();
    for sub in ["stores/Root", "stores/CA", "stores/My", "keys", "crl"] {
        assert!(data.join(sub).is_dir(), "{sub}");
    }
    assert_eq!(mode_of(&data.join("keys")), 0o700);
    assert_eq!(sink.ids(), vec![36864]);
    assert_eq!(provider.data_dir(), Some(data.as_path()));
    // A credential's events come after it.
    let _ = provider.client_credential().acquire().unwrap();
    assert_eq!(sink.ids(), vec![36864, 36867]);
}

#[test]
fn default_event_logging_does_not_log_36864() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(MemorySink::new());
    let provider = Provider::open(dir.path(), sink.clone()).unwrap();
    assert!(sink.ids().is_empty());
    assert_eq!(provider.emitter().logging().0, 1);
}

#[test]
fn invalid_settings_log_36866_and_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    write_file(
        &dir.path().join("settings.toml"),
        "EventLogging = 7\n[Ciphers.\"AES 128/128\"]\nEnable = 0\n",
        0o644,
    );
    let sink = Arc::new(MemorySink::new());
    let err = Provider::open(dir.path(), sink.clone()).unwrap_err();
    assert_eq!(err.event(), Some(EventId::PackageLoadFailed));
    assert_eq!(err.state(), Some(ErrorState::SettingsInvalid));
    let text = err.to_string();
    assert!(text.contains("settings.toml:3:1"), "{text}");
    assert!(text.contains("Ciphers\\AES 128/128\\Enable`"), "{text}");
    assert!(
        text.contains("did you mean `Ciphers\\AES 128/128\\Enabled`"),
        "{text}"
    );
    assert!(text.contains("36866"), "{text}");
    assert_eq!(sink.ids(), vec![36866]);
}

#[test]
fn a_data_directory_that_is_a_file_logs_36866() {
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(&dir.path().join("not-a-dir"), "x", 0o644);
    let sink = Arc::new(MemorySink::new());
    let err = Provider::open(&file, sink.clone()).unwrap_err();
    assert_eq!(err.state(), Some(ErrorState::DataDirectoryUnusable));
    assert_eq!(err.event(), Some(EventId::PackageLoadFailed));
    assert_eq!(sink.ids(), vec![36866]);
}

#[test]
fn reload_settings_changes_the_mask() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Arc::new(MemorySink::new());
    let provider = Provider::open(dir.path(), sink.clone()).unwrap();
    let _ = provider.client_credential().acquire().unwrap();
    assert!(sink.ids().is_empty());
    write_file(
        &dir.path().join("settings.toml"),
        "EventLogging = 5\n",
        0o644,
    );
    let s = provider.reload_settings().unwrap();
    assert_eq!(s.event_logging.0, 5);
    let _ = provider.client_credential().acquire().unwrap();
    assert_eq!(sink.ids(), vec![36867]);
    // A broken file keeps the settings in force.
    write_file(
        &dir.path().join("settings.toml"),
        "EventLogging = 99\n",
        0o644,
    );
    assert!(provider.reload_settings().is_err());
    assert_eq!(provider.settings().event_logging.0, 5);
}

struct Machine {
    dir: tempfile::TempDir,
    ca: Ca,
}

impl Machine {
    fn new() -> Machine {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::root("Machine Root");
        write_file(&dir.path().join("stores/Root/root.pem"), ca.pem(), 0o644);
        Machine { dir, ca }
    }

    fn put_my(&self, name: &str, leaf: &Leaf, key_name: Option<&str>, key_mode: u32) {
        write_file(
            &self.dir.path().join("stores/My").join(name),
            leaf.pem(),
            0o644,
        );
        if let Some(k) = key_name {
            write_file(
                &self.dir.path().join("keys").join(k),
                leaf.key_pem(),
                key_mode,
            );
        }
    }
}

#[test]
fn store_certificates_pair_with_keys_by_public_key_and_are_found_by_thumbprint_or_subject() {
    let m = Machine::new();
    let web = m.ca.server_leaf(&["web.example.test"]);
    // File names that have nothing to do with each other.
    m.put_my("a.pem", &web, Some("zzz-unrelated-name.key"), 0o600);
    let (provider, sink) = open_all(m.dir.path());
    let stores = provider.stores();
    let tp = thumbprint(web.der());
    assert_eq!(tp.len(), 40);
    assert!(tp
        .chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
    let found = stores
        .find(StoreName::My, &StoreQuery::Thumbprint(tp.to_lowercase()))
        .unwrap();
    assert_eq!(found.thumbprint, tp);
    assert!(stores.key_for(found).is_some());

    let cred = provider
        .server_credential()
        .from_store(StoreQuery::Thumbprint(tp.clone()))
        .acquire()
        .unwrap();
    assert_eq!(cred.thumbprint(), Some(tp.clone()));
    assert_eq!(cred.trusted_root_count(), 1);
    let r = first_event(&sink, 36868);
    assert_eq!(r.field("KeyFlags"), Some("0x00000020"));
    assert!(r
        .field("KeyName")
        .unwrap()
        .ends_with("zzz-unrelated-name.key"));

    let cred = provider
        .client_credential()
        .from_store(StoreQuery::Subject("WEB.example".into()))
        .acquire()
        .unwrap();
    assert_eq!(cred.thumbprint(), Some(tp));
    let err = provider
        .server_credential()
        .from_store(StoreQuery::Subject("nobody".into()))
        .acquire()
        .unwrap_err();
    assert_eq!(err.state(), Some(ErrorState::CertificateNotFound));
    assert_eq!(err.event(), Some(EventId::CredentialCreationFailed));
}

#[test]
fn thumbprint_matches_openssl_sha1_fingerprint() {
    assert!(
        has_openssl(),
        "openssl is required: install it (apt-get install openssl); .ci/run installs it"
    );
    let dir = tempfile::tempdir().unwrap();
    let c = Ca::root("Fingerprint CA");
    let path = write_file(&dir.path().join("ca.pem"), c.pem(), 0o644);
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let hex: String = text
        .split('=')
        .nth(1)
        .unwrap()
        .chars()
        .filter(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(thumbprint(c.der()), hex);
}

#[test]
fn store_certificate_without_key_is_36869_and_with_unsafe_key_is_36870() {
    let m = Machine::new();
    let lonely = m.ca.server_leaf(&["lonely.test"]);
    let exposed = m.ca.server_leaf(&["exposed.test"]);
    m.put_my("lonely.pem", &lonely, None, 0);
    m.put_my("exposed.pem", &exposed, Some("exposed.key"), 0o644);
    let (provider, sink) = open_all(m.dir.path());
    assert!(provider
        .stores()
        .warnings()
        .iter()
        .any(|w| w.path.ends_with("exposed.key") && w.problem.contains("chmod 600")));

    let err = provider
        .server_credential()
        .from_store(StoreQuery::Subject("lonely".into()))
        .acquire()
        .unwrap_err();
    assert_eq!(err.event(), Some(EventId::CredentialNoPrivateKey));
    assert_eq!(sink.ids(), vec![36867, 36869]);
    assert_eq!(
        first_event(&sink, 36869).binary.as_deref(),
        Some(lonely.der().as_ref())
    );
    sink.clear();

    let err = provider
        .server_credential()
        .from_store(StoreQuery::Subject("exposed".into()))
        .acquire()
        .unwrap_err();
    assert_eq!(err.state(), Some(ErrorState::KeyPermissionsUnsafe));
    assert_eq!(sink.ids(), vec![36867, 36870]);
    let r = first_event(&sink, 36870);
    assert_eq!(r.field("ErrorCode"), Some("0x8009030D"));
    assert_eq!(r.field("ErrorStatus"), Some("2002"));
}

#[test]
fn system_default_takes_the_first_qualifying_certificate() {
    let m = Machine::new();
    let expired = m.ca.server_leaf_with(&["expired.test"], |p| {
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(2021, 1, 1);
    });
    let client_only = m.ca.client_leaf(&["client-only.test"]);
    let no_eku =
        m.ca.server_leaf_with(&["no-eku.test"], |p| p.extended_key_usages = vec![]);
    let keyless = m.ca.server_leaf(&["keyless.test"]);
    m.put_my("1-expired.pem", &expired, Some("1.key"), 0o600);
    m.put_my("2-client.pem", &client_only, Some("2.key"), 0o600);
    m.put_my("3-keyless.pem", &keyless, None, 0);
    m.put_my("4-no-eku.pem", &no_eku, Some("4.key"), 0o600);
    let (provider, sink) = open_all(m.dir.path());
    let cred = provider
        .server_credential()
        .system_default()
        .default_certificate_time(NOW_SECS as i64)
        .acquire()
        .unwrap();
    assert!(cred.has_certificate());
    assert_eq!(
        cred.certificate().map(|c| c.to_vec()),
        Some(no_eku.der().to_vec())
    );
    assert_eq!(sink.ids(), vec![36867, 36868]);
}

#[test]
fn no_system_default_logs_36872_and_still_gives_a_credential() {
    let m = Machine::new();
    let client_only = m.ca.client_leaf(&["client-only.test"]);
    m.put_my("client.pem", &client_only, Some("client.key"), 0o600);
    let (provider, sink) = open_all(m.dir.path());
    let cred = provider
        .server_credential()
        .system_default()
        .default_certificate_time(NOW_SECS as i64)
        .acquire()
        .unwrap();
    assert!(!cred.has_certificate());
    assert_eq!(sink.ids(), vec![36867, 36872]);
    assert_eq!(
        first_event(&sink, 36872).event_id.level(),
        securechannel::events::Level::Warning
    );
}

#[test]
fn roots_intermediates_and_crls_come_from_the_stores_and_bad_files_are_reported() {
    let m = Machine::new();
    let inter = Ca::root("Intermediate");
    write_file(
        &m.dir.path().join("stores/CA/inter.der"),
        inter.der(),
        0o644,
    );
    write_file(
        &m.dir.path().join("stores/Root/broken.pem"),
        "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
        0o644,
    );
    write_file(
        &m.dir.path().join("stores/Root/junk.cer"),
        b"\x01\x02\x03",
        0o644,
    );
    // A CRL issued by the machine root.
    write_file(
        &m.dir.path().join("crl/root.crl"),
        pem("X509 CRL", &m.ca.crl(&[])),
        0o644,
    );
    write_file(&m.dir.path().join("crl/bad.crl"), b"nonsense", 0o644);
    let (provider, _) = open_all(m.dir.path());
    let stores = provider.stores();
    assert_eq!(stores.certificates(StoreName::Root).len(), 1);
    assert_eq!(stores.certificates(StoreName::Ca).len(), 1);
    assert_eq!(stores.crls().len(), 1);
    let warned: Vec<String> = stores
        .warnings()
        .iter()
        .map(|w| w.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for f in ["broken.pem", "junk.cer", "bad.crl"] {
        assert!(
            warned.iter().any(|w| w == f),
            "{f} not reported: {warned:?}"
        );
    }
    let cred = provider.client_credential().acquire().unwrap();
    assert_eq!(cred.trusted_root_count(), 1);
    assert_eq!(cred.intermediates().len(), 1);
    assert_eq!(cred.crls().len(), 1);
}

#[test]
fn pkcs12_from_p12_keystore_with_modern_and_legacy_encryption() {
    use p12_keystore::{EncryptionAlgorithm, KeyStore, KeyStoreEntry, PrivateKeyChain};
    let dir = tempfile::tempdir().unwrap();
    let c = Ca::root("PFX CA");
    let l = c.server_leaf(&["pfx.test"]);
    let mut ks = KeyStore::new();
    let chain = PrivateKeyChain::new(
        b"key-1".to_vec(),
        p12_keystore::PrivateKey::from_der(&l.key_der()).unwrap(),
        vec![
            p12_keystore::Certificate::from_der(l.der()).unwrap(),
            p12_keystore::Certificate::from_der(c.der()).unwrap(),
        ],
    );
    ks.add_entry("server", KeyStoreEntry::PrivateKeyChain(chain));
    for alg in [
        EncryptionAlgorithm::PbeWithHmacSha256AndAes256,
        EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc,
    ] {
        let bytes = ks
            .writer("s3cret")
            .encryption_algorithm(alg)
            .encryption_iterations(2048)
            .mac_iterations(2048)
            .write()
            .unwrap();
        let pfx = write_file(&dir.path().join("server.pfx"), bytes, 0o600);
        let (provider, sink) = in_memory_all();
        let cred = provider
            .server_credential()
            .with_pkcs12(&pfx, "s3cret")
            .acquire()
            .unwrap_or_else(|e| panic!("{alg:?}: {e}"));
        assert_eq!(
            cred.certificate().map(|c| c.to_vec()),
            Some(l.der().to_vec())
        );
        assert_eq!(cred.certificate_chain().len(), 2);
        let r = first_event(&sink, 36868);
        assert_eq!(r.field("KeyName"), Some(pfx.display().to_string().as_str()));
        assert_eq!(r.field("KeyType"), Some("ECDSA P-256"));
        assert_no_key_material(&sink.records(), &l.key_der(), l.der());

        for wrong in ["wrong", ""] {
            let (provider, sink) = in_memory_all();
            let err = provider
                .server_credential()
                .with_pkcs12(&pfx, wrong)
                .acquire()
                .unwrap_err();
            assert_eq!(
                err.state(),
                Some(ErrorState::KeyWrongPassword),
                "{alg:?} {err}"
            );
            assert_eq!(sink.ids(), vec![36867, 36870]);
            assert_eq!(first_event(&sink, 36870).field("ErrorStatus"), Some("2003"));
            assert!(!err.to_string().contains("s3cret"));
        }
    }
    // Not PKCS#12 at all.
    let junk = write_file(&dir.path().join("junk.pfx"), b"\x30\x03\x02\x01\x03", 0o600);
    let (provider, sink) = in_memory_all();
    let err = provider
        .server_credential()
        .with_pkcs12(&junk, "x")
        .acquire()
        .unwrap_err();
    assert_eq!(err.state(), Some(ErrorState::Pkcs12Invalid));
    assert_eq!(sink.ids(), vec![36867, 36871]);
}

#[test]
fn pkcs12_from_openssl_modern_and_legacy() {
    assert!(
        has_openssl(),
        "openssl is required: install it (apt-get install openssl); .ci/run installs it"
    );
    let dir = tempfile::tempdir().unwrap();
    let c = Ca::root("OpenSSL PFX CA");
    let l = c.server_leaf(&["openssl-pfx.test"]);
    let cert = write_file(&dir.path().join("leaf.pem"), l.pem(), 0o644);
    let key = write_file(&dir.path().join("leaf.key"), l.key_pem(), 0o600);
    let chain = write_file(&dir.path().join("ca.pem"), c.pem(), 0o644);
    let variants: [(&str, &[&str]); 3] = [
        ("modern", &[]),
        (
            "3des",
            &[
                "-keypbe",
                "PBE-SHA1-3DES",
                "-certpbe",
                "PBE-SHA1-3DES",
                "-macalg",
                "sha1",
            ],
        ),
        ("legacy-rc2", &["-legacy"]),
    ];
    for (name, extra) in variants {
        let pfx = dir.path().join(format!("{name}.pfx"));
        let out = std::process::Command::new("openssl")
            .args(["pkcs12", "-export", "-passout", "pass:openssl-pw", "-in"])
            .arg(&cert)
            .arg("-inkey")
            .arg(&key)
            .arg("-certfile")
            .arg(&chain)
            .arg("-out")
            .arg(&pfx)
            .args(extra)
            .output()
            .unwrap();
        if !out.status.success() {
            // -legacy needs OpenSSL's legacy provider, which some builds lack.
            eprintln!(
                "openssl pkcs12 {name} unavailable: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_ne!(name, "modern");
            continue;
        }
        let (provider, _) = in_memory_all();
        let cred = provider
            .server_credential()
            .with_pkcs12(&pfx, "openssl-pw")
            .acquire()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            cred.certificate().map(|c| c.to_vec()),
            Some(l.der().to_vec()),
            "{name}"
        );
        let (provider, _) = in_memory_all();
        let err = provider
            .server_credential()
            .with_pkcs12(&pfx, "nope")
            .acquire()
            .unwrap_err();
        assert_eq!(
            err.state(),
            Some(ErrorState::KeyWrongPassword),
            "{name}: {err}"
        );
    }
}
