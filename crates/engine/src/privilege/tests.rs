use super::*;
use tripline_model::{PolicyDoc, PolicyKind, Statement};

fn stmt(allow: bool, actions: &[&str], resources: &[&str]) -> Statement {
    Statement {
        allow,
        actions: actions.iter().map(|s| s.to_string()).collect(),
        resources: resources.iter().map(|s| s.to_string()).collect(),
        ..Statement::default()
    }
}

fn allow(actions: &[&str]) -> Statement {
    stmt(true, actions, &["*"])
}

fn deny(actions: &[&str]) -> Statement {
    stmt(false, actions, &["*"])
}

fn not_action(allow: bool, not_actions: &[&str]) -> Statement {
    Statement {
        allow,
        not_actions: not_actions.iter().map(|s| s.to_string()).collect(),
        resources: vec!["*".into()],
        ..Statement::default()
    }
}

fn with_condition(mut s: Statement, op: &str, key: &str, values: &[&str]) -> Statement {
    s.conditions.entry(op.to_string()).or_default().insert(
        key.to_string(),
        values.iter().map(|v| v.to_string()).collect(),
    );
    s
}

fn doc(source: &str, kind: PolicyKind, statements: Vec<Statement>) -> PolicyDoc {
    PolicyDoc {
        source: source.to_string(),
        name: source.rsplit('/').next().unwrap_or(source).to_string(),
        kind,
        statements,
    }
}

/// A user with one inline policy.
fn user(statements: Vec<Statement>) -> Privileges {
    Privileges {
        policies: vec![doc(
            "inline:arn:aws:iam::111111111111:user/u/p",
            PolicyKind::Inline,
            statements,
        )],
        ..Privileges::default()
    }
}

/// A role (it has a trust policy) with one inline policy.
fn role(statements: Vec<Statement>) -> Privileges {
    let mut p = user(statements);
    p.trust = Some(trust_doc(vec![service_trust("ec2.amazonaws.com")]));
    p
}

fn service_trust(service: &str) -> Statement {
    let mut s = stmt(true, &["sts:AssumeRole"], &[]);
    s.principals
        .insert("Service".into(), vec![service.to_string()]);
    s
}

fn trust_doc(statements: Vec<Statement>) -> PolicyDoc {
    doc(
        "trust:arn:aws:iam::111111111111:role/r",
        PolicyKind::Trust,
        statements,
    )
}

fn path_names(f: &PrivilegeFindings) -> Vec<&'static str> {
    f.escalation_paths.iter().map(|p| p.name).collect()
}

fn has_path(p: &Privileges, name: &str) -> bool {
    analyse(p).escalation_paths.iter().any(|e| e.name == name)
}

const ADMIN_ARN: &str = "arn:aws:iam::aws:policy/AdministratorAccess";

#[test]
fn empty_privileges_are_unknown() {
    let f = analyse(&Privileges::default());
    assert!(!f.known);
    assert!(!f.admin);
    assert!(f.escalation_paths.is_empty() && f.granted_services.is_empty());
}

#[test]
fn admin_from_star_and_from_known_arn() {
    let f = analyse(&user(vec![allow(&["*"])]));
    assert!(f.admin && f.known);
    assert_eq!(
        f.admin_sources,
        vec!["inline:arn:aws:iam::111111111111:user/u/p"]
    );
    assert_eq!(f.wildcard_services, vec!["*"]);
    assert!(f.wildcard_exceptions.is_empty());
    assert_eq!(f.granted_services, vec!["*"]);

    // `*:*` counts as `*`.
    assert!(analyse(&user(vec![allow(&["*:*"])])).admin);

    let p = Privileges {
        unresolved_policies: vec![
            ADMIN_ARN.into(),
            "arn:aws:iam::111111111111:policy/Gone".into(),
        ],
        ..Privileges::default()
    };
    let f = analyse(&p);
    assert!(f.admin && f.known);
    assert_eq!(f.admin_sources, vec![ADMIN_ARN]);
    assert_eq!(
        f.unrecognized_policies,
        vec!["arn:aws:iam::111111111111:policy/Gone"]
    );
    // Other partitions and paths.
    assert!(known_managed_policy("arn:aws-us-gov:iam::aws:policy/AdministratorAccess").is_some());
    assert!(known_managed_policy("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess").is_some());
    assert!(known_managed_policy("arn:aws:iam::123456789012:policy/AdministratorAccess").is_none());
}

