//! The package: InitSecurityInterfaceA/W (the function table), EnumerateSecurityPackagesA/W,
//! QuerySecurityPackageInfoA/W, and FreeContextBuffer for every buffer this library
//! allocates for the caller.

use crate::abi::*;
use crate::ffi::{guard, narrow, put, wide, Failed};
use securechannel_events::Status;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::Mutex;

/// The two names the package answers to, as Windows' Schannel.
pub(crate) const PACKAGE_NAMES: [&str; 2] =
    ["Microsoft Unified Security Protocol Provider", "Schannel"];
/// The comment Windows gives both.
const COMMENT: &str = "Schannel Security Package";
/// INTEGRITY | PRIVACY | CONNECTION | MULTI_REQUIRED | EXTENDED_ERROR | STREAM |
/// MUTUAL_AUTH: Windows' 0x107B3 without IMPERSONATION and ACCEPT_WIN32_NAME, which have
/// no meaning here.
const CAPABILITIES: u32 = 0x0001_04B3;
/// Windows' value; tokens may be longer (a long certificate chain): ask for
/// ISC_REQ_ALLOCATE_MEMORY, as Schannel programs do.
const MAX_TOKEN: u32 = 0x6000;
const RPC_ID: u16 = 14;

/// Whether `name` names this package (case-insensitive, as Windows compares).
pub(crate) fn is_our_package(name: &str) -> bool {
    PACKAGE_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

// ---- context buffers ----

/// Buffers handed to C (tokens with ISC_REQ_ALLOCATE_MEMORY, package infos), by address,
/// until FreeContextBuffer. `u64` cells keep them 8-aligned for the structs they hold.
static ALLOCATED: Mutex<Option<HashMap<usize, Box<[u64]>>>> = Mutex::new(None);

/// A zeroed buffer of at least `len` bytes (8-aligned) owned by C until FreeContextBuffer.
pub(crate) fn allocate(len: usize) -> *mut u8 {
    let mut cells = vec![0u64; len.div_ceil(8).max(1)].into_boxed_slice();
    let p = cells.as_mut_ptr().cast::<u8>();
    let mut a = ALLOCATED.lock().unwrap_or_else(|e| e.into_inner());
    a.get_or_insert_with(HashMap::new).insert(p as usize, cells);
    p
}

/// A copy of `bytes` owned by C until FreeContextBuffer.
pub(crate) fn allocate_copy(bytes: &[u8]) -> *mut u8 {
    let p = allocate(bytes.len());
    // SAFETY: `p` was just allocated with room for `bytes.len()` bytes; no overlap.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    p
}

/// FreeContextBuffer: free a buffer this library allocated. Any other pointer is
/// SEC_E_INVALID_HANDLE (nothing is freed); null is SEC_E_OK, as free(NULL).
#[no_mangle]
pub extern "C" fn FreeContextBuffer(pv: *mut c_void) -> SECURITY_STATUS {
    guard(|| {
        if pv.is_null() {
            return Ok(Status::Ok);
        }
        let mut a = ALLOCATED.lock().unwrap_or_else(|e| e.into_inner());
        let freed = a.as_mut().and_then(|m| m.remove(&(pv as usize)));
        if a.as_ref().is_some_and(|m| m.is_empty()) {
            *a = None;
        }
        freed.map(|_| Status::Ok).ok_or(Status::InvalidHandle)
    })
}

// ---- package information ----

/// How a string is laid out for the A or W calls.
trait Chars: Copy {
    fn encode(s: &str) -> Vec<u8>;
}
impl Chars for u8 {
    fn encode(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        v
    }
}
impl Chars for WCHAR {
    fn encode(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(|u| u.to_ne_bytes())
            .collect()
    }
}

/// One block holding `names.len()` SecPkgInfo structs then their strings.
fn package_infos<C: Chars>(names: &[&str]) -> *mut SecPkgInfo<C> {
    let structs = std::mem::size_of::<SecPkgInfo<C>>() * names.len();
    let strings: Vec<(Vec<u8>, Vec<u8>)> = names
        .iter()
        .map(|n| (C::encode(n), C::encode(COMMENT)))
        .collect();
    let total = structs
        + strings
            .iter()
            .map(|(a, b)| a.len() + b.len() + 2)
            .sum::<usize>();
    let base = allocate(total);
    let mut at = structs;
    for (i, (name, comment)) in strings.iter().enumerate() {
        let mut place = |s: &[u8]| {
            // Strings start at even offsets (WCHAR alignment).
            at += at % 2;
            // SAFETY: `at + s.len()` stays within `total` (each string got two spare bytes).
            let p = unsafe { base.add(at) };
            // SAFETY: `p` has room for `s` (see above); no overlap with `s`.
            unsafe { std::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len()) };
            at += s.len();
            p.cast::<C>()
        };
        let info = SecPkgInfo::<C> {
            fCapabilities: CAPABILITIES,
            wVersion: 1,
            wRPCID: RPC_ID,
            cbMaxToken: MAX_TOKEN,
            Name: place(name),
            Comment: place(comment),
        };
        // SAFETY: the block starts with room for `names.len()` structs, 8-aligned.
        unsafe { base.cast::<SecPkgInfo<C>>().add(i).write(info) };
    }
    base.cast()
}

fn enumerate<C: Chars>(
    count: *mut ULONG,
    infos: *mut *mut SecPkgInfo<C>,
) -> Result<Status, Failed> {
    if count.is_null() || infos.is_null() {
        return Err(Status::InvalidParameter);
    }
    // SAFETY: both checked non-null; the caller gives writable out-parameters.
    unsafe {
        put(count, PACKAGE_NAMES.len() as ULONG);
        put(infos, package_infos::<C>(&PACKAGE_NAMES));
    }
    Ok(Status::Ok)
}

