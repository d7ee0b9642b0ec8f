//! Escalation policy as code: Rego (via `regorus`) decides a proportionate, reversible response
//! for each scored identity; Rust checks the policy at load, bounds its evaluation and applies
//! guardrails it cannot override.
//!
//! ```text
//! DecisionInput ──► PolicyEngine::evaluate ──► Decision (policy's tier, actions, reasons)
//!                   (Rego, time-limited)              │
//!                                                     ▼
//!                   guardrails::apply_guardrails ──► Decision (hysteresis, approvals,
//!                   (PolicyEngine::decide)            expiries, undo, plan/apply)
//! ```
//!
//! **Load-time checks** (a policy that cannot be trusted never evaluates): every file compiles;
//! the decision rule exists and compiles to regorus's VM; every `input.…` reference (and every
//! reference into the data document's top-level keys, following simple aliases) names a field
//! that exists, else [`PolicyError::UnknownFields`] with file, line and field; the data's tiers,
//! per-class thresholds and hysteresis margin are valid; canary inputs produce a decision of the
//! required shape, and the VM and the interpreter agree on them.
//!
//! **Limits** ([`Limits`]), per evaluation: instructions (RVM instruction counter) and
//! wall-clock time (regorus's cooperative timer, re-checked on return), both aborting the
//! evaluation with a typed error; input size (signals, string lengths, serialized bytes) and
//! value ranges, checked before evaluation; output size (actions, reasons, text length), checked
//! after. Policy and data files are capped at [`MAX_FILE_BYTES`] (policy text also by regorus's
//! length limits: 1 MiB, 20,000 lines, 1,024 columns). Memory: every evaluation runs under a
//! budget of [`Limits::max_eval_bytes`] of new allocations (regorus's
//! `allocator-memory-limits` feature, which makes mimalloc the process's global allocator and
//! counts what the VM allocates); a builtin such as `numbers.range(1, 1e9)` that would take
//! gigabytes in a few instructions fails with [`PolicyError::MemoryLimit`] instead.

mod check;
mod data;
mod decision;
mod error;
pub mod guardrails;
mod input;
mod testing;

pub use data::{ThresholdTable, Thresholds};
pub use decision::{Action, ActionKind, ActionStatus, Decision, Tier};

/// Validates a policy's raw JSON output into a [`Decision`] (what evaluation does with the
/// decision rule's value): exact keys, known tiers and actions, bounded sizes. Public for the
/// fuzz target and for tools that store raw policy output.
pub fn parse_decision(output: &Json, policy_version: &str) -> Result<Decision, PolicyError> {
    decision::from_policy_output(output, policy_version)
}
pub use error::{PolicyError, UnknownField};
pub use guardrails::{
    apply_guardrails, apply_hysteresis, case_key, Approval, CaseKey, CaseState, GuardrailConfig,
    GuardrailContext, Hysteresis, Mode,
};
pub use input::{input_fields, DecisionInput, InputIdentity, InputSignal};
pub use testing::{
    run_default_policy_tests, run_policy_tests, TestOutcome, TestReport, TestResult,
};

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::program::Program;
use regorus::rvm::vm::{RegoVM, VmError};
use regorus::utils::limits::ExecutionTimerConfig;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};
use std::fmt;
use std::num::NonZeroU32;
use std::num::NonZeroU64;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tripline_model::{Driver, Drivers, IdentityClass, IdentityKind, Level, Severity};

/// The default policy, its unit tests and its data, shipped in the binary.
pub const DEFAULT_POLICY: &str = include_str!("../policies/default.rego");
pub const DEFAULT_TESTS: &str = include_str!("../policies/default_test.rego");
pub const DEFAULT_DATA: &str = include_str!("../policies/default-data.json");

/// The rule every escalation policy must define.
pub const DECISION_RULE: &str = "data.tripline.escalation.decision";

