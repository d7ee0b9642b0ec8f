//! Hostile techniques read from request parameters (see `tripline_model::Technique`).
//!
//! One signal per technique. A refused attempt counts one severity lower than a success. A
//! technique the identity repeats on `routine_days` distinct days is its routine (the earlier
//! signal is withdrawn as learning-period noise), except for techniques no routine needs:
//! stopping audit logs, leaving the organization, anonymous access, credentials minted for
//! someone else.

use super::{lower, Detector, Finding, Observation};
use crate::catalog::{self, SignalDef};
use std::collections::HashMap;
use tripline_model::{Severity, Technique};

/// The signal a technique raises, and what it means, for the summary.
pub fn signal_of(t: Technique) -> Option<(&'static SignalDef, &'static str)> {
    use Technique::*;
    Some(match t {
        ResourceSharedOut => (
            &catalog::BEH_RESOURCE_SHARED_OUT,
            "shared a snapshot or image with another account or everyone",
        ),
        BucketOpened => (
            &catalog::BEH_PUBLIC_ACCESS_OPENED,
            "opened a bucket to everyone or another account",
        ),
        PublicIngress => (
            &catalog::BEH_PUBLIC_ACCESS_OPENED,
            "opened a security group to the internet (0.0.0.0/0 or ::/0)",
        ),
        TrustOpened => (
            &catalog::BEH_TRUST_OPENED,
            "opened a trust or resource policy to everyone or another account",
        ),
        CredentialForOther => (
            &catalog::BEH_CREDENTIAL_FOR_OTHER,
            "created a key, password or login profile for another principal",
        ),
        LoggingTampered => (
            &catalog::BEH_LOGGING_TAMPERED,
            "stopped, deleted or narrowed audit logging or threat detection",
        ),
        LeaveOrganization => (
            &catalog::BEH_LEAVE_ORGANIZATION,
            "made the account leave its organization and its guardrails",
        ),
        WorkloadCodeChanged => (
            &catalog::BEH_WORKLOAD_CODE_CHANGED,
            "changed code that runs as a workload (function code or layers, user data, commands or keys sent to instances)",
        ),
        IdentityProviderAdded => (
            &catalog::BEH_IDENTITY_PROVIDER_ADDED,
            "added a way in: an identity provider or a Roles Anywhere trust anchor",
        ),
        UnusualCompute => (
            &catalog::BEH_UNUSUAL_COMPUTE,
            "launched GPU or very large instances",
        ),
        K8sPrivilegedWorkload => (
            &catalog::BEH_K8S_PRIVILEGED_WORKLOAD,
            "created a workload that escapes its sandbox (privileged, host namespaces, node filesystem, kernel capabilities)",
        ),
        K8sPodExec => (
            &catalog::BEH_K8S_POD_EXEC,
            "executed into, attached to or port-forwarded a pod",
        ),
        K8sRbacEscalation => (
            &catalog::BEH_K8S_RBAC_ESCALATION,
            "granted cluster-admin, wildcards or privilege-minting verbs through RBAC",
        ),
        K8sSystemNamespaceWrite => (
            &catalog::BEH_K8S_SYSTEM_NAMESPACE_WRITE,
            "wrote workloads or access objects in a system namespace",
        ),
        K8sSystemRoleChanged => (
            &catalog::BEH_K8S_SYSTEM_ROLE_CHANGED,
            "changed or deleted a built-in system: role or binding",
        ),
        K8sAnonymousAllowed => (
            &catalog::BEH_K8S_ANONYMOUS_ALLOWED,
            "an unauthenticated request was allowed",
        ),
        K8sTokenRequest => (
            &catalog::BEH_K8S_TOKEN_REQUEST,
            "requested a token for another service account",
        ),
        K8sSecretRead => (
            &catalog::BEH_K8S_SECRET_READ,
            "read secrets outside its own namespace",
        ),
        // Judged as a burst, not one by one (`credential_burst`).
        CredentialRead => return None,
    })
}

/// Techniques no routine needs: never withdrawn as routine.
fn never_routine(t: Technique) -> bool {
    matches!(
        t,
        Technique::LoggingTampered
            | Technique::LeaveOrganization
            | Technique::K8sAnonymousAllowed
            | Technique::CredentialForOther
    )
}

/// Days on which one identity used one technique.
#[derive(Debug, Default, Clone, Copy)]
struct Days {
    last_day: i64,
    distinct: u8,
}

#[derive(Debug)]
pub struct TechniqueDetector {
    routine_days: u8,
    days: HashMap<(u32, u8), Days>,
}

impl TechniqueDetector {
    pub fn new(routine_days: u8) -> Self {
        Self {
            routine_days,
            days: HashMap::new(),
        }
    }
}

