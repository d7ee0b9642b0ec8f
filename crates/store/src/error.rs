//! One error type for the ledger. Integrity findings are not errors: `verify` returns them as a
//! [`VerifyReport`](crate::VerifyReport); errors are for what stopped the work itself.

use crate::chain::Problem;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    // The io error is part of the message, not a `source`: printed once, not twice, in a chain.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("time {0} ms is outside the years 0000-9999 that evidence timestamps use")]
    TimeOutOfRange(i64),
    #[error("record body is nested deeper than {0} levels")]
    BodyTooDeep(usize),
    #[error("ledger schema version {found} is newer than this build reads ({supported})")]
    UnsupportedSchema { found: i64, supported: i64 },
    #[error("record {seq} cannot be read: {reason}")]
    Corrupt { seq: i64, reason: String },
    #[error("ledger fails verification at record {seq}: {problem}")]
    Tampered { seq: u64, problem: Problem },
    #[error("ledger fails verification at the signed head of record {seq}: {problem}")]
    SignatureFailed {
        seq: u64,
        problem: crate::SignatureProblem,
    },
    #[error("ledger sequence number overflow")]
    SeqOverflow,
    #[error("{}: not an evidence ledger: {reason}", path.display())]
    NotALedger { path: PathBuf, reason: String },
    #[error("key file {}: {reason}", path.display())]
    Key { path: PathBuf, reason: String },
    #[error("no random bytes for a key: {0}")]
    Randomness(String),
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error: source,
        }
    }

    pub(crate) fn key(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::Key {
            path: path.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn not_a_ledger(path: impl Into<PathBuf>, reason: impl Into<String>) -> Self {
        Self::NotALedger {
            path: path.into(),
            reason: reason.into(),
        }
    }

    /// Whether this error means the file itself is damaged or is no ledger (as opposed to a
    /// file that cannot be opened, a lock, a full disk): verification fails on it.
    pub fn is_damage(&self) -> bool {
        match self {
            Self::NotALedger { .. }
            | Self::Corrupt { .. }
            | Self::Tampered { .. }
            | Self::SignatureFailed { .. } => true,
            Self::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase
            ),
            _ => false,
        }
    }
}
