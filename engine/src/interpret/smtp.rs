//! Email actions: render the `smtp` templates, build a MIME message (text, HTML or both,
//! attachments) and send it over SMTP with STARTTLS, TLS or (for a local relay) plain text.
//!
//! One attempt per call: a message the server may have accepted is never sent twice by the
//! interpreter (a workflow step's own `retry` decides). Must never put the password or
//! message contents into an error.

use super::error::ActionError;
use super::render::{self, RenderError};
use crate::files::{FileRef, FileStore};
use crate::plan::{SmtpMessagePlan, SmtpPlan};
use base64::Engine as _;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use minijinja::Value;
use serde_json::{Value as Json, json};
use std::time::Duration;

/// The largest file attached to an email (mail is built in memory; providers accept
/// about 25 MB).
pub const ATTACHMENT_LIMIT: u64 = 25 * 1024 * 1024;

/// An attachment from a stored file; `filename` / `content_type` beside `file` override
/// the file's own.
fn file_attachment(
    item: &Json,
    file: &FileRef,
    files: Option<&FileStore>,
    i: usize,
) -> Result<SinglePart, ActionError> {
    let store = files.ok_or_else(|| invalid("file attachments need a file store"))?;
    if file.size > ATTACHMENT_LIMIT {
        return Err(invalid(format!(
            "attachment {i} (`{}`) has {} bytes; email attachments are limited to {ATTACHMENT_LIMIT}",
            file.name, file.size
        )));
    }
    let path = store
        .path(file)
        .map_err(|e| invalid(format!("attachment {i}: {e}")))?;
    let bytes = std::fs::read(&path).map_err(|e| invalid(format!("attachment {i}: {e}")))?;
    let field = |name: &str| item.get(name).and_then(Json::as_str);
    let filename = field("filename").unwrap_or(&file.name).to_string();
    let content_type = field("content_type").unwrap_or(&file.content_type);
    let content_type = ContentType::parse(content_type)
        .or_else(|_| ContentType::parse("application/octet-stream"))
        .map_err(|_| invalid(format!("attachment {i}: bad content type")))?;
    Ok(Attachment::new(filename).body(bytes, content_type))
}

/// How the connection to the server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Security {
    StartTls,
    Tls,
    None,
}

impl Security {
    fn parse(text: Option<&str>) -> Result<Self, String> {
        match text.unwrap_or("starttls") {
            "" | "starttls" => Ok(Security::StartTls),
            "tls" => Ok(Security::Tls),
            "none" => Ok(Security::None),
            other => Err(format!(
                "smtp security `{other}`: use `starttls`, `tls` or `none`"
            )),
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Security::StartTls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }
}

/// Sends the email the plan describes and returns `{message_id, accepted}`; a
/// `verify_only` plan connects and logs in and returns `{verified: true}`. The Message-ID
/// is derived from `call_key` (the run and step), so a step that runs again after a crash
/// sends a message receivers can recognise as the same.
pub async fn send(
    plan: &SmtpPlan,
    ctx: &Value,
    timeout: Duration,
    call_key: &str,
    files: Option<&FileStore>,
) -> Result<Json, ActionError> {
    let message = plan
        .message
        .as_ref()
        .map(|m| build(m, ctx, call_key, files, false))
        .transpose()?;
    let host = text(&plan.host, ctx)?
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            invalid("smtp `host` is empty: set the connection's host (or a provider preset)")
        })?;
    let security = Security::parse(optional(&plan.security, ctx)?.as_deref()).map_err(invalid)?;
    let port = match optional(&plan.port, ctx)?.filter(|p| !p.is_empty()) {
        None => security.default_port(),
        Some(p) => p
            .parse()
            .map_err(|_| invalid(format!("smtp `port` `{p}` is not a port number")))?,
    };
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.clone())
        .port(port)
        .timeout(Some(timeout));
    if security != Security::None {
        let mut tls = TlsParameters::builder(host.clone());
        if let Some(pem) = optional(&plan.ca_certificate, ctx)?.filter(|p| !p.is_empty()) {
            let cert = Certificate::from_pem(pem.as_bytes())
                .map_err(|e| invalid(format!("smtp `ca_certificate`: {e}")))?;
            tls = tls.add_root_certificate(cert);
        }
        let tls = tls.build_rustls().map_err(|e| ActionError::Transport {
            message: format!("TLS setup: {e}"),
            attempts: 0,
        })?;
        transport = transport.tls(match security {
            Security::Tls => Tls::Wrapper(tls),
            _ => Tls::Required(tls),
        });
    }
    if let Some(user) = optional(&plan.username, ctx)?.filter(|u| !u.is_empty()) {
        // A login over plain text would send the password in clear: only to this machine.
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if security == Security::None && !loopback {
            return Err(invalid(
                "smtp `security: none` with a login would send the password unencrypted; use `starttls` or `tls` (plain text is for a relay on this machine)",
            ));
        }
        let password = optional(&plan.password, ctx)?.unwrap_or_default();
        transport = transport.credentials(Credentials::new(user, password));
    }
    let transport = transport.build();
    let Some(message) = message else {
        return match transport.test_connection().await {
            Ok(true) => Ok(json!({ "verified": true })),
            Ok(false) => Err(ActionError::Transport {
                message: "SMTP: the server did not answer as expected".into(),
                attempts: 1,
            }),
            Err(error) => Err(smtp_error(error)),
        };
    };
    let accepted: Vec<String> = message
        .envelope()
        .to()
        .iter()
        .map(ToString::to_string)
        .collect();
    let message_id = message
        .headers()
        .get_raw("Message-ID")
        .unwrap_or_default()
        .to_string();
    match transport.send(message).await {
        Ok(_) => Ok(json!({ "message_id": message_id, "accepted": accepted })),
        Err(error) => Err(smtp_error(error)),
    }
}

