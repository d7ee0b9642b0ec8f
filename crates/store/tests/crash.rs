//! Crash safety: an append is one SQLite transaction, so an interrupted append leaves the whole
//! record (or batch) or nothing, and the chain still verifies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{entry, ledger};
use rusqlite::{params, Connection};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tripline_store::*;

#[test]
fn an_uncommitted_append_leaves_nothing() {
    let l = ledger(5);
    let (seq, prev) = l.ev.head().unwrap();
    {
        // A writer that dies before COMMIT: a valid next record, inserted, never committed.
        let mut c = Connection::open(&l.path).unwrap();
        let tx = c.transaction().unwrap();
        let at = "2024-07-30T22:00:00.000Z";
        let hash = record_hash(&prev, seq + 1, at, "note", "x", "{}");
        tx.execute(
            "INSERT INTO evidence VALUES (?1, ?2, 'note', 'x', '{}', ?3, ?4)",
            params![(seq + 1) as i64, at, prev, hash],
        )
        .unwrap();
        // Dropped without commit: rolled back, as a crash would leave it.
    }
    assert_eq!(
        l.ev.verify().unwrap(),
        VerifyReport::Ok {
            records: 5,
            head_hash: prev.clone()
        }
    );
    assert!(l
        .ev
        .records(&RecordFilter::all().subject("x"))
        .unwrap()
        .is_empty());
    let mut ev = Evidence::open(&l.path).unwrap();
    assert_eq!(ev.append_batch(&[entry(6)]).unwrap().first_seq, Some(6));
}

const CHILD_ENV: &str = "TRIPLINE_STORE_CRASH_CHILD_DB";
const BATCH: usize = 250;

/// Not a test on its own: the child process of `kill_9_mid_append_leaves_whole_batches`.
#[test]
fn crash_child_appends_until_killed() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut ev = Evidence::open(path).unwrap();
    let started = Instant::now();
    let mut n = 0u64;
    // Bounded: the parent kills it long before this ends.
    while started.elapsed() < Duration::from_secs(60) {
        let batch: Vec<Entry> = (0..BATCH as u64).map(|i| entry(n + i)).collect();
        ev.append_batch(&batch).unwrap();
        n += BATCH as u64;
    }
}

#[test]
fn kill_9_mid_append_leaves_whole_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    drop(Evidence::open(&path).unwrap());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child_appends_until_killed",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let reader = Connection::open(&path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = reader
            .query_row("SELECT COUNT(*) FROM evidence", [], |r| r.get(0))
            .unwrap_or(0);
        if n >= 5 * BATCH as i64 {
            break;
        }
        assert!(Instant::now() < deadline, "child wrote only {n} records");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no rollback, mid-batch most likely
    child.wait().unwrap();
    drop(reader);

    let ev = Evidence::open(&path).unwrap();
    match ev.verify().unwrap() {
        VerifyReport::Ok { records, .. } => {
            assert!(records >= 5 * BATCH as u64);
            assert_eq!(
                records % BATCH as u64,
                0,
                "a partial batch survived: {records}"
            );
        }
        other => panic!("{other}"),
    }
}
