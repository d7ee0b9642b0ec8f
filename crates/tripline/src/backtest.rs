//! `tripline backtest`: replay logs through the same pipeline, compare with labels, sweep
//! thresholds, and report (table, JSON, HTML with an SVG chart, CSV curve).

use crate::cli::{BacktestArgs, BacktestFormat};
use crate::scan::{collect_with, ScanResult};
use crate::Failure;
use anyhow::{anyhow, Context};
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write;
use tripline_engine::backtest::{Counts, Labels, Metrics, Recorder, Replay, Thresholds};
use tripline_model::IdentityClass;

pub fn run(args: &BacktestArgs) -> Result<u8, Failure> {
    let mut labels = Labels::default();
    for p in &args.labels {
        tripline_ingest::labels::read(p, &mut labels).map_err(|e| Failure::usage(anyhow!(e)))?;
    }
    if let Some(p) = &args.feedback {
        let fb = tripline_ingest::feedback::read(p).map_err(|e| Failure::usage(anyhow!(e)))?;
        tripline_ingest::feedback::into_labels(&fb, &mut labels);
    }
    let mut recorder = Recorder::default();
    let started = std::time::Instant::now();
    let result = collect_with(
        crate::scan::Inputs::of(&args.input),
        tripline_ingest::Limits::default(),
        &mut |_| Ok(()),
        true,
        &mut |d| recorder.on_detection(d),
    )?;
    let replay = Replay::new(&result.report, recorder, &labels)
        .ok_or_else(|| Failure::internal(anyhow!("the engine kept no event index")))?;
    let elapsed = started.elapsed().as_secs_f64();
    let mut thresholds = Thresholds::uniform(args.threshold);
    for ct in &args.class_threshold {
        let (c, v) = ct.split_once('=').ok_or_else(|| {
            Failure::usage(anyhow!("--class-threshold {ct:?}: expected CLASS=SCORE"))
        })?;
        let class = IdentityClass::parse(c)
            .ok_or_else(|| Failure::usage(anyhow!("--class-threshold: unknown class {c:?}")))?;
        let v: f64 = v.parse().map_err(|_| {
            Failure::usage(anyhow!("--class-threshold {ct:?}: {v:?} is not a number"))
        })?;
        thresholds.by_class.insert(class, v);
    }
    let quiet = args.quiet_minutes * 60;
    let metrics = replay.evaluate(&thresholds, quiet);
    let sweep = replay.sweep(5.0, 95.0, 5.0, quiet);
    let recommended = replay.recommend(&sweep, args.budget);
    let events = result.report.events;
    let rate = events as f64 / elapsed.max(1e-9);
    if let Some(p) = &args.curve_csv {
        std::fs::write(p, curve_csv(&sweep))
            .with_context(|| format!("writing {}", p.display()))
            .map_err(Failure::internal)?;
    }
    if let Some(p) = &args.chart {
        std::fs::write(p, svg_chart(&sweep, args.threshold))
            .with_context(|| format!("writing {}", p.display()))
            .map_err(Failure::internal)?;
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .with_context(|| format!("creating {}", p.display()))
                .map_err(Failure::internal)?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let ctx = Ctx {
        result: &result,
        replay: &replay,
        metrics: &metrics,
        sweep: &sweep,
        thresholds: &thresholds,
        recommended: &recommended,
        budget: args.budget,
        labels: &labels,
    };
    let text = match args.format {
        BacktestFormat::Table => table(&ctx),
        BacktestFormat::Json => {
            serde_json::to_string_pretty(&json_doc(&ctx))
                .map_err(|e| Failure::internal(anyhow!(e)))?
                + "\n"
        }
        BacktestFormat::Html => html(&ctx),
    };
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::internal(anyhow!(e)))?;
    eprintln!(
        "replayed {events} events in {elapsed:.2} s ({rate:.0} events/s, read + score + replay), {} detections scored, {} labels matched no event",
        replay_points(&replay),
        replay.unmatched_labels
    );
    // The same input summary as `scan` (rejections by reason, unreadable paths), and the same
    // exit code for input that could not be read.
    crate::report::summary(&result, None, &mut std::io::stderr())
        .map_err(|e| Failure::internal(anyhow!(e)))?;
    if !result.stats.unreadable.is_empty() {
        return Ok(2);
    }
    Ok(0)
}

