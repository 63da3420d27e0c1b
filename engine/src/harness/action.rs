//! Action cases: the interpreter calls the action over the script; the output or records
//! (or the error) must be the expected ones, and every scripted request must have been sent.

use super::ScriptedClient;
use super::diff::json_diff;
use crate::files::{FileRef, FileStore};
use crate::interpret::{Call, CollectSink, Connection, Interpreter, Options};
use crate::spec::common::ValueType;
use crate::spec::connector_test::TestCaseSpec;
use serde_json::Value as Json;
use std::sync::Arc;

/// Inputs of type `file` given as `{content, name, content_type}` are stored, and the
/// action gets their references.
async fn store_file_inputs(
    connection: &Connection,
    action: &str,
    case: &TestCaseSpec,
    files: &FileStore,
) -> Result<serde_json::Map<String, Json>, String> {
    let plan = connection.connector.actions.get(action);
    let mut input = serde_json::Map::new();
    for (name, value) in &case.input {
        let is_file = plan
            .and_then(|a| a.inputs.get(name))
            .is_some_and(|i| i.value_type == ValueType::File);
        let value = match (is_file, value.get("content").and_then(Json::as_str)) {
            (true, Some(content)) => {
                let text = |key: &str, default: &str| {
                    value
                        .get(key)
                        .and_then(Json::as_str)
                        .unwrap_or(default)
                        .to_string()
                };
                files
                    .put(
                        content.as_bytes(),
                        &text("name", "file.txt"),
                        &text("content_type", "text/plain"),
                    )
                    .await
                    .map_err(|e| format!("storing input `{name}`: {e}"))?
                    .to_json()
            }
            _ => value.clone(),
        };
        input.insert(name.clone(), value);
    }
    Ok(input)
}

/// A file reference in an output, shown as `{content, name, content_type, size}`.
async fn show_files(output: Json, files: &FileStore) -> Json {
    let Some(file) = FileRef::from_json(&output) else {
        return output;
    };
    let content = match files.read_limited(&file, 1 << 20).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => format!("<unreadable: {e}>"),
    };
    serde_json::json!({
        "content": content,
        "name": file.name,
        "content_type": file.content_type,
        "size": file.size,
    })
}

pub async fn run(connection: &Connection, action: &str, case: &TestCaseSpec) -> Vec<String> {
    // Each case gets its own file store, removed when the case ends.
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return vec![format!("cannot create a temp directory: {e}")],
    };
    let files = match FileStore::open(dir.path()) {
        Ok(files) => Arc::new(files),
        Err(e) => return vec![format!("cannot open a file store: {e}")],
    };
    let input = match store_file_inputs(connection, action, case, &files).await {
        Ok(input) => input,
        Err(e) => return vec![e],
    };
    let client = ScriptedClient::new(&case.exchanges);
    let options = Options {
        files: Some(files.clone()),
        ..Options::default()
    };
    let interpreter = Interpreter::new(Arc::new(client.clone()), options);
    let call = Call {
        action: action.to_string(),
        input,
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
            let output = show_files(outcome.output, &files).await;
            if let Some(want) = &case.output
                && &output != want
            {
                failures.push(format!("output differs:\n{}", json_diff(want, &output)));
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
