//! The run engine: turns accepted events into queued runs and runs them with a pool of
//! workers, through the interpreter, journaling every step in the store.
//!
//! ```text
//! /hooks/... -> EngineTargets::accept -> store: event + dedupe key + runs (one transaction)
//!                                      -> wake a worker
//! worker: claim_run (lease) -> Engine::execute (steps, journal) -> finish_run
//! ```
//!
//! Must never hold a run only in memory: anything acknowledged is in the store first.

mod connections;
mod executor;
mod poller;
mod targets;

pub use connections::{Connections, LayeredConnections, StaticConnections};
pub use executor::RunFailure;
pub use poller::{POLL_DEDUPE_WINDOW, PollOutcome};
pub use targets::{DEFAULT_MAX_QUEUED, EngineTargets, connection_vars};

use crate::interpret::{HttpClient, Interpreter};
use crate::plan::LiveCatalog;
use crate::store::{NewRun, Store};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// The `concurrency` limits of a catalog's workflows, as the store keeps them.
pub fn workflow_limits(catalog: &crate::plan::Catalog) -> Vec<(String, u32)> {
    catalog
        .workflows
        .values()
        .filter_map(|w| w.concurrency.map(|c| (w.id.clone(), c)))
        .collect()
}

/// How long a claimed run stays leased without a heartbeat.
pub const LEASE: Duration = Duration::from_secs(60);

/// How often a running run's lease is renewed (and its loss noticed).
const LEASE_RENEWAL: Duration = Duration::from_secs(5);

/// Everything a worker needs.
pub struct Engine {
    pub catalog: Arc<LiveCatalog>,
    pub store: Store,
    pub interpreter: Arc<Interpreter>,
    pub http: Arc<dyn HttpClient>,
    pub connections: Arc<dyn Connections>,
    /// Woken when runs are queued, so idle workers do not poll hot.
    pub wake: Arc<Notify>,
    /// This process's name in leases.
    pub owner: String,
    /// Step outputs to use instead of running those steps (`switchyard run --mock`).
    pub mocks: std::collections::HashMap<String, serde_json::Value>,
}

impl Engine {
    /// Claims and runs one queued run; `false` when the queue was empty.
    pub async fn run_one(&self) -> Result<bool, crate::store::StoreError> {
        let Some(run) = self.store.claim_run(&self.owner, LEASE).await? else {
            return Ok(false);
        };
        crate::metrics::queue_depth(self.store.queued_runs());
        crate::metrics::queue_wait(
            crate::store::now_ms().saturating_sub(run.created_at) as f64 / 1000.0,
        );
        // Keep the lease while the run works, so no other worker takes it over. If it was
        // taken anyway (this instance was presumed dead), stop working on the run: its new
        // owner resumes it from the journal.
        let (lost_tx, lost) = tokio::sync::oneshot::channel::<()>();
        let heartbeat = {
            let store = self.store.clone();
            let (id, owner) = (run.id.clone(), self.owner.clone());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LEASE_RENEWAL).await;
                    if let Ok(false) = store.renew_lease(&id, &owner, LEASE).await {
                        let _ = lost_tx.send(());
                        return;
                    }
                }
            })
        };
        let result = tokio::select! {
            result = self.execute(&run) => result,
            Ok(()) = lost => {
                tracing::warn!(run = %run.id, workflow = %run.workflow, "lease lost: another worker owns the run now; stopped working on it");
                return Ok(true);
            }
        };
        heartbeat.abort();
        // The last check before the outcome is written: a run handed over while its last
        // step ran is left to its new owner.
        if !matches!(
            self.store.renew_lease(&run.id, &self.owner, LEASE).await,
            Ok(true)
        ) {
            tracing::warn!(run = %run.id, workflow = %run.workflow, "lease lost before the run finished; its new owner completes it");
            return Ok(true);
        }
        match result {
            Ok(()) => {
                tracing::info!(run = %run.id, workflow = %run.workflow, "run succeeded");
                crate::metrics::run_finished(&run.workflow, true);
                self.store.finish_run(&run.id, true, None).await?;
            }
            Err(failure) if failure.interrupted => {
                // Not a failure of the run: hand it back; it resumes from its journal (or,
                // if the store is down, its lease expires and it is taken again).
                tracing::error!(run = %run.id, workflow = %run.workflow, error = %failure.message, "run interrupted by a store error; it will resume");
                let _ = self.store.release_run(&run.id).await;
                self.wake.notify_one();
            }
            Err(failure) => {
                tracing::warn!(run = %run.id, workflow = %run.workflow, error = %failure.message, "run failed");
                crate::metrics::run_finished(&run.workflow, false);
                self.store
                    .finish_run(&run.id, false, Some(&failure.message))
                    .await?;
                self.queue_on_failure(&run.workflow, &run.id, &failure.message)
                    .await?;
            }
        }
        Ok(true)
    }

    /// Queues the workflow's `on_failure` workflow with the failed run as its trigger.
    async fn queue_on_failure(
        &self,
        workflow: &str,
        run: &str,
        error: &str,
    ) -> Result<(), crate::store::StoreError> {
        let catalog = self.catalog.current();
        let Some(target) = catalog
            .workflows
            .get(workflow)
            .and_then(|w| w.on_failure.clone())
            .and_then(|name| catalog.workflows.get(&name).cloned())
        else {
            return Ok(());
        };
        self.store
            .queue_run(&NewRun {
                workflow: target.id.clone(),
                spec_hash: target.content_hash.clone(),
                trigger: serde_json::json!({
                    "failed_run": { "id": run, "workflow": workflow, "error": error }
                }),
            })
            .await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Starts `workers` workers; they stop when `shutdown` turns true, after their run.
    pub fn spawn_workers(
        self: &Arc<Self>,
        workers: usize,
        shutdown: watch::Receiver<bool>,
    ) -> Vec<JoinHandle<()>> {
        (0..workers.max(1))
            .map(|_| {
                let engine = self.clone();
                let mut shutdown = shutdown.clone();
                tokio::spawn(async move {
                    loop {
                        if *shutdown.borrow() {
                            return;
                        }
                        match engine.run_one().await {
                            Ok(true) => continue,
                            Ok(false) => {}
                            Err(e) => tracing::error!(error = %e, "run queue"),
                        }
                        // Idle: wait for new runs, a lease that may have expired, or shutdown.
                        tokio::select! {
                            _ = engine.wake.notified() => {}
                            _ = tokio::time::sleep(engine.store.idle_poll()) => {}
                            _ = shutdown.changed() => {}
                        }
                    }
                })
            })
            .collect()
    }
}
