//! The Python boundary: the only place that knows about pyo3 types besides the runtime's
//! GIL helpers.

pub mod calls;
pub mod errors;
pub mod json;
pub mod providers;
pub mod raw;
pub mod stream;
