//! std and tokio streams over 127.0.0.1 sockets: echo, large transfers, close_notify,
//! handshake failures as I/O errors carrying the provider's error, bounded input.

mod common;

use common::World;
use securechannel::{ContextOptions, Status, TlsStream};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(10);

fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    for s in [&client, &server] {
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s.set_write_timeout(Some(TIMEOUT)).unwrap();
    }
    (client, server)
}

/// The status of the provider's error inside a stream's I/O error.
fn provider_status(e: &std::io::Error) -> Status {
    securechannel::Error::from_io_error(e)
        .map(|e| e.status())
        .unwrap_or_else(|| panic!("not a provider error: {e:?}"))
}

#[test]
fn std_stream_echo_with_close_notify() {
    let w = World::new();
    let (ctcp, stcp) = tcp_pair();
    let scred = w.server_credential();
    let server = thread::spawn(move || {
        let mut tls = TlsStream::accept(&scred, ContextOptions::default(), stcp).expect("accept");
        let mut buf = [0u8; 4096];
        let mut total = 0;
        loop {
            let n = tls.read(&mut buf).expect("server read");
            if n == 0 {
                break; // close_notify
            }
            total += n;
            tls.write_all(&buf[..n]).expect("echo");
        }
        tls.shutdown().expect("server close_notify");
        total
    });
    let mut tls = TlsStream::connect(
        &w.client_credential(),
        "server.test",
        ContextOptions::default(),
        ctcp,
    )
    .expect("connect");
    assert_eq!(
        tls.context().protocol(),
        Some(securechannel::Protocol::Tls13)
    );
    let message: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7) as u8).collect();
    let mut echoed = vec![0u8; message.len()];
    // Write and read in pieces so neither side's socket buffer fills up.
    for (chunk, back) in message.chunks(50_000).zip(echoed.chunks_mut(50_000)) {
        tls.write_all(chunk).unwrap();
        tls.read_exact(back).unwrap();
    }
    assert!(echoed == message);
    tls.shutdown().unwrap();
    let mut rest = Vec::new();
    assert_eq!(tls.read_to_end(&mut rest).unwrap(), 0);
    assert_eq!(server.join().unwrap(), message.len());
}

#[test]
fn std_stream_handshake_failure_is_an_io_error_with_the_status() {
    let w = World::new();
    let (ctcp, stcp) = tcp_pair();
    let scred = w.server_credential();
    let server = thread::spawn(move || {
        TlsStream::accept(&scred, ContextOptions::default(), stcp).map(|_| ())
    });
    let e = TlsStream::connect(
        &w.client_credential(),
        "wrong.test",
        ContextOptions::default(),
        ctcp,
    )
    .unwrap_err();
    assert_eq!(provider_status(&e), Status::WrongPrincipal);
    // The whole provider error comes back out, event included; other I/O errors are not
    // mistaken for one.
    let inner = securechannel::Error::from_io_error(&e).expect("the provider's error");
    assert_eq!(
        inner.event(),
        Some(securechannel::EventId::ServerCertificateWrongName)
    );
    assert!(securechannel::Error::from_io_error(&std::io::Error::other("not ours")).is_none());
    // The alert was sent before the error returned: the server received bad_certificate.
    let se = server.join().unwrap().unwrap_err();
    assert_eq!(provider_status(&se), Status::CertUnknown);
}

