//! Acquisition (AcquireCredentialsHandle): find the certificate and key a request names,
//! check and pair them, gather the trust (stores, settings), and log what Schannel logs:
//! 36867 always, 36868 for a loaded key, 36869 / 36870 / 36871 for failures, 36872 for a
//! missing system default.

use super::{CredentialOptions, CredentialShared};
use crate::store::{
    certificates_from_bytes, key_type, load_signing_key, private_key_from_bytes,
    read_private_key_file, KeyProblem, StoreName, StoreQuery,
};
use crate::verify::Trust;
use crate::{Error, ErrorState, Provider, Role};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::{CertifiedKey, SigningKey};
use securechannel_events::{Emitter, EventId, Status};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::Zeroizing;

/// Where a credential's certificate and key come from.
pub(super) enum CertificateSource {
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
    Pkcs12 {
        path: PathBuf,
        password: Zeroizing<String>,
    },
    /// `stores/My`, by thumbprint or subject.
    Store(StoreQuery),
    /// The first qualifying certificate of `stores/My` (server only).
    SystemDefault,
}

/// What the builders collect.
pub(super) struct CredentialRequest<'p> {
    pub(super) provider: &'p Provider,
    pub(super) source: CertificateSource,
    pub(super) options: CredentialOptions,
    pub(super) extra_roots: Vec<CertificateDer<'static>>,
    /// The time the system default is chosen at (`None`: now).
    pub(super) default_certificate_time: Option<i64>,
    /// Server: more certificates, chosen by SNI.
    pub(super) more: Vec<CertificateSource>,
    /// Server: the first certificate is not a default (SNI bindings only).
    pub(super) sni_only: bool,
    /// Server: told what happens to the OCSP staple.
    pub(super) staple_observer: Option<crate::StapleObserver>,
}

