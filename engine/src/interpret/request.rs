//! Building one HTTP request of an action: URL, query, headers and body rendered from the
//! template context, plus the pagination parameters and the credentials.
//!
//! Parameters that render to null are left out; lists become repeated parameters; objects
//! are sent as JSON text. The final URL must stay on the origin of the connector's (or
//! action's) `base_url`, whatever a path template rendered to.

use super::auth::AuthParts;
use super::client::{HttpRequest, SaveTo};
use super::error::ActionError;
use super::paginate::PageState;
use super::render::{self, json_to_text};
use crate::files::{Body, FileStore};
use crate::plan::{ActionPlan, BodyPlan, ConnectorPlan, StrategyPlan, TemplatePairs};
use crate::spec::pagination::ParamLocation;
use bytes::Bytes;
use minijinja::Value;
use serde_json::Value as Json;
use std::time::Duration;

/// Everything a request needs besides the page: fixed for one call.
pub struct RequestParts<'a> {
    pub connector: &'a ConnectorPlan,
    pub action: &'a ActionPlan,
    pub auth: &'a AuthParts,
    pub idempotency_key: Option<&'a str>,
    pub timeout: Duration,
    pub max_response_bytes: usize,
    /// The connection's replacement for the connector's `base_url`.
    pub base_override: Option<&'a str>,
    /// Where files sent and downloaded live.
    pub files: Option<&'a FileStore>,
    /// Set for download actions.
    pub save_to: Option<SaveTo>,
}

/// Names of headers whose values are credentials (for `***` in dry runs and logs).
pub fn sensitive_headers(auth: &AuthParts) -> Vec<String> {
    auth.headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect()
}

/// The action's base URL (its own, the connection's, or the connector's), as text and parsed.
pub fn base_url(parts: &RequestParts<'_>, ctx: &Value) -> Result<(String, url::Url), ActionError> {
    let base = match (&parts.action.base_url, parts.base_override) {
        (Some(own), _) => render::render_text(own, ctx)?.unwrap_or_default(),
        (None, Some(base)) => base.to_string(),
        (None, None) => render::render_text(&parts.connector.base_url, ctx)?.unwrap_or_default(),
    };
    let url =
        url::Url::parse(&base).map_err(|e| ActionError::Url(format!("base URL `{base}`: {e}")))?;
    Ok((base, url))
}

