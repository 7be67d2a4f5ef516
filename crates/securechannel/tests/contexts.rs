//! Security contexts end to end, in memory: handshakes as SSPI statuses, data, extra
//! buffers, close_notify, alerts in both directions with their events, queries.

mod common;

use common::{context_options, credential_options, events, field, one_event, Pair, World};
use securechannel::{
    AlertDescription, ClientContext, ContextOptions, CredentialOptions, DecryptStatus, Protocol,
    ServerContext, Sni, Status, StepStatus,
};
use securechannel_testpki::Ca;

fn tls12_only() -> CredentialOptions {
    credential_options(|o| {
        o.protocols = vec![Protocol::Tls12];
    })
}

fn tls13_only() -> CredentialOptions {
    credential_options(|o| {
        o.protocols = vec![Protocol::Tls13];
    })
}

#[test]
fn tls13_handshake_transcript() {
    let w = World::new();
    let mut p = w.pair();
    p.handshake().expect("handshake");
    assert_eq!(
        p.transcript,
        [
            "client ContinueNeeded", // ClientHello
            "server ContinueNeeded", // ServerHello .. Finished
            "client Complete",       // Finished
            "server Complete",       // NewSessionTicket x2
        ]
    );
    assert_eq!(p.client.protocol(), Some(Protocol::Tls13));
    assert_eq!(p.server.protocol(), Some(Protocol::Tls13));
}

#[test]
fn tls12_handshake_transcript() {
    let w = World::new();
    let mut p = Pair::between(
        &w.client_credential_with(None, tls12_only()),
        &w.server_credential(),
    );
    p.handshake().expect("handshake");
    assert_eq!(
        p.transcript,
        [
            "client ContinueNeeded", // ClientHello
            "server ContinueNeeded", // ServerHello .. ServerHelloDone
            "client ContinueNeeded", // ClientKeyExchange, ChangeCipherSpec, Finished
            "server Complete",       // NewSessionTicket, ChangeCipherSpec, Finished
            "client Complete",
        ]
    );
    assert_eq!(p.client.protocol(), Some(Protocol::Tls12));
}

#[test]
fn first_server_step_without_input_is_incomplete() {
    let w = World::new();
    let mut server = ServerContext::new(&w.server_credential(), ContextOptions::default()).unwrap();
    let mut out = Vec::new();
    let step = server.accept(&mut [], &mut out).unwrap();
    assert_eq!(step.status, StepStatus::IncompleteMessage { missing: None });
    assert_eq!(step.status.status(), Status::IncompleteMessage);
    assert!(out.is_empty());
}

#[test]
fn data_both_ways_and_large_messages_split_into_records() {
    let w = World::new();
    let mut p = w.pair();
    p.handshake().unwrap();
    p.client_send(b"ping");
    assert_eq!(p.server_receive().unwrap(), b"ping");
    p.server_send(b"pong");
    assert_eq!(p.client_receive().unwrap(), b"pong");

    let big: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let mut wire = Vec::new();
    p.client.encrypt(&big, &mut wire).unwrap();
    // Each record is at most header + max_message + trailer.
    let sizes = p.client.stream_sizes().unwrap();
    let mut at = 0;
    let mut records = 0;
    while at < wire.len() {
        let len = u16::from_be_bytes([wire[at + 3], wire[at + 4]]) as usize;
        assert!(len <= sizes.max_message + sizes.trailer, "record of {len}");
        at += 5 + len;
        records += 1;
    }
    assert_eq!(records, 100_000usize.div_ceil(16384));
    p.to_server.extend_from_slice(&wire);
    assert_eq!(p.server_receive().unwrap(), big);
}

#[test]
fn encrypt_into_writes_records_into_the_callers_buffer() {
    for options in [tls13_only(), tls12_only()] {
        let w = World::new();
        let mut p = Pair::between(
            &w.client_credential_with(None, options),
            &w.server_credential(),
        );
        p.handshake().unwrap();
        // One buffer, initialised once and reused, as the benchmark and SSPI callers do.
        let mut buf = vec![0u8; 100_000 + 64 * 8 + 64];
        for (i, len) in [1usize, 16_384, 100_000, 5].into_iter().enumerate() {
            let msg: Vec<u8> = (0..len).map(|j| (i + j) as u8).collect();
            let n = p.client.encrypt_into(&msg, &mut buf).unwrap();
            assert!(
                n > len,
                "{len} bytes of plaintext became {n} bytes of records"
            );
            p.to_server.extend_from_slice(&buf[..n]);
            assert_eq!(p.server_receive().unwrap(), msg);
        }
    }
}

#[test]
fn encrypt_into_a_short_buffer_is_buffer_too_small_and_encrypts_nothing() {
    let w = World::new();
    let mut p = w.pair();
    p.handshake().unwrap();
    let mut small = vec![0u8; 100];
    let e = p.client.encrypt_into(&[7u8; 200], &mut small).unwrap_err();
    assert_eq!(e.status(), Status::BufferTooSmall);
    // Nothing was encrypted: the next record is the next the server expects.
    let mut buf = vec![0u8; 1024];
    let n = p.client.encrypt_into(b"after", &mut buf).unwrap();
    p.to_server.extend_from_slice(&buf[..n]);
    assert_eq!(p.server_receive().unwrap(), b"after");
}

#[test]
fn encrypt_into_before_the_handshake_is_out_of_sequence() {
    let w = World::new();
    let mut p = w.pair();
    let mut buf = vec![0u8; 1024];
    assert_eq!(
        p.client.encrypt_into(b"x", &mut buf).unwrap_err().status(),
        Status::OutOfSequence
    );
}

#[test]
fn stream_sizes_and_connection_info_tls13() {
    let w = World::new();
    let mut p = w.pair();
    assert_eq!(
        p.client.stream_sizes().unwrap_err().status(),
        Status::OutOfSequence
    );
    p.handshake().unwrap();
    let s = p.client.stream_sizes().unwrap();
    assert_eq!(
        (s.header, s.trailer, s.max_message, s.buffers),
        (5, 17, 16384, 4)
    );
    let info = p.client.connection_info().unwrap();
    assert_eq!(info.protocol, Protocol::Tls13);
    assert_eq!(info.cipher, "AES_256_GCM");
    assert_eq!(info.cipher_strength, 256);
    assert_eq!(info.mac, "AEAD");
    assert_eq!(info.prf_hash, "SHA384");
    // With no EccCurves setting the hybrid post-quantum group is preferred (settings.rs);
    // its strength is that of its classical part.
    assert_eq!(
        (info.exchange, info.exchange_strength),
        ("X25519MLKEM768", 255)
    );
    let suite = p.client.cipher_suite().unwrap();
    assert_eq!(
        (suite.name, suite.number),
        ("TLS_AES_256_GCM_SHA384", 0x1302)
    );
    assert_eq!(p.server.connection_info().unwrap(), info);
}

#[test]
fn stream_sizes_tls12_gcm() {
    let w = World::new();
    let mut p = Pair::between(
        &w.client_credential_with(None, tls12_only()),
        &w.server_credential(),
    );
    p.handshake().unwrap();
    let suite = p.client.cipher_suite().unwrap();
    assert_eq!(
        (suite.name, suite.number),
        ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xC02C)
    );
    let s = p.client.stream_sizes().unwrap();
    assert_eq!((s.header, s.trailer), (5, 24));
    let info = p.server.connection_info().unwrap();
    assert_eq!(
        (info.protocol, info.cipher, info.mac),
        (Protocol::Tls12, "AES_256_GCM", "AEAD")
    );
}

