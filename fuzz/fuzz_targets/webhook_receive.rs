//! Arbitrary deliveries (headers and bodies) through every shipped connector's webhook
//! rules: the verifier must never panic, and must refuse what it cannot verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};
use switchyard::interpret::render::Vars;
use switchyard::interpret::value;
use switchyard::plan::Catalog;
use switchyard::webhook::{IncomingRequest, Reception, receive};

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../connectors");
        let (compiled, _) = switchyard::compile::compile_paths(&[dir]).unwrap();
        compiled.catalog.unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    // Layout: headers as `name: value` lines, a blank line, then the body.
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let headers: Vec<(String, String)> = String::from_utf8_lossy(head)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    for plan in catalog().connectors.values() {
        let Some(rules) = plan.webhooks.as_ref() else { continue };
        let request = IncomingRequest {
            method: "POST".into(),
            url: "https://example.com/hooks?x=1".into(),
            headers: headers.clone(),
            body: bytes::Bytes::copy_from_slice(body),
        };
        let vars = Vars::new()
            .with("config", value::from_json(serde_json::json!({"scheme": "hex-sha256"})))
            .with("secrets", value::from_json(serde_json::json!({})));
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // No secret is configured, so nothing may be accepted as an event.
        let got = receive(rules, &request, &vars, &[], now);
        assert!(!matches!(got, Reception::Event(_)), "{}: accepted without a key", plan.id);
    }
});
