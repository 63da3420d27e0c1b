//! Who may call the API: API keys (`sy_<id>_<secret>`), each bound to one tenant and one
//! scope (`read` < `write` < `admin`).
//!
//! The secret part is random (32 bytes) and shown once; the store keeps its SHA-256, and
//! a presented key is compared in constant time. Expired and revoked keys are refused the
//! same way as unknown ones, so a caller learns nothing about which keys exist.
//!
//! Must never log or store a key's secret part.

use crate::store::{ApiKeyRow, Store, StoreError, now_ms};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Scope {
    Read,
    Write,
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: String,
    pub tenant: String,
    pub scope: Scope,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a key; returns the full key (to show once) and its row.
pub async fn create_key(
    store: &Store,
    tenant: &str,
    scope: Scope,
    name: Option<String>,
    lifetime: Option<std::time::Duration>,
) -> Result<(String, ApiKeyRow), StoreError> {
    let mut id_bytes = [0u8; 6];
    crate::secrets::fill_random(&mut id_bytes);
    let mut secret_bytes = [0u8; 32];
    crate::secrets::fill_random(&mut secret_bytes);
    let id = hex::encode(id_bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret_bytes);
    let now = now_ms();
    let row = ApiKeyRow {
        id: id.clone(),
        tenant: tenant.to_string(),
        scope: scope.as_str().to_string(),
        name,
        secret_hash: hash(&secret),
        created_at: now,
        expires_at: lifetime.map(|l| now.saturating_add(l.as_millis() as i64)),
        revoked_at: None,
    };
    store.insert_api_key(&row).await?;
    Ok((format!("sy_{id}_{secret}"), row))
}

/// Checks a presented key; `None` if unknown, malformed, expired or revoked.
pub async fn authenticate(store: &Store, key: &str) -> Result<Option<Principal>, StoreError> {
    let Some(rest) = key.strip_prefix("sy_") else {
        return Ok(None);
    };
    let Some((id, secret)) = rest.split_once('_') else {
        return Ok(None);
    };
    if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(row) = store.api_key(id).await? else {
        return Ok(None);
    };
    let matches: bool = hash(secret)
        .as_bytes()
        .ct_eq(row.secret_hash.as_bytes())
        .into();
    let live = row.revoked_at.is_none() && row.expires_at.is_none_or(|at| at > now_ms());
    let Some(scope) = Scope::parse(&row.scope) else {
        return Ok(None);
    };
    Ok((matches && live).then_some(Principal {
        key_id: row.id,
        tenant: row.tenant,
        scope,
    }))
}
