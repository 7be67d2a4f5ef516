//! The part of crypt32 Schannel programs call to choose a certificate, backed by the data
//! directory's stores: CertOpenStore (system stores "MY", "ROOT", "CA"; memory stores),
//! CertOpenSystemStoreA/W, CertCloseStore, CertFindCertificateInStore (any, SHA-1 hash,
//! subject string), CertEnumCertificatesInStore, CertAddCertificateContextToStore and
//! CertAddEncodedCertificateToStore (memory stores), CertCreateCertificateContext,
//! CertDuplicateCertificateContext, CertFreeCertificateContext. (Chains: `chain`; names:
//! `names`.)
//!
//! A store is a snapshot of its directory when opened (`stores/My`, `stores/Root`,
//! `stores/CA`; both CERT_SYSTEM_STORE_CURRENT_USER and _LOCAL_MACHINE name the data
//! directory's). A certificate context is a real CERT_CONTEXT with its CERT_INFO (version,
//! serial, algorithms, issuer and subject names, validity, public key, extensions),
//! owned here and reference-counted; a pointer this library did not hand out is refused
//! (FALSE / NULL), never dereferenced. The private key of a `MY` certificate stays in
//! `keys/`: AcquireCredentialsHandle finds it by the certificate's thumbprint.

use crate::abi::*;
use crate::ffi::{guard_value, narrow, wide};
use crate::runtime;
use securechannel::{CertificateStores, StoreName};
use securechannel_events::Status;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::Mutex;
use x509_parser::prelude::*;

use rustls_pki_types::CertificateDer;

/// An open store: its certificates, DER.
struct Store {
    certificates: Vec<Vec<u8>>,
    /// A memory store (CERT_STORE_PROV_MEMORY, or the one a peer's chain comes in) takes
    /// certificates; a system store is a snapshot of its directory and refuses them
    /// (adding there would not reach the directory).
    memory: bool,
    /// CertCloseStore calls (and certificate contexts holding it) still to come.
    references: usize,
}

/// A certificate context and everything its pointers point into.
struct Block {
    context: CERT_CONTEXT,
    info: CERT_INFO,
    der: Vec<u8>,
    _owned: Vec<Vec<u8>>,
    _extensions: Vec<CERT_EXTENSION>,
    references: usize,
    /// The store and position it was found at (for the Find / Enum iteration).
    from: Option<(usize, usize)>,
    /// The store this context keeps open (a peer's chain: its hCertStore), released
    /// when the context is freed.
    holds_store: Option<usize>,
}

// SAFETY: a block's pointers point into the block itself (its own vectors), which moves
// between threads as a whole and is only read or changed under the table's lock; C reads
// it through the pointer it was given, as it may from any thread in Windows.
unsafe impl Send for Block {}

#[derive(Default)]
struct Tables {
    stores: HashMap<usize, Store>,
    /// By the address of their CERT_CONTEXT.
    contexts: HashMap<usize, Box<Block>>,
}

static TABLES: Mutex<Option<Tables>> = Mutex::new(None);

/// Store numbers, never reused.
static NEXT_STORE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// Run `f` on the tables; empty tables are dropped afterwards (the store numbering goes
/// on, so a closed store's handle never names a new one).
fn with_tables<R>(f: impl FnOnce(&mut Tables) -> R) -> R {
    let mut t = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    let r = f(t.get_or_insert_with(Tables::default));
    if t.as_ref()
        .is_some_and(|t| t.stores.is_empty() && t.contexts.is_empty())
    {
        *t = None;
    }
    r
}

/// Store handles are numbers in a range no allocation uses, never addresses.
const STORE_BASE: usize = 0x5C00_0000_0000;

fn store_id(h: HCERTSTORE) -> usize {
    (h as usize).wrapping_sub(STORE_BASE)
}

/// FILETIME of a Unix time (100 ns since 1601).
fn filetime(unix: i64) -> FILETIME {
    let t = (unix + 11_644_473_600).max(0) as u64 * 10_000_000;
    FILETIME {
        dwLowDateTime: t as u32,
        dwHighDateTime: (t >> 32) as u32,
    }
}

