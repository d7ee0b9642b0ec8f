//! Log readers against the real public data in `../shared/data` and against deliberately broken
//! inputs. Tests that need the shared data skip, saying so, when it is absent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use tripline_ingest::inventory::shared_data_dir;
use tripline_ingest::{Item, Limits, LogReader, ReadStats};
use tripline_model::{Event, LogSource, Outcome, PrincipalType, RejectReason, Rejected};

fn data(rel: &str) -> Option<PathBuf> {
    match shared_data_dir() {
        Some(d) => Some(d.join(rel)),
        None => {
            eprintln!(
                "SKIPPED: ../shared/data is absent (set TRIPLINE_SHARED_DATA); {rel} not tested"
            );
            None
        }
    }
}

fn read(paths: &[PathBuf], limits: Limits) -> (Vec<Event>, Vec<Rejected>, ReadStats) {
    let mut events = Vec::new();
    let mut rejected = Vec::new();
    let stats = LogReader::new(limits).read_paths(paths, &mut |item| match item {
        Item::Event(e) => events.push(*e),
        Item::Rejected(r) => rejected.push(r),
    });
    (events, rejected, stats)
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn stratus_detonations_parse_without_rejections() {
    let Some(p) = data("stratus-red-team-detonation-logs/cloudtrail_events.jsonl.gz") else {
        return;
    };
    let (events, rejected, stats) = read(&[p], Limits::default());
    assert!(rejected.is_empty(), "{rejected:#?}");
    assert_eq!(events.len(), 310);
    assert_eq!(stats.cloudtrail_events, 310);
    assert_eq!(stats.records, 310);
    assert_eq!(stats.gzip_files, 1);
    // 52 records carry an errorCode; all of them in this set are authorization failures or
    // ordinary failures, and the reader keeps them apart.
    let failed = events
        .iter()
        .filter(|e| e.outcome != Outcome::Success)
        .count();
    assert_eq!(failed, 52);
    let mut types: BTreeMap<PrincipalType, usize> = BTreeMap::new();
    for e in &events {
        *types.entry(e.actor.principal_type.unwrap()).or_default() += 1;
    }
    assert_eq!(types[&PrincipalType::IamUser], 241);
    assert_eq!(types[&PrincipalType::AssumedRole], 68);
    assert_eq!(types[&PrincipalType::FederatedUser], 1);
    // Actions use IAM syntax.
    assert!(events.iter().any(|e| e.action == "sts:AssumeRole"));
    assert!(events
        .iter()
        .all(|e| e.action.starts_with(&format!("{}:", e.service))));
}

#[test]
fn otrf_exfiltration_parses_with_its_logstash_timestamp() {
    let Some(p) = data("otrf-security-datasets-aws/ec2_proxy_s3_exfiltration.cloudtrail.jsonl.gz")
    else {
        return;
    };
    let (events, rejected, _) = read(&[p], Limits::default());
    assert!(rejected.is_empty(), "{rejected:#?}");
    assert_eq!(events.len(), 103);
    // The stolen instance-profile session: delivered by the EC2 metadata service.
    let stolen: Vec<&Event> = events
        .iter()
        .filter(|e| {
            e.actor
                .issuer_arn
                .as_deref()
                .is_some_and(|a| a.contains("BankingWAFRole"))
        })
        .collect();
    assert_eq!(stolen.len(), 11);
    assert!(stolen
        .iter()
        .all(|e| e.actor.ec2_role_delivery.as_deref() == Some("1.0")));
    assert!(stolen
        .iter()
        .all(|e| e.time.to_string().starts_with("2020-09-14")));
}

/// Panther bundles wrap one event per line in `log`. CloudTrail and EKS audit events read through
/// the same readers; anything else is rejected as a log type Tripline does not read.
#[test]
fn panther_rule_tests_read_through_the_same_readers() {
    let Some(dir) = data("panther-analysis-rule-tests") else {
        return;
    };
    // Rule authors hand-write many EKS test events without any timestamp; those cannot be placed
    // in time and are rejected, naming the missing field. The minimum share read is per file.
    for (file, source, min_read) in [
        (
            "aws_cloudtrail.rule_tests.jsonl.gz",
            LogSource::CloudTrail,
            430,
        ),
        ("k8s_eks_audit.rule_tests.jsonl.gz", LogSource::K8sAudit, 10),
    ] {
        let (events, rejected, stats) = read(&[dir.join(file)], Limits::default());
        let lines = {
            use std::io::BufRead;
            let f = std::fs::File::open(dir.join(file)).unwrap();
            std::io::BufReader::new(flate2::read::GzDecoder::new(f))
                .lines()
                .count() as u64
        };
        // Every line is accounted for.
        assert_eq!(stats.records, lines, "{file}");
        assert_eq!(
            events.len() as u64
                + rejected.len() as u64
                + stats.k8s_non_final_stages
                + stats.duplicate_events,
            lines,
            "{file}"
        );
        // Rule authors also copy one eventID into many test events: the first is read, the same
        // record again is a duplicate, a different one a conflict (parsed, refused for its id).
        let of_source = events.iter().filter(|e| e.source == source).count();
        let conflicts = rejected
            .iter()
            .filter(|r| r.reason == RejectReason::DuplicateIdConflict)
            .count();
        let dups = stats.duplicate_events as usize;
        assert!(
            of_source + conflicts + dups >= min_read,
            "{file}: only {of_source}+{conflicts}+{dups}/{lines} parsed"
        );
        assert!(of_source > 0);
        for r in &rejected {
            // A reason a user would accept: a required field missing, a type that does not
            // match CloudTrail's, or a different log type.
            assert!(
                matches!(
                    r.reason,
                    RejectReason::InvalidRecord
                        | RejectReason::UnsupportedLogType
                        | RejectReason::UnknownFormat
                        | RejectReason::DuplicateIdConflict
                ),
                "{file}: {r:?}"
            );
            assert!(!r.detail.is_empty());
            if r.reason == RejectReason::InvalidRecord && source == LogSource::K8sAudit {
                assert!(r.detail.contains("has no"), "{r:?}");
            }
        }
        eprintln!(
            "{file}: {} events, {} rejected: {:?}",
            events.len(),
            rejected.len(),
            stats.rejected
        );
    }
}

#[test]
fn other_panther_log_types_are_rejected_as_unsupported() {
    let Some(dir) = data("panther-analysis-rule-tests") else {
        return;
    };
    let (events, rejected, _) = read(
        &[dir.join("okta_systemlog.rule_tests.jsonl.gz")],
        Limits::default(),
    );
    assert!(events.is_empty());
    assert_eq!(rejected.len(), 66);
    assert!(
        rejected
            .iter()
            .all(|r| r.reason == RejectReason::UnsupportedLogType),
        "{rejected:#?}"
    );
    assert!(rejected[0].detail.contains("Okta"));
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

const GOOD: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE1","userName":"ci"},"eventTime":"2026-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15","eventID":"ID","eventType":"AwsApiCall","recipientAccountId":"111122223333"}"#;

fn good(id: &str) -> String {
    GOOD.replace("\"ID\"", &format!("\"{id}\""))
}

/// A directory of deliberately broken inputs: the run finishes, every bad record is counted with
/// its reason, and the good records around them are kept.
#[test]
fn broken_inputs_are_counted_with_reasons_and_nothing_else_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // 1. truncated gzip: two good lines, then the stream is cut.
    let lines: String = (0..150)
        .map(|i| format!("{}\n", good(&format!("t{i}"))))
        .collect();
    let full = gz(lines.as_bytes());
    write(d, "a-truncated.jsonl.gz", &full[..full.len() / 2]);
    // 2. a line that is not JSON between two good ones.
    write(
        d,
        "b-notjson.jsonl",
        format!("{}\n{{not json\n{}\n", good("n1"), good("n2")).as_bytes(),
    );
    // 3. a record of the wrong type (eventTime a number), and one missing eventID (kept, with an
    //    id derived from its bytes so evidence can still point at it).
    let wrong = good("w1").replace("\"2026-01-01T00:00:00Z\"", "5");
    let no_id = good("x").replace(",\"eventID\":\"x\"", "");
    write(
        d,
        "c-wrongtype.jsonl",
        format!("{wrong}\n{no_id}\n{}\n", good("w2")).as_bytes(),
    );
    // 4. an oversized record, then a good one.
    let big = good("big").replace("aws-cli/2.15", &"A".repeat(5000));
    write(
        d,
        "d-oversized.jsonl",
        format!("{big}\n{}\n", good("o1")).as_bytes(),
    );
    // 5. too deep.
    let deep = format!(
        "{{\"eventID\":\"deep\",\"x\":{}1{}}}",
        "[".repeat(100),
        "]".repeat(100)
    );
    write(
        d,
        "e-deep.jsonl",
        format!("{deep}\n{}\n", good("d1")).as_bytes(),
    );
    // 6. unknown format, a bare number, invalid UTF-8.
    write(
        d,
        "f-unknown.json",
        b"{\"hello\":\"world\"}\n42\n\xff\xfe{}\n",
    );
    // 7. a Records file with one bad element among good ones.
    let records = format!(
        "{{\"Records\":[{},{{\"eventSource\":\"s3.amazonaws.com\"}},{}]}}",
        good("r1"),
        good("r2")
    );
    write(d, "g-records.json.gz", &gz(records.as_bytes()));
    // 8. empty file and a non-log file (skipped, reported).
    write(d, "h-empty.json", b"");
    write(d, "notes.txt", b"not a log");

    let limits = Limits {
        max_record_bytes: 4096,
        max_depth: 32,
        ..Limits::default()
    };
    let (events, rejected, stats) = read(&[d.to_path_buf()], limits);
    let by = |r: RejectReason| rejected.iter().filter(|x| x.reason == r).count();
    assert_eq!(by(RejectReason::CorruptCompression), 1);
    assert_eq!(by(RejectReason::NotJson), 1);
    assert_eq!(by(RejectReason::InvalidRecord), 2, "{rejected:#?}");
    assert_eq!(stats.derived_event_ids, 1);
    assert!(events.iter().any(|e| e.id.starts_with("derived:")));
    assert_eq!(by(RejectReason::TooLarge), 1);
    assert_eq!(by(RejectReason::TooDeep), 1);
    assert_eq!(by(RejectReason::UnknownFormat), 2);
    assert_eq!(by(RejectReason::NotUtf8), 1);
    assert_eq!(stats.rejected_total() as usize, rejected.len());
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    for id in ["n1", "n2", "w2", "o1", "d1", "r1", "r2"] {
        assert!(ids.contains(&id), "{id} lost: {ids:?}");
    }
    // The truncated file yields what was readable before the cut.
    assert!(ids.iter().filter(|i| i.starts_with('t')).count() > 10);
    assert_eq!(stats.skipped_files.len(), 1);
    assert!(stats.unreadable.is_empty());
    let trunc = rejected
        .iter()
        .find(|r| r.reason == RejectReason::CorruptCompression)
        .unwrap();
    assert!(trunc.origin.ends_with("a-truncated.jsonl.gz"));
    assert!(trunc.detail.contains("truncated"), "{}", trunc.detail);
    let wrong_type = rejected
        .iter()
        .find(|r| r.position == Some(1) && r.origin.ends_with("c-wrongtype.jsonl"))
        .unwrap();
    assert!(
        wrong_type.detail.contains("invalid type"),
        "{}",
        wrong_type.detail
    );
}

#[test]
fn decompressed_size_is_capped() {
    let tmp = tempfile::tempdir().unwrap();
    let body = format!("{}\n", good("c")).repeat(2000);
    write(tmp.path(), "bomb.jsonl.gz", &gz(body.as_bytes()));
    let limits = Limits {
        max_decompressed_bytes: 10_000,
        ..Limits::default()
    };
    let (events, rejected, _) = read(&[tmp.path().to_path_buf()], limits);
    assert!(events.len() < 40 && !events.is_empty());
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].reason, RejectReason::DecompressedTooLarge);
}

