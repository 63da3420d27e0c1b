//! Instances on PostgreSQL: heartbeats, requeueing the runs of dead instances, and the
//! `LISTEN/NOTIFY` channel that wakes idle workers of every instance when runs are queued.

use super::{InstanceRow, PgStore, StoreError};
use sqlx::postgres::PgListener;
use std::sync::Arc;
use tokio::sync::Notify;

/// The channel queued runs are announced on.
const CHANNEL: &str = "switchyard_queue";

impl PgStore {
    /// Announces `n` runs just queued (committed) to the listeners of every instance. Sent
    /// after the commit, on its own connection and without waiting: a `NOTIFY` inside the
    /// queueing transaction would hold PostgreSQL's notification lock through that
    /// transaction's commit, serializing the commits of every instance.
    pub(super) fn announce(&self, n: usize) {
        if n == 0 {
            return;
        }
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let sent = sqlx::query("SELECT pg_notify('switchyard_queue', $1)")
                .bind(n.to_string())
                .execute(&pool)
                .await;
            if let Err(error) = sent {
                // Workers still find the runs on their idle poll.
                tracing::warn!(%error, "NOTIFY of queued runs failed");
            }
        });
    }

    /// Records this instance's heartbeat (creating its row on the first).
    pub async fn heartbeat(&self, instance: &InstanceRow) -> Result<(), StoreError> {
        self.sync_clock().await?;
        sqlx::query(
            "INSERT INTO instances (id, host, version, started_at, heartbeat_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at,
                 stopped_at = NULL",
        )
        .bind(&instance.id)
        .bind(&instance.host)
        .bind(&instance.version)
        .bind(instance.started_at)
        .bind(self.now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Marks an instance stopped (a graceful stop).
    pub async fn stop_instance(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE instances SET stopped_at = $2 WHERE id = $1")
            .bind(id)
            .bind(self.now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Queues again the runs leased by instances that stopped or whose last heartbeat is
    /// older than `dead_after`, and wakes the workers of every instance. Returns how many.
    pub async fn requeue_runs_of_dead_instances(
        &self,
        dead_after: std::time::Duration,
    ) -> Result<u64, StoreError> {
        let cutoff_ms = self.now() - super::millis(dead_after);
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
             WHERE status = 'running' AND lease_owner IN (
                 SELECT id FROM instances WHERE stopped_at IS NOT NULL OR heartbeat_at < $1)",
        )
        .bind(cutoff_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        self.announce(n as usize);
        self.count_queued(n as i64);
        Ok(n)
    }

    /// Hands back every run leased by `owner` (a graceful stop whose runs did not finish).
    pub async fn release_runs_of(&self, owner: &str) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE runs SET status = 'queued', lease_owner = NULL, lease_until = NULL
             WHERE status = 'running' AND lease_owner = $1",
        )
        .bind(owner)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        self.announce(n as usize);
        self.count_queued(n as i64);
        Ok(n)
    }

    /// Wakes `wake` once per run any instance queues (`LISTEN switchyard_queue`), so idle
    /// workers pick runs up at once without polling. Reconnects after a lost connection.
    pub fn listen_for_runs(&self, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            loop {
                let mut listener = match PgListener::connect_with(&pool).await {
                    Ok(l) => l,
                    Err(error) => {
                        tracing::warn!(%error, "LISTEN connection failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                        continue;
                    }
                };
                if let Err(error) = listener.listen(CHANNEL).await {
                    tracing::warn!(%error, "LISTEN failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                    continue;
                }
                loop {
                    match listener.recv().await {
                        Ok(notification) => {
                            let n: usize = notification.payload().parse().unwrap_or(1);
                            // One worker per run: waking every idle worker for one run
                            // would only make them race for it.
                            for _ in 0..n.min(256) {
                                wake.notify_one();
                            }
                        }
                        Err(error) => {
                            tracing::warn!(%error, "LISTEN connection lost; reconnecting");
                            // Runs queued while disconnected are found by the idle poll.
                            wake.notify_waiters();
                            break;
                        }
                    }
                }
            }
        })
    }
}
