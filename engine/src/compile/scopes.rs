//! Which variables each kind of template may use.
//!
//! One function per place a template can appear, so the list of roots for a field is
//! written once and the reference docs can quote it.

use super::template::Scope;
use std::collections::BTreeSet;

/// `base_url`, connector headers and query, auth: the connection's config and secrets.
pub fn connector_base(plain: BTreeSet<String>, secret: BTreeSet<String>) -> Scope {
    Scope::new()
        .config(plain, secret)
        .any("connection")
        .any("now")
}

/// An action's path, query, headers and body: adds `input`, the pagination state `page`,
/// and `run` (the run and step calling it, e.g. for idempotency keys).
pub fn action_request(
    base: &Scope,
    action: &str,
    inputs: impl IntoIterator<Item = String>,
) -> Scope {
    with_page(
        base.clone()
            .known("input", inputs, format!("input of action `{action}`"))
            .any("run"),
    )
}

/// Adds `page`, the pagination state: `page.cursor`, `page.number`, `page.offset`, `page.size`.
pub fn with_page(scope: Scope) -> Scope {
    scope.known(
        "page",
        ["cursor", "number", "offset", "size"].map(String::from),
        "pagination variable",
    )
}

/// Record filters and added fields: the request scope plus the `record` being mapped.
pub fn record(request: &Scope) -> Scope {
    request.clone().any("record")
}

/// Error rules and stop rules: the request scope plus the `response` (status, headers, body).
pub fn action_response(request: &Scope) -> Scope {
    request.clone().any("response")
}

/// Webhook signing content and handshakes: the incoming request.
pub fn webhook_request(base: &Scope) -> Scope {
    [
        "raw_body",
        "headers",
        "query",
        "url",
        "form",
        "timestamp",
        "event_id",
        "payload",
        "request",
    ]
    .iter()
    .fold(base.clone(), |scope, root| scope.any(root))
}

/// Trigger filters: the verified event.
pub fn webhook_filter(base: &Scope) -> Scope {
    ["event_type", "event_id", "payload", "headers", "query"]
        .iter()
        .fold(base.clone(), |scope, root| scope.any(root))
}

/// Workflow templates: the trigger, earlier steps' outputs, vars, env, now, run, and the
/// loop variables of enclosing `for_each` steps.
pub fn workflow(
    vars: impl IntoIterator<Item = String>,
    earlier_steps: &BTreeSet<String>,
    loop_vars: &[String],
) -> Scope {
    let mut scope = Scope::new()
        .any("trigger")
        .known("steps", earlier_steps.iter().cloned(), "earlier step")
        .known("vars", vars, "workflow variable")
        .any("env")
        .any("now")
        .any("run");
    for name in loop_vars {
        scope = scope.any(name);
    }
    scope
}
