//! The SCHANNEL settings tree, read from `settings.toml` in the data directory.
//!
//! The file uses the registry's own names, so an administrator who knows
//! `HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL` recognises every key:
//!
//! ```toml
//! EventLogging = 7
//! [Protocols."TLS 1.3".Server]
//! Enabled = 0
//! DisabledByDefault = 1
//! [Ciphers."AES 128/128"]
//! Enabled = 0
//! [CipherSuiteOrder]          # HKLM\SOFTWARE\Policies\...\SSL\00010002
//! Functions = "TLS_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
//! EccCurves = ["curve25519", "NistP256"]
//! [EventLog]                  # ours: the log's size, retention and flood control
//! MaxSize = 20971520
//! [Forward]                   # ours: where `serve` forwards the records it commits
//! Syslog = "tls://collector.example.net:6514"
//! TlsCa = "collector-ca.pem"
//! ```
//!
//! Every value has a registry-style name (`Protocols\TLS 1.3\Server\Enabled`); the table of
//! names is [`Settings::definitions`]. A TOML table path is the name split at `\`, so a
//! `.reg` import only has to strip the base key and write the same names.
//!
//! A regedit export of the SCHANNEL key and the cipher-suite policy key reads as a
//! [`RegFile`] (every line an operation or a reported diagnostic), applies with
//! [`Settings::apply_reg`], and the settings write back as one with [`Settings::to_reg`]
//! (reg.rs). A value imported into `settings.toml` carries where it came from after it
//! (`Enabled = 0  # imported from hardening.reg line 12`); [`Settings::source`] reads that.

mod applies;
mod names;
mod reg;
mod registry;
mod value;

#[cfg(test)]
mod tests;

pub use applies::{SettingApplication, SettingRule};
pub(crate) use names::line_column;
pub use names::normalise_name;
pub use reg::{
    Change, RegDiagnostic, RegEncoding, RegError, RegFile, RegFileProblem, RegFormat,
    RegLineProblem, RegOperation, RegSyntax, Source,
};
pub(crate) use registry::{ECC_CURVES, FUNCTIONS, PROTOCOL_KEYS};
pub use value::{SettingDef, SettingValue, SettingsError, SettingsProblem, ValueKind};

use crate::{Error, Protocol, Role};
use names::{canonical_group, unknown_name};
use registry::{build_definitions, EVENT_LOGGING};
use securechannel_events::{EventLogging, Retention};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// The `Messaging` value that limits the handshake messages `role` accepts (a server
/// asking for a client certificate has its own).
pub(crate) fn message_limit_name(role: Role, client_auth: bool) -> &'static str {
    match (role, client_auth) {
        (Role::Client, _) => "Messaging\\MessageLimitClient",
        (Role::Server, false) => "Messaging\\MessageLimitServer",
        (Role::Server, true) => "Messaging\\MessageLimitServerClientAuth",
    }
}

/// The file name of the settings in the data directory.
pub const SETTINGS_FILE: &str = "settings.toml";

/// Whether a protocol version may be used, from `Enabled` / `DisabledByDefault`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolState {
    /// Used unless a credential narrows it away.
    Enabled,
    /// Used only when a credential asks for it explicitly.
    DisabledByDefault,
    /// Never used.
    Disabled,
}

/// The `ClientAuthTrustMode` setting: which CAs a client certificate may chain to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuthTrustMode {
    /// 0, Machine Trust: any trusted root (stores/Root). The default.
    #[default]
    MachineTrust,
    /// 1, Exclusive Root Trust: only the self-signed roots of the client-auth trust list
    /// (stores/ClientAuth).
    ExclusiveRootTrust,
    /// 2, Exclusive CA Trust: the client certificate's issuing CA must itself be in the
    /// client-auth trust list.
    ExclusiveCaTrust,
}

impl ClientAuthTrustMode {
    /// The mode for a registry value; `None` for values Windows does not define.
    pub fn from_value(value: u32) -> Option<ClientAuthTrustMode> {
        match value {
            0 => Some(ClientAuthTrustMode::MachineTrust),
            1 => Some(ClientAuthTrustMode::ExclusiveRootTrust),
            2 => Some(ClientAuthTrustMode::ExclusiveCaTrust),
            _ => None,
        }
    }
}

