//! The certificate stores of the data directory, as Windows' machine stores:
//!
//! ```text
//! stores/Root/   trusted root certificates          (LocalMachine\Root)
//! stores/CA/     intermediate certificates          (LocalMachine\CA)
//! stores/My/     the machine's own certificates     (LocalMachine\My)
//! keys/          their private keys, mode 0600; a key group or others can access is refused
//! crl/           certificate revocation lists
//! ```
//!
//! Files are PEM or DER. A file that cannot be read or parsed is reported in
//! [`CertificateStores::warnings`], never skipped in silence. A certificate of `My` is
//! paired with its key by public key, whatever the files are called.

use crate::{Error, ErrorState};
use rustls::pki_types::pem::{PemObject, SectionKind};
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, SubjectPublicKeyInfoDer,
};
use rustls::sign::SigningKey;
use securechannel_events::Status;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use zeroize::{Zeroize, Zeroizing};

/// A certificate store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreName {
    /// `stores/Root`: trusted roots.
    Root,
    /// `stores/CA`: intermediate CAs.
    Ca,
    /// `stores/My`: the machine's own certificates (with keys in `keys/`).
    My,
    /// `stores/ClientAuth`: the client-authentication trust list that
    /// `ClientAuthTrustMode` 1 (Exclusive Root Trust) and 2 (Exclusive CA Trust) use.
    ClientAuth,
}

impl StoreName {
    /// The store's directory name, as Windows names the store.
    pub fn dir_name(self) -> &'static str {
        match self {
            StoreName::Root => "Root",
            StoreName::Ca => "CA",
            StoreName::My => "My",
            StoreName::ClientAuth => "ClientAuth",
        }
    }
}

impl fmt::Display for StoreName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.dir_name())
    }
}

/// How to find a certificate in a store (as `CertFindCertificateInStore` does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreQuery {
    /// The SHA-1 thumbprint, hex (spaces and colons ignored, any case).
    Thumbprint(String),
    /// A case-insensitive substring of the subject's distinguished name or common name.
    Subject(String),
}

/// A certificate read from a store.
#[derive(Debug, Clone)]
pub struct StoredCertificate {
    /// The store it is in.
    pub store: StoreName,
    /// The file it came from.
    pub path: PathBuf,
    /// The certificate.
    pub der: CertificateDer<'static>,
    /// Further certificates of the same file (a `My` file may carry its chain).
    pub chain: Vec<CertificateDer<'static>>,
    /// SHA-1 of the DER, uppercase hex, as Windows shows it.
    pub thumbprint: String,
    /// The subject distinguished name (RFC 4514 order as x509-parser prints it).
    pub subject: String,
    /// The issuer distinguished name.
    pub issuer: String,
    /// Validity start, seconds since the Unix epoch.
    pub not_before: i64,
    /// Validity end, seconds since the Unix epoch.
    pub not_after: i64,
    /// Whether the certificate may authenticate a server: serverAuth in its extended key
    /// usage, or no extended key usage at all.
    pub server_auth: bool,
    /// The SubjectPublicKeyInfo, DER (what pairs it with its key).
    pub spki: Vec<u8>,
}

impl StoredCertificate {
    /// Parse `der` as a certificate of `store`.
    pub fn parse(
        store: StoreName,
        path: PathBuf,
        der: CertificateDer<'static>,
    ) -> Result<StoredCertificate, String> {
        let (_, cert) = x509_parser::parse_x509_certificate(&der)
            .map_err(|e| format!("not an X.509 certificate: {e}"))?;
        let server_auth = match cert.extended_key_usage() {
            Ok(None) => true,
            Ok(Some(eku)) => eku.value.server_auth || eku.value.any,
            Err(e) => return Err(format!("invalid extended key usage: {e}")),
        };
        let subject = cert.subject().to_string();
        let issuer = cert.issuer().to_string();
        let not_before = cert.validity().not_before.timestamp();
        let not_after = cert.validity().not_after.timestamp();
        let spki = cert.public_key().raw.to_vec();
        Ok(StoredCertificate {
            store,
            path,
            thumbprint: thumbprint(&der),
            subject,
            issuer,
            not_before,
            not_after,
            server_auth,
            spki,
            chain: Vec::new(),
            der,
        })
    }

