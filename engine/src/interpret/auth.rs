//! Applying a connector's auth mode to requests.
//!
//! Static modes (API key, bearer, basic, custom) are templates over the connection's config
//! and secrets, rendered once per call. OAuth 2.0 modes take the access token from a
//! [`TokenSource`]: the connection store owns the token's lifecycle (refresh, revocation);
//! the interpreter only asks for the current token and reports one the provider rejected.
//!
//! Every value produced here is a credential: it is marked sensitive so dry runs and
//! verbose output print `***` in its place.

use super::render::{self, RenderError};
use crate::plan::{AuthPlan, ConnectorPlan};
use crate::spec::auth::KeyLocation;
use base64::Engine as _;
use minijinja::Value;
use std::future::Future;
use std::pin::Pin;

/// Hands out the current OAuth access token of a connection.
pub trait TokenSource: Send + Sync {
    /// The token to send now (refreshed first if it is about to expire).
    fn access_token(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>>;
    /// The provider rejected this token: refresh it, or mark the connection for re-auth.
    /// Returns whether a new token is worth one more try.
    fn rejected(&self, token: &str) -> Pin<Box<dyn Future<Output = bool> + Send + '_>>;
}

/// A fixed token (given on the command line); a rejection cannot be repaired.
pub struct StaticToken(pub String);

impl TokenSource for StaticToken {
    fn access_token(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }
    fn rejected(&self, _token: &str) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        Box::pin(async { false })
    }
}

/// Credentials to add to every request of a call.
#[derive(Debug, Clone, Default)]
pub struct AuthParts {
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    /// The OAuth token sent, to report it if rejected.
    pub token: Option<String>,
}

/// Why no credentials could be produced.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("connector `{connector}` has no auth mode `{mode}` (it has: {available})")]
    UnknownMode {
        connector: String,
        mode: String,
        available: String,
    },
    #[error("auth mode `{mode}`: {error}")]
    Render { mode: String, error: RenderError },
    #[error(
        "auth mode `{mode}` needs an OAuth access token from a connection (or `-s access_token=...`)"
    )]
    NoToken { mode: String },
    #[error("auth mode `{mode}`: {message}")]
    Token { mode: String, message: String },
    #[error(
        "no auth mode of connector `{connector}` can be used with the config and secrets given: {tried}"
    )]
    NoneUsable { connector: String, tried: String },
}

/// Picks the auth mode: the one named, or else the first mode whose values can all be
/// rendered from the config and secrets given (OAuth modes need a token source).
pub fn select<'a>(
    connector: &'a ConnectorPlan,
    requested: Option<&str>,
    ctx: &Value,
    has_token: bool,
) -> Result<&'a AuthPlan, AuthError> {
    if connector.auth.is_empty() {
        return Ok(&AuthPlan::None);
    }
    if let Some(mode) = requested {
        return connector
            .auth
            .iter()
            .find(|a| a.mode_name() == mode)
            .ok_or_else(|| AuthError::UnknownMode {
                connector: connector.id.clone(),
                mode: mode.to_string(),
                available: modes(connector),
            });
    }
    let mut tried = Vec::new();
    for plan in &connector.auth {
        let usable = match plan {
            AuthPlan::OAuth2(_) | AuthPlan::OAuth2ClientCredentials(_) => has_token
                .then_some(())
                .ok_or_else(|| "no access token".to_string()),
            other => static_parts(other, ctx)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        };
        match usable {
            Ok(()) => return Ok(plan),
            Err(why) => tried.push(format!("{} ({why})", plan.mode_name())),
        }
    }
    Err(AuthError::NoneUsable {
        connector: connector.id.clone(),
        tried: tried.join("; "),
    })
}

fn modes(connector: &ConnectorPlan) -> String {
    connector
        .auth
        .iter()
        .map(AuthPlan::mode_name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The credentials of a mode for one call.
pub async fn parts(
    plan: &AuthPlan,
    ctx: &Value,
    tokens: Option<&dyn TokenSource>,
) -> Result<AuthParts, AuthError> {
    match plan {
        AuthPlan::OAuth2(_) | AuthPlan::OAuth2ClientCredentials(_) => {
            let mode = plan.mode_name().to_string();
            let source = tokens.ok_or_else(|| AuthError::NoToken { mode: mode.clone() })?;
            let token = source
                .access_token()
                .await
                .map_err(|message| AuthError::Token { mode, message })?;
            Ok(AuthParts {
                headers: vec![("Authorization".into(), format!("Bearer {token}"))],
                query: Vec::new(),
                token: Some(token),
            })
        }
        other => static_parts(other, ctx),
    }
}

fn static_parts(plan: &AuthPlan, ctx: &Value) -> Result<AuthParts, AuthError> {
    let mode = plan.mode_name();
    let text = |t| {
        render::render_text(t, ctx)
            .map(Option::unwrap_or_default)
            .map_err(|error| AuthError::Render {
                mode: mode.to_string(),
                error,
            })
    };
    let mut parts = AuthParts::default();
    match plan {
        AuthPlan::None | AuthPlan::OAuth2(_) | AuthPlan::OAuth2ClientCredentials(_) => {}
        AuthPlan::ApiKey {
            location,
            name,
            value,
        } => {
            let value = text(value)?;
            match location {
                KeyLocation::Header => parts.headers.push((name.clone(), value)),
                KeyLocation::Query => parts.query.push((name.clone(), value)),
            }
        }
        AuthPlan::Bearer { token } => {
            let token = text(token)?;
            parts
                .headers
                .push(("Authorization".into(), format!("Bearer {token}")));
        }
        AuthPlan::Basic { username, password } => {
            let user = text(username)?;
            let pass = match password {
                Some(p) => text(p)?,
                None => String::new(),
            };
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            parts
                .headers
                .push(("Authorization".into(), format!("Basic {encoded}")));
        }
        AuthPlan::Custom { headers, query } => {
            for (name, tree) in headers {
                let value = render::render_tree(tree, ctx).map_err(|error| AuthError::Render {
                    mode: mode.to_string(),
                    error,
                })?;
                if let Some(v) = render::json_to_text(value) {
                    parts.headers.push((name.clone(), v));
                }
            }
            for (name, tree) in query {
                let value = render::render_tree(tree, ctx).map_err(|error| AuthError::Render {
                    mode: mode.to_string(),
                    error,
                })?;
                if let Some(v) = render::json_to_text(value) {
                    parts.query.push((name.clone(), v));
                }
            }
        }
    }
    Ok(parts)
}
