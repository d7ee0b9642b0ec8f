//! The action ledger: a durable record of every action a connector takes.
//!
//! One row per `action_id` in SQLite (`synchronous=FULL`, WAL). The state goes
//! `planned → applying → applied → verified → undoing → undone`, or `failed`. `applying` is
//! written *before* the first API call and every intermediate step a connector reports through
//! its [`Journal`] (e.g. the id of a freshly created access key) is written before the connector
//! goes on, so after a crash [`recover`] finds every half-done action and asks the connector to
//! complete or undo it: nothing is left half-done and unrecorded.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};

use crate::{ActionRequest, Applied, Connector, ConnectorError, Journal, Plan};

/// Where an action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Planned,
    Applying,
    Applied,
    Verified,
    Undoing,
    Undone,
    Failed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Planned => "planned",
            State::Applying => "applying",
            State::Applied => "applied",
            State::Verified => "verified",
            State::Undoing => "undoing",
            State::Undone => "undone",
            State::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "planned" => State::Planned,
            "applying" => State::Applying,
            "applied" => State::Applied,
            "verified" => State::Verified,
            "undoing" => State::Undoing,
            "undone" => State::Undone,
            "failed" => State::Failed,
            _ => return None,
        })
    }
}

/// One ledger row as [`Ledger::pending`] and [`Ledger::get`] return it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub request: ActionRequest,
    pub connector: String,
    pub state: State,
    /// What the connector recorded through its [`Journal`] during `apply`.
    pub partial: Option<serde_json::Value>,
    pub applied: Option<Applied>,
    pub error: Option<String>,
}

/// What [`Ledger::begin`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// No earlier attempt: the row is now `applying`.
    Fresh,
    /// An earlier attempt was interrupted or failed; the row is `applying` again and carries
    /// what that attempt recorded.
    InProgress(Box<Record>),
    /// Already applied: nothing to do.
    Done(Box<Applied>),
}

