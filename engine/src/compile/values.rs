//! Compiling small values: durations, JSONPath queries, names.

use crate::load::{Reporter, YamlPath};
use crate::plan::FieldPath;
use crate::spec::common::{DurationText, JsonPathText};
use indexmap::IndexMap;
use serde_json_path::JsonPath;
use std::time::Duration;

/// Parses `30s`, `5m`, `1h`, `500ms`, `2d`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok()?;
    let seconds = match unit {
        "ms" => return Some(Duration::from_millis(n)),
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(Duration::from_secs(seconds))
}

pub fn duration(text: &DurationText, path: &YamlPath, r: &mut Reporter<'_>) -> Option<Duration> {
    let parsed = parse_duration(&text.0);
    if parsed.is_none() {
        r.error_hint(
            "invalid-duration",
            path,
            format!("invalid duration `{}`", text.0),
            Some("write a whole number and a unit: ms, s, m, h or d (e.g. `30s`, `5m`)".into()),
        );
    }
    parsed
}

/// Compiles an optional spec value. The result is `Some(None)` when the value is absent,
/// `Some(Some(..))` when it compiled, and `None` when it is present but invalid (already
/// reported), so callers can `?` it once all checks have run.
pub fn optional<T, U>(
    value: Option<&T>,
    compile: impl FnOnce(&T) -> Option<U>,
) -> Option<Option<U>> {
    match value {
        None => Some(None),
        Some(v) => compile(v).map(Some),
    }
}

/// A polling interval: a duration of at least one second.
pub fn interval(text: &DurationText, path: &YamlPath, r: &mut Reporter<'_>) -> Option<Duration> {
    let every = duration(text, path, r)?;
    if every < Duration::from_secs(1) {
        r.error(
            "invalid-duration",
            path,
            format!(
                "interval `{}` is too short: poll at most once a second",
                text.0
            ),
        );
        return None;
    }
    Some(every)
}

/// An optional duration: `Some(None)` when absent, `None` when present but invalid.
pub fn optional_duration(
    text: &Option<DurationText>,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<Option<Duration>> {
    optional(text.as_ref(), |t| duration(t, path, r))
}

/// Deepest nesting of brackets and parentheses accepted in a JSONPath query. The parser
/// recurses per level; real queries nest a handful of levels.
pub const MAX_JSONPATH_NESTING: usize = 32;

/// How deeply brackets and parentheses nest, outside string literals.
fn nesting(query: &str) -> usize {
    let (mut depth, mut max, mut quote, mut escaped) = (0usize, 0usize, None, false);
    for c in query.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' => {
                    depth += 1;
                    max = max.max(depth);
                }
                ')' | ']' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
    }
    max
}

pub fn json_path(text: &JsonPathText, path: &YamlPath, r: &mut Reporter<'_>) -> Option<JsonPath> {
    if nesting(&text.0) > MAX_JSONPATH_NESTING {
        r.error(
            "invalid-jsonpath",
            path,
            format!("JSONPath query nested too deeply (more than {MAX_JSONPATH_NESTING} levels of brackets)"),
        );
        return None;
    }
    match JsonPath::parse(&text.0) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            let detail = error.to_string();
            let hint = (!text.0.starts_with('$')).then(|| {
                format!(
                    "JSONPath queries start with `$`, e.g. `$.{}`",
                    text.0.trim_start_matches('.')
                )
            });
            r.error_hint(
                "invalid-jsonpath",
                path,
                format!("invalid JSONPath `{}`: {}", text.0, first_line(&detail)),
                hint,
            );
            None
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text).trim()
}

/// Compiles a name -> JSONPath map (outputs, record fields, token-response extras).
pub fn mapping(
    map: &IndexMap<String, JsonPathText>,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<Vec<(String, JsonPath)>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (name, p) in map {
        match json_path(p, &path.key(name.clone()), r) {
            Some(p) => out.push((name.clone(), p)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// Compiles a name -> JSONPath map whose values are read one per name (outputs, fields).
pub fn field_mapping(
    map: &IndexMap<String, JsonPathText>,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<Vec<(String, FieldPath)>> {
    let paths = mapping(map, path, r)?;
    Some(
        paths
            .into_iter()
            .zip(map.values())
            .map(|((name, path), text)| {
                let singular = crate::jsonpath::is_singular(&text.0);
                (name, FieldPath { path, singular })
            })
            .collect(),
    )
}

/// Ids of connectors and workflows: they appear in URLs and in `connector.action` names.
pub fn check_id(id: &str, what: &str, path: &YamlPath, r: &mut Reporter<'_>) {
    let valid = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        r.error_hint(
            "invalid-id",
            path,
            format!("invalid {what} id `{id}`"),
            Some("use lowercase letters, digits, `-` and `_`, starting with a letter".into()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("5 minutes"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("99999999999999999999d"), None);
    }
}
