//! Email actions against a real SMTP server (Python's aiosmtpd, started by the test):
//! STARTTLS with a private CA and a login, a plain local relay, a refused login, and the
//! connection check. The server writes what it received; the test reads the message back.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use switchyard::interpret::{Call, CollectSink, Connection, Interpreter, ReqwestClient};

struct Server {
    child: Child,
    port: u16,
    out: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp")
}

/// Whether Python has aiosmtpd and trustme (`.ci/run` installs them).
fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd, trustme"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "SKIPPED: email tests need python3 with aiosmtpd and trustme (pip install aiosmtpd trustme; .ci/run does)"
        );
    }
    ok
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(args: &[&str]) -> Server {
    let out = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new("python3")
        .arg(fixtures().join("server.py"))
        .arg(port.to_string())
        .arg(out.path())
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    use std::io::BufRead;
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "READY", "the SMTP server did not start");
    Server { child, port, out }
}

fn certificates(dir: &Path) -> String {
    let status = Command::new("python3")
        .arg(fixtures().join("make_certs.py"))
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(dir.join("ca.pem")).unwrap()
}

fn connection(config: Value) -> Connection {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let (compiled, _) =
        switchyard::compile::compile_paths(&[root.join("connectors/email.yaml")]).unwrap();
    let catalog = compiled.catalog.expect("email connector compiles");
    Connection::new(
        "mail",
        catalog.connectors["email"].clone(),
        config.as_object().unwrap().clone(),
    )
    .unwrap()
}

async fn call(connection: &Connection, action: &str, input: Value) -> Result<Value, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let interpreter = Interpreter::new(Arc::new(ReqwestClient::new().unwrap()), Default::default());
    let call = Call {
        action: action.into(),
        input: input.as_object().unwrap().clone(),
        run: None,
        max_pages: None,
    };
    interpreter
        .call(connection, &call, &mut CollectSink::default())
        .await
        .map(|o| o.output)
        .map_err(|e| e.to_string())
}

/// The messages the server saved, in order.
fn received(server: &Server) -> Vec<Value> {
    let mut files: Vec<_> = std::fs::read_dir(server.out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn sends_over_starttls_with_login_text_html_cc_bcc_and_attachments() {
    if !python_ready() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let ca = certificates(certs.path());
    let cert = certs.path().join("server.pem");
    let key = certs.path().join("server.key");
    let server = start(&[
        "--user",
        "alice@example.com",
        "--password",
        "app-password-1",
        "--starttls",
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
    ]);
    let mail = connection(json!({
        "host": "127.0.0.1", "port": server.port, "security": "starttls",
        "username": "alice@example.com", "password": "app-password-1",
        "from": "Alerts <alerts@example.com>", "ca_certificate": ca,
    }));

    assert_eq!(
        call(&mail, "verify_login", json!({})).await.unwrap(),
        json!({ "verified": true })
    );
    let output = call(
        &mail,
        "send_email",
        json!({
            "to": ["Bob <bob@example.com>", "carol@example.com"],
            "cc": "dave@example.com",
            "bcc": ["erin@example.com"],
            "reply_to": "support@example.com",
            "subject": "Deploy finished ✓",
            "text": "The deploy of v1.2 finished.",
            "html": "<p>The deploy of <b>v1.2</b> finished.</p>",
            "attachments": [
                { "filename": "report.csv", "content_type": "text/csv", "content": "id,ok\n1,true\n" },
                { "filename": "logo.png", "content_type": "image/png", "content_base64": "iVBORw0KGgo=" }
            ]
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        output["accepted"],
        json!([
            "bob@example.com",
            "carol@example.com",
            "dave@example.com",
            "erin@example.com"
        ])
    );
    let messages = received(&server);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m["tls"], true, "the session used STARTTLS");
    assert_eq!(m["login"], "alice@example.com");
    assert_eq!(m["mail_from"], "alerts@example.com");
    assert_eq!(
        m["rcpt_tos"],
        json!([
            "bob@example.com",
            "carol@example.com",
            "dave@example.com",
            "erin@example.com"
        ])
    );
    let content = m["content"].as_str().unwrap();
    let message_id = output["message_id"].as_str().unwrap();
    for needle in [
        "From: Alerts <alerts@example.com>",
        "To: Bob <bob@example.com>, carol@example.com",
        "Cc: dave@example.com",
        "Reply-To: support@example.com",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "filename=\"report.csv\"",
        "filename=\"logo.png\"",
        "iVBORw0KGgo=",
        message_id,
    ] {
        assert!(content.contains(needle), "`{needle}` not in:\n{content}");
    }
    assert!(
        !content.contains("erin@example.com"),
        "Bcc must not be in the message"
    );
    assert!(!content.contains("app-password-1"));
}

#[tokio::test]
async fn a_wrong_password_is_a_refusal_that_needs_new_credentials() {
    if !python_ready() {
        return;
    }
    let certs = tempfile::tempdir().unwrap();
    let ca = certificates(certs.path());
    let cert = certs.path().join("server.pem");
    let key = certs.path().join("server.key");
    let server = start(&[
        "--user",
        "alice@example.com",
        "--password",
        "right",
        "--starttls",
        cert.to_str().unwrap(),
        key.to_str().unwrap(),
    ]);
    let mail = connection(json!({
        "host": "127.0.0.1", "port": server.port, "username": "alice@example.com",
        "password": "wrong-password-xyz", "from": "alerts@example.com", "ca_certificate": ca,
    }));
    let error = call(
        &mail,
        "send_email",
        json!({ "to": "bob@example.com", "subject": "s", "text": "t" }),
    )
    .await
    .unwrap_err();
    assert!(error.contains("535"), "{error}");
    assert!(!error.contains("wrong-password-xyz"), "{error}");
    assert!(call(&mail, "verify_login", json!({})).await.is_err());
    assert!(received(&server).is_empty());
    // Without the private CA the server's certificate is not trusted: nothing is sent.
    let untrusted = connection(json!({
        "host": "127.0.0.1", "port": server.port, "username": "alice@example.com",
        "password": "right", "from": "alerts@example.com",
    }));
    assert!(call(&untrusted, "verify_login", json!({})).await.is_err());
}

#[tokio::test]
async fn a_local_relay_without_tls_or_login() {
    if !python_ready() {
        return;
    }
    let server = start(&[]);
    let mail = connection(json!({
        "host": "127.0.0.1", "port": server.port, "security": "none", "from": "cron@example.com",
    }));
    let output = call(
        &mail,
        "send_email",
        json!({ "to": "ops@example.com", "subject": "Nightly", "html": "<p>ok</p>" }),
    )
    .await
    .unwrap();
    assert_eq!(output["accepted"], json!(["ops@example.com"]));
    let messages = received(&server);
    assert_eq!(messages[0]["tls"], false);
    assert!(
        messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("Subject: Nightly")
    );
    // A login over plain text to another machine is refused before connecting.
    let cleartext = connection(json!({
        "host": "mail.example.com", "security": "none", "username": "u", "password": "plain-pass-123",
        "from": "cron@example.com",
    }));
    let error = call(
        &cleartext,
        "send_email",
        json!({ "to": "ops@example.com", "subject": "s", "text": "t" }),
    )
    .await
    .unwrap_err();
    assert!(error.contains("unencrypted"), "{error}");
    // Bad input fails before connecting, saying which field.
    let error = call(
        &mail,
        "send_email",
        json!({ "to": "not an address", "subject": "s", "text": "t" }),
    )
    .await
    .unwrap_err();
    assert!(error.contains("`to`"), "{error}");
    assert_eq!(received(&server).len(), 1);
}
