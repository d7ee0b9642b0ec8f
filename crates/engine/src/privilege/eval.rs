//! Evaluation of identity policies (plus permissions boundary) for one principal.
//!
//! Semantics, as far as risk is concerned:
//! - an action is *granted* when some Allow statement (in an identity policy: managed, inline,
//!   group, or a recognised AWS managed ARN) matches it on some resource, no unconditional Deny
//!   on all resources (`*`) matches it, and — when a permissions boundary is present — the
//!   boundary grants it the same way;
//! - a conditional Allow still grants (conservative), but is reported as conditional;
//! - a conditional Deny, or a Deny limited to specific resources, removes nothing.

use super::glob::{covers, intersects, matches};
use super::managed::known_managed_policy;
use std::collections::{BTreeMap, BTreeSet};
use tripline_model::{PolicyDoc, PolicyKind, Privileges, Statement};

/// A statement with the facts the queries need, computed once.
#[derive(Debug)]
pub(super) struct Stmt<'a> {
    pub allow: bool,
    pub actions: &'a [String],
    pub not_actions: &'a [String],
    pub resources: &'a [String],
    pub not_resources: &'a [String],
    pub conditions: &'a BTreeMap<String, BTreeMap<String, Vec<String>>>,
    pub source: &'a str,
    pub conditional: bool,
    /// Applies to every resource (`*`; a missing `Resource` counts as `*` for an Allow).
    pub all_resources: bool,
}

impl<'a> Stmt<'a> {
    fn new(s: &'a Statement, source: &'a str) -> Self {
        let no_resource = s.resources.is_empty() && s.not_resources.is_empty();
        let all_resources = s.not_resources.is_empty()
            && ((no_resource && s.allow) || s.resources.iter().any(|r| is_all_resource(r)));
        Self {
            allow: s.allow,
            actions: &s.actions,
            not_actions: &s.not_actions,
            resources: &s.resources,
            not_resources: &s.not_resources,
            conditions: &s.conditions,
            source,
            conditional: !s.conditions.is_empty(),
            all_resources,
        }
    }

    /// `NotAction` only: everything except the listed actions.
    fn is_not_action(&self) -> bool {
        self.actions.is_empty() && !self.not_actions.is_empty()
    }

    /// Whether the statement's action set contains `action` (a literal).
    pub fn matches_action(&self, action: &str) -> bool {
        if self.actions.is_empty() && self.not_actions.is_empty() {
            return false;
        }
        (self.actions.is_empty() || self.actions.iter().any(|p| matches(p, action)))
            && !self.not_actions.iter().any(|p| matches(p, action))
    }

    /// Whether the statement's action set contains every action matching `q`.
    fn covers_pattern(&self, q: &str) -> bool {
        if self.actions.is_empty() && self.not_actions.is_empty() {
            return false;
        }
        (self.actions.is_empty() || self.actions.iter().any(|p| action_covers(p, q)))
            && !self.not_actions.iter().any(|n| intersects(n, q))
    }

    /// Whether the statement's action set contains some action matching `q`.
    fn intersects_pattern(&self, q: &str) -> bool {
        if self.actions.is_empty() && self.not_actions.is_empty() {
            return false;
        }
        (self.actions.is_empty() || self.actions.iter().any(|p| intersects(p, q)))
            && !self.not_actions.iter().any(|n| action_covers(n, q))
    }

    /// An unconditional Deny on every resource: removes what it matches.
    fn is_removing_deny(&self) -> bool {
        !self.allow && !self.conditional && self.all_resources
    }

    /// An unconditional Deny that stops a grant from being "on every resource".
    fn is_narrowing_deny(&self) -> bool {
        !self.allow && !self.conditional && (self.all_resources || !self.not_resources.is_empty())
    }
}

/// Whether action pattern `outer` includes every action `inner` matches. Every IAM action has
/// a `service:` prefix, so `*:*` is as good as `*`.
fn action_covers(outer: &str, inner: &str) -> bool {
    is_any_action(outer) || covers(outer, inner)
}

/// `*`, `*:*` (and runs of stars on either side).
fn is_any_action(p: &str) -> bool {
    let (svc, act) = p.split_once(':').unwrap_or((p, "*"));
    !svc.is_empty()
        && !act.is_empty()
        && svc.bytes().all(|b| b == b'*')
        && act.bytes().all(|b| b == b'*')
}

