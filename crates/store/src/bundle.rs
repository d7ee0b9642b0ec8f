//! Export bundles: the ledger as a directory that can be verified anywhere without SQLite.
//!
//! ```text
//! <dir>/evidence.jsonl   one record per line, in seq order:
//!                        {"seq":1,"at":"…","kind":"…","subject":"…","body":{…},"prev_hash":"…","hash":"…"}
//!                        `body` is the canonical JSON exactly as hashed.
//! <dir>/signatures.jsonl every signed head up to the bundle's head, in order (see `sign`):
//!                        {"seq":…,"hash":"…","at":"…","public_key":"…","signature":"…"}
//! <dir>/public-key.pub   the public key that signed the export's head (when it was signed)
//! <dir>/manifest.json    format, count, first/last seq, head hash, sha256 of evidence.jsonl,
//!                        number and sha256 of the signed heads, the signing public key
//! ```
//!
//! Format version 2 added the signatures; version-1 bundles still verify (as unsigned). The
//! manifest itself is not signed: the signed heads are, and they pin the chain's records.

use crate::canonical::write_str;
use crate::chain::{hex, ChainCheck, RawRecord, GENESIS_HASH};
use crate::sign::{PublicKey, SignatureCheck, SignatureProblem, SignatureReport, SignedHead};
use crate::sign::{VerifyOptions, MAX_SIGNED_HEADS};
use crate::{StoreError, Verification, VerifyReport};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub const EVIDENCE_FILE: &str = "evidence.jsonl";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const SIGNATURES_FILE: &str = "signatures.jsonl";
pub const PUBLIC_KEY_FILE: &str = "public-key.pub";
pub const FORMAT: &str = "tripline-evidence";
/// The version written. Version 1 (no signatures) is still read.
pub const FORMAT_VERSION: u32 = 2;
/// A signed head's line is a few hundred bytes; longer ones are refused.
const MAX_SIGNATURE_LINE_BYTES: u64 = 4096;
/// Lines longer than this are refused by [`verify_bundle`] (bounded input).
pub const MAX_LINE_BYTES: u64 = 16 << 20;
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
const HASH_DEFINITION: &str = "sha256(prev_hash \\n seq \\n at \\n kind \\n subject \\n body), \
                               lowercase hex; prev_hash of seq 1 is 64 zeros";

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub records: u64,
    pub first_seq: Option<u64>,
    pub last_seq: Option<u64>,
    /// Hash of the last record (the genesis hash when empty).
    pub head_hash: String,
    /// Lowercase hex SHA-256 of the bytes of `evidence.jsonl`.
    pub evidence_sha256: String,
    /// The hash definition, for whoever reads the bundle without this code.
    pub hash: String,
    /// Version 2: the number of signed heads in `signatures.jsonl`.
    #[serde(default)]
    pub signed_heads: u64,
    /// Version 2: lowercase hex SHA-256 of the bytes of `signatures.jsonl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signatures_sha256: Option<String>,
    /// Version 2: the public key (hex) that signed the export's head, when it was signed; also
    /// in `public-key.pub`. Informative only: a verifier trusts the key it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSummary {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or_default());
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn line_of(r: &RawRecord<'_>, out: &mut String) {
    out.clear();
    out.push_str("{\"seq\":");
    out.push_str(&r.seq.to_string());
    for (name, value, raw) in [
        ("at", r.at, false),
        ("kind", r.kind, false),
        ("subject", r.subject, false),
        ("body", r.body, true),
        ("prev_hash", r.prev_hash, false),
        ("hash", r.hash, false),
    ] {
        out.push_str(",\"");
        out.push_str(name);
        out.push_str("\":");
        let value = value.unwrap_or_default();
        if raw {
            out.push_str(value);
        } else {
            write_str(value, out);
        }
    }
    out.push_str("}\n");
}

type Visit<'v> = &'v mut dyn FnMut(&RawRecord<'_>) -> Result<(), StoreError>;

/// Writes `text` to `dir/name` through a `.partial` file, synced, then renamed.
fn write_file(dir: &Path, name: &str, text: &[u8]) -> Result<(), StoreError> {
    let path = dir.join(name);
    let partial = dir.join(format!("{name}.partial"));
    let mut file = File::create(&partial).map_err(|e| StoreError::io(&partial, e))?;
    file.write_all(text)
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(&partial, e))?;
    drop(file);
    fs::rename(&partial, &path).map_err(|e| StoreError::io(&path, e))
}

