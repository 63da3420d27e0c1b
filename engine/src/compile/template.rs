//! Compiling templates and expressions, and checking every variable they use.
//!
//! Templates run with strict undefined variables, so a typo must never reach run time:
//! each template is parsed here, its variables listed with MiniJinja's static analysis,
//! and each variable checked against the [`Scope`] of the field it sits in (`input.*`
//! against the action's declared inputs, `steps.*` against earlier steps, ...).

use crate::diag::did_you_mean;
use crate::load::{Reporter, YamlPath};
use crate::plan::{CompiledExpression, CompiledTemplate, TemplateShape, TemplateTree};
use minijinja::{Environment, ErrorKind};
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Globals MiniJinja provides that static analysis reports as variables.
const BUILTIN_GLOBALS: [&str; 4] = ["range", "dict", "debug", "namespace"];

/// What the second segment of a root variable may be.
#[derive(Debug, Clone)]
pub enum Fields {
    /// Anything (`trigger.payload...`, `response.body...`).
    Any,
    /// One of these names; `what` names them in messages ("input of action `x`").
    Known {
        names: BTreeSet<String>,
        what: String,
    },
}

/// The variables a template may use, by root name.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    roots: Vec<(String, Fields)>,
    /// For `config.x` / `secrets.x` mix-ups: the config fields that are secret and those
    /// that are not, to say "use `secrets.x`" instead of "undefined".
    config_split: Option<(BTreeSet<String>, BTreeSet<String>)>,
    /// Steps of the workflow that exist but run after the template's step.
    later_steps: BTreeSet<String>,
}

impl Scope {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn any(mut self, root: &str) -> Self {
        self.roots.push((root.to_string(), Fields::Any));
        self
    }

    pub fn known(
        mut self,
        root: &str,
        names: impl IntoIterator<Item = String>,
        what: impl Into<String>,
    ) -> Self {
        self.roots.push((
            root.to_string(),
            Fields::Known {
                names: names.into_iter().collect(),
                what: what.into(),
            },
        ));
        self
    }

    /// Adds `config` and `secrets` roots from a connector's config fields.
    pub fn config(mut self, plain: BTreeSet<String>, secret: BTreeSet<String>) -> Self {
        self = self.known("config", plain.clone(), "config field");
        self = self.known("secrets", secret.clone(), "secret config field");
        self.config_split = Some((plain, secret));
        self
    }

    /// Records the workflow's other step ids, so `steps.x` for a step that runs later gets
    /// "runs after this one" rather than "unknown".
    pub fn later_steps(
        mut self,
        all: &std::collections::HashSet<String>,
        earlier: &BTreeSet<String>,
    ) -> Self {
        self.later_steps = all
            .iter()
            .filter(|id| !earlier.contains(*id))
            .cloned()
            .collect();
        self
    }

    fn root(&self, name: &str) -> Option<&Fields> {
        self.roots.iter().find(|(r, _)| r == name).map(|(_, f)| f)
    }
}

/// Parses and checks templates. One per compile; it caches which filter names exist.
pub struct TemplateCompiler {
    env: Environment<'static>,
    filter_exists: RefCell<HashMap<String, bool>>,
    /// Every `config.x` / `secrets.x` referenced, for the unused-config lint.
    pub used_config: RefCell<BTreeSet<String>>,
}

impl Default for TemplateCompiler {
    fn default() -> Self {
        Self::new()
    }
}

impl TemplateCompiler {
    pub fn new() -> Self {
        Self {
            env: crate::template_env::environment(),
            filter_exists: RefCell::new(HashMap::new()),
            used_config: RefCell::new(BTreeSet::new()),
        }
    }

    /// Compiles a template; problems are reported at `path` and give `None`.
    pub fn template(
        &self,
        source: &str,
        scope: &Scope,
        path: &YamlPath,
        r: &mut Reporter<'_>,
    ) -> Option<CompiledTemplate> {
        let shape = classify(source);
        let ok = match &shape {
            TemplateShape::Literal => true,
            TemplateShape::Expression(expr) => {
                self.check_expression(expr, scope, path, r, "template")
            }
            TemplateShape::Text => match self.env.template_from_str(source) {
                Ok(template) => {
                    let variables = template.undeclared_variables(true);
                    self.check_filters(source, path, r)
                        & self.check_variables(variables, scope, path, r)
                }
                Err(error) => {
                    r.error(
                        "template-syntax",
                        path,
                        format!("invalid template: {}", describe(&error)),
                    );
                    false
                }
            },
        };
        ok.then(|| CompiledTemplate {
            source: Arc::from(source),
            shape,
        })
    }

