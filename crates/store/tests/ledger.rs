//! The ledger's API: appends, the chain they build, SQL-level append-only rules, queries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{entry, ledger, T0};
use rusqlite::Connection;
use serde_json::json;
use sha2::{Digest, Sha256};
use tripline_model::{Assessment, Driver, Drivers, Level, Severity, Signal, Timestamp};
use tripline_store::*;

fn sha_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn empty_ledger_verifies_with_the_genesis_head() {
    let l = ledger(0);
    assert_eq!(
        l.ev.verify().unwrap(),
        VerifyReport::Ok {
            records: 0,
            head_hash: GENESIS_HASH.into()
        }
    );
    assert_eq!(l.ev.head().unwrap(), (0, GENESIS_HASH.to_string()));
    assert!(l.ev.is_empty().unwrap());
}

#[test]
fn hash_is_the_documented_formula_over_canonical_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut ev = Evidence::open(dir.path().join("e.db")).unwrap();
    // Keys out of order and nested: the hash covers the canonical form.
    let body = json!({"z": 1, "a": {"y": "two\nlines", "b": [true, null, 0.5]}});
    let r1 = ev.append(Kind::Note, "svc-a", &body, T0).unwrap();
    let canonical = r#"{"a":{"b":[true,null,0.5],"y":"two\nlines"},"z":1}"#;
    assert_eq!(r1.body, canonical);
    assert_eq!(r1.seq, 1);
    assert_eq!(r1.prev_hash, "0".repeat(64));
    let expected = sha_hex(&format!(
        "{}\n1\n2024-07-30T21:31:10.250Z\nnote\nsvc-a\n{canonical}",
        "0".repeat(64)
    ));
    assert_eq!(r1.hash, expected);
    // Pinned: a change to the definition (or to canonical JSON) breaks every existing ledger.
    assert_eq!(
        r1.hash,
        "3abd62969882c98ff5c551a9337382735e0f55f649cca5c3d739a86695e4bd9e"
    );

    let r2 = ev
        .append(Kind::Signal, "svc-a", &json!({}), Timestamp(T0.0 + 1))
        .unwrap();
    assert_eq!(r2.seq, 2);
    assert_eq!(r2.prev_hash, r1.hash);
    assert_eq!(
        r2.hash,
        sha_hex(&format!(
            "{}\n2\n2024-07-30T21:31:10.251Z\nsignal\nsvc-a\n{{}}",
            r1.hash
        ))
    );
    assert_eq!(
        record_hash(
            &r1.hash,
            2,
            "2024-07-30T21:31:10.251Z",
            "signal",
            "svc-a",
            "{}"
        ),
        r2.hash
    );
}

#[test]
fn key_order_does_not_change_the_hash() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let mut ea = Evidence::open(a.path().join("e.db")).unwrap();
    let mut eb = Evidence::open(b.path().join("e.db")).unwrap();
    let mut m1 = serde_json::Map::new();
    m1.insert("x".into(), json!(1));
    m1.insert("a".into(), json!({"q": 1, "p": 2}));
    let mut m2 = serde_json::Map::new();
    m2.insert("a".into(), json!({"p": 2, "q": 1}));
    m2.insert("x".into(), json!(1));
    let ra = ea.append(Kind::Note, "s", &m1.into(), T0).unwrap();
    let rb = eb.append(Kind::Note, "s", &m2.into(), T0).unwrap();
    assert_eq!(ra.hash, rb.hash);
}

#[test]
fn reopening_continues_the_chain() {
    let l = ledger(5);
    let head = l.ev.head().unwrap();
    drop(l.ev);
    let mut ev = Evidence::open(&l.path).unwrap();
    assert_eq!(ev.head().unwrap(), head);
    let r = ev
        .append(Kind::Note, "x", &json!({"after": "reopen"}), T0)
        .unwrap();
    assert_eq!((r.seq, r.prev_hash.as_str()), (6, head.1.as_str()));
    assert!(ev.verify().unwrap().is_ok());
}

