//! Tripline's normalized model. Every reader produces these types and every later stage
//! (resolution, signals, scoring, policy, response) consumes them. This crate does no IO.
//!
//! Secret values never enter the model: credentials carry identifiers that are not secrets
//! (AWS access key ids) or SHA-256 fingerprints of secrets.

pub mod glob;
mod labels;
mod risk;
mod technique;
mod tier;
mod time;

pub use labels::{Incident, Label, Labels};
pub use risk::{Assessment, Driver, Drivers, Level, Severity, Signal};
pub use technique::{IssuedCredential, Technique, Techniques};
pub use tier::Tier;
pub use time::Timestamp;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which log an event was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    CloudTrail,
    K8sAudit,
}

/// How a log names the caller, before Tripline resolves it to an identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalType {
    IamUser,
    AssumedRole,
    AwsService,
    AwsAccount,
    Root,
    FederatedUser,
    WebIdentityUser,
    SamlUser,
    IdentityCenterUser,
    K8sServiceAccount,
    K8sNode,
    K8sUser,
    K8sAnonymous,
    Unknown,
}

/// The caller as written in the log record (CloudTrail `userIdentity`, Kubernetes `user`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub principal_type: Option<PrincipalType>,
    /// The caller ARN (`userIdentity.arn`) or the Kubernetes username.
    pub arn: Option<String>,
    pub principal_id: Option<String>,
    pub account_id: Option<String>,
    /// AWS access key id (AKIA… long-lived, ASIA… temporary). Not a secret.
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    /// `sessionContext.sessionIssuer.arn`: the role (or user) behind a session.
    pub issuer_arn: Option<String>,
    pub issuer_type: Option<String>,
    /// Identity provider for web identity / SAML sessions.
    pub federated_provider: Option<String>,
    /// `userIdentity.invokedBy`: the AWS service that made the call on the caller's behalf.
    pub invoked_by: Option<String>,
    pub mfa_authenticated: Option<bool>,
    /// When the session's credentials were issued (`sessionContext.attributes.creationDate`).
    pub session_created: Option<Timestamp>,
    /// `sessionContext.ec2RoleDelivery` ("1.0"/"2.0"): credentials delivered by the EC2 IMDS.
    pub ec2_role_delivery: Option<String>,
    /// `sessionContext.sourceIdentity`, or Kubernetes `user.extra` pod/credential claims.
    pub source_identity: Option<String>,
    /// Kubernetes groups.
    pub groups: Vec<String>,
}

/// What became of the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Authorization failure (AccessDenied, UnauthorizedOperation, HTTP 401/403, RBAC deny).
    Denied,
    /// Any other failure (throttling, validation, not found…).
    Failure,
}

/// One normalized API call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Source event id: CloudTrail `eventID`, Kubernetes `auditID`.
    pub id: String,
    pub source: LogSource,
    pub time: Timestamp,
    pub actor: Actor,
    /// Service short name: `s3`, `iam`, `sts`, or `k8s` (with the API group appended for
    /// Kubernetes groups other than core, e.g. `k8s:apps`).
    pub service: String,
    /// `service:Action` in IAM action syntax (`s3:GetObject`), or `k8s:<verb>:<resource>`.
    pub action: String,
    /// The main resource acted on, when the log names one (ARN, bucket, `ns/resource/name`).
    pub resource: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub region: Option<String>,
    /// The account (or cluster) that received the call.
    pub account: Option<String>,
    pub outcome: Outcome,
    pub error_code: Option<String>,
    pub read_only: Option<bool>,
    pub vpc_endpoint: Option<String>,
    /// CloudTrail `eventType` (AwsApiCall, AwsConsoleSignIn, …) or Kubernetes stage.
    pub event_type: Option<String>,
    /// What the request does, read from its parameters (see [`Technique`]).
    #[serde(default, skip_serializing_if = "Techniques::is_empty")]
    pub techniques: Techniques,
    /// The session credential this call issued, when the log shows it (`AssumeRole*`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued: Option<IssuedCredential>,
}

/// What sort of identity this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// An IAM user or Kubernetes service account run by software.
    ServiceAccount,
    /// A long-lived key (API key, access key) whose holder is not otherwise known.
    ApiKey,
    /// A role or token bound to a workload (instance profile, task role, Lambda, IRSA, CI OIDC).
    WorkloadIdentity,
    /// An autonomous agent with tool access.
    AiAgent,
    /// An AWS service acting on the account's behalf.
    CloudService,
    /// A person, where a log says so (console sign-in, SSO session, MFA'd session).
    Human,
    /// The account root user.
    Root,
}

impl IdentityKind {
    /// Non-human identities are what Tripline scores; humans and cloud services are context.
    pub fn is_nhi(self) -> bool {
        matches!(
            self,
            Self::ServiceAccount | Self::ApiKey | Self::WorkloadIdentity | Self::AiAgent
        )
    }
}

/// What the identity is for: drives per-class thresholds and weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityClass {
    AdminFacing,
    CiCd,
    SharedIntegration,
    BatchJob,
    Telemetry,
    Agent,
    Workload,
    Unclassified,
}

