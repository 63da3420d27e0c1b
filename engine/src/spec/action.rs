//! An action: one API operation of a connector (an HTTP request, its inputs, how to read
//! its response).

use super::common::{
    DurationText, Expression, HttpMethod, JsonPathText, Template, TemplateMap, TemplateValue,
    ValueType,
};
use super::errors::{ErrorRule, RetrySpec};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One API operation.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// What the action does, for the catalog. Example: `description: Create an issue.`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// HTTP method (HTTP actions: `method` and `path`; email actions: `smtp`).
    /// Example: `method: POST`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// Path appended to `base_url`, a template. Each value it prints is percent-encoded
    /// as one path segment (`/`, `?` included); write `| safe` to print a value as it is.
    /// Example:
    /// `path: "/repos/{{ input.owner }}/{{ input.repo }}/issues"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Template>,
    /// Sends an email over SMTP instead of an HTTP request. The output is
    /// `{message_id, accepted}`. Example:
    /// `smtp: { host: "{{ config.host }}", from: "{{ config.from }}", to: "{{ input.to }}", subject: "{{ input.subject }}", text: "{{ input.text }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<super::smtp::SmtpSpec>,
    /// Replaces the connector's `base_url` for this action (uploads often use another host).
    /// Example: `base_url: https://uploads.github.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<Template>,
    /// Typed inputs, by name; templates reach them as `input.<name>`.
    /// Example: `input: { title: { type: string }, body: { type: string, optional: true } }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub input: IndexMap<String, InputSpec>,
    /// Query parameters; a parameter whose value renders to null is left out.
    /// Example: `query: { state: all, per_page: 100, since: "{{ input.since }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub query: TemplateMap,
    /// Request headers (in addition to the connector's). Example: `headers: { X-Request-Id: "{{ run.id }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: TemplateMap,
    /// The request body: `json`, `form` or `raw`.
    /// Example: `body: { json: { title: "{{ input.title }}" } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodySpec>,
    /// Saves the response body as a file, streamed to disk: the output is the file
    /// reference `{"$file", name, content_type, size}` that an upload takes.
    /// Example: `download: { name: "{{ input.name }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download: Option<DownloadSpec>,
    /// Sends a file in chunks after the request above opened an upload session (resumable
    /// uploads). Example: see `UploadSpec`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadSpec>,
    /// Named outputs read from the response by JSONPath; without it the whole response body
    /// is the output. Example: `output: { number: $.number, url: $.html_url }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub output: IndexMap<String, JsonPathText>,
    /// For list actions: where the records are in each response page. Example: `records: $.items[*]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<JsonPathText>,
    /// For list actions: the fields kept from each record, by JSONPath relative to the record.
    /// Example: `fields: { id: $.id, title: $.title, author: $.user.login }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub fields: IndexMap<String, JsonPathText>,
    /// For list actions: keep only the records for which this expression over `record` (and
    /// `input`, `config`) is true. Example: `filter: "record.state == 'open'"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Expression>,
    /// For list actions: fields added to each record (after `fields`), templates over
    /// `record`; a template that is one expression keeps its JSON type.
    /// Example: `add_fields: { summary: "{{ record.title }} by {{ record.user.login }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub add_fields: TemplateMap,
    /// For list actions: fields removed from each record, by name; `a.b` reaches into
    /// nested objects. Example: `remove_fields: [body, user.avatar_url]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_fields: Vec<String>,
    /// Name of a pagination strategy from the connector's `pagination` section.
    /// Example: `paginate: link_header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paginate: Option<String>,
    /// Error rules checked before the connector's, first match wins.
    /// Example: `errors: [{ status: [404], then: ignore }]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorRule>,
    /// Replaces the connector's retry policy for this action.
    /// Example: `retry: { attempts: 1 }` (never retry a non-idempotent call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetrySpec>,
    /// Whether sending the request twice is harmless, so it may be retried after a timeout
    /// or a 5xx. Defaults to true for GET, HEAD, PUT, DELETE and OPTIONS and for actions
    /// with an `idempotency_key`; false for POST and PATCH, which are then retried only when
    /// the provider cannot have acted on them (connection refused, 429).
    /// Example: `idempotent: true` (a POST search endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent: Option<bool>,
    /// Header that carries an idempotency key: the same for every attempt of one call
    /// (derived from the run and step ids; random per call outside a run), so the provider
    /// can drop duplicates. Example: `idempotency_key: Idempotency-Key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// Deadline for the whole action, all pages and retries included. Example: `timeout: 2m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<DurationText>,
}

