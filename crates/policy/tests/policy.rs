#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Decisions of the default policy, load-time checks, limits, guardrails and the policy test
//! runner.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tripline_model::{Driver, Drivers, IdentityClass, IdentityKind, Level, Severity};
use tripline_policy::*;

fn sig(code: &str, driver: Driver, severity: Severity, points: f64) -> InputSignal {
    InputSignal {
        code: code.into(),
        driver,
        severity,
        points,
    }
}

fn input(
    class: IdentityClass,
    score: f64,
    drivers: (f64, f64, f64),
    signals: Vec<InputSignal>,
) -> DecisionInput {
    DecisionInput {
        identity: InputIdentity {
            id: "arn:aws:iam::123456789012:role/app".into(),
            kind: IdentityKind::WorkloadIdentity,
            class,
            owner: Some("platform@example.com".into()),
            environment: Some("prod".into()),
        },
        score,
        level: Level::of(score),
        drivers: Drivers {
            privilege: drivers.0,
            exposure: drivers.1,
            behaviour: drivers.2,
        },
        signals,
        previous_tier: None,
    }
}

fn policy() -> PolicyEngine {
    PolicyEngine::default_policy().unwrap()
}

fn reasons(d: &Decision) -> String {
    d.reasons.join(" | ")
}

/// A scratch directory under the system temp dir, unique per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tripline-policy-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stolen_instance_credentials(score: f64) -> DecisionInput {
    // Instance credentials used off their instance; no inventory, so privilege is the 0.3 prior.
    input(
        IdentityClass::Workload,
        score,
        (0.3, 0.85, 0.35),
        vec![
            sig(
                "EXP_CREDENTIAL_OFF_WORKLOAD",
                Driver::Exposure,
                Severity::Critical,
                score * 0.7,
            ),
            sig(
                "BEH_NEW_NETWORK",
                Driver::Behaviour,
                Severity::Medium,
                score * 0.3,
            ),
        ],
    )
}

fn low_privilege_drift(score: f64, behaviour: f64) -> DecisionInput {
    input(
        IdentityClass::BatchJob,
        score,
        (0.1, 0.0, behaviour),
        vec![
            sig(
                "BEH_DENIED_BURST",
                Driver::Behaviour,
                Severity::High,
                score / 4.0,
            ),
            sig(
                "BEH_ENUMERATION",
                Driver::Behaviour,
                Severity::High,
                score / 4.0,
            ),
            sig(
                "BEH_SENSITIVE_ACTION",
                Driver::Behaviour,
                Severity::High,
                score / 4.0,
            ),
            sig(
                "BEH_ESCALATION_ACTIVITY",
                Driver::Behaviour,
                Severity::High,
                score / 4.0,
            ),
        ],
    )
}

fn admin_drift(score: f64) -> DecisionInput {
    input(
        IdentityClass::AdminFacing,
        score,
        (0.85, 0.0, 0.5),
        vec![
            sig("PRIV_ADMIN", Driver::Privilege, Severity::High, score / 2.0),
            sig(
                "BEH_NEW_REGION",
                Driver::Behaviour,
                Severity::Medium,
                score / 4.0,
            ),
            sig(
                "BEH_NEW_SERVICE",
                Driver::Behaviour,
                Severity::Medium,
                score / 4.0,
            ),
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// Decisions of the default policy.

#[test]
fn policy_engine_is_shareable_and_clonable() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<PolicyEngine>();
    let p = policy();
    let q = p.clone();
    let i = admin_drift(50.0);
    assert_eq!(p.evaluate(&i).unwrap(), q.evaluate(&i).unwrap());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            let i = i.clone();
            std::thread::spawn(move || q.evaluate(&i).unwrap().tier)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), Tier::JitRestrict);
    }
}

#[test]
fn default_policy_loads_with_a_version() {
    let p = policy();
    assert!(p.version().starts_with("sha256:"), "{}", p.version());
    assert_eq!(p.version(), policy().version(), "version is deterministic");
    let d = p
        .evaluate(&input(
            IdentityClass::Workload,
            3.0,
            (0.3, 0.0, 0.0),
            vec![],
        ))
        .unwrap();
    assert_eq!(d.tier, Tier::Observe);
    assert!(d.actions.is_empty());
    assert_eq!(d.policy_version, p.version());
    assert!(
        reasons(&d).contains("below the notify threshold"),
        "{}",
        reasons(&d)
    );
}

