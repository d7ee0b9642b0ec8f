//! Inventory files for the simulated organisation: IAM authorization details (the
//! `aws iam get-account-authorization-details` output), the IAM credential report, and the
//! owners file.

use crate::org::{Ident, Kind, Org, Trust};
use crate::policy::{self, Stmt};
use crate::render::{iso_offset, own_policy_name};
use crate::rng::{hash_str, Rng};
use crate::SimError;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use tripline_model::Timestamp;

/// Last use of an access key: time, region index, IAM service namespace.
pub(crate) type KeyUse = (i64, u8, &'static str);

/// Last use of credentials seen while writing the logs.
#[derive(Debug, Default)]
pub(crate) struct Usage {
    /// Per identity, per access key slot: (time, region, service namespace).
    pub keys: Vec<[Option<KeyUse>; 2]>,
    /// Per identity: last time and region a role was used.
    pub roles: Vec<Option<(i64, u8)>>,
}

impl Usage {
    pub(crate) fn new(n: usize) -> Self {
        Self {
            keys: vec![[None, None]; n],
            roles: vec![None; n],
        }
    }
}

fn stmt_json(s: &Stmt) -> Value {
    let mut m = serde_json::Map::new();
    if let Some(sid) = &s.sid {
        m.insert("Sid".into(), Value::from(sid.clone()));
    }
    m.insert("Effect".into(), Value::from("Allow"));
    let list = |v: &Vec<String>| -> Value {
        match v.as_slice() {
            [one] => Value::from(one.clone()),
            _ => Value::from(v.clone()),
        }
    };
    if s.not_actions.is_empty() {
        m.insert("Action".into(), list(&s.actions));
    } else {
        m.insert("NotAction".into(), list(&s.not_actions));
    }
    m.insert("Resource".into(), list(&s.resources));
    Value::Object(m)
}

fn doc(stmts: &[Stmt]) -> Value {
    json!({"Version": "2012-10-17", "Statement": stmts.iter().map(stmt_json).collect::<Vec<_>>()})
}

fn unique_id(prefix: &str, seed: u64, what: &str) -> String {
    let mut r = Rng::derive(seed, &[hash_str(what)]);
    format!("{prefix}{}", r.b32(17))
}

fn trust_doc(org: &Org, id: &Ident) -> Value {
    let acct = org.account(id.acct).map_or("", |a| a.id.as_str());
    let st = match &id.policy.trust {
        Trust::Service(s) => {
            json!({"Effect": "Allow", "Principal": {"Service": s}, "Action": "sts:AssumeRole"})
        }
        Trust::Account(a, ext) => {
            let mut v = json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{a}:root")}, "Action": "sts:AssumeRole"});
            if let (Some(e), Some(m)) = (ext, v.as_object_mut()) {
                m.insert(
                    "Condition".into(),
                    json!({"StringEquals": {"sts:ExternalId": e}}),
                );
            }
            v
        }
        Trust::GithubOidc(sub) => {
            let repo = sub.split(":ref:").next().unwrap_or(sub);
            json!({
                "Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::{acct}:oidc-provider/token.actions.githubusercontent.com")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
                    "StringLike": {"token.actions.githubusercontent.com:sub": format!("{repo}:*")}
                }
            })
        }
        Trust::None => {
            json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{acct}:root")}, "Action": "sts:AssumeRole"})
        }
    };
    json!({"Version": "2012-10-17", "Statement": [st]})
}

