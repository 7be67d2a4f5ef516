//! Client-certificate mapping: which account a validated client certificate stands for, as
//! Schannel maps one (the `CertificateMappingMethods` bitmask), from the rules of the data
//! directory's `mappings.toml` instead of Active Directory and IIS.
//!
//! The methods, in the order Windows tries them (S4U2Self, 0x8 / 0x10, needs a Kerberos KDC
//! and is not available here; see the setting's rule):
//!
//! | bit | method | a rule of `mappings.toml` | the account |
//! |-----|--------|---------------------------|-------------|
//! | 0x4 | UPN | `[upn]`: the issuers trusted for it (`issuers`; absent: the subjects of stores/ClientAuth) and whether an e-mail address stands in for a missing UPN (`email`, default true) | the subjectAltName otherName UPN (1.3.6.1.4.1.311.20.2.3), else its rfc822Name |
//! | 0x1 | one-to-one | `[[one-to-one]]`: `account`, and `sha256` or `sha1` (the certificate's thumbprint), or `subject` and `issuer` (both exact) | `account` |
//! | 0x2 | many-to-one | `[[many-to-one]]`: `account`, `issuer` (exact), optional `subject` pattern (`*` any run, `?` one character) | `account` |
//!
//! Names are compared as RFC 4514 strings (`CN=alice, O=Contoso`, as `schannel mapping
//! test` prints them) without regard to case or to the spaces after commas.
//!
//! The outcome: mapped (the first rule that maps, in method order then file order); or,
//! when the UPN method found a name but its issuer is not trusted for mapping and no other
//! method mapped, 36878 (ErrorCode SEC_E_UNTRUSTED_ROOT); otherwise 36879 (ErrorCode
//! SEC_E_LOGON_DENIED). Both are warnings: the connection goes on, unmapped. Mapping runs on
//! a server context once the handshake completes with a client certificate, and only when
//! the server's data directory has a `mappings.toml` (a server that maps).

use crate::settings::line_column;
use crate::{Error, ErrorState};
use rustls::pki_types::CertificateDer;
use securechannel_events::Status;
use std::fmt;
use std::path::{Path, PathBuf};

/// The mapping rules' file in the data directory.
pub const MAPPINGS_FILE: &str = "mappings.toml";

/// A mapping method of `CertificateMappingMethods`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MappingMethod {
    /// 0x1: one certificate to one account (exact certificate, or subject and issuer).
    OneToOne,
    /// 0x2: any certificate of an issuer (optionally with a subject pattern) to one account.
    ManyToOne,
    /// 0x4: the account named in the certificate (subjectAltName UPN, or e-mail).
    Upn,
}

impl MappingMethod {
    /// The methods in the order Windows tries them (after S4U2Self, which is not here).
    pub const ORDER: [MappingMethod; 3] = [
        MappingMethod::Upn,
        MappingMethod::OneToOne,
        MappingMethod::ManyToOne,
    ];

    /// Its bit of `CertificateMappingMethods`.
    pub fn bit(self) -> u32 {
        match self {
            MappingMethod::OneToOne => 0x1,
            MappingMethod::ManyToOne => 0x2,
            MappingMethod::Upn => 0x4,
        }
    }

    /// `one-to-one`, `many-to-one`, `upn`: the names of `mappings.toml` and of the reports.
    pub fn name(self) -> &'static str {
        match self {
            MappingMethod::OneToOne => "one-to-one",
            MappingMethod::ManyToOne => "many-to-one",
            MappingMethod::Upn => "upn",
        }
    }
}

/// The account a certificate was mapped to, and by which rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedAccount {
    /// The account.
    pub account: String,
    /// The method that mapped it.
    pub method: MappingMethod,
    /// The rule, in words: `mappings.toml line 7: [[one-to-one]] by SHA-256 thumbprint`.
    pub rule: String,
}

/// What mapping a certificate came to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MappingOutcome {
    /// Mapped.
    Mapped(MappedAccount),
    /// Not mapped; the UPN method found `name` but the certificate's `issuer` is not
    /// trusted for mapping (event 36878).
    IssuerNotTrusted {
        /// The certificate's issuer.
        issuer: String,
        /// The UPN or e-mail address found.
        name: String,
    },
    /// No rule maps it (event 36879).
    NotMapped,
}

impl MappingOutcome {
    /// The account, when mapped.
    pub fn account(&self) -> Option<&MappedAccount> {
        match self {
            MappingOutcome::Mapped(m) => Some(m),
            _ => None,
        }
    }

