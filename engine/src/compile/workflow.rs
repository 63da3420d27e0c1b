//! Compiling one workflow spec into a [`WorkflowPlan`], resolving its references to
//! connectors, actions, triggers, steps and other workflows.

use super::request::{compile_body, compile_pairs};
use super::scopes;
use super::template::{Scope, TemplateCompiler};
use super::values::{check_id, optional, optional_duration};
use crate::diag::did_you_mean;
use crate::load::{At, Loaded, Reporter, YamlPath};
use crate::plan::{CronPlan, StepKind, StepPlan, StepRetryPlan, WorkflowPlan, WorkflowTriggerPlan};
use crate::spec::step::{STEP_KINDS, StepSpec};
use crate::spec::trigger::ConnectorTriggerSpec;
use crate::spec::workflow::TriggerSpec;
use crate::spec::{ConnectorSpec, WorkflowSpec};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

/// What a workflow may refer to: the connectors and workflows of the same load.
pub struct References<'a> {
    pub connectors: &'a HashMap<String, &'a ConnectorSpec>,
    /// Connectors whose files exist but could not be decoded: references to them are not
    /// reported again.
    pub broken_connectors: &'a HashSet<String>,
    /// `connector.item` names (actions, triggers) present in a connector file but pruned
    /// because they could not be decoded: already reported there.
    pub broken_items: &'a HashSet<String>,
    /// Workflow ids, with the workflow each one starts on failure.
    pub workflows: &'a HashMap<String, Option<String>>,
}

impl References<'_> {
    fn is_broken(&self, connector: &str, item: &str) -> bool {
        self.broken_items.contains(&format!("{connector}.{item}"))
    }
}

pub fn compile_workflow(
    loaded: &Loaded<WorkflowSpec>,
    spec: &WorkflowSpec,
    content_hash: String,
    refs: &References<'_>,
    tc: &TemplateCompiler,
    r: &mut Reporter<'_>,
) -> Option<WorkflowPlan> {
    let root = YamlPath::root();
    check_id(&spec.workflow, "workflow", &root.key("workflow"), r);
    let mut ok = true;
    if spec.concurrency == Some(0) {
        r.error(
            "invalid-value",
            &root.key("concurrency"),
            "`concurrency` must be at least 1",
        );
        ok = false;
    }
    let var_names: Vec<String> = spec.vars.keys().cloned().collect();
    // Vars may use the trigger and env, not steps (none has run when they are computed).
    let vars_scope = scopes::workflow(Vec::new(), &BTreeSet::new(), &[]);
    let mut vars = Vec::new();
    for (name, value) in &spec.vars {
        match tc.tree(
            &value.0,
            &vars_scope,
            &root.key("vars").key(name.clone()),
            r,
        ) {
            Some(t) => vars.push((name.clone(), t)),
            None => ok = false,
        }
    }
    let trigger = compile_trigger(loaded, spec, refs, tc, r);

    let mut all_ids = Vec::new();
    collect_ids(&spec.steps, &root.key("steps"), &mut all_ids);
    let mut seen = HashSet::new();
    for (id, path) in &all_ids {
        if !seen.insert(id.as_str()) {
            r.push(
                crate::diag::Severity::Error,
                "duplicate-id",
                &path.key("id"),
                At::Value,
                format!("duplicate step id `{id}`"),
                Some("step ids must be unique within a workflow, nested steps included".into()),
            );
            ok = false;
        }
    }
    if spec.steps.is_empty() && !loaded.was_pruned(&root.key("steps")) {
        r.error(
            "no-steps",
            &root.key("steps"),
            "a workflow needs at least one step",
        );
        ok = false;
    }
    let mut ctx = StepContext {
        refs,
        tc,
        vars: var_names,
        all_ids: all_ids.into_iter().map(|(id, _)| id).collect(),
        loaded,
    };
    let steps = ctx.steps(&spec.steps, &root.key("steps"), &BTreeSet::new(), &[], r);

    let on_failure = match &spec.on_failure {
        None => Some(None),
        Some(f) => {
            let p = root.key("on_failure").key("workflow");
            if f.workflow == spec.workflow {
                r.error(
                    "invalid-reference",
                    &p,
                    "a workflow cannot be its own `on_failure` workflow",
                );
                None
            } else if !refs.workflows.contains_key(&f.workflow) {
                r.error_hint(
                    "unknown-workflow",
                    &p,
                    format!("no workflow `{}`", f.workflow),
                    did_you_mean(&f.workflow, refs.workflows.keys().map(String::as_str)),
                );
                None
            } else if let Some(cycle) = failure_cycle(&spec.workflow, refs.workflows) {
                r.error_hint(
                    "invalid-reference",
                    &p,
                    format!("`on_failure` workflows form a cycle: {}", cycle.join(" -> ")),
                    Some("a failing failure handler would start the workflow that failed again, for ever".into()),
                );
                None
            } else {
                Some(Some(f.workflow.clone()))
            }
        }
    };
    let timeout = optional_duration(&spec.timeout, &root.key("timeout"), r);
    Some(WorkflowPlan {
        id: spec.workflow.clone(),
        description: spec.description.clone(),
        content_hash,
        enabled: spec.enabled,
        concurrency: spec.concurrency,
        vars: ok.then_some(vars)?,
        trigger: trigger?,
        steps: steps?,
        on_failure: on_failure?,
        timeout: timeout?,
    })
}

