//! Forwarding the log to a syslog collector: RFC 5424 messages ([`render_syslog`]) over
//! TCP with octet-counting framing (RFC 6587 section 3.4.1, the framing RFC 5425 uses).
//!
//! **At least once.** Records go in batches. A batch is acknowledged when the collector
//! has read all of it: after the last frame this side closes its half of the connection
//! and waits for the collector to close its own, which it does only once it has read up
//! to that close (syslog over TCP has no application-level ack; the end of the stream is
//! the one the protocol gives). Only then is the batch's last record ID written to the
//! state file (atomically: a temporary file, fsync, rename, fsync of the directory). A
//! restart, an outage or a failed batch resends from the last acknowledged record, so
//! nothing is lost and at most one batch per interruption arrives twice. What the
//! collector does after reading (its own queue, its disk) is its durability, not ours.

use securechannel_eventlog::{EventLogError, LogReader, Query, FOLLOW_POLL};
use securechannel_events::{render_syslog, EventRecord, SyslogBody};
use std::io::{self, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// At most this many records in one batch (one connection) unless told otherwise.
pub const DEFAULT_BATCH: usize = 5000;

/// Where records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogTarget {
    host: String,
    port: u16,
}

impl SyslogTarget {
    /// `tcp://HOST:PORT`. `tls://` (RFC 5425) and `udp://` are refused with the reason.
    pub fn parse(s: &str) -> Result<SyslogTarget, ForwardError> {
        let bad = |why: &str| ForwardError::Target(format!("'{s}': {why}"));
        let rest = if let Some(r) = s.strip_prefix("tcp://") {
            r
        } else if s.starts_with("tls://") {
            return Err(bad(
                "syslog over TLS (RFC 5425) is not implemented yet; use tcp:// to a collector on this machine or a TLS-terminating relay",
            ));
        } else if s.starts_with("udp://") {
            return Err(bad(
                "UDP syslog cannot be delivered at least once (no connection, no end of stream to acknowledge); use tcp://",
            ));
        } else {
            return Err(bad("expected tcp://HOST:PORT"));
        };
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| bad("expected tcp://HOST:PORT (the port is required)"))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(SyslogTarget {
            host: host.to_string(),
            port,
        })
    }

    /// The name of this target's state file in the data directory.
    pub fn state_file_name(&self) -> String {
        let host: String = self
            .host
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("forward-syslog-{host}-{}.state", self.port)
    }

    fn addrs(&self) -> io::Result<Vec<SocketAddr>> {
        Ok((self.host.as_str(), self.port).to_socket_addrs()?.collect())
    }
}

impl std::fmt::Display for SyslogTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "tcp://[{}]:{}", self.host, self.port)
        } else {
            write!(f, "tcp://{}:{}", self.host, self.port)
        }
    }
}

/// Why forwarding stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum ForwardError {
    /// The target is not one this forwarder can deliver to.
    Target(String),
    /// The state file cannot be read, is not ours, or cannot be written.
    State {
        /// The file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The log cannot be read.
    Log(EventLogError),
    /// The collector stayed unreachable for every attempt (without `--follow`).
    Unreachable {
        /// The target.
        target: String,
        /// The last error.
        source: io::Error,
        /// The last record the collector acknowledged.
        acked: u64,
    },
}

impl std::fmt::Display for ForwardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForwardError::Target(why) => write!(f, "cannot forward to {why}"),
            ForwardError::State { path, why } => {
                write!(f, "forwarding state {}: {why}", path.display())
            }
            ForwardError::Log(e) => write!(f, "the event log cannot be read: {e}"),
            ForwardError::Unreachable {
                target,
                source,
                acked,
            } => write!(
                f,
                "{target} did not take the records after record {acked}: {source}; run again to resume from there"
            ),
        }
    }
}

