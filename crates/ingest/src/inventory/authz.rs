//! `aws iam get-account-authorization-details` → identities with their privileges.
//!
//! Input: the JSON the CLI prints (`UserDetailList`, `GroupDetailList`, `RoleDetailList`,
//! `Policies`). Also accepted: several pages concatenated (`--no-paginate` output appended, or
//! the raw API pages, each with `IsTruncated`/`Marker`), a JSON list of such pages, a missing
//! or `null` list, a UTF-8 byte order mark. Entries may reference policies and groups that
//! appear on another page: everything is collected first, then resolved.
//!
//! Output, per user and role (groups and managed policies are folded into their members):
//! - `id` = ARN, `name`, `account` (from the ARN), `created`, `tags`, `in_inventory = true`.
//! - `kind` (provenance [`Provenance::Inventory`]): users → [`IdentityKind::ServiceAccount`]
//!   (the credential report may later say a user is a person); roles →
//!   [`IdentityKind::WorkloadIdentity`], except service-linked roles (path
//!   `/aws-service-role/`) → [`IdentityKind::CloudService`], and IAM Identity Center roles (path
//!   `/aws-reserved/sso.amazonaws.com/`) or roles whose trust policy allows only
//!   `sts:AssumeRoleWithSAML` → [`IdentityKind::Human`].
//! - `privileges.policies`: attached managed policies (default version) as
//!   [`PolicyKind::Managed`] with the policy ARN as source; inline policies as
//!   [`PolicyKind::Inline`] with source `inline:<principal arn>/<policy name>`; each group's
//!   attached and inline policies as [`PolicyKind::Group`] (source: the managed ARN, or
//!   `inline:<group arn>/<policy name>`).
//! - `privileges.groups`: group names as in `GroupList`.
//! - `privileges.permissions_boundary` ([`PolicyKind::Boundary`]), `privileges.trust`
//!   ([`PolicyKind::Trust`], source `trust:<role arn>`, principals filled).
//! - `privileges.unresolved_policies`: what the identity is known to have but whose content is
//!   not in the file, so its privileges are incomplete:
//!   - a managed policy ARN not in `Policies` (or rejected as malformed) — the engine
//!     recognises well-known AWS managed ARNs such as `AdministratorAccess`;
//!   - `group:<name>` for a group in `GroupList` absent from `GroupDetailList`;
//!   - `inline:<arn>/<name>` for an inline policy whose document was malformed;
//!   - `boundary:<arn>` for a permissions boundary whose policy is not in `Policies` (prefixed
//!     so that an AdministratorAccess *boundary* is never read as an AdministratorAccess grant);
//!   - `trust:<role arn>` for a role whose trust policy was malformed.
//!
//! `RoleLastUsed` and instance profiles are not identity facts in the model: they are returned
//! alongside, in [`AuthzInventory::role_info`] keyed by role ARN.
//!
//! A malformed entry (missing `Arn`, wrong types) is a [`Rejected`] with
//! [`RejectReason::InvalidRecord`] and the others are kept. A malformed policy *document*
//! rejects only that policy (also a [`Rejected`]); the identity is kept and the policy is listed
//! in `unresolved_policies`. A duplicate entry (same ARN on two pages) keeps the first and
//! records a [`Rejected`].

use super::policy::parse_document;
use super::{check_size, excerpt, utf8, InventoryError, MAX_INVENTORY_BYTES};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use tripline_model::{
    Identity, IdentityKind, PolicyDoc, PolicyKind, Privileges, Provenance, RejectReason, Rejected,
    Statement, Timestamp,
};

const EXPECTED: &str = "iam authorization details (get-account-authorization-details)";

