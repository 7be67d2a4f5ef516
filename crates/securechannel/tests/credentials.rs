//! Credential acquisition: results and the events 36867-36872 with their data.

mod common;

use common::*;
use rcgen::ExtendedKeyUsagePurpose;
use rustls::pki_types::PrivateKeyDer;
use securechannel::events::MemorySink;
use securechannel::{ErrorState, EventId, Protocol, Provider, Settings, Status};
use securechannel_testpki::{key_pair, leaf_params, pem, write_file, Ca};
use std::sync::Arc;

#[test]
fn server_from_pem_files_logs_36867_and_36868_with_key_properties() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["www.example.test"]);
    let cert = write_file(&dir.path().join("server.pem"), leaf.pem(), 0o644);
    let key = write_file(&dir.path().join("server.key"), leaf.key_pem(), 0o600);
    let (provider, sink) = in_memory_all();

    let cred = provider
        .server_credential()
        .with_certificate_files(&cert, &key)
        .acquire()
        .unwrap();

    assert!(cred.has_certificate());
    assert_eq!(
        cred.certificate().map(|c| c.to_vec()),
        Some(leaf.der().to_vec())
    );
    assert_eq!(sink.ids(), vec![36867, 36868]);
    let r = first_event(&sink, 36867);
    assert_eq!(r.field("Type"), Some("server"));
    assert_eq!(r.binary.as_deref(), Some(leaf.der().as_ref()));
    let r = first_event(&sink, 36868);
    assert_eq!(r.field("Type"), Some("server"));
    assert_eq!(r.field("CSPName"), Some("aws-lc-rs"));
    assert_eq!(r.field("CSPType"), Some("software"));
    assert_eq!(r.field("KeyName"), Some(key.display().to_string().as_str()));
    assert_eq!(r.field("KeyType"), Some("ECDSA P-256"));
    assert_eq!(r.field("KeyFlags"), Some("0x00000000"));
    assert_eq!(r.binary.as_deref(), Some(leaf.der().as_ref()));
    assert_no_key_material(&sink.records(), &leaf.key_der(), leaf.der());
}

#[test]
fn key_types_are_named_in_36868() {
    let ca = Ca::root("Test CA");
    for (alg, name) in [
        (&rcgen::PKCS_RSA_SHA256, "RSA-2048"),
        (&rcgen::PKCS_ECDSA_P384_SHA384, "ECDSA P-384"),
        (&rcgen::PKCS_ED25519, "Ed25519"),
    ] {
        let leaf = ca.issue_with_key(
            &leaf_params("k.test", &["k.test"], ExtendedKeyUsagePurpose::ServerAuth),
            key_pair(alg),
        );
        let (provider, sink) = in_memory_all();
        let key = PrivateKeyDer::try_from(leaf.key_der()).unwrap();
        provider
            .client_credential()
            .with_certificate_der(vec![leaf.der().clone()], key)
            .acquire()
            .unwrap();
        let r = first_event(&sink, 36868);
        assert_eq!(r.field("Type"), Some("client"));
        assert_eq!(r.field("KeyType"), Some(name));
        assert_eq!(r.field("KeyName"), Some("memory"));
        assert_no_key_material(&sink.records(), &leaf.key_der(), leaf.der());
    }
}

#[test]
fn der_files_and_sec1_keys_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["der.test"]);
    let cert = write_file(&dir.path().join("server.cer"), leaf.der(), 0o644);
    // PKCS#8 DER.
    let key = write_file(&dir.path().join("server.der"), leaf.key_der(), 0o600);
    let (provider, _) = in_memory_all();
    provider
        .server_credential()
        .with_certificate_files(&cert, &key)
        .acquire()
        .unwrap();
    // SEC1 ("EC PRIVATE KEY"), converted by aws-lc-rs.
    use aws_lc_rs::encoding::AsDer;
    let pair = aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
        &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        &leaf.key_der(),
    )
    .unwrap();
    let sec1 = pair.private_key().as_der().unwrap();
    let sec1_pem = pem("EC PRIVATE KEY", sec1.as_ref());
    let key = write_file(&dir.path().join("sec1.key"), sec1_pem, 0o600);
    let cred = provider
        .server_credential()
        .with_certificate_files(&cert, &key)
        .acquire()
        .unwrap();
    assert!(cred.has_certificate());
}

