//! The signal catalog: stable codes, their driver, default severity and framework tags, and the
//! sensitive-action knowledge base (public knowledge of what an API call does to an account).

use tripline_model::{Driver, Severity};

/// A signal's fixed description.
#[derive(Debug, Clone, Copy)]
pub struct SignalDef {
    pub code: &'static str,
    pub driver: Driver,
    pub severity: Severity,
    pub frameworks: &'static [&'static str],
}

macro_rules! defs {
    ($($name:ident = $code:literal, $driver:ident, $sev:ident, [$($fw:literal),*];)*) => {
        $(pub const $name: SignalDef = SignalDef {
            code: $code,
            driver: Driver::$driver,
            severity: Severity::$sev,
            frameworks: &[$($fw),*],
        };)*
        /// Every signal the engine can raise.
        pub const ALL: &[SignalDef] = &[$($name),*];
    };
}

defs! {
    PRIV_ADMIN = "PRIV_ADMIN", Privilege, Critical, ["OWASP-NHI:NHI5", "NIST-CSF:PR.AA-05"];
    PRIV_ESCALATION_PATH = "PRIV_ESCALATION_PATH", Privilege, High, ["OWASP-NHI:NHI5", "NIST-CSF:PR.AA-05"];
    PRIV_WILDCARD_SERVICE = "PRIV_WILDCARD_SERVICE", Privilege, Medium, ["OWASP-NHI:NHI5", "NIST-CSF:PR.AA-05"];
    PRIV_BROAD_TRUST = "PRIV_BROAD_TRUST", Privilege, High, ["OWASP-NHI:NHI5", "OWASP-NHI:NHI6", "NIST-CSF:PR.AA-05"];
    PRIV_UNUSED_GRANTS = "PRIV_UNUSED_GRANTS", Privilege, Low, ["OWASP-NHI:NHI5", "NIST-CSF:PR.AA-05"];
    PRIV_DEMONSTRATED = "PRIV_DEMONSTRATED", Privilege, Medium, ["OWASP-NHI:NHI5", "NIST-CSF:PR.AA-05"];
    PRIV_K8S_CLUSTER_ADMIN = "PRIV_K8S_CLUSTER_ADMIN", Privilege, High, ["OWASP-NHI:NHI5", "NIST-CSF:PR.AA-05"];
    PRIV_K8S_SECRETS = "PRIV_K8S_SECRETS", Privilege, Medium, ["OWASP-NHI:NHI5", "NIST-CSF:PR.AA-05"];
    PRIV_K8S_POD_EXEC = "PRIV_K8S_POD_EXEC", Privilege, Medium, ["OWASP-NHI:NHI5", "NIST-CSF:PR.AA-05"];
    EXP_KEY_AGE = "EXP_KEY_AGE", Exposure, Medium, ["OWASP-NHI:NHI7", "NIST-CSF:PR.AA-01"];
    EXP_NEVER_ROTATED = "EXP_NEVER_ROTATED", Exposure, Medium, ["OWASP-NHI:NHI7", "NIST-CSF:PR.AA-01"];
    EXP_TWO_ACTIVE_KEYS = "EXP_TWO_ACTIVE_KEYS", Exposure, Low, ["OWASP-NHI:NHI7", "NIST-CSF:PR.AA-01"];
    EXP_UNUSED_ACTIVE_KEY = "EXP_UNUSED_ACTIVE_KEY", Exposure, Medium, ["OWASP-NHI:NHI1", "NIST-CSF:PR.AA-01", "NIST-CSF:ID.AM-08"];
    EXP_LONG_LIVED_KEY = "EXP_LONG_LIVED_KEY", Exposure, Low, ["OWASP-NHI:NHI7", "OWASP-NHI:NHI4", "NIST-CSF:PR.AA-01"];
    EXP_SECRET_LEAKED = "EXP_SECRET_LEAKED", Exposure, Critical, ["OWASP-NHI:NHI2", "NIST-CSF:PR.AA-01"];
    EXP_SHARED_CREDENTIAL = "EXP_SHARED_CREDENTIAL", Exposure, Medium, ["OWASP-NHI:NHI9", "OWASP-NHI:NHI8", "NIST-CSF:PR.AA-01"];
    EXP_CREDENTIAL_OFF_WORKLOAD = "EXP_CREDENTIAL_OFF_WORKLOAD", Exposure, Critical, ["OWASP-NHI:NHI2", "OWASP-NHI:NHI4", "NIST-CSF:PR.AA-04", "NIST-CSF:DE.CM-03"];
    BEH_NEW_NETWORK = "BEH_NEW_NETWORK", Behaviour, Medium, ["OWASP-NHI:NHI2", "NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-02"];
    BEH_NEW_REGION = "BEH_NEW_REGION", Behaviour, Medium, ["NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-02"];
    BEH_NEW_USER_AGENT = "BEH_NEW_USER_AGENT", Behaviour, Low, ["NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-02"];
    BEH_NEW_ACTIONS = "BEH_NEW_ACTIONS", Behaviour, Low, ["NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-02"];
    BEH_NEW_SERVICE = "BEH_NEW_SERVICE", Behaviour, Medium, ["NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-02"];
    BEH_RARE_SEQUENCE = "BEH_RARE_SEQUENCE", Behaviour, Medium, ["NIST-CSF:DE.AE-02", "NIST-CSF:DE.AE-03"];
    BEH_DENIED_BURST = "BEH_DENIED_BURST", Behaviour, High, ["NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-02"];
    BEH_ENUMERATION = "BEH_ENUMERATION", Behaviour, High, ["NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-02"];
    BEH_VOLUME_SPIKE = "BEH_VOLUME_SPIKE", Behaviour, Medium, ["NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-03"];
    CTX_SCALE_UP = "CTX_SCALE_UP", Behaviour, Info, ["NIST-CSF:DE.AE-03"];
    BEH_INTERACTIVE_USE = "BEH_INTERACTIVE_USE", Behaviour, Medium, ["OWASP-NHI:NHI10", "NIST-CSF:DE.CM-03"];
    BEH_DORMANT_REACTIVATED = "BEH_DORMANT_REACTIVATED", Behaviour, Medium, ["OWASP-NHI:NHI1", "NIST-CSF:DE.CM-03"];
    BEH_SENSITIVE_ACTION = "BEH_SENSITIVE_ACTION", Behaviour, High, ["NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-02"];
    BEH_ESCALATION_ACTIVITY = "BEH_ESCALATION_ACTIVITY", Behaviour, High, ["OWASP-NHI:NHI5", "NIST-CSF:DE.AE-02", "NIST-CSF:PR.AA-05"];
    BEH_AGENT_OUT_OF_INTENT = "BEH_AGENT_OUT_OF_INTENT", Behaviour, High, ["OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-AI-RMF:MEASURE-2.4", "NIST-AI-RMF:MANAGE-2.4"];
    // Techniques read from request parameters (see `detect::technique`).
    BEH_RESOURCE_SHARED_OUT = "BEH_RESOURCE_SHARED_OUT", Behaviour, High, ["OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.DS-01"];
    BEH_PUBLIC_ACCESS_OPENED = "BEH_PUBLIC_ACCESS_OPENED", Behaviour, High, ["OWASP-NHI:NHI6", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.PS-01"];
    BEH_TRUST_OPENED = "BEH_TRUST_OPENED", Behaviour, High, ["OWASP-NHI:NHI5", "OWASP-NHI:NHI6", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.AA-05"];
    BEH_CREDENTIAL_FOR_OTHER = "BEH_CREDENTIAL_FOR_OTHER", Behaviour, High, ["OWASP-NHI:NHI5", "OWASP-NHI:NHI7", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.AA-01"];
    BEH_LOGGING_TAMPERED = "BEH_LOGGING_TAMPERED", Behaviour, Critical, ["OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.PS-04"];
    BEH_LEAVE_ORGANIZATION = "BEH_LEAVE_ORGANIZATION", Behaviour, Critical, ["OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-CSF:GV.PO-01"];
    BEH_WORKLOAD_CODE_CHANGED = "BEH_WORKLOAD_CODE_CHANGED", Behaviour, High, ["OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-CSF:DE.CM-09"];
    BEH_IDENTITY_PROVIDER_ADDED = "BEH_IDENTITY_PROVIDER_ADDED", Behaviour, High, ["OWASP-NHI:NHI4", "OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.AA-03"];
    BEH_CREDENTIAL_ACCESS_BURST = "BEH_CREDENTIAL_ACCESS_BURST", Behaviour, High, ["OWASP-NHI:NHI2", "NIST-CSF:DE.CM-03", "NIST-CSF:DE.AE-02"];
    BEH_UNUSUAL_COMPUTE = "BEH_UNUSUAL_COMPUTE", Behaviour, High, ["OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-CSF:DE.CM-09"];
    BEH_K8S_PRIVILEGED_WORKLOAD = "BEH_K8S_PRIVILEGED_WORKLOAD", Behaviour, High, ["OWASP-NHI:NHI5", "OWASP-NHI:NHI6", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.PS-01"];
    BEH_K8S_POD_EXEC = "BEH_K8S_POD_EXEC", Behaviour, High, ["OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-CSF:DE.CM-09"];
    BEH_K8S_RBAC_ESCALATION = "BEH_K8S_RBAC_ESCALATION", Behaviour, Critical, ["OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.AA-05"];
    BEH_K8S_SYSTEM_NAMESPACE_WRITE = "BEH_K8S_SYSTEM_NAMESPACE_WRITE", Behaviour, High, ["OWASP-NHI:NHI5", "OWASP-NHI:NHI8", "NIST-CSF:DE.CM-03"];
    BEH_K8S_SYSTEM_ROLE_CHANGED = "BEH_K8S_SYSTEM_ROLE_CHANGED", Behaviour, High, ["OWASP-NHI:NHI5", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.AA-05"];
    BEH_K8S_ANONYMOUS_ALLOWED = "BEH_K8S_ANONYMOUS_ALLOWED", Behaviour, High, ["OWASP-NHI:NHI4", "OWASP-NHI:NHI6", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.AA-03"];
    BEH_K8S_TOKEN_REQUEST = "BEH_K8S_TOKEN_REQUEST", Behaviour, High, ["OWASP-NHI:NHI9", "NIST-CSF:DE.CM-03", "NIST-CSF:PR.AA-01"];
    BEH_K8S_SECRET_READ = "BEH_K8S_SECRET_READ", Behaviour, Medium, ["OWASP-NHI:NHI2", "NIST-CSF:DE.CM-03"];
}

/// Signals that name a hostile technique: what an attacker must do, not merely something new.
/// One of them lifts a non-human identity to at least its class's step-up threshold on its own
/// (see `score::Calibration`); novelty signals (a new region, service or client) never do.
pub const HOSTILE: &[&str] = &[
    "EXP_CREDENTIAL_OFF_WORKLOAD",
    "BEH_ESCALATION_ACTIVITY",
    "BEH_DENIED_BURST",
    "BEH_ENUMERATION",
    "BEH_AGENT_OUT_OF_INTENT",
    "BEH_DORMANT_REACTIVATED",
    "BEH_RESOURCE_SHARED_OUT",
    "BEH_PUBLIC_ACCESS_OPENED",
    "BEH_TRUST_OPENED",
    "BEH_CREDENTIAL_FOR_OTHER",
    "BEH_LOGGING_TAMPERED",
    "BEH_LEAVE_ORGANIZATION",
    "BEH_WORKLOAD_CODE_CHANGED",
    "BEH_IDENTITY_PROVIDER_ADDED",
    "BEH_CREDENTIAL_ACCESS_BURST",
    "BEH_UNUSUAL_COMPUTE",
    "BEH_K8S_PRIVILEGED_WORKLOAD",
    "BEH_K8S_POD_EXEC",
    "BEH_K8S_RBAC_ESCALATION",
    "BEH_K8S_SYSTEM_NAMESPACE_WRITE",
    "BEH_K8S_SYSTEM_ROLE_CHANGED",
    "BEH_K8S_ANONYMOUS_ALLOWED",
    "BEH_K8S_TOKEN_REQUEST",
];

pub fn is_hostile(code: &str) -> bool {
    HOSTILE.contains(&code)
}

/// Signals raised by events (an incident in progress), as opposed to standing posture read from
/// inventory. A score made only of standing posture is a posture finding, not an incident.
pub fn is_incident(code: &str, driver: Driver, severity: Severity) -> bool {
    match driver {
        Driver::Behaviour => code != "CTX_SCALE_UP" && severity >= Severity::Medium,
        Driver::Exposure => matches!(
            code,
            "EXP_CREDENTIAL_OFF_WORKLOAD" | "EXP_SECRET_LEAKED" | "EXP_SHARED_CREDENTIAL"
        ),
        Driver::Privilege => false,
    }
}

/// Framework tags added to every signal on an AI agent.
pub const AI_AGENT_TAGS: &[&str] = &["NIST-AI-RMF:MEASURE-2.4", "NIST-AI-RMF:GOVERN-1.6"];

pub fn def(code: &str) -> Option<&'static SignalDef> {
    ALL.iter().find(|d| d.code == code)
}

/// What a sensitive API call does, in an attacker's playbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tactic {
    DefenseEvasion,
    CredentialAccess,
    Persistence,
    PrivilegeEscalation,
    Exfiltration,
    Execution,
    Impact,
    Discovery,
    LateralMovement,
}

impl Tactic {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DefenseEvasion => "defense evasion",
            Self::CredentialAccess => "credential access",
            Self::Persistence => "persistence",
            Self::PrivilegeEscalation => "privilege escalation",
            Self::Exfiltration => "exfiltration",
            Self::Execution => "execution",
            Self::Impact => "impact",
            Self::Discovery => "discovery",
            Self::LateralMovement => "lateral movement",
        }
    }
}

/// A sensitive action: (IAM action, tactic, severity, what it does).
pub type Sensitive = (&'static str, Tactic, Severity, &'static str);

use Severity::{High, Low, Medium};
use Tactic::*;

/// API calls whose use by an identity is worth a look on their own, before any baseline exists.
/// Public knowledge of AWS and Kubernetes APIs; no dataset-specific names.
pub const SENSITIVE: &[Sensitive] = &[
    (
        "cloudtrail:StopLogging",
        DefenseEvasion,
        High,
        "stops CloudTrail logging",
    ),
    (
        "cloudtrail:DeleteTrail",
        DefenseEvasion,
        High,
        "deletes a CloudTrail trail",
    ),
    (
        "cloudtrail:UpdateTrail",
        DefenseEvasion,
        Medium,
        "changes where or what a trail logs",
    ),
    (
        "cloudtrail:PutEventSelectors",
        DefenseEvasion,
        High,
        "changes which events a trail records",
    ),
    (
        "s3:PutBucketLifecycle",
        DefenseEvasion,
        Medium,
        "sets a lifecycle rule that can expire logs or data",
    ),
    (
        "s3:PutLifecycleConfiguration",
        DefenseEvasion,
        Medium,
        "sets a lifecycle rule that can expire logs or data",
    ),
    (
        "ec2:DeleteFlowLogs",
        DefenseEvasion,
        High,
        "deletes VPC flow logs",
    ),
    (
        "route53resolver:DeleteResolverQueryLogConfig",
        DefenseEvasion,
        High,
        "deletes DNS query logging",
    ),
    (
        "route53resolver:DisassociateResolverQueryLogConfig",
        DefenseEvasion,
        High,
        "detaches DNS query logging",
    ),
    (
        "guardduty:DeleteDetector",
        DefenseEvasion,
        High,
        "deletes the GuardDuty detector",
    ),
    (
        "guardduty:UpdateDetector",
        DefenseEvasion,
        Medium,
        "changes or disables GuardDuty",
    ),
    (
        "config:StopConfigurationRecorder",
        DefenseEvasion,
        High,
        "stops AWS Config recording",
    ),
    (
        "config:DeleteConfigurationRecorder",
        DefenseEvasion,
        High,
        "deletes AWS Config recording",
    ),
    (
        "organizations:LeaveOrganization",
        DefenseEvasion,
        High,
        "takes the account out of its organization and its guardrails",
    ),
    (
        "logs:DeleteLogGroup",
        DefenseEvasion,
        Medium,
        "deletes a CloudWatch log group",
    ),
    (
        "securityhub:DisableSecurityHub",
        DefenseEvasion,
        High,
        "disables Security Hub",
    ),
    (
        "ec2:GetPasswordData",
        CredentialAccess,
        High,
        "retrieves an instance's Windows administrator password",
    ),
    (
        "secretsmanager:BatchGetSecretValue",
        CredentialAccess,
        High,
        "retrieves many secrets in one call",
    ),
    (
        "secretsmanager:GetSecretValue",
        CredentialAccess,
        Medium,
        "retrieves a secret's value",
    ),
    (
        "ssm:GetParameters",
        CredentialAccess,
        Low,
        "reads SSM parameters (possibly SecureStrings)",
    ),
    (
        "ssm:GetParametersByPath",
        CredentialAccess,
        Medium,
        "reads a tree of SSM parameters (possibly SecureStrings)",
    ),
    (
        "ssm:DescribeParameters",
        Discovery,
        Low,
        "lists SSM parameters",
    ),
    (
        "iam:CreateAccessKey",
        Persistence,
        High,
        "creates a long-lived access key",
    ),
    (
        "iam:CreateLoginProfile",
        Persistence,
        High,
        "gives a user a console password",
    ),
    (
        "iam:UpdateLoginProfile",
        PrivilegeEscalation,
        High,
        "changes a user's console password",
    ),
    ("iam:CreateUser", Persistence, Medium, "creates an IAM user"),
    ("iam:CreateRole", Persistence, Medium, "creates an IAM role"),
    (
        "iam:UpdateAssumeRolePolicy",
        Persistence,
        High,
        "changes who can assume a role",
    ),
    (
        "iam:AttachUserPolicy",
        PrivilegeEscalation,
        High,
        "attaches a policy to a user",
    ),
    (
        "iam:AttachRolePolicy",
        PrivilegeEscalation,
        High,
        "attaches a policy to a role",
    ),
    (
        "iam:AttachGroupPolicy",
        PrivilegeEscalation,
        High,
        "attaches a policy to a group",
    ),
    (
        "iam:PutUserPolicy",
        PrivilegeEscalation,
        High,
        "writes an inline policy on a user",
    ),
    (
        "iam:PutRolePolicy",
        PrivilegeEscalation,
        High,
        "writes an inline policy on a role",
    ),
    (
        "iam:PutGroupPolicy",
        PrivilegeEscalation,
        High,
        "writes an inline policy on a group",
    ),
    (
        "iam:CreatePolicyVersion",
        PrivilegeEscalation,
        High,
        "rewrites a managed policy",
    ),
    (
        "iam:SetDefaultPolicyVersion",
        PrivilegeEscalation,
        High,
        "switches a managed policy to another version",
    ),
    (
        "iam:AddUserToGroup",
        PrivilegeEscalation,
        Medium,
        "adds a user to a group",
    ),
    (
        "sts:GetFederationToken",
        Persistence,
        Medium,
        "mints federated session credentials that outlive a key's deactivation",
    ),
    (
        "rolesanywhere:CreateTrustAnchor",
        Persistence,
        High,
        "trusts an external certificate authority to assume roles",
    ),
    (
        "rolesanywhere:CreateProfile",
        Persistence,
        Medium,
        "creates an IAM Roles Anywhere profile",
    ),
    (
        "lambda:UpdateFunctionCode",
        Persistence,
        Medium,
        "replaces a function's code",
    ),
    (
        "lambda:UpdateFunctionConfiguration",
        Persistence,
        Low,
        "changes a function's configuration (layers, role, environment)",
    ),
    (
        "lambda:AddPermission",
        Persistence,
        Medium,
        "lets another principal invoke a function",
    ),
    (
        "lambda:CreateFunction",
        Execution,
        Low,
        "creates a function",
    ),
    (
        "lambda:PublishLayerVersion",
        Persistence,
        Low,
        "publishes a layer that runs inside functions",
    ),
    (
        "ec2:ModifySnapshotAttribute",
        Exfiltration,
        High,
        "shares an EBS snapshot",
    ),
    (
        "ec2:ModifyImageAttribute",
        Exfiltration,
        High,
        "shares a machine image",
    ),
    (
        "rds:ModifyDBSnapshotAttribute",
        Exfiltration,
        High,
        "shares a database snapshot",
    ),
    (
        "rds:ModifyDBClusterSnapshotAttribute",
        Exfiltration,
        High,
        "shares a database cluster snapshot",
    ),
    (
        "s3:PutBucketPolicy",
        Exfiltration,
        Medium,
        "changes who can read or write a bucket",
    ),
    (
        "s3:PutBucketAcl",
        Exfiltration,
        Medium,
        "changes a bucket's access control list",
    ),
    (
        "s3:DeleteBucketPolicy",
        DefenseEvasion,
        Low,
        "removes a bucket policy",
    ),
    (
        "ec2:AuthorizeSecurityGroupIngress",
        Exfiltration,
        Medium,
        "opens inbound network access",
    ),
    (
        "ssm:SendCommand",
        Execution,
        High,
        "runs commands on instances",
    ),
    (
        "ssm:StartSession",
        Execution,
        High,
        "opens an interactive shell on an instance",
    ),
    (
        "ec2:ModifyInstanceAttribute",
        Execution,
        Medium,
        "changes an instance (e.g. its startup user data)",
    ),
    (
        "ec2:DescribeInstanceAttribute",
        Discovery,
        Low,
        "reads instance attributes such as user data",
    ),
    (
        "ec2-instance-connect:SendSSHPublicKey",
        LateralMovement,
        High,
        "pushes an SSH key to an instance",
    ),
    (
        "ec2-instance-connect:SendSerialConsoleSSHPublicKey",
        LateralMovement,
        High,
        "pushes an SSH key to an instance's serial console",
    ),
    ("ec2:RunInstances", Execution, Low, "launches instances"),
    (
        "kms:ScheduleKeyDeletion",
        Impact,
        High,
        "schedules a KMS key for deletion",
    ),
    ("kms:DisableKey", Impact, Medium, "disables a KMS key"),
    (
        "s3:DeleteObjects",
        Impact,
        Medium,
        "deletes objects in bulk",
    ),
    (
        "s3:PutBucketVersioning",
        Impact,
        Low,
        "changes bucket versioning",
    ),
    (
        "bedrock:InvokeModel",
        Impact,
        Low,
        "invokes a foundation model (billed to the account)",
    ),
    (
        "bedrock:InvokeModelWithResponseStream",
        Impact,
        Low,
        "invokes a foundation model (billed to the account)",
    ),
    (
        "bedrock:PutUseCaseForModelAccess",
        Impact,
        Medium,
        "requests access to foundation models",
    ),
    (
        "ses:GetSendQuota",
        Discovery,
        Low,
        "checks how much mail the account can send",
    ),
    (
        "ses:ListIdentities",
        Discovery,
        Low,
        "lists email sending identities",
    ),
    (
        "sts:GetCallerIdentity",
        Discovery,
        Low,
        "asks who the credential belongs to",
    ),
    (
        "signin:ConsoleLogin",
        LateralMovement,
        Medium,
        "signs in to the console",
    ),
    (
        "signin:GetSigninToken",
        LateralMovement,
        Medium,
        "turns API credentials into a console session",
    ),
    (
        "k8s:create:pods/exec",
        Execution,
        High,
        "opens a shell in a running pod",
    ),
    (
        "k8s:get:pods/exec",
        Execution,
        High,
        "opens a shell in a running pod",
    ),
    (
        "k8s:create:pods/attach",
        Execution,
        High,
        "attaches to a running pod",
    ),
    (
        "k8s:create:serviceaccounts/token",
        CredentialAccess,
        High,
        "mints a service-account token",
    ),
    (
        "k8s:list:secrets",
        CredentialAccess,
        Medium,
        "lists secrets",
    ),
    ("k8s:get:secrets", CredentialAccess, Low, "reads a secret"),
    (
        "k8s:create:clusterrolebindings",
        PrivilegeEscalation,
        High,
        "binds a cluster-wide role",
    ),
    (
        "k8s:create:rolebindings",
        PrivilegeEscalation,
        Medium,
        "binds a role",
    ),
    (
        "k8s:escalate:clusterroles",
        PrivilegeEscalation,
        High,
        "escalates a cluster role",
    ),
    (
        "k8s:impersonate:users",
        PrivilegeEscalation,
        High,
        "impersonates a user",
    ),
    (
        "k8s:impersonate:serviceaccounts",
        PrivilegeEscalation,
        High,
        "impersonates a service account",
    ),
    (
        "k8s:create:certificatesigningrequests",
        CredentialAccess,
        Medium,
        "requests a client certificate",
    ),
];

/// The catalog entry for an action, if it is sensitive.
pub fn sensitive(action: &str) -> Option<&'static Sensitive> {
    SENSITIVE.iter().find(|s| s.0.eq_ignore_ascii_case(action))
}

/// IAM calls that change someone's privileges or credentials: the escalation family.
pub fn is_escalation_call(action: &str) -> bool {
    sensitive(action).is_some_and(|s| s.1 == PrivilegeEscalation)
        || matches!(
            action,
            "iam:CreateAccessKey" | "iam:CreateLoginProfile" | "iam:UpdateAssumeRolePolicy"
        )
}

/// A call to a foundation model (an agent reasoning), not a tool call.
pub fn is_model_invocation(action: &str) -> bool {
    [
        "bedrock:InvokeModel",
        "bedrock:Converse",
        "bedrock:ApplyGuardrail",
        "sagemaker:InvokeEndpoint",
    ]
    .iter()
    .any(|p| action.starts_with(p))
}

/// Services that govern identities, secrets and the organization itself.
pub fn is_control_plane_service(service: &str) -> bool {
    matches!(
        service,
        "iam"
            | "sts"
            | "organizations"
            | "secretsmanager"
            | "kms"
            | "ssm"
            | "sso"
            | "identitystore"
    )
}

/// Calls that mark a legitimate scale-up: a deployment or a capacity change.
pub fn is_scale_marker(action: &str) -> bool {
    matches!(
        action,
        "cloudformation:UpdateStack"
            | "cloudformation:CreateStack"
            | "cloudformation:ExecuteChangeSet"
            | "autoscaling:SetDesiredCapacity"
            | "autoscaling:UpdateAutoScalingGroup"
            | "ecs:UpdateService"
            | "ecs:CreateService"
            | "eks:UpdateNodegroupConfig"
            | "application-autoscaling:RegisterScalableTarget"
            | "lambda:PutProvisionedConcurrencyConfig"
            | "codedeploy:CreateDeployment"
            | "k8s:apps:patch:deployments"
            | "k8s:patch:deployments"
            | "k8s:update:deployments"
            | "k8s:patch:deployments/scale"
            | "k8s:update:deployments/scale"
            | "k8s:create:horizontalpodautoscalers"
    )
}

/// Read-only calls by naming convention (the enumeration family).
pub fn is_read_call(action: &str) -> bool {
    let name = action.rsplit(':').next().unwrap_or(action);
    name.starts_with("List")
        || name.starts_with("Describe")
        || name.starts_with("Get")
        || name.starts_with("Head")
        || name.starts_with("Search")
        || name.starts_with("BatchGet")
        || action.starts_with("k8s:list:")
        || action.starts_with("k8s:get:")
        || action.starts_with("k8s:watch:")
}
