//! Where the engine finds a connection by name: a small trait, so the run engine does not
//! care whether connections come from a file (today) or the encrypted connection store.

use crate::interpret::Connection;
use crate::plan::Catalog;
use serde_json::{Map, Value as Json};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Looks connections up by name.
pub trait Connections: Send + Sync {
    fn get(&self, name: &str) -> Option<Connection>;
}

/// Connections held in memory, built from a JSON file:
///
/// ```json
/// { "acme-github": { "connector": "github", "config": { "webhook_secret": "$env:GH_SECRET" } },
///   "acme-slack": { "connector": "slack", "auth": "bearer", "base_url": "http://127.0.0.1:9999/api",
///                   "config": { "bot_token": "$env:SLACK_TOKEN" } } }
/// ```
///
/// A string value `$env:NAME` is read from the environment variable `NAME`, so secrets need
/// not be written into the file.
#[derive(Default, Clone)]
pub struct StaticConnections {
    by_name: HashMap<String, Connection>,
}

impl StaticConnections {
    pub fn new(connections: impl IntoIterator<Item = Connection>) -> Self {
        StaticConnections {
            by_name: connections.into_iter().map(|c| (c.id.clone(), c)).collect(),
        }
    }

    /// Reads the file; every problem (unknown connector, bad config) is reported at once.
    pub fn from_file(path: &Path, catalog: &Catalog) -> Result<Self, Vec<String>> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?;
        let doc: Json = serde_json::from_str(&text)
            .map_err(|e| vec![format!("{}: invalid JSON: {e}", path.display())])?;
        let Json::Object(entries) = doc else {
            return Err(vec![format!(
                "{}: expected an object of connections",
                path.display()
            )]);
        };
        let mut problems = Vec::new();
        let mut out = Vec::new();
        for (name, entry) in entries {
            let connector = entry.get("connector").and_then(Json::as_str).unwrap_or("");
            let Some(plan) = catalog.connectors.get(connector) else {
                problems.push(format!(
                    "connection `{name}`: unknown connector `{connector}`"
                ));
                continue;
            };
            let mut config = entry
                .get("config")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default();
            resolve_env(&name, &mut config, &mut problems);
            match Connection::new(name.clone(), plan.clone(), config) {
                Ok(mut c) => {
                    c.auth_mode = entry.get("auth").and_then(Json::as_str).map(String::from);
                    c.base_url = entry
                        .get("base_url")
                        .and_then(Json::as_str)
                        .map(String::from);
                    out.push(c);
                }
                Err(p) => {
                    problems.extend(p.into_iter().map(|p| format!("connection `{name}`: {p}")))
                }
            }
        }
        if problems.is_empty() {
            Ok(StaticConnections::new(out))
        } else {
            Err(problems)
        }
    }

    pub fn into_arc(self) -> Arc<dyn Connections> {
        Arc::new(self)
    }
}

fn resolve_env(name: &str, config: &mut Map<String, Json>, problems: &mut Vec<String>) {
    for (key, value) in config.iter_mut() {
        if let Some(var) = value.as_str().and_then(|s| s.strip_prefix("$env:")) {
            match std::env::var(var) {
                Ok(v) => *value = Json::String(v),
                Err(_) => problems.push(format!(
                    "connection `{name}`: `{key}` reads the environment variable `{var}`, which is not set"
                )),
            }
        }
    }
}

impl Connections for StaticConnections {
    fn get(&self, name: &str) -> Option<Connection> {
        self.by_name.get(name).cloned()
    }
}

/// Several sources, asked in order: the first that knows a name answers.
pub struct LayeredConnections(pub Vec<Arc<dyn Connections>>);

impl Connections for LayeredConnections {
    fn get(&self, name: &str) -> Option<Connection> {
        self.0.iter().find_map(|source| source.get(name))
    }
}
