//! Every read of the store, written once for both backends.
//!
//! The SQL here is the subset SQLite and PostgreSQL share (`$N` placeholders, which sqlx
//! accepts for SQLite too; BIGINT/INTEGER and TEXT columns only), and [`impl_reads!`]
//! compiles it against each backend's own driver: one text, two native implementations.
//! The backends' tests run the same suite, so a query that only one of them accepts fails
//! a test.
//!
//! Must never write: writes differ per backend (SQLite's group-commit writer,
//! PostgreSQL's row locks) and live in `sqlite/` and `postgres/`.

/// Implements the read methods on a store type with a `pool` field of its driver's pool.
macro_rules! impl_reads {
    ($store:ty) => {
        impl $store {
            /// One connection of a tenant, by name.
            pub async fn connection(
                &self,
                tenant: &str,
                name: &str,
            ) -> Result<Option<ConnectionRow>, StoreError> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    connection_columns!(),
                    " FROM connections WHERE tenant = $1 AND name = $2"
                ))
                .bind(tenant)
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(ConnectionRow::decode).transpose()
            }

            /// One connection by its id.
            pub async fn connection_by_id(&self, id: &str) -> Result<Option<ConnectionRow>, StoreError> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    connection_columns!(),
                    " FROM connections WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(ConnectionRow::decode).transpose()
            }

            /// Connections of one tenant (or all tenants), by name.
            pub async fn connections(
                &self,
                tenant: Option<&str>,
            ) -> Result<Vec<ConnectionRow>, StoreError> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    connection_columns!(),
                    " FROM connections WHERE ($1 IS NULL OR tenant = $1) ORDER BY tenant, name"
                ))
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(ConnectionRow::decode).collect()
            }

            /// The newest change to any connection (Unix ms) and how many there are: a
            /// cheap way for caches to notice changes made by other processes.
            pub async fn connections_version(&self) -> Result<(i64, i64), StoreError> {
                let row = sqlx::query(
                    "SELECT COALESCE(MAX(updated_at), 0) AS newest, COUNT(*) AS n FROM connections",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok((row.int("newest")?, row.int("n")?))
            }

            /// Every sealed value, for a key rotation: (connection id, secrets, tokens).
            pub async fn sealed_values(
                &self,
            ) -> Result<Vec<(String, Option<String>, Option<String>)>, StoreError> {
                let rows = sqlx::query("SELECT id, secrets, tokens FROM connections ORDER BY id")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.text("id")?, r.opt_text("secrets")?, r.opt_text("tokens")?)))
                    .collect()
            }

            /// One API key by its public id.
            pub async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRow>, StoreError> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    api_key_columns!(),
                    " FROM api_keys WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(ApiKeyRow::decode).transpose()
            }

            /// API keys of a tenant (or all), newest first.
            pub async fn api_keys(&self, tenant: Option<&str>) -> Result<Vec<ApiKeyRow>, StoreError> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    api_key_columns!(),
                    " FROM api_keys WHERE ($1 IS NULL OR tenant = $1) ORDER BY created_at DESC, id"
                ))
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(ApiKeyRow::decode).collect()
            }

            /// A poll's state: `None` before its first poll, else its cursor (if any).
            pub async fn poll_cursor(
                &self,
                workflow: &str,
            ) -> Result<Option<Option<Json>>, StoreError> {
                let row = sqlx::query("SELECT cursor FROM poll_state WHERE workflow = $1")
                    .bind(workflow)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                let cursor = row.opt_text("cursor")?;
                Ok(Some(cursor.map(|c| serde_json::from_str(&c)).transpose()?))
            }

            /// Up to which nominal time (Unix ms) a schedule's firings were handled.
            pub async fn handled_until(&self, workflow: &str) -> Result<Option<i64>, StoreError> {
                let row = sqlx::query("SELECT handled_until FROM schedules WHERE workflow = $1")
                    .bind(workflow)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(row.map(|r| r.int("handled_until")).transpose()?)
            }

            /// Whether a run of the workflow is queued or running.
            pub async fn has_active_run(&self, workflow: &str) -> Result<bool, StoreError> {
                let row = sqlx::query(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM runs
                     WHERE workflow = $1 AND status IN ('queued', 'running') LIMIT 1) AS active",
                )
                .bind(workflow)
                .fetch_one(&self.pool)
                .await?;
                Ok(row.int("n")? > 0)
            }

            /// Cron firings recorded for a workflow: (nominal ms, outcome).
            pub async fn firings(&self, workflow: &str) -> Result<Vec<(i64, String)>, StoreError> {
                let rows = sqlx::query(
                    "SELECT nominal, outcome FROM cron_firings WHERE workflow = $1 ORDER BY nominal",
                )
                .bind(workflow)
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| Ok((r.int("nominal")?, r.text("outcome")?)))
                    .collect()
            }

            /// Workflows switched on or off through the API (overriding their spec's
            /// `enabled`): (workflow, enabled).
            pub async fn workflow_switches(&self) -> Result<Vec<(String, bool)>, StoreError> {
                let rows =
                    sqlx::query("SELECT workflow, enabled FROM workflow_switches ORDER BY workflow")
                        .fetch_all(&self.pool)
                        .await?;
                rows.iter()
                    .map(|r| Ok((r.text("workflow")?, r.int("enabled")? != 0)))
                    .collect()
            }

            /// Every instance that has written a heartbeat, newest first, with the runs it
            /// holds leases on.
            pub async fn instances(&self) -> Result<Vec<InstanceRow>, StoreError> {
                let rows = sqlx::query(
                    "SELECT id, host, version, started_at, heartbeat_at, stopped_at,
                            (SELECT COUNT(*) FROM runs
                             WHERE runs.status = 'running' AND runs.lease_owner = instances.id) AS in_flight
                     FROM instances ORDER BY heartbeat_at DESC, id",
                )
                .fetch_all(&self.pool)
                .await?;
                rows.iter()
                    .map(|r| {
                        Ok(InstanceRow {
                            id: r.text("id")?,
                            host: r.text("host")?,
                            version: r.text("version")?,
                            started_at: r.int("started_at")?,
                            heartbeat_at: r.int("heartbeat_at")?,
                            stopped_at: r.opt_int("stopped_at")?,
                            runs_in_flight: r.int("in_flight")?,
                        })
                    })
                    .collect()
            }

            /// The link of a local key in a connection.
            pub async fn link(
                &self,
                tenant: &str,
                key: &str,
                connection: &str,
            ) -> Result<Option<LinkRow>, StoreError> {
                let row = sqlx::query(
                    "SELECT tenant, local_key, connection, object_type, external_id, created_at, updated_at
                     FROM links WHERE tenant = $1 AND local_key = $2 AND connection = $3",
                )
                .bind(tenant)
                .bind(key)
                .bind(connection)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(decode_link).transpose()
            }

            /// A tenant's links, by key, optionally of one connection and/or under a key prefix.
            pub async fn links(
                &self,
                tenant: &str,
                connection: Option<&str>,
                key_prefix: Option<&str>,
                limit: u32,
            ) -> Result<Vec<LinkRow>, StoreError> {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT tenant, local_key, connection, object_type, external_id, created_at, updated_at
                     FROM links WHERE tenant = ",
                );
                query.push_bind(tenant);
                if let Some(connection) = connection {
                    query.push(" AND connection = ").push_bind(connection);
                }
                if let Some(prefix) = key_prefix {
                    query
                        .push(" AND local_key LIKE ")
                        .push_bind(like_prefix(prefix))
                        .push(" ESCAPE '\\'");
                }
                query
                    .push(" ORDER BY local_key, connection LIMIT ")
                    .push_bind(i64::from(limit));
                let rows = query.build().fetch_all(&self.pool).await?;
                rows.iter().map(decode_link).collect()
            }

            /// Whether the database answers (for `/readyz`).
            pub async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
                Ok(())
            }

            /// One run.
            pub async fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
                let row = sqlx::query(concat!("SELECT ", run_columns!(), " FROM runs WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                row.as_ref().map(RunRecord::decode).transpose()
            }

            /// The journal of a run with each step's timing, in the order they started.
            pub async fn steps(&self, run: &str) -> Result<Vec<StepRow>, StoreError> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    step_columns!(),
                    " FROM steps WHERE run_id = $1 ORDER BY started_at, finished_at, step_id"
                ))
                .bind(run)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(StepRow::decode).collect()
            }

            /// Runs of a workflow (or all), newest first.
            pub async fn runs(
                &self,
                workflow: Option<&str>,
                limit: u32,
            ) -> Result<Vec<RunRecord>, StoreError> {
                self.find_runs(&RunFilter {
                    workflow: workflow.map(str::to_string),
                    limit,
                    ..RunFilter::default()
                })
                .await
            }

            /// Runs matching a filter, newest first. Only the filters given become SQL
            /// conditions, so each query can use the index that fits it.
            pub async fn find_runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError> {
                let mut query = sqlx::QueryBuilder::new(concat!(
                    "SELECT ",
                    run_columns!(),
                    " FROM runs WHERE 1 = 1"
                ));
                if let Some(tenant) = &filter.tenant {
                    query.push(" AND tenant = ").push_bind(tenant);
                }
                if let Some(workflow) = &filter.workflow {
                    query.push(" AND workflow = ").push_bind(workflow);
                }
                if let Some(status) = &filter.status {
                    query.push(" AND status = ").push_bind(status);
                }
                if let Some(event) = filter.event {
                    query.push(" AND event = ").push_bind(event);
                }
                if let Some(since) = filter.since {
                    query.push(" AND created_at >= ").push_bind(since);
                }
                if let Some(until) = filter.until {
                    query.push(" AND created_at < ").push_bind(until);
                }
                if let Some((created_at, id)) = &filter.before {
                    query
                        .push(" AND (created_at < ")
                        .push_bind(*created_at)
                        .push(" OR (created_at = ")
                        .push_bind(*created_at)
                        .push(" AND id < ")
                        .push_bind(id)
                        .push("))");
                }
                query
                    .push(" ORDER BY created_at DESC, id DESC LIMIT ")
                    .push_bind(i64::from(filter.limit));
                let rows = query.build().fetch_all(&self.pool).await?;
                rows.iter().map(RunRecord::decode).collect()
            }

            /// One stored event.
            pub async fn event(&self, id: i64) -> Result<Option<EventRecord>, StoreError> {
                let row = sqlx::query(concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM events WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
                row.as_ref().map(EventRecord::decode).transpose()
            }

            /// Stored events matching a filter, newest first.
            pub async fn events(&self, filter: &EventFilter) -> Result<Vec<EventRecord>, StoreError> {
                let mut query = sqlx::QueryBuilder::new(concat!(
                    "SELECT ",
                    event_columns!(),
                    " FROM events WHERE 1 = 1"
                ));
                if let Some(tenant) = &filter.tenant {
                    query.push(" AND tenant = ").push_bind(tenant);
                }
                if let Some(connector) = &filter.connector {
                    query.push(" AND connector = ").push_bind(connector);
                }
                if let Some(connection) = &filter.connection {
                    query.push(" AND connection = ").push_bind(connection);
                }
                if let Some(event_type) = &filter.event_type {
                    query.push(" AND event_type = ").push_bind(event_type);
                }
                if let Some(since) = filter.since {
                    query.push(" AND received_at >= ").push_bind(since);
                }
                if let Some(before) = filter.before {
                    query.push(" AND id < ").push_bind(before);
                }
                query
                    .push(" ORDER BY id DESC LIMIT ")
                    .push_bind(i64::from(filter.limit));
                let rows = query.build().fetch_all(&self.pool).await?;
                rows.iter().map(EventRecord::decode).collect()
            }

            /// Counts for one tenant: runs created and events received since `since_ms`,
            /// and its connections by status.
            pub async fn summary(&self, tenant: &str, since_ms: i64) -> Result<Summary, StoreError> {
                let mut summary = Summary::default();
                let runs = sqlx::query(
                    "SELECT status, COUNT(*) AS n FROM runs
                     WHERE tenant = $1 AND created_at >= $2 GROUP BY status",
                )
                .bind(tenant)
                .bind(since_ms)
                .fetch_all(&self.pool)
                .await?;
                for row in &runs {
                    summary.runs.insert(row.text("status")?, row.int("n")?);
                }
                let events = sqlx::query(
                    "SELECT COUNT(*) AS n FROM events WHERE tenant = $1 AND received_at >= $2",
                )
                .bind(tenant)
                .bind(since_ms)
                .fetch_one(&self.pool)
                .await?;
                summary.events = events.int("n")?;
                let connections = sqlx::query(
                    "SELECT status, COUNT(*) AS n FROM connections WHERE tenant = $1 GROUP BY status",
                )
                .bind(tenant)
                .fetch_all(&self.pool)
                .await?;
                for row in &connections {
                    summary.connections.insert(row.text("status")?, row.int("n")?);
                }
                Ok(summary)
            }
        }
    };
}

pub(crate) use impl_reads;

/// Reads a `links` row.
pub(crate) fn decode_link(
    row: &impl super::rows::Columns,
) -> Result<super::LinkRow, super::StoreError> {
    Ok(super::LinkRow {
        tenant: row.text("tenant")?,
        key: row.text("local_key")?,
        connection: row.text("connection")?,
        object_type: row.text("object_type")?,
        external_id: row.text("external_id")?,
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}
