//! Breadth of a role's trust policy: who may assume it.

use super::glob::{intersects, matches};
use std::collections::BTreeMap;
use tripline_model::{PolicyDoc, Statement};

type Conditions = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Condition keys that tie a `Principal: "*"` trust to an organization, account, network or
/// shared secret.
const RESTRICTING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourceowner",
    "aws:userid",
    "aws:sourceip",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "sts:externalid",
];

/// OpenID Connect providers anyone can get a token from: the claim that must be pinned, and
/// value prefixes that pin nothing.
struct Idp {
    host: &'static str,
    label: &'static str,
    claim: &'static str,
    open_prefixes: &'static [&'static str],
}

const IDPS: &[Idp] = &[
    Idp {
        host: "token.actions.githubusercontent.com",
        label: "any GitHub Actions workflow, of any repository",
        claim: "token.actions.githubusercontent.com:sub",
        open_prefixes: &["*", "repo:*"],
    },
    Idp {
        host: "gitlab.com",
        label: "any GitLab CI job, of any project",
        claim: "gitlab.com:sub",
        open_prefixes: &["*", "project_path:*"],
    },
    Idp {
        host: "app.terraform.io",
        label: "any Terraform Cloud run, of any organization",
        claim: "app.terraform.io:sub",
        open_prefixes: &["*", "organization:*"],
    },
    Idp {
        host: "cognito-identity.amazonaws.com",
        label: "any Cognito identity, of any identity pool",
        claim: "cognito-identity.amazonaws.com:aud",
        open_prefixes: &["*"],
    },
    Idp {
        host: "accounts.google.com",
        label: "any Google account",
        claim: "accounts.google.com:aud",
        open_prefixes: &["*"],
    },
    Idp {
        host: "graph.facebook.com",
        label: "any Facebook login",
        claim: "graph.facebook.com:app_id",
        open_prefixes: &["*"],
    },
    Idp {
        host: "www.amazon.com",
        label: "any Login with Amazon user",
        claim: "www.amazon.com:app_id",
        open_prefixes: &["*"],
    },
];

/// Values a positive (not negated) condition on `key` pins, if any such condition exists.
fn pinned_values<'c>(conditions: &'c Conditions, key: &str) -> Option<Vec<&'c str>> {
    let mut found: Option<Vec<&'c str>> = None;
    for (op, keys) in conditions {
        let op_l = op.to_ascii_lowercase();
        if op_l.contains("not") || op_l == "null" {
            continue;
        }
        for (k, values) in keys {
            if k.eq_ignore_ascii_case(key) {
                found
                    .get_or_insert_with(Vec::new)
                    .extend(values.iter().map(String::as_str));
            }
        }
    }
    found
}

fn restricted(conditions: &Conditions) -> bool {
    RESTRICTING_KEYS.iter().any(|key| {
        pinned_values(conditions, key)
            .is_some_and(|vs| !vs.is_empty() && vs.iter().any(|v| !v.bytes().all(|b| b == b'*')))
    })
}

/// Whether the statement lets principals assume the role (any `sts:AssumeRole*`).
fn assumes(s: &Statement) -> bool {
    if s.actions.is_empty() {
        return !s.not_actions.is_empty()
            && [
                "sts:AssumeRole",
                "sts:AssumeRoleWithWebIdentity",
                "sts:AssumeRoleWithSAML",
            ]
            .iter()
            .any(|a| !s.not_actions.iter().any(|n| matches(n, a)));
    }
    s.actions.iter().any(|a| intersects(a, "sts:AssumeRole*"))
}

/// The 12-digit account of an `arn:…:iam::<account>:…` or a bare account id.
fn account_of(principal: &str) -> Option<&str> {
    if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        return Some(principal);
    }
    let mut parts = principal.split(':');
    let (arn, _, svc, _, account) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    (arn == "arn" && svc == "iam" && !account.is_empty()).then_some(account)
}

fn is_account_root(principal: &str) -> bool {
    (principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()))
        || (principal.starts_with("arn:") && principal.ends_with(":root"))
}

/// Trust breadth findings of a role's trust policy, as sentences. `own_account` is the role's
/// account when known (an account root of another account is external).
pub(super) fn broad_trust(trust: &PolicyDoc, own_account: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for s in trust.statements.iter().filter(|s| s.allow && assumes(s)) {
        let conds = &s.conditions;
        for (kind, values) in &s.principals {
            if kind.eq_ignore_ascii_case("NotPrincipal") {
                out.push(format!(
                    "an Allow with NotPrincipal lets every principal except {} assume the role",
                    values.join(", ")
                ));
                continue;
            }
            let any_principal = kind == "*"
                || (kind.eq_ignore_ascii_case("AWS") && values.iter().any(|v| v == "*"));
            if any_principal {
                if !restricted(conds) {
                    out.push(
                        "Principal \"*\": any AWS principal may assume the role, with no restricting condition (aws:PrincipalOrgID, aws:SourceAccount, sts:ExternalId…)".to_string(),
                    );
                }
                continue;
            }
            if kind.eq_ignore_ascii_case("AWS") {
                for v in values.iter().filter(|v| is_account_root(v)) {
                    let Some(account) = account_of(v) else {
                        continue;
                    };
                    if own_account.is_some_and(|own| own == account) {
                        continue;
                    }
                    if pinned_values(conds, "aws:PrincipalArn").is_some() {
                        continue;
                    }
                    let external = if own_account.is_some() {
                        "external account"
                    } else {
                        "account"
                    };
                    let note = if pinned_values(conds, "sts:ExternalId").is_some() {
                        " (an sts:ExternalId is required)"
                    } else {
                        ""
                    };
                    out.push(format!(
                        "{external} {account} (root): any principal of that account allowed sts:AssumeRole may assume the role{note}"
                    ));
                }
            }
            if kind.eq_ignore_ascii_case("Federated") {
                for v in values {
                    let v_l = v.to_ascii_lowercase();
                    let Some(idp) = IDPS.iter().find(|i| {
                        v_l == i.host || v_l.ends_with(&format!("oidc-provider/{}", i.host))
                    }) else {
                        continue;
                    };
                    match pinned_values(conds, idp.claim) {
                        None => out.push(format!(
                            "federated {}: {} may assume the role (no {} condition)",
                            idp.host, idp.label, idp.claim
                        )),
                        Some(vs) => {
                            let open: Vec<&str> = vs
                                .iter()
                                .copied()
                                .filter(|v| {
                                    let v = v.to_ascii_lowercase();
                                    idp.open_prefixes.iter().any(|p| v.starts_with(p))
                                })
                                .collect();
                            if vs.is_empty() || !open.is_empty() {
                                out.push(format!(
                                    "federated {}: {} may assume the role ({} allows {})",
                                    idp.host,
                                    idp.label,
                                    idp.claim,
                                    if open.is_empty() {
                                        "anything".to_string()
                                    } else {
                                        open.join(", ")
                                    }
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    out.dedup();
    out
}
