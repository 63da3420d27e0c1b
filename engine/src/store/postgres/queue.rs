//! Events and the run queue on PostgreSQL: accept an event with its runs, claim runs with
//! `FOR UPDATE SKIP LOCKED`, journal steps, finish, retry, hand back, prune.

use super::{
    Accepted, ClaimedRun, NewEvent, NewRun, PgStore, StepRecord, StoreError, like_prefix, millis,
};
use super::{Columns, Json, Row};
use sqlx::PgConnection;
use std::time::Duration;

impl PgStore {
    /// Stores a verified event, its dedupe key and the runs it starts, in one transaction.
    pub async fn accept_event(
        &self,
        event: &NewEvent<'_>,
        runs: &[NewRun],
    ) -> Result<Accepted, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        if let Some(id) = event.event_id {
            let scope = format!("webhook:{}:{}", event.connector, event.connection);
            if !insert_dedupe_key(&mut tx, &scope, id, event.dedupe_window, now).await? {
                return Ok(Accepted::Duplicate);
            }
        }
        let event_row: i64 = sqlx::query(
            "INSERT INTO events (connector, connection, event_id, event_type, payload, headers, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(event.connector)
        .bind(event.connection)
        .bind(event.event_id)
        .bind(event.event_type)
        .bind(event.payload.to_string())
        .bind(event.headers.to_string())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let mut ids = Vec::with_capacity(runs.len());
        for run in runs {
            ids.push(insert_run(&mut tx, run, Some(event_row), now, false).await?);
        }
        tx.commit().await?;
        self.announce(ids.len());
        self.count_queued(ids.len() as i64);
        Ok(Accepted::Stored { runs: ids })
    }

    /// Queues a run without an event (manual runs, replays).
    pub async fn queue_run(&self, run: &NewRun) -> Result<String, StoreError> {
        let mut tx = self.begin().await?;
        let id = insert_run(&mut tx, run, None, self.now(), false).await?;
        tx.commit().await?;
        self.announce(1);
        self.count_queued(1);
        Ok(id)
    }