/// A refusal with an SMTP code is a provider error (535: bad login, needs new
/// credentials); anything else is a transport error.
fn smtp_error(error: lettre::transport::smtp::Error) -> ActionError {
    match error.status() {
        // The server answered with a refusal: a provider error with its SMTP code.
        Some(code) => ActionError::Provider {
            status: code.to_string().parse().unwrap_or(500),
            message: format!("the SMTP server refused ({code}): {error}"),
            reauth: code.to_string() == "535",
            attempts: 1,
        },
        None => ActionError::Transport {
            message: format!("SMTP: {error}"),
            attempts: 1,
        },
    }
}

/// A text view of the message the call would send, for `call --dry-run`.
pub fn describe(plan: &SmtpPlan, ctx: &Value) -> Result<String, ActionError> {
    let host = text(&plan.host, ctx)?.unwrap_or_default();
    let headers = match &plan.message {
        Some(m) => build(m, ctx, "dry-run", None, false)?.headers().to_string(),
        None => "(connect and log in only)\n".into(),
    };
    Ok(format!("SMTP {host}\n{headers}"))
}

/// Builds the MIME message. File attachments are read from `files`, each at most
/// [`ATTACHMENT_LIMIT`] bytes (mail is built whole in memory).
pub fn build(
    plan: &SmtpMessagePlan,
    ctx: &Value,
    call_key: &str,
    files: Option<&FileStore>,
    keep_bcc: bool,
) -> Result<Message, ActionError> {
    let from = text(&plan.from, ctx)?.unwrap_or_default();
    let from: Mailbox = from
        .parse()
        .map_err(|e| invalid(format!("smtp `from` `{from}`: {e}")))?;
    let domain = from.email.domain().to_string();
    let mut builder = Message::builder()
        .from(from)
        .subject(text(&plan.subject, ctx)?.unwrap_or_default())
        .message_id(Some(format!("<{}@{domain}>", message_id_part(call_key))));
    if keep_bcc {
        builder = builder.keep_bcc();
    }
    let to = addresses("to", Some(&plan.to), ctx)?;
    if to.is_empty() {
        return Err(invalid("the email has no recipient (`to` is empty)"));
    }
    for mailbox in to {
        builder = builder.to(mailbox);
    }
    for mailbox in addresses("cc", plan.cc.as_ref(), ctx)? {
        builder = builder.cc(mailbox);
    }
    for mailbox in addresses("bcc", plan.bcc.as_ref(), ctx)? {
        builder = builder.bcc(mailbox);
    }
    if let Some(reply_to) = optional(&plan.reply_to, ctx)?.filter(|r| !r.is_empty()) {
        let mailbox = reply_to
            .parse()
            .map_err(|e| invalid(format!("smtp `reply_to` `{reply_to}`: {e}")))?;
        builder = builder.reply_to(mailbox);
    }
    let body_text = optional(&plan.text, ctx)?;
    let html = optional(&plan.html, ctx)?;
    let body = match (body_text, html) {
        (Some(t), Some(h)) => MultiPart::alternative_plain_html(t, h),
        (Some(t), None) => MultiPart::mixed().singlepart(SinglePart::plain(t)),
        (None, Some(h)) => MultiPart::mixed().singlepart(SinglePart::html(h)),
        (None, None) => MultiPart::mixed().singlepart(SinglePart::plain(String::new())),
    };
    let attachments = attachments(plan, ctx, files)?;
    let message = if attachments.is_empty() {
        builder.multipart(body)
    } else {
        let mut mixed = MultiPart::mixed().multipart(body);
        for part in attachments {
            mixed = mixed.singlepart(part);
        }
        builder.multipart(mixed)
    };
    message.map_err(|e| invalid(format!("the email cannot be built: {e}")))
}

