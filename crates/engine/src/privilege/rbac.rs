//! Kubernetes RBAC privilege analysis: risky grants in the `PolicyKind::Rbac` policies that
//! `tripline_ingest::inventory::rbac` writes (`k8s:<verb>:<resource>` actions, scope in
//! `resources`, API groups in a [`K8S_API_GROUP_CONDITION`] condition).

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use tripline_model::{
    PolicyKind, Privileges, Statement, K8S_API_GROUP_CONDITION as API_GROUP_CONDITION,
};

/// The condition key holding a rule's API groups.
pub use tripline_model::K8S_API_GROUP_CONDITION;

const CONDITION_OPERATOR: &str = "StringEquals";

// ---------------------------------------------------------------------------------------------
// Findings.

/// Risky grants in an identity's Kubernetes RBAC policies (other policy kinds are ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RbacFindings {
    /// Every verb on every resource of every API group, cluster-wide (`cluster-admin`).
    pub cluster_admin: bool,
    /// Rules with a `*` verb or a `*` resource: `<policy source> <sid>: <actions>`.
    pub wildcard: Vec<String>,
    /// `get`, `list` or `watch` on secrets (any scope, including named secrets).
    pub secrets_read: bool,
    /// `create` on `pods/exec` or `pods/attach`.
    pub pod_exec: bool,
    /// Escalation grants, sorted: `escalate`, `bind`, `impersonate` (any resource),
    /// `create rolebindings`, `create clusterrolebindings`, `create serviceaccounts/token`.
    pub escalation: Vec<String>,
    /// Policy sources behind each finding: keys `cluster_admin`, `wildcard`, `secrets_read`,
    /// `pod_exec`, and `escalation:<grant>` (e.g. `escalation:bind`).
    pub sources: BTreeMap<String, Vec<String>>,
}

impl RbacFindings {
    /// No risky grant found.
    pub fn is_empty(&self) -> bool {
        !self.cluster_admin
            && self.wildcard.is_empty()
            && !self.secrets_read
            && !self.pod_exec
            && self.escalation.is_empty()
    }

    fn note(&mut self, finding: &str, source: &str) {
        let v = self.sources.entry(finding.to_string()).or_default();
        if !v.iter().any(|s| s == source) {
            v.push(source.to_string());
        }
    }
}

/// The escalation grants: label, verbs that grant it, resources (empty: any), API groups the
/// rule must cover (empty: any).
type Escalation = (
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

const ESCALATIONS: [Escalation; 6] = [
    ("escalate", &["escalate"], &[], &[RBAC_GROUP]),
    ("bind", &["bind"], &[], &[RBAC_GROUP]),
    (
        "impersonate",
        &["impersonate"],
        &[],
        &["", "authentication.k8s.io"],
    ),
    (
        "create rolebindings",
        &["create"],
        &["rolebindings"],
        &[RBAC_GROUP],
    ),
    (
        "create clusterrolebindings",
        &["create"],
        &["clusterrolebindings"],
        &[RBAC_GROUP],
    ),
    (
        "create serviceaccounts/token",
        &["create"],
        &["serviceaccounts/token"],
        &[""],
    ),
];

/// Risky grants in the [`PolicyKind::Rbac`] policies of `p` (the statements [`parse_rbac`]
/// writes: `k8s:<verb>:<resource>` actions, scope in `resources`, API groups in
/// [`API_GROUP_CONDITION`]).
pub fn rbac_findings(p: &Privileges) -> RbacFindings {
    let mut f = RbacFindings::default();
    let mut escalation: BTreeSet<&str> = BTreeSet::new();
    for doc in p.policies.iter().filter(|d| d.kind == PolicyKind::Rbac) {
        for st in doc.statements.iter().filter(|s| s.allow) {
            let grants: Vec<(&str, &str)> = st
                .actions
                .iter()
                .filter_map(|a| a.strip_prefix("k8s:")?.split_once(':'))
                .filter(|(_, target)| !target.starts_with('/'))
                .collect();
            if grants.is_empty() {
                continue;
            }
            let cluster_wide = st.resources.iter().any(|r| r == "*");
            let any_group = api_groups(st).is_none();
            if cluster_wide && any_group && grants.iter().any(|&(v, r)| v == "*" && r == "*") {
                f.cluster_admin = true;
                f.note("cluster_admin", &doc.source);
            }
            let wild: Vec<String> = grants
                .iter()
                .filter(|&&(v, r)| v == "*" || r == "*")
                .map(|(v, r)| format!("k8s:{v}:{r}"))
                .collect();
            if !wild.is_empty() {
                let sid = st.sid.as_deref().unwrap_or("rule");
                f.wildcard
                    .push(format!("{} {sid}: {}", doc.source, wild.join(", ")));
                f.note("wildcard", &doc.source);
            }
            let allows = |verbs: &[&str], resources: &[&str], groups: &[&str]| {
                (groups.is_empty() || groups.iter().any(|g| group_allowed(st, g)))
                    && grants.iter().any(|&(v, r)| {
                        verbs.iter().any(|w| verb_matches(v, w))
                            && (resources.is_empty()
                                || resources.iter().any(|want| resource_matches(r, want)))
                    })
            };
            if allows(&["get", "list", "watch"], &["secrets"], &[""]) {
                f.secrets_read = true;
                f.note("secrets_read", &doc.source);
            }
            if allows(&["create"], &["pods/exec", "pods/attach"], &[""]) {
                f.pod_exec = true;
                f.note("pod_exec", &doc.source);
            }
            for (label, verbs, resources, group) in ESCALATIONS {
                if allows(verbs, resources, group) {
                    escalation.insert(label);
                    f.note(&format!("escalation:{label}"), &doc.source);
                }
            }
        }
    }
    f.escalation = escalation.into_iter().map(str::to_string).collect();
    f
}

/// The API groups a statement is limited to, or `None` for all.
fn api_groups(st: &Statement) -> Option<&Vec<String>> {
    st.conditions
        .get(CONDITION_OPERATOR)
        .and_then(|m| m.get(API_GROUP_CONDITION))
}

fn group_allowed(st: &Statement, group: &str) -> bool {
    api_groups(st).is_none_or(|gs| gs.iter().any(|g| g == group || g == "*"))
}

pub fn verb_matches(rule_verb: &str, want: &str) -> bool {
    rule_verb == "*" || rule_verb.eq_ignore_ascii_case(want)
}

/// RBAC resource matching: `*`, exact, `<resource>/*` (every subresource), `*/<subresource>`.
pub fn resource_matches(rule_resource: &str, want: &str) -> bool {
    if rule_resource == "*" || rule_resource == want {
        return true;
    }
    match (rule_resource.split_once('/'), want.split_once('/')) {
        (Some((rr, "*")), Some((wr, _))) => rr == wr,
        (Some(("*", rs)), Some((_, ws))) => rs == ws,
        _ => false,
    }
}
