//! The web event viewer: `schannel events serve`. See `docs/viewer.md` for the API.

use crate::live::Live;
use axum::extract::{Path as UrlPath, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use securechannel_eventlog::{
    Cmp, EventLogError, Filter, LogReader, Query, QueryError, QuerySpec, LOG_FILE_NAME,
};
use securechannel_events::{
    event_data, format_rfc3339, render_message, render_text, render_xml, EventRecord, FoldReason,
    UnixNanos, Wording, CATALOG,
};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;
use zeroize::Zeroizing;

/// The page (HTML, CSS and JS in one file, no build step).
const PAGE: &str = include_str!("page.html");

/// A page holds at most this many records.
pub const MAX_PAGE: usize = 500;
/// A page holds this many unless `count` says.
pub const DEFAULT_PAGE: usize = 50;
/// A free-text search reads at most this many records per request (newest first from the
/// cursor), then answers with what it found and a cursor to go on from, so a search that
/// matches rarely stays bounded in time on a large log.
pub const TEXT_SCAN_LIMIT: usize = 50_000;
/// A stream started with `after` first sends at most this many records committed since.
pub const STREAM_BACKLOG: usize = 1000;
/// The chart covers at most this many minutes.
pub const MAX_CHART_MINUTES: u32 = 24 * 60;
/// A token shorter than this is refused: it guards a log that names hosts and
/// certificates.
pub const MIN_TOKEN_LEN: usize = 16;

/// Why the viewer does not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum ViewerError {
    /// A non-loopback address without a token (or with one too short).
    Exposed(String),
    /// No event log in the data directory, or it cannot be read.
    Log(EventLogError),
    /// The address cannot be listened on.
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

impl std::fmt::Display for ViewerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ViewerError::Exposed(why) => f.write_str(why),
            ViewerError::Log(e) => write!(f, "the event log cannot be read: {e}"),
            ViewerError::Listen { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
        }
    }
}

impl std::error::Error for ViewerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ViewerError::Exposed(_) => None,
            ViewerError::Log(e) => Some(e),
            ViewerError::Listen { source, .. } => Some(source),
        }
    }
}

/// Who may read: events name hosts and certificates, so only this machine, unless a
/// bearer token guards the API.
pub struct ListenPolicy {
    token: Option<Zeroizing<String>>,
    loopback_only: bool,
}

impl std::fmt::Debug for ListenPolicy {
    // The token is never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenPolicy")
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("loopback_only", &self.loopback_only)
            .finish()
    }
}

impl ListenPolicy {
    /// The policy for listening on `addr` with an optional token: a loopback address needs
    /// none (the API then answers only requests whose Host is a loopback name, against DNS
    /// rebinding); any other address needs one of at least [`MIN_TOKEN_LEN`] characters.
    pub fn new(addr: SocketAddr, token: Option<Zeroizing<String>>) -> Result<Self, ViewerError> {
        let token = token.filter(|t| !t.is_empty());
        if let Some(t) = &token {
            if t.chars().count() < MIN_TOKEN_LEN {
                return Err(ViewerError::Exposed(format!(
                    "the token is too short: use at least {MIN_TOKEN_LEN} characters (e.g. `openssl rand -hex 16`)"
                )));
            }
        }
        let loopback = addr.ip().is_loopback();
        if !loopback && token.is_none() {
            return Err(ViewerError::Exposed(format!(
                "refusing to serve the event log on {addr}: it is not a loopback address, and events name hosts and certificates; give a bearer token (--token or SCHANNEL_VIEWER_TOKEN) or listen on 127.0.0.1 / [::1]"
            )));
        }
        Ok(ListenPolicy {
            token,
            loopback_only: loopback,
        })
    }

