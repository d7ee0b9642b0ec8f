//! Issue 11 regressions at the CLI: no input, policy or identity crashes, hangs or exhausts a
//! run, and nothing counts twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;
use std::path::Path;

/// A CloudTrail record of IAM user `user` with event id `id` at `time`.
fn record(user: &str, id: &str, time: &str) -> String {
    serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": format!("arn:aws:iam::111122223333:user/{user}"),
            "accountId": "111122223333", "accessKeyId": "AKIAEXAMPLE1", "userName": user},
        "eventTime": time, "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.9", "userAgent": "aws-cli/2.15",
        "eventID": id, "eventType": "AwsApiCall", "recipientAccountId": "111122223333"
    })
    .to_string()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn recursive_or_hungry_policies_are_load_errors_not_aborts() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = write(
        tmp.path(),
        "rec.rego",
        "package tripline.escalation\n\na := b\nb := a\n\ndecision := {\"tier\": \"observe\", \"actions\": [], \"reasons\": [a]}\n",
    );
    let range = write(
        tmp.path(),
        "range.rego",
        "package tripline.escalation\n\nbig := numbers.range(1, 1000000000)\ndecision := {\"tier\": \"observe\", \"actions\": [], \"reasons\": [sprintf(\"%d\", [count(big)])]}\n",
    );
    let range_test = write(
        tmp.path(),
        "range_test.rego",
        "package range_test\n\ntest_big if count(numbers.range(1, 1000000000)) > 0\n",
    );
    for args in [
        vec!["policy", "check", rec.as_str()],
        vec!["policy", "check", range.as_str()],
        vec!["policy", "test", range_test.as_str()],
    ] {
        let out = tripline().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("depend on themselves") || err.contains("cannot be bounded"),
            "{err}"
        );
    }
    let logs = write(
        tmp.path(),
        "a.jsonl",
        &record("ci", "e1", "2026-01-01T00:00:00Z"),
    );
    let out = tripline()
        .args([
            "scan",
            "--logs",
            &logs,
            "--respond",
            "plan",
            "--policy",
            &rec,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_policy_failing_for_one_identity_fails_only_that_decision() {
    let tmp = tempfile::tempdir().unwrap();
    let long = "n".repeat(1536); // over the policy input's 1,024-byte id cap
    let lines = [
        record("ci", "e1", "2026-01-01T00:00:00Z"),
        record("boom", "e2", "2026-01-01T00:01:00Z"),
        record(&long, "e3", "2026-01-01T00:02:00Z"),
    ];
    let logs = write(tmp.path(), "a.jsonl", &lines.join("\n"));
    let policy = write(
        tmp.path(),
        "p.rego",
        "package tripline.escalation\n\ndecision := {\"tier\": \"observe\", \"actions\": [], \"reasons\": [\"ok\"]} if not contains(input.identity.id, \"boom\")\n",
    );
    let evidence = tmp.path().join("ev.sqlite");
    let out = tripline()
        .args([
            "scan",
            "--logs",
            &logs,
            "--respond",
            "plan",
            "--policy",
            &policy,
        ])
        .args(["--evidence", evidence.to_str().unwrap()])
        .args(["--format", "json", "--all"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("the policy failed for 1 identities"), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ok = identity(&doc, "user/ci");
    assert_eq!(ok["decision"]["reasons"][0], "ok", "{ok}");
    let held = identity(&doc, "user/boom");
    assert_eq!(held["decision"]["tier"], "observe");
    assert!(held["decision"]["error"]
        .as_str()
        .unwrap()
        .contains("undefined"));
    let long_one = identity(&doc, &long);
    assert_eq!(long_one["decision"]["reasons"][0], "ok", "{long_one}");
    assert!(evidence_verifies(&evidence).contains("ok"));
}

#[cfg(unix)]
#[test]
fn symlink_loops_finish_and_count_each_event_once() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("d");
    std::fs::create_dir(&d).unwrap();
    let lines = [
        record("ci", "e1", "2026-01-01T00:00:00Z"),
        record("ci", "e2", "2026-01-01T00:01:00Z"),
    ];
    write(&d, "a.jsonl", &lines.join("\n"));
    // `ln -s . d/s1; ln -s . d/s2` never finished; one self-link read the file 41 times.
    std::os::unix::fs::symlink(".", d.join("s1")).unwrap();
    std::os::unix::fs::symlink(".", d.join("s2")).unwrap();
    let out = tripline()
        .args(["scan", "--logs", d.to_str().unwrap(), "--format", "json"])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["events"], 2);
    assert_eq!(doc["stats"]["files"], 1);
    assert!(err.contains("skipped 2 links"), "{err}");
}

#[test]
fn the_same_logs_twice_score_the_same_and_report_duplicates() {
    let tmp = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..20)
        .map(|i| record("ci", &format!("e{i}"), &format!("2026-01-01T00:{i:02}:00Z")))
        .collect();
    let a = write(tmp.path(), "a.jsonl", &lines.join("\n"));
    let b = write(tmp.path(), "b.jsonl", &lines.join("\n"));
    let once = scan_json(&["--logs", &a]);
    let out = tripline()
        .args(["scan", "--logs", &a, &b, "--format", "json", "--all"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("20 duplicate records"), "{err}");
    let twice: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        identity(&once, "user/ci")["score"],
        identity(&twice, "user/ci")["score"]
    );
    assert_eq!(twice["stats"]["events"], 20);
}

#[test]
fn a_year_9999_event_does_not_move_the_scan_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = [
        record("ci", "e1", "2026-01-01T00:00:00Z"),
        record("ci", "e2", "9999-12-31T23:59:59Z"),
    ];
    let a = write(tmp.path(), "a.jsonl", &lines.join("\n"));
    let out = tripline()
        .args(["scan", "--logs", &a, "--format", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("future_timestamp"), "{err}");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let at = doc["stats"]["scored_at"].as_str().unwrap();
    assert!(at.starts_with("2026-01-01"), "{at}");
    assert_eq!(doc["stats"]["events"], 1);
}

/// Runs `tripline ARGS` with its stdout a pipe whose reader is already gone (as `| head -1`
/// is, once it has its line) and returns the exit code and stderr.
#[cfg(unix)]
fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("tripline"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().code(), err)
}

