//! Recognising a ClientHello from its first bytes, before rustls sees it, so that a hello
//! rustls cannot speak (SSLv2-compatible, SSL 3.0, TLS 1.0, TLS 1.1) is still named in
//! event 36874 ("An TLS 1.0 connection request was received ..."). This is the only wire
//! parsing of our own; it has a fuzz target (`fuzz/`, target `client_hello`) and a
//! deterministic random-input test (`tests/hello_random.rs`).
//!
//! Two shapes are recognised:
//!
//! - the SSLv2-compatible hello (RFC 6101 appendix E, RFC 5246 appendix E.2): a 2-byte
//!   header with the high bit set, message type 1, then the version the client announces
//!   (`0x0002` is SSL 2.0 itself, `0x03xx` an SSL 3.0 / TLS client speaking the old framing);
//! - TLS records of content type 22 carrying a handshake message of type 1: the
//!   ClientHello's `client_version`, overridden by the highest non-GREASE entry of the
//!   `supported_versions` extension (43) when the hello carries one. The hello may be split
//!   over several records.
//!
//! The sniffer never allocates in proportion to a claimed length and looks at no more than
//! [`MAX_SNIFF_BYTES`] of input: a caller that buffers until the answer is not
//! [`HelloSniff::NeedMore`] never buffers more than that.

use crate::Protocol;

/// The most input the sniffer looks at: one full-size plaintext record (2^14 bytes) and its
/// 5-byte header. Given this many bytes it always decides (never [`HelloSniff::NeedMore`]).
pub const MAX_SNIFF_BYTES: usize = (1 << 14) + 5;

/// What the first bytes of a connection say about the client's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelloSniff {
    /// Not enough bytes yet to decide.
    NeedMore,
    /// Not a TLS handshake record at all (let rustls report it).
    NotAHello,
    /// A ClientHello whose highest offered version is this one.
    Offered(Protocol),
    /// A well-formed ClientHello whose highest offered version is none this project names
    /// (a future version such as `0x0305`, or a value no protocol ever used). Event 36874
    /// names it `unknown`.
    OfferedUnknown(u16),
}

impl HelloSniff {
    /// The protocol as event 36874 prints it (`%1`): [`Protocol::name`], or `unknown` for a
    /// hello with an unrecognised version. `None` when this is not (yet) a hello.
    pub fn protocol_name(self) -> Option<&'static str> {
        match self {
            HelloSniff::Offered(p) => Some(p.name()),
            HelloSniff::OfferedUnknown(_) => Some("unknown"),
            HelloSniff::NeedMore | HelloSniff::NotAHello => None,
        }
    }

    /// The offered protocol, when it is one this project names.
    pub fn protocol(self) -> Option<Protocol> {
        match self {
            HelloSniff::Offered(p) => Some(p),
            _ => None,
        }
    }
}

/// Look at the start of a connection's first flight.
///
/// Never panics, whatever the bytes; looks at no more than [`MAX_SNIFF_BYTES`] of them.
pub fn sniff_client_hello(buf: &[u8]) -> HelloSniff {
    // When the caller already holds MAX_SNIFF_BYTES, more input cannot be asked for: a hello
    // still undecided there is decided from what has been seen.
    let capped = buf.len() >= MAX_SNIFF_BYTES;
    let buf = &buf[..buf.len().min(MAX_SNIFF_BYTES)];
    match buf.first() {
        None => HelloSniff::NeedMore,
        Some(&CONTENT_TYPE_HANDSHAKE) => sniff_tls_records(buf, capped),
        Some(b) if b & 0x80 != 0 => sniff_sslv2(buf),
        Some(_) => HelloSniff::NotAHello,
    }
}

const CONTENT_TYPE_HANDSHAKE: u8 = 22;
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
const SSL2_MT_CLIENT_HELLO: u8 = 1;
const EXT_SUPPORTED_VERSIONS: u16 = 43;
/// The largest TLSPlaintext fragment (RFC 8446 section 5.1).
const MAX_FRAGMENT: usize = 1 << 14;
/// The smallest ClientHello body: version, random, empty session ID, one cipher suite, one
/// compression method.
const MIN_CLIENT_HELLO: usize = 2 + 32 + 1 + 2 + 2 + 1 + 1;

