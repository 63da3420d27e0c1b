//! The overview, the catalog, the workflows and the activity log.

use super::render::{ago, time};
use super::{PageResult, base, not_found, page, redirect_with, require, require_form, unavailable};
use crate::plan::{ConnectorTriggerPlan, WorkflowTriggerPlan};
use crate::server::AppState;
use crate::server::rest::WorkflowInfo;
use crate::store::{DEFAULT_TENANT, EventFilter};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, Uri};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap};

const HOUR: i64 = 3_600_000;

pub async fn overview(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> PageResult {
    let session = require(&state, &headers, &uri).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    let now = crate::store::now_ms();
    let since = (now / HOUR - 23) * HOUR;
    // Finished runs per hour from the counters (a few hundred rows, however many runs),
    // queued and running from the status index.
    let finished = store
        .finished_counts(&session.tenant, since)
        .await
        .map_err(unavailable)?;
    let active = store
        .active_counts(&session.tenant)
        .await
        .map_err(unavailable)?;
    let events = store
        .events_since(&session.tenant, since)
        .await
        .map_err(unavailable)?;
    let connection_rows = store
        .connections(Some(&session.tenant))
        .await
        .map_err(unavailable)?;
    let mut hours: Vec<(i64, i64, i64)> = (0..24).map(|i| (since + i * HOUR, 0, 0)).collect();
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    for (hour, _, status, n) in &finished {
        *by_status.entry(status.clone()).or_default() += n;
        if let Some(slot) = hours.iter_mut().find(|h| h.0 == *hour) {
            match status.as_str() {
                "succeeded" => slot.1 += n,
                "failed" => slot.2 += n,
                _ => {}
            }
        }
    }
    for (status, n) in active {
        *by_status.entry(status).or_default() += n;
    }
    let mut connections_by_status: BTreeMap<String, i64> = BTreeMap::new();
    for row in &connection_rows {
        *connections_by_status.entry(row.status.clone()).or_default() += 1;
    }
    let max = hours.iter().map(|h| h.1 + h.2).max().unwrap_or(0).max(1);
    let count = |map: &BTreeMap<String, i64>, key: &str| map.get(key).copied().unwrap_or(0);
    let runs: serde_json::Map<String, Json> =
        ["succeeded", "failed", "running", "queued", "cancelled"]
            .iter()
            .map(|k| (k.to_string(), json!(count(&by_status, k))))
            .collect();
    let done = count(&by_status, "succeeded") + count(&by_status, "failed");
    let error_rate = (done > 0).then(|| count(&by_status, "failed") as f64 / done as f64);
    let connections: serde_json::Map<String, Json> =
        ["active", "error", "needs_reauth", "disconnected", "revoked"]
            .iter()
            .map(|k| (k.to_string(), json!(count(&connections_by_status, k))))
            .collect();
    let mut ctx = base(&session, "overview", "Overview", &headers);
    ctx.insert(
        "summary".into(),
        json!({ "runs": runs, "error_rate": error_rate, "events": events, "connections": connections }),
    );
    ctx.insert(
        "hours".into(),
        Json::Array(
            hours
                .iter()
                .map(|(start, ok, failed)| {
                    let label = chrono::DateTime::from_timestamp_millis(*start)
                        .map(|t| t.format("%H:00").to_string())
                        .unwrap_or_default();
                    json!({ "label": label, "succeeded": ok, "failed": failed })
                })
                .collect(),
        ),
    );
    ctx.insert("max_per_hour".into(), json!(max));
    ctx.insert("refresh".into(), json!(30));
    Ok(page("overview.html", ctx))
}

pub async fn catalog(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> PageResult {
    let session = require(&state, &headers, &uri).await?;
    let catalog = state.catalog.current();
    let connectors: Vec<Json> = catalog
        .connectors
        .values()
        .map(|c| {
            json!({
                "id": c.id,
                "name": c.name,
                "description": c.description,
                "categories": Vec::<String>::new(),
                "auth_modes": c.auth.iter().map(|a| a.mode_name()).collect::<Vec<_>>(),
                "actions": c.actions.iter().map(|(name, a)| json!({ "name": name, "description": a.description })).collect::<Vec<_>>(),
                "triggers": c.triggers.iter().map(|(name, t)| {
                    let (kind, description) = match t {
                        ConnectorTriggerPlan::Webhook { .. } => ("webhook", None),
                        ConnectorTriggerPlan::Poll(_) => ("poll", None::<String>),
                    };
                    json!({ "name": name, "kind": kind, "description": description })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut ctx = base(&session, "catalog", "Catalog", &headers);
    ctx.insert("connectors".into(), Json::Array(connectors));
    Ok(page("catalog.html", ctx))
}

pub async fn workflows(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> PageResult {
    let session = require(&state, &headers, &uri).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    let catalog = state.catalog.current();
    // Workflows run for the default tenant; other tenants see none.
    let visible = session.tenant == DEFAULT_TENANT;
    let now = crate::store::now_ms();
    // The last 24 hours of finished runs, by workflow (hour-aligned counters).
    let counts: Vec<(String, String, i64)> = if visible {
        store
            .finished_counts(&session.tenant, now - 23 * HOUR)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|(_, workflow, status, n)| (workflow, status, n))
            .collect()
    } else {
        Vec::new()
    };
    let public = state.public_url.clone().or_else(|| {
        headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|h| format!("http://{h}"))
    });
    let mut list = Vec::new();
    for w in catalog.workflows.values().filter(|_| visible) {
        let info = WorkflowInfo::new(&state, w);
        let last = store
            .find_runs(&crate::store::RunFilter {
                tenant: Some(session.tenant.clone()),
                workflow: Some(w.id.clone()),
                limit: 1,
                ..Default::default()
            })
            .await
            .map_err(unavailable)?;
        let of = |status: &str| {
            counts
                .iter()
                .filter(|(wf, s, _)| wf == &w.id && s == status)
                .map(|(_, _, n)| n)
                .sum::<i64>()
        };
        let (ok, failed) = (of("succeeded"), of("failed"));
        let runs_24h: i64 = counts
            .iter()
            .filter(|(wf, _, _)| wf == &w.id)
            .map(|(_, _, n)| n)
            .sum();
        let trigger = match &w.trigger {
            WorkflowTriggerPlan::Webhook {
                connector, event, ..
            } => format!("webhook {connector}.{event}"),
            WorkflowTriggerPlan::Cron(c) => format!("cron {} ({})", c.source, c.timezone.name()),
            WorkflowTriggerPlan::Poll {
                connector, trigger, ..
            } => format!("poll {connector}.{trigger}"),
            WorkflowTriggerPlan::Manual { .. } => "manual".into(),
        };
        list.push(json!({
            "id": w.id,
            "description": w.description,
            "trigger": trigger,
            "enabled": info.enabled,
            "next_fire": time(info.next_firing),
            "last_status": last.first().map(|r| r.status.clone()),
            "success_rate": if ok + failed > 0 { format!("{} %", ok * 100 / (ok + failed)) } else { "—".into() },
            "runs_24h": runs_24h,
            "webhook_url": info.webhook_path.as_ref().zip(public.as_ref()).map(|(p, base)| format!("{}{p}", base.trim_end_matches('/'))),
        }));
    }
    let mut ctx = base(&session, "workflows", "Workflows", &headers);
    ctx.insert("workflows".into(), Json::Array(list));
    Ok(page("workflows.html", ctx))
}

pub async fn enable(
    state: State<AppState>,
    id: Path<String>,
    headers: HeaderMap,
    form: Form<HashMap<String, String>>,
) -> PageResult {
    switch(state, id, headers, form, true).await
}

pub async fn disable(
    state: State<AppState>,
    id: Path<String>,
    headers: HeaderMap,
    form: Form<HashMap<String, String>>,
) -> PageResult {
    switch(state, id, headers, form, false).await
}

async fn switch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
    enabled: bool,
) -> PageResult {
    let session = require_form(&state, &headers, &form).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    let workflow = state
        .catalog
        .current()
        .workflows
        .get(&id)
        .filter(|_| session.tenant == DEFAULT_TENANT)
        .cloned()
        .ok_or_else(not_found)?;
    crate::server::rest::set_switch(&state, store, &workflow, enabled)
        .await
        .map_err(unavailable)?;
    let word = if enabled { "enabled" } else { "disabled" };
    Ok(redirect_with(
        "/workflows",
        "ok",
        &format!("`{id}` is {word}."),
    ))
}

#[derive(serde::Deserialize)]
pub struct EventsQuery {
    kind: Option<String>,
    ev_before: Option<i64>,
    act_before: Option<i64>,
}

const ACTIVITY_KINDS: [&str; 5] = [
    "webhook_rejected",
    "webhook_duplicate",
    "handshake",
    "token_refresh",
    "connection_check",
];

/// Received webhooks (stored events) and the activity log, newest first, merged.
pub async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<EventsQuery>,
) -> PageResult {
    let session = require(&state, &headers, &uri).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    const PAGE: usize = 50;
    let kind = query
        .kind
        .filter(|k| k == "webhook" || ACTIVITY_KINDS.contains(&k.as_str()));
    let want_webhooks = kind.as_deref().is_none_or(|k| k == "webhook");
    let activity_kind = kind.as_deref().filter(|k| *k != "webhook");
    let received = if want_webhooks {
        store
            .events(&EventFilter {
                tenant: Some(session.tenant.clone()),
                before: query.ev_before,
                limit: PAGE as u32,
                ..Default::default()
            })
            .await
            .map_err(unavailable)?
    } else {
        Vec::new()
    };
    let activity = if kind.as_deref() == Some("webhook") {
        Vec::new()
    } else {
        store
            .activity(
                &session.tenant,
                activity_kind,
                query.act_before,
                PAGE as u32,
            )
            .await
            .map_err(unavailable)?
    };
    // (time, is_event, id, entry)
    let mut merged: Vec<(i64, bool, i64, Json)> = Vec::new();
    let now = crate::store::now_ms();
    for e in &received {
        merged.push((
            e.received_at,
            true,
            e.id,
            json!({
                "at": format!("{} ({})", time(Some(e.received_at)).unwrap_or_default(), ago(Some(e.received_at), now).unwrap_or_default()),
                "kind": "webhook",
                "connector": e.connector,
                "connection": e.connection,
                "outcome": "accepted",
                "detail": e.event_type.clone().unwrap_or_default(),
                "link": Json::Null,
            }),
        ));
    }
    for a in &activity {
        merged.push((
            a.at,
            false,
            a.id,
            json!({
                "at": format!("{} ({})", time(Some(a.at)).unwrap_or_default(), ago(Some(a.at), now).unwrap_or_default()),
                "kind": a.kind,
                "connector": a.connector,
                "connection": a.connection,
                "outcome": a.outcome,
                "detail": a.detail,
                "link": Json::Null,
            }),
        ));
    }
    merged.sort_by(|a, b| b.0.cmp(&a.0).then(b.2.cmp(&a.2)));
    let more = received.len() == PAGE || activity.len() == PAGE || merged.len() > PAGE;
    merged.truncate(PAGE);
    let ev_next = merged
        .iter()
        .filter(|m| m.1)
        .map(|m| m.2)
        .min()
        .or(query.ev_before);
    let act_next = merged
        .iter()
        .filter(|m| !m.1)
        .map(|m| m.2)
        .min()
        .or(query.act_before);
    let next_url = more.then(|| {
        let mut url = String::from("/events?");
        if let Some(k) = &kind {
            url.push_str(&format!("kind={k}&"));
        }
        if let Some(e) = ev_next {
            url.push_str(&format!("ev_before={e}&"));
        }
        if let Some(a) = act_next {
            url.push_str(&format!("act_before={a}"));
        }
        url
    });
    let mut kinds = vec!["webhook"];
    kinds.extend(ACTIVITY_KINDS);
    let mut ctx = base(&session, "events", "Events", &headers);
    ctx.insert("kinds".into(), json!(kinds));
    ctx.insert("filter".into(), json!(kind.unwrap_or_default()));
    ctx.insert(
        "entries".into(),
        Json::Array(merged.into_iter().map(|m| m.3).collect()),
    );
    ctx.insert("next_url".into(), json!(next_url));
    Ok(page("events.html", ctx))
}
