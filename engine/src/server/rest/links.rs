//! Linked records: which provider object stands for which local record key.

use super::{ApiError, ErrorBody, params, store};
use crate::access::Scope;
use crate::server::AppState;
use crate::server::api::require;
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A link between a local key and a provider object.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkInfo {
    pub key: String,
    pub connection: String,
    pub object_type: String,
    pub external_id: String,
    /// Unix ms.
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which links to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// Only links of this connection.
    pub connection: Option<String>,
    /// Only keys starting with this text, e.g. `appointment:`.
    pub key_prefix: Option<String>,
    /// At most this many (1 to 1000; default 100).
    pub limit: Option<u32>,
}

/// The key's tenant's links, by key.
#[utoipa::path(get, path = "/api/v1/links", tag = "links", params(LinkQuery),
    responses((status = 200, body = [LinkInfo]), (status = 400, body = ErrorBody)),
    security(("api_key" = [])))]
pub async fn list_links(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<LinkQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let principal = require(&state, &headers, Scope::Read).await?;
    let query = params(query)?;
    let limit = match query.limit {
        None => 100,
        Some(n @ 1..=1000) => n,
        Some(_) => return Err(super::invalid("`limit` must be 1 to 1000")),
    };
    let links = store(&state)?
        .links(
            &principal.tenant,
            query.connection.as_deref(),
            query.key_prefix.as_deref(),
            limit,
        )
        .await
        .map_err(ApiError::internal)?;
    let list: Vec<LinkInfo> = links
        .into_iter()
        .map(|l| LinkInfo {
            key: l.key,
            connection: l.connection,
            object_type: l.object_type,
            external_id: l.external_id,
            created_at: l.created_at,
            updated_at: l.updated_at,
        })
        .collect();
    Ok(Json(list).into_response())
}
