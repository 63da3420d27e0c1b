//! The HTTP transport: one small trait, and its implementation over one shared `reqwest`
//! client (rustls with ring, HTTP/1.1 keep-alive and HTTP/2, gzip).
//!
//! The interpreter decides what to send and what a response means; this module only moves
//! bytes, with a timeout and a size limit. Tests can replace it with any [`HttpClient`].
//! Must never log or format request headers or bodies: they carry credentials.

use crate::files::{Body, FileRef, FileStore};
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// A fully rendered request.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub method: reqwest::Method,
    pub url: url::Url,
    pub headers: Vec<(String, String)>,
    /// In memory or streamed from files; sent with its Content-Length.
    pub body: Option<Body>,
    /// Longest time for this one exchange, body included.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: usize,
    /// Save a successful (2xx) response body as a file instead of reading it.
    pub save_to: Option<SaveTo>,
}

/// Where a downloaded body goes, and how large it may be.
#[derive(Debug, Clone)]
pub struct SaveTo {
    pub store: Arc<FileStore>,
    pub limit: u64,
}

impl SaveTo {
    /// Saves a body already in memory (test clients), as the production client would.
    pub async fn save(
        &self,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Result<FileRef, TransportError> {
        let mut writer = self.store.writer(self.limit).await.map_err(file_error)?;
        writer
            .write(body)
            .await
            .map_err(|e| too_large_or(e, self.limit))?;
        writer
            .finish("", &content_type(headers))
            .await
            .map_err(file_error)
    }
}

fn content_type(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_string()
}

fn file_error(error: std::io::Error) -> TransportError {
    TransportError::Other(format!("file store: {error}"))
}

fn too_large_or(error: std::io::Error, limit: u64) -> TransportError {
    if error.kind() == std::io::ErrorKind::FileTooLarge {
        TransportError::TooLarge {
            limit: limit as usize,
        }
    } else {
        file_error(error)
    }
}

/// A response with its whole body read.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Bytes,
    /// The saved body (with `save_to`, on 2xx); its `name` is filled in by the caller.
    pub file: Option<FileRef>,
}

impl HttpResponse {
    /// The first value of a header, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why no response came back.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The connection could not be made: the provider cannot have seen the request.
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("no response within {0:?}")]
    Timeout(Duration),
    #[error("response larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{0}")]
    Other(String),
}

pub type SendFuture = Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send>>;

/// Sends one request. Implementations must be cheap to share between tasks.
pub trait HttpClient: Send + Sync + 'static {
    fn send(&self, request: HttpRequest) -> SendFuture;
}

/// The production client.
#[derive(Clone)]
pub struct ReqwestClient {
    client: reqwest::Client,
}

impl ReqwestClient {
    /// Builds the shared client. TLS roots are Mozilla's (webpki-roots), so the binary does
    /// not depend on the machine's CA store; redirects are not followed (a redirect to
    /// another host must not receive the credentials).
    pub fn new() -> Result<Self, TransportError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let mut tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TransportError::Other(format!("TLS setup: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| TransportError::Other(format!("HTTP client setup: {e}")))?;
        Ok(ReqwestClient { client })
    }
}

impl HttpClient for ReqwestClient {
    fn send(&self, request: HttpRequest) -> SendFuture {
        let client = self.client.clone();
        Box::pin(async move {
            let timeout = request.timeout;
            match tokio::time::timeout(timeout, exchange(client, request)).await {
                Ok(result) => result,
                Err(_) => Err(TransportError::Timeout(timeout)),
            }
        })
    }
}

async fn exchange(
    client: reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, TransportError> {
    let limit = request.max_response_bytes;
    let mut builder = client.request(request.method, request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(body) = request.body {
        builder = match body.in_memory() {
            Some(bytes) => builder.body(bytes),
            None => builder
                .header(reqwest::header::CONTENT_LENGTH, body.len())
                .body(reqwest::Body::wrap_stream(body.stream())),
        };
    }
    let mut response = builder.send().await.map_err(classify)?;
    if let Some(save) = request.save_to.filter(|_| response.status().is_success()) {
        return save_body(response, save).await;
    }
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(TransportError::TooLarge { limit });
    }
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    // Read chunk by chunk so an endless or lying body stops at the limit.
    let mut body = Vec::with_capacity(
        response
            .content_length()
            .map_or(16 * 1024, |n| n as usize)
            .min(limit),
    );
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        if body.len() + chunk.len() > limit {
            return Err(TransportError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        headers,
        body: Bytes::from(body),
        file: None,
    })
}

/// Streams a response body into the file store, chunk by chunk.
async fn save_body(
    mut response: reqwest::Response,
    save: SaveTo,
) -> Result<HttpResponse, TransportError> {
    if response.content_length().is_some_and(|n| n > save.limit) {
        return Err(TransportError::TooLarge {
            limit: save.limit as usize,
        });
    }
    let status = response.status().as_u16();
    let headers = std::mem::take(response.headers_mut());
    let mut writer = save.store.writer(save.limit).await.map_err(file_error)?;
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        writer
            .write(&chunk)
            .await
            .map_err(|e| too_large_or(e, save.limit))?;
    }
    let file = writer
        .finish("", &content_type(&headers))
        .await
        .map_err(file_error)?;
    Ok(HttpResponse {
        status,
        headers,
        body: Bytes::new(),
        file: Some(file),
    })
}

/// reqwest errors carry the URL, which may hold an API key in its query: keep only the kind.
fn classify(error: reqwest::Error) -> TransportError {
    let error = error.without_url();
    if error.is_connect() {
        TransportError::Connect(root_cause(&error))
    } else if error.is_timeout() {
        TransportError::Timeout(Duration::ZERO)
    } else {
        TransportError::Other(root_cause(&error))
    }
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    message
}
