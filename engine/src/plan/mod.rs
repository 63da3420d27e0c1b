//! The compiled plan: what the runtime executes.
//!
//! A plan is made only by the compiler, from specs that passed every check. Text from the
//! YAML has been turned into checked forms here: templates are parsed and classified,
//! JSONPath queries parsed, durations and cron schedules parsed, references resolved
//! (an action holds its paginator and its full list of error rules, not names). The runtime
//! never parses YAML or re-validates; it reads these types.

mod connector;
mod live;
mod template;
mod transfer;
mod workflow;

pub use connector::*;
pub use live::LiveCatalog;
pub use template::{CompiledExpression, CompiledTemplate, TemplateShape, TemplateTree};
pub use transfer::*;
pub use workflow::*;

use indexmap::IndexMap;
use std::sync::Arc;

/// Every connector and workflow of a load, compiled.
#[derive(Debug, Default)]
pub struct Catalog {
    pub connectors: IndexMap<String, Arc<ConnectorPlan>>,
    pub workflows: IndexMap<String, Arc<WorkflowPlan>>,
}
