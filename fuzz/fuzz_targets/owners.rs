//! Arbitrary bytes as an owners file (YAML and TOML) and, when one parses, lookups through its
//! glob index. Errors are fine; panics and hangs are not.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_ingest::inventory::owners::OwnersFile;

fuzz_target!(|data: &[u8]| {
    for origin in ["fuzz.yaml", "fuzz.toml"] {
        if let Ok(file) = OwnersFile::parse(data, origin) {
            for (id, name) in [
                ("arn:aws:iam::123456789012:role/ci-deploy", "ci-deploy"),
                ("system:serviceaccount:ns:app", "app"),
                ("", ""),
            ] {
                let _ = std::hint::black_box(file.lookup(id, name));
            }
        }
    }
});