/// `*`, `arn:*` and the like: every resource.
pub(super) fn is_all_resource(r: &str) -> bool {
    if r.bytes().all(|b| b == b'*') && !r.is_empty() {
        return true;
    }
    ["arn:*", "arn:aws:*", "arn:*:*:*:*:*", "arn:aws:*:*:*:*"]
        .iter()
        .any(|all| r.eq_ignore_ascii_case(all))
}

/// Which resources or conditions an Allow must admit to count for a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// Some resource.
    Any,
    /// Some resource, under conditions a non-human caller can meet (escalation analysis).
    Exploitable,
    /// IAM users other than the caller: a resource not limited to `${aws:username}`.
    OtherUsers,
    /// `iam:PassRole` to this service principal (honours `iam:PassedToService`).
    PassedTo(&'static str),
    /// Any role (resource `*`, `…:role/*`, or a NotResource).
    AnyRole,
}

impl Target {
    fn admits(self, s: &Stmt<'_>) -> bool {
        match self {
            Target::Any => true,
            Target::Exploitable => !needs_mfa(s),
            Target::OtherUsers => {
                !s.not_resources.is_empty()
                    || s.resources.is_empty()
                    || s.resources.iter().any(|r| !is_self_user(r))
            }
            Target::AnyRole => {
                !s.not_resources.is_empty()
                    || s.resources.is_empty()
                    || s.resources.iter().any(|r| {
                        is_all_resource(r) || {
                            let r = r.to_ascii_lowercase();
                            r.ends_with(":role/*") || r.ends_with(":role*") || r.ends_with(":*")
                        }
                    })
            }
            Target::PassedTo(service) => passed_to_allows(s, service),
        }
    }
}

/// A resource that can only be the caller's own user.
fn is_self_user(r: &str) -> bool {
    let len = r.len();
    let suffix = "${aws:username}";
    len >= suffix.len()
        && r.get(len - suffix.len()..)
            .is_some_and(|s| s.eq_ignore_ascii_case(suffix))
}

/// Whether the statement's `iam:PassedToService` condition (if any) admits `service`.
fn passed_to_allows(s: &Stmt<'_>, service: &str) -> bool {
    for (op, keys) in s.conditions {
        for (key, values) in keys {
            if !key.eq_ignore_ascii_case("iam:PassedToService") {
                continue;
            }
            let op = op.to_ascii_lowercase();
            if !op.starts_with("string") && !op.starts_with("forany") && !op.starts_with("forall") {
                continue;
            }
            let negated = op.contains("not");
            let hit = values.iter().any(|v| matches(v, service));
            if hit == negated {
                return false;
            }
        }
    }
    true
}

/// A set of statements evaluated together (the identity policies, or the boundary).
#[derive(Debug, Default)]
pub(super) struct PolicySet<'a> {
    pub stmts: Vec<Stmt<'a>>,
}

/// What a set grants for one action.
#[derive(Debug, Clone, Default)]
pub(super) struct Grant<'a> {
    pub sources: Vec<&'a str>,
    /// Every granting statement carries a condition.
    pub conditional: bool,
    /// Every granting statement names only specific resources (no wildcard, no NotResource):
    /// the right holds on those resources alone, which may not be abusable.
    pub limited: bool,
}

/// A condition no non-human caller can meet: multi-factor authentication required outright
/// (`Bool aws:MultiFactorAuthPresent true`, a `NumericLessThan aws:MultiFactorAuthAge`). A
/// session without MFA lacks the key, so the condition is false (the `…IfExists` forms pass).
pub(super) fn needs_mfa(s: &Stmt<'_>) -> bool {
    s.conditions.iter().any(|(op, keys)| {
        let op = op.to_ascii_lowercase();
        keys.iter().any(|(key, values)| {
            let key = key.to_ascii_lowercase();
            (op == "bool"
                && key == "aws:multifactorauthpresent"
                && values.iter().any(|v| v.eq_ignore_ascii_case("true")))
                || (op.starts_with("numericless") && key == "aws:multifactorauthage")
        })
    })
}

