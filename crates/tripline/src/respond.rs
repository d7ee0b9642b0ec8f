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

/// What an identity's most recent unclosed case carries into this run: its tier (the
/// `previous_tier` that hysteresis holds a decision at until the score falls clearly below it,
/// across runs, not only within one) and the owner's or an admin's standing approval, which
/// the guardrails accept for that identity's irreversible actions (and only for that identity).
#[derive(Debug, Clone)]
pub struct Prior {
    pub tier: tripline_policy::Tier,
    pub approval: Option<tripline_policy::Approval>,
}

pub fn prior(
    book: &tripline_respond::cases::CaseBook,
) -> Result<std::collections::HashMap<String, Prior>, Failure> {
    let mut all = book.list().map_err(|e| Failure::usage(anyhow!(e)))?;
    all.sort_by_key(|c| c.opened_at);
    let mut out = std::collections::HashMap::new();
    for c in all.into_iter().filter(|c| !c.state.is_closed()) {
        let approval = c.standing_approval().map(|a| tripline_policy::Approval {
            approver: a.who.clone(),
            reference: format!("case {}", c.id),
        });
        out.insert(
            c.identity.clone(),
            Prior {
                tier: c.tier,
                approval,
            },
        );
    }
    Ok(out)
}

/// Decides for every non-human identity (planned in plan mode, cleared to apply in apply mode;
/// nothing is carried out here). Suppressed identities (an analyst's verdict, until it expires)
/// get no decision.
pub fn decide(
    result: &mut ScanResult,
    policy: &PolicyEngine,
    previous: &std::collections::HashMap<String, Prior>,
    approve: Option<&String>,
    mode: tripline_policy::Mode,
) -> Result<(), Failure> {
    for (i, a) in result
        .report
        .identities
        .iter()
        .zip(&result.report.assessments)
    {
        if !i.kind.is_nhi() || result.suppressions.contains_key(&i.id) {
            continue;
        }
        let p = previous.get(&i.id);
        let input = DecisionInput::from_assessment(a, i, p.map(|p| p.tier));
        let ctx = GuardrailContext {
            mode,
            approval: approval_for(approve, p),
            ..GuardrailContext::default()
        };
        let d = policy
            .decide(&input, &ctx)
            .map_err(|e| Failure::internal(anyhow!(e).context(format!("deciding for {}", i.id))))?;
        result.decisions.insert(i.id.clone(), d);
    }
    result.policy_version = Some(policy.version().to_string());
    Ok(())
}

/// The incident a run belongs to: the day of its latest event (cases and action ids key on it).
fn incident_day(result: &ScanResult) -> String {
    let day = result
        .report
        .as_of
        .map(|t| t.to_string())
        .unwrap_or_default();
    day.get(..10).unwrap_or("").to_string()
}

/// When an applied restriction ends (Unix seconds), from its `outputs.expires_at`.
fn applied_expiry(applied: &tripline_respond::Applied) -> Option<i64> {
    applied
        .outputs
        .get("expires_at")
        .and_then(serde_json::Value::as_str)
        .and_then(tripline_model::Timestamp::parse)
        .map(|t| t.millis() / 1000)
}

/// `--approve who:reference` for the run, else the identity's case approval.
fn approval_for(
    approve: Option<&String>,
    prior: Option<&Prior>,
) -> Option<tripline_policy::Approval> {
    approve
        .map(|a| {
            let (who, reference) = a.split_once(':').unwrap_or((a.as_str(), ""));
            tripline_policy::Approval {
                approver: who.to_string(),
                reference: reference.to_string(),
            }
        })
        .or_else(|| prior.and_then(|p| p.approval.clone()))
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
    /// One AWS account: exactly the account its credentials belong to.
    pub aws: Option<AwsConfig>,
    /// More accounts, each with its own credentials (`account_id` required).
    #[serde(default)]
    pub aws_account: Vec<AwsConfig>,
    /// An organisation: one set of credentials that assumes a response role in each member.
    pub aws_org: Option<AwsOrgConfig>,
    pub webhook: Option<WebhookConfig>,
    pub vault: Option<VaultConfig>,
    /// Run-wide response settings.
    #[serde(default)]
    pub respond: RespondSettings,
}

/// `[respond]` in the connectors file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RespondSettings {
    /// Identities (exact ids or globs) never changed automatically (break-glass roles).
    #[serde(default)]
    pub never_touch: Vec<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    pub region: String,
    /// The account these credentials are for; the first call is refused when
    /// `sts:GetCallerIdentity` says otherwise. Optional for `[aws]` (the credentials' own
    /// account is served), required for `[[aws_account]]`.
    pub account_id: Option<String>,
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

/// `[aws_org]`: `sts:AssumeRole` into `arn:<partition>:iam::<account>:role/<response_role>` for
/// each listed member account, with these credentials.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsOrgConfig {
    pub region: String,
    pub endpoint_url: Option<String>,
    pub access_key_id_env: Option<String>,
    pub secret_access_key_env: Option<String>,
    pub secrets_dir: PathBuf,
    #[serde(default)]
    pub overlap_secs: u64,
    /// The role assumed in every member account.
    pub response_role: String,
    /// The member accounts Tripline may act in (no wildcard: an account not listed is refused).
    pub accounts: Vec<String>,
    #[serde(default = "default_partition")]
    pub partition: String,
}

