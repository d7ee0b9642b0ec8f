//! Secret-scanner reports → leaked-secret records that hold no secret.
//!
//! Two formats, told apart by content ([`detect`]):
//! - **gitleaks** (`gitleaks detect --report-format json`): one JSON array of findings with
//!   `RuleID`, `Secret`, `Match`, `File`, `StartLine`, `Commit`, `Date`, … An empty array (no
//!   leaks) is an empty report.
//! - **trufflehog** (`trufflehog … --json`): JSON Lines, one finding per line with
//!   `SourceMetadata.Data.<source>` (`Git`, `Filesystem`, `Github`, … holding `file`, `line`,
//!   `commit`, `timestamp`), `DetectorName`, `Verified`, `Raw`, `RawV2`, `ExtraData`. Log
//!   lines (`{"level":…,"msg":…}`, when stderr was captured too) are counted and skipped.
//!
//! Each finding becomes a [`LeakedSecret`]:
//! - `fingerprint` = `sha256:<hex>` of the secret value (surrounding whitespace trimmed):
//!   gitleaks `Secret`; trufflehog `Raw`, except for AWS detectors (and any finding whose `Raw`
//!   is an AWS key id), where `Raw` is the key id and `RawV2` is the id followed by the secret
//!   (`id:secret` in current releases, `idsecret` in older ones): the secret part is
//!   fingerprinted. For gitleaks' `aws-access-token` rule the `Secret` *is* the key id, so the
//!   fingerprint is the key id's.
//! - `aws_key_id`: the first `(AKIA|ASIA)[A-Z0-9]{16}` standing alone (not inside a longer
//!   run of letters and digits) in gitleaks `Secret` then `Match`, or trufflehog `Raw` then
//!   `ExtraData` values. Key ids are not secret.
//! - `location` = `file:line (commit)` (parts omitted when unknown), `verified` (trufflehog
//!   only), `found_at` (gitleaks `Date`, trufflehog git `timestamp`).
//!
//! **No secret value is kept**: not in the records, not in [`Rejected`] details or excerpts. A
//! rejected entry's excerpt lists its fields with every value replaced by `[redacted]` except
//! known non-secret ones of the expected type (rule, file, line numbers, commit, dates,
//! detector); a line that is not JSON has no excerpt. Error texts name fields, never values.
//!
//! A finding without a secret to fingerprint, or with fields of the wrong type, is a
//! [`Rejected`] ([`RejectReason::InvalidRecord`]); so is a gitleaks finding from a report
//! written with `--redact` (its `Secret` is `REDACTED` or cut short with `...`): its
//! fingerprint could not match anything. Repeated findings (same rule, fingerprint and
//! location; trufflehog reports one per decoder) are kept once and counted.

use super::{check_size, excerpt, strip_bom, utf8, InventoryError, MAX_INVENTORY_BYTES};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::fmt::Write as _;
use tripline_model::{RejectReason, Rejected, Timestamp};

/// Which scanner wrote a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scanner {
    Gitleaks,
    Trufflehog,
}

impl Scanner {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gitleaks => "gitleaks",
            Self::Trufflehog => "trufflehog",
        }
    }
}

/// One leaked secret, without the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeakedSecret {
    pub scanner: Scanner,
    /// gitleaks `RuleID` or trufflehog `DetectorName`.
    pub rule: String,
    /// `sha256:<hex>` of the secret value.
    pub fingerprint: String,
    /// An AWS access key id (AKIA… or ASIA…) named by the finding. Not a secret.
    pub aws_key_id: Option<String>,
    /// `file:line (commit)`, parts omitted when unknown.
    pub location: String,
    /// Whether the scanner verified the secret is live (trufflehog only).
    pub verified: Option<bool>,
    /// When the secret was committed (gitleaks `Date`, trufflehog git `timestamp`).
    pub found_at: Option<Timestamp>,
}

/// What one scanner report holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerReport {
    pub scanner: Scanner,
    pub leaked: Vec<LeakedSecret>,
    /// Findings dropped as repeats of an earlier one (same rule, fingerprint and location).
    pub duplicates: usize,
    /// trufflehog log lines (`level`/`msg` objects) skipped.
    pub log_lines: usize,
    pub rejected: Vec<Rejected>,
}

impl ScannerReport {
    fn new(scanner: Scanner) -> Self {
        Self {
            scanner,
            leaked: Vec::new(),
            duplicates: 0,
            log_lines: 0,
            rejected: Vec::new(),
        }
    }
}

