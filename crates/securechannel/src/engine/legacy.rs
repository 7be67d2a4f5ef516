//! Legacy hellos: rustls' own protocol_version alert for a client it cannot speak with.

use super::drive_handshake;
use crate::verdict::{verdict, Facts};
use crate::Role;
use rustls::server::UnbufferedServerConnection;
use rustls::ServerConfig;
use securechannel_events::AlertDescription;
use std::sync::{Arc, OnceLock};

/// The ClientHello a TLS 1.0 client with a TLS 1.2-era stack sends, fixed once: record
/// and `client_version` 3.1, four ECDHE/RSA suites, null compression, a
/// `signature_algorithms` extension and no `supported_versions`.
///
/// Why it exists: Schannel answers every legacy hello (SSLv2-compatible, SSL 3.0, TLS 1.0,
/// TLS 1.1) with protocol_version (70), and this provider never encodes a TLS record
/// itself. rustls 0.23.46 does send protocol_version for such a hello, but only once it
/// reaches its version check (`with_certified_key` in server/hs.rs); before that,
/// `process_client_hello` refuses a hello without `signature_algorithms` (which SSL 3.0 and
/// TLS 1.0/1.1-only clients never send) with handshake_failure, and its deframer refuses
/// the SSLv2 framing with decode_error. So the client's own hello is not what rustls reads:
/// this one is, and it passes every earlier check and fails the version check whatever
/// the server config enables (`client_version` below 1.2 and no `supported_versions` is
/// `Tls12NotOffered` with TLS 1.2 and 1.3 alike). The alert is then rustls' bytes.
pub(super) fn canonical_legacy_hello() -> &'static [u8] {
    static HELLO: OnceLock<Vec<u8>> = OnceLock::new();
    HELLO.get_or_init(|| {
        const TLS10: [u8; 2] = [3, 1];
        let mut body = Vec::with_capacity(64);
        body.extend_from_slice(&TLS10); // client_version
        body.extend_from_slice(&[0x5c; 32]); // random: rustls never gets to use it
        body.push(0); // no session ID
                      // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                      // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, TLS_RSA_WITH_AES_128_CBC_SHA.
        let suites = [0xC0, 0x2F, 0xC0, 0x2B, 0xC0, 0x13, 0x00, 0x2F];
        body.extend_from_slice(&(suites.len() as u16).to_be_bytes());
        body.extend_from_slice(&suites);
        body.extend_from_slice(&[1, 0]); // compression: null only
                                         // signature_algorithms (13): ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256,
                                         // rsa_pkcs1_sha256.
        let schemes = [0x04, 0x03, 0x08, 0x04, 0x04, 0x01];
        let mut ext = Vec::new();
        ext.extend_from_slice(&13u16.to_be_bytes());
        ext.extend_from_slice(&(schemes.len() as u16 + 2).to_be_bytes());
        ext.extend_from_slice(&(schemes.len() as u16).to_be_bytes());
        ext.extend_from_slice(&schemes);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut record = vec![22, TLS10[0], TLS10[1]];
        record.extend_from_slice(&(body.len() as u16 + 4).to_be_bytes());
        record.push(1); // ClientHello
        record.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        record.extend_from_slice(&body);
        record
    })
}

/// Append to `out` the protocol_version alert rustls sends a TLS 1.0 client under
/// `config` (see [`canonical_legacy_hello`]), and return rustls' failure for it. `None`
/// (and nothing appended) when rustls did anything else than fail with one alert: the
/// caller then lets the engine answer the client's own hello.
pub(crate) fn legacy_protocol_version_alert(
    config: Arc<ServerConfig>,
    out: &mut Vec<u8>,
) -> Option<rustls::Error> {
    let mut conn = UnbufferedServerConnection::new(config).ok()?;
    let mut input = canonical_legacy_hello().to_vec();
    let mut alert = Vec::new();
    let h = drive_handshake(&mut conn, &mut input, &mut alert, &mut Vec::new(), &mut 0);
    // Nothing of this throwaway connection may reach the next context on this thread.
    let _ = super::config::take_client_sni();
    match h.result {
        Err(e)
            if verdict(&e, Facts::new(Role::Server)).alert
                == AlertDescription::PROTOCOL_VERSION
                && h.alert_written > 0
                && h.written == h.alert_written =>
        {
            out.extend_from_slice(&alert);
            Some(e)
        }
        _ => None,
    }
}
