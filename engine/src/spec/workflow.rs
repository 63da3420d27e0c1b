//! The workflow spec: a trigger and the steps it starts, as a user wrote it in
//! `workflows/<name>.yaml`.

use super::common::{DurationText, Expression, TemplateValue};
use super::step::StepSpec;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A workflow: when its trigger fires, its steps run in order.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkflowSpec {
    /// Unique id of the workflow, lowercase with dashes; also its webhook path
    /// `/hooks/<id>`. Example: `workflow: new-issue-to-slack`.
    pub workflow: String,
    /// What the workflow does. Example: `description: Post new GitHub issues to #eng.`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Disabled workflows are loaded and validated but never triggered. Example: `enabled: false`.
    #[serde(default = "super::connector::default_true")]
    pub enabled: bool,
    /// At most this many runs of the workflow at once; further runs wait in the queue.
    /// Example: `concurrency: 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Constants for templates, as `vars.<name>`. Example: `vars: { channel: "#eng" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub vars: IndexMap<String, TemplateValue>,
    /// What starts a run. Example: `trigger: { cron: { schedule: "*/15 * * * *" } }`.
    pub trigger: TriggerSpec,
    /// The steps, run in order. Example: `steps: [{ id: notify, action: { use: slack.post_message, ... } }]`.
    pub steps: Vec<StepSpec>,
    /// A workflow started when a run fails for good, with the failed run as its trigger.
    /// Example: `on_failure: { workflow: alert-oncall }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnFailure>,
    /// Deadline for a whole run. Example: `timeout: 15m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
}

/// What starts a run.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TriggerSpec {
    /// A webhook trigger of a connector, for one connection.
    /// Example: `webhook: { connector: github, event: issue_opened, connection: acme-github }`.
    Webhook(WebhookTriggerRef),
    /// A schedule. Example: `cron: { schedule: "0 9 * * MON-FRI", timezone: Europe/Berlin }`.
    Cron(CronTrigger),
    /// A polling trigger of a connector, for one connection.
    /// Example: `poll: { connector: github, trigger: issue_updated, connection: acme-github }`.
    Poll(PollTriggerRef),
    /// Started by hand (CLI, API, dashboard) with typed input.
    /// Example: `manual: { input: { email: { type: string } } }`.
    Manual(ManualTrigger),
}

/// A connector's webhook trigger.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookTriggerRef {
    /// Connector id. Example: `connector: github`.
    pub connector: String,
    /// A webhook trigger of that connector. Example: `event: issue_opened`.
    pub event: String,
    /// The connection whose secrets verify deliveries. Example: `connection: acme-github`.
    pub connection: String,
    /// An extra filter over `event_type`, `payload`, `headers`.
    /// Example: `filter: "payload.repository.name == 'api'"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Expression>,
}

/// A cron schedule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CronTrigger {
    /// Cron expression, 5 fields (or 6 with seconds first); `@daily` style aliases work.
    /// Example: `schedule: "0 9 * * MON-FRI"`.
    pub schedule: String,
    /// IANA time zone the schedule is read in; DST changes follow the Open Cron Pattern
    /// Specification. Example: `timezone: Europe/Berlin`.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// Firings missed while Switchyard was down: `none` skips them, `latest` (default) runs
    /// the most recent one, `all` runs each. Example: `catchup: all`.
    #[serde(default)]
    pub catchup: Catchup,
    /// When a firing comes while the previous run is still going: `skip` (default),
    /// `queue` or `allow` (run both). Example: `overlap: queue`.
    #[serde(default)]
    pub overlap: Overlap,
    /// Spreads firings over this long after their nominal time, so many workflows on the
    /// same schedule do not all call a provider at once. Each firing's delay is derived
    /// from the workflow id and the nominal time: the same after a restart and on every
    /// instance. Example: `jitter: 30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<DurationText>,
}

fn default_timezone() -> String {
    "UTC".into()
}

/// Catch-up policy for missed cron firings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Catchup {
    None,
    #[default]
    Latest,
    All,
}

/// Overlap policy for cron firings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    #[default]
    Skip,
    Queue,
    Allow,
}

/// A connector's polling trigger.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollTriggerRef {
    /// Connector id. Example: `connector: github`.
    pub connector: String,
    /// A poll trigger of that connector. Example: `trigger: issue_updated`.
    pub trigger: String,
    /// The connection to poll with. Example: `connection: acme-github`.
    pub connection: String,
    /// Overrides the connector's interval. Example: `every: 1m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every: Option<DurationText>,
}

/// A manually started workflow.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualTrigger {
    /// Typed input, available as `trigger.payload.<name>`.
    /// Example: `input: { email: { type: string } }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub input: IndexMap<String, super::action::InputSpec>,
}

/// The workflow started when a run fails.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OnFailure {
    /// Workflow id. Example: `workflow: alert-oncall`.
    pub workflow: String,
}
