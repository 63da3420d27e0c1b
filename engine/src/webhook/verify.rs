//! Signature verification: one generic, fail-closed verifier for every scheme a connector
//! spec can describe (HMAC over content built from the request, or a shared token).
//!
//! Anything missing or malformed is a [`Rejection`], never a pass: no header, no key, an
//! unparsable timestamp, a signature of the wrong length. Signatures and tokens are
//! compared in constant time. Rejection reasons are for logs; they never contain a key or
//! the signature expected.

use super::request::IncomingRequest;
use crate::interpret::render::{self, Vars};
use crate::plan::{HmacPlan, SourcePlan, TimestampFrom, TimestampPlan, VerifyPlan, WebhookPlan};
use crate::spec::webhook::{Encoding, HmacAlgorithm, TimestampUnit};
use base64::Engine as _;
use hmac::{KeyInit, Mac};
use serde_json::Value as Json;
use std::time::{SystemTime, UNIX_EPOCH};
use subtle::ConstantTimeEq;

/// Why a delivery was refused. Shown in logs and the event log, not to the sender.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("missing header `{0}`")]
    MissingHeader(String),
    #[error("malformed {0}")]
    Malformed(String),
    #[error("signature does not match")]
    SignatureMismatch,
    #[error("token does not match")]
    TokenMismatch,
    #[error("timestamp is {0} s old, beyond the tolerance")]
    Stale(i64),
    #[error("timestamp is {0} s in the future, beyond the tolerance")]
    Future(i64),
    #[error("no usable webhook secret is configured for this connection")]
    NoKey,
    #[error("verification is misconfigured: {0}")]
    Misconfigured(String),
    #[error("cannot build the signed content: {0}")]
    Content(String),
}

impl Rejection {
    /// A short, fixed name for the reason (a metrics label; no values from the request).
    pub fn kind(&self) -> &'static str {
        match self {
            Rejection::MissingHeader(_) => "missing_header",
            Rejection::Malformed(_) => "malformed",
            Rejection::SignatureMismatch => "signature_mismatch",
            Rejection::TokenMismatch => "token_mismatch",
            Rejection::Stale(_) => "stale",
            Rejection::Future(_) => "future",
            Rejection::NoKey => "no_key",
            Rejection::Misconfigured(_) => "misconfigured",
            Rejection::Content(_) => "content",
        }
    }
}

/// What a successful verification established.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verified {
    /// The delivery's timestamp, when the scheme has one (Unix seconds).
    pub timestamp: Option<i64>,
}

/// Verifies a delivery. `keys` are the connection's active secrets as written (several
/// during a rotation; any one may match); `vars` hold the request variables.
pub fn verify_signature(
    plan: &WebhookPlan,
    request: &IncomingRequest,
    vars: &Vars,
    keys: &[String],
    now: SystemTime,
    payload: &Json,
) -> Result<Verified, Rejection> {
    match resolve_scheme(&plan.verify, vars)? {
        VerifyPlan::None { .. } => Ok(Verified::default()),
        VerifyPlan::ByConfig { .. } => Err(Rejection::Misconfigured("nested `by_config`".into())),
        VerifyPlan::Token { from, .. } => {
            let given = read_source(from, request, vars, payload).ok_or_else(|| missing(from))?;
            let any = keys
                .iter()
                .filter(|k| !k.is_empty())
                .fold(false, |found, key| {
                    // Every key is compared, so the time taken does not tell which one matched.
                    found | bool::from(given.as_bytes().ct_eq(key.as_bytes()))
                });
            if keys.iter().all(String::is_empty) {
                return Err(Rejection::NoKey);
            }
            if any {
                Ok(Verified::default())
            } else {
                Err(Rejection::TokenMismatch)
            }
        }
        VerifyPlan::Hmac(hmac) => verify_hmac(hmac, request, vars, keys, now, payload),
    }
}