/// What one authorization-details input holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthzInventory {
    /// Users then roles, in file order.
    pub identities: Vec<Identity>,
    /// Accepted entries of each list (after de-duplication).
    pub users: usize,
    pub roles: usize,
    pub groups: usize,
    /// Managed policies accepted from `Policies`.
    pub policies: usize,
    /// JSON pages read.
    pub pages: usize,
    /// Managed policies by ARN, default version, kind [`PolicyKind::Managed`].
    pub managed_policies: BTreeMap<String, PolicyDoc>,
    /// Role facts the model has no field for, by role ARN.
    pub role_info: BTreeMap<String, RoleInfo>,
    pub rejected: Vec<Rejected>,
}

/// Role facts returned alongside the identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleInfo {
    /// `RoleLastUsed.LastUsedDate`: the last time the role was assumed (AWS tracks ~400 days).
    pub last_used: Option<Timestamp>,
    /// `RoleLastUsed.Region`.
    pub last_used_region: Option<String>,
    /// ARNs of the instance profiles the role is in (the role serves EC2 instances).
    pub instance_profiles: Vec<String>,
    /// `MaxSessionDuration`, seconds.
    pub max_session_duration: Option<u64>,
    /// `Path`, e.g. `/service-role/`.
    pub path: Option<String>,
}

/// Reads authorization details with the default cap ([`MAX_INVENTORY_BYTES`]).
pub fn parse_authz(bytes: &[u8], origin: &str) -> Result<AuthzInventory, InventoryError> {
    parse_authz_with_cap(bytes, origin, MAX_INVENTORY_BYTES)
}

/// Reads authorization details; an input longer than `max_bytes` is refused whole.
pub fn parse_authz_with_cap(
    bytes: &[u8],
    origin: &str,
    max_bytes: usize,
) -> Result<AuthzInventory, InventoryError> {
    check_size(bytes, origin, max_bytes)?;
    let text = utf8(bytes, origin)?;
    let mut reader = Reader {
        origin,
        rejected: Vec::new(),
        raw: Collected::default(),
    };
    let pages = reader.read_pages(text)?;
    let mut inv = reader.resolve();
    inv.pages = pages;
    Ok(inv)
}

