//! OCSP stapling from the command line, against real peers on loopback: `schannel serve
//! --ocsp-staple` read by `openssl s_client -status`, and `schannel connect` against
//! `openssl s_server -status_file` and against serve. The responder is an HTTP server
//! the test starts on 127.0.0.1 (securechannel-testpki's `HttpFixture`) answering with
//! responses signed by the test CA (x509-ocsp, rcgen's key pair). The peers read the real
//! clock, so certificates and responses are current from 2020 to 4096; the expired
//! response's nextUpdate is 2021-01-01.

mod common;

use common::*;
use rcgen::{CrlDistributionPoint, SerialNumber};
use securechannel_testpki::{ocsp_aia, unreachable_url, HttpFixture, OcspCertStatus, OcspReply};
use std::path::{Path, PathBuf};
use std::time::Duration;

type Setup = CaDir;

fn setup() -> Setup {
    ca_dir("OCSP interop CA")
}

/// A server leaf of the CA for localhost with `serial`, naming `ocsp` as its OCSP
/// responder and `crl` as its CRL distribution point when given; its files, and the
/// certificate (DER) to build responses about.
fn server_leaf(
    s: &Setup,
    stem: &str,
    serial: u64,
    ocsp: Option<&str>,
    crl: Option<&str>,
) -> (Leaf, rustls_pki_types::CertificateDer<'static>) {
    let leaf = s.ca.server_leaf_with(&["localhost", "127.0.0.1"], |p| {
        p.serial_number = Some(SerialNumber::from(serial));
        if let Some(url) = ocsp {
            p.custom_extensions.push(ocsp_aia(url));
        }
        if let Some(url) = crl {
            p.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.to_string()],
            }];
        }
    });
    let files = Leaf {
        cert: s.pki.join(format!("{stem}.pem")),
        key: s.pki.join(format!("{stem}.key")),
    };
    leaf.write_pem(&files.cert, &files.key);
    (files, leaf.der().clone())
}

/// A data directory logging everything, trusting the CA (stores/Root: where serve finds
/// its certificate's issuer).
fn data_dir(s: &Setup, name: &str) -> PathBuf {
    let data = s.pki.parent().unwrap().join(name);
    log_everything(&data);
    std::fs::create_dir_all(data.join("stores/Root")).unwrap();
    std::fs::copy(&s.ca_pem, data.join("stores/Root/ca.pem")).unwrap();
    data
}

