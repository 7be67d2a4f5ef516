//! AcquireCredentialsHandleA/W and FreeCredentialsHandle: SCHANNEL_CRED (version 4) and
//! SCH_CREDENTIALS (version 5) become the provider's credential builders.
//!
//! What each field does here (anything else set is refused with
//! SEC_E_UNSUPPORTED_FUNCTION, never ignored):
//!
//! - `paCred` / `cCreds` (at most one): a certificate context from the `MY` store
//!   (`CertOpenSystemStore` + `CertFindCertificateInStore`); the provider takes the
//!   certificate of `stores/My` with that thumbprint and its key from `keys/`. None on a
//!   server: the system default certificate (36872 when there is none, then 36886).
//! - `grbitEnabledProtocols` (v4) / `TLS_PARAMETERS.grbitDisabledProtocols` (v5, one
//!   TLS_PARAMETERS without ALPN ids or disabled crypto): narrow the protocols; 0 leaves
//!   them to the settings. Protocols this provider never speaks may be named: the context
//!   then fails with SEC_E_ALGORITHM_MISMATCH (36873 for a client), as on a Windows machine
//!   where they are disabled.
//! - `hRootStore` (server): its certificates are trusted for client certificates, besides
//!   `stores/Root`; with ASC_REQ_MUTUAL_AUTH, clients are asked for a certificate,
//!   validated against them (a client may still send none: the program then finds no
//!   SECPKG_ATTR_REMOTE_CERT_CONTEXT).
//! - `dwFlags`: SCH_CRED_MANUAL_CRED_VALIDATION (the server's certificate is not validated:
//!   the program does it); SCH_CRED_AUTO_CRED_VALIDATION (the default);
//!   SCH_CRED_NO_DEFAULT_CREDS (a client never picks a certificate by itself here, with or
//!   without it); SCH_USE_STRONG_CRYPTO (every suite rustls speaks is strong);
//!   SCH_CRED_NO_SYSTEM_MAPPER (there is no system mapper);
//!   SCH_CRED_REVOCATION_CHECK_CHAIN(_EXCLUDE_ROOT) only together with
//!   SCH_CRED_IGNORE_NO_REVOCATION_CHECK: the provider checks the CRLs of `crl/` for the
//!   whole chain and accepts a certificate no CRL covers, which is what that pair asks;
//!   SCH_CRED_IGNORE_REVOCATION_OFFLINE (CRLs are never fetched, so never offline).

use crate::abi::*;
use crate::ffi::{guard, narrow, put, wide, Failed};
use crate::handles::{self, Credential};
use crate::{crypt32, package, runtime};
use rustls_pki_types::CertificateDer;
use securechannel::{Protocol, Role, ServerCredential, StoreQuery};
use securechannel_events::Status;
use std::ffi::c_void;
use std::sync::{Arc, OnceLock};

/// The flags accepted, each for the reason in the module docs.
const ACCEPTED_FLAGS: DWORD = SCH_CRED_MANUAL_CRED_VALIDATION
    | SCH_CRED_AUTO_CRED_VALIDATION
    | SCH_CRED_NO_DEFAULT_CREDS
    | SCH_USE_STRONG_CRYPTO
    | SCH_CRED_NO_SYSTEM_MAPPER
    | SCH_CRED_REVOCATION_CHECK_CHAIN
    | SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT
    | SCH_CRED_IGNORE_NO_REVOCATION_CHECK
    | SCH_CRED_IGNORE_REVOCATION_OFFLINE;

/// The one table from SP_PROT bits (either role's) to protocols.
const PROTOCOL_BITS: [(DWORD, Protocol); 6] = [
    (0x04 | 0x08, Protocol::Ssl2),
    (0x10 | 0x20, Protocol::Ssl3),
    (SP_PROT_TLS1_SERVER | SP_PROT_TLS1_CLIENT, Protocol::Tls10),
    (
        SP_PROT_TLS1_1_SERVER | SP_PROT_TLS1_1_CLIENT,
        Protocol::Tls11,
    ),
    (
        SP_PROT_TLS1_2_SERVER | SP_PROT_TLS1_2_CLIENT,
        Protocol::Tls12,
    ),
    (
        SP_PROT_TLS1_3_SERVER | SP_PROT_TLS1_3_CLIENT,
        Protocol::Tls13,
    ),
];

/// What a credential request says, read from either structure.
struct Request {
    certificate: Option<*const CERT_CONTEXT>,
    root_store: HCERTSTORE,
    /// Empty: the settings decide.
    protocols: Vec<Protocol>,
    flags: DWORD,
}

