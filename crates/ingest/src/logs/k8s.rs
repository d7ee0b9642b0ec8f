//! Kubernetes audit events (`audit.k8s.io/v1` `Event`) to normalized [`Event`]s.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use tripline_model::{Actor, Event, LogSource, Outcome, PrincipalType, Timestamp};

#[derive(Debug, Deserialize, Default)]
pub(crate) struct UserInfo {
    pub username: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub extra: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectRef {
    pub resource: Option<String>,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub api_group: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct Status {
    pub code: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditEvent<'a> {
    #[serde(rename = "auditID")]
    pub audit_id: Option<String>,
    pub stage: Option<String>,
    pub verb: Option<String>,
    pub request_uri: Option<String>,
    pub user: Option<UserInfo>,
    #[serde(rename = "sourceIPs", default)]
    pub source_ips: Vec<String>,
    pub user_agent: Option<String>,
    pub object_ref: Option<ObjectRef>,
    pub response_status: Option<Status>,
    pub request_received_timestamp: Option<String>,
    pub stage_timestamp: Option<String>,
    /// `audit.k8s.io/v1beta1` and some shippers.
    pub timestamp: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The object sent with the request (audit level `Request` or above); read only for the
    /// requests whose meaning depends on it.
    #[serde(borrow, default)]
    pub request_object: Option<&'a RawValue>,
}

/// Stages other than the final one repeat the same request; they are counted, not scored.
pub(crate) fn is_final_stage(stage: Option<&str>) -> bool {
    matches!(stage, None | Some("ResponseComplete" | "Panic"))
}

fn principal_type(username: &str) -> PrincipalType {
    if username.starts_with("system:serviceaccount:") {
        PrincipalType::K8sServiceAccount
    } else if username.starts_with("system:node:") {
        PrincipalType::K8sNode
    } else if username == "system:anonymous" {
        PrincipalType::K8sAnonymous
    } else {
        PrincipalType::K8sUser
    }
}

/// A record without `auditID` gets one derived from its bytes (the second value says so).
pub(crate) fn to_event(ev: AuditEvent<'_>, raw: &[u8]) -> Result<(Event, bool), String> {
    let (id, derived) = match ev.audit_id.filter(|s| !s.is_empty()) {
        Some(id) => (id, false),
        None => (super::cloudtrail::derived_id(raw), true),
    };
    let time_text = ev
        .request_received_timestamp
        .or(ev.stage_timestamp)
        .or(ev.timestamp)
        .ok_or("kubernetes audit event has no requestReceivedTimestamp")?;
    let time = Timestamp::parse(&time_text).ok_or_else(|| {
        format!("kubernetes requestReceivedTimestamp {time_text:?} is not an RFC 3339 time")
    })?;
    let user = ev.user.ok_or("kubernetes audit event has no user")?;
    let username = user
        .username
        .clone()
        .ok_or("kubernetes audit event has no user.username")?;
    let verb = ev.verb.ok_or("kubernetes audit event has no verb")?;
    let obj = ev.object_ref.unwrap_or_default();
    let service = match obj.api_group.as_deref() {
        Some(g) if !g.is_empty() => format!("k8s:{g}"),
        _ => "k8s".to_string(),
    };
    let what = match (&obj.resource, &obj.subresource) {
        (Some(r), Some(s)) => format!("{r}/{s}"),
        (Some(r), None) => r.clone(),
        (None, _) => ev.request_uri.clone().unwrap_or_default(),
    };
    let action = format!("k8s:{verb}:{what}");
    let resource = obj.resource.as_ref().map(|r| {
        let mut s = String::new();
        if let Some(ns) = &obj.namespace {
            s.push_str(ns);
            s.push('/');
        }
        s.push_str(r);
        if let Some(n) = &obj.name {
            s.push('/');
            s.push_str(n);
        }
        s
    });
    let code = ev.response_status.and_then(|s| s.code);
    let forbidden = ev
        .annotations
        .get("authorization.k8s.io/decision")
        .is_some_and(|d| d == "forbid");
    let outcome = match code {
        Some(401 | 403) => Outcome::Denied,
        _ if forbidden => Outcome::Denied,
        Some(c) if c >= 400 => Outcome::Failure,
        _ => Outcome::Success,
    };
    let techniques = super::k8s_semantics::techniques(super::k8s_semantics::Request {
        username: &username,
        groups: &user.groups,
        verb: &verb,
        resource: obj.resource.as_deref(),
        subresource: obj.subresource.as_deref(),
        namespace: obj.namespace.as_deref(),
        name: obj.name.as_deref(),
        request_uri: ev.request_uri.as_deref(),
        object: ev.request_object.map(RawValue::get),
        allowed: outcome == Outcome::Success,
    });
    let pod = user
        .extra
        .get("authentication.kubernetes.io/pod-name")
        .and_then(|v| v.first())
        .cloned();
    let actor = Actor {
        principal_type: Some(principal_type(&username)),
        arn: Some(username),
        principal_id: user
            .extra
            .get("authentication.kubernetes.io/credential-id")
            .and_then(|v| v.first())
            .cloned(),
        source_identity: pod,
        groups: user.groups,
        ..Actor::default()
    };
    Ok((
        Event {
            id,
            source: LogSource::K8sAudit,
            time,
            actor,
            service,
            action,
            resource,
            source_ip: ev.source_ips.into_iter().next(),
            user_agent: ev.user_agent,
            region: None,
            account: None,
            outcome,
            error_code: code.filter(|c| *c >= 400).map(|c| c.to_string()),
            read_only: Some(matches!(verb.as_str(), "get" | "list" | "watch")),
            vpc_endpoint: None,
            event_type: ev.stage,
            techniques,
            issued: None,
        },
        derived,
    ))
}
