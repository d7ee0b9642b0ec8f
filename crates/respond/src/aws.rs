//! AWS IAM / STS connector (official Rust SDK).
//!
//! Kinds:
//! - `contain` / `deactivate_key`: `UpdateAccessKey → Inactive` for `req.credential` of the IAM
//!   user `req.identity` (user ARN or name). Undo restores the previous status.
//! - `rotate`: `CreateAccessKey`, hand the secret over (see [`Secret`]), wait
//!   `params.overlap_secs` (default 0), deactivate the old key. The old key is deleted only by
//!   [`AwsConnector::confirm_rotation`], never automatically. Undo reactivates the old key and
//!   deletes the new one.
//! - the restriction ladder ([`crate::ladder`]), each an inline policy
//!   `tripline-<kind>-<short case id>` on the user or role, undone by deleting it:
//!   `restrict` denies only `params.deny_actions` (optionally only outside `params.networks`)
//!   until `aws:CurrentTime` passes the expiry; `reset_sessions` (roles) denies every session
//!   issued before now (`aws:TokenIssueTime`); `deny_all` denies everything until the expiry
//!   (containment: the policy guardrails clear it only with an approval). The time-boxed ones
//!   expire by themselves, without Tripline, because AWS evaluates the condition.
//! - `issue_credentials`: STS `AssumeRole` on the role ARN `req.identity`, `DurationSeconds`
//!   from `expires_in_secs` (at least 900), inline session policy from `params.session_policy`.
//!   Nothing to undo: the credentials expire.
//!
//! Secrets (a new secret access key, a session's secret and token) never appear in [`Applied`],
//! in the ledger, or in logs: they go to the sink given by [`AwsConnector::with_secret_sink`],
//! or else to the file named by `params.secret_file` (created with mode 0600). An action that
//! would create a secret with neither is refused before any API call.
//!
//! The SDK is async; each call runs on the connector's own current-thread tokio runtime with
//! `block_on`, so the [`Connector`] API stays synchronous. Do not call it from inside another
//! tokio runtime.

use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::primitives::{DateTime, DateTimeFormat};
use aws_sdk_iam::types::StatusType;
use serde_json::{json, Value};

use crate::ladder::{self, KnownNetworks, Restriction};
use crate::{
    AccountRef, ActionRequest, Applied, Connector, ConnectorError, Journal, NoJournal, Plan,
};

const NAME: &str = "aws";

/// A credential secret. It implements neither `Serialize` nor `Clone`, and its `Debug` prints
/// only the access key id, so it cannot end up in a ledger, an `Applied` or a log by accident.
pub struct Secret {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
}

impl Secret {
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }
    /// The secret itself: hand it to whoever needs it, do not log it.
    pub fn expose_secret_access_key(&self) -> &str {
        &self.secret_access_key
    }
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// Receives a secret with the action id it belongs to.
pub type SecretSink = Box<dyn Fn(&str, Secret) -> Result<(), String> + Send + Sync>;
/// Test hook: called with the new key id right after `CreateAccessKey` was recorded.
pub type KeyCreatedHook = Box<dyn Fn(&str) + Send + Sync>;

/// Who the connector's credentials belong to, from `sts:GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's ARN (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`, a user ARN, …).
    pub arn: String,
    pub account: AccountRef,
}

impl Caller {
    /// The IAM identity behind the caller (an assumed role's role ARN, or the user ARN), so the
    /// response role itself can be kept out of reach of automatic actions.
    pub fn principal_arn(&self) -> String {
        let rest = self.arn.splitn(6, ':').nth(5).unwrap_or_default();
        match rest.strip_prefix("assumed-role/") {
            Some(r) => format!(
                "arn:{}:iam::{}:role/{}",
                self.account.partition,
                self.account.account,
                r.split('/').next().unwrap_or_default()
            ),
            None => self.arn.clone(),
        }
    }
}

/// The AWS connector. It acts in exactly one account: the one its credentials belong to, which
/// it reads with `sts:GetCallerIdentity` before its first call (and which must equal the
/// configured account, when one is given). Every request for an identity in another account or
/// partition is refused with [`ConnectorError::WrongAccount`] before any change.
pub struct AwsConnector {
    rt: tokio::runtime::Runtime,
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    sink: Option<SecretSink>,
    on_key_created: Option<KeyCreatedHook>,
    endpoint_url: Option<String>,
    region: String,
    /// The account the configuration says these credentials are for.
    expected_account: Option<String>,
    caller: std::sync::OnceLock<Caller>,
}

impl fmt::Debug for AwsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsConnector")
            .field("has_secret_sink", &self.sink.is_some())
            .field("expected_account", &self.expected_account)
            .field("caller", &self.caller.get())
            .finish_non_exhaustive()
    }
}

fn api(message: impl Into<String>) -> ConnectorError {
    ConnectorError::Api {
        connector: NAME.to_string(),
        message: message.into(),
    }
}

fn sdk_err<E, R>(op: &str, e: &SdkError<E, R>) -> ConnectorError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug,
{
    match (e.code(), e.message()) {
        (Some(code), Some(msg)) => api(format!("{op}: {code}: {msg}")),
        (Some(code), None) => api(format!("{op}: {code}")),
        _ => api(format!(
            "{op}: {}",
            aws_sdk_iam::error::DisplayErrorContext(e)
        )),
    }
}

fn is_no_such_entity<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.code() == Some("NoSuchEntity")
}

/// The principal an ARN names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(String),
    Role(String),
}

