//! `switchyard webhook verify|sign` as a user runs them: exit codes and output.

use super::common::{stdout, switchyard};

const GITHUB_SIG: &str =
    "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

#[test]
fn verify_prints_valid_with_the_event_or_invalid_with_the_reason() {
    let secret = "It's a Secret to Everybody";
    let ok = switchyard(&[
        "webhook",
        "verify",
        "--connector",
        "github",
        "--secret",
        secret,
        "--body",
        "Hello, World!",
        "-H",
        GITHUB_SIG,
        "-H",
        "x-github-event: issues",
        "-H",
        "X-GitHub-Delivery: d-1",
    ]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(stdout(&ok), "valid\nevent_type: issues\nevent_id: d-1\n");

    // The second secret of a rotation matches.
    let rotated = switchyard(&[
        "webhook",
        "verify",
        "--connector",
        "github",
        "--secret",
        "old",
        "--secret",
        secret,
        "--body",
        "Hello, World!",
        "-H",
        GITHUB_SIG,
    ]);
    assert_eq!(rotated.status.code(), Some(0));

    let tampered = switchyard(&[
        "webhook",
        "verify",
        "--connector",
        "github",
        "--secret",
        secret,
        "--body",
        "Hello, World?",
        "-H",
        GITHUB_SIG,
    ]);
    assert_eq!(tampered.status.code(), Some(1));
    assert_eq!(stdout(&tampered), "invalid: signature does not match\n");

    let missing = switchyard(&[
        "webhook",
        "verify",
        "--connector",
        "github",
        "--secret",
        secret,
        "--body",
        "x",
    ]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stdout(&missing),
        "invalid: missing header `X-Hub-Signature-256`\n"
    );
}

#[test]
fn sign_output_verifies_and_the_clock_can_be_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, b"{\"id\":\"evt_1\",\"type\":\"charge.succeeded\"}\n").unwrap();
    let body = body.to_str().unwrap();
    let signed = switchyard(&[
        "webhook",
        "sign",
        "--connector",
        "stripe",
        "--secret",
        "whsec_abc",
        "--body-file",
        body,
        "--now",
        "1700000000",
    ]);
    assert_eq!(signed.status.code(), Some(0));
    let header = stdout(&signed).trim().to_string();
    assert!(
        header.starts_with("Stripe-Signature: t=1700000000,v1="),
        "{header}"
    );
    let verify = |now: &str| {
        switchyard(&[
            "webhook",
            "verify",
            "--connector",
            "stripe",
            "--secret",
            "whsec_abc",
            "--body-file",
            body,
            "-H",
            &header,
            "--now",
            now,
        ])
    };
    let ok = verify("1700000100");
    assert_eq!(
        stdout(&ok),
        "valid\nevent_type: charge.succeeded\nevent_id: evt_1\n"
    );
    let stale = verify("1700000301");
    assert_eq!(stale.status.code(), Some(1));
    assert_eq!(
        stdout(&stale),
        "invalid: timestamp is 301 s old, beyond the tolerance\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["webhook", "verify", "--connector", "github", "--body", "x"],
        vec![
            "webhook",
            "verify",
            "--connector",
            "nope",
            "--secret",
            "s",
            "--body",
            "x",
        ],
        vec![
            "webhook",
            "verify",
            "--connector",
            "github",
            "--secret",
            "s",
            "--body",
            "x",
            "-H",
            "no colon",
        ],
        vec![
            "webhook",
            "verify",
            "--connector",
            "github",
            "--secret",
            "s",
            "--body-file",
            "/nonexistent",
        ],
        vec![
            "webhook",
            "sign",
            "--connector",
            "stripe",
            "--secret",
            "s",
            "--body",
            "x",
            "--now",
            "-5",
        ],
    ] {
        let out = switchyard(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
