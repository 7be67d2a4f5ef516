//! `schannel explain`: what an event, a TLS alert or an SSPI status means on this Linux
//! provider, its likely causes and what an operator does about it.
//!
//! One table per kind ([`EVENT_EXPLANATIONS`], [`ALERT_EXPLANATIONS`],
//! [`STATUS_EXPLANATIONS`]), each with a row for every entry of the catalog, the alert
//! registry and the status table (tested). The texts are this project's own words, written
//! for this provider (its data directory, settings.toml keys and commands), not Windows'.

use securechannel_events::{
    AlertDescription, ErrorState, EventId, EventLogging, Level, Status, CATALOG,
};
use std::fmt::{self, Write};

/// What an operator reads about one event.
#[derive(Debug)]
pub struct EventExplanation {
    /// The event.
    pub id: EventId,
    /// What the event says happened, here.
    pub meaning: &'static str,
    /// The usual reasons, most common first.
    pub causes: &'static [&'static str],
    /// What to check or change.
    pub actions: &'static [&'static str],
    /// Alerts that usually accompany the event (decimal codes).
    pub alerts: &'static [u8],
    /// Statuses the event carries or the caller receives with it.
    pub statuses: &'static [Status],
}

/// What an operator reads about one TLS alert.
#[derive(Debug)]
pub struct AlertExplanation {
    /// The alert code.
    pub code: u8,
    /// What the alert says.
    pub meaning: &'static str,
    /// The usual reasons a peer sends it (or this side does).
    pub causes: &'static [&'static str],
    /// What to check or change.
    pub actions: &'static [&'static str],
}

/// What an operator reads about one SSPI / CryptoAPI status.
#[derive(Debug)]
pub struct StatusExplanation {
    /// The status.
    pub status: Status,
    /// What the status says.
    pub meaning: &'static str,
    /// The usual reasons it is returned.
    pub causes: &'static [&'static str],
    /// What to check or change.
    pub actions: &'static [&'static str],
}

/// The thing to explain, parsed from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An event ID 36864-36888.
    Event(EventId),
    /// A TLS alert code (any 0-255; unassigned codes are explained as such).
    Alert(AlertDescription),
    /// An SSPI status of the status table.
    Status(Status),
    /// An internal error state, as 36888, 36871 and 36870 print it.
    State(ErrorState),
}

/// Input `schannel explain` cannot read, with the forms it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainError {
    /// What was wrong with the input.
    pub problem: String,
}

/// The accepted forms, printed with every error.
pub const ACCEPTED_FORMS: &str = "accepted forms:
  schannel explain 36887                   an event ID (36864-36888)
  schannel explain event 36887
  schannel explain alert 48                a TLS alert by code (0-255) ...
  schannel explain alert unknown_ca        ... or by name
  schannel explain 0x80090325              an SSPI status in hex,
  schannel explain -2146893019             in decimal as Windows tools print it (signed or not),
  schannel explain SEC_E_UNTRUSTED_ROOT    or by name
  schannel explain status 0x80090325
  schannel explain state 3018              an ErrorState of 36888 / 36871 (ErrorStatus of 36870)
  schannel explain 3018";

impl fmt::Display for ExplainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n{ACCEPTED_FORMS}", self.problem)
    }
}

impl std::error::Error for ExplainError {}

fn problem(p: String) -> ExplainError {
    ExplainError { problem: p }
}

impl Subject {
    /// Parse the words after `schannel explain`: `36887`, `event 36887`, `alert 48`,
    /// `alert unknown_ca`, `unknown_ca`, `0x80090325`, `-2146893019`, `2148074277`,
    /// `SEC_E_UNTRUSTED_ROOT`, `status ...`.
    pub fn parse(words: &[&str]) -> Result<Subject, ExplainError> {
        match words {
            [] => Err(problem("nothing to explain".into())),
            [kind, value] => match kind.to_ascii_lowercase().as_str() {
                "event" => parse_event(value),
                "alert" => parse_alert(value),
                "status" => parse_status(value),
                "state" | "errorstate" | "errorstatus" => parse_state(value),
                _ => Err(problem(format!(
                    "'{kind}' is not a kind to explain (event, alert, status or state)"
                ))),
            },
            [value] => parse_any(value),
            _ => Err(problem(format!("too many words: '{}'", words.join(" ")))),
        }
    }
}

fn parse_event(s: &str) -> Result<Subject, ExplainError> {
    let t = s.trim();
    if let Some(def) = CATALOG
        .iter()
        .find(|d| d.symbolic.is_some_and(|n| n.eq_ignore_ascii_case(t)))
    {
        return Ok(Subject::Event(def.id));
    }
    let n: u32 = t
        .parse()
        .map_err(|_| problem(format!("'{s}' is not an event ID (a number 36864-36888)")))?;
    EventId::try_from(n)
        .map(Subject::Event)
        .map_err(|e| problem(e.to_string()))
}

fn parse_state(s: &str) -> Result<Subject, ExplainError> {
    let t = s.trim();
    if let Some(st) = ErrorState::ALL
        .iter()
        .find(|st| st.name().eq_ignore_ascii_case(t))
    {
        return Ok(Subject::State(*st));
    }
    let n: u32 = t.parse().map_err(|_| {
        problem(format!(
            "'{s}' is not an error state (a number such as 3018, or a name such as HandshakeInterleaved)"
        ))
    })?;
    ErrorState::from_code(n).map(Subject::State).ok_or_else(|| {
        problem(format!(
            "{n} is not an error state of this provider ({})",
            state_ranges()
        ))
    })
}

/// The error state numbers as runs: `1001-1012, 2001-2005, ...`.
fn state_ranges() -> String {
    let mut runs: Vec<(u32, u32)> = Vec::new();
    for code in ErrorState::ALL.iter().map(|s| s.code()) {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == code => *end = code,
            _ => runs.push((code, code)),
        }
    }
    runs.iter()
        .map(|(a, b)| match a == b {
            true => a.to_string(),
            false => format!("{a}-{b}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_alert(s: &str) -> Result<Subject, ExplainError> {
    let t = s.trim();
    if let Some(a) = AlertDescription::from_name(t) {
        return Ok(Subject::Alert(a));
    }
    match t.parse::<u32>() {
        Ok(n) => u8::try_from(n)
            .map(|c| Subject::Alert(AlertDescription(c)))
            .map_err(|_| {
                problem(format!(
                    "alert {n} is out of range: TLS alert codes are 0-255"
                ))
            }),
        Err(_) => Err(problem(format!(
            "'{s}' is neither an alert code (0-255) nor an alert name such as unknown_ca"
        ))),
    }
}

/// A status value as people paste it: `0x80090325`, `80090325` (8 hex digits), decimal
/// `2148074277`, or the signed decimal `-2146893019` that .NET and PowerShell print.
fn status_value(t: &str) -> Option<u32> {
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok();
    }
    if let Some(neg) = t.strip_prefix('-') {
        if !neg.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        // Only the i32 range: a signed HRESULT is an i32.
        let n: i64 = neg.parse().ok()?;
        return i32::try_from(-n).ok().map(|v| v as u32);
    }
    let decimal = t.parse::<u32>().ok();
    // Eight hex digits without 0x are how winerror tables and logs often write codes; they
    // win when the decimal reading names no status.
    if decimal.and_then(Status::from_code).is_none() && t.len() == 8 {
        if let Ok(v) = u32::from_str_radix(t, 16) {
            if Status::from_code(v).is_some() {
                return Some(v);
            }
        }
    }
    decimal
}

fn parse_status(s: &str) -> Result<Subject, ExplainError> {
    let t = s.trim();
    if let Some(st) = Status::from_name(t) {
        return Ok(Subject::Status(st));
    }
    let v = status_value(t).ok_or_else(|| {
        problem(format!(
            "'{s}' is not a status code (0x80090325, -2146893019, SEC_E_UNTRUSTED_ROOT)"
        ))
    })?;
    Status::from_code(v).map(Subject::Status).ok_or_else(|| {
        problem(format!(
            "0x{v:08X} is not a status code this provider returns or logs (the SEC_E_ / \
             CRYPT_E_ / CERT_E_ / TRUST_E_ table of spec/status.toml and spec/chain-status.toml)"
        ))
    })
}

fn parse_any(s: &str) -> Result<Subject, ExplainError> {
    let t = s.trim();
    if let Ok(n) = t.parse::<u32>() {
        if EventId::try_from(n).is_ok() {
            return parse_event(t);
        }
        if let Some(st) = ErrorState::from_code(n) {
            return Ok(Subject::State(st));
        }
    }
    if let Ok(subject) = parse_status(t) {
        return Ok(subject);
    }
    if let Some(a) = AlertDescription::from_name(t) {
        return Ok(Subject::Alert(a));
    }
    if CATALOG
        .iter()
        .any(|d| d.symbolic.is_some_and(|n| n.eq_ignore_ascii_case(t)))
    {
        return parse_event(t);
    }
    let hint = match t.parse::<u32>() {
        Ok(n) if n <= 255 => {
            format!("; for the TLS alert with code {n}, write `schannel explain alert {n}`")
        }
        _ => String::new(),
    };
    Err(problem(format!(
        "'{s}' is neither a Schannel event ID (36864-36888), a known status code, nor an \
         alert name{hint}"
    )))
}

/// The explanation row of an event.
pub fn event_explanation(id: EventId) -> &'static EventExplanation {
    // EVENT_EXPLANATIONS is in ID order, one row per event (tested).
    &EVENT_EXPLANATIONS[usize::from(id.value() - 36864)]
}

