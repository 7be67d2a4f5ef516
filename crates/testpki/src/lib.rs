//! The test PKI of the securechannel workspace: roots, intermediates, leaves and CRLs made
//! with rcgen when a test starts, judged at one fixed clock, so that expiry never breaks CI.
//!
//! Tests that verify chains themselves pass [`now()`] (2030-06-01) as the validation time.
//! Every certificate is valid from 2020-01-01 to 4096-01-01 unless a test says otherwise,
//! which also covers tests whose peers (openssl, curl, a `schannel serve` child) read the
//! real clock. A test that wants an expired or not-yet-valid certificate sets the dates
//! itself, relative to [`NOW_SECS`].
//!
//! ```
//! use securechannel_testpki::{now, Ca};
//!
//! let root = Ca::root("Test Root");
//! let intermediate = root.intermediate("Test Intermediate");
//! let server = intermediate.server_leaf(&["server.test", "127.0.0.1"]);
//! // The chain a server sends: its certificate, then the issuers below the root.
//! assert_eq!(server.chain, vec![server.der().clone(), intermediate.der().clone()]);
//!
//! // What a rustls server or client presents, and what its peer trusts.
//! let certified_key = server.certified_key();
//! let roots = root.roots();
//! assert_eq!((certified_key.cert.len(), roots.len()), (2, 1));
//!
//! // Serial 99 revoked, in a CRL that is current at the test clock.
//! let crl = intermediate.crl(&[99]);
//! assert!(securechannel_testpki::pem("X509 CRL", &crl).starts_with("-----BEGIN X509 CRL-----\n"));
//! # let _ = now();
//! ```
//!
//! This crate does not depend on securechannel: the provider's own unit tests use it, and
//! a dependency back on the provider would give them a second copy of its types.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod ocsp;
pub use ocsp::{ocsp_aia, secs, OcspCertStatus, OcspReply};

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, CertificateRevocationListParams,
    CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevokedCertParams, SerialNumber, SignatureAlgorithm,
};
use rustls::sign::CertifiedKey;
use rustls::RootCertStore;
use rustls_pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// 2030-06-01T00:00:00Z in seconds since the Unix epoch: the test clock.
pub const NOW_SECS: u64 = 1_906_502_400;

/// The test clock, [`NOW_SECS`], as rustls takes a validation time.
pub fn now() -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(NOW_SECS))
}

/// A new key pair for `algorithm` (RSA keys are 2048 bits).
pub fn key_pair(algorithm: &'static SignatureAlgorithm) -> KeyPair {
    KeyPair::generate_for(algorithm).expect("rcgen generates keys for its algorithms")
}

/// The parameters of a CA certificate named `common_name`: a CA with `constraint`, allowed
/// to sign certificates and CRLs, valid from 2020-01-01 to 4096-01-01.
pub fn ca_params(common_name: &str, constraint: BasicConstraints) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, common_name);
    p.is_ca = IsCa::Ca(constraint);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(4096, 1, 1);
    p
}

/// The parameters of an end-entity certificate: CN `common_name`, subject alternative
/// names `names` (DNS names or IP addresses; none is allowed), the extended key usage
/// `usage`, digitalSignature, and the authority key identifier (OpenSSL builds chains by
/// it); valid from 2020-01-01 to 4096-01-01.
pub fn leaf_params(
    common_name: &str,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut p = CertificateParams::new(names).expect("DNS names or IP addresses");
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, common_name);
    p.extended_key_usages = vec![usage];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.use_authority_key_identifier_extension = true;
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(4096, 1, 1);
    p
}

/// A certificate authority: a root, or an intermediate below one.
#[derive(Debug)]
pub struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    /// This CA's certificate, then its issuers' up to the root (not included): what a
    /// peer sends after the certificates this CA issues. Empty for a root.
    below_root: Vec<CertificateDer<'static>>,
}

impl Ca {
    /// A self-signed root named `common_name`, with an ECDSA P-256 key.
    pub fn root(common_name: &str) -> Ca {
        Ca::root_with(ca_params(common_name, BasicConstraints::Unconstrained))
    }

    /// A self-signed root made from `params` (start from [`ca_params`]), with an ECDSA
    /// P-256 key.
    pub fn root_with(params: CertificateParams) -> Ca {
        Ca::root_with_key(params, key_pair(&rcgen::PKCS_ECDSA_P256_SHA256))
    }

