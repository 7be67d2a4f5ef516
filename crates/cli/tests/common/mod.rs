//! What the interop tests share: bounded child processes (killed on drop, waited with a
//! deadline), `schannel serve` on a free loopback port, real `openssl` / `curl` runs, test
//! PKI files (securechannel-testpki's), and the event log read back with
//! securechannel-eventlog's reader.
//!
//! Every wait has a deadline and every child is killed when its guard drops, so a test
//! fails instead of hanging, even when it panics half-way.
#![allow(dead_code)] // each test binary uses a different part of this module

use rcgen::ExtendedKeyUsagePurpose;
use securechannel_eventlog::{LogReader, Query};
use securechannel_events::EventRecord;
use securechannel_testpki::{leaf_params, Ca};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any single external command may run.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);
/// How long `schannel serve` may take to print that it is serving.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Panic with an install hint when a tool the interop tests drive is missing: these
/// tests must fail, not pass silently, on a machine without it (CI installs both).
pub fn require_tool(tool: &str) {
    let arg = if tool == "openssl" {
        "version"
    } else {
        "--version"
    };
    let ok = Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "`{tool}` is required by the interop tests and was not found or does not run; \
         install it (Debian/Ubuntu: sudo apt-get install {tool})"
    );
}

/// A child process with captured output, killed (and reaped) when dropped.
pub struct Proc {
    name: String,
    child: Option<Child>,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    status: Option<ExitStatus>,
}

fn drain(mut r: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend_from_slice(&buf[..n]),
            }
        }
    });
}

