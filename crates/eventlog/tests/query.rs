//! Queries: flags and XPath select exactly what the same filter selects in memory; order,
//! count, indexes, follow.

mod common;

use common::*;
use securechannel_eventlog::{parse_xpath, Cmp, EventLog, Filter, LogReader, Query};
use securechannel_events::{ActivityId, EventId, EventRecord, EventSink, Level, UnixNanos};
use std::time::Duration;

const SEC: i64 = 1_000_000_000;

/// A mixed log: 600 records over 10 minutes from T0, with activities on the handshakes
/// and some alerts.
fn mixed(dir: &std::path::Path) -> (EventLog, Vec<EventRecord>) {
    let log = open(dir, options());
    let descs = ["46", "48", "40", "70", "42"];
    for i in 0..600i64 {
        let t = T0 + i * SEC;
        let mut r = match i % 6 {
            0 | 1 => handshake(t, ActivityId(1000 + i as u128)),
            2 => alert_received(descs[(i as usize / 6) % 5], t),
            3 => alert_generated(descs[(i as usize / 7) % 5], "1205", t),
            4 => record(EventId::NoSharedCipherSuite, &["TLS 1.0"], t),
            _ if i % 12 == 11 => record(EventId::NoDefaultServerCredentialWarning, &[], t),
            _ => record(EventId::ServerCertificateUntrustedRoot, &[], t),
        };
        if i % 6 == 2 {
            r.activity_id = Some(ActivityId(1000 + i as u128 - 2));
        }
        log.emit(r);
    }
    log.sync().unwrap();
    let records = all(&log);
    assert_eq!(records.len(), 600);
    (log, records)
}

/// The records the filter selects in memory, newest first.
fn expected(records: &[EventRecord], f: &Filter, now: UnixNanos) -> Vec<u64> {
    records
        .iter()
        .rev()
        .filter(|r| f.matches(r, now))
        .map(|r| r.record_id)
        .collect()
}

fn ids(records: &[EventRecord]) -> Vec<u64> {
    records.iter().map(|r| r.record_id).collect()
}

#[test]
fn sql_selects_what_the_filter_means() {
    let dir = tempfile::tempdir().unwrap();
    let (log, records) = mixed(dir.path());
    // The log's times are in the past (T0); ages are measured from the time of T0 + 10 min
    // in the in-memory check, and queries with an age are checked separately below.
    let filters = vec![
        Filter::ids(&[EventId::FatalAlertReceived]),
        Filter::ids(&[EventId::FatalAlertReceived, EventId::FatalAlertGenerated]),
        Filter::levels(&[Level::Error]),
        Filter::levels(&[Level::Warning]),
        Filter::levels(&[Level::Information, Level::Error]),
        Filter::data_eq("AlertDesc", "46").unwrap(),
        Filter::data_eq("alertdesc", "48").unwrap(),
        Filter::data_eq("ErrorState", "1205").unwrap(),
        Filter::data_eq("Protocol", "TLS 1.3").unwrap(),
        Filter::data_eq("Protocol", "TLS 1.0").unwrap(),
        Filter::Time(Cmp::Ge, T0 + 300 * SEC),
        Filter::Time(Cmp::Ge, T0 + 100 * SEC).and(Filter::Time(Cmp::Le, T0 + 200 * SEC)),
        Filter::Activity(ActivityId(1000 + 12)),
        Filter::RecordId(Cmp::Gt, 590),
        parse_xpath("*[System[(EventID=36887 or EventID=36888) and Level<=2]]").unwrap(),
        parse_xpath("*[System[EventID!=36880] and EventData[Data='46']]").unwrap(),
        parse_xpath("*[EventData[Data[@Name='AlertDesc']!=46]]").unwrap(),
        parse_xpath("*[EventData[Data[@Name='ErrorState']]]").unwrap(),
        parse_xpath("*[System[EventID=36888] and EventData[Data!='1205']]").unwrap(),
        parse_xpath("*[System[not(Level=4) and Computer='web-01']]").unwrap(),
        parse_xpath("*[System[Execution[@ProcessID=4242] and Provider[@Name='Other']]]").unwrap(),
    ];
    for f in filters {
        let got = log.query(&Query::new().filter(f.clone())).unwrap();
        let want = expected(&records, &f, 0);
        assert_eq!(ids(&got), want, "{f:?}");
        let selects_nothing = want.is_empty();
        assert_eq!(
            selects_nothing,
            f == parse_xpath("*[System[Execution[@ProcessID=4242] and Provider[@Name='Other']]]")
                .unwrap(),
            "{f:?}: only the other provider's query selects nothing"
        );
    }
}

