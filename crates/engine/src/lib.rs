//! Identity resolution, classification and (later) baselines, signals and scoring. Every
//! function here is a pure function of its inputs plus explicit state: this crate does no IO.

pub mod classify;
pub mod inventory;
pub mod resolve;

pub use inventory::IdentityStore;
pub use resolve::{resolve, Resolved};
