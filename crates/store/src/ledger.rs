//! The ledger in SQLite: schema, appends, verification, queries.

use crate::bundle::{self, ExportSummary};
use crate::canonical::canonical_json;
use crate::chain::{format_at, parse_at, record_hash, ChainCheck, RawRecord, GENESIS_HASH};
use crate::sign::{SignatureCheck, SignedHead, SigningKey, VerifyOptions, MAX_SIGNED_HEADS};
use crate::{Body, Kind, Problem, StoreError, Verification, VerifyReport};
use rusqlite::config::DbConfig;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior,
};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tripline_model::Timestamp;

/// Schema version kept in `PRAGMA user_version`.
/// 2: signed heads (`evidence_signed_head`). A version-1 ledger gains the table when opened for
/// writing, and reads as unsigned.
pub const SCHEMA_VERSION: i64 = 2;

/// Tables, indexes and the triggers that keep the ledger append-only at the SQL level.
///
/// * `evidence`: the records. Updates and deletes abort; an insert must carry the next seq and
///   the last record's hash as its `prev_hash` (this also stops `INSERT OR REPLACE`, which would
///   otherwise delete a row without firing delete triggers).
///   No secondary index: a `subject` index made batch appends 2-3× slower (random index pages
///   written per commit); [`Evidence::records`] scans instead (~90 ms per 300k records here).
/// * `evidence_head`: one row `(1, seq, hash)` naming the last record, advanced by a trigger on
///   every insert and only ever by one. `verify` compares the chain's end with it, which catches
///   records removed from the end of the chain.
/// * `evidence_signed_head`: Ed25519 signatures of the head ([`crate::sign`]), append-only: a
///   new row must take the next number, must not go back in seq, and must name a record of the
///   chain with its hash (or seq 0 with the genesis hash).
fn schema_sql() -> String {
    format!(
        r#"
CREATE TABLE IF NOT EXISTS evidence (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    kind      TEXT NOT NULL,
    subject   TEXT NOT NULL,
    body      TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS evidence_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;
INSERT INTO evidence_head(id, seq, hash)
    SELECT 1, 0, '{GENESIS_HASH}' WHERE NOT EXISTS (SELECT 1 FROM evidence_head);

CREATE TRIGGER IF NOT EXISTS evidence_insert_next BEFORE INSERT ON evidence
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM evidence)
  OR NEW.prev_hash IS NOT COALESCE(
       (SELECT hash FROM evidence ORDER BY seq DESC LIMIT 1), '{GENESIS_HASH}')
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only: a new record must follow the last one');
END;
CREATE TRIGGER IF NOT EXISTS evidence_no_update BEFORE UPDATE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only: records cannot be updated');
END;
CREATE TRIGGER IF NOT EXISTS evidence_no_delete BEFORE DELETE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence is append-only: records cannot be deleted');
END;
CREATE TRIGGER IF NOT EXISTS evidence_advance_head AFTER INSERT ON evidence
BEGIN
    UPDATE evidence_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
END;
CREATE TRIGGER IF NOT EXISTS evidence_head_insert_once BEFORE INSERT ON evidence_head
WHEN EXISTS (SELECT 1 FROM evidence_head)
BEGIN
    SELECT RAISE(ABORT, 'evidence head exists');
END;
CREATE TRIGGER IF NOT EXISTS evidence_head_no_delete BEFORE DELETE ON evidence_head
BEGIN
    SELECT RAISE(ABORT, 'evidence head cannot be deleted');
END;
CREATE TRIGGER IF NOT EXISTS evidence_head_forward BEFORE UPDATE ON evidence_head
WHEN NEW.id IS NOT OLD.id
  OR NEW.seq IS NOT OLD.seq + 1
  OR NEW.hash IS NOT (SELECT hash FROM evidence WHERE seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'evidence head only advances with the chain');
END;

CREATE TABLE IF NOT EXISTS evidence_signed_head (
    n          INTEGER PRIMARY KEY,
    seq        INTEGER NOT NULL,
    hash       TEXT NOT NULL,
    at         TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL
) STRICT;
CREATE TRIGGER IF NOT EXISTS evidence_signed_head_next BEFORE INSERT ON evidence_signed_head
WHEN NEW.n IS NOT (SELECT COALESCE(MAX(n), 0) + 1 FROM evidence_signed_head)
  OR NEW.seq < (SELECT COALESCE(MAX(seq), 0) FROM evidence_signed_head)
  OR NEW.hash IS NOT COALESCE((SELECT hash FROM evidence WHERE seq = NEW.seq),
                              CASE WHEN NEW.seq = 0 THEN '{GENESIS_HASH}' END)
BEGIN
    SELECT RAISE(ABORT, 'a signed head must follow the last one and name a record of the chain');
END;
CREATE TRIGGER IF NOT EXISTS evidence_signed_head_no_update BEFORE UPDATE ON evidence_signed_head
BEGIN
    SELECT RAISE(ABORT, 'signed heads are append-only: they cannot be updated');
END;
CREATE TRIGGER IF NOT EXISTS evidence_signed_head_no_delete BEFORE DELETE ON evidence_signed_head
BEGIN
    SELECT RAISE(ABORT, 'signed heads are append-only: they cannot be deleted');
END;
"#
    )
}

