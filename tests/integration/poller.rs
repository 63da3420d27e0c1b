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

/// Incremental sync with the shipped Google Calendar connector (its `event_changed` poll
/// trigger over `sync_events`): the cursor is the sync token the last page hands out
/// (`nextSyncToken`), created, changed and cancelled events arrive as runs (cancellations
/// marked `deleted`), and a `410 Gone` for an expired token makes the poll list everything
/// again without emitting anything twice. Runs on SQLite and PostgreSQL.
#[tokio::test]
async fn sync_tokens_deletions_and_a_410_resync() {
    let calendar = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("connectors/google-calendar.yaml"),
    )
    .unwrap();
    const FLOW: &str = "workflow: on-event\ntrigger:\n  poll: { connector: google-calendar, trigger: event_changed, connection: main }\nsteps:\n  - id: note\n    set: { id: \"{{ trigger.item.id }}\" }\n";
    for t in super::common::TestStore::all("calendar sync").await {
        let api = MockServer::start().await;
        let event = |id: &str, etag: &str, status: &str| json!({ "id": id, "etag": etag, "status": status });
        // The first (full) listing, two pages; its last page hands out sync token s1.
        Mock::given(path("/calendars/primary/events"))
            .and(query_param_is_missing("syncToken"))
            .and(query_param_is_missing("pageToken"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "items": [event("a", "\"a-1\"", "confirmed")], "nextPageToken": "p2"
            })))
            .mount(&api)
            .await;
        Mock::given(path("/calendars/primary/events"))
            .and(query_param_is_missing("syncToken"))
            .and(query_param("pageToken", "p2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "items": [event("b", "\"b-1\"", "confirmed")], "nextSyncToken": "s1"
            })))
            .mount(&api)
            .await;
        // With s1: a changed (a), a cancelled (b) and a new (c) event; token s2.
        Mock::given(path("/calendars/primary/events"))
            .and(query_param("syncToken", "s1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "items": [event("a", "\"a-2\"", "confirmed"), event("b", "\"b-2\"", "cancelled"), event("c", "\"c-1\"", "confirmed")],
                "nextSyncToken": "s2"
            })))
            .mount(&api)
            .await;
        // s2 has expired.
        Mock::given(path("/calendars/primary/events"))
            .and(query_param("syncToken", "s2"))
            .respond_with(ResponseTemplate::new(410).set_body_json(
                json!({"error": {"code": 410, "message": "Sync token is no longer valid"}}),
            ))
            .mount(&api)
            .await;

        let compiled = compile_sources(&[
            SourceFile {
                path: "google-calendar.yaml".into(),
                text: calendar.clone(),
            },
            SourceFile {
                path: "flow.yaml".into(),
                text: FLOW.into(),
            },
        ]);
        assert!(
            !compiled.diagnostics.has_errors(),
            "{:#?}",
            compiled.diagnostics
        );
        let catalog = Arc::new(compiled.catalog.unwrap());
        let mut conn = Connection::new(
            "main",
            catalog.connectors["google-calendar"].clone(),
            serde_json::Map::new(),
        )
        .unwrap();
        conn.base_url = Some(api.uri());
        conn.tokens = Some(Arc::new(switchyard::interpret::StaticToken(
            "gcal-token".into(),
        )));
        let store = t.store.clone();
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
        let workflow = catalog.workflows["on-event"].clone();
        let b = t.backend;
        assert_eq!(
            engine.poll(&workflow).await.unwrap(),
            PollOutcome::Baseline,
            "{b}"
        );
        assert_eq!(
            store.poll_cursor("on-event").await.unwrap(),
            Some(Some(json!("s1"))),
            "{b}"
        );
        assert_eq!(
            engine.poll(&workflow).await.unwrap(),
            PollOutcome::Emitted(3),
            "{b}"
        );
        assert_eq!(
            store.poll_cursor("on-event").await.unwrap(),
            Some(Some(json!("s2"))),
            "{b}"
        );
        let runs = store.runs(Some("on-event"), 10).await.unwrap();
        let deleted: Vec<(&str, bool)> = runs
            .iter()
            .map(|r| {
                (
                    r.trigger["item"]["id"].as_str().unwrap(),
                    r.trigger["deleted"].as_bool().unwrap(),
                )
            })
            .collect();
        assert!(
            deleted.contains(&("b", true)) && deleted.contains(&("a", false)),
            "{b}: {deleted:?}"
        );
        // 410 on s2: everything is listed again (a and b at their first versions, from
        // the full listing); those versions were seen in the baseline, so nothing new runs,
        // and the cursor is the new listing's token.
        assert_eq!(
            engine.poll(&workflow).await.unwrap(),
            PollOutcome::Emitted(0),
            "{b}"
        );
        assert_eq!(
            store.poll_cursor("on-event").await.unwrap(),
            Some(Some(json!("s1"))),
            "{b}"
        );
        assert_eq!(
            store.runs(Some("on-event"), 10).await.unwrap().len(),
            3,
            "{b}: nothing twice"
        );
        t.cleanup().await;
    }
}
