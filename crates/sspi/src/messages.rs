//! EncryptMessage and DecryptMessage with Schannel's stream buffers.
//!
//! EncryptMessage takes SECBUFFER_STREAM_HEADER (at least cbHeader bytes), SECBUFFER_DATA
//! (the plaintext, at most cbMaximumMessage, encrypted in place) and
//! SECBUFFER_STREAM_TRAILER (at least cbTrailer); the record is the three buffers'
//! bytes in that order (header, data and trailer lengths are set to what the record
//! uses), so a program that allocates them contiguously sends one block.
//!
//! DecryptMessage takes the received bytes in a SECBUFFER_DATA buffer and three
//! SECBUFFER_EMPTY ones. On SEC_E_OK the first four buffers become STREAM_HEADER, DATA
//! (the plaintext, decrypted in place), STREAM_TRAILER and, when bytes are left over,
//! SECBUFFER_EXTRA (hand them to the next call). SEC_E_INCOMPLETE_MESSAGE marks the
//! first empty buffer SECBUFFER_MISSING with the bytes still lacking; the caller reads
//! more and calls again with all of it. SEC_I_CONTEXT_EXPIRED: the peer sent
//! close_notify. As on Windows, one call decrypts one record of application data;
//! records without any (TLS 1.3 session tickets and key updates) are read through in the
//! same call, which returns SEC_E_OK with an empty DATA buffer when they were all it
//! held: Windows returns SEC_I_RENEGOTIATE for them (a documented difference). rustls
//! answers a requested key update with the next record written, so no call has produced
//! TLS bytes to send; should one, SEC_I_RENEGOTIATE is returned and the next
//! InitializeSecurityContext / AcceptSecurityContext (with the extra bytes as its input
//! token) gives them as its token.

use crate::abi::*;
use crate::ffi::{buffers, bytes_mut, guard, kind, record_end};
use crate::handles;
use securechannel::DecryptStatus;
use securechannel_events::Status;

/// Length of a TLS record header.
const HEADER: usize = 5;

/// EncryptMessage: one TLS record of the DATA buffer (see the module docs). `fQOP` must
/// be 0 (SECQOP_WRAP_NO_ENCRYPT is not available: SEC_E_UNSUPPORTED_FUNCTION).
///
/// # Safety
/// `context` is null or a SecHandle; `message` null or a valid descriptor whose
/// buffers are writable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn EncryptMessage(
    context: *mut SecHandle,
    qop: ULONG,
    message: *mut SecBufferDesc,
    _seq: ULONG,
) -> SECURITY_STATUS {
    guard(|| {
        if context.is_null() {
            return Err(Status::InvalidHandle);
        }
        // SAFETY: non-null, a SecHandle by the contract.
        let entry = handles::context(unsafe { &*context })?;
        if qop != 0 {
            return Err(Status::UnsupportedFunction);
        }
        // SAFETY: the contract: null or valid.
        let b = unsafe { buffers(message) }?.ok_or(Status::InvalidParameter)?;
        let find = |t: u32| {
            b.iter()
                .position(|x| kind(x) == t)
                .ok_or(Status::InvalidToken)
        };
        let (h, d, t) = (
            find(SECBUFFER_STREAM_HEADER)?,
            find(SECBUFFER_DATA)?,
            find(SECBUFFER_STREAM_TRAILER)?,
        );
        let mut ctx = entry.lock().unwrap_or_else(|e| e.into_inner());
        let sizes = ctx.stream_sizes().map_err(|e| e.status())?;
        if b[d].cbBuffer as usize > sizes.max_message {
            return Err(Status::InvalidParameter);
        }
        // SAFETY: the caller's buffers, writable for their lengths (the contract).
        let (header, data, trailer) =
            unsafe { (bytes_mut(&b[h])?, bytes_mut(&b[d])?, bytes_mut(&b[t])?) };
        if header.len() < HEADER {
            return Err(Status::BufferTooSmall);
        }
        let plaintext = data.to_vec();
        let mut record = Vec::with_capacity(plaintext.len() + HEADER + sizes.trailer);
        ctx.tls
            .get()
            .encrypt(&plaintext, &mut record)
            .map_err(|e| e.status())?;
        if record.is_empty() {
            b[h].cbBuffer = 0;
            b[t].cbBuffer = 0;
            return Ok(Status::Ok);
        }
        let n = plaintext.len();
        let rest = record
            .len()
            .checked_sub(HEADER + n)
            .ok_or(Status::InternalError)?;
        if rest > trailer.len() {
            return Err(Status::BufferTooSmall);
        }
        header[..HEADER].copy_from_slice(&record[..HEADER]);
        data.copy_from_slice(&record[HEADER..HEADER + n]);
        trailer[..rest].copy_from_slice(&record[HEADER + n..]);
        b[h].cbBuffer = HEADER as ULONG;
        b[t].cbBuffer = rest as ULONG;
        Ok(Status::Ok)
    })
}