impl IdentityClass {
    pub const ALL: [IdentityClass; 8] = [
        Self::AdminFacing,
        Self::CiCd,
        Self::SharedIntegration,
        Self::BatchJob,
        Self::Telemetry,
        Self::Agent,
        Self::Workload,
        Self::Unclassified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AdminFacing => "admin_facing",
            Self::CiCd => "ci_cd",
            Self::SharedIntegration => "shared_integration",
            Self::BatchJob => "batch_job",
            Self::Telemetry => "telemetry",
            Self::Agent => "agent",
            Self::Workload => "workload",
            Self::Unclassified => "unclassified",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == norm)
            .or(match norm.as_str() {
                "admin" => Some(Self::AdminFacing),
                "cicd" | "ci" | "pipeline" => Some(Self::CiCd),
                "integration" | "shared" => Some(Self::SharedIntegration),
                "batch" => Some(Self::BatchJob),
                "ai_agent" => Some(Self::Agent),
                _ => None,
            })
    }
}

impl IdentityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ServiceAccount => "service_account",
            Self::ApiKey => "api_key",
            Self::WorkloadIdentity => "workload_identity",
            Self::AiAgent => "ai_agent",
            Self::CloudService => "cloud_service",
            Self::Human => "human",
            Self::Root => "root",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let norm = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        [
            Self::ServiceAccount,
            Self::ApiKey,
            Self::WorkloadIdentity,
            Self::AiAgent,
            Self::CloudService,
            Self::Human,
            Self::Root,
        ]
        .into_iter()
        .find(|k| k.as_str() == norm)
    }
}

/// Where a fact about an identity came from (inventory, logs, owners file, inference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    OwnersFile,
    Inventory,
    Logs,
    Inferred,
}

/// One IAM policy statement, normalized (single values become one-element lists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub sid: Option<String>,
    pub allow: bool,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
    /// Principals (trust policies): `AWS`, `Service`, `Federated` → values; `*` as `("*", ["*"])`.
    pub principals: BTreeMap<String, Vec<String>>,
    /// Condition operator → key → values.
    pub conditions: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// A policy document with the place it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyDoc {
    /// Managed policy ARN, or `inline:<owner>/<name>`.
    pub source: String,
    pub name: String,
    pub kind: PolicyKind,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    Managed,
    Inline,
    /// Inherited through an IAM group.
    Group,
    Boundary,
    Trust,
    /// Kubernetes RBAC rule set (Role/ClusterRole bound to the subject).
    Rbac,
}

/// Condition key (under `StringEquals`) holding the API groups of a Kubernetes RBAC rule in a
/// [`PolicyKind::Rbac`] statement: the action string (`k8s:<verb>:<resource>`) has no group.
pub const K8S_API_GROUP_CONDITION: &str = "k8s:apiGroup";

/// What an identity is allowed to do, as found in inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Privileges {
    /// Identity policies that grant or deny (attached, inline, via groups).
    pub policies: Vec<PolicyDoc>,
    pub permissions_boundary: Option<PolicyDoc>,
    /// For roles: who may assume it.
    pub trust: Option<PolicyDoc>,
    pub groups: Vec<String>,
    /// Managed policies referenced but not present in the inventory file.
    pub unresolved_policies: Vec<String>,
}

/// The sort of secret a credential is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// AKIA… long-lived IAM access key.
    AccessKey,
    /// ASIA… temporary STS session credentials.
    SessionToken,
    /// Console password.
    Password,
    /// Kubernetes service-account token.
    K8sToken,
    /// A secret found by a scanner, matched by fingerprint.
    Secret,
    /// X.509 signing certificate.
    Certificate,
}

/// A credential held by an identity. Holds identifiers and fingerprints, never secret values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    /// AWS access key id, a session id, or `sha256:<hex>` of a secret.
    pub id: String,
    pub kind: CredentialKind,
    pub active: Option<bool>,
    pub created: Option<Timestamp>,
    pub last_rotated: Option<Timestamp>,
    pub last_used: Option<Timestamp>,
    pub last_used_region: Option<String>,
    pub last_used_service: Option<String>,
    /// How many events used it in the logs read.
    pub events: u64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
}

impl Credential {
    pub fn new(id: impl Into<String>, kind: CredentialKind) -> Self {
        Self {
            id: id.into(),
            kind,
            active: None,
            created: None,
            last_rotated: None,
            last_used: None,
            last_used_region: None,
            last_used_service: None,
            events: 0,
            first_seen: None,
            last_seen: None,
        }
    }

    /// The kind an AWS access key id implies (AKIA… long-lived, ASIA… temporary).
    pub fn kind_of_aws_key(key_id: &str) -> CredentialKind {
        if key_id.starts_with("ASIA") {
            CredentialKind::SessionToken
        } else {
            CredentialKind::AccessKey
        }
    }
}

