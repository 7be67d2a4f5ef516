//! Credentials, as AcquireCredentialsHandle gives them.
//!
//! A credential is acquired from a [`Provider`](crate::Provider) with a builder:
//!
//! ```no_run
//! # use securechannel::{Provider, StoreQuery, events::MemorySink};
//! # use std::sync::Arc;
//! # fn main() -> Result<(), securechannel::Error> {
//! let provider = Provider::open("schannel-data".as_ref(), Arc::new(MemorySink::new()))?;
//! // A server certificate from files (PEM or DER; PKCS#8, PKCS#1 or SEC1 keys):
//! let server = provider
//!     .server_credential()
//!     .with_certificate_files("server.pem", "server.key")
//!     .acquire()?;
//! // ... or from the machine store, by thumbprint or subject:
//! let server = provider
//!     .server_credential()
//!     .from_store(StoreQuery::Subject("CN=www.example.com".into()))
//!     .acquire()?;
//! // ... or the system default (the first qualifying certificate of stores/My):
//! let server = provider.server_credential().system_default().acquire()?;
//! // A client without a certificate, validating servers against stores/Root:
//! let client = provider.client_credential().acquire()?;
//! # Ok(()) }
//! ```
//!
//! Every acquisition logs 36867; a loaded key logs 36868 (its properties, never the key);
//! failures log 36869 (no private key), 36870 (the key cannot be used) or 36871 (anything
//! else), and a system default that does not exist logs 36872 and still gives a credential
//! (without certificate) so that the connection fails later with 36886, as on Windows.

use crate::store::{
    self, certificates_from_bytes, key_type, load_signing_key, private_key_from_bytes,
    read_private_key_file, KeyProblem, StoreName, StoreQuery,
};
use crate::{Error, ErrorState, Protocol, Provider, Role, Settings};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SigningKey};
use securechannel_events::{Emitter, EventId, Status};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a caller may ask of a credential beyond the system settings (SCH_CREDENTIALS).
#[derive(Debug, Clone, Default)]
pub struct CredentialOptions {
    /// Narrow the enabled protocols to these (empty: the settings decide).
    pub protocols: Vec<Protocol>,
    /// Server: ask for a client certificate (`ASC_REQ_MUTUAL_AUTH`).
    pub request_client_certificate: bool,
    /// Server: refuse clients that send none.
    pub require_client_certificate: bool,
    /// Client: do not validate the server certificate here; the application will
    /// (`SCH_CRED_MANUAL_CRED_VALIDATION`). Dangerous; named as such in the builder.
    pub manual_validation: bool,
    /// Which certificates of the peer's path the CRLs are checked for
    /// (SCH_CRED_REVOCATION_CHECK_END_CERT / _CHAIN); default the whole chain.
    pub revocation_check: crate::RevocationCheck,
    /// Refuse a peer certificate whose revocation status is unknown (no CRL covers it);
    /// default false, i.e. SCH_CRED_IGNORE_NO_REVOCATION_CHECK.
    pub require_revocation_status: bool,
}

/// What client and server credentials share; the contract with security contexts.
pub(crate) struct CredentialShared {
    pub(crate) role: Role,
    /// The security contexts log their events through the credential's emitter.
    pub(crate) emitter: Emitter,
    pub(crate) settings: Arc<Settings>,
    /// The certificate chain and signing key (absent: a client without a certificate, or a
    /// server relying on a system default that does not exist, see 36872/36886).
    pub(crate) certified_key: Option<Arc<rustls::sign::CertifiedKey>>,
    /// Trusted roots (stores/Root).
    pub(crate) roots: Arc<rustls::RootCertStore>,
    /// Intermediate certificates (stores/CA).
    pub(crate) intermediates: Vec<CertificateDer<'static>>,
    /// CRLs (crl/).
    pub(crate) crls: Vec<CertificateRevocationListDer<'static>>,
    pub(crate) options: CredentialOptions,
    /// Validate peer certificates at this time instead of the clock (tests, and
    /// diagnosing a certificate against a given date); `None`: now.
    pub(crate) validation_time: Option<rustls::pki_types::UnixTime>,
    /// `ClientAuthTrustMode` (server): which CAs client certificates may chain to.
    pub(crate) client_auth_trust_mode: crate::ClientAuthTrustMode,
    /// The client-auth trust list (stores/ClientAuth) for trust modes 1 and 2.
    pub(crate) client_auth_trust_list: Vec<CertificateDer<'static>>,
    /// `SendTrustedIssuerList` (server): name the trusted CAs in the CertificateRequest.
    pub(crate) send_trusted_issuer_list: bool,
    /// The rustls configurations built from this credential, reused by every context
    /// (owner: contexts work, see tls.rs).
    pub(crate) tls_configs: crate::tls::ConfigCache,
}

