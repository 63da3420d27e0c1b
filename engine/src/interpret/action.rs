//! Running one action call: render the request, send it, classify the answer, retry or
//! wait as the spec says, follow pages, and stream records out page by page.
//!
//! While one page's records are mapped and written, the next page is already on its way
//! (its request only needs the cursor, read before the records are mapped). Every error
//! leaving this module has passed through the call's [`Redactor`].

use super::auth::{self, AuthParts};
use super::client::{HttpClient, HttpRequest, HttpResponse, TransportError};
use super::connection::{Connection, check_inputs};
use super::error::{ActionError, Redactor};
use super::paginate::{self, PageState};
use super::records;
use super::render::Vars;
use super::request::{self, RequestParts};
use super::retry::{self, Verdict};
use super::value;
use crate::diag::did_you_mean_suffix;
use crate::files::FileStore;
use crate::plan::ActionPlan;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde_json::{Value as Json, json};
use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// Limits that apply to every call.
#[derive(Debug, Clone)]
pub struct Options {
    /// Largest response body accepted (default 10 MiB).
    pub max_response_bytes: usize,
    /// Longest single request (default 30 s).
    pub request_timeout: Duration,
    /// Deadline of a call whose action sets no `timeout` (default 10 min).
    pub action_timeout: Duration,
    /// Where downloaded files are saved and uploaded ones read (none: file actions fail).
    pub files: Option<Arc<FileStore>>,
    /// Largest file a download may save (default 10 GiB).
    pub max_file_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_response_bytes: 10 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            action_timeout: Duration::from_secs(600),
            files: None,
            max_file_bytes: 10 * 1024 * 1024 * 1024,
        }
    }
}

/// The run and step a call belongs to (for idempotency keys and the `run` variable).
#[derive(Debug, Clone)]
pub struct RunRef {
    pub run_id: String,
    pub step_id: String,
}

/// One call of an action.
#[derive(Debug, Clone, Default)]
pub struct Call {
    pub action: String,
    pub input: serde_json::Map<String, Json>,
    pub run: Option<RunRef>,
    /// Stop quietly after this many pages (the spec's `max_pages` stops with an error).
    pub max_pages: Option<u32>,
}

/// One request and its answer, for `-v` output and logs. URLs are redacted.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub page: u32,
    pub attempt: u32,
    pub method: String,
    pub url: String,
    pub status: Option<u16>,
    pub bytes: usize,
    pub elapsed: Duration,
    pub note: String,
}

/// Where records go, one page at a time.
pub trait Sink: Send {
    fn records(&mut self, records: Vec<Json>) -> Result<(), String>;
    fn exchange(&mut self, _exchange: &Exchange) {}
}

/// Keeps every record in memory (for workflow steps and tests).
#[derive(Debug, Default)]
pub struct CollectSink {
    pub records: Vec<Json>,
    pub exchanges: Vec<Exchange>,
}

impl Sink for CollectSink {
    fn records(&mut self, records: Vec<Json>) -> Result<(), String> {
        self.records.extend(records);
        Ok(())
    }
    fn exchange(&mut self, exchange: &Exchange) {
        self.exchanges.push(exchange.clone());
    }
}

/// What a successful call produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// For actions without `records`: the output (null when an error rule said `ignore`).
    pub output: Json,
    pub pages: u32,
    pub records: u64,
    pub requests: u32,
    /// The last page's response body (list actions), for cursors read from it.
    pub last_page: Option<std::sync::Arc<Json>>,
    /// Stopped by the caller's page limit with more pages left.
    pub truncated: bool,
}

/// Runs actions over one shared HTTP client.
pub struct Interpreter {
    client: Arc<dyn HttpClient>,
    pub options: Options,
    limiters: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
}

/// A call with everything rendered that does not depend on the page.
pub(super) struct Prepared<'a> {
    pub(super) action: &'a ActionPlan,
    pub(super) vars: Vars,
    pub(super) auth: AuthParts,
    pub(super) redactor: Redactor,
    pub(super) idempotency_key: String,
    pub(super) started: Instant,
    pub(super) deadline: Instant,
}

/// How one request's answer is judged besides the action's rules.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Judging {
    /// 308 (Resume Incomplete) is a success: a chunk of a resumable upload.
    pub(super) resume_incomplete_ok: bool,
    /// The request may be repeated even if the action is not idempotent.
    pub(super) repeatable: bool,
    /// The request carries no credentials: a 401 is a failure, never a token refresh.
    pub(super) without_auth: bool,
    /// A redirect is an answer (a download that follows it).
    pub(super) redirect_ok: bool,
}

