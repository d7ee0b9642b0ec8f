//! `tripline evidence`: keygen, signed scans, verify (read-only, exit 4 on a rewritten, truncated,
//! head-less or empty ledger), export, and a bundle verified elsewhere with only the public key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::tripline;
use rusqlite::{params, Connection};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

const EVENT: &str = r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE1","userName":"ci"},"eventTime":"2026-01-01T00:00:00Z","eventSource":"s3.amazonaws.com","eventName":"ListBuckets","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}"#;

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let second = EVENT
            .replace("\"e1\"", "\"e2\"")
            .replace("ListBuckets", "StopLogging")
            .replace("s3.amazonaws.com", "cloudtrail.amazonaws.com");
        fs::write(dir.path().join("a.jsonl"), format!("{EVENT}\n{second}\n")).unwrap();
        Self { dir }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn s(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }
    /// `evidence keygen --out keys/NAME`; returns (private, public).
    fn keygen(&self, name: &str) -> (String, String) {
        fs::create_dir_all(self.path("keys")).unwrap();
        let private = self.s(&format!("keys/{name}"));
        let out = run(&["evidence", "keygen", "--out", &private]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        (private.clone(), format!("{private}.pub"))
    }
    /// `scan --evidence ledger.sqlite [--signing-key KEY]`; returns the stderr summary.
    fn scan(&self, key: Option<&str>) -> String {
        let mut args = vec![
            "scan".to_owned(),
            "--logs".into(),
            self.s("a.jsonl"),
            "--evidence".into(),
            self.s("ledger.sqlite"),
        ];
        if let Some(k) = key {
            args.extend(["--signing-key".into(), k.into()]);
        }
        let out = tripline()
            .args(&args)
            .env_remove("TRIPLINE_EVIDENCE_KEY")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        String::from_utf8_lossy(&out.stderr).into_owned()
    }
    fn verify(&self, extra: &[&str]) -> Output {
        let ledger = self.s("ledger.sqlite");
        let mut args = vec!["evidence", "verify", "--store", &ledger];
        args.extend_from_slice(extra);
        run(&args)
    }
}

fn run(args: &[&str]) -> Output {
    tripline()
        .args(args)
        .env_remove("TRIPLINE_EVIDENCE_KEY")
        .env_remove("TRIPLINE_EVIDENCE_PUBLIC_KEY")
        .output()
        .unwrap()
}

/// The binary as a plain `std::process::Command`, whose stdout can be redirected.
fn bare() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("tripline"));
    c.env_remove("TRIPLINE_EVIDENCE_KEY")
        .env_remove("TRIPLINE_EVIDENCE_PUBLIC_KEY");
    c
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Exit code and all output.
fn code(out: &Output) -> (Option<i32>, String) {
    (out.status.code(), text(out))
}

/// Drops every trigger, edits record `seq`'s subject and recomputes every hash from it on,
/// then moves the head marker: a full rewrite by someone with write access to the file.
fn rewrite(ledger: &Path, seq: i64) {
    let c = Connection::open(ledger).unwrap();
    let triggers: Vec<String> = c
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in triggers {
        c.execute_batch(&format!("DROP TRIGGER {t}")).unwrap();
    }
    let rows: Vec<(i64, String, String, String, String, String)> = c
        .prepare("SELECT seq, at, kind, subject, body, prev_hash FROM evidence ORDER BY seq")
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = rows[seq as usize - 1].5.clone();
    for (s, at, kind, subject, body, _) in &rows[seq as usize - 1..] {
        let subject = if *s == seq {
            format!("{subject}-forged")
        } else {
            subject.clone()
        };
        let hash = tripline_store::record_hash(&prev, *s as u64, at, kind, &subject, body);
        c.execute(
            "UPDATE evidence SET subject = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            params![subject, prev, hash, s],
        )
        .unwrap();
        prev = hash;
    }
    c.execute("UPDATE evidence_head SET hash = ?1", params![prev])
        .unwrap();
}