#[test]
fn stolen_instance_credentials_are_rotated_not_silently_notified() {
    let p = policy();
    for score in [12.0, 30.0, 48.0, 60.0] {
        let d = p.evaluate(&stolen_instance_credentials(score)).unwrap();
        assert!(
            d.tier >= Tier::JitRestrict,
            "score {score}: {:?} ({})",
            d.tier,
            reasons(&d)
        );
        assert!(
            d.has(ActionKind::ResetSessions),
            "a role's stolen credentials are answered by a session reset: {d:?}"
        );
        assert!(!d.has(ActionKind::Contain), "{d:?}");
        assert!(d.has(ActionKind::Notify), "the owner hears about it");
        assert!(
            reasons(&d).contains("EXP_CREDENTIAL_OFF_WORKLOAD"),
            "{}",
            reasons(&d)
        );
        let reset = d.action(ActionKind::ResetSessions).unwrap();
        assert!(reset.reversible);
    }
    // A shared credential (medium) with exposure dominating is rotated too, once worth a look.
    let shared = input(
        IdentityClass::SharedIntegration,
        35.0,
        (0.3, 0.6, 0.0),
        vec![sig(
            "EXP_SHARED_CREDENTIAL",
            Driver::Exposure,
            Severity::Medium,
            35.0,
        )],
    );
    assert_eq!(p.evaluate(&shared).unwrap().tier, Tier::Rotate);
}

#[test]
fn low_privilege_identity_with_only_behaviour_drift_is_never_contained() {
    let p = policy();
    let approval = GuardrailContext {
        mode: Mode::Apply,
        approval: Some(Approval {
            approver: "alice".into(),
            reference: "CHG-1".into(),
        }),
        config: GuardrailConfig::default(),
    };
    let mut withheld = 0;
    for score in (0..=100).step_by(5) {
        for behaviour in [0.2, 0.5, 0.8, 1.0] {
            let i = low_privilege_drift(score as f64, behaviour);
            let d = p.evaluate(&i).unwrap();
            assert!(d.tier < Tier::Contain, "score {score}: {d:?}");
            assert!(!d.has(ActionKind::Contain));
            // Even with an approval in hand, the guardrail finds no supporting context.
            let g = p.decide(&i, &approval).unwrap();
            assert!(!g.has(ActionKind::Contain) && g.tier < Tier::Contain);
            if reasons(&d).contains("containment withheld") {
                withheld += 1;
                assert_eq!(d.tier, Tier::OwnerReview);
            }
        }
    }
    assert!(
        withheld > 0,
        "the aligned-behaviour rule fired and was withheld"
    );
}

#[test]
fn privilege_or_exposure_evidence_plus_aligned_behaviour_contains() {
    let p = policy();
    let mut i = low_privilege_drift(60.0, 0.9);
    i.drivers.privilege = 0.9;
    i.signals
        .push(sig("PRIV_ADMIN", Driver::Privilege, Severity::High, 5.0));
    let d = p.evaluate(&i).unwrap();
    assert_eq!(d.tier, Tier::Contain, "{}", reasons(&d));
    let c = d.action(ActionKind::Contain).unwrap();
    assert!(!c.reversible);
    assert!(
        d.has(ActionKind::Restrict),
        "a reversible restriction goes first"
    );
    assert!(d.has(ActionKind::OwnerReview));
}

#[test]
fn admin_with_drift_is_at_least_jit_restricted() {
    let p = policy();
    for score in [25.0, 35.0, 44.0] {
        let d = p.evaluate(&admin_drift(score)).unwrap();
        assert!(d.tier >= Tier::JitRestrict, "score {score}: {:?}", d.tier);
        let r = d.action(ActionKind::Restrict).unwrap();
        assert!(r.reversible);
        assert_eq!(r.expires_in_secs, Some(4 * 3600));
        assert!(
            reasons(&d).contains("time-boxed restriction"),
            "{}",
            reasons(&d)
        );
    }
}

#[test]
fn scale_up_only_is_observed() {
    let p = policy();
    for class in [
        IdentityClass::Telemetry,
        IdentityClass::BatchJob,
        IdentityClass::AdminFacing,
    ] {
        let i = input(
            class,
            45.0,
            (0.3, 0.0, 0.2),
            vec![sig("CTX_SCALE_UP", Driver::Behaviour, Severity::Info, 45.0)],
        );
        let d = p.evaluate(&i).unwrap();
        assert_eq!(d.tier, Tier::Observe, "{class:?}: {}", reasons(&d));
        assert!(reasons(&d).contains("scale-up"), "{}", reasons(&d));
    }
    // Volume points are discounted, other signals still count.
    let i = input(
        IdentityClass::Workload,
        45.0,
        (0.3, 0.0, 0.4),
        vec![
            sig("CTX_SCALE_UP", Driver::Behaviour, Severity::Info, 20.0),
            sig("BEH_NEW_NETWORK", Driver::Behaviour, Severity::Medium, 25.0),
        ],
    );
    assert_eq!(p.evaluate(&i).unwrap().tier, Tier::Notify);
    // A real volume spike alongside the scale-up is not explained away.
    let i = input(
        IdentityClass::Workload,
        45.0,
        (0.3, 0.0, 0.4),
        vec![
            sig("CTX_SCALE_UP", Driver::Behaviour, Severity::Info, 0.0),
            sig(
                "BEH_VOLUME_SPIKE",
                Driver::Behaviour,
                Severity::Medium,
                45.0,
            ),
        ],
    );
    assert_eq!(p.evaluate(&i).unwrap().tier, Tier::StepUp);
}

