//! The HTTP interpreter against a real HTTP server (wiremock on 127.0.0.1): pagination,
//! stop rules and guards, retries, rate limits, error rules, limits, auth, secrets.

use serde_json::{Value as Json, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use switchyard::compile::{SourceFile, compile_sources};
use switchyard::interpret::{
    ActionError, Call, CollectSink, Connection, Interpreter, Options, Outcome, ReqwestClient,
    StaticToken,
};
use switchyard::plan::ConnectorPlan;
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "sekret-token-123";

/// A connector with bearer auth from a secret, fast retries, and the given extra YAML.
fn connector(extra: &str) -> Arc<ConnectorPlan> {
    let yaml = format!(
        r#"connector: t
name: T
config:
  base_url: {{}}
  token: {{ secret: true }}
base_url: "{{{{ config.base_url }}}}"
auth:
  bearer: {{ token: "{{{{ secrets.token }}}}" }}
retry: {{ attempts: 3, initial_delay: 10ms, max_delay: 40ms }}
{extra}"#
    );
    let compiled = compile_sources(&[SourceFile {
        path: "t.yaml".into(),
        text: yaml.clone(),
    }]);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}\n{yaml}",
        compiled.diagnostics
    );
    compiled.catalog.unwrap().connectors["t"].clone()
}

fn connection(plan: Arc<ConnectorPlan>, server: &MockServer) -> Connection {
    let config = json!({ "base_url": server.uri(), "token": SECRET });
    Connection::new("test", plan, config.as_object().unwrap().clone()).unwrap()
}

fn interpreter() -> Interpreter {
    Interpreter::new(
        Arc::new(ReqwestClient::new().unwrap()),
        Options {
            request_timeout: Duration::from_secs(2),
            max_response_bytes: 64 * 1024,
            ..Options::default()
        },
    )
}

async fn call(
    conn: &Connection,
    action: &str,
    input: Json,
) -> (Result<Outcome, ActionError>, CollectSink) {
    let mut sink = CollectSink::default();
    let call = Call {
        action: action.into(),
        input: input.as_object().cloned().unwrap_or_default(),
        ..Call::default()
    };
    let result = interpreter().call(conn, &call, &mut sink).await;
    if let Err(e) = &result {
        assert!(!e.to_string().contains(SECRET), "secret leaked: {e}");
    }
    (result, sink)
}