fn default_partition() -> String {
    "aws".into()
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

/// An OpenBao / Vault server, and which identities hold credentials from which of its roles.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// `http(s)://host:port`, without `/v1`.
    pub address: String,
    /// The environment variable holding the token (never the token itself).
    pub token_env: String,
    /// The secrets engine mount of the bound roles (default `database`).
    #[serde(default = "default_mount")]
    pub mount: String,
    /// A restricted role's credentials live at most this long (default 300 s).
    #[serde(default = "default_restrict_ttl")]
    pub restrict_ttl_secs: u64,
    /// Identity (exact id or glob, as in the owners file) → Vault role.
    #[serde(default)]
    pub bind: Vec<VaultBind>,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultBind {
    pub identity: String,
    pub role: String,
    /// Overrides `[vault] mount` for this role.
    pub mount: Option<String>,
}

fn default_mount() -> String {
    "database".into()
}

fn default_restrict_ttl() -> u64 {
    tripline_respond::vault::DEFAULT_RESTRICT_TTL_SECS
}

impl VaultConfig {
    /// The binding for an identity: an exact match first, else the most specific glob.
    fn binding(&self, identity: &str) -> Option<&VaultBind> {
        use tripline_ingest::inventory::glob::{glob_match, is_glob, literal_len};
        self.bind
            .iter()
            .find(|b| !is_glob(&b.identity) && b.identity == identity)
            .or_else(|| {
                self.bind
                    .iter()
                    .filter(|b| is_glob(&b.identity) && glob_match(&b.identity, identity))
                    .max_by_key(|b| literal_len(&b.identity))
            })
    }
}

pub use tripline_respond::{OutcomeStatus, SweepWhat};

/// What happened to one planned action under `--respond apply`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub identity: String,
    pub kind: String,
    pub action_id: Option<String>,
    pub connector: Option<String>,
    pub status: OutcomeStatus,
    pub detail: String,
    /// When an applied restriction ends (Unix seconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

/// Where rotated secrets go and how long the old key overlaps, for one account's connector.
#[derive(Debug, Clone)]
struct AwsSettings {
    secrets_dir: PathBuf,
    overlap_secs: u64,
}

/// One account Tripline acts in, with its connector (made on first use in organisation mode).
struct AwsAccount {
    /// The configured account id; `None` for `[aws]` without `account_id` (the credentials'
    /// own account, read with `sts:GetCallerIdentity`).
    account: Option<String>,
    conn: std::sync::OnceLock<Result<tripline_respond::aws::AwsConnector, String>>,
    settings: AwsSettings,
}

/// Organisation mode: the credentials that assume the response role in member accounts.
struct AwsOrg {
    base: tripline_respond::aws::AwsConnector,
    role: String,
    partition: String,
}

pub struct Connectors {
    pub settings: RespondSettings,
    aws: Vec<AwsAccount>,
    org: Option<AwsOrg>,
    webhook: Option<tripline_respond::webhook::WebhookConnector>,
    vault: Option<(tripline_respond::vault::VaultConnector, VaultConfig)>,
}

impl std::fmt::Debug for Connectors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connectors")
            .field("aws_accounts", &self.aws.len())
            .field("aws_org", &self.org.is_some())
            .field("webhook", &self.webhook.is_some())
            .field("vault", &self.vault.is_some())
            .finish()
    }
}

impl Connectors {
    /// The connector in this slot, made (organisation mode: `sts:AssumeRole`) on first use.
    fn slot<'a>(
        &'a self,
        a: &'a AwsAccount,
    ) -> Result<&'a tripline_respond::aws::AwsConnector, String> {
        let made = a.conn.get_or_init(|| match (&self.org, &a.account) {
            (Some(org), Some(acct)) => org
                .base
                .assume_into(
                    &tripline_respond::AccountRef {
                        partition: org.partition.clone(),
                        account: acct.clone(),
                    },
                    &org.role,
                )
                .map_err(|e| e.to_string()),
            _ => Err("no credentials for this account".into()),
        });
        made.as_ref().map_err(String::clone)
    }

    /// The AWS connector that acts in `target`'s account, or the refusal (nothing is applied
    /// anywhere for an identity whose account no connector serves).
    fn aws_for(
        &self,
        identity: &str,
        target: &tripline_respond::AccountRef,
    ) -> Result<
        (&tripline_respond::aws::AwsConnector, &AwsSettings),
        tripline_respond::ConnectorError,
    > {
        let mut served = Vec::new();
        for a in &self.aws {
            // A configured account that is not the target is not even contacted.
            if a.account
                .as_ref()
                .is_some_and(|acct| *acct != target.account)
            {
                served.push(a.account.clone().unwrap_or_default());
                continue;
            }
            match self
                .slot(a)
                .and_then(|c| c.caller().map(|k| (c, k)).map_err(|e| e.to_string()))
            {
                Ok((c, caller)) if caller.account == *target => return Ok((c, &a.settings)),
                Ok((_, caller)) => served.push(caller.account.to_string()),
                Err(e) => served.push(format!(
                    "{} (unavailable: {e})",
                    a.account.as_deref().unwrap_or("[aws]")
                )),
            }
        }
        Err(tripline_respond::ConnectorError::WrongAccount {
            connector: "aws".into(),
            identity: identity.to_string(),
            identity_account: target.to_string(),
            serves: if served.is_empty() {
                "no account".into()
            } else {
                served.join(", ")
            },
        })
    }

    /// The connector that recorded an action (as the ledger names it), for this identity: an
    /// AWS action goes back to the connector of the identity's own account.
    pub fn for_record(
        &self,
        name: &str,
        identity: &str,
    ) -> Result<&dyn tripline_respond::Connector, String> {
        use tripline_respond::Connector;
        let missing = || format!("needs the {name} connector in --connectors");
        match name {
            "aws" => {
                let target = tripline_respond::AccountRef::of_arn(identity)
                    .ok_or_else(|| format!("{identity} is not an ARN"))?;
                self.aws_for(identity, &target)
                    .map(|(c, _)| c as &dyn Connector)
                    .map_err(|e| e.to_string())
            }
            "webhook" => self
                .webhook
                .as_ref()
                .map(|w| w as &dyn Connector)
                .ok_or_else(missing),
            "vault" => self
                .vault
                .as_ref()
                .map(|(v, _)| v as &dyn Connector)
                .ok_or_else(missing),
            _ => Err(missing()),
        }
    }

    /// Every configured connector (organisation accounts assumed now; one that cannot be is
    /// reported and left out).
    fn all(&self) -> Vec<&dyn tripline_respond::Connector> {
        use tripline_respond::Connector;
        let mut out: Vec<&dyn Connector> = Vec::new();
        for a in &self.aws {
            match self.slot(a) {
                Ok(c) => out.push(c),
                Err(e) => eprintln!(
                    "aws account {}: {e}",
                    a.account.as_deref().unwrap_or("[aws]")
                ),
            }
        }
        if let Some(w) = &self.webhook {
            out.push(w);
        }
        if let Some((v, _)) = &self.vault {
            out.push(v);
        }
        out
    }
}

