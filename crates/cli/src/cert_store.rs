//! `schannel cert list|show|import|export|remove|new-ca|issue`: the data directory's
//! certificate stores, as `certutil -store`, `-addstore`, `-exportPFX`, `-delstore` and a
//! lab CA give them. Certificates are files of `stores/<Store>/` named by their SHA-1
//! thumbprint; private keys are files of `keys/` (mode 0600), paired with their
//! certificate by public key. Passwords come from the environment, never the command
//! line, and are wiped after use.

use crate::CmdResult;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use securechannel::{thumbprint, CertificateStores, StoreName, StoreQuery, StoredCertificate};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// A store, as the command line names it.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    /// stores/My: the machine's own certificates (with keys).
    My,
    /// stores/Root: trusted roots.
    Root,
    /// stores/CA: intermediate CAs.
    Ca,
    /// stores/ClientAuth: the client-authentication trust list.
    Clientauth,
}

impl Store {
    fn name(self) -> StoreName {
        match self {
            Store::My => StoreName::My,
            Store::Root => StoreName::Root,
            Store::Ca => StoreName::Ca,
            Store::Clientauth => StoreName::ClientAuth,
        }
    }
}

const ALL: [StoreName; 4] = [
    StoreName::My,
    StoreName::Root,
    StoreName::Ca,
    StoreName::ClientAuth,
];

/// A key type for `new-ca` and `issue`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// ECDSA on P-384 with SHA-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// RSA 2048 bits, PKCS#1 v1.5 with SHA-256.
    #[value(name = "rsa-2048")]
    Rsa2048,
    /// RSA 3072 bits.
    #[value(name = "rsa-3072")]
    Rsa3072,
    /// RSA 4096 bits.
    #[value(name = "rsa-4096")]
    Rsa4096,
}

impl KeyType {
    fn generate(self) -> Result<KeyPair, rcgen::Error> {
        use rcgen::RsaKeySize;
        match self {
            KeyType::EcdsaP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256),
            KeyType::EcdsaP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384),
            KeyType::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519),
            KeyType::Rsa2048 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_2048)
            }
            KeyType::Rsa3072 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_3072)
            }
            KeyType::Rsa4096 => {
                KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, RsaKeySize::_4096)
            }
        }
    }
}

/// `cert list`.
#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// Only this store (default: all).
    #[arg(long, value_enum)]
    store: Option<Store>,
    /// One JSON object per certificate.
    #[arg(long)]
    json: bool,
}

/// `cert show`.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The SHA-1 thumbprint (any case, colons and spaces ignored) or a part of the subject.
    certificate: String,
    /// Look only in this store.
    #[arg(long, value_enum)]
    store: Option<Store>,
    /// One JSON object.
    #[arg(long)]
    json: bool,
}

/// `cert import`.
#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// PEM or DER certificates (a PEM file may carry the private key of the first), or a
    /// PKCS#12 file (.pfx / .p12: certificate, chain and key).
    file: PathBuf,
    /// The store to import into. A private key comes along only into My.
    #[arg(long, value_enum, default_value = "my")]
    store: Store,
    /// The environment variable holding the .pfx password.
    #[arg(long, default_value = "SCHANNEL_PFX_PASSWORD")]
    password_env: String,
}

/// `cert export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The SHA-1 thumbprint or a part of the subject.
    certificate: String,
    /// Where to write.
    #[arg(long, short = 'o')]
    output: PathBuf,
    /// pem, der (the certificate alone), or pfx (certificate, chain and key, encrypted
    /// with the password of --password-env).
    #[arg(long, value_enum, default_value = "pem")]
    format: ExportFormat,
    /// With --format pem: append the private key (the file is written with mode 0600).
    #[arg(long)]
    with_key: bool,
    /// Look only in this store.
    #[arg(long, value_enum)]
    store: Option<Store>,
    /// The environment variable holding the .pfx password (--format pfx).
    #[arg(long, default_value = "SCHANNEL_PFX_PASSWORD")]
    password_env: String,
}

/// How `cert export` writes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// PEM.
    Pem,
    /// DER (one certificate).
    Der,
    /// PKCS#12.
    Pfx,
}

/// `cert remove`.
#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    /// The SHA-1 thumbprint (a subject is not enough to delete).
    thumbprint: String,
    /// Look only in this store.
    #[arg(long, value_enum)]
    store: Option<Store>,
    /// Also delete its private key from keys/.
    #[arg(long)]
    with_key: bool,
}