impl Proc {
    /// Spawn `cmd` with stdout/stderr captured; `stdin` is written then closed (None:
    /// stdin is /dev/null).
    pub fn spawn(name: &str, mut cmd: Command, stdin: Option<Vec<u8>>) -> Proc {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        if let Some(out) = child.stdout.take() {
            drain(out, stdout.clone());
        }
        if let Some(err) = child.stderr.take() {
            drain(err, stderr.clone());
        }
        if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), stdin) {
            std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
                // Dropping the pipe closes the child's stdin.
            });
        }
        Proc {
            name: name.to_string(),
            child: Some(child),
            stdout,
            stderr,
            status: None,
        }
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Everything the child wrote on stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Everything the child wrote on stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Whether the child has exited (and reap it).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(s)) = c.try_wait() {
                    self.status = Some(s);
                }
            }
        }
        self.status
    }

    /// Poll until `ready(stdout, stderr)` holds; false when the child exits first or the
    /// deadline passes.
    pub fn wait_for(&mut self, timeout: Duration, ready: impl Fn(&str, &str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if ready(&self.stdout(), &self.stderr()) {
                return true;
            }
            if self.exited().is_some() || Instant::now() > deadline {
                // One last look: the output may have landed just before the exit.
                return ready(&self.stdout(), &self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait for the exit; on timeout kill the child and panic with what it printed.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exited() {
                // Give the reader threads a moment to collect the last bytes.
                std::thread::sleep(Duration::from_millis(30));
                return s;
            }
            if Instant::now() > deadline {
                self.kill();
                panic!(
                    "{} did not exit within {timeout:?}\n--- stdout:\n{}\n--- stderr:\n{}",
                    self.name,
                    self.stdout(),
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Send SIGTERM (with the `kill` command: no unsafe code here) and wait for the exit.
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        if self.exited().is_none() {
            let ok = Command::new("kill")
                .arg("-TERM")
                .arg(self.pid().to_string())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(ok, "kill -TERM {} failed", self.pid());
        }
        self.wait_exit(timeout)
    }

    /// Kill the child (SIGKILL) and reap it.
    pub fn kill(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if self.status.is_none() {
                let _ = c.kill();
                self.status = c.wait().ok();
            }
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The result of one bounded command run.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr, for assertion messages.
    pub fn both(&self) -> String {
        format!(
            "status {:?}\n--- stdout:\n{}\n--- stderr:\n{}",
            self.status.code(),
            self.stdout,
            self.stderr
        )
    }
}

/// Run a command to its end, within [`COMMAND_TIMEOUT`].
pub fn run(name: &str, cmd: Command, stdin: Option<Vec<u8>>) -> Run {
    let mut p = Proc::spawn(name, cmd, stdin);
    let status = p.wait_exit(COMMAND_TIMEOUT);
    Run {
        status,
        stdout: p.stdout(),
        stderr: p.stderr(),
    }
}

/// `schannel --data-dir DATA ARGS...` as a command.
pub fn schannel_cmd(data: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_schannel"));
    c.arg("--data-dir").arg(data).args(args);
    c.env_remove("SCHANNEL_DATA");
    c
}

/// Run `schannel` to its end.
pub fn schannel(data: &Path, args: &[&str]) -> Run {
    run("schannel", schannel_cmd(data, args), None)
}

/// A failed command's stderr: it starts with `schannel: ` and no line carries the prefix
/// twice (`schannel: schannel: ...`); hint lines follow unprefixed.
pub fn assert_one_prefix(stderr: &str) {
    assert!(
        stderr.starts_with("schannel: "),
        "the error starts with `schannel: `:\n{stderr}"
    );
    for line in stderr.lines() {
        assert!(
            line.matches("schannel:").count() <= 1,
            "`schannel:` twice in one line:\n{stderr}"
        );
    }
}

/// `EventLogging = 7`: errors, warnings and informational events (36880 is one).
pub fn log_everything(data: &Path) {
    let r = schannel(data, &["config", "set", "EventLogging", "7"]);
    assert!(r.status.success(), "config set failed: {}", r.both());
}

/// A port nobody listens on right now (bind :0, read it, drop the listener). Another
/// process may take it before we do: callers retry on "cannot listen".
pub fn free_port(ip: IpAddr) -> u16 {
    let l = TcpListener::bind(SocketAddr::new(ip, 0)).expect("bind an ephemeral port");
    l.local_addr().expect("local address").port()
}

/// Whether this machine has a usable IPv6 loopback.
pub fn ipv6_loopback() -> Result<(), String> {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0))
        .map(drop)
        .map_err(|e| format!("cannot bind [::1]: {e}"))
}

pub const LOCALHOST_V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
pub const LOCALHOST_V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

/// A running `schannel serve`, killed when dropped; [`Serve::stop`] ends it properly.
pub struct Serve {
    pub proc: Proc,
    pub addr: SocketAddr,
    pub data: PathBuf,
}

impl Serve {
    /// `schannel serve` on 127.0.0.1 with a 5 s handshake timeout (unless `extra` sets
    /// one) and `extra` flags.
    pub fn start(data: &Path, extra: &[&str]) -> Serve {
        Serve::start_on(data, LOCALHOST_V4, extra)
    }

    /// `schannel serve` on `ip`, retrying with another port if the chosen one got taken.
    pub fn start_on(data: &Path, ip: IpAddr, extra: &[&str]) -> Serve {
        for _attempt in 0..5 {
            let addr = SocketAddr::new(ip, free_port(ip));
            let listen = addr.to_string();
            let mut args = vec!["serve", "--listen", &listen];
            if !extra.contains(&"--handshake-timeout") {
                // Short enough that no test waits long on a stuck peer, long enough that
                // a loaded CI machine completes every real handshake within it.
                args.extend(["--handshake-timeout", "5"]);
            }
            args.extend_from_slice(extra);
            let mut proc = Proc::spawn("schannel serve", schannel_cmd(data, &args), None);
            let ready = proc.wait_for(START_TIMEOUT, |_, err| {
                err.contains("schannel: serving https://") || err.contains("schannel: proxying")
            });
            if ready {
                return Serve {
                    proc,
                    addr,
                    data: data.to_path_buf(),
                };
            }
            let err = proc.stderr();
            if proc.exited().is_some() && err.contains("cannot listen") {
                continue;
            }
            proc.kill();
            panic!("schannel serve did not start:\n{err}");
        }
        panic!("schannel serve found no free port in 5 attempts");
    }

    /// `https://127.0.0.1:PORT/` (brackets for IPv6).
    pub fn url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    /// `127.0.0.1:PORT` for openssl's `-connect`.
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// The development CA clients must trust.
    pub fn dev_ca(&self) -> PathBuf {
        self.data.join("stores/Root/dev-ca.pem")
    }

    /// Whether serve is still running.
    pub fn alive(&mut self) -> bool {
        self.proc.exited().is_none()
    }

    /// SIGTERM; asserts exit status 0 and the closing line; returns stderr.
    pub fn stop(mut self) -> String {
        let status = self.proc.terminate(Duration::from_secs(15));
        let err = self.proc.stderr();
        assert!(
            status.success(),
            "serve exited with {status:?} after SIGTERM:\n{err}"
        );
        assert!(
            err.contains("schannel: stopped;"),
            "serve did not report its shutdown:\n{err}"
        );
        err
    }
}

/// Every record of the data directory's log, oldest first.
pub fn events(data: &Path) -> Vec<EventRecord> {
    let reader = LogReader::open(data.join("events.db")).expect("the event log exists");
    reader
        .query(&Query::new().oldest_first())
        .expect("the event log can be read")
}

/// The records with this event ID.
pub fn with_id(records: &[EventRecord], id: u16) -> Vec<&EventRecord> {
    records
        .iter()
        .filter(|r| r.event_id.value() == id)
        .collect()
}

/// The records of one activity (connection), by its `{GUID}` text.
pub fn of_activity<'a>(records: &'a [EventRecord], activity: &str) -> Vec<&'a EventRecord> {
    records
        .iter()
        .filter(|r| r.activity_id.is_some_and(|a| a.to_string() == activity))
        .collect()
}

/// A field's value, or a panic naming the record.
pub fn field<'a>(r: &'a EventRecord, name: &str) -> &'a str {
    r.field(name)
        .unwrap_or_else(|| panic!("event {} has no field {name}: {r:?}", r.event_id.value()))
}