    /// The event logged for it (`None` when mapped) and its ErrorCode.
    pub fn event(&self) -> Option<(securechannel_events::EventId, Status)> {
        use securechannel_events::EventId;
        match self {
            MappingOutcome::Mapped(_) => None,
            MappingOutcome::IssuerNotTrusted { .. } => {
                Some((EventId::ClientCertificateNotMappable, Status::UntrustedRoot))
            }
            MappingOutcome::NotMapped => {
                Some((EventId::ClientCertificateNotMapped, Status::LogonDenied))
            }
        }
    }
}

/// One method's part in a mapping, for `schannel mapping test`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingStep {
    /// The method.
    pub method: MappingMethod,
    /// Whether `CertificateMappingMethods` lets it run.
    pub enabled: bool,
    /// What it found: the rule that mapped, or why none did.
    pub detail: String,
    /// It mapped the certificate.
    pub mapped: bool,
}

/// A mapping with how it was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingReport {
    /// The outcome.
    pub outcome: MappingOutcome,
    /// Each method, in the order tried.
    pub steps: Vec<MappingStep>,
    /// The certificate's subject and issuer, as the rules compare them.
    pub subject: String,
    /// The issuer.
    pub issuer: String,
}

/// The rules of a `mappings.toml`.
#[derive(Debug, Clone, Default)]
pub struct MappingRules {
    /// Where they came from (for the rules' descriptions).
    file: Option<PathBuf>,
    one_to_one: Vec<OneToOne>,
    many_to_one: Vec<ManyToOne>,
    upn: UpnRule,
}

#[derive(Debug, Clone)]
struct OneToOne {
    line: usize,
    account: String,
    by: OneToOneBy,
}

#[derive(Debug, Clone)]
enum OneToOneBy {
    Sha1(Vec<u8>),
    Sha256(Vec<u8>),
    SubjectIssuer { subject: String, issuer: String },
}

#[derive(Debug, Clone)]
struct ManyToOne {
    line: usize,
    account: String,
    issuer: String,
    subject: Option<String>,
}

#[derive(Debug, Clone)]
struct UpnRule {
    line: Option<usize>,
    /// Issuers trusted for UPN mapping (normalised); `None`: stores/ClientAuth's.
    issuers: Option<Vec<String>>,
    email: bool,
}

impl Default for UpnRule {
    fn default() -> Self {
        UpnRule {
            line: None,
            issuers: None,
            email: true,
        }
    }
}

/// A `mappings.toml` that cannot be used: the file, the line and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingsError {
    /// The file.
    pub file: Option<PathBuf>,
    /// Line and column (1-based).
    pub position: Option<(usize, usize)>,
    /// What is wrong, and what to do.
    pub problem: String,
}

impl fmt::Display for MappingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self
            .file
            .as_ref()
            .map_or_else(|| MAPPINGS_FILE.to_string(), |p| p.display().to_string());
        match self.position {
            Some((line, column)) => write!(f, "{file} line {line} column {column}: ")?,
            None => write!(f, "{file}: ")?,
        }
        f.write_str(&self.problem)
    }
}

impl std::error::Error for MappingsError {}

impl MappingsError {
    /// As the provider's error: a server credential cannot be acquired with such a file
    /// (36871, ErrorState MappingsInvalid).
    pub fn into_error(self) -> Error {
        Error::new(Status::InternalError, self.to_string()).with_state(ErrorState::MappingsInvalid)
    }
}

impl MappingRules {
    /// Read `<dir>/mappings.toml`: `Ok(None)` when there is none.
    pub fn load(dir: &Path) -> Result<Option<MappingRules>, MappingsError> {
        let file = dir.join(MAPPINGS_FILE);
        match std::fs::read_to_string(&file) {
            Ok(text) => MappingRules::parse(&text, Some(&file)).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(MappingsError {
                file: Some(file),
                position: None,
                problem: format!("cannot be read: {e}"),
            }),
        }
    }

