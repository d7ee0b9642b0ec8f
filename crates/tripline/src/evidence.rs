//! Writing a scan into the evidence ledger, and `tripline evidence verify|export|keygen`.

use crate::cli::{EvidenceArgs, EvidenceCommand};
use crate::scan::{now, ScanResult};
use crate::Failure;
use anyhow::anyhow;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use tripline_store::{
    Entry, Evidence, InputSummary, PublicKey, Score, SignatureReport, SignedHead, SigningKey,
    StoreError, Verification, VerifyOptions, VerifyReport,
};

/// Exit code when a ledger or bundle fails verification.
pub const TAMPERED: u8 = 4;

/// Where the signing key comes from when no flag names it.
pub const KEY_ENV: &str = "TRIPLINE_EVIDENCE_KEY";
/// Where the trusted public key comes from when no flag names it.
pub const PUBLIC_KEY_ENV: &str = "TRIPLINE_EVIDENCE_PUBLIC_KEY";

/// The private key to sign heads with: the flag's, else `$TRIPLINE_EVIDENCE_KEY`, else none.
/// Read (and checked) before a scan starts, so a bad key stops it before any work.
pub fn signer(flag: Option<&Path>) -> Result<Option<SigningKey>, Failure> {
    let path = match flag {
        Some(p) => p.to_path_buf(),
        None => match std::env::var_os(KEY_ENV) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => return Ok(None),
        },
    };
    SigningKey::from_file(&path)
        .map(Some)
        .map_err(|e| Failure::usage(anyhow!(e).context("reading the evidence signing key")))
}

/// What a run wrote to the ledger, for the summary.
#[derive(Debug)]
pub struct Recorded {
    path: PathBuf,
    count: u64,
    signed: Result<Option<SignedHead>, StoreError>,
}

impl Recorded {
    /// The exit code when a key was given but the head was not signed: 4 when the ledger fails
    /// verification, 1 otherwise.
    pub fn signing_failed(&self) -> Option<u8> {
        match &self.signed {
            Err(e) if e.is_damage() => Some(TAMPERED),
            Err(_) => Some(1),
            Ok(_) => None,
        }
    }
}

impl fmt::Display for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "appended {} evidence records to {}; ",
            self.count,
            self.path.display()
        )?;
        match &self.signed {
            Ok(Some(h)) => write!(
                f,
                "head (record {}) signed by key {} at {}",
                h.seq,
                h.key_id(),
                h.at
            ),
            Ok(None) => write!(
                f,
                "the chain is UNSIGNED (no --signing-key or ${KEY_ENV}): a full rewrite of the \
                 ledger would not show"
            ),
            Err(e) => write!(f, "the head was NOT signed: {e}"),
        }
    }
}