/// The explanation row of an alert the registry names (`None` for unassigned codes).
pub fn alert_explanation(alert: AlertDescription) -> Option<&'static AlertExplanation> {
    ALERT_EXPLANATIONS.iter().find(|a| a.code == alert.0)
}

/// The explanation row of a status.
pub fn status_explanation(status: Status) -> Option<&'static StatusExplanation> {
    STATUS_EXPLANATIONS.iter().find(|s| s.status == status)
}

/// The text `schannel explain` prints.
pub fn explain(subject: Subject) -> String {
    match subject {
        Subject::Event(id) => explain_event(id),
        Subject::Alert(a) => explain_alert(a),
        Subject::Status(s) => explain_status(s),
        Subject::State(st) => explain_state(st),
    }
}

fn explain_state(st: ErrorState) -> String {
    let mut s = String::new();
    let code = st.code();
    let _ = writeln!(s, "Error state {code} ({})", st.name());
    let _ = writeln!(s, "\n{}", st.summary());
    let (events, find) = match code {
        1000..=1999 => (
            "36871 (credential creation failed) prints it as ErrorState",
            format!("schannel events --id 36871 --data ErrorState={code}"),
        ),
        2000..=2999 => (
            "36870 (private key access failed) prints it as ErrorStatus",
            format!("schannel events --id 36870 --data ErrorStatus={code}"),
        ),
        3000..=3999 => (
            "36888 (fatal alert generated) prints it as ErrorState, when an alert went out; the \
             error the application gets carries it either way",
            format!("schannel events --id 36888 --data ErrorState={code}"),
        ),
        _ => (
            "the error of a provider that cannot start carries it (see `schannel explain \
             36865` and `schannel explain 36866`)",
            "schannel events --level error".to_owned(),
        ),
    };
    let _ = writeln!(s, "\nWhere: {events}.");
    let _ = writeln!(s, "\nFind them: {find}");
    s
}

fn list(out: &mut String, title: &str, items: &[&str]) {
    let _ = writeln!(out, "\n{title}");
    for item in items {
        let _ = writeln!(out, "  - {item}");
    }
}

fn alert_label(code: u8) -> String {
    let a = AlertDescription(code);
    match a.name() {
        Some(n) => format!("{code} {n}"),
        None => format!("{code} (unassigned)"),
    }
}

fn explain_event(id: EventId) -> String {
    let def = id.def();
    let ex = event_explanation(id);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Event {} ({}): {}",
        id.value(),
        def.level.name(),
        def.title
    );
    if let Some(sym) = def.symbolic {
        let _ = writeln!(s, "Symbolic name: {sym}");
    }
    let _ = writeln!(s, "Provider: Schannel, log: System");
    let _ = writeln!(s, "\n{}", ex.meaning);
    list(&mut s, "Likely causes:", ex.causes);
    list(&mut s, "What to do:", ex.actions);
    let bit = EventLogging::bit(def.level);
    let _ = writeln!(
        s,
        "\nRecorded when EventLogging has bit 0x{bit:X} ({}).{}",
        match def.level {
            Level::Critical | Level::Error => "errors",
            Level::Warning => "warnings",
            Level::Information => "informational and success events",
        },
        if EventLogging::DEFAULT.allows(def.level) {
            " The default (1) records it.".to_string()
        } else {
            format!(
                " The default (1) does not: `schannel config set EventLogging {}` (or 7 for everything).",
                1 | bit
            )
        }
    );
    let _ = writeln!(s, "\nFields (EventData):");
    if def.fields.is_empty() {
        let _ = writeln!(s, "  (none)");
    }
    for (i, f) in def.fields.iter().enumerate() {
        let _ = writeln!(s, "  %{} {f}", i + 1);
    }
    if def.binary {
        let _ = writeln!(
            s,
            "  Binary: the certificate (DER), shown as <Binary> hex in `--format xml`"
        );
    }
    let _ = writeln!(s, "\nMessage template:\n  {}", def.message);
    if let Some(legacy) = def.legacy {
        let _ = writeln!(s, "Windows 6.x wording:\n  {legacy}");
    }
    if def.legacy_only {
        let _ = writeln!(
            s,
            "(Only Windows 6.x has this event; Windows 10 no longer logs it. This provider does.)"
        );
    }
    if !ex.alerts.is_empty() {
        let labels: Vec<String> = ex.alerts.iter().map(|c| alert_label(*c)).collect();
        let _ = writeln!(s, "\nRelated alerts: {}", labels.join(", "));
    }
    if !ex.statuses.is_empty() {
        let names: Vec<String> = ex
            .statuses
            .iter()
            .map(|st| format!("{} {}", st.hex(), st.name()))
            .collect();
        let _ = writeln!(s, "Related statuses: {}", names.join(", "));
    }
    let _ = writeln!(s, "\nFind them: schannel events --id {}", id.value());
    s
}

/// The events that carry an alert code in AlertDesc.
const ALERT_EVENTS: [EventId; 2] = [EventId::FatalAlertReceived, EventId::FatalAlertGenerated];

fn explain_alert(a: AlertDescription) -> String {
    let mut s = String::new();
    let status = a.received_status();
    match (a.name(), alert_explanation(a)) {
        (Some(name), Some(ex)) => {
            let _ = writeln!(
                s,
                "TLS alert {} {name}{}",
                a.0,
                if a.is_reserved() {
                    " (reserved: TLS 1.2 and later no longer send it)"
                } else {
                    ""
                }
            );
            let _ = writeln!(s, "\n{}", ex.meaning);
            list(&mut s, "Likely causes:", ex.causes);
            list(&mut s, "What to do:", ex.actions);
        }
        _ => {
            let _ = writeln!(
                s,
                "TLS alert {} (not assigned in the IANA TLS Alerts registry)",
                a.0
            );
            let _ = writeln!(
                s,
                "\nNo standard meaning. A peer that sends it is buggy, experimental, or not speaking TLS."
            );
            list(
                &mut s,
                "What to do:",
                &["Find the peer with the activity ID of the event and look at its own logs."],
            );
        }
    }
    let _ = writeln!(
        s,
        "\nReceived from the peer, it ends the handshake with {} {}.",
        status.hex(),
        status.name()
    );
    let _ = writeln!(
        s,
        "Events: 36887 when the peer sends it (AlertDesc={code}), 36888 when this side sends it.",
        code = a.0
    );
    let related: Vec<String> = EVENT_EXPLANATIONS
        .iter()
        .filter(|e| e.alerts.contains(&a.0) && !ALERT_EVENTS.contains(&e.id))
        .map(|e| e.id.value().to_string())
        .collect();
    if !related.is_empty() {
        let _ = writeln!(s, "Often logged together with: {}", related.join(", "));
    }
    let _ = writeln!(
        s,
        "\nFind them: schannel events --id 36887 --data AlertDesc={code}\n           schannel events --id 36888 --data AlertDesc={code}",
        code = a.0
    );
    let _ = writeln!(s, "Status: schannel explain {}", status.name());
    s
}

fn explain_status(st: Status) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} = {} ({} decimal, {} as a signed HRESULT){}",
        st.name(),
        st.hex(),
        st.code(),
        st.code() as i32,
        if st.is_error() {
            ", an error"
        } else {
            ", success / information"
        }
    );
    if let Some(ex) = status_explanation(st) {
        let _ = writeln!(s, "\n{}", ex.meaning);
        list(&mut s, "Likely causes:", ex.causes);
        list(&mut s, "What to do:", ex.actions);
    }
    let alerts: Vec<String> = AlertDescription::all()
        .filter(|a| a.received_status() == st)
        .map(|a| alert_label(a.0))
        .collect();
    if !alerts.is_empty() {
        let _ = writeln!(s, "\nReceived alerts that map to it: {}", alerts.join(", "));
    }
    if st == Status::IllegalMessage {
        let _ = writeln!(s, "(also every alert code the registry does not assign)");
    }
    let events: Vec<EventId> = EVENT_EXPLANATIONS
        .iter()
        .filter(|e| e.statuses.contains(&st))
        .map(|e| e.id)
        .collect();
    if !events.is_empty() {
        let ids: Vec<String> = events.iter().map(|e| e.value().to_string()).collect();
        let _ = writeln!(s, "Events that carry or accompany it: {}", ids.join(", "));
    }
    // Events whose ErrorCode field carries statuses (36870, 36876-36879).
    if events
        .iter()
        .any(|e| e.def().field_index("ErrorCode").is_some())
    {
        let _ = writeln!(
            s,
            "\nFind them: schannel events --data ErrorCode={}",
            st.hex()
        );
    }
    s
}