/// The `on_failure` chain from `start` when it comes back to `start`.
fn failure_cycle(start: &str, workflows: &HashMap<String, Option<String>>) -> Option<Vec<String>> {
    let mut chain = vec![start.to_string()];
    let mut current = start;
    while let Some(Some(next)) = workflows.get(current) {
        chain.push(next.clone());
        if next == start {
            return Some(chain);
        }
        if chain.len() > workflows.len() {
            return None; // a cycle that does not include `start`: reported at its members
        }
        current = next;
    }
    None
}

fn collect_ids(steps: &[StepSpec], path: &YamlPath, out: &mut Vec<(String, YamlPath)>) {
    for (i, step) in steps.iter().enumerate() {
        let p = path.index(i);
        out.push((step.id.clone(), p.clone()));
        if let Some(c) = &step.condition {
            collect_ids(&c.then, &p.key("condition").key("then"), out);
            collect_ids(&c.otherwise, &p.key("condition").key("else"), out);
        }
        if let Some(f) = &step.for_each {
            collect_ids(&f.steps, &p.key("for_each").key("steps"), out);
        }
    }
}

/// Resolves a connector id, reporting an unknown one.
fn resolve_connector<'a>(
    refs: &References<'a>,
    id: &str,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<&'a ConnectorSpec> {
    if let Some(c) = refs.connectors.get(id) {
        return Some(c);
    }
    if !refs.broken_connectors.contains(id) {
        r.error_hint(
            "unknown-connector",
            path,
            format!("no connector `{id}`"),
            did_you_mean(id, refs.connectors.keys().map(String::as_str))
                .or_else(|| Some("connectors are loaded from the folders given to `validate` (default `connectors/`)".into())),
        );
    }
    None
}

fn check_connection(name: &str, path: &YamlPath, r: &mut Reporter<'_>) -> bool {
    if name.trim().is_empty() {
        r.error("invalid-value", path, "connection name is empty");
        return false;
    }
    true
}

