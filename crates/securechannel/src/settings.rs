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
//! ```
//!
//! Every value has a registry-style name (`Protocols\TLS 1.3\Server\Enabled`); the table of
//! names is [`Settings::definitions`]. A TOML table path is the name split at `\`, so a
//! `.reg` import only has to strip the base key and write the same names.

use crate::{Error, ErrorState, Protocol, Role};
use rustls::crypto::aws_lc_rs;
use rustls::crypto::{CryptoProvider, SupportedKxGroup};
use rustls::SupportedCipherSuite;
use securechannel_events::{EventId, EventLogging, Status};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The file name of the settings in the data directory.
pub const SETTINGS_FILE: &str = "settings.toml";

/// Every `Protocols\<P>` key name Windows knows (old exports included), in registry order.
pub const PROTOCOL_KEYS: [&str; 10] = [
    "Multi-Protocol Unified Hello",
    "PCT 1.0",
    "SSL 2.0",
    "SSL 3.0",
    "TLS 1.0",
    "TLS 1.1",
    "TLS 1.2",
    "TLS 1.3",
    "DTLS 1.0",
    "DTLS 1.2",
];

/// Every `Ciphers\<C>` key name.
pub const CIPHER_KEYS: [&str; 12] = [
    "NULL",
    "DES 56/56",
    "RC2 40/128",
    "RC2 56/128",
    "RC2 128/128",
    "RC4 40/128",
    "RC4 56/128",
    "RC4 64/128",
    "RC4 128/128",
    "Triple DES 168",
    "AES 128/128",
    "AES 256/256",
];

/// Every `Hashes\<H>` key name.
pub const HASH_KEYS: [&str; 5] = ["MD5", "SHA", "SHA256", "SHA384", "SHA512"];

/// Every `KeyExchangeAlgorithms\<K>` key name.
pub const KEY_EXCHANGE_KEYS: [&str; 3] = ["PKCS", "Diffie-Hellman", "ECDH"];

/// A DWORD of 0xffffffff: how Windows writes "enabled" for Ciphers / Hashes / KeyExchange.
const ENABLED_ALL: u32 = 0xffff_ffff;

/// What kind of value a setting holds (the registry type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// REG_DWORD, within `min..=max`.
    Dword {
        /// Smallest accepted value.
        min: u32,
        /// Largest accepted value.
        max: u32,
    },
    /// REG_SZ: a comma-separated list (the cipher suite order's `Functions`).
    List,
    /// REG_MULTI_SZ: a list of strings (`EccCurves`).
    MultiString,
    /// A string among fixed choices (`EventLog\Retention`).
    Choice(&'static [&'static str]),
}

/// A setting's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingValue {
    /// A DWORD.
    Dword(u32),
    /// A list of strings (REG_SZ comma-separated, or REG_MULTI_SZ).
    List(Vec<String>),
    /// One of a fixed set of strings.
    Choice(String),
}

impl SettingValue {
    /// The DWORD, if it is one.
    pub fn as_dword(&self) -> Option<u32> {
        match self {
            SettingValue::Dword(v) => Some(*v),
            _ => None,
        }
    }
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingValue::Dword(v) => write!(f, "{v}"),
            SettingValue::List(v) => f.write_str(&v.join(",")),
            SettingValue::Choice(s) => f.write_str(s),
        }
    }
}

/// One named value of the tree: its registry path, type, default and meaning.
#[derive(Debug, Clone)]
pub struct SettingDef {
    name: String,
    kind: ValueKind,
    default: Option<SettingValue>,
    note: &'static str,
}

impl SettingDef {
    /// The registry-style name, `Protocols\TLS 1.3\Server\Enabled`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name's parts (the TOML table path and key).
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.name.split('\\')
    }

    /// The registry type and range.
    pub fn kind(&self) -> ValueKind {
        self.kind
    }

    /// The value when the setting is absent; `None` where absence itself means "the
    /// system default" and no single value stands for it (Protocols, the suite order).
    pub fn default_value(&self) -> Option<&SettingValue> {
        self.default.as_ref()
    }

    /// What the setting means, briefly.
    pub fn note(&self) -> &'static str {
        self.note
    }

    /// Parse a value typed on a command line: a decimal or `0x` hex DWORD, a
    /// comma-separated list, or one of the choices.
    pub fn parse_value(&self, text: &str) -> Result<SettingValue, SettingsError> {
        let text = text.trim();
        match self.kind {
            ValueKind::Dword { .. } => {
                let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                    Some(hex) => i128::from_str_radix(hex, 16),
                    None => text.parse::<i128>(),
                };
                match parsed {
                    Ok(v) => self.check_dword(v),
                    Err(_) => Err(self.problem(SettingsProblem::WrongType {
                        expected: "a DWORD (decimal, or hex with 0x)",
                        found: text.to_string(),
                    })),
                }
            }
            ValueKind::List | ValueKind::MultiString => Ok(SettingValue::List(split_list(text))),
            ValueKind::Choice(choices) => self.check_choice(text, choices),
        }
    }

    fn check_dword(&self, v: i128) -> Result<SettingValue, SettingsError> {
        let ValueKind::Dword { min, max } = self.kind else {
            return Err(self.problem(SettingsProblem::WrongType {
                expected: self.expected(),
                found: v.to_string(),
            }));
        };
        if v < i128::from(min) || v > i128::from(max) {
            return Err(self.problem(SettingsProblem::OutOfRange { value: v, min, max }));
        }
        // In range of a u32 by the check above.
        Ok(SettingValue::Dword(v as u32))
    }

    fn check_choice(
        &self,
        text: &str,
        choices: &'static [&'static str],
    ) -> Result<SettingValue, SettingsError> {
        match choices.iter().find(|c| c.eq_ignore_ascii_case(text)) {
            Some(c) => Ok(SettingValue::Choice((*c).to_string())),
            None => Err(self.problem(SettingsProblem::NotAChoice {
                found: text.to_string(),
                choices,
            })),
        }
    }

    /// Convert a TOML value of the settings file.
    fn read_toml(&self, value: &toml_edit::Value) -> Result<SettingValue, SettingsError> {
        use toml_edit::Value as V;
        match (self.kind, value) {
            (ValueKind::Dword { .. }, V::Integer(i)) => self.check_dword(i128::from(*i.value())),
            (ValueKind::List | ValueKind::MultiString, V::String(s)) => {
                Ok(SettingValue::List(split_list(s.value())))
            }
            (ValueKind::List | ValueKind::MultiString, V::Array(a)) => {
                let mut out = Vec::new();
                for v in a.iter() {
                    match v.as_str() {
                        Some(s) => out.extend(split_list(s)),
                        None => {
                            return Err(self.problem(SettingsProblem::WrongType {
                                expected: self.expected(),
                                found: describe_toml(v).to_string(),
                            }))
                        }
                    }
                }
                Ok(SettingValue::List(out))
            }
            (ValueKind::Choice(choices), V::String(s)) => self.check_choice(s.value(), choices),
            (_, other) => Err(self.problem(SettingsProblem::WrongType {
                expected: self.expected(),
                found: describe_toml(other).to_string(),
            })),
        }
    }

    fn expected(&self) -> &'static str {
        match self.kind {
            ValueKind::Dword { .. } => "a DWORD (an integer)",
            ValueKind::List => "a string of comma-separated names",
            ValueKind::MultiString => "an array of strings",
            ValueKind::Choice(_) => "a string",
        }
    }

    fn problem(&self, problem: SettingsProblem) -> SettingsError {
        SettingsError {
            file: None,
            position: None,
            name: Some(self.name.clone()),
            problem: Box::new(problem),
        }
    }
}

