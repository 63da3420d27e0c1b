//! Signing a delivery the way the provider would, from the same connector rules the verifier
//! reads: for `switchyard webhook sign` (testing workflows locally) and for round-trip tests.

use super::request::IncomingRequest;
use super::verify::{decode_keys, mac, signed_content};
use crate::interpret::render::Vars;
use crate::plan::{SourcePlan, TimestampFrom, VerifyPlan, WebhookPlan};
use crate::spec::webhook::{Encoding, TimestampUnit};
use base64::Engine as _;
use std::time::SystemTime;

/// Headers to add to a delivery so that it verifies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedHeaders {
    pub headers: Vec<(String, String)>,
    /// For token schemes that read the token from the query string.
    pub query: Vec<(String, String)>,
}

/// Signs `request` (its body, URL and any headers already set) with `key`.
pub fn sign(
    plan: &WebhookPlan,
    request: &IncomingRequest,
    base: &Vars,
    key: &str,
    now: SystemTime,
) -> Result<SignedHeaders, String> {
    let mut out = SignedHeaders::default();
    let scheme = super::verify::resolve_scheme(&plan.verify, base).map_err(|e| e.to_string())?;
    match scheme {
        VerifyPlan::None { .. } => Ok(out),
        VerifyPlan::ByConfig { .. } => Err("nested `by_config`".into()),
        VerifyPlan::Token { from, .. } => {
            match from {
                SourcePlan::Header(h) => out.headers.push((h.clone(), key.to_string())),
                SourcePlan::Query(q) => out.query.push((q.clone(), key.to_string())),
                _ => {
                    return Err("this connector reads its token from the body: put it there".into());
                }
            }
            Ok(out)
        }
        VerifyPlan::Hmac(hmac) => {
            let mut request = request.clone();
            // A delivery id the scheme signs (Standard Webhooks) is made up if missing.
            if let Some(SourcePlan::Header(h)) = &plan.event_id
                && request.header(h).is_none()
            {
                let id = format!("msg_{}", uuid::Uuid::new_v4().simple());
                request.headers.push((h.clone(), id.clone()));
                out.headers.push((h.clone(), id));
            }
            let mut timestamp = None;
            if let Some(t) = &hmac.timestamp {
                let secs = super::verify::unix_seconds(now);
                let text = match t.unit {
                    TimestampUnit::Seconds => secs.to_string(),
                    TimestampUnit::Milliseconds => (secs * 1000).to_string(),
                    TimestampUnit::Rfc3339 => chrono::DateTime::from_timestamp(secs, 0)
                        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                        .unwrap_or_default(),
                };
                match &t.from {
                    TimestampFrom::Header(h) => {
                        if request.header(h).is_none() {
                            request.headers.push((h.clone(), text.clone()));
                            out.headers.push((h.clone(), text.clone()));
                        }
                        timestamp = request.header(h).map(str::to_string);
                    }
                    TimestampFrom::SignatureKey(_) => timestamp = Some(text),
                    TimestampFrom::Body(_) => {
                        let list = Vec::new();
                        let payload = request.payload().unwrap_or_default();
                        timestamp = super::verify::read_timestamp(t, &request, &list, &payload)
                            .ok()
                            .map(|(_, text)| text);
                        if timestamp.is_none() {
                            return Err("the timestamp is read from the body: put it there".into());
                        }
                    }
                }
            }
            let vars = super::receive::delivery_vars(plan, &request, base);
            let content = signed_content(hmac, &request, &vars, timestamp.as_deref())
                .map_err(|e| e.to_string())?;
            let keys = decode_keys(hmac, &[key.to_string()]);
            let key = keys
                .first()
                .ok_or("the secret is not in the encoding the connector expects")?;
            let tag = mac(hmac.algorithm, key, &content);
            let encoded = match hmac.encoding {
                Encoding::Hex => hex::encode(tag),
                Encoding::Base64 | Encoding::Utf8 => {
                    base64::engine::general_purpose::STANDARD.encode(tag)
                }
            };
            let signature = format!("{}{encoded}", hmac.prefix.as_deref().unwrap_or(""));
            let value = match &hmac.list {
                None => signature,
                Some((separator, key_separator, key)) => {
                    let mut entries = Vec::new();
                    if let (Some(t), Some(text)) = (&hmac.timestamp, &timestamp)
                        && let TimestampFrom::SignatureKey(k) = &t.from
                    {
                        entries.push(format!("{k}{key_separator}{text}"));
                    }
                    entries.push(format!("{key}{key_separator}{signature}"));
                    entries.join(separator)
                }
            };
            out.headers.push((hmac.header.clone(), value));
            Ok(out)
        }
    }
}