/// A NUL-terminated copy of a string.
fn c_string(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}

/// The DER of an algorithm's parameters, for the two forms certificates use (NULL, a
/// curve OID); other parameters are left empty.
fn parameters(p: &Option<x509_parser::der_parser::asn1_rs::Any<'_>>) -> Vec<u8> {
    match p {
        Some(a) if a.data.len() < 128 && (a.tag().0 == 5 || a.tag().0 == 6) => {
            let mut v = vec![a.tag().0 as u8, a.data.len() as u8];
            v.extend_from_slice(a.data);
            v
        }
        _ => Vec::new(),
    }
}

/// A new certificate context (one reference) for `der`, or `None` when it is not X.509.
fn make_block(der: &[u8], store: HCERTSTORE, from: Option<(usize, usize)>) -> Option<Box<Block>> {
    let (_, cert) = parse_x509_certificate(der).ok()?;
    let mut owned: Vec<Vec<u8>> = Vec::new();
    // Each Vec's heap buffer stays where it is when the Vec moves into `owned`.
    let mut keep = |v: Vec<u8>| -> *mut u8 {
        owned.push(v);
        owned
            .last_mut()
            .map_or(std::ptr::null_mut(), |v| v.as_mut_ptr())
    };
    let blob = |p: *mut u8, len: usize| CRYPT_INTEGER_BLOB {
        cbData: len as DWORD,
        pbData: if len == 0 { std::ptr::null_mut() } else { p },
    };
    // CryptoAPI keeps serial numbers least significant byte first.
    let serial: Vec<u8> = cert.raw_serial().iter().rev().copied().collect();
    let serial_len = serial.len();
    let serial = blob(keep(serial), serial_len);
    let sig_oid = keep(c_string(&cert.signature_algorithm.algorithm.to_id_string()));
    let sig_params = parameters(&cert.signature_algorithm.parameters);
    let sig_params = {
        let n = sig_params.len();
        blob(keep(sig_params), n)
    };
    let issuer = cert.issuer().as_raw().to_vec();
    let issuer = {
        let n = issuer.len();
        blob(keep(issuer), n)
    };
    let subject = cert.subject().as_raw().to_vec();
    let subject = {
        let n = subject.len();
        blob(keep(subject), n)
    };
    let spki = cert.public_key();
    let key_oid = keep(c_string(&spki.algorithm.algorithm.to_id_string()));
    let key_params = parameters(&spki.algorithm.parameters);
    let key_params = {
        let n = key_params.len();
        blob(keep(key_params), n)
    };
    let key = spki.subject_public_key.data.to_vec();
    let key_len = key.len();
    let key_ptr = keep(key);
    let key_unused = spki.subject_public_key.unused_bits as DWORD;
    let mut extensions = Vec::new();
    for e in cert.extensions() {
        let oid = keep(c_string(&e.oid.to_id_string()));
        let value = e.value.to_vec();
        let n = value.len();
        let value = blob(keep(value), n);
        extensions.push(CERT_EXTENSION {
            pszObjId: oid,
            fCritical: e.critical as i32,
            Value: value,
        });
    }
    let empty_bits = CRYPT_BIT_BLOB {
        cbData: 0,
        pbData: std::ptr::null_mut(),
        cUnusedBits: 0,
    };
    let info = CERT_INFO {
        dwVersion: cert.version().0,
        SerialNumber: serial,
        SignatureAlgorithm: CRYPT_ALGORITHM_IDENTIFIER {
            pszObjId: sig_oid,
            Parameters: sig_params,
        },
        Issuer: issuer,
        NotBefore: filetime(cert.validity().not_before.timestamp()),
        NotAfter: filetime(cert.validity().not_after.timestamp()),
        Subject: subject,
        SubjectPublicKeyInfo: CERT_PUBLIC_KEY_INFO {
            Algorithm: CRYPT_ALGORITHM_IDENTIFIER {
                pszObjId: key_oid,
                Parameters: key_params,
            },
            PublicKey: CRYPT_BIT_BLOB {
                cbData: key_len as DWORD,
                pbData: key_ptr,
                cUnusedBits: key_unused,
            },
        },
        IssuerUniqueId: empty_bits,
        SubjectUniqueId: empty_bits,
        cExtension: extensions.len() as DWORD,
        rgExtension: if extensions.is_empty() {
            std::ptr::null_mut()
        } else {
            extensions.as_mut_ptr()
        },
    };
    let mut block = Box::new(Block {
        context: CERT_CONTEXT {
            dwCertEncodingType: X509_ASN_ENCODING | PKCS_7_ASN_ENCODING,
            pbCertEncoded: std::ptr::null_mut(),
            cbCertEncoded: der.len() as DWORD,
            pCertInfo: std::ptr::null_mut(),
            hCertStore: store,
        },
        info,
        der: der.to_vec(),
        _owned: owned,
        _extensions: extensions,
        references: 1,
        from,
        holds_store: None,
    });
    block.context.pbCertEncoded = block.der.as_mut_ptr();
    block.context.pCertInfo = &mut block.info;
    Some(block)
}

