//! The PostgreSQL backend, for several instances on one database.
//!
//! Same tables and the same read queries as SQLite (see [`super::reads`]); the writes are
//! PostgreSQL's own: plain transactions on a connection pool (PostgreSQL has many writers
//! and commits them in groups itself), queue claims with `FOR UPDATE SKIP LOCKED`, so
//! instances never take the same run, and unique keys for every "exactly once" (dedupe keys,
//! cron firings, poll cursors by compare-and-swap).
//!
//! Must never hold a secret (callers seal credentials) and never rely on process memory for
//! correctness: another instance may have written anything since the last read.

mod accounts;
mod instances;
mod queue;
mod triggers;
mod users;

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
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres, Row, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Connections each instance keeps to PostgreSQL.
const POOL_SIZE: u32 = 16;

/// The PostgreSQL store.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// Runs waiting in the queue (admission control): counted by this process between
    /// heartbeats, and read from the database at every heartbeat, since other instances
    /// queue and claim runs too.
    queued: Arc<AtomicI64>,
    /// The database clock minus this machine's (ms), measured at every heartbeat. Every
    /// time this backend writes or compares (leases, heartbeats) is on the database's
    /// clock, so instances whose clocks disagree still agree on who is alive.
    clock_offset: Arc<AtomicI64>,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host/db`) and applies pending migrations.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_with(PgConnectOptions::from_str(url)?).await
    }

    /// Connects with explicit options (tests set a `search_path` of their own) and applies
    /// pending migrations. Several instances may start at once: the migrator holds an
    /// advisory lock while it runs.
    pub async fn open_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let store = PgStore {
            pool,
            queued: Arc::new(AtomicI64::new(0)),
            clock_offset: Arc::new(AtomicI64::new(0)),
        };
        store.refresh_queued().await?;
        store.sync_clock().await?;
        Ok(store)
    }

    /// The current time on the database's clock (Unix ms).
    pub(super) fn now(&self) -> i64 {
        now_ms().saturating_add(self.clock_offset.load(Ordering::Relaxed))
    }

    /// Measures the database clock's offset from this machine's.
    async fn sync_clock(&self) -> Result<(), StoreError> {
        let before = now_ms();
        let db: i64 =
            sqlx::query("SELECT (extract(epoch from clock_timestamp()) * 1000)::BIGINT AS now")
                .fetch_one(&self.pool)
                .await?
                .try_get("now")?;
        let local = before + (now_ms() - before) / 2;
        self.clock_offset.store(db - local, Ordering::Relaxed);
        Ok(())
    }

    /// Reads how many runs wait in the queue (every instance's, not only this one's).
    pub async fn refresh_queued(&self) -> Result<(), StoreError> {
        let queued: i64 = sqlx::query("SELECT COUNT(*) FROM runs WHERE status = 'queued'")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        self.queued.store(queued, Ordering::Relaxed);
        Ok(())
    }

    /// How many runs wait in the queue, as this process counts them.
    pub fn queued_runs(&self) -> u64 {
        u64::try_from(self.queued.load(Ordering::Relaxed)).unwrap_or(0)
    }

    fn count_queued(&self, n: i64) {
        self.queued.fetch_add(n, Ordering::Relaxed);
    }

    async fn begin(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        Ok(self.pool.begin().await?)
    }
}

super::reads::impl_reads!(PgStore);
super::accounts::impl_account_reads!(PgStore);
