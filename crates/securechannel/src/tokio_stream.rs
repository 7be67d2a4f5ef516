//! The tokio stream: a context over an `AsyncRead + AsyncWrite` transport, itself
//! `AsyncRead + AsyncWrite`, used like tokio-rustls:
//!
//! ```no_run
//! # async fn demo(credential: securechannel::ClientCredential) -> std::io::Result<()> {
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! let tcp = tokio::net::TcpStream::connect("127.0.0.1:8443").await?;
//! let mut tls = securechannel::tokio::connect(&credential, "server.test", Default::default(), tcp).await?;
//! tls.write_all(b"hello").await?;
//! tls.shutdown().await?; // sends close_notify
//! # Ok(()) }
//! ```
//!
//! Buffers are bounded as for the std [`crate::TlsStream`].

use crate::stream::{
    eof_in_handshake, eof_without_close_notify, io_error, Buffers, Need, MAX_WRITE, READ_CHUNK,
};
use crate::{
    ClientContext, ClientCredential, ContextOptions, SecurityContext, ServerContext,
    ServerCredential,
};
use ::tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// A TLS stream over the async transport `S`, with the security context `C`.
pub struct TlsStream<S, C> {
    io: S,
    context: C,
    buffers: Buffers,
}

/// Connect over `io` to `target_name` and run the handshake.
pub async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
    credential: &ClientCredential,
    target_name: &str,
    options: ContextOptions,
    io: S,
) -> io::Result<TlsStream<S, ClientContext>> {
    let context = ClientContext::new(credential, target_name, options).map_err(io_error)?;
    TlsStream::handshake(context, io).await
}

/// Accept a client over `io` and run the handshake.
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    credential: &ServerCredential,
    options: ContextOptions,
    io: S,
) -> io::Result<TlsStream<S, ServerContext>> {
    let context = ServerContext::new(credential, options).map_err(io_error)?;
    TlsStream::handshake(context, io).await
}

impl<S: AsyncRead + AsyncWrite + Unpin, C: SecurityContext> TlsStream<S, C> {
    /// Run the handshake of a fresh `context` over `io`. On failure the alert (if any) is
    /// sent before the error returns.
    pub async fn handshake(context: C, io: S) -> io::Result<Self> {
        let mut s = TlsStream {
            io,
            context,
            buffers: Buffers::default(),
        };
        loop {
            let r = s.buffers.handshake(&mut s.context);
            let unsent = s.buffers.unsent().len();
            // The alert of a failure goes out first; the provider's error wins over a
            // transport that could not take it.
            let sent = s.io.write_all(s.buffers.unsent()).await;
            let need = r.map_err(io_error)?;
            sent?;
            s.buffers.sent(unsent);
            match need {
                Need::Ready => {
                    s.io.flush().await?;
                    s.buffers.release_drained();
                    return Ok(s);
                }
                Need::Input => {
                    let space = s.buffers.input_space()?;
                    let r = s.io.read(space).await;
                    let n = *r.as_ref().unwrap_or(&0);
                    s.buffers.filled(n);
                    if r? == 0 {
                        return Err(eof_in_handshake());
                    }
                }
            }
        }
    }
}

impl<S, C> TlsStream<S, C> {
    /// The security context.
    pub fn context(&self) -> &C {
        &self.context
    }

    /// The security context, mutably (its tokens must go through the stream).
    pub fn context_mut(&mut self) -> &mut C {
        &mut self.context
    }

