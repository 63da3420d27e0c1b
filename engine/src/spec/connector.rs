//! The connector spec: everything Switchyard knows about one provider, as its author wrote it
//! in `connectors/<provider>.yaml`.
//!
//! No provider has Rust code of its own. If a provider needs something these types cannot
//! say, the answer is a general field here, named for what it does, never a special case.

use super::action::ActionSpec;
use super::auth::AuthSpec;
use super::common::{Template, TemplateMap, ValueType};
use super::errors::{ErrorRule, RateLimitSpec, RetrySpec};
use super::pagination::PaginatorSpec;
use super::trigger::ConnectorTriggerSpec;
use super::webhook::WebhookSpec;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A connector: one provider's API, auth, actions, webhooks and triggers.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorSpec {
    /// Unique id of the connector, lowercase with dashes; workflows refer to actions as
    /// `<connector>.<action>`. Example: `connector: github`.
    pub connector: String,
    /// Display name shown in the catalog. Example: `name: GitHub`.
    pub name: String,
    /// Version of the Switchyard spec language this file is written for. Only `1` exists.
    /// Example: `spec_version: 1`.
    #[serde(default = "default_spec_version")]
    pub spec_version: u32,
    /// The connector's own revision, free text (semver suggested). Example: `version: 1.2.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// One or two sentences on what the connector does. Example:
    /// `description: Issues, pull requests and repository events.`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How to get credentials at the provider (create the app or token, scopes, where the
    /// webhook secret is), in Markdown: shown on the connector's docs page.
    /// Example: `setup: "Create an app at https://api.slack.com/apps, add the chat:write scope..."`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<String>,
    /// Link to the provider's API documentation.
    /// Example: `docs_url: https://docs.github.com/en/rest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    /// Catalog categories. Example: `categories: [developer-tools, issue-tracking]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// Icon for the catalog and dashboard: an `https://` URL or a `data:` URI.
    /// Example: `icon: https://github.githubassets.com/favicons/favicon.svg`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Fields a user supplies when connecting an account, by name. Plain fields are
    /// available to templates as `config.<name>`, fields with `secret: true` as
    /// `secrets.<name>`. Example: `config: { subdomain: { type: string } }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub config: IndexMap<String, ConfigField>,
    /// Base URL of every action's `path`; a template over `config`. Required unless every
    /// HTTP action has its own (a connector of email actions needs none).
    /// Example: `base_url: "https://{{ config.subdomain }}.zendesk.com/api/v2"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<Template>,
    /// Headers sent with every request (templates over `config`/`secrets`).
    /// Example: `headers: { Accept: application/vnd.github+json }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: TemplateMap,
    /// Query parameters sent with every request. Example: `query: { api-version: "2024-01-01" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: TemplateMap,
    /// The ways a user can authenticate, one or several. A connection picks one.
    /// Example: `auth: { bearer: { token: "{{ secrets.token }}" } }`.
    pub auth: AuthSpec,
    /// Retry policy for every action, unless the action sets its own.
    /// Example: `retry: { on_status: [429, 503], attempts: 4 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec>,
    /// How the provider signals rate limits. Example:
    /// `rate_limit: { retry_after_header: Retry-After, remaining_header: X-RateLimit-Remaining }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitSpec>,
    /// Error rules for every action, checked after the action's own rules, first match wins.
    /// Example: `errors: [{ when: "response.body.ok == false", then: fail, message: "{{ response.body.error }}" }]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorRule>,
    /// Named pagination strategies that actions refer to with `paginate: <name>`.
    /// Example: `pagination: { pages: { strategy: { link_header: {} }, max_pages: 50 } }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub pagination: IndexMap<String, PaginatorSpec>,
    /// The API operations, by name. Example: `actions: { get_user: { method: GET, path: /user } }`.
    #[serde(default)]
    pub actions: IndexMap<String, ActionSpec>,
    /// How a connection's credentials are tested: an action to call that must succeed.
    /// Example: `check: { action: get_user }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckSpec>,
    /// How the provider signs and labels webhook deliveries; shared by all webhook triggers.
    /// Example: `webhooks: { verify: { hmac: {...} }, event_type: { header: X-GitHub-Event } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<WebhookSpec>,
    /// Events that can start a workflow, by name: webhook events or polled changes.
    /// Example: `triggers: { issue_opened: { webhook: { events: [issues] } } }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub triggers: IndexMap<String, ConnectorTriggerSpec>,
}

fn default_spec_version() -> u32 {
    1
}

/// A field a user fills in when connecting an account.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigField {
    /// The JSON type of the value. Example: `type: string`.
    #[serde(rename = "type", default = "default_string_type")]
    pub value_type: ValueType,
    /// Shown next to the input when connecting. Example:
    /// `description: Your Zendesk subdomain, e.g. acme for acme.zendesk.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Secret fields are encrypted at rest, shown as `***`, and reachable in templates only
    /// as `secrets.<name>`. Example: `secret: true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// Used when the user leaves the field empty (never allowed on secret fields).
    /// Example: `default: us`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// Whether a value is required; fields with a `default` never are. Example: `required: false`.
    #[serde(default = "default_true")]
    pub required: bool,
    /// A regular expression the value must match. Example: `pattern: "^[a-z0-9-]+$"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// The only values allowed. Example: `enum: [us, eu]`.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<serde_json::Value>>,
}

fn default_string_type() -> ValueType {
    ValueType::String
}

pub(crate) fn default_true() -> bool {
    true
}

/// How to test a connection: call an action and expect success.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// The action to call; it must exist in this connector. Example: `action: get_user`.
    pub action: String,
    /// Inputs for the action. Example: `input: { limit: 1 }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub input: TemplateMap,
}
