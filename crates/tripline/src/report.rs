//! Reports: the ranked triage table, the JSON document (docs/scan-output.schema.json), OCSF
//! Detection Findings, `explain`, and the run summary on stderr.

use crate::scan::ScanResult;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;
use serde_json::json;
use std::io::{self, Write};
use std::path::Path;
use tripline_model::{
    Assessment, Credential, CredentialKind, Drivers, Identity, Signal, Timestamp,
};

/// Version of the JSON document; bump on any incompatible change.
pub const SCHEMA_VERSION: &str = "1.0";
/// OCSF schema version the findings follow.
pub const OCSF_VERSION: &str = "1.3.0";

fn ts(t: Option<Timestamp>) -> Option<String> {
    t.map(|t| t.to_string())
}

/// Identities to list, highest score first, ties by id.
fn ranked(r: &ScanResult, all: bool) -> Vec<(&Identity, &Assessment)> {
    let mut rows: Vec<(&Identity, &Assessment)> = r
        .report
        .identities
        .iter()
        .zip(&r.report.assessments)
        .filter(|(i, _)| all || i.kind.is_nhi())
        .collect();
    rows.sort_by(|a, b| {
        b.1.score
            .total_cmp(&a.1.score)
            .then_with(|| a.0.id.cmp(&b.0.id))
    });
    rows
}

#[derive(Serialize)]
struct CredentialView<'a> {
    id: &'a str,
    kind: CredentialKind,
    active: Option<bool>,
    created: Option<String>,
    last_rotated: Option<String>,
    last_used: Option<String>,
    events: u64,
}

impl<'a> From<&'a Credential> for CredentialView<'a> {
    fn from(c: &'a Credential) -> Self {
        Self {
            id: &c.id,
            kind: c.kind,
            active: c.active,
            created: ts(c.created),
            last_rotated: ts(c.last_rotated),
            last_used: ts(c.last_used.or(c.last_seen)),
            events: c.events,
        }
    }
}

#[derive(Serialize)]
struct SignalView<'a> {
    code: &'a str,
    driver: &'static str,
    severity: &'static str,
    summary: &'a str,
    points: f64,
    occurrences: u64,
    first_seen: Option<String>,
    last_seen: Option<String>,
    event_ids: &'a [String],
    frameworks: &'a [String],
}

impl<'a> From<&'a Signal> for SignalView<'a> {
    fn from(s: &'a Signal) -> Self {
        Self {
            code: &s.code,
            driver: s.driver.as_str(),
            severity: s.severity.as_str(),
            summary: &s.summary,
            points: (s.points * 10.0).round() / 10.0,
            occurrences: s.occurrences,
            first_seen: ts(s.first_seen),
            last_seen: ts(s.last_seen),
            event_ids: &s.event_ids,
            frameworks: &s.frameworks,
        }
    }
}

fn round2(d: &Drivers) -> serde_json::Value {
    let r = |x: f64| (x * 100.0).round() / 100.0;
    json!({"privilege": r(d.privilege), "exposure": r(d.exposure), "behaviour": r(d.behaviour)})
}

fn suppression_json(r: &ScanResult, id: &str) -> serde_json::Value {
    r.suppressions.get(id).map_or(serde_json::Value::Null, |f| {
        json!({"verdict": f.verdict.as_str(), "reason": f.reason, "until": f.expires, "by": f.by, "at": f.at})
    })
}

/// The recommendation for an identity: the escalation policy's decision (tier and actions), the
/// one source the table, JSON, OCSF and `explain` all show.
pub fn recommendation(r: &ScanResult, i: &Identity) -> String {
    match r.decisions.get(&i.id) {
        Some(d) => {
            let actions = d
                .actions
                .iter()
                .map(|x| match x.expires_in_secs {
                    Some(s) => format!("{} for {}h", x.kind.as_str(), s / 3600),
                    None => x.kind.as_str().to_string(),
                })
                .collect::<Vec<_>>();
            if actions.is_empty() {
                d.tier.as_str().to_string()
            } else {
                format!("{}: {}", d.tier.as_str(), actions.join(", "))
            }
        }
        None if r.suppressions.contains_key(&i.id) => "suppressed: no decision".to_string(),
        None => "no decision: not a non-human identity".to_string(),
    }
}