    /// A self-signed root made from `params`, with `key`.
    pub fn root_with_key(params: CertificateParams, key: KeyPair) -> Ca {
        Ca {
            issuer: CertifiedIssuer::self_signed(params, key).expect("self-signed root"),
            below_root: Vec::new(),
        }
    }

    /// An intermediate named `common_name` issued by this CA, with an ECDSA P-256 key.
    pub fn intermediate(&self, common_name: &str) -> Ca {
        self.intermediate_with(ca_params(common_name, BasicConstraints::Unconstrained))
    }

    /// An intermediate made from `params` (start from [`ca_params`]) issued by this CA,
    /// with an ECDSA P-256 key.
    pub fn intermediate_with(&self, params: CertificateParams) -> Ca {
        self.intermediate_with_key(params, key_pair(&rcgen::PKCS_ECDSA_P256_SHA256))
    }

    /// An intermediate made from `params` issued by this CA, with `key` (a renewal keeps
    /// its key: sign the other period with [`Ca::sign`]).
    pub fn intermediate_with_key(&self, params: CertificateParams, key: KeyPair) -> Ca {
        let issuer = CertifiedIssuer::signed_by(params, key, &self.issuer).expect("intermediate");
        let mut below_root = vec![issuer.der().clone()];
        below_root.extend(self.below_root.iter().cloned());
        Ca { issuer, below_root }
    }

    /// A server certificate for `names` (the first is also the CN), ECDSA P-256.
    pub fn server_leaf(&self, names: &[&str]) -> Leaf {
        self.server_leaf_with(names, |_| {})
    }

    /// Like [`Ca::server_leaf`], with the parameters changed by `adjust` first (validity,
    /// usages, serial number, extensions...).
    pub fn server_leaf_with(
        &self,
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let mut params = leaf_params(first(names), names, ExtendedKeyUsagePurpose::ServerAuth);
        adjust(&mut params);
        self.issue(&params)
    }

    /// A client certificate for `names` (the first is also the CN), ECDSA P-256.
    pub fn client_leaf(&self, names: &[&str]) -> Leaf {
        self.client_leaf_with(names, |_| {})
    }

    /// Like [`Ca::client_leaf`], with the parameters changed by `adjust` first.
    pub fn client_leaf_with(
        &self,
        names: &[&str],
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let mut params = leaf_params(first(names), names, ExtendedKeyUsagePurpose::ClientAuth);
        adjust(&mut params);
        self.issue(&params)
    }

    /// An end-entity certificate made from `params` (start from [`leaf_params`]), with a
    /// new ECDSA P-256 key.
    pub fn issue(&self, params: &CertificateParams) -> Leaf {
        self.issue_with_key(params, key_pair(&rcgen::PKCS_ECDSA_P256_SHA256))
    }

    /// An end-entity certificate made from `params`, for `key`.
    pub fn issue_with_key(&self, params: &CertificateParams, key: KeyPair) -> Leaf {
        let mut chain = vec![self.sign(params, &key)];
        chain.extend(self.below_root.iter().cloned());
        Leaf { chain, key }
    }

