//! Verification tests: one per row of the verdict table (direct calls at a fixed clock),
//! full handshakes between rustls' buffered connections built from these verifiers (the
//! alert the peer really receives, and the hand-offs), client-certificate choice and the
//! trusted issuer list. The PKI is securechannel-testpki's, made with rcgen when the test
//! starts; the clock is fixed at its 2030-06-01, so expiry never breaks CI.

use super::client_cert::TrustedIssuerList;
use super::*;
use crate::credential::CredentialShared;
use crate::verdict::{verdict, Facts};
use crate::{Role, Settings};
use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CustomExtension, DnType,
    ExtendedKeyUsagePurpose, SerialNumber,
};
use rustls::crypto::aws_lc_rs;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    CertificateError, ClientConfig, ClientConnection, Connection, RootCertStore, ServerConfig,
    ServerConnection,
};
use securechannel_events::Emitter;
use securechannel_events::EventId;
use securechannel_testpki::{ca_params, key_pair, now, Ca, Leaf};

const SERVER_NAME: &str = "server.test";

// The verifiers as a credential builds them (see `CredentialShared::client_config`).
fn server_verifier(shared: &CredentialShared) -> Result<Arc<dyn ServerCertVerifier>, Error> {
    super::server_verifier(&shared.trust, shared.options.dangerous_manual_validation)
}

fn client_verifier(
    shared: &CredentialShared,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, Error> {
    super::client_verifier(
        &shared.trust,
        shared.options.request_client_certificate,
        shared.options.require_client_certificate,
    )
}

fn client_cert_resolver(shared: &CredentialShared) -> Arc<dyn ResolvesClientCert> {
    super::client_cert_resolver(shared.certified_key.clone())
}

/// The certificate a verifier refused, taken from the hand-off.
fn take_failure() -> Option<RejectedCertificate> {
    take_rejected_certificate()
}

/// What the context makes of a refusal the verifier handed over, on `role`'s side: the
/// status and the event (the verdict table).
fn judged(role: Role, error: &rustls::Error) -> (Status, Option<EventId>) {
    let v = verdict(
        error,
        Facts {
            certificate_rejected: true,
            ..Facts::new(role)
        },
    );
    (v.status, v.event)
}

// ---------------------------------------------------------------------------------------
// The PKI
// ---------------------------------------------------------------------------------------

/// Root → intermediate → leaves, plus an unrelated (untrusted) root.
struct Pki {
    root: Ca,
    inter: Ca,
    stranger: Ca,
}

impl Pki {
    fn new() -> Pki {
        let root = Ca::root("Test Root");
        let inter = root.intermediate("Test Intermediate");
        Pki {
            root,
            inter,
            stranger: Ca::root("Stranger Root"),
        }
    }

    fn roots(&self) -> Arc<RootCertStore> {
        self.root.roots()
    }

    /// A server leaf from the intermediate, with the chain the server sends.
    fn server_leaf(&self, adjust: impl FnOnce(&mut CertificateParams)) -> Leaf {
        self.inter.server_leaf_with(&[SERVER_NAME], adjust)
    }

    fn client_leaf(&self, adjust: impl FnOnce(&mut CertificateParams)) -> Leaf {
        self.inter.client_leaf_with(&["client.test"], adjust)
    }
}

fn credential(role: Role, roots: Arc<RootCertStore>) -> CredentialShared {
    let mut shared = CredentialShared::new(
        role,
        Emitter::disabled(),
        Arc::new(Settings::default()),
        None,
        Trust::new(roots),
        crate::CredentialOptions::default(),
    );
    shared.trust.validation_time = Some(now());
    shared
}

/// A client trusting the PKI's root (known by its certificate too, as stores/Root gives
/// it: mode chain checks it).
fn client_credential(pki: &Pki) -> CredentialShared {
    let mut shared = credential(Role::Client, pki.roots());
    shared.trust.root_certificates = vec![pki.root.der().clone()];
    shared
}

fn server_name() -> ServerName<'static> {
    ServerName::try_from(SERVER_NAME).expect("valid DNS name")
}

/// Verify the server chain as a client would, returning the error and the hand-off.
fn check_server(
    shared: &CredentialShared,
    leaf: &Leaf,
) -> (Result<(), rustls::Error>, Option<RejectedCertificate>) {
    let _ = take_failure();
    let verifier = server_verifier(shared).expect("verifier builds");
    let result = verifier
        .verify_server_cert(leaf.der(), &leaf.chain[1..], &server_name(), &[], now())
        .map(|_| ());
    (result, take_failure())
}

/// Assert a row of the table (named `row` in the messages): the status, the event and the
/// certificate in the hand-off.
fn assert_server_row(
    row: &str,
    shared: &CredentialShared,
    leaf: &Leaf,
    status: Status,
    event: EventId,
) {
    let (result, failure) = check_server(shared, leaf);
    let error = result.expect_err(&format!("{row}: the chain must be refused"));
    let failure = failure.unwrap_or_else(|| panic!("{row}: a failure is handed to the context"));
    assert_eq!(
        judged(Role::Client, &error),
        (status, Some(event)),
        "{row}: status and event for {error:?}"
    );
    assert_eq!(
        &*failure.certificate,
        leaf.der().as_ref(),
        "{row}: the end-entity certificate is attached"
    );
    assert_eq!(
        failure.checked_name.as_deref(),
        Some(SERVER_NAME),
        "{row}: the name checked"
    );
}

// ---------------------------------------------------------------------------------------
// The scenarios of the rows: what the client trusts, and the chain the server presents
// ---------------------------------------------------------------------------------------

/// A credential, and the certificate its peer presents.
type Scenario = (CredentialShared, Leaf);

fn expired(pki: &Pki) -> Scenario {
    let leaf = pki.server_leaf(|p| p.not_after = date_time_ymd(2029, 1, 1));
    (client_credential(pki), leaf)
}

fn not_yet_valid(pki: &Pki) -> Scenario {
    let leaf = pki.server_leaf(|p| p.not_before = date_time_ymd(2031, 1, 1));
    (client_credential(pki), leaf)
}

fn expired_intermediate(pki: &Pki) -> Scenario {
    let mut p = ca_params("Old Intermediate", BasicConstraints::Unconstrained);
    p.not_after = date_time_ymd(2029, 1, 1);
    let old = pki.root.intermediate_with(p);
    (client_credential(pki), old.server_leaf(&[SERVER_NAME]))
}

fn unknown_issuer(pki: &Pki) -> Scenario {
    let leaf = pki.stranger.server_leaf(&[SERVER_NAME]);
    (client_credential(pki), leaf)
}

fn no_trusted_roots(pki: &Pki) -> Scenario {
    let shared = credential(Role::Client, Arc::new(RootCertStore::empty()));
    (shared, pki.server_leaf(|_| {}))
}

