//! The explanation tables: a row for every event, alert and status, each with a meaning,
//! causes and actions; the parser's accepted forms; and what the rendered text must say.

use securechannel_events::{AlertDescription, EventId, EventLogging, Level, Status, CATALOG};
use securechannel_explain::{
    alert_explanation, event_explanation, explain, status_explanation, Subject, ALERT_EXPLANATIONS,
    EVENT_EXPLANATIONS, STATUS_EXPLANATIONS,
};

fn filled(what: &str, meaning: &str, causes: &[&str], actions: &[&str]) {
    assert!(!meaning.trim().is_empty(), "{what}: meaning");
    assert!(!causes.is_empty(), "{what}: causes");
    assert!(!actions.is_empty(), "{what}: actions");
    for text in causes.iter().chain(actions) {
        assert!(!text.trim().is_empty(), "{what}: an empty cause or action");
    }
}

#[test]
fn every_event_has_an_explanation_row() {
    assert_eq!(EVENT_EXPLANATIONS.len(), 25);
    for id in EventId::all() {
        let ex = event_explanation(id);
        assert_eq!(ex.id, id, "event {id}: row order");
        filled(&format!("event {id}"), ex.meaning, ex.causes, ex.actions);
        for code in ex.alerts {
            assert!(
                AlertDescription(*code).name().is_some(),
                "event {id}: related alert {code} is not in the registry"
            );
        }
    }
}

#[test]
fn every_alert_has_an_explanation_row() {
    let codes: Vec<u8> = ALERT_EXPLANATIONS.iter().map(|a| a.code).collect();
    let registry: Vec<u8> = AlertDescription::all().map(|a| a.0).collect();
    assert_eq!(codes, registry, "one row per registry alert, in code order");
    for a in AlertDescription::all() {
        let name = a.name().expect("registry alerts have names");
        let ex = alert_explanation(a).unwrap_or_else(|| panic!("alert {name}: no row"));
        filled(
            &format!("alert {} {name}", a.0),
            ex.meaning,
            ex.causes,
            ex.actions,
        );
    }
}

#[test]
fn every_status_has_an_explanation_row() {
    assert_eq!(STATUS_EXPLANATIONS.len(), Status::all().count());
    for st in Status::all() {
        let ex = status_explanation(st).unwrap_or_else(|| panic!("{}: no row", st.name()));
        filled(st.name(), ex.meaning, ex.causes, ex.actions);
    }
}

#[test]
fn every_event_explanation_names_level_bit_fields_template_and_command() {
    for def in CATALOG.iter() {
        let id = def.id;
        let text = explain(Subject::Event(id));
        let want_bit = match def.level {
            Level::Error | Level::Critical => "bit 0x1",
            Level::Warning => "bit 0x2",
            Level::Information => "bit 0x4",
        };
        assert_eq!(
            format!("bit 0x{:X}", EventLogging::bit(def.level)),
            want_bit,
            "event {id}"
        );
        for needle in [
            format!("Event {} ({})", id.value(), def.level.name()),
            want_bit.to_string(),
            def.message.to_string(),
            format!("schannel events --id {}", id.value()),
            event_explanation(id).meaning.to_string(),
        ] {
            assert!(
                text.contains(&needle),
                "event {id}: missing {needle:?} in\n{text}"
            );
        }
        for (i, f) in def.fields.iter().enumerate() {
            assert!(
                text.contains(&format!("%{} {f}", i + 1)),
                "event {id}: field {f}"
            );
        }
        if let Some(legacy) = def.legacy {
            assert!(text.contains(legacy), "event {id}: legacy wording");
        }
        // Events the default mask (1) does not record tell how to record them.
        assert_eq!(
            text.contains("schannel config set EventLogging"),
            def.level != Level::Error,
            "event {id}\n{text}"
        );
        for code in event_explanation(id).alerts {
            let label = format!("{code} {}", AlertDescription(*code).name().unwrap_or(""));
            assert!(text.contains(&label), "event {id}: alert {label}");
        }
        for st in event_explanation(id).statuses {
            assert!(text.contains(st.name()), "event {id}: status {}", st.name());
        }
    }
}

