//! Workflow steps.
//!
//! A step is one of several kinds (`action`, `set`, `condition`, `for_each`, `http`), written
//! as a key beside the step's common fields (`id`, `retry`, `timeout`, `on_error`). The
//! compiler checks that exactly one kind is present and turns the step into a plan enum.

use super::common::{DurationText, Expression, HttpMethod, Template, TemplateMap, TemplateValue};
use super::errors::Backoff;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One step of a workflow: exactly one of `action`, `set`, `condition`, `for_each`, `http`,
/// `link`, `lookup`, `unlink`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Unique id within the workflow, letters, digits and `_` (starting with a letter); later
    /// steps read this step's output as `steps.<id>.output`. Example: `id: notify`.
    pub id: String,
    /// A human name for run history. Example: `name: Post to Slack`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Run the step only when this expression is true; otherwise it is skipped.
    /// Example: `if: "trigger.payload.issue.labels | length > 0"`.
    #[serde(rename = "if", default, skip_serializing_if = "Option::is_none")]
    pub condition_if: Option<Expression>,
    /// Call a connector action.
    /// Example: `action: { use: slack.post_message, connection: acme-slack, input: { channel: "#eng", text: hi } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ActionStep>,
    /// Compute values; the mapping becomes the step output.
    /// Example: `set: { title: "{{ trigger.payload.issue.title | upper }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<IndexMap<String, TemplateValue>>,
    /// Branch on an expression. Example: `condition: { if: "steps.get.output.total > 0", then: [...], else: [...] }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<ConditionStep>,
    /// Run nested steps once per item of a list.
    /// Example: `for_each: { items: "{{ steps.list.output.records }}", as: issue, steps: [...] }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each: Option<ForEachStep>,
    /// A raw HTTP request, for APIs without a connector.
    /// Example: `http: { method: POST, url: https://example.com/hook, body: { json: { ok: true } } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpStep>,
    /// Remember which provider object stands for a local record (e.g. the calendar event
    /// made for `appointment:123`), so later runs update or delete the same object. The
    /// output is the link. Example:
    /// `link: { key: "appointment:{{ trigger.payload.id }}", connection: acme-calendar, object_type: event, external_id: "{{ steps.create.output.id }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<LinkStep>,
    /// Find the provider object linked to a local key: the output is
    /// `{external_id, object_type}`, or null when there is none.
    /// Example: `lookup: { key: "appointment:{{ trigger.payload.id }}", connection: acme-calendar }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<LookupStep>,
    /// Forget the link of a local key (after deleting the object): the output is
    /// `{removed: true|false}`.
    /// Example: `unlink: { key: "appointment:{{ trigger.payload.id }}", connection: acme-calendar }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlink: Option<LookupStep>,
    /// End the run as failed with this message (a template), without retries; give it an
    /// `if`. Example: `fail: "Appointment {{ trigger.payload.id }} overlaps a busy slot"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail: Option<Template>,
    /// Retries of this step when it fails. Example: `retry: { attempts: 5, backoff: exponential }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<StepRetry>,
    /// Deadline for one attempt of the step. Example: `timeout: 30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
    /// `fail` (default) stops the run; `continue` records the error as the step output and
    /// goes on. Example: `on_error: continue`.
    #[serde(default)]
    pub on_error: OnError,
}

/// The step kinds, in the order they are listed in messages.
pub const STEP_KINDS: [&str; 9] = [
    "action",
    "set",
    "condition",
    "for_each",
    "http",
    "link",
    "lookup",
    "unlink",
    "fail",
];

/// A link between a local key and a provider object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkStep {
    /// The local record's key, a template. Example: `key: "appointment:{{ trigger.payload.id }}"`.
    pub key: Template,
    /// The connection the object lives in (a key has one link per connection).
    /// Example: `connection: acme-calendar`.
    pub connection: String,
    /// What kind of object it is. Example: `object_type: event`.
    pub object_type: String,
    /// The provider's id of the object, a template. An id already linked to another key
    /// of the same connection is an error. Example: `external_id: "{{ steps.create.output.id }}"`.
    pub external_id: Template,
}

/// A local key in one connection.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupStep {
    /// The local record's key, a template. Example: `key: "appointment:{{ trigger.payload.id }}"`.
    pub key: Template,
    /// Example: `connection: acme-calendar`.
    pub connection: String,
}

/// A connector action call.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionStep {
    /// `<connector>.<action>`. Example: `use: slack.post_message`.
    #[serde(rename = "use")]
    pub uses: String,
    /// The connection to call it with. Example: `connection: acme-slack`.
    pub connection: String,
    /// Inputs of the action (templates). Example: `input: { channel: "#eng", text: "{{ trigger.payload.issue.title }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub input: TemplateMap,
}

/// A branch.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionStep {
    /// Example: `if: "steps.check.output.status == 'ok'"`.
    #[serde(rename = "if")]
    pub test: Expression,
    /// Steps run when true. Example: `then: [{ id: ok, set: { fine: true } }]`.
    #[serde(default)]
    pub then: Vec<StepSpec>,
    /// Steps run when false. Example: `else: [{ id: alert, action: { ... } }]`.
    #[serde(rename = "else", default, skip_serializing_if = "Vec::is_empty")]
    pub otherwise: Vec<StepSpec>,
}

/// A loop over a list.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForEachStep {
    /// A template whose value is a list. Example: `items: "{{ steps.list.output.records }}"`.
    pub items: TemplateValue,
    /// The name of the current item in nested templates. Example: `as: issue`.
    #[serde(rename = "as", default = "default_item_name")]
    pub item: String,
    /// Nested steps, run for each item. Example: `steps: [{ id: post, action: { ... } }]`.
    pub steps: Vec<StepSpec>,
    /// Items processed at once. Example: `concurrency: 4`.
    #[serde(default = "default_concurrency")]
    pub concurrency: u32,
}

fn default_item_name() -> String {
    "item".into()
}

fn default_concurrency() -> u32 {
    1
}

/// A raw HTTP request.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpStep {
    /// Example: `method: POST`.
    pub method: HttpMethod,
    /// The full URL, a template. Example: `url: "https://hooks.example.com/{{ vars.path }}"`.
    pub url: Template,
    /// Example: `headers: { Content-Type: application/json }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: TemplateMap,
    /// Example: `query: { q: "{{ trigger.payload.term }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: TemplateMap,
    /// Example: `body: { json: { text: hi } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<super::action::BodySpec>,
}

/// Retries of a step.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRetry {
    /// Total attempts including the first. Example: `attempts: 5`.
    pub attempts: u32,
    /// `exponential` (default, with jitter) or `constant`. Example: `backoff: constant`.
    #[serde(default)]
    pub backoff: Backoff,
    /// Delay before the first retry. Example: `initial_delay: 1s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay: Option<DurationText>,
    /// Upper bound of any single delay. Example: `max_delay: 5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay: Option<DurationText>,
}

/// What a failed step does to its run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    #[default]
    Fail,
    Continue,
}