/// Writes a bundle; `walk` runs the chain and signature check over the ledger, calling the
/// visitor on each good record in order. `heads` are the ledger's signed heads, `key` the key
/// that signed the export's head (if it was).
pub(crate) fn export(
    dir: &Path,
    heads: Vec<SignedHead>,
    key: Option<PublicKey>,
    walk: impl FnOnce(Visit<'_>) -> Result<Verification, StoreError>,
) -> Result<ExportSummary, StoreError> {
    fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let final_path = dir.join(EVIDENCE_FILE);
    let partial = dir.join(format!("{EVIDENCE_FILE}.partial"));
    let file = File::create(&partial).map_err(|e| StoreError::io(&partial, e))?;
    let mut w = HashingWriter {
        inner: BufWriter::with_capacity(1 << 16, file),
        hasher: Sha256::new(),
    };
    let mut first_seq = None;
    let mut line = String::with_capacity(1024);
    let report = walk(&mut |r: &RawRecord<'_>| {
        first_seq.get_or_insert(r.seq);
        line_of(r, &mut line);
        w.write_all(line.as_bytes())
            .map_err(|e| StoreError::io(&partial, e))
    });
    let failed = |e: StoreError| {
        let _ = fs::remove_file(&partial);
        Err(e)
    };
    let (records, head_hash) = match report {
        Ok(Verification {
            chain: VerifyReport::Ok { records, head_hash },
            signatures: Some(sigs),
        }) => match sigs {
            SignatureReport::Invalid { seq, problem, .. } => {
                return failed(StoreError::SignatureFailed { seq, problem })
            }
            _ => (records, head_hash),
        },
        Ok(Verification {
            chain: VerifyReport::Broken { seq, problem },
            ..
        }) => return failed(StoreError::Tampered { seq, problem }),
        Ok(_) => {
            return failed(StoreError::Tampered {
                seq: 0,
                problem: crate::Problem::HeadMismatch,
            })
        }
        Err(e) => return failed(e),
    };
    if let Err(e) = w.flush() {
        return failed(StoreError::io(&partial, e));
    }
    let evidence_sha256 = hex(&w.hasher.finalize());
    let file = w
        .inner
        .into_inner()
        .map_err(|e| StoreError::io(&partial, e.into_error()))?;
    file.sync_all().map_err(|e| StoreError::io(&partial, e))?;
    drop(file);
    fs::rename(&partial, &final_path).map_err(|e| StoreError::io(&final_path, e))?;

    let last_seq = first_seq.map(|f| f + records.saturating_sub(1));
    let mut sig_text = String::new();
    let mut signed_heads = 0;
    for h in heads.iter().filter(|h| h.seq <= last_seq.unwrap_or(0)) {
        sig_text.push_str(&serde_json::to_string(h)?);
        sig_text.push('\n');
        signed_heads += 1;
    }
    write_file(dir, SIGNATURES_FILE, sig_text.as_bytes())?;
    let key_path = dir.join(PUBLIC_KEY_FILE);
    match key {
        Some(k) => write_file(dir, PUBLIC_KEY_FILE, k.file_text().as_bytes())?,
        // A key file left by an earlier export into this directory would name the wrong key.
        None if key_path.exists() => {
            fs::remove_file(&key_path).map_err(|e| StoreError::io(&key_path, e))?;
        }
        None => {}
    }

    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        records,
        first_seq,
        last_seq,
        head_hash,
        evidence_sha256,
        hash: HASH_DEFINITION.into(),
        signed_heads,
        signatures_sha256: Some(crate::sha256_hex(sig_text.as_bytes())),
        public_key: key.map(|k| k.to_hex()),
    };
    let mut text = serde_json::to_string_pretty(&manifest)?;
    text.push('\n');
    write_file(dir, MANIFEST_FILE, text.as_bytes())?;
    // Make the renames durable where directories can be synced (not on every platform).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(ExportSummary {
        dir: dir.to_path_buf(),
        manifest,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    seq: u64,
    at: String,
    kind: String,
    subject: String,
    #[serde(borrow)]
    body: &'a RawValue,
    prev_hash: String,
    hash: String,
}

/// Verifies a bundle's chain (see [`verify_bundle_with`]; signatures are not required here).
pub fn verify_bundle(path: impl AsRef<Path>) -> Result<VerifyReport, StoreError> {
    Ok(verify_bundle_with(path, VerifyOptions::default())?.chain)
}