/// Appends what a scan read and concluded: the input summary, then per non-human identity its
/// score and signals, in one transaction; then signs the head with `key`, if given.
pub fn record_scan(
    path: &Path,
    r: &ScanResult,
    key: Option<&SigningKey>,
) -> Result<Recorded, Failure> {
    let mut ev = Evidence::open(path)
        .map_err(|e| Failure::internal(anyhow!(e).context("opening the evidence ledger")))?;
    let at = now();
    let s = &r.stats;
    let summary = InputSummary {
        files: s.files,
        records: s.records,
        events: s.events,
        rejected: s
            .rejected
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), *v))
            .collect(),
    };
    let store_err = |e: StoreError| Failure::internal(anyhow!(e).context("writing evidence"));
    let mut entries = vec![Entry::of("scan", &summary, at).map_err(store_err)?];
    if let Some(v) = &r.policy_version {
        entries.push(Entry::new(
            tripline_store::Kind::PolicyVersion,
            "policy",
            serde_json::json!({"version": v, "mode": r.respond_mode.unwrap_or("plan")}),
            at,
        ));
    }
    for (i, a) in r.report.identities.iter().zip(&r.report.assessments) {
        if !i.kind.is_nhi() {
            continue;
        }
        entries.push(Entry::of(i.id.clone(), &Score::of(a), at).map_err(store_err)?);
        for sig in &a.signals {
            entries.push(Entry::of(i.id.clone(), sig, at).map_err(store_err)?);
        }
        if let Some(d) = r.decisions.get(&i.id) {
            let expires = d
                .actions
                .iter()
                .filter_map(|x| x.expires_in_secs)
                .max()
                .map(|s| {
                    tripline_model::Timestamp(
                        at.0 + i64::try_from(s).unwrap_or(i64::MAX / 2_000) * 1000,
                    )
                });
            let body = tripline_store::Decision {
                identity: i.id.clone(),
                tier: d.tier.as_str().to_string(),
                actions: d
                    .actions
                    .iter()
                    .map(|x| format!("{} ({:?}; undo: {})", x.kind.as_str(), x.status, x.undo))
                    .collect(),
                reasons: d.reasons.clone(),
                expires,
            };
            entries.push(Entry::of(i.id.clone(), &body, at).map_err(store_err)?);
        }
    }
    for o in &r.outcomes {
        let body = serde_json::to_value(o).map_err(|e| Failure::internal(anyhow!(e)))?;
        entries.push(Entry::new(
            tripline_store::Kind::Action,
            o.identity.clone(),
            body,
            at,
        ));
    }
    let appended = ev.append_batch(&entries).map_err(store_err)?;
    // A chain that does not follow from its last signed head is not signed again (the error
    // says where it breaks); the records are appended either way and the report still goes out.
    let signed = key.map(|k| ev.sign_head(k, now())).transpose();
    Ok(Recorded {
        path: path.to_path_buf(),
        count: appended.count,
        signed,
    })
}

/// Standard output that never panics: a closed pipe (`| head -1`) ends the output quietly, any
/// other failure (a full disk, `>/dev/full`) is an error.
struct Out {
    closed: bool,
}

impl Out {
    fn new() -> Self {
        Self { closed: false }
    }

    fn line(&mut self, text: &str) -> Result<(), Failure> {
        if self.closed {
            return Ok(());
        }
        let mut out = std::io::stdout().lock();
        match writeln!(out, "{text}").and_then(|()| out.flush()) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(())
            }
            Err(e) => Err(Failure::internal(
                anyhow!(e).context("writing to standard output"),
            )),
        }
    }
}

fn trusted_keys(flags: &[PathBuf]) -> Result<Vec<PublicKey>, Failure> {
    let paths: Vec<PathBuf> = if flags.is_empty() {
        match std::env::var_os(PUBLIC_KEY_ENV) {
            Some(p) if !p.is_empty() => vec![PathBuf::from(p)],
            _ => Vec::new(),
        }
    } else {
        flags.to_vec()
    };
    paths
        .iter()
        .map(|p| PublicKey::from_file(p).map_err(|e| Failure::usage(anyhow!(e))))
        .collect()
}

/// Prints a verification and returns its exit code.
fn report(out: &mut Out, what: &str, v: &Verification) -> Result<u8, Failure> {
    let code = if v.is_ok() { 0 } else { TAMPERED };
    match &v.chain {
        VerifyReport::Ok { records, head_hash } => {
            out.line(&format!("{what}: ok, {records} records, head {head_hash}"))?;
        }
        other => {
            out.line(&format!("{what}: FAILED: {other}"))?;
            return Ok(code);
        }
    }
    match &v.signatures {
        Some(s @ SignatureReport::Invalid { .. }) => {
            out.line(&format!("{what}: FAILED: {s}"))?;
        }
        Some(s) => out.line(&format!("{what}: {s}"))?,
        None => {}
    }
    Ok(code)
}