/// The SSLv2-compatible hello: `[len_hi | 0x80, len_lo, 1, ver_hi, ver_lo,
/// cipher_specs_len(2), session_id_len(2), challenge_len(2), ...]`.
fn sniff_sslv2(buf: &[u8]) -> HelloSniff {
    use HelloSniff::{NeedMore, NotAHello};
    let at = |i: usize| buf.get(i).copied();
    // Byte 0 has its high bit set (checked by the caller): a 2-byte header.
    let Some(len_lo) = at(1) else { return NeedMore };
    let record_len = usize::from(buf[0] & 0x7f) << 8 | usize::from(len_lo);
    if record_len < 9 {
        return NotAHello;
    }
    match at(2) {
        None => return NeedMore,
        Some(SSL2_MT_CLIENT_HELLO) => {}
        Some(_) => return NotAHello,
    }
    let (Some(major), Some(minor)) = (at(3), at(4)) else {
        // The major byte alone can already rule the hello out.
        return match at(3) {
            Some(0 | 3) | None => NeedMore,
            Some(_) => NotAHello,
        };
    };
    let version = u16::from_be_bytes([major, minor]);
    if !(version == 0x0002 || major == 3) {
        return NotAHello;
    }
    // The three length fields must add up to the message: this is what tells a hello
    // from noise whose first byte happens to have the high bit set.
    let u16_at = |i: usize| Some(u16::from_be_bytes([at(i)?, at(i + 1)?]));
    let (Some(cipher_specs), Some(session_id), Some(challenge)) = (u16_at(5), u16_at(7), u16_at(9))
    else {
        return NeedMore;
    };
    let (cipher_specs, session_id, challenge) = (
        usize::from(cipher_specs),
        usize::from(session_id),
        usize::from(challenge),
    );
    if cipher_specs == 0
        || cipher_specs % 3 != 0
        || !(session_id == 0 || session_id == 16)
        || !(16..=32).contains(&challenge)
        || 9 + cipher_specs + session_id + challenge != record_len
    {
        return NotAHello;
    }
    // The version field is the highest the client speaks; the cipher specs do not change
    // that, so the rest of the message need not arrive.
    offered(version)
}

/// TLS records of type 22 carrying a ClientHello, possibly fragmented over several records.
fn sniff_tls_records(buf: &[u8], capped: bool) -> HelloSniff {
    let message = match reassemble(buf) {
        Ok(m) => m,
        Err(not_a_hello) => return not_a_hello,
    };
    match parse_client_hello(&message, capped) {
        HelloParse::Short => HelloSniff::NeedMore,
        decided => decided.into_sniff(),
    }
}

/// The handshake message the records at the start of `buf` carry, as far as it has
/// arrived; `Err(NotAHello)` when they cannot carry a plaintext ClientHello.
fn reassemble(buf: &[u8]) -> Result<Vec<u8>, HelloSniff> {
    // The handshake message, reassembled from the records seen so far. Bounded: at most
    // MAX_SNIFF_BYTES of input are looked at, so at most that many bytes are copied.
    let buf = &buf[..buf.len().min(MAX_SNIFF_BYTES)];
    let mut message: Vec<u8> = Vec::new();
    // The length of the whole handshake message, once its 4-byte header has arrived.
    let mut needed: Option<usize> = None;
    let mut pos = 0;
    while pos < buf.len() {
        let header = &buf[pos..buf.len().min(pos + 5)];
        // Every record until the hello is complete must be a handshake record: RFC 8446
        // section 5.1 forbids interleaving other content types inside a handshake message.
        if header[0] != CONTENT_TYPE_HANDSHAKE {
            return Err(HelloSniff::NotAHello);
        }
        if let Some(&major) = header.get(1) {
            if major != 3 {
                return Err(HelloSniff::NotAHello);
            }
        }
        if header.len() < 5 {
            break;
        }
        let fragment_len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if fragment_len == 0 || fragment_len > MAX_FRAGMENT {
            // Zero-length handshake fragments are forbidden; longer ones cannot be plaintext.
            return Err(HelloSniff::NotAHello);
        }
        let start = pos + 5;
        let end = buf.len().min(start + fragment_len);
        message.extend_from_slice(&buf[start..end]);
        pos = start + fragment_len;
        if needed.is_none() && message.len() >= 4 {
            needed = Some(
                4 + (usize::from(message[1]) << 16
                    | usize::from(message[2]) << 8
                    | usize::from(message[3])),
            );
        }
        // Stop at the end of the hello: what follows (a ChangeCipherSpec record, early
        // data) is not ours to judge.
        if needed.is_some_and(|n| message.len() >= n) {
            break;
        }
    }
    Ok(message)
}