fn replay_points(r: &Replay) -> usize {
    r.detections()
}

struct Ctx<'a> {
    result: &'a ScanResult,
    replay: &'a Replay,
    metrics: &'a Metrics,
    sweep: &'a [(f64, Metrics)],
    thresholds: &'a Thresholds,
    recommended: &'a Thresholds,
    budget: f64,
    labels: &'a Labels,
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn counts_line(name: &str, c: &Counts) -> String {
    format!(
        "{name:<22} precision {:>6}  recall {:>6}  F1 {:.3}   (tp {} fp {} fn {} tn {})\n",
        pct(c.precision()),
        pct(c.recall()),
        c.f1(),
        c.tp,
        c.fp,
        c.fn_,
        c.tn
    )
}

fn human_secs(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

fn table(c: &Ctx<'_>) -> String {
    let m = c.metrics;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "backtest at threshold {} over {:.1} days, {} labelled events ({} incidents)",
        c.thresholds.default,
        m.days,
        c.labels.events.len(),
        c.labels.incidents.len()
    );
    s += &counts_line("events", &m.events);
    s += &counts_line("identities", &m.identities);
    let _ = writeln!(
        s,
        "alerts                 {} ({:.2} per day)",
        m.alerts, m.alerts_per_day
    );
    match m.median_ttd_secs() {
        Some(t) => {
            let _ = writeln!(
                s,
                "time to detect         median {} over {} detected identities",
                human_secs(t),
                m.time_to_detect_secs.len()
            );
        }
        None => s += "time to detect         (nothing detected)\n",
    }
    s += "\nby identity class (identities | events | alerts/day)\n";
    for class in IdentityClass::ALL {
        let (Some(ic), Some(ec)) = (
            m.identities_by_class.get(&class),
            m.events_by_class.get(&class),
        ) else {
            continue;
        };
        let _ = writeln!(
            s,
            "  {:<20} P {:>6} R {:>6} | P {:>6} R {:>6} | {:.2}",
            class.as_str(),
            pct(ic.precision()),
            pct(ic.recall()),
            pct(ec.precision()),
            pct(ec.recall()),
            m.alerts_per_day_by_class
                .get(&class)
                .copied()
                .unwrap_or(0.0)
        );
    }
    if !m.signals_on_true_positives.is_empty() {
        let mut v: Vec<(&String, &u64)> = m.signals_on_true_positives.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1));
        s += "\nsignals on true positives: ";
        s += &v
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ");
        s += "\n";
    }
    if !m.missed_identities.is_empty() {
        let _ = writeln!(s, "missed: {}", m.missed_identities.join(", "));
    }
    if !m.false_alarm_identities.is_empty() {
        let _ = writeln!(s, "false alarms: {}", m.false_alarm_identities.join(", "));
    }
    for (name, n) in &m.flagged_other_labels {
        let _ = writeln!(s, "flagged events labelled {name:?}: {n}");
    }
    s += "\nthreshold sweep (same threshold for every class)\n  thr   ev.P    ev.R    id.P    id.R   alerts/day  median TTD\n";
    for (t, x) in c.sweep {
        let _ = writeln!(
            s,
            "  {t:>3.0}  {:>6}  {:>6}  {:>6}  {:>6}  {:>9.2}  {}",
            pct(x.events.precision()),
            pct(x.events.recall()),
            pct(x.identities.precision()),
            pct(x.identities.recall()),
            x.alerts_per_day,
            x.median_ttd_secs().map_or("-".into(), human_secs)
        );
    }
    let _ = writeln!(
        s,
        "\nrecommended thresholds for at most {} alerts per day per class:",
        c.budget
    );
    for class in IdentityClass::ALL {
        let _ = write!(s, " {}={}", class.as_str(), c.recommended.get(class));
    }
    s.push('\n');
    s
}