fn revoked(pki: &Pki) -> Scenario {
    let leaf = pki.server_leaf(|p| p.serial_number = Some(SerialNumber::from(99u64)));
    let mut shared = client_credential(pki);
    shared.trust.crls = vec![pki.inter.crl(&[99])];
    (shared, leaf)
}

fn wrong_name(pki: &Pki) -> Scenario {
    let leaf = pki.inter.server_leaf(&["other.test"]);
    (client_credential(pki), leaf)
}

fn wrong_usage(pki: &Pki) -> Scenario {
    let leaf =
        pki.server_leaf(|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth]);
    (client_credential(pki), leaf)
}

fn revocation_required_without_crl(pki: &Pki) -> Scenario {
    let mut shared = client_credential(pki);
    shared.trust.revocation_offline = RevocationOffline::Fail;
    (shared, pki.server_leaf(|_| {}))
}

fn unusable_crl(pki: &Pki) -> Scenario {
    let mut crl = pki.inter.crl(&[]).as_ref().to_vec();
    // Flip a bit of the signature (the DER ends with it): the CRL still parses.
    let last = crl.len() - 1;
    crl[last] ^= 0x01;
    let mut shared = client_credential(pki);
    shared.trust.crls = vec![CertificateRevocationListDer::from(crl)];
    (shared, pki.server_leaf(|_| {}))
}

fn bad_encoding(pki: &Pki) -> Scenario {
    let leaf = Leaf {
        chain: vec![CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x00])],
        key: key_pair(&rcgen::PKCS_ECDSA_P256_SHA256),
    };
    (client_credential(pki), leaf)
}

fn unhandled_critical_extension(pki: &Pki) -> Scenario {
    let leaf = pki.server_leaf(|p| {
        let mut ext =
            CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![0x05, 0x00]);
        ext.set_criticality(true);
        p.custom_extensions.push(ext);
    });
    (client_credential(pki), leaf)
}

fn rsa_key_shorter_than_the_minimum(pki: &Pki) -> Scenario {
    // rcgen's RSA keys are 2048 bits.
    let params = securechannel_testpki::leaf_params(
        SERVER_NAME,
        &[SERVER_NAME],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let leaf = pki
        .inter
        .issue_with_key(&params, key_pair(&rcgen::PKCS_RSA_SHA256));
    let mut shared = client_credential(pki);
    shared.trust.min_server_rsa_bits = 3072;
    (shared, leaf)
}

fn path_length_exceeded(pki: &Pki) -> Scenario {
    let constrained = pki.root.intermediate_with(ca_params(
        "Constrained Intermediate",
        BasicConstraints::Constrained(0),
    ));
    let below = constrained.intermediate("Too Deep");
    (client_credential(pki), below.server_leaf(&[SERVER_NAME]))
}

// ---------------------------------------------------------------------------------------
// The verdict table, row by row (server certificate, client side)
// ---------------------------------------------------------------------------------------

/// The verdict table for the server's certificate, one test per row: scenario => the status
/// and the event the client reports.
macro_rules! server_certificate_rows {
    ($($test:ident: $scenario:ident => $status:ident, $event:ident;)*) => {$(
        #[test]
        fn $test() {
            let (shared, leaf) = $scenario(&Pki::new());
            let row = stringify!($test);
            assert_server_row(row, &shared, &leaf, Status::$status, EventId::$event);
        }
    )*};
}

server_certificate_rows! {
    row_expired_is_36881_cert_expired:
        expired => CertExpired, ServerCertificateExpired;
    row_not_yet_valid_is_36881_cert_expired:
        not_yet_valid => CertExpired, ServerCertificateExpired;
    row_expired_intermediate_is_36881_cert_expired:
        expired_intermediate => CertExpired, ServerCertificateExpired;
    row_unknown_issuer_is_36882_untrusted_root:
        unknown_issuer => UntrustedRoot, ServerCertificateUntrustedRoot;
    row_no_trusted_roots_is_36882_untrusted_root:
        no_trusted_roots => UntrustedRoot, ServerCertificateUntrustedRoot;
    row_revoked_is_36883_crypt_e_revoked:
        revoked => CryptERevoked, ServerCertificateRevoked;
    row_wrong_name_is_36884_wrong_principal_with_expected_name:
        wrong_name => WrongPrincipal, ServerCertificateWrongName;
    row_wrong_usage_is_36876_cert_wrong_usage:
        wrong_usage => CertWrongUsage, ServerCertificateInvalid;
    required_revocation_status_without_any_crl_is_36876_no_revocation_check:
        revocation_required_without_crl => CryptENoRevocationCheck, ServerCertificateInvalid;
    row_unusable_crl_is_36876_no_revocation_check:
        unusable_crl => CryptENoRevocationCheck, ServerCertificateInvalid;
    row_bad_encoding_is_36876_cert_unknown:
        bad_encoding => CertUnknown, ServerCertificateInvalid;
    row_unhandled_critical_extension_is_36876_cert_unknown:
        unhandled_critical_extension => CertUnknown, ServerCertificateInvalid;
    row_path_length_constraint_is_36876_cert_e_chaining:
        path_length_exceeded => CertEChaining, ServerCertificateInvalid;
    row_rsa_key_below_client_min_key_bit_length_is_36876_weak_key:
        rsa_key_shorter_than_the_minimum => CertsrvEWeakSignatureOrKey, ServerCertificateInvalid;
}

#[test]
fn an_rsa_key_at_the_minimum_is_accepted_and_manual_validation_checks_its_length_too() {
    let pki = Pki::new();
    let (mut shared, leaf) = rsa_key_shorter_than_the_minimum(&pki);
    shared.trust.min_server_rsa_bits = 2048;
    let (result, failure) = check_server(&shared, &leaf);
    assert!(result.is_ok() && failure.is_none(), "{result:?}");
    shared.trust.min_server_rsa_bits = 2049;
    shared.options.dangerous_manual_validation = true;
    let (result, failure) = check_server(&shared, &leaf);
    let e = result.expect_err("the key length is policy, not chain validation");
    assert_eq!(
        judged(Role::Client, &e).0,
        Status::CertsrvEWeakSignatureOrKey
    );
    assert!(failure.is_some());
    let rustls::Error::InvalidCertificate(CertificateError::Other(why)) = &e else {
        panic!("{e:?}");
    };
    assert_eq!(
        why.0.to_string(),
        "the certificate's RSA key has 2048 bits; KeyExchangeAlgorithms\\PKCS\\ClientMinKeyBitLength requires at least 2049"
    );
}

#[test]
fn valid_chain_is_accepted_and_leaves_no_failure() {
    let pki = Pki::new();
    let (result, failure) = check_server(&client_credential(&pki), &pki.server_leaf(|_| {}));
    assert!(result.is_ok(), "{result:?}");
    assert!(failure.is_none());
}

#[test]
fn revoked_intermediate_is_checked_with_whole_chain_and_not_with_end_entity_only() {
    let pki = Pki::new();
    let mut p = ca_params("Revoked Intermediate", BasicConstraints::Unconstrained);
    p.serial_number = Some(SerialNumber::from(77u64));
    let bad = pki.root.intermediate_with(p);
    let leaf = bad.server_leaf(&[SERVER_NAME]);
    let mut shared = client_credential(&pki);
    shared.trust.crls = vec![pki.root.crl(&[77])];
    assert_eq!(
        shared.trust.revocation_check,
        RevocationCheck::ChainExceptRoot
    );
    assert_server_row(
        "revoked intermediate",
        &shared,
        &leaf,
        Status::CryptERevoked,
        EventId::ServerCertificateRevoked,
    );

    shared.trust.revocation_check = RevocationCheck::EndCertificate;
    let (result, failure) = check_server(&shared, &leaf);
    assert!(result.is_ok(), "{result:?}");
    assert!(failure.is_none());
}

#[test]
fn row_unknown_revocation_status_when_required_is_36876_no_revocation_check() {
    let pki = Pki::new();
    let leaf = pki.server_leaf(|_| {});
    let mut shared = client_credential(&pki);
    // The root's CRL covers the intermediate; nothing covers the leaf.
    shared.trust.crls = vec![pki.root.crl(&[])];

    // Default: unknown status is allowed.
    let (result, _) = check_server(&shared, &leaf);
    assert!(result.is_ok(), "{result:?}");

    shared.trust.revocation_offline = RevocationOffline::Fail;
    assert_server_row(
        "unknown revocation status",
        &shared,
        &leaf,
        Status::CryptENoRevocationCheck,
        EventId::ServerCertificateInvalid,
    );
}

#[test]
fn row_expired_crl_is_revocation_offline() {
    // webpki's own row: a CRL that goes stale while its verifier is in use (the verifier
    // is handed only fresh CRLs, see tests/revocation.rs for the expired CRL on hand).
    for e in [
        CertificateError::ExpiredRevocationList,
        CertificateError::ExpiredRevocationListContext {
            time: now(),
            next_update: now(),
        },
    ] {
        assert_eq!(
            judged(Role::Client, &rustls::Error::InvalidCertificate(e)),
            (
                Status::CryptERevocationOffline,
                Some(EventId::ServerCertificateInvalid)
            )
        );
    }
}

#[test]
fn row_bad_signature_is_36876_cert_unknown() {
    let pki = Pki::new();
    let mut leaf = pki.server_leaf(|_| {});
    let mut der = leaf.chain[0].as_ref().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    leaf.chain[0] = CertificateDer::from(der);
    let (result, _) = check_server(&client_credential(&pki), &leaf);
    assert!(
        matches!(
            result,
            Err(rustls::Error::InvalidCertificate(
                CertificateError::BadSignature
            ))
        ),
        "{result:?}"
    );
    assert_server_row(
        "bad signature",
        &client_credential(&pki),
        &leaf,
        Status::CertUnknown,
        EventId::ServerCertificateInvalid,
    );
}

#[test]
fn row_other_webpki_refusal_is_36876_cert_unknown() {
    // A CA certificate presented as the server's end entity (webpki: CaUsedAsEndEntity,
    // which rustls passes on as CertificateError::Other).
    let pki = Pki::new();
    let mut p = ca_params(SERVER_NAME, BasicConstraints::Unconstrained);
    p.subject_alt_names = vec![rcgen::SanType::DnsName(
        SERVER_NAME.try_into().expect("DNS name"),
    )];
    let leaf = pki.inter.issue(&p);
    let (result, _) = check_server(&client_credential(&pki), &leaf);
    assert!(
        matches!(
            result,
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                _
            )))
        ),
        "{result:?}"
    );
    assert_server_row(
        "CA as end entity",
        &client_credential(&pki),
        &leaf,
        Status::CertUnknown,
        EventId::ServerCertificateInvalid,
    );
}