impl<'p> CredentialRequest<'p> {
    pub(super) fn new(provider: &'p Provider) -> Self {
        CredentialRequest {
            provider,
            source: CertificateSource::None,
            options: CredentialOptions::default(),
            extra_roots: Vec::new(),
            default_certificate_time: None,
            more: Vec::new(),
            sni_only: false,
            staple_observer: None,
        }
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

pub(super) fn acquire(
    role: Role,
    request: CredentialRequest<'_>,
) -> Result<CredentialShared, Error> {
    let provider = request.provider;
    let emitter = provider.emitter().clone();
    let stores = provider.stores();
    let now = request.default_certificate_time.unwrap_or_else(unix_now);

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
                log_creating(&emitter, role, &request.options, None);
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
    log_creating(&emitter, role, &request.options, end_entity.clone());

    let certified = match found {
        Err(f) => return Err(report_with(&emitter, role, f, end_entity)),
        Ok(None) => None,
        Ok(Some(found)) => Some(
            certify(found, role, &emitter)
                .map_err(|f| report_with(&emitter, role, f, end_entity.clone()))?,
        ),
    };
    // More certificates for SNI, each checked and paired as the first (36868 each).
    let mut keys: Vec<Arc<CertifiedKey>> = certified.iter().cloned().collect();
    for source in request.more {
        let found = match source {
            CertificateSource::Files { chain, key } => from_files(&chain, &key),
            CertificateSource::Der { chain, key } => Ok(Found {
                chain,
                key: load_signing_key(key).map_err(KeyFailure::Unusable),
                origin: KeyOrigin {
                    name: "memory".into(),
                    flags: 0,
                },
            }),
            CertificateSource::Store(query) => from_store(&stores, &query),
            _ => Err(Failure::Other(
                ErrorState::NoCertificate,
                "an SNI certificate comes from files, memory or the My store".into(),
            )),
        };
        let end_entity = match &found {
            Ok(f) => f.chain.first().map(|c| Arc::<[u8]>::from(c.as_ref())),
            _ => None,
        };
        let key = found
            .and_then(|f| certify(f, role, &emitter))
            .map_err(|f| report_with(&emitter, role, f, end_entity))?;
        keys.push(key);
    }
    let mut shared = finish(
        role,
        &request.options,
        &request.extra_roots,
        certified,
        provider,
    )
    .map_err(|f| report(&emitter, role, f))?;
    if keys.len() > 1 || request.sni_only {
        shared.server_certificates =
            Arc::new(super::ServerCertificates::new(keys, !request.sni_only));
    }
    if role == Role::Server {
        shared.staple = staples(&mut shared, request.staple_observer, provider).map_err(|why| {
            report(
                &emitter,
                role,
                Failure::Other(ErrorState::CertificateInvalid, why),
            )
        })?;
    }
    Ok(shared)
}

/// A certificate of `stores/My` and its key.
fn from_store(
    stores: &crate::store::CertificateStores,
    query: &StoreQuery,
) -> Result<Found, Failure> {
    let Some(cert) = stores.find(StoreName::My, query) else {
        return Err(Failure::Other(
            ErrorState::CertificateNotFound,
            format!("no certificate of the My store matches {query:?}"),
        ));
    };
    Ok(Found {
        chain: cert.full_chain(),
        key: match stores.key_for(cert) {
            None => Err(KeyFailure::Missing(format!(
                "no key in keys/ has the public key of {}",
                cert.path.display()
            ))),
            Some(k) => k.signing_key().map_err(KeyFailure::Unusable),
        },
        origin: KeyOrigin {
            name: stores.key_for(cert).map_or_else(
                || "LocalMachine\\My".into(),
                |k| k.path.display().to_string(),
            ),
            flags: CRYPT_MACHINE_KEYSET,
        },
    })
}

/// The OCSP staples of a server credential's certificates, as its options (or the
/// settings) ask: in auto mode each certificate gets its own, from its own responder; a
/// staple file belongs to the first (default) certificate. Returns the first's.
fn staples(
    shared: &mut CredentialShared,
    observer: Option<crate::StapleObserver>,
    provider: &Provider,
) -> Result<Option<Arc<crate::staple::Staple>>, String> {
    use crate::OcspStapling;
    let mode = match &shared.options.ocsp_stapling {
        OcspStapling::Settings if shared.settings.ocsp_stapling_for_sni() => OcspStapling::Auto,
        OcspStapling::Settings | OcspStapling::Off => return Ok(None),
        other => other.clone(),
    };
    let mut staples = Vec::new();
    for (i, key) in shared.server_certificates.keys().enumerate() {
        let staple = match (&mode, i) {
            (OcspStapling::Auto, _) | (OcspStapling::File(_), 0) => {
                staple(shared, key, mode.clone(), observer.clone(), provider)?
            }
            _ => None,
        };
        staples.push(staple);
    }
    let first = staples.first().cloned().flatten();
    let certificates = Arc::get_mut(&mut shared.server_certificates)
        .ok_or("the server certificates are in use before their staples are set")?;
    certificates.set_staples(staples);
    Ok(first)
}

/// One certificate's OCSP staple.
fn staple(
    shared: &CredentialShared,
    key: Arc<CertifiedKey>,
    mode: crate::OcspStapling,
    observer: Option<crate::StapleObserver>,
    provider: &Provider,
) -> Result<Option<Arc<crate::staple::Staple>>, String> {
    let stores = provider.stores();
    let issuer = key.cert.first().and_then(|leaf| {
        let (_, parsed) = x509_parser::parse_x509_certificate(leaf).ok()?;
        let wanted = parsed.issuer().as_raw();
        key.cert[1..]
            .iter()
            .chain(stores.intermediates().iter())
            .chain(shared.trust.root_certificates.iter())
            .find(|c| {
                x509_parser::parse_x509_certificate(c)
                    .map(|(_, c)| c.subject().as_raw() == wanted)
                    .unwrap_or(false)
            })
            .cloned()
    });
    crate::staple::start(
        key,
        crate::staple::StapleSetup {
            mode,
            issuer,
            cache_dir: provider.data_dir().map(|d| d.join("ocsp")),
            limits: shared.trust.crl_fetch,
            validation_time: shared.options.dangerous_validation_time,
            observer,
        },
    )
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
    let protocols = settings.protocols_for(role, &options.protocols);
    if role == Role::Server && !settings.is_usable(&protocols) {
        // A server would refuse every client; Windows refuses such a credential at once.
        return Err(Failure::Other(
            ErrorState::NoUsableCipherSuite,
            format!(
                "the settings leave no cipher suite usable with {} (see `schannel config show`)",
                protocols
                    .iter()
                    .map(|p| p.name())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ));
    }
    let stores = provider.stores();
    let mut roots = match options.only_added_roots {
        true => rustls::RootCertStore::empty(),
        false => stores.root_cert_store(),
    };
    for root in extra_roots {
        if let Err(e) = roots.add(root.clone()) {
            return Err(Failure::Other(
                ErrorState::CertificateInvalid,
                format!("an added root certificate cannot be used as a trust anchor: {e}"),
            ));
        }
    }
    let mut trust = Trust::new(Arc::new(roots));
    let stored_roots = match options.only_added_roots {
        true => &[][..],
        false => stores.certificates(StoreName::Root),
    };
    trust.root_certificates = stored_roots
        .iter()
        .map(|c| c.der.clone())
        .chain(extra_roots.iter().cloned())
        .collect();
    trust.intermediates = stores.intermediates();
    trust.crls = stores.crls().to_vec();
    trust.crl_cache_dir = provider.data_dir().map(|d| d.join("crl"));
    trust.client_auth_trust_mode = settings.client_auth_trust_mode();
    trust.send_trusted_issuer_list = settings.send_trusted_issuer_list();
    trust.client_auth_trust_list = stores
        .certificates(StoreName::ClientAuth)
        .iter()
        .map(|c| c.der.clone())
        .collect();
    let key_log: Option<Arc<dyn rustls::KeyLog>> = match &options.dangerous_key_log {
        None => None,
        Some(path) => Some(Arc::new(crate::keylog::KeyLogFile::open(path).map_err(|e| {
            Failure::Other(
                ErrorState::KeyLogUnwritable,
                format!(
                    "cannot open the key log {} for appending: {e}; name a file in a writable directory",
                    path.display()
                ),
            )
        })?)),
    };
    // A server that asks for client certificates maps them by the data directory's rules.
    let mappings = match (
        role,
        options.request_client_certificate,
        provider.data_dir(),
    ) {
        (Role::Server, true, Some(dir)) => crate::MappingRules::load(dir)
            .map_err(|e| Failure::Other(ErrorState::MappingsInvalid, e.to_string()))?
            .map(Arc::new),
        _ => None,
    };
    let mut shared = CredentialShared::new(
        role,
        provider.emitter().clone(),
        settings,
        certified_key,
        trust,
        options.clone(),
    );
    shared.key_log = key_log;
    shared.mappings = mappings;
    Ok(shared)
}

/// 36867, "Creating a TLS %1 credential.". With the dangerous key log on, its Type says
/// so and names the file, and the record is written whatever `EventLogging` is: an
/// administrator reading the System log must be able to see that session secrets are
/// leaving the process.
fn log_creating(
    emitter: &Emitter,
    role: Role,
    options: &CredentialOptions,
    end_entity: Option<Arc<[u8]>>,
) {
    match &options.dangerous_key_log {
        None => emitter
            .event(EventId::CredentialCreating)
            .field(role.name())
            .binary(end_entity)
            .send(),
        Some(path) => {
            let mut record = emitter.blank(EventId::CredentialCreating);
            record.data.push_display(format_args!(
                "{} (DANGEROUS: the TLS session secrets of its connections are written to {})",
                role.name(),
                path.display()
            ));
            record.binary = end_entity;
            emitter.sink().emit(record);
        }
    }
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
        ErrorState::NoProtocolEnabled | ErrorState::NoUsableCipherSuite => {
            Status::AlgorithmMismatch
        }
        ErrorState::EngineConfiguration | ErrorState::MappingsInvalid => Status::InternalError,
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
        Err(KeyProblem::Unreadable(e)) if e.kind() == std::io::ErrorKind::NotFound => {
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
