//! Reading YAML text into a JSON tree, in one pass over the parser's events.
//!
//! Specs are JSON-shaped data, so the loader needs YAML's syntax but only the JSON part of
//! its data model. This reader follows the YAML 1.2 core schema for plain scalars (only
//! `true`/`false` are booleans: `no`, `on` and `y` stay strings; `0755` and `1_000` stay
//! strings too), supports anchors, aliases and `<<` merge keys, and rejects what has no
//! JSON meaning or could exhaust memory: duplicate keys, non-scalar keys, unknown tags,
//! several documents, nesting deeper than [`MAX_DEPTH`], and alias expansion beyond
//! [`MAX_NODES`] nodes. It never recurses, so deep input cannot overflow the stack.
//!
//! Measured against serde-saphyr's `Value` deserializer on the same parser (granit), this
//! builds the tree in about a third of the time (see docs/BENCHMARKS.md).

use crate::diag::Position;
use granit_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};
use std::collections::HashMap;

/// Deepest nesting of mappings and sequences accepted.
pub const MAX_DEPTH: usize = 128;
/// Most nodes a document may expand to (aliases counted at their full size).
pub const MAX_NODES: usize = 1_000_000;

/// A YAML problem with the position it was found at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub position: Position,
    pub message: String,
}

enum Frame {
    Mapping {
        map: Map<String, Value>,
        /// The key read and waiting for its value, with its position and whether it is a
        /// plain `<<` (a merge key).
        key: Option<(String, Position, bool)>,
        merges: Vec<(Value, Position)>,
        anchor: usize,
        nodes: usize,
    },
    Sequence {
        items: Vec<Value>,
        anchor: usize,
        nodes: usize,
    },
}

/// Reads the single document of `text` into a JSON tree (`null` for an empty document).
pub fn read_tree(text: &str) -> Result<Value, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Value, usize)> = HashMap::new();
    let mut total_nodes = 0usize;
    let mut root: Option<Value> = None;
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| YamlError {
            position: Position {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
            message: format!("YAML syntax error: {}", e.info()),
        })?;
        let here = position(&span);
        // `counted`: nodes this event adds to the document's total (a collection's children
        // were counted as they came; an alias counts the whole value it repeats).
        let (value, anchor, nodes, counted) = match event {
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(error(
                        here,
                        "a spec file holds one YAML document; remove the extra `---`",
                    ));
                }
                continue;
            }
            Event::MappingStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map", here)?;
                push(
                    &mut stack,
                    Frame::Mapping {
                        map: Map::new(),
                        key: None,
                        merges: Vec::new(),
                        anchor,
                        nodes: 1,
                    },
                    here,
                )?;
                continue;
            }
            Event::SequenceStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq", here)?;
                push(
                    &mut stack,
                    Frame::Sequence {
                        items: Vec::new(),
                        anchor,
                        nodes: 1,
                    },
                    here,
                )?;
                continue;
            }
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Mapping {
                    mut map,
                    merges,
                    anchor,
                    nodes,
                    ..
                }) => {
                    apply_merges(&mut map, merges)?;
                    (Value::Object(map), anchor, nodes, 1)
                }
                _ => continue,
            },
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Sequence {
                    items,
                    anchor,
                    nodes,
                }) => (Value::Array(items), anchor, nodes, 1),
                _ => continue,
            },
            Event::Scalar(text, style, anchor, tag) => {
                // A mapping key is kept as written (`True:` stays `True`), so paths match the
                // source; only a plain, untagged `<<` is a merge key.
                if let Some(Frame::Mapping {
                    key: key @ None, ..
                }) = stack.last_mut()
                {
                    let is_merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                    *key = Some((text.to_string(), here, is_merge));
                    total_nodes += 1;
                    if anchor != 0 {
                        anchors.insert(anchor, (Value::String(text.to_string()), 1));
                    }
                    continue;
                }
                (scalar(&text, style, tag.as_deref(), here)?, anchor, 1, 1)
            }
            Event::Alias(id) => {
                let (value, nodes) = anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| error(here, "alias to an unknown anchor"))?;
                (value, 0, nodes, nodes)
            }
            _ => continue,
        };
        total_nodes += counted;
        if total_nodes > MAX_NODES {
            return Err(error(
                here,
                format!("document expands to more than {MAX_NODES} nodes (too many aliases?)"),
            ));
        }
        if anchor != 0 {
            anchors.insert(anchor, (value.clone(), nodes));
        }
        attach(&mut stack, &mut root, value, nodes, here)?;
    }
    Ok(root.unwrap_or(Value::Null))
}

