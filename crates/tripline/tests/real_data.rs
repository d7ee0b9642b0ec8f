//! `tripline scan` on the real public data in `../shared/data`: what a user sees.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;
use std::collections::BTreeSet;
use std::io::{BufRead, Write};

const STRATUS: &str = "stratus-red-team-detonation-logs/cloudtrail_events.jsonl.gz";
const OTRF: &str = "otrf-security-datasets-aws/ec2_proxy_s3_exfiltration.cloudtrail.jsonl.gz";

#[test]
fn stratus_identities_are_resolved_and_counted() {
    let Some(p) = data(STRATUS) else { return };
    let doc = scan_json(&["--logs", p.to_str().unwrap()]);
    let ids = doc["identities"].as_array().unwrap();
    // 41 distinct caller ARNs; the one federated-user session belongs to the IAM user that
    // issued it, so 40 identities: 33 IAM users and 7 roles.
    assert_eq!(ids.len(), 40);
    assert_eq!(
        ids.iter()
            .filter(|i| i["id"].as_str().unwrap().contains(":user/"))
            .count(),
        33
    );
    assert_eq!(
        ids.iter()
            .filter(|i| i["id"].as_str().unwrap().contains(":role/"))
            .count(),
        7
    );
    assert_eq!(doc["stats"]["events"], 310);
    assert_eq!(doc["stats"]["rejected_total"], 0);
    let total: u64 = ids.iter().map(|i| i["events"].as_u64().unwrap()).sum();
    assert_eq!(total, 310);
}

