//! AWS CloudTrail records (`eventVersion` 1.0x) to normalized [`Event`]s.

use serde::Deserialize;
use serde_json::value::RawValue;
use tripline_model::{Actor, Event, LogSource, Outcome, PrincipalType, Timestamp};

/// Accepts a JSON string or boolean (some shippers write `"readOnly": "true"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum BoolOrString {
    Bool(bool),
    Str(String),
}

impl BoolOrString {
    fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            Self::Str(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Self::Str(s) if s.eq_ignore_ascii_case("false") => Some(false),
            Self::Str(_) => None,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UserIdentity {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub principal_id: Option<String>,
    pub arn: Option<String>,
    pub account_id: Option<String>,
    pub access_key_id: Option<String>,
    pub user_name: Option<String>,
    pub invoked_by: Option<String>,
    pub identity_provider: Option<String>,
    pub session_context: Option<SessionContext>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionContext {
    pub session_issuer: Option<SessionIssuer>,
    pub attributes: Option<SessionAttributes>,
    pub web_id_federation_data: Option<WebIdFederation>,
    pub ec2_role_delivery: Option<String>,
    pub source_identity: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionIssuer {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub arn: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SessionAttributes {
    pub mfa_authenticated: Option<BoolOrString>,
    pub creation_date: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WebIdFederation {
    pub federated_provider: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResourceRef {
    #[serde(rename = "ARN")]
    pub arn: Option<String>,
}

/// The request parameters Tripline reads to name the resource acted on.
#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RequestTarget {
    role_arn: Option<String>,
    policy_arn: Option<String>,
    user_name: Option<String>,
    role_name: Option<String>,
    group_name: Option<String>,
    bucket_name: Option<String>,
    function_name: Option<String>,
    secret_id: Option<String>,
    name: Option<String>,
    key: Option<String>,
}

/// A CloudTrail record as written by AWS (fields Tripline does not use are skipped unparsed).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CloudTrailRecord<'a> {
    #[serde(rename = "eventID")]
    pub event_id: Option<String>,
    pub event_time: Option<String>,
    /// Written instead of `eventTime` by some shippers (e.g. the OTRF/Mordor datasets).
    #[serde(rename = "@timestamp")]
    pub at_timestamp: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub event_type: Option<String>,
    pub aws_region: Option<String>,
    #[serde(rename = "sourceIPAddress")]
    pub source_ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub read_only: Option<BoolOrString>,
    pub recipient_account_id: Option<String>,
    pub vpc_endpoint_id: Option<String>,
    pub user_identity: Option<UserIdentity>,
    pub resources: Option<Vec<ResourceRef>>,
    #[serde(borrow)]
    pub request_parameters: Option<&'a RawValue>,
    #[serde(borrow)]
    pub response_elements: Option<&'a RawValue>,
}

fn principal_type(s: &str) -> PrincipalType {
    match s {
        "IAMUser" => PrincipalType::IamUser,
        "AssumedRole" => PrincipalType::AssumedRole,
        "AWSService" => PrincipalType::AwsService,
        "AWSAccount" => PrincipalType::AwsAccount,
        "Root" => PrincipalType::Root,
        "FederatedUser" => PrincipalType::FederatedUser,
        "WebIdentityUser" => PrincipalType::WebIdentityUser,
        "SAMLUser" => PrincipalType::SamlUser,
        "IdentityCenterUser" => PrincipalType::IdentityCenterUser,
        _ => PrincipalType::Unknown,
    }
}

/// `lambda:UpdateFunctionConfiguration20150331v2` → `UpdateFunctionConfiguration`: Lambda and
/// CloudFront append an API version to event names; IAM action names do not carry it.
fn strip_api_version(name: &str) -> &str {
    let b = name.as_bytes();
    let mut end = b.len();
    // optional `v<digits>`
    let mut i = end;
    while i > 0 && b.get(i - 1).is_some_and(u8::is_ascii_digit) {
        i -= 1;
    }
    if i < end && i > 0 && b.get(i - 1) == Some(&b'v') {
        end = i - 1;
    }
    // eight digits of a date
    if end >= 9
        && b.get(end - 8..end)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
    {
        let trimmed = end - 8;
        if b.get(trimmed - 1).is_some_and(u8::is_ascii_alphabetic) {
            return name.get(..trimmed).unwrap_or(name);
        }
    }
    name
}

/// Whether an error code is an authorization failure.
pub fn is_denied(code: &str) -> bool {
    code.contains("AccessDenied")
        || code.contains("Unauthorized")
        || code.contains("Forbidden")
        || code == "InvalidClientTokenId"
        || code == "SignatureDoesNotMatch"
        || code == "AuthFailure"
        || code == "ExpiredToken"
}

fn resource_of(rec: &CloudTrailRecord<'_>) -> Option<String> {
    if let Some(arn) = rec
        .resources
        .as_ref()
        .and_then(|r| r.iter().find_map(|x| x.arn.clone()))
    {
        return Some(arn);
    }
    let raw = rec.request_parameters?;
    let t: RequestTarget = serde_json::from_str(raw.get()).ok()?;
    t.role_arn
        .or(t.policy_arn)
        .or_else(|| t.user_name.map(|u| format!("user/{u}")))
        .or_else(|| t.role_name.map(|r| format!("role/{r}")))
        .or_else(|| t.group_name.map(|g| format!("group/{g}")))
        .or_else(|| {
            t.bucket_name.map(|b| match t.key {
                Some(k) => format!("arn:aws:s3:::{b}/{k}"),
                None => format!("arn:aws:s3:::{b}"),
            })
        })
        .or(t.function_name)
        .or(t.secret_id)
        .or(t.name)
}

/// An id for a record that lacks `eventID` (hand-written or re-shipped events): a 64-bit FNV-1a
/// hash of its bytes, so the same record always gets the same id and evidence can point at it.
pub(crate) fn derived_id(raw: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in raw {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("derived:{h:016x}")
}

/// Why a recognized CloudTrail record cannot become an event. A record without `eventID` gets
/// one derived from its bytes (the second value says so).
pub(crate) fn to_event(rec: CloudTrailRecord<'_>, raw: &[u8]) -> Result<(Event, bool), String> {
    let resource = resource_of(&rec);
    let console_failed = rec
        .response_elements
        .is_some_and(|r| r.get().contains("\"ConsoleLogin\":\"Failure\""));
    let (id, derived) = match rec.event_id.filter(|s| !s.is_empty()) {
        Some(id) => (id, false),
        None => (derived_id(raw), true),
    };
    let time_text = rec
        .event_time
        .or(rec.at_timestamp)
        .ok_or("cloudtrail record has no eventTime")?;
    let time = Timestamp::parse(&time_text)
        .ok_or_else(|| format!("cloudtrail eventTime {time_text:?} is not an RFC 3339 time"))?;
    let source = rec
        .event_source
        .ok_or("cloudtrail record has no eventSource")?;
    let name = rec.event_name.ok_or("cloudtrail record has no eventName")?;
    let ui = rec
        .user_identity
        .ok_or("cloudtrail record has no userIdentity")?;
    let service = source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(&source)
        .to_string();
    let action = format!("{service}:{}", strip_api_version(&name));
    let outcome = match rec.error_code.as_deref() {
        Some(code) if is_denied(code) => Outcome::Denied,
        Some(_) => Outcome::Failure,
        None if console_failed => Outcome::Failure,
        None => Outcome::Success,
    };
    let call = super::aws_semantics::Call {
        action: &action,
        request: rec.request_parameters.map(RawValue::get),
        response: rec.response_elements.map(RawValue::get),
        account: rec.recipient_account_id.as_deref(),
        caller_user: if ui.kind.as_deref() == Some("IAMUser") {
            ui.user_name.as_deref()
        } else {
            None
        },
    };
    let techniques = super::aws_semantics::techniques(call);
    let issued = super::aws_semantics::issued(
        call,
        ui.kind.as_deref() == Some("AWSService"),
        ui.invoked_by.as_deref(),
    );
    let sc = ui.session_context.unwrap_or_default();
    let issuer = sc.session_issuer.unwrap_or_default();
    let attrs = sc.attributes.unwrap_or_default();
    let actor = Actor {
        principal_type: ui.kind.as_deref().map(principal_type),
        arn: ui.arn,
        principal_id: ui.principal_id,
        account_id: ui.account_id,
        access_key_id: ui.access_key_id.filter(|k| !k.is_empty()),
        user_name: ui.user_name,
        issuer_arn: issuer.arn.filter(|a| !a.is_empty()),
        issuer_type: issuer.kind,
        federated_provider: sc
            .web_id_federation_data
            .and_then(|w| w.federated_provider)
            .or(ui.identity_provider),
        invoked_by: ui.invoked_by,
        mfa_authenticated: attrs
            .mfa_authenticated
            .as_ref()
            .and_then(BoolOrString::as_bool),
        session_created: attrs.creation_date.as_deref().and_then(Timestamp::parse),
        ec2_role_delivery: sc.ec2_role_delivery,
        source_identity: sc.source_identity,
        groups: Vec::new(),
    };
    Ok((
        Event {
            id,
            source: LogSource::CloudTrail,
            time,
            actor,
            service,
            action,
            resource,
            source_ip: rec.source_ip_address,
            user_agent: rec.user_agent,
            region: rec.aws_region,
            account: rec.recipient_account_id,
            outcome,
            error_code: rec.error_code,
            read_only: rec.read_only.as_ref().and_then(BoolOrString::as_bool),
            vpc_endpoint: rec.vpc_endpoint_id,
            event_type: rec.event_type,
            techniques,
            issued,
        },
        derived,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_are_stripped_from_event_names() {
        assert_eq!(
            strip_api_version("UpdateFunctionConfiguration20150331v2"),
            "UpdateFunctionConfiguration"
        );
        assert_eq!(
            strip_api_version("CreateFunction20150331"),
            "CreateFunction"
        );
        assert_eq!(strip_api_version("GetObject"), "GetObject");
        assert_eq!(
            strip_api_version("CreateDistribution2020_05_31"),
            "CreateDistribution2020_05_31"
        );
        assert_eq!(strip_api_version("v2"), "v2");
        assert_eq!(strip_api_version("20150331"), "20150331");
    }
}