/// The ledger (one SQLite connection; not shared between threads).
#[derive(Debug)]
pub struct Ledger {
    conn: Connection,
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn db_err(e: rusqlite::Error) -> ConnectorError {
    ConnectorError::Ledger(e.to_string())
}

fn json_err(e: serde_json::Error) -> ConnectorError {
    ConnectorError::Ledger(format!("json: {e}"))
}

impl Ledger {
    /// Opens (or creates) the ledger at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Ledger, ConnectorError> {
        let conn = Connection::open(path).map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS actions (
                 action_id    TEXT PRIMARY KEY,
                 connector    TEXT NOT NULL,
                 kind         TEXT NOT NULL,
                 identity     TEXT NOT NULL,
                 request_json TEXT NOT NULL,
                 state        TEXT NOT NULL,
                 partial_json TEXT,
                 applied_json TEXT,
                 error        TEXT,
                 updated_at   INTEGER NOT NULL
             );",
        )
        .map_err(db_err)?;
        Ok(Ledger { conn })
    }

    /// Records a plan (state `planned`) without acting. Does nothing if the action is known.
    pub fn record_plan(&self, req: &ActionRequest, plan: &Plan) -> Result<(), ConnectorError> {
        let request_json = serde_json::to_string(req).map_err(json_err)?;
        self.conn
            .execute(
                "INSERT OR IGNORE INTO actions (action_id, connector, kind, identity, request_json, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'planned', ?6)",
                params![req.action_id, plan.connector, req.kind, req.identity, request_json, now_secs()],
            )
            .map_err(db_err)?;
        Ok(())
    }

    /// The row for `action_id`, if any.
    pub fn get(&self, action_id: &str) -> Result<Option<Record>, ConnectorError> {
        let row = self
            .conn
            .query_row(
                "SELECT request_json, connector, state, partial_json, applied_json, error
                 FROM actions WHERE action_id = ?1",
                params![action_id],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                        r.get::<_, Option<String>>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(db_err)?;
        row.map(Self::to_record).transpose()
    }

    #[allow(clippy::type_complexity)]
    fn to_record(
        row: (
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
        ),
    ) -> Result<Record, ConnectorError> {
        let (req, connector, state, partial, applied, error) = row;
        Ok(Record {
            request: serde_json::from_str(&req).map_err(json_err)?,
            connector,
            state: State::parse(&state)
                .ok_or_else(|| ConnectorError::Ledger(format!("unknown state {state:?}")))?,
            partial: partial
                .map(|p| serde_json::from_str(&p))
                .transpose()
                .map_err(json_err)?,
            applied: applied
                .map(|a| serde_json::from_str(&a))
                .transpose()
                .map_err(json_err)?,
            error,
        })
    }

    /// Starts (or resumes) applying `req`: the row is `applying` when this returns, durably,
    /// before any API call.
    pub fn begin(&self, req: &ActionRequest, connector: &str) -> Result<Begin, ConnectorError> {
        let request_json = serde_json::to_string(req).map_err(json_err)?;
        match self.get(&req.action_id)? {
            None => {
                self.conn
                    .execute(
                        "INSERT INTO actions (action_id, connector, kind, identity, request_json, state, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, 'applying', ?6)",
                        params![req.action_id, connector, req.kind, req.identity, request_json, now_secs()],
                    )
                    .map_err(db_err)?;
                Ok(Begin::Fresh)
            }
            Some(rec) => {
                if rec.request.kind != req.kind || rec.request.identity != req.identity {
                    return Err(ConnectorError::Invalid(format!(
                        "action id {} is already used for {} on {}",
                        req.action_id, rec.request.kind, rec.request.identity
                    )));
                }
                match rec.state {
                    State::Applied | State::Verified => match rec.applied {
                        Some(a) => Ok(Begin::Done(Box::new(a))),
                        None => Err(ConnectorError::Ledger(format!(
                            "{} is {} without a result",
                            req.action_id,
                            rec.state.as_str()
                        ))),
                    },
                    State::Undoing | State::Undone => Err(ConnectorError::Invalid(format!(
                        "action {} was undone; use a new action id",
                        req.action_id
                    ))),
                    State::Planned | State::Applying | State::Failed => {
                        self.set_state(&req.action_id, State::Applying, None)?;
                        if rec.state == State::Planned {
                            Ok(Begin::Fresh)
                        } else {
                            Ok(Begin::InProgress(Box::new(rec)))
                        }
                    }
                }
            }
        }
    }

    fn set_state(
        &self,
        action_id: &str,
        state: State,
        error: Option<&str>,
    ) -> Result<(), ConnectorError> {
        let n = self
            .conn
            .execute(
                "UPDATE actions SET state = ?2, error = ?3, updated_at = ?4 WHERE action_id = ?1",
                params![action_id, state.as_str(), error, now_secs()],
            )
            .map_err(db_err)?;
        one_row(n, action_id)
    }

    /// Records what the connector has done so far (e.g. a new key id right after creating it).
    pub fn record_partial(
        &self,
        action_id: &str,
        partial: &serde_json::Value,
    ) -> Result<(), ConnectorError> {
        let n = self
            .conn
            .execute(
                "UPDATE actions SET partial_json = ?2, updated_at = ?3 WHERE action_id = ?1",
                params![action_id, partial.to_string(), now_secs()],
            )
            .map_err(db_err)?;
        one_row(n, action_id)
    }

    /// `applying → applied`, with everything `undo` needs.
    pub fn finish(&self, action_id: &str, applied: &Applied) -> Result<(), ConnectorError> {
        let json = serde_json::to_string(applied).map_err(json_err)?;
        let n = self
            .conn
            .execute(
                "UPDATE actions SET state = 'applied', applied_json = ?2, error = NULL, updated_at = ?3
                 WHERE action_id = ?1",
                params![action_id, json, now_secs()],
            )
            .map_err(db_err)?;
        one_row(n, action_id)
    }

    pub fn fail(&self, action_id: &str, error: &str) -> Result<(), ConnectorError> {
        self.set_state(action_id, State::Failed, Some(error))
    }

    pub fn mark_verified(&self, action_id: &str) -> Result<(), ConnectorError> {
        self.set_state(action_id, State::Verified, None)
    }

    pub fn mark_undoing(&self, action_id: &str) -> Result<(), ConnectorError> {
        self.set_state(action_id, State::Undoing, None)
    }

    pub fn mark_undone(&self, action_id: &str) -> Result<(), ConnectorError> {
        self.set_state(action_id, State::Undone, None)
    }

    /// Rows a crash or an error may have left half-done: `applying`, `undoing`, and `failed`
    /// with a partial record.
    pub fn pending(&self) -> Result<Vec<Record>, ConnectorError> {
        self.select(
            "WHERE state IN ('applying', 'undoing') OR (state = 'failed' AND partial_json IS NOT NULL)",
        )
    }

    /// Every row, oldest first.
    pub fn all(&self) -> Result<Vec<Record>, ConnectorError> {
        self.select("")
    }

    fn select(&self, filter: &str) -> Result<Vec<Record>, ConnectorError> {
        let sql = format!(
            "SELECT request_json, connector, state, partial_json, applied_json, error
             FROM actions {filter} ORDER BY updated_at, action_id"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(db_err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            })
            .map_err(db_err)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(Self::to_record(row.map_err(db_err)?)?);
        }
        Ok(out)
    }
}

