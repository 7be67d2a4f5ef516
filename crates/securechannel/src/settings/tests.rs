//! Settings tests: defaults, parsing, errors, and what reaches the crypto provider.

use super::*;
use crate::{policy, ErrorState, EventId};
use rustls::crypto::CryptoProvider;
use std::path::Path;

fn parse(text: &str) -> Settings {
    Settings::parse(text, None).expect("test settings parse")
}

fn suite_names(p: &CryptoProvider) -> Vec<String> {
    p.cipher_suites
        .iter()
        .map(|s| format!("{:?}", s.suite()))
        .collect()
}

#[test]
fn defaults_are_windows_defaults() {
    let s = Settings::default();
    assert_eq!(s.event_logging, EventLogging(1));
    assert_eq!(
        s.enabled_protocols(Role::Client),
        vec![Protocol::Tls13, Protocol::Tls12]
    );
    assert_eq!(
        s.client_auth_trust_mode(),
        ClientAuthTrustMode::MachineTrust
    );
    assert!(!s.send_trusted_issuer_list());
    assert_eq!(s.certificate_mapping_methods(), 0x1f);
    assert_eq!(
        s.session_cache_time(Role::Server),
        Duration::from_secs(36_000)
    );
    assert_eq!(s.maximum_cache_size(), 20_000);
    // No issuer cache exists here (Windows: 100 entries, 10 minutes): 0 is the truth.
    assert_eq!(s.issuer_cache(), (0, Duration::ZERO));
    assert_eq!(s.message_limit(Role::Client, false), 0x8000);
    assert_eq!(s.message_limit(Role::Server, false), 0x4000);
    assert_eq!(s.message_limit(Role::Server, true), 0x8000);
    assert!(!s.ocsp_stapling_for_sni());
    let log = s.event_log();
    assert_eq!(log.max_size, 20_971_520);
    assert_eq!(log.retention, Retention::OverwriteOldest);
    assert_eq!(log.flood_threshold, 10);
    assert_eq!(log.flood_window, Duration::from_secs(60));
    assert_eq!(
        s.value("KeyExchangeAlgorithms\\Diffie-Hellman\\ServerMinKeyBitLength")
            .unwrap(),
        Some(SettingValue::Dword(2048))
    );
    assert_eq!(s.crypto_provider(Role::Client).cipher_suites.len(), 9);
}

#[test]
fn the_brief_example_parses() {
    let s = parse(
        r#"
EventLogging = 7
ClientAuthTrustMode = 0
SendTrustedIssuerList = 0
[Protocols."TLS 1.3".Server]
Enabled = 0
DisabledByDefault = 1
[Ciphers."AES 128/128"]
Enabled = 0
[Hashes.SHA384]
Enabled = 0
[KeyExchangeAlgorithms.ECDH]
Enabled = 0
[CipherSuiteOrder]
Functions = "TLS_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
EccCurves = ["curve25519", "NistP256"]
[EventLog]
MaxSize = 20971520
Retention = "archive"
FloodThreshold = 10
FloodWindowSeconds = 60
"#,
    );
    assert_eq!(s.event_logging, EventLogging(7));
    assert_eq!(s.enabled_protocols(Role::Server), vec![Protocol::Tls12]);
    assert_eq!(
        s.enabled_protocols(Role::Client),
        vec![Protocol::Tls13, Protocol::Tls12]
    );
    assert_eq!(s.event_log().retention, Retention::Archive);
    assert_eq!(s.cipher_suite_order.len(), 2);
    assert_eq!(s.ecc_curves(), vec!["curve25519", "NistP256"]);
}

// Protocol rules, one test per row of the registry.md table.
#[test]
fn protocol_enabled_and_not_disabled_by_default_is_enabled() {
    let s = parse("[Protocols.\"TLS 1.2\".Client]\nEnabled = 1\nDisabledByDefault = 0\n");
    assert_eq!(
        s.protocol_state("TLS 1.2", Role::Client),
        ProtocolState::Enabled
    );
}

