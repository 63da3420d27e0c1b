//! Connection rows: config in clear, secret config and tokens sealed by the caller.
//!
//! Must never hold a plaintext secret: the `secrets` and `tokens` columns receive sealed
//! text only (see [`crate::secrets`]).

use super::{ConnectionRow, Reseal, SqliteStore, StoreError, now_ms};
use rusqlite::params;
use serde_json::Value as Json;

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

    /// Replaces a connection's config, sealed secrets and tokens, auth mode, base URL and
    /// status (an edit), if it was not changed since it was read (`updated_at` still
    /// `read_at`). `false` if it is gone or was changed meanwhile.
    pub async fn update_connection(
        &self,
        row: &ConnectionRow,
        read_at: i64,
    ) -> Result<bool, StoreError> {
        let row = row.clone();
        let config = Json::Object(row.config.clone()).to_string();
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "UPDATE connections SET config = ?2, secrets = ?3, auth_mode = ?4,
                             base_url = ?5, updated_at = ?6, tokens = ?7, status = ?8
                         WHERE id = ?1 AND updated_at = ?9",
                    )?
                    .execute(params![
                        row.id,
                        config,
                        row.secrets,
                        row.auth_mode,
                        row.base_url,
                        now_ms().max(read_at + 1),
                        row.tokens,
                        row.status,
                        read_at
                    ])?;
                Ok(n > 0)
            })
            .await
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

impl SqliteStore {
    /// Links `link.key` in `link.connection` to `link.external_id` (replacing an earlier
    /// link of that key). An external id already linked to another key is a conflict.
    pub async fn upsert_link(&self, link: &crate::store::LinkRow) -> Result<(), StoreError> {
        let l = link.clone();
        self.writer
            .write(move |c| {
                use rusqlite::OptionalExtension;
                let holder: Option<String> = c
                    .prepare_cached(
                        "SELECT local_key FROM links
                         WHERE tenant = ?1 AND connection = ?2 AND external_id = ?3",
                    )?
                    .query_row(params![l.tenant, l.connection, l.external_id], |r| r.get(0))
                    .optional()?;
                if let Some(other) = holder.filter(|k| *k != l.key) {
                    return Err(StoreError::Conflict(format!(
                        "{} `{}` in `{}` is already linked to `{other}`",
                        l.object_type, l.external_id, l.connection
                    )));
                }
                let now = now_ms();
                c.prepare_cached(
                    "INSERT INTO links (tenant, local_key, connection, object_type, external_id, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
                     ON CONFLICT (tenant, local_key, connection) DO UPDATE
                     SET object_type = excluded.object_type, external_id = excluded.external_id,
                         updated_at = excluded.updated_at",
                )?
                .execute(params![l.tenant, l.key, l.connection, l.object_type, l.external_id, now])?;
                Ok(())
            })
            .await
    }

    /// Forgets the link of a key in a connection; `false` if there was none.
    pub async fn delete_link(
        &self,
        tenant: &str,
        key: &str,
        connection: &str,
    ) -> Result<bool, StoreError> {
        let (tenant, key, connection) =
            (tenant.to_string(), key.to_string(), connection.to_string());
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "DELETE FROM links WHERE tenant = ?1 AND local_key = ?2 AND connection = ?3",
                    )?
                    .execute(params![tenant, key, connection])?;
                Ok(n > 0)
            })
            .await
    }
}
