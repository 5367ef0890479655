//! The pooled HTTP client: one per TLS setting (see `runtime::Core`), reused across calls,
//! with per-request URL, headers and timeout. Timeouts follow httpx's float semantics
//! (connect, headers and each body read may each take up to `timeout`), which is what
//! LiteLLM users get natively.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT_ENCODING, COOKIE};

use crate::coding::{Decoder, DECODED_CODINGS};

use crate::errors::{describe, CoreError, ErrorKind};
use crate::proxies::EnvProxies;

/// Upper bound of a non-streamed response body; beyond it the call fails instead of growing
/// memory without limit.
pub const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

#[derive(Clone)]
pub struct Client {
    inner: reqwest::Client,
}

/// How a server certificate is checked: LiteLLM's `ssl_verify`, resolved in Python by
/// LiteLLM's own rules (`litellm.ssl_verify`, `SSL_VERIFY`, `SSL_CERT_FILE`, certifi).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tls {
    /// The platform trust store (`SSL_CERT_FILE`/`SSL_CERT_DIR` honoured): the default of
    /// the core when no setting is passed.
    System,
    /// Only the certificates of this PEM bundle, as `ssl.create_default_context(cafile=..)`
    /// trusts only its cafile (LiteLLM's CA bundle path, `SSL_CERT_FILE` or certifi's).
    CaFile(String),
    /// No verification at all (`litellm.ssl_verify=False`).
    Off,
}

/// A fully built request: what the provider module hands to the transport.
#[derive(Debug, Clone)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub timeout: Option<Duration>,
    /// Retries after the first attempt, as the OpenAI SDK's `max_retries` (default 2).
    pub max_retries: u32,
    /// A header set on each attempt to the number of retries already taken (the OpenAI
    /// SDK's `x-stainless-retry-count`).
    pub retry_count_header: Option<String>,
    /// The body comes back as the server encoded it, for a caller whose own client decodes
    /// it (LiteLLM's httpx); otherwise the core asks for gzip/deflate and decodes it itself.
    pub raw: bool,
}

