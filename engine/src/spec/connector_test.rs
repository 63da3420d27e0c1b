//! Connector tests: a connector's own tests, as data (`connectors/tests/<id>.yaml`). Run by
//! `switchyard test` and by `cargo test`, without reaching the provider: each action case
//! scripts the exact requests expected and the recorded responses to give back; each webhook
//! case signs a delivery with the connector's own rules and says what receiving it must do.

use super::common::HttpMethod;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The tests of one connector.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectorTestsSpec {
    /// The connector under test. Example: `tests: slack`.
    pub tests: String,
    /// The connection the cases use: fake config and secrets, never real ones.
    /// Example: `connection: { config: { bot_token: xoxb-test }, auth: bearer }`.
    #[serde(default)]
    pub connection: TestConnectionSpec,
    /// The cases, run in order.
    /// Example: `cases: [{ name: posts a message, action: post_message, ... }]`.
    pub cases: Vec<TestCaseSpec>,
}

/// A connection for tests.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestConnectionSpec {
    /// Config and secret fields by name (fake values). Example: `config: { token: test-token }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub config: IndexMap<String, Json>,
    /// The auth mode to use (default: the connector's first usable one). Example: `auth: bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// OAuth tokens the connection holds, for `oauth2` auth. Example:
    /// `tokens: { access_token: test-access, scope: "chat:write", extra: { team_id: T1 } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<TestTokensSpec>,
}

/// OAuth tokens for a test connection.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestTokensSpec {
    /// Example: `access_token: test-access`.
    pub access_token: String,
    /// Granted scopes (`connection.scope`). Example: `scope: "chat:write"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Values kept from the token response (`connection.<name>`). Example: `extra: { team_id: T1 }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub extra: IndexMap<String, Json>,
}

/// One case: an action call (`action:`) or a webhook delivery (`webhook:`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCaseSpec {
    /// What the case shows. Example: `name: posts a message to a channel`.
    pub name: String,
    /// Another connection for this case only (replaces the file's).
    /// Example: `connection: { config: { token: other }, auth: bearer }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<TestConnectionSpec>,
    /// The action to call. Example: `action: post_message`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The action's inputs. An input of type `file` is written as the file itself,
    /// `{content, name, content_type}` (content as text), and the action receives its
    /// reference; a file in the output is shown the same way (plus `size`).
    /// Example: `input: { channel: C123, text: hello }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub input: IndexMap<String, Json>,
    /// The requests the action must send, in order, each with the response to give back.
    /// Example: `exchanges: [{ request: { method: GET, url: https://api.example.com/me }, response: { json: { id: 1 } } }]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exchanges: Vec<ExchangeSpec>,
    /// The action's expected output (exact). Example: `output: { ts: "1.2" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Json>,
    /// A list action's expected records, in order (exact). Example: `records: [{ id: C1 }, { id: C2 }]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<Json>>,
    /// The call must fail with a message containing this text. Example: `error: channel_not_found`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A webhook delivery to receive (signed with the connection's secret unless `signed: false`).
    /// Example: `webhook: { headers: { X-GitHub-Event: ping }, json: { zen: hi } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<DeliverySpec>,
    /// The delivery is a handshake: the reply expected. Example: `reply: { status: 200, body: abc }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<ReplySpec>,
    /// The delivery is an event: its expected type and id. Example: `event: { type: issues.opened, id: d-1 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<ExpectedEventSpec>,
    /// The connector triggers the event starts, by name (exact set). Example: `triggers: [message]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Vec<String>>,
    /// The delivery must be refused. Example: `rejected: true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rejected: bool,
}

/// One request the action must send, and the response the test gives back.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangeSpec {
    /// The request expected. Example: `request: { method: POST, url: https://slack.com/api/auth.test }`.
    pub request: ExpectedRequestSpec,
    /// The response given back. Example: `response: { status: 200, json: { ok: true } }`.
    pub response: RecordedResponseSpec,
}

/// The request expected: every field given must match.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectedRequestSpec {
    /// Example: `method: POST`.
    pub method: HttpMethod,
    /// The full URL without its query string. Example: `url: https://slack.com/api/chat.postMessage`.
    pub url: String,
    /// The query parameters (exact set; omit for none). Example: `query: { limit: "200" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: IndexMap<String, String>,
    /// Headers that matter (names ignore case; others may be sent too).
    /// Example: `headers: { Authorization: Bearer xoxb-test }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// A JSON body (exact). Example: `json: { channel: C123, text: hello }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Json>,
    /// A form body (exact set of fields). Example: `form: { To: "+15551234567" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<IndexMap<String, String>>,
    /// A raw body (exact text). Example: `raw: "hello"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

/// A recorded response (secrets redacted).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponseSpec {
    /// Example: `status: 200`.
    #[serde(default = "ok_status")]
    pub status: u16,
    /// Example: `headers: { Link: "<https://api.github.com/x?page=2>; rel=\"next\"" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// A JSON body. Example: `json: { ok: true, ts: "1.2" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Json>,
    /// A text body. Example: `text: "<Response/>"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

fn ok_status() -> u16 {
    200
}

/// A webhook delivery as the provider would send it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeliverySpec {
    /// Example: `method: POST` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// The URL the provider calls (some schemes sign it).
    /// Example: `url: https://hooks.example.com/hooks/twilio/main`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Headers the provider sends besides the signature. Example: `headers: { X-GitHub-Event: issues }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: IndexMap<String, String>,
    /// A JSON body. Example: `json: { type: url_verification, challenge: abc }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Json>,
    /// A form body (`application/x-www-form-urlencoded`). Example: `form: { MessageStatus: delivered }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<IndexMap<String, String>>,
    /// A raw body. Example: `raw: "payload=..."`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Sign it with the connection's webhook secret (default `true`); `false` sends it
    /// unsigned, to show it is refused or that a handshake needs no signature.
    /// Example: `signed: false`.
    #[serde(default = "yes")]
    pub signed: bool,
    /// When the delivery is signed and received (RFC 3339; default: now). For providers
    /// that put the signed timestamp in a body the case writes out.
    /// Example: `at: "2024-05-04T10:00:00Z"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

fn yes() -> bool {
    true
}

/// A handshake reply.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplySpec {
    /// Example: `status: 200`.
    #[serde(default = "ok_status")]
    pub status: u16,
    /// The reply body (exact). Example: `body: abc`.
    #[serde(default)]
    pub body: String,
}

/// What a received event must be.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectedEventSpec {
    /// Example: `type: issues.opened`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Example: `id: 72d3162e-cc78-11e3-81ab-4c9367dc0958`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}
