//! Signed chain heads: what a hash chain alone cannot show.
//!
//! Anyone who can write the ledger file can drop the triggers and recompute every hash from an
//! edited record on; the chain then verifies. A **signed head** is an Ed25519 signature, made with
//! a private key kept outside the store, over the chain's head at some moment:
//!
//! ```text
//! tripline-evidence-signed-head/v1\n
//! seq <seq>\n
//! hash <hash of record seq, or 64 zeros when seq is 0>\n
//! at <signing time, YYYY-MM-DDTHH:MM:SS.mmmZ>\n
//! ```
//!
//! A rewrite that touches any record at or before a signed head changes that record's hash (every
//! later hash depends on it), so the signed hash no longer matches the chain; a truncation below a
//! signed head leaves the signature pointing past the end of the chain. Forging a new signature
//! needs the private key. What a signature cannot show: records appended after the last signed
//! head (they are reported as unsigned), and signed heads deleted together with the records
//! after the previous one; an exported bundle kept elsewhere, or `require_signed_head`, anchors
//! those. Signatures made with a key the verifier does not hold ("not pinned") only show that the
//! ledger is consistent with itself: someone who rewrote it could have signed it with a key of
//! their own.
//!
//! Key files are text: the private key (the 32-byte seed) as
//! `tripline-ed25519-private <64 hex>`, the public key as `tripline-ed25519-public <64 hex>`;
//! lines starting with `#` are comments.

use crate::chain::{format_at, hex, sha256_hex, GENESIS_HASH};
use crate::{StoreError, VerifyReport};
use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use tripline_model::Timestamp;

/// The first line of every signed statement (domain separation and format version).
pub const SIGNED_HEAD_DOMAIN: &str = "tripline-evidence-signed-head/v1";
const PRIVATE_TAG: &str = "tripline-ed25519-private";
const PUBLIC_TAG: &str = "tripline-ed25519-public";
/// Key files are tiny; anything larger is not one.
const MAX_KEY_FILE_BYTES: u64 = 4096;
/// More signed heads than this in one ledger or bundle are refused (one is written per run).
pub const MAX_SIGNED_HEADS: usize = 1_000_000;

/// The exact bytes a head signature covers.
pub fn statement(seq: u64, hash: &str, at: &str) -> String {
    format!("{SIGNED_HEAD_DOMAIN}\nseq {seq}\nhash {hash}\nat {at}\n")
}

/// One signed head, as stored in the ledger (`evidence_signed_head`) and in a bundle
/// (`signatures.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHead {
    /// The chain's last seq when signed (0: an empty ledger).
    pub seq: u64,
    /// The hash of record `seq` (the genesis hash for 0).
    pub hash: String,
    /// When it was signed, as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    pub at: String,
    /// The signer's public key, lowercase hex (32 bytes).
    pub public_key: String,
    /// The Ed25519 signature of [`statement`], lowercase hex (64 bytes).
    pub signature: String,
}

impl SignedHead {
    /// Short id of the signing key (see [`PublicKey::id`]).
    pub fn key_id(&self) -> String {
        match PublicKey::from_hex(&self.public_key) {
            Some(k) => k.id(),
            None => "(malformed key)".into(),
        }
    }

    /// Whether the signature is valid for the key the head names.
    fn check(&self) -> Result<PublicKey, SignatureProblem> {
        let bad = |field: &str| SignatureProblem::Malformed {
            field: field.into(),
        };
        let key = PublicKey::from_hex(&self.public_key).ok_or_else(|| bad("public_key"))?;
        let sig: [u8; 64] = unhex(&self.signature).ok_or_else(|| bad("signature"))?;
        if !is_hash(&self.hash) {
            return Err(bad("hash"));
        }
        let msg = statement(self.seq, &self.hash, &self.at);
        key.inner
            .verify_strict(msg.as_bytes(), &Signature::from_bytes(&sig))
            .map_err(|_| SignatureProblem::BadSignature)?;
        Ok(key)
    }
}

/// An Ed25519 private key that signs chain heads. Wiped from memory when dropped; its `Debug`
/// shows only the key id.
pub struct SigningKey {
    inner: ed25519_dalek::SigningKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.public_key().id())
    }
}

