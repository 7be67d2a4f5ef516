//! Settings → crypto: the one table of cipher suites and the one table of key-exchange
//! groups, and the aws-lc-rs crypto provider a credential gets from the SCHANNEL settings
//! (`Ciphers`, `Hashes`, `KeyExchangeAlgorithms`, `CipherSuiteOrder\Functions`,
//! `CipherSuiteOrder\EccCurves`).
//!
//! Each row says everything the provider knows about a suite or a group: its IANA number
//! and name, the rustls object, the settings that govern it, and how Schannel names it in
//! 36880 and the connection-info query. Nothing else in the crate lists suites or groups.

use crate::messaging::ENGINE_MESSAGE_LIMIT;
use crate::settings::{
    message_limit_name, SettingApplication, SettingValue, SettingsWarning, ECC_CURVES, FUNCTIONS,
    PROTOCOL_KEYS,
};
use crate::{Protocol, ProtocolState, Role, Settings};
use rustls::crypto::aws_lc_rs::{self, cipher_suite as cs, kx_group as kx};
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::SupportedCipherSuite;
use std::sync::{Arc, OnceLock};

/// The TLS record header: content type, version, length.
pub(crate) const RECORD_HEADER_LEN: usize = 5;
/// The largest plaintext one record carries (RFC 8446 section 5.1).
pub(crate) const MAX_FRAGMENT_LEN: usize = 16384;
/// The MAC of every suite as Schannel names it: every suite rustls speaks authenticates
/// its records with its AEAD; the hash in a suite's name is its PRF's.
pub(crate) const AEAD_MAC: &str = "AEAD";

/// One cipher suite rustls (aws-lc-rs) speaks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SuiteRow {
    /// IANA number (0x1302).
    pub(crate) number: u16,
    /// IANA name (`TLS_AES_256_GCM_SHA384`), as `Functions` lists it.
    pub(crate) name: &'static str,
    pub(crate) suite: SupportedCipherSuite,
    pub(crate) protocol: Protocol,
    /// The `Ciphers` key of its bulk cipher; ChaCha20-Poly1305 has none in Schannel's
    /// tree, so only `Functions` governs it.
    pub(crate) cipher_key: Option<&'static str>,
    /// The hash of its PRF / HKDF, which is also its `Hashes` key (`SHA384`).
    pub(crate) prf_hash: &'static str,
    /// The `KeyExchangeAlgorithms` key of its key exchange: TLS 1.2 suites name ECDHE;
    /// TLS 1.3 suites carry no key exchange of their own.
    pub(crate) key_exchange_key: Option<&'static str>,
    /// The bulk cipher as Schannel names it (`AES_256_GCM`).
    pub(crate) cipher: &'static str,
    /// The cipher's key length in bits.
    pub(crate) cipher_strength: u32,
    /// TLS 1.2 record overhead after the header: explicit nonce + tag (GCM), tag only
    /// (ChaCha20-Poly1305); 0 for TLS 1.3 suites (see [`record_trailer`]).
    pub(crate) trailer_tls12: usize,
}

