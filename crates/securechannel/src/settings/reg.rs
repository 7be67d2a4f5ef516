//! `.reg` files: regedit's exports of the SCHANNEL key and of the cipher-suite policy key,
//! read as typed operations on the settings, and the settings written back as one.
//!
//! Reading takes two steps. [`RegFile::parse`] decodes the bytes, reads every line and
//! checks every value against the setting it names; it keeps the operations (set or unset
//! one setting, in file order) and the diagnostics (each line left out, and why).
//! [`Settings::apply_reg`] applies the operations and returns what changed. Nothing is left
//! out silently: apart from the header, blank lines, comments and key lines, every line is
//! an operation or a diagnostic.
//!
//! | in the file | read as |
//! |---|---|
//! | UTF-16LE after the byte-order mark FF FE (regedit's export) | text; UTF-16BE, UTF-32 and UTF-16 without a mark are refused |
//! | other bytes | UTF-8 when they are valid UTF-8 (ASCII is), else ANSI (Windows-1252) |
//! | `Windows Registry Editor Version 5.00` or `REGEDIT4` | the header, required first |
//! | `[HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\...]` | the settings of that key (`Protocols\TLS 1.0\Server\Enabled`, ...) |
//! | `[HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002]` | `Functions` and `EccCurves` (`CipherSuiteOrder\...`) |
//! | any other key | reported (each value line, or the key line if it has none) and left out |
//! | `"Name"=dword:00000001`, `hex(4):01,00,00,00` | REG_DWORD |
//! | `"Name"="text"`, `hex(1):...`, `hex(2):...` | REG_SZ, REG_EXPAND_SZ (nothing is expanded) |
//! | `"Name"=hex(7):...` | REG_MULTI_SZ: UTF-16LE under the 5.00 header, 8-bit under REGEDIT4 |
//! | `hex:`, `hex(N):` of other types | read, and reported: no setting takes them |
//! | `"Name"=-` / `[-KEY]` | unset the value / unset every setting under the key |
//! | `\` at the end of a line of hex data | the data goes on on the next line |
//! | `;` | a comment, to the end of the line |
//!
//! A value is applied only where its type fits the setting ([`SettingDef::kind`]): a
//! `dword:` for a DWORD setting, a string or a REG_MULTI_SZ for `Functions` and `EccCurves`,
//! a string for a choice; the range is checked as [`Settings::set`] checks it. A value
//! under a known key whose name this provider does not know, a type that does not fit and
//! a value out of range are reported for their line and not applied.
//!
//! [`Settings::to_reg`] writes what is configured the way regedit exports it: keys in the
//! order of [`Settings::definitions`], `dword:%08x`, `Functions` as REG_SZ, `EccCurves` as
//! `hex(7):` (UTF-16LE, lines wrapped with `\`), so that importing the export gives the same
//! settings.

use super::names::{line_column, unknown_name, SCHANNEL_KEY, SUITE_POLICY_KEY};
use super::value::{split_list, SettingDef, SettingValue, SettingsError, SettingsProblem};
use super::{Settings, ValueKind};
use std::fmt;
use std::path::{Path, PathBuf};

#[cfg(test)]
mod tests;

/// The header of regedit's Unicode exports (Windows 2000 and later).
const HEADER_V5: &str = "Windows Registry Editor Version 5.00";
/// The header of the older ANSI format.
const HEADER_V4: &str = "REGEDIT4";
/// The root both keys live under.
const ROOT: &str = "HKEY_LOCAL_MACHINE";
/// Its abbreviation, accepted as `reg.exe` accepts it.
const ROOT_SHORT: &str = "HKLM";
/// What the settings call the cipher-suite policy key.
const SUITE_ORDER_GROUP: &str = "CipherSuiteOrder";
/// Longest text quoted back in a message.
const EXCERPT_CHARS: usize = 40;
/// Longest line regedit writes before it continues hex data with `\`.
const LINE_WIDTH: usize = 80;

/// The text encoding of a `.reg` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegEncoding {
    /// UTF-16LE after the byte-order mark FF FE: what regedit writes.
    Utf16Le,
    /// 8-bit text. Read as UTF-8 when the bytes are valid UTF-8 (ASCII always is), else as
    /// Windows-1252, the ANSI code page of Western Windows. Written as ASCII (strings that are
    /// not ASCII are written as `hex(1):`), which every code page reads the same.
    Ansi,
}

/// The format a `.reg` file declares in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegFormat {
    /// `Windows Registry Editor Version 5.00`: strings in `hex(1)`, `hex(2)` and `hex(7)`
    /// data are UTF-16LE.
    Version5,
    /// `REGEDIT4`: strings in hex data are 8-bit.
    Regedit4,
}

/// A parsed `.reg` file: the operations on the settings, in file order, and the lines
/// left out.
#[derive(Debug, Clone)]
pub struct RegFile {
    file: Option<PathBuf>,
    encoding: RegEncoding,
    format: RegFormat,
    operations: Vec<RegOperation>,
    diagnostics: Vec<RegDiagnostic>,
}

/// One operation of a `.reg` file on one setting: set it, or unset it (`"Name"=-`, or a
/// `[-KEY]` the setting lives under).
#[derive(Debug, Clone)]
pub struct RegOperation {
    def: &'static SettingDef,
    value: Option<SettingValue>,
    line: usize,
}

/// A line of a `.reg` file that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegDiagnostic {
    /// The `.reg` file, when it was named to [`RegFile::parse`].
    pub file: Option<PathBuf>,
    /// The line (1-based).
    pub line: usize,
    /// The column (1-based, in characters), where one place in the line is at fault.
    pub column: Option<usize>,
    /// The key the line is under, as the file writes it.
    pub key: Option<String>,
    /// The value's name (`@` for the default value), when the line names one.
    pub value: Option<String>,
    /// What is wrong.
    pub problem: RegLineProblem,
}

/// Why a line of a `.reg` file was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegLineProblem {
    /// The line does not read as a `.reg` line.
    Syntax(RegSyntax),
    /// The key is outside the SCHANNEL key and the cipher-suite policy key.
    OutsideKey,
    /// The key is known but this provider has no setting of this name there.
    UnknownValue {
        /// Up to three settings with close names.
        suggestions: Vec<String>,
    },
    /// `CipherSuiteOrder` is this provider's name for the cipher-suite policy key; under
    /// SCHANNEL it is no Windows key.
    NotHere {
        /// The key the values belong under.
        belongs_under: String,
    },
    /// The registry type does not fit the setting.
    WrongType {
        /// What the setting takes.
        expected: &'static str,
        /// What the line has (type and value).
        found: String,
    },
    /// The value has the right type but the setting refuses it (out of range, not one of
    /// the choices).
    Refused(SettingsError),
    /// A value before any `[KEY]` line.
    BeforeAnyKey,
    /// A value under a key that the file deletes (`[-KEY]`).
    UnderDeletedKey {
        /// The line of the `[-KEY]`.
        key_line: usize,
    },
    /// A value under a key line that could not be read.
    UnderUnreadKey {
        /// The line of the key.
        key_line: usize,
    },
    /// `[-KEY]` inside the SCHANNEL key or the policy key, but no setting lives under it.
    NothingToDelete,
}

