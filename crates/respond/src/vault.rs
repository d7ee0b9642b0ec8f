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
//! Verification reads `sys/leases/lookup`.
//!
//! Idempotency: `revoke_lease` is idempotent by nature (revoking a missing lease is a no-op in
//! Vault). `issue_credentials` cannot be recognised from Vault's side, so a retry passes the
//! lease recorded the first time as `params.existing_lease`; the crate's action ledger records
//! the `Applied` (and so the lease id) of every apply, which is where a retry in another process
//! finds it. When that lease is still alive, `apply` returns it instead of issuing another.

use crate::action::{ActionRequest, Applied, ConnectorError, Plan};
use crate::Connector;
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
        let mount = mount(req);
        let v = self.call("GET", &format!("{mount}/creds/{}", req.identity), None)?;
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
                "role {} issued a lease of {lease_duration}s, longer than the requested {max_ttl}s \
                 (set the role's default_ttl to at most the requested lifetime); revoked it",
                req.identity
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

fn mount(req: &ActionRequest) -> String {
    req.params
        .get("mount")
        .and_then(Value::as_str)
        .unwrap_or("database")
        .trim_matches('/')
        .to_string()
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

fn approved(req: &ActionRequest) -> bool {
    req.params.get("approved").and_then(Value::as_bool) == Some(true)
}

impl Connector for VaultConnector {
    fn name(&self) -> &str {
        NAME
    }

    fn plan(&self, req: &ActionRequest) -> Result<Plan, ConnectorError> {
        let (steps, reversible) = match req.kind.as_str() {
            "revoke_lease" => {
                let lease = credential(req)?;
                let mut steps = vec![
                    format!("PUT sys/leases/revoke lease_id={lease}"),
                    "IRREVERSIBLE: a revoked lease cannot be restored; undo is not possible".into(),
                ];
                if !approved(req) {
                    steps.push("requires approval: params.approved = true".into());
                }
                (steps, false)
            }
            "issue_credentials" => {
                let ttl = req.expires_in_secs.ok_or_else(|| {
                    ConnectorError::Invalid("issue_credentials needs expires_in_secs".into())
                })?;
                let mount = mount(req);
                let mut steps = Vec::new();
                if let Some(l) = req.params.get("existing_lease").and_then(Value::as_str) {
                    steps.push(format!(
                        "reuse lease {l} if sys/leases/lookup shows it alive, else issue anew"
                    ));
                }
                steps.push(format!(
                    "GET {mount}/creds/{}: a dynamic credential living at most {ttl}s",
                    req.identity
                ));
                steps.push("undo: PUT sys/leases/revoke on the issued lease".into());
                (steps, true)
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
        match req.kind.as_str() {
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
                                "mount": mount(req),
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
            "revoke_lease" => Err(ConnectorError::Invalid(
                "revoke_lease is irreversible: a revoked lease cannot be restored".into(),
            )),
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
        };
        let p = c.plan(&req).unwrap();
        assert!(!p.reversible);
        assert!(p.steps.iter().any(|s| s.contains("requires approval")));
        assert!(matches!(c.apply(&req), Err(ConnectorError::Invalid(_))));
    }
}