fn identity_json(r: &ScanResult, i: &Identity, a: &Assessment) -> serde_json::Value {
    json!({
        "suppressed": suppression_json(r, &i.id),
        "decision": r.decisions.get(&i.id).map(|d| serde_json::to_value(d).unwrap_or_default()),
        "applied": r.outcomes.iter().filter(|o| o.identity == i.id).map(|o| serde_json::to_value(o).unwrap_or_default()).collect::<Vec<_>>(),
        "id": i.id,
        "name": i.name,
        "kind": i.kind.as_str(),
        "class": i.class.as_str(),
        "class_inferred": i.class_from == tripline_model::Provenance::Inferred,
        "owner": i.owner,
        "environment": i.environment,
        "account": i.account,
        "score": a.score,
        "level": a.level.as_str(),
        "drivers": round2(&a.drivers),
        "next_step": recommendation(r, i),
        "formula": a.formula,
        "events": i.events,
        "first_seen": ts(i.first_seen),
        "last_seen": ts(i.last_seen),
        "in_inventory": i.in_inventory,
        "credentials": i.credentials.iter().map(CredentialView::from).collect::<Vec<_>>(),
        "signals": a.signals.iter().map(SignalView::from).collect::<Vec<_>>(),
    })
}

fn stats_json(r: &ScanResult) -> serde_json::Value {
    let s = &r.stats;
    json!({
        "schema_version": SCHEMA_VERSION,
        "scored_at": ts(r.report.as_of),
        "files": s.files,
        "records": s.records,
        "events": s.events,
        "cloudtrail_events": s.cloudtrail_events,
        "k8s_events": s.k8s_events,
        "k8s_non_final_stages": s.k8s_non_final_stages,
        "derived_event_ids": s.derived_event_ids,
        "unattributed_events": r.report.unattributed_events,
        "rejected": s.rejected.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect::<std::collections::BTreeMap<_, _>>(),
        "rejected_total": s.rejected_total(),
        "inventory_rejected": r.inventory_rejected,
        "identities": r.report.identities.len(),
        "non_human_identities": r.report.identities.iter().filter(|i| i.kind.is_nhi()).count(),
        "unmatched_leaks": r.report.unmatched_leaks.iter().map(|l| json!({"fingerprint": l.fingerprint, "aws_key_id": l.aws_key_id, "found_by": l.found_by, "location": l.location, "verified": l.verified})).collect::<Vec<_>>(),
    })
}

pub fn json(r: &ScanResult, all: bool, out: &mut dyn Write) -> io::Result<()> {
    let identities: Vec<serde_json::Value> = ranked(r, all)
        .into_iter()
        .map(|(i, a)| identity_json(r, i, a))
        .collect();
    serde_json::to_writer_pretty(
        &mut *out,
        &json!({"identities": identities, "stats": stats_json(r)}),
    )?;
    out.write_all(b"\n")
}

fn severity_id(s: tripline_model::Severity) -> u8 {
    s as u8
}