#[test]
fn keygen_writes_a_private_key_only_its_owner_reads() {
    let s = Setup::new();
    let (private, public) = s.keygen("ev.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&private).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(fs::read_to_string(&public)
        .unwrap()
        .contains("tripline-ed25519-public "));
    // Never overwritten.
    let again = run(&["evidence", "keygen", "--out", &private]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    // A key others may read is refused before the scan does anything.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&private, fs::Permissions::from_mode(0o644)).unwrap();
        let out = run(&[
            "scan",
            "--logs",
            &s.s("a.jsonl"),
            "--evidence",
            &s.s("ledger.sqlite"),
            "--signing-key",
            &private,
        ]);
        let (c, t) = code(&out);
        assert_eq!(c, Some(2), "{t}");
        assert!(t.contains("readable by others"), "{t}");
        assert!(!s.path("ledger.sqlite").exists());
    }
    // A missing key file likewise.
    let out = run(&[
        "scan",
        "--logs",
        &s.s("a.jsonl"),
        "--evidence",
        &s.s("ledger.sqlite"),
        "--signing-key",
        &s.s("keys/none.key"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!s.path("ledger.sqlite").exists());
}

#[test]
fn a_signed_ledger_passes_and_a_recomputed_one_fails_on_its_signature() {
    let s = Setup::new();
    let (private, public) = s.keygen("ev.key");
    let summary = s.scan(Some(&private));
    assert!(summary.contains("signed by key"), "{summary}");
    let (c, t) = code(&s.verify(&["--public-key", &public]));
    assert_eq!(c, Some(0), "{t}");
    assert!(
        t.contains(": ok, ") && t.contains("signed: 1 signed head,"),
        "{t}"
    );

    rewrite(&s.path("ledger.sqlite"), 2);
    for extra in [&["--public-key", public.as_str()][..], &[]] {
        let (c, t) = code(&s.verify(extra));
        assert_eq!(c, Some(4), "{extra:?}: {t}");
        // The chain itself is consistent; the signature is what fails.
        assert!(t.contains(": ok, "), "{t}");
        assert!(
            t.contains("FAILED: signed head 1") && t.contains("rewritten"),
            "{t}"
        );
    }
    // A later run does not sign the rewritten chain: it says so, still writes its report, and
    // exits 4. Export refuses the chain too.
    let out = run(&[
        "scan",
        "--logs",
        &s.s("a.jsonl"),
        "--evidence",
        &s.s("ledger.sqlite"),
        "--signing-key",
        &private,
        "--format",
        "json",
    ]);
    let (c, t) = code(&out);
    assert_eq!(c, Some(4), "{t}");
    assert!(t.contains("NOT signed"), "{t}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["identities"].is_array(), "{report}");
    let out = run(&[
        "evidence",
        "export",
        "--store",
        &s.s("ledger.sqlite"),
        "--out",
        &s.s("bundle"),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(!s.path("bundle/manifest.json").exists());
}

#[test]
fn an_unsigned_ledger_says_so_and_fails_against_a_pinned_key() {
    let s = Setup::new();
    let summary = s.scan(None);
    assert!(summary.contains("UNSIGNED"), "{summary}");
    let (c, t) = code(&s.verify(&[]));
    assert_eq!(c, Some(0), "{t}");
    assert!(t.contains("UNSIGNED"), "{t}");
    let (_, public) = s.keygen("ev.key");
    let (c, t) = code(&s.verify(&["--public-key", &public]));
    assert_eq!(c, Some(4), "{t}");
    assert!(t.contains("no head is signed"), "{t}");
    // The trusted key may come from the environment.
    let out = tripline()
        .args(["evidence", "verify", "--store", &s.s("ledger.sqlite")])
        .env("TRIPLINE_EVIDENCE_PUBLIC_KEY", &public)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
}

#[test]
fn the_signing_key_may_come_from_the_environment_and_unsigned_tails_are_reported() {
    let s = Setup::new();
    let (private, public) = s.keygen("ev.key");
    let out = tripline()
        .args([
            "scan",
            "--logs",
            &s.s("a.jsonl"),
            "--evidence",
            &s.s("ledger.sqlite"),
        ])
        .env("TRIPLINE_EVIDENCE_KEY", &private)
        .output()
        .unwrap();
    assert!(text(&out).contains("signed by key"), "{}", text(&out));
    s.scan(None);
    let (c, t) = code(&s.verify(&["--public-key", &public]));
    assert_eq!(c, Some(0), "{t}");
    assert!(t.contains("records after it are not signed yet"), "{t}");
    let (c, t) = code(&s.verify(&["--public-key", &public, "--require-signed-head"]));
    assert_eq!(c, Some(4), "{t}");
}

#[test]
fn a_signed_bundle_verifies_on_another_machine_with_only_the_public_key() {
    let s = Setup::new();
    let (private, public) = s.keygen("ev.key");
    s.scan(Some(&private));
    s.scan(None);
    let out = run(&[
        "evidence",
        "export",
        "--store",
        &s.s("ledger.sqlite"),
        "--out",
        &s.s("bundle"),
        "--signing-key",
        &private,
    ]);
    let (c, t) = code(&out);
    assert_eq!(c, Some(0), "{t}");
    assert!(t.contains("head signed by key"), "{t}");
    for f in [
        "evidence.jsonl",
        "signatures.jsonl",
        "manifest.json",
        "public-key.pub",
    ] {
        assert!(s.path("bundle").join(f).exists(), "{f}");
    }

    // Another machine: only the bundle and the public key, nothing else of this one.
    let other = tempfile::tempdir().unwrap();
    let b = other.path().join("bundle");
    fs::create_dir(&b).unwrap();
    for f in fs::read_dir(s.path("bundle")).unwrap() {
        let f = f.unwrap();
        fs::copy(f.path(), b.join(f.file_name())).unwrap();
    }
    let trusted = other.path().join("trusted.pub");
    fs::copy(&public, &trusted).unwrap();
    drop(s);
    let verify = |key: &Path| {
        run(&[
            "evidence",
            "verify",
            "--bundle",
            b.to_str().unwrap(),
            "--public-key",
            key.to_str().unwrap(),
            "--require-signed-head",
        ])
    };
    let (c, t) = code(&verify(&trusted));
    assert_eq!(c, Some(0), "{t}");
    assert!(t.contains("signed: 2 signed heads"), "{t}");

    // Another key is not the signer.
    let s2 = Setup::new();
    let (_, stranger) = s2.keygen("other.key");
    let (c, t) = code(&verify(Path::new(&stranger)));
    assert_eq!(c, Some(4), "{t}");
    assert!(t.contains("not a trusted key"), "{t}");
}

#[test]
fn verify_opens_the_ledger_read_only() {
    let s = Setup::new();
    let (private, _) = s.keygen("ev.key");
    s.scan(Some(&private));
    let ledger = s.path("ledger.sqlite");
    // Triggers dropped by someone (nothing else changed): verify leaves them dropped.
    Connection::open(&ledger)
        .unwrap()
        .execute_batch("DROP TRIGGER evidence_no_update; DROP TRIGGER evidence_no_delete;")
        .unwrap();
    let before = (
        fs::read(&ledger).unwrap(),
        fs::metadata(&ledger).unwrap().modified().unwrap(),
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (c, t) = code(&s.verify(&[]));
    assert_eq!(c, Some(0), "{t}");
    let after = (
        fs::read(&ledger).unwrap(),
        fs::metadata(&ledger).unwrap().modified().unwrap(),
    );
    assert!(before == after, "verify changed the ledger file");
    let n: i64 = Connection::open(&ledger)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_schema WHERE name IN ('evidence_no_update', 'evidence_no_delete')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "verify re-created triggers");
}

#[test]
fn empty_truncated_headless_and_foreign_ledgers_exit_4() {
    let s = Setup::new();
    s.scan(None);
    let ledger = s.path("ledger.sqlite");
    let bytes = fs::read(&ledger).unwrap();
    let check = |name: &str, want: &str| {
        let p = s.s(name);
        let (c, t) = code(&run(&["evidence", "verify", "--store", &p]));
        assert_eq!(c, Some(4), "{name}: {t}");
        assert!(t.contains(want), "{name}: {t}");
    };
    fs::write(s.path("zero.sqlite"), b"").unwrap();
    check("zero.sqlite", "empty (0 bytes)");
    fs::write(s.path("half.sqlite"), &bytes[..bytes.len() / 2]).unwrap();
    check("half.sqlite", "truncated");
    fs::write(s.path("cut.sqlite"), &bytes[..60]).unwrap();
    check("cut.sqlite", "not an SQLite database");
    Connection::open(s.path("other.sqlite"))
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    check("other.sqlite", "without the evidence table");
    fs::copy(&ledger, s.path("headless.sqlite")).unwrap();
    let c = Connection::open(s.path("headless.sqlite")).unwrap();
    c.execute_batch("DROP TRIGGER evidence_head_no_delete; DELETE FROM evidence_head;")
        .unwrap();
    drop(c);
    check("headless.sqlite", "head marker is missing");
    // A zero-byte file is not exported either, and stays zero bytes.
    let out = run(&[
        "evidence",
        "export",
        "--store",
        &s.s("zero.sqlite"),
        "--out",
        &s.s("b"),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert_eq!(fs::metadata(s.path("zero.sqlite")).unwrap().len(), 0);
    // A path that does not exist is bad usage, not a failed verification.
    let (c, t) = code(&run(&[
        "evidence",
        "verify",
        "--store",
        &s.s("absent.sqlite"),
    ]));
    assert_eq!(c, Some(2), "{t}");
}

#[test]
fn verify_never_panics_on_a_full_or_closed_stdout() {
    let s = Setup::new();
    s.scan(None);
    let full = fs::OpenOptions::new().write(true).open("/dev/full");
    if let Ok(full) = full {
        let out = bare()
            .args(["evidence", "verify", "--store", &s.s("ledger.sqlite")])
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("writing to standard output"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A pipe whose reader is gone before anything is written: quiet, the verification's code.
    #[allow(clippy::incompatible_msrv)]
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = bare()
        .args(["evidence", "verify", "--store", &s.s("ledger.sqlite")])
        .stdout(writer)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.is_empty(), "{err}");
}
