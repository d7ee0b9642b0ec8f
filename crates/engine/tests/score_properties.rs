//! Properties of the score a user relies on: bounded, deterministic, and never lowered by
//! granting more privilege.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use proptest::prelude::*;
use tripline_engine::{Engine, EngineConfig};
use tripline_model::{
    Actor, Event, Identity, IdentityKind, LogSource, Outcome, PolicyDoc, PolicyKind, PrincipalType,
    Provenance, Statement, Timestamp,
};

const ID: &str = "arn:aws:iam::111122223333:user/svc";
const ACTIONS: [&str; 10] = [
    "s3:GetObject",
    "s3:*",
    "iam:PassRole",
    "lambda:CreateFunction",
    "lambda:InvokeFunction",
    "iam:CreatePolicyVersion",
    "iam:AttachUserPolicy",
    "ec2:RunInstances",
    "secretsmanager:GetSecretValue",
    "*",
];

fn statement(actions: &[usize], any_resource: bool) -> Statement {
    Statement {
        allow: true,
        actions: actions
            .iter()
            .map(|&i| ACTIONS[i % ACTIONS.len()].to_string())
            .collect(),
        resources: vec![if any_resource {
            "*".into()
        } else {
            "arn:aws:s3:::bucket/*".into()
        }],
        ..Statement::default()
    }
}

fn identity(statements: Vec<Statement>) -> Identity {
    let mut i = Identity::new(ID, "svc", IdentityKind::ServiceAccount);
    i.kind_from = Provenance::Inventory;
    i.in_inventory = true;
    i.privileges.policies.push(PolicyDoc {
        source: format!("inline:{ID}/p"),
        name: "p".into(),
        kind: PolicyKind::Inline,
        statements,
    });
    i
}

fn event(n: usize, action: &str, ip: &str, denied: bool) -> Event {
    Event {
        id: format!("e{n}"),
        source: LogSource::CloudTrail,
        time: Timestamp(1_700_000_000_000 + n as i64 * 600_000),
        actor: Actor {
            principal_type: Some(PrincipalType::IamUser),
            arn: Some(ID.into()),
            account_id: Some("111122223333".into()),
            access_key_id: Some("AKIAEXAMPLEEXAMPLE01".into()),
            user_name: Some("svc".into()),
            ..Actor::default()
        },
        service: action.split(':').next().unwrap().into(),
        action: action.into(),
        resource: None,
        source_ip: Some(ip.into()),
        user_agent: Some("aws-cli/2.15 Python/3.11 Linux/6.1".into()),
        region: Some("us-east-1".into()),
        account: Some("111122223333".into()),
        outcome: if denied {
            Outcome::Denied
        } else {
            Outcome::Success
        },
        error_code: denied.then(|| "AccessDenied".into()),
        read_only: None,
        vpc_endpoint: None,
        event_type: Some("AwsApiCall".into()),
        techniques: Default::default(),
        issued: None,
    }
}

fn score(statements: Vec<Statement>, events: &[(usize, bool, bool)]) -> f64 {
    let mut engine = Engine::new(EngineConfig::default());
    engine.merge_inventory(identity(statements));
    for (n, &(a, other_net, denied)) in events.iter().enumerate() {
        let ip = if other_net {
            "198.51.100.7"
        } else {
            "203.0.113.7"
        };
        engine.ingest(&event(n, ACTIONS[a % 9], ip, denied));
    }
    let report = engine.assess(None, |_| {});
    let i = report.identities.iter().position(|i| i.id == ID).unwrap();
    report.assessments[i].score
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Adding an Allow statement (a privilege) never lowers the score, whatever the behaviour.
    #[test]
    fn adding_a_privilege_never_lowers_the_score(
        base in prop::collection::vec((prop::collection::vec(0usize..10, 1..3), any::<bool>()), 1..4),
        extra in (prop::collection::vec(0usize..10, 1..3), any::<bool>()),
        events in prop::collection::vec((0usize..9, any::<bool>(), any::<bool>()), 0..40),
    ) {
        let base: Vec<Statement> = base.iter().map(|(a, r)| statement(a, *r)).collect();
        let mut more = base.clone();
        more.push(statement(&extra.0, extra.1));
        let before = score(base, &events);
        let after = score(more, &events);
        prop_assert!(after + 1e-9 >= before, "{after} < {before}");
        prop_assert!((0.0..=100.0).contains(&after));
    }

    /// The same input gives the same score.
    #[test]
    fn scores_are_deterministic(events in prop::collection::vec((0usize..9, any::<bool>(), any::<bool>()), 0..40)) {
        let s = vec![statement(&[2, 3, 4], true)];
        prop_assert_eq!(score(s.clone(), &events).to_bits(), score(s, &events).to_bits());
    }
}
