//! The small HTTP/1.1 exchange `schannel serve` answers with: request heads in, pages (HTML,
//! or JSON for `Accept: application/json`) out, describing how the client connected. A
//! connection stays open for further (and pipelined) requests as RFC 9112 §9.3 says:
//! HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.

/// The largest request head accepted; beyond it the client gets 431.
const MAX_HEAD: usize = 16 * 1024;

/// How one client connected: what the page reports.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ConnectionReport {
    /// "TLS 1.3".
    pub protocol: String,
    /// IANA name, "TLS_AES_256_GCM_SHA384".
    pub cipher_suite: String,
    /// IANA number, "0x1302".
    pub cipher_suite_id: String,
    /// "AES_256_GCM".
    pub cipher: String,
    /// Bits.
    pub cipher_strength: u32,
    /// "AEAD" or the MAC/PRF hash.
    pub mac: String,
    /// "X25519".
    pub key_exchange: String,
    /// Bits.
    pub key_exchange_strength: u32,
    /// The server name the client sent (SNI).
    pub sni: Option<String>,
    /// The negotiated ALPN protocol.
    pub alpn: Option<String>,
    /// Whether the session was resumed.
    pub resumed: bool,
    /// The client certificate's subject, if one was sent.
    pub client_certificate: Option<String>,
    /// The connection's activity ID (finds its events: `schannel events --activity`).
    pub activity_id: String,
    /// The client's address.
    pub peer: String,
    /// The subject of the certificate this server presented (chosen by SNI).
    pub server_certificate: String,
    /// The account the client certificate was mapped to (`mappings.toml`).
    pub mapped_account: Option<String>,
    /// How the client certificate was mapped, or why not; `None`: no mapping ran.
    pub mapping: Option<String>,
}

/// A parsed request head.
#[derive(Debug)]
pub struct RequestHead {
    /// `GET`.
    pub method: String,
    /// `/`.
    pub path: String,
    /// `Accept: application/json` (or a path ending in `.json`).
    pub wants_json: bool,
    /// Whether the client lets the connection stay open after this request: HTTP/1.1
    /// without `Connection: close`, or HTTP/1.0 with `Connection: keep-alive`.
    pub persistent: bool,
    /// The request announces a body (`Content-Length` above 0 or `Transfer-Encoding`):
    /// the page never reads one, so the connection closes after the answer rather than
    /// read the body as the next request.
    pub has_body: bool,
}

/// One request parsed from the front of the plaintext received so far.
#[derive(Debug)]
pub enum Parsed {
    /// A complete head, and how many bytes of the buffer it took.
    Head(RequestHead, usize),
    /// A malformed (400) or oversized (431) head: answered, then the connection closes.
    Bad(u16),
}

/// Parse the request head at the front of `buf`: `None` while incomplete.
pub fn parse_request(buf: &[u8]) -> Option<Parsed> {
    match find_head_end(buf) {
        Some(end) if end > MAX_HEAD => Some(Parsed::Bad(431)),
        Some(end) => Some(match parse_head(&buf[..end]) {
            Ok(head) => Parsed::Head(head, end),
            Err(code) => Parsed::Bad(code),
        }),
        None if buf.len() > MAX_HEAD => Some(Parsed::Bad(431)),
        None => None,
    }
}

/// Where the head ends: after its first empty line. Lines end with LF, a CR before it
/// ignored (RFC 9112 2.2 lets a recipient accept a bare LF, as `openssl s_server -www`
/// and most servers do; `printf 'GET / HTTP/1.0\n\n'` clients send one).
fn find_head_end(buf: &[u8]) -> Option<usize> {
    let mut line_start = 0;
    for (i, &b) in buf.iter().enumerate() {
        if b == b'\n' {
            if line(&buf[line_start..i]).is_empty() {
                return Some(i + 1);
            }
            line_start = i + 1;
        }
    }
    None
}

/// A line without its terminator's optional CR.
fn line(bytes: &[u8]) -> &[u8] {
    bytes.strip_suffix(b"\r").unwrap_or(bytes)
}

