//! Identity resolution, baselines, signals and scoring. Every function here is a pure function
//! of its inputs plus explicit state: this crate does no IO.

pub mod backtest;
pub mod baseline;
pub mod catalog;
pub mod classify;
pub mod detect;
pub mod engine;
pub mod features;
pub mod intern;
pub mod inventory;
pub mod netinfo;
pub mod privilege;
pub mod resolve;
pub mod score;

pub use engine::{Detection, Engine, EngineConfig, Report};
pub use inventory::IdentityStore;
pub use resolve::{resolve, Resolved};
