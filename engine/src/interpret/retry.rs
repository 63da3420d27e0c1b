//! What a response means (success, ignore, fail, retry, re-auth) and how long to wait
//! before trying again.
//!
//! Order of decisions: a status listed in the retry policy's `on_status` is retried; then
//! the error rules (the action's, then the connector's; first match wins); then any other
//! status of 400 or more fails. Waits honour `Retry-After` (seconds or HTTP date) and
//! rate-limit reset headers; otherwise exponential backoff with full jitter.

use super::client::HttpResponse;
use super::render;
use crate::plan::{ErrorRulePlan, RateLimitPlan, RetryPlan};
use crate::spec::errors::{Backoff, ErrorOutcome, ResetFormat};
use minijinja::Value;
use serde_json::Value as Json;
use std::time::{Duration, SystemTime};

/// The meaning of one response.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Success,
    /// Treated as success with an empty result (e.g. 404 on a delete).
    Ignore,
    Fail(String),
    Retry(String),
    Reauth(String),
}

/// Classifies a response. `ctx` holds the `response` variable for rule expressions.
pub fn classify(
    status: u16,
    body: &Json,
    rules: &[ErrorRulePlan],
    retry: &RetryPlan,
    ctx: &Value,
) -> Verdict {
    if retry.on_status.iter().any(|p| p.matches(status)) {
        return Verdict::Retry(default_message(status, body));
    }
    for rule in rules {
        if !rule.status.is_empty() && !rule.status.iter().any(|p| p.matches(status)) {
            continue;
        }
        if let Some(when) = &rule.when {
            match render::eval_bool(when, ctx) {
                Ok(true) => {}
                Ok(false) => continue,
                // A rule that cannot be evaluated against this response does not match it
                // (e.g. `response.body.ok` on a plain-text error page).
                Err(_) => continue,
            }
        }
        let message = match &rule.message {
            Some(t) => render::render_text(t, ctx)
                .ok()
                .flatten()
                .unwrap_or_else(|| default_message(status, body)),
            None => default_message(status, body),
        };
        return match rule.then {
            ErrorOutcome::Fail => Verdict::Fail(message),
            ErrorOutcome::Retry => Verdict::Retry(message),
            ErrorOutcome::Ignore => Verdict::Ignore,
            ErrorOutcome::Reauth => Verdict::Reauth(message),
        };
    }
    if status >= 400 {
        Verdict::Fail(default_message(status, body))
    } else if (300..400).contains(&status) {
        // Redirects are not followed (a redirect to another host must not receive the
        // credentials), so a 3xx is not the answer the action asked for.
        Verdict::Fail(format!(
            "HTTP {status}: the provider redirected the request, and redirects are not followed"
        ))
    } else {
        Verdict::Success
    }
}

/// "HTTP 404 Not Found: <the provider's message>", with the message found in the usual
/// places of an error body, or the start of the body.
pub fn default_message(status: u16, body: &Json) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let detail = provider_message(body);
    match detail {
        Some(d) => format!("HTTP {status} {reason}: {d}"),
        None => format!("HTTP {status} {reason}"),
    }
}

fn provider_message(body: &Json) -> Option<String> {
    let text = |v: &Json| v.as_str().map(str::to_string);
    let found = match body {
        Json::Object(map) => ["message", "error_description", "error", "detail", "title"]
            .iter()
            .find_map(|k| match map.get(*k)? {
                Json::Object(inner) => inner.get("message").and_then(text),
                v => text(v),
            }),
        Json::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Json::Null => None,
        other => Some(other.to_string()),
    }?;
    Some(truncate(&found, 300))
}

/// The first `max` characters of `text`, with `...` when it was longer.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// The wait a response asks for: `Retry-After` (seconds or HTTP date), or when the window
/// is used up (`remaining == 0`), the time until the reset header's moment.
pub fn requested_wait(
    response: &HttpResponse,
    limits: Option<&RateLimitPlan>,
    now: SystemTime,
) -> Option<Duration> {
    let retry_after = limits
        .and_then(|l| l.retry_after_header.as_deref())
        .unwrap_or("retry-after");
    if let Some(value) = response.header(retry_after) {
        return parse_retry_after(value, now);
    }
    let limits = limits?;
    let remaining = response.header(limits.remaining_header.as_deref()?)?;
    if remaining.trim().parse::<f64>().ok()? > 0.0 {
        return None;
    }
    let reset = response.header(limits.reset_header.as_deref()?)?.trim();
    let reset: f64 = reset.parse().ok()?;
    if !reset.is_finite() || reset < 0.0 {
        return None;
    }
    match limits.reset_format {
        ResetFormat::DeltaSeconds => Some(Duration::from_secs_f64(reset.min(1e9))),
        ResetFormat::EpochSeconds => {
            let at = SystemTime::UNIX_EPOCH + Duration::from_secs_f64(reset.min(1e11));
            Some(at.duration_since(now).unwrap_or(Duration::ZERO))
        }
    }
}

/// `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds.min(1_000_000_000)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Delay before retry number `retry` (1 for the first retry). Exponential backoff uses
/// full jitter: a uniform random delay between 0 and min(max_delay, initial * 2^(retry-1)),
/// so many clients failing together do not retry together.
pub fn backoff(plan: &RetryPlan, retry: u32) -> Duration {
    match plan.backoff {
        Backoff::Constant => plan.initial_delay.min(plan.max_delay),
        Backoff::Exponential => {
            let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(31));
            let ceiling = plan
                .initial_delay
                .saturating_mul(factor)
                .min(plan.max_delay);
            ceiling.mul_f64(fastrand::f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_400);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        // 2015-10-21T07:28:00Z is 80 s after `now`.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(80))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn full_jitter_stays_under_the_ceiling() {
        let plan = RetryPlan {
            on_status: vec![],
            attempts: 10,
            backoff: Backoff::Exponential,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            on_network_error: true,
        };
        for retry in 1..40 {
            let ceiling = (Duration::from_millis(100) * 2u32.pow((retry - 1).min(20)))
                .min(Duration::from_secs(1));
            assert!(backoff(&plan, retry) <= ceiling);
        }
    }

    #[test]
    fn provider_messages_are_found_and_cut() {
        let body = serde_json::json!({"error": {"message": "boom"}});
        assert_eq!(
            default_message(500, &body),
            "HTTP 500 Internal Server Error: boom"
        );
        let long = Json::String("x".repeat(1000));
        assert!(default_message(400, &long).len() < 340);
    }
}
