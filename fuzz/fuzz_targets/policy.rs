//! Arbitrary bytes as the policy's two documents: a decision input (deserialized, then decided
//! by the default policy, so input checks, truncation and the guardrails run) and a policy's
//! raw decision output (validated into a `Decision`). Errors are fine; panics are not.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use tripline_policy::{parse_decision, DecisionInput, GuardrailContext, PolicyEngine};

fn engine() -> Option<&'static PolicyEngine> {
    static ENGINE: OnceLock<Option<PolicyEngine>> = OnceLock::new();
    ENGINE.get_or_init(|| PolicyEngine::default_policy().ok()).as_ref()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = std::hint::black_box(parse_decision(&json, "fuzz"));
    }
    if let (Ok(input), Some(p)) = (serde_json::from_slice::<DecisionInput>(data), engine()) {
        let _ = std::hint::black_box(p.decide(&input, &GuardrailContext::default()));
    }
});
