//! CertGetCertificateChain, CertFreeCertificateChain and CertVerifyCertificateChainPolicy
//! (CERT_CHAIN_POLICY_SSL, CERT_CHAIN_POLICY_BASE): the manual-validation flow of the
//! Schannel samples (SCH_CRED_MANUAL_CRED_VALIDATION, then the program judges the peer's
//! certificate), backed by the provider's own verifier (rustls-webpki, with the checks
//! CryptoAPI makes and webpki does not) and the data directory's stores (`stores/Root`,
//! `stores/CA`, `crl/`): the verdict is the one `schannel cert verify` and a handshake
//! give.
//!
//! CertGetCertificateChain judges the chain (trust, time, usage, revocation) and records
//! the verdict in the chain context; CertVerifyCertificateChainPolicy adds the name check
//! (SSL_EXTRA_CERT_CHAIN_POLICY_PARA.pwszServerName) and reports the CryptoAPI status
//! (`CHAIN_VERDICTS`) in CERT_CHAIN_POLICY_STATUS.dwError. Validation logs no event, as
//! CryptoAPI's chain engine logs none in the System log.
//!
//! The elements of the simple chain are the end entity, then, issuer after issuer, the
//! certificates of the additional store, `stores/CA` and `stores/Root` whose subject is
//! the previous one's issuer: an ordering for display only (no signature is checked to
//! place them; the trust verdict is the verifier's, which builds its own path).

use crate::abi::*;
use crate::crypt32;
use crate::ffi::{guard_value, wide};
use crate::runtime;
use rustls_pki_types::CertificateDer;
use securechannel::events::NullSink;
use securechannel::{CertificateStores, Provider, RevocationCheck, RevocationOffline, StoreName};
use securechannel_events::Status;
use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Arc, Mutex};
use x509_parser::prelude::*;

/// The one table from the provider's chain verdict (the precise chain status when the
/// verdict has one, else its SSPI status) to what CryptoAPI reports: the
/// CERT_TRUST_STATUS error bit of the chain context, and the CERT_CHAIN_POLICY_STATUS
/// dwError of the SSL and base policies. Each row is what Windows' chain engine sets for
/// the same defect (wincrypt.h, winerror.h).
const CHAIN_VERDICTS: [(Status, DWORD, Status); 13] = [
    // Outside its validity period (either side): CERT_E_EXPIRED covers both.
    (
        Status::CertExpired,
        CERT_TRUST_IS_NOT_TIME_VALID,
        Status::CertEExpired,
    ),
    (
        Status::UntrustedRoot,
        CERT_TRUST_IS_UNTRUSTED_ROOT,
        Status::CertEUntrustedRoot,
    ),
    // No path within the limits: CryptoAPI's partial chain.
    (
        Status::CertEChaining,
        CERT_TRUST_IS_PARTIAL_CHAIN,
        Status::CertEChaining,
    ),
    (
        Status::CertWrongUsage,
        CERT_TRUST_IS_NOT_VALID_FOR_USAGE,
        Status::CertEWrongUsage,
    ),
    (
        Status::CryptERevoked,
        CERT_TRUST_IS_REVOKED,
        Status::CryptERevoked,
    ),
    (
        Status::CryptENoRevocationCheck,
        CERT_TRUST_REVOCATION_STATUS_UNKNOWN,
        Status::CryptENoRevocationCheck,
    ),
    (
        Status::CryptERevocationOffline,
        CERT_TRUST_REVOCATION_STATUS_UNKNOWN | CERT_TRUST_IS_OFFLINE_REVOCATION,
        Status::CryptERevocationOffline,
    ),
    (
        Status::TrustECertSignature,
        CERT_TRUST_IS_NOT_SIGNATURE_VALID,
        Status::TrustECertSignature,
    ),
    (
        Status::CertECritical,
        CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT,
        Status::CertECritical,
    ),
    (
        Status::CertEMalformed,
        CERT_TRUST_INVALID_EXTENSION,
        Status::CertEMalformed,
    ),
    (
        Status::TrustEBasicConstraints,
        CERT_TRUST_INVALID_BASIC_CONSTRAINTS,
        Status::TrustEBasicConstraints,
    ),
    (
        Status::CertEPathLenConst,
        CERT_TRUST_INVALID_BASIC_CONSTRAINTS,
        Status::CertEPathLenConst,
    ),
    (
        Status::CertsrvEWeakSignatureOrKey,
        CERT_TRUST_HAS_WEAK_SIGNATURE,
        Status::CertsrvEWeakSignatureOrKey,
    ),
];

