//! Switchyard: a declarative integration engine.
//!
//! Providers are YAML connector specs; users write YAML workflows; one generic engine
//! interprets both. No provider has Rust code of its own.
//!
//! # The data path
//!
//! ```text
//! YAML on disk --load--> spec::*  --compile--> plan::*   (all problems reported together)
//! plan::ActionPlan + Connection --interpret--> HTTP requests -> output / records
//! ```
//!
//! # Layout
//!
//! - [`spec`]: what the user wrote, as serde + schemars types (the JSON Schemas come from here).
//! - [`load`]: YAML files -> spec types, with the position of every node.
//! - [`compile`]: spec -> plan: references resolved, templates, JSONPath and cron compiled,
//!   lints run; every problem collected as a [`diag::Diagnostic`].
//! - [`plan`]: the checked form the runtime executes; it never holds raw YAML.
//! - [`interpret`]: the HTTP interpreter that runs connector actions (auth, pagination,
//!   mapping, retries, rate limits).
//! - [`diag`]: diagnostics and their human, JSON and GitHub renderings.
//! - [`schema`]: JSON Schema and reference-doc generation from the spec types.
//! - [`webhook`]: receiving deliveries: signature verification, handshakes, event labels.
//! - [`runtime`]: the run engine: events to runs, workers executing steps through the interpreter.
//! - [`schedule`]: cron triggers: firing times, DST, catch-up and overlap, the cron loop.
//! - [`store`]: the durable store (SQLite): events, dedupe keys, the run queue, step journals.
//! - [`server`]: the HTTP server of `switchyard serve` (axum).
//! - [`cli`]: the `switchyard` command line (thin: parse arguments, call the library).

pub mod access;
pub mod cli;
pub mod compile;
pub mod connections;
pub mod connector_docs;
pub mod diag;
pub mod files;
pub mod harness;
pub mod interpret;
pub mod jsonpath;
pub mod load;
pub mod metrics;
pub mod oauth;
pub mod plan;
pub mod runtime;
pub mod schedule;
pub mod schema;
pub mod secrets;
pub mod server;
pub mod spec;
pub mod store;
pub mod template_env;
pub mod template_filters;
pub mod webhook;
