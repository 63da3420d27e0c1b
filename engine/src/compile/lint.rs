//! Lints: things that are allowed but probably wrong. They are warnings; `validate
//! --deny-warnings` turns them into failures.
//!
//! This module looks for literals that look like credentials. It must never print the
//! literal itself: the message names the kind of credential and the path only.

use crate::load::{Reporter, YamlPath};
use regex::RegexSet;
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

/// Warns about every string in `spec` (serialized back to JSON, so paths match the YAML)
/// that looks like a credential.
pub fn secret_literals<T: serde::Serialize>(spec: &T, r: &mut Reporter<'_>) {
    let Ok(tree) = serde_json::to_value(spec) else {
        return;
    };
    walk(&tree, &YamlPath::root(), r);
}

fn walk(value: &serde_json::Value, path: &YamlPath, r: &mut Reporter<'_>) {
    match value {
        serde_json::Value::String(s) => {
            if let Some(i) = patterns().matches(s).iter().next() {
                r.warning(
                    "secret-literal",
                    path,
                    format!("this looks like a {} written into the spec", SECRET_PATTERNS[i].1),
                    Some("put credentials in a config field with `secret: true` and use `{{ secrets.<name> }}`".into()),
                );
            }
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &path.index(i), r);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                walk(v, &path.key(k.clone()), r);
            }
        }
        _ => {}
    }
}
