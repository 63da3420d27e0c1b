//! Run and event history: runs (filtered, a page at a time; one run with its steps; retry
//! from the failed step; replay), stored events, and a summary of counts and error rates.
//!
//! Pages are keyset-paginated on indexed columns (`next_cursor` is opaque), so a page costs
//! the same on the first page and the thousandth.

use super::{ApiError, ErrorBody, invalid, not_found, params, store, wake};
use crate::access::{Principal, Scope};
use crate::server::AppState;
use crate::server::api::require;
use crate::store::{EventFilter, EventRecord, NewRun, RunFilter, RunRecord, StepRow};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Page sizes: the default and the most one request may ask for.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

/// A run, without its trigger and steps.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunInfo {
    pub id: String,
    pub workflow: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: String,
    pub error: Option<String>,
    /// The content hash of the workflow version the run started with.
    pub version: String,
    /// The stored event that started it, if an event did.
    pub event: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl From<&RunRecord> for RunInfo {
    fn from(r: &RunRecord) -> Self {
        RunInfo {
            id: r.id.clone(),
            workflow: r.workflow.clone(),
            status: r.status.clone(),
            error: r.error.clone(),
            version: r.spec_hash.clone(),
            event: r.event,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
        }
    }
}

/// A journaled step.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepInfo {
    /// The step's id (`parent[2]/child` inside loops and branches).
    pub id: String,
    /// `succeeded`, `failed` or `skipped`.
    pub status: String,
    pub attempts: u32,
    #[schema(value_type = Option<Object>)]
    pub output: Option<serde_json::Value>,
    pub error: Option<String>,
    pub started_at: i64,
    pub finished_at: i64,
    pub duration_ms: i64,
}

impl From<StepRow> for StepInfo {
    fn from(row: StepRow) -> Self {
        StepInfo {
            id: row.step.step_id,
            status: row.step.status,
            attempts: row.step.attempts,
            output: row.step.output,
            error: row.step.error,
            started_at: row.started_at,
            finished_at: row.finished_at,
            duration_ms: row.finished_at.saturating_sub(row.started_at),
        }
    }
}

/// A run with its trigger and steps.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunInfo,
    /// What started the run (secrets redacted when it was stored).
    #[schema(value_type = Object)]
    pub trigger: serde_json::Value,
    pub steps: Vec<StepInfo>,
}

/// A page of runs, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunPage {
    pub runs: Vec<RunInfo>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Which runs to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunQuery {
    /// Runs of this workflow.
    pub workflow: Option<String>,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub status: Option<String>,
    /// Created at or after this time (RFC 3339, e.g. `2026-11-22T00:00:00Z`).
    pub since: Option<String>,
    /// Created before this time (RFC 3339).
    pub until: Option<String>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Runs per page (1 to 200; default 50).
    pub limit: Option<u32>,
}

/// A stored event, without its payload.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventInfo {
    pub id: i64,
    pub connector: String,
    pub connection: String,
    /// The provider's delivery id, if it sends one.
    pub event_id: Option<String>,
    pub event_type: Option<String>,
    /// Unix ms.
    pub received_at: i64,
}

impl From<&EventRecord> for EventInfo {
    fn from(e: &EventRecord) -> Self {
        EventInfo {
            id: e.id,
            connector: e.connector.clone(),
            connection: e.connection.clone(),
            event_id: e.event_id.clone(),
            event_type: e.event_type.clone(),
            received_at: e.received_at,
        }
    }
}

/// A stored event with its payload, headers and the runs it started.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventInfo,
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// The delivery's headers (signatures and credentials redacted).
    #[schema(value_type = Object)]
    pub headers: serde_json::Value,
    /// The runs it started (at most 200, newest first).
    pub runs: Vec<RunInfo>,
    /// More runs than listed were started (list them with `GET /runs?...`).
    pub runs_truncated: bool,
}

/// A page of events, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<EventInfo>,
    pub next_cursor: Option<String>,
}

/// Which events to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    pub connector: Option<String>,
    pub connection: Option<String>,
    /// The event type (e.g. `issues`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Received at or after this time (RFC 3339).
    pub since: Option<String>,
    pub cursor: Option<String>,
    /// Events per page (1 to 200; default 50).
    pub limit: Option<u32>,
}

/// Runs by status.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RunCounts {
    pub queued: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub total: i64,
}

