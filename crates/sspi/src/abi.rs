//! The C types of `include/securechannel_sspi.h`, `#[repr(C)]`, with Windows' x64 (LLP64)
//! layouts: `ULONG` / `DWORD` / `LONG` are 32-bit. Every size and offset is checked against
//! `tests/c/layout_list.h` (the list the C compilers check against the Windows SDK and
//! against the header), in this module's tests. Constants have the SDK's names.
#![allow(non_camel_case_types, non_snake_case, missing_docs)]

use std::ffi::c_void;

pub type ULONG = u32;
pub type DWORD = u32;
pub type SECURITY_STATUS = i32;
pub type WCHAR = u16;
pub type HCERTSTORE = *mut c_void;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecHandle {
    pub dwLower: usize,
    pub dwUpper: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TimeStamp {
    pub LowPart: u32,
    pub HighPart: i32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecBuffer {
    pub cbBuffer: ULONG,
    pub BufferType: ULONG,
    pub pvBuffer: *mut c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecBufferDesc {
    pub ulVersion: ULONG,
    pub cBuffers: ULONG,
    pub pBuffers: *mut SecBuffer,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgInfo<C> {
    pub fCapabilities: ULONG,
    pub wVersion: u16,
    pub wRPCID: u16,
    pub cbMaxToken: ULONG,
    pub Name: *mut C,
    pub Comment: *mut C,
}
pub type SecPkgInfoA = SecPkgInfo<u8>;
pub type SecPkgInfoW = SecPkgInfo<WCHAR>;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_StreamSizes {
    pub cbHeader: ULONG,
    pub cbTrailer: ULONG,
    pub cbMaximumMessage: ULONG,
    pub cBuffers: ULONG,
    pub cbBlockSize: ULONG,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_ConnectionInfo {
    pub dwProtocol: DWORD,
    pub aiCipher: u32,
    pub dwCipherStrength: DWORD,
    pub aiHash: u32,
    pub dwHashStrength: DWORD,
    pub aiExch: u32,
    pub dwExchStrength: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SCHANNEL_CRED {
    pub dwVersion: DWORD,
    pub cCreds: DWORD,
    pub paCred: *const *const CERT_CONTEXT,
    pub hRootStore: HCERTSTORE,
    pub cMappers: DWORD,
    pub aphMappers: *mut *mut c_void,
    pub cSupportedAlgs: DWORD,
    pub palgSupportedAlgs: *mut u32,
    pub grbitEnabledProtocols: DWORD,
    pub dwMinimumCipherStrength: DWORD,
    pub dwMaximumCipherStrength: DWORD,
    pub dwSessionLifespan: DWORD,
    pub dwFlags: DWORD,
    pub dwCredFormat: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct UNICODE_STRING {
    pub Length: u16,
    pub MaximumLength: u16,
    pub Buffer: *mut WCHAR,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CRYPTO_SETTINGS {
    pub eAlgorithmUsage: u32,
    pub strCngAlgId: UNICODE_STRING,
    pub cChainingModes: DWORD,
    pub rgstrChainingModes: *mut UNICODE_STRING,
    pub dwMinBitLength: DWORD,
    pub dwMaxBitLength: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct TLS_PARAMETERS {
    pub cAlpnIds: DWORD,
    pub rgstrAlpnIds: *mut UNICODE_STRING,
    pub grbitDisabledProtocols: DWORD,
    pub cDisabledCrypto: DWORD,
    pub pDisabledCrypto: *mut CRYPTO_SETTINGS,
    pub dwFlags: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SCH_CREDENTIALS {
    pub dwVersion: DWORD,
    pub dwCredFormat: DWORD,
    pub cCreds: DWORD,
    pub paCred: *const *const CERT_CONTEXT,
    pub hRootStore: HCERTSTORE,
    pub cMappers: DWORD,
    pub aphMappers: *mut *mut c_void,
    pub dwSessionLifespan: DWORD,
    pub dwFlags: DWORD,
    pub cTlsParameters: DWORD,
    pub pTlsParameters: *mut TLS_PARAMETERS,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SCHANNEL_ALERT_TOKEN {
    pub dwTokenType: DWORD,
    pub dwAlertType: DWORD,
    pub dwAlertNumber: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CRYPT_INTEGER_BLOB {
    pub cbData: DWORD,
    pub pbData: *mut u8,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CRYPT_ALGORITHM_IDENTIFIER {
    pub pszObjId: *mut u8,
    pub Parameters: CRYPT_INTEGER_BLOB,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CRYPT_BIT_BLOB {
    pub cbData: DWORD,
    pub pbData: *mut u8,
    pub cUnusedBits: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_PUBLIC_KEY_INFO {
    pub Algorithm: CRYPT_ALGORITHM_IDENTIFIER,
    pub PublicKey: CRYPT_BIT_BLOB,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FILETIME {
    pub dwLowDateTime: DWORD,
    pub dwHighDateTime: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_EXTENSION {
    pub pszObjId: *mut u8,
    pub fCritical: i32,
    pub Value: CRYPT_INTEGER_BLOB,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_INFO {
    pub dwVersion: DWORD,
    pub SerialNumber: CRYPT_INTEGER_BLOB,
    pub SignatureAlgorithm: CRYPT_ALGORITHM_IDENTIFIER,
    pub Issuer: CRYPT_INTEGER_BLOB,
    pub NotBefore: FILETIME,
    pub NotAfter: FILETIME,
    pub Subject: CRYPT_INTEGER_BLOB,
    pub SubjectPublicKeyInfo: CERT_PUBLIC_KEY_INFO,
    pub IssuerUniqueId: CRYPT_BIT_BLOB,
    pub SubjectUniqueId: CRYPT_BIT_BLOB,
    pub cExtension: DWORD,
    pub rgExtension: *mut CERT_EXTENSION,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_CONTEXT {
    pub dwCertEncodingType: DWORD,
    pub pbCertEncoded: *mut u8,
    pub cbCertEncoded: DWORD,
    pub pCertInfo: *mut CERT_INFO,
    pub hCertStore: HCERTSTORE,
}

/// `SecurityFunctionTableA` and `W` (the same layout; the string type differs only in the
/// functions' signatures). Entries not implemented are null.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecurityFunctionTable {
    pub dwVersion: ULONG,
    pub EnumerateSecurityPackages: *const c_void,
    pub QueryCredentialsAttributes: *const c_void,
    pub AcquireCredentialsHandle: *const c_void,
    pub FreeCredentialsHandle: *const c_void,
    pub Reserved2: *const c_void,
    pub InitializeSecurityContext: *const c_void,
    pub AcceptSecurityContext: *const c_void,
    pub CompleteAuthToken: *const c_void,
    pub DeleteSecurityContext: *const c_void,
    pub ApplyControlToken: *const c_void,
    pub QueryContextAttributes: *const c_void,
    pub ImpersonateSecurityContext: *const c_void,
    pub RevertSecurityContext: *const c_void,
    pub MakeSignature: *const c_void,
    pub VerifySignature: *const c_void,
    pub FreeContextBuffer: *const c_void,
    pub QuerySecurityPackageInfo: *const c_void,
    pub Reserved3: *const c_void,
    pub Reserved4: *const c_void,
    pub ExportSecurityContext: *const c_void,
    pub ImportSecurityContext: *const c_void,
    pub AddCredentials: *const c_void,
    pub Reserved8: *const c_void,
    pub QuerySecurityContextToken: *const c_void,
    pub EncryptMessage: *const c_void,
    pub DecryptMessage: *const c_void,
    pub SetContextAttributes: *const c_void,
    pub SetCredentialsAttributes: *const c_void,
    pub ChangeAccountPassword: *const c_void,
    pub QueryContextAttributesEx: *const c_void,
    pub QueryCredentialsAttributesEx: *const c_void,
}

// SAFETY: the table holds addresses of functions (and nulls), never data that changes.
unsafe impl Sync for SecurityFunctionTable {}

/// SEC_APPLICATION_PROTOCOL_LIST's fixed part (its list follows at offset 6).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SEC_APPLICATION_PROTOCOL_LIST {
    pub ProtoNegoExt: u32,
    pub ProtocolListSize: u16,
    pub ProtocolList: [u8; 1],
}

/// SEC_APPLICATION_PROTOCOLS's fixed part (its lists follow at offset 4).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SEC_APPLICATION_PROTOCOLS {
    pub ProtocolListsSize: ULONG,
    pub ProtocolLists: [SEC_APPLICATION_PROTOCOL_LIST; 1],
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_ApplicationProtocol {
    pub ProtoNegoStatus: u32,
    pub ProtoNegoExt: u32,
    pub ProtocolIdSize: u8,
    pub ProtocolId: [u8; 255],
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct GUID {
    pub Data1: u32,
    pub Data2: u16,
    pub Data3: u16,
    pub Data4: [u8; 8],
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_TRUST_STATUS {
    pub dwErrorStatus: DWORD,
    pub dwInfoStatus: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_CHAIN_ELEMENT {
    pub cbSize: DWORD,
    pub pCertContext: *const CERT_CONTEXT,
    pub TrustStatus: CERT_TRUST_STATUS,
    pub pRevocationInfo: *mut c_void,
    pub pIssuanceUsage: *mut c_void,
    pub pApplicationUsage: *mut c_void,
    pub pwszExtendedErrorInfo: *const WCHAR,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_SIMPLE_CHAIN {
    pub cbSize: DWORD,
    pub TrustStatus: CERT_TRUST_STATUS,
    pub cElement: DWORD,
    pub rgpElement: *mut *mut CERT_CHAIN_ELEMENT,
    pub pTrustListInfo: *mut c_void,
    pub fHasRevocationFreshnessTime: i32,
    pub dwRevocationFreshnessTime: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_CHAIN_CONTEXT {
    pub cbSize: DWORD,
    pub TrustStatus: CERT_TRUST_STATUS,
    pub cChain: DWORD,
    pub rgpChain: *mut *mut CERT_SIMPLE_CHAIN,
    pub cLowerQualityChainContext: DWORD,
    pub rgpLowerQualityChainContext: *mut *const CERT_CHAIN_CONTEXT,
    pub fHasRevocationFreshnessTime: i32,
    pub dwRevocationFreshnessTime: DWORD,
    pub dwCreateFlags: DWORD,
    pub ChainId: GUID,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_ENHKEY_USAGE {
    pub cUsageIdentifier: DWORD,
    pub rgpszUsageIdentifier: *mut *mut u8,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_USAGE_MATCH {
    pub dwType: DWORD,
    pub Usage: CERT_ENHKEY_USAGE,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_CHAIN_PARA {
    pub cbSize: DWORD,
    pub RequestedUsage: CERT_USAGE_MATCH,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_CHAIN_POLICY_PARA {
    pub cbSize: DWORD,
    pub dwFlags: DWORD,
    pub pvExtraPolicyPara: *mut c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct CERT_CHAIN_POLICY_STATUS {
    pub cbSize: DWORD,
    pub dwError: DWORD,
    pub lChainIndex: i32,
    pub lElementIndex: i32,
    pub pvExtraPolicyStatus: *mut c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SSL_EXTRA_CERT_CHAIN_POLICY_PARA {
    pub cbSize: DWORD,
    pub dwAuthType: DWORD,
    pub fdwChecks: DWORD,
    pub pwszServerName: *const WCHAR,
}

pub const SZ_ALG_MAX_SIZE: usize = 64;

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_CipherInfo {
    pub dwVersion: DWORD,
    pub dwProtocol: DWORD,
    pub dwCipherSuite: DWORD,
    pub dwBaseCipherSuite: DWORD,
    pub szCipherSuite: [WCHAR; SZ_ALG_MAX_SIZE],
    pub szCipher: [WCHAR; SZ_ALG_MAX_SIZE],
    pub dwCipherLen: DWORD,
    pub dwCipherBlockLen: DWORD,
    pub szHash: [WCHAR; SZ_ALG_MAX_SIZE],
    pub dwHashLen: DWORD,
    pub szExchange: [WCHAR; SZ_ALG_MAX_SIZE],
    pub dwMinExchangeLen: DWORD,
    pub dwMaxExchangeLen: DWORD,
    pub szCertificate: [WCHAR; SZ_ALG_MAX_SIZE],
    pub dwKeyType: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_SessionInfo {
    pub dwFlags: DWORD,
    pub cbSessionId: DWORD,
    pub rgbSessionId: [u8; 32],
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_IssuerListInfoEx {
    pub aIssuers: *mut CRYPT_INTEGER_BLOB,
    pub cIssuers: DWORD,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_KeyingMaterialInfo {
    pub cbLabel: u16,
    pub pszLabel: *mut u8,
    pub cbContextValue: u16,
    pub pbContextValue: *mut u8,
    pub cbKeyingMaterial: ULONG,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgContext_KeyingMaterial {
    pub cbKeyingMaterial: ULONG,
    pub pbKeyingMaterial: *mut u8,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgCred_SupportedAlgs {
    pub cSupportedAlgs: DWORD,
    pub palgSupportedAlgs: *mut u32,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SecPkgCred_SupportedProtocols {
    pub grbitProtocol: DWORD,
}

pub const SECPKG_ATTR_ISSUER_LIST_EX: ULONG = 0x59;
pub const SECPKG_ATTR_LOCAL_CERT_CONTEXT: ULONG = 0x54;
pub const SECPKG_ATTR_SESSION_INFO: ULONG = 0x5d;
pub const SECPKG_ATTR_CIPHER_INFO: ULONG = 0x64;
pub const SECPKG_ATTR_KEYING_MATERIAL_INFO: ULONG = 106;
pub const SECPKG_ATTR_KEYING_MATERIAL: ULONG = 107;
pub const SECPKG_ATTR_SUPPORTED_ALGS: ULONG = 86;
pub const SECPKG_ATTR_SUPPORTED_PROTOCOLS: ULONG = 88;
pub const SECPKGCONTEXT_CIPHERINFO_V1: DWORD = 1;
pub const SSL_SESSION_RECONNECT: DWORD = 1;

pub const CERT_CHAIN_POLICY_BASE: usize = 1;
pub const CERT_CHAIN_POLICY_SSL: usize = 4;
pub const AUTHTYPE_CLIENT: DWORD = 1;
pub const AUTHTYPE_SERVER: DWORD = 2;
pub const SECURITY_FLAG_IGNORE_CERT_CN_INVALID: DWORD = 0x1000;
pub const USAGE_MATCH_TYPE_AND: DWORD = 0;
pub const USAGE_MATCH_TYPE_OR: DWORD = 1;
pub const CERT_CHAIN_CACHE_END_CERT: DWORD = 0x1;
pub const CERT_CHAIN_REVOCATION_CHECK_END_CERT: DWORD = 0x1000_0000;
pub const CERT_CHAIN_REVOCATION_CHECK_CHAIN: DWORD = 0x2000_0000;
pub const CERT_CHAIN_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT: DWORD = 0x4000_0000;
pub const HCCE_LOCAL_MACHINE: usize = 1;

pub const CERT_TRUST_IS_NOT_TIME_VALID: DWORD = 0x1;
pub const CERT_TRUST_IS_REVOKED: DWORD = 0x4;
pub const CERT_TRUST_IS_NOT_SIGNATURE_VALID: DWORD = 0x8;
pub const CERT_TRUST_IS_NOT_VALID_FOR_USAGE: DWORD = 0x10;
pub const CERT_TRUST_IS_UNTRUSTED_ROOT: DWORD = 0x20;
pub const CERT_TRUST_REVOCATION_STATUS_UNKNOWN: DWORD = 0x40;
pub const CERT_TRUST_INVALID_EXTENSION: DWORD = 0x100;
pub const CERT_TRUST_INVALID_BASIC_CONSTRAINTS: DWORD = 0x400;
pub const CERT_TRUST_IS_PARTIAL_CHAIN: DWORD = 0x1_0000;
pub const CERT_TRUST_HAS_WEAK_SIGNATURE: DWORD = 0x10_0000;
pub const CERT_TRUST_IS_OFFLINE_REVOCATION: DWORD = 0x100_0000;
pub const CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT: DWORD = 0x800_0000;
pub const CERT_TRUST_IS_SELF_SIGNED: DWORD = 0x8;

pub const CERT_NAME_EMAIL_TYPE: DWORD = 1;
pub const CERT_NAME_ATTR_TYPE: DWORD = 3;
pub const CERT_NAME_SIMPLE_DISPLAY_TYPE: DWORD = 4;
pub const CERT_NAME_FRIENDLY_DISPLAY_TYPE: DWORD = 5;
pub const CERT_NAME_DNS_TYPE: DWORD = 6;
pub const CERT_NAME_URL_TYPE: DWORD = 7;
pub const CERT_NAME_ISSUER_FLAG: DWORD = 0x1;
pub const CERT_NAME_SEARCH_ALL_NAMES_FLAG: DWORD = 0x2;

pub const CERT_STORE_ADD_NEW: DWORD = 1;
pub const CERT_STORE_ADD_USE_EXISTING: DWORD = 2;
pub const CERT_STORE_ADD_REPLACE_EXISTING: DWORD = 3;
pub const CERT_STORE_ADD_ALWAYS: DWORD = 4;

pub const SECBUFFER_APPLICATION_PROTOCOLS: ULONG = 18;
pub const SECPKG_ATTR_APPLICATION_PROTOCOL: ULONG = 35;
pub const SEC_APPLICATION_PROTOCOL_NEGOTIATION_EXT_ALPN: u32 = 2;
pub const SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS_NONE: u32 = 0;
pub const SEC_APPLICATION_PROTOCOL_NEGOTIATION_STATUS_SUCCESS: u32 = 1;

pub const SECBUFFER_VERSION: ULONG = 0;
pub const SECBUFFER_EMPTY: ULONG = 0;
pub const SECBUFFER_DATA: ULONG = 1;
pub const SECBUFFER_TOKEN: ULONG = 2;
pub const SECBUFFER_MISSING: ULONG = 4;
pub const SECBUFFER_EXTRA: ULONG = 5;
pub const SECBUFFER_STREAM_TRAILER: ULONG = 6;
pub const SECBUFFER_STREAM_HEADER: ULONG = 7;
pub const SECBUFFER_ALERT: ULONG = 17;
pub const SECBUFFER_ATTRMASK: ULONG = 0xF000_0000;

pub const SECPKG_CRED_INBOUND: ULONG = 1;
pub const SECPKG_CRED_OUTBOUND: ULONG = 2;

pub const ISC_REQ_REPLAY_DETECT: ULONG = 0x4;
pub const ISC_REQ_SEQUENCE_DETECT: ULONG = 0x8;
pub const ISC_REQ_CONFIDENTIALITY: ULONG = 0x10;
pub const ISC_REQ_USE_SUPPLIED_CREDS: ULONG = 0x80;
pub const ISC_REQ_ALLOCATE_MEMORY: ULONG = 0x100;
pub const ISC_REQ_DATAGRAM: ULONG = 0x400;
pub const ISC_REQ_EXTENDED_ERROR: ULONG = 0x4000;
pub const ISC_REQ_STREAM: ULONG = 0x8000;
pub const ISC_REQ_MANUAL_CRED_VALIDATION: ULONG = 0x80000;
pub const ISC_RET_ALLOCATED_MEMORY: ULONG = 0x100;
pub const ISC_RET_EXTENDED_ERROR: ULONG = 0x4000;
pub const ISC_RET_STREAM: ULONG = 0x8000;
pub const ISC_RET_MANUAL_CRED_VALIDATION: ULONG = 0x80000;

pub const ASC_REQ_MUTUAL_AUTH: ULONG = 0x2;
pub const ASC_REQ_ALLOCATE_MEMORY: ULONG = 0x100;
pub const ASC_REQ_DATAGRAM: ULONG = 0x400;
pub const ASC_REQ_EXTENDED_ERROR: ULONG = 0x8000;
pub const ASC_REQ_STREAM: ULONG = 0x10000;
pub const ASC_RET_ALLOCATED_MEMORY: ULONG = 0x100;
pub const ASC_RET_EXTENDED_ERROR: ULONG = 0x8000;
pub const ASC_RET_STREAM: ULONG = 0x10000;

/// REPLAY_DETECT | SEQUENCE_DETECT | CONFIDENTIALITY: what every TLS context gives (same
/// bits for ISC_RET and ASC_RET).
pub const RET_TLS: ULONG = 0x4 | 0x8 | 0x10;

pub const SECPKG_ATTR_STREAM_SIZES: ULONG = 4;
pub const SECPKG_ATTR_REMOTE_CERT_CONTEXT: ULONG = 0x53;
pub const SECPKG_ATTR_CONNECTION_INFO: ULONG = 0x5a;

pub const SP_PROT_TLS1_SERVER: DWORD = 0x40;
pub const SP_PROT_TLS1_CLIENT: DWORD = 0x80;
pub const SP_PROT_TLS1_1_SERVER: DWORD = 0x100;
pub const SP_PROT_TLS1_1_CLIENT: DWORD = 0x200;
pub const SP_PROT_TLS1_2_SERVER: DWORD = 0x400;
pub const SP_PROT_TLS1_2_CLIENT: DWORD = 0x800;
pub const SP_PROT_TLS1_3_SERVER: DWORD = 0x1000;
pub const SP_PROT_TLS1_3_CLIENT: DWORD = 0x2000;

pub const SCHANNEL_CRED_VERSION: DWORD = 4;
pub const SCH_CREDENTIALS_VERSION: DWORD = 5;

pub const SCH_CRED_NO_SYSTEM_MAPPER: DWORD = 0x2;
pub const SCH_CRED_MANUAL_CRED_VALIDATION: DWORD = 0x8;
pub const SCH_CRED_NO_DEFAULT_CREDS: DWORD = 0x10;
pub const SCH_CRED_AUTO_CRED_VALIDATION: DWORD = 0x20;
pub const SCH_CRED_REVOCATION_CHECK_CHAIN: DWORD = 0x200;
pub const SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT: DWORD = 0x400;
pub const SCH_CRED_IGNORE_NO_REVOCATION_CHECK: DWORD = 0x800;
pub const SCH_CRED_IGNORE_REVOCATION_OFFLINE: DWORD = 0x1000;
pub const SCH_USE_STRONG_CRYPTO: DWORD = 0x40_0000;

pub const SCHANNEL_SHUTDOWN: DWORD = 1;
pub const SCHANNEL_ALERT: DWORD = 2;
pub const TLS1_ALERT_FATAL: DWORD = 2;

pub const X509_ASN_ENCODING: DWORD = 1;
pub const PKCS_7_ASN_ENCODING: DWORD = 0x10000;
pub const CERT_STORE_PROV_MEMORY: usize = 2;
pub const CERT_STORE_PROV_SYSTEM_A: usize = 9;
pub const CERT_STORE_PROV_SYSTEM_W: usize = 10;
pub const CERT_FIND_ANY: DWORD = 0;
pub const CERT_FIND_SHA1_HASH: DWORD = 0x10000;
pub const CERT_FIND_SUBJECT_STR_A: DWORD = 0x70007;
pub const CERT_FIND_SUBJECT_STR_W: DWORD = 0x80007;

pub const CALG_AES_128: u32 = 0x660e;
pub const CALG_AES_256: u32 = 0x6610;
pub const CALG_SHA_256: u32 = 0x800c;
pub const CALG_SHA_384: u32 = 0x800d;
pub const CALG_ECDH_EPHEM: u32 = 0xae06;
pub const CALG_RSA_SIGN: u32 = 0x2400;
pub const CALG_ECDSA: u32 = 0x2203;

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// (type, field or "" for the size, bytes) of every Rust type, for comparison with
    /// the C list.
    macro_rules! layout {
        ($($c:literal => $t:ty { $($f:ident),* })*) => {{
            let mut v: Vec<(&str, &str, usize)> = Vec::new();
            $(
                v.push(($c, "", size_of::<$t>()));
                $( v.push(($c, stringify!($f), offset_of!($t, $f))); )*
            )*
            v
        }};
    }

    /// The table's fields under their C names (the A / W suffix is the C header's).
    fn table_field(c: &str) -> &str {
        c.trim_end_matches(['A', 'W'])
    }

    #[test]
    fn every_struct_has_the_windows_x64_layout_of_the_c_list() {
        let rust = layout! {
            "SecHandle" => SecHandle { dwLower, dwUpper }
            "TimeStamp" => TimeStamp {}
            "SecBuffer" => SecBuffer { cbBuffer, BufferType, pvBuffer }
            "SecBufferDesc" => SecBufferDesc { ulVersion, cBuffers, pBuffers }
            "SecPkgInfoA" => SecPkgInfoA { fCapabilities, wVersion, wRPCID, cbMaxToken, Name, Comment }
            "SecPkgInfoW" => SecPkgInfoW { fCapabilities, wVersion, wRPCID, cbMaxToken, Name, Comment }
            "SecPkgContext_StreamSizes" => SecPkgContext_StreamSizes { cbHeader, cbTrailer, cbMaximumMessage, cBuffers, cbBlockSize }
            "SecPkgContext_ConnectionInfo" => SecPkgContext_ConnectionInfo { dwProtocol, aiCipher, dwCipherStrength, aiHash, dwHashStrength, aiExch, dwExchStrength }
            "SCHANNEL_CRED" => SCHANNEL_CRED { dwVersion, cCreds, paCred, hRootStore, cMappers, aphMappers, cSupportedAlgs, palgSupportedAlgs, grbitEnabledProtocols, dwMinimumCipherStrength, dwMaximumCipherStrength, dwSessionLifespan, dwFlags, dwCredFormat }
            "UNICODE_STRING" => UNICODE_STRING { Length, MaximumLength, Buffer }
            "CRYPTO_SETTINGS" => CRYPTO_SETTINGS { eAlgorithmUsage, strCngAlgId, cChainingModes, rgstrChainingModes, dwMinBitLength, dwMaxBitLength }
            "TLS_PARAMETERS" => TLS_PARAMETERS { cAlpnIds, rgstrAlpnIds, grbitDisabledProtocols, cDisabledCrypto, pDisabledCrypto, dwFlags }
            "SCH_CREDENTIALS" => SCH_CREDENTIALS { dwVersion, dwCredFormat, cCreds, paCred, hRootStore, cMappers, aphMappers, dwSessionLifespan, dwFlags, cTlsParameters, pTlsParameters }
            "SCHANNEL_ALERT_TOKEN" => SCHANNEL_ALERT_TOKEN { dwTokenType, dwAlertType, dwAlertNumber }
            "CRYPT_INTEGER_BLOB" => CRYPT_INTEGER_BLOB { cbData, pbData }
            "CRYPT_ALGORITHM_IDENTIFIER" => CRYPT_ALGORITHM_IDENTIFIER { pszObjId, Parameters }
            "CRYPT_BIT_BLOB" => CRYPT_BIT_BLOB { cbData, pbData, cUnusedBits }
            "CERT_PUBLIC_KEY_INFO" => CERT_PUBLIC_KEY_INFO { Algorithm, PublicKey }
            "FILETIME" => FILETIME { dwLowDateTime, dwHighDateTime }
            "CERT_EXTENSION" => CERT_EXTENSION { pszObjId, fCritical, Value }
            "CERT_INFO" => CERT_INFO { dwVersion, SerialNumber, SignatureAlgorithm, Issuer, NotBefore, NotAfter, Subject, SubjectPublicKeyInfo, IssuerUniqueId, SubjectUniqueId, cExtension, rgExtension }
            "CERT_CONTEXT" => CERT_CONTEXT { dwCertEncodingType, pbCertEncoded, cbCertEncoded, pCertInfo, hCertStore }
            "SEC_APPLICATION_PROTOCOL_LIST" => SEC_APPLICATION_PROTOCOL_LIST { ProtoNegoExt, ProtocolListSize, ProtocolList }
            "SEC_APPLICATION_PROTOCOLS" => SEC_APPLICATION_PROTOCOLS { ProtocolListsSize, ProtocolLists }
            "SecPkgContext_ApplicationProtocol" => SecPkgContext_ApplicationProtocol { ProtoNegoStatus, ProtoNegoExt, ProtocolIdSize, ProtocolId }
            "GUID" => GUID { Data1, Data2, Data3, Data4 }
            "CERT_TRUST_STATUS" => CERT_TRUST_STATUS { dwErrorStatus, dwInfoStatus }
            "CERT_CHAIN_ELEMENT" => CERT_CHAIN_ELEMENT { cbSize, pCertContext, TrustStatus, pRevocationInfo, pIssuanceUsage, pApplicationUsage, pwszExtendedErrorInfo }
            "CERT_SIMPLE_CHAIN" => CERT_SIMPLE_CHAIN { cbSize, TrustStatus, cElement, rgpElement, pTrustListInfo, fHasRevocationFreshnessTime, dwRevocationFreshnessTime }
            "CERT_CHAIN_CONTEXT" => CERT_CHAIN_CONTEXT { cbSize, TrustStatus, cChain, rgpChain, cLowerQualityChainContext, rgpLowerQualityChainContext, fHasRevocationFreshnessTime, dwRevocationFreshnessTime, dwCreateFlags, ChainId }
            "CERT_ENHKEY_USAGE" => CERT_ENHKEY_USAGE { cUsageIdentifier, rgpszUsageIdentifier }
            "CERT_USAGE_MATCH" => CERT_USAGE_MATCH { dwType, Usage }
            "CERT_CHAIN_PARA" => CERT_CHAIN_PARA { cbSize, RequestedUsage }
            "CERT_CHAIN_POLICY_PARA" => CERT_CHAIN_POLICY_PARA { cbSize, dwFlags, pvExtraPolicyPara }
            "CERT_CHAIN_POLICY_STATUS" => CERT_CHAIN_POLICY_STATUS { cbSize, dwError, lChainIndex, lElementIndex, pvExtraPolicyStatus }
            "SSL_EXTRA_CERT_CHAIN_POLICY_PARA" => SSL_EXTRA_CERT_CHAIN_POLICY_PARA { cbSize, dwAuthType, fdwChecks, pwszServerName }
            "SecPkgContext_CipherInfo" => SecPkgContext_CipherInfo { dwVersion, dwProtocol, dwCipherSuite, dwBaseCipherSuite, szCipherSuite, szCipher, dwCipherLen, dwCipherBlockLen, szHash, dwHashLen, szExchange, dwMinExchangeLen, dwMaxExchangeLen, szCertificate, dwKeyType }
            "SecPkgContext_SessionInfo" => SecPkgContext_SessionInfo { dwFlags, cbSessionId, rgbSessionId }
            "SecPkgContext_IssuerListInfoEx" => SecPkgContext_IssuerListInfoEx { aIssuers, cIssuers }
            "SecPkgContext_KeyingMaterialInfo" => SecPkgContext_KeyingMaterialInfo { cbLabel, pszLabel, cbContextValue, pbContextValue, cbKeyingMaterial }
            "SecPkgContext_KeyingMaterial" => SecPkgContext_KeyingMaterial { cbKeyingMaterial, pbKeyingMaterial }
            "SecPkgCred_SupportedAlgs" => SecPkgCred_SupportedAlgs { cSupportedAlgs, palgSupportedAlgs }
            "SecPkgCred_SupportedProtocols" => SecPkgCred_SupportedProtocols { grbitProtocol }
            "SecurityFunctionTable" => SecurityFunctionTable { dwVersion, EnumerateSecurityPackages, QueryCredentialsAttributes, AcquireCredentialsHandle, FreeCredentialsHandle, Reserved2, InitializeSecurityContext, AcceptSecurityContext, CompleteAuthToken, DeleteSecurityContext, ApplyControlToken, QueryContextAttributes, ImpersonateSecurityContext, RevertSecurityContext, MakeSignature, VerifySignature, FreeContextBuffer, QuerySecurityPackageInfo, Reserved3, Reserved4, ExportSecurityContext, ImportSecurityContext, AddCredentials, Reserved8, QuerySecurityContextToken, EncryptMessage, DecryptMessage, SetContextAttributes, SetCredentialsAttributes, ChangeAccountPassword, QueryContextAttributesEx, QueryCredentialsAttributesEx }
        };
        let list = include_str!("../tests/c/layout_list.h");
        let mut checked = 0;
        for fact in list.lines().filter(|l| !l.starts_with([' ', '/', '*'])) {
            for item in fact.split(") ").filter(|s| !s.trim().is_empty()) {
                let item = item.trim().trim_end_matches(')');
                let (kind, args) = item.split_once('(').expect("SIZE(..) or OFF(..)");
                let args: Vec<&str> = args.split(',').map(str::trim).collect();
                let (ty, field, bytes) = match kind {
                    "SIZE" => (args[0], "", args[1]),
                    "OFF" => (args[0], args[1], args[2]),
                    other => panic!("unknown fact {other}"),
                };
                let (ty, field) = match ty {
                    "SecurityFunctionTableA" | "SecurityFunctionTableW" => {
                        ("SecurityFunctionTable", table_field(field))
                    }
                    t => (t, field),
                };
                let bytes: usize = bytes.parse().expect("a number of bytes");
                let found = rust
                    .iter()
                    .find(|(t, f, _)| *t == ty && *f == field)
                    .unwrap_or_else(|| panic!("{ty}.{field} has no Rust counterpart"));
                assert_eq!(found.2, bytes, "{ty}.{field}");
                checked += 1;
            }
        }
        assert!(checked > 150, "only {checked} facts read from the list");
    }
}
