//! Signals and scores: what the engine concluded about an identity, and why.

use crate::Timestamp;
use serde::{Deserialize, Serialize};

/// The three drivers of risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Driver {
    Privilege,
    Exposure,
    Behaviour,
}

impl Driver {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Privilege => "privilege",
            Self::Exposure => "exposure",
            Self::Behaviour => "behaviour",
        }
    }
}

/// Severity of one signal, 1 (informational) to 5 (critical).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info = 1,
    Low = 2,
    Medium = 3,
    High = 4,
    Critical = 5,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }

    /// Contribution of one signal of this severity to its driver (0..1), combined by noisy-OR.
    pub fn weight(self) -> f64 {
        match self {
            Self::Info => 0.0,
            Self::Low => 0.15,
            Self::Medium => 0.35,
            Self::High => 0.6,
            Self::Critical => 0.85,
        }
    }
}

/// One explained reason for risk, with the events that raised it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    /// Stable code, e.g. `BEH_NEW_NETWORK`.
    pub code: String,
    pub driver: Driver,
    pub severity: Severity,
    /// One line for people.
    pub summary: String,
    /// Source event ids (CloudTrail `eventID`, Kubernetes `auditID`); capped, see `occurrences`.
    pub event_ids: Vec<String>,
    /// How many times the detector fired (may exceed `event_ids.len()`).
    pub occurrences: u64,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// Framework tags: `OWASP-NHI:NHI5`, `NIST-CSF:PR.AA-05`, `NIST-AI-RMF:MEASURE-2.4`.
    pub frameworks: Vec<String>,
    /// Points of the final score this signal accounts for (filled by scoring).
    pub points: f64,
}

/// Score level, for triage and policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn of(score: f64) -> Self {
        if score >= 70.0 {
            Self::Critical
        } else if score >= 45.0 {
            Self::High
        } else if score >= 20.0 {
            Self::Medium
        } else {
            Self::Low
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// Driver values, each 0..1.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Drivers {
    pub privilege: f64,
    pub exposure: f64,
    pub behaviour: f64,
}

/// The engine's verdict on one identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub identity: String,
    /// 0..100.
    pub score: f64,
    pub level: Level,
    pub drivers: Drivers,
    pub signals: Vec<Signal>,
    /// The formula with this identity's numbers, so the score can be recomputed by hand.
    pub formula: String,
    /// Recommended next step for triage.
    pub next_step: String,
    pub scored_at: Option<Timestamp>,
}
