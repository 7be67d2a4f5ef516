//! Certificate validation: rustls-webpki verifiers (through rustls' `WebPkiServerVerifier`
//! and `WebPkiClientVerifier`) built from a credential, the one table that turns their
//! verdicts into SSPI statuses and Schannel events ([`verdict`]), and the client's choice
//! of its certificate.
//!
//! - Client side: [`server_verifier`] checks the server's certificate (events 36876,
//!   36881-36884); [`client_cert_resolver`] picks the client certificate when the server
//!   asks for one (36875 when none suits, or the credential has none).
//! - Server side: [`client_verifier`] asks for and checks client certificates (36877) and
//!   sends the trusted issuer list (36885 when truncated).
//!
//! The verifiers do not log. rustls calls them synchronously inside the context's
//! `process_tls_records`, on the caller's thread, so they leave what happened in
//! thread-local hand-offs that the context takes right after that call ([`take_failure`],
//! [`take_no_suitable_client_certificate`], [`take_client_certificate_offered`],
//! [`take_issuer_list_truncated`]) and logs with
//! its activity ID. In the other direction the context sets [`set_pending_alert`] before
//! the call when the application asked for an alert (SCHANNEL_ALERT_TOKEN).

// Until the contexts work (tls.rs / context.rs) calls this module, only the tests do;
// remove this when it lands so that dead code shows again.

mod choice;
mod client_cert;
mod server_cert;
mod verdict;

#[cfg(test)]
mod tests;

use crate::credential::CredentialShared;
use crate::Error;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::ResolvesClientCert;
use rustls::server::danger::ClientCertVerifier;
use securechannel_events::{ActivityId, AlertDescription, Emitter, EventId, Status};
use std::cell::{Cell, RefCell};
use std::sync::Arc;

pub(crate) use verdict::{error_for_alert, verdict};

/// Which certificates of a path a CRL check covers (SCH_CRED_REVOCATION_CHECK_END_CERT /
/// SCH_CRED_REVOCATION_CHECK_CHAIN). CRLs come from the credential's `crl/` directory;
/// without CRLs nothing is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevocationCheck {
    /// Every certificate of the path below the root (the default when CRLs are present).
    #[default]
    WholeChain,
    /// Only the peer's end-entity certificate.
    EndEntityOnly,
}

pub use crate::settings::ClientAuthTrustMode;

/// Why a peer certificate was refused, as the context reports and logs it.
#[derive(Debug, Clone)]
pub(crate) struct ValidationFailure {
    /// The status the context call returns (e.g. SEC_E_UNTRUSTED_ROOT).
    pub(crate) status: Status,
    /// The event to log: 36876/36881-36884 on a client, 36877 on a server.
    pub(crate) event: EventId,
    /// The peer's end-entity certificate (DER), attached to the event.
    pub(crate) certificate: Option<Arc<[u8]>>,
    /// The server name the client expected (36884's `Name`); `None` on a server.
    pub(crate) expected_name: Option<String>,
}

impl ValidationFailure {
    /// Log the failure as its event, with the data fields in catalog order (36876 and
    /// 36877: ErrorCode; 36884: Name) and the certificate as binary data.
    pub(crate) fn log(&self, emitter: &Emitter, activity: Option<ActivityId>) {
        let mut record = emitter
            .event(self.event)
            .activity(activity)
            .binary(self.certificate.clone());
        match self.event {
            EventId::ServerCertificateInvalid | EventId::ClientCertificateInvalid => {
                record = record.field(self.status.hex());
            }
            EventId::ServerCertificateWrongName => {
                record = record.field(self.expected_name.as_deref().unwrap_or(""));
            }
            _ => {}
        }
        record.send();
    }
}

/// The verifier a client context uses for the server's certificate: the credential's
/// roots, with its intermediates (stores/CA) offered for path building and its CRLs
/// checked, or, with `CredentialOptions::manual_validation`, a verifier that checks only
/// the handshake signatures and leaves the chain to the application.
///
/// Building parses the CRLs (about 2.3 ms for one CRL of 10,000 entries, release build):
/// build it once per credential, with the credential's rustls config, not per connection.
pub(crate) fn server_verifier(
    shared: &CredentialShared,
) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    if shared.options.manual_validation {
        return Ok(Arc::new(
            server_cert::ManualValidation::dangerous_accept_any_chain(),
        ));
    }
    Ok(Arc::new(server_cert::ServerCertificateVerifier::new(
        shared,
    )?))
}