fn ids(sink: &CollectSink) -> Vec<i64> {
    sink.records
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

fn items(range: std::ops::RangeInclusive<i64>) -> Json {
    Json::Array(range.map(|i| json!({ "id": i })).collect())
}

const LIST: &str = r#"actions:
  list:
    method: GET
    path: /items
    records: $.items[*]
    paginate: p
"#;

#[tokio::test]
async fn cursor_in_body_ends_at_the_last_page() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .and(query_param_is_missing("cursor"))
        .and(header("authorization", format!("Bearer {SECRET}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": items(1..=2), "next": "c2"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .and(query_param("cursor", "c2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": items(3..=3), "next": null})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let plan = connector(&format!(
        "pagination:\n  p: {{ strategy: {{ cursor: {{ token: {{ body: $.next }}, param: cursor }} }}, max_pages: 10 }}\n{LIST}"
    ));
    let (result, sink) = call(&connection(plan, &server), "list", json!({})).await;
    let outcome = result.unwrap();
    assert_eq!(ids(&sink), [1, 2, 3]);
    assert_eq!((outcome.pages, outcome.requests), (2, 2));
}

#[tokio::test]
async fn cursor_in_a_header_sent_back_in_a_header() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .and(|r: &Request| !r.headers.contains_key("x-cursor"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Next", "abc")
                .set_body_json(json!({"items": items(1..=1)})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .and(header("x-cursor", "abc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": items(2..=2)})))
        .expect(1)
        .mount(&server)
        .await;
    let plan = connector(&format!(
        "pagination:\n  p: {{ strategy: {{ cursor: {{ token: {{ header: X-Next }}, param: X-Cursor, in: header }} }}, max_pages: 10 }}\n{LIST}"
    ));
    let (result, sink) = call(&connection(plan, &server), "list", json!({})).await;
    result.unwrap();
    assert_eq!(ids(&sink), [1, 2]);
}

#[tokio::test]
async fn next_url_in_body_and_link_header() {
    let server = MockServer::start().await;
    let next = format!("{}/items?page=2", server.uri());
    Mock::given(path("/items"))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "Link",
                    format!("<{next}>; rel=\"next\", <{next}>; rel=\"last\"").as_str(),
                )
                .set_body_json(json!({"items": items(1..=2), "next": "/items?page=2"})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/items"))
        .and(query_param("page", "2"))
        .and(header("authorization", format!("Bearer {SECRET}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": items(3..=4)})))
        .expect(2)
        .mount(&server)
        .await;
    for strategy in ["{ next_url: { body: $.next } }", "{ link_header: {} }"] {
        let plan = connector(&format!(
            "pagination:\n  p: {{ strategy: {strategy}, max_pages: 10 }}\n{LIST}"
        ));
        let (result, sink) = call(&connection(plan, &server), "list", json!({})).await;
        result.unwrap();
        assert_eq!(ids(&sink), [1, 2, 3, 4], "{strategy}");
    }
}

#[tokio::test]
async fn a_next_url_on_another_host_is_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"items": items(1..=1), "next": "https://evil.example/steal"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let plan = connector(&format!(
        "pagination:\n  p: {{ strategy: {{ next_url: {{ body: $.next }} }}, max_pages: 10 }}\n{LIST}"
    ));
    let (result, _) = call(&connection(plan, &server), "list", json!({})).await;
    let err = result.unwrap_err().to_string();
    assert!(err.contains("not on the origin"), "{err}");
}

#[tokio::test]
async fn offset_and_page_number_stop_on_an_empty_page() {
    let server = MockServer::start().await;
    for (param, values) in [("offset", ["0", "2", "4"]), ("page", ["1", "2", "3"])] {
        for (i, v) in values.iter().enumerate() {
            let body = match i {
                0 => items(1..=2),
                1 => items(3..=4),
                _ => json!([]),
            };
            Mock::given(path(format!("/{param}")))
                .and(query_param(param, *v))
                .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "items": body })))
                .expect(1)
                .mount(&server)
                .await;
        }
    }
    let plan = connector(
        r#"pagination:
  off: { strategy: { offset: { param: offset, limit_param: limit, limit: 2 } }, max_pages: 10 }
  num: { strategy: { page_number: { param: page } }, max_pages: 10 }
actions:
  by_offset: { method: GET, path: /offset, records: "$.items[*]", paginate: off }
  by_page: { method: GET, path: /page, records: "$.items[*]", paginate: num }
"#,
    );
    let conn = connection(plan, &server);
    for action in ["by_offset", "by_page"] {
        let (result, sink) = call(&conn, action, json!({})).await;
        assert_eq!(result.unwrap().pages, 3, "{action}");
        assert_eq!(ids(&sink), [1, 2, 3, 4], "{action}");
    }
}

#[tokio::test]
async fn stop_rules_short_page_and_when() {
    let server = MockServer::start().await;
    Mock::given(path("/short"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": items(1..=3)})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/short"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": items(4..=5)})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/when"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": items(1..=1), "has_more": false, "next": "x"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let plan = connector(
        r#"pagination:
  short:
    strategy: { page_number: { param: page } }
    page_size: { param: per_page, value: 3 }
    stop: [short_page]
    max_pages: 10
  when:
    strategy: { cursor: { token: { body: $.next }, param: cursor } }
    stop: [{ when: "response.body.has_more == false" }]
    max_pages: 10
actions:
  short: { method: GET, path: /short, records: "$.items[*]", paginate: short }
  when: { method: GET, path: /when, records: "$.items[*]", paginate: when }
"#,
    );
    let conn = connection(plan, &server);
    let (result, sink) = call(&conn, "short", json!({})).await;
    assert_eq!(result.unwrap().pages, 2);
    assert_eq!(ids(&sink), [1, 2, 3, 4, 5]);
    let (result, _) = call(&conn, "when", json!({})).await;
    assert_eq!(result.unwrap().pages, 1);
}

#[tokio::test]
async fn a_repeated_cursor_stops_with_an_error() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": items(1..=1), "next": "same"})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let plan = connector(&format!(
        "pagination:\n  p: {{ strategy: {{ cursor: {{ token: {{ body: $.next }}, param: cursor }} }}, max_pages: 100 }}\n{LIST}"
    ));
    let (result, _) = call(&connection(plan, &server), "list", json!({})).await;
    let err = result.unwrap_err().to_string();
    assert!(err.contains("same cursor twice"), "{err}");
}