/// The suites, in the default order (strongest AES first, as Windows orders them).
pub(crate) fn suites() -> &'static [SuiteRow] {
    static SUITES: OnceLock<[SuiteRow; 9]> = OnceLock::new();
    SUITES.get_or_init(|| {
        const GCM12: usize = 8 + 16;
        const CHACHA12: usize = 16;
        #[rustfmt::skip]
        let table = [
            SuiteRow { number: 0x1302, name: "TLS_AES_256_GCM_SHA384", suite: cs::TLS13_AES_256_GCM_SHA384, protocol: Protocol::Tls13, cipher_key: Some("AES 256/256"), prf_hash: "SHA384", key_exchange_key: None, cipher: "AES_256_GCM", cipher_strength: 256, trailer_tls12: 0 },
            SuiteRow { number: 0x1301, name: "TLS_AES_128_GCM_SHA256", suite: cs::TLS13_AES_128_GCM_SHA256, protocol: Protocol::Tls13, cipher_key: Some("AES 128/128"), prf_hash: "SHA256", key_exchange_key: None, cipher: "AES_128_GCM", cipher_strength: 128, trailer_tls12: 0 },
            SuiteRow { number: 0x1303, name: "TLS_CHACHA20_POLY1305_SHA256", suite: cs::TLS13_CHACHA20_POLY1305_SHA256, protocol: Protocol::Tls13, cipher_key: None, prf_hash: "SHA256", key_exchange_key: None, cipher: "CHACHA20_POLY1305", cipher_strength: 256, trailer_tls12: 0 },
            SuiteRow { number: 0xC02C, name: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", suite: cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, protocol: Protocol::Tls12, cipher_key: Some("AES 256/256"), prf_hash: "SHA384", key_exchange_key: Some("ECDH"), cipher: "AES_256_GCM", cipher_strength: 256, trailer_tls12: GCM12 },
            SuiteRow { number: 0xC02B, name: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", suite: cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, protocol: Protocol::Tls12, cipher_key: Some("AES 128/128"), prf_hash: "SHA256", key_exchange_key: Some("ECDH"), cipher: "AES_128_GCM", cipher_strength: 128, trailer_tls12: GCM12 },
            SuiteRow { number: 0xCCA9, name: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", suite: cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, protocol: Protocol::Tls12, cipher_key: None, prf_hash: "SHA256", key_exchange_key: Some("ECDH"), cipher: "CHACHA20_POLY1305", cipher_strength: 256, trailer_tls12: CHACHA12 },
            SuiteRow { number: 0xC030, name: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", suite: cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, protocol: Protocol::Tls12, cipher_key: Some("AES 256/256"), prf_hash: "SHA384", key_exchange_key: Some("ECDH"), cipher: "AES_256_GCM", cipher_strength: 256, trailer_tls12: GCM12 },
            SuiteRow { number: 0xC02F, name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", suite: cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, protocol: Protocol::Tls12, cipher_key: Some("AES 128/128"), prf_hash: "SHA256", key_exchange_key: Some("ECDH"), cipher: "AES_128_GCM", cipher_strength: 128, trailer_tls12: GCM12 },
            SuiteRow { number: 0xCCA8, name: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", suite: cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, protocol: Protocol::Tls12, cipher_key: None, prf_hash: "SHA256", key_exchange_key: Some("ECDH"), cipher: "CHACHA20_POLY1305", cipher_strength: 256, trailer_tls12: CHACHA12 },
        ];
        table
    })
}

/// The suite with this IANA number.
pub(crate) fn suite(number: u16) -> Option<&'static SuiteRow> {
    suites().iter().find(|s| s.number == number)
}

/// The record trailer (StreamSizes' cbTrailer) of a suite under a protocol: TLS 1.3 adds
/// the inner content type byte and the 16-byte tag; TLS 1.2 see [`SuiteRow::trailer_tls12`].
pub(crate) fn record_trailer(suite: &SuiteRow, protocol: Protocol) -> usize {
    match protocol {
        Protocol::Tls13 => 1 + 16,
        _ => suite.trailer_tls12,
    }
}

/// One key-exchange group aws-lc-rs offers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupRow {
    /// IANA number (0x001D).
    pub(crate) number: u16,
    /// The name `EccCurves` lists it by; `None`: not configurable there.
    /// `X25519MLKEM768` is our extension (Windows has no name for the hybrid group).
    pub(crate) curve_name: Option<&'static str>,
    /// The exchange as 36880 and the connection-info query name it (`ECDH_P256`).
    pub(crate) exchange: &'static str,
    /// Its strength in bits: the curve's key size; a hybrid reports its classical part
    /// (ML-KEM has no "bits" in Schannel's sense), ML-KEM alone its parameter set.
    pub(crate) strength: u32,
    pub(crate) group: &'static dyn SupportedKxGroup,
}

/// The groups. The default order (no `EccCurves`) puts the hybrid post-quantum group
/// first, then the classical ones, as browsers do; ML-KEM alone is never offered by
/// default.
pub(crate) fn groups() -> &'static [GroupRow] {
    static GROUPS: OnceLock<[GroupRow; 7]> = OnceLock::new();
    GROUPS.get_or_init(|| {
        #[rustfmt::skip]
        let table = [
            GroupRow { number: 0x11EC, curve_name: Some("X25519MLKEM768"), exchange: "X25519MLKEM768", strength: 255, group: kx::X25519MLKEM768 },
            GroupRow { number: 0x001D, curve_name: Some("curve25519"), exchange: "X25519", strength: 255, group: kx::X25519 },
            GroupRow { number: 0x0017, curve_name: Some("NistP256"), exchange: "ECDH_P256", strength: 256, group: kx::SECP256R1 },
            GroupRow { number: 0x0018, curve_name: Some("NistP384"), exchange: "ECDH_P384", strength: 384, group: kx::SECP384R1 },
            GroupRow { number: 0x11EB, curve_name: None, exchange: "ECDH_P256MLKEM768", strength: 256, group: kx::SECP256R1MLKEM768 },
            GroupRow { number: 0x0201, curve_name: None, exchange: "MLKEM768", strength: 768, group: kx::MLKEM768 },
            GroupRow { number: 0x0202, curve_name: None, exchange: "MLKEM1024", strength: 1024, group: kx::MLKEM1024 },
        ];
        table
    })
}

/// How many rows of [`groups`] are offered when `EccCurves` is not set.
const DEFAULT_GROUPS: usize = 4;

/// The group with this IANA number.
pub(crate) fn group(number: u16) -> Option<&'static GroupRow> {
    groups().iter().find(|g| g.number == number)
}

/// The group `EccCurves` names so (case-insensitive).
pub(crate) fn group_for_curve(name: &str) -> Option<&'static GroupRow> {
    groups().iter().find(|g| {
        g.curve_name
            .is_some_and(|n| n.eq_ignore_ascii_case(name.trim()))
    })
}