/// `cert new-ca`.
#[derive(clap::Args, Debug)]
pub struct NewCaArgs {
    /// The CA's common name.
    #[arg(long)]
    name: String,
    /// Its organization (O=).
    #[arg(long)]
    org: Option<String>,
    /// The validity (default 3650 days).
    #[command(flatten)]
    validity: ValidityArgs,
    /// The key type.
    #[arg(long, value_enum, default_value = "ecdsa-p256")]
    key: KeyType,
    /// The most intermediate CAs allowed below it (absent: no limit).
    #[arg(long)]
    path_len: Option<u8>,
    /// The store for its certificate: Root (trusted at once) or CA.
    #[arg(long, value_enum, default_value = "root")]
    store: Store,
}

/// `cert issue`.
#[derive(clap::Args, Debug)]
pub struct IssueArgs {
    /// The issuing CA: thumbprint or part of the subject of a certificate in Root or CA
    /// whose key is in keys/.
    #[arg(long)]
    ca: String,
    /// The subject's common name.
    #[arg(long)]
    name: String,
    /// Subject alternative names: DNS names, IP addresses, or email:ADDRESS (repeatable,
    /// comma separated). A server certificate without any gets --name.
    #[arg(long, value_delimiter = ',')]
    san: Vec<String>,
    /// What it authenticates: server (serverAuth) or client (clientAuth).
    #[arg(long, value_enum, default_value = "server")]
    usage: Usage,
    /// The validity (default 365 days).
    #[command(flatten)]
    validity: ValidityArgs,
    /// The key type.
    #[arg(long, value_enum, default_value = "ecdsa-p256")]
    key: KeyType,
}

/// The validity of a new certificate.
#[derive(clap::Args, Debug)]
pub struct ValidityArgs {
    /// Days of validity from now (ignored with --not-after; default 3650 for a CA, 365
    /// for a certificate it issues).
    #[arg(long)]
    days: Option<i64>,
    /// Validity start, RFC 3339 (default: one hour ago).
    #[arg(long, value_name = "TIME")]
    not_before: Option<String>,
    /// Validity end, RFC 3339.
    #[arg(long, value_name = "TIME")]
    not_after: Option<String>,
}

/// What `cert issue` makes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// A server certificate (serverAuth).
    Server,
    /// A client certificate (clientAuth).
    Client,
}

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn open(data_dir: &Path) -> Res<CertificateStores> {
    let stores = CertificateStores::open(data_dir)
        .map_err(|e| crate::failure_text("cannot open the certificate stores", &e))?;
    for w in stores.warnings() {
        eprintln!("schannel: warning: {}: {}", w.path.display(), w.problem);
    }
    Ok(stores)
}

fn stores_of(store: Option<Store>) -> Vec<StoreName> {
    store.map_or_else(|| ALL.to_vec(), |s| vec![s.name()])
}

/// The one certificate `what` names (thumbprint first, then subject), or an error
/// listing the candidates.
fn find<'a>(
    stores: &'a CertificateStores,
    what: &str,
    store: Option<Store>,
) -> Res<&'a StoredCertificate> {
    let wanted = normalize_thumbprint(what);
    let mut by_thumb = Vec::new();
    let mut by_subject = Vec::new();
    for s in stores_of(store) {
        for c in stores.certificates(s) {
            if c.thumbprint == wanted {
                by_thumb.push(c);
            } else if c.matches(&StoreQuery::Subject(what.to_string())) {
                by_subject.push(c);
            }
        }
    }
    let found = if by_thumb.is_empty() {
        by_subject
    } else {
        by_thumb
    };
    match found.len() {
        0 => Err(format!(
            "no certificate with thumbprint or subject `{what}` in {}; `schannel cert list` shows them",
            describe_stores(store)
        )
        .into()),
        1 => Ok(found[0]),
        _ => Err(format!(
            "`{what}` names {} certificates; give a thumbprint:\n{}",
            found.len(),
            found
                .iter()
                .map(|c| format!("  {} {} {}", c.store, c.thumbprint, c.subject))
                .collect::<Vec<_>>()
                .join("\n")
        )
        .into()),
    }
}

fn describe_stores(store: Option<Store>) -> String {
    match store {
        Some(s) => format!("stores/{}", s.name()),
        None => "any store".into(),
    }
}

fn normalize_thumbprint(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect::<String>()
        .to_uppercase()
}

