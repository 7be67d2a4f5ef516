//! Certificate validation: rustls-webpki verifiers (through rustls' `WebPkiServerVerifier`
//! and `WebPkiClientVerifier`) built from a credential's [`Trust`], and the client's
//! choice of its certificate. What a refusal means on Windows (status, event, alert) is
//! decided in one place, `crate::verdict`; the verifiers return rustls' errors unchanged.
//!
//! - Client side: [`server_verifier`] checks the server's certificate (events 36876,
//!   36881-36884); [`client_cert_resolver`] picks the client certificate when the server
//!   asks for one (36875 when none suits, or the credential has none).
//! - Server side: [`client_verifier`] asks for and checks client certificates (36877) and
//!   sends the trusted issuer list (36885 when truncated).
//! - Both: revocation (`revocation`: the modes, the offline policy, CRLs fresh at the
//!   validation time, fetched from distribution points by `crl_fetch`), and what CryptoAPI
//!   refuses that webpki lets through (`PathChecks::windows_path_checks`: a trust anchor
//!   out of its validity or with an unknown critical extension, an issuer without
//!   keyCertSign).
//!
//! The verifiers do not log. rustls calls them synchronously inside the context's
//! `process_tls_records`, on the caller's thread, so they leave what happened in
//! thread-local hand-offs that the context takes right after that call ([`take_rejected_certificate`],
//! [`take_no_suitable_client_certificate`], [`take_client_certificate_offered`],
//! [`take_issuer_list_truncated`]) and logs with
//! its activity ID. In the other direction the context sets [`set_pending_alert`] before
//! the call when the application asked for an alert (SCHANNEL_ALERT_TOKEN).

/// The handshake-signature half of a verifier (CertificateVerify, ServerKeyExchange):
/// checked with the verifier's `algorithms` field, the same way in every verifier here.
macro_rules! handshake_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &rustls::pki_types::CertificateDer<'_>,
            dss: &rustls::DigitallySignedStruct,
        ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
        }

        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.algorithms.supported_schemes()
        }
    };
}

/// CRLs and the revocation policy on a rustls verifier builder (the server's and the
/// client's builders have the same methods, and no trait in common). Expiration is always
/// enforced: a CRL past its nextUpdate is never used (the CRLs handed here are those fresh
/// at the validation time, see `revocation`; this catches one that goes stale while the
/// verifier is in use).
macro_rules! with_revocation {
    ($builder:expr, $crls:expr, $policy:expr, $allow_unknown:expr) => {{
        let mut builder = $builder;
        let crls: Vec<rustls::pki_types::CertificateRevocationListDer<'static>> = $crls;
        let policy: $crate::verify::revocation::Policy = $policy;
        let allow_unknown: bool = $allow_unknown;
        if !crls.is_empty() {
            builder = builder.with_crls(crls).enforce_revocation_expiration();
            if policy.check == $crate::verify::RevocationCheck::EndCertificate {
                builder = builder.only_check_end_entity_revocation();
            }
            if policy.offline == $crate::verify::RevocationOffline::Ignore || allow_unknown {
                builder = builder.allow_unknown_revocation_status();
            }
        }
        builder
    }};
}

mod alert_token;
mod choice;
mod client_cert;
mod crl_fetch;
pub(crate) mod ocsp;
mod revocation;
mod server_cert;

#[cfg(test)]
mod tests;

pub use crate::settings::ClientAuthTrustMode;
pub(crate) use alert_token::{check_token_alert, error_for_alert};
pub(crate) use crl_fetch::{post_ocsp, FetchLimits};
pub use ocsp::{
    rfc3339_seconds, OcspInvalid, OcspResponseInfo, OcspSigner, OcspStatus, StapleCheck,
};
pub(crate) use revocation::CrlUnavailable;
pub use revocation::{RevocationCheck, RevocationOffline};

use crate::Error;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::ResolvesClientCert;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use securechannel_events::{AlertDescription, Status};
use std::cell::{Cell, RefCell};
use std::sync::Arc;