fn aws_connector(
    region: &str,
    endpoint_url: Option<&String>,
    key_env: Option<&String>,
    secret_env: Option<&String>,
) -> Result<tripline_respond::aws::AwsConnector, Failure> {
    let env = |name: Option<&String>| name.and_then(|n| std::env::var(n).ok());
    match (env(key_env), env(secret_env)) {
        (Some(k), Some(s)) => tripline_respond::aws::AwsConnector::with_credentials(
            endpoint_url.cloned(),
            region,
            &k,
            &s,
        ),
        _ => tripline_respond::aws::AwsConnector::new(endpoint_url.cloned(), region),
    }
    .map_err(|e| Failure::usage(anyhow!(e)))
}

fn secrets_dir(dir: &std::path::Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::usage(anyhow!(e).context("creating secrets_dir")))
}

fn is_account_id(a: &str) -> bool {
    a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())
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
    if cfg.aws_org.is_some() && (cfg.aws.is_some() || !cfg.aws_account.is_empty()) {
        return Err(Failure::usage(anyhow!(
            "--connectors: [aws_org] cannot be combined with [aws] or [[aws_account]]: give each account once"
        )));
    }
    let mut aws = Vec::new();
    let single = cfg.aws.into_iter().map(|a| (a, false));
    for (a, needs_account) in single.chain(cfg.aws_account.into_iter().map(|a| (a, true))) {
        match &a.account_id {
            Some(id) if !is_account_id(id) => {
                return Err(Failure::usage(anyhow!(
                    "--connectors: account_id {id:?} is not a 12-digit AWS account id"
                )))
            }
            None if needs_account => {
                return Err(Failure::usage(anyhow!(
                    "--connectors: every [[aws_account]] needs account_id"
                )))
            }
            _ => {}
        }
        let mut c = aws_connector(
            &a.region,
            a.endpoint_url.as_ref(),
            a.access_key_id_env.as_ref(),
            a.secret_access_key_env.as_ref(),
        )?;
        if let Some(id) = &a.account_id {
            c = c.expect_account(id.clone());
        }
        secrets_dir(&a.secrets_dir)?;
        let conn = std::sync::OnceLock::new();
        let _ = conn.set(Ok(c));
        aws.push(AwsAccount {
            account: a.account_id,
            conn,
            settings: AwsSettings {
                secrets_dir: a.secrets_dir,
                overlap_secs: a.overlap_secs,
            },
        });
    }
    let mut org = None;
    if let Some(o) = cfg.aws_org {
        if let Some(bad) = o.accounts.iter().find(|a| !is_account_id(a)) {
            return Err(Failure::usage(anyhow!(
                "--connectors: [aws_org] accounts: {bad:?} is not a 12-digit AWS account id"
            )));
        }
        secrets_dir(&o.secrets_dir)?;
        for acct in &o.accounts {
            aws.push(AwsAccount {
                account: Some(acct.clone()),
                conn: std::sync::OnceLock::new(),
                settings: AwsSettings {
                    secrets_dir: o.secrets_dir.clone(),
                    overlap_secs: o.overlap_secs,
                },
            });
        }
        org = Some(AwsOrg {
            base: aws_connector(
                &o.region,
                o.endpoint_url.as_ref(),
                o.access_key_id_env.as_ref(),
                o.secret_access_key_env.as_ref(),
            )?,
            role: o.response_role,
            partition: o.partition,
        });
    }
    let webhook = cfg.webhook.map(|w| {
        let format = if w.format == "chat" {
            tripline_respond::webhook::Format::Chat
        } else {
            tripline_respond::webhook::Format::Generic
        };
        tripline_respond::webhook::WebhookConnector::new(w.url, format)
    });
    let vault = match cfg.vault {
        Some(v) => {
            let token = std::env::var(&v.token_env).map_err(|_| {
                Failure::usage(anyhow!(
                    "[vault] token_env: environment variable {} is not set",
                    v.token_env
                ))
            })?;
            let c = tripline_respond::vault::VaultConnector::new(v.address.clone(), token);
            Some((c, v))
        }
        None => None,
    };
    Ok(Connectors {
        settings: cfg.respond,
        aws,
        org,
        webhook,
        vault,
    })
}

fn is_iam(id: &str) -> bool {
    id.starts_with("arn:") && (id.contains(":user/") || id.contains(":role/"))
}

