//! Connections at rest: adding, opening, checking and removing stored connections, with
//! their secret config sealed under the master key.
//!
//! A stored connection is a [`ConnectionRow`]: non-secret config in clear, secret config
//! (and, with OAuth, tokens) sealed with the connection id as associated data. Opening one
//! unseals it and builds the interpreter's [`Connection`], checked against the connector.
//!
//! Must never return, log or store a secret in clear: errors name fields, never values.

mod cache;

pub use cache::StoredConnections;

use crate::diag::did_you_mean_suffix;
use crate::interpret::Connection;
use crate::plan::{Catalog, ConnectorPlan};
use crate::secrets::{Keyring, SecretError, open, seal};
use crate::store::{ConnectionRow, Reseal, Store, StoreError, new_connection_row};
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// The tenant of connections made without one (the CLI's default, and the one workflows
/// in spec files use).
pub use crate::store::DEFAULT_TENANT;

/// Why a connection operation failed. Messages name fields and connections, never values.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    #[error("no connector `{name}`{hint}")]
    UnknownConnector { name: String, hint: String },
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("a connection named `{0}` exists already")]
    Exists(String),
    #[error("no connection `{0}`")]
    NotFound(String),
    #[error("connection `{0}` was changed meanwhile: read it again and repeat the change")]
    Changed(String),
    #[error("connection `{name}`: its {field} {error}")]
    Sealed {
        name: String,
        field: &'static str,
        error: SecretError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What `connections add` asks for.
#[derive(Debug, Clone, Default)]
pub struct NewConnection {
    pub tenant: String,
    pub name: String,
    pub connector: String,
    /// Non-secret config fields.
    pub config: Map<String, Json>,
    /// Secret config fields.
    pub secrets: Map<String, Json>,
    pub auth_mode: Option<String>,
    pub base_url: Option<String>,
}

/// The associated data binding a sealed field to its connection.
pub(crate) fn aad(id: &str, field: &str) -> Vec<u8> {
    format!("switchyard:connection:{id}:{field}").into_bytes()
}

/// Connections in the store, sealed with `keyring`.
#[derive(Clone)]
pub struct ConnectionService {
    pub store: Store,
    pub keyring: Arc<Keyring>,
}

impl ConnectionService {
    /// Checks and stores a new connection.
    pub async fn add(
        &self,
        catalog: &Catalog,
        new: NewConnection,
    ) -> Result<ConnectionRow, ConnectionError> {
        let plan = connector_plan(catalog, &new.connector)?;
        let connection = validated(
            &plan,
            &new.name,
            &new.config,
            &new.secrets,
            new.auth_mode.as_deref(),
        )?;
        let mut row = new_connection_row(&new.tenant, &new.name, &plan.id, connection.config);
        row.auth_mode = new.auth_mode;
        row.base_url = new.base_url;
        row.secrets = self.seal_secrets(&row.id, connection.secrets);
        if !self.store.insert_connection(&row).await? {
            return Err(ConnectionError::Exists(new.name));
        }
        Ok(row)
    }

    /// Edits a stored connection: the given config and secret fields replace the stored
    /// ones (a `null` removes one); the result is checked like a new connection.
    pub async fn update(
        &self,
        catalog: &Catalog,
        tenant: &str,
        name: &str,
        change: ConnectionChange,
    ) -> Result<ConnectionRow, ConnectionError> {
        let mut row = self
            .store
            .connection(tenant, name)
            .await?
            .ok_or_else(|| ConnectionError::NotFound(name.to_string()))?;
        let read_at = row.updated_at;
        let plan = connector_plan(catalog, &row.connector)?;
        let mut secrets = match &row.secrets {
            Some(sealed) => self.unseal_map(&row, "secrets", sealed)?,
            None => Map::new(),
        };
        let mut config = row.config.clone();
        let secrets_given: Vec<String> = change.secrets.keys().cloned().collect();
        merge(&mut config, change.config);
        merge(&mut secrets, change.secrets);
        // Config and the base URL decide where the credentials are sent (a host, a site, a
        // proxy). Changing them must not send the stored ones somewhere new: every stored
        // secret is given again in the same change, and OAuth tokens are dropped (the
        // connection is connected again).
        let redirected = config != row.config
            || change
                .base_url
                .as_ref()
                .is_some_and(|b| Some(b) != row.base_url.as_ref());
        if redirected {
            let stored: Vec<String> = match &row.secrets {
                Some(sealed) => self
                    .unseal_map(&row, "secrets", sealed)?
                    .keys()
                    .cloned()
                    .collect(),
                None => Vec::new(),
            };
            let missing: Vec<String> = stored
                .into_iter()
                .filter(|k| !secrets_given.contains(k))
                .collect();
            if !missing.is_empty() {
                return Err(ConnectionError::Invalid(vec![format!(
                    "changing `config` or `base_url` changes where the credentials go: give the secret field(s) {} again in the same change",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )]));
            }
            if row.tokens.take().is_some() {
                row.status = "needs_reauth".into();
            }
        }
        let auth_mode = change.auth_mode.or(row.auth_mode.take());
        let connection = validated(&plan, name, &config, &secrets, auth_mode.as_deref())?;
        row.config = connection.config;
        row.secrets = self.seal_secrets(&row.id, connection.secrets);
        row.auth_mode = auth_mode;
        if change.base_url.is_some() {
            row.base_url = change.base_url;
        }
        if !self.store.update_connection(&row, read_at).await? {
            return Err(ConnectionError::Changed(name.to_string()));
        }
        Ok(row)
    }

    /// Seals a connection's secret fields for its row (`None` when there are none).
    fn seal_secrets(&self, id: &str, secrets: Map<String, Json>) -> Option<String> {
        (!secrets.is_empty()).then(|| {
            let text = Json::Object(secrets).to_string();
            seal(&self.keyring, &aad(id, "secrets"), text.as_bytes())
        })
    }

    /// A stored connection, unsealed and ready for the interpreter.
    pub fn open(
        &self,
        catalog: &Catalog,
        row: &ConnectionRow,
    ) -> Result<Connection, ConnectionError> {
        let plan = connector_plan(catalog, &row.connector)?;
        let mut values = row.config.clone();
        if let Some(sealed) = &row.secrets {
            values.extend(self.unseal_map(row, "secrets", sealed)?);
        }
        let mut connection =
            Connection::new(row.name.clone(), plan, values).map_err(ConnectionError::Invalid)?;
        connection.auth_mode = row.auth_mode.clone();
        connection.base_url = row.base_url.clone();
        Ok(connection)
    }

    /// Gives an OAuth connection its token source (refreshing, single-flight).
    pub fn with_tokens(
        &self,
        row: &crate::store::ConnectionRow,
        mut connection: Connection,
        http: &Arc<dyn crate::interpret::HttpClient>,
    ) -> Result<Connection, ConnectionError> {
        let Some(tokens) = self.tokens(row)? else {
            // Client credentials need no stored tokens: the connection's own client id
            // and secret buy them.
            let plan = connection.connector.auth.iter().find_map(|a| match a {
                crate::plan::AuthPlan::OAuth2ClientCredentials(p) => Some(p.clone()),
                _ => None,
            });
            if let Some(plan) = plan {
                let vars = crate::runtime::connection_vars(&connection);
                connection.tokens = Some(Arc::new(crate::oauth::ClientCredentialsSource::new(
                    row.connector.clone(),
                    plan,
                    vars,
                    http.clone(),
                )));
            }
            return Ok(connection);
        };
        connection.granted = crate::interpret::Granted {
            scope: tokens.scope.clone(),
            extra: tokens.extra.clone(),
        };
        let plan = connection.connector.auth.iter().find_map(|a| match a {
            crate::plan::AuthPlan::OAuth2(p) => Some(p.clone()),
            _ => None,
        });
        if let Some(plan) = plan {
            let vars = crate::runtime::connection_vars(&connection);
            connection.tokens = Some(Arc::new(crate::oauth::StoredTokenSource::new(
                row.id.clone(),
                row.connector.clone(),
                plan,
                vars,
                tokens,
                self.clone(),
                http.clone(),
            )));
        }
        Ok(connection)
    }

    /// A stored connection ready for calls: unsealed, and for OAuth its token source.
    pub fn open_live(
        &self,
        catalog: &Catalog,
        row: &ConnectionRow,
        http: &Arc<dyn crate::interpret::HttpClient>,
    ) -> Result<Connection, ConnectionError> {
        let connection = self.open(catalog, row)?;
        self.with_tokens(row, connection, http)
    }

    fn unseal_map(
        &self,
        row: &ConnectionRow,
        field: &'static str,
        sealed: &str,
    ) -> Result<Map<String, Json>, ConnectionError> {
        let sealed_error = |error| ConnectionError::Sealed {
            name: row.name.clone(),
            field,
            error,
        };
        let bytes = open(&self.keyring, &aad(&row.id, field), sealed).map_err(sealed_error)?;
        serde_json::from_slice(&bytes).map_err(|_| sealed_error(SecretError::Malformed))
    }

    /// Checks at start-up that every stored secret opens with the configured keys, so the
    /// server never runs with credentials it cannot read. Every failure is returned.
    pub async fn verify_keys(&self) -> Result<usize, Vec<ConnectionError>> {
        let rows = self
            .store
            .connections(None)
            .await
            .map_err(|e| vec![e.into()])?;
        let mut problems = Vec::new();
        for row in &rows {
            for (field, sealed) in [("secrets", &row.secrets), ("tokens", &row.tokens)] {
                if let Some(sealed) = sealed
                    && let Err(error) = open(&self.keyring, &aad(&row.id, field), sealed)
                {
                    problems.push(ConnectionError::Sealed {
                        name: format!("{}/{}", row.tenant, row.name),
                        field,
                        error,
                    });
                }
            }
        }
        if problems.is_empty() {
            Ok(rows.len())
        } else {
            Err(problems)
        }
    }

    /// Seals every stored secret again under `new` (all in one transaction) and returns how
    /// many values were resealed. Values must open with the current keyring.
    pub async fn reseal_all(&self, new: &Keyring) -> Result<usize, ConnectionError> {
        let mut changes = Vec::new();
        let mut count = 0;
        for (id, secrets, tokens) in self.store.sealed_values().await? {
            let mut reseal = |field: &'static str, value: &Option<String>| {
                value
                    .as_ref()
                    .map(|sealed| {
                        let plain =
                            open(&self.keyring, &aad(&id, field), sealed).map_err(|error| {
                                ConnectionError::Sealed {
                                    name: id.clone(),
                                    field,
                                    error,
                                }
                            })?;
                        count += 1;
                        Ok::<_, ConnectionError>(seal(new, &aad(&id, field), &plain))
                    })
                    .transpose()
            };
            let new_secrets = reseal("secrets", &secrets)?;
            let new_tokens = reseal("tokens", &tokens)?;
            changes.push(Reseal {
                id,
                old_secrets: secrets,
                secrets: new_secrets,
                old_tokens: tokens,
                tokens: new_tokens,
            });
        }
        self.store.reseal(changes).await?;
        Ok(count)
    }
}

