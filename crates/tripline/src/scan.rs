//! `tripline scan`, `simulate` and `demo`.

use crate::cli::{DemoArgs, Format, LayoutArg, ScanArgs, SimArgs};
use crate::report;
use crate::Failure;
use anyhow::{anyhow, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tripline_engine::{Engine, EngineConfig, Report};
use tripline_ingest::inventory;
use tripline_ingest::{Item, Limits, LogReader, ReadStats};
use tripline_model::{Rejected, Timestamp};

/// Everything a scan produced, for the reports.
#[derive(Debug)]
pub struct ScanResult {
    pub report: Report,
    pub stats: ReadStats,
    pub inventory_rejected: u64,
    /// Active suppressions (false positive / accepted risk verdicts), by identity id.
    pub suppressions: std::collections::BTreeMap<String, tripline_ingest::feedback::Feedback>,
    /// Response decisions (with `--respond plan`), by identity id.
    pub decisions: std::collections::BTreeMap<String, tripline_policy::Decision>,
    pub policy_version: Option<String>,
    /// `plan` or `apply`, when the policy ran.
    pub respond_mode: Option<&'static str>,
    /// What `--respond apply` did, action by action.
    pub outcomes: Vec<crate::respond::Outcome>,
}

impl ScanResult {
    /// Applies analyst feedback: verdicts that suppress at `now` are attached (and shown).
    pub fn apply_feedback(&mut self, path: Option<&Path>, now: Timestamp) -> Result<(), Failure> {
        let Some(path) = path else { return Ok(()) };
        let all = tripline_ingest::feedback::read(path).map_err(|e| Failure::usage(anyhow!(e)))?;
        for fb in all.into_iter().filter(|f| f.suppresses(now)) {
            self.suppressions.insert(fb.identity.clone(), fb);
        }
        Ok(())
    }
}

/// A store a command only reads must exist (opening would create an empty one).
pub fn require_exists(p: &Path) -> Result<(), Failure> {
    if p.exists() {
        Ok(())
    } else {
        Err(Failure::usage(anyhow!("{}: no such file", p.display())))
    }
}

/// Wall-clock time now.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    Timestamp(ms)
}

fn progress_bar(total: u64) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} reading logs {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb
}

fn limits(args: &crate::cli::LimitArgs) -> Limits {
    Limits {
        max_record_bytes: args.max_record_bytes,
        max_document_bytes: args.max_document_bytes,
        max_decompressed_bytes: args.max_decompressed_bytes,
        max_depth: args.max_depth,
        max_future_secs: args.max_future_secs,
    }
}

/// What a run reads.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub logs: &'a [PathBuf],
    pub inventory: &'a [PathBuf],
    pub owners: Option<&'a Path>,
    pub aws_ip_ranges: Option<&'a Path>,
}

impl<'a> Inputs<'a> {
    pub fn of(a: &'a crate::cli::InputArgs) -> Self {
        Self {
            logs: &a.logs,
            inventory: &a.inventory,
            owners: a.owners.as_deref(),
            aws_ip_ranges: a.aws_ip_ranges.as_deref(),
        }
    }
}

/// The wall clock as a timestamp.
fn wall_clock() -> tripline_model::Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    tripline_model::Timestamp(ms)
}

/// Reads everything and resolves identities. Rejected records go to `on_reject`.
pub fn collect(
    inputs: Inputs<'_>,
    limits: Limits,
    on_reject: &mut dyn FnMut(&Rejected) -> std::io::Result<()>,
) -> Result<ScanResult, Failure> {
    collect_with(inputs, limits, on_reject, false, &mut |_| {})
}