/// The files [`SigningKey::write_new`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFiles {
    pub private: PathBuf,
    pub public: PathBuf,
    pub key_id: String,
}

impl SigningKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, StoreError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| StoreError::Randomness(e.to_string()))?;
        let key = Self {
            inner: ed25519_dalek::SigningKey::from_bytes(&seed),
        };
        seed.fill(0);
        Ok(key)
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            inner: self.inner.verifying_key(),
        }
    }

    /// Signs the head `(seq, hash)` at time `at`.
    pub fn sign_head(&self, seq: u64, hash: &str, at: Timestamp) -> Result<SignedHead, StoreError> {
        let at = format_at(at)?;
        let sig = self.inner.sign(statement(seq, hash, &at).as_bytes());
        Ok(SignedHead {
            seq,
            hash: hash.to_owned(),
            at,
            public_key: self.public_key().to_hex(),
            signature: hex(&sig.to_bytes()),
        })
    }

    /// Writes the private key to `path` (created, never overwritten, mode 0600 on Unix) and the
    /// public key to `path` + `.pub`.
    pub fn write_new(&self, path: &Path) -> Result<KeyFiles, StoreError> {
        let public = public_path(path);
        if public.exists() {
            return Err(StoreError::key(&public, "already exists; not overwritten"));
        }
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(path).map_err(|e| StoreError::io(path, e))?;
        let text = format!(
            "# Tripline evidence signing key (Ed25519), key id {}.\n\
             # Keep it outside the evidence store and away from those who can write the store:\n\
             # whoever holds it can sign a rewritten chain.\n\
             {PRIVATE_TAG} {}\n",
            self.public_key().id(),
            hex(self.inner.as_bytes())
        );
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| StoreError::io(path, e))?;
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&public)
            .map_err(|e| StoreError::io(&public, e))?;
        f.write_all(self.public_key().file_text().as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(|e| StoreError::io(&public, e))?;
        Ok(KeyFiles {
            private: path.to_path_buf(),
            public,
            key_id: self.public_key().id(),
        })
    }

    /// Reads a private key file written by [`write_new`](Self::write_new). On Unix, a file that
    /// its group or others may read is refused (as ssh refuses such keys).
    pub fn from_file(path: &Path) -> Result<Self, StoreError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(path).map_err(|e| StoreError::io(path, e))?;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(StoreError::key(
                    path,
                    format!(
                        "is readable by others (mode {:o}); `chmod 600` it",
                        mode & 0o777
                    ),
                ));
            }
        }
        let text = read_key_file(path)?;
        let seed: [u8; 32] = key_line(&text, PRIVATE_TAG)
            .and_then(unhex)
            .ok_or_else(|| {
                StoreError::key(
                    path,
                    format!("is not a Tripline private key (`{PRIVATE_TAG} <64 hex>`)"),
                )
            })?;
        Ok(Self {
            inner: ed25519_dalek::SigningKey::from_bytes(&seed),
        })
    }
}

/// An Ed25519 public key that verifies signed heads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicKey {
    inner: VerifyingKey,
}

impl PublicKey {
    /// Lowercase hex of the 32 key bytes.
    pub fn to_hex(&self) -> String {
        hex(self.inner.as_bytes())
    }

    /// The first 16 hex digits of the SHA-256 of the key bytes: a short name for messages.
    pub fn id(&self) -> String {
        sha256_hex(self.inner.as_bytes())
            .get(..16)
            .unwrap_or_default()
            .to_owned()
    }

    pub fn from_hex(s: &str) -> Option<Self> {
        let bytes: [u8; 32] = unhex(s)?;
        let inner = VerifyingKey::from_bytes(&bytes).ok()?;
        // A weak (small-order) key would accept forged signatures.
        (!inner.is_weak()).then_some(Self { inner })
    }

    /// The public key file's text.
    pub fn file_text(&self) -> String {
        format!(
            "# Tripline evidence public key (Ed25519), key id {}: verifies signed chain heads.\n\
             {PUBLIC_TAG} {}\n",
            self.id(),
            self.to_hex()
        )
    }

