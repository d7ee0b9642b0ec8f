//! Command-line flags, defined once.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Tripline watches non-human identities (service accounts, IAM users and roles used by
/// automation, API keys, Kubernetes service accounts, workload identities, AI agents), scores how
/// risky each one is, and turns a high score into a proportionate, reversible response.
#[derive(Debug, Parser)]
#[command(name = "tripline", version, propagate_version = true, after_long_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

pub const EXIT_CODES: &str = "\
Exit codes:
  0  the run completed (rejected records, if any, are counted in the summary)
  1  internal error (for example the output file could not be written)
  2  bad usage or unreadable input (a named path that does not exist or cannot be opened,
     an inventory or owners file that cannot be parsed)
  3  --fail-on-reject was given and at least one record was rejected
  4  `tripline evidence verify|export`: the ledger or bundle failed verification (altered,
     truncated, rewritten after it was signed, no head, or not a ledger); `scan --evidence
     --signing-key`: the ledger fails verification, so its head was not signed (report written)";

#[derive(Debug, Subcommand)]
// Parsed once per process: boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Read logs and inventory, resolve every caller to an identity, and report.
    ///
    /// Logs: CloudTrail as a `{"Records":[…]}` file, JSON Lines, `aws cloudtrail lookup-events`
    /// output, gzip or not, or a directory tree as CloudTrail writes it to S3
    /// (`AWSLogs/<account>/CloudTrail/<region>/…`); Kubernetes audit logs (JSON Lines); Panther
    /// rule-test bundles (`{"log": {…}}` per line). Directories are read recursively.
    ///
    /// Inventory: `aws iam get-account-authorization-details` JSON and the IAM credential report
    /// CSV (`aws iam get-credential-report`, decoded). The owners file (YAML or TOML) assigns
    /// owner, class, environment and kind by ARN, name or glob.
    ///
    /// Bad records never stop the run: each is counted with its reason in the summary (stderr)
    /// and, with --quarantine, written out as JSON Lines to fix and replay.
    #[command(after_long_help = "Examples:
  tripline scan --logs AWSLogs/ --inventory authz.json --owners owners.yaml
  tripline scan --logs audit.jsonl.gz --format json --output inventory.json
  tripline scan --logs trail/ --quarantine rejected.jsonl --fail-on-reject")]
    Scan(ScanArgs),
    /// Print the full breakdown of one identity's score: formula, drivers, every signal with its
    /// points, events and framework tags.
    Explain(ExplainArgs),
    /// Replay logs through the same pipeline in event-time order, compare alerts with labelled
    /// incidents, and show what each threshold would have caught and cost.
    ///
    /// Labels: CSV or JSON, event level (`event_id,label[,category]`) or incident level
    /// (`identity,start,end,label[,category]`); the labels shipped with public datasets and
    /// written by `tripline simulate` read as they are.
    #[command(after_long_help = "Examples:
  tripline backtest --logs org/cloudtrail org/k8s-audit --labels org/labels.csv --owners org/owners.yaml
  tripline backtest --logs trail/ --labels incidents.csv --format html --output report.html --budget 2")]
    Backtest(BacktestArgs),
    /// Escalation policy (Rego): run its unit tests, or load-check a policy.
    Policy(PolicyArgs),
    /// Cases: list them; an identity's owner (or an admin) approves, denies, extends, undoes or
    /// resolves.
    Case(CaseArgs),
    /// The action ledger: list applied actions, undo one, or recover from a crash mid-apply.
    Action(ActionArgs),
    /// Verify or export the evidence ledger (append-only, SHA-256 hash-chained, SQLite).
    Evidence(EvidenceArgs),
    /// Record an analyst's verdict on an identity (true positive, false positive, accepted risk)
    /// with a reason and an expiry. Verdicts become labels for `backtest --feedback` and
    /// suppressions for `scan --feedback` that are shown, never silent, and that expire.
    Feedback(FeedbackArgs),
    /// Write a realistic, seeded organisation's logs (CloudTrail and Kubernetes audit), inventory,
    /// owners file and labelled incidents to a directory.
    Simulate(SimulateArgs),
    /// Simulate a small organisation into a directory and scan it: the whole pipeline with no
    /// external service.
    Demo(DemoArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A ranked table for people.
    Table,
    /// One JSON document (see docs/scan-output.schema.json).
    Json,
    /// OCSF Detection Findings (class 2004), one JSON object per line.
    Ocsf,
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Run the `test_*` rules of the given .rego/.json files (default: the shipped policy's tests).
    Test { files: Vec<PathBuf> },
    /// Load a policy (and data) with every load-time check: compile, known input fields, data
    /// shape, decision shape on canary inputs.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long, value_name = "FILE")]
        data: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Respond {
    /// Decide per identity (tier, actions, reasons, expiry, undo) without acting: dry run.
    Plan,
    /// Carry the cleared actions out through the connectors in `--connectors`, recording each
    /// in the action ledger (`--ledger`) before and after the call.
    Apply,
}

#[derive(Debug, Args)]
pub struct CaseArgs {
    #[arg(long, default_value = "tripline-cases.sqlite", value_name = "FILE")]
    pub cases: PathBuf,
    /// People who may act on any case (repeatable); others only on their own identities' cases.
    #[arg(long = "admin", value_name = "NAME")]
    pub admins: Vec<String>,
    /// Record the verdict (who, what, when) and what the sweep did in this evidence ledger.
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<PathBuf>,
    /// The action ledger `scan --respond apply` wrote (for undo, extension and expiry).
    #[arg(long, default_value = "tripline-actions.sqlite", value_name = "FILE")]
    pub ledger: PathBuf,
    /// Connectors file: with it, deny, extend and undo take effect at once (a sweep runs).
    #[arg(long, value_name = "FILE")]
    pub connectors: Option<PathBuf>,
    #[command(subcommand)]
    pub command: CaseCommand,
}

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    List,
    Approve {
        id: String,
        #[arg(long = "as")]
        who: String,
    },
    Deny {
        id: String,
        #[arg(long = "as")]
        who: String,
        #[arg(long)]
        reason: String,
    },
    /// Extend the case's restriction (bounded).
    Extend {
        id: String,
        #[arg(long = "as")]
        who: String,
        #[arg(long)]
        secs: u64,
    },
    /// Undo the case's applied actions (at once with --connectors, else at the next sweep).
    Undo {
        id: String,
        #[arg(long = "as")]
        who: String,
    },
    Resolve {
        id: String,
        #[arg(long = "as")]
        who: String,
        #[arg(long)]
        note: String,
    },
    /// Raise every case whose owner missed the deadline by one tier.
    EscalateOverdue,
    /// Carry out what the cases ask for: undo requested responses, move extended restrictions'
    /// ends in the systems themselves, clean up restrictions that have expired, and escalate
    /// silent owners. Idempotent; run it from a timer (e.g. every minute).
    Sweep,
}

#[derive(Debug, Args)]
pub struct ActionArgs {
    #[arg(long, default_value = "tripline-actions.sqlite", value_name = "FILE")]
    pub ledger: PathBuf,
    #[arg(long, value_name = "FILE")]
    pub connectors: Option<PathBuf>,
    #[command(subcommand)]
    pub command: ActionCommand,
}

#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// Every action in the ledger with its state.
    List,
    /// Undo one applied action (from the recipe recorded when it was applied).
    Undo { action_id: String },
    /// Complete or undo actions a crash left half-done.
    Recover,
}