#[test]
fn matching_is_case_insensitive_with_wildcards() {
    let p = user(vec![allow(&["iam:Create*", "s3:Get*Object"])]);
    assert!(allows(&p, "IAM:CREATEPOLICYVERSION"));
    assert!(allows(&p, "iam:createaccesskey"));
    assert!(allows(&p, "s3:GetObject"));
    assert!(allows(&p, "s3:GetLegacyObject"));
    assert!(!allows(&p, "s3:GetObjectAcl"));
    assert!(!allows(&p, "iam:DeleteUser"));
    let p = user(vec![allow(&["s3:?etObject"])]);
    assert!(allows(&p, "s3:GetObject") && !allows(&p, "s3:GetObjects"));
    let f = analyse(&user(vec![allow(&["iam:Create*", "s3:Get*Object"])]));
    assert!(path_names(&f).contains(&"create_policy_version"));
    assert_eq!(f.granted_services, vec!["iam", "s3"]);
    assert!(f.wildcard_services.is_empty());
}

#[test]
fn deny_overrides_allow() {
    let p = user(vec![
        allow(&["iam:*"]),
        deny(&["iam:CreateAccessKey", "iam:Put*"]),
    ]);
    assert!(!allows(&p, "iam:CreateAccessKey"));
    assert!(!allows(&p, "iam:PutUserPolicy"));
    assert!(allows(&p, "iam:AttachUserPolicy"));
    let f = analyse(&p);
    let names = path_names(&f);
    assert!(!names.contains(&"create_access_key"));
    assert!(!names.contains(&"put_user_policy"));
    assert!(names.contains(&"attach_user_policy"));
    // Denied pieces make `iam:*` no longer a service wildcard.
    assert!(f.wildcard_services.is_empty());
    assert_eq!(f.granted_services, vec!["iam"]);

    // Deny of the whole service removes it from the granted services.
    let f = analyse(&user(vec![
        allow(&["iam:PassRole", "s3:GetObject"]),
        deny(&["iam:*"]),
    ]));
    assert_eq!(f.granted_services, vec!["s3"]);

    // Deny in another policy (a group's) also applies.
    let mut p = user(vec![allow(&["*"])]);
    p.policies.push(doc(
        "inline:arn:aws:iam::111111111111:group/g/deny",
        PolicyKind::Group,
        vec![deny(&["iam:*"])],
    ));
    let f = analyse(&p);
    assert!(!f.admin);
    assert!(!allows(&p, "iam:PassRole") && allows(&p, "ec2:RunInstances"));
    assert_eq!(f.wildcard_services, vec!["*"]);
    assert_eq!(f.wildcard_exceptions, vec!["iam:*"]);
    assert!(!path_names(&f).contains(&"pass_role_ec2"));
    assert!(path_names(&f).contains(&"ssm_send_command"));
}

#[test]
fn conditional_or_resource_scoped_deny_removes_nothing() {
    let cond_deny = with_condition(
        deny(&["iam:CreateAccessKey"]),
        "Bool",
        "aws:MultiFactorAuthPresent",
        &["false"],
    );
    let p = user(vec![allow(&["iam:CreateAccessKey"]), cond_deny]);
    assert!(allows(&p, "iam:CreateAccessKey"));
    assert!(has_path(&p, "create_access_key"));

    let scoped = stmt(
        false,
        &["iam:CreateAccessKey"],
        &["arn:aws:iam::1:user/admin"],
    );
    let p = user(vec![allow(&["iam:CreateAccessKey"]), scoped]);
    assert!(allows(&p, "iam:CreateAccessKey"));
    // A Deny on some resources keeps admin (it is not `*` on `*` only when the Deny is on `*`).
    let scoped = stmt(false, &["s3:DeleteBucket"], &["arn:aws:s3:::prod"]);
    assert!(analyse(&user(vec![allow(&["*"]), scoped])).admin);
    // An unconditional Deny on `*` of anything takes admin away.
    assert!(!analyse(&user(vec![allow(&["*"]), deny(&["s3:DeleteBucket"])])).admin);
}

#[test]
fn not_action_everything_but_iam_is_not_admin() {
    let p = user(vec![not_action(true, &["iam:*"])]);
    let f = analyse(&p);
    assert!(!f.admin && !f.admin_conditional);
    assert_eq!(f.wildcard_services, vec!["*"]);
    assert_eq!(f.wildcard_exceptions, vec!["iam:*"]);
    assert_eq!(f.granted_services, vec!["*"]);
    assert!(allows(&p, "s3:DeleteBucket") && allows(&p, "ec2:RunInstances"));
    assert!(!allows(&p, "iam:PassRole") && !allows(&p, "IAM:AttachUserPolicy"));
    let names = path_names(&f);
    assert!(
        !names.iter().any(|n| n.starts_with("pass_role")),
        "{names:?}"
    );
    assert!(!names.contains(&"attach_user_policy"));
    for n in [
        "lambda_update_function_code",
        "ssm_send_command",
        "assume_any_role",
    ] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    // A positive grant of iam:* fills the hole.
    let f = analyse(&user(vec![not_action(true, &["iam:*"]), allow(&["iam:*"])]));
    assert!(f.wildcard_exceptions.is_empty());
    assert!(!f.admin, "two statements are not one `*`");
    assert!(path_names(&f).contains(&"pass_role_ec2"));

    // AWS PowerUserAccess by ARN behaves the same.
    let p = Privileges {
        unresolved_policies: vec!["arn:aws:iam::aws:policy/PowerUserAccess".into()],
        ..Privileges::default()
    };
    let f = analyse(&p);
    assert!(!f.admin);
    assert_eq!(f.wildcard_services, vec!["*"]);
    assert!(f.wildcard_exceptions.contains(&"iam:*".to_string()));
    assert!(allows(&p, "iam:CreateServiceLinkedRole") && !allows(&p, "iam:PassRole"));
    assert!(!has_path(&p, "pass_role_lambda"));
}

