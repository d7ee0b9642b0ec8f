//! Log readers: CloudTrail (a `{"Records":[…]}` document, JSON Lines, `aws cloudtrail
//! lookup-events` output, gzip or not, an S3 `AWSLogs/…` tree) and Kubernetes audit (JSON Lines),
//! including both wrapped one-per-line in Panther rule-test bundles (`{"log": {…}}`).
//!
//! Every record ends as exactly one of: an [`Event`], a [`Rejected`] with its reason, or a
//! counted non-final Kubernetes audit stage. Nothing is dropped silently and nothing panics.

mod admit;
mod aws_semantics;
mod cloudtrail;
pub mod files;
mod k8s;
mod k8s_semantics;

pub use cloudtrail::is_denied;
pub use files::{discover, Discovered, ProgressFn};

use crate::limits::{json_depth_exceeds, Limits};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use tripline_model::{Event, LogSource, RejectReason, Rejected};

/// What a reader hands to its caller, one at a time, in input order.
#[derive(Debug)]
pub enum Item {
    Event(Box<Event>),
    Rejected(Rejected),
}

/// Counts for one read: the basis of the run summary.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadStats {
    pub files: u64,
    pub gzip_files: u64,
    pub decompressed_bytes: u64,
    /// Records seen (events + rejected + non-final audit stages).
    pub records: u64,
    pub events: u64,
    pub cloudtrail_events: u64,
    pub k8s_events: u64,
    /// Kubernetes audit records of a non-final stage (RequestReceived, ResponseStarted): the same
    /// request is read from its ResponseComplete record.
    pub k8s_non_final_stages: u64,
    /// Records without an id (CloudTrail `eventID`, Kubernetes `auditID`), given one derived
    /// from their bytes.
    pub derived_event_ids: u64,
    /// Records whose event id was already read with the same content (the same logs given
    /// twice, a file reachable by two paths): counted here, not again as events.
    #[serde(default)]
    pub duplicate_events: u64,
    /// Rejected records by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Files under named directories that were not read, with why.
    pub skipped_files: Vec<(PathBuf, String)>,
    /// Paths that could not be opened or listed.
    pub unreadable: Vec<(PathBuf, String)>,
    /// Symbolic links (or second paths) not followed because they lead to a directory already
    /// walked (a loop) or a file already read, with why.
    #[serde(default)]
    pub skipped_links: Vec<(PathBuf, String)>,
}

impl ReadStats {
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// Reads logs within [`Limits`].
#[derive(Clone, Default)]
pub struct LogReader {
    pub limits: Limits,
    pub progress: Option<ProgressFn>,
    /// The wall clock events are checked against ([`Limits::max_future_secs`]); `None`: the
    /// system clock when a read starts.
    pub now: Option<tripline_model::Timestamp>,
}

impl std::fmt::Debug for LogReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogReader")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

const EXCERPT_OF_OVERSIZED: usize = 4096;
/// Largest rejected input kept whole in a quarantine record.
const EXCERPT_OF_RECORD: usize = 1 << 20;

struct Ctx<'s> {
    origin: String,
    stats: &'s mut ReadStats,
    sink: &'s mut dyn FnMut(Item),
    admission: &'s mut admit::Admission,
}

impl Ctx<'_> {
    fn reject(&mut self, position: Option<u64>, reason: RejectReason, detail: String, raw: &[u8]) {
        *self.stats.rejected.entry(reason).or_insert(0) += 1;
        // A rejected record is kept whole (to fix and replay) up to the record cap; anything
        // larger (an oversized record, a whole rejected document) keeps only its first bytes.
        let keep = if reason == RejectReason::TooLarge || raw.len() > EXCERPT_OF_RECORD {
            EXCERPT_OF_OVERSIZED
        } else {
            raw.len()
        };
        let cut = raw.get(..raw.len().min(keep));
        let excerpt = String::from_utf8_lossy(cut.unwrap_or(raw)).into_owned();
        (self.sink)(Item::Rejected(Rejected {
            origin: self.origin.clone(),
            position,
            reason,
            detail,
            excerpt,
        }));
    }

    fn event(&mut self, ev: Event) {
        match self.admission.check(&ev) {
            admit::Admit::New => {}
            admit::Admit::Duplicate => {
                admit::count_duplicate(self.stats);
                return;
            }
            admit::Admit::Reject(reason, detail) => {
                let raw = serde_json::to_vec(&ev).unwrap_or_default();
                self.reject(None, reason, detail, &raw);
                return;
            }
        }
        self.stats.events += 1;
        match ev.source {
            LogSource::CloudTrail => self.stats.cloudtrail_events += 1,
            LogSource::K8sAudit => self.stats.k8s_events += 1,
        }
        (self.sink)(Item::Event(Box::new(ev)));
    }
}

