//! Group commit: the one task that writes to the SQLite file.
//!
//! SQLite has a single writer, and with `synchronous = FULL` every commit waits for an
//! fsync (about 0.2 ms here, 4,900 commits/s at best). So writes are not run where they are
//! asked for: they are sent to this task, which takes every write waiting at that moment
//! (up to [`MAX_BATCH`]) and runs them in **one** transaction, each inside its own
//! savepoint. One fsync then covers the whole batch, and under load throughput grows with
//! the batch instead of stopping at one fsync per request. With a single write waiting, the
//! batch is that write alone: no timer, so no latency is added at low load.
//!
//! Every caller gets its answer only after the commit that holds its write: a webhook is
//! still answered 2xx only once its event and runs are on disk. A write that fails is
//! rolled back to its savepoint alone; the others in its batch commit. If the commit
//! itself fails, every write of the batch gets the error.
//!
//! Must never answer a caller before its transaction committed.

use super::StoreError;
use sqlx::{Connection, SqliteConnection};
use std::future::Future;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};

/// The most writes in one transaction. Bounds how long one commit holds the others.
pub const MAX_BATCH: usize = 256;

/// A boxed future borrowing the writer's connection.
pub type WriteFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'c>>;

/// Sends the outcome of a write to its caller once the batch's commit is known.
type Deliver = Box<dyn FnOnce(Result<(), &str>) + Send>;

/// What a write did inside the batch.
struct Done {
    /// The write failed (and was delivered its error): roll back its savepoint.
    failed: bool,
    deliver: Deliver,
}

type BatchedJob = Box<dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxedDone<'c> + Send>;
type BoxedDone<'c> = Pin<Box<dyn Future<Output = Done> + Send + 'c>>;

enum Job {
    /// Runs inside the shared transaction.
    Batched(BatchedJob),
    /// Runs on its own, outside any transaction (`PRAGMA incremental_vacuum`, checkpoints).
    Alone(BatchedJob),
}

/// The handle writes are sent through. Cloning it is cheap; the task ends when the last
/// handle is dropped, after the writes already sent.
#[derive(Clone, Debug)]
pub struct Writer {
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Writer {
    /// Starts the writing task on `connection`.
    pub fn start(connection: SqliteConnection) -> Writer {
        let (jobs, receiver) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(connection, receiver));
        Writer { jobs }
    }

    /// Runs `op` in the next batch and returns its result once the batch committed.
    pub async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        self.send(op, false).await
    }

    /// Runs `op` alone, outside a transaction (statements SQLite refuses inside one).
    pub async fn write_alone<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        self.send(op, true).await
    }

    async fn send<T, F>(&self, op: F, alone: bool) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, StoreError>>();
        let job: BatchedJob = Box::new(move |connection| {
            Box::pin(async move {
                match op(connection).await {
                    Ok(value) => Done {
                        failed: false,
                        deliver: Box::new(move |commit| {
                            let _ = answer.send(match commit {
                                Ok(()) => Ok(value),
                                Err(why) => Err(StoreError::Commit(why.to_string())),
                            });
                        }),
                    },
                    Err(error) => {
                        let _ = answer.send(Err(error));
                        Done {
                            failed: true,
                            deliver: Box::new(|_| {}),
                        }
                    }
                }
            })
        });
        let job = if alone {
            Job::Alone(job)
        } else {
            Job::Batched(job)
        };
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        answered.await.map_err(|_| StoreError::Closed)?
    }
}

async fn write_loop(mut connection: SqliteConnection, mut receiver: mpsc::UnboundedReceiver<Job>) {
    let mut batch: Vec<BatchedJob> = Vec::with_capacity(MAX_BATCH);
    let mut next: Option<Job> = None;
    loop {
        let first = match next.take() {
            Some(job) => job,
            None => match receiver.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        match first {
            Job::Alone(job) => {
                let done = job(&mut connection).await;
                (done.deliver)(Ok(()));
                continue;
            }
            Job::Batched(job) => batch.push(job),
        }
        // Everything already waiting joins this batch, up to an `Alone` job.
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(Job::Batched(job)) => batch.push(job),
                Ok(alone) => {
                    next = Some(alone);
                    break;
                }
                Err(_) => break,
            }
        }
        run_batch(&mut connection, &mut batch).await;
    }
}

