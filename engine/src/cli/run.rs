//! `switchyard run WORKFLOW --event FILE [--mock STEP=FILE]...`: run one workflow locally,
//! without the server, and print each step's result. Mocked steps take the file's JSON as
//! their output instead of running (test mode for workflow authors).

use crate::interpret::{HttpClient, Interpreter, Options, ReqwestClient};
use crate::plan::WorkflowTriggerPlan;
use crate::runtime::{Connections, Engine, StaticConnections};
use crate::store::{NewRun, Store};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The workflow id.
    pub workflow: String,
    /// JSON file: the webhook payload, the manual input, or the polled item.
    #[arg(long, value_name = "FILE.json")]
    pub event: Option<PathBuf>,
    /// `STEP=FILE.json`: use the file's JSON as the step's output instead of running it.
    #[arg(long, value_name = "STEP=FILE.json")]
    pub mock: Vec<String>,
    /// Connections file (as for `serve --connections`).
    #[arg(long, env = "SWITCHYARD_CONNECTIONS")]
    pub connections: Option<PathBuf>,
    /// Spec files or folders. Default: `connectors/` and `workflows/`.
    #[arg(long = "specs")]
    pub paths: Vec<PathBuf>,
}

fn read_json(path: &PathBuf) -> Result<Json, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: invalid JSON: {e}", path.display()))
}

pub fn run(args: RunArgs) -> ExitCode {
    let paths = super::spec_paths(args.paths.clone());
    let (compiled, _) = match super::compile_specs(&paths) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(catalog) = compiled.catalog else {
        return super::usage_error("the specs have errors: run `switchyard validate`");
    };
    let catalog = Arc::new(catalog);
    let Some(workflow) = catalog.workflows.get(&args.workflow).cloned() else {
        let hint = crate::diag::did_you_mean_suffix(
            &args.workflow,
            catalog.workflows.keys().map(String::as_str),
        );
        return super::usage_error(format!("no workflow `{}`{hint}", args.workflow));
    };
    let event = match &args.event {
        Some(path) => match read_json(path) {
            Ok(v) => v,
            Err(e) => return super::usage_error(e),
        },
        None => json!({}),
    };
    let mut mocks = HashMap::new();
    for m in &args.mock {
        let Some((step, file)) = m.split_once('=') else {
            return super::usage_error(format!("--mock expects STEP=FILE.json, got `{m}`"));
        };
        match read_json(&PathBuf::from(file)) {
            Ok(v) => {
                mocks.insert(step.to_string(), v);
            }
            Err(e) => return super::usage_error(e),
        }
    }
    let connections: Arc<dyn Connections> = match &args.connections {
        Some(path) => match StaticConnections::from_file(path, &catalog) {
            Ok(c) => c.into_arc(),
            Err(problems) => return super::usage_error(problems.join("; ")),
        },
        None => StaticConnections::default().into_arc(),
    };
    let now = chrono::Utc::now().to_rfc3339();
    let trigger = match &workflow.trigger {
        WorkflowTriggerPlan::Webhook {
            connector,
            connection,
            ..
        } => json!({
            "connector": connector, "connection": connection, "event_id": null,
            "event_type": null, "payload": event, "headers": {},
        }),
        WorkflowTriggerPlan::Cron(plan) => {
            json!({ "scheduled_at": now, "fired_at": now, "schedule": plan.source })
        }
        WorkflowTriggerPlan::Poll { .. } => json!({ "item": event }),
        // Checked and defaulted like `POST /api/v1/workflows/{id}/runs`.
        WorkflowTriggerPlan::Manual { input } => {
            let Some(given) = event.as_object().cloned() else {
                return super::usage_error("--event of a manual workflow must be a JSON object");
            };
            match crate::interpret::connection::check_values(
                input,
                given,
                &format!("workflow `{}`", workflow.id),
            ) {
                Ok(payload) => json!({ "payload": payload }),
                Err(problems) => return super::usage_error(problems.join("; ")),
            }
        }
    };
    let client: Arc<dyn HttpClient> = match ReqwestClient::new() {
        Ok(c) => Arc::new(c),
        Err(e) => return super::usage_error(e),
    };
    let runtime = match super::current_thread_runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    runtime.block_on(async move {
        let dir = match tempfile_dir() {
            Ok(d) => d,
            Err(e) => return super::usage_error(e),
        };
        let files = match crate::files::FileStore::open(dir.join("files")) {
            Ok(f) => Arc::new(f),
            Err(e) => return super::usage_error(format!("file store: {e}")),
        };
        let store = match Store::open_sqlite(&dir.join("run.db")).await {
            Ok(s) => s,
            Err(e) => return super::usage_error(e),
        };
        let engine = Engine {
            catalog: crate::plan::LiveCatalog::new(catalog.clone()),
            store: store.clone(),
            interpreter: Arc::new(Interpreter::new(
                client.clone(),
                Options {
                    files: Some(files),
                    ..Options::default()
                },
            )),
            http: client,
            connections,
            wake: Arc::new(tokio::sync::Notify::new()),
            owner: "local".into(),
            mocks,
        };
        let queued = store
            .queue_run(&NewRun {
                workflow: workflow.id.clone(),
                spec_hash: workflow.content_hash.clone(),
                trigger,
            })
            .await;
        let id = match queued {
            Ok(id) => id,
            Err(e) => return super::usage_error(e),
        };
        if let Err(e) = engine.run_one().await {
            return super::usage_error(e);
        }
        let steps = store.steps(&id).await.unwrap_or_default();
        for crate::store::StepRow { step, .. } in &steps {
            match step.status.as_str() {
                "succeeded" => println!(
                    "ok      {} ({} attempt{}): {}",
                    step.step_id,
                    step.attempts,
                    if step.attempts == 1 { "" } else { "s" },
                    step.output.clone().unwrap_or(Json::Null)
                ),
                "skipped" => println!("skipped {}", step.step_id),
                _ => println!(
                    "failed  {}: {}",
                    step.step_id,
                    step.error.clone().unwrap_or_default()
                ),
            }
        }
        let code = match store.run(&id).await {
            Ok(Some(run)) if run.status == "succeeded" => {
                println!("run succeeded");
                ExitCode::SUCCESS
            }
            Ok(Some(run)) => {
                println!("run failed: {}", run.error.unwrap_or_default());
                ExitCode::FAILURE
            }
            Ok(None) => super::usage_error("the run disappeared from its database"),
            Err(e) => super::usage_error(e),
        };
        let _ = std::fs::remove_dir_all(&dir);
        code
    })
}

/// A fresh private folder for the run's throwaway database.
fn tempfile_dir() -> Result<PathBuf, String> {
    let dir =
        std::env::temp_dir().join(format!("switchyard-run-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
