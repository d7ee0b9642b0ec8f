//! The decision: tiers, actions, reasons. The policy's JSON output is validated against this
//! shape field by field (unknown keys are errors, so a typo such as `reason` fails loudly).

use crate::PolicyError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

pub use tripline_model::Tier;

/// What a response does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Notify,
    StepUp,
    /// Deny the implicated actions for a time box (the narrowest restriction).
    Restrict,
    /// Revoke a role's active sessions (deny sessions issued before now); the role's workloads
    /// fetch fresh credentials by themselves. A role's answer to stolen credentials.
    ResetSessions,
    /// Rotate a user's access key.
    Rotate,
    OwnerReview,
    /// Disable or delete the credential: irreversible, needs an approval.
    Contain,
}

impl ActionKind {
    pub const ALL: [ActionKind; 7] = [
        Self::Notify,
        Self::StepUp,
        Self::Restrict,
        Self::ResetSessions,
        Self::Rotate,
        Self::OwnerReview,
        Self::Contain,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notify => "notify",
            Self::StepUp => "step_up",
            Self::Restrict => "restrict",
            Self::ResetSessions => "reset_sessions",
            Self::Rotate => "rotate",
            Self::OwnerReview => "owner_review",
            Self::Contain => "contain",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Actions that limit what the identity can do, and so must lapse on their own.
    pub fn is_restriction(self) -> bool {
        matches!(self, Self::StepUp | Self::Restrict | Self::Rotate)
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an action stands after the guardrails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    /// As the policy proposed it; no guardrail has run.
    #[default]
    Proposed,
    /// Dry run: recorded, not carried out.
    Planned,
    /// Cleared by the guardrails for a caller in apply mode.
    Apply,
}

/// One response step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: ActionKind,
    pub reversible: bool,
    pub expires_in_secs: Option<u64>,
    /// How to undo it (recorded with every applied action).
    pub undo: String,
    #[serde(default)]
    pub status: ActionStatus,
}

/// The policy's answer for one identity, after validation (and, from `decide`, guardrails).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub tier: Tier,
    pub actions: Vec<Action>,
    pub reasons: Vec<String>,
    /// `sha256:<hex>` of the policy texts and the data document that produced this decision.
    pub policy_version: String,
    /// What the guardrails changed, one line each (empty before guardrails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guardrails: Vec<String>,
    /// The policy failed for this identity (see [`Decision::held`]); `None` when it decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Decision {
    /// The decision of an identity the policy failed for: held at its previous tier (observe
    /// when it had none), no action, the error recorded as a reason, for a human to look at.
    pub fn held(previous: Option<Tier>, error: &PolicyError, policy_version: &str) -> Self {
        let tier = previous.unwrap_or(Tier::Observe);
        let error = error.to_string();
        Self {
            tier,
            actions: Vec::new(),
            reasons: vec![format!(
                "policy error for this identity, held at {tier} with no action; fix the policy (`tripline policy check`): {error}"
            )],
            policy_version: policy_version.to_string(),
            guardrails: Vec::new(),
            error: Some(error),
        }
    }

    pub fn has(&self, kind: ActionKind) -> bool {
        self.actions.iter().any(|a| a.kind == kind)
    }

    pub fn action(&self, kind: ActionKind) -> Option<&Action> {
        self.actions.iter().find(|a| a.kind == kind)
    }
}

/// Bounds on what a policy may return.
pub(crate) const MAX_ACTIONS: usize = 16;
pub(crate) const MAX_REASONS: usize = 64;
pub(crate) const MAX_TEXT_BYTES: usize = 2048;

fn shape(msg: impl Into<String>) -> PolicyError {
    PolicyError::DecisionShape(msg.into())
}

fn exact_keys(obj: &Map<String, Value>, keys: &[&str], at: &str) -> Result<(), PolicyError> {
    for k in obj.keys() {
        if !keys.contains(&k.as_str()) {
            return Err(shape(format!(
                "{at}: unexpected key `{k}` (expected exactly: {})",
                keys.join(", ")
            )));
        }
    }
    for k in keys {
        if !obj.contains_key(*k) {
            return Err(shape(format!("{at}: missing key `{k}`")));
        }
    }
    Ok(())
}

fn text(v: &Value, at: &str) -> Result<String, PolicyError> {
    let s = v
        .as_str()
        .ok_or_else(|| shape(format!("{at}: expected a string, got {v}")))?;
    if s.len() > MAX_TEXT_BYTES {
        return Err(shape(format!(
            "{at}: {} bytes, over the {MAX_TEXT_BYTES}-byte cap",
            s.len()
        )));
    }
    Ok(s.to_string())
}

fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> &'a Value {
    obj.get(key).unwrap_or(&Value::Null)
}

