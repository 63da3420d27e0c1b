//! Email actions: their `smtp` templates are compiled in the action's request scope, and
//! the HTTP-only fields are refused on them (they would be silently ignored).

use super::template::{Scope, TemplateCompiler};
use super::values::optional;
use crate::load::{Reporter, YamlPath};
use crate::plan::{SmtpMessagePlan, SmtpPlan};
use crate::spec::action::ActionSpec;
use crate::spec::smtp::{MessageSpec, SmtpSpec};

/// Whether an email action leaves the HTTP-only fields out; each one set is an error.
pub fn check_email_action(action: &ActionSpec, path: &YamlPath, r: &mut Reporter<'_>) -> bool {
    let http_only = [
        ("base_url", action.base_url.is_some()),
        ("query", !action.query.is_empty()),
        ("headers", !action.headers.is_empty()),
        ("body", action.body.is_some()),
        ("records", action.records.is_some()),
        ("paginate", action.paginate.is_some()),
        ("idempotency_key", action.idempotency_key.is_some()),
        ("download", action.download.is_some()),
        ("upload", action.upload.is_some()),
    ];
    let mut ok = true;
    for (key, set) in http_only {
        if set {
            r.error_hint(
                "invalid-action",
                &path.key(key),
                format!("`{key}` is for HTTP actions; this one sends an email (`smtp`)"),
                Some(format!("remove `{key}`")),
            );
            ok = false;
        }
    }
    ok
}

pub fn compile_smtp(
    spec: &SmtpSpec,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<SmtpPlan> {
    let text = |r: &mut Reporter<'_>, t: &crate::spec::common::Template, key: &str| {
        tc.template(&t.0, scope, &path.key(key), r)
    };
    let host = text(r, &spec.host, "host");
    let port = optional(spec.port.as_ref(), |t| text(r, t, "port"));
    let security = optional(spec.security.as_ref(), |t| text(r, t, "security"));
    let username = optional(spec.username.as_ref(), |t| text(r, t, "username"));
    let password = optional(spec.password.as_ref(), |t| text(r, t, "password"));
    let ca_certificate = optional(spec.ca_certificate.as_ref(), |t| {
        text(r, t, "ca_certificate")
    });
    let message = if spec.verify_only {
        let message_fields = [
            ("from", spec.from.is_some()),
            ("to", spec.to.is_some()),
            ("cc", spec.cc.is_some()),
            ("bcc", spec.bcc.is_some()),
            ("reply_to", spec.reply_to.is_some()),
            ("subject", spec.subject.is_some()),
            ("text", spec.text.is_some()),
            ("html", spec.html.is_some()),
            ("attachments", spec.attachments.is_some()),
        ];
        let mut ok = true;
        for (key, set) in message_fields {
            if set {
                r.error(
                    "invalid-action",
                    &path.key(key),
                    format!("`{key}` is for sending; `verify_only` sends nothing"),
                );
                ok = false;
            }
        }
        ok.then_some(None)
    } else {
        compile_message(&spec.message(), tc, scope, path, r, true).map(Some)
    };
    Some(SmtpPlan {
        host: host?,
        port: port?,
        security: security?,
        username: username?,
        password: password?,
        ca_certificate: ca_certificate?,
        message: message?,
    })
}

pub fn compile_message(
    spec: &MessageSpec,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
    smtp: bool,
) -> Option<SmtpMessagePlan> {
    let text = |r: &mut Reporter<'_>, t: &crate::spec::common::Template, key: &str| {
        tc.template(&t.0, scope, &path.key(key), r)
    };
    let mut missing = Vec::new();
    for (key, set) in [
        ("from", spec.from.is_some()),
        ("to", spec.to.is_some()),
        ("subject", spec.subject.is_some()),
    ] {
        if !set {
            missing.push(key);
        }
    }
    if spec.text.is_none() && spec.html.is_none() {
        missing.push("text` or `html");
    }
    for key in &missing {
        r.error_hint(
            "missing-field",
            path,
            format!("an email needs `{key}`"),
            smtp.then(|| "or set `verify_only: true` for a check that sends nothing".into()),
        );
    }
    let from = optional(spec.from.as_ref(), |t| text(r, t, "from"));
    let to = optional(spec.to.as_ref(), |v| {
        tc.tree(&v.0, scope, &path.key("to"), r)
    });
    let cc = optional(spec.cc.as_ref(), |v| {
        tc.tree(&v.0, scope, &path.key("cc"), r)
    });
    let bcc = optional(spec.bcc.as_ref(), |v| {
        tc.tree(&v.0, scope, &path.key("bcc"), r)
    });
    let reply_to = optional(spec.reply_to.as_ref(), |t| text(r, t, "reply_to"));
    let subject = optional(spec.subject.as_ref(), |t| text(r, t, "subject"));
    let body_text = optional(spec.text.as_ref(), |t| text(r, t, "text"));
    let html = optional(spec.html.as_ref(), |t| text(r, t, "html"));
    let attachments = optional(spec.attachments.as_ref(), |v| {
        tc.tree(&v.0, scope, &path.key("attachments"), r)
    });
    if !missing.is_empty() {
        return None;
    }
    Some(SmtpMessagePlan {
        from: from??,
        to: to??,
        cc: cc?,
        bcc: bcc?,
        reply_to: reply_to?,
        subject: subject??,
        text: body_text?,
        html: html?,
        attachments: attachments?,
    })
}