const INSERT_SQL: &str = "INSERT INTO evidence(seq, at, kind, subject, body, prev_hash, hash) \
                          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const SELECT_COLUMNS: &str = "SELECT seq, at, kind, subject, body, prev_hash, hash FROM evidence";
const SELECT_SIGNED_HEADS: &str =
    "SELECT seq, hash, at, public_key, signature FROM evidence_signed_head ORDER BY n";
/// The first 16 bytes of every SQLite database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// One stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub at: Timestamp,
    pub kind: Kind,
    pub subject: String,
    /// The canonical JSON text that was hashed.
    pub body: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Record {
    pub fn body_json(&self) -> Result<Value, StoreError> {
        Ok(serde_json::from_str(&self.body)?)
    }

    /// The body as a typed value (`Decision`, `Signal`, …).
    pub fn body_as<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        Ok(serde_json::from_str(&self.body)?)
    }
}

/// A record to append.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub kind: Kind,
    pub subject: String,
    pub body: Value,
    pub at: Timestamp,
}

impl Entry {
    pub fn new(kind: Kind, subject: impl Into<String>, body: Value, at: Timestamp) -> Self {
        Self {
            kind,
            subject: subject.into(),
            body,
            at,
        }
    }

    /// An entry from a typed body; the kind comes from the body's type.
    pub fn of<B: Body>(
        subject: impl Into<String>,
        body: &B,
        at: Timestamp,
    ) -> Result<Self, StoreError> {
        Ok(Self::new(B::KIND, subject, serde_json::to_value(body)?, at))
    }
}

/// The result of [`Evidence::append_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub count: u64,
    /// Seq of the first record written (`None` for an empty batch).
    pub first_seq: Option<u64>,
    /// The ledger's last seq and hash after the batch.
    pub last_seq: u64,
    pub head_hash: String,
}

/// Which records [`Evidence::records`] returns. Conditions combine with AND; results are in
/// seq order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFilter {
    pub kind: Option<Kind>,
    pub subject: Option<String>,
    /// `at >= since`.
    pub since: Option<Timestamp>,
    /// `at < until`.
    pub until: Option<Timestamp>,
    /// `seq > after_seq` (for paging).
    pub after_seq: Option<u64>,
    pub limit: Option<u64>,
}

impl RecordFilter {
    pub fn all() -> Self {
        Self::default()
    }
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = Some(kind);
        self
    }
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }
    pub fn since(mut self, t: Timestamp) -> Self {
        self.since = Some(t);
        self
    }
    pub fn until(mut self, t: Timestamp) -> Self {
        self.until = Some(t);
        self
    }
    pub fn after_seq(mut self, seq: u64) -> Self {
        self.after_seq = Some(seq);
        self
    }
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
}

/// The evidence ledger: an append-only hash chain in one SQLite file (WAL, `synchronous=FULL`).
///
/// Several handles, in one process or several, may append to the same file: each append takes
/// SQLite's write lock (`BEGIN IMMEDIATE`) and reads the chain's head inside it.
#[derive(Debug)]
pub struct Evidence {
    conn: Connection,
    path: PathBuf,
}