impl Principal {
    /// `arn:aws:iam::<acct>:user/<path>/<name>`, `…:role/<path>/<name>`,
    /// `arn:aws:sts::<acct>:assumed-role/<name>/<session>`, or a bare user name.
    pub fn parse(identity: &str) -> Result<Principal, ConnectorError> {
        if !identity.starts_with("arn:") {
            if identity.is_empty() || identity.contains(['/', ':']) {
                return Err(ConnectorError::Invalid(format!(
                    "not an IAM ARN or user name: {identity:?}"
                )));
            }
            return Ok(Principal::User(identity.to_string()));
        }
        let resource = identity.splitn(6, ':').nth(5).unwrap_or_default();
        let mut parts = resource.split('/');
        let kind = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        let name = match kind {
            "assumed-role" => rest.first().copied(),
            "user" | "role" => rest.last().copied(),
            _ => None,
        }
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ConnectorError::Invalid(format!("not an IAM user or role ARN: {identity:?}"))
        })?;
        Ok(match kind {
            "user" => Principal::User(name.to_string()),
            _ => Principal::Role(name.to_string()),
        })
    }

    fn to_json(&self) -> Value {
        match self {
            Principal::User(n) => json!({"type": "user", "name": n}),
            Principal::Role(n) => json!({"type": "role", "name": n}),
        }
    }

    fn from_json(v: &Value) -> Result<Principal, ConnectorError> {
        let name = at(v, "name").as_str().unwrap_or_default().to_string();
        match at(v, "type").as_str() {
            Some("user") if !name.is_empty() => Ok(Principal::User(name)),
            Some("role") if !name.is_empty() => Ok(Principal::Role(name)),
            _ => Err(ConnectorError::Invalid(format!("bad principal record {v}"))),
        }
    }
}

fn user_of(req: &ActionRequest) -> Result<String, ConnectorError> {
    match Principal::parse(&req.identity)? {
        Principal::User(u) => Ok(u),
        Principal::Role(_) => Err(ConnectorError::Invalid(format!(
            "{}: access keys belong to IAM users, {} is a role",
            req.kind, req.identity
        ))),
    }
}

fn credential_of(req: &ActionRequest) -> Result<String, ConnectorError> {
    req.credential
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ConnectorError::Invalid(format!("{}: needs req.credential", req.kind)))
}

/// The inline policy name of a restriction request: `tripline-<kind>-<short id of the case>`
/// (`params.case`, else the action id); see [`crate::ladder`].
pub fn policy_name_of(req: &ActionRequest) -> String {
    let case = at(&req.params, "case").as_str().unwrap_or(&req.action_id);
    ladder::policy_name(&req.kind, case)
}

/// The rung a request asks for (the moment of a session reset is `now`).
fn restriction_of(req: &ActionRequest, now: i64) -> Result<Restriction, ConnectorError> {
    match req.kind.as_str() {
        "restrict" => {
            let actions: Vec<String> = match at(&req.params, "deny_actions") {
                Value::Array(a) => a
                    .iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect(),
                _ => Vec::new(),
            };
            if actions.is_empty() {
                return Err(ConnectorError::Invalid(
                    "restrict: params.deny_actions names no action (nothing narrow to deny)".into(),
                ));
            }
            if let Some(bad) = actions.iter().find(|a| !ladder::is_iam_action(a)) {
                return Err(ConnectorError::Invalid(format!(
                    "restrict: {bad:?} is not an IAM action (service:Action)"
                )));
            }
            if actions.len() > ladder::MAX_DENIED_ACTIONS {
                return Err(ConnectorError::Invalid(format!(
                    "restrict: {} actions, over the cap of {}",
                    actions.len(),
                    ladder::MAX_DENIED_ACTIONS
                )));
            }
            let networks = match at(&req.params, "networks") {
                Value::Null => KnownNetworks::default(),
                v => serde_json::from_value(v.clone()).map_err(|e| {
                    ConnectorError::Invalid(format!("restrict: params.networks: {e}"))
                })?,
            };
            Ok(Restriction::DenyActions { actions, networks })
        }
        "reset_sessions" => match Principal::parse(&req.identity)? {
            Principal::Role(_) => Ok(Restriction::ResetSessions {
                issued_before: rfc3339(now),
            }),
            Principal::User(_) => Err(ConnectorError::Invalid(format!(
                "reset_sessions: {} is a user; a user's credential reset is key rotation",
                req.identity
            ))),
        },
        "deny_all" => Ok(Restriction::DenyAll),
        other => Err(ConnectorError::Unsupported(other.to_string())),
    }
}

/// What the AWS connector does, parsed once from `ActionRequest::kind` (the ledger keeps the
/// string form, so records stay readable and stable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AwsAction {
    /// Deactivate the user's access key (containment; irreversible in the policy's sense).
    Contain,
    /// The same as `Contain`, by its plain name.
    DeactivateKey,
    Rotate,
    /// The narrowest rung: deny the implicated actions.
    Restrict,
    ResetSessions,
    DenyAll,
    IssueCredentials,
}

impl AwsAction {
    pub const ALL: [AwsAction; 7] = [
        Self::Contain,
        Self::DeactivateKey,
        Self::Rotate,
        Self::Restrict,
        Self::ResetSessions,
        Self::DenyAll,
        Self::IssueCredentials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Contain => "contain",
            Self::DeactivateKey => "deactivate_key",
            Self::Rotate => "rotate",
            Self::Restrict => "restrict",
            Self::ResetSessions => "reset_sessions",
            Self::DenyAll => "deny_all",
            Self::IssueCredentials => "issue_credentials",
        }
    }

    /// The kind a request names, or `Unsupported`.
    pub fn parse(kind: &str) -> Result<AwsAction, ConnectorError> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == kind)
            .ok_or_else(|| ConnectorError::Unsupported(kind.to_string()))
    }

    /// An inline deny policy (a rung of [`crate::ladder`]).
    pub fn is_restriction(self) -> bool {
        matches!(self, Self::Restrict | Self::ResetSessions | Self::DenyAll)
    }
}

fn rfc3339(secs: i64) -> String {
    DateTime::from_secs(secs)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_else(|_| secs.to_string())
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Percent-decodes IAM's URL-encoded policy documents (a plain document passes unchanged).
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `v[key]` without the index operator (a missing key, or a non-object, is `Null`).
fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    v.get(key).unwrap_or(&NULL)
}

fn set(v: &mut Value, key: &str, val: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), val);
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Result<&'a str, ConnectorError> {
    at(v, key)
        .as_str()
        .ok_or_else(|| ConnectorError::Invalid(format!("record lacks {key:?}: {v}")))
}

impl AwsConnector {
    /// Credentials from the default chain (environment, profile, web identity, ECS, IMDS).
    /// `endpoint_url` points the SDK elsewhere (e.g. `moto_server`).
    pub fn new(endpoint_url: Option<String>, region: &str) -> Result<AwsConnector, ConnectorError> {
        Self::build(endpoint_url, region, None)
    }