/// `sha256:<hex>` of a secret value (surrounding whitespace trimmed).
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.trim().as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for b in digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The first AWS access key id (`AKIA` or `ASIA` then 16 of `A-Z0-9`) in `text` that is not
/// part of a longer run of ASCII letters and digits.
pub fn find_aws_key_id(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i + 20 <= b.len() {
        let prefix = b.get(i..i + 4)?;
        let starts = (prefix == b"AKIA" || prefix == b"ASIA")
            && (i == 0 || b.get(i - 1).is_some_and(|c| !c.is_ascii_alphanumeric()));
        if starts {
            let body_ok = b.get(i + 4..i + 20).is_some_and(|s| {
                s.iter()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            });
            let end_ok = b.get(i + 20).is_none_or(|c| !c.is_ascii_alphanumeric());
            if body_ok && end_ok {
                return text.get(i..i + 20).map(str::to_string);
            }
        }
        i += 1;
    }
    None
}

/// Whether `s` is exactly an AWS access key id.
fn is_aws_key_id(s: &str) -> bool {
    s.len() == 20 && find_aws_key_id(s).as_deref() == Some(s)
}

/// The scanner that wrote `bytes`, by content: a JSON array whose first element has `RuleID`
/// (or an empty array) is gitleaks; a first line (after any trufflehog log lines) that is a
/// JSON object with `DetectorName` or `SourceMetadata` is trufflehog.
pub fn detect(bytes: &[u8]) -> Option<Scanner> {
    let body = strip_bom(bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => detect_gitleaks(body).then_some(Scanner::Gitleaks),
        Some(b'{') => detect_trufflehog(body).then_some(Scanner::Trufflehog),
        _ => None,
    }
}

#[derive(Deserialize)]
struct GitleaksProbe {
    #[serde(rename = "RuleID", default)]
    rule_id: Option<IgnoredAny>,
}

#[derive(Deserialize)]
struct TrufflehogProbe {
    #[serde(rename = "DetectorName", default)]
    detector_name: Option<IgnoredAny>,
    #[serde(rename = "SourceMetadata", default)]
    source_metadata: Option<IgnoredAny>,
    #[serde(default)]
    level: Option<IgnoredAny>,
    #[serde(default)]
    msg: Option<IgnoredAny>,
}

fn detect_gitleaks(body: &[u8]) -> bool {
    // Only the first element is read, to keep this cheap on large reports.
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let inner = text.trim_start().strip_prefix('[').unwrap_or_default();
    if inner.trim_start().starts_with(']') {
        return true;
    }
    let mut stream = serde_json::Deserializer::from_str(inner).into_iter::<GitleaksProbe>();
    matches!(stream.next(), Some(Ok(GitleaksProbe { rule_id: Some(_) })))
}

/// Lines examined when looking past trufflehog log lines for the first finding.
const DETECT_LINES: usize = 64;

fn detect_trufflehog(body: &[u8]) -> bool {
    for line in body
        .split(|&b| b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .take(DETECT_LINES)
    {
        let Ok(p) = serde_json::from_slice::<TrufflehogProbe>(line.trim_ascii()) else {
            return false;
        };
        if p.detector_name.is_some() || p.source_metadata.is_some() {
            return true;
        }
        if p.level.is_none() || p.msg.is_none() {
            return false;
        }
    }
    false
}

/// Reads a gitleaks or trufflehog report (told apart by [`detect`]) with the default cap.
pub fn parse_scanner_report(bytes: &[u8], origin: &str) -> Result<ScannerReport, InventoryError> {
    parse_scanner_report_with_cap(bytes, origin, MAX_INVENTORY_BYTES)
}

/// Reads a gitleaks or trufflehog report; an input longer than `max_bytes` is refused whole.
pub fn parse_scanner_report_with_cap(
    bytes: &[u8],
    origin: &str,
    max_bytes: usize,
) -> Result<ScannerReport, InventoryError> {
    check_size(bytes, origin, max_bytes)?;
    match detect(bytes) {
        Some(Scanner::Gitleaks) => parse_gitleaks(bytes, origin),
        Some(Scanner::Trufflehog) => parse_trufflehog(bytes, origin),
        None => Err(InventoryError::UnknownFormat {
            origin: origin.to_string(),
            expected: "a gitleaks json report or trufflehog --json output",
            detail: "neither a json array of findings with `RuleID` nor json lines with \
                     `DetectorName`/`SourceMetadata`"
                .into(),
        }),
    }
}

// ---------------------------------------------------------------------------------------------
// Field access that never quotes a value.

/// The JSON type of a value, for messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A string field: `Ok(None)` when absent, null or empty.
fn opt_str<'a>(m: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(format!("`{key}` is {}, expected a string", type_name(v))),
    }
}

