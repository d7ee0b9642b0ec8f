//! Analyst feedback: verdicts on identities (true positive, false positive, accepted risk) with
//! a reason and an expiry. Feedback becomes labels for the next backtest and, for false positives
//! and accepted risks, a suppression that is shown, never a silent mute, and that expires.
//!
//! Stored as JSON Lines, one verdict per line, appended (never rewritten).

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::Path;
use tripline_model::{Incident, Label, Labels, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    TruePositive,
    FalsePositive,
    AcceptedRisk,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TruePositive => "true_positive",
            Self::FalsePositive => "false_positive",
            Self::AcceptedRisk => "accepted_risk",
        }
    }

    /// The label a backtest uses for this verdict.
    pub fn label(self) -> Label {
        match self {
            Self::TruePositive => Label::Malicious,
            Self::FalsePositive => Label::Benign,
            Self::AcceptedRisk => Label::Other("accepted_risk".into()),
        }
    }
}

/// One analyst verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    pub identity: String,
    pub verdict: Verdict,
    pub reason: String,
    /// The activity the verdict is about (RFC 3339); open ends mean "all".
    pub start: Option<String>,
    pub end: Option<String>,
    /// When a suppression stops applying (RFC 3339). Required for suppressing verdicts.
    pub expires: Option<String>,
    pub by: Option<String>,
    pub at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedbackError {
    #[error("{0}: cannot read: {1}")]
    Io(String, std::io::Error),
    #[error("{origin}: line {line}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Rule(String),
}

impl Feedback {
    /// Checks the rules a verdict must follow: a reason, parseable times, and an expiry for
    /// suppressing verdicts (no permanent mutes).
    pub fn validate(&self) -> Result<(), String> {
        if self.reason.trim().is_empty() {
            return Err("a verdict needs a reason".into());
        }
        for (name, v) in [
            ("start", &self.start),
            ("end", &self.end),
            ("expires", &self.expires),
        ] {
            if let Some(v) = v {
                Timestamp::parse(v)
                    .ok_or_else(|| format!("{name} {v:?} is not an RFC 3339 time"))?;
            }
        }
        Timestamp::parse(&self.at)
            .ok_or_else(|| format!("at {:?} is not an RFC 3339 time", self.at))?;
        if self.verdict != Verdict::TruePositive && self.expires.is_none() {
            return Err(format!(
                "a {} verdict suppresses alerts, so it needs an expiry",
                self.verdict.as_str()
            ));
        }
        Ok(())
    }

    pub fn expires_at(&self) -> Option<Timestamp> {
        self.expires.as_deref().and_then(Timestamp::parse)
    }

    /// Whether this verdict suppresses the identity at `now`.
    pub fn suppresses(&self, now: Timestamp) -> bool {
        self.verdict != Verdict::TruePositive && self.expires_at().is_some_and(|e| now < e)
    }
}

/// Appends one validated verdict to the store.
pub fn append(path: &Path, fb: &Feedback) -> Result<(), FeedbackError> {
    fb.validate().map_err(FeedbackError::Rule)?;
    let origin = path.display().to_string();
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| FeedbackError::Io(origin.clone(), e))?;
    let line = serde_json::to_string(fb).map_err(|e| FeedbackError::Rule(e.to_string()))?;
    writeln!(f, "{line}").map_err(|e| FeedbackError::Io(origin, e))
}

/// Reads every verdict in a store.
pub fn read(path: &Path) -> Result<Vec<Feedback>, FeedbackError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| FeedbackError::Io(origin.clone(), e))?;
    parse(&text, &origin)
}

pub fn parse(text: &str, origin: &str) -> Result<Vec<Feedback>, FeedbackError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let invalid = |message: String| FeedbackError::Invalid {
            origin: origin.to_string(),
            line: i + 1,
            message,
        };
        let fb: Feedback = serde_json::from_str(line).map_err(|e| invalid(e.to_string()))?;
        fb.validate().map_err(invalid)?;
        out.push(fb);
    }
    Ok(out)
}

/// Adds verdicts to backtest labels as incident windows.
pub fn into_labels(feedback: &[Feedback], labels: &mut Labels) {
    for fb in feedback {
        labels.incidents.push(Incident {
            identity: fb.identity.clone(),
            start: fb
                .start
                .as_deref()
                .and_then(Timestamp::parse)
                .unwrap_or(Timestamp(i64::MIN)),
            end: fb
                .end
                .as_deref()
                .and_then(Timestamp::parse)
                .unwrap_or(Timestamp(i64::MAX)),
            label: fb.verdict.label(),
            category: Some(format!("feedback: {}", fb.reason)),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fb(verdict: Verdict, expires: Option<&str>) -> Feedback {
        Feedback {
            identity: "arn:aws:iam::1:role/x".into(),
            verdict,
            reason: "nightly reindex".into(),
            start: None,
            end: None,
            expires: expires.map(str::to_string),
            by: Some("alice".into()),
            at: "2026-11-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn suppressing_verdicts_need_an_expiry_and_a_reason() {
        assert!(fb(Verdict::FalsePositive, None).validate().is_err());
        assert!(fb(Verdict::TruePositive, None).validate().is_ok());
        let mut no_reason = fb(Verdict::AcceptedRisk, Some("2026-12-01T00:00:00Z"));
        no_reason.reason = " ".into();
        assert!(no_reason.validate().is_err());
    }

    #[test]
    fn suppressions_expire() {
        let f = fb(Verdict::FalsePositive, Some("2026-12-01T00:00:00Z"));
        assert!(f.suppresses(Timestamp::parse("2026-11-15T00:00:00Z").unwrap()));
        assert!(!f.suppresses(Timestamp::parse("2026-12-02T00:00:00Z").unwrap()));
        assert!(!fb(Verdict::TruePositive, Some("2026-12-01T00:00:00Z")).suppresses(Timestamp(0)));
    }

    #[test]
    fn store_round_trips_and_becomes_labels() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fb.jsonl");
        append(&p, &fb(Verdict::TruePositive, None)).unwrap();
        append(
            &p,
            &fb(Verdict::FalsePositive, Some("2026-12-01T00:00:00Z")),
        )
        .unwrap();
        assert!(append(&p, &fb(Verdict::AcceptedRisk, None)).is_err());
        let all = read(&p).unwrap();
        assert_eq!(all.len(), 2);
        let mut labels = Labels::default();
        into_labels(&all, &mut labels);
        assert_eq!(labels.incidents.len(), 2);
        assert_eq!(labels.incidents[0].label, Label::Malicious);
        assert_eq!(
            labels.of("e1", "arn:aws:iam::1:role/x", 5).0,
            Label::Malicious
        );
    }
}