/// [`collect`], keeping the event index for a replay and passing detections as they happen.
pub fn collect_with(
    inputs: Inputs<'_>,
    limits: Limits,
    on_reject: &mut dyn FnMut(&Rejected) -> std::io::Result<()>,
    index_events: bool,
    on_detection: &mut dyn FnMut(&tripline_engine::Detection),
) -> Result<ScanResult, Failure> {
    let Inputs {
        logs,
        inventory: inventory_paths,
        owners,
        aws_ip_ranges,
    } = inputs;
    for p in logs
        .iter()
        .map(PathBuf::as_path)
        .chain(inventory_paths.iter().map(PathBuf::as_path))
        .chain(owners)
    {
        if !p.exists() {
            return Err(Failure::usage(anyhow!(
                "{}: no such file or directory",
                p.display()
            )));
        }
    }
    let owners = owners
        .map(|p| {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            inventory::owners::OwnersFile::parse(&bytes, &p.display().to_string())
                .map_err(|e| anyhow!(e))
        })
        .transpose()
        .map_err(Failure::usage)?;

    let mut engine = Engine::new(EngineConfig::default());
    engine.index_events = index_events;
    if let Some(p) = aws_ip_ranges {
        let prefixes = tripline_ingest::netdata::read_aws_ip_ranges(p)
            .map_err(|e| Failure::usage(anyhow!(e)))?;
        let ranges =
            tripline_engine::netinfo::AwsRanges::from_prefixes(prefixes.iter().map(String::as_str))
                .map_err(|e| Failure::usage(anyhow!("{}: {e}", p.display())))?;
        engine.set_aws_ranges(ranges);
    }
    let mut inventory_rejected = 0u64;
    let mut write_err: Option<std::io::Error> = None;
    for path in inventory_paths {
        let loaded = inventory::load(path, &limits).map_err(|e| Failure::usage(anyhow!(e)))?;
        for r in &loaded.rejected {
            inventory_rejected += 1;
            if let Err(e) = on_reject(r) {
                write_err.get_or_insert(e);
            }
        }
        for ident in loaded.identities {
            engine.merge_inventory(ident);
        }
        for l in loaded.leaked {
            engine.add_leak(tripline_model::Leak {
                fingerprint: l.fingerprint,
                aws_key_id: l.aws_key_id,
                found_by: format!("{} ({})", l.scanner.as_str(), l.rule),
                location: l.location,
                verified: l.verified,
                found_at: l.found_at,
            });
        }
    }

    let total: u64 = tripline_ingest::logs::discover(logs)
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let pb = progress_bar(total);
    let pbc = pb.clone();
    let mut reader = LogReader::new(limits);
    reader.progress = Some(Arc::new(move |n| pbc.inc(n)));
    let stats = reader.read_paths(logs, &mut |item| match item {
        Item::Event(ev) => engine.ingest(&ev),
        Item::Rejected(r) => {
            if let Err(e) = on_reject(&r) {
                write_err.get_or_insert(e);
            }
        }
    });
    pb.finish_and_clear();
    if let Some(e) = write_err {
        return Err(Failure::internal(
            anyhow!(e).context("writing the quarantine file"),
        ));
    }
    if let Some(o) = &owners {
        engine.for_each_identity(|i| {
            o.apply(i);
        });
    }
    // Without events (a posture-only scan), standing posture is judged as of now.
    let as_of = (engine.events() == 0).then(wall_clock);
    let report = engine.assess(as_of, |d| on_detection(d));
    Ok(ScanResult {
        report,
        stats,
        inventory_rejected,
        suppressions: Default::default(),
        decisions: Default::default(),
        policy_version: None,
        respond_mode: None,
        outcomes: Vec::new(),
    })
}

