//! InitializeSecurityContextA/W, AcceptSecurityContext, DeleteSecurityContext,
//! ApplyControlToken and QueryContextAttributesA/W over the provider's
//! [`ClientContext`] / [`ServerContext`].
//!
//! The handshake calls follow Schannel's buffer contract: the input token is
//! `pInput->pBuffers[0]` (SECBUFFER_TOKEN), `pBuffers[1]` (SECBUFFER_EMPTY) comes back as
//! SECBUFFER_EXTRA (bytes not used: the caller moves them to the front of its next input)
//! or SECBUFFER_MISSING (SEC_E_INCOMPLETE_MESSAGE: how many bytes the record in progress
//! still lacks; the caller reads more and calls again with the whole buffer). The output
//! token is `pOutput->pBuffers[0]`, allocated with ISC_REQ_ALLOCATE_MEMORY /
//! ASC_REQ_ALLOCATE_MEMORY (freed with FreeContextBuffer) or copied into the caller's.
//! On failure, the fatal alert (if any) is the output token, as Schannel gives it with
//! ISC_REQ_EXTENDED_ERROR; without it, a SECBUFFER_ALERT output buffer (after the token)
//! receives the alert instead. A SECBUFFER_APPLICATION_PROTOCOLS buffer in the first call's
//! input offers (client) or accepts (server) application protocols (ALPN).
//!
//! The provider is given the input one TLS record at a time and is not given the
//! records after the one that completes the handshake: those (application data sent
//! right behind the last flight) come back as SECBUFFER_EXTRA for DecryptMessage, as
//! Schannel returns them.

use crate::abi::*;
use crate::ffi::{buffers, bytes_mut, guard, kind, narrow, put, record_end, wide, Failed};
use crate::handles::{self, Credential};
use crate::{crypt32, package, runtime};
use securechannel::{
    ClientContext, ContextOptions, Error, Protocol, Role, SecurityContext, ServerContext,
    StepStatus,
};
use securechannel_events::{AlertDescription, Status};
use std::ffi::c_void;

/// What SecInvalidateHandle writes.
const INVALID_HANDLE: SecHandle = SecHandle {
    dwLower: usize::MAX,
    dwUpper: usize::MAX,
};

/// A context's TLS side.
pub(crate) enum Tls {
    Client(ClientContext),
    Server(ServerContext),
}

impl Tls {
    pub(crate) fn get(&mut self) -> &mut dyn SecurityContext {
        match self {
            Tls::Client(c) => c,
            Tls::Server(s) => s,
        }
    }
}

/// A security context handed to C.
pub(crate) struct Context {
    pub(crate) tls: Tls,
    /// TLS bytes a post-handshake message made (a key update's answer): DecryptMessage
    /// returned SEC_I_RENEGOTIATE, the next InitializeSecurityContext /
    /// AcceptSecurityContext returns them as its token.
    pub(crate) pending_out: Vec<u8>,
    /// ApplyControlToken(SCHANNEL_SHUTDOWN): the next handshake call makes close_notify.
    shutdown: bool,
    /// The credential leaves the server's certificate to the program
    /// (SCH_CRED_MANUAL_CRED_VALIDATION).
    manual: bool,
}

impl Context {
    fn new(tls: Tls, manual: bool) -> Context {
        Context {
            tls,
            pending_out: Vec::new(),
            shutdown: false,
            manual,
        }
    }

    fn role(&self) -> Role {
        match self.tls {
            Tls::Client(_) => Role::Client,
            Tls::Server(_) => Role::Server,
        }
    }

    pub(crate) fn stream_sizes(&self) -> Result<securechannel::StreamSizes, Error> {
        match &self.tls {
            Tls::Client(c) => c.stream_sizes(),
            Tls::Server(s) => s.stream_sizes(),
        }
    }
}

/// What a handshake call came to.
struct Outcome {
    status: Status,
    token: Vec<u8>,
    /// Input bytes not used (SECBUFFER_EXTRA).
    extra: usize,
    /// SECBUFFER_MISSING, with SEC_E_INCOMPLETE_MESSAGE.
    missing: Option<usize>,
}