impl Prepared<'_> {
    /// The call's deadline and its length, for requests and their error message.
    pub(super) fn budget(&self) -> (Instant, Duration) {
        (self.deadline, self.deadline - self.started)
    }
}

impl Interpreter {
    pub fn new(client: Arc<dyn HttpClient>, options: Options) -> Self {
        Interpreter {
            client,
            options,
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// Runs a call; records go to `sink` page by page.
    pub async fn call(
        &self,
        conn: &Connection,
        call: &Call,
        sink: &mut dyn Sink,
    ) -> Result<Outcome, ActionError> {
        let mut redactor = Redactor::new(conn.secret_values());
        let result = match self.prepare(conn, call, &mut redactor).await {
            Ok(prepared) => match &prepared.action.transport {
                crate::plan::Transport::Http => self.run(conn, call, prepared, sink).await,
                crate::plan::Transport::Smtp(plan) => {
                    // One SMTP command waits at most the request timeout.
                    let (_, budget) = prepared.budget();
                    let timeout = budget.min(self.options.request_timeout);
                    super::smtp::send(
                        plan,
                        &prepared.vars.context(),
                        timeout,
                        &prepared.idempotency_key,
                        self.options.files.as_deref(),
                    )
                    .await
                    .map(|output| Outcome {
                        output,
                        requests: 1,
                        ..Outcome::default()
                    })
                }
            },
            Err(e) => Err(e),
        };
        result.map_err(|e| e.redacted(&redactor))
    }

    /// The first request the call would send, as text with credentials shown as `***`.
    pub async fn dry_run(&self, conn: &Connection, call: &Call) -> Result<String, ActionError> {
        let mut redactor = Redactor::new(conn.secret_values());
        let result = async {
            let p = self.prepare(conn, call, &mut redactor).await?;
            if let crate::plan::Transport::Smtp(plan) = &p.action.transport {
                let text = super::smtp::describe(plan, &p.vars.context())?;
                return Ok(p.redactor.redact(&text));
            }
            let page = PageState::first(p.action.paginator.as_ref());
            let mut vars = p.vars.clone();
            vars.set("page", page.vars());
            let parts = self.parts(conn, &p);
            let request = request::build(&parts, &page, &vars.context())?;
            Ok(request::describe(
                &request,
                &request::sensitive_headers(&p.auth),
                &p.redactor,
            ))
        }
        .await;
        result.map_err(|e: ActionError| e.redacted(&redactor))
    }

    async fn prepare<'a>(
        &self,
        conn: &'a Connection,
        call: &Call,
        redactor: &mut Redactor,
    ) -> Result<Prepared<'a>, ActionError> {
        let connector = &*conn.connector;
        let action =
            connector
                .actions
                .get(&call.action)
                .ok_or_else(|| ActionError::UnknownAction {
                    connector: connector.id.clone(),
                    action: call.action.clone(),
                    hint: did_you_mean_suffix(
                        &call.action,
                        connector.actions.keys().map(String::as_str),
                    ),
                })?;
        let input = check_inputs(action, call.input.clone()).map_err(ActionError::Invalid)?;
        let started = Instant::now();
        let deadline = started + action.timeout.unwrap_or(self.options.action_timeout);
        let idempotency_key = match &call.run {
            Some(r) => format!("{}:{}", r.run_id, r.step_id),
            None => uuid::Uuid::new_v4().to_string(),
        };
        let vars = Vars::new()
            .with("input", value::from_json(Json::Object(input)))
            .with(
                "config",
                value::from_json(Json::Object(conn.config.clone())),
            )
            .with(
                "secrets",
                value::from_json(Json::Object(conn.secrets.clone())),
            )
            .with("connection", value::from_json(conn.template_value()))
            .with(
                "now",
                minijinja::Value::from(chrono::Utc::now().to_rfc3339()),
            )
            .with(
                "run",
                value::from_json(json!({
                    "id": call.run.as_ref().map(|r| r.run_id.clone()),
                    "step": call.run.as_ref().map(|r| r.step_id.clone()),
                    "idempotency_key": idempotency_key,
                })),
            )
            .with("page", PageState::first(action.paginator.as_ref()).vars());
        let ctx = vars.context();
        let plan = auth::select(
            connector,
            conn.auth_mode.as_deref(),
            &ctx,
            conn.tokens.is_some(),
        )?;
        let auth = auth::parts(plan, &ctx, conn.tokens.as_deref()).await?;
        for (_, value) in auth.headers.iter().chain(&auth.query) {
            redactor.add(value.clone());
        }
        if let Some(token) = &auth.token {
            redactor.add(token.clone());
        }
        Ok(Prepared {
            action,
            vars,
            auth,
            redactor: redactor.clone(),
            idempotency_key,
            started,
            deadline,
        })
    }

