//! The run queue and each run's step journal: claim with a lease, journal steps, finish,
//! retry, hand back; and the reads behind run history.

use super::{
    ClaimedRun, InstanceRow, SqliteStore, StepRecord, StoreError, like_prefix, millis, now_ms,
};
use rusqlite::{OptionalExtension, params};
use serde_json::Value as Json;
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
        let claimed = self
            .writer
            .write(move |c| {
                let now = now_ms();
                let until = now.saturating_add(millis(lease));
                // Runs whose worker died (lease expired) first, then the oldest queued run
                // that may start (an `exclusive` run waits while its workflow has one
                // running; a workflow at its `concurrency` limit waits). Two indexed
                // lookups: an OR of both would scan the whole table. The writer runs one
                // write at a time, so nothing else can take the run between the two
                // statements.
                let candidate = c
                    .prepare_cached(
                        "SELECT id, started_at, status FROM runs WHERE id = COALESCE(
                             (SELECT id FROM runs WHERE status = 'running' AND lease_until < ?1 LIMIT 1),
                             (SELECT id FROM runs
                              WHERE status = 'queued'
                                AND NOT (exclusive = 1 AND EXISTS (
                                    SELECT 1 FROM runs AS other
                                    WHERE other.workflow = runs.workflow
                                      AND other.status = 'running' AND other.lease_until >= ?1))
                                AND NOT EXISTS (
                                    SELECT 1 FROM workflow_limits AS l
                                    WHERE l.workflow = runs.workflow
                                      AND (SELECT COUNT(*) FROM runs AS other
                                           WHERE other.workflow = runs.workflow
                                             AND other.status = 'running' AND other.lease_until >= ?1)
                                          >= l.max_running)
                              ORDER BY created_at, id LIMIT 1))",
                    )?
                    .query_row([now], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, Option<i64>>(1)?,
                            row.get::<_, String>(2)? == "queued",
                        ))
                    })
                    .optional()?;
                let Some((id, started_at, was_queued)) = candidate else {
                    return Ok(None);
                };
                let (workflow, spec_hash, trigger, created_at) = c
                    .prepare_cached(
                        "UPDATE runs SET status = 'running', lease_owner = ?2, lease_until = ?3,
                                started_at = COALESCE(started_at, ?4)
                         WHERE id = ?1 RETURNING workflow, spec_hash, trigger, created_at",
                    )?
                    .query_row(params![id, owner, until, now], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            row.get::<_, String>(2)?,
                            row.get::<_, i64>(3)?,
                        ))
                    })?;
                // A run that started before (its worker died, or it is retried) resumes
                // from its journal; a fresh run has none to read.
                let journal = if started_at.is_some() {
                    read_journal(c, &id)?
                } else {
                    Vec::new()
                };
                Ok(Some(Claimed {
                    id,
                    workflow,
                    spec_hash,
                    trigger,
                    journal,
                    was_queued,
                    created_at,
                }))
            })
            .await?;
        let Some(Claimed {
            id,
            workflow,
            spec_hash,
            trigger,
            journal,
            was_queued,
            created_at,
        }) = claimed
        else {
            return Ok(None);
        };
        if was_queued {
            self.count_queued(-1);
        }
        // Parsed here, on the caller's task, not on the writer thread.
        Ok(Some(ClaimedRun {
            id,
            workflow,
            spec_hash,
            trigger: serde_json::from_str(&trigger)?,
            journal,
            created_at,
        }))
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
        let (attempts, output, input) = (
            i64::from(step.attempts),
            step.output.as_ref().map(Json::to_string),
            step.input.as_ref().map(Json::to_string),
        );
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO steps (run_id, step_id, status, attempts, output, error, started_at, finished_at, input)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (run_id, step_id) DO NOTHING",
                )?
                .execute(params![
                    run,
                    step_id,
                    status,
                    attempts,
                    output,
                    error,
                    started_at_ms,
                    now_ms(),
                    input
                ])?;
                Ok(())
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
                c.prepare_cached(
                    "UPDATE runs SET status = ?2, error = ?3, finished_at = ?4,
                            lease_owner = NULL, lease_until = NULL
                     WHERE id = ?1",
                )?
                .execute(params![
                    run,
                    if succeeded { "succeeded" } else { "failed" },
                    error,
                    now_ms()
                ])?;
                Ok(())
            })
            .await
    }

    /// Queues a failed run again from its failed step: succeeded steps stay journaled (and
    /// are not run again), failed ones are forgotten. `false` if the run has not failed.
    pub async fn retry_run(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.writer
            .write(move |c| {
                let updated = c
                    .prepare_cached(
                        "UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL
                         WHERE id = ?1 AND status = 'failed'",
                    )?
                    .execute([&id])?;
                if updated == 0 {
                    return Ok(false);
                }
                c.prepare_cached("DELETE FROM steps WHERE run_id = ?1 AND status = 'failed'")?
                    .execute([&id])?;
                Ok(true)
            })
            .await
            .inspect(|&retried| {
                if retried {
                    self.count_queued(1);
                }
            })
    }

    /// Extends a lease while its run is still being worked on; `false` when `owner` no
    /// longer holds it (the run was handed to another worker).
    pub async fn renew_lease(
        &self,
        run: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let (run, owner) = (run.to_string(), owner.to_string());
        self.writer
            .write(move |c| {
                let until = now_ms().saturating_add(millis(lease));
                let n = c
                    .prepare_cached(
                        "UPDATE runs SET lease_until = ?3
                     WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
                    )?
                    .execute(params![run, owner, until])?;
                Ok(n > 0)
            })
            .await
    }

    /// At start-up: runs leased by an earlier process of this host (`owner_prefix`) were
    /// cut off by a crash; they go back to the queue at once instead of waiting for their
    /// leases to expire. Returns how many.
    pub async fn requeue_orphans(&self, owner_prefix: &str) -> Result<u64, StoreError> {
        let pattern = like_prefix(owner_prefix);
        self.writer
            .write(move |c| {
                let done = c
                    .prepare_cached(
                        "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
                         WHERE status = 'running' AND lease_owner LIKE ?1 ESCAPE '\\'",
                    )?
                    .execute([&pattern])?;
                Ok(done as u64)
            })
            .await
            .inspect(|&n| self.count_queued(n as i64))
    }

    /// Hands a leased run back to the queue (graceful shutdown).
    pub async fn release_run(&self, run: &str) -> Result<(), StoreError> {
        let run = run.to_string();
        self.writer
            .write(move |c| {
                let released = c
                    .prepare_cached(
                        "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
                         WHERE id = ?1 AND status = 'running'",
                    )?
                    .execute([&run])?;
                Ok(released)
            })
            .await
            .map(|released| self.count_queued(released as i64))
    }
}