/// Whether `identity` is the IAM principal an AWS connector acts as (its own response role).
fn is_response_role(c: &dyn tripline_respond::Connector, identity: &str) -> bool {
    c.acting_as().is_some_and(|me| me == identity)
}

impl Route<'_> {
    /// A refusal for a reason outside the connectors (age, never-touch list).
    fn refused(self, why: String) -> Self {
        Route::Refused(tripline_respond::ConnectorError::Refused(why))
    }
}

/// Where one call goes.
enum Route<'a> {
    To(&'a dyn tripline_respond::Connector),
    /// No connector may act (the identity's account is not served): recorded as refused in the
    /// ledger, nothing applied.
    Refused(tripline_respond::ConnectorError),
    /// Nothing to do for this identity (the reason is the outcome's detail).
    Skipped(String),
}

/// One connector call a policy action turns into, with a note when part of it is held.
struct Call<'a> {
    conn: Route<'a>,
    connector: &'static str,
    req: tripline_respond::ActionRequest,
    note: Option<String>,
}

/// The connector calls one policy action turns into for one identity: zero, one or two (an
/// IAM identity that also holds Vault credentials is acted on in both systems). Each call's id
/// is `<connector>:<kind it really performs>:<subject>`, so two policy actions that come down to
/// the same change share one id and run once. An AWS call carries the identity's account and
/// goes to the connector of that account only. The ladder: `restrict` denies only
/// `deny_actions` (the implicated actions); a role's credential reset (`reset_sessions`, or
/// `rotate`, which a role cannot) is a session reset; a user's is a key rotation; `contain`
/// deactivates a user's key, or denies everything for a role (the guardrails clear it only with
/// an approval).
fn targets<'a>(
    conns: &'a Connectors,
    kind: tripline_policy::ActionKind,
    identity: &tripline_model::Identity,
    key: Option<&String>,
    base: &tripline_respond::ActionRequest,
    subject: &str,
    approval: Option<&tripline_policy::Approval>,
) -> Vec<Call<'a>> {
    use tripline_policy::ActionKind;
    use tripline_respond::Connector;
    let mut out: Vec<Call<'a>> = Vec::new();
    // The implicated actions, for the narrowest rung (set by `apply` from the signals).
    let deny_actions: Vec<String> = base
        .params
        .get("deny_actions")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let request = |conn: &str, kind: &str| {
        let mut r = base.clone();
        r.kind = kind.to_string();
        r.action_id = format!("{conn}:{kind}:{subject}");
        r
    };
    match kind {
        ActionKind::Notify | ActionKind::StepUp | ActionKind::OwnerReview => {
            if let Some(w) = &conns.webhook {
                out.push(Call {
                    conn: Route::To(w as &dyn Connector),
                    connector: "webhook",
                    req: request("webhook", kind.as_str()),
                    note: None,
                });
            }
        }
        ActionKind::Restrict
        | ActionKind::ResetSessions
        | ActionKind::Rotate
        | ActionKind::Contain => {
            let account = tripline_respond::AccountRef::of_arn(&identity.id);
            if let (false, true, Some(account)) =
                (conns.aws.is_empty(), is_iam(&identity.id), account)
            {
                let is_user = identity.id.contains(":user/");
                use tripline_respond::aws::AwsAction;
                let aws_kind = match kind {
                    ActionKind::Restrict => AwsAction::Restrict,
                    ActionKind::Rotate | ActionKind::ResetSessions if is_user => AwsAction::Rotate,
                    ActionKind::Rotate | ActionKind::ResetSessions => AwsAction::ResetSessions,
                    ActionKind::Contain if is_user && key.is_some() => AwsAction::Contain,
                    _ => AwsAction::DenyAll,
                };
                let mut req = request("aws", aws_kind.as_str());
                if aws_kind == AwsAction::DenyAll && req.expires_in_secs.is_none() {
                    // Containment of a role is a full deny, time-boxed like every restriction.
                    req.expires_in_secs =
                        Some(tripline_policy::GuardrailConfig::default().max_restriction_secs);
                }
                let routed = conns.aws_for(&identity.id, &account);
                req.account = Some(account);
                if let Some(o) = req.params.as_object_mut() {
                    if aws_kind != AwsAction::Restrict {
                        o.remove("deny_actions");
                    }
                    if let (Ok((_, settings)), AwsAction::Rotate) = (&routed, aws_kind) {
                        let file = settings
                            .secrets_dir
                            .join(format!("{}.json", req.action_id.replace(['/', ':'], "_")));
                        o.insert("secret_file".into(), serde_json::json!(file));
                        o.insert(
                            "overlap_secs".into(),
                            serde_json::json!(settings.overlap_secs),
                        );
                    }
                }
                let conn = match routed {
                    Err(e) => Route::Refused(e),
                    Ok(_) if aws_kind == AwsAction::Restrict && deny_actions.is_empty() => Route::Skipped(
                        "nothing narrow to deny: no sensitive call or new service in the signals (owner review instead)"
                            .into(),
                    ),
                    Ok(_) if aws_kind == AwsAction::Rotate && key.is_none() => Route::Skipped(
                        "no access key of this user is known to rotate (owner review instead)"
                            .into(),
                    ),
                    Ok((c, _)) => Route::To(c as &dyn Connector),
                };
                out.push(Call {
                    conn,
                    connector: "aws",
                    req,
                    note: None,
                });
            }
            if let Some((v, cfg)) = &conns.vault {
                if let Some(b) = cfg.binding(&identity.id) {
                    let mount = b.mount.as_deref().unwrap_or(&cfg.mount);
                    // Revoking every lease of the role is irreversible: only with an approval.
                    // Without one, the role's credentials are made short-lived for the time box.
                    let reset = matches!(
                        kind,
                        ActionKind::Rotate | ActionKind::ResetSessions | ActionKind::Contain
                    );
                    let (vault_kind, note) = match (reset, approval) {
                        (true, Some(_)) => ("reset_leases", None),
                        (true, None) => (
                            "restrict",
                            Some(format!(
                                "reset_leases of {mount}/creds/{} held until an approval (tripline case approve, or --approve); restricting instead",
                                b.role
                            )),
                        ),
                        (false, _) => ("restrict", None),
                    };
                    let mut req = request("vault", vault_kind);
                    req.params = serde_json::json!({
                        "role": b.role,
                        "mount": mount,
                        "ttl_secs": cfg.restrict_ttl_secs,
                        "approved": approval.is_some(),
                    });
                    out.push(Call {
                        conn: Route::To(v as &dyn Connector),
                        connector: "vault",
                        req,
                        note,
                    });
                }
            }
        }
    }
    out
}