impl std::error::Error for ForwardError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ForwardError::Log(e) => Some(e),
            ForwardError::Unreachable { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<EventLogError> for ForwardError {
    fn from(e: EventLogError) -> Self {
        ForwardError::Log(e)
    }
}

/// How to forward.
#[derive(Debug, Clone)]
pub struct ForwardOptions {
    /// Records per batch (connection).
    pub batch: usize,
    /// Keep running and ship records as they are committed; retry an unreachable
    /// collector forever (with backoff up to `max_backoff`).
    pub follow: bool,
    /// Without `follow`: how many attempts at one batch before giving up.
    pub attempts: u32,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// Connecting, writing, and waiting for the collector's end of stream, each at most.
    pub io_timeout: Duration,
    /// What MSG carries: the rendered message, or the ECS JSON.
    pub body: SyslogBody,
}

impl Default for ForwardOptions {
    fn default() -> Self {
        ForwardOptions {
            batch: DEFAULT_BATCH,
            follow: false,
            attempts: 5,
            max_backoff: Duration::from_secs(30),
            io_timeout: Duration::from_secs(10),
            body: SyslogBody::Message,
        }
    }
}

/// What a forwarding run did, and where it stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// The last record ID the collector acknowledged (the state file's).
    pub acked: u64,
    /// Records shipped and acknowledged in this run.
    pub shipped: u64,
    /// Batches sent again after a failure in this run.
    pub retried: u64,
    /// The log's last record ID when this was measured.
    pub last_in_log: u64,
}

/// Ships one log to one syslog target.
pub struct Forwarder {
    reader: LogReader,
    target: SyslogTarget,
    state: PathBuf,
    options: ForwardOptions,
}

impl Forwarder {
    /// A forwarder of the log at `log` to `target`, keeping its state in `data_dir`.
    pub fn new(
        log: &Path,
        data_dir: &Path,
        target: SyslogTarget,
        options: ForwardOptions,
    ) -> Result<Forwarder, ForwardError> {
        let reader = LogReader::open(log)?;
        let state = data_dir.join(target.state_file_name());
        Ok(Forwarder {
            reader,
            target,
            state,
            options: ForwardOptions {
                batch: options.batch.clamp(1, 10_000),
                ..options
            },
        })
    }

    /// The state file.
    pub fn state_path(&self) -> &Path {
        &self.state
    }

    /// Ship every record after the last acknowledged one; with `follow`, keep shipping
    /// as records are committed (never returns but on an error). `progress` is called
    /// after each acknowledged batch.
    pub fn run(&self, mut progress: impl FnMut(&Progress)) -> Result<Progress, ForwardError> {
        let mut p = Progress {
            acked: read_state(&self.state)?,
            ..Progress::default()
        };
        p.last_in_log = self.reader.last_record_id()?;
        progress(&p);
        let mut follow = self.reader.follow(Query::new(), p.acked);
        loop {
            let mut batch = follow.poll()?;
            if batch.is_empty() {
                if !self.options.follow {
                    return Ok(p);
                }
                batch = follow.wait(Duration::from_secs(1))?;
                if batch.is_empty() {
                    continue;
                }
            }
            for chunk in batch.chunks(self.options.batch) {
                self.ship_until_acked(chunk, &mut p)?;
                p.last_in_log = self.reader.last_record_id()?.max(p.acked);
                progress(&p);
            }
            if self.options.follow {
                std::thread::sleep(FOLLOW_POLL.min(Duration::from_millis(20)));
            }
        }
    }

