//! The client credentials grant (RFC 6749 4.4): the connection's own client id and secret
//! buy an access token, kept in memory until shortly before it expires.
//!
//! Single-flight like [`super::StoredTokenSource`]: concurrent callers wait for one token
//! request. Nothing is stored: a new process simply asks for a new token.

use super::source::REFRESH_AHEAD;
use super::token::{OAuthClient, TokenSet, token_request};
use crate::interpret::HttpClient;
use crate::interpret::auth::TokenSource;
use crate::interpret::render::Vars;
use crate::plan::OAuth2Plan;
use crate::store::now_ms;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Tokens from the client credentials grant.
pub struct ClientCredentialsSource {
    connector: String,
    plan: OAuth2Plan,
    vars: Vars,
    http: Arc<dyn HttpClient>,
    current: Mutex<Option<TokenSet>>,
}

impl ClientCredentialsSource {
    pub fn new(connector: String, plan: OAuth2Plan, vars: Vars, http: Arc<dyn HttpClient>) -> Self {
        ClientCredentialsSource {
            connector,
            plan,
            vars,
            http,
            current: Mutex::new(None),
        }
    }

    async fn fetch(&self) -> Result<TokenSet, String> {
        let client = OAuthClient::resolve(&self.plan, &self.connector, &self.vars)
            .map_err(|e| e.to_string())?;
        let mut form = vec![("grant_type".to_string(), "client_credentials".to_string())];
        if !self.plan.scopes.is_empty() {
            form.push((
                "scope".to_string(),
                self.plan.scopes.join(&self.plan.scope_separator),
            ));
        }
        let fetched = token_request(
            self.http.as_ref(),
            &self.plan,
            &client,
            &self.vars,
            form,
            None,
        )
        .await;
        let outcome = if fetched.is_ok() {
            "refreshed"
        } else {
            "failed"
        };
        crate::metrics::token_refresh(&self.connector, outcome);
        fetched.map_err(|e| format!("client credentials token: {e}"))
    }
}

fn usable(tokens: &TokenSet) -> bool {
    tokens
        .expires_at
        .is_none_or(|at| at - (REFRESH_AHEAD.as_millis() as i64) > now_ms())
}

impl TokenSource for ClientCredentialsSource {
    fn access_token(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            if let Some(tokens) = current.as_ref().filter(|t| usable(t)) {
                return Ok(tokens.access_token.clone());
            }
            let fresh = self.fetch().await?;
            let token = fresh.access_token.clone();
            *current = Some(fresh);
            Ok(token)
        })
    }

    fn rejected(&self, token: &str) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        let token = token.to_string();
        Box::pin(async move {
            let mut current = self.current.lock().await;
            if current.as_ref().is_some_and(|t| t.access_token != token) {
                return true; // someone fetched a newer one meanwhile
            }
            match self.fetch().await {
                Ok(fresh) => {
                    *current = Some(fresh);
                    true
                }
                Err(error) => {
                    tracing::warn!(connector = %self.connector, %error, "client credentials token");
                    *current = None;
                    false
                }
            }
        })
    }
}
