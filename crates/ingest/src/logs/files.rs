//! Finding log files under the paths a user names, and opening them through bounded,
//! transparently decompressing readers.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Called with the number of (compressed) bytes read from disk since the last call.
pub type ProgressFn = Arc<dyn Fn(u64) + Send + Sync>;

/// What a directory walk found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    /// Files under a named directory that are not logs (wrong extension, CloudTrail digests).
    pub skipped: Vec<(PathBuf, &'static str)>,
    /// Paths that could not be listed or do not exist.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Entries not followed because they lead to a file or directory already taken (a symlink
    /// loop such as `ln -s . d/s1`, or a second link to the same file), with why.
    pub skipped_links: Vec<(PathBuf, &'static str)>,
}

const LOG_EXTENSIONS: [&str; 8] = [
    ".json",
    ".jsonl",
    ".ndjson",
    ".log",
    ".json.gz",
    ".jsonl.gz",
    ".ndjson.gz",
    ".log.gz",
];

fn looks_like_log(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    LOG_EXTENSIONS.iter().any(|ext| lower.ends_with(ext)) || lower.ends_with(".gz")
}

/// The identity of a real file or directory (device and inode), whatever path reached it.
#[cfg(unix)]
fn real_id(m: &std::fs::Metadata, _path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn real_id(_m: &std::fs::Metadata, path: &Path) -> Option<(u64, u64)> {
    use std::hash::{Hash, Hasher};
    let canonical = std::fs::canonicalize(path).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    canonical.hash(&mut h);
    Some((0, h.finish()))
}

/// Real files and directories already taken by one discovery.
#[derive(Default)]
struct Seen(std::collections::HashSet<(u64, u64)>);

impl Seen {
    /// `true` the first time this real file or directory is met.
    fn first(&mut self, m: &std::fs::Metadata, path: &Path) -> bool {
        match real_id(m, path) {
            Some(id) => self.0.insert(id),
            None => true,
        }
    }
}

/// Expands the paths a user named: a file is taken as is (whatever its name), a directory is
/// walked recursively in sorted order (deterministic), taking files with log extensions and
/// skipping CloudTrail digest folders (`CloudTrail-Digest/`) and hidden entries. Symbolic
/// links are followed, but each real directory is walked and each real file taken at most once
/// (by device and inode): a link back up the tree (a loop) or a second path to a file already
/// taken is listed in [`Discovered::skipped_links`] instead.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    let mut out = Discovered::default();
    let mut seen = Seen::default();
    for p in paths {
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                if seen.first(&m, p) {
                    walk(p, &mut out, &mut seen);
                } else {
                    out.skipped_links
                        .push((p.clone(), "directory already walked"));
                }
            }
            Ok(m) => {
                seen.first(&m, p);
                out.files.push(p.clone());
            }
            Err(e) => out.unreadable.push((p.clone(), e.to_string())),
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Discovered, seen: &mut Seen) {
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            out.unreadable.push((dir.to_path_buf(), e.to_string()));
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    children.sort();
    for child in children {
        let name = child
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        // Follows links; a dangling link is unreadable.
        let meta = match std::fs::metadata(&child) {
            Ok(m) => m,
            Err(e) => {
                out.unreadable.push((child, e.to_string()));
                continue;
            }
        };
        if meta.is_dir() {
            if name == "CloudTrail-Digest" {
                out.skipped.push((child, "cloudtrail digest folder"));
            } else if seen.first(&meta, &child) {
                walk(&child, out, seen);
            } else {
                out.skipped_links.push((
                    child,
                    "directory already walked (symlink loop or second link)",
                ));
            }
        } else if looks_like_log(&name) {
            if seen.first(&meta, &child) {
                out.files.push(child);
            } else {
                out.skipped_links
                    .push((child, "file already read through another path"));
            }
        } else {
            out.skipped.push((child, "not a log file extension"));
        }
    }
}

/// Counts bytes read from the file on disk and reports them as progress.
struct Counting<R> {
    inner: R,
    pending: u64,
    progress: Option<ProgressFn>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(p) = &self.progress {
            self.pending += n as u64;
            if self.pending >= 1 << 20 || n == 0 {
                p(self.pending);
                self.pending = 0;
            }
        }
        Ok(n)
    }
}

/// Error kind raised when the decompressed-size cap is reached.
pub(crate) const CAP_REACHED: &str = "decompressed size cap reached";

/// Stops with an error once `remaining` bytes have been produced.
struct Capped<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // Probe one byte: only an input that really goes on past the cap is an error.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(CAP_REACHED)),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Whether the file's content is gzip (by magic bytes, not by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

