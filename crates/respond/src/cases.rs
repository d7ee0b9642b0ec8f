//! Cases: one per identity and incident (DESIGN §4, hysteresis and de-duplication), with the
//! owner's say recorded.
//!
//! States: `open → awaiting_owner → restricted → contained → resolved | false_positive`.
//! The logic lives on [`Case`] (pure: time is passed in as Unix seconds); [`CaseBook`] persists
//! cases in SQLite, one row per case holding its JSON, with `(identity, incident)` unique.
//!
//! Who may act: the case's owner (as the owners file names it; the caller resolves it when the
//! case is opened) or an admin from [`CaseConfig::admins`]. Anyone else gets
//! [`CaseError::NotOwner`]. A case with no owner can be acted on by admins only.

use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;

pub use tripline_model::Tier;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    Open,
    AwaitingOwner,
    Restricted,
    Contained,
    Resolved,
    FalsePositive,
}

impl CaseState {
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Resolved | Self::FalsePositive)
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Open => "open",
            Self::AwaitingOwner => "awaiting_owner",
            Self::Restricted => "restricted",
            Self::Contained => "contained",
            Self::Resolved => "resolved",
            Self::FalsePositive => "false_positive",
        };
        f.write_str(s)
    }
}

/// What someone said or did on a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Verdict {
    Approved,
    Denied { reason: String },
    Extended { secs: u64, new_expiry: i64 },
    UndoRequested,
    Resolved { note: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub who: String,
    pub at: i64,
    #[serde(flatten)]
    pub verdict: Verdict,
}

/// An automatic tier raise, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub at: i64,
    pub from: Tier,
    pub to: Tier,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    pub id: String,
    pub identity: String,
    pub incident: String,
    pub owner: Option<String>,
    pub opened_at: i64,
    pub tier: Tier,
    /// The decision's one-line summary (tier, actions, top reasons).
    pub decision: String,
    pub state: CaseState,
    pub approvals: Vec<Approval>,
    /// When the owner must have answered; set on `request_owner`.
    pub owner_deadline: Option<i64>,
    /// When the current restriction ends by itself.
    pub restriction_expires_at: Option<i64>,
    /// Set by `undo`: the scheduler undoes the applied actions and clears the restriction.
    pub undo_requested: bool,
    pub escalations: Vec<Escalation>,
    /// The actions applied for this case (their ids in the action ledger), so that undo,
    /// expiry and extension reach the systems that were changed.
    #[serde(default)]
    pub actions: Vec<CaseAction>,
}

/// One applied action of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseAction {
    pub action_id: String,
    pub connector: String,
    pub kind: String,
    /// When a time-boxed restriction ends (Unix seconds); `None` for the rest.
    pub expires_at: Option<i64>,
}

/// Rules a case book applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseConfig {
    /// May act on any case.
    pub admins: Vec<String>,
    /// How long an owner has to answer.
    pub owner_window_secs: u64,
    /// A restriction may be extended to end at most this long after `now`.
    pub max_restriction_secs: u64,
}