/// A run's journal, read inside a write (in order of completion).
fn read_journal(c: &rusqlite::Connection, run: &str) -> Result<Vec<StepRecord>, StoreError> {
    let mut query = c.prepare_cached(
        "SELECT step_id, status, attempts, output, error FROM steps
         WHERE run_id = ?1 ORDER BY finished_at, step_id",
    )?;
    let rows = query.query_map([run], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, Option<String>>(3)?,
            row.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut steps = Vec::new();
    for row in rows {
        let (step_id, status, attempts, output, error) = row?;
        steps.push(StepRecord {
            step_id,
            status,
            attempts: u32::try_from(attempts).unwrap_or(0),
            output: output.map(|o| serde_json::from_str(&o)).transpose()?,
            error,
            // Resuming needs outputs only.
            input: None,
        });
    }
    Ok(steps)
}

/// A claimed run as the writer thread returns it (the trigger still text).
struct Claimed {
    id: String,
    workflow: String,
    spec_hash: String,
    trigger: String,
    journal: Vec<StepRecord>,
    was_queued: bool,
    created_at: i64,
}

impl SqliteStore {
    /// Records this instance's heartbeat (creating its row on the first).
    pub async fn heartbeat(&self, instance: &InstanceRow) -> Result<(), StoreError> {
        let i = instance.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO instances (id, host, version, started_at, heartbeat_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
                         stopped_at = NULL",
                )?
                .execute(params![
                    i.id,
                    i.host,
                    i.version,
                    i.started_at,
                    now_ms()
                ])?;
                Ok(())
            })
            .await
    }

    /// Marks an instance stopped (a graceful stop).
    pub async fn stop_instance(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_string();
        self.writer
            .write(move |c| {
                c.prepare_cached("UPDATE instances SET stopped_at = ?2 WHERE id = ?1")?
                    .execute(params![id, now_ms()])?;
                Ok(())
            })
            .await
    }

    /// Queues again the runs leased by instances that stopped or whose last heartbeat is
    /// older than `dead_after`: they resume from their journals. Returns how many.
    pub async fn requeue_runs_of_dead_instances(
        &self,
        dead_after: Duration,
    ) -> Result<u64, StoreError> {
        let cutoff_ms = now_ms() - millis(dead_after);
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
                         WHERE status = 'running' AND lease_owner IN (
                             SELECT id FROM instances
                             WHERE stopped_at IS NOT NULL OR heartbeat_at < ?1)",
                    )?
                    .execute([cutoff_ms])?;
                Ok(n as u64)
            })
            .await
            .inspect(|&n| self.count_queued(n as i64))
    }

    /// Hands back every run leased by `owner` (a graceful stop whose runs did not finish).
    pub async fn release_runs_of(&self, owner: &str) -> Result<u64, StoreError> {
        let owner = owner.to_string();
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
                         WHERE status = 'running' AND lease_owner = ?1",
                    )?
                    .execute([&owner])?;
                Ok(n as u64)
            })
            .await
            .inspect(|&n| self.count_queued(n as i64))
    }
}
