//! Connectors and connections: list, show, create, edit, delete (revoking OAuth tokens),
//! check, and the OAuth authorization URL.
//!
//! Secrets are write-only: they are sealed when received, and no response carries one.

use super::{ApiError, ErrorBody, flow, invalid, not_found, store, tenant_connection};
use crate::access::Scope;
use crate::server::AppState;
use crate::server::api::require;
use crate::store::ConnectionRow;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A connector of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorInfo {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Auth modes (`bearer`, `oauth2`, ...).
    pub auth_modes: Vec<String>,
    pub actions: Vec<String>,
    pub triggers: Vec<String>,
}

impl From<&crate::plan::ConnectorPlan> for ConnectorInfo {
    fn from(c: &crate::plan::ConnectorPlan) -> Self {
        ConnectorInfo {
            id: c.id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            auth_modes: c.auth.iter().map(|a| a.mode_name().to_string()).collect(),
            actions: c.actions.keys().cloned().collect(),
            triggers: c.triggers.keys().cloned().collect(),
        }
    }
}

/// A connection, without secrets: only whether some are stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionInfo {
    pub name: String,
    pub connector: String,
    pub auth_mode: Option<String>,
    /// `active`, `error`, `needs_reauth`, `disconnected` or `revoked`.
    pub status: String,
    /// Non-secret config.
    #[schema(value_type = Object)]
    pub config: serde_json::Map<String, serde_json::Value>,
    pub secrets_stored: bool,
    pub tokens_stored: bool,
    /// Unix ms.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub last_checked_at: Option<i64>,
    pub last_error: Option<String>,
    pub error_count: i64,
}

impl From<&ConnectionRow> for ConnectionInfo {
    fn from(row: &ConnectionRow) -> Self {
        ConnectionInfo {
            name: row.name.clone(),
            connector: row.connector.clone(),
            auth_mode: row.auth_mode.clone(),
            status: row.status.clone(),
            config: row.config.clone(),
            secrets_stored: row.secrets.is_some(),
            tokens_stored: row.tokens.is_some(),
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            last_checked_at: row.last_checked_at,
            last_error: row.last_error.clone(),
            error_count: row.error_count,
        }
    }
}

