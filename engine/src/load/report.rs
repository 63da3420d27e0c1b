//! A small helper that turns "this path is wrong because..." into a located [`Diagnostic`].

use super::locate::{LocationIndex, YamlPath};
use crate::diag::{Diagnostic, Diagnostics, Severity};
use std::path::Path;

/// Reports problems of one file, locating each by its YAML path.
pub struct Reporter<'a> {
    file: &'a Path,
    index: &'a LocationIndex,
    out: &'a mut Diagnostics,
    pruned: &'a [YamlPath],
}

/// Which part of a mapping entry a diagnostic points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// The value (wrong type, bad template, unknown reference).
    Value,
    /// The key (unknown field, a name that is duplicated or unused).
    Key,
}

impl<'a> Reporter<'a> {
    pub fn new(file: &'a Path, index: &'a LocationIndex, out: &'a mut Diagnostics) -> Self {
        Self {
            file,
            index,
            out,
            pruned: &[],
        }
    }

    /// A reporter for the compiler, which sees a spec with the unreadable nodes (`pruned`,
    /// already reported by the decoder) removed. Errors inside a pruned node, or at one of
    /// its ancestors (a step that "does nothing" because its misspelled kind was pruned),
    /// are echoes of the first report and are dropped.
    pub fn with_pruned(
        file: &'a Path,
        index: &'a LocationIndex,
        out: &'a mut Diagnostics,
        pruned: &'a [YamlPath],
    ) -> Self {
        Self {
            file,
            index,
            out,
            pruned,
        }
    }

    pub fn file(&self) -> &Path {
        self.file
    }

    pub fn index(&self) -> &LocationIndex {
        self.index
    }

    pub fn error(&mut self, code: &'static str, path: &YamlPath, message: impl Into<String>) {
        self.push(Severity::Error, code, path, At::Value, message.into(), None);
    }

    pub fn error_hint(
        &mut self,
        code: &'static str,
        path: &YamlPath,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(Severity::Error, code, path, At::Value, message.into(), hint);
    }

    pub fn warning(
        &mut self,
        code: &'static str,
        path: &YamlPath,
        message: impl Into<String>,
        hint: Option<String>,
    ) {
        self.push(Severity::Warning, code, path, At::Key, message.into(), hint);
    }

    pub fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        path: &YamlPath,
        at: At,
        message: String,
        hint: Option<String>,
    ) {
        let echo = !path.is_empty()
            && self
                .pruned
                .iter()
                .any(|p| p.starts_with(path) || path.starts_with(p));
        if severity == Severity::Error && echo {
            return;
        }
        // Nothing credential-shaped leaves through a diagnostic.
        let message = super::secrets::redact(&message).into_owned();
        let hint = hint.map(|h| super::secrets::redact(&h).into_owned());
        let position = match at {
            At::Value => self.index.value_position(path),
            At::Key => self.index.key_position(path),
        };
        self.out.push(Diagnostic {
            severity,
            code,
            file: self.file.to_path_buf(),
            position,
            yaml_path: path.to_string(),
            message,
            hint,
        });
    }
}