/// Names only specific resources: no wildcard, no NotResource, not empty.
pub(super) fn specific_resources(s: &Stmt<'_>) -> bool {
    s.not_resources.is_empty()
        && !s.resources.is_empty()
        && s.resources
            .iter()
            .all(|r| !r.contains('*') && !r.contains('?'))
}

impl<'a> PolicySet<'a> {
    fn push_doc(&mut self, doc: &'a PolicyDoc, source: &'a str) {
        self.stmts
            .extend(doc.statements.iter().map(|s| Stmt::new(s, source)));
    }

    fn allows(&self) -> impl Iterator<Item = &Stmt<'a>> {
        self.stmts.iter().filter(|s| s.allow)
    }

    pub fn denied(&self, action: &str) -> bool {
        self.stmts
            .iter()
            .any(|s| s.is_removing_deny() && s.matches_action(action))
    }

    /// The grant of a literal action in this set alone.
    pub fn grant(&self, action: &str, target: Target) -> Option<Grant<'a>> {
        let mut g: Option<Grant<'a>> = None;
        for s in self.allows() {
            if s.matches_action(action) && target.admits(s) {
                let entry = g.get_or_insert(Grant {
                    sources: Vec::new(),
                    conditional: true,
                    limited: true,
                });
                if !entry.sources.contains(&s.source) {
                    entry.sources.push(s.source);
                }
                entry.conditional &= s.conditional;
                entry.limited &= specific_resources(s);
            }
        }
        if g.is_some() && self.denied(action) {
            return None;
        }
        g
    }

    /// Whether an action pattern `q` is wholly removed by unconditional Denies on `*`.
    fn pattern_denied(&self, q: &str) -> bool {
        self.stmts
            .iter()
            .any(|d| d.is_removing_deny() && d.covers_pattern(q))
    }

    /// Whether a narrowing Deny touches some action of `q`.
    fn pattern_narrowed(&self, q: &str) -> bool {
        self.stmts
            .iter()
            .any(|d| d.is_narrowing_deny() && d.intersects_pattern(q))
    }

    /// Allow statements on every resource whose actions include all of `q`.
    fn full_allows<'s>(&'s self, q: &'s str) -> impl Iterator<Item = &'s Stmt<'a>> + 's {
        self.allows()
            .filter(move |s| s.all_resources && s.covers_pattern(q))
    }

    /// `q` (a pattern such as `s3:*` or `*`) is allowed on every resource, not narrowed by a
    /// Deny.
    fn fully_allows(&self, q: &str) -> bool {
        self.full_allows(q).next().is_some() && !self.pattern_narrowed(q)
    }

    /// Literal service prefixes named by Allow patterns; and whether some Allow spans services
    /// not named (`*`, `*:Get*`, NotAction).
    fn services(&self) -> ServiceIndex<'_, 'a> {
        let mut idx = ServiceIndex {
            literal: BTreeMap::new(),
            unbounded: Vec::new(),
        };
        for s in self.allows() {
            if s.is_not_action() {
                idx.unbounded.push((None, s));
                continue;
            }
            for p in s.actions {
                match literal_service(p) {
                    Some(svc) => {
                        let granted = !self.pattern_denied(p)
                            && !s.not_actions.iter().any(|n| action_covers(n, p));
                        let e = idx.literal.entry(svc.to_ascii_lowercase()).or_insert(false);
                        *e |= granted;
                    }
                    None => idx.unbounded.push((Some(p.as_str()), s)),
                }
            }
        }
        idx
    }

    /// Whether some action of service `svc` is granted by an unbounded Allow.
    fn unbounded_grants(&self, idx: &ServiceIndex<'_, 'a>, svc: &str) -> bool {
        idx.unbounded.iter().any(|(p, s)| {
            let q = match p {
                None => format!("{svc}:*"),
                Some(p) => match p.split_once(':') {
                    None => format!("{svc}:*"),
                    Some((sp, ap)) if matches(sp, svc) => format!("{svc}:{ap}"),
                    Some(_) => return false,
                },
            };
            !s.not_actions.iter().any(|n| action_covers(n, &q)) && !self.pattern_denied(&q)
        })
    }

    /// Whether some unbounded Allow survives the Denies (the set grants "every service").
    fn unbounded_live(&self, idx: &ServiceIndex<'_, 'a>) -> bool {
        idx.unbounded
            .iter()
            .any(|(p, _)| !self.pattern_denied(p.unwrap_or("*")))
    }

    fn grants_service(&self, idx: &ServiceIndex<'_, 'a>, svc: &str) -> bool {
        idx.literal.get(svc).copied().unwrap_or(false) || self.unbounded_grants(idx, svc)
    }
}