    /// Takes a running run whose lease expired (its instance died), else the oldest queued
    /// run that may start, and leases it to `owner`. Rows another instance is claiming are
    /// skipped, not waited for.
    pub async fn claim_run(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedRun>, StoreError> {
        // A candidate refused under the workflow's lock (another instance started one of
        // its runs first) is passed over on the next try, whose snapshot sees that start.
        for _ in 0..3 {
            if let Claim::Done(run) = self.try_claim(owner, lease).await? {
                return Ok(run);
            }
        }
        Ok(None)
    }

    async fn try_claim(&self, owner: &str, lease: Duration) -> Result<Claim, StoreError> {
        let now = self.now();
        let until = now.saturating_add(millis(lease));
        let mut tx = self.begin().await?;
        let expired = sqlx::query(
            "SELECT id, workflow, exclusive, 0::BIGINT AS limited FROM runs
             WHERE status = 'running' AND lease_until < $1
             ORDER BY lease_until LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let (candidate, was_queued) = match expired {
            Some(row) => (Some(row), false),
            None => {
                let queued = sqlx::query(
                    "SELECT id, workflow, exclusive,
                            (SELECT COUNT(*) FROM workflow_limits AS l
                             WHERE l.workflow = runs.workflow) AS limited
                     FROM runs
                     WHERE status = 'queued'
                       AND NOT (exclusive = 1 AND EXISTS (
                           SELECT 1 FROM runs AS other
                           WHERE other.workflow = runs.workflow
                             AND other.status = 'running' AND other.lease_until >= $1))
                       AND NOT EXISTS (
                           SELECT 1 FROM workflow_limits AS l
                           WHERE l.workflow = runs.workflow
                             AND (SELECT COUNT(*) FROM runs AS other
                                  WHERE other.workflow = runs.workflow
                                    AND other.status = 'running' AND other.lease_until >= $1)
                                 >= l.max_running)
                     ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED",
                )
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                (queued, true)
            }
        };
        let Some(candidate) = candidate else {
            return Ok(Claim::Done(None));
        };
        let id = candidate.text("id")?;
        let workflow = candidate.text("workflow")?;
        let constrained = candidate.int("exclusive")? != 0 || candidate.int("limited")? > 0;
        let exclusive = candidate.int("exclusive")? != 0;
        if was_queued && constrained && !still_may_start(&mut tx, &workflow, exclusive, now).await?
        {
            // Another instance started a run of this workflow since the candidate was read;
            // the run stays queued.
            return Ok(Claim::Refused);
        }
        let row = sqlx::query(
            "UPDATE runs SET status = 'running', lease_owner = $2, lease_until = $3,
                    started_at = COALESCE(started_at, $4)
             WHERE id = $1
             RETURNING spec_hash, trigger, created_at,
                       (SELECT COUNT(*) FROM steps WHERE run_id = $1) AS journaled",
        )
        .bind(&id)
        .bind(owner)
        .bind(until)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let journal = if row.int("journaled")? > 0 {
            read_journal(&mut tx, &id).await?
        } else {
            Vec::new()
        };
        tx.commit().await?;
        if was_queued {
            self.count_queued(-1);
        }
        Ok(Claim::Done(Some(ClaimedRun {
            id,
            workflow,
            spec_hash: row.text("spec_hash")?,
            trigger: serde_json::from_str(&row.text("trigger")?)?,
            journal,
            created_at: row.int("created_at")?,
        })))
    }

    /// Journals a finished step. Idempotent: a step journaled twice keeps the first record.
    pub async fn record_step(
        &self,
        run: &str,
        step: &StepRecord,
        started_at_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO steps (run_id, step_id, status, attempts, output, error, started_at, finished_at, input)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (run_id, step_id) DO NOTHING",
        )
        .bind(run)
        .bind(&step.step_id)
        .bind(&step.status)
        .bind(i64::from(step.attempts))
        .bind(step.output.as_ref().map(Json::to_string))
        .bind(&step.error)
        .bind(started_at_ms)
        .bind(self.now())
        .bind(step.input.as_ref().map(Json::to_string))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends a run.
    pub async fn finish_run(
        &self,
        run: &str,
        succeeded: bool,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET status = $2, error = $3, finished_at = $4,
                    lease_owner = NULL, lease_until = NULL
             WHERE id = $1",
        )
        .bind(run)
        .bind(if succeeded { "succeeded" } else { "failed" })
        .bind(error)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Queues a failed run again from its failed step (succeeded steps stay journaled).
    /// `false` if the run has not failed.
    pub async fn retry_run(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL
             WHERE id = $1 AND status = 'failed'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM steps WHERE run_id = $1 AND status = 'failed'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.announce(1);
        self.count_queued(1);
        Ok(true)
    }

    /// Extends a lease while its run is still being worked on; `false` when `owner` no
    /// longer holds it.
    pub async fn renew_lease(
        &self,
        run: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE runs SET lease_until = $3
             WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        )
        .bind(run)
        .bind(owner)
        .bind(self.now().saturating_add(millis(lease)))
        .execute(&self.pool)
        .await?;
        Ok(n.rows_affected() > 0)
    }

    /// At start-up: runs leased by an earlier process with this owner prefix go back to
    /// the queue at once. Returns how many.
    pub async fn requeue_orphans(&self, owner_prefix: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
             WHERE status = 'running' AND lease_owner LIKE $1 ESCAPE '\\'",
        )
        .bind(like_prefix(owner_prefix))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        self.announce(done as usize);
        self.count_queued(done as i64);
        Ok(done)
    }

    /// Hands a leased run back to the queue (graceful shutdown).
    pub async fn release_run(&self, run: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let released = sqlx::query(
            "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND status = 'running'",
        )
        .bind(run)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        self.announce(released as usize);
        self.count_queued(released as i64);
        Ok(())
    }