impl Default for CaseConfig {
    fn default() -> Self {
        Self {
            admins: Vec::new(),
            owner_window_secs: 4 * 3600,
            max_restriction_secs: 24 * 3600,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CaseError {
    #[error("{who} may not act on case {case}: owner is {owner}")]
    NotOwner {
        who: String,
        case: String,
        owner: String,
    },
    #[error("case {case}: cannot {op} while {state}")]
    BadTransition {
        case: String,
        op: &'static str,
        state: CaseState,
    },
    #[error("case {case}: extension to {requested}s exceeds the maximum of {max}s")]
    ExtensionTooLong {
        case: String,
        requested: u64,
        max: u64,
    },
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("no such case: {0}")]
    NotFound(String),
    #[error("case store: {0}")]
    Store(String),
}

impl Case {
    /// A new case in state `open`.
    pub fn new(
        identity: &str,
        incident: &str,
        owner: Option<String>,
        tier: Tier,
        decision: &str,
        now: i64,
    ) -> Self {
        Self {
            id: format!("{identity}#{incident}"),
            identity: identity.to_string(),
            incident: incident.to_string(),
            owner,
            opened_at: now,
            tier,
            decision: decision.to_string(),
            state: CaseState::Open,
            approvals: Vec::new(),
            owner_deadline: None,
            restriction_expires_at: None,
            undo_requested: false,
            actions: Vec::new(),
            escalations: Vec::new(),
        }
    }

    fn bad(&self, op: &'static str) -> CaseError {
        CaseError::BadTransition {
            case: self.id.clone(),
            op,
            state: self.state,
        }
    }

    /// `who` is the owner or an admin.
    pub fn check_actor(&self, who: &str, cfg: &CaseConfig) -> Result<(), CaseError> {
        let is_owner = self.owner.as_deref() == Some(who);
        if is_owner || cfg.admins.iter().any(|a| a == who) {
            Ok(())
        } else {
            Err(CaseError::NotOwner {
                who: who.to_string(),
                case: self.id.clone(),
                owner: self
                    .owner
                    .clone()
                    .unwrap_or_else(|| "(none: admins only)".into()),
            })
        }
    }

    /// `open → awaiting_owner`, with the owner's deadline.
    pub fn request_owner(&mut self, now: i64, cfg: &CaseConfig) -> Result<(), CaseError> {
        if self.state != CaseState::Open {
            return Err(self.bad("request owner"));
        }
        self.state = CaseState::AwaitingOwner;
        self.owner_deadline = Some(now.saturating_add(secs(cfg.owner_window_secs)));
        Ok(())
    }

    /// Links an applied action to the case (once per action id) and moves the case along:
    /// a restriction makes it `restricted` until the latest expiry, a containment `contained`.
    pub fn record_action(&mut self, action: CaseAction) {
        if self.state.is_closed() || self.actions.iter().any(|a| a.action_id == action.action_id) {
            return;
        }
        match (action.kind.as_str(), action.expires_at) {
            ("contain", _) => {
                let _ = self.contain();
            }
            (_, Some(at)) if self.state != CaseState::Contained => {
                let until = self.restriction_expires_at.map_or(at, |e| e.max(at));
                self.state = CaseState::Restricted;
                self.restriction_expires_at = Some(until);
            }
            _ => {}
        }
        self.actions.push(action);
    }

    /// The restriction has run out: `restricted → open` (the case stays open for the incident;
    /// the next scan decides again).
    pub fn restriction_ended(&mut self) {
        if self.state == CaseState::Restricted {
            self.state = CaseState::Open;
        }
        self.restriction_expires_at = None;
    }

    /// The requested undo has been carried out.
    pub fn undo_done(&mut self) {
        self.undo_requested = false;
        self.restriction_expires_at = None;
        if matches!(self.state, CaseState::Restricted | CaseState::Contained) {
            self.state = CaseState::Open;
        }
    }

    /// The latest approval, if the last verdict on the case is one (a later denial or undo
    /// request withdraws it).
    pub fn standing_approval(&self) -> Option<&Approval> {
        self.approvals
            .iter()
            .rev()
            .find(|a| !matches!(a.verdict, Verdict::Extended { .. }))
            .filter(|a| a.verdict == Verdict::Approved)
    }

    /// `open | awaiting_owner → restricted`: a time-boxed restriction was applied.
    pub fn restrict(&mut self, expires_at: i64) -> Result<(), CaseError> {
        if !matches!(self.state, CaseState::Open | CaseState::AwaitingOwner) {
            return Err(self.bad("restrict"));
        }
        self.state = CaseState::Restricted;
        self.restriction_expires_at = Some(expires_at);
        Ok(())
    }

    /// `open | awaiting_owner | restricted → contained`.
    pub fn contain(&mut self) -> Result<(), CaseError> {
        if !matches!(
            self.state,
            CaseState::Open | CaseState::AwaitingOwner | CaseState::Restricted
        ) {
            return Err(self.bad("contain"));
        }
        self.state = CaseState::Contained;
        Ok(())
    }

    /// The owner approves the proposed response: `awaiting_owner → restricted` (or `contained`
    /// at the containment tier). On a case already restricted or contained it is recorded only.
    pub fn approve(&mut self, who: &str, now: i64, cfg: &CaseConfig) -> Result<(), CaseError> {
        self.check_actor(who, cfg)?;
        match self.state {
            CaseState::Open | CaseState::AwaitingOwner => {
                self.state = if self.tier >= Tier::Contain {
                    CaseState::Contained
                } else {
                    CaseState::Restricted
                };
            }
            CaseState::Restricted | CaseState::Contained => {}
            CaseState::Resolved | CaseState::FalsePositive => return Err(self.bad("approve")),
        }
        self.approvals.push(Approval {
            who: who.into(),
            at: now,
            verdict: Verdict::Approved,
        });
        Ok(())
    }

    /// The owner says the activity was legitimate: any open state `→ false_positive`. Anything
    /// applied is to be undone, so `undo_requested` is set when a restriction was in place.
    pub fn deny(
        &mut self,
        who: &str,
        reason: &str,
        now: i64,
        cfg: &CaseConfig,
    ) -> Result<(), CaseError> {
        self.check_actor(who, cfg)?;
        if reason.trim().is_empty() {
            return Err(CaseError::Invalid("deny needs a reason".into()));
        }
        if self.state.is_closed() {
            return Err(self.bad("deny"));
        }
        if matches!(self.state, CaseState::Restricted | CaseState::Contained) {
            self.undo_requested = true;
        }
        self.state = CaseState::FalsePositive;
        self.approvals.push(Approval {
            who: who.into(),
            at: now,
            verdict: Verdict::Denied {
                reason: reason.into(),
            },
        });
        Ok(())
    }

    /// Extends a restriction by `secs` from its current expiry (or from now if that has passed),
    /// to end no later than `now + max_restriction_secs`.
    pub fn extend(
        &mut self,
        who: &str,
        add_secs: u64,
        now: i64,
        cfg: &CaseConfig,
    ) -> Result<i64, CaseError> {
        self.check_actor(who, cfg)?;
        if self.state != CaseState::Restricted {
            return Err(self.bad("extend"));
        }
        let from = self.restriction_expires_at.unwrap_or(now).max(now);
        let new_expiry = from.saturating_add(secs(add_secs));
        let requested = u64::try_from(new_expiry.saturating_sub(now)).unwrap_or(0);
        if requested > cfg.max_restriction_secs {
            return Err(CaseError::ExtensionTooLong {
                case: self.id.clone(),
                requested,
                max: cfg.max_restriction_secs,
            });
        }
        self.restriction_expires_at = Some(new_expiry);
        self.approvals.push(Approval {
            who: who.into(),
            at: now,
            verdict: Verdict::Extended {
                secs: add_secs,
                new_expiry,
            },
        });
        Ok(new_expiry)
    }

    /// Marks the applied response for undo (the scheduler performs it from the ledger).
    pub fn undo(&mut self, who: &str, now: i64, cfg: &CaseConfig) -> Result<(), CaseError> {
        self.check_actor(who, cfg)?;
        if !matches!(self.state, CaseState::Restricted | CaseState::Contained) {
            return Err(self.bad("undo"));
        }
        self.undo_requested = true;
        self.approvals.push(Approval {
            who: who.into(),
            at: now,
            verdict: Verdict::UndoRequested,
        });
        Ok(())
    }

    /// `restricted | contained → resolved`.
    pub fn resolve(
        &mut self,
        who: &str,
        note: &str,
        now: i64,
        cfg: &CaseConfig,
    ) -> Result<(), CaseError> {
        self.check_actor(who, cfg)?;
        if !matches!(self.state, CaseState::Restricted | CaseState::Contained) {
            return Err(self.bad("resolve"));
        }
        self.state = CaseState::Resolved;
        self.approvals.push(Approval {
            who: who.into(),
            at: now,
            verdict: Verdict::Resolved { note: note.into() },
        });
        Ok(())
    }

    /// An owner silent past the deadline: the case goes up one tier, the reason is recorded, and
    /// the owner gets a new window (so continued silence escalates again, up to `contain`).
    /// Returns whether it escalated.
    pub fn escalate_if_overdue(&mut self, now: i64, cfg: &CaseConfig) -> bool {
        let Some(deadline) = self.owner_deadline else {
            return false;
        };
        if self.state != CaseState::AwaitingOwner || now <= deadline {
            return false;
        }
        let from = self.tier;
        let to = from.next();
        self.escalations.push(Escalation {
            at: now,
            from,
            to,
            why: format!(
                "owner {} did not answer by {deadline} (silent {}s past the deadline)",
                self.owner.as_deref().unwrap_or("(none)"),
                now.saturating_sub(deadline)
            ),
        });
        self.tier = to;
        self.owner_deadline = Some(now.saturating_add(secs(cfg.owner_window_secs)));
        true
    }
}

fn secs(s: u64) -> i64 {
    i64::try_from(s).unwrap_or(i64::MAX)
}

/// Cases in SQLite.
#[derive(Debug)]
pub struct CaseBook {
    conn: Connection,
    pub config: CaseConfig,
}

fn db(e: rusqlite::Error) -> CaseError {
    CaseError::Store(e.to_string())
}

impl CaseBook {
    pub fn open(path: &Path, config: CaseConfig) -> Result<Self, CaseError> {
        Self::init(Connection::open(path).map_err(db)?, config)
    }

    pub fn open_in_memory(config: CaseConfig) -> Result<Self, CaseError> {
        Self::init(Connection::open_in_memory().map_err(db)?, config)
    }

    fn init(conn: Connection, config: CaseConfig) -> Result<Self, CaseError> {
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS cases (
                id TEXT PRIMARY KEY,
                identity TEXT NOT NULL,
                incident TEXT NOT NULL,
                state TEXT NOT NULL,
                body TEXT NOT NULL,
                UNIQUE (identity, incident)
            );",
        )
        .map_err(db)?;
        Ok(Self { conn, config })
    }

    /// The case for this identity and incident: the existing one, or a new `open` case.
    pub fn open_case(
        &self,
        identity: &str,
        incident: &str,
        owner: Option<String>,
        tier: Tier,
        decision: &str,
        now: i64,
    ) -> Result<Case, CaseError> {
        let existing: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM cases WHERE identity = ?1 AND incident = ?2",
                params![identity, incident],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        if let Some(body) = existing {
            return parse(&body);
        }
        let case = Case::new(identity, incident, owner, tier, decision, now);
        self.save(&case)?;
        Ok(case)
    }

    pub fn get(&self, id: &str) -> Result<Case, CaseError> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM cases WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)?;
        parse(&body.ok_or_else(|| CaseError::NotFound(id.to_string()))?)
    }

    pub fn save(&self, case: &Case) -> Result<(), CaseError> {
        let body = serde_json::to_string(case).map_err(|e| CaseError::Store(e.to_string()))?;
        self.conn
            .execute(
                "INSERT INTO cases (id, identity, incident, state, body) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id) DO UPDATE SET state = excluded.state, body = excluded.body",
                params![case.id, case.identity, case.incident, case.state.to_string(), body],
            )
            .map_err(db)?;
        Ok(())
    }

    /// All cases, by id.
    pub fn list(&self) -> Result<Vec<Case>, CaseError> {
        let mut stmt = self
            .conn
            .prepare("SELECT body FROM cases ORDER BY id")
            .map_err(db)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(parse(&row.map_err(db)?)?);
        }
        Ok(out)
    }

    fn update<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Case, &CaseConfig) -> Result<T, CaseError>,
    ) -> Result<T, CaseError> {
        let mut case = self.get(id)?;
        let out = f(&mut case, &self.config)?;
        self.save(&case)?;
        Ok(out)
    }

    pub fn request_owner(&self, id: &str, now: i64) -> Result<(), CaseError> {
        self.update(id, |c, cfg| c.request_owner(now, cfg))
    }

    pub fn restrict(&self, id: &str, expires_at: i64) -> Result<(), CaseError> {
        self.update(id, |c, _| c.restrict(expires_at))
    }

    pub fn contain(&self, id: &str) -> Result<(), CaseError> {
        self.update(id, |c, _| c.contain())
    }

    pub fn approve(&self, id: &str, who: &str, now: i64) -> Result<(), CaseError> {
        self.update(id, |c, cfg| c.approve(who, now, cfg))
    }

    pub fn deny(&self, id: &str, who: &str, reason: &str, now: i64) -> Result<(), CaseError> {
        self.update(id, |c, cfg| c.deny(who, reason, now, cfg))
    }

    /// Returns the new expiry.
    pub fn extend(&self, id: &str, who: &str, secs: u64, now: i64) -> Result<i64, CaseError> {
        self.update(id, |c, cfg| c.extend(who, secs, now, cfg))
    }

    pub fn record_action(&self, id: &str, action: CaseAction) -> Result<(), CaseError> {
        self.update(id, |c, _| {
            c.record_action(action);
            Ok(())
        })
    }

    pub fn restriction_ended(&self, id: &str) -> Result<(), CaseError> {
        self.update(id, |c, _| {
            c.restriction_ended();
            Ok(())
        })
    }

    pub fn undo_done(&self, id: &str) -> Result<(), CaseError> {
        self.update(id, |c, _| {
            c.undo_done();
            Ok(())
        })
    }

    pub fn undo(&self, id: &str, who: &str, now: i64) -> Result<(), CaseError> {
        self.update(id, |c, cfg| c.undo(who, now, cfg))
    }

    pub fn resolve(&self, id: &str, who: &str, note: &str, now: i64) -> Result<(), CaseError> {
        self.update(id, |c, cfg| c.resolve(who, note, now, cfg))
    }

    /// Escalates every case whose owner is past the deadline; returns their ids.
    pub fn escalate_overdue(&self, now: i64) -> Result<Vec<String>, CaseError> {
        let mut escalated = Vec::new();
        for mut case in self.list()? {
            if case.escalate_if_overdue(now, &self.config) {
                self.save(&case)?;
                escalated.push(case.id);
            }
        }
        Ok(escalated)
    }
}

fn parse(body: &str) -> Result<Case, CaseError> {
    serde_json::from_str(body).map_err(|e| CaseError::Store(format!("corrupt case: {e}")))
}
