//! Compiled connectors.

use super::template::{CompiledExpression, CompiledTemplate, TemplateTree};
use super::{DownloadPlan, EmailBodyPlan, FileBodyPlan, MultipartPlan, UploadPlan};
use crate::spec::auth::{ClientAuthMethod, KeyLocation};
use crate::spec::common::{HttpMethod, ValueType};
use crate::spec::errors::{Backoff, ErrorOutcome, ResetFormat, StatusPattern};
use crate::spec::pagination::ParamLocation;
use crate::spec::webhook::{Encoding, HmacAlgorithm, TimestampUnit};
use indexmap::IndexMap;
use serde_json_path::JsonPath;
use std::time::Duration;

/// Ordered name/template pairs (headers, query parameters, form fields).
pub type TemplatePairs = Vec<(String, TemplateTree)>;

/// A compiled connector.
#[derive(Debug)]
pub struct ConnectorPlan {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// Hash of the source file, recorded with runs so they finish on the spec they started with.
    pub content_hash: String,
    pub config: IndexMap<String, ConfigFieldPlan>,
    pub base_url: CompiledTemplate,
    pub headers: TemplatePairs,
    pub query: TemplatePairs,
    pub auth: Vec<AuthPlan>,
    pub actions: IndexMap<String, ActionPlan>,
    pub check: Option<CheckPlan>,
    pub webhooks: Option<WebhookPlan>,
    pub triggers: IndexMap<String, ConnectorTriggerPlan>,
}

/// A config field with its pattern compiled.
#[derive(Debug, Clone)]
pub struct ConfigFieldPlan {
    pub value_type: ValueType,
    pub secret: bool,
    pub required: bool,
    pub default: Option<serde_json::Value>,
    pub pattern: Option<regex::Regex>,
    pub allowed: Option<Vec<serde_json::Value>>,
    pub description: Option<String>,
}

/// One auth mode.
#[derive(Debug, Clone)]
pub enum AuthPlan {
    None,
    ApiKey {
        location: KeyLocation,
        name: String,
        value: CompiledTemplate,
    },
    Bearer {
        token: CompiledTemplate,
    },
    Basic {
        username: CompiledTemplate,
        password: Option<CompiledTemplate>,
    },
    OAuth2(OAuth2Plan),
    OAuth2ClientCredentials(OAuth2Plan),
    Custom {
        headers: TemplatePairs,
        query: TemplatePairs,
    },
}

impl AuthPlan {
    /// The mode's name as written in the spec (`api_key`, `oauth2`, ...).
    pub fn mode_name(&self) -> &'static str {
        match self {
            AuthPlan::None => "none",
            AuthPlan::ApiKey { .. } => "api_key",
            AuthPlan::Bearer { .. } => "bearer",
            AuthPlan::Basic { .. } => "basic",
            AuthPlan::OAuth2(_) => "oauth2",
            AuthPlan::OAuth2ClientCredentials(_) => "oauth2_client_credentials",
            AuthPlan::Custom { .. } => "custom",
        }
    }
}

/// OAuth 2.0 settings (authorization code or client credentials).
#[derive(Debug, Clone)]
pub struct OAuth2Plan {
    /// `None` for the client credentials grant.
    pub authorize_url: Option<CompiledTemplate>,
    pub token_url: CompiledTemplate,
    pub revocation_url: Option<CompiledTemplate>,
    pub scopes: Vec<String>,
    pub scope_separator: String,
    pub pkce: bool,
    pub authorize_params: TemplatePairs,
    pub token_params: TemplatePairs,
    pub client_auth: ClientAuthMethod,
    pub client_id: Option<CompiledTemplate>,
    pub client_secret: Option<CompiledTemplate>,
    pub token_response: TokenResponsePlan,
}

/// JSONPath queries into a token response.
#[derive(Debug, Clone)]
pub struct TokenResponsePlan {
    pub access_token: JsonPath,
    pub refresh_token: Option<JsonPath>,
    pub expires_in: Option<JsonPath>,
    pub scope: Option<JsonPath>,
    pub extra: Vec<(String, JsonPath)>,
}