    /// Deletes history past its retention (see the SQLite store's `prune`); PostgreSQL's
    /// autovacuum gives the space back.
    pub async fn prune(
        &self,
        now_ms: i64,
        max_age: Duration,
        keep_per_workflow: u32,
    ) -> Result<u64, StoreError> {
        let cutoff = now_ms.saturating_sub(millis(max_age));
        let mut tx = self.begin().await?;
        let mut deleted = sqlx::query(
            "DELETE FROM runs WHERE status IN ('succeeded', 'failed') AND finished_at < $1",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        deleted += sqlx::query(
            "DELETE FROM runs WHERE id IN (
                 SELECT id FROM (
                     SELECT id, ROW_NUMBER() OVER (PARTITION BY workflow ORDER BY created_at DESC, id DESC) AS n
                     FROM runs WHERE status IN ('succeeded', 'failed')) AS ranked
                 WHERE n > $1)",
        )
        .bind(i64::from(keep_per_workflow))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM events WHERE received_at < $1
             AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.event = events.id)",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM dedupe_keys WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM cron_firings WHERE nominal < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM activity WHERE at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted)
    }
}

/// What one claim attempt found.
enum Claim {
    Done(Option<ClaimedRun>),
    /// The candidate may not start after all; try again.
    Refused,
}

/// With the workflow's claim lock held (to the end of the transaction), whether one more
/// of its runs may start: no `exclusive` run waits on a running one, and the workflow is
/// under its `concurrency` limit. Instances claiming runs of the same constrained
/// workflow take turns here; others never wait.
async fn still_may_start(
    tx: &mut PgConnection,
    workflow: &str,
    exclusive: bool,
    now: i64,
) -> Result<bool, StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('switchyard-claim:' || $1, 0))")
        .bind(workflow)
        .execute(&mut *tx)
        .await?;
    // A new statement: under READ COMMITTED it sees every claim committed before the lock.
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM runs
                 WHERE workflow = $1 AND status = 'running' AND lease_until >= $2) AS running,
                (SELECT MIN(max_running) FROM workflow_limits WHERE workflow = $1) AS max_running",
    )
    .bind(workflow)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let running = row.int("running")?;
    // An exclusive run allows none beside it; a limit allows up to `max_running`.
    let limit = row.opt_int("max_running")?.unwrap_or(i64::MAX);
    let allowed = if exclusive { limit.min(1) } else { limit };
    Ok(running < allowed)
}

/// A run's journal, in order of completion.
async fn read_journal(tx: &mut PgConnection, run: &str) -> Result<Vec<StepRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT step_id, status, attempts, output, error, input FROM steps
         WHERE run_id = $1 ORDER BY finished_at, step_id",
    )
    .bind(run)
    .fetch_all(&mut *tx)
    .await?;
    rows.iter().map(StepRecord::decode).collect()
}

/// Queues one run inside a transaction.
pub(super) async fn insert_run(
    tx: &mut PgConnection,
    run: &NewRun,
    event: Option<i64>,
    now: i64,
    exclusive: bool,
) -> Result<String, StoreError> {
    // Time-ordered ids: the queue order and the id order agree.
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO runs (id, workflow, spec_hash, status, trigger, event, created_at, exclusive)
         VALUES ($1, $2, $3, 'queued', $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(&run.workflow)
    .bind(&run.spec_hash)
    .bind(run.trigger.to_string())
    .bind(event)
    .bind(now)
    .bind(i64::from(exclusive))
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Records a dedupe key until `now + window`; `false` if a live one exists (seen). A
/// concurrent insert of the same key waits for the first to commit, then sees it.
pub(super) async fn insert_dedupe_key(
    tx: &mut PgConnection,
    scope: &str,
    key: &str,
    window: Duration,
    now: i64,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO dedupe_keys (scope, key, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (scope, key) DO UPDATE SET expires_at = excluded.expires_at
         WHERE dedupe_keys.expires_at <= $4",
    )
    .bind(scope)
    .bind(key)
    .bind(now.saturating_add(millis(window)))
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}
