//! Guardrails the policy cannot override, applied after evaluation (DESIGN §4):
//!
//! 1. **Hysteresis**: escalate at once, de-escalate only when the score falls below the held
//!    tier's threshold minus a margin ([`apply_hysteresis`]).
//! 2. **Irreversible actions** (`contain`, or anything the policy marks irreversible) need an
//!    approval *and* supporting context (privilege or exposure evidence); otherwise they are
//!    replaced by `owner_review`, with the reason recorded.
//! 3. **Expiry**: every restriction (`step_up`, `restrict`, `rotate`) lapses: a missing expiry
//!    gets the maximum, a longer one is capped to it.
//! 4. **Undo**: every action records how to undo it (a default text if the policy gave none).
//! 5. **Dry run by default**: [`Mode::Plan`] marks every action planned; only [`Mode::Apply`]
//!    marks actions to apply.
//!
//! Also here, as pure helpers: one case per identity and incident ([`case_key`]) and a
//! per-identity state holder ([`Hysteresis`]).

use crate::{Action, ActionKind, ActionStatus, Decision, DecisionInput, Thresholds, Tier};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use tripline_model::{Driver, Severity, Timestamp};

/// Whether actions are carried out. Plan (dry run) is the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Plan,
    Apply,
}

/// A person's approval for an irreversible action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub approver: String,
    /// Ticket, change or chat reference.
    pub reference: String,
}

/// Guardrail settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardrailConfig {
    /// Longest a restriction may last; also the expiry imposed when the policy gives none.
    pub max_restriction_secs: u64,
    /// Privilege driver that counts as evidence for an irreversible action.
    pub min_privilege_evidence: f64,
    /// Exposure driver that counts as evidence for an irreversible action.
    pub min_exposure_evidence: f64,
}

impl Default for GuardrailConfig {
    fn default() -> Self {
        Self {
            max_restriction_secs: 4 * 3600,
            min_privilege_evidence: 0.6,
            min_exposure_evidence: 0.6,
        }
    }
}

/// What the caller brings to one decision.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GuardrailContext {
    pub mode: Mode,
    pub approval: Option<Approval>,
    pub config: GuardrailConfig,
}

/// Escalate immediately; de-escalate only below `threshold − margin`.
///
/// With a previous tier above the new one, the result is the highest tier between them (the
/// previous one included) whose threshold minus the margin the score still reaches, or the new
/// tier when none is.
pub fn apply_hysteresis(
    prev: Option<Tier>,
    new: Tier,
    score: f64,
    thresholds: &Thresholds,
) -> Tier {
    let Some(prev) = prev else { return new };
    if new >= prev {
        return new;
    }
    Tier::ALL
        .into_iter()
        .rev()
        .filter(|t| *t > new && *t <= prev)
        .find(|t| score >= thresholds.threshold(*t) - thresholds.margin)
        .unwrap_or(new)
}

/// Evidence that supports an irreversible action, described; `None` when there is none.
pub fn supporting_context(input: &DecisionInput, config: &GuardrailConfig) -> Option<String> {
    let strong = |driver: Driver| {
        input
            .signals
            .iter()
            .filter(|s| s.driver == driver && s.severity >= Severity::High)
            .map(|s| s.code.as_str())
            .collect::<Vec<_>>()
    };
    let mut evidence = Vec::new();
    if input.drivers.privilege >= config.min_privilege_evidence {
        evidence.push(format!("privilege {}", input.drivers.privilege));
    }
    if input.drivers.exposure >= config.min_exposure_evidence {
        evidence.push(format!("exposure {}", input.drivers.exposure));
    }
    for driver in [Driver::Privilege, Driver::Exposure] {
        let codes = strong(driver);
        if !codes.is_empty() {
            evidence.push(codes.join(", "));
        }
    }
    (!evidence.is_empty()).then(|| evidence.join("; "))
}

fn default_undo(kind: ActionKind) -> &'static str {
    match kind {
        ActionKind::Notify => "nothing to undo: a notification only",
        ActionKind::StepUp => "remove the step-up requirement",
        ActionKind::Restrict => "remove the restriction",
        ActionKind::ResetSessions => {
            "delete the session-reset deny; sessions issued before it work again"
        }
        ActionKind::Rotate => "reactivate the previous credential",
        ActionKind::OwnerReview => "close the review case",
        ActionKind::Contain => "re-enable the credential if it was deactivated, not deleted",
    }
}

