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

mod acquire;
mod memory;
mod sni;

pub(crate) use sni::{CertificateChoice, ServerCertificates};

pub use acquire::{private_key_from_pem_or_der, CSP_NAME, CSP_TYPE};

use acquire::{acquire, CertificateSource, CredentialRequest};

use crate::engine::{ClientSetup, ConfigCache, ConfigError, ServerSetup};
use crate::store::{self, StoreQuery};
use crate::verify::{self, RevocationCheck, RevocationOffline, Trust};
use crate::{Error, Protocol, Provider, Role, Settings};
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer, UnixTime};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, ServerConfig};
use securechannel_events::Emitter;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock, RwLock};
use zeroize::Zeroizing;

/// What a caller may ask of a credential beyond the system settings (SCH_CREDENTIALS).
///
/// Start from `CredentialOptions::default()` and set fields; more will be added.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CredentialOptions {
    /// Narrow the enabled protocols to these (empty: the settings decide).
    pub protocols: Vec<Protocol>,
    /// Server: ask for a client certificate (`ASC_REQ_MUTUAL_AUTH`).
    pub request_client_certificate: bool,
    /// Server: refuse clients that send none.
    pub require_client_certificate: bool,
    /// Client: do not validate the server certificate here; the application will
    /// (`SCH_CRED_MANUAL_CRED_VALIDATION`). Dangerous: without the application's own
    /// check, any server is accepted.
    pub dangerous_manual_validation: bool,
    /// Which certificates of the peer's path are checked for revocation
    /// (SCH_CRED_REVOCATION_CHECK_END_CERT / _CHAIN / _CHAIN_EXCLUDE_ROOT, or none);
    /// default the chain below the root.
    pub revocation_check: RevocationCheck,
    /// What an unknown revocation status does (no CRL, an expired CRL, an unreachable
    /// distribution point): refuse (CRYPT_E_REVOCATION_OFFLINE / _NO_REVOCATION_CHECK) or
    /// ignore (SCH_CRED_IGNORE_NO_REVOCATION_CHECK | _IGNORE_REVOCATION_OFFLINE). The
    /// default is ignore, so CRLs in `crl/` are honoured without requiring one for every
    /// peer; [`ClientCredentialBuilder::revocation`] sets both.
    pub revocation_offline: RevocationOffline,
    /// How long one CRL distribution point may take (default [`verify::CRL_FETCH_TIMEOUT`]).
    pub crl_fetch_timeout: Option<std::time::Duration>,
    /// The largest CRL a distribution point may send (default [`verify::CRL_MAX_BYTES`]).
    pub crl_max_bytes: Option<usize>,
    /// Trust only the roots added on the builder (`add_root`), not `stores/Root` (what
    /// `schannel cert verify --roots DIR` uses).
    pub only_added_roots: bool,
    /// Validate peer certificates at this time instead of the clock. Dangerous: a time
    /// in the past accepts certificates that have expired since (for tests at a fixed
    /// clock, and for diagnosing a chain against a given date).
    pub dangerous_validation_time: Option<UnixTime>,
    /// Append every connection's TLS session secrets to this file, in the NSS key log
    /// format Wireshark reads. Dangerous: whoever reads the file can decrypt the
    /// traffic. The credential's 36867 event says so (whatever `EventLogging` is); the
    /// `SSLKEYLOGFILE` environment variable is never read.
    pub dangerous_key_log: Option<std::path::PathBuf>,
    /// Server: where the OCSP response stapled with the certificate comes from (default:
    /// as `EnableOcspStaplingForSni` says).
    pub ocsp_stapling: crate::OcspStapling,
}

