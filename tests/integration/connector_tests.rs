//! Every shipped connector's own tests (`connectors/tests/*.yaml`) pass, and they cover the
//! connector: each action is called by a case, each webhook trigger is started by a signed
//! delivery, each handshake is answered, and an unsigned or forged delivery is refused.

use std::collections::BTreeSet;
use std::path::PathBuf;
use switchyard::plan::ConnectorTriggerPlan;

fn shipped() -> switchyard::compile::Compiled {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (compiled, _) = switchyard::compile::compile_paths(&[root.join("connectors")]).unwrap();
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}",
        compiled.diagnostics
    );
    compiled
}

#[tokio::test]
async fn every_shipped_connector_test_passes() {
    let compiled = shipped();
    let catalog = compiled.catalog.as_ref().unwrap();
    let mut failures = Vec::new();
    let mut count = 0;
    for tests in &compiled.tests {
        for result in switchyard::harness::run_tests(catalog, tests).await {
            count += 1;
            if !result.passed() {
                failures.push(format!(
                    "{}: {}\n  {}",
                    result.connector,
                    result.case,
                    result.failures.join("\n  ")
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(count > 0);
}

#[test]
fn every_shipped_connector_is_covered_by_its_tests() {
    let compiled = shipped();
    let catalog = compiled.catalog.as_ref().unwrap();
    let mut gaps = Vec::new();
    for (id, connector) in &catalog.connectors {
        // Email actions talk SMTP, not HTTP: they are tested against a real SMTP server
        // (tests/integration/email.rs), not by scripted exchanges.
        let http_actions: Vec<&String> = connector
            .actions
            .iter()
            .filter(|(_, a)| matches!(a.transport, switchyard::plan::Transport::Http))
            .map(|(name, _)| name)
            .collect();
        if http_actions.is_empty() && connector.webhooks.is_none() {
            continue;
        }
        let cases: Vec<_> = compiled
            .tests
            .iter()
            .filter(|t| &t.spec.tests == id)
            .flat_map(|t| t.spec.cases.iter())
            .collect();
        if cases.is_empty() {
            gaps.push(format!("{id}: no tests file (connectors/tests/{id}.yaml)"));
            continue;
        }
        let called: BTreeSet<&str> = cases.iter().filter_map(|c| c.action.as_deref()).collect();
        for action in http_actions {
            if !called.contains(action.as_str()) {
                gaps.push(format!("{id}: action `{action}` has no case"));
            }
        }
        let started: BTreeSet<&str> = cases
            .iter()
            .flat_map(|c| c.triggers.iter().flatten())
            .map(String::as_str)
            .collect();
        for (name, trigger) in &connector.triggers {
            if matches!(trigger, ConnectorTriggerPlan::Webhook { .. })
                && !started.contains(name.as_str())
            {
                gaps.push(format!(
                    "{id}: webhook trigger `{name}` is started by no case"
                ));
            }
        }
        if let Some(webhooks) = &connector.webhooks {
            let verifies = !matches!(webhooks.verify, switchyard::plan::VerifyPlan::None { .. });
            if verifies && !cases.iter().any(|c| c.rejected) {
                gaps.push(format!("{id}: no case shows a bad delivery refused"));
            }
            let replies = cases.iter().filter(|c| c.reply.is_some()).count();
            if replies < webhooks.handshakes.len() {
                gaps.push(format!(
                    "{id}: {} handshake(s), {replies} reply case(s)",
                    webhooks.handshakes.len()
                ));
            }
        }
    }
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

/// `switchyard test` runs from the command line, and a failing case prints its diff and
/// exits 1.
#[test]
fn switchyard_test_prints_a_diff_and_fails_on_a_wrong_expectation() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = super::common::switchyard(&["test", "slack"]);
    assert!(out.status.success(), "{}", super::common::stdout(&out));
    assert!(super::common::stdout(&out).contains("0 failed"));

    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("connectors/slack.yaml"),
        dir.path().join("slack.yaml"),
    )
    .unwrap();
    let tests = std::fs::read_to_string(root.join("connectors/tests/slack.yaml"))
        .unwrap()
        .replace(
            "output: { team: Acme, user: switchyard }",
            "output: { team: Acme, user: someone }",
        );
    std::fs::write(dir.path().join("slack-tests.yaml"), tests).unwrap();
    let out = super::common::switchyard(&["test", "--specs", dir.path().to_str().unwrap()]);
    let text = super::common::stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("FAIL  slack: auth_test names the team and user"),
        "{text}"
    );
    assert!(
        text.contains("-   \"user\": \"someone\"") && text.contains("+   \"user\": \"switchyard\""),
        "{text}"
    );
    let unknown = super::common::switchyard(&["test", "slak"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("did you mean `slack`"));
}
