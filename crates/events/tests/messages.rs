//! One test per event: the message of a record with sample data, rendered exactly (modern
//! wording, and the Windows 6.x wording where the catalog has one). The expected texts were
//! written from spec/events.toml by substituting the sample data by hand, not by
//! calling the renderer; they are the interface text tools match on.

use securechannel_events::{render_message, EventId, EventRecord, Fold, FoldReason, Wording};
use std::sync::Arc;

fn record(id: EventId, data: &[&str]) -> EventRecord {
    EventRecord {
        record_id: 1,
        time: 1_600_000_000_000_000_000,
        event_id: id,
        computer: Arc::from("host"),
        process_id: 1,
        thread_id: 1,
        activity_id: None,
        data: data.iter().collect(),
        binary: id
            .def()
            .binary
            .then(|| Arc::from(&[0x30u8, 0x03, 0x02, 0x01, 0x01][..])),
        fold: None,
    }
}

fn check(id: EventId, data: &[&str], modern: &str, legacy: Option<&str>) {
    let def = id.def();
    assert_eq!(
        def.fields.len(),
        data.len(),
        "event {id}: the sample data must fill every field"
    );
    let r = record(id, data);
    assert_eq!(
        render_message(&r, Wording::Modern),
        modern,
        "event {id}: modern wording"
    );
    assert_eq!(
        def.legacy.is_some(),
        legacy.is_some(),
        "event {id}: whether a legacy wording exists"
    );
    // Without a legacy template the legacy rendering falls back to the modern one.
    assert_eq!(
        render_message(&r, Wording::Legacy),
        legacy.unwrap_or(modern),
        "event {id}: legacy wording"
    );
}

macro_rules! message_tests {
    ($($name:ident: $id:ident, [$($field:expr),*], $modern:expr, $legacy:expr;)*) => {
        $(
            #[test]
            fn $name() {
                check(EventId::$id, &[$($field),*], $modern, $legacy);
            }
        )*

        #[test]
        fn every_event_has_a_message_test() {
            let tested = [$(EventId::$id),*];
            let all: Vec<EventId> = EventId::all().collect();
            assert_eq!(tested.to_vec(), all, "one test per event, in ID order");
        }
    };
}

