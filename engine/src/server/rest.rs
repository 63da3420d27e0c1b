//! The REST API under `/api/v1`: JSON, API keys, one tenant per key. The OpenAPI 3.1
//! document is generated from these handlers and types (`/api/v1/openapi.json`, checked in
//! as `docs/openapi.json`; a test fails on drift).
//!
//! Every query is scoped by the key's tenant: another tenant's resource is a 404, the same
//! as one that does not exist. Secrets are write-only: no response carries one.

use super::AppState;
use super::api::{ApiError, require};
use crate::access::Scope;
use crate::store::ConnectionRow;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

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

/// The error body of every API error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable code: `unauthorized`, `forbidden`, `not_found`, `invalid_request`, `unavailable`.
    pub code: String,
    pub message: String,
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no {what}"))
}

fn store(state: &AppState) -> Result<&crate::store::Store, ApiError> {
    state
        .store
        .as_ref()
        .ok_or_else(|| ApiError::internal("the API has no store"))
}

fn flow(state: &AppState) -> Result<&crate::oauth::OAuthFlow, ApiError> {
    state
        .oauth
        .as_ref()
        .ok_or_else(|| ApiError::internal("the API has no connection service"))
}

/// A connection of `tenant`; another tenant's is a 404 like a missing one.
async fn tenant_connection(
    store: &crate::store::Store,
    tenant: &str,
    name: &str,
) -> Result<ConnectionRow, ApiError> {
    store
        .connection(tenant, name)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| not_found("such connection"))
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
        .map(|c| ConnectorInfo {
            id: c.id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            auth_modes: c.auth.iter().map(|a| a.mode_name().to_string()).collect(),
            actions: c.actions.keys().cloned().collect(),
            triggers: c.triggers.keys().cloned().collect(),
        })
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
    let Json(body) = body.map_err(|rejection| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            rejection.body_text(),
        )
    })?;
    if body.name.is_empty() || body.name.len() > 100 {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "`name` must be 1 to 100 characters",
        ));
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
            E::Invalid(_) | E::UnknownConnector { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.to_string())
            }
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
    let connection = service.open(&catalog, &row).map_err(ApiError::internal)?;
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

/// The OpenAPI document of this API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Switchyard API", description = "Connections, connectors, runs. Every request needs `Authorization: Bearer sy_...`; a key reaches one tenant."),
    paths(list_connectors, list_connections, create_connection, show_connection, delete_connection, check_connection),
    components(schemas(ConnectorInfo, ConnectionInfo, CreateConnection, CheckResult, ErrorBody, ErrorDetail)),
    modifiers(&ApiKeyScheme)
)]
pub struct ApiDoc;

struct ApiKeyScheme;

impl utoipa::Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as pretty JSON (served, and checked in as `docs/openapi.json`).
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc.to_pretty_json().unwrap_or_else(|_| "{}".into()) + "\n"
}

/// `GET /api/v1/openapi.json`
pub async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        openapi_json(),
    )
        .into_response()
}
