//! Master keys: where they come from, and which one seals new values.
//!
//! Sources, first match wins:
//! 1. `SWITCHYARD_MASTER_KEY` (base64 of 32 bytes); older keys still needed to open values
//!    in `SWITCHYARD_MASTER_KEY_OLD` (comma-separated);
//! 2. a key file (`SWITCHYARD_MASTER_KEY_FILE`, default `<data dir>/master.key`): one base64
//!    key per line, the first seals, the others only open; `#` starts a comment.
//!
//! A key's id is a fingerprint (the first 12 hex digits of its SHA-256), safe to show.
//!
//! Must never print, log or put into an error a key's bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "master.key";

/// Problems finding or reading the master keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("{source_name}: a master key must be base64 of 32 bytes ({problem})")]
    Invalid {
        source_name: String,
        problem: String,
    },
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "no master key: set SWITCHYARD_MASTER_KEY or create {path} (`switchyard keys generate --out {path}`)"
    )]
    Missing { path: PathBuf },
}

/// One AES-256 key and its id.
#[derive(Clone)]
pub struct MasterKey {
    id: String,
    bytes: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        fill_random(&mut bytes[..]);
        Self::from_bytes(bytes)
    }

    fn from_bytes(bytes: Zeroizing<[u8; 32]>) -> Self {
        let id = hex::encode(&Sha256::digest(&bytes[..])[..6]);
        MasterKey { id, bytes }
    }

    /// Reads a base64 key; `source_name` says where it came from, for the error.
    pub fn from_base64(text: &str, source_name: &str) -> Result<Self, KeyringError> {
        let invalid = |problem: String| KeyringError::Invalid {
            source_name: source_name.to_string(),
            problem,
        };
        let decoded = Zeroizing::new(
            B64.decode(text.trim())
                .map_err(|_| invalid("not base64".into()))?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| invalid(format!("{} bytes", decoded.len())))?;
        Ok(Self::from_bytes(Zeroizing::new(bytes)))
    }

    /// The key as base64 (to hand to the operator once, at generation).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(&self.bytes[..]))
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub(super) fn bytes(&self) -> &[u8; 32] {
        &self.bytes
    }
}

/// The key that seals, and older keys that still open.
#[derive(Clone, Debug)]
pub struct Keyring {
    current: MasterKey,
    older: Vec<MasterKey>,
}

/// Where a keyring came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File(PathBuf),
    /// No key was configured: one was generated into this file.
    Generated(PathBuf),
}

impl Keyring {
    pub fn new(current: MasterKey) -> Self {
        Keyring {
            current,
            older: Vec::new(),
        }
    }

    /// Adds a key that opens values but does not seal new ones.
    pub fn with_older(mut self, key: MasterKey) -> Self {
        if key.id != self.current.id && !self.older.iter().any(|k| k.id == key.id) {
            self.older.push(key);
        }
        self
    }

    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    pub fn older(&self) -> &[MasterKey] {
        &self.older
    }

    pub fn find(&self, id: &str) -> Option<&MasterKey> {
        std::iter::once(&self.current)
            .chain(&self.older)
            .find(|k| k.id == id)
    }

    /// The key file's path for a data directory (`SWITCHYARD_MASTER_KEY_FILE` wins).
    pub fn file_path(data_dir: &Path) -> PathBuf {
        std::env::var_os("SWITCHYARD_MASTER_KEY_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| data_dir.join(KEY_FILE))
    }

    /// Finds the keys (environment, then key file). With `generate`, a missing key file is
    /// created with a new key (mode 0600).
    pub fn load(data_dir: &Path, generate: bool) -> Result<(Self, KeySource), KeyringError> {
        if let Ok(text) = std::env::var("SWITCHYARD_MASTER_KEY") {
            let mut ring = Keyring::new(MasterKey::from_base64(&text, "SWITCHYARD_MASTER_KEY")?);
            if let Ok(old) = std::env::var("SWITCHYARD_MASTER_KEY_OLD") {
                for (n, part) in old.split(',').filter(|p| !p.trim().is_empty()).enumerate() {
                    let name = format!("SWITCHYARD_MASTER_KEY_OLD (key {})", n + 1);
                    ring = ring.with_older(MasterKey::from_base64(part, &name)?);
                }
            }
            return Ok((ring, KeySource::Environment));
        }
        let path = Self::file_path(data_dir);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((Self::parse_file(&text, &path)?, KeySource::File(path))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && generate => {
                let ring = Keyring::new(MasterKey::generate());
                ring.write_file(&path)?;
                Ok((ring, KeySource::Generated(path)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(KeyringError::Missing { path })
            }
            Err(error) => Err(KeyringError::Io { path, error }),
        }
    }

    fn parse_file(text: &str, path: &Path) -> Result<Self, KeyringError> {
        let mut keys = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .enumerate()
            .filter(|(_, l)| !l.is_empty())
            .map(|(n, l)| MasterKey::from_base64(l, &format!("{}:{}", path.display(), n + 1)));
        let Some(current) = keys.next() else {
            return Err(KeyringError::Invalid {
                source_name: path.display().to_string(),
                problem: "the file holds no key".into(),
            });
        };
        let mut ring = Keyring::new(current?);
        for key in keys {
            ring = ring.with_older(key?);
        }
        Ok(ring)
    }

    /// Writes the keys to `path` (current first), readable by the owner only. The file is
    /// replaced atomically, so a crash leaves the old file or the new one.
    pub fn write_file(&self, path: &Path) -> Result<(), KeyringError> {
        let io = |error| KeyringError::Io {
            path: path.to_path_buf(),
            error,
        };
        let mut text = Zeroizing::new(String::from(
            "# Switchyard master keys: the first seals new secrets, the others only open old ones.\n",
        ));
        for key in std::iter::once(&self.current).chain(&self.older) {
            text.push_str(&key.to_base64());
            text.push_str(&format!("  # {}\n", key.id));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let temporary = path.with_extension("key.tmp");
        write_private(&temporary, text.as_bytes()).map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Fills `out` from the operating system's random source (through AES-GCM's generator).
pub fn fill_random(out: &mut [u8]) {
    use aes_gcm::aead::Generate;
    for chunk in out.chunks_mut(32) {
        let random = aes_gcm::Key::<aes_gcm::Aes256Gcm>::generate();
        chunk.copy_from_slice(&random[..chunk.len()]);
    }
}
