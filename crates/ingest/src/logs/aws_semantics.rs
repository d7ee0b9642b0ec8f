//! What a CloudTrail call does, read from its `requestParameters` and `responseElements`.
//!
//! Each rule is written from the API's documented semantics: what a request must contain to
//! share, open, tamper or steal (a snapshot attribute *added* for `all`, an ingress rule from
//! `0.0.0.0/0`, a policy whose principal is `*`). Only calls whose name can carry a technique are
//! parsed, so the cost on ordinary events is one string match.

use serde_json::Value;
use tripline_model::{IssuedCredential, Technique, Techniques};

/// The facts of one call that the rules need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Call<'a> {
    /// `service:Action`, API version stripped.
    pub action: &'a str,
    pub request: Option<&'a str>,
    pub response: Option<&'a str>,
    /// The account that received the call.
    pub account: Option<&'a str>,
    /// The caller's IAM user name, when the caller is an IAM user.
    pub caller_user: Option<&'a str>,
}

/// Instance families built for GPU, machine learning, FPGA or very large memory: what mining and
/// other abuse of stolen compute launch, and what routine workloads rarely start unannounced.
const UNUSUAL_FAMILIES: &[&str] = &[
    "p2", "p3", "p3dn", "p4d", "p4de", "p5", "p5e", "g3", "g3s", "g4dn", "g4ad", "g5", "g5g", "g6",
    "g6e", "gr6", "inf1", "inf2", "trn1", "trn1n", "trn2", "dl1", "dl2q", "f1", "f2", "vt1", "x1",
    "x1e", "x2idn", "x2iedn", "x2iezn", "x8g", "u-3tb1", "u-6tb1", "u-9tb1", "u-12tb1", "hpc6a",
    "hpc7g",
];

fn parse(raw: Option<&str>) -> Option<Value> {
    raw.and_then(|r| serde_json::from_str(r).ok())
}

