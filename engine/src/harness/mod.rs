//! The connector test harness: runs a connector's tests (`connectors/tests/*.yaml`) without
//! reaching the provider.
//!
//! Action cases run the real interpreter over a [`ScriptedClient`] that checks each request
//! against the one the case expects and answers with the recorded response; webhook cases
//! sign a delivery with the connector's own rules and run the real receiving code over it.
//! So a case passes only if the spec builds exactly the request the provider documents and
//! reads exactly what the provider answers.
//!
//! Must never open a socket: everything the provider would do is in the case.

mod action;
mod diff;
mod scripted;
mod webhook;

pub use scripted::ScriptedClient;

use crate::compile::tests::ConnectorTests;
use crate::interpret::auth::StaticToken;
use crate::interpret::{Connection, Granted};
use crate::plan::Catalog;
use crate::spec::connector_test::{TestCaseSpec, TestConnectionSpec};
use std::sync::Arc;

/// How one case went.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub connector: String,
    pub case: String,
    /// Empty when the case passed; otherwise what differed, one item per problem (with a
    /// diff where values differ).
    pub failures: Vec<String>,
}

impl CaseResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs every case of a tests file, in order.
pub async fn run_tests(catalog: &Catalog, tests: &ConnectorTests) -> Vec<CaseResult> {
    let mut results = Vec::with_capacity(tests.spec.cases.len());
    for case in &tests.spec.cases {
        let failures = match run_case(catalog, tests, case).await {
            Ok(failures) => failures,
            Err(setup) => vec![setup],
        };
        results.push(CaseResult {
            connector: tests.spec.tests.clone(),
            case: case.name.clone(),
            failures,
        });
    }
    results
}

async fn run_case(
    catalog: &Catalog,
    tests: &ConnectorTests,
    case: &TestCaseSpec,
) -> Result<Vec<String>, String> {
    let plan = catalog
        .connectors
        .get(&tests.spec.tests)
        .ok_or_else(|| format!("connector `{}` is not loaded", tests.spec.tests))?;
    let spec = case.connection.as_ref().unwrap_or(&tests.spec.connection);
    let connection = test_connection(plan, spec)?;
    if let Some(action) = &case.action {
        return Ok(action::run(&connection, action, case).await);
    }
    if let Some(delivery) = &case.webhook {
        return webhook::run(&connection, delivery, case);
    }
    Err("the case has neither `action` nor `webhook`".into())
}

/// The connection a case runs with (its config, auth mode and tokens).
pub fn test_connection(
    plan: &Arc<crate::plan::ConnectorPlan>,
    spec: &TestConnectionSpec,
) -> Result<Connection, String> {
    let values = spec.config.clone().into_iter().collect();
    let mut connection = Connection::new("test", plan.clone(), values)
        .map_err(|problems| format!("the test connection: {}", problems.join("; ")))?;
    connection.auth_mode = spec.auth.clone();
    if let Some(tokens) = &spec.tokens {
        connection.tokens = Some(Arc::new(StaticToken(tokens.access_token.clone())));
        connection.granted = Granted {
            scope: tokens.scope.clone(),
            extra: tokens.extra.clone().into_iter().collect(),
        };
    }
    Ok(connection)
}
