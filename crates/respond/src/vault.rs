//! OpenBao / HashiCorp Vault connector: revoke a lease, issue a short-lived dynamic credential.
//!
//! Kinds:
//! - `revoke_lease`: `PUT sys/leases/revoke` with `lease_id = req.credential`. **Irreversible**
//!   (a revoked lease is gone): the plan says so, and `apply` refuses unless the caller sets
//!   `params.approved = true` (DESIGN §4: an irreversible action needs an approval).
//! - `issue_credentials`: reads `<mount>/creds/<role>` of a dynamic secrets engine (the
//!   `database` engine by default; `req.identity` is the role name, `params.mount` overrides
//!   the mount). The outputs carry the lease id, its duration and the username, never the
//!   password: [`VaultConnector::issue`] hands that back wrapped in [`Secret`], which does not
//!   print. Undo revokes the lease. When the issued lease outlives `req.expires_in_secs` the
//!   credential is revoked at once and the call fails: a role's `default_ttl` must be at most
//!   the requested lifetime.
//!
//! - `reset_leases`: revokes every outstanding dynamic credential of one role
//!   (`PUT sys/leases/revoke-prefix/<mount>/creds/<role>`): the short-lived credential reset
//!   for a workload whose Vault-issued credentials may be in the wrong hands. The workload gets
//!   fresh ones on its next read. **Irreversible** (revoked leases are gone, and the database
//!   engine drops their users), so it needs `params.approved = true` like `revoke_lease`. The
//!   outputs list the revoked lease ids (at most 100) and their count.
//! - `restrict`: the time-boxed restriction for a Vault-bound identity: the role's `default_ttl`
//!   and `max_ttl` are capped to `params.ttl_secs` (default 300), so every credential issued
//!   or renewed during the restriction lives minutes, not hours. The previous TTLs are
//!   journaled *before* the change (a retry never mistakes the capped values for the original
//!   ones) and undo writes them back. Vault has no self-expiring role setting: the restriction
//!   ends when `tripline case sweep` (run from a timer) undoes it after `expires_in_secs`;
//!   [`Applied::outputs`] carries `expires_at` for that.
//!
//! For `reset_leases` and `restrict`, the Vault role is `params.role` (the connectors file binds
//! identities to roles) and `req.identity` is the identity Tripline scored. For
//! `issue_credentials`, `params.role` also names the role, falling back to `req.identity`.
//!
//! Verification reads `sys/leases/lookup` (leases) or the role (`restrict`).
//!
//! Idempotency: `revoke_lease` is idempotent by nature (revoking a missing lease is a no-op in
//! Vault). `issue_credentials` cannot be recognised from Vault's side, so a retry passes the
//! lease recorded the first time as `params.existing_lease`; the crate's action ledger records
//! the `Applied` (and so the lease id) of every apply, which is where a retry in another process
//! finds it. When that lease is still alive, `apply` returns it instead of issuing another.

use crate::action::{ActionRequest, Applied, ConnectorError, Plan};
use crate::{Connector, Journal, NoJournal};
use serde_json::{json, Value};
use std::fmt;
use std::time::Duration;

const NAME: &str = "vault";

/// A secret value handed back to the caller once. `Debug` and `Display` print a placeholder, and
/// it is not `Serialize`, so it cannot reach a log, a ledger or an `Applied` by accident.
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }
    /// The value itself: call it only where the secret is handed on.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A dynamic credential fresh from Vault: the public part is in `applied.outputs`.
#[derive(Debug)]
pub struct Issued {
    pub applied: Applied,
    pub username: String,
    pub password: Secret,
}

/// Talks to one OpenBao / Vault server with one token.
pub struct VaultConnector {
    addr: String,
    token: Secret,
    agent: ureq::Agent,
}

impl fmt::Debug for VaultConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultConnector")
            .field("addr", &self.addr)
            .field("token", &self.token)
            .finish()
    }
}

/// The state of a lease as `sys/leases/lookup` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseState {
    Alive { ttl_secs: u64 },
    Gone,
}

