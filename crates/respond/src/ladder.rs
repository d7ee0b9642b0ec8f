//! The restriction ladder, narrowest first. Each rung is one inline deny policy on the IAM user
//! or role, reversible (undo deletes it) and time-boxed:
//!
//! 1. [`Restriction::DenyActions`]: deny only the implicated actions (the sensitive calls and
//!    services in the signals), optionally only from outside the identity's known networks
//!    (`aws:SourceIp` / `aws:SourceVpc`), until `aws:CurrentTime` passes the expiry.
//! 2. [`Restriction::ResetSessions`]: for roles, deny every session issued before now
//!    (`aws:TokenIssueTime`), AWS's "revoke active sessions" pattern. Workloads fetch fresh
//!    credentials by themselves; a stolen copy stops working.
//! 3. Key rotation for users (the `rotate` kind of the AWS connector, not a policy).
//! 4. [`Restriction::DenyAll`]: deny everything until the expiry. Containment: the policy
//!    guardrails only clear it with an approval.
//!
//! Naming: inline policies have no description field, so the policy name says what and which
//! case (`tripline-<kind>-<short id>`, the short id a stable hash of the case id) and the
//! statement's `Sid` (alphanumeric only) spells the rung, the same short id and the expiry,
//! e.g. `TriplineResetSessionsCase3f9a0c21d4UntilZ20261204T220000Z`. The full case id is in the
//! action ledger and the case book.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The longest an AWS role session can last (`MaxSessionDuration` is at most 12 h): once this
/// long has passed after a session reset, every session issued before it has expired, so the
/// deny is inert and the sweep deletes it.
pub const MAX_SESSION_SECS: u64 = 12 * 3600;

/// At most this many actions in one deny (an inline role policy holds 10,240 characters).
pub const MAX_DENIED_ACTIONS: usize = 50;

/// Networks the identity is known to call from; a deny with them applies only outside them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownNetworks {
    /// CIDRs (`203.0.113.0/24`) for `aws:SourceIp`.
    #[serde(default)]
    pub source_ips: Vec<String>,
    /// VPC ids (`vpc-0abc…`) for `aws:SourceVpc`.
    #[serde(default)]
    pub source_vpcs: Vec<String>,
}

impl KnownNetworks {
    pub fn is_empty(&self) -> bool {
        self.source_ips.is_empty() && self.source_vpcs.is_empty()
    }

    /// The condition operators that make a deny apply only outside these networks: a request
    /// from a known address (`NotIpAddress` false) or a known VPC (`StringNotEqualsIfExists`
    /// false) is not denied.
    pub fn outside_conditions(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if !self.source_ips.is_empty() {
            m.insert(
                "NotIpAddress".into(),
                json!({"aws:SourceIp": self.source_ips}),
            );
        }
        if !self.source_vpcs.is_empty() {
            m.insert(
                "StringNotEqualsIfExists".into(),
                json!({"aws:SourceVpc": self.source_vpcs}),
            );
        }
        m
    }
}

/// One rung of the ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rung", rename_all = "snake_case")]
pub enum Restriction {
    DenyActions {
        actions: Vec<String>,
        #[serde(default)]
        networks: KnownNetworks,
    },
    /// `issued_before` is RFC 3339, the moment of the reset.
    ResetSessions {
        issued_before: String,
    },
    DenyAll,
}

impl Restriction {
    /// The connector kind that applies this rung.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DenyActions { .. } => "restrict",
            Self::ResetSessions { .. } => "reset_sessions",
            Self::DenyAll => "deny_all",
        }
    }

    fn sid_word(&self) -> &'static str {
        match self {
            Self::DenyActions { .. } => "DenyActions",
            Self::ResetSessions { .. } => "ResetSessions",
            Self::DenyAll => "DenyAll",
        }
    }

    /// The statement's `Sid`: rung, short case id and expiry, alphanumeric as IAM requires.
    pub fn sid(&self, short_id: &str, expiry: &str) -> String {
        let until: String = expiry.chars().filter(char::is_ascii_alphanumeric).collect();
        let short: String = short_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        format!("Tripline{}Case{short}Until{until}", self.sid_word())
    }

    /// The inline policy document. `expiry` (RFC 3339) bounds the deny through
    /// `aws:CurrentTime`, except for a session reset, which only denies sessions issued before
    /// the reset and so cannot outlive them.
    pub fn document(&self, sid: &str, expiry: &str) -> Value {
        let statement = match self {
            Self::DenyActions { actions, networks } => {
                let mut cond = networks.outside_conditions();
                cond.insert("DateLessThan".into(), json!({"aws:CurrentTime": expiry}));
                json!({"Sid": sid, "Effect": "Deny", "Action": actions, "Resource": "*", "Condition": cond})
            }
            Self::ResetSessions { issued_before } => json!({
                "Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": issued_before}}
            }),
            Self::DenyAll => json!({
                "Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": {"DateLessThan": {"aws:CurrentTime": expiry}}
            }),
        };
        json!({"Version": "2012-10-17", "Statement": [statement]})
    }
}