#[derive(Debug, Args)]
pub struct EvidenceArgs {
    #[command(subcommand)]
    pub command: EvidenceCommand,
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Recompute the chain and name the first altered, deleted or reordered record, then check
    /// the signed heads: a chain rewritten or truncated at or before a signed head fails (exit
    /// 4). Opens the ledger read-only.
    Verify {
        /// The ledger (SQLite) written by `scan --evidence`.
        #[arg(long, value_name = "FILE")]
        store: Option<PathBuf>,
        /// An exported bundle (directory, manifest.json or evidence.jsonl): no SQLite needed.
        #[arg(long, value_name = "PATH")]
        bundle: Option<PathBuf>,
        /// Public key file(s) to trust (from `evidence keygen`); default
        /// $TRIPLINE_EVIDENCE_PUBLIC_KEY. With a key, every signed head must be signed by it and
        /// at least one must exist; without, signatures are checked against the keys stored with
        /// them, which someone who rewrote the ledger could have replaced.
        #[arg(long, value_name = "FILE", num_args = 1..)]
        public_key: Vec<PathBuf>,
        /// Also fail when records follow the last signed head.
        #[arg(long)]
        require_signed_head: bool,
    },
    /// Write a bundle (evidence.jsonl, signatures.jsonl, manifest.json, and with a key
    /// public-key.pub) that verifies on another machine. With a signing key the head is signed
    /// first, and the signature is stored in the ledger too.
    Export {
        #[arg(long, value_name = "FILE")]
        store: PathBuf,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Private key file (from `evidence keygen`); default $TRIPLINE_EVIDENCE_KEY.
        #[arg(long, value_name = "KEYFILE")]
        signing_key: Option<PathBuf>,
    },
    /// Generate an Ed25519 key pair for signing chain heads: KEYFILE (private, mode 0600) and
    /// KEYFILE.pub. Keep KEYFILE outside the evidence store; give KEYFILE.pub to verifiers.
    Keygen {
        #[arg(long, value_name = "KEYFILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct FeedbackArgs {
    /// The feedback store (JSON Lines, appended).
    #[arg(long, default_value = "tripline-feedback.jsonl", value_name = "FILE")]
    pub store: PathBuf,
    #[command(subcommand)]
    pub command: FeedbackCommand,
}

#[derive(Debug, Subcommand)]
pub enum FeedbackCommand {
    /// Append a verdict.
    Add(FeedbackAdd),
    /// List verdicts and whether they still suppress.
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerdictArg {
    TruePositive,
    FalsePositive,
    AcceptedRisk,
}

impl From<VerdictArg> for tripline_ingest::feedback::Verdict {
    fn from(v: VerdictArg) -> Self {
        match v {
            VerdictArg::TruePositive => Self::TruePositive,
            VerdictArg::FalsePositive => Self::FalsePositive,
            VerdictArg::AcceptedRisk => Self::AcceptedRisk,
        }
    }
}

#[derive(Debug, Args)]
pub struct FeedbackAdd {
    /// Identity id (ARN or system:serviceaccount:ns:name).
    #[arg(long)]
    pub identity: String,
    #[arg(long, value_enum)]
    pub verdict: VerdictArg,
    /// Why (required: no verdict without a reason).
    #[arg(long)]
    pub reason: String,
    /// Until when a false-positive/accepted-risk verdict suppresses (RFC 3339).
    #[arg(long, conflicts_with = "for_days")]
    pub expires: Option<String>,
    /// Suppress for this many days from now (default for suppressing verdicts: required, one of
    /// --expires or --for-days).
    #[arg(long)]
    pub for_days: Option<u32>,
    /// The activity window the verdict is about (RFC 3339); open ends mean all of it.
    #[arg(long)]
    pub start: Option<String>,
    #[arg(long)]
    pub end: Option<String>,
    /// Who decided.
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BacktestFormat {
    Table,
    Json,
    /// A self-contained page: curves, confusion matrices, worst false positives, missed incidents.
    Html,
}

/// What to read: shared by scan, explain and backtest.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Log files or directories (repeatable; several per flag). Without logs, a scan scores
    /// the inventory's standing posture alone.
    #[arg(long, num_args = 1.., value_name = "PATH", required_unless_present = "inventory")]
    pub logs: Vec<PathBuf>,
    /// Inventory files, recognised by content: IAM authorization details JSON, IAM credential
    /// report CSV, Kubernetes RBAC JSON, gitleaks or trufflehog reports.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub inventory: Vec<PathBuf>,
    /// Owners file (YAML or TOML) assigning owner, class, environment, kind by ARN, name or glob.
    #[arg(long, value_name = "FILE")]
    pub owners: Option<PathBuf>,
    /// AWS's published address ranges (`ip-ranges.json`): a workload's session used from
    /// outside AWS is then caught on its first call.
    #[arg(long, value_name = "FILE")]
    pub aws_ip_ranges: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BacktestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Label files (event-level or incident-level; CSV or JSON). Repeatable.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub labels: Vec<PathBuf>,
    /// Analyst feedback store: verdicts are added to the labels.
    #[arg(long, value_name = "FILE")]
    pub feedback: Option<PathBuf>,
    /// Alert when an identity's running score reaches this (0-100).
    #[arg(long, default_value_t = 45.0)]
    pub threshold: f64,
    /// Per-class threshold, e.g. `ci_cd=60` (repeatable; overrides --threshold for that class).
    #[arg(long, value_name = "CLASS=SCORE")]
    pub class_threshold: Vec<String>,
    /// Alert budget per class per day, for the recommended thresholds.
    #[arg(long, default_value_t = 1.0)]
    pub budget: f64,
    /// An alert stays open (no new alert for the identity) until this many quiet minutes pass.
    #[arg(long, default_value_t = 60)]
    pub quiet_minutes: i64,
    #[arg(long, value_enum, default_value_t = BacktestFormat::Table)]
    pub format: BacktestFormat,
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write the threshold sweep (overall and per class) as CSV.
    #[arg(long, value_name = "FILE")]
    pub curve_csv: Option<PathBuf>,
    /// Write the sweep as an SVG chart.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The identity: its id (ARN, `system:serviceaccount:ns:name`), its name, or a unique part.
    pub identity: String,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write the report here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write every rejected record, with its reason, to this file as JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub quarantine: Option<PathBuf>,
    /// Most bytes written to the quarantine file; later rejections are counted, not written.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES")]
    pub max_quarantine_bytes: u64,
    /// Most records written to the quarantine file; later rejections are counted, not written.
    #[arg(long, default_value_t = 1_000_000, value_name = "RECORDS")]
    pub max_quarantine_records: u64,
    /// Analyst feedback store (see `tripline feedback`): false-positive and accepted-risk verdicts
    /// are shown as suppressions until they expire.
    #[arg(long, value_name = "FILE")]
    pub feedback: Option<PathBuf>,
    /// Decide a response per non-human identity with the escalation policy (dry run: `plan`).
    #[arg(long, value_enum)]
    pub respond: Option<Respond>,
    /// Connectors for `--respond apply` (TOML: `[aws]`, `[webhook]`; see README).
    #[arg(long, value_name = "FILE")]
    pub connectors: Option<PathBuf>,
    /// Action ledger (SQLite) for `--respond apply`: makes retries idempotent and crashes
    /// recoverable (`tripline action recover`).
    #[arg(long, default_value = "tripline-actions.sqlite", value_name = "FILE")]
    pub ledger: PathBuf,
    /// Case book (SQLite): with `--respond`, one case per identity and incident for every
    /// decision above observe; cases whose owner stayed silent past the deadline escalate, and
    /// the open case's tier is where the next decision starts (hysteresis across runs).
    #[arg(long, value_name = "FILE")]
    pub cases: Option<PathBuf>,
    /// Approval for irreversible actions (containment): who approves, and a ticket reference.
    #[arg(long, value_name = "NAME:REFERENCE")]
    pub approve: Option<String>,
    /// `--respond apply` refuses to act when the latest event is older than this (seconds;
    /// default a day): old logs describe a past state of the account.
    #[arg(long, default_value_t = crate::respond::Safety::DEFAULT_MAX_EVIDENCE_AGE_SECS, value_name = "SECS")]
    pub max_evidence_age: u64,
    /// `--respond apply` restricts (changes in AWS or Vault) at most this many identities per
    /// run, highest score first; the rest become owner reviews.
    #[arg(long, default_value_t = crate::respond::Safety::DEFAULT_MAX_RESTRICTED, value_name = "N")]
    pub max_restricted: usize,
    /// An identity (exact id or glob) `--respond apply` never changes: break-glass roles
    /// (repeatable; adds to `[respond] never_touch` in the connectors file). The response role
    /// itself is never changed.
    #[arg(long, value_name = "ID")]
    pub never_touch: Vec<String>,
    /// Who a case goes to when its identity has no owner in the owners file (without it, such
    /// cases stay open for the admins; no request waits on nobody).
    #[arg(long, value_name = "OWNER")]
    pub default_owner: Option<String>,
    /// Policy files (.rego) replacing the shipped default policy.
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub policy: Vec<PathBuf>,
    /// Policy data (JSON: per-class thresholds) replacing the shipped defaults.
    #[arg(long, value_name = "FILE")]
    pub policy_data: Option<PathBuf>,
    /// Append the input summary, every score and every signal to this evidence ledger (SQLite,
    /// created if missing; see `tripline evidence`).
    #[arg(long, value_name = "FILE")]
    pub evidence: Option<PathBuf>,
    /// Sign the evidence ledger's head at the end of the run with this private key (from
    /// `tripline evidence keygen`); default $TRIPLINE_EVIDENCE_KEY. Without one the chain is
    /// unsigned, and a full rewrite of the ledger would not show.
    #[arg(long, value_name = "KEYFILE", requires = "evidence")]
    pub signing_key: Option<PathBuf>,
    /// Exit with code 3 when any record was rejected.
    #[arg(long)]
    pub fail_on_reject: bool,
    /// Also list humans, AWS services and root (by default only non-human identities are listed).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
}

#[derive(Debug, Args)]
pub struct LimitArgs {
    /// Largest record accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_record_bytes: usize,
    /// Largest whole JSON document (a `{"Records":[…]}` file, an inventory file), in bytes.
    #[arg(long, default_value_t = 512 << 20, value_name = "BYTES")]
    pub max_document_bytes: usize,
    /// Most bytes decompressed from one file.
    #[arg(long, default_value_t = 16 << 30, value_name = "BYTES")]
    pub max_decompressed_bytes: u64,
    /// Deepest JSON nesting accepted in a record.
    #[arg(long, default_value_t = 64, value_name = "LEVELS")]
    pub max_depth: usize,
    /// Events dated more than this after the wall clock are rejected (`future_timestamp`), so
    /// they cannot move the scan's clock; allows for clock skew between sources.
    #[arg(long, default_value_t = 15 * 60, value_name = "SECS")]
    pub max_future_secs: u64,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Directory to write into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub sim: SimArgs,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Random seed: the same seed writes the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Days of activity.
    #[arg(long, default_value_t = 14)]
    pub days: u32,
    /// First day (UTC, YYYY-MM-DD).
    #[arg(long, default_value = "2026-10-01")]
    pub start: String,
    /// Number of non-human identities.
    #[arg(long, default_value_t = 60)]
    pub identities: usize,
    /// Scale activity to about this many events in total.
    #[arg(long, value_name = "N")]
    pub events: Option<u64>,
    /// AWS accounts.
    #[arg(long, default_value_t = 2)]
    pub accounts: usize,
    /// Do not inject labelled incidents.
    #[arg(long)]
    pub no_incidents: bool,
    /// Do not write Kubernetes audit logs.
    #[arg(long)]
    pub no_k8s: bool,
    /// CloudTrail layout: an S3 tree of `{"Records":[…]}` files, or one JSON Lines file.
    #[arg(long, value_enum, default_value_t = LayoutArg::S3)]
    pub layout: LayoutArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LayoutArg {
    S3,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the simulated organisation.
    #[arg(long, default_value = "demo-out", value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub sim: SimArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}
