//! The RFC 9535 JSONPath Compliance Test Suite, run against the JSONPath implementation the
//! engine compiles every `records`, `fields`, `output` and cursor path with, and the
//! engine's normalized-path rendering (`switchyard::jsonpath::normalized_path`).
//!
//! Every case must pass: invalid selectors are rejected, valid ones return exactly the
//! expected nodes (in order, or in one of the allowed orders where the RFC leaves order
//! open) and the expected normalized paths.

use serde_json::Value;
use serde_json_path::JsonPath;

fn suite() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/jsonpath/cts.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["tests"].as_array().unwrap().clone()
}

fn check(case: &Value) -> Result<(), String> {
    let selector = case["selector"].as_str().ok_or("no selector")?;
    let parsed = JsonPath::parse(selector);
    if case["invalid_selector"] == Value::Bool(true) {
        return match parsed {
            Err(_) => Ok(()),
            Ok(_) => Err("accepted an invalid selector".into()),
        };
    }
    let path = parsed.map_err(|e| format!("rejected a valid selector: {e}"))?;
    let located = path.query_located(&case["document"]);
    let nodes: Vec<Value> = located.nodes().cloned().collect();
    let paths: Vec<Value> = located
        .locations()
        .map(|p| Value::String(switchyard::jsonpath::normalized_path(p)))
        .collect();
    let expected: Vec<(Value, Value)> = match (case.get("result"), case.get("results")) {
        (Some(r), _) => vec![(r.clone(), case["result_paths"].clone())],
        (None, Some(Value::Array(options))) => options
            .iter()
            .zip(case["results_paths"].as_array().ok_or("no results_paths")?)
            .map(|(r, p)| (r.clone(), p.clone()))
            .collect(),
        _ => return Err("case has no expected result".into()),
    };
    let got = (Value::Array(nodes), Value::Array(paths));
    if expected.contains(&got) {
        Ok(())
    } else {
        Err(format!("got {} at {}", got.0, got.1))
    }
}

#[test]
fn the_whole_jsonpath_compliance_suite_passes() {
    let cases = suite();
    assert_eq!(cases.len(), 703, "the suite file changed size");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| check(case).err().map(|e| format!("{}: {e}", case["name"])))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
