//! [`Store`]: the store the engine, the server and the CLI use, whichever backend holds
//! the data. A closed set of two, dispatched by `match`: every method has the same
//! meaning on both, and the store test suite runs against both.

use super::accounts::{ActivityRow, NewActivity, SessionRow, UserRow};
use super::now_ms;
use super::{
    Accepted, ApiKeyRow, ClaimedRun, ConnectionRow, EventFilter, EventRecord, InstanceRow, LinkRow,
    NewEvent, NewRun, OAuthState, PgStore, Reseal, RunFilter, RunRecord, SqliteStore, StepRecord,
    StepRow, StoreError, Summary,
};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by URL.
    Postgres(String),
}

impl StoreLocation {
    /// From `--database-url` / `DATABASE_URL` if given (`postgres://`, `postgresql://` or
    /// `sqlite:PATH`), else `switchyard.db` in the data directory.
    pub fn from_url_or_dir(url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
            return Ok(StoreLocation::Sqlite(data_dir.join("switchyard.db")));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(StoreLocation::Postgres(url.to_string()));
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if !path.is_empty() {
                return Ok(StoreLocation::Sqlite(PathBuf::from(path)));
            }
        }
        Err(StoreError::Location(
            "the database URL must start with postgres://, postgresql:// or sqlite: \
             (for example postgres://user@localhost/switchyard or sqlite:data/switchyard.db)"
                .into(),
        ))
    }

    /// A description for messages, without the password a URL may carry.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite(path) => path.display().to_string(),
            StoreLocation::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) => {
                    if parsed.password().is_some() {
                        let _ = parsed.set_password(Some("***"));
                    }
                    // libpq-style parameters may carry the password too.
                    let pairs: Vec<(String, String)> = parsed
                        .query_pairs()
                        .map(|(k, v)| {
                            let hidden =
                                matches!(k.as_ref(), "password" | "passfile" | "sslpassword");
                            (
                                k.into_owned(),
                                if hidden { "***".into() } else { v.into_owned() },
                            )
                        })
                        .collect();
                    if !pairs.is_empty() {
                        parsed.query_pairs_mut().clear().extend_pairs(pairs);
                    }
                    parsed.to_string()
                }
                Err(_) => "the PostgreSQL database".into(),
            },
        }
    }
}

/// The store, on one of its backends.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl From<SqliteStore> for Store {
    fn from(store: SqliteStore) -> Self {
        Store::Sqlite(store)
    }
}

impl From<PgStore> for Store {
    fn from(store: PgStore) -> Self {
        Store::Postgres(store)
    }
}

/// Calls the same method on whichever backend this is.
macro_rules! dispatch {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match $self {
            Store::Sqlite(s) => s.$method($($arg),*).await,
            Store::Postgres(s) => s.$method($($arg),*).await,
        }
    };
}

impl Store {
    /// Opens (creating the SQLite file if needed) and migrates the store.
    pub async fn open(location: &StoreLocation) -> Result<Store, StoreError> {
        Ok(match location {
            StoreLocation::Sqlite(path) => SqliteStore::open(path).await?.into(),
            StoreLocation::Postgres(url) => PgStore::open(url).await?.into(),
        })
    }

    /// Opens the SQLite file at `path`.
    pub async fn open_sqlite(path: &Path) -> Result<Store, StoreError> {
        Ok(SqliteStore::open(path).await?.into())
    }

    /// Which backend this is, for logs and metrics.
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// How many runs wait in the queue (as this process counts them).
    pub fn queued_runs(&self) -> u64 {
        match self {
            Store::Sqlite(s) => s.queued_runs(),
            Store::Postgres(s) => s.queued_runs(),
        }
    }

    // Events and the run queue.