impl VaultConnector {
    /// `addr` like `http://127.0.0.1:8200` (no `/v1`).
    pub fn new(addr: impl Into<String>, token: impl Into<String>) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build();
        Self {
            addr: addr.into().trim_end_matches('/').to_string(),
            token: Secret(token.into()),
            agent,
        }
    }

    fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ConnectorError> {
        let url = format!("{}/v1/{}", self.addr, path.trim_start_matches('/'));
        let req = self
            .agent
            .request(method, &url)
            .set("X-Vault-Token", self.token.expose())
            .set("X-Vault-Request", "true");
        let res = match body {
            Some(b) => req
                .set("Content-Type", "application/json")
                .send_string(&b.to_string()),
            None => req.call(),
        };
        match res {
            Ok(resp) => {
                let text = resp
                    .into_string()
                    .map_err(|e| api(format!("{path}: reading response: {e}")))?;
                if text.trim().is_empty() {
                    Ok(Value::Null)
                } else {
                    serde_json::from_str(&text).map_err(|e| api(format!("{path}: bad JSON: {e}")))
                }
            }
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                Err(VaultHttp {
                    code,
                    errors: vault_errors(&text),
                }
                .into_error(path))
            }
            Err(ureq::Error::Transport(t)) => Err(api(format!("{path}: {t}"))),
        }
    }

    /// `sys/leases/lookup`.
    pub fn lookup_lease(&self, lease_id: &str) -> Result<LeaseState, ConnectorError> {
        let url_path = "sys/leases/lookup";
        match self.call("PUT", url_path, Some(&json!({ "lease_id": lease_id }))) {
            Ok(v) => Ok(LeaseState::Alive {
                ttl_secs: v.pointer("/data/ttl").and_then(Value::as_u64).unwrap_or(0),
            }),
            Err(ConnectorError::Api { message, .. }) if message.contains("invalid lease") => {
                Ok(LeaseState::Gone)
            }
            Err(e) => Err(e),
        }
    }

    /// `sys/leases/revoke`.
    pub fn revoke_lease(&self, lease_id: &str) -> Result<(), ConnectorError> {
        self.call(
            "PUT",
            "sys/leases/revoke",
            Some(&json!({ "lease_id": lease_id })),
        )
        .map(|_| ())
    }

    /// Lease ids (full paths) under `prefix` (e.g. `database/creds/app`); empty when none.
    pub fn list_leases(&self, prefix: &str) -> Result<Vec<String>, ConnectorError> {
        let prefix = prefix.trim_matches('/');
        match self.call("LIST", &format!("sys/leases/lookup/{prefix}/"), None) {
            Ok(v) => Ok(v
                .pointer("/data/keys")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(|k| format!("{prefix}/{k}"))
                        .collect()
                })
                .unwrap_or_default()),
            // Vault answers 404 for an empty prefix.
            Err(ConnectorError::Api { message, .. }) if message.contains("HTTP 404") => {
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }

    /// A role's `(default_ttl, max_ttl)` in seconds.
    pub fn role_ttls(&self, mount: &str, role: &str) -> Result<(u64, u64), ConnectorError> {
        let v = self.call("GET", &format!("{mount}/roles/{role}"), None)?;
        let get = |k: &str| {
            v.pointer(&format!("/data/{k}"))
                .and_then(Value::as_u64)
                .ok_or_else(|| api(format!("{mount}/roles/{role}: no numeric {k}")))
        };
        Ok((get("default_ttl")?, get("max_ttl")?))
    }

    fn set_role_ttls(
        &self,
        mount: &str,
        role: &str,
        default_ttl: u64,
        max_ttl: u64,
    ) -> Result<(), ConnectorError> {
        self.call(
            "POST",
            &format!("{mount}/roles/{role}"),
            Some(&json!({
                "default_ttl": format!("{default_ttl}s"),
                "max_ttl": format!("{max_ttl}s"),
            })),
        )
        .map(|_| ())
    }

    fn apply_reset(&self, req: &ActionRequest) -> Result<Applied, ConnectorError> {
        let (mount, role) = (mount(req)?, role(req)?);
        if !approved(req) {
            return Err(ConnectorError::Invalid(format!(
                "reset_leases of {mount}/creds/{role} is irreversible and needs params.approved = true"
            )));
        }
        let prefix = format!("{mount}/creds/{role}");
        let leases = self.list_leases(&prefix)?;
        self.call("PUT", &format!("sys/leases/revoke-prefix/{prefix}"), None)?;
        Ok(Applied {
            action_id: req.action_id.clone(),
            connector: NAME.into(),
            kind: req.kind.clone(),
            identity: req.identity.clone(),
            undo: json!({ "irreversible": true }),
            outputs: json!({
                "prefix": prefix,
                "revoked": leases.len(),
                "lease_ids": leases.iter().take(MAX_LISTED_LEASES).collect::<Vec<_>>(),
            }),
        })
    }

    fn apply_restrict(
        &self,
        req: &ActionRequest,
        journal: &mut dyn Journal,
    ) -> Result<Applied, ConnectorError> {
        let (mount, role) = (mount(req)?, role(req)?);
        let secs = req.expires_in_secs.ok_or_else(|| {
            ConnectorError::Invalid("restrict needs expires_in_secs: restrictions expire".into())
        })?;
        let cap = cap_ttl(req);
        // The original TTLs: from an interrupted attempt if there was one (the role may already
        // be capped by it), else read now and journaled before anything changes.
        let (default_ttl, max_ttl, expires_at) = match journal.partial() {
            Some(p) => (
                p.get("default_ttl").and_then(Value::as_u64),
                p.get("max_ttl").and_then(Value::as_u64),
                p.get("expires_at").and_then(Value::as_i64),
            ),
            None => (None, None, None),
        };
        let (default_ttl, max_ttl, expires_at) = match (default_ttl, max_ttl, expires_at) {
            (Some(d), Some(m), Some(e)) => (d, m, e),
            _ => {
                let (d, m) = self.role_ttls(&mount, &role)?;
                let e = now_secs().saturating_add(i64::try_from(secs).unwrap_or(i64::MAX));
                journal.record(json!({ "default_ttl": d, "max_ttl": m, "expires_at": e }))?;
                (d, m, e)
            }
        };
        self.set_role_ttls(&mount, &role, cap.min(default_ttl), cap.min(max_ttl))?;
        Ok(restrict_applied(
            req,
            &mount,
            &role,
            default_ttl,
            max_ttl,
            cap,
            expires_at,
        ))
    }

    /// `issue_credentials` with the password handed back. [`Connector::apply`] calls this and
    /// drops the secret (for a rotation whose consumer reads the new credential elsewhere).
    pub fn issue(&self, req: &ActionRequest) -> Result<Issued, ConnectorError> {
        if req.kind != "issue_credentials" {
            return Err(ConnectorError::Invalid(format!(
                "issue: kind is {}",
                req.kind
            )));
        }
        let max_ttl = req.expires_in_secs.ok_or_else(|| {
            ConnectorError::Invalid("issue_credentials needs expires_in_secs".into())
        })?;
        let mount = mount(req)?;
        let role = role(req)?;
        let v = self.call("GET", &format!("{mount}/creds/{role}"), None)?;
        let lease_id = v
            .get("lease_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| api("creds: no lease_id in response".into()))?
            .to_string();
        let lease_duration = v.get("lease_duration").and_then(Value::as_u64).unwrap_or(0);
        if lease_duration > max_ttl || lease_duration == 0 {
            // Do not leave a credential that outlives what was asked for.
            self.revoke_lease(&lease_id)?;
            return Err(ConnectorError::Invalid(format!(
                "role {role} issued a lease of {lease_duration}s, longer than the requested {max_ttl}s \
                 (set the role's default_ttl to at most the requested lifetime); revoked it"
            )));
        }
        let username = v
            .pointer("/data/username")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let password = v
            .pointer("/data/password")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Ok(Issued {
            applied: Applied {
                action_id: req.action_id.clone(),
                connector: NAME.into(),
                kind: req.kind.clone(),
                identity: req.identity.clone(),
                undo: json!({ "revoke_lease": lease_id }),
                outputs: json!({
                    "lease_id": lease_id,
                    "lease_duration_secs": lease_duration,
                    "username": username,
                    "mount": mount,
                }),
            },
            username,
            password: Secret(password),
        })
    }
}

