//! Response connectors and the action ledger.
//!
//! Every connector implements [`Connector`]: `plan` (what would change, no side effect),
//! `apply` (idempotent: a retry with the same action id changes nothing twice), `verify` (read
//! the state back through the API), `undo` (restore what `apply` changed, from the recipe it
//! recorded). The [`ledger`] records intent before a call and the result after it, so a crash
//! in the middle of `apply` leaves a record from which a rerun completes or undoes the action.

pub mod action;
pub mod aws;
pub mod cases;
pub mod ladder;
pub mod ledger;
pub mod outcome;
pub mod vault;
pub mod webhook;

pub use action::{AccountRef, ActionRequest, Applied, ConnectorError, Plan};
pub use outcome::{OutcomeStatus, SweepWhat};

/// Where a connector writes what it has done so far inside one `apply`, so a rerun after a crash
/// can continue or clean up. [`ledger::Ledger`] provides the durable one; [`NoJournal`] keeps it in
/// memory.
pub trait Journal {
    /// What an earlier, interrupted attempt of this action recorded.
    fn partial(&self) -> Option<&serde_json::Value>;
    /// Records progress durably before the connector goes on.
    fn record(&mut self, partial: serde_json::Value) -> Result<(), ConnectorError>;
}

/// A [`Journal`] that only remembers in memory (plain `apply` without a ledger).
#[derive(Debug, Default)]
pub struct NoJournal(Option<serde_json::Value>);

impl Journal for NoJournal {
    fn partial(&self) -> Option<&serde_json::Value> {
        self.0.as_ref()
    }
    fn record(&mut self, partial: serde_json::Value) -> Result<(), ConnectorError> {
        self.0 = Some(partial);
        Ok(())
    }
}

/// A system Tripline can act on.
pub trait Connector {
    fn name(&self) -> &str;
    /// Whether this connector acts for `identity` at all (an AWS connector serves one account).
    /// [`ledger::recover`] leaves the records of identities it does not serve to the connector
    /// that does.
    fn serves(&self, identity: &str) -> bool {
        let _ = identity;
        true
    }
    /// The identity this connector itself acts as, when it is one Tripline could act on (the
    /// AWS response role): it is never changed automatically.
    fn acting_as(&self) -> Option<String> {
        None
    }
    /// What `apply` would do, without doing it.
    fn plan(&self, req: &ActionRequest) -> Result<Plan, ConnectorError>;
    /// Does it. Idempotent for the same `req.action_id`.
    fn apply(&self, req: &ActionRequest) -> Result<Applied, ConnectorError>;
    /// Reads the state back: is the change in place?
    fn verify(&self, applied: &Applied) -> Result<bool, ConnectorError>;
    /// Restores what `apply` changed.
    fn undo(&self, applied: &Applied) -> Result<(), ConnectorError>;
    /// Moves the end of an applied, time-boxed restriction to `expires_at` (Unix seconds), e.g.
    /// after an owner's `tripline case extend`, and returns the updated result for the ledger.
    fn extend(&self, applied: &Applied, expires_at: i64) -> Result<Applied, ConnectorError> {
        let _ = expires_at;
        Err(ConnectorError::Unsupported(format!(
            "extend {}",
            applied.kind
        )))
    }
    /// `apply` that records its progress in `journal` (and reads what an interrupted attempt
    /// recorded there). The default ignores the journal.
    fn apply_journaled(
        &self,
        req: &ActionRequest,
        journal: &mut dyn Journal,
    ) -> Result<Applied, ConnectorError> {
        let _ = journal;
        self.apply(req)
    }
    /// After a crash in the middle of `apply`: reads the real state and either returns the
    /// completed change (`Some`, the ledger marks it applied) or removes whatever part of the
    /// change is in place and returns `None` (the ledger marks it undone). `partial` is what the
    /// interrupted attempt recorded through its [`Journal`].
    fn reconcile(
        &self,
        req: &ActionRequest,
        partial: Option<&serde_json::Value>,
    ) -> Result<Option<Applied>, ConnectorError> {
        let _ = (req, partial);
        Ok(None)
    }
}
