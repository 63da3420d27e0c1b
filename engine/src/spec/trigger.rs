//! Triggers a connector offers: webhook events and polled changes.

use super::common::{DurationText, Expression, JsonPathText, TemplateMap};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One trigger of a connector.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ConnectorTriggerSpec {
    /// A webhook event, verified by the connector's `webhooks` rules.
    /// Example: `webhook: { events: [issues], filter: "payload.action == 'opened'" }`.
    Webhook(WebhookTrigger),
    /// New or changed records found by calling a list action on a schedule.
    /// Example: `poll: { action: list_issues, every: 5m, cursor: { field: $.updated_at, input: since }, dedupe: $.id }`.
    Poll(Box<PollTrigger>),
}

/// A webhook trigger.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookTrigger {
    /// Event types (as read by `webhooks.event_type`) that fire it; empty means all.
    /// Example: `events: [issues, issue_comment]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// An expression over `event_type`, `payload`, `headers`, `config`; the trigger fires
    /// only when it is true. Example: `filter: "payload.action == 'opened'"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Expression>,
    /// What the trigger is, for the catalog. Example: `description: An issue was opened.`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A polling trigger.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollTrigger {
    /// The list action to call; it must declare `records`. Example: `action: list_issues`.
    pub action: String,
    /// Inputs for the action. Example: `input: { state: all }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub input: TemplateMap,
    /// How often to poll. Example: `every: 5m`.
    pub every: DurationText,
    /// Incremental cursor: the record field whose highest value is remembered, and the
    /// action input it is passed back in. Example: `cursor: { field: $.updated_at, input: since }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<PollCursor>,
    /// JSONPath to a record's unique key; records already seen are skipped. Example: `dedupe: $.id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedupe: Option<JsonPathText>,
    /// HTTP statuses that mean the cursor expired (Google's `410 Gone` for a stale sync
    /// token): the poll starts over without a cursor, and `dedupe` drops what was already
    /// emitted. Example: `resync_on: [410]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resync_on: Vec<u16>,
    /// Records for which this expression over `record` is true are deletions (e.g. a
    /// cancelled calendar event): their runs' trigger carries `deleted: true`.
    /// Example: `deleted: "record.status == 'cancelled'"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted: Option<Expression>,
    /// What the trigger is, for the catalog. Example: `description: An issue changed.`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The cursor of a polling trigger.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollCursor {
    /// JSONPath (relative to each record) of the value to remember: the highest one is
    /// kept. Example: `field: $.updated_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<JsonPathText>,
    /// JSONPath into the last page's response of a token to remember instead (a sync
    /// token or delta link). Example: `response: $.nextSyncToken`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<JsonPathText>,
    /// The action input that receives the remembered value. Example: `input: since`.
    pub input: String,
}
