//! Class and kind inference for identities the owners file does not describe. The owners file
//! is authoritative; these rules only fill gaps, and every inferred value is marked as such.

use tripline_model::{Identity, IdentityClass, IdentityKind, Privileges, Provenance};

/// AWS managed policies that grant (near-)administrator rights.
pub const ADMIN_MANAGED_POLICIES: [&str; 3] =
    ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"];

/// Admin-equivalent: an unconditional Allow of `*` on `*`, or an administrator managed policy.
pub fn is_admin(p: &Privileges) -> bool {
    let managed_admin = |arn: &str| {
        arn.starts_with("arn:aws:iam::aws:policy/")
            && ADMIN_MANAGED_POLICIES
                .iter()
                .any(|n| arn.ends_with(&format!("/{n}")))
    };
    p.unresolved_policies.iter().any(|a| managed_admin(a))
        || p.policies.iter().any(|d| {
            managed_admin(&d.source)
                || d.statements.iter().any(|s| {
                    s.allow
                        && s.conditions.is_empty()
                        && s.actions.iter().any(|a| a == "*" || a == "*:*")
                        && s.resources.iter().any(|r| r == "*")
                })
        })
}

const NAME_HINTS: [(IdentityClass, &[&str]); 5] = [
    (
        IdentityClass::CiCd,
        &[
            "deploy",
            "github",
            "gitlab",
            "jenkins",
            "terraform",
            "pipeline",
            "circleci",
            "buildkite",
            "argocd",
            "cicd",
            "ci-",
            "-ci",
            "codebuild",
        ],
    ),
    (
        IdentityClass::Telemetry,
        &[
            "telemetry",
            "monitor",
            "metrics",
            "datadog",
            "prometheus",
            "observab",
            "newrelic",
            "splunk",
            "grafana",
            "logging",
            "log-ship",
            "fluent",
        ],
    ),
    (
        IdentityClass::BatchJob,
        &[
            "batch",
            "etl",
            "cron",
            "nightly",
            "backup",
            "report",
            "scheduler",
        ],
    ),
    (
        IdentityClass::SharedIntegration,
        &[
            "integration",
            "partner",
            "connector",
            "sync",
            "shared",
            "saas",
            "webhook",
            "vendor",
        ],
    ),
    (
        IdentityClass::Agent,
        &["agent", "llm", "bedrock", "copilot", "assistant", "mcp"],
    ),
];

const CI_PROVIDERS: [&str; 4] = [
    "token.actions.githubusercontent.com",
    "gitlab",
    "circleci",
    "bitbucket",
];

/// Fills `class` (and upgrades `kind` to AI agent) where the owners file was silent.
pub fn infer(i: &mut Identity) {
    if i.class_from == Provenance::OwnersFile {
        return;
    }
    let lower = i.name.to_ascii_lowercase();
    let hinted = NAME_HINTS
        .iter()
        .find(|(_, words)| words.iter().any(|w| lower.contains(w)))
        .map(|(c, _)| *c);
    let trusted_ci = i.privileges.trust.as_ref().is_some_and(|t| {
        t.statements.iter().any(|s| {
            s.principals
                .get("Federated")
                .is_some_and(|f| f.iter().any(|p| CI_PROVIDERS.iter().any(|c| p.contains(c))))
        })
    });
    let class = if i.kind == IdentityKind::AiAgent {
        IdentityClass::Agent
    } else if is_admin(&i.privileges) {
        IdentityClass::AdminFacing
    } else if trusted_ci {
        IdentityClass::CiCd
    } else if let Some(c) = hinted {
        c
    } else if i.kind == IdentityKind::WorkloadIdentity {
        IdentityClass::Workload
    } else {
        IdentityClass::Unclassified
    };
    if class == IdentityClass::Agent && i.kind.is_nhi() && i.kind_from != Provenance::OwnersFile {
        i.kind = IdentityKind::AiAgent;
        i.kind_from = Provenance::Inferred;
    }
    i.class = class;
    i.class_from = Provenance::Inferred;
}