/// A typed action input.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The JSON type. Example: `type: integer`.
    #[serde(rename = "type")]
    pub value_type: ValueType,
    /// Shown in the catalog and in editor tooltips. Example: `description: Channel id or name.`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the input may be left out; inputs with a `default` always may.
    /// Example: `optional: true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Used when the input is not given. Example: `default: 100`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    /// The only values allowed. Example: `enum: [open, closed, all]`.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub allowed: Option<Vec<serde_json::Value>>,
}

/// A request body.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum BodySpec {
    /// A JSON document; strings in it are templates; mapping entries that render to null
    /// are left out. Example: `json: { text: "{{ input.text }}", channel: "{{ input.channel }}" }`.
    Json(TemplateValue),
    /// `application/x-www-form-urlencoded` fields. Example: `form: { To: "{{ input.to }}", Body: "{{ input.text }}" }`.
    Form(TemplateMap),
    /// Any other body: a content type and a template.
    /// Example: `raw: { content_type: text/csv, content: "{{ input.csv }}" }`.
    Raw(RawBody),
    /// A file's bytes, streamed from the file store.
    /// Example: `file: { file: "{{ input.file }}" }`.
    File(FileBody),
    /// A multipart body (`form-data`, `related` or `mixed`) of JSON, text and file parts;
    /// files are streamed. Example:
    /// `multipart: { kind: related, parts: [{ json: { name: "{{ input.name }}" } }, { file: "{{ input.file }}" }] }`.
    Multipart(MultipartBody),
    /// An email message (RFC 5322, `message/rfc822`), for APIs that send or import MIME
    /// mail. Example: `email: { from: "{{ input.from }}", to: "{{ input.to }}", subject: "{{ input.subject }}", text: "{{ input.text }}" }`.
    Email(Box<super::smtp::MessageSpec>),
}

/// A body that is one file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileBody {
    /// The file reference, a template. Example: `file: "{{ input.file }}"`.
    pub file: Template,
    /// The Content-Type; by default the file's own. Example: `content_type: application/octet-stream`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<Template>,
}

/// The kind of a multipart body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MultipartKind {
    /// `multipart/form-data` (HTML forms; each part has a `name`).
    #[default]
    FormData,
    /// `multipart/related` (metadata then content, e.g. Google's multipart upload).
    Related,
    /// `multipart/mixed`.
    Mixed,
}

/// A multipart body.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MultipartBody {
    /// `form_data` (the default), `related` or `mixed`. Example: `kind: related`.
    #[serde(default)]
    pub kind: MultipartKind,
    /// The parts, in order. Example: `parts: [{ name: chat_id, text: "{{ input.chat_id }}" }, { name: photo, file: "{{ input.photo }}" }]`.
    pub parts: Vec<PartSpec>,
}

/// One part of a multipart body: exactly one of `json`, `text` and `file`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PartSpec {
    /// The form field name (required for `form_data`). Example: `name: document`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A JSON part (`application/json; charset=UTF-8`). Example: `json: { name: "{{ input.name }}" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<TemplateValue>,
    /// A text part; a part that renders to null is left out. Example: `text: "{{ input.caption }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Template>,
    /// A file part, streamed. Example: `file: "{{ input.file }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<Template>,
    /// The part's file name (file parts: by default the file's name). Example: `filename: "{{ input.name }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<Template>,
    /// The part's Content-Type (default: JSON, `text/plain; charset=UTF-8`, or the file's).
    /// Example: `content_type: text/csv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<Template>,
}

