//! One entry point for inventory files: reads under the caps, recognises the format by content.

use super::{authz, credreport, InventoryError};
use crate::limits::Limits;
use std::io::Read;
use std::path::Path;
use tripline_model::{Identity, Rejected};

/// Which inventory format a file held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    AuthorizationDetails,
    CredentialReport,
}

/// Identities read from one inventory file, and the entries set aside.
#[derive(Debug)]
pub struct Loaded {
    pub format: InventoryFormat,
    pub identities: Vec<Identity>,
    pub rejected: Vec<Rejected>,
}

/// Reads `path` (gzip or not, capped at `limits.max_document_bytes`): JSON is taken as
/// `aws iam get-account-authorization-details` output, anything else as a credential report CSV.
pub fn load(path: &Path, limits: &Limits) -> Result<Loaded, InventoryError> {
    let origin = path.display().to_string();
    let io = |e: std::io::Error| InventoryError::Io {
        origin: origin.clone(),
        message: e.to_string(),
    };
    let (reader, _) =
        crate::logs::files::open(path, limits.max_decompressed_bytes, None).map_err(io)?;
    let mut bytes = Vec::new();
    reader
        .take(limits.max_document_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() > limits.max_document_bytes {
        return Err(InventoryError::TooLarge {
            origin,
            len: bytes.len(),
            cap: limits.max_document_bytes,
        });
    }
    let body = super::strip_bom(&bytes);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[')) {
        let inv = authz::parse_authz_with_cap(body, &origin, limits.max_document_bytes)?;
        Ok(Loaded {
            format: InventoryFormat::AuthorizationDetails,
            identities: inv.identities,
            rejected: inv.rejected,
        })
    } else {
        let report =
            credreport::parse_credential_report_with_cap(body, &origin, limits.max_document_bytes)?;
        let mut identities = Vec::new();
        credreport::merge_into(&mut identities, &report.rows);
        Ok(Loaded {
            format: InventoryFormat::CredentialReport,
            identities,
            rejected: report.rejected,
        })
    }
}
