//! OCSP stapling on a server: the OCSP response a server credential attaches to its
//! certificate (rustls' `CertifiedKey::ocsp`), which rustls sends in the handshake
//! (TLS 1.3: in the certificate's entry; TLS 1.2: CertificateStatus) to clients that ask
//! (status_request).
//!
//! One [`Staple`] belongs to one certificate. Its response comes from a DER file
//! ([`OcspStapling::File`], checked at acquisition), or ([`OcspStapling::Auto`]) from the
//! certificate's OCSP responder (the Authority Information Access extension's
//! `http://` URL, asked with a POST): the response on hand in the data directory's
//! `ocsp/` is used at once when it is still valid, and a refresh thread fetches a new
//! one halfway between its thisUpdate and nextUpdate, or at once when there is none,
//! retrying after [`RETRY`] when the responder fails. Handshakes never wait for it: they
//! staple what is on hand, and nothing once its nextUpdate is past.
//!
//! Every response is checked as a client checks it (`verify::ocsp`: signature by the
//! issuer or a delegated responder, CertID, thisUpdate / nextUpdate) before it is
//! stapled. What happens is told to the credential's [`StapleObserver`]: `schannel
//! serve` prints it.

use crate::verify::ocsp::{self, OcspResponseInfo};
use crate::verify::FetchLimits;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::sign::CertifiedKey;
use securechannel_events::Status;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, RwLock, Weak};
use std::time::Duration;

/// Where a server credential's OCSP staple comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OcspStapling {
    /// As the settings say: `EnableOcspStaplingForSni` 1 is [`OcspStapling::Auto`], 0
    /// (the default) is [`OcspStapling::Off`].
    #[default]
    Settings,
    /// No staple.
    Off,
    /// From the certificate's OCSP responder, kept in `ocsp/` and refreshed in the
    /// background.
    Auto,
    /// This file's OCSP response (DER), checked when the credential is acquired.
    File(PathBuf),
}

/// What happened to a certificate's staple.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StapleReport {
    /// A response is stapled from now on.
    Stapled {
        /// The certificate's subject.
        certificate: String,
        /// Where it came from: the responder's URL, the file, or `ocsp/` (on hand).
        source: String,
        /// What it says.
        info: OcspResponseInfo,
    },
    /// No new response could be had; the one on hand (if still valid) stays stapled.
    Failed {
        /// The certificate's subject.
        certificate: String,
        /// The responder, or what is missing.
        source: String,
        /// Why, in words.
        why: String,
        /// The status a revocation check would meet (CRYPT_E_REVOCATION_OFFLINE).
        status: Status,
        /// When it is tried again (`None`: never, nothing to ask).
        retry_in: Option<Duration>,
        /// Whether a valid response is still stapled meanwhile.
        still_stapled: bool,
    },
}

/// Told every [`StapleReport`] of a credential's staple (from the refresh thread).
pub type StapleObserver = Arc<dyn Fn(&StapleReport) + Send + Sync>;

/// How soon a responder that failed is asked again.
pub const RETRY: Duration = Duration::from_secs(30);

/// A response is refetched at most this long after the last one, whatever its
/// nextUpdate.
const MAX_REFRESH: Duration = Duration::from_secs(24 * 3600);

/// The certificate's key with the response on hand, as the server's resolver hands it
/// to rustls.
pub(crate) struct Staple {
    /// The certificate without a staple.
    base: Arc<CertifiedKey>,
    /// The key with the staple, and the staple's nextUpdate (seconds).
    stapled: RwLock<Option<(Arc<CertifiedKey>, Option<i64>)>>,
    /// Dropped with the staple: the refresh thread sees its channel close and ends.
    _stop: Mutex<Option<mpsc::Sender<()>>>,
}

impl Staple {
    /// The key to present: with the staple while it is valid, else without.
    pub(crate) fn key(&self) -> Arc<CertifiedKey> {
        let stapled = self.stapled.read().unwrap_or_else(|e| e.into_inner());
        if let Some((key, next_update)) = stapled.as_ref() {
            if next_update.is_none_or(|n| unix_now() < n) {
                return key.clone();
            }
        }
        self.base.clone()
    }

    fn set(&self, der: Vec<u8>, info: &OcspResponseInfo) {
        let mut key = (*self.base).clone();
        key.ocsp = Some(der);
        *self.stapled.write().unwrap_or_else(|e| e.into_inner()) =
            Some((Arc::new(key), info.next_update));
    }

