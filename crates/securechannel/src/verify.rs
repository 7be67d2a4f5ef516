//! Certificate validation: rustls-webpki verifiers built from a credential, and the one
//! table that turns their verdicts into SSPI statuses and Schannel events.
//! (Skeleton with the contract contexts rely on; the validation work fills it in.)

use crate::credential::CredentialShared;
use crate::Error;
use securechannel_events::{EventId, Status};
use std::sync::Arc;

/// Why a peer certificate was refused, as the context reports and logs it.
#[derive(Debug, Clone)]
pub(crate) struct ValidationFailure {
    /// The status the context call returns (e.g. SEC_E_UNTRUSTED_ROOT).
    pub(crate) status: Status,
    /// The event to log: 36876/36881-36884 on a client, 36877 on a server.
    pub(crate) event: EventId,
    /// The peer's end-entity certificate (DER), attached to the event.
    pub(crate) certificate: Option<Arc<[u8]>>,
}

/// The verifier a client context uses for the server's certificate.
pub(crate) fn server_verifier(
    shared: &CredentialShared,
) -> Result<Arc<dyn rustls::client::danger::ServerCertVerifier>, Error> {
    rustls::client::WebPkiServerVerifier::builder(shared.roots.clone())
        .build()
        .map(|v| v as Arc<dyn rustls::client::danger::ServerCertVerifier>)
        .map_err(|e| {
            Error::new(
                Status::InternalError,
                format!("cannot build the server certificate verifier: {e}"),
            )
        })
}

/// The verifier a server context uses for client certificates; `None` when the
/// credential does not ask for one.
pub(crate) fn client_verifier(
    _shared: &CredentialShared,
) -> Result<Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>, Error> {
    Ok(None)
}

/// Chooses the client certificate when a server asks for one; `None` when the client
/// credential has no certificate at all (the context then uses `with_no_client_auth`).
pub(crate) fn client_cert_resolver(
    _shared: &CredentialShared,
) -> Option<Arc<dyn rustls::client::ResolvesClientCert>> {
    None
}

/// The failure the verifiers recorded during the last `process_tls_records` call on this
/// thread (verification runs synchronously inside it), taken once.
pub(crate) fn take_failure() -> Option<ValidationFailure> {
    None
}

/// Whether, during the last call on this thread, a server asked for a client certificate
/// and none suited (event 36875), taken once.
pub(crate) fn take_no_suitable_client_certificate() -> bool {
    false
}
