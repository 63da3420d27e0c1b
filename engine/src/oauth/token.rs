//! Token endpoint requests (code exchange, refresh, client credentials) and reading their
//! answers with the connector's `token_response` paths.
//!
//! Must never put a token, a client secret or a code into an error or a log.

use super::OAuthError;
use crate::interpret::render::{self, Vars};
use crate::interpret::{HttpClient, HttpRequest};
use crate::plan::{OAuth2Plan, TokenResponsePlan};
use crate::spec::auth::ClientAuthMethod;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::time::Duration;

/// A connection's OAuth tokens (stored sealed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires (Unix ms); `None` if the provider did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Granted scopes, as the provider wrote them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Values the spec asks to keep (`token_response.extra`).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Json>,
}

/// The OAuth app a connector's connections use.
#[derive(Clone)]
pub struct OAuthClient {
    pub id: String,
    pub secret: Option<String>,
}

impl OAuthClient {
    /// From the spec's `client_id`/`client_secret` templates (over the connection's
    /// config and secrets), else from `SWITCHYARD_OAUTH_<CONNECTOR>_CLIENT_ID` and
    /// `..._CLIENT_SECRET` (the app registered for the connector in this deployment).
    pub fn resolve(plan: &OAuth2Plan, connector: &str, vars: &Vars) -> Result<Self, OAuthError> {
        let ctx = vars.context();
        let rendered = |t: &Option<crate::plan::CompiledTemplate>| {
            t.as_ref()
                .and_then(|t| render::render_text(t, &ctx).ok().flatten())
                .filter(|v| !v.is_empty())
        };
        let prefix = format!(
            "SWITCHYARD_OAUTH_{}",
            connector.to_ascii_uppercase().replace(['-', '.'], "_")
        );
        let id = rendered(&plan.client_id)
            .or_else(|| std::env::var(format!("{prefix}_CLIENT_ID")).ok())
            .ok_or_else(|| OAuthError::NoClient {
                connector: connector.to_string(),
                variable: format!("{prefix}_CLIENT_ID"),
            })?;
        let secret = rendered(&plan.client_secret)
            .or_else(|| std::env::var(format!("{prefix}_CLIENT_SECRET")).ok());
        Ok(OAuthClient { id, secret })
    }
}

/// POSTs `form` to the token endpoint with the client's credentials and reads the tokens.
/// `previous` keeps a refresh token the provider did not rotate.
pub async fn token_request(
    http: &dyn HttpClient,
    plan: &OAuth2Plan,
    client: &OAuthClient,
    vars: &Vars,
    mut form: Vec<(String, String)>,
    previous: Option<&TokenSet>,
) -> Result<TokenSet, OAuthError> {
    let ctx = vars.context();
    let url = render::render_text(&plan.token_url, &ctx)
        .ok()
        .flatten()
        .and_then(|u| url::Url::parse(&u).ok())
        .ok_or_else(|| OAuthError::Response("the token URL does not render to a URL".into()))?;
    for (name, tree) in &plan.token_params {
        if let Ok(value) = render::render_tree(tree, &ctx) {
            let text = match value {
                Json::String(s) => s,
                Json::Null => continue,
                other => other.to_string(),
            };
            form.push((name.clone(), text));
        }
    }
    let response = post_form(http, plan, client, url, form, true).await?;
    let json: Json = serde_json::from_slice(&response.body).unwrap_or(Json::Null);
    // RFC 6749 5.2 errors (some providers answer 200 with an `error` field).
    if let Some(code) = json.get("error").and_then(Json::as_str) {
        let description = json
            .get("error_description")
            .and_then(Json::as_str)
            .map(|d| d.chars().take(200).collect::<String>());
        return Err(if code == "invalid_grant" {
            OAuthError::InvalidGrant(description.unwrap_or_default())
        } else {
            OAuthError::Provider {
                code: code.chars().take(64).collect(),
                description,
            }
        });
    }
    if !(200..300).contains(&response.status) {
        return Err(OAuthError::Response(format!(
            "the token endpoint answered HTTP {}",
            response.status
        )));
    }
    read_tokens(&plan.token_response, &json, previous)
}