#[test]
fn otrf_stolen_instance_credentials_rank_first_with_the_right_explanation() {
    let Some(p) = data(OTRF) else { return };
    let doc = scan_json(&["--logs", p.to_str().unwrap()]);
    let first = &doc["identities"][0];
    assert!(
        first["id"]
            .as_str()
            .unwrap()
            .ends_with(":role/MordorNginxStack-BankingWAFRole-9S3E0UAE1MM0"),
        "{first:#}"
    );
    let sig = first["signals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "EXP_CREDENTIAL_OFF_WORKLOAD")
        .expect("off-workload signal");
    assert!(
        sig["summary"]
            .as_str()
            .unwrap()
            .contains("EC2 metadata service"),
        "{sig:#}"
    );
    // The signal points at exactly the labelled malicious events.
    let labels = std::fs::read_to_string(
        data("otrf-security-datasets-aws/ec2_proxy_s3_exfiltration.labels.csv").unwrap(),
    )
    .unwrap();
    let malicious: BTreeSet<&str> = labels
        .lines()
        .filter(|l| l.contains(",malicious,"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    let flagged: BTreeSet<&str> = sig["event_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(malicious.len(), 11);
    assert_eq!(flagged, malicious);
    assert!(
        first["level"] == "high" || first["level"] == "critical",
        "{}",
        first["level"]
    );
    // The human admin browsing the console is a human, not a scored NHI.
    assert_eq!(identity(&doc, "user/pedro")["kind"], "human");
}

/// Each Stratus technique's actor raises a signal that names what the technique did.
#[test]
fn stratus_detonations_raise_signals_naming_the_technique() {
    let Some(p) = data(STRATUS) else { return };
    let doc = scan_json(&["--logs", p.to_str().unwrap()]);
    let all: String = doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["signals"].as_array().unwrap())
        .map(|s| format!("{}\n", s["summary"]))
        .collect();
    for needle in [
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "cloudtrail:PutEventSelectors",
        "ec2:DeleteFlowLogs",
        "ec2:GetPasswordData",
        "secretsmanager:BatchGetSecretValue",
        "ec2:ModifySnapshotAttribute",
        "ec2:ModifyImageAttribute",
        "rds:ModifyDBSnapshotAttribute",
        "ec2:AuthorizeSecurityGroupIngress",
        "route53resolver:DeleteResolverQueryLogConfig",
        "iam:UpdateAssumeRolePolicy",
        "iam:AttachRolePolicy",
        "lambda:AddPermission",
        "lambda:UpdateFunctionCode",
        "ssm:StartSession",
        "bedrock:PutUseCaseForModelAccess",
        "ec2:ModifyInstanceAttribute",
        "iam:CreateLoginProfile",
        "iam:UpdateLoginProfile",
        "iam:CreateAccessKey",
        "sts:GetFederationToken",
        "ssm:SendCommand",
        "organizations:LeaveOrganization",
        "ec2-instance-connect:SendSSHPublicKey",
        "rolesanywhere:CreateTrustAnchor",
    ] {
        assert!(all.contains(needle), "no signal names {needle}:\n{all}");
    }
    // The stolen instance credentials of the steal-instance-credentials detonation.
    assert!(all.contains("EC2 metadata service"), "{all}");

    // Technique-level recall: a technique is detected when some signal links to one of its events.
    let labels =
        std::fs::read_to_string(data("stratus-red-team-detonation-logs/labels.csv").unwrap())
            .unwrap();
    let mut techniques: std::collections::BTreeMap<&str, BTreeSet<&str>> = Default::default();
    for line in labels.lines().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        techniques.entry(cols[6]).or_default().insert(cols[0]);
    }
    let flagged: BTreeSet<String> = doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["signals"].as_array().unwrap())
        .filter(|s| s["severity"] != "info")
        .flat_map(|s| {
            s["event_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_string())
        })
        .collect();
    let missed: Vec<&str> = techniques
        .iter()
        .filter(|(_, ids)| !ids.iter().any(|id| flagged.contains(*id)))
        .map(|(t, _)| *t)
        .collect();
    eprintln!(
        "stratus techniques detected: {}/{}; missed: {missed:?}",
        techniques.len() - missed.len(),
        techniques.len()
    );
    assert_eq!(techniques.len(), 35);
    assert!(missed.len() <= 2, "missed {missed:?}");
}

fn rewrite_gz(src: &std::path::Path, dst: &std::path::Path, from: &str, to: &str) {
    let r = std::io::BufReader::new(flate2::read::GzDecoder::new(
        std::fs::File::open(src).unwrap(),
    ));
    let mut w = flate2::write::GzEncoder::new(
        std::fs::File::create(dst).unwrap(),
        flate2::Compression::fast(),
    );
    for line in r.lines() {
        writeln!(w, "{}", line.unwrap().replace(from, to)).unwrap();
    }
    w.finish().unwrap();
}

fn scores(doc: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    let mut v: Vec<(String, String, Vec<String>)> = doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["score"].to_string(),
                codes(i),
            )
        })
        .collect();
    v.sort();
    v
}

/// The engine never uses the string only the test tool writes: replacing it everywhere (user
/// agents, resource and identity names) changes no score and no signal.
#[test]
fn replacing_the_test_tool_marker_changes_no_score() {
    let Some(p) = data(STRATUS) else { return };
    let tmp = tempfile::tempdir().unwrap();
    let renamed = tmp.path().join("renamed.jsonl.gz");
    rewrite_gz(&p, &renamed, "stratus-red-team", "blue-ops-toolkit");
    let a = scan_json(&["--logs", p.to_str().unwrap()]);
    let b = scan_json(&["--logs", renamed.to_str().unwrap()]);
    let rename = |v: Vec<(String, String, Vec<String>)>| -> Vec<(String, String, Vec<String>)> {
        v.into_iter()
            .map(|(id, s, c)| (id.replace("stratus-red-team", "blue-ops-toolkit"), s, c))
            .collect()
    };
    assert_eq!(rename(scores(&a)), scores(&b));
}

#[test]
fn scores_are_deterministic() {
    let Some(p) = data(STRATUS) else { return };
    let run = || {
        tripline()
            .args([
                "scan",
                "--logs",
                p.to_str().unwrap(),
                "--format",
                "json",
                "--all",
            ])
            .output()
            .unwrap()
    };
    let (a, b) = (run(), run());
    assert!(a.status.success() && !a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout);
}

