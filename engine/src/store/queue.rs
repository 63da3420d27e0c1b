//! The run queue and each run's step journal: claim with a lease, journal steps, finish,
//! retry, hand back; and the reads behind run history.

use super::{
    ClaimedRun, RunRecord, SqliteStore, StepRecord, StoreError, millis, now_ms, run_record,
};
use serde_json::Value as Json;
use sqlx::Row;
use std::time::Duration;

impl SqliteStore {
    /// Takes the oldest queued run, or a running one whose lease expired (its worker died),
    /// and leases it to `owner`.
    pub async fn claim_run(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedRun>, StoreError> {
        let owner = owner.to_string();
        self.writer
            .write(move |c| {
                Box::pin(async move {
                    let now = now_ms();
                    let until = now.saturating_add(millis(lease));
                    // Runs whose worker died (lease expired) first, then the oldest queued
                    // run that may start (an `exclusive` run waits while its workflow has
                    // one running; a workflow at its `concurrency` limit waits). Two indexed
                    // lookups: an OR of both would scan the whole table.
                    let row = sqlx::query(
                        "UPDATE runs SET status = 'running', lease_owner = ?1, lease_until = ?2,
                                started_at = COALESCE(started_at, ?3)
                         WHERE id = COALESCE(
                             (SELECT id FROM runs WHERE status = 'running' AND lease_until < ?3 LIMIT 1),
                             (SELECT id FROM runs
                              WHERE status = 'queued'
                                AND NOT (exclusive = 1 AND EXISTS (
                                    SELECT 1 FROM runs AS other
                                    WHERE other.workflow = runs.workflow
                                      AND other.status = 'running' AND other.lease_until >= ?3))
                                AND NOT EXISTS (
                                    SELECT 1 FROM workflow_limits AS l
                                    WHERE l.workflow = runs.workflow
                                      AND (SELECT COUNT(*) FROM runs AS other
                                           WHERE other.workflow = runs.workflow
                                             AND other.status = 'running' AND other.lease_until >= ?3)
                                          >= l.max_running)
                              ORDER BY created_at, id LIMIT 1))
                         RETURNING id, workflow, spec_hash, trigger",
                    )
                    .bind(&owner)
                    .bind(until)
                    .bind(now)
                    .fetch_optional(&mut *c)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    let trigger: String = row.try_get("trigger")?;
                    Ok(Some(ClaimedRun {
                        id: row.try_get("id")?,
                        workflow: row.try_get("workflow")?,
                        spec_hash: row.try_get("spec_hash")?,
                        trigger: serde_json::from_str(&trigger)?,
                    }))
                })
            })
            .await
    }

    /// The journal of a run: the steps already finished, in the order they finished.
    pub async fn steps(&self, run: &str) -> Result<Vec<StepRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT step_id, status, attempts, output, error FROM steps
             WHERE run_id = ?1 ORDER BY finished_at, step_id",
        )
        .bind(run)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let output: Option<String> = row.try_get("output")?;
                let attempts: i64 = row.try_get("attempts")?;
                Ok(StepRecord {
                    step_id: row.try_get("step_id")?,
                    status: row.try_get("status")?,
                    attempts: u32::try_from(attempts).unwrap_or(0),
                    output: output.map(|o| serde_json::from_str(&o)).transpose()?,
                    error: row.try_get("error")?,
                })
            })
            .collect()
    }

    /// Journals a finished step. Idempotent: a step journaled twice keeps the first record.
    pub async fn record_step(
        &self,
        run: &str,
        step: &StepRecord,
        started_at_ms: i64,
    ) -> Result<(), StoreError> {
        let (run, step_id, status, error) = (
            run.to_string(),
            step.step_id.clone(),
            step.status.clone(),
            step.error.clone(),
        );
        let (attempts, output) = (
            i64::from(step.attempts),
            step.output.as_ref().map(Json::to_string),
        );
        self.writer
            .write(move |c| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO steps (run_id, step_id, status, attempts, output, error, started_at, finished_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT (run_id, step_id) DO NOTHING",
                    )
                    .bind(&run)
                    .bind(&step_id)
                    .bind(&status)
                    .bind(attempts)
                    .bind(&output)
                    .bind(&error)
                    .bind(started_at_ms)
                    .bind(now_ms())
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Ends a run.
    pub async fn finish_run(
        &self,
        run: &str,
        succeeded: bool,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let (run, error) = (run.to_string(), error.map(str::to_string));
        self.writer
            .write(move |c| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE runs SET status = ?2, error = ?3, finished_at = ?4,
                                lease_owner = NULL, lease_until = NULL
                         WHERE id = ?1",
                    )
                    .bind(&run)
                    .bind(if succeeded { "succeeded" } else { "failed" })
                    .bind(&error)
                    .bind(now_ms())
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// One run.
    pub async fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        let row = sqlx::query(
            "SELECT id, workflow, spec_hash, status, error, trigger FROM runs WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_record).transpose()
    }

    /// Queues a failed run again from its failed step: succeeded steps stay journaled (and
    /// are not run again), failed ones are forgotten. `false` if the run has not failed.
    pub async fn retry_run(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.writer
            .write(move |c| {
                Box::pin(async move {
                    let updated = sqlx::query(
                        "UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL
                         WHERE id = ?1 AND status = 'failed'",
                    )
                    .bind(&id)
                    .execute(&mut *c)
                    .await?
                    .rows_affected();
                    if updated == 0 {
                        return Ok(false);
                    }
                    sqlx::query("DELETE FROM steps WHERE run_id = ?1 AND status = 'failed'")
                        .bind(&id)
                        .execute(&mut *c)
                        .await?;
                    Ok(true)
                })
            })
            .await
    }

    /// Extends a lease while its run is still being worked on.
    pub async fn renew_lease(
        &self,
        run: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<(), StoreError> {
        let (run, owner) = (run.to_string(), owner.to_string());
        self.writer
            .write(move |c| {
                Box::pin(async move {
                    let until = now_ms().saturating_add(millis(lease));
                    sqlx::query(
                        "UPDATE runs SET lease_until = ?3
                         WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
                    )
                    .bind(&run)
                    .bind(&owner)
                    .bind(until)
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// At start-up: runs leased by an earlier process of this host (`owner_prefix`) were
    /// cut off by a crash; they go back to the queue at once instead of waiting for their
    /// leases to expire. Returns how many.
    pub async fn requeue_orphans(&self, owner_prefix: &str) -> Result<u64, StoreError> {
        let pattern = format!("{}%", owner_prefix.replace('%', "\\%").replace('_', "\\_"));
        self.writer
            .write(move |c| {
                Box::pin(async move {
                    let done = sqlx::query(
                        "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
                         WHERE status = 'running' AND lease_owner LIKE ?1 ESCAPE '\\'",
                    )
                    .bind(&pattern)
                    .execute(&mut *c)
                    .await?;
                    Ok(done.rows_affected())
                })
            })
            .await
    }

    /// Hands a leased run back to the queue (graceful shutdown).
    pub async fn release_run(&self, run: &str) -> Result<(), StoreError> {
        let run = run.to_string();
        self.writer
            .write(move |c| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
                         WHERE id = ?1 AND status = 'running'",
                    )
                    .bind(&run)
                    .execute(&mut *c)
                    .await?;
                    Ok(())
                })
            })
            .await
    }

    /// Runs, newest first.
    pub async fn runs(
        &self,
        workflow: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunRecord>, StoreError> {
        self.find_runs(workflow, None, limit).await
    }

    /// Runs of a workflow and/or status, newest first.
    pub async fn find_runs(
        &self,
        workflow: Option<&str>,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, workflow, spec_hash, status, error, trigger FROM runs
             WHERE (?1 IS NULL OR workflow = ?1) AND (?2 IS NULL OR status = ?2)
             ORDER BY created_at DESC, id DESC LIMIT ?3",
        )
        .bind(workflow)
        .bind(status)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_record).collect()
    }
}
