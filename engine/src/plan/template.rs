//! Compiled templates and expressions.

use std::sync::Arc;

/// What a template produces when rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateShape {
    /// No template syntax: the text itself.
    Literal,
    /// Exactly one `{{ expression }}`: the result keeps its JSON type (number, list, ...).
    /// Holds the expression without braces.
    Expression(Arc<str>),
    /// Text mixed with template syntax: renders to a string.
    Text,
}

/// A template that parsed and whose variables all exist in its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledTemplate {
    pub source: Arc<str>,
    pub shape: TemplateShape,
}

/// An expression (no braces) that parsed and whose variables all exist in its scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledExpression {
    pub source: Arc<str>,
}

/// A JSON value whose strings are templates: request bodies, step inputs, `set` values.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplateTree {
    Template(CompiledTemplate),
    /// Numbers, booleans and null, as written.
    Scalar(serde_json::Value),
    List(Vec<TemplateTree>),
    Map(Vec<(String, TemplateTree)>),
}
