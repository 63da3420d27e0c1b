//! API key rows: the public id, the tenant and scope, and a hash of the secret part.
//!
//! Must never hold a key's secret part, only its SHA-256.

use super::{SqliteStore, StoreError, now_ms};
use rusqlite::params;
use sqlx::Row;

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

fn decode(row: &sqlx::sqlite::SqliteRow) -> Result<ApiKeyRow, StoreError> {
    Ok(ApiKeyRow {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        scope: row.try_get("scope")?,
        name: row.try_get("name")?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

impl SqliteStore {
    pub async fn insert_api_key(&self, key: &ApiKeyRow) -> Result<(), StoreError> {
        let key = key.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO api_keys (id, tenant, scope, name, secret_hash, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    key.id,
                    key.tenant,
                    key.scope,
                    key.name,
                    key.secret_hash,
                    key.created_at,
                    key.expires_at
                ])?;
                Ok(())
            })
            .await
    }

    /// One key by its public id.
    pub async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRow>, StoreError> {
        let row = sqlx::query(
            "SELECT id, tenant, scope, name, secret_hash, created_at, expires_at, revoked_at
             FROM api_keys WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode).transpose()
    }

    /// Keys of a tenant (or all), newest first.
    pub async fn api_keys(&self, tenant: Option<&str>) -> Result<Vec<ApiKeyRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, tenant, scope, name, secret_hash, created_at, expires_at, revoked_at
             FROM api_keys WHERE (?1 IS NULL OR tenant = ?1) ORDER BY created_at DESC, id",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// Revokes a key; `false` if unknown or revoked already.
    pub async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                    )?
                    .execute(params![id, now_ms()])?;
                Ok(n > 0)
            })
            .await
    }
}