#[test]
fn row_any_other_error_is_36876_cert_unknown() {
    for e in [
        rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure),
        rustls::Error::InvalidCertificate(CertificateError::InvalidOcspResponse),
    ] {
        assert_eq!(
            judged(Role::Client, &e),
            (Status::CertUnknown, Some(EventId::ServerCertificateInvalid)),
            "{e:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Intermediates from the credential (stores/CA)
// ---------------------------------------------------------------------------------------

#[test]
fn missing_intermediate_is_found_in_the_ca_store() {
    let pki = Pki::new();
    let mut leaf = pki.server_leaf(|_| {});
    leaf.chain.truncate(1); // the server omits its intermediate
    let mut shared = client_credential(&pki);
    assert_server_row(
        "intermediate omitted",
        &shared,
        &leaf,
        Status::UntrustedRoot,
        EventId::ServerCertificateUntrustedRoot,
    );
    shared.trust.intermediates = vec![pki.inter.der().clone()];
    let (result, failure) = check_server(&shared, &leaf);
    assert!(result.is_ok(), "{result:?}");
    assert!(failure.is_none());
}

#[test]
fn expired_intermediate_sent_by_the_server_is_replaced_by_its_renewal_in_the_ca_store() {
    let pki = Pki::new();
    // Same name and key, two validity periods.
    let key = key_pair(&rcgen::PKCS_ECDSA_P256_SHA256);
    let mut old_params = ca_params("Renewed Intermediate", BasicConstraints::Unconstrained);
    old_params.not_after = date_time_ymd(2029, 1, 1);
    let old = pki.root.sign(&old_params, &key);
    let new = pki.root.intermediate_with_key(
        ca_params("Renewed Intermediate", BasicConstraints::Unconstrained),
        key,
    );
    let mut leaf = new.server_leaf(&[SERVER_NAME]);
    // The server still sends the expired one.
    leaf.chain[1] = old;
    let mut shared = client_credential(&pki);
    assert_server_row(
        "expired intermediate sent",
        &shared,
        &leaf,
        Status::CertExpired,
        EventId::ServerCertificateExpired,
    );
    shared.trust.intermediates = vec![new.der().clone()];
    let (result, _) = check_server(&shared, &leaf);
    assert!(result.is_ok(), "{result:?}");
}

// ---------------------------------------------------------------------------------------
// Manual validation
// ---------------------------------------------------------------------------------------

#[test]
fn manual_validation_accepts_any_chain_and_records_nothing() {
    let pki = Pki::new();
    let leaf = pki.stranger.server_leaf(&["anything.test"]);
    let mut shared = client_credential(&pki);
    shared.options.dangerous_manual_validation = true;
    let (result, failure) = check_server(&shared, &leaf);
    assert!(result.is_ok(), "{result:?}");
    assert!(failure.is_none());
}

#[test]
fn manual_validation_still_checks_the_handshake_signature() {
    let pki = Pki::new();
    let server_leaf = pki.stranger.server_leaf(&[SERVER_NAME]);
    let impostor = pki.server_leaf(|_| {});
    let mut client = client_credential(&pki);
    client.options.dangerous_manual_validation = true;
    // The server presents a certificate whose key it does not hold.
    let server_config =
        ServerConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(FixedServerKey(Arc::new(
                rustls::sign::CertifiedKey::new(
                    server_leaf.chain.clone(),
                    impostor.certified_key().key.clone(),
                ),
            ))));
    let outcome = handshake(client_config(&client), Arc::new(server_config));
    assert!(
        matches!(
            outcome.client,
            Err(rustls::Error::InvalidCertificate(
                CertificateError::BadSignature
            ))
        ),
        "{:?}",
        outcome.client
    );
}

#[derive(Debug)]
struct FixedServerKey(Arc<rustls::sign::CertifiedKey>);

impl rustls::server::ResolvesServerCert for FixedServerKey {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.clone())
    }
}

