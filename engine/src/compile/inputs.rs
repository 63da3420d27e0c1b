//! Checks of typed values: literal defaults and enums, and the inputs a caller passes to an
//! action (unknown names, missing required inputs, literals of the wrong type).

use crate::diag::did_you_mean;
use crate::load::{Reporter, YamlPath};
use crate::plan::{InputPlan, TemplateShape};
use crate::spec::action::InputSpec;
use crate::spec::common::{TemplateMap, ValueType};
use indexmap::IndexMap;

/// Checks a field's `default` and `enum` literals against its type.
pub fn check_literal_type(
    value_type: ValueType,
    default: Option<&serde_json::Value>,
    allowed: &Option<Vec<serde_json::Value>>,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> bool {
    let mut ok = true;
    if let Some(default) = default
        && !value_type.accepts(default)
    {
        r.error(
            "type-mismatch",
            &path.key("default"),
            format!("default {default} is not of type {}", value_type.name()),
        );
        ok = false;
    }
    if let Some(allowed) = allowed {
        for (i, item) in allowed.iter().enumerate() {
            if !value_type.accepts(item) {
                r.error(
                    "type-mismatch",
                    &path.key("enum").index(i),
                    format!("enum value {item} is not of type {}", value_type.name()),
                );
                ok = false;
            }
        }
        if let (Some(default), true) = (default, ok)
            && !allowed.contains(default)
        {
            r.error(
                "type-mismatch",
                &path.key("default"),
                format!("default {default} is not one of the enum values"),
            );
            ok = false;
        }
    }
    ok
}

/// Compiles typed input declarations (an action's `input`, a manual trigger's `input`),
/// checking each literal `default` and `enum` against its type.
pub fn compile_inputs(
    declared: &IndexMap<String, InputSpec>,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<IndexMap<String, InputPlan>> {
    let mut ok = true;
    let mut plans = IndexMap::new();
    for (name, input) in declared {
        ok &= check_literal_type(
            input.value_type,
            input.default.as_ref(),
            &input.allowed,
            &path.key(name.clone()),
            r,
        );
        plans.insert(
            name.clone(),
            InputPlan {
                value_type: input.value_type,
                required: !input.optional && input.default.is_none(),
                default: input.default.clone(),
                allowed: input.allowed.clone(),
                description: input.description.clone(),
            },
        );
    }
    ok.then_some(plans)
}

/// Checks the inputs a step, check or poll trigger passes to action `target`.
pub fn check_call_inputs(
    declared: &IndexMap<String, InputSpec>,
    given: &TemplateMap,
    target: &str,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> bool {
    let mut ok = true;
    for (name, value) in given {
        let Some(spec) = declared.get(name) else {
            r.push(
                crate::diag::Severity::Error,
                "unknown-input",
                &path.key(name.clone()),
                crate::load::At::Key,
                format!("`{target}` has no input `{name}`"),
                did_you_mean(name, declared.keys().map(String::as_str)),
            );
            ok = false;
            continue;
        };
        let literal = match &value.0 {
            serde_json::Value::String(s) => {
                matches!(super::template::classify(s), TemplateShape::Literal).then_some(&value.0)
            }
            serde_json::Value::Null => None,
            other => Some(other),
        };
        if let Some(literal) = literal {
            if !spec.value_type.accepts(literal) {
                r.error(
                    "type-mismatch",
                    &path.key(name.clone()),
                    format!(
                        "input `{name}` of `{target}` is of type {}, got {literal}",
                        spec.value_type.name()
                    ),
                );
                ok = false;
            } else if let Some(allowed) = &spec.allowed
                && !allowed.contains(literal)
            {
                let list: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
                r.error(
                    "type-mismatch",
                    &path.key(name.clone()),
                    format!(
                        "input `{name}` of `{target}` must be one of {}, got {literal}",
                        list.join(", ")
                    ),
                );
                ok = false;
            }
        }
    }
    let missing: Vec<&str> = declared
        .iter()
        .filter(|(name, spec)| {
            !spec.optional && spec.default.is_none() && !given.contains_key(*name)
        })
        .map(|(name, _)| name.as_str())
        .collect();
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        r.error(
            "missing-input",
            path,
            format!("`{target}` requires input {list}"),
        );
        ok = false;
    }
    ok
}
