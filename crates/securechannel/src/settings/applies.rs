//! How each setting takes effect here: the decision table, one [`SettingRule`] per definition
//! (registry.rs gives every definition its rule).
//!
//! Every value either takes effect or is refused; nothing is stored that does nothing. A
//! value that asks for what is true already (disabling SSL 3.0, which is never
//! negotiated; a minimum length for Diffie-Hellman keys, when no DH key exchange is ever
//! negotiated) is accepted, because the statement it makes about this machine holds. A
//! value that asks for what cannot be done (enabling RC4, a certificate mapping method,
//! an issuer cache size) is refused where values enter: `Settings::parse` (so loading a
//! `settings.toml` with it fails, 36866, with file, line and column), `Settings::set`, and
//! `SettingDef::parse_value` (`schannel config set`), with the rule's reason.

use super::value::SettingValue;
use std::fmt;

/// How a setting applies: every value, some values, or only the values that hold already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingRule {
    /// Every accepted value takes effect; `at` says where.
    Enforced {
        /// Where the value is applied (module and what it governs).
        at: &'static str,
    },
    /// The setting names something this provider never does: 0 (off) holds already, any
    /// other value is refused.
    OnlyOff {
        /// Why nothing else can apply ("RC4 128/128 is recognised and never negotiated ...").
        what: String,
    },
    /// Non-zero holds already; 0 asks for what cannot be done and is refused.
    OnlyOn {
        /// Why 0 cannot apply.
        what: String,
    },
    /// Every value holds already (a limit on something that never happens here).
    Holds {
        /// Why.
        what: &'static str,
    },
    /// A bitmask whose `enforced` bits take effect (`at` says where); a value with any
    /// other bit is refused (`what`), except the default, which is what an absent value
    /// means (its other bits then name what is not available, and nothing runs for them).
    Mask {
        /// Where the enforced bits apply.
        at: &'static str,
        /// The bits that take effect.
        enforced: u32,
        /// Why the other bits cannot apply.
        what: &'static str,
    },
    /// Only the default value is accepted (what the setting chooses is not implemented).
    OnlyDefault {
        /// Why nothing else can apply.
        what: &'static str,
    },
}

/// What one value of a setting does here, as `schannel config show` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingApplication<'a> {
    /// It takes effect; where.
    Enforced(&'a str),
    /// What it says is true already (the thing it names is never negotiated here).
    HoldsAlready(&'a str),
    /// It cannot apply here, and is refused where it is set; why.
    Refused(&'a str),
}

impl SettingApplication<'_> {
    /// `enforced`, `holds already` or `refused`, as `config show --json` names them.
    pub fn kind(&self) -> &'static str {
        match self {
            SettingApplication::Enforced(_) => "enforced",
            SettingApplication::HoldsAlready(_) => "holds already",
            SettingApplication::Refused(_) => "refused",
        }
    }

    /// Where it applies, or why it holds or is refused.
    pub fn detail(&self) -> &str {
        match self {
            SettingApplication::Enforced(s)
            | SettingApplication::HoldsAlready(s)
            | SettingApplication::Refused(s) => s,
        }
    }
}

impl fmt::Display for SettingApplication<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.detail())
    }
}

impl SettingRule {
    /// What `value` (`None`: absent, the default applies) does under this rule; `default`
    /// is the definition's default.
    pub(crate) fn application<'a>(
        &'a self,
        value: Option<&SettingValue>,
        default: Option<&SettingValue>,
    ) -> SettingApplication<'a> {
        let dword = value.or(default).and_then(SettingValue::as_dword);
        match self {
            SettingRule::Enforced { at } => SettingApplication::Enforced(at),
            SettingRule::Holds { what } => SettingApplication::HoldsAlready(what),
            // Absent, the thing is not used: that holds.
            SettingRule::OnlyOff { what } => match dword {
                None | Some(0) => SettingApplication::HoldsAlready(what),
                Some(_) => SettingApplication::Refused(what),
            },
            SettingRule::OnlyOn { what } => match dword {
                Some(0) => SettingApplication::Refused(what),
                _ => SettingApplication::HoldsAlready(what),
            },
            SettingRule::OnlyDefault { what } => match value {
                Some(v) if Some(v) != default => SettingApplication::Refused(what),
                _ => SettingApplication::HoldsAlready(what),
            },
            SettingRule::Mask { at, enforced, what } => match (value, dword) {
                (Some(v), Some(bits)) if Some(v) != default && bits & !enforced != 0 => {
                    SettingApplication::Refused(what)
                }
                _ => SettingApplication::Enforced(at),
            },
        }
    }

    /// Why `value` is refused, or `None` when it is accepted. `default` is the
    /// definition's default.
    pub(crate) fn refusal(
        &self,
        value: &SettingValue,
        default: Option<&SettingValue>,
    ) -> Option<String> {
        let accepts = match self {
            SettingRule::OnlyOff { .. } => "only 0 is accepted".to_string(),
            SettingRule::OnlyOn { .. } => "only a non-zero value is accepted".to_string(),
            SettingRule::OnlyDefault { .. } => match default {
                Some(SettingValue::Dword(d)) => format!("only the default ({d:#x}) is accepted"),
                Some(d) => format!("only the default ({d}) is accepted"),
                None => "only leaving it absent is accepted".to_string(),
            },
            SettingRule::Mask { enforced, .. } => match default {
                Some(SettingValue::Dword(d)) => {
                    format!("only the bits {enforced:#x}, or the default ({d:#x}), are accepted")
                }
                _ => format!("only the bits {enforced:#x} are accepted"),
            },
            SettingRule::Enforced { .. } | SettingRule::Holds { .. } => return None,
        };
        match self.application(Some(value), default) {
            SettingApplication::Refused(why) => Some(format!("{why}; {accepts}")),
            _ => None,
        }
    }
}
