//! What the C-program tests share: compiling a program of `tests/c/` against the header
//! and the built library, a data directory with a test PKI (rcgen, securechannel-testpki),
//! child processes bounded in time, `openssl s_server` / `s_client` on 127.0.0.1, and the
//! data directory's System log.
#![allow(dead_code)]

use securechannel_eventlog::{LogReader, Query};
use securechannel_events::EventRecord;
use securechannel_testpki::Ca;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any one program may run.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Panic with an install hint when a tool is missing: these tests fail, never pass,
/// without it (CI installs them: .ci/run).
pub fn require_tool(tool: &str, package: &str) {
    let ok = Command::new(tool)
        .arg(if tool == "openssl" {
            "version"
        } else {
            "--version"
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "`{tool}` is required by this test and was not found; install it (Debian: apt-get install {package})");
}

/// The directory holding `libsecurechannel_sspi.so`: `deps/`, beside the test, where
/// `cargo test` builds it (the copy in the profile directory is `cargo build`'s, and may
/// be older).
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let deps = exe.parent().expect("deps/");
    for dir in [deps, deps.parent().expect("the profile directory")] {
        if dir.join("libsecurechannel_sspi.so").exists() {
            return dir.to_path_buf();
        }
    }
    panic!(
        "libsecurechannel_sspi.so was not built next to {}",
        deps.display()
    );
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Compile `tests/c/<name>.c` with the system compiler (-Wall -Werror) against the header
/// and the shared library; the executable's path.
pub fn compile(name: &str, out_dir: &Path) -> PathBuf {
    require_tool("cc", "gcc");
    let src = crate_dir().join("tests/c").join(format!("{name}.c"));
    let exe = out_dir.join(name);
    let lib = lib_dir();
    let o = Command::new("cc")
        .args([
            "-std=c11",
            "-D_DEFAULT_SOURCE",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-g",
            "-O1",
        ])
        .arg("-I")
        .arg(crate_dir().join("include"))
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .arg("-L")
        .arg(&lib)
        .arg("-lsecurechannel_sspi")
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .output()
        .expect("cc runs");
    assert!(
        o.status.success(),
        "cc {name}.c failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    exe
}

/// A test's world: a temporary directory with a data directory (every event logged) and
/// the PKI: a trusted root in `stores/Root`, a server certificate for localhost /
/// 127.0.0.1 in PEM files, and a root nobody trusts.
pub struct World {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub root: Ca,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub untrusted_cert: PathBuf,
    pub untrusted_key: PathBuf,
    pub root_pem: PathBuf,
}

impl World {
    pub fn new() -> World {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("stores/Root")).unwrap();
        std::fs::write(data.join("settings.toml"), "EventLogging = 7\n").unwrap();
        let root = Ca::root("SSPI Test Root");
        let root_pem = root.write_pem(&data.join("stores/Root/root.pem"));
        let leaf = root.server_leaf(&["localhost", "127.0.0.1"]);
        let server_cert = dir.path().join("server.pem");
        let server_key = dir.path().join("server.key");
        leaf.write_pem(&server_cert, &server_key);
        let stranger = Ca::root("Nobody Trusts This Root");
        let other = stranger.server_leaf(&["localhost", "127.0.0.1"]);
        let untrusted_cert = dir.path().join("untrusted.pem");
        let untrusted_key = dir.path().join("untrusted.key");
        other.write_pem(&untrusted_cert, &untrusted_key);
        World {
            dir,
            data,
            root,
            server_cert,
            server_key,
            untrusted_cert,
            untrusted_key,
            root_pem,
        }
    }

    /// Put a server certificate and its key into `stores/My` and `keys/` (as
    /// `schannel serve` finds them).
    pub fn install_my(&self, cert: &Path, key: &Path) {
        std::fs::create_dir_all(self.data.join("stores/My")).unwrap();
        std::fs::copy(cert, self.data.join("stores/My/server.pem")).unwrap();
        securechannel_testpki::write_private(
            &self.data.join("keys/server.key"),
            std::fs::read(key).unwrap(),
        );
    }

    /// Every event of the data directory's log, oldest first.
    pub fn events(&self) -> Vec<EventRecord> {
        let r = LogReader::open(self.data.join("events.db")).expect("the log exists");
        r.query(&Query::new().oldest_first())
            .expect("the log answers")
    }

    /// Their IDs.
    pub fn event_ids(&self) -> Vec<u16> {
        self.events().iter().map(|e| e.event_id as u16).collect()
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process, its output gathered as it comes, killed when dropped.
pub struct Proc {
    child: Child,
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
}

fn drain(mut r: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let out = Arc::new(Mutex::new(Vec::new()));
        let err = Arc::new(Mutex::new(Vec::new()));
        drain(child.stdout.take().unwrap(), out.clone());
        drain(child.stderr.take().unwrap(), err.clone());
        Proc { child, out, err }
    }

    pub fn stdin(&mut self) -> &mut std::process::ChildStdin {
        self.child.stdin.as_mut().expect("stdin is piped")
    }

    pub fn close_stdin(&mut self) {
        drop(self.child.stdin.take());
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.err.lock().unwrap()).into_owned()
    }

    /// Wait until `ready(stdout, stderr)` or the timeout; whether it became ready.
    pub fn wait_for(&mut self, ready: impl Fn(&str, &str) -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < TIMEOUT {
            if ready(&self.stdout(), &self.stderr()) {
                return true;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return ready(&self.stdout(), &self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Wait for the exit (killed at the timeout: the test then fails).
    pub fn wait(&mut self) -> ExitStatus {
        self.wait_within(TIMEOUT)
    }

    /// Wait for the exit, at most `limit` (killed then: the test fails).
    pub fn wait_within(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                // Let the drain threads take the last output.
                std::thread::sleep(Duration::from_millis(50));
                return s;
            }
            if start.elapsed() > limit {
                let _ = self.child.kill();
                panic!("timed out:\n{}\n{}", self.stdout(), self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start a compiled C program with the data directory (under valgrind: memory errors and
/// leaks make it exit with 97).
pub fn spawn_c(world: &World, exe: &Path, args: &[&str], valgrind: bool) -> Proc {
    let mut cmd = if valgrind {
        require_tool("valgrind", "valgrind");
        let mut c = Command::new("valgrind");
        c.args([
            "--leak-check=full",
            "--error-exitcode=97",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "-q",
        ])
        .arg(format!(
            "--suppressions={}",
            crate_dir().join("tests/valgrind.supp").display()
        ));
        c.arg(exe);
        c
    } else {
        Command::new(exe)
    };
    // cargo test's LD_LIBRARY_PATH names the profile directory first, where an older
    // `cargo build` copy of the library may be: the program uses the one it was linked
    // with (its rpath).
    cmd.args(args)
        .env("SCHANNEL_DATA", &world.data)
        .env_remove("LD_LIBRARY_PATH");
    Proc::spawn(cmd)
}

/// Run a compiled C program to its end; (status, stdout, stderr).
pub fn run_c(
    world: &World,
    exe: &Path,
    args: &[&str],
    valgrind: bool,
) -> (ExitStatus, String, String) {
    let mut p = spawn_c(world, exe, args, valgrind);
    p.close_stdin();
    let s = p.wait();
    (s, p.stdout(), p.stderr())
}

/// `openssl s_server -www` on 127.0.0.1 with a certificate, for one connection.
pub fn s_server(cert: &Path, key: &Path, extra: &[&str]) -> (Proc, u16) {
    require_tool("openssl", "openssl");
    for _ in 0..5 {
        let port = free_port();
        let mut c = Command::new("openssl");
        c.args(["s_server", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(cert)
            .arg("-key")
            .arg(key)
            .args(["-www", "-naccept", "1"])
            .args(extra);
        let mut p = Proc::spawn(c);
        if p.wait_for(|o, _| o.contains("ACCEPT")) {
            return (p, port);
        }
        if !p.stderr().contains("in use") {
            panic!("openssl s_server did not start: {}", p.stderr());
        }
    }
    panic!("no free port for s_server in 5 attempts");
}