// ---------------------------------------------------------------------------------------
// Full handshakes: what the peer receives
// ---------------------------------------------------------------------------------------

struct Outcome {
    client: Result<(), rustls::Error>,
    server: Result<(), rustls::Error>,
}

/// Drive a client and a server until both finish or one fails and its alert is delivered.
fn handshake(client: Arc<ClientConfig>, server: Arc<ServerConfig>) -> Outcome {
    let mut c = Connection::Client(
        ClientConnection::new(client, server_name()).expect("client connection"),
    );
    let mut s = Connection::Server(ServerConnection::new(server).expect("server connection"));
    let mut outcome = Outcome {
        client: Ok(()),
        server: Ok(()),
    };
    // A handshake takes a handful of flights; the bound only stops a broken test.
    for _ in 0..20 {
        let a = deliver(&mut c, &mut s, &mut outcome.server);
        let b = deliver(&mut s, &mut c, &mut outcome.client);
        if !a && !b {
            break;
        }
    }
    if outcome.client.is_ok() && outcome.server.is_ok() {
        assert!(
            !c.is_handshaking() && !s.is_handshaking(),
            "handshake stalled"
        );
    }
    outcome
}

/// Move what `from` has to send into `to`; the first error `to` reports is kept.
fn deliver(
    from: &mut Connection,
    to: &mut Connection,
    error: &mut Result<(), rustls::Error>,
) -> bool {
    let mut buf = Vec::new();
    while from.wants_write() {
        if from.write_tls(&mut buf).expect("write to a Vec") == 0 {
            break;
        }
    }
    if buf.is_empty() || error.is_err() {
        return false;
    }
    let mut rd = &buf[..];
    while !rd.is_empty() {
        if to.read_tls(&mut rd).expect("read from a slice") == 0 {
            break;
        }
        if let Err(e) = to.process_new_packets() {
            *error = Err(e);
            break;
        }
    }
    true
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

fn client_config(shared: &CredentialShared) -> Arc<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(server_verifier(shared).expect("server verifier"));
    Arc::new(builder.with_client_cert_resolver(client_cert_resolver(shared)))
}

fn client_config_tls12(shared: &CredentialShared) -> Arc<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(server_verifier(shared).expect("server verifier"));
    Arc::new(builder.with_client_cert_resolver(client_cert_resolver(shared)))
}

fn server_config(shared: &CredentialShared, leaf: &Leaf) -> Arc<ServerConfig> {
    let verifier = client_verifier(shared)
        .expect("client verifier")
        .unwrap_or_else(WebPkiClientVerifier::no_client_auth);
    Arc::new(
        ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(leaf.chain.clone(), leaf.private_key())
            .expect("server key"),
    )
}

fn plain_server(leaf: &Leaf) -> Arc<ServerConfig> {
    server_config(
        &credential(Role::Server, Arc::new(RootCertStore::empty())),
        leaf,
    )
}

fn received_alert(result: &Result<(), rustls::Error>) -> Option<u8> {
    match result {
        Err(rustls::Error::AlertReceived(a)) => Some(u8::from(*a)),
        _ => None,
    }
}

#[test]
fn handshake_with_valid_server_certificate_succeeds_tls13_and_tls12() {
    let pki = Pki::new();
    let leaf = pki.server_leaf(|_| {});
    let shared = client_credential(&pki);
    for config in [client_config(&shared), client_config_tls12(&shared)] {
        let outcome = handshake(config, plain_server(&leaf));
        assert!(outcome.client.is_ok(), "{:?}", outcome.client);
        assert!(outcome.server.is_ok(), "{:?}", outcome.server);
        assert!(take_failure().is_none());
    }
}

/// Run TLS 1.3 and TLS 1.2 handshakes against `leaf` and check the alert the server
/// receives and the client's hand-off (`row` names the case in the messages).
fn assert_server_refused(
    row: &str,
    shared: &CredentialShared,
    leaf: &Leaf,
    alert: u8,
    status: Status,
    event: EventId,
) {
    for config in [client_config(shared), client_config_tls12(shared)] {
        let outcome = handshake(config, plain_server(leaf));
        assert!(
            matches!(outcome.client, Err(rustls::Error::InvalidCertificate(_))),
            "{row}: {:?}",
            outcome.client
        );
        assert_eq!(
            received_alert(&outcome.server),
            Some(alert),
            "{row}: {:?}",
            outcome.server
        );
        let failure = take_failure().unwrap_or_else(|| panic!("{row}: hand-off"));
        let error = outcome.client.as_ref().expect_err("refused");
        assert_eq!(judged(Role::Client, error), (status, Some(event)), "{row}");
        assert_eq!(&*failure.certificate, leaf.der().as_ref(), "{row}");
    }
}

/// Rows of the table in full handshakes, one test per row: scenario => the alert the
/// server receives, and the status and the event the client reports.
macro_rules! server_certificate_alerts {
    ($($test:ident: $scenario:ident => $alert:literal, $status:ident, $event:ident;)*) => {$(
        #[test]
        fn $test() {
            let (shared, leaf) = $scenario(&Pki::new());
            let row = stringify!($test);
            assert_server_refused(row, &shared, &leaf, $alert, Status::$status, EventId::$event);
        }
    )*};
}

server_certificate_alerts! {
    handshake_expired_server_certificate_sends_certificate_expired:
        expired => 45, CertExpired, ServerCertificateExpired;
    handshake_untrusted_server_certificate_sends_unknown_ca:
        unknown_issuer => 48, UntrustedRoot, ServerCertificateUntrustedRoot;
    handshake_revoked_server_certificate_sends_certificate_revoked:
        revoked => 44, CryptERevoked, ServerCertificateRevoked;
    handshake_wrong_name_sends_bad_certificate:
        wrong_name => 42, WrongPrincipal, ServerCertificateWrongName;
    handshake_wrong_usage_sends_unsupported_certificate:
        wrong_usage => 43, CertWrongUsage, ServerCertificateInvalid;
}