/// Whether a `Functions` entry names this suite. Windows 8.1-era lists append the curve
/// (`..._SHA384_P384`); the curve is governed by `EccCurves` here, so the suffix is ignored.
fn suite_name_matches(iana: &str, listed: &str) -> bool {
    let listed = listed.trim();
    let base = ["_P256", "_P384", "_P521"]
        .iter()
        .find_map(|s| {
            listed
                .len()
                .checked_sub(s.len())
                .filter(|&i| listed.is_char_boundary(i) && listed[i..].eq_ignore_ascii_case(s))
                .map(|i| &listed[..i])
        })
        .unwrap_or(listed);
    iana.eq_ignore_ascii_case(base)
}

impl Settings {
    /// The aws-lc-rs crypto provider for `role` with the settings' default protocols.
    /// See [`Settings::crypto_provider_for`].
    pub fn crypto_provider(&self, role: crate::Role) -> Arc<CryptoProvider> {
        self.crypto_provider_for(&self.enabled_protocols(role))
    }

    /// The aws-lc-rs crypto provider whose cipher suites are those of `protocols` allowed
    /// by `Ciphers`, `Hashes` and `KeyExchangeAlgorithms`, ordered by `Functions` (when it
    /// is set, suites it does not list are disabled, as on Windows), and whose key-exchange
    /// groups follow `EccCurves`. It may have no suites at all: the caller reports that
    /// (36873 on a client, 36874 on a server).
    pub fn crypto_provider_for(&self, protocols: &[Protocol]) -> Arc<CryptoProvider> {
        Arc::new(CryptoProvider {
            cipher_suites: self.allowed_suites(protocols),
            kx_groups: self.allowed_groups(),
            ..aws_lc_rs::default_provider()
        })
    }

