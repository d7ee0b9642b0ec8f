//! Export bundles: the ledger as a directory that can be verified anywhere without SQLite.
//!
//! ```text
//! <dir>/evidence.jsonl   one record per line, in seq order:
//!                        {"seq":1,"at":"…","kind":"…","subject":"…","body":{…},"prev_hash":"…","hash":"…"}
//!                        `body` is the canonical JSON exactly as hashed.
//! <dir>/manifest.json    format, count, first/last seq, head hash, sha256 of evidence.jsonl
//! ```

use crate::canonical::write_str;
use crate::chain::{hex, ChainCheck, RawRecord, GENESIS_HASH};
use crate::{StoreError, VerifyReport};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

pub const EVIDENCE_FILE: &str = "evidence.jsonl";
pub const MANIFEST_FILE: &str = "manifest.json";
pub const FORMAT: &str = "tripline-evidence";
pub const FORMAT_VERSION: u32 = 1;
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

/// Writes a bundle; `walk` runs the chain check over the ledger, calling the visitor on each
/// good record in order.
pub(crate) fn export(
    dir: &Path,
    walk: impl FnOnce(Visit<'_>) -> Result<VerifyReport, StoreError>,
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
    let (records, head_hash) = match report {
        Ok(VerifyReport::Ok { records, head_hash }) => (records, head_hash),
        other => {
            let _ = fs::remove_file(&partial);
            return match other {
                Ok(VerifyReport::Broken { seq, problem }) => {
                    Err(StoreError::Tampered { seq, problem })
                }
                Ok(_) => Err(StoreError::Tampered {
                    seq: 0,
                    problem: crate::Problem::HeadMismatch,
                }),
                Err(e) => Err(e),
            };
        }
    };
    w.flush().map_err(|e| StoreError::io(&partial, e))?;
    let evidence_sha256 = hex(&w.hasher.finalize());
    let file = w
        .inner
        .into_inner()
        .map_err(|e| StoreError::io(&partial, e.into_error()))?;
    file.sync_all().map_err(|e| StoreError::io(&partial, e))?;
    drop(file);
    fs::rename(&partial, &final_path).map_err(|e| StoreError::io(&final_path, e))?;

    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        records,
        first_seq,
        last_seq: first_seq.map(|f| f + records.saturating_sub(1)),
        head_hash,
        evidence_sha256,
        hash: HASH_DEFINITION.into(),
    };
    let mut text = serde_json::to_string_pretty(&manifest)?;
    text.push('\n');
    let manifest_path = dir.join(MANIFEST_FILE);
    let partial = dir.join(format!("{MANIFEST_FILE}.partial"));
    let mut file = File::create(&partial).map_err(|e| StoreError::io(&partial, e))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(&partial, e))?;
    drop(file);
    fs::rename(&partial, &manifest_path).map_err(|e| StoreError::io(&manifest_path, e))?;
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

/// Verifies a bundle written by [`Evidence::export`](crate::Evidence::export), with no SQLite:
/// recomputes the chain from `evidence.jsonl`, then checks the manifest (count, first and last
/// seq, head hash, file SHA-256). `path` is the bundle directory or either file in it.
/// Reports the first bad record; `Err` only when the files cannot be read.
pub fn verify_bundle(path: impl AsRef<Path>) -> Result<VerifyReport, StoreError> {
    let path = path.as_ref();
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    let mut text = String::new();
    File::open(&manifest_path)
        .and_then(|f| f.take(MAX_MANIFEST_BYTES).read_to_string(&mut text))
        .map_err(|e| StoreError::io(&manifest_path, e))?;
    let bad = |reason: String| Ok(VerifyReport::BadManifest { reason });
    let manifest: Manifest = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => return bad(format!("unreadable: {e}")),
    };
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return bad(format!(
            "format {} version {} is not {FORMAT} version {FORMAT_VERSION}",
            manifest.format, manifest.format_version
        ));
    }

    let evidence_path = dir.join(EVIDENCE_FILE);
    let file = File::open(&evidence_path).map_err(|e| StoreError::io(&evidence_path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let mut hasher = Sha256::new();
    let mut chain = ChainCheck::new();
    let mut first_seq = None;
    let mut buf = Vec::with_capacity(1024);
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = (&mut reader)
            .take(MAX_LINE_BYTES + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| StoreError::io(&evidence_path, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        hasher.update(&buf);
        let malformed = |why: String| VerifyReport::Broken {
            seq: chain.expected_seq(),
            problem: crate::Problem::Malformed {
                field: format!("line {line_no} ({why})"),
            },
        };
        let Some(content) = buf.strip_suffix(b"\n") else {
            return Ok(malformed(
                "not newline-terminated: truncated or over the line cap".into(),
            ));
        };
        let line: Line<'_> = match serde_json::from_slice(content) {
            Ok(l) => l,
            Err(e) => return Ok(malformed(e.to_string())),
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
            return Ok(VerifyReport::Broken { seq, problem });
        }
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
        return Ok(VerifyReport::Broken { seq, problem });
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
    Ok(chain.report())
}
