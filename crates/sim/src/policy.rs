//! IAM policy statements for the simulated identities: what they are granted (written to the
//! inventory) and, from the same statements, whether a call they make is allowed.

use crate::catalog;
use crate::org::{Activity, Ident, Org, Resources};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub(crate) struct Stmt {
    pub sid: Option<String>,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub resources: Vec<String>,
}

impl Stmt {
    fn allow(actions: &[&str], resources: &[&str]) -> Self {
        Self {
            sid: None,
            actions: actions.iter().map(|s| s.to_string()).collect(),
            not_actions: Vec::new(),
            resources: resources.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub(crate) fn grants(&self, perm: &str) -> bool {
        if !self.not_actions.is_empty() {
            return !self.not_actions.iter().any(|a| glob(a, perm));
        }
        self.actions.iter().any(|a| glob(a, perm))
    }
}

/// Case-insensitive IAM wildcard match (`*`, `?`).
pub(crate) fn glob(pattern: &str, s: &str) -> bool {
    tripline_model::glob::matches(pattern, s)
}

/// ARN and path of an AWS managed policy.
pub(crate) fn managed_arn(name: &str) -> String {
    match name {
        "AWSLambdaBasicExecutionRole" => format!("arn:aws:iam::aws:policy/service-role/{name}"),
        _ => format!("arn:aws:iam::aws:policy/{name}"),
    }
}

pub(crate) fn managed_path(name: &str) -> &'static str {
    match name {
        "AWSLambdaBasicExecutionRole" => "/service-role/",
        _ => "/",
    }
}

/// The statements of the AWS managed policies the simulator attaches (abridged to the services
/// the simulated organisation uses, same shape as the real documents).
pub(crate) fn managed(name: &str) -> Vec<Stmt> {
    match name {
        "AdministratorAccess" => vec![Stmt::allow(&["*"], &["*"])],
        "PowerUserAccess" => vec![
            Stmt {
                sid: None,
                actions: Vec::new(),
                not_actions: vec!["iam:*".into(), "organizations:*".into(), "account:*".into()],
                resources: vec!["*".into()],
            },
            Stmt::allow(
                &[
                    "account:GetAccountInformation",
                    "account:ListRegions",
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                ],
                &["*"],
            ),
        ],
        "ReadOnlyAccess" => vec![Stmt::allow(
            &[
                "athena:Get*",
                "athena:List*",
                "autoscaling:Describe*",
                "cloudformation:Describe*",
                "cloudformation:Get*",
                "cloudformation:List*",
                "cloudtrail:Describe*",
                "cloudtrail:Get*",
                "cloudtrail:LookupEvents",
                "cloudwatch:Describe*",
                "cloudwatch:Get*",
                "cloudwatch:List*",
                "config:Describe*",
                "dynamodb:Describe*",
                "dynamodb:List*",
                "ec2:Describe*",
                "ec2:Get*",
                "ecr:Describe*",
                "ecr:List*",
                "ecs:Describe*",
                "ecs:List*",
                "eks:Describe*",
                "eks:List*",
                "elasticloadbalancing:Describe*",
                "glue:Get*",
                "guardduty:Get*",
                "guardduty:List*",
                "health:Describe*",
                "iam:Get*",
                "iam:List*",
                "kms:Describe*",
                "kms:List*",
                "lambda:Get*",
                "lambda:List*",
                "logs:Describe*",
                "logs:FilterLogEvents",
                "logs:Get*",
                "organizations:Describe*",
                "organizations:List*",
                "rds:Describe*",
                "route53:Get*",
                "route53:List*",
                "s3:Get*",
                "s3:List*",
                "secretsmanager:Describe*",
                "secretsmanager:List*",
                "sns:Get*",
                "sns:List*",
                "sqs:Get*",
                "sqs:List*",
                "ssm:Describe*",
                "ssm:Get*",
                "ssm:List*",
                "tag:Get*",
            ],
            &["*"],
        )],
        "IAMFullAccess" => vec![Stmt::allow(
            &[
                "iam:*",
                "organizations:DescribeAccount",
                "organizations:DescribeOrganization",
                "organizations:ListRoots",
                "organizations:ListPolicies",
            ],
            &["*"],
        )],
        "AmazonS3FullAccess" => vec![Stmt::allow(&["s3:*", "s3-object-lambda:*"], &["*"])],
        "AmazonS3ReadOnlyAccess" => vec![Stmt::allow(
            &[
                "s3:Get*",
                "s3:List*",
                "s3:Describe*",
                "s3-object-lambda:Get*",
                "s3-object-lambda:List*",
            ],
            &["*"],
        )],
        "CloudWatchAgentServerPolicy" => vec![
            Stmt {
                sid: Some("CWACloudWatchServerPermissions".into()),
                ..Stmt::allow(
                    &[
                        "cloudwatch:PutMetricData",
                        "ec2:DescribeVolumes",
                        "ec2:DescribeTags",
                        "logs:PutLogEvents",
                        "logs:PutRetentionPolicy",
                        "logs:DescribeLogStreams",
                        "logs:DescribeLogGroups",
                        "logs:CreateLogStream",
                        "logs:CreateLogGroup",
                        "xray:PutTraceSegments",
                        "xray:PutTelemetryRecords",
                    ],
                    &["*"],
                )
            },
            Stmt {
                sid: Some("CWASSMServerPermissions".into()),
                ..Stmt::allow(
                    &["ssm:GetParameter"],
                    &["arn:aws:ssm:*:*:parameter/AmazonCloudWatch-*"],
                )
            },
        ],
        "AmazonSSMManagedInstanceCore" => vec![
            Stmt::allow(
                &[
                    "ssm:DescribeAssociation",
                    "ssm:GetDeployablePatchSnapshotForInstance",
                    "ssm:GetDocument",
                    "ssm:DescribeDocument",
                    "ssm:GetManifest",
                    "ssm:GetParameter",
                    "ssm:GetParameters",
                    "ssm:ListAssociations",
                    "ssm:ListInstanceAssociations",
                    "ssm:PutInventory",
                    "ssm:PutComplianceItems",
                    "ssm:PutConfigurePackageResult",
                    "ssm:UpdateAssociationStatus",
                    "ssm:UpdateInstanceAssociationStatus",
                    "ssm:UpdateInstanceInformation",
                ],
                &["*"],
            ),
            Stmt::allow(
                &[
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                &["*"],
            ),
            Stmt::allow(
                &[
                    "ec2messages:AcknowledgeMessage",
                    "ec2messages:DeleteMessage",
                    "ec2messages:FailMessage",
                    "ec2messages:GetEndpoint",
                    "ec2messages:GetMessages",
                    "ec2messages:SendReply",
                ],
                &["*"],
            ),
        ],
        "AWSLambdaBasicExecutionRole" => vec![Stmt::allow(
            &[
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            ],
            &["*"],
        )],
        _ => Vec::new(),
    }
}

/// Inline policy of an IAM group.
pub(crate) fn group(name: &str) -> Vec<Stmt> {
    match name {
        "deployers" => vec![Stmt::allow(
            &[
                "cloudformation:*",
                "ecs:*",
                "ecr:*",
                "iam:Get*",
                "iam:List*",
                "ec2:Describe*",
                "s3:GetBucket*",
                "kms:DescribeKey",
            ],
            &["*"],
        )],
        "integrations" => vec![Stmt::allow(
            &["s3:GetBucketLocation", "kms:DescribeKey"],
            &["*"],
        )],
        _ => Vec::new(),
    }
}

fn resource_arns(org: &Org, id: &Ident, svc: &str) -> Vec<String> {
    let acct = org.account(id.acct).map_or("*", |a| a.id.as_str());
    let r: &Resources = &id.res;
    let v: Vec<String> = match svc {
        "s3" => r
            .buckets
            .iter()
            .flat_map(|b| [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")])
            .collect(),
        "dynamodb" => r
            .tables
            .iter()
            .map(|t| format!("arn:aws:dynamodb:*:{acct}:table/{t}"))
            .collect(),
        "sqs" => r
            .queues
            .iter()
            .map(|q| format!("arn:aws:sqs:*:{acct}:{q}"))
            .collect(),
        "sns" => r
            .topics
            .iter()
            .map(|t| format!("arn:aws:sns:*:{acct}:{t}"))
            .collect(),
        "lambda" => r
            .functions
            .iter()
            .map(|f| format!("arn:aws:lambda:*:{acct}:function:{f}"))
            .collect(),
        "secretsmanager" => r
            .secrets
            .iter()
            .map(|s| format!("arn:aws:secretsmanager:*:{acct}:secret:{s}-*"))
            .collect(),
        "kms" if !r.kms_key.is_empty() => vec![format!("arn:aws:kms:*:{acct}:key/{}", r.kms_key)],
        "logs" if !r.log_group.is_empty() => {
            vec![format!("arn:aws:logs:*:{acct}:log-group:{}:*", r.log_group)]
        }
        "ssm" if !r.params.is_empty() => r
            .params
            .iter()
            .map(|p| format!("arn:aws:ssm:*:{acct}:parameter{p}"))
            .collect(),
        "bedrock" if !r.models.is_empty() => r
            .models
            .iter()
            .map(|m| format!("arn:aws:bedrock:*::foundation-model/{m}"))
            .collect(),
        "cloudformation" if !r.stacks.is_empty() => r
            .stacks
            .iter()
            .map(|s| format!("arn:aws:cloudformation:*:{acct}:stack/{s}/*"))
            .collect(),
        _ => Vec::new(),
    };
    if v.is_empty() {
        vec!["*".into()]
    } else {
        v
    }
}

/// Permissions an identity's own behaviour needs, as written into its policy.
pub(crate) fn own(org: &Org, id: &Ident) -> Vec<Stmt> {
    let mut by_svc: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut add = |act: u16| {
        if let Some(a) = catalog::get(act) {
            if a.perm.starts_with("sts:") || id.policy.denied.contains(&a.perm) {
                return;
            }
            let svc = a.perm.split(':').next().unwrap_or("").to_string();
            let list = by_svc.entry(svc).or_default();
            if !list.iter().any(|p| p == a.perm) {
                list.push(a.perm.to_string());
            }
        }
    };
    if id.is_k8s() {
        return Vec::new();
    }
    for act in &id.acts {
        match act {
            Activity::Background { vocab, .. } => vocab.acts.iter().for_each(|a| add(*a)),
            Activity::Heartbeat { act, .. } => add(*act),
            Activity::Episodes { steps, .. } => steps.iter().for_each(|s| add(s.act)),
        }
    }
    let mut out = Vec::new();
    for (svc, mut perms) in by_svc {
        perms.sort();
        let res_svc = if svc == "cloudwatch" {
            "monitoring"
        } else {
            svc.as_str()
        };
        let listing = perms
            .iter()
            .all(|p| p.contains(":List") || p.contains(":Describe") || p.contains(":Get"));
        let resources = if listing && svc != "s3" && svc != "dynamodb" {
            vec!["*".to_string()]
        } else {
            resource_arns(org, id, res_svc)
        };
        let sid: String = svc
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next().map_or_else(String::new, |f| {
                    f.to_ascii_uppercase().to_string() + c.as_str()
                })
            })
            .collect();
        out.push(Stmt {
            sid: Some(format!("{sid}Access")),
            actions: perms,
            not_actions: Vec::new(),
            resources,
        });
    }
    for g in &id.policy.extra {
        out.push(Stmt {
            sid: None,
            actions: g.actions.clone(),
            not_actions: Vec::new(),
            resources: g.resources.clone(),
        });
    }
    out
}

/// Whether the identity's policies allow `perm` (resource scoping ignored).
pub(crate) fn allowed(org: &Org, id: &Ident, perm: &str) -> bool {
    if perm == "sts:GetCallerIdentity" {
        return true;
    }
    if id.policy.denied.contains(&perm) {
        return false;
    }
    let managed_ok = id
        .policy
        .managed
        .iter()
        .any(|m| managed(m).iter().any(|s| s.grants(perm)));
    let group_ok = id
        .policy
        .groups
        .iter()
        .any(|g| group(g).iter().any(|s| s.grants(perm)));
    managed_ok || group_ok || own(org, id).iter().any(|s| s.grants(perm))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("s3:*", "s3:GetObject"));
        assert!(glob("iam:list*", "iam:ListRoles"));
        assert!(glob("*", "ec2:RunInstances"));
        assert!(!glob("iam:Get*", "iam:CreateUser"));
        assert!(glob("ec2:Describe?nstances", "ec2:DescribeInstances"));
    }

    #[test]
    fn not_action_statements_exclude() {
        let s = managed("PowerUserAccess");
        assert!(s.iter().any(|s| s.grants("ec2:RunInstances")));
        assert!(!s.iter().any(|s| s.grants("iam:CreateUser")));
    }
}