/// One handshake call on `ctx` with `input`.
fn handshake(ctx: &mut Context, input: &mut [u8]) -> Outcome {
    let total = input.len();
    let mut token = Vec::new();
    if ctx.shutdown {
        ctx.shutdown = false;
        let r = ctx.tls.get().shutdown(&mut token);
        return Outcome {
            status: r.err().map_or(Status::Ok, |e| e.status()),
            token,
            extra: 0,
            missing: None,
        };
    }
    if ctx.tls.get().is_complete() {
        // The answer a post-handshake message needs (SEC_I_RENEGOTIATE); the input is
        // application data the caller hands back to DecryptMessage.
        token.append(&mut ctx.pending_out);
        return Outcome {
            status: Status::Ok,
            token,
            extra: total,
            missing: None,
        };
    }
    let mut pos = 0;
    let mut fed = record_end(input, 0).unwrap_or(total);
    loop {
        let step = match ctx.tls.get().step(&mut input[pos..fed], &mut token) {
            Ok(s) => s,
            Err(e) => {
                return Outcome {
                    status: e.status(),
                    token,
                    extra: 0,
                    missing: None,
                }
            }
        };
        pos += step.consumed;
        match step.status {
            StepStatus::Complete => {
                return Outcome {
                    status: Status::Ok,
                    token,
                    extra: total - pos,
                    missing: None,
                }
            }
            _ if fed < total => {
                fed = record_end(input, fed).unwrap_or(total);
            }
            StepStatus::IncompleteMessage { missing } if pos == 0 && token.is_empty() => {
                return Outcome {
                    status: Status::IncompleteMessage,
                    token,
                    extra: 0,
                    missing: Some(missing.unwrap_or(5usize.saturating_sub(total).max(1))),
                }
            }
            // Records were used (or output made) and more is needed: what is left is
            // extra, and the caller reads more after it.
            _ => {
                return Outcome {
                    status: Status::ContinueNeeded,
                    token,
                    extra: total - pos,
                    missing: None,
                }
            }
        }
    }
}

/// Write a call's outcome into the caller's buffers; the status the call returns.
///
/// # Safety
/// `input` / `output` are the caller's descriptors' buffers (see [`buffers`]).
unsafe fn deliver(
    outcome: Outcome,
    input: Option<&mut [SecBuffer]>,
    output: Option<&mut [SecBuffer]>,
    allocate: bool,
    extended: bool,
) -> Status {
    // SECBUFFER_EXTRA / SECBUFFER_MISSING go where Schannel puts them: pBuffers[1], or
    // the first empty buffer when [1] holds the application protocols.
    let slot = input.and_then(|inb| {
        let i = match inb.get(1).map(kind) {
            Some(SECBUFFER_TOKEN | SECBUFFER_APPLICATION_PROTOCOLS) => {
                inb.iter()
                    .skip(1)
                    .position(|b| kind(b) == SECBUFFER_EMPTY)?
                    + 1
            }
            Some(_) => 1,
            None => return None,
        };
        inb.get_mut(i)
    });
    if let Some(b) = slot {
        *b = match (outcome.extra, outcome.missing) {
            (e, _) if e > 0 => SecBuffer {
                cbBuffer: e as ULONG,
                BufferType: SECBUFFER_EXTRA,
                pvBuffer: std::ptr::null_mut(),
            },
            (_, Some(m)) => SecBuffer {
                cbBuffer: m as ULONG,
                BufferType: SECBUFFER_MISSING,
                pvBuffer: std::ptr::null_mut(),
            },
            _ => SecBuffer {
                cbBuffer: 0,
                BufferType: SECBUFFER_EMPTY,
                pvBuffer: std::ptr::null_mut(),
            },
        };
    }
    let mut output = output;
    let mut outcome = outcome;
    // SECBUFFER_ALERT (an output buffer after the token, as curl passes one): without
    // *_REQ_EXTENDED_ERROR the alert of a failed call goes there instead of the token.
    if outcome.status.is_error() && !outcome.token.is_empty() && !extended {
        if let Some(alert) = output
            .as_deref_mut()
            .and_then(|o| o.iter_mut().skip(1).find(|b| kind(b) == SECBUFFER_ALERT))
        {
            let token = std::mem::take(&mut outcome.token);
            if allocate {
                alert.pvBuffer = package::allocate_copy(&token).cast();
                alert.cbBuffer = token.len() as ULONG;
            } else {
                // SAFETY: the caller's alert buffer (contract of the export).
                match unsafe { bytes_mut(alert) } {
                    Ok(room) if room.len() >= token.len() => {
                        room[..token.len()].copy_from_slice(&token);
                        alert.cbBuffer = token.len() as ULONG;
                    }
                    _ => alert.cbBuffer = 0,
                }
            }
        }
    }
    let Some(out) = output.and_then(|o| o.first_mut()) else {
        return if outcome.token.is_empty() {
            outcome.status
        } else {
            Status::InvalidParameter
        };
    };
    out.BufferType = SECBUFFER_TOKEN;
    if allocate {
        if outcome.token.is_empty() {
            out.pvBuffer = std::ptr::null_mut();
            out.cbBuffer = 0;
        } else {
            out.pvBuffer = package::allocate_copy(&outcome.token).cast();
            out.cbBuffer = outcome.token.len() as ULONG;
        }
        return outcome.status;
    }
    // SAFETY: the caller's output buffer (contract of the export).
    let room = match unsafe { bytes_mut(out) } {
        Ok(r) => r,
        Err(s) => return s,
    };
    if room.len() < outcome.token.len() {
        // The step has happened; its token cannot be given: the context cannot go on.
        out.cbBuffer = 0;
        return Status::InsufficientMemory;
    }
    room[..outcome.token.len()].copy_from_slice(&outcome.token);
    out.cbBuffer = outcome.token.len() as ULONG;
    outcome.status
}

