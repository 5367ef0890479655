//! Raw exchanges for LiteLLM's own httpx clients (transparent mode's generic tier): the
//! request LiteLLM built goes out as is, and the status, headers and body bytes come back
//! unparsed for LiteLLM's provider transforms. No retries here: LiteLLM's handler makes one
//! attempt per call, and its own retry layers sit above it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple};

use super::bridge::{block_on, client_for, into_awaitable};
use super::convert::{timeout, Keywords};
use super::errors::{guard, to_pyerr};
use crate::errors::CoreError;
use crate::transport::{Client, HttpRequest, Response};

/// `(status, [(name, value)], body)`: `body` is `bytes`, or a `ByteStream` when streaming.
enum RawReply {
    Full(u16, Vec<(String, String)>, Bytes),
    Streaming(u16, Vec<(String, String)>, ByteStream),
}

impl<'py> IntoPyObject<'py> for RawReply {
    type Target = PyTuple;
    type Output = Bound<'py, PyTuple>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let (status, headers, body) = match self {
            RawReply::Full(s, h, b) => (s, h, PyBytes::new(py, &b).into_any()),
            RawReply::Streaming(s, h, st) => (s, h, Bound::new(py, st)?.into_any()),
        };
        PyTuple::new(
            py,
            [
                status.into_pyobject(py)?.into_any(),
                headers.into_pyobject(py)?.into_any(),
                body,
            ],
        )
    }
}

/// The keyword-only parameters of `send` / `asend`, in declaration order.
const SEND_KEYWORDS: &[&str; 3] = &["timeout", "stream", "ssl_verify"];

/// The keyword arguments of `send` / `asend` (see `_core.pyi`).
struct SendOptions<'py> {
    timeout: Option<f64>,
    stream: bool,
    ssl_verify: Option<Bound<'py, PyAny>>,
}

impl<'py> SendOptions<'py> {
    fn extract(function: &str, kwargs: Option<&Bound<'py, PyDict>>) -> PyResult<Self> {
        let mut k = Keywords::new(function, SEND_KEYWORDS, kwargs)?;
        Ok(SendOptions {
            timeout: k.take::<Option<f64>>(0)?.flatten(),
            stream: k.take::<bool>(1)?.unwrap_or(false),
            ssl_verify: k.take::<Option<Bound<'py, PyAny>>>(2)?.flatten(),
        })
    }
}

/// What `send` and `asend` share: the request as LiteLLM built it, the client for the call's
/// TLS setting, and whether the body is streamed.
fn prepare_send(
    py: Python<'_>,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    opts: SendOptions<'_>,
) -> PyResult<(Client, HttpRequest, bool)> {
    if method != "POST" {
        return Err(to_pyerr(
            py,
            CoreError::invalid(format!("only POST is served, not {method}")),
        ));
    }
    let req = HttpRequest {
        url,
        headers,
        body: Bytes::from(body),
        timeout: timeout(py, opts.timeout, "number")?,
        max_retries: 0,
        retry_count_header: None,
        raw: true,
    };
    Ok((client_for(py, opts.ssl_verify.as_ref())?, req, opts.stream))
}

async fn exchange(client: Client, req: HttpRequest, stream: bool) -> Result<RawReply, CoreError> {
    match client.send(req).await {
        Ok(resp) if stream && resp.status < 400 => Ok(RawReply::Streaming(
            resp.status,
            resp.headers.clone(),
            ByteStream::new(resp),
        )),
        Ok(resp) => {
            let (status, headers) = (resp.status, resp.headers.clone());
            Ok(RawReply::Full(status, headers, resp.bytes().await?))
        }
        // An HTTP error status is an answer here (the transport returns it as one, read in
        // full): LiteLLM's client raises for it itself.
        Err(e) => Err(e),
    }
}

/// One exchange with the GIL released.
#[pyfunction]
#[pyo3(signature = (method, url, headers, body, **opts))]
#[pyo3(
    text_signature = "(method, url, headers, body, *, timeout=None, stream=False, ssl_verify=None)"
)]
pub fn send<'py>(
    py: Python<'py>,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    opts: Option<Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = SendOptions::extract("send", opts.as_ref())?;
    guard(py, || {
        let (client, req, stream) = prepare_send(py, method, url, headers, body, opts)?;
        let reply = block_on(py, exchange(client, req, stream))?.map_err(|e| to_pyerr(py, e))?;
        Ok(reply.into_pyobject(py)?.into_any())
    })
}

/// `send` as an asyncio awaitable; cancelling it drops the request and its connection.
#[pyfunction]
#[pyo3(signature = (method, url, headers, body, **opts))]
#[pyo3(
    text_signature = "(method, url, headers, body, *, timeout=None, stream=False, ssl_verify=None)"
)]
pub fn asend<'py>(
    py: Python<'py>,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    opts: Option<Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = SendOptions::extract("asend", opts.as_ref())?;
    guard(py, || {
        let (client, req, stream) = prepare_send(py, method, url, headers, body, opts)?;
        into_awaitable(py, async move {
            exchange(client, req, stream).await.map_err(PyErr::from)
        })
    })
}

type Body = Arc<tokio::sync::Mutex<Option<Response>>>;

/// A response body still on the wire: `bytes` pieces for `for` and `async for`.
#[pyclass(module = "edgequake_litellm._core", frozen)]
pub struct ByteStream {
    body: Body,
    closed: Arc<AtomicBool>,
}

impl ByteStream {
    fn new(resp: Response) -> ByteStream {
        ByteStream {
            body: Arc::new(tokio::sync::Mutex::new(Some(resp))),
            closed: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// The next piece, or None at the end; the response is dropped (its connection released or
/// closed) at the end, on error, or once the consumer closed the stream.
async fn next_piece(body: Body, closed: Arc<AtomicBool>) -> Result<Option<Bytes>, CoreError> {
    let mut slot = body.lock().await;
    if closed.load(Ordering::Acquire) {
        *slot = None;
    }
    let Some(resp) = slot.as_mut() else {
        return Ok(None);
    };
    let piece = resp.chunk().await;
    if !matches!(piece, Ok(Some(_))) || closed.load(Ordering::Acquire) {
        *slot = None;
    }
    piece
}

struct Piece(Option<Bytes>);

impl<'py> IntoPyObject<'py> for Piece {
    type Target = PyBytes;
    type Output = Bound<'py, PyBytes>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        match self.0 {
            Some(b) => Ok(PyBytes::new(py, &b)),
            None => Err(PyStopAsyncIteration::new_err(())),
        }
    }
}

#[pymethods]
impl ByteStream {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        guard(py, || {
            let piece = block_on(py, next_piece(self.body.clone(), self.closed.clone()))?
                .map_err(|e| to_pyerr(py, e))?;
            Ok(piece.map(|b| PyBytes::new(py, &b)))
        })
    }

    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let (body, closed) = (self.body.clone(), self.closed.clone());
        into_awaitable(py, async move {
            next_piece(body, closed)
                .await
                .map(Piece)
                .map_err(PyErr::from)
        })
    }

    /// Stop reading and release the connection (also done when the stream is dropped).
    fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // A read in flight drops the response itself when it sees the flag.
        if let Ok(mut slot) = self.body.try_lock() {
            *slot = None;
        }
    }
}
