//! A retry's request built by the Python client that built the first one (`rebuild=` of
//! `request` / `arequest`): the OpenAI SDK prepares every attempt anew, so a token provider
//! is asked again on each retry. The core keeps the retry policy; before each retry attempt
//! it calls the callable, with the GIL taken only for that call, and sends what it returns.
//! An exception the callable raises is kept and re-raised as is, in place of the core's error.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use tokio::sync::oneshot;

use super::bridge::python_alive;
use crate::errors::{CoreError, ErrorKind};
use crate::runtime::core;
use crate::transport::{Rebuild, RebuildFuture, Rebuilt};

/// The caller's `rebuild(attempt)`: returns `(url, headers, content)` (sync calls), or a
/// `concurrent.futures.Future` of it (async calls: the Python side runs the SDK's async
/// preparation on the caller's event loop).
pub struct PyRebuild {
    callable: Arc<Py<PyAny>>,
    /// Whether the call returns a future: `arequest`, whose runtime task must not take the
    /// GIL on a worker thread.
    deferred: bool,
    raised: Mutex<Option<PyErr>>,
}

impl PyRebuild {
    pub fn new(callable: Bound<'_, PyAny>, deferred: bool) -> Self {
        PyRebuild {
            callable: Arc::new(callable.unbind()),
            deferred,
            raised: Mutex::new(None),
        }
    }

    /// What the callable raised, if the call failed there (the core's error otherwise).
    pub fn failure(&self, err: CoreError) -> PyErr {
        self.raised
            .lock()
            .ok()
            .and_then(|mut r| r.take())
            .unwrap_or_else(|| PyErr::from(err))
    }

    fn keep(&self, err: PyErr) -> CoreError {
        if let Ok(mut r) = self.raised.lock() {
            *r = Some(err);
        }
        CoreError::invalid("the request's rebuild for a retry raised")
    }

    /// Sync calls: on the caller's thread (inside `block_on`, the GIL released), as the SDK
    /// prepares each attempt on it.
    fn call_now(&self, attempt: u32) -> Result<Rebuilt, CoreError> {
        Python::attach(|py| {
            self.callable
                .bind(py)
                .call1((attempt,))
                .and_then(|r| rebuilt(&r))
        })
        .map_err(|e| self.keep(e))
    }

    /// Async calls: the callable schedules the work on the caller's loop and returns its
    /// future, whose result comes back through a done callback. Dropped before it ends (the
    /// caller's task cancelled), the work is cancelled, as the SDK's awaited preparation is.
    async fn call_deferred(&self, attempt: u32) -> Result<Rebuilt, CoreError> {
        if !python_alive() {
            return Err(CoreError::new(
                ErrorKind::Internal,
                "rebuild: Python is exiting",
            ));
        }
        let callable = Arc::clone(&self.callable);
        let (tx, rx) = oneshot::channel();
        let started = core().runtime.spawn_blocking(move || {
            Python::attach(|py| -> PyResult<Py<PyAny>> {
                let future = callable.bind(py).call1((attempt,))?;
                future.call_method1(
                    intern!(py, "add_done_callback"),
                    (Delivered(Mutex::new(Some(tx))),),
                )?;
                drop(callable);
                Ok(future.unbind())
            })
        });
        let pending = match started.await {
            Ok(Ok(future)) => Pending(Some(future)),
            Ok(Err(e)) => return Err(self.keep(e)),
            Err(join) => {
                return Err(CoreError::new(
                    ErrorKind::Internal,
                    format!("rebuild: {join}"),
                ))
            }
        };
        let out = match rx.await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(self.keep(e)),
            Err(_) => Err(CoreError::new(
                ErrorKind::Internal,
                "rebuild: the future was dropped",
            )),
        };
        pending.finished();
        out
    }
}

/// A deferred rebuild's `concurrent.futures.Future` while it is awaited: cancelled if the
/// wait is dropped (which cancels its task on the caller's loop).
struct Pending(Option<Py<PyAny>>);

impl Pending {
    fn finished(mut self) {
        self.0 = None;
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        let Some(future) = self.0.take() else { return };
        if !python_alive() {
            return;
        }
        // Not on a runtime worker: taking the GIL there would stall other tasks.
        core().runtime.spawn_blocking(move || {
            Python::attach(|py| {
                let _ = future.bind(py).call_method0(intern!(py, "cancel"));
                drop(future);
            })
        });
    }
}

impl Rebuild for PyRebuild {
    fn rebuild(&self, attempt: u32) -> RebuildFuture<'_> {
        if self.deferred {
            Box::pin(self.call_deferred(attempt))
        } else {
            let out = self.call_now(attempt);
            Box::pin(async move { out })
        }
    }
}

/// `(url, headers, content)` as the core sends it.
fn rebuilt(value: &Bound<'_, PyAny>) -> PyResult<Rebuilt> {
    let parts = value.cast::<PyTuple>()?;
    let url: String = parts.get_item(0)?.extract()?;
    let headers = parts.get_item(1)?;
    let headers = headers.cast::<PyDict>()?;
    let mut pairs = Vec::with_capacity(headers.len());
    for (k, v) in headers.iter() {
        pairs.push((k.extract::<String>()?, v.extract::<String>()?));
    }
    let body: Vec<u8> = parts.get_item(2)?.extract()?;
    Ok(Rebuilt {
        url,
        headers: pairs,
        body: Bytes::from(body),
    })
}

/// The done callback of a deferred rebuild: its result (or exception) to the waiting task.
#[pyclass(frozen)]
struct Delivered(Mutex<Option<oneshot::Sender<PyResult<Rebuilt>>>>);

#[pymethods]
impl Delivered {
    fn __call__(&self, future: &Bound<'_, PyAny>) {
        let out = future
            .call_method0(intern!(future.py(), "result"))
            .and_then(|r| rebuilt(&r));
        if let Some(tx) = self.0.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(out);
        }
    }
}
