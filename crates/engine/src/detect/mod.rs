//! Detectors as components: each sees the identity's events in time order, with what is known of
//! the identity so far, and reports findings. One detector, one module, one registration line in
//! [`registry`]. A detector keeps its own typed state, bounded per identity or per credential,
//! and may only use what earlier events taught it (no look-ahead).
//!
//! The older detectors (novelty, bursts, volume, sensitive calls, dormancy) still run inline in
//! `engine.rs`; they move here one at a time.

pub mod credential_burst;
pub mod provenance;
pub mod technique;

#[cfg(test)]
mod harness;

use crate::catalog::SignalDef;
use crate::features::NetClass;
use tripline_model::{IdentityClass, IdentityKind, Severity, Techniques};

/// How a session credential came to be, as far as the event itself or its issuance shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Workload {
    #[default]
    Unknown = 0,
    /// Delivered by the EC2 instance metadata service (`ec2RoleDelivery`, `i-…` session name).
    Ec2Instance,
    /// A Lambda function's execution role (the runtime's `exec-env/AWS_Lambda_…`).
    Lambda,
    /// An ECS task role (`exec-env/AWS_ECS_…`, a task-id session name).
    EcsTask,
    /// A web-identity session (EKS pod identity / IRSA, CI OIDC).
    WebIdentity,
    /// Issued by an AWS service in a logged `AssumeRole`.
    ServiceIssued,
    /// A Kubernetes service-account token (its credential id, or the account itself).
    K8sPod,
}

impl Workload {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Ec2Instance,
            2 => Self::Lambda,
            3 => Self::EcsTask,
            4 => Self::WebIdentity,
            5 => Self::ServiceIssued,
            6 => Self::K8sPod,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Ec2Instance => "EC2 instance",
            Self::Lambda => "Lambda function",
            Self::EcsTask => "ECS task",
            Self::WebIdentity => "web-identity workload",
            Self::ServiceIssued => "AWS-service-issued session",
            Self::K8sPod => "Kubernetes service-account token",
        }
    }

    /// Workloads whose code calls AWS through one SDK: a second client family on the same
    /// session is someone else. (An instance runs agents, scripts and SDKs side by side, and a
    /// web-identity session is a CI job's or a pod's: several clients are normal there.)
    pub fn single_client(self) -> bool {
        matches!(self, Self::Lambda | Self::EcsTask | Self::ServiceIssued)
    }

    /// Workloads that run inside AWS: their own calls come from AWS networks.
    pub fn runs_in_aws(self) -> bool {
        matches!(
            self,
            Self::Ec2Instance | Self::Lambda | Self::EcsTask | Self::ServiceIssued
        )
    }
}

/// What the identity is, for detection.
#[derive(Debug, Clone, Copy)]
pub struct Who {
    pub kind: IdentityKind,
    pub class: IdentityClass,
    /// Judged non-human.
    pub nhi: bool,
}

/// One event as a detector sees it. Ids (`u32`) are interned; the `&str`s are their text.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// Milliseconds since the epoch.
    pub t: i64,
    /// The event's index in arrival order (what a signal links to).
    pub event: u32,
    pub identity: u32,
    pub who: Who,
    pub action: &'a str,
    pub action_id: u32,
    pub techniques: Techniques,
    pub denied: bool,
    /// A hash of the resource acted on (0 when the log names none).
    pub resource: u32,
    pub net_class: NetClass,
    pub net_coarse: u32,
    pub net_coarse_text: &'a str,
    pub net_fine: u32,
    pub agent: u32,
    pub agent_text: &'a str,
    /// A desktop client or the console: not what a server workload runs.
    pub desktop: bool,
    /// The credential (access key id) used, interned; 0 when none.
    pub cred: u32,
    pub cred_text: &'a str,
    /// A temporary (`ASIA…`) key.
    pub session: bool,
    /// A long-lived (`AKIA…`) key.
    pub long_key: bool,
    /// A public address inside AWS's published ranges (only with `--aws-ip-ranges`).
    pub aws_cloud: bool,
    /// A public address known to be outside AWS (only with `--aws-ip-ranges`).
    pub outside_aws: bool,
    /// What the event itself says of the credential's origin.
    pub workload: Workload,
    /// An AWS service made the call on the caller's behalf (`invokedBy`).
    pub via_service: bool,
    /// The identity's baseline has finished learning.
    pub mature: bool,
    /// The identity has never called this action before.
    pub new_action: bool,
    /// The identity has never called from this coarse network before.
    pub new_network: bool,
    /// Nor from this fine network (/24).
    pub new_fine_network: bool,
}

/// What a detector reports for one event.
#[derive(Debug, Clone)]
pub enum Finding {
    /// A signal (or another occurrence of it): `key` tells apart signals of one code.
    Signal {
        def: &'static SignalDef,
        key: u32,
        severity: Severity,
        summary: String,
        value: Option<String>,
        /// Earlier events (arrival indices) that are part of what was found (a burst's start).
        also: Vec<u32>,
    },
    /// An earlier signal turned out to be the identity's routine (learning-period noise).
    Routine { def: &'static SignalDef, key: u32 },
}

/// A detector: observes events in time order and reports findings.
pub trait Detector: std::fmt::Debug {
    fn observe(&mut self, ev: &Observation<'_>, out: &mut Vec<Finding>);
}

/// Thresholds of the component detectors, each with its reason.
#[derive(Debug, Clone)]
pub struct DetectConfig {
    /// A technique repeated on this many distinct days is the identity's routine, not an
    /// incident (a deployer that opens a public load balancer every release).
    pub routine_days: u8,
    /// Reads of secret material (passwords, user data, secrets) on this many distinct resources
    /// within `burst_window_secs` make a harvesting burst: one workload reads its own secret,
    /// an attacker sweeps many.
    pub credential_burst_resources: usize,
    pub burst_window_secs: i64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        Self {
            routine_days: 3,
            credential_burst_resources: 5,
            burst_window_secs: 600,
        }
    }
}

/// Every component detector, in the order they run.
pub fn registry(cfg: &DetectConfig) -> Vec<Box<dyn Detector>> {
    vec![
        Box::new(technique::TechniqueDetector::new(cfg.routine_days)),
        Box::new(credential_burst::CredentialBurst::new(
            cfg.credential_burst_resources,
            cfg.burst_window_secs,
        )),
        Box::new(provenance::Provenance::default()),
    ]
}

/// A severity one step down: a refused attempt shows intent but did no harm.
pub fn lower(s: Severity) -> Severity {
    match s {
        Severity::Critical => Severity::High,
        Severity::High => Severity::Medium,
        Severity::Medium => Severity::Low,
        Severity::Low | Severity::Info => s,
    }
}
