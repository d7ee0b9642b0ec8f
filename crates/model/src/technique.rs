//! What a request does, read from its parameters rather than from its name alone.
//!
//! `ec2:ModifySnapshotAttribute` is routine when it removes a permission and exfiltration when it
//! shares a snapshot with `all`; a Kubernetes `create pods` is routine unless the pod is
//! privileged or mounts the node's filesystem. Readers (ingest) recognise these from the
//! request and set [`Technique`] bits on the [`crate::Event`]; detectors (engine) decide what a
//! technique means for the identity that used it. The bits carry no resource names, so nothing
//! downstream can key on a dataset's identifiers.

use serde::{Deserialize, Serialize};

/// An attacker technique a request performs, recognised from its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Technique {
    /// A snapshot, AMI or database snapshot shared with another account or with everyone.
    ResourceSharedOut = 0,
    /// A bucket policy or ACL granting `*`, all users, or another account; public access block removed.
    BucketOpened,
    /// Security-group ingress from `0.0.0.0/0` or `::/0`.
    PublicIngress,
    /// A trust or resource policy opened to `*` or to another account.
    TrustOpened,
    /// An access key, login profile or password created for a different principal.
    CredentialForOther,
    /// Audit logging stopped, deleted, narrowed, or set to expire (CloudTrail, flow logs,
    /// GuardDuty, Config, the trail's bucket).
    LoggingTampered,
    /// The account leaves its organization (and its guardrails).
    LeaveOrganization,
    /// Code that runs with a workload's identity replaced: function code or layers, instance
    /// user data, a command sent to instances.
    WorkloadCodeChanged,
    /// A new way in: an identity provider, a Roles Anywhere trust anchor or profile.
    IdentityProviderAdded,
    /// A read of secret material: instance passwords, user data, secrets, decrypted parameters.
    CredentialRead,
    /// Compute launched with instance types that serve mining or bulk work (GPU, very large).
    UnusualCompute,
    /// A Kubernetes workload that is privileged, shares host namespaces, mounts a sensitive host
    /// path or adds dangerous capabilities.
    K8sPrivilegedWorkload,
    /// `exec`, `attach` or `portforward` into a pod.
    K8sPodExec,
    /// An RBAC binding to `cluster-admin` (or another all-powerful role), or a role granting
    /// wildcards, `escalate`/`bind`/`impersonate`, `pods/exec` or secrets.
    K8sRbacEscalation,
    /// A write in a system namespace (`kube-system`, `kube-public`, `kube-node-lease`).
    K8sSystemNamespaceWrite,
    /// A built-in `system:` ClusterRole or binding changed or deleted.
    K8sSystemRoleChanged,
    /// A request by an unauthenticated user that was allowed.
    K8sAnonymousAllowed,
    /// A service-account token requested for another service account.
    K8sTokenRequest,
    /// Secrets read or listed.
    K8sSecretRead,
}

impl Technique {
    pub const ALL: [Technique; 19] = [
        Self::ResourceSharedOut,
        Self::BucketOpened,
        Self::PublicIngress,
        Self::TrustOpened,
        Self::CredentialForOther,
        Self::LoggingTampered,
        Self::LeaveOrganization,
        Self::WorkloadCodeChanged,
        Self::IdentityProviderAdded,
        Self::CredentialRead,
        Self::UnusualCompute,
        Self::K8sPrivilegedWorkload,
        Self::K8sPodExec,
        Self::K8sRbacEscalation,
        Self::K8sSystemNamespaceWrite,
        Self::K8sSystemRoleChanged,
        Self::K8sAnonymousAllowed,
        Self::K8sTokenRequest,
        Self::K8sSecretRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ResourceSharedOut => "resource_shared_out",
            Self::BucketOpened => "bucket_opened",
            Self::PublicIngress => "public_ingress",
            Self::TrustOpened => "trust_opened",
            Self::CredentialForOther => "credential_for_other",
            Self::LoggingTampered => "logging_tampered",
            Self::LeaveOrganization => "leave_organization",
            Self::WorkloadCodeChanged => "workload_code_changed",
            Self::IdentityProviderAdded => "identity_provider_added",
            Self::CredentialRead => "credential_read",
            Self::UnusualCompute => "unusual_compute",
            Self::K8sPrivilegedWorkload => "k8s_privileged_workload",
            Self::K8sPodExec => "k8s_pod_exec",
            Self::K8sRbacEscalation => "k8s_rbac_escalation",
            Self::K8sSystemNamespaceWrite => "k8s_system_namespace_write",
            Self::K8sSystemRoleChanged => "k8s_system_role_changed",
            Self::K8sAnonymousAllowed => "k8s_anonymous_allowed",
            Self::K8sTokenRequest => "k8s_token_request",
            Self::K8sSecretRead => "k8s_secret_read",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// A set of techniques (a bit set: one event rarely performs more than one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Techniques(u32);

impl Techniques {
    pub const EMPTY: Techniques = Techniques(0);

    pub fn insert(&mut self, t: Technique) {
        self.0 |= t.bit();
    }

    pub fn with(mut self, t: Technique) -> Self {
        self.insert(t);
        self
    }

    pub fn contains(self, t: Technique) -> bool {
        self.0 & t.bit() != 0
    }

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Technique> {
        Technique::ALL
            .into_iter()
            .filter(move |t| self.contains(*t))
    }

    /// The raw bits, for compact storage.
    pub fn bits(self) -> u32 {
        self.0
    }

    pub fn from_bits(bits: u32) -> Self {
        Self(bits)
    }
}

impl Serialize for Techniques {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Technique::as_str))
    }
}

impl<'de> Deserialize<'de> for Techniques {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names: Vec<String> = Vec::deserialize(d)?;
        let mut out = Techniques::EMPTY;
        for n in names {
            let t = Technique::ALL
                .into_iter()
                .find(|t| t.as_str() == n)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown technique {n:?}")))?;
            out.insert(t);
        }
        Ok(out)
    }
}

/// A session credential whose issuance the log shows (`AssumeRole*` response elements): which
/// key was issued, for which role, and whether an AWS service (not a person or a program with
/// keys) asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// The temporary access key id (`ASIA…`); not a secret.
    pub access_key_id: String,
    /// The role the session belongs to.
    pub role_arn: Option<String>,
    /// The AWS service principal that requested it (`lambda.amazonaws.com`), if one did.
    pub for_service: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_technique_has_its_own_bit_and_round_trips() {
        let mut all = Techniques::EMPTY;
        for t in Technique::ALL {
            assert!(!all.contains(t), "{t:?} shares a bit");
            all.insert(t);
        }
        assert_eq!(all.iter().count(), Technique::ALL.len());
        let json = serde_json::to_string(&all).unwrap_or_default();
        let back: Techniques = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, all);
    }
}
