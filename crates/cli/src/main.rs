//! `schannel`: the command line of securechannel.
#![forbid(unsafe_code)]

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod bench;
mod cert;
mod cert_store;
mod config;
mod config_show;
mod connect;
mod dangerous;
mod devca;
mod events;
mod explain;
mod http;
mod mapping;
mod pidfile;
mod progress;
mod reload;
mod revocation;
mod runtime;
mod serve;
mod viewer;

/// A Secure Channel (Schannel) security provider for Linux: TLS endpoints with
/// Schannel's settings and Schannel's System-log events.
#[derive(Parser, Debug)]
#[command(name = "schannel", version, about, propagate_version = true)]
struct Cli {
    /// The data directory (settings, certificate stores, keys, CRLs, the event log).
    #[arg(
        long,
        global = true,
        env = "SCHANNEL_DATA",
        default_value = "./schannel-data"
    )]
    data_dir: PathBuf,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a TLS endpoint (the main job): answers HTTP with how you connected, or proxies.
    Serve(serve::Args),
    /// Probe a TLS server like `openssl s_client`, and log the events.
    Connect(connect::Args),
    /// Read the System log the way `wevtutil qe System` / `Get-WinEvent` do; write test events.
    Events(events::Args),
    /// Read or change the SCHANNEL settings (`settings.toml`).
    Config(config::Args),
    /// Explain an event ID, a TLS alert or an SSPI status code.
    Explain(explain::Args),
    /// Certificates, like certutil: `cert verify` validates a chain as a connection would;
    /// `cert list|show|import|export|remove` manage the stores.
    Cert(cert::Args),
    /// Measure the provider against raw rustls in memory: handshakes and bulk, per-thread CPU.
    Bench(bench::Args),
    /// Client-certificate mapping (`mappings.toml`): `mapping test CERT` shows which rule
    /// maps a certificate to an account, and why.
    Mapping(mapping::Args),
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    // Whether --data-dir (or SCHANNEL_DATA) was given rather than defaulted: `bench`
    // writes into a temporary log unless it was.
    let data_dir_given = matches
        .value_source("data_dir")
        .is_some_and(|s| s != clap::parser::ValueSource::DefaultValue);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let result = match cli.command {
        Command::Serve(a) => serve::run(a, &cli.data_dir),
        Command::Connect(a) => connect::run(a, &cli.data_dir),
        Command::Events(a) => events::run(a, &cli.data_dir),
        Command::Config(a) => config::run(a, &cli.data_dir),
        Command::Explain(a) => explain::run(a, &cli.data_dir),
        Command::Cert(a) => cert::run(a, &cli.data_dir),
        Command::Bench(a) => bench::run(a, &cli.data_dir, data_dir_given),
        Command::Mapping(a) => mapping::run(a, &cli.data_dir),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            ExitCode::from(2)
        }
    }
}

/// What a command returns: its exit code, or an error printed as `schannel: ...`.
pub type CmdResult = Result<ExitCode, Box<dyn std::error::Error>>;

/// Print a failure on stderr. The one place that writes the `schannel: ` prefix: error
/// texts (returned errors, [`failure_text`]) never start with it.
pub fn print_error(e: &dyn std::fmt::Display) {
    eprintln!("schannel: {e}");
}

/// A provider failure as every command prints it (through [`print_error`]): what failed,
/// the error with its event ID and status, a one-line hint, and where to read more.
pub fn failure_text(what: &str, e: &securechannel::Error) -> String {
    use securechannel_explain::{event_explanation, status_explanation};
    let mut s = format!("{what}: {e}");
    let hint = e
        .event()
        .and_then(|id| event_explanation(id).actions.first().copied())
        .or_else(|| status_explanation(e.status()).and_then(|x| x.actions.first().copied()));
    if let Some(h) = hint {
        s.push_str("\nhint: ");
        s.push_str(h);
    }
    if let Some(id) = e.event() {
        s.push_str(&format!(
            "\n      (schannel explain {id} / schannel events --id {id} --count 1)"
        ));
    } else {
        s.push_str(&format!(
            "\n      (schannel explain 0x{:08X})",
            e.status().code()
        ));
    }
    s
}

/// A certificate's subject as every command prints it (RFC 4514, from the provider's
/// [`securechannel::subject_name`]), or a placeholder when it does not parse.
pub fn subject_text(der: &[u8]) -> String {
    securechannel::subject_name(der).unwrap_or_else(|| "(unparsable certificate)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Safe defaults: `schannel serve` with no flags listens on loopback only, and
    /// writes no key log.
    #[test]
    fn serve_defaults_to_loopback_and_no_key_log() {
        let cli = Cli::try_parse_from(["schannel", "serve"]).unwrap();
        let Command::Serve(a) = cli.command else {
            panic!("not serve: {cli:?}");
        };
        assert!(a.listen.ip().is_loopback(), "{}", a.listen);
        assert!(a.dangerous.dangerous_key_log.is_none());
    }
}