impl Evidence {
    /// Opens (creating if needed) the ledger at `path`. Re-creates any missing trigger.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let mut conn = Connection::open(&path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // Refuse writes to sqlite_schema and other file-corrupting tricks on this connection.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // A scan appends thousands of signals per transaction: a page cache that holds the
        // working set keeps SQLite from spilling and re-reading pages mid-transaction, and the
        // statement journal the triggers need stays in memory. (64 MiB at most, used as needed.)
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::UnsupportedSchema {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        tx.execute_batch(&schema_sql())?;
        if version < SCHEMA_VERSION {
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        }
        tx.commit()?;
        Ok(Self { conn, path })
    }

    /// Opens an existing ledger for reading only: nothing is written to the file (no schema,
    /// trigger or journal-mode change). Refuses, as [`StoreError::NotALedger`], an empty file,
    /// a file that is not SQLite, one shorter than its header says (truncated), a damaged one
    /// (`PRAGMA quick_check`), and a database without the `evidence` table.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        check_file(&path)?;
        let conn = match read_only_connection(&path, false) {
            // SQLite reads a WAL-mode file through a `-shm` index it must be able to create
            // next to it. In a directory nobody can write (read-only media, an archive mount)
            // nobody can be appending either, so with no write-ahead log to read the file is
            // opened as immutable.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::CannotOpen && wal_len(&path) == 0 =>
            {
                read_only_connection(&path, true)?
            }
            other => other?,
        };
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::UnsupportedSchema {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        let check: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(StoreError::not_a_ledger(&path, format!("damaged: {check}")));
        }
        if !has_table(&conn, "evidence")? {
            return Err(StoreError::not_a_ledger(
                &path,
                "an SQLite database without the evidence table",
            ));
        }
        Ok(Self { conn, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record in its own transaction, durable when this returns.
    pub fn append(
        &mut self,
        kind: Kind,
        subject: &str,
        body: &Value,
        at: Timestamp,
    ) -> Result<Record, StoreError> {
        let body = canonical_json(body)?;
        let at_text = format_at(at)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (seq, prev) = head_in(&tx)?;
        let seq = seq.checked_add(1).ok_or(StoreError::SeqOverflow)?;
        let hash = insert(&tx, seq, &at_text, kind, subject, &body, &prev)?;
        tx.commit()?;
        Ok(Record {
            seq,
            at,
            kind,
            subject: subject.to_owned(),
            body,
            prev_hash: prev,
            hash,
        })
    }

    /// Appends a typed body (its kind comes from its type).
    pub fn append_body<B: Body>(
        &mut self,
        subject: &str,
        body: &B,
        at: Timestamp,
    ) -> Result<Record, StoreError> {
        self.append(B::KIND, subject, &serde_json::to_value(body)?, at)
    }

    /// Appends many records in one transaction: all of them, or none (an error in any entry,
    /// or a crash, leaves the ledger as it was).
    pub fn append_batch(&mut self, entries: &[Entry]) -> Result<Appended, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (mut seq, mut prev) = head_in(&tx)?;
        let first_seq = if entries.is_empty() {
            None
        } else {
            Some(seq.checked_add(1).ok_or(StoreError::SeqOverflow)?)
        };
        for e in entries {
            let body = canonical_json(&e.body)?;
            let at_text = format_at(e.at)?;
            seq = seq.checked_add(1).ok_or(StoreError::SeqOverflow)?;
            prev = insert(&tx, seq, &at_text, e.kind, &e.subject, &body, &prev)?;
        }
        tx.commit()?;
        Ok(Appended {
            count: entries.len() as u64,
            first_seq,
            last_seq: seq,
            head_hash: prev,
        })
    }

    /// The last record's seq and hash (`0` and the genesis hash when empty).
    pub fn head(&self) -> Result<(u64, String), StoreError> {
        head_in(&self.conn)
    }

    /// Number of records.
    pub fn len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM evidence", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Recomputes the whole chain in seq order and checks it against the head marker. Reports
    /// the first bad record; `Err` only when the file cannot be read.
    pub fn verify(&self) -> Result<VerifyReport, StoreError> {
        // One read transaction: a consistent snapshot even while others append.
        let tx = self.conn.unchecked_transaction()?;
        walk(&tx, |_| Ok(()))
    }

    /// Verifies the chain, then the signed heads against it (see [`crate::sign`]).
    pub fn verify_with(&self, opts: VerifyOptions<'_>) -> Result<Verification, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        walk_signed(&tx, opts, |_| Ok(()))
    }

    /// The signed heads, in the order they were written.
    pub fn signed_heads(&self) -> Result<Vec<SignedHead>, StoreError> {
        signed_heads_in(&self.conn)
    }

    /// Signs the current head with `key` at time `at` and stores the signature (append-only).
    ///
    /// Refuses ([`StoreError::Tampered`]) to sign a chain that does not follow from the last
    /// signed head: the records since it are re-checked (all records, the first time), so a
    /// signature never vouches for a chain broken since the last one.
    pub fn sign_head(&mut self, key: &SigningKey, at: Timestamp) -> Result<SignedHead, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last = tx
            .query_row(
                "SELECT seq, hash, at, public_key, signature FROM evidence_signed_head \
                 ORDER BY n DESC LIMIT 1",
                [],
                signed_head_of,
            )
            .optional()?;
        check_since(&tx, last.as_ref())?;
        let (seq, hash) = head_in(&tx)?;
        let head = key.sign_head(seq, &hash, at)?;
        tx.execute(
            "INSERT INTO evidence_signed_head(n, seq, hash, at, public_key, signature) \
             VALUES ((SELECT COALESCE(MAX(n), 0) + 1 FROM evidence_signed_head), ?1, ?2, ?3, ?4, ?5)",
            params![
                to_i64(head.seq)?,
                head.hash,
                head.at,
                head.public_key,
                head.signature
            ],
        )?;
        tx.commit()?;
        Ok(head)
    }

