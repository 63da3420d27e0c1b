//! `switchyard serve`

use crate::diag::{OutputFormat, render};
use crate::server::{AppState, run, shutdown_signal};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "SWITCHYARD_LISTEN")]
    pub listen: SocketAddr,
    /// Spec files or folders to load. Default: `connectors/` and `workflows/`.
    pub paths: Vec<PathBuf>,
}

pub fn run_serve(args: ServeArgs) -> ExitCode {
    // Logs go to stderr; `SWITCHYARD_LOG=debug` (or any tracing filter) changes the level.
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHYARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    let paths = super::spec_paths(args.paths);
    let (compiled, sources) = match super::compile_specs(&paths) {
        Ok(result) => result,
        Err(code) => return code,
    };
    if !compiled.diagnostics.is_empty() {
        let texts: HashMap<PathBuf, String> =
            sources.into_iter().map(|s| (s.path, s.text)).collect();
        eprint!(
            "{}",
            render(&compiled.diagnostics, OutputFormat::Human, &texts)
        );
    }
    let Some(catalog) = compiled.catalog else {
        eprintln!(
            "error: the specs are invalid; fix them (see `switchyard validate`) and start again"
        );
        return ExitCode::FAILURE;
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(args.listen).await {
            Ok(l) => l,
            Err(error) => {
                eprintln!("error: cannot listen on {}: {error}", args.listen);
                return ExitCode::from(super::EXIT_USAGE);
            }
        };
        let address = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_default();
        eprintln!(
            "switchyard: {} connector(s), {} workflow(s) loaded; listening on http://{address}",
            catalog.connectors.len(),
            catalog.workflows.len()
        );
        match run(listener, AppState::new(catalog), shutdown_signal()).await {
            Ok(()) => {
                eprintln!("switchyard: stopped");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: server failed: {error}");
                ExitCode::FAILURE
            }
        }
    })
}