/// The Vault role an action is about: `params.role`, else the identity itself.
fn role(req: &ActionRequest) -> Result<String, ConnectorError> {
    let r = req
        .params
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or(&req.identity);
    // A role name is one path segment: refuse anything that could walk elsewhere in the API.
    if r.is_empty() || r.contains(['/', '?', '#', '%']) || r == "." || r == ".." {
        return Err(ConnectorError::Invalid(format!(
            "{r:?} is not a Vault role name"
        )));
    }
    Ok(r.to_string())
}

/// The TTL a `restrict` caps a role to.
fn cap_ttl(req: &ActionRequest) -> u64 {
    req.params
        .get("ttl_secs")
        .and_then(Value::as_u64)
        .filter(|&t| t > 0)
        .unwrap_or(DEFAULT_RESTRICT_TTL_SECS)
}

/// Default cap on a restricted role's credential lifetime.
pub const DEFAULT_RESTRICT_TTL_SECS: u64 = 300;
/// At most this many revoked lease ids are listed in a `reset_leases` result.
const MAX_LISTED_LEASES: usize = 100;

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn mount(req: &ActionRequest) -> Result<String, ConnectorError> {
    let m = req
        .params
        .get("mount")
        .and_then(Value::as_str)
        .unwrap_or("database")
        .trim_matches('/');
    // A mount path never walks up or carries a query.
    if m.is_empty()
        || m.split('/')
            .any(|seg| seg == ".." || seg == "." || seg.is_empty())
        || m.contains(['?', '#', '%'])
    {
        return Err(ConnectorError::Invalid(format!(
            "{m:?} is not a Vault mount path"
        )));
    }
    Ok(m.to_string())
}

