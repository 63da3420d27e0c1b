//! The dashboard: server-rendered pages under `/` for connections, the catalog, workflows,
//! runs and the activity log, behind a login.
//!
//! Every page needs a session ([`auth`]); every state change is a POST carrying the
//! session's CSRF token and answers with a redirect (post/redirect/get), so pages work
//! without JavaScript. A user sees only their tenant: a resource of another tenant is a
//! 404, exactly like one that does not exist. Must never render a secret: connection
//! secrets are never read here, and run data is redacted before it is shown.

pub mod auth;
mod connections;
mod pages;
pub mod render;
mod runs;

use super::AppState;
use auth::Session;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};
use std::collections::HashMap;

/// The dashboard's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::overview))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route(
            "/connections",
            get(connections::list).post(connections::create),
        )
        .route("/connections/new", get(connections::new_form))
        .route("/connections/{name}/check", post(connections::check))
        .route(
            "/connections/{name}/reconnect",
            post(connections::reconnect),
        )
        .route(
            "/connections/{name}/disconnect",
            get(connections::disconnect_page).post(connections::disconnect),
        )
        .route("/catalog", get(pages::catalog))
        .route("/workflows", get(pages::workflows))
        .route("/workflows/{id}/enable", post(pages::enable))
        .route("/workflows/{id}/disable", post(pages::disable))
        .route("/runs", get(runs::list))
        .route("/runs/{id}", get(runs::show))
        .route("/runs/{id}/retry", post(runs::retry))
        .route("/runs/{id}/replay", post(runs::replay))
        .route("/events", get(pages::events))
        .route(
            "/static/app.css",
            get(|| async { render::asset("text/css; charset=utf-8", render::APP_CSS) }),
        )
        .route(
            "/static/app.js",
            get(|| async { render::asset("text/javascript; charset=utf-8", render::APP_JS) }),
        )
}

/// A page's answer: the page, or a redirect (to the login, after a POST).
pub type PageResult = Result<Response, Response>;

/// The session of a request, or a redirect to the login page that comes back here.
pub async fn require(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Session, Response> {
    let Some(store) = &state.store else {
        return Err(error_page(
            StatusCode::NOT_FOUND,
            "The dashboard needs a store.",
        ));
    };
    match auth::session(store, headers).await {
        Some(session) => Ok(session),
        None => {
            let next = uri
                .path_and_query()
                .map(|p| p.as_str())
                .filter(|p| p.starts_with('/') && !p.starts_with("//"))
                .unwrap_or("/");
            let target = format!(
                "/login?next={}",
                percent_encoding::utf8_percent_encode(next, percent_encoding::NON_ALPHANUMERIC)
            );
            Err(Redirect::to(&target).into_response())
        }
    }
}

/// A POST's session and form, with its CSRF token checked (403 otherwise).
pub async fn require_form(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Session, Response> {
    let store = state.store.as_ref().ok_or_else(not_found)?;
    // No session (expired): log in again, then the start page (`next` cannot be a POST).
    let session = auth::session(store, headers)
        .await
        .ok_or_else(|| Redirect::to("/login").into_response())?;
    let given = form.get("csrf").map(String::as_str).unwrap_or("");
    if !session.csrf_ok(given) {
        return Err(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this dashboard. Go back, reload the page and try again.",
        ));
    }
    Ok(session)
}

/// The context every page shares.
pub fn base(
    session: &Session,
    nav: &str,
    title: &str,
    headers: &HeaderMap,
) -> serde_json::Map<String, Json> {
    let mut ctx = serde_json::Map::new();
    ctx.insert("title".into(), json!(title));
    ctx.insert(
        "user".into(),
        json!({ "name": session.username, "tenant": session.tenant }),
    );
    ctx.insert("csrf".into(), json!(session.csrf));
    ctx.insert("nav".into(), json!(nav));
    ctx.insert("flash".into(), flash(headers));
    ctx.insert("refresh".into(), Json::Null);
    ctx
}

/// A rendered page; the flash cookie (shown now) is cleared.
pub fn page(template: &str, ctx: serde_json::Map<String, Json>) -> Response {
    let had_flash = !ctx.get("flash").is_none_or(Json::is_null);
    let mut response = render::page(StatusCode::OK, template, Json::Object(ctx));
    if had_flash {
        clear_flash(&mut response);
    }
    response
}

const FLASH_COOKIE: &str = "sy_flash";

/// A redirect after a POST, with a message for the next page.
pub fn redirect_with(location: &str, kind: &str, text: &str) -> Response {
    let mut response = Redirect::to(location).into_response();
    let value = format!(
        "{kind}:{}",
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
    );
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(FLASH_COOKIE, &value, 60)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

fn flash(headers: &HeaderMap) -> Json {
    let Some(value) = auth::cookie(headers, FLASH_COOKIE) else {
        return Json::Null;
    };
    let Some((kind, text)) = value.split_once(':') else {
        return Json::Null;
    };
    let kind = if kind == "ok" { "ok" } else { "error" };
    let text = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    json!({ "kind": kind, "text": text })
}

fn clear_flash(response: &mut Response) {
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(FLASH_COOKIE, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// An error page (404 for anything of another tenant, 403 for a bad form).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    render::page(
        status,
        "error.html",
        json!({ "status": status.as_u16(), "message": message }),
    )
}

pub fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, "There is nothing here.")
}

