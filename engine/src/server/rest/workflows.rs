//! Workflows: list, show, switch on and off.
//!
//! Workflows are spec files loaded by the server for the whole installation; their runs
//! belong to the default tenant, so only the default tenant's keys see them (for any other
//! key the list is empty and every workflow a 404).

use super::{ApiError, ErrorBody, not_found, store};
use crate::access::{Principal, Scope};
use crate::plan::{WorkflowPlan, WorkflowTriggerPlan};
use crate::server::AppState;
use crate::server::api::require;
use crate::store::DEFAULT_TENANT;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A loaded workflow.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowInfo {
    pub id: String,
    pub description: Option<String>,
    /// The trigger: `{"webhook": "github.issues"}`, `{"cron": "0 9 * * *", "timezone": ...}`,
    /// `{"poll": "github.new_issue"}` or `{"manual": {}}`.
    #[schema(value_type = Object)]
    pub trigger: serde_json::Value,
    /// Whether it takes triggers now (its switch, else its spec).
    pub enabled: bool,
    /// What its spec says (`enabled:`).
    pub enabled_in_spec: bool,
    /// The content hash of the loaded spec version.
    pub version: String,
    pub steps: Vec<String>,
    /// For webhook triggers: the path deliveries go to on this server.
    pub webhook_path: Option<String>,
    /// For cron triggers: the next nominal firing (Unix ms).
    pub next_firing: Option<i64>,
}

impl WorkflowInfo {
    pub(crate) fn new(state: &AppState, w: &WorkflowPlan) -> Self {
        let (trigger, webhook_path, next_firing) = match &w.trigger {
            WorkflowTriggerPlan::Webhook {
                connector, event, ..
            } => (
                serde_json::json!({ "webhook": format!("{connector}.{event}") }),
                Some(format!("/hooks/{}", w.id)),
                None,
            ),
            WorkflowTriggerPlan::Cron(c) => (
                serde_json::json!({ "cron": c.source, "timezone": c.timezone.name() }),
                None,
                crate::schedule::next_firings(c, chrono::Utc::now(), 1)
                    .first()
                    .map(|t| t.timestamp_millis()),
            ),
            WorkflowTriggerPlan::Poll {
                connector, trigger, ..
            } => (
                serde_json::json!({ "poll": format!("{connector}.{trigger}") }),
                None,
                None,
            ),
            WorkflowTriggerPlan::Manual { .. } => (serde_json::json!({ "manual": {} }), None, None),
        };
        WorkflowInfo {
            id: w.id.clone(),
            description: w.description.clone(),
            trigger,
            enabled: state.catalog.is_enabled(w),
            enabled_in_spec: w.enabled,
            version: w.content_hash.clone(),
            steps: w.steps.iter().map(|s| s.id.clone()).collect(),
            webhook_path,
            next_firing,
        }
    }
}

/// Whether the key's tenant is the one workflows run for.
fn sees_workflows(principal: &Principal) -> bool {
    principal.tenant == DEFAULT_TENANT
}

