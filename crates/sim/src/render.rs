//! Rendering of generated events into the real log formats: CloudTrail records and Kubernetes
//! `audit.k8s.io/v1` events.

use crate::catalog::{self, Api, P};
use crate::gen::{
    cred_slot, session_start, Ev, DENIED, FAILED, M_EXT_ASSUME, M_INVOKED, M_SVC_ASSUME, M_WEB_ID,
    NO_IDENT, NO_VPCE, S_KEY, S_TASK,
};
use crate::net::cli_command;
use crate::org::{Ident, Issuer, Kind, Org, Sess, REGIONS, SERVICES};
use crate::rng::{ip_str, mix, uuid_from, Rng};
use crate::SimError;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use tripline_model::Timestamp;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `2024-07-30T21:31:10+00:00`, the layout of IAM dates in AWS CLI v2 output and IAM reports.
pub(crate) fn iso_offset(ms: i64) -> String {
    let s = Timestamp(ms).to_string();
    format!("{}+00:00", s.trim_end_matches('Z'))
}

/// `2024-07-30T21:31:10.123456Z`, as Kubernetes writes audit timestamps.
pub(crate) fn micros(ms: i64, extra_us: u32) -> String {
    let s = Timestamp(ms).to_string();
    format!(
        "{}.{:03}{:03}Z",
        s.trim_end_matches('Z'),
        ms.rem_euclid(1000),
        extra_us % 1000
    )
}

/// `Jan 10, 2024, 3:04:05 PM`, as STS credentials' expiration appears in CloudTrail.
fn java_date(ms: i64) -> String {
    let (y, m, d) = Timestamp(ms).date_parts();
    let secs = ms.rem_euclid(Timestamp::MS_PER_DAY) / 1000;
    let (h, mi, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    let mon = MONTHS.get((m as usize).saturating_sub(1)).unwrap_or(&"Jan");
    format!("{mon} {d}, {y}, {h12}:{mi:02}:{s:02} {ampm}")
}

fn region_name(r: u8) -> &'static str {
    REGIONS.get(usize::from(r)).copied().unwrap_or("us-east-1")
}

/// The session name a role's session carries.
pub(crate) fn session_name(org: &Org, who: u16, id: &Ident, cred: u32) -> String {
    let slot = cred_slot(cred);
    let slot_name = id.slots.get(slot).map(|s| s.name.as_str()).unwrap_or("");
    let start = session_start(org, cred);
    let issuer = match id.sess {
        Sess::Periodic { issuer, .. } | Sess::PerEpisode { issuer } => issuer,
        Sess::None => return String::new(),
    };
    match issuer {
        Issuer::Ec2 | Issuer::Lambda | Issuer::ManagementAccount if !slot_name.is_empty() => {
            slot_name.to_string()
        }
        Issuer::WebIdentity => "GitHubActions".to_string(),
        Issuer::ExternalAccount => "DatadogAWSIntegration".to_string(),
        _ => {
            // ECS task id: stable for a task's life (replaced every other day, or per batch run).
            let life = match id.sess {
                Sess::PerEpisode { .. } => start,
                _ => start.div_euclid(2 * Timestamp::MS_PER_DAY),
            };
            let mut r = Rng::derive(
                org.seed,
                &[S_TASK, u64::from(who), slot as u64, life as u64],
            );
            r.hex(32)
        }
    }
}

/// The temporary access key id of a role session.
pub(crate) fn session_key(org: &Org, who: u16, cred: u32) -> String {
    let mut r = Rng::derive(org.seed, &[S_KEY, u64::from(who), u64::from(cred)]);
    format!("ASIA{}", r.b32(16))
}

fn session_seconds(id: &Ident) -> i64 {
    match id.sess {
        Sess::Periodic { period_min, .. } => i64::from(period_min) * 60 + 3600,
        _ => 3600,
    }
}

/// The principal a labelled event is attributed to.
pub(crate) fn identity_label(id: &Ident) -> &str {
    &id.arn
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Tls<'a> {
    tls_version: &'static str,
    cipher_suite: &'static str,
    client_provided_host_header: Cow<'a, str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    event_version: &'static str,
    user_identity: &'a RawValue,
    event_time: String,
    event_source: &'static str,
    event_name: &'static str,
    aws_region: &'static str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Cow<'a, str>,
    user_agent: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
    request_parameters: Value,
    response_elements: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: Option<Value>,
    #[serde(rename = "requestID")]
    request_id: String,
    #[serde(rename = "eventID")]
    event_id: &'a str,
    read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Value>,
    event_type: &'static str,
    management_event: bool,
    recipient_account_id: &'a str,
    #[serde(rename = "sharedEventID", skip_serializing_if = "Option::is_none")]
    shared_event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vpc_endpoint_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vpc_endpoint_account_id: Option<&'a str>,
    event_category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls_details: Option<Tls<'a>>,
}

/// (identity, credential, mode, via): what a `userIdentity` block depends on.
type IdentityKey = (u16, u32, u8, u8);

pub(crate) struct Renderer<'a> {
    pub org: &'a Org,
    /// Serialized `userIdentity` per (identity, credential, mode, via): a session's identity
    /// block is the same for all its calls. Looked up only, never iterated.
    identities: RefCell<HashMap<IdentityKey, Box<RawValue>>>,
}

fn oidc_provider(acct: &str) -> String {
    format!("arn:aws:iam::{acct}:oidc-provider/token.actions.githubusercontent.com")
}

fn oidc_subject(org: &Org, id: &Ident) -> String {
    let repo = id.name.strip_prefix("gha-deploy-").unwrap_or(&id.name);
    format!("repo:{}/{repo}:ref:refs/heads/main", org.slug)
}

/// The name of the customer managed policy (or inline policy) holding an identity's grants.
pub(crate) fn own_policy_name(id: &Ident) -> String {
    format!("{}-policy", id.name)
}

/// The function an intruder creates through `iam:PassRole` + `lambda:CreateFunction`.
pub(crate) fn created_function(org: &Org, who: u16) -> &'static str {
    const NAMES: [&str; 4] = [
        "log-rotation-helper",
        "cache-warmer",
        "nightly-cleanup",
        "metrics-export",
    ];
    NAMES
        .get((mix(org.seed, &[0x666e, u64::from(who)]) % 4) as usize)
        .copied()
        .unwrap_or("cache-warmer")
}

struct Pc<'a> {
    org: &'a Org,
    ev: &'a Ev,
    id: &'a Ident,
    ro: &'a Ident,
    target: Option<&'a Ident>,
    acct: &'a str,
    region: &'static str,
    rng: Rng,
}

