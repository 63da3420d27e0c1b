//! Small value types shared by connector and workflow specs.
//!
//! They hold the text the author wrote; the compiler turns each into its checked form
//! (a compiled template, a parsed JSONPath, a `std::time::Duration`) and reports problems
//! with their YAML location. Keeping the text here means one bad value never hides the
//! rest of the file.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A MiniJinja template, e.g. `"Bearer {{ secrets.token }}"`. A value that is exactly one
/// expression (`"{{ input.count }}"`) keeps the JSON type of its result; mixed text renders
/// to a string. Variables are checked when the spec is loaded: a typo is a validation error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Template(pub String);

/// A MiniJinja expression without braces, evaluated to a boolean or value, e.g.
/// `payload.action == 'opened'`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Expression(pub String);

/// An RFC 9535 JSONPath query, e.g. `$.data[*]` or `$.response_metadata.next_cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct JsonPathText(pub String);

/// A duration: a whole number followed by a unit, `ms`, `s`, `m`, `h` or `d`, e.g. `30s`,
/// `5m`, `1h`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct DurationText(#[schemars(regex(pattern = r"^[0-9]+(ms|s|m|h|d)$"))] pub String);

/// A map of names to templates, kept in the order written (headers, query parameters).
pub type TemplateMap = IndexMap<String, TemplateValue>;

/// A value that may contain templates anywhere inside: a string template, a number, a
/// boolean, null, or a list or mapping of such values. Used for request bodies, query
/// parameters and step inputs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct TemplateValue(pub serde_json::Value);

/// HTTP request methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
        }
    }
}

/// The JSON type of a config field or an action input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
    /// Any JSON value.
    Any,
    /// A file reference (`{"$file": …, name, content_type, size}`): a download's output,
    /// given to an upload's body.
    File,
}

impl ValueType {
    /// Whether a literal JSON value (a default, an enum member) has this type.
    pub fn accepts(self, value: &serde_json::Value) -> bool {
        use serde_json::Value as V;
        match self {
            ValueType::String => value.is_string(),
            ValueType::Integer => value.is_i64() || value.is_u64(),
            ValueType::Number => value.is_number(),
            ValueType::Boolean => value.is_boolean(),
            ValueType::Object => value.is_object(),
            ValueType::Array => value.is_array(),
            ValueType::Any => !matches!(value, V::Null),
            ValueType::File => crate::files::is_file_ref(value),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Integer => "integer",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
            ValueType::Object => "object",
            ValueType::Array => "array",
            ValueType::Any => "any",
            ValueType::File => "file",
        }
    }
}

/// Where a value is read from in an HTTP request or response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ValueSource {
    /// A header, by case-insensitive name. Example: `{ header: X-GitHub-Event }`.
    Header(String),
    /// A query-string parameter. Example: `{ query: hub.challenge }`.
    Query(String),
    /// A JSONPath into the JSON (or form) body. Example: `{ body: $.event.type }`.
    Body(JsonPathText),
    /// A template over the request. Example: `{ template: "{{ payload.team_id }}:{{ payload.event_id }}" }`.
    Template(Template),
}