    pub async fn accept_event(
        &self,
        event: &NewEvent<'_>,
        runs: &[NewRun],
    ) -> Result<Accepted, StoreError> {
        dispatch!(self.accept_event(event, runs))
    }
    pub async fn queue_run(&self, run: &NewRun) -> Result<String, StoreError> {
        dispatch!(self.queue_run(run))
    }
    pub async fn claim_run(
        &self,
        owner: &str,
        lease: Duration,
    ) -> Result<Option<ClaimedRun>, StoreError> {
        dispatch!(self.claim_run(owner, lease))
    }
    pub async fn record_step(
        &self,
        run: &str,
        step: &StepRecord,
        started_at_ms: i64,
    ) -> Result<(), StoreError> {
        dispatch!(self.record_step(run, step, started_at_ms))
    }
    pub async fn finish_run(
        &self,
        run: &str,
        succeeded: bool,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        dispatch!(self.finish_run(run, succeeded, error))
    }
    pub async fn retry_run(&self, id: &str) -> Result<bool, StoreError> {
        dispatch!(self.retry_run(id))
    }
    pub async fn renew_lease(
        &self,
        run: &str,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        dispatch!(self.renew_lease(run, owner, lease))
    }
    pub async fn requeue_orphans(&self, owner_prefix: &str) -> Result<u64, StoreError> {
        dispatch!(self.requeue_orphans(owner_prefix))
    }
    pub async fn release_run(&self, run: &str) -> Result<(), StoreError> {
        dispatch!(self.release_run(run))
    }
    pub async fn prune(
        &self,
        now_ms: i64,
        max_age: Duration,
        keep_per_workflow: u32,
    ) -> Result<u64, StoreError> {
        dispatch!(self.prune(now_ms, max_age, keep_per_workflow))
    }

    // Triggers and workflow settings.

    pub async fn commit_poll(
        &self,
        workflow: &str,
        previous: Option<&Option<Json>>,
        cursor: Option<&Json>,
        items: &[(Option<String>, NewRun)],
        window: Duration,
        emit: bool,
    ) -> Result<Option<usize>, StoreError> {
        dispatch!(self.commit_poll(workflow, previous, cursor, items, window, emit))
    }
    pub async fn set_handled_until(&self, workflow: &str, until_ms: i64) -> Result<(), StoreError> {
        dispatch!(self.set_handled_until(workflow, until_ms))
    }
    pub async fn fire(
        &self,
        workflow: &str,
        nominal_ms: i64,
        run: Option<&NewRun>,
        exclusive: bool,
    ) -> Result<bool, StoreError> {
        dispatch!(self.fire(workflow, nominal_ms, run, exclusive))
    }
    pub async fn set_workflow_limits(&self, limits: &[(String, u32)]) -> Result<(), StoreError> {
        dispatch!(self.set_workflow_limits(limits))
    }
    pub async fn set_workflow_enabled(
        &self,
        workflow: &str,
        enabled: bool,
    ) -> Result<(), StoreError> {
        dispatch!(self.set_workflow_enabled(workflow, enabled))
    }

    // Linked records.

    pub async fn upsert_link(&self, link: &LinkRow) -> Result<(), StoreError> {
        dispatch!(self.upsert_link(link))
    }
    pub async fn delete_link(
        &self,
        tenant: &str,
        key: &str,
        connection: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(self.delete_link(tenant, key, connection))
    }
    pub async fn link(
        &self,
        tenant: &str,
        key: &str,
        connection: &str,
    ) -> Result<Option<LinkRow>, StoreError> {
        dispatch!(self.link(tenant, key, connection))
    }
    pub async fn links(
        &self,
        tenant: &str,
        connection: Option<&str>,
        key_prefix: Option<&str>,
        limit: u32,
    ) -> Result<Vec<LinkRow>, StoreError> {
        dispatch!(self.links(tenant, connection, key_prefix, limit))
    }

    // Instances.

