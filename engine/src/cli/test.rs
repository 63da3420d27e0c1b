//! `switchyard test [CONNECTOR]... [--specs PATH]...`: runs connectors' own tests (files
//! starting `tests: <connector>`) without reaching any provider, and prints a diff for
//! each case that fails.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Connectors to test (default: every connector that has tests).
    pub connectors: Vec<String>,
    /// Spec files or folders: the connectors and their tests. Default: `connectors/`.
    #[arg(long = "specs")]
    pub specs: Vec<PathBuf>,
}

pub fn run(args: TestArgs) -> ExitCode {
    let paths = if args.specs.is_empty() {
        vec![PathBuf::from("connectors")]
    } else {
        args.specs
    };
    let (compiled, sources) = match super::compile_specs(&paths) {
        Ok(result) => result,
        Err(code) => return code,
    };
    let Some(catalog) = &compiled.catalog else {
        let texts = sources.into_iter().map(|s| (s.path, s.text)).collect();
        let output = crate::diag::render(
            &compiled.diagnostics,
            crate::diag::OutputFormat::Human,
            &texts,
        );
        let _ = std::io::stderr().write_all(output.as_bytes());
        eprintln!("error: the specs have errors (above); no test ran");
        return ExitCode::from(super::EXIT_USAGE);
    };
    for name in &args.connectors {
        if !compiled.tests.iter().any(|t| &t.spec.tests == name) {
            let hint = crate::diag::did_you_mean_suffix(
                name,
                compiled.tests.iter().map(|t| t.spec.tests.as_str()),
            );
            return super::usage_error(format!("no tests for connector `{name}`{hint}"));
        }
    }
    let selected: Vec<_> = compiled
        .tests
        .iter()
        .filter(|t| args.connectors.is_empty() || args.connectors.contains(&t.spec.tests))
        .collect();
    if selected.is_empty() {
        return super::usage_error(
            "no connector tests found (files starting `tests: <connector>`)",
        );
    }
    let runtime = match super::current_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let (mut passed, mut failed) = (0, 0);
    let mut out = std::io::stdout().lock();
    for tests in selected {
        for result in runtime.block_on(crate::harness::run_tests(catalog, tests)) {
            if result.passed() {
                passed += 1;
                let _ = writeln!(out, "ok    {}: {}", result.connector, result.case);
            } else {
                failed += 1;
                let _ = writeln!(out, "FAIL  {}: {}", result.connector, result.case);
                for failure in &result.failures {
                    for line in failure.lines() {
                        let _ = writeln!(out, "      {line}");
                    }
                }
            }
        }
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