/// What is malformed in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegSyntax {
    /// `[` without a closing `]`.
    UnclosedKey,
    /// `[]` or `[-]`.
    EmptyKey,
    /// A key path with `\\` (an empty key name) in it.
    EmptyKeySegment,
    /// A value line whose name is not a closed `"..."` (or `@`).
    UnclosedName,
    /// No `=` after the value's name.
    MissingEquals,
    /// A string value without its closing `"`.
    UnclosedString,
    /// Text after the value (or after the key's `]`) that is not a `;` comment.
    TrailingText(String),
    /// `dword:` not followed by 1 to 8 hex digits.
    BadDword(String),
    /// `hex(...)` whose type is not a hex number.
    BadHexType(String),
    /// Something in hex data that is not a hex byte.
    BadHexByte(String),
    /// Two hex bytes without a `,` between them.
    MissingComma,
    /// Hex data that ends with `,` (a missing `\`, or a file cut short).
    HexTrailingComma,
    /// A value that is none of `"string"`, `dword:`, `hex:`, `hex(N):`, `-`.
    UnknownType(String),
    /// A line ending in `\` at the end of the file.
    ContinuedPastEnd,
    /// UTF-16LE string data with an odd number of bytes.
    OddUtf16Length(usize),
    /// UTF-16LE string data with an unpaired surrogate.
    InvalidUtf16,
    /// A `hex(4)` (REG_DWORD) that is not 4 bytes long.
    DwordLength(usize),
    /// A line that is no key, value, comment or header.
    Unrecognised(String),
}

/// Why a `.reg` file cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegError {
    /// The file, when it was named to [`RegFile::parse`].
    pub file: Option<PathBuf>,
    /// Line and column (1-based), where one place is at fault.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub problem: RegFileProblem,
}

/// What makes a `.reg` file unreadable.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegFileProblem {
    /// No bytes, or only blank lines.
    Empty,
    /// An encoding regedit does not write (UTF-16BE, UTF-32, UTF-16 without a mark).
    UnsupportedEncoding(&'static str),
    /// UTF-16LE with an odd number of bytes: the file is cut short.
    TruncatedUtf16 {
        /// The file's size.
        bytes: usize,
    },
    /// UTF-16LE with an unpaired surrogate.
    InvalidUtf16,
    /// A UTF-8 byte-order mark followed by bytes that are not UTF-8.
    InvalidUtf8,
    /// A NUL character in the text.
    NulCharacter,
    /// The first line is not `Windows Registry Editor Version 5.00` or `REGEDIT4`.
    NoHeader {
        /// The first line (its beginning).
        found: String,
    },
}

/// Where an imported value came from: the `.reg` file and line, as `settings.toml` records
/// it after the value (`Enabled = 0  # imported from hardening.reg line 12`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The `.reg` file, as it was named to the import.
    pub file: PathBuf,
    /// The line of the value (or of the `[-KEY]`).
    pub line: usize,
}

/// One change [`Settings::apply_reg`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Change {
    /// The setting's canonical name (`Protocols\TLS 1.0\Server\Enabled`).
    pub name: &'static str,
    /// The configured value before (`None`: not configured, the default applied).
    pub before: Option<SettingValue>,
    /// The configured value after (`None`: unset).
    pub after: Option<SettingValue>,
    /// The line of the `.reg` file that made the change.
    pub line: usize,
    /// The file and line, when the file was named (for a set value: what
    /// [`Settings::source`] returns for it now).
    pub source: Option<Source>,
}

impl RegFile {
    /// Read a `.reg` file's bytes (`file` names it in diagnostics and sources).
    ///
    /// Fails only when the file is not a registry script at all (an encoding regedit does
    /// not write, text that does not decode, no header); each bad line is a diagnostic
    /// instead, and the other lines are still read.
    pub fn parse(bytes: &[u8], file: Option<&Path>) -> Result<RegFile, RegError> {
        let fail = |problem, position| RegError {
            file: file.map(Path::to_path_buf),
            position,
            problem,
        };
        let (text, encoding) = decode(bytes).map_err(|(p, at)| fail(p, at))?;
        // The line end of the last line ends it: no empty line follows.
        let body = text.strip_suffix('\n').unwrap_or(&text);
        let lines: Vec<&str> = body
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let Some(first) = lines.iter().position(|l| !l.trim().is_empty()) else {
            return Err(fail(RegFileProblem::Empty, None));
        };
        let format = header(lines[first]).ok_or_else(|| {
            fail(
                RegFileProblem::NoHeader {
                    found: excerpt(lines[first].trim()),
                },
                Some((first + 1, 1)),
            )
        })?;
        let mut reader = Reader {
            file,
            format,
            lines: &lines,
            next: first + 1,
            current: Current::None,
            operations: Vec::new(),
            diagnostics: Vec::new(),
        };
        reader.read();
        let Reader {
            operations,
            mut diagnostics,
            ..
        } = reader;
        diagnostics.sort_by_key(|d| d.line);
        Ok(RegFile {
            file: file.map(Path::to_path_buf),
            encoding,
            format,
            operations,
            diagnostics,
        })
    }

    /// The file named to [`RegFile::parse`].
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The encoding the file was read in.
    pub fn encoding(&self) -> RegEncoding {
        self.encoding
    }

    /// The format its header declares.
    pub fn format(&self) -> RegFormat {
        self.format
    }

    /// The operations on the settings, in file order.
    pub fn operations(&self) -> &[RegOperation] {
        &self.operations
    }

    /// The lines left out, in line order.
    pub fn diagnostics(&self) -> &[RegDiagnostic] {
        &self.diagnostics
    }
}

impl RegOperation {
    /// The setting's canonical name.
    pub fn name(&self) -> &'static str {
        &self.def.name
    }

    /// The value to set; `None` unsets the setting.
    pub fn value(&self) -> Option<&SettingValue> {
        self.value.as_ref()
    }

    /// The line of the `.reg` file.
    pub fn line(&self) -> usize {
        self.line
    }
}

impl Source {
    /// A source: `file`, line `line`.
    pub fn new(file: impl Into<PathBuf>, line: usize) -> Source {
        Source {
            file: file.into(),
            line,
        }
    }

    /// The comment `settings.toml` carries after an imported value:
    /// `# imported from hardening.reg line 12`. Control characters in the file's name
    /// (a newline would end the comment) are written as `?`.
    pub fn comment(&self) -> String {
        let file: String = self
            .file
            .to_string_lossy()
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        format!("# imported from {file} line {}", self.line)
    }

