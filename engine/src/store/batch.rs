//! Group commit for incoming events: concurrent webhook requests hand their event to one
//! task, which stores everything waiting in a single transaction. Under load, many
//! deliveries share one BEGIN/COMMIT, which leaves the single SQLite writer more time for
//! the workers' step journal. Each request still gets its own answer only after the
//! transaction holding its event committed.

use super::{Accepted, NewEvent, NewRun, SqliteStore};
use serde_json::Value as Json;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most events stored in one transaction.
const MAX_BATCH: usize = 128;

/// An event to store, owned (it crosses to the batching task).
#[derive(Debug, Clone)]
pub struct EventRecord {
    pub connector: String,
    pub connection: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub payload: Json,
    pub headers: Json,
    pub dedupe_window: Duration,
}

struct Job {
    event: EventRecord,
    runs: Vec<NewRun>,
    reply: oneshot::Sender<Result<Accepted, String>>,
}

/// The handle requests use; cheap to clone.
#[derive(Clone)]
pub struct EventBatcher {
    jobs: mpsc::Sender<Job>,
}

impl EventBatcher {
    /// Starts the batching task on the current runtime.
    pub fn start(store: SqliteStore) -> Self {
        let (jobs, mut rx) = mpsc::channel::<Job>(4 * MAX_BATCH);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let items: Vec<(NewEvent<'_>, &[NewRun])> = batch
                    .iter()
                    .map(|job| {
                        let e = &job.event;
                        (
                            NewEvent {
                                connector: &e.connector,
                                connection: &e.connection,
                                event_id: e.event_id.as_deref(),
                                event_type: e.event_type.as_deref(),
                                payload: &e.payload,
                                headers: &e.headers,
                                dedupe_window: e.dedupe_window,
                            },
                            job.runs.as_slice(),
                        )
                    })
                    .collect();
                let result = store.accept_events(&items).await;
                drop(items);
                match result {
                    Ok(outcomes) => {
                        for (job, outcome) in batch.into_iter().zip(outcomes) {
                            let _ = job.reply.send(Ok(outcome));
                        }
                    }
                    Err(error) => {
                        let message = error.to_string();
                        for job in batch {
                            let _ = job.reply.send(Err(message.clone()));
                        }
                    }
                }
            }
        });
        EventBatcher { jobs }
    }

    /// Stores an event and its runs; returns once they are committed.
    pub async fn accept(&self, event: EventRecord, runs: Vec<NewRun>) -> Result<Accepted, String> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { event, runs, reply })
            .await
            .map_err(|_| "the event store has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the event store has stopped".to_string())?
    }
}
