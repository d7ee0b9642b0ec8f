//! Well-known AWS managed policies, for when an inventory references one by ARN without its
//! document (`Privileges::unresolved_policies`).
//!
//! Each entry is the policy's *effective* permissions written as Allow statements with action
//! patterns, close to the published document but simplified (read-only policies are written
//! with cross-service patterns such as `*:Describe*`). Where a read-only pattern would also
//! match a credential- or secret-returning action the policy does not grant, the statement
//! lists it as an exclusion (`not_actions` next to `actions`: an internal form meaning
//! "these patterns, except those"; IAM itself never combines the two in one statement).

use std::collections::BTreeMap;
use std::sync::OnceLock;
use tripline_model::{PolicyDoc, PolicyKind, Statement};

struct KnownStmt {
    actions: &'static [&'static str],
    not_actions: &'static [&'static str],
    resources: &'static [&'static str],
    /// One condition: operator, key, values.
    condition: Option<(&'static str, &'static str, &'static [&'static str])>,
}

const ALL: &[&str] = &["*"];

const fn allow(actions: &'static [&'static str]) -> KnownStmt {
    KnownStmt {
        actions,
        not_actions: &[],
        resources: ALL,
        condition: None,
    }
}

const fn allow_except(
    actions: &'static [&'static str],
    not_actions: &'static [&'static str],
) -> KnownStmt {
    KnownStmt {
        actions,
        not_actions,
        resources: ALL,
        condition: None,
    }
}

const fn allow_on(
    actions: &'static [&'static str],
    resources: &'static [&'static str],
) -> KnownStmt {
    KnownStmt {
        actions,
        not_actions: &[],
        resources,
        condition: None,
    }
}

/// `iam:PassRole` on `resources`, only to the given service principals.
const fn pass_role_to(
    resources: &'static [&'static str],
    services: &'static [&'static str],
) -> KnownStmt {
    KnownStmt {
        actions: &["iam:PassRole"],
        not_actions: &[],
        resources,
        condition: Some(("StringEquals", "iam:PassedToService", services)),
    }
}

/// `iam:CreateServiceLinkedRole`, limited by `iam:AWSServiceName`.
const fn service_linked_role(services: &'static [&'static str]) -> KnownStmt {
    KnownStmt {
        actions: &["iam:CreateServiceLinkedRole"],
        not_actions: &[],
        resources: ALL,
        condition: Some(("StringEquals", "iam:AWSServiceName", services)),
    }
}

/// Read-style actions that return credentials or secret values: excluded from the
/// cross-service read-only patterns below.
const SECRET_READS: &[&str] = &[
    "secretsmanager:GetSecretValue",
    "sts:GetFederationToken",
    "sts:GetSessionToken",
    "sso:GetRoleCredentials",
    "cognito-identity:GetCredentialsForIdentity",
    "cognito-identity:GetOpenIdToken*",
];