fn describe_toml(v: &toml_edit::Value) -> &'static str {
    match v {
        toml_edit::Value::String(_) => "a string",
        toml_edit::Value::Integer(_) => "an integer",
        toml_edit::Value::Float(_) => "a float",
        toml_edit::Value::Boolean(_) => "a boolean",
        toml_edit::Value::Datetime(_) => "a date-time",
        toml_edit::Value::Array(_) => "an array",
        toml_edit::Value::InlineTable(_) => "a table",
    }
}

fn split_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Why a settings file or a value is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// The settings file, when the error comes from one.
    pub file: Option<PathBuf>,
    /// Line and column (1-based) in the file.
    pub position: Option<(usize, usize)>,
    /// The setting's name (registry path), where one is concerned.
    pub name: Option<String>,
    /// What is wrong (boxed: errors travel by value through `Result`s).
    pub problem: Box<SettingsProblem>,
}

/// What is wrong with a setting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsProblem {
    /// The file cannot be read.
    Unreadable(String),
    /// The file is not valid TOML.
    Syntax(String),
    /// No setting has this name; the closest valid names follow.
    UnknownName {
        /// Up to three valid names close to the one given.
        suggestions: Vec<String>,
    },
    /// The value has the wrong type.
    WrongType {
        /// What the setting takes.
        expected: &'static str,
        /// What was given.
        found: String,
    },
    /// The DWORD is outside the setting's range.
    OutOfRange {
        /// The value given.
        value: i128,
        /// Smallest accepted.
        min: u32,
        /// Largest accepted.
        max: u32,
    },
    /// The string is not one of the choices.
    NotAChoice {
        /// The value given.
        found: String,
        /// The accepted values.
        choices: &'static [&'static str],
    },
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some((line, col)) = self.position {
                write!(f, ":{line}:{col}")?;
            }
            f.write_str(": ")?;
        }
        if let Some(name) = &self.name {
            write!(f, "`{name}`: ")?;
        }
        match &*self.problem {
            SettingsProblem::Unreadable(e) => write!(f, "cannot be read: {e}"),
            SettingsProblem::Syntax(e) => write!(f, "invalid TOML: {e}"),
            SettingsProblem::UnknownName { suggestions } => {
                f.write_str("no such setting")?;
                if !suggestions.is_empty() {
                    let list: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
                    write!(f, "; did you mean {}?", list.join(" or "))?;
                }
                Ok(())
            }
            SettingsProblem::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            SettingsProblem::OutOfRange { value, min, max } => {
                write!(f, "{value} is out of range ({min}..={max})")
            }
            SettingsProblem::NotAChoice { found, choices } => {
                write!(f, "'{found}' is not one of {}", choices.join(", "))
            }
        }
    }
}

impl std::error::Error for SettingsError {}

impl SettingsError {
    /// The provider error for it: SEC_E_INTERNAL_ERROR, event 36866 (the package fails
    /// to load), ErrorState SettingsInvalid.
    pub fn into_error(self) -> Error {
        Error::new(Status::InternalError, self.to_string())
            .with_event(EventId::PackageLoadFailed)
            .with_state(ErrorState::SettingsInvalid)
            .with_source(self)
    }
}

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

/// What happens when the event log reaches `EventLog\MaxSize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    /// The oldest records are dropped ("Overwrite events as needed").
    Overwrite,
    /// The full log is archived and a new one begun ("Archive the log when full").
    Archive,
}

/// The `[EventLog]` section (ours, not Windows'): the System log's size and flood control.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

