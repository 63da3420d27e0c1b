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
}