    /// The source a comment written by [`Source::comment`] names (surrounding blanks
    /// allowed); `None` for any other comment.
    pub fn from_comment(comment: &str) -> Option<Source> {
        let text = comment.trim().strip_prefix('#')?.trim();
        let (file, line) = text.strip_prefix("imported from ")?.rsplit_once(" line ")?;
        let line = line.trim().parse().ok()?;
        (!file.is_empty()).then(|| Source::new(file, line))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} line {}", self.file.display(), self.line)
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let was = match &self.before {
            Some(v) => v.to_string(),
            None => "default".to_string(),
        };
        match &self.after {
            Some(v) => write!(f, "set {} = {v} (was: {was})", self.name),
            None => write!(f, "unset {} (was: {was})", self.name),
        }
    }
}

impl Settings {
    /// Apply a parsed `.reg` file's operations, in order, and say what changed: a value set
    /// to what it already is, or a setting unset that was not configured, is no change.
    /// Each value set records its [`Source`] when the file was named.
    ///
    /// The values were checked against their settings when the file was parsed, so
    /// nothing here can fail; the lines left out are [`RegFile::diagnostics`].
    pub fn apply_reg(&mut self, reg: &RegFile) -> Vec<Change> {
        let mut changes = Vec::new();
        for op in &reg.operations {
            let before = self.configured_value(op.def);
            if before == op.value {
                continue;
            }
            self.store(op.def, op.value.clone());
            let source = reg.file().map(|f| Source::new(f, op.line));
            if let (Some(_), Some(s)) = (&op.value, &source) {
                self.sources.insert(op.def.name.clone(), s.clone());
            }
            changes.push(Change {
                name: op.name(),
                before,
                after: op.value.clone(),
                line: op.line,
                source,
            });
        }
        changes
    }

    /// The configured settings as a `.reg` file regedit imports: the header `Windows
    /// Registry Editor Version 5.00`, CRLF line ends, one `[KEY]` per registry key in the
    /// order of [`Settings::definitions`], `dword:%08x`, `Functions` and choices as strings,
    /// `EccCurves` as `hex(7):` (UTF-16LE, wrapped at 80 columns). Values not configured
    /// are not written: importing the file sets exactly what is configured here.
    ///
    /// `EventLog\...` (ours, not Windows') is written under `SCHANNEL\EventLog`, where an
    /// import reads it back.
    pub fn to_reg(&self, encoding: RegEncoding) -> Vec<u8> {
        let mut keys: Vec<(String, Vec<String>)> = Vec::new();
        for def in Settings::definitions() {
            if !self.is_configured(&def.name) {
                continue;
            }
            // A definition's own name always resolves; `None` is a value nothing stands
            // for, which is then not configured either.
            let Ok(Some(value)) = self.value(&def.name) else {
                continue;
            };
            let (key, name) = registry_key(def);
            let line = value_line(name, def.kind, &value, encoding);
            match keys.iter_mut().find(|(k, _)| *k == key) {
                Some((_, lines)) => lines.push(line),
                None => keys.push((key, vec![line])),
            }
        }
        let mut text = format!("{HEADER_V5}\r\n");
        for (key, lines) in keys {
            text.push_str(&format!("\r\n[{key}]\r\n"));
            for line in lines {
                text.push_str(&line);
                text.push_str("\r\n");
            }
        }
        text.push_str("\r\n");
        match encoding {
            RegEncoding::Ansi => text.into_bytes(),
            RegEncoding::Utf16Le => {
                let mut out = vec![0xFF, 0xFE];
                out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
                out
            }
        }
    }

    /// The configured value of `def` (`None`: not configured).
    fn configured_value(&self, def: &SettingDef) -> Option<SettingValue> {
        if !self.is_configured(&def.name) {
            return None;
        }
        self.value(&def.name).ok().flatten()
    }
}

// ---- decoding --------------------------------------------------------------------------

type DecodeError = (RegFileProblem, Option<(usize, usize)>);

/// The file's text and encoding.
fn decode(bytes: &[u8]) -> Result<(String, RegEncoding), DecodeError> {
    let unsupported = |what| Err((RegFileProblem::UnsupportedEncoding(what), None));
    if bytes.is_empty() {
        return Err((RegFileProblem::Empty, None));
    }
    // UTF-32LE's mark starts with UTF-16LE's: test it first.
    if bytes.starts_with(&[0xFF, 0xFE, 0, 0]) {
        return unsupported("UTF-32LE");
    }
    if bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return unsupported("UTF-32BE");
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return unsupported("UTF-16BE");
    }
    let (text, encoding) = if let Some(body) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        (utf16le(body, bytes.len())?, RegEncoding::Utf16Le)
    } else if let Some(body) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        match std::str::from_utf8(body) {
            Ok(t) => (t.to_string(), RegEncoding::Ansi),
            Err(e) => {
                let valid = String::from_utf8_lossy(&body[..e.valid_up_to()]);
                let at = line_column(&valid, valid.len());
                return Err((RegFileProblem::InvalidUtf8, Some(at)));
            }
        }
    } else {
        match bytes {
            [a, 0, ..] if *a != 0 => return unsupported("UTF-16LE without a byte-order mark"),
            [0, b, ..] if *b != 0 => return unsupported("UTF-16BE without a byte-order mark"),
            _ => {}
        }
        match std::str::from_utf8(bytes) {
            Ok(t) => (t.to_string(), RegEncoding::Ansi),
            Err(_) => (windows_1252(bytes), RegEncoding::Ansi),
        }
    };
    if let Some(at) = text.find('\0') {
        return Err((RegFileProblem::NulCharacter, Some(line_column(&text, at))));
    }
    Ok((text, encoding))
}

fn utf16le(body: &[u8], size: usize) -> Result<String, DecodeError> {
    if !body.len().is_multiple_of(2) {
        return Err((RegFileProblem::TruncatedUtf16 { bytes: size }, None));
    }
    let units = body
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]));
    let mut text = String::with_capacity(body.len() / 2);
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => text.push(c),
            Err(_) => {
                let at = line_column(&text, text.len());
                return Err((RegFileProblem::InvalidUtf16, Some(at)));
            }
        }
    }
    Ok(text)
}

/// Windows-1252: Latin-1 but for 0x80..=0x9F. The five bytes it leaves undefined map to
/// the C1 controls of the same value, as Windows' own conversion does.
fn windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '\u{20AC}', '\u{0081}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}',
        '\u{2021}', '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{008D}',
        '\u{017D}', '\u{008F}', '\u{0090}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}',
        '\u{2022}', '\u{2013}', '\u{2014}', '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}',
        '\u{0153}', '\u{009D}', '\u{017E}', '\u{0178}',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

fn header(line: &str) -> Option<RegFormat> {
    let t = line.trim().trim_start_matches('\u{FEFF}').trim();
    if t.eq_ignore_ascii_case(HEADER_V5) {
        Some(RegFormat::Version5)
    } else if t.eq_ignore_ascii_case(HEADER_V4) {
        Some(RegFormat::Regedit4)
    } else {
        None
    }
}

// ---- reading lines ---------------------------------------------------------------------

