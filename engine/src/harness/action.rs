//! Action cases: the interpreter calls the action over the script; the output or records
//! (or the error) must be the expected ones, and every scripted request must have been sent.

use super::ScriptedClient;
use super::diff::json_diff;
use crate::interpret::{Call, CollectSink, Connection, Interpreter, Options};
use crate::spec::connector_test::TestCaseSpec;
use serde_json::Value as Json;
use std::sync::Arc;

pub async fn run(connection: &Connection, action: &str, case: &TestCaseSpec) -> Vec<String> {
    let client = ScriptedClient::new(&case.exchanges);
    let interpreter = Interpreter::new(Arc::new(client.clone()), Options::default());
    let call = Call {
        action: action.to_string(),
        input: case.input.clone().into_iter().collect(),
        run: None,
        max_pages: None,
    };
    let mut sink = CollectSink::default();
    let outcome = interpreter.call(connection, &call, &mut sink).await;
    let mut failures = client.finish();
    match (outcome, &case.error) {
        (Ok(_), Some(want)) => failures.push(format!(
            "expected the call to fail with `{want}`, it succeeded"
        )),
        (Err(error), Some(want)) => {
            let message = error.to_string();
            if !message.contains(want.as_str()) {
                failures.push(format!(
                    "expected an error containing `{want}`, got `{message}`"
                ));
            }
        }
        (Err(error), None) => failures.push(format!("the call failed: {error}")),
        (Ok(outcome), None) => {
            if let Some(want) = &case.output
                && &outcome.output != want
            {
                failures.push(format!(
                    "output differs:\n{}",
                    json_diff(want, &outcome.output)
                ));
            }
            if let Some(want) = &case.records {
                let (want, got) = (Json::Array(want.clone()), Json::Array(sink.records));
                if want != got {
                    failures.push(format!("records differ:\n{}", json_diff(&want, &got)));
                }
            }
        }
    }
    failures
}