#[test]
fn not_resource_and_deny_not_action() {
    let s = Statement {
        allow: true,
        actions: vec!["iam:CreateAccessKey".into()],
        not_resources: vec!["arn:aws:iam::1:user/admin".into()],
        ..Statement::default()
    };
    let p = user(vec![s]);
    assert!(allows(&p, "iam:CreateAccessKey"));
    assert!(has_path(&p, "create_access_key"));

    // Deny everything except s3.
    let p = user(vec![allow(&["*"]), not_action(false, &["s3:*"])]);
    assert!(allows(&p, "s3:GetObject"));
    assert!(!allows(&p, "iam:PassRole"));
    let f = analyse(&p);
    assert!(!f.admin);
    assert!(f.escalation_paths.is_empty(), "{:?}", path_names(&f));
    assert!(!f.wildcard_services.contains(&"*".to_string()));
}

#[test]
fn boundary_limits_grants() {
    let mut p = user(vec![allow(&["*"])]);
    p.permissions_boundary = Some(doc(
        "arn:aws:iam::111111111111:policy/Boundary",
        PolicyKind::Boundary,
        vec![allow(&["s3:*", "lambda:InvokeFunction"])],
    ));
    let f = analyse(&p);
    assert!(!f.admin);
    assert!(allows(&p, "s3:GetObject") && allows(&p, "lambda:InvokeFunction"));
    assert!(!allows(&p, "iam:PassRole") && !allows(&p, "lambda:CreateFunction"));
    assert!(f.escalation_paths.is_empty(), "{:?}", path_names(&f));
    assert_eq!(f.wildcard_services, vec!["s3"]);
    assert_eq!(f.granted_services, vec!["lambda", "s3"]);

    // The boundary grants nothing the identity policies do not.
    let mut p = user(vec![allow(&["s3:GetObject"])]);
    p.permissions_boundary = Some(doc("b", PolicyKind::Boundary, vec![allow(&["*"])]));
    let f = analyse(&p);
    assert!(!f.admin && !allows(&p, "iam:PassRole"));
    assert_eq!(f.granted_services, vec!["s3"]);

    // An AdministratorAccess *boundary* (unresolved, prefixed) is not a grant.
    let p = Privileges {
        policies: user(vec![allow(&["s3:GetObject"])]).policies,
        unresolved_policies: vec![format!("boundary:{ADMIN_ARN}")],
        ..Privileges::default()
    };
    let f = analyse(&p);
    assert!(!f.admin && f.unrecognized_policies.is_empty());
    assert_eq!(f.granted_services, vec!["s3"]);

    // A known boundary by ARN applies: PowerUserAccess boundary on an admin.
    let p = Privileges {
        unresolved_policies: vec![
            ADMIN_ARN.into(),
            "boundary:arn:aws:iam::aws:policy/PowerUserAccess".into(),
        ],
        ..Privileges::default()
    };
    let f = analyse(&p);
    assert!(!f.admin);
    assert!(!allows(&p, "iam:AttachUserPolicy"));
    assert!(f.wildcard_services.contains(&"*".to_string()));

    // An unknown boundary is ignored (conservative) and reported.
    let p = Privileges {
        unresolved_policies: vec![
            ADMIN_ARN.into(),
            "boundary:arn:aws:iam::111111111111:policy/Gone".into(),
        ],
        ..Privileges::default()
    };
    let f = analyse(&p);
    assert!(f.admin);
    assert_eq!(
        f.unrecognized_policies,
        vec!["boundary:arn:aws:iam::111111111111:policy/Gone"]
    );

    // A conditional `*` in the boundary makes admin conditional.
    let mut p = user(vec![allow(&["*"])]);
    p.permissions_boundary = Some(doc(
        "b",
        PolicyKind::Boundary,
        vec![with_condition(
            allow(&["*"]),
            "StringEquals",
            "aws:RequestedRegion",
            &["eu-west-1"],
        )],
    ));
    let f = analyse(&p);
    assert!(!f.admin && f.admin_conditional);
}