fn register(block: Box<Block>) -> *const CERT_CONTEXT {
    let p: *const CERT_CONTEXT = &block.context;
    with_tables(|t| t.contexts.insert(p as usize, block));
    p
}

/// A new context for `der`, in no store, owned by C until CertFreeCertificateContext.
pub(crate) fn new_context(der: &[u8]) -> Option<*const CERT_CONTEXT> {
    make_block(der, std::ptr::null_mut(), None).map(register)
}

/// A context for the first certificate of `chain` (a peer's, end entity first) whose
/// hCertStore is a memory store holding the whole chain, as Schannel gives
/// SECPKG_ATTR_REMOTE_CERT_CONTEXT: programs pass it to CertGetCertificateChain as the
/// additional store. The store lives as long as the context (or longer, if the program
/// also closes it: then until both are done).
pub(crate) fn new_context_with_chain(chain: &[&[u8]]) -> Option<*const CERT_CONTEXT> {
    let first = chain.first()?;
    let id = new_store(chain.iter().map(|c| c.to_vec()).collect(), true);
    let Some(mut block) = make_block(first, (STORE_BASE + id) as HCERTSTORE, Some((id, 0))) else {
        release_store(id);
        return None;
    };
    block.holds_store = Some(id);
    Some(register(block))
}

/// The DER of a context this library made.
pub(crate) fn context_der(c: *const CERT_CONTEXT) -> Option<Vec<u8>> {
    with_tables(|t| t.contexts.get(&(c as usize)).map(|b| b.der.clone()))
}

fn new_store(certificates: Vec<Vec<u8>>, memory: bool) -> usize {
    let id = NEXT_STORE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    with_tables(|t| {
        t.stores.insert(
            id,
            Store {
                certificates,
                memory,
                references: 1,
            },
        )
    });
    id
}

/// One reference less; the store goes with its last.
fn release_store(id: usize) -> bool {
    with_tables(|t| {
        let Some(s) = t.stores.get_mut(&id) else {
            return false;
        };
        s.references -= 1;
        if s.references == 0 {
            t.stores.remove(&id);
        }
        true
    })
}

/// The SHA-1 thumbprint of a context this library made.
pub(crate) fn thumbprint_of(c: *const CERT_CONTEXT) -> Option<String> {
    with_tables(|t| {
        t.contexts
            .get(&(c as usize))
            .map(|b| securechannel::thumbprint(&b.der))
    })
}