fn metrics_json(m: &Metrics) -> serde_json::Value {
    let counts = |c: &Counts| json!({"tp": c.tp, "fp": c.fp, "fn": c.fn_, "tn": c.tn, "precision": c.precision(), "recall": c.recall(), "f1": c.f1()});
    json!({
        "events": counts(&m.events),
        "identities": counts(&m.identities),
        "events_by_class": m.events_by_class.iter().map(|(k, v)| (k.as_str().to_string(), counts(v))).collect::<serde_json::Map<_, _>>(),
        "identities_by_class": m.identities_by_class.iter().map(|(k, v)| (k.as_str().to_string(), counts(v))).collect::<serde_json::Map<_, _>>(),
        "alerts": m.alerts,
        "alerts_per_day": m.alerts_per_day,
        "alerts_per_day_by_class": m.alerts_per_day_by_class.iter().map(|(k, v)| (k.as_str().to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "time_to_detect_secs": m.time_to_detect_secs.iter().map(|(i, t)| json!({"identity": i, "seconds": t})).collect::<Vec<_>>(),
        "median_time_to_detect_secs": m.median_ttd_secs(),
        "missed_identities": m.missed_identities,
        "false_alarm_identities": m.false_alarm_identities,
        "signals_on_true_positives": m.signals_on_true_positives,
        "flagged_other_labels": m.flagged_other_labels,
        "days": m.days,
    })
}

fn thresholds_json(t: &Thresholds) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for class in IdentityClass::ALL {
        m.insert(class.as_str().to_string(), json!(t.get(class)));
    }
    serde_json::Value::Object(m)
}

fn json_doc(c: &Ctx<'_>) -> serde_json::Value {
    json!({
        "threshold": thresholds_json(c.thresholds),
        "metrics": metrics_json(c.metrics),
        "sweep": c.sweep.iter().map(|(t, m)| json!({"threshold": t, "metrics": metrics_json(m)})).collect::<Vec<_>>(),
        "budget_per_day": c.budget,
        "recommended_thresholds": thresholds_json(c.recommended),
        "events": c.result.report.events,
        "unmatched_labels": c.replay.unmatched_labels,
    })
}

fn curve_csv(sweep: &[(f64, Metrics)]) -> String {
    let mut s = String::from("threshold,class,event_precision,event_recall,identity_precision,identity_recall,alerts_per_day\n");
    for (t, m) in sweep {
        let _ = writeln!(
            s,
            "{t},all,{:.4},{:.4},{:.4},{:.4},{:.4}",
            m.events.precision(),
            m.events.recall(),
            m.identities.precision(),
            m.identities.recall(),
            m.alerts_per_day
        );
        for class in IdentityClass::ALL {
            let (Some(e), Some(i)) = (
                m.events_by_class.get(&class),
                m.identities_by_class.get(&class),
            ) else {
                continue;
            };
            let _ = writeln!(
                s,
                "{t},{},{:.4},{:.4},{:.4},{:.4},{:.4}",
                class.as_str(),
                e.precision(),
                e.recall(),
                i.precision(),
                i.recall(),
                m.alerts_per_day_by_class
                    .get(&class)
                    .copied()
                    .unwrap_or(0.0)
            );
        }
    }
    s
}

/// A line chart of precision, recall and alerts per day against the threshold, as SVG.
pub fn svg_chart(sweep: &[(f64, Metrics)], marked: f64) -> String {
    let (w, h, l, r, t, b) = (720.0, 380.0, 60.0, 70.0, 40.0, 50.0);
    let pw = w - l - r;
    let ph = h - t - b;
    let x = |th: f64| l + pw * th / 100.0;
    let y = |v: f64| t + ph * (1.0 - v.clamp(0.0, 1.0));
    let max_alerts = sweep
        .iter()
        .map(|(_, m)| m.alerts_per_day)
        .fold(1.0, f64::max);
    let ya = |v: f64| t + ph * (1.0 - v / max_alerts);
    let line = |f: &dyn Fn(&Metrics) -> f64, scale: &dyn Fn(f64) -> f64| -> String {
        sweep
            .iter()
            .map(|(th, m)| format!("{:.1},{:.1}", x(*th), scale(f(m))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"##
    );
    let _ = write!(
        s,
        r##"<rect width="{w}" height="{h}" fill="#fff"/><text x="{l}" y="22" font-size="14" font-weight="bold">Precision, recall and alert volume by score threshold</text>"##
    );
    for i in 0..=10 {
        let v = f64::from(i) / 10.0;
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#eee"/><text x="{:.1}" y="{:.1}" text-anchor="end">{:.0}%</text>"##,
            l + pw,
            y(v),
            y(v),
            l - 6.0,
            y(v) + 4.0,
            v * 100.0
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            x(v * 100.0),
            t + ph + 18.0,
            i * 10
        );
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" fill="#b35">{:.1}</text>"##,
            l + pw + 6.0,
            ya(max_alerts * v) + 4.0,
            max_alerts * v
        );
    }
    let _ = write!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle">score threshold</text><text x="{:.1}" y="{:.1}" fill="#b35" transform="rotate(90 {:.1} {:.1})">alerts per day</text>"##,
        l + pw / 2.0,
        h - 12.0,
        w - 12.0,
        t + ph / 2.0,
        w - 12.0,
        t + ph / 2.0
    );
    let _ = write!(
        s,
        r##"<line x1="{:.1}" x2="{:.1}" y1="{t}" y2="{:.1}" stroke="#888" stroke-dasharray="4 3"/>"##,
        x(marked),
        x(marked),
        t + ph
    );
    let _ = write!(
        s,
        r##"<polyline fill="none" stroke="#26a" stroke-width="2" points="{}"/>"##,
        line(&|m| m.events.precision(), &y)
    );
    let _ = write!(
        s,
        r##"<polyline fill="none" stroke="#2a6" stroke-width="2" points="{}"/>"##,
        line(&|m| m.events.recall(), &y)
    );
    let _ = write!(
        s,
        r##"<polyline fill="none" stroke="#2a6" stroke-width="2" stroke-dasharray="6 3" points="{}"/>"##,
        line(&|m| m.identities.recall(), &y)
    );
    let _ = write!(
        s,
        r##"<polyline fill="none" stroke="#b35" stroke-width="2" points="{}"/>"##,
        line(&|m| m.alerts_per_day, &ya)
    );
    let legend = [
        ("#26a", "event precision", ""),
        ("#2a6", "event recall", ""),
        ("#2a6", "identity recall", "6 3"),
        ("#b35", "alerts per day", ""),
    ];
    for (i, (c, name, dash)) in legend.iter().enumerate() {
        let lx = l + 10.0 + 150.0 * i as f64;
        let _ = write!(
            s,
            r##"<line x1="{lx}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{c}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{:.1}" y="{:.1}">{name}</text>"##,
            lx + 24.0,
            t - 6.0 + 12.0,
            t - 6.0 + 12.0,
            lx + 28.0,
            t + 10.0
        );
    }
    s.push_str("</svg>\n");
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn explain_rows(c: &Ctx<'_>, ids: &[String]) -> String {
    let mut s = String::new();
    for id in ids.iter().take(20) {
        let Some((i, a)) = c
            .result
            .report
            .identities
            .iter()
            .zip(&c.result.report.assessments)
            .find(|(i, _)| &i.id == id)
        else {
            continue;
        };
        let sigs: Vec<String> = a
            .signals
            .iter()
            .filter(|x| x.points >= 0.5)
            .take(4)
            .map(|x| format!("<b>{}</b> {}", esc(&x.code), esc(&x.summary)))
            .collect();
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td><td>{:.0}</td><td>{}</td></tr>",
            esc(&i.id),
            i.class.as_str(),
            a.score,
            sigs.join("<br>")
        );
    }
    s
}

