//! Pagination strategies: how an action fetches the next page, when it stops, and the guards
//! that keep a misbehaving API from looping forever.

use super::common::{DurationText, Expression, JsonPathText};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A named pagination strategy, referenced by actions with `paginate: <name>`.
///
/// Whatever the strategy, pagination stops with an error (never loops) when a response
/// gives a cursor or next URL it gave before; `max_pages` and `max_duration` bound the rest.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaginatorSpec {
    /// How the next page is requested.
    /// Example: `strategy: { cursor: { token: { body: $.next_cursor }, param: cursor } }`.
    pub strategy: PaginationStrategy,
    /// Extra rules that end pagination, besides the strategy's own (no next token, no next
    /// link). Example: `stop: [empty_page, { when: "response.body.has_more == false" }]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<StopRule>,
    /// Stop with an error after this many pages. Example: `max_pages: 100`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pages: Option<u32>,
    /// Stop with an error when paging takes longer than this. Example: `max_duration: 5m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_duration: Option<DurationText>,
    /// Page-size parameter sent with every request. Example: `page_size: { param: limit, value: 200 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<PageSize>,
}

/// How the next page is requested.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PaginationStrategy {
    /// A cursor read from each response and sent back as a parameter.
    /// Example: `cursor: { token: { body: $.response_metadata.next_cursor }, param: cursor }`.
    Cursor(CursorPagination),
    /// The response body holds the full URL of the next page. Example: `next_url: { body: $.next }`.
    NextUrl(NextUrlPagination),
    /// RFC 8288 `Link` header with `rel="next"`. Example: `link_header: {}`.
    LinkHeader(LinkHeaderPagination),
    /// Offset and limit parameters. Example: `offset: { param: offset, limit_param: limit, limit: 100 }`.
    Offset(OffsetPagination),
    /// Page number parameter. Example: `page_number: { param: page, start: 1 }`.
    PageNumber(PageNumberPagination),
}

/// Where a cursor comes from in a response.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CursorSource {
    /// JSONPath into the response body. Example: `body: $.meta.next_cursor`.
    Body(JsonPathText),
    /// A response header. Example: `header: X-Next-Cursor`.
    Header(String),
}

/// Where a cursor is sent in the next request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamLocation {
    /// A query parameter (default).
    #[default]
    Query,
    /// A top-level field of the JSON request body.
    Body,
    /// A request header.
    Header,
}

/// Cursor pagination.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CursorPagination {
    /// Where the next cursor is read. Example: `token: { body: $.next_page_token }`.
    pub token: CursorSource,
    /// Parameter that carries it in the next request. Example: `param: page_token`.
    pub param: String,
    /// `query` (default), `body` or `header`. Example: `in: body`.
    #[serde(rename = "in", default)]
    pub location: ParamLocation,
}

/// Next-URL pagination.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextUrlPagination {
    /// JSONPath to the next page's URL. Example: `body: $["@odata.nextLink"]`.
    pub body: JsonPathText,
}

/// RFC 8288 Link header pagination.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkHeaderPagination {
    /// The link relation to follow. Example: `rel: next`.
    #[serde(default = "default_rel")]
    pub rel: String,
}

fn default_rel() -> String {
    "next".into()
}

/// Offset/limit pagination.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OffsetPagination {
    /// Offset parameter. Example: `param: offset`.
    pub param: String,
    /// Limit parameter. Example: `limit_param: limit`.
    pub limit_param: String,
    /// Records per page. Example: `limit: 100`.
    pub limit: u32,
    /// First offset. Example: `start: 0`.
    #[serde(default)]
    pub start: u64,
}

/// Page-number pagination.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageNumberPagination {
    /// Page parameter. Example: `param: page`.
    pub param: String,
    /// First page number. Example: `start: 1`.
    #[serde(default = "default_start_page")]
    pub start: u64,
}

fn default_start_page() -> u64 {
    1
}

/// A fixed page size sent with every page request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageSize {
    /// Example: `param: per_page`.
    pub param: String,
    /// Example: `value: 100`.
    pub value: u32,
}

/// A rule that ends pagination.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum StopRule {
    /// The page had no records.
    EmptyPage,
    /// The page had fewer records than the page size.
    ShortPage,
    /// The strategy found no next cursor or link (always on; listed for clarity).
    NoToken,
    /// An expression over `response` and `page` is true.
    /// Example: `when: "response.body.has_more == false"`.
    When(Expression),
}