/// One row per event, in ID order.
pub static EVENT_EXPLANATIONS: [EventExplanation; 25] = [
    EventExplanation {
        id: EventId::PackageLoaded,
        meaning: "The provider started: it read settings.toml, installed its crypto provider and opened the certificate stores. One per start of a program that embeds it (schannel serve, schannel connect, or your own).",
        causes: &["A program using securechannel started or reloaded."],
        actions: &[
            "Nothing to fix. Use it as a marker of restarts: `schannel events --id 36864`.",
            "It is informational, so only recorded with bit 0x4: `schannel config set EventLogging 7`.",
        ],
        alerts: &[],
        statuses: &[],
    },
    EventExplanation {
        id: EventId::CryptoModuleFailed,
        meaning: "The cryptographic module (%1, normally aws-lc-rs) could not be set up, so no TLS handshake can work in this process. %2 is the error code.",
        causes: &[
            "A FIPS build of the module failed its power-on self test.",
            "The binary was built for CPU features this machine lacks, or its crypto library is damaged.",
            "Another crypto provider was already installed process-wide by the embedding program.",
        ],
        actions: &[
            "Read the program's own error output, and look up the event's error code with `schannel explain`, e.g. `schannel explain 0x80090304` (SEC_E_INTERNAL_ERROR).",
            "Reinstall or rebuild the binary on this machine; in FIPS mode, check the module's self-test output.",
        ],
        alerts: &[],
        statuses: &[Status::InternalError],
    },
    EventExplanation {
        id: EventId::PackageLoadFailed,
        meaning: "The provider could not start for a reason other than the crypto module: its configuration or its certificate stores are unusable. Nothing that needs TLS works in this process until it is fixed.",
        causes: &[
            "settings.toml has a syntax error or a value of the wrong type.",
            "The data directory, stores/ or keys/ is missing or not readable by the service user.",
        ],
        actions: &[
            "Read the error the program printed: it names the file and the line.",
            "Check the data directory (--data-dir or SCHANNEL_DATA): owner, mode, and that stores/Root, stores/CA, stores/My and keys/ exist.",
        ],
        alerts: &[],
        statuses: &[Status::InternalError],
    },
    EventExplanation {
        id: EventId::CredentialCreating,
        meaning: "A client or server credential (%1) is being built; the certificate it uses, if any, is attached. Success or failure follows in 36868-36871.",
        causes: &["A program started a TLS client or server (AcquireCredentialsHandle in SSPI terms)."],
        actions: &[
            "Nothing to fix. Look at the events right after it for the outcome.",
            "Informational: recorded only with bit 0x4 (`schannel config set EventLogging 7`).",
        ],
        alerts: &[],
        statuses: &[],
    },
    EventExplanation {
        id: EventId::CredentialKeyProperties,
        meaning: "The private key of a credential (%1) was loaded. The fields say which module holds it, where it came from (Key name: the file under keys/ or a store name), its algorithm and flags. The key itself is never logged.",
        causes: &["A credential with a certificate and its key was created."],
        actions: &[
            "After a certificate renewal, check that Key name and Key Type are the new key's.",
            "Informational: recorded only with bit 0x4.",
        ],
        alerts: &[],
        statuses: &[],
    },
    EventExplanation {
        id: EventId::CredentialNoPrivateKey,
        meaning: "The certificate chosen for a credential (%1) has no private key this provider can find, so it cannot be used to authenticate.",
        causes: &[
            "The key file is missing from keys/ (only the certificate was copied into stores/My).",
            "The key in keys/ belongs to another certificate, often the one before a renewal.",
        ],
        actions: &[
            "Put the matching key into keys/ with mode 0600, owned by the service user.",
            "Compare public keys: `openssl x509 -noout -pubkey -in cert.pem` against `openssl pkey -pubout -in key.pem`.",
        ],
        alerts: &[],
        statuses: &[Status::NoCredentials, Status::UnknownCredentials],
    },
    EventExplanation {
        id: EventId::CredentialKeyAccessFailed,
        meaning: "The private key of a credential (%1) exists but cannot be used. %2 is the status, %3 the internal error state that says which check failed.",
        causes: &[
            "The key file is not readable by the service user.",
            "The key file is readable by group or others: refused on purpose, a key must be private.",
            "The key is encrypted and the password is missing or wrong, or the file is corrupt.",
            "The key algorithm is not supported (use RSA 2048+, ECDSA P-256/P-384 or Ed25519).",
        ],
        actions: &[
            "`chmod 600 keys/<file>` and `chown <service user>` it.",
            "Store the key unencrypted as PKCS#8 PEM inside the protected keys/ directory.",
        ],
        alerts: &[],
        statuses: &[Status::UnknownCredentials],
    },
    EventExplanation {
        id: EventId::CredentialCreationFailed,
        meaning: "A client or server credential (%1) could not be created for a reason other than its private key. %2 is the internal error state.",
        causes: &[
            "A server credential with no certificate at all.",
            "The protocols enabled for this role are ones rustls does not speak (only TLS 1.2 and 1.3 can be used).",
            "A certificate or chain file that cannot be parsed.",
        ],
        actions: &[
            "Enable TLS 1.2 or 1.3 for the role: `Protocols.\"TLS 1.2\".Server` / `.Client` in settings.toml.",
            "Check the files in stores/My and stores/CA (PEM or DER, one certificate each).",
        ],
        alerts: &[],
        statuses: &[Status::NoCredentials, Status::UnknownCredentials, Status::AlgorithmMismatch],
    },
    EventExplanation {
        id: EventId::NoDefaultServerCredentialWarning,
        meaning: "A server credential was asked for without naming a certificate, and stores/My holds none that qualifies as the default: valid now, with its key in keys/, and usable for server authentication.",
        causes: &[
            "stores/My is empty, or its certificates have expired or are not yet valid.",
            "The certificate lacks the serverAuth extended key usage, or its key is missing.",
        ],
        actions: &[
            "Install a server certificate in stores/My and its key in keys/ (mode 0600).",
            "Or configure the program to name its certificate explicitly.",
        ],
        alerts: &[],
        statuses: &[Status::NoCredentials],
    },
    EventExplanation {
        id: EventId::NoClientCipherSuites,
        meaning: "A client connection could not start: the settings leave no cipher suite this side may offer (protocols x ciphers x hashes x key exchanges).",
        causes: &[
            "TLS 1.2 and TLS 1.3 are both disabled for Client in settings.toml.",
            "Ciphers, Hashes or KeyExchangeAlgorithms entries disable everything rustls implements (AES-GCM, ChaCha20-Poly1305, SHA256/384, ECDHE).",
            "The cipher suite order (Functions) lists only suites rustls does not implement (CBC, 3DES, RC4).",
        ],
        actions: &[
            "Enable `Protocols.\"TLS 1.2\".Client` or `Protocols.\"TLS 1.3\".Client`.",
            "Remove over-broad Disabled entries; list suites such as TLS_AES_256_GCM_SHA384 in Functions.",
        ],
        alerts: &[],
        statuses: &[Status::AlgorithmMismatch],
    },
    EventExplanation {
        id: EventId::NoSharedCipherSuite,
        meaning: "A client connected to this server, but nothing it offered (protocol version or cipher suite) is enabled here, so the handshake failed. %1 is the highest protocol the client's hello offered, read from its first bytes even when rustls cannot speak it.",
        causes: &[
            "An old client that only speaks SSL 3.0, TLS 1.0 or TLS 1.1.",
            "A client offering only cipher suites disabled here or not implemented (RSA key exchange, CBC, 3DES).",
            "Internet scanners probing for old protocols (many events from many addresses).",
        ],
        actions: &[
            "Upgrade the client to TLS 1.2 or 1.3. Enabling `Protocols.\"TLS 1.0\".Server` does not help: the engine does not implement TLS 1.0/1.1.",
            "For suite mismatches, compare the client's list with Ciphers, KeyExchangeAlgorithms and Functions in settings.toml.",
            "Scanner floods are folded by flood control; `schannel events --id 36874 --data Protocol=\"TLS 1.0\"` shows who still uses it.",
        ],
        alerts: &[40, 70, 71],
        statuses: &[Status::AlgorithmMismatch, Status::UnsupportedFunction],
    },
    EventExplanation {
        id: EventId::NoSuitableClientCertificate,
        meaning: "The server asked this client for a certificate, and none of the client credential's certificates fits the issuers or signature schemes the server accepts. The handshake continues without one; the server decides whether that is enough.",
        causes: &[
            "No client certificate in stores/My, or its key is missing from keys/.",
            "The client certificate's issuer is not in the server's list of accepted CAs.",
        ],
        actions: &[
            "Install a client certificate issued by a CA the server trusts, with its key in keys/.",
            "If the server truncates its CA list (event 36885 on that server), ask its operator to shorten it.",
        ],
        alerts: &[116, 40],
        statuses: &[Status::IncompleteCredentialsInfo, Status::IncompleteCredentials],
    },
    EventExplanation {
        id: EventId::ServerCertificateInvalid,
        meaning: "The server's certificate failed validation on this client for a reason without its own event (36881-36884 cover expiry, untrusted root, revocation and name). %1 is the status; the certificate is attached.",
        causes: &[
            "A bad signature in the chain, or an unknown critical extension.",
            "The certificate is not for server authentication (key usage / extended key usage).",
            "Revocation status could not be determined and is required (CRL unreachable or stale).",
        ],
        actions: &[
            "Ask the server's operator to check its certificate: issued for server authentication (extended key usage serverAuth), correctly signed up to a root in this client's stores/Root, and with a CRL this client can reach if revocation is checked.",
            "Look up the status in the event's ErrorCode field, e.g. `schannel explain 0x80090327` (SEC_E_CERT_UNKNOWN).",
            "Inspect the attached certificate: `schannel events --id 36876 --format xml` (the <Binary> hex is the DER).",
            "For revocation problems, check the CRL distribution point is reachable and crl/ is current.",
        ],
        alerts: &[42, 43, 46],
        statuses: &[
            Status::CertUnknown,
            Status::CertWrongUsage,
            Status::CryptENoRevocationCheck,
            Status::CryptERevocationOffline,
        ],
    },
    EventExplanation {
        id: EventId::ClientCertificateInvalid,
        meaning: "A client presented a certificate that failed validation on this server. %1 is the status; the certificate is attached.",
        causes: &[
            "Issued by a CA that is not in stores/Root (0x80090325).",
            "Expired or not yet valid (0x80090328), or revoked (0x80092010).",
            "Missing the clientAuth extended key usage.",
        ],
        actions: &[
            "If the issuing CA should be trusted, add its root to stores/Root and intermediates to stores/CA.",
            "Ask the client's owner to renew or replace the certificate.",
            "Look up the status in the event's ErrorCode field, e.g. `schannel explain 0x80090325` (SEC_E_UNTRUSTED_ROOT).",
        ],
        alerts: &[42, 44, 45, 46, 48],
        statuses: &[
            Status::UntrustedRoot,
            Status::CertExpired,
            Status::CryptERevoked,
            Status::CertWrongUsage,
        ],
    },
    EventExplanation {
        id: EventId::ClientCertificateNotMappable,
        meaning: "The client certificate is valid and names an account (a subjectAltName UPN or e-mail address), but its issuer is not trusted for mapping (UPN mapping, CertificateMappingMethods 0x4), and no other rule of mappings.toml mapped it. The connection goes on unmapped.",
        causes: &[
            "The issuer is not in `[upn] issuers` of mappings.toml (or, without that list, not in stores/ClientAuth): the counterpart of Windows' NTAuth store.",
        ],
        actions: &[
            "If the CA may vouch for account names, add its subject to `[upn] issuers` (or its certificate to stores/ClientAuth); `schannel mapping test CERT` shows the result.",
            "Otherwise map its certificates explicitly with a [[one-to-one]] or [[many-to-one]] rule.",
        ],
        alerts: &[],
        statuses: &[Status::UntrustedRoot],
    },
    EventExplanation {
        id: EventId::ClientCertificateNotMapped,
        meaning: "No rule in mappings.toml produced an account for the client certificate. The connection may still go on: the application decides.",
        causes: &[
            "No rule matches the certificate's subject/issuer, issuer, or UPN.",
            "The matching method is switched off in CertificateMappingMethods.",
        ],
        actions: &[
            "Add a rule to mappings.toml (one-to-one, many-to-one by issuer, or UPN from the subject alternative name).",
            "Check `CertificateMappingMethods` enables the method the rule uses.",
        ],
        alerts: &[],
        statuses: &[Status::LogonDenied],
    },
    EventExplanation {
        id: EventId::HandshakeCompleted,
        meaning: "A client or server handshake (%1) succeeded. The fields record what was negotiated: protocol, cipher and strength, MAC, key exchange and strength, suite number, context handle, target name and both certificate subjects.",
        causes: &["A successful connection."],
        actions: &[
            "Use it for inventory, e.g. which peers still negotiate TLS 1.2: `schannel events --id 36880 --data Protocol=\"TLS 1.2\"`.",
            "Informational, one per connection: on busy servers keep EventLogging at 3 and turn on 7 only while investigating.",
        ],
        alerts: &[],
        statuses: &[Status::Ok],
    },
    EventExplanation {
        id: EventId::ServerCertificateExpired,
        meaning: "The server's certificate, or one in its chain, is outside its validity period as this client's clock sees it. The connection was refused; the certificate is attached.",
        causes: &[
            "The server certificate or an intermediate has expired.",
            "A certificate not yet valid, usually issued minutes ago or with a future start date.",
            "This machine's clock is wrong.",
        ],
        actions: &[
            "Check the local clock (`date`, NTP) first.",
            "Ask the server's operator to renew the certificate or update the intermediate.",
        ],
        alerts: &[45],
        statuses: &[Status::CertExpired, Status::CertEExpired],
    },
    EventExplanation {
        id: EventId::ServerCertificateUntrustedRoot,
        meaning: "No chain links the server's certificate to a certificate in this client's stores/Root. The connection was refused; the certificate is attached.",
        causes: &[
            "The server uses a private or internal CA that is not in stores/Root.",
            "The server does not send its intermediate, and stores/CA does not have it.",
            "A self-signed certificate.",
        ],
        actions: &[
            "If the CA is legitimate, copy its root certificate (PEM or DER) into stores/Root.",
            "Put missing intermediates into stores/CA, or fix the server to send its full chain.",
        ],
        alerts: &[48],
        statuses: &[Status::UntrustedRoot, Status::CertEUntrustedRoot, Status::CertEChaining],
    },
    EventExplanation {
        id: EventId::ServerCertificateRevoked,
        meaning: "A CRL lists the server's certificate (or one of its chain) as revoked. The connection was refused; the certificate is attached.",
        causes: &[
            "The certificate's owner or CA revoked it (key compromise, reissue, decommissioning).",
        ],
        actions: &[
            "The server's operator must install a new certificate.",
            "If you believe the CRL is wrong, check which CRL in crl/ or from the distribution point lists it.",
        ],
        alerts: &[44],
        statuses: &[Status::CryptERevoked, Status::CertERevoked],
    },
    EventExplanation {
        id: EventId::ServerCertificateWrongName,
        meaning: "The server's certificate does not list the name this client connected to (%1) among its subject alternative names. The connection was refused; the certificate is attached.",
        causes: &[
            "Connecting by IP address or by an alias the certificate does not name.",
            "A certificate with the name only in the subject CN (names are matched in subject alternative names).",
            "Reaching the wrong virtual host or a default certificate (SNI mismatch).",
        ],
        actions: &[
            "Connect with a name the certificate lists.",
            "Reissue the certificate with every name clients use in subjectAltName.",
        ],
        alerts: &[42],
        statuses: &[Status::WrongPrincipal, Status::CertECnNoMatch],
    },
    EventExplanation {
        id: EventId::TrustedIssuerListTruncated,
        meaning: "When asking clients for certificates, this server sends the names of the CAs it accepts. That list grew past the size limit and was cut, so some clients may not find a certificate the server would accept.",
        causes: &["stores/Root holds many CAs, and all of them are sent for client authentication."],
        actions: &[
            "Trust for client authentication only the CAs that issue your client certificates.",
            "Or stop sending the list: `SendTrustedIssuerList` = 0.",
        ],
        alerts: &[],
        statuses: &[],
    },
    EventExplanation {
        id: EventId::NoDefaultServerCredential,
        meaning: "A connection arrived for a server that relies on the default server certificate, and there is none, so the connection failed. (36872 is the warning when the credential was created; this is the failure when it is needed.)",
        causes: &[
            "stores/My has no valid certificate with a key and the serverAuth usage.",
        ],
        actions: &[
            "Install a server certificate in stores/My and its key in keys/ (mode 0600), or name the certificate in the program's configuration.",
        ],
        alerts: &[40, 80],
        statuses: &[Status::NoCredentials],
    },
    EventExplanation {
        id: EventId::FatalAlertReceived,
        meaning: "The peer ended the connection with a fatal TLS alert; %1 is its code. The peer decided something was wrong; the code says what.",
        causes: &[
            "Depends on the code; the most common: 40 no common protocol or suite, 42/46 the peer rejects our certificate, 48 the peer does not trust our CA, 70 protocol version mismatch.",
        ],
        actions: &[
            "Look up the alert code (the AlertDesc field, or the number in the error message), e.g. `schannel explain alert 48` for unknown_ca.",
            "Count by code: `schannel events --id 36887 --data AlertDesc=48`.",
            "The peer's own log says why it sent the alert.",
        ],
        alerts: &[40, 42, 46, 48, 70, 80],
        statuses: &[Status::IllegalMessage, Status::CertUnknown, Status::UntrustedRoot],
    },
    EventExplanation {
        id: EventId::FatalAlertGenerated,
        meaning: "This side found a fatal problem and told the peer with a TLS alert; %1 is the code, %2 the internal error state naming the check that failed, %3 the target name.",
        causes: &[
            "Certificate validation failed (see 36876-36884 or 36877 with the same activity ID).",
            "No shared protocol or suite (36874), or malformed data from the peer.",
            "Scanners and broken clients, often in floods.",
        ],
        actions: &[
            "Look at the events with the same activity ID just before it: they name the cause.",
            "Look up the alert code (the AlertDesc field), e.g. `schannel explain alert 40`; count: `schannel events --id 36888 --data AlertDesc=40`.",
        ],
        alerts: &[40, 42, 45, 46, 48, 50, 70],
        statuses: &[],
    },
];

