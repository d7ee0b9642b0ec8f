//! Signed heads: a chain recomputed after an edit, or truncated below a signed head, fails
//! verification on its signature; an untouched one passes; a bundle verifies elsewhere with only
//! the public key. And read-only verification: it never writes the file, and refuses empty,
//! truncated and head-less ledgers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{attacker, entry, ledger, T0};
use rusqlite::params;
use std::fs;
use std::path::Path;
use tripline_model::Timestamp;
use tripline_store::*;

const SIGNED_AT: Timestamp = Timestamp(T0.0 + 3_600_000);

fn key() -> SigningKey {
    SigningKey::generate().unwrap()
}

fn pinned(keys: &[PublicKey]) -> VerifyOptions<'_> {
    VerifyOptions {
        trusted: keys,
        require_signed_head: false,
    }
}

/// Recomputes every hash from record `from` on after changing its subject, and moves the head
/// marker: the rewrite a hash chain alone cannot show.
fn rewrite_from(path: &Path, ev: &Evidence, from: u64) {
    let records = ev.records(&RecordFilter::all()).unwrap();
    let c = attacker(path);
    let mut prev = if from == 1 {
        GENESIS_HASH.to_owned()
    } else {
        records[from as usize - 2].hash.clone()
    };
    for r in &records[from as usize - 1..] {
        let subject = if r.seq == from {
            "someone-else".to_owned()
        } else {
            r.subject.clone()
        };
        let at = chain_at(r.at);
        let hash = record_hash(&prev, r.seq, &at, r.kind.as_str(), &subject, &r.body);
        c.execute(
            "UPDATE evidence SET subject = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            params![subject, prev, hash, r.seq as i64],
        )
        .unwrap();
        prev = hash;
    }
    c.execute("UPDATE evidence_head SET hash = ?1", params![prev])
        .unwrap();
}

fn chain_at(t: Timestamp) -> String {
    tripline_store::chain::format_at(t).unwrap()
}

fn signed_ok(v: &Verification) -> (u64, u64, bool) {
    assert!(v.chain.is_ok(), "{v:?}");
    match v.signatures.as_ref().unwrap() {
        SignatureReport::Signed {
            signed_heads,
            unsigned_after,
            pinned,
            ..
        } => (*signed_heads, *unsigned_after, *pinned),
        other => panic!("{other:?}"),
    }
}

