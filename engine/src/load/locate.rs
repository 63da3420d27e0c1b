//! Where every node of a YAML document sits in its file.
//!
//! The typed spec types stay free of position wrappers; instead the loader walks the parser's
//! event stream once and records, for every node, its YAML path and the position of its key
//! and of its value. Any later stage (the decoder, the compiler, lints) can then turn a
//! [`YamlPath`] into a line and column. A path with no entry of its own (a value reached
//! through an alias, say) resolves to its nearest recorded ancestor.

use crate::diag::Position;
use granit_parser::{Event, Parser};
use std::collections::HashMap;
use std::fmt;

/// One step in a YAML path: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A path from the document root to a node, shown as `actions.create_issue.query.since` or
/// `steps[2].input`. Keys that are not plain identifiers are quoted: `headers["X-Api.Key"]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct YamlPath(Vec<Segment>);

impl YamlPath {
    pub fn root() -> Self {
        Self::default()
    }

    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.into()));
        next
    }

    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    pub fn parent(&self) -> Option<Self> {
        let mut parent = self.clone();
        parent.0.pop().map(|_| parent)
    }

    pub fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    /// Whether `prefix` is this path or one of its ancestors.
    pub fn starts_with(&self, prefix: &YamlPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("<root>");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Key(k) if is_plain_key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Segment::Key(k) => write!(f, "[{k:?}]")?,
            }
        }
        Ok(())
    }
}

fn is_plain_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Positions of one node: its key (for mapping entries) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodePosition {
    pub key: Option<Position>,
    pub value: Position,
}

/// Positions of every node of one YAML document, by path.
///
/// Built lazily: a valid file never needs positions, so the second walk over its events
/// happens only when the first diagnostic asks where something is.
#[derive(Debug, Default)]
pub struct LocationIndex {
    text: std::sync::Arc<str>,
    nodes: std::sync::OnceLock<Nodes>,
}

/// Nodes keyed by (parent node id, segment); node 0 is the document root.
#[derive(Debug, Default)]
struct Nodes {
    children: HashMap<(usize, Segment), usize>,
    positions: Vec<NodePosition>,
}

impl LocationIndex {
    /// An index over `text`, built on first use.
    pub fn new(text: impl Into<std::sync::Arc<str>>) -> Self {
        Self {
            text: text.into(),
            nodes: std::sync::OnceLock::new(),
        }
    }

    /// Builds the index now (tests and benchmarks).
    pub fn build(text: &str) -> Self {
        let index = Self::new(text);
        index.nodes();
        index
    }

    fn nodes(&self) -> &Nodes {
        self.nodes.get_or_init(|| walk(&self.text))
    }

    /// The position of the node at `path` (its value), or of its nearest recorded ancestor.
    pub fn value_position(&self, path: &YamlPath) -> Position {
        self.lookup(path)
            .map(|n| n.value)
            .unwrap_or(Position { line: 1, column: 1 })
    }

    /// The position of the key of the entry at `path` when it has one (where "unknown field"
    /// errors point), else of its value.
    pub fn key_position(&self, path: &YamlPath) -> Position {
        self.lookup(path)
            .map(|n| n.key.unwrap_or(n.value))
            .unwrap_or(Position { line: 1, column: 1 })
    }

    /// Follows `path` as far as the document goes and returns that node.
    fn lookup(&self, path: &YamlPath) -> Option<NodePosition> {
        let nodes = self.nodes();
        let mut id = 0;
        for segment in &path.0 {
            match nodes.children.get(&(id, segment.clone())) {
                Some(child) => id = *child,
                None => break,
            }
        }
        nodes.positions.get(id).copied()
    }
}

