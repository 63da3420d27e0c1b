//! The file store: a directory of files named by the SHA-256 of their content.
//!
//! Files are written to `tmp/` first, hashed as they stream in, synced, then renamed to
//! their hash, so a reader never sees half a file and a crash leaves only temp files
//! (removed at the next start). Identical content is stored once.

use super::FileRef;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio::io::AsyncWriteExt;

/// A directory of content-addressed files.
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: PathBuf,
}

/// A file being written; [`FileWriter::finish`] makes it visible.
pub struct FileWriter {
    file: tokio::io::BufWriter<tokio::fs::File>,
    temp: PathBuf,
    dir: PathBuf,
    hasher: Sha256,
    size: u64,
    limit: u64,
}

impl FileStore {
    /// Opens (creating) the store at `dir` and removes temp files a crash left behind:
    /// those untouched for an hour (several instances may share the directory, and another
    /// one's download in progress must survive).
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<FileStore> {
        let dir = dir.into();
        let temp = dir.join("tmp");
        std::fs::create_dir_all(&temp)?;
        let stale = SystemTime::now() - Duration::from_secs(3600);
        for entry in std::fs::read_dir(&temp)?.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < stale);
            if old {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(FileStore { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts a new file that may grow to `limit` bytes.
    pub async fn writer(&self, limit: u64) -> io::Result<FileWriter> {
        let temp = self
            .dir
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let file = tokio::fs::File::create(&temp).await?;
        Ok(FileWriter {
            file: tokio::io::BufWriter::with_capacity(64 * 1024, file),
            temp,
            dir: self.dir.clone(),
            hasher: Sha256::new(),
            size: 0,
            limit,
        })
    }

    /// Stores bytes already in memory (small files: tests, webhook attachments).
    pub async fn put(&self, bytes: &[u8], name: &str, content_type: &str) -> io::Result<FileRef> {
        let mut writer = self.writer(u64::MAX).await?;
        writer.write(bytes).await?;
        writer.finish(name, content_type).await
    }

    /// Where a referenced file lives; an error when it is not in this store.
    pub fn path(&self, file: &FileRef) -> io::Result<PathBuf> {
        let path = self.dir.join(&file.id);
        let meta = std::fs::metadata(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "file `{}` ({}) is not in the file store: {e}",
                    file.name, file.id
                ),
            )
        })?;
        if meta.len() != file.size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "file `{}` has {} bytes in the store, its reference says {}",
                    file.name,
                    meta.len(),
                    file.size
                ),
            ));
        }
        Ok(path)
    }

    /// Reads a whole file, refusing one larger than `limit` (formats that need it whole).
    pub async fn read_limited(&self, file: &FileRef, limit: u64) -> io::Result<Vec<u8>> {
        if file.size > limit {
            return Err(io::Error::other(format!(
                "file `{}` has {} bytes; at most {limit} can be sent this way",
                file.name, file.size
            )));
        }
        tokio::fs::read(self.path(file)?).await
    }

    /// Removes files not modified for `age` (the run retention); returns how many.
    pub fn remove_older_than(&self, age: Duration) -> io::Result<usize> {
        let cutoff = SystemTime::now() - age;
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir)? {
            let entry = entry?;
            let name = entry.file_name();
            if !super::is_sha256_hex(&name.to_string_lossy()) {
                continue;
            }
            let modified = entry.metadata()?.modified()?;
            if modified < cutoff {
                std::fs::remove_file(entry.path())?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

impl FileWriter {
    pub async fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.size += chunk.len() as u64;
        if self.size > self.limit {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("file larger than the limit of {} bytes", self.limit),
            ));
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).await
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Syncs the file to disk and gives it its name; the reference is then valid.
    pub async fn finish(mut self, name: &str, content_type: &str) -> io::Result<FileRef> {
        self.file.flush().await?;
        self.file.get_ref().sync_all().await?;
        let id = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let target = self.dir.join(&id);
        if tokio::fs::try_exists(&target).await.unwrap_or(false) {
            tokio::fs::remove_file(&self.temp).await?;
            // Touch it so retention counts from its latest use.
            let _ = std::fs::File::options()
                .append(true)
                .open(&target)
                .and_then(|f| f.set_modified(SystemTime::now()));
        } else {
            tokio::fs::rename(&self.temp, &target).await?;
        }
        Ok(FileRef {
            id,
            name: super::safe_name(name),
            content_type: content_type.to_string(),
            size: self.size,
        })
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        // Unfinished (an error, a cancelled run): leave nothing behind. After `finish` the
        // temp path no longer exists and this does nothing.
        let _ = std::fs::remove_file(&self.temp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stores_by_content_and_refuses_foreign_references() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let a = store.put(b"hello", "a.txt", "text/plain").await.unwrap();
        let b = store.put(b"hello", "b.txt", "text/plain").await.unwrap();
        assert_eq!(a.id, b.id);
        assert_eq!(
            a.id,
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(std::fs::read(store.path(&a).unwrap()).unwrap(), b"hello");
        let mut missing = a.clone();
        missing.id = "0".repeat(64);
        assert!(store.path(&missing).is_err());
        let mut lying = a.clone();
        lying.size = 4;
        assert!(store.path(&lying).is_err());
        assert!(store.read_limited(&a, 4).await.is_err());
        assert_eq!(store.read_limited(&a, 5).await.unwrap(), b"hello");
        // Only the two names: the temp directory is empty.
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn a_writer_over_its_limit_fails_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(dir.path()).unwrap();
        let mut writer = store.writer(4).await.unwrap();
        writer.write(b"abc").await.unwrap();
        assert!(writer.write(b"de").await.is_err());
        drop(writer);
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