/// A client credential.
#[derive(Clone)]
pub struct ClientCredential {
    pub(crate) shared: Arc<CredentialShared>,
}

/// A server credential.
#[derive(Clone)]
pub struct ServerCredential {
    pub(crate) shared: Arc<CredentialShared>,
}

impl CredentialShared {
    /// The shared part of a credential, with no intermediates, CRLs or options. Credential
    /// acquisition and tests build on this; fields added later get defaults here.
    pub(crate) fn new(
        role: Role,
        emitter: Emitter,
        settings: Arc<Settings>,
        certified_key: Option<Arc<rustls::sign::CertifiedKey>>,
        roots: Arc<rustls::RootCertStore>,
    ) -> CredentialShared {
        CredentialShared {
            role,
            emitter,
            settings,
            certified_key,
            roots,
            intermediates: Vec::new(),
            crls: Vec::new(),
            options: CredentialOptions::default(),
            validation_time: None,
            client_auth_trust_mode: crate::ClientAuthTrustMode::default(),
            client_auth_trust_list: Vec::new(),
            // Windows 8 / Server 2012 and later send no list by default.
            send_trusted_issuer_list: false,
            tls_configs: crate::tls::ConfigCache::default(),
        }
    }

    fn certificate(&self) -> Option<&CertificateDer<'static>> {
        self.certified_key.as_ref().and_then(|k| k.cert.first())
    }
}

macro_rules! credential_accessors {
    ($t:ty) => {
        impl $t {
            /// Client or server.
            pub fn role(&self) -> Role {
                self.shared.role
            }

            /// Whether the credential has a certificate (and its key).
            pub fn has_certificate(&self) -> bool {
                self.shared.certified_key.is_some()
            }

            /// The end-entity certificate, if any.
            pub fn certificate(&self) -> Option<&CertificateDer<'static>> {
                self.shared.certificate()
            }

            /// The certificate chain sent to the peer (end-entity first); empty without one.
            pub fn certificate_chain(&self) -> &[CertificateDer<'static>] {
                self.shared
                    .certified_key
                    .as_ref()
                    .map_or(&[][..], |k| k.cert.as_slice())
            }

            /// The certificate's SHA-1 thumbprint, uppercase hex.
            pub fn thumbprint(&self) -> Option<String> {
                self.certificate().map(|c| store::thumbprint(c))
            }

            /// The options the credential was acquired with.
            pub fn options(&self) -> &CredentialOptions {
                &self.shared.options
            }

            /// The settings in force when the credential was acquired.
            pub fn settings(&self) -> &Arc<Settings> {
                &self.shared.settings
            }

            /// The number of trusted roots the credential validates peers against.
            pub fn trusted_root_count(&self) -> usize {
                self.shared.roots.len()
            }

            /// The CRLs the credential checks revocation against.
            pub fn crls(&self) -> &[CertificateRevocationListDer<'static>] {
                &self.shared.crls
            }

            /// The intermediate certificates (stores/CA) available for path building.
            pub fn intermediates(&self) -> &[CertificateDer<'static>] {
                &self.shared.intermediates
            }
        }

        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("thumbprint", &self.thumbprint())
                    .field("options", &self.shared.options)
                    .finish()
            }
        }
    };
}

credential_accessors!(ClientCredential);
credential_accessors!(ServerCredential);

/// Where a credential's certificate and key come from.
enum CertificateSource {
    /// None: a client that authenticates anonymously (a server without one fails).
    None,
    /// A certificate chain file and a key file.
    Files { chain: PathBuf, key: PathBuf },
    /// DER in memory.
    Der {
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    },
    /// A PKCS#12 (.pfx / .p12) file and its password.
    Pkcs12 { path: PathBuf, password: String },
    /// `stores/My`, by thumbprint or subject.
    Store(StoreQuery),
    /// The first qualifying certificate of `stores/My` (server only).
    SystemDefault,
}