#[test]
fn pkcs1_rsa_keys_are_read_when_openssl_is_present() {
    assert!(
        has_openssl(),
        "openssl is required: install it (apt-get install openssl); .ci/run installs it"
    );
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("Test CA");
    let leaf = ca.issue_with_key(
        &leaf_params(
            "rsa.test",
            &["rsa.test"],
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        key_pair(&rcgen::PKCS_RSA_SHA256),
    );
    let cert = write_file(&dir.path().join("rsa.pem"), leaf.pem(), 0o644);
    let p8 = write_file(&dir.path().join("rsa.p8"), leaf.key_pem(), 0o600);
    let p1 = dir.path().join("rsa.key");
    let out = std::process::Command::new("openssl")
        .args(["rsa", "-traditional", "-in"])
        .arg(&p8)
        .arg("-out")
        .arg(&p1)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    set_mode(&p1, 0o600);
    assert!(std::fs::read_to_string(&p1)
        .unwrap()
        .contains("BEGIN RSA PRIVATE KEY"));
    let (provider, sink) = in_memory_all();
    provider
        .server_credential()
        .with_certificate_files(&cert, &p1)
        .acquire()
        .unwrap();
    assert_eq!(first_event(&sink, 36868).field("KeyType"), Some("RSA-2048"));
}

#[test]
fn key_readable_by_others_is_refused_with_36870() {
    // The check is ours, not the kernel's: it holds for root too.
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["perm.test"]);
    let cert = write_file(&dir.path().join("server.pem"), leaf.pem(), 0o644);
    for mode in [0o644, 0o640, 0o604, 0o660] {
        let key = write_file(&dir.path().join("server.key"), leaf.key_pem(), mode);
        let (provider, sink) = in_memory_all();
        let err = provider
            .server_credential()
            .with_certificate_files(&cert, &key)
            .acquire()
            .unwrap_err();
        assert_eq!(err.status(), Status::UnknownCredentials);
        assert_eq!(err.status().code(), 0x8009030D);
        assert_eq!(err.event(), Some(EventId::CredentialKeyAccessFailed));
        assert_eq!(err.state(), Some(ErrorState::KeyPermissionsUnsafe));
        assert!(err.to_string().contains("chmod 600"), "{err}");
        assert_eq!(sink.ids(), vec![36867, 36870]);
        let r = first_event(&sink, 36870);
        assert_eq!(r.field("Type"), Some("server"));
        assert_eq!(r.field("ErrorCode"), Some("0x8009030D"));
        assert_eq!(
            r.field("ErrorStatus"),
            Some(ErrorState::KeyPermissionsUnsafe.code().to_string().as_str())
        );
        assert_no_key_material(&sink.records(), &leaf.key_der(), leaf.der());
    }
}

#[test]
fn missing_key_file_is_36869() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["nokey.test"]);
    let cert = write_file(&dir.path().join("server.pem"), leaf.pem(), 0o644);
    let (provider, sink) = in_memory_all();
    let err = provider
        .server_credential()
        .with_certificate_files(&cert, dir.path().join("absent.key"))
        .acquire()
        .unwrap_err();
    assert_eq!(err.event(), Some(EventId::CredentialNoPrivateKey));
    assert_eq!(err.state(), Some(ErrorState::NoPrivateKey));
    assert_eq!(err.status(), Status::NoCredentials);
    assert_eq!(sink.ids(), vec![36867, 36869]);
    let r = first_event(&sink, 36869);
    assert_eq!(r.field("Type"), Some("server"));
    assert_eq!(r.binary.as_deref(), Some(leaf.der().as_ref()));
}

#[test]
fn key_of_another_certificate_is_36869() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("Test CA");
    let a = ca.server_leaf(&["a.test"]);
    let b = ca.server_leaf(&["b.test"]);
    let cert = write_file(&dir.path().join("a.pem"), a.pem(), 0o644);
    let key = write_file(&dir.path().join("b.key"), b.key_pem(), 0o600);
    let (provider, sink) = in_memory_all();
    let err = provider
        .client_credential()
        .with_certificate_files(&cert, &key)
        .acquire()
        .unwrap_err();
    assert_eq!(err.event(), Some(EventId::CredentialNoPrivateKey));
    assert_eq!(err.state(), Some(ErrorState::KeyMismatch));
    assert_eq!(sink.ids(), vec![36867, 36869]);
    assert_eq!(first_event(&sink, 36869).field("Type"), Some("client"));
}

