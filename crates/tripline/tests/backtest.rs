//! `tripline backtest` and `tripline feedback`, end to end.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;

fn backtest_json(args: &[&str]) -> serde_json::Value {
    json_ok(
        tripline()
            .arg("backtest")
            .args(args)
            .args(["--format", "json"]),
    )
}

/// The OTRF set: the stolen instance credentials are the only malicious activity.
#[test]
fn otrf_backtest_finds_the_stolen_credentials() {
    let Some(logs) =
        data("otrf-security-datasets-aws/ec2_proxy_s3_exfiltration.cloudtrail.jsonl.gz")
    else {
        return;
    };
    let labels = data("otrf-security-datasets-aws/ec2_proxy_s3_exfiltration.labels.csv").unwrap();
    let doc = backtest_json(&[
        "--logs",
        logs.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--threshold",
        "45",
    ]);
    let m = &doc["metrics"];
    assert_eq!(doc["unmatched_labels"], 0);
    // 11 malicious of 103 events, all on one identity.
    let ev = &m["events"];
    assert_eq!(ev["tp"].as_u64().unwrap() + ev["fn"].as_u64().unwrap(), 11);
    assert_eq!(ev["fp"].as_u64().unwrap() + ev["tn"].as_u64().unwrap(), 92);
    assert_eq!(m["identities"]["tp"], 1);
    assert_eq!(m["identities"]["fn"], 0);
    assert_eq!(ev["tp"], 11, "{m:#}");
    assert_eq!(ev["fp"], 0, "{m:#}");
    assert_eq!(m["time_to_detect_secs"][0]["seconds"], 0.0);
}

#[test]
fn stratus_backtest_recall_is_measured() {
    let Some(logs) = data("stratus-red-team-detonation-logs/cloudtrail_events.jsonl.gz") else {
        return;
    };
    let labels = data("stratus-red-team-detonation-logs/labels.csv").unwrap();
    let doc = backtest_json(&[
        "--logs",
        logs.to_str().unwrap(),
        "--labels",
        labels.to_str().unwrap(),
        "--threshold",
        "20",
    ]);
    let m = &doc["metrics"];
    // Every event is an attack: no benign event exists, so precision is 1 by construction and
    // recall is what is measured.
    assert_eq!(m["events"]["fp"], 0);
    assert_eq!(
        m["events"]["tp"].as_u64().unwrap() + m["events"]["fn"].as_u64().unwrap(),
        310
    );
    let recall = m["events"]["recall"].as_f64().unwrap();
    eprintln!(
        "stratus event recall at 20: {recall:.3}; identities {}",
        m["identities"]
    );
    assert!(recall > 0.3, "{recall}");
}