    /// Whether the certificate is valid at `now` (seconds since the Unix epoch).
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// Whether `query` selects this certificate.
    pub fn matches(&self, query: &StoreQuery) -> bool {
        match query {
            StoreQuery::Thumbprint(t) => normalise_thumbprint(t) == self.thumbprint,
            StoreQuery::Subject(s) => {
                let s = s.trim().to_ascii_lowercase();
                !s.is_empty() && self.subject.to_ascii_lowercase().contains(&s)
            }
        }
    }

    /// The end-entity certificate followed by the chain of its file.
    pub fn full_chain(&self) -> Vec<CertificateDer<'static>> {
        let mut v = vec![self.der.clone()];
        v.extend(self.chain.iter().cloned());
        v
    }
}

/// Why a private key cannot be used (event 36870's ErrorStatus is its ErrorState).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum KeyProblem {
    /// The file cannot be read (the operating system's error, kept: `NotFound` is a
    /// certificate without its key, 36869, rather than an unusable key).
    Unreadable(Arc<std::io::Error>),
    /// Group or others can access the file (the mode is given).
    PermissionsUnsafe(u32),
    /// Encrypted, and the password is wrong or was not given.
    WrongPassword,
    /// Not a private key in any supported encoding.
    Corrupt(String),
    /// A key the crypto provider cannot use.
    Unsupported(String),
}

impl KeyProblem {
    /// The internal error state that 36870 prints.
    pub fn state(&self) -> ErrorState {
        match self {
            KeyProblem::Unreadable(_) => ErrorState::KeyUnreadable,
            KeyProblem::PermissionsUnsafe(_) => ErrorState::KeyPermissionsUnsafe,
            KeyProblem::WrongPassword => ErrorState::KeyWrongPassword,
            KeyProblem::Corrupt(_) => ErrorState::KeyCorrupt,
            KeyProblem::Unsupported(_) => ErrorState::KeyUnsupported,
        }
    }
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyProblem::Unreadable(e) => write!(f, "cannot be read: {e}"),
            KeyProblem::PermissionsUnsafe(mode) => write!(
                f,
                "mode {mode:04o} lets group or others access it; refused (chmod 600)"
            ),
            KeyProblem::WrongPassword => {
                f.write_str("is encrypted and the password is wrong or missing")
            }
            KeyProblem::Corrupt(e) => write!(f, "is not a private key: {e}"),
            KeyProblem::Unsupported(e) => write!(f, "is a key the crypto provider cannot use: {e}"),
        }
    }
}

/// A private key file of `keys/`.
#[derive(Clone)]
pub struct StoredKey {
    /// The file.
    pub path: PathBuf,
    /// The key's public key (SubjectPublicKeyInfo DER), when it could be derived.
    pub spki: Option<Vec<u8>>,
    /// Why it cannot be used, if it cannot.
    pub problem: Option<KeyProblem>,
    /// The usable key (absent when `problem` is set).
    key: Option<Arc<dyn SigningKey>>,
}

impl fmt::Debug for StoredKey {
    // Never prints the key itself.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("path", &self.path)
            .field("problem", &self.problem)
            .field("usable", &self.key.is_some())
            .finish()
    }
}

impl StoredKey {
    /// The signing key, or why it cannot be used.
    pub fn signing_key(&self) -> Result<Arc<dyn SigningKey>, KeyProblem> {
        match (&self.key, &self.problem) {
            (Some(k), None) => Ok(k.clone()),
            (_, Some(p)) => Err(p.clone()),
            (None, None) => Err(KeyProblem::Unsupported("no key".into())),
        }
    }
}

/// A file of a store that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreWarning {
    /// The file (or directory).
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for StoreWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.problem)
    }
}

/// The stores of a data directory, read into memory.
#[derive(Debug, Clone, Default)]
pub struct CertificateStores {
    dir: Option<PathBuf>,
    root: Vec<StoredCertificate>,
    ca: Vec<StoredCertificate>,
    my: Vec<StoredCertificate>,
    client_auth: Vec<StoredCertificate>,
    keys: Vec<StoredKey>,
    crls: Vec<CertificateRevocationListDer<'static>>,
    warnings: Vec<StoreWarning>,
}

/// The directories of the layout, relative to the data directory.
const LAYOUT: [&str; 6] = [
    "stores/Root",
    "stores/CA",
    "stores/My",
    "stores/ClientAuth",
    "keys",
    "crl",
];

