//! Per-thread CPU time, pinning, and what the machine is.
//!
//! CPU time comes from Linux's schedstat (`/proc/thread-self/schedstat`, the run time
//! in nanoseconds the scheduler charged to the thread): unlike rates, it barely depends
//! on what else the machine runs, so it is the figure to trust on a shared machine.

use crate::BoxError;
use std::time::Duration;

/// The CPU time this thread has run.
pub fn thread_cpu() -> Option<Duration> {
    schedstat_runtime("/proc/thread-self/schedstat")
}

/// The CPU time of the event logs' writer threads (named `schannel-eventlog`, which the
/// kernel truncates to 15 characters).
pub fn writer_cpu() -> Option<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end().starts_with("schannel-event") {
            total += schedstat_runtime(task.path().join("schedstat"))?;
        }
    }
    Some(total)
}

fn schedstat_runtime(path: impl AsRef<std::path::Path>) -> Option<Duration> {
    let text = std::fs::read_to_string(path).ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Pin the calling thread to CPU `n` (threads it starts later inherit it).
pub fn pin_current_thread(n: usize) -> Result<(), BoxError> {
    use rustix::thread::{sched_getaffinity, sched_setaffinity, CpuSet};
    let allowed = sched_getaffinity(None)
        .map_err(|e| format!("cannot read this process's CPU affinity: {e}"))?;
    if n >= CpuSet::MAX_CPU || !allowed.is_set(n) {
        let list: Vec<String> = (0..CpuSet::MAX_CPU)
            .filter(|&c| allowed.is_set(c))
            .map(|c| c.to_string())
            .collect();
        return Err(format!(
            "--cpu {n}: this process may run on CPUs {} only",
            list.join(",")
        )
        .into());
    }
    let mut set = CpuSet::new();
    set.set(n);
    sched_setaffinity(None, &set).map_err(|e| format!("cannot pin to CPU {n}: {e}"))?;
    Ok(())
}

/// The CPU the calling thread runs on now.
pub fn current_cpu() -> usize {
    rustix::thread::sched_getcpu()
}

/// `/proc/loadavg`'s three averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// `/proc/cpuinfo`'s first model name.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
