//! The one conversion of core errors into a Python exception. Python maps `CoreError.kind`
//! and `.status` onto LiteLLM's exception classes in one table.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{CoreError, ErrorKind};

create_exception!(
    _core,
    CoreErrorExc,
    PyException,
    "An error from the Rust core: `kind`, `status`, `headers`, `body` and `message`."
);

pub fn to_pyerr(py: Python<'_>, err: CoreError) -> PyErr {
    let exc = PyErr::new::<CoreErrorExc, _>(err.message.clone());
    let value = exc.value(py);
    let headers = PyDict::new(py);
    for (k, v) in &err.headers {
        let _ = headers.set_item(k, v);
    }
    let _ = value.setattr("kind", err.kind.as_str());
    let _ = value.setattr("status", err.status);
    let _ = value.setattr("headers", headers);
    let _ = value.setattr("body", err.body.as_deref());
    let _ = value.setattr("message", &err.message);
    exc
}

impl From<CoreError> for PyErr {
    fn from(err: CoreError) -> PyErr {
        Python::attach(|py| to_pyerr(py, err))
    }
}

/// Run `f`, turning a Rust panic into a `CoreError(kind="internal")` instead of pyo3's
/// `PanicException` (a BaseException that LiteLLM's error handling would not see).
pub fn guard<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(to_pyerr(
                py,
                CoreError::new(
                    ErrorKind::Internal,
                    format!("internal error in the Rust core: {msg}"),
                ),
            ))
        }
    }
}
