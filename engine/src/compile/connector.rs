//! Compiling one connector spec into a [`ConnectorPlan`].
//!
//! Every check runs even after an earlier one failed, so all problems of a file are
//! reported together; the plan is built only when none was an error.

use super::auth::compile_auth;
use super::request::{SharedParts, compile_action, compile_pairs, compile_shared};
use super::scopes;
use super::template::TemplateCompiler;
use super::values::{check_id, json_path, optional};
use super::webhook::compile_webhooks;
use crate::diag::did_you_mean;
use crate::load::{Loaded, Reporter, YamlPath};
use crate::plan::{CheckPlan, ConfigFieldPlan, ConnectorPlan, ConnectorTriggerPlan, PollPlan};
use crate::spec::ConnectorSpec;
use crate::spec::connector::ConfigField;
use crate::spec::trigger::ConnectorTriggerSpec;
use indexmap::IndexMap;
use std::collections::BTreeSet;

/// Compiles a decoded connector. `None` when it has errors (all reported through `r`).
pub fn compile_connector(
    loaded: &Loaded<ConnectorSpec>,
    spec: &ConnectorSpec,
    content_hash: String,
    tc: &TemplateCompiler,
    r: &mut Reporter<'_>,
) -> Option<ConnectorPlan> {
    let root = YamlPath::root();
    tc.used_config.borrow_mut().clear();
    check_id(&spec.connector, "connector", &root.key("connector"), r);
    if spec.spec_version != 1 {
        r.error_hint(
            "unsupported-version",
            &root.key("spec_version"),
            format!("spec_version {} is not supported", spec.spec_version),
            Some("this Switchyard reads spec_version 1".into()),
        );
    }

    let config = compile_config(&spec.config, r);
    let plain: BTreeSet<String> = spec
        .config
        .iter()
        .filter(|(_, f)| !f.secret)
        .map(|(k, _)| k.clone())
        .collect();
    let secret: BTreeSet<String> = spec
        .config
        .iter()
        .filter(|(_, f)| f.secret)
        .map(|(k, _)| k.clone())
        .collect();
    let base = scopes::connector_base(plain, secret);

    let base_url = tc.template(
        spec.base_url.as_ref().map_or("", |b| b.0.as_str()),
        &base,
        &root.key("base_url"),
        r,
    );
    let headers = compile_pairs(&spec.headers, tc, &base, &root.key("headers"), r);
    let query = compile_pairs(&spec.query, tc, &base, &root.key("query"), r);
    let auth = compile_auth(&spec.auth, tc, &base, &root.key("auth"), r);

    // Shared parts, compiled once; actions take copies.
    let shared = compile_shared(spec, &base, tc, r);
    let mut actions = IndexMap::new();
    let mut actions_ok = shared.is_some();
    let empty = SharedParts::default();
    for (name, action) in &spec.actions {
        match compile_action(
            name,
            action,
            spec,
            shared.as_ref().unwrap_or(&empty),
            &base,
            tc,
            r,
        ) {
            Some(plan) => {
                actions.insert(name.clone(), plan);
            }
            None => actions_ok = false,
        }
    }
    lint_unused_paginators(spec, r);

    let check = spec.check.as_ref().and_then(|check| {
        let path = root.key("check");
        let action = resolve_action(loaded, spec, &check.action, &path.key("action"), r)?;
        let input = compile_pairs(&check.input, tc, &base, &path.key("input"), r)?;
        super::inputs::check_call_inputs(
            &spec.actions[action].input,
            &check.input,
            &format!("{}.{action}", spec.connector),
            &path.key("input"),
            r,
        )
        .then(|| CheckPlan {
            action: action.to_string(),
            input,
        })
    });
    let check_ok = spec.check.is_none() || check.is_some();

    let webhooks = optional(spec.webhooks.as_ref(), |w| {
        compile_webhooks(w, &spec.config, tc, &base, &root.key("webhooks"), r)
    });
    let triggers = compile_triggers(loaded, spec, tc, &base, r);

    lint_unused_config(spec, tc, r);

    Some(ConnectorPlan {
        id: spec.connector.clone(),
        name: spec.name.clone(),
        description: spec.description.clone(),
        content_hash,
        config: config?,
        base_url: base_url?,
        headers: headers?,
        query: query?,
        auth: auth?,
        actions: actions_ok.then_some(actions)?,
        check: check_ok.then_some(check)?,
        webhooks: webhooks?,
        triggers: triggers?,
    })
}