#[test]
fn opening_sets_wal_and_full_sync() {
    let l = ledger(1);
    let c = Connection::open(&l.path).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn a_newer_schema_is_refused() {
    let l = ledger(1);
    drop(l.ev);
    let c = Connection::open(&l.path).unwrap();
    c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(c);
    assert!(matches!(
        Evidence::open(&l.path),
        Err(StoreError::UnsupportedSchema { .. })
    ));
}

#[test]
fn batch_appends_in_order_and_empty_batch_is_a_no_op() {
    let mut l = ledger(3);
    let entries: Vec<Entry> = (10..20).map(entry).collect();
    let a = l.ev.append_batch(&entries).unwrap();
    assert_eq!((a.count, a.first_seq, a.last_seq), (10, Some(4), 13));
    assert_eq!(a.head_hash, l.ev.head().unwrap().1);
    let none = l.ev.append_batch(&[]).unwrap();
    assert_eq!((none.count, none.first_seq, none.last_seq), (0, None, 13));
    assert_eq!(
        l.ev.verify().unwrap(),
        VerifyReport::Ok {
            records: 13,
            head_hash: a.head_hash
        }
    );
}

#[test]
fn a_bad_entry_rolls_back_the_whole_batch() {
    let mut l = ledger(3);
    let head = l.ev.head().unwrap();
    let mut entries: Vec<Entry> = (10..15).map(entry).collect();
    entries[3].at = Timestamp(i64::MAX / 2); // year out of range
    assert!(matches!(
        l.ev.append_batch(&entries),
        Err(StoreError::TimeOutOfRange(_))
    ));
    assert_eq!(l.ev.head().unwrap(), head);
    assert_eq!(l.ev.len().unwrap(), 3);
}

#[test]
fn two_handles_on_one_file_interleave_without_breaking_the_chain() {
    let mut l = ledger(0);
    let mut other = Evidence::open(&l.path).unwrap();
    for i in 0..20 {
        let ev = if i % 2 == 0 { &mut l.ev } else { &mut other };
        ev.append(Kind::Note, "n", &json!({"i": i}), T0).unwrap();
    }
    other.append_batch(&[entry(1), entry(2)]).unwrap();
    assert_eq!(l.ev.verify().unwrap(), other.verify().unwrap());
    assert!(matches!(
        l.ev.verify().unwrap(),
        VerifyReport::Ok { records: 22, .. }
    ));
}

#[test]
fn sql_refuses_updates_deletes_and_out_of_chain_inserts() {
    let l = ledger(5);
    let c = Connection::open(&l.path).unwrap();
    let refused = |sql: &str| {
        let err = c.execute_batch(sql).expect_err(sql).to_string();
        assert!(
            err.contains("append-only") || err.contains("evidence head"),
            "{sql}: {err}"
        );
    };
    refused("UPDATE evidence SET body = '{}' WHERE seq = 2");
    refused("UPDATE evidence SET seq = 99 WHERE seq = 5");
    refused("DELETE FROM evidence WHERE seq = 5");
    refused("DELETE FROM evidence");
    // REPLACE would delete the old row without firing delete triggers: the insert rule stops it.
    refused(
        "INSERT OR REPLACE INTO evidence VALUES (3, '2024-01-01T00:00:00.000Z', 'note', 's', '{}', 'x', 'y')",
    );
    // Next seq but not linked to the last hash.
    refused(&format!(
        "INSERT INTO evidence VALUES (6, '2024-01-01T00:00:00.000Z', 'note', 's', '{{}}', '{}', 'y')",
        GENESIS_HASH
    ));
    refused("UPDATE evidence_head SET seq = 4");
    refused("DELETE FROM evidence_head");
    refused("INSERT OR REPLACE INTO evidence_head VALUES (1, 0, 'x')");
    assert!(l.ev.verify().unwrap().is_ok());
    assert_eq!(l.ev.len().unwrap(), 5);
}

#[test]
fn reopening_restores_dropped_triggers() {
    let l = ledger(2);
    drop(common::attacker(&l.path));
    drop(Evidence::open(&l.path).unwrap());
    let c = Connection::open(&l.path).unwrap();
    assert!(c.execute("DELETE FROM evidence WHERE seq = 2", []).is_err());
}

#[test]
fn records_filter_by_kind_subject_time_and_page() {
    let l = ledger(40);
    let all = l.ev.records(&RecordFilter::all()).unwrap();
    assert_eq!(all.len(), 40);
    assert!(all
        .windows(2)
        .all(|w| w[0].seq + 1 == w[1].seq && w[1].prev_hash == w[0].hash));

    let signals =
        l.ev.records(&RecordFilter::all().kind(Kind::Signal))
            .unwrap();
    assert_eq!(signals.len(), 5);
    assert!(signals.iter().all(|r| r.kind == Kind::Signal));

    let subject = "arn:aws:iam::123456789012:role/svc-1";
    let mine =
        l.ev.records(&RecordFilter::all().subject(subject).kind(Kind::Note))
            .unwrap();
    assert!(!mine.is_empty());
    assert!(mine
        .iter()
        .all(|r| r.subject == subject && r.kind == Kind::Note));

    // Record i is at T0 + i s: [T0+10s, T0+20s) holds seq 10..=19.
    let window =
        l.ev.records(
            &RecordFilter::all()
                .since(Timestamp(T0.0 + 10_000))
                .until(Timestamp(T0.0 + 20_000)),
        )
        .unwrap();
    assert_eq!(
        window.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (10..20).collect::<Vec<_>>()
    );
    assert_eq!(window[0].at, Timestamp(T0.0 + 10_000));

    let page =
        l.ev.records(&RecordFilter::all().after_seq(30).limit(4))
            .unwrap();
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![31, 32, 33, 34]
    );
    assert_eq!(page[0].body_json().unwrap()["i"], json!(31));
}

