//! CertGetNameStringA/W: a name of a certificate context's subject (or, with
//! CERT_NAME_ISSUER_FLAG, its issuer), as CryptoAPI picks it.

use crate::abi::*;
use crate::crypt32;
use crate::ffi::{guard_value, narrow};
use std::ffi::c_void;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::*;

const OID_COMMON_NAME: &str = "2.5.4.3";
const OID_ORGANIZATIONAL_UNIT: &str = "2.5.4.11";
const OID_ORGANIZATION: &str = "2.5.4.10";
const OID_EMAIL: &str = "1.2.840.113549.1.9.1";

/// The first value of attribute `oid` in `name`.
fn attribute(name: &X509Name<'_>, oid: &str) -> Option<String> {
    name.iter_attributes()
        .find(|a| a.attr_type().to_id_string() == oid)
        .and_then(|a| a.as_str().ok().map(str::to_owned))
}

/// The subject (or issuer) alternative names.
fn alt_names<'a>(cert: &'a X509Certificate<'a>, issuer: bool) -> Vec<&'a GeneralName<'a>> {
    let mut v = Vec::new();
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) if !issuer => {
                v.extend(san.general_names.iter())
            }
            ParsedExtension::IssuerAlternativeName(ian) if issuer => {
                v.extend(ian.general_names.iter())
            }
            _ => {}
        }
    }
    v
}

/// The names CertGetNameString returns for `kind`, first one first (CERT_NAME_DNS_TYPE
/// with CERT_NAME_SEARCH_ALL_NAMES_FLAG returns them all); empty: none (Windows then
/// returns the empty string). Types and flags this library does not handle give none
/// too (see the crate README).
fn names(der: &[u8], kind: DWORD, flags: DWORD, oid: Option<String>) -> Vec<String> {
    let issuer = flags & CERT_NAME_ISSUER_FLAG != 0;
    let all = flags & CERT_NAME_SEARCH_ALL_NAMES_FLAG != 0;
    if flags & !(CERT_NAME_ISSUER_FLAG | CERT_NAME_SEARCH_ALL_NAMES_FLAG) != 0
        || (all && kind != CERT_NAME_DNS_TYPE)
    {
        return Vec::new();
    }
    let Ok((_, cert)) = parse_x509_certificate(der) else {
        return Vec::new();
    };
    let name = if issuer {
        cert.issuer()
    } else {
        cert.subject()
    };
    let alt = alt_names(&cert, issuer);
    let first_alt = |pick: &dyn Fn(&GeneralName<'_>) -> Option<String>| -> Option<String> {
        alt.iter().find_map(|g| pick(g))
    };
    let rfc822 = |g: &GeneralName<'_>| match g {
        GeneralName::RFC822Name(m) => Some(m.to_string()),
        _ => None,
    };
    let one = |s: Option<String>| s.into_iter().collect::<Vec<_>>();
    match kind {
        // The alternative name's rfc822 name, else the emailAddress attribute.
        CERT_NAME_EMAIL_TYPE => one(first_alt(&rfc822).or_else(|| attribute(name, OID_EMAIL))),
        // CN, OU, O, emailAddress, then the alternative name's rfc822 name.
        CERT_NAME_SIMPLE_DISPLAY_TYPE | CERT_NAME_FRIENDLY_DISPLAY_TYPE => one([
            OID_COMMON_NAME,
            OID_ORGANIZATIONAL_UNIT,
            OID_ORGANIZATION,
            OID_EMAIL,
        ]
        .iter()
        .find_map(|o| attribute(name, o))
        .or_else(|| first_alt(&rfc822))),
        CERT_NAME_ATTR_TYPE => one(oid.and_then(|o| attribute(name, &o))),
        // The alternative name's DNS names, else the CN.
        CERT_NAME_DNS_TYPE => {
            let dns: Vec<String> = alt
                .iter()
                .filter_map(|g| match g {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    _ => None,
                })
                .collect();
            match (dns.is_empty(), all) {
                (true, _) => one(attribute(name, OID_COMMON_NAME)),
                (false, true) => dns,
                (false, false) => dns.into_iter().take(1).collect(),
            }
        }
        CERT_NAME_URL_TYPE => one(first_alt(&|g| match g {
            GeneralName::URI(u) => Some(u.to_string()),
            _ => None,
        })),
        _ => Vec::new(),
    }
}