    /// Whether the request may read the log.
    fn admits(&self, headers: &HeaderMap, query: Option<&str>) -> Result<(), (StatusCode, String)> {
        if self.loopback_only && self.token.is_none() {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("");
            if !is_loopback_host(host) {
                return Err((
                    StatusCode::MISDIRECTED_REQUEST,
                    format!("this viewer answers only loopback host names, not '{host}'"),
                ));
            }
        }
        let Some(want) = &self.token else {
            return Ok(());
        };
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(|t| Zeroizing::new(t.trim().to_string()));
        // EventSource cannot set headers: the stream takes `access_token` in the query.
        let given = bearer.or_else(|| {
            query.and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "access_token")
                    .map(|(_, v)| Zeroizing::new(v.into_owned()))
            })
        });
        match given {
            Some(t) if bool::from(t.as_bytes().ct_eq(want.as_bytes())) => Ok(()),
            Some(_) => Err((StatusCode::UNAUTHORIZED, "wrong token".into())),
            None => Err((
                StatusCode::UNAUTHORIZED,
                "this viewer needs a bearer token: Authorization: Bearer <token>".into(),
            )),
        }
    }
}

/// `localhost`, `127.0.0.1`, `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The viewer of one data directory's log.
pub struct Viewer {
    state: Arc<AppState>,
}

struct AppState {
    reader: LogReader,
    policy: ListenPolicy,
    live: Live,
}

impl Viewer {
    /// A viewer of the log in `data_dir` (which must exist: the viewer never creates it).
    pub fn open(data_dir: &Path, policy: ListenPolicy) -> Result<Viewer, ViewerError> {
        let path = data_dir.join(LOG_FILE_NAME);
        let reader = LogReader::open(&path).map_err(ViewerError::Log)?;
        let last = reader.last_record_id().map_err(ViewerError::Log)?;
        let live = Live::start(path, last);
        Ok(Viewer {
            state: Arc::new(AppState {
                reader,
                policy,
                live,
            }),
        })
    }

    /// The routes: `/` (the page) and `/api/...`.
    pub fn router(&self) -> Router {
        let api = Router::new()
            .route("/api/events", get(list))
            .route("/api/events/{record_id}", get(detail))
            .route("/api/stream", get(stream))
            .route("/api/rate", get(rate))
            .route("/api/pending", get(pending))
            .route("/api/catalog", get(catalog))
            .route_layer(middleware::from_fn_with_state(self.state.clone(), guard));
        Router::new()
            .route("/", get(|| async { Html(PAGE) }))
            .merge(api)
            .with_state(self.state.clone())
    }

    /// Serve on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

async fn guard(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    match st.policy.admits(req.headers(), req.uri().query()) {
        Ok(()) => next.run(req).await,
        Err((code, why)) => (code, Json(json!({ "error": why }))).into_response(),
    }
}

/// An API error: 400 for a bad filter (with the CLI's wording), 404, 500 for the log.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError(StatusCode::BAD_REQUEST, e.to_string())
    }
}

impl From<EventLogError> for ApiError {
    fn from(e: EventLogError) -> Self {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

/// The parameters of the list, stream and rate endpoints, parsed from the query string
/// (repeated `data=` and comma lists as the CLI takes them).
#[derive(Debug, Default)]
struct Params {
    spec: QuerySpec,
    text: Option<String>,
    count: usize,
    before: Option<u64>,
    after: Option<u64>,
    minutes: u32,
}

impl Params {
    fn parse(raw: Option<&str>) -> Result<Params, ApiError> {
        let mut p = Params {
            count: DEFAULT_PAGE,
            minutes: 60,
            ..Params::default()
        };
        let bad = |k: &str, v: &str, want: &str| {
            ApiError(StatusCode::BAD_REQUEST, format!("{k}='{v}' is not {want}"))
        };
        for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let list = || {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
            };
            match &*k {
                "id" => p.spec.ids.extend(list()),
                "level" => p.spec.levels.extend(list()),
                "since" => p.spec.since = Some(v.to_string()),
                "until" => p.spec.until = Some(v.to_string()),
                "data" => p.spec.data.push(v.to_string()),
                "activity" => p.spec.activity = Some(v.to_string()),
                "query" => p.spec.xpath = Some(v.to_string()),
                "text" => p.text = Some(v.to_lowercase()),
                "count" => {
                    p.count = v
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_PAGE).contains(n))
                        .ok_or_else(|| bad("count", v, &format!("a number from 1 to {MAX_PAGE}")))?
                }
                "after" => p.after = Some(v.parse().map_err(|_| bad("after", v, "a record ID"))?),
                "before" => {
                    p.before = Some(v.parse().map_err(|_| bad("before", v, "a record ID"))?)
                }
                "minutes" => {
                    p.minutes = v
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=MAX_CHART_MINUTES).contains(n))
                        .ok_or_else(|| {
                            bad("minutes", v, &format!("a number from 1 to {MAX_CHART_MINUTES}"))
                        })?
                }
                "access_token" => {}
                _ => {
                    return Err(ApiError(
                        StatusCode::BAD_REQUEST,
                        format!(
                            "unknown parameter '{k}'; the filters are id, level, since, until, data, activity, query, text; paging: count, before; the stream's start: after"
                        ),
                    ))
                }
            }
        }
        Ok(p)
    }

    fn query(&self) -> Result<Query, ApiError> {
        Ok(self.spec.to_query(now())?)
    }
}