impl Pc<'_> {
    fn pick<'s>(&mut self, items: &'s [String], fallback: &'s str) -> &'s str {
        if items.is_empty() {
            return fallback;
        }
        items
            .get(self.rng.index(items.len()))
            .map_or(fallback, String::as_str)
    }

    fn bucket(&mut self) -> String {
        let ro = self.ro;
        let fb = format!("{}-data", self.org.slug);
        self.pick(&ro.res.buckets, &fb).to_string()
    }

    fn object_key(&mut self) -> String {
        let ro = self.ro;
        let prefix = self.pick(&ro.res.prefixes, "data/").to_string();
        let (y, m, d) = Timestamp(self.ev.t).date_parts();
        match self.rng.below(3) {
            0 => format!(
                "{prefix}{y:04}/{m:02}/{d:02}/part-{:05}.parquet",
                self.rng.below(400)
            ),
            1 => format!("{prefix}{}.json", self.rng.uuid()),
            _ => format!(
                "{prefix}{y:04}-{m:02}-{d:02}/batch-{:04}.csv.gz",
                self.rng.below(2000)
            ),
        }
    }

    fn table(&mut self) -> String {
        let ro = self.ro;
        self.pick(&ro.res.tables, "app-state").to_string()
    }

    fn queue_url(&mut self) -> String {
        let ro = self.ro;
        let q = self.pick(&ro.res.queues, "jobs").to_string();
        format!(
            "https://sqs.{}.amazonaws.com/{}/{q}",
            self.region, self.acct
        )
    }

    fn function(&mut self) -> String {
        let ro = self.ro;
        self.pick(&ro.res.functions, "worker").to_string()
    }

    fn stack(&mut self) -> String {
        let ro = self.ro;
        self.pick(&ro.res.stacks, "app").to_string()
    }

    fn service(&mut self) -> String {
        let ro = self.ro;
        self.pick(&ro.res.services, "app-api").to_string()
    }

    fn secret(&mut self) -> String {
        let ro = self.ro;
        let s = self.pick(&ro.res.secrets, "app/credentials").to_string();
        format!(
            "arn:aws:secretsmanager:{}:{}:secret:{s}-{}",
            self.region,
            self.acct,
            self.rng.alnum(6)
        )
    }

    fn kms_arn(&self) -> String {
        let key = if self.ro.res.kms_key.is_empty() {
            "mrk-0"
        } else {
            self.ro.res.kms_key.as_str()
        };
        format!("arn:aws:kms:{}:{}:key/{key}", self.region, self.acct)
    }

    fn target_user(&self) -> &str {
        self.target
            .map_or(self.id.name.as_str(), |t| t.name.as_str())
    }

    fn target_role(&self) -> (&str, &str) {
        match self.target {
            Some(t) if t.kind == Kind::Role => (t.name.as_str(), t.arn.as_str()),
            _ => (self.id.name.as_str(), self.id.arn.as_str()),
        }
    }

    fn instance_id(&mut self) -> String {
        let slot = cred_slot(self.ev.cred);
        match self.id.slots.get(slot) {
            Some(s) if s.name.starts_with("i-") => s.name.clone(),
            _ => format!("i-0{}", self.rng.hex(16)),
        }
    }

    fn s3_host(&self, bucket: &str) -> String {
        format!("{bucket}.s3.{}.amazonaws.com", self.region)
    }
}

impl<'a> Renderer<'a> {
    pub(crate) fn new(org: &'a Org) -> Self {
        Self {
            org,
            identities: RefCell::new(HashMap::new()),
        }
    }

    /// Forgets cached identity blocks (called between hours to bound memory).
    pub(crate) fn clear_cache(&self) {
        if let Ok(mut c) = self.identities.try_borrow_mut() {
            if c.len() > 50_000 {
                c.clear();
            }
        }
    }

    fn user_identity(&self, ev: &Ev, id: &Ident, acct: &str) -> Value {
        match ev.mode {
            M_SVC_ASSUME => {
                json!({"type": "AWSService", "invokedBy": SERVICES.get(usize::from(ev.via)).copied().unwrap_or("ec2.amazonaws.com")})
            }
            M_WEB_ID => {
                let sub = oidc_subject(self.org, id);
                let prov = oidc_provider(acct);
                json!({
                    "type": "WebIdentityUser",
                    "principalId": format!("{prov}:sts.amazonaws.com:{sub}"),
                    "userName": sub,
                    "identityProvider": prov,
                })
            }
            M_EXT_ASSUME => {
                let (account, role) = match id.sess {
                    Sess::Periodic {
                        issuer: Issuer::ExternalAccount,
                        ..
                    }
                    | Sess::PerEpisode {
                        issuer: Issuer::ExternalAccount,
                    } => (
                        self.org.vendor_account.as_str(),
                        id.assumer.as_deref().unwrap_or("IntegrationRole"),
                    ),
                    _ => (
                        self.org.mgmt_account.as_str(),
                        id.assumer.as_deref().unwrap_or("OrganizationAdmin"),
                    ),
                };
                let mut r = Rng::derive(self.org.seed, &[0x6578, crate::rng::hash_str(role)]);
                let session = session_name(self.org, ev.who, id, ev.cred);
                json!({
                    "type": "AWSAccount",
                    "principalId": format!("AROA{}:{session}", r.b32(17)),
                    "accountId": account,
                })
            }
            _ => {
                let mut v = if id.is_user() {
                    let key = id
                        .keys
                        .get(ev.cred as usize)
                        .or_else(|| id.keys.first())
                        .map_or("", |k| k.id.as_str());
                    json!({
                        "type": "IAMUser",
                        "principalId": id.uid,
                        "arn": id.arn,
                        "accountId": acct,
                        "accessKeyId": key,
                        "userName": id.name,
                    })
                } else {
                    let session = session_name(self.org, ev.who, id, ev.cred);
                    let created = Timestamp(session_start(self.org, ev.cred)).to_string();
                    let web = if matches!(
                        id.sess,
                        Sess::PerEpisode {
                            issuer: Issuer::WebIdentity
                        }
                    ) {
                        json!({"federatedProvider": oidc_provider(acct), "attributes": {}})
                    } else {
                        json!({})
                    };
                    let mut ctx = json!({
                        "sessionIssuer": {
                            "type": "Role",
                            "principalId": id.uid,
                            "arn": id.arn,
                            "accountId": acct,
                            "userName": id.name,
                        },
                        "webIdFederationData": web,
                        "attributes": {"creationDate": created, "mfaAuthenticated": "false"},
                    });
                    if matches!(
                        id.sess,
                        Sess::Periodic {
                            issuer: Issuer::Ec2,
                            ..
                        }
                    ) {
                        if let Some(m) = ctx.as_object_mut() {
                            m.insert("ec2RoleDelivery".into(), Value::from("2.0"));
                        }
                    }
                    json!({
                        "type": "AssumedRole",
                        "principalId": format!("{}:{session}", id.uid),
                        "arn": format!("arn:aws:sts::{acct}:assumed-role/{}/{session}", id.name),
                        "accountId": acct,
                        "accessKeyId": session_key(self.org, ev.who, ev.cred),
                        "sessionContext": ctx,
                    })
                };
                if ev.mode == M_INVOKED {
                    if let Some(m) = v.as_object_mut() {
                        m.insert(
                            "invokedBy".into(),
                            Value::from(SERVICES.get(usize::from(ev.via)).copied().unwrap_or("")),
                        );
                    }
                }
                v
            }
        }
    }