    /// A certificate made from `params` for `key`, signed by this CA: the bare
    /// certificate, for what [`Ca::issue`] and [`Ca::intermediate_with_key`] do not cover.
    pub fn sign(&self, params: &CertificateParams, key: &KeyPair) -> CertificateDer<'static> {
        params
            .signed_by(key, &self.issuer)
            .expect("certificate")
            .der()
            .clone()
    }

    /// A CRL from this CA revoking `serials` (since 2030-04-01), current at the test clock:
    /// issued 2030-05-01, next update 2030-07-01.
    pub fn crl(&self, serials: &[u64]) -> CertificateRevocationListDer<'static> {
        self.crl_between(serials, (2030, 5, 1), (2030, 7, 1))
    }

    /// A CRL like [`Ca::crl`] whose issuing distribution point names `uris`: it answers
    /// only for certificates that name one of them as their CRL distribution point (or
    /// name none).
    pub fn crl_scoped(
        &self,
        serials: &[u64],
        uris: &[&str],
    ) -> CertificateRevocationListDer<'static> {
        let mut params = self.crl_params(serials, (2030, 5, 1), (2030, 7, 1));
        params.issuing_distribution_point = Some(rcgen::CrlIssuingDistributionPoint {
            distribution_point: rcgen::CrlDistributionPoint {
                uris: uris.iter().map(|u| u.to_string()).collect(),
            },
            scope: None,
        });
        params.signed_by(&self.issuer).expect("CRL").der().clone()
    }

    /// A CRL from this CA revoking `serials` (since 2030-04-01), issued on `this_update`
    /// and next updated on `next_update` (year, month, day): an expired CRL for a test at
    /// [`now()`], or one that is current at any real clock (2020-01-01 to 4096-01-01) for
    /// a test whose peer reads the real clock.
    pub fn crl_between(
        &self,
        serials: &[u64],
        this_update: (i32, u8, u8),
        next_update: (i32, u8, u8),
    ) -> CertificateRevocationListDer<'static> {
        let params = self.crl_params(serials, this_update, next_update);
        params.signed_by(&self.issuer).expect("CRL").der().clone()
    }

    fn crl_params(
        &self,
        serials: &[u64],
        this_update: (i32, u8, u8),
        next_update: (i32, u8, u8),
    ) -> CertificateRevocationListParams {
        CertificateRevocationListParams {
            this_update: date_time_ymd(this_update.0, this_update.1, this_update.2),
            next_update: date_time_ymd(next_update.0, next_update.1, next_update.2),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: serials
                .iter()
                .map(|s| RevokedCertParams {
                    serial_number: SerialNumber::from(*s),
                    revocation_time: date_time_ymd(2030, 4, 1),
                    reason_code: None,
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
    }

    /// This CA's certificate.
    pub fn der(&self) -> &CertificateDer<'static> {
        self.issuer.der()
    }

    /// This CA's certificate as PEM.
    pub fn pem(&self) -> String {
        pem("CERTIFICATE", self.der())
    }

    /// A root store holding this CA only.
    pub fn roots(&self) -> Arc<RootCertStore> {
        roots([self.der()])
    }

    /// Write this CA's certificate as PEM to `path` (mode 0644); returns the path.
    pub fn write_pem(&self, path: &Path) -> PathBuf {
        write_file(path, self.pem(), 0o644)
    }
}

/// An end-entity certificate, its chain and its private key.
#[derive(Debug)]
pub struct Leaf {
    /// The certificate first, then its issuers below the root. Tests change it to send
    /// another chain (one certificate short, a tampered certificate...).
    pub chain: Vec<CertificateDer<'static>>,
    /// The certificate's key pair.
    pub key: KeyPair,
}

impl Leaf {
    /// The end-entity certificate.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.chain[0]
    }

    /// The end-entity certificate as PEM.
    pub fn pem(&self) -> String {
        pem("CERTIFICATE", self.der())
    }

    /// The private key, PKCS#8 DER.
    pub fn key_der(&self) -> Vec<u8> {
        self.key.serialize_der()
    }

    /// The private key, PKCS#8 PEM (`PRIVATE KEY`).
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// The private key as rustls takes it.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der()))
    }

    /// The chain and an aws-lc-rs signing key: what a rustls server or client presents.
    pub fn certified_key(&self) -> Arc<CertifiedKey> {
        let key = rustls::crypto::aws_lc_rs::sign::any_supported_type(&self.private_key())
            .expect("aws-lc-rs signs with every key rcgen makes here");
        Arc::new(CertifiedKey::new(self.chain.clone(), key))
    }

    /// The chain followed by `root`'s certificate, for a peer that sends its trust anchor
    /// too (as some servers do).
    pub fn with_root(mut self, root: &Ca) -> Leaf {
        self.chain.push(root.der().clone());
        self
    }

    /// Write the certificate as PEM to `cert` (mode 0644) and the key as PEM to `key`
    /// (mode 0600 from its creation: the provider refuses keys others can read).
    pub fn write_pem(&self, cert: &Path, key: &Path) {
        write_file(cert, self.pem(), 0o644);
        write_private(key, self.key_pem());
    }
}

/// The first of a leaf's names: its CN.
fn first<'a>(names: &[&'a str]) -> &'a str {
    names
        .first()
        .expect("a leaf is issued for at least one name")
}

