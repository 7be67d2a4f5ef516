//! `schannel cert verify`, like `certutil -verify`: a certificate chain validated offline
//! through the same verifier a connection uses (roots, stores/CA, CRLs of crl/ and of the
//! distribution points, the revocation mode), with the verdict, the SSPI status a context
//! would return and CryptoAPI's precise chain status. Exit code 0 only when valid.

use crate::revocation::RevocationArgs;
use crate::CmdResult;
use securechannel::events::NullSink;
use securechannel::{certificates_from_pem_or_der, Provider};
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
    /// The certificates of the stores (`certutil -store`): thumbprint, validity, key, subject.
    List(crate::cert_store::ListArgs),
    /// One certificate in detail: names, validity, key, usages, constraints, files.
    Show(crate::cert_store::ShowArgs),
    /// Add certificates (PEM, DER, or .pfx with its key) to a store (`certutil -addstore`).
    Import(crate::cert_store::ImportArgs),
    /// Write a certificate out as PEM, DER or .pfx with its key (`certutil -exportPFX`).
    Export(crate::cert_store::ExportArgs),
    /// Delete a certificate from its store (`certutil -delstore`), optionally its key.
    Remove(crate::cert_store::RemoveArgs),
    /// Create a CA (self-signed) with its key, for test and lab use.
    NewCa(crate::cert_store::NewCaArgs),
    /// Issue a server or client certificate from a store CA into stores/My, with its key.
    Issue(crate::cert_store::IssueArgs),
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
        Command::List(a) => crate::cert_store::list(a, data_dir),
        Command::Show(a) => crate::cert_store::show(a, data_dir),
        Command::Import(a) => crate::cert_store::import(a, data_dir),
        Command::Export(a) => crate::cert_store::export(a, data_dir),
        Command::Remove(a) => crate::cert_store::remove(a, data_dir),
        Command::NewCa(a) => crate::cert_store::new_ca(a, data_dir),
        Command::Issue(a) => crate::cert_store::issue(a, data_dir),
    }
}

pub(crate) fn read_certificates(
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
