//! SSPI / CryptoAPI status codes with their exact HRESULT values (spec/status.toml), and
//! the CryptoAPI certificate-chain codes beside them (spec/chain-status.toml): one table.

use std::fmt;

/// An SSPI status code. The discriminant is the exact Windows value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum Status {
    /// `SEC_E_OK` (0x00000000).
    Ok = 0x00000000,
    /// `SEC_I_CONTINUE_NEEDED` (0x00090312).
    ContinueNeeded = 0x00090312,
    /// `SEC_I_COMPLETE_NEEDED` (0x00090313).
    CompleteNeeded = 0x00090313,
    /// `SEC_I_COMPLETE_AND_CONTINUE` (0x00090314).
    CompleteAndContinue = 0x00090314,
    /// `SEC_I_CONTEXT_EXPIRED` (0x00090317).
    ContextExpiredInfo = 0x00090317,
    /// `SEC_I_INCOMPLETE_CREDENTIALS` (0x00090320).
    IncompleteCredentialsInfo = 0x00090320,
    /// `SEC_I_RENEGOTIATE` (0x00090321).
    Renegotiate = 0x00090321,
    /// `SEC_I_NO_RENEGOTIATION` (0x00090360).
    NoRenegotiation = 0x00090360,
    /// `SEC_I_MESSAGE_FRAGMENT` (0x00090364).
    MessageFragment = 0x00090364,
    /// `SEC_E_INSUFFICIENT_MEMORY` (0x80090300).
    InsufficientMemory = 0x80090300,
    /// `SEC_E_INVALID_HANDLE` (0x80090301).
    InvalidHandle = 0x80090301,
    /// `SEC_E_UNSUPPORTED_FUNCTION` (0x80090302).
    UnsupportedFunction = 0x80090302,
    /// `SEC_E_TARGET_UNKNOWN` (0x80090303).
    TargetUnknown = 0x80090303,
    /// `SEC_E_INTERNAL_ERROR` (0x80090304).
    InternalError = 0x80090304,
    /// `SEC_E_INVALID_TOKEN` (0x80090308).
    InvalidToken = 0x80090308,
    /// `SEC_E_LOGON_DENIED` (0x8009030C).
    LogonDenied = 0x8009030C,
    /// `SEC_E_UNKNOWN_CREDENTIALS` (0x8009030D).
    UnknownCredentials = 0x8009030D,
    /// `SEC_E_NO_CREDENTIALS` (0x8009030E).
    NoCredentials = 0x8009030E,
    /// `SEC_E_MESSAGE_ALTERED` (0x8009030F).
    MessageAltered = 0x8009030F,
    /// `SEC_E_OUT_OF_SEQUENCE` (0x80090310).
    OutOfSequence = 0x80090310,
    /// `SEC_E_NO_AUTHENTICATING_AUTHORITY` (0x80090311).
    NoAuthenticatingAuthority = 0x80090311,
    /// `SEC_E_CONTEXT_EXPIRED` (0x80090317).
    ContextExpired = 0x80090317,
    /// `SEC_E_INCOMPLETE_MESSAGE` (0x80090318).
    IncompleteMessage = 0x80090318,
    /// `SEC_E_INCOMPLETE_CREDENTIALS` (0x80090320).
    IncompleteCredentials = 0x80090320,
    /// `SEC_E_BUFFER_TOO_SMALL` (0x80090321).
    BufferTooSmall = 0x80090321,
    /// `SEC_E_WRONG_PRINCIPAL` (0x80090322).
    WrongPrincipal = 0x80090322,
    /// `SEC_E_TIME_SKEW` (0x80090324).
    TimeSkew = 0x80090324,
    /// `SEC_E_UNTRUSTED_ROOT` (0x80090325).
    UntrustedRoot = 0x80090325,
    /// `SEC_E_ILLEGAL_MESSAGE` (0x80090326).
    IllegalMessage = 0x80090326,
    /// `SEC_E_CERT_UNKNOWN` (0x80090327).
    CertUnknown = 0x80090327,
    /// `SEC_E_CERT_EXPIRED` (0x80090328).
    CertExpired = 0x80090328,
    /// `SEC_E_ENCRYPT_FAILURE` (0x80090329).
    EncryptFailure = 0x80090329,
    /// `SEC_E_DECRYPT_FAILURE` (0x80090330).
    DecryptFailure = 0x80090330,
    /// `SEC_E_ALGORITHM_MISMATCH` (0x80090331).
    AlgorithmMismatch = 0x80090331,
    /// `SEC_E_UNFINISHED_CONTEXT_DELETED` (0x80090333).
    UnfinishedContextDeleted = 0x80090333,
    /// `SEC_E_CERT_WRONG_USAGE` (0x80090349).
    CertWrongUsage = 0x80090349,
    /// `SEC_E_INVALID_PARAMETER` (0x8009035D).
    InvalidParameter = 0x8009035D,
    /// `SEC_E_APPLICATION_PROTOCOL_MISMATCH` (0x80090367).
    ApplicationProtocolMismatch = 0x80090367,
    /// `CRYPT_E_NOT_FOUND` (0x80092004).
    CryptENotFound = 0x80092004,
    /// `CRYPT_E_REVOKED` (0x80092010).
    CryptERevoked = 0x80092010,
    /// `CRYPT_E_NO_REVOCATION_CHECK` (0x80092012).
    CryptENoRevocationCheck = 0x80092012,
    /// `CRYPT_E_REVOCATION_OFFLINE` (0x80092013).
    CryptERevocationOffline = 0x80092013,
    /// `CERTSRV_E_WEAK_SIGNATURE_OR_KEY` (0x80094016).
    CertsrvEWeakSignatureOrKey = 0x80094016,
    /// `TRUST_E_CERT_SIGNATURE` (0x80096004).
    TrustECertSignature = 0x80096004,
    /// `TRUST_E_BASIC_CONSTRAINTS` (0x80096019).
    TrustEBasicConstraints = 0x80096019,
    /// `CERT_E_EXPIRED` (0x800B0101).
    CertEExpired = 0x800B0101,
    /// `CERT_E_VALIDITYPERIODNESTING` (0x800B0102).
    CertEValidityPeriodNesting = 0x800B0102,
    /// `CERT_E_ROLE` (0x800B0103).
    CertERole = 0x800B0103,
    /// `CERT_E_PATHLENCONST` (0x800B0104).
    CertEPathLenConst = 0x800B0104,
    /// `CERT_E_CRITICAL` (0x800B0105).
    CertECritical = 0x800B0105,
    /// `CERT_E_PURPOSE` (0x800B0106).
    CertEPurpose = 0x800B0106,
    /// `CERT_E_ISSUERCHAINING` (0x800B0107).
    CertEIssuerChaining = 0x800B0107,
    /// `CERT_E_MALFORMED` (0x800B0108).
    CertEMalformed = 0x800B0108,
    /// `CERT_E_UNTRUSTEDROOT` (0x800B0109).
    CertEUntrustedRoot = 0x800B0109,
    /// `CERT_E_CHAINING` (0x800B010A).
    CertEChaining = 0x800B010A,
    /// `TRUST_E_FAIL` (0x800B010B).
    TrustEFail = 0x800B010B,
    /// `CERT_E_REVOKED` (0x800B010C).
    CertERevoked = 0x800B010C,
    /// `CERT_E_REVOCATION_FAILURE` (0x800B010E).
    CertERevocationFailure = 0x800B010E,
    /// `CERT_E_CN_NO_MATCH` (0x800B010F).
    CertECnNoMatch = 0x800B010F,
    /// `CERT_E_WRONG_USAGE` (0x800B0110).
    CertEWrongUsage = 0x800B0110,
    /// `TRUST_E_EXPLICIT_DISTRUST` (0x800B0111).
    TrustEExplicitDistrust = 0x800B0111,
    /// `CERT_E_INVALID_POLICY` (0x800B0113).
    CertEInvalidPolicy = 0x800B0113,
    /// `CERT_E_INVALID_NAME` (0x800B0114).
    CertEInvalidName = 0x800B0114,
}

