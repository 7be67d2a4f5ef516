//! OCSP (RFC 6960): the request a server sends its certificate's responder, and the
//! check of a response, whether a server fetched it (before stapling it) or a client
//! received it stapled in the handshake.
//!
//! The encoding is x509-ocsp's (RustCrypto's OCSP types over `der`, a strict DER codec,
//! so the re-encoded ResponseData is the signed one); the signatures are checked by
//! rustls-webpki with aws-lc-rs (`EndEntityCert::verify_signature` with rustls'
//! signature algorithms), and a delegated responder's certificate is verified by webpki
//! as issued by the certificate's issuer with the OCSPSigning extended key usage. The
//! CertID hashes are aws-lc-rs digests (SHA-1, as RFC 5019 responders and OpenSSL use,
//! or SHA-256 when a response names its certificate so).
//!
//! A response is accepted when:
//! - its status is successful and it is a BasicOCSPResponse;
//! - it is signed by the certificate's issuer, or by a responder certificate it carries
//!   that the issuer issued for OCSPSigning and that is valid at the validation time;
//! - one of its SingleResponses names the certificate (hash of the issuer's name and
//!   key, serial number);
//! - that response's thisUpdate is not in the future (5 minutes of clock skew allowed)
//!   and its nextUpdate, when it has one, is not past.
//!
//! Anything else makes the response invalid, with the reason in words ([`OcspInvalid`]).

use rustls::pki_types::{CertificateDer, UnixTime};
use std::time::Duration;
use x509_cert::der::asn1::{Null, ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Encode};
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_cert::Certificate;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    TbsRequest, Version,
};

/// What a checked OCSP response says of the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OcspStatus {
    /// Not revoked (as of thisUpdate).
    Good,
    /// Revoked, at this time (seconds since the Unix epoch).
    Revoked {
        /// When the certificate was revoked.
        at: i64,
    },
    /// The responder does not know the certificate.
    Unknown,
}

impl OcspStatus {
    /// `good`, `revoked`, `unknown`: the word RFC 6960 and `openssl ocsp` use.
    pub fn name(self) -> &'static str {
        match self {
            OcspStatus::Good => "good",
            OcspStatus::Revoked { .. } => "revoked",
            OcspStatus::Unknown => "unknown",
        }
    }
}

/// Who signed an accepted response.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OcspSigner {
    /// The certificate's issuer itself.
    Issuer,
    /// A delegated responder (its subject), issued by the issuer for OCSPSigning.
    Delegated(String),
}

/// An OCSP response that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OcspResponseInfo {
    /// The certificate's status.
    pub status: OcspStatus,
    /// thisUpdate, seconds since the Unix epoch.
    pub this_update: i64,
    /// nextUpdate, seconds since the Unix epoch (`None`: the response has none).
    pub next_update: Option<i64>,
    /// Who signed it.
    pub signer: OcspSigner,
}

/// Why an OCSP response was not accepted, in words for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspInvalid(pub String);

impl std::fmt::Display for OcspInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OcspInvalid {}

/// What a client made of the OCSP response the server stapled
/// ([`crate::ClientContext::ocsp_staple`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StapleCheck {
    /// The staple is valid: its status answers for the server's certificate.
    Valid(OcspResponseInfo),
    /// The staple was not accepted (why); it is treated as absent, and the certificate's
    /// revocation is checked with CRLs as the revocation mode says.
    Invalid(String),
}

/// The clock skew allowed for a responder's thisUpdate.
const SKEW: i64 = 300;

/// id-pkix-ocsp-basic.
const OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
/// id-sha1 and id-sha256, the CertID hashes understood.
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
/// id-kp-OCSPSigning (1.3.6.1.5.5.7.3.9), as webpki takes an EKU: the OID's DER value.
const OCSP_SIGNING_EKU: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09];
/// id-ad-ocsp, the AIA access method of an OCSP responder.
const AD_OCSP: &str = "1.3.6.1.5.5.7.48.1";