/// What peers are validated against: the credential's trust, gathered when it was
/// acquired (stores, settings, options).
#[derive(Debug, Clone)]
pub(crate) struct Trust {
    /// Trusted roots (stores/Root and the roots added on the builder).
    pub(crate) roots: Arc<RootCertStore>,
    /// The same roots as certificates, for what webpki never checks of a trust anchor
    /// (its validity, its critical extensions).
    pub(crate) root_certificates: Vec<CertificateDer<'static>>,
    /// Intermediate certificates (stores/CA), offered to path building.
    pub(crate) intermediates: Vec<CertificateDer<'static>>,
    /// CRLs (crl/).
    pub(crate) crls: Vec<CertificateRevocationListDer<'static>>,
    /// Which certificates are checked for revocation.
    pub(crate) revocation_check: RevocationCheck,
    /// What an unknown revocation status does.
    pub(crate) revocation_offline: RevocationOffline,
    /// Where CRLs fetched from distribution points are kept (the data directory's
    /// `crl/`); `None`: in memory only.
    pub(crate) crl_cache_dir: Option<std::path::PathBuf>,
    /// The distribution points' timeout and size cap.
    pub(crate) crl_fetch: FetchLimits,
    /// Validate at this time instead of the clock; `None`: now.
    pub(crate) validation_time: Option<UnixTime>,
    /// Server: which CAs client certificates may chain to.
    pub(crate) client_auth_trust_mode: ClientAuthTrustMode,
    /// Server: the client-auth trust list (stores/ClientAuth) for trust modes 1 and 2.
    pub(crate) client_auth_trust_list: Vec<CertificateDer<'static>>,
    /// Server: name the trusted CAs in the CertificateRequest (`SendTrustedIssuerList`).
    pub(crate) send_trusted_issuer_list: bool,
    /// Client: the shortest RSA key a server's certificate may carry
    /// (`KeyExchangeAlgorithms\PKCS\ClientMinKeyBitLength`).
    pub(crate) min_server_rsa_bits: u32,
}

/// How long a CRL distribution point may take, by default (CryptoAPI's default URL
/// retrieval timeout for a chain is 15 s in all; one point gets a third of it here).
pub const CRL_FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The largest CRL fetched from a distribution point, by default.
pub const CRL_MAX_BYTES: usize = 16 * 1024 * 1024;

impl Trust {
    /// The revocation settings as the verifiers' builders take them.
    pub(crate) fn revocation_policy(&self) -> revocation::Policy {
        revocation::Policy {
            check: self.revocation_check,
            offline: self.revocation_offline,
        }
    }

    /// Trust in `roots` only, at the clock's time, with Windows' defaults otherwise.
    pub(crate) fn new(roots: Arc<RootCertStore>) -> Trust {
        Trust {
            roots,
            root_certificates: Vec::new(),
            intermediates: Vec::new(),
            crls: Vec::new(),
            revocation_check: RevocationCheck::default(),
            revocation_offline: RevocationOffline::default(),
            crl_cache_dir: None,
            crl_fetch: FetchLimits {
                timeout: CRL_FETCH_TIMEOUT,
                max_bytes: CRL_MAX_BYTES,
            },
            validation_time: None,
            client_auth_trust_mode: ClientAuthTrustMode::default(),
            client_auth_trust_list: Vec::new(),
            // Windows 8 / Server 2012 and later send no list by default.
            send_trusted_issuer_list: false,
            // Windows' default; the engine refuses RSA signatures below 2048 bits anyway.
            min_server_rsa_bits: 1024,
        }
    }
}

/// A peer certificate a verifier refused, handed to the context (which logs the event
/// the verdict table names, with the certificate attached).
#[derive(Debug, Clone)]
pub(crate) struct RejectedCertificate {
    /// The peer's end-entity certificate (DER).
    pub(crate) certificate: Arc<[u8]>,
    /// Client: the name the server's certificate was checked against (36884's `Name`).
    pub(crate) checked_name: Option<String>,
}