fn rfc3339(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `cert list`.
pub fn list(args: ListArgs, data_dir: &Path) -> CmdResult {
    let stores = open(data_dir)?;
    let now = now();
    let mut rows = Vec::new();
    for s in stores_of(args.store) {
        for c in stores.certificates(s) {
            rows.push((c, stores.key_for(c).map(|k| k.path.clone())));
        }
    }
    if args.json {
        for (c, key) in &rows {
            let v = serde_json::json!({
                "store": c.store.dir_name(),
                "thumbprint": c.thumbprint,
                "subject": c.subject,
                "issuer": c.issuer,
                "not_before": rfc3339(c.not_before),
                "not_after": rfc3339(c.not_after),
                "valid_now": c.is_valid_at(now),
                "file": c.path,
                "key": key,
            });
            println!("{v}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("(no certificates in {})", describe_stores(args.store));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<10} {:<40} {:<20} {:<4} SUBJECT",
        "STORE", "THUMBPRINT", "NOT AFTER", "KEY"
    );
    for (c, key) in rows {
        let until = rfc3339(c.not_after);
        let expired = if c.is_valid_at(now) {
            ""
        } else {
            " (not valid now)"
        };
        println!(
            "{:<10} {:<40} {:<20} {:<4} {}{expired}",
            c.store.dir_name(),
            c.thumbprint,
            until,
            if key.is_some() { "yes" } else { "-" },
            c.subject
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The details `cert show` prints, from x509-parser.
fn details(c: &StoredCertificate) -> Res<serde_json::Value> {
    let (_, x) = x509_parser::parse_x509_certificate(&c.der)
        .map_err(|e| format!("{}: not an X.509 certificate: {e}", c.path.display()))?;
    let mut sans = Vec::new();
    if let Ok(Some(san)) = x.subject_alternative_name() {
        for n in &san.value.general_names {
            sans.push(general_name(n));
        }
    }
    let eku = match x.extended_key_usage() {
        Ok(Some(e)) => {
            let e = &e.value;
            let mut v = Vec::new();
            for (on, name) in [
                (e.server_auth, "serverAuth"),
                (e.client_auth, "clientAuth"),
                (e.code_signing, "codeSigning"),
                (e.email_protection, "emailProtection"),
                (e.ocsp_signing, "OCSPSigning"),
                (e.time_stamping, "timeStamping"),
                (e.any, "anyExtendedKeyUsage"),
            ] {
                if on {
                    v.push(name.to_string());
                }
            }
            v.extend(e.other.iter().map(|o| o.to_id_string()));
            serde_json::json!(v)
        }
        _ => serde_json::Value::Null,
    };
    let key_usage = match x.key_usage() {
        Ok(Some(k)) => serde_json::json!(k.value.to_string()),
        _ => serde_json::Value::Null,
    };
    let ca = match x.basic_constraints() {
        Ok(Some(b)) => {
            serde_json::json!({"ca": b.value.ca, "path_len": b.value.path_len_constraint})
        }
        _ => serde_json::Value::Null,
    };
    let key = match x.public_key().parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(r)) => format!("RSA {} bits", r.key_size()),
        Ok(x509_parser::public_key::PublicKey::EC(p)) => {
            let curve = x
                .public_key()
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| match o.to_id_string().as_str() {
                    "1.2.840.10045.3.1.7" => "P-256".to_string(),
                    "1.3.132.0.34" => "P-384".to_string(),
                    "1.3.132.0.35" => "P-521".to_string(),
                    other => other.to_string(),
                })
                .unwrap_or_else(|| "?".into());
            format!("ECDSA {curve} ({} bits)", p.key_size())
        }
        Ok(_) => x.public_key().algorithm.algorithm.to_id_string(),
        Err(_) => "unparsed".into(),
    };
    Ok(serde_json::json!({
        "store": c.store.dir_name(),
        "file": c.path,
        "thumbprint": c.thumbprint,
        "subject": c.subject,
        "issuer": c.issuer,
        "serial": x.raw_serial_as_string(),
        "not_before": rfc3339(c.not_before),
        "not_after": rfc3339(c.not_after),
        "valid_now": c.is_valid_at(now()),
        "public_key": key,
        "subject_alternative_names": sans,
        "extended_key_usage": eku,
        "key_usage": key_usage,
        "basic_constraints": ca,
        "chain_in_file": c.chain.len(),
    }))
}

/// A subjectAltName entry as certutil and openssl print it: `DNS:name`, `IP:1.2.3.4`.
fn general_name(n: &x509_parser::extensions::GeneralName<'_>) -> String {
    use x509_parser::extensions::GeneralName as G;
    match n {
        G::DNSName(d) => format!("DNS:{d}"),
        G::RFC822Name(m) => format!("email:{m}"),
        G::URI(u) => format!("URI:{u}"),
        G::IPAddress(b) => match b.len() {
            4 => format!("IP:{}", std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3])),
            16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(b);
                format!("IP:{}", std::net::Ipv6Addr::from(a))
            }
            _ => format!("IP:{b:02x?}"),
        },
        other => format!("{other:?}"),
    }
}