#[test]
fn admin_facing_escalates_higher_than_telemetry_at_the_same_score() {
    let p = policy();
    let mk = |class, score| {
        input(
            class,
            score,
            (0.3, 0.2, 0.5),
            vec![
                sig(
                    "BEH_NEW_NETWORK",
                    Driver::Behaviour,
                    Severity::Medium,
                    score / 2.0,
                ),
                sig(
                    "BEH_NEW_USER_AGENT",
                    Driver::Behaviour,
                    Severity::Low,
                    score / 2.0,
                ),
            ],
        )
    };
    let mut strictly = 0;
    for score in (0..=100).step_by(5) {
        let admin = p
            .evaluate(&mk(IdentityClass::AdminFacing, score as f64))
            .unwrap();
        let telemetry = p
            .evaluate(&mk(IdentityClass::Telemetry, score as f64))
            .unwrap();
        assert!(admin.tier >= telemetry.tier, "score {score}");
        if admin.tier > telemetry.tier {
            strictly += 1;
        }
    }
    assert!(strictly >= 5, "admin escalates sooner at {strictly} scores");
    let admin = p.evaluate(&mk(IdentityClass::AdminFacing, 58.0)).unwrap();
    let telemetry = p.evaluate(&mk(IdentityClass::Telemetry, 58.0)).unwrap();
    println!(
        "score 58: admin_facing → {}, telemetry → {}",
        admin.tier, telemetry.tier
    );
    assert!(admin.tier > telemetry.tier);
}

#[test]
fn every_action_is_well_formed() {
    let p = policy();
    let inputs = [
        stolen_instance_credentials(48.0),
        low_privilege_drift(90.0, 0.97),
        admin_drift(70.0),
    ];
    for i in inputs {
        let d = p.evaluate(&i).unwrap();
        assert!(!d.reasons.is_empty());
        for a in &d.actions {
            assert!(!a.undo.is_empty(), "{a:?}");
            assert_eq!(a.status, ActionStatus::Proposed);
            if a.kind.is_restriction() {
                assert!(a.expires_in_secs.is_some(), "{a:?}");
            }
        }
    }
}

#[test]
fn decision_input_is_built_from_an_assessment() {
    let mut identity = tripline_model::Identity::new(
        "arn:aws:iam::123456789012:user/ci",
        "ci",
        IdentityKind::ServiceAccount,
    );
    identity.class = IdentityClass::CiCd;
    let assessment = tripline_model::Assessment {
        identity: identity.id.clone(),
        score: 52.0,
        level: Level::High,
        drivers: Drivers {
            privilege: 0.7,
            exposure: 0.1,
            behaviour: 0.6,
        },
        signals: vec![tripline_model::Signal {
            code: "BEH_NEW_NETWORK".into(),
            driver: Driver::Behaviour,
            severity: Severity::Medium,
            summary: "new network".into(),
            event_ids: vec![],
            occurrences: 1,
            first_seen: None,
            last_seen: None,
            frameworks: vec![],
            points: 52.0,
        }],
        formula: String::new(),
        next_step: String::new(),
        scored_at: None,
    };
    let i = DecisionInput::from_assessment(&assessment, &identity, Some(Tier::Notify));
    assert_eq!(i.identity.class, IdentityClass::CiCd);
    assert_eq!(i.signals.len(), 1);
    let d = policy().evaluate(&i).unwrap();
    assert!(
        d.tier >= Tier::JitRestrict,
        "privilege plus drift: {:?}",
        d.tier
    );
}

// ---------------------------------------------------------------------------------------------
// Load-time checks.

#[test]
fn load_time_check_catches_input_scroe_with_file_and_line() {
    let dir = scratch("scroe");
    let text = tripline_policy::DEFAULT_POLICY.replacen(
        "} else := input.score\n",
        "} else := input.scroe\n",
        1,
    );
    assert!(
        text != tripline_policy::DEFAULT_POLICY,
        "the typo was planted"
    );
    let line = text
        .lines()
        .position(|l| l.contains("input.scroe"))
        .unwrap()
        + 1;
    let p = write(&dir, "typo.rego", &text);
    let err = PolicyEngine::from_files(&[&p], None).unwrap_err();
    let PolicyError::UnknownFields(found) = &err else {
        panic!("expected UnknownFields, got {err:?}")
    };
    assert_eq!(found.len(), 1, "{err}");
    assert_eq!(found[0].field, "scroe");
    assert_eq!(found[0].line, line);
    assert!(found[0].file.ends_with("typo.rego"));
    let msg = err.to_string();
    println!("{msg}");
    assert!(
        msg.contains(&format!("typo.rego:{line}")) && msg.contains("`scroe`"),
        "{msg}"
    );
    assert!(msg.contains("known: identity, score"), "{msg}");
}

