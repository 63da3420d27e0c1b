//! OAuth 2.0 against a fake authorization server (wiremock): the code flow with state and
//! PKCE, single-use and expiring state, tokens sealed at rest, refresh ahead of expiry as
//! one request for fifty concurrent callers, rotated refresh tokens stored, and
//! `invalid_grant` turning the connection to `needs_reauth`.

use std::collections::HashMap;
use std::sync::Arc;
use switchyard::compile::{SourceFile, compile_sources};
use switchyard::connections::ConnectionService;
use switchyard::interpret::auth::TokenSource;
use switchyard::interpret::{HttpClient, ReqwestClient};
use switchyard::oauth::{OAuthError, OAuthFlow, StoredTokenSource, TokenSet};
use switchyard::plan::Catalog;
use switchyard::secrets::{Keyring, MasterKey};
use switchyard::store::{OAuthState, Store, new_connection_row};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const ACCESS: &str = "at-first-0123456789abcdef";
const REFRESH: &str = "rt-first-0123456789abcdef";

fn catalog(provider: &str) -> Catalog {
    let yaml = format!(
        "connector: acme\nname: Acme\ndescription: OAuth test provider.\nbase_url: {provider}/api\n\
         auth:\n  oauth2:\n    authorize_url: {provider}/authorize\n    token_url: {provider}/token\n\
         \x20   revocation_url: {provider}/revoke\n\
         \x20   scopes: [read, write]\n    client_id: acme-client\n    client_secret: acme-secret\n\
         actions:\n  me:\n    description: Who am I.\n    method: GET\n    path: /me\n    output: {{ id: $.id }}\n"
    );
    let compiled = compile_sources(&[SourceFile {
        path: "acme.yaml".into(),
        text: yaml,
    }]);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}",
        compiled.diagnostics
    );
    compiled.catalog.unwrap()
}

async fn setup(dir: &std::path::Path) -> (ConnectionService, Arc<dyn HttpClient>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let store = Store::open_sqlite(&dir.join("switchyard.db"))
        .await
        .unwrap();
    let service = ConnectionService {
        store,
        keyring: Arc::new(Keyring::new(MasterKey::generate())),
    };
    (service, Arc::new(ReqwestClient::new().unwrap()))
}

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn form(request: &Request) -> HashMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn code_flow_with_pkce_and_single_use_state() {
    let provider = MockServer::start().await;
    let catalog = catalog(&provider.uri());
    let dir = tempfile::tempdir().unwrap();
    let (service, http) = setup(dir.path()).await;
    let flow = OAuthFlow {
        connections: service.clone(),
        http,
    };
    let redirect = "http://127.0.0.1:1/oauth/callback";
    let url = flow
        .start(&catalog, "default", "acme", "main", redirect)
        .await
        .unwrap();
    assert!(
        url.starts_with(&format!("{}/authorize?", provider.uri())),
        "{url}"
    );
    let q = query(&url);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "acme-client");
    assert_eq!(q["redirect_uri"], redirect);
    assert_eq!(q["scope"], "read write");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["state"].len() >= 43);
    let challenge = q["code_challenge"].clone();

    // The token endpoint checks the code, the redirect URI, the client and that the
    // verifier hashes to the challenge sent in the authorize URL.
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=authorization_code"))
        .and(move |request: &Request| {
            use base64::Engine as _;
            use sha2::Digest;
            let f = form(request);
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let hashed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()));
            f.get("code").map(String::as_str) == Some("the-code")
                && f.get("redirect_uri").map(String::as_str) == Some(redirect)
                && hashed == challenge
                && request
                    .headers
                    .get("authorization")
                    .is_some_and(|h| h.to_str().unwrap_or("").starts_with("Basic "))
        })
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600,
            "scope": "read write", "token_type": "bearer"
        })))
        .expect(1)
        .mount(&provider)
        .await;

    let state = q["state"].clone();
    let row = flow.callback(&catalog, &state, "the-code").await.unwrap();
    assert_eq!((row.name.as_str(), row.status.as_str()), ("main", "active"));
    let stored = service
        .store
        .connection("default", "main")
        .await
        .unwrap()
        .unwrap();
    let tokens = service.tokens(&stored).unwrap().unwrap();
    assert_eq!(tokens.access_token, ACCESS);
    assert_eq!(tokens.refresh_token.as_deref(), Some(REFRESH));
    assert_eq!(tokens.scope.as_deref(), Some("read write"));
    let left = tokens.expires_at.unwrap() - switchyard::store::now_ms();
    assert!((3_590_000..=3_600_000).contains(&left), "{left}");

    // The state works once; an unknown one and an expired one do not work at all.
    assert!(matches!(
        flow.callback(&catalog, &state, "the-code").await,
        Err(OAuthError::UnknownState)
    ));
    assert!(matches!(
        flow.callback(&catalog, "forged-state", "x").await,
        Err(OAuthError::UnknownState)
    ));
    use sha2::Digest;
    service
        .store
        .insert_oauth_state(&OAuthState {
            state_hash: hex::encode(sha2::Sha256::digest(b"old-state")),
            tenant: "default".into(),
            connector: "acme".into(),
            connection: "other".into(),
            verifier: None,
            redirect_uri: redirect.into(),
            expires_at: switchyard::store::now_ms() - 1,
        })
        .await
        .unwrap();
    assert!(matches!(
        flow.callback(&catalog, "old-state", "x").await,
        Err(OAuthError::UnknownState)
    ));

    // Disconnecting revokes the refresh token at the provider (RFC 7009), then deletes.
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains(format!("token={REFRESH}").as_str()))
        .and(body_string_contains("token_type_hint=refresh_token"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&provider)
        .await;
    let revoked = flow.disconnect(&catalog, "default", "main").await.unwrap();
    assert!(
        matches!(revoked, Some(switchyard::oauth::Revocation::Revoked)),
        "{revoked:?}"
    );
    assert!(
        service
            .store
            .connection("default", "main")
            .await
            .unwrap()
            .is_none()
    );

    // No plaintext token in the database files.
    let mut bytes = std::fs::read(dir.path().join("switchyard.db")).unwrap();
    bytes.extend(std::fs::read(dir.path().join("switchyard.db-wal")).unwrap_or_default());
    for secret in [ACCESS, REFRESH] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "plaintext {secret} in the database"
        );
    }
}