/// The parts of a request that its builder may make differently for each attempt.
pub struct Rebuilt {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// What `Client::send_rebuilt` awaits for a retry's request.
pub type RebuildFuture<'a> = Pin<Box<dyn Future<Output = Result<Rebuilt, CoreError>> + Send + 'a>>;

/// Builds the request of retry attempt `attempt` (>= 1) of a request another client built.
pub trait Rebuild: Send + Sync {
    fn rebuild(&self, attempt: u32) -> RebuildFuture<'_>;
}

/// A response whose status was checked and whose body is still on the wire.
pub struct Response {
    pub status: u16,
    /// The status line's reason phrase, as the upstream worded it.
    pub reason: String,
    /// As the server sent them (`content-encoding` and `content-length` included), as httpx
    /// reports them to LiteLLM.
    pub headers: Vec<(String, String)>,
    pub inner: reqwest::Response,
    pub timeout: Option<Duration>,
    /// Set while a compressed body is being decoded.
    decoder: Option<Decoder>,
}

impl Client {
    /// A pooled client for one TLS setting. Proxies come from `HTTP(S)_PROXY`, `ALL_PROXY`
    /// and `NO_PROXY` (either case), read once here as httpx reads them when LiteLLM builds
    /// its client.
    pub fn new(tls: &Tls) -> Result<Self, CoreError> {
        // Several crates may race to set the process default; any provider is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let builder = match tls {
            Tls::System => reqwest::Client::builder(),
            Tls::Off => reqwest::Client::builder().tls_danger_accept_invalid_certs(true),
            Tls::CaFile(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    CoreError::connection(format!("cannot read the CA bundle {path:?}: {e}"))
                })?;
                let certs = reqwest::Certificate::from_pem_bundle(&pem)
                    .ok()
                    .filter(|c| !c.is_empty())
                    .ok_or_else(|| {
                        CoreError::connection(format!(
                            "the CA bundle {path:?} holds no PEM certificate"
                        ))
                    })?;
                reqwest::Client::builder().tls_certs_only(certs)
            }
        };
        // reqwest's own environment reader differs from httpx's; ours follows httpx.
        let mut builder = builder.no_proxy();
        for proxy in EnvProxies::from_env().to_reqwest() {
            builder = builder.proxy(proxy);
        }
        // HTTP/1.1 keep-alive, as httpx (LiteLLM's client) speaks to the same upstreams.
        let inner = builder
            .http1_only()
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(1024)
            .tcp_nodelay(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("edgequake-litellm/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                CoreError::connection(format!("cannot build the HTTP client: {}", describe(&e)))
            })?;
        Ok(Client { inner })
    }

    /// Send the request and wait for the response head, retrying as the OpenAI SDK does
    /// (connection errors, timeouts, 408/409/429/5xx; `x-should-retry` and `retry-after`
    /// honoured) so a flaky upstream gives the same outcome as LiteLLM's native path.
    pub async fn send(&self, req: HttpRequest) -> Result<Response, CoreError> {
        self.send_rebuilt(req, None).await
    }

    /// `send`, with each retry's request built anew by `rebuild` after the wait, as the
    /// OpenAI SDK builds every attempt (its auth may differ per attempt: a token provider).
    pub async fn send_rebuilt(
        &self,
        mut req: HttpRequest,
        rebuild: Option<&dyn Rebuild>,
    ) -> Result<Response, CoreError> {
        let mut attempt = 0u32;
        loop {
            match self.send_once(&req, attempt).await {
                Err(e) if attempt < req.max_retries && should_retry(&e) => {
                    tokio::time::sleep(retry_delay(&e, attempt, req.max_retries)).await;
                    attempt += 1;
                    if let Some(rebuild) = rebuild {
                        let next = rebuild.rebuild(attempt).await?;
                        req.url = next.url;
                        req.headers = next.headers;
                        req.body = next.body;
                    }
                }
                other => return other,
            }
        }
    }

    /// One attempt. An HTTP error status is read in full and returned as
    /// `ErrorKind::Status` with the upstream headers and body.
    async fn send_once(&self, req: &HttpRequest, attempt: u32) -> Result<Response, CoreError> {
        let mut headers = HeaderMap::with_capacity(req.headers.len() + 3);
        for (k, v) in &req.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| CoreError::invalid(format!("invalid header name: {k:?}")))?;
            let mut value = if name == ACCEPT_ENCODING && !req.raw {
                accept_encoding(v)
            } else {
                HeaderValue::from_str(v)
                    .map_err(|_| CoreError::invalid(format!("invalid value for header {k:?}")))?
            };
            if is_secret_header(k) {
                value.set_sensitive(true);
            }
            headers.insert(name, value);
        }
        if let Some(name) = &req.retry_count_header {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| CoreError::invalid(format!("invalid header name: {name:?}")))?;
            headers.insert(name, HeaderValue::from(attempt));
        }
        headers
            .entry(reqwest::header::CONTENT_TYPE)
            .or_insert(HeaderValue::from_static("application/json"));
        if !req.raw {
            // The core decodes what it asks for (the real APIs compress JSON); a raw exchange
            // passes the caller's own Accept-Encoding on, for its client to decode.
            headers
                .entry(ACCEPT_ENCODING)
                .or_insert(HeaderValue::from_static(DECODED_CODINGS));
        }
        let mut url = reqwest::Url::parse(&req.url)
            .map_err(|e| CoreError::invalid(format!("invalid api_base URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(CoreError::invalid(format!(
                "unsupported URL scheme {:?}: api_base must be http(s)",
                url.scheme()
            )));
        }
        let mut method = reqwest::Method::POST;
        let mut body = Some(req.body.clone());
        // Redirects are followed here rather than by reqwest, so that every credential
        // header (not only `Authorization`) is dropped before another origin sees it.
        for hop in 0..=MAX_REDIRECTS {
            let mut builder = self
                .inner
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(b) = &body {
                builder = builder.body(b.clone());
            }
            let resp = with_timeout(
                req.timeout,
                builder.send(),
                "waiting for the response headers",
            )
            .await?
            .map_err(classify)?;
            let status = resp.status().as_u16();
            if let Some(next) = redirect_location(&resp, &url)? {
                if hop == MAX_REDIRECTS {
                    return Err(CoreError::connection("Exceeded maximum allowed redirects."));
                }
                // Read the (small) redirect body so its connection goes back to the pool.
                let _ = read_all(resp, req.timeout, 64 * 1024).await;
                if !same_origin(&url, &next) {
                    let secret: Vec<HeaderName> = headers
                        .keys()
                        .filter(|k| is_secret_header(k.as_str()) || *k == COOKIE)
                        .cloned()
                        .collect();
                    for name in secret {
                        headers.remove(name);
                    }
                }
                let rewritten = redirect_method(status, &method);
                if rewritten != method && rewritten == reqwest::Method::GET {
                    body = None;
                }
                method = rewritten;
                url = next;
                continue;
            }
            let headers = header_pairs(resp.headers());
            let reason = reason_phrase(&resp);
            let decoder = if req.raw {
                None
            } else {
                Decoder::for_headers(resp.headers())
            };
            // A raw exchange hands an error status back as an answer, body as sent.
            if status >= 400 && !req.raw {
                let mut body = read_all(resp, req.timeout, MAX_BODY_BYTES).await?;
                if let Some(decoder) = decoder {
                    body = decoder.decode_all(&body, MAX_BODY_BYTES)?;
                }
                let mut err =
                    CoreError::status(status, headers, String::from_utf8_lossy(&body).into_owned());
                err.reason = Some(reason);
                return Err(err);
            }
            return Ok(Response {
                status,
                reason,
                headers,
                inner: resp,
                timeout: req.timeout,
                decoder,
            });
        }
        unreachable!("the last hop returns")
    }
}

