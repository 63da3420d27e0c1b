//! `GET /api/catalog`: the loaded connectors and workflows, as JSON.
//!
//! Only names and kinds: nothing from a connection, never a secret.

use super::AppState;
use crate::plan::{ConnectorTriggerPlan, WorkflowTriggerPlan};
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

pub async fn catalog(State(state): State<AppState>) -> Json<Value> {
    let catalog = state.catalog.current();
    let connectors: Vec<Value> = catalog
        .connectors
        .values()
        .map(|c| {
            let triggers: Vec<Value> = c
                .triggers
                .iter()
                .map(|(name, t)| {
                    let kind = match t {
                        ConnectorTriggerPlan::Webhook { .. } => "webhook",
                        ConnectorTriggerPlan::Poll(_) => "poll",
                    };
                    json!({ "name": name, "kind": kind })
                })
                .collect();
            json!({
                "id": c.id,
                "name": c.name,
                "description": c.description,
                "auth_modes": c.auth.iter().map(|a| a.mode_name()).collect::<Vec<_>>(),
                "actions": c.actions.keys().collect::<Vec<_>>(),
                "triggers": triggers,
                "spec_hash": c.content_hash,
            })
        })
        .collect();
    let workflows: Vec<Value> = catalog
        .workflows
        .values()
        .map(|w| {
            let trigger = match &w.trigger {
                WorkflowTriggerPlan::Webhook {
                    connector, event, ..
                } => json!({ "webhook": format!("{connector}.{event}") }),
                WorkflowTriggerPlan::Cron(c) => {
                    json!({ "cron": c.source, "timezone": c.timezone.name() })
                }
                WorkflowTriggerPlan::Poll {
                    connector, trigger, ..
                } => json!({ "poll": format!("{connector}.{trigger}") }),
                WorkflowTriggerPlan::Manual { .. } => json!({ "manual": {} }),
            };
            json!({
                "id": w.id,
                "description": w.description,
                "enabled": w.enabled,
                "trigger": trigger,
                "steps": w.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
                "spec_hash": w.content_hash,
            })
        })
        .collect();
    Json(json!({ "connectors": connectors, "workflows": workflows }))
}
