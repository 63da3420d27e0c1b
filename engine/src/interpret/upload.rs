//! Chunked (resumable) uploads: after the action's request opened an upload session, the
//! file is sent chunk by chunk (each a range of the stored file, streamed), then an
//! optional `finish` request commits it.
//!
//! Chunk requests go through the same retry and error rules as any request; a chunk may
//! be sent again (a Content-Range PUT of the same bytes is harmless). A session URL that
//! carries its own authorization (`auth: false`) never receives the connection's
//! credentials, not even after a 401.

use super::action::{Judging, Prepared, response_value};
use super::client::{HttpRequest, HttpResponse};
use super::connection::Connection;
use super::error::ActionError;
use super::render::{self, Vars};
use super::request::{self, push_pairs};
use super::{Interpreter, Outcome, Sink, transfer, value};
use crate::files::{Body, Segment};
use crate::plan::{UploadPlan, UploadRequestPlan, UploadTarget};
use governor::DefaultDirectRateLimiter;
use minijinja::Value;
use serde_json::{Value as Json, json};
use std::sync::Arc;

impl Interpreter {
    /// Sends every chunk (and the finish request); returns the last response's body.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn upload_chunks(
        &self,
        conn: &Connection,
        p: &mut Prepared<'_>,
        vars: &Vars,
        plan: &UploadPlan,
        (session, session_body): (&HttpResponse, Arc<Json>),
        limiter: &Option<Arc<DefaultDirectRateLimiter>>,
        sink: &mut dyn Sink,
        outcome: &mut Outcome,
    ) -> Result<Arc<Json>, ActionError> {
        let files = self
            .options
            .files
            .as_deref()
            .ok_or_else(|| ActionError::Invalid(vec!["uploads need a file store".into()]))?;
        let file = transfer::file_ref(&plan.file, &vars.context(), "`upload.file`")?;
        let path = files
            .path(&file)
            .map_err(|e| ActionError::Invalid(vec![e.to_string()]))?;
        let mut vars = vars
            .clone()
            .with("session", response_value(session, session_body))
            .with("file", value::from_json(file.to_json()));
        let chunks = file.size.div_ceil(plan.chunk_size).max(1);
        let mut last_body = Arc::new(Json::Null);
        for index in 0..chunks {
            let start = index * plan.chunk_size;
            let len = plan.chunk_size.min(file.size - start);
            let last = index + 1 == chunks;
            vars.set(
                "chunk",
                value::from_json(json!({
                    "index": index,
                    "start": start,
                    "end": (start + len).saturating_sub(1),
                    "size": len,
                    "last": last,
                })),
            );
            let body = Body::new(vec![Segment::File {
                path: path.clone(),
                offset: start,
                len,
            }]);
            let judging = Judging {
                resume_incomplete_ok: !(last && plan.finish.is_none()),
                repeatable: true,
                without_auth: !plan.chunk.auth,
                redirect_ok: false,
            };
            let ctx = vars.context();
            let mut request = self.upload_request(conn, p, &plan.chunk, &ctx, Some(body))?;
            let pending = self.spawn(&request, limiter, p.budget(), &conn.connector.id)?;
            let (_, body, _) = self
                .complete(
                    conn,
                    p,
                    &vars,
                    &mut request,
                    pending,
                    limiter,
                    sink,
                    outcome,
                    judging,
                )
                .await?;
            last_body = body;
        }
        if let Some(finish) = &plan.finish {
            let ctx = vars.context();
            let mut request = self.upload_request(conn, p, finish, &ctx, None)?;
            let judging = Judging {
                without_auth: !finish.auth,
                ..Judging::default()
            };
            let pending = self.spawn(&request, limiter, p.budget(), &conn.connector.id)?;
            let (_, body, _) = self
                .complete(
                    conn,
                    p,
                    &vars,
                    &mut request,
                    pending,
                    limiter,
                    sink,
                    outcome,
                    judging,
                )
                .await?;
            last_body = body;
        }
        Ok(last_body)
    }

    /// One chunk or finish request. With credentials it must stay on the base URL's origin.
    fn upload_request(
        &self,
        conn: &Connection,
        p: &Prepared<'_>,
        plan: &UploadRequestPlan,
        ctx: &Value,
        chunk: Option<Body>,
    ) -> Result<HttpRequest, ActionError> {
        let parts = self.parts(conn, p);
        let (base, base_url) = request::base_url(&parts, ctx)?;
        let url = match &plan.target {
            UploadTarget::Url(t) => render::render_text(t, ctx)?.unwrap_or_default(),
            UploadTarget::Path(t) => format!(
                "{}{}",
                base.trim_end_matches('/'),
                render::render_path(t, ctx)?
            ),
        };
        let mut url = url::Url::parse(&url)
            .map_err(|e| ActionError::Url(format!("upload URL `{url}`: {e}")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(ActionError::Url(format!(
                "upload URL `{url}` is not an HTTP(S) URL"
            )));
        }
        if plan.auth && url.origin() != base_url.origin() {
            return Err(ActionError::Url(format!(
                "upload URL on {} leaves the base URL's origin {}: the connection's credentials are not sent there (set `auth: false` if the session URL carries its own authorization)",
                url.origin().ascii_serialization(),
                base_url.origin().ascii_serialization()
            )));
        }
        let mut headers = Vec::new();
        push_pairs(&mut headers, &plan.headers, ctx)?;
        if plan.auth {
            headers.extend(p.auth.headers.iter().cloned());
            if !p.auth.query.is_empty() {
                let mut pairs = url.query_pairs_mut();
                for (name, value) in &p.auth.query {
                    pairs.append_pair(name, value);
                }
            }
        }
        let body = match (chunk, &plan.json) {
            (Some(chunk), _) => chunk,
            (None, Some(tree)) => Body::from(render::render_tree(tree, ctx)?.to_string()),
            (None, None) => Body::default(),
        };
        headers.push(("Content-Type".into(), plan.content_type.clone()));
        Ok(HttpRequest {
            method: reqwest::Method::from_bytes(plan.method.as_str().as_bytes())
                .unwrap_or(reqwest::Method::PUT),
            url,
            headers,
            body: Some(body),
            timeout: self.options.request_timeout,
            max_response_bytes: self.options.max_response_bytes,
            save_to: None,
        })
    }
}