/// Largest policy or data file read from disk.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Bounds on one evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock limit per evaluation (enforced inside regorus, re-checked after). A backstop
    /// for runaway policies, generous because wall time depends on machine load; the
    /// deterministic bound is `max_instructions`.
    pub eval_time: Duration,
    /// Instructions per evaluation (regorus's RVM; the default policy needs about a thousand
    /// for a typical input and well under the cap for the largest input allowed).
    pub max_instructions: usize,
    /// Bytes one evaluation may allocate (regorus's per-execution memory budget).
    pub max_eval_bytes: u64,
    /// Serialized input size.
    pub max_input_bytes: usize,
    pub max_signals: usize,
    /// Identity id, owner, environment, signal code.
    pub max_string_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            eval_time: Duration::from_secs(1),
            max_instructions: 250_000,
            max_eval_bytes: 64 * 1024 * 1024,
            max_input_bytes: 64 * 1024,
            max_signals: 256,
            max_string_bytes: 1024,
        }
    }
}

/// One policy file: a name (for messages) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySource {
    pub name: String,
    pub text: String,
}

/// A loaded, checked policy with its data.
pub struct PolicyEngine {
    vm: Mutex<RegoVM>,
    program: Arc<Program>,
    data_value: regorus::Value,
    sources: Vec<PolicySource>,
    data: Json,
    table: ThresholdTable,
    version: String,
    limits: Limits,
}

impl fmt::Debug for PolicyEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyEngine")
            .field(
                "sources",
                &self.sources.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .field("version", &self.version)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Clone for PolicyEngine {
    fn clone(&self) -> Self {
        // The program and data were accepted together at load, so `new_vm` cannot fail here; if
        // it did, the clone's VM has no data and every evaluation reports the error.
        let vm = new_vm(&self.program, &self.data_value, &self.limits).unwrap_or_else(|_| {
            let mut vm = RegoVM::new();
            vm.load_program(self.program.clone());
            vm
        });
        Self {
            vm: Mutex::new(vm),
            program: self.program.clone(),
            data_value: self.data_value.clone(),
            sources: self.sources.clone(),
            data: self.data.clone(),
            table: self.table.clone(),
            version: self.version.clone(),
            limits: self.limits.clone(),
        }
    }
}

pub(crate) fn read_bounded(path: &Path) -> Result<String, PolicyError> {
    let io = |source| PolicyError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_FILE_BYTES {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{len} bytes, over the {MAX_FILE_BYTES}-byte cap"),
        )));
    }
    std::fs::read_to_string(path).map_err(io)
}

pub(crate) fn default_data() -> Result<Json, PolicyError> {
    serde_json::from_str(DEFAULT_DATA).map_err(|e| PolicyError::Data(format!("default data: {e}")))
}

const TIMER_CHECK_INTERVAL: NonZeroU32 = match NonZeroU32::new(32) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// A regorus engine with the sources and data added and the limits set.
pub(crate) fn new_engine(
    sources: &[PolicySource],
    data: &Json,
    limits: &Limits,
) -> Result<regorus::Engine, PolicyError> {
    let mut engine = regorus::Engine::new();
    // Builtin errors (e.g. a type error in sprintf) are errors, not undefined: fail loudly.
    engine.set_strict_builtin_errors(true);
    engine.set_execution_timer_config(ExecutionTimerConfig {
        limit: limits.eval_time,
        check_interval: TIMER_CHECK_INTERVAL,
    });
    for s in sources {
        engine
            .add_policy(s.name.clone(), s.text.clone())
            .map_err(|e| PolicyError::Compile {
                file: s.name.clone(),
                detail: e.to_string(),
            })?;
    }
    if !data.is_object() {
        return Err(PolicyError::Data(
            "the data document must be an object".into(),
        ));
    }
    engine
        .add_data(regorus::Value::from(data.clone()))
        .map_err(|e| PolicyError::Data(e.to_string()))?;
    Ok(engine)
}

/// A VM with the program and data loaded and the limits set.
fn new_vm(
    program: &Arc<Program>,
    data: &regorus::Value,
    limits: &Limits,
) -> Result<RegoVM, PolicyError> {
    let mut vm = RegoVM::new();
    vm.load_program(program.clone());
    vm.set_max_instructions(limits.max_instructions);
    vm.set_execution_timer_config(Some(ExecutionTimerConfig {
        limit: limits.eval_time,
        check_interval: TIMER_CHECK_INTERVAL,
    }));
    vm.set_strict_builtin_errors(true);
    vm.set_memory_budget_config(Some(regorus::MemoryBudgetConfig {
        limit: std::num::NonZeroU64::new(limits.max_eval_bytes.max(1)).unwrap_or(NonZeroU64::MIN),
    }));
    // Fails when a data key collides with a rule path.
    vm.set_data(data.clone())
        .map_err(|e| PolicyError::Data(e.to_string()))?;
    Ok(vm)
}

