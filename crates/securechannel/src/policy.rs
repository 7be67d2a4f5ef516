//! Settings → crypto: the one table of cipher suites and the one table of key-exchange
//! groups, and the aws-lc-rs crypto provider a credential gets from the SCHANNEL settings
//! (`Ciphers`, `Hashes`, `KeyExchangeAlgorithms`, `CipherSuiteOrder\Functions`,
//! `CipherSuiteOrder\EccCurves`).
//!
//! Each row says everything the provider knows about a suite or a group: its IANA number
//! and name, the rustls object, the settings that govern it, and how Schannel names it in
//! 36880 and the connection-info query. Nothing else in the crate lists suites or groups.

use crate::settings::{SettingsWarning, ECC_CURVES, FUNCTIONS};
use crate::{Protocol, Settings};
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

    /// What the crypto configuration ignores: suite names in `Functions` and curve names in
    /// `EccCurves` that this provider does not know or does not support.
    pub fn warnings(&self) -> Vec<SettingsWarning> {
        let mut out = Vec::new();
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
