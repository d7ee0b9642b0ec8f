# Tripline default escalation policy.
#
# Staged, proportionate and reversible: observe → notify → step_up → jit_restrict (time-boxed)
# → rotate (short-lived credential reset) → owner_review → contain.
#
# Restrictions, narrowest first: `restrict` denies only the implicated actions (the sensitive
# calls and services in the signals) for a time box; `reset_sessions` revokes a role's active
# sessions (a role's credential reset: its workloads fetch fresh ones, a stolen copy dies);
# `rotate` rotates a user's key; `contain` (full deny or key deactivation) needs an approval,
# which the guardrails enforce.
#
# Every number lives in data.escalation (policies/default-data.json), so a backtest can sweep
# thresholds without editing this file. The Rust side checks this file at load (every `input.`
# and `data.escalation.` reference must exist, the decision must have the required shape) and
# applies guardrails the policy cannot override (dry-run by default, expiries, approval for
# irreversible actions, hysteresis).
#
# Output: data.tripline.escalation.decision =
#   {"tier": "...", "actions": [{"type", "reversible", "expires_in_secs", "undo"}], "reasons": [...]}
package tripline.escalation

cfg := data.escalation

tier_names := cfg.tiers

# Tier order is fixed (the Rust side checks data.escalation.tiers against it).
tier_index := {"observe": 0, "notify": 1, "step_up": 2, "jit_restrict": 3, "rotate": 4, "owner_review": 5, "contain": 6}

observe := 0

notify := 1

step_up := 2

jit_restrict := 3

rotate := 4

owner_review := 5

contain := 6

high_severities := {"high", "critical"}

# ---------------------------------------------------------------------------------------------
# Per-class thresholds (admin_facing escalates sooner than telemetry); unknown classes use the
# `unclassified` row.

class := input.identity.class

thresholds := object.get(cfg.thresholds, class, cfg.thresholds.unclassified)

# ---------------------------------------------------------------------------------------------
# Signals, grouped.

codes := {s.code | some s in input.signals}

scale_codes := {c | some c in cfg.volume.scale_context_codes}

volume_codes := {c | some c in cfg.volume.volume_codes}

credential_codes := {c | some c in cfg.credential.codes}

# Behaviour evidence excludes context-only codes (a scale-up is not drift).
behaviour_codes := {s.code | some s in input.signals; s.driver == "behaviour"} - scale_codes

high_behaviour_codes := {s.code |
	some s in input.signals
	s.driver == "behaviour"
	s.severity in high_severities
} - scale_codes

credential_signals := {s.code | some s in input.signals; s.code in credential_codes}

critical_credential_signals := {s.code |
	some s in input.signals
	s.code in credential_codes
	s.severity == "critical"
}

# ---------------------------------------------------------------------------------------------
# Volume: a score whose only volume signal is CTX_SCALE_UP is not escalated for volume.

scale_up_only if {
	count(codes & scale_codes) > 0
	count(codes & volume_codes) == 0
}

only_context_signals if {
	count(codes) > 0
	count(codes - scale_codes) == 0
}

volume_points := sum([s.points | some s in input.signals; s.code in (scale_codes | volume_codes)])

effective_score := 0 if {
	scale_up_only
	only_context_signals
} else := max({0, input.score - volume_points}) if {
	scale_up_only
} else := input.score

# Highest tier whose class threshold the (effective) score reaches.
score_tier := max({i |
	some i, name in tier_names
	i > observe
	effective_score >= thresholds[name]
} | {observe})

# ---------------------------------------------------------------------------------------------
# Rules that raise the tier above what the score alone gives.

# Credential exposure is answered by rotation: a critical credential signal always, a lesser one
# when the score is worth a notification and exposure dominates.
credential_driven if count(critical_credential_signals) > 0

credential_driven if {
	count(credential_signals) > 0
	effective_score >= thresholds.notify
	input.drivers.exposure >= cfg.credential.min_exposure
}

# Privilege plus drift escalates hard.
privilege_drift if {
	input.drivers.privilege >= cfg.privilege_drift.min_privilege
	input.drivers.behaviour >= cfg.privilege_drift.min_behaviour
	count(behaviour_codes) > 0
}

# Several aligned high-severity behaviour signals: a containment candidate.
aligned_behaviour if count(high_behaviour_codes) >= cfg.aligned_behaviour.min_distinct_codes

# Containment needs privilege or exposure evidence plus behaviour: never score alone.
privilege_evidence if input.drivers.privilege >= cfg.containment.min_privilege

privilege_evidence if {
	some s in input.signals
	s.driver == "privilege"
	s.severity in high_severities
}

exposure_evidence if input.drivers.exposure >= cfg.containment.min_exposure

exposure_evidence if {
	some s in input.signals
	s.driver == "exposure"
	s.severity in high_severities
}

