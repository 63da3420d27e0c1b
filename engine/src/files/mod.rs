//! Files passed between steps by reference.
//!
//! A download streams the response body into the [`FileStore`] and its output is a small
//! [`FileRef`] (`{"$file": "<sha256>", "name", "content_type", "size"}`); run journals,
//! templates and workflow steps only ever carry that reference. An upload names the
//! reference in its body and the request streams the file from disk. Memory use is thus
//! the same for a 2 KB file and a 2 GB one.
//!
//! Must never read a whole file into memory, except where a format needs it whole and the
//! caller said how large it may be ([`FileStore::read_limited`], e.g. an email attachment).

mod body;
mod store;

pub use body::{Body, BodyStream, Segment};
pub use store::{FileStore, FileWriter};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The key that marks a JSON object as a file reference.
pub const FILE_KEY: &str = "$file";

/// A stored file, as step outputs and inputs carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The content's SHA-256, lower-case hex: also its name in the store.
    #[serde(rename = "$file")]
    pub id: String,
    /// The file name the provider gave it (or the action chose).
    pub name: String,
    /// Its media type, `application/octet-stream` when unknown.
    pub content_type: String,
    /// Its length in bytes.
    pub size: u64,
}

impl FileRef {
    /// Reads a reference out of a JSON value; `None` when it is not one.
    pub fn from_json(value: &Json) -> Option<FileRef> {
        let object = value.as_object()?;
        if !object.contains_key(FILE_KEY) {
            return None;
        }
        let file: FileRef = serde_json::from_value(value.clone()).ok()?;
        is_sha256_hex(&file.id).then_some(file)
    }

    pub fn to_json(&self) -> Json {
        serde_json::to_value(self).unwrap_or(Json::Null)
    }
}

/// Whether a value is a file reference (for input type checks).
pub fn is_file_ref(value: &Json) -> bool {
    FileRef::from_json(value).is_some()
}

/// 64 lower-case hex digits: the only names the store opens (no path can sneak in).
fn is_sha256_hex(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The file name in a `Content-Disposition` header (`filename*=UTF-8''…` preferred).
pub fn disposition_filename(header: &str) -> Option<String> {
    let mut plain = None;
    for part in header.split(';').map(str::trim) {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "filename*" => {
                let encoded = value.trim().trim_matches('"');
                let encoded = encoded.split_once("''").map_or(encoded, |(_, v)| v);
                if let Ok(decoded) = percent_encoding::percent_decode_str(encoded).decode_utf8() {
                    return Some(safe_name(&decoded));
                }
            }
            "filename" => plain = Some(safe_name(value.trim().trim_matches('"'))),
            _ => {}
        }
    }
    plain.filter(|name| !name.is_empty())
}

/// A file name without directories or control characters.
pub fn safe_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    last.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_need_a_sha256_id() {
        let id = "a".repeat(64);
        let good = json!({"$file": id, "name": "a.txt", "content_type": "text/plain", "size": 3});
        assert_eq!(FileRef::from_json(&good).map(|f| f.size), Some(3));
        for bad in [
            json!({"$file": "../../etc/passwd", "name": "x", "content_type": "x", "size": 1}),
            json!({"$file": "A".repeat(64), "name": "x", "content_type": "x", "size": 1}),
            json!({"name": "x"}),
            json!("text"),
        ] {
            assert!(FileRef::from_json(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn content_disposition_names() {
        assert_eq!(
            disposition_filename(r#"attachment; filename="report.pdf""#).as_deref(),
            Some("report.pdf")
        );
        assert_eq!(
            disposition_filename("attachment; filename=x.txt; filename*=UTF-8''%C3%A9t%C3%A9.txt")
                .as_deref(),
            Some("été.txt")
        );
        assert_eq!(
            disposition_filename(r#"attachment; filename="../../etc/passwd""#).as_deref(),
            Some("passwd")
        );
        assert_eq!(disposition_filename("inline"), None);
    }
}
