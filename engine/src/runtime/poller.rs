//! Polling triggers: call a connector's list action every interval and start one run per
//! new item. The cursor advance, the items' dedupe keys and their runs are committed in one
//! transaction (with compare-and-swap on the cursor), so an item is emitted exactly once
//! even across crashes. The first poll of a workflow only records where things stand: it
//! emits nothing, so connecting an account with years of history does not start thousands
//! of runs.

use super::Engine;
use crate::interpret::render::{self, Vars};
use crate::interpret::{Call, CollectSink, value};
use crate::plan::{ConnectorTriggerPlan, WorkflowPlan, WorkflowTriggerPlan};
use crate::store::{NewRun, StoreError};
use serde_json::{Map, Value as Json, json};
use std::cmp::Ordering;
use std::time::Duration;

/// How long poll items are remembered for deduplication.
pub const POLL_DEDUPE_WINDOW: Duration = Duration::from_secs(30 * 24 * 3600);

/// What one poll did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollOutcome {
    /// The first poll: the baseline was recorded, nothing emitted.
    Baseline,
    /// Runs queued for new items.
    Emitted(usize),
    /// Another poller advanced the cursor first; this poll's results were dropped.
    Conflict,
}

impl Engine {
    /// Polls one workflow now.
    pub async fn poll(&self, workflow: &WorkflowPlan) -> Result<PollOutcome, String> {
        let WorkflowTriggerPlan::Poll {
            connector,
            trigger,
            connection,
            ..
        } = &workflow.trigger
        else {
            return Err(format!("workflow `{}` has no poll trigger", workflow.id));
        };
        let conn = self
            .connections
            .get(connection)
            .ok_or_else(|| format!("no connection `{connection}`"))?;
        let Some(ConnectorTriggerPlan::Poll(plan)) = conn.connector.triggers.get(trigger) else {
            return Err(format!(
                "connector `{connector}` has no poll trigger `{trigger}`"
            ));
        };
        let previous = self
            .store
            .poll_cursor(&workflow.id)
            .await
            .map_err(|e| e.to_string())?;
        // Inputs are templates over the connection's config.
        let vars = Vars::new()
            .with(
                "config",
                value::from_json(Json::Object(conn.config.clone())),
            )
            .with(
                "secrets",
                value::from_json(Json::Object(conn.secrets.clone())),
            );
        let ctx = vars.context();
        let mut input = Map::new();
        for (name, tree) in &plan.input {
            let v = render::render_tree(tree, &ctx).map_err(|e| e.to_string())?;
            if !v.is_null() {
                input.insert(name.clone(), v);
            }
        }
        let call = |with_cursor: bool| {
            let mut input = input.clone();
            if let (true, Some((_, cursor_input)), Some(Some(cursor))) =
                (with_cursor, &plan.cursor, &previous)
            {
                input.insert(cursor_input.clone(), cursor.clone());
            }
            Call {
                action: plan.action.clone(),
                input,
                run: None,
                max_pages: None,
            }
        };
        let mut sink = CollectSink::default();
        let outcome = match self.interpreter.call(&conn, &call(true), &mut sink).await {
            Ok(outcome) => outcome,
            // The provider says the cursor expired: list everything again; `dedupe` drops
            // what was emitted before.
            Err(crate::interpret::ActionError::Provider { status, .. })
                if plan.resync_on.contains(&status) =>
            {
                tracing::warn!(workflow = %workflow.id, status, "poll cursor expired: full resync");
                sink = CollectSink::default();
                self.interpreter
                    .call(&conn, &call(false), &mut sink)
                    .await
                    .map_err(|e| e.to_string())?
            }
            Err(e) => return Err(e.to_string()),
        };
        let records = sink.records;
        let cursor = match &plan.cursor {
            // The highest value of the cursor field over what came back.
            Some((crate::plan::PollCursorFrom::Records(field), _)) => records
                .iter()
                .filter_map(|r| field.query(r).first().cloned())
                .max_by(compare)
                .or_else(|| previous.clone().flatten()),
            // The token the last page hands out for next time.
            Some((crate::plan::PollCursorFrom::Response(path), _)) => outcome
                .last_page
                .as_ref()
                .and_then(|body| path.query(body).first().cloned())
                .filter(|t| !t.is_null())
                .or_else(|| previous.clone().flatten()),
            None => None,
        };
        let items: Vec<(Option<String>, NewRun)> = records
            .into_iter()
            .map(|record| {
                let key = plan.dedupe.as_ref().and_then(|p| {
                    p.query(&record).first().map(|v| match v {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                });
                let deleted = plan.deleted.as_ref().is_some_and(|expr| {
                    let ctx = Vars::new()
                        .with("record", value::from_json(record.clone()))
                        .context();
                    render::eval_bool(expr, &ctx).unwrap_or(false)
                });
                let run = NewRun {
                    workflow: workflow.id.clone(),
                    spec_hash: workflow.content_hash.clone(),
                    trigger: json!({
                        "connector": connector,
                        "connection": connection,
                        "item": record,
                        "deleted": deleted,
                    }),
                };
                (key, run)
            })
            .collect();
        let emit = previous.is_some();
        let committed = self
            .store
            .commit_poll(
                &workflow.id,
                previous.as_ref(),
                cursor.as_ref(),
                &items,
                POLL_DEDUPE_WINDOW,
                emit,
            )
            .await
            .map_err(|e: StoreError| e.to_string())?;
        Ok(match committed {
            None => PollOutcome::Conflict,
            Some(_) if !emit => PollOutcome::Baseline,
            Some(n) => {
                for _ in 0..n {
                    self.wake.notify_one();
                }
                PollOutcome::Emitted(n)
            }
        })
    }

    /// Polls every enabled poll workflow at its interval until `shutdown`.
    pub async fn run_polls(
        self: std::sync::Arc<Self>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut next: std::collections::HashMap<String, tokio::time::Instant> = Default::default();
        loop {
            if *shutdown.borrow() {
                return;
            }
            let now = tokio::time::Instant::now();
            for workflow in self.catalog.current().workflows.values() {
                let WorkflowTriggerPlan::Poll { every, .. } = &workflow.trigger else {
                    continue;
                };
                if !self.catalog.is_enabled(workflow)
                    || next.get(&workflow.id).is_some_and(|t| *t > now)
                {
                    continue;
                }
                next.insert(workflow.id.clone(), now + *every);
                match self.poll(workflow).await {
                    Ok(outcome) => tracing::debug!(workflow = %workflow.id, ?outcome, "polled"),
                    Err(error) => tracing::warn!(workflow = %workflow.id, %error, "poll failed"),
                }
            }
            let wait = next
                .values()
                .min()
                .map_or(Duration::from_secs(30), |t| {
                    t.saturating_duration_since(tokio::time::Instant::now())
                })
                .min(Duration::from_secs(30));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

/// Orders cursor values: numbers numerically, strings as text (ISO 8601 times sort right).
fn compare(a: &Json, b: &Json) -> Ordering {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Json::String(x), Json::String(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}