/// The application protocols of a SECBUFFER_APPLICATION_PROTOCOLS buffer (ALPN lists
/// only), in preference order; none without such a buffer.
fn alpn_of(input: &Option<&mut [SecBuffer]>) -> Result<Vec<Vec<u8>>, Failed> {
    let Some(b) = input.as_deref().and_then(|b| {
        b.iter()
            .find(|b| kind(b) == SECBUFFER_APPLICATION_PROTOCOLS)
    }) else {
        return Ok(Vec::new());
    };
    // SAFETY: the caller's buffer (contract of the export).
    let bytes = unsafe { bytes_mut(b) }?;
    let bad = || Status::InvalidToken;
    let total = bytes.get(..4).ok_or_else(bad)?;
    let total = u32::from_ne_bytes([total[0], total[1], total[2], total[3]]) as usize;
    let mut lists = bytes.get(4..4 + total).ok_or_else(bad)?;
    let mut protocols = Vec::new();
    while !lists.is_empty() {
        let head = lists.get(..6).ok_or_else(bad)?;
        let ext = u32::from_ne_bytes([head[0], head[1], head[2], head[3]]);
        let size = usize::from(u16::from_ne_bytes([head[4], head[5]]));
        let mut wire = lists.get(6..6 + size).ok_or_else(bad)?;
        lists = &lists[6 + size..];
        if ext != SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT_ALPN {
            // NPN is not spoken here.
            return Err(Status::UnsupportedFunction);
        }
        while let Some((&n, rest)) = wire.split_first() {
            let name = rest
                .get(..usize::from(n))
                .filter(|p| !p.is_empty())
                .ok_or_else(bad)?;
            protocols.push(name.to_vec());
            wire = &rest[usize::from(n)..];
        }
    }
    Ok(protocols)
}

/// The input token of a handshake call: `pBuffers[0]` when it is a SECBUFFER_TOKEN.
fn token_of(input: &mut Option<&mut [SecBuffer]>) -> Result<Vec<u8>, Failed> {
    let Some(b) = input.as_deref_mut().and_then(|b| b.first()) else {
        return Ok(Vec::new());
    };
    if kind(b) != SECBUFFER_TOKEN {
        return match kind(b) {
            SECBUFFER_EMPTY | SECBUFFER_APPLICATION_PROTOCOLS => Ok(Vec::new()),
            _ => Err(Status::InvalidToken),
        };
    }
    // SAFETY: the caller's input token (contract of the export).
    Ok(unsafe { bytes_mut(b) }?.to_vec())
}

/// The common body of InitializeSecurityContextA/W.
///
/// # Safety
/// The export's contract.
#[allow(clippy::too_many_arguments)]
unsafe fn initialize(
    credential: *mut SecHandle,
    context: *mut SecHandle,
    target: Option<String>,
    flags: ULONG,
    input: *mut SecBufferDesc,
    new_context: *mut SecHandle,
    output: *mut SecBufferDesc,
    attributes: *mut ULONG,
    expiry: *mut TimeStamp,
) -> Result<Status, Failed> {
    if flags & ISC_REQ_DATAGRAM != 0 {
        // DTLS is not spoken here.
        return Err(Status::UnsupportedFunction);
    }
    // SAFETY: the export's contract: descriptors are null or valid.
    let mut inb = unsafe { buffers(input) }?;
    // SAFETY: as above.
    let outb = unsafe { buffers(output) }?;
    let allocate = flags & ISC_REQ_ALLOCATE_MEMORY != 0;
    let entry = if context.is_null() {
        if credential.is_null() || new_context.is_null() {
            return Err(Status::InvalidHandle);
        }
        // SAFETY: non-null, a SecHandle by the contract.
        let Credential::Client(cred) = handles::credential(unsafe { &*credential })? else {
            // An inbound credential cannot initialize.
            return Err(Status::UnknownCredentials);
        };
        let manual = cred.options().dangerous_manual_validation;
        if flags & ISC_REQ_MANUAL_CRED_VALIDATION != 0 && !manual {
            // Validation is the credential's here: acquire it with
            // SCH_CRED_MANUAL_CRED_VALIDATION.
            return Err(Status::UnsupportedFunction);
        }
        let target = target
            .filter(|t| !t.is_empty())
            .ok_or(Status::TargetUnknown)?;
        let options = ContextOptions::default().with_alpn(alpn_of(&inb)?);
        let c = ClientContext::new(&cred, &target, options).map_err(|e| e.status())?;
        let handle = handles::add_context(Context::new(Tls::Client(c), manual));
        // SAFETY: checked non-null.
        unsafe { put(new_context, handle) };
        handles::context(&handle)?
    } else {
        // SAFETY: non-null, a SecHandle by the contract.
        let h = unsafe { *context };
        if !new_context.is_null() {
            // SAFETY: non-null; the same handle comes back.
            unsafe { put(new_context, h) };
        }
        handles::context(&h)?
    };
    let mut ctx = entry.lock().unwrap_or_else(|e| e.into_inner());
    if ctx.role() != Role::Client {
        return Err(Status::InvalidHandle);
    }
    let mut bytes = token_of(&mut inb)?;
    let outcome = handshake(&mut ctx, &mut bytes);
    let manual = ctx.manual;
    drop(ctx);
    let mut ret = RET_TLS | ISC_RET_STREAM;
    if allocate {
        ret |= ISC_RET_ALLOCATED_MEMORY;
    }
    if flags & ISC_REQ_EXTENDED_ERROR != 0 {
        ret |= ISC_RET_EXTENDED_ERROR;
    }
    if manual {
        ret |= ISC_RET_MANUAL_CRED_VALIDATION;
    }
    // SAFETY: out-parameters, null or writable.
    unsafe {
        put(attributes, ret);
        put(expiry, crate::credentials::NEVER);
    }
    // SAFETY: the caller's buffers.
    Ok(unsafe {
        deliver(
            outcome,
            inb,
            outb,
            allocate,
            flags & ISC_REQ_EXTENDED_ERROR != 0,
        )
    })
}