/// Verifies a bundle written by [`Evidence::export`](crate::Evidence::export), with no SQLite:
/// recomputes the chain from `evidence.jsonl`, checks the manifest (count, first and last seq,
/// head hash, file SHA-256s), then the signed heads in `signatures.jsonl` against the chain and
/// `opts`. `path` is the bundle directory or any file in it. Reports the first problem; `Err`
/// only when the files cannot be read.
pub fn verify_bundle_with(
    path: impl AsRef<Path>,
    opts: VerifyOptions<'_>,
) -> Result<Verification, StoreError> {
    let path = path.as_ref();
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    let mut manifest = Vec::new();
    File::open(&manifest_path)
        .and_then(|f| f.take(MAX_MANIFEST_BYTES).read_to_end(&mut manifest))
        .map_err(|e| StoreError::io(&manifest_path, e))?;
    let evidence_path = dir.join(EVIDENCE_FILE);
    let file = File::open(&evidence_path).map_err(|e| StoreError::io(&evidence_path, e))?;
    let mut evidence = BufReader::with_capacity(1 << 16, file);
    let sig_path = dir.join(SIGNATURES_FILE);
    let mut signatures = match File::open(&sig_path) {
        Ok(f) => Some(BufReader::new(f)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(StoreError::io(&sig_path, e)),
    };
    verify_parts(
        &manifest,
        &mut evidence,
        signatures.as_mut().map(|r| r as &mut dyn BufRead),
        opts,
        (&evidence_path, &sig_path),
    )
}

/// [`verify_bundle_with`] on a bundle's files already in memory (`signatures`: `None` when the
/// bundle has no `signatures.jsonl`). Never fails: reading from memory cannot.
pub fn verify_bundle_bytes(
    manifest: &[u8],
    evidence: &[u8],
    signatures: Option<&[u8]>,
    opts: VerifyOptions<'_>,
) -> Verification {
    let mut evidence = evidence;
    let mut sigs = signatures;
    let paths = (Path::new(EVIDENCE_FILE), Path::new(SIGNATURES_FILE));
    match verify_parts(
        manifest,
        &mut evidence,
        sigs.as_mut().map(|r| r as &mut dyn BufRead),
        opts,
        paths,
    ) {
        Ok(v) => v,
        Err(e) => Verification::chain_failed(VerifyReport::BadManifest {
            reason: e.to_string(),
        }),
    }
}

/// Reads one line of at most `cap` bytes into `buf`; `Ok(false)` at the end of input.
fn next_line(
    r: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    cap: u64,
    path: &Path,
) -> Result<bool, StoreError> {
    buf.clear();
    let n = r
        .take(cap + 1)
        .read_until(b'\n', buf)
        .map_err(|e| StoreError::io(path, e))?;
    Ok(n > 0)
}

/// The signed heads of `signatures.jsonl`, its SHA-256, or the first bad line.
type ReadHeads = (Result<Vec<SignedHead>, (u64, SignatureProblem)>, String);

fn read_heads(r: &mut dyn BufRead, path: &Path) -> Result<ReadHeads, StoreError> {
    let mut hasher = Sha256::new();
    let mut heads = Vec::new();
    let mut buf = Vec::with_capacity(512);
    let mut bad = None;
    let mut line_no = 0u64;
    while next_line(r, &mut buf, MAX_SIGNATURE_LINE_BYTES, path)? {
        line_no += 1;
        hasher.update(&buf);
        if bad.is_some() {
            continue;
        }
        let malformed = |why: String| {
            Some((
                line_no,
                SignatureProblem::Malformed {
                    field: format!("{SIGNATURES_FILE} line {line_no} ({why})"),
                },
            ))
        };
        if heads.len() >= MAX_SIGNED_HEADS {
            bad = malformed(format!("more than {MAX_SIGNED_HEADS} signed heads"));
            continue;
        }
        let Some(content) = buf.strip_suffix(b"\n") else {
            bad = malformed("not newline-terminated: truncated or over the line cap".into());
            continue;
        };
        match serde_json::from_slice::<SignedHead>(content) {
            Ok(h) => heads.push(h),
            Err(e) => bad = malformed(e.to_string()),
        }
    }
    let sha = hex(&hasher.finalize());
    Ok((bad.map_or(Ok(heads), Err), sha))
}

fn verify_parts(
    manifest: &[u8],
    evidence: &mut dyn BufRead,
    signatures: Option<&mut dyn BufRead>,
    opts: VerifyOptions<'_>,
    (evidence_path, sig_path): (&Path, &Path),
) -> Result<Verification, StoreError> {
    let bad = |reason: String| {
        Ok(Verification::chain_failed(VerifyReport::BadManifest {
            reason,
        }))
    };
    let manifest: Manifest = match serde_json::from_slice(manifest) {
        Ok(m) => m,
        Err(e) => return bad(format!("unreadable: {e}")),
    };
    if manifest.format != FORMAT || !(1..=FORMAT_VERSION).contains(&manifest.format_version) {
        return bad(format!(
            "format {} version {} is not {FORMAT} version 1 to {FORMAT_VERSION}",
            manifest.format, manifest.format_version
        ));
    }
    if manifest.format_version < 2
        && (manifest.signed_heads > 0
            || manifest.signatures_sha256.is_some()
            || manifest.public_key.is_some())
    {
        return bad("a version-1 manifest has no signatures".into());
    }
    // Signed heads first (the check compares them as the chain is walked).
    let (heads, sig_sha) = match (signatures, manifest.format_version) {
        (Some(r), v) if v >= 2 => {
            let (heads, sha) = read_heads(r, sig_path)?;
            (heads, Some(sha))
        }
        (None, v) if v >= 2 => {
            return bad(format!("{SIGNATURES_FILE} is missing"));
        }
        _ => (Ok(Vec::new()), None),
    };
    let (mut check, head_problem) = match heads {
        Ok(h) => (SignatureCheck::new(h, opts), None),
        Err(p) => (SignatureCheck::new(Vec::new(), opts), Some(p)),
    };

    let mut hasher = Sha256::new();
    let mut chain = ChainCheck::new();
    let mut first_seq = None;
    let mut buf = Vec::with_capacity(1024);
    let mut line_no = 0u64;
    while next_line(evidence, &mut buf, MAX_LINE_BYTES, evidence_path)? {
        line_no += 1;
        hasher.update(&buf);
        let malformed = |why: String| {
            Ok(Verification::chain_failed(VerifyReport::Broken {
                seq: chain.expected_seq(),
                problem: crate::Problem::Malformed {
                    field: format!("line {line_no} ({why})"),
                },
            }))
        };
        let Some(content) = buf.strip_suffix(b"\n") else {
            return malformed("not newline-terminated: truncated or over the line cap".into());
        };
        let line: Line<'_> = match serde_json::from_slice(content) {
            Ok(l) => l,
            Err(e) => return malformed(e.to_string()),
        };
        let raw = RawRecord {
            seq: line.seq,
            at: Some(&line.at),
            kind: Some(&line.kind),
            subject: Some(&line.subject),
            body: Some(line.body.get()),
            prev_hash: Some(&line.prev_hash),
            hash: Some(&line.hash),
        };
        if let Err((seq, problem)) = chain.check(&raw) {
            return Ok(Verification::chain_failed(VerifyReport::Broken {
                seq,
                problem,
            }));
        }
        check.see(line.seq, &line.hash);
        first_seq.get_or_insert(line.seq);
    }
    // The manifest anchors the chain's end, as the head marker does in SQLite.
    let head_seq = manifest.last_seq.unwrap_or(0);
    let head_hash = if manifest.last_seq.is_some() {
        manifest.head_hash.as_str()
    } else {
        GENESIS_HASH
    };
    if let Err((seq, problem)) = chain.check_head(head_seq, head_hash) {
        return Ok(Verification::chain_failed(VerifyReport::Broken {
            seq,
            problem,
        }));
    }
    if manifest.head_hash != chain.last_hash() {
        return bad("head_hash does not match the records".into());
    }
    if manifest.records != chain.records() || manifest.first_seq != first_seq {
        return bad(format!(
            "says {} records from seq {:?}; the file has {} from seq {:?}",
            manifest.records,
            manifest.first_seq,
            chain.records(),
            first_seq
        ));
    }
    let sha = hex(&hasher.finalize());
    if sha != manifest.evidence_sha256 {
        return bad(format!(
            "{EVIDENCE_FILE} has sha256 {sha}, the manifest says {}",
            manifest.evidence_sha256
        ));
    }
    let report = chain.report();
    let signatures = match head_problem {
        Some((line, problem)) => SignatureReport::Invalid {
            index: line,
            seq: 0,
            problem,
        },
        None => check.finish(chain.last_seq()),
    };
    // The signed heads' count and bytes, once they are known to be good.
    if signatures.is_ok() {
        if let Some(sha) = sig_sha {
            if manifest.signatures_sha256.as_deref() != Some(sha.as_str()) {
                return bad(format!(
                    "{SIGNATURES_FILE} has sha256 {sha}, the manifest says {:?}",
                    manifest.signatures_sha256
                ));
            }
        }
        let n = match &signatures {
            SignatureReport::Signed { signed_heads, .. } => *signed_heads,
            _ => 0,
        };
        if n != manifest.signed_heads {
            return bad(format!(
                "says {} signed heads; {SIGNATURES_FILE} has {n}",
                manifest.signed_heads
            ));
        }
    }
    Ok(Verification {
        chain: report,
        signatures: Some(signatures),
    })
}
