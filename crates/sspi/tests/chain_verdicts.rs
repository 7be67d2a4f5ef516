//! The rows of the chain verdict table (`CHAIN_VERDICTS` in src/chain.rs) through the
//! exports themselves, in process: CertCreateCertificateContext, a memory store with the
//! intermediates, CertGetCertificateChain (at the test clock, 2030-06-01) and
//! CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL), on a data directory with the
//! test PKI. Each row: the CERT_TRUST_* bit of the chain and the policy's dwError.

use rustls_pki_types::CertificateDer;
use securechannel_events::Status;
use securechannel_sspi::abi::*;
use securechannel_sspi::*;
use securechannel_testpki::{Ca, NOW_SECS};
use std::ffi::c_void;

/// What the policy says of `chain` (end entity first) for `usage` and `name`.
fn judge(
    chain: &[CertificateDer<'_>],
    client_usage: bool,
    flags: DWORD,
    name: Option<&str>,
) -> (DWORD, DWORD) {
    // SAFETY: every pointer below is to a live local or to what the exports returned.
    unsafe {
        let leaf = CertCreateCertificateContext(
            X509_ASN_ENCODING,
            chain[0].as_ptr(),
            chain[0].len() as DWORD,
        );
        assert!(!leaf.is_null());
        let store = CertOpenStore(
            CERT_STORE_PROV_MEMORY as *const c_void,
            0,
            0,
            0,
            std::ptr::null(),
        );
        assert!(!store.is_null());
        for c in &chain[1..] {
            assert_eq!(
                CertAddEncodedCertificateToStore(
                    store,
                    X509_ASN_ENCODING,
                    c.as_ptr(),
                    c.len() as DWORD,
                    CERT_STORE_ADD_ALWAYS,
                    std::ptr::null_mut()
                ),
                1
            );
        }
        let mut oid = if client_usage {
            b"1.3.6.1.5.5.7.3.2\0".to_vec()
        } else {
            b"1.3.6.1.5.5.7.3.1\0".to_vec()
        };
        let mut ids = [oid.as_mut_ptr()];
        let para = CERT_CHAIN_PARA {
            cbSize: std::mem::size_of::<CERT_CHAIN_PARA>() as DWORD,
            RequestedUsage: CERT_USAGE_MATCH {
                dwType: USAGE_MATCH_TYPE_AND,
                Usage: CERT_ENHKEY_USAGE {
                    cUsageIdentifier: 1,
                    rgpszUsageIdentifier: ids.as_mut_ptr(),
                },
            },
        };
        let ticks = (NOW_SECS + 11_644_473_600) * 10_000_000;
        let at = FILETIME {
            dwLowDateTime: ticks as u32,
            dwHighDateTime: (ticks >> 32) as u32,
        };
        let mut context: *const CERT_CHAIN_CONTEXT = std::ptr::null();
        assert_eq!(
            CertGetCertificateChain(
                std::ptr::null_mut(),
                leaf,
                &at,
                store,
                &para,
                flags,
                std::ptr::null_mut(),
                &mut context
            ),
            1
        );
        let trust = (*context).TrustStatus.dwErrorStatus;
        let wide: Option<Vec<u16>> = name.map(|n| n.encode_utf16().chain([0]).collect());
        let mut ssl = SSL_EXTRA_CERT_CHAIN_POLICY_PARA {
            cbSize: std::mem::size_of::<SSL_EXTRA_CERT_CHAIN_POLICY_PARA>() as DWORD,
            dwAuthType: if client_usage {
                AUTHTYPE_CLIENT
            } else {
                AUTHTYPE_SERVER
            },
            fdwChecks: 0,
            pwszServerName: wide.as_ref().map_or(std::ptr::null(), |w| w.as_ptr()),
        };
        let policy = CERT_CHAIN_POLICY_PARA {
            cbSize: std::mem::size_of::<CERT_CHAIN_POLICY_PARA>() as DWORD,
            dwFlags: 0,
            pvExtraPolicyPara: (&mut ssl as *mut SSL_EXTRA_CERT_CHAIN_POLICY_PARA).cast(),
        };
        let mut status = CERT_CHAIN_POLICY_STATUS {
            cbSize: std::mem::size_of::<CERT_CHAIN_POLICY_STATUS>() as DWORD,
            dwError: 0xFFFF_FFFF,
            lChainIndex: 0,
            lElementIndex: 0,
            pvExtraPolicyStatus: std::ptr::null_mut(),
        };
        assert_eq!(
            CertVerifyCertificateChainPolicy(
                CERT_CHAIN_POLICY_SSL as *const u8,
                context,
                &policy,
                &mut status
            ),
            1
        );
        CertFreeCertificateChain(context);
        assert_eq!(CertFreeCertificateContext(leaf), 1);
        assert_eq!(CertCloseStore(store, 0), 1);
        (trust, status.dwError)
    }
}

#[test]
fn each_chain_verdict_row_gives_its_trust_bit_and_cryptoapi_status() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("crl")).unwrap();
    let root = Ca::root("Rows Root");
    root.write_pem(&data.join("stores/Root/root.pem"));
    let inter = root.intermediate("Rows Intermediate");
    // The process's one data directory; this binary has this one test.
    std::env::set_var("SCHANNEL_DATA", &data);

    let good = inter.server_leaf(&["good.test"]);
    assert_eq!(
        judge(&good.chain, false, 0, Some("good.test")),
        (0, 0),
        "valid"
    );
    assert_eq!(
        judge(&good.chain, false, 0, None),
        (0, 0),
        "no name: the chain only"
    );
    assert_eq!(
        judge(&good.chain, false, 0, Some("other.test")),
        (0, Status::CertECnNoMatch.code()),
        "the name"
    );
    let expired = inter.server_leaf_with(&["old.test"], |p| {
        p.not_after = rcgen::date_time_ymd(2030, 1, 1);
    });
    assert_eq!(
        judge(&expired.chain, false, 0, Some("old.test")),
        (CERT_TRUST_IS_NOT_TIME_VALID, Status::CertEExpired.code()),
        "expired"
    );
    let early = inter.server_leaf_with(&["early.test"], |p| {
        p.not_before = rcgen::date_time_ymd(2031, 1, 1);
    });
    assert_eq!(
        judge(&early.chain, false, 0, Some("early.test")),
        (CERT_TRUST_IS_NOT_TIME_VALID, Status::CertEExpired.code()),
        "not yet valid"
    );
    let stranger = Ca::root("Rows Stranger").server_leaf(&["good.test"]);
    assert_eq!(
        judge(&stranger.chain, false, 0, Some("good.test")),
        (
            CERT_TRUST_IS_UNTRUSTED_ROOT,
            Status::CertEUntrustedRoot.code()
        ),
        "untrusted root"
    );
    let client = inter.client_leaf(&["client.test"]);
    assert_eq!(
        judge(&client.chain, false, 0, None),
        (
            CERT_TRUST_IS_NOT_VALID_FOR_USAGE,
            Status::CertEWrongUsage.code()
        ),
        "a client certificate judged for serverAuth"
    );
    assert_eq!(
        judge(&client.chain, true, 0, None),
        (0, 0),
        "and for clientAuth"
    );
    assert_eq!(
        judge(
            &good.chain,
            false,
            CERT_CHAIN_REVOCATION_CHECK_CHAIN,
            Some("good.test")
        ),
        (
            CERT_TRUST_REVOCATION_STATUS_UNKNOWN,
            Status::CryptENoRevocationCheck.code()
        ),
        "a revocation check with no CRL"
    );
    let revoked = inter.server_leaf_with(&["revoked.test"], |p| {
        p.serial_number = Some(rcgen::SerialNumber::from(99u64));
    });
    std::fs::write(data.join("crl/inter.crl"), inter.crl(&[99]).as_ref()).unwrap();
    std::fs::write(data.join("crl/root.crl"), root.crl(&[]).as_ref()).unwrap();
    assert_eq!(
        judge(
            &revoked.chain,
            false,
            CERT_CHAIN_REVOCATION_CHECK_CHAIN,
            Some("revoked.test")
        ),
        (CERT_TRUST_IS_REVOKED, Status::CryptERevoked.code()),
        "revoked"
    );
    assert_eq!(
        judge(
            &good.chain,
            false,
            CERT_CHAIN_REVOCATION_CHECK_CHAIN,
            Some("good.test")
        ),
        (0, 0),
        "not revoked, with CRLs"
    );
}
