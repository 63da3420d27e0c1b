//! Helpers shared by the integration tests.

use std::process::{Command, Output};

/// Runs the `switchyard` binary in the repository root.
pub fn switchyard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("binary runs")
}

/// A command's standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The `X-Hub-Signature-256` value GitHub sends for `body` signed with `secret`.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(switchyard::webhook::verify::mac(
            switchyard::spec::webhook::HmacAlgorithm::Sha256,
            secret.as_bytes(),
            body
        ))
    )
}

/// A store for a test, on one backend, removed by [`TestStore::cleanup`] (a SQLite file
/// in a temporary directory, or a PostgreSQL schema of its own).
pub struct TestStore {
    pub backend: &'static str,
    pub store: switchyard::store::Store,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

/// The URL of the PostgreSQL the tests may use, or `None` (and a note on stderr that the
/// PostgreSQL half of `what` was skipped).
pub fn postgres_url(what: &str) -> Option<String> {
    match std::env::var("SWITCHYARD_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "SKIPPED on PostgreSQL: {what} (set SWITCHYARD_TEST_POSTGRES_URL; .ci/run does)"
            );
            None
        }
    }
}

impl TestStore {
    /// A fresh SQLite store.
    pub async fn sqlite() -> TestStore {
        let dir = tempfile::tempdir().unwrap();
        let store = switchyard::store::Store::open_sqlite(&dir.path().join("switchyard.db"))
            .await
            .unwrap();
        TestStore {
            backend: "sqlite",
            store,
            _dir: Some(dir),
            schema: None,
        }
    }

    /// A fresh PostgreSQL store in a schema of its own, so tests run in parallel.
    pub async fn postgres(url: &str) -> TestStore {
        use sqlx::Connection;
        use std::str::FromStr;
        let schema = format!("sy_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let options = sqlx::postgres::PgConnectOptions::from_str(url)
            .unwrap()
            .options([("search_path", schema.as_str())]);
        let store = switchyard::store::PgStore::open_with(options)
            .await
            .unwrap()
            .into();
        TestStore {
            backend: "postgres",
            store,
            _dir: None,
            schema: Some((url.to_string(), schema)),
        }
    }

    /// SQLite, and PostgreSQL when the tests may use it.
    pub async fn all(what: &str) -> Vec<TestStore> {
        let mut stores = vec![TestStore::sqlite().await];
        if let Some(url) = postgres_url(what) {
            stores.push(TestStore::postgres(&url).await);
        }
        stores
    }

    /// A `--database-url` for the binary that reaches this store (PostgreSQL only): the
    /// schema travels as the connection's `search_path` option.
    pub fn database_url(&self) -> Option<String> {
        let (url, schema) = self.schema.as_ref()?;
        let separator = if url.contains('?') { '&' } else { '?' };
        Some(format!(
            "{url}{separator}options=-c%20search_path%3D{schema}"
        ))
    }

    /// Drops the PostgreSQL schema (the SQLite directory goes with `self`).
    pub async fn cleanup(self) {
        use sqlx::Connection;
        let TestStore { store, schema, .. } = self;
        drop(store);
        if let Some((url, schema)) = schema
            && let Ok(mut admin) = sqlx::PgConnection::connect(&url).await
        {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE"
            )))
            .execute(&mut admin)
            .await;
        }
    }
}