fn restrict_applied(
    req: &ActionRequest,
    mount: &str,
    role: &str,
    default_ttl: u64,
    max_ttl: u64,
    cap: u64,
    expires_at: i64,
) -> Applied {
    Applied {
        action_id: req.action_id.clone(),
        connector: NAME.into(),
        kind: "restrict".into(),
        identity: req.identity.clone(),
        undo: json!({
            "mount": mount, "role": role, "default_ttl": default_ttl, "max_ttl": max_ttl,
            "expires_at": expires_at,
        }),
        outputs: json!({
            "mount": mount,
            "role": role,
            "capped_ttl_secs": cap.min(max_ttl),
            "expires_at": tripline_model::Timestamp::from_secs(expires_at).to_string(),
        }),
    }
}

fn api(message: String) -> ConnectorError {
    ConnectorError::Api {
        connector: NAME.into(),
        message,
    }
}

struct VaultHttp {
    code: u16,
    errors: String,
}

impl VaultHttp {
    fn into_error(self, path: &str) -> ConnectorError {
        let hint = match self.code {
            401 | 403 => " (token invalid, expired or not allowed)",
            _ => "",
        };
        api(format!("{path}: HTTP {}{hint}: {}", self.code, self.errors))
    }
}

/// Vault's `{"errors": [...]}`, joined; the raw body (bounded) otherwise.
fn vault_errors(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errors").and_then(Value::as_array).map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        })
        .unwrap_or_else(|| body.chars().take(200).collect())
}

fn credential(req: &ActionRequest) -> Result<&str, ConnectorError> {
    req.credential
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ConnectorError::Invalid("revoke_lease needs credential = the lease id".into())
        })
}

/// The plan of an irreversible call: the call, why it cannot be undone, and the approval it
/// still needs.
fn irreversible(req: &ActionRequest, call: String, why: &str) -> (Vec<String>, bool) {
    let mut steps = vec![call, format!("IRREVERSIBLE: {why}")];
    if !approved(req) {
        steps.push("requires approval: params.approved = true".into());
    }
    (steps, false)
}

fn approved(req: &ActionRequest) -> bool {
    req.params.get("approved").and_then(Value::as_bool) == Some(true)
}

impl Connector for VaultConnector {
    fn name(&self) -> &str {
        NAME
    }