/// Records in the ledger an action refused before any call (its error says why).
fn refuse(
    led: &tripline_respond::ledger::Ledger,
    req: &tripline_respond::ActionRequest,
    connector: &str,
    why: &str,
) -> Result<(), Failure> {
    use tripline_respond::ledger::Begin;
    let internal = |e: tripline_respond::ConnectorError| Failure::internal(anyhow!(e));
    match led.begin(req, connector) {
        Ok(Begin::Fresh | Begin::InProgress(_)) => led.fail(&req.action_id, why).map_err(internal),
        // Applied earlier (by a connector that served it then), or undone: keep that record.
        Ok(Begin::Done(_)) | Err(tripline_respond::ConnectorError::Invalid(_)) => Ok(()),
        Err(e) => Err(internal(e)),
    }
}

/// What `--respond apply` may touch in one run, whatever the policy says.
#[derive(Debug, Clone)]
pub struct Safety {
    /// Evidence whose latest event is older than this (seconds) is not acted on.
    pub max_evidence_age_secs: u64,
    /// At most this many identities are restricted (any change in AWS or Vault) per run; the
    /// rest, highest score first, become owner reviews.
    pub max_restricted: usize,
    /// Identities (exact ids or globs) never changed automatically: break-glass roles. The
    /// response role itself (each AWS connector's caller) is always on it.
    pub never_touch: Vec<String>,
    /// Now (Unix seconds).
    pub now: i64,
}

impl Safety {
    /// Default age limit: a day. Logs older than that describe a past state of the account;
    /// acting on them today restricts identities for what may long be fixed.
    pub const DEFAULT_MAX_EVIDENCE_AGE_SECS: u64 = 24 * 3600;
    /// Default cap: a handful. A wrong policy or bad input cannot lock out a whole fleet in
    /// one run; owners review the rest.
    pub const DEFAULT_MAX_RESTRICTED: usize = 3;

    fn never_touched(&self, id: &str) -> bool {
        use tripline_ingest::inventory::glob::{glob_match, is_glob};
        self.never_touch.iter().any(|g| {
            if is_glob(g) {
                glob_match(g, id)
            } else {
                g == id
            }
        })
    }
}

/// Why a whole run's changes are refused: the evidence is older than the limit.
fn stale(result: &ScanResult, safety: &Safety) -> Option<String> {
    let as_of = result.report.as_of?;
    let age = safety.now.saturating_sub(as_of.millis() / 1000);
    let limit = i64::try_from(safety.max_evidence_age_secs).unwrap_or(i64::MAX);
    (age > limit).then(|| {
        format!(
            "evidence ends at {as_of}, {} h ago, older than the {} h limit; nothing applied (--max-evidence-age SECS to act on older evidence)",
            age / 3600,
            safety.max_evidence_age_secs / 3600
        )
    })
}

