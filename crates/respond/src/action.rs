//! The types every connector shares.

use serde::{Deserialize, Serialize};

/// What to do, to whom. `action_id` is stable for one identity, action kind and case, so a retry
/// is recognisable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRequest {
    pub action_id: String,
    /// `restrict`, `rotate`, `contain`, `notify`, `step_up`, `owner_review`, `issue_credentials`,
    /// `revoke_lease`.
    pub kind: String,
    /// Identity id (an IAM user or role ARN, a Vault lease or role, …).
    pub identity: String,
    /// The credential concerned, when there is one (an access key id, a lease id).
    pub credential: Option<String>,
    /// Restrictions expire by themselves after this long.
    pub expires_in_secs: Option<u64>,
    pub reason: String,
    /// Free-form parameters a connector understands (session policy, overlap window, message).
    #[serde(default)]
    pub params: serde_json::Value,
    /// The cloud account the identity lives in (from its ARN). A connector acts only in the
    /// account it serves and refuses any other ([`ConnectorError::WrongAccount`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountRef>,
}

/// An AWS partition and account id (`arn:<partition>:iam::<account>:…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountRef {
    pub partition: String,
    pub account: String,
}

impl AccountRef {
    /// The partition and account of an ARN; `None` for anything else (or an ARN without an
    /// account, such as an S3 bucket's).
    pub fn of_arn(arn: &str) -> Option<AccountRef> {
        let mut parts = arn.splitn(6, ':');
        if parts.next() != Some("arn") {
            return None;
        }
        let partition = parts.next().filter(|p| !p.is_empty())?;
        let account = parts.nth(2).filter(|a| !a.is_empty())?;
        Some(AccountRef {
            partition: partition.to_string(),
            account: account.to_string(),
        })
    }
}

impl std::fmt::Display for AccountRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.partition, self.account)
    }
}

/// What `apply` would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub action_id: String,
    pub connector: String,
    pub steps: Vec<String>,
    pub reversible: bool,
}

/// What `apply` changed, with everything `undo` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub action_id: String,
    pub connector: String,
    pub kind: String,
    pub identity: String,
    /// Connector-specific record of the change (resource names, previous states).
    pub undo: serde_json::Value,
    /// Anything created that the caller must see (e.g. a new access key id, never its secret).
    pub outputs: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("{connector}: {message}")]
    Api { connector: String, message: String },
    #[error("{0}: not supported by this connector")]
    Unsupported(String),
    #[error("ledger: {0}")]
    Ledger(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    /// Refused by a run-wide rule before any call (stale evidence, the never-touch list).
    #[error("refused: {0}")]
    Refused(String),
    /// The identity lives in an account this connector does not act in: nothing was applied.
    #[error("{connector}: refused {identity}: it is in account {identity_account}, this connector acts in {serves}; nothing applied")]
    WrongAccount {
        connector: String,
        identity: String,
        identity_account: String,
        serves: String,
    },
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn accounts_come_from_arns() {
        let a = AccountRef::of_arn("arn:aws-us-gov:iam::619854769921:role/x").unwrap();
        assert_eq!(
            (a.partition.as_str(), a.account.as_str()),
            ("aws-us-gov", "619854769921")
        );
        assert_eq!(AccountRef::of_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(AccountRef::of_arn("deployer"), None);
    }
}
