//! TLS alert descriptions and the SSPI status each maps to when received (spec/alerts.toml).

use crate::Status;
use std::fmt;

/// A TLS alert description (RFC 8446 section 6, IANA registry), by its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AlertDescription(pub u8);

/// (code, name, status when received, reserved) for every alert the registry names, in
/// code order: those of spec/alerts.toml, and the ones marked below as beyond it.
const TABLE: &[(u8, &str, Option<Status>, bool)] = &[
    (0, "close_notify", None, false),
    (
        10,
        "unexpected_message",
        Some(Status::IllegalMessage),
        false,
    ),
    (20, "bad_record_mac", Some(Status::MessageAltered), false),
    (21, "decryption_failed", Some(Status::DecryptFailure), true),
    (22, "record_overflow", Some(Status::IllegalMessage), false),
    (
        30,
        "decompression_failure",
        Some(Status::MessageAltered),
        true,
    ),
    (40, "handshake_failure", Some(Status::IllegalMessage), false),
    (41, "no_certificate", None, true),
    (42, "bad_certificate", Some(Status::CertUnknown), false),
    (
        43,
        "unsupported_certificate",
        Some(Status::CertUnknown),
        false,
    ),
    (
        44,
        "certificate_revoked",
        Some(Status::CryptERevoked),
        false,
    ),
    (45, "certificate_expired", Some(Status::CertExpired), false),
    (46, "certificate_unknown", Some(Status::CertUnknown), false),
    (47, "illegal_parameter", Some(Status::IllegalMessage), false),
    (48, "unknown_ca", Some(Status::UntrustedRoot), false),
    (49, "access_denied", Some(Status::LogonDenied), false),
    (50, "decode_error", Some(Status::IllegalMessage), false),
    (51, "decrypt_error", Some(Status::DecryptFailure), false),
    (60, "export_restriction", Some(Status::IllegalMessage), true),
    (
        70,
        "protocol_version",
        Some(Status::UnsupportedFunction),
        false,
    ),
    (
        71,
        "insufficient_security",
        Some(Status::AlgorithmMismatch),
        false,
    ),
    (80, "internal_error", Some(Status::InternalError), false),
    (86, "inappropriate_fallback", None, false),
    (
        90,
        "user_canceled",
        Some(Status::UnfinishedContextDeleted),
        false,
    ),
    (100, "no_renegotiation", Some(Status::IllegalMessage), true),
    (109, "missing_extension", None, false),
    (
        110,
        "unsupported_extension",
        Some(Status::IllegalMessage),
        false,
    ),
    (111, "certificate_unobtainable", None, true),
    (112, "unrecognized_name", None, false),
    (113, "bad_certificate_status_response", None, false),
    (114, "bad_certificate_hash_value", None, true),
    (115, "unknown_psk_identity", None, false),
    (116, "certificate_required", None, false),
    (120, "no_application_protocol", None, false),
    // Beyond spec/alerts.toml: RFC 9849 (Encrypted Client Hello) section 6.1.6, sent by a
    // client whose ECH offer the server rejected. No status in the spec's table, so "any
    // other code" applies. The spec test lists it as known beyond the spec.
    (121, "encrypted_client_hello_required", None, false),
];

