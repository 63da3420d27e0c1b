//! Run pages: a filterable list paged by (created_at, id) on an index, one run with its
//! trigger and steps, and retry / replay.
//!
//! Values under keys that name credentials are shown as `***` (a run's trigger carries
//! webhook headers, and a step's output whatever the provider answered).

use super::render::{duration, time};
use super::{PageResult, base, not_found, page, redirect_with, require, require_form, unavailable};
use crate::server::AppState;
use crate::store::{NewRun, RunFilter, RunRecord};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Uri};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

const PAGE: u32 = 50;
const STATUSES: [&str; 5] = ["queued", "running", "succeeded", "failed", "cancelled"];

#[derive(serde::Deserialize, Default)]
pub struct RunsQuery {
    workflow: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
    /// `created_at.id` of the last run of the previous page.
    before: Option<String>,
}

/// `2026-11-22T15:04` (a datetime-local input, UTC) as Unix ms.
fn local_time(text: Option<&str>) -> Option<i64> {
    let text = text.filter(|t| !t.is_empty())?;
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<RunsQuery>,
) -> PageResult {
    let session = require(&state, &headers, &uri).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    let nonempty = |v: &Option<String>| v.clone().filter(|s| !s.is_empty());
    let before = query.before.as_deref().and_then(|b| {
        let (at, id) = b.split_once('.')?;
        Some((at.parse::<i64>().ok()?, id.to_string()))
    });
    let filter = RunFilter {
        tenant: Some(session.tenant.clone()),
        workflow: nonempty(&query.workflow),
        status: nonempty(&query.status).filter(|s| STATUSES.contains(&s.as_str())),
        event: None,
        since: local_time(query.since.as_deref()),
        until: local_time(query.until.as_deref()),
        before,
        limit: PAGE + 1,
    };
    let mut runs = store.find_runs(&filter).await.map_err(unavailable)?;
    let more = runs.len() > PAGE as usize;
    runs.truncate(PAGE as usize);
    let next_url = more.then(|| {
        let last = runs
            .last()
            .map(|r| format!("{}.{}", r.created_at, r.id))
            .unwrap_or_default();
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("workflow", &query.workflow),
            ("status", &query.status),
            ("since", &query.since),
            ("until", &query.until),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                pairs.append_pair(k, v);
            }
        }
        pairs.append_pair("before", &last);
        format!("/runs?{}", pairs.finish())
    });
    let catalog = state.catalog.current();
    let workflows: Vec<&String> = if session.tenant == crate::store::DEFAULT_TENANT {
        catalog.workflows.keys().collect()
    } else {
        Vec::new()
    };
    let mut ctx = base(&session, "runs", "Runs", &headers);
    ctx.insert(
        "filters".into(),
        json!({
            "workflow": query.workflow.clone().unwrap_or_default(),
            "status": query.status.clone().unwrap_or_default(),
            "since": query.since.clone().unwrap_or_default(),
            "until": query.until.clone().unwrap_or_default(),
        }),
    );
    ctx.insert("workflows".into(), json!(workflows));
    ctx.insert("statuses".into(), json!(STATUSES));
    ctx.insert(
        "runs".into(),
        Json::Array(runs.iter().map(summary).collect()),
    );
    ctx.insert("next_url".into(), json!(next_url));
    ctx.insert("total_note".into(), Json::Null);
    if runs
        .iter()
        .any(|r| r.status == "running" || r.status == "queued")
    {
        ctx.insert("refresh".into(), json!(5));
    }
    Ok(page("runs.html", ctx))
}

fn summary(r: &RunRecord) -> Json {
    json!({
        "id": r.id,
        "workflow": r.workflow,
        "status": r.status,
        "created": time(Some(r.created_at)),
        "started": time(r.started_at),
        "finished": time(r.finished_at),
        "duration": duration(r.started_at.zip(r.finished_at).map(|(s, f)| f - s)),
        "error": r.error,
    })
}

/// A run of the session's tenant; any other is a 404.
async fn tenant_run(
    state: &AppState,
    tenant: &str,
    id: &str,
) -> Result<RunRecord, axum::response::Response> {
    let store = state.store.as_ref().ok_or_else(not_found)?;
    store
        .run(id)
        .await
        .map_err(unavailable)?
        .filter(|r| r.tenant == tenant)
        .ok_or_else(not_found)
}

pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let session = require(&state, &headers, &uri).await?;
    let run = tenant_run(&state, &session.tenant, &id).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    let steps = store.steps(&run.id).await.map_err(unavailable)?;
    let steps: Vec<Json> = steps
        .iter()
        .map(|s| {
            json!({
                "id": s.step.step_id,
                "status": s.step.status,
                "attempts": s.step.attempts,
                "started": time(Some(s.started_at)),
                "finished": time(Some(s.finished_at)),
                "duration": duration(Some(s.finished_at - s.started_at)),
                "input_json": s.step.input.as_ref().map(pretty),
                "output_json": s.step.output.as_ref().map(pretty),
                "error": s.step.error,
            })
        })
        .collect();
    let mut detail = summary(&run);
    if let Json::Object(map) = &mut detail {
        map.insert("trigger_json".into(), json!(pretty(&run.trigger)));
    }
    let mut ctx = base(&session, "runs", &format!("Run {}", run.id), &headers);
    ctx.insert("run".into(), detail);
    ctx.insert("steps".into(), Json::Array(steps));
    ctx.insert("can_retry".into(), json!(run.status == "failed"));
    ctx.insert(
        "can_replay".into(),
        json!(matches!(
            run.status.as_str(),
            "failed" | "succeeded" | "cancelled"
        )),
    );
    if matches!(run.status.as_str(), "running" | "queued") {
        ctx.insert("refresh".into(), json!(3));
    }
    Ok(page("run.html", ctx))
}

/// Pretty JSON with credential-named values masked.
fn pretty(value: &Json) -> String {
    let masked = mask(value.clone());
    serde_json::to_string_pretty(&masked).unwrap_or_default()
}

fn sensitive(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', '_'], "");
    let contains = [
        "password",
        "passwd",
        "secret",
        "token",
        "authorization",
        "apikey",
        "signature",
        "cookie",
        "privatekey",
        "credential",
    ];
    let exact = ["key", "pwd", "auth", "pin"];
    contains.iter().any(|s| k.contains(s)) || exact.contains(&k.as_str())
}

fn mask(value: Json) -> Json {
    match value {
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if sensitive(&k) && !v.is_null() {
                        json!("***")
                    } else {
                        mask(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Json::Array(items) => Json::Array(items.into_iter().map(mask).collect()),
        other => other,
    }
}

pub async fn retry(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let session = require_form(&state, &headers, &form).await?;
    let run = tenant_run(&state, &session.tenant, &id).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    let target = format!("/runs/{}", run.id);
    if !store.retry_run(&run.id).await.map_err(unavailable)? {
        return Ok(redirect_with(
            &target,
            "error",
            &format!(
                "Run {} is {}; only a failed run can be retried.",
                run.id, run.status
            ),
        ));
    }
    crate::server::rest::wake(&state);
    Ok(redirect_with(
        &target,
        "ok",
        "Queued again from the failed step.",
    ))
}

pub async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let session = require_form(&state, &headers, &form).await?;
    let run = tenant_run(&state, &session.tenant, &id).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    if !matches!(run.status.as_str(), "failed" | "succeeded" | "cancelled") {
        return Ok(redirect_with(
            &format!("/runs/{}", run.id),
            "error",
            &format!(
                "Run {} is {}; replay it when it has finished.",
                run.id, run.status
            ),
        ));
    }
    let new = store
        .queue_run(&NewRun {
            workflow: run.workflow,
            spec_hash: run.spec_hash,
            trigger: run.trigger,
        })
        .await
        .map_err(unavailable)?;
    crate::server::rest::wake(&state);
    Ok(redirect_with(
        &format!("/runs/{new}"),
        "ok",
        &format!("Replay of {id} queued."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_named_values_are_masked_at_any_depth() {
        let shown = pretty(&json!({
            "headers": {"authorization": "Bearer abc", "x-hub-signature-256": "sha256=1", "x-id": "7"},
            "items": [{"api_key": "k", "name": "n", "access_token": null}],
        }));
        assert!(!shown.contains("abc") && !shown.contains("sha256=1") && !shown.contains("\"k\""));
        assert!(shown.contains("\"7\"") && shown.contains("\"n\""));
    }
}