fn req_str<'a>(m: &'a Map<String, Value>, key: &str) -> Result<&'a str, String> {
    opt_str(m, key)?.ok_or_else(|| format!("no `{key}`"))
}

/// A line or column number field (a non-negative integer; some tools write it as a string).
fn opt_u64(m: &Map<String, Value>, key: &str) -> Result<Option<u64>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`{key}` is not a non-negative integer")),
        Some(v) => Err(format!("`{key}` is {}, expected a number", type_name(v))),
    }
}

fn opt_bool(m: &Map<String, Value>, key: &str) -> Result<Option<bool>, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(format!("`{key}` is {}, expected a boolean", type_name(v))),
    }
}

/// Fields whose values are shown in a rejected entry's excerpt, with the JSON type they must
/// have; every other value is redacted.
const SHOWN_FIELDS: [(&str, &str); 18] = [
    ("RuleID", "string"),
    ("Description", "string"),
    ("File", "string"),
    ("SymlinkFile", "string"),
    ("StartLine", "number"),
    ("EndLine", "number"),
    ("StartColumn", "number"),
    ("EndColumn", "number"),
    ("Commit", "string"),
    ("Date", "string"),
    ("DetectorName", "string"),
    ("DetectorType", "number"),
    ("DecoderName", "string"),
    ("Verified", "boolean"),
    ("SourceName", "string"),
    ("SourceType", "number"),
    ("SourceID", "number"),
    ("Entropy", "number"),
];

/// A rejected entry's excerpt: its fields, values redacted except [`SHOWN_FIELDS`].
fn redacted_excerpt(m: &Map<String, Value>) -> String {
    let mut out = Map::new();
    for (k, v) in m {
        let shown = SHOWN_FIELDS.iter().any(|&(name, ty)| {
            name == k
                && match ty {
                    "string" => v.is_string(),
                    "number" => v.is_number(),
                    "boolean" => v.is_boolean(),
                    _ => false,
                }
        });
        let value = if shown {
            v.clone()
        } else {
            Value::String("[redacted]".into())
        };
        out.insert(k.clone(), value);
    }
    excerpt(&Value::Object(out).to_string())
}

fn location(file: Option<&str>, line: Option<u64>, commit: Option<&str>) -> String {
    let mut s = file.unwrap_or("(unknown file)").to_string();
    if let Some(line) = line.filter(|&l| l > 0) {
        let _ = write!(s, ":{line}");
    }
    if let Some(commit) = commit {
        let _ = write!(s, " ({commit})");
    }
    s
}

