//! The IAM credential report (`aws iam generate-credential-report`, then
//! `aws iam get-credential-report --query Content --output text | base64 -d`).
//!
//! Columns are found by header name, so their order may vary; only `arn` is required, and a
//! header that lacks any of the [`DOCUMENTED_COLUMNS`] is reported as a rejection of line 1
//! naming them (the rows are read; what those columns carry is unknown, not false). A line
//! with an unterminated quote is rejected on its own instead of swallowing the rows after it. Cell values: a timestamp (ISO 8601), `true`/`false`,
//! `N/A` (not applicable: no such credential, or never used), `no_information` (used, but
//! before AWS tracked it), `not_supported` (the root row's password fields). A row that cannot
//! be read is a [`Rejected`] with its line number; the others are kept.
//!
//! The report names no access key ids, so a key is identified by its slot:
//! `<user arn>#access_key_1` and `<user arn>#access_key_2` (likewise `#password`, `#cert_1`,
//! `#cert_2`). When CloudTrail shows the `AKIA…` id of the same key, the engine sees two
//! credential entries until it matches them (e.g. a user with one active key).

use super::{check_size, excerpt, strip_bom, InventoryError, MAX_INVENTORY_BYTES};
use std::collections::HashMap;
use tripline_model::{
    CredentialKind, Identity, IdentityKind, Provenance, RejectReason, Rejected, Timestamp,
};

/// The `user` value of the account root row.
pub const ROOT_USER: &str = "<root_account>";

/// A time cell of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportTime {
    At(Timestamp),
    /// `N/A`: no such credential, or never used.
    NotApplicable,
    /// `no_information`: used, but before AWS began tracking (October 2014 for passwords,
    /// April 2015 for access keys).
    NoInformation,
    /// `not_supported`: the field does not apply to this row (the root user's password fields).
    NotSupported,
}

impl ReportTime {
    pub fn timestamp(self) -> Option<Timestamp> {
        match self {
            Self::At(t) => Some(t),
            _ => None,
        }
    }
}

/// `access_key_N_*` columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeySlot {
    /// 1 or 2.
    pub slot: u8,
    pub active: Option<bool>,
    /// When the key in this slot was created or last changed (AWS keys cannot be changed in
    /// place, so this is the key's creation time).
    pub last_rotated: Option<ReportTime>,
    pub last_used: Option<ReportTime>,
    pub last_used_region: Option<String>,
    pub last_used_service: Option<String>,
}

impl AccessKeySlot {
    /// Whether a key exists in this slot (active, or inactive but created at some point).
    pub fn exists(&self) -> bool {
        self.active == Some(true) || matches!(self.last_rotated, Some(ReportTime::At(_)))
    }
}

/// `cert_N_*` columns (X.509 signing certificates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSlot {
    pub slot: u8,
    pub active: Option<bool>,
    pub last_rotated: Option<ReportTime>,
}

impl CertSlot {
    pub fn exists(&self) -> bool {
        self.active == Some(true) || matches!(self.last_rotated, Some(ReportTime::At(_)))
    }
}

/// One row of the report. `None` means the column is absent or the cell empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReportRow {
    /// 1-based line in the CSV.
    pub line: u64,
    /// `user`, or the last path segment of the ARN when the column is absent.
    pub user: String,
    pub arn: String,
    /// The `<root_account>` row.
    pub is_root: bool,
    pub user_creation_time: Option<Timestamp>,
    pub password_enabled: Option<bool>,
    pub password_last_used: Option<ReportTime>,
    pub password_last_changed: Option<ReportTime>,
    pub password_next_rotation: Option<ReportTime>,
    pub mfa_active: Option<bool>,
    pub access_keys: [AccessKeySlot; 2],
    pub certs: [CertSlot; 2],
}

impl CredentialReportRow {
    pub fn any_active_key(&self) -> bool {
        self.access_keys.iter().any(|k| k.active == Some(true))
    }