/// Changes to a stored connection (`PATCH /api/v1/connections/{name}`).
#[derive(Debug, Clone, Default)]
pub struct ConnectionChange {
    /// Non-secret fields to set (`null` removes one).
    pub config: Map<String, Json>,
    /// Secret fields to set (`null` removes one).
    pub secrets: Map<String, Json>,
    pub auth_mode: Option<String>,
    pub base_url: Option<String>,
}

/// Sets each field of `change` in `fields`; a `null` removes the field.
fn merge(fields: &mut Map<String, Json>, change: Map<String, Json>) {
    for (name, value) in change {
        if value.is_null() {
            fields.remove(&name);
        } else {
            fields.insert(name, value);
        }
    }
}

/// Checks config and secret fields against the connector: secrets given as config (or the
/// other way round), an unknown auth mode, and what [`Connection::new`] checks. Every
/// problem is returned at once.
fn validated(
    plan: &Arc<ConnectorPlan>,
    name: &str,
    config: &Map<String, Json>,
    secrets: &Map<String, Json>,
    auth_mode: Option<&str>,
) -> Result<Connection, ConnectionError> {
    let mut problems = Vec::new();
    for field in config.keys() {
        if plan.config.get(field).is_some_and(|f| f.secret) {
            problems.push(format!(
                "config field `{field}` is a secret: pass it with -s (API: in `secrets`); it is then stored encrypted"
            ));
        }
    }
    for field in secrets.keys() {
        if plan.config.get(field).is_some_and(|f| !f.secret) {
            problems.push(format!(
                "config field `{field}` is not a secret: pass it with -c (API: in `config`)"
            ));
        }
    }
    if let Some(mode) = auth_mode
        && !plan.auth.iter().any(|a| a.mode_name() == mode)
    {
        let modes = plan.auth.iter().map(|a| a.mode_name());
        problems.push(format!(
            "connector `{}` has no auth mode `{mode}`{}",
            plan.id,
            did_you_mean_suffix(mode, modes)
        ));
    }
    let mut values = config.clone();
    values.extend(secrets.clone());
    match Connection::new(name.to_string(), plan.clone(), values) {
        Err(more) => problems.extend(more),
        Ok(connection) if problems.is_empty() => return Ok(connection),
        Ok(_) => {}
    }
    Err(ConnectionError::Invalid(problems))
}

