//! One source of recommendation: for a simulated organisation, the triage table's next step,
//! the JSON `next_step` and OCSF's remediation are the escalation policy's decision, without
//! `--respond`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;
use std::collections::BTreeMap;

#[test]
fn the_table_next_step_is_the_policy_tier_for_every_identity() {
    let tmp = tempfile::tempdir().unwrap();
    let org = tmp.path().join("org");
    stdout_ok(tripline().args([
        "simulate",
        "--out",
        org.to_str().unwrap(),
        "--seed",
        "7",
        "--days",
        "7",
        "--identities",
        "20",
        "--events",
        "20000",
    ]));
    let p = |rel: &str| org.join(rel).to_str().unwrap().to_string();
    let input = [
        "--logs".to_string(),
        p("cloudtrail"),
        p("k8s-audit"),
        "--inventory".into(),
        p("inventory/authorization-details.json"),
        "--owners".into(),
        p("owners.yaml"),
    ];
    let input: Vec<&str> = input.iter().map(String::as_str).collect();
    let doc = scan_json(&input);
    let plan = scan_json(&[&input[..], &["--respond", "plan"]].concat());
    let mut tiers: BTreeMap<String, usize> = BTreeMap::new();
    let idents = doc["identities"].as_array().unwrap();
    assert!(idents.len() >= 10);
    for i in idents {
        let Some(tier) = i["decision"]["tier"].as_str() else {
            assert!(i["decision"].is_null());
            continue;
        };
        let next = i["next_step"].as_str().unwrap();
        assert!(
            next == tier || next.starts_with(&format!("{tier}: ")),
            "{next} vs {tier}"
        );
        // The same decision with and without --respond plan.
        let planned = identity(&plan, i["id"].as_str().unwrap());
        assert_eq!(planned["decision"]["tier"], tier);
        assert_eq!(planned["next_step"], i["next_step"]);
        *tiers.entry(tier.to_string()).or_default() += 1;
    }
    assert!(tiers.len() >= 2, "{tiers:?}");
    // The table: one row per identity whose next-step cell starts with its tier.
    let table = stdout_ok(
        tripline()
            .args(["scan", "--all", "--format", "table"])
            .args(&input),
    );
    assert!(!table.contains("time-boxed restriction now"), "{table}");
    for (tier, n) in &tiers {
        let rows = table
            .lines()
            .filter(|l| {
                l.split(['│', '┆']).any(|cell| {
                    let c = cell.trim();
                    c == tier || c.starts_with(&format!("{tier}:"))
                })
            })
            .count();
        assert_eq!(rows, *n, "tier {tier}\n{table}");
    }
    // `explain` prints the same recommendation and the policy's reasons.
    let top = idents
        .iter()
        .find(|i| i["decision"]["tier"].is_string() && i["decision"]["tier"] != "observe")
        .unwrap();
    let explained = stdout_ok(
        tripline()
            .args(["explain", top["id"].as_str().unwrap()])
            .args(&input),
    );
    assert!(
        explained.contains(top["next_step"].as_str().unwrap()),
        "{explained}"
    );
    assert!(explained.contains("policy: "), "{explained}");
    // OCSF carries the same text.
    let ocsf = stdout_ok(
        tripline()
            .args(["scan", "--all", "--format", "ocsf"])
            .args(&input),
    );
    for line in ocsf.lines() {
        let f: serde_json::Value = serde_json::from_str(line).unwrap();
        let uid = f["resources"][0]["uid"].as_str().unwrap();
        let i = identity(&doc, uid);
        assert_eq!(f["remediation"]["desc"], i["next_step"], "{uid}");
    }
}