/// `cert show`.
pub fn show(args: ShowArgs, data_dir: &Path) -> CmdResult {
    let stores = open(data_dir)?;
    let c = find(&stores, &args.certificate, args.store)?;
    let mut v = details(c)?;
    v["private_key"] = serde_json::json!(stores.key_for(c).map(|k| k.path.clone()));
    if args.json {
        println!("{v}");
        return Ok(ExitCode::SUCCESS);
    }
    let labels = [
        ("store", "Store"),
        ("file", "File"),
        ("thumbprint", "Thumbprint (SHA-1)"),
        ("subject", "Subject"),
        ("issuer", "Issuer"),
        ("serial", "Serial number"),
        ("not_before", "Not before"),
        ("not_after", "Not after"),
        ("valid_now", "Valid now"),
        ("public_key", "Public key"),
        ("subject_alternative_names", "Subject alternative names"),
        ("extended_key_usage", "Enhanced key usage"),
        ("key_usage", "Key usage"),
        ("basic_constraints", "Basic constraints"),
        ("chain_in_file", "Chain certificates in the file"),
        ("private_key", "Private key"),
    ];
    for (k, label) in labels {
        let value = match &v[k] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => "(none)".into(),
            other => other.to_string(),
        };
        println!("{label:<31} {value}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Write a new file (never over an existing one); keys with mode 0600 from the start.
fn write_new(path: &Path, contents: &[u8], secret: bool) -> Res<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()).into())
}

fn pem_of(ders: &[CertificateDer<'_>]) -> String {
    ders.iter()
        .map(|d| pem::encode(&pem::Pem::new("CERTIFICATE", d.to_vec())))
        .collect()
}

/// The certificates and (optional) PKCS#8 key a file to import holds.
struct Imported {
    certs: Vec<CertificateDer<'static>>,
    key: Option<Zeroizing<Vec<u8>>>,
}

fn read_import(path: &Path, password_env: &str) -> Res<Imported> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let is_pfx = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pfx") || e.eq_ignore_ascii_case("p12"));
    if is_pfx {
        let password = Zeroizing::new(std::env::var(password_env).unwrap_or_default());
        let archive = p12_keystore::Pkcs12Archive::from_pkcs12(&bytes, &password).map_err(|e| {
            format!(
                "{}: cannot open the PKCS#12 file ({e}); is the password in ${password_env} right?",
                path.display()
            )
        })?;
        let certs: Vec<CertificateDer<'static>> = archive
            .certs
            .iter()
            .map(|c| CertificateDer::from(c.cert.as_der().to_vec()))
            .collect();
        let key = archive
            .keys
            .first()
            .map(|k| Zeroizing::new(k.key.as_der().to_vec()));
        return Ok(Imported { certs, key });
    }
    let certs = securechannel::certificates_from_pem_or_der(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let key = if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        PrivateKeyDer::from_pem_slice(&bytes)
            .ok()
            .map(|k| Zeroizing::new(k.secret_der().to_vec()))
    } else {
        None
    };
    Ok(Imported { certs, key })
}

fn spki_of(der: &[u8]) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(der)
        .ok()
        .map(|(_, x)| x.public_key().raw.to_vec())
}

/// The key, checked to be the certificate's, as a PEM private key.
fn key_pem_for(cert: &[u8], key_der: &[u8], source: &Path) -> Res<Zeroizing<String>> {
    let der = PrivateKeyDer::try_from(key_der.to_vec())
        .map_err(|e| format!("{}: the private key cannot be read: {e}", source.display()))?;
    let pair = KeyPair::try_from(&der).map_err(|e| {
        format!(
            "{}: the private key is not supported: {e}",
            source.display()
        )
    })?;
    if spki_of(cert).as_deref()
        != Some(rcgen::PublicKeyData::subject_public_key_info(&pair).as_slice())
    {
        return Err(format!(
            "{}: the private key is not the certificate's (their public keys differ)",
            source.display()
        )
        .into());
    }
    Ok(Zeroizing::new(pair.serialize_pem()))
}