#[test]
fn corrupt_and_encrypted_keys_are_36870() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["bad.test"]);
    let cert = write_file(&dir.path().join("server.pem"), leaf.pem(), 0o644);
    let cases = [
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".to_string(),
            ErrorState::KeyCorrupt,
        ),
        ("not a key at all".to_string(), ErrorState::KeyCorrupt),
        (
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"
                .to_string(),
            ErrorState::KeyWrongPassword,
        ),
    ];
    for (contents, state) in cases {
        let key = write_file(&dir.path().join("server.key"), contents, 0o600);
        let (provider, sink) = in_memory_all();
        let err = provider
            .server_credential()
            .with_certificate_files(&cert, &key)
            .acquire()
            .unwrap_err();
        assert_eq!(err.state(), Some(state), "{err}");
        assert_eq!(sink.ids(), vec![36867, 36870]);
        assert_eq!(
            first_event(&sink, 36870).field("ErrorStatus"),
            Some(state.code().to_string().as_str())
        );
    }
}

#[test]
fn bad_certificate_files_are_36871() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["x.test"]);
    let key = write_file(&dir.path().join("server.key"), leaf.key_pem(), 0o600);
    let garbage = write_file(
        &dir.path().join("garbage.cer"),
        b"\x30\x03\x02\x01\x01",
        0o644,
    );
    let empty_pem = write_file(
        &dir.path().join("empty.pem"),
        "-----BEGIN FOO-----\nAA==\n-----END FOO-----\n",
        0o644,
    );
    for (cert, state) in [
        (
            dir.path().join("absent.pem"),
            ErrorState::CertificateUnreadable,
        ),
        (garbage, ErrorState::CertificateInvalid),
        (empty_pem, ErrorState::CertificateUnreadable),
    ] {
        let (provider, sink) = in_memory_all();
        let err = provider
            .server_credential()
            .with_certificate_files(&cert, &key)
            .acquire()
            .unwrap_err();
        assert_eq!(err.state(), Some(state), "{err}");
        assert_eq!(err.event(), Some(EventId::CredentialCreationFailed));
        assert_eq!(sink.ids(), vec![36867, 36871]);
        let r = first_event(&sink, 36871);
        assert_eq!(r.field("Type"), Some("server"));
        assert_eq!(
            r.field("ErrorState"),
            Some(state.code().to_string().as_str())
        );
    }
}

#[test]
fn server_without_certificate_source_is_36871_no_certificate() {
    let (provider, sink) = in_memory_all();
    let err = provider.server_credential().acquire().unwrap_err();
    assert_eq!(err.status(), Status::NoCredentials);
    assert_eq!(err.state(), Some(ErrorState::NoCertificate));
    assert_eq!(sink.ids(), vec![36867, 36871]);
}

#[test]
fn client_without_certificate_is_fine() {
    let (provider, sink) = in_memory_all();
    let ca = Ca::root("Extra Root");
    let cred = provider
        .client_credential()
        .add_root(ca.der().clone())
        .dangerous_manual_validation()
        .acquire()
        .unwrap();
    assert!(!cred.has_certificate());
    assert!(cred.options().dangerous_manual_validation);
    assert_eq!(cred.trusted_root_count(), 1);
    assert_eq!(sink.ids(), vec![36867]);
    let r = first_event(&sink, 36867);
    assert_eq!(r.field("Type"), Some("client"));
    assert!(r.binary.is_none());
}

#[test]
fn protocols_follow_the_settings() {
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["p.test"]);
    let chain = || vec![leaf.der().clone()];
    let key = || PrivateKeyDer::try_from(leaf.key_der()).unwrap();
    let mut settings = Settings::default();
    settings.event_logging = securechannel::events::EventLogging::ALL;
    settings
        .set(
            "Protocols\\TLS 1.3\\Server\\DisabledByDefault",
            securechannel::SettingValue::Dword(1),
        )
        .unwrap();
    settings
        .set(
            "Protocols\\TLS 1.2\\Server\\Enabled",
            securechannel::SettingValue::Dword(0),
        )
        .unwrap();
    let sink = Arc::new(MemorySink::new());
    let provider = Provider::in_memory(settings, sink.clone()).unwrap();
    sink.clear();
    // Nothing enabled by default: 36871 NoProtocolEnabled.
    let err = provider
        .server_credential()
        .with_certificate_der(chain(), key())
        .acquire()
        .unwrap_err();
    assert_eq!(err.state(), Some(ErrorState::NoProtocolEnabled));
    assert_eq!(err.status(), Status::AlgorithmMismatch);
    assert_eq!(sink.ids(), vec![36867, 36868, 36871]);
    // TLS 1.3 is disabled by default only: asking for it works; TLS 1.2 never does.
    let cred = provider
        .server_credential()
        .with_certificate_der(chain(), key())
        .protocols(&[Protocol::Tls13])
        .require_client_certificate()
        .acquire()
        .unwrap();
    assert_eq!(cred.options().protocols, vec![Protocol::Tls13]);
    assert!(cred.options().require_client_certificate && cred.options().request_client_certificate);
    let err = provider
        .server_credential()
        .with_certificate_der(chain(), key())
        .protocols(&[Protocol::Tls12])
        .acquire()
        .unwrap_err();
    assert_eq!(err.state(), Some(ErrorState::NoProtocolEnabled));
}

