//! Labels for backtests: event-level and incident-level verdicts.

use crate::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// A label.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Label {
    Malicious,
    Benign,
    /// A named label counted on its own (e.g. "administrator automation").
    Other(String),
}

impl Label {
    pub fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "malicious" | "true_positive" | "tp" | "attack" | "1" | "true" => Self::Malicious,
            "benign" | "false_positive" | "fp" | "normal" | "0" | "false" | "" => Self::Benign,
            other => Self::Other(other.to_string()),
        }
    }
}

/// An identity and time window with a label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    pub identity: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub label: Label,
    pub category: Option<String>,
}

/// Labels from any number of files.
#[derive(Debug, Default, Clone)]
pub struct Labels {
    /// Event id → (label, category).
    pub events: HashMap<String, (Label, Option<String>)>,
    pub incidents: Vec<Incident>,
}

impl Labels {
    /// The label of one event: its own label, else the incident window it falls in, else benign.
    pub fn of(&self, id: &str, identity: &str, t: i64) -> (Label, Option<String>) {
        if let Some(l) = self.events.get(id) {
            return l.clone();
        }
        self.incidents
            .iter()
            .find(|i| i.identity == identity && i.start.0 <= t && t <= i.end.0)
            .map_or((Label::Benign, None), |i| {
                (i.label.clone(), i.category.clone())
            })
    }
}
