//! Arbitrary bytes through the log reader under small caps. Checks ARCHITECTURE.md invariant 1:
//! nothing panics, and every record is exactly one of an event, a rejection, or a counted
//! non-final Kubernetes audit stage (`records == events + rejected + k8s_non_final_stages`),
//! with the sink seeing exactly the events and rejections the stats count.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_ingest::{Item, Limits, LogReader, ReadStats};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_record_bytes: 2048,
        max_document_bytes: 16 << 10,
        max_decompressed_bytes: 64 << 10,
        max_depth: 8,
    };
    let reader = LogReader::new(limits);
    let mut stats = ReadStats::default();
    let (mut events, mut rejected) = (0u64, 0u64);
    reader.read_bytes("fuzz", data, &mut stats, &mut |item| match item {
        Item::Event(_) => events += 1,
        Item::Rejected(_) => rejected += 1,
    });
    assert_eq!(stats.events, events, "events counted vs emitted: {stats:?}");
    assert_eq!(
        stats.rejected_total(),
        rejected,
        "rejections counted vs emitted: {stats:?}"
    );
    assert_eq!(
        stats.records,
        stats.events + stats.rejected_total() + stats.k8s_non_final_stages,
        "records != events + rejected + k8s_non_final_stages: {stats:?}"
    );
    assert_eq!(
        stats.events,
        stats.cloudtrail_events + stats.k8s_events,
        "events by source: {stats:?}"
    );
});