    fn plan(&self, req: &ActionRequest) -> Result<Plan, ConnectorError> {
        let (steps, reversible) = match req.kind.as_str() {
            "revoke_lease" => irreversible(
                req,
                format!("PUT sys/leases/revoke lease_id={}", credential(req)?),
                "a revoked lease cannot be restored; undo is not possible",
            ),
            "issue_credentials" => {
                let ttl = req.expires_in_secs.ok_or_else(|| {
                    ConnectorError::Invalid("issue_credentials needs expires_in_secs".into())
                })?;
                let (mount, role) = (mount(req)?, role(req)?);
                let mut steps = Vec::new();
                if let Some(l) = req.params.get("existing_lease").and_then(Value::as_str) {
                    steps.push(format!(
                        "reuse lease {l} if sys/leases/lookup shows it alive, else issue anew"
                    ));
                }
                steps.push(format!(
                    "GET {mount}/creds/{role}: a dynamic credential living at most {ttl}s"
                ));
                steps.push("undo: PUT sys/leases/revoke on the issued lease".into());
                (steps, true)
            }
            "reset_leases" => irreversible(
                req,
                format!(
                    "PUT sys/leases/revoke-prefix/{}/creds/{}: every outstanding credential of the role",
                    mount(req)?,
                    role(req)?
                ),
                "revoked leases cannot be restored; consumers read fresh credentials",
            ),
            "restrict" => {
                let secs = req.expires_in_secs.ok_or_else(|| {
                    ConnectorError::Invalid("restrict needs expires_in_secs".into())
                })?;
                let (mount, role) = (mount(req)?, role(req)?);
                (
                    vec![
                        format!(
                            "POST {mount}/roles/{role}: default_ttl and max_ttl capped to {}s for {secs}s",
                            cap_ttl(req)
                        ),
                        "undo (and expiry, by `tripline case sweep`): write the previous TTLs back".into(),
                    ],
                    true,
                )
            }
            other => return Err(ConnectorError::Unsupported(other.to_string())),
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
        match req.kind.as_str() {
            "reset_leases" => self.apply_reset(req),
            "restrict" => self.apply_restrict(req, journal),
            "revoke_lease" => {
                let lease = credential(req)?;
                if !approved(req) {
                    return Err(ConnectorError::Invalid(format!(
                        "revoke_lease of {lease} is irreversible and needs params.approved = true"
                    )));
                }
                self.revoke_lease(lease)?;
                Ok(Applied {
                    action_id: req.action_id.clone(),
                    connector: NAME.into(),
                    kind: req.kind.clone(),
                    identity: req.identity.clone(),
                    undo: json!({ "irreversible": true }),
                    outputs: json!({ "lease_id": lease, "revoked": true }),
                })
            }
            "issue_credentials" => {
                if let Some(existing) = req.params.get("existing_lease").and_then(Value::as_str) {
                    if let LeaseState::Alive { ttl_secs } = self.lookup_lease(existing)? {
                        return Ok(Applied {
                            action_id: req.action_id.clone(),
                            connector: NAME.into(),
                            kind: req.kind.clone(),
                            identity: req.identity.clone(),
                            undo: json!({ "revoke_lease": existing }),
                            outputs: json!({
                                "lease_id": existing,
                                "lease_duration_secs": ttl_secs,
                                "mount": mount(req)?,
                                "reused": true,
                            }),
                        });
                    }
                }
                self.issue(req).map(|i| i.applied)
            }
            other => Err(ConnectorError::Unsupported(other.to_string())),
        }
    }

    fn verify(&self, applied: &Applied) -> Result<bool, ConnectorError> {
        match applied.kind.as_str() {
            "restrict" => {
                let (mount, role) = (
                    str_at(&applied.outputs, "mount")?,
                    str_at(&applied.outputs, "role")?,
                );
                let cap = applied
                    .outputs
                    .get("capped_ttl_secs")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                let (d, m) = self.role_ttls(mount, role)?;
                return Ok(d <= cap && m <= cap);
            }
            "reset_leases" => {
                // Every lease that was revoked is gone (new ones may have been issued since).
                for lease in applied
                    .outputs
                    .get("lease_ids")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if self.lookup_lease(lease)? != LeaseState::Gone {
                        return Ok(false);
                    }
                }
                return Ok(true);
            }
            _ => {}
        }
        let lease = applied
            .outputs
            .get("lease_id")
            .and_then(Value::as_str)
            .ok_or_else(|| ConnectorError::Invalid("applied has no outputs.lease_id".into()))?;
        let state = self.lookup_lease(lease)?;
        Ok(match applied.kind.as_str() {
            "revoke_lease" => state == LeaseState::Gone,
            "issue_credentials" => matches!(state, LeaseState::Alive { .. }),
            other => return Err(ConnectorError::Unsupported(other.to_string())),
        })
    }

