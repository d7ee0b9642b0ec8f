//! Credential provenance: where a session credential was issued and who uses it.
//!
//! A workload's session credential (an instance profile's, a Lambda function's, an ECS task's, a
//! web-identity pod's, or one an AWS service was seen requesting) is used by that workload and
//! nobody else. A thief replays it from somewhere else. So, on the **first** such call and with no
//! baseline needed:
//! - a workload's session used by a desktop client or the console;
//! - a session of a workload that runs in AWS used from a public address known to be outside
//!   AWS (with AWS's published ranges loaded);
//! - one session key used by two consumers: a second network *and* a second client family
//!   (an attacker's laptop after the function's runtime);
//! - (instance credentials) from a network where another identity's long-lived key was just
//!   used, or, once the role's baseline is mature, from a public network it never used.
//!
//! Calls an AWS service makes on the caller's behalf (`invokedBy`, a service name as source) are
//! the service's, not a consumer's. Later calls of a flagged session from the same place or
//! client join the finding.

use super::{Detector, Finding, Observation, Workload};
use crate::catalog;
use crate::features::NetClass;
use std::collections::HashMap;
use tripline_model::Severity;

/// Who used a session: its network and client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Consumer {
    coarse: u32,
    agent: u32,
}

#[derive(Debug, Default)]
struct Session {
    workload: Workload,
    first: Option<Consumer>,
    first_text: String,
    /// The first consumer called from a private network (inside a VPC or a cluster).
    first_private: bool,
    flagged: bool,
    bad_net: u32,
    bad_agent: u32,
}

#[derive(Debug, Default)]
pub struct Provenance {
    sessions: HashMap<u32, Session>,
    /// Fine network → (identity, time) of the last long-lived key used from it (public only).
    key_networks: HashMap<u32, (u32, i64)>,
}

const DAY_MS: i64 = 86_400_000;