/// Every status, with its Windows symbolic name, in value order.
const TABLE: &[(Status, &str)] = &[
    (Status::Ok, "SEC_E_OK"),
    (Status::ContinueNeeded, "SEC_I_CONTINUE_NEEDED"),
    (Status::CompleteNeeded, "SEC_I_COMPLETE_NEEDED"),
    (Status::CompleteAndContinue, "SEC_I_COMPLETE_AND_CONTINUE"),
    (Status::ContextExpiredInfo, "SEC_I_CONTEXT_EXPIRED"),
    (
        Status::IncompleteCredentialsInfo,
        "SEC_I_INCOMPLETE_CREDENTIALS",
    ),
    (Status::Renegotiate, "SEC_I_RENEGOTIATE"),
    (Status::NoRenegotiation, "SEC_I_NO_RENEGOTIATION"),
    (Status::MessageFragment, "SEC_I_MESSAGE_FRAGMENT"),
    (Status::InsufficientMemory, "SEC_E_INSUFFICIENT_MEMORY"),
    (Status::InvalidHandle, "SEC_E_INVALID_HANDLE"),
    (Status::UnsupportedFunction, "SEC_E_UNSUPPORTED_FUNCTION"),
    (Status::TargetUnknown, "SEC_E_TARGET_UNKNOWN"),
    (Status::InternalError, "SEC_E_INTERNAL_ERROR"),
    (Status::InvalidToken, "SEC_E_INVALID_TOKEN"),
    (Status::LogonDenied, "SEC_E_LOGON_DENIED"),
    (Status::UnknownCredentials, "SEC_E_UNKNOWN_CREDENTIALS"),
    (Status::NoCredentials, "SEC_E_NO_CREDENTIALS"),
    (Status::MessageAltered, "SEC_E_MESSAGE_ALTERED"),
    (Status::OutOfSequence, "SEC_E_OUT_OF_SEQUENCE"),
    (
        Status::NoAuthenticatingAuthority,
        "SEC_E_NO_AUTHENTICATING_AUTHORITY",
    ),
    (Status::ContextExpired, "SEC_E_CONTEXT_EXPIRED"),
    (Status::IncompleteMessage, "SEC_E_INCOMPLETE_MESSAGE"),
    (
        Status::IncompleteCredentials,
        "SEC_E_INCOMPLETE_CREDENTIALS",
    ),
    (Status::BufferTooSmall, "SEC_E_BUFFER_TOO_SMALL"),
    (Status::WrongPrincipal, "SEC_E_WRONG_PRINCIPAL"),
    (Status::TimeSkew, "SEC_E_TIME_SKEW"),
    (Status::UntrustedRoot, "SEC_E_UNTRUSTED_ROOT"),
    (Status::IllegalMessage, "SEC_E_ILLEGAL_MESSAGE"),
    (Status::CertUnknown, "SEC_E_CERT_UNKNOWN"),
    (Status::CertExpired, "SEC_E_CERT_EXPIRED"),
    (Status::EncryptFailure, "SEC_E_ENCRYPT_FAILURE"),
    (Status::DecryptFailure, "SEC_E_DECRYPT_FAILURE"),
    (Status::AlgorithmMismatch, "SEC_E_ALGORITHM_MISMATCH"),
    (
        Status::UnfinishedContextDeleted,
        "SEC_E_UNFINISHED_CONTEXT_DELETED",
    ),
    (Status::CertWrongUsage, "SEC_E_CERT_WRONG_USAGE"),
    (Status::InvalidParameter, "SEC_E_INVALID_PARAMETER"),
    (
        Status::ApplicationProtocolMismatch,
        "SEC_E_APPLICATION_PROTOCOL_MISMATCH",
    ),
    (Status::CryptENotFound, "CRYPT_E_NOT_FOUND"),
    (Status::CryptERevoked, "CRYPT_E_REVOKED"),
    (
        Status::CryptENoRevocationCheck,
        "CRYPT_E_NO_REVOCATION_CHECK",
    ),
    (
        Status::CryptERevocationOffline,
        "CRYPT_E_REVOCATION_OFFLINE",
    ),
    (
        Status::CertsrvEWeakSignatureOrKey,
        "CERTSRV_E_WEAK_SIGNATURE_OR_KEY",
    ),
    (Status::TrustECertSignature, "TRUST_E_CERT_SIGNATURE"),
    (Status::TrustEBasicConstraints, "TRUST_E_BASIC_CONSTRAINTS"),
    (Status::CertEExpired, "CERT_E_EXPIRED"),
    (
        Status::CertEValidityPeriodNesting,
        "CERT_E_VALIDITYPERIODNESTING",
    ),
    (Status::CertERole, "CERT_E_ROLE"),
    (Status::CertEPathLenConst, "CERT_E_PATHLENCONST"),
    (Status::CertECritical, "CERT_E_CRITICAL"),
    (Status::CertEPurpose, "CERT_E_PURPOSE"),
    (Status::CertEIssuerChaining, "CERT_E_ISSUERCHAINING"),
    (Status::CertEMalformed, "CERT_E_MALFORMED"),
    (Status::CertEUntrustedRoot, "CERT_E_UNTRUSTEDROOT"),
    (Status::CertEChaining, "CERT_E_CHAINING"),
    (Status::TrustEFail, "TRUST_E_FAIL"),
    (Status::CertERevoked, "CERT_E_REVOKED"),
    (Status::CertERevocationFailure, "CERT_E_REVOCATION_FAILURE"),
    (Status::CertECnNoMatch, "CERT_E_CN_NO_MATCH"),
    (Status::CertEWrongUsage, "CERT_E_WRONG_USAGE"),
    (Status::TrustEExplicitDistrust, "TRUST_E_EXPLICIT_DISTRUST"),
    (Status::CertEInvalidPolicy, "CERT_E_INVALID_POLICY"),
    (Status::CertEInvalidName, "CERT_E_INVALID_NAME"),
];

impl Status {
    /// The exact Windows value.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The Windows symbolic name, e.g. `SEC_E_UNTRUSTED_ROOT`.
    pub fn name(self) -> &'static str {
        TABLE
            .iter()
            .find(|(s, _)| *s == self)
            .map(|(_, n)| *n)
            .unwrap_or("SEC_E_UNKNOWN")
    }

    /// The status with this value, if the table has it.
    pub fn from_code(code: u32) -> Option<Status> {
        TABLE
            .iter()
            .find(|(s, _)| s.code() == code)
            .map(|(s, _)| *s)
    }

    /// The status with this symbolic name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Status> {
        TABLE
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(s, _)| *s)
    }

    /// Whether this is an error (severity bit set) rather than success / information.
    pub fn is_error(self) -> bool {
        self.code() & 0x8000_0000 != 0
    }

    /// Every status in the table.
    pub fn all() -> impl Iterator<Item = Status> {
        TABLE.iter().map(|(s, _)| *s)
    }

    /// The value as events print it: `0x80090325`.
    pub fn hex(self) -> String {
        format!("0x{:08X}", self.code())
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:08X})", self.name(), self.code())
    }
}