    /// Compiles an expression (no braces), e.g. an error rule's `when`.
    pub fn expression(
        &self,
        source: &str,
        scope: &Scope,
        path: &YamlPath,
        r: &mut Reporter<'_>,
    ) -> Option<CompiledExpression> {
        if source.trim_start().starts_with("{{") {
            r.error_hint(
                "template-syntax",
                path,
                "an expression is written without `{{ }}`",
                Some(format!(
                    "write `{}`",
                    source
                        .trim()
                        .trim_start_matches("{{")
                        .trim_end_matches("}}")
                        .trim()
                )),
            );
            return None;
        }
        self.check_expression(source, scope, path, r, "expression")
            .then(|| CompiledExpression {
                source: Arc::from(source),
            })
    }

    /// Compiles every string inside a JSON value as a template.
    pub fn tree(
        &self,
        value: &serde_json::Value,
        scope: &Scope,
        path: &YamlPath,
        r: &mut Reporter<'_>,
    ) -> Option<TemplateTree> {
        use serde_json::Value as V;
        Some(match value {
            V::String(s) => TemplateTree::Template(self.template(s, scope, path, r)?),
            V::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for (i, item) in items.iter().enumerate() {
                    match self.tree(item, scope, &path.index(i), r) {
                        Some(t) => out.push(t),
                        None => ok = false,
                    }
                }
                ok.then_some(TemplateTree::List(out))?
            }
            V::Object(map) => {
                let mut out = Vec::with_capacity(map.len());
                let mut ok = true;
                for (k, v) in map {
                    match self.tree(v, scope, &path.key(k.clone()), r) {
                        Some(t) => out.push((k.clone(), t)),
                        None => ok = false,
                    }
                }
                ok.then_some(TemplateTree::Map(out))?
            }
            other => TemplateTree::Scalar(other.clone()),
        })
    }

    fn check_expression(
        &self,
        source: &str,
        scope: &Scope,
        path: &YamlPath,
        r: &mut Reporter<'_>,
        what: &str,
    ) -> bool {
        match self.env.compile_expression(source) {
            Ok(expr) => {
                let variables = expr.undeclared_variables(true);
                self.check_filters(&format!("{{{{ {source} }}}}"), path, r)
                    & self.check_variables(variables, scope, path, r)
            }
            Err(error) => {
                r.error(
                    "template-syntax",
                    path,
                    format!("invalid {what}: {}", describe(&error)),
                );
                false
            }
        }
    }

    fn check_variables(
        &self,
        variables: std::collections::HashSet<String>,
        scope: &Scope,
        path: &YamlPath,
        r: &mut Reporter<'_>,
    ) -> bool {
        let mut variables: Vec<String> = variables.into_iter().collect();
        variables.sort();
        let mut ok = true;
        for variable in variables {
            let mut parts = variable.split('.');
            let root = parts.next().unwrap_or_default();
            let field = parts.next();
            if BUILTIN_GLOBALS.contains(&root) {
                continue;
            }
            let Some(fields) = scope.root(root) else {
                let roots: Vec<&str> = scope.roots.iter().map(|(name, _)| name.as_str()).collect();
                let hint = did_you_mean(root, roots.iter().copied())
                    .or_else(|| Some(format!("available here: {}", roots.join(", "))));
                r.error_hint(
                    "undefined-variable",
                    path,
                    format!("undefined variable `{root}`"),
                    hint,
                );
                ok = false;
                continue;
            };
            let (Fields::Known { names, what }, Some(field)) = (fields, field) else {
                continue;
            };
            if root == "config" || root == "secrets" {
                self.used_config.borrow_mut().insert(field.to_string());
            }
            if names.contains(field) {
                continue;
            }
            let mut hint = did_you_mean(field, names.iter().map(String::as_str));
            if let Some((plain, secret)) = &scope.config_split {
                if root == "config" && secret.contains(field) {
                    hint = Some(format!(
                        "`{field}` is a secret field: use `secrets.{field}`"
                    ));
                } else if root == "secrets" && plain.contains(field) {
                    hint = Some(format!("`{field}` is not secret: use `config.{field}`"));
                }
            }
            if root == "steps" && scope.later_steps.contains(field) {
                hint = Some(format!(
                    "step `{field}` does not run before this one; a step reads only the outputs of earlier steps"
                ));
            }
            if hint.is_none() && names.is_empty() {
                hint = Some(format!("no {what} is declared here"));
            }
            r.error_hint(
                "undefined-variable",
                path,
                format!("`{root}.{field}` is not a known {what}"),
                hint,
            );
            ok = false;
        }
        ok
    }

    /// MiniJinja looks filters up only at render time; check each `| name` now.
    fn check_filters(&self, source: &str, path: &YamlPath, r: &mut Reporter<'_>) -> bool {
        let mut ok = true;
        for name in filter_names(source) {
            let exists = *self.filter_exists.borrow_mut().entry(name.clone()).or_insert_with(|| {
                let probe = format!("{{{{ none | {name} }}}}");
                !matches!(self.env.render_str(&probe, ()), Err(e) if e.kind() == ErrorKind::UnknownFilter)
            });
            if !exists {
                r.error("unknown-filter", path, format!("unknown filter `{name}`"));
                ok = false;
            }
        }
        ok
    }
}

