//! Throughput of the log path on a simulated CloudTrail JSON Lines file held in memory (gzip
//! excluded): a bare typed serde parse of the same bytes (the reference), the ingest reader
//! alone, and the whole pipeline (read, resolve, baseline, signals, score).
//!
//! `cargo bench -p tripline --bench pipeline` (set `TRIPLINE_BENCH_EVENTS` to change the size).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput,
};
use std::hint::black_box;
use std::time::Duration;

fn configure<M: criterion::measurement::Measurement>(g: &mut BenchmarkGroup<'_, M>, events: u64) {
    g.throughput(Throughput::Elements(events));
    // Each iteration takes 0.1-1 s: flat sampling keeps 10 samples within the budget.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(6));
}

fn pipeline(c: &mut Criterion) {
    let target: u64 = std::env::var("TRIPLINE_BENCH_EVENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let (bytes, lines) =
        support::simulated_cloudtrail(dir.path(), target, 60).expect("simulate an organisation");
    // The reference parse and the reader must agree on what is in the file.
    let (events, stats) = support::ingest_parse(&bytes);
    assert_eq!(support::bare_typed_parse(&bytes), lines);
    assert_eq!(events, lines, "every simulated line is an event: {stats:?}");
    eprintln!(
        "pipeline bench: {events} events, {:.1} MiB of JSON Lines ({} bytes/event)",
        bytes.len() as f64 / f64::from(1 << 20),
        bytes.len() as u64 / events.max(1)
    );

    let mut g = c.benchmark_group("bare_typed_parse");
    configure(&mut g, events);
    g.bench_function("serde_json_from_str", |b| {
        b.iter(|| black_box(support::bare_typed_parse(black_box(&bytes))))
    });
    g.finish();

    let mut g = c.benchmark_group("ingest_parse");
    configure(&mut g, events);
    g.bench_function("read_bytes", |b| {
        b.iter(|| black_box(support::ingest_parse(black_box(&bytes)).0))
    });
    g.finish();

    let mut g = c.benchmark_group("full_pipeline");
    configure(&mut g, events);
    g.bench_function("read_ingest_assess", |b| {
        b.iter(|| {
            let (_, report) = support::full_pipeline(black_box(&bytes));
            black_box(report.assessments.len())
        })
    });
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