impl AlertDescription {
    /// close_notify (0).
    pub const CLOSE_NOTIFY: AlertDescription = AlertDescription(0);
    /// unexpected_message (10).
    pub const UNEXPECTED_MESSAGE: AlertDescription = AlertDescription(10);
    /// bad_record_mac (20).
    pub const BAD_RECORD_MAC: AlertDescription = AlertDescription(20);
    /// decryption_failed (21).
    pub const DECRYPTION_FAILED: AlertDescription = AlertDescription(21);
    /// record_overflow (22).
    pub const RECORD_OVERFLOW: AlertDescription = AlertDescription(22);
    /// decompression_failure (30).
    pub const DECOMPRESSION_FAILURE: AlertDescription = AlertDescription(30);
    /// handshake_failure (40).
    pub const HANDSHAKE_FAILURE: AlertDescription = AlertDescription(40);
    /// no_certificate (41).
    pub const NO_CERTIFICATE: AlertDescription = AlertDescription(41);
    /// bad_certificate (42).
    pub const BAD_CERTIFICATE: AlertDescription = AlertDescription(42);
    /// unsupported_certificate (43).
    pub const UNSUPPORTED_CERTIFICATE: AlertDescription = AlertDescription(43);
    /// certificate_revoked (44).
    pub const CERTIFICATE_REVOKED: AlertDescription = AlertDescription(44);
    /// certificate_expired (45).
    pub const CERTIFICATE_EXPIRED: AlertDescription = AlertDescription(45);
    /// certificate_unknown (46).
    pub const CERTIFICATE_UNKNOWN: AlertDescription = AlertDescription(46);
    /// illegal_parameter (47).
    pub const ILLEGAL_PARAMETER: AlertDescription = AlertDescription(47);
    /// unknown_ca (48).
    pub const UNKNOWN_CA: AlertDescription = AlertDescription(48);
    /// access_denied (49).
    pub const ACCESS_DENIED: AlertDescription = AlertDescription(49);
    /// decode_error (50).
    pub const DECODE_ERROR: AlertDescription = AlertDescription(50);
    /// decrypt_error (51).
    pub const DECRYPT_ERROR: AlertDescription = AlertDescription(51);
    /// export_restriction (60).
    pub const EXPORT_RESTRICTION: AlertDescription = AlertDescription(60);
    /// protocol_version (70).
    pub const PROTOCOL_VERSION: AlertDescription = AlertDescription(70);
    /// insufficient_security (71).
    pub const INSUFFICIENT_SECURITY: AlertDescription = AlertDescription(71);
    /// internal_error (80).
    pub const INTERNAL_ERROR: AlertDescription = AlertDescription(80);
    /// inappropriate_fallback (86).
    pub const INAPPROPRIATE_FALLBACK: AlertDescription = AlertDescription(86);
    /// user_canceled (90).
    pub const USER_CANCELED: AlertDescription = AlertDescription(90);
    /// no_renegotiation (100).
    pub const NO_RENEGOTIATION: AlertDescription = AlertDescription(100);
    /// missing_extension (109).
    pub const MISSING_EXTENSION: AlertDescription = AlertDescription(109);
    /// unsupported_extension (110).
    pub const UNSUPPORTED_EXTENSION: AlertDescription = AlertDescription(110);
    /// certificate_unobtainable (111).
    pub const CERTIFICATE_UNOBTAINABLE: AlertDescription = AlertDescription(111);
    /// unrecognized_name (112).
    pub const UNRECOGNIZED_NAME: AlertDescription = AlertDescription(112);
    /// bad_certificate_status_response (113).
    pub const BAD_CERTIFICATE_STATUS_RESPONSE: AlertDescription = AlertDescription(113);
    /// bad_certificate_hash_value (114).
    pub const BAD_CERTIFICATE_HASH_VALUE: AlertDescription = AlertDescription(114);
    /// unknown_psk_identity (115).
    pub const UNKNOWN_PSK_IDENTITY: AlertDescription = AlertDescription(115);
    /// certificate_required (116).
    pub const CERTIFICATE_REQUIRED: AlertDescription = AlertDescription(116);
    /// no_application_protocol (120).
    pub const NO_APPLICATION_PROTOCOL: AlertDescription = AlertDescription(120);
    /// encrypted_client_hello_required (121).
    pub const ENCRYPTED_CLIENT_HELLO_REQUIRED: AlertDescription = AlertDescription(121);

    fn row(self) -> Option<&'static (u8, &'static str, Option<Status>, bool)> {
        TABLE.iter().find(|r| r.0 == self.0)
    }

    /// The registry's name, e.g. `unknown_ca`; `None` for an unassigned code.
    pub fn name(self) -> Option<&'static str> {
        self.row().map(|r| r.1)
    }

    /// The alert with this registry name.
    pub fn from_name(name: &str) -> Option<AlertDescription> {
        TABLE
            .iter()
            .find(|r| r.1.eq_ignore_ascii_case(name))
            .map(|r| AlertDescription(r.0))
    }

    /// Whether the registry marks the code as reserved (no longer sent by TLS 1.2+).
    pub fn is_reserved(self) -> bool {
        self.row().is_some_and(|r| r.3)
    }

    /// The status Schannel returns when it receives this alert as fatal.
    ///
    /// Codes the table gives no status for (and unknown codes) map to
    /// SEC_E_ILLEGAL_MESSAGE, as alerts.toml says.
    pub fn received_status(self) -> Status {
        self.row()
            .and_then(|r| r.2)
            .unwrap_or(Status::IllegalMessage)
    }

    /// Every alert the registry names.
    pub fn all() -> impl Iterator<Item = AlertDescription> {
        TABLE.iter().map(|r| AlertDescription(r.0))
    }
}