/// The scheme that applies to this connection: for `by_config`, the one its config names.
pub fn resolve_scheme<'a>(
    verify: &'a VerifyPlan,
    vars: &Vars,
) -> Result<&'a VerifyPlan, Rejection> {
    let VerifyPlan::ByConfig { field, schemes } = verify else {
        return Ok(verify);
    };
    let name = vars
        .context()
        .get_attr("config")
        .and_then(|c| c.get_attr(field))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_none())
        .map(|v| v.to_string())
        .ok_or_else(|| Rejection::Misconfigured(format!("config `{field}` is not set")))?;
    schemes.get(&name).ok_or_else(|| {
        Rejection::Misconfigured(format!(
            "config `{field}` names no scheme (`{}`)",
            cut(&name)
        ))
    })
}

/// A connection's active webhook secrets: its key (or token) template rendered with its
/// config and secrets. A template that renders to a list gives several keys (rotation).
pub fn connection_keys(plan: &crate::plan::WebhookPlan, vars: &Vars) -> Vec<String> {
    let template = match resolve_scheme(&plan.verify, vars) {
        Ok(VerifyPlan::Hmac(h)) => &h.key,
        Ok(VerifyPlan::Token { value, .. }) => value,
        _ => return Vec::new(),
    };
    match render::render(template, &vars.context()) {
        Ok(Json::Array(items)) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .filter(|s| !s.is_empty())
            .collect(),
        Ok(Json::String(s)) if !s.is_empty() => vec![s],
        _ => Vec::new(),
    }
}

fn missing(source: &SourcePlan) -> Rejection {
    match source {
        SourcePlan::Header(h) => Rejection::MissingHeader(h.clone()),
        SourcePlan::Query(q) => Rejection::Malformed(format!("request: no query parameter `{q}`")),
        SourcePlan::Body(_) => Rejection::Malformed("body: the token field is missing".into()),
        SourcePlan::Template(_) => Rejection::Malformed("request: no token".into()),
    }
}

/// Reads a value (event id, token, routing key) from a request.
pub fn read_source(
    source: &SourcePlan,
    request: &IncomingRequest,
    vars: &Vars,
    payload: &Json,
) -> Option<String> {
    match source {
        SourcePlan::Header(name) => request.header(name).map(str::to_string),
        SourcePlan::Query(name) => request
            .query()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v),
        SourcePlan::Body(path) => path.query(payload).first().and_then(|v| match v {
            Json::String(s) => Some(s.clone()),
            Json::Null => None,
            other => Some(other.to_string()),
        }),
        SourcePlan::Template(t) => render::render_text(t, &vars.context()).ok().flatten(),
    }
}

fn verify_hmac(
    plan: &HmacPlan,
    request: &IncomingRequest,
    vars: &Vars,
    keys: &[String],
    now: SystemTime,
    payload: &Json,
) -> Result<Verified, Rejection> {
    let header = request
        .header(&plan.header)
        .ok_or_else(|| Rejection::MissingHeader(plan.header.clone()))?;
    let (candidates, list_entries) = signature_values(plan, header)?;
    let decoded: Vec<Vec<u8>> = candidates
        .iter()
        .filter_map(|c| decode(plan.encoding, c))
        .collect();
    if decoded.is_empty() {
        return Err(Rejection::Malformed(format!(
            "header `{}`: no signature in the expected encoding",
            plan.header
        )));
    }
    let keys = decode_keys(plan, keys);
    if keys.is_empty() {
        return Err(Rejection::NoKey);
    }
    // The timestamp is checked before any HMAC is computed: a replayed delivery is
    // refused without spending work on it.
    let (timestamp, timestamp_text) = match &plan.timestamp {
        Some(t) => {
            let (secs, text) = read_timestamp(t, request, &list_entries, payload)?;
            check_window(t, secs, now)?;
            (Some(secs), Some(text))
        }
        None => (None, None),
    };
    let content = signed_content(plan, request, vars, timestamp_text.as_deref())?;
    let mut matched = false;
    for key in &keys {
        let tag = mac(plan.algorithm, key, &content);
        for candidate in &decoded {
            matched |= bool::from(tag.as_slice().ct_eq(candidate.as_slice()));
        }
    }
    if matched {
        Ok(Verified { timestamp })
    } else {
        Err(Rejection::SignatureMismatch)
    }
}

