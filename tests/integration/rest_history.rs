//! The REST API over history and workflows: runs (filters, pages, steps, retry, replay),
//! events, workflows (switch on and off), the summary; and tenant isolation checked on
//! every route of the OpenAPI document, so a route added later cannot escape it.

use super::common::{TestStore, postgres_url};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use switchyard::access::{Scope, create_key};
use switchyard::connections::{ConnectionService, NewConnection};
use switchyard::secrets::{Keyring, MasterKey};
use switchyard::store::{Accepted, NewEvent, NewRun, StepRecord, Store};

const WEBHOOK_SECRET: &str = "whsec-default-tenant-0123456789";
const WORKFLOW: &str = "github-issue-to-slack";

/// A server over the shipped specs, with history of the default tenant: one connection,
/// two events, a failed run (one step succeeded, one failed) and a succeeded one.
struct Fixture {
    base: String,
    store: Store,
    catalog: Arc<switchyard::plan::LiveCatalog>,
    failed_run: String,
    succeeded_run: String,
    event: i64,
    /// A write key of the default tenant, and an admin key of tenant `b`.
    key: String,
    other_key: String,
}

async fn fixture(store: Store) -> Fixture {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (compiled, _) =
        switchyard::compile::compile_paths(&[root.join("connectors"), root.join("workflows")])
            .unwrap();
    let catalog = Arc::new(compiled.catalog.unwrap());
    let service = ConnectionService {
        store: store.clone(),
        keyring: Arc::new(Keyring::new(MasterKey::generate())),
    };
    let mut secrets = serde_json::Map::new();
    secrets.insert("webhook_secret".into(), WEBHOOK_SECRET.into());
    service
        .add(
            &catalog,
            NewConnection {
                tenant: "default".into(),
                name: "acme-github".into(),
                connector: "github".into(),
                secrets,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let hash = catalog.workflows[WORKFLOW].content_hash.clone();
    let mut runs = Vec::new();
    for n in 0..2 {
        let payload = json!({ "issue": { "number": n, "title": format!("issue {n}") } });
        let headers = json!({ "x-github-event": "issues" });
        let delivery = format!("delivery-{n}");
        let accepted = store
            .accept_event(
                &NewEvent {
                    connector: "github",
                    connection: "acme-github",
                    event_id: Some(&delivery),
                    event_type: Some("issues"),
                    payload: &payload,
                    headers: &headers,
                    dedupe_window: Duration::from_secs(3600),
                },
                &[NewRun {
                    workflow: WORKFLOW.into(),
                    spec_hash: hash.clone(),
                    trigger: json!({ "payload": payload }),
                }],
            )
            .await
            .unwrap();
        let Accepted::Stored { runs: ids } = accepted else {
            panic!("stored")
        };
        runs.extend(ids);
    }
    let events = store
        .events(&switchyard::store::EventFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let event = events.iter().map(|e| e.id).max().unwrap();
    // The first run fails at its second step; the second succeeds.
    for (run, ok) in [(&runs[0], false), (&runs[1], true)] {
        let claimed = store
            .claim_run("test", Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&claimed.id, run);
        let step = |id: &str, ok: bool| StepRecord {
            step_id: id.into(),
            status: if ok { "succeeded" } else { "failed" }.into(),
            attempts: if ok { 1 } else { 3 },
            output: ok.then(|| json!({ "ts": "1.2" })),
            error: (!ok).then(|| "HTTP 500 from slack".to_string()),
            input: None,
        };
        let now = switchyard::store::now_ms();
        store
            .record_step(run, &step("prepare", true), now - 200)
            .await
            .unwrap();
        store
            .record_step(run, &step("post", ok), now - 100)
            .await
            .unwrap();
        store
            .finish_run(run, ok, (!ok).then_some("step `post` failed"))
            .await
            .unwrap();
    }
    store
        .upsert_link(&switchyard::store::LinkRow {
            tenant: "default".into(),
            key: "appointment:default-only".into(),
            connection: "acme-github".into(),
            object_type: "issue".into(),
            external_id: "issue-42".into(),
            created_at: 0,
            updated_at: 0,
        })
        .await
        .unwrap();
    let (key, _) = create_key(&store, "default", Scope::Write, None, None)
        .await
        .unwrap();
    let (other_key, _) = create_key(&store, "b", Scope::Admin, None, None)
        .await
        .unwrap();
    let live = switchyard::plan::LiveCatalog::new(catalog);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut app = switchyard::server::AppState::live(live.clone());
    app.store = Some(store.clone());
    app.oauth = Some(switchyard::oauth::OAuthFlow {
        connections: service,
        http: Arc::new(switchyard::interpret::ReqwestClient::new().unwrap()),
    });
    app.public_url = Some(base.clone());
    tokio::spawn(switchyard::server::run(
        listener,
        app,
        std::future::pending(),
    ));
    Fixture {
        base,
        store,
        catalog: live,
        failed_run: runs[0].clone(),
        succeeded_run: runs[1].clone(),
        event,
        key,
        other_key,
    }
}

/// Calls the API; the body parsed as JSON (every API answer is JSON).
async fn call(f: &Fixture, method: Method, path: &str, key: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method.clone(), format!("{}{path}", f.base));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    if method == Method::POST || method == Method::PATCH {
        request = request
            .header("content-type", "application/json")
            .body("{}");
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert!(
        !text.contains(WEBHOOK_SECRET),
        "a secret in a response: {text}"
    );
    for internal in [
        "SELECT ",
        "sqlx",
        "rusqlite",
        "panicked",
        ".rs:",
        "database:",
    ] {
        assert!(
            !text.contains(internal),
            "{method} {path}: internals in {text}"
        );
    }
    let json =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{method} {path}: not JSON: {text}"));
    (status, json)
}

#[tokio::test]
async fn runs_events_workflows_and_summary_through_the_api() {
    let t = TestStore::sqlite().await;
    let f = fixture(t.store.clone()).await;
    let key = Some(f.key.as_str());

    // Runs, newest first, and one page at a time.
    let (status, page) = call(&f, Method::GET, "/api/v1/runs", key).await;
    assert_eq!(status, 200, "{page}");
    let ids: Vec<&str> = page["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [f.succeeded_run.as_str(), f.failed_run.as_str()]);
    assert!(page["next_cursor"].is_null());
    let (_, first) = call(&f, Method::GET, "/api/v1/runs?limit=1", key).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_string();
    let (_, second) = call(
        &f,
        Method::GET,
        &format!("/api/v1/runs?limit=1&cursor={cursor}"),
        key,
    )
    .await;
    assert_eq!(second["runs"][0]["id"], f.failed_run.as_str());
    let (_, failed) = call(&f, Method::GET, "/api/v1/runs?status=failed", key).await;
    assert_eq!(failed["runs"].as_array().unwrap().len(), 1);
    assert_eq!(failed["runs"][0]["error"], "step `post` failed");
    let (_, none) = call(
        &f,
        Method::GET,
        "/api/v1/runs?workflow=nope&since=2020-01-01T00:00:00Z",
        key,
    )
    .await;
    assert_eq!(none["runs"], json!([]));

    // Bad parameters are 400s that say which.
    for (query, word) in [
        ("status=bogus", "status"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("since=yesterday", "since"),
        ("cursor=%%%", "cursor"),
        ("cursor=bm9jb2xvbg", "cursor"),
        ("colour=red", "colour"),
    ] {
        let (status, body) = call(&f, Method::GET, &format!("/api/v1/runs?{query}"), key).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["error"]["code"], "invalid_request");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(word),
            "{query}: {body}"
        );
    }

    // One run with its steps and trigger.
    let (status, run) = call(
        &f,
        Method::GET,
        &format!("/api/v1/runs/{}", f.failed_run),
        key,
    )
    .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(run["status"], "failed");
    assert_eq!(run["trigger"]["payload"]["issue"]["number"], 0);
    let steps = run["steps"].as_array().unwrap();
    assert_eq!(
        steps
            .iter()
            .map(|s| (s["id"].as_str().unwrap(), s["status"].as_str().unwrap()))
            .collect::<Vec<_>>(),
        [("prepare", "succeeded"), ("post", "failed")]
    );
    assert_eq!(steps[1]["attempts"], 3);
    assert_eq!(steps[1]["error"], "HTTP 500 from slack");
    assert!(steps[1]["duration_ms"].as_i64().unwrap() >= 0);
    assert_eq!(call(&f, Method::GET, "/api/v1/runs/nope", key).await.0, 404);

    // Retry from the failed step: queued again, the succeeded step kept.
    let (status, retried) = call(
        &f,
        Method::POST,
        &format!("/api/v1/runs/{}/retry", f.failed_run),
        key,
    )
    .await;
    assert_eq!(
        (status, retried["status"].as_str()),
        (202, Some("queued")),
        "{retried}"
    );
    let kept = f.store.steps(&f.failed_run).await.unwrap();
    assert_eq!(
        kept.iter()
            .map(|s| s.step.step_id.as_str())
            .collect::<Vec<_>>(),
        ["prepare"]
    );
    let (status, body) = call(
        &f,
        Method::POST,
        &format!("/api/v1/runs/{}/retry", f.succeeded_run),
        key,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    // Replay: a new run, same workflow and trigger.
    let (status, replayed) = call(
        &f,
        Method::POST,
        &format!("/api/v1/runs/{}/replay", f.succeeded_run),
        key,
    )
    .await;
    assert_eq!(status, 202, "{replayed}");
    assert_ne!(replayed["id"], f.succeeded_run.as_str());
    let original = f.store.run(&f.succeeded_run).await.unwrap().unwrap();
    let copy = f
        .store
        .run(replayed["id"].as_str().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (copy.workflow, copy.trigger, copy.status.as_str()),
        (original.workflow, original.trigger, "queued")
    );

    // Events: list, show with its runs.
    let (_, events) = call(&f, Method::GET, "/api/v1/events?type=issues", key).await;
    assert_eq!(events["events"].as_array().unwrap().len(), 2, "{events}");
    let (_, page) = call(&f, Method::GET, "/api/v1/events?limit=1", key).await;
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let (_, older) = call(
        &f,
        Method::GET,
        &format!("/api/v1/events?limit=1&cursor={cursor}"),
        key,
    )
    .await;
    assert_eq!(older["events"].as_array().unwrap().len(), 1);
    assert_ne!(older["events"][0]["id"], page["events"][0]["id"]);
    let (status, event) = call(&f, Method::GET, &format!("/api/v1/events/{}", f.event), key).await;
    assert_eq!(status, 200, "{event}");
    assert_eq!(event["event_id"], "delivery-1");
    assert_eq!(event["payload"]["issue"]["number"], 1);
    assert_eq!(event["runs"][0]["id"], f.succeeded_run.as_str());
    assert_eq!(
        call(&f, Method::GET, "/api/v1/events/abc", key).await.0,
        404
    );
    assert_eq!(
        call(&f, Method::GET, "/api/v1/events/999999", key).await.0,
        404
    );

    // Workflows: list, show, switch off and on (stored, and seen by the engine).
    let (_, workflows) = call(&f, Method::GET, "/api/v1/workflows", key).await;
    let loaded = f.catalog.current().workflows.len();
    assert!(loaded >= 4);
    assert_eq!(workflows.as_array().unwrap().len(), loaded, "{workflows}");
    let (status, workflow) = call(
        &f,
        Method::GET,
        &format!("/api/v1/workflows/{WORKFLOW}"),
        key,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(workflow["webhook_path"], format!("/hooks/{WORKFLOW}"));
    assert_eq!(workflow["enabled"], true);
    let (status, off) = call(
        &f,
        Method::POST,
        &format!("/api/v1/workflows/{WORKFLOW}/disable"),
        key,
    )
    .await;
    assert_eq!(
        (
            status,
            off["enabled"].as_bool(),
            off["enabled_in_spec"].as_bool()
        ),
        (200, Some(false), Some(true))
    );
    let plan = f.catalog.current().workflows[WORKFLOW].clone();
    assert!(!f.catalog.is_enabled(&plan));
    assert_eq!(
        f.store.workflow_switches().await.unwrap(),
        [(WORKFLOW.to_string(), false)]
    );
    let (_, on) = call(
        &f,
        Method::POST,
        &format!("/api/v1/workflows/{WORKFLOW}/enable"),
        key,
    )
    .await;
    assert_eq!(on["enabled"], true);
    assert!(f.catalog.is_enabled(&plan));
    let (_, cron) = call(
        &f,
        Method::GET,
        "/api/v1/workflows/weekday-payments-digest",
        key,
    )
    .await;
    assert!(
        cron["next_firing"].as_i64().unwrap() > switchyard::store::now_ms(),
        "{cron}"
    );
    assert_eq!(
        call(&f, Method::GET, "/api/v1/workflows/nope", key).await.0,
        404
    );

    // Links of the key's tenant.
    let (status, links) = call(
        &f,
        Method::GET,
        "/api/v1/links?key_prefix=appointment:",
        key,
    )
    .await;
    assert_eq!(status, 200, "{links}");
    assert_eq!(links[0]["external_id"], "issue-42", "{links}");

    // Summary over the last 24 hours.
    let (status, summary) = call(&f, Method::GET, "/api/v1/summary", key).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        summary["runs"],
        json!({ "queued": 2, "running": 0, "succeeded": 1, "failed": 0, "total": 3 })
    );
    assert_eq!(summary["error_rate"], 0.0);
    assert_eq!(summary["events"], 2);
    assert_eq!(summary["connections"], json!({ "active": 1 }));
    assert_eq!(
        (
            summary["workflows"].as_i64(),
            summary["workflows_enabled"].as_i64()
        ),
        (Some(loaded as i64), Some(loaded as i64))
    );
    assert_eq!(
        call(&f, Method::GET, "/api/v1/summary?hours=0", key)
            .await
            .0,
        400
    );
    t.cleanup().await;
}

/// Every route of the OpenAPI document, called with another tenant's admin key and the
/// default tenant's resource names: a 404 for each resource, nothing of the default tenant
/// in any list, and nothing of it changed afterwards. Without a key, every route is a 401.
async fn every_route_is_tenant_scoped(t: TestStore) {
    let f = fixture(t.store.clone()).await;
    let document: Value = serde_json::from_str(&switchyard::server::rest::openapi_json()).unwrap();
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{:?}", paths.keys());
    let theirs = [
        f.failed_run.as_str(),
        f.succeeded_run.as_str(),
        "acme-github",
        WORKFLOW,
        "appointment:default-only",
    ];
    let mut checked = 0;
    for (template, operations) in paths {
        for method in operations.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let path = template.replace("{name}", "acme-github").replace(
                "{id}",
                &if template.starts_with("/api/v1/runs") {
                    f.failed_run.clone()
                } else if template.starts_with("/api/v1/events") {
                    f.event.to_string()
                } else if template.starts_with("/api/v1/workflows") {
                    WORKFLOW.to_string()
                } else {
                    "github".to_string()
                },
            );
            if template == "/api/v1/openapi.json" {
                continue;
            }
            let (status, body) = call(&f, method.clone(), &path, None).await;
            assert_eq!(
                (status, body["error"]["code"].as_str()),
                (401, Some("unauthorized")),
                "{method} {path}"
            );
            let (status, body) = call(&f, method.clone(), &path, Some(&f.other_key)).await;
            checked += 1;
            let text = body.to_string();
            // Routes that act in the key's own tenant by name (`authorize` may start a new
            // connection of that name) or on the shared catalog are checked like lists.
            let own_tenant =
                template.starts_with("/api/v1/connectors/") || template.ends_with("/authorize");
            if template.contains('{') && !own_tenant {
                assert_eq!(
                    status, 404,
                    "{method} {path} with another tenant's key: {body}"
                );
                assert_eq!(body["error"]["code"], "not_found");
            } else {
                // Lists, the catalog, creating in one's own tenant: never the other's data.
                assert!(status < 500, "{method} {path}: {body}");
                for id in theirs {
                    assert!(!text.contains(id), "{method} {path} shows {id}: {body}");
                }
            }
        }
    }
    assert!(checked >= 19, "{checked} routes checked");
    // Nothing of the default tenant changed.
    let failed = f.store.run(&f.failed_run).await.unwrap().unwrap();
    assert_eq!(failed.status, "failed");
    assert!(
        f.store
            .connection("default", "acme-github")
            .await
            .unwrap()
            .is_some()
    );
    assert!(f.store.workflow_switches().await.unwrap().is_empty());
    assert_eq!(f.store.runs(None, 100).await.unwrap().len(), 2);
    t.cleanup().await;
}

#[tokio::test]
async fn every_route_is_tenant_scoped_on_sqlite() {
    every_route_is_tenant_scoped(TestStore::sqlite().await).await;
}

#[tokio::test]
async fn every_route_is_tenant_scoped_on_postgres() {
    if let Some(url) = postgres_url("REST tenant isolation") {
        every_route_is_tenant_scoped(TestStore::postgres(&url).await).await;
    }
}

/// `POST /api/v1/workflows/{id}/runs` starts a manual workflow with checked input; other
/// triggers and bad input are refused and queue nothing.
#[tokio::test]
async fn a_manual_workflow_is_started_through_the_api_with_checked_input() {
    let t = TestStore::sqlite().await;
    let f = fixture(t.store.clone()).await;
    let post = |path: String, body: &'static str| {
        let request = reqwest::Client::new()
            .post(format!("{}{path}", f.base))
            .bearer_auth(&f.key)
            .header("content-type", "application/json")
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            (status, body)
        }
    };
    let before = f.store.runs(None, 100).await.unwrap().len();
    let (status, body) = post("/api/v1/workflows/notify-failure/runs".into(), "{}").await;
    assert_eq!(status, 400, "{body}");
    let message = body.to_string();
    assert!(
        message.contains("`workflow` is required") && message.contains("`run_id` is required"),
        "{message}"
    );
    let (status, body) = post(
        "/api/v1/workflows/notify-failure/runs".into(),
        r#"{"workflow": "w", "run_id": "r-1", "colour": "red"}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("no input `colour`"), "{body}");
    let (status, body) = post("/api/v1/workflows/notify-failure/runs".into(), "[1]").await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = post(format!("/api/v1/workflows/{WORKFLOW}/runs"), "{}").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        f.store.runs(None, 100).await.unwrap().len(),
        before,
        "nothing queued"
    );

    let (status, body) = post(
        "/api/v1/workflows/notify-failure/runs".into(),
        r#"{"workflow": "w", "run_id": "r-1"}"#,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    let id = body["run_id"].as_str().unwrap();
    let run = f.store.run(id).await.unwrap().unwrap();
    assert_eq!(run.workflow, "notify-failure");
    assert_eq!(
        run.trigger["payload"],
        json!({"workflow": "w", "run_id": "r-1", "error": null})
    );
    t.cleanup().await;
}
