//! Webhook verification throughput: `receive` (verify + event labels) on signed deliveries
//! of 1 KiB and 64 KiB for three schemes, single-threaded.
//!
//!     cargo run --release --example webhook_verify_bench [ITERATIONS]
//!
//! Prints one tab-separated line per (connector, body size): deliveries/s and MB/s.

use bytes::Bytes;
use serde_json::json;
use std::time::{Instant, SystemTime};
use switchyard::compile::compile_paths;
use switchyard::interpret::render::Vars;
use switchyard::interpret::value;
use switchyard::webhook::{IncomingRequest, Reception, receive, sign};

fn main() {
    let iterations: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let (compiled, _) =
        compile_paths(&["connectors".into()]).expect("run from the repository root");
    let catalog = compiled.catalog.expect("connectors compile");
    println!("connector\tbody_bytes\titerations\tdeliveries_per_s\tMB_per_s");
    for id in ["github", "stripe", "standard-webhooks"] {
        let plan = &catalog.connectors[id];
        let hooks = plan.webhooks.as_ref().expect("webhook rules");
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_string();
        let secrets: serde_json::Map<_, _> = plan
            .config
            .iter()
            .filter(|(_, f)| f.secret)
            .map(|(n, _)| (n.clone(), json!(secret)))
            .collect();
        let vars = Vars::new()
            .with("config", value::from_json(json!({})))
            .with(
                "secrets",
                value::from_json(serde_json::Value::Object(secrets)),
            );
        for size in [1024usize, 64 * 1024] {
            // A JSON body of the given size.
            let filler = "x".repeat(size - 40);
            let body = format!(r#"{{"id":"evt_1","type":"t.e","pad":"{filler}"}}"#);
            let body = &body[..];
            let now = SystemTime::now();
            let mut request = IncomingRequest {
                method: "POST".into(),
                url: "https://example.com/hooks".into(),
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("X-GitHub-Event".into(), "issues".into()),
                    ("X-GitHub-Delivery".into(), "d-1".into()),
                ],
                body: Bytes::from(body.to_string()),
            };
            let signed = sign(hooks, &request, &vars, &secret, now).expect("sign");
            request.headers.extend(signed.headers);
            let keys = [secret.clone()];
            assert!(matches!(
                receive(hooks, &request, &vars, &keys, now),
                Reception::Event(_)
            ));
            let started = Instant::now();
            for _ in 0..iterations {
                let r = receive(hooks, &request, &vars, &keys, now);
                std::hint::black_box(&r);
            }
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{id}\t{}\t{iterations}\t{:.0}\t{:.0}",
                request.body.len(),
                iterations as f64 / secs,
                iterations as f64 * request.body.len() as f64 / secs / 1e6
            );
        }
    }
}
