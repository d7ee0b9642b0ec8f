//! A data-driven harness for detectors: hand-written event sequences in, a compact text of what
//! the engine concluded out, compared with `expect![…]` (update with `UPDATE_EXPECT=1`).
//!
//! Each line of the rendering is one signal of one identity: code, severity, and the ids of the
//! events linked to it; the identity's line gives its rounded score. Tests write sequences from
//! an attack's semantics (what an attacker must do, what the log then shows) and their near
//! misses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use crate::netinfo::AwsRanges;
use crate::{Engine, EngineConfig};
use tripline_model::{
    Actor, Event, LogSource, Outcome, PrincipalType, Technique, Techniques, Timestamp,
};

/// 2024-01-01T00:00:00Z.
pub const T0: i64 = 1_704_067_200_000;
pub const MIN: i64 = 60_000;
pub const DAY: i64 = 86_400_000;

pub const ACCOUNT: &str = "111122223333";

/// Builds one event.
#[derive(Debug, Clone)]
pub struct Ev(pub Event);

/// An event by an assumed-role session `role/session` with session key `key`.
pub fn role(id: &str, at: i64, role: &str, session: &str, key: &str, action: &str) -> Ev {
    Ev(Event {
        id: id.to_string(),
        source: LogSource::CloudTrail,
        time: Timestamp(at),
        actor: Actor {
            principal_type: Some(PrincipalType::AssumedRole),
            arn: Some(format!(
                "arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}"
            )),
            account_id: Some(ACCOUNT.to_string()),
            access_key_id: Some(key.to_string()),
            issuer_arn: Some(format!("arn:aws:iam::{ACCOUNT}:role/{role}")),
            issuer_type: Some("Role".to_string()),
            ..Actor::default()
        },
        service: action.split(':').next().unwrap_or("").to_string(),
        action: action.to_string(),
        resource: None,
        source_ip: Some("198.51.100.10".to_string()),
        user_agent: Some("aws-sdk-go-v2/1.30 os/linux".to_string()),
        region: Some("us-east-1".to_string()),
        account: Some(ACCOUNT.to_string()),
        outcome: Outcome::Success,
        error_code: None,
        read_only: None,
        vpc_endpoint: None,
        event_type: Some("AwsApiCall".to_string()),
        techniques: Techniques::EMPTY,
        issued: None,
    })
}

/// An event by an IAM user with a long-lived key.
pub fn user(id: &str, at: i64, name: &str, action: &str) -> Ev {
    let mut e = role(id, at, "x", "x", "AKIAEXAMPLE0000000001", action);
    e.0.actor = Actor {
        principal_type: Some(PrincipalType::IamUser),
        arn: Some(format!("arn:aws:iam::{ACCOUNT}:user/{name}")),
        account_id: Some(ACCOUNT.to_string()),
        access_key_id: Some("AKIAEXAMPLE0000000001".to_string()),
        user_name: Some(name.to_string()),
        ..Actor::default()
    };
    e
}

/// A Kubernetes audit event by `username`.
pub fn k8s(id: &str, at: i64, username: &str, verb: &str, resource: &str) -> Ev {
    Ev(Event {
        id: id.to_string(),
        source: LogSource::K8sAudit,
        time: Timestamp(at),
        actor: Actor {
            principal_type: Some(if username.starts_with("system:serviceaccount:") {
                PrincipalType::K8sServiceAccount
            } else {
                PrincipalType::K8sUser
            }),
            arn: Some(username.to_string()),
            ..Actor::default()
        },
        service: "k8s".to_string(),
        action: format!("k8s:{verb}:{resource}"),
        resource: Some(format!("apps/{resource}")),
        source_ip: Some("10.0.0.5".to_string()),
        user_agent: Some("kubectl/v1.29.0 (linux/amd64)".to_string()),
        region: None,
        account: None,
        outcome: Outcome::Success,
        error_code: None,
        read_only: Some(matches!(verb, "get" | "list" | "watch")),
        vpc_endpoint: None,
        event_type: Some("ResponseComplete".to_string()),
        techniques: Techniques::EMPTY,
        issued: None,
    })
}

impl Ev {
    pub fn ip(mut self, ip: &str) -> Self {
        self.0.source_ip = Some(ip.to_string());
        self
    }
    pub fn ua(mut self, ua: &str) -> Self {
        self.0.user_agent = Some(ua.to_string());
        self
    }
    pub fn denied(mut self) -> Self {
        self.0.outcome = Outcome::Denied;
        self.0.error_code = Some("AccessDenied".to_string());
        self
    }
    pub fn tech(mut self, t: Technique) -> Self {
        self.0.techniques.insert(t);
        self
    }
    pub fn resource(mut self, r: &str) -> Self {
        self.0.resource = Some(r.to_string());
        self
    }
    pub fn imds(mut self) -> Self {
        self.0.actor.ec2_role_delivery = Some("2.0".to_string());
        self
    }
    pub fn invoked_by(mut self, service: &str) -> Self {
        self.0.actor.invoked_by = Some(service.to_string());
        self
    }
}