/// The `http://` (and other) OCSP responder URLs of a certificate's Authority
/// Information Access extension.
pub(crate) fn responder_urls(cert: &[u8]) -> Vec<String> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let Ok((_, cert)) = x509_parser::parse_x509_certificate(cert) else {
        return Vec::new();
    };
    let mut urls = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
            for desc in &aia.accessdescs {
                if desc.access_method.to_id_string() == AD_OCSP {
                    if let GeneralName::URI(uri) = &desc.access_location {
                        urls.push(uri.to_string());
                    }
                }
            }
        }
    }
    urls
}

/// The OCSPRequest (DER) asking about `cert`, issued by `issuer`: one request, SHA-1
/// CertID, no nonce (RFC 5019, so responders may answer from a cache).
pub(crate) fn request(cert: &[u8], issuer: &[u8]) -> Result<Vec<u8>, OcspInvalid> {
    let (cert, issuer) = (
        parse(cert, "the certificate")?,
        parse(issuer, "its issuer")?,
    );
    let req = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id(&issuer, &cert, SHA1)?,
                single_request_extensions: None,
            }],
            request_extensions: None,
        },
        optional_signature: None,
    };
    req.to_der()
        .map_err(|e| OcspInvalid(format!("cannot encode the OCSP request: {e}")))
}

/// Check `response` (an OCSPResponse, DER) about `cert`, issued by `issuer`, at `now`.
pub(crate) fn check(
    response: &[u8],
    cert: &[u8],
    issuer: &[u8],
    now: UnixTime,
) -> Result<OcspResponseInfo, OcspInvalid> {
    let invalid = |why: String| OcspInvalid(why);
    let outer = OcspResponse::from_der(response)
        .map_err(|e| invalid(format!("it is not an OCSP response ({e})")))?;
    if outer.response_status != OcspResponseStatus::Successful {
        return Err(invalid(format!(
            "the responder answered {} instead of a response",
            status_name(outer.response_status)
        )));
    }
    let bytes = outer
        .response_bytes
        .ok_or_else(|| invalid("a successful OCSP response without its response".into()))?;
    if bytes.response_type != OCSP_BASIC {
        return Err(invalid(format!(
            "an OCSP response of type {} (only id-pkix-ocsp-basic is understood)",
            bytes.response_type
        )));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| invalid(format!("its BasicOCSPResponse does not parse ({e})")))?;
    let (cert_parsed, issuer_parsed) = (
        parse(cert, "the certificate")?,
        parse(issuer, "its issuer")?,
    );
    let signer = verify_signer(&basic, issuer, now)?;

    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|r| names(&r.cert_id, &issuer_parsed, &cert_parsed))
        .ok_or_else(|| {
            invalid(format!(
                "it answers for another certificate (none of its {} responses names serial {})",
                basic.tbs_response_data.responses.len(),
                hex(cert_parsed.tbs_certificate.serial_number.as_bytes())
            ))
        })?;
    let secs = |t: &x509_ocsp::OcspGeneralizedTime| t.0.to_unix_duration().as_secs() as i64;
    let now_secs = now.as_secs() as i64;
    let this_update = secs(&single.this_update);
    let next_update = single.next_update.as_ref().map(secs);
    if this_update > now_secs + SKEW {
        return Err(invalid(format!(
            "its thisUpdate ({}) is in the future",
            rfc3339(this_update)
        )));
    }
    if let Some(n) = next_update {
        if now_secs >= n {
            return Err(invalid(format!(
                "it expired at {} (its nextUpdate)",
                rfc3339(n)
            )));
        }
    }
    let status = match &single.cert_status {
        CertStatus::Good(_) => OcspStatus::Good,
        CertStatus::Revoked(info) => OcspStatus::Revoked {
            at: secs(&info.revocation_time),
        },
        CertStatus::Unknown(_) => OcspStatus::Unknown,
    };
    Ok(OcspResponseInfo {
        status,
        this_update,
        next_update,
        signer,
    })
}

