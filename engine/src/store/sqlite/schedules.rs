//! Cron bookkeeping: firings unique per (workflow, nominal time), how far each schedule was
//! handled, and the per-workflow concurrency limits the queue respects.

use super::events::insert_run;
use super::{NewRun, SqliteStore, StoreError, now_ms};
use rusqlite::params;

impl SqliteStore {
    /// Records that firings up to `until_ms` were handled (never moves backwards).
    pub async fn set_handled_until(&self, workflow: &str, until_ms: i64) -> Result<(), StoreError> {
        let workflow = workflow.to_string();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO schedules (workflow, handled_until) VALUES (?1, ?2)
                     ON CONFLICT (workflow) DO UPDATE
                     SET handled_until = max(handled_until, excluded.handled_until)",
                )?
                .execute(params![workflow, until_ms])?;
                Ok(())
            })
            .await
    }

    /// Records a cron firing, with its run when it runs (`None`: skipped by the overlap
    /// policy). `false` when this (workflow, nominal time) was already recorded: it fired.
    pub async fn fire(
        &self,
        workflow: &str,
        nominal_ms: i64,
        run: Option<&NewRun>,
        exclusive: bool,
    ) -> Result<bool, StoreError> {
        let workflow = workflow.to_string();
        let run = run.map(|r| (r.clone(), r.trigger.to_string()));
        let runs = run.is_some();
        self.writer
            .write(move |c| {
                let now = now_ms();
                let inserted = c
                    .prepare_cached(
                        "INSERT INTO cron_firings (workflow, nominal, outcome, fired_at)
                         VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (workflow, nominal) DO NOTHING",
                    )?
                    .execute(params![
                        workflow,
                        nominal_ms,
                        if run.is_some() { "queued" } else { "skipped" },
                        now
                    ])?;
                if inserted == 0 {
                    return Ok(false);
                }
                if let Some(run) = &run {
                    let id = insert_run(c, run, None, now, exclusive)?;
                    c.prepare_cached(
                        "UPDATE cron_firings SET run_id = ?3 WHERE workflow = ?1 AND nominal = ?2",
                    )?
                    .execute(params![workflow, nominal_ms, id])?;
                }
                Ok(true)
            })
            .await
            .inspect(|&fired| {
                if fired && runs {
                    self.count_queued(1);
                }
            })
    }

    /// Sets the workflows' `concurrency` limits (replacing those stored before).
    pub async fn set_workflow_limits(&self, limits: &[(String, u32)]) -> Result<(), StoreError> {
        let limits = limits.to_vec();
        self.writer
            .write(move |c| {
                c.execute("DELETE FROM workflow_limits", [])?;
                for (workflow, max) in &limits {
                    c.prepare_cached(
                        "INSERT INTO workflow_limits (workflow, max_running) VALUES (?1, ?2)",
                    )?
                    .execute(params![workflow, i64::from((*max).max(1))])?;
                }
                Ok(())
            })
            .await
    }
}

impl SqliteStore {
    /// Switches a workflow on or off (overriding its spec's `enabled`).
    pub async fn set_workflow_enabled(
        &self,
        workflow: &str,
        enabled: bool,
    ) -> Result<(), StoreError> {
        let workflow = workflow.to_string();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO workflow_switches (workflow, enabled, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (workflow) DO UPDATE
                     SET enabled = excluded.enabled, updated_at = excluded.updated_at",
                )?
                .execute(params![workflow, i64::from(enabled), now_ms()])?;
                Ok(())
            })
            .await
    }
}