/// Saving a response body as a file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadSpec {
    /// The file's name, a template over `input` and `response.headers`; by default the
    /// response's Content-Disposition file name, else the URL's last path segment.
    /// Example: `name: "{{ input.path | split('/') | last }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Template>,
    /// The file's media type; by default the response's Content-Type.
    /// Example: `content_type: application/pdf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<Template>,
    /// Follow one redirect (301, 302, 303, 307, 308) to the file's real location, a
    /// pre-authenticated URL (Microsoft Graph's `/content` answers 302). The connection's
    /// credentials are never sent there. Example: `follow_redirect: true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_redirect: bool,
}

/// A chunked (resumable) upload. The action's own request opens the session; its response
/// is `session` (status, headers, body) in these templates. Each chunk is then sent with
/// `chunk` = `{index, start, end, size, last}` (`end` inclusive) and `file` = the reference.
/// A chunk answered with 2xx or 308 (Resume Incomplete) is done. The last chunk's response
/// (or `finish`'s) is the action's response. Example (Microsoft Graph):
/// `upload: { file: "{{ input.file }}", chunk_size: 10MiB, chunk: { method: PUT, url: "{{ session.body.uploadUrl }}", auth: false, headers: { Content-Range: "bytes {{ chunk.start }}-{{ chunk.end }}/{{ file.size }}" } } }`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadSpec {
    /// The file to send. Example: `file: "{{ input.file }}"`.
    pub file: Template,
    /// Bytes per chunk: a number with `KiB` or `MiB`. Providers set multiples (Graph
    /// 320 KiB, Google 256 KiB). Example: `chunk_size: 8MiB`.
    pub chunk_size: ByteSizeText,
    /// The request sending each chunk (the chunk's bytes are its body). Example:
    /// `chunk: { method: PUT, url: "{{ session.headers.location }}", headers: { Content-Range: "bytes {{ chunk.start }}-{{ chunk.end }}/{{ file.size }}" } }`.
    pub chunk: UploadRequestSpec,
    /// A request after the last chunk that commits the upload (Dropbox's `finish`). Example:
    /// `finish: { method: POST, path: /2/files/upload_session/finish, headers: { Dropbox-API-Arg: "..." } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish: Option<UploadRequestSpec>,
}

/// A request of a chunked upload.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadRequestSpec {
    /// Example: `method: PUT`.
    pub method: HttpMethod,
    /// An absolute URL the session gave, a template. Example: `url: "{{ session.headers.location }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Template>,
    /// Or a path under the action's base URL. Example: `path: /2/files/upload_session/append_v2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Template>,
    /// Request headers. Example: `headers: { Content-Range: "bytes {{ chunk.start }}-{{ chunk.end }}/{{ file.size }}" }`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub headers: TemplateMap,
    /// Content-Type of chunk bodies (default `application/octet-stream`); a `finish` request
    /// has an empty body of this type unless it sets `json`. Example: `content_type: application/octet-stream`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// A JSON body (`finish` only). Example: `json: { cursor: { offset: "{{ file.size }}" } }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<TemplateValue>,
    /// Whether the connection's credentials are sent (default true). Session URLs that
    /// carry their own authorization (Graph's `uploadUrl`) must not get them; with
    /// `auth: true` the URL must stay on the base URL's origin. Example: `auth: false`.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub auth: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A size in bytes: a number followed by `B`, `KiB`, `MiB` or `GiB`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct ByteSizeText(#[schemars(regex(pattern = r"^[0-9]+(B|KiB|MiB|GiB)$"))] pub String);

impl ByteSizeText {
    /// The size in bytes, or `None` when the text is malformed.
    pub fn bytes(&self) -> Option<u64> {
        let text = self.0.trim();
        let split = text.find(|c: char| !c.is_ascii_digit())?;
        let (digits, unit) = text.split_at(split);
        let n: u64 = digits.parse().ok()?;
        let scale = match unit {
            "B" => 1,
            "KiB" => 1024,
            "MiB" => 1024 * 1024,
            "GiB" => 1024 * 1024 * 1024,
            _ => return None,
        };
        n.checked_mul(scale)
    }
}

/// A body sent as text.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBody {
    /// Example: `content_type: text/plain`.
    pub content_type: String,
    /// Example: `content: "{{ input.text }}"`.
    pub content: Template,
}
