//! File transfers over real HTTP (wiremock on 127.0.0.1): downloads streamed into the file
//! store, file and multipart bodies streamed out of it, chunked uploads (a session URL on
//! another origin gets no credentials; a chunk is retried), limits, and a workflow that
//! moves a file from one provider to another by reference.

use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use switchyard::compile::{SourceFile, compile_sources};
use switchyard::files::{FileRef, FileStore};
use switchyard::interpret::{
    ActionError, Call, CollectSink, Connection, Interpreter, Options, ReqwestClient,
};
use switchyard::plan::ConnectorPlan;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const SECRET: &str = "file-token-9f8e7d";

const ACTIONS: &str = r#"
actions:
  download:
    method: GET
    path: /files/{{ input.id }}
    input: { id: { type: string } }
    download: {}
  download_redirected:
    method: GET
    path: /items/{{ input.id }}/content
    input: { id: { type: string } }
    download: { follow_redirect: true }
  put:
    method: PUT
    path: /files/{{ input.name }}
    input: { name: { type: string }, file: { type: file } }
    body: { file: { file: "{{ input.file }}" } }
  form:
    method: POST
    path: /form
    input: { file: { type: file } }
    body:
      multipart:
        parts:
          - { name: meta, json: { name: "{{ input.file.name }}" } }
          - { name: doc, file: "{{ input.file }}" }
  chunked:
    method: POST
    path: /sessions
    input: { file: { type: file }, upload_base: { type: string }, auth: { type: boolean, default: false } }
    body: { json: { name: "{{ input.file.name }}" } }
    upload:
      file: "{{ input.file }}"
      chunk_size: 64KiB
      chunk:
        method: PUT
        url: "{{ input.upload_base }}/session/1"
        auth: false
        headers: { Content-Range: "bytes {{ chunk.start }}-{{ chunk.end }}/{{ file.size }}" }
    output: { id: $.id }
  chunked_with_auth:
    method: POST
    path: /sessions
    input: { file: { type: file }, upload_base: { type: string } }
    body: { json: { name: "{{ input.file.name }}" } }
    upload:
      file: "{{ input.file }}"
      chunk_size: 64KiB
      chunk:
        method: PUT
        url: "{{ input.upload_base }}/session/1"
        headers: { Content-Range: "bytes {{ chunk.start }}-{{ chunk.end }}/{{ file.size }}" }
"#;

fn connector() -> Arc<ConnectorPlan> {
    let yaml = format!(
        r#"connector: t
name: T
config:
  base_url: {{}}
  token: {{ secret: true }}
base_url: "{{{{ config.base_url }}}}"
auth:
  bearer: {{ token: "{{{{ secrets.token }}}}" }}
retry: {{ attempts: 3, initial_delay: 10ms, max_delay: 40ms }}
{ACTIONS}"#
    );
    let compiled = compile_sources(&[SourceFile {
        path: "t.yaml".into(),
        text: yaml,
    }]);
    assert!(
        !compiled.diagnostics.has_errors(),
        "{:#?}",
        compiled.diagnostics
    );
    compiled.catalog.unwrap().connectors["t"].clone()
}

fn connection(server: &MockServer) -> Connection {
    let config = json!({ "base_url": server.uri(), "token": SECRET });
    Connection::new("test", connector(), config.as_object().unwrap().clone()).unwrap()
}

fn interpreter(files: &Arc<FileStore>, max_file_bytes: u64) -> Interpreter {
    Interpreter::new(
        Arc::new(ReqwestClient::new().unwrap()),
        Options {
            request_timeout: Duration::from_secs(5),
            files: Some(files.clone()),
            max_file_bytes,
            ..Options::default()
        },
    )
}

async fn call(
    interpreter: &Interpreter,
    conn: &Connection,
    action: &str,
    input: Json,
) -> Result<Json, ActionError> {
    let call = Call {
        action: action.into(),
        input: input.as_object().cloned().unwrap_or_default(),
        ..Call::default()
    };
    let result = interpreter
        .call(conn, &call, &mut CollectSink::default())
        .await;
    if let Err(e) = &result {
        assert!(!e.to_string().contains(SECRET), "secret leaked: {e}");
    }
    result.map(|o| o.output)
}