/// OCSF Detection Finding (class 2004): the attributes the OCSF 1.3 schema requires, plus the
/// ones Tripline promises.
#[test]
fn ocsf_findings_carry_the_required_attributes() {
    let Some(p) = data(OTRF) else { return };
    let out = tripline()
        .args(["scan", "--logs", p.to_str().unwrap(), "--format", "ocsf"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(!lines.is_empty());
    for f in &lines {
        for key in [
            "activity_id",
            "category_uid",
            "class_uid",
            "finding_info",
            "metadata",
            "severity_id",
            "time",
            "type_uid",
        ] {
            assert!(!f[key].is_null(), "missing {key}: {f:#}");
        }
        assert_eq!(f["class_uid"], 2004);
        assert_eq!(f["category_uid"], 2);
        assert_eq!(f["type_uid"], 200401);
        assert!((1..=6).contains(&f["severity_id"].as_u64().unwrap()));
        assert!(f["finding_info"]["uid"].is_string() && f["finding_info"]["title"].is_string());
        assert!(
            f["metadata"]["product"]["name"] == "Tripline" && f["metadata"]["version"].is_string()
        );
        assert!(f["risk_score"].as_i64().unwrap() <= 100);
        assert!(f["resources"][0]["uid"].is_string());
    }
    let off = lines
        .iter()
        .find(|f| {
            f["finding_info"]["title"]
                .as_str()
                .unwrap()
                .starts_with("EXP_CREDENTIAL_OFF_WORKLOAD")
        })
        .unwrap();
    assert_eq!(
        off["finding_info"]["related_events"]
            .as_array()
            .unwrap()
            .len(),
        11
    );
    assert!(off["resources"][0]["uid"]
        .as_str()
        .unwrap()
        .contains("BankingWAFRole"));
}

#[test]
fn explain_prints_the_breakdown() {
    let Some(p) = data(OTRF) else { return };
    let out = tripline()
        .args(["explain", "BankingWAFRole", "--logs", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "score",
        "EXP_CREDENTIAL_OFF_WORKLOAD",
        "events:",
        "OWASP-NHI:NHI2",
        "formula",
        "privilege",
        "exposure",
        "behaviour",
    ] {
        if needle == "formula" {
            assert!(text.contains("score = 100*"), "{text}");
        } else {
            assert!(text.contains(needle), "{needle} missing:\n{text}");
        }
    }
    let miss = tripline()
        .args(["explain", "nobody-here", "--logs", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(miss.status.code(), Some(2));
}

#[test]
fn authorization_details_rank_escalation_capable_principals_above_the_rest() {
    let Some(dir) = data("cloudsplaining-authz-samples") else {
        return;
    };
    let Some(p) = data(STRATUS) else { return };
    let doc = scan_json(&[
        "--logs",
        p.to_str().unwrap(),
        "--inventory",
        dir.join("example-authz-details.json").to_str().unwrap(),
    ]);
    let ids = doc["identities"].as_array().unwrap();
    let inv: Vec<&serde_json::Value> = ids.iter().filter(|i| i["in_inventory"] == true).collect();
    assert_eq!(inv.len(), 6);
    let risky = |i: &serde_json::Value| {
        codes(i)
            .iter()
            .any(|c| c == "PRIV_ADMIN" || c == "PRIV_ESCALATION_PATH")
    };
    let min_risky = inv
        .iter()
        .filter(|i| risky(i))
        .map(|i| i["score"].as_f64().unwrap())
        .fold(f64::MAX, f64::min);
    let max_other = inv
        .iter()
        .filter(|i| !risky(i))
        .map(|i| i["score"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(inv.iter().any(|i| risky(i)));
    assert!(min_risky > max_other, "{min_risky} vs {max_other}");
}

/// The default policy on the public data: the stolen credentials are rotated (not a silent
/// notify), nothing is contained on a score alone, and every decision is a dry-run plan with
/// expiries and undo instructions.
#[test]
fn default_policy_plans_proportionate_responses_on_public_data() {
    let Some(otrf) = data(OTRF) else { return };
    let stratus = data(STRATUS).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cases = tmp.path().join("cases.sqlite");
    let ledger = tmp.path().join("evidence.sqlite");
    let doc = scan_json(&[
        "--logs",
        otrf.to_str().unwrap(),
        stratus.to_str().unwrap(),
        "--respond",
        "plan",
        "--cases",
        cases.to_str().unwrap(),
    ]);
    let waf = identity(&doc, "BankingWAFRole");
    let d = &waf["decision"];
    let tiers = [
        "observe",
        "notify",
        "step_up",
        "jit_restrict",
        "rotate",
        "owner_review",
        "contain",
    ];
    let rank = |t: &serde_json::Value| {
        tiers
            .iter()
            .position(|x| *x == t.as_str().unwrap())
            .unwrap()
    };
    assert!(
        rank(&d["tier"]) >= rank(&serde_json::json!("rotate")),
        "{d:#}"
    );
    assert!(
        d["actions"]
            .as_array()
            .unwrap()
            .iter()
            // A role's stolen credentials are answered by a session reset (issue 10).
            .any(|a| a["type"] == "reset_sessions"),
        "{d:#}"
    );
    assert!(
        d["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("EXP_CREDENTIAL_OFF_WORKLOAD")),
        "{d:#}"
    );
    for i in doc["identities"].as_array().unwrap() {
        let Some(d) = i["decision"].as_object() else {
            continue;
        };
        for a in d["actions"].as_array().unwrap() {
            assert_eq!(a["status"], "planned", "dry run is the default");
            assert!(!a["undo"].as_str().unwrap().is_empty());
            if a["type"] == "restrict" || a["type"] == "rotate" {
                assert!(
                    a["expires_in_secs"]
                        .as_u64()
                        .is_some_and(|s| s > 0 && s <= 4 * 3600),
                    "{a}"
                );
            }
            // Containment (irreversible) is never applied without an approval: at most planned
            // as owner review.
            assert_ne!(a["type"], "contain", "{}: {d:?}", i["id"]);
        }
        // A low-privilege identity is never contained on a score alone.
        if i["drivers"]["privilege"].as_f64().unwrap() < 0.3 {
            assert_ne!(d["tier"], "contain");
        }
    }
    // One case per identity with a decision above observe; only its owner or an admin acts on it.
    let list = tripline()
        .args(["case", "--cases", cases.to_str().unwrap(), "list"])
        .output()
        .unwrap();
    let text = String::from_utf8(list.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("BankingWAFRole"))
        .unwrap_or_else(|| panic!("{text}"));
    let id = line.split_whitespace().next().unwrap();
    let stranger = tripline()
        .args([
            "case",
            "--cases",
            cases.to_str().unwrap(),
            "approve",
            id,
            "--as",
            "mallory",
        ])
        .output()
        .unwrap();
    assert_eq!(
        stranger.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&stranger.stderr)
    );
    for step in [
        vec!["approve", id, "--as", "secops"],
        vec![
            "resolve",
            id,
            "--as",
            "secops",
            "--note",
            "rotated and reviewed",
        ],
    ] {
        let admin = tripline()
            .args([
                "case",
                "--cases",
                cases.to_str().unwrap(),
                "--admin",
                "secops",
                "--evidence",
                ledger.to_str().unwrap(),
            ])
            .args(&step)
            .output()
            .unwrap();
        assert!(
            admin.status.success(),
            "{}",
            String::from_utf8_lossy(&admin.stderr)
        );
    }
    // Both verdicts are in the evidence ledger, which verifies.
    let v = evidence_verifies(&ledger);
    assert!(v.contains(": ok, 2 records,"), "{v}");
    let again = tripline()
        .args(["case", "--cases", cases.to_str().unwrap(), "list"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout)
        .lines()
        .any(|l| l.contains(id) && l.contains("resolved")));
}

#[test]
fn shipped_policy_tests_pass() {
    let out = tripline().args(["policy", "test"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(", 0 failed"));
}
