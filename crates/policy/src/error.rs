//! Typed errors: a policy that cannot be trusted fails loudly, at load, with the place to fix.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A reference in a policy to a field the input (or data document) does not have. Rego treats
/// such a reference as undefined, i.e. false, which silently disables the rule using it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField {
    /// Policy file name as given at load.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The reference as written, normalized (`input.scroe`, `s.severty` via an alias).
    pub reference: String,
    /// The first path component that does not exist.
    pub field: String,
    /// Where the lookup went wrong (`input`, `input.signals[_]`, `data.escalation`).
    pub parent: String,
    /// Fields that do exist at `parent` (empty when `parent` is not an object).
    pub known: Vec<String>,
    /// Extra explanation (e.g. "`signals` is an array: index it").
    pub note: Option<String>,
}

impl fmt::Display for UnknownField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: unknown field `{}` in `{}` (at `{}`",
            self.file, self.line, self.field, self.reference, self.parent
        )?;
        if !self.known.is_empty() {
            write!(f, "; known: {}", self.known.join(", "))?;
        }
        write!(f, ")")?;
        if let Some(note) = &self.note {
            write!(f, ": {note}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong loading or evaluating a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("policy {file} does not compile: {detail}")]
    Compile { file: String, detail: String },
    #[error("no policy files given")]
    NoPolicy,
    #[error("policy references fields that do not exist (Rego would treat them as undefined, silently disabling rules):\n  {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    UnknownFields(Vec<UnknownField>),
    #[error("policy rules depend on themselves (evaluation would recurse without end):\n  {}", .0.join("\n  "))]
    Recursion(Vec<String>),
    #[error("policy calls builtins whose result size cannot be bounded:\n  {}", .0.join("\n  "))]
    UnboundedBuiltin(Vec<String>),
    #[error("invalid policy data: {0}")]
    Data(String),
    #[error("policy decision has the wrong shape: {0}")]
    DecisionShape(String),
    #[error("the policy gives no decision for this input ({rule} is undefined)")]
    DecisionUndefined { rule: String },
    #[error("load-time canary `{canary}` failed: {source}")]
    Canary {
        canary: String,
        source: Box<PolicyError>,
    },
    #[error("policy evaluation failed: {0}")]
    Eval(String),
    #[error("policy evaluation exceeded its time limit ({elapsed:?} > {limit:?})")]
    TimeLimit { elapsed: Duration, limit: Duration },
    #[error("policy evaluation exceeded its instruction limit ({limit})")]
    InstructionLimit { limit: usize },
    #[error("policy evaluation exceeded its memory budget of {limit} bytes (used {usage})")]
    MemoryLimit { usage: u64, limit: u64 },
    #[error("decision input rejected: {0}")]
    Input(String),
}
