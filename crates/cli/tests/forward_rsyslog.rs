//! `schannel events forward` against a real rsyslog (Debian's), started here on 127.0.0.1
//! with its own configuration: imtcp in (plain, or TLS with the gtls stream driver of
//! rsyslog-gnutls), omfile out with a template that keeps the STRUCTURED-DATA. rsyslog and
//! rsyslog-gnutls are required: without them these tests fail.

mod common;

use securechannel_events::{render_message, ActivityId, EventId, EventSink, Wording};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// A child process killed and reaped when dropped (a failing test leaves none behind).
struct Guard(Option<Child>);

impl Guard {
    fn pid(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }
    /// SIGTERM, then wait (rsyslog writes out its queue on SIGTERM).
    fn terminate(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    /// SIGKILL, as a crash.
    fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How rsyslog listens: plain TCP, or TLS (RFC 5425) with gtls.
#[derive(Clone)]
enum Listen {
    Tcp,
    Tls {
        ca: PathBuf,
        cert: PathBuf,
        key: PathBuf,
        /// `Some(name)`: clients must present a certificate for `name` (x509/name);
        /// `None`: no client certificate is asked for (anon).
        peer: Option<String>,
    },
}

impl Listen {
    /// The global() parameters and the imtcp module line.
    fn config(&self) -> (String, String) {
        match self {
            Listen::Tcp => (String::new(), r#"module(load="imtcp")"#.to_string()),
            Listen::Tls {
                ca,
                cert,
                key,
                peer,
            } => {
                assert!(
                    Path::new(GTLS).exists(),
                    "rsyslog's gtls stream driver is required by the TLS forwarding tests: apt-get install -y rsyslog-gnutls (.ci/run installs it)"
                );
                let auth = match peer {
                    None => r#"StreamDriver.AuthMode="anon""#.to_string(),
                    Some(p) => {
                        format!(r#"StreamDriver.AuthMode="x509/name" PermittedPeer=["{p}"]"#)
                    }
                };
                (
                    format!(
                        r#" DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="{}" DefaultNetstreamDriverCertFile="{}" DefaultNetstreamDriverKeyFile="{}""#,
                        ca.display(),
                        cert.display(),
                        key.display()
                    ),
                    format!(
                        r#"module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" {auth})"#
                    ),
                )
            }
        }
    }
}

/// rsyslog's GnuTLS stream driver (Debian's rsyslog-gnutls).
const GTLS: &str = "/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so";

/// An rsyslog listening on 127.0.0.1:`port`, appending what it receives to `out`.
struct Rsyslog {
    dir: PathBuf,
    port: u16,
    listen: Listen,
    out: PathBuf,
    proc: Guard,
}

impl Rsyslog {
    fn start(dir: &Path, port: u16) -> Rsyslog {
        Rsyslog::start_with(dir, port, Listen::Tcp)
    }

    fn start_with(dir: &Path, port: u16, listen: Listen) -> Rsyslog {
        assert!(
            Path::new(RSYSLOGD).exists(),
            "rsyslogd is required by the forwarding tests: apt-get install -y rsyslog (.ci/run installs it)"
        );
        let (global, module) = listen.config();
        let work = dir.join("rsyslog-work");
        std::fs::create_dir_all(&work).expect("work dir");
        let out = dir.join("received.log");
        let conf = dir.join("rsyslog.conf");
        std::fs::write(
            &conf,
            format!(
                r#"global(workDirectory="{work}" maxMessageSize="64k"{global})
{module}
template(name="schannel" type="string" string="%pri% %hostname% %app-name% %procid% %msgid% %structured-data% %msg%\n")
ruleset(name="fromschannel") {{
  action(type="omfile" file="{out}" template="schannel")
}}
input(type="imtcp" address="127.0.0.1" port="{port}" ruleset="fromschannel")
"#,
                work = work.display(),
                out = out.display(),
            ),
        )
        .expect("write rsyslog.conf");
        let child = Command::new(RSYSLOGD)
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join("rsyslog.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start rsyslogd");
        let r = Rsyslog {
            dir: dir.to_path_buf(),
            port,
            listen,
            out,
            proc: Guard(Some(child)),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rsyslogd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        r
    }

    fn restart(&mut self) {
        self.proc.terminate();
        *self = Rsyslog::start_with(&self.dir.clone(), self.port, self.listen.clone());
    }

    /// The lines received so far.
    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.out)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Wait until every record ID up to `last` has arrived; the count of each.
    fn wait_for(&self, last: u64, within: Duration) -> BTreeMap<u64, usize> {
        let deadline = Instant::now() + within;
        loop {
            let ids = record_ids(&self.lines());
            if (1..=last).all(|i| ids.contains_key(&i)) {
                return ids;
            }
            assert!(
                Instant::now() < deadline,
                "rsyslog received {} of {last} records",
                ids.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn record_ids(lines: &[String]) -> BTreeMap<u64, usize> {
    let mut ids = BTreeMap::new();
    for l in lines {
        if let Some(rest) = l.split("RecordID=\"").nth(1) {
            if let Some(n) = rest.split('"').next().and_then(|n| n.parse().ok()) {
                *ids.entry(n).or_insert(0) += 1;
            }
        }
    }
    ids
}

fn schannel(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_schannel"));
    c.arg("--data-dir").arg(data).stdin(Stdio::null());
    c
}

/// `schannel events forward --syslog TARGET EXTRA...`, run to its end.
fn forward(data: &Path, target: &str, extra: &[&str]) -> std::process::Output {
    schannel(data)
        .args(["events", "forward", "--syslog", target])
        .args(extra)
        .output()
        .expect("run forward")
}

fn state(data: &Path, port: u16) -> String {
    std::fs::read_to_string(data.join(format!("forward-syslog-127.0.0.1-{port}.state")))
        .unwrap_or_default()
}

#[test]
fn forward_ships_rfc5424_with_structured_data_to_rsyslog() {
    let (dir, data) = common::temp_data_dir();
    let port = common::free_port(common::LOCALHOST_V4);
    let rsyslog = Rsyslog::start(dir.path(), port);

    let log = common::open_log(&data);
    let mut alert = common::record(EventId::FatalAlertReceived, &["48"]);
    let activity = "{0AF3C2D1-9B7E-4C55-A1D2-3E4F5A6B7C8D}";
    alert.activity_id = Some(ActivityId::parse(activity).expect("guid"));
    log.emit(alert.clone());
    log.emit(common::record(
        EventId::FatalAlertGenerated,
        &["48", "1210", "a\"b]c\\d"],
    ));
    // Enough records for a throughput figure.
    const BULK: usize = 20_000;
    common::write_alerts(&log, BULK, 0);
    let last = log.last_record_id().expect("last");
    assert_eq!(last, BULK as u64 + 2);
    drop(log);

    let started = Instant::now();
    let out = forward(&data, &format!("tcp://127.0.0.1:{port}"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("forwarded {last} records")),
        "{stderr}"
    );
    // Piped, stderr is one summary line: no progress bar (that is for a terminal).
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        !stderr.contains('\r') && !stderr.contains('\u{1b}'),
        "{stderr:?}"
    );
    let ids = rsyslog.wait_for(last, Duration::from_secs(60));
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "forwarding throughput to rsyslog: {last} records in {secs:.2} s = {:.0} records/s (received and written by rsyslog); forwarder said: {}",
        last as f64 / secs,
        stderr.trim()
    );
    assert!(
        ids.values().all(|&n| n == 1),
        "duplicates without an interruption"
    );
    assert_eq!(state(&data, port), format!("last_acked_record_id={last}\n"));

    let lines = rsyslog.lines();
    // PRI 35 = facility 4 (auth) * 8 + severity 3 (error); HOSTNAME, APP-NAME, PROCID,
    // MSGID = the event ID; the SD as sent; MSG the rendered message.
    let first = &lines[0];
    let sd = format!(
        "[schannel@32473 EventID=\"36887\" RecordID=\"1\" Level=\"2\" ActivityID=\"{activity}\" AlertDesc=\"48\"]"
    );
    let head = format!(
        "35 {} Schannel {} 36887 {sd} ",
        alert.computer, alert.process_id
    );
    assert!(first.starts_with(&head), "{first}\nwanted {head}");
    assert_eq!(
        &first[head.len()..],
        render_message(&alert, Wording::Modern)
    );
    let escaped = &lines[1];
    assert!(
        escaped.contains(r#"AlertDesc="48" ErrorState="1210" TargetName="a\"b\]c\\d"]"#),
        "{escaped}"
    );

    // Run again: nothing new, nothing sent again.
    let out = forward(&data, &format!("tcp://127.0.0.1:{port}"), &[]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("forwarded 0 records"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(rsyslog.lines().len(), lines.len());
}

#[test]
fn forward_resumes_after_an_outage_and_a_crash_without_loss() {
    let (dir, data) = common::temp_data_dir();
    let port = common::free_port(common::LOCALHOST_V4);
    let mut rsyslog = Rsyslog::start(dir.path(), port);
    let log = common::open_log(&data);
    common::write_alerts(&log, 2000, 0);
    let target = format!("tcp://127.0.0.1:{port}");
    const BATCH: usize = 200;

    let mut fwd = Guard(Some(
        schannel(&data)
            .args([
                "events",
                "forward",
                "--follow",
                "--batch",
                &BATCH.to_string(),
                "--syslog",
                &target,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start forward --follow"),
    ));
    assert!(fwd.pid() > 0);
    rsyslog.wait_for(2000, Duration::from_secs(30));

    // Records committed while forwarding follows arrive too.
    common::write_alerts(&log, 500, 2000);
    rsyslog.wait_for(2500, Duration::from_secs(30));

    // The collector goes away; records keep coming; it comes back.
    rsyslog.proc.terminate();
    common::write_alerts(&log, 1000, 2500);
    std::thread::sleep(Duration::from_millis(1500));
    rsyslog.restart();
    rsyslog.wait_for(3500, Duration::from_secs(60));

    // The forwarder crashes; records keep coming; a new run resumes from its state.
    fwd.kill();
    common::write_alerts(&log, 500, 3500);
    let out = forward(&data, &target, &["--batch", &BATCH.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids = rsyslog.wait_for(4000, Duration::from_secs(30));

    // No loss (every record arrived), bounded duplicates (at most one batch per
    // interruption: the outage and the crash).
    common::assert_no_loss_bounded_duplicates(&ids, 4000, 2 * BATCH, "syslog");
    assert_eq!(state(&data, port), "last_acked_record_id=4000\n");
}

/// No collector: a few attempts, then exit 2 saying where it stands; nothing is marked
/// sent. A target it cannot deliver to at least once is refused with the reason.
#[test]
fn forward_without_a_collector_fails_and_keeps_its_place() {
    let (_dir, data) = common::temp_data_dir();
    let log = common::open_log(&data);
    common::write_alerts(&log, 10, 0);
    drop(log);
    let port = common::free_port(common::LOCALHOST_V4);
    let started = Instant::now();
    let out = forward(&data, &format!("tcp://127.0.0.1:{port}"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("did not take the records after record 0"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(state(&data, port), "", "no state: nothing was acknowledged");

    for (target, why) in [
        ("tls://127.0.0.1:6514", "needs the CA"),
        ("udp://127.0.0.1:514", "at least once"),
    ] {
        let out = forward(&data, target, &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
    }
}

/// `--format ecs`: MSG is the record in winlogbeat's shape, so the collector can hand it
/// to a SIEM whose Windows rules match it (here: the rule's fields, read back from what
/// rsyslog wrote).
#[test]
fn forward_ecs_body_reaches_rsyslog_as_json() {
    let (dir, data) = common::temp_data_dir();
    let port = common::free_port(common::LOCALHOST_V4);
    let rsyslog = Rsyslog::start(dir.path(), port);
    let log = common::open_log(&data);
    log.emit(common::record(EventId::FatalAlertReceived, &["48"]));
    log.sync().expect("sync");
    drop(log);
    let out = forward(
        &data,
        &format!("tcp://127.0.0.1:{port}"),
        &["--format", "ecs"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    rsyslog.wait_for(1, Duration::from_secs(30));
    let line = rsyslog.lines().remove(0);
    let json = line.split_once("] ").expect("MSG after the SD").1;
    let doc: serde_json::Value =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(doc["winlog"]["event_id"], "36887");
    assert_eq!(doc["winlog"]["provider_name"], "Schannel");
    assert_eq!(doc["winlog"]["event_data"]["AlertDesc"], "48");
    assert_eq!(doc["winlog"]["record_id"], "1");
}

/// A collector's PKI, written under `dir`: a CA, rsyslog's certificate for
/// `collector.test` and 127.0.0.1 (not `localhost`), a client certificate for
/// `forwarder.example.net`, and a second CA that issued none of them.
struct CollectorPki {
    ca: PathBuf,
    other_ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

impl CollectorPki {
    fn write(dir: &Path) -> CollectorPki {
        use securechannel_testpki::Ca;
        std::fs::create_dir_all(dir).expect("pki dir");
        let ca = Ca::root("Collector Test CA");
        let other = Ca::root("Some Other CA");
        let pki = CollectorPki {
            ca: ca.write_pem(&dir.join("ca.pem")),
            other_ca: other.write_pem(&dir.join("other-ca.pem")),
            server_cert: dir.join("collector.pem"),
            server_key: dir.join("collector.key"),
            client_cert: dir.join("forwarder.pem"),
            client_key: dir.join("forwarder.key"),
        };
        ca.server_leaf(&["collector.test", "127.0.0.1"])
            .write_pem(&pki.server_cert, &pki.server_key);
        ca.client_leaf(&["forwarder.example.net"])
            .write_pem(&pki.client_cert, &pki.client_key);
        pki
    }

    fn listen(&self, peer: Option<&str>) -> Listen {
        Listen::Tls {
            ca: self.ca.clone(),
            cert: self.server_cert.clone(),
            key: self.server_key.clone(),
            peer: peer.map(str::to_string),
        }
    }
}

fn tls_state(data: &Path, port: u16) -> String {
    std::fs::read_to_string(data.join(format!("forward-syslog-tls-127.0.0.1-{port}.state")))
        .unwrap_or_default()
}

/// RFC 5425 to rsyslog's gtls driver: every record arrives once, with its
/// STRUCTURED-DATA, the collector's certificate verified against --tls-ca.
#[test]
fn forward_tls_ships_to_rsyslog_gtls() {
    let (dir, data) = common::temp_data_dir();
    let pki = CollectorPki::write(&dir.path().join("pki"));
    let port = common::free_port(common::LOCALHOST_V4);
    let rsyslog = Rsyslog::start_with(dir.path(), port, pki.listen(None));
    let log = common::open_log(&data);
    log.emit(common::record(EventId::FatalAlertReceived, &["48"]));
    const BULK: usize = 20_000;
    common::write_alerts(&log, BULK, 0);
    let last = log.last_record_id().expect("last");
    drop(log);

    let ca = pki.ca.to_str().expect("utf-8 path");
    let started = Instant::now();
    let out = forward(&data, &format!("tls://127.0.0.1:{port}"), &["--tls-ca", ca]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let ids = rsyslog.wait_for(last, Duration::from_secs(60));
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "forwarding throughput to rsyslog over TLS: {last} records in {secs:.2} s = {:.0} records/s (received and written by rsyslog); forwarder said: {}",
        last as f64 / secs,
        stderr.trim()
    );
    assert!(
        ids.values().all(|&n| n == 1),
        "duplicates without an interruption"
    );
    assert_eq!(
        tls_state(&data, port),
        format!("last_acked_record_id={last}\n")
    );
    let first = &rsyslog.lines()[0];
    assert!(
        first.contains(r#"[schannel@32473 EventID="36887" RecordID="1" Level="2" AlertDesc="48"]"#),
        "{first}"
    );
}

/// A wrong CA or a name the certificate does not hold: forward fails saying so, marks
/// nothing sent, and the next run with the right CA ships everything, once.
#[test]
fn forward_tls_refuses_an_unverified_collector_then_resumes_without_loss() {
    let (dir, data) = common::temp_data_dir();
    let pki = CollectorPki::write(&dir.path().join("pki"));
    let port = common::free_port(common::LOCALHOST_V4);
    let rsyslog = Rsyslog::start_with(dir.path(), port, pki.listen(None));
    let log = common::open_log(&data);
    common::write_alerts(&log, 300, 0);
    let target = format!("tls://127.0.0.1:{port}");

    let other = pki.other_ca.to_str().expect("utf-8 path");
    let out = forward(&data, &target, &["--tls-ca", other]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("did not take the records after record 0")
            && stderr.contains("TLS handshake failed")
            && stderr.contains("does not chain to the CA file given (--tls-ca)"),
        "{stderr}"
    );
    assert_eq!(tls_state(&data, port), "", "nothing acknowledged");

    // The right CA, but a name the certificate does not hold (it is for collector.test
    // and 127.0.0.1).
    let ca = pki.ca.to_str().expect("utf-8 path");
    let out = forward(&data, &format!("tls://localhost:{port}"), &["--tls-ca", ca]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not for the target's host"), "{stderr}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(rsyslog.lines().is_empty(), "nothing reached the collector");

    // Fixed: more records meanwhile; all arrive, none twice.
    common::write_alerts(&log, 200, 300);
    let out = forward(&data, &target, &["--tls-ca", ca]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids = rsyslog.wait_for(500, Duration::from_secs(30));
    assert_eq!(ids.len(), 500);
    assert!(ids.values().all(|&n| n == 1), "{ids:?}");
    assert_eq!(tls_state(&data, port), "last_acked_record_id=500\n");

    // A files/scheme mismatch is refused, not ignored.
    let out = forward(&data, &format!("tcp://127.0.0.1:{port}"), &["--tls-ca", ca]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("plain TCP; use tls://"));
}

/// Mutual TLS: a collector that requires a client certificate for forwarder.example.net
/// refuses a forwarder without one (nothing marked sent) and takes the records from one
/// with --tls-cert / --tls-key.
#[test]
fn forward_tls_presents_a_client_certificate() {
    let (dir, data) = common::temp_data_dir();
    let pki = CollectorPki::write(&dir.path().join("pki"));
    let port = common::free_port(common::LOCALHOST_V4);
    let rsyslog = Rsyslog::start_with(dir.path(), port, pki.listen(Some("forwarder.example.net")));
    let log = common::open_log(&data);
    common::write_alerts(&log, 50, 0);
    drop(log);
    let target = format!("tls://127.0.0.1:{port}");
    let ca = pki.ca.to_str().expect("utf-8 path");

    let out = forward(&data, &target, &["--tls-ca", ca]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("asked for a client certificate, this forwarder has none")
            && stderr.contains("it requires a client certificate (--tls-cert and --tls-key)"),
        "{stderr}"
    );
    assert_eq!(tls_state(&data, port), "", "nothing acknowledged: {stderr}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(rsyslog.lines().is_empty(), "nothing reached the collector");

    let out = forward(
        &data,
        &target,
        &[
            "--tls-ca",
            ca,
            "--tls-cert",
            pki.client_cert.to_str().expect("utf-8"),
            "--tls-key",
            pki.client_key.to_str().expect("utf-8"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids = rsyslog.wait_for(50, Duration::from_secs(30));
    assert!(ids.values().all(|&n| n == 1), "{ids:?}");
    assert_eq!(tls_state(&data, port), "last_acked_record_id=50\n");
}

/// `[Forward]` in settings.toml: `schannel serve` forwards the records it commits, here
/// over TLS to rsyslog; a real handshake's 36880 arrives there, with serve's state file.
#[test]
fn serve_forwards_what_it_commits_per_the_forward_section() {
    common::require_tool("curl");
    let (dir, data) = common::temp_data_dir();
    let pki = CollectorPki::write(&dir.path().join("pki"));
    let port = common::free_port(common::LOCALHOST_V4);
    let rsyslog = Rsyslog::start_with(dir.path(), port, pki.listen(None));
    std::fs::write(
        data.join("settings.toml"),
        format!(
            "EventLogging = 7\n[Forward]\nSyslog = \"tls://127.0.0.1:{port}\"\nTlsCa = \"{}\"\nBatch = 50\n",
            pki.ca.display()
        ),
    )
    .expect("settings");
    let serve = common::Serve::start(&data, &[]);
    let mut curl = Command::new("curl");
    curl.args(["-sS", "--max-time", "10", "--cacert"])
        .arg(serve.dev_ca())
        .arg(serve.url());
    let r = common::run("curl", curl, None);
    assert!(r.status.success(), "{}", r.both());

    let deadline = Instant::now() + Duration::from_secs(30);
    let line = loop {
        if let Some(l) = rsyslog
            .lines()
            .into_iter()
            .find(|l| l.contains(r#"EventID="36880""#))
        {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "no 36880 reached rsyslog; it has {:?}; serve said:\n{}",
            rsyslog.lines(),
            serve.proc.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(line.contains("handshake"), "{line}");
    let err = serve.stop();
    assert!(
        err.contains(&format!(
            "forwarding the records it commits to tls://127.0.0.1:{port}"
        )),
        "{err}"
    );
    assert!(tls_state(&data, port).starts_with("last_acked_record_id="));
}

/// An unusable `[Forward]` refuses serve's start, naming the setting and why: nothing is
/// accepted and then ignored.
#[test]
fn serve_refuses_an_unusable_forward_section() {
    let (_dir, data) = common::temp_data_dir();
    for (section, why) in [
        ("Syslog = \"udp://127.0.0.1:514\"", "at least once"),
        (
            "Syslog = \"tcp://127.0.0.1:514,tcp://127.0.0.1:515\"",
            "holds 2 values",
        ),
        ("Syslog = \"tls://127.0.0.1:6514\"", "needs the CA"),
        (
            "Syslog = \"tls://127.0.0.1:6514\"\nTlsCa = \"missing.pem\"",
            "cannot read the CA file",
        ),
        (
            "Syslog = \"tcp://127.0.0.1:514\"\nTlsCa = \"ca.pem\"",
            "plain TCP",
        ),
        (
            "Otlp = \"http://127.0.0.1:4318/v1/logs\"\nFormat = \"ecs\"",
            "ECS body is for syslog",
        ),
        ("Otlp = \"https://127.0.0.1:4318/v1/logs\"", "needs the CA"),
        (
            "Syslog = \"tcp://127.0.0.1:514\"\nOtlp = \"http://127.0.0.1:4318/v1/logs\"",
            "both set",
        ),
        ("Batch = 10", "nothing to forward to"),
        ("Batch = 0", "Batch"),
        ("Sislog = \"tcp://127.0.0.1:514\"", "Sislog"),
    ] {
        std::fs::write(
            data.join("settings.toml"),
            format!("[Forward]\n{section}\n"),
        )
        .expect("settings");
        let r = common::schannel(&data, &["serve", "--listen", "127.0.0.1:0"]);
        assert!(!r.status.success(), "{section}: {}", r.both());
        assert!(r.stderr.contains(why), "{section}: {}", r.both());
        assert!(
            !r.stderr.contains("serving https://"),
            "{section}: {}",
            r.both()
        );
    }
}
