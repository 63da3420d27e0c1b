//! The `switchyard` command line. Thin: parse arguments, call the library, map results to
//! exit codes.

mod call;
mod schema;
mod serve;
mod validate;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Switchyard: a declarative integration engine.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check connector and workflow specs; exit 0 if valid, 1 if not, 2 on usage or IO errors.
    Validate(validate::ValidateArgs),
    /// Write (or check) the JSON Schemas and the spec reference generated from the spec types.
    Schema(schema::SchemaArgs),
    /// Run one connector action against the provider and print its output or records.
    Call(call::CallArgs),
    /// Load and check the specs, then serve health checks and the catalog over HTTP.
    Serve(serve::ServeArgs),
}

/// Exit code for usage and IO errors (clap also uses 2 for bad arguments).
pub const EXIT_USAGE: u8 = 2;

/// The spec paths given on the command line, or the default folders.
fn spec_paths(given: Vec<std::path::PathBuf>) -> Vec<std::path::PathBuf> {
    if given.is_empty() {
        vec!["connectors".into(), "workflows".into()]
    } else {
        given
    }
}

/// Loads and compiles the specs; an IO error is reported and becomes the usage exit code.
fn compile_specs(
    paths: &[std::path::PathBuf],
) -> Result<(crate::compile::Compiled, Vec<crate::compile::SourceFile>), ExitCode> {
    crate::compile::compile_paths(paths).map_err(|error| {
        eprintln!("error: {error}");
        ExitCode::from(EXIT_USAGE)
    })
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Serve(args) => serve::run_serve(args),
        Command::Call(args) => call::run(args),
    }
}
