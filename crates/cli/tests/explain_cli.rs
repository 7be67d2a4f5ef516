//! `schannel explain` as an operator runs it: the binary, its output and exit codes.

use std::process::{Command, Output};

fn schannel(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("temporary directory");
    Command::new(env!("CARGO_BIN_EXE_schannel"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(args)
        .output()
        .expect("the schannel binary runs")
}

fn explain_ok(args: &[&str]) -> String {
    let mut full = vec!["explain"];
    full.extend_from_slice(args);
    let out = schannel(&full);
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    assert!(
        out.status.success(),
        "{args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn explains_an_event() {
    let text = explain_ok(&["36887"]);
    for needle in [
        "Event 36887 (Error): A fatal alert was received",
        "SSLEVENT_RECEIVE_FATAL_ALERT",
        "bit 0x1",
        "%1 AlertDesc",
        "The TLS protocol defined fatal alert code is %1.",
        "The following fatal alert was received: %1.",
        "48 unknown_ca",
        "schannel events --id 36887",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // An informational event says how to record it.
    let text = explain_ok(&["event", "36880"]);
    assert!(
        text.contains("schannel config set EventLogging 5"),
        "{text}"
    );
    assert!(text.contains("%10 TargetName"), "{text}");
}

#[test]
fn explains_an_alert_by_code_and_by_name() {
    let by_code = explain_ok(&["alert", "48"]);
    let by_name = explain_ok(&["alert", "unknown_ca"]);
    assert_eq!(by_code, by_name);
    for needle in [
        "TLS alert 48 unknown_ca",
        "0x80090325 SEC_E_UNTRUSTED_ROOT",
        "36887",
        "36888",
        "stores/Root",
    ] {
        assert!(by_code.contains(needle), "missing {needle:?} in\n{by_code}");
    }
}

#[test]
fn explains_a_status_in_every_form_windows_tools_print() {
    let forms = [
        "0x80090325",
        "SEC_E_UNTRUSTED_ROOT",
        "-2146893019",
        "2148074277",
        "80090325",
    ];
    let texts: Vec<String> = forms.iter().map(|f| explain_ok(&[f])).collect();
    for (form, text) in forms.iter().zip(&texts) {
        assert_eq!(text, &texts[0], "{form} explains the same status");
    }
    for needle in [
        "SEC_E_UNTRUSTED_ROOT = 0x80090325",
        "-2146893019",
        "48 unknown_ca",
        "stores/Root",
    ] {
        assert!(
            texts[0].contains(needle),
            "missing {needle:?} in\n{}",
            texts[0]
        );
    }
}

#[test]
fn unknown_input_exits_2_and_lists_the_accepted_forms() {
    for args in [
        &["explain", "36999"][..],
        &["explain", "alert", "999"],
        &["explain", "0x80090399"],
        &["explain", "bogus"],
        &["explain", "48"],
    ] {
        let out = schannel(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("accepted forms:"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("schannel explain 0x80090325"),
            "{args:?}: {stderr}"
        );
    }
    let out = schannel(&["explain", "48"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("schannel explain alert 48"));
    // No argument at all: clap's usage error, also exit 2.
    assert_eq!(schannel(&["explain"]).status.code(), Some(2));
}