#[tokio::test]
async fn max_pages_stops_with_an_error_and_the_callers_limit_quietly() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(|r: &Request| {
            let n: u64 = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1);
            ResponseTemplate::new(200).set_body_json(json!({"items": [{"id": n}]}))
        })
        .mount(&server)
        .await;
    let plan = connector(&format!(
        "pagination:\n  p: {{ strategy: {{ page_number: {{ param: page }} }}, max_pages: 3 }}\n{LIST}"
    ));
    let conn = connection(plan, &server);
    let (result, _) = call(&conn, "list", json!({})).await;
    let err = result.unwrap_err().to_string();
    assert!(err.contains("max_pages") && err.contains("(3)"), "{err}");

    let mut sink = CollectSink::default();
    let limited = Call {
        action: "list".into(),
        max_pages: Some(2),
        ..Call::default()
    };
    let outcome = interpreter()
        .call(&conn, &limited, &mut sink)
        .await
        .unwrap();
    assert!(outcome.truncated);
    assert_eq!(ids(&sink), [1, 2]);
}

const GET_ONE: &str = r#"actions:
  get: { method: GET, path: /thing }
  create:
    method: POST
    path: /thing
    body: { json: { name: "{{ input.name }}", note: "{{ input.note }}" } }
    input: { name: { type: string }, note: { type: string, optional: true } }
  create_keyed:
    method: POST
    path: /thing
    idempotency_key: Idempotency-Key
"#;

#[tokio::test]
async fn retry_after_429_is_waited_for_then_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/thing"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/thing"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(connector(GET_ONE), &server);
    let started = Instant::now();
    let (result, sink) = call(&conn, "get", json!({})).await;
    assert_eq!(result.unwrap().output, json!({"ok": true}));
    // Retry-After said one second; the backoff alone would have waited at most 40 ms.
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert_eq!(sink.exchanges.len(), 2);
}

#[tokio::test]
async fn a_wait_longer_than_max_wait_fails_with_rate_limited() {
    let server = MockServer::start().await;
    Mock::given(path("/thing"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(
        connector(&format!("rate_limit: {{ max_wait: 5s }}\n{GET_ONE}")),
        &server,
    );
    let (result, _) = call(&conn, "get", json!({})).await;
    let err = result.unwrap_err().to_string();
    assert!(
        err.contains("rate limited") && err.contains("retry after 60m 0s"),
        "{err}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_fail_with_the_last_status() {
    let server = MockServer::start().await;
    Mock::given(path("/thing"))
        .respond_with(
            ResponseTemplate::new(503).set_body_json(json!({"message": "down for maintenance"})),
        )
        .expect(3)
        .mount(&server)
        .await;
    let conn = connection(connector(GET_ONE), &server);
    let (result, sink) = call(&conn, "get", json!({})).await;
    match result.unwrap_err() {
        ActionError::Provider {
            status,
            message,
            attempts,
            ..
        } => {
            assert_eq!((status, attempts), (503, 3));
            assert!(message.contains("down for maintenance"), "{message}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(sink.exchanges.len(), 3);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/thing"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Not Found"})))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(connector(GET_ONE), &server);
    let (result, _) = call(&conn, "get", json!({})).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "HTTP 404 Not Found: Not Found"
    );
}

#[tokio::test]
async fn post_is_not_retried_on_503_but_is_on_429_with_the_same_idempotency_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_json(json!({"name": "x"})))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(connector(GET_ONE), &server);
    let (result, _) = call(&conn, "create", json!({"name": "x"})).await;
    assert!(matches!(
        result,
        Err(ActionError::Provider {
            status: 503,
            attempts: 1,
            ..
        })
    ));

    let keyed = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&keyed)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 7})))
        .mount(&keyed)
        .await;
    let conn = connection(connector(GET_ONE), &keyed);
    let (result, _) = call(&conn, "create_keyed", json!({})).await;
    assert_eq!(result.unwrap().output, json!({"id": 7}));
    let requests = keyed.received_requests().await.unwrap();
    let keys: Vec<_> = requests
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().unwrap().to_string())
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "one key for every attempt of a call");
}