/// The name check of the SSL policy (not a chain defect: no trust bit).
const NAME_MISMATCH: (Status, Status) = (Status::WrongPrincipal, Status::CertECnNoMatch);

/// A chain defect the table has no row for (SEC_E_CERT_UNKNOWN: something else webpki
/// refused): CryptoAPI's generic trust failure.
const OTHER_DEFECT: Status = Status::TrustEFail;

/// The table's row for a verdict.
fn row(verdict: Status) -> (DWORD, Status) {
    CHAIN_VERDICTS
        .iter()
        .find(|(s, _, _)| *s == verdict)
        .map_or((0, OTHER_DEFECT), |(_, bit, policy)| (*bit, *policy))
}

/// What the chain is validated for (CERT_CHAIN_PARA's RequestedUsage).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Usage {
    Server,
    Client,
}

/// How to validate again (the policy's name check): the same inputs.
struct Request {
    chain: Vec<CertificateDer<'static>>,
    usage: Usage,
    at: Option<u64>,
    revocation: Option<RevocationCheck>,
}

/// A chain context and everything its pointers point into.
struct ChainBlock {
    context: CERT_CHAIN_CONTEXT,
    simple: CERT_SIMPLE_CHAIN,
    simple_ptr: Vec<*mut CERT_SIMPLE_CHAIN>,
    elements: Vec<CERT_CHAIN_ELEMENT>,
    element_ptrs: Vec<*mut CERT_CHAIN_ELEMENT>,
    /// The chain's verdict (the provider's status) when it is not valid.
    defect: Option<Status>,
    request: Request,
}

// SAFETY: a block's pointers point into the block itself and into certificate contexts it
// owns a reference to; it moves between threads as a whole, under the table's lock.
unsafe impl Send for ChainBlock {}

static CHAINS: Mutex<Option<HashMap<usize, Box<ChainBlock>>>> = Mutex::new(None);

fn with_chains<R>(f: impl FnOnce(&mut HashMap<usize, Box<ChainBlock>>) -> R) -> R {
    let mut t = CHAINS.lock().unwrap_or_else(|e| e.into_inner());
    let r = f(t.get_or_insert_with(HashMap::new));
    if t.as_ref().is_some_and(|m| m.is_empty()) {
        *t = None;
    }
    r
}

/// Unix seconds of a FILETIME (100 ns since 1601).
fn unix_of(t: &FILETIME) -> Option<u64> {
    let ticks = (u64::from(t.dwHighDateTime) << 32) | u64::from(t.dwLowDateTime);
    (ticks / 10_000_000).checked_sub(11_644_473_600)
}

/// The provider's verdict on `r`, judging the name too when `name` is given; `None`: valid.
fn validate(r: &Request, name: Option<&str>) -> Result<Option<Status>, Status> {
    // Validation logs nothing (as `schannel cert verify`).
    let provider =
        Provider::open(&runtime::data_dir(), Arc::new(NullSink)).map_err(|e| e.status())?;
    macro_rules! configure {
        ($b:expr) => {{
            let mut b = $b;
            if let Some(secs) = r.at {
                b = b.dangerous_validation_time(secs);
            }
            if let Some(check) = r.revocation {
                b = b.revocation(check, RevocationOffline::Fail);
            }
            b
        }};
    }
    let result = match r.usage {
        Usage::Server => configure!(provider.client_credential())
            .acquire()
            .map_err(|e| e.status())?
            .validate_server_chain(&r.chain, name),
        Usage::Client => configure!(provider.server_credential().system_default())
            .acquire()
            .map_err(|e| e.status())?
            .validate_client_chain(&r.chain),
    };
    Ok(result.err().map(|e| e.chain_status().unwrap_or(e.status())))
}