/// What the builders collect.
struct CredentialRequest<'p> {
    provider: &'p Provider,
    source: CertificateSource,
    options: CredentialOptions,
    extra_roots: Vec<CertificateDer<'static>>,
    now: Option<i64>,
}

impl<'p> CredentialRequest<'p> {
    fn new(provider: &'p Provider) -> Self {
        CredentialRequest {
            provider,
            source: CertificateSource::None,
            options: CredentialOptions::default(),
            extra_roots: Vec::new(),
            now: None,
        }
    }
}

/// Builds a [`ClientCredential`]: `provider.client_credential()...acquire()`.
pub struct ClientCredentialBuilder<'p> {
    request: CredentialRequest<'p>,
}

/// Builds a [`ServerCredential`]: `provider.server_credential()...acquire()`.
pub struct ServerCredentialBuilder<'p> {
    request: CredentialRequest<'p>,
}

macro_rules! common_builder_methods {
    ($t:ident) => {
        impl<'p> $t<'p> {
            pub(crate) fn new(provider: &'p Provider) -> Self {
                $t {
                    request: CredentialRequest::new(provider),
                }
            }

            /// The certificate chain (end-entity first) and private key from files, PEM or
            /// DER; the key in PKCS#8, PKCS#1 or SEC1, mode 0600 or stricter.
            pub fn with_certificate_files(
                mut self,
                chain: impl AsRef<Path>,
                key: impl AsRef<Path>,
            ) -> Self {
                self.request.source = CertificateSource::Files {
                    chain: chain.as_ref().to_path_buf(),
                    key: key.as_ref().to_path_buf(),
                };
                self
            }

            /// The certificate chain (end-entity first) and private key, DER in memory.
            pub fn with_certificate_der(
                mut self,
                chain: Vec<CertificateDer<'static>>,
                key: PrivateKeyDer<'static>,
            ) -> Self {
                self.request.source = CertificateSource::Der { chain, key };
                self
            }

            /// A PKCS#12 file (.pfx / .p12) holding the certificate, its chain and its key.
            pub fn with_pkcs12(mut self, path: impl AsRef<Path>, password: &str) -> Self {
                self.request.source = CertificateSource::Pkcs12 {
                    path: path.as_ref().to_path_buf(),
                    password: password.to_string(),
                };
                self
            }

            /// A certificate of `stores/My` and its key from `keys/`.
            pub fn from_store(mut self, query: StoreQuery) -> Self {
                self.request.source = CertificateSource::Store(query);
                self
            }

            /// Narrow the protocols to these (SCH_CREDENTIALS); a protocol that is
            /// DisabledByDefault may be asked for here, a disabled one never.
            pub fn protocols(mut self, protocols: &[Protocol]) -> Self {
                self.request.options.protocols = protocols.to_vec();
                self
            }

            /// Trust this root too, besides `stores/Root`.
            pub fn add_root(mut self, root: CertificateDer<'static>) -> Self {
                self.request.extra_roots.push(root);
                self
            }

            /// Judge certificate validity (for the system default) at this time, in
            /// seconds since the Unix epoch, instead of now.
            pub fn at_time(mut self, unix_seconds: i64) -> Self {
                self.request.now = Some(unix_seconds);
                self
            }
        }
    };
}

common_builder_methods!(ClientCredentialBuilder);
common_builder_methods!(ServerCredentialBuilder);

impl ClientCredentialBuilder<'_> {
    /// Do not validate the server's certificate; the application does it
    /// (`SCH_CRED_MANUAL_CRED_VALIDATION`). Dangerous: without the application's own
    /// check, any server is accepted.
    pub fn dangerous_manual_validation(mut self) -> Self {
        self.request.options.manual_validation = true;
        self
    }

    /// Acquire the credential (AcquireCredentialsHandle with SECPKG_CRED_OUTBOUND).
    pub fn acquire(self) -> Result<ClientCredential, Error> {
        acquire(Role::Client, self.request).map(|shared| ClientCredential {
            shared: Arc::new(shared),
        })
    }
}

