//! Output helpers: the input notes after the summary.

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