/// The response's signature, by the issuer or by a delegated responder it carries.
fn verify_signer(
    basic: &BasicOcspResponse,
    issuer: &[u8],
    now: UnixTime,
) -> Result<OcspSigner, OcspInvalid> {
    let signed = basic
        .tbs_response_data
        .to_der()
        .map_err(|e| OcspInvalid(format!("its ResponseData does not encode ({e})")))?;
    let signature = basic
        .signature
        .as_bytes()
        .ok_or_else(|| OcspInvalid("its signature is not a whole number of bytes".into()))?;
    let algorithms = algorithms_for(&basic.signature_algorithm);
    if algorithms.is_empty() {
        return Err(OcspInvalid(format!(
            "it is signed with {}, an algorithm not accepted here",
            basic.signature_algorithm.oid
        )));
    }
    let issuer_der = CertificateDer::from(issuer);
    let verifies = |signer: &CertificateDer<'_>| -> bool {
        let Ok(ee) = webpki::EndEntityCert::try_from(signer) else {
            return false;
        };
        algorithms
            .iter()
            .any(|alg| ee.verify_signature(*alg, &signed, signature).is_ok())
    };
    if verifies(&issuer_der) {
        return Ok(OcspSigner::Issuer);
    }
    let all = rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .all;
    let anchor = webpki::anchor_from_trusted_cert(&issuer_der)
        .map_err(|e| OcspInvalid(format!("its issuer's certificate cannot be used: {e:?}")))?;
    let mut why =
        "it is not signed by the certificate's issuer and carries no responder certificate"
            .to_string();
    for responder in basic.certs.iter().flatten() {
        let Ok(der) = responder.to_der() else {
            continue;
        };
        let der = CertificateDer::from(der);
        let subject = responder.tbs_certificate.subject.to_string();
        if !verifies(&der) {
            why = format!("its signature does not verify with the issuer's key nor with its responder certificate {subject}");
            continue;
        }
        let Ok(ee) = webpki::EndEntityCert::try_from(&der) else {
            continue;
        };
        match ee.verify_for_usage(
            all,
            std::slice::from_ref(&anchor),
            &[],
            now,
            webpki::KeyUsage::required(OCSP_SIGNING_EKU),
            None,
            None,
        ) {
            Ok(_) => return Ok(OcspSigner::Delegated(subject)),
            Err(e) => {
                why = format!(
                    "its responder certificate {subject} is not a delegated OCSP responder of the certificate's issuer ({})",
                    responder_problem(&e)
                );
            }
        }
    }
    Err(OcspInvalid(why))
}

/// A delegated responder's certificate refused by webpki, in words.
fn responder_problem(e: &webpki::Error) -> String {
    match e {
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            "its extended key usage lacks OCSPSigning".into()
        }
        webpki::Error::UnknownIssuer => "the issuer did not issue it".into(),
        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
            "it is out of its validity period".into()
        }
        other => format!("{other:?}"),
    }
}

/// rustls' (aws-lc-rs) signature algorithms whose AlgorithmIdentifier is `alg`.
fn algorithms_for(
    alg: &AlgorithmIdentifierOwned,
) -> Vec<&'static dyn rustls::pki_types::SignatureVerificationAlgorithm> {
    // The AlgorithmIdentifier's contents (OID, then parameters), as webpki keeps them.
    let Ok(mut contents) = alg.oid.to_der() else {
        return Vec::new();
    };
    if let Some(p) = &alg.parameters {
        match p.to_der() {
            Ok(d) => contents.extend_from_slice(&d),
            Err(_) => return Vec::new(),
        }
    }
    rustls::crypto::aws_lc_rs::default_provider()
        .signature_verification_algorithms
        .all
        .iter()
        .copied()
        .filter(|a| a.signature_alg_id().as_ref() == contents.as_slice())
        .collect()
}