#[test]
fn pretty_printed_documents_and_lookup_events_output_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let v: serde_json::Value = serde_json::from_str(&good("p1")).unwrap();
    write(
        tmp.path(),
        "one.json",
        serde_json::to_string_pretty(&v).unwrap().as_bytes(),
    );
    let records = serde_json::json!({"Records": [v.clone()]});
    write(
        tmp.path(),
        "records.json",
        serde_json::to_string_pretty(&records).unwrap().as_bytes(),
    );
    let lookup = serde_json::json!({"Events": [{"EventId": "p3", "CloudTrailEvent": good("p3")}]});
    write(tmp.path(), "lookup.json", lookup.to_string().as_bytes());
    let (events, rejected, stats) = read(&[tmp.path().to_path_buf()], Limits::default());
    assert!(rejected.is_empty(), "{rejected:#?}");
    let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
    // p1 is in two files, the same record: read once, counted as a duplicate.
    assert_eq!(ids, ["p3", "p1"]);
    assert_eq!(stats.duplicate_events, 1);
}

#[test]
fn s3_tree_is_walked_and_digests_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let day = tmp
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01");
    std::fs::create_dir_all(&day).unwrap();
    let digest = tmp
        .path()
        .join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/01/01");
    std::fs::create_dir_all(&digest).unwrap();
    let body = format!("{{\"Records\":[{},{}]}}", good("s1"), good("s2"));
    write(
        &day,
        "111122223333_CloudTrail_us-east-1_20260101T0000Z_abc.json.gz",
        &gz(body.as_bytes()),
    );
    write(
        &digest,
        "x_CloudTrail-Digest_us-east-1_20260101T0000Z.json.gz",
        &gz(b"{\"awsAccountId\":\"1\"}"),
    );
    let (events, rejected, stats) = read(&[tmp.path().join("AWSLogs")], Limits::default());
    assert_eq!(events.len(), 2);
    assert!(rejected.is_empty());
    assert_eq!(stats.skipped_files.len(), 1);
}

