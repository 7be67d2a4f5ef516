//! `schannel events forward --otlp` against an OTLP/HTTP logs receiver started here on
//! 127.0.0.1 (axum), which decodes each request with opentelemetry-proto and keeps the
//! records. It can be taken down (its runtime dropped: the port refuses connections) and
//! brought back on the same port.

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use prost::Message;
use securechannel_events::{render_message, ActivityId, EventId, EventSink, Wording};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the receiver got: every record of every request, with its resource's attributes.
#[derive(Default)]
struct Received {
    records: Vec<LogRecord>,
    resource: Vec<(String, AnyValue)>,
    requests: usize,
}

type Shared = Arc<Mutex<Received>>;

/// An OTLP/HTTP receiver on 127.0.0.1:`port` until dropped or [`Receiver::stop`]ped.
struct Receiver {
    port: u16,
    got: Shared,
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

async fn logs(State(got): State<Shared>, body: Bytes) -> impl IntoResponse {
    match ExportLogsServiceRequest::decode(body) {
        Ok(req) => {
            let mut g = got.lock().expect("lock");
            g.requests += 1;
            for rl in req.resource_logs {
                if let Some(r) = rl.resource {
                    g.resource = r
                        .attributes
                        .into_iter()
                        .map(|kv| (kv.key, kv.value.unwrap_or_default()))
                        .collect();
                }
                for sl in rl.scope_logs {
                    g.records.extend(sl.log_records);
                }
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                ExportLogsServiceResponse::default().encode_to_vec(),
            )
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain")],
            format!("not an ExportLogsServiceRequest: {e}").into_bytes(),
        ),
    }
}

/// The receiver's TLS side for an https target: each accepted connection's handshake
/// through the provider's own tokio server stream (a failed one is dropped, and the next
/// connection accepted).
struct TlsListener {
    tcp: tokio::net::TcpListener,
    credential: securechannel::ServerCredential,
}

impl axum::serve::Listener for TlsListener {
    type Io = securechannel::tokio::TlsStream<tokio::net::TcpStream, securechannel::ServerContext>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, peer)) = self.tcp.accept().await else {
                continue;
            };
            let options = securechannel::ContextOptions::default();
            if let Ok(tls) = securechannel::tokio::accept(&self.credential, options, tcp).await {
                return (tls, peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

impl Receiver {
    fn start(port: u16, got: Shared) -> Receiver {
        Receiver::start_with(port, got, None)
    }

    /// An https receiver: `credential` is its certificate (and whether it requires one of
    /// the client).
    fn start_tls(got: Shared, credential: securechannel::ServerCredential) -> Receiver {
        Receiver::start_with(0, got, Some(credential))
    }

    fn start_with(
        port: u16,
        got: Shared,
        tls: Option<securechannel::ServerCredential>,
    ) -> Receiver {
        let listener = {
            // The port may still be held for a moment by the previous instance.
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
                    Ok(l) => break l,
                    Err(e) => {
                        assert!(Instant::now() < deadline, "bind {port}: {e}");
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        };
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let state = got.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = axum::Router::new()
                    .route("/v1/logs", axum::routing::post(logs))
                    // The OpenTelemetry Collector's default request limit (20 MiB);
                    // a 5,000-record batch is about 3 MB.
                    .layer(axum::extract::DefaultBodyLimit::max(20 * 1024 * 1024))
                    .with_state(state);
                let stop = tokio::task::spawn_blocking(move || {
                    let _ = rx.recv();
                });
                match tls {
                    None => tokio::select! {
                        r = axum::serve(listener, app) => r.expect("serve"),
                        _ = stop => {}
                    },
                    Some(credential) => {
                        let listener = TlsListener {
                            tcp: listener,
                            credential,
                        };
                        tokio::select! {
                            r = axum::serve(listener, app) => r.expect("serve"),
                            _ = stop => {}
                        }
                    }
                }
            });
            // Dropping the runtime drops every connection: a crash, not a drain.
            drop(rt);
        });
        Receiver {
            port,
            got,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Wait until every record ID up to `last` has arrived; the count of each.
    fn wait_for(&self, last: u64, within: Duration) -> BTreeMap<u64, usize> {
        let deadline = Instant::now() + within;
        loop {
            let ids = record_ids(&self.got.lock().expect("lock").records);
            if (1..=last).all(|i| ids.contains_key(&i)) {
                return ids;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver got {} of {last} records",
                ids.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop();
    }
}

fn attr<'a>(r: &'a LogRecord, key: &str) -> Option<&'a Value> {
    r.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn record_ids(records: &[LogRecord]) -> BTreeMap<u64, usize> {
    let mut ids = BTreeMap::new();
    for r in records {
        if let Some(Value::IntValue(n)) = attr(r, "winlog.record_id") {
            *ids.entry(*n as u64).or_insert(0) += 1;
        }
    }
    ids
}

/// A child process killed and reaped when dropped.
struct Guard(Option<Child>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn schannel(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_schannel"));
    c.arg("--data-dir").arg(data).stdin(Stdio::null());
    c
}

fn forward(data: &Path, target: &str, extra: &[&str]) -> std::process::Output {
    schannel(data)
        .args(["events", "forward", "--otlp", target])
        .args(extra)
        .output()
        .expect("run forward")
}

fn state(data: &Path, port: u16) -> String {
    std::fs::read_to_string(data.join(format!("forward-otlp-127.0.0.1-{port}.state")))
        .unwrap_or_default()
}

fn https_state(data: &Path, port: u16) -> String {
    std::fs::read_to_string(data.join(format!("forward-otlps-127.0.0.1-{port}.state")))
        .unwrap_or_default()
}

/// A data directory whose log holds `n` alert records.
fn data_with_alerts(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, data) = common::temp_data_dir();
    let log = common::open_log(&data);
    common::write_alerts(&log, n, 0);
    drop(log);
    (dir, data)
}

/// The forward run succeeded, the https receiver got records 1..=`n`, and the https
/// state file says `n` was acknowledged.
fn all_acknowledged(out: &std::process::Output, receiver: &Receiver, data: &Path, n: u64) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        receiver.wait_for(n, Duration::from_secs(10)).len(),
        n as usize
    );
    assert_eq!(
        https_state(data, receiver.port),
        format!("last_acked_record_id={n}\n")
    );
}

