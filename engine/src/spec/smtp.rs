//! An email action: the message is sent over SMTP instead of an HTTP request. Every field
//! is a template over the connection's `config`/`secrets` and the action's `input`, so one
//! connector serves any mail provider (presets are config defaults).

use super::common::{Template, TemplateValue};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How an email action reaches the SMTP server and what it sends.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpSpec {
    /// The server's host name. Example: `host: "{{ config.host }}"`.
    pub host: Template,
    /// The server's port (default: 587 for `starttls`, 465 for `tls`, 25 for `none`).
    /// Example: `port: "{{ config.port }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Template>,
    /// `starttls` (upgrade a plain connection; the default), `tls` (TLS from the first
    /// byte) or `none` (plain text: only for a local relay). Example: `security: "{{ config.security }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<Template>,
    /// Login user; no login when it renders empty. Example: `username: "{{ config.username }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<Template>,
    /// Login password. Example: `password: "{{ secrets.password }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<Template>,
    /// A PEM certificate to trust besides the public roots (a private server's CA).
    /// Example: `ca_certificate: "{{ config.ca_certificate }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<Template>,
    /// Only connect and log in (EHLO, STARTTLS, AUTH) and send nothing: a connection check.
    /// Example: `verify_only: true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verify_only: bool,
    /// The sender, `Name <address>` or an address. Example: `from: "{{ config.from }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Template>,
    /// Recipients: an address, a comma-separated list or a list. Example: `to: "{{ input.to }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<TemplateValue>,
    /// Copy recipients. Example: `cc: "{{ input.cc }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc: Option<TemplateValue>,
    /// Blind copy recipients (not shown in the message). Example: `bcc: "{{ input.bcc }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bcc: Option<TemplateValue>,
    /// Where replies go. Example: `reply_to: "{{ input.reply_to }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Template>,
    /// Example: `subject: "{{ input.subject }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Template>,
    /// The plain-text body. Example: `text: "{{ input.text }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Template>,
    /// The HTML body (sent with the text as alternatives when both are given).
    /// Example: `html: "{{ input.html }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<Template>,
    /// Attachments: a list of `{filename, content_type, content}` (text) or
    /// `{filename, content_type, content_base64}`, e.g. from an earlier step's output.
    /// Example: `attachments: "{{ input.attachments }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<TemplateValue>,
}

/// An email message: the message fields of an email action, also an HTTP body kind
/// (`body: { email: … }`) for APIs that take MIME mail (Gmail's send, Graph's MIME send).
/// Attachments may also be file references: `[{file: "{{ input.file }}"}]` or the
/// reference itself.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageSpec {
    /// The sender, `Name <address>` or an address. Example: `from: "{{ config.from }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Template>,
    /// Recipients: an address, a comma-separated list or a list. Example: `to: "{{ input.to }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<TemplateValue>,
    /// Copy recipients. Example: `cc: "{{ input.cc }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc: Option<TemplateValue>,
    /// Blind copy recipients (not shown in the message). Example: `bcc: "{{ input.bcc }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bcc: Option<TemplateValue>,
    /// Where replies go. Example: `reply_to: "{{ input.reply_to }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<Template>,
    /// Example: `subject: "{{ input.subject }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Template>,
    /// The plain-text body. Example: `text: "{{ input.text }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<Template>,
    /// The HTML body (sent with the text as alternatives when both are given).
    /// Example: `html: "{{ input.html }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<Template>,
    /// Attachments: a list of `{filename, content_type, content}` (text) or
    /// `{filename, content_type, content_base64}`, e.g. from an earlier step's output.
    /// Example: `attachments: "{{ input.attachments }}"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<TemplateValue>,
}

impl SmtpSpec {
    /// The message fields (compiled the same way for both uses).
    pub fn message(&self) -> MessageSpec {
        MessageSpec {
            from: self.from.clone(),
            to: self.to.clone(),
            cc: self.cc.clone(),
            bcc: self.bcc.clone(),
            reply_to: self.reply_to.clone(),
            subject: self.subject.clone(),
            text: self.text.clone(),
            html: self.html.clone(),
            attachments: self.attachments.clone(),
        }
    }
}