/// Where a key sits in the registry, relative to the two keys the settings live in.
#[derive(Debug, Clone)]
enum Place {
    /// Under SCHANNEL, with the key names below it.
    Schannel(Vec<String>),
    /// Under the cipher-suite policy key, with the key names below it.
    SuitePolicy(Vec<String>),
    /// Above either (or both): deleting it deletes them.
    Ancestor { schannel: bool, suite_policy: bool },
    /// Anywhere else.
    Outside,
}

/// The key the lines being read are under.
enum Current {
    /// Before the first key line.
    None,
    /// `[KEY]`; `values` counts the value lines read under it.
    Key {
        line: usize,
        path: String,
        place: Place,
        values: usize,
    },
    /// `[-KEY]`.
    Deleted { line: usize, path: String },
    /// A key line that could not be read.
    Unread { line: usize },
}

/// A value's name: `"Name"` or `@` (the key's default value).
enum ValueName {
    Named(String),
    Default,
}

impl ValueName {
    fn shown(&self) -> String {
        match self {
            ValueName::Named(n) => n.clone(),
            ValueName::Default => "@".to_string(),
        }
    }
}

/// A value's data as the line writes it.
enum RawData {
    Delete,
    String(String),
    Dword(u32),
    Hex { kind: u32, bytes: Vec<u8> },
}

/// A value's data as the registry types it.
enum RegValue {
    Sz(String),
    ExpandSz(String),
    MultiSz(Vec<String>),
    Dword(u32),
    Other { kind: u32, len: usize },
}

/// A syntax error at a line and column.
struct SyntaxAt {
    syntax: RegSyntax,
    line: usize,
    column: usize,
}

struct Reader<'a> {
    file: Option<&'a Path>,
    format: RegFormat,
    lines: &'a [&'a str],
    /// The index of the next line to read (its number is one more).
    next: usize,
    current: Current,
    operations: Vec<RegOperation>,
    diagnostics: Vec<RegDiagnostic>,
}

impl<'a> Reader<'a> {
    fn read(&mut self) {
        while let Some((number, line)) = self.next_line() {
            let t = line.trim_start();
            match t.chars().next() {
                None | Some(';') => {}
                Some('[') => self.key_line(number, line),
                Some('"' | '@') => self.value_line(number, line),
                // Files pasted together repeat the header.
                _ if header(t).is_some() => {}
                _ => {
                    let column = column(line, line.len() - t.len());
                    self.report_syntax(number, column, None, RegSyntax::Unrecognised(excerpt(t)));
                }
            }
        }
        self.end_key();
    }

