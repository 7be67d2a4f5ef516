//! Reading a CRL from a certificate's CRL Distribution Point (`file://` read from disk,
//! `http://` fetched with one HTTP/1.0 GET over a `TcpStream`) and asking an OCSP
//! responder (one HTTP/1.0 POST), under a deadline and a size cap. This is transport, not
//! cryptography: what comes back is parsed and verified by rustls-webpki (a CRL) or
//! `verify::ocsp` (an OCSP response).
//!
//! Every fetch runs on a fetch thread of its own, and the caller waits for it at most the
//! timeout: name resolution (getaddrinfo, which has no timeout) is inside that bound too.
//! On a worker of a tokio multi-thread runtime (`schannel serve`, with the `tokio`
//! feature) the wait is inside `tokio::task::block_in_place`, so the runtime hands that
//! worker's other tasks (other connections) to another thread while one connection waits
//! for its distribution point.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a distribution point may take and how much it may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FetchLimits {
    /// The whole fetch (connect, request, response) must end within this.
    pub(crate) timeout: Duration,
    /// The largest CRL accepted, in bytes (the HTTP headers are capped separately).
    pub(crate) max_bytes: usize,
}

/// Why a distribution point gave no CRL, in words for the operator.
pub(crate) type FetchError = String;

/// The headers of a response are at most this long.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The CRL at `url` (`http://` or `file://`), DER or PEM as the point serves it.
pub(crate) fn fetch(url: &str, limits: FetchLimits) -> Result<Vec<u8>, FetchError> {
    if let Some(path) = url.strip_prefix("file://") {
        let path = path.to_owned();
        return bounded(limits.timeout, move || read_file(&path, limits.max_bytes));
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let rest = rest.to_owned();
        return bounded(limits.timeout, move || {
            http_exchange(&rest, limits, |path, authority| {
                format!(
                    "GET {path} HTTP/1.0\r\nHost: {authority}\r\nAccept: application/pkix-crl, */*\r\nConnection: close\r\n\r\n"
                )
                .into_bytes()
            })
        });
    }
    let scheme = url.split(':').next().unwrap_or(url);
    Err(format!(
        "the {scheme} scheme is not fetched here (only http:// and file:// distribution points are)"
    ))
}

/// POST an OCSP request (DER) to the responder at `url` (`http://`, RFC 6960 A.1); its
/// answer's body.
pub(crate) fn post_ocsp(
    url: &str,
    request: &[u8],
    limits: FetchLimits,
) -> Result<Vec<u8>, FetchError> {
    let Some(rest) = url.strip_prefix("http://") else {
        let scheme = url.split(':').next().unwrap_or(url);
        return Err(format!(
            "the {scheme} scheme is not asked here (only http:// OCSP responders are)"
        ));
    };
    let (rest, request) = (rest.to_owned(), request.to_vec());
    bounded(limits.timeout, move || {
        http_exchange(&rest, limits, |path, authority| {
            let mut r = format!(
                "POST {path} HTTP/1.0\r\nHost: {authority}\r\nContent-Type: application/ocsp-request\r\nAccept: application/ocsp-response\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                request.len()
            )
            .into_bytes();
            r.extend_from_slice(&request);
            r
        })
    })
}

/// Run `work` on a fetch thread and wait for it at most `timeout` (and a little for the
/// thread to report): whatever it blocks on (a resolver, a peer that never answers),
/// the caller is back by then. A thread still blocked in the resolver ends when the
/// resolver gives up; its result is dropped.
fn bounded<T: Send + 'static>(
    timeout: Duration,
    work: impl FnOnce() -> Result<T, FetchError> + Send + 'static,
) -> Result<T, FetchError> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("schannel-fetch".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .map_err(|e| format!("cannot start a fetch thread: {e}"))?;
    let waited = wait_blocking(|| rx.recv_timeout(timeout + Duration::from_millis(200)));
    match waited {
        Ok(result) => result,
        Err(_) => Err(format!(
            "no answer within {} ms (name resolution included)",
            timeout.as_millis()
        )),
    }
}

/// Run the blocking `wait`: on a tokio multi-thread runtime's thread, through
/// `block_in_place`, so that the runtime's other tasks move to another worker meanwhile.
#[cfg(feature = "tokio")]
fn wait_blocking<R>(wait: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(wait)
        }
        _ => wait(),
    }
}