fn content(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

fn temp_files() -> (tempfile::TempDir, Arc<FileStore>) {
    let dir = tempfile::tempdir().unwrap();
    let files = Arc::new(FileStore::open(dir.path().join("files")).unwrap());
    (dir, files)
}

#[tokio::test]
async fn a_download_is_streamed_into_the_store_and_its_reference_is_the_output() {
    let server = MockServer::start().await;
    let bytes = content(300_000);
    Mock::given(method("GET"))
        .and(path("/files/42"))
        .and(header("authorization", format!("Bearer {SECRET}").as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/pdf")
                .insert_header("content-disposition", "attachment; filename=\"report.pdf\"")
                .set_body_bytes(bytes.clone()),
        )
        .mount(&server)
        .await;
    let (_dir, files) = temp_files();
    let output = call(
        &interpreter(&files, 10 << 20),
        &connection(&server),
        "download",
        json!({"id": "42"}),
    )
    .await
    .unwrap();
    let file = FileRef::from_json(&output).expect("a file reference");
    assert_eq!(file.name, "report.pdf");
    assert_eq!(file.content_type, "application/pdf");
    assert_eq!(file.size, 300_000);
    assert_eq!(file.id, hex::encode(Sha256::digest(&bytes)));
    assert_eq!(std::fs::read(files.path(&file).unwrap()).unwrap(), bytes);
}

#[tokio::test]
async fn a_download_over_the_limit_fails_and_leaves_no_file() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/files/big"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(content(200_000)))
        .mount(&server)
        .await;
    let (dir, files) = temp_files();
    let error = call(
        &interpreter(&files, 100_000),
        &connection(&server),
        "download",
        json!({"id": "big"}),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, ActionError::TooLarge { .. }), "{error}");
    let names: Vec<_> = std::fs::read_dir(dir.path().join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["tmp".to_string()]);
    assert_eq!(
        std::fs::read_dir(dir.path().join("files/tmp"))
            .unwrap()
            .count(),
        0
    );
}

#[tokio::test]
async fn file_and_multipart_bodies_carry_the_stored_bytes() {
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/files/a.bin"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/form"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let (_dir, files) = temp_files();
    let bytes = content(150_000);
    let file = files
        .put(&bytes, "a.bin", "application/octet-stream")
        .await
        .unwrap();
    let interpreter = interpreter(&files, 10 << 20);
    let conn = connection(&server);
    call(
        &interpreter,
        &conn,
        "put",
        json!({"name": "a.bin", "file": file.to_json()}),
    )
    .await
    .unwrap();
    call(&interpreter, &conn, "form", json!({"file": file.to_json()}))
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    let put = &received[0];
    assert_eq!(put.body, bytes);
    assert_eq!(put.headers["content-length"], "150000");
    assert_eq!(put.headers["content-type"], "application/octet-stream");
    let form = &received[1];
    let content_type = form.headers["content-type"].to_str().unwrap().to_string();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    let mut expected = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"meta\"\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{\"name\":\"a.bin\"}}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"doc\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    expected.extend_from_slice(&bytes);
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(form.body, expected);
}

#[tokio::test]
async fn a_chunked_upload_sends_ranges_without_credentials_and_retries_a_chunk() {
    let api = MockServer::start().await;
    let uploads = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"uploadUrl": "x"})))
        .mount(&api)
        .await;
    // The second chunk fails once with a 503, then goes through.
    let failed_once = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let size = 150_000u64;
    let flag = failed_once.clone();
    Mock::given(method("PUT"))
        .and(path("/session/1"))
        .respond_with(move |request: &Request| {
            let range = request.headers["content-range"]
                .to_str()
                .unwrap()
                .to_string();
            if range.starts_with("bytes 65536-")
                && !flag.swap(true, std::sync::atomic::Ordering::SeqCst)
            {
                return ResponseTemplate::new(503);
            }
            if range.ends_with(&format!("-{}/{size}", size - 1)) {
                ResponseTemplate::new(201).set_body_json(json!({"id": "F1"}))
            } else {
                ResponseTemplate::new(202).set_body_json(json!({}))
            }
        })
        .mount(&uploads)
        .await;
    let (_dir, files) = temp_files();
    let bytes = content(size as usize);
    let file = files
        .put(&bytes, "big.bin", "application/octet-stream")
        .await
        .unwrap();
    let output = call(
        &interpreter(&files, 10 << 20),
        &connection(&api),
        "chunked",
        json!({"file": file.to_json(), "upload_base": uploads.uri()}),
    )
    .await
    .unwrap();
    assert_eq!(output, json!({"id": "F1"}));
    let chunks = uploads.received_requests().await.unwrap();
    let ranges: Vec<String> = chunks
        .iter()
        .map(|r| r.headers["content-range"].to_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ranges,
        [
            "bytes 0-65535/150000",
            "bytes 65536-131071/150000",
            "bytes 65536-131071/150000",
            "bytes 131072-149999/150000"
        ]
    );
    let mut joined = Vec::new();
    for r in [&chunks[0], &chunks[2], &chunks[3]] {
        assert!(
            !r.headers.contains_key("authorization"),
            "a session URL on another origin got the credentials"
        );
        joined.extend_from_slice(&r.body);
    }
    assert_eq!(joined, bytes);
    let opened = &api.received_requests().await.unwrap()[0];
    assert_eq!(
        opened.headers["authorization"],
        format!("Bearer {SECRET}").as_str()
    );
}