/// Markers used to tell record types apart when a record is not CloudTrail.
#[derive(Deserialize)]
struct Probe<'a> {
    #[serde(rename = "apiVersion")]
    api_version: Option<&'a str>,
    kind: Option<&'a str>,
    #[serde(rename = "auditID")]
    audit_id: Option<&'a RawValue>,
    verb: Option<&'a RawValue>,
    user: Option<&'a RawValue>,
    #[serde(rename = "objectRef")]
    object_ref: Option<&'a RawValue>,
    /// Azure diagnostic logs carry AKS audit events as a JSON string in `properties.log`.
    category: Option<&'a str>,
    properties: Option<AzureProperties<'a>>,
    #[serde(rename = "Records")]
    records: Option<&'a RawValue>,
    /// Panther rule-test bundles wrap the event in `log`.
    log: Option<&'a RawValue>,
    p_log_type: Option<&'a str>,
    log_type: Option<&'a str>,
    log_types: Option<Vec<&'a str>>,
}

#[derive(Deserialize)]
struct AzureProperties<'a> {
    #[serde(borrow)]
    log: Option<std::borrow::Cow<'a, str>>,
}

/// Best-effort name of a log type Tripline does not read, from the keys of its records.
fn foreign_log_type(v: &serde_json::Map<String, serde_json::Value>) -> Option<&'static str> {
    let has = |k: &str| v.contains_key(k);
    if has("protoPayload") || (has("logName") && has("resource")) {
        Some("GCP audit log")
    } else if has("actor") && has("eventType") && (has("published") || has("displayMessage")) {
        Some("Okta system log")
    } else if has("operationName")
        && (has("resourceId") || has("category") || has("callerIpAddress"))
    {
        Some("Azure activity/audit log")
    } else if has("action") && (has("org") || has("repo") || has("actor")) && !has("eventSource") {
        Some("GitHub audit log")
    } else if has("detail-type") || (has("schemaVersion") && has("service") && has("severity")) {
        Some("AWS GuardDuty finding")
    } else {
        None
    }
}

