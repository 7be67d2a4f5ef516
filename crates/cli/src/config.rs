//! `schannel config`: read and change the SCHANNEL settings (`<data-dir>/settings.toml`)
//! by their registry names, like `reg query` / `reg add` on the SCHANNEL key.
//!
//! `set`, `unset` and `import` edit the file in place with toml_edit, so the
//! administrator's comments and layout stay; the result is checked with the provider's own
//! parser before it replaces the file (a temporary file renamed over it, never a
//! half-written file).
//!
//! `import FILE.reg` reads a regedit export (`securechannel::RegFile`), prints each change
//! and each line it leaves out, and records where every imported value came from after the
//! value (`Enabled = 0  # imported from hardening.reg line 12`, which
//! `Settings::source` reads back). `export --reg` writes the configured settings as a file
//! regedit imports.

use crate::config_show::display_value;
use crate::CmdResult;
use securechannel::{
    Change, RegEncoding, RegFile, SettingDef, SettingValue, Settings, SettingsError, Source,
    ValueKind, SETTINGS_FILE,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use toml_edit::{DocumentMut, Item, Table};

/// Arguments of `schannel config`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Print the effective value of a setting, e.g. `Protocols\TLS 1.3\Server\Enabled`.
    Get {
        /// The registry name (`EventLogging`, `Ciphers\AES 128/128\Enabled`, ...).
        name: String,
    },
    /// Set a value: a decimal or 0x hex DWORD, or a comma-separated list
    /// (`CipherSuiteOrder\Functions`, `CipherSuiteOrder\EccCurves`).
    Set {
        /// The registry name.
        name: String,
        /// The value.
        value: String,
    },
    /// Remove a value, so that the Windows default applies again.
    Unset {
        /// The registry name.
        name: String,
    },
    /// Print the effective policy (each protocol for client and server, the cipher suites
    /// and curves the engine offers, in order, the message limits, what is never
    /// negotiated), then every setting, its value, and where it came from.
    Show {
        /// Only the settings that the file sets (no policy).
        #[arg(long)]
        changed: bool,
        /// One JSON object: the policy, and every setting with how it applies.
        #[arg(long)]
        json: bool,
    },
    /// Ask the running `schannel serve` of this data directory (its serve.pid) to read
    /// the settings again: new connections follow them, open ones keep theirs.
    Reload {
        /// Seconds to wait for serve to report the outcome.
        #[arg(long, default_value_t = 10)]
        timeout: u64,
    },
    /// Import a regedit export (.reg, UTF-16 or ANSI) of the SCHANNEL key and the
    /// cipher-suite policy key: print each change and each line left out (exit 1 when a
    /// line is left out, 2 when the file cannot be read).
    Import {
        /// The .reg file.
        file: PathBuf,
        /// Print what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write the configured settings as a .reg file regedit imports (stdout by default).
    Export {
        /// As a .reg file (the only format so far).
        #[arg(long)]
        reg: bool,
        /// UTF-16LE with a byte-order mark, as regedit writes (default: ASCII).
        #[arg(long, requires = "reg")]
        utf16: bool,
        /// Write to this file instead of stdout.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

/// Run `schannel config`.
pub fn run(args: Args, data_dir: &Path) -> CmdResult {
    let file = data_dir.join(SETTINGS_FILE);
    match args.command {
        Command::Get { name } => get(data_dir, &name),
        Command::Set { name, value } => set(&file, &name, Some(&value)),
        Command::Unset { name } => set(&file, &name, None),
        Command::Show { changed, json } => crate::config_show::run(data_dir, changed, json),
        Command::Reload { timeout } => crate::reload::request(data_dir, timeout),
        Command::Import {
            file: reg_file,
            dry_run,
        } => import(&file, &reg_file, dry_run),
        Command::Export { reg, utf16, output } => export(data_dir, reg, utf16, output.as_deref()),
    }
}

fn get(data_dir: &Path, name: &str) -> CmdResult {
    let def = Settings::definition(name)?;
    let settings = Settings::load(data_dir)?;
    match settings.value(def.name())? {
        Some(v) => print_out(&format!("{}\n", display_value(def, &v)))?,
        None => print_out(&format!("(not set: {})\n", def.note()))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Print to stdout; a reader that went away (`| head`) is not an error.
pub fn print_out(text: &str) -> Result<(), Box<dyn std::error::Error>> {
    print_bytes(text.as_bytes())
}

fn print_bytes(bytes: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// `set` (value given) and `unset` (none).
fn set(file: &Path, name: &str, value: Option<&str>) -> CmdResult {
    let def = Settings::definition(name)?;
    let parsed = value.map(|v| def.parse_value(v)).transpose()?;
    let (_, mut doc) = read_settings(file)?;
    let segments: Vec<&str> = def.segments().collect();
    let changed = match (&parsed, value) {
        (Some(v), Some(raw)) => {
            let raw = raw.trim();
            let hex = raw.starts_with("0x") || raw.starts_with("0X");
            insert(&mut doc, &segments, toml_value(def, v, hex), None);
            true
        }
        _ => remove(doc.as_table_mut(), &segments),
    };
    if !changed {
        println!("{} is not set; nothing to do", def.name());
        return Ok(ExitCode::SUCCESS);
    }
    let new_text = doc.to_string();
    // Check the result with the provider's parser before it replaces the file.
    let checked = Settings::parse(&new_text, Some(file))?;
    write_atomically(file, new_text.as_bytes())?;
    match checked.value(def.name())? {
        Some(v) => println!("{} = {}", def.name(), display_value(def, &v)),
        None => println!("{} unset (system default)", def.name()),
    }
    for w in checked.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The settings file's text (empty when it does not exist) and its document. The file as
/// it is must be valid: editing a broken file would hide the problem.
fn read_settings(file: &Path) -> Result<(Settings, DocumentMut), Box<dyn std::error::Error>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: cannot be read: {e}", file.display()).into()),
    };
    let settings = Settings::parse(&text, Some(file)).map_err(SettingsError::into_error)?;
    let doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: invalid TOML: {e}", file.display()))?;
    Ok((settings, doc))
}

/// The TOML value; a DWORD in hex when `hex` (`config set` keeps the radix the
/// administrator typed: 0xffffffff stays hex).
fn toml_value(def: &SettingDef, value: &SettingValue, hex: bool) -> toml_edit::Value {
    match value {
        SettingValue::Dword(d) => {
            if hex {
                if let Ok(v) = format!("0x{d:x}").parse::<toml_edit::Value>() {
                    return v;
                }
            }
            toml_edit::Value::from(i64::from(*d))
        }
        SettingValue::List(items) => match def.kind() {
            // REG_MULTI_SZ is an array; REG_SZ (Functions) one comma-separated string.
            ValueKind::MultiString => {
                toml_edit::Value::Array(items.iter().map(String::as_str).collect())
            }
            _ => toml_edit::Value::from(items.join(",")),
        },
        SettingValue::Choice(c) => toml_edit::Value::from(c.as_str()),
    }
}

/// `import FILE.reg [--dry-run]`.
fn import(settings_file: &Path, reg_path: &Path, dry_run: bool) -> CmdResult {
    let bytes = std::fs::read(reg_path)
        .map_err(|e| format!("{}: cannot be read: {e}", reg_path.display()))?;
    let reg = RegFile::parse(&bytes, Some(reg_path))?;
    let (mut settings, mut doc) = read_settings(settings_file)?;
    let changes = settings.apply_reg(&reg);
    for change in &changes {
        let def = Settings::definition(change.name)?;
        let segments: Vec<&str> = def.segments().collect();
        match &change.after {
            // 0xffffffff ("enabled" for Ciphers, Hashes, ...) in hex, as the .reg wrote it.
            Some(v) => {
                let hex = v.as_dword() == Some(u32::MAX);
                insert(
                    &mut doc,
                    &segments,
                    toml_value(def, v, hex),
                    change.source.as_ref(),
                );
            }
            None => {
                remove(doc.as_table_mut(), &segments);
            }
        }
        println!("{}", change_text(def, change));
    }
    for d in reg.diagnostics() {
        eprintln!("{d}");
    }
    let left_out = reg.diagnostics().len();
    let summary = format!(
        "{} change{} from {}; {left_out} line{} left out",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" },
        reg_path.display(),
        if left_out == 1 { "" } else { "s" },
    );
    if dry_run {
        println!(
            "{summary} (dry run: {} not written)",
            settings_file.display()
        );
    } else if changes.is_empty() {
        println!("{summary}; {} unchanged", settings_file.display());
    } else {
        let new_text = doc.to_string();
        // The file must read back as the import made the settings, sources included.
        let checked = Settings::parse(&new_text, Some(settings_file))?;
        if let Some(name) = first_difference(&checked, &settings) {
            return Err(format!(
                "{}: the edited file does not read back as imported (`{name}`); not written",
                settings_file.display()
            )
            .into());
        }
        write_atomically(settings_file, new_text.as_bytes())?;
        println!("{summary}; {} written", settings_file.display());
    }
    for w in settings.warnings() {
        eprintln!("warning: {w}");
    }
    // Nothing lost silently: a line left out is a failure the caller can see.
    Ok(if left_out == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `set Protocols\TLS 1.0\Server\Enabled = 0 (was: default)`, `unset ... (was: 1)`.
fn change_text(def: &SettingDef, change: &Change) -> String {
    let was = match &change.before {
        Some(v) => display_value(def, v),
        None => "default".to_string(),
    };
    match &change.after {
        Some(v) => format!(
            "set {} = {} (was: {was})",
            def.name(),
            display_value(def, v)
        ),
        None => format!("unset {} (was: {was})", def.name()),
    }
}

/// The first setting whose configured value or source differs between `a` and `b`.
fn first_difference(a: &Settings, b: &Settings) -> Option<&'static str> {
    Settings::definitions()
        .iter()
        .map(SettingDef::name)
        .find(|&name| {
            let configured = |s: &Settings| {
                s.is_configured(name)
                    .then(|| s.value(name).ok().flatten())
                    .flatten()
            };
            configured(a) != configured(b) || a.source(name) != b.source(name)
        })
}

/// `export --reg [--utf16] [-o FILE]`.
fn export(data_dir: &Path, reg: bool, utf16: bool, output: Option<&Path>) -> CmdResult {
    if !reg {
        return Err("export needs a format: --reg (a .reg file regedit imports)".into());
    }
    let settings = Settings::load(data_dir)?;
    let encoding = if utf16 {
        RegEncoding::Utf16Le
    } else {
        RegEncoding::Ansi
    };
    let bytes = settings.to_reg(encoding);
    match output {
        Some(file) => write_atomically(file, &bytes)?,
        None => print_bytes(&bytes)?,
    }
    for w in settings.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The key of `table` that is `name` case-insensitively (the registry ignores case, and
/// the file may spell a key differently from the canonical name).
fn existing_key(table: &Table, name: &str) -> Option<String> {
    table
        .iter()
        .map(|(k, _)| k)
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(str::to_string)
}

/// Set the value at `segments`. The comment after an existing value stays, except one that
/// says where an import took the old value from; `source` writes that comment for the new
/// one.
fn insert(
    doc: &mut DocumentMut,
    segments: &[&str],
    mut value: toml_edit::Value,
    source: Option<&Source>,
) {
    let (last, groups) = segments
        .split_last()
        .expect("a setting name has at least one segment"); // invariant of SettingDef
    let mut table = doc.as_table_mut();
    for (i, seg) in groups.iter().enumerate() {
        let key = existing_key(table, seg).unwrap_or_else(|| seg.to_string());
        let is_last_group = i + 1 == groups.len();
        let entry = table.entry(&key).or_insert_with(|| {
            let mut t = Table::new();
            // Intermediate keys (`[Protocols."TLS 1.3"]`) get no header of their own.
            t.set_implicit(!is_last_group);
            Item::Table(t)
        });
        if let Some(inline) = entry.as_inline_table_mut() {
            // An inline table stays inline; convert only for editing.
            let t = std::mem::take(inline).into_table();
            *entry = Item::Table(t);
        }
        if !entry.is_table() {
            // A value where a key was expected cannot pass Settings::parse; replace it.
            *entry = Item::Table(Table::new());
        }
        table = entry.as_table_mut().expect("made a table just above"); // invariant: checked or assigned above
    }
    let key = existing_key(table, last).unwrap_or_else(|| last.to_string());
    let note = source.map(|s| format!("  {}", s.comment()));
    match table.get_mut(&key).and_then(Item::as_value_mut) {
        Some(existing) => {
            // Keep the comment after the value, unless it names where the old value came from.
            let mut decor = existing.decor().clone();
            let imported = decor
                .suffix()
                .and_then(|s| s.as_str())
                .and_then(Source::from_comment)
                .is_some();
            match note {
                Some(n) => decor.set_suffix(n),
                None if imported => decor.set_suffix(""),
                None => {}
            }
            *existing = value;
            *existing.decor_mut() = decor;
        }
        None => {
            if let Some(n) = note {
                value.decor_mut().set_suffix(n);
            }
            table.insert(&key, Item::Value(value));
        }
    }
}

/// Remove the value; empty tables left behind go too unless they carry a comment.
fn remove(table: &mut Table, segments: &[&str]) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return false;
    };
    let Some(key) = existing_key(table, first) else {
        return false;
    };
    if rest.is_empty() {
        return table.remove(&key).is_some();
    }
    let Some(item) = table.get_mut(&key) else {
        return false;
    };
    if let Some(inline) = item.as_inline_table_mut() {
        let t = std::mem::take(inline).into_table();
        *item = Item::Table(t);
    }
    let Some(sub) = item.as_table_mut() else {
        return false;
    };
    let removed = remove(sub, rest);
    let has_comment = sub
        .decor()
        .prefix()
        .and_then(|p| p.as_str())
        .is_some_and(|p| p.contains('#'));
    if removed && sub.is_empty() && !has_comment {
        table.remove(&key);
    }
    removed
}

/// Write `text` to a temporary file beside `file` and rename it over: readers see the old
/// file or the new one, never half of one. The old file's mode is kept.
fn write_atomically(file: &Path, text: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let name = file
        .file_name()
        .map_or_else(|| SETTINGS_FILE.into(), |n| n.to_string_lossy());
    let tmp: PathBuf = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(file) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(text)?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)?;
        // The rename is durable once the directory is.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", file.display()).into());
    }
    Ok(())
}
