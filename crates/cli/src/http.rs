//! The small HTTP/1.1 exchange `schannel serve` answers with: one request head in, one page
//! (HTML, or JSON for `Accept: application/json`) out, describing how the client connected.

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
}

/// A parsed request head.
#[derive(Debug)]
pub struct RequestHead {
    pub method: String,
    pub path: String,
    pub wants_json: bool,
}

/// Parse a request head from the plaintext received so far: `None` while incomplete,
/// `Some(Err(status))` for a malformed or oversized head.
pub fn parse_request(buf: &[u8]) -> Option<Result<RequestHead, u16>> {
    match find_head_end(buf) {
        Some(end) => Some(parse_head(&buf[..end])),
        None if buf.len() > MAX_HEAD => Some(Err(431)),
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
    let (method, path, version) = match (parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(p), Some(v)) if !m.is_empty() && v.starts_with("HTTP/1.") => (m, p, v),
        _ => return Err(400),
    };
    let _ = version;
    let mut wants_json = false;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("accept") && value.contains("application/json") {
                wants_json = true;
            }
        }
    }
    Ok(RequestHead {
        method: method.to_string(),
        path: path.to_string(),
        wants_json: wants_json || path.ends_with(".json"),
    })
}

/// The response to one request: its status code and its bytes.
pub fn response(head: &Result<RequestHead, u16>, report: &ConnectionReport) -> (u16, Vec<u8>) {
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
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: schannel\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n",
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
        assert_eq!(parse_head(b"garbage\r\n\r\n").unwrap_err(), 400);
    }

    #[test]
    fn bare_lf_line_endings_are_accepted() {
        // RFC 9112 2.2: a recipient MAY recognize a single LF as a line terminator.
        let h = parse_request(b"GET / HTTP/1.0\n\n")
            .expect("complete")
            .unwrap();
        assert_eq!((h.method.as_str(), h.path.as_str()), ("GET", "/"));
        let h = parse_request(b"GET /x HTTP/1.1\nHost: x\nAccept: application/json\n\n")
            .expect("complete")
            .unwrap();
        assert!(h.wants_json);
        assert_eq!(h.path, "/x");
        // Mixed endings; the CR before an LF is ignored.
        let h = parse_request(b"GET /m HTTP/1.1\r\nAccept: application/json\n\r\n")
            .expect("complete")
            .unwrap();
        assert!(h.wants_json);
        // Still incomplete: no empty line yet.
        assert!(parse_request(b"GET / HTTP/1.1\nHost: x\n").is_none());
        assert!(parse_request(b"GET / HTTP/1.1\r\nHost: x\r\n").is_none());
        // A bare CR is not a line terminator.
        assert!(parse_request(b"GET / HTTP/1.1\r\r").is_none());
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
