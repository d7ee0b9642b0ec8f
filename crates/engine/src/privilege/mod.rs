//! Privilege analysis of IAM policies: admin-equivalence, wildcard grants, escalation-capable
//! permission sets, trust breadth, granted services.
//!
//! What is evaluated: the identity policies of a principal (`Privileges::policies` of kind
//! managed, inline and group, plus well-known AWS managed policies referenced by ARN in
//! `Privileges::unresolved_policies`, see [`known_managed_policy`]), intersected with its
//! permissions boundary when there is one. Service control policies, resource policies and
//! session policies are not in the model and are not considered.
//!
//! Rules (IAM semantics, simplified towards over-reporting risk rather than under-reporting):
//! - action names and patterns match case-insensitively, with `*` and `?` wildcards;
//!   `NotAction` in an Allow grants everything except the listed actions; `NotResource` in an
//!   Allow grants on some resource;
//! - an explicit Deny overrides Allows, but only an *unconditional* Deny on every resource
//!   (`*`) removes an action; a conditional Deny, or one limited to some resources, removes
//!   nothing;
//! - a conditional Allow grants (escalation paths built on one are flagged `conditional`);
//!   admin requires an unconditional Allow of `*` on `*`, with no unconditional Deny on every
//!   resource and, if a boundary is present, the same from the boundary;
//! - an unresolved permissions boundary that is not a known AWS managed policy is ignored
//!   (listed in [`PrivilegeFindings::unrecognized_policies`]);
//! - Kubernetes RBAC rule sets (`PolicyKind::Rbac`) are not evaluated here.
//!
//! Cost: no regex and no lowercasing of policies; matching is an allocation-free
//! case-insensitive glob. One call walks the statements a few dozen times.

// TODO(rbac): cluster-admin / wildcard verbs / escalate-bind-impersonate analysis of
// `PolicyKind::Rbac` rule sets belongs next to this module (a sibling `rbac_findings`), once
// the model's RBAC rule encoding is settled.

mod escalation;
mod eval;
mod glob;
mod managed;
pub mod rbac;
mod trust;

#[cfg(test)]
mod tests;

pub use escalation::escalation_path_names;
pub use managed::{known_managed_policy, known_managed_policy_names};

use eval::{Ctx, Target};
use serde::Serialize;
use tripline_model::Privileges;

/// One escalation-capable permission set the principal holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationPath {
    /// Stable short name, e.g. `create_policy_version`, `pass_role_lambda`.
    pub name: &'static str,
    /// One-line explanation for people.
    pub summary: String,
    /// The IAM actions that together make the path (as granted, e.g. `iam:PassRole`).
    pub actions: Vec<String>,
    /// Policy sources (`PolicyDoc::source`) that grant them.
    pub sources: Vec<String>,
    /// Some required action is granted only by statements with a `Condition`.
    pub conditional: bool,
    /// Some required action is granted only on specific resources (no wildcard), which may not
    /// be abusable: a weaker path than one open on every resource.
    pub limited: bool,
    /// How many distinct rights the path needs (1: one call makes the principal admin).
    pub steps: u8,
}

impl EscalationPath {
    /// How strongly this path makes its holder an admin: one unconditional call on any resource
    /// is nearly as good as admin (High); a chain of rights is a step further away (Medium); a
    /// path limited to specific resources or behind conditions may not be open at all (Low).
    pub fn severity(&self) -> tripline_model::Severity {
        use tripline_model::Severity;
        if self.limited || self.conditional {
            Severity::Low
        } else if self.steps <= 1 {
            Severity::High
        } else {
            Severity::Medium
        }
    }
}

/// What a principal's policies allow, as far as risk is concerned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PrivilegeFindings {
    /// Effectively `*` on `*` (after Deny and permissions boundary), or a known admin managed policy.
    pub admin: bool,
    /// Policy sources that make it admin.
    pub admin_sources: Vec<String>,
    /// Services granted with a service-wide wildcard (`s3:*`, or `*` → "*"), on any resource.
    pub wildcard_services: Vec<String>,
    pub escalation_paths: Vec<EscalationPath>,
    /// Service prefixes with at least one allowed action (`*` when everything is allowed).
    pub granted_services: Vec<String>,
    /// Trust policy lets anyone, any AWS account, or any repository of a CI provider assume the role.
    pub broad_trust: Vec<String>,
    /// Whether the identity had any policy to analyse (false: privilege unknown, not zero).
    pub known: bool,
    /// Not admin, but `*` on `*` is allowed under a condition (or the boundary's is conditional).
    pub admin_conditional: bool,
    /// When `wildcard_services` holds `*`: the action patterns carved out of it (NotAction
    /// exclusions not granted back, unconditional Denies). Empty for a plain `*`.
    pub wildcard_exceptions: Vec<String>,
    /// Referenced policies whose content is unknown (not in the inventory and not a recognised
    /// AWS managed policy): the findings may understate the privileges.
    pub unrecognized_policies: Vec<String>,
}

/// Analyses the privileges of one identity.
pub fn analyse(p: &Privileges) -> PrivilegeFindings {
    let ctx = Ctx::new(p);
    let (admin, admin_sources, admin_conditional) = ctx.admin();
    let (wildcard_services, wildcard_exceptions) = ctx.wildcard_services();
    let own_account = p
        .trust
        .as_ref()
        .and_then(|t| t.source.strip_prefix("trust:"))
        .and_then(tripline_model::account_of_arn);
    PrivilegeFindings {
        admin,
        admin_sources,
        wildcard_services,
        escalation_paths: escalation::detect(&ctx),
        granted_services: ctx.granted_services(),
        broad_trust: p
            .trust
            .as_ref()
            .map(|t| trust::broad_trust(t, own_account))
            .unwrap_or_default(),
        known: ctx.known,
        admin_conditional,
        wildcard_exceptions,
        unrecognized_policies: ctx.unrecognized.iter().map(|s| s.to_string()).collect(),
    }
}

/// Whether `action` (e.g. `iam:PassRole`) is allowed on some resource by `p`, honouring Deny,
/// NotAction and the permissions boundary.
pub fn allows(p: &Privileges, action: &str) -> bool {
    Ctx::new(p).grant(action, Target::Any).is_some()
}

/// Whether `action` is allowed on some resource by a statement without a condition (and not
/// only conditionally by the boundary).
pub fn allows_unconditionally(p: &Privileges, action: &str) -> bool {
    Ctx::new(p)
        .grant(action, Target::Any)
        .is_some_and(|g| !g.conditional)
}