fn assessment() -> Assessment {
    Assessment {
        identity: "arn:aws:iam::123456789012:user/ci-deployer".into(),
        score: 72.5,
        level: Level::Critical,
        drivers: Drivers {
            privilege: 0.9,
            exposure: 0.4,
            behaviour: 0.6,
        },
        signals: vec![signal()],
        formula: "100 × (1 − (1 − 0.9)(1 − 0.4)(1 − 0.6))".into(),
        next_step: "rotate the key".into(),
        scored_at: Some(T0),
    }
}

fn signal() -> Signal {
    Signal {
        code: "BEH_NEW_NETWORK".into(),
        driver: Driver::Behaviour,
        severity: Severity::High,
        summary: "first call from a new network".into(),
        event_ids: vec!["e1".into(), "e2".into()],
        occurrences: 2,
        first_seen: Some(T0),
        last_seen: Some(T0),
        frameworks: vec!["OWASP-NHI:NHI5".into()],
        points: 31.25,
    }
}

#[test]
fn typed_bodies_carry_their_kind_and_read_back() {
    let mut l = ledger(0);
    let a = assessment();
    let id = a.identity.as_str();
    let entries = vec![
        Entry::of(
            "scan",
            &InputSummary {
                files: 3,
                records: 100,
                events: 97,
                rejected: [("not_json".to_string(), 3)].into(),
            },
            T0,
        )
        .unwrap(),
        Entry::of(id, &a.signals[0], T0).unwrap(),
        Entry::of(id, &Score::of(&a), T0).unwrap(),
        Entry::of(
            "default",
            &PolicyVersion::of("default", "package tripline", b"{}"),
            T0,
        )
        .unwrap(),
        Entry::of(
            id,
            &Decision {
                identity: id.into(),
                tier: "contain".into(),
                actions: vec!["deactivate_key".into()],
                reasons: vec!["score 72.5 ≥ 70".into()],
                expires: Some(Timestamp(T0.0 + 86_400_000)),
            },
            T0,
        )
        .unwrap(),
        Entry::of(
            id,
            &Approval {
                who: "alice@example.com".into(),
                what: "act-1".into(),
                verdict: "approved".into(),
                reason: None,
            },
            T0,
        )
        .unwrap(),
        Entry::of(
            id,
            &Action {
                action_id: "act-1".into(),
                identity: id.into(),
                phase: Phase::Apply,
                result: "ok".into(),
                undo: Some(json!({"call": "iam:UpdateAccessKey", "status": "Active"})),
            },
            T0,
        )
        .unwrap(),
        Entry::of(
            id,
            &Note {
                text: "owner paged".into(),
            },
            T0,
        )
        .unwrap(),
    ];
    l.ev.append_batch(&entries).unwrap();
    let kinds: Vec<Kind> =
        l.ev.records(&RecordFilter::all())
            .unwrap()
            .iter()
            .map(|r| r.kind)
            .collect();
    assert_eq!(kinds, Kind::ALL.to_vec());

    let sig = &l
        .ev
        .records(&RecordFilter::all().kind(Kind::Signal))
        .unwrap()[0];
    assert_eq!(sig.body_as::<Signal>().unwrap(), signal());
    let score = &l
        .ev
        .records(&RecordFilter::all().kind(Kind::Score))
        .unwrap()[0];
    let score: Score = score.body_as().unwrap();
    assert_eq!((score.score, score.level), (72.5, Level::Critical));
    assert_eq!(score.contributions[0].code, "BEH_NEW_NETWORK");
    let policy: PolicyVersion =
        l.ev.records(&RecordFilter::all().kind(Kind::PolicyVersion))
            .unwrap()[0]
            .body_as()
            .unwrap();
    assert_eq!(policy.policy_sha256, sha256_hex(b"package tripline"));
    assert!(l.ev.verify().unwrap().is_ok());
}

#[test]
fn times_keep_milliseconds_and_out_of_range_times_are_refused() {
    let mut l = ledger(0);
    let r =
        l.ev.append(Kind::Note, "s", &json!(null), Timestamp(-1))
            .unwrap();
    assert_eq!(
        l.ev.records(&RecordFilter::all()).unwrap()[0].at,
        Timestamp(-1)
    );
    assert_eq!(r.at, Timestamp(-1));
    assert!(matches!(
        l.ev.append(Kind::Note, "s", &json!(null), Timestamp(i64::MIN / 2)),
        Err(StoreError::TimeOutOfRange(_))
    ));
}
