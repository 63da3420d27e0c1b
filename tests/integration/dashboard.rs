//! The dashboard over HTTP (no browser): login and sessions, the security headers, CSRF
//! on every state change, and tenant isolation (another tenant's run or connection is a
//! 404, and changes nothing). The browser walk is in `dashboard_browser.rs`.

use super::common::TestStore;
use std::sync::Arc;
use switchyard::connections::{ConnectionService, NewConnection};
use switchyard::secrets::{Keyring, MasterKey};
use switchyard::server::dashboard::auth::create_user;
use switchyard::store::{NewRun, Store};

const PASSWORD: &str = "a long enough password";

struct Site {
    base: String,
    store: Store,
    run: String,
}

async fn site(store: Store) -> Site {
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
    secrets.insert("webhook_secret".into(), "whsec-0123456789abcdef".into());
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
    let run = store
        .queue_run(&NewRun {
            workflow: "notify-failure".into(),
            spec_hash: catalog.workflows["notify-failure"].content_hash.clone(),
            trigger: serde_json::json!({ "payload": { "workflow": "w", "run_id": "r" } }),
        })
        .await
        .unwrap();
    // new-issues-digest polls through acme-github: its first poll is the connection's sync.
    store
        .commit_poll(
            "new-issues-digest",
            None,
            Some(&serde_json::json!("2026-01-01T00:00:00Z")),
            &[],
            std::time::Duration::from_secs(60),
            false,
        )
        .await
        .unwrap();
    // A journaled step with its input: shown on the run page, the token masked.
    store
        .record_step(
            &run,
            &switchyard::store::StepRecord {
                step_id: "alert".into(),
                status: "failed".into(),
                attempts: 2,
                output: None,
                error: Some("HTTP 500 from slack".into()),
                input: Some(
                    serde_json::json!({ "channel": "#ops-room", "api_token": "tok-secret-1" }),
                ),
            },
            switchyard::store::now_ms(),
        )
        .await
        .unwrap();
    create_user(&store, "ana", "default", PASSWORD)
        .await
        .unwrap();
    create_user(&store, "bob", "b", PASSWORD).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut app = switchyard::server::AppState::live(switchyard::plan::LiveCatalog::new(catalog));
    app.store = Some(store.clone());
    app.oauth = Some(switchyard::oauth::OAuthFlow {
        connections: service,
        http: Arc::new(switchyard::interpret::ReqwestClient::new().unwrap()),
    });
    tokio::spawn(switchyard::server::run(
        listener,
        app,
        std::future::pending(),
    ));
    Site { base, store, run }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in; returns the session cookie and the session's CSRF token (read from a page).
async fn log_in(site: &Site, user: &str) -> (String, String) {
    let login = client()
        .post(format!("{}/login", site.base))
        .header("cookie", "sy_login=t0k")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf=t0k&username={user}&password=a+long+enough+password&next=%2F"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("sy_session="))
        .unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("Secure") && cookie.contains("SameSite=Lax")
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let page = get(site, &session, "/connections").await.1;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    (session, csrf)
}

async fn get(site: &Site, cookie: &str, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let response = client()
        .get(format!("{}{path}", site.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

async fn post(site: &Site, cookie: &str, path: &str, form: &str) -> (u16, String) {
    let response = client()
        .post(format!("{}{path}", site.base))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn sessions_headers_csrf_and_tenants() {
    for t in TestStore::all("the dashboard's sessions, CSRF and tenants").await {
        check_site(t).await;
    }
}

async fn check_site(t: TestStore) {
    let site = site(t.store.clone()).await;

    // Without a session every page sends to the login, which refuses a wrong password.
    let (status, _, headers) = get(&site, "", "/runs").await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/login?next=%2Fruns");
    let wrong = client()
        .post(format!("{}/login", site.base))
        .header("cookie", "sy_login=t0k")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("csrf=t0k&username=ana&password=nope")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    assert!(
        wrong
            .headers()
            .get_all("set-cookie")
            .iter()
            .all(|c| !c.to_str().unwrap().starts_with("sy_session="))
    );
    // A login form without its cookie's token is refused too (login CSRF).
    let forged = client()
        .post(format!("{}/login", site.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf=t0k&username=ana&password={PASSWORD}"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 403);

    let (ana, ana_csrf) = log_in(&site, "ana").await;
    // Every page: 200, HTML, the CSP without inline scripts, no framing, no caching.
    for path in [
        "/",
        "/connections",
        "/catalog",
        "/workflows",
        "/runs",
        "/events",
        "/connections/new?connector=slack",
        &format!("/runs/{}", site.run),
    ] {
        let (status, body, headers) = get(&site, &ana, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(
            !body.contains("<script>") && !body.contains(" onclick="),
            "{path}"
        );
        assert!(
            !body.contains("whsec-0123456789abcdef"),
            "{path} shows a secret"
        );
    }
    let (_, connections, _) = get(&site, &ana, "/connections").await;
    assert!(connections.contains("acme-github"));
    assert!(
        connections.contains("just now"),
        "no last sync: {connections}"
    );
    let (_, run_page, _) = get(&site, &ana, &format!("/runs/{}", site.run)).await;
    assert!(run_page.contains("#ops-room") && run_page.contains("HTTP 500 from slack"));
    assert!(
        !run_page.contains("tok-secret-1"),
        "a token in a step input is shown"
    );

    // State changes are POSTs with the session's CSRF token: without it, 403 and nothing
    // changes; a GET on the same path is not a way around it.
    let (status, _) = post(
        &site,
        &ana,
        "/workflows/notify-failure/disable",
        "csrf=wrong",
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(&site, &ana, "/workflows/notify-failure/disable", "").await;
    assert_eq!(status, 403);
    let (status, _, _) = get(&site, &ana, "/workflows/notify-failure/disable").await;
    assert_eq!(status, 405);
    assert!(
        t.store.workflow_switches().await.unwrap().is_empty(),
        "a refused form changed a switch"
    );
    let (status, _) = post(
        &site,
        &ana,
        "/workflows/notify-failure/disable",
        &format!("csrf={ana_csrf}"),
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(
        t.store.workflow_switches().await.unwrap(),
        vec![("notify-failure".to_string(), false)]
    );

    // Another tenant's user: the default tenant's run and connection do not exist.
    let (bob, bob_csrf) = log_in(&site, "bob").await;
    let (status, body, _) = get(&site, &bob, &format!("/runs/{}", site.run)).await;
    assert_eq!(status, 404, "{body}");
    let (_, connections, _) = get(&site, &bob, "/connections").await;
    assert!(!connections.contains("acme-github"));
    let (status, _, _) = get(&site, &bob, "/connections/acme-github/disconnect").await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &site,
        &bob,
        "/connections/acme-github/disconnect",
        &format!("csrf={bob_csrf}"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &site,
        &bob,
        &format!("/runs/{}/replay", site.run),
        &format!("csrf={bob_csrf}"),
    )
    .await;
    assert_eq!(status, 404);
    // Ana's token does not work in Bob's session.
    let (status, _) = post(
        &site,
        &bob,
        "/workflows/notify-failure/enable",
        &format!("csrf={ana_csrf}"),
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        site.store
            .connection("default", "acme-github")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        site.store.runs(None, 10).await.unwrap().len(),
        1,
        "nothing replayed"
    );

    // Logging out ends the session on the server.
    let (status, _) = post(&site, &ana, "/logout", &format!("csrf={ana_csrf}")).await;
    assert_eq!(status, 303);
    let (status, _, _) = get(&site, &ana, "/runs").await;
    assert_eq!(status, 303);
    t.cleanup().await;
}

/// The counters behind the overview and the workflows page stay exact through a run's
/// life: finished, retried (uncounted), finished again, and deleted by retention.
#[tokio::test]
async fn finished_run_counters_follow_every_status_change() {
    for t in TestStore::all("the dashboard's run counters").await {
        let store = &t.store;
        let since = switchyard::store::now_ms() - 3_600_000;
        let total = |counts: Vec<(i64, String, String, i64)>, status: &str| -> i64 {
            counts
                .iter()
                .filter(|c| c.1 == "w" && c.2 == status)
                .map(|c| c.3)
                .sum()
        };
        let run = store
            .queue_run(&NewRun {
                workflow: "w".into(),
                spec_hash: "h".into(),
                trigger: serde_json::json!({}),
            })
            .await
            .unwrap();
        let claimed = store
            .claim_run("test", std::time::Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.id, run);
        assert_eq!(
            total(
                store.finished_counts("default", since).await.unwrap(),
                "failed"
            ),
            0
        );
        store.finish_run(&run, false, Some("boom")).await.unwrap();
        let counts = store.finished_counts("default", since).await.unwrap();
        assert_eq!(
            (total(counts.clone(), "failed"), total(counts, "succeeded")),
            (1, 0),
            "{}",
            t.backend
        );
        assert!(store.retry_run(&run).await.unwrap());
        assert_eq!(
            total(
                store.finished_counts("default", since).await.unwrap(),
                "failed"
            ),
            0,
            "{}",
            t.backend
        );
        store
            .claim_run("test", std::time::Duration::from_secs(60))
            .await
            .unwrap()
            .unwrap();
        store.finish_run(&run, true, None).await.unwrap();
        let counts = store.finished_counts("default", since).await.unwrap();
        assert_eq!(
            (total(counts.clone(), "failed"), total(counts, "succeeded")),
            (0, 1),
            "{}",
            t.backend
        );
        assert!(
            store
                .finished_counts("other", since)
                .await
                .unwrap()
                .is_empty()
        );
        // Retention deletes it (older than zero seconds, at a time after it finished).
        store
            .prune(
                switchyard::store::now_ms() + 10_000,
                std::time::Duration::ZERO,
                0,
            )
            .await
            .unwrap();
        assert_eq!(
            total(
                store.finished_counts("default", since).await.unwrap(),
                "succeeded"
            ),
            0,
            "{}",
            t.backend
        );
        t.cleanup().await;
    }
}
