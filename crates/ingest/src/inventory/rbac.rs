//! Kubernetes RBAC → service-account identities with their rule sets, and [`rbac_findings`].
//!
//! Input (JSON only; YAML is refused with a message saying so): the output of
//! `kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o json` (a
//! `{"kind":"List","items":[…]}`), typed lists (`ClusterRoleList`, `RoleBindingList`, … whose
//! items may omit `kind`, as the API server writes them), single objects, several such
//! documents concatenated, or a JSON array of objects.
//!
//! Output: one [`Identity`] per service account that a `RoleBinding` or `ClusterRoleBinding`
//! names as a subject, sorted by id:
//! - `id` = `system:serviceaccount:<ns>:<name>` (the username Kubernetes audit logs carry),
//!   `name` = the service account name, `kind` = [`IdentityKind::ServiceAccount`] from
//!   [`Provenance::Inventory`], `in_inventory = true`.
//! - `privileges.policies`: one [`PolicyDoc`] of kind [`PolicyKind::Rbac`] per bound role, named
//!   after the role, with source `clusterrole:<name>` or `role:<ns>/<name>`, then
//!   ` via clusterrolebinding:<name>` or ` via rolebinding:<ns>/<name>` (and ` (group <g>)` when
//!   the grant reaches the account through a group, see below).
//! - Each rule becomes one allow [`Statement`] (sid `rules[<i>]`):
//!   - `actions`: every `k8s:<verb>:<resource>` (verb × resource, `*` kept, subresources as
//!     `pods/exec`), the action format of Kubernetes audit events, whatever the API group;
//!   - `resources`: the scope: `*` for a ClusterRole bound by a ClusterRoleBinding,
//!     `<ns>/*` for any role bound by a RoleBinding. With `resourceNames` the rule is narrowed
//!     to those objects instead, in the audit events' `ns/resource/name` form: `<ns>/<resource>/<name>`
//!     for a RoleBinding, `*/<resource>/<name>` and `<resource>/<name>` (cluster-scoped objects)
//!     for a ClusterRoleBinding (a subresource's parent resource is used: events name `pods`,
//!     not `pods/exec`);
//!   - `conditions`: the API groups, when not `*`, as `StringEquals` → [`API_GROUP_CONDITION`]
//!     (the core group is `""`; a rule without `apiGroups` is taken as core). The action keeps
//!     the audit format, so this is the only place the group survives.
//!   - `nonResourceURLs` become a second statement with actions `k8s:<verb>:<url>` (a bare `*`
//!     URL is written `/*` so that it cannot be mistaken for "every resource") and resources
//!     `*`. A RoleBinding does not grant non-resource URLs, so they are left out there.
//! - `privileges.unresolved_policies`: `rbac:clusterrole:<name>` or `rbac:role:<ns>/<name>` for
//!   a bound role that is not in the input (a [`Rejected`] says which binding), or whose rules
//!   are unknown (an aggregated ClusterRole that could not be resolved, a malformed role).
//!
//! Subjects: `ServiceAccount` subjects become identities (a RoleBinding subject without a
//! namespace is in the binding's namespace); a `User` subject named
//! `system:serviceaccount:<ns>:<name>` is the same service account (the RBAC authorizer matches
//! users by name). Other users and groups are not identities here: they are counted. Bindings to
//! the groups every service account is in (`system:serviceaccounts`,
//! `system:serviceaccounts:<ns>`, `system:authenticated`) are added to the matching identities,
//! and kept in [`RbacInventory::group_policies`] for accounts seen only in logs.
//!
//! Aggregated ClusterRoles (`aggregationRule`): when the input carries their rules (the
//! aggregation controller fills them in, so `kubectl get` shows them), those are used; when it
//! does not, they are resolved by label selector against the other ClusterRoles of the input
//! (recursively, cycles ignored). If no ClusterRole matches, the role is a [`Rejected`] and
//! bindings to it leave an `unresolved_policies` entry.
//!
//! A malformed object (wrong types, no name, a Role without namespace, a binding without
//! `roleRef`) is a [`Rejected`] with [`RejectReason::InvalidRecord`]; a duplicate keeps the
//! first; a non-RBAC object in a list is a [`Rejected`] with [`RejectReason::UnknownFormat`].
//!
//! [`rbac_findings`] reads the `Rbac` policies of a [`Privileges`] and reports the risky grants
//! (cluster-admin, wildcards, secret reads, pod exec, privilege escalation).

