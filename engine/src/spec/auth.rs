//! Auth modes of a connector. A connector offers one or several; each connection uses one.
//!
//! The mode names are keys (`auth: { oauth2: {...}, bearer: {...} }`), so a typo in a mode
//! name is an "unknown field" error at its exact line, and each mode appears at most once.

use super::common::{JsonPathText, Template, TemplateMap};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The auth modes a connector supports. At least one must be given (`none: {}` for public APIs).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// No authentication (public APIs). Example: `none: {}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none: Option<NoAuth>,
    /// An API key sent in a header or the query string.
    /// Example: `api_key: { in: header, name: X-Api-Key, value: "{{ secrets.api_key }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKeyAuth>,
    /// `Authorization: Bearer <token>` from a template. Example: `bearer: { token: "{{ secrets.token }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer: Option<BearerAuth>,
    /// HTTP Basic auth. Example: `basic: { username: "{{ config.email }}/token", password: "{{ secrets.api_token }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic: Option<BasicAuth>,
    /// OAuth 2.0 authorization code flow (with PKCE and refresh). The access token is sent
    /// as `Authorization: Bearer <token>`. Example:
    /// `oauth2: { authorize_url: https://github.com/login/oauth/authorize, token_url: https://github.com/login/oauth/access_token, scopes: [repo] }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<OAuth2Auth>,
    /// OAuth 2.0 client credentials flow (machine-to-machine). Example:
    /// `oauth2_client_credentials: { token_url: https://auth.example.com/token, client_id: "{{ config.client_id }}", client_secret: "{{ secrets.client_secret }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2_client_credentials: Option<OAuth2ClientCredentialsAuth>,
    /// Any headers and query parameters built from templates, for schemes none of the above
    /// cover. Example: `custom: { headers: { Authorization: "Token token={{ secrets.key }}" } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomAuth>,
}

impl AuthSpec {
    /// The names of the modes this connector offers, in a fixed order.
    pub fn mode_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.none.is_some() {
            names.push("none");
        }
        if self.api_key.is_some() {
            names.push("api_key");
        }
        if self.bearer.is_some() {
            names.push("bearer");
        }
        if self.basic.is_some() {
            names.push("basic");
        }
        if self.oauth2.is_some() {
            names.push("oauth2");
        }
        if self.oauth2_client_credentials.is_some() {
            names.push("oauth2_client_credentials");
        }
        if self.custom.is_some() {
            names.push("custom");
        }
        names
    }
}

/// No authentication.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoAuth {}

/// Where an API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyLocation {
    Header,
    Query,
}

/// An API key in a header or query parameter.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyAuth {
    /// `header` or `query`. Example: `in: header`.
    #[serde(rename = "in")]
    pub location: KeyLocation,
    /// Header or parameter name. Example: `name: X-Api-Key`.
    pub name: String,
    /// The value, usually a secret. Example: `value: "{{ secrets.api_key }}"`.
    pub value: Template,
}

/// A bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BearerAuth {
    /// The token. Example: `token: "{{ secrets.bot_token }}"`.
    pub token: Template,
}

/// HTTP Basic credentials.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User name. Example: `username: "{{ secrets.account_sid }}"`.
    pub username: Template,
    /// Password. Example: `password: "{{ secrets.auth_token }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Template>,
}

/// How the OAuth client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuthMethod {
    /// HTTP Basic with client id and secret (RFC 6749 section 2.3.1; the default).
    #[default]
    Header,
    /// `client_id` and `client_secret` as form fields of the token request.
    Body,
}

/// Where the fields of a token response are found (JSONPath into the response JSON), for
/// providers that nest them (e.g. Slack's user token at `$.authed_user.access_token`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenResponseSpec {
    /// Example: `access_token: $.access_token`.
    #[serde(default = "default_access_token_path")]
    pub access_token: JsonPathText,
    /// Example: `refresh_token: $.data.refresh_token`.
    #[serde(default = "default_refresh_token_path")]
    pub refresh_token: Option<JsonPathText>,
    /// Lifetime in seconds. Example: `expires_in: $.expires`.
    #[serde(default = "default_expires_in_path")]
    pub expires_in: Option<JsonPathText>,
    /// Granted scopes (`connection.scope` in templates).
    /// Example: `scope: $.authed_user.scope`.
    #[serde(default = "default_scope_path")]
    pub scope: Option<JsonPathText>,
    /// Extra values to keep with the connection (account id, instance URL, ...), available
    /// to templates as `connection.<name>` (not `id`, `connector` or `scope`).
    /// Example: `extra: { team_id: $.team.id }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub extra: IndexMap<String, JsonPathText>,
}