#[test]
fn handshake_completed_event_36880_has_all_fields() {
    let w = World::new();
    let ckey = w.client_key.clone();
    let mut p = Pair::between(
        &w.client_credential_with(Some(ckey), CredentialOptions::default()),
        &w.server_credential_with(
            Some(w.server_key.clone()),
            credential_options(|o| {
                o.request_client_certificate = true;
            }),
        ),
    );
    p.handshake().unwrap();
    let c = one_event(&w.client_sink, 36880);
    let expect = [
        ("Type", "client"),
        ("Protocol", "TLS 1.3"),
        ("Cipher", "AES_256_GCM"),
        ("CipherStrength", "256"),
        ("MAC", "AEAD"),
        ("Exchange", "X25519MLKEM768"),
        ("ExchangeStrength", "255"),
        ("CipherSuite", "0x1302"),
        ("TargetName", "server.test"),
        ("LocalCertSubjectName", "CN=client.test"),
        ("RemoteCertSubjectName", "CN=server.test"),
    ];
    for (name, value) in expect {
        assert_eq!(field(&c, name), value, "client {name}");
    }
    assert_eq!(
        field(&c, "ContextHandle"),
        format!("0x{:X}", p.client.context_handle())
    );
    assert_eq!(c.activity_id, Some(p.client.activity_id()));

    let s = one_event(&w.server_sink, 36880);
    assert_eq!(field(&s, "Type"), "server");
    assert_eq!(field(&s, "TargetName"), "server.test"); // the SNI the client sent
    assert_eq!(field(&s, "LocalCertSubjectName"), "CN=server.test");
    assert_eq!(field(&s, "RemoteCertSubjectName"), "CN=client.test");
    assert_eq!(s.activity_id, Some(p.server.activity_id()));
    assert_ne!(p.server.activity_id(), p.client.activity_id());
    assert_ne!(field(&s, "ContextHandle"), field(&c, "ContextHandle"));
    assert_eq!(p.server.remote_certificates().len(), 2);
    assert_eq!(
        p.client.remote_certificates()[0].as_ref(),
        w.server_key.cert[0].as_ref()
    );
}

#[test]
fn events_are_masked_by_event_logging() {
    let w = World::new();
    w.client_emitter
        .set_logging(securechannel::events::EventLogging::DEFAULT);
    let mut p = w.pair();
    p.handshake().unwrap();
    // 36880 is informational: not logged at the default mask (errors only).
    assert!(events(&w.client_sink, 36880).is_empty());
    assert_eq!(events(&w.server_sink, 36880).len(), 1);
}

#[test]
fn alpn_is_negotiated() {
    let w = World::new();
    let mut p = Pair::new(
        &w.client_credential(),
        "server.test",
        context_options(|o| {
            o.alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        }),
        &w.server_credential(),
        context_options(|o| {
            o.alpn = vec![b"http/1.1".to_vec()];
        }),
    );
    p.handshake().unwrap();
    assert_eq!(p.client.alpn(), Some(&b"http/1.1"[..]));
    assert_eq!(p.server.alpn(), Some(&b"http/1.1"[..]));
}

#[test]
fn sni_is_seen_by_the_server_unless_disabled() {
    let w = World::new();
    let mut p = w.pair();
    p.handshake().unwrap();
    assert_eq!(p.server.server_name(), Some("server.test"));
    assert_eq!(p.client.target_name(), "server.test");

    let mut p = Pair::new(
        &w.client_credential(),
        "server.test",
        context_options(|o| {
            o.sni = Sni::Disabled;
        }),
        &w.server_credential(),
        ContextOptions::default(),
    );
    p.handshake().unwrap();
    assert_eq!(p.server.server_name(), None);

    // An IP address target: no SNI, the certificate's IP SAN is checked.
    let mut p = Pair::new(
        &w.client_credential(),
        "127.0.0.1",
        ContextOptions::default(),
        &w.server_credential(),
        ContextOptions::default(),
    );
    p.handshake().unwrap();
    assert_eq!(p.server.server_name(), None);
}

#[test]
fn second_handshake_is_resumed() {
    let w = World::new();
    let (cc, sc) = (w.client_credential(), w.server_credential());
    for (i, expect) in [(0, false), (1, true)] {
        let mut p = Pair::new(
            &cc,
            "server.test",
            ContextOptions::default(),
            &sc,
            ContextOptions::default(),
        );
        p.handshake().unwrap();
        // The client stores the server's tickets when it reads them, after the handshake.
        p.client_send(b"x");
        assert_eq!(p.server_receive().unwrap(), b"x");
        assert!(p.client_receive().unwrap().is_empty());
        assert_eq!(p.client.resumed(), Some(expect), "handshake {i}");
        assert_eq!(p.server.resumed(), Some(expect), "handshake {i}");
    }
}

#[test]
fn tls12_second_handshake_is_resumed() {
    let w = World::new();
    let (cc, sc) = (
        w.client_credential_with(None, tls12_only()),
        w.server_credential(),
    );
    let mut exchanges = Vec::new();
    for expect in [false, true] {
        let mut p = Pair::between(&cc, &sc);
        p.handshake().unwrap();
        assert_eq!(p.client.resumed(), Some(expect));
        assert_eq!(p.server.resumed(), Some(expect));
        // A resumed TLS 1.2 handshake negotiates no group: both sides report the one of
        // the full handshake that made the session, as Schannel reports the cached
        // session's parameters (connection info and 36880).
        for info in [
            p.client.connection_info().unwrap(),
            p.server.connection_info().unwrap(),
        ] {
            assert!(
                !info.exchange.is_empty() && info.exchange_strength > 0,
                "{info:?}"
            );
            exchanges.push((info.exchange, info.exchange_strength));
        }
    }
    assert!(exchanges.windows(2).all(|w| w[0] == w[1]), "{exchanges:?}");
}

#[test]
fn application_data_after_finished_is_kept_and_tail_is_extra() {
    // TLS 1.2: the server completes first and may send data at once; the client then
    // receives Finished, the data and the start of a second record in one input.
    let w = World::new();
    let mut p = Pair::between(
        &w.client_credential_with(None, tls12_only()),
        &w.server_credential(),
    );
    p.client_step().unwrap();
    p.server_step().unwrap();
    p.client_step().unwrap();
    assert_eq!(p.server_step().unwrap(), StepStatus::Complete);
    p.server_send(b"first");
    let mut second = Vec::new();
    p.server.encrypt(b"second", &mut second).unwrap();
    p.to_client.extend_from_slice(&second[..10]);

    let mut input = p.to_client.clone();
    let mut out = Vec::new();
    let step = p.client.initialize(&mut input, &mut out).unwrap();
    assert_eq!(step.status, StepStatus::Complete);
    // The partial record is the extra buffer, untouched.
    assert_eq!(step.consumed, input.len() - 10);
    assert_eq!(&input[step.consumed..], &second[..10]);

    // The data that came with Finished is returned by the first decrypt, then the
    // second record once complete.
    let mut extra = second[..10].to_vec();
    let mut plain = Vec::new();
    let d = p.client.decrypt(&mut extra, &mut plain).unwrap();
    assert_eq!(d.status, DecryptStatus::Data);
    assert_eq!(plain, b"first");
    assert_eq!(d.consumed, 0);
    let mut rest = second.clone();
    plain.clear();
    let d = p.client.decrypt(&mut rest, &mut plain).unwrap();
    assert_eq!((d.status, d.consumed), (DecryptStatus::Data, second.len()));
    assert_eq!(plain, b"second");
}

