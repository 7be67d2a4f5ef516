//! Credentials, as AcquireCredentialsHandle gives them. (Skeleton: the credentials work
//! fills in acquisition; the fields of `CredentialShared` are the contract with contexts.)

use crate::{Protocol, Role, Settings};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use securechannel_events::Emitter;
use std::sync::Arc;

/// What a caller may ask of a credential beyond the system settings (SCH_CREDENTIALS).
#[derive(Debug, Clone, Default)]
pub struct CredentialOptions {
    /// Narrow the enabled protocols to these (empty: the settings decide).
    pub protocols: Vec<Protocol>,
    /// Server: ask for a client certificate (`ASC_REQ_MUTUAL_AUTH`).
    pub request_client_certificate: bool,
    /// Server: refuse clients that send none.
    pub require_client_certificate: bool,
    /// Client: do not validate the server certificate here; the application will
    /// (`SCH_CRED_MANUAL_CRED_VALIDATION`). Dangerous; named as such in the builder.
    pub manual_validation: bool,
    /// Which certificates of the peer's path the CRLs are checked for
    /// (SCH_CRED_REVOCATION_CHECK_END_CERT / _CHAIN); default the whole chain.
    pub revocation_check: crate::RevocationCheck,
    /// Refuse a peer certificate whose revocation status is unknown (no CRL covers it);
    /// default false, i.e. SCH_CRED_IGNORE_NO_REVOCATION_CHECK.
    pub require_revocation_status: bool,
}

/// What client and server credentials share; the contract with security contexts.
pub(crate) struct CredentialShared {
    pub(crate) role: Role,
    pub(crate) emitter: Emitter,
    pub(crate) settings: Arc<Settings>,
    /// The certificate chain and signing key (absent: a client without a certificate, or a
    /// server relying on a system default that does not exist, see 36872/36886).
    pub(crate) certified_key: Option<Arc<rustls::sign::CertifiedKey>>,
    /// Trusted roots (stores/Root).
    pub(crate) roots: Arc<rustls::RootCertStore>,
    /// Intermediate certificates (stores/CA).
    pub(crate) intermediates: Vec<CertificateDer<'static>>,
    /// CRLs (crl/).
    pub(crate) crls: Vec<CertificateRevocationListDer<'static>>,
    pub(crate) options: CredentialOptions,
    /// Validate peer certificates at this time instead of the clock (tests, and
    /// diagnosing a certificate against a given date); `None`: now.
    pub(crate) validation_time: Option<rustls::pki_types::UnixTime>,
    /// `ClientAuthTrustMode` (server): which CAs client certificates may chain to.
    pub(crate) client_auth_trust_mode: crate::ClientAuthTrustMode,
    /// The client-auth trust list (stores/ClientAuth) for trust modes 1 and 2.
    pub(crate) client_auth_trust_list: Vec<CertificateDer<'static>>,
    /// `SendTrustedIssuerList` (server): name the trusted CAs in the CertificateRequest.
    pub(crate) send_trusted_issuer_list: bool,
    /// The rustls configurations built from this credential, reused by every context
    /// (owner: contexts work, see tls.rs).
    pub(crate) tls_configs: crate::tls::ConfigCache,
}

/// A client credential.
#[derive(Clone)]
pub struct ClientCredential {
    pub(crate) shared: Arc<CredentialShared>,
}

/// A server credential.
#[derive(Clone)]
pub struct ServerCredential {
    pub(crate) shared: Arc<CredentialShared>,
}

impl CredentialShared {
    /// The shared part of a credential, with no intermediates, CRLs or options. Credential
    /// acquisition and tests build on this; fields added later get defaults here.
    pub(crate) fn new(
        role: Role,
        emitter: Emitter,
        settings: Arc<Settings>,
        certified_key: Option<Arc<rustls::sign::CertifiedKey>>,
        roots: Arc<rustls::RootCertStore>,
    ) -> CredentialShared {
        CredentialShared {
            role,
            emitter,
            settings,
            certified_key,
            roots,
            intermediates: Vec::new(),
            crls: Vec::new(),
            options: CredentialOptions::default(),
            validation_time: None,
            client_auth_trust_mode: crate::ClientAuthTrustMode::default(),
            client_auth_trust_list: Vec::new(),
            // Windows 8 / Server 2012 and later send no list by default.
            send_trusted_issuer_list: false,
            tls_configs: crate::tls::ConfigCache::default(),
        }
    }
}
