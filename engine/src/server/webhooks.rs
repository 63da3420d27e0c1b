//! `/hooks/{connector}/{connection}`: where providers deliver webhooks.
//!
//! The handler verifies before anything else: an unverifiable delivery gets `401` with a
//! short generic body (the reason goes to the log only), and nothing is parsed for routing
//! or stored. Bodies over the limit get `413` before they are read whole. A verified event
//! is answered `2xx` only after the [`WebhookTargets`] implementation accepted it (stored
//! it durably, in the run engine), so a provider retries anything not kept.

use super::AppState;
use crate::interpret::render::Vars;
use crate::plan::ConnectorPlan;
use crate::webhook::{Event, IncomingRequest, Reception, receive};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::SystemTime;

/// Largest webhook body accepted by default (1 MiB).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// A connection able to receive deliveries.
#[derive(Clone)]
pub struct WebhookTarget {
    pub connector: Arc<ConnectorPlan>,
    /// Connection id, the dedupe scope.
    pub connection: String,
    /// `config` and `secrets` of the connection, for templates.
    pub vars: Vars,
    /// Active webhook secrets (several during a rotation).
    pub keys: Vec<String>,
}

/// What became of a verified event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Stored durably, with its runs queued.
    Accepted,
    /// Its id was seen within the dedupe window: nothing stored, nothing run.
    Duplicate,
    /// Not stored: the run queue is over its limit. The provider should send it again
    /// after `retry_after` seconds.
    Overloaded { retry_after: u32 },
}

/// The future `accept` returns.
pub type AcceptFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Delivery, String>> + Send + 'a>>;

/// Finds the connection a delivery is for, and keeps accepted events.
pub trait WebhookTargets: Send + Sync {
    fn target(&self, connector: &str, connection: &str) -> Option<WebhookTarget>;
    /// Stores an event durably with its dedupe key (for `window`) and queues its runs, all
    /// or nothing. An error makes the delivery fail with 503, so the provider sends it again.
    fn accept<'a>(
        &'a self,
        target: &'a WebhookTarget,
        event: Event,
        window: std::time::Duration,
    ) -> AcceptFuture<'a>;
}

/// No connections: every delivery is answered 404.
pub struct NoTargets;

impl WebhookTargets for NoTargets {
    fn target(&self, _: &str, _: &str) -> Option<WebhookTarget> {
        None
    }
    fn accept<'a>(
        &'a self,
        _: &'a WebhookTarget,
        _: Event,
        _: std::time::Duration,
    ) -> AcceptFuture<'a> {
        Box::pin(async { Err("no run engine".to_string()) })
    }
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], body).into_response()
}

/// `/hooks/{workflow}`: the URL of one workflow's webhook trigger (its connector and
/// connection come from the trigger).
pub async fn deliver_to_workflow(
    State(state): State<AppState>,
    Path(workflow): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let trigger = state
        .catalog
        .current()
        .workflows
        .get(&workflow)
        .map(|w| w.trigger.clone());
    let Some(crate::plan::WorkflowTriggerPlan::Webhook {
        connector,
        connection,
        ..
    }) = trigger
    else {
        return text(StatusCode::NOT_FOUND, "unknown webhook endpoint\n");
    };
    receive_delivery(state, connector, connection, method, uri, headers, body).await
}