/// Stack of the thread an evaluation runs on: a backstop behind the load-time recursion check
/// (and regorus's compile-time one). regorus's VM recurses natively on rule calls and counts
/// few instructions per call, so a recursion that reached it would overflow the caller's
/// 8 MiB stack (an abort) long before the instruction limit; on this stack the time limit ends
/// it first (measured in a debug build: ~580 MB of stack touched in the 1 s limit). Only the
/// pages used are committed.
pub const EVAL_STACK_BYTES: usize = 1024 * 1024 * 1024;

fn execute_on_eval_stack(vm: &mut RegoVM) -> Result<regorus::Value, VmError> {
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("policy-eval".into())
            .stack_size(EVAL_STACK_BYTES)
            .spawn_scoped(scope, || vm.execute());
        match worker {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(VmError::Internal {
                    message: "the policy evaluation thread panicked".into(),
                    pc: 0,
                })
            }),
            // No thread (resource limits): an error for this evaluation, not an unguarded stack.
            Err(e) => Err(VmError::Internal {
                message: format!("cannot start the policy evaluation thread: {e}"),
                pc: 0,
            }),
        }
    })
}

/// JSON with object keys sorted, for a stable version hash whatever serde_json's map order.
fn canonical_json(v: &Json, out: &mut String) {
    match v {
        Json::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Json::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = m.get(k) {
                    canonical_json(v, out);
                }
            }
            out.push('}');
        }
        Json::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn policy_version(sources: &[PolicySource], data: &Json) -> String {
    let mut h = Sha256::new();
    for s in sources {
        h.update(s.text.as_bytes());
        h.update([0u8]);
    }
    let mut canon = String::new();
    canonical_json(data, &mut canon);
    h.update(b"data\0");
    h.update(canon.as_bytes());
    let digest = h.finalize();
    let mut hex = String::with_capacity(7 + 64);
    hex.push_str("sha256:");
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// Checks on the policy text that must pass before anything compiles or evaluates: no rule
/// that depends on itself, no builtin whose result the memory budget cannot bound.
pub(crate) fn static_checks(sources: &[PolicySource]) -> Result<(), PolicyError> {
    let texts: Vec<(&str, &str)> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.text.as_str()))
        .collect();
    let cycles = check::recursion(&texts);
    if !cycles.is_empty() {
        return Err(PolicyError::Recursion(cycles));
    }
    let unbounded: Vec<String> = sources
        .iter()
        .flat_map(|s| check::unbounded_builtins(&s.name, &s.text))
        .collect();
    if !unbounded.is_empty() {
        return Err(PolicyError::UnboundedBuiltin(unbounded));
    }
    Ok(())
}

/// One input per identity class and tier: the score at that tier's threshold for the class, the
/// identity held at that tier before, the signals of every driver.
fn class_tier_canaries(table: &ThresholdTable) -> Vec<(String, DecisionInput)> {
    let hot = canaries()
        .into_iter()
        .find(|(n, _)| *n == "hot")
        .map(|(_, i)| i.signals)
        .unwrap_or_default();
    let mut out = Vec::new();
    for class in IdentityClass::ALL {
        for tier in Tier::ALL {
            let score = table.for_class(class).threshold(tier).clamp(0.0, 100.0);
            let level = Level::of(score);
            let d = score / 100.0;
            out.push((
                format!("{}/{}", class.as_str(), tier.as_str()),
                DecisionInput {
                    identity: InputIdentity {
                        id: "canary".into(),
                        kind: IdentityKind::ServiceAccount,
                        class,
                        owner: Some("owner@example.com".into()),
                        environment: Some("prod".into()),
                    },
                    score,
                    level,
                    drivers: Drivers {
                        privilege: d,
                        exposure: d,
                        behaviour: d,
                    },
                    signals: if tier == Tier::Observe {
                        Vec::new()
                    } else {
                        hot.clone()
                    },
                    previous_tier: Some(tier),
                },
            ));
        }
    }
    out
}

