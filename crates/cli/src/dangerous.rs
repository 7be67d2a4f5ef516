//! The dangerous flags of `connect` and `serve`: named so, loud on stderr, recorded in
//! the credential's 36867 event.

use std::path::PathBuf;

/// Options that weaken what the provider protects; each says so when used.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DangerousArgs {
    /// DANGEROUS: append every connection's TLS session secrets to FILE (NSS key log
    /// format, for Wireshark). Whoever reads FILE can decrypt the traffic. Said on stderr
    /// and in the credential's 36867 event. SSLKEYLOGFILE is never read.
    #[arg(long, value_name = "FILE")]
    pub dangerous_key_log: Option<PathBuf>,
}

impl DangerousArgs {
    /// Say on stderr what is switched on (before the credential is acquired).
    pub fn warn(&self) {
        if let Some(path) = &self.dangerous_key_log {
            eprintln!(
                "schannel: WARNING: DANGEROUS: --dangerous-key-log: the TLS session secrets of every connection are written to {}; anyone who can read it can decrypt the traffic. Use it only to debug, then delete the file.",
                path.display()
            );
        }
    }
}
