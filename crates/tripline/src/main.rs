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
    // `println!` panics when stdout is closed (`| head -1`) or full (`>/dev/full`). The hook
    // keeps that panic quiet and the catch turns it into an exit: 0 for a reader that went
    // away (as other Unix tools do), 1 with a message for any other write error.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if output::stdout_failure(info.payload()).is_none() {
            default_hook(info);
        }
    }));
    match std::panic::catch_unwind(move || run(cli)) {
        Ok(code) => code,
        Err(payload) => match output::stdout_failure(payload.as_ref()) {
            Some(output::StdoutFailure::Closed) => ExitCode::SUCCESS,
            Some(output::StdoutFailure::Other(e)) => {
                eprintln!("tripline: error: cannot write to stdout: {e}");
                ExitCode::from(1)
            }
            None => std::panic::resume_unwind(payload),
        },
    }
}

fn run(cli: cli::Cli) -> ExitCode {
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
        // The report's reader went away (`scan | head -1`): stop quietly.
        Err(f) if output::is_broken_pipe(&f.error) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("tripline: error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}
