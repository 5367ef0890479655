//! Where Rust's runtime meets Python's threads: every wait on a Rust future from Python goes
//! through here, either blocked on with the GIL released (`block_on`) or handed to asyncio
//! as an awaitable (`into_awaitable`), and so does the one GIL release for building a pooled
//! client (`client_for`).
//!
//! Awaitables' results are delivered in batches per event loop: a result that finishes while
//! its loop already has a drain scheduled joins that drain's batch without taking the GIL;
//! otherwise a blocking thread takes the GIL once to schedule a new drain with
//! `call_soon_threadsafe`. The drain completes the futures on the loop's thread. Under load
//! this is one GIL hand-off per turn of the loop instead of two per result.
//!
//! Every Python handle (the future, its loop, the result) is released with the GIL held: by
//! the drain, by the thread that failed to schedule it (a closed loop), or by the garbage
//! collector through the drain when a loop is dropped with its drain still queued. A handle
//! dropped on a runtime thread without the GIL would only be released at pyo3's next call
//! from any thread: the future, and a result it holds (a stream and its connection), would
//! outlive every reference the program keeps.

use std::collections::HashMap;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use pyo3::gc::PyVisit;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use pyo3::{IntoPyObjectExt, PyTraverseError};
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
        loop_key: event_loop.as_ptr() as usize,
        event_loop: event_loop.unbind(),
        future: py_fut.clone().unbind(),
    };
    core().runtime.spawn(async move {
        let outcome = tokio::select! {
            biased;
            out = CatchUnwind(Box::pin(fut)) => Some(out),
            _ = cancel_rx => None,
        };
        match outcome {
            Some(out) => deliver(target, Box::new(move |py| into_value(py, out))),
            None => release(target),
        }
    });
    Ok(py_fut)
}

/// Where a result goes: the asyncio future and its loop. `loop_key` (the loop's address)
/// names the loop's open batch; it stays unique while a target holds the loop.
struct Target {
    loop_key: usize,
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
}

/// A finished future's outcome, turned into a Python value on the loop's thread.
type Outcome = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

fn into_value<T>(py: Python<'_>, out: std::thread::Result<PyResult<T>>) -> PyResult<Py<PyAny>>
where
    T: for<'a> IntoPyObject<'a>,
{
    match out {
        Ok(r) => r.and_then(|v| v.into_py_any(py)),
        Err(panic) => Err(RustPanic::new_err(format!(
            "rust future panicked: {}",
            panic_message(&*panic)
        ))),
    }
}

/// Results waiting for one scheduled `Drain` on their loop. Under load many calls finish
/// between two turns of a loop: they join the batch already scheduled instead of each
/// taking the GIL on a runtime thread for its own `call_soon_threadsafe`.
#[derive(Default)]
struct Batch {
    items: Vec<(Target, Outcome)>,
    /// Set when the drain is freed: what it still held went with it.
    closed: bool,
}

/// Each loop's batch that is scheduled and not yet drained, by loop address. Weak: the
/// batch belongs to its `Drain`, which belongs to the loop's ready queue, so a loop that is
/// closed or freed before draining frees its batch (and the garbage collector can see it).
static OPEN: Mutex<Option<HashMap<usize, Weak<Mutex<Batch>>>>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Results queued for a scheduled drain and not yet taken by it, over every loop: what a
/// test reads to see that results delivered while a loop is busy share one drain.
pub fn pending_deliveries() -> usize {
    let open = lock(&OPEN);
    open.iter()
        .flat_map(|map| map.values())
        .filter_map(Weak::upgrade)
        .map(|batch| lock(&batch).items.len())
        .sum()
}

/// Queue the outcome on its loop's open batch, or open one and schedule its drain.
fn deliver(target: Target, outcome: Outcome) {
    let batch = {
        let mut open = lock(&OPEN);
        let open = open.get_or_insert_with(HashMap::new);
        if let Some(batch) = open.get(&target.loop_key).and_then(Weak::upgrade) {
            let mut batch = lock(&batch);
            // A batch whose drain is gone (its loop closed or freed meanwhile) takes no more.
            if !batch.closed {
                batch.items.push((target, outcome));
                return; // the batch's drain is already scheduled
            }
        }
        let key = target.loop_key;
        let batch = Arc::new(Mutex::new(Batch::default()));
        lock(&batch).items.push((target, outcome));
        open.insert(key, Arc::downgrade(&batch));
        batch
    };
    // Not on a runtime worker: taking the GIL there would stall other tasks.
    core().runtime.spawn_blocking(move || {
        with_python(|py| {
            let event_loop = match lock(&batch).items.first() {
                Some((target, _)) => target.event_loop.clone_ref(py),
                None => return,
            };
            let key = event_loop.as_ptr() as usize;
            let drain = Drain {
                key,
                batch: batch.clone(),
            };
            let scheduled = event_loop
                .bind(py)
                .call_method1(intern!(py, "call_soon_threadsafe"), (drain,));
            if let Err(e) = scheduled {
                // A closed loop: nothing will run there. Report it once for the batch and
                // let its results go, with the GIL held.
                e.print_and_set_sys_last_vars(py);
                let items = Drain { key, batch }.take();
                drop(items);
            }
        });
    });
}

/// Drop a cancelled call's handles with the GIL held.
fn release(target: Target) {
    core()
        .runtime
        .spawn_blocking(move || with_python(move |_py| drop(target)));
}

/// Run `f` with the GIL unless the interpreter is finalizing.
fn with_python(f: impl FnOnce(Python<'_>)) {
    // Counted before the liveness check, so `mark_shutdown` either waits for this closure
    // or this closure sees the shutdown flag (both sides are SeqCst).
    ATTACHED.fetch_add(1, Ordering::SeqCst);
    if python_alive() {
        Python::attach(f);
    }
    ATTACHED.fetch_sub(1, Ordering::SeqCst);
}

/// Runs on the loop: completes every future of its batch that was not cancelled meanwhile.
#[pyclass(frozen)]
struct Drain {
    key: usize,
    batch: Arc<Mutex<Batch>>,
}

impl Drain {
    /// Close the batch to newcomers and take what it holds.
    fn take(&self) -> Vec<(Target, Outcome)> {
        let mut open = lock(&OPEN);
        if let Some(map) = open.as_mut() {
            if map
                .get(&self.key)
                .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.batch)))
            {
                map.remove(&self.key);
            }
        }
        std::mem::take(&mut lock(&self.batch).items)
    }
}