/// The recommended per-class thresholds for an alert budget meet that budget when replayed.
#[test]
fn recommended_thresholds_meet_the_budget_when_replayed() {
    let tmp = tempfile::tempdir().unwrap();
    let org = tmp.path().join("org");
    let out = tripline()
        .args([
            "simulate",
            "--out",
            org.to_str().unwrap(),
            "--seed",
            "11",
            "--days",
            "12",
            "--identities",
            "30",
            "--events",
            "60000",
            "--no-k8s",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = [
        "--logs",
        org.join("cloudtrail").to_str().unwrap().to_string().leak(),
        "--labels",
        org.join("labels.csv").to_str().unwrap().to_string().leak(),
        "--inventory",
        org.join("inventory/authorization-details.json")
            .to_str()
            .unwrap()
            .to_string()
            .leak(),
        "--owners",
        org.join("owners.yaml").to_str().unwrap().to_string().leak(),
    ];
    let budget = 0.5;
    let mut args: Vec<&str> = base.to_vec();
    args.extend(["--budget", "0.5"]);
    let doc = backtest_json(&args);
    let rec = doc["recommended_thresholds"].as_object().unwrap().clone();
    let mut replay: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    for (class, t) in &rec {
        replay.push("--class-threshold".into());
        replay.push(format!("{class}={t}"));
    }
    let refs: Vec<&str> = replay.iter().map(String::as_str).collect();
    let again = backtest_json(&refs);
    let per_class = again["metrics"]["alerts_per_day_by_class"]
        .as_object()
        .unwrap();
    assert!(!per_class.is_empty());
    for (class, per_day) in per_class {
        assert!(
            per_day.as_f64().unwrap() <= budget + 1e-9,
            "{class}: {per_day} alerts/day over budget {budget} at {}",
            rec[class]
        );
    }
    // The curve and the chart are written.
    let csv = tmp.path().join("curve.csv");
    let svg = tmp.path().join("chart.svg");
    let mut args: Vec<&str> = base.to_vec();
    args.extend([
        "--curve-csv",
        csv.to_str().unwrap(),
        "--chart",
        svg.to_str().unwrap(),
    ]);
    backtest_json(&args);
    let curve = std::fs::read_to_string(&csv).unwrap();
    assert!(curve.starts_with("threshold,class,event_precision"));
    assert_eq!(curve.lines().filter(|l| l.contains(",all,")).count(), 19);
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

#[test]
fn html_report_holds_curves_matrices_and_explanations() {
    let Some(logs) =
        data("otrf-security-datasets-aws/ec2_proxy_s3_exfiltration.cloudtrail.jsonl.gz")
    else {
        return;
    };
    let labels = data("otrf-security-datasets-aws/ec2_proxy_s3_exfiltration.labels.csv").unwrap();
    let out = tripline()
        .args([
            "backtest",
            "--logs",
            logs.to_str().unwrap(),
            "--labels",
            labels.to_str().unwrap(),
            "--format",
            "html",
        ])
        .output()
        .unwrap();
    let html = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "<svg",
        "Confusion matrices",
        "Worst false positives",
        "Missed incidents",
        "EXP_CREDENTIAL_OFF_WORKLOAD",
    ] {
        assert!(html.contains(needle), "{needle}");
    }
}

/// Feedback: a false positive needs a reason and an expiry, is shown as a suppression (never
/// hidden), and becomes a label for the next backtest.
#[test]
fn feedback_suppresses_visibly_and_feeds_backtests() {
    let Some(logs) =
        data("otrf-security-datasets-aws/ec2_proxy_s3_exfiltration.cloudtrail.jsonl.gz")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("fb.jsonl");
    let role = "arn:aws:iam::123456789123:role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0";
    let no_expiry = tripline()
        .args([
            "feedback",
            "--store",
            store.to_str().unwrap(),
            "add",
            "--identity",
            role,
            "--verdict",
            "false-positive",
            "--reason",
            "pentest",
        ])
        .output()
        .unwrap();
    assert_eq!(no_expiry.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_expiry.stderr).contains("expiry"));
    let ok = tripline()
        .args([
            "feedback",
            "--store",
            store.to_str().unwrap(),
            "add",
            "--identity",
            role,
            "--verdict",
            "false-positive",
            "--reason",
            "authorised pentest",
            "--for-days",
            "7",
            "--by",
            "alice",
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let doc = scan_json(&[
        "--logs",
        logs.to_str().unwrap(),
        "--feedback",
        store.to_str().unwrap(),
    ]);
    let ident = identity(&doc, "BankingWAFRole");
    assert_eq!(ident["suppressed"]["verdict"], "false_positive");
    assert_eq!(ident["suppressed"]["reason"], "authorised pentest");
    assert!(ident["score"].as_f64().unwrap() > 0.0, "still scored");
    let bt = backtest_json(&[
        "--logs",
        logs.to_str().unwrap(),
        "--labels",
        store.to_str().unwrap(),
    ]);
    // The analyst said benign: the alert on that identity is now a false positive.
    assert_eq!(bt["metrics"]["identities"]["fp"], 1);
    assert_eq!(bt["metrics"]["identities"]["tp"], 0);
}
