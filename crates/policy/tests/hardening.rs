#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Issue 11: no policy or identity can take the process down or fail the other identities.

use tripline_model::{Drivers, IdentityClass, IdentityKind, Level};
use tripline_policy::*;

fn load(text: &str) -> Result<PolicyEngine, PolicyError> {
    let data: serde_json::Value = serde_json::from_str(DEFAULT_DATA).unwrap();
    PolicyEngine::from_sources(
        vec![PolicySource {
            name: "p.rego".into(),
            text: text.into(),
        }],
        data,
        Limits::default(),
    )
}

fn input(id: &str, class: IdentityClass) -> DecisionInput {
    DecisionInput {
        identity: InputIdentity {
            id: id.into(),
            kind: IdentityKind::ServiceAccount,
            class,
            owner: None,
            environment: None,
        },
        score: 10.0,
        level: Level::Low,
        drivers: Drivers::default(),
        signals: Vec::new(),
        previous_tier: None,
    }
}

const OBSERVE: &str = r#"{"tier": "observe", "actions": [], "reasons": ["ok"]}"#;

#[test]
fn mutually_recursive_rules_are_rejected_at_load_not_a_stack_overflow() {
    let src =
        format!("package tripline.escalation\n\na := b\nb := a\n\ndecision := {OBSERVE} if a\n");
    match load(&src) {
        Err(PolicyError::Recursion(c)) => {
            assert_eq!(c.len(), 1, "{c:?}");
            assert!(c[0].contains("a -> b -> a"), "{c:?}");
            assert!(c[0].starts_with("p.rego:3:"), "{c:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn recursive_functions_and_data_paths_are_rejected_at_load() {
    let src = format!(
        "package tripline.escalation\n\nf(x) := y if {{\n  y := f(x)\n}}\n\ndecision := {OBSERVE} if f(1)\n"
    );
    assert!(matches!(load(&src), Err(PolicyError::Recursion(_))));
    let src = format!(
        "package tripline.escalation\n\nb := data.tripline.escalation.c\nc := data.tripline.escalation.b\ndecision := {OBSERVE} if b\n"
    );
    assert!(matches!(load(&src), Err(PolicyError::Recursion(_))));
}

#[test]
fn rules_named_like_fields_or_defaults_are_not_recursion() {
    // `default x`, a field `.x` of another rule's value and `else` chains are not cycles.
    let src = format!(
        "package tripline.escalation\n\ndefault hot := false\nhot if input.score > 50\nobj := {{\"hot\": 1}}\nv := obj.hot\nt := \"a\" if hot\nelse := \"b\"\ndecision := {OBSERVE} if v\n"
    );
    load(&src).unwrap();
}

#[test]
fn policy_tests_with_recursion_are_an_error_not_an_abort() {
    let dir = std::env::temp_dir().join(format!("tripline-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("rec_test.rego");
    std::fs::write(&f, "package rec_test\n\na := b\nb := a\ntest_a if a\n").unwrap();
    assert!(matches!(
        run_policy_tests(&[&f]),
        Err(PolicyError::Recursion(_))
    ));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unbounded_ranges_are_rejected_and_small_literal_ones_accepted() {
    let src = format!(
        "package tripline.escalation\n\nbig := numbers.range(1, 1000000000)\ndecision := {OBSERVE} if count(big) > 0\n"
    );
    match load(&src) {
        Err(PolicyError::UnboundedBuiltin(m)) => {
            assert!(m[0].starts_with("p.rego:3:"), "{m:?}");
        }
        other => panic!("{other:?}"),
    }
    // A bound taken from the input cannot be checked: rejected too.
    let src = format!(
        "package tripline.escalation\n\nn := numbers.range_step(0, input.score, 1)\ndecision := {OBSERVE} if count(n) > 0\n"
    );
    assert!(matches!(load(&src), Err(PolicyError::UnboundedBuiltin(_))));
    let src = format!(
        "package tripline.escalation\n\nsmall := numbers.range(1, 10)\ndecision := {OBSERVE} if count(small) == 10\n"
    );
    load(&src).unwrap();
}

#[test]
fn a_policy_failing_for_one_class_fails_the_load_check() {
    // Undefined (no decision) only for batch jobs.
    let src = format!(
        "package tripline.escalation\n\ndecision := {OBSERVE} if input.identity.class != \"batch_job\"\n"
    );
    match load(&src) {
        Err(PolicyError::Canary { canary, .. }) => {
            assert!(canary.starts_with("batch_job/"), "{canary}")
        }
        other => panic!("{other:?}"),
    }
    // A malformed decision only at one previous tier.
    let src = format!(
        "package tripline.escalation\n\ndecision := {OBSERVE} if input.previous_tier != \"rotate\"\ndecision := {{\"tier\": \"nope\"}} if input.previous_tier == \"rotate\"\n"
    );
    match load(&src) {
        Err(PolicyError::Canary { canary, .. }) => assert!(canary.ends_with("/rotate"), "{canary}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_policy_failing_for_one_identity_holds_that_identity_only() {
    // Undefined for one id the canaries never use: loads, then fails for that identity only.
    let src = format!(
        "package tripline.escalation\n\ndecision := {OBSERVE} if input.identity.id != \"boom\"\n"
    );
    let p = load(&src).unwrap();
    let ctx = GuardrailContext::default();
    let ok = p.decide(&input("fine", IdentityClass::CiCd), &ctx).unwrap();
    assert_eq!(ok.error, None);
    let mut bad = input("boom", IdentityClass::CiCd);
    bad.previous_tier = Some(Tier::Notify);
    let held = p.decide(&bad, &ctx).unwrap();
    assert_eq!(held.tier, Tier::Notify, "held at its previous tier");
    assert!(held.actions.is_empty());
    assert!(
        held.error.as_deref().unwrap().contains("undefined"),
        "{held:?}"
    );
    assert!(held.reasons[0].contains("policy error"), "{held:?}");
    assert_eq!(held.policy_version, p.version());
    // Without a previous tier it is held at observe.
    let held = p.decide(&input("boom", IdentityClass::CiCd), &ctx).unwrap();
    assert_eq!(held.tier, Tier::Observe);
    // `evaluate` still reports the error itself.
    assert!(matches!(
        p.evaluate(&input("boom", IdentityClass::CiCd)),
        Err(PolicyError::DecisionUndefined { .. })
    ));
}

#[test]
fn an_identity_name_over_the_input_cap_is_decided_with_a_truncated_id() {
    let p = PolicyEngine::default_policy().unwrap();
    let long = format!("system:serviceaccount:ns:{}", "é".repeat(750)); // ~1.5 KB, multibyte
    assert!(long.len() > p.limits().max_string_bytes);
    let d = p
        .decide(
            &input(&long, IdentityClass::Workload),
            &GuardrailContext::default(),
        )
        .unwrap();
    assert_eq!(d.error, None, "{d:?}");
    // The id a policy echoes back is the truncated one, within the cap.
    let echo = "package tripline.escalation\n\ndecision := {\"tier\": \"observe\", \"actions\": [], \"reasons\": [input.identity.id]}\n";
    let p = load(echo).unwrap();
    let d = p.evaluate(&input(&long, IdentityClass::Workload)).unwrap();
    assert!(d.reasons[0].len() <= p.limits().max_string_bytes);
    assert!(d.reasons[0].ends_with("…[truncated]"), "{}", d.reasons[0]);
}

#[test]
fn a_recursion_through_a_dynamic_reference_is_a_load_error() {
    // A dynamic reference into the package: the text shows no cycle, the evaluation would have
    // one, only for telemetry identities. regorus's compiler sees it (else the class canaries
    // would, through the instruction limit): an error either way, never an abort.
    let src = format!(
        "package tripline.escalation\n\nname := concat(\"\", [\"lo\", \"op\"])\nloop := data.tripline.escalation[name] if input.identity.class == \"telemetry\"\ndecision := {OBSERVE} if not loop\n"
    );
    match load(&src) {
        Err(PolicyError::Compile { detail, .. }) => {
            assert!(detail.contains("recursion"), "{detail}")
        }
        Err(PolicyError::Canary { canary, source }) => {
            assert!(canary.starts_with("telemetry/"), "{canary}");
            assert!(
                matches!(*source, PolicyError::InstructionLimit { .. }),
                "{source:?}"
            );
        }
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("loaded"),
    }
}
