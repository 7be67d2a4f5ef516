//! Revocation as Schannel's credential flags give it: which certificates of the peer's
//! path are checked (SCH_CRED_REVOCATION_CHECK_END_CERT / _CHAIN / _CHAIN_EXCLUDE_ROOT),
//! what happens when no fresh CRL can be had (CRYPT_E_REVOCATION_OFFLINE, or ignored with
//! SCH_CRED_IGNORE_NO_REVOCATION_CHECK / _REVOCATION_OFFLINE), and where the CRLs come
//! from: the data directory's `crl/`, and the certificates' CRL Distribution Points
//! (`http://` and `file://`, cached in `crl/` until their nextUpdate).
//!
//! The check itself is rustls-webpki's (`RevocationOptions` through rustls' verifier
//! builders: the depth, `UnknownStatusPolicy`, and `ExpirationPolicy::Enforce`, so a CRL
//! past its nextUpdate is never used). What is ours: choosing the CRLs that are fresh at
//! the validation time (a stale one is left out, so the certificate's status becomes
//! unknown rather than "not revoked"), fetching the missing ones, and saying why a status
//! is unknown: an unreachable distribution point and an expired CRL are different
//! messages, both CRYPT_E_REVOCATION_OFFLINE.
//!
//! Fetching happens for the connection that needs the CRL, only after its chain has
//! verified without revocation (a peer with an untrusted chain never makes us fetch), on
//! a fetch thread the connection waits for at most the fetch timeout (name resolution
//! included; on a tokio worker the wait lets the runtime move its other connections to
//! another thread, see `crl_fetch`); no lock is held while fetching, so connections
//! whose CRLs are cached never wait for it. A failed distribution point is not asked
//! again for [`RETRY_AFTER`].
//!
//! A valid OCSP response stapled by a server ([`Stapled`], checked by `verify::ocsp`)
//! answers for the end-entity certificate: revoked refuses it (CRYPT_E_REVOKED) whatever
//! the CRLs say; good means no CRL is needed for it (the certificates above it are still
//! checked with CRLs in the chain modes). An invalid staple is no answer at all. With
//! [`RevocationCheck::None`] nothing is checked, the staple included (the context still
//! reports what it was).

use super::crl_fetch::{self, FetchLimits};
use crate::Error;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, UnixTime};
use rustls::CertificateError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which certificates of the peer's path are checked for revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RevocationCheck {
    /// No revocation check at all, CRLs or not (no SCH_CRED_REVOCATION_CHECK_* flag).
    None,
    /// Only the peer's end-entity certificate (SCH_CRED_REVOCATION_CHECK_END_CERT).
    EndCertificate,
    /// Every certificate of the path, the root included (SCH_CRED_REVOCATION_CHECK_CHAIN):
    /// the root's status comes from a CRL the root issued (from `crl/` or the root's own
    /// distribution points). rustls-webpki never checks a trust anchor, so the root is
    /// checked in a second webpki verification where it also stands below itself (see
    /// [`RootRevocation`]). Where no CRL covers the root its status is unknown:
    /// CRYPT_E_REVOCATION_OFFLINE (its distribution point failed, or its only CRL
    /// expired) or CRYPT_E_NO_REVOCATION_CHECK (nothing to check it with), as CryptoAPI
    /// gives them, unless offline is ignored.
    Chain,
    /// Every certificate of the path below the root
    /// (SCH_CRED_REVOCATION_CHECK_CHAIN_EXCLUDE_ROOT); the default.
    #[default]
    ChainExceptRoot,
}

impl RevocationCheck {
    /// The CLI's name: `none`, `end`, `chain`, `chain-except-root`.
    pub fn name(self) -> &'static str {
        match self {
            RevocationCheck::None => "none",
            RevocationCheck::EndCertificate => "end",
            RevocationCheck::Chain => "chain",
            RevocationCheck::ChainExceptRoot => "chain-except-root",
        }
    }

    /// The mode named `name` (see [`Self::name`]).
    pub fn from_name(name: &str) -> Option<RevocationCheck> {
        [
            RevocationCheck::None,
            RevocationCheck::EndCertificate,
            RevocationCheck::Chain,
            RevocationCheck::ChainExceptRoot,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }
}

