//! The policy's data document: the parts Rust reads too (tier names, per-class thresholds, the
//! hysteresis margin) are validated at load, so a malformed sweep fails before any decision.

use crate::{PolicyError, Tier};
use serde_json::Value;
use std::collections::BTreeMap;
use tripline_model::IdentityClass;

/// Score thresholds of one identity class, and the hysteresis margin.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// Score at which each tier starts (`observe` is 0).
    pub by_tier: BTreeMap<Tier, f64>,
    /// De-escalate only when the score drops below a tier's threshold minus this.
    pub margin: f64,
}

impl Thresholds {
    pub fn threshold(&self, tier: Tier) -> f64 {
        self.by_tier.get(&tier).copied().unwrap_or(0.0)
    }

    /// The highest tier whose threshold `score` reaches.
    pub fn tier_for(&self, score: f64) -> Tier {
        Tier::ALL
            .into_iter()
            .rev()
            .find(|t| score >= self.threshold(*t))
            .unwrap_or(Tier::Observe)
    }
}

/// Thresholds for every class (classes the data omits use `unclassified`).
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdTable {
    pub classes: BTreeMap<IdentityClass, Thresholds>,
    pub fallback: Thresholds,
}

impl ThresholdTable {
    pub fn for_class(&self, class: IdentityClass) -> &Thresholds {
        self.classes.get(&class).unwrap_or(&self.fallback)
    }
}

fn bad(msg: impl Into<String>) -> PolicyError {
    PolicyError::Data(msg.into())
}

/// Deep-merge `patch` into `base` (objects merge key by key; anything else replaces).
pub(crate) fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                match b.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, p) => *slot = p.clone(),
    }
}

pub(crate) fn parse(data: &Value) -> Result<ThresholdTable, PolicyError> {
    let esc = data
        .get("escalation")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("missing object `escalation`"))?;
    let tiers: Vec<&str> = esc
        .get("tiers")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("missing array `escalation.tiers`"))?
        .iter()
        .map(|v| v.as_str().unwrap_or(""))
        .collect();
    let want: Vec<&str> = Tier::ALL.iter().map(|t| t.as_str()).collect();
    if tiers != want {
        return Err(bad(format!(
            "`escalation.tiers` must be {want:?} in this order (got {tiers:?})"
        )));
    }
    let margin = esc
        .get("hysteresis_margin")
        .and_then(Value::as_f64)
        .filter(|m| m.is_finite() && (0.0..=50.0).contains(m))
        .ok_or_else(|| bad("`escalation.hysteresis_margin` must be a number within 0..50"))?;
    let rows = esc
        .get("thresholds")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("missing object `escalation.thresholds`"))?;
    let mut classes = BTreeMap::new();
    for (name, row) in rows {
        let class = IdentityClass::ALL
            .into_iter()
            .find(|c| c.as_str() == name)
            .ok_or_else(|| {
                bad(format!(
                    "`escalation.thresholds.{name}`: unknown identity class (known: {})",
                    IdentityClass::ALL.map(IdentityClass::as_str).join(", ")
                ))
            })?;
        classes.insert(class, parse_row(name, row, margin)?);
    }
    let fallback = classes
        .get(&IdentityClass::Unclassified)
        .cloned()
        .ok_or_else(|| {
            bad("`escalation.thresholds.unclassified` is required (the fallback row)")
        })?;
    Ok(ThresholdTable { classes, fallback })
}

fn parse_row(class: &str, row: &Value, margin: f64) -> Result<Thresholds, PolicyError> {
    let obj = row
        .as_object()
        .ok_or_else(|| bad(format!("`escalation.thresholds.{class}` must be an object")))?;
    for k in obj.keys() {
        if matches!(Tier::parse(k), None | Some(Tier::Observe)) {
            return Err(bad(format!(
                "`escalation.thresholds.{class}.{k}`: not a tier with a threshold"
            )));
        }
    }
    let mut by_tier = BTreeMap::new();
    by_tier.insert(Tier::Observe, 0.0);
    let mut last = 0.0;
    for tier in Tier::ALL.into_iter().skip(1) {
        let v = obj
            .get(tier.as_str())
            .and_then(Value::as_f64)
            .filter(|v| v.is_finite() && (0.0..=100.0).contains(v))
            .ok_or_else(|| {
                bad(format!(
                    "`escalation.thresholds.{class}.{tier}` must be a number within 0..100"
                ))
            })?;
        if v < last {
            return Err(bad(format!(
                "`escalation.thresholds.{class}`: {tier} ({v}) is below the tier before it ({last})"
            )));
        }
        last = v;
        by_tier.insert(tier, v);
    }
    Ok(Thresholds { by_tier, margin })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn good() -> Value {
        serde_json::from_str(crate::DEFAULT_DATA).unwrap()
    }

    #[test]
    fn default_data_parses() {
        let t = parse(&good()).unwrap();
        let admin = t.for_class(IdentityClass::AdminFacing);
        let telemetry = t.for_class(IdentityClass::Telemetry);
        assert!(admin.threshold(Tier::Contain) < telemetry.threshold(Tier::Contain));
        assert_eq!(admin.margin, 10.0);
        assert_eq!(admin.tier_for(0.0), Tier::Observe);
        assert_eq!(admin.tier_for(100.0), Tier::Contain);
    }

    #[test]
    fn malformed_data_is_rejected() {
        let cases = [
            (
                json!({"escalation": {"thresholds": {"unclassified": {"notifi": 1}}}}),
                "notifi",
            ),
            (json!({"escalation": {"thresholds": {"admn": {}}}}), "admn"),
            (
                json!({"escalation": {"thresholds": {"unclassified": {"notify": 50, "step_up": 40}}}}),
                "below",
            ),
            (
                json!({"escalation": {"hysteresis_margin": -1}}),
                "hysteresis_margin",
            ),
            (
                json!({"escalation": {"tiers": ["observe", "contain"]}}),
                "tiers",
            ),
        ];
        for (patch, want) in cases {
            let mut d = good();
            merge(&mut d, &patch);
            let err = parse(&d).unwrap_err().to_string();
            assert!(err.contains(want), "{err}");
        }
    }

    #[test]
    fn merge_is_deep() {
        let mut d = json!({"a": {"b": 1, "c": 2}, "x": [1]});
        merge(&mut d, &json!({"a": {"b": 5}, "x": [2, 3]}));
        assert_eq!(d, json!({"a": {"b": 5, "c": 2}, "x": [2, 3]}));
    }
}
