#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Issue 11: nothing counts twice, and no event from the future moves the clock.

use tripline_ingest::{Item, Limits, LogReader, ReadStats};
use tripline_model::{Event, RejectReason, Rejected, Timestamp};

fn record(id: &str, action: &str, time: &str) -> String {
    serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ci",
            "accountId": "111122223333", "accessKeyId": "AKIAEXAMPLE1", "userName": "ci"},
        "eventTime": time, "eventSource": "s3.amazonaws.com", "eventName": action,
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.15",
        "eventID": id, "eventType": "AwsApiCall", "recipientAccountId": "111122223333"
    })
    .to_string()
}

fn reader() -> LogReader {
    let mut r = LogReader::new(Limits::default());
    r.now = Timestamp::parse("2026-06-01T00:00:00Z");
    r
}

fn read_paths(paths: &[std::path::PathBuf]) -> (Vec<Event>, Vec<Rejected>, ReadStats) {
    let (mut events, mut rejected) = (Vec::new(), Vec::new());
    let stats = reader().read_paths(paths, &mut |i| match i {
        Item::Event(e) => events.push(*e),
        Item::Rejected(r) => rejected.push(r),
    });
    (events, rejected, stats)
}

fn accounted(s: &ReadStats) {
    assert_eq!(
        s.records,
        s.events + s.rejected_total() + s.k8s_non_final_stages + s.duplicate_events,
        "{s:?}"
    );
}

#[test]
fn the_same_logs_given_twice_count_once() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = [
        record("e1", "ListBuckets", "2026-01-01T00:00:00Z"),
        record("e2", "GetObject", "2026-01-01T00:01:00Z"),
    ]
    .join("\n");
    let a = tmp.path().join("a.jsonl");
    let b = tmp.path().join("copy.jsonl");
    std::fs::write(&a, &lines).unwrap();
    std::fs::write(&b, &lines).unwrap();
    let (events, rejected, stats) = read_paths(&[a.clone(), b, a]);
    assert_eq!(events.len(), 2);
    assert!(rejected.is_empty());
    assert_eq!(stats.duplicate_events, 4);
    accounted(&stats);
}

#[test]
fn one_event_id_with_different_content_is_a_conflict() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = [
        record("e1", "ListBuckets", "2026-01-01T00:00:00Z"),
        record("e1", "DeleteBucket", "2026-01-01T00:00:00Z"),
        record("e1", "PutBucketPolicy", "2026-01-01T00:00:00Z"),
    ]
    .join("\n");
    let a = tmp.path().join("a.jsonl");
    std::fs::write(&a, lines).unwrap();
    let (events, rejected, stats) = read_paths(&[a]);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].action, "s3:ListBuckets", "the first is kept");
    assert_eq!(rejected.len(), 2);
    assert!(rejected
        .iter()
        .all(|r| r.reason == RejectReason::DuplicateIdConflict && r.detail.contains("\"e1\"")));
    assert_eq!(stats.duplicate_events, 0);
    accounted(&stats);
}

#[test]
fn an_event_far_in_the_future_is_rejected_and_does_not_move_the_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = [
        record("e1", "ListBuckets", "2026-01-01T00:00:00Z"),
        record("e2", "ListBuckets", "9999-12-31T23:59:59Z"),
        // Within the default 15-minute tolerance of the reader's clock: kept.
        record("e3", "ListBuckets", "2026-06-01T00:10:00Z"),
        record("e4", "ListBuckets", "2026-06-01T00:20:00Z"),
    ]
    .join("\n");
    let a = tmp.path().join("a.jsonl");
    std::fs::write(&a, lines).unwrap();
    let (events, rejected, stats) = read_paths(&[a]);
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e1", "e3"]);
    assert_eq!(rejected.len(), 2);
    assert!(rejected
        .iter()
        .all(|r| r.reason == RejectReason::FutureTimestamp));
    assert_eq!(
        events.iter().map(|e| e.time).max(),
        Timestamp::parse("2026-06-01T00:10:00Z")
    );
    accounted(&stats);
}

#[test]
fn a_byte_order_mark_does_not_reject_the_first_record_or_a_document() {
    let tmp = tempfile::tempdir().unwrap();
    let jsonl = format!(
        "\u{feff}{}\n{}\n",
        record("b1", "ListBuckets", "2026-01-01T00:00:00Z"),
        record("b2", "ListBuckets", "2026-01-01T00:00:01Z")
    );
    let doc = format!(
        "\u{feff}{{\"Records\": [{}]}}",
        record("b3", "ListBuckets", "2026-01-01T00:00:02Z")
    );
    let v: serde_json::Value =
        serde_json::from_str(&record("b4", "ListBuckets", "2026-01-01T00:00:03Z")).unwrap();
    let pretty = format!("\u{feff}{}", serde_json::to_string_pretty(&v).unwrap());
    for (name, text) in [("a.jsonl", &jsonl), ("b.json", &doc), ("c.json", &pretty)] {
        std::fs::write(tmp.path().join(name), text).unwrap();
    }
    let (events, rejected, stats) = read_paths(&[tmp.path().to_path_buf()]);
    assert!(rejected.is_empty(), "{rejected:#?}");
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["b1", "b2", "b3", "b4"]);
    accounted(&stats);
    // From memory too.
    let mut stats = ReadStats::default();
    let mut n = 0;
    reader().read_bytes("mem", doc.as_bytes(), &mut stats, &mut |i| {
        assert!(matches!(i, Item::Event(_)), "{i:?}");
        n += 1;
    });
    assert_eq!(n, 1);
}

#[cfg(unix)]
#[test]
fn a_pretty_printed_record_from_a_fifo_is_read_once_not_reopened() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("in.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let v: serde_json::Value =
        serde_json::from_str(&record("f1", "ListBuckets", "2026-01-01T00:00:00Z")).unwrap();
    let text = serde_json::to_string_pretty(&v).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, text).unwrap())
    };
    // Before: the reader found a multi-line document and reopened the FIFO (a hang).
    let (events, rejected, stats) = read_paths(&[fifo]);
    writer.join().unwrap();
    assert!(rejected.is_empty(), "{rejected:#?}");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].id, "f1");
    accounted(&stats);
}
