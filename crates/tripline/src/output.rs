//! Output helpers: the input notes after the summary, and telling a closed or full stdout
//! apart from a real panic.

use std::io::Write;
use tripline_ingest::ReadStats;

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