pub async fn deliver(
    State(state): State<AppState>,
    Path((connector, connection)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive_delivery(state, connector, connection, method, uri, headers, body).await
}

async fn receive_delivery(
    state: AppState,
    connector: String,
    connection: String,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(target) = state.webhook_targets.target(&connector, &connection) else {
        // Not labelled with the path's names: they are whatever the caller sent.
        crate::metrics::webhook("unknown", "unknown_endpoint");
        return text(StatusCode::NOT_FOUND, "unknown webhook endpoint\n");
    };
    let Some(plan) = target.connector.webhooks.as_ref() else {
        crate::metrics::webhook("unknown", "unknown_endpoint");
        return text(StatusCode::NOT_FOUND, "unknown webhook endpoint\n");
    };
    let metric_connector = target.connector.id.as_str();
    let url = public_url(state.public_url.as_deref(), &headers, &uri);
    let request = IncomingRequest {
        method: method.to_string(),
        url,
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    match receive(
        plan,
        &request,
        &target.vars,
        &target.keys,
        SystemTime::now(),
    ) {
        Reception::Reply {
            status,
            content_type,
            body,
            headers,
        } => {
            tracing::info!(%connector, %connection, status, "webhook handshake answered");
            crate::metrics::webhook(metric_connector, "handshake");
            log(
                &state,
                &target,
                "handshake",
                "answered",
                &format!("HTTP {status}"),
            )
            .await;
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response =
                (status, [(header::CONTENT_TYPE, content_type)], body).into_response();
            for (name, value) in headers {
                if let (Ok(n), Ok(v)) = (
                    header::HeaderName::from_bytes(name.as_bytes()),
                    header::HeaderValue::from_str(&value),
                ) {
                    response.headers_mut().insert(n, v);
                }
            }
            response
        }
        Reception::Rejected(reason) => {
            tracing::warn!(%connector, %connection, %reason, "webhook rejected");
            crate::metrics::webhook_rejected(metric_connector, reason.kind());
            log(
                &state,
                &target,
                "webhook_rejected",
                "rejected",
                &reason.to_string(),
            )
            .await;
            text(StatusCode::UNAUTHORIZED, "invalid signature\n")
        }
        Reception::Invalid(reason) => {
            tracing::warn!(%connector, %connection, %reason, "webhook payload invalid");
            crate::metrics::webhook(metric_connector, "invalid");
            log(
                &state,
                &target,
                "webhook_rejected",
                "invalid",
                &reason.to_string(),
            )
            .await;
            text(StatusCode::BAD_REQUEST, "invalid payload\n")
        }
        Reception::Event(event) => {
            let id = event.id.clone().unwrap_or_default();
            match state
                .webhook_targets
                .accept(&target, event, plan.dedupe_window)
                .await
            {
                Ok(Delivery::Accepted) => {
                    tracing::info!(%connector, %connection, event_id = %id, "webhook accepted");
                    crate::metrics::webhook(metric_connector, "accepted");
                    accepted(plan, "accepted\n")
                }
                Ok(Delivery::Duplicate) => {
                    tracing::info!(%connector, %connection, event_id = %id, "duplicate webhook");
                    crate::metrics::webhook(metric_connector, "duplicate");
                    log(
                        &state,
                        &target,
                        "webhook_duplicate",
                        "duplicate",
                        &format!("event id {id}"),
                    )
                    .await;
                    accepted(plan, "duplicate\n")
                }
                Ok(Delivery::Overloaded { retry_after }) => {
                    tracing::warn!(%connector, %connection, event_id = %id, "webhook refused: the run queue is full");
                    crate::metrics::webhook(metric_connector, "overloaded");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        [
                            (header::CONTENT_TYPE, "text/plain".to_string()),
                            (header::RETRY_AFTER, retry_after.to_string()),
                        ],
                        "the run queue is full; try again later\n",
                    )
                        .into_response()
                }
                Err(error) => {
                    tracing::error!(%connector, %connection, %error, "webhook not stored");
                    crate::metrics::webhook(metric_connector, "error");
                    text(StatusCode::SERVICE_UNAVAILABLE, "try again later\n")
                }
            }
        }
    }
}

/// Records a delivery that did not become an event in the activity log (the dashboard's
/// events page); webhook connections belong to the default tenant.
async fn log(state: &AppState, target: &WebhookTarget, kind: &str, outcome: &str, detail: &str) {
    if let Some(store) = &state.store {
        store
            .add_activity(crate::store::accounts::NewActivity {
                tenant: crate::store::DEFAULT_TENANT,
                kind,
                connector: &target.connector.id,
                connection: &target.connection,
                outcome,
                detail,
            })
            .await;
    }
}

/// The URL the provider called: the configured public base URL (behind a proxy) or the
/// Host header, plus the path and query as received.
fn public_url(public: Option<&str>, headers: &HeaderMap, uri: &Uri) -> String {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    match public {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}{path}")
        }
    }
}

/// The answer to an accepted or duplicate delivery: the connector's `reply`, else `text`.
fn accepted(plan: &crate::plan::WebhookPlan, text_body: &'static str) -> Response {
    match &plan.accepted_reply {
        Some((content_type, body)) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, content_type.clone())],
            body.clone(),
        )
            .into_response(),
        None => text(StatusCode::OK, text_body),
    }
}
