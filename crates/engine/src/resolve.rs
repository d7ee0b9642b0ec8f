//! Identity resolution: the caller named in a log record becomes an identity id, a kind and the
//! credential it used (DESIGN.md §2).

use tripline_model::{Actor, CredentialKind, IdentityKind, PrincipalType};

/// Who an event is attributed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Principal ARN for IAM users and roles (the role ARN for assumed-role sessions),
    /// `system:serviceaccount:<ns>:<name>` for Kubernetes service accounts.
    pub id: String,
    pub name: String,
    pub kind: IdentityKind,
    pub account: Option<String>,
    /// The credential used for this call: (id, kind). Ids are key ids, never secrets.
    pub credential: Option<(String, CredentialKind)>,
    /// The log itself says a person is behind this call (console, SSO, SAML).
    pub human_evidence: bool,
}

/// `arn:<partition>:sts::<acct>:assumed-role/<role>/<session>` → `arn:<partition>:iam::<acct>:role/<role>`.
pub fn role_arn_from_assumed(arn: &str) -> Option<String> {
    let mut parts = arn.splitn(6, ':');
    let (_, partition, _, _, account, rest) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let rest = rest.strip_prefix("assumed-role/")?;
    let role = rest.split('/').next()?;
    Some(format!("arn:{partition}:iam::{account}:role/{role}"))
}

/// The last path segment of an ARN resource (`…:role/path/Name` → `Name`).
pub fn arn_name(arn: &str) -> &str {
    let resource = arn.rsplit(':').next().unwrap_or(arn);
    resource.rsplit('/').next().unwrap_or(resource)
}

/// Account id from an ARN (`arn:aws:iam::123456789012:user/x` → `123456789012`).
pub fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

fn aws_key(actor: &Actor) -> Option<(String, CredentialKind)> {
    actor
        .access_key_id
        .as_ref()
        .map(|k| (k.clone(), tripline_model::Credential::kind_of_aws_key(k)))
}

/// Resolves the actor of an event, or `None` when the record does not say who called.
pub fn resolve(actor: &Actor, user_agent: Option<&str>) -> Option<Resolved> {
    let ptype = actor.principal_type.unwrap_or(PrincipalType::Unknown);
    let console = user_agent.is_some_and(is_console_agent);
    let account = actor.account_id.clone();
    let r = match ptype {
        PrincipalType::IamUser => {
            let id = actor.arn.clone().or_else(|| {
                Some(format!(
                    "arn:aws:iam::{}:user/{}",
                    actor.account_id.as_deref()?,
                    actor.user_name.as_deref()?
                ))
            })?;
            Resolved {
                name: actor
                    .user_name
                    .clone()
                    .unwrap_or_else(|| arn_name(&id).to_string()),
                account: account.or_else(|| arn_account(&id).map(str::to_string)),
                id,
                kind: IdentityKind::ServiceAccount,
                credential: aws_key(actor),
                // A console session (or an MFA'd session used from the console) is a person.
                human_evidence: console,
            }
        }
        PrincipalType::AssumedRole => {
            let id = actor
                .issuer_arn
                .clone()
                .or_else(|| actor.arn.as_deref().and_then(role_arn_from_assumed))?;
            let name = arn_name(&id).to_string();
            let sso = name.starts_with("AWSReservedSSO_");
            Resolved {
                account: account.or_else(|| arn_account(&id).map(str::to_string)),
                kind: if sso {
                    IdentityKind::Human
                } else {
                    IdentityKind::WorkloadIdentity
                },
                human_evidence: sso
                    || actor
                        .federated_provider
                        .as_deref()
                        .is_some_and(|p| p.contains("saml")),
                credential: aws_key(actor),
                name,
                id,
            }
        }
        PrincipalType::FederatedUser => {
            // GetFederationToken sessions belong to the IAM user that issued them.
            let id = actor.issuer_arn.clone().or_else(|| actor.arn.clone())?;
            Resolved {
                name: arn_name(&id).to_string(),
                account: account.or_else(|| arn_account(&id).map(str::to_string)),
                id,
                kind: IdentityKind::ServiceAccount,
                credential: aws_key(actor),
                human_evidence: console,
            }
        }
        PrincipalType::Root => {
            let acct = actor.account_id.clone().or_else(|| {
                actor
                    .arn
                    .as_deref()
                    .and_then(arn_account)
                    .map(str::to_string)
            })?;
            Resolved {
                id: format!("arn:aws:iam::{acct}:root"),
                name: "root".into(),
                kind: IdentityKind::Root,
                account: Some(acct),
                credential: aws_key(actor),
                human_evidence: console,
            }
        }
        PrincipalType::AwsService => {
            let svc = actor
                .invoked_by
                .clone()
                .or_else(|| actor.principal_id.clone())?;
            Resolved {
                id: format!("service:{svc}"),
                name: svc,
                kind: IdentityKind::CloudService,
                account,
                credential: None,
                human_evidence: false,
            }
        }
        PrincipalType::AwsAccount => {
            let acct = actor.account_id.clone()?;
            Resolved {
                id: format!("arn:aws:iam::{acct}:root"),
                name: format!("account {acct}"),
                kind: IdentityKind::WorkloadIdentity,
                account: Some(acct),
                credential: aws_key(actor),
                human_evidence: false,
            }
        }
        PrincipalType::WebIdentityUser => {
            let provider = actor
                .federated_provider
                .clone()
                .or_else(|| actor.principal_id.clone())?;
            let user = actor.user_name.clone().unwrap_or_default();
            Resolved {
                id: format!("webidentity:{provider}/{user}"),
                name: user,
                kind: IdentityKind::WorkloadIdentity,
                account,
                credential: None,
                human_evidence: false,
            }
        }
        PrincipalType::SamlUser | PrincipalType::IdentityCenterUser => {
            let id = actor
                .arn
                .clone()
                .or_else(|| actor.user_name.clone())
                .or_else(|| actor.principal_id.clone())?;
            Resolved {
                name: actor.user_name.clone().unwrap_or_else(|| id.clone()),
                id,
                kind: IdentityKind::Human,
                account,
                credential: aws_key(actor),
                human_evidence: true,
            }
        }
        PrincipalType::K8sServiceAccount => {
            let username = actor.arn.clone()?;
            let name = username.rsplit(':').next().unwrap_or(&username).to_string();
            let token = actor
                .principal_id
                .clone()
                .unwrap_or_else(|| format!("token:{username}"));
            Resolved {
                id: username,
                name,
                kind: IdentityKind::ServiceAccount,
                account: None,
                credential: Some((token, CredentialKind::K8sToken)),
                human_evidence: false,
            }
        }
        PrincipalType::K8sNode => {
            let username = actor.arn.clone()?;
            Resolved {
                name: username.trim_start_matches("system:node:").to_string(),
                id: username,
                kind: IdentityKind::WorkloadIdentity,
                account: None,
                credential: None,
                human_evidence: false,
            }
        }
        PrincipalType::K8sUser | PrincipalType::K8sAnonymous => {
            let username = actor.arn.clone()?;
            // Control-plane components authenticate as `system:…` or `eks:…` users.
            let component = username.starts_with("system:") && ptype == PrincipalType::K8sUser
                || username.starts_with("eks:");
            Resolved {
                name: username.clone(),
                id: username,
                kind: if component {
                    IdentityKind::CloudService
                } else if ptype == PrincipalType::K8sAnonymous {
                    // Nobody in particular: whoever reaches the API server without a
                    // credential. Scored like a key anyone holds, so that an allowed anonymous
                    // request surfaces instead of hiding among people.
                    IdentityKind::ApiKey
                } else {
                    IdentityKind::Human
                },
                account: None,
                credential: None,
                human_evidence: !component && ptype == PrincipalType::K8sUser,
            }
        }
        PrincipalType::Unknown => {
            let id = actor.arn.clone()?;
            Resolved {
                name: arn_name(&id).to_string(),
                account: account.or_else(|| arn_account(&id).map(str::to_string)),
                id,
                kind: IdentityKind::ApiKey,
                credential: aws_key(actor),
                human_evidence: false,
            }
        }
    };
    Some(r)
}