impl ServerCredentialBuilder<'_> {
    /// Use the system default server certificate: the first certificate of `stores/My`
    /// that is valid now, has its key, and may authenticate a server. When there is none,
    /// 36872 is logged and the credential has no certificate ([`ServerCredential::has_certificate`]).
    pub fn system_default(mut self) -> Self {
        self.request.source = CertificateSource::SystemDefault;
        self
    }

    /// Ask clients for a certificate (`ASC_REQ_MUTUAL_AUTH`); clients may still send none.
    pub fn request_client_certificate(mut self) -> Self {
        self.request.options.request_client_certificate = true;
        self
    }

    /// Ask clients for a certificate and refuse those that send none.
    pub fn require_client_certificate(mut self) -> Self {
        self.request.options.request_client_certificate = true;
        self.request.options.require_client_certificate = true;
        self
    }

    /// Acquire the credential (AcquireCredentialsHandle with SECPKG_CRED_INBOUND).
    pub fn acquire(self) -> Result<ServerCredential, Error> {
        acquire(Role::Server, self.request).map(|shared| ServerCredential {
            shared: Arc::new(shared),
        })
    }
}

/// Where the key came from, for 36868.
struct KeyOrigin {
    name: String,
    /// CRYPT_MACHINE_KEYSET (0x20) for keys of the machine store, as Windows flags them.
    flags: u32,
}

/// The certificate and key found for a request, before checks.
struct Found {
    chain: Vec<CertificateDer<'static>>,
    key: Result<Arc<dyn SigningKey>, KeyFailure>,
    origin: KeyOrigin,
}

enum KeyFailure {
    /// No key for the certificate (36869).
    Missing(String),
    /// The key cannot be used (36870).
    Unusable(KeyProblem),
}

/// A failure of acquisition: what to log and what to return.
enum Failure {
    /// 36869.
    NoPrivateKey(ErrorState, String),
    /// 36870.
    Key(KeyProblem, String),
    /// 36871.
    Other(ErrorState, String),
}

fn acquire(role: Role, request: CredentialRequest<'_>) -> Result<CredentialShared, Error> {
    let fixed_time = request.now;
    let mut shared = acquire_at(role, request)?;
    // A credential made at a fixed time (`at_time`, for tests) also validates peers then.
    shared.validation_time = fixed_time
        .and_then(|t| u64::try_from(t).ok())
        .map(|t| rustls::pki_types::UnixTime::since_unix_epoch(std::time::Duration::from_secs(t)));
    Ok(shared)
}

fn acquire_at(role: Role, request: CredentialRequest<'_>) -> Result<CredentialShared, Error> {
    let provider = request.provider;
    let emitter = provider.emitter().clone();
    let stores = provider.stores();
    let now = request.now.unwrap_or_else(unix_now);

    let found: Result<Option<Found>, Failure> = match request.source {
        CertificateSource::None => match role {
            Role::Client => Ok(None),
            Role::Server => Err(Failure::Other(
                ErrorState::NoCertificate,
                "a server credential needs a certificate: give one, name one of the store, or ask for the system default".into(),
            )),
        },
        CertificateSource::Files { chain, key } => from_files(&chain, &key).map(Some),
        CertificateSource::Der { chain, key } => Ok(Some(Found {
            chain,
            key: load_signing_key(key).map_err(KeyFailure::Unusable),
            origin: KeyOrigin {
                name: "memory".into(),
                flags: 0,
            },
        })),
        CertificateSource::Pkcs12 { path, password } => from_pkcs12(&path, &password).map(Some),
        CertificateSource::Store(query) => match stores.find(StoreName::My, &query) {
            None => Err(Failure::Other(
                ErrorState::CertificateNotFound,
                format!("no certificate of the My store matches {query:?}"),
            )),
            Some(cert) => Ok(Some(Found {
                chain: cert.full_chain(),
                key: match stores.key_for(cert) {
                    None => Err(KeyFailure::Missing(format!(
                        "no key in keys/ has the public key of {}",
                        cert.path.display()
                    ))),
                    Some(k) => k.signing_key().map_err(|p| {
                        KeyFailure::Unusable(p)
                    }),
                },
                origin: KeyOrigin {
                    name: stores
                        .key_for(cert)
                        .map_or_else(|| "LocalMachine\\My".into(), |k| k.path.display().to_string()),
                    flags: CRYPT_MACHINE_KEYSET,
                },
            })),
        },
        CertificateSource::SystemDefault => match stores.default_server_certificate(now) {
            Some((cert, key)) => Ok(Some(Found {
                chain: cert.full_chain(),
                key: Ok(key),
                origin: KeyOrigin {
                    name: stores
                        .key_for(cert)
                        .map_or_else(|| "LocalMachine\\My".into(), |k| k.path.display().to_string()),
                    flags: CRYPT_MACHINE_KEYSET,
                },
            })),
            None => {
                // Windows gives the credential and fails the connection later (36886).
                emitter.event(EventId::CredentialCreating).field(role.name()).send();
                emitter.event(EventId::NoDefaultServerCredentialWarning).send();
                return finish(role, &request.options, &request.extra_roots, None, provider)
                    .map_err(|f| report(&emitter, role, f));
            }
        },
    };

    let end_entity = match &found {
        Ok(Some(f)) => f.chain.first().map(|c| Arc::<[u8]>::from(c.as_ref())),
        _ => None,
    };
    emitter
        .event(EventId::CredentialCreating)
        .field(role.name())
        .binary(end_entity.clone())
        .send();

    let certified = match found {
        Err(f) => return Err(report_with(&emitter, role, f, end_entity)),
        Ok(None) => None,
        Ok(Some(found)) => Some(
            certify(found, role, &emitter)
                .map_err(|f| report_with(&emitter, role, f, end_entity.clone()))?,
        ),
    };
    finish(
        role,
        &request.options,
        &request.extra_roots,
        certified,
        provider,
    )
    .map_err(|f| report(&emitter, role, f))
}

