//! Dashboard accounts (users, browser sessions) and the activity log: their rows and the
//! reads both backends share (written once, like `reads.rs`).
//!
//! Must never hold a password or a session token: users keep an Argon2id hash, sessions
//! the SHA-256 of the cookie's token.

/// A dashboard user of one tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub username: String,
    pub tenant: String,
    /// Argon2id, PHC string format.
    pub password_hash: String,
    pub created_at: i64,
}

/// A browser session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    /// SHA-256 (hex) of the cookie's token.
    pub token_hash: String,
    pub username: String,
    pub tenant: String,
    /// The token every form of this session must carry.
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// Something that happened besides runs (a refused webhook, a token refresh, a check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    pub id: i64,
    pub tenant: String,
    pub at: i64,
    /// `webhook_rejected`, `webhook_duplicate`, `handshake`, `token_refresh`, `connection_check`.
    pub kind: String,
    pub connector: String,
    pub connection: String,
    /// `ok`, `failed`, `rejected`, `duplicate`, ...
    pub outcome: String,
    /// Why, in words; never a secret.
    pub detail: String,
}

/// A new activity entry.
#[derive(Debug, Clone, Copy)]
pub struct NewActivity<'a> {
    pub tenant: &'a str,
    pub kind: &'a str,
    pub connector: &'a str,
    pub connection: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
}

pub(crate) fn decode_user(row: &impl super::rows::Columns) -> Result<UserRow, super::StoreError> {
    Ok(UserRow {
        username: row.text("username")?,
        tenant: row.text("tenant")?,
        password_hash: row.text("password_hash")?,
        created_at: row.int("created_at")?,
    })
}

pub(crate) fn decode_session(
    row: &impl super::rows::Columns,
) -> Result<SessionRow, super::StoreError> {
    Ok(SessionRow {
        token_hash: row.text("token_hash")?,
        username: row.text("username")?,
        tenant: row.text("tenant")?,
        csrf: row.text("csrf")?,
        created_at: row.int("created_at")?,
        expires_at: row.int("expires_at")?,
    })
}

pub(crate) fn decode_activity(
    row: &impl super::rows::Columns,
) -> Result<ActivityRow, super::StoreError> {
    Ok(ActivityRow {
        id: row.int("id")?,
        tenant: row.text("tenant")?,
        at: row.int("at")?,
        kind: row.text("kind")?,
        connector: row.text("connector")?,
        connection: row.text("connection")?,
        outcome: row.text("outcome")?,
        detail: row.text("detail")?,
    })
}

/// Implements the account reads on a store type with a `pool` field.
macro_rules! impl_account_reads {
    ($store:ty) => {
        impl $store {
            pub async fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
                let row = sqlx::query(
                    "SELECT username, tenant, password_hash, created_at FROM users WHERE username = $1",
                )
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(super::accounts::decode_user).transpose()
            }

            /// A session by its token's hash, if it has not expired at `now`.
            pub async fn session(
                &self,
                token_hash: &str,
                now: i64,
            ) -> Result<Option<SessionRow>, StoreError> {
                let row = sqlx::query(
                    "SELECT token_hash, username, tenant, csrf, created_at, expires_at
                     FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                )
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(super::accounts::decode_session).transpose()
            }

            /// When each polling workflow last polled (Unix ms), by workflow.
            pub async fn poll_times(&self) -> Result<Vec<(String, i64)>, StoreError> {
                let rows = sqlx::query("SELECT workflow, polled_at FROM poll_state")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        use super::rows::Columns as _;
                        Ok((r.text("workflow")?, r.int("polled_at")?))
                    })
                    .collect()
            }

            /// Queued and running runs of a tenant, by status (few, on the status index).
            pub async fn active_counts(&self, tenant: &str) -> Result<Vec<(String, i64)>, StoreError> {
                let rows = sqlx::query(
                    "SELECT status, COUNT(*) AS n FROM runs
                     WHERE status IN ('queued', 'running') AND tenant = $1 GROUP BY status",
                )
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        use super::rows::Columns as _;
                        Ok((r.text("status")?, r.int("n")?))
                    })
                    .collect()
            }

            /// Events a tenant received since a time.
            pub async fn events_since(&self, tenant: &str, since: i64) -> Result<i64, StoreError> {
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n FROM events WHERE tenant = $1 AND received_at >= $2",
                )
                .bind(tenant)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
                use super::rows::Columns as _;
                Ok(row.int("n")?)
            }

            /// A tenant's activity, newest first, optionally of one kind, before an id.
            pub async fn activity(
                &self,
                tenant: &str,
                kind: Option<&str>,
                before: Option<i64>,
                limit: u32,
            ) -> Result<Vec<ActivityRow>, StoreError> {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT id, tenant, at, kind, connector, connection, outcome, detail
                     FROM activity WHERE tenant = ",
                );
                query.push_bind(tenant);
                if let Some(kind) = kind {
                    query.push(" AND kind = ").push_bind(kind);
                }
                if let Some(before) = before {
                    query.push(" AND id < ").push_bind(before);
                }
                query
                    .push(" ORDER BY id DESC LIMIT ")
                    .push_bind(i64::from(limit));
                let rows = query.build().fetch_all(&self.pool).await?;
                rows.iter().map(super::accounts::decode_activity).collect()
            }
        }
    };
}
pub(crate) use impl_account_reads;
