//! File transfers in requests and responses: file, multipart and email bodies (files
//! streamed from the store), and the reference a download produces.
//!
//! Must never read a file into memory to send it (email attachments aside, which are
//! bounded by [`super::smtp::ATTACHMENT_LIMIT`]).

use super::error::ActionError;
use super::render;
use crate::files::{Body, FileRef, FileStore, Segment, disposition_filename};
use crate::plan::{
    CompiledTemplate, DownloadPlan, EmailBodyPlan, FileBodyPlan, MultipartPlan, PartContent,
};
use crate::spec::action::MultipartKind;
use bytes::Bytes;
use minijinja::Value;
use serde_json::Value as Json;

/// Renders a template that must give a file reference.
pub fn file_ref(
    template: &CompiledTemplate,
    ctx: &Value,
    what: &str,
) -> Result<FileRef, ActionError> {
    let value = render::render(template, ctx)?;
    FileRef::from_json(&value).ok_or_else(|| {
        let shown = match &value {
            Json::Null => "null".to_string(),
            Json::String(s) => format!("the text `{}`", super::retry::truncate(s, 60)),
            other => super::retry::truncate(&other.to_string(), 80),
        };
        ActionError::Invalid(vec![format!(
            "{what} must be a file reference (a download's output, `{{\"$file\": …}}`); `{}` gave {shown}",
            template.source
        )])
    })
}

fn store(files: Option<&FileStore>) -> Result<&FileStore, ActionError> {
    files.ok_or_else(|| {
        ActionError::Invalid(vec![
            "this action sends or saves a file, and no file store is configured here".into(),
        ])
    })
}

fn file_segment(files: &FileStore, file: &FileRef) -> Result<Segment, ActionError> {
    let path = files
        .path(file)
        .map_err(|e| ActionError::Invalid(vec![e.to_string()]))?;
    Ok(Segment::File {
        path,
        offset: 0,
        len: file.size,
    })
}

/// A body that is one file, and its Content-Type.
pub fn file_body(
    plan: &FileBodyPlan,
    ctx: &Value,
    files: Option<&FileStore>,
) -> Result<(Body, String), ActionError> {
    let files = store(files)?;
    let file = file_ref(&plan.file, ctx, "body `file`")?;
    let content_type = match &plan.content_type {
        Some(t) => render::render_text(t, ctx)?.unwrap_or_else(|| file.content_type.clone()),
        None => file.content_type.clone(),
    };
    Ok((Body::new(vec![file_segment(files, &file)?]), content_type))
}

/// A multipart body, its files streamed, and its Content-Type with the boundary.
pub fn multipart_body(
    plan: &MultipartPlan,
    ctx: &Value,
    files: Option<&FileStore>,
) -> Result<(Body, String), ActionError> {
    let boundary = format!("switchyard-{}", uuid::Uuid::new_v4().simple());
    let mut segments = Vec::new();
    for part in &plan.parts {
        let (content, default_type, default_name) = match &part.content {
            PartContent::Json(tree) => {
                let value = render::render_tree(tree, ctx)?;
                (
                    Segment::Bytes(Bytes::from(value.to_string())),
                    "application/json; charset=UTF-8".to_string(),
                    None,
                )
            }
            PartContent::Text(t) => match render::render_text(t, ctx)? {
                // An optional field that was not given: the part is left out.
                None => continue,
                Some(text) => (
                    Segment::Bytes(Bytes::from(text)),
                    "text/plain; charset=UTF-8".to_string(),
                    None,
                ),
            },
            PartContent::File(t) => {
                let file = file_ref(t, ctx, "multipart `file`")?;
                (
                    file_segment(store(files)?, &file)?,
                    file.content_type.clone(),
                    Some(file.name.clone()),
                )
            }
        };
        let filename = match &part.filename {
            Some(t) => render::render_text(t, ctx)?,
            None => default_name,
        };
        let content_type = match &part.content_type {
            Some(t) => render::render_text(t, ctx)?.unwrap_or(default_type),
            None => default_type,
        };
        let mut head = format!("--{boundary}\r\n");
        match (plan.kind, &part.name) {
            (MultipartKind::FormData, Some(name)) => {
                head.push_str(&format!(
                    "Content-Disposition: form-data; name=\"{}\"",
                    quote(name)
                ));
                if let Some(f) = &filename {
                    head.push_str(&format!("; filename=\"{}\"", quote(f)));
                }
                head.push_str("\r\n");
            }
            (_, _) => {
                if let Some(f) = &filename {
                    head.push_str(&format!(
                        "Content-Disposition: attachment; filename=\"{}\"\r\n",
                        quote(f)
                    ));
                }
            }
        }
        head.push_str(&format!(
            "Content-Type: {}\r\n\r\n",
            header_safe(&content_type)
        ));
        segments.push(Segment::Bytes(Bytes::from(head)));
        segments.push(content);
        segments.push(Segment::Bytes(Bytes::from_static(b"\r\n")));
    }
    segments.push(Segment::Bytes(Bytes::from(format!("--{boundary}--\r\n"))));
    let subtype = match plan.kind {
        MultipartKind::FormData => "form-data",
        MultipartKind::Related => "related",
        MultipartKind::Mixed => "mixed",
    };
    Ok((
        Body::new(segments),
        format!("multipart/{subtype}; boundary={boundary}"),
    ))
}

/// An RFC 5322 message as a body (`message/rfc822`). Bcc is kept: APIs that send MIME
/// mail read the recipients from the headers.
pub fn email_body(
    plan: &EmailBodyPlan,
    ctx: &Value,
    files: Option<&FileStore>,
    call_key: &str,
) -> Result<(Body, String), ActionError> {
    let message = super::smtp::build(plan, ctx, call_key, files, true)?;
    Ok((
        Body::from(Bytes::from(message.formatted())),
        "message/rfc822".to_string(),
    ))
}

/// The reference of a downloaded body: its name from the spec, else the response's
/// Content-Disposition, else the URL's last segment.
pub fn downloaded(
    plan: &DownloadPlan,
    mut saved: FileRef,
    headers: &reqwest::header::HeaderMap,
    url: &url::Url,
    ctx: &Value,
) -> Result<FileRef, ActionError> {
    let named = match &plan.name {
        Some(t) => render::render_text(t, ctx)?.filter(|n| !n.is_empty()),
        None => None,
    };
    let name = named
        .or_else(|| {
            headers
                .get(reqwest::header::CONTENT_DISPOSITION)
                .and_then(|v| v.to_str().ok())
                .and_then(disposition_filename)
        })
        .or_else(|| {
            url.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_string))
                .map(|s| {
                    percent_encoding::percent_decode_str(&s)
                        .decode_utf8_lossy()
                        .into_owned()
                })
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "download".into());
    saved.name = crate::files::safe_name(&name);
    if let Some(t) = &plan.content_type
        && let Some(ct) = render::render_text(t, ctx)?.filter(|c| !c.is_empty())
    {
        saved.content_type = ct;
    }
    Ok(saved)
}

/// A quoted-string value in a Content-Disposition header (as browsers send form data).
fn quote(text: &str) -> String {
    header_safe(text).replace('"', "%22")
}

/// No line breaks in a header value, whatever a template rendered.
fn header_safe(text: &str) -> String {
    text.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}
