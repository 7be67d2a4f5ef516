//! The server side: AcceptSecurityContext, with what a server looks at before rustls
//! does: the client's first bytes (to name its protocol in 36874 and to refuse a legacy
//! hello with protocol_version, as Schannel does), and a credential without certificate
//! (36886).

use super::core::{engine_error, Core, Sent, State};
use super::{ContextOptions, Step, StepStatus};
use crate::engine::{self, ConfigError, Engine};
use crate::hello::{hello_offers_any_suite, sniff_client_hello, HelloSniff};
use crate::{Error, Role, ServerCredential};
use securechannel_events::{EventId, Status};

/// A server security context (AcceptSecurityContext).
pub struct ServerContext {
    pub(super) core: Core,
    /// The first bytes have been looked at (they are looked at once).
    hello_seen: bool,
    no_certificate_logged: bool,
    /// The client certificate's mapping, once the handshake completed with one and the
    /// credential maps (`mappings.toml`).
    mapping: Option<crate::MappingOutcome>,
}

impl ServerContext {
    /// A context accepting one client connection.
    ///
    /// Fails with SEC_E_ALGORITHM_MISMATCH when the effective configuration leaves no
    /// usable cipher suite (no event: on Windows the server's 36874 comes with a hello).
    pub fn new(
        credential: &ServerCredential,
        options: ContextOptions,
    ) -> Result<ServerContext, Error> {
        let shared = credential.shared.clone();
        let config = match shared.server_config(&options.alpn) {
            Ok(c) => c,
            Err(ConfigError::NoCipherSuite) => {
                return Err(Error::new(
                    Status::AlgorithmMismatch,
                    "no cipher suite is usable with the enabled protocols and algorithms",
                ))
            }
            Err(ConfigError::Other(e)) => return Err(e),
        };
        let engine = Engine::server(config).map_err(engine_error)?;
        Ok(ServerContext {
            core: Core::new(shared, Role::Server, String::new(), engine),
            hello_seen: false,
            no_certificate_logged: false,
            mapping: None,
        })
    }

    /// One AcceptSecurityContext call: feed what the client sent, append what to send to
    /// `out`. See the [crate docs](crate#the-token-contract) for `consumed` and for
    /// failures (the alert to send is already in `out`).
    pub fn accept(&mut self, input: &mut [u8], out: &mut Vec<u8>) -> Result<Step, Error> {
        if self.core.state == State::Handshaking && !input.is_empty() {
            if let Some(r) = self.look_at_hello(input, out) {
                return r;
            }
        }
        let step = self.core.step(input, out)?;
        if step.status == StepStatus::Complete && self.mapping.is_none() {
            self.map_client_certificate();
        }
        Ok(step)
    }

    /// The account the client's certificate was mapped to (Schannel's mapped token,
    /// QuerySecurityContextToken), by `mappings.toml` and `CertificateMappingMethods`.
    pub fn mapped_account(&self) -> Option<&crate::MappedAccount> {
        self.mapping.as_ref().and_then(|m| m.account())
    }

    /// What mapping the client's certificate came to: `None` when no certificate was sent
    /// or the server does not map (no `mappings.toml`).
    pub fn client_mapping(&self) -> Option<&crate::MappingOutcome> {
        self.mapping.as_ref()
    }

    /// Map the client's certificate once the handshake is complete: 36878 when only an
    /// issuer not trusted for mapping stood in the way, 36879 when no rule maps it
    /// (warnings: the connection stays).
    fn map_client_certificate(&mut self) {
        let shared = &self.core.shared;
        let Some(rules) = shared.mappings.clone() else {
            return;
        };
        let Some(certificate) = self
            .core
            .engine
            .peer_certificates()
            .and_then(|c| c.first())
            .map(|c| std::sync::Arc::<[u8]>::from(c.as_ref()))
        else {
            return;
        };
        let report = rules.map(
            &certificate,
            shared.settings.certificate_mapping_methods(),
            &shared.trust.client_auth_trust_list,
        );
        if let Some((id, status)) = report.outcome.event() {
            self.core
                .emit(id, |r| r.field(status.hex()).binary(Some(certificate)));
        }
        self.mapping = Some(report.outcome);
    }