/// Walks the first document of `text`. Stops quietly at a syntax error: the YAML parser
/// proper reports it, and whatever was indexed before it stays usable.
fn walk(text: &str) -> Nodes {
    let mut nodes = Nodes::default();
    let mut stack: Vec<Frame> = Vec::new();
    // Nodes inside a complex (non-scalar) mapping key are not addressable by a path.
    let mut skip_depth = 0usize;
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((event, span))) = parser.next_event() {
        let here = Position {
            line: span.start.line(),
            column: span.start.col() + 1,
        };
        let starts_collection = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
        match event {
            Event::DocumentEnd => break,
            Event::MappingEnd | Event::SequenceEnd => {
                if skip_depth > 0 {
                    skip_depth -= 1;
                    continue;
                }
                stack.pop();
                finish_value(&mut stack);
            }
            Event::Scalar(..)
            | Event::Alias(..)
            | Event::MappingStart(..)
            | Event::SequenceStart(..) => {
                if skip_depth > 0 {
                    if starts_collection {
                        skip_depth += 1;
                    }
                    continue;
                }
                // A scalar in key position names the next entry of the mapping.
                if let Some(Frame::Mapping {
                    pending_key,
                    key_position,
                    ..
                }) = stack.last_mut()
                    && pending_key.is_none()
                {
                    *key_position = Some(here);
                    match &event {
                        Event::Scalar(text, ..) => *pending_key = Some(text.to_string()),
                        _ => {
                            // A complex key: skip it and give its value a placeholder name.
                            *pending_key = Some("?".into());
                            if starts_collection {
                                skip_depth = 1;
                            }
                        }
                    }
                    continue;
                }
                let id = nodes.positions.len();
                let key = match stack.last_mut() {
                    None => None,
                    Some(Frame::Mapping {
                        node,
                        pending_key,
                        key_position,
                    }) => {
                        let name = pending_key.take().unwrap_or_default();
                        nodes.children.insert((*node, Segment::Key(name)), id);
                        key_position.take()
                    }
                    Some(Frame::Sequence { node, next_index }) => {
                        nodes
                            .children
                            .insert((*node, Segment::Index(*next_index)), id);
                        None
                    }
                };
                nodes.positions.push(NodePosition { key, value: here });
                match event {
                    Event::MappingStart(..) => stack.push(Frame::Mapping {
                        node: id,
                        pending_key: None,
                        key_position: None,
                    }),
                    Event::SequenceStart(..) => stack.push(Frame::Sequence {
                        node: id,
                        next_index: 0,
                    }),
                    _ => finish_value(&mut stack),
                }
            }
            _ => {}
        }
    }
    nodes
}

enum Frame {
    Mapping {
        node: usize,
        pending_key: Option<String>,
        key_position: Option<Position>,
    },
    Sequence {
        node: usize,
        next_index: usize,
    },
}

/// A value just ended: the enclosing mapping waits for its next key, the enclosing sequence
/// moves to its next index.
fn finish_value(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Mapping {
            pending_key,
            key_position,
            ..
        }) => {
            *pending_key = None;
            *key_position = None;
        }
        Some(Frame::Sequence { next_index, .. }) => *next_index += 1,
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
connector: demo
actions:
  list:
    method: GET
    query: { since: x, limit: 5 }
steps:
  - id: a
  - id: b
    input: [1, 2]
";

    fn pos(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn records_keys_and_values_of_block_and_flow_nodes() {
        let index = LocationIndex::build(DOC);
        let method = YamlPath::root().key("actions").key("list").key("method");
        assert_eq!(index.key_position(&method), pos(4, 5));
        assert_eq!(index.value_position(&method), pos(4, 13));
        let limit = YamlPath::root()
            .key("actions")
            .key("list")
            .key("query")
            .key("limit");
        assert_eq!(index.value_position(&limit), pos(5, 31));
        let second = YamlPath::root().key("steps").index(1).key("input").index(1);
        assert_eq!(index.value_position(&second), pos(9, 16));
    }

    #[test]
    fn unknown_paths_fall_back_to_the_nearest_ancestor() {
        let index = LocationIndex::build(DOC);
        let missing = YamlPath::root().key("steps").index(0).key("nope");
        assert_eq!(index.value_position(&missing), pos(7, 5));
    }

    #[test]
    fn paths_print_like_yaml_paths() {
        let p = YamlPath::root()
            .key("steps")
            .index(2)
            .key("headers")
            .key("X.Y");
        assert_eq!(p.to_string(), "steps[2].headers[\"X.Y\"]");
    }
}
