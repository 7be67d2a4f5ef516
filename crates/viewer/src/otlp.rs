//! OpenTelemetry logs over OTLP/HTTP (protobuf): each record a `LogRecord` with the Windows
//! fields as attributes and the rendered message as its body, one
//! `ExportLogsServiceRequest` per batch, POSTed to the collector's `/v1/logs`.
//!
//! **Why opentelemetry-proto and not the SDK's exporter.** The SDK's `BatchLogProcessor`
//! owns its queue: it drops records when the queue is full or an export fails, and it never
//! tells the caller which records the collector took. At least once needs exactly that: a
//! batch is acknowledged when the collector answers `200 OK` to the request that carried it
//! (an OTLP/HTTP success means the records were accepted), and only then is its last record
//! ID written to the state file. So the forwarder builds the request itself from
//! opentelemetry-proto's generated messages (prost) and sends it with ureq; a refused or
//! unanswered request is sent again, whole.
//!
//! A `partial_success` with rejected records is the collector's final word on them (the
//! OTLP specification forbids sending them again): the batch counts as taken and the
//! rejection is reported on stderr with the collector's message.

use crate::forward::TlsMaterial;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use securechannel_events::{
    event_data, render_message, EventRecord, Wording, PROVIDER_GUID, PROVIDER_NAME,
};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// Where OTLP logs go: `http://HOST:PORT/PATH` or `https://HOST:PORT/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpTarget {
    host: String,
    port: u16,
    path: String,
    /// `https://`: over TLS, the collector's certificate checked against the CA file
    /// given (`--tls-ca`, `[Forward] TlsCa`).
    pub tls: bool,
}

impl OtlpTarget {
    /// `http://HOST:PORT/v1/logs` or `https://HOST:PORT/v1/logs` (the path is `/v1/logs`
    /// when none is given; the port is required).
    pub fn parse(s: &str) -> Result<OtlpTarget, String> {
        let bad = |why: &str| format!("'{s}': {why}");
        let (rest, tls) = if let Some(r) = s.strip_prefix("http://") {
            (r, false)
        } else if let Some(r) = s.strip_prefix("https://") {
            (r, true)
        } else {
            return Err(bad(
                "expected http://HOST:PORT/v1/logs or https://HOST:PORT/v1/logs",
            ));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/v1/logs"),
        };
        let (host, port) = authority
            .rsplit_once(':')
            .ok_or_else(|| bad("expected http(s)://HOST:PORT/v1/logs (the port is required)"))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if path.contains(['?', '#']) {
            return Err(bad("a query or fragment is not part of an OTLP endpoint"));
        }
        Ok(OtlpTarget {
            host: host.to_string(),
            port,
            path: path.to_string(),
            tls,
        })
    }

    /// The name of this target's state file in the data directory (`forward-otlps-...`
    /// for https: another target than http on the same port, with its own place).
    pub fn state_file_name(&self) -> String {
        format!(
            "forward-otlp{}-{}-{}.state",
            if self.tls { "s" } else { "" },
            super::forward::file_safe(&self.host),
            self.port
        )
    }

    fn url(&self) -> String {
        self.to_string()
    }
}

impl std::fmt::Display for OtlpTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}{}", self.host, self.port, self.path)
        } else {
            write!(f, "{scheme}://{}:{}{}", self.host, self.port, self.path)
        }
    }
}

/// Posts batches to one OTLP/HTTP endpoint.
pub(crate) struct OtlpClient {
    agent: ureq::Agent,
    url: String,
}

impl OtlpClient {
    /// `tls`: for an https target, the roots (the CA file's certificates only) and our
    /// certificate if the collector asks for one; rustls with aws-lc-rs, its default
    /// protocol versions and suites, the host checked against the certificate.
    pub(crate) fn new(
        target: &OtlpTarget,
        timeout: Duration,
        tls: Option<&TlsMaterial>,
    ) -> Result<OtlpClient, String> {
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false);
        if let Some(m) = tls {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let certs = |v: &[rustls::pki_types::CertificateDer<'static>]| {
                v.iter()
                    .map(|c| ureq::tls::Certificate::from_der(c.as_ref()).to_owned())
                    .collect::<Vec<_>>()
            };
            let roots = certs(&m.roots);
            let client_cert = match &m.client {
                None => None,
                Some(id) => {
                    let chain = certs(&id.chain);
                    // The same text rustls already parsed in `material`: it holds a key.
                    let key = ureq::tls::PrivateKey::from_pem(&id.key_pem)
                        .map_err(|e| format!("the client key file: {e}"))?;
                    Some(ureq::tls::ClientCert::new_with_certs(&chain, key))
                }
            };
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .provider(ureq::tls::TlsProvider::Rustls)
                    .unversioned_rustls_crypto_provider(provider)
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&roots))
                    .client_cert(client_cert)
                    .build(),
            );
        }
        Ok(OtlpClient {
            agent: config.build().into(),
            url: target.url(),
        })
    }

    /// One request for the batch; `Ok` once the collector answered 2xx.
    pub(crate) fn post(&self, chunk: &[EventRecord]) -> io::Result<()> {
        let body = export_request(chunk).encode_to_vec();
        let mut resp = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/x-protobuf")
            .send(&body[..])
            .map_err(ureq_error)?;
        let status = resp.status();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(1024 * 1024)
            .read_to_vec()
            .map_err(ureq_error)?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
            return Err(io::Error::other(format!(
                "the collector answered {status}{}",
                if text.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", text.trim())
                }
            )));
        }
        if let Ok(r) = ExportLogsServiceResponse::decode(&bytes[..]) {
            if let Some(p) = r.partial_success.filter(|p| p.rejected_log_records > 0) {
                eprintln!(
                    "schannel: forward: {} rejected {} of records {}..{} for good (OTLP partial success: not sent again): {}",
                    self.url,
                    p.rejected_log_records,
                    chunk.first().map_or(0, |r| r.record_id),
                    chunk.last().map_or(0, |r| r.record_id),
                    p.error_message
                );
            }
        }
        Ok(())
    }
}