/// POSTs a form to a token or revocation endpoint, with the client authenticated as the
/// spec says (`client_auth`: Basic header or form fields).
async fn post_form(
    http: &dyn HttpClient,
    plan: &OAuth2Plan,
    client: &OAuthClient,
    url: url::Url,
    mut form: Vec<(String, String)>,
    accept_json: bool,
) -> Result<crate::interpret::HttpResponse, OAuthError> {
    let mut headers = vec![(
        "content-type".to_string(),
        "application/x-www-form-urlencoded".to_string(),
    )];
    if accept_json {
        headers.push(("accept".to_string(), "application/json".to_string()));
    }
    match plan.client_auth {
        ClientAuthMethod::Header => {
            // RFC 6749 2.3.1: both parts form-encoded before Basic encoding.
            let user = form_encode(&client.id);
            let pass = form_encode(client.secret.as_deref().unwrap_or(""));
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            headers.push(("authorization".to_string(), format!("Basic {basic}")));
        }
        ClientAuthMethod::Body => {
            form.push(("client_id".into(), client.id.clone()));
            if let Some(secret) = &client.secret {
                form.push(("client_secret".into(), secret.clone()));
            }
        }
    }
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter())
        .finish();
    http.send(HttpRequest {
        method: reqwest::Method::POST,
        url,
        headers,
        body: Some(body.into()),
        timeout: Duration::from_secs(30),
        max_response_bytes: 1 << 20,
        save_to: None,
    })
    .await
    .map_err(|e| OAuthError::Transport(e.to_string()))
}

fn form_encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Reads a token response with the spec's paths.
pub fn read_tokens(
    paths: &TokenResponsePlan,
    json: &Json,
    previous: Option<&TokenSet>,
) -> Result<TokenSet, OAuthError> {
    let first = |path: &serde_json_path::JsonPath| path.query(json).first().cloned();
    let text = |value: Option<Json>| match value {
        Some(Json::String(s)) => Some(s),
        Some(Json::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let access_token = text(first(&paths.access_token)).ok_or_else(|| {
        OAuthError::Response("the token response has no access token where the spec says".into())
    })?;
    let refresh_token = paths
        .refresh_token
        .as_ref()
        .and_then(|p| text(first(p)))
        .or_else(|| previous.and_then(|p| p.refresh_token.clone()));
    let expires_in = paths.expires_in.as_ref().and_then(first).and_then(|v| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
    });
    let expires_at = expires_in.map(|s| crate::store::now_ms().saturating_add((s * 1000.0) as i64));
    let scope = paths.scope.as_ref().and_then(|p| text(first(p)));
    let mut extra = Map::new();
    for (name, path) in &paths.extra {
        if let Some(value) = first(path) {
            extra.insert(name.clone(), value);
        }
    }
    Ok(TokenSet {
        access_token,
        refresh_token,
        expires_at,
        scope,
        extra,
    })
}

/// RFC 7009: asks the provider to revoke `token` (a refresh token when there is one, which
/// also ends its access tokens at most providers).
pub async fn revoke(
    http: &dyn HttpClient,
    plan: &OAuth2Plan,
    client: &OAuthClient,
    vars: &Vars,
    tokens: &TokenSet,
) -> Result<(), OAuthError> {
    let ctx = vars.context();
    let Some(url) = plan
        .revocation_url
        .as_ref()
        .and_then(|t| render::render_text(t, &ctx).ok().flatten())
        .and_then(|u| url::Url::parse(&u).ok())
    else {
        return Err(OAuthError::Response(
            "the revocation URL does not render to a URL".into(),
        ));
    };
    let (token, hint) = match &tokens.refresh_token {
        Some(refresh) => (refresh.clone(), "refresh_token"),
        None => (tokens.access_token.clone(), "access_token"),
    };
    let form = vec![
        ("token".to_string(), token),
        ("token_type_hint".to_string(), hint.to_string()),
    ];
    let response = post_form(http, plan, client, url, form, false).await?;
    if (200..300).contains(&response.status) {
        Ok(())
    } else {
        Err(OAuthError::Response(format!(
            "the revocation endpoint answered HTTP {}",
            response.status
        )))
    }
}
