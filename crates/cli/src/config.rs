//! `schannel config`: read and change the SCHANNEL settings (`<data-dir>/settings.toml`)
//! by their registry names, like `reg query` / `reg add` on the SCHANNEL key.
//!
//! `set` and `unset` edit the file in place with toml_edit, so the administrator's
//! comments and layout stay; the result is checked with the provider's own parser before
//! it replaces the file (a temporary file renamed over it, never a half-written file).

use crate::config_show::display_value;
use crate::CmdResult;
use securechannel::{SettingDef, SettingValue, Settings, SettingsError, ValueKind, SETTINGS_FILE};
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
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// `set` (value given) and `unset` (none).
fn set(file: &Path, name: &str, value: Option<&str>) -> CmdResult {
    let def = Settings::definition(name)?;
    let parsed = value.map(|v| def.parse_value(v)).transpose()?;
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: cannot be read: {e}", file.display()).into()),
    };
    // The file as it is must be valid: editing a broken file would hide the problem.
    Settings::parse(&text, Some(file)).map_err(SettingsError::into_error)?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: invalid TOML: {e}", file.display()))?;
    let segments: Vec<&str> = def.segments().collect();
    let changed = match (&parsed, value) {
        (Some(v), Some(raw)) => {
            insert(&mut doc, &segments, toml_value(def, v, raw));
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
    write_atomically(file, &new_text)?;
    match checked.value(def.name())? {
        Some(v) => println!("{} = {}", def.name(), display_value(def, &v)),
        None => println!("{} unset (system default)", def.name()),
    }
    for w in checked.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The TOML value: a DWORD keeps the radix the administrator typed (0xffffffff stays hex).
fn toml_value(def: &SettingDef, value: &SettingValue, raw: &str) -> toml_edit::Value {
    match value {
        SettingValue::Dword(d) => {
            let raw = raw.trim();
            if raw.starts_with("0x") || raw.starts_with("0X") {
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

/// The key of `table` that is `name` case-insensitively (the registry ignores case, and
/// the file may spell a key differently from the canonical name).
fn existing_key(table: &Table, name: &str) -> Option<String> {
    table
        .iter()
        .map(|(k, _)| k)
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(str::to_string)
}

fn insert(doc: &mut DocumentMut, segments: &[&str], value: toml_edit::Value) {
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
    match table.get_mut(&key).and_then(Item::as_value_mut) {
        Some(existing) => {
            // Keep the comment after the value.
            let decor = existing.decor().clone();
            *existing = value;
            *existing.decor_mut() = decor;
        }
        None => {
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
fn write_atomically(file: &Path, text: &str) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    let dir = file.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp: PathBuf = dir.join(format!(".{SETTINGS_FILE}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(file) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(text.as_bytes())?;
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
