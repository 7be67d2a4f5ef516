//! Client side: which certificate to send when the server asks for one.

use super::{
    record_client_certificate_offered, record_issuer_list, record_no_suitable_client_certificate,
};
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use std::sync::Arc;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Offers the credential's certificate when it suits the server's CertificateRequest:
/// its chain goes through one of the CAs the server named (or the server named none),
/// and its key can sign with one of the offered signature schemes. Otherwise, and always
/// when the credential holds no certificate at all, the client goes on anonymously and
/// the context logs 36875, as Schannel does ("no suitable client certificate could be
/// found").
#[derive(Debug)]
pub(super) struct ClientCertificateChoice {
    /// `None`: the credential has no certificate; every request is declined.
    key: Option<Arc<CertifiedKey>>,
    /// The DER Names of the CAs the chain goes through: every certificate's issuer and
    /// every CA certificate's subject, matched byte for byte against the server's list.
    chain_cas: Vec<Vec<u8>>,
}

impl ClientCertificateChoice {
    pub(super) fn new(key: Option<Arc<CertifiedKey>>) -> ClientCertificateChoice {
        let mut chain_cas = Vec::new();
        let chain = key.as_ref().map(|k| k.cert.as_slice()).unwrap_or_default();
        for (i, der) in chain.iter().enumerate() {
            // A chain certificate that does not parse cannot match a name; the server
            // will judge the chain itself.
            let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
                continue;
            };
            chain_cas.push(cert.issuer().as_raw().to_vec());
            if i > 0 {
                chain_cas.push(cert.subject().as_raw().to_vec());
            }
        }
        ClientCertificateChoice { key, chain_cas }
    }

    /// The credential's key when it suits the request.
    fn suitable(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<&Arc<CertifiedKey>> {
        let key = self.key.as_ref()?;
        let issuer_accepted = root_hint_subjects.is_empty()
            || root_hint_subjects
                .iter()
                .any(|hint| self.chain_cas.iter().any(|ca| ca.as_slice() == *hint));
        (issuer_accepted && key.key.choose_scheme(sigschemes).is_some()).then_some(key)
    }
}

impl ResolvesClientCert for ClientCertificateChoice {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // rustls calls this while processing the CertificateRequest, inside
        // process_tls_records on the caller's thread. A key returned here is sent:
        // `suitable` already checked that it can sign with one of `sigschemes`, the only
        // other condition rustls puts on it.
        record_issuer_list(root_hint_subjects);
        match self.suitable(root_hint_subjects, sigschemes) {
            Some(key) => {
                record_client_certificate_offered();
                Some(key.clone())
            }
            None => {
                record_no_suitable_client_certificate();
                None
            }
        }
    }

    fn has_certs(&self) -> bool {
        // rustls keeps the handshake transcript for a client CertificateVerify only when
        // this is true; without a certificate there will be none to sign.
        self.key.is_some()
    }
}
