//! `switchyard serve` end to end: the real binary on 127.0.0.1:0, real HTTP over loopback,
//! SIGTERM for a graceful stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Kills the server if the test fails before stopping it.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawns `serve` (stderr piped) and waits for its address; the rest of its log stays
/// readable.
fn start_serve(
    command: &mut Command,
) -> (KillOnDrop, String, BufReader<std::process::ChildStderr>) {
    let mut child = KillOnDrop(command.stderr(Stdio::piped()).spawn().unwrap());
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve exited before listening"
        );
        if let Some((_, addr)) = line.trim().split_once("listening on http://") {
            return (child, addr.to_string(), stderr);
        }
    }
}

fn get(address: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(address).expect("server accepts connections");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serve_loads_the_shipped_specs_serves_the_catalog_and_stops_on_sigterm() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let data = tempfile::tempdir().unwrap();
    let (mut child, address, _stderr) = start_serve(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .current_dir(&root),
    );

    assert_eq!(get(&address, "/healthz"), (200, "ok\n".to_string()));
    assert_eq!(get(&address, "/readyz").0, 200);
    let (status, body) = get(&address, "/api/catalog");
    assert_eq!(status, 200);
    let catalog: serde_json::Value = serde_json::from_str(&body).expect("catalog is JSON");
    let slack = catalog["connectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "slack")
        .expect("slack loaded");
    assert_eq!(slack["auth_modes"], serde_json::json!(["bearer", "oauth2"]));
    assert!(
        slack["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "post_message")
    );
    let flow = catalog["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "weekday-payments-digest")
        .unwrap();
    assert_eq!(
        flow["trigger"],
        serde_json::json!({"cron": "0 9 * * MON-FRI", "timezone": "Europe/Berlin"})
    );
    assert_eq!(get(&address, "/nope").0, 404);

    let status = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.0.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "graceful shutdown exits 0");
}

#[test]
fn serve_refuses_invalid_specs_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "connector: demo\nname: Demo\nbase_url: https://x\nauth: { beare: {} }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["serve", "--listen", "127.0.0.1:0", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error[unknown-field]: unknown field `beare`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: did you mean `bearer`?"), "{stderr}");
    let _ = std::io::stdout().flush();
}

fn catalog_workflows(address: &str) -> Vec<String> {
    let (status, body) = get(address, "/api/catalog");
    assert_eq!(status, 200);
    let catalog: serde_json::Value = serde_json::from_str(&body).unwrap();
    catalog["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect()
}

/// `switchyard reload` makes the running server load a new workflow; a broken spec is
/// refused with its diagnostic, and the server keeps serving what it had.
#[test]
fn reload_puts_valid_specs_in_place_and_refuses_invalid_ones() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let specs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::create_dir(specs.path().join("workflows")).unwrap();
    std::fs::copy(
        root.join("bench/n8n/connectors/bench-hook.yaml"),
        specs.path().join("bench-hook.yaml"),
    )
    .unwrap();
    let (mut child, address, mut stderr) = start_serve(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .arg(specs.path()),
    );
    // Keep reading the log so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    assert!(catalog_workflows(&address).is_empty());

    let reload = || {
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["reload", "--data-dir"])
            .arg(data.path())
            .output()
            .unwrap()
    };
    std::fs::write(
        specs.path().join("workflows/echo.yaml"),
        "workflow: echo\ntrigger:\n  webhook: { connector: bench-hook, event: received, connection: main }\nsteps:\n  - id: note\n    set: { seen: true }\n",
    )
    .unwrap();
    let out = reload();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 workflow(s)"));
    assert_eq!(catalog_workflows(&address), ["echo"]);

    std::fs::write(
        specs.path().join("workflows/broken.yaml"),
        "workflow: broken\ntrigger: { cron: { schedule: \"61 * * * *\" } }\nsteps: []\n",
    )
    .unwrap();
    let out = reload();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("reload refused"), "{stderr}");
    assert!(
        stderr.contains("broken.yaml"),
        "the diagnostic names the file: {stderr}"
    );
    assert_eq!(
        catalog_workflows(&address),
        ["echo"],
        "the valid catalog stays"
    );

    Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(child.0.wait().unwrap().code(), Some(0));
    assert!(
        !data.path().join("switchyard.pid").exists(),
        "the pid file is removed at exit"
    );
}