#[test]
fn event_logging_mask_applies_to_credential_events() {
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["m.test"]);
    let sink = Arc::new(MemorySink::new());
    // Windows' default: errors only.
    let provider = Provider::in_memory(Settings::default(), sink.clone()).unwrap();
    provider
        .server_credential()
        .with_certificate_der(
            vec![leaf.der().clone()],
            PrivateKeyDer::try_from(leaf.key_der()).unwrap(),
        )
        .acquire()
        .unwrap();
    assert!(sink.ids().is_empty(), "{:?}", sink.ids());
    let _ = provider.server_credential().acquire().unwrap_err();
    assert_eq!(sink.ids(), vec![36871]);
}

#[test]
#[should_panic(expected = "carries key material")]
fn the_key_material_check_catches_a_leak() {
    // The check above must be able to fail: an event whose binary data holds the key.
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["leak.test"]);
    let emitter = securechannel::events::Emitter::new(
        Arc::new(MemorySink::new()),
        securechannel::events::EventLogging::ALL,
    );
    let mut r = emitter.blank(EventId::CredentialCreating);
    r.binary = Some(Arc::from(leaf.key_der().as_slice()));
    assert_no_key_material(&[r], &leaf.key_der(), leaf.der());
}

#[test]
fn a_server_policy_that_leaves_no_cipher_suite_is_36871_no_usable_cipher_suite() {
    // TLS 1.3 off for servers, and only a TLS 1.3 suite in the order: nothing is left.
    let ca = Ca::root("Test CA");
    let leaf = ca.server_leaf(&["p.test"]);
    let chain = || vec![leaf.der().clone()];
    let key = || PrivateKeyDer::try_from(leaf.key_der()).unwrap();
    let mut settings = Settings::default();
    settings.event_logging = securechannel::events::EventLogging::ALL;
    settings
        .set(
            "Protocols\\TLS 1.3\\Server\\Enabled",
            securechannel::SettingValue::Dword(0),
        )
        .unwrap();
    settings
        .set(
            "CipherSuiteOrder\\Functions",
            securechannel::SettingValue::List(vec!["TLS_AES_128_GCM_SHA256".into()]),
        )
        .unwrap();
    let sink = Arc::new(MemorySink::new());
    let provider = Provider::in_memory(settings, sink.clone()).unwrap();
    sink.clear();
    let err = provider
        .server_credential()
        .with_certificate_der(chain(), key())
        .acquire()
        .unwrap_err();
    assert_eq!(err.state(), Some(ErrorState::NoUsableCipherSuite));
    assert_eq!(ErrorState::NoUsableCipherSuite.code(), 1012);
    assert_eq!(err.status(), Status::AlgorithmMismatch);
    assert_eq!(err.event(), Some(EventId::CredentialCreationFailed));
    assert!(
        err.to_string()
            .contains("no cipher suite usable with TLS 1.2"),
        "{err}"
    );
    assert_eq!(sink.ids(), vec![36867, 36868, 36871]);
    let failed = sink.records().pop().unwrap();
    assert_eq!(failed.field("ErrorState"), Some("1012"));
    // The client side keeps TLS 1.3: its credential and contexts work.
    let client = provider.client_credential().acquire().unwrap();
    assert!(securechannel::ClientContext::new(
        &client,
        "server.test",
        securechannel::ContextOptions::default()
    )
    .is_ok());
}

#[test]
fn a_client_policy_that_leaves_no_cipher_suite_logs_36873_per_context() {
    let mut settings = Settings::default();
    settings.event_logging = securechannel::events::EventLogging::ALL;
    settings
        .set(
            "Protocols\\TLS 1.3\\Client\\Enabled",
            securechannel::SettingValue::Dword(0),
        )
        .unwrap();
    settings
        .set(
            "CipherSuiteOrder\\Functions",
            securechannel::SettingValue::List(vec!["TLS_AES_128_GCM_SHA256".into()]),
        )
        .unwrap();
    let sink = Arc::new(MemorySink::new());
    let provider = Provider::in_memory(settings, sink.clone()).unwrap();
    let client = provider.client_credential().acquire().unwrap();
    sink.clear();
    let err = securechannel::ClientContext::new(
        &client,
        "server.test",
        securechannel::ContextOptions::default(),
    )
    .unwrap_err();
    assert_eq!(err.status(), Status::AlgorithmMismatch);
    assert_eq!(sink.ids(), vec![36873]);
}
