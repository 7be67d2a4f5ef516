//! securechannel-sspi: the SSPI C ABI of securechannel. Windows code that calls Schannel
//! (AcquireCredentialsHandle, InitializeSecurityContext, AcceptSecurityContext,
//! EncryptMessage, DecryptMessage, QueryContextAttributes, QueryCredentialsAttributes,
//! ApplyControlToken, and the crypt32 calls that pick a certificate and, for manual
//! validation, judge the peer's: CertGetCertificateChain, CertVerifyCertificateChainPolicy)
//! builds against `include/securechannel_sspi.h`
//! and links `libsecurechannel_sspi.so` (or `.a`).
//!
//! Everything TLS is the provider's (`securechannel`: rustls, aws-lc-rs, rustls-webpki):
//! this crate translates Windows' structures, buffers and handles, and logs through the
//! same provider into the data directory's System log (`SCHANNEL_DATA`, else
//! `./schannel-data`), so a C program's handshakes appear in `schannel events`.
//!
//! - `abi`: the C types, with Windows' x64 layouts (checked against the SDK's);
//! - `ffi`: the panic barrier and the checks of the caller's pointers and buffers;
//! - `handles`: the handle registry (a freed or forged handle is SEC_E_INVALID_HANDLE);
//! - `runtime`: the package (the provider on the data directory, and its log);
//! - `package`: the function table, package information, FreeContextBuffer;
//! - `credentials`: AcquireCredentialsHandle (SCHANNEL_CRED, SCH_CREDENTIALS);
//! - `context`: the handshake calls, ApplyControlToken, QueryContextAttributes;
//! - `messages`: EncryptMessage / DecryptMessage;
//! - `crypt32`: certificate stores (system and memory) and contexts;
//! - `chain`: certificate chains and the SSL chain policy (the manual-validation flow);
//! - `names`: CertGetNameString.
//!
//! This is the workspace's one crate with `unsafe` code, as a C ABI must: every export
//! catches panics (`catch_unwind` → SEC_E_INTERNAL_ERROR), checks its pointers and buffer
//! counts before use, and every `unsafe` block says why it is sound (`// SAFETY:`,
//! enforced by clippy's `undocumented_unsafe_blocks`).
#![warn(missing_docs)]

pub mod abi;
mod chain;
mod context;
mod credentials;
mod crypt32;
mod ffi;
mod handles;
mod messages;
mod names;
mod package;
mod runtime;

pub use chain::{
    CertFreeCertificateChain, CertGetCertificateChain, CertVerifyCertificateChainPolicy,
};
pub use context::{
    AcceptSecurityContext, ApplyControlToken, DeleteSecurityContext, InitializeSecurityContextA,
    InitializeSecurityContextW, QueryContextAttributesA, QueryContextAttributesW,
    SetContextAttributesA, SetContextAttributesW,
};
pub use credentials::{
    AcquireCredentialsHandleA, AcquireCredentialsHandleW, FreeCredentialsHandle,
    QueryCredentialsAttributesA, QueryCredentialsAttributesW,
};
pub use crypt32::{
    CertAddCertificateContextToStore, CertAddEncodedCertificateToStore, CertCloseStore,
    CertCreateCertificateContext, CertDuplicateCertificateContext, CertEnumCertificatesInStore,
    CertFindCertificateInStore, CertFreeCertificateContext, CertOpenStore, CertOpenSystemStoreA,
    CertOpenSystemStoreW,
};
pub use messages::{DecryptMessage, EncryptMessage};
pub use names::{CertGetNameStringA, CertGetNameStringW};
pub use package::{
    EnumerateSecurityPackagesA, EnumerateSecurityPackagesW, FreeContextBuffer,
    InitSecurityInterfaceA, InitSecurityInterfaceW, QuerySecurityPackageInfoA,
    QuerySecurityPackageInfoW,
};