    /// The console was used with this password at a known time.
    pub fn console_used(&self) -> bool {
        matches!(self.password_last_used, Some(ReportTime::At(_)))
    }

    /// The rule by which the report marks a user as a person rather than software: a console
    /// password that is enabled, no active access key, and either a recorded console sign-in
    /// or an MFA device. A user with both an enabled password and an active key stays an NHI
    /// (the engine may flag interactive use of it).
    pub fn looks_human(&self) -> bool {
        !self.is_root
            && self.password_enabled == Some(true)
            && !self.any_active_key()
            && (self.console_used() || self.mfa_active == Some(true))
    }
}

/// The rows read and the rows set aside.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CredentialReport {
    pub rows: Vec<CredentialReportRow>,
    pub rejected: Vec<Rejected>,
}

/// What [`merge_into`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeSummary {
    /// Rows whose ARN matched a known identity.
    pub matched: usize,
    /// Identities created for rows whose ARN was not known.
    pub created: usize,
    /// Identities whose kind became [`IdentityKind::Human`] by [`CredentialReportRow::looks_human`].
    pub marked_human: usize,
}

/// Reads a credential report with the default cap ([`MAX_INVENTORY_BYTES`]).
pub fn parse_credential_report(
    bytes: &[u8],
    origin: &str,
) -> Result<CredentialReport, InventoryError> {
    parse_credential_report_with_cap(bytes, origin, MAX_INVENTORY_BYTES)
}

/// Reads a credential report; an input longer than `max_bytes` is refused whole.
pub fn parse_credential_report_with_cap(
    bytes: &[u8],
    origin: &str,
    max_bytes: usize,
) -> Result<CredentialReport, InventoryError> {
    check_size(bytes, origin, max_bytes)?;
    let bytes = strip_bom(bytes);
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Err(InventoryError::UnknownFormat {
            origin: origin.to_string(),
            expected: "a credential report csv",
            detail: "this is json: decode the base64 `Content` of get-credential-report first"
                .into(),
        });
    }
    // No cell of a credential report spans lines, so a quote left open would swallow every
    // row after it into one field: each such line is rejected on its own (blanked, so line
    // numbers stay) and the rows around it are kept.
    let (bytes, unterminated) = blank_unterminated_quotes(bytes);
    let bytes = bytes.as_ref();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let header = reader.headers().map_err(|e| csv_error(origin, &e))?.clone();
    let columns = Columns::new(&header);
    let Some(arn_col) = columns.get("arn") else {
        return Err(InventoryError::MissingColumn {
            origin: origin.to_string(),
            column: "arn",
            header: excerpt(&header.iter().collect::<Vec<_>>().join(",")),
        });
    };

    let mut report = CredentialReport::default();
    let missing: Vec<&str> = DOCUMENTED_COLUMNS
        .iter()
        .copied()
        .filter(|c| columns.get(c).is_none())
        .collect();
    if !missing.is_empty() {
        // The rows are read, but what these columns carry is unknown, not false: said once,
        // as a rejection of the header, so the summary counts it.
        report.rejected.push(Rejected {
            origin: origin.to_string(),
            position: Some(1),
            reason: RejectReason::InvalidRecord,
            detail: format!(
                "line 1: the header lacks documented credential report columns: {}; their signals (key age, rotation, MFA, console use) are unknown for every row, not false",
                missing.join(", ")
            ),
            excerpt: excerpt(&header.iter().collect::<Vec<_>>().join(",")),
        });
    }
    for line in unterminated {
        report.rejected.push(Rejected {
            origin: origin.to_string(),
            position: Some(line),
            reason: RejectReason::InvalidRecord,
            detail: format!("line {line}: unterminated quote (a credential report cell never spans lines); the row is set aside, the next rows are read"),
            excerpt: String::new(),
        });
    }
    let mut raw = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut raw) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, |p| record_line(bytes, p));
                report.rejected.push(Rejected {
                    origin: origin.to_string(),
                    position: Some(line),
                    reason: RejectReason::InvalidRecord,
                    detail: format!("line {line}: {e}"),
                    excerpt: String::new(),
                });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        let line = raw.position().map_or(0, |p| record_line(bytes, p));
        if raw.iter().all(<[u8]>::is_empty) {
            continue;
        }
        let record = match csv::StringRecord::from_byte_record(raw.clone()) {
            Ok(r) => r,
            Err(e) => {
                report.rejected.push(Rejected {
                    origin: origin.to_string(),
                    position: Some(line),
                    reason: RejectReason::NotUtf8,
                    detail: format!("line {line}: not utf-8 ({})", e.utf8_error()),
                    excerpt: excerpt(&String::from_utf8_lossy(raw.as_slice())),
                });
                continue;
            }
        };
        match read_row(&columns, arn_col, &record, header.len(), line) {
            Ok(row) => report.rows.push(row),
            Err(detail) => report.rejected.push(Rejected {
                origin: origin.to_string(),
                position: Some(line),
                reason: RejectReason::InvalidRecord,
                detail: format!("line {line}: {detail}"),
                excerpt: excerpt(&record.iter().collect::<Vec<_>>().join(",")),
            }),
        }
    }
    Ok(report)
}

