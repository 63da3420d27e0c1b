//! Compiled workflows.

use super::connector::{BodyPlan, TemplatePairs};
use super::template::{CompiledExpression, CompiledTemplate, TemplateTree};
use crate::spec::common::HttpMethod;
use crate::spec::errors::Backoff;
use crate::spec::step::OnError;
use crate::spec::workflow::{Catchup, Overlap};
use std::time::Duration;

/// A compiled workflow.
#[derive(Debug)]
pub struct WorkflowPlan {
    pub id: String,
    pub description: Option<String>,
    pub content_hash: String,
    pub enabled: bool,
    pub concurrency: Option<u32>,
    pub vars: Vec<(String, TemplateTree)>,
    pub trigger: WorkflowTriggerPlan,
    pub steps: Vec<StepPlan>,
    pub on_failure: Option<String>,
    pub timeout: Option<Duration>,
}

/// What starts a run.
#[derive(Debug, Clone)]
pub enum WorkflowTriggerPlan {
    Webhook {
        connector: String,
        event: String,
        connection: String,
        filter: Option<CompiledExpression>,
    },
    Cron(Box<CronPlan>),
    Poll {
        connector: String,
        trigger: String,
        connection: String,
        every: Duration,
    },
    Manual {
        input: indexmap::IndexMap<String, super::connector::InputPlan>,
    },
}

/// A parsed cron schedule in its time zone.
#[derive(Debug, Clone)]
pub struct CronPlan {
    /// The schedule as written, for display.
    pub source: String,
    pub schedule: croner::Cron,
    pub timezone: chrono_tz::Tz,
    pub catchup: Catchup,
    pub overlap: Overlap,
    /// Firings are delayed by a deterministic amount below this.
    pub jitter: Option<std::time::Duration>,
}

/// A step with its common settings.
#[derive(Debug, Clone)]
pub struct StepPlan {
    pub id: String,
    pub name: Option<String>,
    pub condition: Option<CompiledExpression>,
    pub kind: StepKind,
    pub retry: Option<StepRetryPlan>,
    pub timeout: Option<Duration>,
    pub on_error: OnError,
}

/// The step kinds.
#[derive(Debug, Clone)]
pub enum StepKind {
    Action {
        connector: String,
        action: String,
        connection: String,
        input: TemplatePairs,
    },
    Set(Vec<(String, TemplateTree)>),
    Condition {
        test: CompiledExpression,
        then: Vec<StepPlan>,
        otherwise: Vec<StepPlan>,
    },
    ForEach {
        items: TemplateTree,
        item: String,
        steps: Vec<StepPlan>,
        concurrency: u32,
    },
    Http {
        method: HttpMethod,
        url: CompiledTemplate,
        headers: TemplatePairs,
        query: TemplatePairs,
        body: Option<BodyPlan>,
    },
    /// Records (or moves) the link of a local key in a connection.
    Link {
        key: CompiledTemplate,
        connection: String,
        object_type: String,
        external_id: CompiledTemplate,
    },
    Lookup {
        key: CompiledTemplate,
        connection: String,
    },
    Unlink {
        key: CompiledTemplate,
        connection: String,
    },
    /// Ends the run as failed with the rendered message.
    Fail(CompiledTemplate),
}

/// Step retries with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRetryPlan {
    pub attempts: u32,
    pub backoff: Backoff,
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

impl StepKind {
    /// The step kind's name, as in the spec (`action`, `set`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Action { .. } => "action",
            StepKind::Set(_) => "set",
            StepKind::Condition { .. } => "condition",
            StepKind::ForEach { .. } => "for_each",
            StepKind::Http { .. } => "http",
            StepKind::Link { .. } => "link",
            StepKind::Lookup { .. } => "lookup",
            StepKind::Unlink { .. } => "unlink",
            StepKind::Fail(_) => "fail",
        }
    }
}