#[test]
fn conditional_star_is_not_admin() {
    let s = with_condition(
        allow(&["*"]),
        "Bool",
        "aws:MultiFactorAuthPresent",
        &["true"],
    );
    let p = user(vec![s]);
    let f = analyse(&p);
    assert!(!f.admin);
    assert!(f.admin_conditional);
    assert!(f.admin_sources.is_empty());
    assert!(allows(&p, "iam:AttachUserPolicy"));
    assert!(!allows_unconditionally(&p, "iam:AttachUserPolicy"));
    // MFA required outright: no non-human caller can meet it, so it is no path at all.
    assert!(
        !f.escalation_paths
            .iter()
            .any(|e| e.name == "attach_user_policy"),
        "{:?}",
        f.escalation_paths
    );
    // A condition a workload can meet (its network) still leaves a path, marked conditional
    // and weaker than an open one.
    let s = with_condition(allow(&["*"]), "IpAddress", "aws:SourceIp", &["10.0.0.0/8"]);
    let f = analyse(&user(vec![s]));
    let e = f
        .escalation_paths
        .iter()
        .find(|e| e.name == "attach_user_policy")
        .expect("path");
    assert!(e.conditional);
    assert_eq!(e.severity(), tripline_model::Severity::Low);
    // An unconditional grant next to it is not conditional.
    let s = with_condition(
        allow(&["*"]),
        "Bool",
        "aws:MultiFactorAuthPresent",
        &["true"],
    );
    let f = analyse(&user(vec![s, allow(&["iam:AttachUserPolicy"])]));
    let e = f
        .escalation_paths
        .iter()
        .find(|e| e.name == "attach_user_policy")
        .expect("path");
    assert!(!e.conditional);
    assert!(!f.admin);
}

#[test]
fn escalation_strength_separates_one_step_chains_and_limited_resources() {
    let strength = |stmts: Vec<Statement>, path: &str| {
        analyse(&user(stmts))
            .escalation_paths
            .iter()
            .find(|e| e.name == path)
            .map(|e| e.severity())
    };
    use tripline_model::Severity::{High, Low, Medium};
    assert_eq!(
        strength(
            vec![allow(&["iam:CreatePolicyVersion"])],
            "create_policy_version"
        ),
        Some(High)
    );
    assert_eq!(
        strength(
            vec![allow(&[
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:InvokeFunction"
            ])],
            "pass_role_lambda"
        ),
        Some(Medium)
    );
    let mut one_policy = allow(&["iam:CreatePolicyVersion"]);
    one_policy.resources = vec!["arn:aws:iam::111122223333:policy/unattached-reporting".into()];
    assert_eq!(
        strength(vec![one_policy], "create_policy_version"),
        Some(Low)
    );
}

