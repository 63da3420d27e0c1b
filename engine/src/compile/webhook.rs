//! Compiling webhook verification, handshakes and event labels.

use super::scopes;
use super::template::{Scope, TemplateCompiler};
use super::values::{duration, json_path, optional};
use crate::load::{Reporter, YamlPath};
use crate::plan::{
    HandshakePlan, HmacPlan, SourcePlan, TimestampFrom, TimestampPlan, VerifyPlan, WebhookPlan,
};
use crate::spec::common::ValueSource;
use crate::spec::connector::ConfigField;
use crate::spec::webhook::{Encoding, TimestampSource, VerifySpec, WebhookSpec};
use indexmap::IndexMap;
use std::time::Duration;

pub fn compile_webhooks(
    spec: &WebhookSpec,
    config: &IndexMap<String, ConfigField>,
    tc: &TemplateCompiler,
    base: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<WebhookPlan> {
    let request = scopes::webhook_request(base);
    let verify = compile_verify(
        &spec.verify,
        config,
        tc,
        base,
        &request,
        &path.key("verify"),
        r,
    );
    let mut handshakes = Vec::new();
    let mut ok = true;
    for (i, h) in spec.handshakes.iter().enumerate() {
        let p = path.key("handshakes").index(i);
        let when = tc.expression(&h.when.0, &request, &p.key("when"), r);
        let body = optional(h.respond.body.as_ref(), |b| {
            tc.template(&b.0, &request, &p.key("respond").key("body"), r)
        });
        if !(100..=599).contains(&h.respond.status) {
            r.error(
                "invalid-value",
                &p.key("respond").key("status"),
                format!("invalid status code {}", h.respond.status),
            );
            ok = false;
        }
        match (when, body) {
            (Some(when), Some(body)) => handshakes.push(HandshakePlan {
                when,
                unsigned: h.unsigned,
                status: h.respond.status,
                content_type: h.respond.content_type.clone(),
                body,
                headers: h
                    .respond
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            }),
            _ => ok = false,
        }
    }
    let source = |r: &mut Reporter<'_>, s: &Option<ValueSource>, key: &str| {
        optional(s.as_ref(), |s| {
            compile_source(s, tc, &request, &path.key(key), r)
        })
    };
    let event_id = source(r, &spec.event_id, "event_id");
    let event_type = source(r, &spec.event_type, "event_type");
    let routing_key = source(r, &spec.routing_key, "routing_key");
    let dedupe_window = match &spec.dedupe_window {
        Some(d) => duration(d, &path.key("dedupe_window"), r),
        None => Some(Duration::from_secs(7 * 24 * 3600)),
    };
    Some(WebhookPlan {
        verify: verify?,
        handshakes: ok.then_some(handshakes)?,
        event_id: event_id?,
        event_type: event_type?,
        routing_key: routing_key?,
        dedupe_window: dedupe_window?,
        accepted_reply: spec
            .reply
            .as_ref()
            .map(|r| (r.content_type.clone(), r.body.clone())),
    })
}

