//! What a policy sees (`input`), its schema (for the load-time reference check) and its bounds.

use crate::{Limits, PolicyError, Tier};
use serde::{Deserialize, Serialize};
use tripline_model::{
    Assessment, Driver, Drivers, Identity, IdentityClass, IdentityKind, Level, Severity,
};

/// The identity, reduced to what a policy may branch on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputIdentity {
    pub id: String,
    pub kind: IdentityKind,
    pub class: IdentityClass,
    pub owner: Option<String>,
    pub environment: Option<String>,
}

/// One signal, reduced to what a policy may branch on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSignal {
    pub code: String,
    pub driver: Driver,
    pub severity: Severity,
    pub points: f64,
}

/// The policy's `input` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionInput {
    pub identity: InputIdentity,
    /// 0..100.
    pub score: f64,
    pub level: Level,
    pub drivers: Drivers,
    pub signals: Vec<InputSignal>,
    /// The tier this identity's open case is at (for hysteresis), if any.
    pub previous_tier: Option<Tier>,
}

impl DecisionInput {
    /// Build from the engine's assessment and the identity it is about.
    pub fn from_assessment(
        assessment: &Assessment,
        identity: &Identity,
        previous_tier: Option<Tier>,
    ) -> Self {
        Self {
            identity: InputIdentity {
                id: identity.id.clone(),
                kind: identity.kind,
                class: identity.class,
                owner: identity.owner.clone(),
                environment: identity.environment.clone(),
            },
            score: assessment.score,
            level: assessment.level,
            drivers: assessment.drivers,
            signals: assessment
                .signals
                .iter()
                .map(|s| InputSignal {
                    code: s.code.clone(),
                    driver: s.driver,
                    severity: s.severity,
                    points: s.points,
                })
                .collect(),
            previous_tier,
        }
    }

    /// A copy with the identity's strings cut to [`Limits::max_string_bytes`] (on a character
    /// boundary, ending in [`TRUNCATED_MARK`]); `None` when nothing is over.
    pub(crate) fn clamped(&self, limits: &Limits) -> Option<Self> {
        let max = limits.max_string_bytes;
        let over = |s: &str| s.len() > max;
        let id = &self.identity;
        if !over(&id.id)
            && !id.owner.as_deref().is_some_and(over)
            && !id.environment.as_deref().is_some_and(over)
        {
            return None;
        }
        let cut = |s: &str| -> String {
            if s.len() <= max {
                return s.to_string();
            }
            let mut end = max.saturating_sub(TRUNCATED_MARK.len());
            while end > 0 && !s.is_char_boundary(end) {
                end -= 1;
            }
            let mut out = s.get(..end).unwrap_or_default().to_string();
            out.push_str(TRUNCATED_MARK);
            out
        };
        let mut copy = self.clone();
        copy.identity.id = cut(&id.id);
        copy.identity.owner = id.owner.as_deref().map(cut);
        copy.identity.environment = id.environment.as_deref().map(cut);
        Some(copy)
    }

    /// Reject inputs a policy should never see: out-of-range numbers, oversized strings, too
    /// many signals. (The serialized size is checked by the engine.)
    pub(crate) fn check(&self, limits: &Limits) -> Result<(), PolicyError> {
        let bad = |m: String| Err(PolicyError::Input(m));
        if !(self.score.is_finite() && (0.0..=100.0).contains(&self.score)) {
            return bad(format!("score {} is not within 0..100", self.score));
        }
        for (name, v) in [
            ("privilege", self.drivers.privilege),
            ("exposure", self.drivers.exposure),
            ("behaviour", self.drivers.behaviour),
        ] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return bad(format!("drivers.{name} {v} is not within 0..1"));
            }
        }
        if self.signals.len() > limits.max_signals {
            return bad(format!(
                "{} signals, over the cap of {}",
                self.signals.len(),
                limits.max_signals
            ));
        }
        let strings = [
            ("identity.id", Some(self.identity.id.as_str())),
            ("identity.owner", self.identity.owner.as_deref()),
            ("identity.environment", self.identity.environment.as_deref()),
        ];
        for (name, s) in strings {
            if s.is_some_and(|s| s.len() > limits.max_string_bytes) {
                return bad(format!(
                    "{name} is over the {}-byte cap",
                    limits.max_string_bytes
                ));
            }
        }
        for s in &self.signals {
            if s.code.len() > limits.max_string_bytes {
                return bad(format!(
                    "a signal code is over the {}-byte cap",
                    limits.max_string_bytes
                ));
            }
            if !(s.points.is_finite() && (0.0..=100.0).contains(&s.points)) {
                return bad(format!(
                    "signal {} has points {} outside 0..100",
                    s.code, s.points
                ));
            }
        }
        Ok(())
    }
}

