//! The precise chain status of a refused certificate, end to end through contexts: the
//! caller's `Error::chain_status()` and the ErrorCode of 36876 (client) / 36877 (server),
//! while the call returns Schannel's SEC_E_* status.

mod common;

use common::*;
use rcgen::{BasicConstraints, IsCa};
use securechannel::events::Status;
use securechannel::{ClientCredential, ServerCredential, Settings};
use securechannel_testpki::{ca_params, Ca};
use std::sync::Arc;

/// A root, an intermediate that is no CA (no basicConstraints), and leaves below it.
struct Broken {
    root: Ca,
    not_a_ca: Ca,
}

fn broken() -> Broken {
    let root = Ca::root("Chain Verdict Root");
    let mut p = ca_params("Not A CA", BasicConstraints::Unconstrained);
    p.is_ca = IsCa::NoCa;
    let not_a_ca = root.intermediate_with(p);
    Broken { root, not_a_ca }
}

#[test]
fn a_server_chain_through_a_non_ca_is_sec_e_cert_unknown_with_trust_e_basic_constraints_in_36876() {
    let b = broken();
    let (client_sink, client_emitter) = recording();
    let (_, server_emitter) = recording();
    let options = credential_options(|o| {
        o.dangerous_validation_time = Some(securechannel_testpki::now());
    });
    let client = ClientCredential::new_in_memory_with(
        client_emitter,
        Arc::new(Settings::default()),
        None,
        b.root.roots(),
        options,
    );
    let server = ServerCredential::new_in_memory_with(
        server_emitter,
        Arc::new(Settings::default()),
        Some(b.not_a_ca.server_leaf(&["server.test"]).certified_key()),
        b.root.roots(),
        Default::default(),
    );
    let mut pair = Pair::between(&client, &server);
    let e = pair.handshake().expect_err("refused");
    assert_eq!(e.status(), Status::CertUnknown, "{e}");
    assert_eq!(
        e.chain_status(),
        Some(Status::TrustEBasicConstraints),
        "{e}"
    );
    assert!(e.to_string().contains("not a CA certificate"), "{e}");
    let r = one_event(&client_sink, 36876);
    assert_eq!(field(&r, "ErrorCode"), "0x80096019");
}

#[test]
fn a_client_chain_through_a_non_ca_is_36877_with_trust_e_basic_constraints() {
    let b = broken();
    let (_, client_emitter) = recording();
    let (server_sink, server_emitter) = recording();
    let client = ClientCredential::new_in_memory_with(
        client_emitter,
        Arc::new(Settings::default()),
        Some(b.not_a_ca.client_leaf(&["client.test"]).certified_key()),
        b.root.roots(),
        Default::default(),
    );
    let options = credential_options(|o| {
        o.request_client_certificate = true;
        o.require_client_certificate = true;
        o.dangerous_validation_time = Some(securechannel_testpki::now());
    });
    let server = ServerCredential::new_in_memory_with(
        server_emitter,
        Arc::new(Settings::default()),
        Some(b.root.server_leaf(&["server.test"]).certified_key()),
        b.root.roots(),
        options,
    );
    let mut pair = Pair::between(&client, &server);
    let _ = pair.handshake().expect_err("refused");
    let r = one_event(&server_sink, 36877);
    assert_eq!(field(&r, "ErrorCode"), "0x80096019");
}
