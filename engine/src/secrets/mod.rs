//! Credentials at rest: AES-256-GCM envelopes under a master key.
//!
//! A sealed value is text: `sy1.<key id>.<base64(nonce ‖ ciphertext ‖ tag)>`. The key id
//! says which master key sealed it, so several keys can be in use during a rotation and a
//! missing key is named in the error. The caller's *associated data* (for connections, the
//! connection id and the field) is bound into the tag: a ciphertext copied to another row
//! does not decrypt.
//!
//! Must never log, print or put into an error a key or a plaintext.

mod keyring;

pub use keyring::{KEY_FILE, KeySource, Keyring, KeyringError, MasterKey, fill_random};

use aes_gcm::aead::{Aead, Generate, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

const PREFIX: &str = "sy1";
const NONCE_LEN: usize = 12;

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("sealed with master key `{key_id}`, which is not configured")]
    UnknownKey { key_id: String },
    #[error(
        "does not decrypt under master key `{key_id}` (wrong key, or the value was moved from another record)"
    )]
    Decrypt { key_id: String },
    #[error("is not a sealed value")]
    Malformed,
}

/// Seals `plaintext` under the keyring's current key, bound to `aad`.
pub fn seal(keyring: &Keyring, aad: &[u8], plaintext: &[u8]) -> String {
    let key = keyring.current();
    let cipher = Aes256Gcm::new(key.bytes().into());
    let nonce = Nonce::generate();
    // Encryption with a valid key and nonce cannot fail for inputs under 64 GiB.
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap_or_default();
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    format!("{PREFIX}.{}.{}", key.id(), B64.encode(out))
}

/// The key id a sealed value names, without opening it.
pub fn key_id(sealed: &str) -> Option<&str> {
    let mut parts = sealed.splitn(3, '.');
    (parts.next() == Some(PREFIX)).then_some(())?;
    parts.next()
}

/// Opens a value sealed by [`seal`] with the same `aad`.
pub fn open(keyring: &Keyring, aad: &[u8], sealed: &str) -> Result<Vec<u8>, SecretError> {
    let mut parts = sealed.splitn(3, '.');
    let (Some(PREFIX), Some(key_id), Some(body)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(SecretError::Malformed);
    };
    let key = keyring
        .find(key_id)
        .ok_or_else(|| SecretError::UnknownKey {
            key_id: key_id.to_string(),
        })?;
    let bytes = B64.decode(body).map_err(|_| SecretError::Malformed)?;
    if bytes.len() < NONCE_LEN + 16 {
        return Err(SecretError::Malformed);
    }
    let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
    let nonce = Nonce::try_from(nonce).map_err(|_| SecretError::Malformed)?;
    Aes256Gcm::new(key.bytes().into())
        .decrypt(
            &nonce,
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .map_err(|_| SecretError::Decrypt {
            key_id: key_id.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_associated_data() {
        let keyring = Keyring::new(MasterKey::generate());
        let sealed = seal(&keyring, b"conn-1/secrets", b"xoxb-very-secret");
        assert!(!sealed.contains("xoxb"));
        assert_eq!(key_id(&sealed), Some(keyring.current().id()));
        assert_eq!(
            open(&keyring, b"conn-1/secrets", &sealed).unwrap(),
            b"xoxb-very-secret"
        );
        // Same plaintext twice: different nonces, different ciphertexts.
        assert_ne!(
            sealed,
            seal(&keyring, b"conn-1/secrets", b"xoxb-very-secret")
        );
        // Copied to another row: the associated data differs.
        assert!(matches!(
            open(&keyring, b"conn-2/secrets", &sealed),
            Err(SecretError::Decrypt { .. })
        ));
        // Another key.
        let other = Keyring::new(MasterKey::generate());
        assert!(matches!(
            open(&other, b"conn-1/secrets", &sealed),
            Err(SecretError::UnknownKey { .. })
        ));
        // Tampered.
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(open(&keyring, b"conn-1/secrets", &tampered).is_err());
        assert_eq!(
            open(&keyring, b"x", "plaintext"),
            Err(SecretError::Malformed)
        );
    }

    #[test]
    fn an_older_key_still_opens_what_it_sealed() {
        let old = MasterKey::generate();
        let sealed = seal(&Keyring::new(old.clone()), b"a", b"token");
        let rotated = Keyring::new(MasterKey::generate()).with_older(old);
        assert_eq!(open(&rotated, b"a", &sealed).unwrap(), b"token");
        assert_ne!(key_id(&seal(&rotated, b"a", b"token")), key_id(&sealed));
    }
}