    /// Explicit static credentials (tests, or a dedicated response role's keys).
    pub fn with_credentials(
        endpoint_url: Option<String>,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<AwsConnector, ConnectorError> {
        let creds =
            aws_credential_types::Credentials::from_keys(access_key_id, secret_access_key, None);
        Self::build(endpoint_url, region, Some(creds))
    }

    /// Temporary credentials (an assumed role's session).
    pub fn with_session_credentials(
        endpoint_url: Option<String>,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
        session_token: &str,
    ) -> Result<AwsConnector, ConnectorError> {
        let creds = aws_credential_types::Credentials::from_keys(
            access_key_id,
            secret_access_key,
            Some(session_token.to_string()),
        );
        Self::build(endpoint_url, region, Some(creds))
    }

    /// The account these credentials must belong to: the first call fails, and nothing is
    /// applied, when `sts:GetCallerIdentity` says otherwise.
    pub fn expect_account(mut self, account: impl Into<String>) -> Self {
        self.expected_account = Some(account.into());
        self
    }

    /// Organisation mode: a connector for one member account, through `sts:AssumeRole` into
    /// `arn:<partition>:iam::<account>:role/<role_name>` with this connector's credentials. The
    /// new connector serves exactly that account (checked with `sts:GetCallerIdentity`).
    pub fn assume_into(
        &self,
        account: &AccountRef,
        role_name: &str,
    ) -> Result<AwsConnector, ConnectorError> {
        let role_arn = format!(
            "arn:{}:iam::{}:role/{role_name}",
            account.partition, account.account
        );
        let out = self
            .block_on(
                self.sts
                    .assume_role()
                    .role_arn(&role_arn)
                    .role_session_name("tripline-response")
                    .duration_seconds(3600)
                    .send(),
            )
            .map_err(|e| sdk_err(&format!("AssumeRole {role_arn}"), &e))?;
        let c = out
            .credentials()
            .ok_or_else(|| api(format!("AssumeRole {role_arn}: no credentials")))?;
        let next = Self::with_session_credentials(
            self.endpoint_url.clone(),
            &self.region,
            c.access_key_id(),
            c.secret_access_key(),
            c.session_token(),
        )?
        .expect_account(account.account.clone());
        next.caller()?;
        Ok(next)
    }

    /// Who the credentials belong to (`sts:GetCallerIdentity`, once per connector).
    pub fn caller(&self) -> Result<Caller, ConnectorError> {
        if let Some(c) = self.caller.get() {
            return Ok(c.clone());
        }
        let out = self
            .block_on(self.sts.get_caller_identity().send())
            .map_err(|e| sdk_err("GetCallerIdentity", &e))?;
        let arn = out.arn().unwrap_or_default().to_string();
        let mut account = AccountRef::of_arn(&arn)
            .ok_or_else(|| api(format!("GetCallerIdentity: unexpected caller ARN {arn:?}")))?;
        if let Some(a) = out.account().filter(|a| !a.is_empty()) {
            account.account = a.to_string();
        }
        if let Some(want) = &self.expected_account {
            if *want != account.account {
                return Err(api(format!(
                    "the credentials belong to account {}, but this connector is configured for account {want}; nothing applied",
                    account.account
                )));
            }
        }
        let caller = Caller { arn, account };
        Ok(self.caller.get_or_init(|| caller).clone())
    }

    /// Refuses an identity outside the connector's account (or partition). A bare user name has
    /// no account of its own and means a user of the connector's account.
    pub fn check_target(
        &self,
        identity: &str,
        declared: Option<&AccountRef>,
    ) -> Result<(), ConnectorError> {
        let serves = self.caller()?.account;
        let of_arn = AccountRef::of_arn(identity);
        if let (Some(a), Some(d)) = (&of_arn, declared) {
            if a != d {
                return Err(ConnectorError::Invalid(format!(
                    "{identity} is in account {a} but the request says {d}"
                )));
            }
        }
        match of_arn.as_ref().or(declared) {
            Some(target) if *target != serves => Err(ConnectorError::WrongAccount {
                connector: NAME.to_string(),
                identity: identity.to_string(),
                identity_account: target.to_string(),
                serves: serves.to_string(),
            }),
            _ => Ok(()),
        }
    }

    fn build(
        endpoint_url: Option<String>,
        region: &str,
        creds: Option<aws_credential_types::Credentials>,
    ) -> Result<AwsConnector, ConnectorError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| api(format!("tokio runtime: {e}")))?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()));
        let loader_endpoint = endpoint_url.clone();
        if let Some(ep) = endpoint_url {
            loader = loader.endpoint_url(ep);
        }
        if let Some(c) = creds {
            loader = loader.credentials_provider(c);
        }
        let endpoint_url = loader_endpoint;
        let conf = rt.block_on(loader.load());
        Ok(AwsConnector {
            iam: aws_sdk_iam::Client::new(&conf),
            sts: aws_sdk_sts::Client::new(&conf),
            rt,
            sink: None,
            on_key_created: None,
            endpoint_url,
            region: region.to_string(),
            expected_account: None,
            caller: std::sync::OnceLock::new(),
        })
    }

    /// Where new secrets go (preferred over `params.secret_file`).
    pub fn with_secret_sink(mut self, sink: SecretSink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Test hook, called right after a new key id has been recorded in the journal and before
    /// its secret is handed over.
    pub fn with_key_created_hook(mut self, hook: KeyCreatedHook) -> Self {
        self.on_key_created = Some(hook);
        self
    }

    /// The IAM client (fixtures, read-backs).
    pub fn iam(&self) -> &aws_sdk_iam::Client {
        &self.iam
    }

    /// The STS client.
    pub fn sts(&self) -> &aws_sdk_sts::Client {
        &self.sts
    }

    /// Runs a future on the connector's runtime.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    fn has_secret_destination(&self, req: &ActionRequest) -> Result<(), ConnectorError> {
        if self.sink.is_some() || at(&req.params, "secret_file").is_string() {
            Ok(())
        } else {
            Err(ConnectorError::Invalid(format!(
                "{}: creates a secret but no secret sink is configured and params.secret_file is not set",
                req.kind
            )))
        }
    }

    fn deliver(&self, req: &ActionRequest, secret: Secret) -> Result<(), ConnectorError> {
        if let Some(sink) = &self.sink {
            return sink(&req.action_id, secret).map_err(|e| api(format!("secret sink: {e}")));
        }
        let path = at(&req.params, "secret_file")
            .as_str()
            .ok_or_else(|| ConnectorError::Invalid("no secret destination".into()))?;
        let body = json!({
            "AccessKeyId": secret.access_key_id,
            "SecretAccessKey": secret.secret_access_key,
            "SessionToken": secret.session_token,
        });
        write_private(path, body.to_string().as_bytes())
            .map_err(|e| api(format!("writing secret file {path}: {e}")))
    }

    /// `(key id, status)` of every access key of `user`.
    pub fn list_keys(&self, user: &str) -> Result<Vec<(String, StatusType)>, ConnectorError> {
        let out = self
            .block_on(self.iam.list_access_keys().user_name(user).send())
            .map_err(|e| sdk_err("ListAccessKeys", &e))?;
        Ok(out
            .access_key_metadata()
            .iter()
            .filter_map(|m| {
                Some((
                    m.access_key_id()?.to_string(),
                    m.status().cloned().unwrap_or(StatusType::Active),
                ))
            })
            .collect())
    }

    fn set_key_status(
        &self,
        user: &str,
        key: &str,
        status: StatusType,
    ) -> Result<(), ConnectorError> {
        self.block_on(
            self.iam
                .update_access_key()
                .user_name(user)
                .access_key_id(key)
                .status(status)
                .send(),
        )
        .map(|_| ())
        .map_err(|e| sdk_err("UpdateAccessKey", &e))
    }

    /// Deletes a key; a key that is already gone is fine.
    fn delete_key(&self, user: &str, key: &str) -> Result<(), ConnectorError> {
        match self.block_on(
            self.iam
                .delete_access_key()
                .user_name(user)
                .access_key_id(key)
                .send(),
        ) {
            Ok(_) => Ok(()),
            Err(e) if is_no_such_entity(&e) => Ok(()),
            Err(e) => Err(sdk_err("DeleteAccessKey", &e)),
        }
    }

    /// The inline policy document (URL-decoded), if the policy exists.
    pub fn get_inline_policy(
        &self,
        principal: &Principal,
        policy_name: &str,
    ) -> Result<Option<String>, ConnectorError> {
        let doc = match principal {
            Principal::User(u) => match self.block_on(
                self.iam
                    .get_user_policy()
                    .user_name(u)
                    .policy_name(policy_name)
                    .send(),
            ) {
                Ok(o) => Some(o.policy_document().to_string()),
                Err(e) if is_no_such_entity(&e) => None,
                Err(e) => return Err(sdk_err("GetUserPolicy", &e)),
            },
            Principal::Role(r) => match self.block_on(
                self.iam
                    .get_role_policy()
                    .role_name(r)
                    .policy_name(policy_name)
                    .send(),
            ) {
                Ok(o) => Some(o.policy_document().to_string()),
                Err(e) if is_no_such_entity(&e) => None,
                Err(e) => return Err(sdk_err("GetRolePolicy", &e)),
            },
        };
        Ok(doc.map(|d| url_decode(&d)))
    }

    /// Creates or replaces an inline policy on a user or role.
    fn put_inline_policy(
        &self,
        principal: &Principal,
        name: &str,
        doc: &str,
    ) -> Result<(), ConnectorError> {
        match principal {
            Principal::User(u) => self
                .block_on(
                    self.iam
                        .put_user_policy()
                        .user_name(u)
                        .policy_name(name)
                        .policy_document(doc)
                        .send(),
                )
                .map(|_| ())
                .map_err(|e| sdk_err("PutUserPolicy", &e)),
            Principal::Role(r) => self
                .block_on(
                    self.iam
                        .put_role_policy()
                        .role_name(r)
                        .policy_name(name)
                        .policy_document(doc)
                        .send(),
                )
                .map(|_| ())
                .map_err(|e| sdk_err("PutRolePolicy", &e)),
        }
    }

    /// Deletes an inline policy; one that is already gone is fine.
    fn delete_inline_policy(
        &self,
        principal: &Principal,
        name: &str,
    ) -> Result<(), ConnectorError> {
        let res = match principal {
            Principal::User(u) => self
                .block_on(
                    self.iam
                        .delete_user_policy()
                        .user_name(u)
                        .policy_name(name)
                        .send(),
                )
                .map(|_| ())
                .map_err(|e| (is_no_such_entity(&e), sdk_err("DeleteUserPolicy", &e))),
            Principal::Role(r) => self
                .block_on(
                    self.iam
                        .delete_role_policy()
                        .role_name(r)
                        .policy_name(name)
                        .send(),
                )
                .map(|_| ())
                .map_err(|e| (is_no_such_entity(&e), sdk_err("DeleteRolePolicy", &e))),
        };
        match res {
            Err((false, e)) => Err(e),
            _ => Ok(()),
        }
    }

    /// Deletes the old key of a finished rotation. Irreversible, so only on an explicit call;
    /// refuses unless the old key is already inactive and the new key exists.
    pub fn confirm_rotation(&self, applied: &Applied) -> Result<(), ConnectorError> {
        self.check_target(&applied.identity, None)?;
        if applied.kind != "rotate" {
            return Err(ConnectorError::Invalid(format!(
                "confirm_rotation on a {} action",
                applied.kind
            )));
        }
        let user = str_field(&applied.undo, "user")?;
        let old = str_field(&applied.undo, "old_key")?;
        let new = str_field(&applied.undo, "new_key")?;
        let keys = self.list_keys(user)?;
        if !keys
            .iter()
            .any(|(k, s)| k == new && *s == StatusType::Active)
        {
            return Err(api(format!(
                "confirm_rotation: new key {new} is not active; not deleting {old}"
            )));
        }
        match keys.iter().find(|(k, _)| k == old) {
            None => Ok(()),
            Some((_, StatusType::Inactive)) => self.delete_key(user, old),
            Some(_) => Err(api(format!(
                "confirm_rotation: old key {old} is still active; not deleting it"
            ))),
        }
    }

    // ---- contain / deactivate_key -------------------------------------------------------

    fn apply_contain(
        &self,
        req: &ActionRequest,
        journal: &mut dyn Journal,
    ) -> Result<Applied, ConnectorError> {
        let user = user_of(req)?;
        let key = credential_of(req)?;
        let keys = self.list_keys(&user)?;
        let status = keys
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, s)| s.clone())
            .ok_or_else(|| api(format!("access key {key} not found for user {user}")))?;
        // Our own earlier attempt recorded the status it found; otherwise this is the first.
        let prev = match journal
            .partial()
            .and_then(|p| at(p, "prev_status").as_str())
        {
            Some(p) => p.to_string(),
            None => {
                let p = status.as_str().to_string();
                journal.record(json!({"prev_status": p}))?;
                p
            }
        };
        if status != StatusType::Inactive {
            self.set_key_status(&user, &key, StatusType::Inactive)?;
        }
        Ok(contain_applied(req, &user, &key, &prev))
    }

    // ---- rotate ---------------------------------------------------------------------------

    fn apply_rotate(
        &self,
        req: &ActionRequest,
        journal: &mut dyn Journal,
    ) -> Result<Applied, ConnectorError> {
        let user = user_of(req)?;
        let old = credential_of(req)?;
        let mut keys = self.list_keys(&user)?;
        let old_status = keys
            .iter()
            .find(|(k, _)| *k == old)
            .map(|(_, s)| s.as_str().to_string())
            .ok_or_else(|| api(format!("access key {old} not found for user {user}")))?;
        let mut partial = journal.partial().cloned().unwrap_or_else(|| json!({}));
        let old_status = at(&partial, "old_status")
            .as_str()
            .map(str::to_string)
            .unwrap_or(old_status);

        // An earlier attempt of this action may have created a key already.
        let mut new_key = None;
        if let Some(nk) = at(&partial, "new_key").as_str() {
            let exists = keys.iter().any(|(k, _)| k == nk);
            if exists && at(&partial, "secret_delivered").as_bool() == Some(true) {
                new_key = Some(nk.to_string());
            } else if exists {
                // Its secret never reached anyone: the key is useless, replace it.
                self.delete_key(&user, nk)?;
            }
        } else if let Some(before) = at(&partial, "before").as_array() {
            // Crashed between CreateAccessKey and recording its id: any key that was not there
            // before (and is not the old one) is ours.
            for (k, _) in &keys {
                if *k != old && !before.iter().any(|b| b.as_str() == Some(k)) {
                    self.delete_key(&user, k)?;
                }
            }
        }
        if new_key.is_none() {
            keys = self.list_keys(&user)?;
            if keys.len() >= 2 {
                return Err(api(format!(
                    "user {user} already has {} access keys (AWS allows 2); delete one before rotating",
                    keys.len()
                )));
            }
            self.has_secret_destination(req)?;
            partial = json!({
                "before": keys.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(),
                "old_key": old,
                "old_status": old_status,
            });
            journal.record(partial.clone())?;
            let out = self
                .block_on(self.iam.create_access_key().user_name(&user).send())
                .map_err(|e| sdk_err("CreateAccessKey", &e))?;
            let ak = out
                .access_key()
                .ok_or_else(|| api("CreateAccessKey: no key in the response"))?;
            let nk = ak.access_key_id().to_string();
            let secret = Secret {
                access_key_id: nk.clone(),
                secret_access_key: ak.secret_access_key().to_string(),
                session_token: None,
            };
            set(&mut partial, "new_key", json!(nk));
            set(&mut partial, "secret_delivered", json!(false));
            journal.record(partial.clone())?;
            if let Some(hook) = &self.on_key_created {
                hook(&nk);
            }
            self.deliver(req, secret)?;
            set(&mut partial, "secret_delivered", json!(true));
            journal.record(partial.clone())?;
            new_key = Some(nk);
        }
        let new_key = new_key.ok_or_else(|| api("rotate: no new key"))?;
        let overlap = at(&req.params, "overlap_secs").as_u64().unwrap_or(0);
        if overlap > 0 {
            std::thread::sleep(Duration::from_secs(overlap));
        }
        self.set_key_status(&user, &old, StatusType::Inactive)?;
        Ok(rotate_applied(req, &user, &old, &old_status, &new_key))
    }

    fn undo_rotate(&self, applied: &Applied) -> Result<(), ConnectorError> {
        let user = str_field(&applied.undo, "user")?;
        let old = str_field(&applied.undo, "old_key")?;
        let new = str_field(&applied.undo, "new_key")?;
        let keys = self.list_keys(user)?;
        if !keys.iter().any(|(k, _)| k == old) {
            return Err(api(format!(
                "undo rotate: old key {old} no longer exists (rotation was confirmed); keeping {new}"
            )));
        }
        let status = at(&applied.undo, "old_status").as_str().unwrap_or("Active");
        self.set_key_status(user, old, StatusType::from(status))?;
        self.delete_key(user, new)
    }

    fn reconcile_rotate(
        &self,
        req: &ActionRequest,
        partial: &Value,
    ) -> Result<Option<Applied>, ConnectorError> {
        let user = user_of(req)?;
        let old = credential_of(req)?;
        let keys = self.list_keys(&user)?;
        let old_status = at(partial, "old_status")
            .as_str()
            .unwrap_or("Active")
            .to_string();
        let new = at(partial, "new_key").as_str();
        if let Some(nk) = new {
            if at(partial, "secret_delivered").as_bool() == Some(true)
                && keys.iter().any(|(k, _)| k == nk)
            {
                // The new key is out there and in use: complete the rotation.
                self.set_key_status(&user, &old, StatusType::Inactive)?;
                return Ok(Some(rotate_applied(req, &user, &old, &old_status, nk)));
            }
        }
        // Undo whatever part is in place: the new (or unrecorded) key, the old key's status.
        let before = at(partial, "before").as_array();
        for (k, _) in &keys {
            let recorded = Some(k.as_str()) == new;
            let unrecorded = *k != old
                && before.is_some_and(|b| !b.iter().any(|x| x.as_str() == Some(k.as_str())));
            if recorded || unrecorded {
                self.delete_key(&user, k)?;
            }
        }
        if let Some((_, s)) = keys.iter().find(|(k, _)| *k == old) {
            if s.as_str() != old_status {
                self.set_key_status(&user, &old, StatusType::from(old_status.as_str()))?;
            }
        }
        Ok(None)
    }

    // ---- restrict -------------------------------------------------------------------------

    fn apply_restrict(
        &self,
        req: &ActionRequest,
        journal: &mut dyn Journal,
    ) -> Result<Applied, ConnectorError> {
        let principal = Principal::parse(&req.identity)?;
        let now = now_secs();
        // An interrupted attempt's record wins (the same reset moment, the same expiry).
        let recorded = journal.partial().cloned();
        let (name, expiry, restriction) = match recorded.as_ref().and_then(|p| {
            let r: Restriction = serde_json::from_value(at(p, "restriction").clone()).ok()?;
            Some((
                at(p, "policy_name").as_str()?.to_string(),
                at(p, "expiry").as_str()?.to_string(),
                r,
            ))
        }) {
            Some(t) => t,
            None => {
                let restriction = restriction_of(req, now)?;
                let secs = match restriction {
                    Restriction::ResetSessions { .. } => ladder::MAX_SESSION_SECS,
                    _ => req.expires_in_secs.ok_or_else(|| {
                        ConnectorError::Invalid(format!(
                            "{}: a restriction needs expires_in_secs",
                            req.kind
                        ))
                    })?,
                };
                let expiry =
                    rfc3339(now.saturating_add(i64::try_from(secs).unwrap_or(i64::MAX / 2)));
                let name = policy_name_of(req);
                journal.record(json!({
                    "policy_name": name,
                    "expiry": expiry,
                    "restriction": restriction,
                }))?;
                (name, expiry, restriction)
            }
        };
        let sid = restriction.sid(&short_case(req), &expiry);
        let doc = restriction.document(&sid, &expiry).to_string();
        self.put_inline_policy(&principal, &name, &doc)?;
        Ok(restrict_applied(
            req,
            &principal,
            &name,
            &expiry,
            &restriction,
            &sid,
        ))
    }

    fn undo_restrict(&self, applied: &Applied) -> Result<(), ConnectorError> {
        let principal = Principal::from_json(at(&applied.undo, "principal"))?;
        self.delete_inline_policy(&principal, str_field(&applied.undo, "policy_name")?)
    }

    /// The rung and Sid an applied restriction recorded (records from before the ladder were
    /// full denies without a Sid).
    fn recorded_restriction(applied: &Applied) -> (Restriction, String) {
        let r = serde_json::from_value(at(&applied.undo, "restriction").clone())
            .unwrap_or(Restriction::DenyAll);
        let sid = at(&applied.undo, "sid")
            .as_str()
            .unwrap_or("TriplineJitRestriction")
            .to_string();
        (r, sid)
    }

    /// Rewrites the deny with the later expiry (same policy, so undo is unchanged).
    fn extend_restrict(
        &self,
        applied: &Applied,
        expires_at: i64,
    ) -> Result<Applied, ConnectorError> {
        let principal = Principal::from_json(at(&applied.undo, "principal"))?;
        let name = str_field(&applied.undo, "policy_name")?.to_string();
        let old_expiry = str_field(&applied.undo, "expiry")?.to_string();
        let expiry = rfc3339(expires_at);
        let (restriction, old_sid) = Self::recorded_restriction(applied);
        let sid = old_sid.replace(
            &old_expiry
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>(),
            &expiry
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>(),
        );
        self.put_inline_policy(
            &principal,
            &name,
            &restriction.document(&sid, &expiry).to_string(),
        )?;
        let mut out = applied.clone();
        set(&mut out.undo, "expiry", json!(expiry));
        set(&mut out.undo, "sid", json!(sid));
        set(&mut out.outputs, "expires_at", json!(expiry));
        set(&mut out.outputs, "sid", json!(sid));
        Ok(out)
    }

    /// Reads the policy back and compares its statement with the recorded rung.
    fn verify_restrict(&self, applied: &Applied) -> Result<bool, ConnectorError> {
        let principal = Principal::from_json(at(&applied.undo, "principal"))?;
        let name = str_field(&applied.undo, "policy_name")?;
        let expiry = str_field(&applied.undo, "expiry")?;
        let Some(doc) = self.get_inline_policy(&principal, name)? else {
            return Ok(false);
        };
        let doc: Value = serde_json::from_str(&doc)
            .map_err(|e| api(format!("policy {name} is not JSON: {e}")))?;
        let stmts = match at(&doc, "Statement") {
            Value::Array(a) => a.clone(),
            other => vec![other.clone()],
        };
        let (restriction, sid) = Self::recorded_restriction(applied);
        let want = restriction.document(&sid, expiry);
        let want = at(&want, "Statement")
            .as_array()
            .and_then(|a| a.first())
            .cloned()
            .unwrap_or_default();
        let same = |s: &Value| {
            at(s, "Effect") == at(&want, "Effect")
                && at(s, "Action") == at(&want, "Action")
                && at(s, "Condition") == at(&want, "Condition")
        };
        Ok(stmts.iter().any(same))
    }

    // ---- issue_credentials ----------------------------------------------------------------

    fn apply_issue(&self, req: &ActionRequest) -> Result<Applied, ConnectorError> {
        if !matches!(Principal::parse(&req.identity)?, Principal::Role(_))
            || !req.identity.starts_with("arn:")
        {
            return Err(ConnectorError::Invalid(format!(
                "issue_credentials: {} is not a role ARN",
                req.identity
            )));
        }
        self.has_secret_destination(req)?;
        let duration = req.expires_in_secs.unwrap_or(900).clamp(900, 43_200);
        let session: String = format!("tripline-{}", req.action_id)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(*c))
            .take(64)
            .collect();
        let mut call = self
            .sts
            .assume_role()
            .role_arn(&req.identity)
            .role_session_name(session)
            .duration_seconds(i32::try_from(duration).unwrap_or(900));
        match at(&req.params, "session_policy") {
            Value::Null => {}
            Value::String(s) => call = call.policy(s),
            other => call = call.policy(other.to_string()),
        }
        let out = self
            .block_on(call.send())
            .map_err(|e| sdk_err("AssumeRole", &e))?;
        let c = out
            .credentials()
            .ok_or_else(|| api("AssumeRole: no credentials in the response"))?;
        let key_id = c.access_key_id().to_string();
        let expiration = c
            .expiration()
            .fmt(DateTimeFormat::DateTime)
            .unwrap_or_default();
        let expiration_secs = c.expiration().secs();
        self.deliver(
            req,
            Secret {
                access_key_id: key_id.clone(),
                secret_access_key: c.secret_access_key().to_string(),
                session_token: Some(c.session_token().to_string()),
            },
        )?;
        Ok(Applied {
            action_id: req.action_id.clone(),
            connector: NAME.into(),
            kind: req.kind.clone(),
            identity: req.identity.clone(),
            undo: json!({"nothing_to_undo": "STS credentials expire by themselves", "expiration_secs": expiration_secs}),
            outputs: json!({
                "access_key_id": key_id,
                "expiration": expiration,
                "duration_secs": duration,
            }),
        })
    }
}

