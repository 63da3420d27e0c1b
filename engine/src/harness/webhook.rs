//! Webhook cases: a delivery is built as the provider sends it, signed with the
//! connection's webhook secret by the connector's own rules (unless `signed: false`), and
//! received by the same code as the server's. The reply, event or refusal must be the
//! expected one, and the event must start exactly the expected triggers.

use crate::interpret::Connection;
use crate::plan::ConnectorTriggerPlan;
use crate::runtime::connection_vars;
use crate::spec::connector_test::{DeliverySpec, TestCaseSpec};
use crate::webhook::{IncomingRequest, Reception, connection_keys, receive, sign, trigger_matches};
use bytes::Bytes;
use std::collections::BTreeSet;
use std::time::SystemTime;

pub fn run(
    connection: &Connection,
    delivery: &DeliverySpec,
    case: &TestCaseSpec,
) -> Result<Vec<String>, String> {
    let connector = &connection.connector;
    let plan = connector
        .webhooks
        .as_ref()
        .ok_or_else(|| format!("connector `{}` receives no webhooks", connector.id))?;
    let vars = connection_vars(connection);
    let keys = connection_keys(plan, &vars);
    let mut request = build(delivery, &connector.id);
    let now = match &delivery.at {
        None => SystemTime::now(),
        Some(at) => chrono::DateTime::parse_from_rfc3339(at)
            .map(SystemTime::from)
            .map_err(|_| format!("`at: {at}` is not an RFC 3339 time"))?,
    };
    if delivery.signed {
        let key = keys.first().ok_or_else(|| {
            "the test connection has no webhook secret to sign with (set it in `connection.config`)"
                .to_string()
        })?;
        let signed = sign(plan, &request, &vars, key, now)?;
        request.headers.extend(signed.headers);
        if !signed.query.is_empty()
            && let Ok(mut url) = url::Url::parse(&request.url)
        {
            url.query_pairs_mut().extend_pairs(signed.query);
            request.url = url.to_string();
        }
    }
    let mut failures = Vec::new();
    match receive(plan, &request, &vars, &keys, now) {
        Reception::Reply { status, body, .. } => match &case.reply {
            Some(want) if want.status == status && want.body == body => {}
            Some(want) => failures.push(format!(
                "handshake reply: expected {} `{}`, got {status} `{body}`",
                want.status, want.body
            )),
            None => failures.push(format!(
                "expected {}, got a handshake reply ({status} `{body}`)",
                expected(case)
            )),
        },
        Reception::Rejected(rejection) => {
            if !case.rejected {
                failures.push(format!(
                    "expected {}, the delivery was refused: {rejection}",
                    expected(case)
                ));
            }
        }
        Reception::Invalid(why) => failures.push(format!(
            "expected {}, the delivery was invalid: {why}",
            expected(case)
        )),
        Reception::Event(event) => match &case.event {
            None => failures.push(format!(
                "expected {}, got an event (type {:?})",
                expected(case),
                event.event_type
            )),
            Some(want) => {
                if want.event_type.is_some() && want.event_type != event.event_type {
                    failures.push(format!(
                        "event type: expected {:?}, got {:?}",
                        want.event_type, event.event_type
                    ));
                }
                if want.id.is_some() && want.id != event.id {
                    failures.push(format!(
                        "event id: expected {:?}, got {:?}",
                        want.id, event.id
                    ));
                }
                if let Some(triggers) = &case.triggers {
                    let started: BTreeSet<&str> = connector
                        .triggers
                        .iter()
                        .filter(|(_, t)| matches!(t, ConnectorTriggerPlan::Webhook { .. }))
                        .filter(|(_, t)| trigger_matches(t, &event, &vars))
                        .map(|(name, _)| name.as_str())
                        .collect();
                    let want: BTreeSet<&str> = triggers.iter().map(String::as_str).collect();
                    if started != want {
                        failures.push(format!(
                            "triggers started: expected {want:?}, got {started:?}"
                        ));
                    }
                }
            }
        },
    }
    Ok(failures)
}

fn expected(case: &TestCaseSpec) -> &'static str {
    if case.reply.is_some() {
        "a handshake reply"
    } else if case.event.is_some() {
        "an event"
    } else {
        "a refusal"
    }
}

/// The delivery as the provider sends it (before its signature).
fn build(delivery: &DeliverySpec, connector: &str) -> IncomingRequest {
    let mut headers: Vec<(String, String)> = delivery
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let has = |headers: &[(String, String)], name: &str| {
        headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
    };
    let body = match (&delivery.json, &delivery.form, &delivery.raw) {
        (Some(json), _, _) => {
            if !has(&headers, "content-type") {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Bytes::from(json.to_string())
        }
        (None, Some(form), _) => {
            if !has(&headers, "content-type") {
                headers.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
            }
            let text: String = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter())
                .finish();
            Bytes::from(text)
        }
        (None, None, Some(raw)) => Bytes::from(raw.clone()),
        (None, None, None) => Bytes::new(),
    };
    IncomingRequest {
        method: delivery.method.map_or("POST", |m| m.as_str()).to_string(),
        url: delivery
            .url
            .clone()
            .unwrap_or_else(|| format!("https://switchyard.test/hooks/{connector}/test")),
        headers,
        body,
    }
}