/// What client and server credentials share; the contract with security contexts.
pub(crate) struct CredentialShared {
    pub(crate) role: Role,
    /// The security contexts log their events through the credential's emitter.
    pub(crate) emitter: Emitter,
    pub(crate) settings: Arc<Settings>,
    /// The certificate chain and signing key (absent: a client without a certificate, or a
    /// server relying on a system default that does not exist, see 36872/36886).
    pub(crate) certified_key: Option<Arc<CertifiedKey>>,
    /// Server: the certificate's OCSP staple (`None`: none is stapled).
    pub(crate) staple: Option<Arc<crate::staple::Staple>>,
    /// What peers are validated against.
    pub(crate) trust: Trust,
    pub(crate) options: CredentialOptions,
    /// The rustls configurations built from this credential, reused by every context.
    pub(crate) configs: ConfigCache,
    /// Server: its certificates, chosen per hello by SNI (the first is `certified_key`).
    pub(crate) server_certificates: Arc<ServerCertificates>,
    /// Server: the client-certificate mapping rules (`mappings.toml`); `None`: no mapping.
    pub(crate) mappings: Option<Arc<crate::MappingRules>>,
    /// The subject of the credential's own certificate, for 36880 (parsed once).
    local_subject: OnceLock<String>,
    /// The IANA numbers of the cipher suites this credential offers (computed once).
    suite_numbers: OnceLock<Vec<u16>>,
    /// Peer certificates' subjects, for 36880: a client talking to a few servers, or a
    /// server seeing the same clients again, parses each once.
    remote_subjects: SubjectCache,
    /// The dangerous key log, when the options name one (opened at acquisition).
    pub(crate) key_log: Option<Arc<dyn rustls::KeyLog>>,
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
    /// The shared part of a credential. The options' revocation settings and validation
    /// time go into `trust`.
    pub(crate) fn new(
        role: Role,
        emitter: Emitter,
        settings: Arc<Settings>,
        certified_key: Option<Arc<CertifiedKey>>,
        mut trust: Trust,
        options: CredentialOptions,
    ) -> CredentialShared {
        trust.revocation_check = options.revocation_check;
        trust.revocation_offline = options.revocation_offline;
        if let Some(t) = options.crl_fetch_timeout {
            trust.crl_fetch.timeout = t;
        }
        if let Some(n) = options.crl_max_bytes {
            trust.crl_fetch.max_bytes = n;
        }
        trust.validation_time = options.dangerous_validation_time;
        trust.min_server_rsa_bits = settings.client_min_rsa_key_bits();
        let server_certificates = Arc::new(ServerCertificates::new(
            certified_key.iter().cloned().collect(),
            true,
        ));
        CredentialShared {
            role,
            emitter,
            settings,
            certified_key,
            staple: None,
            trust,
            options,
            configs: ConfigCache::default(),
            server_certificates,
            mappings: None,
            local_subject: OnceLock::new(),
            suite_numbers: OnceLock::new(),
            remote_subjects: SubjectCache::default(),
            key_log: None,
        }
    }

    fn certificate(&self) -> Option<&CertificateDer<'static>> {
        self.certified_key.as_ref().and_then(|k| k.cert.first())
    }

    /// The protocols of this credential: the settings' defaults, or the credential's own
    /// list (which may name a protocol that is disabled by default, never a disabled one).
    pub(crate) fn protocols(&self) -> Vec<Protocol> {
        self.settings
            .protocols_for(self.role, &self.options.protocols)
    }

    /// The client configuration (with or without SNI), built on first use.
    pub(crate) fn client_config(&self, send_sni: bool) -> Result<Arc<ClientConfig>, ConfigError> {
        self.configs.client(send_sni, || {
            let protocols = self.protocols();
            Ok(ClientSetup {
                provider: self.settings.crypto_provider_for(&protocols),
                protocols,
                verifier: verify::server_verifier(
                    &self.trust,
                    self.options.dangerous_manual_validation,
                )
                .map_err(ConfigError::Other)?,
                resolver: verify::client_cert_resolver(self.certified_key.clone()),
                resumption: crate::resumption::client_resumption(
                    self.settings.session_cache_time(Role::Client),
                ),
                key_log: self.key_log.clone(),
            })
        })
    }

    /// The server configuration offering `alpn`, built on first use.
    pub(crate) fn server_config(&self, alpn: &[Vec<u8>]) -> Result<Arc<ServerConfig>, ConfigError> {
        self.configs.server(alpn, || {
            let protocols = self.protocols();
            Ok(ServerSetup {
                provider: self.settings.crypto_provider_for(&protocols),
                protocols,
                client_verifier: verify::client_verifier(
                    &self.trust,
                    self.options.request_client_certificate,
                    self.options.require_client_certificate,
                )
                .map_err(ConfigError::Other)?,
                certificates: self.server_certificates.clone(),
                resumption: crate::resumption::ServerResumptionPolicy {
                    cache_size: self.settings.maximum_cache_size(),
                    lifetime: self.settings.session_cache_time(Role::Server),
                },
                key_log: self.key_log.clone(),
            })
        })
    }

    /// The IANA numbers of the cipher suites this credential's contexts offer or accept
    /// (the settings' suites for its protocols, see `policy`).
    pub(crate) fn suite_numbers(&self) -> &[u16] {
        self.suite_numbers.get_or_init(|| {
            self.settings
                .crypto_provider_for(&self.protocols())
                .cipher_suites
                .iter()
                .map(|s| u16::from(s.suite()))
                .collect()
        })
    }

    /// The subject name of the credential's own end-entity certificate, for 36880.
    pub(crate) fn local_subject(&self) -> &str {
        self.local_subject.get_or_init(|| {
            self.certificate()
                .and_then(|c| store::subject_name(c.as_ref()))
                .unwrap_or_default()
        })
    }

    /// The subject name of a peer's end-entity certificate, for 36880.
    pub(crate) fn remote_subject(&self, der: &[u8]) -> Arc<str> {
        self.remote_subjects.subject(der)
    }
}