/// Adds a finding unless it repeats an earlier one.
fn push_finding(
    report: &mut ScannerReport,
    seen: &mut HashSet<(String, String, String)>,
    leak: LeakedSecret,
) {
    let key = (
        leak.rule.clone(),
        leak.fingerprint.clone(),
        leak.location.clone(),
    );
    if seen.insert(key) {
        report.leaked.push(leak);
    } else {
        report.duplicates += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// gitleaks.

/// Reads a gitleaks JSON report (a JSON array of findings).
pub fn parse_gitleaks(bytes: &[u8], origin: &str) -> Result<ScannerReport, InventoryError> {
    check_size(bytes, origin, MAX_INVENTORY_BYTES)?;
    let text = utf8(bytes, origin)?;
    if !text.trim_start().starts_with('[') {
        return Err(InventoryError::UnknownFormat {
            origin: origin.to_string(),
            expected: "a gitleaks json report",
            detail: "not a json array of findings (use --report-format json)".into(),
        });
    }
    let items: Vec<&RawValue> =
        serde_json::from_str(text).map_err(|e| InventoryError::NotJson {
            origin: origin.to_string(),
            // serde_json syntax errors name a position, never the text.
            message: e.to_string(),
        })?;
    let mut report = ScannerReport::new(Scanner::Gitleaks);
    let mut seen = HashSet::new();
    for (i, raw) in items.iter().enumerate() {
        let position = u64::try_from(i + 1).ok();
        let (result, shown) = match serde_json::from_str::<Map<String, Value>>(raw.get()) {
            Ok(m) => (gitleaks_finding(&m), redacted_excerpt(&m)),
            Err(_) => (Err("not an object".to_string()), String::new()),
        };
        match result {
            Ok(leak) => push_finding(&mut report, &mut seen, leak),
            Err(why) => report.rejected.push(Rejected {
                origin: origin.to_string(),
                position,
                reason: RejectReason::InvalidRecord,
                detail: format!("gitleaks finding {}: {why}", i + 1),
                excerpt: shown,
            }),
        }
    }
    Ok(report)
}

fn gitleaks_finding(m: &Map<String, Value>) -> Result<LeakedSecret, String> {
    let rule = req_str(m, "RuleID")?;
    let secret = req_str(m, "Secret")?;
    let matched = opt_str(m, "Match")?;
    let file = opt_str(m, "File")?;
    let line = opt_u64(m, "StartLine")?;
    let commit = opt_str(m, "Commit")?;
    let date = opt_str(m, "Date")?;
    let secret = secret.trim();
    if secret == "REDACTED" || secret.ends_with("...") {
        return Err(
            "the secret is redacted (report written with --redact), so it cannot be \
             fingerprinted; run gitleaks without --redact (Tripline keeps only a SHA-256)"
                .into(),
        );
    }
    let aws_key_id = find_aws_key_id(secret).or_else(|| matched.and_then(find_aws_key_id));
    Ok(LeakedSecret {
        scanner: Scanner::Gitleaks,
        rule: rule.to_string(),
        fingerprint: fingerprint(secret),
        aws_key_id,
        location: location(file, line, commit),
        verified: None,
        found_at: date.and_then(Timestamp::parse),
    })
}

// ---------------------------------------------------------------------------------------------
// trufflehog.

/// Reads trufflehog `--json` output (JSON Lines).
pub fn parse_trufflehog(bytes: &[u8], origin: &str) -> Result<ScannerReport, InventoryError> {
    check_size(bytes, origin, MAX_INVENTORY_BYTES)?;
    let text = utf8(bytes, origin)?;
    let mut report = ScannerReport::new(Scanner::Trufflehog);
    let mut seen = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let position = u64::try_from(i + 1).ok();
        let reject =
            |report: &mut ScannerReport, reason: RejectReason, why: String, shown: String| {
                report.rejected.push(Rejected {
                    origin: origin.to_string(),
                    position,
                    reason,
                    detail: format!("line {}: {why}", i + 1),
                    excerpt: shown,
                });
            };
        let m = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => m,
            Ok(v) => {
                let why = format!("{}, not a trufflehog finding object", type_name(&v));
                reject(&mut report, RejectReason::InvalidRecord, why, String::new());
                continue;
            }
            Err(e) => {
                // The line may hold a secret: no excerpt.
                let why = format!("not json ({e}); excerpt withheld");
                reject(&mut report, RejectReason::NotJson, why, String::new());
                continue;
            }
        };
        let is_finding = m.contains_key("DetectorName")
            || m.contains_key("DetectorType")
            || m.contains_key("SourceMetadata");
        if !is_finding {
            if m.contains_key("level") && m.contains_key("msg") {
                report.log_lines += 1;
            } else {
                let why = "an object with neither DetectorName, DetectorType nor SourceMetadata"
                    .to_string();
                reject(
                    &mut report,
                    RejectReason::UnknownFormat,
                    why,
                    redacted_excerpt(&m),
                );
            }
            continue;
        }
        match trufflehog_finding(&m) {
            Ok(leak) => push_finding(&mut report, &mut seen, leak),
            Err(why) => reject(
                &mut report,
                RejectReason::InvalidRecord,
                why,
                redacted_excerpt(&m),
            ),
        }
    }
    Ok(report)
}