#[test]
fn reload_without_a_running_server_says_so() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(["reload", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no server is running"), "{stderr}");
}

fn post(address: &str, path: &str, body: &str) -> u16 {
    let mut stream = TcpStream::connect(address).expect("server accepts connections");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// `/metrics` counts deliveries by outcome and runs by status (unknown endpoints without
/// the caller's names as labels), and `--log-format json` writes one JSON object per line
/// with the run id as a field.
#[test]
fn metrics_and_json_logs() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let specs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("bench/n8n/connectors/bench-hook.yaml"),
        specs.path().join("bench-hook.yaml"),
    )
    .unwrap();
    std::fs::write(
        specs.path().join("echo.yaml"),
        "workflow: echo\ntrigger:\n  webhook: { connector: bench-hook, event: received, connection: main }\nsteps:\n  - id: note\n    set: { seen: \"{{ trigger.payload.n }}\" }\n",
    )
    .unwrap();
    let connections = specs.path().join("connections.json");
    std::fs::write(
        &connections,
        r#"{"main": {"connector": "bench-hook", "config": {}}}"#,
    )
    .unwrap();
    let (_child, address, stderr) = start_serve(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--data-dir",
            ])
            .arg(data.path())
            .arg("--connections")
            .arg(&connections)
            .arg(specs.path().join("bench-hook.yaml"))
            .arg(specs.path().join("echo.yaml"))
            .env("SWITCHYARD_LOG", "info"),
    );
    let (lines_out, lines_in) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = lines_out.send(line);
        }
    });

    assert_eq!(post(&address, "/hooks/echo", r#"{"n": 1}"#), 200);
    assert_eq!(post(&address, "/hooks/echo", r#"{"n": 2}"#), 200);
    assert_eq!(post(&address, "/hooks/nope/nothing", "{}"), 404);
    let mut body = String::new();
    for _ in 0..100 {
        body = get(&address, "/metrics").1;
        if body.contains(r#"switchyard_runs_finished_total{workflow="echo",status="succeeded"} 2"#)
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        body.contains(r#"switchyard_webhooks_total{connector="bench-hook",outcome="accepted"} 2"#),
        "{body}"
    );
    assert!(
        body.contains(
            r#"switchyard_webhooks_total{connector="unknown",outcome="unknown_endpoint"} 1"#
        ),
        "{body}"
    );
    assert!(
        body.contains(r#"switchyard_runs_finished_total{workflow="echo",status="succeeded"} 2"#),
        "{body}"
    );
    assert!(body.contains("switchyard_step_duration_seconds"), "{body}");
    assert!(body.contains("switchyard_queue_wait_seconds"), "{body}");
    assert!(
        !body.contains("nothing"),
        "no label from the request path: {body}"
    );

    // Logs: JSON objects; the run's line carries its id.
    let mut run_line = None;
    while let Ok(line) = lines_in.recv_timeout(std::time::Duration::from_secs(5)) {
        let value: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        if value["message"] == "run succeeded" {
            run_line = Some(value);
            break;
        }
    }
    let run_line = run_line.expect("a `run succeeded` log line");
    assert!(
        run_line["run"].as_str().is_some_and(|id| !id.is_empty()),
        "{run_line}"
    );
    assert_eq!(run_line["workflow"], "echo");
}

/// `serve --database-url postgres://...`: webhooks are stored and run on PostgreSQL, and
/// `runs list` reads the same history from it.
#[test]
fn serve_runs_workflows_on_postgres() {
    let Some(url) = super::common::postgres_url("serve with --database-url") else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime.block_on(super::common::TestStore::postgres(&url));
    let database_url = store.database_url().unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let specs = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("bench/n8n/connectors/bench-hook.yaml"),
        specs.path().join("bench-hook.yaml"),
    )
    .unwrap();
    std::fs::write(
        specs.path().join("echo.yaml"),
        "workflow: echo\ntrigger:\n  webhook: { connector: bench-hook, event: received, connection: main }\nsteps:\n  - id: note\n    set: { seen: \"{{ trigger.payload.n }}\" }\n",
    )
    .unwrap();
    let connections = specs.path().join("connections.json");
    std::fs::write(
        &connections,
        r#"{"main": {"connector": "bench-hook", "config": {}}}"#,
    )
    .unwrap();
    let (_child, address, _stderr) = start_serve(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .arg("--connections")
            .arg(&connections)
            .arg(specs.path())
            .env("DATABASE_URL", &database_url),
    );
    for n in 0..20 {
        assert_eq!(
            post(&address, "/hooks/echo", &format!(r#"{{"n": {n}}}"#)),
            200
        );
    }
    let list = || {
        let out = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args([
                "runs",
                "list",
                "--limit",
                "100",
                "--database-url",
                &database_url,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let mut listed = String::new();
    for _ in 0..100 {
        listed = list();
        if listed.lines().filter(|l| l.contains("\tsucceeded")).count() == 20 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        listed
            .lines()
            .filter(|l| l.contains("\techo\tsucceeded"))
            .count(),
        20,
        "{listed}"
    );
    // Nothing was written to the data directory's SQLite file.
    assert!(!data.path().join("switchyard.db").exists());
    drop(_child);
    runtime.block_on(store.cleanup());
}