const CRYPT_MACHINE_KEYSET: u32 = 0x20;

/// Check the chain and key, pair them, and log 36868.
fn certify(found: Found, role: Role, emitter: &Emitter) -> Result<Arc<CertifiedKey>, Failure> {
    let Some(end_entity) = found.chain.first() else {
        return Err(Failure::Other(
            ErrorState::CertificateUnreadable,
            "the certificate chain is empty".into(),
        ));
    };
    for (i, cert) in found.chain.iter().enumerate() {
        if let Err(e) = x509_parser::parse_x509_certificate(cert) {
            return Err(Failure::Other(
                ErrorState::CertificateInvalid,
                format!("certificate {} of the chain is not valid X.509: {e}", i + 1),
            ));
        }
    }
    let key = match found.key {
        Ok(k) => k,
        Err(KeyFailure::Missing(why)) => {
            return Err(Failure::NoPrivateKey(ErrorState::NoPrivateKey, why))
        }
        Err(KeyFailure::Unusable(p)) => {
            let why = format!("the private key {p}");
            return Err(Failure::Key(p, why));
        }
    };
    let certified = CertifiedKey::new(found.chain.clone(), key.clone());
    match certified.keys_match() {
        Ok(()) => {}
        // A key provider that cannot tell its public key: trust the pairing we were given.
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            return Err(Failure::NoPrivateKey(
                ErrorState::KeyMismatch,
                format!(
                    "the private key ({}) belongs to another certificate",
                    found.origin.name
                ),
            ))
        }
        Err(e) => {
            return Err(Failure::Other(
                ErrorState::CertificateInvalid,
                format!("the certificate cannot be paired with its key: {e}"),
            ))
        }
    }
    let spki = key
        .public_key()
        .map(|s| s.to_vec())
        .or_else(|| {
            x509_parser::parse_x509_certificate(end_entity)
                .ok()
                .map(|(_, c)| c.public_key().raw.to_vec())
        })
        .unwrap_or_default();
    emitter
        .event(EventId::CredentialKeyProperties)
        .field(role.name())
        .field(CSP_NAME)
        .field(CSP_TYPE)
        .field(&found.origin.name)
        .field(key_type(&spki))
        .field(format_args!("0x{:08X}", found.origin.flags))
        .binary(Some(Arc::from(end_entity.as_ref())))
        .send();
    Ok(Arc::new(certified))
}

/// 36868's CSP name: the crypto module that holds the key.
pub const CSP_NAME: &str = "aws-lc-rs";
/// 36868's CSP type: keys are held in software by the process.
pub const CSP_TYPE: &str = "software";

