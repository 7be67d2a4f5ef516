//! OCSP responses (RFC 6960) from the test CAs: encoded with x509-ocsp, signed with the
//! CA's (or a delegated responder's) rcgen key pair. For staple files (`openssl s_server
//! -status_file`), and for the tests' responders ([`OcspResponder`]).

use crate::{date_time_ymd, first, leaf_params, Ca, Leaf};
use rcgen::{ExtendedKeyUsagePurpose, SigningKey};
use rustls_pki_types::CertificateDer;
use std::time::Duration;
use x509_cert::der::asn1::{BitString, GeneralizedTime, Null, ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspGeneralizedTime, OcspResponse, ResponderId,
    ResponseData, RevokedInfo, SingleResponse, Version,
};

/// What a response says of the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OcspCertStatus {
    /// good
    Good,
    /// revoked, since 2030-04-01
    Revoked,
    /// unknown
    Unknown,
}

/// A response to build (see [`Ca::ocsp_response`]).
#[derive(Debug, Clone, Copy)]
pub struct OcspReply<'a> {
    /// The certificate's status.
    pub status: OcspCertStatus,
    /// thisUpdate (and producedAt), seconds since the epoch.
    pub this_update: u64,
    /// nextUpdate, seconds since the epoch; `None`: none.
    pub next_update: Option<u64>,
    /// Signed by this delegated responder (its certificate is included) instead of the CA.
    pub responder: Option<&'a Leaf>,
    /// Name the certificate by this serial instead of its own (a response for another
    /// certificate).
    pub serial: Option<u64>,
}

impl OcspReply<'_> {
    /// A response of `status` from the CA, current at any real clock (thisUpdate
    /// 2020-01-01, nextUpdate 4096-01-01).
    pub fn current(status: OcspCertStatus) -> OcspReply<'static> {
        OcspReply {
            status,
            this_update: secs((2020, 1, 1)),
            next_update: Some(secs((4096, 1, 1))),
            responder: None,
            serial: None,
        }
    }

    /// A good response from the CA whose nextUpdate (2021-01-01) is past at any clock a
    /// test runs at.
    pub fn expired() -> OcspReply<'static> {
        OcspReply {
            status: OcspCertStatus::Good,
            this_update: secs((2020, 1, 1)),
            next_update: Some(secs((2021, 1, 1))),
            responder: None,
            serial: None,
        }
    }
}

/// Seconds since the epoch at midnight UTC of (year, month, day).
pub fn secs(ymd: (i32, u8, u8)) -> u64 {
    let t = date_time_ymd(ymd.0, ymd.1, ymd.2);
    t.unix_timestamp() as u64
}

/// ecdsa-with-SHA256 (RFC 5758): every key the test PKI makes is ECDSA P-256.
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
/// id-sha1: CertIDs are hashed with SHA-1, as every responder and OpenSSL expect.
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");

impl Ca {
    /// An OCSP response (OCSPResponse, DER) about `cert`, issued by this CA.
    pub fn ocsp_response(&self, cert: &CertificateDer<'_>, reply: OcspReply<'_>) -> Vec<u8> {
        let issuer = Certificate::from_der(self.der()).expect("the CA's certificate parses");
        let subject = Certificate::from_der(cert).expect("the certificate parses");
        let mut cert_id = cert_id(&issuer, &subject);
        if let Some(serial) = reply.serial {
            cert_id.serial_number =
                x509_cert::serial_number::SerialNumber::new(&serial.to_be_bytes())
                    .expect("a serial number");
        }
        let status = match reply.status {
            OcspCertStatus::Good => CertStatus::good(),
            OcspCertStatus::Revoked => CertStatus::revoked(RevokedInfo {
                revocation_time: time(secs((2030, 4, 1))),
                revocation_reason: None,
            }),
            OcspCertStatus::Unknown => CertStatus::unknown(),
        };
        let (signer_cert, key): (Certificate, &rcgen::KeyPair) = match reply.responder {
            Some(r) => (
                Certificate::from_der(r.der()).expect("the responder's certificate parses"),
                &r.key,
            ),
            None => (issuer.clone(), self.issuer.key()),
        };
        let key_hash = sha1(
            signer_cert
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
        );
        let tbs = ResponseData {
            version: Version::V1,
            responder_id: ResponderId::ByKey(OctetString::new(key_hash).expect("a hash")),
            produced_at: time(reply.this_update),
            responses: vec![SingleResponse {
                cert_id,
                cert_status: status,
                this_update: time(reply.this_update),
                next_update: reply.next_update.map(time),
                single_extensions: None,
            }],
            response_extensions: None,
        };
        let signed = tbs.to_der().expect("ResponseData encodes");
        assert_eq!(
            key.algorithm(),
            &rcgen::PKCS_ECDSA_P256_SHA256,
            "the test responder signs with ECDSA P-256 keys"
        );
        let signature = key.sign(&signed).expect("rcgen signs");
        let basic = BasicOcspResponse {
            tbs_response_data: tbs,
            signature_algorithm: AlgorithmIdentifierOwned {
                oid: ECDSA_WITH_SHA256,
                parameters: None,
            },
            signature: BitString::from_bytes(&signature).expect("a signature"),
            certs: reply.responder.map(|_| vec![signer_cert]),
        };
        OcspResponse::successful(basic)
            .expect("the response encodes")
            .to_der()
            .expect("OCSPResponse encodes")
    }

    /// A delegated OCSP responder of this CA: an end-entity certificate with the
    /// OCSPSigning extended key usage, or (`ocsp_signing` false) without it, which a
    /// client must refuse as a responder.
    pub fn ocsp_responder(&self, name: &str, ocsp_signing: bool) -> Leaf {
        let usage = if ocsp_signing {
            ExtendedKeyUsagePurpose::OcspSigning
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        };
        self.issue(&leaf_params(first(&[name]), &[], usage))
    }
}

/// The CertID (SHA-1) of `subject` issued by `issuer`.
fn cert_id(issuer: &Certificate, subject: &Certificate) -> CertId {
    let name = issuer
        .tbs_certificate
        .subject
        .to_der()
        .expect("a Name encodes");
    CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: SHA1,
            parameters: Some(Null.into()),
        },
        issuer_name_hash: OctetString::new(sha1(&name)).expect("a hash"),
        issuer_key_hash: OctetString::new(sha1(
            issuer
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
        ))
        .expect("a hash"),
        serial_number: subject.tbs_certificate.serial_number.clone(),
    }
}

fn sha1(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

fn time(secs: u64) -> OcspGeneralizedTime {
    OcspGeneralizedTime(
        GeneralizedTime::from_unix_duration(Duration::from_secs(secs)).expect("a time"),
    )
}

/// An Authority Information Access extension naming `url` as the OCSP responder (what a
/// server fetches its staple from): add it to a leaf's `custom_extensions`.
pub fn ocsp_aia(url: &str) -> rcgen::CustomExtension {
    use x509_cert::der::asn1::Ia5String;
    use x509_cert::ext::pkix::name::GeneralName;
    use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};
    let aia = AuthorityInfoAccessSyntax(vec![AccessDescription {
        access_method: ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1"),
        access_location: GeneralName::UniformResourceIdentifier(
            Ia5String::new(url).expect("an ASCII URL"),
        ),
    }]);
    rcgen::CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 5, 5, 7, 1, 1],
        aia.to_der().expect("the AIA extension encodes"),
    )
}