// ---------------------------------------------------------------------------------------------
// The JSON shapes.

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(rename = "UserDetailList", borrow, default)]
    users: Option<&'a RawValue>,
    #[serde(rename = "GroupDetailList", borrow, default)]
    groups: Option<&'a RawValue>,
    #[serde(rename = "RoleDetailList", borrow, default)]
    roles: Option<&'a RawValue>,
    #[serde(rename = "Policies", borrow, default)]
    policies: Option<&'a RawValue>,
    #[serde(rename = "IsTruncated", default)]
    is_truncated: Option<bool>,
    #[serde(rename = "Marker", default)]
    marker: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserDetail {
    user_name: String,
    arn: String,
    #[serde(default)]
    create_date: Option<String>,
    #[serde(default)]
    group_list: Option<Vec<String>>,
    #[serde(default)]
    attached_managed_policies: Option<Vec<AttachedPolicy>>,
    #[serde(default)]
    user_policy_list: Option<Vec<InlinePolicy>>,
    #[serde(default)]
    tags: Option<Vec<Tag>>,
    #[serde(default)]
    permissions_boundary: Option<Boundary>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupDetail {
    group_name: String,
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    group_policy_list: Option<Vec<InlinePolicy>>,
    #[serde(default)]
    attached_managed_policies: Option<Vec<AttachedPolicy>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleDetail {
    role_name: String,
    arn: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    create_date: Option<String>,
    #[serde(default)]
    assume_role_policy_document: Option<Value>,
    #[serde(default)]
    role_policy_list: Option<Vec<InlinePolicy>>,
    #[serde(default)]
    attached_managed_policies: Option<Vec<AttachedPolicy>>,
    #[serde(default)]
    tags: Option<Vec<Tag>>,
    #[serde(default)]
    permissions_boundary: Option<Boundary>,
    #[serde(default)]
    role_last_used: Option<RoleLastUsed>,
    #[serde(default)]
    instance_profile_list: Option<Vec<InstanceProfile>>,
    #[serde(default)]
    max_session_duration: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManagedPolicy {
    policy_name: String,
    arn: String,
    #[serde(default)]
    default_version_id: Option<String>,
    #[serde(default)]
    policy_version_list: Option<Vec<PolicyVersion>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PolicyVersion {
    #[serde(default)]
    document: Value,
    #[serde(default)]
    version_id: Option<String>,
    #[serde(default)]
    is_default_version: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AttachedPolicy {
    policy_arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InlinePolicy {
    policy_name: String,
    #[serde(default)]
    policy_document: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Tag {
    key: String,
    #[serde(default)]
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Boundary {
    #[serde(default)]
    permissions_boundary_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RoleLastUsed {
    #[serde(default)]
    last_used_date: Option<String>,
    #[serde(default)]
    region: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct InstanceProfile {
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    instance_profile_name: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Reading: pages → typed entries, with rejections.

/// Where an entry was found, for messages.
#[derive(Clone, Copy)]
struct Place {
    page: usize,
    list: &'static str,
    /// 0-based index in the list.
    index: usize,
}

impl Place {
    fn label(self) -> String {
        format!("page {} {}[{}]", self.page, self.list, self.index)
    }
}

#[derive(Default)]
struct Collected {
    users: Vec<UserDetail>,
    groups: Vec<GroupDetail>,
    roles: Vec<RoleDetail>,
    policies: Vec<ManagedPolicy>,
}

struct Reader<'o> {
    origin: &'o str,
    rejected: Vec<Rejected>,
    raw: Collected,
}

impl Reader<'_> {
    fn reject(&mut self, position: Option<usize>, reason: RejectReason, detail: String, raw: &str) {
        self.rejected.push(Rejected {
            origin: self.origin.to_string(),
            position: position.and_then(|p| u64::try_from(p).ok()),
            reason,
            detail,
            excerpt: excerpt(raw),
        });
    }

    /// Splits the input into pages and collects their entries; returns the page count.
    fn read_pages(&mut self, text: &str) -> Result<usize, InventoryError> {
        let mut values: Vec<&RawValue> = Vec::new();
        let stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
        for item in stream {
            match item {
                Ok(raw) => values.push(raw),
                Err(e) if values.is_empty() => {
                    return Err(InventoryError::NotJson {
                        origin: self.origin.to_string(),
                        message: e.to_string(),
                    })
                }
                Err(e) => {
                    let detail = format!(
                        "json value {} is not valid: {e}; the rest of the input is not read",
                        values.len() + 1
                    );
                    self.reject(Some(values.len() + 1), RejectReason::NotJson, detail, "");
                    break;
                }
            }
        }
        if values.is_empty() {
            return Err(InventoryError::NotJson {
                origin: self.origin.to_string(),
                message: "empty input".into(),
            });
        }
        // A top-level list is a list of pages.
        let mut candidates: Vec<&RawValue> = Vec::new();
        for raw in values {
            if raw.get().trim_start().starts_with('[') {
                match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
                    Ok(items) => candidates.extend(items),
                    Err(_) => candidates.push(raw),
                }
            } else {
                candidates.push(raw);
            }
        }
        let mut pages = 0usize;
        let mut unrecognized: Vec<(usize, &RawValue, String)> = Vec::new();
        for (i, raw) in candidates.iter().enumerate() {
            if !raw.get().trim_start().starts_with('{') {
                let kind = match raw.get().trim_start().as_bytes().first() {
                    Some(b'[') => "list",
                    Some(b'"') => "string",
                    Some(b't' | b'f') => "boolean",
                    Some(b'n') => "null",
                    _ => "number",
                };
                unrecognized.push((i + 1, raw, format!("a {kind}, not a page object")));
                continue;
            }
            let page = match serde_json::from_str::<Page>(raw.get()) {
                Ok(p)
                    if p.users.is_some()
                        || p.groups.is_some()
                        || p.roles.is_some()
                        || p.policies.is_some() =>
                {
                    p
                }
                Ok(p) => {
                    let why = if p.is_truncated.is_some() || p.marker.is_some() {
                        "a page with IsTruncated/Marker but no detail list".to_string()
                    } else {
                        "an object with none of UserDetailList, GroupDetailList, RoleDetailList, Policies".to_string()
                    };
                    unrecognized.push((i + 1, raw, why));
                    continue;
                }
                Err(e) => {
                    unrecognized.push((i + 1, raw, format!("a malformed page object: {e}")));
                    continue;
                }
            };
            pages += 1;
            self.collect_page(pages, &page);
        }
        if pages == 0 {
            let detail = unrecognized
                .first()
                .map(|(_, _, why)| format!("found {why}"))
                .unwrap_or_else(|| "no page found".into());
            return Err(InventoryError::UnknownFormat {
                origin: self.origin.to_string(),
                expected: EXPECTED,
                detail,
            });
        }
        for (pos, raw, why) in unrecognized {
            let detail = format!("json value {pos} is not an authorization details page: {why}");
            self.reject(Some(pos), RejectReason::UnknownFormat, detail, raw.get());
        }
        Ok(pages)
    }

    fn collect_page(&mut self, page: usize, p: &Page<'_>) {
        let users = self.entries::<UserDetail>(page, "UserDetailList", p.users);
        self.raw.users.extend(users);
        let groups = self.entries::<GroupDetail>(page, "GroupDetailList", p.groups);
        self.raw.groups.extend(groups);
        let roles = self.entries::<RoleDetail>(page, "RoleDetailList", p.roles);
        self.raw.roles.extend(roles);
        let policies = self.entries::<ManagedPolicy>(page, "Policies", p.policies);
        self.raw.policies.extend(policies);
    }

    /// The well-formed entries of one list; the others become rejections.
    fn entries<T>(&mut self, page: usize, list: &'static str, raw: Option<&RawValue>) -> Vec<T>
    where
        T: for<'de> Deserialize<'de> + Validate,
    {
        let Some(raw) = raw else { return Vec::new() };
        let items = match serde_json::from_str::<Option<Vec<&RawValue>>>(raw.get()) {
            Ok(items) => items.unwrap_or_default(),
            Err(_) => {
                let detail = format!("page {page}: {list} is not a list; its entries are not read");
                self.reject(None, RejectReason::InvalidRecord, detail, raw.get());
                return Vec::new();
            }
        };
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let place = Place { page, list, index };
            if !item.get().trim_start().starts_with('{') {
                let detail = format!("{}: not an object", place.label());
                self.reject(
                    Some(index + 1),
                    RejectReason::InvalidRecord,
                    detail,
                    item.get(),
                );
                continue;
            }
            let parsed = serde_json::from_str::<T>(item.get())
                .map_err(|e| e.to_string())
                .and_then(|t| t.validate().map(|()| t));
            match parsed {
                Ok(t) => out.push(t),
                Err(e) => {
                    let detail = format!("{}: {e}", place.label());
                    self.reject(
                        Some(index + 1),
                        RejectReason::InvalidRecord,
                        detail,
                        item.get(),
                    );
                }
            }
        }
        out
    }
}

/// Checks serde cannot express (non-empty names, ARNs that are ARNs).
trait Validate {
    fn validate(&self) -> Result<(), String>;
}

fn check_arn(arn: &str, what: &str) -> Result<(), String> {
    if arn.starts_with("arn:") {
        Ok(())
    } else {
        Err(format!("{what} Arn {arn:?} is not an arn"))
    }
}

fn check_name(name: &str, field: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        Err(format!("{field} is empty"))
    } else {
        Ok(())
    }
}

impl Validate for UserDetail {
    fn validate(&self) -> Result<(), String> {
        check_name(&self.user_name, "UserName")?;
        check_arn(&self.arn, "user")
    }
}

impl Validate for GroupDetail {
    fn validate(&self) -> Result<(), String> {
        check_name(&self.group_name, "GroupName")
    }
}

impl Validate for RoleDetail {
    fn validate(&self) -> Result<(), String> {
        check_name(&self.role_name, "RoleName")?;
        check_arn(&self.arn, "role")
    }
}

impl Validate for ManagedPolicy {
    fn validate(&self) -> Result<(), String> {
        check_name(&self.policy_name, "PolicyName")?;
        check_arn(&self.arn, "policy")
    }
}

// ---------------------------------------------------------------------------------------------
// Resolving: groups and managed policies folded into users and roles.

/// A group's policies, ready to copy into each member.
struct ResolvedGroup {
    policies: Vec<PolicyDoc>,
    unresolved: Vec<String>,
}

impl Reader<'_> {
    fn resolve(mut self) -> AuthzInventory {
        let raw = std::mem::take(&mut self.raw);
        let mut inv = AuthzInventory::default();

        // Managed policies, default version.
        for p in raw.policies {
            if inv.managed_policies.contains_key(&p.arn) {
                self.duplicate("Policies", &p.arn);
                continue;
            }
            match default_statements(&p) {
                Ok(statements) => {
                    let doc = PolicyDoc {
                        source: p.arn.clone(),
                        name: p.policy_name,
                        kind: PolicyKind::Managed,
                        statements,
                    };
                    inv.managed_policies.insert(p.arn, doc);
                }
                Err(e) => {
                    let detail = format!("managed policy {}: {e}", p.arn);
                    self.reject(None, RejectReason::InvalidRecord, detail, &p.arn);
                }
            }
        }
        inv.policies = inv.managed_policies.len();

        // Groups, by name (GroupList holds names).
        let mut groups: HashMap<String, ResolvedGroup> = HashMap::new();
        for g in raw.groups {
            if groups.contains_key(&g.group_name) {
                self.duplicate("GroupDetailList", &g.group_name);
                continue;
            }
            let owner = g
                .arn
                .clone()
                .unwrap_or_else(|| format!("group/{}", g.group_name));
            let mut resolved = ResolvedGroup {
                policies: Vec::new(),
                unresolved: Vec::new(),
            };
            for a in g.attached_managed_policies.unwrap_or_default() {
                match inv.managed_policies.get(&a.policy_arn) {
                    Some(doc) => resolved.policies.push(PolicyDoc {
                        kind: PolicyKind::Group,
                        ..doc.clone()
                    }),
                    None => resolved.unresolved.push(a.policy_arn),
                }
            }
            for p in g.group_policy_list.unwrap_or_default() {
                match self.inline(&owner, p, PolicyKind::Group) {
                    Ok(doc) => resolved.policies.push(doc),
                    Err(source) => resolved.unresolved.push(source),
                }
            }
            groups.insert(g.group_name, resolved);
        }
        inv.groups = groups.len();

        let mut seen: HashSet<String> = HashSet::new();
        for u in raw.users {
            if !seen.insert(u.arn.clone()) {
                self.duplicate("UserDetailList", &u.arn);
                continue;
            }
            let identity = self.user(u, &inv.managed_policies, &groups);
            inv.identities.push(identity);
            inv.users += 1;
        }
        for r in raw.roles {
            if !seen.insert(r.arn.clone()) {
                self.duplicate("RoleDetailList", &r.arn);
                continue;
            }
            let (identity, info) = self.role(r, &inv.managed_policies);
            inv.role_info.insert(identity.id.clone(), info);
            inv.identities.push(identity);
            inv.roles += 1;
        }
        inv.rejected = self.rejected;
        inv
    }

    fn duplicate(&mut self, list: &str, key: &str) {
        let detail = format!("{list}: duplicate entry for {key}; the first one is kept");
        self.reject(None, RejectReason::InvalidRecord, detail, key);
    }

    /// An inline policy as a [`PolicyDoc`], or its source when the document is malformed.
    fn inline(
        &mut self,
        owner_arn: &str,
        p: InlinePolicy,
        kind: PolicyKind,
    ) -> Result<PolicyDoc, String> {
        let source = format!("inline:{owner_arn}/{}", p.policy_name);
        match parse_document(&p.policy_document) {
            Ok(statements) => Ok(PolicyDoc {
                source,
                name: p.policy_name,
                kind,
                statements,
            }),
            Err(e) => {
                let detail = format!("inline policy {source}: {e}; its permissions are unknown");
                self.reject(
                    None,
                    RejectReason::InvalidRecord,
                    detail,
                    &p.policy_document.to_string(),
                );
                Err(source)
            }
        }
    }

    /// Attached managed, inline and boundary policies shared by users and roles.
    fn common_privileges(
        &mut self,
        arn: &str,
        attached: Option<Vec<AttachedPolicy>>,
        inline: Option<Vec<InlinePolicy>>,
        boundary: Option<Boundary>,
        managed: &BTreeMap<String, PolicyDoc>,
    ) -> Privileges {
        let mut privileges = Privileges::default();
        for a in attached.unwrap_or_default() {
            match managed.get(&a.policy_arn) {
                Some(doc) => privileges.policies.push(doc.clone()),
                None => privileges.unresolved_policies.push(a.policy_arn),
            }
        }
        for p in inline.unwrap_or_default() {
            match self.inline(arn, p, PolicyKind::Inline) {
                Ok(doc) => privileges.policies.push(doc),
                Err(source) => privileges.unresolved_policies.push(source),
            }
        }
        if let Some(b_arn) = boundary.and_then(|b| b.permissions_boundary_arn) {
            match managed.get(&b_arn) {
                Some(doc) => {
                    privileges.permissions_boundary = Some(PolicyDoc {
                        kind: PolicyKind::Boundary,
                        ..doc.clone()
                    });
                }
                None => privileges
                    .unresolved_policies
                    .push(format!("boundary:{b_arn}")),
            }
        }
        privileges
    }

    fn user(
        &mut self,
        u: UserDetail,
        managed: &BTreeMap<String, PolicyDoc>,
        groups: &HashMap<String, ResolvedGroup>,
    ) -> Identity {
        let mut privileges = self.common_privileges(
            &u.arn,
            u.attached_managed_policies,
            u.user_policy_list,
            u.permissions_boundary,
            managed,
        );
        for name in u.group_list.unwrap_or_default() {
            match groups.get(&name) {
                Some(g) => {
                    privileges.policies.extend(g.policies.iter().cloned());
                    privileges
                        .unresolved_policies
                        .extend(g.unresolved.iter().cloned());
                }
                None => privileges.unresolved_policies.push(format!("group:{name}")),
            }
            privileges.groups.push(name);
        }
        dedup_in_order(&mut privileges.unresolved_policies);
        let mut identity = Identity::new(u.arn, u.user_name, IdentityKind::ServiceAccount);
        identity.kind_from = Provenance::Inventory;
        finish(&mut identity, u.create_date.as_deref(), u.tags, privileges);
        identity
    }

    fn role(
        &mut self,
        r: RoleDetail,
        managed: &BTreeMap<String, PolicyDoc>,
    ) -> (Identity, RoleInfo) {
        let mut privileges = self.common_privileges(
            &r.arn,
            r.attached_managed_policies,
            r.role_policy_list,
            r.permissions_boundary,
            managed,
        );
        match r.assume_role_policy_document.as_ref() {
            None | Some(Value::Null) => {}
            Some(doc) => match parse_document(doc) {
                Ok(statements) => {
                    privileges.trust = Some(PolicyDoc {
                        source: format!("trust:{}", r.arn),
                        name: "AssumeRolePolicyDocument".into(),
                        kind: PolicyKind::Trust,
                        statements,
                    });
                }
                Err(e) => {
                    let detail = format!(
                        "trust policy of {}: {e}; who may assume it is unknown",
                        r.arn
                    );
                    self.reject(None, RejectReason::InvalidRecord, detail, &doc.to_string());
                    privileges
                        .unresolved_policies
                        .push(format!("trust:{}", r.arn));
                }
            },
        }
        dedup_in_order(&mut privileges.unresolved_policies);
        let kind = role_kind(r.path.as_deref(), privileges.trust.as_ref());
        let last_used = r.role_last_used.unwrap_or(RoleLastUsed {
            last_used_date: None,
            region: None,
        });
        let info = RoleInfo {
            last_used: last_used
                .last_used_date
                .as_deref()
                .and_then(Timestamp::parse),
            last_used_region: last_used.region,
            instance_profiles: r
                .instance_profile_list
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| p.arn.or(p.instance_profile_name))
                .collect(),
            max_session_duration: r.max_session_duration,
            path: r.path,
        };
        let mut identity = Identity::new(r.arn, r.role_name, kind);
        identity.kind_from = Provenance::Inventory;
        finish(&mut identity, r.create_date.as_deref(), r.tags, privileges);
        (identity, info)
    }
}

fn finish(
    identity: &mut Identity,
    created: Option<&str>,
    tags: Option<Vec<Tag>>,
    privileges: Privileges,
) {
    identity.account = tripline_model::account_of_arn(&identity.id).map(str::to_string);
    // An unreadable CreateDate leaves `created` unset; it is not a reason to lose the identity.
    identity.created = created.and_then(Timestamp::parse);
    identity.tags = tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.value.unwrap_or_default()))
        .collect();
    identity.privileges = privileges;
    identity.in_inventory = true;
}

/// The statements of a managed policy's default version: the version flagged
/// `IsDefaultVersion`, else the one whose id is `DefaultVersionId`, else the only one.
fn default_statements(p: &ManagedPolicy) -> Result<Vec<Statement>, String> {
    let versions = p.policy_version_list.as_deref().unwrap_or_default();
    let chosen = versions
        .iter()
        .find(|v| v.is_default_version == Some(true))
        .or_else(|| {
            let want = p.default_version_id.as_deref()?;
            versions
                .iter()
                .find(|v| v.version_id.as_deref() == Some(want))
        })
        .or(match versions {
            [only] => Some(only),
            _ => None,
        });
    match chosen {
        Some(v) => parse_document(&v.document).map_err(|e| {
            format!(
                "version {}: {e}",
                v.version_id.as_deref().unwrap_or("(no VersionId)")
            )
        }),
        None => Err(format!(
            "no default version among {} version(s) in PolicyVersionList",
            versions.len()
        )),
    }
}

/// Roles run by AWS itself, and roles that people assume through SSO/SAML, are not NHIs.
fn role_kind(path: Option<&str>, trust: Option<&PolicyDoc>) -> IdentityKind {
    let path = path.unwrap_or("/");
    if path.starts_with("/aws-service-role/") {
        return IdentityKind::CloudService;
    }
    if path.starts_with("/aws-reserved/sso.amazonaws.com/") {
        return IdentityKind::Human;
    }
    let saml_only = trust.is_some_and(|t| {
        let mut allows = t.statements.iter().filter(|s| s.allow).peekable();
        allows.peek().is_some()
            && allows.all(|s| {
                !s.actions.is_empty()
                    && s.not_actions.is_empty()
                    && s.actions.iter().all(|a| {
                        a.eq_ignore_ascii_case("sts:AssumeRoleWithSAML")
                            || a.eq_ignore_ascii_case("sts:TagSession")
                    })
                    && s.actions
                        .iter()
                        .any(|a| a.eq_ignore_ascii_case("sts:AssumeRoleWithSAML"))
            })
    });
    if saml_only {
        IdentityKind::Human
    } else {
        IdentityKind::WorkloadIdentity
    }
}

fn dedup_in_order(v: &mut Vec<String>) {
    let mut seen = HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
}

#[cfg(test)]
mod tests;