/// `key=value` entries of a signature list header.
type ListEntries = Vec<(String, String)>;

/// The signature values in the header (after prefix and list parsing) and, for list
/// headers, every `key=value` entry (Stripe's `t`).
fn signature_values(
    plan: &HmacPlan,
    header: &str,
) -> Result<(Vec<String>, ListEntries), Rejection> {
    let header = header.trim();
    match &plan.list {
        None => {
            let value = match &plan.prefix {
                Some(prefix) => header.strip_prefix(prefix.as_str()).ok_or_else(|| {
                    Rejection::Malformed(format!(
                        "header `{}`: expected the prefix `{prefix}`",
                        plan.header
                    ))
                })?,
                None => header,
            };
            Ok((vec![value.to_string()], Vec::new()))
        }
        Some((separator, key_separator, key)) => {
            let entries: Vec<(String, String)> = header
                .split(separator.as_str())
                .filter_map(|entry| {
                    let (k, v) = entry.trim().split_once(key_separator.as_str())?;
                    Some((k.trim().to_string(), v.trim().to_string()))
                })
                .collect();
            let values: Vec<String> = entries
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| match &plan.prefix {
                    Some(p) => v.strip_prefix(p.as_str()).unwrap_or(v).to_string(),
                    None => v.clone(),
                })
                .collect();
            if values.is_empty() {
                return Err(Rejection::Malformed(format!(
                    "header `{}`: no `{key}` signature",
                    plan.header
                )));
            }
            Ok((values, entries))
        }
    }
}

fn decode(encoding: Encoding, text: &str) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Utf8 => Some(text.as_bytes().to_vec()),
        Encoding::Hex => hex::decode(text).ok(),
        Encoding::Base64 => {
            let b64 = base64::engine::general_purpose::STANDARD;
            let nopad = base64::engine::general_purpose::STANDARD_NO_PAD;
            let url = base64::engine::general_purpose::URL_SAFE;
            b64.decode(text)
                .or_else(|_| nopad.decode(text))
                .or_else(|_| url.decode(text))
                .ok()
        }
    }
}

/// Keys as bytes: prefix stripped (when present), then decoded. Keys that do not decode
/// are skipped (a connection with none left is rejected with `NoKey`).
pub fn decode_keys(plan: &HmacPlan, keys: &[String]) -> Vec<Vec<u8>> {
    keys.iter()
        .filter(|k| !k.is_empty())
        .filter_map(|key| {
            let key = match &plan.key_prefix {
                Some(p) => key.strip_prefix(p.as_str()).unwrap_or(key),
                None => key,
            };
            decode(plan.key_encoding, key)
        })
        .collect()
}

/// HMAC of `content` under `key`.
pub fn mac(algorithm: HmacAlgorithm, key: &[u8], content: &[u8]) -> Vec<u8> {
    fn run<M: Mac + KeyInit>(key: &[u8], content: &[u8]) -> Vec<u8> {
        // HMAC accepts keys of any length; this cannot fail.
        match <M as KeyInit>::new_from_slice(key) {
            Ok(mut m) => {
                m.update(content);
                m.finalize().into_bytes().to_vec()
            }
            Err(_) => Vec::new(),
        }
    }
    match algorithm {
        HmacAlgorithm::Sha1 => run::<hmac::Hmac<sha1::Sha1>>(key, content),
        HmacAlgorithm::Sha256 => run::<hmac::Hmac<sha2::Sha256>>(key, content),
        HmacAlgorithm::Sha512 => run::<hmac::Hmac<sha2::Sha512>>(key, content),
    }
}