#[test]
fn protocol_enabled_zero_is_disabled_even_when_asked() {
    let s = parse("[Protocols.\"TLS 1.2\".Client]\nEnabled = 0\n");
    assert_eq!(
        s.protocol_state("TLS 1.2", Role::Client),
        ProtocolState::Disabled
    );
    assert_eq!(s.enabled_protocols(Role::Client), vec![Protocol::Tls13]);
    assert_eq!(
        s.protocols_for(Role::Client, &[Protocol::Tls12]),
        Vec::<Protocol>::new()
    );
    // The other role is untouched.
    assert_eq!(s.enabled_protocols(Role::Server).len(), 2);
}

#[test]
fn protocol_disabled_by_default_needs_an_explicit_request() {
    let s = parse("[Protocols.\"TLS 1.3\".Server]\nEnabled = 0xffffffff\nDisabledByDefault = 1\n");
    assert_eq!(
        s.protocol_state("TLS 1.3", Role::Server),
        ProtocolState::DisabledByDefault
    );
    assert_eq!(s.enabled_protocols(Role::Server), vec![Protocol::Tls12]);
    assert_eq!(
        s.protocols_for(Role::Server, &[Protocol::Tls13]),
        vec![Protocol::Tls13]
    );
}

#[test]
fn protocol_absent_is_the_default_and_legacy_ones_are_never_returned() {
    let s = parse("[Protocols.\"TLS 1.0\".Server]\nEnabled = 0\nDisabledByDefault = 1\n");
    assert_eq!(
        s.protocol_state("TLS 1.0", Role::Server),
        ProtocolState::Disabled
    );
    assert_eq!(
        s.enabled_protocols(Role::Server),
        vec![Protocol::Tls13, Protocol::Tls12]
    );
    assert_eq!(
        s.protocols_for(Role::Server, &[Protocol::Tls10, Protocol::Tls12]),
        vec![Protocol::Tls12]
    );
    assert_eq!(
        Settings::default().protocol_state("DTLS 1.2", Role::Client),
        ProtocolState::Enabled
    );
}

/// The suites `settings` leave to `role`: `left` of them, each named as `kept` wants.
fn assert_suites_left(settings: &str, role: Role, left: usize, kept: fn(&str) -> bool) {
    let names = suite_names(&parse(settings).crypto_provider(role));
    assert_eq!(names.len(), left, "{settings}: {names:?}");
    assert!(names.iter().all(|n| kept(n)), "{settings}: {names:?}");
}

#[test]
fn cipher_aes128_off_removes_aes128_suites() {
    let settings = "[Ciphers.\"AES 128/128\"]\nEnabled = 0\n";
    assert_suites_left(settings, Role::Client, 6, |n| !n.contains("AES_128"));
}

#[test]
fn cipher_aes256_off_removes_aes256_suites() {
    let settings = "[Ciphers.\"AES 256/256\"]\nEnabled = 0\n";
    assert_suites_left(settings, Role::Client, 6, |n| !n.contains("AES_256"));
}

#[test]
fn hash_sha384_off_removes_sha384_suites() {
    let settings = "[Hashes.SHA384]\nEnabled = 0\n";
    assert_suites_left(settings, Role::Server, 6, |n| !n.ends_with("SHA384"));
}

#[test]
fn hash_sha256_off_removes_sha256_suites() {
    let settings = "[Hashes.SHA256]\nEnabled = 0\n";
    assert_suites_left(settings, Role::Server, 3, |n| n.ends_with("SHA384"));
}

#[test]
fn ecdh_off_removes_tls12_suites_only() {
    let s = parse("[KeyExchangeAlgorithms.ECDH]\nEnabled = 0\n");
    let p = s.crypto_provider(Role::Client);
    assert_eq!(p.cipher_suites.len(), 3);
    assert!(p.cipher_suites.iter().all(|s| s.tls13().is_some()));
}

#[test]
fn protocols_filter_suites() {
    let s = parse("[Protocols.\"TLS 1.3\".Client]\nEnabled = 0\n");
    let p = s.crypto_provider(Role::Client);
    assert_eq!(p.cipher_suites.len(), 6);
    assert!(p.cipher_suites.iter().all(|s| s.tls13().is_none()));
}

