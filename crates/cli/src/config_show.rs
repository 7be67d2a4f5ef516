//! `schannel config show [--json] [--changed]`: the effective policy, as the provider
//! computes it (`Settings::effective_policy`, the same tables and filters credentials
//! use; nothing is derived here), then every setting with its value, where it came from
//! and how it applies.

use crate::CmdResult;
use securechannel::{
    EffectivePolicy, ProtocolUse, RolePolicy, SettingDef, SettingValue, Settings, ValueKind,
    SETTINGS_FILE,
};
use serde_json::{json, Value};
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

/// Run `config show`.
pub fn run(data_dir: &Path, changed: bool, as_json: bool) -> CmdResult {
    let settings = Settings::load(data_dir)?;
    let file = data_dir.join(SETTINGS_FILE);
    let policy = settings.effective_policy();
    let text = if as_json {
        let mut v = to_json(&settings, &policy, &file, changed);
        if let Some(o) = v.as_object_mut() {
            let warnings: Vec<String> = settings.warnings().iter().map(|w| w.to_string()).collect();
            o.insert("warnings".into(), json!(warnings));
        }
        format!("{}\n", serde_json::to_string_pretty(&v)?)
    } else {
        to_text(&settings, &policy, &file, changed)
    };
    crate::config::print_out(&text)?;
    if !as_json {
        for w in settings.warnings() {
            eprintln!("warning: {w}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Where a value came from: `default`, the `.reg` file and line it was imported from
/// (`Settings::source`, read back from settings.toml's import notes), or settings.toml.
pub fn source(settings: &Settings, name: &str) -> String {
    match settings.source(name) {
        Some(imported) => format!("imported from {imported}"),
        None if settings.is_configured(name) => SETTINGS_FILE.to_string(),
        None => "default".to_string(),
    }
}

/// `7`, `4294967295 (0xFFFFFFFF)`, `TLS_AES_256_GCM_SHA384,...`.
pub fn display_value(def: &SettingDef, v: &SettingValue) -> String {
    match (def.kind(), v) {
        (ValueKind::Dword { .. }, SettingValue::Dword(d)) if *d > 9 => {
            format!("{d} (0x{d:08X})")
        }
        _ => v.to_string(),
    }
}

fn json_value(v: &SettingValue) -> Value {
    match v {
        SettingValue::Dword(d) => json!(d),
        SettingValue::List(l) => json!(l),
        SettingValue::Choice(c) => json!(c),
    }
}

/// A protocol's state with its source: `disabled (settings.toml: Enabled = 0)`.
fn protocol_text(settings: &Settings, state: ProtocolUse, configured: &[(String, u32)]) -> String {
    match configured.first() {
        None => format!("{} (default)", state.name()),
        Some((name, _)) => format!(
            "{} ({}: {})",
            state.name(),
            source(settings, name),
            values_text(configured)
        ),
    }
}

fn values_text(configured: &[(String, u32)]) -> String {
    configured
        .iter()
        .map(|(name, v)| format!("{} = {v}", name.rsplit('\\').next().unwrap_or(name)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn suites_text(out: &mut String, title: &str, role: &RolePolicy) {
    let _ = writeln!(out, "\n{title}");
    if role.suites.is_empty() {
        let _ = writeln!(out, "  (none: this {} has nothing to negotiate)", role.role);
    }
    for (i, s) in role.suites.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:>2}. {} (0x{:04X})  {}",
            i + 1,
            s.name,
            s.number,
            s.protocol
        );
    }
}

fn to_text(settings: &Settings, policy: &EffectivePolicy, file: &Path, changed: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# effective SCHANNEL settings ({}{})",
        file.display(),
        if file.exists() {
            ""
        } else {
            ", absent: all defaults"
        }
    );
    if !changed {
        policy_text(&mut out, settings, policy);
        let _ = writeln!(out, "\n# every setting: value  [where it came from]");
    }
    for def in Settings::definitions() {
        let configured = settings.is_configured(def.name());
        if changed && !configured {
            continue;
        }
        let value = match settings.value(def.name()) {
            Ok(Some(v)) => display_value(def, &v),
            _ => "(absent: system default)".to_string(),
        };
        let _ = writeln!(
            out,
            "{} = {value}  [{}]",
            def.name(),
            source(settings, def.name())
        );
    }
    out
}

fn policy_text(out: &mut String, settings: &Settings, policy: &EffectivePolicy) {
    let _ = writeln!(out, "\nProtocols");
    for pair in policy.protocols.chunks(2) {
        let [client, server] = pair else { continue };
        let _ = writeln!(
            out,
            "  {:<29}  client: {:<42}  server: {}",
            client.key,
            protocol_text(settings, client.state, &client.configured),
            protocol_text(settings, server.state, &server.configured)
        );
    }
    suites_text(
        out,
        "Cipher suites a client offers, in order",
        &policy.client,
    );
    suites_text(
        out,
        "Cipher suites a server accepts, in its order of preference",
        &policy.server,
    );
    let _ = writeln!(out, "\nKey exchange groups (curves), in order");
    if policy.groups.is_empty() {
        let _ = writeln!(out, "  (none: nothing can be negotiated)");
    }
    for (i, g) in policy.groups.iter().enumerate() {
        let _ = writeln!(out, "  {:>2}. {} (0x{:04X})", i + 1, g.name, g.number);
    }
    let _ = writeln!(out, "\nLargest handshake message accepted");
    for m in &policy.message_limits {
        let plaintext = if m.plaintext < m.value {
            format!("{} (the engine's own limit is the bound)", m.plaintext)
        } else {
            m.plaintext.to_string()
        };
        let _ = writeln!(
            out,
            "  {} = {}: plaintext messages (hellos, TLS 1.2 flights) up to {plaintext}; TLS 1.3 encrypted messages up to {} (the engine's own limit)",
            m.setting, m.value, m.encrypted
        );
    }
    let _ = writeln!(
        out,
        "\nRecognised, never negotiated or not done here (values that would need it are refused)"
    );
    for n in &policy.never_negotiated {
        let set = if n.configured.is_empty() {
            String::new()
        } else {
            let values: Vec<String> = n
                .configured
                .iter()
                .map(|(name, v)| format!("{name} = {v}"))
                .collect();
            format!("  [set: {}]", values.join(", "))
        };
        let _ = writeln!(out, "  {}: {}{set}", n.item, n.reason);
    }
}

fn role_json(r: &RolePolicy) -> Value {
    json!({
        "protocols": r.protocols.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "usable": r.usable,
        "cipher_suites": r.suites.iter().map(|s| json!({
            "name": s.name,
            "number": format!("0x{:04X}", s.number),
            "protocol": s.protocol.name(),
        })).collect::<Vec<_>>(),
    })
}

fn to_json(settings: &Settings, policy: &EffectivePolicy, file: &Path, changed: bool) -> Value {
    let settings_json: Vec<Value> = Settings::definitions()
        .iter()
        .filter(|d| !changed || settings.is_configured(d.name()))
        .map(|def| {
            let configured = settings.is_configured(def.name());
            let value = settings.value(def.name()).ok().flatten();
            let applies = def.application(if configured { value.as_ref() } else { None });
            json!({
                "name": def.name(),
                "value": value.as_ref().map(json_value),
                "source": source(settings, def.name()),
                "applies": applies.kind(),
                "detail": applies.detail(),
            })
        })
        .collect();
    json!({
        "settings_file": file.display().to_string(),
        "settings_file_exists": file.exists(),
        "protocols": policy.protocols.iter().map(|p| json!({
            "protocol": p.key,
            "role": p.role.name(),
            "state": p.state.name(),
            "source": p.configured.first().map_or_else(|| "default".to_string(), |(n, _)| source(settings, n)),
            "configured": p.configured.iter().map(|(n, v)| (n.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
        "client": role_json(&policy.client),
        "server": role_json(&policy.server),
        "curves": policy.groups.iter().map(|g| json!({
            "name": g.name,
            "number": format!("0x{:04X}", g.number),
        })).collect::<Vec<_>>(),
        "message_limits": policy.message_limits.iter().map(|m| json!({
            "setting": m.setting,
            "value": m.value,
            "plaintext_bound": m.plaintext,
            "encrypted_bound": m.encrypted,
        })).collect::<Vec<_>>(),
        "never_negotiated": policy.never_negotiated.iter().map(|n| json!({
            "item": n.item,
            "reason": n.reason,
            "configured": n.configured.iter().map(|(k, v)| (k.clone(), json_value(v))).collect::<serde_json::Map<_, _>>(),
        })).collect::<Vec<_>>(),
        "settings": settings_json,
    })
}