/// InitializeSecurityContextA: the client's handshake step (see the module docs).
///
/// # Safety
/// The pointers are null or valid as InitializeSecurityContext documents them.
#[no_mangle]
pub unsafe extern "C" fn InitializeSecurityContextA(
    credential: *mut SecHandle,
    context: *mut SecHandle,
    target: *const u8,
    flags: ULONG,
    _reserved1: ULONG,
    _data_rep: ULONG,
    input: *mut SecBufferDesc,
    _reserved2: ULONG,
    new_context: *mut SecHandle,
    output: *mut SecBufferDesc,
    attributes: *mut ULONG,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS {
    guard(|| {
        // SAFETY: the export's contract.
        let target = unsafe { narrow(target, 1024) }?;
        // SAFETY: the export's contract.
        unsafe {
            initialize(
                credential,
                context,
                target,
                flags,
                input,
                new_context,
                output,
                attributes,
                expiry,
            )
        }
    })
}

/// InitializeSecurityContextW (UTF-16 target name).
///
/// # Safety
/// As [`InitializeSecurityContextA`].
#[no_mangle]
pub unsafe extern "C" fn InitializeSecurityContextW(
    credential: *mut SecHandle,
    context: *mut SecHandle,
    target: *const WCHAR,
    flags: ULONG,
    _reserved1: ULONG,
    _data_rep: ULONG,
    input: *mut SecBufferDesc,
    _reserved2: ULONG,
    new_context: *mut SecHandle,
    output: *mut SecBufferDesc,
    attributes: *mut ULONG,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS {
    guard(|| {
        // SAFETY: the export's contract.
        let target = unsafe { wide(target, 1024) }?;
        // SAFETY: the export's contract.
        unsafe {
            initialize(
                credential,
                context,
                target,
                flags,
                input,
                new_context,
                output,
                attributes,
                expiry,
            )
        }
    })
}

/// AcceptSecurityContext: the server's handshake step (see the module docs).
/// ASC_REQ_MUTUAL_AUTH (on the first call) asks the client for a certificate; the
/// client may send none (then SECPKG_ATTR_REMOTE_CERT_CONTEXT is SEC_E_NO_CREDENTIALS).
///
/// # Safety
/// The pointers are null or valid as AcceptSecurityContext documents them.
#[no_mangle]
pub unsafe extern "C" fn AcceptSecurityContext(
    credential: *mut SecHandle,
    context: *mut SecHandle,
    input: *mut SecBufferDesc,
    flags: ULONG,
    _data_rep: ULONG,
    new_context: *mut SecHandle,
    output: *mut SecBufferDesc,
    attributes: *mut ULONG,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS {
    guard(|| {
        if flags & ASC_REQ_DATAGRAM != 0 {
            // DTLS is not spoken here.
            return Err(Status::UnsupportedFunction);
        }
        // SAFETY: the export's contract: descriptors are null or valid.
        let mut inb = unsafe { buffers(input) }?;
        // SAFETY: as above.
        let outb = unsafe { buffers(output) }?;
        let allocate = flags & ASC_REQ_ALLOCATE_MEMORY != 0;
        let created = context.is_null();
        let entry = if created {
            if credential.is_null() || new_context.is_null() {
                return Err(Status::InvalidHandle);
            }
            // SAFETY: non-null, a SecHandle by the contract.
            let Credential::Server(entry) = handles::credential(unsafe { &*credential })? else {
                return Err(Status::UnknownCredentials);
            };
            let cred = entry.for_request(flags & ASC_REQ_MUTUAL_AUTH != 0)?;
            let options = ContextOptions::default().with_alpn(alpn_of(&inb)?);
            let s = ServerContext::new(&cred, options).map_err(|e| e.status())?;
            let handle = handles::add_context(Context::new(Tls::Server(s), false));
            // SAFETY: checked non-null.
            unsafe { put(new_context, handle) };
            handles::context(&handle)?
        } else {
            // SAFETY: non-null, a SecHandle by the contract.
            let h = unsafe { *context };
            if !new_context.is_null() {
                // SAFETY: non-null; the same handle comes back.
                unsafe { put(new_context, h) };
            }
            handles::context(&h)?
        };
        let mut ctx = entry.lock().unwrap_or_else(|e| e.into_inner());
        if ctx.role() != Role::Server {
            return Err(Status::InvalidHandle);
        }
        let mut bytes = token_of(&mut inb)?;
        let outcome = handshake(&mut ctx, &mut bytes);
        drop(ctx);
        if created && outcome.status == Status::IncompleteMessage {
            // As on Windows, a first call that lacks bytes makes no context: the caller
            // calls again without one.
            // SAFETY: `new_context` was checked non-null when the context was made.
            let h = unsafe { *new_context };
            let _ = handles::remove_context(&h);
            // SAFETY: as above.
            unsafe { put(new_context, INVALID_HANDLE) };
        }
        let mut ret = RET_TLS | ASC_RET_STREAM;
        if allocate {
            ret |= ASC_RET_ALLOCATED_MEMORY;
        }
        if flags & ASC_REQ_EXTENDED_ERROR != 0 {
            ret |= ASC_RET_EXTENDED_ERROR;
        }
        // SAFETY: out-parameters, null or writable.
        unsafe {
            put(attributes, ret);
            put(expiry, crate::credentials::NEVER);
        }
        // SAFETY: the caller's buffers.
        Ok(unsafe {
            deliver(
                outcome,
                inb,
                outb,
                allocate,
                flags & ASC_REQ_EXTENDED_ERROR != 0,
            )
        })
    })
}

/// DeleteSecurityContext. The context's events are on disk when it returns.
///
/// # Safety
/// `context` is null or points to a SecHandle.
#[no_mangle]
pub unsafe extern "C" fn DeleteSecurityContext(context: *mut SecHandle) -> SECURITY_STATUS {
    guard(|| {
        if context.is_null() {
            return Err(Status::InvalidHandle);
        }
        // SAFETY: non-null, a SecHandle by the contract.
        handles::remove_context(unsafe { &*context })?;
        runtime::release();
        Ok(Status::Ok)
    })
}

/// ApplyControlToken: SCHANNEL_SHUTDOWN (the next InitializeSecurityContext /
/// AcceptSecurityContext call returns close_notify as its token), or a
/// SCHANNEL_ALERT_TOKEN with TLS1_ALERT_FATAL and an alert the provider can produce
/// (40, 42-46, 48, 49, 51, 113: the next certificate verification fails with it; see
/// securechannel's `apply_alert`); anything else is SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// `context` is null or a SecHandle; `input` null or a valid descriptor.
#[no_mangle]
pub unsafe extern "C" fn ApplyControlToken(
    context: *mut SecHandle,
    input: *mut SecBufferDesc,
) -> SECURITY_STATUS {
    guard(|| {
        if context.is_null() {
            return Err(Status::InvalidHandle);
        }
        // SAFETY: non-null, a SecHandle by the contract.
        let entry = handles::context(unsafe { &*context })?;
        // SAFETY: the contract: null or valid.
        let b = unsafe { buffers(input) }?.ok_or(Status::InvalidParameter)?;
        let token = b.first().ok_or(Status::InvalidParameter)?;
        if kind(token) != SECBUFFER_TOKEN {
            return Err(Status::InvalidToken);
        }
        // SAFETY: the caller's token buffer.
        let bytes = unsafe { bytes_mut(token) }?;
        let dword = |at: usize| -> Result<DWORD, Failed> {
            bytes
                .get(at..at + 4)
                .map(|b| DWORD::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(Status::InvalidToken)
        };
        let mut ctx = entry.lock().unwrap_or_else(|e| e.into_inner());
        match dword(0)? {
            SCHANNEL_SHUTDOWN => {
                ctx.shutdown = true;
                Ok(Status::Ok)
            }
            SCHANNEL_ALERT => {
                if dword(4)? != TLS1_ALERT_FATAL {
                    return Err(Status::UnsupportedFunction);
                }
                let code = u8::try_from(dword(8)?).map_err(|_| Status::InvalidToken)?;
                let alert = AlertDescription(code);
                let r = match &mut ctx.tls {
                    Tls::Client(c) => c.apply_alert(alert),
                    Tls::Server(s) => s.apply_alert(alert),
                };
                r.map(|()| Status::Ok).map_err(|e| e.status())
            }
            _ => Err(Status::InvalidToken),
        }
    })
}

/// The SP_PROT bit of a protocol spoken by a role.
pub(crate) fn protocol_bit(p: Protocol, role: Role) -> DWORD {
    match (p, role) {
        (Protocol::Tls12, Role::Client) => SP_PROT_TLS1_2_CLIENT,
        (Protocol::Tls12, Role::Server) => SP_PROT_TLS1_2_SERVER,
        (Protocol::Tls13, Role::Client) => SP_PROT_TLS1_3_CLIENT,
        (Protocol::Tls13, Role::Server) => SP_PROT_TLS1_3_SERVER,
        // Never negotiated here.
        _ => 0,
    }
}

/// The ALG_ID of the provider's names; 0 where CryptoAPI has none (ChaCha20-Poly1305,
/// ML-KEM alone).
pub(crate) fn alg_id(name: &str) -> u32 {
    match name {
        "AES_128_GCM" => CALG_AES_128,
        "AES_256_GCM" => CALG_AES_256,
        "SHA256" => CALG_SHA_256,
        "SHA384" => CALG_SHA_384,
        n if n.starts_with("ECDH") || n.starts_with("X25519") => CALG_ECDH_EPHEM,
        _ => 0,
    }
}

/// UTF-16, NUL-padded, into a fixed WCHAR array (truncated to leave the NUL).
fn wchars<const N: usize>(s: &str) -> [WCHAR; N] {
    let mut a = [0; N];
    for (d, u) in a.iter_mut().take(N - 1).zip(s.encode_utf16()) {
        *d = u;
    }
    a
}

/// The public key algorithm of a certificate, as CipherInfo's szCertificate names it.
fn key_algorithm(der: &[u8]) -> &'static str {
    match x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.public_key().algorithm.algorithm.to_id_string())
        .as_deref()
    {
        Ok("1.2.840.113549.1.1.1") | Ok("1.2.840.113549.1.1.10") => "RSA",
        Ok("1.2.840.10045.2.1") => "ECDSA",
        Ok("1.3.101.112") => "Ed25519",
        _ => "",
    }
}

/// SecPkgContext_CipherInfo from the negotiated suite and key exchange, and the server's
/// certificate (the peer's on a client, this side's on a server).
fn cipher_info(ctx: &Context) -> Result<SecPkgContext_CipherInfo, Failed> {
    let role = ctx.role();
    let (info, suite, server_cert) = match &ctx.tls {
        Tls::Client(c) => (
            c.connection_info(),
            c.cipher_suite(),
            c.remote_certificates().first().map(|d| d.to_vec()),
        ),
        Tls::Server(s) => (
            s.connection_info(),
            s.cipher_suite(),
            s.local_certificate().map(|d| d.to_vec()),
        ),
    };
    let info = info.map_err(|e| e.status())?;
    let suite = suite.ok_or(Status::OutOfSequence)?;
    // CNG's algorithm names (BCRYPT_AES_ALGORITHM, BCRYPT_CHACHA20_POLY1305_ALGORITHM).
    let (cipher, block) = if suite.cipher.starts_with("AES") {
        ("AES", 16)
    } else {
        (suite.cipher, 1)
    };
    let hash_bits = suite
        .prf_hash
        .trim_start_matches("SHA")
        .parse::<u32>()
        .unwrap_or(0);
    // Every group offered here is an (EC)DH exchange, hybrids by their classical part
    // (BCRYPT_ECDH_ALGORITHM); none: a resumed TLS 1.2 session.
    let exchange = if info.exchange.is_empty() { "" } else { "ECDH" };
    Ok(SecPkgContext_CipherInfo {
        dwVersion: SECPKGCONTEXT_CIPHERINFO_V1,
        dwProtocol: protocol_bit(info.protocol, role),
        dwCipherSuite: u32::from(suite.number),
        dwBaseCipherSuite: u32::from(suite.number),
        szCipherSuite: wchars(suite.name),
        szCipher: wchars(cipher),
        dwCipherLen: suite.cipher_strength,
        dwCipherBlockLen: block,
        szHash: wchars(suite.prf_hash),
        dwHashLen: hash_bits,
        szExchange: wchars(exchange),
        dwMinExchangeLen: info.exchange_strength,
        dwMaxExchangeLen: info.exchange_strength,
        szCertificate: wchars(server_cert.as_deref().map_or("", key_algorithm)),
        dwKeyType: 0,
    })
}

/// SecPkgContext_IssuerListInfoEx: one allocation (freed with FreeContextBuffer) holding
/// the CERT_NAME_BLOBs, then the names they point to.
fn issuer_list(names: &[Vec<u8>]) -> SecPkgContext_IssuerListInfoEx {
    if names.is_empty() {
        return SecPkgContext_IssuerListInfoEx {
            aIssuers: std::ptr::null_mut(),
            cIssuers: 0,
        };
    }
    let blobs = std::mem::size_of::<CRYPT_INTEGER_BLOB>() * names.len();
    let total = blobs + names.iter().map(Vec::len).sum::<usize>();
    let base = package::allocate(total);
    let mut at = blobs;
    for (i, n) in names.iter().enumerate() {
        // SAFETY: `at + n.len() <= total`: the names follow the blobs in the allocation.
        let p = unsafe { base.add(at) };
        // SAFETY: room for `n` at `p` (above); no overlap with `n`.
        unsafe { std::ptr::copy_nonoverlapping(n.as_ptr(), p, n.len()) };
        let blob = CRYPT_INTEGER_BLOB {
            cbData: n.len() as DWORD,
            pbData: p,
        };
        // SAFETY: the allocation starts with room for `names.len()` blobs, 8-aligned.
        unsafe { base.cast::<CRYPT_INTEGER_BLOB>().add(i).write(blob) };
        at += n.len();
    }
    SecPkgContext_IssuerListInfoEx {
        aIssuers: base.cast(),
        cIssuers: names.len() as DWORD,
    }
}

fn query(context: *mut SecHandle, attribute: ULONG, out: *mut c_void) -> Result<Status, Failed> {
    if context.is_null() {
        return Err(Status::InvalidHandle);
    }
    // SAFETY: non-null, a SecHandle by the contract.
    let entry = handles::context(unsafe { &*context })?;
    if out.is_null() {
        return Err(Status::InvalidParameter);
    }
    let ctx = entry.lock().unwrap_or_else(|e| e.into_inner());
    match attribute {
        SECPKG_ATTR_STREAM_SIZES => {
            let s = ctx.stream_sizes().map_err(|e| e.status())?;
            let v = SecPkgContext_StreamSizes {
                cbHeader: s.header as ULONG,
                cbTrailer: s.trailer as ULONG,
                cbMaximumMessage: s.max_message as ULONG,
                cBuffers: s.buffers,
                cbBlockSize: s.block_size as ULONG,
            };
            // SAFETY: the caller passes a SecPkgContext_StreamSizes for this attribute.
            unsafe { put(out.cast(), v) };
        }
        SECPKG_ATTR_CONNECTION_INFO => {
            let role = ctx.role();
            let i = match &ctx.tls {
                Tls::Client(c) => c.connection_info(),
                Tls::Server(s) => s.connection_info(),
            }
            .map_err(|e| e.status())?;
            let v = SecPkgContext_ConnectionInfo {
                dwProtocol: protocol_bit(i.protocol, role),
                aiCipher: alg_id(i.cipher),
                dwCipherStrength: i.cipher_strength,
                // The suite's hash (its PRF); records are authenticated by the AEAD, which
                // has no MAC key of its own: strength 0.
                aiHash: alg_id(i.prf_hash),
                dwHashStrength: 0,
                aiExch: alg_id(i.exchange),
                dwExchStrength: i.exchange_strength,
            };
            // SAFETY: the caller passes a SecPkgContext_ConnectionInfo for this attribute.
            unsafe { put(out.cast(), v) };
        }
        SECPKG_ATTR_REMOTE_CERT_CONTEXT => {
            let chain = match &ctx.tls {
                Tls::Client(c) => c.remote_certificates(),
                Tls::Server(s) => s.remote_certificates(),
            };
            if chain.is_empty() {
                return Err(Status::NoCredentials);
            }
            let ders: Vec<&[u8]> = chain.iter().map(|c| c.as_ref()).collect();
            let cert = crypt32::new_context_with_chain(&ders).ok_or(Status::InternalError)?;
            // SAFETY: the caller passes a PCCERT_CONTEXT to fill for this attribute.
            unsafe { put(out.cast::<*const CERT_CONTEXT>(), cert) };
        }
        SECPKG_ATTR_APPLICATION_PROTOCOL => {
            let chosen = match &ctx.tls {
                Tls::Client(c) => c.alpn(),
                Tls::Server(s) => s.alpn(),
            };
            let mut v = SecPkgContext_ApplicationProtocol {
                ProtoNegoStatus: SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS_NONE,
                ProtoNegoExt: 0,
                ProtocolIdSize: 0,
                ProtocolId: [0; 255],
            };
            if let Some(p) = chosen.filter(|p| p.len() <= 255) {
                v.ProtoNegoStatus = SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS_SUCCESS;
                v.ProtoNegoExt = SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT_ALPN;
                v.ProtocolIdSize = p.len() as u8;
                v.ProtocolId[..p.len()].copy_from_slice(p);
            }
            // SAFETY: the caller passes a SecPkgContext_ApplicationProtocol for this attribute.
            unsafe { put(out.cast(), v) };
        }
        SECPKG_ATTR_CIPHER_INFO => {
            let v = cipher_info(&ctx)?;
            // SAFETY: the caller passes a SecPkgContext_CipherInfo for this attribute.
            unsafe { put(out.cast(), v) };
        }
        SECPKG_ATTR_LOCAL_CERT_CONTEXT => {
            let local = match &ctx.tls {
                Tls::Client(c) => c.local_certificate(),
                Tls::Server(s) => s.local_certificate(),
            };
            let der = local.ok_or(Status::NoCredentials)?;
            let cert = crypt32::new_context(der.as_ref()).ok_or(Status::InternalError)?;
            // SAFETY: the caller passes a PCCERT_CONTEXT to fill for this attribute.
            unsafe { put(out.cast::<*const CERT_CONTEXT>(), cert) };
        }
        SECPKG_ATTR_SESSION_INFO => {
            let resumed = match &ctx.tls {
                Tls::Client(c) => c.resumed(),
                Tls::Server(s) => s.resumed(),
            }
            .ok_or(Status::OutOfSequence)?;
            // rustls does not expose the session ID (and a TLS 1.3 session has none that
            // names it): only whether the handshake resumed one.
            let v = SecPkgContext_SessionInfo {
                dwFlags: if resumed { SSL_SESSION_RECONNECT } else { 0 },
                cbSessionId: 0,
                rgbSessionId: [0; 32],
            };
            // SAFETY: the caller passes a SecPkgContext_SessionInfo for this attribute.
            unsafe { put(out.cast(), v) };
        }
        SECPKG_ATTR_ISSUER_LIST_EX => {
            // What the server's CertificateRequest named: a client's attribute.
            let Tls::Client(c) = &ctx.tls else {
                return Err(Status::UnsupportedFunction);
            };
            let v = issuer_list(c.trusted_issuers());
            // SAFETY: the caller passes a SecPkgContext_IssuerListInfoEx for this attribute.
            unsafe { put(out.cast(), v) };
        }
        // rustls 0.23's unbuffered connections have no keying-material exporter (only
        // the buffered ones do), and this provider computes no TLS secret itself; so
        // SetContextAttributes(SECPKG_ATTR_KEYING_MATERIAL_INFO) is refused too.
        SECPKG_ATTR_KEYING_MATERIAL => return Err(Status::UnsupportedFunction),
        _ => return Err(Status::UnsupportedFunction),
    }
    Ok(Status::Ok)
}

/// QueryContextAttributesA: SECPKG_ATTR_STREAM_SIZES, SECPKG_ATTR_CONNECTION_INFO,
/// SECPKG_ATTR_CIPHER_INFO, SECPKG_ATTR_REMOTE_CERT_CONTEXT and
/// SECPKG_ATTR_LOCAL_CERT_CONTEXT (free them with CertFreeCertificateContext; none:
/// SEC_E_NO_CREDENTIALS), SECPKG_ATTR_APPLICATION_PROTOCOL, SECPKG_ATTR_SESSION_INFO
/// (whether the session was resumed; no session ID), SECPKG_ATTR_ISSUER_LIST_EX (client:
/// the CAs the server's CertificateRequest named; free aIssuers with FreeContextBuffer);
/// any other attribute (SECPKG_ATTR_KEYING_MATERIAL among them) is
/// SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// `context` is null or a SecHandle; `out` null or the attribute's structure.
#[no_mangle]
pub unsafe extern "C" fn QueryContextAttributesA(
    context: *mut SecHandle,
    attribute: ULONG,
    out: *mut c_void,
) -> SECURITY_STATUS {
    guard(|| query(context, attribute, out))
}

/// QueryContextAttributesW (the attributes above have no strings: same as A).
///
/// # Safety
/// As [`QueryContextAttributesA`].
#[no_mangle]
pub unsafe extern "C" fn QueryContextAttributesW(
    context: *mut SecHandle,
    attribute: ULONG,
    out: *mut c_void,
) -> SECURITY_STATUS {
    guard(|| query(context, attribute, out))
}

/// SetContextAttributesA: no attribute can be set here. SECPKG_ATTR_KEYING_MATERIAL_INFO
/// (Windows' way to ask for exported keying material, set before the handshake
/// completes) is refused with SEC_E_UNSUPPORTED_FUNCTION like every other: rustls 0.23's
/// unbuffered connections export no keying material, and accepting the request would
/// promise an export that never comes. A bad handle is SEC_E_INVALID_HANDLE first.
///
/// # Safety
/// `context` is null or a SecHandle.
#[no_mangle]
pub unsafe extern "C" fn SetContextAttributesA(
    context: *mut SecHandle,
    _attribute: ULONG,
    _buffer: *mut c_void,
    _size: ULONG,
) -> SECURITY_STATUS {
    guard(|| {
        if context.is_null() {
            return Err(Status::InvalidHandle);
        }
        // SAFETY: non-null, a SecHandle by the contract.
        handles::context(unsafe { &*context })?;
        Err(Status::UnsupportedFunction)
    })
}

/// SetContextAttributesW, as [`SetContextAttributesA`].
///
/// # Safety
/// As [`SetContextAttributesA`].
#[no_mangle]
pub unsafe extern "C" fn SetContextAttributesW(
    context: *mut SecHandle,
    attribute: ULONG,
    buffer: *mut c_void,
    size: ULONG,
) -> SECURITY_STATUS {
    // SAFETY: the same contract.
    unsafe { SetContextAttributesA(context, attribute, buffer, size) }
}
