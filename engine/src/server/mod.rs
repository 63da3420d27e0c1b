//! The HTTP server of `switchyard serve`.
//!
//! Health checks, webhooks (`/hooks/...`), the OAuth callback, `/metrics`, the compiled
//! catalog and the REST API (`/api/v1`, see [`rest`]). Handlers are thin: they read the
//! shared [`AppState`] and never parse YAML.

pub mod api;
mod catalog;
pub mod dashboard;
mod oauth;
pub mod rest;
pub mod webhooks;

use crate::plan::{Catalog, LiveCatalog};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get, post};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub catalog: Arc<LiveCatalog>,
    pub webhook_targets: Arc<dyn webhooks::WebhookTargets>,
    /// The server's URL as providers see it (behind a proxy), for schemes that sign it.
    pub public_url: Option<String>,
    pub webhook_body_limit: usize,
    /// Renders `/metrics`; `None` serves no metrics (404).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Completes OAuth authorizations at `/oauth/callback`; `None`: no OAuth.
    pub oauth: Option<crate::oauth::OAuthFlow>,
    /// For API key checks; `None`: every API route answers 401.
    pub store: Option<crate::store::Store>,
    /// Wakes idle workers when the API queues a run (retry, replay).
    pub wake: Option<Arc<tokio::sync::Notify>>,
}

impl AppState {
    /// State for a catalog, with no webhook connections yet.
    pub fn new(catalog: impl Into<Arc<Catalog>>) -> Self {
        Self::live(LiveCatalog::new(catalog))
    }

    /// State for a catalog that reloads replace.
    pub fn live(catalog: Arc<LiveCatalog>) -> Self {
        AppState {
            catalog,
            webhook_targets: Arc::new(webhooks::NoTargets),
            public_url: None,
            webhook_body_limit: webhooks::DEFAULT_BODY_LIMIT,
            metrics: None,
            oauth: None,
            store: None,
            wake: None,
        }
    }
}

/// The router, built from state so tests can serve it on any listener.
pub fn router(state: AppState) -> Router {
    let hooks = Router::new()
        .route("/hooks/{connector}/{connection}", any(webhooks::deliver))
        .route("/hooks/{workflow}", any(webhooks::deliver_to_workflow))
        .layer(DefaultBodyLimit::max(state.webhook_body_limit));
    Router::new()
        .merge(hooks)
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/api/catalog", get(catalog::catalog))
        .route("/metrics", get(metrics))
        .route("/oauth/callback", get(oauth::callback))
        .route("/oauth/{connector}/connect", get(oauth::connect))
        .route("/api/v1/openapi.json", get(rest::openapi))
        .route("/api/v1/connectors", get(rest::list_connectors))
        .route("/api/v1/connectors/{id}", get(rest::show_connector))
        .route(
            "/api/v1/connections",
            get(rest::list_connections).post(rest::create_connection),
        )
        .route(
            "/api/v1/connections/{name}",
            get(rest::show_connection)
                .patch(rest::update_connection)
                .delete(rest::delete_connection),
        )
        .route(
            "/api/v1/connections/{name}/check",
            post(rest::check_connection),
        )
        .route(
            "/api/v1/connections/{name}/authorize",
            post(rest::authorize_connection),
        )
        .route("/api/v1/workflows", get(rest::list_workflows))
        .route("/api/v1/workflows/{id}", get(rest::show_workflow))
        .route("/api/v1/workflows/{id}/enable", post(rest::enable_workflow))
        .route("/api/v1/workflows/{id}/runs", post(rest::start_run))
        .route(
            "/api/v1/workflows/{id}/disable",
            post(rest::disable_workflow),
        )
        .route("/api/v1/runs", get(rest::list_runs))
        .route("/api/v1/runs/{id}", get(rest::show_run))
        .route("/api/v1/runs/{id}/retry", post(rest::retry_run))
        .route("/api/v1/runs/{id}/replay", post(rest::replay_run))
        .route("/api/v1/events", get(rest::list_events))
        .route("/api/v1/events/{id}", get(rest::show_event))
        .route("/api/v1/summary", get(rest::summary))
        .route("/api/v1/links", get(rest::list_links))
        .merge(dashboard::routes())
        .with_state(state)
}

/// `/readyz`: ready when the database answers (within 2 s), so a load balancer stops
/// sending webhooks to an instance that could not store them.
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some(store) = &state.store else {
        return "ready\n".into_response();
    };
    match tokio::time::timeout(std::time::Duration::from_secs(2), store.ping()).await {
        Ok(Ok(())) => "ready\n".into_response(),
        Ok(Err(error)) => {
            tracing::warn!(%error, "readyz: the database does not answer");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "database unavailable\n",
            )
                .into_response()
        }
        Err(_) => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "database unavailable\n",
        )
            .into_response(),
    }
}

/// `/metrics` in the Prometheus text format.
async fn metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match &state.metrics {
        Some(handle) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            handle.render(),
        )
            .into_response(),
        None => (axum::http::StatusCode::NOT_FOUND, "metrics are off\n").into_response(),
    }
}

/// Serves on `listener` until `shutdown` completes, then finishes in-flight requests.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
