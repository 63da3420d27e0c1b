//! Stored connections through the CLI and the server: secrets sealed at rest (the database
//! file holds no plaintext), checks recorded, key rotation, a wrong key refused at start.

use super::common::stdout;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "ghp_plaintext_token_0123456789";
const HOOK_SECRET: &str = "hook-secret-abcdef";

/// Runs `switchyard` in the repository root with `stdin` piped in; no master key from the
/// environment unless given.
fn sy(args: &[&str], data: &Path, stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("SWITCHYARD_MASTER_KEY")
        .env_remove("SWITCHYARD_MASTER_KEY_FILE")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every byte of the data directory's database files.
fn database_bytes(data: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["switchyard.db", "switchyard.db-wal"] {
        if let Ok(bytes) = std::fs::read(data.join(name)) {
            all.extend(bytes);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn secrets_are_sealed_at_rest_and_never_shown() {
    let data = tempfile::tempdir().unwrap();
    let out = sy(
        &[
            "connections",
            "add",
            "github",
            "acme-github",
            "-s",
            "token",
            "-s",
            "webhook_secret",
        ],
        data.path(),
        &format!("{TOKEN}\n{HOOK_SECRET}\n"),
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("generated"), "{}", stderr(&out));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("master.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is private");
    }

    let listed = sy(&["connections", "list"], data.path(), "", &[]);
    assert!(
        stdout(&listed).contains("acme-github"),
        "{}",
        stdout(&listed)
    );
    for args in [
        &["connections", "show", "acme-github"][..],
        &["connections", "show", "acme-github", "--json"][..],
        &["connections", "list", "--json"][..],
    ] {
        let shown = sy(args, data.path(), "", &[]);
        let text = format!("{}{}", stdout(&shown), stderr(&shown));
        assert!(
            !text.contains(TOKEN) && !text.contains(HOOK_SECRET),
            "{text}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&stdout(&sy(
        &["connections", "show", "acme-github", "--json"],
        data.path(),
        "",
        &[],
    )))
    .unwrap();
    assert_eq!(json["secrets_stored"], true);
    assert_eq!(json["status"], "active");

    let bytes = database_bytes(data.path());
    assert!(contains(&bytes, "acme-github"), "the row is there");
    assert!(
        !contains(&bytes, TOKEN) && !contains(&bytes, HOOK_SECRET),
        "no plaintext secret in the database files"
    );

    // Bad input: a secret passed as plain config, an unknown connector, a taken name.
    let out = sy(
        &[
            "connections",
            "add",
            "github",
            "x",
            "-c",
            &format!("token={TOKEN}"),
        ],
        data.path(),
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`token` is a secret: pass it with -s"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains(TOKEN),
        "the error does not echo the value"
    );
    let out = sy(&["connections", "add", "githb", "x"], data.path(), "", &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `github`"),
        "{}",
        stderr(&out)
    );
    let out = sy(
        &[
            "connections",
            "add",
            "github",
            "acme-github",
            "-s",
            "token=x",
        ],
        data.path(),
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("exists already"), "{}", stderr(&out));

    let out = sy(
        &["connections", "remove", "acme-github"],
        data.path(),
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(0));
    let out = sy(
        &["connections", "show", "acme-github"],
        data.path(),
        "",
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn check_runs_the_connectors_check_and_records_the_outcome() {
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"login": "octo"})),
        )
        .mount(&github)
        .await;
    let data = tempfile::tempdir().unwrap();
    let base = github.uri();
    let add = |name: &str, token: &str| {
        sy(
            &[
                "connections",
                "add",
                "github",
                name,
                "--auth",
                "bearer",
                "--base-url",
                &base,
                "-s",
                "token",
            ],
            data.path(),
            &format!("{token}\n"),
            &[],
        )
    };
    assert_eq!(add("good", TOKEN).status.code(), Some(0));
    assert_eq!(add("bad", "wrong-token").status.code(), Some(0));

    let passed = sy(&["connections", "check", "good"], data.path(), "", &[]);
    assert_eq!(passed.status.code(), Some(0), "{}", stderr(&passed));
    let failed = sy(&["connections", "check", "bad"], data.path(), "", &[]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        !stderr(&failed).contains("wrong-token"),
        "{}",
        stderr(&failed)
    );

    let rows: serde_json::Value = serde_json::from_str(&stdout(&sy(
        &["connections", "list", "--json"],
        data.path(),
        "",
        &[],
    )))
    .unwrap();
    let by_name = |n: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("good")["status"], "active");
    assert_ne!(by_name("good")["last_checked_at"], "-");
    let bad = by_name("bad");
    assert_ne!(bad["status"], "active", "{bad}");
    assert_eq!(bad["error_count"], 1);
    assert!(
        bad["last_error"]
            .as_str()
            .is_some_and(|e| !e.contains("wrong-token"))
    );
}

#[test]
fn rotation_reseals_every_secret_and_drops_the_old_key() {
    let data = tempfile::tempdir().unwrap();
    let mut names = Vec::new();
    for n in 0..100 {
        let name = format!("c{n:03}");
        let out = sy(
            &[
                "connections",
                "add",
                "github",
                &name,
                "-s",
                "webhook_secret",
            ],
            data.path(),
            &format!("secret-{n}\n"),
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        names.push(name);
    }
    let old_file = std::fs::read_to_string(data.path().join("master.key")).unwrap();
    let out = sy(&["keys", "rotate"], data.path(), "", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("resealed 100 value(s)"),
        "{}",
        stdout(&out)
    );
    let new_file = std::fs::read_to_string(data.path().join("master.key")).unwrap();
    let keys = |text: &str| {
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
            .count()
    };
    assert_eq!(keys(&new_file), 1, "the old key is gone from the file");
    assert_ne!(old_file, new_file);

    // Everything opens under the new key alone (the server verifies every secret at
    // start and refuses to run otherwise) ...
    let verified = serve_starts(data.path(), &[]);
    assert!(verified.is_ok(), "{verified:?}");
    // ... and nothing opens under the old one.
    let old_key = old_file
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let refused = serve_starts(data.path(), &[("SWITCHYARD_MASTER_KEY", &old_key)]);
    let message = refused.expect_err("a key that cannot open the secrets stops the server");
    assert!(
        message.contains("cannot open the stored secrets"),
        "{message}"
    );
}

/// Starts `serve` on the data dir; `Ok` once it listens (then stops it), `Err(stderr)` if
/// it exits first.
fn serve_starts(data: &Path, env: &[(&str, &str)]) -> Result<(), String> {
    use std::io::{BufRead, BufReader};
    /// Stops the server however the function returns.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Stop(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("SWITCHYARD_MASTER_KEY")
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(child.0.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            return Err(seen);
        }
        seen.push_str(&line);
        if line.contains("listening on") {
            return Ok(());
        }
    }
}
