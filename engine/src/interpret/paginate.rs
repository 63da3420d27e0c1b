//! Pagination: from one response, the state of the next request, or the end.
//!
//! Pure functions over a response and the compiled strategy; the action loop owns the
//! guards that need memory or a clock (repeated cursors, `max_pages`, `max_duration`).
//! A next URL from the provider is followed only on the origin (scheme, host, port) of the
//! first request: credentials are never sent to a host the spec did not name.

use super::client::HttpResponse;
use super::render::{self, RenderError};
use super::value;
use crate::plan::{CursorFrom, PaginatorPlan, StopPlan, StrategyPlan};
use minijinja::Value;
use serde_json::Value as Json;
use url::Url;

/// Where the next request is in the sequence.
#[derive(Debug, Clone, Default)]
pub struct PageState {
    /// 1-based page count for `page.number` (or the page-number strategy's own count).
    pub number: u64,
    pub offset: u64,
    pub cursor: Option<String>,
    /// For next-URL and Link-header strategies: the URL to fetch.
    pub next_url: Option<Url>,
    pub size: Option<u32>,
}

impl PageState {
    pub fn first(paginator: Option<&PaginatorPlan>) -> Self {
        let mut state = PageState {
            number: 1,
            ..Default::default()
        };
        if let Some(p) = paginator {
            state.size = p.page_size.as_ref().map(|(_, v)| *v);
            match &p.strategy {
                StrategyPlan::Offset { limit, start, .. } => {
                    state.offset = *start;
                    state.size = Some(*limit);
                }
                StrategyPlan::PageNumber { start, .. } => state.number = *start,
                _ => {}
            }
        }
        state
    }

    /// The `page` template variable.
    pub fn vars(&self) -> Value {
        value::from_json(serde_json::json!({
            "number": self.number,
            "offset": self.offset,
            "cursor": self.cursor,
            "size": self.size,
        }))
    }

    /// What identifies this page's request, to detect a provider sending us in circles.
    pub fn token(&self) -> Option<&str> {
        self.next_url
            .as_ref()
            .map(Url::as_str)
            .or(self.cursor.as_deref())
    }
}

/// Why paging stopped with an error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PaginationError {
    #[error("stop rule: {0}")]
    Stop(RenderError),
    #[error("the next page's URL `{url}` is not on the origin of the first request ({origin})")]
    ForeignUrl { url: String, origin: String },
    #[error("the next page's URL `{0}` is not a valid URL")]
    BadUrl(String),
}

/// Decides the request after `current`, given its response, the number of records it had
/// (before any filter) and the template context (with `response` and `page`).
pub fn next_page(
    paginator: &PaginatorPlan,
    current: &PageState,
    response: &HttpResponse,
    body: &Json,
    records: usize,
    current_url: &Url,
    ctx: &Value,
) -> Result<Option<PageState>, PaginationError> {
    for rule in &paginator.stop {
        let stop = match rule {
            StopPlan::EmptyPage => records == 0,
            StopPlan::ShortPage => current.size.is_some_and(|size| records < size as usize),
            StopPlan::NoToken => false,
            StopPlan::When(expr) => render::eval_bool(expr, ctx).map_err(PaginationError::Stop)?,
        };
        if stop {
            return Ok(None);
        }
    }
    let mut next = current.clone();
    next.number += 1;
    match &paginator.strategy {
        StrategyPlan::Cursor { from, .. } => {
            let token = match from {
                CursorFrom::Body(path) => path.query(body).first().and_then(token_text),
                CursorFrom::Header(name) => response.header(name).map(str::to_string),
            };
            match token.filter(|t| !t.is_empty()) {
                Some(t) => next.cursor = Some(t),
                None => return Ok(None),
            }
        }
        StrategyPlan::NextUrl { path } => {
            let Some(link) = path.query(body).first().and_then(token_text) else {
                return Ok(None);
            };
            if link.is_empty() {
                return Ok(None);
            }
            next.next_url = Some(same_origin(current_url, &link)?);
        }
        StrategyPlan::LinkHeader { rel } => {
            let link = response
                .headers
                .get_all("link")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|v| find_link(v, rel));
            match link {
                Some(link) => next.next_url = Some(same_origin(current_url, &link)?),
                None => return Ok(None),
            }
        }
        // Offset and page-number APIs signal the end with an empty page.
        StrategyPlan::Offset { limit, .. } => {
            if records == 0 {
                return Ok(None);
            }
            next.offset += u64::from(*limit);
        }
        StrategyPlan::PageNumber { .. } => {
            if records == 0 {
                return Ok(None);
            }
        }
    }
    Ok(Some(next))
}

fn token_text(value: &Json) -> Option<String> {
    match value {
        Json::Null | Json::Bool(false) => None,
        Json::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

fn same_origin(current: &Url, link: &str) -> Result<Url, PaginationError> {
    let url = current
        .join(link)
        .map_err(|_| PaginationError::BadUrl(link.to_string()))?;
    if url.origin() != current.origin() {
        return Err(PaginationError::ForeignUrl {
            url: url.to_string(),
            origin: current.origin().ascii_serialization(),
        });
    }
    Ok(url)
}

/// The target of the link with relation `rel` in one RFC 8288 `Link` header value:
/// `<https://x/?page=2>; rel="next", <https://x/?page=9>; rel="last"`. A `rel` may list
/// several relation types separated by spaces; they compare case-insensitively.
pub fn find_link(header: &str, rel: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let target = &rest[start + 1..end];
        rest = &rest[end + 1..];
        // Parameters run until the next link (a comma outside quotes) or the end.
        let mut params_end = rest.len();
        let mut quoted = false;
        for (i, c) in rest.char_indices() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => {
                    params_end = i;
                    break;
                }
                _ => {}
            }
        }
        let params = &rest[..params_end];
        for param in params.split(';') {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|r| r.eq_ignore_ascii_case(rel))
            {
                return Some(target.to_string());
            }
        }
        rest = &rest[params_end..];
    }
}

#[cfg(test)]
mod tests {
    use super::find_link;

    #[test]
    fn link_header_relations() {
        let h = r#"<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last""#;
        assert_eq!(find_link(h, "next").as_deref(), Some("https://a/x?page=2"));
        assert_eq!(find_link(h, "last").as_deref(), Some("https://a/x?page=9"));
        assert_eq!(find_link(h, "prev"), None);
        let h = r#"<https://a/?q=a,b>; title="x, y"; rel="prev next""#;
        assert_eq!(find_link(h, "NEXT").as_deref(), Some("https://a/?q=a,b"));
        assert_eq!(find_link("garbage", "next"), None);
        assert_eq!(find_link("<unterminated; rel=next", "next"), None);
    }
}