/// Whether the TLS-framed ClientHello at the start of `buf` offers one of the cipher
/// suites `ours` (IANA numbers); `None` when `buf` does not hold its cipher suite list
/// (an SSLv2-compatible hello, a hello still arriving, something else).
///
/// A server that shares no suite with a hello says so in 36874, whatever rustls refuses
/// first (a TLS 1.2 hello with only RSA key exchange suites and no signature_algorithms
/// fails rustls' signature check before its suite choice).
pub(crate) fn hello_offers_any_suite(buf: &[u8], ours: &[u16]) -> Option<bool> {
    if buf.first() != Some(&CONTENT_TYPE_HANDSHAKE) {
        return None;
    }
    let message = reassemble(buf).ok()?;
    let mut r = Reader {
        bytes: &message,
        pos: 0,
    };
    if r.u8()? != HANDSHAKE_CLIENT_HELLO {
        return None;
    }
    r.take(3)?; // length
    r.take(2 + 32)?; // client_version, random
    let session_id_len = r.u8()?;
    r.take(usize::from(session_id_len))?;
    let suites_len = usize::from(r.u16()?);
    let suites = r.take(suites_len)?;
    Some(
        suites
            .chunks_exact(2)
            .any(|s| ours.contains(&u16::from_be_bytes([s[0], s[1]]))),
    )
}

enum HelloParse {
    /// The bytes end before the answer.
    Short,
    /// Cannot be a ClientHello.
    Invalid,
    /// The client's highest version.
    Version(u16),
}

impl HelloParse {
    fn into_sniff(self) -> HelloSniff {
        match self {
            HelloParse::Short => HelloSniff::NeedMore,
            HelloParse::Invalid => HelloSniff::NotAHello,
            // Below 3.0 inside TLS framing names no protocol (SSL 2.0 has its own framing).
            HelloParse::Version(v) if v < 0x0300 => HelloSniff::OfferedUnknown(v),
            HelloParse::Version(v) => offered(v),
        }
    }
}

/// A cursor that reports running out of bytes instead of panicking.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.bytes.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }
}

/// Parse the (possibly partial) handshake message. `capped`: no more bytes will come, so a
/// hello cut short is decided from its `client_version`.
fn parse_client_hello(message: &[u8], capped: bool) -> HelloParse {
    let mut r = Reader {
        bytes: message,
        pos: 0,
    };
    match r.u8() {
        None => return HelloParse::Short,
        Some(HANDSHAKE_CLIENT_HELLO) => {}
        Some(_) => return HelloParse::Invalid,
    }
    let Some(len) = r.take(3) else {
        return HelloParse::Short;
    };
    let body_len = usize::from(len[0]) << 16 | usize::from(len[1]) << 8 | usize::from(len[2]);
    if body_len < MIN_CLIENT_HELLO {
        return HelloParse::Invalid;
    }
    // Only the bytes of this message count; a second message may follow in the same record.
    let available = &message[4..message.len().min(4 + body_len)];
    let complete = available.len() == body_len;
    let mut body = Reader {
        bytes: available,
        pos: 0,
    };
    let Some(client_version) = body.u16() else {
        return match body.u8() {
            // A TLS-framed hello announces 3.x or later; SSL 2.0 has its own framing.
            Some(major) if major < 3 => HelloParse::Invalid,
            _ => HelloParse::Short,
        };
    };
    if client_version < 0x0300 {
        return HelloParse::Invalid;
    }
    match parse_hello_body(&mut body, client_version, complete) {
        // Decided only on the whole message, so a prefix never answers differently from
        // the complete hello (the answer is monotone in the bytes received).
        Ok(v) if complete || capped => HelloParse::Version(v),
        Ok(_) => HelloParse::Short,
        Err(BodyError::Invalid) => HelloParse::Invalid,
        // A complete message whose inner lengths run past its end is malformed.
        Err(BodyError::Short(_)) if complete => HelloParse::Invalid,
        Err(BodyError::Short(so_far)) if capped => HelloParse::Version(so_far),
        Err(BodyError::Short(_)) => HelloParse::Short,
    }
}

