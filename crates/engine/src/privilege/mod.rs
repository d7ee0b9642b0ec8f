//! Privilege analysis of IAM policies (and Kubernetes RBAC rules): admin-equivalence, wildcard
//! grants, escalation-capable permission sets, trust breadth, granted services.
//!
//! STUB: the interface is fixed; the implementation is being written.

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
}

/// Analyses the privileges of one identity.
pub fn analyse(_p: &Privileges) -> PrivilegeFindings {
    PrivilegeFindings::default()
}

/// Whether `action` (e.g. `iam:PassRole`) is allowed on some resource by `p`, honouring Deny,
/// NotAction and the permissions boundary.
pub fn allows(_p: &Privileges, _action: &str) -> bool {
    false
}
