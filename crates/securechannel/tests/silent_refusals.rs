//! Refusals rustls makes without sending any alert (the verdict table's silent rows):
//! while this side still sends plaintext, the peer receives rustls' own plaintext alert
//! (from a throwaway connection) and 36888 names it with the reason's error state; once
//! this side encrypts nothing can be sent, no 36888 claims an alert, and the caller's
//! error still carries the error state.

mod common;

use common::*;
use securechannel::{
    AlertDescription, CredentialOptions, ErrorState, Protocol, ServerCredential, SettingValue,
    Settings, Status,
};
use std::sync::Arc;

/// The description of the one plaintext fatal alert record `out` holds.
fn plaintext_alert(out: &[u8]) -> u8 {
    assert_eq!(out.len(), 7, "one alert record: {out:?}");
    assert_eq!((out[0], out[5]), (21, 2), "a fatal alert record: {out:?}");
    out[6]
}

/// `record` (one plaintext handshake record) split in two records at `at` bytes of its
/// payload, with `between` (whole records) in the middle.
fn split_with(record: &[u8], at: usize, between: &[u8]) -> Vec<u8> {
    let payload = &record[5..];
    let header = |len: usize| {
        let mut h = record[..3].to_vec();
        h.extend_from_slice(&(len as u16).to_be_bytes());
        h
    };
    let mut v = header(at);
    v.extend_from_slice(&payload[..at]);
    v.extend_from_slice(between);
    v.extend_from_slice(&header(payload.len() - at));
    v.extend_from_slice(&payload[at..]);
    v
}

/// The first whole record of `bytes`, and the rest.
fn first_record(bytes: &[u8]) -> (&[u8], &[u8]) {
    let len = 5 + usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
    bytes.split_at(len)
}

/// The server refused with `alert` in plaintext and 36888 (`alert`, `state`); the client
/// receives that alert (36887 and its status).
fn assert_answered(w: &World, p: &mut Pair, e: &securechannel::Error, alert: u8, state: u32) {
    assert_eq!(e.status(), Status::IllegalMessage);
    assert_eq!(e.state().map(ErrorState::code), Some(state));
    assert_eq!(plaintext_alert(&p.to_client), alert);
    let r = one_event(&w.server_sink, 36888);
    assert_eq!(field(&r, "AlertDesc"), alert.to_string());
    assert_eq!(field(&r, "ErrorState"), state.to_string());
    assert_eq!(r.activity_id, Some(p.server.activity_id()));
    let received = p.client_step().unwrap_err();
    assert_eq!(received.status(), AlertDescription(alert).received_status());
    assert_eq!(
        field(&one_event(&w.client_sink, 36887), "AlertDesc"),
        alert.to_string()
    );
}

#[test]
fn application_data_between_the_parts_of_a_client_hello_gets_unexpected_message() {
    let w = World::new();
    let mut p = w.pair();
    p.client_step().unwrap();
    let hello = std::mem::take(&mut p.to_server);
    p.to_server = split_with(&hello, 40, &[23, 3, 3, 0, 1, 0]);
    let e = p.server_step().unwrap_err();
    assert_answered(&w, &mut p, &e, 10, 3018);
    assert!(e
        .message()
        .contains("between the parts of a handshake message"));
}

#[test]
fn a_warning_alert_between_the_parts_of_a_client_hello_gets_unexpected_message() {
    let w = World::new();
    let mut p = w.pair();
    p.client_step().unwrap();
    let hello = std::mem::take(&mut p.to_server);
    p.to_server = split_with(&hello, 100, &[21, 3, 3, 0, 2, 1, 90]);
    let e = p.server_step().unwrap_err();
    assert_answered(&w, &mut p, &e, 10, 3018);
}

#[test]
fn five_warning_alerts_before_the_hello_get_unexpected_message() {
    let w = World::new();
    let mut p = w.pair();
    p.client_step().unwrap();
    let hello = std::mem::take(&mut p.to_server);
    // user_canceled warnings: rustls takes 4.
    p.to_server = [21, 3, 3, 0, 2, 1, 90].repeat(5);
    p.to_server.extend_from_slice(&hello);
    let e = p.server_step().unwrap_err();
    assert_answered(&w, &mut p, &e, 10, 3020);
    // Warnings are not fatal alerts: no 36887 on the server.
    assert!(events(&w.server_sink, 36887).is_empty());
}