#[test]
fn everything_off_leaves_no_suites() {
    let s = parse("[Ciphers.\"AES 128/128\"]\nEnabled = 0\n[Ciphers.\"AES 256/256\"]\nEnabled = 0\n[CipherSuiteOrder]\nFunctions = \"TLS_AES_128_GCM_SHA256\"\n");
    assert!(s.crypto_provider(Role::Client).cipher_suites.is_empty());
}

#[test]
fn functions_orders_and_disables_unlisted_suites() {
    let s = parse("[CipherSuiteOrder]\nFunctions = \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384_P384\"\n");
    let names = suite_names(&s.crypto_provider(Role::Client));
    assert_eq!(
        names,
        vec![
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS13_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
        ]
    );
    let warnings = s.warnings();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.contains("TLS_RSA_WITH_AES_256_CBC_SHA"));
}

#[test]
fn every_suite_row_maps_its_iana_name() {
    for row in policy::suites() {
        let mut s = Settings::default();
        s.set(FUNCTIONS, SettingValue::List(vec![row.name.to_string()]))
            .unwrap();
        let p = s.crypto_provider_for(&[Protocol::Tls12, Protocol::Tls13]);
        assert_eq!(p.cipher_suites.len(), 1, "{}", row.name);
        assert_eq!(p.cipher_suites[0].suite(), row.suite.suite());
        let rustls_name = format!("{:?}", row.suite.suite()).replace("TLS13_", "TLS_");
        assert_eq!(rustls_name, row.name);
    }
}

#[test]
fn ecc_curves_order_groups_and_drop_the_hybrid() {
    let s = parse("[CipherSuiteOrder]\nEccCurves = [\"NistP384\", \"curve25519\", \"NistP521\"]\n");
    let p = s.crypto_provider(Role::Client);
    let names: Vec<_> = p.kx_groups.iter().map(|g| g.name()).collect();
    assert_eq!(
        names,
        vec![rustls::NamedGroup::secp384r1, rustls::NamedGroup::X25519]
    );
    assert_eq!(s.warnings().len(), 1);
    let d = Settings::default().crypto_provider(Role::Client);
    assert_eq!(d.kx_groups[0].name(), rustls::NamedGroup::X25519MLKEM768);
    assert_eq!(d.kx_groups.len(), 4);
}

#[test]
fn every_curve_row_maps() {
    for (name, group) in [
        ("curve25519", rustls::NamedGroup::X25519),
        ("NistP256", rustls::NamedGroup::secp256r1),
        ("NistP384", rustls::NamedGroup::secp384r1),
        ("X25519MLKEM768", rustls::NamedGroup::X25519MLKEM768),
    ] {
        assert_eq!(
            policy::group_for_curve(name).map(|g| g.group.name()),
            Some(group)
        );
    }
}

#[test]
fn unknown_key_is_an_error_with_suggestion_and_position() {
    let err = Settings::parse(
        "EventLogging = 1\n[Protocols.\"TLS 1.3\".Server]\nEnabld = 0\n",
        Some(Path::new("/x/settings.toml")),
    )
    .unwrap_err();
    assert_eq!(err.position, Some((3, 1)));
    assert_eq!(
        err.name.as_deref(),
        Some("Protocols\\TLS 1.3\\Server\\Enabld")
    );
    let SettingsProblem::UnknownName { suggestions } = &*err.problem else {
        panic!("{err:?}")
    };
    assert_eq!(suggestions[0], "Protocols\\TLS 1.3\\Server\\Enabled");
    let text = err.to_string();
    assert!(text.starts_with("/x/settings.toml:3:1: "), "{text}");
}

#[test]
fn unknown_group_is_an_error() {
    let err = Settings::parse("[Protocol.\"TLS 1.3\".Server]\nEnabled = 0\n", None).unwrap_err();
    let SettingsProblem::UnknownName { suggestions } = &*err.problem else {
        panic!("{err:?}")
    };
    assert!(
        suggestions.iter().any(|s| s.starts_with("Protocols")),
        "{suggestions:?}"
    );
}

