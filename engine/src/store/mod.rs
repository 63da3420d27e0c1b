//! The durable store: received events, dedupe keys, the run queue and each run's step
//! journal, connections, OAuth states and API keys. Two backends behind one [`Store`]:
//! SQLite (one file in the data directory, WAL mode) is the embedded default; PostgreSQL
//! (`--database-url postgres://...`) is for several instances on one database.
//!
//! Every promise the server makes rests on a transaction here: a webhook is answered 2xx
//! only after [`Store::accept_event`] committed its event, its dedupe key and its runs
//! together; a step's output is journaled before the next step starts; a run is claimed with
//! a lease, so a run whose worker died is picked up again.
//!
//! Must never hold a secret: callers pass redacted documents and sealed credentials only.

use serde_json::Value as Json;
pub mod accounts;
mod backend;
mod postgres;
mod reads;
mod rows;
mod sqlite;

pub use backend::{Store, StoreLocation};
pub use postgres::PgStore;
pub use rows::{ApiKeyRow, ConnectionRow, OAuthState, Reseal, StepRow, new_connection_row};
pub use sqlite::{MAX_BATCH, SqliteStore};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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
    #[error("{0}")]
    Location(String),
}

/// The tenant workflows run for. Workflows are files loaded by the server, shared by the
/// whole installation; their runs and events belong to this tenant.
pub const DEFAULT_TENANT: &str = "default";

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

/// A run's state, for history and the API.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub id: String,
    pub tenant: String,
    pub workflow: String,
    /// The content hash of the workflow spec the run started with.
    pub spec_hash: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub error: Option<String>,
    pub trigger: Json,
    /// The stored event that started the run, if an event did.
    pub event: Option<i64>,
    /// When the run was queued, first started and finished (Unix ms).
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

/// A journaled step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub step_id: String,
    pub status: String,
    pub attempts: u32,
    pub output: Option<Json>,
    pub error: Option<String>,
    /// What the step was given (an action step's rendered input), for the dashboard;
    /// `None` for other steps.
    pub input: Option<Json>,
}

/// Which runs to list, newest first. Every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub tenant: Option<String>,
    pub workflow: Option<String>,
    pub status: Option<String>,
    /// Runs started by this stored event.
    pub event: Option<i64>,
    /// Created at or after / before this time (Unix ms).
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// Keyset pagination: runs strictly older than this (created_at, id).
    pub before: Option<(i64, String)>,
    pub limit: u32,
}

/// A stored event, for history and the API.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub id: i64,
    pub tenant: String,
    pub connector: String,
    pub connection: String,
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    pub payload: Json,
    /// The delivery's headers, redacted when it was received.
    pub headers: Json,
    pub received_at: i64,
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub tenant: Option<String>,
    pub connector: Option<String>,
    pub connection: Option<String>,
    pub event_type: Option<String>,
    pub since: Option<i64>,
    /// Keyset pagination: events with a smaller id.
    pub before: Option<i64>,
    pub limit: u32,
}

/// Counts over one tenant's history since a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Runs created since then, by status.
    pub runs: std::collections::BTreeMap<String, i64>,
    /// Events received since then.
    pub events: i64,
    /// Connections (all of them), by status.
    pub connections: std::collections::BTreeMap<String, i64>,
}

/// A linked record: the provider object that stands for a local record key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkRow {
    pub tenant: String,
    pub key: String,
    pub connection: String,
    pub object_type: String,
    pub external_id: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A `switchyard serve` process, as its heartbeats record it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRow {
    /// Also the owner name on the runs it leases.
    pub id: String,
    pub host: String,
    pub version: String,
    pub started_at: i64,
    pub heartbeat_at: i64,
    /// Set by a graceful stop.
    pub stopped_at: Option<i64>,
    /// Runs it holds leases on now (filled in when listing).
    pub runs_in_flight: i64,
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

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern that matches a prefix.
pub(crate) fn like_prefix(prefix: &str) -> String {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}
