//! Bounded readers for the data security teams have: CloudTrail, Kubernetes audit, IAM
//! inventory, owners files. Readers never panic on input and never abort a run over one bad
//! record: they return it as [`tripline_model::Rejected`] with a reason.

pub mod feedback;
pub mod inventory;
pub mod labels;
pub mod limits;
pub mod logs;
pub mod netdata;

pub use limits::Limits;
pub use logs::{Item, LogReader, ReadStats};
