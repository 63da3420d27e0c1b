//! Connection pages: the list with status and last error, adding one (a form built from
//! the connector's config fields, or the OAuth redirect), checking, reconnecting and
//! disconnecting (after a confirmation page).
//!
//! Secret fields are password inputs and are never shown back, not even after an error.

use super::{PageResult, base, not_found, page, redirect_with, require, require_form, unavailable};
use crate::connections::{CheckOutcome, ConnectionChange, ConnectionError, NewConnection};
use crate::plan::{AuthPlan, ConnectorPlan};
use crate::server::AppState;
use crate::store::accounts::NewActivity;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// A connection name as one URL path segment (names made through the API may hold `/`).
fn segment(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn first_letter(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default()
}

fn is_oauth(plan: &ConnectorPlan, mode: Option<&str>) -> bool {
    let chosen = match mode {
        Some(m) => plan.auth.iter().find(|a| a.mode_name() == m),
        None => plan.auth.first(),
    };
    matches!(chosen, Some(AuthPlan::OAuth2(p)) if p.authorize_url.is_some())
}

pub async fn list(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> PageResult {
    let session = require(&state, &headers, &uri).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    let rows = store
        .connections(Some(&session.tenant))
        .await
        .map_err(unavailable)?;
    let catalog = state.catalog.current();
    let now = crate::store::now_ms();
    // Last sync: the latest poll of a workflow polling through the connection (workflows
    // run for the default tenant).
    let polls = if session.tenant == crate::store::DEFAULT_TENANT {
        store.poll_times().await.map_err(unavailable)?
    } else {
        Vec::new()
    };
    let last_sync = |name: &str| {
        polls
            .iter()
            .filter(|(workflow, _)| {
                catalog.workflows.get(workflow).is_some_and(|w| {
                    matches!(&w.trigger, crate::plan::WorkflowTriggerPlan::Poll { connection, .. } if connection == name)
                })
            })
            .map(|(_, at)| *at)
            .max()
    };
    let connections: Vec<Json> = rows
        .iter()
        .map(|row| {
            let plan = catalog.connectors.get(&row.connector);
            json!({
                "name": row.name,
                "path": segment(&row.name),
                "connector": row.connector,
                "connector_name": plan.map_or(row.connector.as_str(), |p| p.name.as_str()),
                "initial": first_letter(plan.map_or(row.connector.as_str(), |p| p.name.as_str())),
                "status": row.status,
                "auth_mode": row.auth_mode,
                "oauth": plan.is_some_and(|p| is_oauth(p, row.auth_mode.as_deref())),
                "last_used": super::render::ago(row.last_used_at, now),
                "last_checked": super::render::ago(row.last_checked_at, now),
                "last_sync": super::render::ago(last_sync(&row.name), now),
                "last_error": row.last_error,
                "error_count": row.error_count,
            })
        })
        .collect();
    let mut ctx = base(&session, "connections", "Connections", &headers);
    ctx.insert("connections".into(), Json::Array(connections));
    Ok(page("connections.html", ctx))
}

#[derive(serde::Deserialize)]
pub struct NewQuery {
    connector: Option<String>,
}

pub async fn new_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(query): Query<NewQuery>,
) -> PageResult {
    let session = require(&state, &headers, &uri).await?;
    let catalog = state.catalog.current();
    let plan = query
        .connector
        .as_deref()
        .and_then(|id| catalog.connectors.get(id))
        .ok_or_else(not_found)?;
    Ok(form_page(
        &session,
        &headers,
        plan,
        json!({}),
        None,
        StatusCode::OK,
    ))
}

fn form_page(
    session: &super::auth::Session,
    headers: &HeaderMap,
    plan: &ConnectorPlan,
    values: Json,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let modes: Vec<Json> = plan
        .auth
        .iter()
        .map(|a| {
            let name = a.mode_name();
            json!({
                "name": name,
                "label": name.replace('_', " "),
                "oauth": matches!(a, AuthPlan::OAuth2(p) if p.authorize_url.is_some()),
            })
        })
        .collect();
    let fields: Vec<Json> = plan
        .config
        .iter()
        .map(|(name, f)| {
            json!({
                "name": name,
                "description": f.description,
                "secret": f.secret,
                "required": f.required,
                "default": f.default.as_ref().map(|d| match d { Json::String(s) => s.clone(), other => other.to_string() }),
            })
        })
        .collect();
    let mut ctx = base(
        session,
        "connections",
        &format!("Connect {}", plan.name),
        headers,
    );
    ctx.insert(
        "connector".into(),
        json!({ "id": plan.id, "name": plan.name, "description": plan.description }),
    );
    ctx.insert("modes".into(), Json::Array(modes));
    ctx.insert("fields".into(), Json::Array(fields));
    ctx.insert("values".into(), values);
    ctx.insert("error".into(), json!(error));
    let mut response = page("connection_new.html", ctx);
    *response.status_mut() = status;
    response
}

/// Starts the OAuth flow of a connection: the redirect to the provider, or why it could
/// not start (for the caller's page).
async fn to_provider(
    state: &AppState,
    headers: &HeaderMap,
    tenant: &str,
    connector: &str,
    name: &str,
) -> Result<Result<Response, String>, Response> {
    let flow = state.oauth.as_ref().ok_or_else(not_found)?;
    let redirect_uri =
        crate::server::oauth::callback_url(state, headers).map_err(|e| e.into_response())?;
    let catalog = state.catalog.current();
    Ok(
        match flow
            .start(&catalog, tenant, connector, name, &redirect_uri)
            .await
        {
            Ok(url) => {
                Ok((StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, url)]).into_response())
            }
            Err(e) => Err(e.to_string()),
        },
    )
}

