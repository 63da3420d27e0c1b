//! The Slack and Twilio connectors checked against the providers' own API descriptions
//! (tests/fixtures/openapi, MIT): every action is called with the inputs of its harness
//! cases, and every request it sends must name a path and method the description declares,
//! send every required parameter, send no parameter it does not declare, and respect the
//! declared types, enums and path patterns.
//!
//! One documented exemption: Slack's description marks a `token` parameter required on
//! most methods; the connector sends the token as `Authorization: Bearer`, which Slack
//! accepts and recommends (https://api.slack.com/web#authentication).

use serde_json::Value as Json;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use switchyard::interpret::client::{HttpClient, HttpRequest, HttpResponse, SendFuture};
use switchyard::interpret::{Call, CollectSink, Interpreter, Options};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Records every request and answers with the case's recorded responses, in order.
#[derive(Clone, Default)]
struct Recorder {
    requests: Arc<Mutex<Vec<HttpRequest>>>,
    responses: Arc<Mutex<Vec<(u16, Json)>>>,
}

impl HttpClient for Recorder {
    fn send(&self, request: HttpRequest) -> SendFuture {
        self.requests.lock().unwrap().push(request);
        let mut responses = self.responses.lock().unwrap();
        let (status, body) = if responses.is_empty() {
            (200, serde_json::json!({ "ok": true }))
        } else {
            responses.remove(0)
        };
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", "application/json".parse().unwrap());
        Box::pin(async move {
            Ok(HttpResponse {
                status,
                headers,
                body: body.to_string().into(),
                file: None,
            })
        })
    }
}

/// One operation of a description: its parameters by location, and the body properties.
struct Operation {
    /// (name, location, required, schema) with locations `query`, `path`, `header`, `body`.
    params: Vec<(String, String, bool, Json)>,
}

fn operation(doc: &Json, template: &str, method: &str) -> Option<Operation> {
    let op = doc["paths"][template].get(method.to_ascii_lowercase())?;
    let mut params = Vec::new();
    for p in op["parameters"].as_array().into_iter().flatten() {
        let location = match p["in"].as_str().unwrap_or("") {
            "formData" => "body",
            other => other,
        };
        // Swagger 2 puts the type on the parameter, OpenAPI 3 in `schema`.
        let schema = p.get("schema").cloned().unwrap_or_else(|| p.clone());
        params.push((
            p["name"].as_str().unwrap_or("").to_string(),
            location.to_string(),
            p["required"].as_bool().unwrap_or(false),
            schema,
        ));
    }
    if let Some(content) = op["requestBody"]["content"].as_object()
        && let Some(schema) = content.values().next().map(|c| &c["schema"])
    {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .collect();
        for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
            params.push((
                name.clone(),
                "body".into(),
                required.contains(&name.as_str()),
                prop.clone(),
            ));
        }
    }
    Some(Operation { params })
}

/// The description's path template matching a request path, with the path parameters.
fn match_path<'d>(
    doc: &'d Json,
    base: &str,
    path: &str,
) -> Option<(&'d str, Vec<(String, String)>)> {
    let rest = path.strip_prefix(base)?;
    for template in doc["paths"].as_object()?.keys() {
        let (t, r): (Vec<&str>, Vec<&str>) =
            (template.split('/').collect(), rest.split('/').collect());
        if t.len() != r.len() {
            continue;
        }
        let mut values = Vec::new();
        let matched = t.iter().zip(&r).all(|(t, r)| {
            // `{AccountSid}.json` style segments: a parameter with a literal suffix.
            match (t.find('{'), t.find('}')) {
                (Some(0), Some(end)) => {
                    let suffix = &t[end + 1..];
                    r.strip_suffix(suffix).is_some_and(|v| {
                        values.push((t[1..end].to_string(), v.to_string()));
                        !v.is_empty()
                    })
                }
                _ => t == r,
            }
        });
        if matched {
            return Some((template.as_str(), values));
        }
    }
    None
}

