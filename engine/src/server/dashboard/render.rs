//! The dashboard's templates (compiled into the binary) and the headers every page gets.
//!
//! Templates are MiniJinja with HTML auto-escaping; the only `| safe` values are
//! built here. Must never put a secret into a template context.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use std::sync::OnceLock;

/// Scripts and styles only from this server; no inline script, no framing.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; object-src 'none'";

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("overview.html", include_str!("templates/overview.html")),
    (
        "connections.html",
        include_str!("templates/connections.html"),
    ),
    (
        "connection_new.html",
        include_str!("templates/connection_new.html"),
    ),
    ("confirm.html", include_str!("templates/confirm.html")),
    ("catalog.html", include_str!("templates/catalog.html")),
    ("workflows.html", include_str!("templates/workflows.html")),
    ("runs.html", include_str!("templates/runs.html")),
    ("run.html", include_str!("templates/run.html")),
    ("events.html", include_str!("templates/events.html")),
    ("error.html", include_str!("templates/error.html")),
];

pub const APP_CSS: &str = include_str!("static/app.css");
pub const APP_JS: &str = include_str!("static/app.js");

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            if let Err(error) = env.add_template(name, source) {
                // A broken template is a build defect: the page test fails on it.
                tracing::error!(%error, template = name, "dashboard template does not compile");
            }
        }
        env
    })
}

/// Renders a page with the security headers every HTML answer carries.
pub fn page(status: StatusCode, template: &str, context: serde_json::Value) -> Response {
    let rendered = environment()
        .get_template(template)
        .and_then(|t| t.render(crate::interpret::value::from_json(context)));
    match rendered {
        Ok(html) => html_response(status, html),
        Err(error) => {
            tracing::error!(%error, template, "dashboard page failed to render");
            html_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!doctype html><title>Error</title><p>This page failed to render.</p>".into(),
            )
        }
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    security_headers(headers);
    response
}

/// CSP, no sniffing, no framing, no referrer leaking URLs, no caching of private pages.
pub fn security_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A static asset compiled into the binary.
pub fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Milliseconds since the epoch as `2026-11-22 15:04 UTC`.
pub fn time(ms: Option<i64>) -> Option<String> {
    let ms = ms.filter(|m| *m > 0)?;
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// How long ago, in words: `just now`, `5 min ago`, `3 h ago`, `2 days ago`.
pub fn ago(ms: Option<i64>, now: i64) -> Option<String> {
    let ms = ms.filter(|m| *m > 0)?;
    let s = (now - ms).max(0) / 1000;
    Some(match s {
        0..=59 => "just now".into(),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=86_399 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    })
}

/// A duration in milliseconds as `840 ms`, `3.2 s`, `4 min 10 s`.
pub fn duration(ms: Option<i64>) -> Option<String> {
    let ms = ms?.max(0);
    Some(match ms {
        0..=999 => format!("{ms} ms"),
        1000..=59_999 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000),
    })
}
