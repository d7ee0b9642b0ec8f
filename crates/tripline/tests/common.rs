//! Helpers shared by the CLI tests.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

/// `../shared/data`, or `None` (with a visible message) when absent.
pub fn data(rel: &str) -> Option<PathBuf> {
    match tripline_ingest::inventory::shared_data_dir() {
        Some(d) => Some(d.join(rel)),
        None => {
            eprintln!(
                "SKIPPED: ../shared/data is absent (set TRIPLINE_SHARED_DATA); {rel} not tested"
            );
            None
        }
    }
}

pub fn tripline() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("tripline").unwrap();
    c.env_remove("COLUMNS");
    c
}

/// The stdout of a run that must succeed (its stderr is the failure message).
pub fn stdout_ok(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The JSON document a run that must succeed prints.
pub fn json_ok(cmd: &mut assert_cmd::Command) -> serde_json::Value {
    serde_json::from_str(&stdout_ok(cmd)).unwrap()
}

/// Runs `tripline scan … --format json --all` and returns the parsed document.
pub fn scan_json(args: &[&str]) -> serde_json::Value {
    json_ok(
        tripline()
            .arg("scan")
            .args(args)
            .args(["--format", "json", "--all"]),
    )
}

/// `tripline evidence verify --store STORE` passes (exit 0); its report line.
pub fn evidence_verifies(store: &std::path::Path) -> String {
    let out = tripline()
        .args(["evidence", "verify", "--store", store.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    text
}

pub fn identity<'a>(doc: &'a serde_json::Value, id_part: &str) -> &'a serde_json::Value {
    doc["identities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"].as_str().unwrap().contains(id_part))
        .unwrap_or_else(|| panic!("no identity {id_part}"))
}

pub fn codes(ident: &serde_json::Value) -> Vec<String> {
    ident["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_string())
        .collect()
}
