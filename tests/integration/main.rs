//! Integration tests, in one binary so the crate is linked once.

mod broken_specs;
mod call_cli;
mod cli;
mod common;
mod connections_cli;
mod connector_tests;
mod crash;
mod email;
mod interpreter;
mod jsonpath_cts;
mod no_panic;
mod oauth;
mod poller;
mod rest_api;
mod rest_history;
mod retention;
mod run_engine;
mod runs_cli;
mod scheduler;
mod schema_drift;
mod serve;
mod shipped_specs;
mod store;
mod webhook_cli;
mod webhook_server;
mod webhooks;