impl Response {
    /// The whole body, decoded.
    pub async fn bytes(self) -> Result<Bytes, CoreError> {
        let body = read_all(self.inner, self.timeout, MAX_BODY_BYTES).await?;
        match self.decoder {
            Some(decoder) => decoder.decode_all(&body, MAX_BODY_BYTES),
            None => Ok(body),
        }
    }

    /// The next decoded piece of the body; `None` at its end. Each read may take up to the
    /// timeout.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, CoreError> {
        loop {
            let piece = with_timeout(
                self.timeout,
                self.inner.chunk(),
                "reading the response body",
            )
            .await?
            .map_err(classify)?;
            let Some(decoder) = self.decoder.as_mut() else {
                return Ok(piece);
            };
            let out = match piece {
                Some(b) => decoder.feed(&b)?,
                None => {
                    let out = decoder.finish()?;
                    self.decoder = None;
                    if out.is_empty() {
                        return Ok(None);
                    }
                    out
                }
            };
            // A piece may complete no decoded byte yet: read on.
            if !out.is_empty() {
                return Ok(Some(Bytes::from(out)));
            }
        }
    }
}

async fn read_all(
    mut resp: reqwest::Response,
    timeout: Option<Duration>,
    limit: usize,
) -> Result<Bytes, CoreError> {
    let hint = resp.content_length().unwrap_or(0) as usize;
    if hint > limit {
        return Err(too_large(limit));
    }
    // Most bodies arrive as one piece: keep it without copying until a second one shows up.
    let mut first: Option<Bytes> = None;
    let mut buf = BytesMut::new();
    let mut total = 0usize;
    loop {
        let next = with_timeout(timeout, resp.chunk(), "reading the response body")
            .await?
            .map_err(classify)?;
        let Some(piece) = next else {
            return Ok(first.unwrap_or_else(|| buf.freeze()));
        };
        total += piece.len();
        if total > limit {
            return Err(too_large(limit));
        }
        if first.is_none() && buf.is_empty() {
            first = Some(piece);
        } else {
            if let Some(f) = first.take() {
                buf.reserve(hint.max(total));
                buf.extend_from_slice(&f);
            }
            buf.extend_from_slice(&piece);
        }
    }
}

/// A requested `Accept-Encoding` reduced to the codings the client decodes (httpx also asks
/// for `br`/`zstd` when their Python packages are installed): a reply the core cannot
/// decode is never invited. `identity` when nothing is left.
fn accept_encoding(requested: &str) -> HeaderValue {
    let kept: Vec<&str> = requested
        .split(',')
        .map(str::trim)
        .filter(|item| {
            let coding = item.split(';').next().unwrap_or("").trim();
            ["gzip", "deflate", "identity"]
                .iter()
                .any(|c| coding.eq_ignore_ascii_case(c))
        })
        .collect();
    if kept.is_empty() {
        return HeaderValue::from_static("identity");
    }
    HeaderValue::from_str(&kept.join(", ")).unwrap_or(HeaderValue::from_static(DECODED_CODINGS))
}

fn too_large(limit: usize) -> CoreError {
    CoreError::new(
        ErrorKind::TooLarge,
        format!("response body exceeds the limit of {limit} bytes"),
    )
}

