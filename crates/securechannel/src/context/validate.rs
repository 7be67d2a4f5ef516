//! Offline validation of a certificate chain through the verifier a credential's contexts
//! use (what `schannel cert verify` runs): the same checks, the same verdict table, the
//! same words; no handshake, no event.

use super::failure::Failure;
use crate::credential::CredentialShared;
use crate::verdict::{verdict, Facts};
use crate::{verify, Error, Role};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use securechannel_events::Status;

/// Validate `chain` (end entity first) as this credential validates its peers: a client
/// credential checks a server certificate for `name` (`None`: the certificate's own first
/// DNS name or IP address, so only the chain is judged); a server credential checks a
/// client certificate. The refusal is the error a context would return, with its
/// [`Error::chain_status`]; no event is logged.
pub(crate) fn validate(
    shared: &CredentialShared,
    chain: &[CertificateDer<'static>],
    name: Option<&str>,
) -> Result<(), Error> {
    let Some((end_entity, intermediates)) = chain.split_first() else {
        return Err(Error::new(
            Status::InvalidParameter,
            "there is no certificate to validate",
        ));
    };
    let checked = match name {
        Some(n) => n.to_owned(),
        None => first_name(end_entity).unwrap_or_else(|| "unnamed.invalid".to_owned()),
    };
    let now = UnixTime::now();
    let result = match shared.role {
        Role::Client => {
            let server_name = ServerName::try_from(checked.clone()).map_err(|_| {
                Error::new(
                    Status::InvalidParameter,
                    format!("`{checked}` is not a DNS name or an IP address"),
                )
            })?;
            verify::server_verifier(&shared.trust, false)?
                .verify_server_cert(end_entity, intermediates, &server_name, &[], now)
                .map(|_| ())
        }
        Role::Server => match verify::client_verifier(&shared.trust, true, true)? {
            Some(v) => v
                .verify_client_cert(end_entity, intermediates, now)
                .map(|_| ()),
            None => Ok(()),
        },
    };
    // The verifiers' hand-off is a context's; nothing takes it here.
    let _ = verify::take_rejected_certificate();
    let Err(err) = result else {
        return Ok(());
    };
    let v = verdict(
        &err,
        Facts {
            certificate_rejected: true,
            ..Facts::new(shared.role)
        },
    );
    let message = Failure {
        role: shared.role,
        checked_name: &checked,
        status: v.status,
        state: v.state,
        legacy: None,
        sslv2_framed: false,
        alert_sent: false,
    }
    .describe(&err);
    let mut e = Error::new(v.status, message)
        .with_state(v.state)
        .with_source(err);
    if let Some(c) = v.chain_status {
        e = e.with_chain_status(c);
    }
    Err(e)
}

/// The certificate's first DNS name or IP address (subjectAltName).
fn first_name(der: &CertificateDer<'_>) -> Option<String> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).ok()?;
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|n| match n {
        GeneralName::DNSName(d) => Some(d.to_string()),
        GeneralName::IPAddress(ip) => match ip.len() {
            4 => Some(std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*ip).ok()?).to_string()),
            16 => Some(std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*ip).ok()?).to_string()),
            _ => None,
        },
        _ => None,
    })
}