/// Ends a string cut to the input's cap.
pub const TRUNCATED_MARK: &str = "…[truncated]";

/// The shape of a document, for the load-time reference check.
#[derive(Debug)]
pub(crate) enum Shape {
    Scalar(&'static str),
    Object(&'static [(&'static str, Shape)]),
    Array(&'static Shape),
}

const IDENTITY: Shape = Shape::Object(&[
    ("id", Shape::Scalar("string")),
    ("kind", Shape::Scalar("string")),
    ("class", Shape::Scalar("string")),
    ("owner", Shape::Scalar("string or null")),
    ("environment", Shape::Scalar("string or null")),
]);

const DRIVERS: Shape = Shape::Object(&[
    ("privilege", Shape::Scalar("number")),
    ("exposure", Shape::Scalar("number")),
    ("behaviour", Shape::Scalar("number")),
]);

const SIGNAL: Shape = Shape::Object(&[
    ("code", Shape::Scalar("string")),
    ("driver", Shape::Scalar("string")),
    ("severity", Shape::Scalar("string")),
    ("points", Shape::Scalar("number")),
]);

/// The schema of [`DecisionInput`] as JSON (a unit test keeps the two in step).
pub(crate) const INPUT_SCHEMA: Shape = Shape::Object(&[
    ("identity", IDENTITY),
    ("score", Shape::Scalar("number")),
    ("level", Shape::Scalar("string")),
    ("drivers", DRIVERS),
    ("signals", Shape::Array(&SIGNAL)),
    ("previous_tier", Shape::Scalar("string or null")),
]);

/// Fields of the input document, as dotted paths (`signals[_].code`), for documentation.
pub fn input_fields() -> Vec<String> {
    fn walk(shape: &Shape, prefix: &str, out: &mut Vec<String>) {
        match shape {
            Shape::Scalar(_) => out.push(prefix.to_string()),
            Shape::Object(fields) => {
                for (name, s) in fields.iter() {
                    let p = if prefix.is_empty() {
                        (*name).to_string()
                    } else {
                        format!("{prefix}.{name}")
                    };
                    walk(s, &p, out);
                }
            }
            Shape::Array(el) => walk(el, &format!("{prefix}[_]"), out),
        }
    }
    let mut out = Vec::new();
    walk(&INPUT_SCHEMA, "", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    pub(crate) fn sample() -> DecisionInput {
        DecisionInput {
            identity: InputIdentity {
                id: "arn:aws:iam::123456789012:role/x".into(),
                kind: IdentityKind::WorkloadIdentity,
                class: IdentityClass::Workload,
                owner: Some("o".into()),
                environment: None,
            },
            score: 10.0,
            level: Level::Low,
            drivers: Drivers::default(),
            signals: vec![InputSignal {
                code: "BEH_NEW_NETWORK".into(),
                driver: Driver::Behaviour,
                severity: Severity::Medium,
                points: 10.0,
            }],
            previous_tier: Some(Tier::Notify),
        }
    }

    /// The static schema and the serialized struct must list the same fields.
    #[test]
    fn schema_matches_the_serialized_input() {
        fn paths(v: &Value, prefix: &str, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    for (k, v) in m {
                        let p = if prefix.is_empty() {
                            k.clone()
                        } else {
                            format!("{prefix}.{k}")
                        };
                        paths(v, &p, out);
                    }
                }
                Value::Array(a) => {
                    if let Some(first) = a.first() {
                        paths(first, &format!("{prefix}[_]"), out);
                    }
                }
                _ => out.push(prefix.to_string()),
            }
        }
        let v = serde_json::to_value(sample()).unwrap();
        let mut got = Vec::new();
        paths(&v, "", &mut got);
        got.sort();
        let mut want = input_fields();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn out_of_range_inputs_are_rejected() {
        let limits = Limits::default();
        assert!(sample().check(&limits).is_ok());
        let mut i = sample();
        i.score = f64::NAN;
        assert!(i.check(&limits).is_err());
        let mut i = sample();
        i.drivers.exposure = 1.5;
        assert!(i.check(&limits).is_err());
        let mut i = sample();
        i.signals = vec![i.signals[0].clone(); limits.max_signals + 1];
        assert!(i.check(&limits).is_err());
        let mut i = sample();
        i.identity.id = "x".repeat(limits.max_string_bytes + 1);
        assert!(i.check(&limits).is_err());
    }
}