#[tokio::test]
async fn fifty_runs_on_an_expiring_token_cause_one_refresh_and_invalid_grant_needs_reauth() {
    // A recorder for this test's thread (the test runtime runs every task on it).
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let metrics = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);
    refresh_scenario(super::common::TestStore::sqlite().await).await;
    // One refresh for fifty callers, then the `invalid_grant` one.
    let text = metrics.render();
    for line in [
        r#"switchyard_token_refreshes_total{connector="acme",outcome="refreshed"} 1"#,
        r#"switchyard_token_refreshes_total{connector="acme",outcome="needs_reauth"} 1"#,
    ] {
        assert!(text.contains(line), "{line} not in:\n{text}");
    }
}

#[tokio::test]
async fn token_refresh_on_postgres() {
    if let Some(url) = super::common::postgres_url("the token refresh test") {
        refresh_scenario(super::common::TestStore::postgres(&url).await).await;
    }
}

async fn refresh_scenario(test_store: super::common::TestStore) {
    let provider = MockServer::start().await;
    let catalog = catalog(&provider.uri());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let service = ConnectionService {
        store: test_store.store.clone(),
        keyring: Arc::new(Keyring::new(MasterKey::generate())),
    };
    let http: Arc<dyn HttpClient> = Arc::new(ReqwestClient::new().unwrap());
    // Expires in 60 s: inside the 2-minute refresh-ahead window.
    let tokens = TokenSet {
        access_token: ACCESS.into(),
        refresh_token: Some(REFRESH.into()),
        expires_at: Some(switchyard::store::now_ms() + 60_000),
        scope: None,
        extra: Default::default(),
    };
    let mut row = new_connection_row("default", "main", "acme", Default::default());
    row.auth_mode = Some("oauth2".into());
    let (keyring, sealed_tokens) = (service.keyring.clone(), tokens.clone());
    let row = service
        .store
        .upsert_oauth_connection(row, move |id| {
            use switchyard::secrets::seal;
            let aad = format!("switchyard:connection:{id}:tokens");
            seal(
                &keyring,
                aad.as_bytes(),
                serde_json::to_string(&sealed_tokens).unwrap().as_bytes(),
            )
        })
        .await
        .unwrap();
    let plan = match &catalog.connectors["acme"].auth[0] {
        switchyard::plan::AuthPlan::OAuth2(p) => p.clone(),
        _ => unreachable!(),
    };
    let connection = switchyard::interpret::Connection::new(
        "main",
        catalog.connectors["acme"].clone(),
        Default::default(),
    )
    .unwrap();
    // A second source with the same stored tokens: another instance on the same database.
    let other_instance = StoredTokenSource::new(
        row.id.clone(),
        "acme".into(),
        plan.clone(),
        switchyard::runtime::connection_vars(&connection),
        tokens.clone(),
        service.clone(),
        http.clone(),
    );
    let source = Arc::new(StoredTokenSource::new(
        row.id.clone(),
        "acme".into(),
        plan,
        switchyard::runtime::connection_vars(&connection),
        tokens,
        service.clone(),
        http,
    ));

    let refresh = Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains(
            format!("refresh_token={REFRESH}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(std::time::Duration::from_millis(200))
                .set_body_json(serde_json::json!({
                    "access_token": "at-second", "refresh_token": "rt-second", "expires_in": 3600
                })),
        )
        .expect(1)
        .mount_as_scoped(&provider)
        .await;
    let callers: Vec<_> = (0..50)
        .map(|_| {
            let source = source.clone();
            tokio::spawn(async move { source.access_token().await })
        })
        .collect();
    for caller in callers {
        assert_eq!(caller.await.unwrap().unwrap(), "at-second");
    }
    // The other instance still holds the old tokens; it finds the refreshed ones stored
    // instead of refreshing again with a refresh token the provider rotated away.
    assert_eq!(other_instance.access_token().await.unwrap(), "at-second");
    drop(refresh); // verifies: exactly one refresh request
    let stored = service
        .store
        .connection("default", "main")
        .await
        .unwrap()
        .unwrap();
    let saved = service.tokens(&stored).unwrap().unwrap();
    assert_eq!(saved.access_token, "at-second");
    assert_eq!(
        saved.refresh_token.as_deref(),
        Some("rt-second"),
        "the rotated refresh token is stored"
    );

    // The provider rejects the token and refuses the refresh: needs_reauth, and no more
    // requests after that.
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_grant", "error_description": "Token has been revoked."
        })))
        .expect(1)
        .mount(&provider)
        .await;
    assert!(
        !source.rejected("at-second").await,
        "no usable token after invalid_grant"
    );
    let error = source.access_token().await.unwrap_err();
    assert!(error.contains("connected again"), "{error}");
    let stored = service
        .store
        .connection("default", "main")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, "needs_reauth");
    assert!(stored.last_error.unwrap().contains("invalid_grant"));
    // What the database holds for the connection: sealed tokens only.
    let rows = format!("{:?}", service.store.connections(None).await.unwrap());
    for token in [ACCESS, REFRESH, "at-second", "rt-second"] {
        assert!(
            !rows.contains(token),
            "{} stores a token in clear",
            test_store.backend
        );
    }
    drop(service);
    test_store.cleanup().await;
}

