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
mod api_keys;
mod connections;
mod events;
mod oauth;
mod polls;
mod queue;
mod retention;
mod schedules;
mod writer;

pub use api_keys::ApiKeyRow;
pub use connections::{ConnectionRow, Reseal, new_row as new_connection_row};
pub use oauth::OAuthState;
pub use writer::MAX_BATCH;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection, SqlitePool};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use writer::Writer;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored JSON is damaged: {0}")]
    Json(#[from] serde_json::Error),
    #[error("database commit failed: {0}")]
    Commit(String),
    #[error("the store is shut down")]
    Closed,
    #[error("conflicting change: {0}")]
    Conflict(String),
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
    /// The steps already finished (a resumed or retried run); empty for a fresh run.
    pub journal: Vec<StepRecord>,
    /// When the run was queued (Unix ms).
    pub created_at: i64,
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
    /// The one writing connection, behind the group-commit task. SQLite has a single
    /// writer; queueing writes there, in async code, beats letting connections collide on
    /// the file lock (SQLite's busy handler sleeps in growing steps), and lets one commit
    /// carry many writes.
    writer: Writer,
    /// Runs waiting in the queue, kept in memory for admission control (a count query
    /// per webhook would cost more than the webhook).
    queued: Arc<AtomicI64>,
}

/// The current time as Unix milliseconds, the unit every time column uses.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

/// A duration in milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Decodes a `runs` row selected as `id, workflow, spec_hash, status, error, trigger`.
pub(crate) fn run_record(row: &sqlx::sqlite::SqliteRow) -> Result<RunRecord, StoreError> {
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

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies pending migrations.
    ///
    /// WAL journal with `synchronous = FULL`: a commit is on disk (fsync) before anyone is
    /// told it happened, so it survives the process being killed and the machine losing
    /// power. The fsync is shared by every write of a batch (see [`writer`]).
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Freed pages go back to the file system with `PRAGMA incremental_vacuum`
            // (run by `prune`); set when the file is created.
            .auto_vacuum(sqlx::sqlite::SqliteAutoVacuum::Incremental)
            .busy_timeout(Duration::from_secs(10));
        let mut connection: SqliteConnection = options.clone().connect().await?;
        sqlx::migrate!("migrations/sqlite")
            .run(&mut connection)
            .await?;
        connection.close().await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        let queued: i64 = sqlx::query("SELECT COUNT(*) FROM runs WHERE status = 'queued'")
            .fetch_one(&pool)
            .await?
            .try_get(0)?;
        Ok(SqliteStore {
            pool,
            writer: Writer::start(path)?,
            queued: Arc::new(AtomicI64::new(queued)),
        })
    }

    /// How many runs wait in the queue (kept by this process; exact for one process).
    pub fn queued_runs(&self) -> u64 {
        u64::try_from(self.queued.load(Ordering::Relaxed)).unwrap_or(0)
    }

    /// Counts runs entering (`n > 0`) or leaving (`n < 0`) the queue.
    fn count_queued(&self, n: i64) {
        self.queued.fetch_add(n, Ordering::Relaxed);
    }
}
