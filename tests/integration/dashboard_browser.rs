//! The dashboard in a real browser: Debian's headless Chromium driven over WebDriver
//! (chromedriver), against `switchyard serve` started as a user would, with fake
//! providers on wiremock. Walks the acceptance path: log in, add an API-key connection
//! and check it (active), a failing check (error and its message), disconnect, an OAuth
//! connect through a fake authorization server (active), and a failed run retried to
//! success. Saves a screenshot of each page (`SWITCHYARD_SCREENSHOTS`, default
//! `target/screenshots`).
//!
//! Skipped, saying so, when `chromium` or `chromedriver` is not installed (.ci/run installs
//! them). The WebDriver client is the few W3C commands the test needs, over reqwest.

use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PASSWORD: &str = "correct horse battery staple";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// Kills a child process when dropped (a failed assertion must not leave it running).
struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebDriver session.
struct Browser {
    http: reqwest::Client,
    base: String,
    shots: PathBuf,
}

impl Browser {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Json>) -> Json {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("chromedriver answers");
        let text = response.text().await.unwrap();
        let value: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
        if let Some(error) = value["value"]["error"].as_str() {
            panic!(
                "WebDriver {method} {path}: {error}: {}",
                value["value"]["message"]
            );
        }
        value["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits up to 10 s for an element.
    async fn find(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let response = self
                .http
                .post(format!("{}/element", self.base))
                .header("content-type", "application/json")
                .body(json!({ "using": "css selector", "value": css }).to_string())
                .send()
                .await
                .unwrap();
            let value: Json = serde_json::from_str(&response.text().await.unwrap()).unwrap();
            if let Some(id) = value["value"]["element-6066-11e4-a52e-4f735466cecf"].as_str() {
                return id.to_string();
            }
            if started.elapsed() > Duration::from_secs(10) {
                let source = self.call(reqwest::Method::GET, "/source", None).await;
                panic!(
                    "no element `{css}` at {}:\n{}",
                    self.url().await,
                    source.as_str().unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// An element's text; found again if the page reloaded meanwhile (auto-refresh).
    async fn text(&self, css: &str) -> String {
        for _ in 0..20 {
            let id = self.find(css).await;
            let response = self
                .http
                .get(format!("{}/element/{id}/text", self.base))
                .send()
                .await
                .unwrap();
            let value: Json = serde_json::from_str(&response.text().await.unwrap()).unwrap();
            if let Some(text) = value["value"].as_str() {
                return text.to_string();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("`{css}` kept going stale");
    }

    /// Reloads until the element's text contains `want` (auto-refresh is JS; this waits).
    async fn wait_text(&self, css: &str, want: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.text(css).await;
            if text.contains(want) {
                return text;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "`{css}` says `{text}`, never `{want}`"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
            self.call(reqwest::Method::POST, "/refresh", Some(json!({})))
                .await;
        }
    }

    async fn screenshot(&self, name: &str) {
        use base64::Engine as _;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .unwrap();
        std::fs::create_dir_all(&self.shots).unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), bytes).unwrap();
    }
}

/// Copies the fixture specs, with the fake provider's port written in.
fn specs(dir: &Path, provider_port: u16) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dashboard");
    for sub in ["connectors", "workflows"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for entry in std::fs::read_dir(fixtures.join(sub)).unwrap() {
            let entry = entry.unwrap();
            let text = std::fs::read_to_string(entry.path())
                .unwrap()
                .replace("PROVIDER_PORT", &provider_port.to_string());
            std::fs::write(dir.join(sub).join(entry.file_name()), text).unwrap();
        }
    }
}

#[tokio::test]
async fn the_dashboard_in_headless_chromium() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (Some(chromium), Some(driver)) = (which("chromium"), which("chromedriver")) else {
        eprintln!(
            "SKIPPED: the dashboard browser test needs Debian's `chromium` and `chromium-driver` (apt-get install chromium chromium-driver; .ci/run does)"
        );
        return;
    };
    // The fake providers: API-key checks, a run step that fails once, an OAuth server.
    let provider = MockServer::start().await;
    let provider_port = provider.address().port();
    Mock::given(method("GET"))
        .and(path("/ping"))
        .and(header("x-api-key", "good-key"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"ok\":true}"))
        .mount(&provider)
        .await;
    Mock::given(method("GET"))
        .and(path("/ping"))
        .respond_with(ResponseTemplate::new(401).set_body_string("{\"error\":\"invalid_key\"}"))
        .mount(&provider)
        .await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(500).set_body_string("{\"error\":\"try later\"}"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&provider)
        .await;
    Mock::given(method("POST"))
        .and(path("/flaky"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"done\":true}"))
        .mount(&provider)
        .await;
    // The authorization server sends the browser straight back with a code.
    Mock::given(method("GET"))
        .and(path("/authorize"))
        .respond_with(|request: &Request| {
            let q: std::collections::HashMap<String, String> =
                request.url.query_pairs().into_owned().collect();
            let back = format!(
                "{}?code=code-123&state={}",
                q["redirect_uri"],
                q.get("state").cloned().unwrap_or_default()
            );
            ResponseTemplate::new(302).insert_header("location", back.as_str())
        })
        .mount(&provider)
        .await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"access_token":"at-browser-123","refresh_token":"rt-browser-456","expires_in":3600,"token_type":"Bearer"}"#,
        ).insert_header("content-type", "application/json"))
        .mount(&provider)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/me"))
        .and(header("authorization", "Bearer at-browser-123"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"id\":\"u1\"}"))
        .mount(&provider)
        .await;

    let dir = tempfile::tempdir().unwrap();
    specs(dir.path(), provider_port);
    let data = dir.path().join("data");
    let bin = env!("CARGO_BIN_EXE_switchyard");
    let mut create = Command::new(bin)
        .args(["users", "create", "ana", "--password-stdin", "--data-dir"])
        .arg(&data)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        writeln!(create.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    }
    assert!(create.wait().unwrap().success());
    let key_out = Command::new(bin)
        .args([
            "apikeys",
            "create",
            "--tenant",
            "default",
            "--scope",
            "write",
            "--data-dir",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let api_key = String::from_utf8_lossy(&key_out.stdout).trim().to_string();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _serve = Killed(
        Command::new(bin)
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--data-dir",
            ])
            .arg(&data)
            .arg(dir.path().join("connectors"))
            .arg(dir.path().join("workflows"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{base}/readyz")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let driver_port = free_port();
    let _driver = Killed(
        Command::new(&driver)
            .arg(format!("--port={driver_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let driver_url = format!("http://127.0.0.1:{driver_port}");
    while http
        .get(format!("{driver_url}/status"))
        .send()
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let session: Json = serde_json::from_str(
        &http
            .post(format!("{driver_url}/session"))
            .header("content-type", "application/json")
            .body(
                json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
                    "binary": chromium,
                    "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]
                }}}})
                .to_string(),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    let session_id = session["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no browser session: {session}"))
        .to_string();
    let shots = std::env::var_os("SWITCHYARD_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"));
    let b = Browser {
        http: http.clone(),
        base: format!("{driver_url}/session/{session_id}"),
        shots,
    };

    // Not logged in: the login page, which comes back to where we were going.
    b.go(&format!("{base}/connections")).await;
    b.find("#username").await;
    b.screenshot("login").await;
    b.type_into("#username", "ana").await;
    b.type_into("#password", "wrong password!").await;
    b.click("#login").await;
    assert!(
        b.text("#login-error")
            .await
            .contains("Wrong username or password")
    );
    b.type_into("#username", "ana").await;
    b.type_into("#password", PASSWORD).await;
    b.click("#login").await;
    b.find("#no-connections").await;
    assert!(b.url().await.ends_with("/connections"));

    // An API-key connection, checked: active.
    b.go(&format!("{base}/catalog")).await;
    b.find("[data-test='connector-acme-keys']").await;
    b.screenshot("catalog").await;
    b.click("[data-test='add-acme-keys']").await;
    b.type_into("#name", "acme-main").await;
    b.type_into("#field-base_url", &provider.uri()).await;
    b.type_into("#field-api_key", "good-key").await;
    b.screenshot("connection-new").await;
    b.click("#create").await;
    b.find("[data-test='connection-acme-main']").await;
    b.click("[data-test='check-acme-main']").await;
    assert_eq!(b.text("[data-test='status-acme-main']").await, "active");
    assert!(b.text("#flash").await.contains("works"));

    // A wrong key: the check fails, the status and the provider's message show.
    b.go(&format!("{base}/connections/new?connector=acme-keys"))
        .await;
    b.type_into("#name", "acme-bad").await;
    b.type_into("#field-base_url", &provider.uri()).await;
    b.type_into("#field-api_key", "bad-key").await;
    b.click("#create").await;
    b.click("[data-test='check-acme-bad']").await;
    let status = b.text("[data-test='status-acme-bad']").await;
    assert!(status == "error" || status == "needs_reauth", "{status}");
    assert!(
        b.text("[data-test='error-acme-bad']")
            .await
            .contains("Acme rejected the API key")
    );
    b.find("[data-test='reconnect-acme-bad']").await;
    b.screenshot("connections").await;

    // Disconnect, after the confirmation page.
    b.click("[data-test='disconnect-acme-bad']").await;
    b.screenshot("confirm-disconnect").await;
    b.click("#confirm").await;
    assert!(b.text("#flash").await.contains("disconnected"));
    let page = b.call(reqwest::Method::GET, "/source", None).await;
    assert!(
        !page
            .as_str()
            .unwrap()
            .contains("data-test=\"connection-acme-bad\"")
    );

    // OAuth: to the fake authorization server and back, then active after a check.
    b.go(&format!("{base}/connections/new?connector=acme-oauth"))
        .await;
    b.type_into("#name", "acme-oauth-main").await;
    b.click("#create").await;
    let started = Instant::now();
    while !b.url().await.contains("/oauth/callback") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no OAuth round trip"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    b.go(&format!("{base}/connections")).await;
    b.click("[data-test='check-acme-oauth-main']").await;
    assert_eq!(
        b.text("[data-test='status-acme-oauth-main']").await,
        "active",
        "{}",
        b.text("#flash").await
    );

    // A run that fails, retried from the failed step: succeeded.
    let started_run = http
        .post(format!("{base}/api/v1/workflows/flaky-sync/runs"))
        .bearer_auth(&api_key)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(started_run.status().as_u16(), 202);
    let run: Json = serde_json::from_str(&started_run.text().await.unwrap()).unwrap();
    let run_id = run["run_id"].as_str().unwrap().to_string();
    b.go(&format!("{base}/runs/{run_id}")).await;
    b.wait_text("[data-test='run-status']", "failed").await;
    assert!(b.text("#steps").await.contains("call"));
    b.screenshot("run-failed").await;
    b.click("#retry").await;
    b.wait_text("[data-test='run-status']", "succeeded").await;
    b.screenshot("run-succeeded").await;

    // The other pages render for a logged-in user.
    for (page, marker) in [
        ("/", "#runs-chart"),
        ("/workflows", "#workflows"),
        ("/runs", "#runs"),
        ("/events", "#events"),
        ("/connections", "#connections"),
    ] {
        b.go(&format!("{base}{page}")).await;
        b.find(marker).await;
        let name = match page {
            "/" => "overview",
            other => other.trim_start_matches('/'),
        };
        b.screenshot(name).await;
    }
    b.go(&format!("{base}/events")).await;
    let events = b.text("#events").await;
    assert!(events.contains("connection_check"), "{events}");

    // Logged out, a page is the login again.
    b.click("#logout").await;
    b.find("#username").await;
    b.go(&format!("{base}/runs")).await;
    b.find("#username").await;
    let _ = b.call(reqwest::Method::DELETE, "", None).await;
}