impl CertificateStores {
    /// Stores with nothing in them and no directory (for in-memory providers).
    pub fn empty() -> CertificateStores {
        CertificateStores::default()
    }

    /// Open the stores of `data_dir`, creating the layout where it is missing (`keys/`
    /// with mode 0700). Unreadable or corrupt files become warnings; a directory that
    /// cannot be created or listed is an error (ErrorState DataDirectoryUnusable).
    pub fn open(data_dir: &Path) -> Result<CertificateStores, Error> {
        create_layout(data_dir)?;
        let mut stores = CertificateStores {
            dir: Some(data_dir.to_path_buf()),
            ..CertificateStores::default()
        };
        for store in [
            StoreName::Root,
            StoreName::Ca,
            StoreName::My,
            StoreName::ClientAuth,
        ] {
            let dir = data_dir.join("stores").join(store.dir_name());
            for path in list_files(&dir)? {
                stores.read_certificate_file(store, &path);
            }
        }
        for path in list_files(&data_dir.join("keys"))? {
            let key = read_stored_key(&path);
            if let Some(p) = &key.problem {
                stores.warnings.push(StoreWarning {
                    path: path.clone(),
                    problem: format!("private key {p}"),
                });
            }
            stores.keys.push(key);
        }
        for path in list_files(&data_dir.join("crl"))? {
            stores.read_crl_file(&path);
        }
        Ok(stores)
    }

    fn read_certificate_file(&mut self, store: StoreName, path: &Path) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return self.warn(path, format!("cannot be read: {e}")),
        };
        let ders = match certificates_from_bytes(&bytes) {
            Ok(d) => d,
            Err(e) => return self.warn(path, e),
        };
        if is_pem(&bytes) && pem_has_private_key(&bytes) {
            self.warn(
                path,
                "holds a private key, which is ignored here: keys belong in keys/ (mode 0600)"
                    .into(),
            );
        }
        let mut parsed = Vec::new();
        for der in ders {
            match StoredCertificate::parse(store, path.to_path_buf(), der) {
                Ok(c) => parsed.push(c),
                Err(e) => self.warn(path, e),
            }
        }
        match store {
            // A file of My is one certificate of the machine, possibly followed by its chain.
            StoreName::My => {
                let mut it = parsed.into_iter();
                if let Some(mut first) = it.next() {
                    first.chain = it.map(|c| c.der).collect();
                    self.my.push(first);
                }
            }
            StoreName::Root => self.root.extend(parsed),
            StoreName::Ca => self.ca.extend(parsed),
            StoreName::ClientAuth => self.client_auth.extend(parsed),
        }
    }

    fn read_crl_file(&mut self, path: &Path) {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => return self.warn(path, format!("cannot be read: {e}")),
        };
        let crls: Vec<CertificateRevocationListDer<'static>> = if is_pem(&bytes) {
            match CertificateRevocationListDer::pem_slice_iter(&bytes).collect() {
                Ok(v) => v,
                Err(e) => return self.warn(path, format!("invalid PEM: {e}")),
            }
        } else {
            vec![CertificateRevocationListDer::from(bytes)]
        };
        if crls.is_empty() {
            return self.warn(path, "holds no CRL".into());
        }
        for crl in crls {
            match webpki::OwnedCertRevocationList::from_der(&crl) {
                Ok(_) => self.crls.push(crl),
                Err(e) => self.warn(path, format!("not a valid CRL: {e:?}")),
            }
        }
    }

    fn warn(&mut self, path: &Path, problem: String) {
        self.warnings.push(StoreWarning {
            path: path.to_path_buf(),
            problem,
        });
    }

    /// The data directory, if the stores were opened from one.
    pub fn data_dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The directory of a store (`<data_dir>/stores/<name>`).
    pub fn store_dir(&self, store: StoreName) -> Option<PathBuf> {
        self.dir
            .as_ref()
            .map(|d| d.join("stores").join(store.dir_name()))
    }

    /// The certificates of a store, in file-name order.
    pub fn certificates(&self, store: StoreName) -> &[StoredCertificate] {
        match store {
            StoreName::Root => &self.root,
            StoreName::Ca => &self.ca,
            StoreName::My => &self.my,
            StoreName::ClientAuth => &self.client_auth,
        }
    }

    /// The first certificate of `store` that `query` selects.
    pub fn find(&self, store: StoreName, query: &StoreQuery) -> Option<&StoredCertificate> {
        self.certificates(store).iter().find(|c| c.matches(query))
    }

    /// The key of `keys/` whose public key is the certificate's; a usable one is
    /// preferred over one with a problem.
    pub fn key_for(&self, cert: &StoredCertificate) -> Option<&StoredKey> {
        let mut matching = self
            .keys
            .iter()
            .filter(|k| k.spki.as_deref() == Some(cert.spki.as_slice()));
        let first = matching.clone().next();
        matching.find(|k| k.problem.is_none()).or(first)
    }

    /// Every key file read from `keys/`.
    pub fn keys(&self) -> &[StoredKey] {
        &self.keys
    }

    /// The CRLs of `crl/`.
    pub fn crls(&self) -> &[CertificateRevocationListDer<'static>] {
        &self.crls
    }

    /// The files that were not taken, and why (for the caller to print).
    pub fn warnings(&self) -> &[StoreWarning] {
        &self.warnings
    }

    /// The trusted roots as rustls takes them.
    pub fn root_cert_store(&self) -> rustls::RootCertStore {
        let mut roots = rustls::RootCertStore::empty();
        // Certificates rustls-webpki cannot use as anchors were already parsed by
        // x509-parser; the rare one webpki refuses is left out, as rustls itself does.
        let _ = roots.add_parsable_certificates(self.root.iter().map(|c| c.der.clone()));
        roots
    }

    /// The intermediate certificates.
    pub fn intermediates(&self) -> Vec<CertificateDer<'static>> {
        self.ca.iter().map(|c| c.der.clone()).collect()
    }

    /// The system default server certificate: the first certificate of `My` (in file-name
    /// order) that is valid at `now`, has a usable key, and may authenticate a server.
    pub fn default_server_certificate(
        &self,
        now: i64,
    ) -> Option<(&StoredCertificate, Arc<dyn SigningKey>)> {
        self.my.iter().find_map(|c| {
            if !c.is_valid_at(now) || !c.server_auth {
                return None;
            }
            let key = self.key_for(c)?.signing_key().ok()?;
            Some((c, key))
        })
    }
}

