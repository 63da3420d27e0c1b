//! Polling triggers against wiremock and a real SQLite file: the first poll is a baseline,
//! later polls pass the cursor back and emit each new item exactly once.

use serde_json::json;
use std::sync::Arc;
use switchyard::compile::{SourceFile, compile_sources};
use switchyard::interpret::{Connection, Interpreter, Options, ReqwestClient};
use switchyard::runtime::{Engine, PollOutcome, StaticConnections};
use switchyard::store::Store;
use wiremock::matchers::{path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SPECS: &str = r#"connector: tracker
name: Tracker
config:
  base_url: {}
base_url: "{{ config.base_url }}"
auth: { none: {} }
actions:
  list_items:
    method: GET
    path: /items
    input: { since: { type: string, optional: true } }
    query: { since: "{{ input.since }}" }
    records: $.items[*]
triggers:
  item_changed:
    poll:
      action: list_items
      every: 1m
      cursor: { field: $.updated_at, input: since }
      dedupe: $.id
"#;

const WORKFLOW: &str = r#"workflow: on-item
trigger:
  poll: { connector: tracker, trigger: item_changed, connection: main }
steps:
  - id: note
    set: { id: "{{ trigger.item.id }}" }
"#;

#[tokio::test]
async fn polls_emit_each_new_item_once() {
    let api = MockServer::start().await;
    Mock::given(path("/items"))
        .and(query_param_is_missing("since"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [
            {"id": 1, "updated_at": "2026-01-01T10:00:00Z"},
            {"id": 2, "updated_at": "2026-01-01T11:00:00Z"}
        ]})))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(path("/items"))
        .and(query_param("since", "2026-01-01T11:00:00Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [
            {"id": 2, "updated_at": "2026-01-01T11:00:00Z"},
            {"id": 3, "updated_at": "2026-01-01T12:00:00Z"}
        ]})))
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(path("/items"))
        .and(query_param("since", "2026-01-01T12:00:00Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"items": [
            {"id": 3, "updated_at": "2026-01-01T12:00:00Z"}
        ]})))
        .expect(1)
        .mount(&api)
        .await;

    let compiled = compile_sources(&[
        SourceFile {
            path: "tracker.yaml".into(),
            text: SPECS.into(),
        },
        SourceFile {
            path: "on-item.yaml".into(),
            text: WORKFLOW.into(),
        },
    ]);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}",
        compiled.diagnostics
    );
    let catalog = Arc::new(compiled.catalog.unwrap());
    let conn = Connection::new(
        "main",
        catalog.connectors["tracker"].clone(),
        json!({ "base_url": api.uri() })
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("db")).await.unwrap();
    let client: Arc<dyn switchyard::interpret::HttpClient> =
        Arc::new(ReqwestClient::new().unwrap());
    let engine = Engine {
        catalog: switchyard::plan::LiveCatalog::new(catalog.clone()),
        store: store.clone(),
        interpreter: Arc::new(Interpreter::new(client.clone(), Options::default())),
        http: client,
        connections: StaticConnections::new([conn]).into_arc(),
        wake: Arc::new(tokio::sync::Notify::new()),
        owner: "test".into(),
        mocks: Default::default(),
    };
    let workflow = catalog.workflows["on-item"].clone();

    assert_eq!(engine.poll(&workflow).await.unwrap(), PollOutcome::Baseline);
    assert!(
        store.runs(None, 10).await.unwrap().is_empty(),
        "the baseline emits nothing"
    );
    // Item 2 was part of the baseline; item 3 is new.
    assert_eq!(
        engine.poll(&workflow).await.unwrap(),
        PollOutcome::Emitted(1)
    );
    assert_eq!(
        engine.poll(&workflow).await.unwrap(),
        PollOutcome::Emitted(0)
    );
    let runs = store.runs(None, 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].trigger["item"]["id"], 3);
    assert_eq!(
        store.poll_cursor("on-item").await.unwrap(),
        Some(Some(json!("2026-01-01T12:00:00Z")))
    );
    // A poller holding a stale cursor loses the compare-and-swap and writes nothing.
    let stale = Some(Some(json!("2026-01-01T11:00:00Z")));
    let result = store
        .commit_poll(
            "on-item",
            stale.as_ref(),
            Some(&json!("x")),
            &[],
            std::time::Duration::from_secs(60),
            true,
        )
        .await
        .unwrap();
    assert_eq!(result, None);
    // The emitted run executes.
    assert!(engine.run_one().await.unwrap());
    assert_eq!(store.runs(None, 10).await.unwrap()[0].status, "succeeded");
}