fn compile_source(
    source: &ValueSource,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<SourcePlan> {
    Some(match source {
        ValueSource::Header(h) => SourcePlan::Header(h.clone()),
        ValueSource::Query(q) => SourcePlan::Query(q.clone()),
        ValueSource::Body(p) => SourcePlan::Body(json_path(p, &path.key("body"), r)?),
        ValueSource::Template(t) => {
            SourcePlan::Template(tc.template(&t.0, scope, &path.key("template"), r)?)
        }
    })
}

fn compile_verify(
    spec: &VerifySpec,
    config: &IndexMap<String, ConfigField>,
    tc: &TemplateCompiler,
    base: &Scope,
    request: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<VerifyPlan> {
    match spec {
        VerifySpec::Hmac(h) => {
            let p = path.key("hmac");
            let key = tc.template(&h.key.0, base, &p.key("key"), r);
            let signed = tc.template(&h.signed.0, request, &p.key("signed"), r);
            let mut ok = true;
            if h.signature.encoding == Encoding::Utf8 {
                r.error_hint(
                    "invalid-value",
                    &p.key("signature").key("encoding"),
                    "a signature is bytes written as `hex` or `base64`, not `utf8`",
                    None,
                );
                ok = false;
            }
            let timestamp = match &h.timestamp {
                None => Some(None),
                Some(t) => {
                    let tp = p.key("timestamp");
                    let from = match &t.from {
                        TimestampSource::Header(name) => Some(TimestampFrom::Header(name.clone())),
                        TimestampSource::Body(jp) => {
                            json_path(jp, &tp.key("from").key("body"), r).map(TimestampFrom::Body)
                        }
                        TimestampSource::SignatureKey(k) => {
                            if h.signature.list.is_none() {
                                r.error_hint(
                                    "invalid-value",
                                    &tp.key("from").key("signature_key"),
                                    "`signature_key` reads the timestamp from a signature list, but `signature.list` is not set",
                                    None,
                                );
                                ok = false;
                            }
                            Some(TimestampFrom::SignatureKey(k.clone()))
                        }
                    };
                    let tolerance = duration(&t.tolerance, &tp.key("tolerance"), r);
                    (|| {
                        Some(Some(TimestampPlan {
                            from: from?,
                            unit: t.unit,
                            tolerance: tolerance?,
                        }))
                    })()
                }
            };
            if !ok {
                return None;
            }
            Some(VerifyPlan::Hmac(Box::new(HmacPlan {
                algorithm: h.algorithm,
                key: key?,
                key_prefix: h.key_prefix.clone(),
                key_encoding: h.key_encoding,
                signed: signed?,
                header: h.signature.header.clone(),
                prefix: h.signature.prefix.clone(),
                encoding: h.signature.encoding,
                list: h
                    .signature
                    .list
                    .as_ref()
                    .map(|l| (l.separator.clone(), l.key_separator.clone(), l.key.clone())),
                timestamp: timestamp?,
            })))
        }
        VerifySpec::Token(t) => {
            let p = path.key("token");
            let from = compile_source(&t.from, tc, request, &p.key("from"), r);
            let value = tc.template(&t.value.0, base, &p.key("value"), r);
            Some(VerifyPlan::Token {
                from: from?,
                value: value?,
            })
        }
        VerifySpec::ByConfig(choose) => {
            let p = path.key("by_config");
            let mut ok = true;
            tc.used_config.borrow_mut().insert(choose.field.clone());
            match config.get(&choose.field) {
                None => {
                    r.error_hint(
                        "unknown-config",
                        &p.key("field"),
                        format!("no config field `{}`", choose.field),
                        crate::diag::did_you_mean(&choose.field, config.keys().map(String::as_str)),
                    );
                    ok = false;
                }
                Some(field) if field.secret => {
                    r.error(
                        "invalid-value",
                        &p.key("field"),
                        format!(
                            "config field `{}` is secret: a scheme name is not",
                            choose.field
                        ),
                    );
                    ok = false;
                }
                Some(field) => {
                    for value in field.allowed.iter().flatten() {
                        let name = value.as_str().unwrap_or_default();
                        if !choose.schemes.contains_key(name) {
                            r.error(
                                "invalid-value",
                                &p.key("schemes"),
                                format!(
                                    "config field `{}` allows `{name}`, which names no scheme here",
                                    choose.field
                                ),
                            );
                            ok = false;
                        }
                    }
                }
            }
            let mut schemes = IndexMap::new();
            for (name, scheme) in &choose.schemes {
                let sp = p.key("schemes").key(name.clone());
                if matches!(scheme, VerifySpec::ByConfig(_) | VerifySpec::None(_)) {
                    r.error(
                        "invalid-value",
                        &sp,
                        "a `by_config` scheme must verify: `hmac` or `token`",
                    );
                    ok = false;
                    continue;
                }
                match compile_verify(scheme, config, tc, base, request, &sp, r) {
                    Some(plan) => {
                        schemes.insert(name.clone(), plan);
                    }
                    None => ok = false,
                }
            }
            ok.then_some(VerifyPlan::ByConfig {
                field: choose.field.clone(),
                schemes,
            })
        }
        VerifySpec::None(n) => {
            if n.reason.trim().is_empty() {
                r.error_hint(
                    "unverified-webhook",
                    &path.key("none").key("reason"),
                    "`verify: none` needs a reason",
                    Some("say why unsigned deliveries are acceptable for this provider".into()),
                );
                return None;
            }
            Some(VerifyPlan::None {
                reason: n.reason.clone(),
            })
        }
    }
}