struct ServiceIndex<'s, 'a> {
    /// Service → whether some pattern of it survives the Denies.
    literal: BTreeMap<String, bool>,
    /// Patterns whose service part is a wildcard (`None`: a NotAction statement).
    unbounded: Vec<(Option<&'a str>, &'s Stmt<'a>)>,
}

/// The service part of an action pattern, when it is literal (`s3` of `s3:Get*`).
fn literal_service(p: &str) -> Option<&str> {
    let (svc, _) = p.split_once(':')?;
    if svc.is_empty() || svc.contains(['*', '?']) {
        None
    } else {
        Some(svc)
    }
}

/// Identity policies and boundary of one principal, ready for queries.
#[derive(Debug)]
pub(super) struct Ctx<'a> {
    pub identity: PolicySet<'a>,
    pub boundary: Option<PolicySet<'a>>,
    /// The principal is a role (it has a trust policy): it can modify its own role policies.
    pub is_role: bool,
    /// Unresolved policies not recognised: privileges are incomplete.
    pub unrecognized: Vec<&'a str>,
    /// Whether there was anything to analyse.
    pub known: bool,
}

impl<'a> Ctx<'a> {
    pub fn new(p: &'a Privileges) -> Self {
        let mut identity = PolicySet::default();
        let mut known = false;
        for doc in &p.policies {
            match doc.kind {
                PolicyKind::Managed | PolicyKind::Inline | PolicyKind::Group => {
                    identity.push_doc(doc, &doc.source);
                    known = true;
                }
                // Not grants: a boundary or trust policy misfiled among the grants, or Kubernetes
                // RBAC rules (analysed elsewhere).
                PolicyKind::Boundary | PolicyKind::Trust | PolicyKind::Rbac => {}
            }
        }
        let mut boundary = p.permissions_boundary.as_ref().map(|b| {
            let mut set = PolicySet::default();
            set.push_doc(b, &b.source);
            set
        });
        let mut unrecognized = Vec::new();
        for u in &p.unresolved_policies {
            known = true;
            if let Some(arn) = u.strip_prefix("boundary:") {
                match known_managed_policy(arn) {
                    Some(doc) if boundary.is_none() => {
                        let mut set = PolicySet::default();
                        set.push_doc(doc, arn);
                        boundary = Some(set);
                    }
                    Some(_) => {}
                    // An unknown boundary is ignored: privileges may be over-reported, never
                    // under-reported.
                    None => unrecognized.push(u.as_str()),
                }
            } else {
                match known_managed_policy(u) {
                    Some(doc) => identity.push_doc(doc, u),
                    None => unrecognized.push(u.as_str()),
                }
            }
        }
        known |= p.trust.is_some() || p.permissions_boundary.is_some();
        Self {
            identity,
            boundary,
            is_role: p.trust.is_some(),
            unrecognized,
            known,
        }
    }

