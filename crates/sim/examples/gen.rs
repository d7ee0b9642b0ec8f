//! Generates a simulated organisation: `cargo run --release -p tripline-sim --example gen -- <out_dir> [target_events] [days] [jsonl]`.

use std::path::PathBuf;
use std::time::Instant;
use tripline_sim::{simulate, Layout, SimConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "sim-out".into()));
    let target = args.next().and_then(|s| s.parse::<u64>().ok());
    let days = args
        .next()
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(14);
    let layout = match args.next().as_deref() {
        Some("jsonl") => Layout::JsonLines,
        _ => Layout::S3Tree,
    };
    let cfg = SimConfig {
        target_events: target,
        days,
        layout,
        ..SimConfig::default()
    };
    let t = Instant::now();
    let s = simulate(&cfg, &out)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} events ({} cloudtrail, {} k8s, {} malicious) for {} identities, {} files, {} incidents in {:.2}s ({:.0} events/s)",
        s.events,
        s.cloudtrail_events,
        s.k8s_events,
        s.malicious_events,
        s.identities,
        s.files.len(),
        s.incidents.len(),
        secs,
        s.events as f64 / secs
    );
    for i in &s.incidents {
        println!(
            "  {} {} {} {} {}..{} events={}",
            i.id, i.label, i.category, i.identity, i.start, i.end, i.events
        );
    }
    Ok(())
}