pub fn run(args: &ScanArgs) -> Result<u8, Failure> {
    // A bad signing key stops the run before any work, not after it.
    let signer = match &args.evidence {
        Some(_) => crate::evidence::signer(args.signing_key.as_deref())?,
        None => None,
    };
    let mut quarantine = args
        .quarantine
        .as_ref()
        .map(|p| {
            crate::output::Quarantine::create(
                p,
                args.max_quarantine_bytes,
                args.max_quarantine_records,
            )
            .with_context(|| format!("creating {}", p.display()))
        })
        .transpose()
        .map_err(Failure::usage)?;
    let mut on_reject = |r: &Rejected| -> std::io::Result<()> {
        match quarantine.as_mut() {
            Some(q) => q.write(r),
            None => Ok(()),
        }
    };
    let mut result = collect(
        Inputs::of(&args.input),
        limits(&args.limits),
        &mut on_reject,
    )?;
    if let Some(q) = quarantine.as_mut() {
        q.flush()
            .map_err(|e| Failure::internal(anyhow!(e).context("writing the quarantine file")))?;
    }
    result.apply_feedback(args.feedback.as_deref(), now())?;
    if let Some(mode) = args.respond {
        result.respond_mode = Some(match mode {
            crate::cli::Respond::Plan => "plan",
            crate::cli::Respond::Apply => "apply",
        });
        let policy = crate::respond::load(&args.policy, args.policy_data.as_ref())?;
        // Each store and connector is opened once per run.
        let book = args
            .cases
            .as_ref()
            .map(|c| {
                tripline_respond::cases::CaseBook::open(
                    c,
                    tripline_respond::cases::CaseConfig::default(),
                )
                .map_err(|e| Failure::usage(anyhow!(e)))
            })
            .transpose()?;
        let previous = match &book {
            Some(b) => crate::respond::prior(b)?,
            None => Default::default(),
        };
        let approve = args.approve.as_ref();
        let applying = match mode {
            crate::cli::Respond::Plan => {
                crate::respond::decide(
                    &mut result,
                    &policy,
                    &previous,
                    approve,
                    tripline_policy::Mode::Plan,
                )?;
                None
            }
            crate::cli::Respond::Apply => {
                let conns = crate::respond::connectors(args.connectors.as_ref())?;
                let led = tripline_respond::ledger::Ledger::open(&args.ledger)
                    .map_err(|e| Failure::usage(anyhow!(e)))?;
                let safety = crate::respond::Safety {
                    max_evidence_age_secs: args.max_evidence_age,
                    max_restricted: args.max_restricted,
                    never_touch: args
                        .never_touch
                        .iter()
                        .chain(&conns.settings.never_touch)
                        .cloned()
                        .collect(),
                    now: now().0 / 1000,
                };
                crate::respond::apply(
                    &mut result,
                    &policy,
                    approve,
                    &previous,
                    &conns,
                    &led,
                    &safety,
                )?;
                for o in &result.outcomes {
                    eprintln!(
                        "{:<8} {:<12} {} via {}: {}",
                        o.status,
                        o.kind,
                        o.identity,
                        o.connector.as_deref().unwrap_or("-"),
                        o.detail
                    );
                }
                Some((conns, led))
            }
        };
        let failed = result
            .decisions
            .values()
            .filter(|d| d.error.is_some())
            .count();
        if failed > 0 {
            eprintln!(
                "the policy failed for {failed} identities: held with no action (see their decision reasons)"
            );
        }
        if let (Some(book), Some(path)) = (&book, &args.cases) {
            let at = now().0 / 1000;
            let opened =
                crate::respond::open_cases(&result, book, at, args.default_owner.as_deref())?;
            eprintln!(
                "{} open cases in {} (`tripline case list`)",
                opened.len(),
                path.display()
            );
            // Under apply, the same run carries out what the cases ask for (undo, extension,
            // expiry): a periodic `scan --respond apply --cases` needs no separate timer.
            if let Some((conns, led)) = &applying {
                let steps = crate::respond::sweep(book, led, conns, at)?;
                crate::respond::report_sweep(&steps, args.evidence.as_deref())?;
            }
        }
    }
    let mut unsigned = None;
    if let Some(p) = &args.evidence {
        let recorded = crate::evidence::record_scan(p, &result, signer.as_ref())?;
        eprintln!("{recorded}");
        unsigned = recorded.signing_failed();
    }
    if args.respond.is_none() {
        // One source of recommendation: without --respond the table, JSON and OCSF still show
        // the policy's decision (a dry run: no case, nothing carried out, and not recorded as
        // a response in the evidence, which was written above).
        let policy = crate::respond::load(&args.policy, args.policy_data.as_ref())?;
        crate::respond::decide(
            &mut result,
            &policy,
            &Default::default(),
            args.approve.as_ref(),
            tripline_policy::Mode::Plan,
        )?;
    }
    emit(&result, args.format, args.output.as_deref(), args.all)?;
    report::summary(&result, args.quarantine.as_deref(), &mut std::io::stderr())
        .map_err(|e| Failure::internal(anyhow!(e)))?;
    crate::output::input_notes(&result.stats, &mut std::io::stderr());
    if let Some(q) = &quarantine {
        q.note(&mut std::io::stderr());
    }
    // A key was given and the head could not be signed (the ledger fails verification, or the
    // signature could not be stored): the report is out, the exit code says so.
    if let Some(code) = unsigned {
        return Ok(code);
    }
    if !result.stats.unreadable.is_empty() {
        return Ok(2);
    }
    if args.fail_on_reject && result.stats.rejected_total() + result.inventory_rejected > 0 {
        return Ok(3);
    }
    Ok(0)
}

fn emit(
    result: &ScanResult,
    format: Format,
    output: Option<&Path>,
    all: bool,
) -> Result<(), Failure> {
    let mut out: Box<dyn Write> = match output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p)
                .with_context(|| format!("creating {}", p.display()))
                .map_err(Failure::internal)?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let res = match format {
        Format::Table => report::table(result, all, &mut out),
        Format::Json => report::json(result, all, &mut out),
        Format::Ocsf => report::ocsf(result, all, &mut out),
    };
    res.and_then(|()| out.flush())
        .map_err(|e| Failure::internal(anyhow!(e).context("writing the report")))
}

