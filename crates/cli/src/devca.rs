//! A development certificate for `schannel serve`'s first run: when `stores/My` holds no
//! server certificate, a local CA (trusted by adding it to stores/Root and, if wished, to
//! the system) and a `localhost` certificate it issues. Idempotent: a second run finds
//! the certificate and creates nothing.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use securechannel::{thumbprint, CertificateStores, Error, ErrorState, Status, StoreName};
use std::io::Write;
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

/// The development CA's certificate file name in `stores/Root`.
pub const DEV_CA_CERT: &str = "dev-ca.pem";
/// The development CA's key file name in `keys/`.
pub const DEV_CA_KEY: &str = "dev-ca.key";

const LEAF_DAYS: i64 = 365;
const CA_DAYS: i64 = 3652;

/// What [`ensure_dev_credential`] found or made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevCredential {
    /// Whether a server certificate was created now (false: one already qualified).
    pub created: bool,
    /// Whether the development CA was created now.
    pub created_ca: bool,
    /// The server certificate's file in `stores/My`.
    pub certificate: PathBuf,
    /// Its key in `keys/`, when known.
    pub key: Option<PathBuf>,
    /// The development CA's certificate in `stores/Root`, when there is one.
    pub ca_certificate: Option<PathBuf>,
    /// The server certificate's SHA-1 thumbprint.
    pub thumbprint: String,
    /// The server certificate's subject.
    pub subject: String,
}

impl DevCredential {
    /// How to make clients trust the development CA.
    pub fn trust_instructions(&self) -> String {
        let Some(ca) = &self.ca_certificate else {
            return format!(
                "The server certificate {} ({}) is not issued by the development CA; make clients trust its issuer.",
                self.certificate.display(),
                self.thumbprint
            );
        };
        let ca = ca.display();
        format!(
            "Clients must trust the development CA {ca}:\n  \
             curl --cacert {ca} https://localhost:8443/\n  \
             openssl s_client -CAfile {ca} -connect localhost:8443\n  \
             system-wide (Debian/Ubuntu): sudo cp {ca} /usr/local/share/ca-certificates/securechannel-dev-ca.crt && sudo update-ca-certificates\n\
             It is a development CA: do not trust it on machines other than your own."
        )
    }
}

/// Make sure `stores/My` has a server certificate: if none qualifies (valid now, its key
/// in `keys/`, server-authentication usage), create a development CA (ECDSA P-256, 10
/// years; `stores/Root/dev-ca.pem`, `keys/dev-ca.key`, reused if present) and a
/// certificate for `localhost`, `127.0.0.1` and `::1` (ECDSA P-256, 1 year, serverAuth;
/// `stores/My/localhost.pem`, `keys/localhost.key`). Keys are written with mode 0600.
pub fn ensure_dev_credential(data_dir: &Path) -> Result<DevCredential, Error> {
    let now = OffsetDateTime::now_utc();
    let stores = CertificateStores::open(data_dir)?;
    let root_dir = data_dir.join("stores").join(StoreName::Root.dir_name());
    let ca_path = root_dir.join(DEV_CA_CERT);
    if let Some((cert, _)) = stores.default_server_certificate(now.unix_timestamp()) {
        return Ok(DevCredential {
            created: false,
            created_ca: false,
            certificate: cert.path.clone(),
            key: stores.key_for(cert).map(|k| k.path.clone()),
            ca_certificate: ca_path.exists().then_some(ca_path),
            thumbprint: cert.thumbprint.clone(),
            subject: cert.subject.clone(),
        });
    }

    let keys_dir = data_dir.join("keys");
    let ca_key_path = keys_dir.join(DEV_CA_KEY);
    let (issuer, created_ca) = match existing_ca(&ca_path, &ca_key_path) {
        Some(issuer) => (issuer, false),
        None => {
            let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_error)?;
            let mut params = CertificateParams::default();
            params
                .distinguished_name
                .push(DnType::CommonName, "securechannel development CA");
            params
                .distinguished_name
                .push(DnType::OrganizationName, "securechannel (development)");
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            params.not_before = now - Duration::days(1);
            params.not_after = now + Duration::days(CA_DAYS);
            let cert = params.self_signed(&key).map_err(rcgen_error)?;
            // A CA left over without its key (or the reverse) is replaced as a pair.
            write_file(&ca_key_path, key.serialize_pem().as_bytes(), true, true)?;
            write_file(&ca_path, cert.pem().as_bytes(), false, true)?;
            (Issuer::new(params, key), true)
        }
    };

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(rcgen_error)?;
    let mut params = CertificateParams::new(vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ])
    .map_err(rcgen_error)?;
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "securechannel (development)");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(LEAF_DAYS);
    let cert = params.signed_by(&key, &issuer).map_err(rcgen_error)?;

    let my_dir = data_dir.join("stores").join(StoreName::My.dir_name());
    let (cert_path, key_path) = free_names(&my_dir, &keys_dir, "localhost");
    write_file(&key_path, key.serialize_pem().as_bytes(), true, false)?;
    write_file(&cert_path, cert.pem().as_bytes(), false, false)?;
    let subject = securechannel::subject_name(cert.der()).unwrap_or_else(|| "CN=localhost".into());
    Ok(DevCredential {
        created: true,
        created_ca,
        certificate: cert_path,
        key: Some(key_path),
        ca_certificate: Some(ca_path),
        thumbprint: thumbprint(cert.der()),
        subject,
    })
}

