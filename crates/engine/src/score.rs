//! Scoring: three drivers, each a noisy-OR of its signals, combined so that privilege amplifies
//! exposure and drift. Bounded, monotone, and decomposed into points per signal.
//!
//! ```text
//! P = 1 - (1 - p0) * Π(1 - w_i)   over privilege signals   (p0 = 0.3 when privilege is unknown, else 0)
//! E = 1 - Π(1 - w_i)              over exposure signals
//! B = 1 - Π(1 - w_i)              over behaviour signals in the window
//! t_P = cP * P
//! t_E = cE * E * (0.5 + 0.5 P)
//! t_B = cB * B * (0.5 + 0.5 P)
//! score = 100 * (1 - (1 - t_P)(1 - t_E)(1 - t_B))
//! ```
//! with (cP, cE, cB) per identity class. Every factor is increasing in P, E and B, so adding a
//! signal never lowers the score; each term is below 1, so the score stays below 100.
//!
//! Two calibrations follow ([`Calibration`]), both monotone:
//! - **posture only**: when no signal comes from events (see [`crate::catalog::is_incident`]),
//!   the score is compressed below `posture_ceiling` (`c·(1 - e^(-s/c))`, order-preserving), so
//!   standing posture ranks identities for review without paging anyone; behaviour joining it
//!   lifts the cap ("privilege plus drift");
//! - **hostile techniques**: a signal that names what an attacker does
//!   ([`crate::catalog::is_hostile`]) at High or Critical severity raises the score to at least
//!   `hostile_high_floor` / `hostile_critical_floor`, so one such act is enough on an identity
//!   with no inventory and no history.

use crate::catalog;
use tripline_model::{Driver, Drivers, IdentityClass, Level, Severity, Signal};

/// Score calibration. The defaults are set against the default policy's per-class thresholds
/// (`crates/policy/policies/default-data.json`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// A posture-only score stays below this: under the lowest step-up threshold of any class
    /// (admin_facing, 30), so standing posture never escalates beyond notify by itself.
    pub posture_ceiling: f64,
    /// A High hostile-technique signal lifts the score to at least this: every class's step-up
    /// threshold (telemetry's, 50, is the highest).
    pub hostile_high_floor: f64,
    /// A Critical one lifts it to at least this: the time-boxed restriction threshold of every
    /// class but batch jobs and telemetry (admin_facing 45 … workload/unclassified 55).
    pub hostile_critical_floor: f64,
}

impl Default for Calibration {
    fn default() -> Self {
        Self {
            posture_ceiling: 29.0,
            hostile_high_floor: 50.0,
            hostile_critical_floor: 62.0,
        }
    }
}

/// Privilege assumed when no inventory and no demonstrated rights say otherwise.
pub const UNKNOWN_PRIVILEGE: f64 = 0.3;

/// (cP, cE, cB) per class: an admin-facing role escalates faster than a telemetry key.
/// Admin-facing is at least every other class on every driver: granting admin rights changes
/// an inferred class to it, and that must never lower a score.
pub fn class_weights(class: IdentityClass) -> (f64, f64, f64) {
    match class {
        IdentityClass::AdminFacing => (0.40, 0.80, 0.85),
        IdentityClass::Agent => (0.35, 0.75, 0.80),
        IdentityClass::SharedIntegration => (0.35, 0.80, 0.70),
        IdentityClass::Telemetry => (0.25, 0.65, 0.60),
        IdentityClass::CiCd
        | IdentityClass::Workload
        | IdentityClass::BatchJob
        | IdentityClass::Unclassified => (0.35, 0.75, 0.75),
    }
}

fn noisy_or<'a>(base: f64, ws: impl Iterator<Item = &'a Signal>) -> f64 {
    1.0 - (1.0 - base) * ws.map(|s| 1.0 - s.severity.weight()).product::<f64>()
}

/// The score with the default [`Calibration`].
pub fn score(
    class: IdentityClass,
    privilege_known: bool,
    signals: &mut [Signal],
) -> (f64, Drivers, String) {
    score_with(&Calibration::default(), class, privilege_known, signals)
}