fn now() -> UnixNanos {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

/// Whether the record's rendered message (or its computer) contains `needle` (lower case).
fn text_matches(r: &EventRecord, needle: &str) -> bool {
    render_message(r, Wording::Modern)
        .to_lowercase()
        .contains(needle)
        || r.computer.to_lowercase().contains(needle)
}

/// One record as the table shows it.
fn summary(r: &EventRecord) -> Value {
    let def = r.event_id.def();
    let data: serde_json::Map<String, Value> = event_data(r)
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    json!({
        "record_id": r.record_id,
        "time": format_rfc3339(r.time, 3),
        "event_id": r.event_id.value(),
        "title": def.title,
        "level": r.level().value(),
        "level_name": r.level().name(),
        "computer": &*r.computer,
        "activity_id": r.activity_id.map(|a| a.to_string()),
        "message": render_message(r, Wording::Modern),
        "data": data,
        "fold": r.fold.map(|f| json!({
            "reason": match f.reason { FoldReason::Flood => "flood", FoldReason::NotStored => "not_stored" },
            "count": f.count,
            "first": format_rfc3339(f.first, 3),
            "last": format_rfc3339(f.last, 3),
        })),
    })
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// `GET /api/events`: a page, newest first, from the record before `before`.
async fn list(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    if p.after.is_some() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "after is the stream's start (/api/stream); pages go back from before".into(),
        ));
    }
    let base = p.query()?;
    blocking(move || {
        let started = std::time::Instant::now();
        // Read first: a stream started from it (after=newest) misses nothing.
        let newest = st.reader.last_record_id()?;
        let page = page(&st.reader, base, &p)?;
        Ok(Json(json!({
            "records": page.records.iter().map(summary).collect::<Vec<_>>(),
            "next_before": page.next,
            "scanned": page.scanned,
            "newest": newest,
            "elapsed_ms": started.elapsed().as_secs_f64() * 1000.0,
        })))
    })
    .await
}

/// One page of records.
struct Page {
    records: Vec<EventRecord>,
    /// The cursor of the next page (None at the end).
    next: Option<u64>,
    /// For a text search: how many records it read.
    scanned: Option<usize>,
}