async fn with_timeout<T>(
    timeout: Option<Duration>,
    fut: impl std::future::Future<Output = T>,
    what: &str,
) -> Result<T, CoreError> {
    match timeout {
        None => Ok(fut.await),
        Some(d) => tokio::time::timeout(d, fut).await.map_err(|_| {
            CoreError::timeout(format!(
                "Request timed out after {:.3} seconds {what}",
                d.as_secs_f64()
            ))
        }),
    }
}

fn header<'a>(e: &'a CoreError, name: &str) -> Option<&'a str> {
    e.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn should_retry(e: &CoreError) -> bool {
    match e.kind {
        ErrorKind::Timeout | ErrorKind::Connection => true,
        ErrorKind::Status => match header(e, "x-should-retry") {
            Some("true") => true,
            Some("false") => false,
            _ => matches!(e.status, Some(408 | 409 | 429) | Some(500..)),
        },
        _ => false,
    }
}

/// The OpenAI SDK's schedule: the server's retry-after when it is within 60 s, else
/// 0.5 s doubling up to 8 s, with up to 25% jitter taken off.
fn retry_delay(e: &CoreError, attempt: u32, max_retries: u32) -> Duration {
    let hinted = header(e, "retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|ms| ms / 1000.0)
        .or_else(|| header(e, "retry-after").and_then(|v| v.trim().parse::<f64>().ok()));
    if let Some(secs) = hinted {
        if secs > 0.0 && secs <= 60.0 {
            return Duration::from_secs_f64(secs);
        }
    }
    let retries_left = max_retries.saturating_sub(attempt);
    let n = max_retries.saturating_sub(retries_left) as i32;
    let base = (0.5 * 2f64.powi(n)).min(8.0);
    let jitter = 1.0 - 0.25 * pseudo_random();
    Duration::from_secs_f64(base * jitter)
}

/// Jitter only needs to spread clients apart, not be unpredictable.
fn pseudo_random() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    f64::from(nanos % 1000) / 1000.0
}

/// Map reqwest's error onto our kinds; the URL is stripped because it may carry a key.
fn classify(err: reqwest::Error) -> CoreError {
    let err = err.without_url();
    let text = describe(&err);
    if err.is_timeout() {
        CoreError::timeout(text)
    } else if err.is_builder() {
        CoreError::invalid(text)
    } else {
        CoreError::connection(text)
    }
}

/// The reason phrase the upstream sent (hyper keeps it only when it is not the canonical
/// one), read as httpx reads it: its ASCII characters.
fn reason_phrase(resp: &reqwest::Response) -> String {
    match resp.extensions().get::<hyper::ext::ReasonPhrase>() {
        Some(r) => r
            .as_bytes()
            .iter()
            .filter(|b| b.is_ascii())
            .map(|&b| b as char)
            .collect(),
        None => resp.status().canonical_reason().unwrap_or("").to_owned(),
    }
}

fn header_pairs(map: &HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "api-key" | "x-api-key" | "x-goog-api-key" | "proxy-authorization"
    )
}

/// httpx's `DEFAULT_MAX_REDIRECTS`.
const MAX_REDIRECTS: usize = 20;