/// The score, its drivers, and a printed formula; fills `points` on each signal.
pub fn score_with(
    cal: &Calibration,
    class: IdentityClass,
    privilege_known: bool,
    signals: &mut [Signal],
) -> (f64, Drivers, String) {
    let p0 = if privilege_known {
        0.0
    } else {
        UNKNOWN_PRIVILEGE
    };
    let of = |d: Driver| move |s: &&Signal| s.driver == d;
    let p = noisy_or(p0, signals.iter().filter(of(Driver::Privilege)));
    let e = noisy_or(0.0, signals.iter().filter(of(Driver::Exposure)));
    let b = noisy_or(0.0, signals.iter().filter(of(Driver::Behaviour)));
    let (cp, ce, cb) = class_weights(class);
    let tp = cp * p;
    let te = ce * e * (0.5 + 0.5 * p);
    let tb = cb * b * (0.5 + 0.5 * p);
    let s = 1.0 - (1.0 - tp) * (1.0 - te) * (1.0 - tb);
    let score = (100.0 * s).clamp(0.0, 100.0);

    // Points: split the score across the three terms in proportion to -ln(1 - t) (exact for a
    // product of complements), then across each driver's signals in proportion to -ln(1 - w).
    let l = |t: f64| -(1.0 - t).max(1e-12).ln();
    let total = l(tp) + l(te) + l(tb);
    for (d, t) in [
        (Driver::Privilege, tp),
        (Driver::Exposure, te),
        (Driver::Behaviour, tb),
    ] {
        let share = if total > 0.0 {
            score * l(t) / total
        } else {
            0.0
        };
        let prior = if d == Driver::Privilege { l(p0) } else { 0.0 };
        let sum: f64 = prior
            + signals
                .iter()
                .filter(|s| s.driver == d)
                .map(|s| l(s.severity.weight()))
                .sum::<f64>();
        for sig in signals.iter_mut().filter(|s| s.driver == d) {
            sig.points = if sum > 0.0 {
                share * l(sig.severity.weight()) / sum
            } else {
                0.0
            };
        }
    }
    let mut formula = format!(
        "P={p:.2}{} E={e:.2} B={b:.2}; class {} (cP={cp}, cE={ce}, cB={cb}); score = 100*(1-(1-{tp:.3})(1-{te:.3})(1-{tb:.3})) = {score:.1}",
        if privilege_known { "" } else { " (privilege unknown: prior 0.30)" },
        class.as_str()
    );
    let calibrated = calibrate(cal, score, signals, &mut formula);
    (
        calibrated,
        Drivers {
            privilege: p,
            exposure: e,
            behaviour: b,
        },
        formula,
    )
}

/// Applies the posture ceiling and the hostile-technique floors to a raw score, keeping the
/// points summing to the result: a compression scales every signal's points; a floor's extra
/// points go to the hostile signals that raised it, in proportion to their weight.
fn calibrate(cal: &Calibration, raw: f64, signals: &mut [Signal], formula: &mut String) -> f64 {
    let incident = signals
        .iter()
        .any(|s| catalog::is_incident(&s.code, s.driver, s.severity));
    if !incident {
        if raw <= 0.0 || cal.posture_ceiling <= 0.0 {
            return raw;
        }
        let c = cal.posture_ceiling;
        let out = c * (1.0 - (-raw / c).exp());
        let k = out / raw;
        for s in signals.iter_mut() {
            s.points *= k;
        }
        formula.push_str(&format!(
            "; posture only (no behaviour): {raw:.1} compressed below {c} = {out:.1}"
        ));
        return out;
    }
    let floor = signals
        .iter()
        .filter(|s| catalog::is_hostile(&s.code))
        .map(|s| match s.severity {
            Severity::Critical => cal.hostile_critical_floor,
            Severity::High => cal.hostile_high_floor,
            _ => 0.0,
        })
        .fold(0.0, f64::max);
    if floor <= raw {
        return raw;
    }
    let hostile_weight = |s: &Signal| {
        if catalog::is_hostile(&s.code) && s.severity >= Severity::High {
            -(1.0 - s.severity.weight()).max(1e-12).ln()
        } else {
            0.0
        }
    };
    let total: f64 = signals.iter().map(hostile_weight).sum();
    if total > 0.0 {
        let extra = floor - raw;
        for s in signals.iter_mut() {
            s.points += extra * hostile_weight(s) / total;
        }
    }
    formula.push_str(&format!(
        "; a hostile technique lifts it to at least {floor} = {floor:.1}"
    ));
    floor
}