/// A compiled action.
#[derive(Debug, Clone)]
pub struct ActionPlan {
    pub name: String,
    /// What the action does (for the catalog and the dashboard).
    pub description: Option<String>,
    /// How the action reaches the provider. The request fields below (method, path,
    /// query, headers, body, pagination) describe HTTP actions; an email action has none.
    pub transport: Transport,
    pub method: HttpMethod,
    pub base_url: Option<CompiledTemplate>,
    pub path: CompiledTemplate,
    pub inputs: IndexMap<String, InputPlan>,
    pub query: TemplatePairs,
    pub headers: TemplatePairs,
    pub body: Option<BodyPlan>,
    /// The response body is saved as a file; the output is its reference.
    pub download: Option<DownloadPlan>,
    /// The file is sent in chunks after the first request.
    pub upload: Option<Box<UploadPlan>>,
    pub output: Vec<(String, FieldPath)>,
    pub records: Option<JsonPath>,
    pub fields: Vec<(String, FieldPath)>,
    /// Records kept when this is true.
    pub filter: Option<CompiledExpression>,
    pub add_fields: Vec<(String, TemplateTree)>,
    /// Each entry is a path of object keys (`user.avatar_url` -> `["user", "avatar_url"]`).
    pub remove_fields: Vec<Vec<String>>,
    pub paginator: Option<PaginatorPlan>,
    /// The action's own rules followed by the connector's: first match wins.
    pub error_rules: Vec<ErrorRulePlan>,
    pub retry: RetryPlan,
    pub rate_limit: Option<RateLimitPlan>,
    pub timeout: Option<Duration>,
    /// Whether a retry after the request may have reached the provider is safe.
    pub idempotent: bool,
    /// Header carrying the per-call idempotency key.
    pub idempotency_key: Option<String>,
}

/// How an action reaches the provider.
#[derive(Debug, Clone)]
pub enum Transport {
    Http,
    Smtp(Box<SmtpPlan>),
}

/// An email action, every field a template over config, secrets and input.
#[derive(Debug, Clone)]
pub struct SmtpPlan {
    pub host: CompiledTemplate,
    pub port: Option<CompiledTemplate>,
    pub security: Option<CompiledTemplate>,
    pub username: Option<CompiledTemplate>,
    pub password: Option<CompiledTemplate>,
    pub ca_certificate: Option<CompiledTemplate>,
    /// What to send; `None`: only connect and log in (a check).
    pub message: Option<SmtpMessagePlan>,
}

/// The message of an email action.
#[derive(Debug, Clone)]
pub struct SmtpMessagePlan {
    pub from: CompiledTemplate,
    pub to: TemplateTree,
    pub cc: Option<TemplateTree>,
    pub bcc: Option<TemplateTree>,
    pub reply_to: Option<CompiledTemplate>,
    pub subject: CompiledTemplate,
    pub text: Option<CompiledTemplate>,
    pub html: Option<CompiledTemplate>,
    pub attachments: Option<TemplateTree>,
}

/// A JSONPath used to read one named value.
#[derive(Debug, Clone)]
pub struct FieldPath {
    pub path: JsonPath,
    /// RFC 9535 singular query (names and indexes only): reads one value or null. Other
    /// queries read the list of every match.
    pub singular: bool,
}

/// A typed input.
#[derive(Debug, Clone, PartialEq)]
pub struct InputPlan {
    pub value_type: ValueType,
    pub required: bool,
    pub default: Option<serde_json::Value>,
    pub allowed: Option<Vec<serde_json::Value>>,
    pub description: Option<String>,
}

/// A compiled request body.
#[derive(Debug, Clone)]
pub enum BodyPlan {
    Json(TemplateTree),
    Form(TemplatePairs),
    Raw {
        content_type: String,
        content: CompiledTemplate,
    },
    File(FileBodyPlan),
    Multipart(MultipartPlan),
    Email(Box<EmailBodyPlan>),
}

/// A compiled paginator.
#[derive(Debug, Clone)]
pub struct PaginatorPlan {
    pub name: String,
    pub strategy: StrategyPlan,
    pub stop: Vec<StopPlan>,
    pub max_pages: Option<u32>,
    pub max_duration: Option<Duration>,
    pub page_size: Option<(String, u32)>,
}

/// How the next page is requested.
#[derive(Debug, Clone)]
pub enum StrategyPlan {
    Cursor {
        from: CursorFrom,
        param: String,
        location: ParamLocation,
    },
    NextUrl {
        path: JsonPath,
    },
    LinkHeader {
        rel: String,
    },
    Offset {
        param: String,
        limit_param: String,
        limit: u32,
        start: u64,
    },
    PageNumber {
        param: String,
        start: u64,
    },
}

/// Where a cursor is read.
#[derive(Debug, Clone)]
pub enum CursorFrom {
    Body(JsonPath),
    Header(String),
}

/// A stop rule.
#[derive(Debug, Clone)]
pub enum StopPlan {
    EmptyPage,
    ShortPage,
    NoToken,
    When(CompiledExpression),
}

