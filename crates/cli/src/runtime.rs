//! What every command that runs TLS shares: the event log of the data directory, the
//! provider on top of it, and credentials built from command-line flags.

use securechannel::{ClientCredential, Protocol, Provider, Settings};
use securechannel_eventlog::{EventLog, FloodControl, LogOptions};
use securechannel_events::EventSink;
use std::path::Path;
use std::sync::Arc;

/// The log and the provider of one command run.
pub struct Runtime {
    pub provider: Provider,
    log: Arc<EventLog>,
}

impl Runtime {
    /// Open `<data_dir>/events.db` and the provider on `data_dir` (creating the layout).
    pub fn open(data_dir: &Path) -> Result<Runtime, Box<dyn std::error::Error>> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            format!(
                "cannot create the data directory {}: {e}\nhint: pass --data-dir DIR (or set SCHANNEL_DATA) to a writable directory",
                data_dir.display()
            )
        })?;
        let log = Arc::new(open_log(data_dir)?);
        let provider = Provider::open(data_dir, log.clone() as Arc<dyn EventSink>)
            .map_err(|e| crate::failure_text("the provider did not load", &e))?;
        Ok(Runtime { provider, log })
    }

    /// A client credential: the machine's roots, plus `cafile`'s, plus an optional client
    /// certificate, narrowed to `protocols` (empty: the settings decide).
    pub fn client_credential(
        &self,
        protocols: &[Protocol],
        cafile: Option<&Path>,
        cert_key: Option<(&Path, &Path)>,
    ) -> Result<ClientCredential, Box<dyn std::error::Error>> {
        let mut b = self.provider.client_credential();
        if !protocols.is_empty() {
            b = b.protocols(protocols);
        }
        if let Some(path) = cafile {
            let bytes = std::fs::read(path)
                .map_err(|e| format!("cannot read --cafile {}: {e}", path.display()))?;
            let certs = certificates_from_pem_or_der(&bytes)
                .map_err(|e| format!("--cafile {}: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("--cafile {} holds no certificate", path.display()).into());
            }
            for c in certs {
                b = b.add_root(c);
            }
        }
        if let Some((cert, key)) = cert_key {
            b = b.with_certificate_files(cert, key);
        }
        b.acquire()
            .map_err(|e| crate::failure_text("cannot acquire the client credential", &e).into())
    }

    /// Flush the log and close it.
    pub fn close(self) {
        let Runtime { provider, log } = self;
        drop(provider);
        if let Err(e) = log.sync() {
            eprintln!("schannel: the event log could not be flushed: {e}");
        }
    }
}

/// Open the data directory's log with the `[EventLog]` settings (defaults when the
/// settings file is unreadable: the provider then reports that itself, into this log).
pub fn open_log(data_dir: &Path) -> Result<EventLog, Box<dyn std::error::Error>> {
    let log = EventLog::open_in(data_dir, log_options(data_dir))
        .map_err(|e| format!("cannot open the event log in {}: {e}", data_dir.display()))?;
    if let Some(m) = log.moved_aside() {
        eprintln!("schannel: {m}; a new log was started");
    }
    Ok(log)
}

/// The log's options from `settings.toml`'s `[EventLog]` table.
pub fn log_options(data_dir: &Path) -> LogOptions {
    let mut options = LogOptions::default();
    if let Ok(settings) = Settings::load(data_dir) {
        let s = settings.event_log();
        options.max_size_bytes = s.max_size;
        options.retention = s.retention;
        options.flood = if s.flood_threshold == 0 {
            FloodControl::off()
        } else {
            FloodControl {
                threshold: s.flood_threshold,
                window: s.flood_window,
                ..FloodControl::default()
            }
        };
    }
    options
}

/// The subject of a DER certificate as an RFC 4514 string, or a placeholder.
pub fn subject_of(der: &[u8]) -> String {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => c.subject().to_string(),
        Err(_) => "(unparsable certificate)".to_string(),
    }
}

/// Certificates from a PEM file (any number) or a single DER certificate.
pub fn certificates_from_pem_or_der(
    bytes: &[u8],
) -> Result<Vec<rustls_pki_types::CertificateDer<'static>>, String> {
    use rustls_pki_types::pem::PemObject;
    if bytes.starts_with(b"0\x82") || bytes.first() == Some(&0x30) {
        return Ok(vec![rustls_pki_types::CertificateDer::from(bytes.to_vec())]);
    }
    rustls_pki_types::CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e}"))
}