fn matrix(name: &str, c: &Counts) -> String {
    format!(
        "<table class=m><caption>{name}</caption><tr><th></th><th>flagged</th><th>not flagged</th></tr><tr><th>malicious</th><td>{}</td><td>{}</td></tr><tr><th>benign</th><td>{}</td><td>{}</td></tr></table>",
        c.tp, c.fn_, c.fp, c.tn
    )
}

fn html(c: &Ctx<'_>) -> String {
    let m = c.metrics;
    let mut s = String::from("<!doctype html><html><head><meta charset=utf-8><title>Tripline backtest</title><style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}table.m{display:inline-table;margin-right:2em}.k{font-size:28px;font-weight:bold}</style></head><body>");
    let _ = write!(s, "<h1>Tripline backtest</h1><p>{} events over {:.1} days; {} labelled events, {} incidents; threshold {}.</p>", c.result.report.events, m.days, c.labels.events.len(), c.labels.incidents.len(), c.thresholds.default);
    let _ = write!(
        s,
        "<p><span class=k>{}</span> event precision &nbsp; <span class=k>{}</span> event recall &nbsp; <span class=k>{}</span> identity recall &nbsp; <span class=k>{:.2}</span> alerts/day &nbsp; <span class=k>{}</span> median time to detect</p>",
        pct(m.events.precision()),
        pct(m.events.recall()),
        pct(m.identities.recall()),
        m.alerts_per_day,
        m.median_ttd_secs().map_or("-".into(), human_secs)
    );
    s += &svg_chart(c.sweep, c.thresholds.default);
    s += "<h2>Confusion matrices</h2>";
    s += &matrix("events", &m.events);
    s += &matrix("identities", &m.identities);
    s += "<h2>By identity class</h2><table><tr><th>class</th><th>identity precision</th><th>identity recall</th><th>event precision</th><th>event recall</th><th>alerts/day</th><th>recommended threshold</th></tr>";
    for class in IdentityClass::ALL {
        let (Some(ic), Some(ec)) = (
            m.identities_by_class.get(&class),
            m.events_by_class.get(&class),
        ) else {
            continue;
        };
        let _ = write!(s, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{}</td></tr>", class.as_str(), pct(ic.precision()), pct(ic.recall()), pct(ec.precision()), pct(ec.recall()), m.alerts_per_day_by_class.get(&class).copied().unwrap_or(0.0), c.recommended.get(class));
    }
    let _ = write!(
        s,
        "</table><p>Recommended thresholds keep each class within {} alerts per day.</p>",
        c.budget
    );
    s += "<h2>Worst false positives</h2><table><tr><th>identity</th><th>class</th><th>score</th><th>why</th></tr>";
    s += &explain_rows(c, &m.false_alarm_identities);
    s += "</table><h2>Missed incidents</h2><table><tr><th>identity</th><th>class</th><th>score</th><th>what the engine saw</th></tr>";
    s += &explain_rows(c, &m.missed_identities);
    s += "</table><h2>Signals that carried the true positives</h2><table>";
    let mut v: Vec<(&String, &u64)> = m.signals_on_true_positives.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1));
    for (k, n) in v {
        let _ = write!(s, "<tr><td>{}</td><td>{n}</td></tr>", esc(k));
    }
    s += "</table><h2>Time to detect</h2><table>";
    for (id, t) in &m.time_to_detect_secs {
        let _ = write!(
            s,
            "<tr><td>{}</td><td>{}</td></tr>",
            esc(id),
            human_secs(*t)
        );
    }
    s += "</table></body></html>\n";
    s
}