/// The page `p` asks for of the records `base` selects.
fn page(reader: &LogReader, base: Query, p: &Params) -> Result<Page, ApiError> {
    let below = |before: Option<u64>| match before {
        Some(b) => base.clone().filter(Filter::RecordId(Cmp::Lt, b)),
        None => base.clone(),
    };
    let Some(needle) = &p.text else {
        // One more than the page says whether there is a next one.
        let mut records = reader.query(&below(p.before).count(p.count + 1))?;
        let next = (records.len() > p.count).then(|| {
            records.truncate(p.count);
            records.last().map(|r| r.record_id)
        });
        return Ok(Page {
            records,
            next: next.flatten(),
            scanned: None,
        });
    };
    let mut found = Vec::new();
    let mut scanned = 0;
    let mut cursor = p.before;
    const BATCH: usize = 1000;
    loop {
        let batch = reader.query(&below(cursor).count(BATCH))?;
        let exhausted = batch.len() < BATCH;
        for r in batch {
            scanned += 1;
            cursor = Some(r.record_id);
            if text_matches(&r, needle) {
                if found.len() == p.count {
                    // A further match: there is a next page, from the last one shown.
                    let next = found.last().map(|r: &EventRecord| r.record_id);
                    return Ok(Page {
                        records: found,
                        next,
                        scanned: Some(scanned),
                    });
                }
                found.push(r);
            }
        }
        if exhausted {
            return Ok(Page {
                records: found,
                next: None,
                scanned: Some(scanned),
            });
        }
        if scanned >= TEXT_SCAN_LIMIT {
            // Bounded: go on from the last record read.
            return Ok(Page {
                records: found,
                next: cursor,
                scanned: Some(scanned),
            });
        }
    }
}

/// `GET /api/events/{record_id}`: one record, with the General text and the XML exactly
/// as `schannel events --format text|xml` render it.
async fn detail(
    State(st): State<Arc<AppState>>,
    UrlPath(record_id): UrlPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id: u64 = record_id.parse().map_err(|_| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("'{record_id}' is not a record ID"),
        )
    })?;
    blocking(move || {
        let q = Query::new().filter(Filter::RecordId(Cmp::Eq, id)).count(1);
        let r = st.reader.query(&q)?.into_iter().next().ok_or_else(|| {
            ApiError(
                StatusCode::NOT_FOUND,
                format!("no record {id} in the log (retention may have removed it)"),
            )
        })?;
        let mut v = summary(&r);
        v["text"] = Value::String(render_text(&r, 0));
        v["xml"] = Value::String(render_xml(&r));
        Ok(Json(v))
    })
    .await
}

