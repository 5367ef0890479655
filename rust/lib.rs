//! edgequake_litellm._core: the Rust engine behind the edgequake LiteLLM provider.
//! This file only declares and registers modules.

pub mod coding;
pub mod errors;
pub mod providers;
pub mod proxies;
pub mod python;
pub mod runtime;
pub mod sse;
pub mod transport;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    // What `make build` computed from the sources (empty when built otherwise): see build.rs.
    m.add("__source_digest__", env!("EDGEQUAKE_SOURCE_DIGEST"))?;
    m.add("CoreError", python::errors::core_error_type(m.py())?)?;
    m.add_class::<python::stream::ChatStream>()?;
    m.add_class::<python::raw::ByteStream>()?;
    m.add_function(wrap_pyfunction!(python::calls::request, m)?)?;
    m.add_function(wrap_pyfunction!(python::calls::arequest, m)?)?;
    m.add_function(wrap_pyfunction!(python::providers::providers, m)?)?;
    m.add_function(wrap_pyfunction!(python::raw::send, m)?)?;
    m.add_function(wrap_pyfunction!(python::raw::asend, m)?)?;
    m.add_function(wrap_pyfunction!(python::calls::_at_exit, m)?)?;
    m.add_function(wrap_pyfunction!(python::calls::_debug_panic, m)?)?;
    m.add_function(wrap_pyfunction!(python::calls::_pending_deliveries, m)?)?;
    Ok(())
}