/// One row per alert of the IANA registry (alerts.toml).
pub static ALERT_EXPLANATIONS: &[AlertExplanation] = &[
    AlertExplanation {
        code: 0,
        meaning: "close_notify: the sender is closing the connection cleanly. Not an error, and never logged as 36887/36888 on its own.",
        causes: &["The peer finished its work and shut the connection down."],
        actions: &["Nothing to do."],
    },
    AlertExplanation {
        code: 10,
        meaning: "unexpected_message: a message arrived that the protocol state does not allow at that point.",
        causes: &["A peer implementation bug, a middlebox rewriting the stream, or a non-TLS client talking to the port."],
        actions: &["Capture the traffic (tcpdump) and check for proxies or inspection devices between the peers."],
    },
    AlertExplanation {
        code: 20,
        meaning: "bad_record_mac: a record failed its integrity check; the data was altered or decrypted with the wrong keys.",
        causes: &["Corruption by a middlebox or faulty network hardware.", "A peer implementation bug."],
        actions: &["Check for TLS-inspecting proxies and NIC offload bugs; retry over a different path."],
    },
    AlertExplanation {
        code: 21,
        meaning: "decryption_failed: the old (pre-TLS 1.1) decryption error. Reserved: modern peers do not send it.",
        causes: &["A very old peer."],
        actions: &["Upgrade the peer to TLS 1.2 or 1.3."],
    },
    AlertExplanation {
        code: 22,
        meaning: "record_overflow: a record was longer than the protocol allows.",
        causes: &["A peer bug, or a peer using a larger maximum fragment length than negotiated."],
        actions: &["Update the peer's TLS library."],
    },
    AlertExplanation {
        code: 30,
        meaning: "decompression_failure: TLS compression failed. Reserved: compression is gone from TLS.",
        causes: &["A very old peer that still negotiates compression."],
        actions: &["Upgrade the peer."],
    },
    AlertExplanation {
        code: 40,
        meaning: "handshake_failure: the two sides found no acceptable set of parameters: protocol version, cipher suite, group or signature scheme.",
        causes: &[
            "The client offers only old protocols or suites the server has disabled (see 36874 on the server).",
            "A required client certificate was not sent.",
        ],
        actions: &[
            "Compare both sides' enabled protocols and suites: `Protocols.\"TLS 1.2\".Server`, Ciphers, Functions in settings.toml.",
            "On this server, look for 36874 with the same activity ID.",
        ],
    },
    AlertExplanation {
        code: 41,
        meaning: "no_certificate: the SSL 3.0 way of saying no client certificate is available. Reserved.",
        causes: &["An SSL 3.0 peer."],
        actions: &["Upgrade the peer; this provider never speaks SSL 3.0."],
    },
    AlertExplanation {
        code: 42,
        meaning: "bad_certificate: the peer rejected the certificate it was given (corrupt, bad signature, or not acceptable to it).",
        causes: &[
            "Our certificate chain is incomplete or its signature cannot be verified by the peer.",
            "The certificate does not match the name the peer expected.",
        ],
        actions: &[
            "Check the chain this side sends: certificate in stores/My, intermediates in stores/CA.",
            "Check the names in the certificate's subjectAltName.",
        ],
    },
    AlertExplanation {
        code: 43,
        meaning: "unsupported_certificate: the peer does not support the kind of certificate it was given (key type or signature algorithm).",
        causes: &["An uncommon key type (for example Ed25519) for an older peer, or an unsupported signature algorithm."],
        actions: &["Use an RSA 2048 or ECDSA P-256 certificate for broad compatibility."],
    },
    AlertExplanation {
        code: 44,
        meaning: "certificate_revoked: the certificate was found in a revocation list.",
        causes: &["The certificate was revoked by its CA."],
        actions: &["Replace the certificate (stores/My and keys/)."],
    },
    AlertExplanation {
        code: 45,
        meaning: "certificate_expired: a certificate is outside its validity period for the side that checked it.",
        causes: &["An expired or not-yet-valid certificate.", "A wrong clock on either side."],
        actions: &["Renew the certificate; check both machines' clocks."],
    },
    AlertExplanation {
        code: 46,
        meaning: "certificate_unknown: the peer could not accept the certificate for an unspecified reason, often an issuer it does not know.",
        causes: &[
            "The peer does not trust our CA, or our chain lacks an intermediate.",
            "A new CA not yet distributed to the peer's trust store.",
        ],
        actions: &["Send the full chain (intermediates in stores/CA) and make sure the peer trusts the root."],
    },
    AlertExplanation {
        code: 47,
        meaning: "illegal_parameter: a handshake field had a value out of range or inconsistent with other fields.",
        causes: &["A peer implementation bug or a middlebox altering the handshake."],
        actions: &["Update the peer's TLS library; check for inspecting proxies."],
    },
    AlertExplanation {
        code: 48,
        meaning: "unknown_ca: the certificate chain was valid in form, but it leads to a CA the checking side does not trust.",
        causes: &[
            "Our certificate is issued by a private CA the peer does not have.",
            "Received by a server: the client does not trust the server's CA; sent by this side: the peer's CA is not in stores/Root.",
        ],
        actions: &[
            "Add the CA's root to the trust store of the side that sent the alert (here: stores/Root).",
            "Check that intermediates are sent (stores/CA).",
        ],
    },
    AlertExplanation {
        code: 49,
        meaning: "access_denied: the certificate is valid, but the peer's access control refused this identity.",
        causes: &["The client certificate maps to no account or an account without access."],
        actions: &["On a server here, check mappings.toml and CertificateMappingMethods; elsewhere, ask the peer's operator."],
    },
    AlertExplanation {
        code: 50,
        meaning: "decode_error: a message could not be parsed (bad length or field).",
        causes: &["A non-TLS client on a TLS port, a truncated stream, or a peer bug."],
        actions: &["Check the client is really speaking TLS to this port (not plain HTTP, not STARTTLS)."],
    },
    AlertExplanation {
        code: 51,
        meaning: "decrypt_error: a handshake signature or the Finished check failed.",
        causes: &["A certificate whose key does not match, a middlebox, or a peer bug."],
        actions: &["Check that the certificate in stores/My and the key in keys/ belong together."],
    },
    AlertExplanation {
        code: 60,
        meaning: "export_restriction: a 1990s export-grade parameter was refused. Reserved.",
        causes: &["An ancient peer."],
        actions: &["Replace the peer."],
    },
    AlertExplanation {
        code: 70,
        meaning: "protocol_version: the peer does not accept the protocol version offered or negotiated.",
        causes: &[
            "One side allows only TLS 1.3 and the other only TLS 1.2 or older.",
            "An old client offering TLS 1.0/1.1, which this provider never speaks.",
        ],
        actions: &["Enable a common version: `Protocols.\"TLS 1.2\".Server` / `.Client` = enabled on both sides."],
    },
    AlertExplanation {
        code: 71,
        meaning: "insufficient_security: the peer requires stronger parameters than those offered.",
        causes: &["The offered suites or groups are weaker than the peer's minimum."],
        actions: &["Offer AES-GCM or ChaCha20-Poly1305 suites with ECDHE (X25519, P-256)."],
    },
    AlertExplanation {
        code: 80,
        meaning: "internal_error: the sender failed for a reason unrelated to the peer or the protocol.",
        causes: &["Out of memory, a crashed helper, or a missing certificate or key on the sending side."],
        actions: &["Look at the sending side's log; here, events just before it with the same activity ID."],
    },
    AlertExplanation {
        code: 86,
        meaning: "inappropriate_fallback: a client retried with a lower version than it supports, which the server treats as a downgrade attack.",
        causes: &["A client's version fallback after a network glitch, or an active downgrade attempt."],
        actions: &["Fix whatever made the first attempt fail; do not disable the check."],
    },
    AlertExplanation {
        code: 90,
        meaning: "user_canceled: the sender abandoned the handshake deliberately.",
        causes: &["The application or the user cancelled the connection."],
        actions: &["Usually nothing; check the peer application if it keeps happening."],
    },
    AlertExplanation {
        code: 100,
        meaning: "no_renegotiation: the peer refused to renegotiate. Reserved in TLS 1.3.",
        causes: &["One side asked for renegotiation, which this provider does not perform."],
        actions: &["Configure the peer not to renegotiate (client certificates up front instead)."],
    },
    AlertExplanation {
        code: 109,
        meaning: "missing_extension: a TLS 1.3 message lacked an extension it must carry.",
        causes: &["A peer with an incomplete TLS 1.3 implementation."],
        actions: &["Update the peer's TLS library."],
    },
    AlertExplanation {
        code: 110,
        meaning: "unsupported_extension: a message carried an extension the receiver did not ask for or cannot accept there.",
        causes: &["A peer implementation bug."],
        actions: &["Update the peer's TLS library."],
    },
    AlertExplanation {
        code: 111,
        meaning: "certificate_unobtainable: a certificate could not be fetched from a URL. Reserved.",
        causes: &["An old extension no longer used."],
        actions: &["Nothing current; update the peer."],
    },
    AlertExplanation {
        code: 112,
        meaning: "unrecognized_name: the server has no certificate or virtual host for the name the client sent (SNI).",
        causes: &["The client uses a host name the server is not configured for."],
        actions: &["Use the right host name, or add a certificate for it on the server."],
    },
    AlertExplanation {
        code: 113,
        meaning: "bad_certificate_status_response: a stapled OCSP response was invalid.",
        causes: &["A stale or malformed OCSP staple on the server."],
        actions: &["Refresh the server's OCSP staple or turn stapling off (EnableOcspStaplingForSni)."],
    },
    AlertExplanation {
        code: 114,
        meaning: "bad_certificate_hash_value: a certificate hash did not match. Reserved.",
        causes: &["An old extension no longer used."],
        actions: &["Update the peer."],
    },
    AlertExplanation {
        code: 115,
        meaning: "unknown_psk_identity: the server does not know the pre-shared key the client offered.",
        causes: &["A PSK configuration mismatch."],
        actions: &["Align the PSK identities on both sides."],
    },
    AlertExplanation {
        code: 116,
        meaning: "certificate_required: the server requires a client certificate and the client sent none (TLS 1.3).",
        causes: &["No suitable client certificate (see 36875 on the client)."],
        actions: &["Install a client certificate from a CA the server accepts, with its key in keys/."],
    },
    AlertExplanation {
        code: 120,
        meaning: "no_application_protocol: client and server share no ALPN protocol (such as h2 or http/1.1).",
        causes: &["The client asks for an application protocol the server does not offer."],
        actions: &["Align the ALPN lists of both sides."],
    },
    AlertExplanation {
        code: 121,
        meaning: "encrypted_client_hello_required: the client offered Encrypted Client Hello (ECH, RFC 9849), the server did not accept it, and the client refuses to go on without it.",
        causes: &[
            "The server's ECH keys changed and the client used a stale ECHConfig (from DNS HTTPS records or a cache).",
            "A server or a TLS-terminating proxy in front of it that does not support ECH.",
        ],
        actions: &["Publish the server's current ECHConfigs (its DNS HTTPS record), or configure the client not to require ECH."],
    },
];