    pub(super) fn parts<'b>(
        &'b self,
        conn: &'b Connection,
        p: &'b Prepared<'_>,
    ) -> RequestParts<'b> {
        let save_to = match (&p.action.download, &self.options.files) {
            (Some(_), Some(store)) => Some(super::client::SaveTo {
                store: store.clone(),
                limit: self.options.max_file_bytes,
            }),
            _ => None,
        };
        RequestParts {
            connector: &conn.connector,
            action: p.action,
            auth: &p.auth,
            idempotency_key: Some(&p.idempotency_key),
            timeout: self.options.request_timeout,
            max_response_bytes: self.options.max_response_bytes,
            base_override: conn.base_url.as_deref(),
            files: self.options.files.as_deref(),
            save_to,
        }
    }

    async fn run(
        &self,
        conn: &Connection,
        call: &Call,
        mut p: Prepared<'_>,
        sink: &mut dyn Sink,
    ) -> Result<Outcome, ActionError> {
        let action = p.action;
        if (action.download.is_some() || action.upload.is_some()) && self.options.files.is_none() {
            return Err(ActionError::Invalid(vec![format!(
                "action `{}` moves a file, and no file store is configured here",
                action.name
            )]));
        }
        let limiter = self.limiter(conn, action);
        let mut outcome = Outcome::default();
        let mut page = PageState::first(action.paginator.as_ref());
        let mut vars = p.vars.clone();
        vars.set("page", page.vars());
        let mut request = request::build(&self.parts(conn, &p), &page, &vars.context())?;
        let mut inflight = self.spawn(&request, &limiter, p.budget(), &conn.connector.id)?;
        let paging_deadline = action
            .paginator
            .as_ref()
            .and_then(|pg| pg.max_duration)
            .map(|d| (p.started + d, d));
        let mut seen: HashSet<u64> = HashSet::new();
        let mut last_page_hash: Option<u64> = None;

        loop {
            let (response, body, verdict) = self
                .complete(
                    conn,
                    &mut p,
                    &vars,
                    &mut request,
                    inflight,
                    &limiter,
                    sink,
                    &mut outcome,
                    Judging {
                        redirect_ok: action.download.as_ref().is_some_and(|d| d.follow_redirect),
                        ..Judging::default()
                    },
                )
                .await?;
            outcome.pages += 1;
            outcome.last_page = Some(body.clone());
            if verdict == Verdict::Ignore {
                outcome.output = Json::Null;
                return Ok(outcome);
            }
            if let Some(download) = &action.download {
                let followed = self
                    .follow_download_redirect(
                        conn,
                        &mut p,
                        &vars,
                        &response,
                        &request,
                        &limiter,
                        sink,
                        &mut outcome,
                    )
                    .await?;
                let (response, url) = match followed {
                    Some((followed, url)) => (followed, url),
                    None => (response, request.url.clone()),
                };
                let saved = response
                    .file
                    .clone()
                    .ok_or_else(|| ActionError::Transport {
                        message: "the download was not saved".into(),
                        attempts: 1,
                    })?;
                let ctx = vars
                    .clone()
                    .with("response", response_value(&response, body.clone()))
                    .context();
                let file =
                    super::transfer::downloaded(download, saved, &response.headers, &url, &ctx)?;
                outcome.output = file.to_json();
                return Ok(outcome);
            }
            if let Some(upload) = &action.upload {
                let body = self
                    .upload_chunks(
                        conn,
                        &mut p,
                        &vars,
                        upload,
                        (&response, body),
                        &limiter,
                        sink,
                        &mut outcome,
                    )
                    .await?;
                outcome.output = records::output(action, &body);
                return Ok(outcome);
            }
            if action.records.is_none() {
                outcome.output = records::output(action, &body);
                return Ok(outcome);
            }
            let count = records::count(action, &body);
            let record_vars = vars.clone();

            let next = match &action.paginator {
                None => None,
                Some(paginator) => {
                    vars.set("response", response_value(&response, body.clone()));
                    let next = paginate::next_page(
                        paginator,
                        &page,
                        &response,
                        &body,
                        count,
                        &request.url,
                        &vars.context(),
                    )?;
                    match next {
                        None => None,
                        Some(next) => {
                            if let Some(token) = next.token()
                                && !seen.insert(hash(token))
                            {
                                return Err(ActionError::Pagination(format!(
                                    "the API returned the same {} twice (`{}`): stopping instead of looping",
                                    if next.next_url.is_some() {
                                        "next URL"
                                    } else {
                                        "cursor"
                                    },
                                    retry::truncate(token, 80)
                                )));
                            }
                            let page_hash = hash(&response.body[..]);
                            if last_page_hash == Some(page_hash) && count > 0 {
                                return Err(ActionError::Pagination(
                                    "the API returned the same page twice in a row: stopping instead of looping".into(),
                                ));
                            }
                            last_page_hash = Some(page_hash);
                            if call.max_pages.is_some_and(|max| outcome.pages >= max) {
                                outcome.truncated = true;
                                None
                            } else if let Some(max) =
                                paginator.max_pages.filter(|max| outcome.pages >= *max)
                            {
                                return Err(ActionError::Pagination(format!(
                                    "more pages than `max_pages` ({max}) of pagination `{}`: raise it or narrow the query",
                                    paginator.name
                                )));
                            } else if let Some((end, limit)) = paging_deadline
                                && Instant::now() >= end
                            {
                                return Err(ActionError::Pagination(format!(
                                    "paging took longer than `max_duration` ({}) of pagination `{}`",
                                    super::error::human(limit),
                                    paginator.name
                                )));
                            } else {
                                Some(next)
                            }
                        }
                    }
                }
            };

            let more = next.is_some();
            if let Some(next) = next {
                // A window used up (remaining 0) is waited out before the next page.
                if let Some(wait) =
                    retry::requested_wait(&response, action.rate_limit.as_ref(), SystemTime::now())
                        .filter(|w| !w.is_zero())
                {
                    self.wait_or_fail(action, response.status, wait, p.deadline)
                        .await?;
                }
                page = next;
                vars.set("page", page.vars());
                request = request::build(&self.parts(conn, &p), &page, &vars.context())?;
                inflight = self.spawn(&request, &limiter, p.budget(), &conn.connector.id)?;
            } else {
                inflight = empty_send();
            }

            // The page's last user is done: its records move out instead of being copied.
            vars.set("response", minijinja::Value::from(()));
            let raw = records::take_records(action, body);
            let mapped = records::map_page(action, raw, &record_vars)?;
            outcome.records += mapped.len() as u64;
            sink.records(mapped).map_err(ActionError::Sink)?;
            if !more {
                drop(inflight);
                return Ok(outcome);
            }
        }
    }

    /// Awaits a request (already sent), classifies the answer, and retries as the policy
    /// allows. Returns the final successful (or ignored) response.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn complete(
        &self,
        conn: &Connection,
        p: &mut Prepared<'_>,
        vars: &Vars,
        request: &mut HttpRequest,
        mut pending: tokio::task::JoinHandle<Result<HttpResponse, TransportError>>,
        limiter: &Option<Arc<DefaultDirectRateLimiter>>,
        sink: &mut dyn Sink,
        outcome: &mut Outcome,
        judging: Judging,
    ) -> Result<(HttpResponse, Arc<Json>, Verdict), ActionError> {
        let action = p.action;
        let retry = &action.retry;
        let mut attempt = 1u32;
        let mut reauthed = false;
        loop {
            let sent = Instant::now();
            let result = pending
                .await
                .unwrap_or_else(|e| Err(TransportError::Other(e.to_string())));
            outcome.requests += 1;
            let mut exchange = Exchange {
                page: outcome.pages + 1,
                attempt,
                method: request.method.to_string(),
                url: p.redactor.redact(request.url.as_str()),
                status: None,
                bytes: 0,
                elapsed: sent.elapsed(),
                note: String::new(),
            };
            let wait = match result {
                Ok(response) => {
                    let body = Arc::new(parse_body(&response));
                    let ctx = vars
                        .clone()
                        .with("response", response_value(&response, body.clone()))
                        .context();
                    let verdict = if (judging.resume_incomplete_ok && response.status == 308)
                        || (judging.redirect_ok
                            && matches!(response.status, 301 | 302 | 303 | 307 | 308))
                    {
                        Verdict::Success
                    } else {
                        match retry::classify(
                            response.status,
                            &body,
                            &action.error_rules,
                            retry,
                            &ctx,
                        ) {
                            Verdict::Reauth(m) if judging.without_auth => Verdict::Fail(m),
                            other => other,
                        }
                    };
                    exchange.status = Some(response.status);
                    exchange.bytes = response.body.len();
                    let status = response.status;
                    let failed = |message: &String, reauth: bool| ActionError::Provider {
                        status,
                        message: message.clone(),
                        reauth,
                        attempts: attempt,
                    };
                    match &verdict {
                        Verdict::Success | Verdict::Ignore => {
                            if verdict == Verdict::Ignore {
                                exchange.note = "ignored by an error rule".into();
                            }
                            sink.exchange(&exchange);
                            return Ok((response, body, verdict));
                        }
                        Verdict::Fail(message) => {
                            sink.exchange(&exchange);
                            return Err(failed(message, false));
                        }
                        Verdict::Reauth(message) => {
                            sink.exchange(&exchange);
                            let fresh = match (&conn.tokens, &p.auth.token, reauthed) {
                                (Some(tokens), Some(token), false) => tokens.rejected(token).await,
                                _ => false,
                            };
                            if !fresh {
                                return Err(failed(message, true));
                            }
                            reauthed = true;
                            self.refresh_auth(conn, p, request).await?;
                            pending =
                                self.spawn(request, limiter, p.budget(), &conn.connector.id)?;
                            continue;
                        }
                        Verdict::Retry(message) => {
                            // A non-idempotent request is repeated only when the provider
                            // says it did not act on it (429).
                            let may_retry =
                                action.idempotent || judging.repeatable || response.status == 429;
                            if attempt >= retry.attempts || !may_retry {
                                sink.exchange(&exchange);
                                return Err(failed(message, false));
                            }
                            let asked = retry::requested_wait(
                                &response,
                                action.rate_limit.as_ref(),
                                SystemTime::now(),
                            );
                            if let Some(w) = asked
                                && too_long(action, w, p.deadline)
                            {
                                sink.exchange(&exchange);
                                return Err(ActionError::RateLimited {
                                    status: response.status,
                                    retry_after: w,
                                });
                            }
                            let wait = asked.unwrap_or_else(|| retry::backoff(retry, attempt));
                            if Instant::now() + wait > p.deadline {
                                sink.exchange(&exchange);
                                return Err(failed(message, false));
                            }
                            exchange.note = format!("retrying in {}", super::error::human(wait));
                            wait
                        }
                    }
                }
                Err(TransportError::TooLarge { limit }) => {
                    exchange.note = "response too large".into();
                    sink.exchange(&exchange);
                    return Err(ActionError::TooLarge { limit });
                }
                Err(error) => {
                    // Nothing reached the provider when the connection failed: always safe.
                    let safe = matches!(error, TransportError::Connect(_))
                        || action.idempotent
                        || judging.repeatable;
                    let wait = retry::backoff(retry, attempt);
                    let past_deadline = Instant::now() + wait > p.deadline;
                    if !retry.on_network_error
                        || !safe
                        || attempt >= retry.attempts
                        || past_deadline
                    {
                        exchange.note = error.to_string();
                        sink.exchange(&exchange);
                        if matches!(error, TransportError::Timeout(_))
                            && Instant::now() >= p.deadline
                        {
                            return Err(ActionError::Deadline(p.deadline - p.started));
                        }
                        return Err(ActionError::Transport {
                            message: error.to_string(),
                            attempts: attempt,
                        });
                    }
                    exchange.note = format!("{error}; retrying in {}", super::error::human(wait));
                    wait
                }
            };
            sink.exchange(&exchange);
            tokio::time::sleep(wait).await;
            attempt += 1;
            pending = self.spawn(request, limiter, p.budget(), &conn.connector.id)?;
        }
    }

    /// Replaces the credentials of a request after the token source issued a new token.
    async fn refresh_auth(
        &self,
        conn: &Connection,
        p: &mut Prepared<'_>,
        request: &mut HttpRequest,
    ) -> Result<(), ActionError> {
        let ctx = p.vars.context();
        let plan = auth::select(
            &conn.connector,
            conn.auth_mode.as_deref(),
            &ctx,
            conn.tokens.is_some(),
        )?;
        let fresh = auth::parts(plan, &ctx, conn.tokens.as_deref()).await?;
        let old: Vec<String> = p.auth.headers.iter().map(|(n, _)| n.clone()).collect();
        request.headers.retain(|(n, _)| !old.contains(n));
        request.headers.extend(fresh.headers.iter().cloned());
        for (_, v) in &fresh.headers {
            p.redactor.add(v.clone());
        }
        if let Some(t) = &fresh.token {
            p.redactor.add(t.clone());
        }
        p.auth = fresh;
        Ok(())
    }

    async fn wait_or_fail(
        &self,
        action: &ActionPlan,
        status: u16,
        wait: Duration,
        deadline: Instant,
    ) -> Result<(), ActionError> {
        if too_long(action, wait, deadline) {
            return Err(ActionError::RateLimited {
                status,
                retry_after: wait,
            });
        }
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// Sends a request in the background, after the rate limiter allows it, with a timeout
    /// no longer than what is left of the call's deadline.
    pub(super) fn spawn(
        &self,
        request: &HttpRequest,
        limiter: &Option<Arc<DefaultDirectRateLimiter>>,
        (deadline, budget): (Instant, Duration),
        connector: &str,
    ) -> Result<tokio::task::JoinHandle<Result<HttpResponse, TransportError>>, ActionError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ActionError::Deadline(budget));
        }
        let mut request = request.clone();
        request.timeout = request.timeout.min(left);
        let client = self.client.clone();
        let limiter = limiter.clone();
        let connector = connector.to_string();
        Ok(tokio::spawn(async move {
            if let Some(l) = limiter {
                l.until_ready().await;
            }
            let sent = Instant::now();
            let response = client.send(request).await;
            crate::metrics::http_request(
                &connector,
                response.as_ref().ok().map(|r| r.status),
                sent.elapsed().as_secs_f64(),
            );
            response
        }))
    }

    /// One limiter per connection and connector, shared by all of its calls.
    fn limiter(
        &self,
        conn: &Connection,
        action: &ActionPlan,
    ) -> Option<Arc<DefaultDirectRateLimiter>> {
        let rps = action.rate_limit.as_ref()?.requests_per_second?;
        let period = Duration::from_secs_f64(1.0 / rps);
        let quota = Quota::with_period(period)?;
        let key = format!("{}\u{0}{}", conn.connector.id, conn.id);
        let mut map = self.limiters.lock().ok()?;
        Some(
            map.entry(key)
                .or_insert_with(|| Arc::new(RateLimiter::direct(quota)))
                .clone(),
        )
    }
}

