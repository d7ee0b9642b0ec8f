//! Responses: the escalation policy's decision per identity (dry run), and `tripline policy`.

use crate::cli::{PolicyArgs, PolicyCommand};
use crate::scan::ScanResult;
use crate::Failure;
use anyhow::anyhow;
use std::path::PathBuf;
use tripline_policy::{DecisionInput, GuardrailContext, PolicyEngine};

/// Loads the policy: the shipped default, or the user's files (and data), with load checks.
pub fn load(files: &[PathBuf], data: Option<&PathBuf>) -> Result<PolicyEngine, Failure> {
    let engine = if files.is_empty() && data.is_none() {
        PolicyEngine::default_policy()
    } else if files.is_empty() {
        let d = data
            .map(std::fs::read_to_string)
            .transpose()
            .map_err(|e| Failure::usage(anyhow!(e)))?;
        PolicyEngine::default_policy().and_then(|p| match d {
            Some(json) => p.with_data_override(&json),
            None => Ok(p),
        })
    } else {
        PolicyEngine::from_files(files, data.map(PathBuf::as_path))
    };
    engine.map_err(|e| Failure::usage(anyhow!(e)))
}

/// The tier of each identity's most recent unclosed case: the `previous_tier` that hysteresis
/// holds a decision at until the score falls clearly below it (across runs, not only within one).
pub fn previous_tiers(
    cases: &std::path::Path,
) -> Result<std::collections::HashMap<String, tripline_policy::Tier>, Failure> {
    let mut out = std::collections::HashMap::new();
    if !cases.exists() {
        return Ok(out);
    }
    let book = tripline_respond::cases::CaseBook::open(
        cases,
        tripline_respond::cases::CaseConfig::default(),
    )
    .map_err(|e| Failure::usage(anyhow!(e)))?;
    let mut all = book.list().map_err(|e| Failure::usage(anyhow!(e)))?;
    all.sort_by_key(|c| c.opened_at);
    for c in all.into_iter().filter(|c| !c.state.is_closed()) {
        let name = serde_json::to_value(c.tier)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        if let Some(t) = tripline_policy::Tier::parse(&name) {
            out.insert(c.identity, t);
        }
    }
    Ok(out)
}

/// Decides for every non-human identity, in plan mode (no action is taken).
pub fn plan(
    result: &mut ScanResult,
    policy: &PolicyEngine,
    previous: &std::collections::HashMap<String, tripline_policy::Tier>,
) -> Result<(), Failure> {
    let ctx = GuardrailContext::default();
    for (i, a) in result
        .report
        .identities
        .iter()
        .zip(&result.report.assessments)
    {
        // Suppressed identities (an analyst's verdict, until it expires) get no decision, as in
        // apply.
        if !i.kind.is_nhi() || result.suppressions.contains_key(&i.id) {
            continue;
        }
        let input = DecisionInput::from_assessment(a, i, previous.get(&i.id).copied());
        let d = policy
            .decide(&input, &ctx)
            .map_err(|e| Failure::internal(anyhow!(e).context(format!("deciding for {}", i.id))))?;
        result.decisions.insert(i.id.clone(), d);
    }
    result.policy_version = Some(policy.version().to_string());
    Ok(())
}

pub fn policy(args: &PolicyArgs) -> Result<u8, Failure> {
    match &args.command {
        PolicyCommand::Test { files } => {
            let report = if files.is_empty() {
                tripline_policy::run_default_policy_tests()
            } else {
                tripline_policy::run_policy_tests(files)
            }
            .map_err(|e| Failure::usage(anyhow!(e)))?;
            println!("{report}");
            Ok(if report.failed() == 0 { 0 } else { 1 })
        }
        PolicyCommand::Check { files, data } => {
            let p = load(files, data.as_ref())?;
            println!("policy ok: version {}", p.version());
            Ok(0)
        }
    }
}

