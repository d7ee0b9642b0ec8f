//! Policy unit tests: every `test_*` rule of every loaded package is evaluated; `true` passes,
//! `false` or undefined fails, an evaluation error (including the time limit) is an error.
//! (regorus has no `opa test` runner; this is the same contract.)

use crate::{check, PolicyError, PolicySource, DEFAULT_DATA, DEFAULT_POLICY, DEFAULT_TESTS};
use serde::Serialize;
use std::fmt;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum TestOutcome {
    Pass,
    /// The rule was false or undefined.
    Fail,
    Error(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    pub file: String,
    pub line: usize,
    pub package: String,
    pub name: String,
    pub outcome: TestOutcome,
    pub micros: u128,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TestReport {
    pub results: Vec<TestResult>,
}

impl TestReport {
    pub fn passed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome == TestOutcome::Pass)
            .count()
    }

    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }

    pub fn ok(&self) -> bool {
        self.failed() == 0 && !self.results.is_empty()
    }
}

impl fmt::Display for TestReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in &self.results {
            let (mark, detail) = match &r.outcome {
                TestOutcome::Pass => ("PASS", String::new()),
                TestOutcome::Fail => ("FAIL", " (false or undefined)".to_string()),
                TestOutcome::Error(e) => ("ERROR", format!(": {e}")),
            };
            writeln!(
                f,
                "{mark} data.{}.{} ({}:{}, {} µs){detail}",
                r.package, r.name, r.file, r.line, r.micros
            )?;
        }
        write!(f, "{} passed, {} failed", self.passed(), self.failed())
    }
}

/// Run the tests in `paths`: `.rego` files are policies and tests, `.json` files are data
/// documents (merged in order; the default data when none is given). With no paths at all, run
/// the default policy's own tests. Load-time reference checks apply to every file.
pub fn run_policy_tests<P: AsRef<Path>>(paths: &[P]) -> Result<TestReport, PolicyError> {
    if paths.is_empty() {
        return run_default_policy_tests();
    }
    let mut sources = Vec::new();
    let mut data: Option<serde_json::Value> = None;
    for p in paths {
        let p = p.as_ref();
        let text = crate::read_bounded(p)?;
        if p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            let v: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| PolicyError::Data(format!("{}: {e}", p.display())))?;
            match &mut data {
                Some(d) => crate::data::merge(d, &v),
                None => data = Some(v),
            }
        } else {
            sources.push(PolicySource {
                name: p.display().to_string(),
                text,
            });
        }
    }
    let data = match data {
        Some(d) => d,
        None => crate::default_data()?,
    };
    run(&sources, &data)
}

/// The default policy's tests against the default data.
pub fn run_default_policy_tests() -> Result<TestReport, PolicyError> {
    let sources = [
        PolicySource {
            name: "default.rego".into(),
            text: DEFAULT_POLICY.into(),
        },
        PolicySource {
            name: "default_test.rego".into(),
            text: DEFAULT_TESTS.into(),
        },
    ];
    let data: serde_json::Value = serde_json::from_str(DEFAULT_DATA)
        .map_err(|e| PolicyError::Data(format!("default-data.json: {e}")))?;
    run(&sources, &data)
}

fn run(sources: &[PolicySource], data: &serde_json::Value) -> Result<TestReport, PolicyError> {
    if sources.is_empty() {
        return Err(PolicyError::NoPolicy);
    }
    crate::static_checks(sources)?;
    let mut engine = crate::new_engine(sources, data, &crate::Limits::default())?;
    let unknown: Vec<_> = sources
        .iter()
        .flat_map(|s| check::check_references(&s.name, &s.text, data))
        .collect();
    if !unknown.is_empty() {
        return Err(PolicyError::UnknownFields(unknown));
    }
    let mut report = TestReport::default();
    for s in sources {
        let Some(package) = check::package_of(&s.text) else {
            continue;
        };
        for (name, line) in check::test_rules(&s.text) {
            let start = Instant::now();
            let outcome = match engine.eval_rule(format!("data.{package}.{name}")) {
                Ok(regorus::Value::Bool(true)) => TestOutcome::Pass,
                Ok(_) => TestOutcome::Fail,
                Err(e) => TestOutcome::Error(e.to_string()),
            };
            report.results.push(TestResult {
                file: s.name.clone(),
                line,
                package: package.clone(),
                name,
                outcome,
                micros: start.elapsed().as_micros(),
            });
        }
    }
    Ok(report)
}
