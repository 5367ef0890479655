//! The one conversion of core errors into a Python exception. Python maps `CoreError.kind`
//! and `.status` onto LiteLLM's exception classes in one table.
//!
//! The exception is built lazily (no GIL needed to create it), so errors can be produced on
//! runtime threads without attaching to the interpreter, which may be shutting down.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::errors::{self as errs, ErrorKind};

create_exception!(
    _core,
    CoreError,
    PyException,
    "An error from the Rust core: `kind`, `status`, `headers`, `body`, `reason` and `message`."
);

/// Read-only attributes over the exception's args `(message, kind, status, headers, body,
/// reason)`.
/// (abi3 before 3.12 cannot subclass exceptions from Rust, so the class gets properties.)
const ATTRIBUTES: &std::ffi::CStr = c"
def _arg(i, default=None):
    return property(lambda self: self.args[i] if len(self.args) > i else default)
cls.message = _arg(0, '')
cls.kind = _arg(1, 'internal')
cls.status = _arg(2)
cls.headers = property(lambda self: dict(self.args[3]) if len(self.args) > 3 and self.args[3] else {})
cls.body = _arg(4)
cls.reason = _arg(5)
cls.__str__ = lambda self: str(self.args[0]) if self.args else ''
";

/// The exception class, with its attributes, for the module to export.
pub fn core_error_type(py: Python<'_>) -> PyResult<Bound<'_, pyo3::types::PyType>> {
    let ty = py.get_type::<CoreError>();
    let scope = PyDict::new(py);
    scope.set_item("cls", &ty)?;
    py.run(ATTRIBUTES, Some(&scope), None)?;
    Ok(ty)
}

pub fn to_pyerr(_py: Python<'_>, err: errs::CoreError) -> PyErr {
    PyErr::from(err)
}

impl From<errs::CoreError> for PyErr {
    fn from(err: errs::CoreError) -> PyErr {
        PyErr::new::<CoreError, _>((
            err.message,
            err.kind.as_str(),
            err.status,
            err.headers,
            err.body,
            err.reason,
        ))
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
                errs::CoreError::new(
                    ErrorKind::Internal,
                    format!("internal error in the Rust core: {msg}"),
                ),
            ))
        }
    }
}