/// A resolved identity: the unit Tripline scores and responds on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Principal ARN for IAM users and roles (the role ARN for assumed-role sessions),
    /// `system:serviceaccount:<ns>:<name>` for Kubernetes service accounts.
    pub id: String,
    pub name: String,
    pub kind: IdentityKind,
    pub kind_from: Provenance,
    pub class: IdentityClass,
    pub class_from: Provenance,
    pub owner: Option<String>,
    pub environment: Option<String>,
    pub account: Option<String>,
    pub created: Option<Timestamp>,
    /// Declared purpose (owners file); AI agents are judged against it.
    pub intent: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub privileges: Privileges,
    pub credentials: Vec<Credential>,
    /// Whether the identity appears in inventory (as opposed to only in logs).
    pub in_inventory: bool,
    pub events: u64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
}

impl Identity {
    pub fn new(id: impl Into<String>, name: impl Into<String>, kind: IdentityKind) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            kind,
            kind_from: Provenance::Inferred,
            class: IdentityClass::Unclassified,
            class_from: Provenance::Inferred,
            owner: None,
            environment: None,
            account: None,
            created: None,
            intent: None,
            tags: BTreeMap::new(),
            privileges: Privileges::default(),
            credentials: Vec::new(),
            in_inventory: false,
            events: 0,
            first_seen: None,
            last_seen: None,
        }
    }

    /// The credential with this id, created if missing.
    pub fn credential_mut(&mut self, id: &str, kind: CredentialKind) -> &mut Credential {
        let pos = match self.credentials.iter().position(|c| c.id == id) {
            Some(p) => p,
            None => {
                self.credentials.push(Credential::new(id, kind));
                self.credentials.len() - 1
            }
        };
        // `pos` is in bounds: it was found or just pushed.
        #[allow(clippy::indexing_slicing)]
        &mut self.credentials[pos]
    }
}

/// A secret found by a scanner, reduced to what may be kept: a fingerprint and, for AWS keys,
/// the (non-secret) key id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leak {
    /// `sha256:<hex>` of the secret value.
    pub fingerprint: String,
    pub aws_key_id: Option<String>,
    /// Which scanner and rule found it.
    pub found_by: String,
    /// Where (file:line, commit).
    pub location: String,
    pub verified: Option<bool>,
    pub found_at: Option<Timestamp>,
}

/// A record a reader could not accept: kept with its reason so nothing vanishes silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejected {
    /// File (and member) the record came from.
    pub origin: String,
    /// 1-based line, or record index within a `Records` array, when known.
    pub position: Option<u64>,
    /// Stable machine-readable reason code (e.g. `not_json`, `too_large`, `unknown_format`).
    pub reason: RejectReason,
    /// Human explanation.
    pub detail: String,
    /// The first bytes of the record (capped), to help whoever fixes the input.
    pub excerpt: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// The bytes are not valid JSON.
    NotJson,
    /// Valid JSON, but not a record of any supported log type.
    UnknownFormat,
    /// A supported log type that Tripline does not read (e.g. Okta in a Panther bundle).
    UnsupportedLogType,
    /// Recognized log type but a required field is missing or has the wrong type.
    InvalidRecord,
    /// Record larger than the configured cap.
    TooLarge,
    /// JSON nested deeper than the configured cap.
    TooDeep,
    /// The compressed stream ended early or is corrupt; the rest of the file is unreadable.
    CorruptCompression,
    /// The decompressed size cap was reached; the rest of the file was not read.
    DecompressedTooLarge,
    /// The file could not be read at all.
    Unreadable,
    /// Not UTF-8 text.
    NotUtf8,
    /// Dated further after the wall clock than the tolerance allows.
    FutureTimestamp,
    /// An event id already read with different content (the first record is kept).
    DuplicateIdConflict,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotJson => "not_json",
            Self::UnknownFormat => "unknown_format",
            Self::UnsupportedLogType => "unsupported_log_type",
            Self::InvalidRecord => "invalid_record",
            Self::TooLarge => "too_large",
            Self::TooDeep => "too_deep",
            Self::CorruptCompression => "corrupt_compression",
            Self::DecompressedTooLarge => "decompressed_too_large",
            Self::Unreadable => "unreadable",
            Self::NotUtf8 => "not_utf8",
            Self::FutureTimestamp => "future_timestamp",
            Self::DuplicateIdConflict => "duplicate_id_conflict",
        }
    }
}

/// The account id of an ARN (`arn:partition:service:region:account:resource`), when it has one
/// (`arn:aws:iam::123456789012:role/x` → `123456789012`; `arn:aws:s3:::bucket` → none).
pub fn account_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    if parts.next() != Some("arn") {
        return None;
    }
    let account = parts.nth(3)?;
    (!account.is_empty()).then_some(account)
}

#[cfg(test)]
mod arn_tests {
    use super::account_of_arn;

    #[test]
    fn account_comes_from_the_fifth_arn_field() {
        assert_eq!(
            account_of_arn("arn:aws:iam::012345678901:user/obama"),
            Some("012345678901")
        );
        assert_eq!(
            account_of_arn("arn:aws:iam::aws:policy/AdministratorAccess"),
            Some("aws")
        );
        assert_eq!(account_of_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(account_of_arn("system:serviceaccount:ns:x"), None);
    }
}