#[cfg(not(feature = "tokio"))]
fn wait_blocking<R>(wait: impl FnOnce() -> R) -> R {
    wait()
}

fn read_file(path: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {path}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {path}: {e}"))?;
    if bytes.len() > max_bytes {
        return Err(format!("{path} is larger than the {max_bytes}-byte limit"));
    }
    Ok(bytes)
}

/// One HTTP/1.0 exchange with the server of `rest` (the URL after `http://`): the bytes
/// `request(path, authority)` makes, then the body of a 200 answer.
fn http_exchange(
    rest: &str,
    limits: FetchLimits,
    request: impl FnOnce(&str, &str) -> Vec<u8>,
) -> Result<Vec<u8>, FetchError> {
    let deadline = Instant::now() + limits.timeout;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') {
        return Err(format!("the URL names no usable host: http://{rest}"));
    }
    // A bracketed IPv6 literal keeps its colons.
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("bad port in http://{rest}"))?,
        ),
        _ => (authority, 80),
    };
    let bare_host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<_> = (bare_host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let mut last = format!("{host} has no address");
    let mut stream = None;
    for addr in addrs {
        let Some(left) = remaining(deadline) else {
            break;
        };
        match TcpStream::connect_timeout(&addr, left) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    let Some(mut stream) = stream else {
        return Err(last);
    };
    let timed_out = || {
        format!(
            "no complete answer from {authority} within {} ms",
            limits.timeout.as_millis()
        )
    };
    let request = request(path, authority);
    stream
        .set_write_timeout(Some(remaining(deadline).ok_or_else(timed_out)?))
        .and_then(|()| stream.write_all(&request))
        .map_err(|e| format!("cannot send the request to {authority}: {e}"))?;
    let cap = limits.max_bytes + MAX_HEADER_BYTES;
    let mut response = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        let left = remaining(deadline).ok_or_else(timed_out)?;
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                response.extend_from_slice(&buf[..n]);
                if response.len() > cap {
                    return Err(format!(
                        "the answer from {authority} is larger than the {}-byte limit",
                        limits.max_bytes
                    ));
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(timed_out())
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading from {authority} failed: {e}")),
        }
    }
    body_of(&response, authority, limits.max_bytes)
}

/// The body of a complete HTTP/1.x response with status 200.
fn body_of(response: &[u8], authority: &str, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Err(format!("{authority} sent no complete HTTP response"));
    };
    let head = String::from_utf8_lossy(&response[..end]);
    let status_line = head.lines().next().unwrap_or_default();
    let mut parts = status_line.split_whitespace();
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") {
        return Err(format!("{authority} did not answer in HTTP/1.x"));
    }
    if code != "200" {
        return Err(format!("{authority} answered {}", status_line.trim()));
    }
    let body = &response[end + 4..];
    if body.len() > max_bytes {
        return Err(format!(
            "the answer from {authority} is larger than the {max_bytes}-byte limit"
        ));
    }
    Ok(body.to_vec())
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_other_than_200_or_not_http_is_named() {
        assert_eq!(
            body_of(b"HTTP/1.0 404 Not Found\r\n\r\n", "h", 10),
            Err("h answered HTTP/1.0 404 Not Found".into())
        );
        assert!(body_of(b"SSH-2.0\r\n\r\n", "h", 10)
            .unwrap_err()
            .contains("HTTP/1.x"));
        assert!(body_of(b"HTTP/1.0 200", "h", 10)
            .unwrap_err()
            .contains("no complete"));
        assert_eq!(
            body_of(b"HTTP/1.1 200 OK\r\nA: b\r\n\r\nabc", "h", 10),
            Ok(b"abc".to_vec())
        );
        assert!(body_of(b"HTTP/1.1 200 OK\r\n\r\nabc", "h", 2)
            .unwrap_err()
            .contains("limit"));
    }

    #[test]
    fn other_schemes_are_refused_with_the_reason() {
        let limits = FetchLimits {
            timeout: Duration::from_millis(100),
            max_bytes: 10,
        };
        assert!(fetch("ldap://dir/cn=ca", limits)
            .unwrap_err()
            .contains("ldap scheme"));
        assert!(fetch("http://", limits)
            .unwrap_err()
            .contains("no usable host"));
        assert!(fetch("http://h:x/", limits)
            .unwrap_err()
            .contains("bad port"));
    }
}
