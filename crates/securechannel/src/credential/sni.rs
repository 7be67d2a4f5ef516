//! A server credential's certificates, chosen per connection by the client's server name
//! (SNI), as IIS binds certificates to host names: a certificate whose subjectAltName DNS
//! names hold the name exactly wins, then one whose wildcard (`*.example.com`, one label)
//! covers it, then the default certificate (the credential's first, unless the credential
//! has none: SNI bindings only). A hello no certificate qualifies for, on a credential
//! without default, is refused (36886, access_denied).
//!
//! Each certificate is its own rustls `CertifiedKey` (its chain, its key, and whatever
//! else rustls sends with it, such as an OCSP response).

use rustls::sign::CertifiedKey;
use std::sync::Arc;

/// One certificate of a server credential, with what choosing it needs.
#[derive(Debug)]
pub(crate) struct ServerCertificate {
    /// What rustls presents.
    pub(crate) key: Arc<CertifiedKey>,
    /// Its subjectAltName DNS names, lower case.
    names: Vec<String>,
    /// Its subject (36880's LocalCertSubjectName).
    pub(crate) subject: String,
    /// Its OCSP staple, if it has one: then rustls presents the staple's key (the same
    /// certificate with the response, while one is valid).
    staple: Option<Arc<crate::staple::Staple>>,
}

impl ServerCertificate {
    /// What rustls presents for it: with its current OCSP response, if any.
    pub(crate) fn presented(&self) -> Arc<CertifiedKey> {
        match &self.staple {
            Some(s) => s.key(),
            None => self.key.clone(),
        }
    }
}

/// Which certificate a hello got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertificateChoice {
    /// The certificate at this index.
    Chosen(usize),
    /// None qualifies and there is no default.
    Declined,
}

/// A server credential's certificates.
#[derive(Debug, Default)]
pub(crate) struct ServerCertificates {
    list: Vec<ServerCertificate>,
    /// The first certificate answers hellos whose name no certificate holds.
    has_default: bool,
}

impl ServerCertificates {
    /// `keys` in order (the first is the default when `has_default`).
    pub(crate) fn new(keys: Vec<Arc<CertifiedKey>>, has_default: bool) -> ServerCertificates {
        let list = keys
            .into_iter()
            .map(|key| {
                let (names, subject) = key
                    .cert
                    .first()
                    .and_then(|c| x509_parser::parse_x509_certificate(c).ok())
                    .map(|(_, c)| {
                        let names = match c.subject_alternative_name() {
                            Ok(Some(san)) => san
                                .value
                                .general_names
                                .iter()
                                .filter_map(|n| match n {
                                    x509_parser::extensions::GeneralName::DNSName(d) => {
                                        Some(d.to_ascii_lowercase())
                                    }
                                    _ => None,
                                })
                                .collect(),
                            _ => Vec::new(),
                        };
                        (names, c.subject().to_string())
                    })
                    .unwrap_or_default();
                ServerCertificate {
                    key,
                    names,
                    subject,
                    staple: None,
                }
            })
            .collect();
        ServerCertificates { list, has_default }
    }

    /// The certificates' keys, in order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = Arc<CertifiedKey>> + '_ {
        self.list.iter().map(|c| c.key.clone())
    }

    /// Attach OCSP staples, in the certificates' order.
    pub(crate) fn set_staples(&mut self, staples: Vec<Option<Arc<crate::staple::Staple>>>) {
        for (c, s) in self.list.iter_mut().zip(staples) {
            c.staple = s;
        }
    }

    /// The certificate at `index`.
    pub(crate) fn get(&self, index: usize) -> Option<&ServerCertificate> {
        self.list.get(index)
    }

    /// The certificate for a hello naming `sni` (`None`: the client sent no name).
    pub(crate) fn choose(&self, sni: Option<&str>) -> CertificateChoice {
        if let Some(name) = sni.map(|n| n.trim_end_matches('.').to_ascii_lowercase()) {
            let exact = self.list.iter().position(|c| c.names.contains(&name));
            let wildcard = || {
                self.list
                    .iter()
                    .position(|c| c.names.iter().any(|n| wildcard_covers(n, &name)))
            };
            if let Some(i) = exact.or_else(wildcard) {
                return CertificateChoice::Chosen(i);
            }
        }
        match self.has_default && !self.list.is_empty() {
            true => CertificateChoice::Chosen(0),
            false => CertificateChoice::Declined,
        }
    }
}

/// `*.example.com` covers `a.example.com`, not `example.com` nor `a.b.example.com`.
fn wildcard_covers(pattern: &str, name: &str) -> bool {
    match (pattern.strip_prefix("*."), name.split_once('.')) {
        (Some(suffix), Some((label, rest))) => !label.is_empty() && rest == suffix,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_covers_one_label() {
        assert!(wildcard_covers("*.example.com", "a.example.com"));
        assert!(!wildcard_covers("*.example.com", "example.com"));
        assert!(!wildcard_covers("*.example.com", "a.b.example.com"));
        assert!(!wildcard_covers("a.example.com", "a.example.com"));
    }
}
