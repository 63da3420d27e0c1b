//! The catalog a running server uses, replaceable while it runs (`switchyard reload`,
//! SIGHUP).
//!
//! Readers take the current catalog with one atomic load and keep it for as long as they
//! need it, so a reload never changes a catalog under someone's feet. A run started before
//! a reload finishes with the workflow version it started with: the versions a reload
//! replaced stay reachable by content hash.
//!
//! It also holds the workflows switched on or off through the API: a switch overrides the
//! spec's `enabled` and outlives reloads (it is stored; see [`LiveCatalog::set_switches`]).
//!
//! Must never hold a catalog that did not compile: the caller replaces it only with one
//! that passed every check.

use super::{Catalog, WorkflowPlan};
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many replaced workflow versions are kept for runs that started with them.
const KEPT_VERSIONS: usize = 256;

/// The current catalog, and the workflow versions reloads replaced.
#[derive(Debug)]
pub struct LiveCatalog {
    current: ArcSwap<Catalog>,
    /// Replaced workflow plans by content hash, oldest first (bounded).
    replaced: Mutex<Vec<(String, Arc<WorkflowPlan>)>>,
    /// Workflow id -> on/off, set through the API.
    switches: ArcSwap<HashMap<String, bool>>,
}

impl LiveCatalog {
    pub fn new(catalog: impl Into<Arc<Catalog>>) -> Arc<Self> {
        Arc::new(LiveCatalog {
            current: ArcSwap::new(catalog.into()),
            replaced: Mutex::new(Vec::new()),
            switches: ArcSwap::default(),
        })
    }

    /// Whether `workflow` takes triggers: its switch if it has one, else its spec's
    /// `enabled`.
    pub fn is_enabled(&self, workflow: &WorkflowPlan) -> bool {
        self.switches
            .load()
            .get(&workflow.id)
            .copied()
            .unwrap_or(workflow.enabled)
    }

    /// The switch of a workflow, if it has one.
    pub fn switch(&self, id: &str) -> Option<bool> {
        self.switches.load().get(id).copied()
    }

    /// Puts the stored switches in place (at start, and when another instance changed
    /// them).
    pub fn set_switches(&self, switches: impl IntoIterator<Item = (String, bool)>) {
        self.switches
            .store(Arc::new(switches.into_iter().collect()));
    }

    /// Sets one switch (after it was stored).
    pub fn set_switch(&self, id: &str, enabled: bool) {
        self.switches.rcu(|current| {
            let mut next = HashMap::clone(current);
            next.insert(id.to_string(), enabled);
            next
        });
    }

    /// The catalog as of now.
    pub fn current(&self) -> Arc<Catalog> {
        self.current.load_full()
    }

    /// Puts `catalog` in place; workflow versions it drops stay reachable by hash.
    pub fn replace(&self, catalog: impl Into<Arc<Catalog>>) {
        let catalog = catalog.into();
        let old = self.current.swap(catalog.clone());
        let Ok(mut replaced) = self.replaced.lock() else {
            return;
        };
        for plan in old.workflows.values() {
            let still_current = catalog
                .workflows
                .get(&plan.id)
                .is_some_and(|w| w.content_hash == plan.content_hash);
            if !still_current && !replaced.iter().any(|(h, _)| *h == plan.content_hash) {
                replaced.push((plan.content_hash.clone(), plan.clone()));
            }
        }
        let excess = replaced.len().saturating_sub(KEPT_VERSIONS);
        replaced.drain(..excess);
    }

    /// The workflow `id` in the version whose content hash is `hash`; the current version
    /// when that one is no longer kept (or `hash` is unknown).
    pub fn workflow(&self, id: &str, hash: &str) -> Option<Arc<WorkflowPlan>> {
        let current = self.current.load();
        let now = current.workflows.get(id);
        if let Some(plan) = now.filter(|p| p.content_hash == hash) {
            return Some(plan.clone());
        }
        let kept = self.replaced.lock().ok().and_then(|replaced| {
            replaced
                .iter()
                .find(|(h, plan)| h == hash && plan.id == id)
                .map(|(_, plan)| plan.clone())
        });
        kept.or_else(|| now.cloned())
    }
}
