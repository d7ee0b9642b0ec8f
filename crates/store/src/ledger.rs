//! The ledger in SQLite: schema, appends, verification, queries.

use crate::bundle::{self, ExportSummary};
use crate::canonical::canonical_json;
use crate::chain::{format_at, parse_at, record_hash, ChainCheck, RawRecord, GENESIS_HASH};
use crate::{Body, Kind, StoreError, VerifyReport};
use rusqlite::config::DbConfig;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tripline_model::Timestamp;

/// Schema version kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 1;

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
"#
    )
}

const INSERT_SQL: &str = "INSERT INTO evidence(seq, at, kind, subject, body, prev_hash, hash) \
                          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
const SELECT_COLUMNS: &str = "SELECT seq, at, kind, subject, body, prev_hash, hash FROM evidence";

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

    /// Writes a self-contained bundle into directory `dir` (created if needed):
    /// `evidence.jsonl` and `manifest.json`. The chain is verified while it is written; a ledger
    /// that fails verification is not exported ([`StoreError::Tampered`]).
    pub fn export(&self, dir: impl AsRef<Path>) -> Result<ExportSummary, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        bundle::export(dir.as_ref(), |visit| walk(&tx, visit))
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
        let seq = match row.get_ref(0)? {
            ValueRef::Integer(n) if n > 0 => n.unsigned_abs(),
            _ => {
                return Ok(VerifyReport::Broken {
                    seq: chain.expected_seq(),
                    problem: crate::Problem::Malformed {
                        field: "seq".into(),
                    },
                })
            }
        };
        let raw = RawRecord {
            seq,
            at: text(row, 1)?,
            kind: text(row, 2)?,
            subject: text(row, 3)?,
            body: text(row, 4)?,
            prev_hash: text(row, 5)?,
            hash: text(row, 6)?,
        };
        if let Err((seq, problem)) = chain.check(&raw) {
            return Ok(VerifyReport::Broken { seq, problem });
        }
        visit(&raw)?;
    }
    let head: Option<(i64, Option<String>)> = conn
        .query_row(
            "SELECT seq, hash FROM evidence_head WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1).ok())),
        )
        .optional()?;
    let (head_seq, head_hash) = match head {
        Some((seq, Some(hash))) if seq >= 0 => (seq.unsigned_abs(), hash),
        _ => (0, GENESIS_HASH.to_owned()),
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