/// The verifier a client context uses for the server's certificate: the credential's
/// roots, with its intermediates (stores/CA) offered for path building and its CRLs
/// checked, or, with `dangerous_manual_validation`, a verifier that checks only the
/// handshake signatures and leaves the chain to the application.
///
/// Building parses the CRLs (about 10 ms for one CRL of 10,000 entries, release build on
/// a loaded 2-core machine: x509-parser for their dates and issuer, then rustls-webpki):
/// build it once per credential, with the credential's rustls config, not per connection.
pub(crate) fn server_verifier(
    trust: &Trust,
    dangerous_manual_validation: bool,
) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    if dangerous_manual_validation {
        return Ok(Arc::new(
            server_cert::ManualValidation::dangerous_accept_any_chain(trust.min_server_rsa_bits),
        ));
    }
    Ok(Arc::new(server_cert::ServerCertificateVerifier::new(
        trust,
    )?))
}

/// The verifier a server context uses for client certificates; `None` when the
/// credential asks for none.
pub(crate) fn client_verifier(
    trust: &Trust,
    request: bool,
    require: bool,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, Error> {
    if !request && !require {
        return Ok(None);
    }
    Ok(Some(Arc::new(client_cert::ClientCertificateVerifier::new(
        trust, require,
    )?)))
}

/// Chooses the client certificate when a server asks for one. There is a resolver even
/// when the client credential has no certificate at all: it declines every request and
/// records 36875, as Schannel logs "no suitable client certificate could be found" then
/// too (rustls' `with_no_client_auth` would decline silently).
pub(crate) fn client_cert_resolver(key: Option<Arc<CertifiedKey>>) -> Arc<dyn ResolvesClientCert> {
    Arc::new(choice::ClientCertificateChoice::new(key))
}

// The hand-offs. Verification and certificate choice run inside `process_tls_records` on
// the caller's thread, so a thread-local slot carries their outcome to the context
// without locking and without any risk of another connection seeing it — provided the
// context takes them after every call (and resets the pending alert), which the contract
// requires.
thread_local! {
    static REJECTED: RefCell<Option<RejectedCertificate>> = const { RefCell::new(None) };
    static NO_SUITABLE_CLIENT_CERTIFICATE: Cell<bool> = const { Cell::new(false) };
    static CLIENT_CERTIFICATE_OFFERED: Cell<bool> = const { Cell::new(false) };
    static ISSUER_LIST_TRUNCATED: Cell<bool> = const { Cell::new(false) };
    static ISSUER_LIST: RefCell<Option<Vec<Vec<u8>>>> = const { RefCell::new(None) };
    static PENDING_ALERT: Cell<Option<AlertDescription>> = const { Cell::new(None) };
    static STAPLE_CHECK: RefCell<Option<ocsp::StapleCheck>> = const { RefCell::new(None) };
}

/// What the server verifier made of the OCSP response the server stapled, during the
/// last call on this thread, taken once.
pub(crate) fn take_staple_check() -> Option<ocsp::StapleCheck> {
    STAPLE_CHECK.with(|f| f.borrow_mut().take())
}

fn record_staple_check(check: ocsp::StapleCheck) {
    STAPLE_CHECK.with(|f| *f.borrow_mut() = Some(check));
}

/// The certificate the verifiers refused during the last `process_tls_records` call on
/// this thread (verification runs synchronously inside it), taken once.
pub(crate) fn take_rejected_certificate() -> Option<RejectedCertificate> {
    REJECTED.with(|f| f.borrow_mut().take())
}

/// Whether, during the last call on this thread, a server asked for a client certificate
/// and none suited (event 36875), taken once.
pub(crate) fn take_no_suitable_client_certificate() -> bool {
    NO_SUITABLE_CLIENT_CERTIFICATE.with(|f| f.replace(false))
}

/// Whether, during the last call on this thread, a server asked for a client certificate
/// and the credential's was sent (36880's LocalCertSubjectName names it only then),
/// taken once.
pub(crate) fn take_client_certificate_offered() -> bool {
    CLIENT_CERTIFICATE_OFFERED.with(|f| f.replace(false))
}

/// Whether, during the last call on this thread, the server sent a trusted issuer list
/// that had to be truncated (event 36885), taken once.
pub(crate) fn take_issuer_list_truncated() -> bool {
    ISSUER_LIST_TRUNCATED.with(|f| f.replace(false))
}

/// The CA names of the CertificateRequest a client answered during the last call on this
/// thread (SECPKG_ATTR_ISSUER_LIST_EX), taken once.
pub(crate) fn take_issuer_list() -> Option<Vec<Vec<u8>>> {
    ISSUER_LIST.with(|f| f.borrow_mut().take())
}

fn record_issuer_list(names: &[&[u8]]) {
    ISSUER_LIST.with(|f| *f.borrow_mut() = Some(names.iter().map(|n| n.to_vec()).collect()));
}

/// Make the next certificate verification on this thread fail so that rustls sends
/// `alert` (Schannel's SCHANNEL_ALERT_TOKEN during the handshake); `None` cancels it.
///
/// The context sets it before `process_tls_records` and resets it with `None` after the
/// call, since a call that verifies no certificate leaves it pending. The alerts a
/// verification error can produce are listed at [`error_for_alert`]; any other is refused
/// with SEC_E_UNSUPPORTED_FUNCTION and nothing is set.
pub(crate) fn set_pending_alert(alert: Option<AlertDescription>) -> Result<(), Error> {
    if let Some(a) = alert {
        check_token_alert(a)?;
    }
    PENDING_ALERT.with(|p| p.set(alert));
    Ok(())
}

/// The pending alert's error, consumed (verifiers call this first).
fn take_pending_alert_error() -> Option<rustls::Error> {
    PENDING_ALERT.with(|p| p.take()).and_then(error_for_alert)
}

fn record_rejected_certificate(rejected: RejectedCertificate) {
    REJECTED.with(|f| *f.borrow_mut() = Some(rejected));
}

fn record_no_suitable_client_certificate() {
    NO_SUITABLE_CLIENT_CERTIFICATE.with(|f| f.set(true));
}

fn record_client_certificate_offered() {
    CLIENT_CERTIFICATE_OFFERED.with(|f| f.set(true));
}

fn record_issuer_list_truncated() {
    ISSUER_LIST_TRUNCATED.with(|f| f.set(true));
}

/// What both chain verifiers add around webpki, from the credential's [`Trust`].
#[derive(Debug)]
struct PathChecks {
    /// stores/CA, offered to path building after the peer's own intermediates.
    intermediates: Vec<CertificateDer<'static>>,
    /// The trusted roots and stores/CA's certificates, as the path checks need them.
    root_facts: Vec<CertFacts>,
    intermediate_facts: Vec<CertFacts>,
    /// Validate at this time instead of the clock's.
    clock: Option<UnixTime>,
}

impl PathChecks {
    fn new(trust: &Trust) -> PathChecks {
        PathChecks {
            intermediates: trust.intermediates.clone(),
            root_facts: CertFacts::all(&trust.root_certificates),
            intermediate_facts: CertFacts::all(&trust.intermediates),
            clock: trust.validation_time,
        }
    }

    /// The time to validate at.
    fn now(&self, now: UnixTime) -> UnixTime {
        self.clock.unwrap_or(now)
    }

    /// What CryptoAPI refuses and webpki lets through, checked on a chain webpki accepted,
    /// along the path by issuer name from `end_entity` (the peer's intermediates first,
    /// then stores/CA's):
    /// - an issuer whose keyUsage lacks keyCertSign ([`IssuerNotCertSigner`]);
    /// - a trust anchor out of its validity period (webpki never checks an anchor's
    ///   dates) or with a critical extension webpki would not accept in a certificate of
    ///   the path: refused when every trusted root of that name is, so a renewed root of
    ///   the same name still validates.
    ///
    /// The stores' certificates were parsed once ([`CertFacts`]); only the peer's are
    /// parsed here.
    fn windows_path_checks(
        &self,
        end_entity: &CertificateDer<'_>,
        sent: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<(), rustls::Error> {
        let Some(mut current) = CertFacts::parse(end_entity.as_ref()) else {
            return Ok(());
        };
        let sent: Vec<CertFacts> = sent
            .iter()
            .filter_map(|c| CertFacts::parse(c.as_ref()))
            .collect();
        // webpki's own depth limit bounds the walk.
        for _ in 0..8 {
            let anchors: Vec<&CertFacts> = self
                .root_facts
                .iter()
                .filter(|r| r.subject == current.issuer)
                .collect();
            if !anchors.is_empty() {
                return check_anchors(&anchors, now);
            }
            let Some(next) = sent
                .iter()
                .chain(&self.intermediate_facts)
                .find(|c| c.subject == current.issuer && c.subject != current.subject)
            else {
                return Ok(());
            };
            if !next.may_sign_certificates {
                return Err(rustls::CertificateError::Other(rustls::OtherError(Arc::new(
                    IssuerNotCertSigner {
                        subject: next.subject_text.clone(),
                    },
                )))
                .into());
            }
            current = next.clone();
        }
        Ok(())
    }

    /// The intermediates a peer sent, followed by those of stores/CA, for path building.
    ///
    /// One call with the union rather than a retry after UnknownIssuer: webpki explores
    /// every candidate path and reports the most relevant error, so a peer that sends an
    /// expired intermediate while stores/CA holds its renewal still validates, as with
    /// CryptoAPI's chain engine. The certificates are borrowed, not copied.
    fn chain<'a>(
        &'a self,
        sent: &'a [CertificateDer<'a>],
    ) -> std::borrow::Cow<'a, [CertificateDer<'a>]> {
        if self.intermediates.is_empty() {
            return std::borrow::Cow::Borrowed(sent);
        }
        sent.iter()
            .chain(&self.intermediates)
            .map(|c| CertificateDer::from(c.as_ref()))
            .collect()
    }
}

