//! The `tripline` binary: parses flags, wires the library crates together, maps errors to exit
//! codes. No logic of its own beyond that.

mod backtest;
mod cli;
mod evidence;
mod output;
mod report;
mod respond;
mod scan;

use clap::Parser;
use std::process::ExitCode;

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn usage(error: anyhow::Error) -> Self {
        Self { code: 2, error }
    }
    pub fn internal(error: anyhow::Error) -> Self {
        Self { code: 1, error }
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.command {
        cli::Command::Scan(args) => scan::run(&args),
        cli::Command::Explain(args) => scan::explain(&args),
        cli::Command::Backtest(args) => backtest::run(&args),
        cli::Command::Feedback(args) => scan::feedback(&args),
        cli::Command::Evidence(args) => evidence::run(&args),
        cli::Command::Policy(args) => respond::policy(&args),
        cli::Command::Action(args) => respond::action(&args),
        cli::Command::Case(args) => respond::case(&args),
        cli::Command::Simulate(args) => scan::simulate(&args.out, &args.sim).map(|_| 0),
        cli::Command::Demo(args) => scan::demo(&args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("tripline: error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