/// `--connectors` file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectorsConfig {
    pub aws: Option<AwsConfig>,
    pub webhook: Option<WebhookConfig>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    pub region: String,
    /// An AWS-compatible endpoint (moto, LocalStack); AWS itself when absent.
    pub endpoint_url: Option<String>,
    /// Environment variables holding the response role's keys; the default chain when absent.
    pub access_key_id_env: Option<String>,
    pub secret_access_key_env: Option<String>,
    /// Where the secret of a rotated key is written (mode 0600). Never logged or stored.
    pub secrets_dir: PathBuf,
    /// Seconds the old key stays active after rotation.
    #[serde(default)]
    pub overlap_secs: u64,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub url: String,
    /// `generic` (JSON) or `chat` (Slack-compatible text).
    #[serde(default = "default_format")]
    pub format: String,
}

fn default_format() -> String {
    "generic".into()
}

/// What happened to one planned action under `--respond apply`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub identity: String,
    pub kind: String,
    pub action_id: Option<String>,
    pub connector: Option<String>,
    /// `applied`, `skipped` or `failed`.
    pub status: &'static str,
    pub detail: String,
}

pub struct Connectors {
    aws: Option<(tripline_respond::aws::AwsConnector, PathBuf, u64)>,
    webhook: Option<tripline_respond::webhook::WebhookConnector>,
}

impl std::fmt::Debug for Connectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connectors")
            .field("aws", &self.aws.is_some())
            .field("webhook", &self.webhook.is_some())
            .finish()
    }
}

pub fn connectors(path: Option<&PathBuf>) -> Result<Connectors, Failure> {
    let cfg: ConnectorsConfig = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                Failure::usage(anyhow!(e).context(format!("reading {}", p.display())))
            })?;
            toml::from_str(&text).map_err(|e| Failure::usage(anyhow!("{}: {e}", p.display())))?
        }
        None => ConnectorsConfig::default(),
    };
    let aws = match cfg.aws {
        Some(a) => {
            let env = |name: &Option<String>| name.as_ref().and_then(|n| std::env::var(n).ok());
            let c = match (env(&a.access_key_id_env), env(&a.secret_access_key_env)) {
                (Some(k), Some(s)) => tripline_respond::aws::AwsConnector::with_credentials(
                    a.endpoint_url.clone(),
                    &a.region,
                    &k,
                    &s,
                ),
                _ => tripline_respond::aws::AwsConnector::new(a.endpoint_url.clone(), &a.region),
            }
            .map_err(|e| Failure::usage(anyhow!(e)))?;
            std::fs::create_dir_all(&a.secrets_dir)
                .map_err(|e| Failure::usage(anyhow!(e).context("creating secrets_dir")))?;
            Some((c, a.secrets_dir, a.overlap_secs))
        }
        None => None,
    };
    let webhook = cfg.webhook.map(|w| {
        let format = if w.format == "chat" {
            tripline_respond::webhook::Format::Chat
        } else {
            tripline_respond::webhook::Format::Generic
        };
        tripline_respond::webhook::WebhookConnector::new(w.url, format)
    });
    Ok(Connectors { aws, webhook })
}

fn is_iam(id: &str) -> bool {
    id.starts_with("arn:") && (id.contains(":user/") || id.contains(":role/"))
}

