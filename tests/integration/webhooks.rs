//! Webhook verification against the shipped connectors: providers' published test vectors
//! (`tests/fixtures/webhooks/vectors.json`), the ways a delivery must be refused, sign/verify
//! round trips for every connector, and arbitrary input that must not panic.

use bytes::Bytes;
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use switchyard::compile::compile_paths;
use switchyard::interpret::render::Vars;
use switchyard::interpret::value;
use switchyard::plan::{Catalog, ConnectorPlan, VerifyPlan};
use switchyard::webhook::{IncomingRequest, Reception, Rejection, receive, sign};

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let (compiled, _) = compile_paths(&[root.join("connectors")]).unwrap();
        compiled.catalog.expect("shipped connectors compile")
    })
}

fn connector(id: &str) -> Arc<ConnectorPlan> {
    catalog().connectors[id].clone()
}

/// `config` and `secrets` for a connection whose every secret is `secret`.
fn base(plan: &ConnectorPlan, secret: &str, config: Json) -> Vars {
    let secrets: serde_json::Map<String, Json> = plan
        .config
        .iter()
        .filter(|(_, f)| f.secret)
        .map(|(n, _)| (n.clone(), json!(secret)))
        .collect();
    Vars::new()
        .with("config", value::from_json(config))
        .with("secrets", value::from_json(Json::Object(secrets)))
}

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn request(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> IncomingRequest {
    IncomingRequest {
        method: method.into(),
        url: url.into(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
        body: Bytes::copy_from_slice(body),
    }
}

fn vectors() -> Vec<Json> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/webhooks/vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vector_request(v: &Json) -> IncomingRequest {
    let headers: Vec<(String, String)> = v["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    IncomingRequest {
        method: v["method"].as_str().unwrap_or("POST").into(),
        url: v["url"]
            .as_str()
            .unwrap_or("https://example.com/hooks")
            .into(),
        headers,
        body: Bytes::from(v["body"].as_str().unwrap_or("").to_string()),
    }
}

#[test]
fn published_vectors_verify_and_tampered_copies_do_not() {
    let mut checked = 0;
    for v in vectors() {
        let provider = v["provider"].as_str().unwrap();
        let plan = connector(provider);
        let webhooks = plan.webhooks.as_ref().unwrap();
        let secret = v["secret"].as_str().unwrap().to_string();
        let now = at(v["timestamp"].as_u64().unwrap_or(1_700_000_000) + 60);
        let vars = base(&plan, &secret, json!({}));
        let mut req = vector_request(&v);
        if provider == "zoom" {
            // Zoom signs its validation request too: sign it as Zoom would, then check the
            // reply against the published value.
            let signed = sign(webhooks, &req, &vars, &secret, now).unwrap();
            req.headers.extend(signed.headers);
        }
        let got = receive(webhooks, &req, &vars, std::slice::from_ref(&secret), now);
        match (&got, v.get("expected_response")) {
            (
                Reception::Reply {
                    status,
                    content_type,
                    body,
                    ..
                },
                Some(want),
            ) => {
                assert_eq!(
                    *status as u64,
                    want["status"].as_u64().unwrap(),
                    "{provider}"
                );
                assert_eq!(
                    content_type,
                    want["content_type"].as_str().unwrap(),
                    "{provider}"
                );
                let got: Json = serde_json::from_str(body).unwrap();
                let want: Json = serde_json::from_str(want["body"].as_str().unwrap()).unwrap();
                assert_eq!(got, want, "{provider}");
            }
            (Reception::Event(_), None) => {}
            other => panic!("{provider}: {other:?}"),
        }
        // Wrong secret.
        let wrong = receive(webhooks, &req, &vars, &["not-the-secret".to_string()], now);
        assert!(
            matches!(wrong, Reception::Rejected(_)),
            "{provider}: {wrong:?}"
        );
        // One byte of the body changed (where the scheme signs the body).
        let signs_body = !matches!(webhooks.verify, VerifyPlan::Token { .. });
        if signs_body && !req.body.is_empty() {
            let mut body = req.body.to_vec();
            let i = body.len() / 2;
            body[i] ^= 0x01;
            let tampered = IncomingRequest {
                body: Bytes::from(body),
                ..req.clone()
            };
            let got = receive(
                webhooks,
                &tampered,
                &vars,
                std::slice::from_ref(&secret),
                now,
            );
            assert_eq!(
                got,
                Reception::Rejected(Rejection::SignatureMismatch),
                "{provider}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 11, "only {checked} vectors");
}

#[test]
fn refusals_say_why() {
    let slack = connector("slack");
    let w = slack.webhooks.as_ref().unwrap();
    let secret = "8f742231b10e8888abcd99yyyzzz85a5".to_string();
    let vars = base(&slack, &secret, json!({}));
    let v = vectors()
        .into_iter()
        .find(|v| v["provider"] == "slack")
        .unwrap();
    let good = vector_request(&v);
    let t = 1_531_420_618;
    let keys = std::slice::from_ref(&secret);
    let check = |req: &IncomingRequest, now: u64| receive(w, req, &vars, keys, at(now));

    assert!(matches!(check(&good, t + 10), Reception::Event(_)));
    // Header names in any case.
    let mut upper = good.clone();
    for (n, _) in &mut upper.headers {
        *n = n.to_ascii_uppercase();
    }
    assert!(matches!(check(&upper, t), Reception::Event(_)));
    // Stale and future.
    assert_eq!(
        check(&good, t + 301),
        Reception::Rejected(Rejection::Stale(301))
    );
    assert_eq!(
        check(&good, t - 301),
        Reception::Rejected(Rejection::Future(301))
    );
    // Missing and malformed headers.
    let without = |name: &str| IncomingRequest {
        headers: good
            .headers
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
            .cloned()
            .collect(),
        ..good.clone()
    };
    assert_eq!(
        check(&without("x-slack-signature"), t),
        Reception::Rejected(Rejection::MissingHeader("X-Slack-Signature".into()))
    );
    assert_eq!(
        check(&without("x-slack-request-timestamp"), t),
        Reception::Rejected(Rejection::MissingHeader("X-Slack-Request-Timestamp".into()))
    );
    let with = |name: &str, value: &str| {
        let mut r = without(name);
        r.headers.push((name.into(), value.into()));
        r
    };
    for bad in ["a2114d57b48e", "v0=zz", "v0=", "sha256=a2114d57"] {
        assert!(
            matches!(
                check(&with("X-Slack-Signature", bad), t),
                Reception::Rejected(_)
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        check(&with("X-Slack-Request-Timestamp", "yesterday"), t),
        Reception::Rejected(Rejection::Malformed(_))
    ));
    // A GitHub-style signature of the same body under the same secret is another scheme.
    let github_sig = super::common::github_signature(&secret, &good.body);
    assert_eq!(
        check(&with("X-Slack-Signature", &github_sig), t),
        Reception::Rejected(Rejection::Malformed(
            "header `X-Slack-Signature`: expected the prefix `v0=`".into()
        ))
    );
    // No secret configured: fail closed.
    assert_eq!(
        receive(w, &good, &vars, &[], at(t)),
        Reception::Rejected(Rejection::NoKey)
    );
}

#[test]
fn several_signatures_and_key_rotation() {
    let sw = connector("standard-webhooks");
    let w = sw.webhooks.as_ref().unwrap();
    let v = vectors()
        .into_iter()
        .find(|v| v["provider"] == "standard-webhooks")
        .unwrap();
    let secret = v["secret"].as_str().unwrap().to_string();
    let vars = base(&sw, &secret, json!({}));
    let mut req = vector_request(&v);
    let now = at(1_614_265_330);
    let (_, sig) = req
        .headers
        .iter()
        .find(|(n, _)| n == "webhook-signature")
        .cloned()
        .unwrap();
    // A list with a wrong signature first and the right one second.
    req.headers.retain(|(n, _)| n != "webhook-signature");
    req.headers.push((
        "webhook-signature".into(),
        format!("v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= {sig} v2,xyz"),
    ));
    // An old secret first, the current one second (rotation).
    let keys = vec!["whsec_b2xkc2VjcmV0b2xkc2VjcmV0".to_string(), secret.clone()];
    let got = receive(w, &req, &vars, &keys, now);
    assert!(
        matches!(got, Reception::Event(ref e) if e.id.as_deref() == Some("msg_p5jXN8AQM9LWM0D4loKWxJek")),
        "{got:?}"
    );
    assert!(matches!(
        receive(w, &req, &vars, &keys[..1], now),
        Reception::Rejected(Rejection::SignatureMismatch)
    ));
}

#[test]
fn non_utf8_bodies_are_signed_byte_for_byte() {
    for id in ["stripe", "slack", "github", "standard-webhooks"] {
        let plan = connector(id);
        let w = plan.webhooks.as_ref().unwrap();
        let secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=".to_string();
        let vars = base(&plan, &secret, json!({}));
        let body = [0xff, 0xfe, b'{', 0x80, b'}'];
        let now = at(1_700_000_000);
        let mut req = request("POST", "https://example.com/h", &[], &body);
        let signed = sign(w, &req, &vars, &secret, now).unwrap();
        req.headers.extend(signed.headers);
        assert!(
            matches!(
                receive(w, &req, &vars, std::slice::from_ref(&secret), now),
                Reception::Event(_)
            ),
            "{id}"
        );
        req.body = Bytes::from_static(&[0xff, 0xfe, b'{', 0x81, b'}']);
        assert!(
            matches!(
                receive(w, &req, &vars, std::slice::from_ref(&secret), now),
                Reception::Rejected(_)
            ),
            "{id}"
        );
    }
}

#[test]
fn handshakes_reply_only_where_the_spec_says() {
    // Slack's url_verification is signed: without a signature it is refused.
    let slack = connector("slack");
    let w = slack.webhooks.as_ref().unwrap();
    let secret = "s3cret-signing".to_string();
    let vars = base(&slack, &secret, json!({}));
    let body = br#"{"type":"url_verification","challenge":"c-123"}"#;
    let now = at(1_700_000_000);
    let mut req = request(
        "POST",
        "https://x/h",
        &[("Content-Type", "application/json")],
        body,
    );
    assert!(matches!(
        receive(w, &req, &vars, std::slice::from_ref(&secret), now),
        Reception::Rejected(_)
    ));
    req.headers
        .extend(sign(w, &req, &vars, &secret, now).unwrap().headers);
    assert_eq!(
        receive(w, &req, &vars, std::slice::from_ref(&secret), now),
        Reception::Reply {
            status: 200,
            content_type: "text/plain".into(),
            body: "c-123".into(),
            headers: vec![]
        }
    );
    // Twitch's callback verification.
    let twitch = connector("twitch");
    let w = twitch.webhooks.as_ref().unwrap();
    let vars = base(&twitch, &secret, json!({}));
    let mut req = request(
        "POST",
        "https://x/h",
        &[
            ("Twitch-Eventsub-Message-Id", "m-1"),
            ("Twitch-Eventsub-Message-Type", "webhook_callback_verification"),
            ("Content-Type", "application/json"),
        ],
        br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"type":"channel.follow"}}"#,
    );
    req.headers
        .extend(sign(w, &req, &vars, &secret, now).unwrap().headers);
    assert_eq!(
        receive(w, &req, &vars, std::slice::from_ref(&secret), now),
        Reception::Reply {
            status: 200,
            content_type: "text/plain".into(),
            body: "pogchamp-kappa-360noscope-vohiyo".into(),
            headers: vec![]
        }
    );
}

#[test]
fn events_carry_type_id_and_routing_key_and_bad_json_is_invalid() {
    let slack = connector("slack");
    let w = slack.webhooks.as_ref().unwrap();
    let secret = "s3cret-signing".to_string();
    let vars = base(&slack, &secret, json!({}));
    let now = at(1_700_000_000);
    let body =
        br#"{"type":"event_callback","team_id":"T1","event_id":"Ev1","event":{"type":"message"}}"#;
    let mut req = request(
        "POST",
        "https://x/h",
        &[("Content-Type", "application/json")],
        body,
    );
    req.headers
        .extend(sign(w, &req, &vars, &secret, now).unwrap().headers);
    match receive(w, &req, &vars, std::slice::from_ref(&secret), now) {
        Reception::Event(e) => {
            assert_eq!(e.id.as_deref(), Some("Ev1"));
            assert_eq!(e.event_type.as_deref(), Some("message"));
            assert_eq!(e.routing_key.as_deref(), Some("T1"));
        }
        other => panic!("{other:?}"),
    }
    let mut bad = request(
        "POST",
        "https://x/h",
        &[("Content-Type", "application/json")],
        b"{not json",
    );
    bad.headers
        .extend(sign(w, &bad, &vars, &secret, now).unwrap().headers);
    assert!(matches!(
        receive(w, &bad, &vars, std::slice::from_ref(&secret), now),
        Reception::Invalid(_)
    ));
}

#[test]
fn the_generic_connector_verifies_with_the_scheme_its_connection_chose() {
    let plan = connector("webhook");
    let w = plan.webhooks.as_ref().unwrap();
    let secret = "generic-secret-1".to_string();
    let now = at(1_700_000_000);
    let schemes = [
        "hex-sha256",
        "base64-sha256",
        "hex-sha1",
        "hex-sha512",
        "github-style",
        "timestamped-sha256",
        "token",
    ];
    for scheme in schemes {
        let vars = base(&plan, &secret, json!({ "scheme": scheme }));
        let mut req = request(
            "POST",
            "https://x/h",
            &[("Content-Type", "application/json")],
            br#"{"a":1}"#,
        );
        req.headers
            .extend(sign(w, &req, &vars, &secret, now).unwrap().headers);
        assert!(
            matches!(
                receive(w, &req, &vars, std::slice::from_ref(&secret), now),
                Reception::Event(_)
            ),
            "{scheme}"
        );
        // The same delivery checked under another scheme fails.
        let other = base(
            &plan,
            &secret,
            json!({ "scheme": if scheme == "token" { "hex-sha256" } else { "token" } }),
        );
        assert!(
            matches!(
                receive(w, &req, &other, std::slice::from_ref(&secret), now),
                Reception::Rejected(_)
            ),
            "{scheme}"
        );
    }
    let unset = base(&plan, &secret, json!({}));
    let req = request("POST", "https://x/h", &[], b"{}");
    assert!(matches!(
        receive(w, &req, &unset, std::slice::from_ref(&secret), now),
        Reception::Rejected(Rejection::Misconfigured(_))
    ));
}

/// A valid secret for a connector (base64 after `whsec_` where the key is written so).
fn secret_for(plan: &ConnectorPlan) -> String {
    match &plan.webhooks.as_ref().unwrap().verify {
        VerifyPlan::Hmac(h) if h.key_prefix.is_some() => {
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()
        }
        _ => "round-trip-secret".into(),
    }
}

/// Connectors whose scheme binds the body (token schemes do not; Twilio binds form fields).
fn body_signing_connectors() -> Vec<Arc<ConnectorPlan>> {
    catalog()
        .connectors
        .values()
        .filter(|c| {
            matches!(
                c.webhooks.as_ref().map(|w| &w.verify),
                Some(VerifyPlan::Hmac(_) | VerifyPlan::ByConfig { .. })
            )
        })
        .cloned()
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// sign then verify round-trips for every connector, and any one-byte change to the body
    /// fails (Twilio: form bodies, since its scheme signs form fields, not raw bytes).
    #[test]
    fn sign_then_verify_round_trips(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        values in proptest::collection::vec("[a-zA-Z0-9]{1,12}", 3),
        flip in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        now in 1_500_000_000u64..2_000_000_000,
    ) {
        for plan in body_signing_connectors() {
            let w = plan.webhooks.as_ref().unwrap();
            let secret = secret_for(&plan);
            let vars = base(&plan, &secret, json!({ "scheme": "hex-sha256" }));
            let twilio = plan.id == "twilio";
            let (content_type, body) = if twilio {
                ("application/x-www-form-urlencoded",
                 format!("Body={}&From={}&MessageSid={}", values[0], values[1], values[2]).into_bytes())
            } else if plan.id == "linear" {
                ("application/json", format!(r#"{{"webhookTimestamp":{},"x":"{}"}}"#, now * 1000, values[0]).into_bytes())
            } else {
                ("application/octet-stream", body.clone())
            };
            let mut req = request("POST", "https://example.com/h?x=1", &[("Content-Type", content_type)], &body);
            let signed = sign(w, &req, &vars, &secret, at(now)).unwrap();
            req.headers.extend(signed.headers);
            let got = receive(w, &req, &vars, std::slice::from_ref(&secret), at(now));
            prop_assert!(!matches!(got, Reception::Rejected(_)), "{}: {:?}", plan.id, got);

            let mut changed = body.clone();
            if twilio {
                // Change one character of a value to another alphanumeric one.
                let start = changed.len() - values[2].len();
                let i = start + flip.index(values[2].len());
                changed[i] = if changed[i] == b'a' { b'b' } else { b'a' };
            } else {
                let i = flip.index(changed.len());
                changed[i] ^= xor;
            }
            let tampered = IncomingRequest { body: Bytes::from(changed), ..req.clone() };
            let got = receive(w, &tampered, &vars, std::slice::from_ref(&secret), at(now));
            prop_assert!(matches!(got, Reception::Rejected(_) | Reception::Invalid(_)), "{}: {:?}", plan.id, got);
        }
    }

    /// Arbitrary headers and bodies never panic the verifier, for any connector.
    #[test]
    fn arbitrary_deliveries_do_not_panic(
        headers in proptest::collection::vec(("[A-Za-z-]{1,24}", ".{0,80}"), 0..6),
        body in proptest::collection::vec(any::<u8>(), 0..256),
        method in "(GET|POST|PUT)",
    ) {
        let mut headers = headers;
        for plan in catalog().connectors.values() {
            let Some(w) = plan.webhooks.as_ref() else { continue };
            // Also the headers each scheme reads, with arbitrary values.
            if let VerifyPlan::Hmac(h) = &w.verify {
                headers.push((h.header.clone(), String::from_utf8_lossy(&body).into_owned()));
            }
            let req = IncomingRequest {
                method: method.clone(),
                url: "https://example.com/h".into(),
                headers: headers.clone(),
                body: Bytes::from(body.clone()),
            };
            let vars = base(plan, "fuzz-secret", json!({ "scheme": "hex-sha256" }));
            let _ = receive(w, &req, &vars, &["fuzz-secret".to_string()], at(1_700_000_000));
        }
    }
}

/// Handshakes of providers whose connectors come later, written as specs here: Microsoft
/// Graph's `validationToken`, Dropbox's GET `challenge` (with its nosniff header) and
/// Meta's `hub.challenge` after checking `hub.verify_token`. All are unsigned.
#[test]
fn graph_dropbox_and_meta_handshakes_are_expressible() {
    let yaml = r#"connector: hs
name: Handshakes
config:
  verify_token: { secret: true }
  app_secret: { secret: true }
base_url: https://example.com
auth: { none: {} }
webhooks:
  verify:
    hmac:
      algorithm: sha256
      key: "{{ secrets.app_secret }}"
      signed: "{{ raw_body }}"
      signature: { header: X-Hub-Signature-256, prefix: "sha256=", encoding: hex }
  handshakes:
    - when: "query.validationToken is defined"
      unsigned: true
      respond: { content_type: text/plain, body: "{{ query.validationToken }}" }
    - when: "request.method == 'GET' and query.challenge is defined"
      unsigned: true
      respond:
        content_type: text/plain
        body: "{{ query.challenge }}"
        headers: { X-Content-Type-Options: nosniff }
    - when: "query['hub.mode'] == 'subscribe' and query['hub.verify_token'] == secrets.verify_token"
      unsigned: true
      respond: { body: "{{ query['hub.challenge'] }}" }
"#;
    let compiled = switchyard::compile::compile_sources(&[switchyard::compile::SourceFile {
        path: "hs.yaml".into(),
        text: yaml.into(),
    }]);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}",
        compiled.diagnostics
    );
    let plan = compiled.catalog.unwrap().connectors["hs"].clone();
    let w = plan.webhooks.as_ref().unwrap();
    let vars = base(&plan, "vt-123", json!({}));
    let keys = ["vt-123".to_string()];
    let now = at(1_700_000_000);
    let reply =
        |method: &str, url: &str| receive(w, &request(method, url, &[], b""), &vars, &keys, now);
    let text = |body: &str, headers: Vec<(String, String)>| Reception::Reply {
        status: 200,
        content_type: "text/plain".into(),
        body: body.into(),
        headers,
    };
    assert_eq!(
        reply(
            "POST",
            "https://x/h?validationToken=Validation%3A%20token%2B1"
        ),
        text("Validation: token+1", vec![])
    );
    assert_eq!(
        reply("GET", "https://x/h?challenge=abc"),
        text(
            "abc",
            vec![("X-Content-Type-Options".into(), "nosniff".into())]
        )
    );
    assert_eq!(
        reply(
            "GET",
            "https://x/h?hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=1158201444"
        ),
        text("1158201444", vec![])
    );
    // A wrong verify token is not a handshake: it falls through to verification.
    assert!(matches!(
        reply(
            "GET",
            "https://x/h?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1"
        ),
        Reception::Rejected(Rejection::MissingHeader(_))
    ));
}
