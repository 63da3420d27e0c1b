//! Executing one run: its workflow's steps in order, each finished step journaled before the
//! next starts, so a run taken over after a crash skips what already happened.
//!
//! A step that was in flight when its worker died runs again (at most once more per
//! takeover); action steps carry an idempotency key derived from the run and step ids, the
//! same on every attempt, so providers that honour it drop the repeat.

use super::Engine;
use crate::files::Body;
use crate::interpret::render::{self, Vars};
use crate::interpret::{Call, CollectSink, RunRef, value};
use crate::plan::{BodyPlan, StepKind, StepPlan, WorkflowPlan};
use crate::spec::errors::Backoff;
use crate::spec::step::OnError;
use crate::store::{ClaimedRun, StepRecord, now_ms};
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

/// Why a run stopped before its end.
#[derive(Debug, Clone)]
pub struct RunFailure {
    pub message: String,
    /// The store could not record progress (a database error): the run has not failed,
    /// it is handed back and resumes from its journal.
    pub interrupted: bool,
}

impl RunFailure {
    /// The run failed (a step failed, a template broke, the workflow is gone).
    pub fn failed(message: impl Into<String>) -> Self {
        RunFailure {
            message: message.into(),
            interrupted: false,
        }
    }
}

/// Why a step failed, and whether trying it again could help (a missing connection or
/// invalid inputs cannot be fixed by waiting).
#[derive(Debug, Clone)]
struct StepError {
    message: String,
    permanent: bool,
    /// A nested step could not be journaled: the run is interrupted, not failed.
    interrupted: bool,
}

impl From<String> for StepError {
    fn from(message: String) -> Self {
        StepError {
            message,
            permanent: false,
            interrupted: false,
        }
    }
}

impl StepError {
    fn permanent(message: String) -> Self {
        StepError {
            message,
            permanent: true,
            interrupted: false,
        }
    }

    /// The failure of nested steps (condition branches, loop bodies).
    fn nested(failure: RunFailure) -> Self {
        StepError {
            message: failure.message,
            permanent: true,
            interrupted: failure.interrupted,
        }
    }
}

/// The state of a run being executed.
struct RunState {
    run_id: String,
    workflow: String,
    /// Shared with every template context built for the run: not copied per render.
    trigger: std::sync::Arc<Json>,
    vars: std::sync::Arc<Json>,
    /// `steps.<id>` as templates see it.
    outputs: Map<String, Json>,
    /// Loop variables of enclosing `for_each` steps.
    loops: Vec<(String, Json)>,
    journal: HashMap<String, StepRecord>,
    /// The input of the step attempt under way (set where a step renders it).
    step_input: std::sync::Mutex<Option<Json>>,
}

impl RunState {
    /// Remembers what the current step was given, for its journal record.
    fn set_input(&self, input: Json) {
        if let Ok(mut slot) = self.step_input.lock() {
            *slot = Some(input);
        }
    }

    fn take_input(&self) -> Option<Json> {
        self.step_input.lock().ok().and_then(|mut slot| slot.take())
    }

    fn context(&self) -> minijinja::Value {
        let mut vars = Vars::new()
            .with("trigger", value::from_shared(self.trigger.clone()))
            .with(
                "steps",
                value::from_json(Json::Object(self.outputs.clone())),
            )
            .with("vars", value::from_shared(self.vars.clone()))
            .with("env", workflow_env())
            .with(
                "now",
                minijinja::Value::from(chrono::Utc::now().to_rfc3339()),
            )
            .with(
                "run",
                value::from_json(json!({ "id": self.run_id, "workflow": self.workflow })),
            );
        for (name, item) in &self.loops {
            vars.set(leak_name(name), value::from_json(item.clone()));
        }
        vars.context()
    }
}

/// The `env` template variable: environment variables named `SWITCHYARD_ENV_<NAME>`, as
/// `env.<NAME>`. Only that prefix is exposed, so a workflow cannot read the process's other
/// variables (keys, tokens) by accident. Read once per process.
fn workflow_env() -> minijinja::Value {
    use std::sync::OnceLock;
    static ENV: OnceLock<Json> = OnceLock::new();
    let env = ENV.get_or_init(|| {
        Json::Object(
            std::env::vars()
                .filter_map(|(k, v)| {
                    k.strip_prefix("SWITCHYARD_ENV_")
                        .map(|name| (name.to_string(), Json::String(v)))
                })
                .collect(),
        )
    });
    value::from_json(env.clone())
}

