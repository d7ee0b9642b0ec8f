//! The hash chain: how a record's hash is defined, and the check that walks a chain.
//!
//! ```text
//! hash = hex(sha256(prev_hash "\n" seq "\n" at "\n" kind "\n" subject "\n" canonical_body))
//! ```
//!
//! * `prev_hash`: the previous record's `hash`; 64 `0`s for the first record (seq 1).
//! * `seq`: decimal, no leading zeros, starting at 1 with no gaps.
//! * `at`: `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, always milliseconds, so text order is time order).
//! * `kind`: the snake_case name of the [`Kind`] (`signal`, `decision`, …).
//! * `subject`: UTF-8, as given (usually an identity id).
//! * `canonical_body`: [`canonical_json`](crate::canonical_json) of the body.
//!
//! `hex` is lowercase. The encoding is injective: the first four fields never contain a newline
//! and the canonical body never does either, so the first four and the last newline delimit
//! every field even when a subject contains newlines.

use crate::{Kind, StoreError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use tripline_model::Timestamp;

/// `prev_hash` of the first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of one record, as defined in this module's documentation.
pub fn record_hash(
    prev_hash: &str,
    seq: u64,
    at: &str,
    kind: &str,
    subject: &str,
    canonical_body: &str,
) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(seq.to_string().as_bytes());
    h.update(b"\n");
    h.update(at.as_bytes());
    h.update(b"\n");
    h.update(kind.as_bytes());
    h.update(b"\n");
    h.update(subject.as_bytes());
    h.update(b"\n");
    h.update(canonical_body.as_bytes());
    hex(&h.finalize())
}

/// Lowercase hex SHA-256 of some bytes (policy texts, files).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    fn digit(n: u8) -> char {
        char::from(if n < 10 { b'0' + n } else { b'a' + (n - 10) })
    }
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(digit(b >> 4));
        s.push(digit(b & 0x0f));
    }
    s
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `at` as stored and hashed: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_at(t: Timestamp) -> Result<String, StoreError> {
    let (y, m, d) = t.date_parts();
    if !(0..=9999).contains(&y) {
        return Err(StoreError::TimeOutOfRange(t.millis()));
    }
    let ms = t.millis().rem_euclid(Timestamp::MS_PER_DAY);
    let s = ms / 1000;
    Ok(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        (s / 60) % 60,
        s % 60,
        ms % 1000
    ))
}

/// Parses `at` text, accepting only the exact layout [`format_at`] writes.
pub fn parse_at(s: &str) -> Option<Timestamp> {
    let t = Timestamp::parse(s)?;
    (format_at(t).ok()? == s).then_some(t)
}

/// What is wrong with a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// The stored hash does not match the record's contents: the record was altered (or its
    /// hash was).
    Altered,
    /// `prev_hash` does not match the previous record's hash: records were deleted, reordered
    /// or inserted before this one.
    Unlinked,
    /// No record has this seq (deleted). `next` is the record found in its place, if any;
    /// `None` means the chain ends early (records removed from the end).
    Missing { next: Option<u64> },
    /// The record appears after a later one (bundles only: lines reordered or duplicated).
    OutOfOrder { after: u64 },
    /// The chain is internally consistent here but disagrees with its anchor (the ledger's
    /// head marker, or a bundle's manifest): the chain was rewritten from this record on, or
    /// records were added outside the ledger.
    HeadMismatch,
    /// A field is missing or unreadable.
    Malformed { field: String },
    /// The ledger's head marker is gone (deleted, or never written): the chain's end cannot be
    /// checked.
    HeadMissing,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Altered => f.write_str("its hash does not match its contents (altered)"),
            Self::Unlinked => f.write_str(
                "its prev_hash does not match the previous record (records deleted, reordered or inserted)",
            ),
            Self::Missing { next: Some(n) } => {
                write!(f, "record missing (deleted or moved): record {n} is in its place")
            }
            Self::Missing { next: None } => {
                f.write_str("record missing (deleted from the end of the chain)")
            }
            Self::OutOfOrder { after } => write!(f, "record out of order: it follows record {after}"),
            Self::HeadMismatch => f.write_str(
                "the chain disagrees with its recorded head (rewritten, or appended outside the ledger)",
            ),
            Self::Malformed { field } => write!(f, "field {field} is missing or malformed"),
            Self::HeadMissing => f.write_str(
                "the head marker is missing (deleted): the end of the chain cannot be checked",
            ),
        }
    }
}

