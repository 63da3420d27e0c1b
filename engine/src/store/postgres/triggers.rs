//! Cron firings, poll cursors and per-workflow settings on PostgreSQL. Each "exactly once"
//! rests on a unique key or a compare-and-swap, never on which instance got there first.

use super::queue::{insert_dedupe_key, insert_run};
use super::{Json, NewRun, PgStore, StoreError};
use std::time::Duration;

impl PgStore {
    /// Commits one poll: the new cursor if the stored one is still `previous`
    /// (compare-and-swap), the items' dedupe keys and the runs of new items, in one
    /// transaction. `None` when another poller advanced the cursor first.
    pub async fn commit_poll(
        &self,
        workflow: &str,
        previous: Option<&Option<Json>>,
        cursor: Option<&Json>,
        items: &[(Option<String>, NewRun)],
        window: Duration,
        emit: bool,
    ) -> Result<Option<usize>, StoreError> {
        let now = self.now();
        let text = cursor.map(Json::to_string);
        let mut tx = self.begin().await?;
        let swapped = match previous {
            None => sqlx::query(
                "INSERT INTO poll_state (workflow, cursor, polled_at) VALUES ($1, $2, $3)
                 ON CONFLICT (workflow) DO NOTHING",
            )
            .bind(workflow)
            .bind(&text)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(old) => sqlx::query(
                "UPDATE poll_state SET cursor = $2, polled_at = $3
                 WHERE workflow = $1 AND cursor IS NOT DISTINCT FROM $4",
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
        self.announce(queued);
        self.count_queued(queued as i64);
        Ok(Some(queued))
    }

    /// Records that firings up to `until_ms` were handled (never moves backwards).
    pub async fn set_handled_until(&self, workflow: &str, until_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO schedules (workflow, handled_until) VALUES ($1, $2)
             ON CONFLICT (workflow) DO UPDATE
             SET handled_until = GREATEST(schedules.handled_until, excluded.handled_until)",
        )
        .bind(workflow)
        .bind(until_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a cron firing with its run (`None`: skipped by the overlap policy). `false`
    /// when this (workflow, nominal time) was recorded already, by any instance.
    pub async fn fire(
        &self,
        workflow: &str,
        nominal_ms: i64,
        run: Option<&NewRun>,
        exclusive: bool,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO cron_firings (workflow, nominal, outcome, fired_at)
             VALUES ($1, $2, $3, $4)
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
            sqlx::query("UPDATE cron_firings SET run_id = $3 WHERE workflow = $1 AND nominal = $2")
                .bind(workflow)
                .bind(nominal_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if run.is_some() {
            self.announce(1);
            self.count_queued(1);
        }
        Ok(true)
    }

    /// Sets the workflows' `concurrency` limits (replacing those stored before).
    pub async fn set_workflow_limits(&self, limits: &[(String, u32)]) -> Result<(), StoreError> {
        // Instances starting together may set the same limits at once: upserts, and a
        // delete of only the workflows no longer limited.
        let names: Vec<&str> = limits.iter().map(|(w, _)| w.as_str()).collect();
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM workflow_limits WHERE NOT (workflow = ANY($1))")
            .bind(&names)
            .execute(&mut *tx)
            .await?;
        for (workflow, max) in limits {
            sqlx::query(
                "INSERT INTO workflow_limits (workflow, max_running) VALUES ($1, $2)
                 ON CONFLICT (workflow) DO UPDATE SET max_running = excluded.max_running",
            )
            .bind(workflow)
            .bind(i64::from((*max).max(1)))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Switches a workflow on or off (overriding its spec's `enabled`).
    pub async fn set_workflow_enabled(
        &self,
        workflow: &str,
        enabled: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO workflow_switches (workflow, enabled, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (workflow) DO UPDATE
             SET enabled = excluded.enabled, updated_at = excluded.updated_at",
        )
        .bind(workflow)
        .bind(i64::from(enabled))
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