/// Loop variable names are identifiers from the (bounded) set of specs; interning them
/// once keeps `Vars` keys `'static` without leaking per run.
fn leak_name(name: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let Ok(mut names) = names.lock() else {
        return "item";
    };
    if let Some(found) = names.get(name) {
        return found;
    }
    let interned: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(interned);
    interned
}

impl Engine {
    /// Runs a claimed run to its end and records the outcome.
    pub async fn execute(&self, run: &ClaimedRun) -> Result<(), RunFailure> {
        // The version the run started with, so a reload does not change a run midway.
        let Some(plan) = self.catalog.workflow(&run.workflow, &run.spec_hash) else {
            return Err(RunFailure::failed(format!(
                "workflow `{}` is no longer loaded",
                run.workflow
            )));
        };
        let mut state = RunState {
            run_id: run.id.clone(),
            workflow: run.workflow.clone(),
            trigger: std::sync::Arc::new(run.trigger.clone()),
            vars: std::sync::Arc::new(Json::Null),
            outputs: Map::new(),
            loops: Vec::new(),
            journal: run
                .journal
                .iter()
                .cloned()
                .map(|s| (s.step_id.clone(), s))
                .collect(),
            step_input: std::sync::Mutex::new(None),
        };
        state.vars = std::sync::Arc::new(self.workflow_vars(&plan, &state)?);
        let steps = async { self.run_steps(&plan.steps, &mut state, String::new()).await };
        match plan.timeout {
            Some(limit) => tokio::time::timeout(limit, steps)
                .await
                .unwrap_or_else(|_| {
                    Err(RunFailure::failed(format!(
                        "the run did not finish within {limit:?}"
                    )))
                }),
            None => steps.await,
        }
    }

    fn workflow_vars(&self, plan: &WorkflowPlan, state: &RunState) -> Result<Json, RunFailure> {
        let ctx = state.context();
        let mut out = Map::new();
        for (name, tree) in &plan.vars {
            let v = render::render_tree(tree, &ctx)
                .map_err(|e| RunFailure::failed(format!("vars.{name}: {e}")))?;
            out.insert(name.clone(), v);
        }
        Ok(Json::Object(out))
    }

