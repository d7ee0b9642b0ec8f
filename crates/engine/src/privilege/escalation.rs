//! Known IAM privilege-escalation paths: permission sets that let a principal obtain more
//! privileges than it holds (public research: Rhino Security Labs' list and later work).

use super::eval::{Ctx, Grant, Target};
use super::EscalationPath;

/// One requirement: any of these actions, granted for this target.
struct Need {
    any_of: &'static [&'static str],
    target: Target,
}

struct PathDef {
    name: &'static str,
    summary: &'static str,
    needs: &'static [Need],
    /// Extra requirement when the principal is not a role (a role can modify itself).
    unless_role: Option<Need>,
}

const fn need(any_of: &'static [&'static str]) -> Need {
    Need {
        any_of,
        target: Target::Exploitable,
    }
}

const fn pass_role(service: &'static str) -> Need {
    Need {
        any_of: &["iam:PassRole"],
        target: Target::PassedTo(service),
    }
}

const ASSUME_ROLE: Need = Need {
    any_of: &["sts:AssumeRole"],
    target: Target::Exploitable,
};

const PATHS: &[PathDef] = &[
    PathDef {
        name: "create_policy_version",
        summary: "can write a new default version of a customer managed policy (such as one attached to itself) granting any permission",
        needs: &[need(&["iam:CreatePolicyVersion"])],
        unless_role: None,
    },
    PathDef {
        name: "set_default_policy_version",
        summary: "can make an older, possibly broader version of a managed policy the default",
        needs: &[need(&["iam:SetDefaultPolicyVersion"])],
        unless_role: None,
    },
    PathDef {
        name: "attach_user_policy",
        summary: "can attach any managed policy (e.g. AdministratorAccess) to a user, itself included",
        needs: &[need(&["iam:AttachUserPolicy"])],
        unless_role: None,
    },
    PathDef {
        name: "attach_group_policy",
        summary: "can attach any managed policy to a group, including a group it belongs to",
        needs: &[need(&["iam:AttachGroupPolicy"])],
        unless_role: None,
    },
    PathDef {
        name: "attach_role_policy",
        summary: "can attach any managed policy to a role it is or can assume",
        needs: &[need(&["iam:AttachRolePolicy"])],
        unless_role: Some(ASSUME_ROLE),
    },
    PathDef {
        name: "put_user_policy",
        summary: "can write an inline policy granting any permission on a user, itself included",
        needs: &[need(&["iam:PutUserPolicy"])],
        unless_role: None,
    },
    PathDef {
        name: "put_group_policy",
        summary: "can write an inline policy granting any permission on a group, including its own",
        needs: &[need(&["iam:PutGroupPolicy"])],
        unless_role: None,
    },
    PathDef {
        name: "put_role_policy",
        summary: "can write an inline policy granting any permission on a role it is or can assume",
        needs: &[need(&["iam:PutRolePolicy"])],
        unless_role: Some(ASSUME_ROLE),
    },
    PathDef {
        name: "add_user_to_group",
        summary: "can add a user, itself included, to a more privileged group",
        needs: &[need(&["iam:AddUserToGroup"])],
        unless_role: None,
    },
    PathDef {
        name: "create_access_key",
        summary: "can create access keys for other (possibly more privileged) users",
        needs: &[Need {
            any_of: &["iam:CreateAccessKey"],
            target: Target::OtherUsers,
        }],
        unless_role: None,
    },
    PathDef {
        name: "create_login_profile",
        summary: "can set a console password on other users that have none, and sign in as them",
        needs: &[Need {
            any_of: &["iam:CreateLoginProfile"],
            target: Target::OtherUsers,
        }],
        unless_role: None,
    },
    PathDef {
        name: "update_login_profile",
        summary: "can change the console password of other users and sign in as them",
        needs: &[Need {
            any_of: &["iam:UpdateLoginProfile"],
            target: Target::OtherUsers,
        }],
        unless_role: None,
    },
    PathDef {
        name: "update_assume_role_policy",
        summary: "can rewrite a privileged role's trust policy to let itself assume it",
        needs: &[need(&["iam:UpdateAssumeRolePolicy"]), ASSUME_ROLE],
        unless_role: None,
    },
    PathDef {
        name: "pass_role_ec2",
        summary: "can launch an EC2 instance with a privileged instance profile and use its role credentials",
        needs: &[pass_role("ec2.amazonaws.com"), need(&["ec2:RunInstances"])],
        unless_role: None,
    },
    PathDef {
        name: "pass_role_lambda",
        summary: "can create a Lambda function running as a privileged role and invoke or trigger it",
        needs: &[
            pass_role("lambda.amazonaws.com"),
            need(&["lambda:CreateFunction"]),
            need(&[
                "lambda:InvokeFunction",
                "lambda:CreateEventSourceMapping",
                "lambda:AddPermission",
                "lambda:CreateFunctionUrlConfig",
            ]),
        ],
        unless_role: None,
    },
    PathDef {
        name: "pass_role_glue",
        summary: "can create a Glue development endpoint with a privileged role and log in to it",
        needs: &[pass_role("glue.amazonaws.com"), need(&["glue:CreateDevEndpoint"])],
        unless_role: None,
    },
    PathDef {
        name: "glue_update_dev_endpoint",
        summary: "can add its own SSH key to an existing Glue development endpoint and use its role",
        needs: &[need(&["glue:UpdateDevEndpoint"])],
        unless_role: None,
    },
    PathDef {
        name: "pass_role_cloudformation",
        summary: "can create a CloudFormation stack that runs as a privileged role and provisions anything",
        needs: &[
            pass_role("cloudformation.amazonaws.com"),
            need(&["cloudformation:CreateStack"]),
        ],
        unless_role: None,
    },
    PathDef {
        name: "pass_role_datapipeline",
        summary: "can create a Data Pipeline that runs commands as a privileged role",
        needs: &[
            pass_role("datapipeline.amazonaws.com"),
            need(&["datapipeline:CreatePipeline"]),
            need(&["datapipeline:PutPipelineDefinition"]),
        ],
        unless_role: None,
    },
    PathDef {
        name: "pass_role_ecs",
        summary: "can register an ECS task definition with a privileged task role and run it",
        needs: &[
            pass_role("ecs-tasks.amazonaws.com"),
            need(&["ecs:RegisterTaskDefinition"]),
            need(&[
                "ecs:RunTask",
                "ecs:StartTask",
                "ecs:CreateService",
                "ecs:UpdateService",
            ]),
        ],
        unless_role: None,
    },
    PathDef {
        name: "pass_role_sagemaker",
        summary: "can create a SageMaker notebook or job running as a privileged role",
        needs: &[
            pass_role("sagemaker.amazonaws.com"),
            need(&[
                "sagemaker:CreateNotebookInstance",
                "sagemaker:CreateTrainingJob",
                "sagemaker:CreateProcessingJob",
            ]),
        ],
        unless_role: None,
    },
    PathDef {
        name: "pass_role_codebuild",
        summary: "can create and start a CodeBuild project running as a privileged role",
        needs: &[
            pass_role("codebuild.amazonaws.com"),
            need(&["codebuild:CreateProject"]),
            need(&["codebuild:StartBuild", "codebuild:StartBuildBatch"]),
        ],
        unless_role: None,
    },
    PathDef {
        name: "lambda_update_function_code",
        summary: "can replace the code of an existing Lambda function and act with its (possibly privileged) role",
        needs: &[need(&["lambda:UpdateFunctionCode"])],
        unless_role: None,
    },
    PathDef {
        name: "ssm_send_command",
        summary: "can run commands on managed EC2 instances and use their instance-profile roles",
        needs: &[need(&["ssm:SendCommand"])],
        unless_role: None,
    },
    PathDef {
        name: "ssm_start_session",
        summary: "can open a shell on managed EC2 instances and use their instance-profile roles",
        needs: &[need(&["ssm:StartSession"])],
        unless_role: None,
    },
    PathDef {
        name: "assume_any_role",
        summary: "may call sts:AssumeRole on any role: every role whose trust policy admits it is reachable",
        needs: &[Need {
            any_of: &["sts:AssumeRole"],
            target: Target::AnyRole,
        }],
        unless_role: None,
    },
];

