//! Prometheus metrics: every metric's name, labels and meaning in one place.
//!
//! Call sites use the functions here, never the `metrics` macros directly, so names stay
//! consistent and label values come only from bounded sets (spec ids, status names,
//! fixed reason kinds). Until [`install`] runs (in `serve`), every call is a cheap no-op.
//!
//! Must never put a request value, a secret or an id of a single run into a label.

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Installs the process-wide recorder; `None` if one is installed already.
pub fn install() -> Option<PrometheusHandle> {
    let handle = PrometheusBuilder::new().install_recorder().ok()?;
    metrics::describe_counter!(
        "switchyard_webhooks_total",
        "Webhook deliveries by connector and outcome (accepted, duplicate, handshake, rejected, invalid, overloaded, error)"
    );
    metrics::describe_counter!(
        "switchyard_webhooks_rejected_total",
        "Deliveries refused by verification, by connector and reason"
    );
    metrics::describe_counter!(
        "switchyard_runs_finished_total",
        "Finished runs by workflow and status"
    );
    metrics::describe_histogram!(
        "switchyard_step_duration_seconds",
        "Step durations (all attempts) by workflow, step kind and status"
    );
    metrics::describe_gauge!("switchyard_queue_depth", "Runs waiting in the queue");
    metrics::describe_histogram!(
        "switchyard_queue_wait_seconds",
        "Time from a run being queued to a worker taking it"
    );
    metrics::describe_counter!(
        "switchyard_http_requests_total",
        "Requests to providers by connector and HTTP status (`error` when no answer came)"
    );
    metrics::describe_histogram!(
        "switchyard_http_request_duration_seconds",
        "Request durations to providers by connector"
    );
    metrics::describe_counter!(
        "switchyard_token_refreshes_total",
        "OAuth token refreshes and client-credentials fetches by connector and outcome (refreshed, failed, needs_reauth)"
    );
    Some(handle)
}

/// An OAuth token refresh (or client-credentials fetch) and how it ended.
pub fn token_refresh(connector: &str, outcome: &'static str) {
    counter!("switchyard_token_refreshes_total", "connector" => connector.to_string(), "outcome" => outcome)
        .increment(1);
}

/// A webhook delivery's outcome.
pub fn webhook(connector: &str, outcome: &'static str) {
    counter!("switchyard_webhooks_total", "connector" => connector.to_string(), "outcome" => outcome)
        .increment(1);
}

/// A delivery refused by verification, with the reason's kind.
pub fn webhook_rejected(connector: &str, reason: &'static str) {
    webhook(connector, "rejected");
    counter!("switchyard_webhooks_rejected_total", "connector" => connector.to_string(), "reason" => reason)
        .increment(1);
}

/// A run reached its end.
pub fn run_finished(workflow: &str, succeeded: bool) {
    let status = if succeeded { "succeeded" } else { "failed" };
    counter!("switchyard_runs_finished_total", "workflow" => workflow.to_string(), "status" => status)
        .increment(1);
}

/// A step finished (succeeded, failed, skipped) after `seconds`.
pub fn step_finished(workflow: &str, kind: &'static str, status: &str, seconds: f64) {
    histogram!(
        "switchyard_step_duration_seconds",
        "workflow" => workflow.to_string(), "kind" => kind, "status" => status.to_string()
    )
    .record(seconds);
}

/// Runs waiting in the queue.
pub fn queue_depth(runs: u64) {
    gauge!("switchyard_queue_depth").set(runs as f64);
}

/// A run was taken `seconds` after it was queued.
pub fn queue_wait(seconds: f64) {
    histogram!("switchyard_queue_wait_seconds").record(seconds);
}

/// A request to a provider ended with `status` (`None`: no answer).
pub fn http_request(connector: &str, status: Option<u16>, seconds: f64) {
    let status = status.map_or_else(|| "error".to_string(), |s| s.to_string());
    counter!("switchyard_http_requests_total", "connector" => connector.to_string(), "status" => status)
        .increment(1);
    histogram!("switchyard_http_request_duration_seconds", "connector" => connector.to_string())
        .record(seconds);
}
