//! A simulated organisation end to end: what the engine says about each injected incident, and
//! that a legitimate scale-up is told apart from a volume spike.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
use common::*;
use std::collections::{BTreeMap, BTreeSet};

#[test]
fn incidents_are_explained_by_their_own_events_and_scale_up_is_not_a_spike() {
    let tmp = tempfile::tempdir().unwrap();
    let org = tmp.path().join("org");
    let out = tripline()
        .args([
            "simulate",
            "--out",
            org.to_str().unwrap(),
            "--seed",
            "42",
            "--days",
            "14",
            "--identities",
            "30",
            "--events",
            "120000",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = |rel: &str| org.join(rel).to_str().unwrap().to_string();
    let doc = scan_json(&[
        "--logs",
        &p("cloudtrail"),
        &p("k8s-audit"),
        "--inventory",
        &p("inventory/authorization-details.json"),
        &p("inventory/credential-report.csv"),
        "--owners",
        &p("owners.yaml"),
    ]);
    assert_eq!(doc["stats"]["rejected_total"], 0);
    // Malicious event ids per incident identity, from the labels.
    let labels = std::fs::read_to_string(org.join("labels.csv")).unwrap();
    let mut malicious: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in labels.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[1] == "malicious" {
            malicious
                .entry(c[3].to_string())
                .or_default()
                .insert(c[0].to_string());
        }
    }
    assert!(malicious.len() >= 6, "{malicious:?}");
    for (id, events) in &malicious {
        let ident = doc["identities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == id.as_str())
            .unwrap_or_else(|| panic!("{id} missing"));
        let linked: BTreeSet<&str> = ident["signals"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["severity"] != "info")
            .flat_map(|s| {
                s["event_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap())
            })
            .filter(|e| events.contains(*e))
            .collect();
        eprintln!(
            "{id}: score {} ({}), {} of {} malicious events linked",
            ident["score"],
            ident["level"],
            linked.len(),
            events.len()
        );
        assert!(
            !linked.is_empty(),
            "{id}: no signal points at its incident:\n{:#}",
            ident["signals"]
        );
        assert_ne!(ident["level"], "low", "{id}");
    }
    // The scale-up: explained, not a spike.
    let incidents = std::fs::read_to_string(org.join("incidents.csv")).unwrap();
    let scale = incidents
        .lines()
        .find(|l| l.contains(",benign,scale_up,"))
        .unwrap();
    let who = scale.split(',').nth(1).unwrap();
    let ident = doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == who)
        .unwrap();
    let c = codes(ident);
    assert!(c.contains(&"CTX_SCALE_UP".to_string()), "{c:?}");
    assert!(!c.contains(&"BEH_VOLUME_SPIKE".to_string()), "{c:?}");
}