const KNOWN: &[(&str, &[KnownStmt])] = &[
    ("AdministratorAccess", &[allow(&["*"])]),
    (
        "PowerUserAccess",
        &[
            KnownStmt {
                actions: &[],
                not_actions: &["iam:*", "organizations:*", "account:*"],
                resources: ALL,
                condition: None,
            },
            allow(&[
                "account:GetAccountInformation",
                "account:GetPrimaryEmail",
                "account:ListRegions",
                "iam:CreateServiceLinkedRole",
                "iam:DeleteServiceLinkedRole",
                "iam:ListRoles",
                "organizations:DescribeOrganization",
            ]),
        ],
    ),
    (
        "IAMFullAccess",
        &[allow(&[
            "iam:*",
            "organizations:DescribeAccount",
            "organizations:DescribeOrganization",
            "organizations:DescribeOrganizationalUnit",
            "organizations:DescribePolicy",
            "organizations:ListChildren",
            "organizations:ListParents",
            "organizations:ListPoliciesForTarget",
            "organizations:ListRoots",
            "organizations:ListPolicies",
            "organizations:ListTargetsForPolicy",
        ])],
    ),
    (
        "IAMReadOnlyAccess",
        &[allow(&[
            "iam:GenerateCredentialReport",
            "iam:GenerateServiceLastAccessedDetails",
            "iam:Get*",
            "iam:List*",
            "iam:SimulateCustomPolicy",
            "iam:SimulatePrincipalPolicy",
        ])],
    ),
    (
        "AmazonS3FullAccess",
        &[allow(&["s3:*", "s3-object-lambda:*"])],
    ),
    (
        "AmazonS3ReadOnlyAccess",
        &[allow(&[
            "s3:Get*",
            "s3:List*",
            "s3:Describe*",
            "s3-object-lambda:Get*",
            "s3-object-lambda:List*",
        ])],
    ),
    (
        "AmazonEC2FullAccess",
        &[
            allow(&[
                "ec2:*",
                "elasticloadbalancing:*",
                "cloudwatch:*",
                "autoscaling:*",
            ]),
            service_linked_role(&[
                "autoscaling.amazonaws.com",
                "ec2scheduled.amazonaws.com",
                "elasticloadbalancing.amazonaws.com",
                "spot.amazonaws.com",
                "spotfleet.amazonaws.com",
                "transitgateway.amazonaws.com",
            ]),
        ],
    ),
    (
        "AmazonEC2ReadOnlyAccess",
        &[allow(&[
            "ec2:Describe*",
            "elasticloadbalancing:Describe*",
            "cloudwatch:ListMetrics",
            "cloudwatch:GetMetricStatistics",
            "cloudwatch:Describe*",
            "autoscaling:Describe*",
        ])],
    ),
    (
        "AWSLambda_FullAccess",
        &[
            allow(&[
                "cloudformation:DescribeStacks",
                "cloudformation:ListStackResources",
                "cloudwatch:ListMetrics",
                "cloudwatch:GetMetricData",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
                "kms:ListAliases",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListAttachedRolePolicies",
                "iam:ListRolePolicies",
                "iam:ListRoles",
                "lambda:*",
                "logs:DescribeLogGroups",
                "states:DescribeStateMachine",
                "states:ListStateMachines",
                "tag:GetResources",
                "xray:GetTraceSummaries",
                "xray:BatchGetTraces",
            ]),
            pass_role_to(ALL, &["lambda.amazonaws.com"]),
            allow_on(
                &[
                    "logs:DescribeLogStreams",
                    "logs:GetLogEvents",
                    "logs:FilterLogEvents",
                ],
                &["arn:aws:logs:*:*:log-group:/aws/lambda/*"],
            ),
        ],
    ),
    (
        // Deprecated, still attached in older accounts: unconditional iam:PassRole.
        "AWSLambdaFullAccess",
        &[allow(&[
            "cloudformation:DescribeChangeSet",
            "cloudformation:DescribeStackResources",
            "cloudformation:DescribeStacks",
            "cloudformation:GetTemplate",
            "cloudformation:ListStackResources",
            "cloudwatch:*",
            "cognito-identity:ListIdentityPools",
            "cognito-sync:GetCognitoEvents",
            "cognito-sync:SetCognitoEvents",
            "dynamodb:*",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "events:*",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:GetRole",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:ListRoles",
            "iam:PassRole",
            "iot:AttachPrincipalPolicy",
            "iot:AttachThingPrincipal",
            "iot:CreateKeysAndCertificate",
            "iot:CreatePolicy",
            "iot:CreateThing",
            "iot:CreateTopicRule",
            "iot:DescribeEndpoint",
            "iot:GetTopicRule",
            "iot:ListPolicies",
            "iot:ListThings",
            "iot:ListTopicRules",
            "iot:ReplaceTopicRule",
            "kinesis:DescribeStream",
            "kinesis:ListStreams",
            "kinesis:PutRecord",
            "kms:ListAliases",
            "lambda:*",
            "logs:*",
            "s3:*",
            "sns:ListSubscriptions",
            "sns:ListSubscriptionsByTopic",
            "sns:ListTopics",
            "sns:Publish",
            "sns:Subscribe",
            "sns:Unsubscribe",
            "sqs:ListQueues",
            "sqs:SendMessage",
            "tag:GetResources",
            "xray:PutTelemetryRecords",
            "xray:PutTraceSegments",
        ])],
    ),
    (
        "AWSLambda_ReadOnlyAccess",
        &[allow(&[
            "lambda:Get*",
            "lambda:List*",
            "cloudformation:DescribeStacks",
            "cloudformation:ListStackResources",
            "cloudwatch:GetMetricData",
            "cloudwatch:ListMetrics",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:GetRole",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:ListRoles",
            "logs:DescribeLogGroups",
            "tag:GetResources",
        ])],
    ),
    (
        "ReadOnlyAccess",
        &[allow_except(
            &[
                "*:Get*",
                "*:List*",
                "*:Describe*",
                "*:BatchGet*",
                "*:View*",
                "*:Search*",
                "*:Lookup*",
            ],
            SECRET_READS,
        )],
    ),
    (
        "ViewOnlyAccess",
        &[allow(&["*:List*", "*:Describe*", "*:View*", "*:Lookup*"])],
    ),
    (
        "SecurityAudit",
        &[allow_except(
            &[
                "*:Describe*",
                "*:List*",
                "*:GetAccount*",
                "*:GetBucket*",
                "*:Get*Policy*",
                "*:Get*Configuration*",
            ],
            SECRET_READS,
        )],
    ),
    (
        "SecretsManagerReadWrite",
        &[
            allow(&[
                "secretsmanager:*",
                "cloudformation:CreateChangeSet",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStackResource",
                "cloudformation:DescribeStacks",
                "cloudformation:ExecuteChangeSet",
                "docdb-elastic:GetCluster",
                "docdb-elastic:ListClusters",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets",
                "ec2:DescribeVpcs",
                "kms:DescribeKey",
                "kms:ListAliases",
                "kms:ListKeys",
                "lambda:ListFunctions",
                "rds:DescribeDBClusters",
                "rds:DescribeDBInstances",
                "redshift:DescribeClusters",
                "tag:GetResources",
            ]),
            allow_on(
                &[
                    "lambda:AddPermission",
                    "lambda:CreateFunction",
                    "lambda:GetFunction",
                    "lambda:InvokeFunction",
                    "lambda:UpdateFunctionConfiguration",
                ],
                &["arn:aws:lambda:*:*:function:SecretsManager*"],
            ),
            allow(&[
                "serverlessrepo:CreateCloudFormationChangeSet",
                "serverlessrepo:GetApplication",
            ]),
            allow_on(
                &["s3:GetObject"],
                &["arn:aws:s3:::awsserverlessrepo-changesets*"],
            ),
        ],
    ),
    (
        "AmazonDynamoDBFullAccess",
        &[
            allow(&["dynamodb:*", "dax:*"]),
            pass_role_to(
                ALL,
                &[
                    "application-autoscaling.amazonaws.com",
                    "application-autoscaling.amazonaws.com.cn",
                    "dax.amazonaws.com",
                ],
            ),
        ],
    ),
    (
        "AmazonSSMFullAccess",
        &[
            allow(&[
                "cloudwatch:PutMetricData",
                "ds:CreateComputer",
                "ds:DescribeDirectories",
                "ec2:DescribeInstanceStatus",
                "logs:*",
                "ssm:*",
                "ec2messages:*",
            ]),
            service_linked_role(&["ssm.amazonaws.com"]),
            pass_role_to(ALL, &["ssm.amazonaws.com"]),
        ],
    ),
    (
        "AmazonSSMManagedInstanceCore",
        &[allow(&[
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
            "ssmmessages:CreateControlChannel",
            "ssmmessages:CreateDataChannel",
            "ssmmessages:OpenControlChannel",
            "ssmmessages:OpenDataChannel",
            "ec2messages:AcknowledgeMessage",
            "ec2messages:DeleteMessage",
            "ec2messages:FailMessage",
            "ec2messages:GetEndpoint",
            "ec2messages:GetMessages",
            "ec2messages:SendReply",
        ])],
    ),
    (
        "AmazonECS_FullAccess",
        &[
            allow(&[
                "ecs:*",
                "application-autoscaling:*",
                "elasticloadbalancing:*",
                "servicediscovery:*",
                "logs:CreateLogGroup",
                "logs:DescribeLogGroups",
                "logs:FilterLogEvents",
                "ec2:Describe*",
            ]),
            pass_role_to(ALL, &["ecs-tasks.amazonaws.com"]),
        ],
    ),
    (
        "AmazonSageMakerFullAccess",
        &[
            allow(&["sagemaker:*"]),
            pass_role_to(ALL, &["sagemaker.amazonaws.com"]),
        ],
    ),
    (
        "AWSGlueConsoleFullAccess",
        &[
            allow(&["glue:*"]),
            pass_role_to(
                &["arn:aws:iam::*:role/AWSGlueServiceRole*"],
                &["glue.amazonaws.com"],
            ),
        ],
    ),
    (
        "AWSCloudFormationFullAccess",
        &[allow(&["cloudformation:*"])],
    ),
    ("AmazonSQSFullAccess", &[allow(&["sqs:*"])]),
    ("AmazonSNSFullAccess", &[allow(&["sns:*"])]),
    ("AmazonKinesisFullAccess", &[allow(&["kinesis:*"])]),
    (
        "CloudWatchFullAccess",
        &[allow(&[
            "autoscaling:Describe*",
            "cloudwatch:*",
            "logs:*",
            "sns:*",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
            "iam:GetRole",
            "oam:ListSinks",
        ])],
    ),
    ("CloudWatchLogsFullAccess", &[allow(&["logs:*"])]),
    (
        "AmazonRDSFullAccess",
        &[
            allow(&[
                "rds:*",
                "application-autoscaling:*",
                "cloudwatch:DescribeAlarms",
                "cloudwatch:GetMetricStatistics",
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "ec2:Describe*",
                "sns:ListSubscriptions",
                "sns:ListTopics",
                "sns:Publish",
                "logs:DescribeLogStreams",
                "logs:GetLogEvents",
            ]),
            allow_on(&["pi:*"], &["arn:aws:pi:*:*:metrics/rds/*"]),
        ],
    ),
    (
        "AWSOrganizationsFullAccess",
        &[
            allow(&["organizations:*", "account:*"]),
            service_linked_role(&["organizations.amazonaws.com"]),
        ],
    ),
];