/// Whether a value sent as text fits a declared schema (type, enum, pattern).
fn fits(schema: &Json, value: &Json) -> Result<(), String> {
    let text = match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    match schema["type"].as_str() {
        Some("integer") if text.parse::<i64>().is_err() => {
            return Err(format!("`{text}` is not an integer"));
        }
        Some("boolean") if !["true", "false"].contains(&text.as_str()) => {
            return Err(format!("`{text}` is not a boolean"));
        }
        _ => {}
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed
            .iter()
            .any(|a| a.as_str() == Some(text.as_str()) || a == value)
    {
        return Err(format!(
            "`{text}` is not one of {}",
            Json::Array(allowed.clone())
        ));
    }
    if let Some(pattern) = schema["pattern"].as_str()
        && !regex::Regex::new(pattern).unwrap().is_match(&text)
    {
        return Err(format!("`{text}` does not match `{pattern}`"));
    }
    Ok(())
}

/// Every request an action's harness cases send, checked against the description.
async fn check_connector(connector_id: &str, doc_file: &str, base: &str, exempt: &[&str]) -> usize {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let doc: Json = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/openapi").join(doc_file)).unwrap(),
    )
    .unwrap();
    let (compiled, _) = switchyard::compile::compile_paths(&[root().join("connectors")]).unwrap();
    let catalog = compiled.catalog.unwrap();
    let plan = catalog.connectors[connector_id].clone();
    let tests = compiled
        .tests
        .iter()
        .find(|t| t.spec.tests == connector_id)
        .unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for case in &tests.spec.cases {
        let Some(action) = &case.action else { continue };
        if case.exchanges.is_empty() {
            continue;
        }
        let spec = case.connection.as_ref().unwrap_or(&tests.spec.connection);
        let connection = switchyard::harness::test_connection(&plan, spec).unwrap();
        let recorder = Recorder::default();
        *recorder.responses.lock().unwrap() = case
            .exchanges
            .iter()
            .map(|e| {
                (
                    e.response.status,
                    e.response.json.clone().unwrap_or(Json::Null),
                )
            })
            .collect();
        let interpreter = Interpreter::new(Arc::new(recorder.clone()), Options::default());
        let call = Call {
            action: action.clone(),
            input: case.input.clone().into_iter().collect(),
            run: None,
            max_pages: Some(3),
        };
        let _ = interpreter
            .call(&connection, &call, &mut CollectSink::default())
            .await;
        for request in recorder.requests.lock().unwrap().iter() {
            checked += 1;
            let at = format!(
                "{connector_id}.{action} ({}): {} {}",
                case.name,
                request.method,
                request.url.path()
            );
            let Some((template, path_values)) = match_path(&doc, base, request.url.path()) else {
                problems.push(format!("{at}: no such path in the description"));
                continue;
            };
            let Some(op) = operation(&doc, template, request.method.as_str()) else {
                problems.push(format!(
                    "{at}: {} is not declared for {template}",
                    request.method
                ));
                continue;
            };
            let mut sent: Vec<(String, &str, Json)> = Vec::new();
            for (name, value) in request.url.query_pairs() {
                sent.push((name.into_owned(), "query", Json::String(value.into_owned())));
            }
            for (name, value) in path_values {
                sent.push((name, "path", Json::String(value)));
            }
            let body = request
                .body
                .as_ref()
                .and_then(|b| b.in_memory())
                .unwrap_or_default();
            let body = &body[..];
            if let Ok(Json::Object(map)) = serde_json::from_slice::<Json>(body) {
                sent.extend(map.into_iter().map(|(k, v)| (k, "body", v)));
            } else if !body.is_empty() {
                for (name, value) in url::form_urlencoded::parse(body) {
                    sent.push((name.into_owned(), "body", Json::String(value.into_owned())));
                }
            }
            for (name, location, required, _) in &op.params {
                let present = match location.as_str() {
                    "header" => request
                        .headers
                        .iter()
                        .any(|(n, _)| n.eq_ignore_ascii_case(name)),
                    _ => sent.iter().any(|(n, l, _)| n == name && l == location),
                };
                if *required && !present && !exempt.contains(&name.as_str()) {
                    problems.push(format!(
                        "{at}: required {location} parameter `{name}` not sent"
                    ));
                }
            }
            for (name, location, value) in &sent {
                match op
                    .params
                    .iter()
                    .find(|(n, l, _, _)| n == name && l == location)
                {
                    None => problems.push(format!(
                        "{at}: {location} parameter `{name}` is not in the description"
                    )),
                    // JSON bodies carry typed values where the form description says string.
                    Some((_, _, _, schema)) if !value.is_object() && !value.is_array() => {
                        if let Err(why) = fits(schema, value) {
                            problems.push(format!("{at}: {location} parameter `{name}`: {why}"));
                        }
                    }
                    Some(_) => {}
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    checked
}

#[tokio::test]
async fn slack_requests_fit_slacks_openapi_description() {
    let checked = check_connector(
        "slack",
        "slack/slack_web_openapi_v2.json",
        "/api",
        &["token"],
    )
    .await;
    assert!(checked >= 6, "{checked} requests checked");
}

#[tokio::test]
async fn twilio_requests_fit_twilios_openapi_description() {
    let checked = check_connector("twilio", "twilio/twilio_api_v2010.json", "", &[]).await;
    assert!(checked >= 4, "{checked} requests checked");
}
