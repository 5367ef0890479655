//! Small conversions shared by the calls and the streams: keyword arguments read like
//! declared parameters, a timeout, a header list as a dict.

use std::time::Duration;

use pyo3::conversion::FromPyObjectOwned;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use super::errors::to_pyerr;
use crate::errors::CoreError;

/// A function's `**kwargs` read as its keyword-only parameters `names`, exactly as pyo3
/// reads declared ones: an unknown name is the `TypeError` Python raises for it (before any
/// value is read), and each value is extracted with pyo3's conversion and its note naming
/// the argument. `_core.pyi` and the function's `text_signature` declare the names.
pub struct Keywords<'py, const N: usize> {
    values: [Option<Bound<'py, PyAny>>; N],
    names: &'static [&'static str; N],
}

impl<'py, const N: usize> Keywords<'py, N> {
    pub fn new(
        function: &str,
        names: &'static [&'static str; N],
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Self> {
        let mut values = [const { None }; N];
        for (k, v) in kwargs.into_iter().flat_map(|d| d.iter()) {
            let key = k.cast::<PyString>()?.to_cow()?;
            match names.iter().position(|n| *n == key) {
                Some(i) => values[i] = Some(v),
                None => {
                    return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                        "{function}() got an unexpected keyword argument '{key}'"
                    )))
                }
            }
        }
        Ok(Keywords { values, names })
    }

    /// The argument at `i` in `names`, converted; None when not given.
    pub fn take<T: FromPyObjectOwned<'py>>(&mut self, i: usize) -> PyResult<Option<T>> {
        let Some(v) = self.values[i].take() else {
            return Ok(None);
        };
        let py = v.py();
        v.extract::<T>().map(Some).map_err(|e| {
            let e: PyErr = e.into();
            // pyo3's own note on an argument it could not convert (Python 3.11+).
            let note = format!("while processing '{}'", self.names[i]);
            let _ = e.value(py).call_method1(intern!(py, "add_note"), (note,));
            e
        })
    }
}

/// A timeout in seconds, which must be positive and finite. `what` ends the error message.
pub fn timeout(py: Python<'_>, t: Option<f64>, what: &str) -> PyResult<Option<Duration>> {
    match t {
        None => Ok(None),
        Some(t) if t.is_finite() && t > 0.0 => Ok(Some(Duration::from_secs_f64(t))),
        Some(t) => Err(to_pyerr(
            py,
            CoreError::invalid(format!("timeout must be a positive {what}, got {t}")),
        )),
    }
}

/// Response headers as a `dict` (names are lower-case already).
pub fn headers_dict<'py>(
    py: Python<'py>,
    headers: &[(String, String)],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in headers {
        d.set_item(k, v)?;
    }
    Ok(d)
}
