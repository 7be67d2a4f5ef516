//! Client side: which certificate to send when the server asks for one.

use super::record_no_suitable_client_certificate;
use rustls::client::ResolvesClientCert;
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;
use std::sync::Arc;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Offers the credential's certificate when it suits the server's CertificateRequest:
/// its chain goes through one of the CAs the server named (or the server named none),
/// and its key can sign with one of the offered signature schemes. Otherwise the client
/// goes on anonymously and the context logs 36875, as Schannel does.
#[derive(Debug)]
pub(super) struct ClientCertificateChoice {
    key: Arc<CertifiedKey>,
    /// The DER Names of the CAs the chain goes through: every certificate's issuer and
    /// every CA certificate's subject, matched byte for byte against the server's list.
    chain_cas: Vec<Vec<u8>>,
}

impl ClientCertificateChoice {
    pub(super) fn new(key: Arc<CertifiedKey>) -> ClientCertificateChoice {
        let mut chain_cas = Vec::new();
        for (i, der) in key.cert.iter().enumerate() {
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

    fn suits(&self, root_hint_subjects: &[&[u8]], sigschemes: &[SignatureScheme]) -> bool {
        let issuer_accepted = root_hint_subjects.is_empty()
            || root_hint_subjects
                .iter()
                .any(|hint| self.chain_cas.iter().any(|ca| ca.as_slice() == *hint));
        issuer_accepted && self.key.key.choose_scheme(sigschemes).is_some()
    }
}

impl ResolvesClientCert for ClientCertificateChoice {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        // rustls calls this while processing the CertificateRequest, inside
        // process_tls_records on the caller's thread.
        if self.suits(root_hint_subjects, sigschemes) {
            Some(self.key.clone())
        } else {
            record_no_suitable_client_certificate();
            None
        }
    }

    fn has_certs(&self) -> bool {
        true
    }
}