#[test]
fn order_and_count() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = mixed(dir.path());
    let newest = log.query(&Query::new().count(3)).unwrap();
    assert_eq!(ids(&newest), vec![600, 599, 598]);
    let oldest = log.query(&Query::new().oldest_first().count(3)).unwrap();
    assert_eq!(ids(&oldest), vec![1, 2, 3]);
    let alerts = log
        .query(&Query::new().ids(&[EventId::FatalAlertReceived]).count(2))
        .unwrap();
    assert_eq!(ids(&alerts), vec![597, 591]);
}

#[test]
fn brief_xpath_queries() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), options());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let day = 86_400 * SEC;
    log.emit(alert_received("46", now - 2 * day)); // 1: too old for timediff
    log.emit(alert_received("46", now - 60 * SEC)); // 2
    log.emit(alert_generated("48", "1205", now - 30 * SEC)); // 3
    log.emit(handshake(now - 10 * SEC, ActivityId(7))); // 4
    log.emit(record(EventId::NoSharedCipherSuite, &["TLS 1.0"], now)); // 5
    log.sync().unwrap();
    let run = |x: &str| ids(&log.query(&Query::new().xpath(x).unwrap()).unwrap());
    assert_eq!(
        run("*[System[Provider[@Name='Schannel'] and (EventID=36887 or EventID=36888) and TimeCreated[timediff(@SystemTime) <= 86400000]]]"),
        vec![3, 2]
    );
    assert_eq!(run("*[System[Level=2]]"), vec![5, 3, 2, 1]);
    assert_eq!(run("*[EventData[Data[@Name='AlertDesc']=46]]"), vec![2, 1]);
    assert_eq!(run("*[System[EventRecordID=4]]"), vec![4]);
    assert_eq!(
        run("*[System[Correlation[@ActivityID='{00000000-0000-0000-0000-000000000007}']]]"),
        vec![4]
    );
    let since = securechannel_events::format_rfc3339(now - 45 * SEC, 3);
    assert_eq!(
        run(&format!("*[System[TimeCreated[@SystemTime>='{since}']]]")),
        vec![5, 4, 3]
    );
    assert_eq!(
        run("*[System[TimeCreated[timediff(@SystemTime) > 86400000]]]"),
        vec![1]
    );
}

#[test]
fn unknown_data_field_lists_the_known_ones() {
    let e = Query::new().data("AlertDescription", "46").unwrap_err();
    assert!(e.to_string().contains("AlertDesc"), "{e}");
    assert!(e.to_string().contains("ErrorState"), "{e}");
    let e = Filter::parse_data("AlertDesc").unwrap_err();
    assert!(e.to_string().contains("NAME=VALUE"), "{e}");
}

#[test]
fn queries_use_the_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = mixed(dir.path());
    let plan = |q: Query| log.reader().explain(&q).unwrap().join(" / ");
    let by_id = plan(Query::new().ids(&[EventId::FatalAlertReceived]).count(100));
    assert!(by_id.contains("events_by_id"), "{by_id}");
    assert!(!by_id.contains("TEMP B-TREE"), "no sort needed: {by_id}");
    let by_data = plan(Query::new().data("AlertDesc", "46").unwrap().count(100));
    assert!(by_data.contains("events_by_first_field"), "{by_data}");
    // The ID index leaves out 36880: warnings and errors (a level filter) use it, the
    // XPath form too; 36880 itself is found by scanning, and still found.
    let by_level = plan(
        Query::new()
            .xpath("*[System[Level<=3]]")
            .unwrap()
            .count(100),
    );
    assert!(by_level.contains("events_by_id_but_36880"), "{by_level}");
    let by_xpath = plan(
        Query::new()
            .xpath("*[System[(EventID=36887 or EventID=36888)]]")
            .unwrap()
            .count(100),
    );
    assert!(by_xpath.contains("events_by_id_but_36880"), "{by_xpath}");
    let one = plan(Query::new().xpath("*[System[EventID=36887]]").unwrap());
    assert!(one.contains("events_by_id_but_36880"), "{one}");
    let handshakes = log
        .reader()
        .query(&Query::new().ids(&[EventId::HandshakeCompleted]))
        .unwrap();
    let all = log.reader().query(&Query::new()).unwrap();
    let expected = all
        .iter()
        .filter(|r| r.event_id == EventId::HandshakeCompleted)
        .count();
    assert!(expected > 0);
    assert_eq!(handshakes.len(), expected);
}