    fn allowed_suites(&self, protocols: &[Protocol]) -> Vec<SupportedCipherSuite> {
        let allowed: Vec<&SuiteRow> = suites()
            .iter()
            .filter(|row| protocols.contains(&row.protocol))
            .filter(|row| row.cipher_key.is_none_or(|c| self.cipher_enabled(c)))
            .filter(|row| self.hash_enabled(row.prf_hash))
            .filter(|row| {
                row.key_exchange_key
                    .is_none_or(|k| self.key_exchange_enabled(k))
            })
            .collect();
        if self.cipher_suite_order.is_empty() {
            return allowed.iter().map(|r| r.suite).collect();
        }
        let mut ordered: Vec<SupportedCipherSuite> = Vec::new();
        for name in &self.cipher_suite_order {
            let Some(row) = allowed.iter().find(|r| suite_name_matches(r.name, name)) else {
                continue;
            };
            if !ordered.iter().any(|s| s.suite() == row.suite.suite()) {
                ordered.push(row.suite);
            }
        }
        ordered
    }

    fn allowed_groups(&self) -> Vec<&'static dyn SupportedKxGroup> {
        let curves = self.ecc_curves();
        if curves.is_empty() {
            return groups()[..DEFAULT_GROUPS].iter().map(|g| g.group).collect();
        }
        let mut chosen: Vec<&'static GroupRow> = Vec::new();
        for curve in &curves {
            if let Some(g) = group_for_curve(curve) {
                if !chosen.iter().any(|h| h.number == g.number) {
                    chosen.push(g);
                }
            }
        }
        chosen.iter().map(|g| g.group).collect()
    }

    /// Whether `protocols` leave something to negotiate: a cipher suite of one of them
    /// and a key exchange group (what rustls needs to build a configuration).
    pub fn is_usable(&self, protocols: &[Protocol]) -> bool {
        !self.allowed_suites(protocols).is_empty() && !self.allowed_groups().is_empty()
    }

    /// The effective policy: what the engine offers and accepts under these settings, per
    /// protocol and role, the suites and groups in order, and what the settings name that
    /// is never negotiated here. `schannel config show` prints it; it is computed from the
    /// same tables and filters the credentials use.
    pub fn effective_policy(&self) -> EffectivePolicy {
        let mut protocols = Vec::new();
        for key in PROTOCOL_KEYS {
            let spoken = Protocol::from_name(key).filter(|p| p.is_supported());
            for role in [Role::Client, Role::Server] {
                let base = format!("Protocols\\{key}\\{}", role.key_name());
                let configured = ["Enabled", "DisabledByDefault"]
                    .into_iter()
                    .filter_map(|v| {
                        let name = format!("{base}\\{v}");
                        if !self.is_configured(&name) {
                            return None;
                        }
                        let value = self.value(&name).ok().flatten()?.as_dword()?;
                        Some((name, value))
                    })
                    .collect();
                let state = match spoken {
                    Some(_) => match self.protocol_state(key, role) {
                        ProtocolState::Enabled => ProtocolUse::Enabled,
                        ProtocolState::DisabledByDefault => ProtocolUse::DisabledByDefault,
                        ProtocolState::Disabled => ProtocolUse::Disabled,
                    },
                    None => ProtocolUse::NeverNegotiated,
                };
                protocols.push(ProtocolPolicy {
                    key,
                    role,
                    state,
                    configured,
                });
            }
        }
        let groups: Vec<OfferedGroup> = self
            .allowed_groups()
            .iter()
            .filter_map(|g| group(u16::from(g.name())))
            .map(|g| OfferedGroup {
                name: g.curve_name.unwrap_or(g.exchange),
                number: g.number,
            })
            .collect();
        let role_policy = |role: Role| {
            let protocols = self.enabled_protocols(role);
            let suites: Vec<OfferedSuite> = self
                .allowed_suites(&protocols)
                .iter()
                .filter_map(|s| suite(u16::from(s.suite())))
                .map(|r| OfferedSuite {
                    name: r.name,
                    number: r.number,
                    protocol: r.protocol,
                })
                .collect();
            RolePolicy {
                role,
                usable: !suites.is_empty() && !groups.is_empty(),
                protocols,
                suites,
            }
        };
        let client = role_policy(Role::Client);
        let server = role_policy(Role::Server);
        let message_limits = [
            (Role::Client, false),
            (Role::Server, false),
            (Role::Server, true),
        ]
        .into_iter()
        .map(|(role, client_auth)| {
            let value = self.message_limit(role, client_auth);
            MessageLimitPolicy {
                setting: message_limit_name(role, client_auth),
                value,
                plaintext: value.min(ENGINE_MESSAGE_LIMIT),
                encrypted: ENGINE_MESSAGE_LIMIT,
            }
        })
        .collect();
        EffectivePolicy {
            protocols,
            client,
            server,
            groups,
            never_negotiated: self.never_negotiated(),
            message_limits,
        }
    }

    /// Every setting naming what this provider never does, grouped by the key it names
    /// (`Protocols\SSL 3.0`, `Ciphers\RC4 128/128`), and the suite and curve names of
    /// the order that it does not speak.
    fn never_negotiated(&self) -> Vec<NeverNegotiated> {
        let mut out: Vec<NeverNegotiated> = Vec::new();
        for def in Settings::definitions() {
            let value = match self.is_configured(def.name()) {
                true => self.value(def.name()).ok().flatten(),
                false => None,
            };
            let applied = def.application(value.as_ref());
            let reason = match applied {
                SettingApplication::Enforced(_) => continue,
                a => a.detail().to_string(),
            };
            let segments: Vec<&str> = def.segments().collect();
            let item = match segments[0] {
                "Protocols" | "Ciphers" | "Hashes" | "KeyExchangeAlgorithms" => {
                    segments[..2].join("\\")
                }
                _ => def.name().to_string(),
            };
            let configured = value.map(|v| (def.name().to_string(), v));
            match out
                .iter_mut()
                .find(|n| n.item == item && n.reason == reason)
            {
                Some(n) => n.configured.extend(configured),
                None => out.push(NeverNegotiated {
                    item,
                    reason,
                    configured: configured.into_iter().collect(),
                }),
            }
        }
        for name in &self.cipher_suite_order {
            if !suites().iter().any(|r| suite_name_matches(r.name, name)) {
                out.push(NeverNegotiated {
                    item: format!("{FUNCTIONS}: {name}"),
                    reason: "not a cipher suite this provider speaks (rustls' TLS 1.2 ECDHE AEAD and TLS 1.3 suites only); never negotiated".into(),
                    configured: vec![(FUNCTIONS.to_string(), SettingValue::List(vec![name.clone()]))],
                });
            }
        }
        for curve in self.ecc_curves() {
            if group_for_curve(&curve).is_none() {
                out.push(NeverNegotiated {
                    item: format!("{ECC_CURVES}: {curve}"),
                    reason: "not a curve this provider offers (curve25519, NistP256, NistP384, X25519MLKEM768); never negotiated".into(),
                    configured: vec![(ECC_CURVES.to_string(), SettingValue::List(vec![curve.clone()]))],
                });
            }
        }
        out
    }

    /// What the crypto configuration ignores: suite names in `Functions` and curve names in
    /// `EccCurves` that this provider does not know or does not support; and a policy that
    /// leaves a role nothing to negotiate.
    pub fn warnings(&self) -> Vec<SettingsWarning> {
        let mut out = Vec::new();
        for role in [Role::Client, Role::Server] {
            let protocols = self.enabled_protocols(role);
            if !self.is_usable(&protocols) {
                let consequence = match role {
                    Role::Client => "every client context fails with 36873 (SEC_E_ALGORITHM_MISMATCH)",
                    Role::Server => "a server credential is refused with 36871 (ErrorState 1012, SEC_E_ALGORITHM_MISMATCH)",
                };
                out.push(SettingsWarning {
                    name: "Protocols",
                    message: format!(
                        "the {role} is left no usable cipher suite (protocols {} x Ciphers x Hashes x KeyExchangeAlgorithms x CipherSuiteOrder leave nothing): {consequence}",
                        if protocols.is_empty() {
                            "(none enabled)".to_string()
                        } else {
                            protocols.iter().map(|p| p.name()).collect::<Vec<_>>().join(", ")
                        }
                    ),
                });
            }
        }
        for name in &self.cipher_suite_order {
            if !suites().iter().any(|r| suite_name_matches(r.name, name)) {
                out.push(SettingsWarning {
                    name: FUNCTIONS,
                    message: format!(
                        "cipher suite '{name}' is not supported by this provider; ignored"
                    ),
                });
            }
        }
        for curve in self.ecc_curves() {
            if group_for_curve(&curve).is_none() {
                out.push(SettingsWarning {
                    name: ECC_CURVES,
                    message: format!("curve '{curve}' is not supported by this provider; ignored"),
                });
            }
        }
        out
    }
}