    /// The next line and its number (1-based).
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        let line = self.lines.get(self.next)?;
        self.next += 1;
        Some((self.next, line))
    }

    fn report(
        &mut self,
        line: usize,
        column: Option<usize>,
        value: Option<String>,
        problem: RegLineProblem,
    ) {
        let key = match &self.current {
            Current::Key { path, .. } | Current::Deleted { path, .. } => Some(path.clone()),
            Current::None | Current::Unread { .. } => None,
        };
        self.diagnostics.push(RegDiagnostic {
            file: self.file.map(Path::to_path_buf),
            line,
            column,
            key,
            value,
            problem,
        });
    }

    fn report_syntax(
        &mut self,
        line: usize,
        column: usize,
        value: Option<String>,
        syntax: RegSyntax,
    ) {
        self.report(line, Some(column), value, RegLineProblem::Syntax(syntax));
    }

    /// The key being read ends: a key outside the tree with no values is reported on its
    /// own line (one with values has each value reported).
    fn end_key(&mut self) {
        if let Current::Key {
            line,
            place: Place::Outside | Place::Ancestor { .. },
            values: 0,
            ..
        } = self.current
        {
            self.report(line, None, None, RegLineProblem::OutsideKey);
        }
    }

    fn key_line(&mut self, number: usize, line: &'a str) {
        self.end_key();
        // Until the line is read: values under a key that cannot be read are reported.
        self.current = Current::Unread { line: number };
        // After the `[` (one byte) that the caller saw first.
        let inner_start = line.len() - line.trim_start().len() + 1;
        let body = &line[inner_start..];
        // The key ends at the first `]` followed by nothing but blanks or a comment (a key
        // name may itself contain `]`).
        let close = body
            .match_indices(']')
            .map(|(i, _)| i)
            .find(|&i| blank_or_comment(&body[i + 1..]));
        let Some(close) = close else {
            let (syntax, at) = match body.rfind(']') {
                Some(i) => {
                    let after = &body[i + 1..];
                    let text = after.trim_start();
                    let at = inner_start + i + 1 + (after.len() - text.len());
                    (RegSyntax::TrailingText(excerpt(text.trim_end())), at)
                }
                None => (RegSyntax::UnclosedKey, line.trim_end().len()),
            };
            self.report_syntax(number, column(line, at), None, syntax);
            return;
        };
        let inner = &body[..close];
        let (delete, path) = match inner.strip_prefix('-') {
            Some(p) => (true, p),
            None => (false, inner),
        };
        let path = path.trim().trim_end_matches('\\');
        let problem = if path.is_empty() {
            Some(RegSyntax::EmptyKey)
        } else if path.split('\\').any(str::is_empty) {
            Some(RegSyntax::EmptyKeySegment)
        } else {
            None
        };
        if let Some(syntax) = problem {
            self.report_syntax(number, column(line, inner_start), None, syntax);
            return;
        }
        let segments: Vec<&str> = path.split('\\').collect();
        let place = place(&segments);
        if delete {
            self.current = Current::Deleted {
                line: number,
                path: path.to_string(),
            };
            self.delete_key(number, &place);
        } else {
            self.current = Current::Key {
                line: number,
                path: path.to_string(),
                place,
                values: 0,
            };
        }
    }

    /// `[-KEY]`: unset every setting under it.
    fn delete_key(&mut self, number: usize, place: &Place) {
        let defs = Settings::definitions();
        let under: Vec<&'static SettingDef> = match place {
            Place::Outside => {
                self.report(number, None, None, RegLineProblem::OutsideKey);
                return;
            }
            Place::Schannel(keys) => defs
                .iter()
                .filter(|d| !in_suite_policy(d) && key_contains(keys, d))
                .collect(),
            Place::SuitePolicy(keys) if keys.is_empty() => {
                defs.iter().filter(|d| in_suite_policy(d)).collect()
            }
            Place::SuitePolicy(_) => Vec::new(),
            Place::Ancestor {
                schannel,
                suite_policy,
            } => defs
                .iter()
                .filter(|d| {
                    if in_suite_policy(d) {
                        *suite_policy
                    } else {
                        *schannel
                    }
                })
                .collect(),
        };
        if under.is_empty() {
            self.report(number, None, None, RegLineProblem::NothingToDelete);
        }
        for def in under {
            self.operations.push(RegOperation {
                def,
                value: None,
                line: number,
            });
        }
    }

    fn value_line(&mut self, number: usize, line: &'a str) {
        let start = line.len() - line.trim_start().len();
        let (name, data) = match self.read_value(number, line, start) {
            Ok(read) => read,
            Err((e, name)) => {
                self.report_syntax(e.line, e.column, name.map(|n| n.shown()), e.syntax);
                return;
            }
        };
        let place = match &mut self.current {
            Current::Key { place, values, .. } => {
                *values += 1;
                place.clone()
            }
            Current::None => {
                self.report(
                    number,
                    None,
                    Some(name.shown()),
                    RegLineProblem::BeforeAnyKey,
                );
                return;
            }
            Current::Deleted { line, .. } => {
                let problem = RegLineProblem::UnderDeletedKey { key_line: *line };
                self.report(number, None, Some(name.shown()), problem);
                return;
            }
            Current::Unread { line } => {
                let problem = RegLineProblem::UnderUnreadKey { key_line: *line };
                self.report(number, None, Some(name.shown()), problem);
                return;
            }
        };
        let resolved = match &place {
            Place::Schannel(keys) => resolve_schannel(keys, &name),
            Place::SuitePolicy(keys) => resolve_suite_policy(keys, &name),
            Place::Ancestor { .. } | Place::Outside => Err(RegLineProblem::OutsideKey),
        };
        let def = match resolved {
            Ok(def) => def,
            Err(problem) => {
                self.report(number, None, Some(name.shown()), problem);
                return;
            }
        };
        let value = match reg_value(data, self.format) {
            Ok(None) => None,
            Ok(Some(reg)) => match setting_value(def, reg) {
                Ok(v) => Some(v),
                Err(problem) => {
                    self.report(number, None, Some(name.shown()), problem);
                    return;
                }
            },
            Err(problem) => {
                self.report(number, None, Some(name.shown()), problem);
                return;
            }
        };
        self.operations.push(RegOperation {
            def,
            value,
            line: number,
        });
    }

    /// `"Name"=data` or `@=data`, from byte `start` of the line; hex data may go on over
    /// the lines after it.
    #[allow(clippy::type_complexity)] // the error carries the name when it was read
    fn read_value(
        &mut self,
        number: usize,
        line: &'a str,
        start: usize,
    ) -> Result<(ValueName, RawData), (SyntaxAt, Option<ValueName>)> {
        let at = |syntax, byte: usize| SyntaxAt {
            syntax,
            line: number,
            column: column(line, byte),
        };
        let (name, mut pos) = if line[start..].starts_with('@') {
            (ValueName::Default, start + 1)
        } else {
            match quoted(&line[start..]) {
                Some((name, used)) => (ValueName::Named(name), start + used),
                None => {
                    self.skip_continued(line);
                    return Err((at(RegSyntax::UnclosedName, start), None));
                }
            }
        };
        pos = skip_blanks(line, pos);
        if !line[pos..].starts_with('=') {
            self.skip_continued(line);
            return Err((at(RegSyntax::MissingEquals, pos), Some(name)));
        }
        pos = skip_blanks(line, pos + 1);
        match self.read_data(number, line, pos) {
            Ok(data) => Ok((name, data)),
            Err(e) => Err((e, Some(name))),
        }
    }

    fn read_data(&mut self, number: usize, line: &'a str, pos: usize) -> Result<RawData, SyntaxAt> {
        let at = |syntax, byte: usize| SyntaxAt {
            syntax,
            line: number,
            column: column(line, byte),
        };
        let rest = &line[pos..];
        let end = |after: usize| -> Result<(), SyntaxAt> {
            let tail = &line[after..];
            if blank_or_comment(tail) {
                return Ok(());
            }
            let text = tail.trim_start();
            Err(at(
                RegSyntax::TrailingText(excerpt(text.trim_end())),
                after + (tail.len() - text.len()),
            ))
        };
        if rest.starts_with('-') {
            end(pos + 1)?;
            return Ok(RawData::Delete);
        }
        if rest.starts_with('"') {
            let (s, used) = quoted(rest).ok_or_else(|| at(RegSyntax::UnclosedString, pos))?;
            end(pos + used)?;
            return Ok(RawData::String(s));
        }
        if starts_with_ignore_case(rest, "dword:") {
            let digits_at = pos + "dword:".len();
            let digits = line[digits_at..]
                .bytes()
                .take_while(u8::is_ascii_hexdigit)
                .count();
            let bad = || at(RegSyntax::BadDword(excerpt(&line[digits_at..])), digits_at);
            if digits == 0 || digits > 8 {
                return Err(bad());
            }
            let v =
                u32::from_str_radix(&line[digits_at..digits_at + digits], 16).map_err(|_| bad())?;
            end(digits_at + digits)?;
            return Ok(RawData::Dword(v));
        }
        if starts_with_ignore_case(rest, "hex:") {
            let bytes = self.hex_bytes(number, line, pos + "hex:".len())?;
            return Ok(RawData::Hex { kind: 3, bytes });
        }
        if starts_with_ignore_case(rest, "hex(") {
            let type_at = pos + "hex(".len();
            let Some(close) = line[type_at..].find("):") else {
                self.skip_continued(line);
                return Err(at(
                    RegSyntax::BadHexType(excerpt(&line[type_at..])),
                    type_at,
                ));
            };
            let digits = &line[type_at..type_at + close];
            let kind = (!digits.is_empty() && digits.len() <= 8)
                .then(|| u32::from_str_radix(digits, 16).ok())
                .flatten();
            let Some(kind) = kind else {
                self.skip_continued(line);
                return Err(at(RegSyntax::BadHexType(excerpt(digits)), type_at));
            };
            let bytes = self.hex_bytes(number, line, type_at + close + "):".len())?;
            return Ok(RawData::Hex { kind, bytes });
        }
        let word: String = rest.chars().take_while(|&c| c != ':').collect();
        self.skip_continued(line);
        Err(at(RegSyntax::UnknownType(excerpt(&word)), pos))
    }

    /// Hex bytes (`01,02,...`) from byte `start` of the line, going on over the lines
    /// after it while a line ends with `\`.
    fn hex_bytes(
        &mut self,
        number: usize,
        line: &'a str,
        start: usize,
    ) -> Result<Vec<u8>, SyntaxAt> {
        #[derive(PartialEq)]
        enum Expect {
            FirstByte,
            CommaOrEnd,
            Byte,
        }
        let mut bytes = Vec::new();
        let mut expect = Expect::FirstByte;
        let (mut number, mut line, mut from) = (number, line, start);
        loop {
            let data = &line[from..];
            // Hex data holds no `;`: what follows one is a comment.
            let data = data.find(';').map_or(data, |i| &data[..i]).trim_end();
            let (data, continued) = match data.strip_suffix('\\') {
                Some(d) => (d, true),
                None => (data, false),
            };
            let fail = |reader: &mut Reader<'a>, syntax, byte: usize| {
                if continued {
                    reader.skip_continued(line);
                }
                SyntaxAt {
                    syntax,
                    line: number,
                    column: column(line, from + byte),
                }
            };
            let b = data.as_bytes();
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b' ' | b'\t' => i += 1,
                    b',' if expect == Expect::CommaOrEnd => {
                        expect = Expect::Byte;
                        i += 1;
                    }
                    c if c.is_ascii_hexdigit() => {
                        let s = i;
                        while i < b.len() && b[i].is_ascii_hexdigit() {
                            i += 1;
                        }
                        if expect == Expect::CommaOrEnd {
                            return Err(fail(self, RegSyntax::MissingComma, s));
                        }
                        let digits = &data[s..i];
                        let byte = (digits.len() <= 2)
                            .then(|| u8::from_str_radix(digits, 16).ok())
                            .flatten();
                        let Some(byte) = byte else {
                            return Err(fail(self, RegSyntax::BadHexByte(excerpt(digits)), s));
                        };
                        bytes.push(byte);
                        expect = Expect::CommaOrEnd;
                    }
                    _ => {
                        // `i` is at a character boundary: only ASCII bytes were passed.
                        let token: String = data[i..]
                            .chars()
                            .take_while(|&c| c != ',' && !c.is_whitespace())
                            .collect();
                        return Err(fail(self, RegSyntax::BadHexByte(excerpt(&token)), i));
                    }
                }
            }
            if !continued {
                break;
            }
            let backslash = from + data.len();
            match self.next_line() {
                Some((n, l)) => (number, line, from) = (n, l, 0),
                None => {
                    return Err(SyntaxAt {
                        syntax: RegSyntax::ContinuedPastEnd,
                        line: number,
                        column: column(line, backslash),
                    })
                }
            }
        }
        if expect == Expect::Byte {
            return Err(SyntaxAt {
                syntax: RegSyntax::HexTrailingComma,
                line: number,
                column: column(line, line.trim_end().len()),
            });
        }
        Ok(bytes)
    }

    /// After a line left out: when it ends with `\`, the lines that continue it go too.
    fn skip_continued(&mut self, line: &str) {
        let mut continued = line.trim_end().ends_with('\\');
        while continued {
            match self.next_line() {
                Some((_, l)) => continued = l.trim_end().ends_with('\\'),
                None => break,
            }
        }
    }
}