/// What the path checks need of a certificate, parsed once.
#[derive(Debug, Clone)]
struct CertFacts {
    /// Subject and issuer Names, DER.
    subject: Vec<u8>,
    issuer: Vec<u8>,
    subject_text: String,
    /// No keyUsage, or one with keyCertSign.
    may_sign_certificates: bool,
    /// Validity, seconds since the epoch.
    not_before: i64,
    not_after: i64,
    /// Every critical extension is one webpki handles.
    critical_extensions_handled: bool,
}

impl CertFacts {
    fn parse(der: &[u8]) -> Option<CertFacts> {
        let (_, c) = x509_parser::parse_x509_certificate(der).ok()?;
        Some(CertFacts {
            subject: c.subject().as_raw().to_vec(),
            issuer: c.issuer().as_raw().to_vec(),
            subject_text: c.subject().to_string(),
            may_sign_certificates: match c.key_usage() {
                Ok(Some(ku)) => ku.value.key_cert_sign(),
                _ => true,
            },
            not_before: c.validity().not_before.timestamp(),
            not_after: c.validity().not_after.timestamp(),
            critical_extensions_handled: c
                .extensions()
                .iter()
                .all(|e| !e.critical || WEBPKI_EXTENSIONS.contains(&e.oid.to_id_string().as_str())),
        })
    }