const EVENT_LOGGING: &str = "EventLogging";
const FUNCTIONS: &str = "CipherSuiteOrder\\Functions";
const ECC_CURVES: &str = "CipherSuiteOrder\\EccCurves";

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
            .read_table(doc.as_table(), &[])
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
                self.read_table(sub, &sub_prefix)?;
            } else if let Some(value) = item.as_value() {
                let def = Settings::definition(&name).map_err(|e| (e, span.clone()))?;
                let value = def.read_toml(value).map_err(|e| (e, span.clone()))?;
                self.store(def, Some(value));
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
        let value = match (&value, def.kind) {
            (SettingValue::Dword(v), ValueKind::Dword { .. }) => def.check_dword(i128::from(*v))?,
            (SettingValue::List(_), ValueKind::List | ValueKind::MultiString) => value,
            (SettingValue::Choice(c), ValueKind::Choice(choices)) => {
                def.check_choice(c, choices)?
            }
            _ => {
                return Err(def.problem(SettingsProblem::WrongType {
                    expected: def.expected(),
                    found: value.to_string(),
                }))
            }
        };
        self.store(def, Some(value));
        Ok(())
    }

    /// Remove `name`, so that its default applies again.
    pub fn unset(&mut self, name: &str) -> Result<(), SettingsError> {
        let def = Settings::definition(name)?;
        self.store(def, None);
        Ok(())
    }

    fn store(&mut self, def: &SettingDef, value: Option<SettingValue>) {
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
        match self.dword_or_default("ClientAuthTrustMode") {
            1 => ClientAuthTrustMode::ExclusiveRootTrust,
            2 => ClientAuthTrustMode::ExclusiveCaTrust,
            _ => ClientAuthTrustMode::MachineTrust,
        }
    }

    /// `SendTrustedIssuerList`: whether a CertificateRequest names the accepted CAs.
    pub fn send_trusted_issuer_list(&self) -> bool {
        self.dword_or_default("SendTrustedIssuerList") != 0
    }

    /// `CertificateMappingMethods` bitmask.
    pub fn certificate_mapping_methods(&self) -> u32 {
        self.dword_or_default("CertificateMappingMethods")
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
        let name = match (role, client_auth) {
            (Role::Client, _) => "Messaging\\MessageLimitClient",
            (Role::Server, false) => "Messaging\\MessageLimitServer",
            (Role::Server, true) => "Messaging\\MessageLimitServerClientAuth",
        };
        self.dword_or_default(name)
    }

    /// `EnableOcspStaplingForSni`.
    pub fn ocsp_stapling_for_sni(&self) -> bool {
        self.dword_or_default("EnableOcspStaplingForSni") != 0
    }

    /// The `[EventLog]` section.
    pub fn event_log(&self) -> EventLogSettings {
        let retention = match self.value("EventLog\\Retention") {
            Ok(Some(SettingValue::Choice(c))) if c == "archive" => Retention::Archive,
            _ => Retention::Overwrite,
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

    /// The aws-lc-rs crypto provider for `role` with the settings' default protocols.
    /// See [`Settings::crypto_provider_for`].
    pub fn crypto_provider(&self, role: Role) -> Arc<CryptoProvider> {
        self.crypto_provider_for(&self.enabled_protocols(role))
    }

    /// The aws-lc-rs crypto provider whose cipher suites are those of `protocols` allowed
    /// by `Ciphers`, `Hashes` and `KeyExchangeAlgorithms`, ordered by `Functions` (when it
    /// is set, suites it does not list are disabled, as on Windows), and whose key-exchange
    /// groups follow `EccCurves`. It may have no suites at all: the caller reports that
    /// (36873 on a client, 36874 on a server).
    pub fn crypto_provider_for(&self, protocols: &[Protocol]) -> Arc<CryptoProvider> {
        Arc::new(CryptoProvider {
            cipher_suites: self.cipher_suites(protocols),
            kx_groups: self.kx_groups(),
            ..aws_lc_rs::default_provider()
        })
    }

    fn cipher_suites(&self, protocols: &[Protocol]) -> Vec<SupportedCipherSuite> {
        let allowed: Vec<CipherSuiteRow> = cipher_suite_table()
            .into_iter()
            .filter(|row| protocols.contains(&row.protocol))
            .filter(|row| row.cipher.is_none_or(|c| self.cipher_enabled(c)))
            .filter(|row| self.hash_enabled(row.hash))
            .filter(|row| {
                row.key_exchange
                    .is_none_or(|k| self.key_exchange_enabled(k))
            })
            .collect();
        if self.cipher_suite_order.is_empty() {
            return allowed.iter().map(|r| r.suite).collect();
        }
        let mut ordered: Vec<SupportedCipherSuite> = Vec::new();
        for name in &self.cipher_suite_order {
            let Some(row) = allowed.iter().find(|r| suite_name_matches(r.iana, name)) else {
                continue;
            };
            if !ordered.iter().any(|s| s.suite() == row.suite.suite()) {
                ordered.push(row.suite);
            }
        }
        ordered
    }

    fn kx_groups(&self) -> Vec<&'static dyn SupportedKxGroup> {
        let curves = self.ecc_curves();
        if curves.is_empty() {
            // The hybrid post-quantum group first, then the classical ones, as browsers do.
            let mut groups = vec![aws_lc_rs::kx_group::X25519MLKEM768];
            groups.extend(
                aws_lc_rs::default_provider()
                    .kx_groups
                    .into_iter()
                    .filter(|g| g.name() != aws_lc_rs::kx_group::X25519MLKEM768.name()),
            );
            return groups;
        }
        let mut groups: Vec<&'static dyn SupportedKxGroup> = Vec::new();
        for curve in &curves {
            if let Some(g) = kx_group_for_curve(curve) {
                if !groups.iter().any(|h| h.name() == g.name()) {
                    groups.push(g);
                }
            }
        }
        groups
    }

    /// What the crypto configuration ignores: suite names in `Functions` and curve names in
    /// `EccCurves` that this provider does not know or does not support.
    pub fn warnings(&self) -> Vec<SettingsWarning> {
        let table = cipher_suite_table();
        let mut out = Vec::new();
        for name in &self.cipher_suite_order {
            if !table.iter().any(|r| suite_name_matches(r.iana, name)) {
                out.push(SettingsWarning {
                    name: FUNCTIONS,
                    message: format!(
                        "cipher suite '{name}' is not supported by this provider; ignored"
                    ),
                });
            }
        }
        for curve in self.ecc_curves() {
            if kx_group_for_curve(&curve).is_none() {
                out.push(SettingsWarning {
                    name: ECC_CURVES,
                    message: format!("curve '{curve}' is not supported by this provider; ignored"),
                });
            }
        }
        out
    }
}