/// The callback page: connected, declined by the user, unknown state; readable pages,
/// never a 500 and never a token.
#[tokio::test]
async fn callback_pages_are_readable() {
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600
        })))
        .mount(&provider)
        .await;
    let catalog = catalog(&provider.uri());
    let dir = tempfile::tempdir().unwrap();
    let (service, http) = setup(dir.path()).await;
    let flow = OAuthFlow {
        connections: service.clone(),
        http,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let url = flow
        .start(
            &catalog,
            "default",
            "acme",
            "main",
            &format!("{base}/oauth/callback"),
        )
        .await
        .unwrap();
    let state = query(&url)["state"].clone();
    let catalog_again = self::catalog(&provider.uri());
    let mut app = switchyard::server::AppState::new(catalog);
    app.oauth = Some(flow);
    tokio::spawn(switchyard::server::run(
        listener,
        app,
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let get = |q: String| {
        let client = client.clone();
        let url = format!("{base}/oauth/callback?{q}");
        async move {
            let r = client.get(url).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };

    let (status, body) = get(format!("state={state}&error=access_denied")).await;
    assert_eq!(status, 400);
    assert!(body.contains("declined"), "{body}");
    // The declined state is gone: the same link cannot complete later.
    let (status, body) = get(format!("state={state}&code=c")).await;
    assert_eq!(status, 400);
    assert!(body.contains("unknown, used already or expired"), "{body}");

    let url = OAuthFlow {
        connections: service.clone(),
        http: Arc::new(ReqwestClient::new().unwrap()),
    }
    .start(
        &catalog_again,
        "default",
        "acme",
        "main",
        &format!("{base}/oauth/callback"),
    )
    .await
    .unwrap();
    let (status, body) = get(format!("state={}&code=the-code", query(&url)["state"])).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("is connected to acme"), "{body}");
    assert!(!body.contains(ACCESS) && !body.contains(REFRESH));
    let (status, _) = get("code=x".into()).await;
    assert_eq!(status, 400);
    let (status, body) = get("state=<script>&error=<b>x</b>".into()).await;
    assert_eq!(status, 400);
    assert!(
        !body.contains("<script>") && !body.contains("<b>"),
        "escaped: {body}"
    );
}

/// The client credentials grant: the connection's own client id and secret buy a token,
/// kept until shortly before it expires (one request for many calls).
#[tokio::test]
async fn client_credentials_token_is_fetched_once_and_reused() {
    let provider = MockServer::start().await;
    let uri = provider.uri();
    let yaml = format!(
        "connector: machine\nname: Machine\ndescription: Client credentials test provider.\nbase_url: {uri}/api\n\
         config:\n  client_id: {{ description: Client id. }}\n  client_secret: {{ description: Client secret., secret: true }}\n\
         auth:\n  oauth2_client_credentials:\n    token_url: {uri}/token\n    scopes: [jobs.read]\n\
         \x20   client_id: \"{{{{ config.client_id }}}}\"\n    client_secret: \"{{{{ secrets.client_secret }}}}\"\n\
         actions:\n  jobs:\n    description: Jobs.\n    method: GET\n    path: /jobs\n"
    );
    let compiled = compile_sources(&[SourceFile {
        path: "machine.yaml".into(),
        text: yaml,
    }]);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}",
        compiled.diagnostics
    );
    let catalog = compiled.catalog.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (service, http) = setup(dir.path()).await;
    let mut config = serde_json::Map::new();
    config.insert("client_id".into(), "machine-id".into());
    let mut secrets = serde_json::Map::new();
    secrets.insert("client_secret".into(), "machine-secret".into());
    service
        .add(
            &catalog,
            switchyard::connections::NewConnection {
                tenant: "default".into(),
                name: "m".into(),
                connector: "machine".into(),
                config,
                secrets,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    use base64::Engine as _;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("machine-id:machine-secret")
    );
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("scope=jobs.read"))
        .and(wiremock::matchers::header("authorization", basic.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": "cc-token", "expires_in": 3600
        })))
        .expect(1)
        .mount(&provider)
        .await;
    let connections = switchyard::connections::StoredConnections::load(
        service,
        switchyard::plan::LiveCatalog::new(catalog),
        http,
    )
    .await
    .unwrap();
    use switchyard::runtime::Connections;
    let connection = connections.get("m").expect("stored connection");
    let tokens = connection.tokens.clone().expect("a token source");
    for _ in 0..3 {
        assert_eq!(tokens.access_token().await.unwrap(), "cc-token");
    }
}