    /// Parses a public key file's text (see [`file_text`](Self::file_text)).
    pub fn parse(text: &str) -> Option<Self> {
        key_line(text, PUBLIC_TAG).and_then(Self::from_hex)
    }

    pub fn from_file(path: &Path) -> Result<Self, StoreError> {
        let text = read_key_file(path)?;
        Self::parse(&text).ok_or_else(|| {
            let hint = if key_line(&text, PRIVATE_TAG).is_some() {
                "is a private key: give the public key (.pub)".to_string()
            } else {
                format!("is not a Tripline public key (`{PUBLIC_TAG} <64 hex>`)")
            };
            StoreError::key(path, hint)
        })
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// `KEY` → `KEY.pub`.
pub fn public_path(private: &Path) -> PathBuf {
    let mut s = private.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

fn read_key_file(path: &Path) -> Result<String, StoreError> {
    let mut text = String::new();
    File::open(path)
        .and_then(|f| f.take(MAX_KEY_FILE_BYTES).read_to_string(&mut text))
        .map_err(|e| StoreError::io(path, e))?;
    Ok(text)
}

/// The value of the one `TAG value` line; `None` if absent, repeated or followed by junk.
fn key_line<'t>(text: &'t str, tag: &str) -> Option<&'t str> {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    let (t, value) = line.split_once(' ')?;
    (t == tag).then_some(value.trim())
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if bytes.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *o = (nibble(*hi)? << 4) | nibble(*lo)?;
    }
    Some(out)
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What the verifier requires of the signatures.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// Keys whose signatures count. Empty: signatures are checked against the keys they name
    /// (not pinned); not empty: every signed head must be signed by one of them, and at least
    /// one head must be signed.
    pub trusted: &'a [PublicKey],
    /// Fail when records follow the last signed head (or no head is signed).
    pub require_signed_head: bool,
}

/// What is wrong with a signed head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum SignatureProblem {
    /// The signature does not verify for the key it names: forged or altered.
    BadSignature,
    /// Signed by a key the verifier was not told to trust.
    UntrustedKey { key_id: String },
    /// The signed record is no longer in the chain, which ends at `chain_end`: truncated.
    Truncated { chain_end: u64 },
    /// The chain holds another hash at the signed seq: rewritten at or before that record.
    Rewritten { found: String },
    /// Signed heads go backwards (this one names an earlier seq than the one before it).
    OutOfOrder { after_seq: u64 },
    /// A field is missing or malformed.
    Malformed { field: String },
    /// A key to trust was given (or a signed head required) but no head is signed.
    NotSigned,
    /// A signed head was required, and records follow the last one.
    UnsignedTail { records: u64 },
}

impl fmt::Display for SignatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadSignature => f.write_str("the signature is not valid (forged or altered)"),
            Self::UntrustedKey { key_id } => {
                write!(f, "signed by key {key_id}, which is not a trusted key")
            }
            Self::Truncated { chain_end } => write!(
                f,
                "the signed record is gone: the chain ends at record {chain_end} (truncated)"
            ),
            Self::Rewritten { found } => write!(
                f,
                "the chain now holds hash {found} there: rewritten at or before this record"
            ),
            Self::OutOfOrder { after_seq } => write!(
                f,
                "signed heads out of order: it follows a signed head at record {after_seq}"
            ),
            Self::Malformed { field } => write!(f, "field {field} is missing or malformed"),
            Self::NotSigned => f.write_str(
                "no head is signed, but a signed one is required (key given or --require-signed-head)",
            ),
            Self::UnsignedTail { records } => write!(
                f,
                "{records} records follow the last signed head, and a signed head is required"
            ),
        }
    }
}