fn ureq_error(e: ureq::Error) -> io::Error {
    match e {
        // rustls' failures come wrapped in the transport's I/O error.
        ureq::Error::Io(e) => match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => io::Error::new(e.kind(), tls_failure(tls)),
            None => e,
        },
        ureq::Error::Timeout(t) => io::Error::new(
            io::ErrorKind::TimedOut,
            format!("the collector did not answer in time ({t})"),
        ),
        ureq::Error::Rustls(e) => io::Error::other(tls_failure(&e)),
        other => io::Error::other(other.to_string()),
    }
}

/// A TLS failure of an https target, with what to do about the usual ones.
fn tls_failure(e: &rustls::Error) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    let hint = match e {
        E::InvalidCertificate(C::UnknownIssuer | C::BadSignature) => {
            "; the collector's certificate does not chain to the --tls-ca / TlsCa file"
        }
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            "; the collector's certificate does not hold the target's host name"
        }
        E::AlertReceived(A::CertificateRequired | A::HandshakeFailure | A::BadCertificate) => {
            "; the collector requires a client certificate it accepts (--tls-cert and --tls-key, TlsCert / TlsKey)"
        }
        _ => "",
    };
    format!("TLS: {e}{hint}")
}

/// The request for one batch: one resource (the computer), one scope (the provider).
pub fn export_request(chunk: &[EventRecord]) -> ExportLogsServiceRequest {
    let computer = chunk
        .first()
        .map(|r| r.computer.to_string())
        .unwrap_or_default();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", string("schannel")),
                    kv("host.name", string(&computer)),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "securechannel".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    ..Default::default()
                }),
                log_records: chunk.iter().map(log_record).collect(),
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// One record: the time, the severity from the level, the rendered message as the body,
/// the Windows fields as attributes named as winlogbeat names them (`winlog.event_id`,
/// `winlog.event_data.AlertDesc`, ...), so the same rules match.
pub fn log_record(r: &EventRecord) -> LogRecord {
    let level = r.level();
    let severity = match level.value() {
        1 => SeverityNumber::Fatal,
        2 => SeverityNumber::Error,
        3 => SeverityNumber::Warn,
        4 => SeverityNumber::Info,
        _ => SeverityNumber::Debug,
    };
    let time = u64::try_from(r.time).unwrap_or(0);
    let mut attributes = vec![
        kv("event.code", string(&r.event_id.value().to_string())),
        kv("winlog.event_id", int(i64::from(r.event_id.value()))),
        kv("winlog.record_id", int(r.record_id as i64)),
        kv("winlog.provider_name", string(PROVIDER_NAME)),
        kv("winlog.provider_guid", string(PROVIDER_GUID)),
        kv("winlog.channel", string("System")),
        kv("winlog.computer_name", string(&r.computer)),
        kv("winlog.level", string(&level.name().to_ascii_lowercase())),
        kv("winlog.process.pid", int(i64::from(r.process_id))),
        kv("winlog.process.thread.id", int(i64::from(r.thread_id))),
    ];
    if let Some(a) = r.activity_id {
        attributes.push(kv("winlog.activity_id", string(&a.to_string())));
    }
    for (name, value) in event_data(r) {
        attributes.push(kv(&format!("winlog.event_data.{name}"), string(&value)));
    }
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time,
        severity_number: severity as i32,
        severity_text: level.name().to_string(),
        body: Some(string(&render_message(r, Wording::Modern))),
        attributes,
        ..Default::default()
    }
}

fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(value),
        ..Default::default()
    }
}

fn string(s: &str) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s.to_string())),
    }
}

fn int(i: i64) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::IntValue(i)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = OtlpTarget::parse("http://127.0.0.1:4318/v1/logs").expect("otlp");
        assert_eq!(t.to_string(), "http://127.0.0.1:4318/v1/logs");
        assert_eq!(t.state_file_name(), "forward-otlp-127.0.0.1-4318.state");
        let t = OtlpTarget::parse("http://[::1]:4318").expect("default path");
        assert_eq!(t.to_string(), "http://[::1]:4318/v1/logs");
        let t = OtlpTarget::parse("https://collector.example:4318/v1/logs").expect("https");
        assert!(t.tls);
        assert_eq!(t.to_string(), "https://collector.example:4318/v1/logs");
        assert_eq!(
            t.state_file_name(),
            "forward-otlps-collector.example-4318.state"
        );
        for (s, why) in [
            ("https://h/v1/logs", "port is required"),
            ("h:4318", "expected http://"),
            ("http://h/v1/logs", "port is required"),
            ("http://h:0/v1/logs", "1 to 65535"),
            ("http://:4318/v1/logs", "no host"),
            ("http://h:4318/v1/logs?x=1", "query"),
        ] {
            let e = OtlpTarget::parse(s).expect_err("refused");
            assert!(e.contains(why), "{s}: {e}");
        }
    }
}