fn protocols_enabled(mask: DWORD) -> Result<Vec<Protocol>, Failed> {
    let known = PROTOCOL_BITS.iter().fold(0, |a, (b, _)| a | b);
    if mask & !known != 0 {
        // DTLS and unknown bits.
        return Err(Status::UnsupportedFunction);
    }
    Ok(PROTOCOL_BITS
        .iter()
        .filter(|(b, _)| mask & b != 0)
        .map(|(_, p)| *p)
        .collect())
}

/// # Safety
/// `auth` is null or points to a SCHANNEL_CRED or SCH_CREDENTIALS (its dwVersion says
/// which) whose pointers are valid for their counts.
unsafe fn read_request(auth: *const c_void) -> Result<Request, Failed> {
    if auth.is_null() {
        return Ok(Request {
            certificate: None,
            root_store: std::ptr::null_mut(),
            protocols: Vec::new(),
            flags: 0,
        });
    }
    // SAFETY: non-null; both structures start with a DWORD version.
    let version = unsafe { *auth.cast::<DWORD>() };
    let (count, creds, root_store, mappers, lifespan, flags, format, protocols) = match version {
        SCHANNEL_CRED_VERSION => {
            // SAFETY: the version says it is a SCHANNEL_CRED.
            let c = unsafe { &*auth.cast::<SCHANNEL_CRED>() };
            if c.cSupportedAlgs != 0
                || c.dwMinimumCipherStrength != 0
                || c.dwMaximumCipherStrength != 0
            {
                return Err(Status::UnsupportedFunction);
            }
            let p = protocols_enabled(c.grbitEnabledProtocols)?;
            (
                c.cCreds,
                c.paCred,
                c.hRootStore,
                c.cMappers,
                c.dwSessionLifespan,
                c.dwFlags,
                c.dwCredFormat,
                p,
            )
        }
        SCH_CREDENTIALS_VERSION => {
            // SAFETY: the version says it is a SCH_CREDENTIALS.
            let c = unsafe { &*auth.cast::<SCH_CREDENTIALS>() };
            let p = match c.cTlsParameters {
                0 => Vec::new(),
                1 if !c.pTlsParameters.is_null() => {
                    // SAFETY: one TLS_PARAMETERS at a non-null pointer.
                    let t = unsafe { &*c.pTlsParameters };
                    if t.cAlpnIds != 0 || t.cDisabledCrypto != 0 || t.dwFlags != 0 {
                        return Err(Status::UnsupportedFunction);
                    }
                    let disabled = protocols_enabled(t.grbitDisabledProtocols)?;
                    if disabled.is_empty() {
                        Vec::new()
                    } else {
                        let left: Vec<Protocol> = [Protocol::Tls12, Protocol::Tls13]
                            .into_iter()
                            .filter(|p| !disabled.contains(p))
                            .collect();
                        if left.is_empty() {
                            // Every protocol spoken here is disabled.
                            return Err(Status::AlgorithmMismatch);
                        }
                        left
                    }
                }
                1 => return Err(Status::InvalidParameter),
                _ => return Err(Status::UnsupportedFunction),
            };
            (
                c.cCreds,
                c.paCred,
                c.hRootStore,
                c.cMappers,
                c.dwSessionLifespan,
                c.dwFlags,
                c.dwCredFormat,
                p,
            )
        }
        _ => return Err(Status::UnknownCredentials),
    };
    if mappers != 0 || lifespan != 0 || format != 0 || flags & !ACCEPTED_FLAGS != 0 {
        return Err(Status::UnsupportedFunction);
    }
    let revocation = SCH_CRED_REVOCATION_CHECK_CHAIN | SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT;
    if flags & revocation != 0 && flags & SCH_CRED_IGNORE_NO_REVOCATION_CHECK == 0 {
        // Requiring a revocation status for every certificate is not available here.
        return Err(Status::UnsupportedFunction);
    }
    let certificate = match count {
        0 => None,
        1 if !creds.is_null() => {
            // SAFETY: one PCCERT_CONTEXT at a non-null pointer.
            Some(unsafe { *creds })
        }
        1 => return Err(Status::InvalidParameter),
        _ => return Err(Status::UnsupportedFunction),
    };
    Ok(Request {
        certificate,
        root_store,
        protocols,
        flags,
    })
}