/// One cipher suite rustls (aws-lc-rs) speaks, with the settings that govern it.
#[derive(Clone, Copy)]
struct CipherSuiteRow {
    /// The IANA name, as `Functions` lists it.
    iana: &'static str,
    suite: SupportedCipherSuite,
    protocol: Protocol,
    /// The `Ciphers` key of its bulk cipher; ChaCha20-Poly1305 has none in Schannel's
    /// tree, so only `Functions` governs it.
    cipher: Option<&'static str>,
    /// The `Hashes` key of its PRF/HKDF hash.
    hash: &'static str,
    /// The `KeyExchangeAlgorithms` key of its key exchange: TLS 1.2 suites name ECDHE;
    /// TLS 1.3 suites carry no key exchange of their own.
    key_exchange: Option<&'static str>,
}

/// The one table of suites: IANA name → rustls suite and governing settings.
fn cipher_suite_table() -> [CipherSuiteRow; 9] {
    use aws_lc_rs::cipher_suite as cs;
    let row = |iana, suite, protocol, cipher, hash, key_exchange| CipherSuiteRow {
        iana,
        suite,
        protocol,
        cipher,
        hash,
        key_exchange,
    };
    let t13 = Protocol::Tls13;
    let t12 = Protocol::Tls12;
    let ecdh = Some("ECDH");
    let aes128 = Some("AES 128/128");
    let aes256 = Some("AES 256/256");
    [
        row(
            "TLS_AES_256_GCM_SHA384",
            cs::TLS13_AES_256_GCM_SHA384,
            t13,
            aes256,
            "SHA384",
            None,
        ),
        row(
            "TLS_AES_128_GCM_SHA256",
            cs::TLS13_AES_128_GCM_SHA256,
            t13,
            aes128,
            "SHA256",
            None,
        ),
        row(
            "TLS_CHACHA20_POLY1305_SHA256",
            cs::TLS13_CHACHA20_POLY1305_SHA256,
            t13,
            None,
            "SHA256",
            None,
        ),
        row(
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            t12,
            aes256,
            "SHA384",
            ecdh,
        ),
        row(
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            t12,
            aes128,
            "SHA256",
            ecdh,
        ),
        row(
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            t12,
            None,
            "SHA256",
            ecdh,
        ),
        row(
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            t12,
            aes256,
            "SHA384",
            ecdh,
        ),
        row(
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            t12,
            aes128,
            "SHA256",
            ecdh,
        ),
        row(
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
            t12,
            None,
            "SHA256",
            ecdh,
        ),
    ]
}

/// Whether a `Functions` entry names this suite. Windows 8.1-era lists append the curve
/// (`..._SHA384_P384`); the curve is governed by `EccCurves` here, so the suffix is ignored.
fn suite_name_matches(iana: &str, listed: &str) -> bool {
    let listed = listed.trim();
    let base = ["_P256", "_P384", "_P521"]
        .iter()
        .find_map(|s| {
            listed
                .len()
                .checked_sub(s.len())
                .filter(|&i| listed.is_char_boundary(i) && listed[i..].eq_ignore_ascii_case(s))
                .map(|i| &listed[..i])
        })
        .unwrap_or(listed);
    iana.eq_ignore_ascii_case(base)
}

/// `EccCurves` names → aws-lc-rs groups. `X25519MLKEM768` is our extension (Windows has
/// no name for the hybrid group).
fn kx_group_for_curve(name: &str) -> Option<&'static dyn SupportedKxGroup> {
    use aws_lc_rs::kx_group as kx;
    let table: [(&str, &'static dyn SupportedKxGroup); 4] = [
        ("curve25519", kx::X25519),
        ("NistP256", kx::SECP256R1),
        ("NistP384", kx::SECP384R1),
        ("X25519MLKEM768", kx::X25519MLKEM768),
    ];
    table
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
        .map(|(_, g)| *g)
}

/// Registry names use `\` (never `/`: `AES 128/128` contains one). The full registry
/// paths are accepted too, so a name copied from regedit or a `.reg` file works: the
/// SCHANNEL base key is dropped, and the cipher suite policy key
/// (`...\Cryptography\Configuration\SSL\00010002`) becomes `CipherSuiteOrder`.
pub fn normalise_name(name: &str) -> String {
    const ROOTS: [&str; 2] = ["HKEY_LOCAL_MACHINE\\", "HKLM\\"];
    const SCHANNEL: &str = "SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL";
    const SUITE_POLICY: &str =
        "SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002";
    fn strip<'a>(n: &'a str, prefix: &str) -> Option<&'a str> {
        (n.len() >= prefix.len()
            && n.is_char_boundary(prefix.len())
            && n[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &n[prefix.len()..])
    }
    let mut n = name.trim().trim_matches('\\');
    for root in ROOTS {
        if let Some(rest) = strip(n, root) {
            n = rest;
        }
    }
    if let Some(rest) = strip(n, SCHANNEL) {
        return rest.trim_start_matches('\\').to_string();
    }
    if let Some(rest) = strip(n, SUITE_POLICY) {
        return format!("CipherSuiteOrder{rest}");
    }
    n.to_string()
}

/// The canonical spelling of a group (a registry key that holds values), if it exists.
fn canonical_group(name: &str) -> Option<String> {
    let wanted: Vec<&str> = name.split('\\').collect();
    Settings::definitions().iter().find_map(|d| {
        let segs: Vec<&str> = d.segments().collect();
        (segs.len() > wanted.len()
            && segs
                .iter()
                .zip(&wanted)
                .all(|(a, b)| a.eq_ignore_ascii_case(b)))
        .then(|| segs[..wanted.len()].join("\\"))
    })
}