pub fn unavailable(error: impl std::fmt::Display) -> Response {
    tracing::error!(%error, "dashboard request failed");
    error_page(
        StatusCode::SERVICE_UNAVAILABLE,
        "The server could not read or write its database; try again.",
    )
}

#[derive(serde::Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

async fn login_page(Query(query): Query<LoginQuery>) -> Response {
    login_form(StatusCode::OK, None, query.next.as_deref())
}

/// The login form, with a fresh double-submit CSRF cookie.
fn login_form(status: StatusCode, error: Option<&str>, next: Option<&str>) -> Response {
    let token = auth::random_token();
    let next = safe_next(next);
    let mut response = render::page(
        status,
        "login.html",
        json!({ "csrf": token, "error": error, "next": next }),
    );
    let cookie = format!(
        "{}={token}; Path=/login; Max-Age=3600; HttpOnly; Secure; SameSite=Strict",
        auth::LOGIN_COOKIE
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// Only a path on this site (no `//host`, no scheme): no open redirect after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        // No control characters or spaces either: browsers drop tabs and newlines from
        // URLs, so `/\t/evil.example` would become `//evil.example`.
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.bytes().all(|b| b > 0x20 && b != 0x7f) =>
        {
            n.to_string()
        }
        _ => "/".into(),
    }
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let next = form.get("next").map(String::as_str);
    let cookie = auth::cookie(&headers, auth::LOGIN_COOKIE).unwrap_or_default();
    let given = form.get("csrf").map(String::as_str).unwrap_or("");
    if !auth::same(given, &cookie) {
        return login_form(
            StatusCode::FORBIDDEN,
            Some("The sign-in form expired; try again."),
            next,
        );
    }
    let Some(store) = &state.store else {
        return not_found();
    };
    let username = form.get("username").map(|u| u.trim()).unwrap_or("");
    let password = form.get("password").map(String::as_str).unwrap_or("");
    match auth::log_in(store, username, password).await {
        Ok(Some(token)) => {
            tracing::info!(user = %username, "dashboard login");
            let mut response = Redirect::to(&safe_next(next)).into_response();
            let headers = response.headers_mut();
            let session =
                auth::set_cookie(auth::SESSION_COOKIE, &token, auth::SESSION_HOURS * 3600);
            if let Ok(v) = HeaderValue::from_str(&session) {
                headers.append(header::SET_COOKIE, v);
            }
            response
        }
        Ok(None) => {
            tracing::warn!(user = %username, "dashboard login refused");
            login_form(
                StatusCode::UNAUTHORIZED,
                Some("Wrong username or password."),
                next,
            )
        }
        Err(error) => unavailable(error),
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let session = match require_form(&state, &headers, &form).await {
        Ok(s) => s,
        Err(response) => return response,
    };
    if let Some(store) = &state.store {
        auth::log_out(store, &session).await;
    }
    let mut response = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(auth::SESSION_COOKIE, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn login_returns_only_to_local_paths() {
        assert_eq!(
            safe_next(Some("/runs?status=failed")),
            "/runs?status=failed"
        );
        for bad in [
            "//evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\\evil.example",
            "https://evil.example",
            "evil",
            "/ /x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