/// Apply every guardrail to a policy decision. Pure: same inputs, same output.
pub fn apply_guardrails(
    mut decision: Decision,
    input: &DecisionInput,
    thresholds: &Thresholds,
    ctx: &GuardrailContext,
) -> Decision {
    let mut notes = Vec::new();

    // 1. Hysteresis.
    let held = apply_hysteresis(input.previous_tier, decision.tier, input.score, thresholds);
    if held != decision.tier {
        notes.push(format!(
            "held at {held} (policy says {}): score {} has not dropped below the {held} threshold {} minus the margin {}; its actions stay in place",
            decision.tier,
            input.score,
            thresholds.threshold(held),
            thresholds.margin
        ));
        decision.tier = held;
    }

    // 2. Irreversible actions need an approval and supporting context.
    let evidence = supporting_context(input, &ctx.config);
    let mut kept: Vec<Action> = Vec::with_capacity(decision.actions.len());
    let mut downgraded = false;
    for mut action in std::mem::take(&mut decision.actions) {
        if action.kind == ActionKind::Contain && action.reversible {
            notes.push("contain is irreversible whatever the policy says".to_string());
            action.reversible = false;
        }
        if !action.reversible {
            let missing: Vec<&str> = [
                ctx.approval.is_none().then_some("an approval"),
                evidence
                    .is_none()
                    .then_some("supporting context (privilege or exposure evidence)"),
            ]
            .into_iter()
            .flatten()
            .collect();
            if !missing.is_empty() {
                notes.push(format!(
                    "{} downgraded to owner_review: an irreversible action needs {}",
                    action.kind,
                    missing.join(" and ")
                ));
                downgraded = true;
                continue;
            }
            if let (Some(a), Some(e)) = (&ctx.approval, &evidence) {
                notes.push(format!(
                    "{} approved by {} ({}); evidence: {e}",
                    action.kind, a.approver, a.reference
                ));
            }
        }
        kept.push(action);
    }
    if downgraded {
        if !kept.iter().any(|a| a.kind == ActionKind::OwnerReview) {
            kept.push(Action {
                kind: ActionKind::OwnerReview,
                reversible: true,
                expires_in_secs: None,
                undo: default_undo(ActionKind::OwnerReview).to_string(),
                status: ActionStatus::Proposed,
            });
        }
        if decision.tier > Tier::OwnerReview {
            decision.tier = Tier::OwnerReview;
        }
    }

    // 3. Expiry and 4. undo.
    let max = ctx.config.max_restriction_secs;
    for action in &mut kept {
        if action.kind.is_restriction() {
            match action.expires_in_secs {
                None | Some(0) => {
                    notes.push(format!("{} had no expiry: {max} s imposed", action.kind));
                    action.expires_in_secs = Some(max);
                }
                Some(e) if e > max => {
                    notes.push(format!("{} expiry {e} s capped to {max} s", action.kind));
                    action.expires_in_secs = Some(max);
                }
                Some(_) => {}
            }
        }
        if action.undo.trim().is_empty() {
            notes.push(format!("{} had no undo: default recorded", action.kind));
            action.undo = default_undo(action.kind).to_string();
        }
        // 5. Dry run unless the caller asked to apply.
        action.status = match ctx.mode {
            Mode::Plan => ActionStatus::Planned,
            Mode::Apply => ActionStatus::Apply,
        };
    }
    kept.sort_by_key(|a| a.kind);
    decision.actions = kept;
    if ctx.mode == Mode::Plan && !decision.actions.is_empty() {
        notes.push("dry run: actions are planned, not applied".to_string());
    }
    decision.guardrails.extend(notes);
    decision
}

/// One case per identity and incident: `identity@window-start`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CaseKey {
    pub identity: String,
    pub window_start: Timestamp,
}

impl fmt::Display for CaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.identity, self.window_start)
    }
}

/// An identity's open case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseState {
    pub key: CaseKey,
    pub tier: Tier,
    /// Last time the identity was above `observe`.
    pub last_active: Timestamp,
}

/// The case a decision at `now` belongs to: the open one while the identity was active within
/// `quiet_secs`, else a new one starting now; `None` for an `observe` decision with no open case.
pub fn case_key(
    identity: &str,
    now: Timestamp,
    tier: Tier,
    open: Option<&CaseState>,
    quiet_secs: i64,
) -> Option<CaseKey> {
    let still_open = open.filter(|c| {
        c.key.identity == identity
            && now.0 >= c.key.window_start.0
            && now.0.saturating_sub(c.last_active.0) <= quiet_secs.saturating_mul(1000)
    });
    match (still_open, tier) {
        (Some(c), _) => Some(c.key.clone()),
        (None, Tier::Observe) => None,
        (None, _) => Some(CaseKey {
            identity: identity.to_string(),
            window_start: now,
        }),
    }
}

