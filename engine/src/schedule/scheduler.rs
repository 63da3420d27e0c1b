//! The cron loop: at each tick, for every enabled cron workflow, fire what is due (catch-up
//! and overlap policies applied), recorded in the store with a unique (workflow, nominal
//! time) key. The clock is injected, so tests move time by hand.

use super::{due, next_firings};
use crate::plan::{LiveCatalog, WorkflowTriggerPlan};
use crate::spec::workflow::Overlap;
use crate::store::{NewRun, SqliteStore, StoreError};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// The time, injectable.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Fires cron workflows.
pub struct Scheduler {
    pub catalog: Arc<LiveCatalog>,
    pub store: SqliteStore,
    pub wake: Arc<Notify>,
    pub clock: Arc<dyn Clock>,
}

impl Scheduler {
    /// Handles everything due now; returns how many runs were queued.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut queued = 0;
        for workflow in self.catalog.current().workflows.values() {
            let WorkflowTriggerPlan::Cron(plan) = &workflow.trigger else {
                continue;
            };
            if !workflow.enabled {
                continue;
            }
            let Some(last_ms) = self.store.handled_until(&workflow.id).await? else {
                // First sight of this schedule: nothing was missed before it existed.
                self.store
                    .set_handled_until(&workflow.id, now.timestamp_millis())
                    .await?;
                continue;
            };
            let last = DateTime::<Utc>::from_timestamp_millis(last_ms).unwrap_or(now);
            let (fire, newest) = due(plan, last, now);
            for nominal in fire {
                let busy = match plan.overlap {
                    Overlap::Skip => self.store.has_active_run(&workflow.id).await?,
                    Overlap::Queue | Overlap::Allow => false,
                };
                let run = NewRun {
                    workflow: workflow.id.clone(),
                    spec_hash: workflow.content_hash.clone(),
                    trigger: json!({
                        "scheduled_at": nominal.to_rfc3339(),
                        "fired_at": now.to_rfc3339(),
                        "schedule": plan.source,
                    }),
                };
                let exclusive = plan.overlap == Overlap::Queue;
                let recorded = self
                    .store
                    .fire(
                        &workflow.id,
                        nominal.timestamp_millis(),
                        (!busy).then_some(&run),
                        exclusive,
                    )
                    .await?;
                if recorded && !busy {
                    queued += 1;
                    self.wake.notify_one();
                    tracing::info!(workflow = %workflow.id, scheduled_at = %nominal, "cron fired");
                } else if recorded {
                    tracing::info!(workflow = %workflow.id, scheduled_at = %nominal, "cron firing skipped: previous run still going");
                }
            }
            if let Some(newest) = newest {
                self.store
                    .set_handled_until(&workflow.id, newest.timestamp_millis())
                    .await?;
            }
        }
        Ok(queued)
    }

    /// How long until the next firing of any schedule (at most 30 s, to notice reloads).
    fn until_next(&self) -> Duration {
        let now = self.clock.now();
        let next = self
            .catalog
            .current()
            .workflows
            .values()
            .filter_map(|w| match &w.trigger {
                WorkflowTriggerPlan::Cron(plan) if w.enabled => {
                    next_firings(plan, now, 1).first().copied()
                }
                _ => None,
            })
            .min();
        let wait = next.map_or(Duration::from_secs(30), |t| {
            (t - now).to_std().unwrap_or_default() + Duration::from_millis(5)
        });
        wait.min(Duration::from_secs(30))
    }

    /// Ticks until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            if let Err(e) = self.tick().await {
                tracing::error!(error = %e, "scheduler");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.until_next()) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
