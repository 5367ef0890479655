//! One stream class for both `for` and `async for`. A task on the runtime reads the body,
//! frames SSE and hands over every event already parsed, so a chunk reaches Python as soon
//! as it arrives. Dropping or closing the stream aborts the task, which closes the
//! connection.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tokio::sync::mpsc;

use super::calls::headers_dict;
use super::errors::{guard, to_pyerr};
use super::json::parse;
use crate::errors::{CoreError, ErrorKind};
use crate::runtime::{block_on, core, into_awaitable};
use crate::sse::SseParser;
use crate::transport::Response;

enum Msg {
    Events(Vec<String>),
    Error(CoreError),
    End,
}

/// What the reader hands over per wake-up: parsed event payloads, then the end or an error.
struct Batch {
    events: Vec<String>,
    tail: Option<Msg>,
}

type Shared = Arc<tokio::sync::Mutex<Receiver>>;

struct Receiver {
    rx: mpsc::Receiver<Msg>,
    /// A terminal message seen while draining, delivered on the next call.
    pending: Option<Msg>,
    finished: bool,
}

impl Receiver {
    /// Wait for at least one message, then take every message already queued.
    async fn next_batch(&mut self) -> Option<Batch> {
        if self.finished {
            return None;
        }
        if let Some(m) = self.pending.take() {
            self.finished = true;
            return Some(Batch {
                events: Vec::new(),
                tail: Some(m),
            });
        }
        let first = self
            .rx
            .recv()
            .await
            .unwrap_or_else(|| Msg::Error(CoreError::new(ErrorKind::Internal, "stream reader stopped unexpectedly")));
        let mut events = match first {
            Msg::Events(ev) => ev,
            other => {
                self.finished = true;
                return Some(Batch {
                    events: Vec::new(),
                    tail: Some(other),
                });
            }
        };
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Msg::Events(more) => events.extend(more),
                other => {
                    self.pending = Some(other);
                    break;
                }
            }
        }
        Some(Batch { events, tail: None })
    }
}

#[pyclass(module = "edgequake_litellm._core", frozen)]
pub struct ChatStream {
    receiver: Shared,
    task: Mutex<Option<tokio::task::AbortHandle>>,
    #[pyo3(get)]
    status: u16,
    headers: Vec<(String, String)>,
}

impl ChatStream {
    pub fn start(resp: Response) -> ChatStream {
        let (tx, rx) = mpsc::channel(64);
        let status = resp.status;
        let headers = resp.headers.clone();
        let handle = core().runtime.spawn(pump(resp, tx));
        ChatStream {
            receiver: Arc::new(tokio::sync::Mutex::new(Receiver {
                rx,
                pending: None,
                finished: false,
            })),
            task: Mutex::new(Some(handle.abort_handle())),
            status,
            headers,
        }
    }

    fn abort(&self) {
        if let Ok(mut t) = self.task.lock() {
            if let Some(h) = t.take() {
                h.abort();
            }
        }
    }
}

/// Turn a batch into the Python list of parsed chunks, or the end/error it carries.
fn deliver(py: Python<'_>, batch: Option<Batch>) -> PyResult<Option<Bound<'_, PyList>>> {
    let Some(batch) = batch else {
        return Ok(None);
    };
    if batch.events.is_empty() {
        return match batch.tail {
            Some(Msg::Error(e)) => Err(to_pyerr(py, e)),
            _ => Ok(None),
        };
    }
    let list = PyList::empty(py);
    for ev in &batch.events {
        list.append(parse(py, ev.as_bytes()).map_err(|e| to_pyerr(py, e))?)?;
    }
    Ok(Some(list))
}

#[pymethods]
impl ChatStream {
    /// Upstream response headers (lower-case names).
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        headers_dict(py, &self.headers)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next list of parsed chunks (at least one), blocking with the GIL released.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        guard(py, || {
            let receiver = self.receiver.clone();
            let batch = block_on(py, async move { receiver.lock().await.next_batch().await })?;
            let out = deliver(py, batch);
            if !matches!(out, Ok(Some(_))) {
                self.abort();
            }
            out
        })
    }

    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// An awaitable of the next list of parsed chunks; raises StopAsyncIteration at the end.
    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let receiver = self.receiver.clone();
        into_awaitable(py, async move {
            let batch = receiver.lock().await.next_batch().await;
            Ok(AsyncBatch(batch))
        })
    }

    /// Stop reading and close the connection now (also done when the stream is dropped).
    fn close(&self) {
        self.abort();
    }
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        self.abort();
    }
}

struct AsyncBatch(Option<Batch>);

impl<'py> IntoPyObject<'py> for AsyncBatch {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        match deliver(py, self.0)? {
            Some(list) => Ok(list),
            None => Err(PyStopAsyncIteration::new_err(())),
        }
    }
}

/// Read the body, frame SSE, forward payloads. Stops when the consumer goes away.
async fn pump(mut resp: Response, tx: mpsc::Sender<Msg>) {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    loop {
        let next = tokio::select! {
            _ = tx.closed() => return,
            n = resp.chunk() => n,
        };
        let bytes = match next {
            Ok(Some(b)) => b,
            Ok(None) => {
                let msg = if parser.finish() {
                    Msg::Error(CoreError::connection("stream ended in the middle of an event"))
                } else {
                    Msg::End
                };
                let _ = tx.send(msg).await;
                return;
            }
            Err(e) => {
                let _ = tx.send(Msg::Error(e)).await;
                return;
            }
        };
        if let Err(e) = parser.feed(&bytes, &mut events) {
            let _ = tx.send(Msg::Error(CoreError::new(ErrorKind::TooLarge, e.to_string()))).await;
            return;
        }
        let mut done = false;
        let mut payloads = Vec::with_capacity(events.len());
        for ev in events.drain(..) {
            if ev.is_done() {
                done = true;
                break;
            }
            payloads.push(ev.data);
        }
        if !payloads.is_empty() && tx.send(Msg::Events(payloads)).await.is_err() {
            return;
        }
        if done {
            let _ = tx.send(Msg::End).await;
            // Read the rest (normally just the chunked terminator) so the connection goes
            // back to the pool; give up quickly if the server keeps it open.
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                while let Ok(Some(_)) = resp.chunk().await {}
            })
            .await;
            return;
        }
    }
}
