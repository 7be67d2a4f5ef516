//! The benchmark's PKI, securechannel-testpki's made at start: a root CA and a server
//! certificate for `*.bench.test` under it, with the same key type for both (ECDSA P-256 or
//! RSA-2048). Its validity (2020 to 4096) keeps the run independent of the clock.

use rcgen::{BasicConstraints, ExtendedKeyUsagePurpose, SignatureAlgorithm};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use securechannel_testpki::{ca_params, key_pair, leaf_params, Ca};
use std::sync::Arc;

/// The server certificate's key type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    EcdsaP256,
    Rsa2048,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "ECDSA P-256",
            KeyType::Rsa2048 => "RSA-2048",
        }
    }

    fn algorithm(self) -> &'static SignatureAlgorithm {
        match self {
            KeyType::EcdsaP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            // rcgen generates RSA keys of 2048 bits with aws-lc-rs.
            KeyType::Rsa2048 => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

/// A server identity and the roots a client needs to trust it.
pub struct ServerPki {
    /// The chain the server sends: the end-entity certificate only (the root is the
    /// client's trust anchor).
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub certified_key: Arc<CertifiedKey>,
    pub roots: Arc<RootCertStore>,
}

/// Every name under this domain matches the server certificate (`*.bench.test`).
pub const DOMAIN: &str = "bench.test";

pub fn generate(key_type: KeyType) -> ServerPki {
    let alg = key_type.algorithm();
    let ca = Ca::root_with_key(
        ca_params("securechannel bench root", BasicConstraints::Unconstrained),
        key_pair(alg),
    );
    let wildcard = format!("*.{DOMAIN}");
    let leaf = ca.issue_with_key(
        &leaf_params(
            DOMAIN,
            &[&wildcard, DOMAIN],
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        key_pair(alg),
    );
    ServerPki {
        key: leaf.private_key(),
        certified_key: leaf.certified_key(),
        chain: leaf.chain,
        roots: ca.roots(),
    }
}
