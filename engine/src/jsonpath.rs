//! JSONPath helpers around `serde_json_path` (RFC 9535, compiled once per spec path).
//!
//! `serde_json_path` selects nodes exactly as the RFC says (the whole compliance suite
//! passes, see `tests/integration/jsonpath_cts.rs`), but its `Display` of a node's location
//! does not escape names the way RFC 9535 section 2.7 requires for normalized paths. Records
//! and errors name locations, so this module renders them correctly.

use serde_json_path::{NormalizedPath, PathElement};
use std::fmt::Write as _;

/// The RFC 9535 normalized path of a node, e.g. `$['items'][3]['name']`.
pub fn normalized_path(path: &NormalizedPath<'_>) -> String {
    let mut out = String::from("$");
    for element in path.iter() {
        match element {
            PathElement::Index(i) => {
                let _ = write!(out, "[{i}]");
            }
            PathElement::Name(name) => {
                out.push_str("['");
                for c in name.chars() {
                    match c {
                        '\'' => out.push_str("\\'"),
                        '\\' => out.push_str("\\\\"),
                        '\u{8}' => out.push_str("\\b"),
                        '\u{c}' => out.push_str("\\f"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        c if (c as u32) < 0x20 => {
                            let _ = write!(out, "\\u{:04x}", c as u32);
                        }
                        c => out.push(c),
                    }
                }
                out.push_str("']");
            }
        }
    }
    out
}

/// Whether a (valid) query is singular in the sense of RFC 9535 section 2.3.5.1: only
/// child segments with one name or one index each, so it selects at most one node.
/// Descendant segments, wildcards, slices, filters and selector lists make it non-singular.
pub fn is_singular(query: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut prev = '\0';
    for c in query.chars() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '*' | '?' | ':' | ',' => return false,
            '.' if prev == '.' => return false,
            _ => {}
        }
        prev = c;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::is_singular;

    #[test]
    fn singular_queries() {
        for q in ["$", "$.a", "$.a.b[0]", "$['a,b']", "$[\"x*\"].y", "$.a[-1]"] {
            assert!(is_singular(q), "{q}");
        }
        for q in [
            "$.*",
            "$..a",
            "$.a[0:2]",
            "$.a[?@.b]",
            "$['a','b']",
            "$.a[*].b",
        ] {
            assert!(!is_singular(q), "{q}");
        }
    }
}
