//! `schannel mapping test CERT`: which rule of `mappings.toml` maps a client certificate
//! to an account, and why, as a server of this data directory would map it after the
//! handshake (the methods `CertificateMappingMethods` enables, in Windows' order; the
//! issuers trusted for UPN mapping from `[upn]` or stores/ClientAuth). The certificate is
//! not validated here (`schannel cert verify --usage client` does that); exit 0 only when
//! it maps.

use crate::CmdResult;
use securechannel::{MappingOutcome, MappingRules, Provider, StoreName};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `schannel mapping`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Show which rule maps a client certificate (PEM or DER) and why; exit 0 only if
    /// it maps.
    Test {
        /// The client certificate.
        cert: PathBuf,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Run `schannel mapping`.
pub fn run(args: Args, data_dir: &Path) -> CmdResult {
    match args.command {
        Command::Test { cert, json } => test(&cert, json, data_dir),
    }
}

fn test(cert: &Path, json: bool, data_dir: &Path) -> CmdResult {
    let chain = crate::cert::read_certificates(cert, "the certificate")?;
    let leaf = &chain[0];
    let file = data_dir.join(securechannel::MAPPINGS_FILE);
    let rules = MappingRules::load(data_dir)
        .map_err(|e| format!("{e}\nhint: fix the rule and run `schannel mapping test` again; a server asking for client certificates refuses to start with it (36871)"))?
        .ok_or_else(|| {
            format!(
                "{} does not exist: a server maps client certificates only with one\nhint: see docs/mapping.md for its rules",
                file.display()
            )
        })?;
    let provider = Provider::open(data_dir, Arc::new(securechannel::events::NullSink))
        .map_err(|e| crate::failure_text("cannot open the data directory", &e))?;
    let methods = provider.settings().certificate_mapping_methods();
    let stores = provider.stores();
    let trust_list: Vec<_> = stores
        .certificates(StoreName::ClientAuth)
        .iter()
        .map(|c| c.der.clone())
        .collect();
    let report = rules.map(leaf, methods, &trust_list);
    let (event, code) = match report.outcome.event() {
        Some((id, status)) => (Some(id.value()), Some(status.hex())),
        None => (None, None),
    };
    if json {
        let steps: Vec<serde_json::Value> = report
            .steps
            .iter()
            .map(|s| {
                serde_json::json!({
                    "method": s.method.name(),
                    "bit": format!("{:#x}", s.method.bit()),
                    "enabled": s.enabled,
                    "mapped": s.mapped,
                    "detail": s.detail,
                })
            })
            .collect();
        let account = report.outcome.account();
        let value = serde_json::json!({
            "certificate": cert.display().to_string(),
            "subject": report.subject,
            "issuer": report.issuer,
            "sha1": securechannel::thumbprint(leaf),
            "sha256": securechannel::sha256_thumbprint(leaf),
            "methods": format!("{methods:#x}"),
            "mapped": account.is_some(),
            "account": account.map(|a| a.account.clone()),
            "method": account.map(|a| a.method.name()),
            "rule": account.map(|a| a.rule.clone()),
            "event": event,
            "error_code": code,
            "steps": steps,
        });
        println!("{value}");
    } else {
        println!("Certificate: {}", cert.display());
        println!("  Subject: {}", report.subject);
        println!("  Issuer:  {}", report.issuer);
        println!("  SHA-1:   {}", securechannel::thumbprint(leaf));
        println!("  SHA-256: {}", securechannel::sha256_thumbprint(leaf));
        println!(
            "Rules: {} ({} rule(s)); CertificateMappingMethods = {methods:#x}",
            file.display(),
            rules.len()
        );
        for s in &report.steps {
            let mark = match (s.enabled, s.mapped) {
                (_, true) => "mapped",
                (true, false) => "no",
                (false, _) => "off",
            };
            println!(
                "  {:<12} ({:#x}) {mark:<6} {}",
                s.method.name(),
                s.method.bit(),
                s.detail
            );
        }
        match &report.outcome {
            MappingOutcome::Mapped(m) => println!(
                "Mapped to {} by {} ({})",
                m.account,
                m.method.name(),
                m.rule
            ),
            MappingOutcome::IssuerNotTrusted { issuer, name } => println!(
                "Not mapped: {name} is named by the certificate, but its issuer {issuer} is not trusted for mapping: a server logs 36878 (ErrorCode {})",
                code.as_deref().unwrap_or("")
            ),
            _ => println!(
                "Not mapped: no rule maps this certificate: a server logs 36879 (ErrorCode {}) and lets the connection go on unmapped",
                code.as_deref().unwrap_or("")
            ),
        }
    }
    Ok(match report.outcome.account() {
        Some(_) => ExitCode::SUCCESS,
        None => ExitCode::from(1),
    })
}