/// The loaded workflows, by id.
#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows",
    responses((status = 200, body = [WorkflowInfo]), (status = 401, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_workflows(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    let catalog = state.catalog.current();
    let list: Vec<WorkflowInfo> = if sees_workflows(&principal) {
        catalog
            .workflows
            .values()
            .map(|w| WorkflowInfo::new(&state, w))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(list).into_response())
}

/// The workflow `id` of the key's tenant.
fn tenant_workflow(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<std::sync::Arc<WorkflowPlan>, ApiError> {
    state
        .catalog
        .current()
        .workflows
        .get(id)
        .filter(|_| sees_workflows(principal))
        .cloned()
        .ok_or_else(|| not_found("such workflow"))
}

/// One workflow.
#[utoipa::path(get, path = "/api/v1/workflows/{id}", tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id")),
    responses((status = 200, body = WorkflowInfo), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn show_workflow(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    let workflow = tenant_workflow(&state, &principal, &id)?;
    Ok(Json(WorkflowInfo::new(&state, &workflow)).into_response())
}

/// Switches a workflow on: it takes triggers again. A cron schedule starts from now (the
/// firings missed while it was off are not caught up).
#[utoipa::path(post, path = "/api/v1/workflows/{id}/enable", tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id")),
    responses((status = 200, body = WorkflowInfo), (status = 404, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn enable_workflow(
    state: State<AppState>,
    id: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    switch(state, id, headers, true).await
}

/// Switches a workflow off: webhooks are still accepted and stored but start no run of
/// it; cron and polling skip it. Runs already queued finish.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/disable", tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id")),
    responses((status = 200, body = WorkflowInfo), (status = 404, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn disable_workflow(
    state: State<AppState>,
    id: Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    switch(state, id, headers, false).await
}

async fn switch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    enabled: bool,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Write).await?;
    let workflow = tenant_workflow(&state, &principal, &id)?;
    set_switch(&state, store(&state)?, &workflow, enabled)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(WorkflowInfo::new(&state, &workflow)).into_response())
}

/// Switches a workflow on or off: stored (every instance follows it) and applied here. A
/// cron workflow switched back on does not catch up on the firings missed while off.
/// Shared by the API and the dashboard.
pub(crate) async fn set_switch(
    state: &AppState,
    store: &crate::store::Store,
    workflow: &WorkflowPlan,
    enabled: bool,
) -> Result<(), crate::store::StoreError> {
    if enabled
        && !state.catalog.is_enabled(workflow)
        && matches!(workflow.trigger, WorkflowTriggerPlan::Cron(_))
    {
        store
            .set_handled_until(&workflow.id, chrono::Utc::now().timestamp_millis())
            .await?;
    }
    store.set_workflow_enabled(&workflow.id, enabled).await?;
    state.catalog.set_switch(&workflow.id, enabled);
    tracing::info!(workflow = %workflow.id, enabled, "workflow switched");
    Ok(())
}

/// A started run.
#[derive(Debug, Serialize, ToSchema)]
pub struct StartedRun {
    /// The queued run's id (`GET /api/v1/runs/{id}` follows it).
    pub run_id: String,
}

/// Starts a run of a workflow with a `manual` trigger. The body is the trigger's input
/// as a JSON object, checked against its declared types; templates read it as
/// `trigger.payload.<name>`.
#[utoipa::path(post, path = "/api/v1/workflows/{id}/runs", tag = "workflows",
    params(("id" = String, Path, description = "The workflow's id")),
    request_body(content = Object, description = "The manual trigger's input"),
    responses((status = 202, body = StartedRun), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn start_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    use axum::http::StatusCode;
    let principal = require(&state, &headers, Scope::Write).await?;
    let workflow = tenant_workflow(&state, &principal, &id)?;
    let WorkflowTriggerPlan::Manual { input } = &workflow.trigger else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_manual",
            format!("workflow `{id}` is started by its trigger, not by hand"),
        ));
    };
    if !state.catalog.is_enabled(&workflow) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "disabled",
            format!("workflow `{id}` is disabled"),
        ));
    }
    let given = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Map::new()
    } else {
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(serde_json::Value::Object(map)) => map,
            Ok(_) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_input",
                    "the body must be a JSON object of the trigger's inputs",
                ));
            }
            Err(e) => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_json",
                    format!("the body is not JSON: {e}"),
                ));
            }
        }
    };
    let payload =
        crate::interpret::connection::check_values(input, given, &format!("workflow `{id}`"))
            .map_err(|problems| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_input",
                    problems.join("; "),
                )
            })?;
    let store = store(&state)?;
    let run_id = store
        .queue_run(&crate::store::NewRun {
            workflow: workflow.id.clone(),
            spec_hash: workflow.content_hash.clone(),
            trigger: serde_json::json!({ "payload": payload }),
        })
        .await
        .map_err(ApiError::internal)?;
    super::wake(&state);
    Ok((StatusCode::ACCEPTED, Json(StartedRun { run_id })).into_response())
}
