//! Revocation from the command line, against real peers on loopback: `schannel connect
//! --revocation` against `openssl s_server`, and `schannel serve --revocation` against
//! `openssl s_client -cert`. CRLs are served by an HTTP server the test starts on
//! 127.0.0.1 (securechannel-testpki's `HttpFixture`) or placed in the data directory's
//! `crl/`. The peers read the real clock, so the PKI is valid from 2020 to 4096 and the
//! CRLs are current over the same span; the expired CRL's nextUpdate is 2021-01-01.

mod common;

use common::*;
use rcgen::{CrlDistributionPoint, SerialNumber};
use securechannel_testpki::{pem, unreachable_url, write_file, Ca, HttpFixture};
use std::path::{Path, PathBuf};

/// A CRL of `ca` revoking `serials`, current at any real clock.
fn current_crl(ca: &Ca, serials: &[u64]) -> Vec<u8> {
    ca.crl_between(serials, (2020, 1, 1), (4096, 1, 1)).to_vec()
}

/// The distribution points of a certificate naming `url`.
fn cdp(url: &str) -> Vec<CrlDistributionPoint> {
    vec![CrlDistributionPoint {
        uris: vec![url.to_string()],
    }]
}

/// Write `leaf` as `dir/<stem>.pem` and its key as `dir/<stem>.key`.
fn write_leaf(leaf: securechannel_testpki::Leaf, dir: &Path, stem: &str) -> Leaf {
    let files = Leaf {
        cert: dir.join(format!("{stem}.pem")),
        key: dir.join(format!("{stem}.key")),
    };
    leaf.write_pem(&files.cert, &files.key);
    files
}

/// Write a server leaf of `ca` with `serial` and, if given, a CRL distribution point.
fn server_leaf(ca: &Ca, dir: &Path, stem: &str, serial: u64, url: Option<&str>) -> Leaf {
    let leaf = ca.server_leaf_with(&["localhost", "127.0.0.1"], |p| {
        p.serial_number = Some(SerialNumber::from(serial));
        p.crl_distribution_points = url.map(cdp).unwrap_or_default();
    });
    write_leaf(leaf, dir, stem)
}

/// Write a client leaf of `ca` with `serial` naming `url` as its CRL distribution point.
fn client_leaf(ca: &Ca, dir: &Path, stem: &str, serial: u64, url: &str) -> Leaf {
    let leaf = ca.client_leaf_with(&["client.test"], |p| {
        p.serial_number = Some(SerialNumber::from(serial));
        p.crl_distribution_points = cdp(url);
    });
    write_leaf(leaf, dir, stem)
}

type Setup = CaDir;

fn setup() -> Setup {
    ca_dir("revocation interop CA")
}

/// A fresh data directory logging everything.
fn data_dir(s: &Setup, name: &str) -> PathBuf {
    let data = s.pki.parent().unwrap().join(name);
    log_everything(&data);
    data
}