/// One row per status of the status table (status.toml and chain-status.toml).
pub static STATUS_EXPLANATIONS: &[StatusExplanation] = &[
    StatusExplanation {
        status: Status::Ok,
        meaning: "Success: the call completed.",
        causes: &["A completed handshake or message operation."],
        actions: &["Nothing to do."],
    },
    StatusExplanation {
        status: Status::ContinueNeeded,
        meaning: "The handshake is under way: send the output token to the peer and call again with its answer.",
        causes: &["Normal during a handshake."],
        actions: &["Nothing to fix; keep driving the handshake."],
    },
    StatusExplanation {
        status: Status::CompleteNeeded,
        meaning: "The caller must finish the message (CompleteAuthToken) before sending it. Schannel-style TLS does not use it.",
        causes: &["Not returned by this provider's TLS contexts."],
        actions: &["Nothing to fix."],
    },
    StatusExplanation {
        status: Status::CompleteAndContinue,
        meaning: "Both of the above: finish the token, then continue the handshake. Not used for TLS.",
        causes: &["Not returned by this provider's TLS contexts."],
        actions: &["Nothing to fix."],
    },
    StatusExplanation {
        status: Status::ContextExpiredInfo,
        meaning: "The peer closed the connection cleanly (close_notify); no more data will come.",
        causes: &["Normal end of a connection."],
        actions: &["Shut the context down and close the socket."],
    },
    StatusExplanation {
        status: Status::IncompleteCredentialsInfo,
        meaning: "The server asked for a client certificate and this client has none to offer; the caller may supply one or continue without.",
        causes: &["No suitable client certificate (event 36875)."],
        actions: &["Install a client certificate in stores/My with its key in keys/, or continue anonymously."],
    },
    StatusExplanation {
        status: Status::Renegotiate,
        meaning: "The peer wants a new handshake on this connection (or a TLS 1.3 post-handshake message arrived).",
        causes: &["Post-handshake authentication or key update requested by the peer."],
        actions: &["Drive the handshake again with the received data."],
    },
    StatusExplanation {
        status: Status::NoRenegotiation,
        meaning: "The peer declined to renegotiate.",
        causes: &["Renegotiation is disabled on the peer."],
        actions: &["Avoid renegotiation; request client certificates in the first handshake."],
    },
    StatusExplanation {
        status: Status::MessageFragment,
        meaning: "Only part of a message fit the output; call again for the rest.",
        causes: &["Output buffer smaller than the message."],
        actions: &["Call again, or use a larger buffer."],
    },
    StatusExplanation {
        status: Status::InsufficientMemory,
        meaning: "Not enough memory to complete the call.",
        causes: &["Memory exhaustion in the process."],
        actions: &["Check the process's memory limits (systemd MemoryMax, ulimit)."],
    },
    StatusExplanation {
        status: Status::InvalidHandle,
        meaning: "The credential or context handle passed in is not valid (freed, never created, or of the wrong kind).",
        causes: &["A use-after-free or mixed-up handle in the calling program."],
        actions: &["Fix the calling program's handle lifetime."],
    },
    StatusExplanation {
        status: Status::UnsupportedFunction,
        meaning: "The request is not supported; with TLS it usually means no protocol version in common.",
        causes: &["The peer sent protocol_version (70).", "A feature this provider does not implement was asked for."],
        actions: &["Enable a common protocol version: `Protocols.\"TLS 1.2\".Client` / `.Server`."],
    },
    StatusExplanation {
        status: Status::TargetUnknown,
        meaning: "The target (server name) is not known or not valid.",
        causes: &["An empty or malformed target name."],
        actions: &["Pass the server's DNS name or IP address as the target."],
    },
    StatusExplanation {
        status: Status::InternalError,
        meaning: "Something failed inside the provider or the peer for a reason that has nothing to do with the other side.",
        causes: &["The peer sent internal_error (80).", "The crypto module failed (event 36865)."],
        actions: &["Look at the program's error output and at the events just before it."],
    },
    StatusExplanation {
        status: Status::InvalidToken,
        meaning: "The input token is not valid TLS data for this context.",
        causes: &["Non-TLS bytes on the connection, or data fed into the wrong context."],
        actions: &["Check the peer speaks TLS on this port and the program passes the right buffers."],
    },
    StatusExplanation {
        status: Status::LogonDenied,
        meaning: "Authentication was refused: the identity is known but not allowed.",
        causes: &["The peer sent access_denied (49).", "Client certificate mapping failed (event 36879)."],
        actions: &["Check mappings.toml and CertificateMappingMethods on the server."],
    },
    StatusExplanation {
        status: Status::UnknownCredentials,
        meaning: "The credential cannot be used: its certificate or private key is unusable.",
        causes: &[
            "A private key that is unreadable, has unsafe permissions, is encrypted or corrupt (event 36870).",
            "A certificate without its key (event 36869).",
        ],
        actions: &["`chmod 600 keys/<file>`, owner the service user; make sure the key matches the certificate."],
    },
    StatusExplanation {
        status: Status::NoCredentials,
        meaning: "No credential is available for the request.",
        causes: &["No server certificate in stores/My (events 36872/36886).", "A credential created without a certificate where one is required."],
        actions: &["Install a certificate in stores/My and its key in keys/."],
    },
    StatusExplanation {
        status: Status::MessageAltered,
        meaning: "A record failed its integrity check: it was altered in transit or corrupted.",
        causes: &["The peer sent bad_record_mac (20).", "A middlebox rewriting the stream."],
        actions: &["Check the network path for inspecting proxies; retry."],
    },
    StatusExplanation {
        status: Status::OutOfSequence,
        meaning: "A message arrived out of order.",
        causes: &["Replayed, dropped or reordered records, or a caller bug."],
        actions: &["Check the program feeds records in order and does not drop data."],
    },
    StatusExplanation {
        status: Status::NoAuthenticatingAuthority,
        meaning: "No authority could be contacted to authenticate.",
        causes: &["A certificate-chain or revocation source that could not be reached."],
        actions: &["Check network access to CRL distribution points, or place CRLs in crl/."],
    },
    StatusExplanation {
        status: Status::ContextExpired,
        meaning: "The context can no longer be used: the connection was closed or shut down.",
        causes: &["Using a context after shutdown or after the peer closed."],
        actions: &["Start a new connection."],
    },
    StatusExplanation {
        status: Status::IncompleteMessage,
        meaning: "The input holds only part of a TLS record; more bytes are needed.",
        causes: &["Normal on a stream: the rest has not arrived yet."],
        actions: &["Read more from the socket and call again with all the buffered bytes."],
    },
    StatusExplanation {
        status: Status::IncompleteCredentials,
        meaning: "The credential lacks something the handshake needs, typically the client certificate the server asked for.",
        causes: &["The server requires a client certificate and none is configured (event 36875)."],
        actions: &["Install a suitable client certificate in stores/My with its key in keys/."],
    },
    StatusExplanation {
        status: Status::BufferTooSmall,
        meaning: "The output buffer is too small for the result.",
        causes: &["A caller buffer smaller than a record or token."],
        actions: &["Allocate buffers of the size the context reports (header + 16 KiB + trailer)."],
    },
    StatusExplanation {
        status: Status::WrongPrincipal,
        meaning: "The server's certificate is not for the name the client connected to.",
        causes: &["Connecting by an alias or IP the certificate does not list (event 36884)."],
        actions: &["Connect with a name in the certificate's subjectAltName, or reissue the certificate."],
    },
    StatusExplanation {
        status: Status::TimeSkew,
        meaning: "The clocks of the two sides disagree too much.",
        causes: &["A wrong system clock."],
        actions: &["Fix the clock (NTP)."],
    },
    StatusExplanation {
        status: Status::UntrustedRoot,
        meaning: "The certificate chains to a CA that is not trusted here (or, when received as an alert, the peer does not trust ours).",
        causes: &["A private CA missing from stores/Root (events 36882, 36877).", "The peer sent unknown_ca (48)."],
        actions: &["Add the root to stores/Root (and intermediates to stores/CA) if it should be trusted."],
    },
    StatusExplanation {
        status: Status::IllegalMessage,
        meaning: "The peer sent something that breaks the protocol, or ended the handshake with an alert that has no more specific status.",
        causes: &["The peer sent handshake_failure (40), decode_error (50) and similar alerts.", "Non-TLS traffic or a buggy peer."],
        actions: &["Find the peer's alert with `schannel events --id 36887 --count 1` (its AlertDesc field), then look it up, e.g. `schannel explain alert 50` for decode_error."],
    },
    StatusExplanation {
        status: Status::CertUnknown,
        meaning: "A certificate could not be accepted for an unspecified reason.",
        causes: &["The peer sent bad_certificate (42), unsupported_certificate (43) or certificate_unknown (46).", "Local validation failed in a way without its own status (event 36876)."],
        actions: &["Check the chain sent (stores/My, stores/CA) and whether the peer trusts its root."],
    },
    StatusExplanation {
        status: Status::CertExpired,
        meaning: "A certificate is expired or not yet valid.",
        causes: &["An expired certificate (events 36881, 36877), or a wrong clock.", "The peer sent certificate_expired (45)."],
        actions: &["Renew the certificate; check the clock."],
    },
    StatusExplanation {
        status: Status::EncryptFailure,
        meaning: "Encrypting a message failed.",
        causes: &["A context in the wrong state, or an internal failure."],
        actions: &["Check the program only encrypts after the handshake completed."],
    },
    StatusExplanation {
        status: Status::DecryptFailure,
        meaning: "Decrypting a message, or verifying a handshake signature, failed.",
        causes: &["The peer sent decrypt_error (51).", "Corrupted data."],
        actions: &["Check for middleboxes; check that certificate and key belong together."],
    },
    StatusExplanation {
        status: Status::AlgorithmMismatch,
        meaning: "The two sides have no cipher suite, group or signature scheme in common.",
        causes: &["Settings disable every suite the peer offers (events 36873, 36874).", "The peer sent insufficient_security (71)."],
        actions: &["Compare enabled protocols and suites; enable TLS 1.2/1.3 AES-GCM or ChaCha20 suites."],
    },
    StatusExplanation {
        status: Status::UnfinishedContextDeleted,
        meaning: "The handshake was abandoned before it finished.",
        causes: &["The peer sent user_canceled (90), or the program deleted the context mid-handshake."],
        actions: &["Usually nothing; check the peer if it recurs."],
    },
    StatusExplanation {
        status: Status::CertWrongUsage,
        meaning: "The certificate is not allowed for this purpose (key usage or extended key usage).",
        causes: &["A server certificate without serverAuth, or a client certificate without clientAuth."],
        actions: &["Reissue the certificate with the right extended key usage."],
    },
    StatusExplanation {
        status: Status::InvalidParameter,
        meaning: "A parameter of the call is not valid.",
        causes: &["A caller bug: wrong flags or buffer types."],
        actions: &["Fix the calling program."],
    },
    StatusExplanation {
        status: Status::ApplicationProtocolMismatch,
        meaning: "Client and server share no ALPN protocol.",
        causes: &["The peer sent no_application_protocol (120)."],
        actions: &["Align the ALPN lists (h2, http/1.1, ...)."],
    },
    StatusExplanation {
        status: Status::CryptENotFound,
        meaning: "The object or property asked for was not found: typically no certificate in a store matches the query.",
        causes: &["A thumbprint or subject given to `--thumbprint` / `--subject` that no certificate in stores/My has.", "A certificate whose private key is not in keys/."],
        actions: &["Pass the thumbprint or subject of a certificate in stores/My (`openssl x509 -noout -fingerprint -sha1 -in stores/My/<file>`), with its key in keys/."],
    },
    StatusExplanation {
        status: Status::CryptERevoked,
        meaning: "A certificate is revoked.",
        causes: &["A CRL lists it (events 36883, 36877).", "The peer sent certificate_revoked (44)."],
        actions: &["Replace the certificate."],
    },
    StatusExplanation {
        status: Status::CryptENoRevocationCheck,
        meaning: "Revocation could not be checked: no CRL covers the certificate.",
        causes: &["The certificate has no CRL distribution point and crl/ holds none for its issuer."],
        actions: &["Place the issuer's CRL in crl/, or relax the revocation requirement."],
    },
    StatusExplanation {
        status: Status::CryptERevocationOffline,
        meaning: "Revocation could not be checked because no fresh CRL could be had; the message says which: an unreachable distribution point or an expired CRL.",
        causes: &[
            "The CRL distribution point is down, blocked by a firewall, too slow or serves something that is not the issuer's CRL.",
            "The only CRL of the issuer (in crl/, or served by the distribution point) is past its nextUpdate, and CryptoAPI does not use a stale CRL.",
        ],
        actions: &[
            "Allow outbound HTTP to the distribution point, or place a current CRL in crl/.",
            "To accept certificates whose status cannot be known, use --revocation-offline ignore (SCH_CRED_IGNORE_REVOCATION_OFFLINE).",
        ],
    },
    StatusExplanation {
        status: Status::CertsrvEWeakSignatureOrKey,
        meaning: "Chain validation: a signature algorithm or key in the chain is weaker than policy allows (for example SHA-1 signatures or RSA keys under 2048 bits).",
        causes: &["A legacy certificate signed with SHA-1 or MD5.", "An RSA key shorter than 2048 bits, or an EC curve the policy does not accept."],
        actions: &["Reissue the certificate with a SHA-256 (or stronger) signature and an RSA 2048+ or P-256+ key."],
    },
    StatusExplanation {
        status: Status::TrustECertSignature,
        meaning: "Chain validation: a certificate's signature does not verify with its issuer's public key.",
        causes: &["A certificate that was altered or corrupted.", "The wrong issuer certificate in stores/CA (same name, different key)."],
        actions: &["Replace the damaged certificate, and put the real issuer (matching key) in stores/CA."],
    },
    StatusExplanation {
        status: Status::TrustEBasicConstraints,
        meaning: "Chain validation: a certificate's basic constraints are missing or invalid (a certificate that signs others is not marked as a CA).",
        causes: &["An intermediate or root without basicConstraints CA:TRUE.", "An end-entity certificate used to issue another certificate."],
        actions: &["Issue the intermediate again with basicConstraints CA:TRUE and keyCertSign key usage."],
    },
    StatusExplanation {
        status: Status::CertEExpired,
        meaning: "Chain validation: a certificate is expired or not yet valid.",
        causes: &["An expired certificate in the chain, or a wrong clock."],
        actions: &["Renew the certificate; check the clock."],
    },
    StatusExplanation {
        status: Status::CertEValidityPeriodNesting,
        meaning: "Chain validation: a certificate's validity period is not inside its issuer's.",
        causes: &["A certificate issued to outlive the CA that signed it."],
        actions: &["Reissue the certificate with an end date before its issuer's, or renew the issuing CA."],
    },
    StatusExplanation {
        status: Status::CertERole,
        meaning: "Chain validation: a certificate is used in a role it may not take: an end-entity certificate as a CA, or a CA certificate as an end entity.",
        causes: &["A server certificate that is also marked CA:TRUE, or a leaf certificate placed in stores/CA to sign others."],
        actions: &["Use separate CA and end-entity certificates; issue the leaf with basicConstraints CA:FALSE."],
    },
    StatusExplanation {
        status: Status::CertEPathLenConst,
        meaning: "Chain validation: the chain is longer than a CA's path length constraint allows.",
        causes: &["An intermediate below a CA whose pathLenConstraint forbids more intermediates."],
        actions: &["Issue the certificate from a CA the constraint allows, or reissue the CA with a larger pathLenConstraint."],
    },
    StatusExplanation {
        status: Status::CertECritical,
        meaning: "Chain validation: a certificate has a critical extension that the validator does not understand.",
        causes: &["A certificate with a private or new extension marked critical."],
        actions: &["Reissue the certificate without marking unknown extensions critical."],
    },
    StatusExplanation {
        status: Status::CertEPurpose,
        meaning: "Chain validation: the certificate is not valid for the purpose it is used for.",
        causes: &["A certificate whose key usage or extended key usage does not include the requested purpose."],
        actions: &["Reissue the certificate with the right key usage and extended key usage (serverAuth or clientAuth)."],
    },
    StatusExplanation {
        status: Status::CertEIssuerChaining,
        meaning: "Chain validation: a certificate in the chain was not issued by the certificate that follows it.",
        causes: &["A wrong intermediate sent by the peer or placed in stores/CA (same subject, different key)."],
        actions: &["Put the intermediate that really issued the certificate in stores/CA, or fix the peer's chain file."],
    },
    StatusExplanation {
        status: Status::CertEMalformed,
        meaning: "Chain validation: a certificate is malformed: a required field is missing or empty.",
        causes: &["A certificate made by a broken tool, or one damaged in transit or in storage."],
        actions: &["Regenerate the certificate with a standard tool and check it with `openssl x509 -text -noout`."],
    },
    StatusExplanation {
        status: Status::CertEUntrustedRoot,
        meaning: "Chain validation: the chain ends in a root that is not trusted.",
        causes: &["The root is not in stores/Root."],
        actions: &["Add the root to stores/Root if it should be trusted."],
    },
    StatusExplanation {
        status: Status::CertEChaining,
        meaning: "Chain validation: no chain could be built to any root.",
        causes: &["A missing intermediate certificate."],
        actions: &["Add the intermediate to stores/CA, or fix the peer to send its full chain."],
    },
    StatusExplanation {
        status: Status::TrustEFail,
        meaning: "Chain validation: a generic trust failure without a more specific reason.",
        causes: &["A chain that fails a trust policy check none of the specific codes describe."],
        actions: &["Check the whole chain with `openssl verify -CAfile stores/Root/<root>.pem -untrusted stores/CA/<intermediate>.pem <cert>.pem`."],
    },
    StatusExplanation {
        status: Status::CertERevoked,
        meaning: "Chain validation: a certificate in the chain is revoked.",
        causes: &["A CRL lists the certificate or an intermediate."],
        actions: &["Replace the revoked certificate."],
    },
    StatusExplanation {
        status: Status::CertERevocationFailure,
        meaning: "Chain validation: revocation status could not be determined.",
        causes: &["CRL unreachable, expired or missing."],
        actions: &["Check the CRL distribution point and crl/."],
    },
    StatusExplanation {
        status: Status::CertECnNoMatch,
        meaning: "Chain validation: the certificate's names do not include the expected one.",
        causes: &["Connecting by a name the certificate does not list (event 36884)."],
        actions: &["Use a listed name or reissue the certificate with subjectAltName entries."],
    },
    StatusExplanation {
        status: Status::CertEWrongUsage,
        meaning: "Chain validation: the certificate is not valid for the requested usage.",
        causes: &["Missing serverAuth or clientAuth extended key usage."],
        actions: &["Reissue the certificate with the right extended key usage."],
    },
    StatusExplanation {
        status: Status::TrustEExplicitDistrust,
        meaning: "Chain validation: a certificate in the chain is explicitly distrusted.",
        causes: &["An operator or vendor marked the certificate or its CA as untrusted (Windows keeps such certificates in the Disallowed store)."],
        actions: &["Do not override a distrust you did not set; get a certificate from a trusted CA instead."],
    },
    StatusExplanation {
        status: Status::CertEInvalidPolicy,
        meaning: "Chain validation: the chain does not satisfy a certificate policy that is required (policy constraints).",
        causes: &["A CA with requireExplicitPolicy or inhibitPolicyMapping, and a chain whose certificates do not carry an accepted policy."],
        actions: &["Issue the certificates with the certificate policies their CA requires."],
    },
    StatusExplanation {
        status: Status::CertEInvalidName,
        meaning: "Chain validation: a name in a certificate is invalid, or is not allowed by a CA's name constraints.",
        causes: &["A certificate for a name outside the permitted subtrees of an issuing CA's nameConstraints.", "A malformed name in the subject or subjectAltName."],
        actions: &["Issue the certificate from a CA whose name constraints permit the name, or correct the name."],
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_states_parse_by_number_and_name_and_say_where_they_are_logged() {
        for words in [
            &["3018"][..],
            &["state", "3018"],
            &["ErrorState", "handshakeinterleaved"],
        ] {
            assert_eq!(
                Subject::parse(words),
                Ok(Subject::State(ErrorState::HandshakeInterleaved)),
                "{words:?}"
            );
        }
        let text = explain(Subject::State(ErrorState::HandshakeInterleaved));
        assert!(
            text.starts_with("Error state 3018 (HandshakeInterleaved)"),
            "{text}"
        );
        assert!(text.contains("schannel events --id 36888 --data ErrorState=3018"));
        let key = explain(Subject::State(ErrorState::KeyPermissionsUnsafe));
        assert!(key.contains("--id 36870 --data ErrorStatus=2002"), "{key}");
        let e = Subject::parse(&["state", "77"]).unwrap_err();
        assert!(e.problem.contains("3001-3023, 3099"), "{}", e.problem);
        // Numbers that are events or alerts keep their meaning.
        assert_eq!(
            Subject::parse(&["36888"]),
            Ok(Subject::Event(EventId::FatalAlertGenerated))
        );
    }

    #[test]
    fn every_event_has_a_row_in_id_order() {
        assert_eq!(EVENT_EXPLANATIONS.len(), CATALOG.len());
        for (row, def) in EVENT_EXPLANATIONS.iter().zip(CATALOG.iter()) {
            assert_eq!(row.id, def.id);
        }
    }

    #[test]
    fn actions_stand_alone_without_placeholders() {
        // The CLI prints an explanation's first action on its own as a hint, with no event
        // data to fill in: no `%1` insertion strings, no `<ErrorCode>` placeholders.
        let actions = EVENT_EXPLANATIONS
            .iter()
            .flat_map(|e| e.actions)
            .chain(ALERT_EXPLANATIONS.iter().flat_map(|a| a.actions))
            .chain(STATUS_EXPLANATIONS.iter().flat_map(|s| s.actions));
        let mut n = 0;
        for a in actions {
            n += 1;
            assert!(
                !(1..=12).any(|i| a.contains(&format!("%{i}"))),
                "insertion string in {a:?}"
            );
            // An event's data field cannot be filled in either (`<file>` in a shell
            // command is the operator's to choose, and stays).
            for field in CATALOG.iter().flat_map(|d| d.fields).chain(&["code"]) {
                assert!(!a.contains(&format!("<{field}>")), "placeholder in {a:?}");
            }
        }
        assert!(n > 100, "{n} actions");
        let cert = event_explanation(EventId::ServerCertificateInvalid).actions[0];
        assert!(cert.starts_with("Ask the server's operator"), "{cert}");
    }
}