#[tokio::test]
async fn credentials_are_never_sent_to_another_origin() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/sessions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&api)
        .await;
    let (_dir, files) = temp_files();
    let file = files.put(b"abc", "a.txt", "text/plain").await.unwrap();
    let error = call(
        &interpreter(&files, 10 << 20),
        &connection(&api),
        "chunked_with_auth",
        json!({"file": file.to_json(), "upload_base": elsewhere.uri()}),
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("leaves the base URL's origin"),
        "{error}"
    );
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_reference_that_is_not_in_the_store_is_refused_before_sending() {
    let server = MockServer::start().await;
    let (_dir, files) = temp_files();
    let forged =
        json!({"$file": "0".repeat(64), "name": "x", "content_type": "text/plain", "size": 3});
    let error = call(
        &interpreter(&files, 10 << 20),
        &connection(&server),
        "put",
        json!({"name": "x", "file": forged}),
    )
    .await
    .unwrap_err();
    assert!(
        error.to_string().contains("not in the file store"),
        "{error}"
    );
    let not_a_file = call(
        &interpreter(&files, 10 << 20),
        &connection(&server),
        "put",
        json!({"name": "x", "file": "/etc/passwd"}),
    )
    .await
    .unwrap_err();
    assert!(
        not_a_file.to_string().contains("not of type file"),
        "{not_a_file}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// Two providers, one workflow: step one downloads, step two uploads what step one's
/// output refers to (a reference in the journal, the bytes on disk). Run through the
/// `switchyard run` command, so the workflow engine passes the reference between steps.
#[tokio::test]
async fn a_workflow_moves_a_file_from_one_provider_to_another_by_reference() {
    let source = MockServer::start().await;
    let target = MockServer::start().await;
    let bytes = content(500_000);
    Mock::given(method("GET"))
        .and(path("/files/doc-1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/octet-stream")
                .insert_header("content-disposition", "attachment; filename=\"plan.bin\"")
                .set_body_bytes(bytes.clone()),
        )
        .mount(&source)
        .await;
    Mock::given(method("PUT"))
        .and(path("/files/plan.bin"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"stored": true})))
        .mount(&target)
        .await;
    let dir = tempfile::tempdir().unwrap();
    for id in ["src", "dst"] {
        let yaml = format!(
            "connector: {id}\nname: {id}\nconfig:\n  base_url: {{}}\n  token: {{ secret: true }}\nbase_url: \"{{{{ config.base_url }}}}\"\nauth:\n  bearer: {{ token: \"{{{{ secrets.token }}}}\" }}\n{ACTIONS}"
        );
        std::fs::write(dir.path().join(format!("{id}.yaml")), yaml).unwrap();
    }
    std::fs::write(
        dir.path().join("move.yaml"),
        r#"workflow: move-file
trigger:
  manual:
    input: { id: { type: string } }
steps:
  - id: fetch
    action: { use: src.download, connection: src, input: { id: "{{ trigger.payload.id }}" } }
  - id: store
    action:
      use: dst.put
      connection: dst
      input: { name: "{{ steps.fetch.output.name }}", file: "{{ steps.fetch.output }}" }
"#,
    )
    .unwrap();
    let connections = json!({
        "src": {"connector": "src", "config": {"base_url": source.uri(), "token": SECRET}},
        "dst": {"connector": "dst", "config": {"base_url": target.uri(), "token": SECRET}},
    });
    std::fs::write(dir.path().join("connections.json"), connections.to_string()).unwrap();
    std::fs::write(dir.path().join("event.json"), r#"{"id": "doc-1"}"#).unwrap();
    let d = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .arg("run")
            .arg("move-file")
            .arg("--specs")
            .arg(&d)
            .arg("--event")
            .arg(d.join("event.json"))
            .arg("--connections")
            .arg(d.join("connections.json"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains(SECRET) && !stderr.contains(SECRET));
    let uploaded = target.received_requests().await.unwrap();
    assert_eq!(uploaded.len(), 1);
    assert_eq!(uploaded[0].body, bytes);
    // The journal holds the reference, not the content.
    assert!(stdout.contains("\"$file\""), "{stdout}");
    assert!(stdout.len() < 20_000, "the run output carries file content");
}

/// Graph-style downloads: `/content` answers 302 to a pre-authenticated URL on another
/// host. With `follow_redirect` the file is fetched from there without the credentials;
/// without it, a redirect is an error, never an empty success.
#[tokio::test]
async fn a_download_follows_one_redirect_without_credentials() {
    let api = MockServer::start().await;
    let blobs = MockServer::start().await;
    let bytes = content(70_000);
    Mock::given(method("GET"))
        .and(path("/items/9/content"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/blob/9?sig=abc", blobs.uri()).as_str(),
        ))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/files/moved"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/elsewhere"))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/blob/9"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "image/png")
                .set_body_bytes(bytes.clone()),
        )
        .mount(&blobs)
        .await;
    let (_dir, files) = temp_files();
    let interpreter = interpreter(&files, 10 << 20);
    let conn = connection(&api);
    let output = call(
        &interpreter,
        &conn,
        "download_redirected",
        json!({"id": "9"}),
    )
    .await
    .unwrap();
    let file = FileRef::from_json(&output).unwrap();
    assert_eq!((file.name.as_str(), file.size), ("9", 70_000));
    assert_eq!(std::fs::read(files.path(&file).unwrap()).unwrap(), bytes);
    let fetched = &blobs.received_requests().await.unwrap()[0];
    assert!(
        !fetched.headers.contains_key("authorization"),
        "credentials followed the redirect"
    );
    let error = call(&interpreter, &conn, "download", json!({"id": "moved"}))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("redirects are not followed"),
        "{error}"
    );
}
