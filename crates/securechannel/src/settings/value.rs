//! The value model: what kind of value a setting holds, the values, one setting's
//! definition (name, type, default, meaning) with its parsing, and why a value or a file
//! is refused.

use super::applies::{SettingApplication, SettingRule};
use crate::{Error, ErrorState};
use securechannel_events::{EventId, Status};
use std::fmt;
use std::path::PathBuf;

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
    pub(super) name: String,
    pub(super) kind: ValueKind,
    pub(super) default: Option<SettingValue>,
    pub(super) note: &'static str,
    /// How its values apply here (the decision table, see `applies`).
    pub(super) rule: SettingRule,
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

    /// How the setting applies here: enforced (where), or which values hold already and
    /// which are refused (the decision table).
    pub fn rule(&self) -> &SettingRule {
        &self.rule
    }

    /// What `value` does here (`None`: the setting is absent and its default applies).
    pub fn application(&self, value: Option<&SettingValue>) -> SettingApplication<'_> {
        self.rule.application(value, self.default.as_ref())
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

    /// Check `value` against the setting's type and range: the value to store, or why not.
    pub(super) fn check(&self, value: SettingValue) -> Result<SettingValue, SettingsError> {
        match (&value, self.kind) {
            (SettingValue::Dword(v), ValueKind::Dword { .. }) => self.check_dword(i128::from(*v)),
            // A registry string ends at its first NUL: one inside could not be exported.
            (SettingValue::List(items), ValueKind::List | ValueKind::MultiString)
                if items.iter().any(|i| i.contains('\0')) =>
            {
                Err(self.problem(SettingsProblem::WrongType {
                    expected: self.expected(),
                    found: "a string with a NUL character".to_string(),
                }))
            }
            (SettingValue::List(_), ValueKind::List | ValueKind::MultiString) => Ok(value),
            (SettingValue::Choice(c), ValueKind::Choice(choices)) => self.check_choice(c, choices),
            _ => Err(self.problem(SettingsProblem::WrongType {
                expected: self.expected(),
                found: value.to_string(),
            })),
        }
    }

    pub(super) fn check_dword(&self, v: i128) -> Result<SettingValue, SettingsError> {
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
        let value = SettingValue::Dword(v as u32);
        // Every DWORD enters through here (the file, `config set`, `Settings::set`): a
        // value that cannot apply is refused with the decision table's reason.
        if let Some(reason) = self.rule.refusal(&value, self.default.as_ref()) {
            return Err(self.problem(SettingsProblem::CannotApply {
                value: v as u32,
                reason,
            }));
        }
        Ok(value)
    }

    pub(super) fn check_choice(
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
    pub(super) fn read_toml(
        &self,
        value: &toml_edit::Value,
    ) -> Result<SettingValue, SettingsError> {
        use toml_edit::Value as V;
        match (self.kind, value) {
            (ValueKind::Dword { .. }, V::Integer(i)) => self.check_dword(i128::from(*i.value())),
            (ValueKind::List | ValueKind::MultiString, V::String(s)) => {
                self.check(SettingValue::List(split_list(s.value())))
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
                self.check(SettingValue::List(out))
            }
            (ValueKind::Choice(choices), V::String(s)) => self.check_choice(s.value(), choices),
            (_, other) => Err(self.problem(SettingsProblem::WrongType {
                expected: self.expected(),
                found: describe_toml(other).to_string(),
            })),
        }
    }

    pub(super) fn expected(&self) -> &'static str {
        match self.kind {
            ValueKind::Dword { .. } => "a DWORD (an integer)",
            ValueKind::List => "a string of comma-separated names",
            ValueKind::MultiString => "an array of strings",
            ValueKind::Choice(_) => "a string",
        }
    }

    pub(super) fn problem(&self, problem: SettingsProblem) -> SettingsError {
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

pub(super) fn split_list(s: &str) -> Vec<String> {
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
    /// The value is valid in the registry but cannot apply here (RC4, SSL 3.0, an issuer
    /// cache size, ...): the decision table's reason.
    CannotApply {
        /// The value given.
        value: u32,
        /// Why it cannot apply, and what is accepted instead.
        reason: String,
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
            SettingsProblem::CannotApply { value, reason } => {
                write!(f, "{value} cannot apply here: {reason}")
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