fn acquire(
    package_name: Option<String>,
    usage: ULONG,
    auth: *const c_void,
    out: *mut SecHandle,
    expiry: *mut TimeStamp,
) -> Result<Status, Failed> {
    if out.is_null() {
        return Err(Status::InvalidParameter);
    }
    let name = package_name.ok_or(Status::UnsupportedFunction)?;
    if !package::is_our_package(&name) {
        return Err(Status::UnsupportedFunction);
    }
    // SAFETY: the caller's contract of AcquireCredentialsHandle: pAuthData is null or
    // the structure its dwVersion names.
    let request = unsafe { read_request(auth) }?;
    let thumbprint = match request.certificate {
        Some(c) => Some(crypt32::thumbprint_of(c).ok_or(Status::UnknownCredentials)?),
        None => None,
    };
    let p = runtime::package()?;
    let credential = match usage {
        SECPKG_CRED_OUTBOUND => {
            if !request.root_store.is_null() {
                // Windows ignores hRootStore on a client; here it would have no effect.
                return Err(Status::UnsupportedFunction);
            }
            let mut b = p.provider.client_credential();
            if !request.protocols.is_empty() {
                b = b.protocols(&request.protocols);
            }
            if let Some(t) = thumbprint {
                b = b.from_store(StoreQuery::Thumbprint(t));
            }
            if request.flags & SCH_CRED_MANUAL_CRED_VALIDATION != 0 {
                b = b.dangerous_manual_validation();
            }
            Credential::Client(b.acquire().map_err(|e| e.status())?)
        }
        SECPKG_CRED_INBOUND => {
            let recipe = ServerRecipe {
                thumbprint,
                protocols: request.protocols,
                roots: crypt32::store_certificates(request.root_store)?,
            };
            let plain = server_credential(&p, &recipe, false)?;
            Credential::Server(Arc::new(ServerEntry {
                plain,
                mutual: OnceLock::new(),
                recipe,
            }))
        }
        _ => return Err(Status::InvalidParameter),
    };
    drop(p);
    let handle = handles::add_credential(credential);
    // SAFETY: `out` checked non-null; `expiry` may be null. Credentials do not expire.
    unsafe {
        put(out, handle);
        put(expiry, NEVER);
    }
    Ok(Status::Ok)
}

/// How a server credential was asked for, to make it again asking for client
/// certificates.
pub(crate) struct ServerRecipe {
    thumbprint: Option<String>,
    protocols: Vec<Protocol>,
    roots: Vec<CertificateDer<'static>>,
}

/// A server credential: the one AcquireCredentialsHandle made, and the same asking
/// clients for a certificate (ASC_REQ_MUTUAL_AUTH), made on first use (it logs its own
/// 36867: the provider asks for client certificates per credential).
pub(crate) struct ServerEntry {
    pub(crate) plain: ServerCredential,
    mutual: OnceLock<ServerCredential>,
    recipe: ServerRecipe,
}

impl ServerEntry {
    /// The credential for a context's ASC_REQ flags.
    pub(crate) fn for_request(&self, mutual: bool) -> Result<ServerCredential, Status> {
        if !mutual {
            return Ok(self.plain.clone());
        }
        if let Some(c) = self.mutual.get() {
            return Ok(c.clone());
        }
        let p = runtime::package()?;
        let made = server_credential(&p, &self.recipe, true)?;
        Ok(self.mutual.get_or_init(|| made).clone())
    }
}

fn server_credential(
    p: &runtime::Package,
    recipe: &ServerRecipe,
    mutual: bool,
) -> Result<ServerCredential, Status> {
    let mut b = p.provider.server_credential();
    if !recipe.protocols.is_empty() {
        b = b.protocols(&recipe.protocols);
    }
    b = match &recipe.thumbprint {
        Some(t) => b.from_store(StoreQuery::Thumbprint(t.clone())),
        None => b.system_default(),
    };
    for root in &recipe.roots {
        b = b.add_root(root.clone());
    }
    if mutual {
        b = b.request_client_certificate();
    }
    b.acquire().map_err(|e| e.status())
}

/// The TimeStamp of something that never expires (Windows' maximum).
pub(crate) const NEVER: TimeStamp = TimeStamp {
    LowPart: 0xFFFF_FFFF,
    HighPart: 0x7FFF_FFFF,
};