fn invalid(v: &Verification) -> (u64, SignatureProblem) {
    assert!(v.chain.is_ok(), "the chain itself verifies: {v:?}");
    assert!(!v.is_ok());
    match v.signatures.clone().unwrap() {
        SignatureReport::Invalid { seq, problem, .. } => (seq, problem),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_untouched_signed_ledger_passes_pinned_and_unpinned() {
    let mut l = ledger(10);
    let k = key();
    let head = l.ev.sign_head(&k, SIGNED_AT).unwrap();
    assert_eq!((head.seq, head.hash.clone()), l.ev.head().unwrap());
    assert_eq!(head.at, "2024-07-30T22:31:10.250Z");
    assert_eq!(l.ev.signed_heads().unwrap(), vec![head]);
    let pk = [k.public_key()];
    assert_eq!(
        signed_ok(&l.ev.verify_with(pinned(&pk)).unwrap()),
        (1, 0, true)
    );
    assert_eq!(
        signed_ok(&l.ev.verify_with(VerifyOptions::default()).unwrap()),
        (1, 0, false)
    );
    // Later appends are reported as not signed yet, and the next signature covers them.
    l.ev.append_batch(&[entry(11), entry(12)]).unwrap();
    assert_eq!(
        signed_ok(&l.ev.verify_with(pinned(&pk)).unwrap()),
        (1, 2, true)
    );
    let strict = VerifyOptions {
        trusted: &pk,
        require_signed_head: true,
    };
    assert_eq!(
        invalid(&l.ev.verify_with(strict).unwrap()),
        (10, SignatureProblem::UnsignedTail { records: 2 })
    );
    l.ev.sign_head(&k, SIGNED_AT).unwrap();
    assert_eq!(signed_ok(&l.ev.verify_with(strict).unwrap()), (2, 0, true));
}

#[test]
fn a_recomputed_chain_fails_on_its_signature() {
    for from in [1, 4, 10] {
        let mut l = ledger(10);
        let k = key();
        l.ev.sign_head(&k, SIGNED_AT).unwrap();
        let signed_hash = l.ev.head().unwrap().1;
        rewrite_from(&l.path, &l.ev, from);
        // The chain alone verifies: every hash was recomputed.
        assert!(l.ev.verify().unwrap().is_ok());
        let pk = [k.public_key()];
        for opts in [pinned(&pk), VerifyOptions::default()] {
            let (seq, problem) = invalid(&l.ev.verify_with(opts).unwrap());
            assert_eq!(seq, 10);
            match problem {
                SignatureProblem::Rewritten { found } => assert_ne!(found, signed_hash),
                other => panic!("{other:?}"),
            }
        }
        // A rewritten chain is neither signed again nor exported.
        assert!(matches!(
            l.ev.sign_head(&k, SIGNED_AT),
            Err(StoreError::Tampered {
                seq: 10,
                problem: Problem::HeadMismatch
            })
        ));
        assert!(matches!(
            l.ev.export(l.dir.path().join("b")),
            Err(StoreError::SignatureFailed { seq: 10, .. })
        ));
    }
}

#[test]
fn a_rewrite_before_an_earlier_signed_head_is_caught_there() {
    let mut l = ledger(5);
    let k = key();
    l.ev.sign_head(&k, SIGNED_AT).unwrap();
    l.ev.append_batch(&(6..=10).map(entry).collect::<Vec<_>>())
        .unwrap();
    l.ev.sign_head(&k, SIGNED_AT).unwrap();
    rewrite_from(&l.path, &l.ev, 3);
    let v = l.ev.verify_with(VerifyOptions::default()).unwrap();
    assert!(matches!(
        v.signatures,
        Some(SignatureReport::Invalid {
            index: 1,
            seq: 5,
            problem: SignatureProblem::Rewritten { .. }
        })
    ));
}

#[test]
fn truncation_below_a_signed_head_is_caught() {
    let mut l = ledger(10);
    let k = key();
    l.ev.sign_head(&k, SIGNED_AT).unwrap();
    let r8 =
        l.ev.records(&RecordFilter::all().after_seq(7).limit(1))
            .unwrap()[0]
            .clone();
    let c = attacker(&l.path);
    c.execute_batch("DELETE FROM evidence WHERE seq > 8")
        .unwrap();
    c.execute(
        "UPDATE evidence_head SET seq = 8, hash = ?1",
        params![r8.hash],
    )
    .unwrap();
    assert!(l.ev.verify().unwrap().is_ok());
    assert_eq!(
        invalid(&l.ev.verify_with(VerifyOptions::default()).unwrap()),
        (10, SignatureProblem::Truncated { chain_end: 8 })
    );
}

#[test]
fn deleted_or_foreign_signatures_fail_when_the_key_is_pinned() {
    let mut l = ledger(10);
    let k = key();
    l.ev.sign_head(&k, SIGNED_AT).unwrap();
    rewrite_from(&l.path, &l.ev, 4);
    let pk = [k.public_key()];

    // The forger deletes the signature: unpinned it reads as unsigned, pinned it fails.
    attacker(&l.path)
        .execute_batch("DELETE FROM evidence_signed_head")
        .unwrap();
    let v = l.ev.verify_with(VerifyOptions::default()).unwrap();
    assert_eq!(v.signatures, Some(SignatureReport::Unsigned));
    assert!(v.is_ok());
    assert_eq!(
        l.ev.verify_with(pinned(&pk)).unwrap().signatures,
        Some(SignatureReport::Invalid {
            index: 0,
            seq: 10,
            problem: SignatureProblem::NotSigned
        })
    );

    // The forger signs the rewritten chain with a key of their own: only a pinned key tells.
    let forged = key();
    l.ev.sign_head(&forged, SIGNED_AT).unwrap();
    assert_eq!(
        signed_ok(&l.ev.verify_with(VerifyOptions::default()).unwrap()),
        (1, 0, false)
    );
    assert_eq!(
        invalid(&l.ev.verify_with(pinned(&pk)).unwrap()),
        (
            10,
            SignatureProblem::UntrustedKey {
                key_id: forged.public_key().id()
            }
        )
    );
    // Several trusted keys (a rotation): either may sign.
    let both = [k.public_key(), forged.public_key()];
    assert!(l.ev.verify_with(pinned(&both)).unwrap().is_ok());
}

#[test]
fn an_altered_signature_is_caught() {
    let mut l = ledger(3);
    l.ev.sign_head(&key(), SIGNED_AT).unwrap();
    attacker(&l.path)
        .execute_batch("UPDATE evidence_signed_head SET at = '2024-07-30T22:31:10.251Z'")
        .unwrap();
    assert_eq!(
        invalid(&l.ev.verify_with(VerifyOptions::default()).unwrap()),
        (3, SignatureProblem::BadSignature)
    );
}

#[test]
fn signed_heads_are_append_only_in_sql() {
    let mut l = ledger(4);
    l.ev.sign_head(&key(), SIGNED_AT).unwrap();
    let c = rusqlite::Connection::open(&l.path).unwrap();
    for sql in [
        "UPDATE evidence_signed_head SET seq = 3",
        "DELETE FROM evidence_signed_head",
        // Not the next number, or a hash the chain does not hold.
        "INSERT INTO evidence_signed_head VALUES (5, 4, 'x', 'a', 'k', 's')",
        "INSERT INTO evidence_signed_head SELECT 2, seq, 'ab', at, public_key, signature FROM evidence_signed_head",
        "INSERT INTO evidence_signed_head SELECT 2, 3, hash, at, public_key, signature FROM evidence_signed_head",
    ] {
        let err = c.execute_batch(sql).unwrap_err().to_string();
        assert!(
            err.contains("append-only") || err.contains("must follow"),
            "{sql}: {err}"
        );
    }
    assert_eq!(l.ev.signed_heads().unwrap().len(), 1);
}

#[test]
fn a_chain_broken_since_the_last_signed_head_is_not_signed() {
    let mut l = ledger(6);
    let k = key();
    l.ev.sign_head(&k, SIGNED_AT).unwrap();
    l.ev.append_batch(&[entry(7), entry(8)]).unwrap();
    attacker(&l.path)
        .execute_batch("UPDATE evidence SET body = '{}' WHERE seq = 7")
        .unwrap();
    assert!(matches!(
        l.ev.sign_head(&k, SIGNED_AT),
        Err(StoreError::Tampered {
            seq: 7,
            problem: Problem::Altered
        })
    ));
    // A fresh ledger is checked in full before its first signature.
    let mut l = ledger(6);
    attacker(&l.path)
        .execute_batch("UPDATE evidence SET body = '{}' WHERE seq = 2")
        .unwrap();
    assert!(matches!(
        l.ev.sign_head(&k, SIGNED_AT),
        Err(StoreError::Tampered { seq: 2, .. })
    ));
    // An empty ledger signs as seq 0.
    let dir = tempfile::tempdir().unwrap();
    let mut empty = Evidence::open(dir.path().join("e.db")).unwrap();
    let h = empty.sign_head(&k, SIGNED_AT).unwrap();
    assert_eq!((h.seq, h.hash.as_str()), (0, GENESIS_HASH));
    let pk = [k.public_key()];
    assert_eq!(
        signed_ok(&empty.verify_with(pinned(&pk)).unwrap()),
        (1, 0, true)
    );
}

// ---- keys -----------------------------------------------------------------------------------

#[test]
fn keygen_writes_a_private_file_only_its_owner_reads_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evidence.key");
    let k = key();
    let files = k.write_new(&path).unwrap();
    assert_eq!(files.public, dir.path().join("evidence.key.pub"));
    assert_eq!(files.key_id, k.public_key().id());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let read = SigningKey::from_file(&path).unwrap();
    assert_eq!(read.public_key(), k.public_key());
    assert_eq!(PublicKey::from_file(&files.public).unwrap(), k.public_key());
    // The private key text is not in the public file; the public one is not a private key.
    let public_text = fs::read_to_string(&files.public).unwrap();
    assert!(!public_text.contains("private"));
    assert!(matches!(
        SigningKey::from_file(&files.public),
        Err(StoreError::Key { .. })
    ));
    let err = PublicKey::from_file(&path).unwrap_err().to_string();
    assert!(err.contains("private key"), "{err}");
    // Never overwritten.
    assert!(key().write_new(&path).is_err());
    assert_eq!(
        SigningKey::from_file(&path).unwrap().public_key(),
        k.public_key()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = SigningKey::from_file(&path).unwrap_err().to_string();
        assert!(err.contains("readable by others"), "{err}");
    }
    // The Debug form names the key, not the secret.
    let secret = fs::read_to_string(&path).unwrap();
    let hex = secret.lines().last().unwrap().split(' ').nth(1).unwrap();
    assert!(!format!("{k:?}").contains(hex));
}

// ---- bundles --------------------------------------------------------------------------------

fn copy_bundle(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for f in fs::read_dir(from).unwrap() {
        let f = f.unwrap();
        fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
}

#[test]
fn a_signed_bundle_verifies_elsewhere_with_only_the_public_key() {
    let mut l = ledger(12);
    let k = key();
    l.ev.sign_head(&k, SIGNED_AT).unwrap();
    l.ev.append_batch(&[entry(13)]).unwrap();
    let out = l.dir.path().join("bundle");
    let s = l.ev.export_signed(&out, &k, SIGNED_AT).unwrap();
    assert_eq!((s.manifest.records, s.manifest.signed_heads), (13, 2));
    assert_eq!(s.manifest.public_key, Some(k.public_key().to_hex()));
    // The export's signature is stored in the ledger too.
    assert_eq!(l.ev.signed_heads().unwrap().len(), 2);

    // "Another machine": a fresh directory, no ledger, no private key; the public key as given.
    let elsewhere = tempfile::tempdir().unwrap();
    let b = elsewhere.path().join("received");
    copy_bundle(&out, &b);
    let pub_file = elsewhere.path().join("trusted.pub");
    fs::write(&pub_file, k.public_key().file_text()).unwrap();
    drop(l);
    let trusted = [PublicKey::from_file(&pub_file).unwrap()];
    let v = verify_bundle_with(&b, pinned(&trusted)).unwrap();
    assert_eq!(signed_ok(&v), (2, 0, true));
    assert_eq!(
        PublicKey::from_file(&b.join("public-key.pub")).unwrap(),
        trusted[0]
    );

    // Rewritten and re-signed by someone else: the chain and manifest are consistent, the key
    // is not the trusted one.
    let forger = key();
    let forged = elsewhere.path().join("forged");
    {
        let mut l = ledger(13);
        l.ev.export_signed(&forged, &forger, SIGNED_AT).unwrap();
    }
    let v = verify_bundle_with(&forged, pinned(&trusted)).unwrap();
    assert!(matches!(
        v.signatures,
        Some(SignatureReport::Invalid {
            problem: SignatureProblem::UntrustedKey { .. },
            ..
        })
    ));
    assert!(verify_bundle_with(&forged, VerifyOptions::default())
        .unwrap()
        .is_ok());
}

#[test]
fn a_bundle_whose_signatures_were_stripped_or_altered_fails() {
    let mut l = ledger(6);
    let k = key();
    let out = l.dir.path().join("bundle");
    l.ev.export_signed(&out, &k, SIGNED_AT).unwrap();
    let trusted = [k.public_key()];
    let sigs = out.join("signatures.jsonl");
    let text = fs::read_to_string(&sigs).unwrap();

    // Emptied, and the manifest edited to match: no signed head, which the pinned key needs.
    fs::write(&sigs, "").unwrap();
    let manifest = out.join("manifest.json");
    let m = fs::read_to_string(&manifest).unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(&m).unwrap();
    doc["signed_heads"] = 0.into();
    doc["signatures_sha256"] = sha256_hex(b"").into();
    fs::write(&manifest, doc.to_string()).unwrap();
    assert_eq!(
        verify_bundle_with(&out, pinned(&trusted))
            .unwrap()
            .signatures,
        Some(SignatureReport::Invalid {
            index: 0,
            seq: 6,
            problem: SignatureProblem::NotSigned
        })
    );
    // Emptied, manifest untouched: the manifest does not describe the file.
    fs::write(&manifest, &m).unwrap();
    assert!(matches!(
        verify_bundle_with(&out, VerifyOptions::default())
            .unwrap()
            .chain,
        VerifyReport::BadManifest { .. }
    ));
    // Removed.
    fs::remove_file(&sigs).unwrap();
    assert!(matches!(
        verify_bundle_with(&out, VerifyOptions::default())
            .unwrap()
            .chain,
        VerifyReport::BadManifest { .. }
    ));
    // Altered (the signed seq moved).
    fs::write(&sigs, text.replace("\"seq\":6", "\"seq\":5")).unwrap();
    assert!(matches!(
        verify_bundle_with(&out, VerifyOptions::default())
            .unwrap()
            .signatures,
        Some(SignatureReport::Invalid {
            problem: SignatureProblem::BadSignature,
            ..
        })
    ));
    // Garbage.
    fs::write(&sigs, "{not json\n").unwrap();
    assert!(matches!(
        verify_bundle_with(&out, VerifyOptions::default())
            .unwrap()
            .signatures,
        Some(SignatureReport::Invalid {
            problem: SignatureProblem::Malformed { .. },
            ..
        })
    ));
    // Intact again: passes.
    fs::write(&sigs, &text).unwrap();
    assert!(verify_bundle_with(&out, pinned(&trusted)).unwrap().is_ok());
}

#[test]
fn a_version_1_bundle_still_verifies_as_unsigned() {
    let l = ledger(5);
    let out = l.dir.path().join("bundle");
    l.ev.export(&out).unwrap();
    let manifest = out.join("manifest.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&manifest).unwrap()).unwrap();
    let obj = doc.as_object_mut().unwrap();
    obj.insert("format_version".into(), 1.into());
    obj.remove("signed_heads");
    obj.remove("signatures_sha256");
    fs::write(&manifest, doc.to_string()).unwrap();
    fs::remove_file(out.join("signatures.jsonl")).unwrap();
    let v = verify_bundle_with(&out, VerifyOptions::default()).unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.signatures, Some(SignatureReport::Unsigned));
}

// ---- read-only verification -----------------------------------------------------------------

fn file_state(p: &Path) -> (Vec<u8>, std::time::SystemTime) {
    (
        fs::read(p).unwrap(),
        fs::metadata(p).unwrap().modified().unwrap(),
    )
}

#[test]
fn read_only_verify_never_writes_the_ledger() {
    let mut l = ledger(10);
    l.ev.sign_head(&key(), SIGNED_AT).unwrap();
    // Triggers dropped by someone: a read-only verify does not put them back.
    let c = attacker(&l.path);
    drop(c);
    drop(l.ev);
    let before = file_state(&l.path);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut ev = Evidence::open_read_only(&l.path).unwrap();
    assert!(ev.verify_with(VerifyOptions::default()).unwrap().is_ok());
    assert!(ev
        .append(Kind::Note, "x", &serde_json::json!({}), T0)
        .is_err());
    drop(ev);
    assert_eq!(file_state(&l.path), before);
    // SQLite's WAL side files may appear (any reader of a WAL database makes them), with no
    // page written to the log.
    let wal = l.dir.path().join("evidence.db-wal");
    assert_eq!(fs::metadata(&wal).map_or(0, |m| m.len()), 0);
    let triggers: i64 = rusqlite::Connection::open(&l.path)
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'trigger'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(triggers, 0);
}

fn not_a_ledger(path: &Path) -> String {
    match Evidence::open_read_only(path) {
        Err(e @ StoreError::NotALedger { .. }) => {
            assert!(e.is_damage());
            e.to_string()
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn empty_foreign_and_truncated_files_are_not_ledgers() {
    let dir = tempfile::tempdir().unwrap();
    let zero = dir.path().join("zero.db");
    fs::write(&zero, b"").unwrap();
    assert!(not_a_ledger(&zero).contains("empty"));
    assert_eq!(fs::metadata(&zero).unwrap().len(), 0, "left as it was");

    let text = dir.path().join("text.db");
    fs::write(&text, "not a database at all\n".repeat(20)).unwrap();
    assert!(not_a_ledger(&text).contains("not an SQLite database"));

    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert!(not_a_ledger(&other).contains("without the evidence table"));

    // A ledger cut short: at every length from inside the header to one page short.
    let l = ledger(400);
    drop(l.ev);
    let bytes = fs::read(&l.path).unwrap();
    assert!(bytes.len() > 8192, "{}", bytes.len());
    for cut in [50, 4096, bytes.len() / 2, bytes.len() - 4096] {
        let p = dir.path().join(format!("cut-{cut}.db"));
        fs::write(&p, &bytes[..cut]).unwrap();
        let msg = not_a_ledger(&p);
        assert!(
            msg.contains("truncated") || msg.contains("not an SQLite"),
            "{cut}: {msg}"
        );
    }
    // An empty ledger that is one (schema, head at 0) verifies: 0 records.
    let fresh = dir.path().join("fresh.db");
    drop(Evidence::open(&fresh).unwrap());
    let v = Evidence::open_read_only(&fresh)
        .unwrap()
        .verify_with(VerifyOptions::default())
        .unwrap();
    assert_eq!(
        v.chain,
        VerifyReport::Ok {
            records: 0,
            head_hash: GENESIS_HASH.into()
        }
    );
}

#[test]
fn a_missing_head_fails() {
    for sql in ["DELETE FROM evidence_head", "DROP TABLE evidence_head"] {
        let l = ledger(5);
        attacker(&l.path).execute_batch(sql).unwrap();
        drop(l.ev);
        let ev = Evidence::open_read_only(&l.path).unwrap();
        assert_eq!(
            ev.verify_with(VerifyOptions::default()).unwrap().chain,
            VerifyReport::Broken {
                seq: 5,
                problem: Problem::HeadMissing
            },
            "{sql}"
        );
    }
    // Records gone and head gone: still a missing head, not "ok, 0 records".
    let l = ledger(5);
    attacker(&l.path)
        .execute_batch("DELETE FROM evidence; DELETE FROM evidence_head")
        .unwrap();
    drop(l.ev);
    let v = Evidence::open_read_only(&l.path)
        .unwrap()
        .verify_with(VerifyOptions::default())
        .unwrap();
    assert!(!v.is_ok(), "{v:?}");
}

#[test]
fn a_version_1_ledger_reads_as_unsigned_and_gains_the_table_on_write() {
    let l = ledger(3);
    let c = attacker(&l.path);
    c.execute_batch("DROP TABLE evidence_signed_head; PRAGMA user_version = 1;")
        .unwrap();
    drop(c);
    drop(l.ev);
    let v = Evidence::open_read_only(&l.path)
        .unwrap()
        .verify_with(VerifyOptions::default())
        .unwrap();
    assert_eq!(v.signatures, Some(SignatureReport::Unsigned));
    let mut ev = Evidence::open(&l.path).unwrap();
    ev.sign_head(&key(), SIGNED_AT).unwrap();
    assert_eq!(ev.signed_heads().unwrap().len(), 1);
}

#[test]
fn a_damaged_page_is_not_a_ledger() {
    let l = ledger(400);
    drop(l.ev);
    let mut bytes = fs::read(&l.path).unwrap();
    let page = 4096;
    assert!(bytes.len() >= 4 * page);
    bytes[2 * page..3 * page].fill(0xAB);
    fs::write(&l.path, &bytes).unwrap();
    let msg = not_a_ledger(&l.path);
    assert!(msg.contains("damaged"), "{msg}");
}