impl LogReader {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            progress: None,
            now: None,
        }
    }

    /// Reads every file under `paths` (see [`discover`]) in order.
    pub fn read_paths(&self, paths: &[PathBuf], sink: &mut dyn FnMut(Item)) -> ReadStats {
        let found = discover(paths);
        let mut stats = ReadStats {
            skipped_files: found
                .skipped
                .into_iter()
                .map(|(p, why)| (p, why.to_string()))
                .collect(),
            unreadable: found.unreadable,
            skipped_links: found
                .skipped_links
                .into_iter()
                .map(|(p, why)| (p, why.to_string()))
                .collect(),
            ..ReadStats::default()
        };
        // One admission for every file: an event id counts once across all the inputs.
        let mut admission = admit::Admission::new(&self.limits, self.now);
        for file in &found.files {
            self.read_file_admitting(file, &mut stats, sink, &mut admission);
        }
        stats
    }

    /// Reads one file, adding to `stats`. An unopenable file is recorded in `stats.unreadable`.
    /// Event ids are deduplicated within the file (across files by [`read_paths`](Self::read_paths)).
    pub fn read_file(&self, path: &Path, stats: &mut ReadStats, sink: &mut dyn FnMut(Item)) {
        let mut admission = admit::Admission::new(&self.limits, self.now);
        self.read_file_admitting(path, stats, sink, &mut admission);
    }

    fn read_file_admitting(
        &self,
        path: &Path,
        stats: &mut ReadStats,
        sink: &mut dyn FnMut(Item),
        admission: &mut admit::Admission,
    ) {
        let (mut reader, compression) = match files::open(
            path,
            self.limits.max_decompressed_bytes,
            self.progress.clone(),
        ) {
            Ok(r) => r,
            Err(e) => {
                stats.unreadable.push((path.to_path_buf(), e.to_string()));
                return;
            }
        };
        stats.files += 1;
        if compression == files::Compression::Gzip {
            stats.gzip_files += 1;
        }
        let mut ctx = Ctx {
            origin: path.display().to_string(),
            stats,
            sink,
            admission,
        };
        // A FIFO, `/dev/stdin` or a socket can be read only once: into a bounded buffer, then
        // from memory (a regular file is streamed and may be re-read as one document).
        let regular = std::fs::metadata(path).map(|m| m.is_file()).unwrap_or(true);
        if !regular {
            self.read_once(&mut reader, &mut ctx);
            return;
        }
        skip_bom(&mut reader);
        let document = match reader.fill_buf() {
            Ok(head) => starts_document(head),
            Err(e) => {
                let (reason, detail) = io_reject(&e, 0);
                ctx.reject(None, reason, detail, b"");
                return;
            }
        };
        if document {
            self.read_document(&mut reader, &mut ctx);
        } else if let LineEnd::RetryAsDocument = self.read_lines(&mut reader, &mut ctx) {
            match files::open(path, self.limits.max_decompressed_bytes, None) {
                Ok((mut again, _)) => {
                    skip_bom(&mut again);
                    self.read_document(&mut again, &mut ctx)
                }
                Err(e) => ctx
                    .stats
                    .unreadable
                    .push((path.to_path_buf(), e.to_string())),
            }
        }
    }

    /// Reads records from bytes already in memory (tests, fuzzing, HTTP ingest).
    pub fn read_bytes(
        &self,
        origin: &str,
        bytes: &[u8],
        stats: &mut ReadStats,
        sink: &mut dyn FnMut(Item),
    ) {
        let mut admission = admit::Admission::new(&self.limits, self.now);
        let mut ctx = Ctx {
            origin: origin.to_string(),
            stats,
            sink,
            admission: &mut admission,
        };
        self.read_memory(bytes, &mut ctx);
    }

    /// Records in memory: a document, or lines (re-read as one document if they turn out to
    /// be one). A UTF-8 byte-order mark is skipped.
    fn read_memory(&self, bytes: &[u8], ctx: &mut Ctx<'_>) {
        let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        let mut cursor = std::io::Cursor::new(bytes);
        if starts_document(bytes) {
            self.read_document(&mut cursor, ctx);
        } else if let LineEnd::RetryAsDocument = self.read_lines(&mut cursor, ctx) {
            self.read_document(&mut std::io::Cursor::new(bytes), ctx);
        }
    }

    /// A stream that cannot be reopened: up to `max_document_bytes` are buffered and read from
    /// memory; a longer stream is read as JSON Lines from the buffer onwards, and if it turns
    /// out to be one document it is rejected as too large (it cannot be re-read).
    fn read_once(&self, reader: &mut dyn BufRead, ctx: &mut Ctx<'_>) {
        let cap = self.limits.max_document_bytes;
        let mut buf = Vec::new();
        let res = reader.take(cap as u64 + 1).read_to_end(&mut buf);
        if let Err(e) = res {
            // What arrived before the error is read; the error is the stream's rejection.
            self.read_memory(&buf, ctx);
            ctx.stats.records += 1;
            let (reason, detail) = io_reject(&e, buf.len() as u64);
            ctx.reject(None, reason, detail, b"");
            return;
        }
        if buf.len() <= cap {
            self.read_memory(&buf, ctx);
            return;
        }
        let start = usize::from(buf.starts_with(BOM)) * BOM.len();
        let mut rest = std::io::Cursor::new(buf.get(start..).unwrap_or_default()).chain(reader);
        let mut rest = std::io::BufReader::new(&mut rest);
        if let LineEnd::RetryAsDocument = self.read_lines(&mut rest, ctx) {
            ctx.stats.records += 1;
            ctx.reject(
                None,
                RejectReason::TooLarge,
                format!("a stream that cannot be re-read (FIFO, stdin) holds one JSON document over --max-document-bytes ({cap})"),
                buf.get(..EXCERPT_OF_OVERSIZED.min(buf.len())).unwrap_or_default(),
            );
        }
    }

    fn read_lines(&self, reader: &mut dyn BufRead, ctx: &mut Ctx<'_>) -> LineEnd {
        let mut buf = Vec::with_capacity(8 << 10);
        let mut line_no: u64 = 0;
        let mut seen_record = false;
        loop {
            let res = files::read_capped_line(reader, &mut buf, self.limits.max_record_bytes);
            line_no += 1;
            match res {
                Ok(files::Line::Eof) => return LineEnd::Done,
                Ok(files::Line::TooLong(len)) => {
                    ctx.stats.records += 1;
                    let detail = format!(
                        "record of {len} bytes exceeds the {} byte cap (--max-record-bytes)",
                        self.limits.max_record_bytes
                    );
                    ctx.reject(Some(line_no), RejectReason::TooLarge, detail, &buf);
                }
                Ok(files::Line::Ok) => {
                    ctx.stats.decompressed_bytes += buf.len() as u64 + 1;
                    if buf.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    // The first record starts a value it does not finish: a pretty-printed
                    // document (blank lines before it do not count).
                    if !seen_record && is_incomplete_json(&buf) {
                        return LineEnd::RetryAsDocument;
                    }
                    seen_record = true;
                    self.record(&buf, Some(line_no), ctx, 0);
                }
                Err(e) => {
                    ctx.stats.records += u64::from(!buf.is_empty());
                    let (reason, detail) = io_reject(&e, ctx.stats.decompressed_bytes);
                    ctx.reject(Some(line_no), reason, detail, &buf);
                    return LineEnd::Done;
                }
            }
        }
    }

    fn read_document(&self, reader: &mut dyn BufRead, ctx: &mut Ctx<'_>) {
        let cap = self.limits.max_document_bytes;
        let mut doc = Vec::new();
        let res = reader.take(cap as u64 + 1).read_to_end(&mut doc);
        ctx.stats.decompressed_bytes += doc.len() as u64;
        if let Err(e) = res {
            ctx.stats.records += 1;
            let (reason, detail) = io_reject(&e, doc.len() as u64);
            let detail = format!(
                "{detail}; the document could not be read whole, so none of its records were read"
            );
            ctx.reject(None, reason, detail, &doc);
            return;
        }
        if doc.len() > cap {
            ctx.stats.records += 1;
            let detail = format!(
                "json document larger than the {cap} byte cap (--max-document-bytes); split it or convert it to JSON Lines"
            );
            ctx.reject(None, RejectReason::DecompressedTooLarge, detail, &doc);
            return;
        }
        #[derive(Deserialize)]
        struct Doc<'a> {
            #[serde(rename = "Records", borrow)]
            records: Option<Vec<&'a RawValue>>,
            /// `aws cloudtrail lookup-events` output.
            #[serde(rename = "Events", borrow)]
            events: Option<Vec<LookupEvent<'a>>>,
        }
        #[derive(Deserialize)]
        struct LookupEvent<'a> {
            #[serde(rename = "CloudTrailEvent", borrow)]
            cloudtrail_event: Option<std::borrow::Cow<'a, str>>,
        }
        let text = match std::str::from_utf8(&doc) {
            Ok(t) => t,
            Err(e) => {
                ctx.stats.records += 1;
                ctx.reject(
                    None,
                    RejectReason::NotUtf8,
                    format!("document is not utf-8: {e}"),
                    &doc,
                );
                return;
            }
        };
        let trimmed = text.trim_start();
        if trimmed.starts_with('[') {
            match serde_json::from_str::<Vec<&RawValue>>(text) {
                Ok(items) => {
                    for (i, raw) in items.iter().enumerate() {
                        self.record(raw.get().as_bytes(), Some(i as u64 + 1), ctx, 0);
                    }
                }
                Err(e) => self.reject_json(None, ctx, &e, &doc),
            }
            return;
        }
        match serde_json::from_str::<Doc<'_>>(text) {
            Ok(Doc {
                records: Some(items),
                ..
            }) => {
                for (i, raw) in items.iter().enumerate() {
                    self.record(raw.get().as_bytes(), Some(i as u64 + 1), ctx, 0);
                }
            }
            Ok(Doc {
                events: Some(items),
                ..
            }) => {
                for (i, ev) in items.iter().enumerate() {
                    match &ev.cloudtrail_event {
                        Some(inner) => self.record(inner.as_bytes(), Some(i as u64 + 1), ctx, 0),
                        None => {
                            ctx.stats.records += 1;
                            ctx.reject(
                                Some(i as u64 + 1),
                                RejectReason::InvalidRecord,
                                "lookup-events entry has no CloudTrailEvent".into(),
                                b"",
                            );
                        }
                    }
                }
            }
            // A single (pretty-printed) record.
            Ok(_) => self.record(&doc, None, ctx, 0),
            Err(e) => self.reject_json(None, ctx, &e, &doc),
        }
    }

    fn reject_json(&self, pos: Option<u64>, ctx: &mut Ctx<'_>, e: &serde_json::Error, raw: &[u8]) {
        ctx.stats.records += 1;
        let reason = if e.is_data() {
            RejectReason::InvalidRecord
        } else {
            RejectReason::NotJson
        };
        ctx.reject(pos, reason, format!("not valid json: {e}"), raw);
    }

    /// A Kubernetes audit record: the final stage becomes an event, the others are counted.
    fn audit(
        parsed: Result<k8s::AuditEvent, serde_json::Error>,
        raw: &[u8],
        pos: Option<u64>,
        ctx: &mut Ctx<'_>,
    ) {
        ctx.stats.records += 1;
        match parsed {
            Ok(ev) if !k8s::is_final_stage(ev.stage.as_deref()) => {
                ctx.stats.k8s_non_final_stages += 1;
            }
            Ok(ev) => match k8s::to_event(ev, raw) {
                Ok((e, derived)) => {
                    ctx.stats.derived_event_ids += u64::from(derived);
                    ctx.event(e)
                }
                Err(why) => ctx.reject(pos, RejectReason::InvalidRecord, why, raw),
            },
            Err(e) => ctx.reject(
                pos,
                RejectReason::InvalidRecord,
                format!("invalid kubernetes audit event: {e}"),
                raw,
            ),
        }
    }

    /// One record: size and depth caps, then CloudTrail, Kubernetes, a wrapper, or a reason.
    fn record(&self, raw: &[u8], pos: Option<u64>, ctx: &mut Ctx<'_>, nesting: u8) {
        if raw.len() > self.limits.max_record_bytes {
            ctx.stats.records += 1;
            let detail = format!(
                "record of {} bytes exceeds the {} byte cap (--max-record-bytes)",
                raw.len(),
                self.limits.max_record_bytes
            );
            return ctx.reject(pos, RejectReason::TooLarge, detail, raw);
        }
        if json_depth_exceeds(raw, self.limits.max_depth) {
            ctx.stats.records += 1;
            let detail = format!("json nested deeper than {} levels", self.limits.max_depth);
            return ctx.reject(pos, RejectReason::TooDeep, detail, raw);
        }
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                ctx.stats.records += 1;
                return ctx.reject(
                    pos,
                    RejectReason::NotUtf8,
                    format!("record is not utf-8: {e}"),
                    raw,
                );
            }
        };
        // A Kubernetes audit event names its `auditID` and never an `eventSource`: parse it as
        // one directly (a single parse instead of three). Anything else, or an audit event
        // inside a wrapper, takes the general path below.
        if memchr::memmem::find(raw, b"\"auditID\"").is_some()
            && memchr::memmem::find(raw, b"\"eventSource\"").is_none()
        {
            if let Ok(ev) = serde_json::from_str::<k8s::AuditEvent>(text) {
                if ev.audit_id.is_some() && ev.verb.is_some() {
                    return Self::audit(Ok(ev), raw, pos, ctx);
                }
            }
        }
        // CloudTrail is by far the most common record: try it first, in one typed parse.
        match serde_json::from_str::<cloudtrail::CloudTrailRecord<'_>>(text) {
            Ok(rec)
                if rec.event_source.is_some()
                    || rec.user_identity.is_some()
                    || rec.event_time.is_some() && rec.event_name.is_some() =>
            {
                ctx.stats.records += 1;
                return match cloudtrail::to_event(rec, raw) {
                    Ok((ev, derived)) => {
                        ctx.stats.derived_event_ids += u64::from(derived);
                        ctx.event(ev)
                    }
                    Err(why) => ctx.reject(pos, RejectReason::InvalidRecord, why, raw),
                };
            }
            Ok(_) => {}
            Err(e) if !e.is_data() => {
                ctx.stats.records += 1;
                let reason = RejectReason::NotJson;
                return ctx.reject(pos, reason, format!("not valid json: {e}"), raw);
            }
            Err(e) => {
                // Valid JSON whose fields have unexpected types: say what it looked like.
                if text.contains("\"eventSource\"") || text.contains("\"userIdentity\"") {
                    ctx.stats.records += 1;
                    let detail = format!("invalid cloudtrail record: {e}");
                    return ctx.reject(pos, RejectReason::InvalidRecord, detail, raw);
                }
            }
        }
        let probe = match serde_json::from_str::<Probe<'_>>(text) {
            Ok(p) => p,
            Err(_) => return self.unknown(text, raw, pos, ctx),
        };
        if let Some(inner) = probe.log.filter(|_| nesting == 0) {
            let declared = probe
                .p_log_type
                .or(probe.log_type)
                .map(str::to_string)
                .or_else(|| probe.log_types.as_ref().map(|t| t.join(" or ")));
            return self.wrapped(inner.get().as_bytes(), declared.as_deref(), pos, ctx);
        }
        let is_audit = probe
            .api_version
            .is_some_and(|v| v.starts_with("audit.k8s.io/"))
            && probe.kind.is_none_or(|k| k == "Event")
            || probe.audit_id.is_some() && probe.verb.is_some()
            || probe.kind == Some("Event")
                && probe.verb.is_some()
                && (probe.user.is_some() || probe.object_ref.is_some());
        if nesting <= 1 && matches!(probe.category, Some("kube-audit" | "kube-audit-admin")) {
            if let Some(inner) = probe.properties.as_ref().and_then(|p| p.log.as_deref()) {
                return self.record(inner.as_bytes(), pos, ctx, nesting + 1);
            }
        }
        if is_audit {
            return Self::audit(serde_json::from_str::<k8s::AuditEvent>(text), raw, pos, ctx);
        }
        if probe
            .api_version
            .is_some_and(|v| v.starts_with("audit.k8s.io/"))
            && probe.kind == Some("EventList")
        {
            #[derive(Deserialize)]
            struct List<'a> {
                #[serde(borrow)]
                items: Vec<&'a RawValue>,
            }
            if let Ok(list) = serde_json::from_str::<List<'_>>(text) {
                for item in list.items {
                    self.record(item.get().as_bytes(), pos, ctx, nesting + 1);
                }
                return;
            }
        }
        if let Some(records) = probe.records.filter(|_| nesting == 0) {
            if let Ok(items) = serde_json::from_str::<Vec<&RawValue>>(records.get()) {
                for item in items {
                    self.record(item.get().as_bytes(), pos, ctx, nesting + 1);
                }
                return;
            }
        }
        self.unknown(text, raw, pos, ctx);
    }

    /// A Panther rule-test line: the event is in `log`, its type named by `p_log_type`/`log_types`.
    fn wrapped(&self, inner: &[u8], declared: Option<&str>, pos: Option<u64>, ctx: &mut Ctx<'_>) {
        let mut unknown: Vec<Rejected> = Vec::new();
        {
            // Run the inner record through the same path, but catch "unknown format" verdicts
            // (one per inner record: a wrapped list can hold many) so they can be reported with
            // the type the wrapper declares.
            let mut inner_sink = |item: Item| match item {
                Item::Rejected(r) if r.reason == RejectReason::UnknownFormat => unknown.push(r),
                other => (ctx.sink)(other),
            };
            let mut inner_ctx = Ctx {
                origin: ctx.origin.clone(),
                stats: ctx.stats,
                sink: &mut inner_sink,
                admission: ctx.admission,
            };
            self.record(inner, pos, &mut inner_ctx, 1);
        }
        if unknown.is_empty() {
            return;
        }
        // The inner record's own `p_log_type` is more precise than a rule's list of types.
        let own = serde_json::from_slice::<Probe<'_>>(inner)
            .ok()
            .and_then(|p| p.p_log_type.map(str::to_string));
        let foreign = own
            .as_deref()
            .or(declared)
            .filter(|t| !t.contains("CloudTrail") && !t.contains("EKS.Audit"))
            .map(str::to_string);
        for mut r in unknown {
            if let Some(t) = &foreign {
                // `record` counted it as unknown_format; re-file it under the declared type.
                if let Some(n) = ctx.stats.rejected.get_mut(&RejectReason::UnknownFormat) {
                    *n -= 1;
                    if *n == 0 {
                        ctx.stats.rejected.remove(&RejectReason::UnknownFormat);
                    }
                }
                *ctx.stats
                    .rejected
                    .entry(RejectReason::UnsupportedLogType)
                    .or_insert(0) += 1;
                r.reason = RejectReason::UnsupportedLogType;
                r.detail = format!("log type {t} is not read by tripline (it reads AWS CloudTrail and Kubernetes audit)");
            }
            (ctx.sink)(Item::Rejected(r));
        }
    }

    fn unknown(&self, text: &str, raw: &[u8], pos: Option<u64>, ctx: &mut Ctx<'_>) {
        ctx.stats.records += 1;
        let (reason, detail) = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => match foreign_log_type(&map) {
                Some(t) => (
                    RejectReason::UnsupportedLogType,
                    format!("looks like a {t}, which tripline does not read (it reads AWS CloudTrail and Kubernetes audit)"),
                ),
                None if map.contains_key("eventsource") && map.contains_key("eventname") => (
                    RejectReason::InvalidRecord,
                    "cloudtrail record with lower-cased field names (eventsource, eventname…); tripline reads cloudtrail's own camelCase names".to_string(),
                ),
                None => {
                    let keys: Vec<&str> = map.keys().take(6).map(String::as_str).collect();
                    (
                        RejectReason::UnknownFormat,
                        format!("json object is neither a cloudtrail record nor a kubernetes audit event (keys: {})", keys.join(", ")),
                    )
                }
            },
            Ok(other) => (RejectReason::UnknownFormat, format!("expected a json object, found {}", json_kind(&other))),
            Err(e) => (RejectReason::NotJson, format!("not valid json: {e}")),
        };
        ctx.reject(pos, reason, detail, raw);
    }
}