/// `schannel serve` with `leaf` and `extra` flags.
fn serve(data: &Path, leaf: &Leaf, extra: &[&str]) -> Serve {
    let mut args = vec![
        "--cert",
        leaf.cert.to_str().unwrap(),
        "--key",
        leaf.key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Serve::start(data, &args)
}

/// Wait until serve has reported its staple (stapled or failed).
fn wait_staple_report(serve: &mut Serve, words: &str) -> String {
    // The whole line: stderr is unbuffered, so a line may arrive in several writes.
    let complete = |err: &str| err.find(words).is_some_and(|i| err[i..].contains('\n'));
    let seen = serve
        .proc
        .wait_for(Duration::from_secs(15), |_, err| complete(err));
    let err = serve.proc.stderr();
    assert!(seen, "serve never said `{words}`:\n{err}");
    err
}

/// `openssl s_client -status` to serve, trusting the CA, sending the JSON request.
fn s_client_status(s: &Setup, serve: &Serve) -> Run {
    openssl(
        &[
            "s_client",
            "-connect",
            &serve.host_port(),
            "-CAfile",
            s.ca_pem.to_str().unwrap(),
            "-servername",
            "localhost",
            "-status",
            "-ign_eof",
        ],
        JSON_REQUEST,
    )
}

/// `schannel connect ADDRESS --cafile CA ARGS...`.
fn connect(s: &Setup, data: &Path, address: &str, args: &[&str]) -> Run {
    let mut all = vec![
        "connect",
        address,
        "--sni",
        "localhost",
        "--timeout",
        "5",
        "--cafile",
        s.ca_pem.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    schannel(data, &all)
}

/// The `ocsp_staple` object of `connect --json`'s report.
fn staple_of(r: &Run) -> serde_json::Value {
    let report: serde_json::Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("connect --json printed no JSON ({e}):\n{}", r.both()));
    report["ocsp_staple"].clone()
}

#[test]
fn serve_staples_its_responders_answer_and_s_client_shows_it_then_reads_it_from_ocsp_dir() {
    let s = setup();
    let http = HttpFixture::start();
    let url = http.url("/ocsp");
    let (leaf, der) = server_leaf(&s, "stapled", 0x51, Some(&url), None);
    http.serve_ocsp(
        "/ocsp",
        s.ca.ocsp_response(&der, OcspReply::current(OcspCertStatus::Good)),
    );
    let data = data_dir(&s, "auto");
    let mut server = serve(&data, &leaf, &["--ocsp-staple", "auto"]);
    let err = wait_staple_report(&mut server, "OCSP staple for");
    assert!(
        err.contains(&format!(
            ": good (thisUpdate 2020-01-01T00:00:00Z, nextUpdate 4096-01-01T00:00:00Z) from {url}"
        )),
        "{err}"
    );

    let r = s_client_status(&s, &server);
    assert!(
        r.stdout.contains("OCSP Response Status: successful"),
        "{}",
        r.both()
    );
    assert!(r.stdout.contains("Cert Status: good"), "{}", r.both());
    assert_eq!(page_json(&r.stdout)["protocol"], "TLS 1.3", "{}", r.both());
    // Our own client sees it too, over TLS 1.2 (CertificateStatus) and 1.3.
    for version in ["--tls1.2", "--tls1.3"] {
        let r = connect(&s, &data, &server.host_port(), &[version, "--json"]);
        assert!(r.status.success(), "{}", r.both());
        let staple = staple_of(&r);
        assert_eq!(staple["status"], "good", "{version}: {staple}");
        assert_eq!(staple["signer"], "the issuer", "{staple}");
    }

    // The request was an OCSPRequest for this certificate (openssl reads it back).
    let request = s.pki.join("request.der");
    std::fs::write(&request, http.last_body("/ocsp").unwrap()).unwrap();
    let text = openssl(
        &["ocsp", "-reqin", request.to_str().unwrap(), "-req_text"],
        b"",
    );
    assert!(text.stdout.contains("Serial Number: 51"), "{}", text.both());
    assert_eq!(http.hits("/ocsp"), 1);
    server.stop();

    // Kept in ocsp/ until its nextUpdate: the next start staples it at once, without
    // asking the responder.
    let kept: Vec<_> = std::fs::read_dir(data.join("ocsp")).unwrap().collect();
    assert_eq!(kept.len(), 1);
    let mut server = serve(&data, &leaf, &["--ocsp-staple", "auto"]);
    let err = wait_staple_report(&mut server, "OCSP staple for");
    assert!(err.contains("ocsp/ocsp-"), "{err}");
    let r = s_client_status(&s, &server);
    assert!(r.stdout.contains("Cert Status: good"), "{}", r.both());
    assert_eq!(http.hits("/ocsp"), 1);
    server.stop();
}

#[test]
fn serve_without_its_responder_starts_unstapled_and_says_why() {
    let s = setup();
    let dead = unreachable_url("/ocsp");
    let (leaf, _) = server_leaf(&s, "dead", 0x52, Some(&dead), None);
    let data = data_dir(&s, "dead");
    let mut server = serve(&data, &leaf, &["--ocsp-staple", "auto"]);
    let err = wait_staple_report(&mut server, "warning: no new OCSP staple");
    assert!(
        err.contains(&dead)
            && err.contains("CRYPT_E_REVOCATION_OFFLINE 0x80092013")
            && err.contains("serving without a staple, trying again in 30 s"),
        "{err}"
    );
    let r = s_client_status(&s, &server);
    assert!(
        r.stdout.contains("OCSP response: no response sent"),
        "{}",
        r.both()
    );
    assert_eq!(page_json(&r.stdout)["protocol"], "TLS 1.3", "{}", r.both());
    server.stop();
}

#[test]
fn serve_staples_a_response_file_and_refuses_one_that_expired() {
    let s = setup();
    let (leaf, der) = server_leaf(&s, "file", 0x53, None, None);
    let good = s.pki.join("good.der");
    std::fs::write(
        &good,
        s.ca.ocsp_response(&der, OcspReply::current(OcspCertStatus::Good)),
    )
    .unwrap();
    let data = data_dir(&s, "file");
    let server = serve(&data, &leaf, &["--ocsp-staple", good.to_str().unwrap()]);
    let r = s_client_status(&s, &server);
    assert!(r.stdout.contains("Cert Status: good"), "{}", r.both());
    server.stop();

    let expired = s.pki.join("expired.der");
    std::fs::write(&expired, s.ca.ocsp_response(&der, OcspReply::expired())).unwrap();
    let r = schannel(
        &data,
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cert",
            leaf.cert.to_str().unwrap(),
            "--key",
            leaf.key.to_str().unwrap(),
            "--ocsp-staple",
            expired.to_str().unwrap(),
        ],
    );
    assert!(!r.status.success(), "{}", r.both());
    assert!(
        r.stderr
            .contains("expired at 2021-01-01T00:00:00Z (its nextUpdate)"),
        "{}",
        r.stderr
    );
    let records = events(&data);
    assert_eq!(with_id(&records, 36871).len(), 1, "{}", summary(&records));
}