    /// Writes a self-contained bundle into directory `dir` (created if needed):
    /// `evidence.jsonl`, `signatures.jsonl` and `manifest.json`. The chain and its signed heads
    /// are verified while it is written; a ledger that fails verification is not exported
    /// ([`StoreError::Tampered`], [`StoreError::SignatureFailed`]).
    pub fn export(&self, dir: impl AsRef<Path>) -> Result<ExportSummary, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let heads = signed_heads_in(&tx)?;
        bundle::export(dir.as_ref(), heads, None, |visit| {
            walk_signed(&tx, VerifyOptions::default(), visit)
        })
    }

    /// Signs the head with `key` at `at` ([`sign_head`](Self::sign_head)), then exports; the
    /// bundle carries the public key (`public-key.pub`) and every signed head.
    pub fn export_signed(
        &mut self,
        dir: impl AsRef<Path>,
        key: &SigningKey,
        at: Timestamp,
    ) -> Result<ExportSummary, StoreError> {
        self.sign_head(key, at)?;
        let tx = self.conn.unchecked_transaction()?;
        let heads = signed_heads_in(&tx)?;
        bundle::export(dir.as_ref(), heads, Some(key.public_key()), |visit| {
            walk_signed(&tx, VerifyOptions::default(), visit)
        })
    }

    /// Records matching `filter`, in seq order.
    pub fn records(&self, filter: &RecordFilter) -> Result<Vec<Record>, StoreError> {
        let mut sql = String::from(SELECT_COLUMNS);
        let mut args: Vec<SqlValue> = Vec::new();
        let mut clause = |cond: &str, v: SqlValue| {
            sql.push_str(if args.is_empty() { " WHERE " } else { " AND " });
            sql.push_str(cond);
            args.push(v);
            sql.push_str(&args.len().to_string());
        };
        if let Some(k) = filter.kind {
            clause("kind = ?", SqlValue::Text(k.as_str().into()));
        }
        if let Some(s) = &filter.subject {
            clause("subject = ?", SqlValue::Text(s.clone()));
        }
        if let Some(t) = filter.since {
            clause("at >= ?", SqlValue::Text(format_at(t)?));
        }
        if let Some(t) = filter.until {
            clause("at < ?", SqlValue::Text(format_at(t)?));
        }
        if let Some(s) = filter.after_seq {
            clause("seq > ?", SqlValue::Integer(to_i64(s)?));
        }
        sql.push_str(" ORDER BY seq");
        if let Some(n) = filter.limit {
            sql.push_str(&format!(" LIMIT {}", n.min(i64::MAX as u64)));
        }
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(args))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(record_of(row)?);
        }
        Ok(out)
    }
}

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::SeqOverflow)
}