/// `service:Action` as IAM writes it (`iam:CreateAccessKey`, `s3:*`): a lowercase service
/// prefix and an action name of letters, digits and `*`.
pub fn is_iam_action(s: &str) -> bool {
    let Some((svc, action)) = s.split_once(':') else {
        return false;
    };
    !svc.is_empty()
        && svc
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !action.is_empty()
        && action
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'*')
        && action
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_uppercase() || b == b'*')
}

/// The actions a restriction should deny, from the signals that drove the score: every IAM
/// action named in a behaviour signal's summary (the sensitive calls: `called
/// iam:CreateAccessKey: …`), and `service:*` for each first-used service
/// (`BEH_NEW_SERVICE`). Sorted, without duplicates, at most [`MAX_DENIED_ACTIONS`].
pub fn implicated_actions<'a>(
    signals: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for (code, summary) in signals {
        if code == "BEH_NEW_SERVICE" {
            // "first use of a service in …: s3; kms.amazonaws.com"
            if let Some((_, values)) = summary.split_once(": ") {
                for v in values.split("; ") {
                    let svc = v.trim().trim_end_matches(".amazonaws.com");
                    if is_iam_action(&format!("{svc}:*")) {
                        out.insert(format!("{svc}:*"));
                    }
                }
            }
            continue;
        }
        for word in summary.split(|c: char| c.is_whitespace() || ",;()[]\"'".contains(c)) {
            let w = word.trim_end_matches([':', '.']);
            if is_iam_action(w) {
                out.insert(w.to_string());
            }
        }
    }
    out.into_iter().take(MAX_DENIED_ACTIONS).collect()
}

/// A short stable id for names: the first 10 hex digits of FNV-1a 64 of `s` (a case id).
pub fn short_id(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{:010x}", h >> 24)
}

/// `tripline-<kind>-<short id>`: what and which case, in the characters IAM allows.
pub fn policy_name(kind: &str, case_or_action_id: &str) -> String {
    format!("tripline-{kind}-{}", short_id(case_or_action_id)).replace('_', "-")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn implicated_actions_come_from_the_sensitive_calls_and_new_services() {
        let got = implicated_actions([
            (
                "BEH_SENSITIVE_ACTION",
                "called iam:CreateAccessKey: creates a long-lived key (persistence)",
            ),
            (
                "BEH_ESCALATION_ACTIVITY",
                "privilege-escalation activity (privilege_escalation): attempted (refused) iam:AttachRolePolicy: attaches; called iam:PassRole: x",
            ),
            ("BEH_NEW_SERVICE", "first use of a service in 30 days: kms.amazonaws.com; s3"),
            ("BEH_NEW_NETWORK", "calls from arn:aws:iam::123456789012:role/x at 203.0.113.0/24"),
        ]);
        assert_eq!(
            got,
            vec![
                "iam:AttachRolePolicy",
                "iam:CreateAccessKey",
                "iam:PassRole",
                "kms:*",
                "s3:*"
            ]
        );
        assert!(!is_iam_action("arn:aws"));
        assert!(!is_iam_action("http://x"));
    }

    #[test]
    fn documents_and_names() {
        let r = Restriction::DenyActions {
            actions: vec!["iam:CreateAccessKey".into()],
            networks: KnownNetworks {
                source_ips: vec!["203.0.113.0/24".into()],
                source_vpcs: vec!["vpc-1".into()],
            },
        };
        let sid = r.sid("ab12", "2026-12-04T22:00:00Z");
        assert_eq!(sid, "TriplineDenyActionsCaseab12Until20261204T220000Z");
        let d = r.document(&sid, "2026-12-04T22:00:00Z");
        let st = &d["Statement"][0];
        assert_eq!(st["Action"], json!(["iam:CreateAccessKey"]));
        assert_eq!(
            st["Condition"]["NotIpAddress"]["aws:SourceIp"],
            json!(["203.0.113.0/24"])
        );
        assert_eq!(
            st["Condition"]["StringNotEqualsIfExists"]["aws:SourceVpc"],
            json!(["vpc-1"])
        );
        let reset = Restriction::ResetSessions {
            issued_before: "2026-12-04T18:00:00Z".into(),
        };
        let d = reset.document("s", "2026-12-05T06:00:00Z");
        assert_eq!(
            d["Statement"][0]["Condition"],
            json!({"DateLessThan": {"aws:TokenIssueTime": "2026-12-04T18:00:00Z"}})
        );
        let a = policy_name("reset_sessions", "arn:aws:iam::1:role/a#2026-12-04");
        let b = policy_name("reset_sessions", "arn:aws:iam::1:role/b#2026-12-04");
        assert!(
            a.starts_with("tripline-reset-sessions-") && a != b,
            "{a} {b}"
        );
        assert_eq!(
            a,
            policy_name("reset_sessions", "arn:aws:iam::1:role/a#2026-12-04")
        );
    }
}
