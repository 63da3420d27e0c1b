//! The SQLite backend: one file in the data directory, WAL mode. Reads go through sqlx's
//! async pool; every write goes to the group-commit [`writer`] thread.

mod api_keys;
mod connections;
mod events;
mod oauth;
mod polls;
mod queue;
mod retention;
mod schedules;
mod users;
mod writer;

pub use writer::MAX_BATCH;

use super::accounts::{ActivityRow, SessionRow, UserRow};
use super::reads::decode_link;
use super::rows::{
    ApiKeyRow, Columns, ConnectionRow, OAuthState, Reseal, StepRow, api_key_columns,
    connection_columns, event_columns, run_columns, step_columns,
};
use super::{
    Accepted, ClaimedRun, EventFilter, EventRecord, InstanceRow, LinkRow, NewEvent, NewRun,
    RunFilter, RunRecord, StepRecord, StoreError, Summary, like_prefix, millis, now_ms,
};
use serde_json::Value as Json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row, SqliteConnection, SqlitePool};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use writer::Writer;

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

super::reads::impl_reads!(SqliteStore);
super::accounts::impl_account_reads!(SqliteStore);