/// The certificates of a store handle (none for null).
pub(crate) fn store_certificates(h: HCERTSTORE) -> Result<Vec<CertificateDer<'static>>, Status> {
    if h.is_null() {
        return Ok(Vec::new());
    }
    with_tables(|t| {
        t.stores
            .get(&store_id(h))
            .map(|s| {
                s.certificates
                    .iter()
                    .map(|d| CertificateDer::from(d.clone()))
                    .collect()
            })
            .ok_or(Status::InvalidHandle)
    })
}

/// Open a system store by name (MY, ROOT, CA).
fn open_system(name: &str) -> Option<HCERTSTORE> {
    let which = match name.to_ascii_uppercase().as_str() {
        "MY" => StoreName::My,
        "ROOT" => StoreName::Root,
        "CA" => StoreName::Ca,
        _ => return None,
    };
    let stores = CertificateStores::open(&runtime::data_dir()).ok()?;
    let certificates = stores
        .certificates(which)
        .iter()
        .map(|c| c.der.to_vec())
        .collect();
    Some((STORE_BASE + new_store(certificates, false)) as HCERTSTORE)
}

/// CertOpenStore: CERT_STORE_PROV_SYSTEM_A / _W with a store name, or
/// CERT_STORE_PROV_MEMORY (an empty store for CertAdd*ToStore); any other provider
/// (file, collection, ... stores) returns NULL.
///
/// # Safety
/// `para` is a NUL-terminated store name of the provider's character type.
#[no_mangle]
pub unsafe extern "C" fn CertOpenStore(
    provider: *const c_void,
    _encoding: DWORD,
    _prov: usize,
    _flags: DWORD,
    para: *const c_void,
) -> HCERTSTORE {
    guard_value(std::ptr::null_mut(), || {
        let name = match provider as usize {
            // SAFETY: the contract: a narrow store name.
            CERT_STORE_PROV_SYSTEM_A => unsafe { narrow(para.cast(), 256) }.ok()??,
            // SAFETY: the contract: a UTF-16 store name.
            CERT_STORE_PROV_SYSTEM_W => unsafe { wide(para.cast(), 256) }.ok()??,
            CERT_STORE_PROV_MEMORY => {
                return Some((STORE_BASE + new_store(Vec::new(), true)) as HCERTSTORE)
            }
            _ => return None,
        };
        open_system(&name)
    })
}

/// CertOpenSystemStoreA ("MY", "ROOT", "CA").
///
/// # Safety
/// `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn CertOpenSystemStoreA(_prov: usize, name: *const u8) -> HCERTSTORE {
    guard_value(std::ptr::null_mut(), || {
        // SAFETY: the contract: a NUL-terminated name.
        let name = unsafe { narrow(name, 256) }.ok()??;
        open_system(&name)
    })
}

/// CertOpenSystemStoreW.
///
/// # Safety
/// `name` is a NUL-terminated UTF-16 string.
#[no_mangle]
pub unsafe extern "C" fn CertOpenSystemStoreW(_prov: usize, name: *const WCHAR) -> HCERTSTORE {
    guard_value(std::ptr::null_mut(), || {
        // SAFETY: the contract: a NUL-terminated name.
        let name = unsafe { wide(name, 256) }.ok()??;
        open_system(&name)
    })
}

/// CertCloseStore: FALSE for a handle this library did not open (or already closed).
/// Certificate contexts found in the store stay valid until freed.
#[no_mangle]
pub extern "C" fn CertCloseStore(store: HCERTSTORE, _flags: DWORD) -> i32 {
    guard_value(0, || release_store(store_id(store)).then_some(1))
}

