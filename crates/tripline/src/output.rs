//! Output helpers: the input notes after the summary, and telling a closed or full stdout
//! apart from a real panic.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use tripline_ingest::ReadStats;
use tripline_model::Rejected;

/// The quarantine file, bounded in bytes and records: a hostile input cannot turn a small
/// gzip into a huge file (10 KB became 775 MB). Rejections past a cap are counted, not
/// written; the summary says how many.
#[derive(Debug)]
pub struct Quarantine {
    path: PathBuf,
    out: BufWriter<std::fs::File>,
    max_bytes: u64,
    max_records: u64,
    bytes: u64,
    records: u64,
    not_written: u64,
    line: Vec<u8>,
}

impl Quarantine {
    pub fn create(path: &Path, max_bytes: u64, max_records: u64) -> std::io::Result<Self> {
        Ok(Self {
            path: path.to_path_buf(),
            out: BufWriter::new(std::fs::File::create(path)?),
            max_bytes,
            max_records,
            bytes: 0,
            records: 0,
            not_written: 0,
            line: Vec::new(),
        })
    }

    /// Writes one rejected record as a JSON line, unless a cap would be passed.
    pub fn write(&mut self, r: &Rejected) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, r)?;
        self.line.push(b'\n');
        let len = self.line.len() as u64;
        if self.records >= self.max_records || self.bytes.saturating_add(len) > self.max_bytes {
            self.not_written += 1;
            return Ok(());
        }
        self.out.write_all(&self.line)?;
        self.bytes += len;
        self.records += 1;
        Ok(())
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// The summary line when something was not written.
    pub fn note(&self, out: &mut dyn Write) {
        if self.not_written > 0 {
            let _ = writeln!(
                out,
                "quarantine full: {} rejected records not written to {} ({} records, {} bytes written; --max-quarantine-records {}, --max-quarantine-bytes {})",
                self.not_written,
                self.path.display(),
                self.records,
                self.bytes,
                self.max_records,
                self.max_bytes
            );
        }
    }
}

/// Lines the summary does not carry yet: duplicates and links not followed. Best effort: a
/// closed stderr is not an error.
pub fn input_notes(s: &ReadStats, out: &mut dyn Write) {
    if s.duplicate_events > 0 {
        let _ = writeln!(
            out,
            "{} duplicate records (an event id already read with the same content) counted once",
            s.duplicate_events
        );
    }
    if !s.skipped_links.is_empty() {
        let _ = writeln!(
            out,
            "skipped {} links to a directory already walked or a file already read (symlink loops)",
            s.skipped_links.len()
        );
    }
}

/// Why writing to stdout failed, from the panic `println!` raises.
#[derive(Debug, PartialEq, Eq)]
pub enum StdoutFailure {
    /// The reader went away (`EPIPE`): stop quietly.
    Closed,
    /// Any other write error (a full disk), with its message.
    Other(String),
}

/// `Some` when `payload` is `println!`'s "failed printing to stdout" panic.
pub fn stdout_failure(payload: &(dyn std::any::Any + Send)) -> Option<StdoutFailure> {
    let msg = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())?;
    let detail = msg.strip_prefix("failed printing to stdout: ")?;
    if detail.contains("Broken pipe") || detail.contains("os error 32") {
        Some(StdoutFailure::Closed)
    } else {
        Some(StdoutFailure::Other(detail.to_string()))
    }
}

/// Whether an error (or one of its causes) is a write to a closed pipe.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