/// Carries out the actions the guardrails cleared, through the connectors, with the ledger.
pub fn apply(
    result: &mut ScanResult,
    policy: &PolicyEngine,
    args: &crate::cli::ScanArgs,
    previous: &std::collections::HashMap<String, tripline_policy::Tier>,
) -> Result<(), Failure> {
    use tripline_policy::{ActionKind, ActionStatus, Approval, Mode};
    use tripline_respond::{ledger, ActionRequest, Connector};
    let conns = connectors(args.connectors.as_ref())?;
    let led = ledger::Ledger::open(&args.ledger).map_err(|e| Failure::usage(anyhow!(e)))?;
    let approval = args.approve.as_ref().map(|a| {
        let (who, reference) = a.split_once(':').unwrap_or((a.as_str(), ""));
        Approval {
            approver: who.to_string(),
            reference: reference.to_string(),
        }
    });
    let ctx = GuardrailContext {
        mode: Mode::Apply,
        approval,
        ..GuardrailContext::default()
    };
    let day = result
        .report
        .as_of
        .map(|t| t.to_string())
        .unwrap_or_default();
    let day = day.get(..10).unwrap_or("").to_string();
    let mut outcomes = Vec::new();
    for (i, a) in result
        .report
        .identities
        .iter()
        .zip(&result.report.assessments)
    {
        if !i.kind.is_nhi() || result.suppressions.contains_key(&i.id) {
            continue;
        }
        let input = DecisionInput::from_assessment(a, i, previous.get(&i.id).copied());
        let d = policy
            .decide(&input, &ctx)
            .map_err(|e| Failure::internal(anyhow!(e)))?;
        let key = i
            .credentials
            .iter()
            .filter(|c| {
                c.kind == tripline_model::CredentialKind::AccessKey && c.id.starts_with("AKIA")
            })
            .max_by_key(|c| c.last_seen)
            .map(|c| c.id.clone());
        for act in d.actions.iter().filter(|x| x.status == ActionStatus::Apply) {
            let mut out = Outcome {
                identity: i.id.clone(),
                kind: act.kind.as_str().to_string(),
                action_id: None,
                connector: None,
                status: "skipped",
                detail: String::new(),
            };
            let reason = d.reasons.first().cloned().unwrap_or_default();
            let mut req = ActionRequest {
                action_id: format!("{}:{}:{day}", act.kind.as_str(), i.id),
                kind: act.kind.as_str().to_string(),
                identity: i.id.clone(),
                credential: key.clone(),
                expires_in_secs: act.expires_in_secs,
                reason,
                params: serde_json::json!({"owner": i.owner, "message": format!("{} ({:.0}, {})", i.id, a.score, a.level.as_str())}),
            };
            let target: Option<&dyn Connector> = match act.kind {
                ActionKind::Notify | ActionKind::StepUp | ActionKind::OwnerReview => {
                    conns.webhook.as_ref().map(|w| w as &dyn Connector)
                }
                ActionKind::Restrict | ActionKind::Rotate | ActionKind::Contain
                    if is_iam(&i.id) =>
                {
                    match &conns.aws {
                        Some((c, dir, overlap)) => {
                            let is_user = i.id.contains(":user/");
                            match act.kind {
                                // A role has no key to rotate: stolen session credentials are cut off
                                // by the time-boxed deny instead.
                                ActionKind::Rotate if !is_user => req.kind = "restrict".into(),
                                ActionKind::Rotate => {
                                    let file = dir.join(format!(
                                        "{}.json",
                                        req.action_id.replace(['/', ':'], "_")
                                    ));
                                    req.params = serde_json::json!({"secret_file": file, "overlap_secs": overlap});
                                }
                                ActionKind::Contain if key.is_none() => {
                                    req.kind = "restrict".into()
                                }
                                _ => {}
                            }
                            Some(c as &dyn Connector)
                        }
                        None => None,
                    }
                }
                _ => None,
            };
            match target {
                None => out.detail = "no connector configured for this action and identity".into(),
                Some(c) => {
                    out.action_id = Some(req.action_id.clone());
                    out.connector = Some(c.name().to_string());
                    match ledger::run_apply(c, &led, &req) {
                        Ok(applied) => {
                            out.status = "applied";
                            out.detail = format!(
                                "{} (undo: tripline action undo {})",
                                applied.outputs, req.action_id
                            );
                        }
                        Err(e) => {
                            out.status = "failed";
                            out.detail = e.to_string();
                        }
                    }
                }
            }
            outcomes.push(out);
        }
        result.decisions.insert(i.id.clone(), d);
    }
    result.policy_version = Some(policy.version().to_string());
    result.outcomes = outcomes;
    Ok(())
}