/// The delivery's timestamp in Unix seconds, and its text as sent (which is what schemes
/// sign).
pub fn read_timestamp(
    plan: &TimestampPlan,
    request: &IncomingRequest,
    list_entries: &[(String, String)],
    payload: &Json,
) -> Result<(i64, String), Rejection> {
    let text = match &plan.from {
        TimestampFrom::Header(h) => request
            .header(h)
            .map(|v| v.trim().to_string())
            .ok_or_else(|| Rejection::MissingHeader(h.clone()))?,
        TimestampFrom::SignatureKey(k) => list_entries
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Rejection::Malformed(format!("signature: no `{k}` timestamp")))?,
        TimestampFrom::Body(path) => match path.query(payload).first() {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Number(n)) => n.to_string(),
            _ => return Err(Rejection::Malformed("body: no timestamp".into())),
        },
    };
    let secs = parse_timestamp(plan.unit, &text)
        .ok_or_else(|| Rejection::Malformed(format!("timestamp `{}`", cut(&text))))?;
    Ok((secs, text))
}

fn parse_timestamp(unit: TimestampUnit, text: &str) -> Option<i64> {
    match unit {
        TimestampUnit::Seconds => text.parse::<i64>().ok(),
        TimestampUnit::Milliseconds => text.parse::<i64>().ok().map(|ms| ms.div_euclid(1000)),
        TimestampUnit::Rfc3339 => chrono::DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp()),
    }
}

fn check_window(plan: &TimestampPlan, secs: i64, now: SystemTime) -> Result<(), Rejection> {
    let now = unix_seconds(now);
    let tolerance = i64::try_from(plan.tolerance.as_secs()).unwrap_or(i64::MAX);
    let age = now.saturating_sub(secs);
    if age > tolerance {
        return Err(Rejection::Stale(age));
    }
    if -age > tolerance {
        return Err(Rejection::Future(-age));
    }
    Ok(())
}

pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The bytes the provider signed, from the `signed` template. The raw body goes in byte for
/// byte: a template that is just `{{ raw_body }}` uses the bytes as they are; other
/// templates get the body spliced in at each place they print it, so bodies that are not
/// UTF-8 are signed exactly too.
pub fn signed_content(
    plan: &HmacPlan,
    request: &IncomingRequest,
    vars: &Vars,
    timestamp: Option<&str>,
) -> Result<Vec<u8>, Rejection> {
    if let crate::plan::TemplateShape::Expression(e) = &plan.signed.shape
        && e.trim() == "raw_body"
    {
        return Ok(request.body.to_vec());
    }
    let mut vars = vars.clone();
    vars.set(
        "timestamp",
        timestamp.map_or(minijinja::Value::from(()), minijinja::Value::from),
    );
    let utf8 = std::str::from_utf8(&request.body).is_ok();
    // A marker that cannot occur in rendered text by accident stands for a non-UTF-8 body.
    const MARK: &str = "\u{1}\u{2}switchyard-raw-body\u{2}\u{1}";
    if !utf8 {
        vars.set("raw_body", minijinja::Value::from(MARK));
    }
    let text = render::render_text(&plan.signed, &vars.context())
        .map_err(|e| Rejection::Content(e.message))?
        .unwrap_or_default();
    if utf8 {
        return Ok(text.into_bytes());
    }
    if !plan.signed.source.contains("raw_body") {
        return Ok(text.into_bytes());
    }
    if !text.contains(MARK) {
        return Err(Rejection::Content(
            "the body is not UTF-8 and the template transforms it".into(),
        ));
    }
    let mut out = Vec::with_capacity(text.len() + request.body.len());
    let mut parts = text.split(MARK);
    if let Some(first) = parts.next() {
        out.extend_from_slice(first.as_bytes());
    }
    for part in parts {
        out.extend_from_slice(&request.body);
        out.extend_from_slice(part.as_bytes());
    }
    Ok(out)
}

fn cut(text: &str) -> String {
    text.chars().take(40).collect()
}
