//! The registry's definitions: every key and value of the SCHANNEL tree this provider
//! reads, with Windows' defaults (registry.md).

use super::applies::SettingRule;
use super::value::{SettingDef, SettingValue, ValueKind};

/// `EventLogging`, kept in [`super::Settings::event_logging`].
pub(crate) const EVENT_LOGGING: &str = "EventLogging";
/// The cipher suite order, kept in [`super::Settings::cipher_suite_order`].
pub(crate) const FUNCTIONS: &str = "CipherSuiteOrder\\Functions";
/// The curve order.
pub(crate) const ECC_CURVES: &str = "CipherSuiteOrder\\EccCurves";

/// Every `Protocols\<P>` key name Windows knows (old exports included), in registry order.
pub(crate) const PROTOCOL_KEYS: [&str; 10] = [
    "Multi-Protocol Unified Hello",
    "PCT 1.0",
    "SSL 2.0",
    "SSL 3.0",
    "TLS 1.0",
    "TLS 1.1",
    "TLS 1.2",
    "TLS 1.3",
    "DTLS 1.0",
    "DTLS 1.2",
];

/// Every `Ciphers\<C>` key name.
pub(crate) const CIPHER_KEYS: [&str; 12] = [
    "NULL",
    "DES 56/56",
    "RC2 40/128",
    "RC2 56/128",
    "RC2 128/128",
    "RC4 40/128",
    "RC4 56/128",
    "RC4 64/128",
    "RC4 128/128",
    "Triple DES 168",
    "AES 128/128",
    "AES 256/256",
];

/// Every `Hashes\<H>` key name.
pub(crate) const HASH_KEYS: [&str; 5] = ["MD5", "SHA", "SHA256", "SHA384", "SHA512"];

/// Every `KeyExchangeAlgorithms\<K>` key name.
pub(crate) const KEY_EXCHANGE_KEYS: [&str; 3] = ["PKCS", "Diffie-Hellman", "ECDH"];

/// A DWORD of 0xffffffff: how Windows writes "enabled" for Ciphers / Hashes / KeyExchange.
const ENABLED_ALL: u32 = 0xffff_ffff;

/// The protocol versions this provider speaks (the others are recognised, never negotiated).
const SPOKEN_PROTOCOLS: [&str; 2] = ["TLS 1.2", "TLS 1.3"];

/// The ciphers some suite here uses (the others are recognised, never negotiated).
const SPOKEN_CIPHERS: [&str; 2] = ["AES 128/128", "AES 256/256"];

/// Why a protocol key this provider does not speak cannot be enabled.
fn unspoken_protocol(p: &str) -> String {
    let family = if p.starts_with("DTLS") {
        "this provider speaks TLS over streams, never DTLS"
    } else {
        "this provider speaks TLS 1.2 and TLS 1.3 only"
    };
    format!("{p} is recognised and never negotiated ({family})")
}

/// Why a cipher key no suite here uses cannot be enabled.
fn unspoken_cipher(c: &str) -> String {
    let why = match c {
        "NULL" => "every suite here encrypts, with an AEAD",
        c if c.starts_with("RC4") => "rustls implements no RC4 suite",
        c if c.starts_with("RC2") => "rustls implements no RC2 suite",
        "DES 56/56" => "rustls implements no DES suite",
        _ => "rustls implements no 3DES suite",
    };
    format!("{c} is recognised and never negotiated ({why})")
}