/// Decides in apply mode and carries out what the guardrails cleared, through the connectors,
/// with the ledger, within the run's [`Safety`] limits.
pub fn apply(
    result: &mut ScanResult,
    policy: &PolicyEngine,
    approve: Option<&String>,
    previous: &std::collections::HashMap<String, Prior>,
    conns: &Connectors,
    led: &tripline_respond::ledger::Ledger,
    safety: &Safety,
) -> Result<(), Failure> {
    use tripline_policy::ActionStatus;
    use tripline_respond::{ledger, ActionRequest};
    decide(
        result,
        policy,
        previous,
        approve,
        tripline_policy::Mode::Apply,
    )?;
    let day = incident_day(result);
    let stale = stale(result, safety);
    let mut outcomes = Vec::new();
    let mut restricted = std::collections::BTreeSet::new();
    // Highest score first, so the per-run cap keeps the most urgent identities.
    let mut order: Vec<usize> = (0..result.report.identities.len()).collect();
    order.sort_by(|&x, &y| {
        let score = |k: usize| result.report.assessments.get(k).map_or(0.0, |a| a.score);
        score(y).total_cmp(&score(x))
    });
    for (i, a) in order.iter().filter_map(|&k| {
        Some((
            result.report.identities.get(k)?,
            result.report.assessments.get(k)?,
        ))
    }) {
        let Some(d) = result.decisions.get(&i.id) else {
            continue;
        };
        let deny_actions = tripline_respond::ladder::implicated_actions(
            a.signals
                .iter()
                .filter(|s| s.driver == tripline_model::Driver::Behaviour)
                .map(|s| (s.code.as_str(), s.summary.as_str())),
        );
        let case = format!("{}#{day}", i.id);
        let approval = approval_for(approve, previous.get(&i.id));
        let key = i
            .credentials
            .iter()
            .filter(|c| {
                c.kind == tripline_model::CredentialKind::AccessKey && c.id.starts_with("AKIA")
            })
            .max_by_key(|c| c.last_seen)
            .map(|c| c.id.clone());
        let subject = format!("{}:{day}", i.id);
        let mut seen = std::collections::HashSet::new();
        for act in d.actions.iter().filter(|x| x.status == ActionStatus::Apply) {
            let base = ActionRequest {
                action_id: String::new(),
                kind: String::new(),
                identity: i.id.clone(),
                credential: key.clone(),
                expires_in_secs: act.expires_in_secs,
                reason: d.reasons.first().cloned().unwrap_or_default(),
                params: serde_json::json!({"owner": i.owner, "case": case, "deny_actions": deny_actions, "message": format!("{} ({:.0}, {})", i.id, a.score, a.level.as_str())}),
                account: None,
            };
            let calls = targets(
                conns,
                act.kind,
                i,
                key.as_ref(),
                &base,
                &subject,
                approval.as_ref(),
            );
            if calls.is_empty() {
                outcomes.push(Outcome {
                    identity: i.id.clone(),
                    kind: act.kind.as_str().to_string(),
                    action_id: None,
                    connector: None,
                    status: OutcomeStatus::Skipped,
                    detail: "no connector configured for this action and identity".into(),
                    expires_at: None,
                });
            }
            for Call {
                conn,
                connector,
                req,
                note,
            } in calls
            {
                if !seen.insert(req.action_id.clone()) {
                    continue;
                }
                let mut out = Outcome {
                    identity: i.id.clone(),
                    kind: req.kind.clone(),
                    action_id: Some(req.action_id.clone()),
                    connector: Some(connector.to_string()),
                    status: OutcomeStatus::Failed,
                    detail: String::new(),
                    expires_at: None,
                };
                if let Some(n) = note {
                    outcomes.push(Outcome {
                        status: OutcomeStatus::Held,
                        kind: "reset_leases".into(),
                        action_id: None,
                        detail: n,
                        ..out.clone()
                    });
                }
                let changes_a_system = connector != "webhook";
                let conn = match conn {
                    Route::To(_) if stale.is_some() => {
                        Route::Skipped(String::new()).refused(stale.clone().unwrap_or_default())
                    }
                    Route::To(_) if changes_a_system && safety.never_touched(&i.id) => {
                        Route::Skipped(String::new()).refused(
                            "on the never-touch list: not changed automatically (act by hand if needed)".into(),
                        )
                    }
                    Route::To(c) if changes_a_system && is_response_role(c, &i.id) => {
                        Route::Skipped(String::new()).refused(
                            "the response role itself: never changed automatically".into(),
                        )
                    }
                    Route::To(_)
                        if changes_a_system
                            && !restricted.contains(&i.id)
                            && restricted.len() >= safety.max_restricted =>
                    {
                        Route::Skipped(format!(
                            "per-run cap of {} restricted identities reached (--max-restricted); owner review instead",
                            safety.max_restricted
                        ))
                    }
                    other => other,
                };
                if let (Route::To(_), true) = (&conn, changes_a_system) {
                    restricted.insert(i.id.clone());
                }
                let c = match conn {
                    Route::To(c) => c,
                    Route::Refused(e) => {
                        // Refused before any call: recorded in the ledger, nothing applied.
                        refuse(led, &req, connector, &e.to_string())?;
                        out.status = OutcomeStatus::Refused;
                        out.detail = e.to_string();
                        outcomes.push(out);
                        continue;
                    }
                    Route::Skipped(why) => {
                        out.status = OutcomeStatus::Skipped;
                        out.detail = why;
                        outcomes.push(out);
                        continue;
                    }
                };
                let earlier = led
                    .get(&req.action_id)
                    .map_err(|e| Failure::internal(anyhow!(e)))?;
                match earlier.as_ref().map(|r| r.state) {
                    // An action undone earlier (by its owner, or lifted at expiry) is not
                    // re-applied for the same incident.
                    Some(s @ (ledger::State::Undone | ledger::State::Undoing)) => {
                        out.status = OutcomeStatus::Skipped;
                        out.detail =
                            format!("{} earlier for this incident; not re-applied", s.as_str());
                        outcomes.push(out);
                        continue;
                    }
                    // Done by an earlier run: say so, never report it as new.
                    Some(ledger::State::Applied | ledger::State::Verified) => {
                        out.status = if connector == "webhook" {
                            OutcomeStatus::Skipped
                        } else {
                            OutcomeStatus::AlreadyApplied
                        };
                        let applied = earlier.and_then(|r| r.applied);
                        out.expires_at = applied.as_ref().and_then(applied_expiry);
                        out.detail = if connector == "webhook" {
                            "delivered before for this incident; not sent again".to_string()
                        } else {
                            format!(
                                "applied by an earlier run; nothing changed (undo: tripline action undo {})",
                                req.action_id
                            )
                        };
                        outcomes.push(out);
                        continue;
                    }
                    _ => {}
                }
                match ledger::run_apply(c, led, &req) {
                    Ok(applied) => {
                        out.status = OutcomeStatus::Applied;
                        out.expires_at = applied_expiry(&applied);
                        out.detail = format!(
                            "{} (undo: tripline action undo {})",
                            applied.outputs, req.action_id
                        );
                    }
                    Err(e @ tripline_respond::ConnectorError::WrongAccount { .. }) => {
                        out.status = OutcomeStatus::Refused;
                        out.detail = e.to_string();
                    }
                    Err(e) => out.detail = e.to_string(),
                }
                outcomes.push(out);
            }
        }
    }
    result.outcomes = outcomes;
    Ok(())
}