/// The verifier a server context uses for client certificates; `None` when the
/// credential asks for none.
pub(crate) fn client_verifier(
    shared: &CredentialShared,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, Error> {
    let options = &shared.options;
    if !options.request_client_certificate && !options.require_client_certificate {
        return Ok(None);
    }
    Ok(Some(Arc::new(client_cert::ClientCertificateVerifier::new(
        shared,
    )?)))
}

/// Chooses the client certificate when a server asks for one. There is a resolver even
/// when the client credential has no certificate at all: it declines every request and
/// records 36875, as Schannel logs "no suitable client certificate could be found" then
/// too (rustls' `with_no_client_auth` would decline silently).
pub(crate) fn client_cert_resolver(shared: &CredentialShared) -> Arc<dyn ResolvesClientCert> {
    Arc::new(choice::ClientCertificateChoice::new(
        shared.certified_key.clone(),
    ))
}

// The hand-offs. Verification and certificate choice run inside `process_tls_records` on
// the caller's thread, so a thread-local slot carries their outcome to the context
// without locking and without any risk of another connection seeing it — provided the
// context takes them after every call (and resets the pending alert), which the contract
// requires.
thread_local! {
    static FAILURE: RefCell<Option<ValidationFailure>> = const { RefCell::new(None) };
    static NO_SUITABLE_CLIENT_CERTIFICATE: Cell<bool> = const { Cell::new(false) };
    static CLIENT_CERTIFICATE_OFFERED: Cell<bool> = const { Cell::new(false) };
    static ISSUER_LIST_TRUNCATED: Cell<bool> = const { Cell::new(false) };
    static PENDING_ALERT: Cell<Option<AlertDescription>> = const { Cell::new(None) };
}

/// The failure the verifiers recorded during the last `process_tls_records` call on this
/// thread (verification runs synchronously inside it), taken once.
pub(crate) fn take_failure() -> Option<ValidationFailure> {
    FAILURE.with(|f| f.borrow_mut().take())
}

/// Whether, during the last call on this thread, a server asked for a client certificate
/// and none suited (event 36875), taken once.
pub(crate) fn take_no_suitable_client_certificate() -> bool {
    NO_SUITABLE_CLIENT_CERTIFICATE.with(|f| f.replace(false))
}

/// Whether, during the last call on this thread, a server asked for a client certificate
/// and the credential's was sent (36880's LocalCertSubjectName names it only then),
/// taken once.
pub(crate) fn take_client_certificate_offered() -> bool {
    CLIENT_CERTIFICATE_OFFERED.with(|f| f.replace(false))
}

/// Whether, during the last call on this thread, the server sent a trusted issuer list
/// that had to be truncated (event 36885), taken once.
pub(crate) fn take_issuer_list_truncated() -> bool {
    ISSUER_LIST_TRUNCATED.with(|f| f.replace(false))
}

/// Make the next certificate verification on this thread fail so that rustls sends
/// `alert` (Schannel's SCHANNEL_ALERT_TOKEN during the handshake); `None` cancels it.
///
/// The context sets it before `process_tls_records` and resets it with `None` after the
/// call, since a call that verifies no certificate leaves it pending. The alerts a
/// verification error can produce are listed at [`error_for_alert`]; any other is refused
/// with SEC_E_UNSUPPORTED_FUNCTION and nothing is set.
pub(crate) fn set_pending_alert(alert: Option<AlertDescription>) -> Result<(), Error> {
    if let Some(a) = alert {
        if error_for_alert(a).is_none() {
            return Err(Error::new(
                Status::UnsupportedFunction,
                format!(
                    "alert {a} cannot be sent by refusing the peer certificate; \
                     the alerts that can are 40, 42, 43, 44, 45, 46, 48, 49, 51 and 113"
                ),
            ));
        }
    }
    PENDING_ALERT.with(|p| p.set(alert));
    Ok(())
}

/// The pending alert's error, consumed (verifiers call this first).
fn take_pending_alert_error() -> Option<rustls::Error> {
    PENDING_ALERT.with(|p| p.take()).and_then(error_for_alert)
}

fn record_failure(failure: ValidationFailure) {
    FAILURE.with(|f| *f.borrow_mut() = Some(failure));
}

fn record_no_suitable_client_certificate() {
    NO_SUITABLE_CLIENT_CERTIFICATE.with(|f| f.set(true));
}

fn record_client_certificate_offered() {
    CLIENT_CERTIFICATE_OFFERED.with(|f| f.set(true));
}

fn record_issuer_list_truncated() {
    ISSUER_LIST_TRUNCATED.with(|f| f.set(true));
}

/// The provider whose signature algorithms the verifiers accept.
///
/// Until settings grow `crypto_provider(role)` (the provider work), the aws-lc-rs
/// defaults; signature verification does not depend on the cipher-suite filtering.
fn verification_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// A verifier could not be built from the credential (a CRL that does not parse).
fn build_error(what: &str, e: rustls::client::VerifierBuilderError) -> Error {
    Error::new(
        Status::InternalError,
        format!("cannot build the {what} verifier from the credential: {e}"),
    )
    // The one state for "rustls refused the configuration built from the credential".
    .with_state(crate::ErrorState::EngineConfiguration)
    .with_source(e)
}
