//! An action: one API operation of a connector (an HTTP request, its inputs, how to read
//! its response).

use super::common::{
    DurationText, Expression, HttpMethod, JsonPathText, Template, TemplateMap, TemplateValue,
    ValueType,
};
use super::errors::{ErrorRule, RetrySpec};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One API operation.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// What the action does, for the catalog. Example: `description: Create an issue.`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// HTTP method (HTTP actions: `method` and `path`; email actions: `smtp`).
    /// Example: `method: POST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// Path appended to `base_url`, a template. Each value it prints is percent-encoded
    /// as one path segment (`/`, `?` included); write `| safe` to print a value as it is.
    /// Example:
    /// `path: "/repos/{{ input.owner }}/{{ input.repo }}/issues"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Template>,
    /// Sends an email over SMTP instead of an HTTP request. The output is
    /// `{message_id, accepted}`. Example:
    /// `smtp: { host: "{{ config.host }}", from: "{{ config.from }}", to: "{{ input.to }}", subject: "{{ input.subject }}", text: "{{ input.text }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<super::smtp::SmtpSpec>,
    /// Replaces the connector's `base_url` for this action (uploads often use another host).
    /// Example: `base_url: https://uploads.github.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<Template>,
    /// Typed inputs, by name; templates reach them as `input.<name>`.
    /// Example: `input: { title: { type: string }, body: { type: string, optional: true } }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub input: IndexMap<String, InputSpec>,
    /// Query parameters; a parameter whose value renders to null is left out.
    /// Example: `query: { state: all, per_page: 100, since: "{{ input.since }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: TemplateMap,
    /// Request headers (in addition to the connector's). Example: `headers: { X-Request-Id: "{{ run.id }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: TemplateMap,
    /// The request body: `json`, `form` or `raw`.
    /// Example: `body: { json: { title: "{{ input.title }}" } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodySpec>,
    /// Named outputs read from the response by JSONPath; without it the whole response body
    /// is the output. Example: `output: { number: $.number, url: $.html_url }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub output: IndexMap<String, JsonPathText>,
    /// For list actions: where the records are in each response page. Example: `records: $.items[*]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<JsonPathText>,
    /// For list actions: the fields kept from each record, by JSONPath relative to the record.
    /// Example: `fields: { id: $.id, title: $.title, author: $.user.login }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub fields: IndexMap<String, JsonPathText>,
    /// For list actions: keep only the records for which this expression over `record` (and
    /// `input`, `config`) is true. Example: `filter: "record.state == 'open'"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Expression>,
    /// For list actions: fields added to each record (after `fields`), templates over
    /// `record`; a template that is one expression keeps its JSON type.
    /// Example: `add_fields: { summary: "{{ record.title }} by {{ record.user.login }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub add_fields: TemplateMap,
    /// For list actions: fields removed from each record, by name; `a.b` reaches into
    /// nested objects. Example: `remove_fields: [body, user.avatar_url]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_fields: Vec<String>,
    /// Name of a pagination strategy from the connector's `pagination` section.
    /// Example: `paginate: link_header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paginate: Option<String>,
    /// Error rules checked before the connector's, first match wins.
    /// Example: `errors: [{ status: [404], then: ignore }]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorRule>,
    /// Replaces the connector's retry policy for this action.
    /// Example: `retry: { attempts: 1 }` (never retry a non-idempotent call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec>,
    /// Whether sending the request twice is harmless, so it may be retried after a timeout
    /// or a 5xx. Defaults to true for GET, HEAD, PUT, DELETE and OPTIONS and for actions
    /// with an `idempotency_key`; false for POST and PATCH, which are then retried only when
    /// the provider cannot have acted on them (connection refused, 429).
    /// Example: `idempotent: true` (a POST search endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// Header that carries an idempotency key: the same for every attempt of one call
    /// (derived from the run and step ids; random per call outside a run), so the provider
    /// can drop duplicates. Example: `idempotency_key: Idempotency-Key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Deadline for the whole action, all pages and retries included. Example: `timeout: 2m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
}

/// A typed action input.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The JSON type. Example: `type: integer`.
    #[serde(rename = "type")]
    pub value_type: ValueType,
    /// Shown in the catalog and in editor tooltips. Example: `description: Channel id or name.`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the input may be left out; inputs with a `default` always may.
    /// Example: `optional: true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Used when the input is not given. Example: `default: 100`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// The only values allowed. Example: `enum: [open, closed, all]`.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<serde_json::Value>>,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BodySpec {
    /// A JSON document; strings in it are templates; mapping entries that render to null
    /// are left out. Example: `json: { text: "{{ input.text }}", channel: "{{ input.channel }}" }`.
    Json(TemplateValue),
    /// `application/x-www-form-urlencoded` fields. Example: `form: { To: "{{ input.to }}", Body: "{{ input.text }}" }`.
    Form(TemplateMap),
    /// Any other body: a content type and a template.
    /// Example: `raw: { content_type: text/csv, content: "{{ input.csv }}" }`.
    Raw(RawBody),
}

/// A body sent as text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBody {
    /// Example: `content_type: text/plain`.
    pub content_type: String,
    /// Example: `content: "{{ input.text }}"`.
    pub content: Template,
}