/// What a check does when a certificate's revocation status cannot be known (no CRL
/// covers it, its CRL expired, its distribution point cannot be read).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RevocationOffline {
    /// Refuse the certificate: CRYPT_E_REVOCATION_OFFLINE (a CRL expired or a
    /// distribution point failed) or CRYPT_E_NO_REVOCATION_CHECK (nothing to check with).
    Fail,
    /// Accept it (SCH_CRED_IGNORE_NO_REVOCATION_CHECK | SCH_CRED_IGNORE_REVOCATION_OFFLINE);
    /// the default of a credential that chose no mode, so that CRLs placed in `crl/` are
    /// honoured without making every peer need one.
    #[default]
    Ignore,
}

impl RevocationOffline {
    /// The CLI's name: `fail`, `ignore`.
    pub fn name(self) -> &'static str {
        match self {
            RevocationOffline::Fail => "fail",
            RevocationOffline::Ignore => "ignore",
        }
    }

    /// The policy named `name` (see [`Self::name`]).
    pub fn from_name(name: &str) -> Option<RevocationOffline> {
        [RevocationOffline::Fail, RevocationOffline::Ignore]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

/// A distribution point that failed is not asked again before this.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(10);

/// Why no fresh CRL could be had for a certificate: the detail of a
/// CRYPT_E_REVOCATION_OFFLINE refusal (rustls' `CertificateError::Other`, which rustls
/// answers with certificate_unknown; the verdict table gives it the status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CrlUnavailable {
    /// A distribution point gave no usable CRL.
    Unreachable {
        url: String,
        why: String,
        /// A CRL of the issuer was on hand but past its nextUpdate: (where, when).
        stale: Option<(String, i64)>,
    },
    /// The only CRLs of the issuer are past their nextUpdate, and the certificate names
    /// no distribution point to get a fresh one from.
    Expired {
        issuer: String,
        source: String,
        next_update: i64,
    },
}

impl std::fmt::Display for CrlUnavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrlUnavailable::Unreachable { url, why, stale } => {
                write!(f, "the CRL distribution point {url} could not be read: {why}")?;
                if let Some((source, next_update)) = stale {
                    write!(
                        f,
                        " (the CRL on hand, {source}, expired at {})",
                        rfc3339(*next_update)
                    )?;
                }
                Ok(())
            }
            CrlUnavailable::Expired {
                issuer,
                source,
                next_update,
            } => write!(
                f,
                "the CRL of {issuer} ({source}) expired at {} (its nextUpdate) and the certificate names no distribution point for a fresh one",
                rfc3339(*next_update)
            ),
        }
    }
}

impl std::error::Error for CrlUnavailable {}

fn rfc3339(secs: i64) -> String {
    // Valid until 2262, far past any CRL's nextUpdate.
    securechannel_events::format_rfc3339(secs.saturating_mul(1_000_000_000), 0)
}

/// A CRL with what choosing it needs, parsed once.
#[derive(Debug)]
struct KnownCrl {
    /// Identifies this CRL in a verifier's key.
    id: u64,
    der: CertificateRevocationListDer<'static>,
    /// The issuer's Name, DER (as webpki compares it).
    issuer: Vec<u8>,
    issuer_text: String,
    /// Seconds since the epoch; `None`: the CRL has no nextUpdate (never stale).
    next_update: Option<i64>,
    /// Where it came from, for messages.
    source: String,
    /// The URIs of its issuingDistributionPoint; `None`: it has none (it covers every
    /// certificate of its issuer).
    scope: Option<Vec<String>>,
}

impl KnownCrl {
    /// `checked`: whether webpki must be shown to read it here (a fetched CRL); those of
    /// `crl/` were read when the stores loaded, and rustls reads them again when the
    /// verifier is built.
    fn parse(
        der: CertificateRevocationListDer<'static>,
        source: String,
        id: u64,
        checked: bool,
    ) -> Result<KnownCrl, String> {
        if checked {
            webpki::OwnedCertRevocationList::from_der(&der)
                .map_err(|e| format!("not a CRL: {e:?}"))?;
        }
        let (_, crl) = x509_parser::parse_x509_crl(&der).map_err(|e| format!("not a CRL: {e}"))?;
        let issuer = crl.issuer().as_raw().to_vec();
        let issuer_text = crl.issuer().to_string();
        let next_update = crl.next_update().map(|t| t.timestamp());
        let scope = crl
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                x509_parser::extensions::ParsedExtension::IssuingDistributionPoint(idp) => {
                    Some(match &idp.distribution_point {
                        Some(x509_parser::extensions::DistributionPointName::FullName(names)) => {
                            names
                                .iter()
                                .filter_map(|n| match n {
                                    x509_parser::extensions::GeneralName::URI(u) => {
                                        Some(u.to_string())
                                    }
                                    _ => None,
                                })
                                .collect()
                        }
                        _ => Vec::new(),
                    })
                }
                _ => None,
            });
        Ok(KnownCrl {
            id,
            scope,
            issuer,
            issuer_text,
            next_update,
            source,
            der,
        })
    }

    fn is_fresh(&self, now: i64) -> bool {
        self.next_update.is_none_or(|n| now < n)
    }

    /// Whether this CRL can answer for a certificate with these distribution points, as
    /// webpki judges it (its issuing distribution point names one of them, or it has
    /// none, or the certificate names none).
    fn covers(&self, urls: &[String]) -> bool {
        match &self.scope {
            None => true,
            Some(scope) => urls.is_empty() || urls.iter().any(|u| scope.contains(u)),
        }
    }
}