#[test]
fn std_stream_bounds_what_it_buffers() {
    // A "ClientHello" announcing a 16 MB handshake message, then 20 MB of records
    // continuing it: the server must refuse without holding it all.
    let w = World::new();
    let (mut ctcp, stcp) = tcp_pair();
    let scred = w.server_credential();
    let server = thread::spawn(move || {
        TlsStream::accept(&scred, ContextOptions::default(), stcp).map(|_| ())
    });
    let writer = thread::spawn(move || {
        let mut record = vec![22, 3, 3, 0x40, 0x00];
        record.extend_from_slice(&[1, 0xFF, 0xFF, 0xFF]);
        record.resize(5 + 0x4000, 0x41);
        let mut sent = 0usize;
        while sent < 20 << 20 {
            if ctcp.write_all(&record).is_err() {
                break; // the server gave up and closed
            }
            sent += record.len();
        }
        sent
    });
    let e = server.join().unwrap().unwrap_err();
    assert!(
        matches!(
            e.kind(),
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::Other
        ),
        "{e:?}"
    );
    let sent = writer.join().unwrap();
    assert!(sent < 20 << 20, "the server kept reading all {sent} bytes");
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_stream_echo_with_close_notify() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let w = World::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scred = w.server_credential();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = securechannel::tokio::accept(&scred, ContextOptions::default(), tcp)
            .await
            .expect("accept");
        let mut buf = vec![0u8; 8192];
        loop {
            let n = tls.read(&mut buf).await.expect("server read");
            if n == 0 {
                break;
            }
            tls.write_all(&buf[..n]).await.expect("echo");
        }
        tls.shutdown().await.expect("close_notify");
    });
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let options = common::context_options(|o| {
        o.alpn = vec![b"echo".to_vec()];
    });
    let mut tls =
        securechannel::tokio::connect(&w.client_credential(), "server.test", options, tcp)
            .await
            .expect("connect");
    let message: Vec<u8> = (0..300_000u32).map(|i| (i * 13) as u8).collect();
    let mut echoed = vec![0u8; message.len()];
    for (chunk, back) in message.chunks(30_000).zip(echoed.chunks_mut(30_000)) {
        tls.write_all(chunk).await.unwrap();
        tls.read_exact(back).await.unwrap();
    }
    assert!(echoed == message);
    // Waiting for the peer (a read that does not complete), the stream holds no buffer
    // memory: 30 KB exchanges grew them, idle gives them back.
    let mut one = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(50), tls.read(&mut one)).await;
    assert!(waited.is_err(), "nothing was sent: the read waits");
    assert_eq!(tls.buffered_bytes(), 0);
    tls.shutdown().await.unwrap();
    let mut rest = Vec::new();
    assert_eq!(tls.read_to_end(&mut rest).await.unwrap(), 0);
    tokio::time::timeout(TIMEOUT, server)
        .await
        .unwrap()
        .unwrap();
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_stream_handshake_failure_carries_the_status() {
    let w = World::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scred = w.server_credential();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        securechannel::tokio::accept(&scred, ContextOptions::default(), tcp)
            .await
            .map(|_| ())
    });
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let e = securechannel::tokio::connect(
        &w.client_credential(),
        "wrong.test",
        ContextOptions::default(),
        tcp,
    )
    .await
    .unwrap_err();
    assert_eq!(provider_status(&e), Status::WrongPrincipal);
    let se = tokio::time::timeout(TIMEOUT, server)
        .await
        .unwrap()
        .unwrap()
        .unwrap_err();
    assert_eq!(provider_status(&se), Status::CertUnknown);
}

#[test]
fn std_stream_reports_truncation_without_close_notify() {
    let w = World::new();
    let (ctcp, stcp) = tcp_pair();
    let scred = w.server_credential();
    let server = thread::spawn(move || {
        let mut tls = TlsStream::accept(&scred, ContextOptions::default(), stcp).expect("accept");
        tls.write_all(b"partial").unwrap();
        // Dropped without shutdown(): the TCP connection closes, no close_notify.
    });
    let mut tls = TlsStream::connect(
        &w.client_credential(),
        "server.test",
        ContextOptions::default(),
        ctcp,
    )
    .expect("connect");
    server.join().unwrap();
    let mut got = Vec::new();
    let e = tls.read_to_end(&mut got).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    assert_eq!(got, b"partial");
}

/// A transport that, when told to, takes only part of the next write and then fails the
/// following one (with `WouldBlock`, or a hard error), as a non-blocking or broken socket
/// does.
struct Flaky {
    inner: TcpStream,
    plan: std::sync::Arc<std::sync::Mutex<Option<(usize, std::io::ErrorKind)>>>,
    failing: Option<std::io::ErrorKind>,
}