fn create_layout(data_dir: &Path) -> Result<(), Error> {
    for sub in LAYOUT {
        let dir = data_dir.join(sub);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return Err(unusable(&dir, &e));
        }
        #[cfg(unix)]
        if sub == "keys" {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(&dir).map_err(|e| unusable(&dir, &e))?;
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(|e| unusable(&dir, &e))?;
            }
        }
    }
    Ok(())
}

fn unusable(dir: &Path, e: &std::io::Error) -> Error {
    Error::new(
        Status::InternalError,
        format!("the data directory cannot be used: {}: {e}", dir.display()),
    )
    .with_state(ErrorState::DataDirectoryUnusable)
}

/// The regular files of `dir`, sorted by name (so "first" means the same on every run).
fn list_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| unusable(dir, &e))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            // Editor backups and hidden files are not store content.
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && !n.ends_with('~'))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// SHA-1 of a certificate's DER, uppercase hex: the thumbprint Windows shows.
pub fn thumbprint(der: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, der);
    digest.as_ref().iter().map(|b| format!("{b:02X}")).collect()
}

fn normalise_thumbprint(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub(crate) fn is_pem(bytes: &[u8]) -> bool {
    // DER starts with a SEQUENCE tag; PEM may have text before its first section (curl's
    // and Mozilla's bundles start with `##` comment lines), which the PEM reader skips.
    const BEGIN: &[u8] = b"-----BEGIN";
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    first != Some(&0x30) && bytes.windows(BEGIN.len()).any(|w| w == BEGIN)
}

fn pem_has_private_key(bytes: &[u8]) -> bool {
    <(SectionKind, Vec<u8>)>::pem_slice_iter(bytes).any(|s| {
        matches!(
            s,
            Ok((
                SectionKind::PrivateKey | SectionKind::RsaPrivateKey | SectionKind::EcPrivateKey,
                _
            ))
        )
    })
}

/// The certificates of a PEM file (every CERTIFICATE section, in order) or of a DER file
/// (one certificate), as `--cafile` and the stores read them. Nothing is validated
/// beyond the encoding.
pub fn certificates_from_pem_or_der(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    certificates_from_bytes(bytes).map_err(|why| {
        Error::new(
            Status::CertUnknown,
            format!("not a certificate file: it {why}"),
        )
        .with_state(ErrorState::CertificateUnreadable)
    })
}

/// The subject of a DER certificate in RFC 4514 style (`CN=host, O=org`), as 36880 and
/// the connection reports print it; `None` when it does not parse as X.509.
pub fn subject_name(der: &[u8]) -> Option<String> {
    x509_parser::parse_x509_certificate(der)
        .ok()
        .map(|(_, c)| c.subject().to_string())
}

/// The certificates of a PEM (every CERTIFICATE section) or DER (one certificate) file.
pub(crate) fn certificates_from_bytes(
    bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>, String> {
    if is_pem(bytes) {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(bytes)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("invalid PEM: {e}"))?;
        if certs.is_empty() {
            return Err("holds no certificate".into());
        }
        Ok(certs)
    } else if bytes.is_empty() {
        Err("is empty".into())
    } else {
        Ok(vec![CertificateDer::from(bytes.to_vec())])
    }
}

/// The largest key file read: any private key in PEM fits many times over.
const MAX_KEY_FILE: u64 = 1 << 20;

/// A key file's bytes (wiped when dropped) and its mode, read from one open file: the
/// mode checked is that of the file read, never a second lookup of the path.
struct KeyFile {
    bytes: Zeroizing<Vec<u8>>,
    /// The mode, when group or others can access the file.
    unsafe_mode: Option<u32>,
}

fn read_key_file(path: &Path) -> Result<KeyFile, KeyProblem> {
    use std::io::Read;
    let unreadable = |e: std::io::Error| KeyProblem::Unreadable(Arc::new(e));
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    #[cfg(unix)]
    let unsafe_mode = {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        (mode & 0o077 != 0).then_some(mode)
    };
    #[cfg(not(unix))]
    let unsafe_mode = None;
    if meta.len() > MAX_KEY_FILE {
        return Err(KeyProblem::Corrupt(format!(
            "{} bytes is larger than any private key file",
            meta.len()
        )));
    }
    // Sized up front so the buffer never reallocates (a reallocation would leave a copy
    // of the key behind that nothing wipes).
    let mut bytes = Zeroizing::new(Vec::with_capacity(meta.len() as usize + 1));
    file.take(MAX_KEY_FILE)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    Ok(KeyFile { bytes, unsafe_mode })
}

/// Read a private key file: the mode check first (ours, not the kernel's: root reads
/// anything), on the opened file, then PEM (PKCS#8, PKCS#1, SEC1) or DER.
pub(crate) fn read_private_key_file(path: &Path) -> Result<PrivateKeyDer<'static>, KeyProblem> {
    let file = read_key_file(path)?;
    if let Some(mode) = file.unsafe_mode {
        return Err(KeyProblem::PermissionsUnsafe(mode));
    }
    private_key_from_bytes(&file.bytes)
}

