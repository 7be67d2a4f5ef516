//! What every export shares: the panic barrier, and reading the caller's strings and
//! buffer descriptors (null pointers and impossible counts are refused here, before any
//! export looks at them).

use crate::abi::{SecBuffer, SecBufferDesc, SECURITY_STATUS, WCHAR};
use securechannel_events::Status;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A failed call: the status it returns.
pub(crate) type Failed = Status;

/// Run an export's body: its status, or SEC_E_INTERNAL_ERROR when it panicked (a panic
/// never unwinds into C).
pub(crate) fn guard(body: impl FnOnce() -> Result<Status, Failed>) -> SECURITY_STATUS {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(s)) | Ok(Err(s)) => s.code() as SECURITY_STATUS,
        Err(_) => Status::InternalError.code() as SECURITY_STATUS,
    }
}

/// [`guard`] for the crypt32 exports, which return a value (a pointer, a BOOL) and
/// `fallback` on failure or panic.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> Option<T>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Some(v)) => v,
        Ok(None) | Err(_) => fallback,
    }
}

/// The most buffers a descriptor may name: Schannel's calls use at most four or five;
/// a larger count is a corrupt descriptor, not a request.
const MAX_BUFFERS: u32 = 64;

/// A NUL-terminated narrow string (UTF-8 or ASCII) of at most `max` bytes; `None` when
/// `p` is null.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string readable up to its NUL (or `max`).
pub(crate) unsafe fn narrow(p: *const u8, max: usize) -> Result<Option<String>, Failed> {
    if p.is_null() {
        return Ok(None);
    }
    let mut len = 0;
    // SAFETY: the caller guarantees the string is readable up to its NUL; we stop there
    // (or at `max`).
    while len < max && unsafe { *p.add(len) } != 0 {
        len += 1;
    }
    if len == max {
        return Err(Status::InvalidParameter);
    }
    // SAFETY: `len` bytes from `p` were just read.
    let bytes = unsafe { std::slice::from_raw_parts(p, len) };
    String::from_utf8(bytes.to_vec())
        .map(Some)
        .map_err(|_| Status::InvalidParameter)
}

/// A NUL-terminated UTF-16 string of at most `max` units; `None` when `p` is null.
///
/// # Safety
/// `p` is null or points to a NUL-terminated UTF-16 string readable up to its NUL.
pub(crate) unsafe fn wide(p: *const WCHAR, max: usize) -> Result<Option<String>, Failed> {
    if p.is_null() {
        return Ok(None);
    }
    let mut len = 0;
    // SAFETY: as for `narrow`, two bytes per unit (WCHAR is aligned by its C type).
    while len < max && unsafe { *p.add(len) } != 0 {
        len += 1;
    }
    if len == max {
        return Err(Status::InvalidParameter);
    }
    // SAFETY: `len` units from `p` were just read.
    let units = unsafe { std::slice::from_raw_parts(p, len) };
    String::from_utf16(units)
        .map(Some)
        .map_err(|_| Status::InvalidParameter)
}

/// The buffers of a descriptor, as a mutable slice; `None` when `desc` is null.
///
/// # Safety
/// `desc` is null or points to a valid SecBufferDesc whose `pBuffers` holds `cBuffers`
/// SecBuffers, not used elsewhere during the returned borrow.
pub(crate) unsafe fn buffers<'a>(
    desc: *mut SecBufferDesc,
) -> Result<Option<&'a mut [SecBuffer]>, Failed> {
    if desc.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null, and the caller guarantees it is a SecBufferDesc.
    let d = unsafe { &*desc };
    if d.cBuffers > MAX_BUFFERS {
        return Err(Status::InvalidParameter);
    }
    if d.cBuffers == 0 {
        return Ok(Some(&mut []));
    }
    if d.pBuffers.is_null() {
        return Err(Status::InvalidParameter);
    }
    // SAFETY: the caller guarantees pBuffers holds cBuffers buffers; checked non-null.
    Ok(Some(unsafe {
        std::slice::from_raw_parts_mut(d.pBuffers, d.cBuffers as usize)
    }))
}

/// The type of a buffer, without its attribute bits (SECBUFFER_READONLY, ...).
pub(crate) fn kind(b: &SecBuffer) -> u32 {
    b.BufferType & !crate::abi::SECBUFFER_ATTRMASK
}

/// The bytes of a buffer (empty when it has none).
///
/// # Safety
/// `b.pvBuffer` is null or points to `b.cbBuffer` writable bytes not used elsewhere during
/// the borrow.
pub(crate) unsafe fn bytes_mut<'a>(b: &SecBuffer) -> Result<&'a mut [u8], Failed> {
    if b.cbBuffer == 0 {
        return Ok(&mut []);
    }
    if b.pvBuffer.is_null() {
        return Err(Status::InvalidParameter);
    }
    // SAFETY: the caller guarantees cbBuffer writable bytes at pvBuffer; checked non-null.
    Ok(unsafe { std::slice::from_raw_parts_mut(b.pvBuffer.cast::<u8>(), b.cbBuffer as usize) })
}

/// Write `value` through an out-pointer the caller may have left null.
///
/// # Safety
/// `p` is null or valid for a write of `T`.
pub(crate) unsafe fn put<T>(p: *mut T, value: T) {
    if !p.is_null() {
        // SAFETY: non-null and, by the caller's contract, writable.
        unsafe { p.write(value) };
    }
}

/// The end of the TLS record starting at `at` (at most `input.len()`), if its 5-byte
/// header is there. The handshake and DecryptMessage give the provider one record at a
/// time, so that what follows the record that ends a step stays the caller's
/// SECBUFFER_EXTRA, as Schannel leaves it.
pub(crate) fn record_end(input: &[u8], at: usize) -> Option<usize> {
    let h = input.get(at..at + 5)?;
    Some((at + 5 + usize::from(u16::from_be_bytes([h[3], h[4]]))).min(input.len()))
}