/// Add `der` to a memory store with Windows' dispositions; the new (or existing) store
/// context when asked for.
fn add_to_store(
    store: HCERTSTORE,
    der: &[u8],
    disposition: DWORD,
    out: *mut *const CERT_CONTEXT,
) -> Option<i32> {
    // Only X.509 certificates go in.
    parse_x509_certificate(der).ok()?;
    let id = store_id(store);
    let at = with_tables(|t| {
        let s = t.stores.get_mut(&id).filter(|s| s.memory)?;
        let existing = s.certificates.iter().position(|c| c == der);
        match (disposition, existing) {
            (CERT_STORE_ADD_NEW, Some(_)) => None,
            (CERT_STORE_ADD_NEW | CERT_STORE_ADD_ALWAYS, _)
            | (CERT_STORE_ADD_USE_EXISTING | CERT_STORE_ADD_REPLACE_EXISTING, None) => {
                s.certificates.push(der.to_vec());
                Some(s.certificates.len() - 1)
            }
            // The same encoding: replacing it changes nothing.
            (CERT_STORE_ADD_USE_EXISTING | CERT_STORE_ADD_REPLACE_EXISTING, Some(i)) => Some(i),
            _ => None,
        }
    })?;
    if !out.is_null() {
        let c = make_block(der, store, Some((id, at))).map(register)?;
        // SAFETY: non-null; the caller's out-parameter.
        unsafe { out.write(c) };
    }
    Some(1)
}

/// CertAddCertificateContextToStore: a copy of a context this library made into a memory
/// store (CERT_STORE_ADD_NEW, _USE_EXISTING, _REPLACE_EXISTING, _ALWAYS; duplicates are
/// found by their encoding). FALSE for a system store (a snapshot of the data directory:
/// put files in `stores/` instead), another disposition, or a pointer this library did
/// not hand out.
///
/// # Safety
/// `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn CertAddCertificateContextToStore(
    store: HCERTSTORE,
    cert: *const CERT_CONTEXT,
    disposition: DWORD,
    out: *mut *const CERT_CONTEXT,
) -> i32 {
    guard_value(0, || {
        let der = context_der(cert)?;
        add_to_store(store, &der, disposition, out)
    })
}

/// CertAddEncodedCertificateToStore: a DER certificate (X509_ASN_ENCODING) into a memory
/// store, as CertAddCertificateContextToStore.
///
/// # Safety
/// `der` points to `len` readable bytes; `out` is null or writable.
#[no_mangle]
pub unsafe extern "C" fn CertAddEncodedCertificateToStore(
    store: HCERTSTORE,
    encoding: DWORD,
    der: *const u8,
    len: DWORD,
    disposition: DWORD,
    out: *mut *const CERT_CONTEXT,
) -> i32 {
    guard_value(0, || {
        if encoding & X509_ASN_ENCODING == 0 || der.is_null() || len == 0 {
            return None;
        }
        // SAFETY: the contract: `len` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(der, len as usize) };
        add_to_store(store, bytes, disposition, out)
    })
}

/// The next certificate of `store` after `prev` (which is freed, as Windows does) that
/// `matches`.
fn next_in_store(
    store: HCERTSTORE,
    prev: *const CERT_CONTEXT,
    matches: impl Fn(&[u8]) -> bool,
) -> Option<*const CERT_CONTEXT> {
    let id = store_id(store);
    let start = if prev.is_null() {
        0
    } else {
        let from = with_tables(|t| t.contexts.get(&(prev as usize)).map(|b| b.from))?;
        free_context(prev);
        match from {
            Some((s, i)) if s == id => i + 1,
            _ => return None,
        }
    };
    let certs = with_tables(|t| t.stores.get(&id).map(|s| s.certificates.clone()))?;
    let (i, der) = certs
        .iter()
        .enumerate()
        .skip(start)
        .find(|(_, d)| matches(d))?;
    make_block(der, store, Some((id, i))).map(register)
}

/// CertEnumCertificatesInStore.
#[no_mangle]
pub extern "C" fn CertEnumCertificatesInStore(
    store: HCERTSTORE,
    prev: *const CERT_CONTEXT,
) -> *const CERT_CONTEXT {
    guard_value(std::ptr::null(), || next_in_store(store, prev, |_| true))
}

