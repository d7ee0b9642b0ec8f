//! Posture-only scans: inventory without logs scores every principal from its standing posture,
//! ranks admin above escalation above nothing, and never reaches an escalation threshold alone.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;

fn score_of(doc: &serde_json::Value, suffix: &str) -> f64 {
    doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("{suffix} not scored: {doc:#}"))["score"]
        .as_f64()
        .unwrap()
}

fn codes(doc: &serde_json::Value, suffix: &str) -> Vec<String> {
    doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"].as_str().unwrap().ends_with(suffix))
        .unwrap()["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn authorization_details_alone_rank_admin_above_escalation_above_none_below_step_up() {
    let Some(p) = data("cloudsplaining-authz-samples/example-authz-details.json") else {
        return;
    };
    let doc = scan_json(&["--inventory", p.to_str().unwrap()]);
    let ids = doc["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 6, "every principal is scored: {doc:#}");
    let admin = score_of(&doc, ":user/obama");
    let escalation = score_of(&doc, ":role/OverprivilegedEC2");
    let nothing = score_of(&doc, ":role/MyRole");
    assert!(
        admin > escalation && escalation > nothing,
        "{admin} {escalation} {nothing}"
    );
    // Standing posture is a finding for review, not an incident: below every class's step-up
    // threshold in the default policy (the lowest is admin_facing's 30).
    for i in ids {
        assert!(i["score"].as_f64().unwrap() < 30.0, "{i:#}");
    }
}

#[test]
fn a_credential_report_alone_yields_key_age_rotation_and_unused_key_findings() {
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("credential-report.csv");
    let header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    // An old key in daily use, never rotated; a key nobody has used for a year; a fresh key.
    let rows = [
        "svc-etl,arn:aws:iam::111122223333:user/svc-etl,2021-01-04T10:00:00+00:00,false,N/A,N/A,N/A,false,true,2021-01-04T10:00:00+00:00,2026-11-30T08:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        "svc-old,arn:aws:iam::111122223333:user/svc-old,2022-03-01T10:00:00+00:00,false,N/A,N/A,N/A,false,true,2023-05-01T10:00:00+00:00,2023-06-01T10:00:00+00:00,us-east-1,sts,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
    ];
    std::fs::write(&report, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    let doc = scan_json(&["--inventory", report.to_str().unwrap()]);
    let etl = codes(&doc, ":user/svc-etl");
    assert!(etl.iter().any(|c| c == "EXP_NEVER_ROTATED"), "{etl:?}");
    let old = codes(&doc, ":user/svc-old");
    assert!(old.iter().any(|c| c == "EXP_UNUSED_ACTIVE_KEY"), "{old:?}");
    assert!(
        old.iter()
            .any(|c| c == "EXP_KEY_AGE" || c == "EXP_NEVER_ROTATED"),
        "{old:?}"
    );
}

#[test]
fn a_scan_needs_logs_or_inventory() {
    let out = tripline().args(["scan"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