/// `cert import`.
pub fn import(args: ImportArgs, data_dir: &Path) -> CmdResult {
    let stores = open(data_dir)?;
    let imported = read_import(&args.file, &args.password_env)?;
    let store = args.store.name();
    if imported.key.is_some() && store != StoreName::My {
        return Err(format!(
            "{} holds a private key: keys go only with stores/My certificates; import it with --store my, or import the certificate alone",
            args.file.display()
        )
        .into());
    }
    let dir = data_dir.join("stores").join(store.dir_name());
    let exists = |der: &[u8]| {
        let t = thumbprint(der);
        stores
            .certificates(store)
            .iter()
            .find(|c| c.thumbprint == t)
            .map(|c| c.path.clone())
    };
    // My: one file, the certificate then its chain; the other stores: a file each.
    let groups: Vec<Vec<CertificateDer<'static>>> = if store == StoreName::My {
        vec![imported.certs.clone()]
    } else {
        imported.certs.iter().map(|c| vec![c.clone()]).collect()
    };
    for group in groups {
        let first = &group[0];
        let t = thumbprint(first);
        let subject = securechannel::subject_name(first).unwrap_or_default();
        if let Some(p) = exists(first) {
            println!("{t} {subject}: already in stores/{store} ({})", p.display());
            continue;
        }
        let path = dir.join(format!("{t}.pem"));
        write_new(&path, pem_of(&group).as_bytes(), false)?;
        println!(
            "{t} {subject}: imported into stores/{store} ({})",
            path.display()
        );
        if store == StoreName::My {
            match &imported.key {
                Some(key) => {
                    let pem = key_pem_for(first, key, &args.file)?;
                    let key_path = data_dir.join("keys").join(format!("{t}.key"));
                    write_new(&key_path, pem.as_bytes(), true)?;
                    println!("  its private key: {} (mode 0600)", key_path.display());
                }
                None => println!(
                    "  no private key came with it: it cannot be used as a credential until keys/ holds its key"
                ),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `cert export`.
pub fn export(args: ExportArgs, data_dir: &Path) -> CmdResult {
    let stores = open(data_dir)?;
    let c = find(&stores, &args.certificate, args.store)?;
    let key = || -> Res<Zeroizing<Vec<u8>>> {
        let k = stores.key_for(c).ok_or_else(|| {
            format!(
                "{} has no private key in keys/: export it without the key",
                c.thumbprint
            )
        })?;
        let pem = Zeroizing::new(
            std::fs::read(&k.path).map_err(|e| format!("cannot read {}: {e}", k.path.display()))?,
        );
        let der = PrivateKeyDer::from_pem_slice(&pem)
            .map_err(|e| format!("{}: {e}", k.path.display()))?;
        Ok(Zeroizing::new(der.secret_der().to_vec()))
    };
    let mut chain = vec![c.der.clone()];
    chain.extend(c.chain.iter().cloned());
    let (bytes, secret): (Zeroizing<Vec<u8>>, bool) = match args.format {
        ExportFormat::Der => (Zeroizing::new(c.der.to_vec()), false),
        ExportFormat::Pem => {
            let mut out = pem_of(&chain);
            if args.with_key {
                let der = key()?;
                let pem = key_pem_for(&c.der, &der, &c.path)?;
                out.push_str(&pem);
            }
            (Zeroizing::new(out.into_bytes()), args.with_key)
        }
        ExportFormat::Pfx => {
            let password = Zeroizing::new(std::env::var(&args.password_env).map_err(|_| {
                format!(
                    "--format pfx encrypts the key with a password: put it in the environment variable {}",
                    args.password_env
                )
            })?);
            let der = key()?;
            let certs = chain
                .iter()
                .map(|d| p12_keystore::Certificate::from_der(d))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("a certificate cannot go into PKCS#12: {e}"))?;
            let entry = p12_keystore::PrivateKeyChain::new(
                c.thumbprint.as_bytes().to_vec(),
                p12_keystore::PrivateKey::from_der(&der)
                    .map_err(|e| format!("the key cannot go into PKCS#12: {e}"))?,
                certs,
            );
            let mut ks = p12_keystore::KeyStore::new();
            ks.add_entry(
                &c.thumbprint,
                p12_keystore::KeyStoreEntry::PrivateKeyChain(entry),
            );
            let bytes = ks
                .writer(&password)
                .write()
                .map_err(|e| format!("cannot write PKCS#12: {e}"))?;
            (Zeroizing::new(bytes), true)
        }
    };
    write_new(&args.output, &bytes, secret)?;
    println!(
        "{} {}: exported to {}{}",
        c.thumbprint,
        c.subject,
        args.output.display(),
        if secret {
            " (with its private key; mode 0600)"
        } else {
            ""
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `cert remove`.
pub fn remove(args: RemoveArgs, data_dir: &Path) -> CmdResult {
    let stores = open(data_dir)?;
    let wanted = normalize_thumbprint(&args.thumbprint);
    let c = stores_of(args.store)
        .into_iter()
        .flat_map(|s| stores.certificates(s))
        .find(|c| c.thumbprint == wanted)
        .ok_or_else(|| {
            format!(
                "no certificate with thumbprint {wanted} in {}",
                describe_stores(args.store)
            )
        })?;
    let sharing = stores
        .certificates(c.store)
        .iter()
        .filter(|o| o.path == c.path)
        .count();
    if sharing > 1 {
        return Err(format!(
            "{} holds {sharing} certificates of stores/{}; remove this one from the file by hand",
            c.path.display(),
            c.store
        )
        .into());
    }
    let key = stores.key_for(c).map(|k| k.path.clone());
    std::fs::remove_file(&c.path)
        .map_err(|e| format!("cannot remove {}: {e}", c.path.display()))?;
    println!(
        "{} {}: removed from stores/{} ({})",
        c.thumbprint,
        c.subject,
        c.store,
        c.path.display()
    );
    match (key, args.with_key) {
        (Some(k), true) => {
            std::fs::remove_file(&k).map_err(|e| format!("cannot remove {}: {e}", k.display()))?;
            println!("  its private key {} removed", k.display());
        }
        (Some(k), false) => println!(
            "  its private key stays in {} (--with-key removes it)",
            k.display()
        ),
        (None, _) => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_time(s: &str, flag: &str) -> Res<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(|e| {
        format!("{flag} `{s}` is not an RFC 3339 time (2030-06-01T00:00:00Z): {e}").into()
    })
}

/// The validity the flags give: --not-before (default an hour ago) to --not-after
/// (default --days from now).
fn validity(v: &ValidityArgs, default_days: i64) -> Res<(OffsetDateTime, OffsetDateTime)> {
    let now = OffsetDateTime::now_utc();
    let days = v.days.unwrap_or(default_days);
    let start = match &v.not_before {
        Some(t) => parse_time(t, "--not-before")?,
        None => now - Duration::hours(1),
    };
    let end = match &v.not_after {
        Some(t) => parse_time(t, "--not-after")?,
        None => now + Duration::days(days.max(1)),
    };
    if end <= start {
        return Err(
            "the validity ends before it starts (--not-before / --not-after / --days)".into(),
        );
    }
    Ok((start, end))
}

/// Write a new certificate and its key under their thumbprint; print where.
fn store_new(
    data_dir: &Path,
    store: StoreName,
    chain: &[CertificateDer<'_>],
    key: &KeyPair,
) -> Res<(String, PathBuf)> {
    let t = thumbprint(&chain[0]);
    let cert_path = data_dir
        .join("stores")
        .join(store.dir_name())
        .join(format!("{t}.pem"));
    let key_path = data_dir.join("keys").join(format!("{t}.key"));
    let key_pem = Zeroizing::new(key.serialize_pem());
    write_new(&key_path, key_pem.as_bytes(), true)?;
    write_new(&cert_path, pem_of(chain).as_bytes(), false)?;
    println!(
        "{t} {}",
        securechannel::subject_name(&chain[0]).unwrap_or_default()
    );
    println!("  certificate: {}", cert_path.display());
    println!("  private key: {} (mode 0600)", key_path.display());
    Ok((t, cert_path))
}

/// `cert new-ca`.
pub fn new_ca(args: NewCaArgs, data_dir: &Path) -> CmdResult {
    if !matches!(args.store, Store::Root | Store::Ca) {
        return Err("a CA goes into stores/Root (trusted) or stores/CA (intermediate)".into());
    }
    open(data_dir)?; // the layout exists
    let key = args
        .key
        .generate()
        .map_err(|e| format!("cannot generate the key: {e}"))?;
    let mut p = CertificateParams::default();
    p.distinguished_name
        .push(DnType::CommonName, args.name.as_str());
    if let Some(o) = &args.org {
        p.distinguished_name
            .push(DnType::OrganizationName, o.as_str());
    }
    p.is_ca = IsCa::Ca(match args.path_len {
        Some(n) => BasicConstraints::Constrained(n),
        None => BasicConstraints::Unconstrained,
    });
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    (p.not_before, p.not_after) = validity(&args.validity, 3650)?;
    let cert = p
        .self_signed(&key)
        .map_err(|e| format!("cannot create the CA: {e}"))?;
    store_new(data_dir, args.store.name(), &[cert.der().clone()], &key)?;
    Ok(ExitCode::SUCCESS)
}

/// `cert issue`.
pub fn issue(args: IssueArgs, data_dir: &Path) -> CmdResult {
    let stores = open(data_dir)?;
    let mut candidates = Vec::new();
    for s in [StoreName::Root, StoreName::Ca] {
        for c in stores.certificates(s) {
            if c.thumbprint == normalize_thumbprint(&args.ca)
                || c.matches(&StoreQuery::Subject(args.ca.clone()))
            {
                candidates.push(c);
            }
        }
    }
    let with_key: Vec<_> = candidates
        .iter()
        .filter_map(|c| stores.key_for(c).map(|k| (*c, k.path.clone())))
        .collect();
    let (ca, ca_key_path) = match with_key.as_slice() {
        [one] => one.clone(),
        [] if candidates.is_empty() => {
            return Err(format!(
                "no CA `{}` in stores/Root or stores/CA (`schannel cert new-ca` makes one)",
                args.ca
            )
            .into())
        }
        [] => {
            return Err(format!(
            "the CA `{}` ({}) has no private key in keys/: only a CA whose key is here can issue",
            args.ca, candidates[0].thumbprint
        )
            .into())
        }
        many => {
            return Err(format!(
                "`{}` names {} CAs with keys; give a thumbprint",
                args.ca,
                many.len()
            )
            .into())
        }
    };
    let ca_key_pem = Zeroizing::new(
        std::fs::read_to_string(&ca_key_path)
            .map_err(|e| format!("cannot read {}: {e}", ca_key_path.display()))?,
    );
    let ca_key =
        KeyPair::from_pem(&ca_key_pem).map_err(|e| format!("{}: {e}", ca_key_path.display()))?;
    let issuer = Issuer::from_ca_cert_der(&ca.der, ca_key)
        .map_err(|e| format!("{} cannot issue: {e}", ca.subject))?;

    let key = args
        .key
        .generate()
        .map_err(|e| format!("cannot generate the key: {e}"))?;
    let mut p = CertificateParams::default();
    p.distinguished_name
        .push(DnType::CommonName, args.name.as_str());
    let mut sans = args.san.clone();
    if sans.is_empty() && args.usage == Usage::Server {
        sans.push(args.name.clone());
    }
    for s in &sans {
        let san = if let Some(mail) = s.strip_prefix("email:") {
            SanType::Rfc822Name(mail.try_into().map_err(|e| format!("--san {s}: {e}"))?)
        } else if let Ok(ip) = s.parse::<std::net::IpAddr>() {
            SanType::IpAddress(ip)
        } else {
            SanType::DnsName(
                s.as_str()
                    .try_into()
                    .map_err(|e| format!("--san {s}: {e}"))?,
            )
        };
        p.subject_alt_names.push(san);
    }
    p.extended_key_usages = vec![match args.usage {
        Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
        Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
    }];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if matches!(
        args.key,
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096
    ) {
        p.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    p.use_authority_key_identifier_extension = true;
    (p.not_before, p.not_after) = validity(&args.validity, 365)?;
    let cert = p
        .signed_by(&key, &issuer)
        .map_err(|e| format!("cannot issue: {e}"))?;
    // An intermediate's certificate goes along, so peers can build the path.
    let mut chain = vec![cert.der().clone()];
    if ca.store == StoreName::Ca {
        chain.push(ca.der.clone());
    }
    store_new(data_dir, StoreName::My, &chain, &key)?;
    Ok(ExitCode::SUCCESS)
}