/// `https://`: over TLS to a receiver whose certificate chains to `--tls-ca`, every record
/// arrives and is acknowledged; a receiver that requires a client certificate gets
/// `--tls-cert`/`--tls-key`'s, and without them takes nothing; a CA that did not issue
/// the receiver's certificate takes nothing either, and says why.
#[test]
fn forward_otlp_over_https_checks_the_collector_and_presents_a_client_certificate() {
    let (_dir, data) = data_with_alerts(30);
    let pki = common::Pki::new(&data, "Collector CA");
    let server = pki.server_leaf("collector");
    let client = pki.client_leaf("forwarder", "forwarder.example.net");
    let other = common::Pki::new(&data, "Other CA");
    let provider = securechannel::Provider::in_memory(
        Default::default(),
        Arc::new(securechannel_events::NullSink),
    )
    .expect("an in-memory provider");
    let ca = std::fs::read(&pki.ca_pem).expect("the CA file");
    let root = securechannel::certificates_from_pem_or_der(&ca).expect("the CA")[0].clone();
    let ca_arg = pki.ca_pem.to_str().expect("a UTF-8 path");

    // Server authentication only.
    let got = Shared::default();
    let plain = provider
        .server_credential()
        .with_certificate_files(&server.cert, &server.key)
        .acquire()
        .expect("server credential");
    let receiver = Receiver::start_tls(got.clone(), plain);
    let url = format!("https://127.0.0.1:{}/v1/logs", receiver.port);
    let out = forward(&data, &url, &["--tls-ca", ca_arg]);
    all_acknowledged(&out, &receiver, &data, 30);
    assert_eq!(
        state(&data, receiver.port),
        "",
        "https has its own state file"
    );

    // The wrong CA: the receiver's certificate is refused, nothing is marked sent.
    let (_dir2, data2) = data_with_alerts(5);
    let out = forward(
        &data2,
        &url,
        &["--tls-ca", other.ca_pem.to_str().expect("a UTF-8 path")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("UnknownIssuer")
            && stderr.contains("does not chain to the --tls-ca / TlsCa file"),
        "{stderr}"
    );
    assert_eq!(https_state(&data2, receiver.port), "");
    drop(receiver);

    // Mutual TLS: the receiver requires a client certificate issued by the same CA.
    let got = Shared::default();
    let mutual = provider
        .server_credential()
        .with_certificate_files(&server.cert, &server.key)
        .add_root(root)
        .require_client_certificate()
        .acquire()
        .expect("server credential");
    let receiver = Receiver::start_tls(got.clone(), mutual);
    let url = format!("https://127.0.0.1:{}/v1/logs", receiver.port);
    let (_dir3, data3) = data_with_alerts(5);
    let out = forward(&data3, &url, &["--tls-ca", ca_arg]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(https_state(&data3, receiver.port), "");
    assert!(got.lock().expect("lock").records.is_empty());
    let out = forward(
        &data3,
        &url,
        &[
            "--tls-ca",
            ca_arg,
            "--tls-cert",
            client.cert.to_str().expect("a UTF-8 path"),
            "--tls-key",
            client.key.to_str().expect("a UTF-8 path"),
        ],
    );
    all_acknowledged(&out, &receiver, &data3, 5);
}

fn string(s: &str) -> Value {
    Value::StringValue(s.to_string())
}

/// Every record arrives once, as a LogRecord with the Windows fields as attributes, the
/// level as its severity and the rendered message as its body.
#[test]
fn forward_otlp_ships_every_record_with_its_attributes() {
    let (_dir, data) = common::temp_data_dir();
    let got = Shared::default();
    let receiver = Receiver::start(0, got.clone());

    let log = common::open_log(&data);
    let mut alert = common::record(EventId::FatalAlertReceived, &["48"]);
    let activity = "{0AF3C2D1-9B7E-4C55-A1D2-3E4F5A6B7C8D}";
    alert.activity_id = Some(ActivityId::parse(activity).expect("guid"));
    log.emit(alert.clone());
    log.emit(common::record(EventId::HandshakeCompleted, &[]));
    const BULK: usize = 20_000;
    common::write_alerts(&log, BULK, 0);
    let last = log.last_record_id().expect("last");
    drop(log);

    let target = format!("http://127.0.0.1:{}/v1/logs", receiver.port);
    let started = Instant::now();
    let out = forward(&data, &target, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let ids = receiver.wait_for(last, Duration::from_secs(60));
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "forwarding throughput over OTLP/HTTP: {last} records in {secs:.2} s = {:.0} records/s (decoded by the receiver); forwarder said: {}",
        last as f64 / secs,
        stderr.trim()
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "piped: one summary line: {stderr}"
    );
    assert!(
        ids.values().all(|&n| n == 1),
        "duplicates without an interruption"
    );
    assert_eq!(ids.len() as u64, last);
    assert_eq!(
        state(&data, receiver.port),
        format!("last_acked_record_id={last}\n")
    );

    let g = got.lock().expect("lock");
    let first = &g.records[0];
    assert_eq!(
        attr(first, "winlog.event_id"),
        Some(&Value::IntValue(36887))
    );
    assert_eq!(attr(first, "winlog.record_id"), Some(&Value::IntValue(1)));
    assert_eq!(attr(first, "event.code"), Some(&string("36887")));
    assert_eq!(
        attr(first, "winlog.provider_name"),
        Some(&string("Schannel"))
    );
    assert_eq!(attr(first, "winlog.channel"), Some(&string("System")));
    assert_eq!(attr(first, "winlog.level"), Some(&string("error")));
    assert_eq!(attr(first, "winlog.activity_id"), Some(&string(activity)));
    assert_eq!(
        attr(first, "winlog.event_data.AlertDesc"),
        Some(&string("48"))
    );
    assert_eq!(
        attr(first, "winlog.process.pid"),
        Some(&Value::IntValue(i64::from(alert.process_id)))
    );
    assert_eq!(first.severity_number, 17, "SEVERITY_NUMBER_ERROR");
    assert_eq!(first.severity_text, "Error");
    assert_eq!(first.time_unix_nano, alert.time as u64);
    assert_eq!(
        first.body.as_ref().and_then(|b| b.value.as_ref()),
        Some(&string(&render_message(&alert, Wording::Modern)))
    );
    // An information event: severity INFO, no activity, its own (empty) event data.
    let second = &g.records[1];
    assert_eq!(
        attr(second, "winlog.event_id"),
        Some(&Value::IntValue(36880))
    );
    assert_eq!(second.severity_number, 9, "SEVERITY_NUMBER_INFO");
    assert_eq!(attr(second, "winlog.activity_id"), None);
    // Alerts generated carry each of their three data fields.
    let third = &g.records[2];
    assert_eq!(
        attr(third, "winlog.event_data.AlertDesc"),
        Some(&string("40"))
    );
    assert_eq!(
        attr(third, "winlog.event_data.ErrorState"),
        Some(&string("1205"))
    );
    assert_eq!(
        attr(third, "winlog.event_data.TargetName"),
        Some(&string("client0.example.net"))
    );
    let resource: BTreeMap<_, _> = g.resource.iter().cloned().collect();
    assert_eq!(
        resource.get("service.name").and_then(|v| v.value.clone()),
        Some(string("schannel"))
    );
    assert_eq!(
        resource.get("host.name").and_then(|v| v.value.clone()),
        Some(string(&alert.computer))
    );
    drop(g);

    // Run again: nothing new, nothing sent again.
    let requests = got.lock().expect("lock").requests;
    let out = forward(&data, &target, &[]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("forwarded 0 records"));
    assert_eq!(got.lock().expect("lock").requests, requests);
}

/// The receiver goes down while forward follows, records keep coming, it comes back on the
/// same port: forwarding resumes from the last acknowledged record; the forwarder is then
/// killed and a new run resumes from its state file. Every record arrives; at most one
/// batch per interruption twice.
#[test]
fn forward_otlp_resumes_after_the_receiver_comes_back_without_loss() {
    let (_dir, data) = common::temp_data_dir();
    let got = Shared::default();
    let mut receiver = Receiver::start(common::free_port(common::LOCALHOST_V4), got.clone());
    let port = receiver.port;
    let log = common::open_log(&data);
    common::write_alerts(&log, 1000, 0);
    let target = format!("http://127.0.0.1:{port}/v1/logs");
    const BATCH: usize = 200;

    let mut fwd = Guard(Some(
        schannel(&data)
            .args([
                "events",
                "forward",
                "--follow",
                "--batch",
                &BATCH.to_string(),
            ])
            .args(["--otlp", &target])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start forward --follow"),
    ));
    receiver.wait_for(1000, Duration::from_secs(30));

    receiver.stop();
    common::write_alerts(&log, 1000, 1000);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        state(&data, port).contains("last_acked_record_id=1000\n"),
        "nothing acknowledged while the receiver is down: {}",
        state(&data, port)
    );
    receiver = Receiver::start(port, got.clone());
    receiver.wait_for(2000, Duration::from_secs(60));

    drop(fwd.0.take().map(|mut c| {
        let _ = c.kill();
        c.wait()
    }));
    common::write_alerts(&log, 500, 2000);
    let out = forward(&data, &target, &["--batch", &BATCH.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ids = receiver.wait_for(2500, Duration::from_secs(30));
    common::assert_no_loss_bounded_duplicates(&ids, 2500, 2 * BATCH, "OTLP");
    assert_eq!(state(&data, port), "last_acked_record_id=2500\n");
}

/// No receiver: a few attempts, exit 2, nothing marked sent; a receiver that answers an
/// error is not an acknowledgement either; bad targets and options are refused.
#[test]
fn forward_otlp_without_a_receiver_fails_and_keeps_its_place() {
    let (_dir, data) = common::temp_data_dir();
    let log = common::open_log(&data);
    common::write_alerts(&log, 10, 0);
    drop(log);
    let port = common::free_port(common::LOCALHOST_V4);
    let out = forward(&data, &format!("http://127.0.0.1:{port}/v1/logs"), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("did not take the records after record 0"),
        "{stderr}"
    );
    assert_eq!(state(&data, port), "");

    // A wrong path: the receiver answers 404, which acknowledges nothing.
    let receiver = Receiver::start(0, Shared::default());
    let out = forward(
        &data,
        &format!("http://127.0.0.1:{}/v1/traces", receiver.port),
        &[],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("answered 404"), "{stderr}");
    assert_eq!(state(&data, receiver.port), "");

    for (args, why) in [
        (
            vec!["--otlp", "https://127.0.0.1:4318/v1/logs"],
            "needs the CA that issued the collector's certificate (--tls-ca FILE)",
        ),
        (
            vec![
                "--otlp",
                "https://127.0.0.1:4318/v1/logs",
                "--tls-ca",
                "missing-ca.pem",
            ],
            "cannot read the CA file",
        ),
        (
            vec!["--otlp", "http://127.0.0.1:4318/v1/logs", "--format", "ecs"],
            "ECS body is for syslog",
        ),
        (
            vec![
                "--otlp",
                "http://127.0.0.1:4318/v1/logs",
                "--tls-ca",
                "ca.pem",
            ],
            "plain HTTP",
        ),
    ] {
        let out = schannel(&data)
            .args(["events", "forward"])
            .args(&args)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(why), "{args:?}: {stderr}");
    }
}