#[test]
fn a_client_hello_over_64_kib_allowed_by_message_limit_server_gets_decode_error() {
    // MessageLimitServer above the engine's own 64 KiB: rustls' limit is the bound, and
    // it sends no alert for it.
    let w = World::new();
    let mut settings = Settings::default();
    settings
        .set(
            "Messaging\\MessageLimitServer",
            SettingValue::Dword(0x20000),
        )
        .unwrap();
    let credential = ServerCredential::new_in_memory_with(
        w.server_emitter.clone(),
        Arc::new(settings),
        Some(w.server_key.clone()),
        w.pki.roots(),
        CredentialOptions::default(),
    );
    let mut p = Pair::between(&w.client_credential(), &credential);
    // A ClientHello header announcing 65,536 bytes, in a full first record.
    let mut record = vec![22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00];
    record.resize(5 + 0x4000, 0);
    p.to_server = record;
    let e = p.server_step().unwrap_err();
    assert_eq!(e.status(), Status::IllegalMessage);
    assert_eq!(e.state(), Some(ErrorState::HandshakeMessageTooLarge));
    assert_eq!(plaintext_alert(&p.to_client), 50);
    let r = one_event(&w.server_sink, 36888);
    assert_eq!(field(&r, "AlertDesc"), "50");
    assert_eq!(field(&r, "ErrorState"), "3021");
}

#[test]
fn a_client_answers_a_split_server_hello_with_application_data_between_with_unexpected_message() {
    let w = World::new();
    let client = w.client_credential_with(
        None,
        credential_options(|o| o.protocols = vec![Protocol::Tls12]),
    );
    let mut p = Pair::between(&client, &w.server_credential());
    p.client_step().unwrap();
    p.server_step().unwrap();
    let flight = std::mem::take(&mut p.to_client);
    let (server_hello, rest) = first_record(&flight);
    p.to_client = split_with(server_hello, 20, &[23, 3, 3, 0, 1, 0]);
    p.to_client.extend_from_slice(rest);
    let before = p.to_server.len();
    let e = p.client_step().unwrap_err();
    assert_eq!(e.status(), Status::IllegalMessage);
    assert_eq!(e.state(), Some(ErrorState::HandshakeInterleaved));
    assert_eq!(plaintext_alert(&p.to_server[before..]), 10);
    let r = one_event(&w.client_sink, 36888);
    assert_eq!(field(&r, "AlertDesc"), "10");
    assert_eq!(field(&r, "ErrorState"), "3018");
    // The server reads it as the fatal alert it is.
    p.to_server.drain(..before);
    let received = p.server_step().unwrap_err();
    assert_eq!(received.status(), AlertDescription(10).received_status());
}

#[test]
fn a_second_change_cipher_spec_in_tls13_ends_the_connection_without_a_false_36888() {
    // After its ServerHello a TLS 1.3 server encrypts; rustls refuses a second
    // compatibility ChangeCipherSpec without an alert, and none can be sent for it.
    let w = World::new();
    let mut p = w.pair();
    p.client_step().unwrap();
    p.server_step().unwrap();
    p.client_step().unwrap();
    let flight = std::mem::take(&mut p.to_server);
    let ccs = [20, 3, 3, 0, 1, 1];
    p.to_server = [ccs, ccs].concat();
    // rustls' client sends one ChangeCipherSpec of its own (middlebox compatibility).
    p.to_server.extend_from_slice(&flight);
    let sent_before = p.to_client.len();
    let e = p.server_step().unwrap_err();
    assert_eq!(e.status(), Status::IllegalMessage);
    assert_eq!(e.state(), Some(ErrorState::TooManyMessages));
    assert!(
        e.message().contains("closed without an alert"),
        "{}",
        e.message()
    );
    assert_eq!(p.to_client.len(), sent_before, "nothing was sent");
    assert!(events(&w.server_sink, 36888).is_empty());
}

#[test]
fn a_tls12_server_answers_a_split_client_key_exchange_in_plaintext() {
    // A full TLS 1.2 handshake: the server has not sent its ChangeCipherSpec when the
    // client's flight arrives, so its alert still goes out in plaintext.
    let w = World::new();
    let client = w.client_credential_with(
        None,
        credential_options(|o| o.protocols = vec![Protocol::Tls12]),
    );
    let mut p = Pair::between(&client, &w.server_credential());
    p.client_step().unwrap();
    p.server_step().unwrap();
    p.client_step().unwrap();
    let flight = std::mem::take(&mut p.to_server);
    let (key_exchange, rest) = first_record(&flight);
    assert_eq!(
        key_exchange[5], 16,
        "the flight starts with the ClientKeyExchange"
    );
    p.to_server = split_with(key_exchange, 10, &[23, 3, 3, 0, 1, 0]);
    p.to_server.extend_from_slice(rest);
    let e = p.server_step().unwrap_err();
    assert_answered(&w, &mut p, &e, 10, 3018);
}