/// The error text without MiniJinja's "(in <string>:1)" suffix.
fn describe(error: &minijinja::Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// Decides a template's shape from its text.
pub fn classify(source: &str) -> TemplateShape {
    let has_syntax = source.contains("{{") || source.contains("{%") || source.contains("{#");
    if !has_syntax {
        return TemplateShape::Literal;
    }
    // Exactly `{{ expr }}`: no text around it (that would make a string) and no whitespace
    // control (`{{- x -}}` is text-level syntax, not part of the expression).
    if let Some(inner) = source.strip_prefix("{{").and_then(|s| s.strip_suffix("}}"))
        && !inner.contains("{{")
        && !inner.contains("}}")
        && !inner.contains("{%")
        && !inner.contains("{#")
        && !inner.starts_with(['-', '+'])
        && !inner.ends_with(['-', '+'])
    {
        return TemplateShape::Expression(Arc::from(inner.trim()));
    }
    TemplateShape::Text
}

/// Names used as filters (`| name`) inside the code parts of a template, skipping strings.
fn filter_names(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let bytes = source.as_bytes();
    let mut in_code = false;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !in_code {
            if b == b'{' && matches!(bytes.get(i + 1), Some(b'{' | b'%')) {
                in_code = true;
                i += 2;
                continue;
            }
        } else if let Some(q) = quote {
            if b == b'\\' {
                i += 1;
            } else if b == q {
                quote = None;
            }
        } else if b == b'"' || b == b'\'' {
            quote = Some(b);
        } else if matches!(b, b'}' | b'%') && bytes.get(i + 1) == Some(&b'}') {
            in_code = false;
        } else if b == b'|' {
            let rest = &source[i + 1..];
            let rest = rest.trim_start();
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
        i += 1;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_literals_expressions_and_text() {
        assert_eq!(classify("plain"), TemplateShape::Literal);
        assert_eq!(
            classify("{{ input.count }}"),
            TemplateShape::Expression(Arc::from("input.count"))
        );
        assert_eq!(classify(" {{ input.count }} "), TemplateShape::Text);
        assert_eq!(classify("{{- input.count -}}"), TemplateShape::Text);
        assert_eq!(classify("#{{ a }} {{ b }}"), TemplateShape::Text);
        assert_eq!(classify("{{ a }}{{ b }}"), TemplateShape::Text);
    }

    #[test]
    fn finds_filter_names_outside_strings() {
        let names =
            filter_names("a | b {{ x | upper | default('a|b') }} {% if y|length %}{% endif %}");
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            vec!["default", "length", "upper"]
        );
    }
}