impl Read for Flaky {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl Write for Flaky {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(kind) = self.failing.take() {
            return Err(kind.into());
        }
        if let Some((accept, kind)) = self.plan.lock().unwrap().take() {
            self.failing = Some(kind);
            return self.inner.write(&buf[..accept.min(buf.len())]);
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What the peer decrypts when the transport takes part of a write and then fails with
/// `kind`, and the caller does what std's `write_all` does with that error.
fn peer_receives_after_partial_write(kind: std::io::ErrorKind) -> (Vec<u8>, Vec<std::io::Error>) {
    let w = World::new();
    let (ctcp, stcp) = tcp_pair();
    let scred = w.server_credential();
    let server = thread::spawn(move || {
        let mut tls = TlsStream::accept(&scred, ContextOptions::default(), stcp).expect("accept");
        let mut got = Vec::new();
        if let Err(e) = tls.read_to_end(&mut got) {
            eprintln!("server read: {e:?}");
        }
        let _ = tls.shutdown();
        got
    });
    let plan = std::sync::Arc::new(std::sync::Mutex::new(None));
    let flaky = Flaky {
        inner: ctcp,
        plan: plan.clone(),
        failing: None,
    };
    let mut tls = TlsStream::connect(
        &w.client_credential(),
        "server.test",
        ContextOptions::default(),
        flaky,
    )
    .expect("connect");
    let message = b"transfer 100 EUR to account 42\n";
    *plan.lock().unwrap() = Some((7, kind));
    let mut errors = Vec::new();
    let mut sent = 0;
    // write_all's loop, keeping the errors: retry on Interrupted / WouldBlock / TimedOut.
    while sent < message.len() && errors.len() < 5 {
        match tls.write(&message[sent..]) {
            Ok(n) => sent += n,
            Err(e) if is_retryable(&e) => errors.push(e),
            Err(e) => {
                errors.push(e);
                break;
            }
        }
    }
    if let Err(e) = tls.flush() {
        errors.push(e);
    }
    let _ = tls.shutdown();
    // Read to the server's close_notify, so no unread byte makes the kernel reset the
    // connection under the server's last read.
    let _ = tls.read_to_end(&mut Vec::new());
    drop(tls);
    (server.join().unwrap(), errors)
}

fn is_retryable(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock
            | std::io::ErrorKind::Interrupted
            | std::io::ErrorKind::TimedOut
    )
}

#[test]
fn std_stream_write_never_sends_data_twice_when_the_transport_would_block() {
    for kind in [
        std::io::ErrorKind::WouldBlock,
        std::io::ErrorKind::Interrupted,
        std::io::ErrorKind::TimedOut,
    ] {
        let (got, errors) = peer_receives_after_partial_write(kind);
        assert_eq!(
            String::from_utf8_lossy(&got),
            "transfer 100 EUR to account 42\n",
            "{kind:?}: the peer must decrypt the message exactly once (errors seen: {errors:?})"
        );
    }
}

#[test]
fn std_stream_write_surfaces_a_transport_error_on_the_next_call() {
    let (got, errors) = peer_receives_after_partial_write(std::io::ErrorKind::BrokenPipe);
    // The bytes were accepted (Ok), the broken pipe shows on the flush after them, and
    // nothing was encrypted twice: the peer got at most the message, never a repeat.
    assert!(
        errors
            .iter()
            .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe),
        "{errors:?}"
    );
    assert!(
        b"transfer 100 EUR to account 42\n".starts_with(&got),
        "{:?}",
        String::from_utf8_lossy(&got)
    );
}

/// A tokio transport over a TCP stream that counts the writes and shutdowns it is asked
/// for, and once `broken` is set fails every write, having taken the first 7 bytes of the
/// write that breaks it.
#[cfg(feature = "tokio")]
struct TestTransport {
    inner: tokio::net::TcpStream,
    broken: std::sync::Arc<std::sync::atomic::AtomicBool>,
    took_part: bool,
    writes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    shutdowns: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[cfg(feature = "tokio")]
impl TestTransport {
    fn new(inner: tokio::net::TcpStream) -> TestTransport {
        TestTransport {
            inner,
            broken: Default::default(),
            took_part: false,
            writes: Default::default(),
            shutdowns: Default::default(),
        }
    }
}

#[cfg(feature = "tokio")]
impl tokio::io::AsyncRead for TestTransport {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

#[cfg(feature = "tokio")]
impl tokio::io::AsyncWrite for TestTransport {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use std::sync::atomic::Ordering;
        self.writes.fetch_add(1, Ordering::SeqCst);
        if self.broken.load(Ordering::SeqCst) {
            if self.took_part {
                return std::task::Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into()));
            }
            self.took_part = true;
            let n = buf.len().min(7);
            return std::pin::Pin::new(&mut self.inner).poll_write(cx, &buf[..n]);
        }
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        self.shutdowns
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_stream_write_that_encrypted_returns_ok_and_the_error_comes_next() {
    use tokio::io::AsyncWriteExt;
    let w = World::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let scred = w.server_credential();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let _tls = securechannel::tokio::accept(&scred, ContextOptions::default(), tcp).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    });
    let transport = TestTransport::new(tokio::net::TcpStream::connect(addr).await.unwrap());
    let broken = transport.broken.clone();
    let mut tls = securechannel::tokio::connect(
        &w.client_credential(),
        "server.test",
        ContextOptions::default(),
        transport,
    )
    .await
    .expect("connect");
    broken.store(true, std::sync::atomic::Ordering::SeqCst);
    let message = b"transfer 100 EUR to account 42\n";
    // The plaintext is encrypted and taken: Ok, whatever the transport then said.
    assert_eq!(tls.write(message).await.unwrap(), message.len());
    // The transport's failure shows on the next call.
    let e = tls.flush().await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
    let _ = tokio::time::timeout(TIMEOUT, server).await;
}

