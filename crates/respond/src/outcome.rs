//! What a response run did, typed: the status of each planned action and each sweep step, so
//! the CLI (and a long-running service) match enums, not strings.

use serde::Serialize;
use std::fmt;

/// What happened to one planned action under `--respond apply`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// Carried out in this run.
    Applied,
    /// Found applied by an earlier run (same action id): nothing changed this time.
    AlreadyApplied,
    /// Waits for an approval.
    Held,
    /// Not carried out, for the reason in the detail (no connector, undone earlier, delivered
    /// before, the per-run cap, nothing narrow to deny).
    Skipped,
    /// Refused before any change: the identity's account is not served, the evidence is too
    /// old, or the identity is never touched automatically.
    Refused,
    Failed,
}

impl OutcomeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::AlreadyApplied => "already applied",
            Self::Held => "held",
            Self::Skipped => "skipped",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for OutcomeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// What one step of a case sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepWhat {
    /// An action undone at the owner's request.
    Undone,
    /// A restriction moved to the case's later end in the system itself.
    Extended,
    /// A restriction removed after its end.
    Expired,
    /// A case raised a tier because its owner stayed silent.
    Escalated,
    Failed,
}

impl SweepWhat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Undone => "undone",
            Self::Extended => "extended",
            Self::Expired => "expired",
            Self::Escalated => "escalated",
            Self::Failed => "failed",
        }
    }
}

impl fmt::Display for SweepWhat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}