/// A store a command only reads must exist; the error names the flag that gives it.
fn require_store(p: &std::path::Path, flag: &str, what: &str) -> Result<(), Failure> {
    if p.exists() {
        return Ok(());
    }
    Err(Failure::usage(anyhow!(
        "{}: no such file; give {what} with {flag} FILE",
        p.display()
    )))
}

pub fn action(args: &crate::cli::ActionArgs) -> Result<u8, Failure> {
    use crate::cli::ActionCommand;
    use tripline_respond::ledger;
    require_store(
        &args.ledger,
        "--ledger",
        "the action ledger `scan --respond apply` wrote",
    )?;
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
            let c = conns
                .for_record(&rec.connector, &rec.request.identity)
                .map_err(|e| Failure::usage(anyhow!("{action_id}: {e}")))?;
            ledger::run_undo(c, &led, &applied).map_err(|e| Failure::internal(anyhow!(e)))?;
            println!("undone {action_id}");
            Ok(0)
        }
        ActionCommand::Recover => {
            let conns = connectors(args.connectors.as_ref())?;
            let mut all = Vec::new();
            for c in conns.all() {
                all.extend(ledger::recover(c, &led).map_err(|e| Failure::internal(anyhow!(e)))?);
            }
            for r in &all {
                println!("{r:?}");
            }
            println!("{} half-done actions resolved", all.len());
            Ok(0)
        }
    }
}

/// Opens (or finds) one case per identity and incident for every decision above observe, asks
/// the owner when the decision includes owner review or step-up, and escalates overdue cases.
pub fn open_cases(
    result: &ScanResult,
    book: &tripline_respond::cases::CaseBook,
    now: i64,
    default_owner: Option<&str>,
) -> Result<Vec<String>, Failure> {
    use tripline_policy::ActionKind;
    let incident = incident_day(result);
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
                // No owner: the configured default owner, else nobody but the admins, who may
                // act on any case (and an unanswered request escalates, it never waits).
                i.owner
                    .clone()
                    .or_else(|| default_owner.map(str::to_string)),
                d.tier,
                &summary,
                now,
            )
            .map_err(|e| Failure::internal(anyhow!(e)))?;
        let asks_owner = d.has(ActionKind::OwnerReview)
            || d.has(ActionKind::StepUp)
            || d.has(ActionKind::Contain);
        if case.owner.is_none() && asks_owner {
            // Nobody to wait for: the case stays open for the admins (`tripline case … --admin`),
            // it does not sit out an owner's deadline.
            eprintln!(
                "case {} has no owner: it is for the admins (give --default-owner to route such cases)",
                case.id
            );
        }
        if case.state == tripline_respond::cases::CaseState::Open
            && case.owner.is_some()
            && asks_owner
        {
            book.request_owner(&case.id, now)
                .map_err(|e| Failure::internal(anyhow!(e)))?;
        }
        for o in result
            .outcomes
            .iter()
            .filter(|o| o.identity == i.id && o.status == OutcomeStatus::Applied)
        {
            let (Some(action_id), Some(connector)) = (&o.action_id, &o.connector) else {
                continue;
            };
            book.record_action(
                &case.id,
                tripline_respond::cases::CaseAction {
                    action_id: action_id.clone(),
                    connector: connector.clone(),
                    kind: o.kind.clone(),
                    expires_at: o.expires_at,
                },
            )
            .map_err(|e| Failure::internal(anyhow!(e)))?;
        }
        opened.push(case.id);
    }
    book.escalate_overdue(now)
        .map_err(|e| Failure::internal(anyhow!(e)))?;
    Ok(opened)
}

/// One thing [`sweep`] did (or failed to do).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SweepStep {
    pub case: String,
    pub identity: String,
    pub action_id: Option<String>,
    /// `undone`, `extended`, `expired`, `escalated`, or `failed`.
    pub what: SweepWhat,
    pub detail: String,
}