    fn undo(&self, applied: &Applied) -> Result<(), ConnectorError> {
        match applied.kind.as_str() {
            "revoke_lease" | "reset_leases" => Err(ConnectorError::Invalid(format!(
                "{} is irreversible: a revoked lease cannot be restored",
                applied.kind
            ))),
            "restrict" => {
                let u = &applied.undo;
                let (mount, role) = (str_at(u, "mount")?, str_at(u, "role")?);
                let ttl = |k: &str| {
                    u.get(k)
                        .and_then(Value::as_u64)
                        .ok_or_else(|| ConnectorError::Invalid(format!("applied has no undo.{k}")))
                };
                self.set_role_ttls(mount, role, ttl("default_ttl")?, ttl("max_ttl")?)
            }
            "issue_credentials" => {
                let lease = applied
                    .undo
                    .get("revoke_lease")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        ConnectorError::Invalid("applied has no undo.revoke_lease".into())
                    })?;
                self.revoke_lease(lease)
            }
            other => Err(ConnectorError::Unsupported(other.to_string())),
        }
    }

    /// Vault keeps no expiry of its own for a capped role: a later end is recorded in the
    /// result, which `tripline case sweep` reads.
    fn extend(&self, applied: &Applied, expires_at: i64) -> Result<Applied, ConnectorError> {
        if applied.kind != "restrict" {
            return Err(ConnectorError::Unsupported(format!(
                "extend {}",
                applied.kind
            )));
        }
        let mut out = applied.clone();
        let end = tripline_model::Timestamp::from_secs(expires_at).to_string();
        for (v, val) in [
            (&mut out.undo, json!(expires_at)),
            (&mut out.outputs, json!(end)),
        ] {
            if let Some(o) = v.as_object_mut() {
                o.insert("expires_at".into(), val);
            }
        }
        Ok(out)
    }

    /// After a crash mid-`restrict`: the journal holds the original TTLs; if the cap is in
    /// place the action is complete, otherwise nothing changed (the original TTLs are written
    /// back either way when they differ, so the role is never left half-capped).
    /// `issue_credentials` and the revocations have nothing half-done to clean up: an issued
    /// lease that was never recorded expires by itself, and a revocation is complete or absent.
    fn reconcile(
        &self,
        req: &ActionRequest,
        partial: Option<&Value>,
    ) -> Result<Option<Applied>, ConnectorError> {
        if req.kind != "restrict" {
            return Ok(None);
        }
        let Some(p) = partial else {
            return Ok(None);
        };
        let (Some(d), Some(m), Some(e)) = (
            p.get("default_ttl").and_then(Value::as_u64),
            p.get("max_ttl").and_then(Value::as_u64),
            p.get("expires_at").and_then(Value::as_i64),
        ) else {
            return Ok(None);
        };
        let (mount, role, cap) = (mount(req)?, role(req)?, cap_ttl(req));
        let (cd, cm) = self.role_ttls(&mount, &role)?;
        if cd == cap.min(d) && cm == cap.min(m) {
            return Ok(Some(restrict_applied(req, &mount, &role, d, m, cap, e)));
        }
        if (cd, cm) != (d, m) {
            self.set_role_ttls(&mount, &role, d, m)?;
        }
        Ok(None)
    }
}

fn str_at<'a>(v: &'a Value, key: &str) -> Result<&'a str, ConnectorError> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| ConnectorError::Invalid(format!("applied has no {key}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_does_not_print() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?} {s}"), "Secret(<redacted>) <redacted>");
        let c = VaultConnector::new("http://127.0.0.1:1", "root-token-xyz");
        assert!(!format!("{c:?}").contains("root-token-xyz"));
    }

    #[test]
    fn plan_marks_revoke_irreversible() {
        let c = VaultConnector::new("http://127.0.0.1:1", "t");
        let req = ActionRequest {
            action_id: "a".into(),
            kind: "revoke_lease".into(),
            identity: "db".into(),
            credential: Some("database/creds/x/abc".into()),
            expires_in_secs: None,
            reason: "r".into(),
            params: Value::Null,
            account: None,
        };
        let p = c.plan(&req).unwrap();
        assert!(!p.reversible);
        assert!(p.steps.iter().any(|s| s.contains("requires approval")));
        assert!(matches!(c.apply(&req), Err(ConnectorError::Invalid(_))));
    }
}
