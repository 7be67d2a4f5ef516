//! `schannel cert verify`, like `certutil -verify`: a certificate chain validated offline
//! through the same verifier a connection uses (roots, stores/CA, CRLs of crl/ and of the
//! distribution points, the revocation mode), with the verdict, the SSPI status a context
//! would return and CryptoAPI's precise chain status. Exit code 0 only when valid.
//!
//! `schannel cert list|show|import|export|remove`, like `certutil -store`, `-addstore`,
//! `-delstore`: the data directory's stores (stores/Root, CA, My, ClientAuth) and the keys
//! of My (keys/, mode 0600).

use crate::revocation::RevocationArgs;
use crate::CmdResult;
use securechannel::events::NullSink;
use securechannel::{
    certificates_from_pem_or_der, CertificateStores, Provider, StoreName, StoreQuery,
    StoredCertificate,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `schannel cert`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Validate a certificate chain offline, as a connection would (exit 0 only when valid).
    Verify(VerifyArgs),
    /// List the certificates of the stores (thumbprint, store, subject, validity).
    List(ListArgs),
    /// Show one certificate of the stores, by thumbprint.
    Show(ShowArgs),
    /// Add certificates (PEM or DER) to a store; with --key (store My), their private key
    /// to keys/ (mode 0600).
    Import(ImportArgs),
    /// Write a certificate of the stores, by thumbprint, to a file (PEM, or DER with --der).
    Export(ExportArgs),
    /// Remove a certificate, by thumbprint, from its store (with --with-key, its key too).
    Remove(RemoveArgs),
    /// Make a self-signed CA in stores/Root, its key in keys/.
    NewCa(crate::cert_issue::NewCaArgs),
    /// Issue a server or client certificate from a CA of the stores into stores/My.
    Issue(crate::cert_issue::IssueArgs),
}

/// A store, by its Windows name.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Store {
    /// stores/Root: trusted roots.
    Root,
    /// stores/CA: intermediates.
    Ca,
    /// stores/My: own certificates (keys in keys/).
    My,
    /// stores/ClientAuth: the client-auth trust list.
    ClientAuth,
}

impl Store {
    fn name(self) -> StoreName {
        match self {
            Store::Root => StoreName::Root,
            Store::Ca => StoreName::Ca,
            Store::My => StoreName::My,
            Store::ClientAuth => StoreName::ClientAuth,
        }
    }
}

const ALL_STORES: [StoreName; 4] = [
    StoreName::Root,
    StoreName::Ca,
    StoreName::My,
    StoreName::ClientAuth,
];

/// Arguments of `schannel cert list`.
#[derive(clap::Args, Debug)]
struct ListArgs {
    /// Only this store.
    #[arg(long, value_enum)]
    store: Option<Store>,
    /// One JSON object per certificate.
    #[arg(long)]
    json: bool,
}

/// Arguments of `schannel cert show`.
#[derive(clap::Args, Debug)]
struct ShowArgs {
    /// The SHA-1 thumbprint (hex; spaces and colons ignored).
    thumbprint: String,
    /// As one JSON object.
    #[arg(long)]
    json: bool,
}

/// Arguments of `schannel cert import`.
#[derive(clap::Args, Debug)]
struct ImportArgs {
    /// The certificates, PEM or DER: the first is the one imported (with --store my, the
    /// others are kept with it as the chain it is sent with).
    file: PathBuf,
    /// The store to add it to.
    #[arg(long, value_enum)]
    store: Store,
    /// Its private key (PEM or DER; PKCS#8, PKCS#1 or SEC1), for --store my.
    #[arg(long)]
    key: Option<PathBuf>,
}

/// Arguments of `schannel cert export`.
#[derive(clap::Args, Debug)]
struct ExportArgs {
    /// The SHA-1 thumbprint.
    thumbprint: String,
    /// Where to write it (refused if it exists).
    #[arg(long, short)]
    out: PathBuf,
    /// DER instead of PEM.
    #[arg(long)]
    der: bool,
}

/// Arguments of `schannel cert remove`.
#[derive(clap::Args, Debug)]
struct RemoveArgs {
    /// The SHA-1 thumbprint.
    thumbprint: String,
    /// Also remove its private key from keys/ (store My).
    #[arg(long)]
    with_key: bool,
}

/// What the certificate is checked for.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Usage {
    /// A server certificate, as a client checks it (serverAuth, the name).
    Server,
    /// A client certificate, as a server checks it (clientAuth).
    Client,
}

