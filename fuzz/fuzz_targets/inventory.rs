//! Arbitrary bytes through the inventory readers: IAM authorization details (JSON) and the
//! credential report (CSV). Either may refuse the input with an error; neither may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tripline_ingest::inventory::{authz, credreport};

fuzz_target!(|data: &[u8]| {
    let _ = std::hint::black_box(authz::parse_authz(data, "fuzz"));
    let _ = std::hint::black_box(credreport::parse_credential_report(data, "fuzz"));
});
