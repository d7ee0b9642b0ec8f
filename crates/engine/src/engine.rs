//! The risk engine: events in (any order), identities and inventory merged, then one pass in
//! event-time order that learns baselines and raises signals, then scoring.
//!
//! Events are kept as small interned records (about 60 bytes plus the event id) between reading
//! and the time-ordered pass, so files in any order (an S3 tree walks region by region) are
//! scored as if streamed in time order. A detection may only use what was known at its event's
//! time: the pass never looks ahead.

use crate::baseline::{
    Baseline, Recent, SmallSet, F_DENIED, F_NEW_ACTION, F_NEW_TRANSITION, F_READ,
};
use crate::catalog::{self, SignalDef, Tactic};
use crate::detect::{self, DetectConfig, Finding, Observation, Who, Workload};
use crate::features::{self, NetClass};
use crate::intern::{IdArena, Interner};
use crate::inventory::IdentityStore;
use crate::netinfo::AwsRanges;
use crate::privilege;
use crate::score;
use std::collections::{BTreeMap, HashMap};
use tripline_model::{
    Assessment, CredentialKind, Event, Identity, IdentityClass, IdentityKind, Level, Outcome,
    Severity, Signal, Timestamp,
};

/// Tunables. Every threshold the engine uses is here, with its default.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// An identity's baseline learns for this long (and `min_learning_events`) before novelty counts.
    pub learning_days: f64,
    pub min_learning_events: u32,
    /// Behaviour signals older than this (before the scoring time) no longer count.
    pub behaviour_window_days: f64,
    pub key_max_age_days: i64,
    pub unused_key_days: i64,
    pub dormancy_days: i64,
    /// Denied calls within `burst_window_secs` that make a burst.
    pub denied_burst: usize,
    /// Distinct read actions within `burst_window_secs` that make an enumeration burst.
    pub enumeration_actions: usize,
    pub burst_window_secs: u32,
    /// Novel action transitions within the recent window that make an improbable sequence.
    pub rare_transitions: usize,
    /// How long after a new network/agent/region its later events still join the same signal.
    pub follow_secs: i64,
    /// Most event ids kept per signal in reports.
    pub max_event_ids: usize,
    /// Thresholds of the component detectors (`detect`).
    pub detect: DetectConfig,
    /// Posture ceiling and hostile-technique floors (`score::Calibration`).
    pub calibration: score::Calibration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            learning_days: 7.0,
            min_learning_events: 20,
            behaviour_window_days: 14.0,
            key_max_age_days: 90,
            unused_key_days: 90,
            dormancy_days: 30,
            denied_burst: 5,
            enumeration_actions: 10,
            burst_window_secs: 600,
            rare_transitions: 6,
            follow_secs: 86_400,
            max_event_ids: 50,
            detect: DetectConfig::default(),
            calibration: score::Calibration::default(),
        }
    }
}

const FL_DENIED: u16 = 1;
const FL_FAILURE: u16 = 2;
const FL_READ: u16 = 4;
const FL_CONSOLE: u16 = 8;
const FL_DESKTOP: u16 = 16;
const FL_LONG_KEY: u16 = 64;
const FL_OTHER_TARGET: u16 = 128;
const FL_SESSION: u16 = 256;
/// A public address inside AWS's published ranges.
const FL_AWS_CLOUD: u16 = 512;
/// A public address known to be outside AWS (ranges loaded, not in them).
const FL_OUTSIDE_AWS: u16 = 1024;
/// An AWS service made the call for the caller (`invokedBy`).
const FL_VIA_SERVICE: u16 = 2048;

/// Follow-up kind: later events of the same credential and client family.
const FOLLOW_SESSION: u8 = 3;

/// One event, interned.
#[derive(Debug, Clone, Copy)]
struct Compact {
    t: i64,
    seq: u32,
    ident: u32,
    action: u32,
    service: u32,
    net_fine: u32,
    net_coarse: u32,
    agent: u32,
    region: u32,
    account: u32,
    cred: u32,
    /// Techniques read from the request (`Techniques` bits).
    tech: u32,
    /// Hash of the resource acted on (0: none named).
    resource: u32,
    flags: u16,
    net_class: u8,
    /// `detect::Workload` as a byte.
    workload: u8,
}

/// A detection as it happens: what a streaming consumer (backtest, server) sees.
#[derive(Debug, Clone)]
pub struct Detection {
    pub identity: u32,
    pub time: Timestamp,
    pub code: &'static str,
    pub severity: Severity,
    /// Which signal of that code (e.g. which sensitive action); 0 when one per identity.
    pub key: u32,
    /// Index of the event in arrival order (see [`EventIndex`]).
    pub event: u32,
}

/// Every event's id, identity and time, in arrival order: what a replay needs to join labels.
#[derive(Debug, Default)]
pub struct EventIndex {
    pub ids: IdArena,
    pub identity: Vec<u32>,
    pub time: Vec<i64>,
}

#[derive(Debug, Default)]
struct Acc {
    def: Option<&'static SignalDef>,
    severity: Option<Severity>,
    base: String,
    values: Vec<String>,
    events: Vec<u32>,
    occurrences: u64,
    first: i64,
    last: i64,
    last_event: Option<u32>,
    /// The flagged call later became part of the identity's mature routine: learning-period noise.
    routine_later: bool,
}

