//! `TlsStream`: a context over a std `Read + Write` transport, itself `Read + Write`.
//! The buffering shared with the tokio stream ([`Buffers`]) lives here too.
//!
//! Memory is bounded: at most [`MAX_PENDING_INPUT`] bytes of undecrypted input are held
//! (a peer announcing more than that without completing a record fails the stream), and
//! a single write encrypts at most [`MAX_WRITE`] bytes before the ciphertext is sent.

use crate::{
    ClientContext, ClientCredential, ContextOptions, DecryptStatus, Error, SecurityContext,
    ServerContext, ServerCredential, StepStatus,
};
use std::io::{self, Read, Write};

/// The most undecrypted input a stream holds. A handshake message may span records
/// (rustls keeps them in our buffer until it is whole; it refuses messages over 64 KiB),
/// so this leaves room for the largest one and a few records.
pub(crate) const MAX_PENDING_INPUT: usize = 128 * 1024;
/// How much is read from the transport at a time: one full record.
pub(crate) const READ_CHUNK: usize = 16 * 1024 + 256;
/// The most plaintext one write call takes.
pub(crate) const MAX_WRITE: usize = 64 * 1024;

/// A TLS stream over `S`, with the security context `C` ([`ClientContext`] or
/// [`ServerContext`]).
pub struct TlsStream<S, C> {
    io: S,
    context: C,
    buffers: Buffers,
}

/// The sans-I/O part of a stream: input not yet decrypted, plaintext not yet read,
/// ciphertext not yet sent.
#[derive(Default)]
pub(crate) struct Buffers {
    pub(crate) incoming: Vec<u8>,
    pub(crate) plaintext: Vec<u8>,
    pub(crate) plaintext_at: usize,
    pub(crate) outgoing: Vec<u8>,
    pub(crate) outgoing_at: usize,
    pub(crate) peer_closed: bool,
    pub(crate) close_sent: bool,
    /// The transport's write side was shut down after close_notify (async stream): a
    /// second `shutdown` has nothing left to do.
    pub(crate) write_shut: bool,
    /// A transport error that happened after plaintext was accepted: `write` returned
    /// `Ok(n)` for those bytes (they are encrypted and queued), and the error surfaces on
    /// the next call instead, so a retry never encrypts the same bytes twice.
    deferred: Option<io::Error>,
}

/// What the stream needs next.
pub(crate) enum Need {
    /// Nothing: the handshake is complete, or plaintext / end of stream is ready.
    Ready,
    /// More input from the transport.
    Input,
}

