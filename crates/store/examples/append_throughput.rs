//! Append, verify and export throughput of the evidence ledger.
//!
//! ```text
//! cargo run --release -p tripline-store --example append_throughput [DIR]
//! ```
//!
//! Writes realistic signal records (a model `Signal` body, ~600 bytes of canonical JSON) into a
//! fresh ledger under DIR (default: the system temp dir), which it removes afterwards.

use std::error::Error;
use std::time::Instant;
use tripline_model::{Driver, Severity, Signal, Timestamp};
use tripline_store::{verify_bundle, Entry, Evidence, Kind, VerifyReport};

fn signal_entry(i: u64) -> Result<Entry, Box<dyn Error>> {
    let t = Timestamp(1_722_375_070_000 + i as i64 * 37);
    let signal = Signal {
        code: "BEH_NEW_NETWORK".into(),
        driver: Driver::Behaviour,
        severity: Severity::High,
        summary: format!("first call from network 203.0.{}.0/24 in 30 days", i % 256),
        event_ids: (0..5)
            .map(|k| format!("3f1b6c2e-8a4d-4e3b-9c1a-{:012x}", i * 5 + k))
            .collect(),
        occurrences: 1 + i % 17,
        first_seen: Some(t),
        last_seen: Some(t),
        frameworks: vec!["OWASP-NHI:NHI5".into(), "NIST-CSF:DE.CM-01".into()],
        points: 12.5 + (i % 100) as f64 / 8.0,
    };
    Ok(Entry::of(
        format!("arn:aws:iam::123456789012:role/svc-{}", i % 500),
        &signal,
        t,
    )?)
}

fn rate(n: u64, secs: f64) -> String {
    format!(
        "{n} records in {secs:.3} s = {:.0} records/s",
        n as f64 / secs
    )
}

fn main() -> Result<(), Box<dyn Error>> {
    let base = std::env::args_os()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("tripline-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("evidence.db");
    let mut ev = Evidence::open(&db)?;

    // The CPU part alone: canonical JSON and the SHA-256 chain, no SQLite.
    let sample: Vec<Entry> = (0..100_000).map(signal_entry).collect::<Result<_, _>>()?;
    let t = Instant::now();
    let mut prev = tripline_store::GENESIS_HASH.to_string();
    for (seq, e) in (1u64..).zip(&sample) {
        let body = tripline_store::canonical_json(&e.body)?;
        prev = tripline_store::record_hash(
            &prev,
            seq,
            "2024-07-30T21:31:10.000Z",
            e.kind.as_str(),
            &e.subject,
            &body,
        );
    }
    println!(
        "canonical JSON + hash only: {}",
        rate(sample.len() as u64, t.elapsed().as_secs_f64())
    );

    let single = 300u64;
    let entries: Vec<Entry> = (0..single).map(signal_entry).collect::<Result<_, _>>()?;
    let t = Instant::now();
    for e in &entries {
        ev.append(e.kind, &e.subject, &e.body, e.at)?;
    }
    println!(
        "single append (one fsync'd transaction each): {}",
        rate(single, t.elapsed().as_secs_f64())
    );

    for batch in [100usize, 1_000, 10_000] {
        let total = 100_000u64;
        let entries: Vec<Entry> = (0..total).map(signal_entry).collect::<Result<_, _>>()?;
        let t = Instant::now();
        for chunk in entries.chunks(batch) {
            ev.append_batch(chunk)?;
        }
        println!(
            "append_batch, {batch} per transaction: {}",
            rate(total, t.elapsed().as_secs_f64())
        );
    }

    let n = ev.len()?;
    let t = Instant::now();
    let report = ev.verify()?;
    println!("verify: {}", rate(n, t.elapsed().as_secs_f64()));
    if !matches!(report, VerifyReport::Ok { .. }) {
        return Err(format!("verify: {report}").into());
    }
    let t = Instant::now();
    let summary = ev.export(dir.join("bundle"))?;
    println!("export: {}", rate(n, t.elapsed().as_secs_f64()));
    let t = Instant::now();
    let report = verify_bundle(&summary.dir)?;
    println!("verify_bundle: {}", rate(n, t.elapsed().as_secs_f64()));
    if !report.is_ok() {
        return Err(format!("verify_bundle: {report}").into());
    }
    let t = Instant::now();
    let signals = ev.records(
        &tripline_store::RecordFilter::all()
            .kind(Kind::Signal)
            .subject("arn:aws:iam::123456789012:role/svc-42"),
    )?;
    println!(
        "records(kind, subject): {} rows in {:.1} ms",
        signals.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let db_bytes = std::fs::metadata(&db)?.len();
    let jsonl_bytes = std::fs::metadata(summary.dir.join("evidence.jsonl"))?.len();
    println!(
        "{n} records: database {:.1} MB, evidence.jsonl {:.1} MB ({} bytes/record)",
        db_bytes as f64 / 1e6,
        jsonl_bytes as f64 / 1e6,
        jsonl_bytes / n.max(1)
    );
    drop(ev);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