// ---- keys and names --------------------------------------------------------------------

fn place(segments: &[&str]) -> Place {
    let Some((root, keys)) = segments.split_first() else {
        return Place::Outside;
    };
    if !(root.eq_ignore_ascii_case(ROOT) || root.eq_ignore_ascii_case(ROOT_SHORT)) {
        return Place::Outside;
    }
    let schannel: Vec<&str> = SCHANNEL_KEY.split('\\').collect();
    let suite_policy: Vec<&str> = SUITE_POLICY_KEY.split('\\').collect();
    let below = |base: &[&str]| -> Option<Vec<String>> {
        (keys.len() >= base.len() && same_names(&keys[..base.len()], base))
            .then(|| keys[base.len()..].iter().map(|s| s.to_string()).collect())
    };
    let above = |base: &[&str]| keys.len() < base.len() && same_names(keys, &base[..keys.len()]);
    if let Some(rest) = below(&schannel) {
        Place::Schannel(rest)
    } else if let Some(rest) = below(&suite_policy) {
        Place::SuitePolicy(rest)
    } else if above(&schannel) || above(&suite_policy) {
        Place::Ancestor {
            schannel: above(&schannel),
            suite_policy: above(&suite_policy),
        }
    } else {
        Place::Outside
    }
}

fn same_names<A: AsRef<str>, B: AsRef<str>>(a: &[A], b: &[B]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.as_ref().eq_ignore_ascii_case(y.as_ref()))
}

fn in_suite_policy(def: &SettingDef) -> bool {
    def.segments().next() == Some(SUITE_ORDER_GROUP)
}

/// Whether `def` lives under the key `keys` (below SCHANNEL).
fn key_contains(keys: &[String], def: &SettingDef) -> bool {
    let segments: Vec<&str> = def.segments().collect();
    // The last segment is the value's name; the ones before it are keys.
    segments.len() > keys.len() && same_names(&segments[..keys.len()], keys)
}

/// The setting a value under SCHANNEL (`keys` below it) names.
fn resolve_schannel(
    keys: &[String],
    name: &ValueName,
) -> Result<&'static SettingDef, RegLineProblem> {
    if keys
        .first()
        .is_some_and(|k| k.eq_ignore_ascii_case(SUITE_ORDER_GROUP))
    {
        return Err(RegLineProblem::NotHere {
            belongs_under: format!("{ROOT}\\{SUITE_POLICY_KEY}"),
        });
    }
    let ValueName::Named(value) = name else {
        return Err(no_suggestions());
    };
    let mut full: Vec<&str> = keys.iter().map(String::as_str).collect();
    full.push(value);
    find_setting(&full)
}

/// The setting a value under the cipher-suite policy key names.
fn resolve_suite_policy(
    keys: &[String],
    name: &ValueName,
) -> Result<&'static SettingDef, RegLineProblem> {
    let ValueName::Named(value) = name else {
        return Err(no_suggestions());
    };
    let mut full = vec![SUITE_ORDER_GROUP];
    full.extend(keys.iter().map(String::as_str));
    full.push(value);
    find_setting(&full)
}

fn no_suggestions() -> RegLineProblem {
    RegLineProblem::UnknownValue {
        suggestions: Vec::new(),
    }
}

/// The setting whose name is exactly these segments (case-insensitive), or an
/// `UnknownValue` with suggestions. A value's name may hold `\` in the registry; it is then
/// one segment that no setting has.
fn find_setting(segments: &[&str]) -> Result<&'static SettingDef, RegLineProblem> {
    let joined = segments.join("\\");
    let found = (!segments.iter().any(|s| s.contains('\\')))
        .then(|| {
            Settings::definitions()
                .iter()
                .find(|d| d.name.eq_ignore_ascii_case(&joined))
        })
        .flatten();
    found.ok_or_else(|| {
        let suggestions = match *unknown_name(&joined).problem {
            SettingsProblem::UnknownName { suggestions } => suggestions,
            _ => Vec::new(),
        };
        RegLineProblem::UnknownValue { suggestions }
    })
}

/// The registry key a setting is written under, and its value's name.
fn registry_key(def: &SettingDef) -> (String, &str) {
    let mut keys: Vec<&str> = def.segments().collect();
    let name = keys.pop().unwrap_or_default();
    let mut key = format!("{ROOT}\\{SCHANNEL_KEY}");
    if keys.first() == Some(&SUITE_ORDER_GROUP) {
        keys.remove(0);
        key = format!("{ROOT}\\{SUITE_POLICY_KEY}");
    }
    for k in keys {
        key.push('\\');
        key.push_str(k);
    }
    (key, name)
}

// ---- values ----------------------------------------------------------------------------

/// The registry value a line's data stands for; `None` for `-` (delete the value).
fn reg_value(data: RawData, format: RegFormat) -> Result<Option<RegValue>, RegLineProblem> {
    Ok(Some(match data {
        RawData::Delete => return Ok(None),
        RawData::String(s) => RegValue::Sz(s),
        RawData::Dword(v) => RegValue::Dword(v),
        RawData::Hex { kind, bytes } => typed(kind, &bytes, format)?,
    }))
}

