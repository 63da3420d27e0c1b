//! Rendering compiled templates at run time.
//!
//! The compiler already parsed and checked every template; here each distinct source is
//! compiled by MiniJinja once per process and cached, so a template used for 100,000
//! records is parsed once. A template that is exactly one `{{ expression }}` is evaluated
//! as an expression and keeps its JSON type (`"{{ input.labels }}"` stays a list); other
//! templates render to strings.
//!
//! Must never parse YAML or look at spec types: it reads [`crate::plan`] only.

use super::value;
use crate::plan::{CompiledExpression, CompiledTemplate, TemplateShape, TemplateTree};
use minijinja::value::{Object, Value};
use minijinja::{Environment, Expression};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

/// A template that failed at run time (a missing value, a filter given bad data, fuel).
#[derive(Debug, Clone, thiserror::Error)]
#[error("template `{template}`: {message}")]
pub struct RenderError {
    pub template: String,
    pub message: String,
}

impl RenderError {
    fn new(template: &str, error: &minijinja::Error) -> Self {
        let mut message = error.kind().to_string();
        if let Some(detail) = error.detail() {
            message = format!("{message}: {detail}");
        }
        RenderError {
            template: template.to_string(),
            message,
        }
    }
}

/// The environment every runtime template uses. Its "loader" returns the template name as
/// the source, which turns MiniJinja's own template cache into a compile-once cache keyed
/// by source text.
static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = crate::template_env::environment();
    env.set_loader(|name| Ok(Some(name.to_string())));
    env
});

/// The environment for URL paths: every value a path template prints is percent-encoded
/// as one path segment (`/` included), so an input such as `a/../b` or `x?admin=1` cannot
/// change which endpoint is called. A value marked `| safe` is printed as it is.
static PATH_ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = crate::template_env::environment();
    env.set_loader(|name| Ok(Some(name.to_string())));
    env.set_formatter(|out, _state, value| {
        let text = if value.is_none() {
            String::new()
        } else if value.is_safe() {
            value.to_string()
        } else {
            encode_segment(&value.to_string())
        };
        out.write_str(&text)
            .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write failed"))
    });
    env
});

/// Characters left as they are in a path segment: RFC 3986 unreserved.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment; `.` and `..` are encoded too, since URL parsing would
/// otherwise resolve them.
pub fn encode_segment(text: &str) -> String {
    match text {
        "." => "%2E".into(),
        ".." => "%2E%2E".into(),
        _ => percent_encoding::utf8_percent_encode(text, SEGMENT).to_string(),
    }
}

/// Renders a URL path template: each printed value is encoded as one path segment.
pub fn render_path(template: &CompiledTemplate, ctx: &Value) -> Result<String, RenderError> {
    match &template.shape {
        TemplateShape::Literal => Ok(template.source.to_string()),
        TemplateShape::Expression(expr) => {
            let value = expression(expr)?
                .eval(ctx.clone())
                .map_err(|e| RenderError::new(&template.source, &e))?;
            Ok(if value.is_none() {
                String::new()
            } else if value.is_safe() {
                value.to_string()
            } else {
                encode_segment(&value.to_string())
            })
        }
        TemplateShape::Text => PATH_ENV
            .get_template(&template.source)
            .and_then(|t| t.render(ctx.clone()))
            .map_err(|e| RenderError::new(&template.source, &e)),
    }
}

type ExpressionCache = HashMap<Arc<str>, Arc<Expression<'static, 'static>>>;
static EXPRESSIONS: LazyLock<RwLock<ExpressionCache>> = LazyLock::new(Default::default);

fn expression(source: &Arc<str>) -> Result<Arc<Expression<'static, 'static>>, RenderError> {
    if let Some(e) = EXPRESSIONS.read().ok().and_then(|m| m.get(source).cloned()) {
        return Ok(e);
    }
    let compiled = ENV
        .compile_expression_owned(source.to_string())
        .map_err(|e| RenderError::new(source, &e))?;
    let compiled = Arc::new(compiled);
    if let Ok(mut cache) = EXPRESSIONS.write() {
        cache.insert(source.clone(), compiled.clone());
    }
    Ok(compiled)
}

