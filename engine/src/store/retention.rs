//! Retention: history past its age or count is deleted and the space given back, so the
//! database file does not grow without bound.

use super::{SqliteStore, StoreError, millis};
use std::time::Duration;

impl SqliteStore {
    /// Deletes history past its retention: finished runs (with their steps) older than
    /// `max_age` and beyond the newest `keep_per_workflow` of each workflow, events no run
    /// refers to, expired dedupe keys and old cron firings; then gives the freed pages back
    /// to the file system. `now_ms` is the current time (injected for tests). Returns the
    /// runs deleted.
    pub async fn prune(
        &self,
        now_ms: i64,
        max_age: Duration,
        keep_per_workflow: u32,
    ) -> Result<u64, StoreError> {
        let cutoff = now_ms.saturating_sub(millis(max_age));
        let deleted = self
            .writer
            .write(move |c| {
                Box::pin(async move {
                    let mut deleted = sqlx::query(
                        "DELETE FROM runs WHERE status IN ('succeeded', 'failed') AND finished_at < ?1",
                    )
                    .bind(cutoff)
                    .execute(&mut *c)
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
                    .execute(&mut *c)
                    .await?
                    .rows_affected();
                    sqlx::query(
                        "DELETE FROM events WHERE received_at < ?1
                         AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.event = events.id)",
                    )
                    .bind(cutoff)
                    .execute(&mut *c)
                    .await?;
                    sqlx::query("DELETE FROM dedupe_keys WHERE expires_at <= ?1")
                        .bind(now_ms)
                        .execute(&mut *c)
                        .await?;
                    sqlx::query("DELETE FROM cron_firings WHERE nominal < ?1")
                        .bind(cutoff)
                        .execute(&mut *c)
                        .await?;
                    Ok(deleted)
                })
            })
            .await?;
        self.writer
            .write_alone(|c| {
                Box::pin(async move {
                    sqlx::query("PRAGMA incremental_vacuum")
                        .execute(&mut *c)
                        .await?;
                    // Fold the WAL back into the file so the truncation reaches the disk now.
                    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                        .execute(&mut *c)
                        .await?;
                    Ok(())
                })
            })
            .await?;
        Ok(deleted)
    }
}