#[derive(Clone, Copy)]
enum BodyError {
    /// The bytes end inside the hello; the version it says so far.
    Short(u16),
    Invalid,
}

/// From after `client_version` to the end of the extensions: the client's highest version.
fn parse_hello_body(
    r: &mut Reader<'_>,
    client_version: u16,
    complete: bool,
) -> Result<u16, BodyError> {
    let short = BodyError::Short(client_version);
    r.take(32).ok_or(short)?; // random
    let session_id_len = r.u8().ok_or(short)?;
    if session_id_len > 32 {
        return Err(BodyError::Invalid);
    }
    r.take(usize::from(session_id_len)).ok_or(short)?;
    let suites_len = r.u16().ok_or(short)?;
    if suites_len < 2 || suites_len % 2 != 0 {
        return Err(BodyError::Invalid);
    }
    r.take(usize::from(suites_len)).ok_or(short)?;
    let compression_len = r.u8().ok_or(short)?;
    if compression_len == 0 {
        return Err(BodyError::Invalid);
    }
    r.take(usize::from(compression_len)).ok_or(short)?;
    if r.remaining() == 0 {
        // A complete message ending here is an SSL 3.0-style hello without extensions;
        // otherwise the extensions have not arrived yet.
        return if complete {
            Ok(client_version)
        } else {
            Err(short)
        };
    }
    let extensions_len = usize::from(r.u16().ok_or(short)?);
    let mut version = client_version;
    let mut seen = 0;
    while seen < extensions_len {
        let short = BodyError::Short(version);
        let ext_type = r.u16().ok_or(short)?;
        let ext_len = usize::from(r.u16().ok_or(short)?);
        seen += 4 + ext_len;
        if seen > extensions_len {
            return Err(BodyError::Invalid);
        }
        let data = r.take(ext_len).ok_or(short)?;
        if ext_type == EXT_SUPPORTED_VERSIONS {
            version = supported_versions(data, client_version)?;
        }
    }
    Ok(version)
}

/// The `supported_versions` extension: `u8 length, u16 versions[]`. The highest listed
/// version that is not GREASE wins; GREASE and unrecognised values never hide a known one.
fn supported_versions(data: &[u8], client_version: u16) -> Result<u16, BodyError> {
    let Some((&list_len, list)) = data.split_first() else {
        return Err(BodyError::Invalid);
    };
    if usize::from(list_len) != list.len() || list.len() % 2 != 0 {
        return Err(BodyError::Invalid);
    }
    let versions = list
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .filter(|v| !is_grease(*v));
    let mut best_known: Option<(Protocol, u16)> = None;
    let mut highest_unknown: Option<u16> = None;
    for v in versions {
        match protocol_of(v) {
            // 0x0002 inside supported_versions is not SSL 2.0, which has its own framing.
            Some(p) if p != Protocol::Ssl2 => {
                if !matches!(best_known, Some((b, _)) if b >= p) {
                    best_known = Some((p, v));
                }
            }
            _ => highest_unknown = highest_unknown.max(Some(v)),
        }
    }
    Ok(match (best_known, highest_unknown) {
        (Some((_, v)), _) => v,
        (None, Some(v)) => v,
        // Only GREASE (or an empty list): the extension says nothing, the legacy field rules.
        (None, None) => client_version,
    })
}

/// GREASE versions (RFC 8701): 0x0A0A, 0x1A1A, ... 0xFAFA.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// The protocol of a version value from a hello. TLS 1.3 drafts (0x7F00 | draft number)
/// count as TLS 1.3: clients of 2017-2018 announced them alongside 0x0304.
fn protocol_of(v: u16) -> Option<Protocol> {
    match v {
        0x7f01..=0x7f1c => Some(Protocol::Tls13),
        v => Protocol::from_wire(v),
    }
}

