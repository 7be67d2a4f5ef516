//! The provider's internal error states: a stable number per reason, printed in 36870
//! (`ErrorStatus`), 36871 (`ErrorState`) and 36888 (`ErrorState`), and explained by
//! `schannel explain state N`. The doc comment of each state is its explanation.

use std::fmt;

macro_rules! error_states {
    ($( $(#[doc = $doc:literal])+ $name:ident = $code:literal, )+) => {
        /// Internal error states: a stable number per reason, printed in 36870 (`ErrorStatus`),
        /// 36871 (`ErrorState`) and 36888 (`ErrorState`). This enum is the one table of them;
        /// numbers are never reused or renumbered.
        ///
        /// Ranges: 1xxx credential acquisition (36871), 2xxx private keys (36870),
        /// 3xxx refused handshakes and records (36888 when an alert went out), 4xxx provider
        /// initialisation (36865/36866).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        #[non_exhaustive]
        pub enum ErrorState {
            $( $(#[doc = $doc])+ $name = $code, )+
        }

        impl ErrorState {
            /// Every error state, in number order.
            pub const ALL: &'static [ErrorState] = &[$(ErrorState::$name),+];

            /// What the state means: its documentation, as one paragraph.
            pub fn summary(self) -> String {
                let lines: &[&str] = match self {
                    $( ErrorState::$name => &[$($doc),+], )+
                };
                lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
            }

            /// The variant's name (`HandshakeInterleaved`).
            pub fn name(self) -> &'static str {
                match self {
                    $( ErrorState::$name => stringify!($name), )+
                }
            }
        }
    };
}

error_states! {
    /// A server credential was given no certificate and none was asked from the store.
    NoCertificate = 1001,
    /// The certificate file cannot be read or holds no certificate.
    CertificateUnreadable = 1002,
    /// The certificate is not valid X.509.
    CertificateInvalid = 1003,
    /// No protocol version that rustls speaks is enabled for this role.
    NoProtocolEnabled = 1004,
    /// The machine store has no certificate with this thumbprint or subject.
    CertificateNotFound = 1005,
    /// The certificate store directory cannot be read.
    StoreUnreadable = 1006,
    /// The TLS engine rejected the configuration built from the credential.
    EngineConfiguration = 1007,
    /// The certificate has no private key (36869): no key file, no key in keys/ or in
    /// the .pfx with its public key.
    NoPrivateKey = 1008,
    /// The private key given belongs to another certificate (36869).
    KeyMismatch = 1009,
    /// The PKCS#12 (.pfx) file is not valid PKCS#12.
    Pkcs12Invalid = 1010,
    /// The development certificate (first run of `schannel serve`) cannot be created.
    DevCertificateFailed = 1011,
    /// The settings leave no cipher suite usable with the credential's protocols (what
    /// `Protocols`, `Ciphers`, `Hashes`, `KeyExchangeAlgorithms` and the
    /// `CipherSuiteOrder` leave, see `schannel config show`): a server credential is
    /// refused (36871, SEC_E_ALGORITHM_MISMATCH); a client's contexts log 36873.
    NoUsableCipherSuite = 1012,
    /// The data directory's `mappings.toml` (client-certificate mapping rules) does not
    /// parse or holds a rule that cannot be used: a server credential that asks for client
    /// certificates is refused (36871), naming the file, the line and the problem.
    MappingsInvalid = 1013,
    /// The file named for the dangerous key log (TLS session secrets, for Wireshark)
    /// cannot be opened for appending: its directory is missing or not writable.
    KeyLogUnwritable = 1014,

    /// The key file cannot be read (permissions, missing).
    KeyUnreadable = 2001,
    /// The key file is readable by group or others; refused.
    KeyPermissionsUnsafe = 2002,
    /// The .pfx password is wrong or missing.
    KeyWrongPassword = 2003,
    /// The key file is not a key in any supported encoding.
    KeyCorrupt = 2004,
    /// The key's algorithm is not supported by the crypto provider.
    KeyUnsupported = 2005,

    /// We rejected the peer's certificate (the alert follows the certificate error, as
    /// rustls maps it: unknown_ca, certificate_expired, bad_certificate, ...).
    PeerCertificateRejected = 3001,
    /// A record or handshake message could not be decoded (decode_error).
    MalformedMessage = 3002,
    /// A record failed authentication or decryption (bad_record_mac).
    RecordDecryptFailed = 3003,
    /// A record's plaintext exceeded the protocol's limit (record_overflow).
    RecordOverflow = 3004,
    /// A message arrived that the handshake state does not allow (unexpected_message).
    UnexpectedMessage = 3005,
    /// The peer offers no protocol version we have enabled (protocol_version).
    NoSharedProtocol = 3006,
    /// The peer offers no cipher suite, group or signature scheme we accept
    /// (handshake_failure).
    NoSharedAlgorithm = 3007,
    /// A field of the peer's message holds a value the protocol forbids
    /// (illegal_parameter).
    IllegalParameter = 3008,
    /// The peer left out an extension the protocol requires (missing_extension).
    MissingExtension = 3009,
    /// The peer sent an extension it must not send there (unsupported_extension).
    UnsupportedExtension = 3010,
    /// The peer broke the protocol in a way rustls answers with another alert.
    PeerMisbehaved = 3011,
    /// The client sent no certificate where one is required (certificate_required).
    ClientCertificateRequired = 3012,
    /// No application protocol (ALPN) is shared (no_application_protocol).
    NoApplicationProtocol = 3013,
    /// The server credential has no certificate to offer (access_denied).
    NoServerCertificate = 3014,
    /// A TLS 1.3 peer sent a warning alert, which TLS 1.3 forbids (decode_error).
    WarningAlertInTls13 = 3015,
    /// The application asked for this alert (SCHANNEL_ALERT_TOKEN).
    ApplicationAlert = 3016,
    /// The peer's Finished message does not verify: the handshake it saw is not the one
    /// this side saw (decrypt_error).
    HandshakeVerifyFailed = 3017,
    /// The peer split a handshake message over several records and put another record
    /// (application data, an alert) between the parts, which RFC 8446 section 5.1 forbids;
    /// or rejected early data was interleaved with a handshake message. Sent:
    /// unexpected_message, while this side still sends plaintext (before its TLS 1.3
    /// ServerHello or TLS 1.2 ChangeCipherSpec); after that the TLS engine sends no alert,
    /// so the connection just ends and no 36888 is logged.
    HandshakeInterleaved = 3018,
    /// The peer sent more empty records in a row than the TLS engine accepts (32).
    /// Sent: unexpected_message while this side sends plaintext; otherwise none (as for
    /// 3018).
    TooManyEmptyFragments = 3019,
    /// The peer sent more warning alerts than the TLS engine accepts (4). Sent:
    /// unexpected_message (as OpenSSL sends) while this side sends plaintext; otherwise
    /// none (as for 3018).
    TooManyWarningAlerts = 3020,
    /// The peer sent a handshake message larger than the TLS engine reads (64 KiB),
    /// whatever `Messaging\MessageLimit*` allows. Sent: decode_error while this side sends
    /// plaintext; otherwise none (as for 3018).
    HandshakeMessageTooLarge = 3021,
    /// The peer sent a TLS 1.3 record with no content type after its padding (RFC 8446
    /// section 5.4 calls for unexpected_message). The record is encrypted, and the TLS
    /// engine sends no alert for it: the connection just ends, no 36888 is logged.
    IllegalInnerPlaintext = 3022,
    /// The peer sent more ChangeCipherSpec records (TLS 1.3 allows one), renegotiation
    /// requests or key updates than the protocol or the TLS engine allows. Sent:
    /// unexpected_message while this side sends plaintext; otherwise none (as for 3018).
    TooManyMessages = 3023,
    /// Any other failure after which rustls sends handshake_failure.
    HandshakeFailed = 3099,

    /// The crypto provider could not be installed.
    CryptoProviderUnavailable = 4001,
    /// The settings file cannot be read or parsed.
    SettingsInvalid = 4002,
    /// The data directory or a store in it cannot be opened.
    DataDirectoryUnusable = 4003,
}

impl ErrorState {
    /// The stable number.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The state with this number.
    pub fn from_code(code: u32) -> Option<ErrorState> {
        ErrorState::ALL.iter().copied().find(|s| s.code() == code)
    }
}

impl fmt::Display for ErrorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_unique_ascending_and_found_again() {
        let codes: Vec<u32> = ErrorState::ALL.iter().map(|s| s.code()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
        for s in ErrorState::ALL {
            assert_eq!(ErrorState::from_code(s.code()), Some(*s));
            assert!(!s.summary().is_empty());
        }
        assert_eq!(
            ErrorState::from_code(3018),
            Some(ErrorState::HandshakeInterleaved)
        );
        assert!(ErrorState::HandshakeInterleaved
            .summary()
            .starts_with("The peer split a handshake message over several records"));
        assert_eq!(ErrorState::from_code(9999), None);
    }
}
