//! Connection rows: config in clear, secret config and tokens sealed by the caller.
//!
//! Must never hold a plaintext secret: the `secrets` and `tokens` columns receive sealed
//! text only (see [`crate::secrets`]).

use super::{SqliteStore, StoreError, now_ms};
use rusqlite::params;
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

fn decode(row: &sqlx::sqlite::SqliteRow) -> Result<ConnectionRow, StoreError> {
    let config: String = row.try_get("config")?;
    Ok(ConnectionRow {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        name: row.try_get("name")?,
        connector: row.try_get("connector")?,
        auth_mode: row.try_get("auth_mode")?,
        base_url: row.try_get("base_url")?,
        config: serde_json::from_str(&config)?,
        secrets: row.try_get("secrets")?,
        tokens: row.try_get("tokens")?,
        status: row.try_get("status")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_used_at: row.try_get("last_used_at")?,
        last_checked_at: row.try_get("last_checked_at")?,
        last_error: row.try_get("last_error")?,
        error_count: row.try_get("error_count")?,
    })
}

impl SqliteStore {
    /// Stores a new connection; `false` if the tenant already has one of that name.
    pub async fn insert_connection(&self, row: &ConnectionRow) -> Result<bool, StoreError> {
        let row = row.clone();
        let config = Json::Object(row.config.clone()).to_string();
        self.writer
            .write(move |c| {
                let inserted = c
                    .prepare_cached(
                        "INSERT INTO connections (id, tenant, name, connector, auth_mode, base_url,
                             config, secrets, tokens, status, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
                         ON CONFLICT (tenant, name) DO NOTHING",
                    )?
                    .execute(params![
                        row.id,
                        row.tenant,
                        row.name,
                        row.connector,
                        row.auth_mode,
                        row.base_url,
                        config,
                        row.secrets,
                        row.tokens,
                        row.status,
                        row.created_at
                    ])?;
                Ok(inserted > 0)
            })
            .await
    }

    /// One connection of a tenant, by name.
    pub async fn connection(
        &self,
        tenant: &str,
        name: &str,
    ) -> Result<Option<ConnectionRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant, name, connector, auth_mode, base_url, config, secrets, tokens, status,
                    created_at, updated_at, last_used_at, last_checked_at, last_error, error_count
             FROM connections WHERE tenant = ?1 AND name = ?2",
        )
        .bind(tenant)
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Connections of one tenant (or all tenants), by name.
    pub async fn connections(
        &self,
        tenant: Option<&str>,
    ) -> Result<Vec<ConnectionRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, tenant, name, connector, auth_mode, base_url, config, secrets, tokens, status,
                    created_at, updated_at, last_used_at, last_checked_at, last_error, error_count
             FROM connections WHERE (?1 IS NULL OR tenant = ?1) ORDER BY tenant, name",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The newest change to any connection (Unix ms) and how many there are: a cheap way
    /// for caches to notice changes made by other processes.
    pub async fn connections_version(&self) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query("SELECT COALESCE(MAX(updated_at), 0), COUNT(*) FROM connections")
            .fetch_one(&self.pool)
            .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// Deletes a connection; `false` if there was none.
    pub async fn delete_connection(&self, tenant: &str, name: &str) -> Result<bool, StoreError> {
        let (tenant, name) = (tenant.to_string(), name.to_string());
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached("DELETE FROM connections WHERE tenant = ?1 AND name = ?2")?
                    .execute(params![tenant, name])?;
                Ok(n > 0)
            })
            .await
    }

    /// Replaces a connection's sealed tokens and status (a refresh, a revocation). `false`
    /// if the connection is gone.
    pub async fn set_connection_tokens(
        &self,
        id: &str,
        tokens: Option<String>,
        status: &str,
    ) -> Result<bool, StoreError> {
        let (id, status) = (id.to_string(), status.to_string());
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE connections SET tokens = ?2, status = ?3, updated_at = ?4,
                             last_error = CASE WHEN ?3 = 'active' THEN NULL ELSE last_error END
                         WHERE id = ?1",
                    )?
                    .execute(params![id, tokens, status, now_ms()])?;
                Ok(n > 0)
            })
            .await
    }

    /// Records the outcome of a check or a use: `error` `None` makes the connection
    /// `active` and clears its error count; otherwise `status` and the error are stored and
    /// the count grows.
    pub async fn record_connection_outcome(
        &self,
        id: &str,
        checked: bool,
        failure: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        let failure = failure.map(|(s, e)| (s.to_string(), e.to_string()));
        self.writer
            .write(move |c| {
                let now = now_ms();
                let checked_at = checked.then_some(now);
                match &failure {
                    None => c
                        .prepare_cached(
                            "UPDATE connections SET status = 'active', last_error = NULL,
                                 error_count = 0, last_used_at = ?2,
                                 last_checked_at = COALESCE(?3, last_checked_at)
                             WHERE id = ?1",
                        )?
                        .execute(params![id, now, checked_at])?,
                    Some((status, error)) => c
                        .prepare_cached(
                            "UPDATE connections SET status = ?4, last_error = ?5,
                                 error_count = error_count + 1, last_used_at = ?2,
                                 last_checked_at = COALESCE(?3, last_checked_at)
                             WHERE id = ?1",
                        )?
                        .execute(params![id, now, checked_at, status, error])?,
                };
                Ok(())
            })
            .await
    }

    /// Every sealed value, for a key rotation: (connection id, secrets, tokens).
    pub async fn sealed_values(
        &self,
    ) -> Result<Vec<(String, Option<String>, Option<String>)>, StoreError> {
        let rows = sqlx::query("SELECT id, secrets, tokens FROM connections ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect()
    }

    /// Replaces sealed values in one transaction (a key rotation: all or nothing). A row
    /// whose values changed since they were read fails the whole rotation.
    pub async fn reseal(&self, changes: Vec<Reseal>) -> Result<bool, StoreError> {
        self.writer
            .write(move |c| {
                for Reseal {
                    id,
                    old_secrets,
                    secrets,
                    old_tokens,
                    tokens,
                } in &changes
                {
                    let n = c
                        .prepare_cached(
                            "UPDATE connections SET secrets = ?4, tokens = ?5
                             WHERE id = ?1 AND secrets IS ?2 AND tokens IS ?3",
                        )?
                        .execute(params![id, old_secrets, old_tokens, secrets, tokens])?;
                    if n == 0 {
                        // Roll the whole batch back: the writer rolls back a failed write.
                        return Err(StoreError::Conflict(format!(
                            "connection {id} changed during the rotation"
                        )));
                    }
                }
                Ok(true)
            })
            .await
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
pub fn new_row(
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