/// The setting's value for a registry value, checked as [`Settings::set`] checks it.
fn setting_value(def: &SettingDef, reg: RegValue) -> Result<SettingValue, RegLineProblem> {
    let value = match (def.kind, reg) {
        (ValueKind::Dword { .. }, RegValue::Dword(v)) => SettingValue::Dword(v),
        (ValueKind::List | ValueKind::MultiString, RegValue::Sz(s) | RegValue::ExpandSz(s)) => {
            SettingValue::List(split_list(&s))
        }
        (ValueKind::List | ValueKind::MultiString, RegValue::MultiSz(items)) => {
            SettingValue::List(items.iter().flat_map(|s| split_list(s)).collect())
        }
        (ValueKind::Choice(_), RegValue::Sz(s) | RegValue::ExpandSz(s)) => SettingValue::Choice(s),
        (kind, other) => {
            return Err(RegLineProblem::WrongType {
                expected: expected(kind),
                found: other.describe(),
            })
        }
    };
    def.check(value).map_err(RegLineProblem::Refused)
}

/// Hex data as the registry types it.
fn typed(kind: u32, bytes: &[u8], format: RegFormat) -> Result<RegValue, RegLineProblem> {
    let syntax = RegLineProblem::Syntax;
    Ok(match kind {
        1 | 2 => {
            let text = hex_text(bytes, format).map_err(syntax)?;
            // A REG_SZ ends at its first NUL.
            let s = text.split('\0').next().unwrap_or_default().to_string();
            if kind == 1 {
                RegValue::Sz(s)
            } else {
                RegValue::ExpandSz(s)
            }
        }
        7 => {
            let text = hex_text(bytes, format).map_err(syntax)?;
            // NUL after each string, and one more at the end: the first empty one ends it.
            let items = text
                .split('\0')
                .take_while(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            RegValue::MultiSz(items)
        }
        4 => match <[u8; 4]>::try_from(bytes) {
            Ok(b) => RegValue::Dword(u32::from_le_bytes(b)),
            Err(_) => return Err(syntax(RegSyntax::DwordLength(bytes.len()))),
        },
        _ => RegValue::Other {
            kind,
            len: bytes.len(),
        },
    })
}

/// The text of string data: UTF-16LE under the 5.00 header, 8-bit under REGEDIT4.
fn hex_text(bytes: &[u8], format: RegFormat) -> Result<String, RegSyntax> {
    match format {
        RegFormat::Version5 => {
            if !bytes.len().is_multiple_of(2) {
                return Err(RegSyntax::OddUtf16Length(bytes.len()));
            }
            let units = bytes
                .chunks_exact(2)
                .map(|p| u16::from_le_bytes([p[0], p[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| RegSyntax::InvalidUtf16)
        }
        RegFormat::Regedit4 => Ok(match std::str::from_utf8(bytes) {
            Ok(t) => t.to_string(),
            Err(_) => windows_1252(bytes),
        }),
    }
}

fn expected(kind: ValueKind) -> &'static str {
    match kind {
        ValueKind::Dword { .. } => "a REG_DWORD (dword:00000000)",
        ValueKind::List => "a REG_SZ string (\"A,B\") or a REG_MULTI_SZ (hex(7):...)",
        ValueKind::MultiString => "a REG_MULTI_SZ (hex(7):...) or a REG_SZ string (\"A,B\")",
        ValueKind::Choice(_) => "a REG_SZ string",
    }
}

impl RegValue {
    fn describe(&self) -> String {
        match self {
            RegValue::Sz(s) => format!("REG_SZ \"{}\"", excerpt(s)),
            RegValue::ExpandSz(s) => format!("REG_EXPAND_SZ \"{}\"", excerpt(s)),
            RegValue::MultiSz(items) => format!("REG_MULTI_SZ \"{}\"", excerpt(&items.join(","))),
            RegValue::Dword(v) => format!("REG_DWORD 0x{v:08x}"),
            RegValue::Other { kind, len } => format!("{} ({len} bytes)", type_name(*kind)),
        }
    }
}

fn type_name(kind: u32) -> String {
    match kind {
        0 => "REG_NONE".into(),
        1 => "REG_SZ".into(),
        2 => "REG_EXPAND_SZ".into(),
        3 => "REG_BINARY".into(),
        4 => "REG_DWORD".into(),
        5 => "REG_DWORD_BIG_ENDIAN".into(),
        6 => "REG_LINK".into(),
        7 => "REG_MULTI_SZ".into(),
        8 => "REG_RESOURCE_LIST".into(),
        9 => "REG_FULL_RESOURCE_DESCRIPTOR".into(),
        0xa => "REG_RESOURCE_REQUIREMENTS_LIST".into(),
        0xb => "REG_QWORD".into(),
        k => format!("hex({k:x})"),
    }
}

// ---- writing ---------------------------------------------------------------------------

fn value_line(name: &str, kind: ValueKind, value: &SettingValue, encoding: RegEncoding) -> String {
    let lhs = format!("\"{}\"=", escape(name));
    match value {
        SettingValue::Dword(v) => format!("{lhs}dword:{v:08x}"),
        SettingValue::List(items) if kind == ValueKind::MultiString => {
            let mut bytes = Vec::new();
            for item in items {
                bytes.extend(item.encode_utf16().chain([0]).flat_map(u16::to_le_bytes));
            }
            bytes.extend([0, 0]);
            hex_lines(&lhs, 7, &bytes)
        }
        SettingValue::List(items) => string_value(&lhs, &items.join(","), encoding),
        SettingValue::Choice(c) => string_value(&lhs, c, encoding),
    }
}

/// `"text"`, or `hex(1):` (REG_SZ in UTF-16LE) for text a `"..."` cannot carry: control
/// characters anywhere, and in an ANSI file anything not ASCII.
fn string_value(lhs: &str, text: &str, encoding: RegEncoding) -> String {
    let plain = text
        .chars()
        .all(|c| !c.is_control() && (encoding == RegEncoding::Utf16Le || c.is_ascii()));
    if plain {
        format!("{lhs}\"{}\"", escape(text))
    } else {
        let bytes: Vec<u8> = text
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect();
        hex_lines(lhs, 1, &bytes)
    }
}

/// `lhs` then `hex(kind):` and the bytes, continued with `\` as regedit wraps them.
fn hex_lines(lhs: &str, kind: u32, bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut line = format!("{lhs}hex({kind:x}):");
    for (i, b) in bytes.iter().enumerate() {
        let piece = if i + 1 < bytes.len() {
            format!("{b:02x},")
        } else {
            format!("{b:02x}")
        };
        // Room for the piece and the `\` that continues the line.
        if line.len() + piece.len() + 1 > LINE_WIDTH && !line.trim().is_empty() {
            out.push_str(&line);
            out.push_str("\\\r\n");
            line = "  ".to_string();
        }
        line.push_str(&piece);
    }
    out.push_str(&line);
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

// ---- small helpers ---------------------------------------------------------------------

/// `"..."` at the start of `s` (which starts with `"`): the text with `\\` and `\"`
/// unescaped (any other `\` is kept), and the bytes used.
fn quoted(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => match chars.next() {
                Some((_, e @ ('\\' | '"'))) => out.push(e),
                Some((_, e)) => {
                    out.push('\\');
                    out.push(e);
                }
                None => return None,
            },
            c => out.push(c),
        }
    }
    None
}

fn blank_or_comment(s: &str) -> bool {
    let t = s.trim_start();
    t.is_empty() || t.starts_with(';')
}

fn skip_blanks(line: &str, pos: usize) -> usize {
    let rest = &line[pos..];
    pos + (rest.len() - rest.trim_start_matches([' ', '\t']).len())
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}

/// The 1-based column (in characters) of byte `byte` of `line`.
fn column(line: &str, byte: usize) -> usize {
    line.get(..byte).map_or(0, |p| p.chars().count()) + 1
}

/// The beginning of `s`, for a message.
fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(EXCERPT_CHARS).collect();
    if s.chars().nth(EXCERPT_CHARS).is_some() {
        out.push('…');
    }
    out
}

// ---- messages --------------------------------------------------------------------------

impl fmt::Display for RegDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}:", file.display())?;
        }
        write!(f, "{}", self.line)?;
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
        }
        f.write_str(": ")?;
        if let Some(key) = &self.key {
            write!(f, "[{key}] ")?;
        }
        if let Some(value) = &self.value {
            write!(f, "\"{value}\": ")?;
        }
        write!(f, "{}", self.problem)
    }
}

