//! Crash safety: 2,000 signed GitHub webhooks sent while the real `switchyard serve` binary
//! is killed with SIGKILL twice and restarted on the same SQLite file. Afterwards every
//! webhook answered 2xx has exactly one completed run, and the downstream (wiremock) saw
//! every issue; a step cut off by a kill may have run once more, never more than once per
//! kill and worker, and then with the same Idempotency-Key.

use serde_json::json;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use switchyard::store::Store;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "crash-test-secret";
const TOTAL: usize = 2000;
const WORKERS: usize = 4;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(port: u16, data: &std::path::Path, connections: &std::path::Path) -> Server {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    Server(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--workers",
                &WORKERS.to_string(),
            ])
            .arg("--data-dir")
            .arg(data)
            .arg("--connections")
            .arg(connections)
            .arg(root.join("connectors/github.yaml"))
            .arg(root.join("tests/fixtures/crash"))
            .env("SWITCHYARD_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

async fn wait_ready(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not start");
}

fn sign(body: &[u8]) -> String {
    super::common::github_signature(SECRET, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_twice_loses_nothing_and_runs_nothing_twice() {
    let slack = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/post"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&slack)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let connections = dir.path().join("connections.json");
    std::fs::write(
        &connections,
        json!({
            "acme-github": { "connector": "github", "config": { "webhook_secret": SECRET } },
            "sink": { "connector": "sink", "base_url": slack.uri(), "config": {} }
        })
        .to_string(),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let data = dir.path().join("data");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    let mut server = start(port, &data, &connections);
    wait_ready(&client, port).await;

    // Senders retry each delivery (same id) until it is answered 2xx, as providers do.
    let accepted = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..10 {
        let (client, accepted, next) = (client.clone(), accepted.clone(), next.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= TOTAL {
                    return;
                }
                let body = serde_json::to_vec(&json!({
                    "action": "opened",
                    "issue": { "number": i, "title": format!("Issue {i}"), "html_url": "https://x" },
                    "repository": { "full_name": "acme/app" }
                }))
                .unwrap();
                loop {
                    let sent = client
                        .post(format!("http://127.0.0.1:{port}/hooks/github/acme-github"))
                        .header("X-GitHub-Event", "issues")
                        .header("X-GitHub-Delivery", format!("delivery-{i}"))
                        .header("X-Hub-Signature-256", sign(&body))
                        .header("Content-Type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            accepted.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            }
        }));
    }

    // Kill -9 twice while deliveries and runs are in flight, restarting each time.
    for threshold in [TOTAL / 4, TOTAL / 2] {
        while accepted.load(Ordering::SeqCst) < threshold {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.0.kill().unwrap();
        server.0.wait().unwrap();
        server = start(port, &data, &connections);
        wait_ready(&client, port).await;
    }
    for s in senders {
        s.await.unwrap();
    }
    assert_eq!(accepted.load(Ordering::SeqCst), TOTAL);

    // Wait for every run to finish.
    let store = Store::open_sqlite(&data.join("switchyard.db"))
        .await
        .unwrap();
    // Normally a few seconds; generous for a loaded 2-core CI machine, where a run cut off
    // by a kill may wait for its 60 s lease to expire.
    let deadline = Instant::now() + Duration::from_secs(240);
    let runs = loop {
        let runs = store
            .runs(Some("issue-to-sink"), 10 * TOTAL as u32)
            .await
            .unwrap();
        let done = runs.iter().filter(|r| r.status == "succeeded").count();
        if done >= TOTAL || Instant::now() > deadline {
            break runs;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let unfinished: Vec<_> = runs.iter().filter(|r| r.status != "succeeded").collect();
    if !unfinished.is_empty() {
        let mut by_status: HashMap<&str, usize> = HashMap::new();
        for run in &unfinished {
            *by_status.entry(run.status.as_str()).or_default() += 1;
        }
        let steps = store.steps(&unfinished[0].id).await.unwrap();
        panic!(
            "{} of {} runs did not succeed: {by_status:?}; first: {:?}; its steps: {steps:?}",
            unfinished.len(),
            runs.len(),
            unfinished[0]
        );
    }
    let mut per_delivery: HashMap<String, usize> = HashMap::new();
    for run in &runs {
        assert_eq!(run.status, "succeeded", "{run:?}");
        *per_delivery
            .entry(run.trigger["event_id"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    assert_eq!(
        per_delivery.len(),
        TOTAL,
        "every accepted delivery has a run"
    );
    assert!(
        per_delivery.values().all(|n| *n == 1),
        "no delivery has two runs"
    );

    // The sink: every issue posted; repeats only for steps cut off by a kill, and a repeat
    // carries the same Idempotency-Key as the post it repeats (one key per run step).
    let mut posts: HashMap<String, usize> = HashMap::new();
    let mut keys: HashMap<String, std::collections::HashSet<String>> = HashMap::new();
    for request in slack.received_requests().await.unwrap() {
        let text = serde_json::from_slice::<serde_json::Value>(&request.body).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_string();
        let number = text
            .split('#')
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .to_string();
        let key = request
            .headers
            .get("idempotency-key")
            .and_then(|k| k.to_str().ok())
            .expect("every post carries an Idempotency-Key")
            .to_string();
        keys.entry(number.clone()).or_default().insert(key);
        *posts.entry(number).or_default() += 1;
    }
    assert!(
        keys.values().all(|k| k.len() == 1),
        "a repeated post carries the key of the post it repeats"
    );
    let distinct: std::collections::HashSet<&String> = keys.values().flatten().collect();
    assert_eq!(distinct.len(), TOTAL, "one key per run step");
    let repeats: usize = posts.values().map(|n| n - 1).sum();
    println!(
        "crash test: {TOTAL} accepted, {} runs, {} posts, {repeats} repeated after a kill (same Idempotency-Key)",
        runs.len(),
        posts.values().sum::<usize>()
    );
    assert_eq!(posts.len(), TOTAL, "every issue reached the sink");
    assert!(
        repeats <= 2 * WORKERS,
        "{repeats} repeats: more than one per kill and worker"
    );
    drop(server);
}
