//! `schannel config reload`: ask the running `schannel serve` of the data directory to
//! read its settings again (SIGHUP, sent with the `kill` command: no unsafe code here),
//! and report what it did. A settings file that does not parse is refused here first,
//! with its file, line and column; serve would refuse it the same way and keep its policy.

use crate::pidfile::{self, Running};
use crate::CmdResult;
use securechannel::{Settings, SETTINGS_FILE};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// Run `config reload`.
pub fn request(data_dir: &Path, timeout: u64) -> CmdResult {
    let pid = match pidfile::running(data_dir)? {
        Running::Serve(pid) => pid,
        Running::Stale(pid) => {
            return Err(format!(
                "no schannel serve runs on {}: {} names pid {pid}, which is not a running schannel serve (a stale file: the next serve replaces it)",
                data_dir.display(),
                pidfile::PID_FILE
            )
            .into())
        }
        Running::Nothing => {
            return Err(format!(
                "no schannel serve runs on {} (no {})\nhint: start one with `schannel serve`; new settings apply to it from the start",
                data_dir.display(),
                pidfile::PID_FILE
            )
            .into())
        }
    };
    let file = data_dir.join(SETTINGS_FILE);
    if let Err(e) = Settings::load(data_dir) {
        return Err(crate::failure_text(
            &format!("{} is refused; schannel serve (pid {pid}) was not asked to reload and keeps its policy", file.display()),
            &e,
        )
        .into());
    }
    let before = pidfile::last_reload(data_dir);
    let sent = Command::new("kill")
        .arg("-HUP")
        .arg(pid.to_string())
        .status()
        .map_err(|e| format!("cannot run `kill -HUP {pid}`: {e}"))?;
    if !sent.success() {
        return Err(format!("`kill -HUP {pid}` failed ({sent})").into());
    }
    let deadline = Instant::now() + Duration::from_secs(timeout.max(1));
    loop {
        if let Some(o) =
            pidfile::last_reload(data_dir).filter(|o| o.pid == pid && Some(o) != before.as_ref())
        {
            if o.ok {
                println!(
                    "schannel serve (pid {pid}) reloaded {}: {}",
                    file.display(),
                    o.message
                );
                return Ok(ExitCode::SUCCESS);
            }
            return Err(format!(
                "schannel serve (pid {pid}) refused the new settings and keeps its policy: {}",
                o.message
            )
            .into());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "schannel serve (pid {pid}) was asked to reload but reported nothing within {timeout} s; see its output"
            )
            .into());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}
