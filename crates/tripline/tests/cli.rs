//! The CLI contract: exit codes, quarantine, summary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;

const GOOD: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE1","userName":"ci"},"eventTime":"2026-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}"#;

#[test]
fn broken_inputs_finish_count_and_quarantine() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(
        logs.join("mixed.jsonl"),
        format!("{GOOD}\n{{oops\n[1,2]\n{}\n", GOOD.replace("e1", "e2")),
    )
    .unwrap();
    std::fs::write(
        logs.join("trunc.json.gz"),
        [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
    )
    .unwrap();
    let q = tmp.path().join("q.jsonl");
    let out = tripline()
        .args([
            "scan",
            "--logs",
            logs.to_str().unwrap(),
            "--quarantine",
            q.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("rejected 3 records"), "{err}");
    assert!(
        err.contains("not_json")
            && err.contains("unknown_format")
            && err.contains("corrupt_compression"),
        "{err}"
    );
    let quarantined: Vec<serde_json::Value> = std::fs::read_to_string(&q)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(quarantined.len(), 3);
    assert!(quarantined
        .iter()
        .all(|r| r["reason"].is_string() && r["detail"].is_string() && r["origin"].is_string()));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["stats"]["events"], 2);
    assert_eq!(doc["stats"]["rejected_total"], 3);

    let strict = tripline()
        .args(["scan", "--logs", logs.to_str().unwrap(), "--fail-on-reject"])
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(3));
}