/// Carries out what cases ask for, through the ledger and the connectors. Run it from a timer;
/// it is idempotent.
/// - **Undo requested** (`case undo`, or `case deny` of a restricted or contained case): every
///   applied action of the case is undone; the case goes back to `open` (or stays a false
///   positive).
/// - **Extended** (`case extend`): a restriction whose case now ends later is moved to the new
///   end in the system itself (the AWS deny is rewritten with the later `aws:CurrentTime`).
/// - **Expired**: once a restriction's end has passed its change is removed (an AWS deny is
///   inert by then and is deleted as clean-up; a capped Vault role gets its TTLs back) and the
///   case leaves `restricted`.
/// - **Silent owners**: cases past the owner's deadline go up a tier.
pub fn sweep(
    book: &tripline_respond::cases::CaseBook,
    led: &tripline_respond::ledger::Ledger,
    conns: &Connectors,
    now: i64,
) -> Result<Vec<SweepStep>, Failure> {
    use tripline_respond::ledger::{self, State};
    let internal = |e: &dyn std::fmt::Display| Failure::internal(anyhow!("{e}"));
    let mut steps = Vec::new();
    for case in book.list().map_err(|e| internal(&e))? {
        let step = |action_id: Option<&str>, what: SweepWhat, detail: String| SweepStep {
            case: case.id.clone(),
            identity: case.identity.clone(),
            action_id: action_id.map(str::to_string),
            what,
            detail,
        };
        // The case's actions that are still in force, with their connector.
        let mut live = Vec::new();
        for a in &case.actions {
            let Some(rec) = led.get(&a.action_id).map_err(|e| internal(&e))? else {
                continue;
            };
            if let (State::Applied | State::Verified, Some(applied)) = (rec.state, rec.applied) {
                live.push((a, applied));
            }
        }
        // What the case asks for: which of its actions, what to do with them, and how the case
        // moves on once every one of them is done.
        type Then = fn(&tripline_respond::cases::CaseBook, &str) -> Result<(), CaseError>;
        use tripline_respond::cases::{CaseBook, CaseError, CaseState};
        let until = case.restriction_expires_at.unwrap_or(i64::MAX);
        let restricted = case.state == CaseState::Restricted && until != i64::MAX;
        let restrictions = live.iter().filter(|(a, _)| a.expires_at.is_some());
        let (chosen, what, then): (Vec<_>, SweepWhat, Option<Then>) = if case.undo_requested {
            (
                live.iter().collect(),
                SweepWhat::Undone,
                Some(CaseBook::undo_done),
            )
        } else if restricted && until <= now {
            (
                restrictions.collect(),
                SweepWhat::Expired,
                Some(CaseBook::restriction_ended),
            )
        } else if restricted {
            // Extended: the case ends later than what is in force.
            let behind = |(_, applied): &&(_, tripline_respond::Applied)| {
                applied_expiry(applied).is_none_or(|end| end < until)
            };
            (
                restrictions.filter(behind).collect(),
                SweepWhat::Extended,
                None,
            )
        } else {
            continue;
        };
        let mut all_ok = true;
        for (a, applied) in chosen {
            let done = match conns.for_record(&a.connector, &case.identity) {
                Err(e) => Err(e),
                Ok(c) if what == SweepWhat::Extended => c
                    .extend(applied, until)
                    .and_then(|new| led.finish(&a.action_id, &new))
                    .map_err(|e| e.to_string()),
                Ok(c) => ledger::run_undo(c, led, applied).map_err(|e| e.to_string()),
            };
            let end = tripline_model::Timestamp::from_secs(until);
            steps.push(match done {
                Ok(()) => step(
                    Some(&a.action_id),
                    what,
                    match what {
                        SweepWhat::Undone => "at the owner's request".to_string(),
                        SweepWhat::Expired => format!("ended at {end}"),
                        _ => format!("now ends at {end}"),
                    },
                ),
                Err(e) => {
                    all_ok = false;
                    step(
                        Some(&a.action_id),
                        SweepWhat::Failed,
                        format!("{what}: {e}"),
                    )
                }
            });
        }
        if let (true, Some(then)) = (all_ok, then) {
            then(book, &case.id).map_err(|e| internal(&e))?;
        }
    }
    for id in book.escalate_overdue(now).map_err(|e| internal(&e))? {
        let case = book.get(&id).map_err(|e| internal(&e))?;
        steps.push(SweepStep {
            case: id,
            identity: case.identity,
            action_id: None,
            what: SweepWhat::Escalated,
            detail: format!("owner silent; now at {}", case.tier),
        });
    }
    Ok(steps)
}

pub fn case(args: &crate::cli::CaseArgs) -> Result<u8, Failure> {
    use crate::cli::CaseCommand as C;
    let cfg = tripline_respond::cases::CaseConfig {
        admins: args.admins.clone(),
        ..Default::default()
    };
    require_store(
        &args.cases,
        "--cases",
        "the case book `scan --respond … --cases` wrote",
    )?;
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
                    c.state.to_string(),
                    c.tier.as_str(),
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
        C::Sweep => {}
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
    // A verdict that changes what is in force takes effect now when the connectors are given
    // (`sweep` itself always runs); otherwise the next `case sweep` carries it out.
    let sweep_now = match args.command {
        C::Sweep => {
            require_store(
                &args.ledger,
                "--ledger",
                "the action ledger `scan --respond apply` wrote",
            )?;
            true
        }
        C::Deny { .. } | C::Extend { .. } | C::Undo { .. } => {
            args.connectors.is_some() && args.ledger.exists()
        }
        _ => false,
    };
    if sweep_now {
        let conns = connectors(args.connectors.as_ref())?;
        let led = tripline_respond::ledger::Ledger::open(&args.ledger)
            .map_err(|e| Failure::usage(anyhow!(e)))?;
        let steps = sweep(&book, &led, &conns, now)?;
        report_sweep(&steps, args.evidence.as_deref())?;
        if steps.iter().any(|s| s.what == SweepWhat::Failed) {
            return Ok(1);
        }
    }
    Ok(0)
}

/// Prints what a sweep did and appends it to the evidence ledger when one is given.
pub fn report_sweep(
    steps: &[SweepStep],
    evidence: Option<&std::path::Path>,
) -> Result<(), Failure> {
    for s in steps {
        eprintln!(
            "{:<9} case {} {} {}: {}",
            s.what,
            s.case,
            s.identity,
            s.action_id.as_deref().unwrap_or("-"),
            s.detail
        );
    }
    let Some(path) = evidence else {
        return Ok(());
    };
    if steps.is_empty() {
        return Ok(());
    }
    let mut ev = tripline_store::Evidence::open(path).map_err(|e| Failure::usage(anyhow!(e)))?;
    let at = crate::scan::now();
    for s in steps {
        let body = tripline_store::Action {
            action_id: s
                .action_id
                .clone()
                .unwrap_or_else(|| format!("case {}", s.case)),
            identity: s.identity.clone(),
            phase: if s.what == SweepWhat::Extended {
                tripline_store::Phase::Apply
            } else {
                tripline_store::Phase::Undo
            },
            result: format!("{}: {}", s.what, s.detail),
            undo: None,
        };
        ev.append_body(&s.identity, &body, at)
            .map_err(|e| Failure::internal(anyhow!(e)))?;
    }
    Ok(())
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