/// Creates a connection from the form, or starts the OAuth flow for an OAuth mode.
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let session = require_form(&state, &headers, &form).await?;
    let flow = state.oauth.as_ref().ok_or_else(not_found)?;
    let catalog = state.catalog.current();
    let plan = form
        .get("connector")
        .and_then(|id| catalog.connectors.get(id))
        .ok_or_else(not_found)?
        .clone();
    let name = form.get("name").map(|n| n.trim()).unwrap_or("").to_string();
    let mode = form.get("auth_mode").filter(|m| !m.is_empty()).cloned();
    // What the user typed, minus secrets, to show the form again after an error.
    let mut values = serde_json::Map::new();
    values.insert("name".into(), json!(name));
    values.insert("auth_mode".into(), json!(mode));
    let valid_name = !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-');
    let again = |values: serde_json::Map<String, Json>, error: String| {
        form_page(
            &session,
            &headers,
            &plan,
            Json::Object(values),
            Some(error),
            StatusCode::BAD_REQUEST,
        )
    };
    if !valid_name {
        return Ok(again(
            values,
            "The name must be lower-case letters, digits and `-` (e.g. `acme-slack`).".into(),
        ));
    }
    if is_oauth(&plan, mode.as_deref()) {
        // The callback stores tokens by name: never over another connection.
        let taken = flow
            .connections
            .store
            .connection(&session.tenant, &name)
            .await
            .map_err(unavailable)?
            .is_some();
        if taken {
            return Ok(again(
                values,
                format!("A connection named `{name}` exists already; reconnect it from the list."),
            ));
        }
        return match to_provider(&state, &headers, &session.tenant, &plan.id, &name).await? {
            Ok(redirect) => Ok(redirect),
            Err(e) => Ok(again(values, e)),
        };
    }
    let mut config = serde_json::Map::new();
    let mut secrets = serde_json::Map::new();
    for (field, spec) in &plan.config {
        let Some(value) = form
            .get(&format!("field.{field}"))
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        if spec.secret {
            secrets.insert(field.clone(), json!(value));
        } else {
            values.insert(format!("field.{field}"), json!(value));
            config.insert(
                field.clone(),
                crate::interpret::connection::coerce(spec.value_type, json!(value)),
            );
        }
    }
    let reconnecting = form.get("existing").is_some_and(|v| v == "1");
    let result = if reconnecting {
        flow.connections
            .update(
                &catalog,
                &session.tenant,
                &name,
                ConnectionChange {
                    config,
                    secrets,
                    auth_mode: mode,
                    base_url: None,
                },
            )
            .await
    } else {
        flow.connections
            .add(
                &catalog,
                NewConnection {
                    tenant: session.tenant.clone(),
                    name: name.clone(),
                    connector: plan.id.clone(),
                    config,
                    secrets,
                    auth_mode: mode,
                    base_url: None,
                },
            )
            .await
    };
    match result {
        Ok(_) => Ok(redirect_with(
            "/connections",
            "ok",
            &format!("`{name}` is saved. Check it to see that the credentials work."),
        )),
        Err(ConnectionError::Store(e)) => Err(unavailable(e)),
        Err(e) => Ok(again(values, e.to_string())),
    }
}

