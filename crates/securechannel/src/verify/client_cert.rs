//! Server side: asking for client certificates, the trusted issuer list, and checking
//! what clients send.

use super::revocation::Revocation;
use super::{
    build_error, record_issuer_list_truncated, record_rejected_certificate, revocation_for,
    take_pending_alert_error, verification_provider, ClientAuthTrustMode, PathChecks,
    RejectedCertificate, Trust,
};
use crate::Error;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ParsedCertificate, WebPkiClientVerifier};
use rustls::{CertificateError, DistinguishedName, RootCertStore};
use std::sync::Arc;
use x509_parser::prelude::{FromDer, X509Certificate};

/// The distinguished names a server sends in its CertificateRequest
/// (`SendTrustedIssuerList`), cut at Windows' limit.
#[derive(Debug, Clone, Default)]
pub(crate) struct TrustedIssuerList {
    names: Vec<DistinguishedName>,
    truncated: bool,
}

impl TrustedIssuerList {
    /// Windows caps the list at 16 KiB of its TLS encoding (each name with its 2-byte
    /// length), well under the 65535 bytes TLS allows, and logs 36885 when it cuts.
    pub(crate) const LIMIT: usize = 16 * 1024;

    /// The names in order, up to the first that no longer fits.
    pub(crate) fn new(subjects: impl IntoIterator<Item = DistinguishedName>) -> TrustedIssuerList {
        let mut list = TrustedIssuerList::default();
        let mut size = 0;
        for name in subjects {
            let encoded = 2 + name.as_ref().len();
            if size + encoded > Self::LIMIT {
                list.truncated = true;
                break;
            }
            size += encoded;
            list.names.push(name);
        }
        list
    }

    pub(crate) fn names(&self) -> &[DistinguishedName] {
        &self.names
    }

    pub(crate) fn is_truncated(&self) -> bool {
        self.truncated
    }
}

/// Checks client certificates with webpki against the anchors `ClientAuthTrustMode`
/// selects, and leaves a [`RejectedCertificate`] (36877) for the context when it refuses.
#[derive(Debug)]
pub(super) struct ClientCertificateVerifier {
    /// `None` when the trust mode leaves no anchor: every client certificate then has an
    /// unknown issuer (rustls refuses to build a verifier without roots).
    webpki: Option<Revocation<dyn ClientCertVerifier>>,
    /// Refuse clients that send no certificate (request-only lets them through).
    mandatory: bool,
    issuers: TrustedIssuerList,
    /// Exclusive CA Trust: the subjects (DER Names) allowed to issue client certificates.
    issuing_cas: Option<Vec<DistinguishedName>>,
    /// What every verifier here adds around webpki.
    checks: PathChecks,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertificateVerifier {
    pub(super) fn new(trust: &Trust, mandatory: bool) -> Result<ClientCertificateVerifier, Error> {
        let provider = verification_provider();
        let algorithms = provider.signature_verification_algorithms;
        let anchors = match trust.client_auth_trust_mode {
            ClientAuthTrustMode::MachineTrust => trust.roots.clone(),
            ClientAuthTrustMode::ExclusiveRootTrust => Arc::new(anchors_from(
                trust
                    .client_auth_trust_list
                    .iter()
                    .filter(|c| is_self_issued(c)),
            )),
            ClientAuthTrustMode::ExclusiveCaTrust => {
                Arc::new(anchors_from(trust.client_auth_trust_list.iter()))
            }
        };
        let issuing_cas = (trust.client_auth_trust_mode == ClientAuthTrustMode::ExclusiveCaTrust)
            .then(|| anchors.subjects());
        let issuers = if trust.send_trusted_issuer_list {
            TrustedIssuerList::new(anchors.subjects())
        } else {
            TrustedIssuerList::default()
        };
        let webpki = if anchors.is_empty() {
            None
        } else {
            // The hints are ours (truncated, and empty unless SendTrustedIssuerList).
            let policy = trust.revocation_policy();
            let anchor_store = anchors.clone();
            Some(revocation_for(
                trust,
                &anchor_store,
                false,
                Box::new(move |crls, allow_unknown| {
                    let mut builder = with_revocation!(
                        WebPkiClientVerifier::builder_with_provider(
                            anchors.clone(),
                            provider.clone()
                        )
                        .clear_root_hint_subjects(),
                        crls,
                        policy,
                        allow_unknown
                    );
                    if !mandatory {
                        builder = builder.allow_unauthenticated();
                    }
                    builder
                        .build()
                        .map_err(|e| build_error("client certificate", e))
                }),
            )?)
        };
        Ok(ClientCertificateVerifier {
            webpki,
            mandatory,
            issuers,
            issuing_cas,
            checks: PathChecks::new(trust),
            algorithms,
        })
    }

    fn verify_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            ParsedCertificate::try_from(end_entity)?;
            return Err(CertificateError::UnknownIssuer.into());
        };
        let chain = self.checks.chain(intermediates);
        let verified = webpki.verify(end_entity, intermediates, &chain, now, None, |v| {
            v.verify_client_cert(end_entity, &chain, now)
        })?;
        self.checks
            .windows_path_checks(end_entity, intermediates, now)?;
        if let Some(cas) = &self.issuing_cas {
            // The path ended at a listed certificate; Exclusive CA Trust also wants the
            // certificate's own issuer listed, not just some CA above it.
            let issuer = issuer_name(end_entity).ok_or(CertificateError::BadEncoding)?;
            if !cas.iter().any(|ca| ca.as_ref() == issuer.as_slice()) {
                return Err(CertificateError::UnknownIssuer.into());
            }
        }
        Ok(verified)
    }
}

impl ClientCertVerifier for ClientCertificateVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        // rustls asks for the list when it writes the CertificateRequest, inside
        // process_tls_records on the caller's thread: the moment to raise 36885.
        if self.issuers.is_truncated() {
            record_issuer_list_truncated();
        }
        self.issuers.names()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        if let Some(e) = take_pending_alert_error() {
            return Err(e);
        }
        let now = self.checks.now(now);
        let result = self.verify_chain(end_entity, intermediates, now);
        if result.is_err() {
            record_rejected_certificate(RejectedCertificate {
                certificate: Arc::from(end_entity.as_ref()),
                checked_name: None,
            });
        }
        result
    }

    handshake_signatures!();
}

/// Trust anchors from certificates; one that does not parse is left out (store loading,
/// the credential work, reports unreadable certificates).
fn anchors_from<'a>(certs: impl Iterator<Item = &'a CertificateDer<'static>>) -> RootCertStore {
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs.cloned());
    store
}

/// Whether the certificate names itself as its issuer (a root).
fn is_self_issued(cert: &CertificateDer<'_>) -> bool {
    match X509Certificate::from_der(cert.as_ref()) {
        Ok((_, c)) => c.subject().as_raw() == c.issuer().as_raw(),
        Err(_) => false,
    }
}

/// The DER `Name` of the certificate's issuer.
pub(super) fn issuer_name(cert: &CertificateDer<'_>) -> Option<Vec<u8>> {
    X509Certificate::from_der(cert.as_ref())
        .ok()
        .map(|(_, c)| c.issuer().as_raw().to_vec())
}