fn compile_trigger(
    loaded: &Loaded<WorkflowSpec>,
    spec: &WorkflowSpec,
    refs: &References<'_>,
    tc: &TemplateCompiler,
    r: &mut Reporter<'_>,
) -> Option<WorkflowTriggerPlan> {
    let path = YamlPath::root().key("trigger");
    if loaded.was_pruned(&path) {
        return None;
    }
    match &spec.trigger {
        TriggerSpec::Webhook(w) => {
            let p = path.key("webhook");
            let connector = resolve_connector(refs, &w.connector, &p.key("connector"), r);
            let event_ok = connector.is_some_and(|c| {
                let webhook_triggers = || {
                    c.triggers
                        .iter()
                        .filter(|(_, t)| matches!(t, ConnectorTriggerSpec::Webhook(_)))
                        .map(|(n, _)| n.as_str())
                };
                match c.triggers.get(&w.event) {
                    Some(ConnectorTriggerSpec::Webhook(_)) => true,
                    Some(ConnectorTriggerSpec::Poll(_)) => {
                        r.error_hint(
                            "wrong-trigger-kind",
                            &p.key("event"),
                            format!(
                                "`{}.{}` is a poll trigger, not a webhook trigger",
                                w.connector, w.event
                            ),
                            Some(format!(
                                "use `trigger: {{ poll: {{ connector: {}, trigger: {}, ... }} }}`",
                                w.connector, w.event
                            )),
                        );
                        false
                    }
                    None if refs.is_broken(&w.connector, &w.event) => false,
                    None => {
                        r.error_hint(
                            "unknown-trigger",
                            &p.key("event"),
                            format!(
                                "connector `{}` has no webhook trigger `{}`",
                                w.connector, w.event
                            ),
                            did_you_mean(&w.event, webhook_triggers()),
                        );
                        false
                    }
                }
            });
            let connection_ok = check_connection(&w.connection, &p.key("connection"), r);
            let filter = optional(w.filter.as_ref(), |f| {
                tc.expression(
                    &f.0,
                    &scopes::webhook_filter(&Scope::new()),
                    &p.key("filter"),
                    r,
                )
            });
            (event_ok && connection_ok).then_some(())?;
            Some(WorkflowTriggerPlan::Webhook {
                connector: w.connector.clone(),
                event: w.event.clone(),
                connection: w.connection.clone(),
                filter: filter?,
            })
        }
        TriggerSpec::Cron(c) => {
            let p = path.key("cron");
            let schedule = croner::parser::CronParser::builder()
                .seconds(croner::parser::Seconds::Optional)
                .year(croner::parser::Year::Disallowed)
                .build()
                .parse(&c.schedule);
            let schedule = match schedule {
                Ok(s) => Some(s),
                Err(error) => {
                    r.error_hint(
                        "invalid-cron",
                        &p.key("schedule"),
                        format!("invalid cron schedule `{}`: {error}", c.schedule),
                        Some("five fields: minute hour day-of-month month day-of-week, e.g. `0 9 * * MON-FRI`".into()),
                    );
                    None
                }
            };
            let timezone = match c.timezone.parse::<chrono_tz::Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
                    r.error_hint(
                        "invalid-timezone",
                        &p.key("timezone"),
                        format!("unknown time zone `{}`", c.timezone),
                        did_you_mean(&c.timezone, names).or_else(|| {
                            Some("use an IANA name such as `Europe/Berlin` or `UTC`".into())
                        }),
                    );
                    None
                }
            };
            let jitter = super::values::optional_duration(&c.jitter, &p.key("jitter"), r);
            Some(WorkflowTriggerPlan::Cron(Box::new(CronPlan {
                source: c.schedule.clone(),
                schedule: schedule?,
                timezone: timezone?,
                catchup: c.catchup,
                overlap: c.overlap,
                jitter: jitter?.filter(|j| !j.is_zero()),
            })))
        }
        TriggerSpec::Poll(poll) => {
            let p = path.key("poll");
            let connector = resolve_connector(refs, &poll.connector, &p.key("connector"), r);
            let every = connector.and_then(|c| match c.triggers.get(&poll.trigger) {
                Some(ConnectorTriggerSpec::Poll(t)) => Some(t.every.clone()),
                Some(ConnectorTriggerSpec::Webhook(_)) => {
                    r.error(
                        "wrong-trigger-kind",
                        &p.key("trigger"),
                        format!(
                            "`{}.{}` is a webhook trigger, not a poll trigger",
                            poll.connector, poll.trigger
                        ),
                    );
                    None
                }
                None if refs.is_broken(&poll.connector, &poll.trigger) => None,
                None => {
                    let polls = c
                        .triggers
                        .iter()
                        .filter(|(_, t)| matches!(t, ConnectorTriggerSpec::Poll(_)))
                        .map(|(n, _)| n.as_str());
                    r.error_hint(
                        "unknown-trigger",
                        &p.key("trigger"),
                        format!(
                            "connector `{}` has no poll trigger `{}`",
                            poll.connector, poll.trigger
                        ),
                        did_you_mean(&poll.trigger, polls),
                    );
                    None
                }
            });
            let connection_ok = check_connection(&poll.connection, &p.key("connection"), r);
            let every = match (&poll.every, every) {
                (Some(own), _) => super::values::interval(own, &p.key("every"), r),
                // The connector's interval was checked when the connector was compiled.
                (None, Some(theirs)) => super::values::parse_duration(&theirs.0),
                (None, None) => None,
            };
            connection_ok.then_some(())?;
            Some(WorkflowTriggerPlan::Poll {
                connector: poll.connector.clone(),
                trigger: poll.trigger.clone(),
                connection: poll.connection.clone(),
                every: every?,
            })
        }
        TriggerSpec::Manual(m) => {
            let input =
                super::inputs::compile_inputs(&m.input, &path.key("manual").key("input"), r)?;
            Some(WorkflowTriggerPlan::Manual { input })
        }
    }
}