/// Counts and error rates over a recent window.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryInfo {
    /// The window the counts cover, in hours (`?hours=`, default 24).
    pub window_hours: u32,
    /// Runs created in the window.
    pub runs: RunCounts,
    /// Failed / finished runs in the window; `null` when none finished.
    pub error_rate: Option<f64>,
    /// Events received in the window.
    pub events: i64,
    /// Connections (all), by status.
    #[schema(value_type = Object)]
    pub connections: std::collections::BTreeMap<String, i64>,
    /// Loaded workflows, and how many take triggers (default tenant only).
    pub workflows: i64,
    pub workflows_enabled: i64,
}

/// The summary window.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// Hours back from now (1 to 720; default 24).
    pub hours: Option<u32>,
}

fn limit(given: Option<u32>) -> Result<u32, ApiError> {
    match given {
        None => Ok(DEFAULT_LIMIT),
        Some(n @ 1..=MAX_LIMIT) => Ok(n),
        Some(_) => Err(invalid(format!("`limit` must be 1 to {MAX_LIMIT}"))),
    }
}

fn time(name: &str, given: Option<&str>) -> Result<Option<i64>, ApiError> {
    given
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|t| t.timestamp_millis())
                .map_err(|_| {
                    invalid(format!(
                        "`{name}` must be an RFC 3339 time such as 2026-11-22T09:00:00Z"
                    ))
                })
        })
        .transpose()
}

fn bad_cursor() -> ApiError {
    invalid("`cursor` is not one this API returned")
}

/// A run cursor: the last run's (created_at, id), opaque to clients.
fn run_cursor(run: &RunRecord) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", run.created_at, run.id))
}

fn parse_run_cursor(cursor: &str) -> Result<(i64, String), ApiError> {
    let text = URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad_cursor)?;
    let (at, id) = text.split_once(':').ok_or_else(bad_cursor)?;
    Ok((at.parse().map_err(|_| bad_cursor())?, id.to_string()))
}

const STATUSES: [&str; 4] = ["queued", "running", "succeeded", "failed"];

/// Runs of the key's tenant, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/runs", tag = "runs", params(RunQuery),
    responses((status = 200, body = RunPage), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_runs(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<RunQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    let query = params(query)?;
    if let Some(status) = &query.status
        && !STATUSES.contains(&status.as_str())
    {
        return Err(invalid(format!(
            "`status` must be one of {}",
            STATUSES.join(", ")
        )));
    }
    let limit = limit(query.limit)?;
    let filter = RunFilter {
        tenant: Some(principal.tenant),
        workflow: query.workflow,
        status: query.status,
        event: None,
        since: time("since", query.since.as_deref())?,
        until: time("until", query.until.as_deref())?,
        before: query.cursor.as_deref().map(parse_run_cursor).transpose()?,
        limit,
    };
    let runs = store(&state)?
        .find_runs(&filter)
        .await
        .map_err(ApiError::internal)?;
    let next_cursor = (runs.len() == limit as usize)
        .then(|| runs.last().map(run_cursor))
        .flatten();
    Ok(Json(RunPage {
        runs: runs.iter().map(RunInfo::from).collect(),
        next_cursor,
    })
    .into_response())
}

/// A run of the key's tenant; another tenant's is a 404.
async fn tenant_run(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<RunRecord, ApiError> {
    store(state)?
        .run(id)
        .await
        .map_err(ApiError::internal)?
        .filter(|r| r.tenant == principal.tenant)
        .ok_or_else(|| not_found("such run"))
}

/// One run with its trigger and every journaled step.
#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 200, body = RunDetail), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn show_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    let run = tenant_run(&state, &principal, &id).await?;
    let steps = store(&state)?
        .steps(&run.id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(RunDetail {
        run: RunInfo::from(&run),
        trigger: run.trigger,
        steps: steps.into_iter().map(StepInfo::from).collect(),
    })
    .into_response())
}

/// Queues a failed run again from its failed step: the steps that succeeded are not run
/// again (their journaled outputs are used).
#[utoipa::path(post, path = "/api/v1/runs/{id}/retry", tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 202, body = RunInfo), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn retry_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Write).await?;
    let run = tenant_run(&state, &principal, &id).await?;
    let store = store(&state)?;
    if !store.retry_run(&run.id).await.map_err(ApiError::internal)? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            format!(
                "run `{id}` is {}; only a failed run can be retried",
                run.status
            ),
        ));
    }
    wake(&state);
    let run = tenant_run(&state, &principal, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(RunInfo::from(&run))).into_response())
}

