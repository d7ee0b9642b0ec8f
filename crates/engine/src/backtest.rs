//! Backtesting: replay the detections of a time-ordered pass, score each identity as it goes,
//! raise alerts at a threshold, and compare with labels. Pure arithmetic: reading labels and
//! rendering reports happen elsewhere.
//!
//! Definitions (all counts are over the events and identities present in the replayed logs):
//! - an event is **flagged** at threshold T when it raised a detection (non-informational) and
//!   its identity's running score, right after that event, was at least T;
//! - an **alert** opens when an identity's running score reaches T and no alert of that
//!   identity is open; it closes after `quiet_secs` without flagged events (one alert per
//!   identity and incident, not one per event);
//! - an identity is **positive** when any of its events is labelled malicious, and **alerted**
//!   when it had at least one alert;
//! - **time to detect** is, per positive identity, the first alert at or after its first
//!   malicious event, minus that event's time.

use crate::engine::{Detection, Report};
use crate::score;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use tripline_model::{Driver, IdentityClass, Severity, Signal, Timestamp};
pub use tripline_model::{Incident, Label, Labels};

/// One detection with the running score it left behind.
#[derive(Debug, Clone, Copy)]
struct Point {
    identity: u32,
    time: i64,
    event: u32,
    score: f64,
    code: &'static str,
}

/// Collects detections during a pass (give [`Recorder::on_detection`] to `Engine::assess`).
#[derive(Debug, Default)]
pub struct Recorder {
    detections: Vec<Detection>,
}

impl Recorder {
    pub fn on_detection(&mut self, d: &Detection) {
        if d.severity > Severity::Info {
            self.detections.push(d.clone());
        }
    }
}

/// A replay: every event's label, and each detection with the running score after it.
#[derive(Debug)]
pub struct Replay {
    points: Vec<Point>,
    /// Per event (arrival order): identity index, time, label.
    event_identity: Vec<u32>,
    event_time: Vec<i64>,
    event_label: Vec<Label>,
    identity_class: Vec<IdentityClass>,
    identity_ids: Vec<String>,
    first_time: i64,
    last_time: i64,
    /// Labels that named events absent from the logs (a label file for other data).
    pub unmatched_labels: usize,
    pub categories: BTreeMap<u32, String>,
}

