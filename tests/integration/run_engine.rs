//! End to end, in one process: the server on 127.0.0.1:0, a real SQLite file (and a real
//! PostgreSQL database when `SWITCHYARD_TEST_POSTGRES_URL` is set), the shipped
//! `github-issue-to-slack` workflow, Slack faked with wiremock. A signed GitHub webhook
//! gives exactly one Slack post with the issue's title; a badly signed one and a repeated
//! delivery give none.

use super::common::{TestStore, postgres_url};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use switchyard::compile::compile_paths;
use switchyard::interpret::{Connection, Interpreter, Options, ReqwestClient};
use switchyard::runtime::{Engine, EngineTargets, StaticConnections};
use switchyard::server::{AppState, run};
use switchyard::store::Store;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "gh-webhook-secret";

fn sign(body: &[u8]) -> String {
    super::common::github_signature(SECRET, body)
}

/// The shipped connectors and workflows, and the `acme-github` connection they use.
fn shipped_catalog_and_github() -> (Arc<switchyard::plan::Catalog>, Connection) {
    // reqwest is built without a default TLS provider; every test that makes a client
    // needs one installed, whichever test runs first.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (compiled, _) = compile_paths(&[root.join("connectors"), root.join("workflows")]).unwrap();
    let catalog = Arc::new(compiled.catalog.expect("shipped specs compile"));
    let github = Connection::new(
        "acme-github",
        catalog.connectors["github"].clone(),
        json!({ "webhook_secret": SECRET })
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap();
    (catalog, github)
}

#[tokio::test]
async fn a_signed_github_webhook_posts_once_to_slack_on_sqlite() {
    github_webhook_posts_once_to_slack(TestStore::sqlite().await).await;
}

#[tokio::test]
async fn a_signed_github_webhook_posts_once_to_slack_on_postgres() {
    if let Some(url) = postgres_url("the run-engine end-to-end test") {
        github_webhook_posts_once_to_slack(TestStore::postgres(&url).await).await;
    }
}

async fn github_webhook_posts_once_to_slack(test_store: TestStore) {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(header("authorization", "Bearer xoxb-test-token"))
        .and(body_partial_json(json!({ "channel": "#eng" })))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "ts": "1.2", "channel": "C1"})),
        )
        .mount(&slack)
        .await;

    let (catalog, github) = shipped_catalog_and_github();
    let mut slack_conn = Connection::new(
        "acme-slack",
        catalog.connectors["slack"].clone(),
        json!({ "bot_token": "xoxb-test-token" })
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap();
    slack_conn.auth_mode = Some("bearer".into());
    slack_conn.base_url = Some(format!("{}/api", slack.uri()));
    let connections = StaticConnections::new([github, slack_conn]).into_arc();

    let store = test_store.store.clone();
    let client: Arc<dyn switchyard::interpret::HttpClient> =
        Arc::new(ReqwestClient::new().unwrap());
    let wake = Arc::new(tokio::sync::Notify::new());
    let engine = Arc::new(Engine {
        catalog: switchyard::plan::LiveCatalog::new(catalog.clone()),
        store: store.clone(),
        interpreter: Arc::new(Interpreter::new(client.clone(), Options::default())),
        http: client,
        connections: connections.clone(),
        wake: wake.clone(),
        owner: "test".into(),
        mocks: Default::default(),
    });
    let (stop_workers, shutdown) = tokio::sync::watch::channel(false);
    let workers = engine.spawn_workers(2, shutdown);

    let mut state = AppState::new(switchyard::plan::Catalog::default());
    state.webhook_targets = Arc::new(EngineTargets {
        catalog: switchyard::plan::LiveCatalog::new(catalog.clone()),
        connections,
        store: store.clone(),
        wake,
        max_queued: switchyard::runtime::DEFAULT_MAX_QUEUED,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!(
        "http://{}/hooks/github/acme-github",
        listener.local_addr().unwrap()
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, state, async {
        let _ = stopped.await;
    }));

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let body = serde_json::to_vec(&json!({
        "action": "opened",
        "issue": { "number": 42, "title": "Crash on empty input", "html_url": "https://github.com/acme/app/issues/42" },
        "repository": { "full_name": "acme/app" }
    }))
    .unwrap();
    let send = |sig: String, delivery: &'static str| {
        http.post(&base)
            .header("Content-Type", "application/json")
            .header("X-GitHub-Event", "issues")
            .header("X-GitHub-Delivery", delivery)
            .header("X-Hub-Signature-256", sig)
            .body(body.clone())
            .send()
    };

    let r = send(sign(&body), "delivery-1").await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (200, "accepted\n".into())
    );
    let bad = send("sha256=0000".into(), "delivery-2").await.unwrap();
    assert_eq!(bad.status(), 401);
    let again = send(sign(&body), "delivery-1").await.unwrap();
    assert_eq!(
        (again.status().as_u16(), again.text().await.unwrap()),
        (200, "duplicate\n".into())
    );

    // Wait for the run to finish (the worker runs after the 200).
    let mut runs = Vec::new();
    for _ in 0..100 {
        runs = store.runs(None, 10).await.unwrap();
        if runs
            .iter()
            .all(|r| r.status == "succeeded" || r.status == "failed")
            && !runs.is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].status, "succeeded", "{runs:?}");
    assert_eq!(runs[0].workflow, "github-issue-to-slack");
    let posts = slack.received_requests().await.unwrap();
    assert_eq!(posts.len(), 1);
    let text = serde_json::from_slice::<serde_json::Value>(&posts[0].body).unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains("Crash on empty input") && text.contains("#42"),
        "{text}"
    );
    // The step journal holds Slack's answer.
    let steps = store.steps(&runs[0].id).await.unwrap();
    assert_eq!(steps.len(), 1);
    assert_eq!(
        steps[0].step.output,
        Some(json!({ "ts": "1.2", "channel": "C1" }))
    );

    let _ = stop.send(());
    server.await.unwrap().unwrap();
    let _ = stop_workers.send(true);
    for w in workers {
        w.await.unwrap();
    }
    drop((engine, store));
    test_store.cleanup().await;
}