fn parse_head(head: &[u8]) -> Result<RequestHead, u16> {
    let text = std::str::from_utf8(head).map_err(|_| 400u16)?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next().ok_or(400u16)?;
    let mut parts = request_line.split(' ');
    let (method, path, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(p), Some(v), None)
            if !m.is_empty() && !p.is_empty() && (v == "HTTP/1.1" || v == "HTTP/1.0") =>
        {
            (m, p, v)
        }
        _ => return Err(400),
    };
    let mut wants_json = false;
    let (mut close, mut keep_alive, mut has_body) = (false, false, false);
    for line in lines.filter(|l| !l.is_empty()) {
        // RFC 9112 §5: a field line is `name: value`; no whitespace before the colon.
        let Some((name, value)) = line.split_once(':') else {
            return Err(400);
        };
        if name.is_empty() || name.ends_with([' ', '\t']) {
            return Err(400);
        }
        let value = value.trim();
        if name.eq_ignore_ascii_case("accept") && value.contains("application/json") {
            wants_json = true;
        } else if name.eq_ignore_ascii_case("connection") {
            for option in value.split(',').map(str::trim) {
                close |= option.eq_ignore_ascii_case("close");
                keep_alive |= option.eq_ignore_ascii_case("keep-alive");
            }
        } else if name.eq_ignore_ascii_case("content-length") {
            has_body |= value.parse::<u64>().map_or(true, |n| n > 0);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            has_body = true;
        }
    }
    let persistent = !close && (version == "HTTP/1.1" || keep_alive);
    Ok(RequestHead {
        method: method.to_string(),
        path: path.to_string(),
        wants_json: wants_json || path.ends_with(".json"),
        persistent,
        has_body,
    })
}

/// What the response says of the connection after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    /// `Connection: keep-alive` with `Keep-Alive: timeout=N, max=M`: the idle seconds and
    /// the requests still allowed on this connection.
    KeepAlive {
        /// Seconds the server waits for the next request.
        timeout: u64,
        /// Requests still allowed after this one.
        max: u64,
    },
    /// `Connection: close`: the server closes after this response.
    Close,
}

