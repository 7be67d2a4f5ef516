//! `schannel explain`: what an event ID, a TLS alert or an SSPI status means, its likely
//! causes and what to do. The texts live in securechannel-explain's tables.

use crate::CmdResult;
use securechannel_explain::{explain, Subject};
use std::path::Path;
use std::process::ExitCode;

/// Arguments of `schannel explain`.
#[derive(clap::Args, Debug)]
#[command(after_help = securechannel_explain::ACCEPTED_FORMS)]
pub struct Args {
    /// What to explain: `36887`, `alert 48`, `alert unknown_ca`, `0x80090325`,
    /// `-2146893019`, `SEC_E_UNTRUSTED_ROOT` (optionally prefixed by `event`, `alert` or
    /// `status`).
    // Negative numbers are status codes as .NET and PowerShell print them, not flags.
    #[arg(required = true, num_args = 1..=2, allow_negative_numbers = true, value_name = "WHAT")]
    words: Vec<String>,
}

/// Run `schannel explain`. Input it cannot read is an error (exit 2) that lists the
/// accepted forms.
pub fn run(args: Args, _data_dir: &Path) -> CmdResult {
    let words: Vec<&str> = args.words.iter().map(String::as_str).collect();
    let subject = Subject::parse(&words)?;
    let text = explain(subject);
    // Every explanation ends its last line, whichever kind it is.
    if text.ends_with('\n') {
        print!("{text}");
    } else {
        println!("{text}");
    }
    Ok(ExitCode::SUCCESS)
}