/// `write_all_and_shutdown`: a short last answer and close_notify leave in one write of
/// the transport, then one shutdown of its write side (a second `shutdown` adds nothing);
/// the peer reads the answer and a clean close. A long one (several records) arrives
/// whole, then the clean close.
#[cfg(feature = "tokio")]
#[tokio::test]
async fn tokio_stream_last_answer_and_close_notify_leave_in_one_write() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;
    let w = World::new();
    let long: Vec<u8> = (0..100_000u32).map(|i| (i * 7) as u8).collect();
    for message in [
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(),
        long,
    ] {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let scred = w.server_credential();
        let shutdowns: Arc<AtomicUsize> = Default::default();
        let ss = shutdowns.clone();
        let sent = message.clone();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut transport = TestTransport::new(tcp);
            transport.shutdowns = ss;
            let sw = transport.writes.clone();
            let mut tls =
                securechannel::tokio::accept(&scred, ContextOptions::default(), transport)
                    .await
                    .expect("accept");
            let before = sw.load(Ordering::SeqCst);
            tls.write_all_and_shutdown(&sent)
                .await
                .expect("last answer");
            let writes = sw.load(Ordering::SeqCst) - before;
            tokio::io::AsyncWriteExt::shutdown(&mut tls)
                .await
                .expect("a second shutdown is a no-op");
            writes
        });
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut tls = securechannel::tokio::connect(
            &w.client_credential(),
            "server.test",
            ContextOptions::default(),
            tcp,
        )
        .await
        .expect("connect");
        let mut got = Vec::new();
        // read_to_end succeeds only on close_notify: EOF without it is an error.
        tls.read_to_end(&mut got)
            .await
            .expect("answer, then close_notify");
        assert!(got == message, "{} of {} bytes", got.len(), message.len());
        let server_writes = tokio::time::timeout(TIMEOUT, server)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(shutdowns.load(Ordering::SeqCst), 1);
        if message.len() < 1000 {
            assert_eq!(server_writes, 1, "answer and close_notify in one write");
        } else {
            assert!(server_writes > 1, "a long answer goes out record by record");
        }
    }
}
