//! The filters a person writes (`--id 36887,36888 --level error --since 1h --data
//! AlertDesc=48 ...`), as text, turned into a [`Query`]. The CLI's flags and the web
//! viewer's API parameters are both this, so they select the same records.

use crate::error::QueryError;
use crate::query::{Filter, Query};
use securechannel_events::{parse_rfc3339, ActivityId, EventId, Level, UnixNanos, CATALOG};

/// The filters as text, each as the CLI flag of the same name takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuerySpec {
    /// Event IDs (`36887`), any of them.
    pub ids: Vec<String>,
    /// Levels (`error`, `warning`, `information`, `critical`, or 1-4), any of them.
    pub levels: Vec<String>,
    /// At or after: a span back from now (`30s`, `30m`, `1h`, `2d`, `1w`) or RFC 3339.
    pub since: Option<String>,
    /// At or before (same forms as `since`).
    pub until: Option<String>,
    /// `NAME=VALUE` on a data field by its EventData name; all must match.
    pub data: Vec<String>,
    /// The activity (connection) GUID.
    pub activity: Option<String>,
    /// An XPath query as wevtutil and Event Viewer take it.
    pub xpath: Option<String>,
}

impl QuerySpec {
    /// The query these filters make (newest first, no count), with `now` for spans.
    pub fn to_query(&self, now: UnixNanos) -> Result<Query, QueryError> {
        let mut q = Query::new();
        if !self.ids.is_empty() {
            let ids = self
                .ids
                .iter()
                .map(|s| parse_event_id(s))
                .collect::<Result<Vec<_>, _>>()?;
            q = q.ids(&ids);
        }
        if !self.levels.is_empty() {
            let levels = self
                .levels
                .iter()
                .map(|s| {
                    Level::parse(s.trim()).ok_or_else(|| {
                        QueryError::filter(format!(
                            "'{s}' is not a level; use error, warning or information (or critical, or 1-4)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            q = q.levels(&levels);
        }
        if let Some(s) = &self.since {
            q = q.since(parse_when(s, now, "--since")?);
        }
        if let Some(s) = &self.until {
            q = q.until(parse_when(s, now, "--until")?);
        }
        for d in &self.data {
            q = q.filter(Filter::parse_data(d)?);
        }
        if let Some(s) = &self.activity {
            q = q.activity(ActivityId::parse(s).map_err(QueryError::filter)?);
        }
        if let Some(x) = &self.xpath {
            q = q.xpath(x)?;
        }
        Ok(q)
    }
}

/// An event ID as a person writes it, checked against the catalog (the error lists the
/// valid ones).
pub fn parse_event_id(s: &str) -> Result<EventId, QueryError> {
    let n: u32 = s.trim().parse().map_err(|_| {
        QueryError::filter(format!(
            "'{s}' is not an event ID; Schannel's are 36864-36888 (e.g. 36887 for a fatal alert received)"
        ))
    })?;
    EventId::try_from(n).map_err(|e| QueryError::filter(format!("{e}; {}", id_list())))
}

fn id_list() -> String {
    let ids: Vec<String> = CATALOG
        .iter()
        .map(|d| format!("{} {}", d.id.value(), d.title))
        .collect();
    format!("the valid IDs are:\n  {}", ids.join("\n  "))
}

/// `30s`, `30m`, `1h`, `2d`, `1w` back from `now`, or an RFC 3339 time. `flag` names the
/// option in the error.
pub fn parse_when(s: &str, now: UnixNanos, flag: &str) -> Result<UnixNanos, QueryError> {
    let t = s.trim();
    let unit = t.chars().last().unwrap_or(' ');
    let scale: Option<i64> = match unit {
        's' => Some(1),
        'm' => Some(60),
        'h' => Some(3600),
        'd' => Some(86_400),
        'w' => Some(7 * 86_400),
        _ => None,
    };
    if let Some(scale) = scale {
        if let Ok(n) = t[..t.len() - 1].parse::<i64>() {
            return Ok(now.saturating_sub(n.saturating_mul(scale).saturating_mul(1_000_000_000)));
        }
    }
    parse_rfc3339(t).map_err(|_| {
        QueryError::filter(format!(
            "{flag} '{s}' is neither a span (30s, 30m, 1h, 2d, 1w) nor an RFC 3339 time (2026-11-25T10:00:00Z)"
        ))
    })
}