#[test]
fn syntax_error_has_position_and_becomes_36866() {
    let err = Settings::parse("EventLogging = = 3\n", Some(Path::new("s.toml"))).unwrap_err();
    assert!(matches!(*err.problem, SettingsProblem::Syntax(_)));
    assert_eq!(err.position.map(|p| p.0), Some(1));
    let e = err.into_error();
    assert_eq!(e.event(), Some(EventId::PackageLoadFailed));
    assert_eq!(e.state(), Some(ErrorState::SettingsInvalid));
    assert!(e.to_string().contains("36866"));
}

#[test]
fn out_of_range_and_wrong_type_are_errors() {
    let err = Settings::parse("EventLogging = 8\n", None).unwrap_err();
    assert!(matches!(
        *err.problem,
        SettingsProblem::OutOfRange { value: 8, .. }
    ));
    let err = Settings::parse("EventLogging = \"7\"\n", None).unwrap_err();
    assert!(matches!(*err.problem, SettingsProblem::WrongType { .. }));
    let err = Settings::parse("[EventLog]\nRetention = \"keep\"\n", None).unwrap_err();
    assert!(matches!(*err.problem, SettingsProblem::NotAChoice { .. }));
    let err = Settings::parse("[Ciphers.\"AES 128/128\"]\nEnabled = -1\n", None).unwrap_err();
    assert!(matches!(*err.problem, SettingsProblem::OutOfRange { .. }));
}

#[test]
fn names_are_case_insensitive_and_accept_the_base_key() {
    let s = parse("eventlogging = 3\n[protocols.\"tls 1.3\".server]\nenabled = 0\n");
    assert_eq!(s.event_logging, EventLogging(3));
    assert_eq!(s.enabled_protocols(Role::Server), vec![Protocol::Tls12]);
    let d = Settings::definition(
        "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\EventLogging",
    )
    .unwrap();
    assert_eq!(d.name(), "EventLogging");
    let d = Settings::definition(
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002\\Functions",
    )
    .unwrap();
    assert_eq!(d.name(), "CipherSuiteOrder\\Functions");
    let d = Settings::definition(
        "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.0\\Server\\Enabled",
    )
    .unwrap();
    assert_eq!(d.name(), "Protocols\\TLS 1.0\\Server\\Enabled");
}

#[test]
fn parse_value_takes_decimal_and_hex() {
    let d = Settings::definition("Ciphers\\AES 128/128\\Enabled").unwrap();
    assert_eq!(
        d.parse_value("0xffffffff").unwrap(),
        SettingValue::Dword(u32::MAX)
    );
    assert_eq!(d.parse_value("0").unwrap(), SettingValue::Dword(0));
    assert!(d.parse_value("0x1ffffffff").is_err());
    assert!(d.parse_value("yes").is_err());
}

#[test]
fn set_and_unset_keep_fields_in_step() {
    let mut s = Settings::default();
    s.set("EventLogging", SettingValue::Dword(5)).unwrap();
    assert_eq!(s.event_logging, EventLogging(5));
    assert!(s.is_configured("EventLogging"));
    s.unset("EventLogging").unwrap();
    assert_eq!(s.event_logging, EventLogging(1));
    s.set(
        FUNCTIONS,
        SettingValue::List(vec!["TLS_AES_128_GCM_SHA256".into()]),
    )
    .unwrap();
    assert_eq!(s.cipher_suite_order, vec!["TLS_AES_128_GCM_SHA256"]);
    assert!(s.set("EventLogging", SettingValue::Dword(9)).is_err());
}

#[test]
fn other_values_are_read() {
    let s = parse(
        "ClientAuthTrustMode = 2\nSendTrustedIssuerList = 1\nCertificateMappingMethods = 0x1f\nServerCacheTime = 0\nMaximumCacheSize = 5\nEnableOcspStaplingForSni = 0\n[Messaging]\nMessageLimitServer = 0x10000\n",
    );
    assert_eq!(
        s.client_auth_trust_mode(),
        ClientAuthTrustMode::ExclusiveCaTrust
    );
    assert!(s.send_trusted_issuer_list());
    assert_eq!(s.certificate_mapping_methods(), 0x1f);
    assert_eq!(s.session_cache_time(Role::Server), Duration::ZERO);
    assert_eq!(s.maximum_cache_size(), 5);
    assert!(!s.ocsp_stapling_for_sni());
    assert_eq!(s.message_limit(Role::Server, false), 0x10000);
}