/// The `[EventLog]` section (ours, not Windows'): the System log's size and flood control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventLogSettings {
    /// Largest size of the log in bytes.
    pub max_size: u64,
    /// What to do when it is full.
    pub retention: Retention,
    /// Identical events past this many within the window are folded (0: never fold).
    pub flood_threshold: u32,
    /// The flood-control window.
    pub flood_window: Duration,
}

/// The `[Forward]` section (ours): what `serve` forwards its records to, as written (the
/// CLI parses the targets and reads the files, refusing serve's start on any error).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ForwardSettings {
    /// `Syslog`: `tcp://HOST:PORT` or `tls://HOST:PORT`.
    pub syslog: Option<String>,
    /// `Otlp`: `http://HOST:PORT/v1/logs` or `https://HOST:PORT/v1/logs`.
    pub otlp: Option<String>,
    /// `TlsCa`: the CA file for `tls://` and `https://`.
    pub tls_ca: Option<String>,
    /// `TlsCert`: our certificate for `tls://` and `https://`.
    pub tls_cert: Option<String>,
    /// `TlsKey`: its key.
    pub tls_key: Option<String>,
    /// `Format = "ecs"`: MSG is the ECS JSON.
    pub ecs: bool,
    /// `Batch`: records per batch.
    pub batch: u32,
}

/// A configuration remark that is not an error (an unknown suite name in `Functions`, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsWarning {
    /// The setting concerned.
    pub name: &'static str,
    /// What was ignored and why.
    pub message: String,
}

impl fmt::Display for SettingsWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.name, self.message)
    }
}

/// The effective SCHANNEL settings: Windows' defaults, overridden by what is configured.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `EventLogging`.
    pub event_logging: EventLogging,
    /// The cipher suite order (`...\SSL\00010002\Functions`): IANA names; empty = default.
    pub cipher_suite_order: Vec<String>,
    /// Every other configured value, by canonical name. (`EventLogging` and `Functions`
    /// live in the public fields above and are kept in step by [`Settings::set`].)
    configured: BTreeMap<String, SettingValue>,
    /// Where configured values came from (`# imported from FILE line N`), by canonical name.
    sources: BTreeMap<String, Source>,
}