enum LineEnd {
    Done,
    RetryAsDocument,
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A file that opens with `[` or with an object whose first key is `Records` or `Events` is one
/// JSON document, not JSON Lines.
/// The UTF-8 byte-order mark some editors and exporters put first.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Skips a UTF-8 byte-order mark at the reader's position.
fn skip_bom(reader: &mut dyn BufRead) {
    if reader.fill_buf().is_ok_and(|head| head.starts_with(BOM)) {
        reader.consume(BOM.len());
    }
}

fn starts_document(head: &[u8]) -> bool {
    let mut it = head.iter().skip_while(|b| b.is_ascii_whitespace());
    match it.next() {
        Some(b'[') => true,
        Some(b'{') => {
            let rest: Vec<u8> = it
                .skip_while(|b| b.is_ascii_whitespace())
                .take(10)
                .copied()
                .collect();
            rest.starts_with(b"\"Records\"") || rest.starts_with(b"\"Events\"")
        }
        _ => false,
    }
}

/// A first line that starts a JSON value but ends before it does: a pretty-printed document.
fn is_incomplete_json(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    (t.starts_with(b"{") || t.starts_with(b"["))
        && serde_json::from_slice::<serde::de::IgnoredAny>(t).is_err_and(|e| e.is_eof())
}

fn io_reject(e: &std::io::Error, at: u64) -> (RejectReason, String) {
    if e.to_string() == files::CAP_REACHED {
        (
            RejectReason::DecompressedTooLarge,
            format!("decompressed size cap reached after {at} bytes (--max-decompressed-bytes); the rest of the file was not read"),
        )
    } else if matches!(
        e.kind(),
        std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::InvalidInput
            | std::io::ErrorKind::InvalidData
    ) {
        (
            RejectReason::CorruptCompression,
            format!("compressed stream is truncated or corrupt after {at} decompressed bytes ({e}); the rest of the file is unreadable"),
        )
    } else {
        (
            RejectReason::Unreadable,
            format!("read error after {at} bytes: {e}"),
        )
    }
}