/// Per-identity hysteresis and case state.
#[derive(Debug, Clone, Default)]
pub struct Hysteresis {
    cases: BTreeMap<String, CaseState>,
    /// A case closes after this long at `observe`.
    pub quiet_secs: i64,
}

impl Hysteresis {
    pub fn new(quiet_secs: i64) -> Self {
        Self {
            cases: BTreeMap::new(),
            quiet_secs,
        }
    }

    /// The tier the identity's open case is at, to pass as `previous_tier`.
    pub fn previous(&self, identity: &str) -> Option<Tier> {
        self.cases.get(identity).map(|c| c.tier)
    }

    /// Record a policy tier for `identity` at `now`: returns the tier after hysteresis and the
    /// case it belongs to.
    pub fn update(
        &mut self,
        identity: &str,
        now: Timestamp,
        policy_tier: Tier,
        score: f64,
        thresholds: &Thresholds,
    ) -> (Tier, Option<CaseKey>) {
        let open = self.cases.get(identity);
        let key = case_key(identity, now, policy_tier, open, self.quiet_secs);
        let prev = match (&key, open) {
            (Some(k), Some(c)) if *k == c.key => Some(c.tier),
            _ => None,
        };
        let tier = apply_hysteresis(prev, policy_tier, score, thresholds);
        match &key {
            Some(k) => {
                let last_active = match (tier, open) {
                    (Tier::Observe, Some(c)) if c.key == *k => c.last_active,
                    _ => now,
                };
                self.cases.insert(
                    identity.to_string(),
                    CaseState {
                        key: k.clone(),
                        tier,
                        last_active,
                    },
                );
            }
            None => {
                self.cases.remove(identity);
            }
        }
        (tier, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn th() -> Thresholds {
        let mut by_tier = BTreeMap::new();
        for (t, v) in Tier::ALL
            .into_iter()
            .zip([0.0, 20.0, 40.0, 55.0, 65.0, 75.0, 88.0])
        {
            by_tier.insert(t, v);
        }
        Thresholds {
            by_tier,
            margin: 10.0,
        }
    }

    #[test]
    fn hysteresis_escalates_at_once_and_holds_within_the_margin() {
        let t = th();
        assert_eq!(apply_hysteresis(None, Tier::Notify, 25.0, &t), Tier::Notify);
        assert_eq!(
            apply_hysteresis(Some(Tier::Notify), Tier::StepUp, 41.0, &t),
            Tier::StepUp
        );
        // 39 ≥ 40 − 10: held.
        assert_eq!(
            apply_hysteresis(Some(Tier::StepUp), Tier::Notify, 39.0, &t),
            Tier::StepUp
        );
        assert_eq!(
            apply_hysteresis(Some(Tier::StepUp), Tier::Notify, 30.0, &t),
            Tier::StepUp
        );
        // 29 < 30: released.
        assert_eq!(
            apply_hysteresis(Some(Tier::StepUp), Tier::Notify, 29.0, &t),
            Tier::Notify
        );
        // From contain, 60 holds at rotate (65 − 10 ≤ 60 < 75 − 10); 50 at jit_restrict.
        assert_eq!(
            apply_hysteresis(Some(Tier::Contain), Tier::Notify, 60.0, &t),
            Tier::Rotate
        );
        assert_eq!(
            apply_hysteresis(Some(Tier::Contain), Tier::Notify, 50.0, &t),
            Tier::JitRestrict
        );
    }

    #[test]
    fn one_case_per_identity_and_incident() {
        let t = th();
        let mut h = Hysteresis::new(3600);
        let at = |s: i64| Timestamp::from_secs(1_700_000_000 + s);
        assert_eq!(
            h.update("a", at(0), Tier::Observe, 5.0, &t),
            (Tier::Observe, None)
        );
        let (tier, k1) = h.update("a", at(10), Tier::Notify, 25.0, &t);
        assert_eq!(tier, Tier::Notify);
        let k1 = k1.unwrap();
        assert_eq!(k1.window_start, at(10));
        // Same incident: same key, even through a quiet observe.
        let (_, k2) = h.update("a", at(600), Tier::StepUp, 45.0, &t);
        assert_eq!(k2.as_ref(), Some(&k1));
        let (tier, k3) = h.update("a", at(1200), Tier::Observe, 5.0, &t);
        assert_eq!((tier, k3.as_ref()), (Tier::Observe, Some(&k1)));
        // After the quiet period a new incident opens a new case.
        let (_, k4) = h.update("a", at(600 + 3601), Tier::Notify, 25.0, &t);
        assert_ne!(k4.as_ref(), Some(&k1));
        assert!(k4.unwrap().to_string().starts_with("a@"));
    }
}