#[test]
fn follow_returns_new_records_as_they_are_committed() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = mixed(dir.path());
    // A reader of its own, as `schannel events --follow` in another process would have.
    let reader = LogReader::open(log.path()).unwrap();
    let start = reader.last_record_id().unwrap();
    let mut follow = reader.follow(Query::new().ids(&[EventId::FatalAlertReceived]), start);
    assert!(follow.poll().unwrap().is_empty());
    log.emit(handshake(T0, ActivityId(1)));
    log.emit(alert_received("80", T0));
    log.emit(alert_received("81", T0));
    log.sync().unwrap();
    let got = follow.wait(Duration::from_secs(5)).unwrap();
    let descs: Vec<&str> = got.iter().map(|r| &r.data[0]).collect();
    assert_eq!(descs, vec!["80", "81"], "oldest first, only matches");
    assert!(follow.wait(Duration::from_millis(200)).unwrap().is_empty());
    assert_eq!(follow.last_seen(), 603);
}

#[test]
fn a_reader_follows_the_log_across_an_archive_by_another_writer() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), options());
    log.emit(alert_received("1", T0));
    log.sync().unwrap();
    // A reader that does not share the writer's generation counter, as in another process.
    let reader = LogReader::open(log.path()).unwrap();
    let mut follow = reader.follow(Query::new(), 0);
    assert_eq!(follow.poll().unwrap().len(), 1);
    let archived = log.clear(true).unwrap().expect("archived");
    log.emit(alert_received("2", T0));
    log.sync().unwrap();
    let got = follow.wait(Duration::from_secs(5)).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].data, vec!["2".to_string()]);
    assert_eq!(got[0].record_id, 2, "numbering goes on in the new log");
    assert_eq!(LogReader::open(archived).unwrap().len().unwrap(), 1);
}

/// Time filters go through the time marks; they stay exact when times are out of record
/// order (clock steps, several emitting threads), across many commits, after retention.
#[test]
fn time_filters_are_exact_with_out_of_order_times() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), options());
    let mut state = 7u64;
    let mut jitter = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        ((state >> 33) % 600) as i64 * SEC
    };
    // 5,000 records in many small commits: times mostly rising, some far off.
    for i in 0..5_000i64 {
        let t = if i % 97 == 0 {
            T0 + jitter()
        } else {
            T0 + i * SEC / 10
        };
        log.emit(alert_received(&(i % 7).to_string(), t));
        if i % 50 == 0 {
            log.sync().unwrap();
        }
    }
    log.sync().unwrap();
    let records = all(&log);
    for (since, until) in [
        (Some(T0 + 100 * SEC), None),
        (None, Some(T0 + 50 * SEC)),
        (Some(T0 + 200 * SEC), Some(T0 + 300 * SEC)),
        (Some(T0 + 10_000 * SEC), None),
        (None, Some(T0 - SEC)),
    ] {
        let mut q = Query::new();
        let mut f = Filter::All;
        if let Some(s) = since {
            q = q.since(s);
            f = f.and(Filter::Time(Cmp::Ge, s));
        }
        if let Some(u) = until {
            q = q.until(u);
            f = f.and(Filter::Time(Cmp::Le, u));
        }
        assert_eq!(
            ids(&log.query(&q).unwrap()),
            expected(&records, &f, 0),
            "{since:?} {until:?}"
        );
        let plan = log.reader().explain(&q).unwrap().join(" / ");
        assert!(plan.contains("rowid"), "a record ID range: {plan}");
    }
    // The brief's timediff form is bounded the same way.
    let plan = log
        .reader()
        .explain(
            &Query::new()
                .xpath("*[System[TimeCreated[timediff(@SystemTime) <= 86400000]]]")
                .unwrap(),
        )
        .unwrap()
        .join(" / ");
    assert!(plan.contains("rowid"), "{plan}");
}

