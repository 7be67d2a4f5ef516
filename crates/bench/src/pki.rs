//! The benchmark's PKI, generated with rcgen at start: a root CA and a server certificate
//! for `*.bench.test` under it, with the same key type for both (ECDSA P-256 or RSA-2048).
//! rcgen's default validity (1975 to 4096) keeps the run independent of the clock.

use crate::BoxError;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SignatureAlgorithm,
};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
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

pub fn generate(key_type: KeyType) -> Result<ServerPki, BoxError> {
    let alg = key_type.algorithm();

    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "securechannel bench root");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate_for(alg)?)?;

    let leaf_key = KeyPair::generate_for(alg)?;
    let mut leaf_params = CertificateParams::new(vec![format!("*.{DOMAIN}"), DOMAIN.to_owned()])?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, DOMAIN);
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &ca)?;

    let chain = vec![leaf.der().clone()];
    let key = PrivateKeyDer::try_from(leaf_key.serialize_der())?;
    let signing_key = rustls::crypto::aws_lc_rs::sign::any_supported_type(&key)?;
    let certified_key = Arc::new(CertifiedKey::new(chain.clone(), signing_key));

    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone())?;
    Ok(ServerPki {
        chain,
        key,
        certified_key,
        roots: Arc::new(roots),
    })
}