#[test]
fn every_definition_has_a_toml_path() {
    for d in Settings::definitions() {
        assert!(d.segments().all(|s| !s.is_empty()), "{}", d.name());
        assert_eq!(Settings::definition(d.name()).unwrap().name(), d.name());
    }
    assert!(Settings::definitions().len() > 70);
}

/// Every value the table refuses, with the words its refusal must carry; each is refused
/// by `parse_value` (`config set`), `Settings::set` and `Settings::parse` (the file).
const REFUSED: &[(&str, u32, &str)] = &[
    (
        "Protocols\\SSL 3.0\\Server\\Enabled",
        1,
        "SSL 3.0 is recognised and never negotiated",
    ),
    (
        "Protocols\\SSL 2.0\\Client\\Enabled",
        0xffff_ffff,
        "SSL 2.0 is recognised and never negotiated",
    ),
    (
        "Protocols\\TLS 1.0\\Server\\Enabled",
        1,
        "TLS 1.0 is recognised and never negotiated",
    ),
    (
        "Protocols\\TLS 1.1\\Client\\DisabledByDefault",
        0,
        "TLS 1.1 is recognised and never negotiated",
    ),
    ("Protocols\\DTLS 1.2\\Server\\Enabled", 1, "never DTLS"),
    (
        "Protocols\\PCT 1.0\\Server\\Enabled",
        1,
        "PCT 1.0 is recognised",
    ),
    ("Ciphers\\RC4 128/128\\Enabled", 0xffff_ffff, "no RC4 suite"),
    (
        "Ciphers\\Triple DES 168\\Enabled",
        0xffff_ffff,
        "no 3DES suite",
    ),
    (
        "Ciphers\\NULL\\Enabled",
        1,
        "NULL is recognised and never negotiated",
    ),
    (
        "Hashes\\MD5\\Enabled",
        0xffff_ffff,
        "MD5 is recognised and never negotiated",
    ),
    (
        "Hashes\\SHA\\Enabled",
        0xffff_ffff,
        "SHA-1 (SHA) is recognised",
    ),
    (
        "Hashes\\SHA512\\Enabled",
        0,
        "no cipher suite here uses SHA-512",
    ),
    (
        "KeyExchangeAlgorithms\\PKCS\\Enabled",
        0xffff_ffff,
        "no TLS_RSA_* suite",
    ),
    (
        "KeyExchangeAlgorithms\\Diffie-Hellman\\Enabled",
        0xffff_ffff,
        "no DHE suite",
    ),
    ("CertificateMappingMethods", 0x8, "S4U2Self"),
    ("CertificateMappingMethods", 0x1e, "there is none here"),
    (
        "IssuerCacheSize",
        100,
        "without an issuer cache; there is nothing to size",
    ),
    ("IssuerCacheTime", 600_000, "nothing to expire"),
];

#[test]
fn values_that_cannot_apply_are_refused_with_the_reason() {
    for &(name, value, words) in REFUSED {
        let def = Settings::definition(name).unwrap();
        let e = def.parse_value(&value.to_string()).unwrap_err();
        let text = e.to_string();
        assert!(
            matches!(*e.problem, SettingsProblem::CannotApply { .. }),
            "{name} = {value}: {text}"
        );
        assert!(text.contains(words), "{name} = {value}: {text}");
        assert!(text.contains("cannot apply here"), "{name}: {text}");
        let mut s = Settings::default();
        assert!(s.set(name, SettingValue::Dword(value)).is_err(), "{name}");
        assert!(
            !s.is_configured(name),
            "{name}: a refused value is not stored"
        );
        assert_eq!(
            def.application(Some(&SettingValue::Dword(value))).kind(),
            "refused",
            "{name}"
        );
    }
}

