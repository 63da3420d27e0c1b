//! `switchyard call` run as a user would: against a real HTTP server on 127.0.0.1,
//! checking output formats, exit codes, and that secrets never reach stdout or stderr.

use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wiremock::matchers::{header, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "very-secret-token-42";

fn bench_connector() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/bench/mock-issues.yaml")
}

async fn switchyard(args: Vec<String>, envs: Vec<(&'static str, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(&args)
            .envs(envs)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("binary runs")
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn no_secret(out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        assert!(
            !text(stream).contains(SECRET),
            "secret leaked: {}",
            text(stream)
        );
    }
}

fn issue(i: u64, state: &str) -> Json {
    json!({"id": i, "title": format!("T{i}"), "state": state, "user": {"login": format!("u{i}")}, "body": "b"})
}

async fn mock_issues() -> MockServer {
    let server = MockServer::start().await;
    let auth = format!("Bearer {SECRET}");
    Mock::given(path("/issues"))
        .and(query_param_is_missing("cursor"))
        .and(query_param("per_page", "2"))
        .and(header("authorization", auth.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"items": [issue(1, "open"), issue(2, "closed")], "next_cursor": "c1"}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/issues"))
        .and(query_param("cursor", "c1"))
        .and(header("authorization", auth.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"items": [issue(3, "open")], "next_cursor": null})),
        )
        .mount(&server)
        .await;
    server
}

fn base_args(server: &MockServer, action: &str) -> Vec<String> {
    vec![
        "call".into(),
        bench_connector().display().to_string(),
        action.into(),
        "-c".into(),
        format!("base_url={}", server.uri()),
        "-c".into(),
        "page_size=2".into(),
    ]
}

#[tokio::test]
async fn streams_filtered_records_as_json_lines() {
    let server = mock_issues().await;
    let mut args = base_args(&server, "list_open_issues");
    args.extend(["--format".into(), "jsonl".into(), "-v".into()]);
    let out = switchyard(args, vec![("SWITCHYARD_SECRET_API_TOKEN", SECRET.into())]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    no_secret(&out);
    let lines: Vec<Json> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["summary"], "T1 by u1");
    assert!(
        lines
            .iter()
            .all(|r| r.get("body").is_none() && r["state"] == "open")
    );
    // -v: one line per request on stderr.
    assert_eq!(text(&out.stderr).matches("attempt 1: GET").count(), 2);
}

#[tokio::test]
async fn json_format_writes_one_array_and_max_pages_truncates() {
    let server = mock_issues().await;
    let mut args = base_args(&server, "list_issues");
    args.extend([
        "-s".into(),
        format!("api_token={SECRET}"),
        "--max-pages".into(),
        "1".into(),
    ]);
    let out = switchyard(args, vec![]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    no_secret(&out);
    let array: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(array.as_array().unwrap().len(), 2);
    assert!(text(&out.stderr).contains("stopped by --max-pages"));
}

#[tokio::test]
async fn dry_run_prints_the_request_with_secrets_masked() {
    let server = MockServer::start().await;
    let mut args = base_args(&server, "list_issues");
    args.extend([
        "-s".into(),
        format!("api_token={SECRET}"),
        "--dry-run".into(),
    ]);
    let out = switchyard(args, vec![]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    no_secret(&out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("GET {}/issues?per_page=2\n", server.uri())),
        "{stdout}"
    );
    assert!(stdout.contains("Authorization: ***"), "{stdout}");
    assert!(
        server.received_requests().await.unwrap().is_empty(),
        "dry run sent a request"
    );
}

#[tokio::test]
async fn provider_errors_exit_1_with_the_providers_message() {
    let server = MockServer::start().await;
    Mock::given(path("/issues"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"message": format!("Bad credentials: {SECRET}")})),
        )
        .mount(&server)
        .await;
    let mut args = base_args(&server, "list_issues");
    args.extend(["-s".into(), format!("api_token={SECRET}")]);
    let out = switchyard(args, vec![]).await;
    assert_eq!(out.status.code(), Some(1));
    no_secret(&out);
    assert_eq!(
        text(&out.stderr).trim(),
        "error: HTTP 401 Unauthorized: Bad credentials: ***"
    );
}

#[tokio::test]
async fn usage_errors_exit_2_and_name_the_problem() {
    let server = MockServer::start().await;
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            base_args(&server, "list_issue"),
            "no action `list_issue` (did you mean `list_issues`?)",
        ),
        (
            base_args(&server, "list_issues"),
            "config field `api_token` is required",
        ),
        (
            [
                base_args(&server, "list_issues"),
                vec!["-c".into(), format!("api_token={SECRET}")],
            ]
            .concat(),
            "`api_token` is a secret: pass it with -s",
        ),
        (
            [
                base_args(&server, "list_issues"),
                vec![
                    "-s".into(),
                    "api_token=x".into(),
                    "-c".into(),
                    "page_size=ten".into(),
                ],
            ]
            .concat(),
            "config field `page_size`: \"ten\" is not of type integer",
        ),
        (vec!["call".into(), "nope".into(), "x".into()], "error:"),
    ];
    for (args, expected) in cases {
        let out = switchyard(args.clone(), vec![]).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        no_secret(&out);
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(Path::new(&bench_connector()).is_file());
}