fn contain_applied(req: &ActionRequest, user: &str, key: &str, prev: &str) -> Applied {
    Applied {
        action_id: req.action_id.clone(),
        connector: NAME.into(),
        kind: req.kind.clone(),
        identity: req.identity.clone(),
        undo: json!({"user": user, "key": key, "prev_status": prev}),
        outputs: json!({"access_key_id": key, "status": "Inactive"}),
    }
}

fn rotate_applied(
    req: &ActionRequest,
    user: &str,
    old: &str,
    old_status: &str,
    new: &str,
) -> Applied {
    Applied {
        action_id: req.action_id.clone(),
        connector: NAME.into(),
        kind: req.kind.clone(),
        identity: req.identity.clone(),
        undo: json!({"user": user, "old_key": old, "old_status": old_status, "new_key": new}),
        outputs: json!({
            "new_access_key_id": new,
            "old_access_key_id": old,
            "old_key_status": "Inactive",
            "old_key_deleted": false,
        }),
    }
}

fn short_case(req: &ActionRequest) -> String {
    ladder::short_id(at(&req.params, "case").as_str().unwrap_or(&req.action_id))
}

fn restrict_applied(
    req: &ActionRequest,
    principal: &Principal,
    policy_name: &str,
    expiry: &str,
    restriction: &Restriction,
    sid: &str,
) -> Applied {
    let case = at(&req.params, "case").clone();
    Applied {
        action_id: req.action_id.clone(),
        connector: NAME.into(),
        kind: req.kind.clone(),
        identity: req.identity.clone(),
        undo: json!({
            "principal": principal.to_json(),
            "policy_name": policy_name,
            "expiry": expiry,
            "restriction": restriction,
            "sid": sid,
        }),
        outputs: json!({
            "policy_name": policy_name,
            "sid": sid,
            "rung": restriction.kind(),
            "case": case,
            "expires_at": expiry,
        }),
    }
}

