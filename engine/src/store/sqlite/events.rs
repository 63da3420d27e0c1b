//! Received events: an event, its dedupe key and the runs it starts are stored together.

use super::{Accepted, NewEvent, NewRun, SqliteStore, StoreError, millis, now_ms};
use rusqlite::{Connection, params};
use std::time::Duration;

/// An event made owned, so it can travel to the writer task.
struct OwnedEvent {
    connector: String,
    connection: String,
    event_id: Option<String>,
    event_type: Option<String>,
    payload: String,
    headers: String,
    dedupe_window: Duration,
}

impl SqliteStore {
    /// Stores a verified event, its dedupe key and the runs it starts, in one transaction.
    pub async fn accept_event(
        &self,
        event: &NewEvent<'_>,
        runs: &[NewRun],
    ) -> Result<Accepted, StoreError> {
        // Serialized here, on the caller's task, not on the writer thread.
        let event = OwnedEvent {
            connector: event.connector.to_string(),
            connection: event.connection.to_string(),
            event_id: event.event_id.map(str::to_string),
            event_type: event.event_type.map(str::to_string),
            payload: event.payload.to_string(),
            headers: event.headers.to_string(),
            dedupe_window: event.dedupe_window,
        };
        let runs: Vec<(NewRun, String)> = runs
            .iter()
            .map(|r| (r.clone(), r.trigger.to_string()))
            .collect();
        let accepted = self
            .writer
            .write(move |c| accept_in(c, &event, &runs, now_ms()))
            .await?;
        if let Accepted::Stored { runs } = &accepted {
            self.count_queued(runs.len() as i64);
        }
        Ok(accepted)
    }

    /// Queues a run without an event (manual runs, replays).
    pub async fn queue_run(&self, run: &NewRun) -> Result<String, StoreError> {
        let run = (run.clone(), run.trigger.to_string());
        let id = self
            .writer
            .write(move |c| insert_run(c, &run, None, now_ms(), false))
            .await?;
        self.count_queued(1);
        Ok(id)
    }
}

/// Stores one event with its dedupe key and runs; a duplicate writes nothing.
fn accept_in(
    c: &Connection,
    event: &OwnedEvent,
    runs: &[(NewRun, String)],
    now: i64,
) -> Result<Accepted, StoreError> {
    if let Some(id) = &event.event_id {
        let scope = format!("webhook:{}:{}", event.connector, event.connection);
        if !insert_dedupe_key(c, &scope, id, event.dedupe_window, now)? {
            return Ok(Accepted::Duplicate);
        }
    }
    let event_row: i64 = c
        .prepare_cached(
            "INSERT INTO events (connector, connection, event_id, event_type, payload, headers, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )?
        .query_row(
            params![
                event.connector,
                event.connection,
                event.event_id,
                event.event_type,
                event.payload,
                event.headers,
                now
            ],
            |row| row.get(0),
        )?;
    let mut ids = Vec::with_capacity(runs.len());
    for run in runs {
        ids.push(insert_run(c, run, Some(event_row), now, false)?);
    }
    Ok(Accepted::Stored { runs: ids })
}

/// Queues one run; the run comes with its trigger already serialized.
pub(super) fn insert_run(
    c: &Connection,
    (run, trigger): &(NewRun, String),
    event: Option<i64>,
    now: i64,
    exclusive: bool,
) -> Result<String, StoreError> {
    // Time-ordered ids: the queue order and the id order agree.
    let id = uuid::Uuid::now_v7().to_string();
    c.prepare_cached(
        "INSERT INTO runs (id, workflow, spec_hash, status, trigger, event, created_at, exclusive)
         VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        id,
        run.workflow,
        run.spec_hash,
        trigger,
        event,
        now,
        exclusive
    ])?;
    Ok(id)
}

/// Records a dedupe key until `now + window`. A key past its window is replaced; a live
/// one is kept and `false` returned: the item was seen.
pub(super) fn insert_dedupe_key(
    c: &Connection,
    scope: &str,
    key: &str,
    window: Duration,
    now: i64,
) -> Result<bool, StoreError> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO dedupe_keys (scope, key, expires_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (scope, key) DO UPDATE SET expires_at = excluded.expires_at
             WHERE dedupe_keys.expires_at <= ?4",
        )?
        .execute(params![scope, key, now.saturating_add(millis(window)), now])?;
    Ok(inserted > 0)
}