/// The AWS console (and its per-service consoles) calls with these user agents.
pub fn is_console_agent(ua: &str) -> bool {
    ua.starts_with("console.") && ua.ends_with(".amazonaws.com")
        || ua == "signin.amazonaws.com"
        || ua == "AWS Internal"
        || ua.starts_with("Mozilla/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anonymous_kubernetes_callers_are_scored_not_hidden_among_people() {
        let actor = |ptype, name: &str| Actor {
            principal_type: Some(ptype),
            arn: Some(name.to_string()),
            ..Actor::default()
        };
        let anon = resolve(
            &actor(PrincipalType::K8sAnonymous, "system:anonymous"),
            None,
        );
        assert_eq!(anon.map(|r| r.kind), Some(IdentityKind::ApiKey));
        let person = resolve(&actor(PrincipalType::K8sUser, "alice@example.com"), None);
        assert_eq!(person.map(|r| r.kind), Some(IdentityKind::Human));
    }

    #[test]
    fn assumed_role_arns_map_to_the_role() {
        assert_eq!(
            role_arn_from_assumed("arn:aws:sts::123456789012:assumed-role/Deployer/i-0abc")
                .as_deref(),
            Some("arn:aws:iam::123456789012:role/Deployer")
        );
        assert_eq!(
            role_arn_from_assumed("arn:aws-us-gov:sts::1:assumed-role/R/s").as_deref(),
            Some("arn:aws-us-gov:iam::1:role/R")
        );
        assert_eq!(role_arn_from_assumed("arn:aws:iam::1:user/x"), None);
        assert_eq!(arn_name("arn:aws:iam::1:role/path/to/Name"), "Name");
    }

    #[test]
    fn a_session_resolves_to_its_role_and_keeps_the_session_key() {
        let actor = Actor {
            principal_type: Some(PrincipalType::AssumedRole),
            arn: Some("arn:aws:sts::1:assumed-role/App/i-1".into()),
            access_key_id: Some("ASIAEXAMPLE".into()),
            ..Actor::default()
        };
        let r = resolve(&actor, Some("aws-sdk-go")).unwrap();
        assert_eq!(r.id, "arn:aws:iam::1:role/App");
        assert_eq!(r.kind, IdentityKind::WorkloadIdentity);
        assert_eq!(
            r.credential,
            Some(("ASIAEXAMPLE".into(), CredentialKind::SessionToken))
        );
        assert!(resolve(&Actor::default(), None).is_none());
    }
}
