//! The dangerous key log: TLS session secrets in the NSS key log format (what
//! `SSLKEYLOGFILE` gives browsers, what Wireshark reads), written only for a credential
//! built with `dangerous_key_log(PATH)`. The `SSLKEYLOGFILE` environment variable is
//! never read: a process's environment must not be able to turn this on.
//!
//! Anyone who can read the file can decrypt every connection it covers. The file is
//! created with mode 0600 and appended to; each line is wiped from memory once written.
//! The credential's 36867 event says the secrets are being written, and where, whatever
//! `EventLogging` is (see `credential::acquire`).

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use zeroize::Zeroize;

/// An open key log file (a rustls `KeyLog`).
pub(crate) struct KeyLogFile {
    path: PathBuf,
    file: Mutex<File>,
    /// Lines that could not be written (a full disk, a removed file system).
    failed: AtomicU64,
}

impl KeyLogFile {
    /// Open (create, mode 0600) `path` for appending.
    pub(crate) fn open(path: &Path) -> std::io::Result<KeyLogFile> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        Ok(KeyLogFile {
            path: path.to_path_buf(),
            file: Mutex::new(file),
            failed: AtomicU64::new(0),
        })
    }
}

impl std::fmt::Debug for KeyLogFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyLogFile")
            .field("path", &self.path)
            .field("failed", &self.failed.load(Ordering::Relaxed))
            .finish()
    }
}

impl rustls::KeyLog for KeyLogFile {
    fn log(&self, label: &str, client_random: &[u8], secret: &[u8]) {
        let mut line =
            String::with_capacity(label.len() + 2 * (client_random.len() + secret.len()) + 3);
        line.push_str(label);
        line.push(' ');
        for b in client_random {
            let _ = write!(line, "{b:02x}");
        }
        line.push(' ');
        for b in secret {
            let _ = write!(line, "{b:02x}");
        }
        line.push('\n');
        let written = match self.file.lock() {
            Ok(mut f) => f.write_all(line.as_bytes()).is_ok(),
            Err(_) => false,
        };
        if !written {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        line.zeroize();
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}
