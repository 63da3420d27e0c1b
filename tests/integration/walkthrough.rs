//! The walkthrough in `docs/connectors/slack.md` works as written: its shell blocks run in
//! order, in a fresh directory, with the built binary on PATH, and the fake Slack receives
//! the issue's message. (Only the ports change, so parallel runs do not collide.)

use std::path::PathBuf;
use std::process::Command;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The ```sh blocks after the `## Walkthrough` heading, in order.
fn walkthrough_commands(page: &str) -> String {
    let start = page
        .find("## Walkthrough")
        .expect("slack.md has a walkthrough");
    let mut script = String::new();
    let mut in_block = false;
    for line in page[start..].lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            in_block = !in_block && trimmed == "```sh";
            continue;
        }
        if in_block {
            script.push_str(trimmed);
            script.push('\n');
        }
    }
    script
}

#[test]
fn the_slack_walkthrough_runs_as_written() {
    let which = Command::new("sh")
        .args(["-c", "command -v python3 curl"])
        .output()
        .unwrap();
    if !which.status.success() {
        eprintln!("SKIPPED: the walkthrough needs python3 and curl");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let page = std::fs::read_to_string(root.join("docs/connectors/slack.md")).unwrap();
    let commands = walkthrough_commands(&page);
    assert!(commands.contains("switchyard serve"), "{commands}");
    let (serve, slack) = (free_port(), free_port());
    let commands = commands
        .replace("8080", &serve.to_string())
        .replace("9999", &slack.to_string());
    let dir = tempfile::tempdir().unwrap();
    for folder in ["connectors", "workflows", "examples"] {
        std::os::unix::fs::symlink(root.join(folder), dir.path().join(folder)).unwrap();
    }
    let script =
        format!("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{commands}");
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_switchyard"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("timeout")
        .args(["120", "bash", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("SWITCHYARD_DATA_DIR")
        .env_remove("SWITCHYARD_MASTER_KEY")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the walkthrough failed ({:?})\nscript:\n{script}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let posted = stdout
        .lines()
        .find(|l| l.contains("chat.postMessage"))
        .unwrap_or_else(|| panic!("no message reached the fake Slack:\n{stdout}"));
    let message: serde_json::Value = serde_json::from_str(posted).unwrap();
    assert_eq!(message["channel"], "#eng");
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .starts_with("New issue #42 in acme/app: Crash on empty input"),
        "{message}"
    );
}
