//! The rows both backends store and return, and how they are read from a result row.
//!
//! Each backend binds its own SQL; the rows and their decoding are shared, so SQLite and
//! PostgreSQL cannot drift apart in what a connection, an API key or a run looks like.
//!
//! Must never hold a plaintext secret: `secrets`, `tokens` and `verifier` are sealed text
//! (see [`crate::secrets`]), and an API key is stored as a hash only.

use super::{EventRecord, RunRecord, StepRecord, StoreError, now_ms};
use serde_json::{Map, Value as Json};
use sqlx::Row;

/// A stored connection.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionRow {
    pub id: String,
    pub tenant: String,
    pub name: String,
    pub connector: String,
    pub auth_mode: Option<String>,
    pub base_url: Option<String>,
    /// The non-secret config fields.
    pub config: Map<String, Json>,
    /// The secret config fields, sealed.
    pub secrets: Option<String>,
    /// OAuth tokens, sealed.
    pub tokens: Option<String>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
    pub last_checked_at: Option<i64>,
    pub last_error: Option<String>,
    pub error_count: i64,
}

/// The columns of a connection row, in the order [`ConnectionRow::decode`] reads them.
macro_rules! connection_columns {
    () => {
        "id, tenant, name, connector, auth_mode, base_url, config, secrets, tokens, status, created_at, updated_at, last_used_at, last_checked_at, last_error, error_count"
    };
}
pub(crate) use connection_columns;

impl ConnectionRow {
    pub(crate) fn decode(row: &impl Columns) -> Result<ConnectionRow, StoreError> {
        Ok(ConnectionRow {
            id: row.text("id")?,
            tenant: row.text("tenant")?,
            name: row.text("name")?,
            connector: row.text("connector")?,
            auth_mode: row.opt_text("auth_mode")?,
            base_url: row.opt_text("base_url")?,
            config: serde_json::from_str(&row.text("config")?)?,
            secrets: row.opt_text("secrets")?,
            tokens: row.opt_text("tokens")?,
            status: row.text("status")?,
            created_at: row.int("created_at")?,
            updated_at: row.int("updated_at")?,
            last_used_at: row.opt_int("last_used_at")?,
            last_checked_at: row.opt_int("last_checked_at")?,
            last_error: row.opt_text("last_error")?,
            error_count: row.int("error_count")?,
        })
    }
}

/// One connection's sealed values before and after a key rotation.
#[derive(Debug, Clone)]
pub struct Reseal {
    pub id: String,
    pub old_secrets: Option<String>,
    pub secrets: Option<String>,
    pub old_tokens: Option<String>,
    pub tokens: Option<String>,
}

/// A new connection row with `now` timestamps.
pub fn new_connection_row(
    tenant: &str,
    name: &str,
    connector: &str,
    config: Map<String, Json>,
) -> ConnectionRow {
    let now = now_ms();
    ConnectionRow {
        id: uuid::Uuid::now_v7().to_string(),
        tenant: tenant.to_string(),
        name: name.to_string(),
        connector: connector.to_string(),
        auth_mode: None,
        base_url: None,
        config,
        secrets: None,
        tokens: None,
        status: "active".into(),
        created_at: now,
        updated_at: now,
        last_used_at: None,
        last_checked_at: None,
        last_error: None,
        error_count: 0,
    }
}

/// A stored API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub id: String,
    pub tenant: String,
    pub scope: String,
    pub name: Option<String>,
    pub secret_hash: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// The columns of an API key row.
macro_rules! api_key_columns {
    () => {
        "id, tenant, scope, name, secret_hash, created_at, expires_at, revoked_at"
    };
}
pub(crate) use api_key_columns;

impl ApiKeyRow {
    pub(crate) fn decode(row: &impl Columns) -> Result<ApiKeyRow, StoreError> {
        Ok(ApiKeyRow {
            id: row.text("id")?,
            tenant: row.text("tenant")?,
            scope: row.text("scope")?,
            name: row.opt_text("name")?,
            secret_hash: row.text("secret_hash")?,
            created_at: row.int("created_at")?,
            expires_at: row.opt_int("expires_at")?,
            revoked_at: row.opt_int("revoked_at")?,
        })
    }
}