impl Buffers {
    /// The transport error a write that had already accepted its bytes left behind.
    pub(crate) fn take_deferred(&mut self) -> io::Result<()> {
        match self.deferred.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// A transport error after a write accepted its bytes: kept for the next call, unless
    /// the same call may simply be made again (the unsent bytes wait in `outgoing`).
    pub(crate) fn defer(&mut self, e: io::Error) {
        if !is_retryable(&e) {
            self.deferred = Some(e);
        }
    }
    /// One handshake step over the input held; output goes to `outgoing`.
    pub(crate) fn handshake<C: SecurityContext>(&mut self, context: &mut C) -> Result<Need, Error> {
        let r = context.step(&mut self.incoming, &mut self.outgoing);
        let step = r?;
        self.incoming.drain(..step.consumed);
        Ok(match step.status {
            StepStatus::Complete => Need::Ready,
            StepStatus::ContinueNeeded | StepStatus::IncompleteMessage { .. } => Need::Input,
        })
    }

    /// Decrypt what is held unless plaintext or the end of stream is already there.
    pub(crate) fn decrypt<C: SecurityContext>(&mut self, context: &mut C) -> Result<Need, Error> {
        if self.plaintext_at < self.plaintext.len() || self.peer_closed {
            return Ok(Need::Ready);
        }
        self.plaintext.clear();
        self.plaintext_at = 0;
        let r = context.decrypt(&mut self.incoming, &mut self.plaintext);
        // A key update answer, or the alert of a failure, goes out with the next write.
        context.take_output(&mut self.outgoing);
        let d = r?;
        self.incoming.drain(..d.consumed);
        Ok(match d.status {
            DecryptStatus::Data => Need::Ready,
            DecryptStatus::PeerClosed => {
                self.peer_closed = true;
                Need::Ready
            }
            DecryptStatus::IncompleteMessage { .. } => Need::Input,
        })
    }

    /// How many bytes of decrypted plaintext are held, not read yet.
    pub(crate) fn plaintext_held(&self) -> usize {
        self.plaintext.len() - self.plaintext_at
    }

    /// Copy held plaintext to `buf`.
    pub(crate) fn read_plaintext(&mut self, buf: &mut [u8]) -> usize {
        let available = &self.plaintext[self.plaintext_at..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.plaintext_at += n;
        n
    }

    // The tokio handshake reads into `incoming` itself: a stack buffer in an async
    // fn would be part of its future for the connection's whole life.
    #[cfg(feature = "tokio")]
    /// Room at the end of `incoming` for one read from the transport; call
    /// [`Buffers::filled`] with what was read.
    pub(crate) fn input_space(&mut self) -> io::Result<&mut [u8]> {
        let held = self.incoming.len();
        if held >= MAX_PENDING_INPUT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the peer sent {held} bytes without completing a TLS record"),
            ));
        }
        self.incoming.resize(held + READ_CHUNK, 0);
        Ok(&mut self.incoming[held..])
    }

    /// Append `bytes` read from the transport (through a buffer of the caller's, so that
    /// `incoming` only ever holds what is in flight).
    pub(crate) fn append_input(&mut self, bytes: &[u8]) -> io::Result<()> {
        let held = self.incoming.len();
        if held >= MAX_PENDING_INPUT {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the peer sent {held} bytes without completing a TLS record"),
            ));
        }
        self.incoming.extend_from_slice(bytes);
        Ok(())
    }

    /// The memory the buffers hold (their capacities), in bytes.
    pub(crate) fn capacity(&self) -> usize {
        self.incoming.capacity() + self.plaintext.capacity() + self.outgoing.capacity()
    }

    /// Give back the memory of every drained buffer: a connection waiting for its peer
    /// holds only what is in flight (a partial record), not the high-water marks of its
    /// handshake and its largest records.
    pub(crate) fn release_drained(&mut self) {
        if self.incoming.is_empty() {
            self.incoming = Vec::new();
        }
        if self.plaintext_at >= self.plaintext.len() {
            self.plaintext = Vec::new();
            self.plaintext_at = 0;
        }
        if self.outgoing_at >= self.outgoing.len() {
            self.outgoing = Vec::new();
            self.outgoing_at = 0;
        }
    }

    // The tokio handshake reads into `incoming` itself: a stack buffer in an async
    // fn would be part of its future for the connection's whole life.
    #[cfg(feature = "tokio")]
    /// `n` bytes were read into the space [`Buffers::input_space`] gave.
    pub(crate) fn filled(&mut self, n: usize) {
        let len = self.incoming.len() - READ_CHUNK + n;
        self.incoming.truncate(len);
    }

    /// The ciphertext still to send.
    pub(crate) fn unsent(&self) -> &[u8] {
        &self.outgoing[self.outgoing_at..]
    }

    /// `n` bytes of [`Buffers::unsent`] were sent.
    pub(crate) fn sent(&mut self, n: usize) {
        self.outgoing_at += n;
        if self.outgoing_at == self.outgoing.len() {
            self.outgoing.clear();
            self.outgoing_at = 0;
        }
    }
}

/// Transport errors after which the same call may simply be made again.
fn is_retryable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted | io::ErrorKind::TimedOut
    )
}

/// A provider error as an I/O error; [`Error::from_io_error`] gives it back.
pub(crate) fn io_error(e: Error) -> io::Error {
    io::Error::other(e)
}

pub(crate) fn eof_in_handshake() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the transport closed during the TLS handshake",
    )
}

pub(crate) fn eof_without_close_notify() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "the peer closed the transport without close_notify (possible truncation)",
    )
}

impl<S: Read + Write> TlsStream<S, ClientContext> {
    /// Connect over `io` to `target_name`: run the handshake to completion.
    pub fn connect(
        credential: &ClientCredential,
        target_name: &str,
        options: ContextOptions,
        io: S,
    ) -> io::Result<Self> {
        let context = ClientContext::new(credential, target_name, options).map_err(io_error)?;
        TlsStream::handshake(context, io)
    }
}

impl<S: Read + Write> TlsStream<S, ServerContext> {
    /// Accept a client over `io`: run the handshake to completion.
    pub fn accept(
        credential: &ServerCredential,
        options: ContextOptions,
        io: S,
    ) -> io::Result<Self> {
        let context = ServerContext::new(credential, options).map_err(io_error)?;
        TlsStream::handshake(context, io)
    }
}

