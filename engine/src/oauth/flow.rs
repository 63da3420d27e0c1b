//! The authorization code flow: the authorize URL with `state` and PKCE, and the callback
//! that exchanges the code and stores the tokens.

use super::OAuthError;
use super::token::{OAuthClient, TokenSet, token_request};
use crate::connections::{ConnectionService, aad};
use crate::interpret::HttpClient;
use crate::interpret::render::{self, Vars};
use crate::plan::{AuthPlan, Catalog, ConnectorPlan, OAuth2Plan};
use crate::secrets::{open, seal};
use crate::store::{ConnectionRow, OAuthState, new_connection_row, now_ms};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

/// How long an authorization link stays usable.
pub const STATE_LIFETIME: Duration = Duration::from_secs(600);

/// Starts and completes authorizations.
#[derive(Clone)]
pub struct OAuthFlow {
    pub connections: ConnectionService,
    pub http: Arc<dyn HttpClient>,
}

/// 32 random bytes, base64url (43 characters): a `state` or a PKCE verifier.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    crate::secrets::fill_random(&mut bytes);
    B64URL.encode(bytes)
}

fn hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

fn code_plan(connector: &ConnectorPlan) -> Result<&OAuth2Plan, OAuthError> {
    connector
        .auth
        .iter()
        .find_map(|a| match a {
            AuthPlan::OAuth2(p) if p.authorize_url.is_some() => Some(p),
            _ => None,
        })
        .ok_or_else(|| OAuthError::NotOAuth(connector.id.clone()))
}

impl OAuthFlow {
    /// The variables templates see for a connection that may not exist yet.
    async fn vars_for(
        &self,
        catalog: &Catalog,
        tenant: &str,
        name: &str,
        connector: &str,
    ) -> Result<Vars, OAuthError> {
        let row = self.connections.store.connection(tenant, name).await?;
        Ok(match row {
            Some(row) => {
                let connection = self.connections.open(catalog, &row)?;
                crate::runtime::connection_vars(&connection)
            }
            // A connection made by this authorization: its config is the connector's
            // defaults (e.g. a tenant of `common` in the authorize URL).
            None => Vars::new()
                .with(
                    "config",
                    crate::interpret::value::from_json(Json::Object(
                        catalog
                            .connectors
                            .get(connector)
                            .map(|c| defaults(c))
                            .unwrap_or_default(),
                    )),
                )
                .with(
                    "secrets",
                    crate::interpret::value::from_json(Json::Object(Map::new())),
                ),
        })
    }

    /// The provider's authorize URL for connecting `name`; the pending authorization is
    /// stored first.
    pub async fn start(
        &self,
        catalog: &Catalog,
        tenant: &str,
        connector: &str,
        name: &str,
        redirect_uri: &str,
    ) -> Result<String, OAuthError> {
        let connector_plan = catalog
            .connectors
            .get(connector)
            .ok_or_else(|| OAuthError::NotOAuth(connector.to_string()))?;
        let plan = code_plan(connector_plan)?;
        let vars = self.vars_for(catalog, tenant, name, connector).await?;
        let client = OAuthClient::resolve(plan, connector, &vars)?;
        let ctx = vars.context();
        let authorize = plan
            .authorize_url
            .as_ref()
            .and_then(|t| render::render_text(t, &ctx).ok().flatten())
            .and_then(|u| url::Url::parse(&u).ok())
            .ok_or_else(|| {
                OAuthError::Response("the authorize URL does not render to a URL".into())
            })?;
        let state = random_token();
        let verifier = plan.pkce.then(random_token);
        let mut url = authorize;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", &client.id)
                .append_pair("redirect_uri", redirect_uri)
                .append_pair("state", &state);
            if !plan.scopes.is_empty() {
                query.append_pair("scope", &plan.scopes.join(&plan.scope_separator));
            }
            if let Some(verifier) = &verifier {
                let challenge = B64URL.encode(Sha256::digest(verifier.as_bytes()));
                query
                    .append_pair("code_challenge", &challenge)
                    .append_pair("code_challenge_method", "S256");
            }
            for (name, tree) in &plan.authorize_params {
                if let Ok(value) = render::render_tree(tree, &ctx) {
                    match value {
                        Json::Null => {}
                        Json::String(s) => {
                            query.append_pair(name, &s);
                        }
                        other => {
                            query.append_pair(name, &other.to_string());
                        }
                    }
                }
            }
        }
        let state_hash = hash(&state);
        let keyring = &self.connections.keyring;
        self.connections
            .store
            .insert_oauth_state(&OAuthState {
                verifier: verifier.map(|v| seal(keyring, &aad(&state_hash, "pkce"), v.as_bytes())),
                state_hash,
                tenant: tenant.to_string(),
                connector: connector.to_string(),
                connection: name.to_string(),
                redirect_uri: redirect_uri.to_string(),
                expires_at: now_ms().saturating_add(STATE_LIFETIME.as_millis() as i64),
            })
            .await?;
        Ok(url.to_string())
    }

    /// Drops a pending authorization the provider declined, so its link cannot complete.
    pub async fn abandon(&self, state: &str) -> Result<(), OAuthError> {
        self.connections
            .store
            .take_oauth_state(&hash(state))
            .await?;
        Ok(())
    }

    /// Completes an authorization: takes the state (once), exchanges the code and stores
    /// the tokens in the connection (created if it did not exist).
    pub async fn callback(
        &self,
        catalog: &Catalog,
        state: &str,
        code: &str,
    ) -> Result<ConnectionRow, OAuthError> {
        let pending = self
            .connections
            .store
            .take_oauth_state(&hash(state))
            .await?
            .ok_or(OAuthError::UnknownState)?;
        let connector_plan = catalog
            .connectors
            .get(&pending.connector)
            .ok_or_else(|| OAuthError::NotOAuth(pending.connector.clone()))?;
        let plan = code_plan(connector_plan)?;
        let vars = self
            .vars_for(
                catalog,
                &pending.tenant,
                &pending.connection,
                &pending.connector,
            )
            .await?;
        let client = OAuthClient::resolve(plan, &pending.connector, &vars)?;
        let mut form = vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".to_string(), code.to_string()),
            ("redirect_uri".to_string(), pending.redirect_uri.clone()),
        ];
        if let Some(sealed) = &pending.verifier {
            let verifier = open(
                &self.connections.keyring,
                &aad(&pending.state_hash, "pkce"),
                sealed,
            )
            .map_err(|_| OAuthError::UnknownState)?;
            form.push((
                "code_verifier".to_string(),
                String::from_utf8_lossy(&verifier).into_owned(),
            ));
        }
        let tokens = token_request(self.http.as_ref(), plan, &client, &vars, form, None).await?;
        let mut row = new_connection_row(
            &pending.tenant,
            &pending.connection,
            &pending.connector,
            Map::new(),
        );
        row.auth_mode = Some("oauth2".into());
        let keyring = self.connections.keyring.clone();
        let stored = self
            .connections
            .store
            .upsert_oauth_connection(row, move |id| seal_tokens(&keyring, id, &tokens))
            .await?;
        Ok(stored)
    }
}