/// AcquireCredentialsHandleA: a client (SECPKG_CRED_OUTBOUND) or server
/// (SECPKG_CRED_INBOUND) credential of package "Schannel" / UNISP_NAME, from a
/// SCHANNEL_CRED or SCH_CREDENTIALS (see the module docs). `pszPrincipal`, `pvLogonId`,
/// `pGetKeyFn` and its argument are not used, as by Schannel.
///
/// # Safety
/// The pointers are null or valid as AcquireCredentialsHandle documents them.
#[no_mangle]
pub unsafe extern "C" fn AcquireCredentialsHandleA(
    _principal: *const u8,
    package: *const u8,
    usage: ULONG,
    _logon_id: *mut c_void,
    auth: *const c_void,
    _get_key: *mut c_void,
    _get_key_arg: *mut c_void,
    out: *mut SecHandle,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS {
    // SAFETY: the caller's contract (above).
    guard(|| acquire(unsafe { narrow(package, 256) }?, usage, auth, out, expiry))
}

/// AcquireCredentialsHandleW (UTF-16 names).
///
/// # Safety
/// As [`AcquireCredentialsHandleA`].
#[no_mangle]
pub unsafe extern "C" fn AcquireCredentialsHandleW(
    _principal: *const WCHAR,
    package: *const WCHAR,
    usage: ULONG,
    _logon_id: *mut c_void,
    auth: *const c_void,
    _get_key: *mut c_void,
    _get_key_arg: *mut c_void,
    out: *mut SecHandle,
    expiry: *mut TimeStamp,
) -> SECURITY_STATUS {
    // SAFETY: the caller's contract (above).
    guard(|| acquire(unsafe { wide(package, 256) }?, usage, auth, out, expiry))
}

/// FreeCredentialsHandle: contexts made with the credential keep working.
///
/// # Safety
/// `handle` is null or points to a SecHandle.
#[no_mangle]
pub unsafe extern "C" fn FreeCredentialsHandle(handle: *mut SecHandle) -> SECURITY_STATUS {
    guard(|| {
        if handle.is_null() {
            return Err(Status::InvalidHandle);
        }
        // SAFETY: non-null, a SecHandle by the caller's contract.
        let h = unsafe { *handle };
        handles::remove_credential(&h)?;
        runtime::release();
        Ok(Status::Ok)
    })
}

/// The common body of QueryCredentialsAttributesA/W.
fn query_credentials(
    handle: *mut SecHandle,
    attribute: ULONG,
    out: *mut c_void,
) -> Result<Status, Failed> {
    if handle.is_null() {
        return Err(Status::InvalidHandle);
    }
    // SAFETY: non-null, a SecHandle by the caller's contract.
    let credential = handles::credential(unsafe { &*handle })?;
    if out.is_null() {
        return Err(Status::InvalidParameter);
    }
    let (role, protocols, suites) = match &credential {
        Credential::Client(c) => (Role::Client, c.protocols(), c.cipher_suites()),
        Credential::Server(s) => (Role::Server, s.plain.protocols(), s.plain.cipher_suites()),
    };
    match attribute {
        SECPKG_ATTR_SUPPORTED_PROTOCOLS => {
            let bits = protocols
                .iter()
                .fold(0, |a, p| a | crate::context::protocol_bit(*p, role));
            // SAFETY: the caller passes a SecPkgCred_SupportedProtocols for this attribute.
            unsafe {
                put(
                    out.cast(),
                    SecPkgCred_SupportedProtocols {
                        grbitProtocol: bits,
                    },
                )
            };
        }
        SECPKG_ATTR_SUPPORTED_ALGS => {
            // The ALG_IDs of the suites' bulk ciphers and hashes (ChaCha20-Poly1305 has
            // none), the key exchange (every group here is ephemeral (EC)DH) and the
            // certificate signatures rustls verifies and signs with.
            let mut algs: Vec<u32> = Vec::new();
            for s in &suites {
                for id in [
                    crate::context::alg_id(s.cipher),
                    crate::context::alg_id(s.prf_hash),
                ] {
                    if id != 0 && !algs.contains(&id) {
                        algs.push(id);
                    }
                }
            }
            algs.extend([CALG_ECDH_EPHEM, CALG_RSA_SIGN, CALG_ECDSA]);
            let bytes: Vec<u8> = algs.iter().flat_map(|a| a.to_ne_bytes()).collect();
            let v = SecPkgCred_SupportedAlgs {
                cSupportedAlgs: algs.len() as DWORD,
                palgSupportedAlgs: package::allocate_copy(&bytes).cast(),
            };
            // SAFETY: the caller passes a SecPkgCred_SupportedAlgs for this attribute.
            unsafe { put(out.cast(), v) };
        }
        _ => return Err(Status::UnsupportedFunction),
    }
    Ok(Status::Ok)
}

/// QueryCredentialsAttributesA: SECPKG_ATTR_SUPPORTED_PROTOCOLS (the SP_PROT bits of the
/// credential's role for the protocols it offers or accepts) and SECPKG_ATTR_SUPPORTED_ALGS
/// (ALG_IDs; free palgSupportedAlgs with FreeContextBuffer); any other attribute is
/// SEC_E_UNSUPPORTED_FUNCTION.
///
/// # Safety
/// `handle` is null or a SecHandle; `out` null or the attribute's structure.
#[no_mangle]
pub unsafe extern "C" fn QueryCredentialsAttributesA(
    handle: *mut SecHandle,
    attribute: ULONG,
    out: *mut c_void,
) -> SECURITY_STATUS {
    guard(|| query_credentials(handle, attribute, out))
}

/// QueryCredentialsAttributesW (the attributes above have no strings: same as A).
///
/// # Safety
/// As [`QueryCredentialsAttributesA`].
#[no_mangle]
pub unsafe extern "C" fn QueryCredentialsAttributesW(
    handle: *mut SecHandle,
    attribute: ULONG,
    out: *mut c_void,
) -> SECURITY_STATUS {
    guard(|| query_credentials(handle, attribute, out))
}