/// What a distribution point gave last time.
#[derive(Debug)]
enum Fetched {
    Crl(Arc<KnownCrl>),
    Failed { at: Instant, why: String },
}

/// What building a verifier needs from the revocation settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy {
    pub(crate) check: RevocationCheck,
    pub(crate) offline: RevocationOffline,
}

/// Makes a rustls verifier checking these CRLs (empty: no revocation check); with `true`,
/// one that accepts an unknown status whatever the offline policy (the end entity's
/// status came from a staple).
pub(super) type Build<V> = Box<
    dyn Fn(Vec<CertificateRevocationListDer<'static>>, bool) -> Result<Arc<V>, Error> + Send + Sync,
>;

/// What a valid stapled OCSP response said of the end-entity certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stapled {
    Good,
    Revoked,
}

/// The revocation half of a verifier: the CRLs, the fetches, and the rustls verifiers
/// built for the set of CRLs fresh at the validation time.
pub(super) struct Revocation<V: ?Sized> {
    policy: Policy,
    local: Vec<Arc<KnownCrl>>,
    fetched: Mutex<HashMap<String, Fetched>>,
    /// Where fetched CRLs are kept (the data directory's `crl/`); `None`: memory only.
    cache_dir: Option<PathBuf>,
    limits: FetchLimits,
    ids: AtomicU64,
    /// The verifier without CRLs: mode none, and the chain check before a fetch.
    plain: Arc<V>,
    /// The last verifier built with CRLs, by the ids of its CRLs.
    with_crls: Mutex<BuiltVerifier<V>>,
    build: Build<V>,
    /// Mode chain: what checking the root needs.
    root: Option<RootRevocation>,
    /// Mode chain: the CRLs of the last root check parsed by webpki, by their ids.
    parsed: Mutex<ParsedCrls>,
}

/// CRLs parsed by webpki, by the ids of their [`KnownCrl`]s.
type ParsedCrls = Option<(Vec<u64>, Arc<Vec<webpki::CertRevocationList<'static>>>)>;

impl<V: ?Sized> std::fmt::Debug for Revocation<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocation")
            .field("policy", &self.policy)
            .field("local", &self.local.len())
            .finish()
    }
}

/// The certificates one verification checks, and what is known about their CRLs.
struct Plan {
    /// Per certificate to check (end entity first): its problem, if no fresh CRL.
    problems: Vec<Option<CrlUnavailable>>,
    /// Certificates without a fresh CRL whose distribution points should be asked.
    to_fetch: Vec<ToFetch>,
}

/// A certificate whose distribution points are to be asked.
struct ToFetch {
    /// Its index in [`Plan::problems`].
    index: usize,
    /// Its issuer's Name (DER): the CRL must be that issuer's.
    issuer: Vec<u8>,
    urls: Vec<String>,
    /// A CRL of the issuer on hand but past its nextUpdate: (where, when).
    stale: Option<(String, i64)>,
}

/// The last verifier built with CRLs, by the ids of its CRLs (and whether it accepts an
/// unknown status).
type BuiltVerifier<V> = Option<((Vec<u64>, bool), Arc<V>)>;

