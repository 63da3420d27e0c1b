//! Poll cursors: advanced by compare-and-swap, together with the dedupe keys and runs of
//! the items the poll found (exactly-once emission).

use super::events::{insert_dedupe_key, insert_run};
use super::{NewRun, SqliteStore, StoreError, now_ms};
use rusqlite::params;
use serde_json::Value as Json;
use std::time::Duration;

impl SqliteStore {
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
        let workflow = workflow.to_string();
        let previous: Option<Option<String>> = previous.map(|p| p.as_ref().map(Json::to_string));
        let text = cursor.map(Json::to_string);
        let items: Vec<(Option<String>, (NewRun, String))> = items
            .iter()
            .map(|(key, run)| (key.clone(), (run.clone(), run.trigger.to_string())))
            .collect();
        self.writer
            .write(move |c| {
                let now = now_ms();
                let swapped = match &previous {
                    None => c
                        .prepare_cached(
                            "INSERT INTO poll_state (workflow, cursor, polled_at) VALUES (?1, ?2, ?3)
                             ON CONFLICT (workflow) DO NOTHING",
                        )?
                        .execute(params![workflow, text, now])?,
                    Some(old) => c
                        .prepare_cached(
                            "UPDATE poll_state SET cursor = ?2, polled_at = ?3
                             WHERE workflow = ?1 AND cursor IS ?4",
                        )?
                        .execute(params![workflow, text, now, old])?,
                };
                if swapped == 0 {
                    return Ok(None);
                }
                let scope = format!("poll:{workflow}");
                let mut queued = 0;
                for (key, run) in &items {
                    if let Some(key) = key
                        && !insert_dedupe_key(c, &scope, key, window, now)?
                    {
                        continue;
                    }
                    if emit {
                        insert_run(c, run, None, now, false)?;
                        queued += 1;
                    }
                }
                Ok(Some(queued))
            })
            .await
            .inspect(|queued| self.count_queued(queued.unwrap_or(0) as i64))
    }
}