/// One OCSF Detection Finding (class 2004) per signal, as JSON Lines.
pub fn ocsf(r: &ScanResult, all: bool, out: &mut dyn Write) -> io::Result<()> {
    let now = r.report.as_of.map_or(0, |t| t.0);
    for (i, a) in ranked(r, all) {
        let suppressed = r.suppressions.contains_key(&i.id);
        for s in a
            .signals
            .iter()
            .filter(|s| s.severity > tripline_model::Severity::Info)
        {
            let uid = format!("tripline:{}:{}:{}", i.id, s.code, fnv(&s.summary));
            let finding = json!({
                "activity_id": 1,
                "activity_name": "Create",
                "category_uid": 2,
                "category_name": "Findings",
                "class_uid": 2004,
                "class_name": "Detection Finding",
                "type_uid": 200401,
                "type_name": "Detection Finding: Create",
                "severity_id": severity_id(s.severity),
                "severity": s.severity.as_str(),
                "status_id": if suppressed { 3 } else { 1 },
                "status": if suppressed { "Suppressed" } else { "New" },
                "status_detail": r.suppressions.get(&i.id).map(|f| format!("{} until {}: {}", f.verdict.as_str(), f.expires.as_deref().unwrap_or("-"), f.reason)),
                "time": s.last_seen.map_or(now, |t| t.0),
                "message": s.summary,
                "risk_score": a.score.round() as i64,
                "risk_level": a.level.as_str(),
                "metadata": {
                    "version": OCSF_VERSION,
                    "product": {"name": "Tripline", "vendor_name": "Tripline", "version": env!("CARGO_PKG_VERSION")},
                    "labels": s.frameworks,
                },
                "finding_info": {
                    "uid": uid,
                    "title": format!("{}: {}", s.code, i.name),
                    "desc": s.summary,
                    "types": [s.driver.as_str()],
                    "first_seen_time": s.first_seen.map(|t| t.0),
                    "last_seen_time": s.last_seen.map(|t| t.0),
                    "related_events": s.event_ids.iter().map(|e| json!({"uid": e})).collect::<Vec<_>>(),
                },
                "resources": [{
                    "uid": i.id,
                    "name": i.name,
                    "type": i.kind.as_str(),
                    "owner": i.owner.as_ref().map(|o| json!({"name": o})),
                    "labels": [format!("class:{}", i.class.as_str())],
                }],
                "remediation": {"desc": recommendation(r, i)},
            });
            serde_json::to_writer(&mut *out, &finding)?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

fn fnv(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn top_drivers(a: &Assessment) -> String {
    a.signals
        .iter()
        .filter(|s| s.points >= 0.5)
        .take(3)
        .map(|s| format!("{} ({:.0})", s.code, s.points))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn table(r: &ScanResult, all: bool, out: &mut dyn Write) -> io::Result<()> {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some((w, _)) = terminal_width() {
        t.set_width(w);
    } else {
        t.set_width(180);
    }
    t.set_header([
        "score",
        "identity",
        "kind",
        "class",
        "owner",
        "top drivers",
        "next step",
    ]);
    for (i, a) in ranked(r, all) {
        let class = if i.class_from == tripline_model::Provenance::Inferred {
            format!("{}?", i.class.as_str())
        } else {
            i.class.as_str().to_string()
        };
        t.add_row([
            format!("{:.0} {}", a.score, a.level.as_str()),
            i.id.clone(),
            i.kind.as_str().to_string(),
            class,
            i.owner.clone().unwrap_or_else(|| "-".into()),
            top_drivers(a),
            match r.suppressions.get(&i.id) {
                Some(f) => format!(
                    "suppressed ({}) until {}: {}",
                    f.verdict.as_str(),
                    f.expires.as_deref().unwrap_or("-"),
                    f.reason
                ),
                None => recommendation(r, i),
            },
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(out, "(class ending in ? was inferred: set it in the owners file; `tripline explain ID` shows the breakdown)")
}

fn terminal_width() -> Option<(u16, u16)> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .map(|w| (w, 0))
}

/// Prints one identity's breakdown. Returns false when no identity matches.
pub fn explain(r: &ScanResult, query: &str, out: &mut dyn Write) -> io::Result<bool> {
    let pairs: Vec<(&Identity, &Assessment)> = r
        .report
        .identities
        .iter()
        .zip(&r.report.assessments)
        .collect();
    let exact: Vec<_> = pairs
        .iter()
        .filter(|(i, _)| i.id == query || i.name == query)
        .collect();
    let partial: Vec<_> = pairs.iter().filter(|(i, _)| i.id.contains(query)).collect();
    let chosen = if exact.len() == 1 {
        exact.first().copied()
    } else if partial.len() == 1 {
        partial.first().copied()
    } else {
        None
    };
    let Some((i, a)) = chosen else {
        if partial.len() > 1 {
            eprintln!("{query:?} matches {} identities:", partial.len());
            for (i, _) in partial.iter().take(20) {
                eprintln!("  {}", i.id);
            }
        }
        return Ok(false);
    };
    writeln!(out, "{}", i.id)?;
    writeln!(
        out,
        "  kind {} ({:?}), class {} ({:?}), owner {}, environment {}",
        i.kind.as_str(),
        i.kind_from,
        i.class.as_str(),
        i.class_from,
        i.owner.as_deref().unwrap_or("-"),
        i.environment.as_deref().unwrap_or("-")
    )?;
    writeln!(
        out,
        "  {} events from {} to {}",
        i.events,
        ts(i.first_seen).unwrap_or_else(|| "-".into()),
        ts(i.last_seen).unwrap_or_else(|| "-".into())
    )?;
    writeln!(
        out,
        "\nscore {:.1} ({}): {}",
        a.score,
        a.level.as_str(),
        recommendation(r, i)
    )?;
    if let Some(d) = r.decisions.get(&i.id) {
        for reason in &d.reasons {
            writeln!(out, "  policy: {reason}")?;
        }
    }
    writeln!(out, "  {}", a.formula)?;
    for d in [
        tripline_model::Driver::Privilege,
        tripline_model::Driver::Exposure,
        tripline_model::Driver::Behaviour,
    ] {
        let sigs: Vec<&Signal> = a.signals.iter().filter(|s| s.driver == d).collect();
        let pts: f64 = sigs.iter().map(|s| s.points).sum();
        writeln!(out, "\n{} ({:.1} points)", d.as_str(), pts)?;
        if sigs.is_empty() {
            writeln!(out, "  (no signals)")?;
        }
        for s in sigs {
            writeln!(
                out,
                "  {:>5.1}  {} [{}] {}",
                s.points,
                s.code,
                s.severity.as_str(),
                s.summary
            )?;
            if s.occurrences > 1 || s.first_seen.is_some() {
                writeln!(
                    out,
                    "         {} occurrence(s), {} .. {}",
                    s.occurrences,
                    ts(s.first_seen).unwrap_or_default(),
                    ts(s.last_seen).unwrap_or_default()
                )?;
            }
            if !s.event_ids.is_empty() {
                let shown: Vec<&str> = s.event_ids.iter().take(8).map(String::as_str).collect();
                writeln!(
                    out,
                    "         events: {}{}",
                    shown.join(", "),
                    if s.event_ids.len() > 8 {
                        format!(" (+{} more)", s.event_ids.len() - 8)
                    } else {
                        String::new()
                    }
                )?;
            }
            writeln!(out, "         frameworks: {}", s.frameworks.join(", "))?;
        }
    }
    if !i.credentials.is_empty() {
        writeln!(out, "\ncredentials")?;
        for c in i.credentials.iter().take(20) {
            writeln!(
                out,
                "  {} {:?} active={:?} events={} last used {}",
                c.id,
                c.kind,
                c.active,
                c.events,
                ts(c.last_used.or(c.last_seen)).unwrap_or_else(|| "-".into())
            )?;
        }
    }
    Ok(true)
}

/// The run summary, for people, on stderr.
pub fn summary(r: &ScanResult, quarantine: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    let s = &r.stats;
    writeln!(
        out,
        "read {} files ({} gzip), {} records: {} events ({} cloudtrail, {} kubernetes audit), {} non-final audit stages, {} ids derived",
        s.files, s.gzip_files, s.records, s.events, s.cloudtrail_events, s.k8s_events, s.k8s_non_final_stages, s.derived_event_ids
    )?;
    let ids = &r.report.identities;
    let nhi = ids.iter().filter(|i| i.kind.is_nhi()).count();
    let high = r
        .report
        .identities
        .iter()
        .zip(&r.report.assessments)
        .filter(|(i, a)| i.kind.is_nhi() && a.level >= tripline_model::Level::High)
        .count();
    writeln!(
        out,
        "resolved {} identities ({} non-human, {} at high or critical); {} events had no attributable caller",
        ids.len(),
        nhi,
        high,
        r.report.unattributed_events
    )?;
    let rejected = s.rejected_total() + r.inventory_rejected;
    if rejected == 0 {
        writeln!(out, "rejected 0 records")?;
    } else {
        let by: Vec<String> = s
            .rejected
            .iter()
            .map(|(k, v)| format!("{} {}", v, k.as_str()))
            .collect();
        writeln!(
            out,
            "rejected {rejected} records: {}{}{}",
            by.join(", "),
            if r.inventory_rejected > 0 {
                format!(", {} inventory entries", r.inventory_rejected)
            } else {
                String::new()
            },
            match quarantine {
                Some(q) => format!(" (written to {})", q.display()),
                None => " (use --quarantine FILE to keep them)".to_string(),
            }
        )?;
    }
    if !r.report.unmatched_leaks.is_empty() {
        writeln!(
            out,
            "{} leaked secrets matched no credential in these logs or inventory (listed in the json stats): check them by hand",
            r.report.unmatched_leaks.len()
        )?;
    }
    if !s.skipped_files.is_empty() {
        writeln!(
            out,
            "skipped {} files that are not logs",
            s.skipped_files.len()
        )?;
    }
    for (p, why) in &s.unreadable {
        writeln!(out, "unreadable: {}: {why}", p.display())?;
    }
    Ok(())
}
