//! The `switchyard` binary: exit codes and output formats, run as a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn switchyard(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("binary runs")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const BROKEN: &str = "connector: demo\nname: Demo\nbase_url: https://x\nauth: { none: {} }\nactions:\n  a: { method: GET, path: \"/a/{{ inptu.id }}\" }\n";
const WARNS: &str =
    "connector: demo\nname: Demo\nbase_url: https://x\nconfig:\n  unused: {}\nauth: { none: {} }\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn validate_defaults_to_the_shipped_folders_and_exits_zero() {
    let out = switchyard(&["validate"], &repo());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("file(s) valid"));
}

#[test]
fn an_invalid_file_exits_one_and_shows_the_line_with_a_caret() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "broken.yaml", BROKEN);
    let out = switchyard(&["validate", "broken.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("error[undefined-variable]: undefined variable `inptu`"),
        "{text}"
    );
    assert!(
        text.contains("--> broken.yaml:6:27  (at actions.a.path)"),
        "{text}"
    );
    assert!(
        text.contains(
            "6 |   a: { method: GET, path: \"/a/{{ inptu.id }}\" }\n  |                           ^"
        ),
        "{text}"
    );
    assert!(text.contains("= hint: did you mean `input`?"), "{text}");
}

#[test]
fn json_format_is_machine_readable() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "broken.yaml", BROKEN);
    let out = switchyard(&["validate", "--format", "json", "broken.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["file"], "broken.yaml");
    assert_eq!(d["position"]["line"], 6);
    assert_eq!(d["position"]["column"], 27);
    assert_eq!(d["yaml_path"], "actions.a.path");
    assert_eq!(d["code"], "undefined-variable");
}

#[test]
fn github_format_prints_annotations() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "broken.yaml", BROKEN);
    let out = switchyard(
        &["validate", "--format", "github", "broken.yaml"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("::error file=broken.yaml,line=6,col=27,title=undefined-variable::undefined variable `inptu`"),
        "{text}"
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "warns.yaml", WARNS);
    let out = switchyard(&["validate", "warns.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("warning[unused-config]"));
    let out = switchyard(&["validate", "--deny-warnings", "warns.yaml"], dir.path());
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn usage_and_io_errors_exit_two() {
    let dir = tempfile::tempdir().unwrap();
    let out = switchyard(&["validate", "nope/"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope/: no such file or directory"));
    let out = switchyard(&["validate", "--format", "xml"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    // A folder without specs is a usage error too: nothing was checked.
    let out = switchyard(&["validate", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn schema_check_passes_on_the_repo_and_fails_on_drift() {
    let out = switchyard(&["schema", "--check"], &repo());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let out = switchyard(
        &["schema", "--check", "--out", "s", "--docs", "d.md"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let out = switchyard(&["schema", "--out", "s", "--docs", "d.md"], dir.path());
    assert_eq!(out.status.code(), Some(0));
    assert!(dir.path().join("s/connector.schema.json").exists());
    let out = switchyard(
        &["schema", "--check", "--out", "s", "--docs", "d.md"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn credentials_written_into_a_spec_are_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";
    // A warning (secret literal) and an error that quotes the value (wrong type).
    let text = format!(
        "connector: demo\nname: Demo\nbase_url: https://x\nauth:\n  bearer: {{ token: \"{token}\" }}\nheaders:\n  X-Token: \"{token}\"\npagination:\n  p: {{ strategy: {{ link_header: {{}} }}, max_pages: \"{token}\" }}\n"
    );
    write(dir.path(), "leaky.yaml", &text);
    for format in ["human", "json", "github"] {
        let out = switchyard(&["validate", "--format", format, "leaky.yaml"], dir.path());
        let shown = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{shown}");
        assert!(shown.contains("secret-literal"), "{shown}");
        assert!(
            !shown.contains("abcdefghijklmnop"),
            "the token leaked in {format} output:\n{shown}"
        );
    }
}

#[test]
fn schedule_next_prints_firings_in_the_workflows_time_zone() {
    let out = switchyard(
        &["schedule", "next", "weekday-payments-digest", "-n", "3"],
        &repo(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines.iter().all(|l| l.contains(" 09:00:00 ")), "{text}");
    let missing = switchyard(&["schedule", "next", "weekday-payment-digest"], &repo());
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("did you mean `weekday-payments-digest`")
    );
    let not_cron = switchyard(&["schedule", "next", "github-issue-to-slack"], &repo());
    assert_eq!(not_cron.status.code(), Some(2));
}

/// `switchyard run` checks a manual workflow's input like the API does (defaults filled,
/// unknown names refused), and a `fail` step ends the run with its message, once.
#[test]
fn run_checks_manual_input_and_a_fail_step_ends_the_run_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "w.yaml",
        "workflow: book\ntrigger:\n  manual:\n    input:\n      id: { type: integer }\n      note: { type: string, default: none }\nsteps:\n  - id: echo\n    set: { note: \"{{ trigger.payload.note }}\" }\n  - id: refuse\n    if: \"trigger.payload.id > 10\"\n    fail: \"Appointment {{ trigger.payload.id }} is busy ({{ steps.echo.output.note }})\"\n  - id: after\n    set: { ok: true }\n",
    );
    let event = |json: &str| write(dir.path(), "e.json", json);
    let specs = dir.path().to_str().unwrap().to_string();
    let run = |e: &Path| {
        switchyard(
            &[
                "run",
                "book",
                "--specs",
                &specs,
                "--event",
                e.to_str().unwrap(),
            ],
            dir.path(),
        )
    };
    let out = run(&event(r#"{"id": 3}"#));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("none"), "{stdout}");
    let out = run(&event(r#"{"id": 42}"#));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("Appointment 42 is busy (none)"), "{all}");
    assert!(!all.contains("after"), "a step after `fail` ran: {all}");
    let out = run(&event(r#"{"id": 1, "colour": "red"}"#));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no input `colour`"));
}