/// The table of every setting, with Windows' defaults (registry.md) where they hold here,
/// and with how each applies (see `applies`): the decision table.
pub(super) fn build_definitions() -> Vec<SettingDef> {
    const ANY: ValueKind = ValueKind::Dword {
        min: 0,
        max: u32::MAX,
    };
    let bits = ValueKind::Dword { min: 0, max: 16384 };
    let mut defs = Vec::new();
    let mut add = |name: String, kind, default: Option<u32>, note, rule| {
        defs.push(SettingDef {
            name,
            kind,
            default: default.map(SettingValue::Dword),
            note,
            rule,
        })
    };
    let enforced = |at| SettingRule::Enforced { at };
    add(
        EVENT_LOGGING.into(),
        ValueKind::Dword { min: 0, max: 7 },
        Some(1),
        "0x1 errors, 0x2 warnings, 0x4 informational; 0 nothing, 7 everything",
        enforced("the mask of every event this provider logs; a reload applies it at once (Windows needs a reboot)"),
    );
    for p in PROTOCOL_KEYS {
        let spoken = SPOKEN_PROTOCOLS.contains(&p);
        for role in ["Client", "Server"] {
            add(
                format!("Protocols\\{p}\\{role}\\Enabled"),
                ANY,
                None,
                "0 disables the protocol; absent: the system default (enabled; only TLS 1.2 and 1.3 are spoken)",
                match spoken {
                    true => enforced("the protocol versions of every credential of this role (engine/config.rs)"),
                    false => SettingRule::OnlyOff { what: unspoken_protocol(p) },
                },
            );
            add(
                format!("Protocols\\{p}\\{role}\\DisabledByDefault"),
                ANY,
                None,
                "non-zero: used only when a credential asks for it; absent: 0",
                match spoken {
                    true => enforced("the protocol versions a credential gets unless it names them (engine/config.rs)"),
                    false => SettingRule::OnlyOn { what: unspoken_protocol(p) },
                },
            );
        }
    }
    for c in CIPHER_KEYS {
        let spoken = SPOKEN_CIPHERS.contains(&c);
        add(
            format!("Ciphers\\{c}\\Enabled"),
            ANY,
            Some(if spoken { ENABLED_ALL } else { 0 }),
            match spoken {
                true => "0 disables the cipher; absent: enabled",
                false => "never negotiated here; absent: 0",
            },
            match spoken {
                true => enforced("policy.rs: the TLS 1.2 and TLS 1.3 suites with this cipher"),
                false => SettingRule::OnlyOff {
                    what: unspoken_cipher(c),
                },
            },
        );
    }
    for h in HASH_KEYS {
        let (default, note, rule) = match h {
            "SHA256" | "SHA384" => (
                ENABLED_ALL,
                "0 disables suites using this hash; absent: enabled",
                enforced("policy.rs: the suites whose PRF / HKDF hash it is"),
            ),
            "SHA512" => (
                ENABLED_ALL,
                "no suite here uses it; absent: enabled",
                SettingRule::OnlyOn {
                    what: "no cipher suite here uses SHA-512, so 0 would disable nothing (Hashes govern suites' hashes, not signature schemes)".into(),
                },
            ),
            _ => (
                0,
                "never negotiated here; absent: 0",
                SettingRule::OnlyOff {
                    what: format!(
                        "{} is recognised and never negotiated (every cipher suite here hashes with SHA-256 or SHA-384)",
                        if h == "SHA" { "SHA-1 (SHA)" } else { h }
                    ),
                },
            ),
        };
        add(
            format!("Hashes\\{h}\\Enabled"),
            ANY,
            Some(default),
            note,
            rule,
        );
    }
    for k in KEY_EXCHANGE_KEYS {
        let (default, note, rule) = match k {
            "ECDH" => (
                ENABLED_ALL,
                "0 disables the TLS 1.2 ECDHE suites; absent: enabled",
                enforced("policy.rs: the TLS 1.2 ECDHE suites (TLS 1.3 key exchange follows EccCurves)"),
            ),
            "PKCS" => (
                0,
                "RSA key exchange: never negotiated here; absent: 0",
                SettingRule::OnlyOff {
                    what: "RSA key exchange (PKCS) is recognised and never negotiated (rustls implements no TLS_RSA_* suite; RSA certificates are used with ECDHE)".into(),
                },
            ),
            _ => (
                0,
                "finite-field Diffie-Hellman: never negotiated here; absent: 0",
                SettingRule::OnlyOff {
                    what: "finite-field Diffie-Hellman is recognised and never negotiated (rustls implements no DHE suite)".into(),
                },
            ),
        };
        add(
            format!("KeyExchangeAlgorithms\\{k}\\Enabled"),
            ANY,
            Some(default),
            note,
            rule,
        );
    }
    const NO_DH: &str =
        "no Diffie-Hellman key exchange is ever negotiated here, so every DH key length limit holds";
    add(
        "KeyExchangeAlgorithms\\Diffie-Hellman\\ServerMinKeyBitLength".into(),
        bits,
        Some(2048),
        "smallest DH group a server uses (rustls offers no finite-field DH suites)",
        SettingRule::Holds { what: NO_DH },
    );
    add(
        "KeyExchangeAlgorithms\\Diffie-Hellman\\ClientMinKeyBitLength".into(),
        bits,
        Some(1024),
        "smallest DH group a client accepts (rustls offers no finite-field DH suites)",
        SettingRule::Holds { what: NO_DH },
    );
    add(
        "KeyExchangeAlgorithms\\Diffie-Hellman\\ClientMaxKeyBitLength".into(),
        bits,
        None,
        "largest DH group a client accepts; absent: no maximum",
        SettingRule::Holds { what: NO_DH },
    );
    add(
        "KeyExchangeAlgorithms\\PKCS\\ClientMinKeyBitLength".into(),
        bits,
        Some(1024),
        "smallest RSA key a client accepts in a server's certificate",
        enforced("verify/server_cert.rs: a client refuses a server certificate whose RSA key is shorter (36876, CERTSRV_E_WEAK_SIGNATURE_OR_KEY, certificate_unknown); below 2048 the engine's own minimum for RSA signatures (2048) is the bound"),
    );
    add(
        "ClientAuthTrustMode".into(),
        ValueKind::Dword { min: 0, max: 2 },
        Some(0),
        "0 Machine Trust, 1 Exclusive Root Trust, 2 Exclusive CA Trust",
        enforced("verify/client_cert.rs: the anchors a client certificate may chain to"),
    );
    add(
        "SendTrustedIssuerList".into(),
        ValueKind::Dword { min: 0, max: 1 },
        Some(0),
        "1: the CertificateRequest lists the accepted CAs",
        enforced(
            "verify/client_cert.rs: the CA names of the CertificateRequest (16 KiB, then 36885)",
        ),
    );
    add(
        "CertificateMappingMethods".into(),
        ValueKind::Dword { min: 0, max: 0x1f },
        Some(0x1f),
        "0x1 one-to-one, 0x2 many-to-one, 0x4 UPN, 0x8 S4U2Self, 0x10 S4U2Self explicit",
        SettingRule::Mask {
            at: "mapping.rs: which methods map a client certificate to an account on a server whose data directory has mappings.toml, in Windows' order: UPN (0x4), one-to-one (0x1), many-to-one (0x2); unmapped: 36878 / 36879. S4U2Self (0x8, 0x10) needs a Kerberos KDC and never runs here",
            enforced: 0x7,
            what: "S4U2Self mapping (0x8, 0x10) asks a Kerberos KDC for the account, and there is none here",
        },
    );
    add(
        "ClientCacheTime".into(),
        ANY,
        Some(36_000_000),
        "client session cache lifetime in ms (10 hours); 0 disables it",
        enforced("resumption.rs: a client resumes no session older than this (0: no resumption)"),
    );
    add(
        "ServerCacheTime".into(),
        ANY,
        Some(36_000_000),
        "server session cache lifetime in ms (10 hours); 0 disables it",
        enforced("resumption.rs: a server resumes no session older than this, by session ID or ticket; tickets last at most 6 h (the engine's ticket keys rotate every 6 h); 0: no resumption, no tickets"),
    );
    add(
        "MaximumCacheSize".into(),
        ANY,
        Some(20_000),
        "server session cache entries; 0 disables the server cache",
        enforced("resumption.rs: the server's session-ID cache entries (0: no cache; tickets still resume, for ServerCacheTime)"),
    );
    add(
        "IssuerCacheSize".into(),
        ANY,
        Some(0),
        "issuer cache entries (Windows: 100); here 0: there is no issuer cache",
        SettingRule::OnlyOff {
            what: "rustls-webpki builds certificate paths without an issuer cache; there is nothing to size".into(),
        },
    );
    add(
        "IssuerCacheTime".into(),
        ANY,
        Some(0),
        "issuer cache lifetime in ms (Windows: 10 minutes); here 0: there is no issuer cache",
        SettingRule::OnlyOff {
            what: "rustls-webpki builds certificate paths without an issuer cache; there is nothing to expire".into(),
        },
    );
    const MESSAGING: &str = "messaging.rs: the largest handshake message accepted while it travels in plaintext (hellos, the TLS 1.2 flights); a larger one fails the handshake with decode_error (36888); TLS 1.3's encrypted messages and any value above 65535 are bounded by the engine's own limit, 65535";
    add(
        "Messaging\\MessageLimitClient".into(),
        ANY,
        Some(0x8000),
        "largest handshake message a client accepts",
        enforced(MESSAGING),
    );
    add(
        "Messaging\\MessageLimitServer".into(),
        ANY,
        Some(0x4000),
        "largest handshake message a server accepts",
        enforced(MESSAGING),
    );
    add(
        "Messaging\\MessageLimitServerClientAuth".into(),
        ANY,
        Some(0x8000),
        "largest handshake message a server asking for a client certificate accepts",
        enforced(MESSAGING),
    );
    add(
        "EnableOcspStaplingForSni".into(),
        ValueKind::Dword { min: 0, max: 1 },
        Some(0),
        "1 staples OCSP responses for SNI bindings",
        enforced("staple.rs: 1 makes every server credential that does not choose (serve without --ocsp-staple) staple the OCSP response of its certificate's responder, fetched in the background and kept in ocsp/ until its nextUpdate; 0: no staple"),
    );
    const EVENT_LOG: &str =
        "the System log (events.db), when a command opens it: at the next start";
    add(
        "EventLog\\MaxSize".into(),
        ValueKind::Dword {
            min: 65_536,
            max: u32::MAX,
        },
        Some(20 * 1024 * 1024),
        "largest size of the event log in bytes",
        enforced(EVENT_LOG),
    );
    add(
        "EventLog\\FloodThreshold".into(),
        ANY,
        Some(10),
        "identical events past this many per window are folded into one; 0 never folds",
        enforced(EVENT_LOG),
    );
    add(
        "EventLog\\FloodWindowSeconds".into(),
        ValueKind::Dword {
            min: 1,
            max: 86_400,
        },
        Some(60),
        "the flood-control window in seconds",
        enforced(EVENT_LOG),
    );
    defs.push(SettingDef {
        name: FUNCTIONS.into(),
        kind: ValueKind::List,
        default: None,
        note: "comma-separated IANA cipher suite names, in order; suites not listed are disabled; absent: the built-in order",
        rule: enforced("policy.rs: the suites offered and their order (names this provider does not speak are warned about and never negotiated)"),
    });
    defs.push(SettingDef {
        name: ECC_CURVES.into(),
        kind: ValueKind::MultiString,
        default: None,
        note: "curve order: curve25519, NistP256, NistP384; absent: X25519MLKEM768 then the classical curves",
        rule: enforced("policy.rs: the key exchange groups offered and their order"),
    });
    // [Forward] (ours): what `serve` forwards the records it commits to. Each REG_SZ holds
    // one value (a comma makes two, which serve refuses at startup).
    const FORWARD: &str = "serve: forwards the records it commits in the background, at least once, from the same state file as `schannel events forward` to that target; invalid values refuse serve's start; at the next start";
    for (name, note) in [
        ("Forward\\Syslog", "the syslog collector serve forwards to: tcp://HOST:PORT or tls://HOST:PORT (RFC 5425)"),
        ("Forward\\Otlp", "the OTLP/HTTP logs endpoint serve forwards to: http://HOST:PORT/v1/logs or https://HOST:PORT/v1/logs"),
        ("Forward\\TlsCa", "for tls:// and https://: the CA file (PEM) the collector's certificate must chain to; relative to the data directory"),
        ("Forward\\TlsCert", "for tls:// and https://: our certificate (PEM) for a collector that requires one; relative to the data directory"),
        ("Forward\\TlsKey", "for tls:// and https://: the key (PEM) of TlsCert; relative to the data directory"),
    ] {
        defs.push(SettingDef {
            name: name.into(),
            kind: ValueKind::List,
            default: None,
            note,
            rule: enforced(FORWARD),
        });
    }
    defs.push(SettingDef {
        name: "Forward\\Format".into(),
        kind: ValueKind::Choice(&["text", "ecs"]),
        default: Some(SettingValue::Choice("text".into())),
        note:
            "what a syslog message's MSG carries: the rendered message, or the record as ECS JSON",
        rule: enforced(FORWARD),
    });
    defs.push(SettingDef {
        name: "Forward\\Batch".into(),
        kind: ValueKind::Dword {
            min: 1,
            max: 10_000,
        },
        default: Some(SettingValue::Dword(5000)),
        note: "records per batch (one connection or request, acknowledged as a whole)",
        rule: enforced(FORWARD),
    });
    defs.push(SettingDef {
        name: "EventLog\\Retention".into(),
        kind: ValueKind::Choice(&["overwrite", "archive"]),
        default: Some(SettingValue::Choice("overwrite".into())),
        note: "what happens when the log is full: overwrite the oldest, or archive it",
        rule: enforced(EVENT_LOG),
    });
    defs
}