#[test]
fn bad_usage_and_missing_input_exit_2() {
    let out = tripline()
        .args(["scan", "--logs", "/nonexistent/trail"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
    let out = tripline().args(["scan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let tmp = tempfile::tempdir().unwrap();
    let owners = tmp.path().join("owners.yaml");
    std::fs::write(&owners, "owners:\n  - match: x\n    class: not-a-class\n").unwrap();
    let log = tmp.path().join("a.jsonl");
    std::fs::write(&log, GOOD).unwrap();
    let out = tripline()
        .args([
            "scan",
            "--logs",
            log.to_str().unwrap(),
            "--owners",
            owners.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-a-class"));

    // backtest and explain read the same way: a missing path next to a good one is exit 2 with
    // the reason on stderr.
    let labels = tmp.path().join("labels.csv");
    std::fs::write(&labels, "event_id,label\ne1,malicious\n").unwrap();
    let out = tripline()
        .args([
            "backtest",
            "--logs",
            log.to_str().unwrap(),
            "/nonexistent/trail",
        ])
        .args(["--labels", labels.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
    let out = tripline()
        .args([
            "explain",
            "user/ci",
            "--logs",
            log.to_str().unwrap(),
            "/nonexistent/trail",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such file"));
    // A directory whose entry cannot be opened (a dangling symlink): the rest is read and
    // reported, the entry is named as unreadable, and the exit code is 2.
    let dir = tmp.path().join("logs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("a.jsonl"), GOOD).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x", dir.join("gone.jsonl")).unwrap();
    let out = tripline()
        .args(["backtest", "--logs", dir.to_str().unwrap()])
        .args(["--labels", labels.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("backtest at threshold"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unreadable:"));
    let out = tripline()
        .args(["explain", "user/ci", "--logs", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("user/ci"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unreadable:"));
}

#[test]
fn help_teaches_exit_codes_and_formats() {
    let out = tripline().args(["scan", "--help"]).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("--quarantine") && text.contains("AWSLogs"));
    let out = tripline().arg("--help").output().unwrap();
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("Exit codes"));
}

/// Inventory beyond IAM: a gitleaks report naming a key the logs show in use, and Kubernetes RBAC
/// granting cluster-admin to a service account seen in the audit log.
#[test]
fn leaked_keys_and_rbac_grants_become_signals() {
    let tmp = tempfile::tempdir().unwrap();
    let key = "AKIAIOSFODNN7EXAMPLE";
    let ct = GOOD.replace("AKIAEXAMPLE1", key);
    let audit = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"k1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ci/pods","verb":"list","user":{"username":"system:serviceaccount:ci:deployer","groups":["system:serviceaccounts"]},"sourceIPs":["10.0.0.7"],"userAgent":"kubectl/v1.29","objectRef":{"resource":"pods","namespace":"ci","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-01-01T00:00:00.000000Z"}"#;
    let logs = tmp.path().join("logs.jsonl");
    std::fs::write(&logs, format!("{ct}\n{audit}\n")).unwrap();
    let gitleaks = tmp.path().join("gitleaks.json");
    let finding = serde_json::json!([{
        "Description": "AWS Access Key", "StartLine": 3, "EndLine": 3, "StartColumn": 1, "EndColumn": 20,
        "Match": format!("aws_access_key_id = {key}"), "Secret": key, "File": "deploy/env.sh", "SymlinkFile": "",
        "Commit": "4f2a9c1", "Entropy": 3.5, "Author": "dev", "Email": "dev@example.com",
        "Date": "2025-12-30T10:00:00Z", "Message": "wip", "Tags": [], "RuleID": "aws-access-token",
        "Fingerprint": "4f2a9c1:deploy/env.sh:aws-access-token:3"
    }]);
    std::fs::write(&gitleaks, finding.to_string()).unwrap();
    let rbac = tmp.path().join("rbac.json");
    let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "cluster-admin"},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, {"nonResourceURLs": ["*"], "verbs": ["*"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "ci-admin"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
         "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": "ci"}]}
    ]});
    std::fs::write(&rbac, list.to_string()).unwrap();
    let doc = scan_json(&[
        "--logs",
        logs.to_str().unwrap(),
        "--inventory",
        gitleaks.to_str().unwrap(),
        rbac.to_str().unwrap(),
    ]);
    let user = identity(&doc, ":user/ci");
    let leak = user["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "EXP_SECRET_LEAKED")
        .expect("leak signal");
    assert!(
        leak["summary"].as_str().unwrap().contains("deploy/env.sh"),
        "{leak}"
    );
    assert_eq!(leak["severity"], "critical");
    let sa = identity(&doc, "system:serviceaccount:ci:deployer");
    assert!(
        codes(sa).contains(&"PRIV_K8S_CLUSTER_ADMIN".to_string()),
        "{sa:#}"
    );
    // Nothing of the secret itself is in the output beyond the key id (which is not secret).
    assert_eq!(doc["stats"]["unmatched_leaks"].as_array().unwrap().len(), 0);
}

/// A scan written to the evidence ledger verifies, exports, and a tampered bundle names the
/// altered record.
#[test]
fn scan_evidence_verifies_exports_and_catches_tampering() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("a.jsonl");
    std::fs::write(
        &log,
        format!(
            "{GOOD}\n{}\n",
            GOOD.replace("\"e1\"", "\"e2\"")
                .replace("ListBuckets", "StopLogging")
                .replace("s3.amazonaws.com", "cloudtrail.amazonaws.com")
        ),
    )
    .unwrap();
    let db = tmp.path().join("evidence.sqlite");
    let out = tripline()
        .args([
            "scan",
            "--logs",
            log.to_str().unwrap(),
            "--evidence",
            db.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(evidence_verifies(&db).contains("ok,"));
    let bundle = tmp.path().join("bundle");
    let export = tripline()
        .args([
            "evidence",
            "export",
            "--store",
            db.to_str().unwrap(),
            "--out",
            bundle.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stdout)
    );
    let ok = tripline()
        .args(["evidence", "verify", "--bundle", bundle.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    // Alter the second record's body (raise a score) and verify again.
    let path = bundle.join("evidence.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines.len() >= 3);
    let altered = lines[1].replacen("\"score\":", "\"score\":9", 1);
    assert_ne!(altered, lines[1]);
    lines[1] = altered;
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let bad = tripline()
        .args(["evidence", "verify", "--bundle", bundle.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(4));
    let msg = String::from_utf8_lossy(&bad.stdout);
    assert!(msg.contains("FAILED: record 2:"), "{msg}");
}
