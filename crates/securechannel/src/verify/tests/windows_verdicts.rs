//! Verdicts where CryptoAPI is stricter than webpki, or more precise: a trust anchor out
//! of its validity or with an unknown critical extension, an issuer that is no CA or may
//! not sign certificates, an extendedKeyUsage naming no purpose; and the precise chain
//! status each row carries beside its SSPI status.

use super::*;
use rcgen::{IsCa, KeyUsagePurpose};

/// A client trusting `root` (as a certificate too: the anchor checks need it).
fn trusting(root: &Ca) -> CredentialShared {
    let mut shared = credential(Role::Client, root.roots());
    shared.trust.root_certificates = vec![root.der().clone()];
    shared
}

/// The refusal's verdict: (SSPI status, precise chain status).
fn statuses(error: &rustls::Error) -> (Status, Option<Status>) {
    let v = verdict(
        error,
        Facts {
            certificate_rejected: true,
            ..Facts::new(Role::Client)
        },
    );
    (v.status, v.chain_status)
}

fn refused(shared: &CredentialShared, leaf: &Leaf) -> rustls::Error {
    check_server(shared, leaf)
        .0
        .expect_err("the chain must be refused")
}

#[test]
fn an_expired_or_not_yet_valid_trusted_root_is_36881_cert_expired() {
    for (what, adjust) in [("expired", (2020, 2029)), ("not yet valid", (2031, 4096))] {
        let mut p = ca_params("Dated Root", BasicConstraints::Unconstrained);
        p.not_before = date_time_ymd(adjust.0, 1, 1);
        p.not_after = date_time_ymd(adjust.1, 1, 1);
        let root = Ca::root_with(p);
        let leaf = root.server_leaf(&[SERVER_NAME]);
        let shared = trusting(&root);
        assert_server_row(
            what,
            &shared,
            &leaf,
            Status::CertExpired,
            EventId::ServerCertificateExpired,
        );
        // webpki alone accepts it: the anchor's dates are ours to check.
        let mut lenient = shared;
        lenient.trust.root_certificates.clear();
        assert!(check_server(&lenient, &leaf).0.is_ok(), "{what}");
    }
}

#[test]
fn an_unknown_critical_extension_in_the_trusted_root_is_36876_cert_e_critical() {
    let mut p = ca_params("Critical Root", BasicConstraints::Unconstrained);
    let mut ext =
        CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 2], vec![0x05, 0x00]);
    ext.set_criticality(true);
    p.custom_extensions.push(ext);
    let root = Ca::root_with(p);
    let leaf = root.server_leaf(&[SERVER_NAME]);
    let shared = trusting(&root);
    assert_server_row(
        "critical root",
        &shared,
        &leaf,
        Status::CertUnknown,
        EventId::ServerCertificateInvalid,
    );
    assert_eq!(
        statuses(&refused(&shared, &leaf)),
        (Status::CertUnknown, Some(Status::CertECritical))
    );
    // The same extension in the leaf: webpki's own refusal, the same verdict.
    let pki = Pki::new();
    let (shared, leaf) = unhandled_critical_extension(&pki);
    assert_eq!(
        statuses(&refused(&shared, &leaf)),
        (Status::CertUnknown, Some(Status::CertECritical))
    );
}

#[test]
fn an_intermediate_without_basic_constraints_is_its_own_problem_trust_e_basic_constraints() {
    let pki = Pki::new();
    let mut p = ca_params("Not A CA", BasicConstraints::Unconstrained);
    p.is_ca = IsCa::NoCa;
    let broken = pki.root.intermediate_with(p);
    let leaf = broken.server_leaf(&[SERVER_NAME]);
    let shared = trusting(&pki.root);
    assert_server_row(
        "no basicConstraints",
        &shared,
        &leaf,
        Status::CertUnknown,
        EventId::ServerCertificateInvalid,
    );
    // Not reported as an untrusted root.
    assert_eq!(
        statuses(&refused(&shared, &leaf)),
        (Status::CertUnknown, Some(Status::TrustEBasicConstraints))
    );
}

#[test]
fn an_intermediate_without_key_cert_sign_is_refused_naming_it() {
    let pki = Pki::new();
    let mut p = ca_params("Cannot Sign", BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::CrlSign];
    let broken = pki.root.intermediate_with(p);
    let leaf = broken.server_leaf(&[SERVER_NAME]);
    let shared = trusting(&pki.root);
    assert_server_row(
        "no keyCertSign",
        &shared,
        &leaf,
        Status::CertUnknown,
        EventId::ServerCertificateInvalid,
    );
    let error = refused(&shared, &leaf);
    assert_eq!(
        statuses(&error),
        (Status::CertUnknown, Some(Status::TrustEBasicConstraints))
    );
    assert!(error.to_string().contains("CN=Cannot Sign"), "{error}");
    // An intermediate with keyCertSign (the usual one) passes the same check.
    assert!(check_server(&shared, &pki.server_leaf(|_| {})).0.is_ok());
}

#[test]
fn an_empty_extended_key_usage_is_36876_wrong_usage_like_a_wrong_one() {
    let pki = Pki::new();
    let leaf = pki.server_leaf(|p| {
        p.extended_key_usages = vec![];
        p.custom_extensions.push(CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            vec![0x30, 0x00],
        ));
    });
    let shared = trusting(&pki.root);
    assert_server_row(
        "empty EKU",
        &shared,
        &leaf,
        Status::CertWrongUsage,
        EventId::ServerCertificateInvalid,
    );
    let (shared, wrong) = wrong_usage(&pki);
    assert_eq!(
        statuses(&refused(&shared, &wrong)).0,
        Status::CertWrongUsage
    );
}

#[test]
fn precise_chain_statuses_of_the_other_rows() {
    let pki = Pki::new();
    let (shared, leaf) = path_length_exceeded(&pki);
    assert_eq!(
        statuses(&refused(&shared, &leaf)),
        (Status::CertEChaining, Some(Status::CertEPathLenConst))
    );
    let (shared, leaf) = bad_encoding(&pki);
    assert_eq!(
        statuses(&refused(&shared, &leaf)),
        (Status::CertUnknown, Some(Status::CertEMalformed))
    );
    // Rows whose SSPI status is already the precise one carry none.
    let (shared, leaf) = expired(&pki);
    assert_eq!(
        statuses(&refused(&shared, &leaf)),
        (Status::CertExpired, None)
    );
}