/// The outcome of checking the signed heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureReport {
    /// No head is signed (and none was required): the chain alone cannot show a full rewrite.
    Unsigned,
    /// Every signed head is valid and still in the chain.
    Signed {
        signed_heads: u64,
        /// The last signed head.
        last_seq: u64,
        last_at: String,
        /// Ids of the keys that signed, in first-use order.
        key_ids: Vec<String>,
        /// Records after the last signed head (appended since, unsigned).
        unsigned_after: u64,
        /// Whether the keys were given by the verifier (pinned) or only read from the ledger.
        pinned: bool,
    },
    /// The first bad signed head (`index` counts from 1, in stored order).
    Invalid {
        index: u64,
        seq: u64,
        #[serde(flatten)]
        problem: SignatureProblem,
    },
}

impl SignatureReport {
    pub fn is_ok(&self) -> bool {
        !matches!(self, Self::Invalid { .. })
    }
}

impl fmt::Display for SignatureReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsigned => f.write_str(
                "UNSIGNED: no head is signed, so a full rewrite of the chain would not show \
                 (sign with a key: `tripline evidence keygen`, then `--signing-key`)",
            ),
            Self::Signed {
                signed_heads,
                last_seq,
                last_at,
                key_ids,
                unsigned_after,
                pinned,
            } => {
                let (heads, keys) = (
                    if *signed_heads == 1 { "head" } else { "heads" },
                    if key_ids.len() == 1 { "key" } else { "keys" },
                );
                write!(
                    f,
                    "signed: {signed_heads} signed {heads}, the last at record {last_seq} \
                     ({last_at}), {keys} {}",
                    key_ids.join(", ")
                )?;
                if !pinned {
                    f.write_str(
                        " (not pinned: checked against the key stored with the signatures; \
                         give --public-key to check it is yours)",
                    )?;
                }
                if *unsigned_after > 0 {
                    write!(f, "; {unsigned_after} records after it are not signed yet")?;
                }
                Ok(())
            }
            Self::Invalid {
                index,
                seq,
                problem,
            } => write!(f, "signed head {index} (record {seq}): {problem}"),
        }
    }
}

/// The outcome of verifying a ledger or bundle: its chain, then (when the chain is whole) its
/// signed heads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub chain: VerifyReport,
    /// `None` when the chain itself failed (signatures were not checked).
    pub signatures: Option<SignatureReport>,
}

impl Verification {
    pub fn is_ok(&self) -> bool {
        self.chain.is_ok() && self.signatures.as_ref().is_some_and(SignatureReport::is_ok)
    }

    /// The chain's failure, signatures unchecked.
    pub fn chain_failed(chain: VerifyReport) -> Self {
        Self {
            chain,
            signatures: None,
        }
    }
}

/// Checks signed heads against a chain walked record by record.
#[derive(Debug)]
pub(crate) struct SignatureCheck<'o> {
    heads: Vec<SignedHead>,
    opts: VerifyOptions<'o>,
    /// Next head (by index) whose seq the walk has not reached.
    next: usize,
    /// The first problem found, by head index.
    problem: Option<(usize, SignatureProblem)>,
    key_ids: Vec<String>,
}

impl<'o> SignatureCheck<'o> {
    /// Checks each head's signature, key and order now; the chain is compared as it is walked.
    pub fn new(heads: Vec<SignedHead>, opts: VerifyOptions<'o>) -> Self {
        let mut check = Self {
            heads,
            opts,
            next: 0,
            problem: None,
            key_ids: Vec::new(),
        };
        let mut last_seq = 0;
        for (i, h) in check.heads.iter().enumerate() {
            let found = match h.check() {
                Err(p) => Some(p),
                Ok(key) if !opts.trusted.is_empty() && !opts.trusted.contains(&key) => {
                    Some(SignatureProblem::UntrustedKey { key_id: key.id() })
                }
                Ok(key) => {
                    let id = key.id();
                    if !check.key_ids.contains(&id) {
                        check.key_ids.push(id);
                    }
                    (h.seq < last_seq).then_some(SignatureProblem::OutOfOrder {
                        after_seq: last_seq,
                    })
                }
            };
            if let Some(p) = found {
                check.problem = Some((i, p));
                break;
            }
            last_seq = h.seq;
        }
        check.see(0, GENESIS_HASH);
        check
    }