    /// The buffer memory the stream holds now, in bytes (ciphertext in and out, decrypted
    /// plaintext not yet read). Between exchanges it is what is in flight: a stream waiting
    /// for its peer, or flushed, gives drained buffers back.
    pub fn buffered_bytes(&self) -> usize {
        self.buffers.capacity()
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport, mutably (reading or writing it directly corrupts the stream).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The transport, giving up TLS (undecrypted and unsent ciphertext is lost; shut
    /// down first).
    pub fn into_inner(self) -> S {
        self.io
    }

    /// The transport and the context.
    pub fn into_parts(self) -> (S, C) {
        (self.io, self.context)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, C: SecurityContext + Unpin> TlsStream<S, C> {
    /// Send `data`, then close_notify, then shut the transport's write side down: a
    /// connection's last answer. The last record of `data` and close_notify leave in one
    /// write, so a peer gets them in one segment instead of two (one send and one wake-up
    /// fewer on each side). What `write_all` and then `shutdown` would do otherwise.
    pub async fn write_all_and_shutdown(&mut self, data: &[u8]) -> io::Result<()> {
        // All but the last record as usual (back-pressure included).
        let split = data.len().saturating_sub(MAX_WRITE);
        self.write_all(&data[..split]).await?;
        self.buffers.take_deferred()?;
        std::future::poll_fn(|cx| self.poll_send(cx)).await?;
        if !data[split..].is_empty() {
            self.context
                .encrypt(&data[split..], &mut self.buffers.outgoing)
                .map_err(io_error)?;
        }
        // Queues close_notify behind that record and sends both at once.
        self.shutdown().await
    }
}

impl<S: AsyncWrite + Unpin, C> TlsStream<S, C> {
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.buffers.unsent().is_empty() {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, self.buffers.unsent()))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.buffers.sent(n);
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, C: SecurityContext + Unpin> AsyncRead for TlsStream<S, C> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.buffers.take_deferred()?;
        loop {
            // Only what is copied is initialised: a caller's uninitialised buffer is not
            // zeroed whole on every poll.
            let want = this.buffers.plaintext_held().min(buf.remaining());
            let n = this
                .buffers
                .read_plaintext(buf.initialize_unfilled_to(want));
            if n > 0 {
                buf.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.buffers.peer_closed || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let need = this.buffers.decrypt(&mut this.context);
            // Answers produced by decrypt go out when the transport takes them; a full
            // transport does not hold up reading.
            if let Poll::Ready(Err(e)) = this.poll_send(cx) {
                return Poll::Ready(Err(e));
            }
            match need.map_err(io_error)? {
                Need::Ready => continue,
                Need::Input => {
                    // Read through the stack (this is not an async fn: the array is not
                    // part of any future), so `incoming` grows only by what arrived; left
                    // uninitialised, as the transport fills what it reads.
                    let mut chunk = [std::mem::MaybeUninit::<u8>::uninit(); READ_CHUNK];
                    let mut rb = ReadBuf::uninit(&mut chunk);
                    let r = Pin::new(&mut this.io).poll_read(cx, &mut rb);
                    let n = rb.filled().len();
                    this.buffers.append_input(rb.filled())?;
                    if r.is_pending() {
                        // Waiting for the peer: hold no more memory than is in flight.
                        this.buffers.release_drained();
                        return Poll::Pending;
                    }
                    ready!(r)?;
                    if n == 0 {
                        return Poll::Ready(Err(eof_without_close_notify()));
                    }
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin, C: SecurityContext + Unpin> AsyncWrite for TlsStream<S, C> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.buffers.take_deferred()?;
        // Back-pressure: earlier ciphertext goes out before more plaintext is taken.
        ready!(this.poll_send(cx))?;
        let n = data.len().min(MAX_WRITE);
        this.context
            .encrypt(&data[..n], &mut this.buffers.outgoing)
            .map_err(io_error)?;
        // The data is ours now: whatever the transport says, the call returns Ok(n). If
        // it is full the waker is registered and the rest goes out on the next write or
        // flush; an error surfaces on the next call (a retry would encrypt twice).
        if let Poll::Ready(Err(e)) = this.poll_send(cx) {
            this.buffers.defer(e);
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.buffers.take_deferred()?;
        ready!(this.poll_send(cx))?;
        ready!(Pin::new(&mut this.io).poll_flush(cx))?;
        this.buffers.release_drained();
        Poll::Ready(Ok(()))
    }

    /// Sends close_notify, then shuts the transport's write side down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.buffers.take_deferred()?;
        if !this.buffers.close_sent {
            this.context
                .shutdown(&mut this.buffers.outgoing)
                .map_err(io_error)?;
            this.buffers.close_sent = true;
        }
        if this.buffers.write_shut {
            return Poll::Ready(Ok(()));
        }
        ready!(this.poll_send(cx))?;
        ready!(Pin::new(&mut this.io).poll_shutdown(cx))?;
        this.buffers.write_shut = true;
        Poll::Ready(Ok(()))
    }
}

impl<S: std::fmt::Debug, C: std::fmt::Debug> std::fmt::Debug for TlsStream<S, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsStream")
            .field("io", &self.io)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}
