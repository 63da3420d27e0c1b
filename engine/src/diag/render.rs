//! Turning diagnostics into text for people (with the offending line and a caret), for
//! machines (JSON) and for GitHub Actions (workflow-command annotations).

use super::{Diagnostic, Diagnostics, Severity};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// The output formats of `switchyard validate --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Readable text with the source line and a caret under the column.
    Human,
    /// One JSON document: `{"valid": bool, "errors": n, "warnings": n, "diagnostics": [...]}`.
    Json,
    /// GitHub Actions annotations: `::error file=..,line=..,col=..::message`.
    Github,
}

/// Renders all diagnostics. `sources` holds the text of each file so the human format can
/// quote the offending line.
pub fn render(
    diagnostics: &Diagnostics,
    format: OutputFormat,
    sources: &HashMap<PathBuf, String>,
) -> String {
    match format {
        OutputFormat::Human => render_human(diagnostics, sources),
        OutputFormat::Json => render_json(diagnostics),
        OutputFormat::Github => render_github(diagnostics),
    }
}

fn render_human(diagnostics: &Diagnostics, sources: &HashMap<PathBuf, String>) -> String {
    let mut out = String::new();
    for d in diagnostics.iter() {
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}[{}]: {}", d.code, d.message);
        let _ = writeln!(
            out,
            "  --> {}:{}  (at {})",
            d.file.display(),
            d.position,
            d.yaml_path
        );
        if let Some(line) = sources
            .get(&d.file)
            .and_then(|text| text.lines().nth(d.position.line.saturating_sub(1)))
        {
            let number = d.position.line.to_string();
            let gutter = " ".repeat(number.len());
            // The caret goes under the column; count characters, not bytes, and keep tabs
            // as tabs so the caret lines up in the terminal.
            let pad: String = line
                .chars()
                .take(d.position.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{gutter} |");
            let _ = writeln!(out, "{number} | {}", crate::load::secrets::redact(line));
            let _ = writeln!(out, "{gutter} | {pad}^");
        }
        if let Some(hint) = &d.hint {
            let _ = writeln!(out, "  = hint: {hint}");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} error(s), {} warning(s)",
        diagnostics.error_count(),
        diagnostics.warning_count()
    );
    out
}

fn render_json(diagnostics: &Diagnostics) -> String {
    let items: Vec<&Diagnostic> = diagnostics.iter().collect();
    let doc = serde_json::json!({
        "valid": !diagnostics.has_errors(),
        "errors": diagnostics.error_count(),
        "warnings": diagnostics.warning_count(),
        "diagnostics": items,
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

fn render_github(diagnostics: &Diagnostics) -> String {
    let mut out = String::new();
    for d in diagnostics.iter() {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = format!("{} [{}] at {}", d.message, d.code, d.yaml_path);
        if let Some(hint) = &d.hint {
            let _ = write!(message, " (hint: {hint})");
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},title={}::{}",
            escape_property(&d.file.display().to_string()),
            d.position.line,
            d.position.column,
            escape_property(d.code),
            escape_data(&message)
        );
    }
    out
}

/// Escaping rules of GitHub workflow commands for the message part.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escaping rules of GitHub workflow commands for `key=value` properties.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Position;

    fn sample() -> (Diagnostics, HashMap<PathBuf, String>) {
        let mut diags = Diagnostics::default();
        diags.push(Diagnostic {
            severity: Severity::Error,
            code: "unknown-field",
            file: PathBuf::from("c.yaml"),
            position: Position { line: 2, column: 3 },
            yaml_path: "actions.a".into(),
            message: "unknown field `metod`, expected one of `method`".into(),
            hint: Some("did you mean `method`?".into()),
        });
        let mut sources = HashMap::new();
        sources.insert(PathBuf::from("c.yaml"), "a:\n  metod: GET\n".to_string());
        (diags, sources)
    }

    #[test]
    fn human_output_quotes_the_line_with_a_caret() {
        let (diags, sources) = sample();
        let text = render(&diags, OutputFormat::Human, &sources);
        assert!(text.contains("2 |   metod: GET\n  |   ^\n"), "{text}");
        assert!(text.contains("--> c.yaml:2:3"), "{text}");
        assert!(text.contains("= hint: did you mean `method`?"), "{text}");
    }

    #[test]
    fn github_output_is_an_annotation_with_escaped_properties() {
        let (diags, sources) = sample();
        let text = render(&diags, OutputFormat::Github, &sources);
        assert!(
            text.starts_with("::error file=c.yaml,line=2,col=3,title=unknown-field::unknown field"),
            "{text}"
        );
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn json_output_says_whether_valid() {
        let (diags, sources) = sample();
        let v: serde_json::Value =
            serde_json::from_str(&render(&diags, OutputFormat::Json, &sources)).unwrap();
        assert_eq!(v["valid"], false);
        assert_eq!(v["diagnostics"][0]["position"]["line"], 2);
    }
}