/// Runs the connector's check and records it in the activity log.
pub async fn check(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let session = require_form(&state, &headers, &form).await?;
    let flow = state.oauth.as_ref().ok_or_else(not_found)?;
    let service = &flow.connections;
    let row = service
        .store
        .connection(&session.tenant, &name)
        .await
        .map_err(unavailable)?
        .ok_or_else(not_found)?;
    let catalog = state.catalog.current();
    let connection = match service.open_live(&catalog, &row, &flow.http) {
        Ok(c) => c,
        Err(e) => return Ok(redirect_with("/connections", "error", &e.to_string())),
    };
    let interpreter = crate::interpret::Interpreter::new(flow.http.clone(), Default::default());
    let outcome = service
        .check(&interpreter, &row, &connection)
        .await
        .map_err(unavailable)?;
    let (outcome_name, detail, kind, text) = match &outcome {
        CheckOutcome::Passed => (
            "ok",
            "the check passed".to_string(),
            "ok",
            format!("`{name}` works."),
        ),
        CheckOutcome::NoCheck => (
            "ok",
            "the connector has no check".to_string(),
            "ok",
            format!("`{name}`: its connector has no check."),
        ),
        CheckOutcome::Failed { error, .. } => (
            "failed",
            error.clone(),
            "error",
            format!("`{name}` failed its check: {error}"),
        ),
    };
    service
        .store
        .add_activity(NewActivity {
            tenant: &session.tenant,
            kind: "connection_check",
            connector: &row.connector,
            connection: &row.name,
            outcome: outcome_name,
            detail: &detail,
        })
        .await;
    Ok(redirect_with("/connections", kind, &text))
}

/// OAuth connections go back to the provider; others get the form again (new secrets).
pub async fn reconnect(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let session = require_form(&state, &headers, &form).await?;
    let flow = state.oauth.as_ref().ok_or_else(not_found)?;
    let row = flow
        .connections
        .store
        .connection(&session.tenant, &name)
        .await
        .map_err(unavailable)?
        .ok_or_else(not_found)?;
    let catalog = state.catalog.current();
    let plan = catalog
        .connectors
        .get(&row.connector)
        .ok_or_else(not_found)?;
    if is_oauth(plan, row.auth_mode.as_deref()) {
        return match to_provider(&state, &headers, &session.tenant, &plan.id, &name).await? {
            Ok(redirect) => Ok(redirect),
            Err(e) => Ok(redirect_with("/connections", "error", &e)),
        };
    }
    let mut values = serde_json::Map::new();
    values.insert("name".into(), json!(row.name));
    values.insert("auth_mode".into(), json!(row.auth_mode));
    values.insert("existing".into(), json!("1"));
    for (k, v) in &row.config {
        values.insert(format!("field.{k}"), v.clone());
    }
    Ok(form_page(
        &session,
        &headers,
        plan,
        Json::Object(values),
        None,
        StatusCode::OK,
    ))
}

pub async fn disconnect_page(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> PageResult {
    let session = require(&state, &headers, &uri).await?;
    let store = state.store.as_ref().ok_or_else(not_found)?;
    store
        .connection(&session.tenant, &name)
        .await
        .map_err(unavailable)?
        .ok_or_else(not_found)?;
    let mut ctx = base(&session, "connections", "Disconnect", &headers);
    ctx.insert(
        "message".into(),
        json!(format!(
            "Disconnect `{name}`? Its credentials are deleted (and OAuth tokens revoked at the provider); workflows that use it fail until it is connected again."
        )),
    );
    ctx.insert(
        "action".into(),
        json!(format!("/connections/{}/disconnect", segment(&name))),
    );
    ctx.insert("button".into(), json!("Disconnect"));
    ctx.insert("cancel".into(), json!("/connections"));
    Ok(page("confirm.html", ctx))
}

pub async fn disconnect(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let session = require_form(&state, &headers, &form).await?;
    let flow = state.oauth.as_ref().ok_or_else(not_found)?;
    let catalog = state.catalog.current();
    let revocation = flow
        .disconnect(&catalog, &session.tenant, &name)
        .await
        .map_err(unavailable)?
        .ok_or_else(not_found)?;
    let text = match revocation {
        crate::oauth::Revocation::Failed(e) => {
            tracing::warn!(connection = %name, error = %e, "tokens not revoked at the provider");
            format!("`{name}` is disconnected; the provider did not confirm the token revocation.")
        }
        _ => format!("`{name}` is disconnected."),
    };
    Ok(redirect_with("/connections", "ok", &text))
}