/// The outcome of reading a ledger for verification: damage is a failed verification (exit 4),
/// a file that cannot be opened is bad usage (exit 2).
fn damaged_or(e: StoreError) -> Result<Verification, Failure> {
    if e.is_damage() {
        Ok(Verification::chain_failed(VerifyReport::Damaged {
            reason: e.to_string(),
        }))
    } else {
        Err(Failure::usage(anyhow!(e)))
    }
}

fn verify_store(p: &Path, opts: VerifyOptions<'_>) -> Result<Verification, Failure> {
    crate::scan::require_exists(p)?;
    match Evidence::open_read_only(p) {
        Ok(ev) => ev.verify_with(opts).or_else(damaged_or),
        Err(e) => damaged_or(e),
    }
}

pub fn run(args: &EvidenceArgs) -> Result<u8, Failure> {
    let mut out = Out::new();
    match &args.command {
        EvidenceCommand::Verify {
            store,
            bundle,
            public_key,
            require_signed_head,
        } => {
            let trusted = trusted_keys(public_key)?;
            let opts = VerifyOptions {
                trusted: &trusted,
                require_signed_head: *require_signed_head,
            };
            let (what, v) = match (store, bundle) {
                (Some(p), None) => (p, verify_store(p, opts)?),
                (None, Some(b)) => (
                    b,
                    tripline_store::verify_bundle_with(b, opts)
                        .map_err(|e| Failure::usage(anyhow!(e)))?,
                ),
                _ => {
                    return Err(Failure::usage(anyhow!(
                        "give exactly one of --store FILE or --bundle DIR"
                    )))
                }
            };
            report(&mut out, &what.display().to_string(), &v)
        }
        EvidenceCommand::Export {
            store,
            out: dir,
            signing_key,
        } => {
            let key = signer(signing_key.as_deref())?;
            crate::scan::require_exists(store)?;
            // Refuse what is not a ledger before opening it for writing (which would make an
            // empty file into one).
            if let Err(e) = Evidence::open_read_only(store) {
                if e.is_damage() {
                    out.line(&format!(
                        "{}: FAILED: {e}; nothing exported",
                        store.display()
                    ))?;
                    return Ok(TAMPERED);
                }
                return Err(Failure::usage(anyhow!(e)));
            }
            let exported = match &key {
                Some(k) => Evidence::open(store).and_then(|mut ev| ev.export_signed(dir, k, now())),
                None => Evidence::open_read_only(store).and_then(|ev| ev.export(dir)),
            };
            match exported {
                Ok(s) => {
                    let m = &s.manifest;
                    let signed = match &key {
                        Some(k) => format!("head signed by key {}", k.public_key().id()),
                        None => format!(
                            "head NOT signed (no --signing-key or ${KEY_ENV}); {} earlier \
                             signed heads included",
                            m.signed_heads
                        ),
                    };
                    out.line(&format!(
                        "exported {} records to {} (head {}); {signed}",
                        m.records,
                        s.dir.display(),
                        m.head_hash
                    ))?;
                    Ok(0)
                }
                Err(e) if e.is_damage() => {
                    out.line(&format!(
                        "{}: FAILED: {e}; nothing exported",
                        store.display()
                    ))?;
                    Ok(TAMPERED)
                }
                Err(e) => Err(Failure::internal(anyhow!(e))),
            }
        }
        EvidenceCommand::Keygen { out: path } => {
            let key = SigningKey::generate().map_err(|e| Failure::internal(anyhow!(e)))?;
            let files = key
                .write_new(path)
                .map_err(|e| Failure::usage(anyhow!(e)))?;
            out.line(&format!(
                "wrote private key {} (mode 0600; keep it outside the evidence store) and public \
                 key {} (key id {}): `scan --evidence FILE --signing-key {}`, \
                 `evidence verify --public-key {}`",
                files.private.display(),
                files.public.display(),
                files.key_id,
                files.private.display(),
                files.public.display()
            ))?;
            Ok(0)
        }
    }
}