/// A one-line summary per record, for assertion messages.
pub fn summary(records: &[EventRecord]) -> String {
    records
        .iter()
        .map(|r| {
            format!(
                "#{} {} {:?} {:?}\n",
                r.record_id,
                r.event_id.value(),
                r.activity_id,
                r.data
            )
        })
        .collect()
}

/// A test PKI (securechannel-testpki): a CA, and leaves it signs, written as PEM files.
pub struct Pki {
    pub dir: PathBuf,
    pub ca_pem: PathBuf,
    ca: Ca,
}

/// One certificate and its key on disk.
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A calendar date: (year, month, day).
pub type Ymd = (i32, u8, u8);

impl Leaf {
    /// `--cert FILE --key FILE`, for `schannel serve` and `connect`.
    pub fn args(&self) -> [&str; 4] {
        [
            "--cert",
            self.cert.to_str().expect("a UTF-8 path"),
            "--key",
            self.key.to_str().expect("a UTF-8 path"),
        ]
    }
}

/// A client credential of our own (in memory, logging nothing) that trusts the CA
/// certificates of the PEM file `ca`: the tests' well-behaved or hostile TLS client.
pub fn quiet_client_credential(ca: &Path) -> securechannel::ClientCredential {
    let provider = securechannel::Provider::in_memory(
        Default::default(),
        Arc::new(securechannel_events::NullSink),
    )
    .expect("an in-memory provider");
    let pem = std::fs::read(ca).expect("the CA file");
    let mut b = provider.client_credential();
    for c in securechannel::certificates_from_pem_or_der(&pem).expect("CA certificates") {
        b = b.add_root(c);
    }
    b.acquire().expect("a client credential")
}

/// What kind of leaf to issue.
pub struct LeafSpec<'a> {
    pub file_stem: &'a str,
    pub common_name: &'a str,
    pub names: &'a [&'a str],
    pub client: bool,
    /// (not_before, not_after) as (year, month, day); None: the test PKI's (2020 to 4096).
    pub validity: Option<(Ymd, Ymd)>,
}

impl Pki {
    /// A new CA named `name`, its certificate written to `dir/<stem>-ca.pem`.
    pub fn new(dir: &Path, name: &str) -> Pki {
        let ca = Ca::root(name);
        let stem: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let ca_pem = ca.write_pem(&dir.join(format!("{stem}-ca.pem")));
        Pki {
            dir: dir.to_path_buf(),
            ca_pem,
            ca,
        }
    }

    /// Issue a leaf (server or client authentication); PEM files `<stem>.pem` / `<stem>.key`
    /// (the key with mode 0600).
    pub fn leaf(&self, spec: LeafSpec<'_>) -> Leaf {
        let usage = if spec.client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        };
        let mut params = leaf_params(spec.common_name, spec.names, usage);
        if let Some(((y0, m0, d0), (y1, m1, d1))) = spec.validity {
            params.not_before = rcgen::date_time_ymd(y0, m0, d0);
            params.not_after = rcgen::date_time_ymd(y1, m1, d1);
        }
        let leaf = Leaf {
            cert: self.dir.join(format!("{}.pem", spec.file_stem)),
            key: self.dir.join(format!("{}.key", spec.file_stem)),
        };
        self.ca.issue(&params).write_pem(&leaf.cert, &leaf.key);
        leaf
    }

    /// A server leaf for 127.0.0.1 / localhost.
    pub fn server_leaf(&self, stem: &str) -> Leaf {
        self.leaf(LeafSpec {
            file_stem: stem,
            common_name: "localhost",
            names: &["localhost", "127.0.0.1"],
            client: false,
            validity: None,
        })
    }

    /// A server leaf for 127.0.0.1 / localhost with an RSA key (2048 bits, rcgen's size).
    pub fn rsa_server_leaf(&self, stem: &str) -> Leaf {
        let params = leaf_params(
            "localhost",
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let leaf = Leaf {
            cert: self.dir.join(format!("{stem}.pem")),
            key: self.dir.join(format!("{stem}.key")),
        };
        self.ca
            .issue_with_key(
                &params,
                securechannel_testpki::key_pair(&rcgen::PKCS_RSA_SHA256),
            )
            .write_pem(&leaf.cert, &leaf.key);
        leaf
    }

    /// A server leaf for 127.0.0.1 / localhost carrying `padding` bytes in a private,
    /// non-critical extension (a large Certificate message).
    pub fn padded_server_leaf(&self, stem: &str, padding: usize) -> Leaf {
        let mut params = leaf_params(
            "localhost",
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        params
            .custom_extensions
            .push(rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 99999, 7],
                vec![0x5a; padding],
            ));
        let leaf = Leaf {
            cert: self.dir.join(format!("{stem}.pem")),
            key: self.dir.join(format!("{stem}.key")),
        };
        self.ca.issue(&params).write_pem(&leaf.cert, &leaf.key);
        leaf
    }

    /// A client leaf.
    pub fn client_leaf(&self, stem: &str, common_name: &str) -> Leaf {
        self.leaf(LeafSpec {
            file_stem: stem,
            common_name,
            names: &[],
            client: true,
            validity: None,
        })
    }
}