#[test]
fn handshake_unusable_crl_sends_handshake_failure() {
    let (shared, leaf) = unusable_crl(&Pki::new());
    let outcome = handshake(client_config(&shared), plain_server(&leaf));
    assert!(
        matches!(
            outcome.client,
            Err(rustls::Error::InvalidCertRevocationList(_))
        ),
        "{:?}",
        outcome.client
    );
    assert_eq!(received_alert(&outcome.server), Some(40));
    assert!(take_failure().is_some(), "hand-off");
    let error = outcome.client.as_ref().expect_err("refused");
    assert_eq!(
        judged(Role::Client, error),
        (
            Status::CryptENoRevocationCheck,
            Some(EventId::ServerCertificateInvalid)
        )
    );
}

// ---------------------------------------------------------------------------------------
// Pending alerts (SCHANNEL_ALERT_TOKEN)
// ---------------------------------------------------------------------------------------

#[test]
fn pending_alert_is_what_the_server_receives_for_every_supported_alert() {
    let pki = Pki::new();
    let leaf = pki.server_leaf(|_| {});
    let shared = client_credential(&pki);
    for code in [40u8, 42, 43, 44, 45, 46, 48, 49, 51, 113] {
        set_pending_alert(Some(AlertDescription(code))).expect("supported alert");
        let outcome = handshake(client_config(&shared), plain_server(&leaf));
        assert!(outcome.client.is_err());
        assert_eq!(received_alert(&outcome.server), Some(code), "alert {code}");
        // The application chose this; no validation failure is reported.
        assert!(take_failure().is_none());
    }
}

#[test]
fn pending_alert_is_used_once() {
    let pki = Pki::new();
    let leaf = pki.server_leaf(|_| {});
    let shared = client_credential(&pki);
    set_pending_alert(Some(AlertDescription::CERTIFICATE_UNKNOWN)).expect("supported alert");
    assert!(handshake(client_config(&shared), plain_server(&leaf))
        .client
        .is_err());
    let outcome = handshake(client_config(&shared), plain_server(&leaf));
    assert!(outcome.client.is_ok(), "{:?}", outcome.client);
}

#[test]
fn pending_alert_can_be_cancelled() {
    let pki = Pki::new();
    let leaf = pki.server_leaf(|_| {});
    set_pending_alert(Some(AlertDescription::UNKNOWN_CA)).expect("supported alert");
    set_pending_alert(None).expect("cancel");
    let (result, _) = check_server(&client_credential(&pki), &leaf);
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn alerts_no_verification_error_produces_are_refused() {
    let supported = [40u8, 42, 43, 44, 45, 46, 48, 49, 51, 113];
    for code in 0..=255u8 {
        let result = set_pending_alert(Some(AlertDescription(code)));
        if supported.contains(&code) {
            assert!(result.is_ok(), "alert {code}");
        } else {
            let e = result.expect_err("unsupported alert");
            assert_eq!(e.status(), Status::UnsupportedFunction);
        }
    }
    set_pending_alert(None).expect("cancel");
}

#[test]
fn alert_table_errors_map_back_through_rustls() {
    // Each row's error turns into exactly its alert with rustls' own conversion.
    for code in [42u8, 43, 44, 45, 46, 48, 49, 51, 113] {
        let Some(rustls::Error::InvalidCertificate(e)) = error_for_alert(AlertDescription(code))
        else {
            panic!("alert {code} must map to a certificate error");
        };
        assert_eq!(u8::from(rustls::AlertDescription::from(e)), code);
    }
    assert!(matches!(
        error_for_alert(AlertDescription::HANDSHAKE_FAILURE),
        Some(rustls::Error::General(_))
    ));
}

#[test]
fn pending_alert_applies_to_client_certificates_too() {
    let pki = Pki::new();
    let client_leaf = pki.client_leaf(|_| {});
    let mut client = client_credential(&pki);
    client.certified_key = Some(client_leaf.certified_key());
    let server = client_auth_server(&pki, true);
    // Client and server share this thread: the client must not verify through our
    // verifier, or it would take the pending alert first.
    let client_config = Arc::new(
        ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(pki.roots())
            .with_client_cert_resolver(client_cert_resolver(&client)),
    );
    set_pending_alert(Some(AlertDescription::ACCESS_DENIED)).expect("supported alert");
    let outcome = handshake(
        client_config,
        server_config(&server, &pki.server_leaf(|_| {})),
    );
    assert!(outcome.server.is_err());
    assert_eq!(received_alert(&outcome.client), Some(49));
}

// ---------------------------------------------------------------------------------------
// Client certificates (server side)
// ---------------------------------------------------------------------------------------

fn client_auth_server(pki: &Pki, require: bool) -> CredentialShared {
    let mut shared = credential(Role::Server, pki.roots());
    shared.trust.root_certificates = vec![pki.root.der().clone()];
    shared.options.request_client_certificate = true;
    shared.options.require_client_certificate = require;
    shared
}

/// Handshake with a client presenting `leaf`; returns the outcome and the server's
/// hand-off (client and server share the test thread, and only the server verifies here).
fn client_auth_handshake(
    pki: &Pki,
    server: &CredentialShared,
    leaf: Option<&Leaf>,
) -> (Outcome, Option<RejectedCertificate>) {
    let mut client = client_credential(pki);
    client.certified_key = leaf.map(Leaf::certified_key);
    let _ = take_failure();
    let outcome = handshake(
        client_config(&client),
        server_config(server, &pki.server_leaf(|_| {})),
    );
    (outcome, take_failure())
}

#[test]
fn no_client_verifier_without_request_or_require() {
    let pki = Pki::new();
    let shared = credential(Role::Server, pki.roots());
    assert!(client_verifier(&shared).expect("builds").is_none());
    let requested = client_auth_server(&pki, false);
    let v = client_verifier(&requested)
        .expect("builds")
        .expect("requested");
    assert!(v.offer_client_auth() && !v.client_auth_mandatory());
    let required = client_auth_server(&pki, true);
    let v = client_verifier(&required)
        .expect("builds")
        .expect("required");
    assert!(v.offer_client_auth() && v.client_auth_mandatory());
}

#[test]
fn valid_client_certificate_is_accepted() {
    let pki = Pki::new();
    let leaf = pki.client_leaf(|_| {});
    let (outcome, failure) =
        client_auth_handshake(&pki, &client_auth_server(&pki, true), Some(&leaf));
    assert!(outcome.server.is_ok(), "{:?}", outcome.server);
    assert!(outcome.client.is_ok(), "{:?}", outcome.client);
    assert!(failure.is_none());
}

/// A handshake with a client presenting `leaf` to `server`: refused with `alert`, and
/// `status` and 36877 on the server (`row` names the case in the messages).
fn assert_client_refused(
    row: &str,
    pki: &Pki,
    server: &CredentialShared,
    leaf: &Leaf,
    alert: u8,
    status: Status,
) {
    let (outcome, failure) = client_auth_handshake(pki, server, Some(leaf));
    assert!(
        matches!(outcome.server, Err(rustls::Error::InvalidCertificate(_))),
        "{row}: {:?}",
        outcome.server
    );
    assert_eq!(
        received_alert(&outcome.client),
        Some(alert),
        "{row}: {:?}",
        outcome.client
    );
    let failure = failure.unwrap_or_else(|| panic!("{row}: hand-off"));
    let error = outcome.server.as_ref().expect_err("refused");
    assert_eq!(
        judged(Role::Server, error),
        (status, Some(EventId::ClientCertificateInvalid)),
        "{row}"
    );
    assert_eq!(&*failure.certificate, leaf.der().as_ref(), "{row}");
    assert!(failure.checked_name.is_none(), "{row}");
}

// The scenarios of the client certificate rows: the server (requiring a certificate) and
// the certificate the client presents.

fn untrusted_client(pki: &Pki) -> Scenario {
    let leaf = pki.stranger.client_leaf(&["client.test"]);
    (client_auth_server(pki, true), leaf)
}

fn expired_client(pki: &Pki) -> Scenario {
    let leaf = pki.client_leaf(|p| p.not_after = date_time_ymd(2029, 1, 1));
    (client_auth_server(pki, true), leaf)
}

fn revoked_client(pki: &Pki) -> Scenario {
    let leaf = pki.client_leaf(|p| p.serial_number = Some(SerialNumber::from(5u64)));
    let mut server = client_auth_server(pki, true);
    server.trust.crls = vec![pki.inter.crl(&[5])];
    (server, leaf)
}

fn server_only_client(pki: &Pki) -> Scenario {
    let leaf =
        pki.client_leaf(|p| p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth]);
    (client_auth_server(pki, true), leaf)
}

