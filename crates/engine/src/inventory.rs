//! The resolved inventory: identities from inventory files and from the logs, merged by id.

use crate::classify;
use crate::resolve::{resolve, Resolved};
use std::collections::HashMap;
use tripline_model::{Event, Identity, IdentityKind, Provenance, Timestamp};

/// Identities keyed by id, built from inventory and from events.
#[derive(Debug, Default)]
pub struct IdentityStore {
    identities: HashMap<String, Identity>,
    /// Position of each credential in its identity's list (roles collect a session per hour:
    /// a linear search per event would grow with retention).
    cred_pos: HashMap<String, HashMap<Box<str>, usize>>,
    /// Events per identity that a person made (console, browser, SSO).
    human_events: HashMap<String, u64>,
    /// Events whose record does not name a caller Tripline can attribute (counted, not lost).
    pub unattributed_events: u64,
}

fn widen(first: &mut Option<Timestamp>, last: &mut Option<Timestamp>, t: Timestamp) {
    if first.is_none_or(|f| t < f) {
        *first = Some(t);
    }
    if last.is_none_or(|l| t > l) {
        *last = Some(t);
    }
}

impl IdentityStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.identities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    pub fn get(&self, id: &str) -> Option<&Identity> {
        self.identities.get(id)
    }

    /// Attributes one event to its identity and credential. Returns the identity id.
    pub fn observe(&mut self, ev: &Event) -> Option<&str> {
        let Some(r) = resolve(&ev.actor, ev.user_agent.as_deref()) else {
            self.unattributed_events += 1;
            return None;
        };
        let Resolved {
            id,
            name,
            kind,
            account,
            credential,
            human_evidence,
        } = r;
        let ident = self.identities.entry(id).or_insert_with_key(|id| {
            let mut i = Identity::new(id.clone(), name, kind);
            i.kind_from = Provenance::Logs;
            i.account = account;
            i
        });
        // Calls a person made (console, browser): counted; `finish` decides by majority, so a
        // key mostly used by software stays non-human when someone signs in with it (that is
        // the NHI10 "human use of a non-human identity" signal, not a change of kind).
        if human_evidence {
            match self.human_events.get_mut(&ident.id) {
                Some(n) => *n += 1,
                None => {
                    self.human_events.insert(ident.id.clone(), 1);
                }
            }
        }
        ident.events += 1;
        widen(&mut ident.first_seen, &mut ident.last_seen, ev.time);
        if let Some((cid, ckind)) = credential {
            // Looked up by reference: the identity's id is copied only the first time.
            if !self.cred_pos.contains_key(&ident.id) {
                let built = ident
                    .credentials
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.id.as_str().into(), i))
                    .collect();
                self.cred_pos.insert(ident.id.clone(), built);
            }
            let Some(index) = self.cred_pos.get_mut(&ident.id) else {
                return Some(ident.id.as_str());
            };
            let pos = match index.get(cid.as_str()) {
                Some(&p) => p,
                None => {
                    ident
                        .credentials
                        .push(tripline_model::Credential::new(cid.clone(), ckind));
                    let p = ident.credentials.len() - 1;
                    index.insert(cid.as_str().into(), p);
                    p
                }
            };
            let Some(cred) = ident.credentials.get_mut(pos) else {
                return Some(ident.id.as_str());
            };
            cred.events += 1;
            widen(&mut cred.first_seen, &mut cred.last_seen, ev.time);
            if cred.last_used.is_none_or(|l| ev.time > l) {
                cred.last_used = Some(ev.time);
                cred.last_used_region.clone_from(&ev.region);
                cred.last_used_service = Some(ev.service.clone());
            }
        }
        Some(ident.id.as_str())
    }

    /// Adds an identity read from inventory (authorization details, credential report, RBAC),
    /// merging it with what the logs already showed.
    pub fn merge(&mut self, inv: Identity) {
        // Credentials may be added below: the position index is rebuilt on next use.
        self.cred_pos.remove(&inv.id);
        match self.identities.get_mut(&inv.id) {
            None => {
                self.identities.insert(inv.id.clone(), inv);
            }
            Some(cur) => {
                let logs_say_human =
                    cur.kind == IdentityKind::Human && cur.kind_from == Provenance::Logs;
                if !logs_say_human
                    && cur.kind_from != Provenance::OwnersFile
                    && inv.kind_from != Provenance::Inferred
                {
                    cur.kind = inv.kind;
                    cur.kind_from = inv.kind_from;
                }
                cur.in_inventory |= inv.in_inventory;
                cur.created = cur.created.or(inv.created);
                cur.account = cur.account.take().or(inv.account);
                cur.tags.extend(inv.tags);
                let p = inv.privileges;
                cur.privileges.policies.extend(p.policies);
                cur.privileges.groups.extend(p.groups);
                cur.privileges
                    .unresolved_policies
                    .extend(p.unresolved_policies);
                if p.permissions_boundary.is_some() {
                    cur.privileges.permissions_boundary = p.permissions_boundary;
                }
                if p.trust.is_some() {
                    cur.privileges.trust = p.trust;
                }
                for c in inv.credentials {
                    match cur.credentials.iter_mut().find(|x| x.id == c.id) {
                        Some(x) => {
                            x.active = c.active.or(x.active);
                            x.created = c.created.or(x.created);
                            x.last_rotated = c.last_rotated.or(x.last_rotated);
                            if c.last_used > x.last_used {
                                x.last_used = c.last_used;
                                x.last_used_region = c.last_used_region;
                                x.last_used_service = c.last_used_service;
                            }
                        }
                        None => cur.credentials.push(c),
                    }
                }
                if cur.owner.is_none() {
                    cur.owner = inv.owner;
                }
            }
        }
    }

    /// Applies `f` to every identity (owners file, enrichment).
    pub fn for_each_mut(&mut self, f: impl FnMut(&mut Identity)) {
        self.identities.values_mut().for_each(f);
    }

    /// Infers classes still unset, and returns the identities sorted by id.
    pub fn finish(self) -> Vec<Identity> {
        let mut out: Vec<Identity> = self.identities.into_values().collect();
        for i in &mut out {
            let human = self.human_events.get(&i.id).copied().unwrap_or(0);
            if i.kind.is_nhi() && i.kind_from != Provenance::OwnersFile && human * 2 > i.events {
                i.kind = IdentityKind::Human;
                i.kind_from = Provenance::Logs;
            }
            classify::infer(i);
            i.credentials.sort_by(|a, b| a.id.cmp(&b.id));
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}
