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
                let mut deleted = c.execute(
                    "DELETE FROM runs WHERE status IN ('succeeded', 'failed') AND finished_at < ?1",
                    [cutoff],
                )?;
                deleted += c.execute(
                    "DELETE FROM runs WHERE id IN (
                         SELECT id FROM (
                             SELECT id, ROW_NUMBER() OVER (PARTITION BY workflow ORDER BY created_at DESC, id DESC) AS n
                             FROM runs WHERE status IN ('succeeded', 'failed'))
                         WHERE n > ?1)",
                    [i64::from(keep_per_workflow)],
                )?;
                c.execute(
                    "DELETE FROM events WHERE received_at < ?1
                     AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.event = events.id)",
                    [cutoff],
                )?;
                c.execute("DELETE FROM dedupe_keys WHERE expires_at <= ?1", [now_ms])?;
                c.execute("DELETE FROM cron_firings WHERE nominal < ?1", [cutoff])?;
                c.execute("DELETE FROM activity WHERE at < ?1", [cutoff])?;
                c.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now_ms])?;
                Ok(deleted as u64)
            })
            .await?;
        self.writer
            .write_alone(|c| {
                // `incremental_vacuum` returns a row per freed page; read them all.
                c.prepare("PRAGMA incremental_vacuum")?
                    .query_map([], |_| Ok(()))?
                    .for_each(drop);
                // Fold the WAL back into the file so the truncation reaches the disk now.
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
                Ok(())
            })
            .await?;
        Ok(deleted)
    }
}