fn empty_client_auth_trust_list(pki: &Pki) -> Scenario {
    let mut server = client_auth_server(pki, true);
    server.trust.client_auth_trust_mode = ClientAuthTrustMode::ExclusiveRootTrust;
    (server, pki.client_leaf(|_| {}))
}

/// The verdict table for the client's certificate, one test per row: scenario => the alert
/// the client receives and the status the server reports with 36877.
macro_rules! client_certificate_rows {
    ($($test:ident: $scenario:ident => $alert:literal, $status:ident;)*) => {$(
        #[test]
        fn $test() {
            let pki = Pki::new();
            let (server, leaf) = $scenario(&pki);
            let row = stringify!($test);
            assert_client_refused(row, &pki, &server, &leaf, $alert, Status::$status);
        }
    )*};
}

client_certificate_rows! {
    untrusted_client_certificate_is_36877_untrusted_root:
        untrusted_client => 48, UntrustedRoot;
    expired_client_certificate_is_36877_cert_expired:
        expired_client => 45, CertExpired;
    revoked_client_certificate_is_36877_crypt_e_revoked:
        revoked_client => 44, CryptERevoked;
    server_only_certificate_is_36877_wrong_usage:
        server_only_client => 43, CertWrongUsage;
    trust_mode_with_empty_list_refuses_every_client_as_untrusted:
        empty_client_auth_trust_list => 48, UntrustedRoot;
}

#[test]
fn request_only_lets_an_anonymous_client_through_and_require_does_not() {
    let pki = Pki::new();
    let (outcome, failure) = client_auth_handshake(&pki, &client_auth_server(&pki, false), None);
    assert!(outcome.server.is_ok() && outcome.client.is_ok());
    assert!(failure.is_none());

    let (outcome, failure) = client_auth_handshake(&pki, &client_auth_server(&pki, true), None);
    assert!(
        matches!(outcome.server, Err(rustls::Error::NoCertificatesPresented)),
        "{:?}",
        outcome.server
    );
    // No certificate was checked: the context reports this one itself.
    assert!(failure.is_none());
}

#[test]
fn exclusive_root_trust_accepts_only_listed_roots() {
    let pki = Pki::new();
    let leaf = pki.client_leaf(|_| {});
    let mut server = client_auth_server(&pki, true);
    server.trust.client_auth_trust_mode = ClientAuthTrustMode::ExclusiveRootTrust;
    // The machine trusts the root, but the client-auth list names another one (and the
    // intermediate, which is not a root and does not count in this mode).
    server.trust.client_auth_trust_list = vec![pki.stranger.der().clone(), pki.inter.der().clone()];
    let row = "another root listed";
    assert_client_refused(row, &pki, &server, &leaf, 48, Status::UntrustedRoot);

    server.trust.client_auth_trust_list = vec![pki.root.der().clone()];
    let (outcome, failure) = client_auth_handshake(&pki, &server, Some(&leaf));
    assert!(outcome.server.is_ok(), "{:?}", outcome.server);
    assert!(failure.is_none());
}

#[test]
fn exclusive_ca_trust_wants_the_issuing_ca_listed() {
    let pki = Pki::new();
    let leaf = pki.client_leaf(|_| {});
    let mut server = client_auth_server(&pki, true);
    server.trust.client_auth_trust_mode = ClientAuthTrustMode::ExclusiveCaTrust;
    // Only the root is listed: the issuing CA (the intermediate) is not.
    server.trust.client_auth_trust_list = vec![pki.root.der().clone()];
    let row = "only the root listed";
    assert_client_refused(row, &pki, &server, &leaf, 48, Status::UntrustedRoot);

    server.trust.client_auth_trust_list = vec![pki.inter.der().clone()];
    let (outcome, failure) = client_auth_handshake(&pki, &server, Some(&leaf));
    assert!(outcome.server.is_ok(), "{:?}", outcome.server);
    assert!(failure.is_none());
}

#[test]
fn trust_mode_registry_values() {
    assert_eq!(
        ClientAuthTrustMode::from_value(0),
        Some(ClientAuthTrustMode::MachineTrust)
    );
    assert_eq!(
        ClientAuthTrustMode::from_value(1),
        Some(ClientAuthTrustMode::ExclusiveRootTrust)
    );
    assert_eq!(
        ClientAuthTrustMode::from_value(2),
        Some(ClientAuthTrustMode::ExclusiveCaTrust)
    );
    assert_eq!(ClientAuthTrustMode::from_value(3), None);
}

// ---------------------------------------------------------------------------------------
// The trusted issuer list
// ---------------------------------------------------------------------------------------

#[test]
fn issuer_list_is_empty_unless_send_trusted_issuer_list() {
    let pki = Pki::new();
    let mut server = client_auth_server(&pki, true);
    let v = client_verifier(&server)
        .expect("builds")
        .expect("requested");
    assert!(v.root_hint_subjects().is_empty());

    server.trust.send_trusted_issuer_list = true;
    let v = client_verifier(&server)
        .expect("builds")
        .expect("requested");
    let names: Vec<&[u8]> = v.root_hint_subjects().iter().map(|n| n.as_ref()).collect();
    // The root's subject, as the DER Name the client compares with its chain.
    let issuer = client_cert::issuer_name(pki.inter.der()).expect("parses");
    assert_eq!(names, vec![issuer.as_slice()]);
    assert!(!take_issuer_list_truncated());
}