fn compile_config(
    fields: &IndexMap<String, ConfigField>,
    r: &mut Reporter<'_>,
) -> Option<IndexMap<String, ConfigFieldPlan>> {
    let mut out = IndexMap::new();
    let mut ok = true;
    for (name, field) in fields {
        let path = YamlPath::root().key("config").key(name.clone());
        if field.secret && field.default.is_some() {
            r.error_hint(
                "secret-default",
                &path.key("default"),
                format!("secret field `{name}` cannot have a default"),
                Some(
                    "a default would put the secret in the spec file; let the user supply it"
                        .into(),
                ),
            );
            ok = false;
        }
        // A secret's default was refused above; do not go on to quote it in a type error.
        let default = if field.secret {
            None
        } else {
            field.default.as_ref()
        };
        ok &=
            super::inputs::check_literal_type(field.value_type, default, &field.allowed, &path, r);
        let pattern = match &field.pattern {
            None => None,
            Some(p) => match regex::Regex::new(p) {
                Ok(re) => Some(re),
                Err(error) => {
                    let detail = error.to_string();
                    let last = detail.lines().last().unwrap_or_default().trim().to_string();
                    r.error(
                        "invalid-pattern",
                        &path.key("pattern"),
                        format!("invalid regular expression: {last}"),
                    );
                    ok = false;
                    None
                }
            },
        };
        out.insert(
            name.clone(),
            ConfigFieldPlan {
                value_type: field.value_type,
                secret: field.secret,
                required: field.required && field.default.is_none(),
                default: field.default.clone(),
                pattern,
                allowed: field.allowed.clone(),
                description: field.description.clone(),
            },
        );
    }
    ok.then_some(out)
}

/// Looks up an action by name, reporting an unknown one (unless it was pruned as broken).
pub fn resolve_action<'s>(
    loaded: &Loaded<ConnectorSpec>,
    spec: &'s ConnectorSpec,
    name: &str,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<&'s str> {
    if let Some((key, _)) = spec.actions.get_key_value(name) {
        return Some(key.as_str());
    }
    if !loaded.was_pruned(&YamlPath::root().key("actions").key(name)) {
        r.error_hint(
            "unknown-action",
            path,
            format!("connector `{}` has no action `{name}`", spec.connector),
            did_you_mean(name, spec.actions.keys().map(String::as_str)),
        );
    }
    None
}

