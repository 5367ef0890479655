//! One stream class for both `for` and `async for`. A task on the runtime reads the body,
//! frames SSE and hands over every event already parsed (the first event alone), so a chunk
//! reaches Python as soon as it arrives. Dropping or closing the stream aborts the task, which
//! closes the connection.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use tokio::sync::mpsc;

use super::bridge::{block_on, into_awaitable};
use super::convert::headers_dict;
use super::errors::{guard, to_pyerr};
use super::json::parse;
use crate::errors::{CoreError, ErrorKind};
use crate::providers::Translator;
use crate::runtime::core;
use crate::sse::{SseParser, StreamEnd};
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
    /// Set when the consumer closed the stream: the reader's exit is then expected.
    closed: Arc<AtomicBool>,
    /// Events received but held for the next call, ahead of anything still queued.
    held: Vec<String>,
    /// A batch has been handed over. The first one carries a single event, so the caller's
    /// first chunk is not held up by parsing everything that arrived with it (a server
    /// that writes the whole stream at once: ~0.5 ms for 100 chunks).
    started: bool,
}

impl Receiver {
    /// Wait for at least one message, then take every message already queued.
    async fn next_batch(&mut self) -> Option<Batch> {
        if let Some(batch) = self.take_held() {
            return Some(batch);
        }
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
        let first = match self.rx.recv().await {
            Some(m) => m,
            None if self.closed.load(Ordering::Acquire) => Msg::End,
            // The reader always ends with End or Error; vanishing means it panicked.
            None => Msg::Error(CoreError::new(
                ErrorKind::Internal,
                "stream reader stopped unexpectedly",
            )),
        };
        Some(self.collect(first))
    }

    /// The answer `next_batch` would give if it is there already, without waiting: lets a
    /// sync consumer take queued chunks without releasing and retaking the GIL.
    fn ready_batch(&mut self) -> Option<Option<Batch>> {
        if let Some(batch) = self.take_held() {
            return Some(Some(batch));
        }
        if self.finished || self.pending.is_some() {
            return None; // the async path settles ends and terminal messages
        }
        self.rx
            .try_recv()
            .ok()
            .map(|first| Some(self.collect(first)))
    }

    /// `first` and every message already queued behind it.
    fn collect(&mut self, first: Msg) -> Batch {
        let mut events = match first {
            Msg::Events(ev) => ev,
            other => {
                self.finished = true;
                return Batch {
                    events: Vec::new(),
                    tail: Some(other),
                };
            }
        };
        self.drain_queued(&mut events);
        if !self.started && events.len() > 1 {
            self.held = events.split_off(1);
        }
        self.started = true;
        Batch { events, tail: None }
    }

    /// The held events and every event queued behind them, without waiting.
    fn take_held(&mut self) -> Option<Batch> {
        if self.held.is_empty() {
            return None;
        }
        let mut events = std::mem::take(&mut self.held);
        if self.pending.is_none() {
            self.drain_queued(&mut events);
        }
        Some(Batch { events, tail: None })
    }

    /// Append every event already queued; a terminal message is kept for the next call.
    fn drain_queued(&mut self, events: &mut Vec<String>) {
        while let Ok(m) = self.rx.try_recv() {
            match m {
                Msg::Events(more) => events.extend(more),
                other => {
                    self.pending = Some(other);
                    break;
                }
            }
        }
    }
}

#[pyclass(module = "edgequake_litellm._core", frozen)]
pub struct ChatStream {
    receiver: Shared,
    task: Mutex<Option<tokio::task::AbortHandle>>,
    closed: Arc<AtomicBool>,
    /// An error met while decoding a batch, raised after the good chunks before it.
    deferred: Deferred,
    /// The upstream ended the stream with `data: [DONE]`.
    done: Arc<AtomicBool>,
    end: StreamEnd,
    #[pyo3(get)]
    status: u16,
    headers: Vec<(String, String)>,
}

impl ChatStream {
    /// `translator` turns a native event stream (Anthropic's, Gemini's) into OpenAI chunks as it is read.
    /// `end` says what an incomplete last event means.
    pub fn start(resp: Response, translator: Option<Translator>, end: StreamEnd) -> ChatStream {
        let (tx, rx) = mpsc::channel(64);
        let status = resp.status;
        let headers = resp.headers.clone();
        let done = Arc::new(AtomicBool::new(false));
        let handle = core()
            .runtime
            .spawn(pump(resp, tx, translator, end, done.clone()));
        let closed = Arc::new(AtomicBool::new(false));
        ChatStream {
            receiver: Arc::new(tokio::sync::Mutex::new(Receiver {
                rx,
                pending: None,
                finished: false,
                closed: closed.clone(),
                held: Vec::new(),
                started: false,
            })),
            task: Mutex::new(Some(handle.abort_handle())),
            closed,
            deferred: Arc::new(Mutex::new(None)),
            done,
            end,
            status,
            headers,
        }
    }

    fn abort(&self) {
        self.closed.store(true, Ordering::Release);
        if let Ok(mut t) = self.task.lock() {
            if let Some(h) = t.take() {
                h.abort();
            }
        }
    }
}