/// A pending OAuth authorization: stored at `connect`, taken (once) at the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthState {
    /// SHA-256 (hex) of the `state` parameter.
    pub state_hash: String,
    pub tenant: String,
    pub connector: String,
    pub connection: String,
    /// The PKCE verifier, sealed.
    pub verifier: Option<String>,
    pub redirect_uri: String,
    pub expires_at: i64,
}

impl RunRecord {
    /// Reads a `runs` row selected with [`run_columns!`].
    pub(crate) fn decode(row: &impl Columns) -> Result<RunRecord, StoreError> {
        Ok(RunRecord {
            id: row.text("id")?,
            tenant: row.text("tenant")?,
            workflow: row.text("workflow")?,
            spec_hash: row.text("spec_hash")?,
            status: row.text("status")?,
            error: row.opt_text("error")?,
            trigger: serde_json::from_str(&row.text("trigger")?)?,
            event: row.opt_int("event")?,
            created_at: row.int("created_at")?,
            started_at: row.opt_int("started_at")?,
            finished_at: row.opt_int("finished_at")?,
        })
    }
}

/// The columns of a run row.
macro_rules! run_columns {
    () => {
        "id, tenant, workflow, spec_hash, status, error, trigger, event, created_at, started_at, finished_at"
    };
}
pub(crate) use run_columns;

/// A journaled step with its timing, as run history shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRow {
    pub step: StepRecord,
    /// When the step started and finished (Unix ms).
    pub started_at: i64,
    pub finished_at: i64,
}

impl StepRecord {
    /// Reads a `steps` row selected with at least `step_id, status, attempts, output, error`.
    pub(crate) fn decode(row: &impl Columns) -> Result<StepRecord, StoreError> {
        Ok(StepRecord {
            step_id: row.text("step_id")?,
            status: row.text("status")?,
            attempts: u32::try_from(row.int("attempts")?).unwrap_or(0),
            output: row
                .opt_text("output")?
                .map(|o| serde_json::from_str(&o))
                .transpose()?,
            error: row.opt_text("error")?,
            input: row
                .opt_text("input")?
                .map(|o| serde_json::from_str(&o))
                .transpose()?,
        })
    }
}

impl StepRow {
    /// Reads a `steps` row selected with [`step_columns!`].
    pub(crate) fn decode(row: &impl Columns) -> Result<StepRow, StoreError> {
        Ok(StepRow {
            step: StepRecord::decode(row)?,
            started_at: row.int("started_at")?,
            finished_at: row.int("finished_at")?,
        })
    }
}

/// The columns of a step row.
macro_rules! step_columns {
    () => {
        "step_id, status, attempts, output, error, input, started_at, finished_at"
    };
}
pub(crate) use step_columns;

impl EventRecord {
    /// Reads an `events` row selected with [`event_columns!`].
    pub(crate) fn decode(row: &impl Columns) -> Result<EventRecord, StoreError> {
        Ok(EventRecord {
            id: row.int("id")?,
            tenant: row.text("tenant")?,
            connector: row.text("connector")?,
            connection: row.text("connection")?,
            event_id: row.opt_text("event_id")?,
            event_type: row.opt_text("event_type")?,
            payload: serde_json::from_str(&row.text("payload")?)?,
            headers: serde_json::from_str(&row.text("headers")?)?,
            received_at: row.int("received_at")?,
        })
    }
}

/// The columns of an event row.
macro_rules! event_columns {
    () => {
        "id, tenant, connector, connection, event_id, event_type, payload, headers, received_at"
    };
}
pub(crate) use event_columns;

/// Reads a column by name the same way from either backend's result rows: text and
/// 64-bit integers are all the store keeps (times are Unix ms, documents JSON text).
pub(crate) trait Columns {
    fn text(&self, column: &str) -> Result<String, sqlx::Error>;
    fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error>;
    fn int(&self, column: &str) -> Result<i64, sqlx::Error>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error>;
}

macro_rules! columns_for {
    ($row:ty) => {
        impl Columns for $row {
            fn text(&self, column: &str) -> Result<String, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_text(&self, column: &str) -> Result<Option<String>, sqlx::Error> {
                self.try_get(column)
            }
            fn int(&self, column: &str) -> Result<i64, sqlx::Error> {
                self.try_get(column)
            }
            fn opt_int(&self, column: &str) -> Result<Option<i64>, sqlx::Error> {
                self.try_get(column)
            }
        }
    };
}

columns_for!(sqlx::sqlite::SqliteRow);
columns_for!(sqlx::postgres::PgRow);
