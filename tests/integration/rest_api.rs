//! The REST API: every route needs a key, each key reaches its own tenant only (another
//! tenant's connection is a 404, like a missing one), errors are JSON without internals,
//! and no response carries a secret.

use std::sync::Arc;
use switchyard::access::{Scope, create_key};
use switchyard::connections::{ConnectionService, NewConnection};
use switchyard::secrets::{Keyring, MasterKey};
use switchyard::store::Store;

const SECRET_A: &str = "whsec-tenant-a-0123456789";
const SECRET_B: &str = "whsec-tenant-b-0123456789";

#[tokio::test]
async fn tenants_see_only_their_own_connections() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (compiled, _) = switchyard::compile::compile_paths(&[root.join("connectors")]).unwrap();
    let catalog = compiled.catalog.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("switchyard.db"))
        .await
        .unwrap();
    let service = ConnectionService {
        store: store.clone(),
        keyring: Arc::new(Keyring::new(MasterKey::generate())),
    };
    for (tenant, name, secret) in [
        ("a", "gh-a", SECRET_A),
        ("b", "gh-b", SECRET_B),
        ("b", "shared", SECRET_B),
    ] {
        let mut secrets = serde_json::Map::new();
        secrets.insert("webhook_secret".into(), secret.into());
        service
            .add(
                &catalog,
                NewConnection {
                    tenant: tenant.into(),
                    name: name.into(),
                    connector: "github".into(),
                    secrets,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
    }
    let (key_a, _) = create_key(&store, "a", Scope::Write, None, None)
        .await
        .unwrap();
    let (key_b_read, _) = create_key(&store, "b", Scope::Read, None, None)
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut app = switchyard::server::AppState::new(catalog);
    app.store = Some(store.clone());
    app.oauth = Some(switchyard::oauth::OAuthFlow {
        connections: service.clone(),
        http: Arc::new(switchyard::interpret::ReqwestClient::new().unwrap()),
    });
    tokio::spawn(switchyard::server::run(
        listener,
        app,
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, key: Option<&str>| {
        let mut request = client.request(method, format!("{base}{path}"));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let body = r.text().await.unwrap();
            for secret in [SECRET_A, SECRET_B] {
                assert!(!body.contains(secret), "a secret in a response: {body}");
            }
            (status, body)
        }
    };
    use reqwest::Method;
    let routes = [
        (Method::GET, "/api/v1/connectors"),
        (Method::GET, "/api/v1/connections"),
        (Method::GET, "/api/v1/connections/gh-a"),
        (Method::DELETE, "/api/v1/connections/gh-a"),
        (Method::POST, "/api/v1/connections"),
        (Method::POST, "/api/v1/connections/gh-a/check"),
    ];
    for (method, path) in &routes {
        let (status, body) = call(method.clone(), path, None).await;
        assert_eq!(status, 401, "{method} {path}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"]["code"], "unauthorized");
    }

    let (status, body) = call(Method::GET, "/api/v1/connections", Some(&key_a)).await;
    assert_eq!(status, 200);
    let names: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(&body)
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["gh-a"]);
    let (status, body) = call(Method::GET, "/api/v1/connections/gh-a", Some(&key_a)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"secrets_stored\":true"), "{body}");

    // Another tenant's connection does not exist for this key, whatever the method.
    for (method, path) in [
        (Method::GET, "/api/v1/connections/gh-b"),
        (Method::DELETE, "/api/v1/connections/gh-b"),
    ] {
        let (status, body) = call(method.clone(), path, Some(&key_a)).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
    }
    assert!(
        store.connection("b", "gh-b").await.unwrap().is_some(),
        "B's connection is intact"
    );
    let (status, _) = call(Method::GET, "/api/v1/connections/gh-a", Some(&key_b_read)).await;
    assert_eq!(status, 404);

    // A read key cannot delete; a write key deletes its own tenant's connection.
    let (status, body) = call(
        Method::DELETE,
        "/api/v1/connections/gh-b",
        Some(&key_b_read),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = call(Method::DELETE, "/api/v1/connections/gh-a", Some(&key_a)).await;
    assert_eq!(status, 204);
    assert!(store.connection("a", "gh-a").await.unwrap().is_none());

    // Create (secrets write-only), conflicts and bad input as JSON errors, then check.
    let github = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/user"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({"login": "a"})),
        )
        .mount(&github)
        .await;
    let create = |body: serde_json::Value, key: String| {
        let request = client
            .post(format!("{base}/api/v1/connections"))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string());
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let new = serde_json::json!({
        "name": "gh-new", "connector": "github", "auth_mode": "bearer", "base_url": github.uri(),
        "secrets": { "token": SECRET_A }
    });
    let (status, body) = create(new.clone(), key_a.clone()).await;
    assert_eq!(status, 201, "{body}");
    assert!(
        !body.contains(SECRET_A) && body.contains("\"secrets_stored\":true"),
        "{body}"
    );
    assert_eq!(create(new.clone(), key_a.clone()).await.0, 409);
    assert_eq!(create(new.clone(), key_b_read.clone()).await.0, 403);
    for bad in [
        serde_json::json!({ "name": "x", "connector": "githb" }),
        serde_json::json!({ "name": "x", "connector": "github", "config": { "token": SECRET_A } }),
        serde_json::json!({ "name": "x", "connector": "github", "extra": 1 }),
        serde_json::json!({ "name": "", "connector": "github" }),
    ] {
        let (status, body) = create(bad.clone(), key_a.clone()).await;
        assert_eq!(status, 400, "{bad}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"]["code"], "invalid_request", "{body}");
        assert!(!body.contains(SECRET_A), "{body}");
    }
    let broken = client
        .post(format!("{base}/api/v1/connections"))
        .bearer_auth(&key_a)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    let (status, body) = call(
        Method::POST,
        "/api/v1/connections/gh-new/check",
        Some(&key_a),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let check: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (check["outcome"].as_str(), check["status"].as_str()),
        (Some("passed"), Some("active"))
    );
    let (status, _) = call(Method::POST, "/api/v1/connections/gh-b/check", Some(&key_a)).await;
    assert_eq!(status, 404, "another tenant's connection cannot be checked");

    // Edit: secrets stay write-only and are sealed again; a secret given as config is a 400.
    let patch = |body: serde_json::Value, key: String| {
        let request = client
            .patch(format!("{base}/api/v1/connections/gh-new"))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string());
        async move {
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let before = store.connection("a", "gh-new").await.unwrap().unwrap();
    let (status, body) = patch(
        serde_json::json!({ "secrets": { "token": SECRET_B }, "base_url": github.uri() }),
        key_a.clone(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(SECRET_B), "{body}");
    let after = store.connection("a", "gh-new").await.unwrap().unwrap();
    assert_ne!(
        before.secrets, after.secrets,
        "the new secret is sealed in place"
    );
    assert!(!after.secrets.unwrap().contains(SECRET_B));
    let (status, body) = patch(
        serde_json::json!({ "config": { "token": SECRET_B } }),
        key_a.clone(),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(!body.contains(SECRET_B), "{body}");
    assert_eq!(
        patch(serde_json::json!({}), key_b_read.clone()).await.0,
        403
    );

    let (status, body) = call(Method::GET, "/api/v1/connectors", Some(&key_b_read)).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"id\":\"github\""), "{body}");
    let (status, body) = call(Method::GET, "/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"/api/v1/connections/{name}\""), "{body}");
}