fn table() -> &'static [PolicyDoc] {
    static DOCS: OnceLock<Vec<PolicyDoc>> = OnceLock::new();
    DOCS.get_or_init(|| {
        KNOWN
            .iter()
            .map(|(name, stmts)| PolicyDoc {
                source: format!("arn:aws:iam::aws:policy/{name}"),
                name: (*name).to_string(),
                kind: PolicyKind::Managed,
                statements: stmts.iter().map(to_statement).collect(),
            })
            .collect()
    })
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_string()).collect()
}

fn to_statement(k: &KnownStmt) -> Statement {
    let mut conditions = BTreeMap::new();
    if let Some((op, key, values)) = k.condition {
        let mut keys = BTreeMap::new();
        keys.insert(key.to_string(), strings(values));
        conditions.insert(op.to_string(), keys);
    }
    Statement {
        sid: None,
        allow: true,
        actions: strings(k.actions),
        not_actions: strings(k.not_actions),
        resources: strings(k.resources),
        not_resources: Vec::new(),
        principals: BTreeMap::new(),
        conditions,
    }
}

/// The effective permissions of a well-known AWS managed policy, by ARN
/// (`arn:aws:iam::aws:policy/[path/]Name`, any partition). `None` for customer-managed or
/// unknown policies.
pub fn known_managed_policy(arn: &str) -> Option<&'static PolicyDoc> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    if !partition.starts_with("aws") {
        return None;
    }
    let path = rest.strip_prefix("iam::aws:policy/")?;
    let name = path.rsplit('/').next()?;
    table().iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Names of the AWS managed policies [`known_managed_policy`] recognises.
pub fn known_managed_policy_names() -> impl Iterator<Item = &'static str> {
    KNOWN.iter().map(|(name, _)| *name)
}