#[test]
fn incomplete_client_hello_reports_missing_bytes() {
    let w = World::new();
    let mut client = ClientContext::new(
        &w.client_credential(),
        "server.test",
        ContextOptions::default(),
    )
    .unwrap();
    let mut hello = Vec::new();
    client.initialize(&mut [], &mut hello).unwrap();
    let record_len = 5 + u16::from_be_bytes([hello[3], hello[4]]) as usize;
    assert_eq!(record_len, hello.len());

    for cut in [0, 1, 4] {
        let mut server =
            ServerContext::new(&w.server_credential(), ContextOptions::default()).unwrap();
        let mut out = Vec::new();
        let step = server.accept(&mut hello[..cut].to_vec(), &mut out).unwrap();
        assert_eq!(
            step,
            securechannel::Step {
                status: StepStatus::IncompleteMessage { missing: None },
                consumed: 0
            }
        );
    }
    for cut in [5, 6, 100, hello.len() - 1] {
        let mut server =
            ServerContext::new(&w.server_credential(), ContextOptions::default()).unwrap();
        let mut out = Vec::new();
        let step = server.accept(&mut hello[..cut].to_vec(), &mut out).unwrap();
        assert_eq!(
            step.status,
            StepStatus::IncompleteMessage {
                missing: Some(hello.len() - cut)
            },
            "cut at {cut}"
        );
        assert_eq!(step.consumed, 0);
        assert!(out.is_empty());
    }
}

#[test]
fn decrypt_of_records_split_anywhere() {
    let w = World::new();
    let mut p = w.pair();
    p.handshake().unwrap();
    let mut wire = Vec::new();
    for msg in [&b"alpha"[..], b"bravo", b"charlie"] {
        p.client.encrypt(msg, &mut wire).unwrap();
    }
    // Feed 7 bytes at a time, keeping the extra bytes as SSPI callers do.
    let mut pending = Vec::new();
    let mut plain = Vec::new();
    let mut statuses = Vec::new();
    for chunk in wire.chunks(7) {
        pending.extend_from_slice(chunk);
        let d = p.server.decrypt(&mut pending, &mut plain).unwrap();
        if let DecryptStatus::IncompleteMessage { missing: Some(m) } = d.status {
            // The missing count is exactly what completes the record in progress.
            let len =
                u16::from_be_bytes([pending[d.consumed + 3], pending[d.consumed + 4]]) as usize;
            assert_eq!(m, d.consumed + 5 + len - pending.len());
        }
        statuses.push(d.status);
        pending.drain(..d.consumed);
    }
    assert!(pending.is_empty());
    assert_eq!(plain, b"alphabravocharlie");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == DecryptStatus::Data)
            .count(),
        3
    );
    assert!(statuses
        .iter()
        .any(|s| matches!(s, DecryptStatus::IncompleteMessage { missing: Some(_) })));
}

#[test]
fn close_notify_in_both_directions() {
    let w = World::new();
    let mut p = w.pair();
    p.handshake().unwrap();
    let mut token = Vec::new();
    p.client.shutdown(&mut token).unwrap();
    assert!(!token.is_empty());
    p.to_server.extend_from_slice(&token);
    let mut plain = Vec::new();
    let d = p.server.decrypt(&mut p.to_server, &mut plain).unwrap();
    assert_eq!(d.status, DecryptStatus::PeerClosed);
    assert_eq!(d.status.status(), Status::ContextExpiredInfo);
    p.to_server.clear();
    // The server may still send, then closes too.
    p.server_send(b"bye");
    let mut token = Vec::new();
    p.server.shutdown(&mut token).unwrap();
    p.to_client.extend_from_slice(&token);
    let mut plain = Vec::new();
    let d = p.client.decrypt(&mut p.to_client, &mut plain).unwrap();
    assert_eq!(
        (d.status, plain.as_slice()),
        (DecryptStatus::Data, &b"bye"[..])
    );
    let d = p.client.decrypt(&mut [], &mut plain).unwrap();
    assert_eq!(d.status, DecryptStatus::PeerClosed);
    // A second shutdown appends nothing; encrypting after both closed is refused.
    let mut again = Vec::new();
    p.client.shutdown(&mut again).unwrap();
    assert!(again.is_empty());
    assert_eq!(
        p.client.encrypt(b"late", &mut again).unwrap_err().status(),
        Status::ContextExpired
    );
}

#[test]
fn shutdown_before_handshake_is_out_of_sequence() {
    let w = World::new();
    let mut client = ClientContext::new(
        &w.client_credential(),
        "server.test",
        ContextOptions::default(),
    )
    .unwrap();
    let mut out = Vec::new();
    assert_eq!(
        client.shutdown(&mut out).unwrap_err().status(),
        Status::OutOfSequence
    );
    assert_eq!(
        client.encrypt(b"x", &mut out).unwrap_err().status(),
        Status::OutOfSequence
    );
    assert!(out.is_empty());
}

#[test]
fn invalid_target_name_is_refused() {
    let w = World::new();
    let e = ClientContext::new(
        &w.client_credential(),
        "not a name!",
        ContextOptions::default(),
    )
    .unwrap_err();
    assert_eq!(e.status(), Status::InvalidParameter);
}

#[test]
fn client_without_usable_cipher_suite_logs_36873_and_sends_nothing() {
    let w = World::new();
    let cred = w.client_credential_with(
        None,
        credential_options(|o| {
            o.protocols = vec![Protocol::Tls10];
        }),
    );
    let e = ClientContext::new(&cred, "server.test", ContextOptions::default()).unwrap_err();
    assert_eq!(e.status(), Status::AlgorithmMismatch);
    assert_eq!(e.event().map(|e| e.value()), Some(36873));
    let r = one_event(&w.client_sink, 36873);
    assert!(r.activity_id.is_some());
}

// ---------------------------------------------------------------------------------------
// Alerts: what we send (36888) and what the peer receives (36887 and its status).

/// The server receives the client's alert: its status and 36887.
fn assert_server_received(w: &World, p: &mut Pair, alert: u8) {
    let e = p.server_step().unwrap_err();
    assert_eq!(e.status(), AlertDescription(alert).received_status());
    assert_eq!(e.event().map(|e| e.value()), Some(36887));
    let r = one_event(&w.server_sink, 36887);
    assert_eq!(field(&r, "AlertDesc"), alert.to_string());
    assert_eq!(r.activity_id, Some(p.server.activity_id()));
    // A received fatal alert is not answered.
    assert!(events(&w.server_sink, 36888).is_empty());
}

/// The client receives the server's alert.
fn assert_client_received(w: &World, p: &mut Pair, alert: u8) {
    // A TLS 1.3 client is complete before the server has read its Finished (and its
    // certificate): the alert then arrives as a record to decrypt.
    let before = p.to_server.len();
    let e = if p.client.is_complete() {
        p.client_receive().unwrap_err()
    } else {
        p.client_step().unwrap_err()
    };
    // rustls answers a fatal alert with nothing (what the client wrote here, if anything,
    // was queued before: a TLS 1.3 client's compatibility ChangeCipherSpec).
    // Read record by record: encrypted bytes may hold 21 anywhere.
    let mut written = &p.to_server[before..];
    while written.len() >= 5 {
        assert_ne!(written[0], 21, "the client answered with an alert");
        let len = 5 + usize::from(u16::from_be_bytes([written[3], written[4]]));
        written = &written[len.min(written.len())..];
    }
    assert_eq!(e.status(), AlertDescription(alert).received_status());
    let name = AlertDescription(alert).name().expect("a registered alert");
    assert_eq!(
        e.message(),
        format!("the server refused the connection with a fatal {name} alert ({alert})")
    );
    let r = one_event(&w.client_sink, 36887);
    assert_eq!(field(&r, "AlertDesc"), alert.to_string());
    assert!(events(&w.client_sink, 36888).is_empty());
}

