//! Diffs of expected and actual values, for failure messages: pretty JSON, line by line,
//! `-` for expected and `+` for what came.

use serde_json::Value as Json;
use similar::{ChangeTag, TextDiff};

/// A line diff of two JSON values (keys in a stable order).
pub fn json_diff(expected: &Json, got: &Json) -> String {
    let pretty = |v: &Json| {
        let sorted = sort_keys(v);
        serde_json::to_string_pretty(&sorted).unwrap_or_default()
    };
    let (a, b) = (pretty(expected), pretty(got));
    let mut out = String::new();
    for change in TextDiff::from_lines(&a, &b).iter_all_changes() {
        let sign = match change.tag() {
            ChangeTag::Delete => "- ",
            ChangeTag::Insert => "+ ",
            ChangeTag::Equal => "  ",
        };
        out.push_str("    ");
        out.push_str(sign);
        out.push_str(change.value().trim_end_matches('\n'));
        out.push('\n');
    }
    out
}

/// The value with object keys sorted, so key order never shows as a difference.
fn sort_keys(value: &Json) -> Json {
    match value {
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Json::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), sort_keys(&map[k])))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(items.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}