#[test]
fn enable_ocsp_stapling_for_sni_turns_stapling_on_for_serve() {
    let s = setup();
    let http = HttpFixture::start();
    let url = http.url("/ocsp");
    let (leaf, der) = server_leaf(&s, "setting", 0x54, Some(&url), None);
    http.serve_ocsp(
        "/ocsp",
        s.ca.ocsp_response(&der, OcspReply::current(OcspCertStatus::Good)),
    );
    // The default (0): no staple, the responder is never asked.
    let data = data_dir(&s, "setting");
    let server = serve(&data, &leaf, &[]);
    let r = s_client_status(&s, &server);
    assert!(
        r.stdout.contains("OCSP response: no response sent"),
        "{}",
        r.both()
    );
    server.stop();
    assert_eq!(http.hits("/ocsp"), 0);

    let set = schannel(&data, &["config", "set", "EnableOcspStaplingForSni", "1"]);
    assert!(set.status.success(), "{}", set.both());
    let mut server = serve(&data, &leaf, &[]);
    wait_staple_report(&mut server, "OCSP staple for");
    let r = s_client_status(&s, &server);
    assert!(r.stdout.contains("Cert Status: good"), "{}", r.both());
    server.stop();
    assert_eq!(http.hits("/ocsp"), 1);
}