fn assert_generated(sink: &securechannel::events::MemorySink, alert: u8, state: u32, target: &str) {
    let r = one_event(sink, 36888);
    assert_eq!(field(&r, "AlertDesc"), alert.to_string());
    assert_eq!(field(&r, "ErrorState"), state.to_string());
    assert_eq!(field(&r, "TargetName"), target);
}

#[test]
fn untrusted_server_certificate_unknown_ca() {
    let w = World::new();
    let other = Ca::root("Other Root");
    let cred = securechannel::ClientCredential::new_in_memory(
        w.client_emitter.clone(),
        Default::default(),
        None,
        other.roots(),
    );
    let mut p = Pair::between(&cred, &w.server_credential());
    let e = p.handshake().unwrap_err();
    assert_eq!(e.status(), Status::UntrustedRoot);
    assert_eq!(
        e.state(),
        Some(securechannel::ErrorState::PeerCertificateRejected)
    );
    // Operator words in the message, rustls' detail as the source.
    assert_eq!(
        e.message(),
        "the server's certificate was issued by an untrusted certificate authority (unknown_ca sent)"
    );
    let source = std::error::Error::source(&e)
        .expect("rustls' error")
        .to_string();
    assert!(source.contains("UnknownIssuer"), "{source}");
    let r = one_event(&w.client_sink, 36882);
    assert_eq!(r.binary.as_deref(), Some(w.server_key.cert[0].as_ref()));
    assert_eq!(r.activity_id, Some(p.client.activity_id()));
    assert_generated(&w.client_sink, 48, 3001, "server.test");
    // Every event of the context carries its activity ID.
    assert_eq!(
        one_event(&w.client_sink, 36888).activity_id,
        Some(p.client.activity_id())
    );
    assert_server_received(&w, &mut p, 48);
    // Each event once: further calls fail without logging again.
    assert_eq!(p.client_step().unwrap_err().status(), Status::UntrustedRoot);
    assert_eq!(events(&w.client_sink, 36888).len(), 1);
}

#[test]
fn wrong_server_name_bad_certificate_36884() {
    let w = World::new();
    let mut p = Pair::new(
        &w.client_credential(),
        "other.test",
        ContextOptions::default(),
        &w.server_credential(),
        ContextOptions::default(),
    );
    let e = p.handshake().unwrap_err();
    assert_eq!(e.status(), Status::WrongPrincipal);
    let r = one_event(&w.client_sink, 36884);
    assert_eq!(field(&r, "Name"), "other.test");
    assert_generated(&w.client_sink, 42, 3001, "other.test");
    assert_server_received(&w, &mut p, 42);
}

#[test]
fn expired_server_certificate_36881() {
    let w = World::new();
    let expired = w
        .pki
        .server_leaf_with(&["server.test"], |p| {
            p.not_before = rcgen::date_time_ymd(2001, 1, 1);
            p.not_after = rcgen::date_time_ymd(2002, 1, 1);
        })
        .with_root(&w.pki)
        .certified_key();
    let mut p = Pair::new(
        &w.client_credential(),
        "server.test",
        ContextOptions::default(),
        &w.server_credential_with(Some(expired), CredentialOptions::default()),
        ContextOptions::default(),
    );
    let e = p.handshake().unwrap_err();
    assert_eq!(e.status(), Status::CertExpired);
    one_event(&w.client_sink, 36881);
    assert_generated(&w.client_sink, 45, 3001, "server.test");
    assert_server_received(&w, &mut p, 45);
}

#[test]
fn no_application_protocol_alert() {
    let w = World::new();
    let mut p = Pair::new(
        &w.client_credential(),
        "server.test",
        context_options(|o| {
            o.alpn = vec![b"http/1.1".to_vec()];
        }),
        &w.server_credential(),
        context_options(|o| {
            o.alpn = vec![b"h2".to_vec()];
        }),
    );
    let e = p.handshake().unwrap_err();
    assert_eq!(e.status(), Status::ApplicationProtocolMismatch);
    assert_generated(&w.server_sink, 120, 3013, "server.test");
    assert_client_received(&w, &mut p, 120);
}

#[test]
fn client_tls13_only_against_server_tls12_only_protocol_version() {
    let w = World::new();
    let mut p = Pair::new(
        &w.client_credential_with(None, tls13_only()),
        "server.test",
        ContextOptions::default(),
        &w.server_credential_with(Some(w.server_key.clone()), tls12_only()),
        ContextOptions::default(),
    );
    let e = p.handshake().unwrap_err();
    assert_eq!(e.status(), Status::UnsupportedFunction);
    assert_eq!(e.event().map(|e| e.value()), Some(36874));
    let r = one_event(&w.server_sink, 36874);
    assert_eq!(field(&r, "Protocol"), "TLS 1.3");
    assert_generated(&w.server_sink, 70, 3006, "");
    assert_client_received(&w, &mut p, 70);
}

#[test]
fn client_tls12_only_against_server_tls13_only_protocol_version() {
    let w = World::new();
    let mut p = Pair::between(
        &w.client_credential_with(None, tls12_only()),
        &w.server_credential_with(Some(w.server_key.clone()), tls13_only()),
    );
    let e = p.handshake().unwrap_err();
    assert_eq!(e.status(), Status::UnsupportedFunction);
    assert_eq!(
        field(&one_event(&w.server_sink, 36874), "Protocol"),
        "TLS 1.2"
    );
    // Refused before the certificate (and so the SNI name) was looked at.
    assert_generated(&w.server_sink, 70, 3006, "");
    assert_client_received(&w, &mut p, 70);
}

#[test]
fn server_without_certificate_logs_36886_and_denies_access() {
    let w = World::new();
    let mut p = Pair::between(
        &w.client_credential(),
        &w.server_credential_with(None, CredentialOptions::default()),
    );
    let e = p.handshake().unwrap_err();
    assert_eq!(e.status(), Status::NoCredentials);
    assert_eq!(e.event().map(|e| e.value()), Some(36886));
    one_event(&w.server_sink, 36886);
    assert_generated(&w.server_sink, 49, 3014, "server.test");
    assert_client_received(&w, &mut p, 49);
}

#[test]
fn unexpected_message_before_client_hello() {
    let w = World::new();
    let mut p = w.pair();
    p.client_step().unwrap();
    // Application data where the ClientHello must come.
    p.to_server = vec![23, 3, 3, 0, 1, 0];
    let e = p.server_step().unwrap_err();
    assert_eq!(e.status(), Status::IllegalMessage);
    assert_generated(&w.server_sink, 10, 3005, "");
    assert_client_received(&w, &mut p, 10);
}

#[test]
fn undecodable_client_hello_decode_error() {
    let w = World::new();
    let mut p = w.pair();
    p.client_step().unwrap();
    // A handshake record holding a ClientHello with an empty body.
    p.to_server = vec![22, 3, 1, 0, 4, 1, 0, 0, 0];
    let e = p.server_step().unwrap_err();
    assert_eq!(e.status(), Status::IllegalMessage);
    assert_generated(&w.server_sink, 50, 3002, "");
    assert_client_received(&w, &mut p, 50);
}

