//! `switchyard runs list|show|retry|replay`: run history in the data directory's database.

use crate::store::{NewRun, Store};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: RunsCommand,
    /// Folder holding `switchyard.db`.
    #[arg(
        long,
        default_value = "data",
        env = "SWITCHYARD_DATA_DIR",
        global = true
    )]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub database: super::DatabaseArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum RunsCommand {
    /// Runs, newest first: id, workflow, status, error.
    List {
        #[arg(long)]
        workflow: Option<String>,
        /// queued, running, succeeded or failed.
        #[arg(long)]
        status: Option<String>,
        #[arg(short = 'n', long, default_value_t = 20)]
        limit: u32,
    },
    /// A run's trigger and its steps.
    Show { id: String },
    /// Queue a failed run again from its failed step (a running `serve` picks it up).
    Retry { id: String },
    /// Queue a new run with the same trigger.
    Replay { id: String },
}

pub fn run(args: RunsArgs) -> ExitCode {
    // Reading history must not create an empty database where none was.
    let db = args.data_dir.join("switchyard.db");
    if args.database.database_url.is_none() && !db.is_file() {
        return super::usage_error(format!(
            "no database at {} (see --data-dir and --database-url)",
            db.display()
        ));
    }
    let runtime = match super::current_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let store = match args.database.open(&args.data_dir).await {
            Ok(s) => s,
            Err(e) => return super::usage_error(e),
        };
        match command(&store, args.command).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

async fn command(
    store: &Store,
    command: RunsCommand,
) -> Result<ExitCode, crate::store::StoreError> {
    match command {
        RunsCommand::List {
            workflow,
            status,
            limit,
        } => {
            for run in store
                .find_runs(&crate::store::RunFilter {
                    workflow,
                    status,
                    limit,
                    ..Default::default()
                })
                .await?
            {
                println!(
                    "{}\t{}\t{}\t{}",
                    run.id,
                    run.workflow,
                    run.status,
                    run.error.unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Show { id } => {
            let Some(run) = store.run(&id).await? else {
                return Ok(super::usage_error(format!("no run `{id}`")));
            };
            println!("run {} of {}: {}", run.id, run.workflow, run.status);
            if let Some(error) = &run.error {
                println!("error: {error}");
            }
            println!("trigger: {}", run.trigger);
            for crate::store::StepRow { step, .. } in store.steps(&id).await? {
                println!(
                    "step {}: {} after {} attempt(s){}{}",
                    step.step_id,
                    step.status,
                    step.attempts,
                    step.output
                        .map(|o| format!("; output {o}"))
                        .unwrap_or_default(),
                    step.error
                        .map(|e| format!("; error {e}"))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        RunsCommand::Retry { id } => {
            if store.retry_run(&id).await? {
                println!("run {id} queued again from its failed step");
                Ok(ExitCode::SUCCESS)
            } else {
                Ok(super::usage_error(format!(
                    "run `{id}` does not exist or has not failed"
                )))
            }
        }
        RunsCommand::Replay { id } => {
            let Some(run) = store.run(&id).await? else {
                return Ok(super::usage_error(format!("no run `{id}`")));
            };
            let new = store
                .queue_run(&NewRun {
                    workflow: run.workflow,
                    spec_hash: run.spec_hash,
                    trigger: run.trigger,
                })
                .await?;
            println!("run {new} queued with the trigger of {id}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