/// `/oauth/{connector}/connect` needs a `write` API key and connects in the key's tenant;
/// unknown, expired, revoked and read-only keys are refused with JSON errors.
#[tokio::test]
async fn connect_route_needs_a_write_key_and_uses_its_tenant() {
    use switchyard::access::{Scope, create_key};
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600
        })))
        .mount(&provider)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (service, http) = setup(dir.path()).await;
    let store = service.store.clone();
    let (write_key, _) = create_key(&store, "acme", Scope::Write, None, None)
        .await
        .unwrap();
    let (read_key, _) = create_key(&store, "acme", Scope::Read, None, None)
        .await
        .unwrap();
    let (revoked_key, revoked) = create_key(&store, "acme", Scope::Admin, None, None)
        .await
        .unwrap();
    assert!(store.revoke_api_key(&revoked.id).await.unwrap());
    let (expired_key, _) = create_key(
        &store,
        "acme",
        Scope::Admin,
        None,
        Some(std::time::Duration::from_millis(1)),
    )
    .await
    .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut app = switchyard::server::AppState::new(catalog(&provider.uri()));
    app.oauth = Some(OAuthFlow {
        connections: service.clone(),
        http,
    });
    app.store = Some(store.clone());
    app.public_url = Some(base.clone());
    tokio::spawn(switchyard::server::run(
        listener,
        app,
        std::future::pending(),
    ));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let connect = |key: Option<String>| {
        let mut request = client.get(format!("{base}/oauth/acme/connect?connection=main"));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let location = r
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (status, location, r.text().await.unwrap())
        }
    };
    for (key, status, code) in [
        (None, 401, "unauthorized"),
        (
            Some("sy_0123456789ab_nope".to_string()),
            401,
            "unauthorized",
        ),
        (Some("not-a-key".to_string()), 401, "unauthorized"),
        (Some(revoked_key.clone()), 401, "unauthorized"),
        (Some(expired_key.clone()), 401, "unauthorized"),
        (Some(read_key.clone()), 403, "forbidden"),
    ] {
        let (got, _, body) = connect(key.clone()).await;
        assert_eq!(got, status, "{key:?}: {body}");
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"]["code"], code, "{body}");
        for secret in [&write_key, &read_key, &revoked_key] {
            assert!(!body.contains(secret.as_str()));
        }
    }

    let (status, location, _) = connect(Some(write_key.clone())).await;
    assert_eq!(status, 303);
    let location = location.unwrap();
    assert!(
        location.starts_with(&format!("{}/authorize?", provider.uri())),
        "{location}"
    );
    let q = query(&location);
    assert_eq!(q["redirect_uri"], format!("{base}/oauth/callback"));
    let done = client
        .get(format!("{base}/oauth/callback?state={}&code=c", q["state"]))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(
        store.connection("acme", "main").await.unwrap().is_some(),
        "stored in the key's tenant"
    );
    assert!(store.connection("default", "main").await.unwrap().is_none());

    // The same as JSON for API clients: `POST /api/v1/connections/{name}/authorize` gives
    // the URL to send the user to (the connector comes from the stored connection).
    let authorize = |name: &str, body: serde_json::Value, key: &str| {
        let request = client
            .post(format!("{base}/api/v1/connections/{name}/authorize"))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_string());
        async move {
            let r = request.send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            (
                status,
                serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            )
        }
    };
    let (status, body) = authorize("main", serde_json::json!({}), &write_key).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_in"], 600);
    let url = body["authorize_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/authorize?", provider.uri())),
        "{url}"
    );
    let q = query(url);
    assert_eq!(q["code_challenge_method"], "S256");
    let done = client
        .get(format!("{base}/oauth/callback?state={}&code=c", q["state"]))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200, "a reconnect through the JSON route");
    // A new connection needs its connector; a wrong one is refused; a read key is not enough.
    let (status, body) = authorize("other", serde_json::json!({}), &write_key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, _) = authorize(
        "main",
        serde_json::json!({"connector": "github"}),
        &write_key,
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = authorize(
        "other",
        serde_json::json!({"connector": "nope"}),
        &write_key,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = authorize("other", serde_json::json!({"connector": "acme"}), &read_key).await;
    assert_eq!(status, 403);
    let (status, body) = authorize(
        "other",
        serde_json::json!({"connector": "acme"}),
        &write_key,
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// What an authorization granted reaches templates: `connection.scope` and the token
/// response fields the spec keeps (`connection.extra.NAME`), for connections loaded from
/// the store.
#[tokio::test]
async fn granted_scope_and_kept_token_fields_reach_action_templates() {
    let provider = MockServer::start().await;
    let yaml = format!(
        "connector: acme\nname: Acme\ndescription: OAuth test provider.\nbase_url: {p}/api\n\
         auth:\n  oauth2:\n    authorize_url: {p}/authorize\n    token_url: {p}/token\n\
         \x20   scopes: [read, write]\n    client_id: acme-client\n    client_secret: acme-secret\n\
         \x20   token_response: {{ extra: {{ team_id: $.team.id }} }}\n\
         actions:\n  me:\n    description: Who am I.\n    method: GET\n    path: /me\n\
         \x20   headers: {{ X-Team: \"{{{{ connection.team_id }}}}\", X-Scope: \"{{{{ connection.scope }}}}\" }}\n\
         \x20   output: {{ id: $.id }}\n",
        p = provider.uri()
    );
    let compiled = compile_sources(&[SourceFile {
        path: "acme.yaml".into(),
        text: yaml,
    }]);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}",
        compiled.diagnostics
    );
    let catalog = compiled.catalog.unwrap();
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600,
            "scope": "read write", "team": { "id": "T-42" }
        })))
        .mount(&provider)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(wiremock::matchers::header("x-team", "T-42"))
        .and(wiremock::matchers::header("x-scope", "read write"))
        .and(wiremock::matchers::header(
            "authorization",
            format!("Bearer {ACCESS}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({ "id": "u1" })))
        .expect(1)
        .mount(&provider)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (service, http) = setup(dir.path()).await;
    let flow = OAuthFlow {
        connections: service.clone(),
        http: http.clone(),
    };
    let url = flow
        .start(
            &catalog,
            "default",
            "acme",
            "main",
            "http://127.0.0.1:1/oauth/callback",
        )
        .await
        .unwrap();
    flow.callback(&catalog, &query(&url)["state"], "code")
        .await
        .unwrap();

    let live = switchyard::plan::LiveCatalog::new(catalog);
    let connections = switchyard::connections::StoredConnections::load(service, live, http.clone())
        .await
        .unwrap();
    use switchyard::runtime::Connections;
    let connection = connections.get("main").expect("loaded from the store");
    let interpreter = switchyard::interpret::Interpreter::new(http, Default::default());
    let mut sink = switchyard::interpret::CollectSink::default();
    let outcome = interpreter
        .call(
            &connection,
            &switchyard::interpret::Call {
                action: "me".into(),
                input: Default::default(),
                run: None,
                max_pages: None,
            },
            &mut sink,
        )
        .await;
    assert!(
        outcome.is_ok(),
        "{outcome:?}: {:?}",
        provider
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| (r.url.path().to_string(), r.headers.clone()))
            .collect::<Vec<_>>()
    );
}

/// Connecting a new connection renders the authorize URL with the connector's config
/// defaults (Microsoft's `tenant: common`), since no config is stored yet.
#[tokio::test]
async fn a_new_connection_is_authorized_with_the_config_defaults() {
    let yaml = "connector: ms\nname: MS\nbase_url: https://graph.example\nconfig:\n  tenant: { default: common }\nauth:\n  oauth2:\n    authorize_url: \"https://login.example/{{ config.tenant }}/authorize\"\n    token_url: \"https://login.example/{{ config.tenant }}/token\"\n    client_id: c\n    client_secret: s\n";
    let compiled = compile_sources(&[SourceFile {
        path: "ms.yaml".into(),
        text: yaml.into(),
    }]);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}",
        compiled.diagnostics
    );
    let catalog = compiled.catalog.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (service, http) = setup(dir.path()).await;
    let flow = OAuthFlow {
        connections: service,
        http,
    };
    let url = flow
        .start(
            &catalog,
            "default",
            "ms",
            "new-one",
            "http://127.0.0.1:1/oauth/callback",
        )
        .await
        .unwrap();
    assert!(
        url.starts_with("https://login.example/common/authorize?"),
        "{url}"
    );
}