behaviour_evidence if {
	input.drivers.behaviour >= cfg.containment.min_behaviour
	count(behaviour_codes) > 0
}

containment_supported if {
	privilege_evidence
	behaviour_evidence
}

containment_supported if {
	exposure_evidence
	behaviour_evidence
}

candidates contains score_tier

candidates contains rotate if credential_driven

candidates contains jit_restrict if privilege_drift

candidates contains contain if aligned_behaviour

raw_tier := max(candidates)

tier := raw_tier if {
	raw_tier < contain
} else := contain if {
	containment_supported
} else := owner_review

# ---------------------------------------------------------------------------------------------
# Actions: each tier adds the least disruptive step that answers it.

action_order := ["notify", "step_up", "restrict", "reset_sessions", "rotate", "owner_review", "contain"]

# A role has no key to rotate: its credential reset is a session reset.
is_role if contains(input.identity.id, ":role/")

is_role if contains(input.identity.id, ":assumed-role/")

credential_reset := "reset_sessions" if is_role

else := "rotate"

action_set contains "notify" if tier >= notify

action_set contains "step_up" if tier == step_up

action_set contains "restrict" if tier == jit_restrict

action_set contains "restrict" if {
	tier >= jit_restrict
	privilege_drift
}

action_set contains "restrict" if {
	tier > jit_restrict
	score_tier >= jit_restrict
}

action_set contains "restrict" if tier == contain

action_set contains credential_reset if tier == rotate

action_set contains credential_reset if {
	tier >= notify
	credential_driven
}

action_set contains "owner_review" if tier >= owner_review

action_set contains "contain" if tier == contain

reversible := {
	"notify": true,
	"step_up": true,
	"restrict": true,
	"reset_sessions": true,
	"rotate": true,
	"owner_review": true,
	"contain": false,
}

undo := {
	"notify": "nothing to undo: a notification only",
	"step_up": "remove the step-up (re-verification) requirement; it also lapses at expiry",
	"restrict": "delete the time-boxed deny of the implicated actions; its aws:CurrentTime condition lapses at expiry",
	"reset_sessions": "delete the session-reset deny (aws:TokenIssueTime); it is inert once the sessions it denies have expired",
	"rotate": "reactivate the previous key (deactivated, not deleted); the short-lived replacement expires on its own",
	"owner_review": "close the review case",
	"contain": "a deactivated key can be reactivated by an administrator; a deleted key cannot be restored",
}

actions := [a |
	some name in action_order
	name in action_set
	a := {
		"type": name,
		"reversible": reversible[name],
		"expires_in_secs": object.get(cfg.expires_in_secs, name, null),
		"undo": undo[name],
	}
]

# ---------------------------------------------------------------------------------------------
# Reasons: one line each, for people.

reasons contains msg if {
	score_tier > observe
	name := tier_names[score_tier]
	msg := sprintf("score %v reaches the %s threshold (%v) for class %s", [effective_score, name, thresholds[name], class])
}

reasons contains msg if {
	score_tier == observe
	msg := sprintf("score %v is below the notify threshold (%v) for class %s", [effective_score, thresholds.notify, class])
}

reasons contains msg if {
	scale_up_only
	msg := sprintf("volume is explained by a scale-up (%s) with no other volume signal: %v volume points not counted, not escalated for volume", [concat(", ", sort([c | some c in codes & scale_codes])), input.score - effective_score])
}

reasons contains msg if {
	credential_driven
	is_role
	msg := sprintf("credential exposure (%s) of a role is answered by a session reset: sessions issued before now are denied, fresh ones work", [concat(", ", sort([c | some c in credential_signals]))])
}

reasons contains msg if {
	credential_driven
	not is_role
	msg := sprintf("credential exposure (%s) is answered by rotation to a short-lived credential", [concat(", ", sort([c | some c in credential_signals]))])
}

reasons contains msg if {
	privilege_drift
	msg := sprintf("privilege %v with behaviour drift %v: time-boxed restriction at least", [input.drivers.privilege, input.drivers.behaviour])
}

reasons contains msg if {
	aligned_behaviour
	msg := sprintf("%v distinct high-severity behaviour signals (%s): containment candidate", [count(high_behaviour_codes), concat(", ", sort([c | some c in high_behaviour_codes]))])
}

reasons contains msg if {
	raw_tier == contain
	not containment_supported
	msg := sprintf("containment withheld: it needs privilege or exposure evidence plus behaviour (privilege %v, exposure %v, behaviour %v); owner review instead", [input.drivers.privilege, input.drivers.exposure, input.drivers.behaviour])
}

reasons contains msg if {
	tier == contain
	msg := "containment supported by privilege or exposure evidence plus behaviour drift"
}

decision := {
	"tier": tier_names[tier],
	"actions": actions,
	"reasons": sort([r | some r in reasons]),
}