fn head_in(conn: &Connection) -> Result<(u64, String), StoreError> {
    let last: Option<(i64, String)> = conn
        .query_row(
            "SELECT seq, hash FROM evidence ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match last {
        None => Ok((0, GENESIS_HASH.to_owned())),
        Some((seq, hash)) => match u64::try_from(seq) {
            Ok(seq) => Ok((seq, hash)),
            Err(_) => Err(StoreError::Corrupt {
                seq,
                reason: "negative seq".into(),
            }),
        },
    }
}

fn insert(
    tx: &Transaction<'_>,
    seq: u64,
    at: &str,
    kind: Kind,
    subject: &str,
    body: &str,
    prev: &str,
) -> Result<String, StoreError> {
    let hash = record_hash(prev, seq, at, kind.as_str(), subject, body);
    let mut stmt = tx.prepare_cached(INSERT_SQL)?;
    stmt.execute(params![
        to_i64(seq)?,
        at,
        kind.as_str(),
        subject,
        body,
        prev,
        hash
    ])?;
    Ok(hash)
}

/// A text column, or `None` when NULL or not text.
fn text<'r>(row: &'r Row<'_>, idx: usize) -> rusqlite::Result<Option<&'r str>> {
    Ok(match row.get_ref(idx)? {
        ValueRef::Text(b) => std::str::from_utf8(b).ok(),
        _ => None,
    })
}

/// One row's fields as stored; `Err` with the report when its seq is unusable.
fn raw_of<'r>(
    row: &'r Row<'_>,
    expected_seq: u64,
) -> Result<Result<RawRecord<'r>, VerifyReport>, StoreError> {
    let seq = match row.get_ref(0)? {
        ValueRef::Integer(n) if n > 0 => n.unsigned_abs(),
        _ => {
            return Ok(Err(VerifyReport::Broken {
                seq: expected_seq,
                problem: Problem::Malformed {
                    field: "seq".into(),
                },
            }))
        }
    };
    Ok(Ok(RawRecord {
        seq,
        at: text(row, 1)?,
        kind: text(row, 2)?,
        subject: text(row, 3)?,
        body: text(row, 4)?,
        prev_hash: text(row, 5)?,
        hash: text(row, 6)?,
    }))
}

/// Walks every record in seq order through the chain check, calling `visit` on each good one,
/// then checks the chain's end against the head marker.
fn walk(
    conn: &Connection,
    mut visit: impl FnMut(&RawRecord<'_>) -> Result<(), StoreError>,
) -> Result<VerifyReport, StoreError> {
    let mut chain = ChainCheck::new();
    let mut stmt = conn.prepare(&format!("{SELECT_COLUMNS} ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let raw = match raw_of(row, chain.expected_seq())? {
            Ok(raw) => raw,
            Err(report) => return Ok(report),
        };
        if let Err((seq, problem)) = chain.check(&raw) {
            return Ok(VerifyReport::Broken { seq, problem });
        }
        visit(&raw)?;
    }
    let head: Option<(i64, Option<String>)> = if has_table(conn, "evidence_head")? {
        conn.query_row(
            "SELECT seq, hash FROM evidence_head WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, text(r, 1)?.map(str::to_owned))),
        )
        .optional()?
    } else {
        None
    };
    let (head_seq, head_hash) = match head {
        Some((seq, Some(hash))) if seq >= 0 => (seq.unsigned_abs(), hash),
        Some(_) => {
            return Ok(VerifyReport::Broken {
                seq: chain.last_seq(),
                problem: Problem::Malformed {
                    field: "evidence_head".into(),
                },
            })
        }
        None => {
            return Ok(VerifyReport::Broken {
                seq: chain.last_seq(),
                problem: Problem::HeadMissing,
            })
        }
    };
    if let Err((seq, problem)) = chain.check_head(head_seq, &head_hash) {
        return Ok(VerifyReport::Broken { seq, problem });
    }
    Ok(chain.report())
}

fn record_of(row: &Row<'_>) -> Result<Record, StoreError> {
    let seq: i64 = row.get(0)?;
    let corrupt = |reason: &str| StoreError::Corrupt {
        seq,
        reason: reason.into(),
    };
    let at: String = row.get(1)?;
    let kind: String = row.get(2)?;
    Ok(Record {
        seq: u64::try_from(seq).map_err(|_| corrupt("negative seq"))?,
        at: parse_at(&at).ok_or_else(|| corrupt("bad time"))?,
        kind: Kind::parse(&kind).ok_or_else(|| corrupt("unknown kind"))?,
        subject: row.get(3)?,
        body: row.get(4)?,
        prev_hash: row.get(5)?,
        hash: row.get(6)?,
    })
}

/// A read-only connection that has read the file's header (so that a file SQLite cannot open
/// fails here). `immutable`: no locks, no `-shm` or `-wal` (only for files nobody can write).
fn read_only_connection(path: &Path, immutable: bool) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = if immutable {
        Connection::open_with_flags(format!("file:{}?immutable=1", uri_path(path)), flags)?
    } else {
        Connection::open_with_flags(path, flags)?
    };
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "query_only", true)?;
    conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))?;
    Ok(conn)
}