#[test]
fn load_time_check_follows_aliases_and_data() {
    let dir = scratch("alias");
    let cases = [
        (
            "s.severity in high_severities",
            "s.severty in high_severities",
            "severty",
        ),
        (
            "cfg.credential.min_exposure",
            "cfg.credential.min_exposur",
            "min_exposur",
        ),
        (
            "input.drivers.privilege >= cfg.privilege_drift",
            "input.drivers.privlege >= cfg.privilege_drift",
            "privlege",
        ),
        (
            "thresholds.notify,",
            "data.escalation.thresholds.unclassified.notfy,",
            "notfy",
        ),
    ];
    for (from, to, field) in cases {
        let text = tripline_policy::DEFAULT_POLICY.replacen(from, to, 1);
        assert!(
            text != tripline_policy::DEFAULT_POLICY,
            "{from} was planted"
        );
        let p = write(&dir, "p.rego", &text);
        match PolicyEngine::from_files(&[&p], None) {
            Err(PolicyError::UnknownFields(f)) => {
                assert!(f.iter().any(|u| u.field == field), "{field}: {f:?}")
            }
            other => panic!("{field}: expected UnknownFields, got {other:?}"),
        }
    }
}

#[test]
fn load_time_checks_require_compiling_policy_and_the_decision_shape() {
    let dir = scratch("shape");
    let compile = write(
        &dir,
        "broken.rego",
        "package tripline.escalation\n\ndecision := {\n",
    );
    match PolicyEngine::from_files(&[&compile], None) {
        Err(PolicyError::Compile { file, .. }) => assert!(file.ends_with("broken.rego")),
        other => panic!("expected Compile, got {other:?}"),
    }
    let wrong_key = write(
        &dir,
        "wrong_key.rego",
        "package tripline.escalation\n\ndecision := {\"tier\": \"observe\", \"actions\": [], \"reason\": []}\n",
    );
    match PolicyEngine::from_files(&[&wrong_key], None) {
        Err(PolicyError::Canary { source, .. }) => {
            assert!(
                matches!(*source, PolicyError::DecisionShape(ref m) if m.contains("`reason`")),
                "{source}"
            )
        }
        other => panic!("expected a shape error, got {other:?}"),
    }
    let undefined = write(
        &dir,
        "undefined.rego",
        "package tripline.escalation\n\ndecision := {\"tier\": \"notify\", \"actions\": [], \"reasons\": [\"hot\"]} if input.score > 90\n",
    );
    match PolicyEngine::from_files(&[&undefined], None) {
        Err(PolicyError::Canary { canary, source }) => {
            assert_eq!(canary, "quiet");
            assert!(matches!(*source, PolicyError::DecisionUndefined { .. }));
        }
        other => panic!("expected DecisionUndefined, got {other:?}"),
    }
    let bad_tier = write(
        &dir,
        "bad_tier.rego",
        "package tripline.escalation\n\ndecision := {\"tier\": \"quarantine\", \"actions\": [], \"reasons\": [\"x\"]}\n",
    );
    assert!(matches!(
        PolicyEngine::from_files(&[&bad_tier], None),
        Err(PolicyError::Canary { .. })
    ));
    assert!(matches!(
        PolicyEngine::from_files::<&Path>(&[], None),
        Err(PolicyError::NoPolicy)
    ));
    assert!(matches!(
        PolicyEngine::from_files(&[dir.join("missing.rego")], None),
        Err(PolicyError::Io { .. })
    ));
}

#[test]
fn policy_and_data_files_load_from_disk() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let p = PolicyEngine::from_files(
        &[root.join("default.rego")],
        Some(&root.join("default-data.json")),
    )
    .unwrap();
    assert_eq!(p.version(), policy().version(), "same texts, same version");
}

// ---------------------------------------------------------------------------------------------
// Data overrides (backtest sweeps).

