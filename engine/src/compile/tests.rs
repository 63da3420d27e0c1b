//! Checks a connector's tests file before it runs: the connector exists, each case names
//! an action or a webhook delivery (not both), its expectations fit its kind, and the
//! actions and triggers it names exist. The values themselves are the test: they are used
//! as written.

use crate::diag::did_you_mean;
use crate::load::{Reporter, YamlPath};
use crate::spec::connector_test::{ConnectorTestsSpec, TestCaseSpec};
use crate::spec::{ConnectorSpec, ConnectorTestsSpec as Spec};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A checked tests file.
#[derive(Debug, Clone)]
pub struct ConnectorTests {
    pub path: PathBuf,
    pub spec: ConnectorTestsSpec,
}

/// Checks `spec` against the connectors loaded with it; `None` after any error.
pub fn check_tests(
    path: &Path,
    spec: &Spec,
    connectors: &HashMap<String, &ConnectorSpec>,
    r: &mut Reporter<'_>,
) -> Option<ConnectorTests> {
    let root = YamlPath::root();
    let Some(connector) = connectors.get(&spec.tests) else {
        r.error_hint(
            "unknown-connector",
            &root.key("tests"),
            format!("no connector `{}` is loaded with these tests", spec.tests),
            did_you_mean(&spec.tests, connectors.keys().map(String::as_str))
                .map(|d| format!("did you mean `{d}`?"))
                .or_else(|| Some("pass the connector's file or folder too".into())),
        );
        return None;
    };
    let mut ok = true;
    if spec.cases.is_empty() {
        r.error(
            "no-cases",
            &root.key("cases"),
            "a tests file needs at least one case",
        );
        ok = false;
    }
    for (i, case) in spec.cases.iter().enumerate() {
        ok &= check_case(case, connector, &root.key("cases").index(i), r);
    }
    ok.then(|| ConnectorTests {
        path: path.to_path_buf(),
        spec: spec.clone(),
    })
}

fn check_case(
    case: &TestCaseSpec,
    connector: &ConnectorSpec,
    at: &YamlPath,
    r: &mut Reporter<'_>,
) -> bool {
    let ok = std::cell::Cell::new(true);
    let problem = |r: &mut Reporter<'_>, key: &str, message: String| {
        r.error("invalid-test", &at.key(key), message);
        ok.set(false);
    };
    match (&case.action, &case.webhook) {
        (Some(_), Some(_)) => problem(
            r,
            "webhook",
            "a case calls an action or receives a webhook, not both".into(),
        ),
        (None, None) => problem(
            r,
            "name",
            format!("case `{}` needs `action:` or `webhook:`", case.name),
        ),
        (Some(action), None) => {
            if connector
                .actions
                .get(action)
                .is_some_and(|a| a.smtp.is_some())
            {
                problem(
                    r,
                    "action",
                    format!(
                        "`{action}` sends email over SMTP; the harness plays HTTP providers only (test email actions against an SMTP server)"
                    ),
                );
            }
            if !connector.actions.contains_key(action) {
                r.error_hint(
                    "unknown-action",
                    &at.key("action"),
                    format!(
                        "connector `{}` has no action `{action}`",
                        connector.connector
                    ),
                    did_you_mean(action, connector.actions.keys().map(String::as_str))
                        .map(|d| format!("did you mean `{d}`?")),
                );
                ok.set(false);
            }
            for key in ["reply", "event", "triggers"] {
                let set = match key {
                    "reply" => case.reply.is_some(),
                    "event" => case.event.is_some(),
                    _ => case.triggers.is_some(),
                };
                if set {
                    problem(r, key, format!("`{key}` is for webhook cases"));
                }
            }
            if case.rejected {
                problem(r, "rejected", "`rejected` is for webhook cases".into());
            }
            if case.exchanges.is_empty() && case.error.is_none() {
                problem(
                    r,
                    "exchanges",
                    "an action case lists the requests it sends (`exchanges`), or the `error` it fails with before sending".into(),
                );
            }
            if case.output.is_some() && case.records.is_some() {
                problem(
                    r,
                    "records",
                    "expect `output` or `records`, not both".into(),
                );
            }
        }
        (None, Some(delivery)) => {
            if connector.webhooks.is_none() {
                problem(
                    r,
                    "webhook",
                    format!("connector `{}` receives no webhooks", connector.connector),
                );
            }
            let bodies = [
                delivery.json.is_some(),
                delivery.form.is_some(),
                delivery.raw.is_some(),
            ];
            if bodies.iter().filter(|b| **b).count() > 1 {
                problem(
                    r,
                    "webhook",
                    "give one body: `json`, `form` or `raw`".into(),
                );
            }
            let outcomes = [case.reply.is_some(), case.event.is_some(), case.rejected];
            if outcomes.iter().filter(|o| **o).count() != 1 {
                problem(
                    r,
                    "webhook",
                    "a webhook case expects one of `reply`, `event` or `rejected: true`".into(),
                );
            }
            if case.triggers.is_some() && case.event.is_none() {
                problem(r, "triggers", "`triggers` needs an `event` case".into());
            }
            for (j, name) in case.triggers.iter().flatten().enumerate() {
                if !connector.triggers.contains_key(name) {
                    r.error_hint(
                        "unknown-trigger",
                        &at.key("triggers").index(j),
                        format!(
                            "connector `{}` has no trigger `{name}`",
                            connector.connector
                        ),
                        did_you_mean(name, connector.triggers.keys().map(String::as_str))
                            .map(|d| format!("did you mean `{d}`?")),
                    );
                    ok.set(false);
                }
            }
            for key in ["exchanges", "output", "records", "error", "input"] {
                let set = match key {
                    "exchanges" => !case.exchanges.is_empty(),
                    "output" => case.output.is_some(),
                    "records" => case.records.is_some(),
                    "error" => case.error.is_some(),
                    _ => !case.input.is_empty(),
                };
                if set {
                    problem(r, key, format!("`{key}` is for action cases"));
                }
            }
        }
    }
    for (j, exchange) in case.exchanges.iter().enumerate() {
        let request = &exchange.request;
        let bodies = [
            request.json.is_some(),
            request.form.is_some(),
            request.raw.is_some(),
        ];
        if bodies.iter().filter(|b| **b).count() > 1 {
            problem(
                r,
                "exchanges",
                format!("exchange {j}: expect one body: `json`, `form` or `raw`"),
            );
        }
        if exchange.response.json.is_some() && exchange.response.text.is_some() {
            problem(
                r,
                "exchanges",
                format!("exchange {j}: the response has `json` or `text`, not both"),
            );
        }
    }
    ok.get()
}