/// `path` percent-encoded for an SQLite `file:` URI.
fn uri_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Length of the ledger's write-ahead log (0 when there is none).
fn wal_len(path: &Path) -> u64 {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    std::fs::metadata(PathBuf::from(wal)).map_or(0, |m| m.len())
}

fn has_table(conn: &Connection, name: &str) -> Result<bool, StoreError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

/// What can be told about a ledger file before SQLite reads it: not empty, an SQLite header,
/// and (when no write-ahead log holds newer pages) at least as long as the header says.
fn check_file(path: &Path) -> Result<(), StoreError> {
    let meta = std::fs::metadata(path).map_err(|e| StoreError::io(path, e))?;
    if meta.is_dir() {
        return Err(StoreError::not_a_ledger(path, "a directory"));
    }
    if meta.len() == 0 {
        return Err(StoreError::not_a_ledger(
            path,
            "the file is empty (0 bytes)",
        ));
    }
    let mut header = [0u8; 100];
    let mut f = std::fs::File::open(path).map_err(|e| StoreError::io(path, e))?;
    let mut got = 0;
    while got < header.len() {
        match f.read(header.get_mut(got..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(StoreError::io(path, e)),
        }
    }
    if got < header.len() || header.get(..16) != Some(SQLITE_MAGIC.as_slice()) {
        return Err(StoreError::not_a_ledger(
            path,
            format!("not an SQLite database ({got} header bytes read)"),
        ));
    }
    let be = |at: usize, n: usize| -> u64 {
        header
            .get(at..at + n)
            .unwrap_or_default()
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
    };
    let page_size = match be(16, 2) {
        1 => 65_536,
        n => n,
    };
    let pages = be(28, 4);
    // The page count is valid only when the change counter matches "version valid for".
    let count_valid = be(24, 4) == be(92, 4);
    let wal_len = wal_len(path);
    let expected = pages.saturating_mul(page_size);
    if count_valid && wal_len == 0 && meta.len() < expected {
        return Err(StoreError::not_a_ledger(
            path,
            format!(
                "truncated: its header says {expected} bytes, the file has {}",
                meta.len()
            ),
        ));
    }
    Ok(())
}

fn signed_head_of(r: &Row<'_>) -> rusqlite::Result<SignedHead> {
    let owned =
        |i: usize| -> rusqlite::Result<String> { Ok(text(r, i)?.unwrap_or_default().to_owned()) };
    Ok(SignedHead {
        // A negative or non-integer seq names no record: it reads as past the chain's end.
        seq: match r.get_ref(0)? {
            ValueRef::Integer(n) if n >= 0 => n.unsigned_abs(),
            _ => u64::MAX,
        },
        hash: owned(1)?,
        at: owned(2)?,
        public_key: owned(3)?,
        signature: owned(4)?,
    })
}

/// Every signed head (none in a version-1 ledger), at most [`MAX_SIGNED_HEADS`].
fn signed_heads_in(conn: &Connection) -> Result<Vec<SignedHead>, StoreError> {
    if !has_table(conn, "evidence_signed_head")? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare(SELECT_SIGNED_HEADS)?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        if out.len() >= MAX_SIGNED_HEADS {
            return Err(StoreError::Corrupt {
                seq: 0,
                reason: format!("more than {MAX_SIGNED_HEADS} signed heads"),
            });
        }
        out.push(signed_head_of(row)?);
    }
    Ok(out)
}

