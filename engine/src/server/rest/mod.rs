//! The REST API under `/api/v1`: JSON, API keys, one tenant per key. The OpenAPI 3.1
//! document is generated from these handlers and types (`/api/v1/openapi.json`, checked in
//! as `docs/openapi.json`; a test fails on drift).
//!
//! Every query is scoped by the key's tenant: another tenant's resource is a 404, the same
//! as one that does not exist. Secrets are write-only: no response carries one. Errors are
//! `{"error": {"code", "message"}}` and never carry SQL, paths or stack traces.

mod connections;
mod history;
mod links;
mod workflows;

pub use connections::*;
pub use history::*;
pub use links::*;
pub use workflows::*;

use super::AppState;
use super::api::ApiError;
use crate::store::ConnectionRow;
use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

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

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
}

/// A JSON body, or a 400 saying what is wrong with it.
fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(b)| b).map_err(|r| invalid(r.body_text()))
}

/// Query parameters, or a 400 saying which one is wrong.
fn params<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query.map(|Query(q)| q).map_err(|r| invalid(r.body_text()))
}

/// Wakes idle workers for a run just queued (a retry, a replay).
/// Wakes an idle worker after a run was queued (API and dashboard).
pub(crate) fn wake(state: &AppState) {
    if let Some(wake) = &state.wake {
        wake.notify_one();
    }
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

/// The OpenAPI document of this API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Switchyard API", description = "Connections, connectors, runs. Every request needs `Authorization: Bearer sy_...`; a key reaches one tenant."),
    paths(list_connectors, show_connector, list_connections, create_connection, show_connection,
          update_connection, delete_connection, check_connection, authorize_connection,
          list_workflows, show_workflow, enable_workflow, disable_workflow, start_run,
          list_runs, show_run, retry_run, replay_run, list_events, show_event, summary,
          list_links),
    components(schemas(ConnectorInfo, ConnectionInfo, CreateConnection, UpdateConnection,
                       CheckResult, AuthorizeRequest, AuthorizeUrl, WorkflowInfo, RunInfo,
                       RunDetail, StepInfo, RunPage, EventInfo, EventDetail, EventPage,
                       SummaryInfo, RunCounts, LinkInfo, StartedRun, ErrorBody, ErrorDetail)),
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