/// DecryptMessage (see the module docs).
///
/// # Safety
/// `context` is null or a SecHandle; `message` null or a valid descriptor whose DATA
/// buffer is writable for its length; `qop` null or writable.
#[no_mangle]
pub unsafe extern "C" fn DecryptMessage(
    context: *mut SecHandle,
    message: *mut SecBufferDesc,
    _seq: ULONG,
    qop: *mut ULONG,
) -> SECURITY_STATUS {
    guard(|| {
        if context.is_null() {
            return Err(Status::InvalidHandle);
        }
        // SAFETY: non-null, a SecHandle by the contract.
        let entry = handles::context(unsafe { &*context })?;
        // SAFETY: the contract: null or valid.
        let b = unsafe { buffers(message) }?.ok_or(Status::InvalidParameter)?;
        if b.len() < 4 {
            return Err(Status::InvalidToken);
        }
        let d = b
            .iter()
            .position(|x| kind(x) == SECBUFFER_DATA)
            .ok_or(Status::InvalidToken)?;
        // SAFETY: the caller's data buffer, writable for its length (the contract).
        let input = unsafe { bytes_mut(&b[d]) }?;
        let base = b[d].pvBuffer.cast::<u8>();
        let total = input.len();
        // SAFETY: `qop` null or writable; Schannel always reports 0.
        unsafe { crate::ffi::put(qop, 0) };
        let mut ctx = entry.lock().unwrap_or_else(|e| e.into_inner());
        if !ctx.pending_out.is_empty() {
            // The answer of an earlier post-handshake message is still to be fetched.
            set_extra_only(b, base, total);
            return Ok(Status::Renegotiate);
        }
        // One record at a time: a record that yields plaintext (or close_notify) ends
        // the call, the records after it are the caller's extra; records without
        // application data (a session ticket) are read on.
        let mut plaintext = Vec::new();
        let mut consumed = 0;
        let mut fed = record_end(input, 0).unwrap_or(total);
        let outcome = loop {
            let r = ctx
                .tls
                .get()
                .decrypt(&mut input[consumed..fed], &mut plaintext)
                .map_err(|e| e.status())?;
            consumed += r.consumed;
            match r.status {
                DecryptStatus::IncompleteMessage { .. } if fed < total => {
                    fed = record_end(input, fed).unwrap_or(total);
                }
                s => break s,
            }
        };
        let mut answer = Vec::new();
        ctx.tls.get().take_output(&mut answer);
        let renegotiate = !answer.is_empty();
        ctx.pending_out.append(&mut answer);
        drop(ctx);
        let status = match outcome {
            DecryptStatus::IncompleteMessage { missing } if consumed == 0 => {
                if let Some(m) = b.iter_mut().find(|x| kind(x) == SECBUFFER_EMPTY) {
                    m.BufferType = SECBUFFER_MISSING;
                    m.cbBuffer = missing.unwrap_or(HEADER.saturating_sub(total).max(1)) as ULONG;
                }
                return Ok(Status::IncompleteMessage);
            }
            DecryptStatus::PeerClosed => Status::ContextExpiredInfo,
            _ if renegotiate && plaintext.is_empty() => Status::Renegotiate,
            // Data, or records that held no application data (a session ticket) and the
            // start of the next one: OK, the rest is extra.
            _ => Status::Ok,
        };
        let p = plaintext.len();
        let head = HEADER.min(consumed);
        if head + p > consumed {
            return Err(Status::InternalError);
        }
        input[head..head + p].copy_from_slice(&plaintext);
        // SAFETY: every pointer below stays within the caller's data buffer
        // (`head + p <= consumed <= total`).
        let at = |off: usize| unsafe { base.add(off) }.cast();
        b[0] = SecBuffer {
            cbBuffer: head as ULONG,
            BufferType: SECBUFFER_STREAM_HEADER,
            pvBuffer: at(0),
        };
        b[1] = SecBuffer {
            cbBuffer: p as ULONG,
            BufferType: SECBUFFER_DATA,
            pvBuffer: at(head),
        };
        b[2] = SecBuffer {
            cbBuffer: (consumed - head - p) as ULONG,
            BufferType: SECBUFFER_STREAM_TRAILER,
            pvBuffer: at(head + p),
        };
        b[3] = if consumed < total {
            SecBuffer {
                cbBuffer: (total - consumed) as ULONG,
                BufferType: SECBUFFER_EXTRA,
                pvBuffer: at(consumed),
            }
        } else {
            SecBuffer {
                cbBuffer: 0,
                BufferType: SECBUFFER_EMPTY,
                pvBuffer: std::ptr::null_mut(),
            }
        };
        Ok(status)
    })
}

/// Nothing was used: the whole input comes back as SECBUFFER_EXTRA.
fn set_extra_only(b: &mut [SecBuffer], base: *mut u8, total: usize) {
    b[0] = SecBuffer {
        cbBuffer: 0,
        BufferType: SECBUFFER_STREAM_HEADER,
        pvBuffer: base.cast(),
    };
    b[1] = SecBuffer {
        cbBuffer: 0,
        BufferType: SECBUFFER_DATA,
        pvBuffer: base.cast(),
    };
    b[2] = SecBuffer {
        cbBuffer: 0,
        BufferType: SECBUFFER_STREAM_TRAILER,
        pvBuffer: base.cast(),
    };
    b[3] = if total > 0 {
        SecBuffer {
            cbBuffer: total as ULONG,
            BufferType: SECBUFFER_EXTRA,
            pvBuffer: base.cast(),
        }
    } else {
        SecBuffer {
            cbBuffer: 0,
            BufferType: SECBUFFER_EMPTY,
            pvBuffer: std::ptr::null_mut(),
        }
    };
}