/// The usage CERT_CHAIN_PARA asks for: serverAuth (also when it names none, or names it
/// among others with USAGE_MATCH_TYPE_OR, as the SDK sample does with the SGC OIDs) or
/// clientAuth; anything else cannot be judged here.
///
/// # Safety
/// `para` is null or a CERT_CHAIN_PARA whose usage identifiers are valid strings.
unsafe fn usage_of(para: *const CERT_CHAIN_PARA) -> Option<Usage> {
    if para.is_null() {
        return Some(Usage::Server);
    }
    // SAFETY: non-null, a CERT_CHAIN_PARA by the contract.
    let p = unsafe { &*para };
    if (p.cbSize as usize) < std::mem::size_of::<CERT_CHAIN_PARA>() {
        return None;
    }
    let u = &p.RequestedUsage;
    if u.Usage.cUsageIdentifier == 0 {
        return Some(Usage::Server);
    }
    if u.Usage.rgpszUsageIdentifier.is_null() || u.Usage.cUsageIdentifier > 64 {
        return None;
    }
    // SAFETY: cUsageIdentifier string pointers, by the contract.
    let ids = unsafe {
        std::slice::from_raw_parts(
            u.Usage.rgpszUsageIdentifier,
            u.Usage.cUsageIdentifier as usize,
        )
    };
    let mut oids = Vec::new();
    for &id in ids {
        // SAFETY: each a NUL-terminated OID string, by the contract.
        oids.push(unsafe { crate::ffi::narrow(id, 128) }.ok()??);
    }
    let has = |o: &str| oids.iter().any(|x| x == o);
    let (server, client) = ("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    match u.dwType {
        USAGE_MATCH_TYPE_OR if has(server) => Some(Usage::Server),
        USAGE_MATCH_TYPE_OR if has(client) => Some(Usage::Client),
        USAGE_MATCH_TYPE_AND if oids.len() == 1 && has(server) => Some(Usage::Server),
        USAGE_MATCH_TYPE_AND if oids.len() == 1 && has(client) => Some(Usage::Client),
        _ => None,
    }
}

/// The revocation check dwFlags asks for (CERT_CHAIN_CACHE_END_CERT is a caching hint,
/// which a chain built from scratch each time satisfies); other flags: refused.
fn revocation_of(flags: DWORD) -> Option<Option<RevocationCheck>> {
    let rest = flags & !CERT_CHAIN_CACHE_END_CERT;
    match rest {
        0 => Some(None),
        CERT_CHAIN_REVOCATION_CHECK_END_CERT => Some(Some(RevocationCheck::EndCertificate)),
        CERT_CHAIN_REVOCATION_CHECK_CHAIN => Some(Some(RevocationCheck::Chain)),
        CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT => {
            Some(Some(RevocationCheck::ChainExceptRoot))
        }
        _ => None,
    }
}

/// The display order of the chain (see the module docs): the end entity, then issuers
/// found by name among `pool`.
fn display_order(leaf: &[u8], pool: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut order = vec![leaf.to_vec()];
    for _ in 0..8 {
        let Some(last) = order.last() else { break };
        let Ok((_, cert)) = parse_x509_certificate(last) else {
            break;
        };
        if cert.issuer().as_raw() == cert.subject().as_raw() {
            break;
        }
        let issuer = cert.issuer().as_raw().to_vec();
        let next = pool.iter().find(|c| {
            !order.contains(c)
                && parse_x509_certificate(c).is_ok_and(|(_, p)| p.subject().as_raw() == issuer)
        });
        match next {
            Some(n) => order.push(n.clone()),
            None => break,
        }
    }
    order
}

fn self_signed(der: &[u8]) -> bool {
    parse_x509_certificate(der).is_ok_and(|(_, c)| c.issuer().as_raw() == c.subject().as_raw())
}