impl Settings {
    /// Read `<dir>/settings.toml`; Windows defaults when it does not exist.
    ///
    /// A file that cannot be read or parsed, an unknown name or a bad value is an error
    /// naming the file, the line and column and the setting (event 36866, ErrorState
    /// SettingsInvalid: the provider does not load with it).
    pub fn load(dir: &Path) -> Result<Settings, Error> {
        let file = dir.join(SETTINGS_FILE);
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
            Err(e) => {
                return Err(SettingsError {
                    file: Some(file),
                    position: None,
                    name: None,
                    problem: Box::new(SettingsProblem::Unreadable(e.to_string())),
                }
                .into_error())
            }
        };
        Settings::parse(&text, Some(&file)).map_err(SettingsError::into_error)
    }

    /// Parse the text of a settings file (`file` names it in errors).
    pub fn parse(text: &str, file: Option<&Path>) -> Result<Settings, SettingsError> {
        let at = |span: Option<std::ops::Range<usize>>| span.map(|s| line_column(text, s.start));
        let doc = toml_edit::Document::parse(text).map_err(|e| SettingsError {
            file: file.map(Path::to_path_buf),
            position: at(e.span()),
            name: None,
            problem: Box::new(SettingsProblem::Syntax(e.message().to_string())),
        })?;
        let mut settings = Settings::default();
        settings
            .read_table(doc.as_table(), &[], text)
            .map_err(|(mut e, span)| {
                e.file = file.map(Path::to_path_buf);
                e.position = at(span);
                e
            })?;
        Ok(settings)
    }

    fn read_table(
        &mut self,
        table: &dyn toml_edit::TableLike,
        prefix: &[String],
        text: &str,
    ) -> Result<(), (SettingsError, Option<std::ops::Range<usize>>)> {
        for (key, item) in table.iter() {
            let span = table
                .key(key)
                .and_then(|k| k.span())
                .or_else(|| item.span());
            let mut segments = prefix.to_vec();
            segments.push(key.to_string());
            let name = segments.join("\\");
            if let Some(sub) = item.as_table_like() {
                let Some(canonical) = canonical_group(&name) else {
                    return Err((unknown_name(&name), span));
                };
                let sub_prefix: Vec<String> = canonical.split('\\').map(String::from).collect();
                self.read_table(sub, &sub_prefix, text)?;
            } else if let Some(value) = item.as_value() {
                let def = Settings::definition(&name).map_err(|e| (e, span.clone()))?;
                let parsed = def.read_toml(value).map_err(|e| (e, span.clone()))?;
                self.store(def, Some(parsed));
                // The comment after the value (`Enabled = 0  # imported from x.reg line 3`);
                // a parsed document keeps decor as spans into the text.
                let suffix = value.decor().suffix().and_then(|raw| {
                    raw.as_str()
                        .or_else(|| raw.span().and_then(|s| text.get(s)))
                });
                if let Some(source) = suffix.and_then(Source::from_comment) {
                    self.sources.insert(def.name.clone(), source);
                }
            } else {
                return Err((unknown_name(&name), span));
            }
        }
        Ok(())
    }

    /// Every setting of the tree, with its type and default.
    pub fn definitions() -> &'static [SettingDef] {
        static DEFS: OnceLock<Vec<SettingDef>> = OnceLock::new();
        DEFS.get_or_init(build_definitions)
    }

    /// The setting named `name` (case-insensitive, as the registry is), or an error with
    /// the closest valid names.
    pub fn definition(name: &str) -> Result<&'static SettingDef, SettingsError> {
        // The provider asks by the canonical name on every handshake (message limits,
        // mapping methods): a binary search of the names, not a normalised copy and a
        // scan of every definition (measured in the resumed-handshake profile). A sorted
        // Vec rather than a HashMap: valgrind sees the static as reachable (a hash
        // table's pointer points inside its allocation: "possibly lost").
        static BY_NAME: OnceLock<Vec<(&'static str, &'static SettingDef)>> = OnceLock::new();
        let by_name = BY_NAME.get_or_init(|| {
            let mut v: Vec<_> = Settings::definitions()
                .iter()
                .map(|d| (d.name.as_str(), d))
                .collect();
            v.sort_unstable_by_key(|&(n, _)| n);
            v
        });
        if let Ok(i) = by_name.binary_search_by_key(&name, |&(n, _)| n) {
            return Ok(by_name[i].1);
        }
        let wanted = normalise_name(name);
        Settings::definitions()
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| unknown_name(name))
    }

    /// The effective value of `name`: the configured one, else the default (`None` where
    /// absence means "system default" and no value stands for it).
    pub fn value(&self, name: &str) -> Result<Option<SettingValue>, SettingsError> {
        let def = Settings::definition(name)?;
        Ok(match def.name.as_str() {
            EVENT_LOGGING => Some(SettingValue::Dword(self.event_logging.0)),
            FUNCTIONS if self.cipher_suite_order.is_empty() => None,
            FUNCTIONS => Some(SettingValue::List(self.cipher_suite_order.clone())),
            n => self
                .configured
                .get(n)
                .cloned()
                .or_else(|| def.default.clone()),
        })
    }

    /// Whether `name` is set explicitly (rather than defaulted).
    pub fn is_configured(&self, name: &str) -> bool {
        let Ok(def) = Settings::definition(name) else {
            return false;
        };
        match def.name.as_str() {
            EVENT_LOGGING => {
                self.configured.contains_key(EVENT_LOGGING)
                    || self.event_logging != EventLogging::default()
            }
            FUNCTIONS => !self.cipher_suite_order.is_empty(),
            n => self.configured.contains_key(n),
        }
    }

    /// Set `name` to `value` (checked against the setting's type and range).
    pub fn set(&mut self, name: &str, value: SettingValue) -> Result<(), SettingsError> {
        let def = Settings::definition(name)?;
        let value = def.check(value)?;
        self.store(def, Some(value));
        Ok(())
    }

    /// Remove `name`, so that its default applies again.
    pub fn unset(&mut self, name: &str) -> Result<(), SettingsError> {
        let def = Settings::definition(name)?;
        self.store(def, None);
        Ok(())
    }

    /// Where the value of `name` came from, when settings.toml says so: a value written
    /// by `schannel config import` carries `# imported from FILE line N` after it. `None`
    /// for a value set by hand, a default, or an unknown name.
    pub fn source(&self, name: &str) -> Option<&Source> {
        let def = Settings::definition(name).ok()?;
        if !self.is_configured(&def.name) {
            return None;
        }
        self.sources.get(&def.name)
    }

    fn store(&mut self, def: &SettingDef, value: Option<SettingValue>) {
        // A value stored anew no longer comes from where the old one came from; an import
        // records its source after storing.
        self.sources.remove(&def.name);
        match def.name.as_str() {
            EVENT_LOGGING => {
                self.event_logging = value
                    .as_ref()
                    .and_then(SettingValue::as_dword)
                    .map(EventLogging)
                    .unwrap_or_default();
            }
            FUNCTIONS => {
                self.cipher_suite_order = match &value {
                    Some(SettingValue::List(l)) => l.clone(),
                    _ => Vec::new(),
                };
            }
            _ => {}
        }
        match value {
            Some(v) => self.configured.insert(def.name.clone(), v),
            None => self.configured.remove(&def.name),
        };
    }

    fn dword(&self, name: &str) -> Option<u32> {
        match self.configured.get(name) {
            Some(SettingValue::Dword(v)) => Some(*v),
            _ => None,
        }
    }

    fn dword_or_default(&self, name: &str) -> u32 {
        self.value(name)
            .ok()
            .flatten()
            .and_then(|v| v.as_dword())
            .unwrap_or(0)
    }

    /// `Protocols\<protocol_key>\<Client|Server>`: enabled, disabled by default, or disabled.
    /// `protocol_key` is a registry key name (`TLS 1.2`, `DTLS 1.0`, ...).
    pub fn protocol_state(&self, protocol_key: &str, role: Role) -> ProtocolState {
        let base = format!("Protocols\\{protocol_key}\\{}", role.key_name());
        let enabled = self.dword(&format!("{base}\\Enabled"));
        let disabled_by_default = self.dword(&format!("{base}\\DisabledByDefault"));
        // Enabled = 0 wins over everything; DisabledByDefault != 0 makes the protocol
        // opt-in; absent values mean the system default, which is "enabled".
        if enabled == Some(0) {
            ProtocolState::Disabled
        } else if disabled_by_default.unwrap_or(0) != 0 {
            ProtocolState::DisabledByDefault
        } else {
            ProtocolState::Enabled
        }
    }

    /// The protocol versions enabled for `role` by default (a credential may narrow them),
    /// newest first. Only versions rustls speaks are returned.
    pub fn enabled_protocols(&self, role: Role) -> Vec<Protocol> {
        [Protocol::Tls13, Protocol::Tls12]
            .into_iter()
            .filter(|p| self.protocol_state(p.name(), role) == ProtocolState::Enabled)
            .collect()
    }

    /// The versions a credential gets: `requested` (SCH_CREDENTIALS' protocol list) may
    /// name versions that are disabled by default, never disabled ones; empty asks for
    /// the settings' defaults. Newest first, spoken ones only.
    pub fn protocols_for(&self, role: Role, requested: &[Protocol]) -> Vec<Protocol> {
        if requested.is_empty() {
            return self.enabled_protocols(role);
        }
        [Protocol::Tls13, Protocol::Tls12]
            .into_iter()
            .filter(|p| requested.contains(p))
            .filter(|p| self.protocol_state(p.name(), role) != ProtocolState::Disabled)
            .collect()
    }

    /// Whether `Ciphers\<name>\Enabled` allows the cipher (absent: enabled).
    pub fn cipher_enabled(&self, name: &str) -> bool {
        self.dword(&format!("Ciphers\\{name}\\Enabled")) != Some(0)
    }

    /// Whether `Hashes\<name>\Enabled` allows the hash (absent: enabled).
    pub fn hash_enabled(&self, name: &str) -> bool {
        self.dword(&format!("Hashes\\{name}\\Enabled")) != Some(0)
    }

    /// Whether `KeyExchangeAlgorithms\<name>\Enabled` allows it (absent: enabled).
    pub fn key_exchange_enabled(&self, name: &str) -> bool {
        self.dword(&format!("KeyExchangeAlgorithms\\{name}\\Enabled")) != Some(0)
    }

    /// `EccCurves`: the curve order, empty when not set.
    pub fn ecc_curves(&self) -> Vec<String> {
        match self.configured.get(ECC_CURVES) {
            Some(SettingValue::List(l)) => l.clone(),
            _ => Vec::new(),
        }
    }

    /// `ClientAuthTrustMode`.
    pub fn client_auth_trust_mode(&self) -> ClientAuthTrustMode {
        // The definition's range (0..=2) keeps other values out of the settings.
        ClientAuthTrustMode::from_value(self.dword_or_default("ClientAuthTrustMode"))
            .unwrap_or_default()
    }

    /// `SendTrustedIssuerList`: whether a CertificateRequest names the accepted CAs.
    pub fn send_trusted_issuer_list(&self) -> bool {
        self.dword_or_default("SendTrustedIssuerList") != 0
    }

    /// `CertificateMappingMethods` bitmask.
    pub fn certificate_mapping_methods(&self) -> u32 {
        self.dword_or_default("CertificateMappingMethods")
    }

    /// `KeyExchangeAlgorithms\PKCS\ClientMinKeyBitLength`: the shortest RSA key a client
    /// accepts in a server's certificate.
    pub fn client_min_rsa_key_bits(&self) -> u32 {
        self.dword_or_default("KeyExchangeAlgorithms\\PKCS\\ClientMinKeyBitLength")
    }

    /// `ClientCacheTime` / `ServerCacheTime`: the session cache lifetime (zero: no cache).
    pub fn session_cache_time(&self, role: Role) -> Duration {
        let name = match role {
            Role::Client => "ClientCacheTime",
            Role::Server => "ServerCacheTime",
        };
        Duration::from_millis(u64::from(self.dword_or_default(name)))
    }

    /// `MaximumCacheSize`: server session cache entries (0: no server cache).
    pub fn maximum_cache_size(&self) -> u32 {
        self.dword_or_default("MaximumCacheSize")
    }

    /// `IssuerCacheSize` entries and `IssuerCacheTime`.
    pub fn issuer_cache(&self) -> (u32, Duration) {
        (
            self.dword_or_default("IssuerCacheSize"),
            Duration::from_millis(u64::from(self.dword_or_default("IssuerCacheTime"))),
        )
    }

    /// `Messaging\MessageLimit*`: the largest handshake message accepted by `role`
    /// (a server asking for a client certificate takes `MessageLimitServerClientAuth`).
    pub fn message_limit(&self, role: Role, client_auth: bool) -> u32 {
        self.dword_or_default(message_limit_name(role, client_auth))
    }

    /// `EnableOcspStaplingForSni`.
    pub fn ocsp_stapling_for_sni(&self) -> bool {
        self.dword_or_default("EnableOcspStaplingForSni") != 0
    }

    /// The `[Forward]` section: where `serve` forwards the records it commits. An error
    /// names the value that holds more than one item (a comma in a REG_SZ).
    pub fn forward(&self) -> Result<ForwardSettings, String> {
        let one = |name: &str| -> Result<Option<String>, String> {
            match self.value(name) {
                Ok(Some(SettingValue::List(v))) => match v.as_slice() {
                    [] => Ok(None),
                    [one] => Ok(Some(one.clone())),
                    _ => Err(format!(
                        "`{name}` holds {} values ({}); it takes one",
                        v.len(),
                        v.join(", ")
                    )),
                },
                _ => Ok(None),
            }
        };
        Ok(ForwardSettings {
            syslog: one("Forward\\Syslog")?,
            otlp: one("Forward\\Otlp")?,
            tls_ca: one("Forward\\TlsCa")?,
            tls_cert: one("Forward\\TlsCert")?,
            tls_key: one("Forward\\TlsKey")?,
            ecs: matches!(self.value("Forward\\Format"), Ok(Some(SettingValue::Choice(c))) if c == "ecs"),
            batch: self.dword_or_default("Forward\\Batch"),
        })
    }

    /// The `[EventLog]` section.
    pub fn event_log(&self) -> EventLogSettings {
        let retention = match self.value("EventLog\\Retention") {
            Ok(Some(SettingValue::Choice(c))) if c == "archive" => Retention::Archive,
            _ => Retention::OverwriteOldest,
        };
        EventLogSettings {
            max_size: u64::from(self.dword_or_default("EventLog\\MaxSize")),
            retention,
            flood_threshold: self.dword_or_default("EventLog\\FloodThreshold"),
            flood_window: Duration::from_secs(u64::from(
                self.dword_or_default("EventLog\\FloodWindowSeconds"),
            )),
        }
    }
}