    fn run_steps<'a>(
        &'a self,
        steps: &'a [StepPlan],
        state: &'a mut RunState,
        prefix: String,
    ) -> Pin<Box<dyn Future<Output = Result<(), RunFailure>> + Send + 'a>> {
        Box::pin(async move {
            for step in steps {
                let key = format!("{prefix}{}", step.id);
                if let Some(done) = state.journal.get(&key) {
                    state.outputs.insert(
                        step.id.clone(),
                        json!({ "status": done.status, "output": done.output, "error": done.error }),
                    );
                    if done.status == "failed" && step.on_error == OnError::Fail {
                        return Err(RunFailure::failed(format!(
                            "step `{}` failed: {}",
                            step.id,
                            done.error.clone().unwrap_or_default()
                        )));
                    }
                    continue;
                }
                let started = now_ms();
                if let Some(cond) = &step.condition {
                    let go = render::eval_bool(cond, &state.context())
                        .map_err(|e| RunFailure::failed(format!("step `{}` if: {e}", step.id)))?;
                    if !go {
                        let record = StepRecord {
                            step_id: key,
                            status: "skipped".into(),
                            attempts: 0,
                            output: None,
                            error: None,
                            input: None,
                        };
                        self.journal(state, step, record, started).await?;
                        continue;
                    }
                }
                // An interrupted nested step is not journaled as failed: the run resumes.
                state.take_input();
                let (result, attempts) = self.attempt(step, state, &key).await?;
                let input = state.take_input();
                let record = match &result {
                    Ok(output) => StepRecord {
                        step_id: key.clone(),
                        status: "succeeded".into(),
                        attempts,
                        output: Some(output.clone()),
                        error: None,
                        input,
                    },
                    Err(error) => StepRecord {
                        step_id: key.clone(),
                        status: "failed".into(),
                        attempts,
                        output: None,
                        error: Some(error.clone()),
                        input,
                    },
                };
                self.journal(state, step, record, started).await?;
                if let Err(error) = result
                    && step.on_error == OnError::Fail
                {
                    return Err(RunFailure::failed(format!(
                        "step `{}` failed: {error}",
                        step.id
                    )));
                }
            }
            Ok(())
        })
    }

    async fn journal(
        &self,
        state: &mut RunState,
        step: &StepPlan,
        record: StepRecord,
        started: i64,
    ) -> Result<(), RunFailure> {
        self.store
            .record_step(&state.run_id, &record, started)
            .await
            .map_err(|e| RunFailure {
                message: e.to_string(),
                interrupted: true,
            })?;
        let seconds = crate::store::now_ms().saturating_sub(started) as f64 / 1000.0;
        crate::metrics::step_finished(&state.workflow, step.kind.name(), &record.status, seconds);
        state.outputs.insert(
            step.id.clone(),
            json!({ "status": record.status, "output": record.output, "error": record.error }),
        );
        state.journal.insert(record.step_id.clone(), record);
        Ok(())
    }

    /// Runs a step with its retry policy and timeout; returns the result and the attempts.
    async fn attempt(
        &self,
        step: &StepPlan,
        state: &mut RunState,
        key: &str,
    ) -> Result<(Result<Json, String>, u32), RunFailure> {
        let (result, attempts) = self.attempt_inner(step, state, key).await;
        match result {
            Err(e) if e.interrupted => Err(RunFailure {
                message: e.message,
                interrupted: true,
            }),
            result => Ok((result.map_err(|e| e.message), attempts)),
        }
    }

    async fn attempt_inner(
        &self,
        step: &StepPlan,
        state: &mut RunState,
        key: &str,
    ) -> (Result<Json, StepError>, u32) {
        let attempts = step.retry.as_ref().map_or(1, |r| r.attempts.max(1));
        let mut last = Err(StepError::from(String::new()));
        for attempt in 1..=attempts {
            let run = self.step_once(step, state, key);
            last = match step.timeout {
                Some(limit) => tokio::time::timeout(limit, run)
                    .await
                    .unwrap_or_else(|_| Err(format!("timed out after {limit:?}").into())),
                None => run.await,
            };
            let permanent = last.as_ref().err().is_some_and(|e| e.permanent);
            if last.is_ok() || attempt == attempts || permanent {
                return (last, attempt);
            }
            if let Some(retry) = &step.retry {
                let ceiling = match retry.backoff {
                    Backoff::Constant => retry.initial_delay,
                    Backoff::Exponential => retry
                        .initial_delay
                        .saturating_mul(2u32.saturating_pow(attempt - 1))
                        .min(retry.max_delay),
                };
                tokio::time::sleep(ceiling.mul_f64(fastrand::f64())).await;
            }
        }
        (last, attempts)
    }

    fn step_once<'a>(
        &'a self,
        step: &'a StepPlan,
        state: &'a mut RunState,
        key: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Json, StepError>> + Send + 'a>> {
        Box::pin(async move {
            if let Some(output) = self.mocks.get(&step.id) {
                return Ok(output.clone());
            }
            let ctx = state.context();
            match &step.kind {
                StepKind::Set(fields) => {
                    let mut out = Map::new();
                    for (name, tree) in fields {
                        out.insert(
                            name.clone(),
                            render::render_tree(tree, &ctx).map_err(|e| e.to_string())?,
                        );
                    }
                    Ok(Json::Object(out))
                }
                StepKind::Action {
                    action,
                    connection,
                    input,
                    ..
                } => {
                    let conn = self.connections.get(connection).ok_or_else(|| {
                        StepError::permanent(format!("no connection `{connection}`"))
                    })?;
                    let mut given = Map::new();
                    for (name, tree) in input {
                        let v = render::render_tree(tree, &ctx).map_err(|e| e.to_string())?;
                        if !v.is_null() {
                            given.insert(name.clone(), v);
                        }
                    }
                    state.set_input(Json::Object(given.clone()));
                    let call = Call {
                        action: action.clone(),
                        input: given,
                        run: Some(RunRef {
                            run_id: state.run_id.clone(),
                            step_id: key.to_string(),
                        }),
                        max_pages: None,
                    };
                    let mut sink = CollectSink::default();
                    let outcome = self
                        .interpreter
                        .call(&conn, &call, &mut sink)
                        .await
                        .map_err(|e| StepError {
                            permanent: e.is_usage(),
                            message: e.to_string(),
                            interrupted: false,
                        })?;
                    let has_records = conn
                        .connector
                        .actions
                        .get(action)
                        .is_some_and(|a| a.records.is_some());
                    Ok(if has_records {
                        Json::Array(sink.records)
                    } else {
                        outcome.output
                    })
                }
                StepKind::Condition {
                    test,
                    then,
                    otherwise,
                } => {
                    let holds = render::eval_bool(test, &ctx).map_err(|e| e.to_string())?;
                    let branch = if holds { then } else { otherwise };
                    self.run_steps(branch, state, String::new())
                        .await
                        .map_err(StepError::nested)?;
                    Ok(json!({ "branch": if holds { "then" } else { "otherwise" } }))
                }
                StepKind::ForEach {
                    items, item, steps, ..
                } => {
                    let list = render::render_tree(items, &ctx).map_err(|e| e.to_string())?;
                    let Json::Array(list) = list else {
                        return Err(StepError::permanent(format!(
                            "`items` is not a list: {}",
                            short(&list)
                        )));
                    };
                    let mut results = Vec::with_capacity(list.len());
                    for (i, element) in list.into_iter().enumerate() {
                        state.loops.push((item.clone(), element));
                        let before: Vec<String> = steps.iter().map(|s| s.id.clone()).collect();
                        let outcome = self.run_steps(steps, state, format!("{key}[{i}]/")).await;
                        state.loops.pop();
                        outcome.map_err(StepError::nested)?;
                        let iteration: Map<String, Json> = before
                            .iter()
                            .filter_map(|id| {
                                state
                                    .outputs
                                    .get(id)
                                    .map(|o| (id.clone(), o["output"].clone()))
                            })
                            .collect();
                        results.push(Json::Object(iteration));
                    }
                    Ok(Json::Array(results))
                }
                StepKind::Http {
                    method,
                    url,
                    headers,
                    query,
                    body,
                } => Ok(self
                    .http_step(
                        *method,
                        url,
                        headers,
                        query,
                        body.as_ref(),
                        &ctx,
                        &format!("{}:{key}", state.run_id),
                    )
                    .await?),
                StepKind::Link {
                    key,
                    connection,
                    object_type,
                    external_id,
                } => {
                    let key = link_text("key", key, &ctx)?;
                    let external_id = link_text("external_id", external_id, &ctx)?;
                    let link = crate::store::LinkRow {
                        tenant: crate::store::DEFAULT_TENANT.into(),
                        key,
                        connection: connection.clone(),
                        object_type: object_type.clone(),
                        external_id,
                        created_at: 0,
                        updated_at: 0,
                    };
                    match self.store.upsert_link(&link).await {
                        Ok(()) => Ok(json!({
                            "key": link.key,
                            "connection": link.connection,
                            "object_type": link.object_type,
                            "external_id": link.external_id,
                        })),
                        // Another key holds the id: retrying cannot change that.
                        Err(crate::store::StoreError::Conflict(why)) => {
                            Err(StepError::permanent(why))
                        }
                        Err(e) => Err(StepError::from(e.to_string())),
                    }
                }
                StepKind::Lookup { key, connection } => {
                    let key = link_text("key", key, &ctx)?;
                    let found = self
                        .store
                        .link(crate::store::DEFAULT_TENANT, &key, connection)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(found.map_or(
                        Json::Null,
                        |l| json!({ "external_id": l.external_id, "object_type": l.object_type }),
                    ))
                }
                StepKind::Fail(message) => {
                    let message = render::render_text(message, &ctx)
                        .map_err(|e| e.to_string())?
                        .unwrap_or_else(|| format!("step `{}` failed the run", step.id));
                    Err(StepError::permanent(message))
                }
                StepKind::Unlink { key, connection } => {
                    let key = link_text("key", key, &ctx)?;
                    let removed = self
                        .store
                        .delete_link(crate::store::DEFAULT_TENANT, &key, connection)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok(json!({ "removed": removed }))
                }
            }
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn http_step(
        &self,
        method: crate::spec::common::HttpMethod,
        url: &crate::plan::CompiledTemplate,
        headers: &crate::plan::TemplatePairs,
        query: &crate::plan::TemplatePairs,
        body: Option<&BodyPlan>,
        ctx: &minijinja::Value,
        call_key: &str,
    ) -> Result<Json, String> {
        let files = self.interpreter.options.files.as_deref();
        use crate::interpret::request::push_pairs;
        let url = render::render_text(url, ctx)
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        let mut url = url::Url::parse(&url).map_err(|e| format!("url `{url}`: {e}"))?;
        let mut pairs = Vec::new();
        push_pairs(&mut pairs, query, ctx).map_err(|e| e.to_string())?;
        if !pairs.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &pairs {
                q.append_pair(k, v);
            }
        }
        let mut head = Vec::new();
        push_pairs(&mut head, headers, ctx).map_err(|e| e.to_string())?;
        let body = match body {
            None => None,
            Some(BodyPlan::Json(tree)) => {
                head.push(("Content-Type".into(), "application/json".into()));
                Some(Body::from(
                    render::render_tree(tree, ctx)
                        .map_err(|e| e.to_string())?
                        .to_string(),
                ))
            }
            Some(BodyPlan::Form(fields)) => {
                let mut f = Vec::new();
                push_pairs(&mut f, fields, ctx).map_err(|e| e.to_string())?;
                head.push((
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded".into(),
                ));
                let mut s = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in &f {
                    s.append_pair(k, v);
                }
                Some(Body::from(s.finish()))
            }
            Some(BodyPlan::Raw {
                content_type,
                content,
            }) => {
                head.push(("Content-Type".into(), content_type.clone()));
                Some(Body::from(
                    render::render_text(content, ctx)
                        .map_err(|e| e.to_string())?
                        .unwrap_or_default(),
                ))
            }
            Some(BodyPlan::File(plan)) => {
                let typed = crate::interpret::transfer::file_body(plan, ctx, files)
                    .map_err(|e| e.to_string())?;
                Some(with_type(&mut head, typed))
            }
            Some(BodyPlan::Multipart(plan)) => {
                let typed = crate::interpret::transfer::multipart_body(plan, ctx, files)
                    .map_err(|e| e.to_string())?;
                Some(with_type(&mut head, typed))
            }
            Some(BodyPlan::Email(plan)) => {
                let typed = crate::interpret::transfer::email_body(plan, ctx, files, call_key)
                    .map_err(|e| e.to_string())?;
                Some(with_type(&mut head, typed))
            }
        };
        let request = crate::interpret::HttpRequest {
            method: reqwest::Method::from_bytes(method.as_str().as_bytes())
                .unwrap_or(reqwest::Method::GET),
            url,
            headers: head,
            body,
            timeout: self.interpreter.options.request_timeout,
            max_response_bytes: self.interpreter.options.max_response_bytes,
            save_to: None,
        };
        let response = self.http.send(request).await.map_err(|e| e.to_string())?;
        let parsed = serde_json::from_slice::<Json>(&response.body)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&response.body).into_owned()));
        if response.status >= 400 {
            return Err(format!("HTTP {}: {}", response.status, short(&parsed)));
        }
        Ok(json!({ "status": response.status, "body": parsed }))
    }
}

fn short(v: &Json) -> String {
    let text = v.to_string();
    text.chars().take(200).collect()
}

/// A link step's key or id: rendered text, never empty.
fn link_text(
    field: &str,
    template: &crate::plan::CompiledTemplate,
    ctx: &minijinja::Value,
) -> Result<String, StepError> {
    match render::render_text(template, ctx) {
        Ok(Some(text)) if !text.is_empty() => Ok(text),
        Ok(_) => Err(StepError::permanent(format!(
            "link `{field}` rendered empty"
        ))),
        Err(e) => Err(StepError::permanent(e.to_string())),
    }
}

/// A body with its Content-Type header.
fn with_type(head: &mut Vec<(String, String)>, (body, content_type): (Body, String)) -> Body {
    head.push(("Content-Type".into(), content_type));
    body
}
