//! The `switchyard` command line. Thin: parse arguments, call the library, map results to
//! exit codes.

mod apikeys;
mod call;
mod connections;
mod docs;
mod instances;
mod keys;
mod links;
mod reload;
mod run;
mod runs;
mod schedule;
mod schema;
mod serve;
mod test;
mod users;
mod validate;
mod webhook;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
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
    /// Write (or check) the JSON Schemas, the spec reference and the OpenAPI document generated from the types.
    Schema(schema::SchemaArgs),
    /// Write (or check) docs/connectors/<id>.md, generated from the connector specs.
    Docs(docs::DocsArgs),
    /// Run one connector action against the provider and print its output or records.
    Call(call::CallArgs),
    /// Run one workflow locally, without the server, and print each step's result.
    Run(run::RunArgs),
    /// Run history: list, show, retry from the failed step, replay.
    Runs(runs::RunsArgs),
    /// Cron schedules: `schedule next WORKFLOW` prints the next firing times.
    #[command(subcommand)]
    Schedule(schedule::ScheduleCommand),
    /// Verify a webhook delivery against a connector's rules, or sign one.
    #[command(subcommand)]
    Webhook(webhook::WebhookCommand),
    /// Run connectors' own tests (requests and responses, webhook deliveries) without reaching the providers.
    Test(test::TestArgs),
    /// Serve webhooks, run workflows (webhooks, cron, polling) and keep their history.
    Serve(serve::ServeArgs),
    /// Linked records: which provider object stands for which local record key.
    Links(links::LinksArgs),
    /// The `serve` instances sharing the database (from their heartbeats).
    Instances(instances::InstancesArgs),
    /// Make the running server load its specs again; an invalid load is refused.
    Reload(reload::ReloadArgs),
    /// Stored connections: add, list, show, check, remove (secrets encrypted at rest).
    Connections(connections::ConnectionsArgs),
    /// API keys for the REST API: create (printed once), list, revoke.
    Apikeys(apikeys::ApiKeysArgs),
    /// Dashboard users: create (the password is asked for, only its hash stored).
    Users(users::UsersArgs),
    /// Master keys for secrets at rest: generate, rotate.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
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
        Command::Test(args) => test::run(args),
        Command::Docs(args) => docs::run(args),
        Command::Instances(args) => instances::run(args),
        Command::Links(args) => links::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Serve(args) => serve::run_serve(args),
        Command::Reload(args) => reload::run(args),
        Command::Connections(args) => connections::run(args),
        Command::Keys(command) => keys::run(command),
        Command::Apikeys(args) => apikeys::run(args),
        Command::Users(args) => users::run(args),
        Command::Call(args) => call::run(args),
        Command::Webhook(command) => webhook::run(command),
        Command::Schedule(command) => schedule::run(command),
        Command::Run(args) => run::run(args),
        Command::Runs(args) => runs::run(args),
    }
}

fn usage_error(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

/// Compiles the connector named on the command line (its file only, so a broken
/// neighbour does not block it).
pub(crate) fn load_connector(
    name: &str,
    folder: &Path,
) -> Result<std::sync::Arc<crate::plan::ConnectorPlan>, ExitCode> {
    let given = Path::new(name);
    let looks_like_path =
        given.extension().is_some_and(|e| e == "yaml" || e == "yml") || name.contains('/');
    let paths: Vec<PathBuf> = if looks_like_path {
        if !given.is_file() {
            return Err(usage_error(format!(
                "no connector file `{}`",
                given.display()
            )));
        }
        vec![given.to_path_buf()]
    } else {
        let direct = ["yaml", "yml"]
            .iter()
            .map(|ext| folder.join(format!("{}.{ext}", name)))
            .find(|p| p.is_file());
        vec![direct.unwrap_or_else(|| folder.to_path_buf())]
    };
    let (compiled, sources) = compile_specs(&paths)?;
    if compiled.diagnostics.has_errors() {
        let texts = sources.into_iter().map(|s| (s.path, s.text)).collect();
        eprint!(
            "{}",
            crate::diag::render(
                &compiled.diagnostics,
                crate::diag::OutputFormat::Human,
                &texts
            )
        );
        return Err(usage_error("the connector spec has errors (see above)"));
    }
    let catalog = compiled.catalog.unwrap_or_default();
    let found = if looks_like_path {
        catalog.connectors.values().next().cloned()
    } else {
        catalog.connectors.get(name).cloned()
    };
    found.ok_or_else(|| {
        let known: Vec<&str> = catalog.connectors.keys().map(String::as_str).collect();
        let hint = crate::diag::did_you_mean_suffix(name, known.iter().copied());
        usage_error(format!(
            "no connector `{}` in {}{hint}",
            name,
            paths[0].display()
        ))
    })
}

/// The single-threaded async runtime a command runs its work on; failing to start one is
/// reported like a usage error.
fn current_thread_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(usage_error)
}

/// Where the store lives, for every command that opens it.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// PostgreSQL (`postgres://user:password@host/db`) or SQLite (`sqlite:PATH`) database.
    /// Default: SQLite, `switchyard.db` in the data directory.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    /// Opens the store (the data directory is created for SQLite); the error is a
    /// message naming the database without its password.
    pub async fn open(&self, data_dir: &Path) -> Result<crate::store::Store, String> {
        use crate::store::{Store, StoreLocation};
        let location = StoreLocation::from_url_or_dir(self.database_url.as_deref(), data_dir)
            .map_err(|e| format!("--database-url: {e}"))?;
        if let StoreLocation::Sqlite(path) = &location
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        Store::open(&location)
            .await
            .map_err(|e| format!("cannot open {}: {e}", location.describe()))
    }
}