struct StepContext<'a> {
    refs: &'a References<'a>,
    tc: &'a TemplateCompiler,
    vars: Vec<String>,
    all_ids: HashSet<String>,
    loaded: &'a Loaded<WorkflowSpec>,
}

impl StepContext<'_> {
    /// Compiles a list of steps; each sees `earlier` plus the steps before it in the list.
    fn steps(
        &mut self,
        steps: &[StepSpec],
        path: &YamlPath,
        earlier: &BTreeSet<String>,
        loop_vars: &[String],
        r: &mut Reporter<'_>,
    ) -> Option<Vec<StepPlan>> {
        let mut visible = earlier.clone();
        let mut out = Vec::with_capacity(steps.len());
        let mut ok = true;
        for (i, step) in steps.iter().enumerate() {
            let p = path.index(i);
            if self.loaded.was_pruned(&p) {
                ok = false;
                continue;
            }
            match self.step(step, &p, &visible, loop_vars, r) {
                Some(plan) => out.push(plan),
                None => ok = false,
            }
            visible.insert(step.id.clone());
        }
        ok.then_some(out)
    }

    fn step(
        &mut self,
        step: &StepSpec,
        path: &YamlPath,
        earlier: &BTreeSet<String>,
        loop_vars: &[String],
        r: &mut Reporter<'_>,
    ) -> Option<StepPlan> {
        let scope = scopes::workflow(self.vars.clone(), earlier, loop_vars)
            .later_steps(&self.all_ids, earlier);
        // Step ids are read in templates as `steps.<id>`, so they must be identifiers
        // (`steps.send-mail` would subtract `mail` from `steps.send`).
        let identifier = step
            .id
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && step
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !identifier {
            r.error_hint(
                "invalid-id",
                &path.key("id"),
                format!("invalid step id `{}`", step.id),
                Some(format!(
                    "use letters, digits and `_`, starting with a letter (e.g. `{}`), so templates can read `steps.<id>`",
                    step.id.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
                )),
            );
        }
        let kinds: Vec<&str> = STEP_KINDS
            .iter()
            .zip([
                step.action.is_some(),
                step.set.is_some(),
                step.condition.is_some(),
                step.for_each.is_some(),
                step.http.is_some(),
                step.link.is_some(),
                step.lookup.is_some(),
                step.unlink.is_some(),
                step.fail.is_some(),
            ])
            .filter(|(_, present)| *present)
            .map(|(k, _)| *k)
            .collect();
        if kinds.len() != 1 {
            let message = if kinds.is_empty() {
                format!(
                    "step `{}` does nothing: give it one of {}",
                    step.id,
                    STEP_KINDS.map(|k| format!("`{k}`")).join(", ")
                )
            } else {
                format!(
                    "step `{}` has several kinds ({}); a step does exactly one thing",
                    step.id,
                    kinds.join(", ")
                )
            };
            r.push(
                crate::diag::Severity::Error,
                "step-kind",
                path,
                At::Value,
                message,
                Some("split it into several steps".into()).filter(|_| !kinds.is_empty()),
            );
            return None;
        }
        let condition = optional(step.condition_if.as_ref(), |e| {
            self.tc.expression(&e.0, &scope, &path.key("if"), r)
        });
        let kind = self.kind(step, &scope, path, earlier, loop_vars, r);
        let retry = match &step.retry {
            None => Some(None),
            Some(retry) => {
                let rp = path.key("retry");
                if retry.attempts == 0 {
                    r.error(
                        "invalid-value",
                        &rp.key("attempts"),
                        "`attempts` counts the first try too: it must be at least 1",
                    );
                }
                let initial = optional_duration(&retry.initial_delay, &rp.key("initial_delay"), r);
                let max = optional_duration(&retry.max_delay, &rp.key("max_delay"), r);
                match (initial, max, retry.attempts) {
                    (Some(initial), Some(max), 1..) => Some(Some(StepRetryPlan {
                        attempts: retry.attempts,
                        backoff: retry.backoff,
                        initial_delay: initial.unwrap_or(Duration::from_secs(1)),
                        max_delay: max.unwrap_or(Duration::from_secs(300)),
                    })),
                    _ => None,
                }
            }
        };
        let timeout = optional_duration(&step.timeout, &path.key("timeout"), r);
        Some(StepPlan {
            id: step.id.clone(),
            name: step.name.clone(),
            condition: condition?,
            kind: kind?,
            retry: retry?,
            timeout: timeout?,
            on_error: step.on_error,
        })
    }

    fn kind(
        &mut self,
        step: &StepSpec,
        scope: &Scope,
        path: &YamlPath,
        earlier: &BTreeSet<String>,
        loop_vars: &[String],
        r: &mut Reporter<'_>,
    ) -> Option<StepKind> {
        let tc = self.tc;
        if let Some(a) = &step.action {
            let p = path.key("action");
            let input = compile_pairs(&a.input, tc, scope, &p.key("input"), r);
            let connection_ok = check_connection(&a.connection, &p.key("connection"), r);
            let Some((connector_id, action_name)) = a.uses.split_once('.') else {
                r.error_hint(
                    "invalid-reference",
                    &p.key("use"),
                    format!("`{}` does not name an action", a.uses),
                    Some("write `<connector>.<action>`, e.g. `slack.post_message`".into()),
                );
                return None;
            };
            let connector = resolve_connector(self.refs, connector_id, &p.key("use"), r)?;
            let Some(action) = connector.actions.get(action_name) else {
                if self.refs.is_broken(connector_id, action_name) {
                    return None;
                }
                r.error_hint(
                    "unknown-action",
                    &p.key("use"),
                    format!("connector `{connector_id}` has no action `{action_name}`"),
                    did_you_mean(action_name, connector.actions.keys().map(String::as_str)),
                );
                return None;
            };
            let inputs_ok = super::inputs::check_call_inputs(
                &action.input,
                &a.input,
                &a.uses,
                &p.key("input"),
                r,
            );
            (inputs_ok && connection_ok).then_some(())?;
            return Some(StepKind::Action {
                connector: connector_id.to_string(),
                action: action_name.to_string(),
                connection: a.connection.clone(),
                input: input?,
            });
        }
        if let Some(set) = &step.set {
            let mut out = Vec::new();
            let mut ok = true;
            for (name, value) in set {
                match tc.tree(&value.0, scope, &path.key("set").key(name.clone()), r) {
                    Some(t) => out.push((name.clone(), t)),
                    None => ok = false,
                }
            }
            return ok.then_some(StepKind::Set(out));
        }
        if let Some(c) = &step.condition {
            let p = path.key("condition");
            let test = tc.expression(&c.test.0, scope, &p.key("if"), r);
            let then = self.steps(&c.then, &p.key("then"), earlier, loop_vars, r);
            let otherwise = self.steps(&c.otherwise, &p.key("else"), earlier, loop_vars, r);
            return Some(StepKind::Condition {
                test: test?,
                then: then?,
                otherwise: otherwise?,
            });
        }
        if let Some(f) = &step.for_each {
            let p = path.key("for_each");
            let items = tc.tree(&f.items.0, scope, &p.key("items"), r);
            let mut ok = true;
            if f.concurrency == 0 {
                r.error(
                    "invalid-value",
                    &p.key("concurrency"),
                    "`concurrency` must be at least 1",
                );
                ok = false;
            }
            if f.steps.is_empty() {
                r.error(
                    "no-steps",
                    &p.key("steps"),
                    "`for_each` needs at least one step",
                );
                ok = false;
            }
            let reserved = ["trigger", "steps", "vars", "env", "now", "run"];
            let is_identifier = f
                .item
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && f.item
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_');
            if reserved.contains(&f.item.as_str()) || loop_vars.contains(&f.item) || !is_identifier
            {
                r.error_hint(
                    "invalid-value",
                    &p.key("as"),
                    format!("`{}` cannot name the loop item", f.item),
                    Some(format!(
                        "use an identifier that is not {} or an enclosing loop's item",
                        reserved.map(|n| format!("`{n}`")).join(", ")
                    )),
                );
                ok = false;
            }
            let mut inner_vars = loop_vars.to_vec();
            inner_vars.push(f.item.clone());
            let steps = self.steps(&f.steps, &p.key("steps"), earlier, &inner_vars, r);
            ok.then_some(())?;
            return Some(StepKind::ForEach {
                items: items?,
                item: f.item.clone(),
                steps: steps?,
                concurrency: f.concurrency,
            });
        }
        if let Some(h) = &step.http {
            let p = path.key("http");
            let url = tc.template(&h.url.0, scope, &p.key("url"), r);
            let headers = compile_pairs(&h.headers, tc, scope, &p.key("headers"), r);
            let query = compile_pairs(&h.query, tc, scope, &p.key("query"), r);
            let body = optional(h.body.as_ref(), |b| {
                compile_body(b, tc, scope, &p.key("body"), r)
            });
            return Some(StepKind::Http {
                method: h.method,
                url: url?,
                headers: headers?,
                query: query?,
                body: body?,
            });
        }
        if let Some(l) = &step.link {
            let p = path.key("link");
            let key = tc.template(&l.key.0, scope, &p.key("key"), r);
            let external_id = tc.template(&l.external_id.0, scope, &p.key("external_id"), r);
            return Some(StepKind::Link {
                key: key?,
                connection: l.connection.clone(),
                object_type: l.object_type.clone(),
                external_id: external_id?,
            });
        }
        if let Some(l) = &step.lookup {
            let key = tc.template(&l.key.0, scope, &path.key("lookup").key("key"), r);
            return Some(StepKind::Lookup {
                key: key?,
                connection: l.connection.clone(),
            });
        }
        if let Some(l) = &step.unlink {
            let key = tc.template(&l.key.0, scope, &path.key("unlink").key("key"), r);
            return Some(StepKind::Unlink {
                key: key?,
                connection: l.connection.clone(),
            });
        }
        if let Some(message) = &step.fail {
            return tc
                .template(&message.0, scope, &path.key("fail"), r)
                .map(StepKind::Fail);
        }
        None
    }
}