    fn has_valid(&self) -> bool {
        !Arc::ptr_eq(&self.key(), &self.base)
    }
}

impl std::fmt::Debug for Staple {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staple")
            .field("stapled", &self.has_valid())
            .finish()
    }
}

/// What a staple is made from.
pub(crate) struct StapleSetup {
    pub(crate) mode: OcspStapling,
    /// The certificate's issuer (DER), when known.
    pub(crate) issuer: Option<CertificateDer<'static>>,
    /// The data directory's `ocsp/`; `None`: memory only.
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) limits: FetchLimits,
    /// Check responses at this time instead of the clock's.
    pub(crate) validation_time: Option<UnixTime>,
    pub(crate) observer: Option<StapleObserver>,
}

/// The staple of `key` (the mode resolved: `Auto` or `File`); `Ok(None)` when there is
/// nothing to staple with (`Auto` for a certificate that names no responder, reported).
/// The error says why a staple file cannot be used.
pub(crate) fn start(
    key: Arc<CertifiedKey>,
    setup: StapleSetup,
) -> Result<Option<Arc<Staple>>, String> {
    let Some(cert) = key.cert.first().cloned() else {
        return Ok(None);
    };
    let subject = crate::store::subject_name(&cert).unwrap_or_default();
    let report = |r: StapleReport| {
        if let Some(o) = &setup.observer {
            o(&r)
        }
    };
    let refuse = |why: String| format!("cannot staple an OCSP response for {subject}: {why}");
    let now = || setup.validation_time.unwrap_or_else(UnixTime::now);
    match &setup.mode {
        OcspStapling::File(path) => {
            let issuer = setup.issuer.as_ref().ok_or_else(|| {
                refuse("its issuer's certificate is neither in the chain nor in stores/CA or stores/Root".into())
            })?;
            let der = std::fs::read(path)
                .map_err(|e| refuse(format!("cannot read {}: {e}", path.display())))?;
            let info = ocsp::check(&der, &cert, issuer, now())
                .map_err(|e| refuse(format!("{} is not usable: {e}", path.display())))?;
            let staple = new_staple(key, None);
            staple.set(der, &info);
            report(StapleReport::Stapled {
                certificate: subject,
                source: path.display().to_string(),
                info,
            });
            Ok(Some(staple))
        }
        OcspStapling::Auto => {
            let urls = ocsp::responder_urls(&cert);
            let failed = |source: String, why: String| StapleReport::Failed {
                certificate: subject.clone(),
                source,
                why,
                status: Status::CryptERevocationOffline,
                retry_in: None,
                still_stapled: false,
            };
            let Some(issuer) = setup.issuer.clone() else {
                report(failed(
                    "no issuer".into(),
                    "its issuer's certificate is neither in the chain nor in stores/CA or stores/Root, so no OCSP request can name it".into(),
                ));
                return Ok(None);
            };
            if urls.is_empty() {
                report(failed(
                    "no responder".into(),
                    "the certificate names no OCSP responder (no id-ad-ocsp URL in its Authority Information Access)".into(),
                ));
                return Ok(None);
            }
            let (tx, rx) = mpsc::channel();
            let staple = new_staple(key, Some(tx));
            let refresher = Refresher {
                staple: Arc::downgrade(&staple),
                cert,
                issuer,
                urls,
                subject: subject.clone(),
                cache: setup
                    .cache_dir
                    .as_ref()
                    .map(|d| cache_path(d, &staple.base.cert[0])),
                limits: setup.limits,
                validation_time: setup.validation_time,
                observer: setup.observer.clone(),
            };
            // What is on hand is stapled before the first handshake.
            let first_wait = refresher.load_cached();
            std::thread::Builder::new()
                .name("schannel-ocsp".into())
                .spawn(move || refresher.run(rx, first_wait))
                .map_err(|e| refuse(format!("cannot start the refresh thread: {e}")))?;
            Ok(Some(staple))
        }
        OcspStapling::Off | OcspStapling::Settings => Ok(None),
    }
}

fn new_staple(base: Arc<CertifiedKey>, stop: Option<mpsc::Sender<()>>) -> Arc<Staple> {
    Arc::new(Staple {
        base,
        stapled: RwLock::new(None),
        _stop: Mutex::new(stop),
    })
}