use super::{check_size, excerpt, utf8, InventoryError, MAX_INVENTORY_BYTES};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use tripline_model::{
    Identity, IdentityKind, PolicyDoc, PolicyKind, Privileges, Provenance, RejectReason, Rejected,
    Statement,
};

const EXPECTED: &str =
    "kubernetes rbac json (kubectl get clusterroles,clusterrolebindings,roles,rolebindings -A -o json)";

/// Condition key (under the `StringEquals` operator) holding a rule's `apiGroups` when they are
/// not `*`. The core group is the empty string.
pub use tripline_model::K8S_API_GROUP_CONDITION as API_GROUP_CONDITION;
const CONDITION_OPERATOR: &str = "StringEquals";

/// The groups Kubernetes puts every service account in; bindings to them reach the accounts.
const ALL_SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
const AUTHENTICATED: &str = "system:authenticated";
const SA_USER_PREFIX: &str = "system:serviceaccount:";

/// What one RBAC input holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RbacInventory {
    /// Service accounts named by a binding, sorted by id.
    pub identities: Vec<Identity>,
    /// Roles and ClusterRoles accepted.
    pub roles: usize,
    /// RoleBindings and ClusterRoleBindings accepted.
    pub bindings: usize,
    /// `User` subjects that are not service accounts (not identities here).
    pub user_subjects: usize,
    /// `Group` subjects (not identities here; see `group_policies`).
    pub group_subjects: usize,
    /// Policies bound to the groups that service accounts belong to (`system:serviceaccounts`,
    /// `system:serviceaccounts:<ns>`, `system:authenticated`), by group. Already applied to
    /// `identities`; kept for service accounts known only from logs.
    pub group_policies: BTreeMap<String, Vec<PolicyDoc>>,
    pub rejected: Vec<Rejected>,
}

/// Whether `kind` names an RBAC object or a list of them (`ClusterRole`, `RoleBindingList`, …).
pub fn is_rbac_kind(kind: &str) -> bool {
    let base = kind.strip_suffix("List").unwrap_or(kind);
    matches!(
        base,
        "ClusterRole" | "Role" | "ClusterRoleBinding" | "RoleBinding"
    )
}

/// Reads RBAC JSON with the default cap ([`MAX_INVENTORY_BYTES`]).
pub fn parse_rbac(bytes: &[u8], origin: &str) -> Result<RbacInventory, InventoryError> {
    parse_rbac_with_cap(bytes, origin, MAX_INVENTORY_BYTES)
}

/// Reads RBAC JSON; an input longer than `max_bytes` is refused whole.
pub fn parse_rbac_with_cap(
    bytes: &[u8],
    origin: &str,
    max_bytes: usize,
) -> Result<RbacInventory, InventoryError> {
    check_size(bytes, origin, max_bytes)?;
    let text = utf8(bytes, origin)?;
    let trimmed = text.trim_start();
    if !trimmed.starts_with(['{', '[']) {
        let detail = if trimmed.starts_with("---")
            || trimmed.starts_with("apiVersion:")
            || trimmed.starts_with("kind:")
            || trimmed.starts_with('#')
        {
            "this looks like YAML; Tripline reads RBAC as JSON only: use `kubectl get … -o json`"
        } else {
            "not JSON; Tripline reads RBAC as JSON only: use `kubectl get … -o json`"
        };
        return Err(InventoryError::UnknownFormat {
            origin: origin.to_string(),
            expected: EXPECTED,
            detail: detail.into(),
        });
    }
    let mut reader = Reader {
        origin,
        rejected: Vec::new(),
        roles: BTreeMap::new(),
        bindings: Vec::new(),
        position: 0,
        rbac_objects: 0,
        other_kinds: BTreeSet::new(),
    };
    reader.read(text)?;
    Ok(reader.resolve())
}