#[test]
fn kubernetes_audit_stages_are_counted_once() {
    let tmp = tempfile::tempdir().unwrap();
    let ev = |stage: &str| {
        format!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"{stage}","requestURI":"/api/v1/namespaces/prod/secrets","verb":"list","user":{{"username":"system:serviceaccount:prod:builder","groups":["system:serviceaccounts"]}},"sourceIPs":["10.0.0.7"],"userAgent":"kubectl/v1.29","objectRef":{{"resource":"secrets","namespace":"prod","apiVersion":"v1"}},"responseStatus":{{"code":403}},"requestReceivedTimestamp":"2026-01-01T00:00:00.123456Z","stageTimestamp":"2026-01-01T00:00:00.200000Z"}}"#
        )
    };
    write(
        tmp.path(),
        "audit.log",
        format!("{}\n{}\n", ev("RequestReceived"), ev("ResponseComplete")).as_bytes(),
    );
    let (events, rejected, stats) = read(&[tmp.path().to_path_buf()], Limits::default());
    assert!(rejected.is_empty());
    assert_eq!(stats.k8s_non_final_stages, 1);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e.action, "k8s:list:secrets");
    assert_eq!(e.outcome, Outcome::Denied);
    assert_eq!(
        e.actor.principal_type,
        Some(PrincipalType::K8sServiceAccount)
    );
    assert_eq!(e.resource.as_deref(), Some("prod/secrets"));
    assert_eq!(e.time.to_string(), "2026-01-01T00:00:00Z");
}

/// Found by the fuzzer: wrapped Kubernetes event lists, empty or holding several unknown items,
/// keep the accounting exact (every inner record is an event, a rejection or a counted stage).
#[test]
fn wrapped_event_lists_account_for_every_item() {
    for (input, rejected) in [
        (
            r#"{"log":{"apiVersion":"audit.k8s.io/v1","kind":"EventList","items":[]}}"#,
            0,
        ),
        (
            r#"{"log":{"apiVersion":"audit.k8s.io/v1","kind":"EventList","items":[{"a":1},{"b":2}]}}"#,
            2,
        ),
    ] {
        let mut stats = ReadStats::default();
        let mut seen = Vec::new();
        LogReader::new(Limits::default())
            .read_bytes("t", input.as_bytes(), &mut stats, &mut |i| seen.push(i));
        assert_eq!(seen.len(), rejected, "{input}");
        assert_eq!(stats.rejected_total() as usize, rejected);
        assert_eq!(
            stats.records,
            stats.events
                + stats.rejected_total()
                + stats.k8s_non_final_stages
                + stats.duplicate_events
        );
    }
}