fn position(span: &Span) -> Position {
    Position {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

fn error(position: Position, message: impl Into<String>) -> YamlError {
    YamlError {
        position,
        message: message.into(),
    }
}

fn push(stack: &mut Vec<Frame>, frame: Frame, here: Position) -> Result<(), YamlError> {
    if stack.len() >= MAX_DEPTH {
        return Err(error(
            here,
            format!("nesting deeper than {MAX_DEPTH} levels"),
        ));
    }
    stack.push(frame);
    Ok(())
}

/// Puts a finished value where it belongs: a key, a mapping value, a list item or the root.
fn attach(
    stack: &mut [Frame],
    root: &mut Option<Value>,
    value: Value,
    nodes: usize,
    here: Position,
) -> Result<(), YamlError> {
    match stack.last_mut() {
        None => *root = Some(value),
        Some(Frame::Sequence {
            items,
            nodes: total,
            ..
        }) => {
            items.push(value);
            *total += nodes;
        }
        Some(Frame::Mapping {
            map,
            key,
            merges,
            nodes: total,
            ..
        }) => match key.take() {
            None => {
                // Scalar keys are taken before they get here; this is an alias or a collection.
                let is_merge = false;
                let name = match value {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => "null".into(),
                    Value::Array(_) | Value::Object(_) => {
                        return Err(error(
                            here,
                            "mapping keys must be plain values, not lists or mappings",
                        ));
                    }
                };
                *key = Some((name, here, is_merge));
            }
            Some((name, key_position, is_merge)) => {
                *total += nodes;
                if is_merge {
                    merges.push((value, key_position));
                } else if map.contains_key(&name) {
                    return Err(error(
                        key_position,
                        format!("duplicate mapping key `{name}`"),
                    ));
                } else {
                    map.insert(name, value);
                }
            }
        },
    }
    Ok(())
}

/// `<<: *base` or `<<: [*a, *b]`: entries not written in the mapping itself are taken from
/// the merged mappings, earlier ones first.
fn apply_merges(
    map: &mut Map<String, Value>,
    merges: Vec<(Value, Position)>,
) -> Result<(), YamlError> {
    for (value, at) in merges {
        let sources = match value {
            Value::Object(m) => vec![m],
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::Object(m) => Ok(m),
                    _ => Err(error(at, "`<<` merges mappings only")),
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(error(at, "`<<` merges mappings only")),
        };
        for source in sources {
            for (k, v) in source {
                map.entry(k).or_insert(v);
            }
        }
    }
    Ok(())
}

const CORE: &str = "tag:yaml.org,2002:";

fn check_collection_tag(
    tag: Option<&Tag>,
    expected: &str,
    here: Position,
) -> Result<(), YamlError> {
    match tag {
        None => Ok(()),
        Some(t) if t.handle() == CORE && t.suffix() == expected => Ok(()),
        Some(t) => Err(unsupported_tag(t, here)),
    }
}

fn unsupported_tag(tag: &Tag, here: Position) -> YamlError {
    let shown = if tag.handle() == CORE {
        format!("!!{}", tag.suffix())
    } else {
        format!("{}{}", tag.handle(), tag.suffix())
    };
    error(
        here,
        format!("unsupported YAML tag `{shown}`; specs use plain YAML values"),
    )
}

fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    here: Position,
) -> Result<Value, YamlError> {
    let Some(tag) = tag else {
        return Ok(if style == ScalarStyle::Plain {
            resolve_plain(text)
        } else {
            Value::String(text.to_string())
        });
    };
    if tag.handle() == "!" && tag.suffix().is_empty() {
        return Ok(Value::String(text.to_string()));
    }
    if tag.handle() != CORE {
        return Err(unsupported_tag(tag, here));
    }
    let wrong = |what: &str| error(here, format!("`{text}` is not a valid {what}"));
    match tag.suffix() {
        "str" => Ok(Value::String(text.to_string())),
        "null" => match resolve_plain(text) {
            Value::Null => Ok(Value::Null),
            _ => Err(wrong("null")),
        },
        "bool" => match resolve_plain(text) {
            v @ Value::Bool(_) => Ok(v),
            _ => Err(wrong("boolean")),
        },
        "int" => parse_int(text)
            .map(Value::Number)
            .ok_or_else(|| wrong("integer")),
        "float" => parse_int(text)
            .and_then(|n| n.as_f64())
            .or_else(|| parse_float(text))
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| wrong("finite number")),
        _ => Err(unsupported_tag(tag, here)),
    }
}