/// `curl -sS --max-time 10 ARGS...` run to its end.
pub fn curl(args: &[&str]) -> Run {
    require_tool("curl");
    let mut c = Command::new("curl");
    c.args(["-sS", "--max-time", "10"]).args(args);
    run("curl", c, None)
}

/// `curl --cacert CA EXTRA... -H 'Accept: application/json' URL` succeeds: the page it got,
/// as JSON.
pub fn curl_page(ca: &Path, url: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--cacert", ca.to_str().expect("a UTF-8 path")];
    args.extend_from_slice(extra);
    args.extend(["-H", "Accept: application/json", url]);
    let r = curl(&args);
    assert!(r.status.success(), "{}", r.both());
    page_json(&r.stdout)
}

/// `openssl ARGS...` run to its end, with `stdin` written then closed.
pub fn openssl(args: &[&str], stdin: &[u8]) -> Run {
    require_tool("openssl");
    let mut c = Command::new("openssl");
    c.args(args);
    run("openssl", c, Some(stdin.to_vec()))
}

/// `openssl s_client -connect SERVE -CAfile <serve's dev CA> -verify_return_error ARGS...`
/// with `stdin` written then closed.
pub fn s_client_to(serve: &Serve, args: &[&str], stdin: &[u8]) -> Run {
    let addr = serve.host_port();
    let ca = serve.dev_ca();
    let mut all = vec![
        "s_client",
        "-connect",
        &addr,
        "-CAfile",
        ca.to_str().expect("a UTF-8 path"),
        "-verify_return_error",
    ];
    all.extend_from_slice(args);
    openssl(&all, stdin)
}