/// A private key from PEM or DER bytes.
pub(crate) fn private_key_from_bytes(bytes: &[u8]) -> Result<PrivateKeyDer<'static>, KeyProblem> {
    if is_pem(bytes) {
        let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
        if contains(b"-----BEGIN ENCRYPTED PRIVATE KEY-----") || contains(b"Proc-Type: 4,ENCRYPTED")
        {
            // Encrypted PEM keys need a password this API does not take: say so.
            return Err(KeyProblem::WrongPassword);
        }
        PrivateKeyDer::from_pem_slice(bytes).map_err(|e| KeyProblem::Corrupt(e.to_string()))
    } else {
        PrivateKeyDer::try_from(bytes.to_vec()).map_err(|e| KeyProblem::Corrupt(e.to_string()))
    }
}

/// Load a key into the crypto provider; the DER is wiped afterwards (the provider keeps
/// its own form of the key).
pub(crate) fn load_signing_key(
    mut der: PrivateKeyDer<'static>,
) -> Result<Arc<dyn SigningKey>, KeyProblem> {
    // A key that is not even well-formed DER is corrupt; a well-formed one the provider
    // refuses has an algorithm or parameters it does not support.
    let well_formed = matches!(
        x509_parser::der_parser::parse_der(der.secret_der()),
        Ok((rest, _)) if rest.is_empty()
    );
    // `any_supported_type` borrows the DER (the key provider's `load_private_key` would
    // take it and drop it unwiped).
    let key =
        rustls::crypto::aws_lc_rs::sign::any_supported_type(&der).map_err(|e| match well_formed {
            true => KeyProblem::Unsupported(e.to_string()),
            false => KeyProblem::Corrupt(e.to_string()),
        });
    der.zeroize();
    key
}