/// Every connector of the catalog.
#[utoipa::path(get, path = "/api/v1/connectors", tag = "connectors",
    responses((status = 200, body = [ConnectorInfo]), (status = 401, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_connectors(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require(&state, &headers, Scope::Read).await?;
    let catalog = state.catalog.current();
    let list: Vec<ConnectorInfo> = catalog
        .connectors
        .values()
        .map(|c| ConnectorInfo::from(c.as_ref()))
        .collect();
    Ok(Json(list).into_response())
}

/// The key's tenant's connections, by name.
#[utoipa::path(get, path = "/api/v1/connections", tag = "connections",
    responses((status = 200, body = [ConnectionInfo]), (status = 401, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_connections(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    let store = store(&state)?;
    let rows = store
        .connections(Some(&principal.tenant))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(rows.iter().map(ConnectionInfo::from).collect::<Vec<_>>()).into_response())
}

/// One connection of the key's tenant.
#[utoipa::path(get, path = "/api/v1/connections/{name}", tag = "connections",
    params(("name" = String, Path, description = "The connection's name")),
    responses((status = 200, body = ConnectionInfo), (status = 404, body = ErrorBody),
              (status = 401, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn show_connection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    let store = store(&state)?;
    let row = tenant_connection(store, &principal.tenant, &name).await?;
    Ok(Json(ConnectionInfo::from(&row)).into_response())
}

/// Removes a connection of the key's tenant, revoking its OAuth tokens first where the
/// connector names a revocation URL.
#[utoipa::path(delete, path = "/api/v1/connections/{name}", tag = "connections",
    params(("name" = String, Path, description = "The connection's name")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn delete_connection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Write).await?;
    let flow = flow(&state)?;
    let catalog = state.catalog.current();
    let revocation = flow
        .disconnect(&catalog, &principal.tenant, &name)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| not_found("such connection"))?;
    if let crate::oauth::Revocation::Failed(e) = revocation {
        tracing::warn!(connection = %name, error = %e, "tokens not revoked at the provider");
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A connection to create. Secrets are write-only: stored sealed, never returned.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConnection {
    /// Unique within the tenant; workflows refer to it.
    pub name: String,
    pub connector: String,
    /// Non-secret config fields.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Secret config fields (the connector marks which are secret).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub secrets: serde_json::Map<String, serde_json::Value>,
    pub auth_mode: Option<String>,
    pub base_url: Option<String>,
}

/// The outcome of a connection check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResult {
    /// `passed`, `failed` or `no_check` (the connector defines none).
    pub outcome: String,
    /// The connection's status after the check.
    pub status: String,
    pub error: Option<String>,
}

/// Creates a connection in the key's tenant.
#[utoipa::path(post, path = "/api/v1/connections", tag = "connections",
    request_body = CreateConnection,
    responses((status = 201, body = ConnectionInfo), (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn create_connection(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<CreateConnection>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Write).await?;
    let body = super::body(body)?;
    if body.name.is_empty() || body.name.len() > 100 {
        return Err(invalid("`name` must be 1 to 100 characters"));
    }
    let flow = flow(&state)?;
    let catalog = state.catalog.current();
    let new = crate::connections::NewConnection {
        tenant: principal.tenant,
        name: body.name,
        connector: body.connector,
        config: body.config,
        secrets: body.secrets,
        auth_mode: body.auth_mode,
        base_url: body.base_url,
    };
    use crate::connections::ConnectionError as E;
    let row = flow
        .connections
        .add(&catalog, new)
        .await
        .map_err(|e| match e {
            E::Exists(_) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            E::Invalid(_) | E::UnknownConnector { .. } => invalid(e.to_string()),
            e => ApiError::internal(e),
        })?;
    Ok((StatusCode::CREATED, Json(ConnectionInfo::from(&row))).into_response())
}

/// Runs the connector's `check` action with the connection and records the outcome.
#[utoipa::path(post, path = "/api/v1/connections/{name}/check", tag = "connections",
    params(("name" = String, Path, description = "The connection's name")),
    responses((status = 200, body = CheckResult), (status = 404, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn check_connection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Write).await?;
    let flow = flow(&state)?;
    let service = &flow.connections;
    let row = tenant_connection(&service.store, &principal.tenant, &name).await?;
    let catalog = state.catalog.current();
    let connection = service
        .open_live(&catalog, &row, &flow.http)
        .map_err(ApiError::internal)?;
    let interpreter = crate::interpret::Interpreter::new(flow.http.clone(), Default::default());
    use crate::connections::CheckOutcome;
    let checked = service
        .check(&interpreter, &row, &connection)
        .await
        .map_err(ApiError::internal)?;
    let (outcome, status, error) = match checked {
        CheckOutcome::Passed => ("passed", "active".to_string(), None),
        CheckOutcome::NoCheck => ("no_check", row.status, None),
        CheckOutcome::Failed { status, error } => ("failed", status.to_string(), Some(error)),
    };
    Ok(Json(CheckResult {
        outcome: outcome.into(),
        status,
        error,
    })
    .into_response())
}

/// One connector of the catalog.
#[utoipa::path(get, path = "/api/v1/connectors/{id}", tag = "connectors",
    params(("id" = String, Path, description = "The connector's id")),
    responses((status = 200, body = ConnectorInfo), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn show_connector(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require(&state, &headers, Scope::Read).await?;
    let catalog = state.catalog.current();
    let connector = catalog
        .connectors
        .get(&id)
        .ok_or_else(|| not_found("such connector"))?;
    Ok(Json(ConnectorInfo::from(connector.as_ref())).into_response())
}

/// Changes to a connection. Fields given replace the stored ones; `null` removes a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateConnection {
    /// Non-secret config fields to set.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Secret config fields to set (write-only).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub secrets: serde_json::Map<String, serde_json::Value>,
    pub auth_mode: Option<String>,
    pub base_url: Option<String>,
}

/// Edits a connection of the key's tenant (config, secrets, auth mode, base URL).
#[utoipa::path(patch, path = "/api/v1/connections/{name}", tag = "connections",
    params(("name" = String, Path, description = "The connection's name")),
    request_body = UpdateConnection,
    responses((status = 200, body = ConnectionInfo), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn update_connection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    payload: Result<Json<UpdateConnection>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Write).await?;
    let change = super::body(payload)?;
    let flow = flow(&state)?;
    let catalog = state.catalog.current();
    use crate::connections::ConnectionError as E;
    let row = flow
        .connections
        .update(
            &catalog,
            &principal.tenant,
            &name,
            crate::connections::ConnectionChange {
                config: change.config,
                secrets: change.secrets,
                auth_mode: change.auth_mode,
                base_url: change.base_url,
            },
        )
        .await
        .map_err(|e| match e {
            E::NotFound(_) => not_found("such connection"),
            E::Changed(_) => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            E::Invalid(_) | E::UnknownConnector { .. } => invalid(e.to_string()),
            e => ApiError::internal(e),
        })?;
    Ok(Json(ConnectionInfo::from(&row)).into_response())
}

/// Which connector to authorize (needed when the connection does not exist yet).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    pub connector: Option<String>,
}

/// Where to send the user to connect the account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorizeUrl {
    /// The provider's authorization page, with `state` (and PKCE) for this connection.
    pub authorize_url: String,
    /// Seconds the link stays valid; it works once.
    pub expires_in: u64,
}

/// Starts an OAuth authorization for a connection of the key's tenant (new, or to
/// reconnect one) and returns the URL to send the user to. The callback stores the tokens.
#[utoipa::path(post, path = "/api/v1/connections/{name}/authorize", tag = "connections",
    params(("name" = String, Path, description = "The connection's name")),
    request_body = AuthorizeRequest,
    responses((status = 200, body = AuthorizeUrl), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn authorize_connection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    payload: Option<Json<AuthorizeRequest>>,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Write).await?;
    let request = payload.map(|Json(r)| r).unwrap_or_default();
    let store = store(&state)?;
    let existing = store
        .connection(&principal.tenant, &name)
        .await
        .map_err(ApiError::internal)?;
    let connector = match (&existing, request.connector) {
        (Some(row), Some(given)) if given != row.connector => {
            return Err(invalid(format!(
                "connection `{name}` uses connector `{}`, not `{given}`",
                row.connector
            )));
        }
        (Some(row), _) => row.connector.clone(),
        (None, Some(given)) => given,
        (None, None) => {
            return Err(invalid(
                "`connector` is required for a connection that does not exist yet",
            ));
        }
    };
    if name.is_empty() || name.len() > 100 {
        return Err(invalid("the connection name must be 1 to 100 characters"));
    }
    let redirect_uri = crate::server::oauth::callback_url(&state, &headers)?;
    let flow = flow(&state)?;
    let catalog = state.catalog.current();
    let url = flow
        .start(
            &catalog,
            &principal.tenant,
            &connector,
            &name,
            &redirect_uri,
        )
        .await
        .map_err(crate::server::oauth::start_error)?;
    Ok(Json(AuthorizeUrl {
        authorize_url: url,
        expires_in: crate::oauth::STATE_LIFETIME.as_secs(),
    })
    .into_response())
}