/// Per-identity state during the pass.
#[derive(Debug, Default)]
struct Run {
    b: Baseline,
    /// (feature kind, value, until, signal key) for follow-up events of a new feature.
    fresh: Vec<(u8, u32, i64, (&'static str, u32))>,
    new_actions_today: (i64, u32),
    /// Last action per session credential, for the sequence model.
    prev_by_cred: HashMap<u32, u32>,
    accs: BTreeMap<(&'static str, u32), Acc>,
    /// (last day, distinct days) with successful privilege-escalation-class calls: a deployer
    /// that writes IAM every day has made it routine.
    esc_days: (i64, u8),
}

/// A long-lived key's consumers, for the sharing check.
#[derive(Debug, Default)]
struct CredRun {
    nets: SmallSet<8>,
    agents: SmallSet<6>,
    accounts: SmallSet<4>,
    /// Bit 2: shared across accounts reported; bit 4: shared by consumers reported.
    flagged: u8,
}

/// Per-identity context for detection.
#[derive(Debug, Clone)]
struct Ctx {
    kind: IdentityKind,
    class: IdentityClass,
    nhi_declared: bool,
    intent_services: Vec<u32>,
    privilege_known: bool,
    /// Environment from the owners file, interned.
    env: u32,
    /// The role can only be assumed by an AWS compute service: every session is that workload's.
    trusted_workload: Workload,
}

/// An identity's privilege analysis, done once per scan (IAM evaluation is the costly part).
#[derive(Debug)]
pub struct Analysis {
    pub iam: privilege::PrivilegeFindings,
    pub rbac: privilege::rbac::RbacFindings,
    /// Some policy (IAM or RBAC) was there to analyse: privilege is known, not assumed.
    pub known: bool,
}

impl Analysis {
    pub fn of(ident: &Identity) -> Self {
        let iam = privilege::analyse(&ident.privileges);
        let rbac = privilege::rbac::rbac_findings(&ident.privileges);
        let known = iam.known
            || ident
                .privileges
                .policies
                .iter()
                .any(|p| p.kind == tripline_model::PolicyKind::Rbac);
        Self { iam, rbac, known }
    }
}

/// What a scan concluded.
#[derive(Debug)]
pub struct Report {
    pub identities: Vec<Identity>,
    /// Same order as `identities`.
    pub assessments: Vec<Assessment>,
    pub events: u64,
    pub unattributed_events: u64,
    pub as_of: Option<Timestamp>,
    /// Identity ids by the index used in [`Detection::identity`].
    pub identity_index: Vec<String>,
    /// Present when [`Engine::index_events`] was set.
    pub event_index: Option<EventIndex>,
    /// Standing signals and whether privilege is known, by identity index (with `index_events`).
    pub standing: Vec<(Vec<Signal>, bool)>,
    /// Scanner findings that matched no credential seen in logs or inventory.
    pub unmatched_leaks: Vec<tripline_model::Leak>,
}

/// The engine for one scan or replay.
#[derive(Debug, Default)]
pub struct Engine {
    pub config: EngineConfig,
    store: IdentityStore,
    ident_index: HashMap<String, u32>,
    ident_ids: Vec<String>,
    strings: Interner,
    ids: IdArena,
    events: Vec<Compact>,
    seq: u32,
    /// Keep every event's id, identity and time for a replay (costs ~12 bytes per event more).
    pub index_events: bool,
    /// Secrets found by scanners, by AWS key id and by fingerprint.
    leaks: Vec<tripline_model::Leak>,
    /// What the catalog knows of each interned action, looked up once per distinct action
    /// rather than once per event (indexed by the action's interned id).
    action_facts: Vec<Option<ActionFacts>>,
    /// AWS's published address ranges, when given: "outside AWS" becomes a fact.
    aws_ranges: Option<AwsRanges>,
    /// Session keys an AWS service was seen requesting (interned key → issuance time).
    service_issued: HashMap<u32, i64>,
}

/// The catalog's view of one action name.
#[derive(Debug, Clone, Copy)]
struct ActionFacts {
    sensitive: Option<&'static catalog::Sensitive>,
    scale_marker: bool,
}

fn class_byte(c: NetClass) -> u8 {
    match c {
        NetClass::Public => 0,
        NetClass::Private => 1,
        NetClass::AwsService => 2,
        NetClass::Unknown => 3,
    }
}

const KNOWN_SERVICES: &[&str] = &[
    "s3",
    "dynamodb",
    "bedrock",
    "lambda",
    "sqs",
    "sns",
    "kms",
    "secretsmanager",
    "ec2",
    "iam",
    "sts",
    "logs",
    "monitoring",
    "cloudwatch",
    "athena",
    "glue",
    "ecs",
    "ecr",
    "eks",
    "rds",
    "ssm",
    "cloudformation",
    "states",
    "events",
    "kinesis",
    "firehose",
    "sagemaker",
    "es",
    "opensearch",
    "elasticloadbalancing",
    "autoscaling",
    "route53",
    "apigateway",
    "execute-api",
    "codebuild",
    "codepipeline",
    "codedeploy",
    "comprehend",
    "textract",
    "rekognition",
    "translate",
    "polly",
    "transcribe",
    "ses",
    "xray",
    "k8s",
];

impl Engine {
    /// Interns an action name and, the first time it is seen, what the catalog says of it.
    fn action_id(&mut self, action: &str) -> u32 {
        let id = self.strings.id(action);
        let i = id as usize;
        if self.action_facts.len() <= i {
            self.action_facts.resize(i + 1, None);
        }
        if let Some(slot @ None) = self.action_facts.get_mut(i) {
            *slot = Some(ActionFacts {
                sensitive: catalog::sensitive(action),
                scale_marker: catalog::is_scale_marker(action),
            });
        }
        id
    }

    fn facts(&self, action: u32) -> Option<ActionFacts> {
        self.action_facts.get(action as usize).copied().flatten()
    }

    pub fn new(config: EngineConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Loads AWS's published address ranges (`ip-ranges.json`).
    pub fn set_aws_ranges(&mut self, ranges: AwsRanges) {
        self.aws_ranges = Some(ranges);
    }

    /// Adds a secret-scanner finding; it is matched to credentials by key id or fingerprint.
    pub fn add_leak(&mut self, leak: tripline_model::Leak) {
        self.leaks.push(leak);
    }

    /// Scanner findings that matched no credential of any identity (shown, not dropped).
    pub fn unmatched_leaks(&self, identities: &[Identity]) -> Vec<tripline_model::Leak> {
        self.leaks
            .iter()
            .filter(|l| {
                !identities
                    .iter()
                    .any(|i| i.credentials.iter().any(|c| leak_matches(l, &c.id)))
            })
            .cloned()
            .collect()
    }

    /// Adds an identity read from inventory.
    pub fn merge_inventory(&mut self, identity: Identity) {
        self.store.merge(identity);
    }

    /// Applies `f` to every identity (owners file).
    pub fn for_each_identity(&mut self, f: impl FnMut(&mut Identity)) {
        self.store.for_each_mut(f);
    }

    pub fn event_id(&self, i: u32) -> &str {
        self.ids.get(i)
    }

    pub fn identity_id(&self, i: u32) -> &str {
        self.ident_ids.get(i as usize).map_or("", String::as_str)
    }

    pub fn events(&self) -> usize {
        self.events.len()
    }

    /// Takes one event: attributes it and keeps a compact copy for the time-ordered pass.
    pub fn ingest(&mut self, ev: &Event) {
        let Some(id) = self.store.observe(ev) else {
            return;
        };
        let ident = match self.ident_index.get(id) {
            Some(&i) => i,
            None => {
                let i = u32::try_from(self.ident_ids.len()).unwrap_or(u32::MAX);
                self.ident_ids.push(id.to_string());
                self.ident_index.insert(id.to_string(), i);
                i
            }
        };
        let net = features::network(ev.source_ip.as_deref());
        let agent = features::agent(ev.user_agent.as_deref());
        let mut flags = 0u16;
        if net.class == NetClass::Public {
            if let (Some(ranges), Some(ip)) = (&self.aws_ranges, ev.source_ip.as_deref()) {
                flags |= if ranges.contains_str(ip) {
                    FL_AWS_CLOUD
                } else {
                    FL_OUTSIDE_AWS
                };
            }
        }
        if ev.actor.invoked_by.is_some() {
            flags |= FL_VIA_SERVICE;
        }
        if let Some(issued) = ev.issued.as_ref().filter(|i| i.for_service.is_some()) {
            let k = self.strings.id(&issued.access_key_id);
            self.service_issued.entry(k).or_insert(ev.time.0);
        }
        match ev.outcome {
            Outcome::Denied => flags |= FL_DENIED,
            Outcome::Failure => flags |= FL_FAILURE,
            Outcome::Success => {}
        }
        if catalog::is_read_call(&ev.action) {
            flags |= FL_READ;
        }
        if agent.console {
            flags |= FL_CONSOLE;
        }
        if agent.desktop() {
            flags |= FL_DESKTOP;
        }
        let key = ev.actor.access_key_id.as_deref();
        if key.is_some_and(|k| k.starts_with("AKIA")) {
            flags |= FL_LONG_KEY;
        }
        if key.is_some_and(|k| k.starts_with("ASIA")) {
            flags |= FL_SESSION;
        }
        if let (Some(res), Some(me)) = (ev.resource.as_deref(), ev.actor.user_name.as_deref()) {
            if let Some(target) = res.strip_prefix("user/") {
                if target != me {
                    flags |= FL_OTHER_TARGET;
                }
            }
        }
        // A Kubernetes service account's token (its credential id when the audit log names
        // it), interned without a copy per event; other callers' AWS key id.
        let cred =
            if ev.actor.principal_type == Some(tripline_model::PrincipalType::K8sServiceAccount) {
                match ev.actor.principal_id.as_deref() {
                    Some(token) => self.strings.id(token),
                    None => self.strings.id(&format!("token:{id}")),
                }
            } else {
                self.strings.opt(key)
            };
        let c = Compact {
            t: ev.time.0,
            seq: self.seq,
            ident,
            action: self.action_id(&ev.action),
            service: self.strings.id(&ev.service),
            net_fine: self.strings.id(&net.fine),
            net_coarse: self.strings.id(&net.coarse),
            agent: self.strings.id(&agent.family),
            region: self.strings.opt(ev.region.as_deref()),
            account: self.strings.opt(ev.account.as_deref()),
            cred,
            tech: ev.techniques.bits(),
            resource: ev.resource.as_deref().map_or(0, features::hash),
            flags,
            net_class: class_byte(net.class),
            workload: workload_of(ev) as u8,
        };
        self.seq = self.seq.wrapping_add(1);
        self.ids.push(&ev.id);
        self.events.push(c);
    }

    fn contexts(&mut self, identities: &[Identity], analysis: &[Analysis]) -> Vec<Ctx> {
        let mut out = Vec::with_capacity(self.ident_ids.len());
        for id in &self.ident_ids {
            let pos = identities.binary_search_by(|i| i.id.as_str().cmp(id)).ok();
            let found = pos.and_then(|p| Some((identities.get(p)?, analysis.get(p)?)));
            let Some((ident, an)) = found else {
                out.push(Ctx {
                    kind: IdentityKind::ApiKey,
                    class: IdentityClass::Unclassified,
                    nhi_declared: false,
                    intent_services: vec![],
                    privilege_known: false,
                    env: 0,
                    trusted_workload: Workload::Unknown,
                });
                continue;
            };
            let intent_services = ident
                .intent
                .as_deref()
                .map(|text| {
                    text.to_ascii_lowercase()
                        .split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                        .filter(|w| KNOWN_SERVICES.contains(w))
                        .map(|w| {
                            self.strings
                                .id(if w == "cloudwatch" { "monitoring" } else { w })
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(Ctx {
                kind: ident.kind,
                class: ident.class,
                // Judged non-human (by the owners file, inventory, or the logs' majority).
                nhi_declared: ident.kind.is_nhi(),
                intent_services,
                privilege_known: an.known,
                env: self.strings.opt(ident.environment.as_deref()),
                trusted_workload: trusted_workload(ident),
            });
        }
        out
    }

    /// Runs the time-ordered pass and scores every identity as of `as_of` (default: the last
    /// event's time). `on_detection` sees each detection as it happens.
    pub fn assess(
        mut self,
        as_of: Option<Timestamp>,
        mut on_detection: impl FnMut(&Detection),
    ) -> Report {
        let unattributed = self.store.unattributed_events;
        let identities = std::mem::take(&mut self.store).finish();
        let analysis: Vec<Analysis> = identities.iter().map(Analysis::of).collect();
        let ctx = self.contexts(&identities, &analysis);
        // Before sorting, events are in arrival order: the order of the id arena.
        let event_index = self.index_events.then(|| EventIndex {
            ids: IdArena::default(),
            identity: self.events.iter().map(|e| e.ident).collect(),
            time: self.events.iter().map(|e| e.t).collect(),
        });
        self.events.sort_unstable_by_key(|e| (e.t, e.seq));
        let as_of = as_of.or_else(|| self.events.last().map(|e| Timestamp(e.t)));
        let mut runs: Vec<Run> = (0..self.ident_ids.len()).map(|_| Run::default()).collect();
        let mut creds: HashMap<u32, CredRun> = HashMap::new();
        let mut scale_markers: HashMap<u32, i64> = HashMap::new();
        // Coarse network → environments (bit per environment) of the identities calling from it.
        let mut net_envs: HashMap<u32, u16> = HashMap::new();
        let mut env_bits: HashMap<u32, u16> = HashMap::new();
        let events = std::mem::take(&mut self.events);
        let mut detectors = detect::registry(&self.config.detect);
        let mut findings: Vec<Finding> = Vec::new();
        for e in &events {
            // Events are sorted: the id arena is indexed by arrival order (`seq`).
            let idx = e.seq;
            let (Some(run), Some(cx)) = (runs.get_mut(e.ident as usize), ctx.get(e.ident as usize))
            else {
                continue;
            };
            // Follow-ups: later events that share a feature flagged as new join its signal.
            let follow: Vec<(&'static str, u32)> = run
                .fresh
                .iter()
                .filter(|(k, v, until, _)| {
                    e.t <= *until
                        && match *k {
                            0 => *v == e.net_coarse,
                            1 => *v == e.agent,
                            FOLLOW_SESSION => e.cred != 0 && *v == features::hash2(e.cred, e.agent),
                            _ => *v == e.region,
                        }
                })
                .map(|f| f.3)
                .collect();
            for key in follow {
                if let Some(acc) = run.accs.get_mut(&key).filter(|a| a.last_event != Some(idx)) {
                    acc.last_event = Some(idx);
                    if acc.events.len() < self.config.max_event_ids {
                        acc.events.push(idx);
                    }
                    acc.occurrences += 1;
                    acc.last = e.t;
                    if let Some(def) = acc.def {
                        on_detection(&Detection {
                            identity: e.ident,
                            time: Timestamp(e.t),
                            code: def.code,
                            severity: acc.severity.unwrap_or(def.severity),
                            key: key.1,
                            event: idx,
                        });
                    }
                }
            }

            let mut emit = |run: &mut Run,
                            def: &'static SignalDef,
                            key: u32,
                            sev: Severity,
                            base: String,
                            value: Option<String>| {
                let acc = run.accs.entry((def.code, key)).or_default();
                if acc.occurrences == 0 {
                    acc.def = Some(def);
                    acc.base = base;
                    acc.first = e.t;
                }
                acc.severity = Some(acc.severity.map_or(sev, |s| s.max(sev)));
                if let Some(v) = value {
                    if acc.values.len() < 5 && !acc.values.contains(&v) {
                        acc.values.push(v);
                    }
                }
                if acc.last_event == Some(idx) {
                    // Already joined this signal as a follow-up of the same event.
                    return;
                }
                acc.last_event = Some(idx);
                if acc.events.len() < self.config.max_event_ids {
                    acc.events.push(idx);
                }
                acc.occurrences += 1;
                acc.last = e.t;
                on_detection(&Detection {
                    identity: e.ident,
                    time: Timestamp(e.t),
                    code: def.code,
                    severity: sev,
                    key,
                    event: idx,
                });
            };
            let s = &self.strings;
            let cfg = &self.config;
            let action = s.get(e.action);
            let facts = self.facts(e.action);
            let sensitive = facts.and_then(|f| f.sensitive);
            if facts.is_some_and(|f| f.scale_marker) && e.flags & FL_DENIED == 0 {
                scale_markers.insert(e.account, e.t);
            }

            let b = &mut run.b;
            if b.events == 0 {
                b.first = e.t;
                b.hour = e.t.div_euclid(Timestamp::MS_PER_HOUR);
            }
            let mature = (e.t - b.first) as f64 >= cfg.learning_days * Timestamp::MS_PER_DAY as f64
                && b.events >= cfg.min_learning_events;
            let rel = u32::try_from((e.t - b.first) / 1000).unwrap_or(u32::MAX);
            let days = (e.t - b.first) / Timestamp::MS_PER_DAY;

            // Dormancy.
            if b.events >= 10 && e.t - b.last >= cfg.dormancy_days * Timestamp::MS_PER_DAY {
                let gap = (e.t - b.last) / Timestamp::MS_PER_DAY;
                // Back from the same place and client: a periodic job. From a network or client
                // the identity never used: the credential has a new holder.
                let elsewhere = !b.nets_coarse.contains(e.net_coarse)
                    || (e.agent != 0 && !b.agents.contains(e.agent));
                let (sev, base) = if elsewhere {
                    (
                        Severity::High,
                        format!("active again after {gap} days of silence, from a network or client it never used"),
                    )
                } else {
                    (
                        catalog::BEH_DORMANT_REACTIVATED.severity,
                        format!("active again after {gap} days of silence"),
                    )
                };
                emit(run, &catalog::BEH_DORMANT_REACTIVATED, 0, sev, base, None);
            }
            let b = &mut run.b;

            // Volume: roll the hour, then test the running count against the baseline.
            let hour = e.t.div_euclid(Timestamp::MS_PER_HOUR);
            if hour != b.hour {
                b.roll_hour(hour);
            }
            b.hour_count += 1;

            // Novelty of network, client, region, account (learned silently while immature).
            let mut novel_here = 0u16;
            let new_coarse = b.nets_coarse.insert(e.net_coarse);
            let new_fine = b.nets_fine.insert(e.net_fine);
            let new_agent = e.agent != 0 && b.agents.insert(e.agent);
            let new_region = e.region != 0 && b.regions.insert(e.region);
            let new_service = b.services.insert(e.service);
            b.accounts.insert(e.account);
            let new_action = b.actions.insert(e.action);
            // Sequences are followed per session (credential): parallel jobs of one role would
            // otherwise interleave into transitions nobody made.
            let prev = if e.cred != 0 {
                if run.prev_by_cred.len() > 64 {
                    run.prev_by_cred.clear();
                }
                run.prev_by_cred.insert(e.cred, e.action).unwrap_or(0)
            } else {
                b.prev_action
            };
            let transition = features::hash2(prev, e.action);
            let new_transition = prev != 0 && b.transitions.insert(transition);
            b.prev_action = e.action;
            let hist = format!("{days} days of history");
            if mature && new_coarse && e.net_class != 2 {
                novel_here += 1;
                let base = format!("calls from a network not seen in {hist}");
                let v = s.get(e.net_coarse).to_string();
                // Hosted CI runners come from large, changing address pools.
                let sev = if cx.class == IdentityClass::CiCd {
                    Severity::Low
                } else {
                    catalog::BEH_NEW_NETWORK.severity
                };
                emit(run, &catalog::BEH_NEW_NETWORK, 0, sev, base, Some(v));
                run.fresh.push((
                    0,
                    e.net_coarse,
                    e.t + cfg.follow_secs * 1000,
                    (catalog::BEH_NEW_NETWORK.code, 0),
                ));
            }
            // Environment isolation: a credential of one environment used from networks that
            // only identities of another environment use.
            // (Not for CI/CD: hosted runners serve every environment from the same pools.)
            if cx.env != 0 && e.net_class == 0 && cx.class != IdentityClass::CiCd {
                let next = u16::try_from(env_bits.len().min(15)).unwrap_or(15);
                let bit = 1u16 << *env_bits.entry(cx.env).or_insert(next);
                let mask = net_envs.entry(e.net_coarse).or_insert(0);
                if mature && new_coarse && *mask != 0 && *mask & bit == 0 {
                    let mut others: Vec<&str> = env_bits
                        .iter()
                        .filter(|(_, b)| *mask & (1 << **b) != 0)
                        .map(|(env, _)| s.get(*env))
                        .collect();
                    others.sort_unstable();
                    let base = format!(
                        "a {} credential used from networks of {} identities",
                        s.get(cx.env),
                        others.join("/")
                    );
                    emit(
                        run,
                        &catalog::EXP_SHARED_CREDENTIAL,
                        1,
                        Severity::High,
                        base,
                        Some(s.get(e.net_coarse).to_string()),
                    );
                    run.fresh.push((
                        0,
                        e.net_coarse,
                        e.t + cfg.follow_secs * 1000,
                        (catalog::EXP_SHARED_CREDENTIAL.code, 1),
                    ));
                }
                *mask |= bit;
            }
            if mature && new_agent {
                novel_here += 1;
                let sev = if e.flags & FL_DESKTOP != 0 {
                    Severity::Medium
                } else {
                    Severity::Low
                };
                let base = format!("a client not seen in {hist}");
                emit(
                    run,
                    &catalog::BEH_NEW_USER_AGENT,
                    0,
                    sev,
                    base,
                    Some(s.get(e.agent).to_string()),
                );
                run.fresh.push((
                    1,
                    e.agent,
                    e.t + cfg.follow_secs * 1000,
                    (catalog::BEH_NEW_USER_AGENT.code, 0),
                ));
            }
            if mature && new_region {
                novel_here += 1;
                let base = format!("calls in a region not used in {hist}");
                emit(
                    run,
                    &catalog::BEH_NEW_REGION,
                    0,
                    catalog::BEH_NEW_REGION.severity,
                    base,
                    Some(s.get(e.region).to_string()),
                );
                run.fresh.push((
                    2,
                    e.region,
                    e.t + cfg.follow_secs * 1000,
                    (catalog::BEH_NEW_REGION.code, 0),
                ));
            }
            if run.fresh.len() > 8 {
                // Keep the newest: expired entries go first, then the oldest live ones.
                run.fresh.retain(|f| f.2 >= e.t);
                let excess = run.fresh.len().saturating_sub(8);
                run.fresh.drain(..excess);
            }
            let agent_kind = cx.kind == IdentityKind::AiAgent;
            // Calling its own model is how an agent thinks, whatever its task.
            let own_model = catalog::is_model_invocation(action);
            let outside_intent = agent_kind
                && !own_model
                && !cx.intent_services.is_empty()
                && !cx.intent_services.contains(&e.service);
            if outside_intent || (agent_kind && !own_model && mature && new_service) {
                novel_here += 1;
                let base = if outside_intent {
                    "agent called a service outside its declared intent".to_string()
                } else {
                    format!("agent called a service not used in {hist}")
                };
                // Reaching for secrets, IAM or compute outside the task is worse than a new read;
                // the identity and secrets control plane is worse than another data service.
                let sev = if sensitive.is_some_and(|x| x.2 >= Severity::Medium) {
                    Severity::Critical
                } else if catalog::is_control_plane_service(s.get(e.service)) {
                    Severity::High
                } else {
                    Severity::Medium
                };
                emit(
                    run,
                    &catalog::BEH_AGENT_OUT_OF_INTENT,
                    0,
                    sev,
                    base,
                    Some(action.to_string()),
                );
            } else if mature && new_service {
                novel_here += 1;
                let base = format!("first use of a service in {hist}");
                emit(
                    run,
                    &catalog::BEH_NEW_SERVICE,
                    0,
                    catalog::BEH_NEW_SERVICE.severity,
                    base,
                    Some(s.get(e.service).to_string()),
                );
            }
            if mature && new_action {
                let day = e.t.div_euclid(Timestamp::MS_PER_DAY);
                if run.new_actions_today.0 != day {
                    run.new_actions_today = (day, 0);
                }
                run.new_actions_today.1 += 1;
                let sev = if run.new_actions_today.1 >= 10 {
                    Severity::Medium
                } else {
                    Severity::Low
                };
                let base = format!("actions never called in {hist}");
                emit(
                    run,
                    &catalog::BEH_NEW_ACTIONS,
                    0,
                    sev,
                    base,
                    Some(action.to_string()),
                );
            }
            // Interactive (human) use of a declared non-human identity.
            if cx.nhi_declared && e.flags & FL_CONSOLE != 0 {
                let base =
                    "a non-human identity used from the AWS console or a browser".to_string();
                emit(
                    run,
                    &catalog::BEH_INTERACTIVE_USE,
                    0,
                    catalog::BEH_INTERACTIVE_USE.severity,
                    base,
                    Some(action.to_string()),
                );
            }

            let b = &mut run.b;
            let mut rflags = 0u8;
            if e.flags & FL_DENIED != 0 {
                rflags |= F_DENIED;
                b.denied += 1;
            }
            if e.flags & FL_READ != 0 {
                rflags |= F_READ;
            }
            if mature && new_action {
                rflags |= F_NEW_ACTION;
            }
            if mature && new_transition {
                rflags |= F_NEW_TRANSITION;
            }
            b.push_recent(Recent {
                t: rel,
                action: e.action,
                service: e.service,
                flags: rflags,
            });
            b.hour_novel = b.hour_novel.saturating_add(novel_here);

            // Denied burst: several distinct calls refused within minutes.
            if rflags & F_DENIED != 0 {
                let mut acts: Vec<u32> = b
                    .recent_within(rel, cfg.burst_window_secs)
                    .filter(|r| r.flags & F_DENIED != 0)
                    .map(|r| r.action)
                    .collect();
                let n = acts.len();
                acts.sort_unstable();
                acts.dedup();
                // Many different calls refused: probing rights. The same call refused over and
                // over: a retry loop, or probing one right (weaker).
                let varied = acts.len() >= 3;
                if n >= cfg.denied_burst && varied || n >= 2 * cfg.denied_burst {
                    let chronic = b.events > 100 && f64::from(b.denied) / f64::from(b.events) > 0.3;
                    let sev = if chronic || !varied {
                        Severity::Low
                    } else {
                        Severity::High
                    };
                    let base = format!(
                        "{n} calls refused within {} minutes",
                        cfg.burst_window_secs / 60
                    );
                    emit(
                        run,
                        &catalog::BEH_DENIED_BURST,
                        0,
                        sev,
                        base,
                        Some(action.to_string()),
                    );
                }
            }
            let b = &run.b;
            // Enumeration: many distinct read calls across services in minutes.
            if rflags & F_READ != 0 {
                let window: Vec<&Recent> = b
                    .recent_within(rel, cfg.burst_window_secs / 2)
                    .filter(|r| r.flags & F_READ != 0)
                    .collect();
                let mut acts: Vec<u32> = window.iter().map(|r| r.action).collect();
                acts.sort_unstable();
                acts.dedup();
                let mut svcs: Vec<u32> = window.iter().map(|r| r.service).collect();
                svcs.sort_unstable();
                svcs.dedup();
                let novel = window
                    .iter()
                    .filter(|r| r.flags & F_NEW_ACTION != 0)
                    .count();
                // Without a baseline, tooling (terraform plan, deploys) also reads widely: only a
                // burst that is also being refused counts. With one, the reads must be new.
                let refused = window.iter().filter(|r| r.flags & F_DENIED != 0).count();
                if acts.len() >= cfg.enumeration_actions
                    && svcs.len() >= 2
                    && (if mature { novel >= 3 } else { refused >= 3 })
                {
                    let base = format!(
                        "{} distinct list/describe/get calls across {} services within {} minutes",
                        acts.len(),
                        svcs.len(),
                        cfg.burst_window_secs / 120
                    );
                    // Mostly refused: someone probing what a credential can do, not a tool
                    // that knows its rights.
                    let sev = if refused * 2 >= window.len() {
                        Severity::Critical
                    } else {
                        catalog::BEH_ENUMERATION.severity
                    };
                    emit(
                        run,
                        &catalog::BEH_ENUMERATION,
                        0,
                        sev,
                        base,
                        Some(s.get(e.service).to_string()),
                    );
                }
            }
            let b = &run.b;
            // Improbable sequence: many never-seen transitions between known actions in a row.
            if mature && rflags & F_NEW_TRANSITION != 0 {
                let novel = b
                    .recent_within(rel, 3600)
                    .filter(|r| r.flags & F_NEW_TRANSITION != 0)
                    .count();
                if novel >= cfg.rare_transitions {
                    let base =
                        format!("{novel} action transitions never seen in {hist}, within an hour");
                    // CI pipelines change their steps with every commit: a weak signal there.
                    emit(
                        run,
                        &catalog::BEH_RARE_SEQUENCE,
                        0,
                        if cx.class == IdentityClass::CiCd {
                            Severity::Low
                        } else {
                            catalog::BEH_RARE_SEQUENCE.severity
                        },
                        base,
                        Some(action.to_string()),
                    );
                }
            }
            let b = &run.b;
            // Volume spike, unless a deployment or capacity change explains it.
            if mature && b.active_hours >= 24 && b.hour_count as f32 >= b.spike_threshold() {
                let marker = scale_markers
                    .get(&e.account)
                    .is_some_and(|&t| e.t - t <= 2 * Timestamp::MS_PER_HOUR);
                let same_as_usual = b.hour_novel == 0;
                let mean = b.hour_mean;
                let count = b.hour_count;
                let scaling_class = matches!(
                    cx.class,
                    IdentityClass::CiCd | IdentityClass::Workload | IdentityClass::BatchJob
                );
                if same_as_usual && (marker || scaling_class) {
                    let base = format!(
                        "volume {count}/h vs usual {mean:.0}/h, explained: {}",
                        if marker {
                            "deployment or capacity change just before, same networks, clients and actions"
                        } else {
                            "same networks, clients and actions as usual (scale-up)"
                        }
                    );
                    emit(run, &catalog::CTX_SCALE_UP, 0, Severity::Info, base, None);
                } else {
                    let base = format!("volume {count}/h vs usual {mean:.0}/h, with new networks, clients or actions and no deployment to explain it");
                    emit(
                        run,
                        &catalog::BEH_VOLUME_SPIKE,
                        0,
                        catalog::BEH_VOLUME_SPIKE.severity,
                        base,
                        None,
                    );
                }
            }

            // Component detectors (`detect`).
            let techniques = tripline_model::Techniques::from_bits(e.tech);
            let obs = Observation {
                t: e.t,
                event: idx,
                identity: e.ident,
                who: Who {
                    kind: cx.kind,
                    class: cx.class,
                    nhi: cx.nhi_declared,
                },
                action,
                action_id: e.action,
                techniques,
                denied: e.flags & FL_DENIED != 0,
                resource: e.resource,
                net_class: net_class_of(e.net_class),
                net_coarse: e.net_coarse,
                net_coarse_text: s.get(e.net_coarse),
                net_fine: e.net_fine,
                agent: e.agent,
                agent_text: s.get(e.agent),
                desktop: e.flags & FL_DESKTOP != 0,
                cred: e.cred,
                cred_text: s.get(e.cred),
                session: e.flags & FL_SESSION != 0,
                long_key: e.flags & FL_LONG_KEY != 0,
                aws_cloud: e.flags & FL_AWS_CLOUD != 0,
                outside_aws: e.flags & FL_OUTSIDE_AWS != 0,
                workload: match Workload::from_u8(e.workload) {
                    Workload::Unknown
                        if self.service_issued.get(&e.cred).is_some_and(|&t| t <= e.t) =>
                    {
                        Workload::ServiceIssued
                    }
                    Workload::Unknown if e.flags & FL_SESSION != 0 => cx.trusted_workload,
                    w => w,
                },
                via_service: e.flags & FL_VIA_SERVICE != 0,
                mature,
                new_action,
                new_network: new_coarse,
                new_fine_network: new_fine,
            };
            findings.clear();
            for d in &mut detectors {
                d.observe(&obs, &mut findings);
            }
            for f in findings.drain(..) {
                match f {
                    Finding::Signal {
                        def,
                        key,
                        severity,
                        summary,
                        value,
                        also,
                    } => {
                        // What the same credential and client do next belongs to the same act:
                        // the attacker's session joins the hostile signal.
                        if catalog::is_hostile(def.code)
                            && severity >= Severity::High
                            && e.cred != 0
                            && !run
                                .fresh
                                .iter()
                                .any(|f| f.0 == FOLLOW_SESSION && f.3 == (def.code, key))
                        {
                            run.fresh.push((
                                FOLLOW_SESSION,
                                features::hash2(e.cred, e.agent),
                                e.t + cfg.follow_secs * 1000,
                                (def.code, key),
                            ));
                        }
                        emit(run, def, key, severity, summary, value);
                        if let Some(acc) = run.accs.get_mut(&(def.code, key)) {
                            for i in also {
                                if acc.events.len() < self.config.max_event_ids
                                    && !acc.events.contains(&i)
                                {
                                    acc.events.push(i);
                                }
                            }
                        }
                    }
                    Finding::Routine { def, key } => {
                        if let Some(acc) = run.accs.get_mut(&(def.code, key)) {
                            acc.routine_later = true;
                        }
                    }
                }
            }
            // A technique read from the request says more than the call's name: the sensitive
            // catalog stays for calls without one (and for secret reads, judged as bursts).
            let named_by_technique = techniques
                .iter()
                .any(|t| detect::technique::signal_of(t).is_some());

            // Sensitive actions (before a baseline, or new for this identity).
            if let Some(&(name, tactic, sev, what)) = sensitive.filter(|_| !named_by_technique) {
                let routine = mature && !new_action;
                let denied = e.flags & FL_DENIED != 0;
                let escalation_call = catalog::is_escalation_call(name)
                    && (e.flags & FL_OTHER_TARGET != 0 || !name.starts_with("iam:CreateAccessKey"));
                if escalation_call && !denied {
                    let day = e.t.div_euclid(Timestamp::MS_PER_DAY);
                    let (last, n) = run.esc_days;
                    let n = if n == 0 || last != day {
                        n.saturating_add(1)
                    } else {
                        n
                    };
                    run.esc_days = (day, n);
                    if n >= cfg.detect.routine_days {
                        if let Some(acc) = run
                            .accs
                            .get_mut(&(catalog::BEH_ESCALATION_ACTIVITY.code, 0))
                        {
                            acc.routine_later = true;
                        }
                    }
                }
                if routine {
                    if let Some(acc) = run
                        .accs
                        .get_mut(&(catalog::BEH_SENSITIVE_ACTION.code, e.action))
                    {
                        acc.routine_later = true;
                    }
                } else {
                    let escalation = escalation_call;
                    // The first day of IAM writes in the identity's history is news; later
                    // days are its routine (a refused attempt always is news, one step lower).
                    let first_day = run.esc_days.1 <= 1;
                    let verb = if denied {
                        "attempted (refused)"
                    } else {
                        "called"
                    };
                    if escalation {
                        if denied || first_day {
                            let base =
                                format!("privilege-escalation activity ({})", tactic.as_str());
                            let v = format!("{verb} {name}: {what}");
                            let sev = if denied { lower(sev) } else { sev };
                            emit(
                                run,
                                &catalog::BEH_ESCALATION_ACTIVITY,
                                0,
                                sev,
                                base,
                                Some(v),
                            );
                        }
                    } else {
                        let base = format!("{verb} {name}: {what} ({})", tactic.as_str());
                        let key = e.action;
                        let sev = if denied { lower(sev) } else { sev };
                        emit(run, &catalog::BEH_SENSITIVE_ACTION, key, sev, base, None);
                    }
                    // A successful sensitive call shows the right is really held (with or without
                    // inventory: a policy that allows it to everything is what made it work).
                    // (During learning only when inventory is silent: startup reads of a
                    // workload's own secrets are not news.)
                    // Control-plane rights only: a data-plane read or encryption (kms:Decrypt,
                    // a secret read) is what the identity is for, not a right it demonstrates.
                    let control_plane = name.starts_with("iam:")
                        || matches!(
                            tactic,
                            Tactic::DefenseEvasion
                                | Tactic::Persistence
                                | Tactic::PrivilegeEscalation
                                | Tactic::Impact
                        );
                    if !denied
                        && control_plane
                        && sev >= Severity::Medium
                        && (mature || !cx.privilege_known)
                    {
                        let psev = if name.starts_with("iam:") || tactic == Tactic::DefenseEvasion {
                            Severity::High
                        } else {
                            Severity::Medium
                        };
                        let base = "rights demonstrated by successful calls".to_string();
                        emit(
                            run,
                            &catalog::PRIV_DEMONSTRATED,
                            0,
                            psev,
                            base,
                            Some(name.to_string()),
                        );
                    }
                }
            }

            // Credential provenance and sharing.
            if e.cred != 0 {
                let cr = creds.entry(e.cred).or_default();
                cr.nets.insert(e.net_coarse);
                cr.agents.insert(e.agent);
                cr.accounts.insert(e.account);
                let key_text = s.get(e.cred).to_string();
                if e.flags & FL_LONG_KEY != 0 {
                    let shared_env = cr.accounts.len() >= 2 && cr.flagged & 2 == 0;
                    let shared_consumers =
                        cr.nets.len() >= 4 && cr.agents.len() >= 3 && cr.flagged & 4 == 0;
                    if shared_env || shared_consumers {
                        cr.flagged |= if shared_env { 2 } else { 4 };
                        // One key across accounts breaks environment isolation (NHI8): high.
                        let sev = if shared_env {
                            Severity::High
                        } else if cx.class == IdentityClass::SharedIntegration {
                            Severity::Low
                        } else {
                            catalog::EXP_SHARED_CREDENTIAL.severity
                        };
                        let what = if shared_env {
                            format!(
                                "{key_text} used against {} accounts (environments)",
                                cr.accounts.len()
                            )
                        } else {
                            format!(
                                "{key_text} used from {} networks by {} different clients",
                                cr.nets.len(),
                                cr.agents.len()
                            )
                        };
                        emit(
                            run,
                            &catalog::EXP_SHARED_CREDENTIAL,
                            e.cred,
                            sev,
                            "one credential used by several consumers".to_string(),
                            Some(what),
                        );
                    }
                }
            }
            let b = &mut run.b;
            b.events += 1;
            b.last = e.t;
        }

        // Standing signals as of each identity's first event, for a replay that must not use
        // what was only known later.
        let standing: Vec<(Vec<Signal>, bool)> = if self.index_events {
            self.ident_ids
                .iter()
                .map(|id| {
                    let pos = identities.binary_search_by(|i| i.id.as_str().cmp(id)).ok();
                    match pos.and_then(|p| Some((identities.get(p)?, analysis.get(p)?))) {
                        Some((ident, an)) => {
                            self.standing_signals(ident, an, &[], ident.first_seen)
                        }
                        None => (Vec::new(), false),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        let assessments = identities
            .iter()
            .zip(&analysis)
            .map(|(ident, an)| {
                let run = self
                    .ident_index
                    .get(&ident.id)
                    .and_then(|&i| runs.get_mut(i as usize));
                self.finish_identity(ident, an, run, as_of)
            })
            .collect();
        let unmatched_leaks = self.unmatched_leaks(&identities);
        Report {
            identities,
            assessments,
            events: events.len() as u64,
            unattributed_events: unattributed,
            as_of,
            identity_index: std::mem::take(&mut self.ident_ids),
            event_index: event_index.map(|ix| EventIndex {
                ids: std::mem::take(&mut self.ids),
                ..ix
            }),
            standing,
            unmatched_leaks,
        }
    }

    /// Standing signals (privilege from inventory, exposure of inventory credentials) of one
    /// identity as of `as_of`; `used` lists the services seen in its events.
    pub fn standing_signals(
        &self,
        ident: &Identity,
        an: &Analysis,
        used: &[&str],
        as_of: Option<Timestamp>,
    ) -> (Vec<Signal>, bool) {
        let cfg = &self.config;
        let mut signals: Vec<Signal> = Vec::new();
        let mut add = |def: &SignalDef,
                       sev: Severity,
                       summary: String,
                       event_ids: Vec<String>,
                       occ: u64,
                       first: Option<Timestamp>,
                       last: Option<Timestamp>| {
            signals.push(signal(def, sev, summary, event_ids, occ, first, last));
        };

        // Standing privilege.
        let (pf, rbac, known) = (&an.iam, &an.rbac, an.known);
        let src = |k: &str| {
            rbac.sources
                .get(k)
                .map(|v| v.join(", "))
                .unwrap_or_default()
        };
        if rbac.cluster_admin {
            add(
                &catalog::PRIV_K8S_CLUSTER_ADMIN,
                Severity::High,
                format!(
                    "cluster-admin equivalent (every verb on every resource) via {}",
                    src("cluster_admin")
                ),
                vec![],
                1,
                None,
                None,
            );
        } else {
            if !rbac.wildcard.is_empty() {
                let list: Vec<&str> = rbac.wildcard.iter().take(3).map(String::as_str).collect();
                add(
                    &catalog::PRIV_WILDCARD_SERVICE,
                    Severity::Medium,
                    format!("kubernetes wildcard rules: {}", list.join("; ")),
                    vec![],
                    1,
                    None,
                    None,
                );
            }
            if rbac.secrets_read {
                add(
                    &catalog::PRIV_K8S_SECRETS,
                    Severity::Medium,
                    format!("can read secrets via {}", src("secrets_read")),
                    vec![],
                    1,
                    None,
                    None,
                );
            }
            if rbac.pod_exec {
                add(
                    &catalog::PRIV_K8S_POD_EXEC,
                    Severity::Medium,
                    format!("can exec into pods via {}", src("pod_exec")),
                    vec![],
                    1,
                    None,
                    None,
                );
            }
            if !rbac.escalation.is_empty() {
                add(
                    &catalog::PRIV_ESCALATION_PATH,
                    Severity::High,
                    format!(
                        "kubernetes escalation grants: {}",
                        rbac.escalation.join(", ")
                    ),
                    vec![],
                    1,
                    None,
                    None,
                );
            }
        }
        // Secrets found by scanners, matched to this identity's credentials.
        for leak in &self.leaks {
            if let Some(c) = ident.credentials.iter().find(|c| leak_matches(leak, &c.id)) {
                let live = match leak.verified {
                    Some(true) => " (verified live)",
                    _ => "",
                };
                add(
                    &catalog::EXP_SECRET_LEAKED,
                    Severity::Critical,
                    format!(
                        "credential {} found by {} at {}{live}",
                        c.id, leak.found_by, leak.location
                    ),
                    vec![],
                    1,
                    leak.found_at,
                    leak.found_at,
                );
            }
        }
        // Admin subsumes the escalation paths and service wildcards below (they are not listed
        // again), so it must weigh more than any mix of them: Critical (0.85) against at most
        // 1 - (1 - 0.6)(1 - 0.35) = 0.74. Otherwise granting `*` could lower a score.
        if pf.admin {
            add(
                &catalog::PRIV_ADMIN,
                catalog::PRIV_ADMIN.severity,
                format!(
                    "administrator-equivalent rights via {}",
                    pf.admin_sources.join(", ")
                ),
                vec![],
                1,
                None,
                None,
            );
        }
        // Several paths mean the same thing (the identity can make itself admin): one signal
        // lists them. An admin already holds them all.
        if !pf.admin && !pf.escalation_paths.is_empty() {
            let names: Vec<&str> = pf.escalation_paths.iter().map(|p| p.name).collect();
            let first = pf
                .escalation_paths
                .first()
                .map(|p| p.summary.as_str())
                .unwrap_or_default();
            let sev = pf
                .escalation_paths
                .iter()
                .map(privilege::EscalationPath::severity)
                .max()
                .unwrap_or(Severity::High);
            add(
                &catalog::PRIV_ESCALATION_PATH,
                sev,
                format!("can escalate privileges via {} ({first})", names.join(", ")),
                vec![],
                1,
                None,
                None,
            );
        }
        let wild: Vec<&String> = pf
            .wildcard_services
            .iter()
            .filter(|s| s.as_str() != "*")
            .collect();
        if !wild.is_empty() && !pf.admin {
            let list: Vec<String> = wild.iter().take(6).map(|s| format!("{s}:*")).collect();
            add(
                &catalog::PRIV_WILDCARD_SERVICE,
                Severity::Medium,
                format!("service-wide wildcard grants: {}", list.join(", ")),
                vec![],
                1,
                None,
                None,
            );
        }
        for t in &pf.broad_trust {
            add(
                &catalog::PRIV_BROAD_TRUST,
                Severity::High,
                format!("broad trust policy: {t}"),
                vec![],
                1,
                None,
                None,
            );
        }
        if pf.known && !pf.granted_services.is_empty() && ident.events >= 50 {
            if let (Some(first), Some(last)) = (ident.first_seen, ident.last_seen) {
                if last.0 - first.0 >= 7 * Timestamp::MS_PER_DAY {
                    let unused: Vec<&String> = pf
                        .granted_services
                        .iter()
                        .filter(|g| {
                            g.as_str() != "*" && !used.iter().any(|u| u.eq_ignore_ascii_case(g))
                        })
                        .collect();
                    if unused.len() >= 3 {
                        let list: Vec<&str> = unused.iter().take(8).map(|s| s.as_str()).collect();
                        add(
                            &catalog::PRIV_UNUSED_GRANTS,
                            Severity::Low,
                            format!(
                                "{} granted services never used in {} days of logs: {}",
                                unused.len(),
                                first.days_until(last),
                                list.join(", ")
                            ),
                            vec![],
                            1,
                            None,
                            None,
                        );
                    }
                }
            }
        }

        // Standing exposure from inventory credentials.
        if let Some(now) = as_of {
            let keys: Vec<&tripline_model::Credential> = ident
                .credentials
                .iter()
                .filter(|c| c.kind == CredentialKind::AccessKey && c.active == Some(true))
                .collect();
            for k in &keys {
                let since = k.last_rotated.or(k.created);
                if let Some(since) = since {
                    let age = since.days_until(now);
                    if age > cfg.key_max_age_days {
                        let never = ident
                            .created
                            .is_some_and(|c| (since.0 - c.0).abs() <= Timestamp::MS_PER_DAY);
                        let (def, text) = if never {
                            (&catalog::EXP_NEVER_ROTATED, format!("{} never rotated since the identity was created {age} days ago", k.id))
                        } else {
                            (
                                &catalog::EXP_KEY_AGE,
                                format!(
                                    "{} last rotated {age} days ago (limit {})",
                                    k.id, cfg.key_max_age_days
                                ),
                            )
                        };
                        add(def, def.severity, text, vec![], 1, None, None);
                    }
                }
                let last_use = k.last_used.max(ident.last_seen);
                let unused = last_use.is_none_or(|u| u.days_until(now) > cfg.unused_key_days);
                if unused && since.is_some_and(|s| s.days_until(now) > cfg.unused_key_days) {
                    let text = match last_use {
                        Some(u) => {
                            format!("{} active but unused for {} days", k.id, u.days_until(now))
                        }
                        None => format!("{} active but never used", k.id),
                    };
                    add(
                        &catalog::EXP_UNUSED_ACTIVE_KEY,
                        catalog::EXP_UNUSED_ACTIVE_KEY.severity,
                        text,
                        vec![],
                        1,
                        None,
                        None,
                    );
                }
            }
            if keys.len() >= 2 {
                add(
                    &catalog::EXP_TWO_ACTIVE_KEYS,
                    Severity::Low,
                    format!("{} active access keys", keys.len()),
                    vec![],
                    1,
                    None,
                    None,
                );
            }
        }
        let long_key_in_use = ident
            .credentials
            .iter()
            .any(|c| c.kind == CredentialKind::AccessKey && c.events > 0);
        if long_key_in_use
            && ident.kind.is_nhi()
            && matches!(
                ident.class,
                IdentityClass::CiCd
                    | IdentityClass::Workload
                    | IdentityClass::BatchJob
                    | IdentityClass::Agent
            )
        {
            add(
                &catalog::EXP_LONG_LIVED_KEY,
                Severity::Low,
                format!("a {} identity authenticates with a long-lived access key where short-lived role or OIDC credentials would do", ident.class.as_str()),
                vec![],
                1,
                None,
                None,
            );
        }

        (signals, known)
    }

    fn finish_identity(
        &self,
        ident: &Identity,
        an: &Analysis,
        run: Option<&mut Run>,
        as_of: Option<Timestamp>,
    ) -> Assessment {
        let cfg = &self.config;
        let used: Vec<&str> = run
            .as_ref()
            .map(|r| r.b.services.iter().map(|i| self.strings.get(i)).collect())
            .unwrap_or_default();
        let (mut signals, known) = self.standing_signals(ident, an, &used, as_of);
        let mut add = |def: &SignalDef,
                       sev: Severity,
                       summary: String,
                       event_ids: Vec<String>,
                       occ: u64,
                       first: Option<Timestamp>,
                       last: Option<Timestamp>| {
            signals.push(signal(def, sev, summary, event_ids, occ, first, last));
        };
        // Behaviour and event-driven exposure, within the window.
        if let Some(run) = run {
            // Behaviour counts while it is recent relative to the identity's own last activity
            // (an identity that went quiet after an incident stays suspect until reviewed).
            let window_start = ident
                .last_seen
                .or(as_of)
                .map(|t| t.0 - (cfg.behaviour_window_days * Timestamp::MS_PER_DAY as f64) as i64);
            for ((_, _), acc) in std::mem::take(&mut run.accs) {
                let Some(def) = acc.def else { continue };
                if acc.routine_later {
                    continue;
                }
                if def.driver == tripline_model::Driver::Behaviour
                    && window_start.is_some_and(|w| acc.last < w)
                {
                    continue;
                }
                let summary = if acc.values.is_empty() {
                    acc.base.clone()
                } else {
                    format!(
                        "{}: {}{}",
                        acc.base,
                        acc.values.join("; "),
                        if acc.occurrences as usize > acc.values.len() && acc.values.len() >= 5 {
                            "; …"
                        } else {
                            ""
                        }
                    )
                };
                let ids = acc
                    .events
                    .iter()
                    .map(|&i| self.ids.get(i).to_string())
                    .collect();
                add(
                    def,
                    acc.severity.unwrap_or(def.severity),
                    summary,
                    ids,
                    acc.occurrences,
                    Some(Timestamp(acc.first)),
                    Some(Timestamp(acc.last)),
                );
            }
        }
        if ident.kind == IdentityKind::AiAgent {
            for s in &mut signals {
                for tag in catalog::AI_AGENT_TAGS {
                    if !s.frameworks.iter().any(|f| f == tag) {
                        s.frameworks.push((*tag).to_string());
                    }
                }
            }
        }
        let (score, drivers, formula) =
            score::score_with(&cfg.calibration, ident.class, known, &mut signals);
        signals.sort_by(|a, b| {
            b.points
                .total_cmp(&a.points)
                .then_with(|| a.code.cmp(&b.code))
        });
        let level = Level::of(score);
        Assessment {
            identity: ident.id.clone(),
            score: (score * 10.0).round() / 10.0,
            level,
            next_step: score::next_step(level, &drivers).to_string(),
            drivers,
            signals,
            formula,
            scored_at: as_of,
        }
    }
}

/// A signal from its catalog entry.
fn signal(
    def: &SignalDef,
    severity: Severity,
    summary: String,
    event_ids: Vec<String>,
    occurrences: u64,
    first_seen: Option<Timestamp>,
    last_seen: Option<Timestamp>,
) -> Signal {
    Signal {
        code: def.code.to_string(),
        driver: def.driver,
        severity,
        summary,
        event_ids,
        occurrences,
        first_seen,
        last_seen,
        frameworks: def.frameworks.iter().map(|s| (*s).to_string()).collect(),
        points: 0.0,
    }
}

/// Whether a scanner finding is about this credential (by AWS key id, or by fingerprint).
fn leak_matches(leak: &tripline_model::Leak, credential_id: &str) -> bool {
    leak.aws_key_id.as_deref() == Some(credential_id) || leak.fingerprint == credential_id
}

use detect::lower;

fn net_class_of(b: u8) -> NetClass {
    match b {
        0 => NetClass::Public,
        1 => NetClass::Private,
        2 => NetClass::AwsService,
        _ => NetClass::Unknown,
    }
}

/// The workload a role serves when its trust policy admits only one AWS compute service (and
/// no account, user or identity provider): then every session of the role is that workload's.
fn trusted_workload(ident: &Identity) -> Workload {
    let Some(trust) = ident.privileges.trust.as_ref() else {
        return Workload::Unknown;
    };
    let mut found = Workload::Unknown;
    for st in trust.statements.iter().filter(|s| s.allow) {
        for (kind, values) in &st.principals {
            if kind != "Service" {
                return Workload::Unknown;
            }
            for v in values {
                let w = match v.as_str() {
                    "ec2.amazonaws.com" => Workload::Ec2Instance,
                    "lambda.amazonaws.com" | "edgelambda.amazonaws.com" => Workload::Lambda,
                    "ecs-tasks.amazonaws.com" => Workload::EcsTask,
                    "pods.eks.amazonaws.com" => Workload::WebIdentity,
                    _ => return Workload::Unknown,
                };
                if found != Workload::Unknown && found != w {
                    return Workload::Unknown;
                }
                found = w;
            }
        }
    }
    found
}

/// What an event itself says of its session credential's origin.
fn workload_of(ev: &Event) -> Workload {
    if ev.actor.ec2_role_delivery.is_some() {
        return Workload::Ec2Instance;
    }
    if ev.actor.principal_type == Some(tripline_model::PrincipalType::K8sServiceAccount) {
        return Workload::K8sPod;
    }
    let ua = ev.user_agent.as_deref().unwrap_or("");
    if ua.contains("exec-env/AWS_Lambda") {
        return Workload::Lambda;
    }
    if ua.contains("exec-env/AWS_ECS") {
        return Workload::EcsTask;
    }
    let session = ev
        .actor
        .arn
        .as_deref()
        .filter(|a| a.contains(":assumed-role/"))
        .and_then(|a| a.rsplit('/').next())
        .unwrap_or("");
    let hex = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };
    if let Some(id) = session.strip_prefix("i-") {
        if (id.len() == 8 || id.len() == 17) && hex(id) {
            return Workload::Ec2Instance;
        }
    }
    if session.len() == 32 && hex(session) {
        return Workload::EcsTask;
    }
    let web_identity = ev.actor.principal_type
        == Some(tripline_model::PrincipalType::WebIdentityUser)
        || ev
            .actor
            .federated_provider
            .as_deref()
            .is_some_and(|p| !p.to_ascii_lowercase().contains("saml"));
    if web_identity {
        return Workload::WebIdentity;
    }
    Workload::Unknown
}