/// (path, principal is a role, granting statements, near-miss statements)
fn path_cases() -> Vec<(&'static str, bool, Vec<Statement>, Vec<Statement>)> {
    let self_only = &["arn:aws:iam::*:user/${aws:username}"];
    let pass_to = |service: &str| {
        with_condition(
            allow(&["iam:PassRole"]),
            "StringEquals",
            "iam:PassedToService",
            &[service],
        )
    };
    vec![
        (
            "create_policy_version",
            false,
            vec![allow(&["iam:CreatePolicyVersion"])],
            vec![allow(&["iam:GetPolicyVersion", "iam:ListPolicyVersions"])],
        ),
        (
            "set_default_policy_version",
            false,
            vec![allow(&["iam:SetDefaultPolicyVersion"])],
            vec![allow(&["iam:ListPolicyVersions"])],
        ),
        (
            "attach_user_policy",
            false,
            vec![allow(&["iam:AttachUserPolicy"])],
            vec![allow(&["iam:DetachUserPolicy"])],
        ),
        (
            "attach_group_policy",
            false,
            vec![allow(&["iam:AttachGroupPolicy"])],
            vec![allow(&["iam:ListAttachedGroupPolicies"])],
        ),
        (
            "attach_role_policy",
            false,
            vec![allow(&["iam:AttachRolePolicy", "sts:AssumeRole"])],
            vec![allow(&["iam:AttachRolePolicy"])],
        ),
        (
            "attach_role_policy",
            true,
            vec![allow(&["iam:AttachRolePolicy"])],
            vec![allow(&["iam:DetachRolePolicy", "sts:AssumeRole"])],
        ),
        (
            "put_user_policy",
            false,
            vec![allow(&["iam:PutUserPolicy"])],
            vec![allow(&["iam:GetUserPolicy"])],
        ),
        (
            "put_group_policy",
            false,
            vec![allow(&["iam:PutGroupPolicy"])],
            vec![allow(&["iam:DeleteGroupPolicy"])],
        ),
        (
            "put_role_policy",
            false,
            vec![allow(&["iam:PutRolePolicy", "sts:AssumeRole"])],
            vec![allow(&["iam:PutRolePolicy"])],
        ),
        (
            "put_role_policy",
            true,
            vec![allow(&["iam:PutRolePolicy"])],
            vec![allow(&["iam:PutRolePermissionsBoundary"])],
        ),
        (
            "add_user_to_group",
            false,
            vec![allow(&["iam:AddUserToGroup"])],
            vec![allow(&["iam:RemoveUserFromGroup"])],
        ),
        (
            "create_access_key",
            false,
            vec![allow(&["iam:CreateAccessKey"])],
            vec![stmt(true, &["iam:CreateAccessKey"], self_only)],
        ),
        (
            "create_login_profile",
            false,
            vec![stmt(
                true,
                &["iam:CreateLoginProfile"],
                &["arn:aws:iam::111111111111:user/*"],
            )],
            vec![stmt(true, &["iam:CreateLoginProfile"], self_only)],
        ),
        (
            "update_login_profile",
            false,
            vec![allow(&["iam:UpdateLoginProfile"])],
            vec![stmt(true, &["iam:UpdateLoginProfile"], self_only)],
        ),
        (
            "update_assume_role_policy",
            false,
            vec![
                allow(&["iam:UpdateAssumeRolePolicy"]),
                stmt(true, &["sts:AssumeRole"], &["arn:aws:iam::1:role/x"]),
            ],
            vec![allow(&["iam:UpdateAssumeRolePolicy"])],
        ),
        (
            "pass_role_ec2",
            false,
            vec![allow(&["iam:PassRole", "ec2:RunInstances"])],
            vec![
                allow(&["ec2:RunInstances"]),
                pass_to("lambda.amazonaws.com"),
            ],
        ),
        (
            "pass_role_lambda",
            false,
            vec![
                pass_to("lambda.amazonaws.com"),
                allow(&["lambda:CreateFunction", "lambda:InvokeFunction"]),
            ],
            vec![allow(&["iam:PassRole"])],
        ),
        (
            "pass_role_lambda",
            false,
            vec![allow(&[
                "iam:PassRole",
                "lambda:CreateFunction",
                "lambda:CreateEventSourceMapping",
            ])],
            vec![allow(&["iam:PassRole", "lambda:CreateFunction"])],
        ),
        (
            "pass_role_glue",
            false,
            vec![allow(&["iam:PassRole", "glue:CreateDevEndpoint"])],
            vec![allow(&["glue:CreateDevEndpoint"])],
        ),
        (
            "glue_update_dev_endpoint",
            false,
            vec![allow(&["glue:UpdateDevEndpoint"])],
            vec![allow(&["glue:GetDevEndpoint"])],
        ),
        (
            "pass_role_cloudformation",
            false,
            vec![allow(&["iam:PassRole", "cloudformation:CreateStack"])],
            vec![allow(&["cloudformation:CreateStack"])],
        ),
        (
            "pass_role_datapipeline",
            false,
            vec![allow(&[
                "iam:PassRole",
                "datapipeline:CreatePipeline",
                "datapipeline:PutPipelineDefinition",
            ])],
            vec![allow(&["iam:PassRole", "datapipeline:CreatePipeline"])],
        ),
        (
            "pass_role_ecs",
            false,
            vec![allow(&[
                "iam:PassRole",
                "ecs:RegisterTaskDefinition",
                "ecs:RunTask",
            ])],
            vec![allow(&["iam:PassRole", "ecs:RunTask"])],
        ),
        (
            "pass_role_sagemaker",
            false,
            vec![allow(&["iam:PassRole", "sagemaker:CreateNotebookInstance"])],
            vec![
                allow(&["sagemaker:CreateNotebookInstance"]),
                pass_to("glue.amazonaws.com"),
            ],
        ),
        (
            "pass_role_codebuild",
            false,
            vec![allow(&[
                "iam:PassRole",
                "codebuild:CreateProject",
                "codebuild:StartBuild",
            ])],
            vec![allow(&["iam:PassRole", "codebuild:CreateProject"])],
        ),
        (
            "lambda_update_function_code",
            false,
            vec![allow(&["lambda:UpdateFunctionCode"])],
            vec![allow(&["lambda:UpdateFunctionConfiguration"])],
        ),
        (
            "ssm_send_command",
            false,
            vec![allow(&["ssm:SendCommand"])],
            vec![allow(&["ssm:GetCommandInvocation"])],
        ),
        (
            "ssm_start_session",
            false,
            vec![allow(&["ssm:StartSession"])],
            vec![allow(&["ssm:DescribeSessions"])],
        ),
        (
            "assume_any_role",
            false,
            vec![stmt(true, &["sts:AssumeRole"], &["arn:aws:iam::*:role/*"])],
            vec![stmt(
                true,
                &["sts:AssumeRole"],
                &["arn:aws:iam::111111111111:role/deploy"],
            )],
        ),
    ]
}

