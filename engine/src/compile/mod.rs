//! Compiling: spec values -> the checked plan, with every problem reported.
//!
//! Compilation takes all files of a load together, because workflows refer to connectors
//! and to each other. It runs every check on every file and collects the diagnostics; a
//! [`Catalog`] comes out only when there is no error. It never reads files or the network.

pub mod auth;
pub mod connector;
pub mod inputs;
pub mod lint;
pub mod request;
pub mod scopes;
pub mod template;
pub mod values;
pub mod webhook;
pub mod workflow;

use crate::diag::{Diagnostics, Severity};
use crate::load::{Document, Reporter, YamlPath, load_document};
use crate::plan::Catalog;
use crate::spec::ConnectorSpec;
use sha2::Digest;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

/// One spec file's path and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// What a compile produced: the catalog when there were no errors, and every diagnostic.
#[derive(Debug)]
pub struct Compiled {
    pub catalog: Option<Catalog>,
    pub diagnostics: Diagnostics,
}

/// Loads and compiles a set of files as one unit.
pub fn compile_sources(sources: &[SourceFile]) -> Compiled {
    let mut diagnostics = Diagnostics::default();
    let documents: Vec<(Document, &SourceFile)> = sources
        .iter()
        .filter_map(|s| load_document(&s.path, &s.text, &mut diagnostics).map(|d| (d, s)))
        .collect();

    // Who declares what, first file wins; later duplicates are errors.
    let mut connectors: HashMap<String, &ConnectorSpec> = HashMap::new();
    let mut connector_files: HashMap<String, PathBuf> = HashMap::new();
    let mut broken_connectors = HashSet::new();
    let mut workflow_files: HashMap<String, PathBuf> = HashMap::new();
    let mut duplicates = HashSet::new();
    for (doc, _) in &documents {
        let (id, path, files, kind) = match doc {
            Document::Connector(l) => (&l.declared_id, &l.path, &mut connector_files, "connector"),
            Document::Workflow(l) => (&l.declared_id, &l.path, &mut workflow_files, "workflow"),
        };
        let Some(id) = id else { continue };
        if let Some(first) = files.get(id) {
            let index = match doc {
                Document::Connector(l) => &l.index,
                Document::Workflow(l) => &l.index,
            };
            Reporter::new(path, index, &mut diagnostics).error_hint(
                "duplicate-id",
                &YamlPath::root().key(kind),
                format!("{kind} `{id}` is already defined in {}", first.display()),
                Some(format!("each {kind} id must be unique")),
            );
            duplicates.insert(path.clone());
            continue;
        }
        files.insert(id.clone(), path.clone());
        if let Document::Connector(l) = doc {
            match &l.spec {
                Some(spec) => {
                    connectors.insert(id.clone(), spec);
                }
                None => {
                    broken_connectors.insert(id.clone());
                }
            }
        }
    }
    let workflow_ids: HashSet<String> = workflow_files.keys().cloned().collect();

    let tc = template::TemplateCompiler::new();
    let mut catalog = Catalog::default();
    for (doc, source) in &documents {
        let hash = hex::encode(sha2::Sha256::digest(source.text.as_bytes()));
        match doc {
            Document::Connector(loaded) => {
                let Some(spec) = &loaded.spec else { continue };
                let mut r = Reporter::with_pruned(
                    &loaded.path,
                    &loaded.index,
                    &mut diagnostics,
                    &loaded.pruned,
                );
                lint::secret_literals(spec, &mut r);
                if let Some(plan) = connector::compile_connector(loaded, spec, hash, &tc, &mut r)
                    && !duplicates.contains(&loaded.path)
                {
                    catalog.connectors.insert(plan.id.clone(), Arc::new(plan));
                }
            }
            Document::Workflow(loaded) => {
                let Some(spec) = &loaded.spec else { continue };
                let mut r = Reporter::with_pruned(
                    &loaded.path,
                    &loaded.index,
                    &mut diagnostics,
                    &loaded.pruned,
                );
                lint::secret_literals(spec, &mut r);
                let refs = workflow::References {
                    connectors: &connectors,
                    broken_connectors: &broken_connectors,
                    workflows: &workflow_ids,
                };
                if let Some(plan) =
                    workflow::compile_workflow(loaded, spec, hash, &refs, &tc, &mut r)
                    && !duplicates.contains(&loaded.path)
                {
                    catalog.workflows.insert(plan.id.clone(), Arc::new(plan));
                }
            }
        }
    }
    diagnostics.sort();
    let catalog = (!diagnostics.iter().any(|d| d.severity == Severity::Error)).then_some(catalog);
    Compiled {
        catalog,
        diagnostics,
    }
}

/// Reads files and folders (recursively, `.yaml`/`.yml`) and compiles them.
pub fn compile_paths(paths: &[PathBuf]) -> std::io::Result<(Compiled, Vec<SourceFile>)> {
    let files = crate::load::collect_files(paths)?;
    let mut sources = Vec::with_capacity(files.len());
    for path in files {
        let bytes = std::fs::read(&path)?;
        let text = String::from_utf8(bytes).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: not UTF-8 text", path.display()),
            )
        })?;
        sources.push(SourceFile { path, text });
    }
    Ok((compile_sources(&sources), sources))
}
