//! One entry point for inventory files: reads under the caps, recognises the format by content.

use super::{authz, credreport, rbac, scanner, InventoryError};
use crate::limits::Limits;
use serde::Deserialize;
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use tripline_model::{Identity, Rejected};

/// Which inventory format a file held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    AuthorizationDetails,
    CredentialReport,
    /// Kubernetes RBAC JSON (roles, cluster roles and their bindings).
    KubernetesRbac,
    /// A gitleaks JSON report.
    Gitleaks,
    /// trufflehog `--json` output.
    Trufflehog,
}

/// Identities read from one inventory file, and the entries set aside.
#[derive(Debug)]
pub struct Loaded {
    pub format: InventoryFormat,
    pub identities: Vec<Identity>,
    /// Leaked secrets from a scanner report (empty for the other formats).
    pub leaked: Vec<scanner::LeakedSecret>,
    pub rejected: Vec<Rejected>,
}

/// Reads `path` (gzip or not, capped at `limits.max_document_bytes`) and recognises the format by
/// content, in this order:
/// 1. trufflehog: the first line (after any trufflehog log lines) is a JSON object with
///    `DetectorName` or `SourceMetadata`;
/// 2. gitleaks: a JSON array whose first element has `RuleID`, or an empty array;
/// 3. Kubernetes RBAC: the first JSON value is an object whose `kind` is `List` or an RBAC kind
///    or list of them (`ClusterRole`, `RoleBindingList`, …), or that has `items` holding an
///    object of an RBAC kind, or an array whose first element is of an RBAC kind;
/// 4. any other JSON: `aws iam get-account-authorization-details` output;
/// 5. anything else: a credential report CSV.
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
    let cap = limits.max_document_bytes;
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'[')) {
        let report = credreport::parse_credential_report_with_cap(body, &origin, cap)?;
        let mut identities = Vec::new();
        credreport::merge_into(&mut identities, &report.rows);
        return Ok(Loaded {
            format: InventoryFormat::CredentialReport,
            identities,
            leaked: Vec::new(),
            rejected: report.rejected,
        });
    }
    if scanner::detect(body).is_some() {
        let report = scanner::parse_scanner_report_with_cap(body, &origin, cap)?;
        return Ok(Loaded {
            format: match report.scanner {
                scanner::Scanner::Gitleaks => InventoryFormat::Gitleaks,
                scanner::Scanner::Trufflehog => InventoryFormat::Trufflehog,
            },
            identities: Vec::new(),
            leaked: report.leaked,
            rejected: report.rejected,
        });
    }
    if looks_like_rbac(body) {
        let inv = rbac::parse_rbac_with_cap(body, &origin, cap)?;
        return Ok(Loaded {
            format: InventoryFormat::KubernetesRbac,
            identities: inv.identities,
            leaked: Vec::new(),
            rejected: inv.rejected,
        });
    }
    let inv = authz::parse_authz_with_cap(body, &origin, cap)?;
    Ok(Loaded {
        format: InventoryFormat::AuthorizationDetails,
        identities: inv.identities,
        leaked: Vec::new(),
        rejected: inv.rejected,
    })
}

/// The `kind` (and, for lists, the items' kinds) of a JSON value, read without keeping the rest.
#[derive(Deserialize)]
struct KindProbe {
    #[serde(default)]
    kind: Option<Value>,
    #[serde(default)]
    items: Option<Vec<ItemProbe>>,
}

#[derive(Deserialize)]
struct ItemProbe {
    #[serde(default)]
    kind: Option<Value>,
}

fn rbac_kind(kind: Option<&Value>) -> bool {
    kind.and_then(Value::as_str).is_some_and(rbac::is_rbac_kind)
}

/// Whether the first JSON value of `body` is Kubernetes RBAC (see [`load`]).
fn looks_like_rbac(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let text = text.trim_start();
    if let Some(inner) = text.strip_prefix('[') {
        let mut stream = serde_json::Deserializer::from_str(inner).into_iter::<ItemProbe>();
        return matches!(stream.next(), Some(Ok(p)) if rbac_kind(p.kind.as_ref()));
    }
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<KindProbe>();
    let Some(Ok(probe)) = stream.next() else {
        return false;
    };
    let kind = probe.kind.as_ref().and_then(Value::as_str);
    kind == Some("List")
        || kind.is_some_and(rbac::is_rbac_kind)
        || probe
            .items
            .iter()
            .flatten()
            .any(|i| rbac_kind(i.kind.as_ref()))
}
