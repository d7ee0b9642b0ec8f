//! What a record is about, and the typed bodies Tripline writes for each kind.

use crate::chain::sha256_hex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use tripline_model::{Assessment, Drivers, Level, Signal, Timestamp};

/// The kind of an evidence record. Its [`as_str`](Kind::as_str) name is what is stored and
/// hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// What a run read: files, records, events, rejects by reason.
    InputSummary,
    /// One signal raised on an identity.
    Signal,
    /// An identity's score and how it was computed.
    Score,
    /// The policy in force: name and hashes of its text and data.
    PolicyVersion,
    /// What the policy decided for an identity.
    Decision,
    /// A person's verdict on a proposed step.
    Approval,
    /// One phase of a response action (plan, apply, verify, undo).
    Action,
    /// Free text.
    Note,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Self::InputSummary,
        Self::Signal,
        Self::Score,
        Self::PolicyVersion,
        Self::Decision,
        Self::Approval,
        Self::Action,
        Self::Note,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InputSummary => "input_summary",
            Self::Signal => "signal",
            Self::Score => "score",
            Self::PolicyVersion => "policy_version",
            Self::Decision => "decision",
            Self::Approval => "approval",
            Self::Action => "action",
            Self::Note => "note",
        }
    }

    /// The kind with exactly this stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A typed record body: knows its kind. [`Entry::of`](crate::Entry::of) turns one into an entry.
pub trait Body: Serialize {
    const KIND: Kind;
}

/// [`Kind::InputSummary`]: what a run read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputSummary {
    pub files: u64,
    pub records: u64,
    pub events: u64,
    /// Reject reason code (`not_json`, `too_large`, …) → count.
    pub rejected: BTreeMap<String, u64>,
}

impl Body for InputSummary {
    const KIND: Kind = Kind::InputSummary;
}

/// [`Kind::Signal`]: the model's signal as is; the record's subject is the identity.
impl Body for Signal {
    const KIND: Kind = Kind::Signal;
}

/// One signal's share of a score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub code: String,
    pub points: f64,
}

/// [`Kind::Score`]: an identity's score, its drivers and the formula with its numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub identity: String,
    pub score: f64,
    pub level: Level,
    pub drivers: Drivers,
    pub formula: String,
    pub contributions: Vec<Contribution>,
}

impl Score {
    pub fn of(a: &Assessment) -> Self {
        Self {
            identity: a.identity.clone(),
            score: a.score,
            level: a.level,
            drivers: a.drivers,
            formula: a.formula.clone(),
            contributions: a
                .signals
                .iter()
                .map(|s| Contribution {
                    code: s.code.clone(),
                    points: s.points,
                })
                .collect(),
        }
    }
}

impl Body for Score {
    const KIND: Kind = Kind::Score;
}

/// [`Kind::PolicyVersion`]: which policy decided, by content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub name: String,
    /// Hex SHA-256 of the policy text.
    pub policy_sha256: String,
    /// Hex SHA-256 of the policy's data (thresholds…).
    pub data_sha256: String,
}

impl PolicyVersion {
    pub fn of(name: impl Into<String>, policy_text: &str, data: &[u8]) -> Self {
        Self {
            name: name.into(),
            policy_sha256: sha256_hex(policy_text.as_bytes()),
            data_sha256: sha256_hex(data),
        }
    }
}

impl Body for PolicyVersion {
    const KIND: Kind = Kind::PolicyVersion;
}

/// [`Kind::Decision`]: what the policy decided for an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub identity: String,
    /// Response tier, as the policy names it.
    pub tier: String,
    pub actions: Vec<String>,
    pub reasons: Vec<String>,
    /// When the decision (and any containment it causes) lapses.
    pub expires: Option<Timestamp>,
}

impl Body for Decision {
    const KIND: Kind = Kind::Decision;
}

/// [`Kind::Approval`]: a person's verdict on a proposed step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub who: String,
    /// What was approved or refused (an action id, a decision).
    pub what: String,
    /// `approved`, `rejected`, …
    pub verdict: String,
    pub reason: Option<String>,
}

impl Body for Approval {
    const KIND: Kind = Kind::Approval;
}

/// The phase of a response action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Plan,
    Apply,
    Verify,
    Undo,
}

/// [`Kind::Action`]: one phase of a response action and how to undo it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub action_id: String,
    pub identity: String,
    pub phase: Phase,
    /// `ok`, `failed: …`, `dry_run`, …
    pub result: String,
    /// Whatever reverses the action (API calls and their arguments), recorded before applying.
    pub undo: Option<Value>,
}

impl Body for Action {
    const KIND: Kind = Kind::Action;
}

/// [`Kind::Note`]: free text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub text: String,
}

impl Body for Note {
    const KIND: Kind = Kind::Note;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_match_serde() {
        for k in Kind::ALL {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_value(k).ok(),
                Some(Value::String(k.as_str().into()))
            );
        }
        assert_eq!(Kind::parse("Signal"), None);
    }
}