pub fn action(args: &crate::cli::ActionArgs) -> Result<u8, Failure> {
    use crate::cli::ActionCommand;
    use tripline_respond::{ledger, Connector};
    crate::scan::require_exists(&args.ledger)?;
    let led = ledger::Ledger::open(&args.ledger).map_err(|e| Failure::usage(anyhow!(e)))?;
    match &args.command {
        ActionCommand::List => {
            for r in led.all().map_err(|e| Failure::internal(anyhow!(e)))? {
                println!(
                    "{:<10} {:<8} {}  {}",
                    r.state.as_str(),
                    r.connector,
                    r.request.action_id,
                    r.error.unwrap_or_default()
                );
            }
            Ok(0)
        }
        ActionCommand::Undo { action_id } => {
            let rec = led
                .get(action_id)
                .map_err(|e| Failure::internal(anyhow!(e)))?
                .ok_or_else(|| Failure::usage(anyhow!("no action {action_id:?} in the ledger")))?;
            let applied = rec.applied.ok_or_else(|| {
                Failure::usage(anyhow!(
                    "{action_id} is {}: nothing applied to undo",
                    rec.state.as_str()
                ))
            })?;
            let conns = connectors(args.connectors.as_ref())?;
            let c: &dyn Connector = match rec.connector.as_str() {
                "aws" => conns.aws.as_ref().map(|(c, ..)| c as &dyn Connector),
                "webhook" => conns.webhook.as_ref().map(|w| w as &dyn Connector),
                _ => None,
            }
            .ok_or_else(|| {
                Failure::usage(anyhow!(
                    "connector {:?} is not configured in --connectors",
                    rec.connector
                ))
            })?;
            ledger::run_undo(c, &led, &applied).map_err(|e| Failure::internal(anyhow!(e)))?;
            println!("undone {action_id}");
            Ok(0)
        }
        ActionCommand::Recover => {
            let conns = connectors(args.connectors.as_ref())?;
            let mut all = Vec::new();
            if let Some((c, ..)) = &conns.aws {
                all.extend(ledger::recover(c, &led).map_err(|e| Failure::internal(anyhow!(e)))?);
            }
            if let Some(w) = &conns.webhook {
                all.extend(ledger::recover(w, &led).map_err(|e| Failure::internal(anyhow!(e)))?);
            }
            for r in &all {
                println!("{r:?}");
            }
            println!("{} half-done actions resolved", all.len());
            Ok(0)
        }
    }
}

fn case_tier(t: tripline_policy::Tier) -> tripline_respond::cases::Tier {
    use tripline_policy::Tier as P;
    use tripline_respond::cases::Tier as C;
    match t {
        P::Observe => C::Observe,
        P::Notify => C::Notify,
        P::StepUp => C::StepUp,
        P::JitRestrict => C::JitRestrict,
        P::Rotate => C::Rotate,
        P::OwnerReview => C::OwnerReview,
        P::Contain => C::Contain,
    }
}

