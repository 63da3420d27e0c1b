//! The run engine's side of `/hooks/{connector}/{connection}`: which connection a delivery
//! is for, and turning a verified event into stored runs of the workflows it triggers.

use super::Connections;
use crate::interpret::render::{self, Vars};
use crate::interpret::{Connection, value};
use crate::plan::{LiveCatalog, WorkflowTriggerPlan};
use crate::server::webhooks::{AcceptFuture, Delivery, WebhookTarget, WebhookTargets};
use crate::store::{Accepted, NewEvent, NewRun, Store};
use crate::webhook::{Event, connection_keys, trigger_matches};
use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Webhook targets backed by the connections and the store.
pub struct EngineTargets {
    pub catalog: Arc<LiveCatalog>,
    pub connections: Arc<dyn Connections>,
    pub store: Store,
    pub wake: Arc<Notify>,
    /// Deliveries are refused (503, `Retry-After`) while this many runs wait in the queue,
    /// so a flood cannot grow the backlog without bound.
    pub max_queued: u64,
}

/// The default of [`EngineTargets::max_queued`].
pub const DEFAULT_MAX_QUEUED: u64 = 100_000;

/// `config`, `secrets` and `connection` of a connection, for templates (webhook rules and
/// trigger filters see the same names as the connector's request templates).
pub fn connection_vars(conn: &Connection) -> Vars {
    Vars::new()
        .with("connection", value::from_json(conn.template_value()))
        .with(
            "config",
            value::from_json(Json::Object(conn.config.clone())),
        )
        .with(
            "secrets",
            value::from_json(Json::Object(conn.secrets.clone())),
        )
}

impl WebhookTargets for EngineTargets {
    fn target(&self, connector: &str, connection: &str) -> Option<WebhookTarget> {
        let conn = self.connections.get(connection)?;
        if conn.connector.id != connector {
            return None;
        }
        let plan = conn.connector.webhooks.as_ref()?;
        let vars = connection_vars(&conn);
        let keys = connection_keys(plan, &vars);
        Some(WebhookTarget {
            connector: conn.connector.clone(),
            connection: conn.id.clone(),
            vars,
            keys,
        })
    }

    fn accept<'a>(
        &'a self,
        target: &'a WebhookTarget,
        event: Event,
        window: Duration,
    ) -> AcceptFuture<'a> {
        Box::pin(async move {
            let runs = self.runs_for(target, &event);
            if !runs.is_empty() && self.store.queued_runs() >= self.max_queued {
                return Ok(Delivery::Overloaded { retry_after: 30 });
            }
            let stored = self
                .store
                .accept_event(
                    &NewEvent {
                        connector: &target.connector.id,
                        connection: &target.connection,
                        event_id: event.id.as_deref(),
                        event_type: event.event_type.as_deref(),
                        payload: &event.payload,
                        headers: &event.headers,
                        dedupe_window: window,
                    },
                    &runs,
                )
                .await
                .map_err(|e| e.to_string())?;
            match stored {
                Accepted::Duplicate => Ok(Delivery::Duplicate),
                Accepted::Stored { runs } => {
                    for _ in &runs {
                        self.wake.notify_one();
                    }
                    Ok(Delivery::Accepted)
                }
            }
        })
    }
}

impl EngineTargets {
    /// The runs an event starts: every enabled workflow whose webhook trigger names this
    /// connector and connection, whose connector trigger matches the event type and filter,
    /// and whose own filter holds.
    fn runs_for(&self, target: &WebhookTarget, event: &Event) -> Vec<NewRun> {
        let trigger = json!({
            "connector": target.connector.id,
            "connection": target.connection,
            "event_id": event.id,
            "event_type": event.event_type,
            "payload": event.payload,
            "headers": event.headers,
        });
        let mut runs = Vec::new();
        for workflow in self.catalog.current().workflows.values() {
            let WorkflowTriggerPlan::Webhook {
                connector,
                event: trigger_name,
                connection,
                filter,
            } = &workflow.trigger
            else {
                continue;
            };
            if !self.catalog.is_enabled(workflow)
                || *connector != target.connector.id
                || *connection != target.connection
            {
                continue;
            }
            let Some(connector_trigger) = target.connector.triggers.get(trigger_name) else {
                continue;
            };
            if !trigger_matches(connector_trigger, event, &target.vars) {
                continue;
            }
            if let Some(f) = filter {
                // The names the compiler checks the filter against (`scopes::webhook_filter`).
                let ctx = Vars::new()
                    .with("payload", value::from_json(event.payload.clone()))
                    .with("headers", value::from_json(event.headers.clone()))
                    .with("event_type", value::from_json(json!(event.event_type)))
                    .with("event_id", value::from_json(json!(event.id)))
                    .with("query", value::from_json(json!({})))
                    .context();
                if !render::eval_bool(f, &ctx).unwrap_or(false) {
                    continue;
                }
            }
            runs.push(NewRun {
                workflow: workflow.id.clone(),
                spec_hash: workflow.content_hash.clone(),
                trigger: trigger.clone(),
            });
        }
        runs
    }
}