/// The development CA of an earlier run, if both its files are there and belong together.
fn existing_ca(cert: &Path, key: &Path) -> Option<Issuer<'static, KeyPair>> {
    let cert_pem = std::fs::read_to_string(cert).ok()?;
    let key = KeyPair::from_pem(&std::fs::read_to_string(key).ok()?).ok()?;
    let der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).ok()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(&der).ok()?;
    // The key must be the certificate's, or the leaf would not chain.
    if parsed.public_key().raw != rcgen::PublicKeyData::subject_public_key_info(&key).as_slice() {
        return None;
    }
    Issuer::from_ca_cert_der(&der, key).ok()
}

/// `stem.pem` / `stem.key`, or `stem-2.pem` / `stem-2.key`, ... whichever pair is free,
/// so an expired certificate of an earlier run is never overwritten.
fn free_names(my_dir: &Path, keys_dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
    let mut n = 1u32;
    loop {
        let name = if n == 1 {
            stem.to_string()
        } else {
            format!("{stem}-{n}")
        };
        let cert = my_dir.join(format!("{name}.pem"));
        let key = keys_dir.join(format!("{name}.key"));
        if !cert.exists() && !key.exists() {
            return (cert, key);
        }
        n += 1;
    }
}

/// Write a file; keys with mode 0600 from the start (never readable by others, even
/// for an instant).
fn write_file(path: &Path, contents: &[u8], secret: bool, replace: bool) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(|e| io_error(path, &e))?;
    #[cfg(unix)]
    if secret {
        // A file that existed keeps its old mode through open(): set it.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_error(path, &e))?;
    }
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| io_error(path, &e))
}

fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        Status::InternalError,
        format!("cannot write {}: {e}", path.display()),
    )
    .with_state(ErrorState::DataDirectoryUnusable)
}