/// Opens `path` for reading: gzip is detected by its magic bytes and decompressed (all members),
/// and the decompressed stream is capped at `max_decompressed` bytes.
pub fn open(
    path: &Path,
    max_decompressed: u64,
    progress: Option<ProgressFn>,
) -> io::Result<(Box<dyn BufRead + Send>, Compression)> {
    let file = File::open(path)?;
    let mut raw = BufReader::with_capacity(
        256 << 10,
        Counting {
            inner: file,
            pending: 0,
            progress,
        },
    );
    let is_gzip = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    if is_gzip {
        let dec = flate2::bufread::MultiGzDecoder::new(raw);
        let capped = Capped {
            inner: dec,
            remaining: max_decompressed,
        };
        Ok((
            Box::new(BufReader::with_capacity(256 << 10, capped)),
            Compression::Gzip,
        ))
    } else {
        let capped = Capped {
            inner: raw,
            remaining: max_decompressed,
        };
        Ok((
            Box::new(BufReader::with_capacity(256 << 10, capped)),
            Compression::None,
        ))
    }
}

/// Result of reading one line with a size cap.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line (without its newline) is in the buffer.
    Ok,
    /// The line was longer than the cap; the buffer holds its first `cap` bytes, and the rest
    /// was consumed up to the next newline. Carries the full length.
    TooLong(u64),
    Eof,
}

/// Reads one `\n`-terminated line into `buf` (cleared first), never holding more than `cap`
/// bytes. A trailing `\r` is removed.
pub fn read_capped_line<R: BufRead + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Line> {
    buf.clear();
    let mut total: u64 = 0;
    let mut saw_any = false;
    loop {
        let (done, used) = {
            let chunk = match r.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                break;
            }
            saw_any = true;
            match memchr::memchr(b'\n', chunk) {
                Some(i) => {
                    let part = chunk.get(..i).unwrap_or_default();
                    let room = cap.saturating_sub(buf.len());
                    buf.extend_from_slice(part.get(..room.min(part.len())).unwrap_or_default());
                    total += i as u64;
                    (true, i + 1)
                }
                None => {
                    let room = cap.saturating_sub(buf.len());
                    buf.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
                    total += chunk.len() as u64;
                    (false, chunk.len())
                }
            }
        };
        r.consume(used);
        if done {
            break;
        }
    }
    if !saw_any {
        return Ok(Line::Eof);
    }
    if total > cap as u64 {
        return Ok(Line::TooLong(total));
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    Ok(Line::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn symlink_loops_finish_and_each_real_file_is_taken_once() {
        let tmp = std::env::temp_dir().join(format!("tripline-walk-{}", std::process::id()));
        let d = tmp.join("d");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a.jsonl"), "{}").unwrap();
        std::fs::write(d.join("sub/b.jsonl"), "{}").unwrap();
        // `ln -s . d/s1; ln -s . d/s2`, a link up the tree, and a second link to a file.
        std::os::unix::fs::symlink(".", d.join("s1")).unwrap();
        std::os::unix::fs::symlink(".", d.join("s2")).unwrap();
        std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap();
        std::os::unix::fs::symlink("a.jsonl", d.join("z.jsonl")).unwrap();
        let found = discover(&[d.clone(), d.join("s1")]);
        assert_eq!(found.files, vec![d.join("a.jsonl"), d.join("sub/b.jsonl")]);
        let links: Vec<&Path> = found
            .skipped_links
            .iter()
            .map(|(p, _)| p.as_path())
            .collect();
        assert_eq!(
            links,
            vec![
                d.join("s1").as_path(),
                d.join("s2").as_path(),
                d.join("sub/up").as_path(),
                d.join("z.jsonl").as_path(),
                d.join("s1").as_path(),
            ]
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn capped_lines_skip_the_rest_of_an_oversized_line() {
        let data = b"short\r\n0123456789abcdef\nlast";
        let mut r = io::Cursor::new(&data[..]);
        let mut buf = Vec::new();
        assert_eq!(read_capped_line(&mut r, &mut buf, 8).unwrap(), Line::Ok);
        assert_eq!(buf, b"short");
        assert_eq!(
            read_capped_line(&mut r, &mut buf, 8).unwrap(),
            Line::TooLong(16)
        );
        assert_eq!(buf, b"01234567");
        assert_eq!(read_capped_line(&mut r, &mut buf, 8).unwrap(), Line::Ok);
        assert_eq!(buf, b"last");
        assert_eq!(read_capped_line(&mut r, &mut buf, 8).unwrap(), Line::Eof);
    }

    #[test]
    fn decompression_is_capped() {
        let mut capped = Capped {
            inner: io::Cursor::new(vec![7u8; 100]),
            remaining: 10,
        };
        let mut out = Vec::new();
        let err = capped.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.to_string(), CAP_REACHED);
        assert_eq!(out.len(), 10);
        let mut exact = Capped {
            inner: io::Cursor::new(vec![7u8; 10]),
            remaining: 10,
        };
        assert_eq!(exact.read_to_end(&mut Vec::new()).unwrap(), 10);
    }
}
