//! How a provider signs and labels its webhook deliveries.
//!
//! One block per connector, interpreted by one generic verifier that fails closed: a
//! missing header, a malformed header, a wrong signature or a stale timestamp all reject
//! the delivery before anything else looks at it.

use super::common::{DurationText, Expression, Template, ValueSource};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Webhook rules shared by all webhook triggers of a connector.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// How deliveries are authenticated. Required: use `none: { reason: ... }` to accept
    /// unsigned deliveries on purpose. Example: `verify: { token: { from: { header: X-Gitlab-Token }, value: "{{ secrets.token }}" } }`.
    pub verify: VerifySpec,
    /// Challenge/handshake requests answered directly, e.g. Slack's `url_verification`.
    /// Example: `handshakes: [{ when: "payload.type == 'url_verification'", respond: { body: "{{ payload.challenge }}" } }]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handshakes: Vec<HandshakeSpec>,
    /// The delivery id, used to drop duplicates. Example: `event_id: { header: X-GitHub-Delivery }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<ValueSource>,
    /// The event type triggers match on. Example: `event_type: { header: X-GitHub-Event }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<ValueSource>,
    /// For providers that send every account's events to one URL: the value that identifies
    /// the connection (matched against the connection's `routing_key`).
    /// Example: `routing_key: { body: $.team_id }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<ValueSource>,
    /// How long delivery ids are remembered for deduplication (default 7 days).
    /// Example: `dedupe_window: 24h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe_window: Option<DurationText>,
    /// What an accepted (or duplicate) delivery is answered with, for providers that read
    /// the answer (Twilio expects TwiML). Default: `200` with the text `accepted`.
    /// Example: `reply: { content_type: application/xml, body: "<Response/>" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<AcceptedReplySpec>,
}

/// Signature verification scheme.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum VerifySpec {
    /// An HMAC over content built from the request.
    /// Example: `hmac: { algorithm: sha256, key: "{{ secrets.secret }}", signed: "{{ raw_body }}", signature: { header: X-Signature, encoding: hex } }`.
    Hmac(Box<HmacVerify>),
    /// A shared token compared in constant time (e.g. GitLab's `X-Gitlab-Token`).
    /// Example: `token: { from: { header: X-Gitlab-Token }, value: "{{ secrets.token }}" }`.
    Token(TokenVerify),
    /// The scheme named by a connection config value, for generic connectors whose users
    /// pick how their sender signs. Example:
    /// `by_config: { field: scheme, schemes: { github: { hmac: {...} }, token: { token: {...} } } }`.
    ByConfig(ByConfigVerify),
    /// No verification. Allowed only with a reason, shown by `validate` and in the event log.
    /// Example: `none: { reason: The provider cannot sign; the URL carries a random token. }`.
    None(NoVerify),
}

/// HMAC algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HmacAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

/// How a key or signature is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// The bytes of the text as written (keys only).
    #[default]
    Utf8,
    Hex,
    Base64,
}

/// HMAC signature verification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HmacVerify {
    /// Example: `algorithm: sha256`.
    pub algorithm: HmacAlgorithm,
    /// The key, from the connection's secrets. With key rotation every active secret is
    /// tried. Example: `key: "{{ secrets.signing_secret }}"`.
    pub key: Template,
    /// A prefix stripped from the key before decoding. Example: `key_prefix: whsec_`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
    /// How the key is written. Example: `key_encoding: base64`.
    #[serde(default)]
    pub key_encoding: Encoding,
    /// The signed content: a template over `raw_body`, `headers`, `query`, `url`, `form`
    /// (sorted form parameters), `timestamp` and `event_id`.
    /// Example: `signed: "v0:{{ timestamp }}:{{ raw_body }}"`.
    pub signed: Template,
    /// Where the signature is and how it is written.
    /// Example: `signature: { header: X-Hub-Signature-256, prefix: "sha256=", encoding: hex }`.
    pub signature: SignatureSpec,
    /// Timestamp check against replays. Example: `timestamp: { from: { header: X-Slack-Request-Timestamp }, tolerance: 5m }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimestampSpec>,
}

