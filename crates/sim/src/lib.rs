//! Seeded, streaming simulator of an organisation's non-human identities.
//!
//! `simulate` writes, for a configurable population of identities and number of days:
//! - CloudTrail in the real format, as an S3 tree of `{"Records":[…]}` gzip files
//!   (`cloudtrail/AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/…json.gz`) or one
//!   `cloudtrail.jsonl.gz`;
//! - Kubernetes audit events (`k8s-audit/audit.jsonl.gz`);
//! - event-level labels (`labels.csv`) and incident windows (`incidents.csv`);
//! - inventory for the same organisation (`inventory/authorization-details.json`,
//!   `inventory/credential-report.csv`) and `owners.yaml`.
//!
//! Generation is per hour: every identity's calls for one hour are drawn, sorted and written
//! before the next hour, so memory is bounded by one hour of events. Every random draw comes
//! from a stream keyed by the seed and what is being drawn, so the same configuration writes the
//! same bytes.

mod catalog;
mod gen;
mod incidents;
mod inventory;
mod net;
mod org;
mod policy;
mod render;
mod rng;

use flate2::write::GzEncoder;
use flate2::Compression;
use gen::{Ev, Gen, Sink, M_DIRECT, M_INVOKED};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use tripline_model::Timestamp;

/// Layout of the CloudTrail output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Layout {
    /// `cloudtrail/AWSLogs/<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<file>.json.gz`, each a
    /// gzip of `{"Records":[…]}` as CloudTrail delivers to S3.
    #[default]
    S3Tree,
    /// One `cloudtrail.jsonl.gz`, one event per line.
    JsonLines,
}

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    pub days: u32,
    /// First hour simulated (rounded down to the hour).
    pub start: Timestamp,
    /// Population of non-human identities (a minimum set is always created so that every
    /// identity class and incident has a subject).
    pub identities: usize,
    /// Scale per-identity rates so the total is about this many events.
    pub target_events: Option<u64>,
    pub incidents: bool,
    pub k8s: bool,
    pub layout: Layout,
    pub accounts: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            days: 14,
            start: Timestamp::parse("2026-10-01T00:00:00Z").unwrap_or(Timestamp(1_790_812_800_000)),
            identities: 60,
            target_events: None,
            incidents: true,
            k8s: true,
            layout: Layout::S3Tree,
            accounts: 2,
        }
    }
}

/// One injected incident (or labelled benign episode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentSummary {
    pub id: String,
    /// Principal ARN (role ARN for sessions) or `system:serviceaccount:<ns>:<name>`.
    pub identity: String,
    /// `malicious` or `benign`.
    pub label: String,
    pub category: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub events: u64,
    pub description: String,
}

#[derive(Debug, Clone, Default)]
pub struct SimSummary {
    pub events: u64,
    pub cloudtrail_events: u64,
    pub k8s_events: u64,
    pub malicious_events: u64,
    pub identities: usize,
    pub incidents: Vec<IncidentSummary>,
    /// Every file written, in the order written.
    pub files: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("invalid simulation config: {0}")]
    Config(String),
    #[error("writing simulation output: {0}")]
    Io(#[from] std::io::Error),
    #[error("simulator bug: {0}")]
    Internal(String),
}

/// Records per CloudTrail file before a new file is started.
const MAX_RECORDS_PER_FILE: usize = 5000;
/// JSON Lines bytes buffered before they are handed to the compressor.
const LINES_CHUNK: usize = 4 << 20;

enum Job {
    File { path: PathBuf, body: Vec<u8> },
    Ct(Vec<u8>),
    K8s(Vec<u8>),
}

type Gz = GzEncoder<BufWriter<File>>;

fn gz_create(path: &Path) -> std::io::Result<Gz> {
    let f = File::create(path)?;
    Ok(GzEncoder::new(
        BufWriter::with_capacity(1 << 18, f),
        Compression::fast(),
    ))
}

