//! Dashboard users, sessions and the activity log (SQLite writes).

use super::{SqliteStore, StoreError};
use crate::store::accounts::{NewActivity, SessionRow, UserRow};
use rusqlite::params;

impl SqliteStore {
    /// Adds a user; a taken username is a conflict.
    pub async fn insert_user(&self, user: &UserRow) -> Result<(), StoreError> {
        let user = user.clone();
        self.writer
            .write(move |c| {
                let n = c
                    .prepare_cached(
                        "INSERT INTO users (username, tenant, password_hash, created_at)
                         VALUES (?1, ?2, ?3, ?4) ON CONFLICT (username) DO NOTHING",
                    )?
                    .execute(params![
                        user.username,
                        user.tenant,
                        user.password_hash,
                        user.created_at
                    ])?;
                Ok(n)
            })
            .await
            .and_then(|n| {
                if n == 0 {
                    Err(StoreError::Conflict("the username is taken".into()))
                } else {
                    Ok(())
                }
            })
    }

    pub async fn insert_session(&self, session: &SessionRow) -> Result<(), StoreError> {
        let s = session.clone();
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO sessions (token_hash, username, tenant, csrf, created_at, expires_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    s.token_hash,
                    s.username,
                    s.tenant,
                    s.csrf,
                    s.created_at,
                    s.expires_at
                ])?;
                Ok(())
            })
            .await
    }

    /// Ends a session (logout); also removes every expired one.
    pub async fn delete_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        let hash = token_hash.to_string();
        self.writer
            .write(move |c| {
                c.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1 OR expires_at <= ?2")?
                    .execute(params![hash, now])?;
                Ok(())
            })
            .await
    }

    pub async fn add_activity(&self, entry: NewActivity<'_>, at: i64) -> Result<(), StoreError> {
        let values = (
            entry.tenant.to_string(),
            entry.kind.to_string(),
            entry.connector.to_string(),
            entry.connection.to_string(),
            entry.outcome.to_string(),
            entry.detail.to_string(),
        );
        self.writer
            .write(move |c| {
                c.prepare_cached(
                    "INSERT INTO activity (tenant, at, kind, connector, connection, outcome, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    values.0, at, values.1, values.2, values.3, values.4, values.5
                ])?;
                Ok(())
            })
            .await
    }

    /// Finished runs of a tenant created since `since` (ms, rounded down to the hour), as
    /// (hour start in ms, workflow, status, count): read from `run_stats`, which triggers
    /// keep exact.
    pub async fn finished_counts(
        &self,
        tenant: &str,
        since: i64,
    ) -> Result<Vec<(i64, String, String, i64)>, StoreError> {
        use crate::store::rows::Columns as _;
        let rows = sqlx::query(
            "SELECT hour, workflow, status, n FROM run_stats
             WHERE tenant = $1 AND hour >= $2 AND n > 0",
        )
        .bind(tenant)
        .bind(since / 3_600_000)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.int("hour")? * 3_600_000,
                    r.text("workflow")?,
                    r.text("status")?,
                    r.int("n")?,
                ))
            })
            .collect()
    }
}