#[test]
fn each_escalation_path_and_its_near_miss() {
    let cases = path_cases();
    for name in escalation_path_names() {
        assert!(cases.iter().any(|c| c.0 == name), "no test case for {name}");
    }
    for (name, is_role, grant, near) in cases {
        let make = |s: Vec<Statement>| if is_role { role(s) } else { user(s) };
        let f = analyse(&make(grant.clone()));
        let found = f.escalation_paths.iter().find(|e| e.name == name);
        let e = found.unwrap_or_else(|| panic!("{name} not detected from {grant:?}"));
        assert!(!e.actions.is_empty() && !e.summary.is_empty());
        assert_eq!(e.sources, vec!["inline:arn:aws:iam::111111111111:user/u/p"]);
        let f = analyse(&make(near.clone()));
        assert!(
            !f.escalation_paths.iter().any(|e| e.name == name),
            "{name} detected from near miss {near:?}: {:?}",
            path_names(&f)
        );
    }
}

#[test]
fn escalation_path_reports_actions_and_sources() {
    let mut p = user(vec![allow(&["lambda:*"])]);
    p.policies.push(doc(
        "arn:aws:iam::111111111111:policy/Pass",
        PolicyKind::Group,
        vec![allow(&["iam:PassRole"])],
    ));
    let f = analyse(&p);
    let e = f
        .escalation_paths
        .iter()
        .find(|e| e.name == "pass_role_lambda")
        .expect("lambda path");
    assert_eq!(
        e.actions,
        vec![
            "iam:PassRole",
            "lambda:CreateFunction",
            "lambda:InvokeFunction",
            "lambda:CreateEventSourceMapping",
            "lambda:AddPermission",
            "lambda:CreateFunctionUrlConfig"
        ]
    );
    assert_eq!(
        e.sources,
        vec![
            "arn:aws:iam::111111111111:policy/Pass",
            "inline:arn:aws:iam::111111111111:user/u/p"
        ]
    );
    assert!(!e.conditional);
    assert_eq!(f.wildcard_services, vec!["lambda"]);
}

#[test]
fn known_managed_policies_give_expected_paths() {
    let with = |name: &str| Privileges {
        unresolved_policies: vec![format!("arn:aws:iam::aws:policy/{name}")],
        ..Privileges::default()
    };
    let names = |name: &str| path_names(&analyse(&with(name)));
    assert!(names("IAMFullAccess").contains(&"attach_user_policy"));
    assert!(names("AWSLambda_FullAccess").contains(&"pass_role_lambda"));
    assert!(names("AWSLambdaFullAccess").contains(&"pass_role_lambda"));
    assert!(names("AmazonSageMakerFullAccess").contains(&"pass_role_sagemaker"));
    assert!(names("AmazonECS_FullAccess").contains(&"pass_role_ecs"));
    assert!(names("AmazonSSMFullAccess").contains(&"ssm_send_command"));
    for read_only in [
        "ReadOnlyAccess",
        "ViewOnlyAccess",
        "SecurityAudit",
        "IAMReadOnlyAccess",
        "AmazonS3ReadOnlyAccess",
        "AmazonEC2ReadOnlyAccess",
        "AmazonS3FullAccess",
        "AmazonEC2FullAccess",
        "SecretsManagerReadWrite",
        "AmazonSSMManagedInstanceCore",
    ] {
        let f = analyse(&with(read_only));
        assert!(f.known && !f.admin, "{read_only}");
        assert!(
            f.escalation_paths.is_empty(),
            "{read_only}: {:?}",
            path_names(&f)
        );
    }
    let ro = with("ReadOnlyAccess");
    assert!(allows(&ro, "s3:GetObject") && allows(&ro, "ec2:DescribeInstances"));
    assert!(!allows(&ro, "secretsmanager:GetSecretValue") && !allows(&ro, "s3:PutObject"));
    assert_eq!(analyse(&ro).granted_services, vec!["*"]);
    assert!(analyse(&ro).wildcard_services.is_empty());
    let s3 = analyse(&with("AmazonS3FullAccess"));
    assert_eq!(s3.wildcard_services, vec!["s3", "s3-object-lambda"]);
    assert!(known_managed_policy_names().count() >= 20);
}

#[test]
fn pass_role_honours_passed_to_service() {
    let not_ec2 = with_condition(
        allow(&["iam:PassRole"]),
        "StringNotEquals",
        "iam:PassedToService",
        &["ec2.amazonaws.com"],
    );
    let p = user(vec![
        not_ec2,
        allow(&[
            "ec2:RunInstances",
            "lambda:CreateFunction",
            "lambda:InvokeFunction",
        ]),
    ]);
    let names = path_names(&analyse(&p));
    assert!(!names.contains(&"pass_role_ec2"));
    assert!(names.contains(&"pass_role_lambda"));
    let like = with_condition(
        allow(&["iam:PassRole"]),
        "StringLike",
        "iam:PassedToService",
        &["ec2.*"],
    );
    let p = user(vec![like, allow(&["ec2:RunInstances"])]);
    let e = analyse(&p)
        .escalation_paths
        .into_iter()
        .find(|e| e.name == "pass_role_ec2")
        .expect("ec2 path");
    assert!(e.conditional);
}

