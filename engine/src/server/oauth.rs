//! `GET /oauth/callback`: where providers send the user back after an authorization.
//!
//! Every outcome is a small readable page: connected, refused by the user or the provider
//! (`error=access_denied`), or a link that is unknown, used or expired. Never a 500 with
//! internals, never a token.

use super::AppState;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\">\
         <h1>{t}</h1><p>{x}</p></body></html>",
        t = escape(title),
        x = escape(text)
    );
    (status, Html(html)).into_response()
}

pub async fn callback(
    State(state): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(flow) = &state.oauth else {
        return page(
            StatusCode::NOT_FOUND,
            "Not available",
            "OAuth is not set up on this server.",
        );
    };
    if let Some(error) = query.get("error") {
        // The user said no, or the provider refused; the pending authorization is dropped.
        if let Some(s) = query.get("state") {
            let _ = flow.abandon(s).await;
        }
        let code: String = error
            .chars()
            .take(64)
            .filter(|c| c.is_ascii_graphic())
            .collect();
        tracing::warn!(error = %code, "OAuth authorization refused by the provider");
        let text = if code == "access_denied" {
            "The authorization was declined, so nothing was connected. Start again to connect the account.".to_string()
        } else {
            format!("The provider answered `{code}`, so nothing was connected.")
        };
        return page(StatusCode::BAD_REQUEST, "Not connected", &text);
    }
    let (Some(state_param), Some(code)) = (query.get("state"), query.get("code")) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Not connected",
            "The provider's answer lacks `state` or `code`.",
        );
    };
    let catalog = state.catalog.current();
    match flow.callback(&catalog, state_param, code).await {
        Ok(row) => {
            tracing::info!(connection = %row.name, connector = %row.connector, tenant = %row.tenant, "OAuth connection stored");
            page(
                StatusCode::OK,
                "Connected",
                &format!(
                    "`{}` is connected to {}. You can close this page.",
                    row.name, row.connector
                ),
            )
        }
        Err(error) => {
            tracing::warn!(%error, "OAuth callback failed");
            let status = match error {
                crate::oauth::OAuthError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            let text = match &error {
                crate::oauth::OAuthError::Store(_) => {
                    "The server could not store the connection; try again.".to_string()
                }
                other => other.to_string(),
            };
            page(status, "Not connected", &text)
        }
    }
}

/// `GET /oauth/{connector}/connect?connection=NAME` with a `write` API key: redirects to
/// the provider to connect (or reconnect) NAME in the key's tenant.
pub async fn connect(
    State(state): State<AppState>,
    axum::extract::Path(connector): axum::extract::Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: axum::http::HeaderMap,
) -> Response {
    use super::api::{ApiError, require};
    let principal = match require(&state, &headers, crate::access::Scope::Write).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let Some(flow) = &state.oauth else {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", "OAuth is not set up")
            .into_response();
    };
    let Some(name) = query
        .get("connection")
        .filter(|n| !n.is_empty() && n.len() <= 200)
    else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "query parameter `connection` (the connection's name) is required",
        )
        .into_response();
    };
    let redirect_uri = match callback_url(&state, &headers) {
        Ok(url) => url,
        Err(e) => return e.into_response(),
    };
    let catalog = state.catalog.current();
    match flow
        .start(&catalog, &principal.tenant, &connector, name, &redirect_uri)
        .await
    {
        Ok(url) => (StatusCode::SEE_OTHER, [(axum::http::header::LOCATION, url)]).into_response(),
        Err(e) => start_error(e).into_response(),
    }
}

/// The `/oauth/callback` URL providers send users back to: from `--public-url`, else from
/// the request's `Host`.
pub(super) fn callback_url(
    state: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<String, super::api::ApiError> {
    let base = match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => match headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
        {
            Some(host) => format!("http://{host}"),
            None => {
                return Err(super::api::ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "no Host header; start the server with --public-url",
                ));
            }
        },
    };
    Ok(format!("{base}/oauth/callback"))
}

/// Maps a failure to start an authorization to an API error.
pub(super) fn start_error(error: crate::oauth::OAuthError) -> super::api::ApiError {
    use super::api::ApiError;
    match error {
        crate::oauth::OAuthError::Store(e) => ApiError::internal(e),
        e @ crate::oauth::OAuthError::NotOAuth(_) => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
        }
        e => ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.to_string()),
    }
}
