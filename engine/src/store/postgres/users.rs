//! Dashboard users, sessions and the activity log (PostgreSQL writes).

use super::PgStore;
use crate::store::StoreError;
use crate::store::accounts::{NewActivity, SessionRow, UserRow};

impl PgStore {
    /// Adds a user; a taken username is a conflict.
    pub async fn insert_user(&self, user: &UserRow) -> Result<(), StoreError> {
        let n = sqlx::query(
            "INSERT INTO users (username, tenant, password_hash, created_at)
             VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING",
        )
        .bind(&user.username)
        .bind(&user.tenant)
        .bind(&user.password_hash)
        .bind(user.created_at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("the username is taken".into()));
        }
        Ok(())
    }

    pub async fn insert_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, username, tenant, csrf, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&s.token_hash)
        .bind(&s.username)
        .bind(&s.tenant)
        .bind(&s.csrf)
        .bind(s.created_at)
        .bind(s.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends a session (logout); also removes every expired one.
    pub async fn delete_session(&self, token_hash: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at <= $2")
            .bind(token_hash)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn add_activity(&self, e: NewActivity<'_>, at: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO activity (tenant, at, kind, connector, connection, outcome, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(e.tenant)
        .bind(at)
        .bind(e.kind)
        .bind(e.connector)
        .bind(e.connection)
        .bind(e.outcome)
        .bind(e.detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Finished runs of a tenant created since `since` (ms, rounded down to the hour), as
    /// (hour start in ms, workflow, status, count), counted from the runs.
    pub async fn finished_counts(
        &self,
        tenant: &str,
        since: i64,
    ) -> Result<Vec<(i64, String, String, i64)>, StoreError> {
        use crate::store::rows::Columns as _;
        let rows = sqlx::query(
            "SELECT created_at / 3600000 AS hour, workflow, status, COUNT(*) AS n FROM runs
             WHERE tenant = $1 AND created_at >= $2 AND status IN ('succeeded', 'failed')
             GROUP BY 1, 2, 3",
        )
        .bind(tenant)
        .bind(since / 3_600_000 * 3_600_000)
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
