//! Arbitrary bytes through the evidence bundle reader (`verify_bundle_bytes`: the same code as
//! `tripline evidence verify --bundle`). It may report any failure; it may not panic, and it must
//! be deterministic.
//!
//! Input: `mode` byte, then `evidence.jsonl` 0xFF `signatures.jsonl` 0xFF `manifest.json` (0xFF
//! never occurs in UTF-8, so the seeds' files split cleanly). Mode bit 0 fills the manifest's
//! SHA-256s and counts from the files given (so mutations reach the chain and signature checks
//! instead of stopping at the manifest); bit 1 drops `signatures.jsonl` (a version-1 bundle);
//! bit 2 requires a signed head; bit 3 pins the key of the first signed head.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_store::{
    sha256_hex, verify_bundle_bytes, PublicKey, SignedHead, VerifyOptions, VerifyReport,
};

fn fix_manifest(manifest: &[u8], evidence: &[u8], signatures: Option<&[u8]>) -> Vec<u8> {
    let Ok(serde_json::Value::Object(mut m)) = serde_json::from_slice(manifest) else {
        return manifest.to_vec();
    };
    let lines = |b: &[u8]| b.iter().filter(|c| **c == b'\n').count() as u64;
    m.insert("evidence_sha256".into(), sha256_hex(evidence).into());
    m.insert("records".into(), lines(evidence).into());
    if let Some(s) = signatures {
        m.insert("signatures_sha256".into(), sha256_hex(s).into());
        m.insert("signed_heads".into(), lines(s).into());
    }
    serde_json::to_vec(&m).unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut parts = rest.splitn(3, |b| *b == 0xFF);
    let evidence = parts.next().unwrap_or_default();
    let signatures = parts.next().filter(|_| mode & 2 == 0);
    let manifest = parts.next().unwrap_or_default();
    let manifest = if mode & 1 == 1 {
        fix_manifest(manifest, evidence, signatures)
    } else {
        manifest.to_vec()
    };
    let pinned: Vec<PublicKey> = if mode & 8 == 8 {
        signatures
            .and_then(|s| s.split(|b| *b == b'\n').next())
            .and_then(|l| serde_json::from_slice::<SignedHead>(l).ok())
            .and_then(|h| PublicKey::from_hex(&h.public_key))
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    let opts = VerifyOptions {
        trusted: &pinned,
        require_signed_head: mode & 4 == 4,
    };
    let v = verify_bundle_bytes(&manifest, evidence, signatures, opts);
    assert_eq!(
        v,
        verify_bundle_bytes(&manifest, evidence, signatures, opts)
    );
    if v.is_ok() {
        // A bundle that verifies is exactly what its manifest says.
        let VerifyReport::Ok { records, head_hash } = &v.chain else {
            panic!("ok without an ok chain: {v:?}");
        };
        let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap_or_default();
        assert_eq!(m["records"].as_u64(), Some(*records), "{v:?}");
        assert_eq!(m["head_hash"].as_str(), Some(head_hash.as_str()), "{v:?}");
    }
});
