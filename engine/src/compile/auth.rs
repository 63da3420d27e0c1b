//! Compiling auth modes.

use super::request::compile_pairs;
use super::template::{Scope, TemplateCompiler};
use super::values::{json_path, mapping, optional};
use crate::load::{Reporter, YamlPath};
use crate::plan::{AuthPlan, CompiledTemplate, OAuth2Plan, TokenResponsePlan};
use crate::spec::auth::{AuthSpec, TokenResponseSpec};
use crate::spec::common::Template;

pub fn compile_auth(
    spec: &AuthSpec,
    tc: &TemplateCompiler,
    scope: &Scope,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<Vec<AuthPlan>> {
    let mut modes = Vec::new();
    let mut ok = true;
    let mut push = |plan: Option<AuthPlan>| match plan {
        Some(p) => modes.push(p),
        None => ok = false,
    };
    let t = |r: &mut Reporter<'_>, t: &Template, p: YamlPath| tc.template(&t.0, scope, &p, r);
    let opt = |r: &mut Reporter<'_>,
               t: &Option<Template>,
               p: YamlPath|
     -> Option<Option<CompiledTemplate>> {
        optional(t.as_ref(), |t| tc.template(&t.0, scope, &p, r))
    };
    if spec.none.is_some() {
        push(Some(AuthPlan::None));
    }
    if let Some(a) = &spec.api_key {
        let p = path.key("api_key");
        push(
            t(r, &a.value, p.key("value")).map(|value| AuthPlan::ApiKey {
                location: a.location,
                name: a.name.clone(),
                value,
            }),
        );
    }
    if let Some(b) = &spec.bearer {
        push(
            t(r, &b.token, path.key("bearer").key("token")).map(|token| AuthPlan::Bearer { token }),
        );
    }
    if let Some(b) = &spec.basic {
        let p = path.key("basic");
        let username = t(r, &b.username, p.key("username"));
        let password = opt(r, &b.password, p.key("password"));
        push((|| {
            Some(AuthPlan::Basic {
                username: username?,
                password: password?,
            })
        })());
    }
    if let Some(o) = &spec.oauth2 {
        let p = path.key("oauth2");
        let authorize_url = t(r, &o.authorize_url, p.key("authorize_url"));
        let token_url = t(r, &o.token_url, p.key("token_url"));
        let revocation_url = opt(r, &o.revocation_url, p.key("revocation_url"));
        let authorize_params = compile_pairs(
            &o.authorize_params,
            tc,
            scope,
            &p.key("authorize_params"),
            r,
        );
        let token_params = compile_pairs(&o.token_params, tc, scope, &p.key("token_params"), r);
        let client_id = opt(r, &o.client_id, p.key("client_id"));
        let client_secret = opt(r, &o.client_secret, p.key("client_secret"));
        let token_response = token_response(&o.token_response, &p.key("token_response"), r);
        push((|| {
            Some(AuthPlan::OAuth2(OAuth2Plan {
                authorize_url: Some(authorize_url?),
                token_url: token_url?,
                revocation_url: revocation_url?,
                scopes: o.scopes.clone(),
                scope_separator: o.scope_separator.clone(),
                pkce: o.pkce,
                authorize_params: authorize_params?,
                token_params: token_params?,
                client_auth: o.client_auth,
                client_id: client_id?,
                client_secret: client_secret?,
                token_response: token_response?,
            }))
        })());
    }
    if let Some(o) = &spec.oauth2_client_credentials {
        let p = path.key("oauth2_client_credentials");
        let token_url = t(r, &o.token_url, p.key("token_url"));
        let token_params = compile_pairs(&o.token_params, tc, scope, &p.key("token_params"), r);
        let client_id = t(r, &o.client_id, p.key("client_id"));
        let client_secret = t(r, &o.client_secret, p.key("client_secret"));
        let token_response = token_response(&o.token_response, &p.key("token_response"), r);
        push((|| {
            Some(AuthPlan::OAuth2ClientCredentials(OAuth2Plan {
                authorize_url: None,
                token_url: token_url?,
                revocation_url: None,
                scopes: o.scopes.clone(),
                scope_separator: o.scope_separator.clone(),
                pkce: false,
                authorize_params: Vec::new(),
                token_params: token_params?,
                client_auth: o.client_auth,
                client_id: Some(client_id?),
                client_secret: Some(client_secret?),
                token_response: token_response?,
            }))
        })());
    }
    if let Some(c) = &spec.custom {
        let p = path.key("custom");
        let headers = compile_pairs(&c.headers, tc, scope, &p.key("headers"), r);
        let query = compile_pairs(&c.query, tc, scope, &p.key("query"), r);
        let empty = c.headers.is_empty() && c.query.is_empty();
        if empty {
            r.error(
                "empty-auth",
                &p,
                "custom auth sets no `headers` and no `query`",
            );
        }
        push(
            (|| {
                Some(AuthPlan::Custom {
                    headers: headers?,
                    query: query?,
                })
            })()
            .filter(|_| !empty),
        );
    }
    if spec.mode_names().is_empty() {
        r.error_hint(
            "no-auth",
            path,
            "no auth mode given",
            Some("add at least one mode, e.g. `bearer: { token: ... }`, or `none: {}` for a public API".into()),
        );
    }
    (ok && !modes.is_empty()).then_some(modes)
}

fn token_response(
    spec: &TokenResponseSpec,
    path: &YamlPath,
    r: &mut Reporter<'_>,
) -> Option<TokenResponsePlan> {
    let optional_path =
        |r: &mut Reporter<'_>, p: &Option<crate::spec::common::JsonPathText>, key: &str| {
            optional(p.as_ref(), |p| json_path(p, &path.key(key), r))
        };
    let access_token = json_path(&spec.access_token, &path.key("access_token"), r);
    let refresh_token = optional_path(r, &spec.refresh_token, "refresh_token");
    let expires_in = optional_path(r, &spec.expires_in, "expires_in");
    let scope = optional_path(r, &spec.scope, "scope");
    let extra = mapping(&spec.extra, &path.key("extra"), r);
    for name in spec.extra.keys() {
        if ["id", "connector", "scope"].contains(&name.as_str()) {
            r.error_hint(
                "reserved-name",
                &path.key("extra").key(name.clone()),
                format!("`connection.{name}` is set by the engine"),
                Some("choose another name for the kept value".into()),
            );
        }
    }
    let extra = extra.filter(|_| {
        !spec
            .extra
            .keys()
            .any(|n| ["id", "connector", "scope"].contains(&n.as_str()))
    });
    Some(TokenResponsePlan {
        access_token: access_token?,
        refresh_token: refresh_token?,
        expires_in: expires_in?,
        scope: scope?,
        extra: extra?,
    })
}