#[test]
fn data_override_sweeps_thresholds_without_editing_policy() {
    let p = policy();
    let i = input(
        IdentityClass::Telemetry,
        40.0,
        (0.3, 0.0, 0.4),
        vec![sig(
            "BEH_NEW_NETWORK",
            Driver::Behaviour,
            Severity::Medium,
            40.0,
        )],
    );
    assert_eq!(p.evaluate(&i).unwrap().tier, Tier::Notify);
    let swept = p
        .with_data_override(r#"{"escalation": {"thresholds": {"telemetry": {"notify": 10, "step_up": 20, "jit_restrict": 30, "rotate": 60, "owner_review": 70, "contain": 90}}}}"#)
        .unwrap();
    assert_ne!(swept.version(), p.version());
    let d = swept.evaluate(&i).unwrap();
    assert_eq!(d.tier, Tier::JitRestrict);
    assert_eq!(d.policy_version, swept.version());
    assert_eq!(
        swept
            .thresholds(IdentityClass::Telemetry)
            .threshold(Tier::StepUp),
        20.0
    );
    // The rest of the data is kept.
    assert_eq!(
        swept.thresholds(IdentityClass::AdminFacing),
        p.thresholds(IdentityClass::AdminFacing)
    );
    // Bad sweeps fail at load.
    assert!(matches!(
        p.with_data_override(
            r#"{"escalation": {"thresholds": {"telemetry": {"notify": 50, "step_up": 20}}}}"#
        ),
        Err(PolicyError::Data(_))
    ));
    assert!(p.with_data_override("{not json").is_err());
}

// ---------------------------------------------------------------------------------------------
// Limits.

const SLOW_POLICY: &str = r#"package tripline.escalation

decision := {"tier": "observe", "actions": [], "reasons": []} if {
	input.score < 99
} else := {"tier": "observe", "actions": [], "reasons": []} if {
	n := numbers.range(1, 3000)
	count([1 | some a in n; some b in n; a > b]) > 0
}
"#;

fn slow_policy(limits: Limits) -> PolicyEngine {
    PolicyEngine::from_sources(
        vec![PolicySource {
            name: "slow.rego".into(),
            text: SLOW_POLICY.into(),
        }],
        serde_json::from_str(DEFAULT_DATA).unwrap(),
        limits,
    )
    .unwrap()
}

#[test]
fn evaluation_instructions_and_time_are_limited() {
    let hot = input(IdentityClass::Workload, 99.5, (0.3, 0.0, 0.0), vec![]);
    // The instruction cap stops the runaway comprehension (a generous time limit here: debug
    // builds are slow).
    let p = slow_policy(Limits {
        eval_time: Duration::from_secs(10),
        ..Limits::default()
    });
    let start = Instant::now();
    let err = p.evaluate(&hot).unwrap_err();
    println!("slow policy stopped after {:?}: {err}", start.elapsed());
    assert!(
        matches!(err, PolicyError::InstructionLimit { .. }),
        "{err:?}"
    );
    // No instruction cap to speak of: the time limit stops it.
    let p = slow_policy(Limits {
        eval_time: Duration::from_millis(20),
        max_instructions: usize::MAX,
        ..Limits::default()
    });
    let start = Instant::now();
    let err = p.evaluate(&hot).unwrap_err();
    let took = start.elapsed();
    println!("slow policy stopped after {took:?}: {err}");
    assert!(matches!(err, PolicyError::TimeLimit { .. }), "{err:?}");
    assert!(
        took < Duration::from_secs(5),
        "aborted, not run to completion"
    );
    // The engine is still usable afterwards.
    assert!(p
        .evaluate(&input(
            IdentityClass::Workload,
            10.0,
            (0.3, 0.0, 0.0),
            vec![]
        ))
        .is_ok());
}

/// Each `replace(s, "", t)` makes a string `len(t) + 1` times longer in one instruction; four
/// of them take a 34-byte id past the default budget (~105 MB) in a handful of instructions.
const HUNGRY_POLICY: &str = r#"package tripline.escalation

decision := {"tier": "observe", "actions": [], "reasons": []} if {
	input.identity.id == "canary"
} else := {"tier": "observe", "actions": [], "reasons": [sprintf("%d", [count(w)])]} if {
	x := replace(input.identity.id, "", "0123456789012345678901234567890123456789012345678901234567890123")
	y := replace(x, "", "0123456789012345678901234567890123456789012345678901234567890123")
	z := replace(y, "", "0123456789")
	w := replace(z, "", "0123456789012345678901234567890123456789012345678901234567890123")
}
"#;

#[test]
fn evaluation_memory_is_limited() {
    // Builtin calls that allocate ~100 MB in a handful of instructions: neither the
    // instruction cap nor a generous time limit catches them, the memory budget does.
    let hungry = |limits: Limits| {
        PolicyEngine::from_sources(
            vec![PolicySource {
                name: "hungry.rego".into(),
                text: HUNGRY_POLICY.into(),
            }],
            serde_json::from_str(DEFAULT_DATA).unwrap(),
            limits,
        )
        .unwrap()
    };
    let hot = input(IdentityClass::Workload, 99.5, (0.3, 0.0, 0.0), vec![]);
    let p = hungry(Limits {
        eval_time: Duration::from_secs(30),
        ..Limits::default()
    });
    let err = p.evaluate(&hot).unwrap_err();
    assert!(matches!(err, PolicyError::MemoryLimit { .. }), "{err:?}");
    // The same evaluation under a budget large enough runs to the end: it is the budget that
    // stopped it, not something else.
    let p = hungry(Limits {
        eval_time: Duration::from_secs(30),
        max_eval_bytes: 4 * 1024 * 1024 * 1024,
        ..Limits::default()
    });
    let d = p.evaluate(&hot).unwrap();
    let l64 = "0123456789012345678901234567890123456789012345678901234567890123";
    let expected = hot
        .identity
        .id
        .replace("", l64)
        .replace("", l64)
        .replace("", "0123456789")
        .replace("", l64)
        .chars()
        .count();
    assert_eq!(d.reasons, vec![expected.to_string()]);
    // `numbers.range` builds its whole array inside one builtin call (1e9 elements took 14 GB
    // before the budget was checked again): a range the load check cannot bound is refused.
    let range = "package tripline.escalation\n\ndecision := {\"tier\": \"observe\", \"actions\": [], \"reasons\": [sprintf(\"%d\", [count(numbers.range(1, 1000000000))])]}\n";
    let err = PolicyEngine::from_sources(
        vec![PolicySource {
            name: "range.rego".into(),
            text: range.into(),
        }],
        serde_json::from_str(DEFAULT_DATA).unwrap(),
        Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(err, PolicyError::UnboundedBuiltin(_)), "{err:?}");
    // And the default policy's largest input stays far inside the default budget (below).
}

#[test]
fn the_largest_allowed_input_fits_the_default_limits() {
    let p = policy();
    let codes = [
        "BEH_NEW_NETWORK",
        "BEH_DENIED_BURST",
        "EXP_SECRET_LEAKED",
        "PRIV_ADMIN",
        "CTX_SCALE_UP",
    ];
    let signals: Vec<InputSignal> = (0..p.limits().max_signals)
        .map(|k| {
            let code = codes[k % codes.len()];
            let driver = match &code[..3] {
                "BEH" | "CTX" => Driver::Behaviour,
                "EXP" => Driver::Exposure,
                _ => Driver::Privilege,
            };
            sig(code, driver, Severity::High, 0.3)
        })
        .collect();
    let i = input(IdentityClass::AdminFacing, 99.0, (0.9, 0.9, 0.9), signals);
    let start = Instant::now();
    let d = p.evaluate(&i).unwrap();
    println!(
        "{} signals: {:?} in {:?}",
        i.signals.len(),
        d.tier,
        start.elapsed()
    );
    assert_eq!(d.tier, Tier::Contain);
}

#[test]
fn inputs_are_bounded() {
    let p = policy();
    let mut i = admin_drift(40.0);
    i.signals = vec![i.signals[0].clone(); 10_000];
    assert!(matches!(p.evaluate(&i), Err(PolicyError::Input(_))));
    let mut i = admin_drift(40.0);
    i.score = 140.0;
    assert!(matches!(p.evaluate(&i), Err(PolicyError::Input(_))));
    let small = p.with_limits(Limits {
        max_input_bytes: 200,
        ..Limits::default()
    });
    // The load-time canaries are larger than 200 bytes: the limit applies to them too.
    assert!(small.is_err());
}

// ---------------------------------------------------------------------------------------------
// Guardrails.

fn decision(tier: Tier, actions: Vec<Action>) -> Decision {
    Decision {
        tier,
        actions,
        reasons: vec!["test".into()],
        policy_version: "v".into(),
        guardrails: vec![],
        error: None,
    }
}

fn action(kind: ActionKind, reversible: bool, expires: Option<u64>) -> Action {
    Action {
        kind,
        reversible,
        expires_in_secs: expires,
        undo: "undo it".into(),
        status: ActionStatus::Proposed,
    }
}

#[test]
fn irreversible_actions_without_approval_are_downgraded() {
    let p = policy();
    let mut i = low_privilege_drift(95.0, 0.95);
    i.drivers.privilege = 0.9;
    i.signals
        .push(sig("PRIV_ADMIN", Driver::Privilege, Severity::High, 5.0));
    let th = p.thresholds(i.identity.class);
    assert_eq!(p.evaluate(&i).unwrap().tier, Tier::Contain);

    // Default context: plan mode, no approval.
    let d = p.decide(&i, &GuardrailContext::default()).unwrap();
    assert_eq!(d.tier, Tier::OwnerReview);
    assert!(!d.has(ActionKind::Contain) && d.has(ActionKind::OwnerReview));
    let notes = d.guardrails.join(" | ");
    assert!(
        notes.contains("contain downgraded to owner_review") && notes.contains("an approval"),
        "{notes}"
    );
    assert!(
        d.actions.iter().all(|a| a.status == ActionStatus::Planned),
        "dry run by default"
    );

    // With an approval and evidence: kept, and applied only in apply mode.
    let approved = GuardrailContext {
        mode: Mode::Apply,
        approval: Some(Approval {
            approver: "alice".into(),
            reference: "INC-42".into(),
        }),
        config: GuardrailConfig::default(),
    };
    let d = p.decide(&i, &approved).unwrap();
    assert_eq!(d.tier, Tier::Contain);
    let c = d.action(ActionKind::Contain).unwrap();
    assert_eq!(c.status, ActionStatus::Apply);
    assert!(d
        .guardrails
        .join(" ")
        .contains("approved by alice (INC-42)"));

    // With an approval but no supporting context: downgraded (the policy cannot override).
    let bare = input(IdentityClass::Workload, 95.0, (0.1, 0.1, 0.9), vec![]);
    let forced = decision(Tier::Contain, vec![action(ActionKind::Contain, true, None)]);
    let d = apply_guardrails(forced, &bare, th, &approved);
    assert_eq!(d.tier, Tier::OwnerReview);
    assert!(!d.has(ActionKind::Contain));
    let notes = d.guardrails.join(" | ");
    assert!(
        notes.contains("irreversible whatever the policy says"),
        "{notes}"
    );
    assert!(notes.contains("supporting context"), "{notes}");
}

#[test]
fn restrictions_get_an_expiry_and_long_ones_are_capped() {
    let th = policy().thresholds(IdentityClass::Workload).clone();
    let i = input(IdentityClass::Workload, 60.0, (0.3, 0.0, 0.5), vec![]);
    let d = decision(
        Tier::Rotate,
        vec![
            action(ActionKind::Notify, true, None),
            action(ActionKind::StepUp, true, Some(600)),
            action(ActionKind::Restrict, true, None),
            action(ActionKind::Rotate, true, Some(7 * 24 * 3600)),
        ],
    );
    let mut ctx = GuardrailContext::default();
    let g = apply_guardrails(d.clone(), &i, &th, &ctx);
    assert_eq!(g.action(ActionKind::Notify).unwrap().expires_in_secs, None);
    assert_eq!(
        g.action(ActionKind::StepUp).unwrap().expires_in_secs,
        Some(600)
    );
    assert_eq!(
        g.action(ActionKind::Restrict).unwrap().expires_in_secs,
        Some(4 * 3600)
    );
    assert_eq!(
        g.action(ActionKind::Rotate).unwrap().expires_in_secs,
        Some(4 * 3600)
    );
    let notes = g.guardrails.join(" | ");
    assert!(
        notes.contains("restrict had no expiry") && notes.contains("rotate expiry 604800 s capped"),
        "{notes}"
    );
    ctx.config.max_restriction_secs = 3600;
    let g = apply_guardrails(d, &i, &th, &ctx);
    assert_eq!(
        g.action(ActionKind::Restrict).unwrap().expires_in_secs,
        Some(3600)
    );
}

#[test]
fn missing_undo_is_filled() {
    let th = policy().thresholds(IdentityClass::Workload).clone();
    let i = input(IdentityClass::Workload, 60.0, (0.3, 0.0, 0.5), vec![]);
    let mut a = action(ActionKind::Restrict, true, Some(60));
    a.undo = " ".into();
    let g = apply_guardrails(
        decision(Tier::JitRestrict, vec![a]),
        &i,
        &th,
        &GuardrailContext::default(),
    );
    assert!(!g.actions[0].undo.trim().is_empty());
}

#[test]
fn hysteresis_does_not_flap_around_a_threshold() {
    let p = policy();
    let th = p.thresholds(IdentityClass::Workload).clone();
    let step_up = th.threshold(Tier::StepUp);
    let scores: Vec<f64> = (0..40)
        .map(|k| step_up + if k % 2 == 0 { 2.5 } else { -2.5 } + (k % 3) as f64 * 0.5)
        .collect();
    let mk = |score: f64, prev: Option<Tier>| {
        let mut i = input(
            IdentityClass::Workload,
            score,
            (0.3, 0.0, 0.4),
            vec![sig(
                "BEH_NEW_NETWORK",
                Driver::Behaviour,
                Severity::Medium,
                score,
            )],
        );
        i.previous_tier = prev;
        i
    };
    let (mut raw_changes, mut held_changes) = (0, 0);
    let (mut raw_prev, mut prev): (Option<Tier>, Option<Tier>) = (None, None);
    for &s in &scores {
        let raw = p.evaluate(&mk(s, None)).unwrap().tier;
        if raw_prev.is_some_and(|t| t != raw) {
            raw_changes += 1;
        }
        raw_prev = Some(raw);
        let d = p
            .decide(&mk(s, prev), &GuardrailContext::default())
            .unwrap();
        if prev.is_some_and(|t| t != d.tier) {
            held_changes += 1;
        }
        prev = Some(d.tier);
    }
    println!("scores oscillating around {step_up}: {raw_changes} tier changes without hysteresis, {held_changes} with");
    assert!(raw_changes >= 20);
    assert!(held_changes <= 1, "{held_changes}");
    assert_eq!(prev, Some(Tier::StepUp));
    // Dropping below threshold − margin releases the hold.
    let low = step_up - th.margin - 1.0;
    let d = p
        .decide(&mk(low, prev), &GuardrailContext::default())
        .unwrap();
    assert!(d.tier < Tier::StepUp);
    // Pure helper agrees.
    assert_eq!(
        apply_hysteresis(Some(Tier::StepUp), Tier::Notify, step_up - 1.0, &th),
        Tier::StepUp
    );
    assert_eq!(
        apply_hysteresis(Some(Tier::Notify), Tier::Contain, 95.0, &th),
        Tier::Contain
    );
}

#[test]
fn hysteresis_state_keeps_one_case_per_incident() {
    let th = policy().thresholds(IdentityClass::Workload).clone();
    let mut h = Hysteresis::new(6 * 3600);
    let t0 = tripline_model::Timestamp::from_secs(1_700_000_000);
    let at = |m: i64| tripline_model::Timestamp::from_secs(1_700_000_000 + m * 60);
    let mut keys = std::collections::BTreeSet::new();
    for (m, score) in [(0, 42.0), (5, 38.0), (10, 41.0), (15, 37.0), (20, 43.0)] {
        let tier = th.tier_for(score);
        let (held, key) = h.update("role/app", at(m), tier, score, &th);
        assert_eq!(held, Tier::StepUp);
        keys.insert(key.unwrap());
    }
    assert_eq!(keys.len(), 1, "one case for the incident");
    assert_eq!(keys.first().unwrap().window_start, t0);
    assert_eq!(h.previous("role/app"), Some(Tier::StepUp));
}

// ---------------------------------------------------------------------------------------------
// Policy unit tests.

#[test]
fn shipped_policy_tests_pass() {
    let report = run_default_policy_tests().unwrap();
    println!("{report}");
    assert!(report.ok(), "{report}");
    assert!(report.passed() >= 10);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let from_files = run_policy_tests(&[
        root.join("default.rego"),
        root.join("default_test.rego"),
        root.join("default-data.json"),
    ])
    .unwrap();
    assert_eq!(from_files.passed(), report.passed());
    assert_eq!(
        run_policy_tests::<PathBuf>(&[]).unwrap().passed(),
        report.passed()
    );
}

#[test]
fn failing_policy_tests_are_reported() {
    let dir = scratch("failing");
    let t = write(
        &dir,
        "failing_test.rego",
        r#"package tripline.escalation_test

import data.tripline.escalation

test_passes if {
	d := escalation.decision with input as {"identity": {"id": "x", "kind": "api_key", "class": "telemetry", "owner": null, "environment": null}, "score": 1, "level": "low", "drivers": {"privilege": 0, "exposure": 0, "behaviour": 0}, "signals": [], "previous_tier": null}
	d.tier == "observe"
}

test_fails if {
	d := escalation.decision with input as {"identity": {"id": "x", "kind": "api_key", "class": "telemetry", "owner": null, "environment": null}, "score": 1, "level": "low", "drivers": {"privilege": 0, "exposure": 0, "behaviour": 0}, "signals": [], "previous_tier": null}
	d.tier == "contain"
}

test_undefined if {
	input.score > 1000
}
"#,
    );
    let policy = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/default.rego");
    let report = run_policy_tests(&[policy.clone(), t.clone()]).unwrap();
    println!("{report}");
    assert_eq!((report.passed(), report.failed()), (1, 2));
    assert!(!report.ok());
    let fails = &report.results[1];
    assert_eq!((fails.name.as_str(), fails.line), ("test_fails", 10));
    assert_eq!(fails.outcome, TestOutcome::Fail);
    assert!(report.to_string().ends_with("1 passed, 2 failed"));
    // A typo in a test file is a load error, not a silently failing test.
    let typo = write(
        &dir,
        "typo_test.rego",
        "package t\n\ntest_x if input.scroe > 1\n",
    );
    assert!(matches!(
        run_policy_tests(&[policy, typo]),
        Err(PolicyError::UnknownFields(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Throughput.

#[test]
fn ten_thousand_decisions() {
    let p = policy();
    let inputs: Vec<DecisionInput> = (0..10_000)
        .map(|k| match k % 4 {
            0 => stolen_instance_credentials((k % 100) as f64),
            1 => low_privilege_drift((k % 100) as f64, 0.8),
            2 => admin_drift((k % 100) as f64),
            _ => input(
                IdentityClass::Telemetry,
                (k % 100) as f64,
                (0.3, 0.0, 0.2),
                vec![sig("CTX_SCALE_UP", Driver::Behaviour, Severity::Info, 0.0)],
            ),
        })
        .collect();
    let start = Instant::now();
    let mut contained = 0;
    for i in &inputs {
        if p.evaluate(i).unwrap().tier == Tier::Contain {
            contained += 1;
        }
    }
    let eval = start.elapsed();
    let ctx = GuardrailContext::default();
    let start = Instant::now();
    for i in &inputs {
        p.decide(i, &ctx).unwrap();
    }
    let decide = start.elapsed();
    println!(
        "10,000 decisions: evaluate {:?} ({:.1} µs each), decide with guardrails {:?} ({:.1} µs each); {contained} contain",
        eval,
        eval.as_secs_f64() * 1e6 / 10_000.0,
        decide,
        decide.as_secs_f64() * 1e6 / 10_000.0,
    );
}