#[cfg(unix)]
#[test]
fn a_closed_or_full_stdout_is_not_a_panic() {
    // `policy test` prints one line per test: more than a pipe's first read.
    let (code, err) = into_closed_pipe(&["policy", "test"]);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(code, Some(0), "{err}");
    // The scan's report (written with `write!`, not `println!`) stops quietly too.
    let tmp = tempfile::tempdir().unwrap();
    let logs = write(
        tmp.path(),
        "a.jsonl",
        &record("ci", "e1", "2026-01-01T00:00:00Z"),
    );
    let (code, err) = into_closed_pipe(&["scan", "--logs", &logs]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("error"), "{err}");
    if Path::new("/dev/full").exists() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("tripline"))
            .args(["policy", "test"])
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("cannot write to stdout"), "{err}");
    }
}

#[cfg(unix)]
#[test]
fn a_pretty_printed_record_on_stdin_is_read() {
    let v: serde_json::Value =
        serde_json::from_str(&record("ci", "s1", "2026-01-01T00:00:00Z")).unwrap();
    let doc = json_ok(
        tripline()
            .args(["scan", "--logs", "/dev/stdin", "--format", "json"])
            .write_stdin(serde_json::to_string_pretty(&v).unwrap()),
    );
    assert_eq!(doc["stats"]["events"], 1, "{}", doc["stats"]);
    assert_eq!(doc["stats"]["rejected_total"], 0);
}

#[test]
fn the_quarantine_file_is_bounded_and_says_what_it_left_out() {
    let tmp = tempfile::tempdir().unwrap();
    let bad: String = (0..500)
        .map(|i| format!("{{not json {i} {}\n", "x".repeat(200)))
        .collect();
    let logs = write(tmp.path(), "bad.jsonl", &bad);
    let q = tmp.path().join("q.jsonl");
    let out = tripline()
        .args(["scan", "--logs", &logs, "--quarantine", q.to_str().unwrap()])
        .args([
            "--max-quarantine-bytes",
            "20000",
            "--max-quarantine-records",
            "1000",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let written = std::fs::metadata(&q).unwrap().len();
    assert!(written <= 20000, "{written}");
    let lines = std::fs::read_to_string(&q).unwrap().lines().count();
    assert!(lines > 0);
    assert!(
        err.contains(&format!(
            "quarantine full: {} rejected records not written",
            500 - lines
        )),
        "{err}"
    );
    // The record cap holds as well.
    let out = tripline()
        .args(["scan", "--logs", &logs, "--quarantine", q.to_str().unwrap()])
        .args(["--max-quarantine-records", "10"])
        .output()
        .unwrap();
    assert_eq!(std::fs::read_to_string(&q).unwrap().lines().count(), 10);
    assert!(String::from_utf8_lossy(&out.stderr).contains("490 rejected records not written"));
}
