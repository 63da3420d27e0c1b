//! Compiled file transfers: file and multipart bodies, downloads, chunked uploads.

use super::template::{CompiledTemplate, TemplateTree};
use super::{SmtpMessagePlan, TemplatePairs};
use crate::spec::action::MultipartKind;
use crate::spec::common::HttpMethod;

/// A body that is a file.
#[derive(Debug, Clone)]
pub struct FileBodyPlan {
    /// Renders to a file reference.
    pub file: CompiledTemplate,
    pub content_type: Option<CompiledTemplate>,
}

/// A multipart body.
#[derive(Debug, Clone)]
pub struct MultipartPlan {
    pub kind: MultipartKind,
    pub parts: Vec<PartPlan>,
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct PartPlan {
    pub name: Option<String>,
    pub content: PartContent,
    pub filename: Option<CompiledTemplate>,
    pub content_type: Option<CompiledTemplate>,
}

/// What a part holds.
#[derive(Debug, Clone)]
pub enum PartContent {
    Json(TemplateTree),
    Text(CompiledTemplate),
    /// Renders to a file reference.
    File(CompiledTemplate),
}

/// An email message as a body.
pub type EmailBodyPlan = SmtpMessagePlan;

/// Saving the response body as a file.
#[derive(Debug, Clone, Default)]
pub struct DownloadPlan {
    pub name: Option<CompiledTemplate>,
    pub content_type: Option<CompiledTemplate>,
    /// Follow one redirect, without credentials.
    pub follow_redirect: bool,
}

/// A chunked upload after the action's request opened the session.
#[derive(Debug, Clone)]
pub struct UploadPlan {
    /// Renders to a file reference.
    pub file: CompiledTemplate,
    pub chunk_size: u64,
    pub chunk: UploadRequestPlan,
    pub finish: Option<UploadRequestPlan>,
}

/// One request of a chunked upload.
#[derive(Debug, Clone)]
pub struct UploadRequestPlan {
    pub method: HttpMethod,
    pub target: UploadTarget,
    pub headers: TemplatePairs,
    pub content_type: String,
    pub json: Option<TemplateTree>,
    pub auth: bool,
}

/// Where an upload request goes.
#[derive(Debug, Clone)]
pub enum UploadTarget {
    /// An absolute URL (from the session).
    Url(CompiledTemplate),
    /// A path under the action's base URL.
    Path(CompiledTemplate),
}