fn offered(v: u16) -> HelloSniff {
    match protocol_of(v) {
        Some(p) => HelloSniff::Offered(p),
        None => HelloSniff::OfferedUnknown(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A ClientHello handshake message (type, 3-byte length, body).
    fn client_hello(client_version: u16, extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&client_version.to_be_bytes());
        body.extend_from_slice(&[0x5a; 32]); // random
        body.push(32); // session ID
        body.extend_from_slice(&[0x11; 32]);
        body.extend_from_slice(&[0, 4, 0x13, 0x01, 0xc0, 0x2f]); // two cipher suites
        body.extend_from_slice(&[1, 0]); // null compression
        if !extensions.is_empty() {
            let mut ext = Vec::new();
            for (t, data) in extensions {
                ext.extend_from_slice(&t.to_be_bytes());
                ext.extend_from_slice(&(data.len() as u16).to_be_bytes());
                ext.extend_from_slice(data);
            }
            body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
            body.extend_from_slice(&ext);
        }
        let mut msg = vec![HANDSHAKE_CLIENT_HELLO];
        msg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        msg.extend_from_slice(&body);
        msg
    }

    fn supported_versions_ext(versions: &[u16]) -> (u16, Vec<u8>) {
        let mut data = vec![(versions.len() * 2) as u8];
        for v in versions {
            data.extend_from_slice(&v.to_be_bytes());
        }
        (EXT_SUPPORTED_VERSIONS, data)
    }

    /// A server_name extension, so supported_versions is not always the first extension.
    fn sni_ext() -> (u16, Vec<u8>) {
        let name = b"example.com";
        let mut data = Vec::new();
        data.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
        data.push(0);
        data.extend_from_slice(&(name.len() as u16).to_be_bytes());
        data.extend_from_slice(name);
        (0, data)
    }

    /// The handshake message in records of at most `fragment` bytes.
    fn records(record_version: u16, message: &[u8], fragment: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for chunk in message.chunks(fragment) {
            out.push(CONTENT_TYPE_HANDSHAKE);
            out.extend_from_slice(&record_version.to_be_bytes());
            out.extend_from_slice(&(chunk.len() as u16).to_be_bytes());
            out.extend_from_slice(chunk);
        }
        out
    }

    /// An SSLv2-compatible CLIENT-HELLO announcing `version`.
    fn sslv2_hello(version: u16) -> Vec<u8> {
        let specs: &[u8] = &[0x01, 0x00, 0x80, 0x00, 0x00, 0x2f, 0x00, 0x00, 0x0a];
        let challenge = [0x42; 16];
        let len = 9 + specs.len() + challenge.len();
        let mut out = vec![0x80 | (len >> 8) as u8, len as u8, SSL2_MT_CLIENT_HELLO];
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&(specs.len() as u16).to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&(challenge.len() as u16).to_be_bytes());
        out.extend_from_slice(specs);
        out.extend_from_slice(&challenge);
        out
    }

    /// Every strict prefix is NeedMore, the whole input decides `expected`.
    fn assert_prefixes_need_more(input: &[u8], expected: HelloSniff) {
        for cut in 0..input.len() {
            assert_eq!(
                sniff_client_hello(&input[..cut]),
                HelloSniff::NeedMore,
                "prefix of {cut} of {} bytes",
                input.len()
            );
        }
        assert_eq!(sniff_client_hello(input), expected);
    }

    /// The first flight of a real rustls client: its ClientHello record(s).
    fn rustls_client_hello(versions: &[&'static rustls::SupportedProtocolVersion]) -> Vec<u8> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("aws-lc-rs supports TLS 1.2 and 1.3")
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("hello.example").expect("valid name");
        let mut conn =
            rustls::ClientConnection::new(Arc::new(config), name).expect("client starts");
        let mut flight = Vec::new();
        while conn.wants_write() {
            conn.write_tls(&mut flight)
                .expect("writing to a Vec cannot fail");
        }
        flight
    }

    #[test]
    fn tls13_rustls_hello_and_every_truncation() {
        let flight = rustls_client_hello(&[&rustls::version::TLS13, &rustls::version::TLS12]);
        assert_eq!(flight[0], CONTENT_TYPE_HANDSHAKE);
        assert_prefixes_need_more(&flight, HelloSniff::Offered(Protocol::Tls13));
    }

    #[test]
    fn tls12_only_rustls_hello_and_every_truncation() {
        let flight = rustls_client_hello(&[&rustls::version::TLS12]);
        assert_prefixes_need_more(&flight, HelloSniff::Offered(Protocol::Tls12));
    }

    #[test]
    fn rustls_hello_refragmented_into_small_records() {
        let flight = rustls_client_hello(&[&rustls::version::TLS13]);
        let message = &flight[5..];
        for fragment in [1, 2, 3, 7, 40, 100, 511] {
            let input = records(0x0301, message, fragment);
            assert_prefixes_need_more(&input, HelloSniff::Offered(Protocol::Tls13));
        }
    }

    #[test]
    fn rustls_hello_followed_by_other_records_is_still_named() {
        // A 0-RTT client sends ChangeCipherSpec and early data right after the hello.
        let mut flight = rustls_client_hello(&[&rustls::version::TLS13]);
        flight.extend_from_slice(&[20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 2, 0xaa, 0xbb]);
        assert_eq!(
            sniff_client_hello(&flight),
            HelloSniff::Offered(Protocol::Tls13)
        );
    }

    #[test]
    fn legacy_tls_versions_by_client_version() {
        for (version, protocol) in [
            (0x0300, Protocol::Ssl3),
            (0x0301, Protocol::Tls10),
            (0x0302, Protocol::Tls11),
            (0x0303, Protocol::Tls12),
        ] {
            // SSL 3.0 hellos carry no extensions at all; the others have some.
            let extensions = if version == 0x0300 {
                vec![]
            } else {
                vec![sni_ext()]
            };
            let input = records(0x0300, &client_hello(version, &extensions), 1 << 14);
            assert_prefixes_need_more(&input, HelloSniff::Offered(protocol));
            assert_eq!(
                HelloSniff::Offered(protocol).protocol_name(),
                Some(protocol.name())
            );
        }
    }

    #[test]
    fn supported_versions_overrides_client_version() {
        let hello = client_hello(
            0x0303,
            &[sni_ext(), supported_versions_ext(&[0x0303, 0x0304, 0x0302])],
        );
        let input = records(0x0301, &hello, 1 << 14);
        assert_prefixes_need_more(&input, HelloSniff::Offered(Protocol::Tls13));
        // A list that names only older versions lowers the answer too.
        let hello = client_hello(0x0303, &[supported_versions_ext(&[0x0302, 0x0301])]);
        assert_eq!(
            sniff_client_hello(&records(0x0301, &hello, 1 << 14)),
            HelloSniff::Offered(Protocol::Tls11)
        );
    }

    #[test]
    fn grease_versions_are_ignored() {
        for grease in [0x0a0a, 0x1a1a, 0x7a7a, 0xfafa] {
            assert!(is_grease(grease));
            let hello = client_hello(0x0303, &[supported_versions_ext(&[grease, 0x0304, 0x0303])]);
            assert_eq!(
                sniff_client_hello(&records(0x0301, &hello, 1 << 14)),
                HelloSniff::Offered(Protocol::Tls13),
                "{grease:#06x}"
            );
        }
        // GREASE alone says nothing: the legacy field decides.
        let hello = client_hello(0x0302, &[supported_versions_ext(&[0x2a2a])]);
        assert_eq!(
            sniff_client_hello(&records(0x0301, &hello, 1 << 14)),
            HelloSniff::Offered(Protocol::Tls11)
        );
        assert!(!is_grease(0x0303) && !is_grease(0x0a1a) && !is_grease(0x0b0b));
    }

    #[test]
    fn drafts_and_unknown_versions() {
        let hello = client_hello(0x0303, &[supported_versions_ext(&[0x7f17])]);
        assert_eq!(
            sniff_client_hello(&records(0x0301, &hello, 1 << 14)),
            HelloSniff::Offered(Protocol::Tls13)
        );
        // A future version next to a known one: the known one is what we can name.
        let hello = client_hello(0x0303, &[supported_versions_ext(&[0x0305, 0x0303])]);
        assert_eq!(
            sniff_client_hello(&records(0x0301, &hello, 1 << 14)),
            HelloSniff::Offered(Protocol::Tls12)
        );
        let hello = client_hello(0x0303, &[supported_versions_ext(&[0x0305])]);
        let sniff = sniff_client_hello(&records(0x0301, &hello, 1 << 14));
        assert_eq!(sniff, HelloSniff::OfferedUnknown(0x0305));
        assert_eq!(sniff.protocol_name(), Some("unknown"));
        assert_eq!(sniff.protocol(), None);
        // SSL 2.0 has its own framing: a TLS-framed hello claiming it is not a hello.
        let hello = client_hello(0x0002, &[sni_ext()]);
        let input = records(0x0301, &hello, 1 << 14);
        assert_eq!(sniff_client_hello(&input), HelloSniff::NotAHello);
        assert_eq!(sniff_client_hello(&input[..10]), HelloSniff::NotAHello);
        let hello = client_hello(0x0303, &[supported_versions_ext(&[0x0002])]);
        assert_eq!(
            sniff_client_hello(&records(0x0301, &hello, 1 << 14)),
            HelloSniff::OfferedUnknown(0x0002)
        );
        let hello = client_hello(0x0304, &[]);
        assert_eq!(
            sniff_client_hello(&records(0x0301, &hello, 1 << 14)),
            HelloSniff::Offered(Protocol::Tls13)
        );
    }

    #[test]
    fn sslv2_compatible_hellos() {
        for (version, protocol) in [
            (0x0002, Protocol::Ssl2),
            (0x0300, Protocol::Ssl3),
            (0x0301, Protocol::Tls10),
            (0x0302, Protocol::Tls11),
            (0x0303, Protocol::Tls12),
        ] {
            let hello = sslv2_hello(version);
            // The answer comes once the three length fields are in (11 bytes).
            for cut in 0..11 {
                assert_eq!(
                    sniff_client_hello(&hello[..cut]),
                    HelloSniff::NeedMore,
                    "{cut}"
                );
            }
            for cut in 11..=hello.len() {
                assert_eq!(
                    sniff_client_hello(&hello[..cut]),
                    HelloSniff::Offered(protocol),
                    "{cut}"
                );
            }
        }
        assert_eq!(
            sniff_client_hello(&sslv2_hello(0x0399)),
            HelloSniff::OfferedUnknown(0x0399)
        );
    }

    #[test]
    fn sslv2_lookalikes_are_not_hellos() {
        let good = sslv2_hello(0x0301);
        let mut wrong_type = good.clone();
        wrong_type[2] = 4; // SERVER-HELLO
        let mut wrong_major = good.clone();
        wrong_major[3] = 2;
        let mut bad_specs = good.clone();
        bad_specs[6] = 10; // not a multiple of 3
        let mut short_challenge = good.clone();
        short_challenge[10] = 8;
        let mut bad_length = good.clone();
        bad_length[1] += 1;
        for bad in [
            wrong_type,
            wrong_major,
            bad_specs,
            short_challenge,
            bad_length,
        ] {
            assert_eq!(
                sniff_client_hello(&bad),
                HelloSniff::NotAHello,
                "{bad:02x?}"
            );
        }
        assert_eq!(sniff_client_hello(&[0x80, 3]), HelloSniff::NotAHello);
        assert_eq!(sniff_client_hello(&[0x80, 40, 1, 7]), HelloSniff::NotAHello);
    }

    #[test]
    fn garbage_is_not_a_hello() {
        for bad in [
            &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
            b"SSH-2.0-OpenSSH_9.6\r\n",
            b"\x00\x00\x00\x00\x00",
            b"\x15\x03\x03\x00\x02\x02\x28", // an alert record
            b"\x17\x03\x03\x00\x01\x00",     // application data
            b"\x16\x02",                     // handshake type but not version 3.x
            b"\x16\x03\x01\x00\x00",         // empty handshake fragment
            b"\x16\x03\x01\x40\x01",         // fragment longer than 2^14
            b"\x16\x03\x01\x00\x01\x02",     // ServerHello, not ClientHello
            b"\x16\x03\x01\x00\x04\x01\x00\x00\x05", // a hello body too short to be one
        ] {
            assert_eq!(sniff_client_hello(bad), HelloSniff::NotAHello, "{bad:02x?}");
        }
    }

    #[test]
    fn malformed_inner_lengths_are_not_hellos() {
        let good = client_hello(0x0303, &[sni_ext(), supported_versions_ext(&[0x0304])]);
        // Offsets inside the message: 4 header, 2 version, 32 random, 1 + 32 session ID.
        let session_id_len = 4 + 2 + 32;
        let suites_len = session_id_len + 1 + 32;
        let mut long_session = good.clone();
        long_session[session_id_len] = 33;
        let mut odd_suites = good.clone();
        odd_suites[suites_len + 1] = 3;
        let mut no_compression = good.clone();
        no_compression[suites_len + 2 + 4] = 0;
        let mut bad_versions = good.clone();
        let last = bad_versions.len() - 3; // the supported_versions list length byte
        bad_versions[last] = 4;
        let mut overlong_extension = good.clone();
        let ext_block = suites_len + 2 + 4 + 2;
        overlong_extension[ext_block + 2 + 2] = 0xff; // SNI length beyond the block
        for bad in [
            long_session,
            odd_suites,
            no_compression,
            bad_versions,
            overlong_extension,
        ] {
            assert_eq!(
                sniff_client_hello(&records(0x0301, &bad, 1 << 14)),
                HelloSniff::NotAHello,
                "{bad:02x?}"
            );
        }
    }

    #[test]
    fn interleaved_record_types_end_the_hello() {
        let hello = client_hello(0x0303, &[sni_ext()]);
        let mut input = records(0x0301, &hello[..20], 1 << 14);
        input.extend_from_slice(&[21, 3, 3, 0, 2, 2, 40]);
        assert_eq!(sniff_client_hello(&input), HelloSniff::NotAHello);
    }

    #[test]
    fn huge_claimed_hello_is_decided_at_the_cap() {
        // A hello claiming 60000 bytes, whose extensions never end within the cap.
        let mut hello = client_hello(0x0302, &[sni_ext()]);
        let body_len = 60_000u32;
        hello[1..4].copy_from_slice(&body_len.to_be_bytes()[1..]);
        let ext_block = 4 + 2 + 32 + 1 + 32 + 2 + 4 + 2;
        hello[ext_block..ext_block + 2].copy_from_slice(&59_000u16.to_be_bytes());
        // Zero bytes read as empty extensions of type 0: the block goes on past the cap.
        hello.resize(4 + body_len as usize, 0);
        let input = records(0x0301, &hello, 1 << 14);
        assert!(input.len() > MAX_SNIFF_BYTES);
        assert_eq!(
            sniff_client_hello(&input[..MAX_SNIFF_BYTES - 1]),
            HelloSniff::NeedMore
        );
        assert_eq!(
            sniff_client_hello(&input),
            HelloSniff::Offered(Protocol::Tls11)
        );
    }

    #[test]
    fn names_are_protocol_names() {
        for p in Protocol::ALL {
            assert_eq!(HelloSniff::Offered(p).protocol_name(), Some(p.name()));
        }
        assert_eq!(HelloSniff::NeedMore.protocol_name(), None);
        assert_eq!(HelloSniff::NotAHello.protocol_name(), None);
    }

    #[test]
    fn the_suite_list_of_a_hello_is_read_across_records() {
        // A TLS 1.2 hello offering 0x002F and 0xC02B, split over two records.
        let mut body = vec![3, 3];
        body.extend_from_slice(&[9; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 4, 0x00, 0x2F, 0xC0, 0x2B, 1, 0]);
        let mut message = vec![1, 0, 0, body.len() as u8];
        message.extend_from_slice(&body);
        let (a, b) = message.split_at(20);
        let mut input = Vec::new();
        for part in [a, b] {
            input.extend_from_slice(&[22, 3, 1, 0, part.len() as u8]);
            input.extend_from_slice(part);
        }
        assert_eq!(hello_offers_any_suite(&input, &[0xC02B]), Some(true));
        assert_eq!(
            hello_offers_any_suite(&input, &[0x1301, 0xC02F]),
            Some(false)
        );
        // Not yet the suites, not a TLS-framed hello.
        assert_eq!(hello_offers_any_suite(&input[..12], &[0xC02B]), None);
        assert_eq!(
            hello_offers_any_suite(&[0x80, 0x2e, 1, 3, 1], &[0xC02B]),
            None
        );
    }
}
