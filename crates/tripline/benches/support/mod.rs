//! Shared by the `pipeline` bench and the `e2e_bench` example: a simulated CloudTrail JSON Lines
//! buffer, the reference "bare typed parse" of it, and the two Tripline paths over it.
//!
//! Not a bench target of its own: cargo only discovers `benches/*.rs` and `benches/*/main.rs`.

#![allow(dead_code)]

use serde::Deserialize;
use std::io::Read;
use std::path::Path;
use tripline_engine::{Engine, EngineConfig, Report};
use tripline_ingest::{Item, Limits, LogReader, ReadStats};
use tripline_sim::{simulate, Layout, SimConfig};

/// The fields a risk engine needs from a CloudTrail record, and nothing else: the reference
/// cost of turning one line into typed data with serde.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BareRecord {
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    pub event_time: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub user_identity: Option<BareIdentity>,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub aws_region: Option<String>,
    pub error_code: Option<String>,
    pub recipient_account_id: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BareIdentity {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub arn: Option<String>,
    pub access_key_id: Option<String>,
    pub session_context: Option<BareSessionContext>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BareSessionContext {
    pub session_issuer: Option<BareIssuer>,
}

#[derive(Debug, Deserialize)]
pub struct BareIssuer {
    pub arn: Option<String>,
}

/// Simulates an organisation (CloudTrail only, JSON Lines) into `dir` and returns the
/// decompressed `cloudtrail.jsonl` bytes and the number of non-empty lines.
pub fn simulated_cloudtrail(
    dir: &Path,
    target_events: u64,
    identities: usize,
) -> Result<(Vec<u8>, u64), Box<dyn std::error::Error>> {
    let cfg = SimConfig {
        target_events: Some(target_events),
        identities,
        k8s: false,
        layout: Layout::JsonLines,
        ..SimConfig::default()
    };
    simulate(&cfg, dir)?;
    let file = std::fs::File::open(dir.join("cloudtrail.jsonl.gz"))?;
    let mut bytes = Vec::new();
    flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)).read_to_end(&mut bytes)?;
    let lines = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .count() as u64;
    Ok((bytes, lines))
}

/// (a) One `serde_json::from_str::<BareRecord>` per line. Returns the records parsed.
pub fn bare_typed_parse(bytes: &[u8]) -> u64 {
    let mut n = 0u64;
    for line in bytes.split(|&b| b == b'\n') {
        if line.is_empty() {
            continue;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        if let Ok(rec) = serde_json::from_str::<BareRecord>(text) {
            std::hint::black_box(&rec);
            n += 1;
        }
    }
    n
}

/// (b) The ingest reader over the whole buffer. Returns (events, stats).
pub fn ingest_parse(bytes: &[u8]) -> (u64, ReadStats) {
    let reader = LogReader::new(Limits::default());
    let mut stats = ReadStats::default();
    let mut events = 0u64;
    reader.read_bytes("bench", bytes, &mut stats, &mut |item| {
        if let Item::Event(ev) = item {
            std::hint::black_box(&ev);
            events += 1;
        }
    });
    (events, stats)
}

/// (c) Read → engine ingest → time-ordered pass and scoring.
pub fn full_pipeline(bytes: &[u8]) -> (ReadStats, Report) {
    let reader = LogReader::new(Limits::default());
    let mut engine = Engine::new(EngineConfig::default());
    let mut stats = ReadStats::default();
    reader.read_bytes("bench", bytes, &mut stats, &mut |item| {
        if let Item::Event(ev) = item {
            engine.ingest(&ev);
        }
    });
    let report = engine.assess(None, |_| {});
    (stats, report)
}
