//! Client side: the server's certificate.

use super::ocsp::{self, OcspStatus, StapleCheck};
use super::revocation::{Revocation, Stapled};
use super::{
    build_error, check_rsa_key_length, record_rejected_certificate, record_staple_check,
    revocation_for, take_pending_alert_error, verification_provider, PathChecks,
    RejectedCertificate, Trust,
};
use crate::Error;
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::CertificateError;
use std::sync::Arc;

/// Checks the server's chain with webpki against the credential's roots, intermediates
/// and CRLs (those of `crl/` and of the certificates' distribution points), and leaves a [`RejectedCertificate`] for the context when it refuses.
#[derive(Debug)]
pub(super) struct ServerCertificateVerifier {
    /// `None` when the credential trusts no root: every chain then ends at an unknown
    /// issuer (36882), as on Windows with an empty Root store. rustls refuses to build a
    /// verifier without roots, and failing the context creation instead would hide the
    /// reason from the event log.
    webpki: Option<Revocation<WebPkiServerVerifier>>,
    /// What every verifier here adds around webpki.
    checks: PathChecks,
    /// `KeyExchangeAlgorithms\PKCS\ClientMinKeyBitLength`.
    min_rsa_bits: u32,
    /// stores/CA and the trusted roots: where a stapled response's issuer may be found
    /// when the server did not send it.
    issuers: Vec<CertificateDer<'static>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertificateVerifier {
    pub(super) fn new(trust: &Trust) -> Result<ServerCertificateVerifier, Error> {
        let provider = verification_provider();
        let algorithms = provider.signature_verification_algorithms;
        let webpki = if trust.roots.is_empty() {
            None
        } else {
            let (roots, policy) = (trust.roots.clone(), trust.revocation_policy());
            Some(revocation_for(
                trust,
                &trust.roots,
                true,
                Box::new(move |crls, allow_unknown| {
                    with_revocation!(
                        WebPkiServerVerifier::builder_with_provider(
                            roots.clone(),
                            provider.clone()
                        ),
                        crls,
                        policy,
                        allow_unknown
                    )
                    .build()
                    .map_err(|e| build_error("server certificate", e))
                }),
            )?)
        };
        Ok(ServerCertificateVerifier {
            webpki,
            checks: PathChecks::new(trust),
            min_rsa_bits: trust.min_server_rsa_bits,
            issuers: trust
                .intermediates
                .iter()
                .chain(&trust.root_certificates)
                .cloned()
                .collect(),
            algorithms,
        })
    }

    /// The stapled OCSP response checked against the certificate's issuer (sent by the
    /// server, or in stores/CA or stores/Root).
    fn check_staple(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        response: &[u8],
        now: UnixTime,
    ) -> StapleCheck {
        let Some(wanted) = super::client_cert::issuer_name(end_entity) else {
            return StapleCheck::Invalid("the certificate does not parse".into());
        };
        let mut why = "the certificate's issuer is not at hand to check it with".to_string();
        let candidates = intermediates
            .iter()
            .map(|c| c.as_ref())
            .chain(self.issuers.iter().map(|c| c.as_ref()));
        for issuer in candidates {
            let subject = x509_parser::parse_x509_certificate(issuer)
                .map(|(_, c)| c.subject().as_raw().to_vec())
                .unwrap_or_default();
            if subject != wanted {
                continue;
            }
            match ocsp::check(response, end_entity, issuer, now) {
                Ok(info) => return StapleCheck::Valid(info),
                Err(e) => why = e.0,
            }
        }
        StapleCheck::Invalid(why)
    }

    fn verify_chain(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            ParsedCertificate::try_from(end_entity)?;
            return Err(CertificateError::UnknownIssuer.into());
        };
        // The staple is judged here, not by webpki (which ignores it); an invalid one is
        // treated as absent.
        let stapled = if ocsp_response.is_empty() {
            None
        } else {
            let check = self.check_staple(end_entity, intermediates, ocsp_response, now);
            let stapled = match &check {
                StapleCheck::Valid(info) => match info.status {
                    OcspStatus::Good => Some(Stapled::Good),
                    OcspStatus::Revoked { .. } => Some(Stapled::Revoked),
                    OcspStatus::Unknown => None,
                },
                StapleCheck::Invalid(_) => None,
            };
            record_staple_check(check);
            stapled
        };
        let chain = self.checks.chain(intermediates);
        let verified = webpki.verify(end_entity, intermediates, &chain, now, stapled, |v| {
            v.verify_server_cert(end_entity, &chain, server_name, ocsp_response, now)
        })?;
        self.checks
            .windows_path_checks(end_entity, intermediates, now)?;
        // After the chain: a certificate that is bad anyway is reported for that.
        check_rsa_key_length(end_entity, self.min_rsa_bits)?;
        Ok(verified)
    }
}

impl ServerCertVerifier for ServerCertificateVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(e) = take_pending_alert_error() {
            return Err(e);
        }
        let now = self.checks.now(now);
        let result = self.verify_chain(end_entity, intermediates, server_name, ocsp_response, now);
        if result.is_err() {
            record_rejected_certificate(RejectedCertificate {
                certificate: Arc::from(end_entity.as_ref()),
                checked_name: Some(server_name.to_str().into_owned()),
            });
        }
        result
    }

    handshake_signatures!();
}

/// SCH_CRED_MANUAL_CRED_VALIDATION: the application validates the server's chain itself
/// after the handshake (from the peer certificates), so this accepts any chain. It still
/// checks the handshake signatures, which prove the server holds the certificate's key,
/// and the key's length, which is the key exchange's policy, not the chain's.
#[derive(Debug)]
pub(super) struct ManualValidation {
    min_rsa_bits: u32,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ManualValidation {
    /// Dangerous: no chain, name, expiry or revocation check at all.
    pub(super) fn dangerous_accept_any_chain(min_rsa_bits: u32) -> ManualValidation {
        ManualValidation {
            min_rsa_bits,
            algorithms: verification_provider().signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for ManualValidation {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The application may still refuse with an alert token during the handshake.
        if let Some(e) = take_pending_alert_error() {
            return Err(e);
        }
        if let Err(e) = check_rsa_key_length(end_entity, self.min_rsa_bits) {
            record_rejected_certificate(RejectedCertificate {
                certificate: Arc::from(end_entity.as_ref()),
                checked_name: Some(server_name.to_str().into_owned()),
            });
            return Err(e);
        }
        Ok(ServerCertVerified::assertion())
    }

    handshake_signatures!();
}