#[test]
fn connect_checks_s_servers_staple_good_revoked_expired_and_delegated() {
    let s = setup();
    let http = HttpFixture::start();
    let crl_url = http.serve(
        "/ca.crl",
        s.ca.crl_between(&[], (2020, 1, 1), (4096, 1, 1)).to_vec(),
    );
    let (leaf, der) = server_leaf(&s, "sserver", 0x61, None, Some(&crl_url));
    let staple = |name: &str, response: Vec<u8>| -> PathBuf {
        let path = s.pki.join(name);
        std::fs::write(&path, response).unwrap();
        path
    };
    let with_staple = |file: &Path| {
        SServer::start(
            &leaf,
            &["-status_file", file.to_str().unwrap(), "-naccept", "1"],
        )
    };

    // Good, from the issuer: reported; no CRL needed for the end certificate.
    let good = staple(
        "good.der",
        s.ca.ocsp_response(&der, OcspReply::current(OcspCertStatus::Good)),
    );
    let data = data_dir(&s, "good");
    let server = with_staple(&good);
    let r = connect(
        &s,
        &data,
        &server.address(),
        &["--revocation", "end", "--json"],
    );
    assert!(r.status.success(), "{}", r.both());
    let st = staple_of(&r);
    assert_eq!(st["status"], "good", "{st}");
    assert_eq!(st["next_update"], "4096-01-01T00:00:00Z", "{st}");
    assert_eq!(http.hits("/ca.crl"), 0);
    let server = with_staple(&good);
    let r = connect(&s, &data, &server.address(), &[]);
    assert!(
        r.stdout
            .contains("OCSP staple       : good (thisUpdate 2020-01-01T00:00:00Z"),
        "{}",
        r.both()
    );

    // Revoked: the handshake fails with CRYPT_E_REVOKED, 36883, alert 44 sent.
    let revoked = staple(
        "revoked.der",
        s.ca.ocsp_response(&der, OcspReply::current(OcspCertStatus::Revoked)),
    );
    let data = data_dir(&s, "revoked");
    let mut server = with_staple(&revoked);
    let r = connect(&s, &data, &server.address(), &["--revocation", "end"]);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(
        r.stderr.contains("36883") && r.stderr.contains("0x80092010"),
        "{}",
        r.stderr
    );
    server.proc.wait_exit(COMMAND_TIMEOUT);
    assert_eq!(openssl_alert_number(&server.output()), Some(44));
    let records = events(&data);
    assert_eq!(with_id(&records, 36883).len(), 1, "{}", summary(&records));
    assert_eq!(with_id(&records, 36888).len(), 1, "{}", summary(&records));
    assert_eq!(http.hits("/ca.crl"), 0);

    // Expired: treated as absent; the CRL answers instead (fetched once).
    let expired = staple(
        "expired.der",
        s.ca.ocsp_response(&der, OcspReply::expired()),
    );
    let data = data_dir(&s, "expired");
    let server = with_staple(&expired);
    let r = connect(
        &s,
        &data,
        &server.address(),
        &["--revocation", "end", "--json"],
    );
    assert!(r.status.success(), "{}", r.both());
    let st = staple_of(&r);
    assert_eq!(st["status"], "invalid", "{st}");
    assert!(
        st["why"]
            .as_str()
            .unwrap()
            .contains("expired at 2021-01-01T00:00:00Z"),
        "{st}"
    );
    assert_eq!(http.hits("/ca.crl"), 1);

    // A delegated responder with OCSPSigning is accepted; one without it is not.
    let responder = s.ca.ocsp_responder("OCSP responder", true);
    let mut reply = OcspReply::current(OcspCertStatus::Good);
    reply.responder = Some(&responder);
    let delegated = staple("delegated.der", s.ca.ocsp_response(&der, reply));
    let server = with_staple(&delegated);
    let r = connect(&s, &data, &server.address(), &["--json"]);
    assert!(r.status.success(), "{}", r.both());
    assert_eq!(staple_of(&r)["signer"], "CN=OCSP responder", "{}", r.both());

    let impostor = s.ca.ocsp_responder("Not a responder", false);
    let mut reply = OcspReply::current(OcspCertStatus::Revoked);
    reply.responder = Some(&impostor);
    let forged = staple("forged.der", s.ca.ocsp_response(&der, reply));
    let server = with_staple(&forged);
    let r = connect(
        &s,
        &data,
        &server.address(),
        &["--revocation", "end", "--json"],
    );
    assert!(
        r.status.success(),
        "a revoked staple from a non-responder counts for nothing: {}",
        r.both()
    );
    let st = staple_of(&r);
    assert!(
        st["why"].as_str().unwrap().contains("lacks OCSPSigning"),
        "{st}"
    );

    // A response about another certificate of the CA.
    let mut reply = OcspReply::current(OcspCertStatus::Revoked);
    reply.serial = Some(0x99);
    let other = staple("other.der", s.ca.ocsp_response(&der, reply));
    let server = with_staple(&other);
    let r = connect(&s, &data, &server.address(), &["--json"]);
    assert!(r.status.success(), "{}", r.both());
    let st = staple_of(&r);
    assert!(
        st["why"]
            .as_str()
            .unwrap()
            .contains("answers for another certificate"),
        "{st}"
    );
}

#[test]
fn connect_to_serve_stapling_a_revoked_response_fails_and_serve_logs_the_alert() {
    let s = setup();
    let http = HttpFixture::start();
    let url = http.url("/ocsp");
    let (leaf, der) = server_leaf(&s, "revoked-serve", 0x71, Some(&url), None);
    http.serve_ocsp(
        "/ocsp",
        s.ca.ocsp_response(&der, OcspReply::current(OcspCertStatus::Revoked)),
    );
    let data = data_dir(&s, "serve-revoked");
    let mut server = serve(&data, &leaf, &["--ocsp-staple", "auto"]);
    let err = wait_staple_report(&mut server, "OCSP staple for");
    assert!(err.contains(": revoked ("), "{err}");
    let client = data_dir(&s, "client");
    let r = connect(&s, &client, &server.host_port(), &[]);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(r.stderr.contains("0x80092010"), "{}", r.stderr);
    server.stop();
    let records = events(&data);
    let received = with_id(&records, 36887);
    assert_eq!(received.len(), 1, "{}", summary(&records));
    assert_eq!(field(received[0], "AlertDesc"), "44");
}