    pub async fn heartbeat(&self, instance: &InstanceRow) -> Result<(), StoreError> {
        dispatch!(self.heartbeat(instance))
    }
    pub async fn stop_instance(&self, id: &str) -> Result<(), StoreError> {
        dispatch!(self.stop_instance(id))
    }
    pub async fn requeue_runs_of_dead_instances(
        &self,
        dead_after: Duration,
    ) -> Result<u64, StoreError> {
        dispatch!(self.requeue_runs_of_dead_instances(dead_after))
    }
    /// Re-reads the queue length where other processes change it (PostgreSQL).
    pub async fn refresh_queued(&self) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(_) => Ok(()),
            Store::Postgres(s) => s.refresh_queued().await,
        }
    }
    pub async fn release_runs_of(&self, owner: &str) -> Result<u64, StoreError> {
        dispatch!(self.release_runs_of(owner))
    }
    pub async fn instances(&self) -> Result<Vec<InstanceRow>, StoreError> {
        dispatch!(self.instances())
    }
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self.ping())
    }

    /// Wakes `wake` when any instance queues runs: `LISTEN` on PostgreSQL; `None` on
    /// SQLite, where the one process wakes its own workers.
    pub fn listen_for_runs(
        &self,
        wake: std::sync::Arc<tokio::sync::Notify>,
    ) -> Option<tokio::task::JoinHandle<()>> {
        match self {
            Store::Sqlite(_) => None,
            Store::Postgres(s) => Some(s.listen_for_runs(wake)),
        }
    }

    /// How long an idle worker waits before looking at the queue again when nothing woke
    /// it. Short on SQLite; long on PostgreSQL, where `LISTEN` wakes workers of every
    /// instance and a dead instance's runs are requeued (with a notification) by the others.
    pub fn idle_poll(&self) -> Duration {
        match self {
            Store::Sqlite(_) => Duration::from_secs(5),
            Store::Postgres(_) => Duration::from_secs(30),
        }
    }

    // Connections, OAuth states, API keys.

    pub async fn insert_connection(&self, row: &ConnectionRow) -> Result<bool, StoreError> {
        dispatch!(self.insert_connection(row))
    }
    pub async fn update_connection(
        &self,
        row: &ConnectionRow,
        read_at: i64,
    ) -> Result<bool, StoreError> {
        dispatch!(self.update_connection(row, read_at))
    }
    pub async fn delete_connection(&self, tenant: &str, name: &str) -> Result<bool, StoreError> {
        dispatch!(self.delete_connection(tenant, name))
    }
    pub async fn set_connection_tokens(
        &self,
        id: &str,
        tokens: Option<String>,
        status: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(self.set_connection_tokens(id, tokens, status))
    }
    pub async fn record_connection_outcome(
        &self,
        id: &str,
        checked: bool,
        failure: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        dispatch!(self.record_connection_outcome(id, checked, failure))
    }
    pub async fn reseal(&self, changes: Vec<Reseal>) -> Result<bool, StoreError> {
        dispatch!(self.reseal(changes))
    }
    pub async fn insert_oauth_state(&self, state: &OAuthState) -> Result<(), StoreError> {
        dispatch!(self.insert_oauth_state(state))
    }
    pub async fn take_oauth_state(
        &self,
        state_hash: &str,
    ) -> Result<Option<OAuthState>, StoreError> {
        dispatch!(self.take_oauth_state(state_hash))
    }
    pub async fn upsert_oauth_connection(
        &self,
        row: ConnectionRow,
        tokens_for: impl FnOnce(&str) -> String + Send + 'static,
    ) -> Result<ConnectionRow, StoreError> {
        dispatch!(self.upsert_oauth_connection(row, tokens_for))
    }
    pub async fn insert_api_key(&self, key: &ApiKeyRow) -> Result<(), StoreError> {
        dispatch!(self.insert_api_key(key))
    }
    pub async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        dispatch!(self.revoke_api_key(id))
    }

    // Reads (one text for both backends: see `reads.rs`).

    pub async fn connection(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        dispatch!(self.connection(tenant, name))
    }
    pub async fn connection_by_id(&self, id: &str) -> Result<Option<ConnectionRow>, StoreError> {
        dispatch!(self.connection_by_id(id))
    }
    pub async fn connections(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<ConnectionRow>, StoreError> {
        dispatch!(self.connections(tenant))
    }
    pub async fn connections_version(&self) -> Result<(i64, i64), StoreError> {
        dispatch!(self.connections_version())
    }
    pub async fn sealed_values(
        &self,
    ) -> Result<Vec<(String, Option<String>, Option<String>)>, StoreError> {
        dispatch!(self.sealed_values())
    }
    pub async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        dispatch!(self.api_key(id))
    }
    pub async fn api_keys(&self, tenant: Option<&str>) -> Result<Vec<ApiKeyRow>, StoreError> {
        dispatch!(self.api_keys(tenant))
    }

    // Dashboard accounts and the activity log (store/accounts.rs).
    pub async fn insert_user(&self, user: &UserRow) -> Result<(), StoreError> {
        dispatch!(self.insert_user(user))
    }
    pub async fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        dispatch!(self.user(username))
    }
    pub async fn insert_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        dispatch!(self.insert_session(session))
    }
    pub async fn session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<SessionRow>, StoreError> {
        dispatch!(self.session(token_hash, now))
    }
    pub async fn delete_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        dispatch!(self.delete_session(token_hash, now))
    }
    /// Records an activity entry; a failure is logged, never the caller's problem (the
    /// log must not make a webhook or a check fail).
    pub async fn add_activity(&self, entry: NewActivity<'_>) {
        let at = now_ms();
        let result = match self {
            Store::Sqlite(s) => s.add_activity(entry, at).await,
            Store::Postgres(s) => s.add_activity(entry, at).await,
        };
        if let Err(error) = result {
            tracing::warn!(%error, kind = entry.kind, "activity not recorded");
        }
    }
    pub async fn poll_times(&self) -> Result<Vec<(String, i64)>, StoreError> {
        dispatch!(self.poll_times())
    }
    /// Finished runs since a time (rounded down to the hour): (hour ms, workflow, status, n).
    pub async fn finished_counts(
        &self,
        tenant: &str,
        since: i64,
    ) -> Result<Vec<(i64, String, String, i64)>, StoreError> {
        dispatch!(self.finished_counts(tenant, since))
    }
    pub async fn active_counts(&self, tenant: &str) -> Result<Vec<(String, i64)>, StoreError> {
        dispatch!(self.active_counts(tenant))
    }
    pub async fn events_since(&self, tenant: &str, since: i64) -> Result<i64, StoreError> {
        dispatch!(self.events_since(tenant, since))
    }
    pub async fn activity(
        &self,
        tenant: &str,
        kind: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<ActivityRow>, StoreError> {
        dispatch!(self.activity(tenant, kind, before, limit))
    }
    pub async fn poll_cursor(&self, workflow: &str) -> Result<Option<Option<Json>>, StoreError> {
        dispatch!(self.poll_cursor(workflow))
    }
    pub async fn handled_until(&self, workflow: &str) -> Result<Option<i64>, StoreError> {
        dispatch!(self.handled_until(workflow))
    }
    pub async fn has_active_run(&self, workflow: &str) -> Result<bool, StoreError> {
        dispatch!(self.has_active_run(workflow))
    }
    pub async fn firings(&self, workflow: &str) -> Result<Vec<(i64, String)>, StoreError> {
        dispatch!(self.firings(workflow))
    }
    pub async fn workflow_switches(&self) -> Result<Vec<(String, bool)>, StoreError> {
        dispatch!(self.workflow_switches())
    }
    pub async fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        dispatch!(self.run(id))
    }
    pub async fn steps(&self, run: &str) -> Result<Vec<StepRow>, StoreError> {
        dispatch!(self.steps(run))
    }
    pub async fn runs(
        &self,
        workflow: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RunRecord>, StoreError> {
        dispatch!(self.runs(workflow, limit))
    }
    pub async fn find_runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        dispatch!(self.find_runs(filter))
    }
    pub async fn event(&self, id: i64) -> Result<Option<EventRecord>, StoreError> {
        dispatch!(self.event(id))
    }
    pub async fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
        dispatch!(self.events(filter))
    }
    pub async fn summary(&self, tenant: &str, since_ms: i64) -> Result<Summary, StoreError> {
        dispatch!(self.summary(tenant, since_ms))
    }
}