/// The effective policy of a [`Settings`] ([`Settings::effective_policy`]).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EffectivePolicy {
    /// Every `Protocols` key the registry knows, for the client and the server.
    pub protocols: Vec<ProtocolPolicy>,
    /// What a client offers.
    pub client: RolePolicy,
    /// What a server accepts.
    pub server: RolePolicy,
    /// The key exchange groups offered, in order (the same for both roles).
    pub groups: Vec<OfferedGroup>,
    /// What the settings name that is never negotiated or not done here, with why.
    pub never_negotiated: Vec<NeverNegotiated>,
    /// `Messaging\MessageLimit*`, with the bounds that apply.
    pub message_limits: Vec<MessageLimitPolicy>,
}

/// One protocol for one role.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ProtocolPolicy {
    /// The registry key (`TLS 1.2`, `SSL 3.0`, `DTLS 1.2`, ...).
    pub key: &'static str,
    /// Client or server.
    pub role: Role,
    /// What it is here.
    pub state: ProtocolUse,
    /// The values the settings set for it (`Protocols\TLS 1.3\Server\Enabled`, 0); empty:
    /// the default applies.
    pub configured: Vec<(String, u32)>,
}

/// Whether a protocol is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolUse {
    /// Offered and accepted.
    Enabled,
    /// Used only by credentials that ask for it.
    DisabledByDefault,
    /// Never used (the settings disable it).
    Disabled,
    /// Recognised, never negotiated: this provider does not speak it.
    NeverNegotiated,
}