/// The refresh thread's state.
struct Refresher {
    staple: Weak<Staple>,
    cert: CertificateDer<'static>,
    issuer: CertificateDer<'static>,
    urls: Vec<String>,
    subject: String,
    /// The response kept in `ocsp/`.
    cache: Option<PathBuf>,
    limits: FetchLimits,
    validation_time: Option<UnixTime>,
    observer: Option<StapleObserver>,
}

impl Refresher {
    fn now(&self) -> UnixTime {
        self.validation_time.unwrap_or_else(UnixTime::now)
    }

    fn report(&self, r: StapleReport) {
        if let Some(o) = &self.observer {
            o(&r)
        }
    }

    /// Staple the response kept in `ocsp/` if it is still valid; how long until the
    /// first fetch.
    fn load_cached(&self) -> Duration {
        let (Some(path), Some(staple)) = (&self.cache, self.staple.upgrade()) else {
            return Duration::ZERO;
        };
        let Ok(der) = std::fs::read(path) else {
            return Duration::ZERO;
        };
        let now = self.now();
        match ocsp::check(&der, &self.cert, &self.issuer, now) {
            Ok(info) => {
                staple.set(der, &info);
                let wait = ocsp::refresh_after(&info, now.as_secs() as i64).min(MAX_REFRESH);
                self.report(StapleReport::Stapled {
                    certificate: self.subject.clone(),
                    source: path.display().to_string(),
                    info,
                });
                wait
            }
            Err(_) => Duration::ZERO,
        }
    }

    fn run(self, stop: mpsc::Receiver<()>, first_wait: Duration) {
        let mut wait = first_wait;
        loop {
            match stop.recv_timeout(wait) {
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // The credential is gone.
                _ => return,
            }
            let Some(staple) = self.staple.upgrade() else {
                return;
            };
            wait = self.refresh(&staple);
        }
    }

    /// Ask the responders in turn; staple and keep the first valid response. How long
    /// until the next refresh.
    fn refresh(&self, staple: &Staple) -> Duration {
        let request = match ocsp::request(&self.cert, &self.issuer) {
            Ok(r) => r,
            Err(e) => {
                self.report(StapleReport::Failed {
                    certificate: self.subject.clone(),
                    source: "the request".into(),
                    why: e.0,
                    status: Status::CryptERevocationOffline,
                    retry_in: None,
                    still_stapled: staple.has_valid(),
                });
                return MAX_REFRESH;
            }
        };
        let mut last = None;
        for url in &self.urls {
            let answer = crate::verify::post_ocsp(url, &request, self.limits).and_then(|der| {
                ocsp::check(&der, &self.cert, &self.issuer, self.now())
                    .map(|info| (der, info))
                    .map_err(|e| format!("its answer is not usable: {e}"))
            });
            match answer {
                Ok((der, info)) => {
                    if let Some(path) = &self.cache {
                        // The cache is a convenience: a response that cannot be kept is
                        // still stapled.
                        let _ = keep(path, &der);
                    }
                    staple.set(der, &info);
                    let wait =
                        ocsp::refresh_after(&info, self.now().as_secs() as i64).min(MAX_REFRESH);
                    self.report(StapleReport::Stapled {
                        certificate: self.subject.clone(),
                        source: url.clone(),
                        info,
                    });
                    return wait;
                }
                Err(why) => last = Some((url.clone(), why)),
            }
        }
        if let Some((url, why)) = last {
            self.report(StapleReport::Failed {
                certificate: self.subject.clone(),
                source: url,
                why,
                status: Status::CryptERevocationOffline,
                retry_in: Some(RETRY),
                still_stapled: staple.has_valid(),
            });
        }
        RETRY
    }
}

/// Where the response of `cert` is kept in `dir`: `ocsp-<SHA-256 of the certificate, 8
/// bytes hex>.der`.
pub(crate) fn cache_path(dir: &Path, cert: &[u8]) -> PathBuf {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert);
    let name: String = hash.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    dir.join(format!("ocsp-{name}.der"))
}

/// Write `der` to `path` whole, then rename it into place.
fn keep(path: &Path, der: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.to_path_buf().into_os_string();
    tmp.push(".tmp");
    std::fs::write(&tmp, der)?;
    std::fs::rename(&tmp, path)
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