message_tests! {
    event_36864_package_loaded: PackageLoaded, [],
        "The schannel security package has loaded successfully.",
        None;
    event_36865_crypto_module_failed: CryptoModuleFailed, ["aws-lc-rs", "0x80090304"],
        "A fatal error occurred while opening the system aws-lc-rs cryptographic module. Operations that require the SSL or TLS cryptographic protocols will not work correctly. The error code is 0x80090304.",
        None;
    event_36866_package_load_failed: PackageLoadFailed, [],
        "The schannel security package has failed to load. Operations that require the SSL or TLS cryptographic protocols will not work correctly.",
        None;
    event_36867_credential_creating: CredentialCreating, ["client"],
        "Creating a TLS client credential.",
        Some("Creating an SSL client credential.");
    event_36868_credential_key_properties: CredentialKeyProperties, ["server", "aws-lc-rs", "file", "keys/www.example.com.key", "ECDSA P-256", "0x00000000"],
        "The TLS server credential's private key has the following properties:\n\n   CSP name: aws-lc-rs\n   CSP type: file\n   Key name: keys/www.example.com.key\n   Key Type: ECDSA P-256\n   Key Flags: 0x00000000\n\n The attached data contains the certificate.",
        None;
    event_36869_credential_no_private_key: CredentialNoPrivateKey, ["server"],
        "The TLS server credential's certificate does not have a private key information property attached to it. This most often occurs when a certificate is backed up incorrectly and then later restored. This message can also indicate a certificate enrollment failure.",
        None;
    event_36870_credential_key_access_failed: CredentialKeyAccessFailed, ["server", "0x8009030D", "1003"],
        "A fatal error occurred when attempting to access the TLS server credential private key. The error code returned from the cryptographic module is 0x8009030D. The internal error state is 1003.",
        None;
    event_36871_credential_creation_failed: CredentialCreationFailed, ["client", "2001"],
        "A fatal error occurred while creating a TLS client credential. The internal error state is 2001.",
        None;
    event_36872_no_default_server_credential_warning: NoDefaultServerCredentialWarning, [],
        "No suitable default server credential exists on this system. This will prevent server applications that expect to make use of the system default credentials from accepting SSL connections. An example of such an application is the directory server. Applications that manage their own credentials, such as the internet information server, are not affected by this.",
        None;
    event_36873_no_client_cipher_suites: NoClientCipherSuites, [],
        "No supported cipher suites were found when initiating a TLS connection. This indicates a configuration problem with the client application and/or the installed cryptographic modules. The TLS connection request has failed.",
        None;
    event_36874_no_shared_cipher_suite: NoSharedCipherSuite, ["TLS 1.0"],
        "An TLS 1.0 connection request was received from a remote client application, but none of the cipher suites supported by the client application are supported by the server. The TLS connection request has failed.",
        None;
    event_36875_no_suitable_client_certificate: NoSuitableClientCertificate, [],
        "The remote server has requested TLS client authentication, but no suitable client certificate could be found. An anonymous connection will be attempted. This TLS connection request may succeed or fail, depending on the server's policy settings.",
        None;
    event_36876_server_certificate_invalid: ServerCertificateInvalid, ["0x80090327"],
        "The certificate received from the remote server has not validated correctly. The error code is 0x80090327. The TLS connection request has failed. The attached data contains the server certificate.",
        None;
    event_36877_client_certificate_invalid: ClientCertificateInvalid, ["0x80090325"],
        "The certificate received from the remote client application has not validated correctly. The error code is 0x80090325. The attached data contains the client certificate.",
        None;
    event_36878_client_certificate_not_mappable: ClientCertificateNotMappable, ["0x80090325"],
        "The certificate received from the remote client application is not suitable for direct mapping to a client system account, possibly because the authority that issuing the certificate is not sufficiently trusted. The error code is 0x80090325. The attached data contains the client certificate.",
        None;
    event_36879_client_certificate_not_mapped: ClientCertificateNotMapped, ["0x8009030C"],
        "The certificate received from the remote client application was not successfully mapped to a client system account. The error code is 0x8009030C. This is not necessarily a fatal error, as the server application may still find the certificate acceptable.",
        None;
    event_36880_handshake_completed: HandshakeCompleted, ["server", "TLS 1.3", "AES_256_GCM", "256", "AEAD", "X25519", "255", "0x1302", "0x00007F3A2C001B40", "www.example.com", "CN=www.example.com", "CN=alice"],
        "A TLS server handshake completed successfully. The negotiated cryptographic parameters are as follows.\n\n   Protocol version: TLS 1.3\n   Cipher: AES_256_GCM\n   Cipher strength: 256\n   MAC: AEAD\n   Exchange: X25519\n   Exchange strength: 255 bits\n   CipherSuite: 0x1302\n   Context handle: 0x00007F3A2C001B40\n   Target name: www.example.com\n   Local certificate subject name: CN=www.example.com\n   Remote certificate subject name: CN=alice",
        None;
    event_36881_server_certificate_expired: ServerCertificateExpired, [],
        "The certificate received from the remote server has either expired or is not yet valid. The TLS connection request has failed. The attached data contains the server certificate.",
        None;
    event_36882_server_certificate_untrusted_root: ServerCertificateUntrustedRoot, [],
        "The certificate received from the remote server was issued by an untrusted certificate authority. Because of this, none of the data contained in the certificate can be validated. The TLS connection request has failed. The attached data contains the server certificate.",
        None;
    event_36883_server_certificate_revoked: ServerCertificateRevoked, [],
        "The certificate received from the remote server has been revoked. This means that the certificate authority that issued the certificate has invalidated it. The TLS connection request has failed. The attached data contains the server certificate.",
        None;
    event_36884_server_certificate_wrong_name: ServerCertificateWrongName, ["www.example.com"],
        "The certificate received from the remote server does not contain the expected name. It is therefore not possible to determine whether we are connecting to the correct server. The server name we were expecting is www.example.com. The TLS connection request has failed. The attached data contains the server certificate.",
        None;
    event_36885_trusted_issuer_list_truncated: TrustedIssuerListTruncated, [],
        "When asking for client authentication, this server sends a list of trusted certificate authorities to the client. The client uses this list to choose a client certificate that is trusted by the server. Currently, this server trusts so many certificate authorities that the list has grown too long. This list has thus been truncated. The administrator of this machine should review the certificate authorities trusted for client authentication and remove those that do not really need to be trusted.",
        None;
    event_36886_no_default_server_credential: NoDefaultServerCredential, [],
        "No suitable default server credential exists on this system. This will prevent server applications that expect to make use of the system default credentials from accepting SSL connections. An example of such an application is the directory server. Applications that manage their own credentials, such as the internet information server, are not affected by this.",
        None;
    event_36887_fatal_alert_received: FatalAlertReceived, ["48"],
        "A fatal alert was received from the remote endpoint. The TLS protocol defined fatal alert code is 48.",
        Some("The following fatal alert was received: 48.");
    event_36888_fatal_alert_generated: FatalAlertGenerated, ["40", "1205", "www.example.com"],
        "A fatal alert was generated and sent to the remote endpoint. This may result in termination of the connection. The TLS protocol defined fatal alert code is 40.\n\n   Target name: www.example.com\n\nThe TLS alert registry can be found at http://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml#tls-parameters-6",
        Some("The following fatal alert was generated: 40. The internal error state is 1205.");
}

#[test]
fn insertion_strings_ten_to_twelve_are_two_digit() {
    // %10..%12 must not be read as %1 followed by a digit.
    let data: Vec<String> = (1..=12).map(|i| format!("<{i}>")).collect();
    let mut r = record(EventId::HandshakeCompleted, &[]);
    r.data = data.into();
    let text = render_message(&r, Wording::Modern);
    assert!(text.contains("Target name: <10>\n"), "{text}");
    assert!(
        text.contains("Local certificate subject name: <11>\n"),
        "{text}"
    );
    assert!(
        text.ends_with("Remote certificate subject name: <12>"),
        "{text}"
    );
    assert!(!text.contains("<1>0"), "{text}");
}

#[test]
fn missing_fields_render_empty_and_data_is_not_reexpanded() {
    let r = record(EventId::FatalAlertGenerated, &["%2%n"]);
    assert_eq!(
        render_message(&r, Wording::Legacy),
        "The following fatal alert was generated: %2%n. The internal error state is ."
    );
}

#[test]
fn folded_record_says_how_many_were_folded() {
    let mut r = record(EventId::FatalAlertReceived, &["46"]);
    r.fold = Some(Fold {
        count: 1234,
        first: 1_600_000_000_000_000_000,
        last: 1_600_000_060_500_000_000,
        reason: FoldReason::Flood,
    });
    assert_eq!(
        render_message(&r, Wording::Modern),
        "A fatal alert was received from the remote endpoint. The TLS protocol defined fatal \
         alert code is 46.\n\n(Flood control: 1234 further identical events were folded into \
         this record, from 2020-09-13T12:26:40.000Z to 2020-09-13T12:27:40.500Z.)"
    );
}