/// The variables a template sees, by root name (`input`, `config`, `response`, ...).
#[derive(Debug, Clone, Default)]
pub struct Vars {
    entries: Vec<(&'static str, Value)>,
}

impl Vars {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets (or replaces) one root variable.
    pub fn set(&mut self, name: &'static str, value: Value) {
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    pub fn with(mut self, name: &'static str, value: Value) -> Self {
        self.set(name, value);
        self
    }

    /// The context value handed to MiniJinja.
    pub fn context(&self) -> Value {
        Value::from_object(self.clone())
    }
}

impl Object for Vars {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        self.entries
            .iter()
            .find(|(n, _)| *n == key)
            .map(|(_, v)| v.clone())
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        minijinja::value::Enumerator::Values(
            self.entries.iter().map(|(n, _)| Value::from(*n)).collect(),
        )
    }
}

/// Renders a template to JSON: a string, or for a single expression, its value.
pub fn render(template: &CompiledTemplate, ctx: &Value) -> Result<Json, RenderError> {
    match &template.shape {
        TemplateShape::Literal => Ok(Json::String(template.source.to_string())),
        TemplateShape::Expression(expr) => {
            let result = expression(expr)?
                .eval(ctx.clone())
                .map_err(|e| RenderError::new(&template.source, &e))?;
            value::to_json(&result).map_err(|message| RenderError {
                template: template.source.to_string(),
                message,
            })
        }
        TemplateShape::Text => {
            let compiled = ENV
                .get_template(&template.source)
                .map_err(|e| RenderError::new(&template.source, &e))?;
            compiled
                .render(ctx.clone())
                .map(Json::String)
                .map_err(|e| RenderError::new(&template.source, &e))
        }
    }
}

/// Renders a template and turns the result into text (numbers and booleans as JSON).
/// `None` when it renders to null.
pub fn render_text(
    template: &CompiledTemplate,
    ctx: &Value,
) -> Result<Option<String>, RenderError> {
    Ok(json_to_text(render(template, ctx)?))
}

/// Text form of a rendered value: strings as they are, null as nothing, others as JSON.
pub fn json_to_text(value: Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(s) => Some(s),
        other => Some(other.to_string()),
    }
}

/// Evaluates an expression to a MiniJinja value.
pub fn eval(expr: &CompiledExpression, ctx: &Value) -> Result<Value, RenderError> {
    expression(&expr.source)?
        .eval(ctx.clone())
        .map_err(|e| RenderError::new(&expr.source, &e))
}

/// Evaluates a condition; Jinja truthiness (empty strings and lists are false).
pub fn eval_bool(expr: &CompiledExpression, ctx: &Value) -> Result<bool, RenderError> {
    eval(expr, ctx).map(|v| v.is_true())
}

/// Renders a template tree (a JSON body, step input). Mapping entries that render to null
/// are left out, so an optional input that was not given does not become `"key": null`.
pub fn render_tree(tree: &TemplateTree, ctx: &Value) -> Result<Json, RenderError> {
    Ok(match tree {
        TemplateTree::Template(t) => render(t, ctx)?,
        TemplateTree::Scalar(v) => v.clone(),
        TemplateTree::List(items) => Json::Array(
            items
                .iter()
                .map(|item| render_tree(item, ctx))
                .collect::<Result<_, _>>()?,
        ),
        TemplateTree::Map(entries) => {
            let mut map = serde_json::Map::with_capacity(entries.len());
            for (key, item) in entries {
                let v = render_tree(item, ctx)?;
                if !v.is_null() {
                    map.insert(key.clone(), v);
                }
            }
            Json::Object(map)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::template::classify;
    use serde_json::json;

    fn template(source: &str) -> CompiledTemplate {
        CompiledTemplate {
            source: source.into(),
            shape: classify(source),
        }
    }

    #[test]
    fn expressions_keep_their_type_and_text_renders_to_strings() {
        let ctx = Vars::new()
            .with(
                "input",
                value::from_json(json!({"n": 3, "tags": ["a", "b"]})),
            )
            .context();
        assert_eq!(render(&template("{{ input.n }}"), &ctx).unwrap(), json!(3));
        assert_eq!(
            render(&template("{{ input.tags }}"), &ctx).unwrap(),
            json!(["a", "b"])
        );
        assert_eq!(
            render(&template("n={{ input.n }}"), &ctx).unwrap(),
            json!("n=3")
        );
        assert_eq!(render(&template("plain"), &ctx).unwrap(), json!("plain"));
    }

    #[test]
    fn path_values_are_encoded_as_one_segment_unless_safe() {
        let ctx = Vars::new()
            .with(
                "input",
                value::from_json(json!({"o": "a/../b?x=1", "d": "..", "p": "/raw/path"})),
            )
            .context();
        assert_eq!(
            render_path(&template("/repos/{{ input.o }}/x"), &ctx).unwrap(),
            "/repos/a%2F..%2Fb%3Fx%3D1/x"
        );
        assert_eq!(
            render_path(&template("/f/{{ input.d }}"), &ctx).unwrap(),
            "/f/%2E%2E"
        );
        assert_eq!(
            render_path(&template("{{ input.p | safe }}"), &ctx).unwrap(),
            "/raw/path"
        );
        assert_eq!(
            render_path(&template("{{ input.o }}"), &ctx).unwrap(),
            "a%2F..%2Fb%3Fx%3D1"
        );
    }

    #[test]
    fn missing_values_are_errors_not_empty_strings() {
        let ctx = Vars::new()
            .with("input", value::from_json(json!({})))
            .context();
        let err = render(&template("x{{ input.nope }}"), &ctx).unwrap_err();
        assert!(err.message.contains("undefined"), "{err}");
    }
}