    /// Parse the text of a `mappings.toml` (`file` names it in errors and rules).
    pub fn parse(text: &str, file: Option<&Path>) -> Result<MappingRules, MappingsError> {
        let fail = |span: Option<std::ops::Range<usize>>, problem: String| MappingsError {
            file: file.map(Path::to_path_buf),
            position: span.map(|s| line_column(text, s.start)),
            problem,
        };
        let doc = toml_edit::Document::parse(text)
            .map_err(|e| fail(e.span(), e.message().trim().to_string()))?;
        let line_of =
            |span: Option<std::ops::Range<usize>>| span.map_or(0, |s| line_column(text, s.start).0);
        let mut rules = MappingRules {
            file: file.map(Path::to_path_buf),
            ..MappingRules::default()
        };
        for (key, item) in doc.as_table().iter() {
            let key_span = doc.as_table().key(key).and_then(|k| k.span());
            match key {
                "one-to-one" | "many-to-one" => {
                    let Some(tables) = item.as_array_of_tables() else {
                        return Err(fail(
                            key_span,
                            format!("`{key}` is a list of rules: write each as [[{key}]]"),
                        ));
                    };
                    for t in tables.iter() {
                        let rule = Fields::new(t, &fail)?;
                        let line = line_of(t.span()).max(line_of(key_span.clone()));
                        if key == "one-to-one" {
                            rules.one_to_one.push(rule.one_to_one(line)?);
                        } else {
                            rules.many_to_one.push(rule.many_to_one(line)?);
                        }
                    }
                }
                "upn" => {
                    let Some(t) = item.as_table() else {
                        return Err(fail(key_span, "`upn` is a table: write it as [upn]".into()));
                    };
                    let line = line_of(t.span()).max(line_of(key_span.clone()));
                    rules.upn = Fields::new(t, &fail)?.upn(line)?;
                }
                other => {
                    return Err(fail(
                        key_span,
                        format!("unknown section `{other}`: mappings.toml has [[one-to-one]], [[many-to-one]] and [upn]"),
                    ))
                }
            }
        }
        Ok(rules)
    }

    /// The number of rules (one-to-one and many-to-one; `[upn]` counts once when given).
    pub fn len(&self) -> usize {
        self.one_to_one.len() + self.many_to_one.len() + usize::from(self.upn.line.is_some())
    }