/// An HTTP/1.0 server on 127.0.0.1 for tests that serve CRLs (or anything) from a
/// distribution point: each path answers with its bytes (200), is held silent (to test a
/// timeout), or is unknown (404). It counts the requests of each path and stops when
/// dropped. One connection at a time; each request (its headers, and a body of its
/// Content-Length, as an OCSP POST sends) is read for at most 2 s.
#[derive(Debug)]
pub struct HttpFixture {
    addr: std::net::SocketAddr,
    state: Arc<std::sync::Mutex<FixtureState>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct FixtureState {
    routes: std::collections::HashMap<String, Route>,
    hits: std::collections::HashMap<String, usize>,
    bodies: std::collections::HashMap<String, Vec<u8>>,
}

#[derive(Debug, Clone)]
enum Route {
    /// The body and its Content-Type.
    Bytes(Vec<u8>, &'static str),
    /// Accept, read the request, answer nothing for this long, then close.
    Silent(Duration),
}

impl HttpFixture {
    /// A server on an ephemeral port of 127.0.0.1 with no paths yet.
    pub fn start() -> HttpFixture {
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(std::sync::Mutex::new(FixtureState::default()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16384 {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head_end = request
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(request.len(), |i| i + 4);
                let line = String::from_utf8_lossy(&request[..head_end]).into_owned();
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let length: usize = line
                    .lines()
                    .filter_map(|l| l.split_once(':'))
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .and_then(|(_, v)| v.trim().parse().ok())
                    .unwrap_or(0)
                    .min(1 << 20);
                let mut body = request[head_end..].to_vec();
                while body.len() < length {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => body.extend_from_slice(&buf[..n]),
                    }
                }
                let route = {
                    let mut s = st.lock().expect("fixture state");
                    *s.hits.entry(path.clone()).or_default() += 1;
                    s.bodies.insert(path.clone(), body);
                    s.routes.get(&path).cloned()
                };
                match route {
                    Some(Route::Bytes(body, content_type)) => {
                        let head = format!(
                            "HTTP/1.0 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                            body.len()
                        );
                        let _ = conn.write_all(head.as_bytes());
                        let _ = conn.write_all(&body);
                    }
                    Some(Route::Silent(d)) => std::thread::sleep(d),
                    None => {
                        let _ =
                            conn.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                    }
                }
            }
        });
        HttpFixture {
            addr,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// Serve `body` at `path` (`/inter.crl`); returns its URL.
    pub fn serve(&self, path: &str, body: impl Into<Vec<u8>>) -> String {
        self.route(path, Route::Bytes(body.into(), "application/pkix-crl"))
    }

    /// Answer requests for `path` (an OCSP responder's URL: POSTs of OCSPRequests) with
    /// the OCSP response `response` (made with [`Ca::ocsp_response`]); returns its URL.
    pub fn serve_ocsp(&self, path: &str, response: impl Into<Vec<u8>>) -> String {
        self.route(
            path,
            Route::Bytes(response.into(), "application/ocsp-response"),
        )
    }

    /// The body of the last request for `path` (empty for a GET).
    pub fn last_body(&self, path: &str) -> Option<Vec<u8>> {
        self.state
            .lock()
            .expect("fixture state")
            .bodies
            .get(path)
            .cloned()
    }

    /// Accept requests for `path` and answer nothing for `hold`; returns its URL.
    pub fn silent(&self, path: &str, hold: Duration) -> String {
        self.route(path, Route::Silent(hold))
    }

    fn route(&self, path: &str, route: Route) -> String {
        self.state
            .lock()
            .expect("fixture state")
            .routes
            .insert(path.to_string(), route);
        self.url(path)
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How many requests asked for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.state
            .lock()
            .expect("fixture state")
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for HttpFixture {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop.
        let _ = std::net::TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A URL on 127.0.0.1 where nothing listens (a port just bound and released): an
/// unreachable distribution point.
pub fn unreachable_url(path: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}{path}")
}

/// A root store holding `certificates`.
pub fn roots<'a>(
    certificates: impl IntoIterator<Item = &'a CertificateDer<'static>>,
) -> Arc<RootCertStore> {
    let mut store = RootCertStore::empty();
    for c in certificates {
        store.add(c.clone()).expect("rcgen certificates parse");
    }
    Arc::new(store)
}

/// `der` as PEM with this label (`CERTIFICATE`, `X509 CRL`, `EC PRIVATE KEY`...): base64
/// in lines of 64 characters between the BEGIN and END lines.
pub fn pem(label: &str, der: &[u8]) -> String {
    const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = Vec::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let n =
            chunk.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            b64.push(if i <= chunk.len() {
                B64[((n >> (18 - 6 * i)) & 63) as usize]
            } else {
                b'='
            });
        }
    }
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.chunks(64) {
        // Only the base64 alphabet was pushed.
        out.push_str(std::str::from_utf8(line).expect("ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Write `contents` to `path` with `mode`, creating its directory; returns the path.
pub fn write_file(path: &Path, contents: impl AsRef<[u8]>, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("a file path has a parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    path.to_path_buf()
}

/// Write a private key file: mode 0600 from its creation, so that it is never readable by
/// others, even for a moment; returns the path.
pub fn write_private(path: &Path, contents: impl AsRef<[u8]>) -> PathBuf {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(path.parent().expect("a file path has a parent")).expect("mkdir");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .expect("create key file");
    f.write_all(contents.as_ref()).expect("write key file");
    path.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::ServerName;

    fn verifier(
        ca: &Ca,
        crls: Vec<CertificateRevocationListDer<'static>>,
    ) -> Arc<rustls::client::WebPkiServerVerifier> {
        rustls::client::WebPkiServerVerifier::builder_with_provider(
            ca.roots(),
            Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        )
        .with_crls(crls)
        .build()
        .expect("verifier")
    }

    #[test]
    fn the_clock_is_2030_06_01() {
        // 60 years of 365 days, 15 leap days (1972..=2028), then January to May 2030.
        let days = 60 * 365 + 15 + 31 + 28 + 31 + 30 + 31;
        assert_eq!(NOW_SECS, days * 86_400);
        assert_eq!(now().as_secs(), NOW_SECS);
    }

    #[test]
    fn a_leaf_below_an_intermediate_verifies_at_the_clock_and_its_crl_revokes_it() {
        let root = Ca::root("Root");
        let inter = root.intermediate("Intermediate");
        let leaf = inter.server_leaf_with(&["server.test", "127.0.0.1"], |p| {
            p.serial_number = Some(SerialNumber::from(7u64));
        });
        assert_eq!(leaf.chain.len(), 2);
        let name = ServerName::try_from("server.test").unwrap();
        let check = |crls| {
            verifier(&root, crls).verify_server_cert(
                leaf.der(),
                &leaf.chain[1..],
                &name,
                &[],
                now(),
            )
        };
        assert!(check(vec![]).is_ok());
        assert!(check(vec![inter.crl(&[]), root.crl(&[])]).is_ok());
        assert!(matches!(
            check(vec![inter.crl(&[7]), root.crl(&[])]),
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Revoked
            ))
        ));
        // The key signs for the certificate.
        assert_eq!(leaf.certified_key().keys_match(), Ok(()));
    }

    #[test]
    fn pem_is_what_pki_types_reads_back() {
        use rustls_pki_types::pem::PemObject;
        let root = Ca::root("Root");
        let leaf = root.client_leaf(&["client.test"]);
        assert_eq!(
            &CertificateDer::from_pem_slice(root.pem().as_bytes()).unwrap(),
            root.der()
        );
        assert_eq!(
            &CertificateDer::from_pem_slice(leaf.pem().as_bytes()).unwrap(),
            leaf.der()
        );
        let crl = root.crl(&[1, 2]);
        let text = pem("X509 CRL", &crl);
        assert_eq!(
            CertificateRevocationListDer::from_pem_slice(text.as_bytes()).unwrap(),
            crl
        );
        for n in 1..4 {
            let der = vec![0xA5; n];
            assert_eq!(
                pem("X", &der).lines().nth(1).unwrap().len() % 4,
                0,
                "{n} bytes"
            );
        }
    }

    #[test]
    fn files_get_their_modes() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let leaf = Ca::root("Root").server_leaf(&["a.test"]);
        let (cert, key) = (dir.path().join("a/cert.pem"), dir.path().join("a/key.pem"));
        leaf.write_pem(&cert, &key);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&cert), mode(&key)), (0o644, 0o600));
        assert_eq!(std::fs::read_to_string(&key).unwrap(), leaf.key_pem());
    }
}