#[test]
fn tampered_record_bad_record_mac_both_directions() {
    let w = World::new();
    let mut p = w.pair();
    p.handshake().unwrap();
    let _ = p.client_receive().unwrap(); // tickets
    p.client_send(b"secret");
    let last = p.to_server.len() - 1;
    p.to_server[last] ^= 0x01;
    let e = p.server_receive().unwrap_err();
    assert_eq!(e.status(), Status::DecryptFailure);
    assert_generated(&w.server_sink, 20, 3003, "server.test");
    // The alert waits in take_output; the client receives it.
    let mut alert = Vec::new();
    assert!(p.server.take_output(&mut alert) > 0);
    p.to_client.extend_from_slice(&alert);
    let e = p.client_receive().unwrap_err();
    assert_eq!(e.status(), Status::MessageAltered);
    assert_eq!(field(&one_event(&w.client_sink, 36887), "AlertDesc"), "20");
}

#[test]
fn oversized_record_header_is_refused_without_buffering() {
    let w = World::new();
    let mut p = w.pair();
    p.client_step().unwrap();
    // A header announcing 65535 bytes (the most a record header can say): refused as
    // soon as the header is seen, no body is waited for.
    p.to_server = vec![22, 3, 1, 0xFF, 0xFF];
    let e = p.server_step().unwrap_err();
    assert_eq!(e.status(), Status::IllegalMessage);
    // decode_error is rustls' answer to an over-long plaintext record; the error state
    // says why (RecordOverflow, 3004).
    assert_generated(&w.server_sink, 50, 3004, "");
    assert_client_received(&w, &mut p, 50);
}

/// A plaintext record header announcing 2^14 + 1 bytes, as the first record of `bytes`.
fn with_oversized_record_first(bytes: &[u8]) -> Vec<u8> {
    let mut v = vec![22, 3, 3, 0x40, 0x01];
    v.extend_from_slice(bytes);
    v
}

#[test]
fn a_tls12_client_flight_with_a_record_over_2_14_is_refused_at_its_header() {
    // RFC 5246 section 6.2.1: a plaintext record is at most 2^14 bytes. rustls would read
    // one up to 2^14 + 2048; the server refuses it at its header with rustls' decode_error.
    let w = World::new();
    let mut p = Pair::between(
        &w.client_credential_with(None, tls12_only()),
        &w.server_credential(),
    );
    p.client_step().unwrap();
    p.server_step().unwrap();
    p.client_step().unwrap();
    let flight = std::mem::take(&mut p.to_server);
    p.to_server = with_oversized_record_first(&flight);
    let e = p.server_step().unwrap_err();
    assert_eq!(e.status(), Status::IllegalMessage);
    assert_eq!(e.state(), Some(securechannel::ErrorState::RecordOverflow));
    assert!(
        e.message().contains("plaintext record of 16385 bytes"),
        "{}",
        e.message()
    );
    assert_generated(&w.server_sink, 50, 3004, "server.test");
    assert_client_received(&w, &mut p, 50);
}

#[test]
fn a_tls12_server_flight_with_a_record_over_2_14_is_refused_by_the_client() {
    let w = World::new();
    let mut p = Pair::between(
        &w.client_credential_with(None, tls12_only()),
        &w.server_credential(),
    );
    p.client_step().unwrap();
    p.server_step().unwrap();
    let flight = std::mem::take(&mut p.to_client);
    p.to_client = with_oversized_record_first(&flight);
    let e = p.client_step().unwrap_err();
    assert_eq!(e.status(), Status::IllegalMessage);
    assert_generated(&w.client_sink, 50, 3004, "server.test");
    assert_server_received(&w, &mut p, 50);
}

#[test]
fn apply_alert_during_handshake_sends_it() {
    // Client refuses the (valid) server certificate with certificate_revoked.
    let w = World::new();
    let mut p = w.pair();
    p.client_step().unwrap();
    p.server_step().unwrap();
    p.client
        .apply_alert(AlertDescription::CERTIFICATE_REVOKED)
        .unwrap();
    let e = p.client_step().unwrap_err();
    assert_eq!(e.state(), Some(securechannel::ErrorState::ApplicationAlert));
    assert_generated(&w.client_sink, 44, 3016, "server.test");
    assert_server_received(&w, &mut p, 44);
}

#[test]
fn apply_alert_limits() {
    let w = World::new();
    let mut p = w.pair();
    // No certificate error makes rustls send protocol_version.
    assert_eq!(
        p.client
            .apply_alert(AlertDescription::PROTOCOL_VERSION)
            .unwrap_err()
            .status(),
        Status::UnsupportedFunction
    );
    // A server that verifies no client certificate has no mechanism.
    assert_eq!(
        p.server
            .apply_alert(AlertDescription::BAD_CERTIFICATE)
            .unwrap_err()
            .status(),
        Status::UnsupportedFunction
    );
    p.handshake().unwrap();
    // After the handshake rustls sends no alert but close_notify.
    assert_eq!(
        p.client
            .apply_alert(AlertDescription::UNKNOWN_CA)
            .unwrap_err()
            .status(),
        Status::UnsupportedFunction
    );
}

#[test]
fn server_refuses_client_certificate_with_app_alert() {
    let w = World::new();
    let mut p = Pair::between(
        &w.client_credential_with(Some(w.client_key.clone()), CredentialOptions::default()),
        &w.server_credential_with(
            Some(w.server_key.clone()),
            credential_options(|o| {
                o.request_client_certificate = true;
            }),
        ),
    );
    p.server
        .apply_alert(AlertDescription::ACCESS_DENIED)
        .unwrap();
    let e = p.handshake().unwrap_err();
    assert_eq!(e.state(), Some(securechannel::ErrorState::ApplicationAlert));
    assert_generated(&w.server_sink, 49, 3016, "server.test");
    assert_client_received(&w, &mut p, 49);
}

#[test]
fn required_client_certificate_missing() {
    let w = World::new();
    let mut p = Pair::between(
        &w.client_credential(),
        &w.server_credential_with(
            Some(w.server_key.clone()),
            credential_options(|o| {
                o.require_client_certificate = true;
            }),
        ),
    );
    let e = p.handshake().unwrap_err();
    assert_eq!(
        e.state(),
        Some(securechannel::ErrorState::ClientCertificateRequired)
    );
    assert_generated(&w.server_sink, 116, 3012, "server.test");
    assert_client_received(&w, &mut p, 116);
}

// ---------------------------------------------------------------------------------------
// Legacy hellos: 36874 names the client's protocol, the peer gets protocol_version (70),
// encoded by rustls.