    /// Whether the file holds no rule at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Map `certificate` (DER, already validated) with the methods of `methods`
    /// (`CertificateMappingMethods`); `client_auth_trust_list` is stores/ClientAuth, whose
    /// subjects are the issuers trusted for UPN mapping unless `[upn] issuers` names them.
    pub fn map(
        &self,
        certificate: &[u8],
        methods: u32,
        client_auth_trust_list: &[CertificateDer<'static>],
    ) -> MappingReport {
        let Some(facts) = CertFacts::parse(certificate) else {
            return MappingReport {
                outcome: MappingOutcome::NotMapped,
                steps: Vec::new(),
                subject: String::new(),
                issuer: String::new(),
            };
        };
        let mut steps = Vec::new();
        let mut outcome = None;
        let mut untrusted = None;
        for method in MappingMethod::ORDER {
            let enabled = methods & method.bit() != 0;
            if !enabled {
                steps.push(MappingStep {
                    method,
                    enabled,
                    detail: format!(
                        "not run: CertificateMappingMethods ({methods:#x}) lacks {:#x}",
                        method.bit()
                    ),
                    mapped: false,
                });
                continue;
            }
            if outcome.is_some() {
                steps.push(MappingStep {
                    method,
                    enabled,
                    detail: "not run: an earlier method mapped the certificate".into(),
                    mapped: false,
                });
                continue;
            }
            let (found, detail) = match method {
                MappingMethod::Upn => {
                    let (found, detail, refused) = self.map_upn(&facts, client_auth_trust_list);
                    untrusted = untrusted.or(refused);
                    (found, detail)
                }
                MappingMethod::OneToOne => self.map_one_to_one(&facts),
                MappingMethod::ManyToOne => self.map_many_to_one(&facts),
            };
            steps.push(MappingStep {
                method,
                enabled,
                detail,
                mapped: found.is_some(),
            });
            outcome = found.map(MappingOutcome::Mapped);
        }
        let outcome = match (outcome, untrusted) {
            (Some(mapped), _) => mapped,
            (None, Some((issuer, name))) => MappingOutcome::IssuerNotTrusted { issuer, name },
            (None, None) => MappingOutcome::NotMapped,
        };
        MappingReport {
            outcome,
            steps,
            subject: facts.subject,
            issuer: facts.issuer,
        }
    }

    fn where_(&self, line: usize) -> String {
        let file = self.file.as_ref().and_then(|f| f.file_name()).map_or_else(
            || MAPPINGS_FILE.to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!("{file} line {line}")
    }

    /// UPN: the mapped account, what happened, and (issuer, name) when the issuer is not
    /// trusted for mapping.
    fn map_upn(
        &self,
        facts: &CertFacts,
        client_auth_trust_list: &[CertificateDer<'static>],
    ) -> (Option<MappedAccount>, String, Option<(String, String)>) {
        let (name, kind) =
            match (&facts.upn, &facts.email) {
                (Some(upn), _) => (upn.clone(), "subjectAltName UPN"),
                (None, Some(email)) if self.upn.email => (email.clone(), "subjectAltName e-mail"),
                (None, Some(_)) => return (
                    None,
                    "no subjectAltName UPN (e-mail addresses are not used: [upn] email = false)"
                        .into(),
                    None,
                ),
                (None, None) => {
                    return (
                        None,
                        "the certificate has no subjectAltName UPN or e-mail".into(),
                        None,
                    )
                }
            };
        let trusted: Vec<String> = match &self.upn.issuers {
            Some(list) => list.clone(),
            None => client_auth_trust_list
                .iter()
                .filter_map(|c| crate::store::subject_name(c))
                .map(|s| normalise_name(&s))
                .collect(),
        };
        let source = match (&self.upn.issuers, self.upn.line) {
            (Some(_), Some(line)) => format!("[upn] issuers ({})", self.where_(line)),
            _ => "stores/ClientAuth".into(),
        };
        if !trusted.contains(&normalise_name(&facts.issuer)) {
            return (
                None,
                format!(
                    "{kind} {name}, but the issuer {} is not trusted for mapping (not in {source})",
                    facts.issuer
                ),
                Some((facts.issuer.clone(), name)),
            );
        }
        let rule = format!("{kind}, issuer trusted by {source}");
        (
            Some(MappedAccount {
                account: name.clone(),
                method: MappingMethod::Upn,
                rule: rule.clone(),
            }),
            format!("{kind} {name} ({rule})"),
            None,
        )
    }

    fn map_one_to_one(&self, facts: &CertFacts) -> (Option<MappedAccount>, String) {
        for r in &self.one_to_one {
            let by = match &r.by {
                OneToOneBy::Sha1(t) if *t == facts.sha1 => "SHA-1 thumbprint",
                OneToOneBy::Sha256(t) if *t == facts.sha256 => "SHA-256 thumbprint",
                OneToOneBy::SubjectIssuer { subject, issuer }
                    if *subject == normalise_name(&facts.subject)
                        && *issuer == normalise_name(&facts.issuer) =>
                {
                    "subject and issuer"
                }
                _ => continue,
            };
            let rule = format!("{}: [[one-to-one]] by {by}", self.where_(r.line));
            return (
                Some(MappedAccount {
                    account: r.account.clone(),
                    method: MappingMethod::OneToOne,
                    rule: rule.clone(),
                }),
                format!("{} ({rule})", r.account),
            );
        }
        (
            None,
            match self.one_to_one.len() {
                0 => "no [[one-to-one]] rule".into(),
                n => format!("none of the {n} [[one-to-one]] rule(s) names this certificate (its SHA-256 thumbprint, SHA-1 thumbprint, or subject and issuer)"),
            },
        )
    }

    fn map_many_to_one(&self, facts: &CertFacts) -> (Option<MappedAccount>, String) {
        let issuer = normalise_name(&facts.issuer);
        let subject = normalise_name(&facts.subject);
        let mut same_issuer = 0;
        for r in &self.many_to_one {
            if r.issuer != issuer {
                continue;
            }
            same_issuer += 1;
            if let Some(pattern) = &r.subject {
                if !glob(pattern, &subject) {
                    continue;
                }
            }
            let how = match &r.subject {
                Some(p) => format!("issuer, subject matching `{p}`"),
                None => "issuer".into(),
            };
            let rule = format!("{}: [[many-to-one]] by {how}", self.where_(r.line));
            return (
                Some(MappedAccount {
                    account: r.account.clone(),
                    method: MappingMethod::ManyToOne,
                    rule: rule.clone(),
                }),
                format!("{} ({rule})", r.account),
            );
        }
        (
            None,
            match (self.many_to_one.len(), same_issuer) {
                (0, _) => "no [[many-to-one]] rule".into(),
                (_, 0) => format!("no [[many-to-one]] rule names the issuer {}", facts.issuer),
                (_, n) => format!(
                    "{n} [[many-to-one]] rule(s) name the issuer, but the subject {} matches none of their patterns",
                    facts.subject
                ),
            },
        )
    }
}

/// The fields of one rule's table, read with their positions.
struct Fields<'t, F> {
    table: &'t toml_edit::Table,
    fail: &'t F,
}

impl<'t, F> Fields<'t, F>
where
    F: Fn(Option<std::ops::Range<usize>>, String) -> MappingsError,
{
    fn new(table: &'t toml_edit::Table, fail: &'t F) -> Result<Self, MappingsError> {
        Ok(Fields { table, fail })
    }

    fn check_keys(&self, section: &str, allowed: &[&str]) -> Result<(), MappingsError> {
        for (key, _) in self.table.iter() {
            if !allowed.contains(&key) {
                let span = self.table.key(key).and_then(|k| k.span());
                return Err((self.fail)(
                    span,
                    format!(
                        "unknown key `{key}` in {section}: it takes {}",
                        allowed.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn span(&self, key: &str) -> Option<std::ops::Range<usize>> {
        self.table
            .get(key)
            .and_then(|i| i.span())
            .or_else(|| self.table.span())
    }

    fn string(&self, section: &str, key: &str) -> Result<Option<String>, MappingsError> {
        match self.table.get(key) {
            None => Ok(None),
            Some(item) => match item.as_str() {
                Some(s) if !s.trim().is_empty() => Ok(Some(s.to_string())),
                Some(_) => Err((self.fail)(
                    item.span(),
                    format!("`{key}` of {section} is empty"),
                )),
                None => Err((self.fail)(
                    item.span(),
                    format!("`{key}` of {section} must be a string"),
                )),
            },
        }
    }

    fn required(&self, section: &str, key: &str) -> Result<String, MappingsError> {
        self.string(section, key)?
            .ok_or_else(|| (self.fail)(self.table.span(), format!("{section} needs `{key}`")))
    }

    fn thumbprint(&self, key: &str, bytes: usize) -> Result<Option<Vec<u8>>, MappingsError> {
        let Some(text) = self.string("[[one-to-one]]", key)? else {
            return Ok(None);
        };
        let hex: String = text
            .chars()
            .filter(|c| !matches!(c, ':' | ' ' | '-'))
            .collect();
        let parsed =
            (hex.len() == bytes * 2 && hex.chars().all(|c| c.is_ascii_hexdigit())).then(|| {
                (0..bytes)
                    .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap_or(0))
                    .collect()
            });
        parsed.map(Some).ok_or_else(|| {
            (self.fail)(
                self.span(key),
                format!(
                    "`{key}` must be {bytes} bytes of hex ({} digits, colons or spaces allowed), as `schannel mapping test` prints it; got {text:?}",
                    bytes * 2
                ),
            )
        })
    }

    fn one_to_one(&self, line: usize) -> Result<OneToOne, MappingsError> {
        let section = "[[one-to-one]]";
        self.check_keys(section, &["account", "sha256", "sha1", "subject", "issuer"])?;
        let account = self.required(section, "account")?;
        let sha256 = self.thumbprint("sha256", 32)?;
        let sha1 = self.thumbprint("sha1", 20)?;
        let subject = self.string(section, "subject")?;
        let issuer = self.string(section, "issuer")?;
        let by = match (sha256, sha1, subject, issuer) {
            (Some(t), None, None, None) => OneToOneBy::Sha256(t),
            (None, Some(t), None, None) => OneToOneBy::Sha1(t),
            (None, None, Some(s), Some(i)) => OneToOneBy::SubjectIssuer {
                subject: normalise_name(&s),
                issuer: normalise_name(&i),
            },
            _ => {
                return Err((self.fail)(
                    self.table.span(),
                    "a [[one-to-one]] rule names its certificate one way: `sha256`, or `sha1`, or `subject` and `issuer` together".into(),
                ))
            }
        };
        Ok(OneToOne { line, account, by })
    }

    fn many_to_one(&self, line: usize) -> Result<ManyToOne, MappingsError> {
        let section = "[[many-to-one]]";
        self.check_keys(section, &["account", "issuer", "subject"])?;
        Ok(ManyToOne {
            line,
            account: self.required(section, "account")?,
            issuer: normalise_name(&self.required(section, "issuer")?),
            subject: self.string(section, "subject")?.map(|s| normalise_name(&s)),
        })
    }

    fn upn(&self, line: usize) -> Result<UpnRule, MappingsError> {
        self.check_keys("[upn]", &["issuers", "email"])?;
        let issuers = match self.table.get("issuers") {
            None => None,
            Some(item) => {
                let wrong = || {
                    (self.fail)(
                        item.span(),
                        "`issuers` of [upn] is a list of issuer names: issuers = [\"CN=Contoso Users CA\"]".into(),
                    )
                };
                let array = item.as_array().ok_or_else(wrong)?;
                let mut list = Vec::new();
                for v in array.iter() {
                    list.push(normalise_name(v.as_str().ok_or_else(wrong)?));
                }
                Some(list)
            }
        };
        let email = match self.table.get("email") {
            None => true,
            Some(item) => item.as_bool().ok_or_else(|| {
                (self.fail)(item.span(), "`email` of [upn] is true or false".into())
            })?,
        };
        Ok(UpnRule {
            line: Some(line),
            issuers,
            email,
        })
    }
}

/// What the rules look at in a certificate.
struct CertFacts {
    subject: String,
    issuer: String,
    sha1: Vec<u8>,
    sha256: Vec<u8>,
    upn: Option<String>,
    email: Option<String>,
}

/// The OID of the Microsoft UPN otherName (szOID_NT_PRINCIPAL_NAME).
const UPN_OID: &str = "1.3.6.1.4.1.311.20.2.3";

impl CertFacts {
    fn parse(der: &[u8]) -> Option<CertFacts> {
        use x509_parser::asn1_rs::{Any, FromDer};
        use x509_parser::extensions::GeneralName;
        let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
        let (mut upn, mut email) = (None, None);
        if let Ok(Some(san)) = cert.subject_alternative_name() {
            for name in &san.value.general_names {
                match name {
                    GeneralName::OtherName(oid, value) if oid.to_id_string() == UPN_OID => {
                        // [0] EXPLICIT UTF8String
                        let inner = Any::from_der(value)
                            .ok()
                            .and_then(|(_, tagged)| Any::from_der(tagged.data).ok())
                            .and_then(|(_, s)| std::str::from_utf8(s.data).ok().map(str::to_owned));
                        upn = upn.or(inner);
                    }
                    GeneralName::RFC822Name(e) => email = email.or(Some(e.to_string())),
                    _ => {}
                }
            }
        }
        let digest = |alg| aws_lc_rs::digest::digest(alg, der).as_ref().to_vec();
        Some(CertFacts {
            subject: cert.subject().to_string(),
            issuer: cert.issuer().to_string(),
            sha1: digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY),
            sha256: digest(&aws_lc_rs::digest::SHA256),
            upn,
            email,
        })
    }
}

/// The SHA-256 thumbprint of a certificate, uppercase hex (what `[[one-to-one]] sha256`
/// takes).
pub fn sha256_thumbprint(der: &[u8]) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// A Name as the rules compare it: lower case, each RDN trimmed, joined by `,`.
fn normalise_name(name: &str) -> String {
    name.split(',')
        .map(|p| p.trim().to_lowercase())
        .collect::<Vec<_>>()
        .join(",")
}

/// `*` matches any run of characters, `?` one; everything else itself.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    // Iterative matching with one backtrack point (the last `*`).
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_runs_and_single_characters() {
        assert!(glob("*ou=contractors*", "cn=bob,ou=contractors,o=contoso"));
        assert!(glob("cn=?ob*", "cn=bob,o=x"));
        assert!(!glob("cn=?ob", "cn=bob,o=x"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "acd"));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let text = "[[one-to-one]]\naccount = \"alice\"\nsha256 = \"zz\"\n";
        let e = MappingRules::parse(text, Some(Path::new("/d/mappings.toml"))).unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(3), "{e}");
        assert!(e.to_string().starts_with("/d/mappings.toml line 3"), "{e}");
        assert!(e.to_string().contains("32 bytes of hex"), "{e}");

        let e = MappingRules::parse("[[one-to-one]]\naccount = \"a\"\n[oops\n", None).unwrap_err();
        assert_eq!(e.position.map(|p| p.0), Some(3), "{e}");

        let e = MappingRules::parse("[[many-to-one]]\naccount = \"a\"\n", None).unwrap_err();
        assert!(e.to_string().contains("needs `issuer`"), "{e}");
        assert_eq!(e.position.map(|p| p.0), Some(1), "{e}");

        let e = MappingRules::parse("[upn]\nissuer = []\n", None).unwrap_err();
        assert!(e.to_string().contains("unknown key `issuer`"), "{e}");
        assert_eq!(e.position.map(|p| p.0), Some(2), "{e}");

        let e = MappingRules::parse(
            "\n\n[[one-to-one]]\naccount = \"a\"\nsha1 = \"0011223344556677889900112233445566778899\"\nsubject = \"CN=x\"\n",
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("one way"), "{e}");
    }
}
