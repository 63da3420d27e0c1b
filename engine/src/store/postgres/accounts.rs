//! Connections, pending OAuth authorizations and API keys on PostgreSQL.
//!
//! Must never hold a plaintext secret: callers pass sealed text for `secrets`, `tokens`
//! and `verifier`, and a hash for API keys.

use super::{ApiKeyRow, Columns, ConnectionRow, Json, OAuthState, PgStore, Reseal, StoreError};

impl PgStore {
    /// Stores a new connection; `false` if the tenant already has one of that name.
    pub async fn insert_connection(&self, row: &ConnectionRow) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO connections (id, tenant, name, connector, auth_mode, base_url,
                 config, secrets, tokens, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
             ON CONFLICT (tenant, name) DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.tenant)
        .bind(&row.name)
        .bind(&row.connector)
        .bind(&row.auth_mode)
        .bind(&row.base_url)
        .bind(Json::Object(row.config.clone()).to_string())
        .bind(&row.secrets)
        .bind(&row.tokens)
        .bind(&row.status)
        .bind(row.created_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted > 0)
    }

    /// Replaces a connection's config, sealed secrets and tokens, auth mode, base URL and
    /// status (an edit), if it was not changed since it was read (`updated_at` still
    /// `read_at`). `false` if it is gone or was changed meanwhile.
    pub async fn update_connection(
        &self,
        row: &ConnectionRow,
        read_at: i64,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE connections SET config = $2, secrets = $3, auth_mode = $4,
                 base_url = $5, updated_at = $6, tokens = $7, status = $8
             WHERE id = $1 AND updated_at = $9",
        )
        .bind(&row.id)
        .bind(Json::Object(row.config.clone()).to_string())
        .bind(&row.secrets)
        .bind(&row.auth_mode)
        .bind(&row.base_url)
        .bind(self.now().max(read_at + 1))
        .bind(&row.tokens)
        .bind(&row.status)
        .bind(read_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Deletes a connection; `false` if there was none.
    pub async fn delete_connection(&self, tenant: &str, name: &str) -> Result<bool, StoreError> {
        let n = sqlx::query("DELETE FROM connections WHERE tenant = $1 AND name = $2")
            .bind(tenant)
            .bind(name)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n > 0)
    }

    /// Replaces a connection's sealed tokens and status. `false` if the connection is gone.
    pub async fn set_connection_tokens(
        &self,
        id: &str,
        tokens: Option<String>,
        status: &str,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE connections SET tokens = $2, status = $3, updated_at = $4,
                 last_error = CASE WHEN $3 = 'active' THEN NULL ELSE last_error END
             WHERE id = $1",
        )
        .bind(id)
        .bind(tokens)
        .bind(status)
        .bind(self.now())
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Records the outcome of a check or a use (see the SQLite store).
    pub async fn record_connection_outcome(
        &self,
        id: &str,
        checked: bool,
        failure: Option<(&str, &str)>,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let checked_at = checked.then_some(now);
        match failure {
            None => sqlx::query(
                "UPDATE connections SET status = 'active', last_error = NULL,
                     error_count = 0, last_used_at = $2,
                     last_checked_at = COALESCE($3, last_checked_at)
                 WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .bind(checked_at),
            Some((status, error)) => sqlx::query(
                "UPDATE connections SET status = $4, last_error = $5,
                     error_count = error_count + 1, last_used_at = $2,
                     last_checked_at = COALESCE($3, last_checked_at)
                 WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .bind(checked_at)
            .bind(status)
            .bind(error),
        }
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces sealed values in one transaction (a key rotation: all or nothing). A row
    /// whose values changed since they were read fails the whole rotation.
    pub async fn reseal(&self, changes: Vec<Reseal>) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        for change in &changes {
            let n = sqlx::query(
                "UPDATE connections SET secrets = $4, tokens = $5
                 WHERE id = $1 AND secrets IS NOT DISTINCT FROM $2
                   AND tokens IS NOT DISTINCT FROM $3",
            )
            .bind(&change.id)
            .bind(&change.old_secrets)
            .bind(&change.old_tokens)
            .bind(&change.secrets)
            .bind(&change.tokens)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                // Dropping the transaction rolls it back.
                return Err(StoreError::Conflict(format!(
                    "connection {} changed during the rotation",
                    change.id
                )));
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Stores a pending authorization (and drops expired ones).
    pub async fn insert_oauth_state(&self, state: &OAuthState) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM oauth_states WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO oauth_states (state_hash, tenant, connector, connection, verifier,
                 redirect_uri, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&state.state_hash)
        .bind(&state.tenant)
        .bind(&state.connector)
        .bind(&state.connection)
        .bind(&state.verifier)
        .bind(&state.redirect_uri)
        .bind(now)
        .bind(state.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes a pending authorization: deleted by the same statement, so a `state` works
    /// once even when two callbacks race. `None` if unknown, used already or expired.
    pub async fn take_oauth_state(
        &self,
        state_hash: &str,
    ) -> Result<Option<OAuthState>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM oauth_states WHERE state_hash = $1
             RETURNING tenant, connector, connection, verifier, redirect_uri, expires_at",
        )
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let state = OAuthState {
            state_hash: state_hash.to_string(),
            tenant: r.text("tenant")?,
            connector: r.text("connector")?,
            connection: r.text("connection")?,
            verifier: r.opt_text("verifier")?,
            redirect_uri: r.text("redirect_uri")?,
            expires_at: r.int("expires_at")?,
        };
        Ok(Some(state).filter(|s| s.expires_at > self.now()))
    }

    /// Stores OAuth tokens for a connection, creating it (status `active`) if the tenant
    /// has none of that name. `tokens_for` seals the tokens for the row's id.
    pub async fn upsert_oauth_connection(
        &self,
        mut row: ConnectionRow,
        tokens_for: impl FnOnce(&str) -> String + Send + 'static,
    ) -> Result<ConnectionRow, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        // Whoever inserts first wins the name; the other updates that row. The insert
        // claims the name before the tokens are sealed, since they are sealed for its id.
        sqlx::query(
            "INSERT INTO connections (id, tenant, name, connector, auth_mode, base_url,
                 config, secrets, tokens, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, NULL, $6, NULL, NULL, 'active', $7, $7)
             ON CONFLICT (tenant, name) DO NOTHING",
        )
        .bind(&row.id)
        .bind(&row.tenant)
        .bind(&row.name)
        .bind(&row.connector)
        .bind(&row.auth_mode)
        .bind(Json::Object(row.config.clone()).to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let id =
            sqlx::query("SELECT id FROM connections WHERE tenant = $1 AND name = $2 FOR UPDATE")
                .bind(&row.tenant)
                .bind(&row.name)
                .fetch_one(&mut *tx)
                .await?
                .text("id")?;
        let tokens = tokens_for(&id);
        sqlx::query(
            "UPDATE connections SET tokens = $2, auth_mode = $3, status = 'active',
                 last_error = NULL, error_count = 0, updated_at = $4
             WHERE id = $1",
        )
        .bind(&id)
        .bind(&tokens)
        .bind(&row.auth_mode)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        row.id = id;
        row.tokens = Some(tokens);
        Ok(row)
    }

    pub async fn insert_api_key(&self, key: &ApiKeyRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, tenant, scope, name, secret_hash, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&key.id)
        .bind(&key.tenant)
        .bind(&key.scope)
        .bind(&key.name)
        .bind(&key.secret_hash)
        .bind(key.created_at)
        .bind(key.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Revokes a key; `false` if unknown or revoked already.
    pub async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let n =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id)
                .bind(self.now())
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(n > 0)
    }
}

impl PgStore {
    /// Links `link.key` in `link.connection` to `link.external_id` (replacing an earlier
    /// link of that key). An external id already linked to another key is a conflict.
    pub async fn upsert_link(&self, link: &crate::store::LinkRow) -> Result<(), StoreError> {
        let now = self.now();
        let result = sqlx::query(
            "INSERT INTO links (tenant, local_key, connection, object_type, external_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (tenant, local_key, connection) DO UPDATE
             SET object_type = excluded.object_type, external_id = excluded.external_id,
                 updated_at = excluded.updated_at",
        )
        .bind(&link.tenant)
        .bind(&link.key)
        .bind(&link.connection)
        .bind(&link.object_type)
        .bind(&link.external_id)
        .bind(now)
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(()),
            // The other unique key: the external id belongs to another local key.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::Conflict(format!(
                    "{} `{}` in `{}` is already linked to another key",
                    link.object_type, link.external_id, link.connection
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets the link of a key in a connection; `false` if there was none.
    pub async fn delete_link(
        &self,
        tenant: &str,
        key: &str,
        connection: &str,
    ) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "DELETE FROM links WHERE tenant = $1 AND local_key = $2 AND connection = $3",
        )
        .bind(tenant)
        .bind(key)
        .bind(connection)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}
