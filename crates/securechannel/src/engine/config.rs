//! rustls configurations, built once per credential and reused (the per-context cost of a
//! handshake is then rustls' own): client configs keyed by whether SNI is sent (ALPN is
//! per connection on the client), server configs keyed by their ALPN list. The server's
//! ticketer and session cache are shared by all its configs, so a ticket issued under one
//! ALPN set resumes under another.
//!
//! The cache does not know credentials: the credential hands it a [`ClientSetup`] or
//! [`ServerSetup`] (crypto provider, protocols, verifier, certificate) the first time a
//! configuration is needed.

use crate::credential::CertificateChoice;
use crate::resumption::{ServerResumption, ServerResumptionPolicy};
use crate::{Error, ErrorState, Protocol};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};
use securechannel_events::Status;
use std::cell::RefCell;
use std::sync::{Arc, Mutex, OnceLock};

/// A server's ALPN protocols, in preference order.
type AlpnList = Vec<Vec<u8>>;

/// What a client configuration is made of.
pub(crate) struct ClientSetup {
    /// The settings' suites and groups (see `policy`).
    pub(crate) provider: Arc<CryptoProvider>,
    /// The protocols the credential may use, newest first.
    pub(crate) protocols: Vec<Protocol>,
    pub(crate) verifier: Arc<dyn ServerCertVerifier>,
    pub(crate) resolver: Arc<dyn ResolvesClientCert>,
    /// The session cache (`ClientCacheTime`, see `resumption`).
    pub(crate) resumption: rustls::client::Resumption,
    /// The dangerous key log, if the credential names one.
    pub(crate) key_log: Option<Arc<dyn rustls::KeyLog>>,
}

/// What a server configuration is made of.
pub(crate) struct ServerSetup {
    pub(crate) provider: Arc<CryptoProvider>,
    pub(crate) protocols: Vec<Protocol>,
    /// `None`: no client certificate is asked for.
    pub(crate) client_verifier: Option<Arc<dyn ClientCertVerifier>>,
    /// The certificates, chosen per hello by SNI; none qualifying (or none at all): the
    /// hello is refused with access_denied (36886).
    pub(crate) certificates: Arc<crate::credential::ServerCertificates>,
    /// `ServerCacheTime` and `MaximumCacheSize` (see `resumption`); the first setup of a
    /// credential makes its ticketer and cache, which all its configurations share.
    pub(crate) resumption: ServerResumptionPolicy,
    /// The dangerous key log, if the credential names one.
    pub(crate) key_log: Option<Arc<dyn rustls::KeyLog>>,
}

/// Why no configuration could be built.
#[derive(Debug)]
pub(crate) enum ConfigError {
    /// The effective protocols x cipher suites x groups leave nothing usable (36873 on a
    /// client).
    NoCipherSuite,
    /// Something else: the verifier could not be built, rustls refused the configuration.
    Other(Error),
}

/// The configurations of one credential.
#[derive(Default)]
pub(crate) struct ConfigCache {
    client: Mutex<Vec<(bool, Arc<ClientConfig>)>>,
    server: Mutex<Vec<(AlpnList, Arc<ServerConfig>)>>,
    server_resumption: OnceLock<ServerResumption>,
}

impl ConfigCache {
    /// The client configuration sending SNI or not, built from `setup` on first use.
    pub(crate) fn client(
        &self,
        send_sni: bool,
        setup: impl FnOnce() -> Result<ClientSetup, ConfigError>,
    ) -> Result<Arc<ClientConfig>, ConfigError> {
        if let Some(c) = lock(&self.client).iter().find(|c| c.0 == send_sni) {
            return Ok(c.1.clone());
        }
        let setup = setup()?;
        let versions = usable_versions(&setup.protocols, &setup.provider)?;
        let builder = ClientConfig::builder_with_provider(setup.provider)
            .with_protocol_versions(&versions)
            .map_err(engine_config_error)?
            .dangerous()
            .with_custom_certificate_verifier(setup.verifier);
        let mut config = builder.with_client_cert_resolver(setup.resolver);
        config.enable_sni = send_sni;
        // Shared by every context of this credential because the config is.
        config.resumption = setup.resumption;
        if let Some(k) = setup.key_log {
            config.key_log = k;
        }
        let config = Arc::new(config);
        lock(&self.client).push((send_sni, config.clone()));
        Ok(config)
    }

