//! The cron loop: at each tick, for every enabled cron workflow, fire what is due (catch-up
//! and overlap policies applied), recorded in the store with a unique (workflow, nominal
//! time) key. The clock is injected, so tests move time by hand.

use super::{due, firing_time, next_firings};
use crate::plan::{LiveCatalog, WorkflowTriggerPlan};
use crate::spec::workflow::Overlap;
use crate::store::{NewRun, Store, StoreError};
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
    pub store: Store,
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
            if !self.catalog.is_enabled(workflow) {
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
            // A firing whose jittered time has not come yet waits for a later tick; what
            // is handled stops just before it.
            let mut held_from = None;
            for nominal in fire {
                if firing_time(plan, &workflow.id, nominal) > now {
                    held_from.get_or_insert(nominal);
                    continue;
                }
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
            let handled = match held_from {
                Some(held) => Some(held - chrono::Duration::milliseconds(1)),
                None => newest,
            };
            if let Some(handled) = handled.filter(|h| h.timestamp_millis() > last_ms) {
                self.store
                    .set_handled_until(&workflow.id, handled.timestamp_millis())
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
                WorkflowTriggerPlan::Cron(plan) if self.catalog.is_enabled(w) => {
                    // Nominal times up to `jitter` back may still be waiting to run.
                    let back = chrono::Duration::from_std(plan.jitter.unwrap_or_default())
                        .unwrap_or_default();
                    next_firings(plan, now - back, 64)
                        .into_iter()
                        .map(|nominal| firing_time(plan, &w.id, nominal))
                        .filter(|at| *at > now)
                        .min()
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