fn attached(names: &[&'static str]) -> Value {
    Value::from(
        names
            .iter()
            .map(|n| json!({"PolicyName": n, "PolicyArn": policy::managed_arn(n)}))
            .collect::<Vec<_>>(),
    )
}

fn tags(id: &Ident) -> Value {
    if hash_str(&id.arn) & 1 == 0 {
        json!([{"Key": "team", "Value": id.team}, {"Key": "environment", "Value": id.env.as_str()}])
    } else {
        json!([])
    }
}

/// IAM group name in an account: the production account uses the plain name, the others carry
/// their environment so that one file can hold every account without name clashes.
fn group_name(org: &Org, acct: u8, base: &str) -> String {
    match org.account(acct) {
        Some(a) if acct > 0 => format!("{}-{base}", a.env.as_str()),
        _ => base.to_string(),
    }
}

/// `inventory/authorization-details.json` for all accounts of the organisation (the
/// `get-account-authorization-details` output of each account, merged into one document).
pub(crate) fn write_authz(org: &Org, usage: &Usage, path: &Path) -> Result<(), SimError> {
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut policies = Vec::new();
    let mut managed_use: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut groups_use: BTreeMap<(u8, &'static str), usize> = BTreeMap::new();
    for (i, id) in org.idents.iter().enumerate() {
        if id.is_k8s() {
            continue;
        }
        let acct = org.account(id.acct).map_or("", |a| a.id.as_str());
        let stmts = policy::own(org, id);
        let mut managed_names: Vec<&'static str> = id.policy.managed.clone();
        let mut inline = Vec::new();
        let mut customer_attached = Vec::new();
        if !stmts.is_empty() {
            let pname = own_policy_name(id);
            if id.policy.customer_managed {
                let arn = format!("arn:aws:iam::{acct}:policy/{pname}");
                customer_attached.push(json!({"PolicyName": pname, "PolicyArn": arn}));
                let created = id.created + Timestamp::MS_PER_DAY;
                let n = 1 + u32::from(id.policy.old_versions);
                let mut versions = Vec::new();
                for v in (1..=n).rev() {
                    let vdoc = if v == n {
                        doc(&stmts)
                    } else {
                        // Earlier versions granted less: one statement fewer per version.
                        let keep = stmts.len().saturating_sub((n - v) as usize).max(1);
                        doc(stmts.get(..keep).unwrap_or(&stmts))
                    };
                    let when = created + i64::from(v - 1) * 23 * Timestamp::MS_PER_DAY;
                    versions.push(json!({"Document": vdoc, "VersionId": format!("v{v}"), "IsDefaultVersion": v == n, "CreateDate": iso_offset(when)}));
                }
                policies.push(json!({
                    "PolicyName": pname,
                    "PolicyId": unique_id("ANPA", org.seed, &arn),
                    "Arn": arn,
                    "Path": "/",
                    "DefaultVersionId": format!("v{n}"),
                    "AttachmentCount": 1,
                    "PermissionsBoundaryUsageCount": 0,
                    "IsAttachable": true,
                    "CreateDate": iso_offset(created),
                    "UpdateDate": iso_offset(created + i64::from(n - 1) * 23 * Timestamp::MS_PER_DAY),
                    "PolicyVersionList": versions,
                }));
            } else {
                inline.push(json!({"PolicyName": pname, "PolicyDocument": doc(&stmts)}));
            }
        }
        for m in &managed_names {
            *managed_use.entry(m).or_default() += 1;
        }
        let mut attached_v = attached(&managed_names);
        if let Some(a) = attached_v.as_array_mut() {
            a.extend(customer_attached);
        }
        managed_names.clear();
        match id.kind {
            Kind::User => {
                for g in &id.policy.groups {
                    *groups_use.entry((id.acct, g)).or_default() += 1;
                }
                let mut u = json!({
                    "Path": "/",
                    "UserName": id.name,
                    "UserId": id.uid,
                    "Arn": id.arn,
                    "CreateDate": iso_offset(id.created),
                    "GroupList": id.policy.groups.iter().map(|g| group_name(org, id.acct, g)).collect::<Vec<_>>(),
                    "AttachedManagedPolicies": attached_v,
                    "Tags": tags(id),
                });
                if !inline.is_empty() {
                    if let Some(m) = u.as_object_mut() {
                        m.insert("UserPolicyList".into(), Value::from(inline));
                    }
                }
                users.push(u);
            }
            Kind::Role => {
                let last = match usage.roles.get(i).copied().flatten() {
                    Some((t, r)) => {
                        json!({"LastUsedDate": iso_offset(t), "Region": crate::org::REGIONS.get(usize::from(r)).copied().unwrap_or("us-east-1")})
                    }
                    None => json!({}),
                };
                let profiles = if matches!(id.policy.trust, Trust::Service("ec2.amazonaws.com")) {
                    json!([{
                        "Path": "/",
                        "InstanceProfileName": id.name,
                        "InstanceProfileId": unique_id("AIPA", org.seed, &id.arn),
                        "Arn": format!("arn:aws:iam::{acct}:instance-profile/{}", id.name),
                        "CreateDate": iso_offset(id.created),
                        "Roles": [{
                            "Path": "/",
                            "RoleName": id.name,
                            "RoleId": id.uid,
                            "Arn": id.arn,
                            "CreateDate": iso_offset(id.created),
                            "AssumeRolePolicyDocument": trust_doc(org, id),
                        }]
                    }])
                } else {
                    json!([])
                };
                roles.push(json!({
                    "Path": "/",
                    "RoleName": id.name,
                    "RoleId": id.uid,
                    "Arn": id.arn,
                    "CreateDate": iso_offset(id.created),
                    "AssumeRolePolicyDocument": trust_doc(org, id),
                    "InstanceProfileList": profiles,
                    "RolePolicyList": inline,
                    "AttachedManagedPolicies": attached_v,
                    "Tags": tags(id),
                    "RoleLastUsed": last,
                }));
            }
            Kind::K8s { .. } => {}
        }
    }
    for h in &org.humans {
        *groups_use.entry((h.acct, "engineers")).or_default() += 1;
        users.push(json!({
            "Path": "/",
            "UserName": h.name,
            "UserId": h.uid,
            "Arn": h.arn,
            "CreateDate": iso_offset(h.created),
            "GroupList": [group_name(org, h.acct, "engineers")],
            "AttachedManagedPolicies": [],
            "Tags": [],
        }));
    }
    *managed_use.entry("ReadOnlyAccess").or_default() +=
        groups_use.keys().filter(|(_, g)| *g == "engineers").count();
    let mut group_list = Vec::new();
    for (a, g) in groups_use.keys() {
        let acct = org.account(*a).map_or("", |x| x.id.as_str());
        let name = group_name(org, *a, g);
        let arn = format!("arn:aws:iam::{acct}:group/{name}");
        let created = org.account(*a).map_or(org.start, |x| x.created) + 30 * Timestamp::MS_PER_DAY;
        let (inline, att): (Vec<Value>, Value) = if *g == "engineers" {
            (Vec::new(), attached(&["ReadOnlyAccess"]))
        } else {
            (
                vec![
                    json!({"PolicyName": format!("{name}-access"), "PolicyDocument": doc(&policy::group(g))}),
                ],
                json!([]),
            )
        };
        group_list.push(json!({
            "Path": "/",
            "GroupName": name,
            "GroupId": unique_id("AGPA", org.seed, &arn),
            "Arn": arn,
            "CreateDate": iso_offset(created),
            "GroupPolicyList": inline,
            "AttachedManagedPolicies": att,
        }));
    }
    let aws_created = Timestamp::parse("2015-02-06T18:39:46Z").map_or(0, |t| t.millis());
    for (name, count) in &managed_use {
        let arn = policy::managed_arn(name);
        policies.push(json!({
            "PolicyName": name,
            "PolicyId": unique_id("ANPA", 0, &arn),
            "Arn": arn,
            "Path": policy::managed_path(name),
            "DefaultVersionId": "v1",
            "AttachmentCount": count,
            "PermissionsBoundaryUsageCount": 0,
            "IsAttachable": true,
            "CreateDate": iso_offset(aws_created),
            "UpdateDate": iso_offset(aws_created),
            "PolicyVersionList": [{
                "Document": doc(&policy::managed(name)),
                "VersionId": "v1",
                "IsDefaultVersion": true,
                "CreateDate": iso_offset(aws_created),
            }],
        }));
    }
    let out = json!({
        "UserDetailList": users,
        "GroupDetailList": group_list,
        "RoleDetailList": roles,
        "Policies": policies,
    });
    let f = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::new(f);
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut w, fmt);
    out.serialize(&mut ser)
        .map_err(|e| SimError::Internal(e.to_string()))?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}

const CRED_HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// `inventory/credential-report.csv` in the IAM credential report format.
pub(crate) fn write_credential_report(
    org: &Org,
    usage: &Usage,
    path: &Path,
) -> Result<(), SimError> {
    let mut s = String::with_capacity(8192);
    s.push_str(CRED_HEADER);
    s.push('\n');
    for (a, acct) in org.accounts.iter().enumerate() {
        let root_used = org.start - (hash_str(&acct.id) % 200) as i64 * Timestamp::MS_PER_DAY
            + (hash_str(&acct.id) % 86_400) as i64 * 1000;
        let _ = writeln!(
            s,
            "<root_account>,arn:aws:iam::{}:root,{},not_supported,{},not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
            acct.id,
            iso_offset(acct.created),
            iso_offset(root_used)
        );
        let mut rows: BTreeMap<String, String> = BTreeMap::new();
        for (i, id) in org.idents.iter().enumerate() {
            if !id.is_user() || usize::from(id.acct) != a {
                continue;
            }
            let mut row = format!(
                "{},{},{},false,N/A,N/A,N/A,false",
                id.name,
                id.arn,
                iso_offset(id.created)
            );
            for slot in 0..2 {
                match id.keys.get(slot) {
                    Some(k) => {
                        let used = usage
                            .keys
                            .get(i)
                            .and_then(|u| u.get(slot).copied().flatten());
                        let (d, r, svc) = match used {
                            Some((t, r, svc)) => (
                                iso_offset(t),
                                crate::org::REGIONS
                                    .get(usize::from(r))
                                    .copied()
                                    .unwrap_or("us-east-1")
                                    .to_string(),
                                svc.to_string(),
                            ),
                            None => ("N/A".into(), "N/A".into(), "N/A".into()),
                        };
                        let _ =
                            write!(row, ",{},{},{d},{r},{svc}", k.active, iso_offset(k.created));
                    }
                    None => row.push_str(",false,N/A,N/A,N/A,N/A"),
                }
            }
            row.push_str(",false,N/A,false,N/A");
            rows.insert(id.name.clone(), row);
        }
        for h in org.humans.iter().filter(|h| usize::from(h.acct) == a) {
            let used = h
                .password_used
                .map_or_else(|| "no_information".to_string(), iso_offset);
            let row = format!(
                "{},{},{},true,{used},{},N/A,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
                h.name,
                h.arn,
                iso_offset(h.created),
                iso_offset(h.password_changed)
            );
            rows.insert(h.name.clone(), row);
        }
        for row in rows.values() {
            s.push_str(row);
            s.push('\n');
        }
    }
    std::fs::write(path, s)?;
    Ok(())
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            _ => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Glob families that cover several identities of one account.
fn family(id: &Ident) -> Option<&'static str> {
    if id.kind != Kind::Role {
        return None;
    }
    let n = id.name.as_str();
    if n.starts_with("gha-deploy-") {
        Some("gha-deploy-*")
    } else if n.starts_with("etl-") && n.ends_with("-nightly") {
        Some("etl-*-nightly")
    } else if n.ends_with("-ec2-role") {
        Some("*-ec2-role")
    } else if n.ends_with("-lambda-role") {
        Some("*-lambda-role")
    } else if n.ends_with("-task-role") {
        Some("*-task-role")
    } else {
        None
    }
}

/// Identities deliberately left out of the owners file (orphaned credentials are common).
pub(crate) fn unowned(org: &Org) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let mut integ = 0;
    let mut apps = 0;
    for (i, id) in org.idents.iter().enumerate() {
        if id.name == "fluentbit-logs" {
            out.insert(i);
        }
        if id.class == tripline_model::IdentityClass::SharedIntegration && id.is_user() {
            integ += 1;
            if integ == 4 {
                out.insert(i);
            }
        }
        if let Kind::K8s { ns, .. } = &id.kind {
            if id.k8s.as_ref().is_some_and(|k| !k.cluster_binding) && ns != "ci" {
                apps += 1;
                if apps == 3 {
                    out.insert(i);
                }
            }
        }
    }
    out
}