    /// The server configuration offering `alpn`, built from `setup` on first use.
    pub(crate) fn server(
        &self,
        alpn: &[Vec<u8>],
        setup: impl FnOnce() -> Result<ServerSetup, ConfigError>,
    ) -> Result<Arc<ServerConfig>, ConfigError> {
        if let Some(c) = lock(&self.server).iter().find(|c| c.0 == alpn) {
            return Ok(c.1.clone());
        }
        let setup = setup()?;
        let resumption = self
            .server_resumption
            .get_or_init(|| ServerResumption::new(setup.resumption))
            .clone();
        let versions = usable_versions(&setup.protocols, &setup.provider)?;
        let builder = ServerConfig::builder_with_provider(setup.provider)
            .with_protocol_versions(&versions)
            .map_err(engine_config_error)?;
        let builder = match setup.client_verifier {
            Some(v) => builder.with_client_cert_verifier(v),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(Arc::new(ServerCertificate {
            certificates: setup.certificates,
        }));
        // Schannel servers choose the cipher suite by their own order (the cipher suite
        // order setting, which the provider's suite list follows), not the client's: the
        // first of ours the client offers wins. rustls defaults to the client's order.
        config.ignore_client_order = true;
        config.alpn_protocols = alpn.to_vec();
        config.session_storage = resumption.sessions;
        config.send_tls13_tickets = resumption.tls13_tickets;
        if let Some(t) = resumption.ticketer {
            config.ticketer = t;
        }
        if let Some(k) = setup.key_log {
            config.key_log = k;
        }
        let config = Arc::new(config);
        lock(&self.server).push((alpn.to_vec(), config.clone()));
        Ok(config)
    }
}

/// The rustls versions of `protocols` that the provider has suites for. rustls refuses a
/// configuration without a suite for its versions or without groups
/// (`ConfigBuilder::with_protocol_versions`); both are checked here first, so that
/// "nothing usable" is decided from our own facts, never from rustls' message text. (Its
/// third check, a suite without a group of its key exchange, cannot fail with aws-lc-rs:
/// every suite and every group is ECDHE-style.)
fn usable_versions(
    protocols: &[Protocol],
    provider: &CryptoProvider,
) -> Result<Vec<&'static SupportedProtocolVersion>, ConfigError> {
    let versions: Vec<&'static SupportedProtocolVersion> = protocols
        .iter()
        .filter_map(|p| match p {
            Protocol::Tls13 => Some(&rustls::version::TLS13),
            Protocol::Tls12 => Some(&rustls::version::TLS12),
            _ => None,
        })
        .filter(|v| provider.cipher_suites.iter().any(|s| s.version() == *v))
        .collect();
    if versions.is_empty() || provider.kx_groups.is_empty() {
        return Err(ConfigError::NoCipherSuite);
    }
    Ok(versions)
}

fn engine_config_error(e: rustls::Error) -> ConfigError {
    ConfigError::Other(
        Error::new(
            Status::InternalError,
            "the TLS engine rejected the configuration",
        )
        .with_state(ErrorState::EngineConfiguration)
        .with_source(e),
    )
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock leaves a Vec of Arcs, which is still consistent.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The server's certificate for each ClientHello, chosen by its SNI name (see
/// `credential::sni`). It also records the name and the choice (rustls 0.23's unbuffered
/// server connection has no accessor for the name); resolution runs synchronously inside
/// `process_tls_records`, on the caller's thread, so a thread-local hand-off is exact.
#[derive(Debug)]
struct ServerCertificate {
    certificates: Arc<crate::credential::ServerCertificates>,
}

thread_local! {
    static CLIENT_SNI: RefCell<Option<String>> = const { RefCell::new(None) };
    static CHOICE: std::cell::Cell<Option<CertificateChoice>> = const { std::cell::Cell::new(None) };
}

impl ResolvesServerCert for ServerCertificate {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sni = client_hello.server_name().map(str::to_owned);
        let choice = self.certificates.choose(sni.as_deref());
        CLIENT_SNI.with(|s| *s.borrow_mut() = sni);
        CHOICE.with(|c| c.set(Some(choice)));
        // None makes rustls refuse the hello with access_denied (ErrorState 3014).
        match choice {
            CertificateChoice::Chosen(i) => self.certificates.get(i).map(|c| c.presented()),
            CertificateChoice::Declined => None,
        }
    }
}

/// The SNI name the last hello resolved on this thread carried, taken once.
pub(super) fn take_client_sni() -> Option<String> {
    CLIENT_SNI.with(|s| s.borrow_mut().take())
}

/// The certificate the last hello resolved on this thread got, taken once.
pub(super) fn take_certificate_choice() -> Option<CertificateChoice> {
    CHOICE.with(|c| c.take())
}