#[test]
fn every_alert_explanation_names_status_and_events() {
    for a in AlertDescription::all() {
        let text = explain(Subject::Alert(a));
        let name = a.name().unwrap_or_default();
        for needle in [
            format!("TLS alert {} {name}", a.0),
            a.received_status().name().to_string(),
            a.received_status().hex(),
            format!("schannel events --id 36887 --data AlertDesc={}", a.0),
            format!("schannel events --id 36888 --data AlertDesc={}", a.0),
        ] {
            assert!(
                text.contains(&needle),
                "alert {name}: missing {needle:?} in\n{text}"
            );
        }
        assert_eq!(text.contains("reserved"), a.is_reserved(), "alert {name}");
    }
    let unassigned = explain(Subject::Alert(AlertDescription(200)));
    assert!(unassigned.contains("not assigned"), "{unassigned}");
    assert!(unassigned.contains("SEC_E_ILLEGAL_MESSAGE"), "{unassigned}");
}

#[test]
fn every_status_explanation_names_value_and_mapped_alerts() {
    for st in Status::all() {
        let text = explain(Subject::Status(st));
        for needle in [
            format!("{} = {}", st.name(), st.hex()),
            format!("{} decimal", st.code()),
            format!("{} as a signed HRESULT", st.code() as i32),
        ] {
            assert!(text.contains(&needle), "{}: missing {needle:?}", st.name());
        }
        for a in AlertDescription::all().filter(|a| a.received_status() == st) {
            let label = format!("{} {}", a.0, a.name().unwrap_or_default());
            assert!(
                text.contains(&label),
                "{}: alert {label}\n{text}",
                st.name()
            );
        }
    }
    let text = explain(Subject::Status(Status::UntrustedRoot));
    assert!(
        text.contains("Received alerts that map to it: 48 unknown_ca\n"),
        "{text}"
    );
}

#[test]
fn parses_every_accepted_form() {
    let ev = Subject::Event(EventId::FatalAlertReceived);
    let alert = Subject::Alert(AlertDescription::UNKNOWN_CA);
    let st = Subject::Status(Status::UntrustedRoot);
    for (words, want) in [
        (&["36887"][..], ev),
        (&["event", "36887"], ev),
        (&["EVENT", "SSLEVENT_RECEIVE_FATAL_ALERT"], ev),
        (&["SSLEVENT_RECEIVE_FATAL_ALERT"], ev),
        (&["alert", "48"], alert),
        (&["alert", "unknown_ca"], alert),
        (&["alert", "UNKNOWN_CA"], alert),
        (&["unknown_ca"], alert),
        (&["0x80090325"], st),
        (&["0X80090325"], st),
        (&["80090325"], st),
        (&["2148074277"], st),
        (&["-2146893019"], st),
        (&["SEC_E_UNTRUSTED_ROOT"], st),
        (&["sec_e_untrusted_root"], st),
        (&["status", "0x80090325"], st),
        (&["status", "-2146893019"], st),
        (&[" 36887 "], ev),
    ] {
        assert_eq!(Subject::parse(words), Ok(want), "{words:?}");
    }
    assert_eq!(
        Subject::parse(&["alert", "200"]),
        Ok(Subject::Alert(AlertDescription(200)))
    );
    assert_eq!(Subject::parse(&["0"]), Ok(Subject::Status(Status::Ok)));
    assert_eq!(
        Subject::parse(&["0x00090312"]),
        Ok(Subject::Status(Status::ContinueNeeded))
    );
}

#[test]
fn unknown_input_is_an_error_that_lists_the_accepted_forms() {
    for words in [
        &[][..],
        &["36889"],
        &["event", "36863"],
        &["event", "abc"],
        &["alert", "256"],
        &["alert", "no_such_alert"],
        &["48"],
        &["0x80090399"],
        &["-99999999999"],
        &["--5"],
        &["status", "SEC_E_NOPE"],
        &["colour", "red"],
        &["alert", "48", "extra"],
        &["hello"],
    ] {
        let err = Subject::parse(words).expect_err(&format!("{words:?}"));
        let text = err.to_string();
        assert!(text.contains("accepted forms:"), "{words:?}: {text}");
        assert!(
            text.contains("schannel explain alert unknown_ca"),
            "{words:?}"
        );
    }
    let err = Subject::parse(&["48"]).expect_err("48 is an alert code, not a status");
    assert!(
        err.problem.contains("schannel explain alert 48"),
        "{}",
        err.problem
    );
    let err = Subject::parse(&["36889"]).expect_err("not an event");
    assert!(err.problem.contains("36889"), "{}", err.problem);
    let err = Subject::parse(&["0x80090399"]).expect_err("not a known status");
    assert!(err.problem.contains("0x80090399"), "{}", err.problem);
}