/// Where a signature is found and how it is written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureSpec {
    /// The header holding it. Example: `header: X-Hub-Signature-256`.
    pub header: String,
    /// Text before the signature value. Example: `prefix: "sha256="`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// `hex` or `base64`. Example: `encoding: hex`.
    pub encoding: Encoding,
    /// The header holds a list of signatures (any one may match), e.g. Stripe's
    /// `t=1,v1=ab,v1=cd` or Standard Webhooks' `v1,ab v1,cd`.
    /// Example: `list: { separator: ",", key_separator: "=", key: v1 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<SignatureList>,
}

/// A list of signatures in one header.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureList {
    /// Between entries. Example: `separator: " "`.
    pub separator: String,
    /// Between an entry's key and value. Example: `key_separator: ","`.
    pub key_separator: String,
    /// Entries with this key are signatures. Example: `key: v1`.
    pub key: String,
}

/// Where a delivery's timestamp is and how much clock skew is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimestampSpec {
    /// Example: `from: { header: X-Slack-Request-Timestamp }`.
    pub from: TimestampSource,
    /// `seconds` (default) or `milliseconds` since the Unix epoch, or `rfc3339` text.
    /// Example: `unit: seconds`.
    #[serde(default)]
    pub unit: TimestampUnit,
    /// Deliveries older than this (or this far in the future) are rejected. Example: `tolerance: 5m`.
    pub tolerance: DurationText,
}

/// Where a timestamp is read.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TimestampSource {
    /// Example: `header: Webhook-Timestamp`.
    Header(String),
    /// JSONPath into the body. Example: `body: $.timestamp`.
    Body(super::common::JsonPathText),
    /// An entry of the signature list, e.g. Stripe's `t`. Example: `signature_key: t`.
    SignatureKey(String),
}

/// Timestamp units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimestampUnit {
    /// Seconds since the Unix epoch (default).
    #[default]
    Seconds,
    /// Milliseconds since the Unix epoch.
    Milliseconds,
    /// An RFC 3339 date-time such as `2026-11-22T10:00:00.123Z` (Twitch).
    Rfc3339,
}

/// Shared-token verification.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenVerify {
    /// Where the token arrives. Example: `from: { header: X-Gitlab-Token }`.
    pub from: ValueSource,
    /// The expected value. Example: `value: "{{ secrets.webhook_token }}"`.
    pub value: Template,
}

/// Explicitly unverified deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoVerify {
    /// Why accepting unsigned deliveries is acceptable here.
    /// Example: `reason: The provider does not sign webhooks; the URL holds a random token.`
    pub reason: String,
}

/// A handshake: a request answered with a fixed response instead of starting a run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandshakeSpec {
    /// An expression over `request` (`method`, `headers`, `query`), `payload`, `config`,
    /// `secrets`. Example: `when: "payload.type == 'url_verification'"`.
    pub when: Expression,
    /// Answer before signature verification, for providers that do not sign handshakes
    /// (Microsoft Graph's `validationToken`). Off by default. Example: `unsigned: true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsigned: bool,
    /// The response. Example: `respond: { body: "{{ payload.challenge }}", content_type: text/plain }`.
    pub respond: HandshakeResponse,
}

/// The response to a handshake.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandshakeResponse {
    /// Example: `status: 200`.
    #[serde(default = "default_status")]
    pub status: u16,
    /// Example: `content_type: text/plain`.
    #[serde(default = "default_content_type")]
    pub content_type: String,
    /// Example: `body: "{{ query['hub.challenge'] }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Template>,
    /// Extra response headers, fixed text. Example: `headers: { X-Content-Type-Options: nosniff }`.
    #[serde(default, skip_serializing_if = "indexmap::IndexMap::is_empty")]
    pub headers: indexmap::IndexMap<String, String>,
}

fn default_status() -> u16 {
    200
}

fn default_content_type() -> String {
    "text/plain".into()
}

/// Verification chosen per connection.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ByConfigVerify {
    /// The (non-secret) config field whose value names the scheme. Example: `field: scheme`.
    pub field: String,
    /// The schemes, by name; none of them may be `by_config` or `none`.
    /// Example: `schemes: { hex-sha256: { hmac: { algorithm: sha256, ... } } }`.
    pub schemes: indexmap::IndexMap<String, VerifySpec>,
}

/// The answer to an accepted delivery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptedReplySpec {
    /// Example: `content_type: application/xml`.
    pub content_type: String,
    /// The body, as written (not a template). Example: `body: "<Response/>"`.
    #[serde(default)]
    pub body: String,
}