/// The columns AWS documents for the credential report, in its order.
pub const DOCUMENTED_COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// Lines after the first (the header) with an odd number of `"` (an unterminated quote,
/// since `""` escapes come in pairs) are blanked; their 1-based numbers are returned.
fn blank_unterminated_quotes(bytes: &[u8]) -> (std::borrow::Cow<'_, [u8]>, Vec<u64>) {
    let mut bad = Vec::new();
    let mut start = 0usize;
    let mut line = 1u64;
    let mut spans = Vec::new();
    while start < bytes.len() {
        let rest = bytes.get(start..).unwrap_or_default();
        let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let text = rest.get(..len).unwrap_or_default();
        if line > 1 && memchr::memchr_iter(b'"', text).count() % 2 == 1 {
            bad.push(line);
            spans.push((start, len));
        }
        start += len + 1;
        line += 1;
    }
    if spans.is_empty() {
        return (std::borrow::Cow::Borrowed(bytes), bad);
    }
    let mut owned = bytes.to_vec();
    for (at, len) in spans {
        if let Some(cells) = owned.get_mut(at..at + len) {
            cells.fill(b' ');
        }
    }
    (std::borrow::Cow::Owned(owned), bad)
}

/// The 1-based line a record starts on. The csv reader reports the position where it began
/// looking, which is before any blank lines it skipped; step over those.
fn record_line(bytes: &[u8], pos: &csv::Position) -> u64 {
    let mut line = pos.line();
    let start = usize::try_from(pos.byte()).unwrap_or(usize::MAX);
    for &b in bytes.get(start..).unwrap_or_default() {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
    }
    line
}

fn csv_error(origin: &str, e: &csv::Error) -> InventoryError {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => InventoryError::NotUtf8 {
            origin: origin.to_string(),
            message: e.to_string(),
        },
        _ => InventoryError::Csv {
            origin: origin.to_string(),
            message: e.to_string(),
        },
    }
}

/// Header name → column index (first occurrence; names trimmed and lower-cased).
struct Columns(HashMap<String, usize>);

impl Columns {
    fn new(header: &csv::StringRecord) -> Self {
        let mut map = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            map.entry(name.trim().to_ascii_lowercase()).or_insert(i);
        }
        Self(map)
    }

    fn get(&self, name: &str) -> Option<usize> {
        self.0.get(name).copied()
    }
}