/// Queues a new run of the same workflow with the same trigger. It runs the version the
/// first run started with while the server still holds it, else the current one.
#[utoipa::path(post, path = "/api/v1/runs/{id}/replay", tag = "runs",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 202, body = RunInfo), (status = 404, body = ErrorBody),
              (status = 403, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn replay_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Write).await?;
    let run = tenant_run(&state, &principal, &id).await?;
    let store = store(&state)?;
    let new = store
        .queue_run(&NewRun {
            workflow: run.workflow,
            spec_hash: run.spec_hash,
            trigger: run.trigger,
        })
        .await
        .map_err(ApiError::internal)?;
    wake(&state);
    let run = tenant_run(&state, &principal, &new).await?;
    Ok((StatusCode::ACCEPTED, Json(RunInfo::from(&run))).into_response())
}

/// Stored events of the key's tenant, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventQuery),
    responses((status = 200, body = EventPage), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<EventQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    let query = params(query)?;
    let limit = limit(query.limit)?;
    let before = query
        .cursor
        .as_deref()
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| t.parse::<i64>().ok())
                .ok_or_else(bad_cursor)
        })
        .transpose()?;
    let filter = EventFilter {
        tenant: Some(principal.tenant),
        connector: query.connector,
        connection: query.connection,
        event_type: query.event_type,
        since: time("since", query.since.as_deref())?,
        before,
        limit,
    };
    let events = store(&state)?
        .events(&filter)
        .await
        .map_err(ApiError::internal)?;
    let next_cursor = (events.len() == limit as usize)
        .then(|| {
            events
                .last()
                .map(|e| URL_SAFE_NO_PAD.encode(e.id.to_string()))
        })
        .flatten();
    Ok(Json(EventPage {
        events: events.iter().map(EventInfo::from).collect(),
        next_cursor,
    })
    .into_response())
}

/// One stored event with its payload and the runs it started.
#[utoipa::path(get, path = "/api/v1/events/{id}", tag = "events",
    params(("id" = i64, Path, description = "The event's id")),
    responses((status = 200, body = EventDetail), (status = 404, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn show_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    // A malformed id names no event: the same 404 as a missing one.
    let id: i64 = id.parse().map_err(|_| not_found("such event"))?;
    let store = store(&state)?;
    let event = store
        .event(id)
        .await
        .map_err(ApiError::internal)?
        .filter(|e| e.tenant == principal.tenant)
        .ok_or_else(|| not_found("such event"))?;
    let runs = store
        .find_runs(&RunFilter {
            tenant: Some(principal.tenant),
            event: Some(event.id),
            limit: MAX_LIMIT + 1,
            ..RunFilter::default()
        })
        .await
        .map_err(ApiError::internal)?;
    let runs_truncated = runs.len() > MAX_LIMIT as usize;
    Ok(Json(EventDetail {
        event: EventInfo::from(&event),
        payload: event.payload,
        headers: event.headers,
        runs: runs
            .iter()
            .take(MAX_LIMIT as usize)
            .map(RunInfo::from)
            .collect(),
        runs_truncated,
    })
    .into_response())
}

/// Counts of runs, events and connections for the key's tenant, and the run error rate.
#[utoipa::path(get, path = "/api/v1/summary", tag = "summary", params(SummaryQuery),
    responses((status = 200, body = SummaryInfo), (status = 400, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn summary(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SummaryQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    let hours = match params(query)?.hours {
        None => 24,
        Some(h @ 1..=720) => h,
        Some(_) => return Err(invalid("`hours` must be 1 to 720")),
    };
    let since = crate::store::now_ms() - i64::from(hours) * 3_600_000;
    let counts = store(&state)?
        .summary(&principal.tenant, since)
        .await
        .map_err(ApiError::internal)?;
    let count = |s: &str| counts.runs.get(s).copied().unwrap_or(0);
    let runs = RunCounts {
        queued: count("queued"),
        running: count("running"),
        succeeded: count("succeeded"),
        failed: count("failed"),
        total: counts.runs.values().sum(),
    };
    let finished = runs.succeeded + runs.failed;
    let error_rate = (finished > 0).then(|| runs.failed as f64 / finished as f64);
    let catalog = state.catalog.current();
    let (workflows, workflows_enabled) = if principal.tenant == crate::store::DEFAULT_TENANT {
        (
            catalog.workflows.len() as i64,
            catalog
                .workflows
                .values()
                .filter(|w| state.catalog.is_enabled(w))
                .count() as i64,
        )
    } else {
        (0, 0)
    };
    Ok(Json(SummaryInfo {
        window_hours: hours,
        runs,
        error_rate,
        events: counts.events,
        connections: counts.connections,
        workflows,
        workflows_enabled,
    })
    .into_response())
}