/// Subjects of certificates by their DER, bounded. Lookups share a read lock; a miss is
/// parsed outside any lock, so many peers never queue behind one parse.
#[derive(Default)]
struct SubjectCache {
    entries: RwLock<HashMap<Box<[u8]>, Arc<str>, TailHash>>,
}

/// Hashes a certificate by its length and last [`TailHash::BYTES`] bytes (its signature:
/// random to anyone but the issuer) with the process's random SipHash keys, not its whole
/// DER: a lookup on every handshake hashed ~500 bytes (measured in the resumed-handshake
/// profile). Equality still compares the whole DER, so only the spread depends on it.
#[derive(Default, Clone)]
struct TailHash(std::collections::hash_map::RandomState);

impl TailHash {
    const BYTES: usize = 32;
}

impl std::hash::BuildHasher for TailHash {
    type Hasher = TailHasher;

    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.0.build_hasher())
    }
}

/// See [`TailHash`].
struct TailHasher(std::collections::hash_map::DefaultHasher);

impl std::hash::Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0
            .write(&bytes[bytes.len().saturating_sub(TailHash::BYTES)..]);
    }

    fn write_usize(&mut self, n: usize) {
        self.0.write_usize(n);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

impl SubjectCache {
    /// Entries kept; past it the cache starts over (a server with more distinct peers
    /// than this parses again, never grows).
    const CAPACITY: usize = 1024;

    fn subject(&self, der: &[u8]) -> Arc<str> {
        self.subject_with(der, store::subject_name)
    }

    /// [`Self::subject`] with the parser given (tests count its calls).
    fn subject_with(&self, der: &[u8], parse: impl FnOnce(&[u8]) -> Option<String>) -> Arc<str> {
        if let Some(s) = self
            .entries
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(der)
        {
            return s.clone();
        }
        let subject: Arc<str> = parse(der).unwrap_or_default().into();
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= Self::CAPACITY {
            entries.clear();
        }
        entries.insert(der.into(), subject.clone());
        subject
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
                self.shared.trust.roots.len()
            }

            /// The CRLs the credential checks revocation against.
            pub fn crls(&self) -> &[CertificateRevocationListDer<'static>] {
                &self.shared.trust.crls
            }

            /// The protocols this credential's contexts offer or accept (the settings'
            /// defaults, narrowed by [`CredentialOptions::protocols`]).
            pub fn protocols(&self) -> Vec<Protocol> {
                self.shared.protocols()
            }

            /// The cipher suites this credential's contexts offer or accept, in order.
            pub fn cipher_suites(&self) -> Vec<crate::CipherSuite> {
                self.shared
                    .suite_numbers()
                    .iter()
                    .filter_map(|&n| crate::policy::suite(n))
                    .map(|s| crate::CipherSuite {
                        name: s.name,
                        number: s.number,
                        cipher: s.cipher,
                        cipher_strength: s.cipher_strength,
                        prf_hash: s.prf_hash,
                    })
                    .collect()
            }

            /// The intermediate certificates (stores/CA) available for path building.
            pub fn intermediates(&self) -> &[CertificateDer<'static>] {
                &self.shared.trust.intermediates
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
            /// The password is kept only until `acquire`, and wiped from memory then.
            pub fn with_pkcs12(mut self, path: impl AsRef<Path>, password: &str) -> Self {
                self.request.source = CertificateSource::Pkcs12 {
                    path: path.as_ref().to_path_buf(),
                    password: Zeroizing::new(password.to_string()),
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

            /// Choose the system default certificate (the first of `stores/My` valid at
            /// the time) as if it were this time, in seconds since the Unix epoch, instead
            /// of now. Peers are still validated at the clock's time (see
            /// [`Self::dangerous_validation_time`]).
            pub fn default_certificate_time(mut self, unix_seconds: i64) -> Self {
                self.request.default_certificate_time = Some(unix_seconds);
                self
            }

            /// Trust only the roots given with [`Self::add_root`]: `stores/Root` is not
            /// used by this credential.
            pub fn only_added_roots(mut self) -> Self {
                self.request.options.only_added_roots = true;
                self
            }

            /// Check the peer's certificates for revocation: which ones (`check`), and what
            /// a status that cannot be known does (`offline`: fail with
            /// CRYPT_E_REVOCATION_OFFLINE, as Schannel does by default when checking, or
            /// ignore). CRLs come from `crl/` and from the certificates' CRL Distribution
            /// Points (`http://`, `file://`), which are fetched before the handshake goes
            /// on and kept in `crl/` until their nextUpdate.
            pub fn revocation(
                mut self,
                check: RevocationCheck,
                offline: RevocationOffline,
            ) -> Self {
                self.request.options.revocation_check = check;
                self.request.options.revocation_offline = offline;
                self
            }

            /// The limits of a CRL distribution point: the time one may take (connect,
            /// request and answer), and the largest CRL it may send.
            pub fn crl_fetch_limits(
                mut self,
                timeout: std::time::Duration,
                max_bytes: usize,
            ) -> Self {
                self.request.options.crl_fetch_timeout = Some(timeout);
                self.request.options.crl_max_bytes = Some(max_bytes);
                self
            }

            /// Append the TLS session secrets of this credential's connections to `path`
            /// (NSS key log format, for Wireshark; created with mode 0600). Dangerous:
            /// whoever reads the file decrypts the traffic. The credential's 36867 event
            /// says so and names the file, whatever `EventLogging` is.
            pub fn dangerous_key_log(mut self, path: impl AsRef<std::path::Path>) -> Self {
                self.request.options.dangerous_key_log = Some(path.as_ref().to_path_buf());
                self
            }

            /// Validate peer certificates at this time, in seconds since the Unix epoch,
            /// instead of the clock's. Dangerous: a time in the past accepts
            /// certificates that have expired since (meant for tests at a fixed clock,
            /// and for diagnosing a chain against a given date).
            pub fn dangerous_validation_time(mut self, unix_seconds: u64) -> Self {
                self.request.options.dangerous_validation_time = Some(UnixTime::since_unix_epoch(
                    std::time::Duration::from_secs(unix_seconds),
                ));
                self
            }
        }
    };
}

common_builder_methods!(ClientCredentialBuilder);
common_builder_methods!(ServerCredentialBuilder);

impl ClientCredential {
    /// Validate a server's certificate chain (end entity first) offline, through the
    /// verifier this credential's contexts use, for `name` (`None`: only the chain, not
    /// the name, is judged). The refusal is the error a context would return (its status,
    /// its [`Error::chain_status`], the same message); no event is logged.
    pub fn validate_server_chain(
        &self,
        chain: &[CertificateDer<'static>],
        name: Option<&str>,
    ) -> Result<(), Error> {
        crate::context::validate(&self.shared, chain, name)
    }
}

impl ServerCredential {
    /// The OCSP response stapled now (DER), if any: one that has not passed its
    /// nextUpdate.
    pub fn ocsp_staple(&self) -> Option<Vec<u8>> {
        self.shared
            .staple
            .as_ref()
            .and_then(|s| s.key().ocsp.clone())
    }

    /// Validate a client's certificate chain (end entity first) offline, through the
    /// verifier this credential's contexts use (as if it required a client certificate).
    pub fn validate_client_chain(&self, chain: &[CertificateDer<'static>]) -> Result<(), Error> {
        crate::context::validate(&self.shared, chain, None)
    }
}

impl ClientCredentialBuilder<'_> {
    /// Do not validate the server's certificate; the application does it
    /// (`SCH_CRED_MANUAL_CRED_VALIDATION`). Dangerous: without the application's own
    /// check, any server is accepted.
    pub fn dangerous_manual_validation(mut self) -> Self {
        self.request.options.dangerous_manual_validation = true;
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

    /// One more certificate (chain and key files, as [`Self::with_certificate_files`]) for
    /// the hellos whose server name (SNI) its subjectAltName DNS names hold, exactly or by
    /// wildcard; the credential's first certificate stays the default for the others.
    pub fn add_certificate_files(mut self, chain: impl AsRef<Path>, key: impl AsRef<Path>) -> Self {
        self.request.more.push(CertificateSource::Files {
            chain: chain.as_ref().to_path_buf(),
            key: key.as_ref().to_path_buf(),
        });
        self
    }

    /// One more certificate, DER in memory (see [`Self::add_certificate_files`]).
    pub fn add_certificate_der(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        self.request
            .more
            .push(CertificateSource::Der { chain, key });
        self
    }

    /// One more certificate of `stores/My` (see [`Self::add_certificate_files`]).
    pub fn add_from_store(mut self, query: StoreQuery) -> Self {
        self.request.more.push(CertificateSource::Store(query));
        self
    }

    /// No default certificate: a hello whose server name no certificate holds (or that
    /// names none) is refused with 36886 and access_denied, as on an IIS site with SNI
    /// bindings only.
    pub fn sni_only(mut self) -> Self {
        self.request.sni_only = true;
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

    /// Staple an OCSP response with the certificate (see [`crate::OcspStapling`]): from
    /// the certificate's responder, kept in the data directory's `ocsp/` and refreshed
    /// in the background (`Auto`), or from a DER file (`File`, refused at acquisition
    /// when it does not answer for the certificate or has expired).
    pub fn ocsp_stapling(mut self, mode: crate::OcspStapling) -> Self {
        self.request.options.ocsp_stapling = mode;
        self
    }

    /// Be told what happens to the OCSP staple (fetched, failed, with the status and
    /// when it is tried again); called from the refresh thread.
    pub fn on_staple_report(mut self, observer: crate::StapleObserver) -> Self {
        self.request.staple_observer = Some(observer);
        self
    }

    /// Acquire the credential (AcquireCredentialsHandle with SECPKG_CRED_INBOUND).
    pub fn acquire(self) -> Result<ServerCredential, Error> {
        acquire(Role::Server, self.request).map(|shared| ServerCredential {
            shared: Arc::new(shared),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::SubjectCache;
    use std::cell::Cell;

    #[test]
    fn subject_cache_parses_each_peer_once_and_stays_bounded() {
        let cache = SubjectCache::default();
        let parses = Cell::new(0);
        let parse = |der: &[u8]| {
            parses.set(parses.get() + 1);
            Some(format!("CN={}", der[0]))
        };
        // Two peers in turn: a single-entry cache (the old one) parsed on every turn.
        for _ in 0..10 {
            assert_eq!(&*cache.subject_with(&[1], parse), "CN=1");
            assert_eq!(&*cache.subject_with(&[2], parse), "CN=2");
        }
        assert_eq!(parses.get(), 2);
        // Many peers: the cache never holds more than its capacity.
        for i in 0..(SubjectCache::CAPACITY as u32 * 3) {
            cache.subject_with(&i.to_be_bytes(), parse);
        }
        let held = cache.entries.read().map(|e| e.len()).unwrap_or(usize::MAX);
        assert!(held <= SubjectCache::CAPACITY, "{held}");
    }
}
