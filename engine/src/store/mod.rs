//! The durable store: received events, dedupe keys, the run queue and each run's step
//! journal. SQLite (one file in the data directory, WAL mode) is the embedded default.
//!
//! Every promise the server makes rests on a transaction here: a webhook is answered 2xx
//! only after [`SqliteStore::accept_event`] committed its event, its dedupe key and its runs
//! together; a step's output is journaled before the next step starts; a run is claimed with
//! a lease, so a run whose worker died is picked up again.
//!
//! Must never hold a secret: callers pass redacted documents only.

use serde_json::Value as Json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is damaged: {0}")]
    Json(#[from] serde_json::Error),
}

/// A received event to store.
#[derive(Debug, Clone)]
pub struct NewEvent<'a> {
    pub connector: &'a str,
    pub connection: &'a str,
    pub event_id: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub payload: &'a Json,
    pub headers: &'a Json,
    pub dedupe_window: Duration,
}

/// A run to queue.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub workflow: String,
    pub spec_hash: String,
    pub trigger: Json,
}

/// What storing an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Stored, with these runs queued.
    Stored { runs: Vec<String> },
    /// The (connection, event id) pair was seen within its window: nothing stored.
    Duplicate,
}

/// A run taken from the queue.
#[derive(Debug, Clone)]
pub struct ClaimedRun {
    pub id: String,
    pub workflow: String,
    pub spec_hash: String,
    pub trigger: Json,
}

/// A run's state, for history and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: String,
    pub workflow: String,
    /// The content hash of the workflow spec the run started with.
    pub spec_hash: String,
    pub status: String,
    pub error: Option<String>,
    pub trigger: Json,
}

/// A journaled step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub step_id: String,
    pub status: String,
    pub attempts: u32,
    pub output: Option<Json>,
    pub error: Option<String>,
}

/// The SQLite store.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// Readers (WAL lets them run beside the writer).
    pool: SqlitePool,
    /// The one writing connection. SQLite has a single writer; queueing writes here, in
    /// async code, beats letting connections collide on the file lock, where SQLite's busy
    /// handler sleeps in growing steps.
    writer: SqlitePool,
}

/// The current time as Unix milliseconds, the unit every time column uses.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

/// A duration in milliseconds, saturating.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Decodes a `runs` row selected as `id, workflow, spec_hash, status, error, trigger`.
fn run_record(row: &sqlx::sqlite::SqliteRow) -> Result<RunRecord, StoreError> {
    let trigger: String = row.try_get("trigger")?;
    Ok(RunRecord {
        id: row.try_get("id")?,
        workflow: row.try_get("workflow")?,
        spec_hash: row.try_get("spec_hash")?,
        status: row.try_get("status")?,
        error: row.try_get("error")?,
        trigger: serde_json::from_str(&trigger)?,
    })
}

