//! The package as a process sees it: one provider on the data directory (`SCHANNEL_DATA`,
//! else `./schannel-data`, as the `schannel` commands), logging into that directory's
//! System log (`events.db`), so a C program's handshakes appear in `schannel events`
//! beside the CLI's.
//!
//! The package loads with the first credential (Windows loads it at boot, so 36864 is
//! logged then) and unloads when the last handle (credential or context) is freed: the
//! log is then flushed and closed, and its writer thread ends, so a program that frees
//! its handles leaves nothing behind (valgrind finds no leak).

use crate::handles;
use securechannel::{Provider, Settings};
use securechannel_eventlog::{EventLog, LogOptions};
use securechannel_events::{EventSink, Status};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The loaded package.
pub(crate) struct Package {
    pub(crate) provider: Provider,
    log: Arc<EventLog>,
}

static LOADED: Mutex<Option<Arc<Package>>> = Mutex::new(None);

/// The data directory: `SCHANNEL_DATA`, else `./schannel-data`.
pub(crate) fn data_dir() -> PathBuf {
    std::env::var_os("SCHANNEL_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("./schannel-data"))
}

/// The loaded package, loading it first if no handle is open.
pub(crate) fn package() -> Result<Arc<Package>, Status> {
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = loaded.as_ref() {
        return Ok(p.clone());
    }
    let dir = data_dir();
    std::fs::create_dir_all(&dir).map_err(|_| Status::InternalError)?;
    let log =
        Arc::new(EventLog::open_in(&dir, log_options(&dir)).map_err(|_| Status::InternalError)?);
    let provider =
        Provider::open(&dir, log.clone() as Arc<dyn EventSink>).map_err(|e| e.status())?;
    let p = Arc::new(Package { provider, log });
    *loaded = Some(p.clone());
    Ok(p)
}

/// Flush the log (the events of a finished context are on disk when the call returns),
/// and unload the package when no handle is left.
pub(crate) fn release() {
    let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
    if handles::open_count() > 0 {
        if let Some(p) = loaded.as_ref() {
            let _ = p.log.sync();
        }
        return;
    }
    let Some(p) = loaded.take() else { return };
    drop(loaded);
    match Arc::try_unwrap(p) {
        Ok(Package { provider, log }) => {
            drop(provider);
            match Arc::try_unwrap(log) {
                Ok(log) => {
                    let _ = log.close();
                }
                Err(log) => {
                    let _ = log.sync();
                }
            }
        }
        // A call on another thread still holds it: it flushes when it is done.
        Err(p) => {
            let _ = p.log.sync();
        }
    }
}

/// The log's options from `settings.toml`'s `[EventLog]` table (as the `schannel`
/// commands open the log).
pub(crate) fn log_options(data_dir: &Path) -> LogOptions {
    Settings::load(data_dir)
        .map(|s| {
            let e = s.event_log();
            LogOptions::configured(e.max_size, e.retention, e.flood_threshold, e.flood_window)
        })
        .unwrap_or_default()
}