/// Past `max_queued` waiting runs, a delivery is refused with 503 and `Retry-After`, and
/// nothing of it is stored; once runs leave the queue, deliveries are accepted again.
#[tokio::test]
async fn a_full_run_queue_refuses_deliveries_with_retry_after() {
    let (catalog, github) = shipped_catalog_and_github();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("switchyard.db"))
        .await
        .unwrap();
    let mut state = AppState::new(switchyard::plan::Catalog::default());
    state.webhook_targets = Arc::new(EngineTargets {
        catalog: switchyard::plan::LiveCatalog::new(catalog.clone()),
        connections: StaticConnections::new([github]).into_arc(),
        store: store.clone(),
        wake: Arc::new(tokio::sync::Notify::new()),
        max_queued: 2,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hooks/github/acme-github",
        listener.local_addr().unwrap()
    );
    tokio::spawn(run(listener, state, std::future::pending()));
    let body = serde_json::to_vec(&json!({
        "action": "opened",
        "issue": { "number": 1, "title": "t", "html_url": "https://github.com/a/b/issues/1" },
        "repository": { "full_name": "a/b" }
    }))
    .unwrap();
    let http = reqwest::Client::new();
    let send = |delivery: String| {
        http.post(&url)
            .header("Content-Type", "application/json")
            .header("X-GitHub-Event", "issues")
            .header("X-GitHub-Delivery", delivery)
            .header("X-Hub-Signature-256", sign(&body))
            .body(body.clone())
            .send()
    };
    for n in 0..2 {
        assert_eq!(send(format!("d{n}")).await.unwrap().status(), 200);
    }
    let refused = send("d2".into()).await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "30");
    assert_eq!(store.runs(None, 10).await.unwrap().len(), 2);
    assert_eq!(store.queued_runs(), 2);

    // A worker takes one run: there is room for one more delivery, the refused one too
    // (its dedupe key was not stored).
    store
        .claim_run("w", Duration::from_secs(60))
        .await
        .unwrap()
        .expect("a queued run");
    assert_eq!(send("d2".into()).await.unwrap().status(), 200);
    assert_eq!(send("d3".into()).await.unwrap().status(), 503);
    assert_eq!(store.runs(None, 10).await.unwrap().len(), 3);
}