/// The recommended next step for a triage table.
pub fn next_step(level: Level, d: &Drivers) -> &'static str {
    let dominant = if d.behaviour >= d.exposure && d.behaviour >= 0.3 {
        Driver::Behaviour
    } else if d.exposure >= 0.3 {
        Driver::Exposure
    } else {
        Driver::Privilege
    };
    match (level, dominant) {
        (Level::Critical, Driver::Behaviour) => {
            "contain: time-boxed restriction now, rotate credentials, page the owner"
        }
        (Level::Critical, Driver::Exposure) => {
            "rotate the credential now and restrict until the owner confirms"
        }
        (Level::Critical, Driver::Privilege) => "owner review: remove admin/escalation rights",
        (Level::High, Driver::Behaviour) => {
            "step-up: ask the owner to confirm the activity; restrict if unconfirmed"
        }
        (Level::High, Driver::Exposure) => "rotate the credential (short-lived where possible)",
        (Level::High, Driver::Privilege) => "right-size permissions (least privilege)",
        (Level::Medium, Driver::Behaviour) => "notify the owner to verify the new activity",
        (Level::Medium, Driver::Exposure) => {
            "schedule rotation; replace long-lived keys with short-lived credentials"
        }
        (Level::Medium, Driver::Privilege) => "review granted-but-unused permissions",
        (Level::Low, _) => "observe",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tripline_model::Severity;

    #[test]
    fn admin_facing_weighs_at_least_every_class_on_every_driver() {
        let (p, e, b) = class_weights(IdentityClass::AdminFacing);
        for c in IdentityClass::ALL {
            let (cp, ce, cb) = class_weights(c);
            assert!(p >= cp && e >= ce && b >= cb, "{c:?}: {:?}", (cp, ce, cb));
        }
    }

    fn sig(driver: Driver, severity: Severity) -> Signal {
        Signal {
            code: "X".into(),
            driver,
            severity,
            summary: String::new(),
            event_ids: vec![],
            occurrences: 1,
            first_seen: None,
            last_seen: None,
            frameworks: vec![],
            points: 0.0,
        }
    }

    #[test]
    fn privilege_plus_drift_ranks_above_either_alone() {
        let c = IdentityClass::Unclassified;
        let (priv_only, ..) = score(
            c,
            true,
            &mut [
                sig(Driver::Privilege, Severity::High),
                sig(Driver::Privilege, Severity::High),
            ],
        );
        let (drift_only, ..) = score(
            c,
            true,
            &mut [
                sig(Driver::Behaviour, Severity::High),
                sig(Driver::Behaviour, Severity::Medium),
            ],
        );
        let (both, ..) = score(
            c,
            true,
            &mut [
                sig(Driver::Privilege, Severity::High),
                sig(Driver::Privilege, Severity::High),
                sig(Driver::Behaviour, Severity::High),
                sig(Driver::Behaviour, Severity::Medium),
            ],
        );
        assert!(
            both > priv_only + drift_only,
            "{both} vs {priv_only} + {drift_only}"
        );
        assert!(Level::of(both) >= Level::High);
        assert!(Level::of(drift_only) <= Level::Medium);
    }

    #[test]
    fn points_sum_to_the_score_and_scores_are_bounded() {
        let mut s: Vec<Signal> = [Driver::Privilege, Driver::Exposure, Driver::Behaviour]
            .into_iter()
            .flat_map(|d| (0..6).map(move |_| sig(d, Severity::Critical)))
            .collect();
        let (total, ..) = score(IdentityClass::AdminFacing, true, &mut s);
        assert!(total < 100.0 && total > 90.0);
        let sum: f64 = s.iter().map(|x| x.points).sum();
        assert!((sum - total).abs() < 1e-6, "{sum} vs {total}");
    }

    #[test]
    fn info_signals_carry_no_weight() {
        let (zero, ..) = score(
            IdentityClass::CiCd,
            true,
            &mut [sig(Driver::Behaviour, Severity::Info)],
        );
        assert_eq!(zero, 0.0);
    }
}