fn read_row(
    columns: &Columns,
    arn_col: usize,
    record: &csv::StringRecord,
    width: usize,
    line: u64,
) -> Result<CredentialReportRow, String> {
    if record.len() != width {
        return Err(format!("{} fields, the header has {width}", record.len()));
    }
    let cell = |name: &str| -> Option<&str> {
        columns
            .get(name)
            .and_then(|i| record.get(i))
            .filter(|v| !v.is_empty())
    };
    let arn = record.get(arn_col).unwrap_or_default().to_string();
    if arn.is_empty() {
        return Err("empty arn".into());
    }
    if !arn.starts_with("arn:") {
        return Err(format!("arn {arn:?} is not an arn"));
    }
    let user = match cell("user") {
        Some(u) => u.to_string(),
        None => arn
            .rsplit(['/', ':'])
            .next()
            .unwrap_or_default()
            .to_string(),
    };
    let is_root = user == ROOT_USER || arn.ends_with(":root");
    let time = |name: &str| -> Result<Option<ReportTime>, String> {
        cell(name)
            .map(|v| parse_time(v).map_err(|e| format!("{name}: {e}")))
            .transpose()
    };
    let flag = |name: &str| -> Result<Option<bool>, String> {
        cell(name)
            .map(|v| parse_bool(v).map_err(|e| format!("{name}: {e}")))
            .transpose()
            .map(Option::flatten)
    };
    let text = |name: &str| -> Option<String> {
        cell(name)
            .filter(|v| !is_placeholder(v))
            .map(str::to_string)
    };
    let key = |slot: u8| -> Result<AccessKeySlot, String> {
        let p = format!("access_key_{slot}_");
        Ok(AccessKeySlot {
            slot,
            active: flag(&format!("{p}active"))?,
            last_rotated: time(&format!("{p}last_rotated"))?,
            last_used: time(&format!("{p}last_used_date"))?,
            last_used_region: text(&format!("{p}last_used_region")),
            last_used_service: text(&format!("{p}last_used_service")),
        })
    };
    let cert = |slot: u8| -> Result<CertSlot, String> {
        Ok(CertSlot {
            slot,
            active: flag(&format!("cert_{slot}_active"))?,
            last_rotated: time(&format!("cert_{slot}_last_rotated"))?,
        })
    };
    Ok(CredentialReportRow {
        line,
        user_creation_time: time("user_creation_time")?.and_then(ReportTime::timestamp),
        password_enabled: flag("password_enabled")?,
        password_last_used: time("password_last_used")?,
        password_last_changed: time("password_last_changed")?,
        password_next_rotation: time("password_next_rotation")?,
        mfa_active: flag("mfa_active")?,
        access_keys: [key(1)?, key(2)?],
        certs: [cert(1)?, cert(2)?],
        user,
        arn,
        is_root,
    })
}

fn is_placeholder(v: &str) -> bool {
    matches!(v, "N/A" | "no_information" | "not_supported")
}

fn parse_time(v: &str) -> Result<ReportTime, String> {
    match v {
        "N/A" => Ok(ReportTime::NotApplicable),
        "no_information" => Ok(ReportTime::NoInformation),
        "not_supported" => Ok(ReportTime::NotSupported),
        _ => Timestamp::parse(v)
            .map(ReportTime::At)
            .ok_or_else(|| format!("{v:?} is not a time")),
    }
}

/// `Ok(None)` for the placeholders.
fn parse_bool(v: &str) -> Result<Option<bool>, String> {
    if v.eq_ignore_ascii_case("true") {
        Ok(Some(true))
    } else if v.eq_ignore_ascii_case("false") {
        Ok(Some(false))
    } else if is_placeholder(v) {
        Ok(None)
    } else {
        Err(format!("{v:?} is not true or false"))
    }
}