/// Writes `bytes` to `path`, readable by the owner only.
fn write_private(path: &str, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        opts.mode(0o600);
        let mut f = opts.open(path)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        f.sync_all()
    }
    #[cfg(not(unix))]
    {
        let mut f = opts.open(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    }
}

impl Connector for AwsConnector {
    fn name(&self) -> &str {
        NAME
    }

    fn serves(&self, identity: &str) -> bool {
        self.check_target(identity, None).is_ok()
    }

    fn acting_as(&self) -> Option<String> {
        self.caller().ok().map(|c| c.principal_arn())
    }

    fn plan(&self, req: &ActionRequest) -> Result<Plan, ConnectorError> {
        self.check_target(&req.identity, req.account.as_ref())?;
        let (steps, reversible) = match AwsAction::parse(&req.kind)? {
            AwsAction::Contain | AwsAction::DeactivateKey => {
                let user = user_of(req)?;
                let key = credential_of(req)?;
                (
                    vec![
                        format!("record the current status of access key {key} of IAM user {user}"),
                        format!("UpdateAccessKey {key} → Inactive"),
                        "undo: UpdateAccessKey back to the recorded status".into(),
                    ],
                    true,
                )
            }
            AwsAction::Rotate => {
                let user = user_of(req)?;
                let key = credential_of(req)?;
                let overlap = at(&req.params, "overlap_secs").as_u64().unwrap_or(0);
                (
                    vec![
                        format!("check that IAM user {user} has fewer than 2 access keys"),
                        format!("CreateAccessKey for {user}; record the new key id; hand the secret to the secret sink (never stored)"),
                        format!("after {overlap} s of overlap, UpdateAccessKey {key} → Inactive"),
                        format!("{key} is deleted only on an explicit confirm_rotation"),
                        "undo: reactivate the old key, delete the new key".into(),
                    ],
                    true,
                )
            }
            k if k.is_restriction() => {
                let principal = Principal::parse(&req.identity)?;
                let restriction = restriction_of(req, now_secs())?;
                let (op, name) = match &principal {
                    Principal::User(u) => ("PutUserPolicy on user", u),
                    Principal::Role(r) => ("PutRolePolicy on role", r),
                };
                let what = match &restriction {
                    Restriction::DenyActions { actions, networks } => format!(
                        "denying only {}{}",
                        actions.join(", "),
                        if networks.is_empty() {
                            String::new()
                        } else {
                            " from outside the identity's known networks".to_string()
                        }
                    ),
                    Restriction::ResetSessions { .. } => {
                        "denying every session issued before now (aws:TokenIssueTime); fresh sessions work".to_string()
                    }
                    Restriction::DenyAll => "denying every action (containment)".to_string(),
                };
                let lapse = match (&restriction, req.expires_in_secs) {
                    (Restriction::ResetSessions { .. }, _) => format!(
                        "inert once the sessions it denies have expired (at most {} s); removed by the case sweep",
                        ladder::MAX_SESSION_SECS
                    ),
                    (_, Some(secs)) => format!(
                        "the deny carries aws:CurrentTime < now + {secs} s, so AWS stops enforcing it by itself"
                    ),
                    (_, None) => {
                        return Err(ConnectorError::Invalid(format!(
                            "{}: a restriction needs expires_in_secs",
                            k.as_str()
                        )))
                    }
                };
                (
                    vec![
                        format!("{op} {name}: inline policy {} {what}", policy_name_of(req)),
                        lapse,
                        "undo: DeleteUserPolicy/DeleteRolePolicy".into(),
                    ],
                    true,
                )
            }
            AwsAction::IssueCredentials => {
                let duration = req.expires_in_secs.unwrap_or(900).clamp(900, 43_200);
                (
                    vec![
                        format!("STS AssumeRole {} for {duration} s", req.identity),
                        if at(&req.params, "session_policy").is_null() {
                            "no session policy: the role's own permissions".to_string()
                        } else {
                            "with the inline session policy from params.session_policy".to_string()
                        },
                        "hand the secret and session token to the secret sink (never stored)"
                            .into(),
                        "undo: nothing to undo, the credentials expire by themselves".into(),
                    ],
                    true,
                )
            }
            AwsAction::ResetSessions | AwsAction::Restrict | AwsAction::DenyAll => {
                return Err(ConnectorError::Unsupported(req.kind.clone()))
            }
        };
        Ok(Plan {
            action_id: req.action_id.clone(),
            connector: NAME.into(),
            steps,
            reversible,
        })
    }