impl<S: Read + Write, C: SecurityContext> TlsStream<S, C> {
    /// Run the handshake of a fresh `context` over `io`. On failure the alert (if any) is
    /// sent before the error returns.
    pub fn handshake(context: C, io: S) -> io::Result<Self> {
        let mut s = TlsStream {
            io,
            context,
            buffers: Buffers::default(),
        };
        loop {
            let r = s.buffers.handshake(&mut s.context);
            // The alert of a failure goes out first; the provider's error wins over a
            // transport that could not take it.
            let sent = s.send_all();
            let need = r.map_err(io_error)?;
            sent?;
            match need {
                Need::Ready => return Ok(s),
                Need::Input => {
                    if s.fill()? == 0 {
                        return Err(eof_in_handshake());
                    }
                }
            }
        }
    }

    /// Send close_notify and flush (the other direction stays readable until the peer's
    /// close_notify arrives).
    pub fn shutdown(&mut self) -> io::Result<()> {
        self.buffers.take_deferred()?;
        if !self.buffers.close_sent {
            self.context
                .shutdown(&mut self.buffers.outgoing)
                .map_err(io_error)?;
            self.buffers.close_sent = true;
        }
        self.send_all()?;
        self.io.flush()
    }

    fn send_all(&mut self) -> io::Result<()> {
        while !self.buffers.unsent().is_empty() {
            let n = self.io.write(self.buffers.unsent())?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.buffers.sent(n);
        }
        Ok(())
    }

    /// One read from the transport. Before it blocks, drained buffers are given back,
    /// and the bytes come through the stack, so `incoming` holds only what is in flight.
    fn fill(&mut self) -> io::Result<usize> {
        self.buffers.release_drained();
        let mut chunk = [0u8; READ_CHUNK];
        let n = self.io.read(&mut chunk)?;
        self.buffers.append_input(&chunk[..n])?;
        Ok(n)
    }
}

impl<S, C> TlsStream<S, C> {
    /// The buffer memory the stream holds now, in bytes (ciphertext in and out, decrypted
    /// plaintext not yet read); drained buffers are given back before each blocking read.
    pub fn buffered_bytes(&self) -> usize {
        self.buffers.capacity()
    }

    /// The security context (queries: connection info, ALPN, peer certificates, ...).
    pub fn context(&self) -> &C {
        &self.context
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.io
    }

    /// The transport, mutably (reading or writing it directly corrupts the stream).
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    /// The security context, mutably (to shut down or query it; its tokens must go
    /// through the stream, or the stream loses track of the connection).
    pub fn context_mut(&mut self) -> &mut C {
        &mut self.context
    }

    /// The transport, giving up TLS: ciphertext received and not yet decrypted, and
    /// ciphertext not yet sent, are lost. Call [`TlsStream::shutdown`] first.
    pub fn into_inner(self) -> S {
        self.io
    }

    /// The transport and the context.
    pub fn into_parts(self) -> (S, C) {
        (self.io, self.context)
    }
}

impl<S: Read + Write, C: SecurityContext> Read for TlsStream<S, C> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.buffers.take_deferred()?;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.buffers.read_plaintext(buf);
            if n > 0 {
                return Ok(n);
            }
            if self.buffers.peer_closed {
                return Ok(0);
            }
            let need = self.buffers.decrypt(&mut self.context);
            self.send_all()?;
            match need.map_err(io_error)? {
                Need::Ready => continue,
                Need::Input => {
                    if self.fill()? == 0 {
                        return Err(eof_without_close_notify());
                    }
                }
            }
        }
    }
}

impl<S: Read + Write, C: SecurityContext> Write for TlsStream<S, C> {
    /// Encrypts up to 64 KiB of `buf` and sends it. rustls' `Stream` rule: once the
    /// plaintext is encrypted the call returns `Ok(n)`, whatever the transport then says;
    /// ciphertext the transport did not take waits for the next `write` or `flush`, and a
    /// transport error surfaces on the next call. So retrying after `WouldBlock`,
    /// `Interrupted` or `TimedOut` never sends the same bytes twice.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffers.take_deferred()?;
        // Earlier ciphertext first: an error here accepted nothing of `buf`.
        self.send_all()?;
        let n = buf.len().min(MAX_WRITE);
        self.context
            .encrypt(&buf[..n], &mut self.buffers.outgoing)
            .map_err(io_error)?;
        if let Err(e) = self.send_all() {
            self.buffers.defer(e);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.buffers.take_deferred()?;
        self.send_all()?;
        self.io.flush()
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