/// Merges report rows into `identities` (matched by ARN = identity id; unknown users and the
/// root row become new identities with `in_inventory = true`):
/// - `created` ← `user_creation_time` when not yet known;
/// - each existing access-key slot → [`CredentialKind::AccessKey`] `<arn>#access_key_N` with
///   active, created = last_rotated = `access_key_N_last_rotated`, last use, region, service;
/// - an enabled password → [`CredentialKind::Password`] `<arn>#password` (last_rotated =
///   `password_last_changed`, last_used = `password_last_used`);
/// - each existing signing certificate → [`CredentialKind::Certificate`] `<arn>#cert_N`;
/// - kind → [`IdentityKind::Human`] (provenance [`Provenance::Inventory`]) when
///   [`CredentialReportRow::looks_human`], unless the kind came from the owners file or the
///   identity is not a service account; the root row → [`IdentityKind::Root`].
pub fn merge_into(identities: &mut Vec<Identity>, rows: &[CredentialReportRow]) -> MergeSummary {
    let mut summary = MergeSummary::default();
    let mut index: HashMap<String, usize> = identities
        .iter()
        .enumerate()
        .map(|(i, id)| (id.id.clone(), i))
        .collect();
    for row in rows {
        let pos = match index.get(&row.arn) {
            Some(&p) => {
                summary.matched += 1;
                p
            }
            None => {
                let kind = if row.is_root {
                    IdentityKind::Root
                } else {
                    IdentityKind::ServiceAccount
                };
                let name = if row.is_root {
                    "root".to_string()
                } else {
                    row.user.clone()
                };
                let mut identity = Identity::new(row.arn.clone(), name, kind);
                identity.kind_from = Provenance::Inventory;
                identity.account = tripline_model::account_of_arn(&row.arn).map(str::to_string);
                identity.in_inventory = true;
                identities.push(identity);
                index.insert(row.arn.clone(), identities.len() - 1);
                summary.created += 1;
                identities.len() - 1
            }
        };
        let Some(identity) = identities.get_mut(pos) else {
            continue;
        };
        if apply_row(identity, row) {
            summary.marked_human += 1;
        }
    }
    summary
}

/// Applies one row; returns whether the identity was marked human.
fn apply_row(identity: &mut Identity, row: &CredentialReportRow) -> bool {
    identity.in_inventory = true;
    if identity.created.is_none() {
        identity.created = row.user_creation_time;
    }
    for k in &row.access_keys {
        if !k.exists() {
            continue;
        }
        let id = format!("{}#access_key_{}", row.arn, k.slot);
        let c = identity.credential_mut(&id, CredentialKind::AccessKey);
        c.active = k.active.or(c.active);
        let rotated = k.last_rotated.and_then(ReportTime::timestamp);
        c.created = rotated.or(c.created);
        c.last_rotated = rotated.or(c.last_rotated);
        c.last_used = k.last_used.and_then(ReportTime::timestamp).or(c.last_used);
        c.last_used_region = k.last_used_region.clone().or(c.last_used_region.take());
        c.last_used_service = k.last_used_service.clone().or(c.last_used_service.take());
    }
    if row.password_enabled == Some(true) {
        let c = identity.credential_mut(&format!("{}#password", row.arn), CredentialKind::Password);
        c.active = Some(true);
        c.last_rotated = row
            .password_last_changed
            .and_then(ReportTime::timestamp)
            .or(c.last_rotated);
        c.last_used = row
            .password_last_used
            .and_then(ReportTime::timestamp)
            .or(c.last_used);
    }
    for cert in &row.certs {
        if !cert.exists() {
            continue;
        }
        let id = format!("{}#cert_{}", row.arn, cert.slot);
        let c = identity.credential_mut(&id, CredentialKind::Certificate);
        c.active = cert.active.or(c.active);
        c.last_rotated = cert
            .last_rotated
            .and_then(ReportTime::timestamp)
            .or(c.last_rotated);
        c.created = c.last_rotated;
    }
    if row.is_root && identity.kind_from != Provenance::OwnersFile {
        identity.kind = IdentityKind::Root;
        identity.kind_from = Provenance::Inventory;
        return false;
    }
    if row.looks_human()
        && identity.kind == IdentityKind::ServiceAccount
        && identity.kind_from != Provenance::OwnersFile
    {
        identity.kind = IdentityKind::Human;
        identity.kind_from = Provenance::Inventory;
        return true;
    }
    false
}

#[cfg(test)]
mod tests;