/// `owners.yaml`: owner, class and environment by ARN glob, name or name glob.
pub(crate) fn write_owners(org: &Org, path: &Path) -> Result<(), SimError> {
    let skip = unowned(org);
    let mut s = String::from("# Owners and classification of non-human identities.\n# match: an ARN (glob), a name, or a name glob; the first matching entry wins.\nowners:\n");
    let mut families: BTreeMap<(u8, &'static str), (&Ident, usize)> = BTreeMap::new();
    let mut singles: Vec<&Ident> = Vec::new();
    for (i, id) in org.idents.iter().enumerate() {
        if skip.contains(&i) {
            continue;
        }
        match family(id) {
            Some(f) => {
                families.entry((id.acct, f)).or_insert((id, 0)).1 += 1;
            }
            None => singles.push(id),
        }
    }
    let entry = |s: &mut String, m: &str, id: &Ident, comment: Option<&str>| {
        let _ = writeln!(
            s,
            "  - match: {}{}",
            quote(m),
            comment.map(|c| format!("   # {c}")).unwrap_or_default()
        );
        let _ = writeln!(
            s,
            "    owner: {}",
            id.owner.as_deref().unwrap_or("platform@example.com")
        );
        let _ = writeln!(s, "    class: {}", id.class.as_str());
        let _ = writeln!(s, "    environment: {}", id.env.as_str());
        let _ = writeln!(s, "    kind: {}", id.model_kind);
        if let Some(intent) = &id.intent {
            let _ = writeln!(s, "    intent: {}", quote(intent));
        }
    };
    for ((a, f), (id, n)) in &families {
        let acct = org.account(*a).map_or("*", |x| x.id.as_str());
        let m = format!("arn:aws:iam::{acct}:role/{f}");
        entry(&mut s, &m, id, Some(&format!("{n} roles")));
    }
    for id in singles {
        let m = match &id.kind {
            Kind::User => id.name.clone(),
            Kind::Role => id.arn.clone(),
            Kind::K8s { .. } => id.arn.clone(),
        };
        entry(&mut s, &m, id, None);
    }
    std::fs::write(path, s)?;
    Ok(())
}