type Deferred = Arc<Mutex<Option<CoreError>>>;

/// Turn a batch into the Python list of parsed chunks, or the end/error it carries. Chunks
/// decoded before a malformed one are delivered first; its error is raised on the next call.
fn deliver<'py>(
    py: Python<'py>,
    batch: Option<Batch>,
    deferred: &Deferred,
) -> PyResult<Option<Bound<'py, PyList>>> {
    if let Some(e) = deferred.lock().ok().and_then(|mut d| d.take()) {
        return Err(to_pyerr(py, e));
    }
    let Some(batch) = batch else {
        return Ok(None);
    };
    let list = PyList::empty(py);
    for ev in &batch.events {
        match parse(py, ev.as_bytes()) {
            Ok(obj) => list.append(obj)?,
            Err(e) if list.is_empty() => return Err(to_pyerr(py, e)),
            Err(e) => {
                if let Ok(mut d) = deferred.lock() {
                    *d = Some(e);
                }
                return Ok(Some(list));
            }
        }
    }
    if !list.is_empty() {
        if let Some(Msg::Error(e)) = batch.tail {
            if let Ok(mut d) = deferred.lock() {
                *d = Some(e);
            }
        }
        return Ok(Some(list));
    }
    match batch.tail {
        Some(Msg::Error(e)) => Err(to_pyerr(py, e)),
        _ => Ok(None),
    }
}

#[pymethods]
impl ChatStream {
    /// Upstream response headers (lower-case names).
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        headers_dict(py, &self.headers)
    }

    /// The stream ended with `data: [DONE]` and its native reader counts that as a finish
    /// (`stop`): LiteLLM's own SSE iterator does (`BaseModelResponseIterator`), the OpenAI
    /// SDK's does not. LiteLLM fails a stream that ends without any finish.
    #[getter]
    fn finished_by_done(&self) -> bool {
        self.end != StreamEnd::LikeOpenAiSdk && self.done.load(Ordering::Acquire)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next list of parsed chunks (at least one), blocking with the GIL released.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyList>>> {
        guard(py, || {
            let receiver = self.receiver.clone();
            if self.closed.load(Ordering::Acquire) {
                return Ok(None);
            }
            let batch = if self.deferred.lock().map(|d| d.is_some()).unwrap_or(false) {
                None
            } else if let Some(ready) = receiver.try_lock().ok().and_then(|mut r| r.ready_batch()) {
                ready
            } else {
                block_on(py, async move { receiver.lock().await.next_batch().await })?
            };
            let out = deliver(py, batch, &self.deferred);
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
        let deferred = self.deferred.clone();
        let pending_error = deferred.lock().map(|d| d.is_some()).unwrap_or(false);
        let closed = self.closed.clone();
        into_awaitable(py, async move {
            if closed.load(Ordering::Acquire) {
                return Ok(AsyncBatch(None, Arc::new(Mutex::new(None))));
            }
            let batch = if pending_error {
                None
            } else {
                receiver.lock().await.next_batch().await
            };
            Ok(AsyncBatch(batch, deferred))
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

struct AsyncBatch(Option<Batch>, Deferred);

impl<'py> IntoPyObject<'py> for AsyncBatch {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        match deliver(py, self.0, &self.1)? {
            Some(list) => Ok(list),
            None => Err(PyStopAsyncIteration::new_err(())),
        }
    }
}

/// Read the body, frame SSE, forward payloads. Stops when the consumer goes away.
async fn pump(
    mut resp: Response,
    tx: mpsc::Sender<Msg>,
    mut translator: Option<Translator>,
    end: StreamEnd,
    done_seen: Arc<AtomicBool>,
) {
    let mut parser = SseParser::for_stream(end);
    let mut events = Vec::new();
    loop {
        let next = tokio::select! {
            _ = tx.closed() => return,
            n = resp.chunk() => n,
        };
        let bytes = match next {
            Ok(Some(b)) => b,
            Ok(None) => {
                let msg = match parser.end(end) {
                    Ok(()) => Msg::End,
                    Err(e) => Msg::Error(CoreError::connection(e)),
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
            let _ = tx
                .send(Msg::Error(CoreError::new(
                    ErrorKind::TooLarge,
                    e.to_string(),
                )))
                .await;
            return;
        }
        let mut done = false;
        let mut payloads = Vec::with_capacity(events.len());
        let mut failed = None;
        for ev in events.drain(..) {
            if ev.ends_stream(end) {
                done_seen.store(true, Ordering::Release);
                done = true;
                break;
            }
            match translator.as_mut() {
                None => match crate::providers::openai::stream_error(&ev.data) {
                    None => payloads.push(ev.data),
                    Some(e) => {
                        failed = Some(e);
                        break;
                    }
                },
                Some(t) => match t.event(&ev.data) {
                    Ok(chunks) => payloads.extend(chunks.iter().map(|c| c.to_string())),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                },
            }
        }
        if let Some(e) = failed {
            if !payloads.is_empty() {
                let _ = tx.send(Msg::Events(payloads)).await;
            }
            let _ = tx.send(Msg::Error(e)).await;
            return;
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
