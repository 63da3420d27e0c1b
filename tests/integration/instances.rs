//! Several `switchyard serve` instances on one PostgreSQL database (skipped without
//! `SWITCHYARD_TEST_POSTGRES_URL`):
//!
//! - 3,000 signed webhooks spread over three instances while one of them is killed with
//!   SIGKILL and restarted: every accepted delivery has exactly one completed run, and the
//!   sink saw each step once, except steps cut off by the kill, repeated with the same
//!   Idempotency-Key.
//! - A cron workflow firing every second, on three instances restarted in turn for about a
//!   minute: exactly one firing (and run) per second, none twice, none missed.

use super::common::{TestStore, postgres_url};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "instances-test-secret";
const TOTAL: usize = 3000;
const WORKERS: usize = 4;

struct Instance(Child);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(
    port: u16,
    database_url: &str,
    data: &Path,
    specs: &[PathBuf],
    connections: Option<&Path>,
) -> Instance {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    command
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--workers",
            &WORKERS.to_string(),
        ])
        .arg("--data-dir")
        .arg(data)
        .args(specs)
        .env("DATABASE_URL", database_url)
        .env("SWITCHYARD_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(c) = connections {
        command.arg("--connections").arg(c);
    }
    Instance(command.spawn().unwrap())
}

async fn wait_ready(client: &reqwest::Client, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("instance on port {port} did not become ready");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_one_killed_lose_nothing_and_run_nothing_twice() {
    let Some(url) = postgres_url("three instances on one PostgreSQL") else {
        return;
    };
    let test_store = TestStore::postgres(&url).await;
    let database_url = test_store.database_url().unwrap();
    let sink = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/post"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&sink)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let connections = dir.path().join("connections.json");
    std::fs::write(
        &connections,
        json!({
            "acme-github": { "connector": "github", "config": { "webhook_secret": SECRET } },
            "sink": { "connector": "sink", "base_url": sink.uri(), "config": {} }
        })
        .to_string(),
    )
    .unwrap();
    let specs = [
        root().join("connectors/github.yaml"),
        root().join("tests/fixtures/crash"),
    ];
    let ports = [free_port(), free_port(), free_port()];
    let data: Vec<PathBuf> = (0..3)
        .map(|i| dir.path().join(format!("data{i}")))
        .collect();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut instances: Vec<Instance> = (0..3)
        .map(|i| {
            start(
                ports[i],
                &database_url,
                &data[i],
                &specs,
                Some(&connections),
            )
        })
        .collect();
    for port in ports {
        wait_ready(&client, port).await;
    }

    // Deliveries go round-robin over the instances; a delivery that fails (its instance is
    // down) is retried, same id, on the next one, as behind a load balancer.
    let accepted = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for _ in 0..12 {
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
                let mut attempt = i;
                loop {
                    let port = ports[attempt % 3];
                    let sent = client
                        .post(format!("http://127.0.0.1:{port}/hooks/github/acme-github"))
                        .header("X-GitHub-Event", "issues")
                        .header("X-GitHub-Delivery", format!("delivery-{i}"))
                        .header("X-Hub-Signature-256", super::common::github_signature(SECRET, &body))
                        .header("Content-Type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            accepted.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        _ => {
                            attempt += 1;
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
            }
        }));
    }
    // SIGKILL instance 1 a third of the way, restart it at two thirds.
    while accepted.load(Ordering::SeqCst) < TOTAL / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    instances[1].0.kill().unwrap();
    instances[1].0.wait().unwrap();
    while accepted.load(Ordering::SeqCst) < 2 * TOTAL / 3 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    instances[1] = start(
        ports[1],
        &database_url,
        &data[1],
        &specs,
        Some(&connections),
    );
    wait_ready(&client, ports[1]).await;
    for s in senders {
        s.await.unwrap();
    }
    assert_eq!(accepted.load(Ordering::SeqCst), TOTAL);

    // Every run completes: the killed instance's runs are queued again by the others once
    // its heartbeat stops (seconds), not when their 60 s leases expire.
    let store = &test_store.store;
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
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
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

    let mut posts: HashMap<String, usize> = HashMap::new();
    let mut keys: HashMap<String, HashSet<String>> = HashMap::new();
    for request in sink.received_requests().await.unwrap() {
        let text = serde_json::from_slice::<serde_json::Value>(&request.body).unwrap()["text"]
            .as_str()
            .unwrap()
            .to_string();
        let number = text
            .split('#')
            .nth(1)
            .unwrap()
            .split(':')
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
    assert_eq!(posts.len(), TOTAL, "every issue reached the sink");
    assert!(
        keys.values().all(|k| k.len() == 1),
        "a repeated post carries the key of the post it repeats"
    );
    let repeats: usize = posts.values().map(|n| n - 1).sum();
    assert!(
        repeats <= WORKERS,
        "{repeats} repeats: more than one per worker of the killed instance"
    );
    println!(
        "instances test: {TOTAL} accepted over 3 instances (one killed), {repeats} step(s) repeated with the same key"
    );
    // The instances know each other.
    let listed = store.instances().await.unwrap();
    assert!(listed.len() >= 4, "{listed:?}");
    drop(instances);
    test_store.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_every_second_fires_once_per_second_on_three_restarting_instances() {
    let Some(url) = postgres_url("cron on three instances") else {
        return;
    };
    let test_store = TestStore::postgres(&url).await;
    let database_url = test_store.database_url().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("tick.yaml");
    std::fs::write(
        &workflow,
        "workflow: tick\ntrigger:\n  cron: { schedule: \"* * * * * *\", timezone: UTC, catchup: all, overlap: allow }\nsteps:\n  - id: note\n    set: { at: \"{{ trigger.scheduled_at }}\" }\n",
    )
    .unwrap();
    let specs = [workflow];
    let ports = [free_port(), free_port(), free_port()];
    let data: Vec<PathBuf> = (0..3)
        .map(|i| dir.path().join(format!("data{i}")))
        .collect();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut instances: Vec<Instance> = (0..3)
        .map(|i| start(ports[i], &database_url, &data[i], &specs, None))
        .collect();
    for port in ports {
        wait_ready(&client, port).await;
    }
    // About a minute, each instance restarted in turn (one SIGKILL, two graceful stops),
    // never all at once.
    for (i, kill) in [(0, true), (1, false), (2, false)] {
        tokio::time::sleep(Duration::from_secs(15)).await;
        if kill {
            instances[i].0.kill().unwrap();
        } else {
            let _ = Command::new("kill")
                .args(["-TERM", &instances[i].0.id().to_string()])
                .status();
        }
        instances[i].0.wait().unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        instances[i] = start(ports[i], &database_url, &data[i], &specs, None);
        wait_ready(&client, ports[i]).await;
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    for instance in &mut instances {
        let _ = Command::new("kill")
            .args(["-TERM", &instance.0.id().to_string()])
            .status();
        instance.0.wait().unwrap();
    }
    let store = &test_store.store;
    let firings = store.firings("tick").await.unwrap();
    assert!(
        firings.len() >= 55,
        "{} firings in about a minute",
        firings.len()
    );
    for pair in firings.windows(2) {
        assert_eq!(
            pair[1].0 - pair[0].0,
            1000,
            "a second fired twice or was missed: {pair:?}"
        );
    }
    assert!(firings.iter().all(|(_, outcome)| outcome == "queued"));
    let runs = store.runs(Some("tick"), 1000).await.unwrap();
    let nominal: HashSet<String> = runs
        .iter()
        .map(|r| r.trigger["scheduled_at"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(runs.len(), firings.len(), "one run per firing");
    assert_eq!(nominal.len(), runs.len(), "no second has two runs");
    println!(
        "cron test: {} firings, one per second, on 3 instances restarted in turn",
        firings.len()
    );
    test_store.cleanup().await;
}

/// `/readyz` answers 503 while the database cannot be reached (a load balancer then sends
/// webhooks elsewhere) and 200 again once it can; `switchyard instances` lists the live
/// instance. The database is reached through a TCP proxy the test cuts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_follows_the_database_and_instances_lists_the_live_ones() {
    use tokio::io::copy_bidirectional;
    use tokio::net::{TcpListener, TcpStream};
    let Some(url) = postgres_url("readyz with the database cut off") else {
        return;
    };
    let test_store = TestStore::postgres(&url).await;
    let direct = url::Url::parse(&test_store.database_url().unwrap()).unwrap();
    let upstream = format!(
        "{}:{}",
        direct.host_str().unwrap(),
        direct.port().unwrap_or(5432)
    );
    // The proxy: while `up`, forwards each connection; cutting it closes them all.
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_port = proxy.local_addr().unwrap().port();
    let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (cut, _) = tokio::sync::broadcast::channel::<()>(1);
    {
        let (up, cut) = (up.clone(), cut.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = proxy.accept().await else {
                    return;
                };
                if !up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused in effect
                }
                let upstream = upstream.clone();
                let mut cut = cut.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.recv() => {}
                    }
                });
            }
        });
    }
    let mut proxied = direct.clone();
    proxied.set_port(Some(proxy_port)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("noop.yaml");
    std::fs::write(
        &workflow,
        "workflow: noop\ntrigger: { manual: {} }\nsteps:\n  - id: a\n    set: { x: 1 }\n",
    )
    .unwrap();
    let port = free_port();
    let _instance = start(
        port,
        proxied.as_str(),
        &dir.path().join("data"),
        &[workflow],
        None,
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    wait_ready(&client, port).await;

    let listed = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["instances", "--database-url", direct.as_str()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert_eq!(
        text.lines().filter(|l| l.contains("\tlive\t")).count(),
        1,
        "{text}"
    );

    let readyz = |client: reqwest::Client| async move {
        client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    up.store(false, Ordering::SeqCst);
    let _ = cut.send(());
    let deadline = Instant::now() + Duration::from_secs(20);
    while readyz(client.clone()).await != 503 {
        assert!(
            Instant::now() < deadline,
            "readyz stayed ready without a database"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Liveness is not readiness: the process is still up.
    assert_eq!(
        client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    up.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    while readyz(client.clone()).await != 200 {
        assert!(
            Instant::now() < deadline,
            "readyz did not recover with the database"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    test_store.cleanup().await;
}

/// A graceful stop lets a long step finish without another instance taking the run: the
/// stopping instance keeps its heartbeat until its runs are done or handed back. (The step
/// takes 15 s, longer than the 10 s after which a silent instance counts as dead.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_finishes_a_long_step_once() {
    let Some(url) = postgres_url("graceful stop with a long step") else {
        return;
    };
    let test_store = TestStore::postgres(&url).await;
    let database_url = test_store.database_url().unwrap();
    let sink = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/post"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_secs(15))
                .set_body_json(json!({"ok": true})),
        )
        .mount(&sink)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let connections = dir.path().join("connections.json");
    std::fs::write(
        &connections,
        json!({
            "acme-github": { "connector": "github", "config": { "webhook_secret": SECRET } },
            "sink": { "connector": "sink", "base_url": sink.uri(), "config": {} }
        })
        .to_string(),
    )
    .unwrap();
    let specs = [
        root().join("connectors/github.yaml"),
        root().join("tests/fixtures/crash"),
    ];
    let ports = [free_port(), free_port()];
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let mut instances: Vec<Instance> = (0..2)
        .map(|i| {
            start(
                ports[i],
                &database_url,
                &dir.path().join(format!("d{i}")),
                &specs,
                Some(&connections),
            )
        })
        .collect();
    for port in ports {
        wait_ready(&client, port).await;
    }
    let body = serde_json::to_vec(&json!({
        "action": "opened",
        "issue": { "number": 1, "title": "Slow", "html_url": "https://x" },
        "repository": { "full_name": "acme/app" }
    }))
    .unwrap();
    let r = client
        .post(format!(
            "http://127.0.0.1:{}/hooks/github/acme-github",
            ports[0]
        ))
        .header("X-GitHub-Event", "issues")
        .header("X-GitHub-Delivery", "slow-1")
        .header(
            "X-Hub-Signature-256",
            super::common::github_signature(SECRET, &body),
        )
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Find the instance working on the run, and stop it gracefully mid-step.
    let store = &test_store.store;
    let deadline = Instant::now() + Duration::from_secs(20);
    let owner = loop {
        let busy: Vec<_> = store
            .instances()
            .await
            .unwrap()
            .into_iter()
            .filter(|i| i.runs_in_flight > 0)
            .collect();
        if let Some(i) = busy.first() {
            break i.id.clone();
        }
        assert!(Instant::now() < deadline, "the run never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let index = instances
        .iter()
        .position(|i| owner.contains(&format!("-{}-", i.0.id())))
        .expect("the owner is one of ours");
    let _ = Command::new("kill")
        .args(["-TERM", &instances[index].0.id().to_string()])
        .status();
    let stopped = Instant::now();
    instances[index].0.wait().unwrap();
    assert!(
        stopped.elapsed() < Duration::from_secs(30),
        "the stop waited past its grace"
    );
    let runs = store.runs(Some("issue-to-sink"), 10).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "succeeded", "{runs:?}");
    // Give the other instance time to (wrongly) take the run over, then count the posts.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        sink.received_requests().await.unwrap().len(),
        1,
        "the step ran twice"
    );
    drop(instances);
    test_store.cleanup().await;
}
