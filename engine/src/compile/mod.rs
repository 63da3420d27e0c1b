//! Compiling: spec values -> the checked plan, with every problem reported.
//!
//! Compilation takes all files of a load together, because workflows refer to connectors
//! and to each other. It runs every check on every file and collects the diagnostics; a
//! [`Catalog`] comes out only when there is no error. It never reads files or the network.

pub mod auth;
pub mod connector;
pub mod inputs;
mod parallel;
pub mod request;
pub mod scopes;
pub mod smtp;
pub mod template;
pub mod tests;
mod transfer;
pub mod values;
pub mod webhook;
pub mod workflow;

use crate::diag::{Diagnostics, Severity};
use crate::load::{Document, Reporter, Segment, YamlPath, load_document};
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
    /// Connector tests (`tests:` files) whose references check out, for `switchyard test`.
    pub tests: Vec<tests::ConnectorTests>,
}

/// Loads and compiles a set of files as one unit.
pub fn compile_sources(sources: &[SourceFile]) -> Compiled {
    let (loaded, mut diagnostics) = parallel::map_with_diagnostics(
        sources,
        || (),
        |_, s, diags| load_document(&s.path, &s.text, diags).map(|d| (d, s)),
    );
    let documents: Vec<(Document, &SourceFile)> = loaded.into_iter().flatten().collect();

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
            // Several files may test one connector.
            Document::Tests(_) => continue,
        };
        let Some(id) = id else { continue };
        if let Some(first) = files.get(id) {
            let index = match doc {
                Document::Connector(l) => &l.index,
                Document::Workflow(l) => &l.index,
                Document::Tests(l) => &l.index,
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
    // What workflows may refer to besides connector specs: items that failed to decode (so
    // references to them are not reported twice), and each workflow's `on_failure` target.
    let mut broken_items = HashSet::new();
    let mut workflows = HashMap::new();
    for (doc, _) in &documents {
        match doc {
            Document::Connector(l) => {
                let Some(id) = &l.declared_id else { continue };
                for pruned in &l.pruned {
                    if let [Segment::Key(section), Segment::Key(name), ..] = pruned.segments()
                        && (section == "actions" || section == "triggers")
                    {
                        broken_items.insert(format!("{id}.{name}"));
                    }
                }
            }
            Document::Workflow(l) => {
                if let Some(id) = &l.declared_id {
                    let on_failure = l
                        .spec
                        .as_ref()
                        .and_then(|s| s.on_failure.as_ref())
                        .map(|f| f.workflow.clone());
                    workflows.entry(id.clone()).or_insert(on_failure);
                }
            }
            Document::Tests(_) => {}
        }
    }

    let refs = workflow::References {
        connectors: &connectors,
        broken_connectors: &broken_connectors,
        broken_items: &broken_items,
        workflows: &workflows,
    };
    let (plans, compile_diagnostics) = parallel::map_with_diagnostics(
        &documents,
        template::TemplateCompiler::new,
        |tc, (doc, source), diagnostics| compile_document(doc, source, &refs, tc, diagnostics),
    );
    diagnostics.extend(compile_diagnostics);
    let mut catalog = Catalog::default();
    let mut tests = Vec::new();
    for ((doc, _), plan) in documents.iter().zip(plans) {
        let path = match doc {
            Document::Connector(l) => &l.path,
            Document::Workflow(l) => &l.path,
            Document::Tests(l) => &l.path,
        };
        if duplicates.contains(path) {
            continue;
        }
        match plan {
            Some(Plan::Connector(p)) => {
                catalog.connectors.insert(p.id.clone(), Arc::from(p));
            }
            Some(Plan::Workflow(p)) => {
                catalog.workflows.insert(p.id.clone(), Arc::from(p));
            }
            Some(Plan::Tests(t)) => tests.push(*t),
            None => {}
        }
    }
    diagnostics.sort();
    let catalog = (!diagnostics.iter().any(|d| d.severity == Severity::Error)).then_some(catalog);
    Compiled {
        catalog,
        diagnostics,
        tests,
    }
}

enum Plan {
    Connector(Box<crate::plan::ConnectorPlan>),
    Workflow(Box<crate::plan::WorkflowPlan>),
    Tests(Box<tests::ConnectorTests>),
}

/// Lints and compiles one decoded document.
fn compile_document(
    doc: &Document,
    source: &SourceFile,
    refs: &workflow::References<'_>,
    tc: &template::TemplateCompiler,
    diagnostics: &mut Diagnostics,
) -> Option<Plan> {
    let hash = hex::encode(sha2::Sha256::digest(source.text.as_bytes()));
    match doc {
        Document::Connector(loaded) => {
            let spec = loaded.spec.as_ref()?;
            let mut r =
                Reporter::with_pruned(&loaded.path, &loaded.index, diagnostics, &loaded.pruned);
            connector::compile_connector(loaded, spec, hash, tc, &mut r)
                .map(|p| Plan::Connector(Box::new(p)))
        }
        Document::Workflow(loaded) => {
            let spec = loaded.spec.as_ref()?;
            let mut r =
                Reporter::with_pruned(&loaded.path, &loaded.index, diagnostics, &loaded.pruned);
            workflow::compile_workflow(loaded, spec, hash, refs, tc, &mut r)
                .map(|p| Plan::Workflow(Box::new(p)))
        }
        Document::Tests(loaded) => {
            let spec = loaded.spec.as_ref()?;
            let mut r =
                Reporter::with_pruned(&loaded.path, &loaded.index, diagnostics, &loaded.pruned);
            tests::check_tests(&loaded.path, spec, refs.connectors, &mut r)
                .map(|t| Plan::Tests(Box::new(t)))
        }
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
