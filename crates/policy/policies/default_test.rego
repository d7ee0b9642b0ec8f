# Unit tests for the default escalation policy: `tripline policy test` runs every `test_` rule.
package tripline.escalation_test

import data.tripline.escalation

# An input with every field, for tests to adjust with object.union.
base := {
	"identity": {
		"id": "arn:aws:iam::123456789012:role/app",
		"kind": "workload_identity",
		"class": "workload",
		"owner": "platform@example.com",
		"environment": "prod",
	},
	"score": 0,
	"level": "low",
	"drivers": {"privilege": 0.3, "exposure": 0, "behaviour": 0},
	"signals": [],
	"previous_tier": null,
}

with_class(obj, class) := object.union(obj, {"identity": object.union(obj.identity, {"class": class})})

sig(code, driver, severity, points) := {"code": code, "driver": driver, "severity": severity, "points": points}

action_types(d) := {a.type | some a in d.actions}

quiet := object.union(base, {"score": 5})

stolen_instance_credentials := object.union(base, {
	"score": 48,
	"level": "high",
	"drivers": {"privilege": 0.3, "exposure": 0.85, "behaviour": 0.35},
	"signals": [
		sig("EXP_CREDENTIAL_OFF_WORKLOAD", "exposure", "critical", 38),
		sig("BEH_NEW_NETWORK", "behaviour", "medium", 10),
	],
})

low_privilege_drift := object.union(base, {
	"score": 90,
	"level": "critical",
	"drivers": {"privilege": 0.1, "exposure": 0, "behaviour": 0.97},
	"signals": [
		sig("BEH_DENIED_BURST", "behaviour", "high", 30),
		sig("BEH_ENUMERATION", "behaviour", "high", 30),
		sig("BEH_SENSITIVE_ACTION", "behaviour", "high", 30),
	],
})

admin_drift := with_class(
	object.union(base, {
		"score": 40,
		"level": "medium",
		"drivers": {"privilege": 0.85, "exposure": 0, "behaviour": 0.5},
		"signals": [
			sig("PRIV_ADMIN", "privilege", "high", 20),
			sig("BEH_NEW_REGION", "behaviour", "medium", 10),
			sig("BEH_NEW_SERVICE", "behaviour", "medium", 10),
		],
	}),
	"admin_facing",
)

scale_up_only := object.union(base, {
	"score": 45,
	"level": "high",
	"drivers": {"privilege": 0.3, "exposure": 0, "behaviour": 0.2},
	"signals": [sig("CTX_SCALE_UP", "behaviour", "info", 45)],
})

same_score(class) := with_class(
	object.union(base, {
		"score": 58,
		"level": "high",
		"drivers": {"privilege": 0.3, "exposure": 0.2, "behaviour": 0.5},
		"signals": [
			sig("BEH_NEW_NETWORK", "behaviour", "medium", 29),
			sig("BEH_NEW_USER_AGENT", "behaviour", "low", 29),
		],
	}),
	class,
)

test_quiet_identity_is_observed if {
	d := escalation.decision with input as quiet
	d.tier == "observe"
	count(d.actions) == 0
}

test_stolen_role_session_is_answered_by_a_session_reset if {
	d := escalation.decision with input as stolen_instance_credentials
	d.tier == "rotate"
	"reset_sessions" in action_types(d)
	not "rotate" in action_types(d)
	not "contain" in action_types(d)
	"notify" in action_types(d)
}

test_a_users_exposed_key_is_rotated if {
	user := object.union(stolen_instance_credentials.identity, {"id": "arn:aws:iam::123456789012:user/ci"})
	d := escalation.decision with input as object.union(stolen_instance_credentials, {"identity": user})
	"rotate" in action_types(d)
	not "reset_sessions" in action_types(d)
}

test_low_privilege_drift_is_never_contained if {
	d := escalation.decision with input as low_privilege_drift
	d.tier == "owner_review"
	not "contain" in action_types(d)
	some r in d.reasons
	startswith(r, "containment withheld")
}

test_admin_drift_is_restricted_at_least if {
	d := escalation.decision with input as admin_drift
	escalation.tier_index[d.tier] >= escalation.tier_index.jit_restrict
	"restrict" in action_types(d)
}

test_scale_up_only_is_observed if {
	d := escalation.decision with input as scale_up_only
	d.tier == "observe"
}

test_admin_facing_escalates_faster_than_telemetry if {
	admin := escalation.decision with input as same_score("admin_facing")
	telemetry := escalation.decision with input as same_score("telemetry")
	escalation.tier_index[admin.tier] > escalation.tier_index[telemetry.tier]
}

test_containment_with_privilege_and_aligned_behaviour if {
	d := escalation.decision with input as object.union(low_privilege_drift, {
		"drivers": {"privilege": 0.9, "exposure": 0, "behaviour": 0.97},
		"signals": array.concat(low_privilege_drift.signals, [sig("PRIV_ADMIN", "privilege", "high", 5)]),
	})
	d.tier == "contain"
	some a in d.actions
	a.type == "contain"
	a.reversible == false
}

test_restrictions_carry_an_expiry if {
	d := escalation.decision with input as admin_drift
	restrictive := [a | some a in d.actions; a.type in {"step_up", "restrict", "rotate"}]
	count(restrictive) > 0
	every a in restrictive {
		a.expires_in_secs > 0
	}
}

test_every_action_says_how_to_undo_it if {
	d := escalation.decision with input as low_privilege_drift
	count(d.actions) > 0
	every a in d.actions {
		count(a.undo) > 0
	}
}

test_thresholds_come_from_data if {
	d := escalation.decision with input as quiet with data.escalation.thresholds.workload.notify as 1
	d.tier == "notify"
}

test_scale_up_discounts_only_volume if {
	d := escalation.decision with input as object.union(scale_up_only, {"signals": [
		sig("CTX_SCALE_UP", "behaviour", "info", 20),
		sig("BEH_NEW_NETWORK", "behaviour", "medium", 25),
	]})
	d.tier == "notify"
}

test_real_volume_spike_is_not_explained_away if {
	d := escalation.decision with input as object.union(scale_up_only, {"signals": [
		sig("CTX_SCALE_UP", "behaviour", "info", 0),
		sig("BEH_VOLUME_SPIKE", "behaviour", "medium", 45),
	]})
	d.tier == "step_up"
}

test_shared_credential_with_dominant_exposure_rotates if {
	d := escalation.decision with input as object.union(base, {
		"score": 35,
		"drivers": {"privilege": 0.3, "exposure": 0.6, "behaviour": 0},
		"signals": [sig("EXP_SHARED_CREDENTIAL", "exposure", "medium", 35)],
	})
	d.tier == "rotate"
}

test_reasons_name_the_class_threshold if {
	d := escalation.decision with input as same_score("telemetry")
	some r in d.reasons
	contains(r, "for class telemetry")
}