fn connector_plan(catalog: &Catalog, name: &str) -> Result<Arc<ConnectorPlan>, ConnectionError> {
    catalog
        .connectors
        .get(name)
        .cloned()
        .ok_or_else(|| ConnectionError::UnknownConnector {
            name: name.to_string(),
            hint: did_you_mean_suffix(name, catalog.connectors.keys().map(String::as_str)),
        })
}

/// The outcome of a connection check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckOutcome {
    Passed,
    /// The connector has no `check`: nothing was called.
    NoCheck,
    /// The check failed; the connection's status became `status`.
    Failed {
        status: &'static str,
        error: String,
    },
}

impl ConnectionService {
    /// Runs the connector's `check` action with the connection and records the outcome
    /// (status, last checked, last error, error count).
    pub async fn check(
        &self,
        interpreter: &crate::interpret::Interpreter,
        row: &ConnectionRow,
        connection: &Connection,
    ) -> Result<CheckOutcome, ConnectionError> {
        let Some(check) = &connection.connector.check else {
            return Ok(CheckOutcome::NoCheck);
        };
        let ctx = crate::runtime::connection_vars(connection).context();
        let mut input = Map::new();
        let mut failure = None;
        for (name, tree) in &check.input {
            match crate::interpret::render::render_tree(tree, &ctx) {
                Ok(value) => {
                    input.insert(name.clone(), value);
                }
                Err(error) => failure = Some(format!("check input `{name}`: {error}")),
            }
        }
        let call = crate::interpret::Call {
            action: check.action.clone(),
            input,
            run: None,
            max_pages: Some(1),
        };
        let outcome = match failure {
            Some(error) => CheckOutcome::Failed {
                status: "error",
                error,
            },
            None => {
                let mut sink = crate::interpret::CollectSink::default();
                match interpreter.call(connection, &call, &mut sink).await {
                    Ok(_) => CheckOutcome::Passed,
                    Err(error) => CheckOutcome::Failed {
                        status: if error.needs_reauth() {
                            "needs_reauth"
                        } else {
                            "error"
                        },
                        error: error.to_string(),
                    },
                }
            }
        };
        let recorded = match &outcome {
            CheckOutcome::Failed { status, error } => Some((*status, error.as_str())),
            _ => None,
        };
        self.store
            .record_connection_outcome(&row.id, true, recorded)
            .await?;
        Ok(outcome)
    }
}

impl ConnectionService {
    /// A connection's OAuth tokens, unsealed; `None` if it has none.
    pub fn tokens(
        &self,
        row: &ConnectionRow,
    ) -> Result<Option<crate::oauth::TokenSet>, ConnectionError> {
        let Some(sealed) = &row.tokens else {
            return Ok(None);
        };
        let sealed_error = |error| ConnectionError::Sealed {
            name: row.name.clone(),
            field: "tokens",
            error,
        };
        let bytes = open(&self.keyring, &aad(&row.id, "tokens"), sealed).map_err(sealed_error)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| sealed_error(SecretError::Malformed))
    }
}