/// YAML 1.2 core schema resolution of a plain scalar, with leading-zero and underscored
/// numbers kept as strings (zip codes, file modes, ids).
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Some(n) = parse_int(text) {
        return Value::Number(n);
    }
    match parse_float(text).and_then(Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_string()),
    }
}

fn parse_int(text: &str) -> Option<Number> {
    // `from_str_radix` accepts a sign; YAML's `0x`/`0o` forms do not.
    if let Some(hex) = text.strip_prefix("0x") {
        let valid = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
        return valid
            .then(|| u64::from_str_radix(hex, 16).ok())
            .flatten()
            .map(Number::from);
    }
    if let Some(oct) = text.strip_prefix("0o") {
        let valid = !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b));
        return valid
            .then(|| u64::from_str_radix(oct, 8).ok())
            .flatten()
            .map(Number::from);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    unsigned
        .parse::<i64>()
        .map(Number::from)
        .or_else(|_| unsigned.parse::<u64>().map(Number::from))
        .ok()
}

/// `[-+]? ( . digits | digits ( . digits? )? ) ( [eE] [-+]? digits )?`
fn parse_float(text: &str) -> Option<f64> {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac_part {
        // Integer-shaped text is a float only with an exponent (`1e3`); `0755` stays a string.
        None => exponent.is_some() && !int_part.is_empty() && digits(int_part),
        Some(f) => digits(int_part) && digits(f) && !(int_part.is_empty() && f.is_empty()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    (mantissa_ok && exponent_ok)
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_scalars_follow_the_yaml_1_2_core_schema() {
        let doc = "a: [true, no, on, y, ~, null, '', 12, -3, 0x1F, 0o17, 0755, 1_000, 1.5, .5, 1e3, .inf, 2024-01-01, \"true\"]";
        assert_eq!(
            read_tree(doc).unwrap(),
            json!({"a": [true, "no", "on", "y", null, null, "", 12, -3, 31, 15, "0755", "1_000", 1.5, 0.5, 1000.0, ".inf", "2024-01-01", "true"]})
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let doc = "base: &b { method: GET, path: /a }\nx:\n  <<: *b\n  path: /x\ny: *b\n";
        assert_eq!(
            read_tree(doc).unwrap(),
            json!({"base": {"method": "GET", "path": "/a"}, "x": {"path": "/x", "method": "GET"}, "y": {"method": "GET", "path": "/a"}})
        );
    }

    #[test]
    fn rejects_what_json_cannot_hold_or_what_could_exhaust_memory() {
        let err = |doc: &str| read_tree(doc).unwrap_err();
        assert_eq!(
            err("a: 1\na: 2\n"),
            YamlError {
                position: Position { line: 2, column: 1 },
                message: "duplicate mapping key `a`".into()
            }
        );
        assert!(err("? [a]\n: 1\n").message.contains("plain values"));
        assert!(
            err("a: !custom x\n")
                .message
                .contains("unsupported YAML tag `!custom`")
        );
        assert!(
            err("a: 1\n---\nb: 2\n")
                .message
                .contains("one YAML document")
        );
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(
            err(&deep).message,
            format!("nesting deeper than {MAX_DEPTH} levels")
        );
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            bomb.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                vec![format!("*a{}", i - 1); 10].join(", ")
            ));
        }
        assert!(err(&bomb).message.contains("more than"));
    }

    #[test]
    fn keys_stay_as_written_and_only_a_plain_merge_key_merges() {
        assert_eq!(
            read_tree("True: 1\n0x1F: 2\n'<<': { a: 1 }\n").unwrap(),
            json!({"True": 1, "0x1F": 2, "<<": {"a": 1}})
        );
        assert_eq!(
            read_tree("[0x+1F, 0o+7, 0o8]").unwrap(),
            json!(["0x+1F", "0o+7", "0o8"])
        );
        assert!(
            read_tree("a: !!null x")
                .unwrap_err()
                .message
                .contains("not a valid null")
        );
    }

    #[test]
    fn a_large_plain_document_is_not_mistaken_for_an_alias_bomb() {
        // 200,000 leaves nested 8 deep: each node counts once, not once per ancestor.
        let mut doc = String::new();
        for i in 0..2_000 {
            doc.push_str(&format!(
                "k{i}:\n  a:\n    b:\n      c:\n        d:\n          e:\n            f: [{}]\n",
                vec!["1"; 100].join(", ")
            ));
        }
        assert!(read_tree(&doc).is_ok());
    }

    #[test]
    fn tags_of_the_core_schema_are_applied() {
        assert_eq!(
            read_tree("[!!str 12, !!int '7', !!float 1, !!bool true, !!null ~]").unwrap(),
            json!(["12", 7, 1.0, true, null])
        );
    }
}