    /// The problem found so far (signatures, keys, order; the chain once walked).
    pub fn first_problem(&self) -> Option<&SignatureProblem> {
        self.problem.as_ref().map(|(_, p)| p)
    }

    fn flag(&mut self, i: usize, p: SignatureProblem) {
        if self.problem.as_ref().is_none_or(|(j, _)| i < *j) {
            self.problem = Some((i, p));
        }
    }

    /// The chain has `hash` at `seq` (called in seq order, for every good record).
    pub fn see(&mut self, seq: u64, hash: &str) {
        while let Some(h) = self.heads.get(self.next) {
            if h.seq > seq {
                break;
            }
            if h.seq == seq && h.hash != hash {
                let found = hash.to_owned();
                self.flag(self.next, SignatureProblem::Rewritten { found });
            }
            self.next += 1;
        }
    }

    /// The chain ended at `chain_end` (its last good record).
    pub fn finish(mut self, chain_end: u64) -> SignatureReport {
        // Every head the walk did not reach names a seq past the chain's end.
        if self.next < self.heads.len() {
            self.flag(self.next, SignatureProblem::Truncated { chain_end });
        }
        let last = self.heads.last().map(|h| (h.seq, h.at.clone()));
        let required = !self.opts.trusted.is_empty() || self.opts.require_signed_head;
        if self.problem.is_none() {
            match last {
                None if required => {
                    return SignatureReport::Invalid {
                        index: 0,
                        seq: chain_end,
                        problem: SignatureProblem::NotSigned,
                    }
                }
                Some((seq, _)) if self.opts.require_signed_head && seq < chain_end => {
                    let i = self.heads.len().saturating_sub(1);
                    let records = chain_end - seq;
                    self.flag(i, SignatureProblem::UnsignedTail { records });
                }
                _ => {}
            }
        }
        if let Some((i, problem)) = self.problem {
            return SignatureReport::Invalid {
                index: i as u64 + 1,
                seq: self.heads.get(i).map_or(0, |h| h.seq),
                problem,
            };
        }
        match last {
            None => SignatureReport::Unsigned,
            Some((last_seq, last_at)) => SignatureReport::Signed {
                signed_heads: self.heads.len() as u64,
                last_seq,
                last_at,
                key_ids: self.key_ids,
                unsigned_after: chain_end.saturating_sub(last_seq),
                pinned: !self.opts.trusted.is_empty(),
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_head_verifies_and_any_change_breaks_it() {
        let key = SigningKey::generate().unwrap();
        let h = key
            .sign_head(7, &"ab".repeat(32), Timestamp(1_722_375_070_250))
            .unwrap();
        assert_eq!(h.at, "2024-07-30T21:31:10.250Z");
        assert!(h.check().is_ok());
        for changed in [
            SignedHead {
                seq: 8,
                ..h.clone()
            },
            SignedHead {
                hash: "cd".repeat(32),
                ..h.clone()
            },
            SignedHead {
                at: "2024-07-30T21:31:10.251Z".into(),
                ..h.clone()
            },
            SignedHead {
                public_key: SigningKey::generate().unwrap().public_key().to_hex(),
                ..h.clone()
            },
        ] {
            assert_eq!(changed.check(), Err(SignatureProblem::BadSignature));
        }
    }

    #[test]
    fn key_text_round_trips_and_rejects_junk() {
        let key = SigningKey::generate().unwrap();
        let pk = key.public_key();
        assert_eq!(PublicKey::parse(&pk.file_text()), Some(pk));
        assert_eq!(PublicKey::from_hex(&pk.to_hex()), Some(pk));
        for junk in [
            "",
            "tripline-ed25519-public",
            "tripline-ed25519-public zz",
            &format!("{} {}", PRIVATE_TAG, pk.to_hex()),
            &format!("{}\n{}", pk.file_text(), pk.file_text()),
            &pk.file_text().to_uppercase(),
        ] {
            assert_eq!(PublicKey::parse(junk), None, "{junk:?}");
        }
        // The identity point is a weak key: refused.
        let mut weak = String::from("01");
        weak.push_str(&"00".repeat(31));
        assert_eq!(PublicKey::from_hex(&weak), None);
    }
}
