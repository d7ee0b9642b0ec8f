//! Harvesting secret material: reads of passwords, user data, secrets or decrypted parameters
//! across many distinct resources in a short window. A workload reads its own secret; an
//! attacker with a stolen key sweeps every instance or secret it can list. Refused attempts
//! count the same: the sweep shows intent whether or not the policy stopped it.

use super::{Detector, Finding, Observation};
use crate::catalog;
use std::collections::HashMap;
use tripline_model::{Severity, Technique};

/// The last reads of one identity: (time, resource hash, event), newest last, bounded.
#[derive(Debug, Default)]
struct Reads {
    recent: Vec<(i64, u32, u32)>,
    fired: bool,
}

const KEEP: usize = 32;

#[derive(Debug)]
pub struct CredentialBurst {
    min_resources: usize,
    window_ms: i64,
    reads: HashMap<u32, Reads>,
}

impl CredentialBurst {
    pub fn new(min_resources: usize, window_secs: i64) -> Self {
        Self {
            min_resources: min_resources.max(2),
            window_ms: window_secs * 1000,
            reads: HashMap::new(),
        }
    }
}

impl Detector for CredentialBurst {
    fn observe(&mut self, ev: &Observation<'_>, out: &mut Vec<Finding>) {
        let secret_read = ev.techniques.contains(Technique::CredentialRead)
            || ev.techniques.contains(Technique::K8sSecretRead);
        if !secret_read {
            return;
        }
        let r = self.reads.entry(ev.identity).or_default();
        r.recent.retain(|(t, _, _)| ev.t - *t <= self.window_ms);
        if r.recent.len() >= KEEP {
            r.recent.remove(0);
        }
        r.recent.push((ev.t, ev.resource, ev.event));
        let mut distinct: Vec<u32> = r.recent.iter().map(|(_, res, _)| *res).collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() >= self.min_resources {
            let denied = if ev.denied { " (refused)" } else { "" };
            // The first time, the reads that built the burst are part of it too.
            let also = if r.fired {
                Vec::new()
            } else {
                r.recent
                    .iter()
                    .map(|(_, _, e)| *e)
                    .filter(|e| *e != ev.event)
                    .collect()
            };
            r.fired = true;
            out.push(Finding::Signal {
                def: &catalog::BEH_CREDENTIAL_ACCESS_BURST,
                key: 0,
                severity: Severity::High,
                summary: format!(
                    "reads of secret material across {} resources within {} minutes",
                    distinct.len(),
                    self.window_ms / 60_000
                ),
                value: Some(format!("{}{denied}", ev.action)),
                also,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::detect::harness::*;
    use expect_test::expect;
    use tripline_model::Technique;

    fn password(id: &str, at: i64, instance: &str) -> Ev {
        user(id, at, "inventory-sync", "ec2:GetPasswordData")
            .tech(Technique::CredentialRead)
            .resource(instance)
            .denied()
    }

    #[test]
    fn a_refused_sweep_over_many_instances_is_harvesting() {
        let events: Vec<Ev> = (0..6)
            .map(|i| {
                password(
                    &format!("p{i}"),
                    T0 + i * MIN,
                    &format!("instance/i-{i:017x}"),
                )
            })
            .collect();
        check(
            &events,
            expect![[r#"
                arn:aws:iam::111122223333:user/inventory-sync score=50
                  BEH_CREDENTIAL_ACCESS_BURST High [p4,p0,p1,p2,p3,p5]
                  BEH_SENSITIVE_ACTION Medium [p0,p1,p2,p3,p4,p5]
            "#]],
        );
    }

    #[test]
    fn one_workload_reading_its_own_secret_again_and_again_is_not() {
        let events: Vec<Ev> = (0..8)
            .map(|i| {
                user(
                    &format!("s{i}"),
                    T0 + i * MIN,
                    "api",
                    "secretsmanager:GetSecretValue",
                )
                .tech(Technique::CredentialRead)
                .resource("secret:db-password")
            })
            .collect();
        let out = run(&events, None);
        assert!(!out.contains("BEH_CREDENTIAL_ACCESS_BURST"), "{out}");
        // Four instances in ten minutes is below the sweep size.
        let few: Vec<Ev> = (0..4)
            .map(|i| {
                password(
                    &format!("p{i}"),
                    T0 + i * MIN,
                    &format!("instance/i-{i:017x}"),
                )
            })
            .collect();
        assert!(!run(&few, None).contains("BEH_CREDENTIAL_ACCESS_BURST"));
    }
}