impl<V: ?Sized> Revocation<V> {
    /// The revocation state of one verifier: `crls` from `crl/`, fetched CRLs kept in
    /// `cache_dir`. Builds the verifier for the CRLs fresh at `now` at once, so a CRL
    /// rustls refuses fails the credential, not a handshake.
    pub(super) fn new(
        policy: Policy,
        crls: &[CertificateRevocationListDer<'static>],
        cache_dir: Option<PathBuf>,
        limits: FetchLimits,
        now: UnixTime,
        build: Build<V>,
        root: Option<RootRevocation>,
    ) -> Result<Revocation<V>, Error> {
        let ids = AtomicU64::new(0);
        let mut local = Vec::new();
        for der in crls {
            let id = ids.fetch_add(1, Ordering::Relaxed);
            match KnownCrl::parse(der.clone(), "a CRL of crl/".into(), id, false) {
                Ok(k) => local.push(Arc::new(k)),
                // Handed on as is: rustls refuses it when the verifier is built.
                Err(_) => {
                    return Err(build(crls.to_vec(), false).err().unwrap_or_else(|| {
                        Error::new(
                            securechannel_events::Status::InternalError,
                            "a CRL does not parse",
                        )
                    }))
                }
            }
        }
        let plain = build(Vec::new(), false)?;
        let revocation = Revocation {
            policy,
            local,
            fetched: Mutex::new(HashMap::new()),
            cache_dir,
            limits,
            ids,
            plain,
            with_crls: Mutex::new(None),
            build,
            root: root.filter(|_| policy.check == RevocationCheck::Chain),
            parsed: Mutex::new(None),
        };
        if policy.check != RevocationCheck::None {
            let (key, ders) = revocation.fresh(now.as_secs() as i64);
            if !ders.is_empty() {
                let v = (revocation.build)(ders, false)?;
                *revocation.lock_verifier() = Some(((key, false), v));
            }
        }
        Ok(revocation)
    }

    /// Run `run` (the rustls verifier's check) with the CRLs this verification needs:
    /// `end_entity` (unless a valid staple answered for it: `stapled`) and, unless only
    /// the end certificate is checked, the intermediates the peer `sent`, and in mode
    /// chain the root the path ends at. `chain` is what path building is offered (the
    /// peer's intermediates, then stores/CA's).
    pub(super) fn verify<T>(
        &self,
        end_entity: &CertificateDer<'_>,
        sent: &[CertificateDer<'_>],
        chain: &[CertificateDer<'_>],
        now: UnixTime,
        stapled: Option<Stapled>,
        run: impl Fn(&V) -> Result<T, rustls::Error>,
    ) -> Result<T, rustls::Error> {
        if self.policy.check == RevocationCheck::None {
            return run(&self.plain);
        }
        if stapled == Some(Stapled::Revoked) {
            // An untrusted chain is refused for that first.
            run(&self.plain)?;
            return Err(CertificateError::Revoked.into());
        }
        let leaf_answered = stapled == Some(Stapled::Good);
        let now_secs = now.as_secs() as i64;
        let mut certs: Vec<&[u8]> = Vec::new();
        if !leaf_answered {
            certs.push(end_entity.as_ref());
        }
        if self.policy.check != RevocationCheck::EndCertificate {
            certs.extend(
                sent.iter()
                    .map(|c| c.as_ref())
                    .filter(|c| !is_self_issued(c)),
            );
        }
        // Mode chain: the root the path ends at (`None` inside: its certificate is not
        // known, only its anchor), planned for last.
        let root = self
            .root
            .as_ref()
            .map(|r| r.root_of(end_entity, chain, now));
        if let Some(Some(root)) = &root {
            certs.push(root.as_ref());
        }
        if certs.is_empty() {
            // The staple answered for the only certificate to check.
            return run(&self.plain);
        }
        let mut plan = self.plan(&certs, now_secs);
        if !plan.to_fetch.is_empty() {
            // A chain that does not verify is refused for that, and fetches nothing.
            run(&self.plain)?;
            self.fetch(&mut plan, now_secs);
        }
        let (key, ders) = self.fresh(now_secs);
        let first_problem = || plan.problems.iter().flatten().next().cloned();
        let unknown = |problem: Option<CrlUnavailable>| -> rustls::Error {
            match problem {
                Some(p) => CertificateError::Other(rustls::OtherError(Arc::new(p))).into(),
                None => CertificateError::UnknownRevocationStatus.into(),
            }
        };
        let verified = if leaf_answered {
            // webpki checks the end entity too, and its CRL status is not needed: the
            // verifier accepts an unknown status, so each certificate above it must have
            // a fresh CRL here unless offline is ignored.
            if self.policy.offline == RevocationOffline::Fail {
                if let Some(i) = certs.iter().position(|c| !self.covered(c, now_secs)) {
                    run(&self.plain)?;
                    return Err(unknown(plan.problems[i].clone()));
                }
            }
            if ders.is_empty() {
                run(&self.plain)?
            } else {
                let verifier = self
                    .verifier(key.clone(), ders.clone(), true)
                    .map_err(|e| {
                        rustls::Error::General(format!(
                            "cannot build the verifier with the CRLs: {e}"
                        ))
                    })?;
                run(&verifier)?
            }
        } else {
            if ders.is_empty() {
                // webpki checks nothing without CRLs: the status of every certificate is
                // unknown.
                let verified = run(&self.plain)?;
                return match self.policy.offline {
                    RevocationOffline::Ignore => Ok(verified),
                    RevocationOffline::Fail => Err(unknown(first_problem())),
                };
            }
            let verifier = self
                .verifier(key.clone(), ders.clone(), false)
                .map_err(|e| {
                    rustls::Error::General(format!("cannot build the verifier with the CRLs: {e}"))
                })?;
            match run(&verifier) {
                Err(rustls::Error::InvalidCertificate(
                    CertificateError::UnknownRevocationStatus,
                )) => return Err(unknown(first_problem())),
                other => other?,
            }
        };
        let (Some(check), Some(root)) = (&self.root, root) else {
            return Ok(verified);
        };
        let root_problem = || {
            root.as_ref()
                .and_then(|_| plan.problems.last().cloned().flatten())
        };
        let status = match &root {
            Some(root) => {
                let crls = self.parsed_crls(key, &ders)?;
                check.status(root, end_entity, chain, &crls, now)
            }
            // A root known only as an anchor: nothing to look its serial up with.
            None => RootStatus::Unknown,
        };
        match (status, self.policy.offline) {
            (RootStatus::Good, _) | (RootStatus::Unknown, RevocationOffline::Ignore) => {
                Ok(verified)
            }
            (RootStatus::Revoked, _) => Err(CertificateError::Revoked.into()),
            (RootStatus::Unknown, RevocationOffline::Fail) => Err(unknown(root_problem())),
        }
    }

    /// `ders` (ids `key`) parsed by webpki for the root check: the last set parsed when it
    /// is the same.
    fn parsed_crls(
        &self,
        key: Vec<u64>,
        ders: &[CertificateRevocationListDer<'static>],
    ) -> Result<Arc<Vec<webpki::CertRevocationList<'static>>>, rustls::Error> {
        let mut parsed = self.parsed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((k, crls)) = parsed.as_ref() {
            if *k == key {
                return Ok(crls.clone());
            }
        }
        let crls = ders
            .iter()
            .map(|d| {
                webpki::OwnedCertRevocationList::from_der(d)
                    .map(webpki::CertRevocationList::Owned)
                    .map_err(|e| {
                        rustls::Error::General(format!("a CRL rustls accepted does not parse: {e}"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let crls = Arc::new(crls);
        *parsed = Some((key, crls.clone()));
        Ok(crls)
    }

    /// Whether a CRL of `der`'s issuer, fresh at `now`, is on hand (a certificate that
    /// does not parse is webpki's to refuse).
    fn covered(&self, der: &[u8], now: i64) -> bool {
        let Some((issuer, _)) = issuer_and_distribution_points(der) else {
            return true;
        };
        let fetched = self.lock_fetched();
        self.local
            .iter()
            .chain(fetched.values().filter_map(|f| match f {
                Fetched::Crl(c) => Some(c),
                Fetched::Failed { .. } => None,
            }))
            .any(|c| c.issuer == issuer && c.is_fresh(now))
    }

    /// What each certificate's CRL situation is, without any I/O.
    fn plan(&self, certs: &[&[u8]], now: i64) -> Plan {
        let fetched = self.lock_fetched();
        let mut plan = Plan {
            problems: Vec::new(),
            to_fetch: Vec::new(),
        };
        for (i, der) in certs.iter().enumerate() {
            plan.problems.push(None);
            let Some((issuer, urls)) = issuer_and_distribution_points(der) else {
                continue;
            };
            let of_issuer = || {
                self.local
                    .iter()
                    .chain(fetched.values().filter_map(|f| match f {
                        Fetched::Crl(c) => Some(c),
                        Fetched::Failed { .. } => None,
                    }))
                    .filter(|c| c.issuer == issuer && c.covers(&urls))
            };
            if of_issuer().any(|c| c.is_fresh(now)) {
                continue;
            }
            let stale = of_issuer()
                .filter_map(|c| c.next_update.map(|n| (c, n)))
                .max_by_key(|(_, n)| *n);
            let stale_note = stale.map(|(c, n)| (c.source.clone(), n));
            if urls.is_empty() {
                plan.problems[i] = stale.map(|(c, n)| CrlUnavailable::Expired {
                    issuer: c.issuer_text.clone(),
                    source: c.source.clone(),
                    next_update: n,
                });
                continue;
            }
            // A point that failed a moment ago is not asked again yet.
            let recent_failure = urls.iter().find_map(|u| match fetched.get(u) {
                Some(Fetched::Failed { at, why }) if at.elapsed() < RETRY_AFTER => {
                    Some((u.clone(), why.clone()))
                }
                _ => None,
            });
            match recent_failure {
                Some((url, why)) if urls.len() == 1 => {
                    plan.problems[i] = Some(CrlUnavailable::Unreachable {
                        url,
                        why,
                        stale: stale_note,
                    })
                }
                _ => plan.to_fetch.push(ToFetch {
                    index: i,
                    issuer,
                    urls,
                    stale: stale_note,
                }),
            }
        }
        plan
    }

    /// Ask the distribution points of `plan` (no lock held while asking).
    fn fetch(&self, plan: &mut Plan, now: i64) {
        for ToFetch {
            index,
            issuer,
            urls,
            stale,
        } in std::mem::take(&mut plan.to_fetch)
        {
            let mut problem = None;
            for url in &urls {
                match self.fetch_one(url, &issuer, now) {
                    Ok(()) => {
                        problem = None;
                        break;
                    }
                    Err(p) => {
                        problem.get_or_insert(match p {
                            CrlUnavailable::Unreachable { url, why, .. } => {
                                CrlUnavailable::Unreachable {
                                    url,
                                    why,
                                    stale: stale.clone(),
                                }
                            }
                            expired => expired,
                        });
                    }
                }
            }
            plan.problems[index] = problem;
        }
    }

    /// One distribution point: fetch, parse, keep (memory and `crl/`).
    fn fetch_one(&self, url: &str, issuer: &[u8], now: i64) -> Result<(), CrlUnavailable> {
        let failed = |why: String| {
            self.lock_fetched().insert(
                url.to_owned(),
                Fetched::Failed {
                    at: Instant::now(),
                    why: why.clone(),
                },
            );
            CrlUnavailable::Unreachable {
                url: url.to_owned(),
                why,
                stale: None,
            }
        };
        let bytes = crl_fetch::fetch(url, self.limits).map_err(&failed)?;
        let der = der_of(bytes).map_err(&failed)?;
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        let crl = KnownCrl::parse(der, url.to_owned(), id, true)
            .map_err(|e| failed(format!("it served {e}")))?;
        if crl.issuer != issuer {
            return Err(failed(format!(
                "it served a CRL of {}, not of the certificate's issuer",
                crl.issuer_text
            )));
        }
        if !crl.is_fresh(now) {
            let next_update = crl.next_update.unwrap_or_default();
            let issuer = crl.issuer_text.clone();
            self.lock_fetched()
                .insert(url.to_owned(), Fetched::Crl(Arc::new(crl)));
            return Err(CrlUnavailable::Expired {
                issuer,
                source: url.to_owned(),
                next_update,
            });
        }
        if let Some(dir) = &self.cache_dir {
            // The cache is a convenience: a CRL that cannot be written is still used.
            let _ = keep(dir, url, &crl.der);
        }
        self.lock_fetched()
            .insert(url.to_owned(), Fetched::Crl(Arc::new(crl)));
        Ok(())
    }

    /// The CRLs fresh at `now` (their ids, and their DER).
    fn fresh(&self, now: i64) -> (Vec<u64>, Vec<CertificateRevocationListDer<'static>>) {
        let fetched = self.lock_fetched();
        let mut crls: Vec<&Arc<KnownCrl>> = self
            .local
            .iter()
            .chain(fetched.values().filter_map(|f| match f {
                Fetched::Crl(c) => Some(c),
                Fetched::Failed { .. } => None,
            }))
            .filter(|c| c.is_fresh(now))
            .collect();
        crls.sort_by_key(|c| c.id);
        (
            crls.iter().map(|c| c.id).collect(),
            crls.iter().map(|c| c.der.clone()).collect(),
        )
    }

    /// The verifier for these CRLs: the last one built when the set is the same.
    fn verifier(
        &self,
        ids: Vec<u64>,
        ders: Vec<CertificateRevocationListDer<'static>>,
        allow_unknown: bool,
    ) -> Result<Arc<V>, Error> {
        let key = (ids, allow_unknown);
        if let Some((k, v)) = self.lock_verifier().as_ref() {
            if *k == key {
                return Ok(v.clone());
            }
        }
        // Built outside the lock: other connections keep the previous set meanwhile.
        let v = (self.build)(ders, allow_unknown)?;
        *self.lock_verifier() = Some((key, v.clone()));
        Ok(v)
    }

    fn lock_fetched(&self) -> std::sync::MutexGuard<'_, HashMap<String, Fetched>> {
        self.fetched.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_verifier(&self) -> std::sync::MutexGuard<'_, BuiltVerifier<V>> {
        self.with_crls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What mode chain needs to check the root of a path (SCH_CRED_REVOCATION_CHECK_CHAIN).
///
/// rustls-webpki checks the revocation of every certificate of a path except its trust
/// anchor. The root is checked by webpki too, in a second verification: the root's own
/// certificate is offered as an intermediate and the path is required to pass through it
/// (`verify_path`), so the root stands below itself: its serial is looked up in the CRLs
/// of its issuer (itself), whose signatures are checked with its key, within their scope
/// (issuing distribution point) and their validity, as webpki does for any certificate.
/// No certificate, CRL or signature is parsed or checked here.
pub(crate) struct RootRevocation {
    /// The verifier's trust anchors (to find the one a path ends at).
    anchors: Vec<rustls::pki_types::TrustAnchor<'static>>,
    /// The self-issued trusted certificates, with their anchors.
    roots: Vec<(
        rustls::pki_types::TrustAnchor<'static>,
        CertificateDer<'static>,
    )>,
    /// Server certificates (serverAuth) or client certificates (clientAuth).
    server_auth: bool,
    algorithms: &'static [&'static dyn rustls::pki_types::SignatureVerificationAlgorithm],
}

impl std::fmt::Debug for RootRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootRevocation")
            .field("anchors", &self.anchors.len())
            .field("roots", &self.roots.len())
            .finish()
    }
}

/// What the root check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RootStatus {
    /// A CRL of the root covers it and does not list it.
    Good,
    /// A CRL of the root lists it (CRYPT_E_REVOKED).
    Revoked,
    /// No CRL covers it, or the check could not be made.
    Unknown,
}

impl RootRevocation {
    /// For a verifier trusting `anchors`; `certificates` are the trusted certificates
    /// known by their DER (stores/Root, the added roots, stores/ClientAuth).
    pub(crate) fn new(
        anchors: &rustls::RootCertStore,
        certificates: &[CertificateDer<'static>],
        server_auth: bool,
        algorithms: &'static [&'static dyn rustls::pki_types::SignatureVerificationAlgorithm],
    ) -> RootRevocation {
        let roots = certificates
            .iter()
            .filter(|c| is_self_issued(c))
            .filter_map(|c| {
                let anchor = webpki::anchor_from_trusted_cert(c).ok()?.to_owned();
                anchors
                    .roots
                    .iter()
                    .any(|a| same_anchor(a, &anchor))
                    .then(|| (anchor, c.clone()))
            })
            .collect();
        RootRevocation {
            anchors: anchors.roots.clone(),
            roots,
            server_auth,
            algorithms,
        }
    }

    fn usage(&self) -> webpki::KeyUsage {
        match self.server_auth {
            true => webpki::KeyUsage::server_auth(),
            false => webpki::KeyUsage::client_auth(),
        }
    }

    /// The certificate of the root the path of `end_entity` ends at (webpki's path, no
    /// revocation): `None` when that anchor's certificate is not known, or no path verifies
    /// (the verification proper then refuses the chain).
    fn root_of(
        &self,
        end_entity: &CertificateDer<'_>,
        chain: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Option<CertificateDer<'static>> {
        let ee = webpki::EndEntityCert::try_from(end_entity).ok()?;
        let path = ee
            .verify_for_usage(
                self.algorithms,
                &self.anchors,
                chain,
                now,
                self.usage(),
                None,
                None,
            )
            .ok()?;
        let anchor = path.anchor();
        self.roots
            .iter()
            .find(|(a, _)| same_anchor(a, anchor))
            .map(|(_, der)| der.clone())
    }

    /// The status of `root` at `now` by `crls`: the path of `end_entity` through `root`
    /// below itself, every certificate of it checked (the others passed already).
    fn status(
        &self,
        root: &CertificateDer<'static>,
        end_entity: &CertificateDer<'_>,
        chain: &[CertificateDer<'_>],
        crls: &[webpki::CertRevocationList<'static>],
        now: UnixTime,
    ) -> RootStatus {
        use webpki::{ExpirationPolicy, RevocationCheckDepth, UnknownStatusPolicy};
        let Ok(ee) = webpki::EndEntityCert::try_from(end_entity) else {
            return RootStatus::Unknown;
        };
        let Ok(anchor) = webpki::anchor_from_trusted_cert(root) else {
            return RootStatus::Unknown;
        };
        let anchors = [anchor];
        let intermediates: Vec<CertificateDer<'_>> = chain
            .iter()
            .map(|c| CertificateDer::from(c.as_ref()))
            .chain(std::iter::once(CertificateDer::from(root.as_ref())))
            .collect();
        let refs: Vec<&webpki::CertRevocationList<'_>> = crls.iter().collect();
        let Ok(builder) = webpki::RevocationOptionsBuilder::new(&refs) else {
            return RootStatus::Unknown;
        };
        // Deny: an unknown status is reported as such, the offline policy decides.
        let options = builder
            .with_depth(RevocationCheckDepth::Chain)
            .with_status_policy(UnknownStatusPolicy::Deny)
            .with_expiration_policy(ExpirationPolicy::Enforce)
            .build();
        let through_root =
            |path: &webpki::VerifiedPath<'_>| match path.intermediate_certificates().next_back() {
                Some(top) if top.der().as_ref() == root.as_ref() => Ok(()),
                _ => Err(webpki::Error::UnknownIssuer),
            };
        match ee.verify_for_usage(
            self.algorithms,
            &anchors,
            &intermediates,
            now,
            self.usage(),
            Some(options),
            Some(&through_root),
        ) {
            Ok(_) => RootStatus::Good,
            Err(webpki::Error::CertRevoked) => RootStatus::Revoked,
            // No CRL covers the root (UnknownRevocationStatus), or the path through it
            // cannot be made (a root whose own constraints refuse standing below itself).
            Err(_) => RootStatus::Unknown,
        }
    }
}

fn same_anchor(
    a: &rustls::pki_types::TrustAnchor<'_>,
    b: &rustls::pki_types::TrustAnchor<'_>,
) -> bool {
    a.subject.as_ref() == b.subject.as_ref()
        && a.subject_public_key_info.as_ref() == b.subject_public_key_info.as_ref()
}

/// A certificate's issuer Name (DER) and its `http://` / `file://` (and other) CRL
/// distribution point URLs; `None` when it does not parse (webpki refuses it anyway).
fn issuer_and_distribution_points(der: &[u8]) -> Option<(Vec<u8>, Vec<String>)> {
    use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut urls = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
            for point in points.iter() {
                if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                    for name in names {
                        if let GeneralName::URI(uri) = name {
                            urls.push(uri.to_string());
                        }
                    }
                }
            }
        }
    }
    Some((cert.issuer().as_raw().to_vec(), urls))
}

fn is_self_issued(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.issuer().as_raw() == c.subject().as_raw())
        .unwrap_or(false)
}

/// A distribution point's answer as DER (points serve DER; PEM is accepted too).
fn der_of(bytes: Vec<u8>) -> Result<CertificateRevocationListDer<'static>, String> {
    use rustls::pki_types::pem::PemObject;
    if bytes.starts_with(b"-----BEGIN") {
        return CertificateRevocationListDer::from_pem_slice(&bytes)
            .map_err(|e| format!("it served PEM that holds no CRL: {e:?}"));
    }
    Ok(CertificateRevocationListDer::from(bytes))
}

/// Keep a fetched CRL in `dir` at [`kept_path`] (DER), written whole and renamed into
/// place, so a reader never sees half a file.
fn keep(dir: &Path, url: &str, der: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = kept_path(dir, url);
    let mut tmp = path.clone().into_os_string();
    tmp.push(".tmp");
    std::fs::write(&tmp, der)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// Where a CRL fetched from `url` is kept in `dir`: `cdp-<SHA-256 of the URL, 8 bytes
/// hex>.crl`, so a refetch replaces it.
pub(crate) fn kept_path(dir: &Path, url: &str) -> PathBuf {
    let hash = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, url.as_bytes());
    let name: String = hash.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    dir.join(format!("cdp-{name}.crl"))
}