impl ProtocolUse {
    /// `enabled`, `disabled by default`, `disabled`, `recognised, never negotiated`.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolUse::Enabled => "enabled",
            ProtocolUse::DisabledByDefault => "disabled by default",
            ProtocolUse::Disabled => "disabled",
            ProtocolUse::NeverNegotiated => "recognised, never negotiated",
        }
    }
}

/// What one role negotiates by default (credentials may narrow the protocols).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RolePolicy {
    /// Client or server.
    pub role: Role,
    /// The protocols enabled by default, newest first.
    pub protocols: Vec<Protocol>,
    /// The cipher suites the engine offers (client) or accepts (server), in order.
    pub suites: Vec<OfferedSuite>,
    /// Something is left to negotiate (a suite and a group).
    pub usable: bool,
}

/// A cipher suite the engine offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OfferedSuite {
    /// IANA name.
    pub name: &'static str,
    /// IANA number.
    pub number: u16,
    /// Its protocol.
    pub protocol: Protocol,
}

/// A key exchange group the engine offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OfferedGroup {
    /// Its `EccCurves` name (`curve25519`, `NistP256`, ...), or the exchange's name.
    pub name: &'static str,
    /// IANA number.
    pub number: u16,
}

/// Something the settings name that this provider never negotiates or does not do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NeverNegotiated {
    /// What is named: a registry key (`Protocols\SSL 3.0`, `Ciphers\RC4 128/128`), a
    /// setting (`IssuerCacheSize`), or an entry of the suite or curve order.
    pub item: String,
    /// Why it is never negotiated, or why its values hold already.
    pub reason: String,
    /// The values the settings set under it (empty: none, the defaults apply).
    pub configured: Vec<(String, SettingValue)>,
}