    /// The effective grant of a literal action (identity ∧ boundary).
    pub fn grant(&self, action: &str, target: Target) -> Option<Grant<'a>> {
        let mut g = self.identity.grant(action, target)?;
        if let Some(b) = &self.boundary {
            let bg = b.grant(action, target)?;
            g.conditional |= bg.conditional;
        }
        Some(g)
    }

    /// Admin: an unconditional Allow of `*` on `*`, no narrowing Deny, boundary alike.
    /// Returns (admin, admin sources, conditional-only admin).
    pub fn admin(&self) -> (bool, Vec<String>, bool) {
        let star_stmts: Vec<&Stmt<'a>> = self
            .identity
            .full_allows("*")
            .filter(|s| !s.is_not_action())
            .collect();
        if star_stmts.is_empty() || self.identity.pattern_narrowed("*") {
            return (false, Vec::new(), false);
        }
        let uncond: Vec<&Stmt<'a>> = star_stmts
            .iter()
            .copied()
            .filter(|s| !s.conditional)
            .collect();
        let mut boundary_uncond = true;
        if let Some(b) = &self.boundary {
            let b_star: Vec<&Stmt<'a>> =
                b.full_allows("*").filter(|s| !s.is_not_action()).collect();
            if b_star.is_empty() || b.pattern_narrowed("*") {
                return (false, Vec::new(), false);
            }
            boundary_uncond = b_star.iter().any(|s| !s.conditional);
        }
        if uncond.is_empty() || !boundary_uncond {
            return (false, Vec::new(), true);
        }
        let mut sources: Vec<String> = uncond.iter().map(|s| s.source.to_string()).collect();
        sources.sort();
        sources.dedup();
        (true, sources, false)
    }

    /// Services granted with a service-wide wildcard on every resource; `*` for an unbounded
    /// one. Also returns the action patterns carved out of the `*` (NotAction, Deny).
    pub fn wildcard_services(&self) -> (Vec<String>, Vec<String>) {
        let mut out = BTreeSet::new();
        let mut candidates = BTreeSet::new();
        let sets: Vec<&PolicySet<'a>> = std::iter::once(&self.identity)
            .chain(self.boundary.as_ref())
            .collect();
        for set in &sets {
            for s in set.allows() {
                for p in s.actions {
                    if let (Some(svc), Some((_, "*"))) = (literal_service(p), p.split_once(':')) {
                        candidates.insert(svc.to_ascii_lowercase());
                    }
                }
            }
        }
        for svc in candidates {
            let q = format!("{svc}:*");
            if sets.iter().all(|set| set.fully_allows(&q)) {
                out.insert(svc);
            }
        }
        // The unbounded wildcard: `*` or NotAction on every resource, in every set.
        let mut exceptions = BTreeSet::new();
        let mut star = true;
        for set in &sets {
            let unbounded: Vec<&Stmt<'a>> = set
                .allows()
                .filter(|s| {
                    s.all_resources
                        && (s.is_not_action()
                            || (s.not_actions.is_empty()
                                && s.actions.iter().any(|p| action_covers(p, "*"))))
                })
                .collect();
            let everything_denied = set
                .stmts
                .iter()
                .any(|d| d.is_narrowing_deny() && (d.is_not_action() || d.covers_pattern("*")));
            if unbounded.is_empty() || everything_denied {
                star = false;
                break;
            }
            if unbounded.iter().all(|s| s.is_not_action()) {
                // Exclusions shared by every NotAction statement and not re-granted by a
                // positive Allow on every resource.
                for n in unbounded.iter().flat_map(|s| s.not_actions.iter()) {
                    let excluded_everywhere = unbounded
                        .iter()
                        .all(|s| s.not_actions.iter().any(|m| action_covers(m, n)));
                    let regranted = set.allows().any(|s| {
                        s.all_resources
                            && !s.is_not_action()
                            && s.actions.iter().any(|p| action_covers(p, n))
                    });
                    if excluded_everywhere && !regranted {
                        exceptions.insert(n.clone());
                    }
                }
            }
            for d in set.stmts.iter().filter(|d| d.is_narrowing_deny()) {
                exceptions.extend(d.actions.iter().cloned());
            }
        }
        if star {
            out.insert("*".to_string());
        } else {
            exceptions.clear();
        }
        (out.into_iter().collect(), exceptions.into_iter().collect())
    }

    /// Service prefixes with at least one granted action; `*` when every service has some.
    pub fn granted_services(&self) -> Vec<String> {
        let id_idx = self.identity.services();
        let b_idx = self.boundary.as_ref().map(|b| (b, b.services()));
        let mut candidates: BTreeSet<&str> = id_idx.literal.keys().map(String::as_str).collect();
        if let Some((_, bi)) = &b_idx {
            candidates.extend(bi.literal.keys().map(String::as_str));
        }
        let mut out: Vec<String> = candidates
            .into_iter()
            .filter(|svc| {
                self.identity.grants_service(&id_idx, svc)
                    && match &b_idx {
                        None => true,
                        Some((b, bi)) => b.grants_service(bi, svc),
                    }
            })
            .map(str::to_string)
            .collect();
        let star = self.identity.unbounded_live(&id_idx)
            && match &b_idx {
                None => true,
                Some((b, bi)) => b.unbounded_live(bi),
            };
        if star {
            out.insert(0, "*".to_string());
        }
        out
    }
}
