//! `Messaging\MessageLimit*` between in-process contexts: a peer's plaintext handshake
//! message above the limit fails the handshake with rustls' decode_error, before the
//! engine reads it; at the default limits the same handshake completes.

mod common;

use common::*;
use securechannel::{
    ClientCredential, CredentialOptions, Protocol, ServerCredential, SettingValue, Settings, Status,
};
use std::sync::Arc;

fn settings(values: &[(&str, u32)]) -> Arc<Settings> {
    let mut s = Settings::default();
    for (name, v) in values {
        s.set(name, SettingValue::Dword(*v)).unwrap();
    }
    Arc::new(s)
}

fn credentials(
    w: &World,
    client: &[(&str, u32)],
    server: &[(&str, u32)],
    protocols: &[Protocol],
) -> (ClientCredential, ServerCredential) {
    let mut o = CredentialOptions::default();
    o.protocols = protocols.to_vec();
    (
        ClientCredential::new_in_memory_with(
            w.client_emitter.clone(),
            settings(client),
            None,
            w.pki.roots(),
            o,
        ),
        ServerCredential::new_in_memory_with(
            w.server_emitter.clone(),
            settings(server),
            Some(w.server_key.clone()),
            w.pki.roots(),
            CredentialOptions::default(),
        ),
    )
}

#[test]
fn default_limits_take_every_handshake_here() {
    let w = World::new();
    for protocols in [&[Protocol::Tls13][..], &[Protocol::Tls12]] {
        let (cc, sc) = credentials(&w, &[], &[], protocols);
        Pair::between(&cc, &sc).handshake().unwrap();
    }
}

#[test]
fn a_server_refuses_a_client_hello_above_message_limit_server() {
    // Our ClientHello carries an X25519MLKEM768 key share: well above 512 bytes.
    let w = World::new();
    let (cc, sc) = credentials(&w, &[], &[("Messaging\\MessageLimitServer", 512)], &[]);
    let mut p = Pair::between(&cc, &sc);
    p.client_step().unwrap();
    let e = p.server_step().unwrap_err();
    assert_eq!(e.status(), Status::IllegalMessage);
    let text = e.to_string();
    assert!(
        text.contains("the client sent a ClientHello of ")
            && text.contains(
                "larger than `Messaging\\MessageLimitServer` allows (512 bytes); decode_error sent"
            ),
        "{text}"
    );
    let sent = one_event(&w.server_sink, 36888);
    assert_eq!(field(&sent, "AlertDesc"), "50");
    // The client receives rustls' decode_error.
    let e = p.client_step().unwrap_err();
    assert!(e.to_string().contains("decode_error"), "{e}");
    assert_eq!(field(&one_event(&w.client_sink, 36887), "AlertDesc"), "50");
}

#[test]
fn a_client_refuses_a_server_message_above_message_limit_client() {
    // TLS 1.3: the ServerHello (with its ML-KEM ciphertext, over 1 KiB) is plaintext;
    // TLS 1.2: the Certificate message is, too.
    for protocols in [&[Protocol::Tls13][..], &[Protocol::Tls12]] {
        let w = World::new();
        let (cc, sc) = credentials(
            &w,
            &[("Messaging\\MessageLimitClient", 600)],
            &[],
            protocols,
        );
        let mut p = Pair::between(&cc, &sc);
        let e = p.handshake().unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("the server sent a ")
                && text.contains("larger than `Messaging\\MessageLimitClient` allows (600 bytes); decode_error sent"),
            "{protocols:?}: {text}"
        );
        assert_eq!(field(&one_event(&w.client_sink, 36888), "AlertDesc"), "50");
        let e = p.server_step().unwrap_err();
        assert!(e.to_string().contains("decode_error"), "{protocols:?}: {e}");
    }
}

#[test]
fn a_server_asking_for_certificates_takes_message_limit_server_client_auth() {
    let w = World::new();
    let mut o = CredentialOptions::default();
    o.request_client_certificate = true;
    let server = |values: &[(&str, u32)]| {
        ServerCredential::new_in_memory_with(
            w.server_emitter.clone(),
            settings(values),
            Some(w.server_key.clone()),
            w.pki.roots(),
            o.clone(),
        )
    };
    let cc = w.client_credential();
    // MessageLimitServer does not apply to it...
    let sc = server(&[("Messaging\\MessageLimitServer", 512)]);
    Pair::between(&cc, &sc).handshake().unwrap();
    // ... MessageLimitServerClientAuth does.
    let sc = server(&[("Messaging\\MessageLimitServerClientAuth", 512)]);
    let mut p = Pair::between(&cc, &sc);
    p.client_step().unwrap();
    let e = p.server_step().unwrap_err();
    assert!(
        e.to_string()
            .contains("`Messaging\\MessageLimitServerClientAuth` allows (512 bytes)"),
        "{e}"
    );
    assert!(
        w.server_sink
            .records()
            .iter()
            .any(|r| r.event_id.value() == 36888 && field(r, "AlertDesc") == "50"),
        "{:?}",
        w.server_sink.ids()
    );
}