/// `schannel connect` to `server` trusting the CA, with `args`.
fn connect(s: &Setup, data: &Path, server: &SServer, args: &[&str]) -> Run {
    let address = server.address();
    let mut all = vec![
        "connect",
        &address,
        "--timeout",
        "5",
        "--cafile",
        s.ca_pem.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    schannel(data, &all)
}

/// The ErrorCode of the one `id` record of the run.
fn error_code(data: &Path, id: u16) -> String {
    let records = events(data);
    let found = with_id(&records, id);
    assert_eq!(found.len(), 1, "{}", summary(&records));
    field(found[0], "ErrorCode").to_string()
}

#[test]
fn connect_refuses_a_revoked_server_certificate_from_its_distribution_point_by_mode() {
    let s = setup();
    let http = HttpFixture::start();
    let url = http.serve("/ca.crl", current_crl(&s.ca, &[7]));
    let revoked = server_leaf(&s.ca, &s.pki, "revoked", 7, Some(&url));
    let good = server_leaf(&s.ca, &s.pki, "good", 8, Some(&url));

    for mode in ["end", "chain", "chain-except-root"] {
        let data = data_dir(&s, &format!("revoked-{mode}"));
        let mut server = SServer::start(&revoked, &["-naccept", "1"]);
        let r = connect(&s, &data, &server, &["--revocation", mode]);
        assert_eq!(r.status.code(), Some(1), "{mode}: {}", r.both());
        assert!(
            r.stderr.contains("36883") && r.stderr.contains("0x80092010"),
            "{mode}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("revoked"), "{}", r.stderr);
        server.proc.wait_exit(COMMAND_TIMEOUT);
        assert_eq!(openssl_alert_number(&server.output()), Some(44), "{mode}");
        let records = events(&data);
        assert_eq!(with_id(&records, 36883).len(), 1, "{}", summary(&records));
        // Kept in crl/ for the next run.
        let kept = std::fs::read_dir(data.join("crl")).unwrap().count();
        assert_eq!(kept, 1, "{mode}");

        let server = SServer::start(&good, &["-naccept", "1"]);
        let r = connect(&s, &data, &server, &["--revocation", mode]);
        assert!(r.status.success(), "{mode}: {}", r.both());
    }
    // One fetch per data directory: the second run of each read the kept copy.
    assert_eq!(http.hits("/ca.crl"), 3);

    // Mode none: the same revoking CRL is not consulted.
    let data = data_dir(&s, "none");
    let server = SServer::start(&revoked, &["-naccept", "1"]);
    let r = connect(&s, &data, &server, &["--revocation", "none"]);
    assert!(r.status.success(), "{}", r.both());
    assert_eq!(http.hits("/ca.crl"), 3);
}

#[test]
fn connect_with_an_unreachable_distribution_point_fails_offline_unless_ignored() {
    let s = setup();
    let dead = unreachable_url("/ca.crl");
    let leaf = server_leaf(&s.ca, &s.pki, "dead", 9, Some(&dead));
    let data = data_dir(&s, "dead");
    let mut server = SServer::start(&leaf, &["-naccept", "1"]);
    let r = connect(&s, &data, &server, &["--revocation", "end"]);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(
        r.stderr.contains("36876") && r.stderr.contains("0x80092013"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(&dead) && r.stderr.contains("could not be read"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("expired"), "{}", r.stderr);
    server.proc.wait_exit(COMMAND_TIMEOUT);
    assert_eq!(openssl_alert_number(&server.output()), Some(46));
    assert_eq!(error_code(&data, 36876), "0x80092013");

    let data = data_dir(&s, "dead-ignored");
    let server = SServer::start(&leaf, &["-naccept", "1"]);
    let r = connect(
        &s,
        &data,
        &server,
        &["--revocation", "end", "--revocation-offline", "ignore"],
    );
    assert!(r.status.success(), "{}", r.both());
}

#[test]
fn connect_with_only_an_expired_crl_in_crl_dir_fails_offline_naming_the_expired_crl() {
    let s = setup();
    // Revoked by a CRL whose nextUpdate is past: not used, and the status is offline.
    let leaf = server_leaf(&s.ca, &s.pki, "nocdp", 11, None);
    let data = data_dir(&s, "expired");
    write_file(
        &data.join("crl/ca.crl"),
        pem(
            "X509 CRL",
            &s.ca.crl_between(&[11], (2020, 1, 1), (2021, 1, 1)),
        ),
        0o644,
    );
    let server = SServer::start(&leaf, &["-naccept", "1"]);
    let r = connect(&s, &data, &server, &["--revocation", "chain"]);
    assert_eq!(r.status.code(), Some(1), "{}", r.both());
    assert!(r.stderr.contains("0x80092013"), "{}", r.stderr);
    assert!(
        r.stderr.contains("expired at 2021-01-01T00:00:00Z"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("could not be read"), "{}", r.stderr);
    assert_eq!(error_code(&data, 36876), "0x80092013");

    // Ignored offline: the expired CRL that lists the certificate is still not used.
    let data2 = data_dir(&s, "expired-ignored");
    std::fs::create_dir_all(data2.join("crl")).unwrap();
    std::fs::copy(data.join("crl/ca.crl"), data2.join("crl/ca.crl")).unwrap();
    let server = SServer::start(&leaf, &["-naccept", "1"]);
    let r = connect(
        &s,
        &data2,
        &server,
        &["--revocation", "chain", "--revocation-offline", "ignore"],
    );
    assert!(r.status.success(), "{}", r.both());
}

/// `schannel serve` with the server leaf, requiring client certificates of the CA, and
/// `extra` flags.
fn serve_requiring_client_certs(s: &Setup, data: &Path, extra: &[&str]) -> Serve {
    let leaf = server_leaf(&s.ca, &s.pki, "serve", 100, None);
    std::fs::create_dir_all(data.join("stores/Root")).unwrap();
    std::fs::copy(&s.ca_pem, data.join("stores/Root/ca.pem")).unwrap();
    let mut args = vec![
        "--cert",
        leaf.cert.to_str().unwrap(),
        "--key",
        leaf.key.to_str().unwrap(),
        "--require-client-cert",
    ];
    args.extend_from_slice(extra);
    Serve::start(data, &args)
}

/// `openssl s_client -cert` against `serve`, sending the JSON request.
fn s_client(s: &Setup, serve: &Serve, client: &Leaf) -> Run {
    openssl(
        &[
            "s_client",
            "-connect",
            &serve.host_port(),
            "-CAfile",
            s.ca_pem.to_str().unwrap(),
            "-cert",
            client.cert.to_str().unwrap(),
            "-key",
            client.key.to_str().unwrap(),
            "-ign_eof",
        ],
        JSON_REQUEST,
    )
}

#[test]
fn serve_refuses_revoked_and_offline_client_certificates_from_s_client() {
    let s = setup();
    let http = HttpFixture::start();
    let url = http.serve("/ca.crl", current_crl(&s.ca, &[21]));
    let dead = unreachable_url("/ca.crl");
    let revoked = client_leaf(&s.ca, &s.pki, "revoked-client", 21, &url);
    let good = client_leaf(&s.ca, &s.pki, "good-client", 22, &url);
    let offline = client_leaf(&s.ca, &s.pki, "offline-client", 23, &dead);

    let data = data_dir(&s, "serve-end");
    let serve = serve_requiring_client_certs(&s, &data, &["--revocation", "end"]);
    // First the offline one: once the issuer's CRL is on hand (fetched for another
    // certificate), it answers for every certificate of that issuer.
    let r = s_client(&s, &serve, &offline);
    assert_eq!(openssl_alert_number(&r.both()), Some(46), "{}", r.both());
    let r = s_client(&s, &serve, &revoked);
    assert_eq!(openssl_alert_number(&r.both()), Some(44), "{}", r.both());
    let r = s_client(&s, &serve, &good);
    let page = page_json(&r.stdout);
    assert_eq!(page["protocol"], "TLS 1.3", "{}", r.both());
    let r = s_client(&s, &serve, &offline);
    assert_eq!(page_json(&r.stdout)["protocol"], "TLS 1.3", "{}", r.both());
    serve.stop();
    let records = events(&data);
    let refused = with_id(&records, 36877);
    let codes: Vec<&str> = refused.iter().map(|r| field(r, "ErrorCode")).collect();
    assert_eq!(codes, ["0x80092013", "0x80092010"], "{}", summary(&records));

    let data = data_dir(&s, "serve-ignore");
    let serve = serve_requiring_client_certs(
        &s,
        &data,
        &["--revocation", "chain", "--revocation-offline", "ignore"],
    );
    let r = s_client(&s, &serve, &offline);
    assert_eq!(page_json(&r.stdout)["protocol"], "TLS 1.3", "{}", r.both());
    let r = s_client(&s, &serve, &revoked);
    assert_eq!(openssl_alert_number(&r.both()), Some(44), "{}", r.both());
    serve.stop();
}

#[test]
fn revocation_flags_are_refused_where_they_would_do_nothing_or_name_nothing() {
    let s = setup();
    let data = data_dir(&s, "flags");
    let leaf = server_leaf(&s.ca, &s.pki, "flags", 1, None);
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
            "--revocation",
            "end",
        ],
    );
    assert!(!r.status.success(), "{}", r.both());
    assert!(
        r.stderr.contains("--revocation checks client certificates"),
        "{}",
        r.stderr
    );
    let r = schannel(&data, &["connect", "127.0.0.1:1", "--revocation", "full"]);
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
    assert!(r.stderr.contains("not a revocation mode"), "{}", r.stderr);
    let r = schannel(
        &data,
        &["connect", "127.0.0.1:1", "--revocation-offline", "ignore"],
    );
    assert_eq!(r.status.code(), Some(2), "{}", r.both());
}

#[test]
fn connect_chain_checks_the_root_against_its_own_crl_and_chain_except_root_does_not() {
    require_tool("openssl");
    let dir = tempfile::tempdir().unwrap();
    let pki = dir.path().join("pki");
    let mut params =
        securechannel_testpki::ca_params("revoked root CA", rcgen::BasicConstraints::Unconstrained);
    params.serial_number = Some(SerialNumber::from(5u64));
    let ca = Ca::root_with(params);
    let s = Setup {
        ca_pem: ca.write_pem(&pki.join("ca.pem")),
        _dir: dir,
        pki,
        ca,
    };
    // The root's own CRL lists the root (serial 5), not the leaf.
    let leaf = server_leaf(&s.ca, &s.pki, "leaf", 6, None);
    let revoking = pem("X509 CRL", &current_crl(&s.ca, &[5]));
    for (mode, refused) in [("chain", true), ("chain-except-root", false)] {
        let data = data_dir(&s, mode);
        write_file(&data.join("crl/root.crl"), revoking.clone(), 0o644);
        let mut server = SServer::start(&leaf, &["-naccept", "1"]);
        let r = connect(
            &s,
            &data,
            &server,
            &["--revocation", mode, "--revocation-offline", "fail"],
        );
        if refused {
            assert_eq!(r.status.code(), Some(1), "{mode}: {}", r.both());
            assert!(
                r.stderr.contains("36883") && r.stderr.contains("0x80092010"),
                "{mode}: {}",
                r.stderr
            );
            server.proc.wait_exit(COMMAND_TIMEOUT);
            assert_eq!(openssl_alert_number(&server.output()), Some(44), "{mode}");
            assert_eq!(with_id(&events(&data), 36883).len(), 1);
        } else {
            assert!(r.status.success(), "{mode}: {}", r.both());
            assert!(with_id(&events(&data), 36883).is_empty());
        }
    }
}

#[test]
fn a_distribution_point_that_never_answers_holds_only_the_connections_that_need_it() {
    use std::time::{Duration, Instant};
    let s = setup();
    let silent = HttpFixture::start();
    let stuck_url = silent.silent("/stuck.crl", Duration::from_secs(10));
    let http = HttpFixture::start();
    let url = http.serve("/ca.crl", current_crl(&s.ca, &[]));
    // Another CA: a CRL of the good client's issuer would answer for it too.
    let stuck_ca = Ca::root("stuck CA");
    let stuck = client_leaf(&stuck_ca, &s.pki, "stuck-client", 31, &stuck_url);
    let good = client_leaf(&s.ca, &s.pki, "good-client", 32, &url);
    let data = data_dir(&s, "stuck");
    stuck_ca.write_pem(&data.join("stores/Root/stuck-ca.pem"));
    let serve = serve_requiring_client_certs(
        &s,
        &data,
        &["--revocation", "end", "--handshake-timeout", "20"],
    );
    // The good client's CRL is on hand from here on.
    let r = s_client(&s, &serve, &good);
    assert_eq!(page_json(&r.stdout)["protocol"], "TLS 1.3", "{}", r.both());

    // More stuck connections than serve has worker threads (one per core, 2 in CI).
    let stuck_runs = 3;
    let started = Instant::now();
    std::thread::scope(|scope| {
        let waiting: Vec<_> = (0..stuck_runs)
            .map(|_| scope.spawn(|| (s_client(&s, &serve, &stuck), started.elapsed())))
            .collect();
        std::thread::sleep(Duration::from_millis(700));
        for _ in 0..3 {
            let t = Instant::now();
            let r = s_client(&s, &serve, &good);
            assert_eq!(page_json(&r.stdout)["protocol"], "TLS 1.3", "{}", r.both());
            assert!(
                t.elapsed() < Duration::from_secs(3),
                "a connection whose CRL is on hand waited {:?} behind the stuck ones",
                t.elapsed()
            );
        }
        for w in waiting {
            let (r, took) = w.join().unwrap();
            assert_eq!(openssl_alert_number(&r.both()), Some(46), "{}", r.both());
            // The fetch timeout (5 s) bounds them, not the point's 10 s of silence.
            assert!(took < Duration::from_secs(9), "the stuck one took {took:?}");
        }
    });
    serve.stop();
    let records = events(&data);
    let refused = with_id(&records, 36877);
    let codes: Vec<&str> = refused.iter().map(|r| field(r, "ErrorCode")).collect();
    assert_eq!(
        codes,
        vec!["0x80092013"; stuck_runs],
        "{}",
        summary(&records)
    );
}
