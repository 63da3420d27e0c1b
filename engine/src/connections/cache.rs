//! The run engine's view of stored connections: unsealed once, kept in memory, reloaded
//! when the table changes (also by another process, such as `switchyard connections add`).
//!
//! Must never write unsealed secrets anywhere: they live in this process's memory only.

use super::{ConnectionService, DEFAULT_TENANT};
use crate::interpret::Connection;
use crate::plan::LiveCatalog;
use crate::runtime::Connections;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How often the table is checked for changes.
const REFRESH: Duration = Duration::from_secs(2);

/// Stored connections of the default tenant, by name.
pub struct StoredConnections {
    service: ConnectionService,
    /// For OAuth refreshes.
    http: Arc<dyn crate::interpret::HttpClient>,
    catalog: Arc<LiveCatalog>,
    by_name: ArcSwap<HashMap<String, Connection>>,
    version: std::sync::Mutex<(i64, i64)>,
}

impl StoredConnections {
    /// Loads the connections now.
    pub async fn load(
        service: ConnectionService,
        catalog: Arc<LiveCatalog>,
        http: Arc<dyn crate::interpret::HttpClient>,
    ) -> Result<Arc<Self>, super::ConnectionError> {
        let cache = Arc::new(StoredConnections {
            service,
            http,
            catalog,
            by_name: ArcSwap::from_pointee(HashMap::new()),
            version: std::sync::Mutex::new((-1, -1)),
        });
        cache.refresh().await?;
        Ok(cache)
    }

    /// Reloads if the table changed since the last load.
    pub async fn refresh(&self) -> Result<(), super::ConnectionError> {
        let version = self.service.store.connections_version().await?;
        if self.version.lock().map(|v| *v == version).unwrap_or(false) {
            return Ok(());
        }
        let catalog = self.catalog.current();
        let mut by_name = HashMap::new();
        for row in self.service.store.connections(Some(DEFAULT_TENANT)).await? {
            match self
                .service
                .open(&catalog, &row)
                .and_then(|c| self.service.with_tokens(&row, c, &self.http))
            {
                Ok(connection) => {
                    by_name.insert(row.name.clone(), connection);
                }
                // One bad connection must not take the others down; runs that use it fail
                // with "no connection" and the log says why.
                Err(error) => {
                    tracing::error!(connection = %row.name, %error, "connection unusable")
                }
            }
        }
        self.by_name.store(Arc::new(by_name));
        if let Ok(mut v) = self.version.lock() {
            *v = version;
        }
        Ok(())
    }

    /// Refreshes every few seconds until `shutdown`.
    pub async fn run(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(REFRESH) => {}
                _ = shutdown.changed() => return,
            }
            if let Err(error) = self.refresh().await {
                tracing::error!(%error, "reloading connections");
            }
        }
    }
}

impl Connections for StoredConnections {
    fn get(&self, name: &str) -> Option<Connection> {
        self.by_name.load().get(name).cloned()
    }
}