// ---------------------------------------------------------------------------------------------
// The JSON shapes.

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    kind: Option<String>,
    #[serde(borrow, default)]
    items: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    rules: Option<Vec<Rule>>,
    #[serde(default)]
    aggregation_rule: Option<AggregationRule>,
    #[serde(default)]
    role_ref: Option<RoleRef>,
    #[serde(default)]
    subjects: Option<Vec<Subject>>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize, Clone, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Rule {
    #[serde(default)]
    api_groups: Option<Vec<String>>,
    #[serde(default)]
    resources: Option<Vec<String>>,
    #[serde(default)]
    verbs: Option<Vec<String>>,
    #[serde(default)]
    resource_names: Option<Vec<String>>,
    #[serde(default, rename = "nonResourceURLs")]
    non_resource_urls: Option<Vec<String>>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct AggregationRule {
    #[serde(default)]
    cluster_role_selectors: Option<Vec<LabelSelector>>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct LabelSelector {
    #[serde(default)]
    match_labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    match_expressions: Option<Vec<Requirement>>,
}

#[derive(Deserialize, Clone)]
struct Requirement {
    key: String,
    operator: String,
    #[serde(default)]
    values: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoleRef {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Subject {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Reading: documents → roles and bindings, with rejections.

struct RoleDef {
    name: String,
    /// `Some` for a namespaced Role.
    namespace: Option<String>,
    labels: BTreeMap<String, String>,
    rules: Vec<Rule>,
    aggregation: Option<Vec<LabelSelector>>,
    position: usize,
}

struct BindingDef {
    /// `clusterrolebinding:<name>` or `rolebinding:<ns>/<name>`.
    label: String,
    /// `None` for a ClusterRoleBinding.
    namespace: Option<String>,
    /// Key of the bound role: `clusterrole:<name>` or `role:<ns>/<name>`.
    role: String,
    subjects: Vec<Subject>,
    position: usize,
}

struct Reader<'o> {
    origin: &'o str,
    rejected: Vec<Rejected>,
    /// By key (`clusterrole:<name>`, `role:<ns>/<name>`).
    roles: BTreeMap<String, RoleDef>,
    bindings: Vec<BindingDef>,
    /// Objects seen so far (1-based position of the current one).
    position: usize,
    /// Objects whose kind is an RBAC kind (accepted or not).
    rbac_objects: usize,
    /// Kinds of non-RBAC objects seen.
    other_kinds: BTreeSet<String>,
}

fn role_key(kind_is_cluster: bool, namespace: Option<&str>, name: &str) -> String {
    match (kind_is_cluster, namespace) {
        (true, _) | (false, None) => format!("clusterrole:{name}"),
        (false, Some(ns)) => format!("role:{ns}/{name}"),
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
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

    fn read(&mut self, text: &str) -> Result<(), InventoryError> {
        let mut values: Vec<&RawValue> = Vec::new();
        for item in serde_json::Deserializer::from_str(text).into_iter::<&RawValue>() {
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
                        "json document {} is not valid: {e}; the rest of the input is not read",
                        values.len() + 1
                    );
                    self.reject(None, RejectReason::NotJson, detail, "");
                    break;
                }
            }
        }
        for raw in values {
            self.document(raw);
        }
        // An empty list is a valid (empty) input; anything else must hold an RBAC object.
        if self.rbac_objects == 0 && self.position > 0 {
            let detail = if self.other_kinds.is_empty() {
                "no Role, ClusterRole, RoleBinding or ClusterRoleBinding found".to_string()
            } else {
                format!(
                    "no Role, ClusterRole, RoleBinding or ClusterRoleBinding found (kinds seen: {})",
                    self.other_kinds.iter().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            return Err(InventoryError::UnknownFormat {
                origin: self.origin.to_string(),
                expected: EXPECTED,
                detail,
            });
        }
        Ok(())
    }

    /// One top-level JSON value: a list (envelope with `items`, or an array) or one object.
    fn document(&mut self, raw: &RawValue) {
        let body = raw.get().trim_start();
        if body.starts_with('[') {
            match serde_json::from_str::<Vec<&RawValue>>(body) {
                Ok(items) => {
                    for item in items {
                        self.object(item, None);
                    }
                }
                Err(e) => {
                    self.position += 1;
                    let detail = format!("a list that cannot be read: {e}");
                    self.reject(
                        Some(self.position),
                        RejectReason::InvalidRecord,
                        detail,
                        body,
                    );
                }
            }
            return;
        }
        if !body.starts_with('{') {
            self.position += 1;
            let detail = "a json value that is not an object or a list".to_string();
            self.reject(
                Some(self.position),
                RejectReason::UnknownFormat,
                detail,
                body,
            );
            return;
        }
        let envelope = serde_json::from_str::<Envelope>(body).ok();
        match envelope {
            Some(Envelope {
                kind,
                items: Some(items),
            }) => {
                let item_kind = kind
                    .as_deref()
                    .and_then(|k| k.strip_suffix("List"))
                    .filter(|k| !k.is_empty())
                    .map(str::to_string);
                match serde_json::from_str::<Option<Vec<&RawValue>>>(items.get()) {
                    Ok(list) => {
                        for item in list.unwrap_or_default() {
                            self.object(item, item_kind.as_deref());
                        }
                    }
                    Err(_) => {
                        self.position += 1;
                        let detail = "`items` is not a list; the document is not read".to_string();
                        self.reject(
                            Some(self.position),
                            RejectReason::InvalidRecord,
                            detail,
                            body,
                        );
                    }
                }
            }
            _ => self.object(raw, None),
        }
    }

    /// One object: a role, a binding, or something else (set aside).
    fn object(&mut self, raw: &RawValue, default_kind: Option<&str>) {
        self.position += 1;
        let pos = self.position;
        let body = raw.get();
        let obj = match serde_json::from_str::<Object>(body) {
            Ok(o) => o,
            Err(e) => {
                let detail = format!("object {pos}: {e}");
                self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
                return;
            }
        };
        let kind = obj
            .kind
            .clone()
            .filter(|k| !k.is_empty())
            .or_else(|| default_kind.map(str::to_string));
        let Some(kind) = kind else {
            let detail = format!("object {pos}: no `kind`");
            self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
            return;
        };
        if is_rbac_kind(&kind) {
            self.rbac_objects += 1;
        }
        let meta = obj.metadata.unwrap_or_default();
        let name = non_empty(meta.name);
        let namespace = non_empty(meta.namespace);
        let Some(name) = name else {
            if is_rbac_kind(&kind) {
                let detail = format!("object {pos}: {kind} without metadata.name");
                self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
            } else {
                self.other(pos, &kind, body);
            }
            return;
        };
        match kind.as_str() {
            "ClusterRole" | "Role" => {
                let cluster = kind == "ClusterRole";
                if !cluster && namespace.is_none() {
                    let detail = format!("object {pos}: Role {name} without metadata.namespace");
                    self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
                    return;
                }
                let key = role_key(cluster, namespace.as_deref(), &name);
                if self.roles.contains_key(&key) {
                    let detail = format!("object {pos}: duplicate {key}; the first one is kept");
                    self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
                    return;
                }
                let rules = obj.rules.unwrap_or_default();
                for (i, rule) in rules.iter().enumerate() {
                    if let Some(why) = grants_nothing(rule) {
                        let detail = format!("{key} rules[{i}] grants nothing: {why}");
                        self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
                    }
                }
                let aggregation = if cluster {
                    obj.aggregation_rule
                        .map(|a| a.cluster_role_selectors.unwrap_or_default())
                } else {
                    None
                };
                self.roles.insert(
                    key,
                    RoleDef {
                        name,
                        namespace: if cluster { None } else { namespace },
                        labels: meta.labels.unwrap_or_default(),
                        rules,
                        aggregation,
                        position: pos,
                    },
                );
            }
            "ClusterRoleBinding" | "RoleBinding" => {
                let cluster = kind == "ClusterRoleBinding";
                let label = match (&namespace, cluster) {
                    (Some(ns), false) => format!("rolebinding:{ns}/{name}"),
                    (None, false) => {
                        let detail =
                            format!("object {pos}: RoleBinding {name} without metadata.namespace");
                        self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
                        return;
                    }
                    (_, true) => format!("clusterrolebinding:{name}"),
                };
                let role_ref = obj.role_ref.map(|r| (non_empty(r.kind), non_empty(r.name)));
                let role = match role_ref {
                    Some((Some(k), Some(n))) if k == "ClusterRole" => role_key(true, None, &n),
                    Some((Some(k), Some(n))) if k == "Role" && !cluster => {
                        role_key(false, namespace.as_deref(), &n)
                    }
                    Some((Some(k), Some(_))) => {
                        let detail =
                            format!(
                            "object {pos}: {label} has roleRef.kind {k:?}; a {kind} can bind {}",
                            if cluster { "only a ClusterRole" } else { "a Role or a ClusterRole" }
                        );
                        self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
                        return;
                    }
                    _ => {
                        let detail =
                            format!("object {pos}: {label} has no roleRef with kind and name");
                        self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
                        return;
                    }
                };
                if self.bindings.iter().any(|b| b.label == label) {
                    let detail = format!("object {pos}: duplicate {label}; the first one is kept");
                    self.reject(Some(pos), RejectReason::InvalidRecord, detail, body);
                    return;
                }
                self.bindings.push(BindingDef {
                    label,
                    namespace: if cluster { None } else { namespace },
                    role,
                    subjects: obj.subjects.unwrap_or_default(),
                    position: pos,
                });
            }
            _ => self.other(pos, &kind, body),
        }
    }

    fn other(&mut self, pos: usize, kind: &str, body: &str) {
        self.other_kinds.insert(kind.to_string());
        let detail = format!("object {pos}: kind {kind} is not an RBAC object; set aside");
        self.reject(Some(pos), RejectReason::UnknownFormat, detail, body);
    }
}

/// Why a rule can grant nothing, if it cannot.
fn grants_nothing(rule: &Rule) -> Option<&'static str> {
    let empty = |v: &Option<Vec<String>>| v.as_ref().is_none_or(Vec::is_empty);
    if empty(&rule.verbs) {
        Some("no verbs")
    } else if empty(&rule.resources) && empty(&rule.non_resource_urls) {
        Some("neither resources nor nonResourceURLs")
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Resolving: aggregated roles, then bindings → identities.

/// Where a binding applies its role.
#[derive(Clone, Copy)]
enum Scope<'a> {
    Cluster,
    Namespace(&'a str),
}

/// A binding's effect: the policy it grants, or the unresolved reference.
type Grant = Result<PolicyDoc, String>;

impl Reader<'_> {
    fn resolve(mut self) -> RbacInventory {
        let roles = std::mem::take(&mut self.roles);
        let bindings = std::mem::take(&mut self.bindings);

        // Effective rules of every role; aggregated ClusterRoles without rules resolved.
        let mut effective: BTreeMap<String, Result<Vec<Rule>, String>> = BTreeMap::new();
        for key in roles.keys() {
            let mut visiting = HashSet::new();
            let rules = effective_rules(&roles, key, &mut visiting);
            if let (Err(why), Some(def)) = (&rules, roles.get(key)) {
                let detail = format!("{key}: {why}; bindings to it are unresolved");
                self.reject(
                    Some(def.position),
                    RejectReason::InvalidRecord,
                    detail,
                    &def.name,
                );
            }
            effective.insert(key.clone(), rules);
        }

        let mut inv = RbacInventory {
            roles: roles.len(),
            bindings: bindings.len(),
            ..RbacInventory::default()
        };
        let mut identities: BTreeMap<String, Identity> = BTreeMap::new();
        // (group, grant) pairs applied after every account is known.
        let mut group_grants: Vec<(String, Grant)> = Vec::new();

        for b in &bindings {
            let scope = match &b.namespace {
                Some(ns) => Scope::Namespace(ns),
                None => Scope::Cluster,
            };
            let grant: Grant = match (roles.get(&b.role), effective.get(&b.role)) {
                (Some(def), Some(Ok(rules))) => Ok(PolicyDoc {
                    source: format!("{} via {}", b.role, b.label),
                    name: def.name.clone(),
                    kind: PolicyKind::Rbac,
                    statements: statements(rules, scope),
                }),
                (Some(_), _) => Err(format!("rbac:{}", b.role)),
                (None, _) => {
                    let detail = format!(
                        "{} binds {}, which is not in the input (or was set aside); the \
                         permissions of its subjects are incomplete",
                        b.label, b.role
                    );
                    let role = b.role.clone();
                    self.reject(Some(b.position), RejectReason::InvalidRecord, detail, &role);
                    Err(format!("rbac:{}", b.role))
                }
            };
            for (i, s) in b.subjects.iter().enumerate() {
                let kind = s.kind.as_deref().unwrap_or_default();
                let name = s.name.as_deref().map(str::trim).unwrap_or_default();
                if name.is_empty() {
                    let detail = format!("{} subjects[{i}]: no name", b.label);
                    self.reject(Some(b.position), RejectReason::InvalidRecord, detail, kind);
                    continue;
                }
                let account = match kind {
                    "ServiceAccount" => {
                        let ns = non_empty(s.namespace.clone()).or_else(|| b.namespace.clone());
                        match ns {
                            Some(ns) => Some((ns, name.to_string())),
                            None => {
                                let detail = format!(
                                    "{} subjects[{i}]: ServiceAccount {name} without namespace",
                                    b.label
                                );
                                self.reject(
                                    Some(b.position),
                                    RejectReason::InvalidRecord,
                                    detail,
                                    name,
                                );
                                continue;
                            }
                        }
                    }
                    "User" => match service_account_of_username(name) {
                        Some(sa) => Some(sa),
                        None => {
                            inv.user_subjects += 1;
                            None
                        }
                    },
                    "Group" => {
                        inv.group_subjects += 1;
                        if reaches_service_accounts(name) {
                            let g = grant.clone().map(|mut doc| {
                                doc.source = format!("{} (group {name})", doc.source);
                                doc
                            });
                            group_grants.push((name.to_string(), g));
                        }
                        None
                    }
                    other => {
                        let detail =
                            format!("{} subjects[{i}]: unknown subject kind {other:?}", b.label);
                        self.reject(Some(b.position), RejectReason::InvalidRecord, detail, name);
                        None
                    }
                };
                let Some((ns, sa)) = account else { continue };
                let identity = identities
                    .entry(format!("{SA_USER_PREFIX}{ns}:{sa}"))
                    .or_insert_with_key(|id| new_identity(id, &sa));
                add_grant(&mut identity.privileges, &grant);
            }
        }

        for (group, grant) in group_grants {
            for identity in identities.values_mut() {
                if group_contains(&group, &identity.id) {
                    add_grant(&mut identity.privileges, &grant);
                }
            }
            if let Ok(doc) = grant {
                inv.group_policies.entry(group).or_default().push(doc);
            }
        }
        inv.identities = identities
            .into_values()
            .map(|mut i| {
                dedup_in_order(&mut i.privileges.unresolved_policies);
                i
            })
            .collect();
        inv.rejected = self.rejected;
        inv
    }
}

fn new_identity(id: &str, name: &str) -> Identity {
    let mut identity = Identity::new(id, name, IdentityKind::ServiceAccount);
    identity.kind_from = Provenance::Inventory;
    identity.in_inventory = true;
    identity
}

fn add_grant(privileges: &mut Privileges, grant: &Grant) {
    match grant {
        Ok(doc) => privileges.policies.push(doc.clone()),
        Err(unresolved) => privileges.unresolved_policies.push(unresolved.clone()),
    }
}

/// `system:serviceaccount:<ns>:<name>` → (ns, name).
fn service_account_of_username(user: &str) -> Option<(String, String)> {
    let rest = user.strip_prefix(SA_USER_PREFIX)?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':'))
        .then(|| (ns.to_string(), name.to_string()))
}

/// Whether a group subject reaches service accounts at all.
fn reaches_service_accounts(group: &str) -> bool {
    group == AUTHENTICATED
        || group == ALL_SERVICE_ACCOUNTS
        || group
            .strip_prefix(ALL_SERVICE_ACCOUNTS)
            .and_then(|r| r.strip_prefix(':'))
            .is_some_and(|ns| !ns.is_empty())
}

/// Whether the service account `id` is in `group`.
fn group_contains(group: &str, id: &str) -> bool {
    if group == AUTHENTICATED || group == ALL_SERVICE_ACCOUNTS {
        return true;
    }
    let Some(ns) = group
        .strip_prefix(ALL_SERVICE_ACCOUNTS)
        .and_then(|r| r.strip_prefix(':'))
    else {
        return false;
    };
    service_account_of_username(id).is_some_and(|(n, _)| n == ns)
}

/// A role's rules, aggregated ClusterRoles resolved. `visiting` guards against cycles.
fn effective_rules(
    roles: &BTreeMap<String, RoleDef>,
    key: &str,
    visiting: &mut HashSet<String>,
) -> Result<Vec<Rule>, String> {
    let Some(def) = roles.get(key) else {
        return Err("not in the input".into());
    };
    let Some(selectors) = def.aggregation.as_ref().filter(|_| def.rules.is_empty()) else {
        return Ok(def.rules.clone());
    };
    if !visiting.insert(key.to_string()) {
        return Err("aggregation cycle".into());
    }
    let mut rules: Vec<Rule> = Vec::new();
    let mut matched = 0usize;
    for (other_key, other) in roles {
        if other_key == key || other.namespace.is_some() {
            continue;
        }
        let mut hit = false;
        for sel in selectors {
            if selector_matches(sel, &other.labels)? {
                hit = true;
                break;
            }
        }
        if !hit {
            continue;
        }
        if let Ok(sub) = effective_rules(roles, other_key, visiting) {
            matched += 1;
            for r in sub {
                if !rules.contains(&r) {
                    rules.push(r);
                }
            }
        }
    }
    visiting.remove(key);
    if matched == 0 {
        return Err(format!(
            "aggregated ClusterRole without rules, and no ClusterRole in the input matches its \
             {} clusterRoleSelectors; its rules are unknown",
            selectors.len()
        ));
    }
    Ok(rules)
}

/// Kubernetes label-selector semantics: every `matchLabels` pair and every expression must hold;
/// an empty selector matches everything.
fn selector_matches(
    sel: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> Result<bool, String> {
    for (k, v) in sel.match_labels.iter().flatten() {
        if labels.get(k) != Some(v) {
            return Ok(false);
        }
    }
    for req in sel.match_expressions.iter().flatten() {
        let values = req.values.as_deref().unwrap_or_default();
        let value = labels.get(&req.key);
        let holds = match req.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            other => return Err(format!("label selector operator {other:?} is not known")),
        };
        if !holds {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Statements for a role's rules bound at `scope`.
fn statements(rules: &[Rule], scope: Scope<'_>) -> Vec<Statement> {
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let verbs: Vec<&str> = rule
            .verbs
            .iter()
            .flatten()
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        if verbs.is_empty() {
            continue;
        }
        let sid = Some(format!("rules[{i}]"));
        let resources: Vec<&str> = rule
            .resources
            .iter()
            .flatten()
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .collect();
        if !resources.is_empty() {
            let mut actions = Vec::new();
            for v in &verbs {
                for r in &resources {
                    push_unique(&mut actions, format!("k8s:{v}:{r}"));
                }
            }
            let names: Vec<&str> = rule
                .resource_names
                .iter()
                .flatten()
                .map(|n| n.trim())
                .filter(|n| !n.is_empty())
                .collect();
            let mut scoped = Vec::new();
            if names.is_empty() {
                scoped.push(match scope {
                    Scope::Cluster => "*".to_string(),
                    Scope::Namespace(ns) => format!("{ns}/*"),
                });
            } else {
                for r in &resources {
                    let base = r.split('/').next().unwrap_or(r);
                    for n in &names {
                        match scope {
                            Scope::Cluster => {
                                push_unique(&mut scoped, format!("*/{base}/{n}"));
                                push_unique(&mut scoped, format!("{base}/{n}"));
                            }
                            Scope::Namespace(ns) => {
                                push_unique(&mut scoped, format!("{ns}/{base}/{n}"));
                            }
                        }
                    }
                }
            }
            let mut groups: Vec<String> = rule
                .api_groups
                .iter()
                .flatten()
                .map(|g| g.trim().to_string())
                .collect();
            if groups.is_empty() {
                groups.push(String::new());
            }
            let mut conditions = BTreeMap::new();
            if !groups.iter().any(|g| g == "*") {
                let mut by_key = BTreeMap::new();
                by_key.insert(API_GROUP_CONDITION.to_string(), groups);
                conditions.insert(CONDITION_OPERATOR.to_string(), by_key);
            }
            out.push(Statement {
                sid: sid.clone(),
                allow: true,
                actions,
                resources: scoped,
                conditions,
                ..Statement::default()
            });
        }
        let urls: Vec<&str> = rule
            .non_resource_urls
            .iter()
            .flatten()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
            .collect();
        if !urls.is_empty() && matches!(scope, Scope::Cluster) {
            let mut actions = Vec::new();
            for v in &verbs {
                for u in &urls {
                    let u = if *u == "*" { "/*" } else { u };
                    push_unique(&mut actions, format!("k8s:{v}:{u}"));
                }
            }
            out.push(Statement {
                sid,
                allow: true,
                actions,
                resources: vec!["*".into()],
                ..Statement::default()
            });
        }
    }
    out
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

fn dedup_in_order(v: &mut Vec<String>) {
    let mut seen = HashSet::new();
    v.retain(|s| seen.insert(s.clone()));
}

#[cfg(test)]
mod tests;
