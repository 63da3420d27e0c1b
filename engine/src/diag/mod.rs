//! Diagnostics: what `validate` tells an author about their YAML.
//!
//! Every problem found while loading or compiling a spec becomes one [`Diagnostic`]
//! carrying the file, the 1-based line and column, the YAML path (`actions.create_issue.path`),
//! a message and, where one helps, a hint. Loading and compiling push diagnostics into a
//! [`Diagnostics`] list instead of returning at the first problem, so an author sees every
//! mistake in one run.
//!
//! This module never formats secrets: messages are built from spec structure (names, paths,
//! expected types), never from the value of a field marked secret.

mod render;

pub use render::{OutputFormat, render};

use std::fmt;
use std::path::PathBuf;

/// How bad a diagnostic is. Errors make a file invalid; warnings are lints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A place in a YAML source: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable short name for the kind of problem (`unknown-field`, `undefined-variable`, ...).
    pub code: &'static str,
    pub file: PathBuf,
    pub position: Position,
    /// Where in the document, e.g. `actions.create_issue.path` or `steps[1].input.text`.
    pub yaml_path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}: {severity}[{}]: {}",
            self.file.display(),
            self.position,
            self.code,
            self.message
        )?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// The diagnostics collected for a set of files.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.items.extend(other.items);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.items.iter().filter(|d| d.severity == severity).count()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    /// Sorts by file, then position, so output is stable and reads top to bottom.
    pub fn sort(&mut self) {
        self.items.sort_by(|a, b| {
            (&a.file, a.position, &a.yaml_path, &a.message).cmp(&(
                &b.file,
                b.position,
                &b.yaml_path,
                &b.message,
            ))
        });
        self.items.dedup();
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

/// "Did you mean" for a name that is close to one of the known ones.
///
/// Uses Jaro-Winkler similarity, which favours shared prefixes (`post_mesage` ->
/// `post_message`). Returns `None` when nothing is close enough to be a likely typo.
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for candidate in known {
        let score = strsim::jaro_winkler(name, candidate);
        if score >= 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, candidate));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// [`did_you_mean`] as the end of a sentence: ` (did you mean `x`?)`, or nothing.
pub fn did_you_mean_suffix<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(name, known)
        .map(|h| format!(" ({h})"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_picks_the_closest_name() {
        let known = ["post_message", "update_message", "list_channels"];
        assert_eq!(
            did_you_mean("post_mesage", known).as_deref(),
            Some("did you mean `post_message`?")
        );
        assert_eq!(did_you_mean("zzz", known), None);
    }
}