/// A [`Journal`] writing to the ledger row of one action.
#[derive(Debug)]
pub struct LedgerJournal<'a> {
    ledger: &'a Ledger,
    action_id: String,
    partial: Option<serde_json::Value>,
}

impl Journal for LedgerJournal<'_> {
    fn partial(&self) -> Option<&serde_json::Value> {
        self.partial.as_ref()
    }
    fn record(&mut self, partial: serde_json::Value) -> Result<(), ConnectorError> {
        self.ledger.record_partial(&self.action_id, &partial)?;
        self.partial = Some(partial);
        Ok(())
    }
}

/// begin → apply → finish. Returns the recorded result if the action is already applied
/// (idempotent); resumes an interrupted attempt with what it recorded.
pub fn run_apply(
    connector: &dyn Connector,
    ledger: &Ledger,
    req: &ActionRequest,
) -> Result<Applied, ConnectorError> {
    let partial = match ledger.begin(req, connector.name())? {
        Begin::Done(applied) => return Ok(*applied),
        Begin::Fresh => None,
        Begin::InProgress(rec) => rec.partial,
    };
    let mut journal = LedgerJournal {
        ledger,
        action_id: req.action_id.clone(),
        partial,
    };
    match connector.apply_journaled(req, &mut journal) {
        Ok(applied) => {
            ledger.finish(&req.action_id, &applied)?;
            Ok(applied)
        }
        Err(e) => {
            ledger.fail(&req.action_id, &e.to_string())?;
            Err(e)
        }
    }
}

/// An update that should have found its action's row.
fn one_row(n: usize, action_id: &str) -> Result<(), ConnectorError> {
    if n == 0 {
        return Err(ConnectorError::Ledger(format!(
            "unknown action {action_id}"
        )));
    }
    Ok(())
}

/// undoing → undo → undone.
pub fn run_undo(
    connector: &dyn Connector,
    ledger: &Ledger,
    applied: &Applied,
) -> Result<(), ConnectorError> {
    ledger.mark_undoing(&applied.action_id)?;
    connector.undo(applied)?;
    ledger.mark_undone(&applied.action_id)
}

/// What [`recover`] did with one half-done action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// The change was found (or completed) in place: now `applied`.
    Completed(String),
    /// The partial change was removed: now `undone`.
    Undone(String),
    /// Could not be resolved now (the row stays as it was; rerun later).
    Error(String, String),
}

/// For every half-done action of this connector, reads the real state through the connector
/// and either finishes the record as applied or undoes the partial change and marks it undone.
pub fn recover(
    connector: &dyn Connector,
    ledger: &Ledger,
) -> Result<Vec<Recovery>, ConnectorError> {
    let mut out = Vec::new();
    for rec in ledger.pending()? {
        if rec.connector != connector.name() || !connector.serves(&rec.request.identity) {
            continue;
        }
        let id = rec.request.action_id.clone();
        let result = match (rec.state, &rec.applied) {
            (State::Undoing, Some(applied)) => connector
                .undo(applied)
                .and_then(|()| ledger.mark_undone(&id))
                .map(|()| Recovery::Undone(id.clone())),
            _ => match connector.reconcile(&rec.request, rec.partial.as_ref()) {
                Ok(Some(applied)) => ledger
                    .finish(&id, &applied)
                    .map(|()| Recovery::Completed(id.clone())),
                Ok(None) => ledger
                    .mark_undone(&id)
                    .map(|()| Recovery::Undone(id.clone())),
                Err(e) => Err(e),
            },
        };
        out.push(result.unwrap_or_else(|e| Recovery::Error(id, e.to_string())));
    }
    Ok(out)
}