/// The response to one request: its status code and its bytes.
pub fn response(
    head: &Result<RequestHead, u16>,
    report: &ConnectionReport,
    persistence: Persistence,
) -> (u16, Vec<u8>) {
    let (status, reason, ctype, body) = match head {
        Err(431) => (
            431,
            "Request Header Fields Too Large",
            "text/plain",
            "request head too large\n".to_string(),
        ),
        Err(code) => (
            *code,
            "Bad Request",
            "text/plain",
            "malformed HTTP request\n".to_string(),
        ),
        Ok(h) if h.method != "GET" && h.method != "HEAD" => (
            405,
            "Method Not Allowed",
            "text/plain",
            "only GET and HEAD are served\n".to_string(),
        ),
        Ok(h) if h.wants_json => (
            200,
            "OK",
            "application/json",
            serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        ),
        Ok(_) => (200, "OK", "text/html; charset=utf-8", render_html(report)),
    };
    let head_only = matches!(head, Ok(h) if h.method == "HEAD");
    let connection = match persistence {
        Persistence::KeepAlive { timeout, max } => {
            format!("Connection: keep-alive\r\nKeep-Alive: timeout={timeout}, max={max}")
        }
        Persistence::Close => "Connection: close".to_string(),
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: schannel\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{connection}\r\nCache-Control: no-store\r\n\r\n",
        body.len()
    );
    if !head_only {
        out.push_str(&body);
    }
    (status, out.into_bytes())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The HTML page.
pub fn render_html(r: &ConnectionReport) -> String {
    let none = "<i>none</i>".to_string();
    let rows = [
        ("Protocol", esc(&r.protocol)),
        (
            "Cipher suite",
            format!("{} ({})", esc(&r.cipher_suite), esc(&r.cipher_suite_id)),
        ),
        (
            "Cipher",
            format!("{} ({} bits)", esc(&r.cipher), r.cipher_strength),
        ),
        ("MAC", esc(&r.mac)),
        (
            "Key exchange",
            format!(
                "{} ({} bits)",
                esc(&r.key_exchange),
                r.key_exchange_strength
            ),
        ),
        (
            "Server name (SNI)",
            r.sni.as_deref().map(esc).unwrap_or_else(|| none.clone()),
        ),
        (
            "ALPN",
            r.alpn.as_deref().map(esc).unwrap_or_else(|| none.clone()),
        ),
        (
            "Resumed",
            if r.resumed {
                "yes".into()
            } else {
                "no (full handshake)".into()
            },
        ),
        (
            "Client certificate",
            r.client_certificate
                .as_deref()
                .map(esc)
                .unwrap_or_else(|| none.clone()),
        ),
        ("Server certificate", esc(&r.server_certificate)),
        (
            "Mapped account",
            r.mapped_account
                .as_deref()
                .map(esc)
                .unwrap_or_else(|| none.clone()),
        ),
        (
            "Mapping",
            r.mapping
                .as_deref()
                .map(esc)
                .unwrap_or_else(|| none.clone()),
        ),
        ("Activity ID", esc(&r.activity_id)),
        ("Your address", esc(&r.peer)),
    ];
    let mut body = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>schannel: how you connected</title>\
         <style>body{font-family:sans-serif;margin:2em}td{padding:.2em 1em;border-bottom:1px solid #ddd}</style>\
         </head><body>\n<h1>How you connected</h1>\n<table>\n",
    );
    for (k, v) in rows {
        body.push_str(&format!("<tr><th align=left>{k}</th><td>{v}</td></tr>\n"));
    }
    body.push_str(&format!(
        "</table>\n<p>This handshake's events: <code>schannel events --activity '{}'</code></p>\n</body></html>\n",
        esc(&r.activity_id)
    ));
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_accept_json() {
        let h =
            parse_head(b"GET / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n").unwrap();
        assert!(h.wants_json);
        assert_eq!(h.path, "/");
        let h = parse_head(b"GET /x HTTP/1.1\r\nAccept: text/html\r\n\r\n").unwrap();
        assert!(!h.wants_json);
    }

    /// The complete, well-formed head at the front of `buf`.
    fn head(buf: &[u8]) -> RequestHead {
        match parse_request(buf) {
            Some(Parsed::Head(h, _)) => h,
            other => panic!("{:?}: {other:?}", String::from_utf8_lossy(buf)),
        }
    }

    #[test]
    fn bare_lf_line_endings_are_accepted() {
        // RFC 9112 2.2: a recipient MAY recognize a single LF as a line terminator.
        let h = head(b"GET / HTTP/1.0\n\n");
        assert_eq!((h.method.as_str(), h.path.as_str()), ("GET", "/"));
        let h = head(b"GET /x HTTP/1.1\nHost: x\nAccept: application/json\n\n");
        assert!(h.wants_json);
        assert_eq!(h.path, "/x");
        // Mixed endings; the CR before an LF is ignored.
        let h = head(b"GET /m HTTP/1.1\r\nAccept: application/json\n\r\n");
        assert!(h.wants_json);
        // Still incomplete: no empty line yet.
        assert!(parse_request(b"GET / HTTP/1.1\nHost: x\n").is_none());
        assert!(parse_request(b"GET / HTTP/1.1\r\nHost: x\r\n").is_none());
        // A bare CR is not a line terminator.
        assert!(parse_request(b"GET / HTTP/1.1\r\r").is_none());
    }

    #[test]
    fn persistence_follows_the_version_and_the_connection_header() {
        for (req, persistent) in [
            (&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], true),
            (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
            (b"GET / HTTP/1.1\r\nconnection: TE, Close\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\n\r\n", false),
            (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
            (
                b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
                false,
            ),
        ] {
            assert_eq!(
                head(req).persistent,
                persistent,
                "{}",
                String::from_utf8_lossy(req)
            );
        }
        assert!(!head(b"GET / HTTP/1.1\r\n\r\n").has_body);
        assert!(!head(b"GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n").has_body);
        assert!(head(b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc").has_body);
        assert!(head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").has_body);
        // An unreadable length is a body of unknown size.
        assert!(head(b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n").has_body);
    }

    #[test]
    fn pipelined_requests_are_taken_one_head_at_a_time() {
        let two = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\nHost: x\n\nGET /c";
        let Some(Parsed::Head(a, used)) = parse_request(two) else {
            panic!("first head")
        };
        assert_eq!(a.path, "/a");
        let rest = &two[used..];
        let Some(Parsed::Head(b, used)) = parse_request(rest) else {
            panic!("second head")
        };
        assert_eq!(b.path, "/b");
        assert_eq!(&rest[used..], b"GET /c");
        assert!(parse_request(&rest[used..]).is_none());
    }

    #[test]
    fn malformed_and_oversized_heads() {
        for bad in [
            &b"garbage\r\n\r\n"[..],
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.1 extra\r\n\r\n",
            b"GET  HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon here\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: \xff\r\n\r\n",
        ] {
            assert!(
                matches!(parse_request(bad), Some(Parsed::Bad(400))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let mut huge = b"GET / HTTP/1.1\r\nX: ".to_vec();
        huge.resize(MAX_HEAD + 10, b'a');
        assert!(matches!(parse_request(&huge), Some(Parsed::Bad(431))));
        huge.extend_from_slice(b"\r\n\r\n");
        assert!(matches!(parse_request(&huge), Some(Parsed::Bad(431))));
    }

    #[test]
    fn responses_say_whether_the_connection_stays() {
        let report = ConnectionReport::default();
        let h = Ok(head(b"GET / HTTP/1.1\r\n\r\n"));
        let (status, keep) = response(
            &h,
            &report,
            Persistence::KeepAlive {
                timeout: 30,
                max: 99,
            },
        );
        let keep = String::from_utf8(keep).unwrap();
        assert_eq!(status, 200);
        assert!(
            keep.contains("\r\nConnection: keep-alive\r\nKeep-Alive: timeout=30, max=99\r\n"),
            "{keep}"
        );
        let (_, close) = response(&h, &report, Persistence::Close);
        assert!(String::from_utf8(close)
            .unwrap()
            .contains("\r\nConnection: close\r\n"));
    }

    #[test]
    fn html_escapes_client_data() {
        let r = ConnectionReport {
            sni: Some("<script>".into()),
            ..Default::default()
        };
        let page = render_html(&r);
        assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"));
    }
}
