//! The "secret written into a spec" lint: literals that look like credentials.
//!
//! A warning, not an error (`validate --deny-warnings` makes it fail). It runs on the YAML
//! tree as read, so it sees every string of the file. It must never print the literal
//! itself: the message names the kind of credential and the path only.

use super::locate::{Segment, YamlPath};
use super::report::Reporter;
use regex::{Regex, RegexSet};
use std::sync::OnceLock;

/// Well-known credential formats, with the name used in the warning.
const SECRET_PATTERNS: [(&str, &str); 13] = [
    (r"xox[abposr]-[0-9A-Za-z-]{10,}", "Slack token"),
    (r"xapp-[0-9]-[0-9A-Za-z-]{10,}", "Slack app token"),
    (r"gh[pousr]_[0-9A-Za-z]{30,}", "GitHub token"),
    (r"github_pat_[0-9A-Za-z_]{30,}", "GitHub token"),
    (r"(sk|rk)_(live|test)_[0-9A-Za-z]{16,}", "Stripe key"),
    (r"whsec_[0-9A-Za-z+/=]{16,}", "webhook signing secret"),
    (r"AKIA[0-9A-Z]{16}", "AWS access key id"),
    (r"AIza[0-9A-Za-z_-]{35}", "Google API key"),
    (r"-----BEGIN [A-Z ]*PRIVATE KEY-----", "private key"),
    (r"glpat-[0-9A-Za-z_-]{20,}", "GitLab token"),
    (
        r"SG\.[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}",
        "SendGrid key",
    ),
    (
        r"eyJ[0-9A-Za-z_-]{10,}\.eyJ[0-9A-Za-z_-]{10,}\.[0-9A-Za-z_-]{10,}",
        "JSON Web Token",
    ),
    (
        r"(?i)^(bearer|token|basic) [0-9A-Za-z._~+/=-]{20,}$",
        "literal credential",
    ),
];

fn patterns() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| {
        RegexSet::new(SECRET_PATTERNS.iter().map(|(p, _)| *p)).expect("secret patterns are valid")
    })
}

fn each_pattern() -> &'static [Regex] {
    static LIST: OnceLock<Vec<Regex>> = OnceLock::new();
    LIST.get_or_init(|| {
        SECRET_PATTERNS
            .iter()
            .map(|(p, _)| Regex::new(p).expect("secret patterns are valid"))
            .collect()
    })
}

/// Replaces everything in `text` that looks like a credential with `***`.
///
/// Every diagnostic message, hint and quoted source line passes through here, so a
/// credential written into a spec (the thing the lint warns about) is not echoed back by the
/// warning itself, nor by a type error that quotes the value.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() < MIN_SECRET_LEN || !patterns().is_match(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for pattern in each_pattern() {
        out = pattern.replace_all(&out, "***").into_owned();
    }
    std::borrow::Cow::Owned(out)
}

/// Shortest credential any pattern matches; shorter strings are skipped unchecked.
const MIN_SECRET_LEN: usize = 16;

/// Warns about every string in `tree` that looks like a credential.
pub fn secret_literals(tree: &serde_json::Value, r: &mut Reporter<'_>) {
    let mut path = Vec::new();
    walk(tree, &mut path, r);
}

/// A path segment borrowed from the tree: the walk allocates nothing until it finds a match.
enum Step<'t> {
    Key(&'t str),
    Index(usize),
}

fn walk<'t>(value: &'t serde_json::Value, path: &mut Vec<Step<'t>>, r: &mut Reporter<'_>) {
    match value {
        serde_json::Value::String(s) => {
            // `is_match` first: almost no string matches, and it is much cheaper than
            // asking which pattern did.
            if s.len() >= MIN_SECRET_LEN
                && patterns().is_match(s)
                && let Some(i) = patterns().matches(s).iter().next()
            {
                let mut at = YamlPath::root();
                for step in path.iter() {
                    at.push(match step {
                        Step::Key(k) => Segment::Key(k.to_string()),
                        Step::Index(i) => Segment::Index(*i),
                    });
                }
                r.warning(
                    "secret-literal",
                    &at,
                    format!("this looks like a {} written into the spec", SECRET_PATTERNS[i].1),
                    Some("put credentials in a config field with `secret: true` and use `{{ secrets.<name> }}`".into()),
                );
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                walk(item, path, r);
                path.pop();
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                path.push(Step::Key(k));
                walk(v, path, r);
                path.pop();
            }
        }
        _ => {}
    }
}