fn trufflehog_finding(m: &Map<String, Value>) -> Result<LeakedSecret, String> {
    let rule = match (opt_str(m, "DetectorName")?, m.get("DetectorType")) {
        (Some(name), _) => name.to_string(),
        (None, Some(Value::Number(n))) => format!("detector {n}"),
        (None, Some(Value::String(s))) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err("no `DetectorName`".into()),
    };
    let raw = opt_str(m, "Raw")?;
    let raw_v2 = opt_str(m, "RawV2")?;
    let verified = opt_bool(m, "Verified")?;
    let extra = match m.get("ExtraData") {
        None | Some(Value::Null) => None,
        Some(Value::Object(e)) => Some(e),
        Some(v) => {
            return Err(format!(
                "`ExtraData` is {}, expected an object",
                type_name(v)
            ))
        }
    };

    let raw_is_key_id = raw.is_some_and(|r| is_aws_key_id(r.trim()));
    let aws_detector = rule.to_ascii_lowercase().starts_with("aws");
    let secret = if aws_detector || raw_is_key_id {
        aws_secret_part(raw, raw_v2).or(raw)
    } else {
        raw.or(raw_v2)
    };
    let Some(secret) = secret else {
        return Err("neither `Raw` nor `RawV2` holds a value to fingerprint".into());
    };

    let aws_key_id = raw.and_then(find_aws_key_id).or_else(|| {
        extra?
            .values()
            .filter_map(Value::as_str)
            .find_map(find_aws_key_id)
    });

    let (file, line, commit, timestamp) = source_place(m)?;
    Ok(LeakedSecret {
        scanner: Scanner::Trufflehog,
        rule,
        fingerprint: fingerprint(secret),
        aws_key_id,
        location: location(file.as_deref(), line, commit.as_deref()),
        verified,
        found_at: timestamp.as_deref().and_then(parse_git_time),
    })
}

/// The secret access key in an AWS finding: `RawV2` without the key id (`Raw`) in front, and
/// without the `:` separator current releases put between them; a session token after a
/// further `:` is not part of it.
fn aws_secret_part<'a>(raw: Option<&str>, raw_v2: Option<&'a str>) -> Option<&'a str> {
    let v2 = raw_v2?.trim();
    let id = raw.map(str::trim).filter(|r| !r.is_empty())?;
    let rest = v2.strip_prefix(id)?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let secret = rest.split(':').next().unwrap_or(rest);
    (!secret.is_empty()).then_some(secret)
}

type Place = (Option<String>, Option<u64>, Option<String>, Option<String>);

/// File, line, commit and timestamp from `SourceMetadata.Data.<source>`.
fn source_place(m: &Map<String, Value>) -> Result<Place, String> {
    let data = match m.get("SourceMetadata") {
        None | Some(Value::Null) => return Ok((None, None, None, None)),
        Some(Value::Object(sm)) => match sm.get("Data") {
            None | Some(Value::Null) => return Ok((None, None, None, None)),
            Some(Value::Object(d)) => d,
            Some(v) => {
                return Err(format!(
                    "`SourceMetadata.Data` is {}, expected an object",
                    type_name(v)
                ))
            }
        },
        Some(v) => {
            return Err(format!(
                "`SourceMetadata` is {}, expected an object",
                type_name(v)
            ))
        }
    };
    // One key per source type (`Git`, `Filesystem`, `Github`, `S3`, …).
    let Some(src) = data.values().find_map(Value::as_object) else {
        return Ok((None, None, None, None));
    };
    let file = ["file", "path", "link", "uri"]
        .iter()
        .find_map(|k| opt_str(src, k).ok().flatten())
        .map(str::to_string);
    let line = match src.get("line") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_u64(),
        Some(v) => {
            return Err(format!(
                "`SourceMetadata.Data.*.line` is {}, expected a number",
                type_name(v)
            ))
        }
    };
    let commit = opt_str(src, "commit").ok().flatten().map(str::to_string);
    let timestamp = opt_str(src, "timestamp").ok().flatten().map(str::to_string);
    Ok((file, line, commit, timestamp))
}

/// Git timestamps as trufflehog writes them (`2024-03-01 10:17:40 -0700`, sometimes with the
/// zone repeated or named after the offset), or RFC 3339.
fn parse_git_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if let Some(t) = Timestamp::parse(s) {
        return Some(t);
    }
    let head = s.get(..19)?;
    let zone = s.get(19..)?.trim_start();
    let offset = zone
        .get(..5)
        .filter(|z| z.starts_with(['+', '-']) && z.bytes().skip(1).all(|c| c.is_ascii_digit()));
    match offset {
        Some(z) => Timestamp::parse(&format!("{head}{z}")),
        None => Timestamp::parse(head),
    }
}

#[cfg(test)]
mod tests;