#[tokio::test]
async fn ok_false_in_a_200_body_becomes_an_error() {
    let server = MockServer::start().await;
    Mock::given(path("/thing"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "channel_not_found"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let plan = connector(&format!(
        "errors:\n  - {{ when: \"response.body.ok == false\", then: fail, message: \"Slack error: {{{{ response.body.error }}}}\" }}\n{GET_ONE}"
    ));
    let (result, _) = call(&connection(plan, &server), "get", json!({})).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "Slack error: channel_not_found"
    );
}

#[tokio::test]
async fn oversize_responses_and_timeouts_are_clear_errors() {
    let server = MockServer::start().await;
    Mock::given(path("/big"))
        .respond_with(ResponseTemplate::new(200).set_body_string("x".repeat(100 * 1024)))
        .mount(&server)
        .await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let plan = connector(
        r#"actions:
  big: { method: GET, path: /big }
  slow: { method: GET, path: /slow, timeout: 1s }
"#,
    );
    let conn = connection(plan, &server);
    let (result, _) = call(&conn, "big", json!({})).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "response larger than the limit of 65536 bytes"
    );
    let started = Instant::now();
    let (result, _) = call(&conn, "slow", json!({})).await;
    let err = result.unwrap_err().to_string();
    assert!(err.contains("did not finish within 1.0s"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn secrets_never_appear_in_errors_even_when_the_provider_echoes_them() {
    let server = MockServer::start().await;
    Mock::given(path("/thing"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"message": format!("token {SECRET} is revoked")})),
        )
        .mount(&server)
        .await;
    let conn = connection(connector(GET_ONE), &server);
    let (result, _) = call(&conn, "get", json!({})).await;
    assert_eq!(
        result.unwrap_err().to_string(),
        "HTTP 401 Unauthorized: token *** is revoked"
    );
}

#[tokio::test]
async fn json_bodies_leave_out_optional_inputs_that_were_not_given() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_json(json!({"name": "n"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": 1})))
        .expect(1)
        .mount(&server)
        .await;
    let conn = connection(connector(GET_ONE), &server);
    let (result, _) = call(&conn, "create", json!({"name": "n"})).await;
    result.unwrap();
    let (result, _) = call(&conn, "create", json!({"nam": "n"})).await;
    let err = result.unwrap_err();
    assert!(err.is_usage());
    assert_eq!(
        err.to_string(),
        "action `create` has no input `nam` (did you mean `name`?); input `name` is required"
    );
}

#[tokio::test]
async fn records_are_filtered_mapped_and_trimmed() {
    let server = MockServer::start().await;
    Mock::given(path("/issues"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [
            {"id": 1, "state": "open", "title": "A", "user": {"login": "u1", "id": 9}, "body": "long"},
            {"id": 2, "state": "closed", "title": "B", "user": {"login": "u2", "id": 8}, "body": "long"},
        ]})))
        .mount(&server)
        .await;
    let plan = connector(
        r#"actions:
  open:
    method: GET
    path: /issues
    records: $.items[*]
    filter: "record.state == 'open'"
    add_fields:
      summary: "{{ record.title }} by {{ record.user.login }}"
      user_id: "{{ record.user.id }}"
    remove_fields: [body, user.id]
  picked:
    method: GET
    path: /issues
    records: $.items[*]
    fields: { id: $.id, login: $.user.login, all_ids: "$..id" }
"#,
    );
    let conn = connection(plan, &server);
    let (result, sink) = call(&conn, "open", json!({})).await;
    result.unwrap();
    assert_eq!(
        sink.records,
        [
            json!({"id": 1, "state": "open", "title": "A", "user": {"login": "u1"},
                "summary": "A by u1", "user_id": 9})
        ]
    );
    let (result, sink) = call(&conn, "picked", json!({})).await;
    result.unwrap();
    assert_eq!(
        sink.records[1],
        json!({"id": 2, "login": "u2", "all_ids": [2, 8]})
    );
}

#[tokio::test]
async fn auth_modes_api_key_basic_custom_and_oauth_tokens() {
    let server = MockServer::start().await;
    Mock::given(path("/h"))
        .and(header("x-api-key", "k-12345"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!("header")))
        .mount(&server)
        .await;
    Mock::given(path("/q"))
        .and(query_param("api_key", "k-12345"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!("query")))
        .mount(&server)
        .await;
    Mock::given(path("/b"))
        // base64("user:k-12345")
        .and(header("authorization", "Basic dXNlcjprLTEyMzQ1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!("basic")))
        .mount(&server)
        .await;
    Mock::given(path("/c"))
        .and(header("x-sig", "user/k-12345"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!("custom")))
        .mount(&server)
        .await;
    Mock::given(path("/o"))
        .and(header("authorization", "Bearer oauth-token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!("oauth")))
        .mount(&server)
        .await;
    let modes = [
        (
            "/h",
            "api_key: { in: header, name: X-Api-Key, value: \"{{ secrets.key }}\" }",
        ),
        (
            "/q",
            "api_key: { in: query, name: api_key, value: \"{{ secrets.key }}\" }",
        ),
        (
            "/b",
            "basic: { username: user, password: \"{{ secrets.key }}\" }",
        ),
        (
            "/c",
            "custom: { headers: { X-Sig: \"user/{{ secrets.key }}\" } }",
        ),
        (
            "/o",
            "oauth2: { authorize_url: \"https://a/authorize\", token_url: \"https://a/token\" }",
        ),
    ];
    for (route, auth) in modes {
        let yaml = format!(
            "connector: t\nname: T\nconfig:\n  base_url: {{}}\n  key: {{ secret: true }}\nbase_url: \"{{{{ config.base_url }}}}\"\nauth:\n  {auth}\nactions:\n  get: {{ method: GET, path: {route} }}\n"
        );
        let compiled = compile_sources(&[SourceFile {
            path: "t.yaml".into(),
            text: yaml.clone(),
        }]);
        assert!(
            !compiled.diagnostics.has_errors(),
            "{:#?}",
            compiled.diagnostics
        );
        let plan = compiled.catalog.unwrap().connectors["t"].clone();
        let config = json!({ "base_url": server.uri(), "key": "k-12345" });
        let mut conn = Connection::new("c", plan, config.as_object().unwrap().clone()).unwrap();
        conn.tokens = Some(Arc::new(StaticToken("oauth-token-1".into())));
        let (result, _) = call(&conn, "get", json!({})).await;
        let output = result.unwrap_or_else(|e| panic!("{auth}: {e}")).output;
        assert_eq!(output, json!(route_name(route)), "{auth}");
    }
}

fn route_name(route: &str) -> &'static str {
    match route {
        "/h" => "header",
        "/q" => "query",
        "/b" => "basic",
        "/c" => "custom",
        _ => "oauth",
    }
}

/// A token source whose first token is rejected and which can issue a second one.
struct Rotating(std::sync::Mutex<u32>);

impl switchyard::interpret::TokenSource for Rotating {
    fn access_token(
        &self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + Send + '_>>
    {
        let n = *self.0.lock().unwrap();
        Box::pin(async move { Ok(format!("token-{n}")) })
    }
    fn rejected(
        &self,
        _token: &str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send + '_>> {
        *self.0.lock().unwrap() += 1;
        Box::pin(async { true })
    }
}

#[tokio::test]
async fn a_rejected_oauth_token_is_replaced_once() {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer token-1"))
        .respond_with(ResponseTemplate::new(401))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer token-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"me": 1})))
        .expect(1)
        .mount(&server)
        .await;
    let yaml = "connector: t\nname: T\nconfig:\n  base_url: {}\nbase_url: \"{{ config.base_url }}\"\nauth:\n  oauth2: { authorize_url: \"https://a/authorize\", token_url: \"https://a/token\" }\nerrors:\n  - { status: [401], then: reauth }\nactions:\n  me: { method: GET, path: /me }\n";
    let compiled = compile_sources(&[SourceFile {
        path: "t.yaml".into(),
        text: yaml.into(),
    }]);
    let plan = compiled.catalog.unwrap().connectors["t"].clone();
    let config = json!({ "base_url": server.uri() });
    let mut conn = Connection::new("c", plan, config.as_object().unwrap().clone()).unwrap();
    conn.tokens = Some(Arc::new(Rotating(std::sync::Mutex::new(1))));
    let (result, _) = call(&conn, "me", json!({})).await;
    assert_eq!(result.unwrap().output, json!({"me": 1}));
}

#[tokio::test]
async fn requests_per_second_spaces_out_requests() {
    let server = MockServer::start().await;
    Mock::given(path("/items"))
        .respond_with(|r: &Request| {
            let n: u64 = r
                .url
                .query_pairs()
                .find(|(k, _)| k == "page")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(1);
            let items = if n <= 5 {
                json!([{ "id": n }])
            } else {
                json!([])
            };
            ResponseTemplate::new(200).set_body_json(json!({ "items": items }))
        })
        .expect(6)
        .mount(&server)
        .await;
    let plan = connector(&format!(
        "rate_limit: {{ requests_per_second: 10 }}\npagination:\n  p: {{ strategy: {{ page_number: {{ param: page }} }}, max_pages: 10 }}\n{LIST}"
    ));
    let started = Instant::now();
    let (result, sink) = call(&connection(plan, &server), "list", json!({})).await;
    result.unwrap();
    assert_eq!(ids(&sink), [1, 2, 3, 4, 5]);
    // Six requests at 10 per second: the last one cannot start before 0.5 s.
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn form_and_raw_bodies_query_lists_and_a_cursor_in_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/form"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(wiremock::matchers::body_string("To=%2B1555&Body=hi+there"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "SM1"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/raw"))
        .and(header("content-type", "text/csv"))
        .and(wiremock::matchers::body_string("a,b\n1,2"))
        .respond_with(ResponseTemplate::new(200).set_body_string("stored"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/tags"))
        .and(|r: &Request| r.url.query() == Some("tag=a&tag=b&n=3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": 1})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/search"))
        .and(body_json(json!({"q": "x"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"items": [{"id": 1}], "next": "n2"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/search"))
        .and(body_json(json!({"q": "x", "after": "n2"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [{"id": 2}]})))
        .expect(1)
        .mount(&server)
        .await;
    let plan = connector(
        r#"pagination:
  in_body: { strategy: { cursor: { token: { body: $.next }, param: after, in: body } }, max_pages: 5 }
actions:
  form:
    method: POST
    path: /form
    input: { to: { type: string }, text: { type: string } }
    body: { form: { To: "{{ input.to }}", Body: "{{ input.text }}" } }
  raw:
    method: POST
    path: /raw
    body: { raw: { content_type: text/csv, content: "a,b\n1,2" } }
  tags:
    method: GET
    path: /tags
    input: { tags: { type: array }, n: { type: integer }, skip: { type: string, optional: true } }
    query: { tag: "{{ input.tags }}", n: "{{ input.n }}", skip: "{{ input.skip }}" }
  search:
    method: POST
    path: /search
    idempotent: true
    body: { json: { q: x } }
    records: $.items[*]
    paginate: in_body
"#,
    );
    let conn = connection(plan, &server);
    let (r, _) = call(&conn, "form", json!({"to": "+1555", "text": "hi there"})).await;
    assert_eq!(r.unwrap().output, json!({"sid": "SM1"}));
    let (r, _) = call(&conn, "raw", json!({})).await;
    assert_eq!(r.unwrap().output, json!("stored"));
    let (r, _) = call(&conn, "tags", json!({"tags": ["a", "b"], "n": 3})).await;
    assert_eq!(r.unwrap().output, json!({"ok": 1}));
    let (r, sink) = call(&conn, "search", json!({})).await;
    r.unwrap();
    assert_eq!(ids(&sink), [1, 2]);
}