/// CertFindCertificateInStore: CERT_FIND_ANY, CERT_FIND_SHA1_HASH (a CRYPT_HASH_BLOB of
/// 20 bytes), CERT_FIND_SUBJECT_STR_A / _W (a case-insensitive substring of the subject
/// name, as `CN=..., O=...`); other find types return NULL.
///
/// # Safety
/// `para` is what the find type says (null for CERT_FIND_ANY).
#[no_mangle]
pub unsafe extern "C" fn CertFindCertificateInStore(
    store: HCERTSTORE,
    _encoding: DWORD,
    _flags: DWORD,
    find_type: DWORD,
    para: *const c_void,
    prev: *const CERT_CONTEXT,
) -> *const CERT_CONTEXT {
    guard_value(std::ptr::null(), || match find_type {
        CERT_FIND_ANY => next_in_store(store, prev, |_| true),
        CERT_FIND_SHA1_HASH => {
            if para.is_null() {
                return None;
            }
            // SAFETY: the contract: a CRYPT_HASH_BLOB.
            let blob = unsafe { &*para.cast::<CRYPT_INTEGER_BLOB>() };
            if blob.cbData != 20 || blob.pbData.is_null() {
                return None;
            }
            // SAFETY: 20 readable bytes, by the blob.
            let want = unsafe { std::slice::from_raw_parts(blob.pbData, 20) };
            let hex: String = want.iter().map(|b| format!("{b:02X}")).collect();
            next_in_store(store, prev, |d| securechannel::thumbprint(d) == hex)
        }
        CERT_FIND_SUBJECT_STR_A | CERT_FIND_SUBJECT_STR_W => {
            let s = if find_type == CERT_FIND_SUBJECT_STR_A {
                // SAFETY: the contract: a narrow string.
                unsafe { narrow(para.cast(), 1024) }.ok()??
            } else {
                // SAFETY: the contract: a UTF-16 string.
                unsafe { wide(para.cast(), 1024) }.ok()??
            };
            let s = s.to_ascii_lowercase();
            next_in_store(store, prev, |d| {
                !s.is_empty()
                    && securechannel::subject_name(d)
                        .is_some_and(|n| n.to_ascii_lowercase().contains(&s))
            })
        }
        _ => None,
    })
}

/// CertCreateCertificateContext: a context for a DER (X509_ASN_ENCODING) certificate.
///
/// # Safety
/// `der` points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn CertCreateCertificateContext(
    encoding: DWORD,
    der: *const u8,
    len: DWORD,
) -> *const CERT_CONTEXT {
    guard_value(std::ptr::null(), || {
        if encoding & X509_ASN_ENCODING == 0 || der.is_null() || len == 0 {
            return None;
        }
        // SAFETY: the contract: `len` readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(der, len as usize) };
        new_context(bytes)
    })
}

/// CertDuplicateCertificateContext: one more reference (the same pointer); NULL for a
/// pointer this library did not hand out.
#[no_mangle]
pub extern "C" fn CertDuplicateCertificateContext(c: *const CERT_CONTEXT) -> *const CERT_CONTEXT {
    guard_value(std::ptr::null(), || {
        with_tables(|t| {
            t.contexts.get_mut(&(c as usize)).map(|b| {
                b.references += 1;
                c
            })
        })
    })
}

pub(crate) fn free_context(c: *const CERT_CONTEXT) -> bool {
    let freed = with_tables(|t| {
        let b = t.contexts.get_mut(&(c as usize))?;
        b.references -= 1;
        if b.references == 0 {
            t.contexts.remove(&(c as usize))
        } else {
            None
        }
        .map_or(Some(None), |b| Some(Some(b)))
    });
    match freed {
        Some(block) => {
            if let Some(id) = block.as_ref().and_then(|b| b.holds_store) {
                release_store(id);
            }
            drop(block);
            true
        }
        None => false,
    }
}

/// CertFreeCertificateContext: TRUE for NULL and for contexts this library made; FALSE
/// for any other pointer (nothing is touched).
#[no_mangle]
pub extern "C" fn CertFreeCertificateContext(c: *const CERT_CONTEXT) -> i32 {
    guard_value(0, || {
        Some(if c.is_null() || free_context(c) { 1 } else { 0 })
    })
}