/// A drain freed without running (its loop closed, or collected) releases its batch here,
/// with the GIL held, and closes it to later results.
impl Drop for Drain {
    fn drop(&mut self) {
        let items = {
            let mut batch = lock(&self.batch);
            batch.closed = true;
            std::mem::take(&mut batch.items)
        };
        drop(items);
    }
}

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) {
        for (target, outcome) in self.take() {
            let completed = catch_unwind(AssertUnwindSafe(|| complete(py, &target, outcome)));
            let failed = match completed {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e,
                Err(panic) => {
                    RustPanic::new_err(format!("rust future panicked: {}", panic_message(&*panic)))
                }
            };
            // One future's failure must not strand the rest of the batch. It goes where
            // asyncio reports a callback that raised: the loop's exception handler.
            report(py, &target, failed);
        }
    }

    /// The batch's futures and loops, for the cycle loop -> ready queue -> drain -> future
    /// -> loop. Skipped while a runtime thread holds the batch: under-reporting only keeps
    /// objects alive.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        if let Ok(batch) = self.batch.try_lock() {
            for (target, _) in &batch.items {
                visit.call(&target.event_loop)?;
                visit.call(&target.future)?;
            }
        }
        Ok(())
    }
}

fn report(py: Python<'_>, target: &Target, err: PyErr) {
    let context = PyDict::new(py);
    let reported = context
        .set_item("message", "edgequake_litellm could not complete a future")
        .and_then(|_| context.set_item("exception", err.value(py)))
        .and_then(|_| context.set_item("future", target.future.bind(py)))
        .and_then(|_| {
            target
                .event_loop
                .bind(py)
                .call_method1(intern!(py, "call_exception_handler"), (context,))
        });
    if reported.is_err() {
        err.print_and_set_sys_last_vars(py);
    }
}

/// Complete the future unless it was cancelled after its result left the runtime (a
/// dropped result, a stream say, is released here with the GIL held).
fn complete(py: Python<'_>, target: &Target, outcome: Outcome) -> PyResult<()> {
    let future = target.future.bind(py);
    if future.call_method0(intern!(py, "cancelled"))?.is_truthy()? {
        return Ok(());
    }
    match outcome(py) {
        Ok(v) => future.call_method1(intern!(py, "set_result"), (v,))?,
        Err(e) => future.call_method1(intern!(py, "set_exception"), (e.into_value(py),))?,
    };
    Ok(())
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