/// Seals a token set for connection `id`.
pub(crate) fn seal_tokens(
    keyring: &crate::secrets::Keyring,
    id: &str,
    tokens: &TokenSet,
) -> String {
    let text = serde_json::to_string(tokens).unwrap_or_default();
    seal(keyring, &aad(id, "tokens"), text.as_bytes())
}

/// What disconnecting did at the provider.
#[derive(Debug)]
pub enum Revocation {
    /// The provider revoked the tokens.
    Revoked,
    /// Nothing to revoke (no tokens, or the spec names no revocation URL).
    NotNeeded,
    /// The provider could not be asked; the connection is removed all the same.
    Failed(OAuthError),
}

impl OAuthFlow {
    /// Removes a connection, revoking its OAuth tokens first where the spec names a
    /// revocation URL (RFC 7009). `None` if there was no such connection.
    pub async fn disconnect(
        &self,
        catalog: &Catalog,
        tenant: &str,
        name: &str,
    ) -> Result<Option<Revocation>, OAuthError> {
        let Some(row) = self.connections.store.connection(tenant, name).await? else {
            return Ok(None);
        };
        let revocation = self.revoke_row(catalog, &row).await;
        self.connections
            .store
            .delete_connection(tenant, name)
            .await?;
        Ok(Some(revocation))
    }

    async fn revoke_row(&self, catalog: &Catalog, row: &ConnectionRow) -> Revocation {
        let tokens = match self.connections.tokens(row) {
            Ok(Some(t)) => t,
            Ok(None) => return Revocation::NotNeeded,
            Err(e) => return Revocation::Failed(e.into()),
        };
        let Some(plan) = catalog.connectors.get(&row.connector).and_then(|c| {
            c.auth.iter().find_map(|a| match a {
                AuthPlan::OAuth2(p) if p.revocation_url.is_some() => Some(p.clone()),
                _ => None,
            })
        }) else {
            return Revocation::NotNeeded;
        };
        let vars = match self.connections.open(catalog, row) {
            Ok(connection) => crate::runtime::connection_vars(&connection),
            Err(e) => return Revocation::Failed(e.into()),
        };
        let client = match OAuthClient::resolve(&plan, &row.connector, &vars) {
            Ok(c) => c,
            Err(e) => return Revocation::Failed(e),
        };
        match super::token::revoke(self.http.as_ref(), &plan, &client, &vars, &tokens).await {
            Ok(()) => Revocation::Revoked,
            Err(e) => Revocation::Failed(e),
        }
    }
}

/// The plain config fields that have defaults, with them.
fn defaults(connector: &crate::plan::ConnectorPlan) -> Map<String, Json> {
    connector
        .config
        .iter()
        .filter(|(_, field)| !field.secret)
        .filter_map(|(name, field)| field.default.clone().map(|d| (name.clone(), d)))
        .collect()
}