/// A log of many time-mark spans (a commit per 700 records, spans of up to 2,048): each
/// activity query finds exactly its records, reading the spans whose activity filter may
/// hold it; a span whose filter is missing or stale (a log from before the filters, or a
/// span an older writer extended) is read whole, so nothing is missed.
#[test]
fn activity_queries_read_only_the_spans_that_may_hold_the_activity() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), options());
    let mut t = T0;
    for batch in 0..20u128 {
        for i in 0..700u128 {
            t += 1_000;
            // Connections of two records each, all in one commit.
            log.emit(handshake(t, ActivityId((batch << 32) | (i / 2))));
        }
        log.sync().unwrap();
    }
    let reader = log.reader();
    let plan = |a: u128| {
        reader
            .explain(&Query::new().activity(ActivityId(a)))
            .unwrap()
            .join(" / ")
    };
    for (a, want) in [
        (5u128 << 32 | 17, 2usize),
        (19 << 32 | 349, 2),
        (0, 2),
        (7 << 32 | 9999, 0),
    ] {
        let got = log.query(&Query::new().activity(ActivityId(a))).unwrap();
        assert_eq!(got.len(), want, "activity {a:#x}");
        assert!(got.iter().all(|r| r.activity_id == Some(ActivityId(a))));
        // A record ID range of the table, not a scan of all of it.
        let p = plan(a);
        assert!(p.contains("INTEGER PRIMARY KEY") || want == 0, "{p}");
    }
    // The same through XPath (Correlation/@ActivityID) together with another condition.
    let guid = ActivityId((5 << 32) | 17).to_string();
    let q = Query::new()
        .xpath(&format!(
            "*[System[EventID=36880 and Correlation[@ActivityID='{guid}']]]"
        ))
        .unwrap();
    assert_eq!(log.query(&q).unwrap().len(), 2);
    drop(log);

    // Spans without a valid filter are read whole: wipe one span's filter, make another's
    // stale (as a writer that predates the filters leaves them when it extends a span).
    let db = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
    let spans: Vec<(i64, i64)> = db
        .prepare("SELECT first_id, last_id FROM time_marks ORDER BY first_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(spans.len() >= 6, "{spans:?}");
    db.execute(
        "UPDATE time_marks SET activities = NULL WHERE first_id = ?1",
        [spans[1].0],
    )
    .unwrap();
    db.execute(
        "UPDATE time_marks SET activities = zeroblob(4096), activities_records = records - 1 WHERE first_id = ?1",
        [spans[3].0],
    )
    .unwrap();
    // A record with an activity hidden from the filters: move one record's activity.
    let hidden = ActivityId(0xDEAD_BEEF);
    for span in [spans[1], spans[3]] {
        // 36880s are packed (many to a row, their activity in hex in the JSON).
        let changed = db
            .execute(
                "UPDATE packed SET rows = json_replace(rows, (SELECT '$[' || r.key || '][3]' FROM json_each(packed.rows) r WHERE packed.first_id + (r.value ->> 0) = ?2), ?1) WHERE first_id <= ?2 AND last_id >= ?2",
                rusqlite::params![format!("{:032x}", hidden.0), span.0 + 5],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    drop(db);
    let reader = LogReader::open(dir.path().join("events.db")).unwrap();
    let got = reader.query(&Query::new().activity(hidden)).unwrap();
    assert_eq!(
        ids(&got),
        vec![spans[3].0 as u64 + 5, spans[1].0 as u64 + 5],
        "records in spans without a valid filter are found"
    );
}

/// A version 2 log from before the activity filters: readers query it as before, and the
/// first writer to open it adds the columns; its old spans stay unfiltered (read whole).
#[test]
fn a_log_from_before_the_activity_filters_is_read_and_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let log = open(dir.path(), options());
    log.emit(handshake(T0, ActivityId(7)));
    log.sync().unwrap();
    drop(log);
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "ALTER TABLE time_marks DROP COLUMN activities; ALTER TABLE time_marks DROP COLUMN activities_records;",
    )
    .unwrap();
    drop(db);
    let reader = LogReader::open(&path).unwrap();
    assert_eq!(
        reader
            .query(&Query::new().activity(ActivityId(7)))
            .unwrap()
            .len(),
        1
    );
    drop(reader);
    let log = open(dir.path(), options());
    log.emit(handshake(T0 + SEC, ActivityId(8)));
    log.sync().unwrap();
    for a in [7, 8] {
        assert_eq!(
            log.query(&Query::new().activity(ActivityId(a)))
                .unwrap()
                .len(),
            1,
            "activity {a}"
        );
    }
}

/// A filter on a later data field (read from the JSON array, with a byte search first):
/// the value in another field, a prefix or an extension of it, and values JSON escapes
/// select exactly what the filter means.
#[test]
fn a_later_field_filter_matches_exactly_around_its_text_search() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path(), options());
    let names = [
        "host42.example.com",
        "host420.example.com",
        "xhost42.example.com",
        "say \"hi\"\\now",
        "tab\there",
        "1205",
    ];
    for (i, n) in names.iter().enumerate() {
        // The value also appears as the first field (AlertDesc) of another record.
        log.emit(record(
            EventId::FatalAlertGenerated,
            &["40", "1205", n],
            T0 + i as i64 * SEC,
        ));
        log.emit(record(
            EventId::FatalAlertGenerated,
            &[n, "1", "other"],
            T0 + i as i64 * SEC,
        ));
    }
    log.sync().unwrap();
    let records = all(&log);
    for n in names
        .iter()
        .chain(&["host4", "42.example.com", "\"1205\"", "tab"])
    {
        let f = Filter::data_eq("TargetName", n).unwrap();
        let got = ids(&log.query(&Query::new().filter(f.clone())).unwrap());
        let want = expected(&records, &f, T0);
        assert_eq!(got, want, "TargetName={n:?}");
        assert_eq!(
            got.len(),
            usize::from(names.contains(n)),
            "TargetName={n:?}"
        );
    }
}
