//! Responses: the escalation policy's decision per identity (dry run), and `tripline policy`.

use crate::cli::{PolicyArgs, PolicyCommand};
use crate::scan::ScanResult;
use crate::Failure;
use anyhow::anyhow;
use std::path::PathBuf;
use tripline_policy::{DecisionInput, GuardrailContext, PolicyEngine};

/// Loads the policy: the shipped default, or the user's files (and data), with load checks.
pub fn load(files: &[PathBuf], data: Option<&PathBuf>) -> Result<PolicyEngine, Failure> {
    let engine = if files.is_empty() && data.is_none() {
        PolicyEngine::default_policy()
    } else if files.is_empty() {
        let d = data
            .map(std::fs::read_to_string)
            .transpose()
            .map_err(|e| Failure::usage(anyhow!(e)))?;
        PolicyEngine::default_policy().and_then(|p| match d {
            Some(json) => p.with_data_override(&json),
            None => Ok(p),
        })
    } else {
        PolicyEngine::from_files(files, data.map(PathBuf::as_path))
    };
    engine.map_err(|e| Failure::usage(anyhow!(e)))
}

/// Decides for every non-human identity, in plan mode (no action is taken).
pub fn plan(result: &mut ScanResult, policy: &PolicyEngine) -> Result<(), Failure> {
    let ctx = GuardrailContext::default();
    for (i, a) in result
        .report
        .identities
        .iter()
        .zip(&result.report.assessments)
    {
        if !i.kind.is_nhi() {
            continue;
        }
        let input = DecisionInput::from_assessment(a, i, None);
        let d = policy
            .decide(&input, &ctx)
            .map_err(|e| Failure::internal(anyhow!(e).context(format!("deciding for {}", i.id))))?;
        result.decisions.insert(i.id.clone(), d);
    }
    result.policy_version = Some(policy.version().to_string());
    Ok(())
}

pub fn policy(args: &PolicyArgs) -> Result<u8, Failure> {
    match &args.command {
        PolicyCommand::Test { files } => {
            let report = if files.is_empty() {
                tripline_policy::run_default_policy_tests()
            } else {
                tripline_policy::run_policy_tests(files)
            }
            .map_err(|e| Failure::usage(anyhow!(e)))?;
            println!("{report}");
            Ok(if report.failed() == 0 { 0 } else { 1 })
        }
        PolicyCommand::Check { files, data } => {
            let p = load(files, data.as_ref())?;
            println!("policy ok: version {}", p.version());
            Ok(0)
        }
    }
}