impl Detector for Provenance {
    fn observe(&mut self, ev: &Observation<'_>, out: &mut Vec<Finding>) {
        if ev.long_key && ev.net_class == NetClass::Public {
            self.key_networks.insert(ev.net_fine, (ev.identity, ev.t));
        }
        let token = ev.session || ev.workload == Workload::K8sPod;
        if !token || ev.cred == 0 || ev.via_service || ev.net_class == NetClass::AwsService {
            return;
        }
        let s = self.sessions.entry(ev.cred).or_default();
        if s.workload == Workload::Unknown {
            s.workload = ev.workload;
        }
        let here = Consumer {
            coarse: ev.net_coarse,
            agent: ev.agent,
        };
        if s.flagged {
            if ev.net_coarse == s.bad_net || ev.agent == s.bad_agent {
                out.push(Finding::Signal {
                    def: &catalog::EXP_CREDENTIAL_OFF_WORKLOAD,
                    key: 0,
                    severity: Severity::Critical,
                    summary: String::new(),
                    value: None,
                    also: Vec::new(),
                });
            }
            return;
        }
        let first = match s.first {
            Some(f) => f,
            None => {
                s.first = Some(here);
                s.first_private = ev.net_class == NetClass::Private;
                s.first_text = format!("{} from {}", ev.agent_text, ev.net_coarse_text);
                here
            }
        };
        let w = s.workload;
        let why = if w != Workload::Unknown && ev.desktop {
            Some(format!("used by a desktop client ({})", ev.agent_text))
        } else if w.runs_in_aws() && ev.outside_aws {
            Some(format!("used from {}, outside AWS", ev.net_coarse_text))
        } else if first.coarse != here.coarse
            && first.agent != here.agent
            && (w.single_client()
                || ev.outside_aws
                || (w == Workload::K8sPod && s.first_private && ev.net_class == NetClass::Public))
        {
            Some(format!(
                "one session key used by two consumers: {} first, then {} from {}",
                s.first_text, ev.agent_text, ev.net_coarse_text
            ))
        } else if w == Workload::Ec2Instance {
            let beside_key = self
                .key_networks
                .get(&ev.net_fine)
                .filter(|(other, t)| *other != ev.identity && ev.t - t <= DAY_MS)
                .filter(|_| ev.new_fine_network);
            if beside_key.is_some() {
                Some(format!(
                    "instance credentials used from {}, where another identity's long-lived key was used shortly before",
                    ev.net_coarse_text
                ))
            } else if ev.net_class == NetClass::Public
                && !ev.aws_cloud
                && ev.new_network
                && ev.mature
            {
                Some(format!(
                    "instance credentials used from public network {} the role never used",
                    ev.net_coarse_text
                ))
            } else {
                None
            }
        } else {
            None
        };
        let Some(why) = why else {
            return;
        };
        s.flagged = true;
        s.bad_net = ev.net_coarse;
        s.bad_agent = ev.agent;
        // Without workload evidence a shared session is serious but less certain: a role's
        // session can be handed between a person's tools.
        let severity = if w == Workload::Unknown {
            Severity::High
        } else {
            Severity::Critical
        };
        out.push(Finding::Signal {
            def: &catalog::EXP_CREDENTIAL_OFF_WORKLOAD,
            key: 0,
            severity,
            summary: match w {
                Workload::Ec2Instance => "instance credentials delivered by the EC2 metadata service were used outside the instance".to_string(),
                Workload::Unknown => "one session credential was used by two consumers".to_string(),
                Workload::K8sPod => "a service-account token was used outside its cluster".to_string(),
                w => format!("the session credential of a {} was used outside it", w.as_str()),
            },
            value: Some(format!("{} {why}", ev.cred_text)),
            also: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::harness::*;
    use expect_test::expect;

    const LAMBDA_UA: &str = "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 lang/python#3.12 exec-env/AWS_Lambda_python3.12";
    const LAPTOP: &str =
        "aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0 exe/x86_64 prompt/off command/s3.ls";
    const VPS_CLI: &str = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64 prompt/off";

    fn lambda(id: &str, at: i64) -> Ev {
        role(
            id,
            at,
            "orders-fn",
            "orders-fn",
            "ASIALAMBDA0000000001",
            "dynamodb:PutItem",
        )
        .ua(LAMBDA_UA)
        .ip("3.5.140.20")
    }

    #[test]
    fn a_lambda_session_replayed_from_a_laptop_is_caught_on_the_first_call() {
        check(
            &[
                lambda("l1", T0),
                lambda("l2", T0 + MIN),
                role(
                    "x1",
                    T0 + 5 * MIN,
                    "orders-fn",
                    "orders-fn",
                    "ASIALAMBDA0000000001",
                    "s3:ListBuckets",
                )
                .ua(LAPTOP)
                .ip("203.0.113.7"),
                role(
                    "x2",
                    T0 + 6 * MIN,
                    "orders-fn",
                    "orders-fn",
                    "ASIALAMBDA0000000001",
                    "s3:GetObject",
                )
                .ua(LAPTOP)
                .ip("203.0.113.7"),
                lambda("l3", T0 + 7 * MIN),
            ],
            expect![[r#"
                arn:aws:iam::111122223333:role/orders-fn score=62
                  EXP_CREDENTIAL_OFF_WORKLOAD Critical [x1,x2]
            "#]],
        );
    }

    #[test]
    fn the_runtime_alone_is_quiet() {
        check(
            &[
                lambda("l1", T0),
                lambda("l2", T0 + MIN),
                lambda("l3", T0 + 2 * MIN).ip("3.5.141.9"),
            ],
            expect![[r#"
                arn:aws:iam::111122223333:role/orders-fn score=9
            "#]],
        );
    }

    #[test]
    fn a_second_client_on_a_lambda_session_from_elsewhere_is_someone_else() {
        // A Linux CLI (not a desktop) replaying the function's key: the runtime calls through
        // one SDK, so a second client family from a second network is a second consumer.
        check(
            &[
                lambda("l1", T0),
                lambda("l2", T0 + MIN),
                role(
                    "x1",
                    T0 + 3 * MIN,
                    "orders-fn",
                    "orders-fn",
                    "ASIALAMBDA0000000001",
                    "iam:ListRoles",
                )
                .ua(VPS_CLI)
                .ip("192.0.2.50"),
            ],
            expect![[r#"
                arn:aws:iam::111122223333:role/orders-fn score=62
                  EXP_CREDENTIAL_OFF_WORKLOAD Critical [x1]
            "#]],
        );
    }

    #[test]
    fn an_instance_runs_several_clients_through_endpoints_and_nat() {
        // Near miss: an instance's SDK through a VPC endpoint, its CloudWatch agent and a
        // script's CLI through the NAT gateway. Several clients and networks are normal there;
        // only AWS's ranges could tell a NAT address from a thief's.
        let inst = |id: &str, at: i64| {
            role(
                id,
                at,
                "web",
                "i-0abc123def4567890",
                "ASIAEC20000000000001",
                "s3:GetObject",
            )
            .imds()
            .ip("10.0.3.4")
        };
        let events = [
            inst("i1", T0),
            inst("i2", T0 + MIN)
                .ua("cwagent/1.3 (Linux; x86_64)")
                .ip("52.94.10.20"),
            inst("i3", T0 + 2 * MIN).ua(VPS_CLI).ip("52.94.10.20"),
        ];
        check(
            &events,
            expect![[r#"
                arn:aws:iam::111122223333:role/web score=9
            "#]],
        );
        // With the ranges, the NAT address is AWS's: still quiet. A thief's Linux box outside
        // AWS is caught.
        let ranges = ["52.94.0.0/16"];
        check_with_ranges(
            &events,
            &ranges,
            expect![[r#"
                arn:aws:iam::111122223333:role/web score=9
            "#]],
        );
        let mut stolen = events.to_vec();
        stolen.push(inst("x1", T0 + 3 * MIN).ua(VPS_CLI).ip("192.0.2.50"));
        check_with_ranges(
            &stolen,
            &ranges,
            expect![[r#"
                arn:aws:iam::111122223333:role/web score=62
                  EXP_CREDENTIAL_OFF_WORKLOAD Critical [x1]
            "#]],
        );
    }

    #[test]
    fn a_service_account_token_that_leaves_the_cluster() {
        let sa = "system:serviceaccount:checkout:checkout";
        let pod = |id: &str, at: i64, verb: &str| {
            k8s(id, at, sa, verb, "configmaps").ua("checkout/1.4 (linux/amd64) kubernetes/abc")
        };
        check(
            &[
                pod("p1", T0, "get"),
                pod("p2", T0 + MIN, "list"),
                k8s("x1", T0 + 2 * MIN, sa, "list", "secrets").ip("198.51.100.23"),
            ],
            expect![[r#"
                system:serviceaccount:checkout:checkout score=62
                  BEH_SENSITIVE_ACTION Medium [x1]
                  EXP_CREDENTIAL_OFF_WORKLOAD Critical [x1]
            "#]],
        );
        // Near miss: the same pod's second client inside the cluster.
        check(
            &[
                pod("p1", T0, "get"),
                k8s("p2", T0 + MIN, sa, "get", "configmaps").ip("10.0.9.9"),
            ],
            expect![[r#"
                system:serviceaccount:checkout:checkout score=9
            "#]],
        );
    }

    #[test]
    fn outside_aws_needs_the_published_ranges_and_a_workload_that_runs_in_aws() {
        // An ECS task's session (task-id session name) used by a Linux CLI from outside AWS: no
        // desktop client, no earlier consumer in the log. Only the ranges can tell.
        let ecs = |id: &str| {
            role(
                id,
                T0,
                "api-task",
                "0123456789abcdef0123456789abcdef",
                "ASIAECS0000000000001",
                "s3:ListBuckets",
            )
            .ua(VPS_CLI)
            .ip("192.0.2.50")
        };
        let ranges = ["3.5.140.0/22"];
        check_with_ranges(
            &[ecs("e1")],
            &ranges,
            expect![[r#"
                arn:aws:iam::111122223333:role/api-task score=62
                  EXP_CREDENTIAL_OFF_WORKLOAD Critical [e1]
            "#]],
        );
        check(
            &[ecs("e1")],
            expect![[r#"
                arn:aws:iam::111122223333:role/api-task score=9
            "#]],
        );
        // From inside AWS (the task's own network): quiet.
        check_with_ranges(
            &[ecs("e1").ip("3.5.140.77")],
            &ranges,
            expect![[r#"
                arn:aws:iam::111122223333:role/api-task score=9
            "#]],
        );
    }

    #[test]
    fn instance_credentials_used_by_a_desktop_and_calls_a_service_makes_for_the_role() {
        let inst = |id: &str, at: i64| {
            role(
                id,
                at,
                "web",
                "i-0abc123def4567890",
                "ASIAEC20000000000001",
                "s3:GetObject",
            )
            .imds()
            .ip("10.0.3.4")
        };
        check(
            &[
                inst("i1", T0),
                // CloudFormation acting with the role's session: the service's call, not a consumer.
                role(
                    "s1",
                    T0 + MIN,
                    "web",
                    "i-0abc123def4567890",
                    "ASIAEC20000000000001",
                    "s3:PutObject",
                )
                .invoked_by("cloudformation.amazonaws.com")
                .ip("cloudformation.amazonaws.com")
                .ua("cloudformation.amazonaws.com"),
                role(
                    "d1",
                    T0 + 2 * MIN,
                    "web",
                    "i-0abc123def4567890",
                    "ASIAEC20000000000001",
                    "s3:ListBuckets",
                )
                .ua(LAPTOP)
                .ip("203.0.113.9"),
            ],
            expect![[r#"
                arn:aws:iam::111122223333:role/web score=62
                  EXP_CREDENTIAL_OFF_WORKLOAD Critical [d1]
            "#]],
        );
    }
}

#[cfg(test)]
mod trust_tests {
    use crate::detect::harness::*;
    use crate::{Engine, EngineConfig};
    use std::collections::BTreeMap;
    use tripline_model::{Identity, IdentityKind, PolicyDoc, PolicyKind, Statement};

    fn role_trusting(service: &str) -> Identity {
        let mut i = Identity::new(
            format!("arn:aws:iam::{ACCOUNT}:role/thumbnailer"),
            "thumbnailer",
            IdentityKind::WorkloadIdentity,
        );
        let mut principals = BTreeMap::new();
        principals.insert("Service".to_string(), vec![service.to_string()]);
        i.privileges.trust = Some(PolicyDoc {
            source: "trust".into(),
            name: "trust".into(),
            kind: PolicyKind::Trust,
            statements: vec![Statement {
                allow: true,
                actions: vec!["sts:AssumeRole".into()],
                principals,
                ..Statement::default()
            }],
        });
        i
    }

    fn codes(identity: Identity) -> Vec<String> {
        let mut engine = Engine::new(EngineConfig::default());
        engine.merge_inventory(identity);
        // A Linux CLI on an unknown network, the first call of the session in the log: no
        // runtime marker, no earlier consumer. Only the trust policy says whose session it is.
        let ev = role(
            "x1",
            T0,
            "thumbnailer",
            "thumbnailer",
            "ASIATHUMB00000000001",
            "s3:ListBuckets",
        )
        .ua("aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0")
        .ip("192.0.2.50");
        engine.ingest(&ev.0);
        let r = engine.assess(None, |_| {});
        r.assessments
            .iter()
            .flat_map(|a| a.signals.iter().map(|s| s.code.clone()))
            .collect()
    }

    #[test]
    fn a_role_only_a_compute_service_may_assume_has_only_workload_sessions() {
        assert!(codes(role_trusting("lambda.amazonaws.com"))
            .contains(&"EXP_CREDENTIAL_OFF_WORKLOAD".to_string()));
        // A role people or other accounts may assume says nothing about who holds a session.
        let mut open = role_trusting("lambda.amazonaws.com");
        if let Some(t) = open.privileges.trust.as_mut() {
            t.statements[0]
                .principals
                .insert("AWS".into(), vec!["arn:aws:iam::111122223333:root".into()]);
        }
        assert!(!codes(open).contains(&"EXP_CREDENTIAL_OFF_WORKLOAD".to_string()));
    }
}