/// Renders the request for `page`. `ctx` holds `input`, `config`, `secrets`, `page`, ...
pub fn build(
    parts: &RequestParts<'_>,
    page: &PageState,
    ctx: &Value,
) -> Result<HttpRequest, ActionError> {
    let action = parts.action;
    let (base, base_url) = base_url(parts, ctx)?;

    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut url = match &page.next_url {
        // The provider's next link already carries the query it wants.
        Some(next) => next.clone(),
        None => {
            let path = render::render_path(&action.path, ctx)?;
            let joined = format!("{}{}", base.trim_end_matches('/'), path);
            let url = url::Url::parse(&joined)
                .map_err(|e| ActionError::Url(format!("`{joined}`: {e}")))?;
            if url.origin() != base_url.origin() {
                return Err(ActionError::Url(format!(
                    "path `{path}` leaves the base URL's origin {}",
                    base_url.origin().ascii_serialization()
                )));
            }
            push_pairs(&mut query, &parts.connector.query, ctx)?;
            push_pairs(&mut query, &action.query, ctx)?;
            url
        }
    };
    push_pairs(&mut headers, &parts.connector.headers, ctx)?;
    push_pairs(&mut headers, &action.headers, ctx)?;

    let mut body_cursor: Option<(String, String)> = None;
    if let (Some(p), None) = (&action.paginator, &page.next_url) {
        if let Some((param, value)) = &p.page_size {
            query.push((param.clone(), value.to_string()));
        }
        match &p.strategy {
            StrategyPlan::Cursor {
                param, location, ..
            } => {
                if let Some(cursor) = &page.cursor {
                    match location {
                        ParamLocation::Query => query.push((param.clone(), cursor.clone())),
                        ParamLocation::Header => headers.push((param.clone(), cursor.clone())),
                        ParamLocation::Body => body_cursor = Some((param.clone(), cursor.clone())),
                    }
                }
            }
            StrategyPlan::Offset {
                param,
                limit_param,
                limit,
                ..
            } => {
                query.push((param.clone(), page.offset.to_string()));
                query.push((limit_param.clone(), limit.to_string()));
            }
            StrategyPlan::PageNumber { param, .. } => {
                query.push((param.clone(), page.number.to_string()));
            }
            StrategyPlan::NextUrl { .. } | StrategyPlan::LinkHeader { .. } => {}
        }
    }
    // A next link from the provider keeps its own query; credentials in the query are
    // added only if it does not carry them already.
    let existing: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    for (name, value) in &parts.auth.query {
        if page.next_url.is_none() || !existing.contains(name) {
            query.push((name.clone(), value.clone()));
        }
    }
    if !query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (name, value) in &query {
            pairs.append_pair(name, value);
        }
    }
    headers.extend(parts.auth.headers.iter().cloned());
    if let Some((name, key)) = action.idempotency_key.as_ref().zip(parts.idempotency_key) {
        headers.push((name.clone(), key.to_string()));
    }

    let body: Option<Body> = match &action.body {
        None => body_cursor.map(|(k, v)| {
            headers.push(("Content-Type".into(), "application/json".into()));
            Body::from(serde_json::json!({ k: v }).to_string())
        }),
        Some(BodyPlan::Json(tree)) => {
            let mut value = render::render_tree(tree, ctx)?;
            if let (Some((k, v)), Json::Object(map)) = (body_cursor, &mut value) {
                map.insert(k, Json::String(v));
            }
            headers.push(("Content-Type".into(), "application/json".into()));
            Some(Body::from(value.to_string()))
        }
        Some(BodyPlan::Form(fields)) => {
            let mut pairs = Vec::new();
            push_pairs(&mut pairs, fields, ctx)?;
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &pairs {
                form.append_pair(k, v);
            }
            headers.push((
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            ));
            Some(Body::from(form.finish()))
        }
        Some(BodyPlan::Raw {
            content_type,
            content,
        }) => {
            let text = render::render_text(content, ctx)?.unwrap_or_default();
            headers.push(("Content-Type".into(), content_type.clone()));
            Some(Body::from(Bytes::from(text)))
        }
        Some(BodyPlan::File(plan)) => typed(
            &mut headers,
            super::transfer::file_body(plan, ctx, parts.files)?,
        ),
        Some(BodyPlan::Multipart(plan)) => typed(
            &mut headers,
            super::transfer::multipart_body(plan, ctx, parts.files)?,
        ),
        Some(BodyPlan::Email(plan)) => typed(
            &mut headers,
            super::transfer::email_body(
                plan,
                ctx,
                parts.files,
                parts.idempotency_key.unwrap_or("call"),
            )?,
        ),
    };

    Ok(HttpRequest {
        method: reqwest::Method::from_bytes(action.method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::GET),
        url,
        headers,
        body,
        timeout: parts.timeout,
        max_response_bytes: parts.max_response_bytes,
        save_to: parts.save_to.clone(),
    })
}

/// A body with its Content-Type header.
fn typed(
    headers: &mut Vec<(String, String)>,
    (body, content_type): (Body, String),
) -> Option<Body> {
    headers.push(("Content-Type".into(), content_type));
    Some(body)
}

/// Renders name/template pairs; null values are left out, lists repeat the name.
pub fn push_pairs(
    out: &mut Vec<(String, String)>,
    pairs: &TemplatePairs,
    ctx: &Value,
) -> Result<(), ActionError> {
    for (name, tree) in pairs {
        match render::render_tree(tree, ctx)? {
            Json::Array(items) => {
                for item in items {
                    if let Some(text) = json_to_text(item) {
                        out.push((name.clone(), text));
                    }
                }
            }
            other => {
                if let Some(text) = json_to_text(other) {
                    out.push((name.clone(), text));
                }
            }
        }
    }
    Ok(())
}

/// The request as text for `--dry-run` and `-v`: credentials and secrets shown as `***`.
pub fn describe(
    request: &HttpRequest,
    sensitive: &[String],
    redactor: &super::error::Redactor,
) -> String {
    let mut out = format!(
        "{} {}\n",
        request.method,
        redactor.redact(request.url.as_str())
    );
    for (name, value) in &request.headers {
        let shown = if sensitive.contains(&name.to_ascii_lowercase()) {
            "***".to_string()
        } else {
            redactor.redact(value)
        };
        out.push_str(&format!("{name}: {shown}\n"));
    }
    if let Some(body) = &request.body {
        out.push('\n');
        out.push_str(&redactor.redact(&body.describe()));
        out.push('\n');
    }
    out
}