fn unknown_name(name: &str) -> SettingsError {
    let wanted = normalise_name(name).to_ascii_lowercase();
    let mut candidates: Vec<String> = Vec::new();
    for d in Settings::definitions() {
        let segs: Vec<&str> = d.segments().collect();
        for i in 1..=segs.len() {
            let c = segs[..i].join("\\");
            if !candidates.contains(&c) {
                candidates.push(c);
            }
        }
    }
    let mut scored: Vec<(f64, String)> = candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&wanted, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score > 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    SettingsError {
        file: None,
        position: None,
        name: Some(name.to_string()),
        problem: Box::new(SettingsProblem::UnknownName {
            suggestions: scored.into_iter().take(3).map(|(_, c)| c).collect(),
        }),
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// The table of every setting, with Windows' defaults (registry.md).
fn build_definitions() -> Vec<SettingDef> {
    const ANY: ValueKind = ValueKind::Dword {
        min: 0,
        max: u32::MAX,
    };
    let bits = ValueKind::Dword { min: 0, max: 16384 };
    let mut defs = Vec::new();
    let mut add = |name: String, kind, default: Option<u32>, note| {
        defs.push(SettingDef {
            name,
            kind,
            default: default.map(SettingValue::Dword),
            note,
        })
    };
    add(
        EVENT_LOGGING.into(),
        ValueKind::Dword { min: 0, max: 7 },
        Some(1),
        "0x1 errors, 0x2 warnings, 0x4 informational; 0 nothing, 7 everything",
    );
    for p in PROTOCOL_KEYS {
        for role in ["Client", "Server"] {
            add(
                format!("Protocols\\{p}\\{role}\\Enabled"),
                ANY,
                None,
                "0 disables the protocol; absent: the system default (enabled; only TLS 1.2 and 1.3 are spoken)",
            );
            add(
                format!("Protocols\\{p}\\{role}\\DisabledByDefault"),
                ANY,
                None,
                "non-zero: used only when a credential asks for it; absent: 0",
            );
        }
    }
    for c in CIPHER_KEYS {
        add(
            format!("Ciphers\\{c}\\Enabled"),
            ANY,
            Some(ENABLED_ALL),
            "0 disables the cipher; absent: enabled",
        );
    }
    for h in HASH_KEYS {
        add(
            format!("Hashes\\{h}\\Enabled"),
            ANY,
            Some(ENABLED_ALL),
            "0 disables suites using this hash; absent: enabled",
        );
    }
    for k in KEY_EXCHANGE_KEYS {
        add(
            format!("KeyExchangeAlgorithms\\{k}\\Enabled"),
            ANY,
            Some(ENABLED_ALL),
            "0 disables the key exchange; absent: enabled",
        );
    }
    add(
        "KeyExchangeAlgorithms\\Diffie-Hellman\\ServerMinKeyBitLength".into(),
        bits,
        Some(2048),
        "smallest DH group a server uses (rustls offers no finite-field DH suites)",
    );
    add(
        "KeyExchangeAlgorithms\\Diffie-Hellman\\ClientMinKeyBitLength".into(),
        bits,
        Some(1024),
        "smallest DH group a client accepts (rustls offers no finite-field DH suites)",
    );
    add(
        "KeyExchangeAlgorithms\\Diffie-Hellman\\ClientMaxKeyBitLength".into(),
        bits,
        None,
        "largest DH group a client accepts; absent: no maximum",
    );
    add(
        "KeyExchangeAlgorithms\\PKCS\\ClientMinKeyBitLength".into(),
        bits,
        Some(1024),
        "smallest RSA key-exchange key a client accepts (rustls offers no RSA key exchange)",
    );
    add(
        "ClientAuthTrustMode".into(),
        ValueKind::Dword { min: 0, max: 2 },
        Some(0),
        "0 Machine Trust, 1 Exclusive Root Trust, 2 Exclusive CA Trust",
    );
    add(
        "SendTrustedIssuerList".into(),
        ValueKind::Dword { min: 0, max: 1 },
        Some(0),
        "1: the CertificateRequest lists the accepted CAs",
    );
    add(
        "CertificateMappingMethods".into(),
        ValueKind::Dword { min: 0, max: 0x1f },
        Some(0x1f),
        "0x1 one-to-one, 0x2 many-to-one, 0x4 UPN, 0x8 S4U2Self, 0x10 S4U2Self explicit",
    );
    add(
        "ClientCacheTime".into(),
        ANY,
        Some(36_000_000),
        "client session cache lifetime in ms (10 hours); 0 disables it",
    );
    add(
        "ServerCacheTime".into(),
        ANY,
        Some(36_000_000),
        "server session cache lifetime in ms (10 hours); 0 disables it",
    );
    add(
        "MaximumCacheSize".into(),
        ANY,
        Some(20_000),
        "server session cache entries; 0 disables the server cache",
    );
    add(
        "IssuerCacheSize".into(),
        ANY,
        Some(100),
        "issuer cache entries",
    );
    add(
        "IssuerCacheTime".into(),
        ANY,
        Some(600_000),
        "issuer cache lifetime in ms (10 minutes)",
    );
    add(
        "Messaging\\MessageLimitClient".into(),
        ANY,
        Some(0x8000),
        "largest handshake message a client accepts",
    );
    add(
        "Messaging\\MessageLimitServer".into(),
        ANY,
        Some(0x4000),
        "largest handshake message a server accepts",
    );
    add(
        "Messaging\\MessageLimitServerClientAuth".into(),
        ANY,
        Some(0x8000),
        "largest handshake message a server asking for a client certificate accepts",
    );
    add(
        "EnableOcspStaplingForSni".into(),
        ValueKind::Dword { min: 0, max: 1 },
        Some(0),
        "1 staples OCSP responses for SNI bindings",
    );
    add(
        "EventLog\\MaxSize".into(),
        ValueKind::Dword {
            min: 65_536,
            max: u32::MAX,
        },
        Some(20 * 1024 * 1024),
        "largest size of the event log in bytes",
    );
    add(
        "EventLog\\FloodThreshold".into(),
        ANY,
        Some(10),
        "identical events past this many per window are folded into one; 0 never folds",
    );
    add(
        "EventLog\\FloodWindowSeconds".into(),
        ValueKind::Dword {
            min: 1,
            max: 86_400,
        },
        Some(60),
        "the flood-control window in seconds",
    );
    defs.push(SettingDef {
        name: FUNCTIONS.into(),
        kind: ValueKind::List,
        default: None,
        note: "comma-separated IANA cipher suite names, in order; suites not listed are disabled; absent: the built-in order",
    });
    defs.push(SettingDef {
        name: ECC_CURVES.into(),
        kind: ValueKind::MultiString,
        default: None,
        note: "curve order: curve25519, NistP256, NistP384; absent: X25519MLKEM768 then the classical curves",
    });
    defs.push(SettingDef {
        name: "EventLog\\Retention".into(),
        kind: ValueKind::Choice(&["overwrite", "archive"]),
        default: Some(SettingValue::Choice("overwrite".into())),
        note: "what happens when the log is full: overwrite the oldest, or archive it",
    });
    defs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Settings {
        Settings::parse(text, None).expect("test settings parse")
    }

    fn suite_names(p: &CryptoProvider) -> Vec<String> {
        p.cipher_suites
            .iter()
            .map(|s| format!("{:?}", s.suite()))
            .collect()
    }

    #[test]
    fn defaults_are_windows_defaults() {
        let s = Settings::default();
        assert_eq!(s.event_logging, EventLogging(1));
        assert_eq!(
            s.enabled_protocols(Role::Client),
            vec![Protocol::Tls13, Protocol::Tls12]
        );
        assert_eq!(
            s.client_auth_trust_mode(),
            ClientAuthTrustMode::MachineTrust
        );
        assert!(!s.send_trusted_issuer_list());
        assert_eq!(s.certificate_mapping_methods(), 0x1f);
        assert_eq!(
            s.session_cache_time(Role::Server),
            Duration::from_secs(36_000)
        );
        assert_eq!(s.maximum_cache_size(), 20_000);
        assert_eq!(s.issuer_cache(), (100, Duration::from_secs(600)));
        assert_eq!(s.message_limit(Role::Client, false), 0x8000);
        assert_eq!(s.message_limit(Role::Server, false), 0x4000);
        assert_eq!(s.message_limit(Role::Server, true), 0x8000);
        assert!(!s.ocsp_stapling_for_sni());
        let log = s.event_log();
        assert_eq!(log.max_size, 20_971_520);
        assert_eq!(log.retention, Retention::Overwrite);
        assert_eq!(log.flood_threshold, 10);
        assert_eq!(log.flood_window, Duration::from_secs(60));
        assert_eq!(
            s.value("KeyExchangeAlgorithms\\Diffie-Hellman\\ServerMinKeyBitLength")
                .unwrap(),
            Some(SettingValue::Dword(2048))
        );
        assert_eq!(s.crypto_provider(Role::Client).cipher_suites.len(), 9);
    }

    #[test]
    fn the_brief_example_parses() {
        let s = parse(
            r#"
EventLogging = 7
ClientAuthTrustMode = 0
SendTrustedIssuerList = 0
[Protocols."TLS 1.3".Server]
Enabled = 0
DisabledByDefault = 1
[Ciphers."AES 128/128"]
Enabled = 0
[Hashes.SHA384]
Enabled = 0
[KeyExchangeAlgorithms.ECDH]
Enabled = 0
[CipherSuiteOrder]
Functions = "TLS_AES_256_GCM_SHA384,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
EccCurves = ["curve25519", "NistP256"]
[EventLog]
MaxSize = 20971520
Retention = "archive"
FloodThreshold = 10
FloodWindowSeconds = 60
"#,
        );
        assert_eq!(s.event_logging, EventLogging(7));
        assert_eq!(s.enabled_protocols(Role::Server), vec![Protocol::Tls12]);
        assert_eq!(
            s.enabled_protocols(Role::Client),
            vec![Protocol::Tls13, Protocol::Tls12]
        );
        assert_eq!(s.event_log().retention, Retention::Archive);
        assert_eq!(s.cipher_suite_order.len(), 2);
        assert_eq!(s.ecc_curves(), vec!["curve25519", "NistP256"]);
    }

    // Protocol rules, one test per row of the registry.md table.
    #[test]
    fn protocol_enabled_and_not_disabled_by_default_is_enabled() {
        let s = parse("[Protocols.\"TLS 1.2\".Client]\nEnabled = 1\nDisabledByDefault = 0\n");
        assert_eq!(
            s.protocol_state("TLS 1.2", Role::Client),
            ProtocolState::Enabled
        );
    }

    #[test]
    fn protocol_enabled_zero_is_disabled_even_when_asked() {
        let s = parse("[Protocols.\"TLS 1.2\".Client]\nEnabled = 0\n");
        assert_eq!(
            s.protocol_state("TLS 1.2", Role::Client),
            ProtocolState::Disabled
        );
        assert_eq!(s.enabled_protocols(Role::Client), vec![Protocol::Tls13]);
        assert_eq!(
            s.protocols_for(Role::Client, &[Protocol::Tls12]),
            Vec::<Protocol>::new()
        );
        // The other role is untouched.
        assert_eq!(s.enabled_protocols(Role::Server).len(), 2);
    }

    #[test]
    fn protocol_disabled_by_default_needs_an_explicit_request() {
        let s =
            parse("[Protocols.\"TLS 1.3\".Server]\nEnabled = 0xffffffff\nDisabledByDefault = 1\n");
        assert_eq!(
            s.protocol_state("TLS 1.3", Role::Server),
            ProtocolState::DisabledByDefault
        );
        assert_eq!(s.enabled_protocols(Role::Server), vec![Protocol::Tls12]);
        assert_eq!(
            s.protocols_for(Role::Server, &[Protocol::Tls13]),
            vec![Protocol::Tls13]
        );
    }

    #[test]
    fn protocol_absent_is_the_default_and_legacy_ones_are_never_returned() {
        let s = parse("[Protocols.\"TLS 1.0\".Server]\nEnabled = 1\nDisabledByDefault = 0\n");
        assert_eq!(
            s.protocol_state("TLS 1.0", Role::Server),
            ProtocolState::Enabled
        );
        assert_eq!(
            s.enabled_protocols(Role::Server),
            vec![Protocol::Tls13, Protocol::Tls12]
        );
        assert_eq!(
            s.protocols_for(Role::Server, &[Protocol::Tls10, Protocol::Tls12]),
            vec![Protocol::Tls12]
        );
        assert_eq!(
            Settings::default().protocol_state("DTLS 1.2", Role::Client),
            ProtocolState::Enabled
        );
    }

    #[test]
    fn cipher_aes128_off_removes_aes128_suites() {
        let s = parse("[Ciphers.\"AES 128/128\"]\nEnabled = 0\n");
        let names = suite_names(&s.crypto_provider(Role::Client));
        assert_eq!(names.len(), 6);
        assert!(names.iter().all(|n| !n.contains("AES_128")), "{names:?}");
    }

    #[test]
    fn cipher_aes256_off_removes_aes256_suites() {
        let s = parse("[Ciphers.\"AES 256/256\"]\nEnabled = 0\n");
        let names = suite_names(&s.crypto_provider(Role::Client));
        assert_eq!(names.len(), 6);
        assert!(names.iter().all(|n| !n.contains("AES_256")), "{names:?}");
    }

    #[test]
    fn hash_sha384_off_removes_sha384_suites() {
        let s = parse("[Hashes.SHA384]\nEnabled = 0\n");
        let names = suite_names(&s.crypto_provider(Role::Server));
        assert_eq!(names.len(), 6);
        assert!(names.iter().all(|n| !n.ends_with("SHA384")), "{names:?}");
    }

    #[test]
    fn hash_sha256_off_removes_sha256_suites() {
        let s = parse("[Hashes.SHA256]\nEnabled = 0\n");
        let names = suite_names(&s.crypto_provider(Role::Server));
        assert_eq!(names.len(), 3);
        assert!(names.iter().all(|n| n.ends_with("SHA384")), "{names:?}");
    }

    #[test]
    fn ecdh_off_removes_tls12_suites_only() {
        let s = parse("[KeyExchangeAlgorithms.ECDH]\nEnabled = 0\n");
        let p = s.crypto_provider(Role::Client);
        assert_eq!(p.cipher_suites.len(), 3);
        assert!(p.cipher_suites.iter().all(|s| s.tls13().is_some()));
    }

    #[test]
    fn protocols_filter_suites() {
        let s = parse("[Protocols.\"TLS 1.3\".Client]\nEnabled = 0\n");
        let p = s.crypto_provider(Role::Client);
        assert_eq!(p.cipher_suites.len(), 6);
        assert!(p.cipher_suites.iter().all(|s| s.tls13().is_none()));
    }

    #[test]
    fn everything_off_leaves_no_suites() {
        let s = parse("[Ciphers.\"AES 128/128\"]\nEnabled = 0\n[Ciphers.\"AES 256/256\"]\nEnabled = 0\n[CipherSuiteOrder]\nFunctions = \"TLS_AES_128_GCM_SHA256\"\n");
        assert!(s.crypto_provider(Role::Client).cipher_suites.is_empty());
    }

    #[test]
    fn functions_orders_and_disables_unlisted_suites() {
        let s = parse("[CipherSuiteOrder]\nFunctions = \"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,TLS_RSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384_P384\"\n");
        let names = suite_names(&s.crypto_provider(Role::Client));
        assert_eq!(
            names,
            vec![
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS13_AES_256_GCM_SHA384",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
            ]
        );
        let warnings = s.warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("TLS_RSA_WITH_AES_256_CBC_SHA"));
    }

    #[test]
    fn every_suite_row_maps_its_iana_name() {
        for row in cipher_suite_table() {
            let mut s = Settings::default();
            s.set(FUNCTIONS, SettingValue::List(vec![row.iana.to_string()]))
                .unwrap();
            let p = s.crypto_provider_for(&[Protocol::Tls12, Protocol::Tls13]);
            assert_eq!(p.cipher_suites.len(), 1, "{}", row.iana);
            assert_eq!(p.cipher_suites[0].suite(), row.suite.suite());
            let rustls_name = format!("{:?}", row.suite.suite()).replace("TLS13_", "TLS_");
            assert_eq!(rustls_name, row.iana);
        }
    }

    #[test]
    fn ecc_curves_order_groups_and_drop_the_hybrid() {
        let s =
            parse("[CipherSuiteOrder]\nEccCurves = [\"NistP384\", \"curve25519\", \"NistP521\"]\n");
        let p = s.crypto_provider(Role::Client);
        let names: Vec<_> = p.kx_groups.iter().map(|g| g.name()).collect();
        assert_eq!(
            names,
            vec![rustls::NamedGroup::secp384r1, rustls::NamedGroup::X25519]
        );
        assert_eq!(s.warnings().len(), 1);
        let d = Settings::default().crypto_provider(Role::Client);
        assert_eq!(d.kx_groups[0].name(), rustls::NamedGroup::X25519MLKEM768);
        assert_eq!(d.kx_groups.len(), 4);
    }

    #[test]
    fn every_curve_row_maps() {
        for (name, group) in [
            ("curve25519", rustls::NamedGroup::X25519),
            ("NistP256", rustls::NamedGroup::secp256r1),
            ("NistP384", rustls::NamedGroup::secp384r1),
            ("X25519MLKEM768", rustls::NamedGroup::X25519MLKEM768),
        ] {
            assert_eq!(kx_group_for_curve(name).map(|g| g.name()), Some(group));
        }
    }

    #[test]
    fn unknown_key_is_an_error_with_suggestion_and_position() {
        let err = Settings::parse(
            "EventLogging = 1\n[Protocols.\"TLS 1.3\".Server]\nEnabld = 0\n",
            Some(Path::new("/x/settings.toml")),
        )
        .unwrap_err();
        assert_eq!(err.position, Some((3, 1)));
        assert_eq!(
            err.name.as_deref(),
            Some("Protocols\\TLS 1.3\\Server\\Enabld")
        );
        let SettingsProblem::UnknownName { suggestions } = &*err.problem else {
            panic!("{err:?}")
        };
        assert_eq!(suggestions[0], "Protocols\\TLS 1.3\\Server\\Enabled");
        let text = err.to_string();
        assert!(text.starts_with("/x/settings.toml:3:1: "), "{text}");
    }

    #[test]
    fn unknown_group_is_an_error() {
        let err =
            Settings::parse("[Protocol.\"TLS 1.3\".Server]\nEnabled = 0\n", None).unwrap_err();
        let SettingsProblem::UnknownName { suggestions } = &*err.problem else {
            panic!("{err:?}")
        };
        assert!(
            suggestions.iter().any(|s| s.starts_with("Protocols")),
            "{suggestions:?}"
        );
    }

    #[test]
    fn syntax_error_has_position_and_becomes_36866() {
        let err = Settings::parse("EventLogging = = 3\n", Some(Path::new("s.toml"))).unwrap_err();
        assert!(matches!(*err.problem, SettingsProblem::Syntax(_)));
        assert_eq!(err.position.map(|p| p.0), Some(1));
        let e = err.into_error();
        assert_eq!(e.event(), Some(EventId::PackageLoadFailed));
        assert_eq!(e.state(), Some(ErrorState::SettingsInvalid));
        assert!(e.to_string().contains("36866"));
    }

    #[test]
    fn out_of_range_and_wrong_type_are_errors() {
        let err = Settings::parse("EventLogging = 8\n", None).unwrap_err();
        assert!(matches!(
            *err.problem,
            SettingsProblem::OutOfRange { value: 8, .. }
        ));
        let err = Settings::parse("EventLogging = \"7\"\n", None).unwrap_err();
        assert!(matches!(*err.problem, SettingsProblem::WrongType { .. }));
        let err = Settings::parse("[EventLog]\nRetention = \"keep\"\n", None).unwrap_err();
        assert!(matches!(*err.problem, SettingsProblem::NotAChoice { .. }));
        let err = Settings::parse("[Ciphers.\"AES 128/128\"]\nEnabled = -1\n", None).unwrap_err();
        assert!(matches!(*err.problem, SettingsProblem::OutOfRange { .. }));
    }

    #[test]
    fn names_are_case_insensitive_and_accept_the_base_key() {
        let s = parse("eventlogging = 3\n[protocols.\"tls 1.3\".server]\nenabled = 0\n");
        assert_eq!(s.event_logging, EventLogging(3));
        assert_eq!(s.enabled_protocols(Role::Server), vec![Protocol::Tls12]);
        let d = Settings::definition(
            "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\EventLogging",
        )
        .unwrap();
        assert_eq!(d.name(), "EventLogging");
        let d = Settings::definition(
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002\\Functions",
        )
        .unwrap();
        assert_eq!(d.name(), "CipherSuiteOrder\\Functions");
        let d = Settings::definition(
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.0\\Server\\Enabled",
        )
        .unwrap();
        assert_eq!(d.name(), "Protocols\\TLS 1.0\\Server\\Enabled");
    }

    #[test]
    fn parse_value_takes_decimal_and_hex() {
        let d = Settings::definition("Ciphers\\AES 128/128\\Enabled").unwrap();
        assert_eq!(
            d.parse_value("0xffffffff").unwrap(),
            SettingValue::Dword(u32::MAX)
        );
        assert_eq!(d.parse_value("0").unwrap(), SettingValue::Dword(0));
        assert!(d.parse_value("0x1ffffffff").is_err());
        assert!(d.parse_value("yes").is_err());
    }

    #[test]
    fn set_and_unset_keep_fields_in_step() {
        let mut s = Settings::default();
        s.set("EventLogging", SettingValue::Dword(5)).unwrap();
        assert_eq!(s.event_logging, EventLogging(5));
        assert!(s.is_configured("EventLogging"));
        s.unset("EventLogging").unwrap();
        assert_eq!(s.event_logging, EventLogging(1));
        s.set(
            FUNCTIONS,
            SettingValue::List(vec!["TLS_AES_128_GCM_SHA256".into()]),
        )
        .unwrap();
        assert_eq!(s.cipher_suite_order, vec!["TLS_AES_128_GCM_SHA256"]);
        assert!(s.set("EventLogging", SettingValue::Dword(9)).is_err());
    }

    #[test]
    fn other_values_are_read() {
        let s = parse(
            "ClientAuthTrustMode = 2\nSendTrustedIssuerList = 1\nCertificateMappingMethods = 0x4\nServerCacheTime = 0\nMaximumCacheSize = 5\nEnableOcspStaplingForSni = 1\n[Messaging]\nMessageLimitServer = 0x10000\n",
        );
        assert_eq!(
            s.client_auth_trust_mode(),
            ClientAuthTrustMode::ExclusiveCaTrust
        );
        assert!(s.send_trusted_issuer_list());
        assert_eq!(s.certificate_mapping_methods(), 4);
        assert_eq!(s.session_cache_time(Role::Server), Duration::ZERO);
        assert_eq!(s.maximum_cache_size(), 5);
        assert!(s.ocsp_stapling_for_sni());
        assert_eq!(s.message_limit(Role::Server, false), 0x10000);
    }

    #[test]
    fn every_definition_has_a_toml_path() {
        for d in Settings::definitions() {
            assert!(d.segments().all(|s| !s.is_empty()), "{}", d.name());
            assert_eq!(Settings::definition(d.name()).unwrap().name(), d.name());
        }
        assert!(Settings::definitions().len() > 70);
    }
}
