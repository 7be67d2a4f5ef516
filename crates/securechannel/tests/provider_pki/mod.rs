//! Test PKI for the provider's tests: rcgen CAs and leaves at fixed dates, written into a
//! data directory with the modes the stores expect.
#![allow(dead_code)] // Each test file uses a different part of the helpers.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SignatureAlgorithm,
};
use securechannel::events::{EventRecord, MemorySink};
use securechannel::{Provider, Settings};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// 2030-01-01T00:00:00Z: the fixed clock of tests that judge validity.
pub const NOW: i64 = 1_893_456_000;

pub struct Ca {
    pub issuer: Issuer<'static, KeyPair>,
    pub pem: String,
    pub der: Vec<u8>,
}

pub struct Leaf {
    pub pem: String,
    pub der: Vec<u8>,
    pub key: KeyPair,
}

impl Leaf {
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }
    pub fn key_der(&self) -> Vec<u8> {
        self.key.serialize_der()
    }
}

pub fn ca(name: &str) -> Ca {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("keygen");
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    let cert = params.self_signed(&key).expect("self-signed CA");
    Ca {
        pem: cert.pem(),
        der: cert.der().to_vec(),
        issuer: Issuer::new(params, key),
    }
}

pub struct LeafSpec<'a> {
    pub cn: &'a str,
    pub alg: &'static SignatureAlgorithm,
    pub eku: Vec<ExtendedKeyUsagePurpose>,
    pub not_before: (i32, u8, u8),
    pub not_after: (i32, u8, u8),
}

impl<'a> LeafSpec<'a> {
    pub fn server(cn: &'a str) -> Self {
        LeafSpec {
            cn,
            alg: &rcgen::PKCS_ECDSA_P256_SHA256,
            eku: vec![ExtendedKeyUsagePurpose::ServerAuth],
            not_before: (2025, 1, 1),
            not_after: (2035, 1, 1),
        }
    }
}

pub fn leaf(ca: &Ca, spec: LeafSpec<'_>) -> Leaf {
    let key = if spec.alg == &rcgen::PKCS_RSA_SHA256 {
        KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)
            .expect("rsa keygen")
    } else {
        KeyPair::generate_for(spec.alg).expect("keygen")
    };
    let mut params = CertificateParams::new(vec![spec.cn.to_string()]).expect("params");
    params.distinguished_name.push(DnType::CommonName, spec.cn);
    params.extended_key_usages = spec.eku;
    let (y, m, d) = spec.not_before;
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = spec.not_after;
    params.not_after = rcgen::date_time_ymd(y, m, d);
    let cert = params.signed_by(&key, &ca.issuer).expect("leaf");
    Leaf {
        pem: cert.pem(),
        der: cert.der().to_vec(),
        key,
    }
}

pub fn write(path: &Path, contents: impl AsRef<[u8]>, mode: u32) -> PathBuf {
    std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
    std::fs::write(path, contents).expect("write");
    set_mode(path, mode);
    path.to_path_buf()
}

pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

pub fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

/// A provider on `dir` that logs everything, with its sink.
pub fn open_all(dir: &Path) -> (Provider, Arc<MemorySink>) {
    let settings = dir.join("settings.toml");
    if !settings.exists() {
        write(&settings, "EventLogging = 7\n", 0o644);
    }
    let sink = Arc::new(MemorySink::new());
    let p = Provider::open(dir, sink.clone()).expect("provider opens");
    sink.clear();
    (p, sink)
}

pub fn in_memory_all() -> (Provider, Arc<MemorySink>) {
    let mut s = Settings::default();
    s.event_logging = securechannel::events::EventLogging::ALL;
    let sink = Arc::new(MemorySink::new());
    let p = Provider::in_memory(s, sink.clone()).expect("provider");
    sink.clear();
    (p, sink)
}

/// Fails if any event carries the key: any 12-byte window of its DER that is not also
/// public (a PKCS#8 key repeats the certificate's public key and algorithm OIDs).
pub fn assert_no_key_material(records: &[EventRecord], key_der: &[u8], certificate: &[u8]) {
    let secret: Vec<&[u8]> = key_der
        .windows(12)
        .filter(|w| !certificate.windows(12).any(|c| c == *w))
        .collect();
    assert!(!secret.is_empty());
    for r in records {
        let mut blobs: Vec<Vec<u8>> = r.data.iter().map(|d| d.as_bytes().to_vec()).collect();
        if let Some(b) = &r.binary {
            blobs.push(b.to_vec());
        }
        for blob in &blobs {
            for w in &secret {
                assert!(
                    !blob.windows(w.len()).any(|x| x == *w),
                    "event {} carries key material",
                    r.event_id.value()
                );
            }
        }
        for d in &r.data {
            assert!(
                !d.contains("PRIVATE KEY"),
                "event {} carries a PEM key",
                r.event_id.value()
            );
        }
    }
}

pub fn has_openssl() -> bool {
    std::process::Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
