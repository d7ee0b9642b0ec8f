//! Escalation tiers: shared by the policy (which decides one) and the cases (which hold one).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Escalation tiers, in order: each is a proportionate step up from the one before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Observe,
    Notify,
    StepUp,
    /// Time-boxed just-in-time restriction.
    JitRestrict,
    /// Short-lived credential reset / rotation.
    Rotate,
    OwnerReview,
    Contain,
}

impl Tier {
    pub const ALL: [Tier; 7] = [
        Self::Observe,
        Self::Notify,
        Self::StepUp,
        Self::JitRestrict,
        Self::Rotate,
        Self::OwnerReview,
        Self::Contain,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Observe => "observe",
            Self::Notify => "notify",
            Self::StepUp => "step_up",
            Self::JitRestrict => "jit_restrict",
            Self::Rotate => "rotate",
            Self::OwnerReview => "owner_review",
            Self::Contain => "contain",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// One step up; `Contain` stays `Contain`.
    pub fn next(self) -> Self {
        Self::ALL
            .into_iter()
            .find(|t| *t > self)
            .unwrap_or(Self::Contain)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_next_climbs_to_contain() {
        for t in Tier::ALL {
            assert_eq!(Tier::parse(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from)),
                Some(t.as_str().to_string())
            );
        }
        assert_eq!(Tier::Observe.next(), Tier::Notify);
        assert_eq!(Tier::Rotate.next(), Tier::OwnerReview);
        assert_eq!(Tier::Contain.next(), Tier::Contain);
    }
}