fn trust_stmt(kind: &str, values: &[&str], action: &str) -> Statement {
    let mut s = stmt(true, &[action], &[]);
    s.principals.insert(
        kind.to_string(),
        values.iter().map(|v| v.to_string()).collect(),
    );
    s
}

fn trust_findings(statements: Vec<Statement>) -> Vec<String> {
    let p = Privileges {
        trust: Some(trust_doc(statements)),
        ..Privileges::default()
    };
    let f = analyse(&p);
    assert!(f.known);
    f.broad_trust
}

#[test]
fn trust_breadth() {
    assert!(trust_findings(vec![service_trust("lambda.amazonaws.com")]).is_empty());
    let star = trust_findings(vec![trust_stmt("*", &["*"], "sts:AssumeRole")]);
    assert_eq!(star.len(), 1, "{star:?}");
    assert!(star[0].contains("Principal \"*\""));
    assert_eq!(
        trust_findings(vec![trust_stmt("AWS", &["*"], "sts:AssumeRole")]).len(),
        1
    );
    let org = with_condition(
        trust_stmt("AWS", &["*"], "sts:AssumeRole"),
        "StringEquals",
        "aws:PrincipalOrgID",
        &["o-abc123"],
    );
    assert!(trust_findings(vec![org]).is_empty());
    let ext = with_condition(
        trust_stmt("AWS", &["*"], "sts:AssumeRole"),
        "StringEquals",
        "sts:ExternalId",
        &["s3cr3t"],
    );
    assert!(trust_findings(vec![ext]).is_empty());
    // A negated condition restricts nothing.
    let neg = with_condition(
        trust_stmt("*", &["*"], "sts:AssumeRole"),
        "StringNotEquals",
        "aws:PrincipalOrgID",
        &["o-abc123"],
    );
    assert_eq!(trust_findings(vec![neg]).len(), 1);

    // Account roots: external flagged, own not.
    let f = trust_findings(vec![trust_stmt(
        "AWS",
        &[
            "arn:aws:iam::222222222222:root",
            "arn:aws:iam::111111111111:root",
            "arn:aws:iam::333333333333:role/ci",
        ],
        "sts:AssumeRole",
    )]);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("222222222222"));
    assert!(
        trust_findings(vec![trust_stmt("AWS", &["444444444444"], "sts:AssumeRole")])[0]
            .contains("444444444444")
    );

    // GitHub Actions OIDC.
    let gh = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com";
    let aud_only = with_condition(
        trust_stmt("Federated", &[gh], "sts:AssumeRoleWithWebIdentity"),
        "StringEquals",
        "token.actions.githubusercontent.com:aud",
        &["sts.amazonaws.com"],
    );
    let f = trust_findings(vec![aud_only.clone()]);
    assert_eq!(f.len(), 1);
    assert!(f[0].contains("GitHub"));
    let pinned = with_condition(
        aud_only.clone(),
        "StringLike",
        "token.actions.githubusercontent.com:sub",
        &["repo:acme/deploy:ref:refs/heads/main"],
    );
    assert!(trust_findings(vec![pinned]).is_empty());
    let org_wide = with_condition(
        aud_only.clone(),
        "StringLike",
        "token.actions.githubusercontent.com:sub",
        &["repo:acme/*"],
    );
    assert!(trust_findings(vec![org_wide]).is_empty());
    let any_repo = with_condition(
        aud_only,
        "StringLike",
        "token.actions.githubusercontent.com:sub",
        &["repo:*"],
    );
    assert_eq!(trust_findings(vec![any_repo]).len(), 1);
    // SAML federation is not broad.
    assert!(trust_findings(vec![trust_stmt(
        "Federated",
        &["arn:aws:iam::111111111111:saml-provider/Okta"],
        "sts:AssumeRoleWithSAML"
    )])
    .is_empty());
    // A Deny or a non-assume action does not count.
    let mut d = trust_stmt("*", &["*"], "sts:AssumeRole");
    d.allow = false;
    assert!(trust_findings(vec![d]).is_empty());
    assert!(trust_findings(vec![trust_stmt("*", &["*"], "sts:TagSession")]).is_empty());
}

#[test]
fn rbac_and_trust_documents_are_not_grants() {
    let p = Privileges {
        policies: vec![
            doc("rbac:cluster-admin", PolicyKind::Rbac, vec![allow(&["*"])]),
            doc("trust:x", PolicyKind::Trust, vec![allow(&["*"])]),
        ],
        ..Privileges::default()
    };
    let f = analyse(&p);
    assert!(!f.admin && !f.known);
    assert!(!allows(&p, "iam:PassRole"));
}

