//! Compiling what an action sends and how it reads the answer: request templates, body,
//! output mapping, pagination, error rules, retries and rate limits.

use super::scopes;
use super::template::{Scope, TemplateCompiler};
use super::values::{duration, json_path, optional, optional_duration};
use crate::diag::did_you_mean;
use crate::load::{Reporter, YamlPath};
use crate::plan::{
    ActionPlan, BodyPlan, CursorFrom, ErrorRulePlan, PaginatorPlan, RateLimitPlan, RetryPlan,
    StopPlan, StrategyPlan, TemplatePairs, Transport,
};
use crate::spec::ConnectorSpec;
use crate::spec::action::{ActionSpec, BodySpec};
use crate::spec::common::HttpMethod;
use crate::spec::common::TemplateMap;
use crate::spec::errors::{ErrorRule, RateLimitSpec, RetrySpec};
use crate::spec::pagination::{CursorSource, PaginationStrategy, PaginatorSpec, StopRule};
use indexmap::IndexMap;
use std::time::Duration;

/// Compiles a name -> template map (headers, query, form fields) in order.
pub fn compile_pairs(
    map: &TemplateMap,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<TemplatePairs> {
    let mut out = Vec::with_capacity(map.len());
    let mut ok = true;
    for (name, value) in map {
        match tc.tree(&value.0, scope, &path.key(name.clone()), r) {
            Some(t) => out.push((name.clone(), t)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

pub fn compile_body(
    body: &BodySpec,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<BodyPlan> {
    Some(match body {
        BodySpec::Json(value) => BodyPlan::Json(tc.tree(&value.0, scope, &path.key("json"), r)?),
        BodySpec::Form(fields) => {
            BodyPlan::Form(compile_pairs(fields, tc, scope, &path.key("form"), r)?)
        }
        BodySpec::Raw(raw) => BodyPlan::Raw {
            content_type: raw.content_type.clone(),
            content: tc.template(&raw.content.0, scope, &path.key("raw").key("content"), r)?,
        },
        BodySpec::File(file) => super::transfer::file_body(file, tc, scope, &path.key("file"), r)?,
        BodySpec::Multipart(m) => {
            super::transfer::multipart_body(m, tc, scope, &path.key("multipart"), r)?
        }
        BodySpec::Email(m) => super::transfer::email_body(m, tc, scope, &path.key("email"), r)?,
    })
}

/// Connector-level parts every action shares: its error rules, paginators and rate limit.
#[derive(Default)]
pub struct SharedParts {
    pub error_rules: Vec<ErrorRulePlan>,
    pub paginators: IndexMap<String, PaginatorPlan>,
    pub rate_limit: Option<RateLimitPlan>,
}

/// Compiles the connector-level error rules, paginators and rate limit once.
pub fn compile_shared(
    connector: &ConnectorSpec,
    base: &Scope,
    tc: &TemplateCompiler,
    r: &mut Reporter<'_>,
) -> Option<SharedParts> {
    // Shared parts see no action's inputs: the connector scope, the response and `page`.
    let response = scopes::with_page(scopes::action_response(base));
    let mut ok = true;
    let mut error_rules = Vec::new();
    for (i, rule) in connector.errors.iter().enumerate() {
        match compile_error_rule(
            rule,
            tc,
            &response,
            &YamlPath::root().key("errors").index(i),
            r,
        ) {
            Some(rule) => error_rules.push(rule),
            None => ok = false,
        }
    }
    let mut paginators = IndexMap::new();
    for (name, spec) in &connector.pagination {
        match compile_paginator(name, spec, tc, &response, r) {
            Some(p) => {
                paginators.insert(name.clone(), p);
            }
            None => ok = false,
        }
    }
    let rate_limit = optional(connector.rate_limit.as_ref(), |rl| {
        compile_rate_limit(rl, &YamlPath::root().key("rate_limit"), r)
    });
    Some(SharedParts {
        error_rules,
        paginators,
        rate_limit: rate_limit?,
    })
    .filter(|_| ok)
}

pub fn compile_action(
    name: &str,
    action: &ActionSpec,
    connector: &ConnectorSpec,
    shared: &SharedParts,
    base: &Scope,
    tc: &TemplateCompiler,
    r: &mut Reporter<'_>,
) -> Option<ActionPlan> {
    let path = YamlPath::root().key("actions").key(name);
    let request = scopes::action_request(base, name, action.input.keys().cloned());
    let response = scopes::action_response(&request);
    let mut ok = true;

    let inputs = super::inputs::compile_inputs(&action.input, &path.key("input"), r);

    let (transport, method, action_path) = match (&action.smtp, action.method, &action.path) {
        (Some(smtp), None, None) => {
            ok &= super::smtp::check_email_action(action, &path, r);
            let plan = super::smtp::compile_smtp(smtp, tc, &request, &path.key("smtp"), r);
            (
                plan.map(|p| Transport::Smtp(Box::new(p))),
                HttpMethod::Post,
                crate::spec::common::Template(String::new()),
            )
        }
        (Some(_), _, _) => {
            r.error_hint(
                "invalid-action",
                &path.key("smtp"),
                format!("action `{name}` has `smtp` and an HTTP `method`/`path`"),
                Some("an action sends an email (`smtp`) or an HTTP request (`method` and `path`), not both".into()),
            );
            (
                None,
                HttpMethod::Post,
                crate::spec::common::Template(String::new()),
            )
        }
        (None, Some(method), Some(p)) => {
            if connector.base_url.is_none() && action.base_url.is_none() {
                r.error_hint(
                    "missing-field",
                    &path,
                    format!("action `{name}` has no `base_url`, and the connector has none"),
                    Some("set `base_url` on the connector (or on this action)".into()),
                );
                ok = false;
            }
            (Some(Transport::Http), method, p.clone())
        }
        (None, method, p) => {
            let missing = if method.is_none() { "method" } else { "path" };
            r.error_hint(
                "missing-field",
                &path,
                format!("action `{name}` has no `{missing}`"),
                Some("an HTTP action needs `method` and `path` (an email action: `smtp`)".into()),
            );
            (
                None,
                method.unwrap_or(HttpMethod::Get),
                p.clone().unwrap_or_default(),
            )
        }
    };
    if matches!(transport, Some(Transport::Http))
        && !(action_path.0.starts_with('/') || action_path.0.starts_with("{{"))
    {
        r.error_hint(
            "invalid-path",
            &path.key("path"),
            format!("path `{}` must start with `/`", action_path.0),
            Some(format!("write `/{}`", action_path.0)),
        );
        ok = false;
    }
    let url_path = tc.template(&action_path.0, &request, &path.key("path"), r);
    let base_url = optional(action.base_url.as_ref(), |b| {
        tc.template(&b.0, base, &path.key("base_url"), r)
    });
    let query = compile_pairs(&action.query, tc, &request, &path.key("query"), r);
    let headers = compile_pairs(&action.headers, tc, &request, &path.key("headers"), r);
    let body = optional(action.body.as_ref(), |b| {
        compile_body(b, tc, &request, &path.key("body"), r)
    });
    let download = optional(action.download.as_ref(), |d| {
        super::transfer::download(d, action, tc, &response, &path, r)
    });
    let upload = optional(action.upload.as_ref(), |u| {
        super::transfer::upload(u, action, tc, &request, &path, r).map(Box::new)
    });
    let output = super::values::field_mapping(&action.output, &path.key("output"), r);
    let records = optional(action.records.as_ref(), |p| {
        json_path(p, &path.key("records"), r)
    });
    let fields = super::values::field_mapping(&action.fields, &path.key("fields"), r);
    let record_scope = scopes::record(&request);
    let filter = optional(action.filter.as_ref(), |f| {
        tc.expression(&f.0, &record_scope, &path.key("filter"), r)
    });
    let add_fields = compile_pairs(
        &action.add_fields,
        tc,
        &record_scope,
        &path.key("add_fields"),
        r,
    );
    let remove_fields: Vec<Vec<String>> = action
        .remove_fields
        .iter()
        .map(|f| f.split('.').map(String::from).collect())
        .collect();
    for (i, field) in action.remove_fields.iter().enumerate() {
        if field.split('.').any(str::is_empty) {
            r.error(
                "invalid-value",
                &path.key("remove_fields").index(i),
                format!("`{field}` is not a field name or a dotted path such as `user.id`"),
            );
            ok = false;
        }
    }
    let per_record = [
        ("fields", !action.fields.is_empty()),
        ("filter", action.filter.is_some()),
        ("add_fields", !action.add_fields.is_empty()),
        ("remove_fields", !action.remove_fields.is_empty()),
    ];
    for (key, used) in per_record {
        if used && action.records.is_none() {
            r.error_hint(
                "fields-without-records",
                &path.key(key),
                format!("action `{name}` has `{key}` but no `records`"),
                Some(format!(
                    "`{key}` applies to each record: add `records: <JSONPath to the list>`"
                )),
            );
            ok = false;
        }
    }

    let paginator = match &action.paginate {
        None => Some(None),
        Some(p) => {
            let at = path.key("paginate");
            if action.records.is_none() {
                r.error_hint(
                    "paginate-without-records",
                    &at,
                    format!("action `{name}` is paginated but has no `records`"),
                    Some(
                        "pagination streams records page by page: add `records: <JSONPath>`".into(),
                    ),
                );
                ok = false;
            }
            match connector.pagination.get(p) {
                Some(spec) => {
                    let guarded = spec.max_pages.is_some()
                        || spec.max_duration.is_some()
                        || action.timeout.is_some();
                    if !guarded {
                        r.warning(
                            "unguarded-pagination",
                            &at,
                            format!("action `{name}` pages with `{p}` without a guard"),
                            Some(format!("set `max_pages` or `max_duration` on pagination `{p}`, or a `timeout` on the action")),
                        );
                    }
                    // Compiled with the connector; a broken one was reported there.
                    shared.paginators.get(p).cloned().map(Some)
                }
                None => {
                    r.error_hint(
                        "unknown-paginator",
                        &at,
                        format!("no pagination strategy `{p}` in this connector"),
                        did_you_mean(p, connector.pagination.keys().map(String::as_str)).or_else(
                            || {
                                connector.pagination.is_empty().then(|| {
                                    "define it under the connector's `pagination:`".to_string()
                                })
                            },
                        ),
                    );
                    None
                }
            }
        }
    };

    let mut error_rules = Vec::new();
    for (i, rule) in action.errors.iter().enumerate() {
        match compile_error_rule(rule, tc, &response, &path.key("errors").index(i), r) {
            Some(rule) => error_rules.push(rule),
            None => ok = false,
        }
    }
    // The connector's rules apply after the action's own.
    error_rules.extend(shared.error_rules.iter().cloned());

    let retry = compile_retry(
        action.retry.as_ref().or(connector.retry.as_ref()),
        &retry_path(action, &path),
        r,
    );
    let timeout = optional_duration(&action.timeout, &path.key("timeout"), r);

    // Every check above has run and reported; build the plan only if all passed.
    ok.then_some(())?;
    Some(ActionPlan {
        name: name.to_string(),
        description: action.description.clone(),
        transport: transport?,
        method,
        base_url: base_url?,
        path: url_path?,
        inputs: inputs?,
        query: query?,
        headers: headers?,
        body: body?,
        download: download?,
        upload: upload?,
        output: output?,
        records: records?,
        fields: fields?,
        filter: filter?,
        add_fields: add_fields?,
        remove_fields,
        paginator: paginator?,
        error_rules,
        retry: retry?,
        rate_limit: shared.rate_limit.clone(),
        timeout: timeout?,
        idempotent: action.idempotent.unwrap_or(
            action.idempotency_key.is_some()
                || !matches!(method, HttpMethod::Post | HttpMethod::Patch),
        ),
        idempotency_key: action.idempotency_key.clone(),
    })
}

fn retry_path(action: &ActionSpec, action_path: &YamlPath) -> YamlPath {
    if action.retry.is_some() {
        action_path.key("retry")
    } else {
        YamlPath::root().key("retry")
    }
}

fn compile_error_rule(
    rule: &ErrorRule,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<ErrorRulePlan> {
    if rule.status.is_empty() && rule.when.is_none() {
        r.error_hint(
            "empty-error-rule",
            path,
            "error rule matches nothing: it has neither `status` nor `when`",
            Some("add `status: [..]` and/or `when: <expression>`".into()),
        );
        return None;
    }
    let when = optional(rule.when.as_ref(), |w| {
        tc.expression(&w.0, scope, &path.key("when"), r)
    });
    let message = optional(rule.message.as_ref(), |m| {
        tc.template(&m.0, scope, &path.key("message"), r)
    });
    Some(ErrorRulePlan {
        status: rule.status.clone(),
        when: when?,
        then: rule.then,
        message: message?,
    })
}

/// Retry defaults: 3 attempts on 429/502/503/504 and network errors, 500 ms doubling to 30 s.
pub fn compile_retry(
    spec: Option<&RetrySpec>,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<RetryPlan> {
    let Some(spec) = spec else {
        return Some(RetryPlan {
            on_status: crate::spec::errors::default_retry_status(),
            attempts: 3,
            backoff: Default::default(),
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            on_network_error: true,
        });
    };
    if spec.attempts == 0 {
        r.error(
            "invalid-value",
            &path.key("attempts"),
            "`attempts` counts the first try too: it must be at least 1",
        );
        return None;
    }
    let initial = optional_duration(&spec.initial_delay, &path.key("initial_delay"), r);
    let max = optional_duration(&spec.max_delay, &path.key("max_delay"), r);
    Some(RetryPlan {
        on_status: spec.on_status.clone(),
        attempts: spec.attempts,
        backoff: spec.backoff,
        initial_delay: initial?.unwrap_or(Duration::from_millis(500)),
        max_delay: max?.unwrap_or(Duration::from_secs(30)),
        on_network_error: spec.on_network_error,
    })
}

fn compile_rate_limit(
    spec: &RateLimitSpec,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<RateLimitPlan> {
    if let Some(rps) = spec.requests_per_second
        && !(rps.is_finite() && rps > 0.0)
    {
        r.error(
            "invalid-value",
            &path.key("requests_per_second"),
            "`requests_per_second` must be a positive number",
        );
        return None;
    }
    let max_wait = optional_duration(&spec.max_wait, &path.key("max_wait"), r)?;
    Some(RateLimitPlan {
        retry_after_header: spec.retry_after_header.clone(),
        remaining_header: spec.remaining_header.clone(),
        reset_header: spec.reset_header.clone(),
        reset_format: spec.reset_format,
        max_wait: max_wait.unwrap_or(Duration::from_secs(60)),
        requests_per_second: spec.requests_per_second,
    })
}

fn compile_paginator(
    name: &str,
    spec: &PaginatorSpec,
    tc: &TemplateCompiler,
    scope: &Scope,
    r: &mut Reporter<'_>,
) -> Option<PaginatorPlan> {
    let path = YamlPath::root().key("pagination").key(name);
    let strategy_path = path.key("strategy");
    let strategy = match &spec.strategy {
        PaginationStrategy::Cursor(c) => {
            let from = match &c.token {
                CursorSource::Body(p) => {
                    json_path(p, &strategy_path.key("cursor").key("token").key("body"), r)
                        .map(CursorFrom::Body)
                }
                CursorSource::Header(h) => Some(CursorFrom::Header(h.clone())),
            };
            from.map(|from| StrategyPlan::Cursor {
                from,
                param: c.param.clone(),
                location: c.location,
            })
        }
        PaginationStrategy::NextUrl(n) => {
            json_path(&n.body, &strategy_path.key("next_url").key("body"), r)
                .map(|path| StrategyPlan::NextUrl { path })
        }
        PaginationStrategy::LinkHeader(l) => Some(StrategyPlan::LinkHeader { rel: l.rel.clone() }),
        PaginationStrategy::Offset(o) => {
            if o.limit == 0 {
                r.error(
                    "invalid-value",
                    &strategy_path.key("offset").key("limit"),
                    "`limit` must be at least 1",
                );
                None
            } else {
                Some(StrategyPlan::Offset {
                    param: o.param.clone(),
                    limit_param: o.limit_param.clone(),
                    limit: o.limit,
                    start: o.start,
                })
            }
        }
        PaginationStrategy::PageNumber(p) => Some(StrategyPlan::PageNumber {
            param: p.param.clone(),
            start: p.start,
        }),
    };
    let mut stop = Vec::new();
    let mut ok = true;
    for (i, rule) in spec.stop.iter().enumerate() {
        let plan = match rule {
            StopRule::EmptyPage => Some(StopPlan::EmptyPage),
            StopRule::ShortPage => {
                let has_size = spec.page_size.is_some()
                    || matches!(spec.strategy, PaginationStrategy::Offset(_));
                if !has_size {
                    r.error_hint(
                        "short-page-without-size",
                        &path.key("stop").index(i),
                        "`short_page` needs to know the page size",
                        Some("set `page_size: { param: ..., value: ... }` (or use the offset strategy)".into()),
                    );
                }
                has_size.then_some(StopPlan::ShortPage)
            }
            StopRule::NoToken => Some(StopPlan::NoToken),
            StopRule::When(e) => tc
                .expression(&e.0, scope, &path.key("stop").index(i).key("when"), r)
                .map(StopPlan::When),
        };
        match plan {
            Some(p) => stop.push(p),
            None => ok = false,
        }
    }
    if spec.max_pages == Some(0) {
        r.error(
            "invalid-value",
            &path.key("max_pages"),
            "`max_pages` must be at least 1",
        );
        ok = false;
    }
    let max_duration = optional(spec.max_duration.as_ref(), |d| {
        duration(d, &path.key("max_duration"), r)
    });
    Some(PaginatorPlan {
        name: name.to_string(),
        strategy: strategy?,
        stop: ok.then_some(stop)?,
        max_pages: spec.max_pages,
        max_duration: max_duration?,
        page_size: spec.page_size.as_ref().map(|p| (p.param.clone(), p.value)),
    })
}