/// `GET /api/stream`: server-sent events, one `record` event per new matching record
/// (the table's JSON), `lagged` when this client fell behind (reload the page). With
/// `after=ID` (a list response's `newest`) it starts with the matching records committed
/// after that one, so nothing falls between a page and its stream.
async fn stream(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let query = p.query()?;
    let needle = p.text.clone();
    // Subscribe before reading the backlog: a record is then in one or the other (or
    // both, and the record ID drops the second copy).
    let rx = st.live.subscribe();
    let (backlog, lagged, mut last) = match p.after {
        None => (Vec::new(), false, 0),
        Some(after) => {
            let st = st.clone();
            let q = Query {
                oldest_first: true,
                after_record: Some(after),
                count: Some(STREAM_BACKLOG),
                ..query.clone()
            };
            let needle = needle.clone();
            blocking(move || {
                let records = st.reader.query(&q)?;
                let lagged = records.len() == STREAM_BACKLOG;
                let last = records.last().map_or(after, |r| r.record_id);
                let records = records
                    .into_iter()
                    .filter(|r| needle.as_deref().is_none_or(|n| text_matches(r, n)))
                    .map(Arc::new)
                    .collect::<Vec<_>>();
                Ok((records, lagged, last))
            })
            .await?
        }
    };
    let record_event = |r: &EventRecord| {
        Ok::<_, Infallible>(
            Event::default()
                .event("record")
                .data(summary(r).to_string()),
        )
    };
    let first: Vec<Result<Event, Infallible>> = backlog
        .iter()
        .map(|r| record_event(r))
        .chain(lagged.then(|| {
            Ok(Event::default()
                .event("lagged")
                .data(STREAM_BACKLOG.to_string()))
        }))
        .collect();
    let filter = query.filter;
    let live = BroadcastStream::new(rx).filter_map(move |item| match item {
        Ok(r) => {
            let keep = r.record_id > last
                && filter.matches(&r, now())
                && needle.as_deref().is_none_or(|n| text_matches(&r, n));
            if r.record_id > last {
                last = r.record_id;
            }
            keep.then(|| record_event(&r))
        }
        Err(BroadcastStreamRecvError::Lagged(n)) => {
            Some(Ok(Event::default().event("lagged").data(n.to_string())))
        }
    });
    let events = tokio_stream::iter(first).chain(live);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// `GET /api/rate`: records per minute by event ID over the last `minutes` (60), with the
/// copies flood-control summaries stand for.
async fn rate(
    State(st): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let p = Params::parse(raw.as_deref())?;
    let now = now();
    let minute = 60_000_000_000i64;
    let end = (now / minute + 1) * minute;
    let start = end - i64::from(p.minutes) * minute;
    let q = p.query()?.filter(Filter::Time(Cmp::Ge, start));
    blocking(move || {
        let counts = st.reader.per_minute(&q)?;
        let n = p.minutes as usize;
        let mut series: std::collections::BTreeMap<u16, (Vec<u64>, Vec<u64>)> = Default::default();
        for c in counts {
            let i = ((c.minute - start) / minute) as usize;
            if i >= n {
                continue;
            }
            let s = series
                .entry(c.event_id.value())
                .or_insert_with(|| (vec![0; n], vec![0; n]));
            s.0[i] += c.records;
            s.1[i] += c.folded;
        }
        Ok(Json(json!({
            "start": format_rfc3339(start, 0),
            "minutes": n,
            "series": series.into_iter().map(|(id, (records, folded))| json!({
                "event_id": id,
                "records": records,
                "folded": folded,
            })).collect::<Vec<_>>(),
        })))
    })
    .await
}

/// `GET /api/pending`: what flood control is still counting (`schannel events --pending`).
async fn pending(State(st): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    blocking(move || {
        let folds = st.reader.pending_folds()?;
        Ok(Json(Value::Array(
            folds
                .iter()
                .map(|p| {
                    json!({
                        "event_id": p.event_id.value(),
                        "data": p.event_id.def().fields.iter().zip(&p.data)
                            .map(|(k, v)| (k.to_string(), Value::String(v.clone())))
                            .collect::<serde_json::Map<_, _>>(),
                        "count": p.count,
                        "first": format_rfc3339(p.first, 3),
                        "last": format_rfc3339(p.last, 3),
                        "window_end": format_rfc3339(p.window_end, 3),
                        "process_id": p.process_id,
                    })
                })
                .collect(),
        )))
    })
    .await
}

/// `GET /api/catalog`: the 25 events, their levels and data field names (the filters'
/// choices).
async fn catalog() -> Json<Value> {
    Json(Value::Array(
        CATALOG
            .iter()
            .map(|d| {
                json!({
                    "event_id": d.id.value(),
                    "title": d.title,
                    "level": d.level.value(),
                    "level_name": d.level.name(),
                    "fields": d.fields,
                })
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("address")
    }

    #[test]
    fn non_loopback_needs_a_long_enough_token() {
        let t = |s: &str| Some(Zeroizing::new(s.to_string()));
        assert!(ListenPolicy::new(addr("127.0.0.1:8444"), None).is_ok());
        assert!(ListenPolicy::new(addr("[::1]:8444"), None).is_ok());
        let e = ListenPolicy::new(addr("0.0.0.0:8444"), None).expect_err("refused");
        assert!(e.to_string().contains("not a loopback address"), "{e}");
        let e = ListenPolicy::new(addr("0.0.0.0:8444"), t("short")).expect_err("refused");
        assert!(e.to_string().contains("at least 16"), "{e}");
        assert!(ListenPolicy::new(addr("0.0.0.0:8444"), t("0123456789abcdef")).is_ok());
    }

    #[test]
    fn loopback_host_names() {
        for h in [
            "localhost",
            "localhost:8444",
            "127.0.0.1:1",
            "[::1]:8444",
            "127.9.9.9",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "",
            "evil.example",
            "evil.example:8444",
            "10.0.0.1:80",
            "localhost.evil",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
