//! JSON documents seen by templates without copying them.
//!
//! A response page or a record is a `serde_json::Value`; templates read a few fields of it
//! (`record.user.login`). Converting the whole document into MiniJinja values for every
//! render would cost more than the render itself, so [`JsonNode`] wraps a shared document
//! and a path into it, and hands out children only when a template asks for them. Scalars
//! come out as plain MiniJinja values, so comparisons and filters behave as usual.
//!
//! Must never copy the document: a node is an `Arc` plus a short path of steps.

use minijinja::Value;
use minijinja::value::{Enumerator, Object, ObjectRepr};
use serde_json::Value as Json;
use std::sync::Arc;

/// A container (object or array) inside a shared JSON document.
#[derive(Debug)]
pub struct JsonNode {
    root: Arc<Json>,
    /// Steps from the root: array indexes and object keys.
    path: Box<[Step]>,
}

#[derive(Debug, Clone)]
enum Step {
    Index(usize),
    Key(Box<str>),
}

impl JsonNode {
    /// The JSON value this node stands for.
    pub fn get(&self) -> &Json {
        let mut at = &*self.root;
        for step in self.path.iter() {
            let next = match (at, step) {
                (Json::Array(items), Step::Index(i)) => items.get(*i),
                (Json::Object(map), Step::Key(k)) => map.get(&**k),
                _ => None,
            };
            at = next.unwrap_or(&Json::Null);
        }
        at
    }

    fn child(&self, step: Step, value: &Json) -> Value {
        match value {
            Json::Array(_) | Json::Object(_) => {
                let mut path = Vec::with_capacity(self.path.len() + 1);
                path.extend_from_slice(&self.path);
                path.push(step);
                Value::from_object(JsonNode {
                    root: self.root.clone(),
                    path: path.into_boxed_slice(),
                })
            }
            scalar => scalar_value(scalar),
        }
    }
}

/// A template value for a whole shared document.
pub fn from_shared(root: Arc<Json>) -> Value {
    match &*root {
        Json::Array(_) | Json::Object(_) => Value::from_object(JsonNode {
            root,
            path: Box::default(),
        }),
        scalar => scalar_value(scalar),
    }
}

/// A template value for an owned document.
pub fn from_json(value: Json) -> Value {
    from_shared(Arc::new(value))
}

fn scalar_value(value: &Json) -> Value {
    match value {
        Json::Null => Value::from(()),
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(_) | Json::Object(_) => Value::from(()),
    }
}

impl Object for JsonNode {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.get() {
            Json::Array(_) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match self.get() {
            Json::Object(map) => {
                let k = key.as_str()?;
                let v = map.get(k)?;
                Some(self.child(Step::Key(k.into()), v))
            }
            Json::Array(items) => {
                let i = key.as_i64()?;
                let i = if i < 0 { items.len() as i64 + i } else { i };
                let i = usize::try_from(i).ok()?;
                items.get(i).map(|v| self.child(Step::Index(i), v))
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.get() {
            Json::Array(items) => Enumerator::Seq(items.len()),
            Json::Object(map) => {
                Enumerator::Values(map.keys().map(|k| Value::from(k.as_str())).collect())
            }
            _ => Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        match self.get() {
            Json::Array(items) => Some(items.len()),
            Json::Object(map) => Some(map.len()),
            _ => Some(0),
        }
    }
}

/// Converts a rendered template value back into JSON. Wrapped documents are cloned
/// directly; anything else goes through serde.
pub fn to_json(value: &Value) -> Result<Json, String> {
    if let Some(node) = value.downcast_object_ref::<JsonNode>() {
        return Ok(node.get().clone());
    }
    if value.is_undefined() || value.is_none() {
        return Ok(Json::Null);
    }
    serde_json::to_value(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(expr: &str, doc: Json) -> Value {
        let env = crate::template_env::environment();
        let e = env.compile_expression(expr).unwrap();
        e.eval(minijinja::context! { r => from_json(doc) }).unwrap()
    }

    #[test]
    fn reads_fields_lazily_and_compares_scalars() {
        let doc = json!({"a": {"b": [1, "two", {"c": true}]}, "s": "open"});
        assert_eq!(eval("r.a.b[1]", doc.clone()), Value::from("two"));
        assert_eq!(eval("r.a.b[-1].c", doc.clone()), Value::from(true));
        assert_eq!(eval("r.s == 'open'", doc.clone()), Value::from(true));
        assert_eq!(eval("r.a.b | length", doc.clone()), Value::from(3));
        assert_eq!(
            eval("r.a.b | tojson", doc.clone()).as_str(),
            Some(r#"[1, "two", {"c": true}]"#)
        );
        assert_eq!(
            eval("r | list | join(',')", doc.clone()).as_str(),
            Some("a,s")
        );
        assert_eq!(eval("r.missing is defined", doc), Value::from(false));
    }

    #[test]
    fn round_trips_containers() {
        let doc = json!({"x": {"y": [1, 2]}});
        let v = eval("r.x", doc);
        assert_eq!(to_json(&v).unwrap(), json!({"y": [1, 2]}));
    }
}
