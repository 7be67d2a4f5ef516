//! `ClientCacheTime`, `ServerCacheTime` and `MaximumCacheSize` on real handshakes: between
//! in-process contexts (both sides ours), and a client context against `openssl
//! s_server`.

mod common;

use common::*;
use securechannel::{
    ClientContext, ClientCredential, ContextOptions, CredentialOptions, Protocol, ServerCredential,
    SettingValue, Settings, TlsStream,
};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn settings(values: &[(&str, u32)]) -> Arc<Settings> {
    let mut s = Settings::default();
    for (name, v) in values {
        s.set(name, SettingValue::Dword(*v)).unwrap();
    }
    Arc::new(s)
}

fn options(protocols: &[Protocol]) -> CredentialOptions {
    let mut o = CredentialOptions::default();
    o.protocols = protocols.to_vec();
    o
}

fn client(w: &World, values: &[(&str, u32)], protocols: &[Protocol]) -> ClientCredential {
    ClientCredential::new_in_memory_with(
        w.client_emitter.clone(),
        settings(values),
        None,
        w.pki.roots(),
        options(protocols),
    )
}

fn server(w: &World, values: &[(&str, u32)]) -> ServerCredential {
    ServerCredential::new_in_memory_with(
        w.server_emitter.clone(),
        settings(values),
        Some(w.server_key.clone()),
        w.pki.roots(),
        CredentialOptions::default(),
    )
}

/// One handshake between the credentials, with a byte each way afterwards (a TLS 1.3
/// client stores the server's tickets when it reads them, after the handshake): whether
/// it resumed, as both sides see it.
fn resumed(cc: &ClientCredential, sc: &ServerCredential) -> bool {
    let mut p = Pair::between(cc, sc);
    p.handshake().unwrap();
    p.client_send(b"x");
    assert_eq!(p.server_receive().unwrap(), b"x");
    p.server_send(b"y");
    assert_eq!(p.client_receive().unwrap(), b"y");
    let client = p.client.resumed().unwrap();
    assert_eq!(p.server.resumed(), Some(client));
    client
}

const BOTH: [&[Protocol]; 2] = [&[Protocol::Tls13], &[Protocol::Tls12]];

#[test]
fn client_cache_time_0_never_resumes() {
    let w = World::new();
    let sc = server(&w, &[]);
    for protocols in BOTH {
        let default = client(&w, &[], protocols);
        let off = client(&w, &[("ClientCacheTime", 0)], protocols);
        assert!(!resumed(&default, &sc));
        assert!(
            resumed(&default, &sc),
            "{protocols:?}: the default client resumes"
        );
        assert!(!resumed(&off, &sc));
        assert!(!resumed(&off, &sc), "{protocols:?}: ClientCacheTime = 0");
    }
}

#[test]
fn client_and_server_cache_times_expire_sessions() {
    let w = World::new();
    let default_server = server(&w, &[]);
    let short_server = server(&w, &[("ServerCacheTime", 300)]);
    for protocols in BOTH {
        // The pairs: (client, server, resumes after the pause); a client credential per
        // pair, as the sessions are kept by server name.
        let (default, short) = (&[][..], &[("ClientCacheTime", 300)][..]);
        let pairs = [
            (client(&w, default, protocols), &default_server, true),
            (client(&w, short, protocols), &default_server, false),
            (client(&w, default, protocols), &short_server, false),
        ];
        for (c, s, _) in &pairs {
            assert!(!resumed(c, s));
        }
        std::thread::sleep(Duration::from_millis(400));
        for (i, (c, s, expect)) in pairs.iter().enumerate() {
            assert_eq!(resumed(c, s), *expect, "{protocols:?}, pair {i}");
        }
    }
}

#[test]
fn maximum_cache_size_0_still_resumes_by_ticket() {
    // rustls clients offer tickets in TLS 1.2 too, and tickets need no server cache.
    let w = World::new();
    let sc = server(&w, &[("MaximumCacheSize", 0)]);
    for protocols in BOTH {
        let cc = client(&w, &[], protocols);
        assert!(!resumed(&cc, &sc));
        assert!(resumed(&cc, &sc), "{protocols:?}");
    }
}

/// `openssl s_server -www` with a test certificate, killed on drop.
struct SServer {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for SServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s_server(w: &World, tls: &str) -> SServer {
    let dir = tempfile::tempdir().unwrap();
    let leaf = w.pki.server_leaf(&["server.test", "127.0.0.1"]);
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    leaf.write_pem(&cert, &key);
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let mut child = Command::new("openssl")
            .args(["s_server", "-www", "-quiet", tls, "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl is required (apt-get install openssl)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return SServer {
                    child,
                    port,
                    _dir: dir,
                };
            }
            if child.try_wait().ok().flatten().is_some() {
                break; // the port was taken: try another
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("openssl s_server did not start");
}

/// A GET to s_server over our client context: whether the handshake resumed.
fn get(cc: &ClientCredential, server: &SServer) -> bool {
    let sock = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ctx = ClientContext::new(cc, "server.test", ContextOptions::default()).unwrap();
    let mut tls = TlsStream::handshake(ctx, sock).unwrap();
    tls.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut page = Vec::new();
    let _ = tls.read_to_end(&mut page);
    assert!(
        String::from_utf8_lossy(&page).contains("200 ok"),
        "{}",
        String::from_utf8_lossy(&page)
    );
    tls.context().resumed().unwrap()
}

#[test]
fn client_cache_time_against_openssl_s_server() {
    let w = World::new();
    for (tls, protocols) in [("-tls1_3", BOTH[0]), ("-tls1_2", BOTH[1])] {
        let server = s_server(&w, tls);
        let default = client(&w, &[], protocols);
        let off = client(&w, &[("ClientCacheTime", 0)], protocols);
        assert!(!get(&default, &server));
        assert!(get(&default, &server), "{tls}: the default client resumes");
        assert!(!get(&off, &server));
        assert!(!get(&off, &server), "{tls}: ClientCacheTime = 0");
    }
}
