//! From a YAML document to typed spec values, collecting every structural error.
//!
//! serde stops at the first error. To report them all, the document is first read into a
//! JSON tree; the typed decode runs over that tree, and after each error the offending node
//! is pruned and the decode tried again. When pruning a node only makes its parent miss a
//! required field, the parent is pruned instead and that follow-on error is not reported,
//! so authors see each real mistake once. The pruned paths are kept so the compiler does not
//! report references to items that exist in the file but could not be read.

use super::locate::{Segment, YamlPath};
use super::report::{At, Reporter};
use crate::diag::{Severity, did_you_mean};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// At most this many structural errors are reported per file; the rest are usually echoes.
const MAX_STRUCTURAL_ERRORS: usize = 50;

/// The typed value (if what is left after pruning decodes) and the paths that were pruned.
pub struct Decoded<T> {
    pub spec: Option<T>,
    pub pruned: Vec<YamlPath>,
}

/// Decodes `tree` into `T`, reporting every structural error through `reporter`.
pub fn decode<T: DeserializeOwned>(mut tree: Value, reporter: &mut Reporter<'_>) -> Decoded<T> {
    let mut pruned: Vec<YamlPath> = Vec::new();
    // Unknown fields removed so far, to recognise "missing field" echoes of a misspelling.
    let mut unknown: Vec<(YamlPath, String)> = Vec::new();
    for _ in 0..MAX_STRUCTURAL_ERRORS {
        let error = match serde_path_to_error::deserialize::<_, T>(&tree) {
            Ok(spec) => {
                return Decoded {
                    spec: Some(spec),
                    pruned,
                };
            }
            Err(error) => error,
        };
        let path = convert_path(error.path());
        let message = error.inner().to_string();
        let missing = missing_field_name(&message);

        // Follow-on errors of an earlier one are not reported: prune one level higher.
        if let Some(echo) = echo_of_earlier_error(&path, missing, &pruned, &unknown) {
            if echo.is_empty() || !remove(&mut tree, &echo) {
                break;
            }
            pruned.push(echo);
            continue;
        }

        let (target, at, code) = if let Some(field) = unknown_field_name(&message) {
            // serde reports an unknown field at its parent mapping.
            let target = if matches!(path.segments().last(), Some(Segment::Key(k)) if k == field) {
                path.clone()
            } else {
                path.key(field)
            };
            if let Some(parent) = target.parent() {
                unknown.push((parent, field.to_string()));
            }
            (target, At::Key, "unknown-field")
        } else if missing.is_some() {
            (path.clone(), At::Key, "missing-field")
        } else if let Some(variant) = quoted_name(&message, "unknown variant `") {
            // A kind written as a key (`strategy: { cursr: ... }`) points at that key; a
            // kind written as a value (`method: FETCH`) at the value.
            if lookup(&tree, &path).is_some_and(Value::is_object) {
                (path.key(variant), At::Key, "unknown-kind")
            } else {
                (path.clone(), At::Value, "unknown-kind")
            }
        } else {
            (path.clone(), At::Value, "invalid-value")
        };
        let hint = hint_for(&message, &target);
        reporter.push(Severity::Error, code, &target, at, message, hint);

        if target.is_empty() || !remove(&mut tree, &target) {
            break;
        }
        pruned.push(target);
    }
    Decoded { spec: None, pruned }
}

/// When an error is only the consequence of an earlier prune, returns the node to prune
/// instead (silently):
/// - a required field is missing because it was pruned, or because a misspelling of it
///   was reported as unknown: prune the mapping that needs it;
/// - the error sits in an already pruned place (a list item left as a placeholder):
///   prune the node that holds the pruned one.
fn echo_of_earlier_error(
    path: &YamlPath,
    missing: Option<&str>,
    pruned: &[YamlPath],
    unknown: &[(YamlPath, String)],
) -> Option<YamlPath> {
    if let Some(field) = missing {
        let was_pruned = pruned.contains(&path.key(field));
        let was_misspelled = unknown
            .iter()
            .any(|(parent, name)| parent == path && did_you_mean(name, [field]).is_some());
        if was_pruned || was_misspelled {
            return Some(path.clone());
        }
    }
    let mut current = Some(path.clone());
    while let Some(p) = current {
        if pruned.contains(&p) {
            return p.parent();
        }
        current = p.parent();
    }
    // A node complains about its shape after one of its children was pruned (an enum
    // mapping left without its only key, say).
    if missing.is_none()
        && pruned
            .iter()
            .any(|p| p.len() > path.len() && p.starts_with(path))
    {
        return Some(path.clone());
    }
    None
}