/// Whether `id` names `cert` issued by `issuer`.
fn names(id: &CertId, issuer: &Certificate, cert: &Certificate) -> bool {
    let hash = id.hash_algorithm.oid;
    if hash != SHA1 && hash != SHA256 {
        return false;
    }
    match cert_id(issuer, cert, hash) {
        Ok(ours) => {
            ours.issuer_name_hash == id.issuer_name_hash
                && ours.issuer_key_hash == id.issuer_key_hash
                && ours.serial_number == id.serial_number
        }
        Err(_) => false,
    }
}

/// The CertID of `cert` (issued by `issuer`) with the hash `hash` (SHA-1 or SHA-256).
fn cert_id(
    issuer: &Certificate,
    cert: &Certificate,
    hash: ObjectIdentifier,
) -> Result<CertId, OcspInvalid> {
    let digest = |data: &[u8]| -> Result<OctetString, OcspInvalid> {
        let alg = if hash == SHA256 {
            &aws_lc_rs::digest::SHA256
        } else {
            &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY
        };
        OctetString::new(aws_lc_rs::digest::digest(alg, data).as_ref())
            .map_err(|e| OcspInvalid(format!("cannot encode a hash: {e}")))
    };
    let name = issuer
        .tbs_certificate
        .subject
        .to_der()
        .map_err(|e| OcspInvalid(format!("the issuer's name does not encode: {e}")))?;
    Ok(CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: hash,
            parameters: Some(Null.into()),
        },
        issuer_name_hash: digest(&name)?,
        issuer_key_hash: digest(
            issuer
                .tbs_certificate
                .subject_public_key_info
                .subject_public_key
                .raw_bytes(),
        )?,
        serial_number: cert.tbs_certificate.serial_number.clone(),
    })
}

fn parse(der: &[u8], what: &str) -> Result<Certificate, OcspInvalid> {
    Certificate::from_der(der).map_err(|e| OcspInvalid(format!("{what} does not parse: {e}")))
}