impl Interpreter {
    /// A download answered with a redirect (and `follow_redirect`): fetches the location
    /// once, without the connection's credentials, saving its body. `None` when the
    /// response was not a redirect.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn follow_download_redirect(
        &self,
        conn: &Connection,
        p: &mut Prepared<'_>,
        vars: &Vars,
        response: &HttpResponse,
        request: &HttpRequest,
        limiter: &Option<Arc<DefaultDirectRateLimiter>>,
        sink: &mut dyn Sink,
        outcome: &mut Outcome,
    ) -> Result<Option<(HttpResponse, url::Url)>, ActionError> {
        if !(300..400).contains(&response.status) {
            return Ok(None);
        }
        let location = response
            .header("location")
            .ok_or_else(|| ActionError::Provider {
                status: response.status,
                message: format!("HTTP {}: a redirect without a Location", response.status),
                reauth: false,
                attempts: 1,
            })?;
        let url = request
            .url
            .join(location)
            .map_err(|e| ActionError::Url(format!("redirect location: {e}")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(ActionError::Url(
                "the redirect is not to an HTTP(S) URL".into(),
            ));
        }
        let mut follow = HttpRequest {
            method: reqwest::Method::GET,
            url: url.clone(),
            headers: Vec::new(),
            body: None,
            timeout: request.timeout,
            max_response_bytes: request.max_response_bytes,
            save_to: request.save_to.clone(),
        };
        let pending = self.spawn(&follow, limiter, p.budget(), &conn.connector.id)?;
        let judging = Judging {
            repeatable: true,
            without_auth: true,
            ..Judging::default()
        };
        let (followed, _, _) = self
            .complete(
                conn,
                p,
                vars,
                &mut follow,
                pending,
                limiter,
                sink,
                outcome,
                judging,
            )
            .await?;
        Ok(Some((followed, url)))
    }
}