/// `n` trusted roots with long names (about 1 KiB each in the list).
fn many_roots(n: usize) -> RootCertStore {
    let mut store = RootCertStore::empty();
    for i in 0..n {
        let mut p = ca_params(&format!("Root {i:03}"), BasicConstraints::Unconstrained);
        p.distinguished_name
            .push(DnType::OrganizationName, "O".repeat(60));
        for u in 0..15 {
            // Distinct attribute types: rcgen keeps one value per type.
            p.distinguished_name.push(
                DnType::CustomDnType(vec![1, 3, 6, 1, 4, 1, 99999, 2, u]),
                format!("{u:02}{}", "u".repeat(58)),
            );
        }
        store
            .add(Ca::root_with(p).der().clone())
            .expect("root parses");
    }
    store
}

#[test]
fn issuer_list_is_truncated_at_16_kib_and_raises_36885_when_sent() {
    let store = many_roots(20);
    let full: usize = store.subjects().iter().map(|n| 2 + n.as_ref().len()).sum();
    assert!(
        full > TrustedIssuerList::LIMIT,
        "the test needs more than 16 KiB: {full}"
    );

    let list = TrustedIssuerList::new(store.subjects());
    assert!(list.is_truncated());
    let kept: usize = list.names().iter().map(|n| 2 + n.as_ref().len()).sum();
    assert!(kept <= TrustedIssuerList::LIMIT);
    assert!(
        kept + 2 + store.subjects()[list.names().len()].as_ref().len() > TrustedIssuerList::LIMIT
    );

    let small = TrustedIssuerList::new(store.subjects().into_iter().take(3));
    assert!(!small.is_truncated());
    assert_eq!(small.names().len(), 3);

    // In a handshake: the flag is raised when the CertificateRequest is written.
    let pki = Pki::new();
    let mut server = credential(Role::Server, Arc::new(store));
    server.options.request_client_certificate = true;
    server.trust.send_trusted_issuer_list = true;
    let v = client_verifier(&server)
        .expect("builds")
        .expect("requested");
    assert!(!take_issuer_list_truncated(), "building does not raise it");
    drop(v);
    let client = client_credential(&pki);
    for config in [client_config(&client), client_config_tls12(&client)] {
        let outcome = handshake(config, server_config(&server, &pki.server_leaf(|_| {})));
        assert!(outcome.server.is_ok(), "{:?}", outcome.server);
        assert!(take_issuer_list_truncated());
        assert!(!take_issuer_list_truncated(), "taken once");
    }
}

// ---------------------------------------------------------------------------------------
// Client certificate choice (client side)
// ---------------------------------------------------------------------------------------

#[test]
fn resolver_without_a_client_certificate_declines_with_36875() {
    let pki = Pki::new();
    let resolver = client_cert_resolver(&client_credential(&pki));
    assert!(
        !resolver.has_certs(),
        "no transcript kept for a CertificateVerify"
    );
    let schemes = [rustls::SignatureScheme::ECDSA_NISTP256_SHA256];
    assert!(resolver.resolve(&[], &schemes).is_none());
    assert!(take_no_suitable_client_certificate());
    assert!(!take_client_certificate_offered());
}

#[test]
fn handshake_without_a_client_certificate_goes_anonymous_with_36875() {
    let pki = Pki::new();
    let server = client_auth_server(&pki, false);
    let client = client_credential(&pki);
    for config in [client_config(&client), client_config_tls12(&client)] {
        let outcome = handshake(config, server_config(&server, &pki.server_leaf(|_| {})));
        assert!(outcome.client.is_ok(), "{:?}", outcome.client);
        assert!(outcome.server.is_ok(), "{:?}", outcome.server);
        assert!(take_no_suitable_client_certificate());
        assert!(!take_client_certificate_offered());
    }
}

#[test]
fn client_certificate_is_offered_when_it_suits() {
    let pki = Pki::new();
    let leaf = pki.client_leaf(|_| {});
    let mut client = client_credential(&pki);
    client.certified_key = Some(leaf.certified_key());
    let resolver = client_cert_resolver(&client);
    let schemes = [rustls::SignatureScheme::ECDSA_NISTP256_SHA256];
    let root_dn = client_cert::issuer_name(pki.inter.der()).expect("parses");
    let inter_dn = client_cert::issuer_name(&leaf.chain[0]).expect("parses");

    assert!(
        resolver.resolve(&[], &schemes).is_some(),
        "no list: any issuer"
    );
    assert!(
        resolver.resolve(&[&root_dn], &schemes).is_some(),
        "the root"
    );
    assert!(
        resolver.resolve(&[&inter_dn], &schemes).is_some(),
        "the intermediate"
    );
    assert!(!take_no_suitable_client_certificate());
    assert!(take_client_certificate_offered());
    assert!(!take_client_certificate_offered(), "taken once");
}

#[test]
fn no_suitable_client_certificate_for_other_issuers_or_schemes() {
    let pki = Pki::new();
    let leaf = pki.client_leaf(|_| {});
    let mut client = client_credential(&pki);
    client.certified_key = Some(leaf.certified_key());
    let resolver = client_cert_resolver(&client);
    let stranger_dn = client_cert::issuer_name(pki.stranger.der()).expect("parses");

    assert!(resolver
        .resolve(
            &[&stranger_dn],
            &[rustls::SignatureScheme::ECDSA_NISTP256_SHA256]
        )
        .is_none());
    assert!(take_no_suitable_client_certificate());
    assert!(!take_no_suitable_client_certificate(), "taken once");
    assert!(!take_client_certificate_offered());

    // An ECDSA P-256 key cannot sign with RSA schemes.
    assert!(resolver
        .resolve(&[], &[rustls::SignatureScheme::RSA_PSS_SHA256])
        .is_none());
    assert!(take_no_suitable_client_certificate());
}

#[test]
fn handshake_goes_anonymous_when_the_server_trusts_other_issuers() {
    let pki = Pki::new();
    let leaf = pki.client_leaf(|_| {});
    // The server trusts another root (by name too: DNs are what the list compares) and
    // names it.
    let mut stranger_roots = RootCertStore::empty();
    stranger_roots
        .add(pki.stranger.der().clone())
        .expect("root parses");
    let mut server = credential(Role::Server, Arc::new(stranger_roots));
    server.options.request_client_certificate = true;
    server.trust.send_trusted_issuer_list = true;
    let mut client = client_credential(&pki);
    client.certified_key = Some(leaf.certified_key());
    // TLS 1.3 sends the list as certificate_authorities, TLS 1.2 in the CertificateRequest.
    for config in [client_config(&client), client_config_tls12(&client)] {
        let outcome = handshake(config, server_config(&server, &pki.server_leaf(|_| {})));
        assert!(outcome.client.is_ok(), "{:?}", outcome.client);
        assert!(outcome.server.is_ok(), "{:?}", outcome.server);
        assert!(take_no_suitable_client_certificate());
        assert!(!take_client_certificate_offered());
        assert!(take_failure().is_none());
    }
}