/// A workflow's own webhook `filter` is evaluated over the names the compiler checks it
/// against (`payload`, `event_type`, ...): a delivery it accepts starts a run, one it
/// refuses starts none.
#[tokio::test]
async fn a_workflow_webhook_filter_selects_deliveries() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let flow = dir.path().join("only-seven.yaml");
    std::fs::write(
        &flow,
        "workflow: only-seven\ntrigger:\n  webhook: { connector: github, event: issue_opened, connection: acme-github, filter: \"payload.issue.number == 7 and event_type == 'issues.opened'\" }\nsteps:\n  - id: note\n    set: { n: \"{{ trigger.payload.issue.number }}\" }\n",
    )
    .unwrap();
    let (compiled, _) = compile_paths(&[root.join("connectors/github.yaml"), flow]).unwrap();
    let catalog = Arc::new(compiled.catalog.expect("compiles"));
    let github = Connection::new(
        "acme-github",
        catalog.connectors["github"].clone(),
        json!({ "webhook_secret": SECRET })
            .as_object()
            .unwrap()
            .clone(),
    )
    .unwrap();
    let store = Store::open_sqlite(&dir.path().join("switchyard.db"))
        .await
        .unwrap();
    let mut state = AppState::new(switchyard::plan::Catalog::default());
    state.webhook_targets = Arc::new(EngineTargets {
        catalog: switchyard::plan::LiveCatalog::new(catalog.clone()),
        connections: StaticConnections::new([github]).into_arc(),
        store: store.clone(),
        wake: Arc::new(tokio::sync::Notify::new()),
        max_queued: switchyard::runtime::DEFAULT_MAX_QUEUED,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/hooks/github/acme-github",
        listener.local_addr().unwrap()
    );
    tokio::spawn(run(listener, state, std::future::pending()));
    let http = reqwest::Client::new();
    for number in [7, 8] {
        let body = serde_json::to_vec(&json!({
            "action": "opened",
            "issue": { "number": number, "title": "t", "html_url": "https://x" },
            "repository": { "full_name": "a/b" }
        }))
        .unwrap();
        let r = http
            .post(&url)
            .header("Content-Type", "application/json")
            .header("X-GitHub-Event", "issues")
            .header("X-GitHub-Delivery", format!("d-{number}"))
            .header("X-Hub-Signature-256", sign(&body))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let runs = store.runs(Some("only-seven"), 10).await.unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].trigger["payload"]["issue"]["number"], 7);
}

/// Linked records in workflows: one run creates the link, a later one finds it, another
/// removes it; linking an object that belongs to another key fails the run.
#[tokio::test]
async fn workflows_link_look_up_and_unlink_records() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir(&specs).unwrap();
    std::fs::write(
        specs.join("remember.yaml"),
        "workflow: remember\ntrigger: { manual: {} }\nsteps:\n  - id: made\n    set: { id: \"{{ trigger.event_id }}\" }\n  - id: keep\n    link: { key: \"appointment:{{ trigger.appointment }}\", connection: cal, object_type: event, external_id: \"{{ steps.made.output.id }}\" }\n",
    )
    .unwrap();
    std::fs::write(
        specs.join("recall.yaml"),
        "workflow: recall\ntrigger: { manual: {} }\nsteps:\n  - id: found\n    lookup: { key: \"appointment:{{ trigger.appointment }}\", connection: cal }\n  - id: seen\n    set: { id: \"{{ steps.found.output.external_id if steps.found.output else 'none' }}\" }\n  - id: forget\n    if: \"trigger.forget\"\n    unlink: { key: \"appointment:{{ trigger.appointment }}\", connection: cal }\n",
    )
    .unwrap();
    let (compiled, _) = compile_paths(&[specs]).unwrap();
    let catalog = Arc::new(compiled.catalog.expect("compiles"));
    let store = Store::open_sqlite(&dir.path().join("switchyard.db"))
        .await
        .unwrap();
    let client: Arc<dyn switchyard::interpret::HttpClient> =
        Arc::new(ReqwestClient::new().unwrap());
    let engine = Engine {
        catalog: switchyard::plan::LiveCatalog::new(catalog.clone()),
        store: store.clone(),
        interpreter: Arc::new(Interpreter::new(client.clone(), Options::default())),
        http: client,
        connections: StaticConnections::default().into_arc(),
        wake: Arc::new(tokio::sync::Notify::new()),
        owner: "test".into(),
        mocks: Default::default(),
    };
    let run = |workflow: &str, trigger: serde_json::Value| {
        let (engine, store) = (&engine, &store);
        let workflow = workflow.to_string();
        async move {
            let id = store
                .queue_run(&switchyard::store::NewRun {
                    spec_hash: catalog_hash(&engine.catalog, &workflow),
                    workflow,
                    trigger,
                })
                .await
                .unwrap();
            assert!(engine.run_one().await.unwrap());
            let run = store.run(&id).await.unwrap().unwrap();
            let steps = store.steps(&id).await.unwrap();
            (run, steps)
        }
    };
    let (made, _) = run("remember", json!({ "appointment": 7, "event_id": "ev-7" })).await;
    assert_eq!(made.status, "succeeded", "{made:?}");
    let (recalled, steps) = run("recall", json!({ "appointment": 7, "forget": true })).await;
    assert_eq!(recalled.status, "succeeded", "{recalled:?}");
    let seen = steps.iter().find(|s| s.step.step_id == "seen").unwrap();
    assert_eq!(seen.step.output, Some(json!({ "id": "ev-7" })));
    let forget = steps.iter().find(|s| s.step.step_id == "forget").unwrap();
    assert_eq!(forget.step.output, Some(json!({ "removed": true })));
    let (_, steps) = run("recall", json!({ "appointment": 7, "forget": false })).await;
    let seen = steps.iter().find(|s| s.step.step_id == "seen").unwrap();
    assert_eq!(seen.step.output, Some(json!({ "id": "none" })), "unlinked");
    // ev-8 belongs to appointment 8; linking it to appointment 9 fails the run.
    run("remember", json!({ "appointment": 8, "event_id": "ev-8" })).await;
    let (conflict, _) = run("remember", json!({ "appointment": 9, "event_id": "ev-8" })).await;
    assert_eq!(conflict.status, "failed");
    assert!(conflict.error.unwrap().contains("already linked"));
}