/// Whether a wait the provider asks for is longer than the spec accepts
/// (`rate_limit.max_wait`, 60 s by default) or than is left before the deadline.
fn too_long(action: &ActionPlan, wait: Duration, deadline: Instant) -> bool {
    let max_wait = action
        .rate_limit
        .as_ref()
        .map_or(Duration::from_secs(60), |r| r.max_wait);
    wait > max_wait || Instant::now() + wait > deadline
}

fn empty_send() -> tokio::task::JoinHandle<Result<HttpResponse, TransportError>> {
    tokio::spawn(async { Err(TransportError::Other("no request".into())) })
}

/// The body as JSON when it parses, else as text.
fn parse_body(response: &HttpResponse) -> Json {
    if response.body.is_empty() {
        return Json::Null;
    }
    serde_json::from_slice(&response.body)
        .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&response.body).into_owned()))
}

/// The `response` template variable: `status`, `headers` (lower-case names) and `body`.
pub(super) fn response_value(response: &HttpResponse, body: Arc<Json>) -> minijinja::Value {
    let mut headers = serde_json::Map::new();
    for (name, value) in &response.headers {
        if let Ok(v) = value.to_str() {
            headers
                .entry(name.as_str().to_string())
                .or_insert_with(|| Json::String(v.to_string()));
        }
    }
    Vars::new()
        .with("status", minijinja::Value::from(response.status))
        .with("headers", value::from_json(Json::Object(headers)))
        .with("body", value::from_shared(body))
        .context()
}

fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}