fn read_stored_key(path: &Path) -> StoredKey {
    let mut key = StoredKey {
        path: path.to_path_buf(),
        spki: None,
        problem: None,
        key: None,
    };
    // The public key is derived even from a key with unsafe permissions, so that the
    // certificate it belongs to reports 36870 (unusable key) rather than 36869 (none).
    let file = match read_key_file(path) {
        Ok(f) => f,
        Err(p) => {
            key.problem = Some(p);
            return key;
        }
    };
    let unsafe_mode = file.unsafe_mode;
    let loaded = private_key_from_bytes(&file.bytes).and_then(load_signing_key);
    match loaded {
        Ok(k) => {
            key.spki = k
                .public_key()
                .map(|s: SubjectPublicKeyInfoDer<'_>| s.to_vec());
            match unsafe_mode {
                Some(m) => key.problem = Some(KeyProblem::PermissionsUnsafe(m)),
                None => key.key = Some(k),
            }
        }
        Err(p) => key.problem = Some(unsafe_mode.map_or(p, KeyProblem::PermissionsUnsafe)),
    }
    key
}

/// "RSA-2048", "ECDSA P-256", "ECDSA P-384", "Ed25519": 36868's Key Type, from the
/// SubjectPublicKeyInfo.
pub(crate) fn key_type(spki: &[u8]) -> String {
    use x509_parser::prelude::FromDer;
    use x509_parser::public_key::PublicKey;
    let Ok((_, info)) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki) else {
        return "unknown".into();
    };
    let curve = || {
        info.algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.as_oid().ok())
            .map(|o| o.to_id_string())
    };
    match info.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("RSA-{}", rsa.key_size()),
        Ok(PublicKey::EC(_)) => match curve().as_deref() {
            Some("1.2.840.10045.3.1.7") => "ECDSA P-256".into(),
            Some("1.3.132.0.34") => "ECDSA P-384".into(),
            Some("1.3.132.0.35") => "ECDSA P-521".into(),
            Some(other) => format!("ECDSA {other}"),
            None => "ECDSA".into(),
        },
        _ => match info.algorithm.algorithm.to_id_string().as_str() {
            "1.3.101.112" => "Ed25519".into(),
            "1.3.101.113" => "Ed448".into(),
            other => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_is_uppercase_sha1_hex() {
        // SHA-1("abc") from FIPS 180-1.
        assert_eq!(
            thumbprint(b"abc"),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
        assert_eq!(normalise_thumbprint("a9 99 3e:36"), "A9993E36".to_string());
    }

    #[test]
    fn key_types_are_named() {
        for (alg, name) in [
            (&rcgen::PKCS_ECDSA_P256_SHA256, "ECDSA P-256"),
            (&rcgen::PKCS_ECDSA_P384_SHA384, "ECDSA P-384"),
            (&rcgen::PKCS_ED25519, "Ed25519"),
        ] {
            let k = rcgen::KeyPair::generate_for(alg).unwrap();
            let der = rcgen::PublicKeyData::subject_public_key_info(&k);
            assert_eq!(key_type(&der), name);
        }
    }

    #[test]
    fn a_pem_bundle_with_a_comment_header_is_read() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["a.test".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        // The way curl's cacert.pem starts.
        let bundle = format!(
            "##\n## Bundle of CA Root Certificates\n##\n\nA Root\n======\n{}",
            cert.pem()
        );
        let certs = certificates_from_pem_or_der(bundle.as_bytes()).expect("a PEM bundle");
        assert_eq!(certs, vec![cert.der().clone()]);
        // DER is still DER, and text without a section is no certificate file.
        assert_eq!(certificates_from_pem_or_der(cert.der()).unwrap().len(), 1);
        assert!(!is_pem(b"## only a comment\n"));
    }
}