/// CertGetCertificateChain: the chain of a certificate context this library made, judged
/// by the provider's verifier at `pTime` (NULL: now) for CERT_CHAIN_PARA's usage, with
/// the additional store's certificates offered as intermediates (a peer's
/// REMOTE_CERT_CONTEXT's hCertStore holds what it sent). `hChainEngine` NULL
/// (HCCE_CURRENT_USER) or HCCE_LOCAL_MACHINE: both are the data directory's stores.
/// `dwFlags`: 0, CERT_CHAIN_CACHE_END_CERT, or one CERT_CHAIN_REVOCATION_CHECK_* flag
/// (CRLs of `crl/` and the distribution points; an unknown status is a defect). FALSE for
/// anything else (another engine, a usage other than serverAuth / clientAuth, other
/// flags, a pointer this library did not hand out).
///
/// # Safety
/// The pointers are null or valid as CertGetCertificateChain documents them.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn CertGetCertificateChain(
    engine: *mut c_void,
    cert: *const CERT_CONTEXT,
    time: *const FILETIME,
    additional: HCERTSTORE,
    para: *const CERT_CHAIN_PARA,
    flags: DWORD,
    _reserved: *mut c_void,
    out: *mut *const CERT_CHAIN_CONTEXT,
) -> i32 {
    guard_value(0, || {
        if out.is_null() || !(engine.is_null() || engine as usize == HCCE_LOCAL_MACHINE) {
            return None;
        }
        let leaf = crypt32::context_der(cert)?;
        let at = if time.is_null() {
            None
        } else {
            // SAFETY: non-null, a FILETIME by the contract.
            let t = unsafe { &*time };
            Some(unix_of(t)?)
        };
        // SAFETY: the contract: null or a CERT_CHAIN_PARA.
        let usage = unsafe { usage_of(para) }?;
        let revocation = revocation_of(flags)?;
        let offered: Vec<Vec<u8>> = crypt32::store_certificates(additional)
            .ok()?
            .into_iter()
            .map(|c| c.to_vec())
            .filter(|c| *c != leaf)
            .collect();
        let mut chain = vec![CertificateDer::from(leaf.clone())];
        chain.extend(offered.iter().cloned().map(CertificateDer::from));
        let request = Request {
            chain,
            usage,
            at,
            revocation,
        };
        let defect = validate(&request, None).ok()?;
        let mut pool = offered;
        if let Ok(stores) = CertificateStores::open(&runtime::data_dir()) {
            for which in [StoreName::Ca, StoreName::Root] {
                pool.extend(stores.certificates(which).iter().map(|c| c.der.to_vec()));
            }
        }
        let order = display_order(&leaf, &pool);
        let (bit, _) = defect.map_or((0, Status::Ok), row);
        let trust = CERT_TRUST_STATUS {
            dwErrorStatus: bit,
            dwInfoStatus: 0,
        };
        let mut elements = Vec::new();
        for der in &order {
            let Some(c) = crypt32::new_context(der) else {
                for e in &elements {
                    let e: &CERT_CHAIN_ELEMENT = e;
                    crypt32::free_context(e.pCertContext);
                }
                return None;
            };
            elements.push(CERT_CHAIN_ELEMENT {
                cbSize: std::mem::size_of::<CERT_CHAIN_ELEMENT>() as DWORD,
                pCertContext: c,
                TrustStatus: CERT_TRUST_STATUS {
                    dwErrorStatus: 0,
                    dwInfoStatus: if self_signed(der) {
                        CERT_TRUST_IS_SELF_SIGNED
                    } else {
                        0
                    },
                },
                pRevocationInfo: std::ptr::null_mut(),
                pIssuanceUsage: std::ptr::null_mut(),
                pApplicationUsage: std::ptr::null_mut(),
                pwszExtendedErrorInfo: std::ptr::null(),
            });
        }
        let mut block = Box::new(ChainBlock {
            context: CERT_CHAIN_CONTEXT {
                cbSize: std::mem::size_of::<CERT_CHAIN_CONTEXT>() as DWORD,
                TrustStatus: trust,
                cChain: 1,
                rgpChain: std::ptr::null_mut(),
                cLowerQualityChainContext: 0,
                rgpLowerQualityChainContext: std::ptr::null_mut(),
                fHasRevocationFreshnessTime: 0,
                dwRevocationFreshnessTime: 0,
                dwCreateFlags: 0,
                ChainId: GUID {
                    Data1: 0,
                    Data2: 0,
                    Data3: 0,
                    Data4: [0; 8],
                },
            },
            simple: CERT_SIMPLE_CHAIN {
                cbSize: std::mem::size_of::<CERT_SIMPLE_CHAIN>() as DWORD,
                TrustStatus: trust,
                cElement: elements.len() as DWORD,
                rgpElement: std::ptr::null_mut(),
                pTrustListInfo: std::ptr::null_mut(),
                fHasRevocationFreshnessTime: 0,
                dwRevocationFreshnessTime: 0,
            },
            simple_ptr: Vec::new(),
            elements,
            element_ptrs: Vec::new(),
            defect,
            request,
        });
        // The pointers into the box: its heap place does not move from here on.
        let b = &mut *block;
        b.element_ptrs = b.elements.iter_mut().map(|e| e as *mut _).collect();
        b.simple.rgpElement = b.element_ptrs.as_mut_ptr();
        b.simple_ptr = vec![&mut b.simple as *mut _];
        b.context.rgpChain = b.simple_ptr.as_mut_ptr();
        let p: *const CERT_CHAIN_CONTEXT = &b.context;
        with_chains(|t| t.insert(p as usize, block));
        // SAFETY: checked non-null; the caller's out-parameter.
        unsafe { out.write(p) };
        Some(1)
    })
}