/// A compiled error rule.
#[derive(Debug, Clone)]
pub struct ErrorRulePlan {
    pub status: Vec<StatusPattern>,
    pub when: Option<CompiledExpression>,
    pub then: ErrorOutcome,
    pub message: Option<CompiledTemplate>,
}

/// Retry policy with defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPlan {
    pub on_status: Vec<StatusPattern>,
    pub attempts: u32,
    pub backoff: Backoff,
    pub initial_delay: Duration,
    pub max_delay: Duration,
    pub on_network_error: bool,
}

/// Rate-limit signals.
#[derive(Debug, Clone, PartialEq)]
pub struct RateLimitPlan {
    pub retry_after_header: Option<String>,
    pub remaining_header: Option<String>,
    pub reset_header: Option<String>,
    pub reset_format: ResetFormat,
    pub max_wait: Duration,
    pub requests_per_second: Option<f64>,
}

/// The connection check.
#[derive(Debug, Clone)]
pub struct CheckPlan {
    pub action: String,
    pub input: TemplatePairs,
}

/// Compiled webhook rules.
#[derive(Debug, Clone)]
pub struct WebhookPlan {
    pub verify: VerifyPlan,
    pub handshakes: Vec<HandshakePlan>,
    pub event_id: Option<SourcePlan>,
    pub event_type: Option<SourcePlan>,
    pub routing_key: Option<SourcePlan>,
    pub dedupe_window: Duration,
    /// (content type, body) answered to an accepted delivery; `None`: `accepted` as text.
    pub accepted_reply: Option<(String, String)>,
}

/// Signature verification.
#[derive(Debug, Clone)]
pub enum VerifyPlan {
    Hmac(Box<HmacPlan>),
    Token {
        from: SourcePlan,
        value: CompiledTemplate,
    },
    None {
        reason: String,
    },
    /// Chosen by the value of a config field.
    ByConfig {
        field: String,
        schemes: IndexMap<String, VerifyPlan>,
    },
}

/// HMAC verification.
#[derive(Debug, Clone)]
pub struct HmacPlan {
    pub algorithm: HmacAlgorithm,
    pub key: CompiledTemplate,
    pub key_prefix: Option<String>,
    pub key_encoding: Encoding,
    pub signed: CompiledTemplate,
    pub header: String,
    pub prefix: Option<String>,
    pub encoding: Encoding,
    /// `(separator, key_separator, key)` when the header holds a list of signatures.
    pub list: Option<(String, String, String)>,
    pub timestamp: Option<TimestampPlan>,
}

/// Timestamp checks.
#[derive(Debug, Clone)]
pub struct TimestampPlan {
    pub from: TimestampFrom,
    pub unit: TimestampUnit,
    pub tolerance: Duration,
}

/// Where a timestamp is read.
#[derive(Debug, Clone)]
pub enum TimestampFrom {
    Header(String),
    Body(JsonPath),
    SignatureKey(String),
}

/// A value read from a request.
#[derive(Debug, Clone)]
pub enum SourcePlan {
    Header(String),
    Query(String),
    Body(JsonPath),
    Template(CompiledTemplate),
}

/// A handshake.
#[derive(Debug, Clone)]
pub struct HandshakePlan {
    pub when: CompiledExpression,
    pub unsigned: bool,
    pub status: u16,
    pub content_type: String,
    pub body: Option<CompiledTemplate>,
    pub headers: Vec<(String, String)>,
}

/// A connector trigger.
#[derive(Debug, Clone)]
pub enum ConnectorTriggerPlan {
    Webhook {
        events: Vec<String>,
        filter: Option<CompiledExpression>,
    },
    Poll(PollPlan),
}

/// A polling trigger.
#[derive(Debug, Clone)]
pub struct PollPlan {
    pub action: String,
    pub input: TemplatePairs,
    pub every: Duration,
    /// Where the cursor is read, and the action input it goes back in.
    pub cursor: Option<(PollCursorFrom, String)>,
    pub dedupe: Option<JsonPath>,
    /// Statuses after which the poll starts over without a cursor.
    pub resync_on: Vec<u16>,
    /// Records that are deletions.
    pub deleted: Option<CompiledExpression>,
}

/// Where a poll cursor is read.
#[derive(Debug, Clone)]
pub enum PollCursorFrom {
    /// The highest value of this field over the records.
    Records(JsonPath),
    /// This value in the last page's response (a sync token).
    Response(JsonPath),
}
