//! What the user wrote: the typed form of connector and workflow YAML.
//!
//! These types are the schema. `schemas/*.json` and `docs/spec-reference.md` are generated
//! from them (their doc comments become editor tooltips), every struct rejects unknown
//! fields, and kinds are keys (externally tagged) so every error keeps its YAML location.
//!
//! Nothing here checks meaning (references, templates, JSONPath syntax): that is the
//! compiler's job, so one bad value never hides the others.

pub mod action;
pub mod auth;
pub mod common;
pub mod connector;
pub mod connector_test;
pub mod errors;
pub mod pagination;
pub mod smtp;
pub mod step;
pub mod trigger;
pub mod webhook;
pub mod workflow;

pub use action::ActionSpec;
pub use connector::ConnectorSpec;
pub use connector_test::ConnectorTestsSpec;
pub use step::StepSpec;
pub use workflow::WorkflowSpec;