/// Opens (or finds) one case per identity and incident for every decision above observe, asks
/// the owner when the decision includes owner review or step-up, and escalates overdue cases.
pub fn open_cases(result: &ScanResult, path: &std::path::Path) -> Result<Vec<String>, Failure> {
    use tripline_policy::ActionKind;
    let book = tripline_respond::cases::CaseBook::open(
        path,
        tripline_respond::cases::CaseConfig::default(),
    )
    .map_err(|e| Failure::usage(anyhow!(e)))?;
    let now = crate::scan::now().0 / 1000;
    let incident = result
        .report
        .as_of
        .map(|t| t.to_string())
        .unwrap_or_default();
    let incident = incident.get(..10).unwrap_or("").to_string();
    let mut opened = Vec::new();
    for i in &result.report.identities {
        let Some(d) = result.decisions.get(&i.id) else {
            continue;
        };
        if d.tier == tripline_policy::Tier::Observe {
            continue;
        }
        let summary = format!(
            "{}: {}",
            d.tier.as_str(),
            d.reasons.first().cloned().unwrap_or_default()
        );
        let case = book
            .open_case(
                &i.id,
                &incident,
                i.owner.clone(),
                case_tier(d.tier),
                &summary,
                now,
            )
            .map_err(|e| Failure::internal(anyhow!(e)))?;
        if case.state == tripline_respond::cases::CaseState::Open
            && (d.has(ActionKind::OwnerReview)
                || d.has(ActionKind::StepUp)
                || d.has(ActionKind::Contain))
        {
            book.request_owner(&case.id, now)
                .map_err(|e| Failure::internal(anyhow!(e)))?;
        }
        opened.push(case.id);
    }
    book.escalate_overdue(now)
        .map_err(|e| Failure::internal(anyhow!(e)))?;
    Ok(opened)
}

pub fn case(args: &crate::cli::CaseArgs) -> Result<u8, Failure> {
    use crate::cli::CaseCommand as C;
    let cfg = tripline_respond::cases::CaseConfig {
        admins: args.admins.clone(),
        ..Default::default()
    };
    crate::scan::require_exists(&args.cases)?;
    let book = tripline_respond::cases::CaseBook::open(&args.cases, cfg)
        .map_err(|e| Failure::usage(anyhow!(e)))?;
    let now = crate::scan::now().0 / 1000;
    let refused = |e: tripline_respond::cases::CaseError| Failure::usage(anyhow!(e));
    match &args.command {
        C::List => {
            for c in book.list().map_err(refused)? {
                println!(
                    "{}  {:<15} {:<13} {}  owner {}  {}",
                    c.id,
                    format!("{:?}", c.state).to_lowercase(),
                    format!("{:?}", c.tier).to_lowercase(),
                    c.identity,
                    c.owner.as_deref().unwrap_or("-"),
                    c.decision
                );
            }
        }
        C::Approve { id, who } => {
            book.approve(id, who, now).map_err(refused)?;
            record_verdict(args, who, id, "approved", None)?;
        }
        C::Deny { id, who, reason } => {
            book.deny(id, who, reason, now).map_err(refused)?;
            record_verdict(args, who, id, "denied", Some(reason.clone()))?;
        }
        C::Extend { id, who, secs } => {
            let until = book.extend(id, who, *secs, now).map_err(refused)?;
            println!(
                "restriction now ends at {}",
                tripline_model::Timestamp::from_secs(until)
            );
        }
        C::Undo { id, who } => {
            book.undo(id, who, now).map_err(refused)?;
            record_verdict(args, who, id, "undo_requested", None)?;
        }
        C::Resolve { id, who, note } => {
            book.resolve(id, who, note, now).map_err(refused)?;
            record_verdict(args, who, id, "resolved", Some(note.clone()))?;
        }
        C::EscalateOverdue => {
            for id in book.escalate_overdue(now).map_err(refused)? {
                println!("escalated {id}");
            }
        }
    }
    Ok(0)
}

/// Appends an analyst's or owner's verdict on a case to the evidence ledger, when one is given.
fn record_verdict(
    args: &crate::cli::CaseArgs,
    who: &str,
    case: &str,
    verdict: &str,
    reason: Option<String>,
) -> Result<(), Failure> {
    let Some(path) = &args.evidence else {
        return Ok(());
    };
    let mut ev = tripline_store::Evidence::open(path).map_err(|e| Failure::usage(anyhow!(e)))?;
    let body = tripline_store::Approval {
        who: who.to_string(),
        what: format!("case {case}"),
        verdict: verdict.to_string(),
        reason,
    };
    ev.append_body(case, &body, crate::scan::now())
        .map_err(|e| Failure::internal(anyhow!(e)))?;
    Ok(())
}