/// Compresses and writes on its own thread, so generation and compression overlap.
fn writer(rx: mpsc::Receiver<Job>, mut ct: Option<Gz>, mut k8s: Option<Gz>) -> std::io::Result<()> {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    for job in rx {
        match job {
            Job::File { path, body } => {
                if let Some(parent) = path.parent() {
                    if !dirs.contains(parent) {
                        std::fs::create_dir_all(parent)?;
                        dirs.insert(parent.to_path_buf());
                    }
                }
                let mut gz = gz_create(&path)?;
                gz.write_all(&body)?;
                gz.finish()?.flush()?;
            }
            Job::Ct(b) => {
                if let Some(w) = ct.as_mut() {
                    w.write_all(&b)?;
                }
            }
            Job::K8s(b) => {
                if let Some(w) = k8s.as_mut() {
                    w.write_all(&b)?;
                }
            }
        }
    }
    if let Some(w) = ct {
        w.finish()?.flush()?;
    }
    if let Some(w) = k8s {
        w.finish()?.flush()?;
    }
    Ok(())
}

struct Group {
    body: Vec<u8>,
    n: usize,
    last: i64,
    chunk: u32,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Expected volume per unit of scale, to hit `target_events`.
fn calibrate(org: &org::Org, incident_events: usize, target: u64) -> f64 {
    let gen = Gen::new(org);
    let (mut fixed, mut scaled) = (incident_events as f64, 0.0);
    let mut h0 = org.start;
    while h0 < org.end {
        for who in 0..org.idents.len() {
            let mut sink = Sink::Expect {
                fixed: &mut fixed,
                scaled: &mut scaled,
            };
            gen.ident_hour(who as u16, h0, &mut sink);
        }
        h0 += Timestamp::MS_PER_HOUR;
    }
    if scaled <= 0.0 {
        return 1.0;
    }
    ((target as f64 - fixed) / scaled).max(0.001)
}

/// Runs the simulation and writes everything into `out_dir`.
pub fn simulate(cfg: &SimConfig, out_dir: &Path) -> Result<SimSummary, SimError> {
    if cfg.days == 0 {
        return Err(SimError::Config("days must be at least 1".into()));
    }
    if cfg.accounts == 0 {
        return Err(SimError::Config("accounts must be at least 1".into()));
    }
    if cfg.days > 3660 {
        return Err(SimError::Config("days must be at most 3660".into()));
    }
    std::fs::create_dir_all(out_dir)?;
    let mut org = org::build(cfg)?;
    if org.idents.len() >= usize::from(gen::NO_IDENT) {
        return Err(SimError::Config(format!(
            "at most {} identities",
            gen::NO_IDENT - 1
        )));
    }
    let (incidents, inc_events) = if cfg.incidents {
        incidents::plan(&mut org)?
    } else {
        (Vec::new(), Vec::new())
    };
    let scale = match cfg.target_events {
        Some(t) => calibrate(&org, inc_events.len(), t),
        None => 1.0,
    };
    let org = org;
    let mut summary = SimSummary {
        identities: org.idents.len(),
        ..SimSummary::default()
    };

    let owners = out_dir.join("owners.yaml");
    inventory::write_owners(&org, &owners)?;
    summary.files.push(owners);

    let ct_lines = match cfg.layout {
        Layout::JsonLines => {
            let p = out_dir.join("cloudtrail.jsonl.gz");
            let w = gz_create(&p)?;
            summary.files.push(p);
            Some(w)
        }
        Layout::S3Tree => None,
    };
    let k8s_lines = if cfg.k8s {
        let dir = out_dir.join("k8s-audit");
        std::fs::create_dir_all(&dir)?;
        let p = dir.join("audit.jsonl.gz");
        let w = gz_create(&p)?;
        summary.files.push(p);
        Some(w)
    } else {
        None
    };
    let labels_path = out_dir.join("labels.csv");
    let mut labels = BufWriter::with_capacity(1 << 20, File::create(&labels_path)?);
    labels.write_all(b"event_id,label,category,identity,incident\n")?;
    summary.files.push(labels_path);

    let (tx, rx) = mpsc::sync_channel::<Job>(4);
    let handle = std::thread::spawn(move || writer(rx, ct_lines, k8s_lines));
    let result = run(
        &org,
        cfg,
        scale,
        &incidents,
        &inc_events,
        out_dir,
        &tx,
        &mut labels,
        &mut summary,
    );
    drop(tx);
    let joined = handle
        .join()
        .map_err(|_| SimError::Internal("writer thread panicked".into()))?;
    let usage = result?;
    joined?;
    labels.flush()?;
    drop(labels);

    let inv = out_dir.join("inventory");
    std::fs::create_dir_all(&inv)?;
    let authz = inv.join("authorization-details.json");
    inventory::write_authz(&org, &usage.0, &authz)?;
    summary.files.push(authz);
    let cred = inv.join("credential-report.csv");
    inventory::write_credential_report(&org, &usage.0, &cred)?;
    summary.files.push(cred);

    let inc_path = out_dir.join("incidents.csv");
    let mut s = String::from("incident,identity,start,end,label,category,description\n");
    for (i, inc) in incidents.iter().enumerate() {
        let events = usage.1.get(i + 1).copied().unwrap_or(0);
        let label = if inc.malicious { "malicious" } else { "benign" };
        s.push_str(&format!(
            "{},{},{},{},{label},{},{}\n",
            inc.id,
            csv_field(&inc.identity),
            Timestamp(inc.start),
            Timestamp(inc.end),
            inc.category,
            csv_field(&inc.description)
        ));
        summary.incidents.push(IncidentSummary {
            id: inc.id.clone(),
            identity: inc.identity.clone(),
            label: label.to_string(),
            category: inc.category.to_string(),
            start: Timestamp(inc.start),
            end: Timestamp(inc.end),
            events,
            description: inc.description.clone(),
        });
    }
    std::fs::write(&inc_path, s)?;
    summary.files.push(inc_path);
    Ok(summary)
}

fn send(tx: &mpsc::SyncSender<Job>, job: Job) -> Result<(), SimError> {
    // A closed channel means the writer failed; its error is reported when it is joined.
    tx.send(job)
        .map_err(|_| SimError::Internal("output writer stopped".into()))
}

#[allow(clippy::too_many_arguments)]
fn run(
    org: &org::Org,
    cfg: &SimConfig,
    scale: f64,
    incidents: &[incidents::Incident],
    inc_events: &[Ev],
    out_dir: &Path,
    tx: &mpsc::SyncSender<Job>,
    labels: &mut BufWriter<File>,
    summary: &mut SimSummary,
) -> Result<(inventory::Usage, Vec<u64>), SimError> {
    let gen = Gen::new(org);
    let render = render::Renderer::new(org);
    let mut usage = inventory::Usage::new(org.idents.len());
    let mut per_tag = vec![0u64; incidents.len() + 1];
    let mut window: Vec<Ev> = Vec::new();
    let mut inc_cursor = 0usize;
    let mut ct_buf: Vec<u8> = Vec::with_capacity(LINES_CHUNK + (1 << 16));
    let mut k8s_buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut groups: BTreeMap<(u8, u8), Group> = BTreeMap::new();
    let mut line = String::with_capacity(256);
    let ct_root = out_dir.join("cloudtrail").join("AWSLogs");
    let mut h0 = org.start;
    while h0 < org.end {
        let h1 = h0 + Timestamp::MS_PER_HOUR;
        window.clear();
        for who in 0..org.idents.len() {
            let mut sink = Sink::Emit {
                out: &mut window,
                scale,
            };
            gen.ident_hour(who as u16, h0, &mut sink);
        }
        while let Some(e) = inc_events.get(inc_cursor) {
            if e.t >= h1 {
                break;
            }
            if e.t >= h0 {
                window.push(*e);
            }
            inc_cursor += 1;
        }
        render.clear_cache();
        window.retain(|e| e.t >= h0 && e.t < h1 && e.t < org.end);
        window.sort_by_key(|e| e.t);
        for ev in &window {
            let Some(id) = org.ident(ev.who) else {
                continue;
            };
            let event_id = if ev.k8s {
                let id = render.k8s(ev, &mut k8s_buf)?;
                k8s_buf.push(b'\n');
                summary.k8s_events += 1;
                id
            } else {
                summary.cloudtrail_events += 1;
                match cfg.layout {
                    Layout::JsonLines => {
                        let id = render.cloudtrail(ev, &mut ct_buf)?;
                        ct_buf.push(b'\n');
                        id
                    }
                    Layout::S3Tree => {
                        let g = groups.entry((ev.acct, ev.region)).or_insert_with(|| Group {
                            body: Vec::with_capacity(1 << 16),
                            n: 0,
                            last: 0,
                            chunk: 0,
                        });
                        g.body
                            .extend_from_slice(if g.n == 0 { b"{\"Records\":[" } else { b"," });
                        let id = render.cloudtrail(ev, &mut g.body)?;
                        g.n += 1;
                        g.last = ev.t;
                        if g.n >= MAX_RECORDS_PER_FILE {
                            flush_group(org, &ct_root, (ev.acct, ev.region), g, h0, tx, summary)?;
                        }
                        id
                    }
                }
            };
            track(&mut usage, ev, id);
            let tag = usize::from(ev.tag);
            if let Some(c) = per_tag.get_mut(tag) {
                *c += 1;
            }
            line.clear();
            line.push_str(&event_id);
            match tag.checked_sub(1).and_then(|i| incidents.get(i)) {
                Some(inc) => {
                    line.push_str(if inc.malicious {
                        ",malicious,"
                    } else {
                        ",benign,"
                    });
                    line.push_str(inc.category);
                    line.push(',');
                    line.push_str(render::identity_label(id));
                    line.push(',');
                    line.push_str(&inc.id);
                    if inc.malicious {
                        summary.malicious_events += 1;
                    }
                }
                None => {
                    line.push_str(",benign,,");
                    line.push_str(render::identity_label(id));
                    line.push(',');
                }
            }
            line.push('\n');
            labels.write_all(line.as_bytes())?;
            summary.events += 1;
            if ct_buf.len() >= LINES_CHUNK {
                send(
                    tx,
                    Job::Ct(std::mem::replace(
                        &mut ct_buf,
                        Vec::with_capacity(LINES_CHUNK + (1 << 16)),
                    )),
                )?;
            }
            if k8s_buf.len() >= LINES_CHUNK {
                send(
                    tx,
                    Job::K8s(std::mem::replace(&mut k8s_buf, Vec::with_capacity(1 << 20))),
                )?;
            }
        }
        for (key, g) in groups.iter_mut() {
            if g.n > 0 {
                flush_group(org, &ct_root, *key, g, h0, tx, summary)?;
            }
            g.chunk = 0;
        }
        h0 = h1;
    }
    if !ct_buf.is_empty() {
        send(tx, Job::Ct(ct_buf))?;
    }
    if !k8s_buf.is_empty() {
        send(tx, Job::K8s(k8s_buf))?;
    }
    Ok((usage, per_tag))
}

fn track(usage: &mut inventory::Usage, ev: &Ev, id: &org::Ident) {
    if ev.k8s || !(ev.mode == M_DIRECT || ev.mode == M_INVOKED) {
        return;
    }
    let who = usize::from(ev.who);
    if id.is_user() {
        let svc = catalog::get(ev.act).map_or("sts", |a| a.perm.split(':').next().unwrap_or("sts"));
        if let Some(slot) = usage
            .keys
            .get_mut(who)
            .and_then(|k| k.get_mut(ev.cred as usize))
        {
            *slot = Some((ev.t, ev.region, svc));
        }
    } else if let Some(r) = usage.roles.get_mut(who) {
        *r = Some((ev.t, ev.region));
    }
}

fn flush_group(
    org: &org::Org,
    root: &Path,
    (acct, region): (u8, u8),
    g: &mut Group,
    hour: i64,
    tx: &mpsc::SyncSender<Job>,
    summary: &mut SimSummary,
) -> Result<(), SimError> {
    g.body.extend_from_slice(b"]}");
    let acct_id = org.account(acct).map_or("000000000000", |a| a.id.as_str());
    let region_name = org::REGIONS
        .get(usize::from(region))
        .copied()
        .unwrap_or("us-east-1");
    // Files are named after their delivery time: the end of the 5-minute interval they close.
    let stamp = g.last - g.last.rem_euclid(300_000) + 300_000;
    let (y, m, d) = Timestamp(stamp).date_parts();
    let hm = stamp.rem_euclid(Timestamp::MS_PER_DAY) / 60_000;
    let mut r = rng::Rng::derive(
        org.seed,
        &[
            0x66696c65,
            u64::from(acct),
            u64::from(region),
            hour as u64,
            u64::from(g.chunk),
        ],
    );
    let name = format!(
        "{acct_id}_CloudTrail_{region_name}_{y:04}{m:02}{d:02}T{:02}{:02}Z_{}.json.gz",
        hm / 60,
        hm % 60,
        r.alnum(16)
    );
    let path = root
        .join(acct_id)
        .join("CloudTrail")
        .join(region_name)
        .join(format!("{y:04}"))
        .join(format!("{m:02}"))
        .join(format!("{d:02}"))
        .join(name);
    let body = std::mem::replace(&mut g.body, Vec::with_capacity(1 << 16));
    g.n = 0;
    g.chunk += 1;
    summary.files.push(path.clone());
    send(tx, Job::File { path, body })
}
