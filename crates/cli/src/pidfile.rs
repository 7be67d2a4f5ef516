//! `serve.pid` in the data directory: written when `schannel serve` starts (after it
//! listens and handles SIGHUP), removed when it stops, so that `schannel config reload`
//! finds the server; and `serve.reload`, where serve leaves the outcome of each reload.
//!
//! A pid file whose process is gone, or is not a `schannel serve`, is stale: `serve`
//! replaces it, `config reload` says so.

use std::path::{Path, PathBuf};

/// The pid file's name in the data directory.
pub const PID_FILE: &str = "serve.pid";
/// The last reload's outcome: `<pid> <generation>`, then `ok` or `refused`, then the
/// message.
pub const RELOAD_FILE: &str = "serve.reload";

/// What the pid file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Running {
    /// No pid file.
    Nothing,
    /// A pid file naming a process that is not a running `schannel serve`.
    Stale(u32),
    /// A running `schannel serve`.
    Serve(u32),
}

/// The running serve of `data_dir`, if any.
pub fn running(data_dir: &Path) -> Result<Running, String> {
    let path = data_dir.join(PID_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Running::Nothing),
        Err(e) => return Err(format!("{}: cannot be read: {e}", path.display())),
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        return Ok(Running::Stale(0));
    };
    Ok(if is_serve(pid) {
        Running::Serve(pid)
    } else {
        Running::Stale(pid)
    })
}

/// Whether `pid` is a running `schannel ... serve` (from /proc: its command line).
fn is_serve(pid: u32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let mut args = cmdline.split(|&b| b == 0).map(String::from_utf8_lossy);
    let program = args.next().unwrap_or_default();
    program
        .rsplit('/')
        .next()
        .is_some_and(|p| p.starts_with("schannel"))
        && args.any(|a| a == "serve")
}

/// This process's pid file, removed when dropped.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    /// Write `<data_dir>/serve.pid`; refused when another serve runs on the directory.
    /// Returns the stale pid replaced, if there was one.
    pub fn create(data_dir: &Path) -> Result<(PidFile, Option<u32>), String> {
        let stale = match running(data_dir)? {
            Running::Serve(pid) if pid != std::process::id() => {
                return Err(format!(
                    "another schannel serve (pid {pid}) runs on {} ({PID_FILE})\nhint: stop it, or give this one another --data-dir",
                    data_dir.display()
                ))
            }
            Running::Stale(pid) => Some(pid),
            _ => None,
        };
        let path = data_dir.join(PID_FILE);
        write_atomically(&path, &format!("{}\n", std::process::id()))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok((PidFile { path }, stale))
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own: a later serve may have replaced a file it judged stale.
        let ours = std::fs::read_to_string(&self.path)
            .is_ok_and(|t| t.trim() == std::process::id().to_string());
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Write `text` beside `path` and rename it over: readers never see half a file.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// The outcome of a reload, as serve records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// The serve that reloaded.
    pub pid: u32,
    /// Its reload count.
    pub generation: u64,
    /// Whether the new settings are in force.
    pub ok: bool,
    /// What serve said.
    pub message: String,
}

/// Record the outcome of a reload.
pub fn record_reload(data_dir: &Path, outcome: &ReloadOutcome) -> std::io::Result<()> {
    let status = if outcome.ok { "ok" } else { "refused" };
    write_atomically(
        &data_dir.join(RELOAD_FILE),
        &format!(
            "{} {}\n{status}\n{}\n",
            outcome.pid, outcome.generation, outcome.message
        ),
    )
}

/// The last recorded reload, if any.
pub fn last_reload(data_dir: &Path) -> Option<ReloadOutcome> {
    let text = std::fs::read_to_string(data_dir.join(RELOAD_FILE)).ok()?;
    let mut lines = text.splitn(3, '\n');
    let (pid, generation) = lines.next()?.split_once(' ')?;
    let ok = lines.next()? == "ok";
    Some(ReloadOutcome {
        pid: pid.parse().ok()?,
        generation: generation.parse().ok()?,
        ok,
        message: lines.next().unwrap_or_default().trim_end().to_string(),
    })
}
