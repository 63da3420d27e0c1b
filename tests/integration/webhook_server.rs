//! The webhook endpoint of the HTTP server, on 127.0.0.1:0 with real HTTP: verification
//! before anything else, generic 401s, 413 over the body limit, handshakes, dedupe, and
//! deliveries that could not be stored failing with 503 so the provider retries them.

use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use switchyard::compile::compile_paths;
use switchyard::interpret::render::Vars;
use switchyard::interpret::value;
use switchyard::server::webhooks::{AcceptFuture, Delivery, WebhookTarget, WebhookTargets};
use switchyard::server::{AppState, run};
use switchyard::webhook::{Dedupe, Event, MemoryDedupe};

const SECRET: &str = "It's a Secret to Everybody";
const SIG: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

/// One GitHub connection, `acme`; `accept` fails while `failing` is above zero.
struct Targets {
    catalog: Arc<switchyard::plan::Catalog>,
    accepted: Mutex<Vec<Event>>,
    failing: AtomicUsize,
    dedupe: MemoryDedupe,
}

impl WebhookTargets for Targets {
    fn target(&self, connector: &str, connection: &str) -> Option<WebhookTarget> {
        if connection != "acme" {
            return None;
        }
        let plan = self.catalog.connectors.get(connector)?.clone();
        Some(WebhookTarget {
            connector: plan,
            connection: connection.into(),
            vars: Vars::new()
                .with("config", value::from_json(json!({})))
                .with(
                    "secrets",
                    value::from_json(json!({ "webhook_secret": SECRET })),
                ),
            keys: vec![SECRET.into()],
        })
    }
    fn accept<'a>(
        &'a self,
        target: &'a WebhookTarget,
        event: Event,
        window: std::time::Duration,
    ) -> AcceptFuture<'a> {
        Box::pin(async move {
            if self.failing.load(Ordering::SeqCst) > 0 {
                self.failing.fetch_sub(1, Ordering::SeqCst);
                return Err("database unavailable".into());
            }
            let id = event.id.clone().unwrap_or_default();
            if !self.dedupe.first_time(
                &target.connection,
                &id,
                window,
                std::time::SystemTime::now(),
            ) {
                return Ok(Delivery::Duplicate);
            }
            self.accepted.lock().unwrap().push(event);
            Ok(Delivery::Accepted)
        })
    }
}

#[tokio::test]
async fn deliveries_are_verified_deduplicated_and_limited() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (compiled, _) = compile_paths(&[root.join("connectors")]).unwrap();
    let catalog = compiled.catalog.unwrap();
    let targets = Arc::new(Targets {
        catalog: Arc::new(compiled_catalog_clone(&root)),
        accepted: Mutex::new(Vec::new()),
        failing: AtomicUsize::new(1),
        dedupe: MemoryDedupe::default(),
    });
    let mut state = AppState::new(catalog);
    state.webhook_targets = targets.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(listener, state, async {
        let _ = stopped.await;
    }));
    // reqwest is built without a default TLS provider; plain HTTP still needs one chosen.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let post = |path: &str, sig: &str, delivery: &str, body: Vec<u8>| {
        client
            .post(format!("{base}{path}"))
            .header("X-Hub-Signature-256", sig)
            .header("X-GitHub-Event", "issues")
            .header("X-GitHub-Delivery", delivery)
            .body(body)
            .send()
    };
    let hello = b"Hello, World!".to_vec();

    // Not stored: 503, and the retry is not mistaken for a duplicate.
    let r = post("/hooks/github/acme", SIG, "d-1", hello.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let r = post("/hooks/github/acme", SIG, "d-1", hello.clone())
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (200, "accepted\n".into())
    );
    let r = post("/hooks/github/acme", SIG, "d-1", hello.clone())
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (200, "duplicate\n".into())
    );
    assert_eq!(targets.accepted.lock().unwrap().len(), 1);

    // Refusals say nothing about why.
    for (sig, body) in [
        ("sha256=00", hello.clone()),
        (SIG, b"Hello, World?".to_vec()),
    ] {
        let r = post("/hooks/github/acme", sig, "d-2", body).await.unwrap();
        assert_eq!(
            (r.status().as_u16(), r.text().await.unwrap()),
            (401, "invalid signature\n".into())
        );
    }
    let r = client
        .post(format!("{base}/hooks/github/acme"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        targets.accepted.lock().unwrap().len(),
        1,
        "nothing stored by refusals"
    );

    // Unknown connection; oversized body.
    let r = post("/hooks/github/other", SIG, "d-3", hello.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let r = post(
        "/hooks/github/acme",
        SIG,
        "d-4",
        vec![b'x'; 2 * 1024 * 1024],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 413);

    // GitHub's ping handshake is answered after verification.
    let ping = client
        .post(format!("{base}/hooks/github/acme"))
        .header("X-Hub-Signature-256", SIG)
        .header("X-GitHub-Event", "ping")
        .body(hello.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        (ping.status().as_u16(), ping.text().await.unwrap()),
        (200, "pong".into())
    );
    assert_eq!(targets.accepted.lock().unwrap().len(), 1);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

fn compiled_catalog_clone(root: &std::path::Path) -> switchyard::plan::Catalog {
    compile_paths(&[root.join("connectors")])
        .unwrap()
        .0
        .catalog
        .unwrap()
}