impl fmt::Display for AlertDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{} ({})", n, self.0),
            None => write!(f, "unassigned alert ({})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every named constant, with the registry name it stands for.
    const NAMED: &[(AlertDescription, &str)] = &[
        (AlertDescription::CLOSE_NOTIFY, "close_notify"),
        (AlertDescription::UNEXPECTED_MESSAGE, "unexpected_message"),
        (AlertDescription::BAD_RECORD_MAC, "bad_record_mac"),
        (AlertDescription::DECRYPTION_FAILED, "decryption_failed"),
        (AlertDescription::RECORD_OVERFLOW, "record_overflow"),
        (
            AlertDescription::DECOMPRESSION_FAILURE,
            "decompression_failure",
        ),
        (AlertDescription::HANDSHAKE_FAILURE, "handshake_failure"),
        (AlertDescription::NO_CERTIFICATE, "no_certificate"),
        (AlertDescription::BAD_CERTIFICATE, "bad_certificate"),
        (
            AlertDescription::UNSUPPORTED_CERTIFICATE,
            "unsupported_certificate",
        ),
        (AlertDescription::CERTIFICATE_REVOKED, "certificate_revoked"),
        (AlertDescription::CERTIFICATE_EXPIRED, "certificate_expired"),
        (AlertDescription::CERTIFICATE_UNKNOWN, "certificate_unknown"),
        (AlertDescription::ILLEGAL_PARAMETER, "illegal_parameter"),
        (AlertDescription::UNKNOWN_CA, "unknown_ca"),
        (AlertDescription::ACCESS_DENIED, "access_denied"),
        (AlertDescription::DECODE_ERROR, "decode_error"),
        (AlertDescription::DECRYPT_ERROR, "decrypt_error"),
        (AlertDescription::EXPORT_RESTRICTION, "export_restriction"),
        (AlertDescription::PROTOCOL_VERSION, "protocol_version"),
        (
            AlertDescription::INSUFFICIENT_SECURITY,
            "insufficient_security",
        ),
        (AlertDescription::INTERNAL_ERROR, "internal_error"),
        (
            AlertDescription::INAPPROPRIATE_FALLBACK,
            "inappropriate_fallback",
        ),
        (AlertDescription::USER_CANCELED, "user_canceled"),
        (AlertDescription::NO_RENEGOTIATION, "no_renegotiation"),
        (AlertDescription::MISSING_EXTENSION, "missing_extension"),
        (
            AlertDescription::UNSUPPORTED_EXTENSION,
            "unsupported_extension",
        ),
        (
            AlertDescription::CERTIFICATE_UNOBTAINABLE,
            "certificate_unobtainable",
        ),
        (AlertDescription::UNRECOGNIZED_NAME, "unrecognized_name"),
        (
            AlertDescription::BAD_CERTIFICATE_STATUS_RESPONSE,
            "bad_certificate_status_response",
        ),
        (
            AlertDescription::BAD_CERTIFICATE_HASH_VALUE,
            "bad_certificate_hash_value",
        ),
        (
            AlertDescription::UNKNOWN_PSK_IDENTITY,
            "unknown_psk_identity",
        ),
        (
            AlertDescription::CERTIFICATE_REQUIRED,
            "certificate_required",
        ),
        (
            AlertDescription::NO_APPLICATION_PROTOCOL,
            "no_application_protocol",
        ),
        (
            AlertDescription::ENCRYPTED_CLIENT_HELLO_REQUIRED,
            "encrypted_client_hello_required",
        ),
    ];

    #[test]
    fn every_alert_of_the_table_has_its_named_constant() {
        for (alert, name) in NAMED {
            assert_eq!(alert.name(), Some(*name), "{}", alert.0);
        }
        let named: Vec<u8> = NAMED.iter().map(|(a, _)| a.0).collect();
        let table: Vec<u8> = AlertDescription::all().map(|a| a.0).collect();
        assert_eq!(
            named, table,
            "one constant per alert of the table, in code order"
        );
    }

    #[test]
    fn ech_required_is_named_not_unassigned() {
        let alert = AlertDescription(121);
        assert_eq!(alert.name(), Some("encrypted_client_hello_required"));
        assert_eq!(alert.to_string(), "encrypted_client_hello_required (121)");
        assert_eq!(alert.received_status(), Status::IllegalMessage);
    }
}