/// The signals an identity holds during a replay: (code, key) → (severity, last time).
type LiveSignals = BTreeMap<(&'static str, u32), (Severity, i64)>;

/// Behaviour signals older than this stop counting in the running score (as in a scan).
const WINDOW_MS: i64 = 14 * Timestamp::MS_PER_DAY;

impl Replay {
    /// Builds the replay from a report produced with `index_events` and the recorded detections.
    pub fn new(report: &Report, recorder: Recorder, labels: &Labels) -> Option<Self> {
        let ix = report.event_index.as_ref()?;
        let classes: Vec<IdentityClass> = report
            .identity_index
            .iter()
            .map(|id| {
                report
                    .identities
                    .binary_search_by(|i| i.id.as_str().cmp(id))
                    .ok()
                    .and_then(|i| report.identities.get(i))
                    .map_or(IdentityClass::Unclassified, |i| i.class)
            })
            .collect();
        let mut event_label = Vec::with_capacity(ix.identity.len());
        let mut categories = BTreeMap::new();
        let mut matched = 0usize;
        for (i, (&ident, &t)) in ix.identity.iter().zip(&ix.time).enumerate() {
            let id = ix.ids.get(i as u32);
            if labels.events.contains_key(id) {
                matched += 1;
            }
            let who = report
                .identity_index
                .get(ident as usize)
                .map_or("", String::as_str);
            let (label, cat) = labels.of(id, who, t);
            if let Some(c) = cat.filter(|_| label == Label::Malicious) {
                categories.insert(i as u32, c);
            }
            event_label.push(label);
        }
        // Running score per identity: standing signals plus behaviour/exposure detections.
        let mut live: HashMap<u32, LiveSignals> = HashMap::new();
        let mut points = Vec::with_capacity(recorder.detections.len());
        for d in &recorder.detections {
            let map = live.entry(d.identity).or_default();
            let entry = map.entry((d.code, d.key)).or_insert((d.severity, d.time.0));
            entry.0 = entry.0.max(d.severity);
            entry.1 = d.time.0;
            let (standing, known) = report
                .standing
                .get(d.identity as usize)
                .cloned()
                .unwrap_or_default();
            let mut signals = standing;
            for ((code, _), (sev, last)) in map.iter() {
                let Some(def) = crate::catalog::def(code) else {
                    continue;
                };
                if def.driver == Driver::Behaviour && d.time.0 - last > WINDOW_MS {
                    continue;
                }
                signals.push(Signal {
                    code: (*code).to_string(),
                    driver: def.driver,
                    severity: *sev,
                    summary: String::new(),
                    event_ids: Vec::new(),
                    occurrences: 1,
                    first_seen: None,
                    last_seen: None,
                    frameworks: Vec::new(),
                    points: 0.0,
                });
            }
            let class = classes
                .get(d.identity as usize)
                .copied()
                .unwrap_or(IdentityClass::Unclassified);
            let (s, _, _) = score::score(class, known, &mut signals);
            points.push(Point {
                identity: d.identity,
                time: d.time.0,
                event: d.event,
                score: s,
                code: d.code,
            });
        }
        Some(Self {
            points,
            first_time: ix.time.iter().copied().min().unwrap_or(0),
            last_time: ix.time.iter().copied().max().unwrap_or(0),
            event_identity: ix.identity.clone(),
            event_time: ix.time.clone(),
            event_label,
            identity_class: classes,
            identity_ids: report.identity_index.clone(),
            unmatched_labels: labels.events.len().saturating_sub(matched),
            categories,
        })
    }

    /// How many detections were scored.
    pub fn detections(&self) -> usize {
        self.points.len()
    }

    pub fn days(&self) -> f64 {
        ((self.last_time - self.first_time) as f64 / Timestamp::MS_PER_DAY as f64).max(1.0 / 24.0)
    }

    /// Metrics at one threshold per class (missing classes use `default`).
    pub fn evaluate(&self, thresholds: &Thresholds, quiet_secs: i64) -> Metrics {
        let n_ident = self.identity_ids.len();
        let mut flagged = vec![false; self.event_label.len()];
        let mut open_until: Vec<Option<i64>> = vec![None; n_ident];
        let mut alerts: Vec<Vec<i64>> = vec![Vec::new(); n_ident];
        let mut carried: BTreeMap<&'static str, u64> = BTreeMap::new();
        for p in &self.points {
            let class = self
                .identity_class
                .get(p.identity as usize)
                .copied()
                .unwrap_or(IdentityClass::Unclassified);
            if p.score < thresholds.get(class) {
                continue;
            }
            if let Some(f) = flagged.get_mut(p.event as usize) {
                *f = true;
            }
            if self.event_label.get(p.event as usize) == Some(&Label::Malicious) {
                *carried.entry(p.code).or_default() += 1;
            }
            let (Some(open), Some(list)) = (
                open_until.get_mut(p.identity as usize),
                alerts.get_mut(p.identity as usize),
            ) else {
                continue;
            };
            if open.is_none_or(|until| p.time > until) {
                list.push(p.time);
            }
            *open = Some(p.time + quiet_secs * 1000);
        }
        // Event level, overall and by class.
        let mut by_class: BTreeMap<IdentityClass, Counts> = BTreeMap::new();
        let mut overall = Counts::default();
        let mut other_flagged: BTreeMap<String, u64> = BTreeMap::new();
        for (i, label) in self.event_label.iter().enumerate() {
            let ident = self.event_identity.get(i).copied().unwrap_or(0);
            let class = self
                .identity_class
                .get(ident as usize)
                .copied()
                .unwrap_or(IdentityClass::Unclassified);
            let f = flagged.get(i).copied().unwrap_or(false);
            match label {
                Label::Other(name) => {
                    if f {
                        *other_flagged.entry(name.clone()).or_default() += 1;
                    }
                    continue;
                }
                Label::Malicious | Label::Benign => {}
            }
            let m = *label == Label::Malicious;
            for c in [&mut overall, by_class.entry(class).or_default()] {
                c.add(m, f);
            }
        }
        // Identity level and time to detect.
        let mut first_mal: Vec<Option<i64>> = vec![None; n_ident];
        for (i, label) in self.event_label.iter().enumerate() {
            if *label == Label::Malicious {
                let ident = self.event_identity.get(i).copied().unwrap_or(0) as usize;
                let t = self.event_time.get(i).copied().unwrap_or(0);
                if let Some(slot) = first_mal.get_mut(ident) {
                    *slot = Some(slot.map_or(t, |x| x.min(t)));
                }
            }
        }
        let mut identity_counts = Counts::default();
        let mut identity_by_class: BTreeMap<IdentityClass, Counts> = BTreeMap::new();
        let mut ttd = Vec::new();
        let mut missed = Vec::new();
        let mut false_alarms = Vec::new();
        for i in 0..n_ident {
            let positive = first_mal.get(i).copied().flatten();
            let list = alerts.get(i).map(Vec::as_slice).unwrap_or_default();
            let class = self
                .identity_class
                .get(i)
                .copied()
                .unwrap_or(IdentityClass::Unclassified);
            let alerted = !list.is_empty();
            for c in [
                &mut identity_counts,
                identity_by_class.entry(class).or_default(),
            ] {
                c.add(positive.is_some(), alerted);
            }
            let id = self.identity_ids.get(i).cloned().unwrap_or_default();
            match positive {
                Some(start) => match list.iter().find(|&&t| t >= start) {
                    Some(&t) => ttd.push((id, (t - start) as f64 / 1000.0)),
                    None => missed.push(id),
                },
                None if alerted => false_alarms.push(id),
                None => {}
            }
        }
        let days = self.days();
        let n_alerts: usize = alerts.iter().map(Vec::len).sum();
        let mut alerts_by_class: BTreeMap<IdentityClass, f64> = BTreeMap::new();
        for (i, list) in alerts.iter().enumerate() {
            let class = self
                .identity_class
                .get(i)
                .copied()
                .unwrap_or(IdentityClass::Unclassified);
            *alerts_by_class.entry(class).or_default() += list.len() as f64 / days;
        }
        ttd.sort_by(|a, b| a.1.total_cmp(&b.1));
        Metrics {
            events: overall,
            events_by_class: by_class,
            identities: identity_counts,
            identities_by_class: identity_by_class,
            alerts: n_alerts as u64,
            alerts_per_day: n_alerts as f64 / days,
            alerts_per_day_by_class: alerts_by_class,
            time_to_detect_secs: ttd,
            missed_identities: missed,
            false_alarm_identities: false_alarms,
            signals_on_true_positives: carried
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            flagged_other_labels: other_flagged,
            days,
        }
    }

    /// Metrics at each threshold from `from` to `to` (inclusive) by `step`, the same for every class.
    pub fn sweep(&self, from: f64, to: f64, step: f64, quiet_secs: i64) -> Vec<(f64, Metrics)> {
        let mut out = Vec::new();
        let mut t = from;
        while t <= to + 1e-9 {
            out.push((t, self.evaluate(&Thresholds::uniform(t), quiet_secs)));
            t += step;
        }
        out
    }

    /// Per class, the lowest threshold (most recall) whose alerts per day stay within `budget`
    /// (alerts per day for that class), from the sweep.
    pub fn recommend(&self, sweep: &[(f64, Metrics)], budget_per_day: f64) -> Thresholds {
        let mut t = Thresholds::uniform(100.0);
        for class in IdentityClass::ALL {
            let pick = sweep
                .iter()
                .find(|(_, m)| {
                    m.alerts_per_day_by_class
                        .get(&class)
                        .copied()
                        .unwrap_or(0.0)
                        <= budget_per_day
                })
                .map_or(100.0, |(th, _)| *th);
            t.by_class.insert(class, pick);
        }
        t
    }
}

/// Alert thresholds (0–100) per identity class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    pub default: f64,
    pub by_class: BTreeMap<IdentityClass, f64>,
}