/// CertFreeCertificateChain: frees a chain context this library made (and its elements'
/// certificate contexts); any other pointer is left alone.
#[no_mangle]
pub extern "C" fn CertFreeCertificateChain(chain: *const CERT_CHAIN_CONTEXT) {
    guard_value((), || {
        let block = with_chains(|t| t.remove(&(chain as usize)))?;
        for e in &block.elements {
            crypt32::free_context(e.pCertContext);
        }
        Some(())
    })
}

/// CertVerifyCertificateChainPolicy with CERT_CHAIN_POLICY_SSL (the chain's verdict, then
/// for AUTHTYPE_SERVER with a pwszServerName the name, unless fdwChecks has
/// SECURITY_FLAG_IGNORE_CERT_CN_INVALID) or CERT_CHAIN_POLICY_BASE (the chain only).
/// TRUE with the CryptoAPI status in dwError (0: valid; see `CHAIN_VERDICTS`); lChainIndex
/// / lElementIndex are -1 when valid, else 0 and the failing element as far as the
/// verdict names it (the last element for an untrusted root, else 0). FALSE for another
/// policy, policy flags, other fdwChecks bits, or a chain this library did not make.
///
/// # Safety
/// The pointers are null or valid as CertVerifyCertificateChainPolicy documents them.
#[no_mangle]
pub unsafe extern "C" fn CertVerifyCertificateChainPolicy(
    policy: *const u8,
    chain: *const CERT_CHAIN_CONTEXT,
    para: *const CERT_CHAIN_POLICY_PARA,
    status: *mut CERT_CHAIN_POLICY_STATUS,
) -> i32 {
    guard_value(0, || {
        let ssl = match policy as usize {
            CERT_CHAIN_POLICY_SSL => true,
            CERT_CHAIN_POLICY_BASE => false,
            _ => return None,
        };
        if status.is_null() {
            return None;
        }
        let mut name = None;
        if !para.is_null() {
            // SAFETY: non-null, a CERT_CHAIN_POLICY_PARA by the contract.
            let p = unsafe { &*para };
            if p.dwFlags != 0 {
                // The CERT_CHAIN_POLICY_IGNORE_* flags: a defect cannot be ignored while
                // the verifier goes on checking the rest.
                return None;
            }
            if ssl && !p.pvExtraPolicyPara.is_null() {
                // SAFETY: the SSL policy's extra parameter, by the contract.
                let x = unsafe {
                    &*p.pvExtraPolicyPara
                        .cast::<SSL_EXTRA_CERT_CHAIN_POLICY_PARA>()
                };
                if (x.cbSize as usize) < std::mem::size_of::<SSL_EXTRA_CERT_CHAIN_POLICY_PARA>()
                    || x.fdwChecks & !SECURITY_FLAG_IGNORE_CERT_CN_INVALID != 0
                    || !(x.dwAuthType == AUTHTYPE_SERVER || x.dwAuthType == AUTHTYPE_CLIENT)
                {
                    return None;
                }
                if x.dwAuthType == AUTHTYPE_SERVER
                    && x.fdwChecks & SECURITY_FLAG_IGNORE_CERT_CN_INVALID == 0
                {
                    // SAFETY: null or a NUL-terminated UTF-16 name, by the contract.
                    name = unsafe { wide(x.pwszServerName, 1024) }.ok()?;
                }
            }
        }
        let (defect, elements, request_usage) = with_chains(|t| {
            t.get(&(chain as usize))
                .map(|b| (b.defect, b.elements.len(), b.request.usage))
        })?;
        let result = match (defect, name) {
            (Some(d), _) => Some(row(d).1),
            (None, Some(n)) if request_usage == Usage::Server => {
                let found = with_chains(|t| {
                    t.get(&(chain as usize)).map(|b| Request {
                        chain: b.request.chain.clone(),
                        usage: b.request.usage,
                        at: b.request.at,
                        revocation: b.request.revocation,
                    })
                })?;
                match validate(&found, Some(&n)).ok()? {
                    None => None,
                    Some(s) if s == NAME_MISMATCH.0 => Some(NAME_MISMATCH.1),
                    Some(s) => Some(row(s).1),
                }
            }
            _ => None,
        };
        let (error, element) = match result {
            None => (0, -1),
            Some(Status::CertEUntrustedRoot) => {
                (Status::CertEUntrustedRoot.code(), elements as i32 - 1)
            }
            Some(s) => (s.code(), 0),
        };
        // SAFETY: checked non-null; the caller's CERT_CHAIN_POLICY_STATUS.
        let st = unsafe { &mut *status };
        st.dwError = error;
        st.lChainIndex = if error == 0 { -1 } else { 0 };
        st.lElementIndex = element;
        Some(1)
    })
}