#[test]
fn handshake_sends_the_client_certificate_the_server_names() {
    let pki = Pki::new();
    let leaf = pki.client_leaf(|_| {});
    let mut server = client_auth_server(&pki, true);
    server.trust.send_trusted_issuer_list = true;
    let (outcome, failure) = client_auth_handshake(&pki, &server, Some(&leaf));
    assert!(outcome.server.is_ok(), "{:?}", outcome.server);
    assert!(failure.is_none());
    assert!(!take_no_suitable_client_certificate());
    assert!(take_client_certificate_offered());
}

// ---------------------------------------------------------------------------------------
// The documented alert column is rustls' own conversion
// ---------------------------------------------------------------------------------------

#[test]
fn documented_alert_column_matches_rustls() {
    use rustls::AlertDescription as A;
    let webpki_other = |e: webpki::Error| CertificateError::Other(rustls::OtherError(Arc::new(e)));
    let rows: Vec<(CertificateError, A, Status)> = vec![
        (
            CertificateError::Expired,
            A::CertificateExpired,
            Status::CertExpired,
        ),
        (
            CertificateError::NotValidYet,
            A::CertificateExpired,
            Status::CertExpired,
        ),
        (
            CertificateError::UnknownIssuer,
            A::UnknownCA,
            Status::UntrustedRoot,
        ),
        (
            CertificateError::Revoked,
            A::CertificateRevoked,
            Status::CryptERevoked,
        ),
        (
            CertificateError::NotValidForName,
            A::BadCertificate,
            Status::WrongPrincipal,
        ),
        (
            CertificateError::InvalidPurpose,
            A::UnsupportedCertificate,
            Status::CertWrongUsage,
        ),
        (
            CertificateError::UnknownRevocationStatus,
            A::UnknownCA,
            Status::CryptENoRevocationCheck,
        ),
        (
            CertificateError::ExpiredRevocationList,
            A::UnknownCA,
            Status::CryptERevocationOffline,
        ),
        (
            CertificateError::BadSignature,
            A::DecryptError,
            Status::CertUnknown,
        ),
        (
            CertificateError::UnsupportedSignatureAlgorithmContext {
                signature_algorithm_id: Vec::new(),
                supported_algorithms: Vec::new(),
            },
            A::DecryptError,
            Status::CertUnknown,
        ),
        (
            webpki_other(webpki::Error::PathLenConstraintViolated),
            A::CertificateUnknown,
            Status::CertEChaining,
        ),
        (
            webpki_other(webpki::Error::MaximumPathDepthExceeded),
            A::CertificateUnknown,
            Status::CertEChaining,
        ),
        (
            webpki_other(webpki::Error::MaximumPathBuildCallsExceeded),
            A::CertificateUnknown,
            Status::CertEChaining,
        ),
        (
            webpki_other(webpki::Error::MaximumSignatureChecksExceeded),
            A::CertificateUnknown,
            Status::CertEChaining,
        ),
        (
            CertificateError::BadEncoding,
            A::BadCertificate,
            Status::CertUnknown,
        ),
        (
            CertificateError::UnhandledCriticalExtension,
            A::BadCertificate,
            Status::CertUnknown,
        ),
        (
            webpki_other(webpki::Error::CaUsedAsEndEntity),
            A::CertificateUnknown,
            Status::CertUnknown,
        ),
        (
            CertificateError::Other(rustls::OtherError(Arc::new(RsaKeyTooShort {
                bits: 2048,
                minimum: 3072,
            }))),
            A::CertificateUnknown,
            Status::CertsrvEWeakSignatureOrKey,
        ),
    ];
    for (error, alert, status) in rows {
        assert_eq!(A::from(error.clone()), alert, "{error:?}");
        assert_eq!(
            judged(
                Role::Client,
                &rustls::Error::InvalidCertificate(error.clone())
            )
            .0,
            status,
            "{error:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Figures (not a test: run with
// `cargo test -p securechannel --release --lib verify::tests::figures -- --ignored --nocapture`)
// ---------------------------------------------------------------------------------------

#[test]
#[ignore = "prints figures; run on demand in release mode"]
fn figures_verifier_build_and_verify_cost() {
    use std::time::Instant;
    let pki = Pki::new();
    let leaf = pki.server_leaf(|_| {});
    let big_crl = pki.inter.crl(&(1000..11_000).collect::<Vec<u64>>());
    let unrelated: Vec<CertificateDer<'static>> = (0..50)
        .map(|i| {
            pki.root
                .intermediate(&format!("Unrelated {i}"))
                .der()
                .clone()
        })
        .collect();

    let time = |label: &str, n: u32, mut f: Box<dyn FnMut() + '_>| {
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        let each = start.elapsed() / n;
        println!("{label:<60} {:>10.1} µs", each.as_secs_f64() * 1e6);
    };

    let plain = client_credential(&pki);
    let mut with_crl = client_credential(&pki);
    with_crl.trust.crls = vec![big_crl.clone()];
    let mut with_store = client_credential(&pki);
    with_store.trust.intermediates = unrelated.clone();

    time(
        "server_verifier build, no CRL",
        200,
        Box::new(|| {
            server_verifier(&plain).expect("builds");
        }),
    );
    time(
        "server_verifier build, one CRL of 10,000 entries",
        20,
        Box::new(|| {
            server_verifier(&with_crl).expect("builds");
        }),
    );
    for (label, shared) in [
        ("verify_server_cert, 2-level chain", &plain),
        (
            "verify_server_cert, 2-level chain, CRL of 10,000 entries",
            &with_crl,
        ),
        (
            "verify_server_cert, 2-level chain, 50 stores/CA intermediates",
            &with_store,
        ),
    ] {
        let v = server_verifier(shared).expect("builds");
        let name = server_name();
        time(
            label,
            500,
            Box::new(|| {
                v.verify_server_cert(leaf.der(), &leaf.chain[1..], &name, &[], now())
                    .expect("valid");
            }),
        );
    }
    let v = server_verifier(&plain).expect("builds");
    let name = server_name();
    let stranger = pki.stranger.server_leaf(&[SERVER_NAME]);
    time(
        "verify_server_cert refused (unknown issuer) + hand-off",
        500,
        Box::new(|| {
            assert!(v
                .verify_server_cert(stranger.der(), &[], &name, &[], now())
                .is_err());
            assert!(take_failure().is_some());
        }),
    );
}

mod revocation;
mod windows_verdicts;