    /// The certificate chain this connection presented (end entity first), chosen by the
    /// client's server name among the credential's certificates; `None` before the hello,
    /// or when none qualified.
    pub fn local_certificate_chain(&self) -> Option<&[rustls::pki_types::CertificateDer<'static>]> {
        match self.core.engine.certificate_choice()? {
            crate::credential::CertificateChoice::Chosen(i) => self
                .core
                .shared
                .server_certificates
                .get(i)
                .map(|c| c.key.cert.as_slice()),
            crate::credential::CertificateChoice::Declined => None,
        }
    }

    /// The subject of the certificate this connection presented (as 36880 names it).
    pub fn local_certificate_subject(&self) -> &str {
        self.core.local_certificate_subject()
    }

    /// The server name the client sent (SNI), once its hello has been read.
    pub fn server_name(&self) -> Option<&str> {
        self.core.engine.sni()
    }

    /// The first bytes, before rustls sees them: `Some` when the call ends here.
    fn look_at_hello(&mut self, input: &[u8], out: &mut Vec<u8>) -> Option<Result<Step, Error>> {
        let mut legacy = None;
        if !self.hello_seen {
            // Named in 36874 if rustls refuses the hello (legacy hellos included).
            match sniff_client_hello(input) {
                // The start of an SSLv2-compatible hello: rustls would refuse its framing
                // with decode_error before the sniffer can name it (11 bytes).
                HelloSniff::NeedMore if input[0] & 0x80 != 0 => {
                    return Some(Ok(Step {
                        status: StepStatus::IncompleteMessage { missing: None },
                        consumed: 0,
                    }));
                }
                HelloSniff::NeedMore => {}
                s => {
                    self.hello_seen = true;
                    self.core.hello_protocol = s.protocol_name();
                    // rustls reads TLS records only: an SSLv2-format hello is refused as a
                    // legacy one whatever version it offers (tlsfuzzer sends TLS 1.2 so).
                    let sslv2 = input[0] & 0x80 != 0;
                    self.core.sslv2_hello = sslv2;
                    legacy = s.protocol().filter(|p| sslv2 || !p.is_supported());
                    self.core.legacy_hello = legacy;
                    self.core.hello_shares_no_suite =
                        hello_offers_any_suite(input, self.core.shared.suite_numbers())
                            == Some(false);
                }
            }
        }
        if self.core.shared.certified_key.is_none() && !self.no_certificate_logged {
            self.no_certificate_logged = true;
            self.core.emit(EventId::NoDefaultServerCredential, |r| r);
        }
        if legacy.is_some() {
            return self.refuse_legacy_hello(out).map(Err);
        }
        None
    }

    /// A server's answer to a hello rustls cannot speak (SSLv2-compatible, SSL 3.0,
    /// TLS 1.0, TLS 1.1): protocol_version (70), as Schannel sends it. The client's bytes
    /// never reach the engine: rustls would answer most of them with another alert
    /// (handshake_failure for a hello without signature_algorithms, decode_error for the
    /// SSLv2 framing). The alert is rustls' own answer to a canonical TLS 1.0 hello (see
    /// `engine::legacy_protocol_version_alert`); an SSLv2-compatible client gets it
    /// TLS-framed, which is how TLS servers answer the SSLv2-compatible hellos of TLS 1.0
    /// clients (RFC 5246 appendix E.2), the only SSLv2-framed hellos still sent.
    ///
    /// Logs 36874 (the client's protocol) and 36888 (70, NoSharedProtocol) once, and
    /// fails the context with SEC_E_UNSUPPORTED_FUNCTION; the hello is consumed, nothing
    /// more is read. `None` (nothing appended) when rustls did not answer with that alert:
    /// the engine then answers the client's own hello.
    fn refuse_legacy_hello(&mut self, out: &mut Vec<u8>) -> Option<Error> {
        let config = self.core.shared.server_config(&[]).ok()?;
        let err = engine::legacy_protocol_version_alert(config, out)?;
        Some(self.core.fail(err, None, Sent::Rustls, None, false))
    }
}

impl std::fmt::Debug for ServerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.core.debug("ServerContext", f)
    }
}
