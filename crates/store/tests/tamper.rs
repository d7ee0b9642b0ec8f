//! Tamper evidence: every way of changing the record of what happened is caught and named,
//! in the SQLite ledger and in an exported bundle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{attacker, ledger};
use rusqlite::params;
use std::fs;
use tripline_store::*;

fn broken(seq: u64, problem: Problem) -> VerifyReport {
    VerifyReport::Broken { seq, problem }
}

/// Runs `sql` as an attacker on a fresh 10-record ledger and returns what verify says.
fn verify_after(sql: &str) -> VerifyReport {
    let l = ledger(10);
    assert!(l.ev.verify().unwrap().is_ok());
    attacker(&l.path).execute_batch(sql).unwrap();
    l.ev.verify().unwrap()
}

#[test]
fn an_altered_field_is_named() {
    for sql in [
        "UPDATE evidence SET body = replace(body, 'record 4', 'record 5') WHERE seq = 4",
        "UPDATE evidence SET subject = 'someone-else' WHERE seq = 4",
        "UPDATE evidence SET at = '2030-01-01T00:00:00.000Z' WHERE seq = 4",
        "UPDATE evidence SET kind = 'note' WHERE seq = 4 AND kind <> 'note'",
    ] {
        assert_eq!(verify_after(sql), broken(4, Problem::Altered), "{sql}");
    }
}

#[test]
fn a_changed_hash_is_named() {
    assert_eq!(
        verify_after(
            "UPDATE evidence SET hash = (CASE WHEN substr(hash, 1, 1) = 'f' THEN 'e' ELSE 'f' END)
             || substr(hash, 2) WHERE seq = 7"
        ),
        broken(7, Problem::Altered)
    );
}

#[test]
fn a_changed_prev_hash_is_named() {
    assert_eq!(
        verify_after(&format!(
            "UPDATE evidence SET prev_hash = '{GENESIS_HASH}' WHERE seq = 7"
        )),
        broken(7, Problem::Unlinked)
    );
}

#[test]
fn a_deleted_record_is_named() {
    assert_eq!(
        verify_after("DELETE FROM evidence WHERE seq = 5"),
        broken(5, Problem::Missing { next: Some(6) })
    );
    assert_eq!(
        verify_after("DELETE FROM evidence WHERE seq = 1"),
        broken(1, Problem::Missing { next: Some(2) })
    );
    // The last records: the chain is consistent, the head marker says it went further.
    assert_eq!(
        verify_after("DELETE FROM evidence WHERE seq >= 9"),
        broken(9, Problem::Missing { next: None })
    );
    assert_eq!(
        verify_after("DELETE FROM evidence"),
        broken(1, Problem::Missing { next: None })
    );
}

#[test]
fn swapped_records_are_named() {
    assert_eq!(
        verify_after(
            "UPDATE evidence SET seq = -4 WHERE seq = 4;
             UPDATE evidence SET seq = 4 WHERE seq = 3;
             UPDATE evidence SET seq = 3 WHERE seq = -4;"
        ),
        broken(3, Problem::Unlinked)
    );
}

#[test]
fn a_forged_record_with_a_recomputed_hash_breaks_the_next_link() {
    let l = ledger(10);
    let r4 = &l
        .ev
        .records(&RecordFilter::all().after_seq(3).limit(1))
        .unwrap()[0];
    let body = r4.body.replace("record 4", "nothing to see");
    let at = "2024-07-30T21:31:14.250Z";
    let hash = record_hash(&r4.prev_hash, 4, at, r4.kind.as_str(), &r4.subject, &body);
    attacker(&l.path)
        .execute(
            "UPDATE evidence SET body = ?1, hash = ?2 WHERE seq = 4",
            params![body, hash],
        )
        .unwrap();
    assert_eq!(l.ev.verify().unwrap(), broken(5, Problem::Unlinked));
}

#[test]
fn a_forged_last_record_disagrees_with_the_head_marker() {
    let l = ledger(10);
    let r =
        l.ev.records(&RecordFilter::all().after_seq(9))
            .unwrap()
            .remove(0);
    let hash = record_hash(
        &r.prev_hash,
        10,
        "2024-07-30T21:31:20.250Z",
        r.kind.as_str(),
        "other",
        &r.body,
    );
    attacker(&l.path)
        .execute(
            "UPDATE evidence SET subject = 'other', hash = ?1 WHERE seq = 10",
            params![hash],
        )
        .unwrap();
    assert_eq!(l.ev.verify().unwrap(), broken(10, Problem::HeadMismatch));
}