/// Records a dedupe key until `now + window`. A key past its window is replaced; a live
/// one is kept and `false` returned: the item was seen.
async fn insert_dedupe_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    scope: &str,
    key: &str,
    window: Duration,
    now: i64,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO dedupe_keys (scope, key, expires_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (scope, key) DO UPDATE SET expires_at = excluded.expires_at
         WHERE dedupe_keys.expires_at <= ?4",
    )
    .bind(scope)
    .bind(key)
    .bind(now.saturating_add(millis(window)))
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    ///
    /// WAL journal with `synchronous = NORMAL`: a commit survives the process being killed
    /// at any moment (the WAL is in the OS); only an operating-system crash can lose the
    /// last commits, without corrupting the file.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            // Freed pages go back to the file system with `PRAGMA incremental_vacuum`
            // (run by `prune`); set when the file is created.
            .auto_vacuum(sqlx::sqlite::SqliteAutoVacuum::Incremental)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        Ok(SqliteStore { pool, writer })
    }

    /// Stores a verified event, its dedupe key and the runs it starts, in one transaction.
    pub async fn accept_event(
        &self,
        event: &NewEvent<'_>,
        runs: &[NewRun],
    ) -> Result<Accepted, StoreError> {
        let mut tx = self.writer.begin().await?;
        let accepted = accept_in(&mut tx, event, runs, now_ms()).await?;
        if matches!(accepted, Accepted::Stored { .. }) {
            tx.commit().await?;
        }
        Ok(accepted)
    }

    /// Queues a run without an event (manual runs, replays).
    pub async fn queue_run(&self, run: &NewRun) -> Result<String, StoreError> {
        let mut tx = self.writer.begin().await?;
        let id = insert_run(&mut tx, run, None, now_ms(), false).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Takes the oldest queued run, or a running one whose lease expired (its worker died),
    /// and leases it to `owner`.
    pub async fn claim_run(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedRun>, StoreError> {
        let now = now_ms();
        let until = now.saturating_add(millis(lease));
        // Runs whose worker died (lease expired) first, then the oldest queued run that may
        // start (an `exclusive` run waits while its workflow has one running). Two indexed
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
        .bind(owner)
        .bind(until)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let trigger: String = row.try_get("trigger")?;
        Ok(Some(ClaimedRun {
            id: row.try_get("id")?,
            workflow: row.try_get("workflow")?,
            spec_hash: row.try_get("spec_hash")?,
            trigger: serde_json::from_str(&trigger)?,
        }))
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
        sqlx::query(
            "INSERT INTO steps (run_id, step_id, status, attempts, output, error, started_at, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (run_id, step_id) DO NOTHING",
        )
        .bind(run)
        .bind(&step.step_id)
        .bind(&step.status)
        .bind(i64::from(step.attempts))
        .bind(step.output.as_ref().map(Json::to_string))
        .bind(&step.error)
        .bind(started_at_ms)
        .bind(now_ms())
        .execute(&self.writer)
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
            "UPDATE runs SET status = ?2, error = ?3, finished_at = ?4,
                    lease_owner = NULL, lease_until = NULL
             WHERE id = ?1",
        )
        .bind(run)
        .bind(if succeeded { "succeeded" } else { "failed" })
        .bind(error)
        .bind(now_ms())
        .execute(&self.writer)
        .await?;
        Ok(())
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
        let mut tx = self.writer.begin().await?;
        let updated = sqlx::query(
            "UPDATE runs SET status = 'queued', error = NULL, finished_at = NULL
             WHERE id = ?1 AND status = 'failed'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM steps WHERE run_id = ?1 AND status = 'failed'")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// A poll's state: `None` before its first poll, else its cursor (if any).
    pub async fn poll_cursor(&self, workflow: &str) -> Result<Option<Option<Json>>, StoreError> {
        let row = sqlx::query("SELECT cursor FROM poll_state WHERE workflow = ?1")
            .bind(workflow)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let cursor: Option<String> = row.try_get(0)?;
        Ok(Some(cursor.map(|c| serde_json::from_str(&c)).transpose()?))
    }

    /// Commits one poll: the new cursor (only if the stored one is still `previous`:
    /// compare-and-swap), the dedupe keys of the items and the runs of new items, in one
    /// transaction. Items whose key was seen are skipped. Returns the runs queued, or `None`
    /// when another poller advanced the cursor first (nothing is written then).
    pub async fn commit_poll(
        &self,
        workflow: &str,
        previous: Option<&Option<Json>>,
        cursor: Option<&Json>,
        items: &[(Option<String>, NewRun)],
        window: Duration,
        emit: bool,
    ) -> Result<Option<usize>, StoreError> {
        let now = now_ms();
        let mut tx = self.writer.begin().await?;
        let text = cursor.map(Json::to_string);
        let swapped = match previous {
            None => sqlx::query(
                "INSERT INTO poll_state (workflow, cursor, polled_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (workflow) DO NOTHING",
            )
            .bind(workflow)
            .bind(&text)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(old) => sqlx::query(
                "UPDATE poll_state SET cursor = ?2, polled_at = ?3
                 WHERE workflow = ?1 AND cursor IS ?4",
            )
            .bind(workflow)
            .bind(&text)
            .bind(now)
            .bind(old.as_ref().map(Json::to_string))
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        if swapped == 0 {
            return Ok(None);
        }
        let scope = format!("poll:{workflow}");
        let mut queued = 0;
        for (key, run) in items {
            if let Some(key) = key
                && !insert_dedupe_key(&mut tx, &scope, key, window, now).await?
            {
                continue;
            }
            if emit {
                insert_run(&mut tx, run, None, now, false).await?;
                queued += 1;
            }
        }
        tx.commit().await?;
        Ok(Some(queued))
    }

    /// Up to which nominal time (Unix ms) a schedule's firings were handled.
    pub async fn handled_until(&self, workflow: &str) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT handled_until FROM schedules WHERE workflow = ?1")
            .bind(workflow)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    /// Records that firings up to `until_ms` were handled (never moves backwards).
    pub async fn set_handled_until(&self, workflow: &str, until_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO schedules (workflow, handled_until) VALUES (?1, ?2)
             ON CONFLICT (workflow) DO UPDATE
             SET handled_until = max(handled_until, excluded.handled_until)",
        )
        .bind(workflow)
        .bind(until_ms)
        .execute(&self.writer)
        .await?;
        Ok(())
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
        let now = now_ms();
        let mut tx = self.writer.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO cron_firings (workflow, nominal, outcome, fired_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (workflow, nominal) DO NOTHING",
        )
        .bind(workflow)
        .bind(nominal_ms)
        .bind(if run.is_some() { "queued" } else { "skipped" })
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(false);
        }
        if let Some(run) = run {
            let id = insert_run(&mut tx, run, None, now, exclusive).await?;
            sqlx::query("UPDATE cron_firings SET run_id = ?3 WHERE workflow = ?1 AND nominal = ?2")
                .bind(workflow)
                .bind(nominal_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Whether a run of the workflow is queued or running.
    pub async fn has_active_run(&self, workflow: &str) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM runs WHERE workflow = ?1 AND status IN ('queued', 'running'))",
        )
        .bind(workflow)
        .fetch_one(&self.pool)
        .await?;
        let exists: i64 = row.try_get(0)?;
        Ok(exists != 0)
    }

    /// Cron firings recorded for a workflow: (nominal ms, outcome).
    pub async fn firings(&self, workflow: &str) -> Result<Vec<(i64, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT nominal, outcome FROM cron_firings WHERE workflow = ?1 ORDER BY nominal",
        )
        .bind(workflow)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Sets the workflows' `concurrency` limits (replacing those stored before).
    pub async fn set_workflow_limits(&self, limits: &[(String, u32)]) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM workflow_limits")
            .execute(&mut *tx)
            .await?;
        for (workflow, max) in limits {
            sqlx::query("INSERT INTO workflow_limits (workflow, max_running) VALUES (?1, ?2)")
                .bind(workflow)
                .bind(i64::from((*max).max(1)))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Extends a lease while its run is still being worked on.
    pub async fn renew_lease(
        &self,
        run: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<(), StoreError> {
        let until = now_ms().saturating_add(millis(lease));
        sqlx::query("UPDATE runs SET lease_until = ?3 WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'")
            .bind(run)
            .bind(owner)
            .bind(until)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// At start-up: runs leased by an earlier process of this host (`owner_prefix`) were
    /// cut off by a crash; they go back to the queue at once instead of waiting for their
    /// leases to expire. Returns how many.
    pub async fn requeue_orphans(&self, owner_prefix: &str) -> Result<u64, StoreError> {
        let pattern = format!("{}%", owner_prefix.replace('%', "\\%").replace('_', "\\_"));
        let done = sqlx::query(
            "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
             WHERE status = 'running' AND lease_owner LIKE ?1 ESCAPE '\\'",
        )
        .bind(pattern)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected())
    }

    /// Deletes history past its retention: finished runs (with their steps) older than
    /// `max_age` and beyond the newest `keep_per_workflow` of each workflow, events no run
    /// refers to, expired dedupe keys and old cron firings; then gives the freed pages back
    /// to the file system, so the database does not grow without bound. `now_ms` is the
    /// current time (injected for tests). Returns the runs deleted.
    pub async fn prune(
        &self,
        now_ms: i64,
        max_age: Duration,
        keep_per_workflow: u32,
    ) -> Result<u64, StoreError> {
        let cutoff = now_ms.saturating_sub(millis(max_age));
        let mut tx = self.writer.begin().await?;
        let mut deleted = sqlx::query(
            "DELETE FROM runs WHERE status IN ('succeeded', 'failed') AND finished_at < ?1",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        deleted += sqlx::query(
            "DELETE FROM runs WHERE id IN (
                 SELECT id FROM (
                     SELECT id, ROW_NUMBER() OVER (PARTITION BY workflow ORDER BY created_at DESC, id DESC) AS n
                     FROM runs WHERE status IN ('succeeded', 'failed'))
                 WHERE n > ?1)",
        )
        .bind(i64::from(keep_per_workflow))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query(
            "DELETE FROM events WHERE received_at < ?1
             AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.event = events.id)",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM dedupe_keys WHERE expires_at <= ?1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM cron_firings WHERE nominal < ?1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        sqlx::query("PRAGMA incremental_vacuum")
            .execute(&self.writer)
            .await?;
        // Fold the WAL back into the file so the truncation reaches the disk now.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.writer)
            .await?;
        Ok(deleted)
    }

    /// Hands a leased run back to the queue (graceful shutdown).
    pub async fn release_run(&self, run: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
             WHERE id = ?1 AND status = 'running'",
        )
        .bind(run)
        .execute(&self.writer)
        .await?;
        Ok(())
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

/// Stores one event with its dedupe key and runs inside `tx`; a duplicate writes nothing.
async fn accept_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    event: &NewEvent<'_>,
    runs: &[NewRun],
    now: i64,
) -> Result<Accepted, StoreError> {
    if let Some(id) = event.event_id {
        let scope = format!("webhook:{}:{}", event.connector, event.connection);
        if !insert_dedupe_key(tx, &scope, id, event.dedupe_window, now).await? {
            return Ok(Accepted::Duplicate);
        }
    }
    let event_row: i64 = sqlx::query(
        "INSERT INTO events (connector, connection, event_id, event_type, payload, headers, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
    )
    .bind(event.connector)
    .bind(event.connection)
    .bind(event.event_id)
    .bind(event.event_type)
    .bind(event.payload.to_string())
    .bind(event.headers.to_string())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?
    .try_get(0)?;
    let mut ids = Vec::with_capacity(runs.len());
    for run in runs {
        ids.push(insert_run(tx, run, Some(event_row), now, false).await?);
    }
    Ok(Accepted::Stored { runs: ids })
}

async fn insert_run(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    run: &NewRun,
    event: Option<i64>,
    now: i64,
    exclusive: bool,
) -> Result<String, StoreError> {
    // Time-ordered ids: the queue order and the id order agree.
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO runs (id, workflow, spec_hash, status, trigger, event, created_at, exclusive)
         VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7)",
    )
    .bind(&id)
    .bind(&run.workflow)
    .bind(&run.spec_hash)
    .bind(run.trigger.to_string())
    .bind(event)
    .bind(now)
    .bind(exclusive)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}