/// Options, protocols and trust: the last step, shared by every source.
fn finish(
    role: Role,
    options: &CredentialOptions,
    extra_roots: &[CertificateDer<'static>],
    certified_key: Option<Arc<CertifiedKey>>,
    provider: &Provider,
) -> Result<CredentialShared, Failure> {
    let settings = provider.settings();
    if settings.protocols_for(role, &options.protocols).is_empty() {
        let asked = if options.protocols.is_empty() {
            "the settings enable".to_string()
        } else {
            format!(
                "of {} the settings allow",
                options
                    .protocols
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(Failure::Other(
            ErrorState::NoProtocolEnabled,
            format!(
                "no protocol that this provider speaks (TLS 1.2, TLS 1.3) {asked} for a {role}"
            ),
        ));
    }
    let stores = provider.stores();
    let mut roots = stores.root_cert_store();
    for root in extra_roots {
        if let Err(e) = roots.add(root.clone()) {
            return Err(Failure::Other(
                ErrorState::CertificateInvalid,
                format!("an added root certificate cannot be used as a trust anchor: {e}"),
            ));
        }
    }
    let mut shared = CredentialShared::new(
        role,
        provider.emitter().clone(),
        settings,
        certified_key,
        Arc::new(roots),
    );
    shared.intermediates = stores.intermediates();
    shared.crls = stores.crls().to_vec();
    shared.options = options.clone();
    shared.client_auth_trust_mode = shared.settings.client_auth_trust_mode();
    shared.send_trusted_issuer_list = shared.settings.send_trusted_issuer_list();
    shared.client_auth_trust_list = stores
        .certificates(StoreName::ClientAuth)
        .iter()
        .map(|c| c.der.clone())
        .collect();
    Ok(shared)
}

fn report(emitter: &Emitter, role: Role, failure: Failure) -> Error {
    report_with(emitter, role, failure, None)
}

/// Log the failure's event and make the caller's error.
fn report_with(
    emitter: &Emitter,
    role: Role,
    failure: Failure,
    certificate: Option<Arc<[u8]>>,
) -> Error {
    match failure {
        Failure::NoPrivateKey(state, why) => {
            emitter
                .event(EventId::CredentialNoPrivateKey)
                .field(role.name())
                .binary(certificate)
                .send();
            Error::new(
                Status::NoCredentials,
                format!("the {role} credential's certificate has no private key: {why}"),
            )
            .with_event(EventId::CredentialNoPrivateKey)
            .with_state(state)
        }
        Failure::Key(problem, why) => {
            let status = Status::UnknownCredentials;
            emitter
                .event(EventId::CredentialKeyAccessFailed)
                .field(role.name())
                .field(status.hex())
                .field(problem.state().code())
                .send();
            Error::new(
                status,
                format!("the {role} credential's private key cannot be used: {why}"),
            )
            .with_event(EventId::CredentialKeyAccessFailed)
            .with_state(problem.state())
        }
        Failure::Other(state, why) => {
            emitter
                .event(EventId::CredentialCreationFailed)
                .field(role.name())
                .field(state.code())
                .send();
            Error::new(
                status_of(state),
                format!("cannot create the {role} credential: {why}"),
            )
            .with_event(EventId::CredentialCreationFailed)
            .with_state(state)
        }
    }
}

/// The status AcquireCredentialsHandle returns for a 36871 error state.
fn status_of(state: ErrorState) -> Status {
    match state {
        // Nothing to authenticate with: Windows' SEC_E_NO_CREDENTIALS.
        ErrorState::NoCertificate | ErrorState::CertificateNotFound => Status::NoCredentials,
        // The protocol sets do not meet: SEC_E_ALGORITHM_MISMATCH, as for cipher suites.
        ErrorState::NoProtocolEnabled => Status::AlgorithmMismatch,
        ErrorState::EngineConfiguration => Status::InternalError,
        // A certificate that cannot be read or parsed is a credential we cannot use.
        _ => Status::UnknownCredentials,
    }
}

fn from_files(chain_path: &Path, key_path: &Path) -> Result<Found, Failure> {
    let bytes = std::fs::read(chain_path).map_err(|e| {
        Failure::Other(
            ErrorState::CertificateUnreadable,
            format!("{}: cannot be read: {e}", chain_path.display()),
        )
    })?;
    let chain = certificates_from_bytes(&bytes).map_err(|e| {
        Failure::Other(
            ErrorState::CertificateUnreadable,
            format!("{}: {e}", chain_path.display()),
        )
    })?;
    let key = match read_private_key_file(key_path) {
        // A missing key file is a certificate without its key (36869), not a bad key.
        Err(KeyProblem::Unreadable(e)) if !key_path.exists() => {
            Err(KeyFailure::Missing(format!("{}: {e}", key_path.display())))
        }
        Err(p) => Err(KeyFailure::Unusable(p)),
        Ok(der) => load_signing_key(der).map_err(KeyFailure::Unusable),
    };
    Ok(Found {
        chain,
        key,
        origin: KeyOrigin {
            name: key_path.display().to_string(),
            flags: 0,
        },
    })
}

fn from_pkcs12(path: &Path, password: &str) -> Result<Found, Failure> {
    let bytes = std::fs::read(path).map_err(|e| {
        Failure::Other(
            ErrorState::CertificateUnreadable,
            format!("{}: cannot be read: {e}", path.display()),
        )
    })?;
    let archive = match p12_keystore::Pkcs12Archive::from_pkcs12(&bytes, password) {
        Ok(a) => a,
        Err(e) => return Err(pkcs12_failure(path, e)),
    };
    let origin = KeyOrigin {
        name: path.display().to_string(),
        flags: 0,
    };
    let certs: Vec<CertificateDer<'static>> = archive
        .certs
        .iter()
        .map(|c| CertificateDer::from(c.cert.as_der().to_vec()))
        .collect();
    // Pair by public key: the bag attributes (localKeyId, friendly name) are optional.
    let mut keys = Vec::new();
    for bag in &archive.keys {
        let der = PrivateKeyDer::try_from(bag.key.as_der().to_vec()).map_err(|e| {
            Failure::Key(
                KeyProblem::Corrupt(e.to_string()),
                format!("{}: the private key is not PKCS#8: {e}", path.display()),
            )
        })?;
        match load_signing_key(der) {
            Ok(k) => keys.push(k),
            Err(p) => {
                let why = format!("{}: the private key {p}", path.display());
                return Err(Failure::Key(p, why));
            }
        }
    }
    let spki_of = |c: &CertificateDer<'_>| {
        x509_parser::parse_x509_certificate(c)
            .ok()
            .map(|(_, x)| x.public_key().raw.to_vec())
    };
    for key in &keys {
        let Some(key_spki) = key.public_key().map(|s| s.to_vec()) else {
            continue;
        };
        if let Some(i) = certs
            .iter()
            .position(|c| spki_of(c).as_deref() == Some(&key_spki[..]))
        {
            let mut chain = vec![certs[i].clone()];
            chain.extend(
                certs
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, c)| c.clone()),
            );
            return Ok(Found {
                chain,
                key: Ok(key.clone()),
                origin,
            });
        }
    }
    match (certs.is_empty(), keys.is_empty()) {
        (true, _) => Err(Failure::Other(
            ErrorState::CertificateUnreadable,
            format!("{}: the PKCS#12 file holds no certificate", path.display()),
        )),
        (false, true) => Ok(Found {
            chain: certs,
            key: Err(KeyFailure::Missing(format!(
                "{}: the PKCS#12 file holds no private key",
                path.display()
            ))),
            origin,
        }),
        (false, false) => Ok(Found {
            chain: certs,
            key: Err(KeyFailure::Missing(format!(
                "{}: no private key of the PKCS#12 file belongs to its certificates",
                path.display()
            ))),
            origin,
        }),
    }
}

