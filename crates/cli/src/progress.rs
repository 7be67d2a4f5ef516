//! Progress on long work, for a person at a terminal only: a bar (or a spinner when the
//! amount is unknown) on stderr when stderr is a terminal; nothing at all when it is
//! piped or redirected, so scripts and services see only their output and one summary.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Whether progress is shown: stderr is a terminal.
pub fn shown() -> bool {
    std::io::stderr().is_terminal()
}

/// A bar of `len` steps saying `what`, or `None` off a terminal.
pub fn bar(len: u64, what: &str, unit: &str) -> Option<ProgressBar> {
    shown().then(|| {
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {{msg}} [{{bar:30}}] {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
            ))
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        bar
    })
}

/// A spinner saying `what` with the time elapsed, ticking on its own, or `None` off a
/// terminal: for work whose amount is not known before it ends (one SQLite statement).
pub fn spinner(what: &str) -> Option<ProgressBar> {
    shown().then(|| {
        let s = ProgressBar::new_spinner();
        s.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        s.set_message(what.to_string());
        s.enable_steady_tick(Duration::from_millis(100));
        s
    })
}

/// Clear a bar or spinner (if there is one) before the command prints its result.
pub fn done(p: Option<ProgressBar>) {
    if let Some(p) = p {
        p.finish_and_clear();
    }
}
