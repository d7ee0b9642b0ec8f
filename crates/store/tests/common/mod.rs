#![allow(dead_code)]

use rusqlite::Connection;
use serde_json::json;
use std::path::{Path, PathBuf};
use tripline_model::Timestamp;
use tripline_store::{Entry, Evidence, Kind};

pub const T0: Timestamp = Timestamp(1_722_375_070_250); // 2024-07-30T21:31:10.250Z

pub struct Ledger {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub ev: Evidence,
}

/// A ledger with `n` records of mixed kinds, seq 1..=n.
pub fn ledger(n: u64) -> Ledger {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.db");
    let mut ev = Evidence::open(&path).unwrap();
    let entries: Vec<Entry> = (1..=n).map(entry).collect();
    ev.append_batch(&entries).unwrap();
    Ledger { dir, path, ev }
}

pub fn entry(i: u64) -> Entry {
    let kind = Kind::ALL[(i as usize) % Kind::ALL.len()];
    Entry::new(
        kind,
        format!("arn:aws:iam::123456789012:role/svc-{}", i % 3),
        json!({"i": i, "note": format!("record {i}"), "nested": {"b": [1, 2.5, null], "a": true}}),
        Timestamp(T0.0 + i as i64 * 1000),
    )
}

/// A raw connection to the ledger file with every protective trigger dropped: an attacker with
/// the file.
pub fn attacker(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    let triggers: Vec<String> = c
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in triggers {
        c.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
    }
    c
}