fn rcgen_error(e: rcgen::Error) -> Error {
    Error::new(
        Status::InternalError,
        format!("cannot create the development certificate: {e}"),
    )
    .with_state(ErrorState::DevCertificateFailed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::{ServerName, UnixTime};
    use securechannel::events::{EventRecord, MemorySink};
    use securechannel::Provider;
    use std::sync::Arc;

    fn record(sink: &MemorySink, id: u16) -> EventRecord {
        sink.records()
            .into_iter()
            .find(|r| r.event_id.value() == id)
            .unwrap_or_else(|| panic!("no event {id} in {:?}", sink.ids()))
    }

    fn mode_of(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
    }

    /// A provider on `dir` that logs everything, with its sink.
    fn open_all(dir: &Path) -> (Provider, Arc<MemorySink>) {
        let settings = dir.join("settings.toml");
        if !settings.exists() {
            std::fs::write(&settings, "EventLogging = 7\n").expect("write settings");
        }
        let sink = Arc::new(MemorySink::new());
        let p = Provider::open(dir, sink.clone()).expect("provider opens");
        sink.clear();
        (p, sink)
    }

    #[test]
    fn dev_credential_is_created_once_and_chains_to_the_dev_ca() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("schannel-data");
        let first = ensure_dev_credential(&data).unwrap();
        assert!(first.created && first.created_ca);
        let ca_path = data.join("stores/Root/dev-ca.pem");
        assert_eq!(first.ca_certificate.as_deref(), Some(ca_path.as_path()));
        assert_eq!(first.certificate, data.join("stores/My/localhost.pem"));
        assert_eq!(
            first.key.as_deref(),
            Some(data.join("keys/localhost.key").as_path())
        );
        assert_eq!(mode_of(&data.join("keys/localhost.key")), 0o600);
        assert_eq!(mode_of(&data.join("keys/dev-ca.key")), 0o600);
        let text = first.trust_instructions();
        assert!(
            text.contains(&format!("curl --cacert {}", ca_path.display())),
            "{text}"
        );
        assert!(text.contains("update-ca-certificates"));

        let second = ensure_dev_credential(&data).unwrap();
        assert!(!second.created);
        assert_eq!(second.thumbprint, first.thumbprint);

        // The system default is now the dev certificate, and it validates for localhost and
        // the loopback addresses against the dev CA.
        let (provider, sink) = open_all(&data);
        let cred = provider
            .server_credential()
            .system_default()
            .acquire()
            .unwrap();
        assert_eq!(cred.thumbprint(), Some(first.thumbprint.clone()));
        assert_eq!(record(&sink, 36868).field("KeyType"), Some("ECDSA P-256"));
        let roots = Arc::new(provider.stores().root_cert_store());
        let verifier = rustls::client::WebPkiServerVerifier::builder(roots)
            .build()
            .unwrap();
        let leaf = cred.certificate().unwrap().clone();
        for name in ["localhost", "127.0.0.1", "::1"] {
            rustls::client::danger::ServerCertVerifier::verify_server_cert(
                verifier.as_ref(),
                &leaf,
                &[],
                &ServerName::try_from(name).unwrap(),
                &[],
                UnixTime::now(),
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        // Still valid in 300 days, not in 400 (a one-year leaf).
        let stores = CertificateStores::open(&data).unwrap();
        let my = &stores.certificates(StoreName::My)[0];
        let now = UnixTime::now().as_secs() as i64;
        let day = 86_400;
        assert!(my.is_valid_at(now + 300 * day) && !my.is_valid_at(now + 400 * day));
    }

    #[test]
    fn dev_credential_reuses_the_dev_ca_when_the_leaf_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let first = ensure_dev_credential(dir.path()).unwrap();
        let ca_before = std::fs::read(dir.path().join("stores/Root/dev-ca.pem")).unwrap();
        std::fs::remove_file(&first.certificate).unwrap();
        let again = ensure_dev_credential(dir.path()).unwrap();
        assert!(again.created && !again.created_ca);
        assert_ne!(again.thumbprint, first.thumbprint);
        assert_eq!(
            std::fs::read(dir.path().join("stores/Root/dev-ca.pem")).unwrap(),
            ca_before
        );
        // The old key file is left alone; the new pair got a free name.
        assert!(
            again.certificate.ends_with("localhost-2.pem"),
            "{:?}",
            again.certificate
        );
    }
}