mod monotonicity {
    use super::*;
    use proptest::prelude::*;

    const ACTIONS: &[&str] = &[
        "*",
        "*:Get*",
        "iam:*",
        "iam:Create*",
        "iam:Attach*",
        "iam:PassRole",
        "iam:CreateAccessKey",
        "iam:AttachUserPolicy",
        "iam:PutRolePolicy",
        "sts:AssumeRole",
        "lambda:*",
        "lambda:CreateFunction",
        "lambda:InvokeFunction",
        "ec2:RunInstances",
        "s3:*",
        "s3:GetObject",
        "ssm:SendCommand",
        "glue:UpdateDevEndpoint",
    ];
    const RESOURCES: &[&str] = &[
        "*",
        "arn:aws:iam::*:user/${aws:username}",
        "arn:aws:s3:::bucket/*",
        "arn:aws:iam::111111111111:role/x",
        "arn:aws:iam::*:role/*",
    ];
    const MANAGED: &[&str] = &[
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/IAMFullAccess",
        "arn:aws:iam::aws:policy/AWSLambda_FullAccess",
    ];

    fn pick(v: &'static [&'static str]) -> impl Strategy<Value = String> {
        proptest::sample::select(v).prop_map(str::to_string)
    }

    fn statement(allow_only: bool) -> impl Strategy<Value = Statement> {
        (
            if allow_only {
                Just(true).boxed()
            } else {
                any::<bool>().boxed()
            },
            any::<bool>(),
            proptest::collection::vec(pick(ACTIONS), 1..4),
            any::<bool>(),
            proptest::collection::vec(pick(RESOURCES), 1..3),
            0u8..4,
        )
            .prop_map(|(allow, not_act, acts, not_res, res, cond)| {
                let mut s = Statement {
                    allow,
                    ..Statement::default()
                };
                if not_act {
                    s.not_actions = acts;
                } else {
                    s.actions = acts;
                }
                if not_res {
                    s.not_resources = res;
                } else {
                    s.resources = res;
                }
                match cond {
                    1 => with_condition(s, "Bool", "aws:MultiFactorAuthPresent", &["true"]),
                    2 => with_condition(
                        s,
                        "StringEquals",
                        "iam:PassedToService",
                        &["lambda.amazonaws.com"],
                    ),
                    _ => s,
                }
            })
    }

    fn privileges() -> impl Strategy<Value = Privileges> {
        (
            proptest::collection::vec(proptest::collection::vec(statement(false), 1..4), 0..3),
            proptest::option::of(proptest::collection::vec(statement(false), 1..3)),
            proptest::collection::vec(pick(MANAGED), 0..2),
            any::<bool>(),
        )
            .prop_map(|(policies, boundary, managed, is_role)| {
                let mut p = Privileges {
                    policies: policies
                        .into_iter()
                        .enumerate()
                        .map(|(i, st)| doc(&format!("inline:p{i}"), PolicyKind::Inline, st))
                        .collect(),
                    permissions_boundary: boundary
                        .map(|st| doc("boundary", PolicyKind::Boundary, st)),
                    unresolved_policies: managed,
                    ..Privileges::default()
                };
                if is_role {
                    p.trust = Some(trust_doc(vec![service_trust("ec2.amazonaws.com")]));
                }
                p
            })
    }

    fn subset(a: &[String], b: &[String]) -> bool {
        a.iter().all(|x| b.contains(x))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]
        #[test]
        fn adding_an_allow_never_reduces_privilege(
            p in privileges(),
            extra in statement(true),
            slot in 0usize..4,
        ) {
            let before = analyse(&p);
            let mut q = p.clone();
            match q.policies.get_mut(slot) {
                Some(doc) => doc.statements.push(extra),
                None => q.policies.push(doc("inline:extra", PolicyKind::Inline, vec![extra])),
            }
            let after = analyse(&q);
            let names_before = path_names(&before);
            let names_after = path_names(&after);
            prop_assert!(names_before.iter().all(|n| names_after.contains(n)),
                "paths lost: {:?} -> {:?}", names_before, names_after);
            prop_assert!(!before.admin || after.admin, "admin lost");
            prop_assert!(subset(&before.granted_services, &after.granted_services),
                "granted services shrank: {:?} -> {:?}", before.granted_services, after.granted_services);
            prop_assert!(subset(&before.wildcard_services, &after.wildcard_services),
                "wildcard services shrank: {:?} -> {:?}", before.wildcard_services, after.wildcard_services);
            for a in ACTIONS.iter().filter(|a| !a.contains('*')) {
                prop_assert!(!allows(&p, a) || allows(&q, a), "{} lost", a);
            }
            prop_assert!(after.known);
        }
    }
}