    fn all(certs: &[CertificateDer<'static>]) -> Vec<CertFacts> {
        certs.iter().filter_map(|c| CertFacts::parse(c)).collect()
    }
}

/// Refuse the chain when every trusted root of its anchor's name is out of its validity
/// period at `now`, or carries a critical extension webpki does not handle.
fn check_anchors(anchors: &[&CertFacts], now: UnixTime) -> Result<(), rustls::Error> {
    use rustls::CertificateError as C;
    let secs = now.as_secs() as i64;
    let at = |t: i64| UnixTime::since_unix_epoch(std::time::Duration::from_secs(t.max(0) as u64));
    let in_period = |r: &CertFacts| r.not_before <= secs && secs <= r.not_after;
    if !anchors.iter().any(|r| in_period(r)) {
        let r = anchors[0];
        return Err(if secs < r.not_before {
            C::NotValidYetContext {
                time: now,
                not_before: at(r.not_before),
            }
        } else {
            C::ExpiredContext {
                time: now,
                not_after: at(r.not_after),
            }
        }
        .into());
    }
    if !anchors
        .iter()
        .any(|r| in_period(r) && r.critical_extensions_handled)
    {
        // webpki's own error for the same fault in another certificate of the path.
        return Err(C::Other(rustls::OtherError(Arc::new(
            webpki::Error::UnsupportedCriticalExtension,
        )))
        .into());
    }
    Ok(())
}

/// The extensions webpki understands in a certificate of the path (cert.rs
/// `remember_extension`): keyUsage, subjectAltName, basicConstraints, nameConstraints,
/// cRLDistributionPoints, extKeyUsage. Any other critical one makes it refuse.
const WEBPKI_EXTENSIONS: [&str; 6] = [
    "2.5.29.15",
    "2.5.29.17",
    "2.5.29.19",
    "2.5.29.30",
    "2.5.29.31",
    "2.5.29.37",
];

/// An issuing CA certificate whose keyUsage lacks keyCertSign: CryptoAPI refuses the
/// chain (TRUST_E_BASIC_CONSTRAINTS in the verdict table), webpki does not look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuerNotCertSigner {
    /// The issuer's subject.
    pub(crate) subject: String,
}

