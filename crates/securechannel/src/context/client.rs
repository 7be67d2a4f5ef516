//! The client side: InitializeSecurityContext.

use super::core::{emit, engine_error, Core};
use super::{ContextOptions, Sni, Step};
use crate::engine::{ConfigError, Engine};
use crate::{ClientCredential, Error, Role};
use rustls_pki_types::ServerName;
use securechannel_events::{ActivityId, EventId, Status};

/// A client security context (InitializeSecurityContext).
pub struct ClientContext {
    pub(super) core: Core,
}

impl ClientContext {
    /// A context connecting to `target_name` (a DNS name or an IP address), verified
    /// against it (or against `options.sni`'s name, see [`Sni::Name`]).
    ///
    /// Fails with SEC_E_ALGORITHM_MISMATCH and event 36873, before anything is sent, when
    /// the effective configuration leaves no usable cipher suite; with
    /// SEC_E_INVALID_PARAMETER when the name is neither a DNS name nor an IP address.
    pub fn new(
        credential: &ClientCredential,
        target_name: &str,
        options: ContextOptions,
    ) -> Result<ClientContext, Error> {
        let shared = credential.shared.clone();
        let verified_name = match &options.sni {
            Sni::Name(n) => n.as_str(),
            Sni::Target | Sni::Disabled => target_name,
        };
        let server_name = ServerName::try_from(verified_name.to_owned()).map_err(|e| {
            Error::new(
                Status::InvalidParameter,
                format!("'{verified_name}' is neither a DNS name nor an IP address"),
            )
            .with_source(e)
        })?;
        let config = match shared.client_config(options.sni != Sni::Disabled) {
            Ok(c) => c,
            Err(ConfigError::NoCipherSuite) => {
                // The context never exists: its one event gets an activity of its own.
                emit(
                    &shared,
                    ActivityId::new_random,
                    EventId::NoClientCipherSuites,
                    |r| r,
                );
                return Err(Error::new(
                    Status::AlgorithmMismatch,
                    "no cipher suite is usable with the enabled protocols and algorithms",
                )
                .with_event(EventId::NoClientCipherSuites));
            }
            Err(ConfigError::Other(e)) => return Err(e),
        };
        let engine = Engine::client(config, server_name, options.alpn).map_err(engine_error)?;
        Ok(ClientContext {
            core: Core::new(shared, Role::Client, target_name.to_owned(), engine),
        })
    }

    /// One InitializeSecurityContext call: feed what the server sent (empty on the first
    /// call), append what to send to `out`. See the [crate docs](crate#the-token-contract)
    /// for `consumed` and for failures (the alert to send is already in `out`).
    ///
    /// In TLS 1.3 the client is complete before the server has read its Finished (and its
    /// certificate): a refusal by the server then arrives as an alert on `decrypt`.
    /// Application data that arrived together with the last handshake flight is returned
    /// by the next `decrypt`, even one given no input.
    pub fn initialize(&mut self, input: &mut [u8], out: &mut Vec<u8>) -> Result<Step, Error> {
        self.core.step(input, out)
    }

    /// The target name the context was created for.
    pub fn target_name(&self) -> &str {
        &self.core.target_name
    }

    /// What the server's stapled OCSP response was found to be (it answers for the
    /// server's certificate when valid; an invalid one, with its reason, was treated as
    /// absent); `None` when the server stapled none.
    pub fn ocsp_staple(&self) -> Option<&crate::StapleCheck> {
        self.core.staple.as_ref()
    }
}

impl std::fmt::Debug for ClientContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.core.debug("ClientContext", f)
    }
}
