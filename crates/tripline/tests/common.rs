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

/// Runs `tripline scan … --format json --all` and returns the parsed document.
pub fn scan_json(args: &[&str]) -> serde_json::Value {
    let out = tripline()
        .arg("scan")
        .args(args)
        .args(["--format", "json", "--all"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
