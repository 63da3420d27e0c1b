//! API key rows: the public id, the tenant and scope, and a hash of the secret part.
//!
//! Must never hold a key's secret part, only its SHA-256.

use super::{ApiKeyRow, SqliteStore, StoreError, now_ms};
use rusqlite::params;

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
