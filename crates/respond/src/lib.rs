//! Response connectors and the action ledger.
//!
//! Every connector implements [`Connector`]: `plan` (what would change, no side effect),
//! `apply` (idempotent: a retry with the same action id changes nothing twice), `verify` (read
//! the state back through the API), `undo` (restore what `apply` changed, from the recipe it
//! recorded). The [`ledger`] records intent before a call and the result after it, so a crash
//! in the middle of `apply` leaves a record from which a rerun completes or undoes the action.

pub mod action;

pub use action::{ActionRequest, Applied, ConnectorError, Plan};

/// A system Tripline can act on.
pub trait Connector {
    fn name(&self) -> &str;
    /// What `apply` would do, without doing it.
    fn plan(&self, req: &ActionRequest) -> Result<Plan, ConnectorError>;
    /// Does it. Idempotent for the same `req.action_id`.
    fn apply(&self, req: &ActionRequest) -> Result<Applied, ConnectorError>;
    /// Reads the state back: is the change in place?
    fn verify(&self, applied: &Applied) -> Result<bool, ConnectorError>;
    /// Restores what `apply` changed.
    fn undo(&self, applied: &Applied) -> Result<(), ConnectorError>;
}