impl fmt::Display for RegLineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegLineProblem::Syntax(s) => write!(f, "{s}; line left out"),
            RegLineProblem::OutsideKey => f.write_str(
                "outside the SCHANNEL key and the cipher-suite policy key (SSL\\00010002); \
                 left out",
            ),
            RegLineProblem::UnknownValue { suggestions } => {
                f.write_str("this provider has no such setting")?;
                if !suggestions.is_empty() {
                    let list: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
                    write!(f, " (did you mean {}?)", list.join(" or "))?;
                }
                f.write_str("; left out")
            }
            RegLineProblem::NotHere { belongs_under } => write!(
                f,
                "the cipher-suite order is read from [{belongs_under}], not from under \
                 SCHANNEL; left out"
            ),
            RegLineProblem::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}; not applied")
            }
            RegLineProblem::Refused(e) => write!(f, "{e}; not applied"),
            RegLineProblem::BeforeAnyKey => f.write_str("a value before any [KEY] line; left out"),
            RegLineProblem::UnderDeletedKey { key_line } => write!(
                f,
                "under the key that line {key_line} deletes ([-KEY]); left out"
            ),
            RegLineProblem::UnderUnreadKey { key_line } => write!(
                f,
                "under the key of line {key_line}, which could not be read; left out"
            ),
            RegLineProblem::NothingToDelete => {
                f.write_str("no setting of this provider lives under this key; nothing deleted")
            }
        }
    }
}

impl fmt::Display for RegSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegSyntax::UnclosedKey => f.write_str("expected `]` to close the key"),
            RegSyntax::EmptyKey => f.write_str("expected a key name between `[` and `]`"),
            RegSyntax::EmptyKeySegment => {
                f.write_str("an empty key name (`\\\\`) in the key's path")
            }
            RegSyntax::UnclosedName => {
                f.write_str("expected a value name in quotes (`\"Name\"=`) or `@=`")
            }
            RegSyntax::MissingEquals => f.write_str("expected `=` after the value's name"),
            RegSyntax::UnclosedString => f.write_str("expected `\"` to close the string"),
            RegSyntax::TrailingText(t) => {
                write!(f, "unexpected `{t}` (a comment starts with `;`)")
            }
            RegSyntax::BadDword(t) => {
                write!(f, "expected 1 to 8 hex digits after `dword:`, found `{t}`")
            }
            RegSyntax::BadHexType(t) => {
                write!(f, "expected a hex type number in `hex(...):`, found `{t}`")
            }
            RegSyntax::BadHexByte(t) => {
                write!(f, "expected a hex byte (two hex digits), found `{t}`")
            }
            RegSyntax::MissingComma => f.write_str("expected `,` between two hex bytes"),
            RegSyntax::HexTrailingComma => f.write_str(
                "the hex data ends with `,`: a `\\` to continue it on the next line is \
                 missing, or the file is cut short",
            ),
            RegSyntax::UnknownType(t) => write!(
                f,
                "expected a value (\"string\", dword:, hex:, hex(N): or -), found `{t}`"
            ),
            RegSyntax::ContinuedPastEnd => {
                f.write_str("the value continues (`\\`) past the end of the file")
            }
            RegSyntax::OddUtf16Length(n) => write!(
                f,
                "string data of {n} bytes: UTF-16LE (as the 5.00 header says) takes an even count"
            ),
            RegSyntax::InvalidUtf16 => {
                f.write_str("string data that is not UTF-16LE (an unpaired surrogate)")
            }
            RegSyntax::DwordLength(n) => {
                write!(f, "a REG_DWORD (hex(4):) has 4 bytes, found {n}")
            }
            RegSyntax::Unrecognised(t) => write!(
                f,
                "expected a key ([...]), a value (\"Name\"=...) or a comment (;), found `{t}`"
            ),
        }
    }
}

impl fmt::Display for RegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some((line, col)) = self.position {
                write!(f, ":{line}:{col}")?;
            }
            f.write_str(": ")?;
        } else if let Some((line, col)) = self.position {
            write!(f, "{line}:{col}: ")?;
        }
        match &self.problem {
            RegFileProblem::Empty => write!(
                f,
                "empty: expected a registry script starting with `{HEADER_V5}` or `{HEADER_V4}`"
            ),
            RegFileProblem::UnsupportedEncoding(e) => write!(
                f,
                "encoded as {e}: regedit reads UTF-16LE with a byte-order mark (\"Unicode\") \
                 or 8-bit ANSI; save the file in one of them"
            ),
            RegFileProblem::TruncatedUtf16 { bytes } => write!(
                f,
                "UTF-16LE with an odd number of bytes ({bytes}): the file is cut short"
            ),
            RegFileProblem::InvalidUtf16 => {
                f.write_str("not valid UTF-16LE (an unpaired surrogate)")
            }
            RegFileProblem::InvalidUtf8 => {
                f.write_str("starts with a UTF-8 byte-order mark but is not valid UTF-8")
            }
            RegFileProblem::NulCharacter => f.write_str(
                "a NUL character in the text: not a text file in the encoding its first bytes \
                 suggest",
            ),
            RegFileProblem::NoHeader { found } => write!(
                f,
                "not a registry script: expected `{HEADER_V5}` or `{HEADER_V4}` as the first \
                 line, found `{found}`"
            ),
        }
    }
}

impl std::error::Error for RegError {}