/// Stable names of the escalation paths, in detection order.
pub fn escalation_path_names() -> impl Iterator<Item = &'static str> {
    PATHS.iter().map(|p| p.name)
}

type Cache<'a> = Vec<((&'static str, Target), Option<Grant<'a>>)>;

fn cached<'a>(
    ctx: &Ctx<'a>,
    cache: &mut Cache<'a>,
    action: &'static str,
    target: Target,
) -> Option<Grant<'a>> {
    if let Some((_, g)) = cache.iter().find(|(k, _)| *k == (action, target)) {
        return g.clone();
    }
    let g = ctx.grant(action, target);
    cache.push(((action, target), g.clone()));
    g
}

pub(super) fn detect(ctx: &Ctx<'_>) -> Vec<EscalationPath> {
    let mut cache: Cache<'_> = Vec::new();
    let mut out = Vec::new();
    for def in PATHS {
        let extra = if ctx.is_role {
            None
        } else {
            def.unless_role.as_ref()
        };
        let mut actions: Vec<String> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        let mut conditional = false;
        let mut limited = false;
        let mut ok = true;
        for need in def.needs.iter().chain(extra) {
            let mut met = false;
            let mut need_conditional = true;
            let mut need_limited = true;
            for &action in need.any_of {
                if let Some(g) = cached(ctx, &mut cache, action, need.target) {
                    met = true;
                    need_conditional &= g.conditional;
                    need_limited &= g.limited;
                    if !actions.iter().any(|a| a == action) {
                        actions.push(action.to_string());
                    }
                    sources.extend(g.sources.iter().map(|s| s.to_string()));
                }
            }
            if !met {
                ok = false;
                break;
            }
            conditional |= need_conditional;
            limited |= need_limited;
        }
        if ok {
            sources.sort();
            sources.dedup();
            out.push(EscalationPath {
                name: def.name,
                summary: def.summary.to_string(),
                actions,
                sources,
                conditional,
                limited,
                steps: u8::try_from(def.needs.len() + usize::from(extra.is_some()))
                    .unwrap_or(u8::MAX),
            });
        }
    }
    out
}
