//! Errors for a whole inventory input that cannot be read.

use tripline_model::{RejectReason, Rejected};

/// Why a whole inventory input (not one entry of it) could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryError {
    #[error("{origin}: input is {len} bytes, over the cap of {cap} bytes")]
    TooLarge {
        origin: String,
        len: usize,
        cap: usize,
    },

    #[error("{origin}: cannot read: {message}")]
    Io { origin: String, message: String },

    #[error("{origin}: not json: {message}")]
    NotJson { origin: String, message: String },

    #[error("{origin}: not utf-8 text: {message}")]
    NotUtf8 { origin: String, message: String },

    /// Readable, but not the expected format (e.g. JSON that is not authorization details).
    #[error("{origin}: not {expected}: {detail}")]
    UnknownFormat {
        origin: String,
        expected: &'static str,
        detail: String,
    },

    #[error("{origin}: credential report has no `{column}` column (header: {header})")]
    MissingColumn {
        origin: String,
        column: &'static str,
        header: String,
    },

    #[error("{origin}: csv: {message}")]
    Csv { origin: String, message: String },

    /// The owners file is not valid YAML/TOML, or has an unknown key.
    #[error("{origin}: owners file: {message}")]
    OwnersSyntax { origin: String, message: String },

    /// An owners entry parsed but does not validate (unknown class or kind, empty match…).
    #[error("{origin}: owners entry {entry} (match {pattern:?}): {message}")]
    OwnersInvalid {
        origin: String,
        entry: usize,
        pattern: String,
        message: String,
    },
}

impl InventoryError {
    /// The stable reason code a caller records when it sets the whole input aside.
    pub fn reason(&self) -> RejectReason {
        match self {
            Self::TooLarge { .. } => RejectReason::TooLarge,
            Self::Io { .. } => RejectReason::Unreadable,
            Self::NotJson { .. } => RejectReason::NotJson,
            Self::NotUtf8 { .. } => RejectReason::NotUtf8,
            Self::UnknownFormat { .. } => RejectReason::UnknownFormat,
            Self::MissingColumn { .. } | Self::Csv { .. } => RejectReason::UnknownFormat,
            Self::OwnersSyntax { .. } | Self::OwnersInvalid { .. } => RejectReason::InvalidRecord,
        }
    }

    /// The file the error is about.
    pub fn origin(&self) -> &str {
        match self {
            Self::TooLarge { origin, .. }
            | Self::Io { origin, .. }
            | Self::NotJson { origin, .. }
            | Self::NotUtf8 { origin, .. }
            | Self::UnknownFormat { origin, .. }
            | Self::MissingColumn { origin, .. }
            | Self::Csv { origin, .. }
            | Self::OwnersSyntax { origin, .. }
            | Self::OwnersInvalid { origin, .. } => origin,
        }
    }

    /// The error as a [`Rejected`] record, for callers that set a bad file aside and go on.
    pub fn to_rejected(&self) -> Rejected {
        Rejected {
            origin: self.origin().to_string(),
            position: match self {
                Self::OwnersInvalid { entry, .. } => u64::try_from(*entry).ok(),
                _ => None,
            },
            reason: self.reason(),
            detail: self.to_string(),
            excerpt: String::new(),
        }
    }
}