/// The common body: the characters (units) of the result, NUL-separated and
/// NUL-terminated (a multi-string ends with two NULs), written into `out` when there is
/// room (truncated and NUL-terminated otherwise); the count CertGetNameString returns.
///
/// # Safety
/// `out` is null or writable for `room` units; `para` is what `kind` says.
unsafe fn get_name<C: Copy + Default>(
    cert: *const CERT_CONTEXT,
    kind: DWORD,
    flags: DWORD,
    para: *const c_void,
    out: *mut C,
    room: DWORD,
    encode: impl Fn(&str) -> Vec<C>,
) -> Option<DWORD> {
    let der = crypt32::context_der(cert)?;
    let oid = if kind == CERT_NAME_ATTR_TYPE {
        // SAFETY: the contract: null or a NUL-terminated OID string.
        unsafe { narrow(para.cast(), 128) }.ok()?
    } else {
        None
    };
    let found = names(&der, kind, flags, oid);
    let mut units: Vec<C> = Vec::new();
    for n in &found {
        units.extend(encode(n));
        units.push(C::default());
    }
    if found.len() != 1 {
        // Nothing (the empty string), or a multi-string's final NUL.
        units.push(C::default());
    }
    if out.is_null() || room == 0 {
        return Some(units.len() as DWORD);
    }
    let n = units.len().min(room as usize);
    // SAFETY: `out` is writable for `room` units (the contract) and `n <= room`.
    let dst = unsafe { std::slice::from_raw_parts_mut(out, n) };
    dst.copy_from_slice(&units[..n]);
    if n < units.len() {
        dst[n - 1] = C::default();
    }
    Some(n as DWORD)
}

/// CertGetNameStringA (UTF-8): CERT_NAME_SIMPLE_DISPLAY_TYPE and
/// CERT_NAME_FRIENDLY_DISPLAY_TYPE (CN, OU, O, emailAddress, then the alternative name's
/// rfc822 name), CERT_NAME_DNS_TYPE (the alternative name's DNS names, else the CN; all of
/// them as a multi-string with CERT_NAME_SEARCH_ALL_NAMES_FLAG), CERT_NAME_ATTR_TYPE (the
/// attribute whose OID `pvTypePara` names, e.g. szOID_COMMON_NAME), CERT_NAME_EMAIL_TYPE,
/// CERT_NAME_URL_TYPE; CERT_NAME_ISSUER_FLAG for the issuer. Returns the characters
/// including the NUL (with a null buffer or 0 room: the characters needed); 1 and the
/// empty string when there is no such name, or for a type or flag not listed here.
/// 0 for a pointer this library did not hand out.
///
/// # Safety
/// `out` is null or writable for `room` bytes; `para` is what `kind` says.
#[no_mangle]
pub unsafe extern "C" fn CertGetNameStringA(
    cert: *const CERT_CONTEXT,
    kind: DWORD,
    flags: DWORD,
    para: *const c_void,
    out: *mut u8,
    room: DWORD,
) -> DWORD {
    guard_value(0, || {
        // SAFETY: the export's contract.
        unsafe {
            get_name(cert, kind, flags, para, out, room, |s| {
                s.as_bytes().to_vec()
            })
        }
    })
}

/// CertGetNameStringW (UTF-16), as [`CertGetNameStringA`].
///
/// # Safety
/// `out` is null or writable for `room` units; `para` is what `kind` says.
#[no_mangle]
pub unsafe extern "C" fn CertGetNameStringW(
    cert: *const CERT_CONTEXT,
    kind: DWORD,
    flags: DWORD,
    para: *const c_void,
    out: *mut WCHAR,
    room: DWORD,
) -> DWORD {
    guard_value(0, || {
        // SAFETY: the export's contract.
        unsafe {
            get_name(cert, kind, flags, para, out, room, |s| {
                s.encode_utf16().collect()
            })
        }
    })
}