pub fn simulate(out: &Path, args: &SimArgs) -> Result<tripline_sim::SimSummary, Failure> {
    let start = Timestamp::parse(&args.start).ok_or_else(|| {
        Failure::usage(anyhow!(
            "--start {:?} is not a date (YYYY-MM-DD)",
            args.start
        ))
    })?;
    let cfg = tripline_sim::SimConfig {
        seed: args.seed,
        days: args.days,
        start,
        identities: args.identities,
        target_events: args.events,
        incidents: !args.no_incidents,
        k8s: !args.no_k8s,
        layout: match args.layout {
            LayoutArg::S3 => tripline_sim::Layout::S3Tree,
            LayoutArg::Jsonl => tripline_sim::Layout::JsonLines,
        },
        accounts: args.accounts,
    };
    let summary = tripline_sim::simulate(&cfg, out).map_err(|e| Failure::internal(anyhow!(e)))?;
    eprintln!(
        "simulated {} events ({} cloudtrail, {} kubernetes) for {} identities over {} days into {}; {} incidents, {} malicious events (labels.csv, incidents.csv)",
        summary.events,
        summary.cloudtrail_events,
        summary.k8s_events,
        summary.identities,
        args.days,
        out.display(),
        summary.incidents.len(),
        summary.malicious_events
    );
    Ok(summary)
}

pub fn explain(args: &crate::cli::ExplainArgs) -> Result<u8, Failure> {
    let result = collect(Inputs::of(&args.input), limits(&args.limits), &mut |_| {
        Ok(())
    })?;
    for (p, why) in &result.stats.unreadable {
        eprintln!("unreadable: {}: {why}", p.display());
    }
    // The same recommendation as `scan` shows: the default policy's decision (dry run).
    let mut result = result;
    let policy = crate::respond::load(&[], None)?;
    crate::respond::decide(
        &mut result,
        &policy,
        &Default::default(),
        None,
        tripline_policy::Mode::Plan,
    )?;
    let mut out = std::io::stdout().lock();
    let found = report::explain(&result, &args.identity, &mut out)
        .map_err(|e| Failure::internal(anyhow!(e)))?;
    if !result.stats.unreadable.is_empty() {
        return Ok(2);
    }
    if !found {
        return Err(Failure::usage(anyhow!(
            "no identity matches {:?} (give its ARN, its name, or a unique part of it)",
            args.identity
        )));
    }
    Ok(0)
}

/// `tripline feedback add|list`.
pub fn feedback(args: &crate::cli::FeedbackArgs) -> Result<u8, Failure> {
    use tripline_ingest::feedback::{self as fb, Feedback};
    match &args.command {
        crate::cli::FeedbackCommand::Add(a) => {
            let at = now();
            let expires = match (&a.expires, a.for_days) {
                (Some(e), _) => Some(e.clone()),
                (None, Some(d)) => {
                    Some(Timestamp(at.0 + i64::from(d) * Timestamp::MS_PER_DAY).to_string())
                }
                (None, None) => None,
            };
            let entry = Feedback {
                identity: a.identity.clone(),
                verdict: a.verdict.into(),
                reason: a.reason.clone(),
                start: a.start.clone(),
                end: a.end.clone(),
                expires,
                by: a.by.clone(),
                at: at.to_string(),
            };
            fb::append(&args.store, &entry).map_err(|e| Failure::usage(anyhow!(e)))?;
            eprintln!(
                "recorded {} for {} in {}",
                entry.verdict.as_str(),
                entry.identity,
                args.store.display()
            );
            Ok(0)
        }
        crate::cli::FeedbackCommand::List => {
            let all = fb::read(&args.store).map_err(|e| Failure::usage(anyhow!(e)))?;
            let t = now();
            for f in all {
                println!(
                    "{}  {:<15} {}  {}{}",
                    f.at,
                    f.verdict.as_str(),
                    f.identity,
                    f.reason,
                    match f.expires_at() {
                        Some(e) if f.suppresses(t) => format!("  (suppressing until {e})"),
                        Some(e) => format!("  (expired {e})"),
                        None => String::new(),
                    }
                );
            }
            Ok(0)
        }
    }
}

pub fn demo(args: &DemoArgs) -> Result<u8, Failure> {
    simulate(&args.out, &args.sim)?;
    let logs: Vec<PathBuf> = ["cloudtrail", "k8s-audit", "cloudtrail.jsonl.gz"]
        .iter()
        .map(|p| args.out.join(p))
        .filter(|p| p.exists())
        .collect();
    let inv: Vec<PathBuf> = [
        "inventory/authorization-details.json",
        "inventory/credential-report.csv",
    ]
    .iter()
    .map(|p| args.out.join(p))
    .filter(|p| p.exists())
    .collect();
    let owners = Some(args.out.join("owners.yaml")).filter(|p| p.exists());
    let result = collect(
        Inputs {
            logs: &logs,
            inventory: &inv,
            owners: owners.as_deref(),
            aws_ip_ranges: None,
        },
        Limits::default(),
        &mut |_| Ok(()),
    )?;
    emit(&result, args.format, None, false)?;
    report::summary(&result, None, &mut std::io::stderr())
        .map_err(|e| Failure::internal(anyhow!(e)))?;
    Ok(0)
}
