//! Where Rust's runtime meets Python's threads: every wait on a Rust future from Python goes
//! through here, either blocked on with the GIL released (`block_on`) or handed to asyncio
//! as an awaitable (`into_awaitable`), and so does the one GIL release for building a pooled
//! client (`client_for`).
//!
//! Awaitables: the runtime keeps exactly one handle on the asyncio future and its loop, moved
//! into the closure that delivers the result and released there with the GIL held. A handle
//! dropped on a runtime thread without the GIL would only be released at pyo3's next call
//! from any thread: the future, and a result it holds (a stream and its connection), would
//! outlive every reference the program keeps.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::IntoPyObjectExt;
use pyo3_async_runtimes::err::RustPanic;
use tokio::sync::oneshot;

use super::errors::to_pyerr;
use crate::errors::CoreError;
use crate::runtime::core;
use crate::transport::{Client, Tls};

static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);
/// Runtime threads currently handing a result to Python.
static ATTACHED: AtomicUsize = AtomicUsize::new(0);

/// Called from an `atexit` hook (before the interpreter finalizes): results that arrive
/// later are dropped, not delivered, and deliveries under way are let finish, so no runtime
/// thread holds or takes the GIL while the interpreter tears down.
pub fn mark_shutdown(py: Python<'_>) {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
    py.detach(|| {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while ATTACHED.load(Ordering::SeqCst) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

pub(super) fn python_alive() -> bool {
    // SAFETY: Py_IsInitialized may be called at any time, with or without the GIL.
    !SHUTTING_DOWN.load(Ordering::SeqCst) && unsafe { pyo3::ffi::Py_IsInitialized() } != 0
}

/// Wrap a Rust future as an asyncio awaitable on the running loop. Cancelling the asyncio
/// future drops the Rust future, which drops the request and its connection.
pub fn into_awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let event_loop = GET_RUNNING_LOOP
        .import(py, "asyncio", "get_running_loop")?
        .call0()?;
    let py_fut = event_loop.call_method0(intern!(py, "create_future"))?;
    let (cancel_tx, cancel_rx) = oneshot::channel();
    py_fut.call_method1(
        intern!(py, "add_done_callback"),
        (OnCancel(Mutex::new(Some(cancel_tx))),),
    )?;
    let target = Target {
        event_loop: event_loop.unbind(),
        future: py_fut.clone().unbind(),
    };
    core().runtime.spawn(async move {
        let outcome = tokio::select! {
            biased;
            out = CatchUnwind(Box::pin(fut)) => Some(out),
            _ = cancel_rx => None,
        };
        deliver(target, outcome);
    });
    Ok(py_fut)
}

/// Where a result goes: the asyncio future and its loop.
struct Target {
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
}

/// Hand the outcome (`None`: the asyncio future was cancelled) to the loop, and release
/// every Python handle before the GIL is let go.
fn deliver<T>(target: Target, outcome: Option<std::thread::Result<PyResult<T>>>)
where
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    // Not on a runtime worker: taking the GIL there would stall other tasks.
    core().runtime.spawn_blocking(move || {
        // Counted before the liveness check, so `mark_shutdown` either waits for this
        // closure or this closure sees the shutdown flag (both sides are SeqCst).
        ATTACHED.fetch_add(1, Ordering::SeqCst);
        if python_alive() {
            Python::attach(|py| {
                if let Some(out) = outcome {
                    if let Err(e) = set_result(py, &target, out) {
                        e.print_and_set_sys_last_vars(py);
                    }
                }
                drop(target);
            });
        }
        ATTACHED.fetch_sub(1, Ordering::SeqCst);
    });
}

/// Complete the future from its loop's thread, unless it was cancelled meanwhile.
fn set_result<T>(
    py: Python<'_>,
    target: &Target,
    out: std::thread::Result<PyResult<T>>,
) -> PyResult<()>
where
    T: for<'a> IntoPyObject<'a>,
{
    let future = target.future.bind(py);
    if future.call_method0(intern!(py, "cancelled"))?.is_truthy()? {
        return Ok(()); // `out` (a stream, say) is dropped here, with the GIL held
    }
    let result = match out {
        Ok(r) => r.and_then(|v| v.into_py_any(py)),
        Err(panic) => Err(RustPanic::new_err(format!(
            "rust future panicked: {}",
            panic_message(&*panic)
        ))),
    };
    let (complete, value) = match result {
        Ok(v) => (future.getattr(intern!(py, "set_result"))?, v.into_bound(py)),
        Err(e) => (
            future.getattr(intern!(py, "set_exception"))?,
            e.into_value(py).into_any().into_bound(py),
        ),
    };
    target.event_loop.bind(py).call_method1(
        intern!(py, "call_soon_threadsafe"),
        (Complete, future, complete, value),
    )?;
    Ok(())
}

/// Runs on the loop: completes the future unless it was cancelled after the result left.
#[pyclass(frozen)]
struct Complete;

#[pymethods]
impl Complete {
    fn __call__(
        &self,
        future: &Bound<'_, PyAny>,
        complete: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        if !future
            .call_method0(intern!(future.py(), "cancelled"))?
            .is_truthy()?
        {
            complete.call1((value,))?;
        }
        Ok(())
    }
}

/// The asyncio future's done callback: a cancellation stops the Rust future.
#[pyclass(frozen)]
struct OnCancel(Mutex<Option<oneshot::Sender<()>>>);

#[pymethods]
impl OnCancel {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future
            .call_method0(intern!(future.py(), "cancelled"))?
            .is_truthy()?
        {
            if let Some(tx) = self.0.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(());
            }
        }
        Ok(())
    }
}

/// A panic in the future becomes an outcome instead of unwinding through the runtime.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "unknown error"
    }
}

/// Run `fut` to completion from a Python thread with the GIL released. Wakes every 50 ms to
/// let Python handle signals, so Ctrl-C drops the request and returns promptly.
pub fn block_on<T: Send>(py: Python<'_>, fut: impl Future<Output = T> + Send) -> PyResult<T> {
    let rt = &core().runtime;
    let mut fut = std::pin::pin!(fut);
    loop {
        let step = py.detach(|| {
            rt.block_on(async { tokio::time::timeout(Duration::from_millis(50), &mut fut).await })
        });
        match step {
            Ok(v) => return Ok(v),
            Err(_elapsed) => py.check_signals()?,
        }
    }
}

/// The pooled client for the `ssl_verify` argument: `False` turns verification off, a string
/// is a PEM CA bundle to trust exclusively, `True`/`None` use the platform store.
pub fn client_for(py: Python<'_>, ssl_verify: Option<&Bound<'_, PyAny>>) -> PyResult<Client> {
    let tls = match ssl_verify {
        None => Tls::System,
        Some(v) if v.is_none() => Tls::System,
        Some(v) => match v.extract::<bool>() {
            Ok(true) => Tls::System,
            Ok(false) => Tls::Off,
            Err(_) => Tls::CaFile(v.extract::<String>().map_err(|_| {
                to_pyerr(
                    py,
                    CoreError::invalid("ssl_verify must be a bool or a CA bundle path"),
                )
            })?),
        },
    };
    if let Some(client) = core().cached_client(&tls) {
        return Ok(client);
    }
    // The first use of a setting reads and parses its CA bundle: not while holding the GIL.
    py.detach(|| core().client(&tls))
        .map_err(|e| to_pyerr(py, e))
}