/// p12-keystore's errors → our failure. A wrong password shows as a MAC mismatch (or,
/// in MAC-less files, as a decryption/padding failure); those are 36870 like Windows'
/// NTE_BAD_DATA on import.
fn pkcs12_failure(path: &Path, e: p12_keystore::error::Error) -> Failure {
    use p12_keystore::error::Error as E;
    let at = path.display();
    match e {
        E::MacError(_) | E::UnpadError | E::Pkcs5Error(_) | E::InvalidPrivateKey => Failure::Key(
            KeyProblem::WrongPassword,
            format!("{at}: the password is wrong or missing"),
        ),
        E::UnsupportedEncryptionScheme | E::UnsupportedMacAlgorithm => {
            let why = format!("{at}: {e}");
            Failure::Key(KeyProblem::Unsupported(e.to_string()), why)
        }
        other => Failure::Other(
            ErrorState::Pkcs12Invalid,
            format!("{at}: not a valid PKCS#12 file: {other}"),
        ),
    }
}

/// A private key from PEM or DER bytes, as the file loaders take it (for callers that
/// hold key bytes: `with_certificate_der(chain, private_key_from_pem_or_der(..)?)`).
pub fn private_key_from_pem_or_der(bytes: &[u8]) -> Result<PrivateKeyDer<'static>, KeyProblem> {
    private_key_from_bytes(bytes)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