/// The outcome of verifying a ledger or a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum VerifyReport {
    /// Every record checks out; `head_hash` is the last record's hash (the genesis hash when
    /// empty). Publishing it elsewhere anchors the ledger against a full rewrite.
    Ok { records: u64, head_hash: String },
    /// The first bad record.
    Broken {
        seq: u64,
        #[serde(flatten)]
        problem: Problem,
    },
    /// Bundles only: the records verify but the manifest does not describe this file.
    BadManifest { reason: String },
    /// The file is not a readable ledger: empty, not SQLite, shorter than its header says
    /// (truncated), damaged, or without the ledger's tables.
    Damaged { reason: String },
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Ok { .. })
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok { records, head_hash } => {
                write!(f, "ok: {records} records, head {head_hash}")
            }
            Self::Broken { seq, problem } => write!(f, "record {seq}: {problem}"),
            Self::BadManifest { reason } => write!(f, "manifest: {reason}"),
            Self::Damaged { reason } => write!(f, "not a readable ledger: {reason}"),
        }
    }
}

/// One record's fields as stored, before any interpretation. `None`: absent or not text.
#[derive(Debug, Default)]
pub(crate) struct RawRecord<'a> {
    pub seq: u64,
    pub at: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub body: Option<&'a str>,
    pub prev_hash: Option<&'a str>,
    pub hash: Option<&'a str>,
}

/// Walks a chain record by record, in the order stored.
#[derive(Debug)]
pub(crate) struct ChainCheck {
    last_seq: u64,
    last_hash: String,
    records: u64,
}

impl ChainCheck {
    pub fn new() -> Self {
        Self {
            last_seq: 0,
            last_hash: GENESIS_HASH.to_owned(),
            records: 0,
        }
    }

    /// A check that starts after record `last_seq`, whose hash is `last_hash`.
    pub fn resume(last_seq: u64, last_hash: &str) -> Self {
        Self {
            last_seq,
            last_hash: last_hash.to_owned(),
            records: 0,
        }
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// The seq the next record must have.
    pub fn expected_seq(&self) -> u64 {
        self.last_seq.saturating_add(1)
    }

    /// Checks the next record. On failure: `(seq, problem)` naming the first bad record.
    pub fn check(&mut self, r: &RawRecord<'_>) -> Result<(), (u64, Problem)> {
        let expected = self.expected_seq();
        if r.seq < expected {
            return Err((
                r.seq,
                Problem::OutOfOrder {
                    after: self.last_seq,
                },
            ));
        }
        if r.seq > expected {
            return Err((expected, Problem::Missing { next: Some(r.seq) }));
        }
        let bad = |field: &str| {
            (
                r.seq,
                Problem::Malformed {
                    field: field.into(),
                },
            )
        };
        let at = r.at.ok_or_else(|| bad("at"))?;
        let kind = r.kind.ok_or_else(|| bad("kind"))?;
        let subject = r.subject.ok_or_else(|| bad("subject"))?;
        let body = r.body.ok_or_else(|| bad("body"))?;
        let prev_hash = r.prev_hash.ok_or_else(|| bad("prev_hash"))?;
        let hash = r.hash.ok_or_else(|| bad("hash"))?;
        if prev_hash != self.last_hash {
            return Err((r.seq, Problem::Unlinked));
        }
        if record_hash(prev_hash, r.seq, at, kind, subject, body) != hash {
            return Err((r.seq, Problem::Altered));
        }
        // Only a forger who recomputed the chain gets here with bad fields; name them anyway.
        if !is_hash(hash) {
            return Err(bad("hash"));
        }
        if Kind::parse(kind).is_none() {
            return Err(bad("kind"));
        }
        if parse_at(at).is_none() {
            return Err(bad("at"));
        }
        self.last_seq = r.seq;
        hash.clone_into(&mut self.last_hash);
        self.records += 1;
        Ok(())
    }

    /// Compares the end of the chain with its anchor: the head (seq, hash) recorded elsewhere.
    pub fn check_head(&self, head_seq: u64, head_hash: &str) -> Result<(), (u64, Problem)> {
        if head_seq > self.last_seq {
            return Err((self.expected_seq(), Problem::Missing { next: None }));
        }
        if head_seq < self.last_seq {
            return Err((head_seq.saturating_add(1), Problem::HeadMismatch));
        }
        if head_hash != self.last_hash {
            return Err((self.last_seq, Problem::HeadMismatch));
        }
        Ok(())
    }

    pub fn report(&self) -> VerifyReport {
        VerifyReport::Ok {
            records: self.records,
            head_hash: self.last_hash.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn at_is_fixed_width_with_milliseconds_and_round_trips() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_722_375_070_250, "2024-07-30T21:31:10.250Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
        ] {
            let t = Timestamp(ms);
            assert_eq!(format_at(t).unwrap(), text);
            assert_eq!(parse_at(text), Some(t));
        }
        assert!(parse_at("2024-07-30T21:31:10Z").is_none());
        assert!(parse_at("2024-07-30T21:31:10.250+00:00").is_none());
        assert!(matches!(
            format_at(Timestamp(i64::MAX / 2)),
            Err(StoreError::TimeOutOfRange(_))
        ));
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0x00, 0xab, 0xff]), "00abff");
        assert!(is_hash(GENESIS_HASH));
    }
}