fn catalog_hash(catalog: &switchyard::plan::LiveCatalog, workflow: &str) -> String {
    catalog.current().workflows[workflow].content_hash.clone()
}

/// A connector's `reply` is what accepted and duplicate deliveries are answered with
/// (Twilio reads TwiML); without one the answer is `accepted` as text.
#[tokio::test]
async fn a_connector_reply_answers_accepted_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("sms.yaml");
    std::fs::write(
        &spec,
        "connector: sms\nname: SMS\nauth: { none: {} }\nwebhooks:\n  verify: { none: { reason: test } }\n  event_id: { body: $.id }\n  reply: { content_type: application/xml, body: \"<Response></Response>\" }\ntriggers:\n  received: { webhook: {} }\n",
    )
    .unwrap();
    let flow = dir.path().join("flow.yaml");
    std::fs::write(
        &flow,
        "workflow: sms-flow\ntrigger:\n  webhook: { connector: sms, event: received, connection: main }\nsteps:\n  - id: a\n    set: { x: 1 }\n",
    )
    .unwrap();
    let (compiled, _) = compile_paths(&[spec, flow]).unwrap();
    let catalog = Arc::new(compiled.catalog.expect("compiles"));
    let main = Connection::new(
        "main",
        catalog.connectors["sms"].clone(),
        Default::default(),
    )
    .unwrap();
    let store = Store::open_sqlite(&dir.path().join("switchyard.db"))
        .await
        .unwrap();
    let mut state = AppState::new(switchyard::plan::Catalog::default());
    state.webhook_targets = Arc::new(EngineTargets {
        catalog: switchyard::plan::LiveCatalog::new(catalog.clone()),
        connections: StaticConnections::new([main]).into_arc(),
        store: store.clone(),
        wake: Arc::new(tokio::sync::Notify::new()),
        max_queued: switchyard::runtime::DEFAULT_MAX_QUEUED,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/sms/main", listener.local_addr().unwrap());
    tokio::spawn(run(listener, state, std::future::pending()));
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let r = http
            .post(&url)
            .header("Content-Type", "application/json")
            .body(r#"{"id":"SM1"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/xml");
        assert_eq!(r.text().await.unwrap(), "<Response></Response>");
    }
    assert_eq!(
        store.runs(Some("sms-flow"), 10).await.unwrap().len(),
        1,
        "the second was a duplicate"
    );
}
