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
            let certs = securechannel::certificates_from_pem_or_der(&bytes)
                .map_err(|e| format!("--cafile {}: {e}", path.display()))?;
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