impl Thresholds {
    pub fn uniform(t: f64) -> Self {
        Self {
            default: t,
            by_class: BTreeMap::new(),
        }
    }

    pub fn get(&self, class: IdentityClass) -> f64 {
        self.by_class.get(&class).copied().unwrap_or(self.default)
    }
}

/// A confusion matrix.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub tp: u64,
    pub fp: u64,
    pub fn_: u64,
    pub tn: u64,
}

impl Counts {
    fn add(&mut self, positive: bool, flagged: bool) {
        match (positive, flagged) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    /// Precision; 1.0 when nothing was flagged (no false alarm was raised).
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }

    /// Recall; 1.0 when there was nothing to find.
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }

    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// What a backtest measured at one set of thresholds.
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub events: Counts,
    pub events_by_class: BTreeMap<IdentityClass, Counts>,
    pub identities: Counts,
    pub identities_by_class: BTreeMap<IdentityClass, Counts>,
    pub alerts: u64,
    pub alerts_per_day: f64,
    pub alerts_per_day_by_class: BTreeMap<IdentityClass, f64>,
    /// (identity, seconds from its first malicious event to its first alert at or after it).
    pub time_to_detect_secs: Vec<(String, f64)>,
    pub missed_identities: Vec<String>,
    pub false_alarm_identities: Vec<String>,
    /// Signal code → flagged malicious events it was raised on.
    pub signals_on_true_positives: BTreeMap<String, u64>,
    /// Events flagged that carry a named label other than malicious/benign.
    pub flagged_other_labels: BTreeMap<String, u64>,
    pub days: f64,
}

