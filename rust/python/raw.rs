//! Raw exchanges for LiteLLM's own httpx clients (transparent mode's generic tier): the
//! request LiteLLM built goes out as is, and the status, headers and body bytes come back
//! unparsed for LiteLLM's provider transforms. No retries here: LiteLLM's handler makes one
//! attempt per call, and its own retry layers sit above it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use super::calls::client_for;
use super::errors::{guard, to_pyerr};
use crate::awaitable::into_awaitable;
use crate::errors::CoreError;
use crate::runtime::block_on;
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

fn raw_request(
    py: Python<'_>,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<f64>,
) -> PyResult<HttpRequest> {
    if method != "POST" {
        return Err(to_pyerr(
            py,
            CoreError::invalid(format!("only POST is served, not {method}")),
        ));
    }
    let timeout = match timeout {
        None => None,
        Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
        Some(t) => {
            return Err(to_pyerr(
                py,
                CoreError::invalid(format!("timeout must be a positive number, got {t}")),
            ))
        }
    };
    Ok(HttpRequest {
        url,
        headers,
        body: Bytes::from(body),
        timeout,
        max_retries: 0,
        retry_count_header: None,
        raw: true,
    })
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
#[pyo3(signature = (method, url, headers, body, *, timeout=None, stream=false, ssl_verify=None))]
#[allow(clippy::too_many_arguments)]
pub fn send<'py>(
    py: Python<'py>,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<f64>,
    stream: bool,
    ssl_verify: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let req = raw_request(py, method, url, headers, body, timeout)?;
        let client = client_for(py, ssl_verify.as_ref())?;
        let reply = block_on(py, exchange(client, req, stream))?.map_err(|e| to_pyerr(py, e))?;
        Ok(reply.into_pyobject(py)?.into_any())
    })
}

/// `send` as an asyncio awaitable; cancelling it drops the request and its connection.
#[pyfunction]
#[pyo3(signature = (method, url, headers, body, *, timeout=None, stream=false, ssl_verify=None))]
#[allow(clippy::too_many_arguments)]
pub fn asend<'py>(
    py: Python<'py>,
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    timeout: Option<f64>,
    stream: bool,
    ssl_verify: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(py, || {
        let req = raw_request(py, method, url, headers, body, timeout)?;
        let client = client_for(py, ssl_verify.as_ref())?;
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
