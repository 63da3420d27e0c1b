//! Errors of an action call, and the scrubbing that keeps secrets out of them.

use super::auth::AuthError;
use super::paginate::PaginationError;
use super::render::RenderError;
use std::time::Duration;

/// Why an action call failed. Every message has been passed through a [`Redactor`].
#[derive(Debug, Clone, thiserror::Error)]
pub enum ActionError {
    #[error("connector `{connector}` has no action `{action}`{hint}")]
    UnknownAction {
        connector: String,
        action: String,
        hint: String,
    },
    /// Inputs or config the caller gave do not fit the spec.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("{0}")]
    Template(#[from] RenderError),
    #[error("request URL: {0}")]
    Url(String),
    /// The provider answered with an error (after any retries).
    #[error("{message}")]
    Provider {
        status: u16,
        message: String,
        /// The credentials were rejected: the connection needs new ones.
        reauth: bool,
        attempts: u32,
    },
    /// The provider asked for a longer wait than the spec allows (`rate_limit.max_wait`)
    /// or than is left before the deadline.
    #[error("rate limited (HTTP {status}): retry after {}", human(*.retry_after))]
    RateLimited { status: u16, retry_after: Duration },
    #[error("request failed after {attempts} attempt(s): {message}")]
    Transport { message: String, attempts: u32 },
    #[error("response larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the action did not finish within {}", human(*.0))]
    Deadline(Duration),
    #[error("pagination: {0}")]
    Pagination(String),
    #[error("writing records: {0}")]
    Sink(String),
}

impl From<PaginationError> for ActionError {
    fn from(e: PaginationError) -> Self {
        ActionError::Pagination(e.to_string())
    }
}

impl ActionError {
    /// Whether the caller (not the provider) is at fault: bad inputs, config or auth mode.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ActionError::UnknownAction { .. }
                | ActionError::Invalid(_)
                | ActionError::Auth(AuthError::UnknownMode { .. })
                | ActionError::Auth(AuthError::NoneUsable { .. })
                | ActionError::Auth(AuthError::NoToken { .. })
        )
    }

    /// Whether the provider rejected the credentials (HTTP 401, or an error rule with
    /// `then: reauth`): the connection needs new ones.
    pub fn needs_reauth(&self) -> bool {
        matches!(self, ActionError::Provider { reauth: true, .. })
            || matches!(self, ActionError::Provider { status: 401, .. })
    }

    /// The same error with every secret replaced by `***`.
    pub fn redacted(self, redactor: &Redactor) -> Self {
        use ActionError as E;
        let r = |s: String| redactor.redact(&s);
        match self {
            E::Invalid(list) => E::Invalid(list.into_iter().map(r).collect()),
            E::Auth(AuthError::Token { mode, message }) => E::Auth(AuthError::Token {
                mode,
                message: r(message),
            }),
            E::Template(t) => E::Template(RenderError {
                template: r(t.template),
                message: r(t.message),
            }),
            E::Url(s) => E::Url(r(s)),
            E::Provider {
                status,
                message,
                reauth,
                attempts,
            } => E::Provider {
                status,
                message: r(message),
                reauth,
                attempts,
            },
            E::Transport { message, attempts } => E::Transport {
                message: r(message),
                attempts,
            },
            E::Pagination(s) => E::Pagination(r(s)),
            E::Sink(s) => E::Sink(r(s)),
            other => other,
        }
    }
}

/// "1.5s", "2m 5s": durations in messages people read.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 {
        format!("{}m {}s", secs / 60, secs % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Replaces known secret values in text with `***`.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Values shorter than 4 characters are not scrubbed (they would garble every message
    /// and cannot be real credentials).
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut secrets: Vec<String> = secrets.into_iter().filter(|s| s.len() >= 4).collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    pub fn add(&mut self, secret: String) {
        if secret.len() >= 4 && !self.secrets.contains(&secret) {
            self.secrets.push(secret);
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "***");
            }
            // Secrets also travel URL-encoded (API keys in query strings).
            let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            if encoded != *secret && out.contains(encoded.as_str()) {
                out = out.replace(encoded.as_str(), "***");
            }
        }
        out
    }
}
