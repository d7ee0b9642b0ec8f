//! Inventory readers: IAM authorization details, credential report, owners file.
//!
//! Every reader takes bytes that the caller has already read under a cap, plus an `origin`
//! (the file name, used in messages and in [`tripline_model::Rejected`] records). A whole file
//! that cannot be read as the expected format is an [`InventoryError`]; one bad entry inside a
//! readable file is a [`tripline_model::Rejected`] with a reason, and the other entries are kept.
//!
//! - [`authz`]: `aws iam get-account-authorization-details` JSON → identities with privileges.
//! - [`credreport`]: the IAM credential report CSV → typed rows, merged into identities as
//!   credentials.
//! - [`owners`]: the owners file (YAML or TOML) → owner, class, environment, kind, intent.
//! - [`rbac`]: Kubernetes RBAC JSON → service-account identities with their rule sets, and
//!   [`rbac::rbac_findings`].
//! - [`scanner`]: gitleaks / trufflehog reports → leaked-secret fingerprints and key ids.

pub mod authz;
pub mod credreport;
mod error;
pub mod glob;
mod load;
pub mod owners;
pub use load::{load, InventoryFormat, Loaded};
pub mod policy;
pub mod rbac;
pub mod scanner;

pub use error::InventoryError;

use std::path::PathBuf;

/// Default cap on an authorization-details or credential-report input (512 MiB).
pub const MAX_INVENTORY_BYTES: usize = 512 << 20;
/// Default cap on an owners file (8 MiB): it is written by people.
pub const MAX_OWNERS_BYTES: usize = 8 << 20;
/// Bytes of a bad entry kept in [`tripline_model::Rejected::excerpt`].
const EXCERPT_BYTES: usize = 200;

/// The folder of shared public test data (`shared/data`), if present: `TRIPLINE_SHARED_DATA`
/// when set to an existing folder, else the first `shared/data` found walking up from this
/// crate's manifest directory (the workspace lives next to `shared/`). Tests that need it skip,
/// with a visible message, when this returns `None`.
pub fn shared_data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("TRIPLINE_SHARED_DATA") {
        let dir = PathBuf::from(dir);
        if dir.is_dir() {
            return Some(dir);
        }
    }
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .map(|a| a.join("shared").join("data"))
        .find(|d| d.is_dir())
}

/// The first `EXCERPT_BYTES` of `text`, cut on a character boundary.
pub(crate) fn excerpt(text: &str) -> String {
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_string()
}

/// Refuses an input longer than `max_bytes` whole.
pub(crate) fn check_size(
    bytes: &[u8],
    origin: &str,
    max_bytes: usize,
) -> Result<(), InventoryError> {
    if bytes.len() > max_bytes {
        return Err(InventoryError::TooLarge {
            origin: origin.to_string(),
            len: bytes.len(),
            cap: max_bytes,
        });
    }
    Ok(())
}

/// The input as text, without a byte order mark.
pub(crate) fn utf8<'a>(bytes: &'a [u8], origin: &str) -> Result<&'a str, InventoryError> {
    std::str::from_utf8(strip_bom(bytes)).map_err(|e| InventoryError::NotUtf8 {
        origin: origin.to_string(),
        message: e.to_string(),
    })
}

/// Strips a UTF-8 byte order mark (Windows tools write one).
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_on_a_char_boundary() {
        let s = "é".repeat(150);
        let e = excerpt(&s);
        assert!(e.len() <= EXCERPT_BYTES);
        assert!(e.chars().all(|c| c == 'é'));
    }
}
