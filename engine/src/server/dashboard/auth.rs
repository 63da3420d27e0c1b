//! Who is looking at the dashboard: passwords (Argon2id), browser sessions (a random
//! token in a `Secure; HttpOnly; SameSite=Lax` cookie, its SHA-256 in the store) and the
//! per-session CSRF token every form carries.
//!
//! Must never store or log a password or a session token, and must compare secrets in
//! constant time.

use crate::store::Store;
use crate::store::accounts::{SessionRow, UserRow};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "sy_session";
/// The login form's CSRF cookie (double submit: before login there is no session).
pub const LOGIN_COOKIE: &str = "sy_login";
/// How long a session lasts without logging in again.
pub const SESSION_HOURS: i64 = 12;

/// A logged-in user.
#[derive(Debug, Clone)]
pub struct Session {
    pub username: String,
    pub tenant: String,
    pub csrf: String,
    token_hash: String,
}

/// A random token: 32 bytes, URL-safe base64.
pub fn random_token() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(16) {
        chunk.copy_from_slice(&uuid::Uuid::new_v4().into_bytes());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Argon2id with the crate's default parameters (19 MiB, 2 passes), in PHC format.
pub fn hash_password(password: &str) -> Result<String, String> {
    // 16 random bytes (uuid v4 draws them from the OS's generator).
    let salt = SaltString::encode_b64(uuid::Uuid::new_v4().as_bytes())
        .map_err(|e| format!("cannot make a salt: {e}"))?;
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Creates a user (the `users create` command).
pub async fn create_user(
    store: &Store,
    username: &str,
    tenant: &str,
    password: &str,
) -> Result<(), String> {
    let valid = !username.is_empty()
        && username.len() <= 64
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !valid {
        return Err(format!(
            "`{username}` is not a username: 1 to 64 letters, digits, `.`, `_`, `-` or `@`"
        ));
    }
    if password.chars().count() < 10 {
        return Err("the password must have at least 10 characters".into());
    }
    let hash = tokio::task::spawn_blocking({
        let password = password.to_string();
        move || hash_password(&password)
    })
    .await
    .map_err(|e| e.to_string())??;
    store
        .insert_user(&UserRow {
            username: username.to_string(),
            tenant: tenant.to_string(),
            password_hash: hash,
            created_at: crate::store::now_ms(),
        })
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => format!("user `{username}` exists already"),
            other => other.to_string(),
        })
}

/// Checks a login; on success stores a session and returns its cookie token.
pub async fn log_in(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<Option<String>, String> {
    let user = store.user(username).await.map_err(|e| e.to_string())?;
    // Without the user, still spend the time of a hash check, so timing does not tell
    // which usernames exist.
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => DECOY
            .get_or_init(|| hash_password(&random_token()).unwrap_or_default())
            .clone(),
    };
    // Each check takes ~19 MiB and a core for a moment: at most one per core at a time,
    // so a flood of logins queues instead of exhausting memory.
    static CHECKS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let checks = CHECKS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    });
    let Ok(_permit) = checks.acquire().await else {
        return Ok(None);
    };
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        return Ok(None);
    };
    let token = random_token();
    let now = crate::store::now_ms();
    store
        .insert_session(&SessionRow {
            token_hash: sha256(&token),
            username: user.username,
            tenant: user.tenant,
            csrf: random_token(),
            created_at: now,
            expires_at: now + SESSION_HOURS * 3_600_000,
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(Some(token))
}

/// The session the request's cookie names, if it is valid.
pub async fn session(store: &Store, headers: &HeaderMap) -> Option<Session> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let hash = sha256(&token);
    let row = store.session(&hash, crate::store::now_ms()).await.ok()??;
    Some(Session {
        username: row.username,
        tenant: row.tenant,
        csrf: row.csrf,
        token_hash: hash,
    })
}

pub async fn log_out(store: &Store, session: &Session) {
    if let Err(error) = store
        .delete_session(&session.token_hash, crate::store::now_ms())
        .await
    {
        tracing::warn!(%error, "logout: session not deleted");
    }
}

impl Session {
    /// Whether a form's CSRF token is this session's.
    pub fn csrf_ok(&self, given: &str) -> bool {
        same(given, &self.csrf)
    }
}

/// Constant-time equality of two secrets.
pub fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// `Set-Cookie` for a secret cookie; `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=Lax")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn cookies_and_tokens() {
        let mut headers = HeaderMap::new();
        headers.insert("cookie", "a=1; sy_session=tok; b=2".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&headers, "missing"), None);
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(same(&a, &a.clone()) && !same(&a, &b) && !same("", ""));
        assert!(set_cookie("x", "v", 60).contains("HttpOnly; Secure; SameSite=Lax"));
    }
}
