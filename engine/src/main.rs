//! The `switchyard` binary: argument parsing lives in `switchyard::cli`.

use clap::Parser;
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    switchyard::cli::run(switchyard::cli::Cli::parse())
}
