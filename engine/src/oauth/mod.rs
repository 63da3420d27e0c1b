//! OAuth 2.0 for connections, driven by the connector spec: the authorization code flow
//! with `state` and PKCE (S256), token storage sealed in the connection row, refresh ahead
//! of expiry and after a rejection (one refresh at a time per connection), and the client
//! credentials grant.
//!
//! ```text
//! GET /oauth/{connector}/connect?connection=NAME
//!     -> state (random, single use, 10 min) + PKCE verifier stored -> 303 to the provider
//! GET /oauth/callback?code&state
//!     -> state taken -> code exchanged -> tokens sealed into the connection (created if new)
//! ```
//!
//! Must never log or return a token, a code, a verifier or a client secret.

mod client_credentials;
mod flow;
mod source;
mod token;

pub use client_credentials::ClientCredentialsSource;
pub use flow::{OAuthFlow, Revocation, STATE_LIFETIME};
pub use source::StoredTokenSource;
pub use token::{OAuthClient, TokenSet, read_tokens, revoke, token_request};

/// Why an OAuth step failed. Messages carry no secret.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("connector `{0}` has no OAuth 2.0 authorization code auth")]
    NotOAuth(String),
    #[error("no OAuth app for connector `{connector}`: set {variable} (and its _CLIENT_SECRET)")]
    NoClient { connector: String, variable: String },
    #[error("this authorization link is unknown, used already or expired; start again")]
    UnknownState,
    #[error("the provider refused: {code}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Provider {
        code: String,
        description: Option<String>,
    },
    #[error("the provider no longer accepts the grant (invalid_grant){}; connect again", if .0.is_empty() { String::new() } else { format!(": {}", .0) })]
    InvalidGrant(String),
    #[error("token request failed: {0}")]
    Transport(String),
    #[error("{0}")]
    Response(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Connection(#[from] crate::connections::ConnectionError),
}
