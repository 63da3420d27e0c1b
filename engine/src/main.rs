//! The `switchyard` binary: argument parsing lives in `switchyard::cli`.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    switchyard::cli::run(switchyard::cli::Cli::parse())
}
