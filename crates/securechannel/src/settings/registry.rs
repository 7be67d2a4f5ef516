//! The registry's definitions: every key and value of the SCHANNEL tree this provider
//! reads, with Windows' defaults (registry.md).

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

/// The table of every setting, with Windows' defaults (registry.md).
pub(super) fn build_definitions() -> Vec<SettingDef> {
    const ANY: ValueKind = ValueKind::Dword {
        min: 0,
        max: u32::MAX,
    };
    let bits = ValueKind::Dword { min: 0, max: 16384 };
    let mut defs = Vec::new();
    let mut add = |name: String, kind, default: Option<u32>, note| {
        defs.push(SettingDef {
            name,
            kind,
            default: default.map(SettingValue::Dword),
            note,
        })
    };
    add(
        EVENT_LOGGING.into(),
        ValueKind::Dword { min: 0, max: 7 },
        Some(1),
        "0x1 errors, 0x2 warnings, 0x4 informational; 0 nothing, 7 everything",
    );
    for p in PROTOCOL_KEYS {
        for role in ["Client", "Server"] {
            add(
                format!("Protocols\\{p}\\{role}\\Enabled"),
                ANY,
                None,
                "0 disables the protocol; absent: the system default (enabled; only TLS 1.2 and 1.3 are spoken)",
            );
            add(
                format!("Protocols\\{p}\\{role}\\DisabledByDefault"),
                ANY,
                None,
                "non-zero: used only when a credential asks for it; absent: 0",
            );
        }
    }
    for c in CIPHER_KEYS {
        add(
            format!("Ciphers\\{c}\\Enabled"),
            ANY,
            Some(ENABLED_ALL),
            "0 disables the cipher; absent: enabled",
        );
    }
    for h in HASH_KEYS {
        add(
            format!("Hashes\\{h}\\Enabled"),
            ANY,
            Some(ENABLED_ALL),
            "0 disables suites using this hash; absent: enabled",
        );
    }
    for k in KEY_EXCHANGE_KEYS {
        add(
            format!("KeyExchangeAlgorithms\\{k}\\Enabled"),
            ANY,
            Some(ENABLED_ALL),
            "0 disables the key exchange; absent: enabled",
        );
    }
    add(
        "KeyExchangeAlgorithms\\Diffie-Hellman\\ServerMinKeyBitLength".into(),
        bits,
        Some(2048),
        "smallest DH group a server uses (rustls offers no finite-field DH suites)",
    );
    add(
        "KeyExchangeAlgorithms\\Diffie-Hellman\\ClientMinKeyBitLength".into(),
        bits,
        Some(1024),
        "smallest DH group a client accepts (rustls offers no finite-field DH suites)",
    );
    add(
        "KeyExchangeAlgorithms\\Diffie-Hellman\\ClientMaxKeyBitLength".into(),
        bits,
        None,
        "largest DH group a client accepts; absent: no maximum",
    );
    add(
        "KeyExchangeAlgorithms\\PKCS\\ClientMinKeyBitLength".into(),
        bits,
        Some(1024),
        "smallest RSA key-exchange key a client accepts (rustls offers no RSA key exchange)",
    );
    add(
        "ClientAuthTrustMode".into(),
        ValueKind::Dword { min: 0, max: 2 },
        Some(0),
        "0 Machine Trust, 1 Exclusive Root Trust, 2 Exclusive CA Trust",
    );
    add(
        "SendTrustedIssuerList".into(),
        ValueKind::Dword { min: 0, max: 1 },
        Some(0),
        "1: the CertificateRequest lists the accepted CAs",
    );
    add(
        "CertificateMappingMethods".into(),
        ValueKind::Dword { min: 0, max: 0x1f },
        Some(0x1f),
        "0x1 one-to-one, 0x2 many-to-one, 0x4 UPN, 0x8 S4U2Self, 0x10 S4U2Self explicit",
    );
    add(
        "ClientCacheTime".into(),
        ANY,
        Some(36_000_000),
        "client session cache lifetime in ms (10 hours); 0 disables it",
    );
    add(
        "ServerCacheTime".into(),
        ANY,
        Some(36_000_000),
        "server session cache lifetime in ms (10 hours); 0 disables it",
    );
    add(
        "MaximumCacheSize".into(),
        ANY,
        Some(20_000),
        "server session cache entries; 0 disables the server cache",
    );
    add(
        "IssuerCacheSize".into(),
        ANY,
        Some(100),
        "issuer cache entries",
    );
    add(
        "IssuerCacheTime".into(),
        ANY,
        Some(600_000),
        "issuer cache lifetime in ms (10 minutes)",
    );
    add(
        "Messaging\\MessageLimitClient".into(),
        ANY,
        Some(0x8000),
        "largest handshake message a client accepts",
    );
    add(
        "Messaging\\MessageLimitServer".into(),
        ANY,
        Some(0x4000),
        "largest handshake message a server accepts",
    );
    add(
        "Messaging\\MessageLimitServerClientAuth".into(),
        ANY,
        Some(0x8000),
        "largest handshake message a server asking for a client certificate accepts",
    );
    add(
        "EnableOcspStaplingForSni".into(),
        ValueKind::Dword { min: 0, max: 1 },
        Some(0),
        "1 staples OCSP responses for SNI bindings",
    );
    add(
        "EventLog\\MaxSize".into(),
        ValueKind::Dword {
            min: 65_536,
            max: u32::MAX,
        },
        Some(20 * 1024 * 1024),
        "largest size of the event log in bytes",
    );
    add(
        "EventLog\\FloodThreshold".into(),
        ANY,
        Some(10),
        "identical events past this many per window are folded into one; 0 never folds",
    );
    add(
        "EventLog\\FloodWindowSeconds".into(),
        ValueKind::Dword {
            min: 1,
            max: 86_400,
        },
        Some(60),
        "the flood-control window in seconds",
    );
    defs.push(SettingDef {
        name: FUNCTIONS.into(),
        kind: ValueKind::List,
        default: None,
        note: "comma-separated IANA cipher suite names, in order; suites not listed are disabled; absent: the built-in order",
    });
    defs.push(SettingDef {
        name: ECC_CURVES.into(),
        kind: ValueKind::MultiString,
        default: None,
        note: "curve order: curve25519, NistP256, NistP384; absent: X25519MLKEM768 then the classical curves",
    });
    defs.push(SettingDef {
        name: "EventLog\\Retention".into(),
        kind: ValueKind::Choice(&["overwrite", "archive"]),
        default: Some(SettingValue::Choice("overwrite".into())),
        note: "what happens when the log is full: overwrite the oldest, or archive it",
    });
    defs
}