fn default_access_token_path() -> JsonPathText {
    JsonPathText("$.access_token".into())
}

fn default_refresh_token_path() -> Option<JsonPathText> {
    Some(JsonPathText("$.refresh_token".into()))
}

fn default_expires_in_path() -> Option<JsonPathText> {
    Some(JsonPathText("$.expires_in".into()))
}

fn default_scope_path() -> Option<JsonPathText> {
    Some(JsonPathText("$.scope".into()))
}

impl Default for TokenResponseSpec {
    fn default() -> Self {
        Self {
            access_token: default_access_token_path(),
            refresh_token: default_refresh_token_path(),
            expires_in: default_expires_in_path(),
            scope: default_scope_path(),
            extra: IndexMap::new(),
        }
    }
}

/// OAuth 2.0 authorization code grant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Auth {
    /// The provider's authorization endpoint (a template over `config`).
    /// Example: `authorize_url: https://slack.com/oauth/v2/authorize`.
    pub authorize_url: Template,
    /// The token endpoint. Example: `token_url: https://slack.com/api/oauth.v2.access`.
    pub token_url: Template,
    /// RFC 7009 revocation endpoint, if the provider has one.
    /// Example: `revocation_url: https://oauth2.googleapis.com/revoke`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_url: Option<Template>,
    /// Scopes requested by default. Example: `scopes: [chat:write, channels:read]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// How scopes are joined in the authorize URL (`" "` per RFC 6749; some providers use
    /// `","`). Example: `scope_separator: ","`.
    #[serde(default = "default_scope_separator")]
    pub scope_separator: String,
    /// Use PKCE with S256 (RFC 7636). On by default. Example: `pkce: false`.
    #[serde(default = "super::connector::default_true")]
    pub pkce: bool,
    /// Extra query parameters for the authorize URL.
    /// Example: `authorize_params: { access_type: offline, prompt: consent }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub authorize_params: TemplateMap,
    /// Extra form fields for token requests. Example: `token_params: { audience: api.example.com }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub token_params: TemplateMap,
    /// How the client authenticates at the token endpoint: `header` (Basic) or `body`.
    /// Example: `client_auth: body`.
    #[serde(default)]
    pub client_auth: ClientAuthMethod,
    /// Where token fields sit in the token response. Defaults to the RFC 6749 names.
    /// Example: `token_response: { access_token: $.authed_user.access_token }`.
    #[serde(default)]
    pub token_response: TokenResponseSpec,
    /// OAuth client id; defaults to the OAuth app registered for this connector.
    /// Example: `client_id: "{{ config.client_id }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<Template>,
    /// OAuth client secret; defaults to the OAuth app registered for this connector.
    /// Example: `client_secret: "{{ secrets.client_secret }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Template>,
}

/// OAuth 2.0 client credentials grant.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OAuth2ClientCredentialsAuth {
    /// The token endpoint.
    /// Example: `token_url: "https://login.microsoftonline.com/{{ config.tenant }}/oauth2/v2.0/token"`.
    pub token_url: Template,
    /// Scopes to request. Example: `scopes: ["https://graph.microsoft.com/.default"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// How scopes are joined. Example: `scope_separator: " "`.
    #[serde(default = "default_scope_separator")]
    pub scope_separator: String,
    /// Extra form fields for the token request. Example: `token_params: { audience: x }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub token_params: TemplateMap,
    /// `header` (Basic, default) or `body`. Example: `client_auth: body`.
    #[serde(default)]
    pub client_auth: ClientAuthMethod,
    /// Where token fields sit in the token response.
    /// Example: `token_response: { expires_in: $.expires }`.
    #[serde(default)]
    pub token_response: TokenResponseSpec,
    /// Client id. Example: `client_id: "{{ config.client_id }}"`.
    pub client_id: Template,
    /// Client secret. Example: `client_secret: "{{ secrets.client_secret }}"`.
    pub client_secret: Template,
}

fn default_scope_separator() -> String {
    " ".into()
}

/// Headers and query parameters from templates.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomAuth {
    /// Example: `headers: { X-Auth-Email: "{{ config.email }}", X-Auth-Key: "{{ secrets.key }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: TemplateMap,
    /// Example: `query: { token: "{{ secrets.token }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: TemplateMap,
}