impl std::fmt::Display for IssuerNotCertSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the issuing CA certificate {} may not sign certificates (its keyUsage lacks keyCertSign)",
            self.subject
        )
    }
}

impl std::error::Error for IssuerNotCertSigner {}

/// A peer's RSA key shorter than the policy allows (`KeyExchangeAlgorithms\PKCS\
/// ClientMinKeyBitLength`): the verifier refuses the certificate with it, as rustls'
/// `CertificateError::Other`, which rustls answers with certificate_unknown; the verdict
/// table gives it CERTSRV_E_WEAK_SIGNATURE_OR_KEY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RsaKeyTooShort {
    /// The key's modulus length.
    pub(crate) bits: usize,
    /// The setting.
    pub(crate) minimum: u32,
}

impl std::fmt::Display for RsaKeyTooShort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the certificate's RSA key has {} bits; KeyExchangeAlgorithms\\PKCS\\ClientMinKeyBitLength requires at least {}",
            self.bits, self.minimum
        )
    }
}

impl std::error::Error for RsaKeyTooShort {}

/// Refuse an end-entity certificate whose RSA key is shorter than `minimum` bits (keys of
/// other types, and certificates that do not parse, are left to the other checks).
fn check_rsa_key_length(end_entity: &[u8], minimum: u32) -> Result<(), rustls::Error> {
    use x509_parser::public_key::PublicKey;
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(end_entity) else {
        return Ok(());
    };
    let Ok(PublicKey::RSA(rsa)) = cert.public_key().parsed() else {
        return Ok(());
    };
    let bits = rsa.key_size();
    if bits >= minimum as usize {
        return Ok(());
    }
    Err(
        rustls::CertificateError::Other(rustls::OtherError(Arc::new(RsaKeyTooShort {
            bits,
            minimum,
        })))
        .into(),
    )
}

/// The provider whose signature algorithms the verifiers accept: the aws-lc-rs defaults
/// (signature verification does not depend on the settings' suite filtering).
fn verification_provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The revocation half of a verifier built from `trust`, with `build` making the rustls
/// verifier for a set of CRLs.
///
/// In mode chain the root is checked too: `anchors` are the verifier's trust anchors,
/// known by their certificates among the credential's roots and client-auth trust list;
/// `server_auth` says which usage the paths are built for.
fn revocation_for<V: ?Sized>(
    trust: &Trust,
    anchors: &RootCertStore,
    server_auth: bool,
    build: revocation::Build<V>,
) -> Result<revocation::Revocation<V>, Error> {
    let root = (trust.revocation_check == RevocationCheck::Chain).then(|| {
        let known: Vec<CertificateDer<'static>> = trust
            .root_certificates
            .iter()
            .chain(&trust.client_auth_trust_list)
            .cloned()
            .collect();
        revocation::RootRevocation::new(
            anchors,
            &known,
            server_auth,
            verification_provider()
                .signature_verification_algorithms
                .all,
        )
    });
    revocation::Revocation::new(
        trust.revocation_policy(),
        &trust.crls,
        trust.crl_cache_dir.clone(),
        trust.crl_fetch,
        trust.validation_time.unwrap_or_else(UnixTime::now),
        build,
        root,
    )
}

/// A verifier could not be built from the credential (a CRL that does not parse).
fn build_error(what: &str, e: rustls::client::VerifierBuilderError) -> Error {
    Error::new(
        Status::InternalError,
        format!("cannot build the {what} verifier from the credential: {e}"),
    )
    // The one state for "rustls refused the configuration built from the credential".
    .with_state(crate::ErrorState::EngineConfiguration)
    .with_source(e)
}