/// The `SSL alert number N` openssl printed (the alert it received), if any.
pub fn openssl_alert_number(text: &str) -> Option<u8> {
    let at = text.find("alert number ")?;
    let digits: String = text[at + "alert number ".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// The page JSON `schannel serve` answers with, parsed from curl's or openssl's output
/// (the first `{` to the last `}`).
pub fn page_json(text: &str) -> serde_json::Value {
    // openssl prints its own text (and `{`s) before the response: start at its body.
    let body_at = text
        .find("HTTP/1.1 ")
        .and_then(|h| text[h..].find("\r\n\r\n").map(|b| h + b))
        .unwrap_or(0);
    let Some(start) = text[body_at..].find('{').map(|s| body_at + s) else {
        panic!("no JSON object in:\n{text}");
    };
    // The first JSON value; openssl may print more (session tickets) after it.
    match serde_json::Deserializer::from_str(&text[start..])
        .into_iter::<serde_json::Value>()
        .next()
    {
        Some(Ok(v)) => v,
        other => panic!("bad JSON ({other:?}) in:\n{text}"),
    }
}

/// An HTTP/1.1 request asking the page as JSON.
pub const JSON_REQUEST: &[u8] =
    b"GET / HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\nConnection: close\r\n\r\n";

/// `openssl s_server` with a certificate, on a free port, until it prints ACCEPT.
pub struct SServer {
    pub proc: Proc,
    pub port: u16,
}

impl SServer {
    /// Start `openssl s_server -accept PORT -cert C -key K -www EXTRA...`.
    pub fn start(leaf: &Leaf, extra: &[&str]) -> SServer {
        require_tool("openssl");
        for _attempt in 0..5 {
            let port = free_port(LOCALHOST_V4);
            let mut c = Command::new("openssl");
            c.arg("s_server")
                .arg("-accept")
                .arg(format!("127.0.0.1:{port}"))
                .arg("-cert")
                .arg(&leaf.cert)
                .arg("-key")
                .arg(&leaf.key)
                // -www: answer over HTTP; without it s_server reads stdin (/dev/null here)
                // and closes every connection at its EOF, mid-handshake.
                .arg("-www")
                .args(extra);
            let mut proc = Proc::spawn("openssl s_server", c, None);
            if proc.wait_for(START_TIMEOUT, |out, _| out.contains("ACCEPT")) {
                return SServer { proc, port };
            }
            let err = proc.stderr();
            if proc.exited().is_some() && (err.contains("in use") || err.contains("bind")) {
                continue;
            }
            proc.kill();
            panic!("openssl s_server did not start:\n{}\n{err}", proc.stdout());
        }
        panic!("openssl s_server found no free port in 5 attempts");
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// What s_server printed (stdout and stderr), after letting it finish its output.
    pub fn output(&mut self) -> String {
        std::thread::sleep(Duration::from_millis(100));
        format!("{}\n{}", self.proc.stdout(), self.proc.stderr())
    }
}

/// `schannel events --format json ARGS...`: one JSON object per record, as an admin's
/// script would read them.
pub fn events_json(data: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["events", "--format", "json"];
    all.extend_from_slice(args);
    let r = schannel(data, &all);
    assert!(r.status.success(), "schannel events failed: {}", r.both());
    r.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}")))
        .collect()
}

/// Whether a PEM text's (first) certificate is this DER certificate.
pub fn pem_holds_der(pem: &str, der: &[u8]) -> bool {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .is_ok_and(|c| c.as_ref() == der)
}

/// The event log of `data`, opened for writing by a test: flood control off (every record
/// stored), 512 MiB.
pub fn open_log(data: &Path) -> securechannel_eventlog::EventLog {
    let options = securechannel_eventlog::LogOptions {
        flood: securechannel_eventlog::FloodControl::off(),
        max_size_bytes: 512 * 1024 * 1024,
        ..securechannel_eventlog::LogOptions::default()
    };
    securechannel_eventlog::EventLog::open(data.join("events.db"), options).expect("open log")
}

/// A temporary directory with an empty `data/` in it: (the directory, `data/`).
pub fn temp_data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    (dir, data)
}

/// At-least-once delivery after interruptions: every record 1..=`expected` arrived
/// (`ids`: record ID -> times received), and no more than `bound` extra copies.
pub fn assert_no_loss_bounded_duplicates(
    ids: &std::collections::BTreeMap<u64, usize>,
    expected: usize,
    bound: usize,
    what: &str,
) {
    assert_eq!(ids.len(), expected, "{what}: every record arrives");
    let duplicates: usize = ids.values().map(|n| n - 1).sum();
    eprintln!("{what}: {duplicates} duplicates after an outage and a crash (bound {bound})");
    assert!(duplicates <= bound, "{what}: {duplicates} duplicates");
}

/// A record of event `id` with these data fields (the rest empty), stamped now.
pub fn record(id: securechannel_events::EventId, data: &[&str]) -> EventRecord {
    use securechannel_events::{Emitter, EventLogging, NullSink};
    let emitter = Emitter::new(Arc::new(NullSink), EventLogging::ALL);
    let mut r = emitter.blank(id);
    r.data = data.iter().collect();
    r.data.resize(id.def().fields.len());
    r
}

/// `n` alerts generated (36888), each naming its own client, numbered from `from`;
/// committed before it returns.
pub fn write_alerts(log: &securechannel_eventlog::EventLog, n: usize, from: usize) {
    use securechannel_events::EventSink;
    for i in from..from + n {
        log.emit(record(
            securechannel_events::EventId::FatalAlertGenerated,
            &["40", "1205", &format!("client{i}.example.net")],
        ));
    }
    log.sync().expect("sync");
}

/// A temporary directory with a root CA written as `pki/ca.pem`: what the revocation and
/// OCSP interop tests start from (they need openssl).
pub struct CaDir {
    pub _dir: tempfile::TempDir,
    pub pki: PathBuf,
    pub ca: Ca,
    pub ca_pem: PathBuf,
}

/// A [`CaDir`] whose CA is named `name`.
pub fn ca_dir(name: &str) -> CaDir {
    require_tool("openssl");
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let ca = Ca::root(name);
    let ca_pem = ca.write_pem(&pki.join("ca.pem"));
    CaDir {
        _dir: dir,
        pki,
        ca,
        ca_pem,
    }
}
