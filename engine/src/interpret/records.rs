//! Reading results out of responses: named outputs, and for list actions each record
//! through `fields`, `filter`, `add_fields` and `remove_fields`, in that order.
//!
//! Records are mapped one page at a time and handed on; nothing here keeps a page after
//! it is mapped, so memory stays flat however many pages an action reads.

use super::render::{self, RenderError, Vars};
use super::value;
use crate::plan::{ActionPlan, FieldPath};
use serde_json::Value as Json;
use std::sync::Arc;

/// Reads one named value: a singular query gives the value or null, others every match.
pub fn read_field(field: &FieldPath, from: &Json) -> Json {
    let nodes = field.path.query(from);
    if field.singular {
        nodes.first().cloned().unwrap_or(Json::Null)
    } else {
        Json::Array(nodes.iter().map(|v| (*v).clone()).collect())
    }
}

/// The output of an action without `records`: the named outputs, or the whole body.
pub fn output(action: &ActionPlan, body: &Json) -> Json {
    if action.output.is_empty() {
        return body.clone();
    }
    Json::Object(
        action
            .output
            .iter()
            .map(|(name, field)| (name.clone(), read_field(field, body)))
            .collect(),
    )
}

/// How many records a page has, before any filter (for stop rules).
pub fn count(action: &ActionPlan, body: &Json) -> usize {
    action.records.as_ref().map_or(0, |p| p.query(body).len())
}

/// Takes the records out of a page. The page is consumed: records are moved out of it,
/// not copied, unless a query selects a node twice or a node and one of its descendants
/// (then they are copied).
pub fn take_records(action: &ActionPlan, body: Arc<Json>) -> Vec<Json> {
    let Some(path) = &action.records else {
        return Vec::new();
    };
    let mut body = Arc::try_unwrap(body).unwrap_or_else(|shared| (*shared).clone());
    let pointers: Vec<String> = path
        .query_located(&body)
        .iter()
        .map(|node| pointer(node.location()))
        .collect();
    if overlapping(&pointers) {
        return path.query(&body).iter().map(|v| (*v).clone()).collect();
    }
    pointers
        .iter()
        .map(|p| body.pointer_mut(p).map(Json::take).unwrap_or(Json::Null))
        .collect()
}

/// RFC 6901 JSON Pointer of a located node.
fn pointer(path: &serde_json_path::NormalizedPath<'_>) -> String {
    let mut out = String::new();
    for element in path.iter() {
        out.push('/');
        match element {
            serde_json_path::PathElement::Index(i) => out.push_str(&i.to_string()),
            serde_json_path::PathElement::Name(name) => {
                out.push_str(&name.replace('~', "~0").replace('/', "~1"))
            }
        }
    }
    out
}

/// Whether a pointer repeats, or one points inside another.
fn overlapping(pointers: &[String]) -> bool {
    let mut seen = std::collections::HashSet::with_capacity(pointers.len());
    if !pointers.iter().all(|p| seen.insert(p.as_str())) {
        return true;
    }
    pointers.iter().any(|p| {
        (!p.is_empty() && seen.contains(""))
            || p.char_indices()
                .any(|(i, c)| c == '/' && i > 0 && seen.contains(&p[..i]))
    })
}

/// Maps one page of records. `vars` is the request context; each record is added to it
/// as `record` for the filter and the added fields. Records the filter drops are skipped.
pub fn map_page(
    action: &ActionPlan,
    raw: Vec<Json>,
    vars: &Vars,
) -> Result<Vec<Json>, RenderError> {
    let plain = action.fields.is_empty()
        && action.filter.is_none()
        && action.add_fields.is_empty()
        && action.remove_fields.is_empty();
    if plain {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut vars = vars.clone();
    for record in raw {
        let selected = if action.fields.is_empty() {
            record
        } else {
            Json::Object(
                action
                    .fields
                    .iter()
                    .map(|(name, field)| (name.clone(), read_field(field, &record)))
                    .collect(),
            )
        };
        let shared = Arc::new(selected);
        if action.filter.is_some() || !action.add_fields.is_empty() {
            vars.set("record", value::from_shared(shared.clone()));
        }
        if let Some(filter) = &action.filter
            && !render::eval_bool(filter, &vars.context())?
        {
            continue;
        }
        let mut added = Vec::with_capacity(action.add_fields.len());
        if !action.add_fields.is_empty() {
            let ctx = vars.context();
            for (name, tree) in &action.add_fields {
                added.push((name.clone(), render::render_tree(tree, &ctx)?));
            }
        }
        // Drop the template's handle so the record is not copied a second time.
        vars.set("record", minijinja::Value::from(()));
        let mut record = Arc::try_unwrap(shared).unwrap_or_else(|arc| (*arc).clone());
        if let Json::Object(map) = &mut record {
            for (name, value) in added {
                map.insert(name, value);
            }
            for path in &action.remove_fields {
                remove_path(map, path);
            }
        }
        out.push(record);
    }
    Ok(out)
}

fn remove_path(map: &mut serde_json::Map<String, Json>, path: &[String]) {
    match path {
        [] => {}
        [last] => {
            map.shift_remove(last);
        }
        [first, rest @ ..] => {
            if let Some(Json::Object(inner)) = map.get_mut(first) {
                remove_path(inner, rest);
            }
        }
    }
}
