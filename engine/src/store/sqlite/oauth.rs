//! Pending OAuth authorizations: stored at `connect`, taken (once) at the callback.

use super::{ConnectionRow, OAuthState, SqliteStore, StoreError, now_ms};
use rusqlite::{OptionalExtension, params};

impl SqliteStore {
    /// Stores a pending authorization (and drops expired ones).
    pub async fn insert_oauth_state(&self, state: &OAuthState) -> Result<(), StoreError> {
        let state = state.clone();
        self.writer
            .write(move |c| {
                let now = now_ms();
                c.prepare_cached("DELETE FROM oauth_states WHERE expires_at <= ?1")?
                    .execute([now])?;
                c.prepare_cached(
                    "INSERT INTO oauth_states (state_hash, tenant, connector, connection, verifier,
                         redirect_uri, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    state.state_hash,
                    state.tenant,
                    state.connector,
                    state.connection,
                    state.verifier,
                    state.redirect_uri,
                    now,
                    state.expires_at
                ])?;
                Ok(())
            })
            .await
    }

    /// Takes a pending authorization: deleted in the same write, so a `state` works once.
    /// `None` if unknown, used already or expired.
    pub async fn take_oauth_state(
        &self,
        state_hash: &str,
    ) -> Result<Option<OAuthState>, StoreError> {
        let state_hash = state_hash.to_string();
        self.writer
            .write(move |c| {
                let found = c
                    .prepare_cached(
                        "DELETE FROM oauth_states WHERE state_hash = ?1
                         RETURNING tenant, connector, connection, verifier, redirect_uri, expires_at",
                    )?
                    .query_row([&state_hash], |r| {
                        Ok(OAuthState {
                            state_hash: state_hash.clone(),
                            tenant: r.get(0)?,
                            connector: r.get(1)?,
                            connection: r.get(2)?,
                            verifier: r.get(3)?,
                            redirect_uri: r.get(4)?,
                            expires_at: r.get(5)?,
                        })
                    })
                    .optional()?;
                Ok(found.filter(|s| s.expires_at > now_ms()))
            })
            .await
    }

    /// Stores OAuth tokens for a connection, creating it (status `active`) if the tenant
    /// has none of that name. `tokens_for` seals the tokens for the row's id.
    pub async fn upsert_oauth_connection(
        &self,
        mut row: ConnectionRow,
        tokens_for: impl FnOnce(&str) -> String + Send + 'static,
    ) -> Result<ConnectionRow, StoreError> {
        self.writer
            .write(move |c| {
                let existing: Option<String> = c
                    .prepare_cached("SELECT id FROM connections WHERE tenant = ?1 AND name = ?2")?
                    .query_row(params![row.tenant, row.name], |r| r.get(0))
                    .optional()?;
                let now = now_ms();
                match existing {
                    Some(id) => {
                        let tokens = tokens_for(&id);
                        c.prepare_cached(
                            "UPDATE connections SET tokens = ?2, auth_mode = ?3, status = 'active',
                                 last_error = NULL, error_count = 0, updated_at = ?4
                             WHERE id = ?1",
                        )?
                        .execute(params![id, tokens, row.auth_mode, now])?;
                        row.id = id;
                        row.tokens = Some(tokens);
                    }
                    None => {
                        let tokens = tokens_for(&row.id);
                        let config = serde_json::Value::Object(row.config.clone()).to_string();
                        c.prepare_cached(
                            "INSERT INTO connections (id, tenant, name, connector, auth_mode, base_url,
                                 config, secrets, tokens, status, created_at, updated_at)
                             VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6, NULL, ?7, 'active', ?8, ?8)",
                        )?
                        .execute(params![
                            row.id,
                            row.tenant,
                            row.name,
                            row.connector,
                            row.auth_mode,
                            config,
                            tokens,
                            now
                        ])?;
                        row.tokens = Some(tokens);
                    }
                }
                Ok(row)
            })
            .await
    }
}