#[test]
fn a_file_that_asks_for_the_impossible_is_refused_with_its_position() {
    let text = "EventLogging = 3\n[Ciphers.\"RC4 128/128\"]\nEnabled = 0xffffffff\n";
    let e = Settings::parse(text, Some(Path::new("/d/settings.toml"))).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.starts_with("/d/settings.toml:3:1: `Ciphers\\RC4 128/128\\Enabled`: 4294967295 cannot apply here: RC4 128/128 is recognised and never negotiated"),
        "{shown}"
    );
    assert!(shown.ends_with("only 0 is accepted"), "{shown}");
    let e = e.into_error();
    assert_eq!(e.event(), Some(EventId::PackageLoadFailed));
    assert_eq!(e.state(), Some(ErrorState::SettingsInvalid));
}

#[test]
fn what_holds_already_is_accepted() {
    // Disabling what is never negotiated, limits on a key exchange that never happens,
    // and the defaults of everything.
    let s = parse(
        "[Protocols.\"SSL 3.0\".Server]\nEnabled = 0\nDisabledByDefault = 1\n[Protocols.\"DTLS 1.0\".Client]\nEnabled = 0\n[Ciphers.\"RC4 128/128\"]\nEnabled = 0\n[Hashes.MD5]\nEnabled = 0\n[Hashes.SHA512]\nEnabled = 0xffffffff\n[KeyExchangeAlgorithms.PKCS]\nEnabled = 0\n[KeyExchangeAlgorithms.Diffie-Hellman]\nEnabled = 0\nServerMinKeyBitLength = 3072\nClientMinKeyBitLength = 4096\nClientMaxKeyBitLength = 8192\n",
    );
    assert!(s.is_configured("Protocols\\SSL 3.0\\Server\\Enabled"));
    for d in Settings::definitions() {
        let value = s.value(d.name()).unwrap();
        let applied = d.application(value.as_ref());
        assert_ne!(applied.kind(), "refused", "{}: {applied}", d.name());
        if let Some(default) = d.default_value() {
            let typed = default.to_string();
            assert!(
                d.parse_value(&typed).is_ok(),
                "{}'s default {typed}",
                d.name()
            );
        }
    }
    let dh = Settings::definition("KeyExchangeAlgorithms\\Diffie-Hellman\\ServerMinKeyBitLength")
        .unwrap();
    assert_eq!(dh.application(None).kind(), "holds already");
}

#[test]
fn every_definition_says_how_it_applies() {
    // The spoken protocols, AES, SHA-256/384, ECDH and the policy values are enforced;
    // everything that names what is never negotiated says so.
    let enforced = |name: &str| {
        matches!(
            Settings::definition(name).unwrap().rule(),
            SettingRule::Enforced { .. }
        )
    };
    for p in ["TLS 1.2", "TLS 1.3"] {
        for r in ["Client", "Server"] {
            assert!(enforced(&format!("Protocols\\{p}\\{r}\\Enabled")));
            assert!(enforced(&format!("Protocols\\{p}\\{r}\\DisabledByDefault")));
        }
    }
    for name in [
        "EventLogging",
        "Ciphers\\AES 128/128\\Enabled",
        "Hashes\\SHA384\\Enabled",
        "KeyExchangeAlgorithms\\ECDH\\Enabled",
        "KeyExchangeAlgorithms\\PKCS\\ClientMinKeyBitLength",
        "ClientAuthTrustMode",
        "SendTrustedIssuerList",
        "ClientCacheTime",
        "ServerCacheTime",
        "MaximumCacheSize",
        "Messaging\\MessageLimitClient",
        "Messaging\\MessageLimitServer",
        "Messaging\\MessageLimitServerClientAuth",
        FUNCTIONS,
        ECC_CURVES,
    ] {
        assert!(enforced(name), "{name}");
    }
    for d in Settings::definitions() {
        let detail = d.application(None).detail().to_string();
        assert!(!detail.is_empty(), "{}", d.name());
    }
}
