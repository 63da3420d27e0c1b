//! An incoming webhook delivery as received: method, the full URL the provider called,
//! headers and the raw body bytes, and the template variables built from them.
//!
//! The raw body is kept byte for byte: signatures are computed over exactly what arrived,
//! never over a re-encoded or re-parsed copy.

use crate::interpret::render::Vars;
use crate::interpret::value;
use bytes::Bytes;
use serde_json::{Map, Value as Json};

/// One delivery.
#[derive(Debug, Clone)]
pub struct IncomingRequest {
    pub method: String,
    /// The URL as the provider called it (scheme, host, path and query), which some
    /// schemes sign (Twilio).
    pub url: String,
    /// Header names as received; lookups ignore case.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl IncomingRequest {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Query parameters of the URL, in order.
    pub fn query(&self) -> Vec<(String, String)> {
        let query = self.url.split_once('?').map_or("", |(_, q)| q);
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect()
    }

    /// The media type of the body, lower-case, without parameters.
    pub fn content_type(&self) -> Option<String> {
        self.header("content-type").map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
    }

    /// Form parameters of an `application/x-www-form-urlencoded` body, sorted by name then
    /// value (the order Twilio signs them in).
    pub fn sorted_form(&self) -> Vec<(String, String)> {
        if self.content_type().as_deref() != Some("application/x-www-form-urlencoded") {
            return Vec::new();
        }
        let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect();
        pairs.sort();
        pairs
    }

    /// The body as data: JSON when it parses as JSON, the form fields of a form body, else
    /// the text. `Err` when the content type promises JSON and the body is not JSON.
    pub fn payload(&self) -> Result<Json, String> {
        let ct = self.content_type().unwrap_or_default();
        if ct == "application/x-www-form-urlencoded" {
            let mut map = Map::new();
            for (k, v) in url::form_urlencoded::parse(&self.body).into_owned() {
                map.entry(k).or_insert(Json::String(v));
            }
            return Ok(Json::Object(map));
        }
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Json::Null);
        }
        match serde_json::from_slice::<Json>(&self.body) {
            Ok(v) => Ok(v),
            Err(e) if ct == "application/json" || ct.ends_with("+json") => {
                Err(format!("body is not valid JSON: {e}"))
            }
            Err(_) => Ok(Json::String(
                String::from_utf8_lossy(&self.body).into_owned(),
            )),
        }
    }

    /// Header names lower-cased, first value of each.
    pub fn header_map(&self) -> Json {
        let mut map = Map::new();
        for (n, v) in &self.headers {
            map.entry(n.to_ascii_lowercase())
                .or_insert_with(|| Json::String(v.clone()));
        }
        Json::Object(map)
    }

    fn query_map(&self) -> Json {
        let mut map = Map::new();
        for (k, v) in self.query() {
            map.entry(k).or_insert(Json::String(v));
        }
        Json::Object(map)
    }

    /// Template variables describing this request, added to `base` (config, secrets):
    /// `headers`, `query`, `url`, `form`, `payload`, `request`, and `raw_body` when the body
    /// is text.
    pub fn vars(&self, base: &Vars, payload: std::sync::Arc<Json>) -> Vars {
        let headers = self.header_map();
        let query = self.query_map();
        let form: Vec<Json> = self
            .sorted_form()
            .into_iter()
            .map(|(k, v)| Json::Array(vec![Json::String(k), Json::String(v)]))
            .collect();
        let mut vars = base
            .clone()
            .with("headers", value::from_json(headers.clone()))
            .with("query", value::from_json(query.clone()))
            .with("url", minijinja::Value::from(self.url.as_str()))
            .with("form", value::from_json(Json::Array(form)))
            .with("payload", value::from_shared(payload))
            .with(
                "request",
                value::from_json(serde_json::json!({
                    "method": self.method,
                    "url": self.url,
                    "headers": headers,
                    "query": query,
                })),
            );
        if let Ok(text) = std::str::from_utf8(&self.body) {
            vars.set("raw_body", minijinja::Value::from(text));
        }
        vars
    }
}