impl Detector for TechniqueDetector {
    fn observe(&mut self, ev: &Observation<'_>, out: &mut Vec<Finding>) {
        if ev.techniques.is_empty() {
            return;
        }
        for t in ev.techniques.iter() {
            let Some((def, what)) = signal_of(t) else {
                continue;
            };
            let key = t as u32;
            let day = ev.t.div_euclid(86_400_000);
            let d = self.days.entry((ev.identity, t as u8)).or_default();
            if d.distinct == 0 || d.last_day != day {
                d.distinct = d.distinct.saturating_add(1);
                d.last_day = day;
            }
            if !never_routine(t) && d.distinct >= self.routine_days {
                out.push(Finding::Routine { def, key });
                continue;
            }
            // Once routine, later repetitions on a known action stay routine.
            if !never_routine(t) && ev.mature && !ev.new_action && d.distinct > 1 {
                continue;
            }
            let severity = if ev.denied {
                lower(def.severity)
            } else {
                def.severity
            };
            let verb = if ev.denied {
                "attempted (refused)"
            } else {
                "called"
            };
            out.push(Finding::Signal {
                def,
                key,
                severity: severity.max(Severity::Low),
                summary: what.to_string(),
                value: Some(format!("{verb} {}", ev.action)),
                also: Vec::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::harness::*;
    use expect_test::expect;
    use tripline_model::Technique;

    const SA: &str = "system:serviceaccount:ci:runner";

    #[test]
    fn one_hostile_request_with_no_history_reaches_step_up_novelty_does_not() {
        check(
            &[
                k8s("p1", T0, SA, "create", "pods").tech(Technique::K8sPrivilegedWorkload),
                k8s("g1", T0 + MIN, SA, "get", "pods"),
            ],
            expect![[r#"
                system:serviceaccount:ci:runner score=50
                  BEH_K8S_PRIVILEGED_WORKLOAD High [p1,g1]
            "#]],
        );
        check(
            &[k8s("b1", T0, SA, "create", "clusterrolebindings")
                .tech(Technique::K8sRbacEscalation)],
            expect![[r#"
                system:serviceaccount:ci:runner score=62
                  BEH_K8S_RBAC_ESCALATION Critical [b1]
            "#]],
        );
    }

    #[test]
    fn a_refused_attempt_counts_one_step_lower() {
        check(
            &[user("t1", T0, "ops-bot", "cloudtrail:StopLogging")
                .tech(Technique::LoggingTampered)
                .denied()],
            expect![[r#"
                arn:aws:iam::111122223333:user/ops-bot score=50
                  BEH_LOGGING_TAMPERED High [t1]
            "#]],
        );
    }

    #[test]
    fn a_technique_repeated_on_three_days_is_routine_but_logging_tampering_never_is() {
        let open = |id: &str, at: i64| {
            user(id, at, "edge-deployer", "ec2:AuthorizeSecurityGroupIngress")
                .tech(Technique::PublicIngress)
        };
        check(
            &[
                open("o1", T0),
                open("o2", T0 + DAY),
                open("o3", T0 + 2 * DAY),
            ],
            expect![[r#"
                arn:aws:iam::111122223333:user/edge-deployer score=13
                  EXP_LONG_LIVED_KEY Low []
            "#]],
        );
        let stop = |id: &str, at: i64| {
            user(id, at, "edge-deployer", "cloudtrail:StopLogging").tech(Technique::LoggingTampered)
        };
        check(
            &[
                stop("s1", T0),
                stop("s2", T0 + DAY),
                stop("s3", T0 + 2 * DAY),
            ],
            expect![[r#"
                arn:aws:iam::111122223333:user/edge-deployer score=62
                  BEH_LOGGING_TAMPERED Critical [s1,s2,s3]
                  EXP_LONG_LIVED_KEY Low []
            "#]],
        );
    }
}

#[cfg(test)]
mod anonymous_tests {
    use crate::detect::harness::*;
    use expect_test::expect;
    use tripline_model::{PrincipalType, Technique};

    #[test]
    fn an_allowed_anonymous_request_reaches_step_up_on_its_own() {
        let mut e = k8s("a1", T0, "system:anonymous", "get", "secrets")
            .tech(Technique::K8sAnonymousAllowed);
        e.0.actor.principal_type = Some(PrincipalType::K8sAnonymous);
        check(
            &[e],
            expect![[r#"
                system:anonymous score=50
                  BEH_K8S_ANONYMOUS_ALLOWED High [a1]
            "#]],
        );
    }
}

#[cfg(test)]
mod session_tests {
    use crate::detect::harness::*;
    use expect_test::expect;
    use tripline_model::Technique;

    #[test]
    fn what_the_same_credential_and_client_do_next_joins_the_hostile_act() {
        let cli = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64";
        check(
            &[
                user("t1", T0, "report-bot", "cloudtrail:StopLogging")
                    .tech(Technique::LoggingTampered)
                    .ua(cli),
                user("t2", T0 + MIN, "report-bot", "s3:ListBuckets").ua(cli),
                user("t3", T0 + 2 * MIN, "report-bot", "s3:GetObject").ua(cli),
                // The same key from the bot's own SDK: not the same session of the act.
                user("b1", T0 + 3 * MIN, "report-bot", "s3:GetObject"),
            ],
            expect![[r#"
                arn:aws:iam::111122223333:user/report-bot score=62
                  BEH_LOGGING_TAMPERED Critical [t1,t2,t3]
                  EXP_LONG_LIVED_KEY Low []
            "#]],
        );
    }
}