    fn apply(&self, req: &ActionRequest) -> Result<Applied, ConnectorError> {
        self.apply_journaled(req, &mut NoJournal::default())
    }

    fn apply_journaled(
        &self,
        req: &ActionRequest,
        journal: &mut dyn Journal,
    ) -> Result<Applied, ConnectorError> {
        self.check_target(&req.identity, req.account.as_ref())?;
        match AwsAction::parse(&req.kind)? {
            AwsAction::Contain | AwsAction::DeactivateKey => self.apply_contain(req, journal),
            AwsAction::Rotate => self.apply_rotate(req, journal),
            AwsAction::Restrict | AwsAction::ResetSessions | AwsAction::DenyAll => {
                self.apply_restrict(req, journal)
            }
            AwsAction::IssueCredentials => self.apply_issue(req),
        }
    }

    fn verify(&self, applied: &Applied) -> Result<bool, ConnectorError> {
        self.check_target(&applied.identity, None)?;
        match AwsAction::parse(&applied.kind)? {
            AwsAction::Contain | AwsAction::DeactivateKey => {
                let user = str_field(&applied.undo, "user")?;
                let key = str_field(&applied.undo, "key")?;
                Ok(self
                    .list_keys(user)?
                    .iter()
                    .any(|(k, s)| k == key && *s == StatusType::Inactive))
            }
            AwsAction::Rotate => {
                let user = str_field(&applied.undo, "user")?;
                let old = str_field(&applied.undo, "old_key")?;
                let new = str_field(&applied.undo, "new_key")?;
                let keys = self.list_keys(user)?;
                let new_ok = keys
                    .iter()
                    .any(|(k, s)| k == new && *s == StatusType::Active);
                let old_ok = keys
                    .iter()
                    .all(|(k, s)| k != old || *s == StatusType::Inactive);
                Ok(new_ok && old_ok)
            }
            AwsAction::Restrict | AwsAction::ResetSessions | AwsAction::DenyAll => {
                self.verify_restrict(applied)
            }
            AwsAction::IssueCredentials => {
                Ok(at(&applied.undo, "expiration_secs").as_i64().unwrap_or(0) > now_secs())
            }
        }
    }