    /// Request parameters, response elements, additional event data and resources of a call.
    fn params(&self, pc: &mut Pc<'_>, api: &Api) -> (Value, Value, Option<Value>, Option<Value>) {
        let ok = pc.ev.outcome == 0;
        let region = pc.region;
        let acct = pc.acct.to_string();
        let null = Value::Null;
        match api.p {
            P::Null => (null.clone(), null, None, None),
            P::AssumeRole | P::WebIdentity => {
                let id = pc.id;
                let session = session_name(pc.org, pc.ev.who, id, pc.ev.cred);
                let key = session_key(pc.org, pc.ev.who, pc.ev.cred);
                let exp = java_date(session_start(pc.org, pc.ev.cred) + session_seconds(id) * 1000);
                let mut req = json!({"roleArn": id.arn, "roleSessionName": session, "durationSeconds": session_seconds(id)});
                if let Some(m) = req.as_object_mut() {
                    if pc.ev.mode == M_EXT_ASSUME {
                        if let crate::org::Trust::Account(_, Some(ext)) = &id.policy.trust {
                            m.insert("externalId".into(), Value::from(ext.clone()));
                        }
                    }
                }
                let mut resp = json!({
                    "credentials": {"accessKeyId": key, "expiration": exp},
                    "assumedRoleUser": {
                        "assumedRoleId": format!("{}:{session}", id.uid),
                        "arn": format!("arn:aws:sts::{acct}:assumed-role/{}/{session}", id.name),
                    },
                });
                if api.p == P::WebIdentity {
                    if let Some(m) = resp.as_object_mut() {
                        m.insert(
                            "subjectFromWebIdentityToken".into(),
                            Value::from(oidc_subject(pc.org, id)),
                        );
                        m.insert("provider".into(), Value::from(oidc_provider(&acct)));
                        m.insert("audience".into(), Value::from("sts.amazonaws.com"));
                    }
                }
                let res = json!([{"accountId": acct, "type": "AWS::IAM::Role", "ARN": id.arn}]);
                (req, if ok { resp } else { null }, None, Some(res))
            }
            P::ListBuckets => (json!({"Host": "s3.amazonaws.com"}), null, None, None),
            P::Bucket | P::BucketPolicy => {
                let b = pc.bucket();
                let mut req = json!({"bucketName": b, "Host": pc.s3_host(&b)});
                if api.p == P::BucketPolicy {
                    if let Some(m) = req.as_object_mut() {
                        m.insert(
                            "bucketPolicy".into(),
                            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")}, "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{b}/*")}]}),
                        );
                    }
                }
                let res = json!([{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{b}")}]);
                (req, null, None, Some(res))
            }
            P::ListObjects => {
                let b = pc.bucket();
                let ro = pc.ro;
                let prefix = pc.pick(&ro.res.prefixes, "").to_string();
                let req = json!({"bucketName": b, "Host": pc.s3_host(&b), "list-type": "2", "prefix": prefix, "encoding-type": "url"});
                let extra = json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "bytesTransferredOut": if ok { 200 + pc.rng.below(60_000) } else { 243 }});
                let res = json!([{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{b}")}]);
                (req, null, Some(extra), Some(res))
            }
            P::Object | P::PutObject => {
                let b = pc.bucket();
                let key = pc.object_key();
                let req = json!({"bucketName": b, "Host": pc.s3_host(&b), "key": key});
                let size = 1_000 + pc.rng.below(8_000_000);
                let (inb, outb) = if api.p == P::PutObject {
                    (size, 0)
                } else if api.name == "GetObject" && ok {
                    (0, size)
                } else {
                    (0, 0)
                };
                let extra = json!({"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": inb, "AuthenticationMethod": "AuthHeader", "bytesTransferredOut": outb});
                let resp = if api.p == P::PutObject && ok {
                    json!({"x-amz-server-side-encryption": "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id": pc.kms_arn(), "x-amz-server-side-encryption-bucket-key-enabled": "true"})
                } else {
                    null
                };
                let res = json!([
                    {"type": "AWS::S3::Object", "ARN": format!("arn:aws:s3:::{b}/{key}")},
                    {"accountId": acct, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{b}")}
                ]);
                (req, resp, Some(extra), Some(res))
            }
            P::Table | P::Item | P::Query | P::BatchWrite => {
                let t = pc.table();
                let req = match api.p {
                    P::Item => {
                        json!({"tableName": t, "key": {"pk": "HIDDEN_DUE_TO_SECURITY_REASONS", "sk": "HIDDEN_DUE_TO_SECURITY_REASONS"}})
                    }
                    P::Query => {
                        json!({"tableName": t, "keyConditionExpression": "pk = :pk", "limit": 50})
                    }
                    P::BatchWrite => json!({"requestItems": [{"tableName": t}]}),
                    _ => json!({"tableName": t}),
                };
                let res = if api.data() {
                    Some(
                        json!([{"accountId": acct, "type": "AWS::DynamoDB::Table", "ARN": format!("arn:aws:dynamodb:{region}:{acct}:table/{t}")}]),
                    )
                } else {
                    None
                };
                (req, null, None, res)
            }
            P::Queue | P::SendMessage | P::ReceiveMessage => {
                let url = pc.queue_url();
                let req = match api.p {
                    P::ReceiveMessage => {
                        json!({"queueUrl": url, "maxNumberOfMessages": 10, "waitTimeSeconds": 20})
                    }
                    P::SendMessage => json!({"queueUrl": url}),
                    _ => json!({"queueUrl": url}),
                };
                let resp = if api.p == P::SendMessage && ok {
                    json!({"mD5OfMessageBody": pc.rng.hex(32), "messageId": pc.rng.uuid()})
                } else {
                    null
                };
                (req, resp, None, None)
            }
            P::Topic => {
                let ro = pc.ro;
                let t = pc.pick(&ro.res.topics, "events").to_string();
                let resp = if ok {
                    json!({"messageId": pc.rng.uuid()})
                } else {
                    null
                };
                (
                    json!({"topicArn": format!("arn:aws:sns:{region}:{acct}:{t}")}),
                    resp,
                    None,
                    None,
                )
            }
            P::Function => {
                let f = pc.function();
                (json!({"functionName": f}), null, None, None)
            }
            P::Invoke => {
                let f = if pc.ev.aux != NO_IDENT {
                    created_function(pc.org, pc.ev.who).to_string()
                } else {
                    pc.function()
                };
                let arn = format!("arn:aws:lambda:{region}:{acct}:function:{f}");
                let res = json!([{"accountId": acct, "type": "AWS::Lambda::Function", "ARN": arn}]);
                (
                    json!({"functionName": arn, "invocationType": "RequestResponse"}),
                    null,
                    Some(json!({"functionVersion": format!("{arn}:$LATEST")})),
                    Some(res),
                )
            }
            P::CreateFunction => {
                let f = created_function(pc.org, pc.ev.who);
                let (_, role) = pc.target_role();
                let req = json!({"functionName": f, "runtime": "python3.12", "role": role, "handler": "lambda_function.lambda_handler", "code": {}, "timeout": 300, "memorySize": 256, "publish": false});
                let resp = if ok {
                    json!({"functionName": f, "functionArn": format!("arn:aws:lambda:{region}:{acct}:function:{f}"), "runtime": "python3.12", "role": role, "handler": "lambda_function.lambda_handler", "codeSize": 412 + pc.rng.below(3000), "timeout": 300, "memorySize": 256, "state": "Pending", "stateReasonCode": "Creating", "packageType": "Zip", "architectures": ["x86_64"]})
                } else {
                    null
                };
                (req, resp, None, None)
            }
            P::UpdateCode => {
                let f = pc.function();
                let b = pc.bucket();
                let req = json!({"functionName": f, "s3Bucket": b, "s3Key": format!("lambda/{f}/{}.zip", pc.rng.hex(40)), "publish": true, "dryRun": false});
                let resp = if ok {
                    json!({"functionName": f, "functionArn": format!("arn:aws:lambda:{region}:{acct}:function:{f}"), "lastUpdateStatus": "InProgress", "version": format!("{}", 2 + pc.rng.below(300))})
                } else {
                    null
                };
                (req, resp, None, None)
            }
            P::Stack | P::StackEvents => {
                let s = pc.stack();
                let mut req = json!({"stackName": s});
                let mut resp = null;
                if api.name == "UpdateStack" {
                    req = json!({"stackName": s, "usePreviousTemplate": true, "capabilities": ["CAPABILITY_IAM"], "parameters": [{"parameterKey": "DesiredCount", "parameterValue": format!("{}", pc.ro.slots.len().max(2))}]});
                    if ok {
                        resp = json!({"stackId": format!("arn:aws:cloudformation:{region}:{acct}:stack/{s}/{}", pc.rng.uuid())});
                    }
                }
                (req, resp, None, None)
            }
            P::CreateChangeSet | P::ChangeSet => {
                let s = pc.stack();
                let cs = format!("{s}-{}", pc.rng.hex(10));
                let csarn = format!(
                    "arn:aws:cloudformation:{region}:{acct}:changeSet/{cs}/{}",
                    pc.rng.uuid()
                );
                if api.p == P::CreateChangeSet {
                    let b = pc.bucket();
                    let req = json!({"stackName": s, "changeSetName": cs, "changeSetType": "UPDATE", "templateURL": format!("https://s3.{region}.amazonaws.com/{b}/cfn/{}.template", pc.rng.hex(32)), "capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]});
                    let resp = if ok {
                        json!({"id": csarn, "stackId": format!("arn:aws:cloudformation:{region}:{acct}:stack/{s}/{}", pc.rng.uuid())})
                    } else {
                        null
                    };
                    (req, resp, None, None)
                } else {
                    (
                        json!({"changeSetName": csarn, "stackName": s}),
                        null,
                        None,
                        None,
                    )
                }
            }
            P::EcsServices => {
                let ro = pc.ro;
                let c = ro.res.ecs_cluster.clone();
                let s = pc.service();
                (json!({"cluster": c, "services": [s]}), null, None, None)
            }
            P::UpdateService => {
                let ro = pc.ro;
                let c = ro.res.ecs_cluster.clone();
                let s = pc.service();
                let rev = 10 + pc.rng.below(400);
                let mut req = json!({"cluster": c, "service": s, "taskDefinition": format!("{s}:{rev}"), "forceNewDeployment": false});
                if pc.ev.res_owner != pc.ev.who {
                    if let Some(m) = req.as_object_mut() {
                        m.insert("desiredCount".into(), Value::from(ro.slots.len().max(2)));
                    }
                }
                let resp = if ok {
                    json!({"service": {"serviceName": s, "serviceArn": format!("arn:aws:ecs:{region}:{acct}:service/{c}/{s}"), "clusterArn": format!("arn:aws:ecs:{region}:{acct}:cluster/{c}"), "status": "ACTIVE", "launchType": "FARGATE", "taskDefinition": format!("arn:aws:ecs:{region}:{acct}:task-definition/{s}:{rev}")}})
                } else {
                    null
                };
                (req, resp, None, None)
            }
            P::RegisterTaskDef => {
                let s = pc.service();
                let ro = pc.ro;
                let repo = pc.pick(&ro.res.repos, "app").to_string();
                let task_role = format!(
                    "arn:aws:iam::{acct}:role/{}-task-role",
                    s.trim_end_matches("-api").trim_end_matches("-worker")
                );
                let image = format!(
                    "{acct}.dkr.ecr.{region}.amazonaws.com/{repo}:{}",
                    pc.rng.hex(7)
                );
                let req = json!({"family": s, "taskRoleArn": task_role, "executionRoleArn": format!("arn:aws:iam::{acct}:role/ecsTaskExecutionRole"), "networkMode": "awsvpc", "containerDefinitions": [{"name": s, "image": image, "essential": true}], "requiresCompatibilities": ["FARGATE"], "cpu": "512", "memory": "1024"});
                let resp = if ok {
                    json!({"taskDefinition": {"taskDefinitionArn": format!("arn:aws:ecs:{region}:{acct}:task-definition/{s}:{}", 10 + pc.rng.below(400)), "family": s, "status": "ACTIVE"}})
                } else {
                    null
                };
                (req, resp, None, None)
            }
            P::TaskDef => {
                let s = pc.service();
                (json!({"taskDefinition": s}), null, None, None)
            }
            P::EcsCluster => (json!({"cluster": pc.ro.res.ecs_cluster}), null, None, None),
            P::EcsTasks => {
                let c = pc.ro.res.ecs_cluster.clone();
                (
                    json!({"cluster": c, "tasks": [pc.rng.hex(32)]}),
                    null,
                    None,
                    None,
                )
            }
            P::Secret => {
                let s = pc.secret();
                (json!({"secretId": s}), null, None, None)
            }
            P::Param => {
                let ro = pc.ro;
                let p = pc.pick(&ro.res.params, "/app/config").to_string();
                (json!({"name": p, "withDecryption": true}), null, None, None)
            }
            P::ParamsByPath => {
                let ro = pc.ro;
                let p = pc.pick(&ro.res.params, "/app/config").to_string();
                let path = p
                    .rsplit_once('/')
                    .map_or(p.as_str(), |(a, _)| a)
                    .to_string();
                (
                    json!({"path": path, "recursive": true, "withDecryption": true}),
                    null,
                    None,
                    None,
                )
            }
            P::Kms | P::KmsDataKey => {
                let arn = pc.kms_arn();
                let req = if api.p == P::KmsDataKey {
                    json!({"keyId": arn, "keySpec": "AES_256"})
                } else if api.name == "DescribeKey" {
                    json!({"keyId": arn})
                } else {
                    json!({"encryptionAlgorithm": "SYMMETRIC_DEFAULT"})
                };
                let res = json!([{"accountId": acct, "type": "AWS::KMS::Key", "ARN": arn}]);
                (req, null, None, Some(res))
            }
            P::LogStream | P::LogGroup => {
                let lg = if pc.ro.res.log_group.is_empty() {
                    "/app/logs".to_string()
                } else {
                    pc.ro.res.log_group.clone()
                };
                let req = if api.p == P::LogStream {
                    let stream = match pc.id.slots.get(cred_slot(pc.ev.cred)) {
                        Some(s) if s.name.starts_with("i-") => s.name.clone(),
                        _ => format!(
                            "{}/{}",
                            Timestamp(pc.ev.t).to_string().get(..10).unwrap_or("stream"),
                            pc.rng.hex(32)
                        ),
                    };
                    json!({"logGroupName": lg, "logStreamName": stream})
                } else if api.name == "FilterLogEvents" {
                    json!({"logGroupName": lg, "startTime": pc.ev.t - 3_600_000, "endTime": pc.ev.t, "filterPattern": "ERROR", "interleaved": true})
                } else {
                    json!({"logGroupName": lg})
                };
                (req, null, None, None)
            }
            P::Metric => {
                let ns = if pc.ro.res.metric_ns.is_empty() {
                    "AWS/EC2".to_string()
                } else {
                    pc.ro.res.metric_ns.clone()
                };
                (json!({"namespace": ns}), null, None, None)
            }
            P::MetricQuery => {
                let start = Timestamp(pc.ev.t - 600_000).to_string();
                let end = Timestamp(pc.ev.t).to_string();
                (
                    json!({"startTime": start, "endTime": end, "scanBy": "TimestampDescending"}),
                    null,
                    None,
                    None,
                )
            }
            P::Instances => {
                if pc.rng.chance(0.5) {
                    (
                        json!({"instancesSet": {}, "filterSet": {}}),
                        null,
                        None,
                        None,
                    )
                } else {
                    let i = pc.instance_id();
                    (
                        json!({"instancesSet": {"items": [{"instanceId": i}]}, "filterSet": {}}),
                        null,
                        None,
                        None,
                    )
                }
            }
            P::Filters => (json!({"filterSet": {}}), null, None, None),
            P::RunInstances => {
                let types = ["c5.4xlarge", "p3.2xlarge", "g4dn.xlarge", "m5.8xlarge"];
                let it = types
                    .get(pc.rng.index(types.len()))
                    .copied()
                    .unwrap_or("c5.4xlarge");
                let req = json!({"instancesSet": {"items": [{"imageId": format!("ami-0{}", pc.rng.hex(16)), "minCount": 1, "maxCount": 1 + pc.rng.below(4)}]}, "instanceType": it, "blockDeviceMapping": {}, "monitoring": {"enabled": false}, "disableApiTermination": false, "disableApiStop": false, "clientToken": pc.rng.uuid()});
                (req, null, None, None)
            }
            P::SecurityGroupIngress => {
                let req = json!({"groupId": format!("sg-0{}", pc.rng.hex(16)), "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "groups": {}, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}, "ipv6Ranges": {}, "prefixListIds": {}}]}});
                (req, null, None, None)
            }
            P::KeyPair => (
                json!({"keyName": format!("ops-{}", pc.rng.hex(6)), "keyType": "rsa"}),
                null,
                None,
                None,
            ),
            P::IamUser | P::CreateUser => {
                let u = if api.p == P::CreateUser {
                    const NEW: [&str; 4] = [
                        "backup-automation",
                        "support-tooling",
                        "ops-monitor",
                        "release-bot",
                    ];
                    NEW.get(pc.rng.index(NEW.len()))
                        .copied()
                        .unwrap_or("ops-monitor")
                        .to_string()
                } else {
                    pc.target_user().to_string()
                };
                let resp = if api.p == P::CreateUser && ok {
                    json!({"user": {"path": "/", "userName": u, "userId": format!("AIDA{}", pc.rng.b32(17)), "arn": format!("arn:aws:iam::{acct}:user/{u}"), "createDate": java_date(pc.ev.t)}})
                } else {
                    null
                };
                (json!({"userName": u}), resp, None, None)
            }
            P::IamRole => {
                let (r, _) = pc.target_role();
                (json!({"roleName": r}), null, None, None)
            }
            P::IamList => {
                if pc.rng.chance(0.3) {
                    (json!({"maxItems": 1000}), null, None, None)
                } else {
                    (null.clone(), null, None, None)
                }
            }
            P::Policy | P::PolicyVersion | P::CreatePolicyVersion => {
                let owner = pc.target.unwrap_or(pc.ro);
                let arn = format!("arn:aws:iam::{acct}:policy/{}", own_policy_name(owner));
                match api.p {
                    P::Policy => (json!({"policyArn": arn}), null, None, None),
                    P::PolicyVersion => (
                        json!({"policyArn": arn, "versionId": format!("v{}", 1 + owner.policy.old_versions)}),
                        null,
                        None,
                        None,
                    ),
                    _ => {
                        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
                        let v = 2 + owner.policy.old_versions;
                        let resp = if ok {
                            json!({"policyVersion": {"versionId": format!("v{v}"), "isDefaultVersion": true, "createDate": java_date(pc.ev.t)}})
                        } else {
                            null
                        };
                        (
                            json!({"policyArn": arn, "policyDocument": doc, "setAsDefault": true}),
                            resp,
                            None,
                            None,
                        )
                    }
                }
            }
            P::AttachUserPolicy | P::PutUserPolicy => {
                let u = pc.target_user().to_string();
                if api.p == P::AttachUserPolicy {
                    (
                        json!({"userName": u, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
                        null,
                        None,
                        None,
                    )
                } else {
                    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
                    (
                        json!({"userName": u, "policyName": "default", "policyDocument": doc}),
                        null,
                        None,
                        None,
                    )
                }
            }
            P::AttachRolePolicy => {
                let (r, _) = pc.target_role();
                (
                    json!({"roleName": r, "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
                    null,
                    None,
                    None,
                )
            }
            P::CreateAccessKey => {
                let u = pc.target_user().to_string();
                let resp = if ok {
                    json!({"accessKey": {"userName": u, "accessKeyId": format!("AKIA{}", pc.rng.b32(16)), "status": "Active", "createDate": java_date(pc.ev.t)}})
                } else {
                    null
                };
                (json!({"userName": u}), resp, None, None)
            }
            P::UpdateAssumeRolePolicy => {
                let (r, _) = pc.target_role();
                let doc = format!(
                    r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{acct}:root"}},"Action":"sts:AssumeRole"}}]}}"#
                );
                (
                    json!({"roleName": r, "policyDocument": doc}),
                    null,
                    None,
                    None,
                )
            }
            P::Model | P::Converse => {
                let ro = pc.ro;
                let models: Vec<String> = ro.res.models.iter().map(|m| m.to_string()).collect();
                let m = pc
                    .pick(&models, "anthropic.claude-3-haiku-20240307-v1:0")
                    .to_string();
                let extra = if ok {
                    Some(
                        json!({"inputTokens": 200 + pc.rng.below(6000), "outputTokens": 20 + pc.rng.below(1500)}),
                    )
                } else {
                    None
                };
                (json!({"modelId": m}), null, extra, None)
            }
            P::AthenaStart => {
                let ro = pc.ro;
                let tbl = pc.pick(&ro.res.glue_tables, "events").to_string();
                let (y, m, d) = Timestamp(pc.ev.t - Timestamp::MS_PER_DAY).date_parts();
                let q = format!(
                    "SELECT * FROM \"{}\".\"{tbl}\" WHERE dt = '{y:04}-{m:02}-{d:02}'",
                    ro.res.glue_db
                );
                let resp = if ok {
                    json!({"queryExecutionId": pc.rng.uuid()})
                } else {
                    null
                };
                (
                    json!({"queryString": q, "queryExecutionContext": {"database": ro.res.glue_db}, "workGroup": ro.res.workgroup, "clientRequestToken": pc.rng.uuid()}),
                    resp,
                    None,
                    None,
                )
            }
            P::AthenaExec => (json!({"queryExecutionId": pc.rng.uuid()}), null, None, None),
            P::GlueDatabase => (json!({"name": pc.ro.res.glue_db}), null, None, None),
            P::GlueTable | P::GlueTables | P::GluePartitions | P::GlueBatchPartition => {
                let ro = pc.ro;
                let tbl = pc.pick(&ro.res.glue_tables, "events").to_string();
                let req = match api.p {
                    P::GlueTable => json!({"databaseName": ro.res.glue_db, "name": tbl}),
                    P::GlueTables => json!({"databaseName": ro.res.glue_db}),
                    P::GluePartitions => {
                        json!({"databaseName": ro.res.glue_db, "tableName": tbl, "maxResults": 1000})
                    }
                    _ => {
                        json!({"databaseName": ro.res.glue_db, "tableName": tbl, "partitionInputList": [{"values": [Timestamp(pc.ev.t).to_string().get(..10).unwrap_or("")]}]})
                    }
                };
                (req, null, None, None)
            }
            P::GlueJob => (json!({"jobName": pc.ro.name.clone()}), null, None, None),
            P::Asgs => (
                json!({"autoScalingGroupNames": [pc.ro.res.asg]}),
                null,
                None,
                None,
            ),
            P::SetDesired => {
                let n = pc.ro.slots.len().max(2);
                (
                    json!({"autoScalingGroupName": pc.ro.res.asg, "desiredCapacity": n, "honorCooldown": false}),
                    null,
                    None,
                    None,
                )
            }
            P::TargetGroup => {
                let tg = format!(
                    "arn:aws:elasticloadbalancing:{region}:{acct}:targetgroup/{}/{}",
                    pc.ro.res.target_group,
                    pc.rng.hex(16)
                );
                (json!({"targetGroupArn": tg}), null, None, None)
            }
            P::Repo | P::PutImage => {
                let ro = pc.ro;
                let repo = pc.pick(&ro.res.repos, "app").to_string();
                if api.p == P::PutImage {
                    let tag = pc.rng.hex(7);
                    let digest = format!("sha256:{}", pc.rng.hex(64));
                    let resp = if ok {
                        json!({"image": {"registryId": acct, "repositoryName": repo, "imageId": {"imageDigest": digest, "imageTag": tag}}})
                    } else {
                        null
                    };
                    (
                        json!({"repositoryName": repo, "imageTag": tag, "registryId": acct, "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"}),
                        resp,
                        None,
                        None,
                    )
                } else {
                    (
                        json!({"repositoryName": repo, "registryId": acct}),
                        null,
                        None,
                        None,
                    )
                }
            }
            P::EksCluster => {
                let name = pc
                    .org
                    .cluster
                    .as_ref()
                    .map_or_else(|| format!("{}-eks", pc.org.slug), |c| c.name.clone());
                (json!({"name": name}), null, None, None)
            }
            P::HostedZone | P::ChangeRecords => {
                let z = format!("Z0{}", pc.rng.b32(19));
                (json!({"hostedZoneId": z}), null, None, None)
            }
            P::Instance => {
                let i = pc.instance_id();
                let req = match api.name {
                    "UpdateInstanceInformation" => {
                        let ip = pc.id.slots.get(cred_slot(pc.ev.cred)).map_or(0, |s| s.ip);
                        let [_, b, c, d] = ip.to_be_bytes();
                        json!({"instanceId": i, "agentVersion": "3.3.1142.0", "agentStatus": "Active", "platformType": "Linux", "platformName": "Amazon Linux", "platformVersion": "2023", "iPAddress": ip_str(ip), "computerName": format!("ip-10-{b}-{c}-{d}.ec2.internal"), "agentName": "amazon-ssm-agent", "availabilityZone": format!("{region}a")})
                    }
                    "DescribeTags" => {
                        json!({"filterSet": {"items": [{"name": "resource-id", "valueSet": {"items": [{"value": i}]}}]}})
                    }
                    _ => {
                        json!({"resourcesSet": {"items": [{"resourceId": i}]}, "tagSet": {"items": [{"key": "Name", "value": pc.ro.name.clone()}]}})
                    }
                };
                (req, null, None, None)
            }
        }
    }

    fn host(&self, api: &Api, region: &str, req: &Value) -> String {
        match api.svc {
            "iam" => "iam.amazonaws.com".into(),
            "route53" => "route53.amazonaws.com".into(),
            "organizations" | "health" => format!("{}.us-east-1.amazonaws.com", api.svc),
            "bedrock" => format!("bedrock-runtime.{region}.amazonaws.com"),
            "s3" => match req.get("Host").and_then(Value::as_str) {
                Some(h) => h.to_string(),
                None => format!("s3.{region}.amazonaws.com"),
            },
            svc => format!("{svc}.{region}.amazonaws.com"),
        }
    }

    /// Serializes one CloudTrail record into `out`; returns its eventID.
    pub(crate) fn cloudtrail(&self, ev: &Ev, out: &mut Vec<u8>) -> Result<String, SimError> {
        let id = self
            .org
            .ident(ev.who)
            .ok_or_else(|| SimError::Internal("event without identity".into()))?;
        let api =
            catalog::get(ev.act).ok_or_else(|| SimError::Internal("event without api".into()))?;
        let ro = if ev.res_owner == NO_IDENT {
            id
        } else {
            self.org.ident(ev.res_owner).unwrap_or(id)
        };
        let target = if ev.aux == NO_IDENT {
            None
        } else {
            self.org.ident(ev.aux)
        };
        let acct = self.org.account(ev.acct).map_or("", |a| a.id.as_str());
        let region = region_name(ev.region);
        let mut rng = Rng::new(ev.rnd);
        let event_id = uuid_from(rng.next_u64(), rng.next_u64());
        let request_id = if api.svc == "s3" {
            let mut s = rng.hex(16);
            s.make_ascii_uppercase();
            s
        } else {
            uuid_from(rng.next_u64(), rng.next_u64())
        };
        let mut pc = Pc {
            org: self.org,
            ev,
            id,
            ro,
            target,
            acct,
            region,
            rng,
        };
        let (req, resp, extra, resources) = self.params(&mut pc, api);
        let service_call = matches!(ev.mode, M_SVC_ASSUME | M_INVOKED);
        let svc_name = SERVICES
            .get(usize::from(ev.via))
            .copied()
            .unwrap_or("AWS Internal");
        let source_ip: Cow<'_, str> = if service_call || ev.ip == 0 {
            Cow::Borrowed(svc_name)
        } else {
            Cow::Owned(ip_str(ev.ip))
        };
        let user_agent: Cow<'_, str> = if service_call {
            Cow::Borrowed(svc_name)
        } else {
            match self.org.ua(ev.ua) {
                Some(u) if u.cli => Cow::Owned(format!(
                    "{} command/{}",
                    u.text,
                    cli_command(api.svc, api.name)
                )),
                Some(u) => Cow::Borrowed(u.text.as_str()),
                None => Cow::Borrowed("aws-internal/3"),
            }
        };
        let (error_code, error_message) = match ev.outcome {
            DENIED => {
                let caller = if id.is_user() {
                    id.arn.clone()
                } else {
                    format!(
                        "arn:aws:sts::{acct}:assumed-role/{}/{}",
                        id.name,
                        session_name(self.org, ev.who, id, ev.cred)
                    )
                };
                let (code, msg) = denied(api, &caller, acct, region, &req);
                (Some(code), Some(msg))
            }
            FAILED => {
                let (code, msg) = failed(api);
                (Some(code), Some(msg.to_string()))
            }
            _ => (None, None),
        };
        let resp = if ev.outcome == 0 { resp } else { Value::Null };
        let vpce = if ev.vpce == NO_VPCE {
            None
        } else {
            self.org
                .account(ev.acct)
                .and_then(|a| a.vpce.get(usize::from(ev.vpce)))
                .map(String::as_str)
        };
        let tls = if service_call {
            None
        } else {
            let host = self.host(api, region, &req);
            let modern = ev.rnd % 10 < 8;
            Some(Tls {
                tls_version: if modern { "TLSv1.3" } else { "TLSv1.2" },
                cipher_suite: if modern {
                    "TLS_AES_128_GCM_SHA256"
                } else {
                    "ECDHE-RSA-AES128-GCM-SHA256"
                },
                client_provided_host_header: Cow::Owned(host),
            })
        };
        let key = (ev.who, ev.cred, ev.mode, ev.via);
        let mut cache = self
            .identities
            .try_borrow_mut()
            .map_err(|_| SimError::Internal("renderer re-entered".into()))?;
        let user_identity: &RawValue = match cache.entry(key) {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => {
                let value = self.user_identity(ev, id, acct);
                v.insert(
                    serde_json::value::to_raw_value(&value)
                        .map_err(|e| SimError::Internal(e.to_string()))?,
                )
            }
        };
        let shared = if ev.mode == M_SVC_ASSUME {
            Some(uuid_from(mix(ev.rnd, &[1]), mix(ev.rnd, &[2])))
        } else {
            None
        };
        let rec = Record {
            event_version: "1.08",
            user_identity,
            event_time: Timestamp(ev.t).to_string(),
            event_source: api.source,
            event_name: api.name,
            aws_region: region,
            source_ip_address: source_ip,
            user_agent,
            error_code,
            error_message,
            request_parameters: req,
            response_elements: resp,
            additional_event_data: extra,
            request_id,
            event_id: &event_id,
            read_only: api.read_only(),
            resources,
            event_type: "AwsApiCall",
            management_event: !api.data(),
            recipient_account_id: acct,
            shared_event_id: shared,
            vpc_endpoint_id: vpce,
            vpc_endpoint_account_id: vpce.map(|_| acct),
            event_category: if api.data() { "Data" } else { "Management" },
            tls_details: tls,
        };
        serde_json::to_writer(&mut *out, &rec).map_err(|e| SimError::Internal(e.to_string()))?;
        Ok(event_id)
    }

    /// Serializes one Kubernetes audit event into `out`; returns its auditID.
    pub(crate) fn k8s(&self, ev: &Ev, out: &mut Vec<u8>) -> Result<String, SimError> {
        let id = self
            .org
            .ident(ev.who)
            .ok_or_else(|| SimError::Internal("event without identity".into()))?;
        let api = catalog::get_k8s(ev.act)
            .ok_or_else(|| SimError::Internal("event without k8s api".into()))?;
        let Kind::K8s { ns, sa } = &id.kind else {
            return Err(SimError::Internal(
                "k8s event for a non-k8s identity".into(),
            ));
        };
        let mut rng = Rng::new(ev.rnd);
        let audit_id = uuid_from(rng.next_u64(), rng.next_u64());
        let ro = if ev.res_owner == NO_IDENT {
            id
        } else {
            self.org.ident(ev.res_owner).unwrap_or(id)
        };
        let target_ns: String = if id.k8s.as_ref().is_some_and(|k| !k.in_cluster) {
            ro.res
                .k8s_names
                .get(rng.index(ro.res.k8s_names.len().max(1)))
                .cloned()
                .unwrap_or_else(|| "default".into())
        } else {
            ns.clone()
        };
        let pod = id.slots.get(ev.cred as usize);
        let name: Option<String> = if api.named {
            Some(match api.resource {
                "nodes" => {
                    let mut r = Rng::new(mix(ev.rnd, &[7]));
                    format!(
                        "ip-10-{}-{}-{}.ec2.internal",
                        self.vpc_octet(),
                        r.below(48),
                        r.range(4, 250)
                    )
                }
                "leases" => ro
                    .res
                    .k8s_names
                    .first()
                    .cloned()
                    .unwrap_or_else(|| format!("{sa}-leader")),
                "configmaps" => ro
                    .res
                    .k8s_names
                    .get(1)
                    .cloned()
                    .unwrap_or_else(|| format!("{sa}-config")),
                "secrets" => {
                    let names = &ro.res.k8s_names;
                    if ev.tag != 0 && rng.chance(0.5) {
                        let others = [
                            "db-credentials",
                            "stripe-api-key",
                            "registry-pull",
                            "tls-wildcard",
                            "jwt-signing-key",
                        ];
                        others
                            .get(rng.index(others.len()))
                            .map_or_else(|| "db-credentials".into(), |s| s.to_string())
                    } else {
                        names
                            .get(2)
                            .cloned()
                            .unwrap_or_else(|| format!("{sa}-token"))
                    }
                }
                "deployments" => target_ns.clone(),
                "pods" => {
                    pod.map_or_else(|| format!("{target_ns}-{}", rng.hex(5)), |p| p.name.clone())
                }
                "serviceaccounts" => sa.clone(),
                "applications" => {
                    let apps = ["checkout", "catalog", "search", "orders", "platform"];
                    apps.get(rng.index(apps.len()))
                        .copied()
                        .unwrap_or("platform")
                        .to_string()
                }
                "certificates" => format!(
                    "{}-tls",
                    ro.res.k8s_names.first().map_or("ingress", |s| s.as_str())
                ),
                _ => format!("{}-{}", api.resource, rng.hex(5)),
            })
        } else {
            None
        };
        let namespace = if api.namespaced {
            Some(target_ns.clone())
        } else {
            None
        };
        let prefix = if api.group.is_empty() {
            format!("/api/{}", api.version)
        } else {
            format!("/apis/{}/{}", api.group, api.version)
        };
        let mut uri = prefix;
        if let Some(n) = &namespace {
            uri.push_str("/namespaces/");
            uri.push_str(n);
        }
        uri.push('/');
        uri.push_str(api.resource);
        if let Some(n) = &name {
            uri.push('/');
            uri.push_str(n);
        }
        if !api.subresource.is_empty() {
            uri.push('/');
            uri.push_str(api.subresource);
        }
        let watch_secs = 300 + rng.below(300);
        match api.verb {
            "list" => uri.push_str("?limit=500&resourceVersion=0"),
            "watch" => uri.push_str(&format!(
                "?allowWatchBookmarks=true&resourceVersion={}&timeout={}m{}s&timeoutSeconds={watch_secs}&watch=true",
                1_000_000 + rng.below(90_000_000),
                watch_secs / 60,
                watch_secs % 60
            )),
            "patch" if api.resource == "deployments" => uri.push_str("?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"),
            "create" if api.subresource == "exec" => {
                let cmds = ["sh", "bash", "env"];
                let c = cmds.get(rng.index(cmds.len())).copied().unwrap_or("sh");
                uri.push_str(&format!("?command={c}&container={}&stdin=true&stdout=true&tty=true", target_ns));
            }
            _ => {}
        }
        let (code, allow) = match ev.outcome {
            DENIED => (403, false),
            FAILED => (if api.verb == "update" { 409 } else { 404 }, true),
            _ => match (api.verb, api.subresource) {
                ("create", "exec") => (101, true),
                ("create", _) => (201, true),
                _ => (200, true),
            },
        };
        let user_ident = {
            let mut u = json!({
                "username": id.arn,
                "uid": id.uid,
                "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{ns}"), "system:authenticated"],
            });
            if let (Some(p), Some(m)) = (pod, u.as_object_mut()) {
                let mut r = Rng::new(mix(
                    self.org.seed,
                    &[0x706f6475, u64::from(ev.who), ev.cred as u64],
                ));
                m.insert(
                    "extra".into(),
                    json!({
                        "authentication.kubernetes.io/pod-name": [p.name],
                        "authentication.kubernetes.io/pod-uid": [r.uuid()],
                    }),
                );
            }
            u
        };
        let mut object_ref = serde_json::Map::new();
        object_ref.insert("resource".into(), Value::from(api.resource));
        if let Some(n) = &namespace {
            object_ref.insert("namespace".into(), Value::from(n.clone()));
        }
        if let Some(n) = &name {
            object_ref.insert("name".into(), Value::from(n.clone()));
        }
        if !api.group.is_empty() {
            object_ref.insert("apiGroup".into(), Value::from(api.group));
        }
        object_ref.insert("apiVersion".into(), Value::from(api.version));
        if !api.subresource.is_empty() {
            object_ref.insert("subresource".into(), Value::from(api.subresource));
        }
        let status = if code == 403 {
            let scope = match &namespace {
                Some(n) => format!("in the namespace \"{n}\""),
                None => "at the cluster scope".to_string(),
            };
            let res = if api.subresource.is_empty() {
                api.resource.to_string()
            } else {
                format!("{}/{}", api.resource, api.subresource)
            };
            json!({
                "metadata": {},
                "status": "Failure",
                "message": format!("{res} is forbidden: User \"{}\" cannot {} resource \"{res}\" in API group \"{}\" {scope}", id.arn, api.verb, api.group),
                "reason": "Forbidden",
                "details": {"kind": api.resource, "group": api.group},
                "code": 403,
            })
        } else {
            json!({"metadata": {}, "code": code})
        };
        let reason = if !allow {
            String::new()
        } else {
            let binding = id.k8s.as_ref().map_or(sa.as_str(), |k| k.binding.as_str());
            if id.k8s.as_ref().is_some_and(|k| k.cluster_binding) {
                format!("RBAC: allowed by ClusterRoleBinding \"{binding}\" of ClusterRole \"{binding}\" to ServiceAccount \"{sa}/{ns}\"")
            } else {
                format!("RBAC: allowed by RoleBinding \"{binding}/{ns}\" of Role \"{binding}\" to ServiceAccount \"{sa}/{ns}\"")
            }
        };
        let received_us = rng.below(1000) as u32;
        let latency_ms = if api.verb == "watch" {
            watch_secs as i64 * 1000
        } else {
            1 + rng.below(40) as i64
        };
        let level = if api.resource == "secrets"
            || api.resource == "configmaps"
            || api.verb == "watch"
            || api.verb == "get"
            || api.verb == "list"
        {
            "Metadata"
        } else {
            "Request"
        };
        let ua: &str = self.org.ua(ev.ua).map_or("kubectl", |u| u.text.as_str());
        let v = json!({
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": level,
            "auditID": audit_id,
            "stage": "ResponseComplete",
            "requestURI": uri,
            "verb": api.verb,
            "user": user_ident,
            "sourceIPs": [ip_str(ev.ip)],
            "userAgent": ua,
            "objectRef": Value::Object(object_ref),
            "responseStatus": status,
            "requestReceivedTimestamp": micros(ev.t, received_us),
            "stageTimestamp": micros(ev.t + latency_ms, (received_us + 137) % 1000),
            "annotations": {
                "authorization.k8s.io/decision": if allow { "allow" } else { "forbid" },
                "authorization.k8s.io/reason": reason,
            },
        });
        serde_json::to_writer(&mut *out, &v).map_err(|e| SimError::Internal(e.to_string()))?;
        Ok(audit_id)
    }

    fn vpc_octet(&self) -> u8 {
        self.org
            .cluster
            .as_ref()
            .and_then(|c| self.org.account(c.acct))
            .map_or(16, |a| a.vpc_octet)
    }
}

fn denied(
    api: &Api,
    caller: &str,
    acct: &str,
    region: &str,
    req: &Value,
) -> (&'static str, String) {
    let resource = match api.svc {
        "s3" => req
            .get("bucketName")
            .and_then(Value::as_str)
            .map_or_else(|| "*".to_string(), |b| format!("arn:aws:s3:::{b}")),
        "dynamodb" => req.get("tableName").and_then(Value::as_str).map_or_else(
            || "*".to_string(),
            |t| format!("arn:aws:dynamodb:{region}:{acct}:table/{t}"),
        ),
        "iam" => match req.get("userName").and_then(Value::as_str) {
            Some(u) => format!("arn:aws:iam::{acct}:user/{u}"),
            None => match req.get("roleName").and_then(Value::as_str) {
                Some(r) => format!("arn:aws:iam::{acct}:role/{r}"),
                None => format!("arn:aws:iam::{acct}:*"),
            },
        },
        "secretsmanager" => req
            .get("secretId")
            .and_then(Value::as_str)
            .unwrap_or("*")
            .to_string(),
        "ec2" => format!("arn:aws:ec2:{region}:{acct}:*"),
        _ => "*".to_string(),
    };
    let perm = api.perm;
    let code = match api.svc {
        "ec2" => "Client.UnauthorizedOperation",
        "iam"
        | "sts"
        | "s3"
        | "cloudformation"
        | "autoscaling"
        | "monitoring"
        | "elasticloadbalancing"
        | "rds"
        | "route53"
        | "sns"
        | "sqs" => "AccessDenied",
        _ => "AccessDeniedException",
    };
    let msg = if api.svc == "s3" && api.data() {
        "Access Denied".to_string()
    } else if api.svc == "ec2" {
        format!("You are not authorized to perform this operation. User: {caller} is not authorized to perform: {perm} on resource: {resource} because no identity-based policy allows the {perm} action")
    } else {
        format!("User: {caller} is not authorized to perform: {perm} on resource: {resource} because no identity-based policy allows the {perm} action")
    };
    (code, msg)
}

fn failed(api: &Api) -> (&'static str, &'static str) {
    match (api.svc, api.name) {
        ("s3", "GetObject" | "HeadObject") => ("NoSuchKey", "The specified key does not exist."),
        ("s3", _) => ("SlowDown", "Please reduce your request rate."),
        ("dynamodb", _) => ("ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."),
        ("secretsmanager", _) => ("ResourceNotFoundException", "Secrets Manager can't find the specified secret."),
        ("ssm", _) => ("ParameterNotFound", "Parameter not found."),
        ("cloudformation", _) => ("ValidationError", "No updates are to be performed."),
        ("iam", _) => ("NoSuchEntityException", "The role with name cannot be found."),
        ("logs", _) => ("ResourceAlreadyExistsException", "The specified log stream already exists"),
        ("ecs", _) => ("ClientException", "Unable to assume the service linked role. Please verify that the ECS service linked role exists."),
        _ => ("ThrottlingException", "Rate exceeded"),
    }
}