/// One `Messaging` limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageLimitPolicy {
    /// `Messaging\MessageLimitClient`, ...
    pub setting: &'static str,
    /// Its value.
    pub value: u32,
    /// The bound on plaintext handshake messages (the setting, or the engine's 65535
    /// where the setting is larger).
    pub plaintext: u32,
    /// The bound on encrypted (TLS 1.3) handshake messages: always the engine's 65535.
    pub encrypted: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_table_covers_every_provider_suite_with_iana_names() {
        let all = aws_lc_rs::ALL_CIPHER_SUITES;
        assert_eq!(suites().len(), all.len());
        for s in all {
            let number = u16::from(s.suite());
            let row = suite(number).unwrap_or_else(|| panic!("{:?} missing", s.suite()));
            assert_eq!(row.suite.suite(), s.suite());
            // rustls names TLS 1.3 suites TLS13_*; IANA names them TLS_*.
            let rustls_name = s.suite().as_str().expect("known suite");
            assert_eq!(
                row.name,
                rustls_name.replace("TLS13_", "TLS_"),
                "{number:#06x}"
            );
            assert!(row.name.contains(row.cipher), "{}", row.name);
            assert!(row.name.ends_with(row.prf_hash), "{}", row.name);
            let bits = if row.cipher.starts_with("AES_128") {
                128
            } else {
                256
            };
            assert_eq!(row.cipher_strength, bits, "{}", row.name);
            let tls13 = s.version() == &rustls::version::TLS13;
            assert_eq!(row.protocol == Protocol::Tls13, tls13, "{}", row.name);
            assert_eq!(row.trailer_tls12 == 0, tls13, "{}", row.name);
            assert_eq!(row.key_exchange_key.is_none(), tls13, "{}", row.name);
        }
    }

    #[test]
    fn group_table_covers_every_provider_group() {
        assert_eq!(groups().len(), aws_lc_rs::ALL_KX_GROUPS.len());
        for g in aws_lc_rs::ALL_KX_GROUPS {
            let row = group(u16::from(g.name())).unwrap_or_else(|| panic!("{:?}", g.name()));
            assert_eq!(row.group.name(), g.name());
        }
        // The default offer is the hybrid first, then aws-lc-rs' own defaults.
        let defaults: Vec<_> = groups()[..DEFAULT_GROUPS]
            .iter()
            .map(|g| g.number)
            .collect();
        assert_eq!(defaults, [0x11EC, 0x001D, 0x0017, 0x0018]);
    }

    fn parse(text: &str) -> Settings {
        Settings::parse(text, None).expect("test settings parse")
    }

    #[test]
    fn the_default_policy_offers_every_suite_and_names_what_is_never_negotiated() {
        let p = Settings::default().effective_policy();
        for role in [&p.client, &p.server] {
            assert!(role.usable);
            assert_eq!(role.protocols, vec![Protocol::Tls13, Protocol::Tls12]);
            let numbers: Vec<u16> = role.suites.iter().map(|s| s.number).collect();
            let table: Vec<u16> = suites().iter().map(|s| s.number).collect();
            assert_eq!(numbers, table);
        }
        let groups: Vec<&str> = p.groups.iter().map(|g| g.name).collect();
        assert_eq!(
            groups,
            ["X25519MLKEM768", "curve25519", "NistP256", "NistP384"]
        );
        let state = |key: &str, role| {
            p.protocols
                .iter()
                .find(|x| x.key == key && x.role == role)
                .map(|x| x.state)
        };
        assert_eq!(state("TLS 1.3", Role::Server), Some(ProtocolUse::Enabled));
        assert_eq!(
            state("SSL 3.0", Role::Client),
            Some(ProtocolUse::NeverNegotiated)
        );
        assert_eq!(
            state("DTLS 1.2", Role::Server),
            Some(ProtocolUse::NeverNegotiated)
        );
        assert_eq!(p.protocols.len(), PROTOCOL_KEYS.len() * 2);
        let items: Vec<&str> = p.never_negotiated.iter().map(|n| n.item.as_str()).collect();
        for named in [
            "Protocols\\SSL 3.0",
            "Protocols\\TLS 1.0",
            "Protocols\\TLS 1.1",
            "Protocols\\DTLS 1.0",
            "Ciphers\\RC4 128/128",
            "Ciphers\\Triple DES 168",
            "Hashes\\MD5",
            "KeyExchangeAlgorithms\\PKCS",
            "KeyExchangeAlgorithms\\Diffie-Hellman",
            "IssuerCacheSize",
        ] {
            assert!(items.contains(&named), "{named} in {items:?}");
        }
        for spoken in [
            "EnableOcspStaplingForSni",
            "Protocols\\TLS 1.2",
            "Protocols\\TLS 1.3",
            "Ciphers\\AES 128/128",
        ] {
            assert!(!items.contains(&spoken), "{spoken}");
        }
        let server = &p.message_limits[1];
        assert_eq!(server.setting, "Messaging\\MessageLimitServer");
        assert_eq!(
            (server.value, server.plaintext, server.encrypted),
            (16384, 16384, 65535)
        );
    }

    #[test]
    fn a_configured_policy_is_what_the_engine_gets() {
        let s = parse(
            "[Protocols.\"TLS 1.3\".Server]\nEnabled = 0\n[CipherSuiteOrder]\nFunctions = \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_RC4_128_SHA,TLS_AES_256_GCM_SHA384\"\nEccCurves = [\"NistP256\", \"brainpoolP256\"]\n[Messaging]\nMessageLimitClient = 0x20000\n",
        );
        let p = s.effective_policy();
        let names = |r: &RolePolicy| r.suites.iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(
            names(&p.server),
            ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"]
        );
        assert_eq!(
            names(&p.client),
            [
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                "TLS_AES_256_GCM_SHA384"
            ]
        );
        // The same as the crypto provider a credential is built with.
        let provider = s.crypto_provider(Role::Server);
        let engine: Vec<u16> = provider
            .cipher_suites
            .iter()
            .map(|c| u16::from(c.suite()))
            .collect();
        assert_eq!(engine, vec![0xC02B]);
        assert_eq!(
            p.groups,
            vec![OfferedGroup {
                name: "NistP256",
                number: 0x0017
            }]
        );
        let tls13 = p
            .protocols
            .iter()
            .find(|x| x.key == "TLS 1.3" && x.role == Role::Server)
            .unwrap();
        assert_eq!(tls13.state, ProtocolUse::Disabled);
        assert_eq!(
            tls13.configured,
            vec![("Protocols\\TLS 1.3\\Server\\Enabled".to_string(), 0)]
        );
        let items: Vec<&str> = p.never_negotiated.iter().map(|n| n.item.as_str()).collect();
        assert!(items.contains(&"CipherSuiteOrder\\Functions: TLS_RSA_WITH_RC4_128_SHA"));
        assert!(items.contains(&"CipherSuiteOrder\\EccCurves: brainpoolP256"));
        let client = &p.message_limits[0];
        assert_eq!((client.value, client.plaintext), (0x20000, 65535));
    }

    #[test]
    fn a_policy_that_leaves_nothing_is_warned_about() {
        let s = parse(
            "[Protocols.\"TLS 1.3\".Server]\nEnabled = 0\n[CipherSuiteOrder]\nFunctions = \"TLS_AES_128_GCM_SHA256\"\n",
        );
        let p = s.effective_policy();
        assert!(p.client.usable);
        assert!(!p.server.usable && p.server.suites.is_empty());
        let warnings: Vec<String> = s.warnings().iter().map(|w| w.to_string()).collect();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("the server is left no usable cipher suite (protocols TLS 1.2 x")
                && warnings[0].contains("36871 (ErrorState 1012"),
            "{warnings:?}"
        );
        assert!(Settings::default().warnings().is_empty());
    }

    #[test]
    fn record_trailers_per_protocol() {
        let gcm12 = suite(0xC02F).unwrap();
        let chacha12 = suite(0xCCA8).unwrap();
        let aes13 = suite(0x1301).unwrap();
        assert_eq!(record_trailer(gcm12, Protocol::Tls12), 24);
        assert_eq!(record_trailer(chacha12, Protocol::Tls12), 16);
        assert_eq!(record_trailer(aes13, Protocol::Tls13), 17);
    }

    #[test]
    fn functions_entries_with_a_curve_suffix_name_the_suite() {
        assert!(suite_name_matches(
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384_P384"
        ));
        assert!(!suite_name_matches(
            "TLS_AES_256_GCM_SHA384",
            "TLS_AES_128_GCM_SHA256"
        ));
    }
}