/// Validate the policy's raw output and type it.
pub(crate) fn from_policy_output(v: &Value, version: &str) -> Result<Decision, PolicyError> {
    let obj = v
        .as_object()
        .ok_or_else(|| shape(format!("decision: expected an object, got {v}")))?;
    exact_keys(obj, &["tier", "actions", "reasons"], "decision")?;
    let tier_name = text(get(obj, "tier"), "decision.tier")?;
    let tier = Tier::parse(&tier_name).ok_or_else(|| {
        shape(format!(
            "decision.tier: unknown tier `{tier_name}` (expected one of: {})",
            Tier::ALL.map(Tier::as_str).join(", ")
        ))
    })?;
    let raw_actions = get(obj, "actions")
        .as_array()
        .ok_or_else(|| shape("decision.actions: expected an array"))?;
    if raw_actions.len() > MAX_ACTIONS {
        return Err(shape(format!(
            "decision.actions: {} actions, over the cap of {MAX_ACTIONS}",
            raw_actions.len()
        )));
    }
    let mut actions = Vec::with_capacity(raw_actions.len());
    for (i, a) in raw_actions.iter().enumerate() {
        let at = format!("decision.actions[{i}]");
        let o = a
            .as_object()
            .ok_or_else(|| shape(format!("{at}: expected an object, got {a}")))?;
        exact_keys(o, &["type", "reversible", "expires_in_secs", "undo"], &at)?;
        let kind_name = text(get(o, "type"), &format!("{at}.type"))?;
        let kind = ActionKind::parse(&kind_name).ok_or_else(|| {
            shape(format!(
                "{at}.type: unknown action `{kind_name}` (expected one of: {})",
                ActionKind::ALL.map(ActionKind::as_str).join(", ")
            ))
        })?;
        let reversible = get(o, "reversible")
            .as_bool()
            .ok_or_else(|| shape(format!("{at}.reversible: expected a boolean")))?;
        let expires_in_secs = match get(o, "expires_in_secs") {
            Value::Null => None,
            Value::Number(n) => Some(
                n.as_u64()
                    .or_else(|| {
                        // Rego arithmetic may produce 3600.0: accept whole non-negative floats.
                        n.as_f64()
                            .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0)
                            .map(|f| f as u64)
                    })
                    .ok_or_else(|| {
                        shape(format!(
                            "{at}.expires_in_secs: expected a non-negative integer, got {n}"
                        ))
                    })?,
            ),
            other => {
                return Err(shape(format!(
                    "{at}.expires_in_secs: expected an integer or null, got {other}"
                )))
            }
        };
        let undo = text(get(o, "undo"), &format!("{at}.undo"))?;
        actions.push(Action {
            kind,
            reversible,
            expires_in_secs,
            undo,
            status: ActionStatus::Proposed,
        });
    }
    let raw_reasons = get(obj, "reasons")
        .as_array()
        .ok_or_else(|| shape("decision.reasons: expected an array of strings"))?;
    if raw_reasons.len() > MAX_REASONS {
        return Err(shape(format!(
            "decision.reasons: {} reasons, over the cap of {MAX_REASONS}",
            raw_reasons.len()
        )));
    }
    let reasons = raw_reasons
        .iter()
        .enumerate()
        .map(|(i, r)| text(r, &format!("decision.reasons[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if tier > Tier::Observe && reasons.is_empty() {
        return Err(shape(format!(
            "decision.reasons: tier `{tier}` with no reason (every escalation must say why)"
        )));
    }
    Ok(Decision {
        error: None,
        tier,
        actions,
        reasons,
        policy_version: version.to_string(),
        guardrails: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tiers_are_ordered_and_named() {
        assert!(Tier::Observe < Tier::Notify && Tier::OwnerReview < Tier::Contain);
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t).ok(),
                Some(Value::String(t.as_str().to_string()))
            );
        }
        for k in ActionKind::ALL {
            assert_eq!(ActionKind::parse(k.as_str()), Some(k));
        }
    }

    #[test]
    fn shape_errors_name_the_field() {
        let ok = json!({"tier": "notify", "actions": [{"type": "notify", "reversible": true, "expires_in_secs": null, "undo": "x"}], "reasons": ["r"]});
        assert!(from_policy_output(&ok, "v").is_ok());
        let cases = [
            (
                json!({"tier": "notify", "actions": [], "reason": ["r"]}),
                "unexpected key `reason`",
            ),
            (
                json!({"tier": "panic", "actions": [], "reasons": []}),
                "unknown tier",
            ),
            (
                json!({"tier": "notify", "actions": [{"type": "notify", "reversible": true, "undo": "x"}], "reasons": ["r"]}),
                "missing key `expires_in_secs`",
            ),
            (
                json!({"tier": "notify", "actions": [{"type": "nuke", "reversible": true, "expires_in_secs": null, "undo": "x"}], "reasons": ["r"]}),
                "unknown action",
            ),
            (
                json!({"tier": "notify", "actions": [{"type": "notify", "reversible": true, "expires_in_secs": -1, "undo": "x"}], "reasons": ["r"]}),
                "non-negative integer",
            ),
            (
                json!({"tier": "notify", "actions": [], "reasons": []}),
                "with no reason",
            ),
        ];
        for (v, want) in cases {
            match from_policy_output(&v, "v") {
                Err(PolicyError::DecisionShape(msg)) => assert!(msg.contains(want), "{msg}"),
                other => panic!("{v}: expected a shape error, got {other:?}"),
            }
        }
    }
}