impl Metrics {
    pub fn median_ttd_secs(&self) -> Option<f64> {
        let v: Vec<f64> = self.time_to_detect_secs.iter().map(|x| x.1).collect();
        v.get(v.len() / 2).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-built confusion matrix: the arithmetic a user checks on paper.
    #[test]
    fn precision_recall_f1_arithmetic() {
        let c = Counts {
            tp: 6,
            fp: 2,
            fn_: 4,
            tn: 88,
        };
        assert!((c.precision() - 0.75).abs() < 1e-12);
        assert!((c.recall() - 0.6).abs() < 1e-12);
        assert!((c.f1() - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-12);
        let none = Counts {
            tp: 0,
            fp: 0,
            fn_: 3,
            tn: 5,
        };
        assert_eq!(none.precision(), 1.0);
        assert_eq!(none.recall(), 0.0);
        assert_eq!(none.f1(), 0.0);
    }

    /// Two identities, six events, four detections: every figure checked by hand.
    #[test]
    fn evaluate_counts_flags_alerts_and_time_to_detect() {
        let day = Timestamp::MS_PER_DAY;
        let replay = Replay {
            // identity 0: events 0,1 benign; 2,3 malicious. identity 1: events 4,5 benign.
            event_identity: vec![0, 0, 0, 0, 1, 1],
            event_time: vec![0, day / 2, day, day + 60_000, day / 4, 2 * day],
            event_label: vec![
                Label::Benign,
                Label::Benign,
                Label::Malicious,
                Label::Malicious,
                Label::Benign,
                Label::Other("admin automation".into()),
            ],
            identity_class: vec![IdentityClass::CiCd, IdentityClass::Telemetry],
            identity_ids: vec!["a".into(), "b".into()],
            first_time: 0,
            last_time: 2 * day,
            unmatched_labels: 0,
            categories: BTreeMap::new(),
            points: vec![
                Point {
                    identity: 0,
                    time: day / 2,
                    event: 1,
                    score: 30.0,
                    code: "BEH_NEW_ACTIONS",
                },
                Point {
                    identity: 0,
                    time: day,
                    event: 2,
                    score: 60.0,
                    code: "BEH_NEW_NETWORK",
                },
                Point {
                    identity: 0,
                    time: day + 60_000,
                    event: 3,
                    score: 70.0,
                    code: "BEH_ENUMERATION",
                },
                Point {
                    identity: 1,
                    time: 2 * day,
                    event: 5,
                    score: 55.0,
                    code: "BEH_NEW_REGION",
                },
            ],
        };
        let m = replay.evaluate(&Thresholds::uniform(50.0), 3600);
        // Flagged: events 2, 3 (malicious) and 5 (named label, counted apart).
        assert_eq!(
            m.events,
            Counts {
                tp: 2,
                fp: 0,
                fn_: 0,
                tn: 3
            }
        );
        assert_eq!(m.flagged_other_labels.get("admin automation"), Some(&1));
        // Alerts: identity 0 once (event 3 is within the quiet period), identity 1 once.
        assert_eq!(m.alerts, 2);
        assert!((m.alerts_per_day - 1.0).abs() < 1e-12);
        assert_eq!(
            m.identities,
            Counts {
                tp: 1,
                fp: 1,
                fn_: 0,
                tn: 0
            }
        );
        assert_eq!(m.time_to_detect_secs, vec![("a".to_string(), 0.0)]);
        assert_eq!(m.false_alarm_identities, vec!["b".to_string()]);
        assert_eq!(m.signals_on_true_positives.get("BEH_ENUMERATION"), Some(&1));
        // At 65 only event 3 is flagged: recall halves, detection comes a minute later.
        let m = replay.evaluate(&Thresholds::uniform(65.0), 3600);
        assert_eq!(
            m.events,
            Counts {
                tp: 1,
                fp: 0,
                fn_: 1,
                tn: 3
            }
        );
        assert_eq!(m.time_to_detect_secs, vec![("a".to_string(), 60.0)]);
        assert_eq!(
            m.identities,
            Counts {
                tp: 1,
                fp: 0,
                fn_: 0,
                tn: 1
            }
        );
        // A per-class threshold: telemetry at 50 alerts, ci_cd at 80 does not.
        let mut t = Thresholds::uniform(80.0);
        t.by_class.insert(IdentityClass::Telemetry, 50.0);
        let m = replay.evaluate(&t, 3600);
        assert_eq!(
            m.identities,
            Counts {
                tp: 0,
                fp: 1,
                fn_: 1,
                tn: 0
            }
        );
        assert_eq!(m.missed_identities, vec!["a".to_string()]);
    }

    #[test]
    fn labels_parse_and_named_labels_stay_separate() {
        assert_eq!(Label::parse("Malicious"), Label::Malicious);
        assert_eq!(Label::parse("benign"), Label::Benign);
        assert_eq!(
            Label::parse("administrator automation"),
            Label::Other("administrator automation".into())
        );
    }
}
