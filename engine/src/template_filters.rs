//! Template filters Switchyard adds to MiniJinja's built-ins (`default`, `join`, `split`,
//! `tojson`, `urlencode`, `lower`, ... are MiniJinja's own).
//!
//! They cover what connector and workflow authors need to build requests and signatures:
//! base64, JSON parsing, hashes and HMACs, and dates in time zones. Filters are pure
//! functions of their arguments: no clock, no IO (the current time reaches templates as the
//! `now` variable, so tests can fix it).

use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{KeyInit, Mac};
use minijinja::{Environment, Error, ErrorKind, Value};

/// Registers every filter on `env`.
pub fn register(env: &mut Environment<'static>) {
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
    env.add_filter("b64urlencode", b64urlencode);
    env.add_filter("fromjson", fromjson);
    env.add_filter("sha1", |v: &str| {
        hex::encode(<sha1::Sha1 as sha2::Digest>::digest(v.as_bytes()))
    });
    env.add_filter("sha256", |v: &str| {
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(v.as_bytes()))
    });
    env.add_filter("hmac", hmac_filter);
    env.add_filter("date", date);
    env.add_filter("timestamp", timestamp);
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// `{{ "user:pass" | b64encode }}` -> `dXNlcjpwYXNz` (standard alphabet, padded).
fn b64encode(value: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(value)
}

/// `{{ "dXNlcjpwYXNz" | b64decode }}` -> `user:pass`; the result must be UTF-8 text.
fn b64decode(value: &str) -> Result<String, Error> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .map_err(|e| invalid(format!("b64decode: {e}")))?;
    String::from_utf8(bytes).map_err(|_| invalid("b64decode: the decoded bytes are not UTF-8 text"))
}

/// URL-safe alphabet without padding (JWT segments, Gmail raw messages).
fn b64urlencode(value: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
}

/// `{{ response.body.payload | fromjson }}`: parses a JSON string into a value.
fn fromjson(value: &str) -> Result<Value, Error> {
    let parsed: serde_json::Value =
        serde_json::from_str(value).map_err(|e| invalid(format!("fromjson: {e}")))?;
    Ok(Value::from(minijinja::value::Serde(&parsed)))
}

/// `{{ body | hmac(secrets.key) }}` (HMAC-SHA256, hex), or
/// `{{ body | hmac(key, "sha1", "base64") }}`. Algorithms: sha1, sha256, sha512; encodings:
/// hex, base64.
fn hmac_filter(
    value: &str,
    key: &str,
    algorithm: Option<&str>,
    encoding: Option<&str>,
) -> Result<String, Error> {
    fn mac<M: Mac + KeyInit>(key: &[u8], value: &[u8]) -> Vec<u8> {
        let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
        mac.update(value);
        mac.finalize().into_bytes().to_vec()
    }
    let digest = match algorithm.unwrap_or("sha256") {
        "sha1" => mac::<hmac::Hmac<sha1::Sha1>>(key.as_bytes(), value.as_bytes()),
        "sha256" => mac::<hmac::Hmac<sha2::Sha256>>(key.as_bytes(), value.as_bytes()),
        "sha512" => mac::<hmac::Hmac<sha2::Sha512>>(key.as_bytes(), value.as_bytes()),
        other => {
            return Err(invalid(format!(
                "hmac: unknown algorithm `{other}` (sha1, sha256, sha512)"
            )));
        }
    };
    match encoding.unwrap_or("hex") {
        "hex" => Ok(hex::encode(digest)),
        "base64" => Ok(base64::engine::general_purpose::STANDARD.encode(digest)),
        other => Err(invalid(format!(
            "hmac: unknown encoding `{other}` (hex, base64)"
        ))),
    }
}

/// Reads a moment: Unix seconds (integer or float) or an RFC 3339 string.
fn moment(value: &Value) -> Result<DateTime<Utc>, Error> {
    if let Some(text) = value.as_str() {
        return DateTime::parse_from_rfc3339(text)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| invalid(format!("not an RFC 3339 date-time `{text}`: {e}")));
    }
    let seconds = f64::try_from(value.clone())
        .map_err(|_| invalid("expected Unix seconds or an RFC 3339 string"))?;
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9).round() as u32;
    if !whole.is_finite() || whole.abs() > 1e13 {
        return Err(invalid("timestamp out of range"));
    }
    Utc.timestamp_opt(whole as i64, nanos.min(999_999_999))
        .single()
        .ok_or_else(|| invalid("timestamp out of range"))
}