fn status_name(s: OcspResponseStatus) -> &'static str {
    match s {
        OcspResponseStatus::Successful => "successful",
        OcspResponseStatus::MalformedRequest => "malformedRequest",
        OcspResponseStatus::InternalError => "internalError",
        OcspResponseStatus::TryLater => "tryLater",
        OcspResponseStatus::SigRequired => "sigRequired",
        OcspResponseStatus::Unauthorized => "unauthorized",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// RFC 3339 text (`2030-06-01T00:00:00Z`) of seconds since the Unix epoch, for the
/// years 1970 to 9999 (an OCSP or CRL time may lie far past 2262, where nanoseconds stop).
pub fn rfc3339_seconds(secs: i64) -> String {
    match x509_cert::der::DateTime::from_unix_duration(Duration::from_secs(secs.max(0) as u64)) {
        Ok(t) => t.to_string(),
        Err(_) => format!("{secs} s after the Unix epoch"),
    }
}

fn rfc3339(secs: i64) -> String {
    rfc3339_seconds(secs)
}

/// When a server should fetch a fresh response for one it holds: halfway between its
/// thisUpdate and nextUpdate (at least a minute from `now`), or in an hour when it has
/// no nextUpdate.
pub(crate) fn refresh_after(info: &OcspResponseInfo, now: i64) -> Duration {
    let at = match info.next_update {
        Some(n) => info.this_update + (n - info.this_update) / 2,
        None => now + 3600,
    };
    Duration::from_secs((at - now).max(60) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use securechannel_testpki::{now, ocsp_aia, secs, Ca, OcspCertStatus, OcspReply, NOW_SECS};

    fn pki() -> (Ca, securechannel_testpki::Leaf) {
        let ca = Ca::root("OCSP unit CA");
        let leaf = ca.server_leaf_with(&["server.test"], |p| {
            p.custom_extensions.push(ocsp_aia("http://ocsp.test/r"));
        });
        (ca, leaf)
    }

    fn why(r: Result<OcspResponseInfo, OcspInvalid>) -> String {
        r.expect_err("the response must be refused").0
    }

    #[test]
    fn a_response_of_the_issuer_is_accepted_with_its_status_and_times() {
        let (ca, leaf) = pki();
        for (status, expected) in [
            (OcspCertStatus::Good, OcspStatus::Good),
            (
                OcspCertStatus::Revoked,
                OcspStatus::Revoked {
                    at: secs((2030, 4, 1)) as i64,
                },
            ),
            (OcspCertStatus::Unknown, OcspStatus::Unknown),
        ] {
            let der = ca.ocsp_response(leaf.der(), OcspReply::current(status));
            let info = check(&der, leaf.der(), ca.der(), now()).unwrap();
            assert_eq!(info.status, expected);
            assert_eq!(info.signer, OcspSigner::Issuer);
            assert_eq!(info.next_update, Some(secs((4096, 1, 1)) as i64));
        }
        assert_eq!(responder_urls(leaf.der()), ["http://ocsp.test/r"]);
    }

    #[test]
    fn signatures_responders_certificates_and_times_are_checked() {
        let (ca, leaf) = pki();
        let good = OcspReply::current(OcspCertStatus::Good);
        // Signed by another CA's key.
        let other = Ca::root("Another CA");
        let der = other.ocsp_response(leaf.der(), good);
        assert!(why(check(&der, leaf.der(), ca.der(), now())).contains("not signed by"));
        // A responder of another CA, with OCSPSigning.
        let stranger = other.ocsp_responder("Stranger", true);
        let mut reply = good;
        reply.responder = Some(&stranger);
        let der = ca.ocsp_response(leaf.der(), reply);
        assert!(
            why(check(&der, leaf.der(), ca.der(), now())).contains("the issuer did not issue it")
        );
        // The issuer's own delegated responder is accepted.
        let responder = ca.ocsp_responder("Responder", true);
        reply.responder = Some(&responder);
        let der = ca.ocsp_response(leaf.der(), reply);
        assert_eq!(
            check(&der, leaf.der(), ca.der(), now()).unwrap().signer,
            OcspSigner::Delegated("CN=Responder".into())
        );
        // A flipped bit in the signed data.
        let mut tampered = ca.ocsp_response(leaf.der(), good);
        let at = tampered.len() / 2;
        tampered[at] ^= 1;
        assert!(check(&tampered, leaf.der(), ca.der(), now()).is_err());
        // Not yet valid, and expired, at the test clock.
        let mut reply = good;
        reply.this_update = NOW_SECS + 3600;
        let der = ca.ocsp_response(leaf.der(), reply);
        assert!(why(check(&der, leaf.der(), ca.der(), now())).contains("in the future"));
        let der = ca.ocsp_response(leaf.der(), OcspReply::expired());
        assert!(why(check(&der, leaf.der(), ca.der(), now()))
            .contains("expired at 2021-01-01T00:00:00Z"));
        // Not OCSP at all.
        assert!(
            why(check(b"\x30\x03\x02\x01\x01", leaf.der(), ca.der(), now()))
                .contains("not an OCSP response")
        );
    }

    #[test]
    fn the_request_names_the_certificate_by_sha1_cert_id() {
        let (ca, leaf) = pki();
        let der = request(leaf.der(), ca.der()).unwrap();
        let req = OcspRequest::from_der(&der).unwrap();
        let id = &req.tbs_request.request_list[0].req_cert;
        assert_eq!(id.hash_algorithm.oid, SHA1);
        let (issuer, cert) = (
            Certificate::from_der(ca.der()).unwrap(),
            Certificate::from_der(leaf.der()).unwrap(),
        );
        assert!(names(id, &issuer, &cert));
        assert!(req.optional_signature.is_none());
    }

    #[test]
    fn far_future_times_are_written_whole() {
        assert_eq!(
            rfc3339_seconds(secs((4096, 1, 1)) as i64),
            "4096-01-01T00:00:00Z"
        );
        assert_eq!(rfc3339_seconds(NOW_SECS as i64), "2030-06-01T00:00:00Z");
    }
}