#[test]
fn a_record_appended_outside_the_ledger_is_named() {
    let l = ledger(10);
    let (seq, prev) = l.ev.head().unwrap();
    let at = "2024-07-30T21:40:00.000Z";
    let hash = record_hash(&prev, seq + 1, at, "note", "x", "{}");
    attacker(&l.path)
        .execute(
            "INSERT INTO evidence VALUES (?1, ?2, 'note', 'x', '{}', ?3, ?4)",
            params![(seq + 1) as i64, at, prev, hash],
        )
        .unwrap();
    assert_eq!(l.ev.verify().unwrap(), broken(11, Problem::HeadMismatch));
}

#[test]
fn a_full_rewrite_shows_only_as_a_different_head() {
    // The limit of a hash chain: recomputing everything from seq 4 on (and the head marker)
    // verifies, so the head hash must be published elsewhere to catch it.
    let l = ledger(10);
    let published = l.ev.head().unwrap().1;
    let records = l.ev.records(&RecordFilter::all()).unwrap();
    let c = attacker(&l.path);
    let mut prev = records[2].hash.clone();
    for r in &records[3..] {
        let subject = format!("{}-rewritten", r.subject);
        let at = format!("2024-07-30T21:31:{:02}.250Z", 10 + r.seq);
        let hash = record_hash(&prev, r.seq, &at, r.kind.as_str(), &subject, &r.body);
        c.execute(
            "UPDATE evidence SET subject = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            params![subject, prev, hash, r.seq as i64],
        )
        .unwrap();
        prev = hash;
    }
    c.execute("UPDATE evidence_head SET hash = ?1", params![prev])
        .unwrap();
    match l.ev.verify().unwrap() {
        VerifyReport::Ok {
            records: 10,
            head_hash,
        } => assert_ne!(head_hash, published),
        other => panic!("{other:?}"),
    }
}

#[test]
fn editing_the_database_file_bytes_is_caught() {
    let l = ledger(10);
    drop(l.ev); // last connection: the WAL is checkpointed into the main file
    let mut bytes = fs::read(&l.path).unwrap();
    let needle = b"\"record 7\"";
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    bytes[at + 8] = b'8'; // "record 7" → "record 8", same length
    fs::write(&l.path, bytes).unwrap();
    let ev = Evidence::open(&l.path).unwrap();
    assert_eq!(ev.verify().unwrap(), broken(7, Problem::Altered));
}