/// Runs the jobs in one transaction, one savepoint each, and delivers their outcomes.
async fn run_batch(connection: &mut SqliteConnection, batch: &mut Vec<BatchedJob>) {
    let mut delivers: Vec<Deliver> = Vec::with_capacity(batch.len());
    let outcome: Result<(), sqlx::Error> = async {
        let mut tx = connection.begin().await?;
        if batch.len() == 1 {
            // Alone in its batch: the transaction is its savepoint.
            let job = batch.remove(0);
            let done = job(&mut tx).await;
            delivers.push(done.deliver);
            return if done.failed {
                tx.rollback().await
            } else {
                tx.commit().await
            };
        }
        for job in batch.drain(..) {
            let mut savepoint = tx.begin().await?;
            let done = job(&mut savepoint).await;
            if done.failed {
                savepoint.rollback().await?;
            } else {
                savepoint.commit().await?;
            }
            delivers.push(done.deliver);
        }
        tx.commit().await
    }
    .await;
    // Jobs not reached (the transaction could not begin) are dropped: their callers see
    // the store as closed for this write, never a false success.
    batch.clear();
    let why = outcome.err().map(|e| e.to_string());
    for deliver in delivers {
        deliver(why.as_deref().map_or(Ok(()), Err));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::ConnectOptions;
    use sqlx::Row;
    use sqlx::sqlite::SqliteConnectOptions;

    async fn writer(dir: &std::path::Path) -> (Writer, SqliteConnectOptions) {
        let options = SqliteConnectOptions::new()
            .filename(dir.join("w.db"))
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal);
        let mut connection = options.connect().await.unwrap();
        sqlx::query("CREATE TABLE t (k INTEGER PRIMARY KEY)")
            .execute(&mut connection)
            .await
            .unwrap();
        (Writer::start(connection), options)
    }

    /// Concurrent writes share transactions, and a failing write (a duplicate key) is
    /// rolled back alone: every other write of its batch is committed and answered `Ok`.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_write_leaves_its_batch_intact() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, options) = writer(dir.path()).await;
        let tasks: Vec<_> = (0..400)
            .map(|i: i64| {
                let writer = writer.clone();
                // Every 10th write inserts a key an earlier write already inserted.
                let key = if i % 10 == 9 { i - 9 } else { i };
                tokio::spawn(async move {
                    writer
                        .write(move |c| {
                            Box::pin(async move {
                                sqlx::query("INSERT INTO t (k) VALUES (?1)")
                                    .bind(key)
                                    .execute(&mut *c)
                                    .await?;
                                Ok(key)
                            })
                        })
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        let mut failed = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::Database(_)) => failed += 1,
                Err(other) => panic!("unexpected error: {other}"),
            }
        }
        assert_eq!((ok, failed), (360, 40));
        let mut reader = options.connect().await.unwrap();
        let rows: i64 = sqlx::query("SELECT COUNT(*) FROM t")
            .fetch_one(&mut reader)
            .await
            .unwrap()
            .get(0);
        assert_eq!(
            rows, 360,
            "every successful write is committed, no failed one"
        );
    }

    /// A write's answer comes after its commit: another connection sees the row at once.
    #[tokio::test]
    async fn an_answered_write_is_visible_to_other_connections() {
        let dir = tempfile::tempdir().unwrap();
        let (writer, options) = writer(dir.path()).await;
        let mut reader = options.connect().await.unwrap();
        for key in 0..20_i64 {
            writer
                .write(move |c| {
                    Box::pin(async move {
                        sqlx::query("INSERT INTO t (k) VALUES (?1)")
                            .bind(key)
                            .execute(&mut *c)
                            .await?;
                        Ok(())
                    })
                })
                .await
                .unwrap();
            let seen: i64 = sqlx::query("SELECT COUNT(*) FROM t WHERE k = ?1")
                .bind(key)
                .fetch_one(&mut reader)
                .await
                .unwrap()
                .get(0);
            assert_eq!(seen, 1);
        }
        let vacuumed = writer
            .write_alone(|c| {
                Box::pin(async move {
                    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                        .execute(&mut *c)
                        .await?;
                    Ok(true)
                })
            })
            .await
            .unwrap();
        assert!(vacuumed);
    }
}
