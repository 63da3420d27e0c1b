//! Request bodies that may be larger than memory: a list of segments, each either bytes
//! or a range of a file on disk, read 64 KiB at a time while the request is sent.
//!
//! A body is a description, cheap to clone: a retried request reads the file again.

use bytes::Bytes;
use futures_util::Stream;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

const READ_SIZE: usize = 64 * 1024;

/// One piece of a body.
#[derive(Debug, Clone)]
pub enum Segment {
    Bytes(Bytes),
    /// `len` bytes of the file at `path`, from `offset`.
    File {
        path: PathBuf,
        offset: u64,
        len: u64,
    },
}

/// A request body.
#[derive(Debug, Clone, Default)]
pub struct Body {
    segments: Vec<Segment>,
}

/// The bytes of a body, in order, as the HTTP client sends them.
pub type BodyStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Body {
        Body {
            segments: vec![Segment::Bytes(bytes)],
        }
    }
}

impl From<String> for Body {
    fn from(text: String) -> Body {
        Body::from(Bytes::from(text))
    }
}

impl Body {
    pub fn new(segments: Vec<Segment>) -> Body {
        Body { segments }
    }

    /// Total length in bytes (the Content-Length).
    pub fn len(&self) -> u64 {
        self.segments
            .iter()
            .map(|s| match s {
                Segment::Bytes(b) => b.len() as u64,
                Segment::File { len, .. } => *len,
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, when the body is all in memory.
    pub fn in_memory(&self) -> Option<Bytes> {
        match self.segments.as_slice() {
            [] => Some(Bytes::new()),
            [Segment::Bytes(b)] => Some(b.clone()),
            segments if segments.iter().all(|s| matches!(s, Segment::Bytes(_))) => {
                let mut all = Vec::with_capacity(self.len() as usize);
                for s in segments {
                    if let Segment::Bytes(b) = s {
                        all.extend_from_slice(b);
                    }
                }
                Some(Bytes::from(all))
            }
            _ => None,
        }
    }

    /// The body as text for `--dry-run`: files are shown by size, not read.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Bytes(b) => out.push_str(&String::from_utf8_lossy(b)),
                Segment::File { len, .. } => out.push_str(&format!("<{len} bytes of a file>")),
            }
        }
        out
    }

    /// Reads the whole body into memory (tests and the connector harness only).
    pub async fn collect(&self) -> io::Result<Bytes> {
        let mut all = Vec::with_capacity(self.len() as usize);
        for s in &self.segments {
            match s {
                Segment::Bytes(b) => all.extend_from_slice(b),
                Segment::File { path, offset, len } => {
                    let mut file = tokio::fs::File::open(path).await?;
                    file.seek(io::SeekFrom::Start(*offset)).await?;
                    let mut part = Vec::with_capacity(*len as usize);
                    file.take(*len).read_to_end(&mut part).await?;
                    if part.len() as u64 != *len {
                        return Err(short_read(path));
                    }
                    all.extend_from_slice(&part);
                }
            }
        }
        Ok(Bytes::from(all))
    }

    /// The body as a stream of chunks, files read as they are sent.
    pub fn stream(self) -> BodyStream {
        let state = (
            self.segments.into_iter(),
            None::<(tokio::fs::File, u64, PathBuf)>,
        );
        Box::pin(futures_util::stream::try_unfold(
            state,
            |(mut segments, mut open)| async move {
                loop {
                    if let Some((file, left, path)) = open.as_mut() {
                        if *left == 0 {
                            open = None;
                            continue;
                        }
                        let want = (*left).min(READ_SIZE as u64) as usize;
                        let mut buf = vec![0u8; want];
                        let n = file.read(&mut buf).await?;
                        if n == 0 {
                            return Err(short_read(path));
                        }
                        buf.truncate(n);
                        *left -= n as u64;
                        return Ok(Some((Bytes::from(buf), (segments, open))));
                    }
                    match segments.next() {
                        None => return Ok(None),
                        Some(Segment::Bytes(b)) => return Ok(Some((b, (segments, open)))),
                        Some(Segment::File { path, offset, len }) => {
                            let mut file = tokio::fs::File::open(&path).await?;
                            file.seek(io::SeekFrom::Start(offset)).await?;
                            open = Some((file, len, path));
                        }
                    }
                }
            },
        ))
    }
}

fn short_read(path: &std::path::Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("{} is shorter than its reference says", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[tokio::test]
    async fn streams_bytes_and_file_ranges_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let body = Body::new(vec![
            Segment::Bytes(Bytes::from_static(b"head-")),
            Segment::File {
                path: path.clone(),
                offset: 1000,
                len: 150_000,
            },
            Segment::Bytes(Bytes::from_static(b"-tail")),
        ]);
        assert_eq!(body.len(), 150_010);
        assert!(body.in_memory().is_none());
        let mut streamed = Vec::new();
        let mut stream = body.clone().stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            assert!(chunk.len() <= READ_SIZE);
            streamed.extend_from_slice(&chunk);
        }
        let mut expected = b"head-".to_vec();
        expected.extend_from_slice(&content[1000..151_000]);
        expected.extend_from_slice(b"-tail");
        assert_eq!(streamed, expected);
        assert_eq!(body.collect().await.unwrap(), expected);
        assert!(body.describe().contains("<150000 bytes of a file>"));
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_range_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"short").unwrap();
        let body = Body::new(vec![Segment::File {
            path,
            offset: 0,
            len: 10,
        }]);
        let mut stream = body.stream();
        let mut failed = false;
        while let Some(chunk) = stream.next().await {
            if chunk.is_err() {
                failed = true;
                break;
            }
        }
        assert!(failed);
    }
}
