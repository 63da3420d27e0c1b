//! Error rules, retries and rate limits of a connector or action.

use super::common::{DurationText, Expression, Template};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One error rule: when a response matches, what happens to it. A rule matches when its
/// `status` list (if given) contains the status and its `when` expression (if given) is
/// true. Rules without either are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorRule {
    /// Status codes or classes (`"4xx"`, `"5xx"`). Example: `status: [404, 410]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<StatusPattern>,
    /// An expression over `response` (`status`, `headers`, `body`), e.g. Slack's
    /// `response.body.ok == false`. Example: `when: "response.body.ok == false"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Expression>,
    /// What happens: `fail`, `retry`, `ignore` (treat as success with empty output) or
    /// `reauth` (credentials rejected: refresh or mark the connection). Example: `then: fail`.
    pub then: ErrorOutcome,
    /// The error message, a template over `response`.
    /// Example: `message: "Slack error: {{ response.body.error }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Template>,
}

/// What an error rule does with a matching response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorOutcome {
    Fail,
    Retry,
    Ignore,
    Reauth,
}

/// A status code (`404`) or class (`"4xx"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum StatusPattern {
    /// One status code, 100 to 599.
    Code(u16),
    /// A class of status codes: `1xx` to `5xx`.
    Class(#[schemars(regex(pattern = r"^[1-5]xx$"))] String),
}

impl StatusPattern {
    /// Whether an HTTP status falls under this pattern.
    pub fn matches(&self, status: u16) -> bool {
        match self {
            StatusPattern::Code(code) => *code == status,
            StatusPattern::Class(class) => {
                class.as_bytes().first().map(|d| u16::from(d - b'0')) == Some(status / 100)
            }
        }
    }
}

impl<'de> Deserialize<'de> for StatusPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = StatusPattern;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an HTTP status code (100-599) or a class such as \"4xx\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<StatusPattern, E> {
                match u16::try_from(v) {
                    Ok(code @ 100..=599) => Ok(StatusPattern::Code(code)),
                    _ => Err(E::custom(format_args!(
                        "invalid status code {v}, expected 100 to 599"
                    ))),
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<StatusPattern, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format_args!(
                        "invalid status code {v}, expected 100 to 599"
                    ))),
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StatusPattern, E> {
                if let Ok(code) = v.parse::<u64>() {
                    return self.visit_u64(code);
                }
                let b = v.as_bytes();
                if b.len() == 3 && (b'1'..=b'5').contains(&b[0]) && &b[1..] == b"xx" {
                    Ok(StatusPattern::Class(v.to_string()))
                } else {
                    Err(E::custom(format_args!(
                        "invalid status pattern `{v}`, expected a code such as 404 or a class such as \"5xx\""
                    )))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// When and how often a failed request is tried again.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrySpec {
    /// Status codes or classes that are retried; checked before the error rules.
    /// Example: `on_status: [429, "5xx"]`.
    #[serde(default = "default_retry_status")]
    pub on_status: Vec<StatusPattern>,
    /// Total attempts including the first; `1` means never retry. Example: `attempts: 5`.
    #[serde(default = "default_attempts")]
    pub attempts: u32,
    /// `exponential` (default) or `constant`. Example: `backoff: exponential`.
    #[serde(default)]
    pub backoff: Backoff,
    /// Delay before the first retry. Example: `initial_delay: 500ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_delay: Option<DurationText>,
    /// Upper bound of any single delay. Example: `max_delay: 30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_delay: Option<DurationText>,
    /// Retry network errors and timeouts too (on by default). Example: `on_network_error: false`.
    #[serde(default = "super::connector::default_true")]
    pub on_network_error: bool,
}

/// The statuses retried when a retry policy does not list its own.
pub(crate) fn default_retry_status() -> Vec<StatusPattern> {
    vec![
        StatusPattern::Code(429),
        StatusPattern::Code(502),
        StatusPattern::Code(503),
        StatusPattern::Code(504),
    ]
}

fn default_attempts() -> u32 {
    3
}

/// How retry delays grow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    /// Doubling delays with full jitter.
    #[default]
    Exponential,
    /// The same delay every time.
    Constant,
}

/// How the provider tells a client to slow down.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Header with the seconds (or HTTP date) to wait. Example: `retry_after_header: Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_header: Option<String>,
    /// Header with the requests left in the window. Example: `remaining_header: X-RateLimit-Remaining`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining_header: Option<String>,
    /// Header with the moment the window resets. Example: `reset_header: X-RateLimit-Reset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_header: Option<String>,
    /// How the reset header is written. Example: `reset_format: epoch_seconds`.
    #[serde(default)]
    pub reset_format: ResetFormat,
    /// Longest wait the engine accepts before failing instead. Example: `max_wait: 2m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait: Option<DurationText>,
    /// Client-side limit on requests per second per connection. Example: `requests_per_second: 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
}

/// Format of a rate-limit reset header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResetFormat {
    /// Unix time in seconds (GitHub).
    #[default]
    EpochSeconds,
    /// Seconds from now.
    DeltaSeconds,
}
