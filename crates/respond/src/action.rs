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
}