fn query_info<C: Chars>(
    name: Option<String>,
    info: *mut *mut SecPkgInfo<C>,
) -> Result<Status, Failed> {
    if info.is_null() {
        return Err(Status::InvalidParameter);
    }
    let name = name.ok_or(Status::InvalidParameter)?;
    let canonical = PACKAGE_NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(&name))
        .ok_or(Status::UnsupportedFunction)?;
    // SAFETY: checked non-null; the caller gives a writable out-parameter.
    unsafe { put(info, package_infos::<C>(&[canonical])) };
    Ok(Status::Ok)
}

/// EnumerateSecurityPackagesA: this library's one package, under both its names.
#[no_mangle]
pub extern "C" fn EnumerateSecurityPackagesA(
    count: *mut ULONG,
    infos: *mut *mut SecPkgInfoA,
) -> SECURITY_STATUS {
    guard(|| enumerate(count, infos))
}

/// EnumerateSecurityPackagesW.
#[no_mangle]
pub extern "C" fn EnumerateSecurityPackagesW(
    count: *mut ULONG,
    infos: *mut *mut SecPkgInfoW,
) -> SECURITY_STATUS {
    guard(|| enumerate(count, infos))
}

/// QuerySecurityPackageInfoA: "Schannel" or "Microsoft Unified Security Protocol
/// Provider"; any other name is SEC_E_UNSUPPORTED_FUNCTION (Windows returns
/// SEC_E_SECPKG_NOT_FOUND, 0x80090305, which the project's status table does not have).
///
/// # Safety
/// `name` is null or a NUL-terminated string; `info` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn QuerySecurityPackageInfoA(
    name: *const u8,
    info: *mut *mut SecPkgInfoA,
) -> SECURITY_STATUS {
    // SAFETY: the caller's contract (above).
    guard(|| query_info(unsafe { narrow(name, 256) }?, info))
}

/// QuerySecurityPackageInfoW.
///
/// # Safety
/// `name` is null or a NUL-terminated UTF-16 string; `info` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn QuerySecurityPackageInfoW(
    name: *const WCHAR,
    info: *mut *mut SecPkgInfoW,
) -> SECURITY_STATUS {
    // SAFETY: the caller's contract (above).
    guard(|| query_info(unsafe { wide(name, 256) }?, info))
}

// ---- the function tables ----

macro_rules! table {
    ($enumerate:ident, $query_credentials:ident, $acquire:ident, $initialize:ident, $query_attributes:ident, $query_info:ident, $set_attributes:ident) => {
        SecurityFunctionTable {
            dwVersion: 1,
            EnumerateSecurityPackages: $enumerate as *const c_void,
            QueryCredentialsAttributes: crate::credentials::$query_credentials as *const c_void,
            AcquireCredentialsHandle: crate::credentials::$acquire as *const c_void,
            FreeCredentialsHandle: crate::credentials::FreeCredentialsHandle as *const c_void,
            Reserved2: std::ptr::null(),
            InitializeSecurityContext: crate::context::$initialize as *const c_void,
            AcceptSecurityContext: crate::context::AcceptSecurityContext as *const c_void,
            CompleteAuthToken: std::ptr::null(),
            DeleteSecurityContext: crate::context::DeleteSecurityContext as *const c_void,
            ApplyControlToken: crate::context::ApplyControlToken as *const c_void,
            QueryContextAttributes: crate::context::$query_attributes as *const c_void,
            ImpersonateSecurityContext: std::ptr::null(),
            RevertSecurityContext: std::ptr::null(),
            MakeSignature: std::ptr::null(),
            VerifySignature: std::ptr::null(),
            FreeContextBuffer: FreeContextBuffer as *const c_void,
            QuerySecurityPackageInfo: $query_info as *const c_void,
            Reserved3: std::ptr::null(),
            Reserved4: std::ptr::null(),
            ExportSecurityContext: std::ptr::null(),
            ImportSecurityContext: std::ptr::null(),
            AddCredentials: std::ptr::null(),
            Reserved8: std::ptr::null(),
            QuerySecurityContextToken: std::ptr::null(),
            EncryptMessage: crate::messages::EncryptMessage as *const c_void,
            DecryptMessage: crate::messages::DecryptMessage as *const c_void,
            SetContextAttributes: crate::context::$set_attributes as *const c_void,
            SetCredentialsAttributes: std::ptr::null(),
            ChangeAccountPassword: std::ptr::null(),
            QueryContextAttributesEx: std::ptr::null(),
            QueryCredentialsAttributesEx: std::ptr::null(),
        }
    };
}

static TABLE_A: SecurityFunctionTable = table!(
    EnumerateSecurityPackagesA,
    QueryCredentialsAttributesA,
    AcquireCredentialsHandleA,
    InitializeSecurityContextA,
    QueryContextAttributesA,
    QuerySecurityPackageInfoA,
    SetContextAttributesA
);
static TABLE_W: SecurityFunctionTable = table!(
    EnumerateSecurityPackagesW,
    QueryCredentialsAttributesW,
    AcquireCredentialsHandleW,
    InitializeSecurityContextW,
    QueryContextAttributesW,
    QuerySecurityPackageInfoW,
    SetContextAttributesW
);

/// InitSecurityInterfaceA: the function table (version 1; entries this library does not
/// implement are null).
#[no_mangle]
pub extern "C" fn InitSecurityInterfaceA() -> *const SecurityFunctionTable {
    &TABLE_A
}

/// InitSecurityInterfaceW.
#[no_mangle]
pub extern "C" fn InitSecurityInterfaceW() -> *const SecurityFunctionTable {
    &TABLE_W
}
