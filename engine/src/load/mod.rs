//! Loading: YAML files on disk -> typed spec values, every node located.
//!
//! The loader reads files, tells connectors from workflows by their top-level key, parses
//! YAML ([`yaml`]: one pass, bounded depth and alias expansion, YAML 1.2 scalars), indexes
//! node positions, and decodes the typed specs while collecting every structural error.
//! It never judges meaning: that is the compiler's job.

pub mod decode;
pub mod locate;
pub mod report;
pub mod secrets;
pub mod yaml;

pub use locate::{LocationIndex, Segment, YamlPath};
pub use report::{At, Reporter};

use crate::diag::{Diagnostic, Diagnostics, Position, Severity};
use crate::spec::{ConnectorSpec, WorkflowSpec};
use std::path::{Path, PathBuf};

/// Largest spec file accepted; real specs are a few kilobytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// A decoded document of one kind, with what is needed to locate problems in it.
#[derive(Debug)]
pub struct Loaded<T> {
    pub path: PathBuf,
    pub index: LocationIndex,
    /// `None` when structural errors left nothing decodable.
    pub spec: Option<T>,
    /// Nodes removed because they could not be decoded (already reported).
    pub pruned: Vec<YamlPath>,
    /// The id the file declares (`connector:` / `workflow:`), even when decoding failed.
    pub declared_id: Option<String>,
}

impl<T> Loaded<T> {
    /// Whether `path` or one of its ancestors was pruned: problems there are already reported.
    pub fn was_pruned(&self, path: &YamlPath) -> bool {
        let mut current = Some(path.clone());
        while let Some(p) = current {
            if self.pruned.contains(&p) {
                return true;
            }
            current = p.parent();
        }
        false
    }
}

/// A loaded file: a connector, a workflow, or a connector's tests.
#[derive(Debug)]
pub enum Document {
    Connector(Box<Loaded<ConnectorSpec>>),
    Workflow(Box<Loaded<WorkflowSpec>>),
    Tests(Box<Loaded<crate::spec::ConnectorTestsSpec>>),
}

/// Parses one file's text. Problems go to `diagnostics`; `None` when the file is not a
/// readable connector or workflow at all.
pub fn load_document(path: &Path, text: &str, diagnostics: &mut Diagnostics) -> Option<Document> {
    let file_error =
        |diagnostics: &mut Diagnostics, code, position, message: String, hint: Option<String>| {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code,
                file: path.to_path_buf(),
                position,
                yaml_path: "<root>".into(),
                message: secrets::redact(&message).into_owned(),
                hint,
            });
        };
    if text.len() > MAX_FILE_BYTES {
        file_error(
            diagnostics,
            "file-too-large",
            Position { line: 1, column: 1 },
            format!(
                "file is {} bytes; spec files are limited to {MAX_FILE_BYTES} bytes",
                text.len()
            ),
            None,
        );
        return None;
    }
    let tree = match yaml::read_tree(text) {
        Ok(tree) => tree,
        Err(error) => {
            file_error(
                diagnostics,
                "yaml-syntax",
                error.position,
                error.message,
                None,
            );
            return None;
        }
    };
    let kind = match &tree {
        serde_json::Value::Object(map) if map.contains_key("connector") => Kind::Connector,
        serde_json::Value::Object(map) if map.contains_key("workflow") => Kind::Workflow,
        serde_json::Value::Object(map) if map.contains_key("tests") => Kind::Tests,
        _ => {
            file_error(
                diagnostics,
                "unknown-document",
                Position { line: 1, column: 1 },
                "not a Switchyard spec: expected a mapping with a top-level `connector:`, `workflow:` or `tests:` key".into(),
                Some("connectors start with `connector: <id>`, workflows with `workflow: <id>`, connector tests with `tests: <connector id>`".into()),
            );
            return None;
        }
    };
    let declared_id = tree
        .get(match kind {
            Kind::Connector => "connector",
            Kind::Workflow => "workflow",
            Kind::Tests => "tests",
        })
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let index = LocationIndex::new(text);
    let mut reporter = Reporter::new(path, &index, diagnostics);
    secrets::secret_literals(&tree, &mut reporter);
    Some(match kind {
        Kind::Connector => {
            let decoded = decode::decode::<ConnectorSpec>(tree, &mut reporter);
            Document::Connector(Box::new(Loaded {
                path: path.to_path_buf(),
                index,
                spec: decoded.spec,
                pruned: decoded.pruned,
                declared_id,
            }))
        }
        Kind::Workflow => {
            let decoded = decode::decode::<WorkflowSpec>(tree, &mut reporter);
            Document::Workflow(Box::new(Loaded {
                path: path.to_path_buf(),
                index,
                spec: decoded.spec,
                pruned: decoded.pruned,
                declared_id,
            }))
        }
        Kind::Tests => {
            let decoded = decode::decode::<crate::spec::ConnectorTestsSpec>(tree, &mut reporter);
            Document::Tests(Box::new(Loaded {
                path: path.to_path_buf(),
                index,
                spec: decoded.spec,
                pruned: decoded.pruned,
                declared_id,
            }))
        }
    })
}

enum Kind {
    Connector,
    Workflow,
    Tests,
}

/// Expands files and folders into the sorted list of `.yaml`/`.yml` files under them.
pub fn collect_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files)?;
        } else if path.exists() {
            files.push(path.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or directory", path.display()),
            ));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            files.push(path);
        }
    }
    Ok(())
}
