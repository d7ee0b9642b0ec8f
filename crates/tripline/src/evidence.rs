//! Writing a scan into the evidence ledger, and `tripline evidence verify|export`.

use crate::cli::{EvidenceArgs, EvidenceCommand};
use crate::scan::{now, ScanResult};
use crate::Failure;
use anyhow::anyhow;
use std::path::Path;
use tripline_store::{Entry, Evidence, InputSummary, Score, VerifyReport};

/// Exit code when a ledger or bundle fails verification.
pub const TAMPERED: u8 = 4;

/// Appends what a scan read and concluded: the input summary, then per non-human identity its
/// score and signals, in one transaction.
pub fn record_scan(path: &Path, r: &ScanResult) -> Result<u64, Failure> {
    let mut ev = Evidence::open(path)
        .map_err(|e| Failure::internal(anyhow!(e).context("opening the evidence ledger")))?;
    let at = now();
    let s = &r.stats;
    let summary = InputSummary {
        files: s.files,
        records: s.records,
        events: s.events,
        rejected: s
            .rejected
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), *v))
            .collect(),
    };
    let store_err =
        |e: tripline_store::StoreError| Failure::internal(anyhow!(e).context("writing evidence"));
    let mut entries = vec![Entry::of("scan", &summary, at).map_err(store_err)?];
    if let Some(v) = &r.policy_version {
        entries.push(Entry::new(
            tripline_store::Kind::PolicyVersion,
            "policy",
            serde_json::json!({"version": v, "mode": r.respond_mode.unwrap_or("plan")}),
            at,
        ));
    }
    for (i, a) in r.report.identities.iter().zip(&r.report.assessments) {
        if !i.kind.is_nhi() {
            continue;
        }
        entries.push(Entry::of(i.id.clone(), &Score::of(a), at).map_err(store_err)?);
        for sig in &a.signals {
            entries.push(Entry::of(i.id.clone(), sig, at).map_err(store_err)?);
        }
        if let Some(d) = r.decisions.get(&i.id) {
            let expires = d
                .actions
                .iter()
                .filter_map(|x| x.expires_in_secs)
                .max()
                .map(|s| {
                    tripline_model::Timestamp(
                        at.0 + i64::try_from(s).unwrap_or(i64::MAX / 2_000) * 1000,
                    )
                });
            let body = tripline_store::Decision {
                identity: i.id.clone(),
                tier: d.tier.as_str().to_string(),
                actions: d
                    .actions
                    .iter()
                    .map(|x| format!("{} ({:?}; undo: {})", x.kind.as_str(), x.status, x.undo))
                    .collect(),
                reasons: d.reasons.clone(),
                expires,
            };
            entries.push(Entry::of(i.id.clone(), &body, at).map_err(store_err)?);
        }
    }
    for o in &r.outcomes {
        let body = serde_json::to_value(o).map_err(|e| Failure::internal(anyhow!(e)))?;
        entries.push(Entry::new(
            tripline_store::Kind::Action,
            o.identity.clone(),
            body,
            at,
        ));
    }
    let appended = ev.append_batch(&entries).map_err(store_err)?;
    Ok(appended.count as u64)
}

fn report(what: &str, r: &VerifyReport) -> u8 {
    match r {
        VerifyReport::Ok { records, head_hash } => {
            println!("{what}: ok, {records} records, head {head_hash}");
            0
        }
        other => {
            println!("{what}: FAILED: {other}");
            TAMPERED
        }
    }
}

pub fn run(args: &EvidenceArgs) -> Result<u8, Failure> {
    match &args.command {
        EvidenceCommand::Verify { store, bundle } => match (store, bundle) {
            (Some(p), None) => {
                crate::scan::require_exists(p)?;
                let ev = Evidence::open(p).map_err(|e| Failure::usage(anyhow!(e)))?;
                let r = ev.verify().map_err(|e| Failure::usage(anyhow!(e)))?;
                Ok(report(&p.display().to_string(), &r))
            }
            (None, Some(b)) => {
                let r = tripline_store::verify_bundle(b).map_err(|e| Failure::usage(anyhow!(e)))?;
                Ok(report(&b.display().to_string(), &r))
            }
            _ => Err(Failure::usage(anyhow!(
                "give exactly one of --store FILE or --bundle DIR"
            ))),
        },
        EvidenceCommand::Export { store, out } => {
            crate::scan::require_exists(store)?;
            let ev = Evidence::open(store).map_err(|e| Failure::usage(anyhow!(e)))?;
            match ev.export(out) {
                Ok(s) => {
                    println!(
                        "exported {} records to {} (head {})",
                        s.manifest.records,
                        s.dir.display(),
                        s.manifest.head_hash
                    );
                    Ok(0)
                }
                Err(tripline_store::StoreError::Tampered { seq, problem }) => {
                    println!(
                        "{}: FAILED at record {seq}: {problem}; nothing exported",
                        store.display()
                    );
                    Ok(TAMPERED)
                }
                Err(e) => Err(Failure::internal(anyhow!(e))),
            }
        }
    }
}