fn lookup<'t>(tree: &'t Value, path: &YamlPath) -> Option<&'t Value> {
    path.segments()
        .iter()
        .try_fold(tree, |node, segment| match (segment, node) {
            (Segment::Key(k), Value::Object(map)) => map.get(k),
            (Segment::Index(i), Value::Array(items)) => items.get(*i),
            _ => None,
        })
}

fn convert_path(path: &serde_path_to_error::Path) -> YamlPath {
    let mut out = YamlPath::root();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => out.push(Segment::Index(*index)),
            serde_path_to_error::Segment::Map { key } => out.push(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => {
                out.push(Segment::Key(variant.clone()))
            }
            serde_path_to_error::Segment::Unknown => break,
        }
    }
    out
}

/// Removes the node at `path`; false when there is none (nothing left to prune).
fn remove(tree: &mut Value, path: &YamlPath) -> bool {
    let Some((last, parents)) = path.segments().split_last() else {
        return false;
    };
    let mut node = tree;
    for segment in parents {
        let next = match (segment, node) {
            (Segment::Key(k), Value::Object(map)) => map.get_mut(k),
            (Segment::Index(i), Value::Array(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    match (last, node) {
        (Segment::Key(k), Value::Object(map)) => map.shift_remove(k).is_some(),
        // Replace rather than remove list items so the indices of later items stay true.
        (Segment::Index(i), Value::Array(items)) if *i < items.len() => {
            items[*i] = Value::Null;
            true
        }
        _ => false,
    }
}

fn quoted_name<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = message.strip_prefix(prefix)?;
    let end = rest.find('`')?;
    Some(&rest[..end])
}

fn unknown_field_name(message: &str) -> Option<&str> {
    quoted_name(message, "unknown field `")
}

fn missing_field_name(message: &str) -> Option<&str> {
    quoted_name(message, "missing field `")
}

/// The names listed after "expected one of" in serde's unknown field / variant messages.
fn expected_names(message: &str) -> Vec<&str> {
    let Some((_, list)) = message.split_once("expected one of ") else {
        return message
            .split_once("expected `")
            .and_then(|(_, rest)| rest.split('`').next())
            .into_iter()
            .collect();
    };
    list.split(", ")
        .filter_map(|item| item.trim().strip_prefix('`')?.strip_suffix('`'))
        .collect()
}

fn hint_for(message: &str, target: &YamlPath) -> Option<String> {
    let name = unknown_field_name(message).or_else(|| quoted_name(message, "unknown variant `"));
    if let Some(name) = name {
        if name.contains(' ') {
            return Some(
                "inside `{ ... }` a comma ends the value: quote values that contain commas or colons".into(),
            );
        }
        return did_you_mean(name, expected_names(message));
    }
    if message.starts_with("invalid type") && message.ends_with("expected a string") {
        return Some("quote the value to make it a string".into());
    }
    if message.starts_with("invalid type: map") && message.contains("expected a string") {
        return Some(format!(
            "`{target}` takes a single value; a `key: value` inside it made it a mapping (quote it if it contains `: `)"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Diagnostics;
    use crate::load::locate::LocationIndex;
    use serde::Deserialize;
    use std::path::Path;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        items: indexmap::IndexMap<String, Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        size: u32,
    }

    fn run(text: &str) -> (Option<Doc>, Vec<String>) {
        let tree: Value = crate::load::yaml::read_tree(text).unwrap();
        let index = LocationIndex::build(text);
        let mut diags = Diagnostics::default();
        let mut reporter = Reporter::new(Path::new("t.yaml"), &index, &mut diags);
        let decoded = decode::<Doc>(tree, &mut reporter);
        let lines = diags
            .iter()
            .map(|d| format!("{} {}", d.position, d.message))
            .collect();
        (decoded.spec, lines)
    }

    #[test]
    fn reports_every_structural_error_once() {
        let (spec, errors) =
            run("name: x\nitems:\n  a: { size: big }\n  b: { size: 2, colour: red }\n  c: {}\n");
        // What could not be read is pruned; the rest still decodes for the compiler to check.
        let spec = spec.expect("the remainder decodes");
        assert_eq!(spec.items.keys().collect::<Vec<_>>(), vec!["b"]);
        assert_eq!(
            errors,
            vec![
                "3:14 invalid type: string \"big\", expected u32",
                "4:17 unknown field `colour`, expected `size`",
                "5:3 missing field `size`",
            ]
        );
    }

    #[test]
    fn a_valid_document_decodes() {
        let (spec, errors) = run("name: x\nitems: { a: { size: 1 } }\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(spec.unwrap().items["a"].size, 1);
    }
}
