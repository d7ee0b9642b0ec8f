//! Network reference data: AWS's published address ranges (`ip-ranges.json`, from
//! `https://ip-ranges.amazonaws.com/ip-ranges.json`).

use serde::Deserialize;
use std::path::Path;

/// Why the ranges file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum NetDataError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not an AWS ip-ranges.json document: {source}")]
    Format {
        path: String,
        source: serde_json::Error,
    },
    #[error("{path}: larger than {max} bytes")]
    TooLarge { path: String, max: u64 },
    #[error("{path}: holds no prefixes")]
    Empty { path: String },
}

#[derive(Debug, Deserialize)]
struct V4 {
    ip_prefix: String,
}

#[derive(Debug, Deserialize)]
struct V6 {
    ipv6_prefix: String,
}

#[derive(Debug, Deserialize)]
struct Doc {
    #[serde(default)]
    prefixes: Vec<V4>,
    #[serde(default)]
    ipv6_prefixes: Vec<V6>,
}

/// The published file is about 2 MB; a cap keeps a wrong path from reading gigabytes.
const MAX_BYTES: u64 = 64 << 20;

/// The CIDR prefixes (IPv4 and IPv6) of an `ip-ranges.json` document.
pub fn read_aws_ip_ranges(path: &Path) -> Result<Vec<String>, NetDataError> {
    let p = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|source| NetDataError::Io {
        path: p.clone(),
        source,
    })?;
    if meta.len() > MAX_BYTES {
        return Err(NetDataError::TooLarge {
            path: p,
            max: MAX_BYTES,
        });
    }
    let bytes = std::fs::read(path).map_err(|source| NetDataError::Io {
        path: p.clone(),
        source,
    })?;
    let doc: Doc = serde_json::from_slice(&bytes).map_err(|source| NetDataError::Format {
        path: p.clone(),
        source,
    })?;
    let out: Vec<String> = doc
        .prefixes
        .into_iter()
        .map(|v| v.ip_prefix)
        .chain(doc.ipv6_prefixes.into_iter().map(|v| v.ipv6_prefix))
        .collect();
    if out.is_empty() {
        return Err(NetDataError::Empty { path: p });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_families_and_refuses_other_documents() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let good = dir.path().join("ip-ranges.json");
        std::fs::write(
            &good,
            r#"{"syncToken":"1","createDate":"2024-01-01-00-00-00","prefixes":[{"ip_prefix":"3.5.140.0/22","region":"ap-northeast-2","service":"AMAZON","network_border_group":"ap-northeast-2"}],"ipv6_prefixes":[{"ipv6_prefix":"2600:1f00::/24","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let got = read_aws_ip_ranges(&good).unwrap_or_default();
        assert_eq!(
            got,
            vec!["3.5.140.0/22".to_string(), "2600:1f00::/24".to_string()]
        );
        let other = dir.path().join("other.json");
        std::fs::write(&other, r#"{"Records":[]}"#).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read_aws_ip_ranges(&other),
            Err(NetDataError::Empty { .. })
        ));
        std::fs::write(&other, "not json").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read_aws_ip_ranges(&other),
            Err(NetDataError::Format { .. })
        ));
    }
}