fn compile_triggers(
    loaded: &Loaded<ConnectorSpec>,
    spec: &ConnectorSpec,
    tc: &TemplateCompiler,
    base: &super::template::Scope,
    r: &mut Reporter<'_>,
) -> Option<IndexMap<String, ConnectorTriggerPlan>> {
    let mut out = IndexMap::new();
    let mut ok = true;
    for (name, trigger) in &spec.triggers {
        let path = YamlPath::root().key("triggers").key(name.clone());
        let plan = match trigger {
            ConnectorTriggerSpec::Webhook(webhook) => {
                let path = path.key("webhook");
                if spec.webhooks.is_none() && !loaded.was_pruned(&YamlPath::root().key("webhooks"))
                {
                    r.error_hint(
                        "unverified-webhook",
                        &path,
                        format!("webhook trigger `{name}` has no signature verification: the connector has no `webhooks.verify` rules"),
                        Some("add `webhooks: { verify: { hmac: ... } }`, or `verify: { none: { reason: ... } }` to accept unsigned deliveries on purpose".into()),
                    );
                    ok = false;
                }
                if !webhook.events.is_empty()
                    && spec
                        .webhooks
                        .as_ref()
                        .is_some_and(|w| w.event_type.is_none())
                {
                    r.error_hint(
                        "missing-event-type",
                        &path.key("events"),
                        format!("trigger `{name}` matches `events` but the connector does not say where the event type is"),
                        Some("set `webhooks.event_type`, e.g. `{ header: X-Event-Type }`".into()),
                    );
                    ok = false;
                }
                let filter = optional(webhook.filter.as_ref(), |f| {
                    tc.expression(&f.0, &scopes::webhook_filter(base), &path.key("filter"), r)
                });
                filter.map(|filter| ConnectorTriggerPlan::Webhook {
                    events: webhook.events.clone(),
                    filter,
                })
            }
            ConnectorTriggerSpec::Poll(poll) => {
                let path = path.key("poll");
                let action = resolve_action(loaded, spec, &poll.action, &path.key("action"), r);
                if let Some(action) = action
                    && spec.actions[action].records.is_none()
                {
                    r.error_hint(
                        "poll-without-records",
                        &path.key("action"),
                        format!(
                            "poll trigger `{name}` uses action `{action}`, which has no `records`"
                        ),
                        Some(
                            "polling needs a list action: give the action `records: <JSONPath>`"
                                .into(),
                        ),
                    );
                    ok = false;
                }
                let every = super::values::interval(&poll.every, &path.key("every"), r);
                let input = compile_pairs(&poll.input, tc, base, &path.key("input"), r);
                let mut inputs_ok = true;
                if let Some(action) = action {
                    let declared = &spec.actions[action].input;
                    let mut given = poll.input.clone();
                    if let Some(cursor) = &poll.cursor {
                        if !declared.contains_key(&cursor.input) {
                            r.error_hint(
                                "unknown-input",
                                &path.key("cursor").key("input"),
                                format!(
                                    "action `{action}` has no input `{}` to receive the cursor",
                                    cursor.input
                                ),
                                did_you_mean(&cursor.input, declared.keys().map(String::as_str)),
                            );
                            inputs_ok = false;
                        }
                        given.insert(
                            cursor.input.clone(),
                            crate::spec::common::TemplateValue(serde_json::Value::Null),
                        );
                    }
                    inputs_ok &= super::inputs::check_call_inputs(
                        declared,
                        &given,
                        &format!("{}.{action}", spec.connector),
                        &path.key("input"),
                        r,
                    );
                }
                let cursor = optional(poll.cursor.as_ref(), |c| {
                    let at = path.key("cursor");
                    let from = match (&c.field, &c.response) {
                        (Some(f), None) => json_path(f, &at.key("field"), r)
                            .map(crate::plan::PollCursorFrom::Records),
                        (None, Some(p)) => json_path(p, &at.key("response"), r)
                            .map(crate::plan::PollCursorFrom::Response),
                        _ => {
                            r.error(
                                "invalid-cursor",
                                &at,
                                "a cursor is read from the records (`field`) or from the response (`response`): give one",
                            );
                            None
                        }
                    };
                    from.map(|f| (f, c.input.clone()))
                });
                let deleted = optional(poll.deleted.as_ref(), |d| {
                    tc.expression(&d.0, &scopes::record(base), &path.key("deleted"), r)
                });
                let dedupe = optional(poll.dedupe.as_ref(), |d| {
                    json_path(d, &path.key("dedupe"), r)
                });
                (|| {
                    Some(ConnectorTriggerPlan::Poll(PollPlan {
                        action: action?.to_string(),
                        input: input?,
                        every: every?,
                        cursor: cursor?,
                        dedupe: dedupe?,
                        resync_on: poll.resync_on.clone(),
                        deleted: deleted?,
                    }))
                })()
                .filter(|_| inputs_ok)
            }
        };
        match plan {
            Some(plan) => {
                out.insert(name.clone(), plan);
            }
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn lint_unused_config(spec: &ConnectorSpec, tc: &TemplateCompiler, r: &mut Reporter<'_>) {
    let used = tc.used_config.borrow();
    for name in spec.config.keys() {
        if !used.contains(name) {
            r.warning(
                "unused-config",
                &YamlPath::root().key("config").key(name.clone()),
                format!("config field `{name}` is not used by any template"),
                Some("remove it, or use it as `config.<name>` / `secrets.<name>`".into()),
            );
        }
    }
}

fn lint_unused_paginators(spec: &ConnectorSpec, r: &mut Reporter<'_>) {
    for name in spec.pagination.keys() {
        if !spec
            .actions
            .values()
            .any(|a| a.paginate.as_deref() == Some(name))
        {
            r.warning(
                "unused-paginator",
                &YamlPath::root().key("pagination").key(name.clone()),
                format!("pagination strategy `{name}` is not used by any action"),
                None,
            );
        }
    }
}
