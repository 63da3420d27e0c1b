//! `switchyard validate [PATH]...`

use crate::diag::{OutputFormat, render};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Files or folders to check (folders are searched for .yaml/.yml files).
    /// Default: `connectors/` and `workflows/`.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
}

pub fn run(args: ValidateArgs) -> ExitCode {
    let paths = super::spec_paths(args.paths);
    let (compiled, sources) = match super::compile_specs(&paths) {
        Ok(result) => result,
        Err(code) => return code,
    };
    if sources.is_empty() {
        eprintln!(
            "error: no .yaml or .yml files under {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return ExitCode::from(super::EXIT_USAGE);
    }
    let texts: HashMap<PathBuf, String> = sources.into_iter().map(|s| (s.path, s.text)).collect();
    let diagnostics = &compiled.diagnostics;
    let mut output = render(diagnostics, args.format, &texts);
    if args.format == crate::diag::OutputFormat::Human && diagnostics.is_empty() {
        output = format!("{} file(s) valid\n", texts.len());
    }
    let _ = std::io::stdout().write_all(output.as_bytes());
    let failed =
        diagnostics.has_errors() || (args.deny_warnings && diagnostics.warning_count() > 0);
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