/// Synthetic inputs evaluated at load: the decision must exist and have the required shape.
fn canaries() -> [(&'static str, DecisionInput); 3] {
    let identity = |class| InputIdentity {
        id: "canary".into(),
        kind: IdentityKind::ServiceAccount,
        class,
        owner: None,
        environment: None,
    };
    let signal = |code: &str, driver, severity, points| InputSignal {
        code: code.into(),
        driver,
        severity,
        points,
    };
    [
        (
            "quiet",
            DecisionInput {
                identity: identity(IdentityClass::Unclassified),
                score: 0.0,
                level: Level::Low,
                drivers: Drivers::default(),
                signals: Vec::new(),
                previous_tier: None,
            },
        ),
        (
            "hot",
            DecisionInput {
                identity: identity(IdentityClass::AdminFacing),
                score: 97.0,
                level: Level::Critical,
                drivers: Drivers {
                    privilege: 0.9,
                    exposure: 0.9,
                    behaviour: 0.95,
                },
                signals: vec![
                    signal("PRIV_ADMIN", Driver::Privilege, Severity::High, 20.0),
                    signal(
                        "EXP_CREDENTIAL_OFF_WORKLOAD",
                        Driver::Exposure,
                        Severity::Critical,
                        20.0,
                    ),
                    signal("BEH_DENIED_BURST", Driver::Behaviour, Severity::High, 15.0),
                    signal("BEH_ENUMERATION", Driver::Behaviour, Severity::High, 15.0),
                    signal(
                        "BEH_SENSITIVE_ACTION",
                        Driver::Behaviour,
                        Severity::High,
                        15.0,
                    ),
                    signal(
                        "BEH_VOLUME_SPIKE",
                        Driver::Behaviour,
                        Severity::Medium,
                        12.0,
                    ),
                ],
                previous_tier: Some(Tier::Notify),
            },
        ),
        (
            "scale_up",
            DecisionInput {
                identity: identity(IdentityClass::Telemetry),
                score: 50.0,
                level: Level::High,
                drivers: Drivers {
                    privilege: 0.3,
                    exposure: 0.0,
                    behaviour: 0.2,
                },
                signals: vec![signal(
                    "CTX_SCALE_UP",
                    Driver::Behaviour,
                    Severity::Info,
                    50.0,
                )],
                previous_tier: Some(Tier::Contain),
            },
        ),
    ]
}

impl PolicyEngine {
    /// The shipped policy with its shipped data.
    pub fn default_policy() -> Result<Self, PolicyError> {
        Self::from_sources(
            vec![PolicySource {
                name: "default.rego".into(),
                text: DEFAULT_POLICY.into(),
            }],
            default_data()?,
            Limits::default(),
        )
    }

    /// Policies from files, with a data file (`None`: the default data).
    pub fn from_files<P: AsRef<Path>>(
        policy_paths: &[P],
        data_path: Option<&Path>,
    ) -> Result<Self, PolicyError> {
        let sources = policy_paths
            .iter()
            .map(|p| {
                let p = p.as_ref();
                Ok(PolicySource {
                    name: p.display().to_string(),
                    text: read_bounded(p)?,
                })
            })
            .collect::<Result<Vec<_>, PolicyError>>()?;
        let data = match data_path {
            Some(p) => serde_json::from_str(&read_bounded(p)?)
                .map_err(|e| PolicyError::Data(format!("{}: {e}", p.display())))?,
            None => default_data()?,
        };
        Self::from_sources(sources, data, Limits::default())
    }

    /// Policies and data already in memory. Runs every load-time check.
    pub fn from_sources(
        sources: Vec<PolicySource>,
        data: Json,
        limits: Limits,
    ) -> Result<Self, PolicyError> {
        if sources.is_empty() {
            return Err(PolicyError::NoPolicy);
        }
        let table = data::parse(&data)?;
        static_checks(&sources)?;
        let mut engine = new_engine(&sources, &data, &limits)?;
        let unknown: Vec<UnknownField> = sources
            .iter()
            .flat_map(|s| check::check_references(&s.name, &s.text, &data))
            .collect();
        if !unknown.is_empty() {
            return Err(PolicyError::UnknownFields(unknown));
        }
        // Compile the decision rule to regorus's VM (fast, instruction-limited). The rule must
        // exist: a policy without it is rejected here.
        let entry: regorus::Rc<str> = DECISION_RULE.into();
        let compile_err = |e: String| PolicyError::Compile {
            file: sources
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            detail: format!("{DECISION_RULE}: {e}"),
        };
        let compiled = engine
            .compile_with_entrypoint(&entry)
            .map_err(|e| compile_err(e.to_string()))?;
        let program = Compiler::compile_from_policy(&compiled, &[DECISION_RULE])
            .map_err(|e| compile_err(e.to_string()))?;
        let data_value = regorus::Value::from(data.clone());
        let vm = new_vm(&program, &data_value, &limits)?;
        let version = policy_version(&sources, &data);
        let this = Self {
            vm: Mutex::new(vm),
            program,
            data_value,
            sources,
            data,
            table,
            version,
            limits,
        };
        // Canaries: a decision of the required shape, and the VM agrees with the interpreter.
        for (name, input) in canaries() {
            let canary = |e| PolicyError::Canary {
                canary: name.to_string(),
                source: Box::new(e),
            };
            let decision = this.evaluate(&input).map_err(canary)?;
            let json = serde_json::to_string(&input)
                .map_err(|e| canary(PolicyError::Input(e.to_string())))?;
            let value = regorus::Value::from_json_str(&json)
                .map_err(|e| canary(PolicyError::Input(e.to_string())))?;
            engine.set_input(value);
            let interpreted = engine
                .eval_rule(DECISION_RULE.to_string())
                .map_err(|e| canary(PolicyError::Eval(e.to_string())))?;
            let interpreted = serde_json::to_value(&interpreted)
                .map_err(|e| canary(PolicyError::Eval(e.to_string())))?;
            let interpreted =
                decision::from_policy_output(&interpreted, &this.version).map_err(canary)?;
            if interpreted != decision {
                return Err(canary(PolicyError::Eval(format!(
                    "regorus's VM and interpreter disagree: {decision:?} vs {interpreted:?}"
                ))));
            }
        }
        // Every class at every tier: a policy that fails for one class fails here, not in a scan.
        for (name, input) in class_tier_canaries(&this.table) {
            this.evaluate(&input).map_err(|e| PolicyError::Canary {
                canary: name,
                source: Box::new(e),
            })?;
        }
        Ok(this)
    }

    /// The same policy with `json` deep-merged into its data (objects merge key by key, other
    /// values replace): a backtest sweeps thresholds this way without editing policy text.
    /// Every load-time check runs again; the version changes with the data.
    pub fn with_data_override(&self, json: &str) -> Result<Self, PolicyError> {
        let patch: Json =
            serde_json::from_str(json).map_err(|e| PolicyError::Data(format!("override: {e}")))?;
        let mut data = self.data.clone();
        data::merge(&mut data, &patch);
        Self::from_sources(self.sources.clone(), data, self.limits.clone())
    }

    /// The same policy under other limits (the canaries run again under them).
    pub fn with_limits(&self, limits: Limits) -> Result<Self, PolicyError> {
        Self::from_sources(self.sources.clone(), self.data.clone(), limits)
    }

    /// `sha256:<hex>` of the policy texts and the data document.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn data(&self) -> &Json {
        &self.data
    }

    pub fn sources(&self) -> &[PolicySource] {
        &self.sources
    }

    pub fn thresholds(&self, class: IdentityClass) -> &Thresholds {
        self.table.for_class(class)
    }

    pub fn threshold_table(&self) -> &ThresholdTable {
        &self.table
    }

    /// The policy's decision, validated and typed; no guardrail applied yet.
    ///
    /// Strings over [`Limits::max_string_bytes`] (an identity id, owner or environment taken
    /// from logs or an owners file) reach the policy truncated, with [`input::TRUNCATED_MARK`]
    /// at the end, rather than failing the evaluation: the caller keys the decision by the full
    /// id.
    pub fn evaluate(&self, input: &DecisionInput) -> Result<Decision, PolicyError> {
        let clamped = input.clamped(&self.limits);
        let input = clamped.as_ref().unwrap_or(input);
        input.check(&self.limits)?;
        let json = serde_json::to_string(input).map_err(|e| PolicyError::Input(e.to_string()))?;
        if json.len() > self.limits.max_input_bytes {
            return Err(PolicyError::Input(format!(
                "{} bytes serialized, over the {}-byte cap",
                json.len(),
                self.limits.max_input_bytes
            )));
        }
        let value =
            regorus::Value::from_json_str(&json).map_err(|e| PolicyError::Input(e.to_string()))?;
        let out = self.eval_decision(value)?;
        decision::from_policy_output(&out, &self.version)
    }

    /// [`evaluate`](Self::evaluate), then every guardrail (with this policy's thresholds for
    /// the identity's class and `input.previous_tier` for hysteresis).
    ///
    /// A policy that fails for this identity (a limit, an evaluation error, an undefined or
    /// malformed decision) does not fail the caller's run: the identity gets a
    /// [`Decision::held`] decision (its previous tier, or observe; no action) with the error in
    /// [`Decision::error`] and its reasons, so every other identity is still decided and the
    /// report and evidence record the failure. `Err` is left for callers that want it via
    /// [`evaluate`](Self::evaluate).
    pub fn decide(
        &self,
        input: &DecisionInput,
        ctx: &GuardrailContext,
    ) -> Result<Decision, PolicyError> {
        let decision = match self.evaluate(input) {
            Ok(d) => d,
            Err(e) => return Ok(Decision::held(input.previous_tier, &e, &self.version)),
        };
        Ok(apply_guardrails(
            decision,
            input,
            self.thresholds(input.identity.class),
            ctx,
        ))
    }

    fn eval_decision(&self, input: regorus::Value) -> Result<Json, PolicyError> {
        let limit = self.limits.eval_time;
        let (result, elapsed) = {
            let mut vm = self.vm.lock().unwrap_or_else(PoisonError::into_inner);
            vm.set_input(input);
            let start = Instant::now();
            let r = execute_on_eval_stack(&mut vm);
            (r, start.elapsed())
        };
        let value = result.map_err(|e| match e {
            VmError::TimeLimitExceeded { .. } => PolicyError::TimeLimit { elapsed, limit },
            VmError::InstructionLimitExceeded { limit, .. } => {
                PolicyError::InstructionLimit { limit }
            }
            VmError::MemoryBudgetExceeded { usage, budget, .. } => PolicyError::MemoryLimit {
                usage,
                limit: budget,
            },
            VmError::MemoryLimitExceeded { usage, limit, .. } => {
                PolicyError::MemoryLimit { usage, limit }
            }
            other => PolicyError::Eval(other.to_string()),
        })?;
        if elapsed > limit {
            return Err(PolicyError::TimeLimit { elapsed, limit });
        }
        if value == regorus::Value::Undefined {
            return Err(PolicyError::DecisionUndefined {
                rule: DECISION_RULE.to_string(),
            });
        }
        serde_json::to_value(&value).map_err(|e| PolicyError::Eval(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a := b` / `b := a` is refused before any evaluation: regorus's VM recurses natively on
    /// rule calls, so at run time only the size of the evaluation thread's stack stands between
    /// such a policy and an abort, and whether a time limit or the stack ends first depends on
    /// the machine's speed (a runtime test of it aborted under load). The load check is the guard.
    #[test]
    fn mutual_recursion_is_refused_at_load() {
        let src = "package tripline.escalation\n\na := b\nb := a\n\ndecision := {\"tier\": \"observe\", \"actions\": [], \"reasons\": [a]}\n";
        let sources = vec![PolicySource {
            name: "rec.rego".into(),
            text: src.into(),
        }];
        assert!(matches!(
            static_checks(&sources),
            Err(PolicyError::Recursion(_))
        ));
    }

    #[test]
    fn version_is_stable_and_depends_on_text_and_data() {
        let s = vec![PolicySource {
            name: "a".into(),
            text: "package a".into(),
        }];
        let d1: Json = serde_json::from_str(r#"{"x": 1, "y": {"b": 2, "a": 1}}"#).unwrap();
        let d2: Json = serde_json::from_str(r#"{"y": {"a": 1, "b": 2}, "x": 1}"#).unwrap();
        assert_eq!(policy_version(&s, &d1), policy_version(&s, &d2));
        let d3: Json = serde_json::from_str(r#"{"x": 2, "y": {"a": 1, "b": 2}}"#).unwrap();
        assert_ne!(policy_version(&s, &d1), policy_version(&s, &d3));
        assert!(policy_version(&s, &d1).starts_with("sha256:"));
        assert_eq!(policy_version(&s, &d1).len(), 7 + 64);
    }
}
