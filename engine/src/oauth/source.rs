//! The access token of a stored OAuth connection: refreshed ahead of expiry and after a
//! rejection, one refresh at a time.
//!
//! All callers of one connection share one [`StoredTokenSource`]; its lock makes refresh
//! single-flight: fifty runs that find the token expired wait for one refresh and then all
//! use its result. A rotated refresh token is stored (sealed) before anyone uses the new
//! access token. `invalid_grant` marks the connection `needs_reauth`; later calls fail at
//! once instead of hammering the provider.

use super::OAuthError;
use super::flow::seal_tokens;
use super::token::{OAuthClient, TokenSet, token_request};
use crate::connections::ConnectionService;
use crate::interpret::HttpClient;
use crate::interpret::auth::TokenSource;
use crate::interpret::render::Vars;
use crate::plan::OAuth2Plan;
use crate::store::now_ms;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Refresh this long before the provider's expiry.
pub const REFRESH_AHEAD: Duration = Duration::from_secs(120);

enum State {
    Usable(TokenSet),
    /// The grant was revoked or expired: only a new authorization helps.
    NeedsReauth,
}

/// Tokens of one stored connection.
pub struct StoredTokenSource {
    connection_id: String,
    connector: String,
    plan: OAuth2Plan,
    vars: Vars,
    service: ConnectionService,
    http: Arc<dyn HttpClient>,
    state: Mutex<State>,
}

impl StoredTokenSource {
    pub fn new(
        connection_id: String,
        connector: String,
        plan: OAuth2Plan,
        vars: Vars,
        tokens: TokenSet,
        service: ConnectionService,
        http: Arc<dyn HttpClient>,
    ) -> Self {
        StoredTokenSource {
            connection_id,
            connector,
            plan,
            vars,
            service,
            http,
            state: Mutex::new(State::Usable(tokens)),
        }
    }

    /// The stored tokens, when another process (an instance sharing the database, a
    /// reconnect) replaced the ones this source holds and they are still good to use.
    async fn newer_stored(&self, current: &TokenSet) -> Option<TokenSet> {
        let row = self
            .service
            .store
            .connection_by_id(&self.connection_id)
            .await
            .ok()??;
        let stored = self.service.tokens(&row).ok()??;
        (stored.access_token != current.access_token && !expires_soon(&stored)).then_some(stored)
    }

    /// Refreshes (the caller holds the lock) and stores the new tokens before returning.
    async fn refresh(&self, current: &TokenSet) -> Result<TokenSet, OAuthError> {
        let Some(refresh_token) = &current.refresh_token else {
            return Err(OAuthError::InvalidGrant("no refresh token".into()));
        };
        let client = OAuthClient::resolve(&self.plan, &self.connector, &self.vars)?;
        let form = vec![
            ("grant_type".to_string(), "refresh_token".to_string()),
            ("refresh_token".to_string(), refresh_token.clone()),
        ];
        let fresh = token_request(
            self.http.as_ref(),
            &self.plan,
            &client,
            &self.vars,
            form,
            Some(current),
        )
        .await?;
        let sealed = seal_tokens(&self.service.keyring, &self.connection_id, &fresh);
        self.service
            .store
            .set_connection_tokens(&self.connection_id, Some(sealed), "active")
            .await?;
        tracing::info!(connection = %self.connection_id, "OAuth token refreshed");
        Ok(fresh)
    }

    /// Records the refresh in the tenant's activity log (for the dashboard).
    async fn log_refresh(&self, outcome: &str, error: Option<&OAuthError>) {
        let store = &self.service.store;
        let Ok(Some(row)) = store.connection_by_id(&self.connection_id).await else {
            return;
        };
        let detail = match error {
            None => "the access token was refreshed".to_string(),
            Some(e) => e.to_string(),
        };
        store
            .add_activity(crate::store::accounts::NewActivity {
                tenant: &row.tenant,
                kind: "token_refresh",
                connector: &row.connector,
                connection: &row.name,
                outcome: if outcome == "refreshed" {
                    "ok"
                } else {
                    "failed"
                },
                detail: &detail,
            })
            .await;
    }

    async fn refresh_or_mark(
        &self,
        state: &mut State,
        current: TokenSet,
    ) -> Result<String, String> {
        // Single-flight covers this process; another instance may have refreshed already
        // (a rotated refresh token would then fail here): use its tokens.
        if let Some(stored) = self.newer_stored(&current).await {
            let token = stored.access_token.clone();
            *state = State::Usable(stored);
            return Ok(token);
        }
        let refreshed = self.refresh(&current).await;
        let outcome = match &refreshed {
            Ok(_) => "refreshed",
            Err(OAuthError::InvalidGrant(_)) => "needs_reauth",
            Err(_) => "failed",
        };
        crate::metrics::token_refresh(&self.connector, outcome);
        self.log_refresh(outcome, refreshed.as_ref().err()).await;
        match refreshed {
            Ok(fresh) => {
                let token = fresh.access_token.clone();
                *state = State::Usable(fresh);
                Ok(token)
            }
            Err(OAuthError::InvalidGrant(why)) => {
                // Refreshed elsewhere meanwhile (our refresh token was rotated away)?
                if let Some(stored) = self.newer_stored(&current).await {
                    let token = stored.access_token.clone();
                    *state = State::Usable(stored);
                    return Ok(token);
                }
                *state = State::NeedsReauth;
                let message = OAuthError::InvalidGrant(why).to_string();
                let _ = self
                    .service
                    .store
                    .record_connection_outcome(
                        &self.connection_id,
                        false,
                        Some(("needs_reauth", &message)),
                    )
                    .await;
                Err(message)
            }
            Err(other) => Err(format!("refreshing the OAuth token: {other}")),
        }
    }
}

fn expires_soon(tokens: &TokenSet) -> bool {
    tokens
        .expires_at
        .is_some_and(|at| at - (REFRESH_AHEAD.as_millis() as i64) <= now_ms())
}

impl TokenSource for StoredTokenSource {
    fn access_token(&self) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + '_>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            let current = match &*state {
                State::NeedsReauth => {
                    return Err(
                        "the connection needs to be connected again (OAuth grant no longer valid)"
                            .into(),
                    );
                }
                State::Usable(tokens) if !expires_soon(tokens) => {
                    return Ok(tokens.access_token.clone());
                }
                State::Usable(tokens) => tokens.clone(),
            };
            self.refresh_or_mark(&mut state, current).await
        })
    }

    fn rejected(&self, token: &str) -> Pin<Box<dyn Future<Output = bool> + Send + '_>> {
        let token = token.to_string();
        Box::pin(async move {
            let mut state = self.state.lock().await;
            let current = match &*state {
                State::NeedsReauth => return false,
                // Someone refreshed while this caller's request was out: use theirs.
                State::Usable(tokens) if tokens.access_token != token => return true,
                State::Usable(tokens) => tokens.clone(),
            };
            self.refresh_or_mark(&mut state, current).await.is_ok()
        })
    }
}