/// Runs the engine over the events (any order) and renders what it concluded.
pub fn run(events: &[Ev], ranges: Option<&[&str]>) -> String {
    let mut engine = Engine::new(EngineConfig::default());
    if let Some(r) = ranges {
        engine.set_aws_ranges(AwsRanges::from_prefixes(r.iter().copied()).unwrap());
    }
    for e in events {
        engine.ingest(&e.0);
    }
    let report = engine.assess(None, |_| {});
    let mut out = String::new();
    for a in &report.assessments {
        out.push_str(&format!("{} score={:.0}\n", a.identity, a.score));
        let mut sigs: Vec<_> = a.signals.iter().collect();
        sigs.sort_by(|x, y| x.code.cmp(&y.code));
        for s in sigs {
            out.push_str(&format!(
                "  {} {:?} [{}]\n",
                s.code,
                s.severity,
                s.event_ids.join(",")
            ));
        }
    }
    out
}

/// Runs and compares with the expectation.
pub fn check(events: &[Ev], expect: expect_test::Expect) {
    expect.assert_eq(&run(events, None));
}

/// Runs with AWS's ranges loaded and compares.
pub fn check_with_ranges(events: &[Ev], ranges: &[&str], expect: expect_test::Expect) {
    expect.assert_eq(&run(events, Some(ranges)));
}

/// The inline detectors' calibration, through the same harness.
#[cfg(test)]
mod inline_detectors {
    use super::*;
    use expect_test::expect;

    fn deployer(id: &str, at: i64, action: &str) -> Ev {
        role(
            id,
            at,
            "ci-deploy",
            "gha-run",
            "ASIACIDEPLOY00000001",
            action,
        )
    }

    #[test]
    fn iam_writes_every_day_are_a_deployers_routine() {
        let mut events = Vec::new();
        for day in 0..10 {
            let t = T0 + day * DAY;
            for i in 0..3 {
                events.push(deployer(
                    &format!("d{day}r{i}"),
                    t + i * MIN,
                    "s3:PutObject",
                ));
            }
            events.push(deployer(
                &format!("d{day}a"),
                t + 5 * MIN,
                "iam:AttachRolePolicy",
            ));
        }
        let out = run(&events, None);
        assert!(!out.contains("BEH_ESCALATION_ACTIVITY"), "{out}");
    }

    #[test]
    fn the_first_iam_write_of_an_identity_that_never_made_one_is_news() {
        let mut events = Vec::new();
        for day in 0..10 {
            for i in 0..3 {
                events.push(deployer(
                    &format!("d{day}r{i}"),
                    T0 + day * DAY + i * MIN,
                    "s3:PutObject",
                ));
            }
        }
        events.push(deployer("esc", T0 + 10 * DAY, "iam:AttachRolePolicy"));
        let out = run(&events, None);
        assert!(out.contains("BEH_ESCALATION_ACTIVITY High [esc]"), "{out}");
        let score: f64 = out
            .lines()
            .next()
            .and_then(|l| l.split("score=").nth(1))
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0.0);
        assert!(score >= 50.0, "{out}");
    }

    #[test]
    fn one_novelty_alone_stays_below_every_step_up_threshold() {
        let mut events = Vec::new();
        for day in 0..10 {
            for i in 0..3 {
                events.push(deployer(
                    &format!("d{day}r{i}"),
                    T0 + day * DAY + i * MIN,
                    "s3:PutObject",
                ));
            }
        }
        // The usual call from the usual place, in a region it never used: novelty, not a
        // technique (the lowest step-up threshold, admin_facing's, is 30).
        let mut e = deployer("n1", T0 + 10 * DAY, "s3:PutObject");
        e.0.region = Some("eu-west-3".to_string());
        events.push(e);
        check(
            &events,
            expect![[r#"
                arn:aws:iam::111122223333:role/ci-deploy score=26
                  BEH_NEW_REGION Medium [n1]
            "#]],
        );
    }
}

#[cfg(test)]
mod enumeration {
    use super::*;

    fn probe(i: usize, denied: bool) -> Ev {
        let actions = [
            "iam:ListRoles",
            "iam:ListUsers",
            "s3:ListBuckets",
            "ec2:DescribeInstances",
            "rds:DescribeDBInstances",
            "lambda:ListFunctions",
            "secretsmanager:ListSecrets",
            "kms:ListKeys",
            "sns:ListTopics",
            "sqs:ListQueues",
            "dynamodb:ListTables",
            "ecs:ListClusters",
        ];
        let e = user(
            &format!("e{i}"),
            T0 + i as i64 * 10_000,
            "svc-feed",
            actions[i % actions.len()],
        );
        if denied {
            e.denied()
        } else {
            e
        }
    }

    #[test]
    fn a_mostly_refused_sweep_is_probing_a_credential() {
        let probing: Vec<Ev> = (0..12).map(|i| probe(i, i % 4 != 0)).collect();
        let out = run(&probing, None);
        assert!(out.contains("BEH_ENUMERATION Critical"), "{out}");
        // Near miss: the same sweep, mostly allowed but for three refusals (a tool without an
        // identity's history): still enumeration, at High.
        let tooling: Vec<Ev> = (0..12).map(|i| probe(i, i < 3)).collect();
        let out = run(&tooling, None);
        assert!(out.contains("BEH_ENUMERATION High"), "{out}");
    }
}
