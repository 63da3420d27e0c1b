//! `switchyard run` (local, with mocks) and `switchyard runs list|show|retry|replay`.

use super::common::{stdout as out, switchyard};
use serde_json::json;
use std::process::Command;
use switchyard::store::{NewRun, StepRecord, Store};

#[test]
fn run_executes_a_workflow_locally_with_mocked_steps() {
    let dir = tempfile::tempdir().unwrap();
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        json!({"action": "opened", "issue": {"number": 7, "title": "T", "html_url": "u"},
               "repository": {"full_name": "a/b"}})
        .to_string(),
    )
    .unwrap();
    let mock = dir.path().join("slack.json");
    std::fs::write(&mock, r#"{"ts": "1.0"}"#).unwrap();
    let (event, mock) = (event.to_str().unwrap(), mock.to_str().unwrap());
    let ok = switchyard(&[
        "run",
        "github-issue-to-slack",
        "--event",
        event,
        "--mock",
        &format!("notify={mock}"),
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", out(&ok));
    assert_eq!(
        out(&ok),
        "ok      notify (1 attempt): {\"ts\":\"1.0\"}\nrun succeeded\n"
    );
    // Without the mock the Slack connection is missing: the run fails and says why.
    let failed = switchyard(&["run", "github-issue-to-slack", "--event", event]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        out(&failed).contains("no connection `acme-slack`"),
        "{}",
        out(&failed)
    );
    let usage = switchyard(&["run", "github-issue-to-slak"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[tokio::test]
async fn runs_list_show_retry_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_sqlite(&dir.path().join("switchyard.db"))
        .await
        .unwrap();
    let id = store
        .queue_run(&NewRun {
            workflow: "w".into(),
            spec_hash: "h".into(),
            trigger: json!({"n": 1}),
        })
        .await
        .unwrap();
    let claimed = store
        .claim_run("t", std::time::Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, id);
    for (step, status) in [("a", "succeeded"), ("b", "failed")] {
        let record = StepRecord {
            step_id: step.into(),
            status: status.into(),
            attempts: 1,
            output: (status == "succeeded").then(|| json!(1)),
            error: (status == "failed").then(|| "boom".to_string()),
            input: None,
        };
        store.record_step(&id, &record, 0).await.unwrap();
    }
    store
        .finish_run(&id, false, Some("step `b` failed: boom"))
        .await
        .unwrap();
    let data = dir.path().to_str().unwrap().to_string();
    let cli = move |args: &[&str]| {
        let mut all = vec!["runs", "--data-dir", &data];
        all.extend_from_slice(args);
        let all: Vec<String> = all.iter().map(|s| s.to_string()).collect();
        std::thread::spawn(move || {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            switchyard(&refs)
        })
        .join()
        .unwrap()
    };
    let list = cli(&["list", "--status", "failed"]);
    assert_eq!(
        out(&list),
        format!("{id}\tw\tfailed\tstep `b` failed: boom\n")
    );
    let show = cli(&["show", &id]);
    assert!(
        out(&show).contains("step a: succeeded after 1 attempt(s); output 1"),
        "{}",
        out(&show)
    );
    assert!(
        out(&show).contains("step b: failed after 1 attempt(s); error boom"),
        "{}",
        out(&show)
    );
    assert_eq!(cli(&["retry", &id]).status.code(), Some(0));
    // Retried from the failed step: the succeeded step stays journaled.
    let steps = store.steps(&id).await.unwrap();
    assert_eq!(
        steps
            .iter()
            .map(|s| s.step.step_id.as_str())
            .collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(store.run(&id).await.unwrap().unwrap().status, "queued");
    assert_eq!(
        cli(&["retry", &id]).status.code(),
        Some(2),
        "only failed runs are retried"
    );
    assert_eq!(cli(&["replay", &id]).status.code(), Some(0));
    assert_eq!(store.runs(Some("w"), 10).await.unwrap().len(), 2);
    let missing = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["runs", "--data-dir", "/nonexistent", "list"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn workflows_read_switchyard_env_variables_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("env.yaml"),
        "workflow: env-demo\ntrigger: { manual: {} }\nsteps:\n  - id: show\n    set: { region: \"{{ env.REGION }}\", other: \"{{ env.HOME | default('hidden') }}\" }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["run", "env-demo", "--specs"])
        .arg(dir.path())
        .env("SWITCHYARD_ENV_REGION", "eu-west")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "ok      show (1 attempt): {\"region\":\"eu-west\",\"other\":\"hidden\"}\nrun succeeded\n"
    );
}
