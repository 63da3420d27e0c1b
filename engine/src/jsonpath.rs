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