/// A field that may hold a policy document as an object or as a (possibly URL-encoded) string.
fn policy_doc(v: &Value) -> Option<Value> {
    match v {
        Value::Object(_) => Some(v.clone()),
        Value::String(s) => {
            let decoded;
            let text = if s.contains("%7B") || s.contains("%22") {
                decoded = percent_decode(s);
                decoded.as_str()
            } else {
                s.as_str()
            };
            serde_json::from_str(text).ok()
        }
        _ => None,
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        } else if c == b'+' {
            out.push(b' ');
            i += 1;
            continue;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// Account id of a principal string (`123456789012`, `arn:aws:iam::123456789012:root`).
fn principal_account(p: &str) -> Option<&str> {
    if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) {
        return Some(p);
    }
    tripline_model::account_of_arn(p)
}

/// Conditions that pin a grant to known callers (an organization, an account, a source ARN, an
/// external id) make an open principal a scoped one.
fn condition_scopes(stmt: &Value) -> bool {
    let Some(cond) = stmt.get("Condition").and_then(Value::as_object) else {
        return false;
    };
    cond.values().filter_map(Value::as_object).any(|ops| {
        ops.keys().any(|k| {
            let k = k.to_ascii_lowercase();
            [
                "aws:principalorgid",
                "aws:principalaccount",
                "aws:sourceaccount",
                "aws:sourcearn",
                "aws:sourceorgid",
                "aws:sourcevpc",
                "aws:sourcevpce",
                "aws:sourceip",
                "sts:externalid",
                "aws:principalarn",
            ]
            .contains(&k.as_str())
        })
    })
}

/// A policy with an `Allow` statement whose principal is everyone or another account, not pinned
/// down by a condition.
pub(crate) fn policy_opens(doc: &Value, own_account: Option<&str>) -> bool {
    let stmts = doc.get("Statement").map(as_list).unwrap_or_default();
    stmts.into_iter().any(|s| {
        if s.get("Effect").and_then(Value::as_str) != Some("Allow") || condition_scopes(s) {
            return false;
        }
        let Some(principal) = s.get("Principal") else {
            return false;
        };
        let mut names: Vec<&str> = Vec::new();
        match principal {
            Value::String(p) => names.push(p),
            Value::Object(m) => {
                for (kind, v) in m {
                    // Service principals (`lambda.amazonaws.com`) are AWS acting for the account.
                    if kind == "Service" {
                        continue;
                    }
                    for p in as_list(v) {
                        if let Some(p) = p.as_str() {
                            names.push(p);
                        }
                    }
                }
            }
            _ => {}
        }
        names.into_iter().any(|p| {
            p == "*"
                || match (principal_account(p), own_account) {
                    (Some(theirs), Some(ours)) => theirs != ours,
                    _ => false,
                }
        })
    })
}

/// An attribute change that *adds* a permission for `all` or for an account.
fn adds_sharing(req: &Value, attr: &str) -> bool {
    let add = req.get(attr).and_then(|p| p.get("add"));
    let items = add
        .and_then(|a| a.get("items"))
        .map(as_list)
        .unwrap_or_default();
    items
        .iter()
        .any(|i| i.get("group").is_some() || i.get("userId").is_some())
}

fn string_field<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn truthy(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn unusual_instance_type(t: &str) -> bool {
    let Some((family, size)) = t.split_once('.') else {
        return false;
    };
    let family = family.to_ascii_lowercase();
    let huge = size == "metal"
        || size
            .strip_suffix("xlarge")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n >= 24);
    huge || UNUSUAL_FAMILIES.contains(&family.as_str())
}

/// The techniques one call performs.
// One arm per API, its parameter rule in the body: as guards, the rules would hide in patterns.
#[allow(clippy::collapsible_match)]
pub(crate) fn techniques(c: Call<'_>) -> Techniques {
    let mut t = Techniques::EMPTY;
    let (service, name) = c.action.split_once(':').unwrap_or(("", c.action));
    let req = || parse(c.request);
    match (service, name) {
        ("ec2", "ModifySnapshotAttribute") => {
            if req().is_some_and(|r| adds_sharing(&r, "createVolumePermission")) {
                t.insert(Technique::ResourceSharedOut);
            }
        }
        ("ec2", "ModifyImageAttribute") => {
            if req().is_some_and(|r| adds_sharing(&r, "launchPermission")) {
                t.insert(Technique::ResourceSharedOut);
            }
        }
        ("rds", "ModifyDBSnapshotAttribute" | "ModifyDBClusterSnapshotAttribute") => {
            let shares = req().is_some_and(|r| {
                string_field(&r, "attributeName") == Some("restore")
                    && r.get("valuesToAdd")
                        .map(as_list)
                        .is_some_and(|v| !v.is_empty())
            });
            if shares {
                t.insert(Technique::ResourceSharedOut);
            }
        }
        ("s3", "PutBucketPolicy") => {
            let opens = req()
                .and_then(|r| r.get("bucketPolicy").and_then(policy_doc))
                .is_some_and(|d| policy_opens(&d, c.account));
            if opens {
                t.insert(Technique::BucketOpened);
            }
        }
        ("s3", "PutBucketAcl" | "PutObjectAcl") => {
            let raw = c.request.unwrap_or("");
            if raw.contains("/groups/global/AllUsers")
                || raw.contains("/groups/global/AuthenticatedUsers")
                || raw.contains("public-read")
            {
                t.insert(Technique::BucketOpened);
            }
        }
        ("s3", "DeleteBucketPublicAccessBlock") | ("s3control", "DeletePublicAccessBlock") => {
            t.insert(Technique::BucketOpened);
        }
        ("s3", "PutBucketPublicAccessBlock") | ("s3control", "PutPublicAccessBlock") => {
            let raw = c.request.unwrap_or("");
            if raw.contains("\":false") || raw.contains("\": false") {
                t.insert(Technique::BucketOpened);
            }
        }
        ("ec2", "AuthorizeSecurityGroupIngress" | "ModifySecurityGroupRules") => {
            let raw = c.request.unwrap_or("");
            if raw.contains("\"0.0.0.0/0\"") || raw.contains("\"::/0\"") {
                t.insert(Technique::PublicIngress);
            }
        }
        ("iam", "UpdateAssumeRolePolicy") | ("iam", "CreateRole") => {
            let key = if name == "CreateRole" {
                "assumeRolePolicyDocument"
            } else {
                "policyDocument"
            };
            let opens = req()
                .and_then(|r| r.get(key).and_then(policy_doc))
                .is_some_and(|d| policy_opens(&d, c.account));
            if opens {
                t.insert(Technique::TrustOpened);
            }
        }
        ("lambda", "AddPermission") | ("lambda", "AddLayerVersionPermission") => {
            let opens = req().is_some_and(|r| {
                let p = string_field(&r, "principal").unwrap_or("");
                let scoped = r.get("sourceAccount").is_some()
                    || r.get("sourceArn").is_some()
                    || r.get("principalOrgID").is_some()
                    || r.get("organizationId").is_some();
                !scoped
                    && (p == "*"
                        || match (principal_account(p), c.account) {
                            (Some(theirs), Some(ours)) => theirs != ours,
                            _ => false,
                        })
            });
            if opens {
                t.insert(Technique::TrustOpened);
            }
        }
        (
            "kms" | "secretsmanager" | "ecr" | "sqs" | "sns" | "glacier" | "backup" | "efs",
            "PutKeyPolicy"
            | "PutResourcePolicy"
            | "SetRepositoryPolicy"
            | "SetQueueAttributes"
            | "SetTopicAttributes"
            | "SetVaultAccessPolicy"
            | "PutBackupVaultAccessPolicy"
            | "PutFileSystemPolicy"
            | "CreateKey",
        ) => {
            let opens = req().is_some_and(|r| {
                [
                    "policy",
                    "resourcePolicy",
                    "policyText",
                    "attributes",
                    "attributeValue",
                ]
                .iter()
                .filter_map(|k| r.get(*k))
                .flat_map(|v| match v {
                    Value::Object(m) if m.get("Statement").is_none() => {
                        m.get("Policy").into_iter().collect::<Vec<_>>()
                    }
                    other => vec![other],
                })
                .filter_map(policy_doc)
                .any(|d| policy_opens(&d, c.account))
            });
            if opens {
                t.insert(Technique::TrustOpened);
            }
        }
        ("iam", "CreateAccessKey" | "CreateLoginProfile" | "UpdateLoginProfile") => {
            let target = req().and_then(|r| string_field(&r, "userName").map(str::to_string));
            // Without `userName` the call acts on the caller itself.
            if let Some(target) = target {
                if c.caller_user != Some(target.as_str()) {
                    t.insert(Technique::CredentialForOther);
                }
            }
        }
        ("cloudtrail", "StopLogging" | "DeleteTrail" | "DeleteEventDataStore")
        | ("ec2", "DeleteFlowLogs")
        | (
            "guardduty",
            "DeleteDetector"
            | "DisassociateFromMasterAccount"
            | "DisassociateFromAdministratorAccount"
            | "DeletePublishingDestination"
            | "StopMonitoringMembers",
        )
        | (
            "config",
            "StopConfigurationRecorder" | "DeleteConfigurationRecorder" | "DeleteDeliveryChannel",
        )
        | ("securityhub", "DisableSecurityHub")
        | ("access-analyzer", "DeleteAnalyzer")
        | ("route53resolver", "DeleteResolverQueryLogConfig")
        | ("organizations", "DisableAWSServiceAccess") => {
            t.insert(Technique::LoggingTampered);
        }
        ("cloudtrail", "PutEventSelectors") => {
            let raw = c.request.unwrap_or("");
            let narrows = raw.contains("\"includeManagementEvents\":false")
                || raw.contains("\"readWriteType\":\"ReadOnly\"")
                || raw.contains("\"readWriteType\":\"WriteOnly\"")
                || raw.contains("excludeManagementEventSources\":[\"")
                || raw.contains("\"notEquals\"")
                || raw.contains("\"eventSelectors\":[]")
                || raw.contains("\"advancedEventSelectors\":[]");
            if narrows {
                t.insert(Technique::LoggingTampered);
            }
        }
        ("cloudtrail", "UpdateTrail") => {
            let narrows = req().is_some_and(|r| {
                truthy(r.get("isMultiRegionTrail")) == Some(false)
                    || truthy(r.get("includeGlobalServiceEvents")) == Some(false)
                    || truthy(r.get("enableLogFileValidation")) == Some(false)
            });
            if narrows {
                t.insert(Technique::LoggingTampered);
            }
        }
        ("guardduty", "UpdateDetector") => {
            if req().is_some_and(|r| truthy(r.get("enable")) == Some(false)) {
                t.insert(Technique::LoggingTampered);
            }
        }
        ("guardduty", "CreateFilter" | "UpdateFilter") => {
            if c.request.is_some_and(|r| r.contains("\"ARCHIVE\"")) {
                t.insert(Technique::LoggingTampered);
            }
        }
        ("organizations", "LeaveOrganization") => t.insert(Technique::LeaveOrganization),
        ("lambda", "UpdateFunctionCode") | ("ssm", "SendCommand" | "StartSession") => {
            t.insert(Technique::WorkloadCodeChanged);
        }
        ("ec2-instance-connect", "SendSSHPublicKey" | "SendSerialConsoleSSHPublicKey") => {
            t.insert(Technique::WorkloadCodeChanged);
        }
        ("lambda", "UpdateFunctionConfiguration") => {
            if req().is_some_and(|r| r.get("layers").is_some()) {
                t.insert(Technique::WorkloadCodeChanged);
            }
        }
        ("ec2", "ModifyInstanceAttribute") => {
            if req().is_some_and(|r| r.get("userData").is_some()) {
                t.insert(Technique::WorkloadCodeChanged);
            }
        }
        (
            "iam",
            "CreateOpenIDConnectProvider"
            | "CreateSAMLProvider"
            | "UpdateSAMLProvider"
            | "AddClientIDToOpenIDConnectProvider"
            | "UpdateOpenIDConnectProviderThumbprint",
        )
        | ("rolesanywhere", "CreateTrustAnchor" | "UpdateTrustAnchor" | "CreateProfile") => {
            t.insert(Technique::IdentityProviderAdded);
        }
        ("ec2", "GetPasswordData" | "GetLaunchTemplateData")
        | ("secretsmanager", "GetSecretValue" | "BatchGetSecretValue") => {
            t.insert(Technique::CredentialRead);
        }
        ("ec2", "DescribeInstanceAttribute") => {
            if req().is_some_and(|r| string_field(&r, "attribute") == Some("userData")) {
                t.insert(Technique::CredentialRead);
            }
        }
        ("ssm", "GetParameter" | "GetParameters" | "GetParametersByPath") => {
            if req().is_some_and(|r| truthy(r.get("withDecryption")) == Some(true)) {
                t.insert(Technique::CredentialRead);
            }
        }
        ("ec2", "RunInstances") => {
            let unusual = req().is_some_and(|r| {
                let direct = string_field(&r, "instanceType").is_some_and(unusual_instance_type);
                let many = r
                    .get("instancesSet")
                    .and_then(|s| s.get("items"))
                    .map(as_list)
                    .unwrap_or_default()
                    .iter()
                    .any(|i| {
                        i.get("maxCount")
                            .and_then(Value::as_u64)
                            .is_some_and(|n| n >= 20)
                    });
                direct || many
            });
            if unusual {
                t.insert(Technique::UnusualCompute);
            }
        }
        _ => {}
    }
    t
}

/// The session credential an `AssumeRole*` call issued, and to whom.
pub(crate) fn issued(
    c: Call<'_>,
    caller_is_service: bool,
    invoked_by: Option<&str>,
) -> Option<IssuedCredential> {
    let (service, name) = c.action.split_once(':')?;
    if service != "sts" || !name.starts_with("AssumeRole") {
        return None;
    }
    let resp = parse(c.response)?;
    let key = resp
        .get("credentials")
        .and_then(|cr| string_field(cr, "accessKeyId"))?
        .to_string();
    let role_arn = parse(c.request).and_then(|r| string_field(&r, "roleArn").map(str::to_string));
    Some(IssuedCredential {
        access_key_id: key,
        role_arn,
        for_service: if caller_is_service {
            invoked_by.map(str::to_string)
        } else {
            None
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call<'a>(action: &'a str, request: &'a str) -> Call<'a> {
        Call {
            action,
            request: Some(request),
            response: None,
            account: Some("111111111111"),
            caller_user: Some("deployer"),
        }
    }

    fn has(action: &str, request: &str, t: Technique) -> bool {
        techniques(call(action, request)).contains(t)
    }

    #[test]
    fn sharing_is_read_from_what_is_added_not_from_the_call_name() {
        let share = r#"{"snapshotId":"snap-1","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"222222222222"}]}}}"#;
        let public = r#"{"createVolumePermission":{"add":{"items":[{"group":"all"}]}}}"#;
        let removal =
            r#"{"createVolumePermission":{"remove":{"items":[{"userId":"222222222222"}]}}}"#;
        assert!(has(
            "ec2:ModifySnapshotAttribute",
            share,
            Technique::ResourceSharedOut
        ));
        assert!(has(
            "ec2:ModifySnapshotAttribute",
            public,
            Technique::ResourceSharedOut
        ));
        assert!(!has(
            "ec2:ModifySnapshotAttribute",
            removal,
            Technique::ResourceSharedOut
        ));
        let ami = r#"{"launchPermission":{"add":{"items":[{"group":"all"}]}}}"#;
        assert!(has(
            "ec2:ModifyImageAttribute",
            ami,
            Technique::ResourceSharedOut
        ));
        let rds = r#"{"attributeName":"restore","valuesToAdd":["all"]}"#;
        let rds_remove = r#"{"attributeName":"restore","valuesToRemove":["333333333333"]}"#;
        assert!(has(
            "rds:ModifyDBSnapshotAttribute",
            rds,
            Technique::ResourceSharedOut
        ));
        assert!(!has(
            "rds:ModifyDBSnapshotAttribute",
            rds_remove,
            Technique::ResourceSharedOut
        ));
    }

    #[test]
    fn bucket_policies_open_to_everyone_or_another_account_but_not_when_pinned() {
        let star = r#"{"bucketName":"b","bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}}"#;
        let other = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:*"}]}}"#;
        let own = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/x"},"Action":"s3:*"}]}}"#;
        let pinned = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}}"#;
        let service = r#"{"bucketPolicy":{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject"}]}}"#;
        let deny =
            r#"{"bucketPolicy":{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*"}]}}"#;
        assert!(has("s3:PutBucketPolicy", star, Technique::BucketOpened));
        assert!(has("s3:PutBucketPolicy", other, Technique::BucketOpened));
        for near_miss in [own, pinned, service, deny] {
            assert!(
                !has("s3:PutBucketPolicy", near_miss, Technique::BucketOpened),
                "{near_miss}"
            );
        }
        let acl = r#"{"AccessControlPolicy":{"AccessControlList":{"Grant":[{"Grantee":{"URI":"http://acs.amazonaws.com/groups/global/AllUsers"}}]}}}"#;
        assert!(has("s3:PutBucketAcl", acl, Technique::BucketOpened));
        assert!(!has(
            "s3:PutBucketAcl",
            r#"{"x-amz-acl":["private"]}"#,
            Technique::BucketOpened
        ));
    }

    #[test]
    fn ingress_from_anywhere_but_not_from_a_private_range() {
        let open = r#"{"groupId":"sg-1","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}"#;
        let open6 =
            r#"{"ipPermissions":{"items":[{"ipv6Ranges":{"items":[{"cidrIpv6":"::/0"}]}}]}}"#;
        let private =
            r#"{"ipPermissions":{"items":[{"ipRanges":{"items":[{"cidrIp":"10.0.0.0/8"}]}}]}}"#;
        assert!(has(
            "ec2:AuthorizeSecurityGroupIngress",
            open,
            Technique::PublicIngress
        ));
        assert!(has(
            "ec2:AuthorizeSecurityGroupIngress",
            open6,
            Technique::PublicIngress
        ));
        assert!(!has(
            "ec2:AuthorizeSecurityGroupIngress",
            private,
            Technique::PublicIngress
        ));
    }

    #[test]
    fn trust_opened_to_another_account_as_a_string_document() {
        let other = r#"{"roleName":"r","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999999999999:root\"},\"Action\":\"sts:AssumeRole\"}]}"}"#;
        let external_id = r#"{"roleName":"r","policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"999999999999\"},\"Action\":\"sts:AssumeRole\",\"Condition\":{\"StringEquals\":{\"sts:ExternalId\":\"x\"}}}]}"}"#;
        let service = r#"{"roleName":"r","assumeRolePolicyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}"}"#;
        assert!(has(
            "iam:UpdateAssumeRolePolicy",
            other,
            Technique::TrustOpened
        ));
        assert!(!has(
            "iam:UpdateAssumeRolePolicy",
            external_id,
            Technique::TrustOpened
        ));
        assert!(!has("iam:CreateRole", service, Technique::TrustOpened));
        let lambda_public =
            r#"{"functionName":"f","principal":"*","action":"lambda:InvokeFunction"}"#;
        let lambda_s3 =
            r#"{"functionName":"f","principal":"s3.amazonaws.com","sourceArn":"arn:aws:s3:::b"}"#;
        assert!(has(
            "lambda:AddPermission",
            lambda_public,
            Technique::TrustOpened
        ));
        assert!(!has(
            "lambda:AddPermission",
            lambda_s3,
            Technique::TrustOpened
        ));
    }

    #[test]
    fn credentials_for_someone_else_but_not_for_oneself() {
        assert!(has(
            "iam:CreateAccessKey",
            r#"{"userName":"admin"}"#,
            Technique::CredentialForOther
        ));
        assert!(!has(
            "iam:CreateAccessKey",
            r#"{"userName":"deployer"}"#,
            Technique::CredentialForOther
        ));
        assert!(!has(
            "iam:CreateAccessKey",
            "{}",
            Technique::CredentialForOther
        ));
        assert!(has(
            "iam:CreateLoginProfile",
            r#"{"userName":"ops","passwordResetRequired":false}"#,
            Technique::CredentialForOther
        ));
    }

    #[test]
    fn logging_tampering_narrowing_and_a_benign_selector() {
        assert!(has(
            "cloudtrail:StopLogging",
            r#"{"name":"t"}"#,
            Technique::LoggingTampered
        ));
        assert!(has(
            "ec2:DeleteFlowLogs",
            r#"{"flowLogIds":["fl-1"]}"#,
            Technique::LoggingTampered
        ));
        let narrow = r#"{"trailName":"t","eventSelectors":[{"readWriteType":"ReadOnly","includeManagementEvents":true}]}"#;
        let full = r#"{"trailName":"t","eventSelectors":[{"readWriteType":"All","includeManagementEvents":true,"dataResources":[{"type":"AWS::S3::Object","values":["arn:aws:s3"]}]}]}"#;
        assert!(has(
            "cloudtrail:PutEventSelectors",
            narrow,
            Technique::LoggingTampered
        ));
        assert!(!has(
            "cloudtrail:PutEventSelectors",
            full,
            Technique::LoggingTampered
        ));
        assert!(has(
            "guardduty:UpdateDetector",
            r#"{"detectorId":"d","enable":false}"#,
            Technique::LoggingTampered
        ));
        assert!(!has(
            "guardduty:UpdateDetector",
            r#"{"detectorId":"d","enable":true}"#,
            Technique::LoggingTampered
        ));
        assert!(has(
            "organizations:LeaveOrganization",
            "null",
            Technique::LeaveOrganization
        ));
    }

    #[test]
    fn secret_reads_and_unusual_compute() {
        assert!(has(
            "ec2:GetPasswordData",
            r#"{"instanceId":"i-1"}"#,
            Technique::CredentialRead
        ));
        assert!(has(
            "ec2:DescribeInstanceAttribute",
            r#"{"instanceId":"i-1","attribute":"userData"}"#,
            Technique::CredentialRead
        ));
        assert!(!has(
            "ec2:DescribeInstanceAttribute",
            r#"{"instanceId":"i-1","attribute":"instanceType"}"#,
            Technique::CredentialRead
        ));
        assert!(has(
            "ssm:GetParameter",
            r#"{"name":"p","withDecryption":true}"#,
            Technique::CredentialRead
        ));
        assert!(!has(
            "ssm:GetParameter",
            r#"{"name":"p"}"#,
            Technique::CredentialRead
        ));
        assert!(has(
            "ec2:RunInstances",
            r#"{"instanceType":"p3.16xlarge"}"#,
            Technique::UnusualCompute
        ));
        assert!(has(
            "ec2:RunInstances",
            r#"{"instanceType":"c5.metal"}"#,
            Technique::UnusualCompute
        ));
        assert!(!has(
            "ec2:RunInstances",
            r#"{"instanceType":"t3.micro","instancesSet":{"items":[{"minCount":1,"maxCount":1}]}}"#,
            Technique::UnusualCompute
        ));
    }

    #[test]
    fn an_assume_role_response_names_the_issued_key() {
        let c = Call {
            action: "sts:AssumeRole",
            request: Some(
                r#"{"roleArn":"arn:aws:iam::111111111111:role/fn","roleSessionName":"fn"}"#,
            ),
            response: Some(r#"{"credentials":{"accessKeyId":"ASIAEXAMPLE","expiration":"x"}}"#),
            account: Some("111111111111"),
            caller_user: None,
        };
        let i = issued(c, true, Some("lambda.amazonaws.com"));
        assert_eq!(
            i.map(|i| (i.access_key_id, i.for_service)),
            Some((
                "ASIAEXAMPLE".to_string(),
                Some("lambda.amazonaws.com".to_string())
            ))
        );
    }
}