/// Checks that the chain follows from the last signed head: its signature is valid, its
/// record still has its hash, and every record after it links (all records when none).
fn check_since(conn: &Connection, last: Option<&SignedHead>) -> Result<(), StoreError> {
    let tampered = |seq: u64, problem: Problem| Err(StoreError::Tampered { seq, problem });
    let (mut chain, from) = match last {
        None => (ChainCheck::new(), 1),
        Some(h) => {
            let report = SignatureCheck::new(vec![h.clone()], VerifyOptions::default());
            if let Some(problem) = report.first_problem() {
                return Err(StoreError::SignatureFailed {
                    seq: h.seq,
                    problem: problem.clone(),
                });
            }
            if h.seq == 0 {
                (ChainCheck::new(), 1)
            } else {
                let prev: Option<Option<String>> = conn
                    .query_row(
                        "SELECT prev_hash FROM evidence WHERE seq = ?1",
                        [to_i64(h.seq)?],
                        |r| Ok(text(r, 0)?.map(str::to_owned)),
                    )
                    .optional()?;
                let Some(Some(prev)) = prev else {
                    return tampered(h.seq, Problem::Missing { next: None });
                };
                (ChainCheck::resume(h.seq - 1, &prev), h.seq)
            }
        }
    };
    let mut stmt = conn.prepare(&format!("{SELECT_COLUMNS} WHERE seq >= ?1 ORDER BY seq"))?;
    let mut rows = stmt.query([to_i64(from)?])?;
    while let Some(row) = rows.next()? {
        let raw = raw_of(row, chain.expected_seq())?;
        let raw = match raw {
            Ok(raw) => raw,
            Err(report) => return Err(report_error(report)),
        };
        if let Err((seq, problem)) = chain.check(&raw) {
            return tampered(seq, problem);
        }
        if let Some(h) = last {
            if raw.seq == h.seq && chain.last_hash() != h.hash {
                return tampered(h.seq, Problem::HeadMismatch);
            }
        }
    }
    if let Some(h) = last {
        if chain.last_seq() < h.seq {
            return tampered(chain.expected_seq(), Problem::Missing { next: None });
        }
    }
    Ok(())
}

fn report_error(report: VerifyReport) -> StoreError {
    match report {
        VerifyReport::Broken { seq, problem } => StoreError::Tampered { seq, problem },
        other => StoreError::Corrupt {
            seq: 0,
            reason: other.to_string(),
        },
    }
}

/// [`walk`], then the signed heads against the chain it walked.
fn walk_signed(
    conn: &Connection,
    opts: VerifyOptions<'_>,
    mut visit: impl FnMut(&RawRecord<'_>) -> Result<(), StoreError>,
) -> Result<Verification, StoreError> {
    let mut check = SignatureCheck::new(signed_heads_in(conn)?, opts);
    let chain = walk(conn, |raw| {
        check.see(raw.seq, raw.hash.unwrap_or_default());
        visit(raw)
    })?;
    Ok(match chain {
        // Seqs start at 1 with no gaps, so the last one is the count.
        VerifyReport::Ok { records, .. } => Verification {
            signatures: Some(check.finish(records)),
            chain,
        },
        other => Verification::chain_failed(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_escape_what_a_uri_would_read_as_syntax() {
        assert_eq!(
            uri_path(Path::new("/var/lib/tripline/ev-1_a.sqlite")),
            "/var/lib/tripline/ev-1_a.sqlite"
        );
        assert_eq!(
            uri_path(Path::new("a b/c?d#e%f&g=h")),
            "a%20b/c%3Fd%23e%25f%26g%3Dh"
        );
        assert_eq!(uri_path(Path::new("é")), "%C3%A9");
    }
}