    fn ship_until_acked(
        &self,
        chunk: &[EventRecord],
        p: &mut Progress,
    ) -> Result<(), ForwardError> {
        let Some(last) = chunk.last().map(|r| r.record_id) else {
            return Ok(());
        };
        let mut backoff = Duration::from_millis(250);
        let mut attempt = 0u32;
        let mut failing_since: Option<Instant> = None;
        loop {
            attempt += 1;
            match self.ship(chunk) {
                Ok(()) => {
                    if let Some(t) = failing_since {
                        eprintln!(
                            "schannel: forward: {} takes records again (after {:.1} s)",
                            self.target,
                            t.elapsed().as_secs_f64()
                        );
                    }
                    write_state(&self.state, last)?;
                    p.acked = last;
                    p.shipped += chunk.len() as u64;
                    p.retried += u64::from(attempt > 1);
                    return Ok(());
                }
                Err(e) => {
                    if !self.options.follow && attempt >= self.options.attempts.max(1) {
                        return Err(ForwardError::Unreachable {
                            target: self.target.to_string(),
                            source: e,
                            acked: p.acked,
                        });
                    }
                    if failing_since.is_none() {
                        eprintln!(
                            "schannel: forward: {} did not take records {}..{}: {e}; retrying (nothing after record {} is marked sent)",
                            self.target,
                            chunk[0].record_id,
                            last,
                            p.acked
                        );
                        failing_since = Some(Instant::now());
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(self.options.max_backoff);
                }
            }
        }
    }

    /// One connection: every record as a frame, our end of stream, the collector's.
    fn ship(&self, chunk: &[EventRecord]) -> io::Result<()> {
        let t = self.options.io_timeout;
        let addrs = self.target.addrs()?;
        let mut last_err = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, t) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last_err = e,
            }
        }
        let stream = stream.ok_or(last_err)?;
        stream.set_write_timeout(Some(t))?;
        stream.set_read_timeout(Some(t))?;
        stream.set_nodelay(false)?;
        let mut w = BufWriter::with_capacity(256 * 1024, &stream);
        for r in chunk {
            write_frame(&mut w, &render_syslog(r, self.options.body))?;
        }
        w.flush()?;
        drop(w);
        stream.shutdown(Shutdown::Write)?;
        // The collector closes its side once it has read to our end of stream.
        let mut buf = [0u8; 512];
        let mut s = &stream;
        loop {
            match s.read(&mut buf) {
                Ok(0) => return Ok(()),
                // A collector may answer (RELP-like relays do); only the close counts.
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("the collector did not close the connection within {t:?} of our end of stream, so the batch is not known to be read"),
                    ))
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// One octet-counted frame: `MSG-LEN SP SYSLOG-MSG` (RFC 6587 section 3.4.1).
pub fn write_frame(w: &mut impl Write, message: &str) -> io::Result<()> {
    write!(w, "{} ", message.len())?;
    w.write_all(message.as_bytes())
}

const STATE_KEY: &str = "last_acked_record_id=";

/// The last acknowledged record ID in a state file (0 when there is none yet). A file
/// that does not say one is an error, not a restart from 0: that would send the whole
/// log again.
pub fn read_state(path: &Path) -> Result<u64, ForwardError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(ForwardError::State {
                path: path.to_path_buf(),
                why: e.to_string(),
            })
        }
    };
    text.lines()
        .find_map(|l| l.strip_prefix(STATE_KEY))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ForwardError::State {
            path: path.to_path_buf(),
            why: format!("it does not say `{STATE_KEY}N`; remove it to send the whole log again"),
        })
}

/// Write the state atomically: a temporary file beside it, fsync, rename, fsync the
/// directory. A crash leaves the old state or the new one, never a torn file.
pub fn write_state(path: &Path, acked: u64) -> Result<(), ForwardError> {
    let err = |e: io::Error| ForwardError::State {
        path: path.to_path_buf(),
        why: e.to_string(),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("state.tmp");
    {
        let mut f = std::fs::File::create(&tmp).map_err(err)?;
        writeln!(f, "{STATE_KEY}{acked}").map_err(err)?;
        f.sync_all().map_err(err)?;
    }
    std::fs::rename(&tmp, path).map_err(err)?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = SyslogTarget::parse("tcp://127.0.0.1:6514").expect("tcp");
        assert_eq!(t.to_string(), "tcp://127.0.0.1:6514");
        assert_eq!(t.state_file_name(), "forward-syslog-127.0.0.1-6514.state");
        let t = SyslogTarget::parse("tcp://[::1]:514").expect("v6");
        assert_eq!(t.to_string(), "tcp://[::1]:514");
        for (s, why) in [
            ("tls://h:6514", "not implemented yet"),
            ("udp://h:514", "at least once"),
            ("h:514", "expected tcp://"),
            ("tcp://h", "port is required"),
            ("tcp://h:0", "1 to 65535"),
            ("tcp://:514", "no host"),
        ] {
            let e = SyslogTarget::parse(s).expect_err("refused").to_string();
            assert!(e.contains(why), "{s}: {e}");
        }
    }

    #[test]
    fn frames_count_octets_not_characters() {
        let mut out = Vec::new();
        write_frame(&mut out, "é]").expect("write");
        assert_eq!(out, "3 é]".as_bytes());
    }

    #[test]
    fn state_round_trips_and_refuses_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("s.state");
        assert_eq!(read_state(&p).expect("absent"), 0);
        write_state(&p, 1234).expect("write");
        assert_eq!(read_state(&p).expect("read"), 1234);
        assert!(!p.with_extension("state.tmp").exists());
        std::fs::write(&p, "garbage").expect("write");
        let e = read_state(&p).expect_err("refused").to_string();
        assert!(e.contains("remove it"), "{e}");
    }
}