#[test]
fn a_tampered_ledger_is_not_exported() {
    let l = ledger(10);
    attacker(&l.path)
        .execute_batch("DELETE FROM evidence WHERE seq = 6")
        .unwrap();
    let out = l.dir.path().join("bundle");
    match l.ev.export(&out) {
        Err(StoreError::Tampered { seq: 6, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert!(!out.join("evidence.jsonl").exists());
    assert!(!out.join("manifest.json").exists());
}

// ---- bundles --------------------------------------------------------------------------------

struct Bundle {
    _l: common::Ledger,
    dir: std::path::PathBuf,
}

fn bundle(n: u64) -> (Bundle, ExportSummary) {
    let l = ledger(n);
    let dir = l.dir.path().join("bundle");
    let summary = l.ev.export(&dir).unwrap();
    (Bundle { _l: l, dir }, summary)
}

impl Bundle {
    fn lines(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("evidence.jsonl"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
    fn set_lines(&self, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        fs::write(self.dir.join("evidence.jsonl"), text).unwrap();
    }
    fn verify(&self) -> VerifyReport {
        verify_bundle(&self.dir).unwrap()
    }
}

#[test]
fn an_exported_bundle_verifies_without_sqlite() {
    let (b, summary) = bundle(25);
    let m = &summary.manifest;
    assert_eq!(
        (m.records, m.first_seq, m.last_seq, m.format_version),
        (25, Some(1), Some(25), 2)
    );
    let expected = VerifyReport::Ok {
        records: 25,
        head_hash: m.head_hash.clone(),
    };
    assert_eq!(b._l.ev.verify().unwrap(), expected);
    assert_eq!(b.verify(), expected);
    assert_eq!(
        verify_bundle(b.dir.join("manifest.json")).unwrap(),
        expected
    );
    assert_eq!(
        verify_bundle(b.dir.join("evidence.jsonl")).unwrap(),
        expected
    );
    assert_eq!(
        sha256_hex(&fs::read(b.dir.join("evidence.jsonl")).unwrap()),
        m.evidence_sha256
    );
    // Every field is on each line; the body is the canonical text that was hashed.
    let first: serde_json::Value = serde_json::from_str(&b.lines()[0]).unwrap();
    let rec = &b._l.ev.records(&RecordFilter::all().limit(1)).unwrap()[0];
    assert_eq!(first["seq"], 1);
    assert_eq!(first["at"], "2024-07-30T21:31:11.250Z");
    assert_eq!(first["hash"], rec.hash.as_str());
    assert!(b.lines()[0].contains(&format!("\"body\":{},", rec.body)));
}

#[test]
fn export_is_deterministic_and_empty_ledgers_export() {
    let (b, _) = bundle(8);
    let again = b.dir.with_file_name("again");
    b._l.ev.export(&again).unwrap();
    for f in ["evidence.jsonl", "manifest.json"] {
        assert_eq!(
            fs::read(b.dir.join(f)).unwrap(),
            fs::read(again.join(f)).unwrap()
        );
    }
    let (empty, s) = bundle(0);
    assert_eq!((s.manifest.records, s.manifest.first_seq), (0, None));
    assert_eq!(
        empty.verify(),
        VerifyReport::Ok {
            records: 0,
            head_hash: GENESIS_HASH.into()
        }
    );
}

#[test]
fn a_tampered_bundle_line_is_named() {
    let (b, _) = bundle(10);
    let mut lines = b.lines();
    lines[3] = lines[3].replace("record 4", "record 9");
    b.set_lines(&lines);
    assert_eq!(b.verify(), broken(4, Problem::Altered));
}

#[test]
fn a_reformatted_body_is_an_alteration() {
    let (b, _) = bundle(10);
    let mut lines = b.lines();
    lines[5] = lines[5].replace("\"nested\":{", "\"nested\": {");
    b.set_lines(&lines);
    assert_eq!(b.verify(), broken(6, Problem::Altered));
}

#[test]
fn deleted_reordered_and_duplicated_bundle_lines_are_named() {
    let (b, _) = bundle(10);
    let orig = b.lines();

    let mut lines = orig.clone();
    lines.remove(4);
    b.set_lines(&lines);
    assert_eq!(b.verify(), broken(5, Problem::Missing { next: Some(6) }));

    let mut lines = orig.clone();
    lines.swap(2, 3);
    b.set_lines(&lines);
    assert_eq!(b.verify(), broken(3, Problem::Missing { next: Some(4) }));

    let mut lines = orig.clone();
    lines.insert(3, orig[2].clone());
    b.set_lines(&lines);
    assert_eq!(b.verify(), broken(3, Problem::OutOfOrder { after: 3 }));

    // The last line: the manifest says the chain went further.
    let mut lines = orig.clone();
    lines.pop();
    b.set_lines(&lines);
    assert_eq!(b.verify(), broken(10, Problem::Missing { next: None }));
}

#[test]
fn garbage_and_truncated_lines_are_malformed() {
    let (b, _) = bundle(10);
    let mut lines = b.lines();
    lines[6] = "{not json".into();
    b.set_lines(&lines);
    assert!(matches!(
        b.verify(),
        VerifyReport::Broken {
            seq: 7,
            problem: Problem::Malformed { .. }
        }
    ));

    let text = b.lines().join("\n"); // no final newline: a cut file
    fs::write(b.dir.join("evidence.jsonl"), &text[..text.len() - 5]).unwrap();
    assert!(matches!(
        b.verify(),
        VerifyReport::Broken {
            seq: 7,
            problem: Problem::Malformed { .. }
        }
    ));
}

#[test]
fn the_manifest_anchors_the_bundle() {
    let (b, s) = bundle(10);
    let manifest = b.dir.join("manifest.json");
    let text = fs::read_to_string(&manifest).unwrap();

    fs::write(&manifest, text.replace(&s.manifest.head_hash, GENESIS_HASH)).unwrap();
    assert_eq!(b.verify(), broken(10, Problem::HeadMismatch));

    // Records intact but the file is not the one exported (whitespace outside the bodies).
    fs::write(&manifest, &text).unwrap();
    let mut lines = b.lines();
    lines[0] = lines[0].replace("{\"seq\":1,", "{\"seq\": 1,");
    b.set_lines(&lines);
    assert!(matches!(b.verify(), VerifyReport::BadManifest { .. }));

    fs::write(&manifest, "{}").unwrap();
    assert!(matches!(b.verify(), VerifyReport::BadManifest { .. }));
    fs::remove_file(&manifest).unwrap();
    assert!(matches!(verify_bundle(&b.dir), Err(StoreError::Io { .. })));
}