/// Arguments of `schannel cert verify`.
#[derive(clap::Args, Debug)]
struct VerifyArgs {
    /// The certificate (PEM or DER); a PEM file may hold its chain after it.
    leaf: PathBuf,
    /// Intermediate certificates (PEM or DER) to offer to path building, as a peer sends them.
    #[arg(long)]
    chain: Option<PathBuf>,
    /// Trust the certificates of this directory instead of the data directory's stores/Root.
    #[arg(long, value_name = "DIR")]
    roots: Option<PathBuf>,
    /// With --usage server: the name the certificate must be valid for (default: the name
    /// is not judged).
    #[arg(long)]
    name: Option<String>,
    /// Validate at this time (RFC 3339, `2030-06-01T00:00:00Z`) instead of now.
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    #[command(flatten)]
    revocation: RevocationArgs,
    /// What the certificate is for.
    #[arg(long, value_enum, default_value = "server")]
    usage: Usage,
    /// Print the result as one JSON object.
    #[arg(long)]
    json: bool,
}

/// Run `schannel cert`.
pub fn run(args: Args, data_dir: &Path) -> CmdResult {
    match args.command {
        Command::Verify(a) => verify(a, data_dir),
        Command::List(a) => list(a, data_dir),
        Command::Show(a) => show(a, data_dir),
        Command::Import(a) => import(a, data_dir),
        Command::Export(a) => export(a, data_dir),
        Command::Remove(a) => remove(a, data_dir),
        Command::NewCa(a) => crate::cert_issue::new_ca(a, data_dir),
        Command::Issue(a) => crate::cert_issue::issue(a, data_dir),
    }
}

fn open_stores(data_dir: &Path) -> Result<CertificateStores, String> {
    CertificateStores::open(data_dir)
        .map_err(|e| format!("cannot read the stores of {}: {e}", data_dir.display()))
}

fn stored_json(c: &StoredCertificate, stores: &CertificateStores) -> serde_json::Value {
    let time = |t: i64| securechannel::rfc3339_seconds(t);
    serde_json::json!({
        "store": c.store.dir_name(),
        "thumbprint": c.thumbprint,
        "subject": c.subject,
        "issuer": c.issuer,
        "not_before": time(c.not_before),
        "not_after": time(c.not_after),
        "server_auth": c.server_auth,
        "file": c.path.display().to_string(),
        "key": stores.key_for(c).map(|k| k.path.display().to_string()),
    })
}