/// `{{ now | date("%Y-%m-%d %H:%M", "Europe/Berlin") }}`: formats a moment (Unix seconds or
/// RFC 3339) with a strftime pattern (default RFC 3339) in an IANA time zone (default UTC).
fn date(value: Value, format: Option<&str>, timezone: Option<&str>) -> Result<String, Error> {
    let at = moment(&value)?;
    let tz: chrono_tz::Tz = timezone.unwrap_or("UTC").parse().map_err(|_| {
        invalid(format!(
            "unknown time zone `{}`",
            timezone.unwrap_or_default()
        ))
    })?;
    let local = at.with_timezone(&tz);
    match format {
        None => Ok(local.to_rfc3339()),
        Some(pattern) => {
            use std::fmt::Write as _;
            let mut out = String::new();
            // A bad pattern makes `Display` fail instead of panicking `to_string`.
            write!(out, "{}", local.format(pattern))
                .map_err(|_| invalid(format!("invalid date format `{pattern}`")))?;
            Ok(out)
        }
    }
}

/// `{{ "2026-01-02T03:04:05Z" | timestamp }}` -> `1767323045` (Unix seconds).
fn timestamp(value: Value) -> Result<i64, Error> {
    Ok(moment(&value)?.timestamp())
}

#[cfg(test)]
mod tests {
    use crate::template_env::environment;

    fn render(template: &str, ctx: serde_json::Value) -> Result<String, String> {
        environment()
            .render_str(template, minijinja::value::Serde(ctx))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn base64_and_json() {
        let ctx = serde_json::json!({});
        assert_eq!(
            render("{{ 'user:pass' | b64encode }}", ctx.clone()).unwrap(),
            "dXNlcjpwYXNz"
        );
        assert_eq!(
            render("{{ 'dXNlcjpwYXNz' | b64decode }}", ctx.clone()).unwrap(),
            "user:pass"
        );
        assert_eq!(
            render("{{ 'a?b' | b64urlencode }}", ctx.clone()).unwrap(),
            "YT9i"
        );
        assert_eq!(
            render("{{ ('{\"a\": [1, 2]}' | fromjson).a[1] }}", ctx.clone()).unwrap(),
            "2"
        );
        assert!(
            render("{{ '!!' | b64decode }}", ctx)
                .unwrap_err()
                .contains("b64decode")
        );
    }

    #[test]
    fn hashes_and_hmacs_match_known_vectors() {
        let ctx = serde_json::json!({});
        // RFC 4231 test case 2.
        assert_eq!(
            render(
                "{{ 'what do ya want for nothing?' | hmac('Jefe') }}",
                ctx.clone()
            )
            .unwrap(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            render(
                "{{ 'what do ya want for nothing?' | hmac('Jefe', 'sha1', 'base64') }}",
                ctx.clone()
            )
            .unwrap(),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
        assert_eq!(
            render("{{ 'abc' | sha256 }}", ctx.clone()).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(
            render("{{ 'x' | hmac('k', 'md5') }}", ctx)
                .unwrap_err()
                .contains("unknown algorithm")
        );
    }

    #[test]
    fn dates_in_time_zones() {
        let ctx = serde_json::json!({ "t": 1767323045 });
        assert_eq!(
            render("{{ t | date }}", ctx.clone()).unwrap(),
            "2026-01-02T03:04:05+00:00"
        );
        assert_eq!(
            render(
                "{{ t | date('%Y-%m-%d %H:%M', 'Europe/Berlin') }}",
                ctx.clone()
            )
            .unwrap(),
            "2026-01-02 04:04"
        );
        assert_eq!(
            render("{{ '2026-01-02T03:04:05Z' | timestamp }}", ctx.clone()).unwrap(),
            "1767323045"
        );
        assert!(
            render("{{ t | date('%Y', 'Mars/Olympus') }}", ctx.clone())
                .unwrap_err()
                .contains("unknown time zone")
        );
        assert!(
            render("{{ 'yesterday' | timestamp }}", ctx)
                .unwrap_err()
                .contains("RFC 3339")
        );
    }
}
