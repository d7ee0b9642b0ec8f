//! Webhook connector: `notify`, `step_up` and `owner_review` as a JSON POST to a configured URL.
//!
//! Two body formats: [`Format::Generic`] (`{"tripline": {action_id, kind, identity, …}}`, for
//! paging and ticketing receivers) and [`Format::Chat`] (`{"text": "…"}`, Slack-compatible
//! incoming webhooks). Every request carries `Idempotency-Key: <action_id>`, so a receiver that
//! honours it sees a retry as the same message. A 5xx answer or a transport error is retried
//! with exponential backoff, a bounded number of times; a 4xx is not retried.
//!
//! A message changes no state Tripline could restore: `undo` does nothing and says so in the plan.
//! `verify` cannot read a message back from a chat or pager; it reports whether the receiver
//! acknowledged delivery (a 2xx) as recorded in `Applied.outputs`.

use crate::action::{ActionRequest, Applied, ConnectorError, Plan};
use crate::Connector;
use serde_json::{json, Value};
use std::fmt;
use std::time::Duration;

const NAME: &str = "webhook";
const KINDS: [&str; 3] = ["notify", "step_up", "owner_review"];

/// The body shape the receiver expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `{"tripline": {action_id, kind, identity, credential, reason, expires_in_secs, message}}`.
    Generic,
    /// `{"text": "…"}` (Slack-compatible).
    Chat,
}

/// Posts to one URL. Chat webhook URLs embed their secret in the path, so neither `Debug` nor an
/// error message shows more of the URL than its scheme and host.
pub struct WebhookConnector {
    url: String,
    format: Format,
    max_attempts: u32,
    base_backoff: Duration,
    agent: ureq::Agent,
}

impl fmt::Debug for WebhookConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConnector")
            .field("url", &redacted_url(&self.url))
            .field("format", &self.format)
            .field("max_attempts", &self.max_attempts)
            .field("base_backoff", &self.base_backoff)
            .finish()
    }
}

/// `scheme://host[:port]/…`: the path (where chat webhooks keep their secret) hidden.
fn redacted_url(url: &str) -> String {
    let after_scheme = url.find("://").map_or(0, |i| i.saturating_add(3));
    match url.get(after_scheme..).and_then(|rest| rest.find('/')) {
        Some(slash) => {
            let end = after_scheme.saturating_add(slash);
            format!("{}/…", url.get(..end).unwrap_or_default())
        }
        None => url.to_string(),
    }
}

impl WebhookConnector {
    /// Three attempts, backoff 500 ms then 1 s.
    pub fn new(url: impl Into<String>, format: Format) -> Self {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build();
        Self {
            url: url.into(),
            format,
            max_attempts: 3,
            base_backoff: Duration::from_millis(500),
            agent,
        }
    }

    /// At most `max_attempts` (≥ 1, ≤ 10) POSTs; the wait doubles from `base_backoff`.
    pub fn with_retry(mut self, max_attempts: u32, base_backoff: Duration) -> Self {
        self.max_attempts = max_attempts.clamp(1, 10);
        self.base_backoff = base_backoff;
        self
    }

    /// The body this connector would send for `req`.
    pub fn body(&self, req: &ActionRequest) -> Value {
        let message = req.params.get("message").and_then(Value::as_str);
        match self.format {
            Format::Generic => json!({
                "tripline": {
                    "action_id": req.action_id,
                    "kind": req.kind,
                    "identity": req.identity,
                    "credential": req.credential,
                    "reason": req.reason,
                    "expires_in_secs": req.expires_in_secs,
                    "message": message,
                    "owner": req.params.get("owner"),
                    "case_id": req.params.get("case_id"),
                }
            }),
            Format::Chat => {
                let what = match req.kind.as_str() {
                    "step_up" => "Step-up verification requested",
                    "owner_review" => "Owner review requested",
                    _ => "Notice",
                };
                let mut text = format!("[Tripline] {what} for `{}`: {}", req.identity, req.reason);
                if let Some(m) = message {
                    text.push('\n');
                    text.push_str(m);
                }
                if let Some(s) = req.expires_in_secs {
                    text.push_str(&format!("\nExpires in {s}s."));
                }
                text.push_str(&format!("\n(action {})", req.action_id));
                json!({ "text": text })
            }
        }
    }

    fn post(&self, req: &ActionRequest) -> Result<(u16, u32), ConnectorError> {
        let body = self.body(req).to_string();
        let mut wait = self.base_backoff;
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            let res = self
                .agent
                .post(&self.url)
                .set("Content-Type", "application/json")
                .set("Idempotency-Key", &req.action_id)
                .send_string(&body);
            match res {
                Ok(resp) => return Ok((resp.status(), attempt)),
                Err(ureq::Error::Status(code, _)) if code >= 500 => {
                    last = format!("HTTP {code}");
                }
                Err(ureq::Error::Status(code, resp)) => {
                    let text: String = resp
                        .into_string()
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect();
                    return Err(api(format!("HTTP {code} (not retried): {text}")));
                }
                Err(ureq::Error::Transport(t)) => {
                    // Not `t.to_string()`: that includes the full URL.
                    last = format!("{}: {}", t.kind(), t.message().unwrap_or_default());
                }
            }
            if attempt < self.max_attempts {
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
            }
        }
        Err(api(format!(
            "gave up after {} attempts: {last}",
            self.max_attempts
        )))
    }
}

fn api(message: String) -> ConnectorError {
    ConnectorError::Api {
        connector: NAME.into(),
        message,
    }
}

fn check_kind(kind: &str) -> Result<(), ConnectorError> {
    if KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(ConnectorError::Unsupported(kind.to_string()))
    }
}

impl Connector for WebhookConnector {
    fn name(&self) -> &str {
        NAME
    }

    fn plan(&self, req: &ActionRequest) -> Result<Plan, ConnectorError> {
        check_kind(&req.kind)?;
        let format = match self.format {
            Format::Generic => "generic JSON",
            Format::Chat => "chat text",
        };
        Ok(Plan {
            action_id: req.action_id.clone(),
            connector: NAME.into(),
            steps: vec![
                format!(
                    "POST {format} {} message to the webhook with Idempotency-Key {} \
                     (up to {} attempts on 5xx)",
                    req.kind, req.action_id, self.max_attempts
                ),
                "nothing to undo: a message changes no state (undo is a no-op)".into(),
            ],
            reversible: true,
        })
    }

    fn apply(&self, req: &ActionRequest) -> Result<Applied, ConnectorError> {
        check_kind(&req.kind)?;
        let (status, attempts) = self.post(req)?;
        Ok(Applied {
            action_id: req.action_id.clone(),
            connector: NAME.into(),
            kind: req.kind.clone(),
            identity: req.identity.clone(),
            undo: json!({ "nothing_to_undo": true }),
            outputs: json!({ "delivered": true, "status": status, "attempts": attempts }),
        })
    }

    fn verify(&self, applied: &Applied) -> Result<bool, ConnectorError> {
        Ok(applied.outputs.get("delivered").and_then(Value::as_bool) == Some(true))
    }

    fn undo(&self, _applied: &Applied) -> Result<(), ConnectorError> {
        Ok(())
    }
}