/// Where a redirect points, as httpx decides it: a 301/302/303/307/308 with a `Location`.
fn redirect_location(
    resp: &reqwest::Response,
    from: &reqwest::Url,
) -> Result<Option<reqwest::Url>, CoreError> {
    if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = resp.headers().get(reqwest::header::LOCATION) else {
        return Ok(None);
    };
    let next = std::str::from_utf8(location.as_bytes())
        .ok()
        .and_then(|l| from.join(l).ok())
        .ok_or_else(|| CoreError::connection("redirect to an invalid URL"))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(CoreError::connection(format!(
            "redirect to unsupported URL scheme {:?}",
            next.scheme()
        )));
    }
    Ok(Some(next))
}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// httpx's `_redirect_method`: 303 (and 302) become GET, 301 turns POST into GET,
/// 307/308 keep the method (and body).
fn redirect_method(status: u16, method: &reqwest::Method) -> reqwest::Method {
    let head = method == reqwest::Method::HEAD;
    match status {
        302 | 303 if !head => reqwest::Method::GET,
        301 if method == reqwest::Method::POST => reqwest::Method::GET,
        _ => method.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, headers: &[(&str, &str)]) -> CoreError {
        CoreError::status(
            code,
            headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            String::new(),
        )
    }

    #[test]
    fn retries_the_statuses_the_sdk_retries() {
        for code in [408, 409, 429, 500, 502, 503, 504, 529] {
            assert!(should_retry(&status(code, &[])), "{code}");
        }
        for code in [400, 401, 403, 404, 422] {
            assert!(!should_retry(&status(code, &[])), "{code}");
        }
        assert!(should_retry(&CoreError::timeout("t")));
        assert!(should_retry(&CoreError::connection("c")));
        assert!(!should_retry(&CoreError::invalid("i")));
    }

    #[test]
    fn x_should_retry_overrides() {
        assert!(!should_retry(&status(500, &[("x-should-retry", "false")])));
        assert!(should_retry(&status(400, &[("x-should-retry", "true")])));
    }

    #[test]
    fn retry_after_is_honoured_within_60s() {
        let e = status(429, &[("retry-after", "3")]);
        assert_eq!(retry_delay(&e, 0, 2), Duration::from_secs(3));
        let e = status(429, &[("retry-after-ms", "250")]);
        assert_eq!(retry_delay(&e, 0, 2), Duration::from_millis(250));
        // Beyond 60 s the SDK ignores the hint and backs off: 0.5 s * jitter on the first retry.
        let d = retry_delay(&status(429, &[("retry-after", "600")]), 0, 2);
        assert!(
            d <= Duration::from_millis(500) && d >= Duration::from_millis(375),
            "{d:?}"
        );
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let e = status(500, &[]);
        let second = retry_delay(&e, 1, 10);
        assert!(second <= Duration::from_secs(1) && second >= Duration::from_millis(750));
        let late = retry_delay(&e, 9, 10);
        assert!(late <= Duration::from_secs(8) && late >= Duration::from_secs(6));
    }

    #[test]
    fn redirect_methods_follow_httpx() {
        use reqwest::Method;
        for (status, from, to) in [
            (301, Method::POST, Method::GET),
            (301, Method::GET, Method::GET),
            (302, Method::POST, Method::GET),
            (303, Method::POST, Method::GET),
            (303, Method::HEAD, Method::HEAD),
            (307, Method::POST, Method::POST),
            (308, Method::POST, Method::POST),
        ] {
            assert_eq!(redirect_method(status, &from), to, "{status} {from}");
        }
    }

    #[test]
    fn origins_differ_by_scheme_host_or_port() {
        let u = |s: &str| reqwest::Url::parse(s).unwrap();
        assert!(same_origin(&u("http://a:80/x"), &u("http://a/y")));
        assert!(!same_origin(
            &u("http://127.0.0.1:1/"),
            &u("http://localhost:1/")
        ));
        assert!(!same_origin(&u("http://a:1/"), &u("http://a:2/")));
        assert!(!same_origin(&u("http://a/"), &u("https://a/")));
    }

    /// A one-shot HTTP/1.1 server on 127.0.0.1 answering every connection with `response`.
    async fn serve(response: Vec<u8>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let response = response.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let _ = sock.read(&mut buf).await;
                    let _ = sock.write_all(&response).await;
                });
            }
        });
        format!("http://{addr}/v1/chat/completions")
    }

    async fn body_with_limit(response: Vec<u8>, limit: usize) -> Result<Bytes, CoreError> {
        let url = serve(response).await;
        let client = Client::new(&Tls::System).unwrap();
        let req = HttpRequest {
            url,
            headers: Vec::new(),
            body: Bytes::from_static(b"{}"),
            timeout: Some(Duration::from_secs(5)),
            max_retries: 0,
            retry_count_header: None,
            raw: false,
        };
        let resp = client.send(req).await?;
        read_all(resp.inner, resp.timeout, limit).await
    }

    #[tokio::test]
    async fn body_over_the_limit_is_refused_declared_or_chunked() {
        let declared = b"HTTP/1.1 200 OK\r\ncontent-length: 2048\r\n\r\n".to_vec();
        let mut full = declared.clone();
        full.extend(std::iter::repeat_n(b'x', 2048));
        let err = body_with_limit(full.clone(), 1024).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooLarge);
        assert!(err.message.contains("1024 bytes"), "{}", err.message);

        let mut chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for _ in 0..4 {
            chunked.extend_from_slice(b"200\r\n");
            chunked.extend(std::iter::repeat_n(b'y', 512));
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        let err = body_with_limit(chunked.clone(), 1024).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::TooLarge);
        // Within the limit both arrive whole.
        assert_eq!(body_with_limit(full, 4096).await.unwrap().len(), 2048);
        assert_eq!(body_with_limit(chunked, 4096).await.unwrap().len(), 2048);
    }

    /// A server answering its connections' requests with `responses` in turn, keeping
    /// each request's text (head and body, read in one piece: small requests).
    async fn serve_in_turn(
        responses: Vec<&'static [u8]>,
    ) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = seen.clone();
        tokio::spawn(async move {
            let mut next = responses.into_iter();
            while let Ok((mut sock, _)) = listener.accept().await {
                let Some(response) = next.next() else { return };
                let mut buf = vec![0u8; 65536];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let _ = sock.write_all(response).await;
            }
        });
        (format!("http://{addr}/first"), seen)
    }

    /// Rebuilds attempt n as `/retry-n` with an `authorization: token-n` header, or fails.
    struct Counting {
        calls: std::sync::Mutex<Vec<u32>>,
        fail: bool,
        base: String,
    }

    impl Rebuild for Counting {
        fn rebuild(&self, attempt: u32) -> RebuildFuture<'_> {
            self.calls.lock().unwrap().push(attempt);
            let out = if self.fail {
                Err(CoreError::invalid("provider failed"))
            } else {
                Ok(Rebuilt {
                    url: format!("{}/retry-{attempt}", self.base),
                    headers: vec![("authorization".into(), format!("token-{attempt}"))],
                    body: Bytes::from(format!("body-{attempt}")),
                })
            };
            Box::pin(async move { out })
        }
    }

    const BUSY: &[u8] =
        b"HTTP/1.1 503 Busy\r\nretry-after-ms: 1\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
    const OK: &[u8] = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}";

    fn first_request(url: String) -> HttpRequest {
        HttpRequest {
            url,
            headers: vec![("authorization".into(), "token-0".into())],
            body: Bytes::from_static(b"body-0"),
            timeout: Some(Duration::from_secs(5)),
            max_retries: 2,
            retry_count_header: Some("x-stainless-retry-count".into()),
            raw: false,
        }
    }

    #[tokio::test]
    async fn each_retry_sends_the_rebuilt_request() {
        let (url, seen) = serve_in_turn(vec![BUSY, BUSY, OK]).await;
        let base = url.trim_end_matches("/first").to_owned();
        let rebuild = Counting {
            calls: Default::default(),
            fail: false,
            base,
        };
        let client = Client::new(&Tls::System).unwrap();
        let resp = client
            .send_rebuilt(first_request(url), Some(&rebuild))
            .await
            .unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(*rebuild.calls.lock().unwrap(), vec![1, 2]);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 3);
        for (n, req) in seen.iter().enumerate() {
            let path = if n == 0 {
                "/first".to_owned()
            } else {
                format!("/retry-{n}")
            };
            assert!(req.starts_with(&format!("POST {path} ")), "{req}");
            assert!(
                req.contains(&format!("authorization: token-{n}\r\n")),
                "{req}"
            );
            assert!(
                req.contains(&format!("x-stainless-retry-count: {n}\r\n")),
                "{req}"
            );
            assert!(req.ends_with(&format!("body-{n}")), "{req}");
        }
    }

    #[tokio::test]
    async fn a_failing_rebuild_ends_the_retries_with_its_error() {
        let (url, seen) = serve_in_turn(vec![BUSY, OK]).await;
        let rebuild = Counting {
            calls: Default::default(),
            fail: true,
            base: String::new(),
        };
        let client = Client::new(&Tls::System).unwrap();
        let err = client
            .send_rebuilt(first_request(url), Some(&rebuild))
            .await
            .err()
            .unwrap();
        assert_eq!(err.message, "provider failed");
        assert_eq!(*rebuild.calls.lock().unwrap(), vec![1]);
        assert_eq!(seen.lock().unwrap().len(), 1);
    }

    #[test]
    fn accept_encoding_keeps_what_the_client_decodes() {
        for (requested, sent) in [
            ("gzip, deflate", "gzip, deflate"),
            ("gzip, deflate, br, zstd", "gzip, deflate"),
            ("br;q=1.0, gzip;q=0.5", "gzip;q=0.5"),
            ("IDENTITY", "IDENTITY"),
            ("br", "identity"),
            ("", "identity"),
        ] {
            assert_eq!(accept_encoding(requested), sent, "{requested}");
        }
    }

    #[test]
    fn secret_headers_are_recognised() {
        assert!(is_secret_header("Authorization"));
        assert!(is_secret_header("api-key"));
        assert!(!is_secret_header("x-request-id"));
    }
}
