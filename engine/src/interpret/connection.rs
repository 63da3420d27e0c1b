//! A connection as the interpreter sees it: a connector plus checked config values, the
//! secret ones kept apart, and where OAuth tokens come from. Also the checks of the inputs
//! a caller passes to an action.
//!
//! Config and inputs come from users (CLI flags, API requests): every problem is reported
//! with the field's name, all at once, and never with a secret's value.

use super::auth::TokenSource;
use crate::diag::did_you_mean_suffix;
use crate::plan::{ActionPlan, ConnectorPlan, InputPlan};
use crate::spec::common::ValueType;
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// One account at a provider, ready to call.
#[derive(Clone)]
pub struct Connection {
    /// Names the connection in rate limits and messages.
    pub id: String,
    pub connector: Arc<ConnectorPlan>,
    /// Non-secret config, defaults applied: the `config` template variable.
    pub config: Map<String, Json>,
    /// Secret config: the `secrets` template variable.
    pub secrets: Map<String, Json>,
    /// Auth mode to use; `None` picks the first usable one.
    pub auth_mode: Option<String>,
    pub tokens: Option<Arc<dyn TokenSource>>,
    /// Replaces the connector's `base_url` (a self-hosted instance, a proxy, a test mock);
    /// actions with their own `base_url` keep it.
    pub base_url: Option<String>,
    /// What the OAuth authorization granted: the `scope` and the token response fields
    /// the spec keeps (`token_response.extra`, e.g. a workspace id or an instance URL).
    /// Templates read them as `connection.scope` and `connection.NAME`.
    pub granted: Granted,
}

/// What an OAuth authorization granted (empty for other auth kinds).
#[derive(Debug, Clone, Default)]
pub struct Granted {
    pub scope: Option<String>,
    pub extra: Map<String, Json>,
}

impl Connection {
    /// The `connection` template variable: `id`, `connector`, the granted `scope` and the
    /// values kept from the token response by name.
    pub fn template_value(&self) -> Json {
        let mut value = self.granted.extra.clone();
        value.insert("id".into(), Json::String(self.id.clone()));
        value.insert("connector".into(), Json::String(self.connector.id.clone()));
        value.insert(
            "scope".into(),
            self.granted.scope.clone().map_or(Json::Null, Json::String),
        );
        Json::Object(value)
    }

    /// Checks config values against the connector's fields: unknown names, missing required
    /// fields, types, patterns and enums. Values are split into config and secrets.
    pub fn new(
        id: impl Into<String>,
        connector: Arc<ConnectorPlan>,
        values: Map<String, Json>,
    ) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        for name in values.keys() {
            if !connector.config.contains_key(name) {
                let hint = did_you_mean_suffix(name, connector.config.keys().map(String::as_str));
                problems.push(format!(
                    "connector `{}` has no config field `{name}`{hint}",
                    connector.id
                ));
            }
        }
        let mut config = Map::new();
        let mut secrets = Map::new();
        for (name, field) in &connector.config {
            let value = match values.get(name).or(field.default.as_ref()) {
                Some(v) => coerce(field.value_type, v.clone()),
                None => {
                    if field.required {
                        problems.push(format!(
                            "config field `{name}` is required{}",
                            if field.secret {
                                " (a secret: pass it with -s or SWITCHYARD_SECRET_*)"
                            } else {
                                ""
                            }
                        ));
                    }
                    continue;
                }
            };
            let shown = if field.secret {
                "the value given".to_string()
            } else {
                value.to_string()
            };
            if !field.value_type.accepts(&value) {
                problems.push(format!(
                    "config field `{name}`: {shown} is not of type {}",
                    field.value_type.name()
                ));
                continue;
            }
            if let (Some(re), Json::String(s)) = (&field.pattern, &value)
                && !re.is_match(s)
            {
                problems.push(format!(
                    "config field `{name}`: {shown} does not match the pattern `{}`",
                    re.as_str()
                ));
                continue;
            }
            if let Some(allowed) = &field.allowed
                && !allowed.contains(&value)
            {
                problems.push(format!(
                    "config field `{name}`: {shown} is not one of {}",
                    Json::Array(allowed.clone())
                ));
                continue;
            }
            if field.secret {
                secrets.insert(name.clone(), value);
            } else {
                config.insert(name.clone(), value);
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Connection {
            id: id.into(),
            connector,
            config,
            secrets,
            auth_mode: None,
            tokens: None,
            base_url: None,
            granted: Granted::default(),
        })
    }

    /// Every secret value, to scrub from messages.
    pub fn secret_values(&self) -> Vec<String> {
        self.secrets.values().filter_map(secret_text).collect()
    }
}

fn secret_text(v: &Json) -> Option<String> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Checks a call's inputs: unknown names, missing required inputs, types and enums.
/// Returns every declared input, defaults applied and optional ones absent set to null
/// (so templates can test them without an undefined-variable error).
pub fn check_inputs(
    action: &ActionPlan,
    given: Map<String, Json>,
) -> Result<Map<String, Json>, Vec<String>> {
    check_values(&action.inputs, given, &format!("action `{}`", action.name))
}

/// Checks values against typed inputs (an action's, a manual trigger's): unknown names,
/// missing required ones, types and allowed values; defaults filled in. `owner` names
/// whose inputs they are, for the messages.
pub fn check_values(
    inputs: &indexmap::IndexMap<String, InputPlan>,
    given: Map<String, Json>,
    owner: &str,
) -> Result<Map<String, Json>, Vec<String>> {
    let mut problems = Vec::new();
    for name in given.keys() {
        if !inputs.contains_key(name) {
            let hint = did_you_mean_suffix(name, inputs.keys().map(String::as_str));
            problems.push(format!("{owner} has no input `{name}`{hint}"));
        }
    }
    let mut out = Map::new();
    for (name, input) in inputs {
        match check_input(name, input, given.get(name)) {
            Ok(v) => {
                out.insert(name.clone(), v);
            }
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn check_input(name: &str, input: &InputPlan, given: Option<&Json>) -> Result<Json, String> {
    let value = match given.or(input.default.as_ref()) {
        Some(v) => coerce(input.value_type, v.clone()),
        None if input.required => return Err(format!("input `{name}` is required")),
        None => return Ok(Json::Null),
    };
    if !input.value_type.accepts(&value) {
        return Err(format!(
            "input `{name}`: {value} is not of type {}",
            input.value_type.name()
        ));
    }
    if let Some(allowed) = &input.allowed
        && !allowed.contains(&value)
    {
        return Err(format!(
            "input `{name}`: {value} is not one of {}",
            Json::Array(allowed.clone())
        ));
    }
    Ok(value)
}

/// Values typed on a command line arrive as strings: `-i limit=5` means the integer 5 for
/// an integer input. Strings that do not parse as the type stay strings (and then fail
/// the type check with a clear message).
pub fn coerce(value_type: ValueType, value: Json) -> Json {
    let Json::String(text) = &value else {
        return value;
    };
    let parsed = match value_type {
        ValueType::String => return value,
        ValueType::Integer => text.trim().parse::<i64>().ok().map(Json::from),
        ValueType::Number => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Json::from),
        ValueType::Boolean => match text.trim() {
            "true" => Some(Json::Bool(true)),
            "false" => Some(Json::Bool(false)),
            _ => None,
        },
        _ => serde_json::from_str::<Json>(text)
            .ok()
            .filter(|v| value_type.accepts(v)),
    };
    parsed.unwrap_or(value)
}
