//! Tripline's evidence ledger: append-only and tamper-evident.
//!
//! Every record (input summary, signal, score, policy version, decision, approval, action,
//! note) is one row of a SHA-256 hash chain in an embedded SQLite file. Each record's hash
//! covers its seq, time, kind, subject, canonical JSON body and the previous record's hash (the
//! definition is in [`chain`]), so altering, deleting, inserting or reordering any record breaks
//! the chain at that record, and [`Evidence::verify`] names it. [`Evidence::export`] writes a
//! bundle (JSON Lines and a manifest) that [`verify_bundle`] checks on another machine without
//! SQLite.
//!
//! # Guarantees, and their limits
//!
//! * **Atomic appends.** [`Evidence::append`] writes one record and [`Evidence::append_batch`]
//!   many, each in one SQLite transaction: a crash or `kill -9` at any point leaves the whole
//!   record (or batch) or none of it, and the chain still verifies. With WAL and
//!   `synchronous=FULL` a committed append survives power loss too.
//! * **Append-only in SQL.** Triggers abort `UPDATE` and `DELETE` on records, inserts that do not
//!   extend the chain (so `INSERT OR REPLACE` cannot overwrite), and any move of the head marker
//!   other than one step forward. They stop mistakes and ordinary SQL clients, not someone who
//!   edits the file: that is what `verify` is for.
//! * **Tamper evidence.** `verify` recomputes every hash and link in seq order, then compares
//!   the chain's end with the head marker, which catches records removed from the end.
//! * **What a hash chain cannot show alone.** Someone able to rewrite the file can recompute the
//!   chain from any record on (and the head marker with it). [`Evidence::sign_head`] signs the
//!   head with an Ed25519 key kept outside the store ([`sign`]); `verify` then reports a chain
//!   rewritten or truncated at or before any signed head. Records after the last signed head
//!   are reported as unsigned.
//! * **Read-only verification.** [`Evidence::open_read_only`] never writes the file (no schema
//!   or trigger re-creation) and refuses, as damage, an empty file, a file that is not SQLite,
//!   a file shorter than its header says, and a database without the ledger's tables.

pub mod bundle;
mod canonical;
pub mod chain;
mod error;
mod kind;
mod ledger;
pub mod sign;

pub use bundle::{verify_bundle, verify_bundle_bytes, verify_bundle_with, ExportSummary, Manifest};
pub use canonical::canonical_json;
pub use chain::{record_hash, sha256_hex, Problem, VerifyReport, GENESIS_HASH};
pub use error::StoreError;
pub use kind::{
    Action, Approval, Body, Contribution, Decision, InputSummary, Kind, Note, Phase, PolicyVersion,
    Score,
};
pub use ledger::{Appended, Entry, Evidence, Record, RecordFilter, SCHEMA_VERSION};
pub use sign::{
    KeyFiles, PublicKey, SignatureProblem, SignatureReport, SignedHead, SigningKey, Verification,
    VerifyOptions,
};