/// A ClientHello as an SSL 3.0 / TLS 1.0 / TLS 1.1 client sends it: the version in the
/// record and in client_version, no supported_versions; with or without a
/// signature_algorithms extension (clients capped below TLS 1.2 usually send none).
fn legacy_hello(version: [u8; 2], with_signature_algorithms: bool) -> Vec<u8> {
    let mut body = vec![version[0], version[1]];
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // session id
    body.extend_from_slice(&[0, 4, 0x00, 0x2F, 0x00, 0x35]); // RSA AES-CBC suites
    body.extend_from_slice(&[1, 0]); // null compression
    if with_signature_algorithms {
        // extensions: signature_algorithms = [ecdsa_secp256r1_sha256]
        body.extend_from_slice(&[0, 8, 0, 13, 0, 4, 0, 2, 4, 3]);
    }
    let mut hs = vec![1, 0, 0, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut rec = vec![22, version[0], version[1], 0, hs.len() as u8];
    rec.extend_from_slice(&hs);
    rec
}

/// An SSLv2-compatible ClientHello (RFC 5246 appendix E.2) announcing `version`.
fn sslv2_hello(version: [u8; 2]) -> Vec<u8> {
    let mut msg = vec![1, version[0], version[1], 0, 3, 0, 0, 0, 16];
    msg.extend_from_slice(&[0x00, 0x00, 0x2F]);
    msg.extend_from_slice(&[0x17; 16]);
    let mut rec = vec![0x80, msg.len() as u8];
    rec.extend_from_slice(&msg);
    rec
}

/// The description of the plaintext alert record `out` holds (as a peer reads it).
fn plaintext_alert(out: &[u8]) -> u8 {
    assert_eq!(
        (out.len(), out[0], out[5]),
        (7, 21, 2),
        "a fatal alert record: {out:?}"
    );
    out[6]
}

fn refuse_legacy(hello: Vec<u8>) -> (World, securechannel::Error, Vec<u8>) {
    let w = World::new();
    let (e, out) = refuse_with(&w.server_credential(), hello);
    (w, e, out)
}

fn refuse_with(
    credential: &securechannel::ServerCredential,
    hello: Vec<u8>,
) -> (securechannel::Error, Vec<u8>) {
    let mut server = ServerContext::new(credential, ContextOptions::default()).unwrap();
    let mut input = hello;
    let mut out = Vec::new();
    let e = server.accept(&mut input, &mut out).unwrap_err();
    // The context has failed for good: the next call neither sends nor logs anything.
    let mut more = Vec::new();
    let again = server.accept(&mut input, &mut more).unwrap_err();
    assert_eq!(again.status(), e.status());
    assert!(more.is_empty());
    (e, out)
}

/// What the server logged and sent for a legacy hello: SEC_E_UNSUPPORTED_FUNCTION, 36874
/// naming `name` once, 36888 (70, NoSharedProtocol 3006, no TargetName) once, and a
/// single protocol_version alert record as the whole output.
fn assert_refused_as_legacy(
    sink: &securechannel::events::MemorySink,
    e: &securechannel::Error,
    out: &[u8],
    name: &str,
) {
    assert_eq!(e.status(), Status::UnsupportedFunction, "{name}");
    assert_eq!(e.event().map(|e| e.value()), Some(36874), "{name}");
    assert_eq!(
        e.message(),
        format!("the client offered {name}, an old protocol this provider does not speak (only TLS 1.2 and TLS 1.3) (protocol_version sent)")
    );
    let r = one_event(sink, 36874);
    assert_eq!(field(&r, "Protocol"), name);
    let text = securechannel::events::render_message(&r, securechannel::events::Wording::Modern);
    assert!(
        text.starts_with(&format!("An {name} connection request was received")),
        "{text}"
    );
    assert_eq!(plaintext_alert(out), 70, "{name} {e:?}");
    assert_generated(sink, 70, 3006, "");
}

#[test]
fn legacy_record_hellos_are_named_in_36874_and_get_protocol_version() {
    // Clients capped below TLS 1.2 send no signature_algorithms; rustls alone would answer
    // those with handshake_failure. Both shapes get protocol_version, as from Schannel.
    for (version, name) in [
        ([3, 0], "SSL 3.0"),
        ([3, 1], "TLS 1.0"),
        ([3, 2], "TLS 1.1"),
    ] {
        for sig_algs in [true, false] {
            let (w, e, out) = refuse_legacy(legacy_hello(version, sig_algs));
            assert_refused_as_legacy(&w.server_sink, &e, &out, name);
        }
    }
}

#[test]
fn legacy_hello_gets_protocol_version_whatever_the_server_enables() {
    for options in [tls12_only(), tls13_only()] {
        let w = World::new();
        let credential = w.server_credential_with(Some(w.server_key.clone()), options.clone());
        for (version, name) in [([3, 1], "TLS 1.0"), ([3, 2], "TLS 1.1")] {
            let (e, out) = refuse_with(&credential, legacy_hello(version, false));
            assert_eq!(plaintext_alert(&out), 70, "{name} {:?}", options.protocols);
            assert_eq!(e.status(), Status::UnsupportedFunction);
        }
        assert_eq!(events(&w.server_sink, 36874).len(), 2);
        assert_eq!(events(&w.server_sink, 36888).len(), 2);
    }
}

#[test]
fn legacy_hello_to_a_server_without_certificate_logs_36886_too() {
    let w = World::new();
    let credential = w.server_credential_with(None, CredentialOptions::default());
    let (e, out) = refuse_with(&credential, legacy_hello([3, 1], false));
    one_event(&w.server_sink, 36886);
    assert_refused_as_legacy(&w.server_sink, &e, &out, "TLS 1.0");
}

#[test]
fn sslv2_compatible_hello_is_named_and_gets_protocol_version() {
    // rustls' deframer would refuse the SSLv2 framing with decode_error; the client gets
    // rustls' TLS-framed protocol_version alert, which SSLv2-compatible TLS clients read.
    for (version, name) in [
        ([0, 2], "SSL 2.0"),
        ([3, 0], "SSL 3.0"),
        ([3, 1], "TLS 1.0"),
    ] {
        let (w, e, out) = refuse_legacy(sslv2_hello(version));
        assert_refused_as_legacy(&w.server_sink, &e, &out, name);
    }
}

#[test]
fn sslv2_compatible_hello_arriving_in_pieces_waits_to_be_named() {
    let w = World::new();
    let hello = sslv2_hello([3, 1]);
    let mut server = ServerContext::new(&w.server_credential(), ContextOptions::default()).unwrap();
    let mut out = Vec::new();
    // 11 bytes name the client's version; fewer are held back from rustls.
    for cut in [1, 5, 10] {
        let step = server.accept(&mut hello[..cut].to_vec(), &mut out).unwrap();
        assert_eq!(
            step,
            securechannel::Step {
                status: StepStatus::IncompleteMessage { missing: None },
                consumed: 0
            }
        );
        assert!(out.is_empty());
    }
    let e = server.accept(&mut hello.clone(), &mut out).unwrap_err();
    assert_refused_as_legacy(&w.server_sink, &e, &out, "TLS 1.0");
}

#[test]
fn sni_name_override_is_sent_and_verified_target_stays_in_events() {
    let w = World::new();
    let mut p = Pair::new(
        &w.client_credential(),
        "alias.internal",
        context_options(|o| {
            o.sni = Sni::Name("server.test".into());
        }),
        &w.server_credential(),
        ContextOptions::default(),
    );
    p.handshake().unwrap();
    assert_eq!(p.server.server_name(), Some("server.test"));
    assert_eq!(
        field(&one_event(&w.client_sink, 36880), "TargetName"),
        "alias.internal"
    );
}

#[test]
fn wrong_name_event_names_the_sni_override_the_certificate_was_checked_against() {
    let w = World::new();
    let mut p = Pair::new(
        &w.client_credential(),
        "alias.internal",
        context_options(|o| {
            o.sni = Sni::Name("other.test".into());
        }),
        &w.server_credential(),
        ContextOptions::default(),
    );
    let e = p.handshake().unwrap_err();
    assert_eq!(e.status(), Status::WrongPrincipal);
    assert_eq!(
        e.message(),
        "the server's certificate is not valid for the name other.test (bad_certificate sent)"
    );
    assert_eq!(
        field(&one_event(&w.client_sink, 36884), "Name"),
        "other.test"
    );
    // TargetName stays the target name.
    assert_generated(&w.client_sink, 42, 3001, "alias.internal");
}

#[test]
fn client_without_a_certificate_asked_for_one_logs_36875_and_goes_on_anonymously() {
    let w = World::new();
    for options in [tls13_only(), tls12_only()] {
        let (client_sink, client_emitter) = common::recording();
        let cred = securechannel::ClientCredential::new_in_memory_with(
            client_emitter,
            Default::default(),
            None,
            w.pki.roots(),
            options,
        );
        let mut p = Pair::new(
            &cred,
            "server.test",
            ContextOptions::default(),
            &w.server_credential_with(
                Some(w.server_key.clone()),
                credential_options(|o| {
                    o.request_client_certificate = true;
                }),
            ),
            ContextOptions::default(),
        );
        p.handshake().unwrap();
        assert!(p.server.remote_certificates().is_empty());
        let r = one_event(&client_sink, 36875);
        assert_eq!(r.activity_id, Some(p.client.activity_id()));
        assert_eq!(
            field(&one_event(&client_sink, 36880), "LocalCertSubjectName"),
            ""
        );
    }
}

#[test]
fn client_36880_names_its_certificate_only_when_it_was_sent() {
    let w = World::new();
    for (requested, subject) in [(false, ""), (true, "CN=client.test")] {
        let (client_sink, client_emitter) = common::recording();
        let cred = securechannel::ClientCredential::new_in_memory(
            client_emitter,
            Default::default(),
            Some(w.client_key.clone()),
            w.pki.roots(),
        );
        let mut p = Pair::between(
            &cred,
            &w.server_credential_with(
                Some(w.server_key.clone()),
                credential_options(|o| {
                    o.request_client_certificate = requested;
                }),
            ),
        );
        p.handshake().unwrap();
        assert_eq!(p.server.remote_certificates().is_empty(), !requested);
        assert_eq!(
            field(&one_event(&client_sink, 36880), "LocalCertSubjectName"),
            subject,
            "requested: {requested}"
        );
        assert!(events(&client_sink, 36875).is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// Hand-made hellos that rustls refuses for one specific reason: each checks a row of the
// failure table (alert and ErrorState in 36888) against the alert that reaches the peer.

/// A TLS 1.2-framed ClientHello with these extensions (type, body).
fn hello_with(extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 4, 0x13, 0x01, 0xC0, 0x2B]); // TLS_AES_128_GCM_SHA256, ECDHE_ECDSA_AES_128_GCM
    body.extend_from_slice(&[1, 0]);
    let mut ext = Vec::new();
    for (t, b) in extensions {
        ext.extend_from_slice(&t.to_be_bytes());
        ext.extend_from_slice(&(b.len() as u16).to_be_bytes());
        ext.extend_from_slice(b);
    }
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

fn sig_algs() -> (u16, Vec<u8>) {
    (13, vec![0, 2, 4, 3]) // ecdsa_secp256r1_sha256
}

fn groups() -> (u16, Vec<u8>) {
    (10, vec![0, 2, 0, 0x1D]) // x25519
}

fn tls13_versions() -> (u16, Vec<u8>) {
    (43, vec![2, 3, 4])
}

/// The server's answer to `hello`: status, 36888's (AlertDesc, ErrorState), and the
/// alert in the output as a peer reads it.
fn refuse(hello: Vec<u8>) -> (Status, String, String, u8) {
    let (w, e, out) = refuse_legacy(hello);
    let r = one_event(&w.server_sink, 36888);
    (
        e.status(),
        field(&r, "AlertDesc"),
        field(&r, "ErrorState"),
        plaintext_alert(&out),
    )
}

#[test]
fn hello_with_a_duplicated_extension_illegal_parameter() {
    let (status, alert, state, sent) = refuse(hello_with(&[sig_algs(), sig_algs(), groups()]));
    assert_eq!((alert.as_str(), sent), ("47", 47));
    assert_eq!(status, Status::IllegalMessage);
    assert_eq!(state, "3002", "rustls: InvalidMessage::DuplicateExtension");
}

#[test]
fn tls13_hello_without_key_share_handshake_failure() {
    // rustls: PeerIncompatible::KeyShareExtensionRequired.
    let (status, alert, state, sent) =
        refuse(hello_with(&[sig_algs(), groups(), tls13_versions()]));
    assert_eq!(alert, sent.to_string());
    assert_eq!((alert.as_str(), state.as_str()), ("40", "3007"));
    assert_eq!(status, Status::AlgorithmMismatch);
}

#[test]
fn tls13_hello_with_psk_but_no_psk_modes_missing_extension() {
    let mut share = vec![0, 36, 0, 0x1D, 0, 32, 9];
    share.resize(2 + 36, 0); // the X25519 base point as public key
    let mut psk = vec![0, 9, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0, 0, 33, 32];
    psk.resize(psk.len() + 32, 0);
    let (status, alert, state, sent) = refuse(hello_with(&[
        sig_algs(),
        groups(),
        tls13_versions(),
        (51, share),
        (41, psk), // pre_shared_key, last as required; psk_key_exchange_modes missing
    ]));
    assert_eq!(alert, sent.to_string());
    assert_eq!((alert.as_str(), state.as_str()), ("109", "3009"));
    assert_eq!(status, Status::IllegalMessage);
}

#[test]
fn tls13_hello_without_supported_groups_handshake_failure() {
    let (status, alert, state, sent) = refuse(hello_with(&[sig_algs(), tls13_versions()]));
    assert_eq!(alert, sent.to_string());
    assert_eq!((alert.as_str(), state.as_str()), ("40", "3007"));
    assert_eq!(status, Status::AlgorithmMismatch);
}

#[test]
fn tls13_hello_with_duplicate_key_shares_illegal_parameter() {
    let mut entry = vec![0, 0x1D, 0, 32, 9];
    entry.resize(4 + 32, 0);
    let mut share = vec![0, 72];
    share.extend_from_slice(&entry);
    share.extend_from_slice(&entry);
    let (status, alert, state, sent) = refuse(hello_with(&[
        sig_algs(),
        groups(),
        tls13_versions(),
        (51, share),
    ]));
    assert_eq!(alert, sent.to_string());
    // rustls: PeerMisbehaved::OfferedDuplicateKeyShares.
    assert_eq!((alert.as_str(), state.as_str()), ("47", "3008"));
    assert_eq!(status, Status::IllegalMessage);
}

#[test]
fn tls13_warning_alert_is_answered_with_decode_error() {
    // TLS 1.3 forbids warning alerts (but user_canceled): rustls answers one with
    // decode_error.
    let w = World::new();
    let mut p = w.pair();
    p.client_step().unwrap();
    p.server_step().unwrap();
    p.to_server = vec![21, 3, 3, 0, 2, 1, 48]; // warning unknown_ca
    let e = p.server_step().unwrap_err();
    // Our refusal (not SEC_E_UNTRUSTED_ROOT, the status of a fatal unknown_ca), and no
    // 36887: the peer's alert was not fatal.
    assert_eq!(e.status(), Status::IllegalMessage);
    assert_generated(&w.server_sink, 50, 3015, "server.test");
    assert!(events(&w.server_sink, 36887).is_empty());
    // The client reads the server's flight, then the decode_error behind it.
    assert_client_received(&w, &mut p, 50);
}

/// The ClientHello in `record` (one plaintext handshake record) without its
/// extended_master_secret extension (23), all lengths adjusted: a tampered hello that both
/// sides still accept, after which their transcripts differ.
fn without_ems_extension(record: &[u8]) -> Vec<u8> {
    let body = &record[5 + 4..];
    // version, random, session ID, suites, compression
    let mut at = 2 + 32;
    at += 1 + usize::from(body[at]);
    at += 2 + usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
    at += 1 + usize::from(body[at]);
    let exts_len = usize::from(u16::from_be_bytes([body[at], body[at + 1]]));
    let exts = &body[at + 2..at + 2 + exts_len];
    let mut kept = Vec::new();
    let mut i = 0;
    while i < exts.len() {
        let typ = u16::from_be_bytes([exts[i], exts[i + 1]]);
        let len = usize::from(u16::from_be_bytes([exts[i + 2], exts[i + 3]]));
        if typ != 23 {
            kept.extend_from_slice(&exts[i..i + 4 + len]);
        }
        i += 4 + len;
    }
    assert!(
        kept.len() < exts.len(),
        "the hello offered extended_master_secret"
    );
    let mut new_body = body[..at].to_vec();
    new_body.extend_from_slice(&(kept.len() as u16).to_be_bytes());
    new_body.extend_from_slice(&kept);
    let mut out = record[..3].to_vec();
    out.extend_from_slice(&(new_body.len() as u16 + 4).to_be_bytes());
    out.push(1);
    out.extend_from_slice(&(new_body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(&new_body);
    out
}

/// A TLS 1.2 handshake from a rustls client to our server, with `tamper` applied to the
/// client's hello and to its last flight: the alert the client receives, the server's
/// error and its 36888.
fn tls12_client_flight_refused(
    tamper_hello: impl Fn(&[u8]) -> Vec<u8>,
    tamper_flight: impl Fn(&mut Vec<u8>),
) -> (
    rustls::Error,
    securechannel::Error,
    securechannel::events::EventRecord,
) {
    let w = World::new();
    let server_cred = w.server_credential();
    let mut server = ServerContext::new(&server_cred, ContextOptions::default()).unwrap();
    let config = std::sync::Arc::new(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(w.pki.roots())
        .with_no_client_auth(),
    );
    let mut client =
        rustls::ClientConnection::new(config, "server.test".try_into().unwrap()).unwrap();
    let mut to_server = Vec::new();
    client.write_tls(&mut to_server).unwrap();
    let mut hello = tamper_hello(&to_server);
    let mut out = Vec::new();
    let step = server.accept(&mut hello, &mut out).unwrap();
    assert_eq!(step.status, StepStatus::ContinueNeeded);
    client.read_tls(&mut &out[..]).unwrap();
    client.process_new_packets().expect("the server's flight");
    let mut flight = Vec::new();
    while client.wants_write() {
        client.write_tls(&mut flight).unwrap();
    }
    tamper_flight(&mut flight);
    let mut alert = Vec::new();
    let e = server.accept(&mut flight, &mut alert).unwrap_err();
    // What the client receives is the wire's truth.
    client.read_tls(&mut &alert[..]).unwrap();
    let received = client.process_new_packets().unwrap_err();
    (received, e, one_event(&w.server_sink, 36888))
}

#[test]
fn a_finished_that_does_not_verify_is_decrypt_error_on_the_wire_and_in_36888() {
    // The client's hello lost its EMS extension on the way: both sides derive the same
    // keys (no EMS), but the server's transcript is not the client's, so the client's
    // Finished decrypts and does not verify. rustls answers decrypt_error (51), not
    // bad_record_mac (20), and 36888 must say what was sent.
    let (received, e, r) = tls12_client_flight_refused(without_ems_extension, |_| {});
    assert_eq!(
        received,
        rustls::Error::AlertReceived(rustls::AlertDescription::DecryptError)
    );
    assert_eq!(
        field(&r, "AlertDesc"),
        "51",
        "36888 names the alert on the wire"
    );
    assert_eq!(field(&r, "ErrorState"), "3017");
    assert_eq!(e.status(), Status::MessageAltered);
    assert_eq!(
        e.state(),
        Some(securechannel::ErrorState::HandshakeVerifyFailed)
    );
}

#[test]
fn an_encrypted_finished_altered_on_the_way_is_bad_record_mac_in_36888() {
    // The same handshake with the last byte of the encrypted Finished flipped: the record
    // fails authentication, and rustls answers bad_record_mac.
    let (received, e, r) = tls12_client_flight_refused(
        |hello| hello.to_vec(),
        |flight| {
            let last = flight.len() - 1;
            flight[last] ^= 1;
        },
    );
    assert_eq!(
        received,
        rustls::Error::AlertReceived(rustls::AlertDescription::BadRecordMac)
    );
    assert_eq!(field(&r, "AlertDesc"), "20");
    assert_eq!(field(&r, "ErrorState"), "3003");
    assert_eq!(e.status(), Status::DecryptFailure);
}

/// A TLS 1.2 ClientHello record offering `suites`, with `extensions` (raw bytes).
fn tls12_hello(suites: &[u16], extensions: &[u8]) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[7; 32]);
    body.push(0);
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]);
    if !extensions.is_empty() {
        body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        body.extend_from_slice(extensions);
    }
    let mut record = vec![22, 3, 1];
    record.extend_from_slice(&(body.len() as u16 + 4).to_be_bytes());
    record.push(1);
    record.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    record.extend_from_slice(&body);
    record
}

#[test]
fn tls12_hellos_sharing_no_suite_get_36874_whatever_rustls_checks_first() {
    // signature_algorithms with ecdsa_secp256r1_sha256 and rsa_pss_rsae_sha256.
    let sigalgs = [0, 13, 0, 6, 0, 4, 4, 3, 8, 4];
    for (what, suites, extensions) in [
        (
            "RSA key exchange only, no extensions",
            &[0x002F, 0x0035, 0x000A][..],
            &[][..],
        ),
        (
            "RSA key exchange only, with signature_algorithms",
            &[0x002F, 0x0035][..],
            &sigalgs[..],
        ),
        (
            "export suites only",
            &[0x0003, 0x0006, 0x0008][..],
            &sigalgs[..],
        ),
    ] {
        let w = World::new();
        let cred = w.server_credential();
        let mut server = ServerContext::new(&cred, ContextOptions::default()).unwrap();
        let mut hello = tls12_hello(suites, extensions);
        let e = server.accept(&mut hello, &mut Vec::new()).unwrap_err();
        let no_suite = events(&w.server_sink, 36874);
        assert_eq!(no_suite.len(), 1, "{what}: 36874 ({e})");
        assert_eq!(field(&no_suite[0], "Protocol"), "TLS 1.2", "{what}");
        assert_eq!(e.event().map(|e| e.value()), Some(36874), "{what}");
    }
}

#[test]
fn a_hello_record_longer_than_2_14_bytes_is_refused_and_36888_names_the_alert_sent() {
    // A TLS 1.2 hello whose record carries 2^14 + 100 bytes (a long padding extension):
    // rustls itself reads plaintext records up to 2^14 + 2048, RFC 8446 5.1 forbids it.
    let mut padding = vec![0, 21];
    let pad_len = 16384 + 100;
    padding.extend_from_slice(&(pad_len as u16).to_be_bytes());
    padding.resize(4 + pad_len, 0);
    let mut extensions = vec![0, 13, 0, 6, 0, 4, 4, 3, 8, 4];
    extensions.extend_from_slice(&padding);
    let hello = tls12_hello(&[0xC02B, 0xC02F], &extensions);
    assert!(hello.len() > 5 + 16384);
    let w = World::new();
    let cred = w.server_credential();
    let mut server = ServerContext::new(&cred, ContextOptions::default()).unwrap();
    let mut out = Vec::new();
    let e = server.accept(&mut hello.clone(), &mut out).unwrap_err();
    // One plaintext alert record, as rustls wrote it: fatal decode_error.
    assert_eq!(out.len(), 7, "{out:02x?}");
    assert_eq!((out[0], out[5], out[6]), (21, 2, 50), "{out:02x?}");
    let r = one_event(&w.server_sink, 36888);
    assert_eq!(field(&r, "AlertDesc"), "50", "the alert on the wire");
    assert_eq!(field(&r, "ErrorState"), "3004");
    assert_eq!(e.state(), Some(securechannel::ErrorState::RecordOverflow));
}
