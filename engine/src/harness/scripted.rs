//! An [`HttpClient`] that plays the provider from a script: each request is checked against
//! the next expected one and answered with its recorded response.

use super::diff::json_diff;
use crate::interpret::client::{HttpClient, HttpRequest, HttpResponse, SendFuture, TransportError};
use crate::spec::connector_test::{ExchangeSpec, ExpectedRequestSpec, RecordedResponseSpec};
use bytes::Bytes;
use indexmap::IndexMap;
use serde_json::Value as Json;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// The script, and what did not go by it.
#[derive(Clone, Default)]
pub struct ScriptedClient {
    state: Arc<Mutex<Script>>,
}

#[derive(Default)]
struct Script {
    expected: VecDeque<ExchangeSpec>,
    sent: usize,
    failures: Vec<String>,
}

impl ScriptedClient {
    pub fn new(exchanges: &[ExchangeSpec]) -> Self {
        ScriptedClient {
            state: Arc::new(Mutex::new(Script {
                expected: exchanges.iter().cloned().collect(),
                sent: 0,
                failures: Vec::new(),
            })),
        }
    }

    /// Mismatches so far, plus every expected request that was never sent.
    pub fn finish(&self) -> Vec<String> {
        let Ok(mut script) = self.state.lock() else {
            return vec!["the script's lock was poisoned".into()];
        };
        let mut failures = std::mem::take(&mut script.failures);
        let sent = script.sent;
        for (i, left) in script.expected.iter().enumerate() {
            failures.push(format!(
                "request {} was expected but not sent: {} {}",
                sent + i + 1,
                left.request.method.as_str(),
                left.request.url
            ));
        }
        failures
    }
}

impl HttpClient for ScriptedClient {
    fn send(&self, request: HttpRequest) -> SendFuture {
        let state = self.state.clone();
        Box::pin(async move {
            // Streamed bodies (files, multipart) are read whole here: test files are small.
            let body = match &request.body {
                Some(body) => body
                    .collect()
                    .await
                    .map_err(|e| TransportError::Other(format!("reading the body: {e}")))?,
                None => Bytes::new(),
            };
            let (headers, body) = without_boundary(&request.headers, body);
            let mut answer = match state.lock() {
                Ok(mut script) => {
                    script.sent += 1;
                    let n = script.sent;
                    match script.expected.pop_front() {
                        Some(exchange) => {
                            let problems = compare(&exchange.request, &request, &headers, &body);
                            script.failures.extend(problems.into_iter().map(|p| {
                                format!(
                                    "request {n} ({} {}): {p}",
                                    request.method,
                                    without_query(&request.url)
                                )
                            }));
                            response(&exchange.response)
                        }
                        None => {
                            script.failures.push(format!(
                                "request {n} was not expected: {} {}",
                                request.method,
                                without_query(&request.url)
                            ));
                            HttpResponse {
                                status: 501,
                                headers: Default::default(),
                                body: Bytes::from_static(
                                    b"{\"error\":\"no request expected here\"}",
                                ),
                                file: None,
                            }
                        }
                    }
                }
                Err(_) => HttpResponse {
                    status: 500,
                    headers: Default::default(),
                    body: Bytes::new(),
                    file: None,
                },
            };
            if let Some(save) = &request.save_to
                && (200..300).contains(&answer.status)
            {
                answer.file = Some(save.save(&answer.headers, &answer.body).await?);
                answer.body = Bytes::new();
            }
            Ok(answer)
        })
    }
}

/// Multipart boundaries are random: both the Content-Type and the body say `BOUNDARY`
/// instead, so a test can spell out the body it expects.
fn without_boundary(headers: &[(String, String)], body: Bytes) -> (Vec<(String, String)>, Bytes) {
    let boundary = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        .and_then(|(_, v)| {
            v.split_once("boundary=")
                .map(|(_, b)| b.trim_matches('"').to_string())
        })
        .filter(|b| !b.is_empty());
    let Some(boundary) = boundary else {
        return (headers.to_vec(), body);
    };
    let headers = headers
        .iter()
        .map(|(n, v)| (n.clone(), v.replace(&boundary, "BOUNDARY")))
        .collect();
    let body = match std::str::from_utf8(&body) {
        Ok(text) => Bytes::from(text.replace(&boundary, "BOUNDARY")),
        Err(_) => body,
    };
    (headers, body)
}

fn without_query(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}

/// What differs between the expected request and the one sent.
fn compare(
    expected: &ExpectedRequestSpec,
    got: &HttpRequest,
    headers: &[(String, String)],
    body: &[u8],
) -> Vec<String> {
    let mut problems = Vec::new();
    if expected.method.as_str() != got.method.as_str() {
        problems.push(format!(
            "method: expected {}, sent {}",
            expected.method.as_str(),
            got.method
        ));
    }
    let url = without_query(&got.url);
    if url != expected.url {
        problems.push(format!("url: expected {}, sent {url}", expected.url));
    }
    let query: BTreeMap<String, String> = got.url.query_pairs().into_owned().collect();
    let want: BTreeMap<String, String> = expected.query.clone().into_iter().collect();
    if query != want {
        problems.push(format!(
            "query differs:\n{}",
            json_diff(&to_json(&want), &to_json(&query))
        ));
    }
    for (name, value) in &expected.headers {
        let sent = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        match sent {
            Some(v) if v == value => {}
            Some(v) => problems.push(format!("header {name}: expected `{value}`, sent `{v}`")),
            None => problems.push(format!("header {name}: expected `{value}`, not sent")),
        }
    }
    if let Some(want) = &expected.json {
        match serde_json::from_slice::<Json>(body) {
            Ok(sent) if &sent == want => {}
            Ok(sent) => problems.push(format!("JSON body differs:\n{}", json_diff(want, &sent))),
            Err(_) => problems.push(format!(
                "expected a JSON body, sent `{}`",
                String::from_utf8_lossy(body)
            )),
        }
    }
    if let Some(want) = &expected.form {
        let sent: BTreeMap<String, String> =
            url::form_urlencoded::parse(body).into_owned().collect();
        let want: BTreeMap<String, String> = want.clone().into_iter().collect();
        if sent != want {
            problems.push(format!(
                "form body differs:\n{}",
                json_diff(&to_json(&want), &to_json(&sent))
            ));
        }
    }
    if let Some(want) = &expected.raw
        && want.as_bytes() != body
    {
        problems.push(format!(
            "body: expected `{want}`, sent `{}`",
            String::from_utf8_lossy(body)
        ));
    }
    problems
}

fn to_json(map: &BTreeMap<String, String>) -> Json {
    serde_json::to_value(map).unwrap_or(Json::Null)
}

/// The recorded response as the interpreter receives it.
fn response(spec: &RecordedResponseSpec) -> HttpResponse {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut add = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_str(value),
        ) {
            headers.append(n, v);
        }
    };
    let body = match (&spec.json, &spec.text) {
        (Some(json), _) => {
            add("content-type", "application/json");
            Bytes::from(json.to_string())
        }
        (None, Some(text)) => Bytes::from(text.clone()),
        (None, None) => Bytes::new(),
    };
    let given: &IndexMap<String, String> = &spec.headers;
    for (name, value) in given {
        add(name, value);
    }
    HttpResponse {
        status: spec.status,
        headers,
        body,
        file: None,
    }
}