/// Recipients from a string (one address or a comma-separated list), a list, or null.
fn addresses(
    field: &str,
    tree: Option<&crate::plan::TemplateTree>,
    ctx: &Value,
) -> Result<Vec<Mailbox>, ActionError> {
    let Some(tree) = tree else {
        return Ok(Vec::new());
    };
    let value = render::render_tree(tree, ctx).map_err(template)?;
    let texts: Vec<String> = match value {
        Json::Null => Vec::new(),
        Json::String(s) => s.split(',').map(|a| a.trim().to_string()).collect(),
        Json::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Json::String(s) => Ok(s),
                other => Err(invalid(format!(
                    "smtp `{field}`: {other} is not an address"
                ))),
            })
            .collect::<Result<_, _>>()?,
        other => {
            return Err(invalid(format!(
                "smtp `{field}`: expected an address or a list, got {other}"
            )));
        }
    };
    texts
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse()
                .map_err(|e| invalid(format!("smtp `{field}` `{t}`: {e}")))
        })
        .collect()
}

/// Attachments from `[{filename, content_type, content | content_base64}]`.
fn attachments(
    plan: &SmtpMessagePlan,
    ctx: &Value,
    files: Option<&FileStore>,
) -> Result<Vec<SinglePart>, ActionError> {
    let Some(tree) = &plan.attachments else {
        return Ok(Vec::new());
    };
    let items = match render::render_tree(tree, ctx).map_err(template)? {
        Json::Null => return Ok(Vec::new()),
        Json::Array(items) => items,
        other => {
            return Err(invalid(format!(
                "smtp `attachments`: expected a list, got {}",
                kind(&other)
            )));
        }
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let file =
                FileRef::from_json(&item).or_else(|| item.get("file").and_then(FileRef::from_json));
            if let Some(file) = file {
                return file_attachment(&item, &file, files, i);
            }
            let field = |name: &str| item.get(name).and_then(Json::as_str);
            let filename = field("filename")
                .ok_or_else(|| invalid(format!("attachment {i} has no `filename`")))?
                .to_string();
            let content_type = field("content_type").unwrap_or("application/octet-stream");
            let content_type = ContentType::parse(content_type).map_err(|_| {
                invalid(format!(
                    "attachment {i}: `{content_type}` is not a content type"
                ))
            })?;
            let bytes = match (field("content"), field("content_base64")) {
                (Some(text), _) => text.as_bytes().to_vec(),
                (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| {
                        invalid(format!("attachment {i}: `content_base64` is not base64"))
                    })?,
                (None, None) => {
                    return Err(invalid(format!(
                        "attachment {i} has no `content` or `content_base64`"
                    )));
                }
            };
            Ok(Attachment::new(filename).body(bytes, content_type))
        })
        .collect()
}

/// The local part of a Message-ID: the call key's characters that RFC 5322 allows there.
fn message_id_part(call_key: &str) -> String {
    let part: String = call_key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-._".contains(c) {
                c
            } else {
                '.'
            }
        })
        .collect();
    format!("switchyard.{part}")
}

fn kind(value: &Json) -> &'static str {
    match value {
        Json::Object(_) => "an object",
        Json::String(_) => "a string",
        Json::Number(_) => "a number",
        Json::Bool(_) => "a boolean",
        Json::Array(_) => "a list",
        Json::Null => "null",
    }
}

fn text(
    template: &crate::plan::CompiledTemplate,
    ctx: &Value,
) -> Result<Option<String>, ActionError> {
    render::render_text(template, ctx).map_err(template_error)
}

fn optional(
    template: &Option<crate::plan::CompiledTemplate>,
    ctx: &Value,
) -> Result<Option<String>, ActionError> {
    match template {
        Some(t) => text(t, ctx),
        None => Ok(None),
    }
}

fn template_error(error: RenderError) -> ActionError {
    ActionError::Template(error)
}

fn template(error: RenderError) -> ActionError {
    template_error(error)
}

fn invalid(message: impl Into<String>) -> ActionError {
    ActionError::Invalid(vec![message.into()])
}
