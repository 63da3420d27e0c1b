//! Receiving one delivery: unsigned handshakes, signature verification, signed handshakes,
//! then the event's id, type and routing key. In that order, so nothing but an explicitly
//! unsigned handshake is answered, parsed for routing or stored before the signature holds.

use super::request::IncomingRequest;
use super::verify::{Rejection, read_source, verify_signature};
use crate::interpret::render::{self, Vars};
use crate::interpret::value;
use crate::plan::{ConnectorTriggerPlan, HandshakePlan, WebhookPlan};
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::SystemTime;

/// What to do with a delivery.
#[derive(Debug, Clone, PartialEq)]
pub enum Reception {
    /// A handshake: answer with this, start nothing.
    Reply {
        status: u16,
        content_type: String,
        body: String,
        /// Extra headers the handshake asks for.
        headers: Vec<(String, String)>,
    },
    /// Refused: answer 401 with a short generic body; log the reason.
    Rejected(Rejection),
    /// Verified but unusable (e.g. a JSON content type with a body that is not JSON): 400.
    Invalid(String),
    /// A verified event.
    Event(Event),
}

/// A verified delivery, ready to be deduplicated, stored and matched to triggers.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Option<String>,
    pub event_type: Option<String>,
    pub routing_key: Option<String>,
    pub payload: Json,
    /// Header names lower-cased.
    pub headers: Json,
    /// The delivery's own timestamp when its scheme has one (Unix seconds).
    pub timestamp: Option<i64>,
}

/// The request variables plus `event_id` (which some schemes sign).
pub fn delivery_vars(plan: &WebhookPlan, request: &IncomingRequest, base: &Vars) -> Vars {
    let payload = Arc::new(request.payload().unwrap_or(Json::Null));
    with_event_id(plan, request, base, payload)
}

fn with_event_id(
    plan: &WebhookPlan,
    request: &IncomingRequest,
    base: &Vars,
    payload: Arc<Json>,
) -> Vars {
    let mut vars = request.vars(base, payload.clone());
    let id = plan
        .event_id
        .as_ref()
        .and_then(|s| read_source(s, request, &vars, &payload));
    vars.set(
        "event_id",
        id.map_or(minijinja::Value::from(()), minijinja::Value::from),
    );
    vars
}

/// Runs the receiving steps for one delivery. `base` holds `config` and `secrets`; `keys`
/// are the connection's active webhook secrets.
pub fn receive(
    plan: &WebhookPlan,
    request: &IncomingRequest,
    base: &Vars,
    keys: &[String],
    now: SystemTime,
) -> Reception {
    // The body is parsed once; templates and event labels share it.
    let parsed = request.payload().map(Arc::new);
    let payload = parsed.clone().unwrap_or_else(|_| Arc::new(Json::Null));
    let vars = with_event_id(plan, request, base, payload.clone());
    let ctx = vars.context();
    for handshake in plan.handshakes.iter().filter(|h| h.unsigned) {
        if let Some(reply) = try_handshake(handshake, &ctx) {
            return reply;
        }
    }
    let verified = match verify_signature(plan, request, &vars, keys, now, &payload) {
        Ok(v) => v,
        Err(rejection) => return Reception::Rejected(rejection),
    };
    for handshake in plan.handshakes.iter().filter(|h| !h.unsigned) {
        if let Some(reply) = try_handshake(handshake, &ctx) {
            return reply;
        }
    }
    if let Err(why) = parsed {
        return Reception::Invalid(why);
    }
    let read = |s: &Option<crate::plan::SourcePlan>| {
        s.as_ref()
            .and_then(|s| read_source(s, request, &vars, &payload))
    };
    let (id, event_type, routing_key) = (
        read(&plan.event_id),
        read(&plan.event_type),
        read(&plan.routing_key),
    );
    // Templates are done with the payload: take it back without copying.
    drop((ctx, vars, parsed));
    let payload = Arc::try_unwrap(payload).unwrap_or_else(|shared| (*shared).clone());
    Reception::Event(Event {
        id,
        event_type,
        routing_key,
        payload,
        headers: request.header_map(),
        timestamp: verified.timestamp,
    })
}

/// A handshake's reply when its condition holds. A condition that cannot be evaluated on
/// this request (a field missing from the payload) does not hold.
fn try_handshake(handshake: &HandshakePlan, ctx: &minijinja::Value) -> Option<Reception> {
    if !render::eval_bool(&handshake.when, ctx).unwrap_or(false) {
        return None;
    }
    let body = match &handshake.body {
        Some(t) => match render::render_text(t, ctx) {
            Ok(text) => text.unwrap_or_default(),
            Err(e) => {
                return Some(Reception::Invalid(format!(
                    "handshake reply: {}",
                    e.message
                )));
            }
        },
        None => String::new(),
    };
    Some(Reception::Reply {
        status: handshake.status,
        content_type: handshake.content_type.clone(),
        body,
        headers: handshake.headers.clone(),
    })
}

/// Whether an event starts a webhook trigger: its type is one of `events` (all when empty;
/// `issues.*` matches `issues.opened`) and its filter holds.
pub fn trigger_matches(trigger: &ConnectorTriggerPlan, event: &Event, base: &Vars) -> bool {
    let ConnectorTriggerPlan::Webhook { events, filter } = trigger else {
        return false;
    };
    let type_ok = events.is_empty()
        || event.event_type.as_deref().is_some_and(|t| {
            events.iter().any(|e| match e.strip_suffix(".*") {
                Some(prefix) => {
                    t == prefix || t.strip_prefix(prefix).is_some_and(|r| r.starts_with('.'))
                }
                None => e == t,
            })
        });
    if !type_ok {
        return false;
    }
    match filter {
        None => true,
        Some(f) => {
            let vars = base
                .clone()
                .with("payload", value::from_json(event.payload.clone()))
                .with("headers", value::from_json(event.headers.clone()))
                .with(
                    "event_type",
                    value::from_json(serde_json::json!(event.event_type)),
                )
                .with("event_id", value::from_json(serde_json::json!(event.id)))
                .with("query", value::from_json(serde_json::json!({})));
            render::eval_bool(f, &vars.context()).unwrap_or(false)
        }
    }
}