    fn extend(&self, applied: &Applied, expires_at: i64) -> Result<Applied, ConnectorError> {
        self.check_target(&applied.identity, None)?;
        match AwsAction::parse(&applied.kind)? {
            k if k.is_restriction() => self.extend_restrict(applied, expires_at),
            other => Err(ConnectorError::Unsupported(format!(
                "extend {}",
                other.as_str()
            ))),
        }
    }

    fn undo(&self, applied: &Applied) -> Result<(), ConnectorError> {
        self.check_target(&applied.identity, None)?;
        match AwsAction::parse(&applied.kind)? {
            AwsAction::Contain | AwsAction::DeactivateKey => {
                let user = str_field(&applied.undo, "user")?;
                let key = str_field(&applied.undo, "key")?;
                let prev = str_field(&applied.undo, "prev_status")?;
                self.set_key_status(user, key, StatusType::from(prev))
            }
            AwsAction::Rotate => self.undo_rotate(applied),
            AwsAction::Restrict | AwsAction::ResetSessions | AwsAction::DenyAll => {
                self.undo_restrict(applied)
            }
            // Nothing to undo: STS credentials expire by themselves.
            AwsAction::IssueCredentials => Ok(()),
        }
    }

    fn reconcile(
        &self,
        req: &ActionRequest,
        partial: Option<&Value>,
    ) -> Result<Option<Applied>, ConnectorError> {
        // Nothing recorded: the first API call had not been made.
        let Some(partial) = partial else {
            return Ok(None);
        };
        self.check_target(&req.identity, req.account.as_ref())?;
        match AwsAction::parse(&req.kind)? {
            AwsAction::Contain | AwsAction::DeactivateKey => {
                let user = user_of(req)?;
                let key = credential_of(req)?;
                let prev = str_field(partial, "prev_status")?;
                let now = self.list_keys(&user)?;
                let inactive = now
                    .iter()
                    .any(|(k, s)| *k == key && *s == StatusType::Inactive);
                Ok(inactive.then(|| contain_applied(req, &user, &key, prev)))
            }
            AwsAction::Rotate => self.reconcile_rotate(req, partial),
            AwsAction::Restrict | AwsAction::ResetSessions | AwsAction::DenyAll => {
                let principal = Principal::parse(&req.identity)?;
                let name = str_field(partial, "policy_name")?;
                let expiry = str_field(partial, "expiry")?;
                let restriction: Restriction =
                    serde_json::from_value(at(partial, "restriction").clone())
                        .unwrap_or(Restriction::DenyAll);
                let sid = restriction.sid(&short_case(req), expiry);
                Ok(self
                    .get_inline_policy(&principal, name)?
                    .map(|_| restrict_applied(req, &principal, name, expiry, &restriction, &sid)))
            }
            // Credentials from an interrupted AssumeRole were never handed out; they expire.
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_principals() {
        assert_eq!(
            Principal::parse("arn:aws:iam::123456789012:user/ci/deployer").unwrap(),
            Principal::User("deployer".into())
        );
        assert_eq!(
            Principal::parse("arn:aws:iam::123456789012:role/app").unwrap(),
            Principal::Role("app".into())
        );
        assert_eq!(
            Principal::parse("arn:aws:sts::123456789012:assumed-role/app/sess").unwrap(),
            Principal::Role("app".into())
        );
        assert!(Principal::parse("arn:aws:s3:::bucket").is_err());
    }

    #[test]
    fn decodes_policies_and_formats_times() {
        assert_eq!(url_decode("%7B%22a%22%3A1%7D"), "{\"a\":1}");
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = Secret {
            access_key_id: "AKIA1".into(),
            secret_access_key: "hunter2".into(),
            session_token: None,
        };
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