fn list(args: ListArgs, data_dir: &Path) -> CmdResult {
    let stores = open_stores(data_dir)?;
    let chosen: Vec<StoreName> = match args.store {
        Some(s) => vec![s.name()],
        None => ALL_STORES.to_vec(),
    };
    for store in chosen {
        for c in stores.certificates(store) {
            let j = stored_json(c, &stores);
            if args.json {
                println!("{j}");
            } else {
                println!(
                    "{:<10} {}  {}  (until {}){}",
                    store.dir_name(),
                    c.thumbprint,
                    c.subject,
                    j["not_after"].as_str().unwrap_or("?"),
                    if j["key"].is_null() { "" } else { "  [key]" }
                );
            }
        }
    }
    for w in stores.warnings() {
        eprintln!(
            "schannel: warning: {} was not taken: {}",
            w.path.display(),
            w.problem
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The certificate of the stores with this thumbprint.
fn find<'s>(
    stores: &'s CertificateStores,
    thumbprint: &str,
) -> Result<&'s StoredCertificate, String> {
    let query = StoreQuery::Thumbprint(thumbprint.to_string());
    ALL_STORES
        .iter()
        .find_map(|s| stores.find(*s, &query))
        .ok_or_else(|| format!("no certificate of the stores has the thumbprint {thumbprint}\nhint: schannel cert list"))
}

fn show(args: ShowArgs, data_dir: &Path) -> CmdResult {
    let stores = open_stores(data_dir)?;
    let c = find(&stores, &args.thumbprint)?;
    let j = stored_json(c, &stores);
    if args.json {
        println!("{j}");
    } else {
        for (label, key) in [
            ("Store", "store"),
            ("Thumbprint", "thumbprint"),
            ("Subject", "subject"),
            ("Issuer", "issuer"),
            ("Not before", "not_before"),
            ("Not after", "not_after"),
            ("File", "file"),
            ("Key", "key"),
        ] {
            println!("{label:<11}: {}", j[key].as_str().unwrap_or("(none)"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn import(args: ImportArgs, data_dir: &Path) -> CmdResult {
    let certs = read_certificates(&args.file, "the certificate file")?;
    let store = args.store.name();
    if args.key.is_some() && store != StoreName::My {
        return Err("--key goes with --store my (only own certificates have keys)".into());
    }
    let dir = data_dir.join("stores").join(store.dir_name());
    let (first, rest) = certs.split_first().ok_or("the file holds no certificate")?;
    let thumb = securechannel::thumbprint(first);
    let mut written = Vec::new();
    if store == StoreName::My {
        // One PEM file, the certificate then its chain: what serve sends.
        let text: String = certs
            .iter()
            .map(|c| pem::encode(&pem::Pem::new("CERTIFICATE", c.to_vec())))
            .collect();
        written.push(write_new(
            &dir.join(format!("{thumb}.pem")),
            text.as_bytes(),
            false,
        )?);
    } else {
        written.push(write_new(&dir.join(format!("{thumb}.cer")), first, false)?);
        if !rest.is_empty() {
            eprintln!(
                "schannel: only the first certificate of {} was added; {} more left out",
                args.file.display(),
                rest.len()
            );
        }
    }
    if let Some(key) = &args.key {
        let bytes = zeroize::Zeroizing::new(
            std::fs::read(key).map_err(|e| format!("cannot read {}: {e}", key.display()))?,
        );
        // Refused here rather than when a credential wants it.
        securechannel::private_key_from_pem_or_der(&bytes)
            .map_err(|e| format!("{} {e}", key.display()))?;
        written.push(write_new(
            &data_dir.join("keys").join(format!("{thumb}.key")),
            &bytes,
            true,
        )?);
    }
    for w in &written {
        println!("added {}", w.display());
    }
    println!(
        "{} {thumb} {}",
        store.dir_name(),
        securechannel::subject_name(first).unwrap_or_default()
    );
    Ok(ExitCode::SUCCESS)
}

/// Write `bytes` to a new file (mode 0600 from its creation when `secret`).
pub(crate) fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<PathBuf, String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} exists already (the certificate is in the store)",
                path.display()
            ),
            _ => format!("cannot create {}: {e}", path.display()),
        })?;
    f.write_all(bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path.to_path_buf())
}

fn export(args: ExportArgs, data_dir: &Path) -> CmdResult {
    let stores = open_stores(data_dir)?;
    let c = find(&stores, &args.thumbprint)?;
    let bytes = if args.der {
        c.der.to_vec()
    } else {
        pem::encode(&pem::Pem::new("CERTIFICATE", c.der.to_vec())).into_bytes()
    };
    let path = write_new(&args.out, &bytes, false)?;
    println!("wrote {} ({})", path.display(), c.subject);
    Ok(ExitCode::SUCCESS)
}

fn remove(args: RemoveArgs, data_dir: &Path) -> CmdResult {
    let stores = open_stores(data_dir)?;
    let c = find(&stores, &args.thumbprint)?;
    if !c.chain.is_empty() && c.store != StoreName::My {
        return Err(format!(
            "{} holds {} more certificate(s) besides this one; edit or remove the file itself",
            c.path.display(),
            c.chain.len()
        )
        .into());
    }
    let key = stores.key_for(c).map(|k| k.path.clone());
    std::fs::remove_file(&c.path)
        .map_err(|e| format!("cannot remove {}: {e}", c.path.display()))?;
    println!("removed {}", c.path.display());
    match (key, args.with_key) {
        (Some(k), true) => {
            std::fs::remove_file(&k).map_err(|e| format!("cannot remove {}: {e}", k.display()))?;
            println!("removed {}", k.display());
        }
        (Some(k), false) => println!("its key stays in {} (--with-key removes it)", k.display()),
        (None, _) => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn read_certificates(
    path: &Path,
    what: &str,
) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read {what} {}: {e}", path.display()))?;
    certificates_from_pem_or_der(&bytes).map_err(|e| format!("{what} {}: {e}", path.display()))
}

fn verify(args: VerifyArgs, data_dir: &Path) -> CmdResult {
    let mut chain = read_certificates(&args.leaf, "the certificate")?;
    if let Some(path) = &args.chain {
        chain.extend(read_certificates(path, "--chain")?);
    }
    if args.name.is_some() && args.usage == Usage::Client {
        return Err("--name applies to --usage server only (a client certificate is not checked for a name)".into());
    }
    // Validation logs nothing: no credential events for a diagnosis.
    let provider = Provider::open(data_dir, Arc::new(NullSink))
        .map_err(|e| crate::failure_text("cannot open the data directory", &e))?;
    let mut roots = Vec::new();
    if let Some(dir) = &args.roots {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read --roots {}: {e}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_file() {
                let certs = read_certificates(&path, "--roots")?;
                // A trust anchor that does not parse would fail the whole credential:
                // name the file instead.
                if let Some(bad) = certs
                    .iter()
                    .position(|c| x509_parser::parse_x509_certificate(c).is_err())
                {
                    return Err(format!(
                        "--roots {}: certificate {} of the file is not valid X.509",
                        path.display(),
                        bad + 1
                    )
                    .into());
                }
                roots.extend(certs);
            }
        }
        if roots.is_empty() {
            return Err(format!("--roots {} holds no certificate", dir.display()).into());
        }
    }
    let at = match &args.at {
        Some(t) => {
            let nanos =
                securechannel::events::parse_rfc3339(t).map_err(|e| format!("--at {t}: {e}"))?;
            Some(
                u64::try_from(nanos / 1_000_000_000)
                    .map_err(|_| format!("--at {t}: before 1970"))?,
            )
        }
        None => None,
    };
    macro_rules! configure {
        ($b:expr) => {{
            let mut b = $b;
            if args.roots.is_some() {
                b = b.only_added_roots();
                for r in &roots {
                    b = b.add_root(r.clone());
                }
            }
            if let Some(secs) = at {
                b = b.dangerous_validation_time(secs);
            }
            if let Some((check, offline)) = args.revocation.choice() {
                b = b.revocation(check, offline);
            }
            b
        }};
    }
    let result = match args.usage {
        Usage::Server => configure!(provider.client_credential())
            .acquire()
            .map_err(|e| crate::failure_text("cannot acquire a credential", &e))?
            .validate_server_chain(&chain, args.name.as_deref()),
        Usage::Client => configure!(provider.server_credential().system_default())
            .acquire()
            .map_err(|e| crate::failure_text("cannot acquire a credential", &e))?
            .validate_client_chain(&chain),
    };
    let cert = describe(&chain[0]);
    let report = match &result {
        Ok(()) => serde_json::json!({
            "valid": true,
            "certificate": cert,
            "name": args.name,
        }),
        Err(e) => serde_json::json!({
            "valid": false,
            "status": e.status().name(),
            "status_code": e.status().hex(),
            "chain_status": e.chain_status().map(|s| s.name()),
            "chain_status_code": e.chain_status().map(|s| s.hex()),
            "message": e.message(),
            "certificate": cert,
            "name": args.name,
        }),
    };
    if args.json {
        println!("{report}");
    } else {
        print_report(&report);
    }
    Ok(ExitCode::from(if result.is_ok() { 0 } else { 1 }))
}

fn print_report(r: &serde_json::Value) {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    if r["valid"] == true {
        println!("Verdict      : valid");
    } else {
        println!("Verdict      : invalid: {}", text(&r["message"]));
        println!(
            "SSPI status  : {} ({})",
            text(&r["status"]),
            text(&r["status_code"])
        );
        match r["chain_status"].as_str() {
            Some(s) => println!("Chain status : {s} ({})", text(&r["chain_status_code"])),
            None => println!(
                "Chain status : {} ({})",
                text(&r["status"]),
                text(&r["status_code"])
            ),
        }
    }
    let c = &r["certificate"];
    println!("Subject      : {}", text(&c["subject"]));
    println!("Issuer       : {}", text(&c["issuer"]));
    println!(
        "Valid        : {} to {}",
        text(&c["not_before"]),
        text(&c["not_after"])
    );
    match r["name"].as_str() {
        Some(n) => println!("Name checked : {n}"),
        None => println!("Name checked : (none)"),
    }
}

/// The end-entity certificate's subject, issuer and validity.
fn describe(der: &[u8]) -> serde_json::Value {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => {
            let time = |t: x509_parser::time::ASN1Time| {
                securechannel::events::format_rfc3339(
                    t.timestamp().saturating_mul(1_000_000_000),
                    0,
                )
            };
            serde_json::json!({
                "subject": c.subject().to_string(),
                "issuer": c.issuer().to_string(),
                "not_before": time(c.validity().not_before),
                "not_after": time(c.validity().not_after),
            })
        }
        Err(_) => serde_json::json!({ "subject": "(does not parse)" }),
    }
}
